/*
 * model_qcow2.c: qcow2's runtime options, as open and reopen check them.
 *
 * What this is: qcow2_update_options_prepare() on the model's data, in
 * QEMU's order: the encryption options are cut out, QemuOpts absorbs the
 * runtime options (a negative JSON integer for a size option fails the
 * string round trip), read_cache_sizes() checks the cache options against
 * each other, the cache sizes in entries must fit an int, the cache clean
 * interval an unsigned int, and an image without encryption refuses
 * encryption options.  Consumed keys leave the dict.  Plus the QemuOpts
 * size check the other drivers share (model_qcow2_opts_sizes()).
 * Plus lazy refcounts' one visible effect: the header's dirty bit, set by
 * a write that links clusters (model_qcow2_linked()), cleared when a reopen
 * turns them off (in prepare: a reopen that then fails leaves it clean).
 * What it is not: the caches themselves or overlap checking; their values
 * change nothing the model reports.
 *
 * Mirrors QEMU 7.2.0 block/qcow2.c qcow2_update_options_prepare(),
 * read_cache_sizes(), qcow2_runtime_opts; util/qemu-option.c
 * qemu_opts_absorb_qdict(), qemu_opts_from_qdict_entry(),
 * parse_option_size(), parse_option_number(); util/cutils.c
 * qemu_strtosz() (no '-') and qemu_strtou64() (a '-' wraps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

/* qcow2_runtime_opts: QEMU_OPT_SIZE members, then the others it absorbs. */
static const char *const size_opts[] = {
    "cache-size", "l2-cache-size", "l2-cache-entry-size", "refcount-cache-size", NULL,
};
static const char *const other_opts[] = {
    "lazy-refcounts", "pass-discard-request", "pass-discard-snapshot", "pass-discard-other",
    "overlap-check", "cache-clean-interval", NULL,
};

static bool in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* The integer a QemuOpts option of OPTS holds (JSON integer or string). */
static bool opt_u64(const ModelQDict *opts, const char *key, uint64_t *out)
{
    json_t *v = model_qdict_get(opts, key);
    if (json_is_integer(v)) {
        *out = (uint64_t)json_integer_value(v);    /* qemu_strtou64(): "-1" wraps */
        return true;
    }
    return json_is_string(v) && model_image_parse_size(json_string_value(v), out);
}

bool model_qcow2_opts_sizes(const ModelQDict *opts, const char *const *keys, BgError *err)
{
    size_t n;
    const char **order = model_qdict_order(opts, &n);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        json_t *v = model_qdict_get(opts, order[i]);
        if (in_list(keys, order[i]) && json_is_integer(v) && json_integer_value(v) < 0)
            ok = bg_error_setf(err, BG_MSG_QEMUOPTS_SIZE, order[i]);
    }
    free(order);
    return ok;
}

static bool lazy_on(const ModelQDict *opts)
{
    json_t *v = model_qdict_get(opts, "lazy-refcounts");
    return json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "on") == 0);
}

bool model_qcow2_lazy_refcounts(const ModelNode *n)
{
    return lazy_on(n->options);
}

/* qcow2_update_options_prepare(): l2_slice_size = l2-cache-entry-size / 8
 * entries, each mapping a cluster; qcow2_get_host_offset() answers at most
 * to the end of one slice. */
uint64_t model_qcow2_l2_slice_clusters(const ModelNode *n)
{
    uint64_t entry = MODEL_CLUSTER;
    opt_u64(n->options, "l2-cache-entry-size", &entry);
    return entry >= 8 ? entry / 8 : 1;
}

void model_qcow2_linked(ModelNode *n, bool linked)
{
    if (linked && model_qcow2_lazy_refcounts(n))
        n->qcow2_dirty = true;          /* qcow2_mark_dirty() */
}

bool model_qcow2_update_options(ModelState *st, const ModelFile *f, bool lazy_in_use,
                                ModelQDict *opts, bool *mark_clean, BgError *err)
{
    *mark_clean = false;
    ModelQDict *enc = NULL;
    model_qdict_extract_sub(opts, &enc, "encrypt.");
    char *encryptfmt = model_qdict_get_str(enc, "format") ? bg_strdup(model_qdict_get_str(enc, "format"))
                                                          : NULL;
    model_qdict_free(enc);
    bool ok = false;
    if (!model_qcow2_opts_sizes(opts, size_opts, err))
        goto out;

    /* read_cache_sizes() */
    bool combined_set = model_qdict_has(opts, "cache-size");
    bool l2_set = model_qdict_has(opts, "l2-cache-size");
    bool rc_set = model_qdict_has(opts, "refcount-cache-size");
    uint64_t combined = 0, l2_setting = 32u << 20, rc = 0, entry = MODEL_CLUSTER;
    opt_u64(opts, "cache-size", &combined);
    opt_u64(opts, "l2-cache-size", &l2_setting);
    opt_u64(opts, "refcount-cache-size", &rc);
    opt_u64(opts, "l2-cache-entry-size", &entry);
    uint64_t disk = f ? (f->vsize + 511) / 512 * 512 : 0;
    uint64_t max_l2_entries = (disk + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
    uint64_t max_l2_cache = (max_l2_entries * 8 + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
    uint64_t min_refcount_cache = 4 * MODEL_CLUSTER;
    uint64_t l2 = max_l2_cache < l2_setting ? max_l2_cache : l2_setting;
    if (combined_set) {
        if (l2_set && rc_set) {
            bg_error_setf(err, BG_MSG_QCOW2_ALL_THREE);
            goto out;
        }
        if (l2_set && l2_setting > combined) {
            bg_error_setf(err, BG_MSG_QCOW2_L2_EXCEEDS);
            goto out;
        }
        if (rc > combined) {
            bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_EXCEEDS);
            goto out;
        }
        if (l2_set) {
            rc = combined - l2;
        } else if (rc_set) {
            l2 = combined - rc;
        } else if (combined >= max_l2_cache + min_refcount_cache) {
            l2 = max_l2_cache;
            rc = combined - l2;
        } else {
            rc = combined < min_refcount_cache ? combined : min_refcount_cache;
            l2 = combined - rc;
        }
    }
    if (entry < 512 || entry > MODEL_CLUSTER || (entry & (entry - 1))) {
        bg_error_setf(err, BG_MSG_QCOW2_L2_ENTRY_SIZE, 512, (int)MODEL_CLUSTER);
        goto out;
    }
    /* qcow2_update_options_prepare(): the sizes in cache entries */
    if (l2 / entry > INT32_MAX) {
        bg_error_setf(err, BG_MSG_QCOW2_L2_CACHE_TOO_BIG);
        goto out;
    }
    if (rc / MODEL_CLUSTER > INT32_MAX) {
        bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_CACHE_TOO_BIG);
        goto out;
    }
    /* qcow2_cache_create(): whether the host can allocate big caches is
     * not a fact about QEMU ("Could not allocate metadata caches") */
    if (l2 / entry * entry + rc / MODEL_CLUSTER * MODEL_CLUSTER > (512u << 20)) {
        st->unsupported = "qcow2 metadata caches larger than 512 MiB (host memory decides)";
        goto out;
    }
    uint64_t interval = 600;
    opt_u64(opts, "cache-clean-interval", &interval);
    if (interval > UINT32_MAX) {
        bg_error_setf(err, BG_MSG_QCOW2_CLEAN_INTERVAL_TOO_BIG);
        goto out;
    }
    /* lazy refcounts going from on to off: qcow2_mark_clean() flushes and
     * clears the header's dirty bit now, before the checks that follow */
    if (lazy_in_use && !lazy_on(opts))
        *mark_clean = true;
    /* an image the model creates is never encrypted (crypt_method_header 0) */
    if (encryptfmt) {
        bg_error_setf(err, BG_MSG_QCOW2_NO_ENCRYPTION, encryptfmt);
        goto out;
    }
    for (size_t i = 0; size_opts[i]; i++)
        model_qdict_del(opts, size_opts[i]);
    for (size_t i = 0; other_opts[i]; i++)
        model_qdict_del(opts, other_opts[i]);
    model_qdict_extract_sub(opts, NULL, "overlap-check.");
    ok = true;
out:
    free(encryptfmt);
    return ok;
}
