/*
 * perm.c: permissions (see perm.h).
 *
 * Mirrors QEMU 7.2 block.c: bdrv_a_allow_b(), bdrv_parent_perms_conflict(),
 * bdrv_child_perm(), bdrv_topological_dfs(), bdrv_child_set_perm() and its
 * abort, bdrv_drv_set_perm() with the commit/abort actions,
 * bdrv_node_refresh_perm(), bdrv_list_refresh_perms(),
 * bdrv_get_cumulative_perm(), bdrv_perm_names(), bdrv_refresh_perms(),
 * bdrv_child_try_set_perm(), bdrv_filter_default_perms(),
 * bdrv_default_perms_for_cow/_for_storage(), bdrv_default_perms().
 */
#include "perm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "messages.h"
#include "nodedrv.h"
#include "reopen.h"
#include "tran.h"

void real_perm_cumulative(RealNode *n, uint64_t *perm, uint64_t *shared)
{
    uint64_t p = 0, s = REAL_PERM_ALL;
    for (RealEdge *e = n->parents; e; e = e->next_parent) {
        p |= e->c.perm;
        s &= e->c.shared_perm;
    }
    *perm = p;
    *shared = s;
}

char *real_perm_names(uint64_t perm)
{
    static const struct { uint64_t perm; const char *name; } names[] = {
        { REAL_PERM_CONSISTENT_READ, "consistent read" },
        { REAL_PERM_WRITE, "write" },
        { REAL_PERM_WRITE_UNCHANGED, "write unchanged" },
        { REAL_PERM_RESIZE, "resize" },
    };
    BgBuf b = { 0 };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (perm & names[i].perm) {
            if (b.len)
                bg_buf_puts(&b, ", ");
            bg_buf_puts(&b, names[i].name);
        }
    }
    return bg_buf_take(&b);
}

bool real_node_writable_after_reopen(RealNode *n, ReopenQueue *q)
{
    int flags = real_reopen_queue_flags(q, n);
    return (flags & (REAL_O_RDWR | REAL_O_INACTIVE)) == REAL_O_RDWR;
}

/* ---- default policies ----------------------------------------------------------- */

void real_filter_default_perms(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                               uint64_t perm, uint64_t shared, uint64_t *nperm,
                               uint64_t *nshared)
{
    *nperm = perm & REAL_PERM_PASSTHROUGH;
    *nshared = (shared & REAL_PERM_PASSTHROUGH) | REAL_PERM_UNCHANGED;
}

static void default_perms_for_cow(RealNode *n, uint64_t perm, uint64_t shared,
                                  uint64_t *nperm, uint64_t *nshared)
{
    perm &= REAL_PERM_CONSISTENT_READ;
    shared = (shared & REAL_PERM_WRITE) ? REAL_PERM_WRITE | REAL_PERM_RESIZE : 0;
    shared |= REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED;
    if (n->open_flags & REAL_O_INACTIVE)
        shared |= REAL_PERM_WRITE | REAL_PERM_RESIZE;
    *nperm = perm;
    *nshared = shared;
}

static void default_perms_for_storage(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                                      uint64_t perm, uint64_t shared, uint64_t *nperm,
                                      uint64_t *nshared)
{
    int flags = real_reopen_queue_flags(q, n);
    real_filter_default_perms(n, c, role, q, perm, shared, &perm, &shared);
    if (role & REAL_CHILD_METADATA) {
        if (real_node_writable_after_reopen(n, q))
            perm |= REAL_PERM_WRITE | REAL_PERM_RESIZE;
        if (!(flags & REAL_O_NO_IO))
            perm |= REAL_PERM_CONSISTENT_READ;
        shared &= ~(uint64_t)(REAL_PERM_WRITE | REAL_PERM_RESIZE);
    }
    if (role & REAL_CHILD_DATA) {
        shared &= ~(uint64_t)REAL_PERM_RESIZE;
        if (perm & REAL_PERM_WRITE_UNCHANGED)
            perm |= REAL_PERM_WRITE;
        if (perm & REAL_PERM_WRITE)
            perm |= REAL_PERM_RESIZE;
    }
    if (n->open_flags & REAL_O_INACTIVE)
        shared |= REAL_PERM_WRITE | REAL_PERM_RESIZE;
    *nperm = perm;
    *nshared = shared;
}

void real_default_perms(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                        uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    if (role & REAL_CHILD_FILTERED)
        real_filter_default_perms(n, c, role, q, perm, shared, nperm, nshared);
    else if (role & REAL_CHILD_COW)
        default_perms_for_cow(n, perm, shared, nperm, nshared);
    else
        default_perms_for_storage(n, c, role, q, perm, shared, nperm, nshared);
}

void real_perm_child_perm(RealNode *parent, RealNode *child, RealEdge *c, unsigned role,
                          ReopenQueue *q, uint64_t perm, uint64_t shared, uint64_t *nperm,
                          uint64_t *nshared)
{
    if (parent->drv && parent->drv->child_perm)
        parent->drv->child_perm(parent, c, role, q, perm, shared, nperm, nshared);
    else
        real_default_perms(parent, c, role, q, perm, shared, nperm, nshared);
    if (child && child->force_share)
        *nshared = REAL_PERM_ALL;
}

/* ---- topological lists -------------------------------------------------------- */

void real_node_list_init(RealNodeList *l, RealGraph *g)
{
    memset(l, 0, sizeof(*l));
    l->mark = real_graph_new_mark(g);
}

void real_node_list_cleanup(RealNodeList *l)
{
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void real_perm_topo_add(RealNodeList *l, RealNode *n)
{
    if (n->mark == l->mark)
        return;
    n->mark = l->mark;
    for (RealEdge *c = n->children; c; c = c->next_child)
        real_perm_topo_add(l, c->child);
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = bg_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = n;
}

/* ---- staged changes ----------------------------------------------------------- */

typedef struct EdgePermState {
    RealEdge *e;
    uint64_t old_perm, old_shared;
} EdgePermState;

static void edge_perm_abort(void *opaque)
{
    EdgePermState *s = opaque;
    s->e->c.perm = s->old_perm;
    s->e->c.shared_perm = s->old_shared;
}

static const TranActionDrv edge_perm_drv = { .abort = edge_perm_abort, .clean = free };

void real_perm_edge_set(RealEdge *e, uint64_t perm, uint64_t shared, Tran *tran)
{
    EdgePermState *s = bg_calloc(1, sizeof(*s));
    s->e = e;
    s->old_perm = e->c.perm;
    s->old_shared = e->c.shared_perm;
    e->c.perm = perm;
    e->c.shared_perm = shared;
    tran_add(tran, &edge_perm_drv, s);
}

static void drv_set_perm_commit(void *opaque)
{
    RealNode *n = opaque;
    if (n->drv && n->bs->drv && n->bs->drv->set_perm) {
        uint64_t perm, shared;
        real_perm_cumulative(n, &perm, &shared);
        n->bs->drv->set_perm(n->bs, perm, shared);
    }
}

static void drv_set_perm_abort(void *opaque)
{
    RealNode *n = opaque;
    if (n->drv && n->bs->drv && n->bs->drv->abort_perm_update)
        n->bs->drv->abort_perm_update(n->bs);
}

static const TranActionDrv drv_set_perm_drv = {
    .commit = drv_set_perm_commit, .abort = drv_set_perm_abort,
};

/* bdrv_a_allow_b(): does A share everything B needs? */
static bool a_allow_b(RealEdge *a, RealEdge *b, BgError *err)
{
    if ((b->c.perm & a->c.shared_perm) == b->c.perm)
        return true;
    const char *child = b->child->node_name;
    char *a_user = real_edge_parent_desc(a);
    char *b_user = real_edge_parent_desc(b);
    char *perms = real_perm_names(b->c.perm & ~a->c.shared_perm);
    bg_error_setf(err, BG_MSG_PERM_CONFLICT, child, perms, b_user, child, b->name, a_user,
                  child, a->name);
    free(a_user);
    free(b_user);
    free(perms);
    return false;
}

static bool parent_perms_conflict(RealNode *n, BgError *err)
{
    for (RealEdge *a = n->parents; a; a = a->next_parent)
        for (RealEdge *b = n->parents; b; b = b->next_parent)
            if (a != b && !a_allow_b(a, b, err))
                return true;
    return false;
}

static int node_refresh_perm(RealNode *n, ReopenQueue *q, Tran *tran, BgError *err)
{
    uint64_t perm, shared;
    real_perm_cumulative(n, &perm, &shared);

    if ((perm & (REAL_PERM_WRITE | REAL_PERM_WRITE_UNCHANGED)) &&
        !real_node_writable_after_reopen(n, q)) {
        if (!real_node_writable_after_reopen(n, NULL))
            bg_error_setf(err, BG_MSG_NODE_READ_ONLY);
        else
            bg_error_setf(err, BG_MSG_RO_NODE_RW_USERS, n->node_name);
        return -EPERM;
    }
    if ((perm & (REAL_PERM_WRITE | REAL_PERM_WRITE_UNCHANGED)) && !(perm & REAL_PERM_RESIZE)) {
        uint32_t align = n->bs->bl.request_alignment ? n->bs->bl.request_alignment : 1;
        if ((n->bs->total_sectors * BDRV_SECTOR_SIZE) % align) {
            bg_error_setf(err, BG_MSG_WRITE_WITHOUT_RESIZE);
            return -EPERM;
        }
    }
    if (!n->drv)
        return 0;
    if (n->bs->drv && n->bs->drv->check_perm) {
        BgError local = { 0 };
        int ret = n->bs->drv->check_perm(n->bs, perm, shared, &local);
        if (ret < 0) {
            /* raw_handle_perm_lock(): a lock held elsewhere gets a hint */
            if (!strncmp(local.text, "Failed to get ", 14)) {
                free(n->g->error_hint);
                n->g->error_hint = bg_asprintf(BG_MSG_FILE_LOCK_HINT, n->filename);
            }
            if (err && !err->set)
                *err = local;
            return ret;
        }
    }
    if (tran)
        tran_add(tran, &drv_set_perm_drv, n);
    for (RealEdge *c = n->children; c; c = c->next_child) {
        uint64_t cp, cs;
        real_perm_child_perm(n, c->child, c, c->c.role, q, perm, shared, &cp, &cs);
        real_perm_edge_set(c, cp, cs, tran);
    }
    return 0;
}

int real_perm_list_refresh(RealNodeList *l, ReopenQueue *q, Tran *tran, BgError *err)
{
    for (size_t i = l->n; i-- > 0;) {
        RealNode *n = l->v[i];
        if (parent_perms_conflict(n, err))
            return -EINVAL;
        int ret = node_refresh_perm(n, q, tran, err);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int real_perm_refresh_node(RealNode *n, BgError *err)
{
    Tran *tran = tran_new();
    RealNodeList l;
    real_node_list_init(&l, n->g);
    real_perm_topo_add(&l, n);
    int ret = real_perm_list_refresh(&l, NULL, tran, err);
    real_node_list_cleanup(&l);
    tran_finalize(tran, ret);
    return ret;
}

int real_perm_edge_try_set(RealEdge *e, uint64_t perm, uint64_t shared, BgError *err)
{
    BgError local = { 0 };
    Tran *tran = tran_new();
    uint64_t old_perm = e->c.perm, old_shared = e->c.shared_perm;
    real_perm_edge_set(e, perm, shared, tran);
    int ret = real_perm_refresh_node(e->child, &local);
    tran_finalize(tran, ret);
    if (ret < 0) {
        if ((perm & ~old_perm) || (old_shared & ~shared)) {
            if (err && !err->set)
                *err = local;
        } else {
            ret = 0;
        }
    }
    return ret;
}
