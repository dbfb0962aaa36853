/*
 * gen.h: generating stream steps, and whole streams, from what is alive
 * (prefix gen_).
 *
 * What this is: the producers of the structure-aware mutator.  Each
 * generator looks at a MutState (the resources alive at the insertion
 * point: images, named nodes, throttle groups, jobs, the VM) and appends one
 * action's steps to a JSON array: an image (img-create, offline io), a node
 * or subtree (blockdev-add of qcow2/raw over file, file, null-co, filters,
 * blkdebug, quorum, blkverify), a one-node or multi-node reopen that restates
 * a node's options and changes a few, a blockdev-del, HMP qemu-io reads and
 * writes inside a node's size, a block job and the steps that drive it, a
 * throttle group, a filter inserted above or below a node (add + reopen of
 * the parent) or removed (reopen + del), a query, a device.  Generated steps
 * name only live nodes and carry no expectations.  gen_stream() builds a
 * fresh, valid stream when the mutator has nothing usable.
 * The approach is syzkaller's generation with resources (prog/generation.go,
 * prog/rand.go) applied to QMP, and the canonical reopen is iotest 245's
 * reopen() helper: restate the node's options, then change some.
 * What it is not: a judge of what QEMU will answer.  Many generated steps
 * fail in QEMU (a permission conflict, a cycle, a frozen link); those
 * errors are what the backends must agree on.
 */
#ifndef BG_GEN_H
#define BG_GEN_H

#include <jansson.h>
#include <stddef.h>

#include "mut_rand.h"
#include "mut_state.h"

/* Streams the generator builds stay this short (the harness runs thousands a second). */
#define GEN_MAX_STEPS 40

typedef enum GenKind {
    GEN_IMG_CREATE,      /* img-create of a new image (maybe over a backing file) */
    GEN_IO_OFFLINE,      /* io: qemu-io write into an image, before the VM starts */
    GEN_ADD,             /* blockdev-add of a node or subtree */
    GEN_REOPEN,          /* blockdev-reopen / x-blockdev-reopen of one node */
    GEN_REOPEN_MULTI,    /* blockdev-reopen of two or three nodes in one transaction */
    GEN_DEL,             /* blockdev-del */
    GEN_HMP_IO,          /* HMP qemu-io read/write/write -z [-u]/discard through a node */
    GEN_JOB_START,       /* block-stream or block-commit (maybe followed by run-job) */
    GEN_JOB_DRIVE,       /* run-job, wait-job, job-finalize/-cancel/-complete */
    GEN_GROUP,           /* object-add/object-del of a throttle group, or a group switch */
    GEN_FILTER_INSERT,   /* throttle/compress/copy-on-read above or below a node */
    GEN_FILTER_REMOVE,   /* a filter taken out (reopen of its parent, then del) */
    GEN_QUERY,           /* query-named-block-nodes, query-block-jobs, query-jobs */
    GEN_DEVICE,          /* iothread, virtio-scsi, scsi-hd (machine pc only) */
    GEN__COUNT
} GenKind;

const char *gen_kind_name(GenKind k);

/*
 * Append the steps of one action of kind K, generated in state ST, to the
 * JSON array OUT.  Returns the number of steps appended; 0 when the action
 * is impossible here (no live node, no job, no free image...).
 */
size_t gen_steps(GenKind k, const MutState *st, MutRand *r, json_t *out);

/* One VM action of a random kind that is possible in ST (its kind in *KIND). */
size_t gen_vm_action(const MutState *st, MutRand *r, json_t *out, GenKind *kind);

/* A fresh valid stream: an array of at most MAX_STEPS line objects. */
json_t *gen_stream(MutRand *r, size_t max_steps);

/* The steps that drive job ID (see "Job timing" in gen.c): run-job to its
 * end (auto-dismiss on), and wait-event for where it parks: BLOCK_JOB_READY
 * (READY: an active commit) or BLOCK_JOB_PENDING (auto-finalize off). */
json_t *gen_run_job(const char *id, bool auto_finalize, bool cancel);
json_t *gen_wait_parked(const char *id, bool ready);

/* The step {"execute": CMD, "arguments": ARGS} (ARGS stolen; none when NULL). */
json_t *gen_execute(const char *cmd, json_t *args);

#endif
