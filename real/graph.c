/*
 * graph.c: nodes, edges, names, references and op blockers (see graph.h).
 *
 * Mirrors QEMU 7.2 block.c: bdrv_new(), bdrv_assign_node_name() with
 * util/id.c id_wellformed()/id_generate() (the generated suffix is two
 * digits derived from the counter, not random: streams compare generated
 * names as equal anyway), bdrv_ref/unref/delete/close (children dropped
 * newest first), bdrv_replace_child_noperm() with bdrv_child_cb_attach/
 * detach (children inserted at the head, bs->file/bs->backing set by role,
 * the backing blocker of bdrv_backing_attach()), bdrv_attach_child_common
 * and _noperm, bdrv_remove_child, bdrv_unset_inherits_from,
 * bdrv_recurse_has_child, the bdrv_*_child helpers and op blockers, and
 * block/io.c bdrv_refresh_limits() for max_transfer.
 */
#include "graph.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aio.h"
#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "device.h"
#include "job.h"
#include "messages.h"
#include "nodedrv.h"
#include "object.h"
#include "perm.h"
#include "tran.h"

/* ---- the graph ---------------------------------------------------------------- */

RealGraph *real_graph_new(const char *dir)
{
    RealGraph *g = bg_calloc(1, sizeof(*g));
    g->dir = bg_strdup(dir ? dir : ".");
    g->index_size = 64;
    g->index = bg_calloc(g->index_size, sizeof(*g->index));
    g->events = json_array();
    g->event_times = json_object();
    return g;
}

void real_graph_event(RealGraph *g, const char *name, json_t *take_data)
{
    json_array_append_new(g->events, json_pack("{s:s,s:o}", "event", name, "data", take_data));
}

void real_graph_event_throttled(RealGraph *g, const char *name, const char *key,
                                json_t *take_data)
{
    char *k = bg_asprintf("%s/%s", name, key ? key : "");
    json_t *last = json_object_get(g->event_times, k);
    if (last && g->clock_ns - json_integer_value(last) < 1000000000LL) {
        json_decref(take_data);
    } else {
        json_object_set_new(g->event_times, k, json_integer(g->clock_ns));
        real_graph_event(g, name, take_data);
    }
    free(k);
}

char *real_graph_path(RealGraph *g, const char *name)
{
    if (!name || name[0] == '/' || !g->dir)
        return bg_strdup(name ? name : "");
    return bg_asprintf("%s/%s", g->dir, name);
}

unsigned real_graph_new_mark(RealGraph *g)
{
    if (++g->mark_gen == 0) {
        for (RealNode *n = g->head; n; n = n->list_next)
            n->mark = 0;
        g->mark_gen = 1;
    }
    return g->mark_gen;
}

static unsigned name_hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static void index_insert(RealGraph *g, RealNode *n)
{
    if (g->n_nodes + 1 > g->index_size) {
        unsigned size = g->index_size * 2;
        RealNode **idx = bg_calloc(size, sizeof(*idx));
        for (unsigned i = 0; i < g->index_size; i++) {
            RealNode *m = g->index[i];
            while (m) {
                RealNode *next = m->hash_next;
                unsigned b = name_hash(m->node_name) & (size - 1);
                m->hash_next = idx[b];
                idx[b] = m;
                m = next;
            }
        }
        free(g->index);
        g->index = idx;
        g->index_size = size;
    }
    unsigned b = name_hash(n->node_name) & (g->index_size - 1);
    n->hash_next = g->index[b];
    g->index[b] = n;
    g->n_nodes++;
}

static void index_remove(RealGraph *g, RealNode *n)
{
    RealNode **p = &g->index[name_hash(n->node_name) & (g->index_size - 1)];
    while (*p && *p != n)
        p = &(*p)->hash_next;
    if (*p) {
        *p = n->hash_next;
        g->n_nodes--;
    }
    n->hash_next = NULL;
}

RealNode *real_graph_find_node(RealGraph *g, const char *name)
{
    if (!name)
        return NULL;
    for (RealNode *n = g->index[name_hash(name) & (g->index_size - 1)]; n; n = n->hash_next)
        if (strcmp(n->node_name, name) == 0)
            return n;
    return NULL;
}

RealNode *real_graph_lookup(RealGraph *g, const char *device, const char *node_name,
                            BgError *err)
{
    if (device) {
        RealBlk *blk = real_blk_by_name(g, device);
        if (blk) {
            RealNode *n = real_blk_node(blk);
            if (!n) {
                bg_error_setf(err, BG_MSG_LOOKUP_NO_MEDIUM, device);
                return NULL;
            }
            return n;
        }
    }
    if (node_name) {
        RealNode *n = real_graph_find_node(g, node_name);
        if (n)
            return n;
    }
    bg_error_setf(err, BG_MSG_LOOKUP_BS, device ? device : "", node_name ? node_name : "");
    return NULL;
}

/* ---- nodes -------------------------------------------------------------------- */

/*
 * qcow2_signal_corruption()'s qapi_event_send_block_image_corrupted(): the
 * device name ("" without a named BlockBackend), the node name, the message,
 * the request's offset and size when there is one, and whether it is fatal.
 */
static void node_corrupted(RealBlockState *bs, const char *msg, int64_t offset, int64_t size,
                           bool fatal)
{
    RealNode *n = bs->graph;
    const char *dev = real_node_device_or_node_name(n);
    json_t *data = json_pack("{s:s,s:s,s:s,s:b}", "device", dev == n->node_name ? "" : dev,
                             "node-name", n->node_name, "msg", msg, "fatal", fatal);
    if (offset >= 0)
        json_object_set_new(data, "offset", json_integer(offset));
    if (size >= 0)
        json_object_set_new(data, "size", json_integer(size));
    real_graph_event(n->g, "BLOCK_IMAGE_CORRUPTED", data);
}

RealNode *real_node_new(RealGraph *g)
{
    RealNode *n = bg_calloc(1, sizeof(*n));
    n->g = g;
    n->bs = bdrv_new();
    if (!n->bs) {
        free(n);
        return NULL;
    }
    n->bs->graph = n;
    n->bs->corrupted = node_corrupted;
    n->refcnt = 1;
    n->node_name = bg_strdup("");
    n->filename = bg_strdup("");
    n->exact_filename = bg_strdup("");
    n->auto_backing_file = bg_strdup("");
    n->backing_file = bg_strdup("");
    n->backing_format = bg_strdup("");
    return n;
}

/* util/id.c id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!isalpha((unsigned char)id[0]))
        return false;
    for (int i = 1; id[i]; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("-._", id[i]))
            return false;
    return true;
}

bool real_node_assign_name(RealNode *n, const char *name, BgError *err)
{
    RealGraph *g = n->g;
    char *gen = NULL;
    if (!name) {
        /* util/id.c id_generate(): "#block" counter and two digits */
        uint64_t c = g->name_counter++;
        gen = bg_asprintf("#block%llu%02u", (unsigned long long)c, (unsigned)((c * 37 + 11) % 100));
        name = gen;
    } else if (!id_wellformed(name)) {
        return bg_error_setf(err, BG_MSG_INVALID_NODE_NAME, name);
    }
    if (real_blk_by_name(g, name)) {
        bg_error_setf(err, BG_MSG_NODE_NAME_CONFLICT, name);
        free(gen);
        return false;
    }
    if (real_graph_find_node(g, name)) {
        bg_error_setf(err, BG_MSG_DUPLICATE_NODE, name);
        free(gen);
        return false;
    }
    if (strlen(name) >= 32) {
        bg_error_setf(err, BG_MSG_NODE_NAME_TOO_LONG);
        free(gen);
        return false;
    }
    free(n->node_name);
    n->node_name = gen ? gen : bg_strdup(name);
    n->generated_name = gen != NULL;
    free(n->bs->node_name);
    n->bs->node_name = strdup(n->node_name);
    index_insert(g, n);
    n->list_prev = g->tail;
    n->list_next = NULL;
    if (g->tail)
        g->tail->list_next = n;
    else
        g->head = n;
    g->tail = n;
    n->in_list = true;
    return true;
}

void real_node_ref(RealNode *n)
{
    n->refcnt++;
}

void real_node_hold(RealNode *n)
{
    if (n) {
        n->refcnt++;
        n->extra_refs++;
    }
}

void real_node_release(RealNode *n)
{
    if (n) {
        n->extra_refs--;
        real_node_unref(n);
    }
}

static void node_unlist(RealNode *n)
{
    RealGraph *g = n->g;
    if (!n->in_list)
        return;
    index_remove(g, n);
    if (n->list_prev)
        n->list_prev->list_next = n->list_next;
    else
        g->head = n->list_next;
    if (n->list_next)
        n->list_next->list_prev = n->list_prev;
    else
        g->tail = n->list_prev;
    n->list_prev = n->list_next = NULL;
    n->in_list = false;
}

/* bdrv_close(): flush, close the driver, drop every child (newest first). */
static void node_close(RealNode *n)
{
    if (n->drv) {
        bdrv_flush(n->bs);
        bdrv_close(n->bs);
        n->drv = NULL;
    }
    while (n->children)
        real_edge_unref(n->children);
    while (n->blockers)
        real_node_op_unblock(n, n->blockers->owner);
    json_decref(n->options);
    json_decref(n->explicit_options);
    json_decref(n->full_open_options);
    n->options = n->explicit_options = n->full_open_options = NULL;
}

/* bdrv_delete() */
static void node_delete(RealNode *n)
{
    node_unlist(n);
    node_close(n);
    bdrv_free(n->bs);
    free(n->node_name);
    free(n->filename);
    free(n->exact_filename);
    free(n->auto_backing_file);
    free(n->backing_file);
    free(n->backing_format);
    free(n);
}

void real_node_unref(RealNode *n)
{
    if (!n)
        return;
    if (--n->refcnt == 0)
        node_delete(n);
}

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

const char *real_node_device_or_node_name(RealNode *n)
{
    /* bdrv_get_device_name(): the name of the first named BlockBackend parent */
    for (RealEdge *e = n->parents; e; e = e->next_parent) {
        if (e->kind == REAL_PARENT_BLK) {
            const char *name = real_blk_name(e->parent_blk);
            if (name && *name)
                return name;
        }
    }
    return n->node_name;
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

/* ---- op blockers --------------------------------------------------------------- */

void real_node_op_block(RealNode *n, unsigned ops, const void *owner, const char *reason)
{
    RealBlocker *b = bg_calloc(1, sizeof(*b));
    b->owner = owner;
    b->reason = bg_strdup(reason);
    b->ops = ops;
    b->next = n->blockers;
    n->blockers = b;
}

void real_node_op_unblock(RealNode *n, const void *owner)
{
    for (RealBlocker **pp = &n->blockers; *pp;) {
        RealBlocker *b = *pp;
        if (b->owner == owner) {
            *pp = b->next;
            free(b->reason);
            free(b);
        } else {
            pp = &b->next;
        }
    }
}

bool real_node_op_is_blocked(RealNode *n, RealOp op, BgError *err)
{
    for (RealBlocker *b = n->blockers; b; b = b->next) {
        if (b->ops & (1u << op)) {
            bg_error_setf(err, BG_MSG_NODE_BUSY, real_node_device_or_node_name(n), b->reason);
            return true;
        }
    }
    return false;
}

bool real_node_has_blk(RealNode *n)
{
    for (RealEdge *e = n->parents; e; e = e->next_parent)
        if (e->kind == REAL_PARENT_BLK)
            return true;
    /* bdrv_has_blk() also looks through filters above: only BlockBackend parents count */
    return false;
}

/* ---- freeing the whole graph -------------------------------------------------- */

void real_graph_free(RealGraph *g)
{
    if (!g)
        return;
    real_job_cancel_all(g);
    real_devices_free(g);
    real_blk_free_all(g);
    /* monitor references, then whatever remains (BlockBackends are gone) */
    while (g->monitor_head) {
        RealNode *n = g->monitor_head;
        g->monitor_head = n->monitor_next;
        n->monitor_owned = false;
        real_node_unref(n);
    }
    while (g->head) {
        RealNode *n = g->head;
        /* a node still referenced here is leaked by a bug; free it anyway */
        n->refcnt = 1;
        real_node_unref(n);
    }
    real_objects_free(g);
    json_decref(g->events);
    json_decref(g->event_times);
    free(g->error_hint);
    free(g->index);
    free(g->dir);
    free(g);
}
