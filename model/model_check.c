/*
 * model_check.c: the model's numbered invariants, checked after every step
 * (always inside assert(), so release builds skip it).
 *
 *   1. Every edge's parent and child exist: each child id names a node of
 *      the world, each BlockBackend's node exists, each job's filter exists
 *      while the job does.
 *   2. No cycles: no node reaches itself through children.
 *   3. Node names are unique, non-empty, and automatic names ("#block...")
 *      are used only for nodes without a user-given name.
 *   4. A node's children have distinct names; inherits_from is 0 or an
 *      existing node.
 *   5. Permissions are consistent: for every node, every parent allows what
 *      every other parent needs, and no parent needs write on a read-only
 *      node (what model_perm.c computed last still holds).
 *   6. Nothing unreferenced is left: every node is monitor-owned, or has a
 *      parent, a BlockBackend or a job.
 *   7. Every frozen link is below a job's filter.
 *   8. A job's BlockBackends and own children belong to a job that has not
 *      ended (it still has its filter); only the own children of a stream
 *      job, or of a commit job that did not abort, stay after its end,
 *      until it is dismissed (block_job_free() removes them; the
 *      BlockBackends went in stream_clean(), commit_prepare() and
 *      commit_clean()).
 *
 * What it is not: a repair.  A false return is a bug in the model.
 * Mirrors nothing in QEMU; it states what QEMU's graph code keeps true.
 */
#include <string.h>

#include "model.h"

static bool reaches_self(const ModelWorld *w, const ModelNode *start, const ModelNode *n, int depth)
{
    if (depth > (int)w->n_nodes + 1)
        return true;
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelNode *c = model_graph_node(w, n->children[i].node);
        if (c == start || reaches_self(w, start, c, depth + 1))
            return true;
    }
    return false;
}

static bool check_perms(const ModelWorld *w, const ModelNode *n)
{
    unsigned need[64], share[64];
    size_t k = 0;
    for (size_t i = 0; i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children && k < 64; c++)
            if (w->nodes[i]->children[c].node == n->id) {
                need[k] = w->nodes[i]->children[c].perm;
                share[k++] = w->nodes[i]->children[c].shared;
            }
    for (size_t i = 0; i < w->n_blks && k < 64; i++)
        if (w->blks[i].node == n->id) {
            need[k] = w->blks[i].perm;
            share[k++] = w->blks[i].shared;
        }
    for (size_t a = 0; a < k; a++) {
        for (size_t b = 0; b < k; b++)
            if (a != b && (need[b] & ~share[a]))
                return false;
        if (n->read_only && (need[a] & (MODEL_PERM_WRITE | MODEL_PERM_WRITE_UNCHANGED)))
            return false;
    }
    return true;
}

bool model_check(const ModelState *st)
{
    const ModelWorld *w = st->w;
    for (size_t i = 0; i < w->n_nodes; i++) {
        const ModelNode *n = w->nodes[i];
        /* 3 */
        if (!n->name || !n->name[0])
            return false;
        if (n->auto_name != (strncmp(n->name, "#block", 6) == 0))
            return false;
        for (size_t j = i + 1; j < w->n_nodes; j++)
            if (strcmp(n->name, w->nodes[j]->name) == 0 || n->id == w->nodes[j]->id)
                return false;
        /* 1, 4 */
        for (size_t c = 0; c < n->n_children; c++) {
            if (!model_graph_node(w, n->children[c].node))
                return false;
            for (size_t d = c + 1; d < n->n_children; d++)
                if (strcmp(n->children[c].name, n->children[d].name) == 0)
                    return false;
            /* 7 */
            if (n->children[c].frozen && w->n_jobs == 0)
                return false;
        }
        if (n->inherits_from && !model_graph_node(w, n->inherits_from))
            return false;
        /* 2 */
        if (reaches_self(w, n, n, 0))
            return false;
        /* 5 */
        if (!check_perms(w, n))
            return false;
        /* 6 */
        if (model_graph_refcnt(w, n) == 0)
            return false;
    }
    for (size_t i = 0; i < w->n_blks; i++) {
        if (!model_graph_node(w, w->blks[i].node))
            return false;
        /* 8 */
        bool ownerless = w->blks[i].kind == MODEL_BLK_DEVICE || w->blks[i].kind == MODEL_BLK_LEAKED;
        const ModelJob *j = ownerless ? NULL : model_graph_job(w, w->blks[i].owner);
        if (!ownerless &&
            (!j || (!j->filter && (!j->keeps_children ||
                                   w->blks[i].kind != MODEL_BLK_JOB_CHILD))))
            return false;
    }
    for (size_t i = 0; i < w->n_jobs; i++)
        if (w->jobs[i].status != MODEL_JOB_NULL && w->jobs[i].filter &&
            !model_graph_node(w, w->jobs[i].filter))
            return false;
    return true;
}
