/*
 * graph.h: the engine's block graph: nodes, child edges, the node-name
 * index, references, op blockers and the lists QEMU keeps.
 *
 * What this is: the graph half of QEMU 7.2 block.c (BlockDriverState's
 * graph fields, BdrvChild, graph_bdrv_states, monitor_bdrv_states,
 * bdrv_ref/unref/delete/close, bdrv_replace_child_noperm,
 * bdrv_attach_child_common/noperm, bdrv_remove_child, inherits_from,
 * bdrv_find_node/bdrv_lookup_bs, op blockers) around the storage layer's
 * RealBlockState (driver.h), which every RealNode owns.
 * What it is not: permissions (perm.h), opening (open.h), reopen
 * (reopen.h), query output (query.h).
 * Defined in graph.c (the graph, nodes, names, references, op blockers),
 * edge.c (edges, inherits_from, max_transfer, chain helpers) and
 * real_check.c (the invariants).
 *
 * Ownership: the graph owns its nodes; a node owns its RealBlockState, its
 * options and its child edges; parent pointers are borrowed.  A node lives
 * while its reference count is positive: one reference per parent edge,
 * one for the monitor (blockdev-add), one per job or BlockBackend edge
 * (those are edges too), and temporary ones taken inside an operation.
 *
 * Graph-layer allocation uses common/bg.h (abort on out-of-memory); the
 * storage layer's allocations go through alloc.h and are the ones fault
 * injection exercises.
 *
 * Invariants (checked by real_graph_check(), only ever called inside
 * assert()):
 *  (1) every node is in the name index and in the node list exactly once,
 *      under its node name, and names are unique;
 *  (2) for every edge e in n->children: e->parent_node == n, e->child is a
 *      node of the graph, and e is in e->child->parents exactly once;
 *      every edge in a parents list has its parent (node, blk or job) set;
 *  (3) n->bs->file / n->bs->backing are &n->file->c / &n->backing->c (or
 *      NULL) and those edges are in n->children;
 *  (4) between steps, n->refcnt == number of parent edges + the monitor
 *      reference + references jobs hold outside edges (n->extra_refs):
 *      every temporary reference taken by an operation has been dropped;
 *  (5) there is no cycle through children edges;
 *  (6) n->bs->graph == n, n->bs->node_name equals n->node_name, the
 *      storage flags mirror n->open_flags (read_only == !RDWR), and the
 *      node and storage drivers agree on is_filter;
 *  (7) a frozen edge's child is not deleted while it is frozen, and every
 *      edge's parent and child share an AioContext (perm.h, aio.h).
 */
#ifndef REAL_GRAPH_H
#define REAL_GRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"
#include "error.h"

/* QEMU BDRV_O_* flags the graph layer adds to driver.h's REAL_O_*. */
enum {
    REAL_O_NO_BACKING   = 0x0100,
    REAL_O_COPY_ON_READ = 0x0400,
    REAL_O_INACTIVE     = 0x0800,
    REAL_O_ALLOW_RDWR   = 0x2000,
    REAL_O_PROTOCOL     = 0x8000,
    REAL_O_NO_IO        = 0x10000,
    REAL_O_AUTO_RDONLY  = 0x20000,
    REAL_O_CACHE_MASK   = REAL_O_NOCACHE | REAL_O_NO_FLUSH,
};

/* BDRV_CHILD_IMAGE */
#define REAL_CHILD_IMAGE (REAL_CHILD_DATA | REAL_CHILD_METADATA | REAL_CHILD_PRIMARY)

typedef struct RealGraph RealGraph;
typedef struct RealNode RealNode;
typedef struct RealEdge RealEdge;
typedef struct RealBlk RealBlk;
typedef struct RealJob RealJob;
typedef struct RealCtx RealCtx;
typedef struct RealNodeDriver RealNodeDriver;
typedef struct ReopenQueue ReopenQueue;
typedef struct Tran Tran;

/* Who holds an edge (QEMU BdrvChildClass: child_of_bds, child_root, child_job). */
typedef enum RealParentKind {
    REAL_PARENT_NODE,   /* a node's child: "node 'X'" */
    REAL_PARENT_BLK,    /* a BlockBackend's root: "block device 'N'" / "an unnamed block device" */
    REAL_PARENT_JOB,    /* a block job's extra node: "stream job 'ID'" */
} RealParentKind;

/* QEMU BdrvChild. */
struct RealEdge {
    RealChild c;              /* what drivers see (bs->file == &edge->c); must be first */
    char *name;               /* "file", "backing", "image", "children.0", ... (c.name) */
    RealParentKind kind;
    RealNode *parent_node;    /* REAL_PARENT_NODE */
    RealBlk *parent_blk;      /* REAL_PARENT_BLK */
    RealJob *parent_job;      /* REAL_PARENT_JOB */
    RealNode *child;          /* the node below (NULL only while being replaced) */
    bool frozen;              /* bdrv_freeze_backing_chain(): may not change */
    RealEdge *next_child;     /* parent's children list, newest first */
    RealEdge *next_parent;    /* child's parents list, newest first */
};

/* Op blockers used by this engine (QEMU BlockOpType subset). */
typedef enum RealOp {
    REAL_OP_DRIVE_DEL,
    REAL_OP_STREAM,
    REAL_OP_COMMIT_SOURCE,
    REAL_OP_COMMIT_TARGET,
    REAL_OP_DATAPLANE,
    REAL_OP_MIRROR_SOURCE,
    REAL_OP_OTHER,              /* every other BlockOpType */
    REAL_OP__COUNT
} RealOp;
#define REAL_OP_ALL ((1u << REAL_OP__COUNT) - 1)

/* One op blocker: a reason text and who installed it. */
typedef struct RealBlocker {
    const void *owner;        /* the edge or job that installed it */
    char *reason;             /* QEMU's error text for the op ("node is used as ...") */
    unsigned ops;             /* 1 << RealOp for every blocked op */
    struct RealBlocker *next;
} RealBlocker;

/* An anonymous dirty bitmap of a job (QEMU BdrvDirtyBitmap, the part query shows). */
typedef struct RealDirtyBitmap {
    uint32_t granularity;
    uint64_t count;           /* dirty bytes */
    struct RealDirtyBitmap *next;
} RealDirtyBitmap;

/* QEMU BlockDriverState, graph half (storage half in bs). */
struct RealNode {
    RealGraph *g;
    RealBlockState *bs;       /* owned; bs->graph == this */
    const RealNodeDriver *drv;/* NULL after close */
    char *node_name;          /* explicit or generated (#blockN) */
    bool generated_name;      /* the name was generated */
    json_t *options;          /* bs->options: the full flattened options */
    json_t *explicit_options; /* bs->explicit_options */
    int open_flags;           /* QEMU BDRV_O_* (bs->open_flags mirrors the REAL_O_* part) */
    bool force_share;         /* force-share=on */
    bool implicit;            /* job filter without a user-given name */
    bool never_freeze;        /* commit_top: bdrv_freeze_backing_chain skips it */
    int refcnt;
    int extra_refs;           /* references held by jobs outside edges (filter nodes) */
    bool monitor_owned;       /* in monitor_bdrv_states (blockdev-add root) */
    RealNode *inherits_from;  /* the parent whose options it inherits, or NULL */
    RealEdge *children;       /* newest first */
    RealEdge *parents;        /* newest first */
    RealEdge *file;           /* bs->file */
    RealEdge *backing;        /* bs->backing */
    RealCtx *ctx;             /* AioContext; NULL = main loop */
    RealBlocker *blockers;    /* op blockers */
    int copy_on_read;         /* bdrv_enable_copy_on_read() count */
    RealDirtyBitmap *dirty_bitmaps; /* bitmaps jobs put on the node (owned by the jobs) */
    /* filename state (bdrv_refresh_filename) */
    char *filename;           /* bs->filename as QEMU shows it */
    char *exact_filename;     /* bs->exact_filename, "" when none */
    json_t *full_open_options;/* bs->full_open_options */
    char *auto_backing_file;  /* bs->auto_backing_file */
    char *backing_file;       /* bs->backing_file (header name, changeable by jobs) */
    char *backing_format;     /* bs->backing_format */
    /* node list and name index */
    RealNode *list_prev, *list_next;  /* graph_bdrv_states order (naming order) */
    RealNode *hash_next;
    RealNode *monitor_next;
    bool in_list;             /* named and listed */
    /* scratch marks for traversals (topological sort, cycle checks) */
    unsigned mark;
    /* what the data comparison asks (real_backend.c data_version): a
     * number no other node of the process had, and one that moves at every
     * reopen of the node and every change of its children */
    uint64_t serial;
    uint64_t data_gen;
};

/* The whole per-backend world of the block layer. */
struct RealGraph {
    char *dir;                /* the scratch directory: relative file names start here */
    RealNode *head, *tail;    /* named nodes in naming order */
    RealNode **index;         /* name hash buckets */
    unsigned index_size;
    unsigned n_nodes;
    RealNode *monitor_head;   /* monitor-owned nodes */
    uint64_t name_counter;    /* id_generate(ID_BLOCK) counter */
    unsigned mark_gen;        /* generation for RealNode.mark */
    RealBlk *blks;            /* every BlockBackend */
    RealJob *jobs;            /* every job, oldest first */
    struct RealObjects *objects;  /* QOM objects: throttle groups, iothreads (object.h) */
    struct RealDevices *devices;  /* guest devices (device.h) */
    int64_t clock_ns;         /* the virtual clock (QEMU_CLOCK_VIRTUAL); only steps advance it */
    json_t *events;           /* events raised and not yet collected (QMP form) */
    json_t *event_times;      /* throttled event key -> clock_ns of its last emission */
    const char *vm_exit;      /* why QEMU would have exited (blkverify mismatch), or NULL:
                               * the step that did it is unsupported */
    char *error_hint;         /* error_append_hint() of the last failed permission check,
                               * shown by HMP (error_report_err), never by QMP; or NULL */
};

RealGraph *real_graph_new(const char *dir);
/* Close every node, job and BlockBackend and free the graph; NULL: no-op. */
void real_graph_free(RealGraph *g);

/* ---- nodes ------------------------------------------------------------------ */

/* bdrv_new(): a node with one reference, no name, no driver. */
RealNode *real_node_new(RealGraph *g);
/*
 * bdrv_assign_node_name(): NAME or a generated #blockN; checks that a given
 * name is well-formed and unused (QEMU's texts).  The node joins the list
 * and the index.
 */
bool real_node_assign_name(RealNode *n, const char *name, BgError *err);
/* bdrv_find_node() */
RealNode *real_graph_find_node(RealGraph *g, const char *name);
/* bdrv_lookup_bs(device, node_name): devices are BlockBackend names. */
RealNode *real_graph_lookup(RealGraph *g, const char *device, const char *node_name,
                            BgError *err);
/* bdrv_ref / bdrv_unref: the last reference closes and frees the node. */
void real_node_ref(RealNode *n);
void real_node_unref(RealNode *n);
/* A reference held outside any edge (a job's filter, a filter's bottom node):
 * counted in n->extra_refs too, so that the graph check's refcount
 * invariant (4) accounts for it.  NULL is ignored. */
void real_node_hold(RealNode *n);
void real_node_release(RealNode *n);
/* bdrv_get_device_or_node_name() */
const char *real_node_device_or_node_name(RealNode *n);

/* Resolve a file name against the scratch directory (owned). */
char *real_graph_path(RealGraph *g, const char *name);
/* A new generation for RealNode.mark-based traversals. */
unsigned real_graph_new_mark(RealGraph *g);

/* ---- edges (edge.c) --------------------------------------------------------- */

/*
 * bdrv_attach_child_common(): a new edge from a parent to CHILD with the
 * given permissions, recorded in TRAN (abort detaches and frees it).
 * Handles the AioContext of the child (aio.h); takes a reference on CHILD.
 * Exactly one of parent_node / parent_blk / parent_job is set by the caller
 * through real_edge_attach_*.
 */
RealEdge *real_edge_attach(RealNode *child, const char *name, unsigned role, uint64_t perm,
                           uint64_t shared, RealParentKind kind, void *parent, Tran *tran,
                           BgError *err);
/* bdrv_attach_child_noperm(): the cycle check, the child perms from the parent's needs. */
RealEdge *real_edge_attach_to_node(RealNode *parent, RealNode *child, const char *name,
                                   unsigned role, Tran *tran, BgError *err);
/* bdrv_replace_child_noperm(): move the edge to NEW (may be NULL); no refs, no perms. */
void real_edge_replace_noperm(RealEdge *e, RealNode *new_child);
/* bdrv_replace_child_tran(): the same, undone by TRAN; the old child's reference is
 * dropped on commit. */
void real_edge_replace_tran(RealEdge *e, RealNode *new_child, Tran *tran);
/* bdrv_remove_child(): detach E in TRAN (commit frees it, abort puts it back). */
void real_edge_remove_tran(RealEdge *e, Tran *tran);
/* bdrv_root_unref_child() / bdrv_unref_child(): detach now, refresh the old
 * child's permissions, drop the reference. */
void real_edge_unref(RealEdge *e);
/* bdrv_unset_inherits_from() (TRAN may be NULL). */
void real_edge_unset_inherits_from(RealNode *root, RealEdge *child, Tran *tran);
/* bdrv_set_inherits_from() (TRAN may be NULL). */
void real_node_set_inherits_from(RealNode *n, RealNode *from, Tran *tran);
/* bdrv_refresh_limits() for the one limit taken from the children here,
 * max_transfer (TRAN may be NULL: abort restores the old value).  Called
 * where QEMU 7.2 calls it: a node's open, bdrv_set_file_or_backing_noperm()
 * for the parent, bdrv_reopen_commit(), bdrv_append(); a parent is not
 * refreshed when something below its children changes. */
void real_node_refresh_limits(RealNode *n, Tran *tran);

/* "node 'X'", "block device 'N'", "an unnamed block device", "stream job 'ID'" (owned). */
char *real_edge_parent_desc(const RealEdge *e);

/* bdrv_recurse_has_child(): can CHILD be reached from N (N itself included)? */
bool real_node_has_child_recursive(RealNode *n, RealNode *child);

/* ---- filter and chain helpers (block.c bdrv_*_child) --------------------------- */

RealEdge *real_node_cow_child(RealNode *n);        /* backing of a non-filter */
RealEdge *real_node_filter_child(RealNode *n);     /* the filtered child of a filter */
RealEdge *real_node_filter_or_cow_child(RealNode *n);
RealEdge *real_node_primary_child(RealNode *n);    /* the child with REAL_CHILD_PRIMARY */
RealNode *real_node_filter_or_cow_bs(RealNode *n);
RealNode *real_node_skip_implicit_filters(RealNode *n);
RealNode *real_node_skip_filters(RealNode *n);
RealNode *real_node_backing_chain_next(RealNode *n); /* bdrv_backing_chain_next() */
bool real_node_is_filter(const RealNode *n);

/* ---- op blockers ------------------------------------------------------------- */

void real_node_op_block(RealNode *n, unsigned ops, const void *owner, const char *reason);
void real_node_op_unblock(RealNode *n, const void *owner);
/* bdrv_op_is_blocked(): "Node 'X' is busy: REASON" in err. */
bool real_node_op_is_blocked(RealNode *n, RealOp op, BgError *err);

/* True when the node has a BlockBackend among its parents (bdrv_has_blk). */
bool real_node_has_blk(RealNode *n);

/* Raise a QMP event (appended to g->events). */
void real_graph_event(RealGraph *g, const char *name, json_t *take_data);
/*
 * monitor/monitor.c monitor_qapi_event_queue(): QUORUM_REPORT_BAD (per node
 * name) and QUORUM_FAILURE are rate-limited to one per second; an event
 * within the window is held by QEMU until the window ends.  The engine's
 * clock moves only with throttled I/O, so a held event is dropped.
 */
void real_graph_event_throttled(RealGraph *g, const char *name, const char *key,
                                json_t *take_data);

/* The graph's invariants (see the list above); only call inside assert().
 * A broken one is named on stderr just before the assertion fails. */
bool real_graph_check(RealGraph *g);
/* The same, with the first broken invariant in WHY (tests). */
bool real_graph_check_explain(RealGraph *g, BgError *why);

#endif
