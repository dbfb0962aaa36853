/*
 * job.h: block jobs: the job state machine, its events, and the job
 * commands.
 *
 * What this is: QEMU 7.2 job.c (states created, running, paused, ready,
 * standby, waiting, pending, aborting, concluded, null; JobSTT and
 * JobVerbTable; JOB_STATUS_CHANGE; finalize/dismiss/complete/cancel;
 * auto-finalize and auto-dismiss), job-qmp.c, blockjob.c (block_job_create:
 * the job's BlockBackend, block_job_add_bdrv() edges and op blockers,
 * BLOCK_JOB_COMPLETED/_CANCELLED/_READY/_PENDING, query-block-jobs) and the
 * job drivers in job_stream.c, job_commit.c and job_mirror.c.
 * Jobs advance deterministically: real_job_run_all() runs every job until
 * it needs the user (ready, pending without auto-finalize, concluded
 * without auto-dismiss) or ends; the backend calls it after every step.
 * What it is not: pause/resume, speed limits in time (speed is accepted and
 * reported; data moves at once), transactions of several jobs.
 */
#ifndef REAL_JOB_H
#define REAL_JOB_H

#include <jansson.h>
#include <stdint.h>

#include "graph.h"

typedef enum RealJobStatus {
    JOB_UNDEFINED, JOB_CREATED, JOB_RUNNING, JOB_PAUSED, JOB_READY, JOB_STANDBY,
    JOB_WAITING, JOB_PENDING, JOB_ABORTING, JOB_CONCLUDED, JOB_NULL, JOB__MAX
} RealJobStatus;

typedef enum RealJobVerb {
    JOB_VERB_CANCEL, JOB_VERB_PAUSE, JOB_VERB_RESUME, JOB_VERB_SET_SPEED,
    JOB_VERB_COMPLETE, JOB_VERB_FINALIZE, JOB_VERB_DISMISS, JOB_VERB__MAX
} RealJobVerb;

/* What a job type does (QEMU JobDriver + BlockJobDriver). */
typedef struct RealJobDriver {
    const char *type;            /* "stream", "commit" */
    /* Move the data; 0 or -errno.  Called once, while running. */
    int (*run)(RealJob *job);
    /* After run: true when the job stops in "ready" first (mirror). */
    bool has_ready;
    /* job_prepare / commit / abort / clean (may be NULL). */
    int (*prepare)(RealJob *job);
    void (*commit)(RealJob *job);
    void (*abort)(RealJob *job);
    void (*clean)(RealJob *job);
    /* job-complete in ready (mirror_complete); NULL: not supported. */
    bool (*complete)(RealJob *job, BgError *err);
    /* Cancelling in ready completes without pivot (mirror soft cancel). */
    bool soft_cancel_in_ready;
    /* The node run() copies into (stream: the top; commit and mirror: the
     * base or target), until the job concludes; NULL when none. */
    RealNode *(*dest)(RealJob *job);
} RealJobDriver;

struct RealJob {
    RealGraph *g;
    const RealJobDriver *drv;
    char *id;
    RealJobStatus status;
    bool auto_finalize;
    bool auto_dismiss;
    int64_t speed;
    uint64_t progress_current;
    uint64_t progress_total;
    int ret;                     /* result of run, 0 or -errno */
    char *error;                 /* error text for the events, or NULL */
    bool cancelled;
    bool force_cancel;
    bool should_complete;        /* job-complete received */
    bool ran;                    /* run() done */
    bool started;
    RealEdge **edges;            /* block_job_add_bdrv() edges */
    size_t n_edges;
    RealCtx *ctx;
    char *blocker;               /* "block device is in use by block job: TYPE" */
    void *opaque;                /* the driver's state */
    RealJob *next;
};

/* ---- for job drivers ----------------------------------------------------------- */

/* block_job_create(): a job on BS with a BlockBackend taking PERM/SHARED. */
RealJob *real_job_create(RealGraph *g, const RealJobDriver *drv, const char *id, RealNode *bs,
                         uint64_t perm, uint64_t shared, bool auto_finalize,
                         bool auto_dismiss, int64_t speed, BgError *err);
/* block_job_add_bdrv(): an edge NAME from the job to N, with op blockers. */
bool real_job_add_bdrv(RealJob *job, const char *name, RealNode *n, uint64_t perm,
                       uint64_t shared, BgError *err);
/* block_job_remove_all_bdrv() */
void real_job_remove_all_bdrv(RealJob *job);
/* job_early_fail(): free a job that never started. */
void real_job_early_fail(RealJob *job);
/* job_start() */
void real_job_start(RealJob *job);
/* block_job_error_action(), on-error "report": the BLOCK_JOB_ERROR event. */
void real_job_error_action(RealJob *job, bool is_read);
/* A job id is free (job_create's "Job ID '%s' already in use"). */
bool real_job_id_check(RealGraph *g, const char *id, BgError *err);
/*
 * stream_clean(), commit_clean(), mirror_exit_common() and the failed
 * starts: a node the job made read-write goes back to read-only when it was
 * (WAS_READ_ONLY); an error is ignored, as QEMU does.
 */
void real_job_restore_read_only(RealNode *n, bool was_read_only);

/* The members block-stream and block-commit share, after their QAPI check. */
typedef struct RealJobArgs {
    const char *job_id;             /* or NULL */
    const char *filter_node_name;   /* or NULL */
    bool auto_finalize, auto_dismiss;
    int64_t speed;
} RealJobArgs;
/*
 * The last members of block-stream's and block-commit's argument lists
 * (qapi/block-core.json, schema order) and the terminator: a QapiMember
 * (qapi.h) table ends with them.
 */
#define REAL_JOB_QAPI_TAIL \
    { "speed", QAPI_INT, false, NULL }, \
    { "on-error", QAPI_ENUM, false, "report|ignore|enospc|stop|auto" }, \
    { "filter-node-name", QAPI_STR, false, NULL }, \
    { "auto-finalize", QAPI_BOOL, false, NULL }, \
    { "auto-dismiss", QAPI_BOOL, false, NULL }, \
    { NULL, 0, false, NULL }
/* The string member KEY of ARGS, or NULL. */
const char *real_job_arg(json_t *args, const char *key);
/* Read the shared members; an on-error other than "report" is not
 * implemented ("unsupported"). */
bool real_job_args(json_t *args, RealJobArgs *a, BgError *err);

/* ---- for the graph --------------------------------------------------------------- */

char *real_job_parent_desc(RealJob *job);
RealCtx *real_job_ctx(RealJob *job);
void real_job_set_ctx(RealJob *job, RealCtx *ctx);
size_t real_job_n_edges(RealJob *job);
RealEdge *real_job_edge(RealJob *job, size_t i);
/* Cancel and free every job (VM shutdown). */
void real_job_cancel_all(RealGraph *g);

/* ---- for the backend -------------------------------------------------------------- */

/* Advance every job as far as it goes without the user. */
void real_job_run_all(RealGraph *g);
RealJob *real_job_find(RealGraph *g, const char *id);
json_t *real_query_block_jobs(RealGraph *g);
json_t *real_query_jobs(RealGraph *g);
/* job-* and block-job-* verbs; false with err (QEMU's texts). */
bool real_job_cmd_complete(RealGraph *g, const char *id, bool block_job, BgError *err);
bool real_job_cmd_finalize(RealGraph *g, const char *id, bool block_job, BgError *err);
bool real_job_cmd_dismiss(RealGraph *g, const char *id, bool block_job, BgError *err);
bool real_job_cmd_cancel(RealGraph *g, const char *id, bool force, bool block_job,
                         BgError *err);

/* block-stream, block-commit (job_stream.c, job_commit.c) */
bool real_qmp_block_stream(RealGraph *g, json_t *args, BgError *err);
bool real_qmp_block_commit(RealGraph *g, json_t *args, BgError *err);

#endif
