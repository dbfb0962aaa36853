/*
 * aio.h: AioContexts: which event loop (main loop or an iothread) each
 * node, BlockBackend and job belongs to, and how a context change spreads.
 *
 * What this is: QEMU 7.2 block.c bdrv_try_change_aio_context() /
 * bdrv_change_aio_context() / bdrv_parent_change_aio_context() /
 * bdrv_child_change_aio_context() with the per-parent callbacks
 * (bdrv_child_cb_change_aio_ctx for nodes, blk_root_change_aio_ctx for
 * BlockBackends: "Cannot change iothread of active block backend",
 * child_job_change_aio_ctx for jobs), as a transaction: everything that must
 * move is visited first, the moves happen on commit.
 * What it is not: threads.  A context is a label; no request ever runs
 * outside the step that issued it.
 */
#ifndef REAL_AIO_H
#define REAL_AIO_H

#include "graph.h"

/* An iothread's AioContext (the main loop is NULL). */
struct RealCtx {
    char *iothread;          /* the iothread object's id */
};

static inline RealCtx *real_node_ctx(const RealNode *n)
{
    return n->ctx;
}

/* bdrv_child_get_parent_aio_context() */
RealCtx *real_edge_parent_ctx(const RealEdge *e);

/*
 * bdrv_try_change_aio_context(): move N, and everything connected to it
 * that must follow, into CTX; IGNORE (may be NULL) is an edge not to
 * follow.  0, or -EPERM with err set (err may be NULL).
 */
int real_aio_try_change(RealNode *n, RealCtx *ctx, RealEdge *ignore, BgError *err);
/*
 * The parent side of a new edge E (not attached yet) into CTX, E not
 * followed: the second attempt of bdrv_attach_child_common().  True on
 * success (then it is done).
 */
bool real_aio_change_parent_try(RealEdge *e, RealCtx *ctx);
/* The same where it cannot fail (undoing an attach). */
void real_aio_change_parent_force(RealEdge *e, RealCtx *ctx);

#endif
