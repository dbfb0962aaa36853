/*
 * mut_state.h: what is alive at a point of a stream, as the mutator sees it
 * (prefix mut_state_).
 *
 * What this is: a walk over a stream's lines that keeps the resources later
 * steps may name: image files (img-create), named block nodes with their
 * driver, own options, named file/backing children, owner and estimated
 * size (blockdev-add, blockdev-reopen, blockdev-del), throttle groups and
 * iothreads (object-add/-del), block jobs and the nodes they drop when they
 * end (block-stream, block-commit and the steps that drive them), the VM
 * (launch, shutdown).  It also lists the node names a step refers to, so
 * the mutator can refuse an edit that makes a step name a node that is not
 * alive.  The resource idea is syzkaller's (docs/syscall_descriptions.md,
 * "resources": a value produced by one call and consumed by later ones).
 *
 * What it is not: a model of QEMU.  Every step is assumed to succeed unless
 * it plainly cannot (a duplicate or unknown node name), and the rules are
 * conservative where that matters: a node is dead from the step that deletes
 * it (even if QEMU would refuse the deletion), nested children die with
 * their owner, the nodes a job drops are dead from the step that can end the
 * job (its start, when it may finish on its own).  Automatic names
 * ("#block123") and ${VAR} names are never tracked.  Knowledge is a guide
 * for generation; errors the guess misses are what the backends compare.
 *
 * Defined in mut_state.c (the state's lifetime and reading lines into it)
 * and mut_state_query.c (lookups, step kinds, references).
 */
#ifndef BG_MUT_STATE_H
#define BG_MUT_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Estimated host length of a fresh qcow2 image file (header, L1/refcount table, block). */
#define MUT_QCOW2_HOST_BYTES 196608u
#define MUT_DEFAULT_BYTES    (3u << 20)

typedef struct MutImage {
    char *file;        /* scratch-relative name, as img-create wrote it */
    char *fmt;         /* "qcow2" or "raw" */
    uint64_t size;     /* virtual size */
    char *backing;     /* the backing image its header names (scratch-relative), or NULL */
} MutImage;

typedef struct MutNode {
    char *name;
    char *driver;
    json_t *def;       /* the definition or reopen entry that last stated its options (a
                        * reference to the stream's object: read only); its own options
                        * are the members mut_state_own_option() accepts */
    char *file;        /* primary child by name: "file" (formats, filters), "image" (blkdebug),
                        * "test" (blkverify), first of "children" (quorum); NULL: none/automatic */
    char *backing;     /* backing child by name; NULL: none or automatic */
    bool has_backing;  /* a backing child exists, named or implicit (opened from the header) */
    char *owner;       /* named node whose definition nested this one; NULL: monitor-owned */
    char *image;       /* file node: the image file it opens, scratch-relative */
    uint64_t size;     /* guest-visible length, estimated */
    int pattern;       /* last HMP write through this node: pattern byte, -1 when none */
    uint64_t pat_off, pat_len;
    bool job_filter;   /* a named job filter, alive while its job runs */
} MutNode;

typedef struct MutJob {
    char *id;
    bool active;         /* active commit: waits "ready" for job-complete */
    bool auto_finalize;
    bool completed;      /* job-complete sent */
    char **victims;      /* nodes dropped when the job ends normally */
    size_t n_victims;
    char *filter;        /* named job filter node, or NULL */
} MutJob;

typedef struct MutState {
    MutImage *images;
    size_t n_images;
    MutNode *nodes;      /* alive nodes, in order of creation */
    size_t n_nodes;
    MutJob *jobs;
    size_t n_jobs;
    char **groups;       /* throttle-group object ids */
    size_t n_groups;
    char **iothreads;
    size_t n_iothreads;
    char **scsi;         /* virtio-scsi controller ids */
    size_t n_scsi;
    bool launched;       /* a VM step has run and no shutdown since */
    bool pc;             /* the VM is a "pc" machine (devices possible) */
    bool offline_done;   /* a VM step has been seen: offline steps belong before it */
    bool shutdown;       /* a shutdown step has been seen */
    unsigned steps;      /* lines applied */
} MutState;

void mut_state_init(MutState *st);
void mut_state_cleanup(MutState *st);

/* Update ST with the effect of one stream line (a parsed JSON object; anything else is ignored). */
void mut_state_apply(MutState *st, const json_t *line);

/* The step's name: QMP command for execute, else the step key; NULL for comment-only lines. */
const char *mut_state_step_name(const json_t *line);
/* True for steps that run in (or start, or stop) the VM; false for img-create, io, qemu-img. */
bool mut_state_is_vm_step(const json_t *line);

MutNode *mut_state_node(const MutState *st, const char *name);
const MutImage *mut_state_image(const MutState *st, const char *file);
MutJob *mut_state_job(const MutState *st, const char *id);
bool mut_state_has_group(const MutState *st, const char *id);
/* Does a live throttle node use group ID? */
bool mut_state_group_used(const MutState *st, const char *id);
/* The first live node whose ROLE child ("file" or "backing") is CHILD; NULL when none. */
MutNode *mut_state_parent(const MutState *st, const char *child, const char **role);
/* Is KEY of a definition one of the node's own options (not node-name, driver, a child)? */
bool mut_state_own_option(const char *key);
/* Image file a node path names ("$DIR/hd0.img" -> "hd0.img"), borrowed from S. */
const char *mut_state_image_name(const char *filename);

/* Call FN for every node name LINE refers to (not the names it defines). */
typedef void (*MutRefFn)(const char *name, void *opaque);
void mut_state_refs(const json_t *line, MutRefFn fn, void *opaque);

/*
 * The names LINE refers to that are not alive in ST (automatic and ${VAR}
 * names excepted), as an owned "\nA\nB\n" list, or NULL when there are none.
 */
char *mut_state_dangling(const MutState *st, const json_t *line);

#endif
