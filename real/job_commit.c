/*
 * job_commit.c: block-commit: the command, the commit_top filter and the
 * intermediate commit job.
 *
 * What this is: QEMU 7.2 blockdev.c qmp_block_commit() (device lookup first
 * with class DeviceNotFound, "Need a root block node", top/base
 * resolution and their texts, op blockers, "cannot commit an image into
 * itself", active commit when the top is the active layer or has a writer,
 * which job_mirror.c runs), block/commit.c commit_start() (base reopened
 * read-write, a commit_top filter appended above the top: implicit unless
 * filter-node-name, never frozen, read-only, taking nothing and sharing
 * everything; "intermediate node" and "base" job edges; the chain from the
 * filter to the base frozen), commit_run() (everything allocated above the
 * base copied into it, the base grown to the top's length first),
 * commit_prepare() (bdrv_drop_intermediate: the nodes between are dropped
 * and the headers above name the base), commit_abort(), commit_clean()
 * (base back to read-only).
 * What it is not: rate limiting and on-error policies other than report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "child.h"
#include "filename.h"
#include "filter.h"
#include "job.h"
#include "job_mirror.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"
#include "perm.h"
#include "qapi.h"
#include "reopen.h"
#include "replace.h"
#include "tran.h"

#define COMMIT_BUFFER_SIZE (512 * 1024)

/* ---- the commit_top filter ---------------------------------------------------------- */

static int commit_top_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes,
                             const void *buf, int flags)
{
    return -ENOTSUP;   /* bdrv_commit_top has only .bdrv_co_preadv */
}

static void commit_top_refresh_filename(RealNode *n)
{
    if (!n->backing)
        return;
    free(n->exact_filename);
    n->exact_filename = bg_strdup(n->backing->child->filename);
}

static void commit_top_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                                  uint64_t perm, uint64_t shared, uint64_t *nperm,
                                  uint64_t *nshared)
{
    *nperm = 0;
    *nshared = REAL_PERM_ALL;
}

static int commit_top_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    return 0;
}

static const RealDriver drv_commit_top = {
    .format_name = "commit_top",
    .is_filter = true,
    .open = commit_top_open,
    .pread = filter_pread,
    .pwrite = commit_top_pwrite,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
};

const RealNodeDriver real_nd_commit_top = {
    .format_name = "commit_top",
    .ops = &drv_commit_top,
    .is_filter = true,
    .internal = true,
    .filtered_child_is_backing = true,
    .child_perm = commit_top_child_perm,
    .refresh_filename = commit_top_refresh_filename,
};

/* ---- the job ------------------------------------------------------------------------ */

typedef struct CommitJob {
    RealNode *commit_top;       /* held (real_node_hold) from start to clean */
    RealNode *base_bs;
    RealNode *base_overlay;
    RealBlk *base;              /* s->base: writes to the base */
    RealBlk *top;               /* s->top: reads of the top */
    char *backing_file_str;
    bool base_read_only;
    bool chain_frozen;
} CommitJob;

static int commit_run(RealJob *job)
{
    CommitJob *s = job->opaque;
    RealNode *top = real_blk_node(s->top);
    RealNode *base = real_blk_node(s->base);
    int64_t len = bdrv_getlength(top->bs);
    if (len < 0)
        return (int)len;
    job->progress_total = (uint64_t)len;
    int64_t base_len = bdrv_getlength(base->bs);
    if (base_len < 0)
        return (int)base_len;
    if (base_len < len) {
        BgError e = { 0 };
        int ret = bdrv_truncate(base->bs, len, false, REAL_PREALLOC_OFF, &e);
        if (ret)
            return ret;
    }
    uint8_t *buf = real_malloc(COMMIT_BUFFER_SIZE);
    if (!buf)
        return -ENOMEM;
    int64_t n = 0;
    int ret = 0;
    for (int64_t offset = 0; offset < len; offset += n) {
        ret = real_child_is_allocated_above(top, s->base_overlay, true, offset,
                                            COMMIT_BUFFER_SIZE, &n);
        bool copy = ret > 0;
        bool error_in_source = true;
        if (copy) {
            ret = bdrv_pread(top->bs, offset, n, buf, 0);
            if (ret >= 0) {
                ret = bdrv_pwrite(base->bs, offset, n, buf, 0);
                error_in_source = ret >= 0;
            }
        }
        if (ret < 0) {
            /* commit_run(): block_job_error_action(), a read unless the
             * write into the base failed */
            real_job_error_action(job, error_in_source);
            break;
        }
        ret = 0;
        job->progress_current += (uint64_t)n;
    }
    real_free(buf);
    return ret;
}

static int commit_prepare(RealJob *job)
{
    CommitJob *s = job->opaque;
    real_child_unfreeze_chain(s->commit_top, s->base_bs);
    s->chain_frozen = false;
    real_blk_unref(s->base);
    s->base = NULL;
    BgError ignore = { 0 };
    return real_drop_intermediate(s->commit_top, s->base_bs, s->backing_file_str, &ignore);
}

static void commit_abort(RealJob *job)
{
    CommitJob *s = job->opaque;
    RealNode *top = real_blk_node(s->top);
    if (s->chain_frozen)
        real_child_unfreeze_chain(s->commit_top, s->base_bs);
    s->chain_frozen = false;
    real_node_ref(top);
    real_node_ref(s->commit_top);
    real_blk_unref(s->base);
    s->base = NULL;
    real_job_remove_all_bdrv(job);
    BgError ignore = { 0 };
    if (s->commit_top->backing)
        real_replace_node(s->commit_top, s->commit_top->backing->child, &ignore);
    real_node_unref(s->commit_top);
    real_node_unref(top);
}

static void commit_clean(RealJob *job)
{
    CommitJob *s = job->opaque;
    real_job_restore_read_only(s->base_bs, s->base_read_only);
    free(s->backing_file_str);
    real_blk_unref(s->top);
    real_node_release(s->commit_top);
    free(s);
    job->opaque = NULL;
}

static RealNode *commit_dest(RealJob *job)
{
    CommitJob *s = job->opaque;
    return s ? s->base_bs : NULL;
}

static const RealJobDriver commit_driver = {
    .type = "commit",
    .run = commit_run,
    .prepare = commit_prepare,
    .abort = commit_abort,
    .clean = commit_clean,
    .dest = commit_dest,
};

/* commit_start() */
static bool commit_start(RealGraph *g, const RealJobArgs *a, RealNode *bs, RealNode *base,
                         RealNode *top, const char *backing_file_str, BgError *err)
{
    const char *filter_node_name = a->filter_node_name;
    if (real_node_skip_filters(top) == real_node_skip_filters(base))
        return bg_error_setf(err, BG_MSG_COMMIT_SAME_FILES);
    int64_t base_size = bdrv_getlength(base->bs), top_size = bdrv_getlength(top->bs);
    uint64_t base_perms = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE;
    if (base_size < top_size)
        base_perms |= REAL_PERM_RESIZE;
    RealJob *job = real_job_create(g, &commit_driver, a->job_id, bs, 0, REAL_PERM_ALL,
                                   a->auto_finalize, a->auto_dismiss, a->speed, err);
    if (!job)
        return false;
    CommitJob *s = bg_calloc(1, sizeof(*s));
    job->opaque = s;
    RealNode *commit_top = NULL;
    s->base_read_only = !(base->open_flags & REAL_O_RDWR);
    if (s->base_read_only && real_reopen_set_read_only(base, false, err) != 0)
        goto fail;

    commit_top = real_open_new_driver(g, &real_nd_commit_top, filter_node_name, NULL, 0, err);
    if (!commit_top)
        goto fail;
    if (!filter_node_name)
        commit_top->implicit = true;
    commit_top->never_freeze = true;
    commit_top->bs->total_sectors = top->bs->total_sectors;
    int ret = real_append(commit_top, top, err);
    real_node_unref(commit_top);
    if (ret < 0) {
        commit_top = NULL;
        goto fail;
    }
    s->commit_top = commit_top;
    /* The job holds the filter until commit_clean() (extra_refs, as stream
     * holds its copy-on-read filter): drop_intermediate(), or a reopen of
     * the node above it with backing: null, may take it out of the graph,
     * and commit_abort() still unfreezes and replaces it.  (QEMU 7.2 asserts
     * on that reopen; here it only must not use freed memory.) */
    real_node_hold(commit_top);
    s->base_overlay = real_child_find_overlay(top, base);
    RealEdge *cow = real_node_cow_child(s->base_overlay);
    RealNode *filtered_base = cow ? cow->child : NULL;
    uint64_t iter_shared = REAL_PERM_WRITE_UNCHANGED | REAL_PERM_WRITE;
    for (RealNode *it = top; it && it != base; it = real_node_filter_or_cow_bs(it)) {
        if (it == filtered_base)
            iter_shared |= REAL_PERM_CONSISTENT_READ;
        if (!real_job_add_bdrv(job, "intermediate node", it, 0, iter_shared, err))
            goto fail;
    }
    if (real_child_freeze_chain(commit_top, base, err) < 0)
        goto fail;
    s->chain_frozen = true;
    if (!real_job_add_bdrv(job, "base", base, 0, REAL_PERM_ALL, err))
        goto fail;
    s->base = real_blk_new(g, job->ctx, base_perms,
                           REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED);
    if (real_blk_insert(s->base, base, err) < 0)
        goto fail;
    s->base_bs = base;
    s->top = real_blk_new(g, job->ctx, 0, REAL_PERM_ALL);
    if (real_blk_insert(s->top, top, err) < 0)
        goto fail;
    s->backing_file_str = backing_file_str ? bg_strdup(backing_file_str) : NULL;
    real_job_start(job);
    return true;

fail:
    if (s->chain_frozen)
        real_child_unfreeze_chain(commit_top, base);
    real_blk_unref(s->base);
    real_blk_unref(s->top);
    real_job_restore_read_only(base, s->base_read_only);
    free(s);
    job->opaque = NULL;
    real_job_early_fail(job);
    if (commit_top) {
        BgError ignore = { 0 };
        real_replace_node(commit_top, top, &ignore);
        real_node_release(commit_top);   /* held since s->commit_top was set */
    }
    return false;
}

/* ---- block-commit -------------------------------------------------------------------- */

static const QapiMember commit_args[] = {
    { "job-id", QAPI_STR, false, NULL },
    { "device", QAPI_STR, true, NULL },
    { "base-node", QAPI_STR, false, NULL },
    { "base", QAPI_STR, false, NULL },
    { "top-node", QAPI_STR, false, NULL },
    { "top", QAPI_STR, false, NULL },
    { "backing-file", QAPI_STR, false, NULL },
    REAL_JOB_QAPI_TAIL,
};

/* bdrv_is_root_node(): only BlockBackends above it */
static bool is_root_node(RealNode *n)
{
    for (RealEdge *e = n->parents; e; e = e->next_parent)
        if (e->kind != REAL_PARENT_BLK)
            return false;
    return true;
}

bool real_qmp_block_commit(RealGraph *g, json_t *args, BgError *err)
{
    if (!real_qapi_check_struct(args, commit_args, err))
        return false;
    const char *device = real_job_arg(args, "device");
    RealJobArgs a;
    if (!real_job_args(args, &a, err))
        return false;

    /* qmp_get_root_bs(), then the DeviceNotFound text */
    BgError lookup = { 0 };
    RealNode *bs = real_graph_lookup(g, device, device, &lookup);
    if (!bs)
        return bg_error_setf(err, BG_MSG_DEVICE_NOT_FOUND, device);
    if (!is_root_node(bs))
        return bg_error_setf(err, BG_MSG_JOB_NEED_ROOT);
    if (real_node_op_is_blocked(bs, REAL_OP_COMMIT_SOURCE, err))
        return false;

    RealNode *top_bs = bs, *base_bs;
    const char *top_node = real_job_arg(args, "top-node"), *top = real_job_arg(args, "top");
    if (top_node && top)
        return bg_error_setf(err, BG_MSG_JOB_MUTUALLY_EXCLUSIVE, "top-node", "top");
    if (top_node) {
        top_bs = real_graph_lookup(g, NULL, top_node, err);
        if (!top_bs)
            return false;
        if (!real_child_chain_contains(bs, top_bs))
            return bg_error_setf(err, BG_MSG_JOB_NOT_IN_CHAIN, top_node);
    } else if (top) {
        if (strcmp(bs->filename, top) != 0)
            top_bs = real_child_find_backing_image(bs, top);
    }
    if (!top_bs)
        return bg_error_setf(err, BG_MSG_JOB_TOP_NOT_FOUND, top ? top : "NULL");

    const char *base_node = real_job_arg(args, "base-node"), *base = real_job_arg(args, "base");
    if (base_node && base)
        return bg_error_setf(err, BG_MSG_JOB_MUTUALLY_EXCLUSIVE, "base-node", "base");
    if (base_node) {
        base_bs = real_graph_lookup(g, NULL, base_node, err);
        if (!base_bs)
            return false;
        if (!real_child_chain_contains(top_bs, base_bs))
            return bg_error_setf(err, BG_MSG_JOB_NOT_IN_CHAIN, base_node);
    } else if (base) {
        base_bs = real_child_find_backing_image(top_bs, base);
        if (!base_bs)
            return bg_error_setf(err, BG_MSG_JOB_BASE_NOT_FOUND, base);
    } else {
        base_bs = real_child_find_overlay(top_bs, NULL);
        if (!base_bs)
            return bg_error_setf(err, BG_MSG_JOB_NO_BACKING_IMAGE);
    }
    RealNode *stop = real_node_filter_or_cow_bs(base_bs);
    for (RealNode *it = top_bs; it && it != stop; it = real_node_filter_or_cow_bs(it))
        if (real_node_op_is_blocked(it, REAL_OP_COMMIT_TARGET, err))
            return false;
    if (top_bs == base_bs)
        return bg_error_setf(err, BG_MSG_JOB_COMMIT_ITSELF);

    uint64_t top_perm, top_shared;
    real_perm_cumulative(top_bs, &top_perm, &top_shared);
    const char *backing_file = real_job_arg(args, "backing-file");
    if ((top_perm & REAL_PERM_WRITE) ||
        real_node_skip_filters(top_bs) == real_node_skip_filters(bs)) {
        if (backing_file) {
            if (real_node_skip_filters(top_bs) == real_node_skip_filters(bs))
                return bg_error_setf(err, BG_MSG_JOB_BACKING_FILE_ACTIVE);
            return bg_error_setf(err, BG_MSG_JOB_BACKING_FILE_WRITER);
        }
        return real_job_commit_active_start(g, a.job_id, top_bs, base_bs, a.auto_finalize,
                                            a.auto_dismiss, a.speed, a.filter_node_name, err);
    }
    RealNode *overlay = real_child_find_overlay(bs, top_bs);
    if (overlay && real_node_op_is_blocked(overlay, REAL_OP_COMMIT_TARGET, err))
        return false;
    return commit_start(g, &a, bs, base_bs, top_bs, backing_file, err);
}
