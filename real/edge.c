/*
 * edge.c: child edges: attaching, replacing and removing them in a
 * transaction, inherits_from, the max_transfer limit taken from the
 * children, and the filter and backing-chain helpers (see graph.h).
 *
 * Mirrors QEMU 7.2 block.c: bdrv_replace_child_noperm() with
 * bdrv_child_cb_attach/detach (children inserted at the head,
 * bs->file/bs->backing set by role, the backing blocker of
 * bdrv_backing_attach()), bdrv_attach_child_common and _noperm,
 * bdrv_replace_child_tran, bdrv_remove_child, bdrv_root_unref_child,
 * bdrv_set/unset_inherits_from, bdrv_recurse_has_child, the bdrv_*_child
 * helpers, and block/io.c bdrv_refresh_limits() for max_transfer.
 * Not here: nodes, names, references and op blockers (graph.c); which
 * permissions an edge takes (perm.c); the checks of a file/backing change
 * and frozen links (child.c); moving every parent of a node (replace.c).
 */
#include "graph.h"

#include <stdlib.h>

#include "aio.h"
#include "bg.h"
#include "blk.h"
#include "job.h"
#include "messages.h"
#include "nodedrv.h"
#include "perm.h"
#include "tran.h"

/* ---- edges ------------------------------------------------------------------- */

char *real_edge_parent_desc(const RealEdge *e)
{
    switch (e->kind) {
    case REAL_PARENT_NODE:
        return bg_asprintf(BG_MSG_PARENT_DESC_NODE, e->parent_node->node_name);
    case REAL_PARENT_BLK:
        return real_blk_parent_desc(e->parent_blk);
    case REAL_PARENT_JOB:
        return real_job_parent_desc(e->parent_job);
    }
    return bg_strdup("");
}

/* bdrv_backing_attach(): block every op but stream and commit-target on the child. */
static void backing_attach(RealEdge *e)
{
    RealNode *parent = e->parent_node;
    char *reason = bg_asprintf(BG_MSG_BUSY_BACKING_HD, real_node_device_or_node_name(parent));
    real_node_op_block(e->child,
                       REAL_OP_ALL & ~(1u << REAL_OP_COMMIT_TARGET | 1u << REAL_OP_STREAM), e,
                       reason);
    free(reason);
    parent->open_flags &= ~REAL_O_NO_BACKING;
}

/* bdrv_child_cb_attach(): into the parent's children list and file/backing slots. */
static void child_cb_attach(RealEdge *e)
{
    RealNode *p = e->parent_node;
    p->data_gen++;
    e->next_child = p->children;
    p->children = e;
    if ((p->drv && p->drv->is_filter) || (e->c.role & REAL_CHILD_FILTERED)) {
        if (e->c.role & REAL_CHILD_PRIMARY) {
            if (p->drv && p->drv->filtered_child_is_backing)
                p->backing = e;
            else
                p->file = e;
        }
    } else if (e->c.role & REAL_CHILD_COW) {
        p->backing = e;
        backing_attach(e);
    } else if (e->c.role & REAL_CHILD_PRIMARY) {
        p->file = e;
    }
    p->bs->file = p->file ? &p->file->c : NULL;
    p->bs->backing = p->backing ? &p->backing->c : NULL;
}

/* bdrv_child_cb_detach() */
static void child_cb_detach(RealEdge *e)
{
    RealNode *p = e->parent_node;
    p->data_gen++;
    if (e == p->backing)
        real_node_op_unblock(e->child, e);
    for (RealEdge **pp = &p->children; *pp; pp = &(*pp)->next_child) {
        if (*pp == e) {
            *pp = e->next_child;
            break;
        }
    }
    e->next_child = NULL;
    if (e == p->backing)
        p->backing = NULL;
    else if (e == p->file)
        p->file = NULL;
    p->bs->file = p->file ? &p->file->c : NULL;
    p->bs->backing = p->backing ? &p->backing->c : NULL;
}

void real_edge_replace_noperm(RealEdge *e, RealNode *new_child)
{
    RealNode *old = e->child;
    if (old) {
        if (e->kind == REAL_PARENT_NODE)
            child_cb_detach(e);
        for (RealEdge **pp = &old->parents; *pp; pp = &(*pp)->next_parent) {
            if (*pp == e) {
                *pp = e->next_parent;
                break;
            }
        }
        e->next_parent = NULL;
    }
    e->child = new_child;
    e->c.bs = new_child ? new_child->bs : NULL;
    if (new_child) {
        e->next_parent = new_child->parents;
        new_child->parents = e;
        if (e->kind == REAL_PARENT_NODE)
            child_cb_attach(e);
        else if (e->kind == REAL_PARENT_BLK)
            real_blk_root_attached(e->parent_blk, e);
    }
}

static void edge_free(RealEdge *e)
{
    free(e->name);
    free(e);
}

/* ---- attach (bdrv_attach_child_common) ---------------------------------------- */

typedef struct AttachState {
    RealEdge *e;
    RealCtx *old_parent_ctx;
    RealCtx *old_child_ctx;
} AttachState;

static void attach_abort(void *opaque)
{
    AttachState *s = opaque;
    RealNode *child = s->e->child;
    real_edge_replace_noperm(s->e, NULL);
    if (real_node_ctx(child) != s->old_child_ctx)
        real_aio_try_change(child, s->old_child_ctx, NULL, NULL);
    if (real_edge_parent_ctx(s->e) != s->old_parent_ctx)
        real_aio_change_parent_force(s->e, s->old_parent_ctx);
    real_node_unref(child);
    edge_free(s->e);
}

static const TranActionDrv attach_drv = { .abort = attach_abort, .clean = free };

RealEdge *real_edge_attach(RealNode *child, const char *name, unsigned role, uint64_t perm,
                           uint64_t shared, RealParentKind kind, void *parent, Tran *tran,
                           BgError *err)
{
    RealEdge *e = bg_calloc(1, sizeof(*e));
    e->name = bg_strdup(name);
    e->c.name = e->name;
    e->c.role = role;
    e->c.perm = perm;
    e->c.shared_perm = shared;
    e->kind = kind;
    if (kind == REAL_PARENT_NODE) {
        e->parent_node = parent;
        e->c.parent = e->parent_node->bs;
    } else if (kind == REAL_PARENT_BLK) {
        e->parent_blk = parent;
    } else {
        e->parent_job = parent;
    }

    /* If the contexts differ, move the child's subtree, else the parent side. */
    RealCtx *parent_ctx = real_edge_parent_ctx(e);
    RealCtx *child_ctx = real_node_ctx(child);
    if (child_ctx != parent_ctx) {
        BgError local = { 0 };
        int ret = real_aio_try_change(child, parent_ctx, NULL, &local);
        if (ret < 0 && real_aio_change_parent_try(e, child_ctx))
            ret = 0;
        if (ret < 0) {
            if (err && !err->set)
                *err = local;
            edge_free(e);
            return NULL;
        }
    }

    real_node_ref(child);
    real_edge_replace_noperm(e, child);

    AttachState *s = bg_calloc(1, sizeof(*s));
    s->e = e;
    s->old_parent_ctx = parent_ctx;
    s->old_child_ctx = child_ctx;
    tran_add(tran, &attach_drv, s);
    return e;
}

RealEdge *real_edge_attach_to_node(RealNode *parent, RealNode *child, const char *name,
                                   unsigned role, Tran *tran, BgError *err)
{
    if (real_node_has_child_recursive(child, parent)) {
        bg_error_setf(err, BG_MSG_CHILD_CYCLE, child->node_name, name, parent->node_name);
        return NULL;
    }
    uint64_t perm, shared;
    real_perm_cumulative(parent, &perm, &shared);
    real_perm_child_perm(parent, child, NULL, role, NULL, perm, shared, &perm, &shared);
    return real_edge_attach(child, name, role, perm, shared, REAL_PARENT_NODE, parent, tran,
                            err);
}

/* ---- replace / remove in a transaction ---------------------------------------- */

typedef struct ReplaceState {
    RealEdge *e;
    RealNode *old;
} ReplaceState;

static void replace_commit(void *opaque)
{
    ReplaceState *s = opaque;
    real_node_unref(s->old);
}

static void replace_abort(void *opaque)
{
    ReplaceState *s = opaque;
    RealNode *new_child = s->e->child;
    real_edge_replace_noperm(s->e, s->old);
    real_node_unref(new_child);
}

static const TranActionDrv replace_drv = {
    .commit = replace_commit, .abort = replace_abort, .clean = free,
};

void real_edge_replace_tran(RealEdge *e, RealNode *new_child, Tran *tran)
{
    ReplaceState *s = bg_calloc(1, sizeof(*s));
    s->e = e;
    s->old = e->child;
    tran_add(tran, &replace_drv, s);
    if (new_child)
        real_node_ref(new_child);
    real_edge_replace_noperm(e, new_child);
}

static void remove_commit(void *opaque)
{
    edge_free(opaque);
}

static const TranActionDrv remove_drv = { .commit = remove_commit };

void real_edge_remove_tran(RealEdge *e, Tran *tran)
{
    if (!e)
        return;
    if (e->child)
        real_edge_replace_tran(e, NULL, tran);
    tran_add(tran, &remove_drv, e);
}

/* bdrv_detach_child() + bdrv_unref() */
void real_edge_unref(RealEdge *e)
{
    RealNode *old = e->child;
    if (e->kind == REAL_PARENT_NODE)
        real_edge_unset_inherits_from(e->parent_node, e, NULL);
    real_edge_replace_noperm(e, NULL);
    edge_free(e);
    if (old) {
        real_perm_refresh_node(old, NULL);
        real_aio_try_change(old, NULL, NULL, NULL);
        real_node_unref(old);
    }
}

/* ---- inherits_from ---------------------------------------------------------- */

typedef struct InheritsState {
    RealNode *n;
    RealNode *old;
} InheritsState;

static void inherits_abort(void *opaque)
{
    InheritsState *s = opaque;
    s->n->inherits_from = s->old;
}

static const TranActionDrv inherits_drv = { .abort = inherits_abort, .clean = free };

void real_node_set_inherits_from(RealNode *n, RealNode *from, Tran *tran)
{
    if (tran) {
        InheritsState *s = bg_calloc(1, sizeof(*s));
        s->n = n;
        s->old = n->inherits_from;
        tran_add(tran, &inherits_drv, s);
    }
    n->inherits_from = from;
}

typedef struct LimitsState {
    RealNode *n;
    uint64_t old_max_transfer;
} LimitsState;

static void limits_abort(void *opaque)
{
    LimitsState *s = opaque;
    if (s->n->bs)
        s->n->bs->bl.max_transfer = s->old_max_transfer;
}

static const TranActionDrv limits_drv = { .abort = limits_abort, .clean = free };

/* bdrv_refresh_limits(): bdrv_merge_limits() of every DATA, FILTERED or COW
 * child (MIN_NON_ZERO of max_transfer), then the driver's override
 * (blkdebug_refresh_limits()) */
void real_node_refresh_limits(RealNode *n, Tran *tran)
{
    if (!n->bs || !n->drv)
        return;
    if (tran) {
        LimitsState *s = bg_calloc(1, sizeof(*s));
        s->n = n;
        s->old_max_transfer = n->bs->bl.max_transfer;
        tran_add(tran, &limits_drv, s);
    }
    uint64_t mt = 0;
    for (RealEdge *c = n->children; c; c = c->next_child) {
        if (!c->child || !c->child->bs ||
            !(c->c.role & (REAL_CHILD_DATA | REAL_CHILD_FILTERED | REAL_CHILD_COW)))
            continue;
        uint64_t v = c->child->bs->bl.max_transfer;
        if (v && (!mt || v < mt))
            mt = v;
    }
    if (n->bs->drv_max_transfer)
        mt = n->bs->drv_max_transfer;
    n->bs->bl.max_transfer = mt;
}

void real_edge_unset_inherits_from(RealNode *root, RealEdge *child, Tran *tran)
{
    if (!child->child)
        return;
    if (child->child->inherits_from == root) {
        RealEdge *c;
        for (c = root->children; c; c = c->next_child)
            if (c != child && c->child == child->child)
                break;
        if (!c)
            real_node_set_inherits_from(child->child, NULL, tran);
    }
    for (RealEdge *c = child->child->children; c; c = c->next_child)
        real_edge_unset_inherits_from(root, c, tran);
}

bool real_node_has_child_recursive(RealNode *n, RealNode *child)
{
    if (n == child)
        return true;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (real_node_has_child_recursive(c->child, child))
            return true;
    return false;
}

/* ---- chain helpers ------------------------------------------------------------- */

bool real_node_is_filter(const RealNode *n)
{
    return n->drv && n->drv->is_filter;
}

RealEdge *real_node_cow_child(RealNode *n)
{
    if (!n->drv || n->drv->is_filter)
        return NULL;
    return n->backing;
}

RealEdge *real_node_filter_child(RealNode *n)
{
    if (!n->drv || !n->drv->is_filter)
        return NULL;
    return n->backing ? n->backing : n->file;
}

RealEdge *real_node_filter_or_cow_child(RealNode *n)
{
    RealEdge *c = real_node_cow_child(n);
    return c ? c : real_node_filter_child(n);
}

RealEdge *real_node_primary_child(RealNode *n)
{
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (c->c.role & REAL_CHILD_PRIMARY)
            return c;
    return NULL;
}

RealNode *real_node_filter_or_cow_bs(RealNode *n)
{
    RealEdge *c = real_node_filter_or_cow_child(n);
    return c ? c->child : NULL;
}

RealNode *real_node_skip_implicit_filters(RealNode *n)
{
    while (n && n->drv && n->implicit && n->drv->is_filter) {
        RealEdge *c = real_node_filter_child(n);
        if (!c)
            break;
        n = c->child;
    }
    return n;
}

RealNode *real_node_skip_filters(RealNode *n)
{
    while (n && real_node_is_filter(n)) {
        RealEdge *c = real_node_filter_child(n);
        if (!c)
            break;
        n = c->child;
    }
    return n;
}

RealNode *real_node_backing_chain_next(RealNode *n)
{
    RealEdge *c = real_node_cow_child(real_node_skip_filters(n));
    return real_node_skip_filters(c ? c->child : NULL);
}
