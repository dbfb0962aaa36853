/*
 * model_perm.c: permissions, recomputed from scratch.
 *
 * What this is: every edge's (perm, shared) computed top-down in
 * topological order from the roots (BlockBackends of devices and jobs,
 * parentless nodes), with each driver's child_perm rule; then the checks
 * QEMU makes node by node: a conflict between two parents (every ordered
 * pair, the node's parents newest first), then write permissions on a
 * read-only node.  The first error wins.
 * What it is not: incremental.  No permission is ever stored between
 * steps except as the result of the last full computation.
 *
 * Mirrors QEMU 7.2.0 block.c bdrv_get_cumulative_perm(),
 * bdrv_parent_perms_conflict() / bdrv_a_allow_b(), bdrv_node_refresh_perm(),
 * bdrv_list_refresh_perms(), bdrv_topological_dfs(), bdrv_perm_names(),
 * bdrv_default_perms() (filter / cow / storage), bdrv_child_perm() (a
 * force-share child shares everything), raw_child_perm(), cor_child_perm(),
 * blkdebug_child_perm(), quorum_child_perm(),
 * bdrv_commit_top_child_perm(), bdrv_mirror_top_child_perm(),
 * block/file-posix.c raw_check_lock_bytes() / raw_handle_perm_lock() (image
 * locking between file nodes of one image), and hw/block/block.c
 * blkconf_apply_backend_options() for devices.
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

/* block-common.h: every permission passes through a default filter, so
 * DEFAULT_PERM_UNCHANGED, shared whatever the parents share, is empty in
 * 7.2 (the old BLK_PERM_GRAPH_MOD was the one it held): a child shares
 * exactly what its parents share */
#define DEFAULT_PERM_PASSTHROUGH MODEL_PERM_ALL
/* copy-on-read.c: "write unchanged" is not passed through but always shared */
#define COR_PERM_PASSTHROUGH (MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE | MODEL_PERM_RESIZE)
#define COR_PERM_UNCHANGED (MODEL_PERM_ALL & ~COR_PERM_PASSTHROUGH)

char *model_perm_names(unsigned perm)
{
    static const struct { unsigned perm; const char *name; } names[] = {
        { MODEL_PERM_CONSISTENT_READ, "consistent read" },
        { MODEL_PERM_WRITE, "write" },
        { MODEL_PERM_WRITE_UNCHANGED, "write unchanged" },
        { MODEL_PERM_RESIZE, "resize" },
    };
    BgBuf b = {0};
    for (size_t i = 0; i < 4; i++) {
        if (perm & names[i].perm) {
            if (b.len)
                bg_buf_puts(&b, ", ");
            bg_buf_puts(&b, names[i].name);
        }
    }
    return bg_buf_take(&b);
}

/* bdrv_topological_dfs(): prepend N's subtree, children first visited. */
void model_perm_topo(const ModelWorld *w, const ModelNode *n, int **list, size_t *len)
{
    for (size_t i = 0; i < *len; i++)
        if ((*list)[i] == n->id)
            return;
    /* mark as found: QEMU adds to `found` before recursing; a placeholder
     * at the end keeps the lookup above honest until the prepend below */
    *list = bg_realloc(*list, (*len + 1) * sizeof(**list));
    (*list)[(*len)++] = n->id;
    for (size_t i = 0; i < n->n_children; i++)
        model_perm_topo(w, model_graph_node(w, n->children[i].node), list, len);
    /* move N from its placeholder slot to the front */
    size_t at = 0;
    while ((*list)[at] != n->id)
        at++;
    memmove(&(*list)[1], &(*list)[0], at * sizeof(**list));
    (*list)[0] = n->id;
}

static void filter_perms(unsigned perm, unsigned shared, unsigned *np, unsigned *ns)
{
    *np = perm & DEFAULT_PERM_PASSTHROUGH;
    *ns = shared & DEFAULT_PERM_PASSTHROUGH;
}

/* bdrv_default_perms() */
static void default_perms(const ModelNode *bs, unsigned role, unsigned perm, unsigned shared,
                          unsigned *np, unsigned *ns)
{
    if (role & MODEL_ROLE_FILTERED) {
        filter_perms(perm, shared, np, ns);
    } else if (role & MODEL_ROLE_COW) {
        perm &= MODEL_PERM_CONSISTENT_READ;
        shared = (shared & MODEL_PERM_WRITE) ? MODEL_PERM_WRITE | MODEL_PERM_RESIZE : 0;
        shared |= MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED;
        *np = perm;
        *ns = shared;
    } else {
        filter_perms(perm, shared, &perm, &shared);
        if (role & MODEL_ROLE_METADATA) {
            if (!bs->read_only)
                perm |= MODEL_PERM_WRITE | MODEL_PERM_RESIZE;
            perm |= MODEL_PERM_CONSISTENT_READ;
            shared &= ~(unsigned)(MODEL_PERM_WRITE | MODEL_PERM_RESIZE);
        }
        if (role & MODEL_ROLE_DATA) {
            shared &= ~(unsigned)MODEL_PERM_RESIZE;
            if (perm & MODEL_PERM_WRITE_UNCHANGED)
                perm |= MODEL_PERM_WRITE;
            if (perm & MODEL_PERM_WRITE)
                perm |= MODEL_PERM_RESIZE;
        }
        *np = perm;
        *ns = shared;
    }
}

/* The driver's bdrv_child_perm(). */
static void child_perm(const ModelNode *bs, const ModelChild *c, unsigned perm, unsigned shared,
                       unsigned *np, unsigned *ns)
{
    const char *d = bs->drv->name;
    if (strcmp(d, "raw") == 0) {
        default_perms(bs, c->role, perm, shared, np, ns);
        *np &= ~(unsigned)(MODEL_PERM_WRITE | MODEL_PERM_RESIZE);
        *np |= perm & (MODEL_PERM_WRITE | MODEL_PERM_RESIZE);
    } else if (strcmp(d, "copy-on-read") == 0) {
        *np = (perm & COR_PERM_PASSTHROUGH) | MODEL_PERM_WRITE_UNCHANGED;
        *ns = (shared & COR_PERM_PASSTHROUGH) | COR_PERM_UNCHANGED;
    } else if (strcmp(d, "blkdebug") == 0) {
        default_perms(bs, c->role, perm, shared, np, ns);
        *np |= bs->take_perms;
        *ns &= ~bs->unshare_perms;
    } else if (strcmp(d, "quorum") == 0) {
        *np = perm & DEFAULT_PERM_PASSTHROUGH;
        if (bs->rewrite_corrupted)
            *np |= MODEL_PERM_WRITE;
        *ns = shared & (MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED);
    } else if (strcmp(d, "commit_top") == 0) {
        *np = 0;
        *ns = MODEL_PERM_ALL;
    } else if (strcmp(d, "mirror_top") == 0) {
        /* bdrv_mirror_top_child_perm(), commit (is_commit) job running */
        default_perms(bs, c->role, perm, shared, np, ns);
        *np &= ~(unsigned)MODEL_PERM_CONSISTENT_READ;
        *ns |= MODEL_PERM_WRITE;
    } else {
        default_perms(bs, c->role, perm, shared, np, ns);
    }
}

/* A parent of a node: a child edge or a BlockBackend. */
typedef struct Parent {
    uint64_t seq;
    unsigned perm, shared;
    const ModelNode *node;    /* parent node, or NULL for a BlockBackend */
    const ModelBlk *blk;
    const char *child_name;   /* link name ("file", "root") */
} Parent;

static int cmp_parent(const void *a, const void *b)
{
    const Parent *x = a, *y = b;
    return x->seq > y->seq ? -1 : x->seq < y->seq ? 1 : 0;
}

/* The parents of N, newest first. */
static Parent *parents_of(const ModelWorld *w, const ModelNode *n, size_t *count)
{
    Parent *p = NULL;
    size_t k = 0;
    for (size_t i = 0; i < w->n_nodes; i++) {
        const ModelNode *pn = w->nodes[i];
        for (size_t c = 0; c < pn->n_children; c++) {
            const ModelChild *ch = &pn->children[c];
            if (ch->node != n->id)
                continue;
            p = bg_realloc(p, (k + 1) * sizeof(*p));
            p[k++] = (Parent){ ch->seq, ch->perm, ch->shared, pn, NULL, ch->name };
        }
    }
    for (size_t i = 0; i < w->n_blks; i++) {
        const ModelBlk *b = &w->blks[i];
        if (b->node != n->id)
            continue;
        p = bg_realloc(p, (k + 1) * sizeof(*p));
        p[k++] = (Parent){ b->seq, b->perm, b->shared, NULL, b, b->child_name ? b->child_name : "root" };
    }
    if (k > 1)
        qsort(p, k, sizeof(*p), cmp_parent);
    *count = k;
    return p;
}

/* bdrv_get_cumulative_perm(): a union and an intersection over N's parents,
 * so their order does not matter and no list of them is made (it is called
 * for every node, often several times, in each refresh) */
void model_perm_cumulative(const ModelWorld *w, const ModelNode *n, unsigned *perm, unsigned *shared)
{
    *perm = 0;
    *shared = MODEL_PERM_ALL;
    for (size_t i = 0; i < w->n_nodes; i++) {
        for (size_t c = 0; c < w->nodes[i]->n_children; c++) {
            const ModelChild *ch = &w->nodes[i]->children[c];
            if (ch->node == n->id) {
                *perm |= ch->perm;
                *shared &= ch->shared;
            }
        }
    }
    for (size_t i = 0; i < w->n_blks; i++) {
        if (w->blks[i].node == n->id) {
            *perm |= w->blks[i].perm;
            *shared &= w->blks[i].shared;
        }
    }
}

/* bdrv_child_user_desc(): "node 'X'", a BlockBackend's description
 * (blk_root_get_parent_desc(): a device's id, else unnamed) or a job's
 * (child_job_get_parent_desc()). */
static char *user_desc(const ModelWorld *w, const Parent *p)
{
    if (p->node)
        return bg_asprintf(BG_MSG_PARENT_DESC_NODE, p->node->name);
    if (p->blk->kind == MODEL_BLK_JOB_CHILD) {
        const ModelJob *j = model_graph_job(w, p->blk->owner);
        return bg_asprintf(BG_MSG_PARENT_DESC_JOB,
                           j && j->type == MODEL_JOB_STREAM ? "stream" : "commit",
                           p->blk->owner);
    }
    if (p->blk->kind == MODEL_BLK_DEVICE && p->blk->owner)
        return bg_asprintf(BG_MSG_PARENT_DESC_BLK, p->blk->owner);
    return bg_strdup(BG_MSG_PARENT_DESC_UNNAMED_BLK);
}

static bool check_conflicts(const ModelWorld *w, const ModelNode *n, BgError *err)
{
    size_t k;
    Parent *p = parents_of(w, n, &k);
    bool ok = true;
    for (size_t a = 0; a < k && ok; a++) {
        for (size_t b = 0; b < k && ok; b++) {
            if (a == b || (p[b].perm & p[a].shared) == p[b].perm)
                continue;
            char *perms = model_perm_names(p[b].perm & ~p[a].shared);
            char *au = user_desc(w, &p[a]), *bu = user_desc(w, &p[b]);
            bg_error_setf(err, BG_MSG_PERM_CONFLICT, n->name, perms, bu, n->name, p[b].child_name,
                          au, n->name, p[a].child_name);
            free(perms);
            free(au);
            free(bu);
            ok = false;
        }
    }
    free(p);
    return ok;
}

/* bdrv_node_refresh_perm(): write permissions never work with read-only nodes. */
/* file-posix's image locking (locking=auto means on here: OFD locks). */
static bool locks(const ModelNode *n)
{
    const char *l = model_qdict_get_str(n->options, "locking");
    return strcmp(n->drv->name, "file") == 0 && n->filename && !(l && strcmp(l, "off") == 0);
}

/* One permission refresh: the world before it (a reopen's, or NULL) and
 * the nodes checked so far. */
typedef struct Refresh {
    const ModelWorld *old;
    int *checked;
    size_t n_checked;
} Refresh;

static bool was_checked(const Refresh *r, int id)
{
    for (size_t i = 0; i < r->n_checked; i++)
        if (r->checked[i] == id)
            return true;
    return false;
}

/* The lock bytes of PERM and of what SHARED does not share against those
 * the other file descriptions hold: the first clash in raw_check_lock_bytes()'s
 * order (taken permissions, then unshared ones) sets ERR.  True on a clash. */
static bool lock_clash(unsigned perm, unsigned shared, unsigned others_perm,
                       unsigned others_unshared, BgError *err)
{
    for (int pass = 0; pass < 2; pass++) {
        for (unsigned bit = 1; bit <= MODEL_PERM_RESIZE; bit <<= 1) {
            bool clash = pass == 0 ? (perm & bit) && (others_unshared & bit)
                                   : !(shared & bit) && (others_perm & bit);
            if (!clash)
                continue;
            char *name = model_perm_names(bit);
            bg_error_setf(err, pass == 0 ? BG_MSG_FILE_LOCK_GET : BG_MSG_FILE_LOCK_GET_SHARED, name);
            free(name);
            return true;
        }
    }
    return false;
}

/* raw_check_lock_bytes(): every other file node of the same image has its
 * own open file description holding a lock byte per permission it takes
 * and one per permission it does not share.  N may take no permission
 * another unshares, and unshare none another takes.  raw_handle_perm_lock()
 * (RAW_PL_PREPARE) checks nothing when N takes nothing new and unshares
 * nothing new; another node holds the locks of the last refresh that
 * succeeded (nothing is released before the commit), plus its new ones once
 * it was checked (RAW_PL_PREPARE takes the union): a file child cannot move
 * to another file node of the image while the old one still holds "write",
 * and a node whose locks stay is not checked against the new locks of a
 * node after it. */
static bool check_locks(const ModelWorld *w, const Refresh *r, const ModelNode *n, unsigned perm,
                        unsigned shared, char **hint, BgError *err)
{
    if (!locks(n))
        return true;
    if ((n->lock_perm | perm) == n->lock_perm && (n->lock_shared & shared) == n->lock_shared)
        return true;
    unsigned others_perm = 0, others_unshared = 0;
    for (size_t i = 0; i < w->n_nodes; i++) {
        const ModelNode *o = w->nodes[i];
        if (o == n || !locks(o) || strcmp(o->filename, n->filename) != 0)
            continue;
        unsigned p = o->lock_perm, sh = o->lock_shared;
        if (was_checked(r, o->id)) {
            unsigned np, nsh;
            model_perm_cumulative(w, o, &np, &nsh);
            p |= np;
            sh &= nsh;
        }
        others_perm |= p;
        others_unshared |= MODEL_PERM_ALL & ~sh;
    }
    if (!lock_clash(perm, shared, others_perm, others_unshared, err))
        return true;
    if (hint)
        *hint = bg_asprintf(BG_MSG_FILE_LOCK_HINT "\n", n->filename);
    return false;
}

bool model_perm_other_locks(const ModelWorld *w, const char *path, unsigned perm, unsigned shared,
                            BgError *err)
{
    unsigned others_perm = 0, others_unshared = 0;
    for (size_t i = 0; w && i < w->n_nodes; i++) {
        const ModelNode *o = w->nodes[i];
        if (!locks(o) || strcmp(o->filename, path) != 0)
            continue;
        others_perm |= o->lock_perm;
        others_unshared |= MODEL_PERM_ALL & ~o->lock_shared;
    }
    return !lock_clash(perm, shared, others_perm, others_unshared, err);
}

bool model_perm_create_locks(const ModelWorld *w, const char *path, BgError *err)
{
    return model_perm_other_locks(w, path, MODEL_PERM_WRITE | MODEL_PERM_RESIZE,
                                  MODEL_PERM_ALL & ~MODEL_PERM_RESIZE, err);
}

static bool check_node(const ModelWorld *w, const Refresh *r, const ModelNode *n, char **hint,
                       BgError *err)
{
    const ModelWorld *old = r->old;
    unsigned perm, shared;
    model_perm_cumulative(w, n, &perm, &shared);
    if ((perm & (MODEL_PERM_WRITE | MODEL_PERM_WRITE_UNCHANGED)) && n->read_only) {
        const ModelNode *was = old ? model_graph_node(old, n->id) : NULL;
        if (!was || was->read_only)
            return bg_error_setf(err, BG_MSG_NODE_READ_ONLY);
        return bg_error_setf(err, BG_MSG_RO_NODE_RW_USERS, n->name);
    }
    /* unaligned writes at the end would have to grow the image: only
     * blkdebug's align makes request_alignment more than 1 here; WRITE and
     * WRITE_UNCHANGED alike (copy-on-read takes the latter), the length in
     * whole sectors (total_sectors * BDRV_SECTOR_SIZE) */
    if ((perm & (MODEL_PERM_WRITE | MODEL_PERM_WRITE_UNCHANGED)) && !(perm & MODEL_PERM_RESIZE) &&
        n->align > 1 && ((n->total + 511) / 512 * 512) % n->align)
        return bg_error_setf(err, BG_MSG_WRITE_WITHOUT_RESIZE);
    /* the driver's check_perm */
    return check_locks(w, r, n, perm, shared, hint, err);
}

/* Compute every edge from scratch, parents before children. */
static void compute(ModelWorld *w)
{
    int *order = NULL;
    size_t len = 0;
    /* roots first: nodes without parent edges, in list order; their
     * subtrees are topologically sorted, so every parent precedes its child */
    for (size_t i = 0; i < w->n_nodes; i++) {
        bool has_parent = false;
        for (size_t j = 0; j < w->n_nodes && !has_parent; j++)
            for (size_t c = 0; c < w->nodes[j]->n_children && !has_parent; c++)
                has_parent = w->nodes[j]->children[c].node == w->nodes[i]->id;
        if (!has_parent)
            model_perm_topo(w, w->nodes[i], &order, &len);
    }
    /* model_perm_topo() prepends: the last root's tree comes first; any
     * order in which each node follows all its parents works here, and a
     * DFS post-order reversed is one (a DAG: each prepend puts a node
     * before everything reachable from it). */
    for (size_t i = 0; i < len; i++) {
        ModelNode *n = model_graph_node(w, order[i]);
        unsigned perm, shared;
        model_perm_cumulative(w, n, &perm, &shared);
        for (size_t c = 0; c < n->n_children; c++) {
            ModelChild *ch = &n->children[c];
            unsigned np, ns;
            child_perm(n, ch, perm, shared, &np, &ns);
            if (model_graph_node(w, ch->node)->force_share)
                ns = MODEL_PERM_ALL;
            ch->perm = np;
            ch->shared = ns;
        }
    }
    free(order);
}

static bool refresh(ModelWorld *w, const ModelWorld *old, const int *order, size_t n_order,
                    char **hint, BgError *err)
{
    compute(w);
    Refresh r = { old, bg_calloc(n_order + w->n_nodes + 1, sizeof(int)), 0 };
    bool ok = true;
    for (size_t i = 0; i < n_order + w->n_nodes && ok; i++) {
        const ModelNode *n = i < n_order ? model_graph_node(w, order[i]) : w->nodes[i - n_order];
        if (!n)
            continue;
        ok = check_conflicts(w, n, err) && check_node(w, &r, n, hint, err);
        r.checked[r.n_checked++] = n->id;
    }
    free(r.checked);
    /* raw_set_perm(): the file nodes hold the new locks, the old ones go */
    for (size_t i = 0; i < w->n_nodes && ok; i++)
        model_perm_cumulative(w, w->nodes[i], &w->nodes[i]->lock_perm, &w->nodes[i]->lock_shared);
    return ok;
}

bool model_perm_refresh_from(ModelWorld *w, const ModelWorld *old, const int *order, size_t n_order,
                             BgError *err)
{
    return refresh(w, old, order, n_order, NULL, err);
}

bool model_perm_refresh(ModelWorld *w, const int *order, size_t n_order, BgError *err)
{
    return refresh(w, NULL, order, n_order, NULL, err);
}

bool model_perm_refresh_below(ModelWorld *w, const ModelNode *n, BgError *err)
{
    int *order = NULL;
    size_t len = 0;
    model_perm_topo(w, n, &order, &len);
    bool ok = refresh(w, NULL, order, len, NULL, err);
    free(order);
    return ok;
}

bool model_perm_refresh_hint(ModelWorld *w, const int *order, size_t n_order, char **hint,
                             BgError *err)
{
    *hint = NULL;
    return refresh(w, NULL, order, n_order, hint, err);
}
