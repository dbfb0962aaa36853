/*
 * real_check.c: the engine's graph invariants, checked from scratch.
 *
 * What this is: real_graph_check(), always called inside assert() (after
 * every QMP command the backend runs, and by the tests), which walks the
 * whole graph and verifies the numbered invariants of graph.h, plus the
 * permission invariants that the incremental updates of perm.c must keep:
 *  (8) no two parents of a node conflict: each shares what the other takes
 *      (bdrv_a_allow_b() holds for every ordered pair);
 *  (9) a node whose parents take write or write unchanged is writable;
 * (10) every node-to-node edge holds at least the permissions its parent's
 *      driver asks for given the parent's current cumulative permissions,
 *      and shares at most what it would share: an incremental update never
 *      misses a tightening.  (It may miss a loosening, as QEMU does: after
 *      bdrv_set_backing_hd() the dropped child's subtree is not refreshed,
 *      so an edge below it may keep permissions nobody needs any more.)
 * What it is not: the storage layer's own checks (qcow2 refcounts: the
 * driver's check slot, run by the tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aio.h"
#include "bg.h"
#include "graph.h"
#include "nodedrv.h"
#include "perm.h"

static bool check_acyclic(RealNode *n, unsigned gen_visiting, unsigned gen_done)
{
    if (n->mark == gen_done)
        return true;
    if (n->mark == gen_visiting)
        return false;
    n->mark = gen_visiting;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (!check_acyclic(c->child, gen_visiting, gen_done))
            return false;
    n->mark = gen_done;
    return true;
}

bool real_graph_check_explain(RealGraph *g, BgError *why)
{
    unsigned count = 0;
    for (RealNode *n = g->head; n; n = n->list_next) {
        count++;
        /* (1) */
        if (real_graph_find_node(g, n->node_name) != n)
            return bg_error_setf(why, "(1) node %s not indexed", n->node_name);
        /* (6) */
        if (n->bs->graph != n || !n->bs->node_name || strcmp(n->bs->node_name, n->node_name))
            return bg_error_setf(why, "(6) node %s: storage state detached", n->node_name);
        if (n->drv && n->bs->read_only != !(n->open_flags & REAL_O_RDWR))
            return bg_error_setf(why, "(6) node %s: read-only flag out of sync", n->node_name);
        if (n->drv && n->bs->drv && n->drv->is_filter != n->bs->drv->is_filter)
            return bg_error_setf(why, "(6) node %s: is_filter differs between the node and "
                                 "storage drivers", n->node_name);
        /* (2), (3) */
        bool file_seen = !n->file, backing_seen = !n->backing;
        for (RealEdge *c = n->children; c; c = c->next_child) {
            if (c->kind != REAL_PARENT_NODE || c->parent_node != n || !c->child)
                return bg_error_setf(why, "(2) node %s: bad child edge", n->node_name);
            int found = 0;
            for (RealEdge *p = c->child->parents; p; p = p->next_parent)
                found += p == c;
            if (found != 1)
                return bg_error_setf(why, "(2) node %s: edge %s not in its child's parents",
                                     n->node_name, c->name);
            file_seen |= c == n->file;
            backing_seen |= c == n->backing;
        }
        if (!file_seen || !backing_seen)
            return bg_error_setf(why, "(3) node %s: file/backing not among children",
                                 n->node_name);
        if (n->bs->file != (n->file ? &n->file->c : NULL) ||
            n->bs->backing != (n->backing ? &n->backing->c : NULL))
            return bg_error_setf(why, "(3) node %s: storage file/backing out of sync",
                                 n->node_name);
        /* (4) */
        int refs = n->monitor_owned + n->extra_refs;
        for (RealEdge *p = n->parents; p; p = p->next_parent) {
            refs++;
            if ((p->kind == REAL_PARENT_NODE && !p->parent_node) ||
                (p->kind == REAL_PARENT_BLK && !p->parent_blk) ||
                (p->kind == REAL_PARENT_JOB && !p->parent_job))
                return bg_error_setf(why, "(2) node %s: parent edge without parent",
                                     n->node_name);
            /* (7) */
            if (real_edge_parent_ctx(p) != n->ctx)
                return bg_error_setf(why, "(7) node %s: parent %s in another context",
                                     n->node_name, p->name);
        }
        if (refs != n->refcnt)
            return bg_error_setf(why, "(4) node %s: refcnt %d, expected %d", n->node_name,
                                 n->refcnt, refs);
    }
    if (count != g->n_nodes)
        return bg_error_setf(why, "(1) %u nodes listed, %u indexed", count, g->n_nodes);
    /* (5) */
    unsigned visiting = real_graph_new_mark(g), done = real_graph_new_mark(g);
    for (RealNode *n = g->head; n; n = n->list_next)
        if (!check_acyclic(n, visiting, done))
            return bg_error_setf(why, "(5) a cycle through %s", n->node_name);
    return true;
}

/* (8), (9), (10) */
static bool check_perms(RealGraph *g, BgError *why)
{
    for (RealNode *n = g->head; n; n = n->list_next) {
        uint64_t perm, shared;
        real_perm_cumulative(n, &perm, &shared);
        for (RealEdge *a = n->parents; a; a = a->next_parent)
            for (RealEdge *b = n->parents; b; b = b->next_parent)
                if (a != b && (b->c.perm & a->c.shared_perm) != b->c.perm)
                    return bg_error_setf(why, "(8) node %s: parents %s and %s conflict",
                                         n->node_name, a->name, b->name);
        if ((perm & (REAL_PERM_WRITE | REAL_PERM_WRITE_UNCHANGED)) &&
            !real_node_writable_after_reopen(n, NULL))
            return bg_error_setf(why, "(9) node %s: read-only with writers", n->node_name);
        if (!n->drv)
            continue;
        for (RealEdge *c = n->children; c; c = c->next_child) {
            uint64_t cp, cs;
            real_perm_child_perm(n, c->child, c, c->c.role, NULL, perm, shared, &cp, &cs);
            if ((cp & ~c->c.perm) || (c->c.shared_perm & ~cs))
                return bg_error_setf(why, "(10) edge %s -> %s (%s): perm %llx/%llx, "
                                          "recomputed %llx/%llx", n->node_name,
                                     c->child->node_name, c->name,
                                     (unsigned long long)c->c.perm,
                                     (unsigned long long)c->c.shared_perm,
                                     (unsigned long long)cp, (unsigned long long)cs);
        }
    }
    return true;
}

bool real_graph_check(RealGraph *g)
{
    BgError why = { 0 };
    bool ok = real_graph_check_explain(g, &why) && check_perms(g, &why);
    if (!ok)
        fprintf(stderr, "real_graph_check: %s\n", why.text);
    return ok;
}
