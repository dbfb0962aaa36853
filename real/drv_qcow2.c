/*
 * drv_qcow2.c: the qcow2 format driver: slot table, open/close, data path,
 * image creation.
 *
 * What this is: QEMU 7.2 block/qcow2.c minus what the qcow2_*.c files hold:
 * qcow2_do_open() (header, options, refcounts, autoclear bits, backing
 * name and format), qcow2_close()/qcow2_inactivate() (flush the caches,
 * clear the dirty bit), qcow2_co_preadv_part() (zeroes, backing, compressed
 * and normal runs), qcow2_co_pwritev_part()/qcow2_co_pwritev_task()
 * (allocation, zeroing COW areas with NO_FALLBACK write-zeroes on the file,
 * guest data merged with the COW regions when adjacent, L2 linking, and
 * freeing the new clusters when a step fails), qcow2_co_pwrite_zeroes(),
 * qcow2_co_pdiscard(), qcow2_co_block_status(), qcow2_co_truncate() (grow),
 * qcow2_get_info/qcow2_get_specific_info(), qcow2_reopen_*() and
 * qcow2_co_create() for the qemu-img create defaults.
 * What it is not: snapshots, bitmaps, preallocation, shrinking, the
 * metadata-preallocation detection of block status, repair of images left
 * dirty by lazy refcounts (refused with QEMU's text, see qcow2_open).
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "qcow2.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

extern const RealDriver drv_qcow2;

static const char *const qcow2_runtime_opts[] = {
    "lazy-refcounts", "pass-discard-request", "pass-discard-snapshot", "pass-discard-other",
    "overlap-check", "overlap-check.template",
#define BG_QCOW2_OVERLAP(NAME) "overlap-check." NAME,
#include "options.def"
#undef BG_QCOW2_OVERLAP
    "cache-size", "l2-cache-size", "l2-cache-entry-size", "refcount-cache-size",
    "cache-clean-interval", NULL
};

/* ---- open / close --------------------------------------------------------- */

static void free_state(Qcow2State *s)
{
    qcow2_cache_destroy(s->l2_table_cache);
    qcow2_cache_destroy(s->refcount_block_cache);
    s->l2_table_cache = s->refcount_block_cache = NULL;
    qcow2_header_free(s);
    json_decref(s->options);
    s->options = NULL;
    real_free(s->cluster_cache);
    real_free(s->cluster_data);
    s->cluster_cache = s->cluster_data = NULL;
}

static int qcow2_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    Qcow2State *s = bs->opaque;
    int ret = qcow2_header_read(bs, err);
    if (ret < 0)
        goto fail;
    ret = qcow2_options_update(bs, options, flags, err);
    if (ret < 0)
        goto fail;
    ret = qcow2_refcount_init(bs);
    if (ret < 0) {
        bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_INIT, strerror(-ret));
        goto fail;
    }
    if (s->image_backing_file) {
        bs->backing_file = real_strdup(s->image_backing_file);
        if (!bs->backing_file) {
            ret = -ENOMEM;
            bg_error_setf(err, "Out of memory");
            goto fail;
        }
    }
    if (s->image_backing_format) {
        bs->backing_format = real_strdup(s->image_backing_format);
        if (!bs->backing_format) {
            ret = -ENOMEM;
            bg_error_setf(err, "Out of memory");
            goto fail;
        }
    }
    /* Clear autoclear bits this driver does not maintain (bitmaps included). */
    if ((flags & REAL_O_RDWR) && s->autoclear_features) {
        s->autoclear_features = 0;
        ret = qcow2_header_update(bs);
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_QCOW2_UPDATE_HEADER, strerror(-ret));
            goto fail;
        }
    }
    bs->supported_zero_flags = s->qcow_version >= 3 ? REAL_REQ_MAY_UNMAP | REAL_REQ_NO_FALLBACK
                                                    : 0;
    if ((flags & REAL_O_RDWR) && (s->incompatible_features & QCOW2_INCOMPAT_DIRTY)) {
        /* QEMU repairs the refcounts here (qcow2_co_check_locked with FIX). */
        ret = -ENOTSUP;
        bg_error_setf(err, BG_MSG_QCOW2_REPAIR_DIRTY, strerror(-ret));
        goto fail;
    }
    return 0;
fail:
    qcow2_refcount_close(bs);
    free_state(s);
    real_free(bs->backing_file);
    real_free(bs->backing_format);
    bs->backing_file = bs->backing_format = NULL;
    return ret;
}

static void qcow2_close(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    /* A node taken away by a fatal corruption is not written to any more. */
    if (bs->drv && !bs->read_only) {
        int ret = qcow2_cache_flush(bs, s->l2_table_cache);
        int ret2 = qcow2_cache_flush(bs, s->refcount_block_cache);
        if (ret == 0 && ret2 == 0)
            qcow2_header_mark_clean(bs);
    }
    qcow2_refcount_close(bs);
    free_state(s);
}

static void qcow2_refresh_limits(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    bs->bl.request_alignment = 1;
    bs->bl.pwrite_zeroes_alignment = (uint32_t)s->cluster_size;
    bs->bl.pdiscard_alignment = (uint32_t)s->cluster_size;
}

/* ---- reads ----------------------------------------------------------------- */

int drv_qcow2_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    Qcow2State *s = bs->opaque;
    uint8_t *p = buf;
    while (bytes > 0) {
        uint64_t cur = (uint64_t)MIN(bytes, INT_MAX);
        uint64_t host_offset;
        Qcow2ClusterType type;
        int ret = qcow2_cluster_get_host_offset(bs, (uint64_t)offset, &cur, &host_offset, &type);
        if (ret < 0)
            return ret;
        switch (type) {
        case QCOW2_CLUSTER_ZERO_PLAIN:
        case QCOW2_CLUSTER_ZERO_ALLOC:
            memset(p, 0, cur);
            break;
        case QCOW2_CLUSTER_UNALLOCATED:
            if (bs->backing && bs->backing->bs) {
                bdrv_debug_event(bs->file->bs, "read_backing_aio");
                ret = bdrv_pread(bs->backing->bs, offset, (int64_t)cur, p, 0);
            }
            else
                memset(p, 0, cur);
            break;
        case QCOW2_CLUSTER_COMPRESSED:
            bdrv_debug_event(bs->file->bs, "read_compressed");
            ret = qcow2_compress_pread(bs, host_offset,
                                       qcow2_offset_into_cluster(s, (uint64_t)offset), cur, p);
            break;
        case QCOW2_CLUSTER_NORMAL:
            bdrv_debug_event(bs->file->bs, "read_aio");
            ret = bdrv_pread(bs->file->bs, (int64_t)host_offset, (int64_t)cur, p, 0);
            break;
        }
        if (ret < 0)
            return ret;
        if (!bs->drv)
            return -ENOMEDIUM;
        bytes -= (int64_t)cur;
        offset += (int64_t)cur;
        p += cur;
    }
    return 0;
}

/* ---- writes ---------------------------------------------------------------- */

/* QEMU is_zero_cow(): both COW regions read as zeroes without reading them. */
static bool is_zero_cow(RealBlockState *bs, const Qcow2L2Meta *m)
{
    return bdrv_is_zero_fast(bs, (int64_t)(m->offset + m->cow_start_offset),
                             m->cow_start_bytes) == 1 &&
           bdrv_is_zero_fast(bs, (int64_t)(m->offset + m->cow_end_offset),
                             m->cow_end_bytes) == 1;
}

/* QEMU handle_alloc_space(): zero whole new clusters instead of writing COW zeroes. */
static int handle_alloc_space(RealBlockState *bs, Qcow2L2Meta *l2meta)
{
    RealBlockState *file = bs->file->bs;
    if (!(file->supported_zero_flags & REAL_REQ_NO_FALLBACK))
        return 0;
    for (Qcow2L2Meta *m = l2meta; m; m = m->next) {
        if (!m->cow_start_bytes && !m->cow_end_bytes)
            continue;
        if (!is_zero_cow(bs, m))
            continue;
        uint64_t start = m->alloc_offset + m->cow_start_offset;
        uint64_t nb = m->cow_end_offset + m->cow_end_bytes - m->cow_start_offset;
        int ret = bdrv_pwrite_zeroes(file, (int64_t)start, (int64_t)nb, REAL_REQ_NO_FALLBACK);
        if (ret < 0) {
            if (ret != -ENOTSUP && ret != -EAGAIN)
                return ret;
            continue;
        }
        m->skip_cow = true;
    }
    return 0;
}

/* QEMU merge_cow(): the data fills exactly the gap between one meta's COW regions. */
static bool merge_cow(uint64_t offset, uint64_t bytes, const uint8_t *buf, Qcow2L2Meta *l2meta)
{
    for (Qcow2L2Meta *m = l2meta; m; m = m->next) {
        if ((m->cow_start_bytes == 0 && m->cow_end_bytes == 0) || m->skip_cow)
            continue;
        if (m->offset + m->cow_start_offset + m->cow_start_bytes != offset)
            continue;
        if (m->offset + m->cow_end_offset != offset + bytes)
            continue;
        m->data = buf;
        return true;
    }
    return false;
}

/* QEMU qcow2_handle_l2meta(): link (or, after a failure, free) each allocation. */
static int handle_l2meta(RealBlockState *bs, Qcow2L2Meta **pl2meta, bool link_l2)
{
    Qcow2State *s = bs->opaque;
    int ret = 0;
    while (*pl2meta) {
        Qcow2L2Meta *m = *pl2meta;
        if (link_l2) {
            ret = qcow2_cluster_link_l2(bs, m);
            if (ret)
                return ret;
        } else if (!m->keep_old_clusters) {
            qcow2_refcount_free_clusters(bs, (int64_t)m->alloc_offset,
                                         (int64_t)m->nb_clusters << s->cluster_bits,
                                         QCOW2_DISCARD_NEVER);
        }
        *pl2meta = m->next;
        real_free(m);
    }
    return ret;
}

/*
 * One chunk of a write (QEMU qcow2_co_pwritev_task): the part that runs
 * before the L2 update (zeroing new clusters, guest data, merged COW).
 */
typedef struct Qcow2WriteTask {
    uint64_t host_offset;
    uint64_t offset;
    uint64_t bytes;
    const uint8_t *data;
    Qcow2L2Meta *l2meta;
    int ret;
} Qcow2WriteTask;

static void task_start(RealBlockState *bs, Qcow2WriteTask *t)
{
    t->ret = handle_alloc_space(bs, t->l2meta);
    if (t->ret == 0 && !merge_cow(t->offset, t->bytes, t->data, t->l2meta)) {
        bdrv_debug_event(bs->file->bs, "write_aio");
        t->ret = bdrv_pwrite(bs->file->bs, (int64_t)t->host_offset, (int64_t)t->bytes, t->data, 0);
    }
}

static int task_finish(RealBlockState *bs, Qcow2WriteTask *t)
{
    int ret = t->ret;
    if (ret == 0)
        ret = handle_l2meta(bs, &t->l2meta, true);
    handle_l2meta(bs, &t->l2meta, false);
    return ret;
}

#define QCOW2_MAX_WORKERS 8

/*
 * QEMU qcow2_co_pwritev_part(): a write that needs several allocations runs
 * them as tasks of an AIO pool of 8 workers; each task yields at its first
 * I/O, so the next chunk is allocated before the earlier ones update their
 * L2 entries (and free what they replace).  Mirrored by starting each task
 * at once and finishing (linking) them oldest first when the pool is full
 * and at the end, which reproduces QEMU's cluster placement.
 */
static int qcow2_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                        int flags)
{
    const uint8_t *p = buf;
    Qcow2WriteTask pending[QCOW2_MAX_WORKERS];
    int npending = 0, ret = 0;
    bool pool = false;

    while (bytes > 0) {
        Qcow2WriteTask t = { .offset = (uint64_t)offset, .data = p };
        t.bytes = (uint64_t)MIN(bytes, INT_MAX);
        ret = qcow2_cluster_alloc_host_offset(bs, (uint64_t)offset, &t.bytes, &t.host_offset,
                                              &t.l2meta);
        if (ret < 0)
            break;
        if (!bs->drv) {
            handle_l2meta(bs, &t.l2meta, false);
            ret = -ENOMEDIUM;
            break;
        }
        ret = qcow2_refcount_pre_write_check(bs, 0, (int64_t)t.host_offset, (int64_t)t.bytes);
        if (ret < 0) {
            handle_l2meta(bs, &t.l2meta, false);
            break;
        }
        if (!pool && (int64_t)t.bytes != bytes)
            pool = true;
        if (!pool) {
            task_start(bs, &t);
            ret = task_finish(bs, &t);
            if (ret < 0)
                break;
        } else {
            if (npending == QCOW2_MAX_WORKERS) {
                ret = task_finish(bs, &pending[0]);
                memmove(pending, pending + 1, sizeof(pending[0]) * (size_t)--npending);
                if (ret < 0) {
                    handle_l2meta(bs, &t.l2meta, false);
                    break;
                }
            }
            task_start(bs, &t);
            pending[npending++] = t;
            if (t.ret < 0)
                break;  /* aio_task_pool_status() stops the loop */
        }
        bytes -= (int64_t)t.bytes;
        offset += (int64_t)t.bytes;
        p += t.bytes;
    }
    for (int i = 0; i < npending; i++) {
        int r = task_finish(bs, &pending[i]);
        if (ret == 0)
            ret = r;
    }
    return ret;
}

/* QEMU is_zero(): status through the chain says zeroes for all of [offset, +bytes). */
static bool range_is_zero(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    int64_t nr;
    int res;
    if (offset + bytes > bs->total_sectors * BDRV_SECTOR_SIZE)
        bytes = bs->total_sectors * BDRV_SECTOR_SIZE - offset;
    if (bytes <= 0)
        return true;
    do {
        res = bdrv_block_status_above(bs, NULL, true, offset, bytes, &nr, NULL, NULL, NULL);
        offset += nr;
        bytes -= nr;
    } while (res >= 0 && (res & REAL_BLOCK_ZERO) && nr && bytes);
    return res >= 0 && (res & REAL_BLOCK_ZERO) && bytes == 0;
}

static int qcow2_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    Qcow2State *s = bs->opaque;
    uint32_t head = (uint32_t)qcow2_offset_into_cluster(s, (uint64_t)offset);
    uint32_t tail = (uint32_t)(((uint64_t)(offset + bytes) + (uint64_t)s->cluster_size - 1) /
                                   (uint64_t)s->cluster_size * (uint64_t)s->cluster_size -
                               (uint64_t)(offset + bytes));
    if (offset + bytes == bs->total_sectors * BDRV_SECTOR_SIZE)
        tail = 0;
    if (head || tail) {
        /* The rest of the cluster must already read as zeroes. */
        if (!(range_is_zero(bs, offset - head, head) && range_is_zero(bs, offset + bytes, tail)))
            return -ENOTSUP;
        offset -= head;
        bytes = s->cluster_size;
        uint64_t nr = (uint64_t)s->cluster_size, off;
        Qcow2ClusterType type;
        int ret = qcow2_cluster_get_host_offset(bs, (uint64_t)offset, &nr, &off, &type);
        if (ret < 0)
            return ret;
        if (type != QCOW2_CLUSTER_UNALLOCATED && type != QCOW2_CLUSTER_ZERO_PLAIN &&
            type != QCOW2_CLUSTER_ZERO_ALLOC)
            return -ENOTSUP;
    }
    return qcow2_cluster_zeroize(bs, (uint64_t)offset, (uint64_t)bytes, flags);
}

static int qcow2_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    Qcow2State *s = bs->opaque;
    if (s->qcow_version < 3 && bs->backing)
        return -ENOTSUP;
    if ((offset | bytes) % s->cluster_size) {
        /* Partial clusters are ignored, except a complete one at an unaligned end. */
        if (offset % s->cluster_size || offset + bytes != bs->total_sectors * BDRV_SECTOR_SIZE)
            return -ENOTSUP;
    }
    return qcow2_cluster_discard(bs, (uint64_t)offset, (uint64_t)bytes, QCOW2_DISCARD_REQUEST,
                                 false);
}

static int qcow2_pwrite_compressed(RealBlockState *bs, int64_t offset, int64_t bytes,
                                   const void *buf)
{
    return qcow2_compress_pwrite(bs, offset, bytes, buf);
}

/* QEMU qcow2_write_caches() */
static int qcow2_flush_to_os(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    int ret = qcow2_cache_write(bs, s->l2_table_cache);
    if (ret < 0)
        return ret;
    if (qcow2_need_accurate_refcounts(s))
        ret = qcow2_cache_write(bs, s->refcount_block_cache);
    return ret;
}

/* ---- status, size, information ------------------------------------------------ */

static int qcow2_block_status(RealBlockState *bs, bool want_zero, int64_t offset,
                              int64_t count, int64_t *pnum, int64_t *map,
                              RealBlockState **file)
{
    uint64_t bytes = (uint64_t)MIN(INT_MAX, count), host_offset;
    Qcow2ClusterType type;
    int status = 0;
    int ret = qcow2_cluster_get_host_offset(bs, (uint64_t)offset, &bytes, &host_offset, &type);
    if (ret < 0)
        return ret;
    *pnum = (int64_t)bytes;
    if (type == QCOW2_CLUSTER_NORMAL || type == QCOW2_CLUSTER_ZERO_ALLOC) {
        *map = (int64_t)host_offset;
        *file = bs->file->bs;
        status |= REAL_BLOCK_OFFSET_VALID;
    }
    if (type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC)
        status |= REAL_BLOCK_ZERO;
    else if (type != QCOW2_CLUSTER_UNALLOCATED)
        status |= REAL_BLOCK_DATA;
    return status;
}

static int qcow2_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                          BgError *err)
{
    Qcow2State *s = bs->opaque;
    if (offset & 511)
        return bg_error_setf(err, BG_MSG_QCOW2_SIZE_MULTIPLE), -EINVAL;
    if (s->nb_snapshots)
        return bg_error_setf(err, BG_MSG_QCOW2_RESIZE_SNAPSHOTS), -ENOTSUP;
    if (offset < bs->total_sectors * BDRV_SECTOR_SIZE)
        return bg_error_setf(err, BG_MSG_QCOW2_NO_SHRINK), -ENOTSUP;
    int64_t old_length = bs->total_sectors * BDRV_SECTOR_SIZE;
    int64_t new_l1_size = qcow2_size_to_l1(s, offset);
    int ret = qcow2_cluster_grow_l1_table(bs, (uint64_t)new_l1_size, true);
    if (ret < 0)
        return bg_error_setf(err, BG_MSG_QCOW2_GROW_L1, strerror(-ret)), ret;
    /*
     * bdrv_co_truncate() asks for zeroes in the new area when the backing
     * file is longer than the image was (BDRV_REQ_ZERO_WRITE), so that its
     * bytes do not show through; qcow2 is the only driver here with a
     * backing file, so it looks itself.  qcow2_co_truncate(): whole new
     * clusters become zero clusters, the rest of the old last cluster gets
     * a write of zeroes.
     */
    int64_t backing_len = bs->backing ? bdrv_getlength(bs->backing->bs) : 0;
    if (backing_len > old_length && offset > old_length) {
        int64_t cs = s->cluster_size;
        int64_t zero_start = (old_length + cs - 1) / cs * cs;
        if (offset > zero_start)
            ret = qcow2_cluster_zeroize(bs, (uint64_t)zero_start,
                                        (uint64_t)(offset - zero_start), 0);
        if (ret >= 0 && zero_start > old_length) {
            int64_t len = MIN(zero_start, offset) - old_length;
            void *zeroes = real_calloc(1, (size_t)len);
            ret = zeroes ? qcow2_pwrite(bs, old_length, len, zeroes, 0) : -ENOMEM;
            real_free(zeroes);
        }
        if (ret < 0)
            return bg_error_setf(err, BG_MSG_QCOW2_ZERO_NEW_CLUSTERS, strerror(-ret)), ret;
    }
    uint64_t be = htobe64((uint64_t)offset);
    ret = bdrv_pwrite(bs->file->bs, 24, 8, &be, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    if (ret < 0)
        return bg_error_setf(err, BG_MSG_QCOW2_UPDATE_SIZE, strerror(-ret)), ret;
    s->l1_vm_state_index = (int)new_l1_size;
    /* QEMU re-reads the options to resize the caches, with the old length. */
    return qcow2_options_update(bs, s->options, s->flags, err);
}

static int qcow2_get_info(RealBlockState *bs, RealDriverInfo *bdi)
{
    Qcow2State *s = bs->opaque;
    bdi->cluster_size = s->cluster_size;
    bdi->vm_state_offset = (int64_t)s->l1_vm_state_index << (s->cluster_bits + s->l2_bits);
    bdi->is_dirty = !!(s->incompatible_features & QCOW2_INCOMPAT_DIRTY);
    return 0;
}

static json_t *qcow2_get_specific_info(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    json_t *data;
    if (s->qcow_version == 2)
        data = json_pack("{s:s,s:i}", "compat", "0.10", "refcount-bits", s->refcount_bits);
    else
        data = json_pack("{s:s,s:s,s:b,s:i,s:b,s:b}", "compat", "1.1", "compression-type",
                         "zlib", "lazy-refcounts",
                         !!(s->compatible_features & QCOW2_COMPAT_LAZY_REFCOUNTS),
                         "refcount-bits", s->refcount_bits, "corrupt",
                         !!(s->incompatible_features & QCOW2_INCOMPAT_CORRUPT), "extended-l2",
                         0);
    return json_pack("{s:s,s:o}", "type", "qcow2", "data", data);
}

/* ---- reopen --------------------------------------------------------------- */

static int qcow2_reopen_prepare(RealReopenState *rs, BgError *err)
{
    return qcow2_options_reopen_prepare(rs, err);
}

static void qcow2_reopen_commit(RealReopenState *rs)
{
    qcow2_options_reopen_commit(rs);
}

static void qcow2_reopen_abort(RealReopenState *rs)
{
    qcow2_options_reopen_abort(rs);
}

/* ---- backing file name (qcow2_change_backing_file) ---------------------------- */

static int qcow2_change_backing_file(RealBlockState *bs, const char *backing_file,
                                     const char *backing_fmt)
{
    Qcow2State *s = bs->opaque;
    if (backing_file && strlen(backing_file) > 1023)
        return -EINVAL;
    char *file = backing_file ? real_strdup(backing_file) : NULL;
    char *fmt = backing_fmt ? real_strdup(backing_fmt) : NULL;
    char *file2 = backing_file ? real_strdup(backing_file) : NULL;
    char *fmt2 = backing_fmt ? real_strdup(backing_fmt) : NULL;
    if ((backing_file && (!file || !file2)) || (backing_fmt && (!fmt || !fmt2))) {
        real_free(file);
        real_free(fmt);
        real_free(file2);
        real_free(fmt2);
        return -ENOMEM;
    }
    real_free(bs->backing_file);
    real_free(bs->backing_format);
    bs->backing_file = file;
    bs->backing_format = fmt;
    real_free(s->image_backing_file);
    real_free(s->image_backing_format);
    s->image_backing_file = file2;
    s->image_backing_format = fmt2;
    return qcow2_header_update(bs);
}

/* ---- creation (qcow2_co_create) ------------------------------------------------- */

int drv_qcow2_create(RealBlockState *file, int64_t size, const char *backing,
                     const char *backing_fmt, BgError *err)
{
    const int cluster_bits = QCOW2_DEFAULT_CLUSTER_BITS, cluster_size = 1 << cluster_bits;
    uint8_t *buf = real_calloc(2, (size_t)cluster_size);
    int ret;
    if (!buf)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;

    /* A header with size 0, no L1 table, the refcount table in cluster 1. */
    uint32_t v32;
    uint64_t v64;
#define PUT32(off, v) (v32 = htobe32(v), memcpy(buf + (off), &v32, 4))
#define PUT64(off, v) (v64 = htobe64(v), memcpy(buf + (off), &v64, 8))
    PUT32(0, QCOW_MAGIC);
    PUT32(4, 3);
    PUT32(20, (uint32_t)cluster_bits);
    PUT64(48, (uint64_t)cluster_size);
    PUT32(56, 1);
    PUT32(96, 4);
    PUT32(100, 112);
    ret = bdrv_pwrite(file, 0, cluster_size, buf, 0);
    if (ret < 0) {
        real_free(buf);
        return bg_error_setf(err, BG_MSG_QCOW2_WRITE_HEADER, strerror(-ret)), ret;
    }
    /* The refcount table (one entry: block in cluster 2) and the empty block. */
    memset(buf, 0, 2 * (size_t)cluster_size);
    PUT64(0, 2 * (uint64_t)cluster_size);
#undef PUT32
#undef PUT64
    ret = bdrv_pwrite(file, cluster_size, 2 * cluster_size, buf, 0);
    real_free(buf);
    if (ret < 0)
        return bg_error_setf(err, BG_MSG_QCOW2_WRITE_REFTABLE, strerror(-ret)), ret;

    /* Open it and make it consistent: clusters 0-2 in use, full header. */
    RealBlockState *bs = bdrv_new();
    if (!bs)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    bs->file = bdrv_child_new(bs, file, "file",
                              REAL_CHILD_DATA | REAL_CHILD_METADATA | REAL_CHILD_PRIMARY);
    if (!bs->file) {
        bdrv_free(bs);
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    }
    bs->file->perm = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE | REAL_PERM_RESIZE;
    ret = bdrv_open_driver(bs, &drv_qcow2, NULL,
                           REAL_O_RDWR | REAL_O_RESIZE | REAL_O_NO_FLUSH, err);
    if (ret < 0)
        goto out;
    int64_t off = qcow2_refcount_alloc_clusters(bs, 3 * (uint64_t)cluster_size);
    if (off < 0) {
        ret = (int)off;
        bg_error_setf(err, BG_MSG_QCOW2_ALLOC_HEADER, strerror(-ret));
        goto out;
    }
    ret = qcow2_header_update(bs);
    if (ret < 0) {
        bg_error_setf(err, BG_MSG_QCOW2_UPDATE_HEADER, strerror(-ret));
        goto out;
    }
    ret = bdrv_truncate(bs, size, false, REAL_PREALLOC_OFF, err);
    if (ret < 0) {
        bg_error_prepend(err, BG_MSG_QCOW2_CREATE_RESIZE_PREFIX);
        goto out;
    }
    if (backing) {
        /* qcow2_change_backing_file() */
        Qcow2State *s = bs->opaque;
        if (strlen(backing) > 1023) {
            ret = -EINVAL;
        } else {
            s->image_backing_file = real_strdup(backing);
            s->image_backing_format = backing_fmt ? real_strdup(backing_fmt) : NULL;
            ret = (!s->image_backing_file || (backing_fmt && !s->image_backing_format))
                      ? -ENOMEM : qcow2_header_update(bs);
        }
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_QCOW2_ASSIGN_BACKING, backing,
                          backing_fmt ? backing_fmt : "(null)", strerror(-ret));
            goto out;
        }
    }
    ret = 0;
out:
    bdrv_close(bs);
    bdrv_child_free(bs->file);
    bdrv_free(bs);
    return ret;
}

const RealDriver drv_qcow2 = {
    .format_name = "qcow2",
    .instance_size = sizeof(Qcow2State),
    .is_format = true,
    .supports_backing = true,
    .runtime_opts = qcow2_runtime_opts,
    .mutable_opts = qcow2_runtime_opts,   /* QEMU's mutable_opts: the same keys */
    .open = qcow2_open,
    .close = qcow2_close,
    .pread = drv_qcow2_pread,
    .pwrite = qcow2_pwrite,
    .pwrite_zeroes = qcow2_pwrite_zeroes,
    .pwrite_compressed = qcow2_pwrite_compressed,
    .pdiscard = qcow2_pdiscard,
    .flush_to_os = qcow2_flush_to_os,
    .truncate = qcow2_truncate,
    .block_status = qcow2_block_status,
    .get_info = qcow2_get_info,
    .get_specific_info = qcow2_get_specific_info,
    .refresh_limits = qcow2_refresh_limits,
    .check = qcow2_check_refcounts,
    .reopen_prepare = qcow2_reopen_prepare,
    .reopen_commit = qcow2_reopen_commit,
    .reopen_abort = qcow2_reopen_abort,
    .change_backing_file = qcow2_change_backing_file,
};
