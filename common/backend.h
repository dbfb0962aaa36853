/*
 * backend.h: the one interface every backend implements (DESIGN.md, "One
 * format, one interface").
 *
 * A backend opens a scratch directory, executes one step at a time and
 * returns a BgResult, and closes.  The runner (runner.h) does everything that
 * is the same for all backends: $DIR and ${VAR} substitution, confinement,
 * expectations, transcripts.  A backend gets fully substituted JSON and only
 * has to answer.  A step it cannot do is BG_RES_UNSUPPORTED and is not
 * compared or judged.
 *
 * Step semantics a backend owns (streams.md): x-blockdev-reopen means
 * blockdev-reopen {"options": [ARGS]} with the seed's wording for the
 * input-validation errors (messages.h has the rewording); wait-event,
 * wait-job and run-job consume events from the backend's queue of events not
 * yet waited for, as QEMU's iotests do; shutdown collects the VM log.
 */
#ifndef BG_BACKEND_H
#define BG_BACKEND_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "stream.h"

typedef enum BgResultKind {
    BG_RES_RETURN,       /* success; ret holds the return value */
    BG_RES_ERROR,        /* QMP error; err_class and err_desc */
    BG_RES_OFFLINE,      /* img-create / io / qemu-img: rc, out, err_text */
    BG_RES_UNSUPPORTED,  /* the backend cannot do this step; reason in unsupported */
} BgResultKind;

typedef struct BgResult {
    BgResultKind kind;
    json_t *ret;         /* RETURN: return value (owned) */
    char *err_class;     /* ERROR: e.g. "GenericError" (owned) */
    char *err_desc;      /* ERROR: the exact text (owned) */
    int rc;              /* OFFLINE: exit status */
    char *out;           /* OFFLINE: standard output (owned, may be NULL) */
    char *err_text;      /* OFFLINE: standard error (owned, may be NULL) */
    char *io_out;        /* qemu-io text the VM printed during the step (owned, may be NULL) */
    char *log;           /* shutdown: the whole VM log (owned, may be NULL) */
    json_t *events;      /* array of {"event", "data"} raised during the step (owned, may be NULL) */
    char *unsupported;   /* UNSUPPORTED: reason (owned) */
} BgResult;

void bg_result_cleanup(BgResult *r);
void bg_result_set_return(BgResult *r, json_t *take_ret);
void bg_result_set_error(BgResult *r, const char *cls, const char *desc);
void bg_result_set_unsupported(BgResult *r, const char *reason);

typedef struct BgBackend BgBackend;   /* opaque, one per backend kind */

typedef struct BgBackendConfig {
    const char *scratch;      /* absolute path of the stream's scratch directory (exists, empty) */
    const char *stream_path;  /* for messages */
    bool verbose;             /* -v: backend may print diagnostics on stderr */
    const char *log_path;     /* where the VM log is kept with --keep, or NULL */
    bool volatile_scratch;    /* the scratch directory is removed after the run and
                               * nothing in it needs to survive a host crash: an
                               * in-process backend may skip syncing files to disk
                               * and take other shortcuts that change no result */
} BgBackendConfig;

typedef struct BgBackendOps {
    const char *name;    /* "qemu", "model", "real" */
    /* Can this backend run on this machine?  (qemu: binaries installed.)  */
    bool (*available)(void);
    BgBackend *(*open)(const BgBackendConfig *cfg, BgError *err);
    /*
     * Execute one step.  Returns false only when the backend itself failed
     * (VM crashed or timed out, tool missing): err then says what happened,
     * and the runner stops the stream.  A QMP error is a result, not a failure.
     * CMD shares the stream's values: the backend reads it and may keep
     * references, but changes nothing in it, then or later (the runner
     * checks this under BG_CHECK_FROZEN_STEPS=1, as make check runs).
     */
    bool (*execute)(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res, BgError *err);
    /*
     * Guest-visible bytes of a node (for the differential comparison): on
     * success all LEN bytes of BUF are written.
     * Optional (NULL): the comparator then relies on qemu-io reads only.
     */
    bool (*read_node)(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                      uint8_t *buf, BgError *err);
    /*
     * How many bytes of NODE from OFFSET (at most LEN) are known to read as
     * zeroes from the backend's own metadata, without reading them (qcow2
     * clusters unallocated down the chain or zero, holes of a file)?  0
     * when unsure at OFFSET; no side effect beyond read_node's.  Only asked
     * of nodes list_nodes offers.  The comparator skips what both backends
     * know to be zeroes when told to (BgRunOptions.skip_known_zero, the
     * fuzzer; the rule of `qemu-img compare`), and otherwise checks every
     * claim against the bytes it reads.  Optional (NULL): nothing is known.
     */
    uint64_t (*known_zero)(BgBackend *be, const char *node, uint64_t offset, uint64_t len);
    /*
     * A number that moves whenever the guest-visible bytes or the length
     * of NODE may have changed (a write or discard that reached it or a
     * node below it, a reopen, a child changed, any change of a host file
     * below it), and only means something compared with an earlier answer
     * for the same node; 0: not known.  The comparator does not read again
     * a node whose bytes it found equal on both backends when neither has
     * changed since (compare_data.c; BG_CHECK_DATA_VERSIONS=1 checks the
     * answers against the bytes).  Only asked of nodes list_nodes offers;
     * no side effect.  Optional (NULL): the comparator hashes the bytes.
     */
    uint64_t (*data_version)(BgBackend *be, const char *node);
    /*
     * The nodes whose guest-visible bytes the comparator reads: a new array
     * of {"node-name": NAME, "size": BYTES}, in any order, without side
     * effects.  Only nodes whose read_node has no side effect either may be
     * listed (no copy-on-read, blkdebug rules, throttling, quorum events
     * anywhere below them).  Nor may a node whose subtree (the node
     * included) holds a node that a block job which has not concluded may
     * write: the node the job copies into (stream: its top, the `device`;
     * commit and active commit: the base) and, below that, every node
     * reached through a child other than a COW (backing) child, which the
     * job's writes pass.  When a job moves its data is the backend's
     * (QEMU: whenever its coroutines run); once it has concluded, every
     * backend shows the result.  Optional (NULL): no data comparison.
     */
    json_t *(*list_nodes)(BgBackend *be);
    /*
     * A count that moves whenever the backend changes something below its
     * scratch directory (creates, writes, truncates or removes a file);
     * its value means nothing else.  The runner scans the scratch directory
     * for what confine.h refuses only when the count moved since its last
     * scan; the files a step names are checked before every step.
     * Optional (NULL): files may change at any time (QEMU's processes), and
     * the directory is scanned before every step.
     */
    uint64_t (*file_changes)(BgBackend *be);
    /* Log of the VM so far (owned string) or NULL; for failure reports. */
    char *(*get_log)(BgBackend *be);
    /* Stop everything, free everything; NULL is a no-op. */
    void (*close)(BgBackend *be);
} BgBackendOps;

/* Registry: every backend compiled in, in default-preference order. */
const BgBackendOps *bg_backend_find(const char *name);
const BgBackendOps *bg_backend_default(void);
/* Comma-separated names of the compiled-in backends, for usage messages. */
const char *bg_backend_names(void);

#endif
