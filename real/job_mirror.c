/*
 * job_mirror.c: the mirror_top filter and the active commit job.
 *
 * What this is: QEMU 7.2 block/mirror.c for commit_active_start(): the
 * base reopened read-write, mirror_start_job() (a mirror_top filter
 * appended above the active layer: implicit unless filter-node-name,
 * never frozen, read-write; the job's BlockBackends and "source", "target",
 * "intermediate node" edges; the chain from the filter to the base frozen),
 * mirror_dirty_init() (what is allocated above the base, in granules of the
 * base's cluster size), mirror_run() (copy, then "ready" and wait for
 * job-complete), commit_active_cancel() (a cancel in ready completes
 * without replacing anything), mirror_exit_common() (on completion the
 * active layer's place goes to the base, the filter is removed), and the
 * filter's I/O: reads from the active layer, writes to it and to the base
 * while the job runs (QEMU tracks such writes in a dirty bitmap and copies
 * them before it finishes; writing both at once gives the same data).
 * What it is not: drive-mirror and blockdev-mirror, rate limiting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "child.h"
#include "filter.h"
#include "job.h"
#include "job_mirror.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"
#include "perm.h"
#include "reopen.h"
#include "replace.h"

/* block/mirror.c: MAX_IO_BYTES, and DEFAULT_MIRROR_BUF_SIZE = MAX_IN_FLIGHT * MAX_IO_BYTES
 * (max_io_bytes = MAX(buf_size / MAX_IN_FLIGHT, MAX_IO_BYTES)) */
#define MIRROR_MAX_IO_BYTES ((int64_t)1 << 20)
#define MIRROR_BUF_SIZE     (16 * MIRROR_MAX_IO_BYTES)

/* MirrorBDSOpaque */
typedef struct MirrorTopState {
    RealJob *job;
    bool stop;
    bool is_commit;
} MirrorTopState;

typedef struct MirrorJob {
    RealDirtyBitmap bitmap;      /* on the source while the job runs */
    RealNode *bitmap_node;
    RealNode *mirror_top;
    RealNode *base;
    RealNode *base_overlay;
    RealBlk *target;
    int64_t granularity;
    bool prepared;
} MirrorJob;

/* ---- the mirror_top filter -------------------------------------------------------- */

static RealBlockState *target_of(RealBlockState *bs)
{
    MirrorTopState *s = bs->opaque;
    if (!s || s->stop || !s->job || !s->job->opaque)
        return NULL;
    MirrorJob *m = s->job->opaque;
    RealNode *t = m->target ? real_blk_node(m->target) : NULL;
    return t ? t->bs : NULL;
}

static int mirror_top_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes,
                             const void *buf, int flags)
{
    int ret = filter_pwrite(bs, offset, bytes, buf, flags);
    RealBlockState *t = target_of(bs);
    if (ret == 0 && t)
        ret = bdrv_pwrite(t, offset, bytes, buf, flags);
    return ret;
}

static int mirror_top_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    int ret = filter_pwrite_zeroes(bs, offset, bytes, flags);
    RealBlockState *t = target_of(bs);
    if (ret == 0 && t)
        ret = bdrv_pwrite_zeroes(t, offset, bytes, flags);
    return ret;
}

static int mirror_top_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    int ret = filter_pdiscard(bs, offset, bytes);
    RealBlockState *t = target_of(bs);
    if (ret == 0 && t)
        ret = bdrv_pdiscard(t, offset, bytes);
    return ret;
}

static void mirror_top_refresh_filename(RealNode *n)
{
    if (!n->backing)
        return;
    free(n->exact_filename);
    n->exact_filename = bg_strdup(n->backing->child->filename);
}

static void mirror_top_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                                  uint64_t perm, uint64_t shared, uint64_t *nperm,
                                  uint64_t *nshared)
{
    MirrorTopState *s = n->bs->opaque;
    if (s && s->stop) {
        *nperm = 0;
        *nshared = REAL_PERM_ALL;
        return;
    }
    real_default_perms(n, c, role, q, perm, shared, nperm, nshared);
    if (s && s->is_commit) {
        *nperm &= ~(uint64_t)REAL_PERM_CONSISTENT_READ;
        *nshared |= REAL_PERM_WRITE;
    }
}

static int mirror_top_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    bs->supported_zero_flags = REAL_REQ_NO_FALLBACK;
    return 0;
}

static const RealDriver drv_mirror_top = {
    .format_name = "mirror_top",
    .is_filter = true,
    .instance_size = sizeof(MirrorTopState),
    .open = mirror_top_open,
    .pread = filter_pread,
    .pwrite = mirror_top_pwrite,
    .pwrite_zeroes = mirror_top_pwrite_zeroes,
    .pdiscard = mirror_top_pdiscard,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
};

const RealNodeDriver real_nd_mirror_top = {
    .format_name = "mirror_top",
    .ops = &drv_mirror_top,
    .is_filter = true,
    .internal = true,
    .filtered_child_is_backing = true,
    .child_perm = mirror_top_child_perm,
    .refresh_filename = mirror_top_refresh_filename,
};

/* ---- the job ----------------------------------------------------------------------- */

static int mirror_run(RealJob *job)
{
    MirrorJob *s = job->opaque;
    RealNode *src = s->mirror_top->backing->child;
    RealNode *target = real_blk_node(s->target);
    int64_t len = bdrv_getlength(src->bs);
    if (len < 0)
        return (int)len;
    int64_t tlen = bdrv_getlength(target->bs);
    if (tlen >= 0 && tlen < len) {
        BgError e = { 0 };
        int ret = bdrv_truncate(target->bs, len, false, REAL_PREALLOC_OFF, &e);
        if (ret < 0)
            return ret;
    }
    /* mirror_dirty_init(): granules allocated above the base */
    int64_t gran = s->granularity;
    int64_t ngran = (len + gran - 1) / gran;
    uint8_t *dirty = real_calloc((size_t)ngran + 1, 1);
    if (!dirty)
        return -ENOMEM;
    for (int64_t offset = 0; offset < len;) {
        int64_t count = 0;
        int ret = real_child_is_allocated_above(src, s->base_overlay, true, offset,
                                                len - offset, &count);
        if (ret < 0) {
            real_free(dirty);
            return ret;
        }
        if (count <= 0)
            count = len - offset;
        if (ret > 0)
            for (int64_t g = offset / gran; g <= (offset + count - 1) / gran; g++)
                dirty[g] = 1;
        offset += count;
    }
    uint64_t total = 0;
    for (int64_t g = 0; g < ngran; g++)
        if (dirty[g])
            total += (uint64_t)((g + 1) * gran > len ? len - g * gran : gran);
    job->progress_total = total;

    /* mirror_iteration(): each group of consecutive dirty granules (at most
     * buf_size) is copied in runs of one block status: data in requests of
     * at most max_io_bytes, a run without data that covers whole target
     * clusters as a zero write (MAY_UNMAP: commit_active_start() passes
     * unmap) or, when it does not read as zeroes, a discard; anything
     * shorter than a granule is copied as a whole granule.  The sizes
     * decide which host clusters the base's qcow2 allocates together. */
    int64_t max_io = MIRROR_MAX_IO_BYTES;
    RealDriverInfo bdi;
    int64_t tcluster = bdrv_get_info(target->bs, &bdi) >= 0 ? bdi.cluster_size : 0;
    uint8_t *buf = real_buf_alloc((size_t)max_io);
    int ret = buf ? 0 : -ENOMEM;
    for (int64_t g = 0; g < ngran && ret == 0;) {
        if (!dirty[g]) {
            g++;
            continue;
        }
        int64_t first = g;
        while (g < ngran && dirty[g] && (g - first) * gran < MIRROR_BUF_SIZE)
            g++;
        int64_t off = first * gran, end = g * gran < len ? g * gran : len;
        while (off < end && ret == 0) {
            int64_t io = 0;
            int st = bdrv_block_status_above(src->bs, NULL, true, off, end - off, &io, NULL,
                                             NULL, NULL);
            bool copy = true, zero = false;
            if (st < 0)
                io = end - off < max_io ? end - off : max_io;
            else if ((st & REAL_BLOCK_DATA) && io > max_io)
                io = max_io;
            io -= io % gran;
            if (io < gran) {
                io = gran;
            } else if (st >= 0 && !(st & REAL_BLOCK_DATA)) {
                /* bdrv_round_to_clusters() on the target leaves the run as it is */
                copy = tcluster > 0 && (off % tcluster || io % tcluster);
                zero = st & REAL_BLOCK_ZERO;
            }
            if (io > len - off)
                io = len - off;                      /* mirror_clip_bytes() */
            /* mirror_read_complete() / mirror_write_complete(): a failed
             * request is mirror_error_action() on the source (a read) or the
             * target (the write, zero write or discard) */
            bool is_read = false;
            if (copy) {
                ret = bdrv_pread(src->bs, off, io, buf, 0);
                is_read = ret < 0;
                if (ret == 0)
                    ret = bdrv_pwrite(target->bs, off, io, buf, 0);
            } else if (zero) {
                ret = bdrv_pwrite_zeroes(target->bs, off, io, REAL_REQ_MAY_UNMAP);
            } else {
                ret = bdrv_pdiscard(target->bs, off, io);
            }
            if (ret < 0)
                real_job_error_action(job, is_read);
            if (ret == 0)
                job->progress_current += (uint64_t)io;
            off += io;
        }
    }
    real_buf_free(buf);
    real_free(dirty);
    return ret;
}

static bool mirror_complete(RealJob *job, BgError *err)
{
    return true;
}

/* mirror_exit_common() */
static void release_bitmap(MirrorJob *s)
{
    if (!s->bitmap_node)
        return;
    for (RealDirtyBitmap **pp = &s->bitmap_node->dirty_bitmaps; *pp; pp = &(*pp)->next) {
        if (*pp == &s->bitmap) {
            *pp = s->bitmap.next;
            break;
        }
    }
    s->bitmap_node = NULL;
}

static int mirror_exit_common(RealJob *job)
{
    MirrorJob *s = job->opaque;
    if (s->prepared)
        return 0;
    s->prepared = true;
    release_bitmap(s);
    bool abort = job->ret < 0;
    RealNode *mirror_top = s->mirror_top;
    MirrorTopState *bs_opaque = mirror_top->bs->opaque;
    RealNode *src = mirror_top->backing->child;
    RealNode *target = real_blk_node(s->target);
    int ret = 0;
    if (real_child_chain_contains(src, target))
        real_child_unfreeze_chain(mirror_top, target);
    real_node_ref(src);
    real_node_ref(mirror_top);
    real_node_ref(target);
    real_blk_unref(s->target);
    s->target = NULL;
    bs_opaque->stop = true;
    {
        uint64_t p, sh;
        real_perm_cumulative(mirror_top, &p, &sh);
        real_perm_child_perm(mirror_top, src, mirror_top->backing, mirror_top->backing->c.role,
                             NULL, p, sh, &p, &sh);
        BgError ignore = { 0 };
        real_perm_edge_try_set(mirror_top->backing, p, sh, &ignore);
    }
    if (job->should_complete && !abort) {
        bool ro = !(src->open_flags & REAL_O_RDWR);
        if (ro != !(target->open_flags & REAL_O_RDWR)) {
            BgError ignore = { 0 };
            real_reopen_set_read_only(target, ro, &ignore);
        }
        BgError local = { 0 };
        if (real_replace_node(src, target, &local) < 0)
            ret = -EPERM;
    }
    real_node_unref(target);
    real_job_remove_all_bdrv(job);
    BgError ignore = { 0 };
    real_replace_node(mirror_top, mirror_top->backing->child, &ignore);
    bs_opaque->job = NULL;
    real_node_unref(mirror_top);
    real_node_unref(src);
    return ret;
}

static int mirror_prepare(RealJob *job)
{
    return mirror_exit_common(job);
}

static void mirror_abort(RealJob *job)
{
    mirror_exit_common(job);
}

static void mirror_clean(RealJob *job)
{
    MirrorJob *s = job->opaque;
    release_bitmap(s);
    real_blk_unref(s->target);
    free(s);
    job->opaque = NULL;
}

static RealNode *mirror_dest(RealJob *job)
{
    MirrorJob *s = job->opaque;
    return s && s->target ? real_blk_node(s->target) : NULL;
}

static const RealJobDriver commit_active_driver = {
    .type = "commit",
    .run = mirror_run,
    .has_ready = true,
    .prepare = mirror_prepare,
    .abort = mirror_abort,
    .clean = mirror_clean,
    .complete = mirror_complete,
    .soft_cancel_in_ready = true,
    .dest = mirror_dest,
};

/* bdrv_get_default_bitmap_granularity() */
static int64_t default_granularity(RealNode *target)
{
    RealDriverInfo bdi;
    if (bdrv_get_info(target->bs, &bdi) >= 0 && bdi.cluster_size > 0) {
        int64_t g = bdi.cluster_size > 4096 ? bdi.cluster_size : 4096;
        return g < 65536 ? g : 65536;
    }
    return 65536;
}

static bool mirror_start_job(RealGraph *g, const char *job_id, RealNode *bs, RealNode *target,
                             bool auto_finalize, bool auto_dismiss, int64_t speed,
                             RealNode *base, const char *filter_node_name, BgError *err)
{
    if (real_node_skip_filters(bs) == real_node_skip_filters(target))
        return bg_error_setf(err, BG_MSG_JOB_MIRROR_ITSELF);
    bool target_is_backing = real_child_chain_contains(bs, target);
    RealNode *mirror_top = real_open_new_driver(g, &real_nd_mirror_top, filter_node_name, NULL,
                                                REAL_O_RDWR, err);
    if (!mirror_top)
        return false;
    if (!filter_node_name)
        mirror_top->implicit = true;
    mirror_top->never_freeze = true;
    mirror_top->bs->total_sectors = bs->bs->total_sectors;
    MirrorTopState *bs_opaque = mirror_top->bs->opaque;
    bs_opaque->is_commit = target_is_backing;
    if (real_append(mirror_top, bs, err) < 0) {
        real_node_unref(mirror_top);
        return false;
    }
    RealJob *job = real_job_create(g, &commit_active_driver, job_id, mirror_top,
                                   REAL_PERM_CONSISTENT_READ,
                                   REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED |
                                       REAL_PERM_WRITE,
                                   auto_finalize, auto_dismiss, speed, err);
    MirrorJob *s = NULL;
    if (!job)
        goto fail;
    bs_opaque->job = job;
    real_node_unref(mirror_top);   /* the job's BlockBackend holds it now */
    s = bg_calloc(1, sizeof(*s));
    job->opaque = s;
    s->mirror_top = mirror_top;
    uint64_t target_perms = REAL_PERM_WRITE, target_shared = REAL_PERM_WRITE_UNCHANGED;
    if (target_is_backing) {
        if (bdrv_getlength(target->bs) < bdrv_getlength(bs->bs))
            target_perms |= REAL_PERM_RESIZE;
        target_shared |= REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE;
    }
    s->target = real_blk_new(g, job->ctx, target_perms, target_shared);
    if (real_blk_insert(s->target, target, err) < 0)
        goto fail;
    s->target->allow_aio_context_change = true;
    s->base = base;
    s->base_overlay = real_child_find_overlay(bs, base);
    s->granularity = default_granularity(target);
    /* bdrv_create_dirty_bitmap(bs, granularity, NULL) */
    s->bitmap.granularity = (uint32_t)s->granularity;
    s->bitmap.next = bs->dirty_bitmaps;
    bs->dirty_bitmaps = &s->bitmap;
    s->bitmap_node = bs;
    if (!real_job_add_bdrv(job, "source", bs, 0,
                           REAL_PERM_WRITE_UNCHANGED | REAL_PERM_WRITE |
                               REAL_PERM_CONSISTENT_READ,
                           err))
        goto fail;
    if (!real_job_add_bdrv(job, "target", target, 0, REAL_PERM_ALL, err))
        goto fail;
    if (target_is_backing) {
        RealEdge *cow = real_node_cow_child(real_child_find_overlay(bs, target));
        RealNode *filtered_target = cow ? cow->child : NULL;
        uint64_t iter_shared = REAL_PERM_WRITE_UNCHANGED | REAL_PERM_WRITE;
        for (RealNode *it = real_node_filter_or_cow_bs(bs); it && it != target;
             it = real_node_filter_or_cow_bs(it)) {
            if (it == filtered_target)
                iter_shared |= REAL_PERM_CONSISTENT_READ;
            if (!real_job_add_bdrv(job, "intermediate node", it, 0, iter_shared, err))
                goto fail;
        }
        if (real_child_freeze_chain(mirror_top, target, err) < 0)
            goto fail;
    }
    real_job_start(job);
    return true;

fail:
    if (job) {
        real_node_ref(mirror_top);
        if (s) {
            release_bitmap(s);
            real_blk_unref(s->target);
            free(s);
            job->opaque = NULL;
        }
        bs_opaque->job = NULL;
        real_job_early_fail(job);
    }
    bs_opaque->stop = true;
    {
        uint64_t p, sh;
        real_perm_cumulative(mirror_top, &p, &sh);
        real_perm_child_perm(mirror_top, bs, mirror_top->backing, mirror_top->backing->c.role,
                             NULL, p, sh, &p, &sh);
        BgError ignore = { 0 };
        real_perm_edge_try_set(mirror_top->backing, p, sh, &ignore);
    }
    BgError ignore = { 0 };
    real_replace_node(mirror_top, mirror_top->backing->child, &ignore);
    real_node_unref(mirror_top);
    return false;
}

bool real_job_commit_active_start(RealGraph *g, const char *job_id, RealNode *bs, RealNode *base,
                                  bool auto_finalize, bool auto_dismiss, int64_t speed,
                                  const char *filter_node_name, BgError *err)
{
    bool base_read_only = !(base->open_flags & REAL_O_RDWR);
    if (base_read_only && real_reopen_set_read_only(base, false, err) < 0)
        return false;
    if (!job_id) {
        /* qmp_block_commit(): the job is named after the device */
        const char *dev = real_node_device_or_node_name(bs);
        job_id = dev == bs->node_name ? NULL : dev;
    }
    if (!mirror_start_job(g, job_id, bs, base, auto_finalize, auto_dismiss, speed, base,
                          filter_node_name, err)) {
        real_job_restore_read_only(base, base_read_only);
        return false;
    }
    return true;
}
