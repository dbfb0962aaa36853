/*
 * job_stream.c: block-stream: copy the data of a backing chain into its
 * top node, then drop the chain down to the base.
 *
 * What this is: QEMU 7.2 blockdev.c qmp_block_stream() (argument checks and
 * their order, bdrv_find_backing_image() for "base", op blockers on the
 * chain, "backing file specified, but streaming the entire chain"),
 * block/stream.c stream_start() (the top made read-write for the job, a
 * copy-on-read filter with bottom = the base's overlay inserted above the
 * top, implicit unless filter-node-name is given, the job's BlockBackends
 * and "active node"/"intermediate node" edges), stream_run() (512 KiB
 * chunks: what is allocated between the top and the base is copied up
 * through the filter), stream_prepare() (filter dropped, the top's backing
 * becomes the base and the header names it), stream_clean() (the top back
 * to read-only if it was).
 * What it is not: rate limiting in time (speed is reported only) and
 * on-error policies other than report.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "child.h"
#include "filename.h"
#include "filter_cor.h"
#include "job.h"
#include "messages.h"
#include "nodedrv.h"
#include "qapi.h"
#include "reopen.h"
#include "replace.h"

#define STREAM_CHUNK (512 * 1024)

typedef struct StreamJob {
    RealNode *base_overlay;
    RealNode *above_base;
    RealNode *cor_filter;        /* referenced until dropped */
    RealNode *target;            /* the top node */
    RealBlk *blk;                /* s->blk on the filter */
    char *backing_file_str;
    bool bs_read_only;
} StreamJob;

static int stream_run(RealJob *job)
{
    StreamJob *s = job->opaque;
    RealNode *unfiltered = real_node_skip_filters(s->target);
    if (unfiltered == s->base_overlay)
        return 0;
    int64_t len = bdrv_getlength(s->target->bs);
    if (len < 0)
        return (int)len;
    job->progress_total = (uint64_t)len;   /* job_progress_set_remaining() */
    int64_t n = 0;
    for (int64_t offset = 0; offset < len; offset += n) {
        bool copy = false;
        int ret = bdrv_is_allocated(unfiltered->bs, offset, STREAM_CHUNK, &n);
        if (ret == 1) {
            /* allocated in the top */
        } else if (ret >= 0) {
            RealEdge *cow = real_node_cow_child(unfiltered);
            if (cow) {
                ret = real_child_is_allocated_above(cow->child, s->base_overlay, true, offset,
                                                    n, &n);
            } else {
                ret = 0;
                n = 0;
            }
            if (ret == 0 && n == 0)
                n = len - offset;
            copy = ret > 0;
        }
        if (copy)
            ret = filter_cor_preadv(s->cor_filter->bs, offset, n, NULL);
        if (ret < 0) {
            /* stream_run(): block_job_error_action(), always a read */
            real_job_error_action(job, true);
            return ret;
        }
        job->progress_current += (uint64_t)n;
    }
    return 0;
}

/* bdrv_cor_filter_drop() */
static void cor_filter_drop(StreamJob *s)
{
    if (!s->cor_filter)
        return;
    RealNode *f = s->cor_filter;
    s->cor_filter = NULL;
    filter_cor_unfreeze(f->bs);
    BgError ignore = { 0 };
    real_drop_filter(f, &ignore);
    real_node_release(f);
}

static int stream_prepare(RealJob *job)
{
    StreamJob *s = job->opaque;
    RealNode *unfiltered = real_node_skip_filters(s->target);
    cor_filter_drop(s);
    RealNode *base = real_node_filter_or_cow_bs(s->above_base);
    if (base)
        real_node_ref(base);
    RealNode *unfiltered_base = real_node_skip_filters(base);
    int ret = 0;
    if (real_node_cow_child(unfiltered)) {
        const char *base_id = NULL, *base_fmt = NULL;
        if (unfiltered_base) {
            real_node_refresh_filename(unfiltered_base);
            base_id = s->backing_file_str ? s->backing_file_str : unfiltered_base->filename;
            if (unfiltered_base->drv)
                base_fmt = unfiltered_base->drv->format_name;
        }
        BgError local = { 0 };
        real_child_set_backing_hd(unfiltered, base, &local);
        ret = real_child_change_backing_file(unfiltered, base_id, base_fmt);
        if (local.set)
            ret = -EPERM;
    }
    real_node_unref(base);
    return ret;
}

static void stream_clean(RealJob *job)
{
    StreamJob *s = job->opaque;
    cor_filter_drop(s);
    real_blk_unref(s->blk);
    s->blk = NULL;
    real_job_restore_read_only(s->target, s->bs_read_only);
    free(s->backing_file_str);
    free(s);
    job->opaque = NULL;
}

static RealNode *stream_dest(RealJob *job)
{
    StreamJob *s = job->opaque;
    return s ? s->target : NULL;
}

static const RealJobDriver stream_driver = {
    .type = "stream",
    .run = stream_run,
    .prepare = stream_prepare,
    .clean = stream_clean,
    .dest = stream_dest,
};

/* stream_start() */
static bool stream_start(RealGraph *g, const RealJobArgs *a, RealNode *bs, RealNode *base,
                         const char *backing_file_str, RealNode *bottom, BgError *err)
{
    const char *filter_node_name = a->filter_node_name;
    RealNode *base_overlay, *above_base;
    if (bottom) {
        base_overlay = above_base = bottom;
    } else {
        base_overlay = real_child_find_overlay(bs, base);
        if (!base_overlay) {
            return bg_error_setf(err, BG_MSG_STREAM_NOT_IN_CHAIN,
                                 base->node_name, bs->node_name);
        }
        above_base = base_overlay;
        RealEdge *cow = real_node_cow_child(above_base);
        if ((cow ? cow->child : NULL) != base) {
            above_base = cow->child;
            while (real_node_filter_child(above_base) &&
                   real_node_filter_child(above_base)->child != base)
                above_base = real_node_filter_child(above_base)->child;
        }
    }
    bool bs_read_only = !(bs->open_flags & REAL_O_RDWR);
    if (bs_read_only) {
        if (real_child_freeze_chain(bs, above_base, err) < 0)
            return false;
        int ret = real_reopen_set_read_only(bs, false, err);
        real_child_unfreeze_chain(bs, above_base);
        if (ret < 0)
            return false;
    }

    json_t *opts = json_pack("{s:s,s:s,s:s}", "driver", "copy-on-read", "file", bs->node_name,
                             "bottom", base_overlay->node_name);
    if (filter_node_name)
        json_object_set_new(opts, "node-name", json_string(filter_node_name));
    RealJob *job = NULL;
    StreamJob *s = NULL;
    RealNode *cor = real_insert_node(bs, opts, REAL_O_RDWR, err);
    if (!cor)
        goto fail;
    if (!filter_node_name)
        cor->implicit = true;

    job = real_job_create(g, &stream_driver, a->job_id, cor, 0, REAL_PERM_ALL,
                          a->auto_finalize, a->auto_dismiss, a->speed, err);
    if (!job)
        goto fail;
    s = bg_calloc(1, sizeof(*s));
    job->opaque = s;
    uint64_t basic = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED;
    s->blk = real_blk_new(g, cor->ctx, REAL_PERM_CONSISTENT_READ, basic | REAL_PERM_WRITE);
    if (real_blk_insert(s->blk, cor, err) < 0)
        goto fail;
    s->blk->allow_aio_context_change = true;
    if (!real_job_add_bdrv(job, "active node", bs, 0, basic | REAL_PERM_WRITE, err))
        goto fail;
    RealNode *base_now = real_node_filter_or_cow_bs(above_base);
    for (RealNode *it = real_node_filter_or_cow_bs(bs); it && it != base_now;
         it = real_node_filter_or_cow_bs(it)) {
        if (!real_job_add_bdrv(job, "intermediate node", it, 0, basic, err))
            goto fail;
    }
    s->base_overlay = base_overlay;
    s->above_base = above_base;
    s->backing_file_str = backing_file_str ? bg_strdup(backing_file_str) : NULL;
    s->cor_filter = cor;
    s->target = bs;
    cor->extra_refs++;   /* the reference insert returned is the job's hold (real_node_hold) */
    s->bs_read_only = bs_read_only;
    real_job_start(job);
    return true;

fail:
    if (job) {
        /* QEMU 7.2 leaks s->blk here when it was inserted: job_early_fail()
         * frees the job, only stream_clean() would unref s->blk, and
         * bdrv_cor_filter_drop() below moves it, as a parent of the
         * filter, to the top: an unnamed BlockBackend that holds
         * consistent read and shares no resize ("Node hd0 is in use" for
         * blockdev-del).  The engine leaves it so too (the graph's list of
         * BlockBackends keeps it, and frees it with the graph) */
        if (s) {
            if (!(s->blk && s->blk->root))
                real_blk_unref(s->blk);
            free(s);
            job->opaque = NULL;
        }
        real_job_early_fail(job);
    }
    if (cor) {
        filter_cor_unfreeze(cor->bs);
        BgError ignore = { 0 };
        real_drop_filter(cor, &ignore);
        real_node_unref(cor);
    }
    real_job_restore_read_only(bs, bs_read_only);
    return false;
}

static const QapiMember stream_args[] = {
    { "job-id", QAPI_STR, false, NULL },
    { "device", QAPI_STR, true, NULL },
    { "base", QAPI_STR, false, NULL },
    { "base-node", QAPI_STR, false, NULL },
    { "backing-file", QAPI_STR, false, NULL },
    { "bottom", QAPI_STR, false, NULL },
    REAL_JOB_QAPI_TAIL,
};

bool real_qmp_block_stream(RealGraph *g, json_t *args, BgError *err)
{
    if (!real_qapi_check_struct(args, stream_args, err))
        return false;
    const char *device = real_job_arg(args, "device"), *base = real_job_arg(args, "base");
    const char *base_node = real_job_arg(args, "base-node"), *bottom = real_job_arg(args, "bottom");
    const char *backing_file = real_job_arg(args, "backing-file");
    if (base && base_node)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "base", "base-node");
    if (base && bottom)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "base", "bottom");
    if (bottom && base_node)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "bottom", "base-node");
    RealJobArgs a;
    if (!real_job_args(args, &a, err))
        return false;
    RealNode *bs = real_graph_lookup(g, device, device, err);
    if (!bs)
        return false;
    RealNode *base_bs = NULL, *bottom_bs = NULL;
    if (base) {
        base_bs = real_child_find_backing_image(bs, base);
        if (!base_bs)
            return bg_error_setf(err, BG_MSG_JOB_BASE_NOT_FOUND, base);
    }
    if (base_node) {
        base_bs = real_graph_lookup(g, NULL, base_node, err);
        if (!base_bs)
            return false;
        if (bs == base_bs || !real_child_chain_contains(bs, base_bs))
            return bg_error_setf(err, BG_MSG_JOB_NOT_BACKING, base_node,
                                 device);
        real_node_refresh_filename(base_bs);
    }
    if (bottom) {
        bottom_bs = real_graph_lookup(g, NULL, bottom, err);
        if (!bottom_bs)
            return false;
        if (!bottom_bs->drv)
            return bg_error_setf(err, BG_MSG_JOB_BOTTOM_NOT_OPEN, bottom);
        if (bottom_bs->drv->is_filter)
            return bg_error_setf(err, BG_MSG_JOB_BOTTOM_FILTER, bottom);
        if (!real_child_chain_contains(bs, bottom_bs))
            return bg_error_setf(err, BG_MSG_JOB_BOTTOM_NOT_IN_CHAIN, bottom,
                                 device);
    }
    RealNode *iter_end = bottom ? real_node_filter_or_cow_bs(bottom_bs) : base_bs;
    for (RealNode *it = bs; it && it != iter_end; it = real_node_filter_or_cow_bs(it))
        if (real_node_op_is_blocked(it, REAL_OP_STREAM, err))
            return false;
    if (!base_bs && backing_file)
        return bg_error_setf(err, BG_MSG_STREAM_BACKING_FILE);
    return stream_start(g, &a, bs, base_bs, backing_file, bottom_bs, err);
}
