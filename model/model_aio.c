/*
 * model_aio.c: AioContexts (iothreads) of nodes and what may move them.
 *
 * What this is: each node runs in the main loop or in an iothread.  When a
 * child is attached to a parent in another context, QEMU first tries to
 * move the child's whole connected subgraph (everything reachable through
 * parents and children, except through the new link) into the parent's
 * context, then the parent's subgraph into the child's; a BlockBackend of a
 * device refuses to move ("Cannot change iothread of active block
 * backend").  Both failing reports the first error.
 * What it is not: threads.  A context is a name.
 *
 * Mirrors QEMU 7.2.0 block.c bdrv_attach_child_common() and
 * bdrv_try_change_aio_context() / bdrv_change_aio_context(), and
 * block/block-backend.c blk_root_change_aio_ctx().
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"


static bool same_ctx(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The connected subgraph of N (ids), every edge followed both ways. */
static void component(const ModelWorld *w, const ModelNode *n, int **ids, size_t *len)
{
    for (size_t i = 0; i < *len; i++)
        if ((*ids)[i] == n->id)
            return;
    *ids = bg_realloc(*ids, (*len + 1) * sizeof(**ids));
    (*ids)[(*len)++] = n->id;
    for (size_t i = 0; i < n->n_children; i++)
        component(w, model_graph_node(w, n->children[i].node), ids, len);
    for (size_t i = 0; i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children; c++)
            if (w->nodes[i]->children[c].node == n->id)
                component(w, w->nodes[i], ids, len);
}

/* Can every node of N's subgraph go to CTX?  Then move them. */
static bool try_move(ModelWorld *w, ModelNode *n, const char *ctx)
{
    int *ids = NULL;
    size_t len = 0;
    component(w, n, &ids, &len);
    bool ok = true;
    for (size_t i = 0; i < len && ok; i++)
        for (size_t b = 0; b < w->n_blks; b++)
            if (w->blks[b].node == ids[i] && w->blks[b].kind == MODEL_BLK_DEVICE &&
                !same_ctx(w->blks[b].iothread, ctx))
                ok = false;
    for (size_t i = 0; i < len && ok; i++) {
        ModelNode *m = model_graph_node(w, ids[i]);
        free(m->iothread);
        m->iothread = ctx ? bg_strdup(ctx) : NULL;
    }
    free(ids);
    return ok;
}

bool model_aio_move(ModelWorld *w, ModelNode *n, const char *ctx, BgError *err)
{
    if (same_ctx(n->iothread, ctx) || try_move(w, n, ctx))
        return true;
    return bg_error_setf(err, BG_MSG_IOTHREAD_ACTIVE_BB);
}

/* Before PARENT takes CHILD (not yet linked). */
bool model_aio_attach(ModelWorld *w, ModelNode *parent, ModelNode *child, BgError *err)
{
    if (same_ctx(parent->iothread, child->iothread))
        return true;
    char *pctx = parent->iothread ? bg_strdup(parent->iothread) : NULL;
    char *cctx = child->iothread ? bg_strdup(child->iothread) : NULL;
    bool ok = try_move(w, child, pctx) || try_move(w, parent, cctx);
    free(pctx);
    free(cctx);
    return ok || bg_error_setf(err, BG_MSG_IOTHREAD_ACTIVE_BB);
}
