/*
 * perm.h: permissions between the parents and children of the graph.
 *
 * What this is: QEMU 7.2 block.c's permission system: each edge holds the
 * permissions its parent takes on the child and those it shares
 * (consistent read, write, write unchanged, resize); a node's cumulative
 * permissions are the union of its parents' and the intersection of what
 * they share.  After a graph change only the nodes below the change are
 * refreshed (bdrv_refresh_perms over bdrv_topological_dfs of the changed
 * subtree): parents are checked against each other (bdrv_a_allow_b, newest
 * parent first), write on a read-only node is refused, the driver checks
 * (file locks) and the child edges get new permissions, every step recorded
 * in a transaction so that a failure restores the previous state exactly:
 * check (staged, undoable), set (commit), abort.
 * What it is not: the policy of each driver (nodedrv.h child_perm hooks) or
 * of BlockBackends (blk.h).
 */
#ifndef REAL_PERM_H
#define REAL_PERM_H

#include <stdint.h>

#include "graph.h"

/* bdrv_get_cumulative_perm() */
void real_perm_cumulative(RealNode *n, uint64_t *perm, uint64_t *shared);
/* bdrv_child_perm(): what PARENT needs from CHILD for an edge with ROLE. */
void real_perm_child_perm(RealNode *parent, RealNode *child, RealEdge *c, unsigned role,
                          ReopenQueue *q, uint64_t perm, uint64_t shared, uint64_t *nperm,
                          uint64_t *nshared);
/* bdrv_perm_names(): "write, resize" (owned). */
char *real_perm_names(uint64_t perm);

/*
 * A list of nodes in topological order (parents first), built by
 * real_perm_topo_add() as bdrv_topological_dfs() builds it.
 */
typedef struct RealNodeList {
    RealNode **v;     /* post-order (children first); read backwards */
    size_t n, cap;
    unsigned mark;    /* RealNode.mark generation of "found" */
} RealNodeList;

void real_node_list_init(RealNodeList *l, RealGraph *g);
void real_node_list_cleanup(RealNodeList *l);
/* Add N's whole subtree that is not yet in L. */
void real_perm_topo_add(RealNodeList *l, RealNode *n);

/* bdrv_list_refresh_perms(): every node of L, parents first. */
int real_perm_list_refresh(RealNodeList *l, ReopenQueue *q, Tran *tran, BgError *err);
/* bdrv_refresh_perms(): N's subtree in its own transaction (err may be NULL). */
int real_perm_refresh_node(RealNode *n, BgError *err);
/* bdrv_child_set_perm(): set an edge's permissions, undone by TRAN. */
void real_perm_edge_set(RealEdge *e, uint64_t perm, uint64_t shared, Tran *tran);
/*
 * bdrv_child_try_set_perm(): set and refresh below; a failure is reported
 * only when the change tightened something (QEMU hides errors of loosening).
 */
int real_perm_edge_try_set(RealEdge *e, uint64_t perm, uint64_t shared, BgError *err);

/* bdrv_is_writable_after_reopen() */
bool real_node_writable_after_reopen(RealNode *n, ReopenQueue *q);

#endif
