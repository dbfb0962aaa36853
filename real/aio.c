/*
 * aio.c: AioContext changes (see aio.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_change_aio_context() and its helpers,
 * block/block-backend.c blk_root_change_aio_ctx() and blockjob.c
 * child_job_change_aio_ctx(): a visited set of edges stops the walk,
 * parents are asked before children, and each moved node, BlockBackend or
 * job gets its new context when the transaction commits.
 */
#include "aio.h"

#include <errno.h>
#include <stdlib.h>

#include "bg.h"
#include "blk.h"
#include "job.h"
#include "messages.h"
#include "tran.h"

typedef struct Visited {
    const RealEdge **v;
    size_t n, cap;
} Visited;

static bool visited_add(Visited *s, const RealEdge *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == e)
            return false;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = bg_realloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = e;
    return true;
}

RealCtx *real_edge_parent_ctx(const RealEdge *e)
{
    switch (e->kind) {
    case REAL_PARENT_NODE:
        return e->parent_node->ctx;
    case REAL_PARENT_BLK:
        return real_blk_ctx(e->parent_blk);
    case REAL_PARENT_JOB:
        return real_job_ctx(e->parent_job);
    }
    return NULL;
}

/* ---- commit actions ------------------------------------------------------------ */

typedef struct SetCtx {
    RealParentKind kind;
    void *obj;
    RealCtx *ctx;
} SetCtx;

static void set_ctx_commit(void *opaque)
{
    SetCtx *s = opaque;
    if (s->kind == REAL_PARENT_NODE)
        ((RealNode *)s->obj)->ctx = s->ctx;
    else if (s->kind == REAL_PARENT_BLK)
        real_blk_set_ctx(s->obj, s->ctx);
    else
        real_job_set_ctx(s->obj, s->ctx);
}

static const TranActionDrv set_ctx_drv = { .commit = set_ctx_commit, .clean = free };

static void add_set(Tran *tran, RealParentKind kind, void *obj, RealCtx *ctx)
{
    SetCtx *s = bg_calloc(1, sizeof(*s));
    s->kind = kind;
    s->obj = obj;
    s->ctx = ctx;
    tran_add(tran, &set_ctx_drv, s);
}

/* ---- the walk ------------------------------------------------------------------- */

static bool change_node(RealNode *n, RealCtx *ctx, Visited *vis, Tran *tran, BgError *err);

static bool child_change(RealEdge *c, RealCtx *ctx, Visited *vis, Tran *tran, BgError *err)
{
    if (!visited_add(vis, c))
        return true;
    return change_node(c->child, ctx, vis, tran, err);
}

/* The BdrvChildClass change_aio_ctx callback of E's parent. */
static bool parent_cb(RealEdge *e, RealCtx *ctx, Visited *vis, Tran *tran, BgError *err)
{
    switch (e->kind) {
    case REAL_PARENT_NODE:
        return change_node(e->parent_node, ctx, vis, tran, err);
    case REAL_PARENT_BLK:
        if (!real_blk_allows_ctx_change(e->parent_blk)) {
            bg_error_setf(err, BG_MSG_IOTHREAD_ACTIVE_BB);
            return false;
        }
        add_set(tran, REAL_PARENT_BLK, e->parent_blk, ctx);
        return true;
    case REAL_PARENT_JOB: {
        RealJob *job = e->parent_job;
        for (size_t i = 0; i < real_job_n_edges(job); i++)
            if (!child_change(real_job_edge(job, i), ctx, vis, tran, err))
                return false;
        add_set(tran, REAL_PARENT_JOB, job, ctx);
        return true;
    }
    }
    return false;
}

static bool parent_change(RealEdge *e, RealCtx *ctx, Visited *vis, Tran *tran, BgError *err)
{
    if (!visited_add(vis, e))
        return true;
    return parent_cb(e, ctx, vis, tran, err);
}

static bool change_node(RealNode *n, RealCtx *ctx, Visited *vis, Tran *tran, BgError *err)
{
    if (n->ctx == ctx)
        return true;
    for (RealEdge *p = n->parents; p; p = p->next_parent)
        if (!parent_change(p, ctx, vis, tran, err))
            return false;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (!child_change(c, ctx, vis, tran, err))
            return false;
    add_set(tran, REAL_PARENT_NODE, n, ctx);
    return true;
}

int real_aio_try_change(RealNode *n, RealCtx *ctx, RealEdge *ignore, BgError *err)
{
    Visited vis = { 0 };
    if (ignore)
        visited_add(&vis, ignore);
    Tran *tran = tran_new();
    bool ok = change_node(n, ctx, &vis, tran, err);
    free(vis.v);
    if (!ok) {
        tran_abort(tran);
        return -EPERM;
    }
    tran_commit(tran);
    return 0;
}

bool real_aio_change_parent_try(RealEdge *e, RealCtx *ctx)
{
    Visited vis = { 0 };
    visited_add(&vis, e);
    Tran *tran = tran_new();
    bool ok = parent_cb(e, ctx, &vis, tran, NULL);
    free(vis.v);
    tran_finalize(tran, ok ? 0 : -1);
    return ok;
}

void real_aio_change_parent_force(RealEdge *e, RealCtx *ctx)
{
    bool ok = real_aio_change_parent_try(e, ctx);
    (void)ok;
}
