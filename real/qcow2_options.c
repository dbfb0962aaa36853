/*
 * qcow2_options.c: qcow2 runtime options, metadata cache sizing and reopen.
 *
 * What this is: QEMU 7.2 block/qcow2.c read_cache_sizes() (defaults: the
 * L2 cache covers the whole image up to 32 MiB, at least 2 entries; the
 * refcount cache is at least 4 clusters; its three error texts and the
 * entry-size check), qcow2_update_options_prepare/commit/abort() (old
 * caches flushed in prepare, new caches built, swapped in on commit;
 * lazy-refcounts; overlap-check parsed and validated; discard passthrough
 * defaulting to discard=unmap for requests), qcow2_reopen_prepare()
 * (flush and mark clean when going read-only).
 * What it is not: the overlap checks themselves (qcow2_refcount.c,
 * qcow2_refcount_pre_write_check(), reads the mask) and the cache-clean
 * timer (no time passes between steps).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "opts.h"
#include "qcow2.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define ROUND_UP(n, d) ((((n) + (d) - 1) / (d)) * (d))

/* Overlap-check bits (QCOW2_OL_*_BITNR order) and their option names. */
enum { QCOW2_OL_MAX_BITNR = 10 };
#define QCOW2_OL_CONSTANT (QCOW2_OL_MAIN_HEADER | QCOW2_OL_ACTIVE_L1 | QCOW2_OL_REFCOUNT_TABLE | \
                           QCOW2_OL_SNAPSHOT_TABLE | QCOW2_OL_INACTIVE_L1 | \
                           QCOW2_OL_BITMAP_DIRECTORY)
#define QCOW2_OL_CACHED   (QCOW2_OL_CONSTANT | QCOW2_OL_ACTIVE_L2 | QCOW2_OL_REFCOUNT_BLOCK)
#define QCOW2_OL_ALL      (QCOW2_OL_CACHED | QCOW2_OL_INACTIVE_L2)
static const char *const overlap_bool_option_names[QCOW2_OL_MAX_BITNR] = {
#define BG_QCOW2_OVERLAP(NAME) "overlap-check." NAME,
#include "options.def"
#undef BG_QCOW2_OVERLAP
    NULL,
};

/* The options the staged reopen builds (QEMU Qcow2ReopenState). */
typedef struct Qcow2Reopen {
    Qcow2Options opts;
    json_t *options;              /* new options (own reference) */
    int flags;
    Qcow2Cache *l2_table_cache;
    Qcow2Cache *refcount_block_cache;
    int l2_slice_size;
} Qcow2Reopen;

/* QEMU read_cache_sizes() */
static bool read_cache_sizes(RealBlockState *bs, json_t *options, uint64_t *l2_cache_size,
                             uint64_t *l2_cache_entry_size, uint64_t *refcount_cache_size,
                             BgError *err)
{
    Qcow2State *s = bs->opaque;
    uint64_t combined_cache_size, l2_cache_max_setting;
    uint64_t min_refcount_cache = (uint64_t)QCOW2_MIN_REFCOUNT_CACHE_SIZE * (uint64_t)s->cluster_size;
    uint64_t virtual_disk_size = (uint64_t)bs->total_sectors * BDRV_SECTOR_SIZE;
    uint64_t max_l2_entries = (virtual_disk_size + (uint64_t)s->cluster_size - 1) /
                              (uint64_t)s->cluster_size;
    uint64_t max_l2_cache = ROUND_UP(max_l2_entries * 8, (uint64_t)s->cluster_size);

    bool combined_set = opts_has(options, "cache-size");
    bool l2_set = opts_has(options, "l2-cache-size");
    bool refcount_set = opts_has(options, "refcount-cache-size");

    if (!opts_get_size(options, "cache-size", 0, &combined_cache_size, err) ||
        !opts_get_size(options, "l2-cache-size", QCOW2_DEFAULT_L2_CACHE_MAX_SIZE,
                       &l2_cache_max_setting, err) ||
        !opts_get_size(options, "refcount-cache-size", 0, refcount_cache_size, err) ||
        !opts_get_size(options, "l2-cache-entry-size", (uint64_t)s->cluster_size,
                       l2_cache_entry_size, err))
        return false;

    *l2_cache_size = MIN(max_l2_cache, l2_cache_max_setting);

    if (combined_set) {
        if (l2_set && refcount_set)
            return bg_error_setf(err, BG_MSG_QCOW2_ALL_THREE);
        if (l2_set && l2_cache_max_setting > combined_cache_size)
            return bg_error_setf(err, BG_MSG_QCOW2_L2_EXCEEDS);
        if (*refcount_cache_size > combined_cache_size)
            return bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_EXCEEDS);
        if (l2_set) {
            *refcount_cache_size = combined_cache_size - *l2_cache_size;
        } else if (refcount_set) {
            *l2_cache_size = combined_cache_size - *refcount_cache_size;
        } else if (combined_cache_size >= max_l2_cache + min_refcount_cache) {
            *l2_cache_size = max_l2_cache;
            *refcount_cache_size = combined_cache_size - *l2_cache_size;
        } else {
            *refcount_cache_size = MIN(combined_cache_size, min_refcount_cache);
            *l2_cache_size = combined_cache_size - *refcount_cache_size;
        }
    }
    if (*l2_cache_entry_size < (1u << QCOW2_MIN_CLUSTER_BITS) ||
        *l2_cache_entry_size > (uint64_t)s->cluster_size ||
        (*l2_cache_entry_size & (*l2_cache_entry_size - 1)))
        return bg_error_setf(err, BG_MSG_QCOW2_L2_ENTRY_SIZE, 1 << QCOW2_MIN_CLUSTER_BITS,
                             s->cluster_size);
    return true;
}

int qcow2_options_parse(RealBlockState *bs, json_t *options, int flags, Qcow2Options *o,
                        BgError *err)
{
    Qcow2State *s = bs->opaque;
    uint64_t l2_cache_size, l2_cache_entry_size, refcount_cache_size;

    memset(o, 0, sizeof(*o));
    if (!read_cache_sizes(bs, options, &l2_cache_size, &l2_cache_entry_size,
                          &refcount_cache_size, err))
        return -EINVAL;
    l2_cache_size /= l2_cache_entry_size;
    if (l2_cache_size < QCOW2_MIN_L2_CACHE_SIZE)
        l2_cache_size = QCOW2_MIN_L2_CACHE_SIZE;
    if (l2_cache_size > INT_MAX)
        return bg_error_setf(err, BG_MSG_QCOW2_L2_CACHE_TOO_BIG), -EINVAL;
    refcount_cache_size /= (uint64_t)s->cluster_size;
    if (refcount_cache_size < QCOW2_MIN_REFCOUNT_CACHE_SIZE)
        refcount_cache_size = QCOW2_MIN_REFCOUNT_CACHE_SIZE;
    if (refcount_cache_size > INT_MAX)
        return bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_CACHE_TOO_BIG), -EINVAL;
    o->l2_cache_size = l2_cache_size;
    o->l2_cache_entry_size = l2_cache_entry_size;
    o->refcount_cache_size = refcount_cache_size;

    int64_t interval;
    if (!opts_get_int(options, "cache-clean-interval", QCOW2_DEFAULT_CACHE_CLEAN_INTERVAL,
                      &interval, err))
        return -EINVAL;
    if (interval < 0 || (uint64_t)interval > UINT_MAX)
        return bg_error_setf(err, BG_MSG_QCOW2_CLEAN_INTERVAL_TOO_BIG), -EINVAL;
    o->cache_clean_interval = (uint64_t)interval;

    if (!opts_get_bool(options, "lazy-refcounts",
                       !!(s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS),
                       &o->use_lazy_refcounts, err))
        return -EINVAL;
    if (o->use_lazy_refcounts && s->qcow_version < 3)
        return bg_error_setf(err, BG_MSG_QCOW2_LAZY_V3), -EINVAL;

    /* overlap-check: a mode string, or flags with a template (QAPI alternate). */
    json_t *ov = opts_get(options, "overlap-check");
    const char *mode = json_is_string(ov) ? json_string_value(ov) : NULL;
    const char *tmpl = opts_get_str(options, "overlap-check.template", NULL);
    if (tmpl && mode && strcmp(tmpl, mode))
        return bg_error_setf(err, BG_MSG_QCOW2_OVERLAP_CONFLICT, mode, tmpl), -EINVAL;
    if (!mode)
        mode = tmpl ? tmpl : "cached";
    int template;
    if (!strcmp(mode, "none"))
        template = 0;
    else if (!strcmp(mode, "constant"))
        template = QCOW2_OL_CONSTANT;
    else if (!strcmp(mode, "cached"))
        template = QCOW2_OL_CACHED;
    else if (!strcmp(mode, "all"))
        template = QCOW2_OL_ALL;
    else
        return bg_error_setf(err, BG_MSG_QCOW2_OVERLAP_VALUE, mode), -EINVAL;
    o->overlap_check = 0;
    for (int i = 0; i < QCOW2_OL_MAX_BITNR && overlap_bool_option_names[i]; i++) {
        bool on;
        if (!opts_get_bool(options, overlap_bool_option_names[i], (template >> i) & 1, &on,
                           err))
            return -EINVAL;
        o->overlap_check |= (int)on << i;
    }

    o->discard_passthrough[QCOW2_DISCARD_NEVER] = false;
    o->discard_passthrough[QCOW2_DISCARD_ALWAYS] = true;
    if (!opts_get_bool(options, "pass-discard-request", !!(flags & REAL_O_UNMAP),
                       &o->discard_passthrough[QCOW2_DISCARD_REQUEST], err) ||
        !opts_get_bool(options, "pass-discard-snapshot", true,
                       &o->discard_passthrough[QCOW2_DISCARD_SNAPSHOT], err) ||
        !opts_get_bool(options, "pass-discard-other", false,
                       &o->discard_passthrough[QCOW2_DISCARD_OTHER], err))
        return -EINVAL;
    return 0;
}

static int build_caches(const Qcow2State *s, const Qcow2Options *o, Qcow2Reopen *r,
                        BgError *err)
{
    r->l2_slice_size = (int)(o->l2_cache_entry_size / 8);
    r->l2_table_cache = qcow2_cache_create((int)o->l2_cache_size, (int)o->l2_cache_entry_size);
    r->refcount_block_cache = qcow2_cache_create((int)o->refcount_cache_size, s->cluster_size);
    if (!r->l2_table_cache || !r->refcount_block_cache) {
        qcow2_cache_destroy(r->l2_table_cache);
        qcow2_cache_destroy(r->refcount_block_cache);
        r->l2_table_cache = r->refcount_block_cache = NULL;
        bg_error_setf(err, BG_MSG_QCOW2_CACHE_ALLOC);
        return -ENOMEM;
    }
    return 0;
}

/* Flush the caches in force before replacing them (update_options_prepare). */
static int flush_old_caches(RealBlockState *bs, BgError *err)
{
    Qcow2State *s = bs->opaque;
    int ret;
    if (s->l2_table_cache) {
        ret = qcow2_cache_flush(bs, s->l2_table_cache);
        if (ret)
            return bg_error_setf(err, BG_MSG_QCOW2_FLUSH_L2, strerror(-ret)), ret;
    }
    if (s->refcount_block_cache) {
        ret = qcow2_cache_flush(bs, s->refcount_block_cache);
        if (ret)
            return bg_error_setf(err, BG_MSG_QCOW2_FLUSH_REFCOUNT, strerror(-ret)), ret;
    }
    return 0;
}

static void commit(RealBlockState *bs, Qcow2Reopen *r)
{
    Qcow2State *s = bs->opaque;
    qcow2_cache_destroy(s->l2_table_cache);
    qcow2_cache_destroy(s->refcount_block_cache);
    s->l2_table_cache = r->l2_table_cache;
    s->refcount_block_cache = r->refcount_block_cache;
    s->l2_slice_size = r->l2_slice_size;
    s->use_lazy_refcounts = r->opts.use_lazy_refcounts;
    s->opts = r->opts;
    json_decref(s->options);
    s->options = r->options;
    s->flags = r->flags;
    r->options = NULL;
}

/* Flush, build, stage: the prepare half shared by open, truncate and reopen. */
static int prepare(RealBlockState *bs, json_t *options, int flags, Qcow2Reopen *r,
                   BgError *err)
{
    Qcow2State *s = bs->opaque;
    int ret = qcow2_options_parse(bs, options, flags, &r->opts, err);
    if (ret < 0)
        return ret;
    /* qcow2_update_options_prepare(): the images this driver opens are never
     * encrypted (crypt_method_header is QCOW_CRYPT_NONE) */
    const char *encryptfmt = opts_get_str(options, "encrypt.format", NULL);
    if (encryptfmt)
        return bg_error_setf(err, BG_MSG_QCOW2_NO_ENCRYPTION, encryptfmt), -EINVAL;
    r->flags = flags;
    ret = flush_old_caches(bs, err);
    if (ret < 0)
        return ret;
    ret = build_caches(s, &r->opts, r, err);
    if (ret < 0)
        return ret;
    if (s->use_lazy_refcounts && !r->opts.use_lazy_refcounts) {
        ret = qcow2_header_mark_clean(bs);
        if (ret < 0) {
            qcow2_cache_destroy(r->l2_table_cache);
            qcow2_cache_destroy(r->refcount_block_cache);
            return bg_error_setf(err, BG_MSG_QCOW2_DISABLE_LAZY, strerror(-ret)), ret;
        }
    }
    /* a copy: the caller's dict is consumed after the open (bs->options in
     * QEMU keeps every option, which qcow2_co_truncate() reads again) */
    r->options = options ? json_deep_copy(options) : json_object();
    return 0;
}

int qcow2_options_update(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    Qcow2Reopen r = { 0 };
    int ret = prepare(bs, options, flags, &r, err);
    if (ret < 0)
        return ret;
    commit(bs, &r);
    return 0;
}

int qcow2_options_reopen_prepare(RealReopenState *rs, BgError *err)
{
    Qcow2Reopen *r = real_calloc(1, sizeof(*r));
    if (!r)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    int ret = prepare(rs->bs, rs->options, rs->flags, r, err);
    if (ret < 0) {
        real_free(r);
        return ret;
    }
    rs->opaque = r;
    if (!(rs->flags & REAL_O_RDWR)) {
        /* Going read-only: write everything out and mark the image clean. */
        ret = bdrv_flush(rs->bs);
        if (ret == 0)
            ret = qcow2_header_mark_clean(rs->bs);
        if (ret < 0) {
            bg_error_setf(err, "%s", strerror(-ret));
            qcow2_options_reopen_abort(rs);
            return ret;
        }
    }
    return 0;
}

void qcow2_options_reopen_commit(RealReopenState *rs)
{
    Qcow2Reopen *r = rs->opaque;
    commit(rs->bs, r);
    real_free(r);
    rs->opaque = NULL;
}

void qcow2_options_reopen_abort(RealReopenState *rs)
{
    Qcow2Reopen *r = rs->opaque;
    if (r) {
        qcow2_cache_destroy(r->l2_table_cache);
        qcow2_cache_destroy(r->refcount_block_cache);
        json_decref(r->options);
        real_free(r);
    }
    rs->opaque = NULL;
}
