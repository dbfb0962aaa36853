/*
 * blk.c: BlockBackends (see blk.h).
 *
 * Mirrors QEMU 7.2 block/block-backend.c blk_new(), blk_insert_bs(),
 * blk_remove_bs(), blk_set_perm(), blk_root_get_parent_desc() and
 * blk_root_change_aio_ctx(), and block.c bdrv_root_attach_child().
 */
#include "blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aio.h"
#include "bg.h"
#include "messages.h"
#include "perm.h"
#include "tran.h"

RealBlk *real_blk_new(RealGraph *g, RealCtx *ctx, uint64_t perm, uint64_t shared)
{
    RealBlk *blk = bg_calloc(1, sizeof(*blk));
    blk->g = g;
    blk->ctx = ctx;
    blk->perm = perm;
    blk->shared_perm = shared;
    RealBlk **pp = &g->blks;
    while (*pp)
        pp = &(*pp)->next;
    *pp = blk;
    return blk;
}

int real_blk_insert(RealBlk *blk, RealNode *n, BgError *err)
{
    Tran *tran = tran_new();
    real_node_ref(n);
    RealEdge *e = real_edge_attach(n, "root", REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY,
                                   blk->perm, blk->shared_perm, REAL_PARENT_BLK, blk, tran,
                                   err);
    int ret = e ? real_perm_refresh_node(n, err) : -EINVAL;
    tran_finalize(tran, ret);
    real_node_unref(n);
    if (ret < 0)
        return -EPERM;
    blk->root = e;
    return 0;
}

static void remove_bs(RealBlk *blk)
{
    if (!blk->root)
        return;
    RealEdge *e = blk->root;
    blk->root = NULL;
    real_edge_unref(e);
}

void real_blk_unref(RealBlk *blk)
{
    if (!blk)
        return;
    remove_bs(blk);
    for (RealBlk **pp = &blk->g->blks; *pp; pp = &(*pp)->next) {
        if (*pp == blk) {
            *pp = blk->next;
            break;
        }
    }
    free(blk->name);
    free(blk->dev_id);
    free(blk);
}

int real_blk_set_perm(RealBlk *blk, uint64_t perm, uint64_t shared, BgError *err)
{
    if (blk->root) {
        int ret = real_perm_edge_try_set(blk->root, perm, shared, err);
        if (ret < 0)
            return ret;
    }
    blk->perm = perm;
    blk->shared_perm = shared;
    return 0;
}

RealBlk *real_blk_by_name(RealGraph *g, const char *name)
{
    for (RealBlk *b = g->blks; b; b = b->next)
        if (b->name && strcmp(b->name, name) == 0)
            return b;
    return NULL;
}

RealNode *real_blk_node(RealBlk *blk)
{
    return blk->root ? blk->root->child : NULL;
}

const char *real_blk_name(RealBlk *blk)
{
    return blk->name ? blk->name : "";
}

char *real_blk_parent_desc(RealBlk *blk)
{
    if (blk->name)
        return bg_asprintf(BG_MSG_PARENT_DESC_BLK, blk->name);
    if (blk->has_dev && blk->dev_id && *blk->dev_id)
        return bg_asprintf(BG_MSG_PARENT_DESC_BLK, blk->dev_id);
    return bg_strdup(BG_MSG_PARENT_DESC_UNNAMED_BLK);
}

RealCtx *real_blk_ctx(RealBlk *blk)
{
    return blk->ctx;
}

void real_blk_set_ctx(RealBlk *blk, RealCtx *ctx)
{
    blk->ctx = ctx;
}

bool real_blk_allows_ctx_change(RealBlk *blk)
{
    if (blk->allow_aio_context_change)
        return true;
    return blk->name && !blk->has_dev;
}

void real_blk_root_attached(RealBlk *blk, RealEdge *e)
{
    (void)blk;
    (void)e;
}

void real_blk_free_all(RealGraph *g)
{
    while (g->blks)
        real_blk_unref(g->blks);
}
