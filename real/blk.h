/*
 * blk.h: BlockBackends: the users of the graph that are not nodes
 * (guest devices, HMP qemu-io's temporary backend, block jobs).
 *
 * What this is: the graph-facing part of QEMU 7.2 block/block-backend.c:
 * blk_new(), blk_insert_bs() (a "root" edge, FILTERED|PRIMARY, with the
 * backend's permissions), blk_set_perm(), blk_unref(), blk_by_name(),
 * the parent description of bdrv_a_allow_b() messages and the AioContext
 * rule of blk_root_change_aio_ctx().
 * What it is not: I/O accounting, throttling of legacy -drive users,
 * write-cache emulation (query shows writeback true for every node).
 */
#ifndef REAL_BLK_H
#define REAL_BLK_H

#include <stdint.h>

#include "graph.h"

struct RealBlk {
    RealGraph *g;
    char *name;                  /* named BlockBackend (never created by streams), or NULL */
    char *dev_id;                /* the attached device's id or QOM path, or NULL */
    bool has_dev;                /* a guest device is attached */
    RealEdge *root;              /* the "root" edge, or NULL */
    uint64_t perm, shared_perm;
    RealCtx *ctx;
    bool allow_aio_context_change;
    RealBlk *next;
};

RealBlk *real_blk_new(RealGraph *g, RealCtx *ctx, uint64_t perm, uint64_t shared);
/* blk_insert_bs(): 0, or -EPERM with err (permission or context conflict). */
int real_blk_insert(RealBlk *blk, RealNode *n, BgError *err);
/* blk_remove_bs() and free. */
void real_blk_unref(RealBlk *blk);
/* blk_set_perm() */
int real_blk_set_perm(RealBlk *blk, uint64_t perm, uint64_t shared, BgError *err);

RealBlk *real_blk_by_name(RealGraph *g, const char *name);
RealNode *real_blk_node(RealBlk *blk);
const char *real_blk_name(RealBlk *blk);
char *real_blk_parent_desc(RealBlk *blk);
RealCtx *real_blk_ctx(RealBlk *blk);
void real_blk_set_ctx(RealBlk *blk, RealCtx *ctx);
/* blk_root_change_aio_ctx()'s test */
bool real_blk_allows_ctx_change(RealBlk *blk);
/* Called when the root edge gets its child (no-op hook for the root's bookkeeping). */
void real_blk_root_attached(RealBlk *blk, RealEdge *e);
void real_blk_free_all(RealGraph *g);

#endif
