/*
 * job.c: the job state machine, events and job commands (see job.h).
 *
 * Mirrors QEMU 7.2 job.c (JobSTT, JobVerbTable, job_state_transition(),
 * job_apply_verb(), job_create(), job_start(), job_completed(),
 * job_completed_txn_success(), job_completed_txn_abort(),
 * job_transition_to_pending/ready(), job_do_finalize(), job_prepare(),
 * job_finalize_single(), job_update_rc(), job_conclude(),
 * job_do_dismiss(), job_cancel(), job_cancel_async(), job_complete(),
 * job_query_single()), job-qmp.c ("Job not found"), blockjob.c
 * (block_job_create(), block_job_add_bdrv(), child_job's parent
 * description, block_job_event_*(), block_job_query()) and blockdev.c
 * find_block_job() ("Block job 'X' not found", class DeviceNotActive).
 * Every job is its own transaction (no job-transaction grouping).
 */
#include "job.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aio.h"
#include "bg.h"
#include "messages.h"
#include "perm.h"
#include "reopen.h"
#include "tran.h"

static const char *const status_names[JOB__MAX] = {
    "undefined", "created", "running", "paused", "ready", "standby", "waiting", "pending",
    "aborting", "concluded", "null",
};
static const char *const verb_names[JOB_VERB__MAX] = {
    "cancel", "pause", "resume", "set-speed", "complete", "finalize", "dismiss",
};

/*                                U  C  R  P  Y  S  W  D  X  E  N */
static const bool verb_table[JOB_VERB__MAX][JOB__MAX] = {
    [JOB_VERB_CANCEL]         = { 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0 },
    [JOB_VERB_PAUSE]          = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0 },
    [JOB_VERB_RESUME]         = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0 },
    [JOB_VERB_SET_SPEED]      = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0 },
    [JOB_VERB_COMPLETE]       = { 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0 },
    [JOB_VERB_FINALIZE]       = { 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 },
    [JOB_VERB_DISMISS]        = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 },
};

static void event(RealGraph *g, const char *name, json_t *take_data)
{
    real_graph_event(g, name, take_data);
}

static void transition(RealJob *job, RealJobStatus s)
{
    RealJobStatus old = job->status;
    job->status = s;
    if (s != old)
        event(job->g, "JOB_STATUS_CHANGE",
              json_pack("{s:s,s:s}", "id", job->id, "status", status_names[s]));
}

static bool apply_verb(RealJob *job, RealJobVerb verb, BgError *err)
{
    if (verb_table[verb][job->status])
        return true;
    return bg_error_setf(err, BG_MSG_JOB_VERB, job->id, status_names[job->status],
                         verb_names[verb]);
}

/* ---- creation ------------------------------------------------------------------- */

static bool id_wellformed(const char *id)
{
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("-._", *p)))
            return false;
    return true;
}

RealJob *real_job_find(RealGraph *g, const char *id)
{
    for (RealJob *j = g->jobs; j; j = j->next)
        if (j->id && !strcmp(j->id, id))
            return j;
    return NULL;
}

bool real_job_id_check(RealGraph *g, const char *id, BgError *err)
{
    if (!id)
        return bg_error_setf(err, BG_MSG_JOB_ID_REQUIRED);
    if (!id_wellformed(id))
        return bg_error_setf(err, BG_MSG_JOB_ID_INVALID, id);
    if (real_job_find(g, id))
        return bg_error_setf(err, BG_MSG_JOB_ID_IN_USE, id);
    return true;
}

static void job_unlink(RealJob *job)
{
    for (RealJob **pp = &job->g->jobs; *pp; pp = &(*pp)->next) {
        if (*pp == job) {
            *pp = job->next;
            break;
        }
    }
}

static void job_free(RealJob *job)
{
    real_job_remove_all_bdrv(job);
    free(job->edges);
    free(job->blocker);
    free(job->error);
    free(job->id);
    free(job);
}

RealJob *real_job_create(RealGraph *g, const RealJobDriver *drv, const char *id, RealNode *bs,
                         uint64_t perm, uint64_t shared, bool auto_finalize,
                         bool auto_dismiss, int64_t speed, BgError *err)
{
    /* block_job_create(): without an id the job is named after the device */
    if (!id) {
        const char *dev = real_node_device_or_node_name(bs);
        id = dev == bs->node_name ? "" : dev;
    }
    if (!real_job_id_check(g, id, err))
        return NULL;
    RealJob *job = bg_calloc(1, sizeof(*job));
    job->g = g;
    job->drv = drv;
    job->id = bg_strdup(id);
    job->auto_finalize = auto_finalize;
    job->auto_dismiss = auto_dismiss;
    job->ctx = bs->ctx;
    job->next = g->jobs;    /* QLIST_INSERT_HEAD: newest first */
    g->jobs = job;
    transition(job, JOB_CREATED);
    job->blocker = bg_asprintf(BG_MSG_JOB_BLOCKER, drv->type);
    /* QEMU 7.2 has no BlockBackend of the job's own: its "main node" edge
     * takes the job's permissions, and a conflict fails the created job */
    if (!real_job_add_bdrv(job, "main node", bs, perm, shared, err)) {
        real_job_early_fail(job);
        return NULL;
    }
    /* block_job_create(): the job's own node may still go to a dataplane */
    real_node_op_unblock(bs, job);
    real_node_op_block(bs, REAL_OP_ALL & ~(1u << REAL_OP_DATAPLANE), job, job->blocker);
    if (speed < 0) {
        bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, "speed", "a non-negative value");
        real_job_early_fail(job);
        return NULL;
    }
    job->speed = speed;
    return job;
}

bool real_job_add_bdrv(RealJob *job, const char *name, RealNode *n, uint64_t perm,
                       uint64_t shared, BgError *err)
{
    Tran *tran = tran_new();
    real_node_ref(n);
    RealEdge *e = real_edge_attach(n, name, 0, perm, shared, REAL_PARENT_JOB, job, tran, err);
    int ret = e ? real_perm_refresh_node(n, err) : -EINVAL;
    tran_finalize(tran, ret);
    real_node_unref(n);
    if (ret < 0)
        return false;
    job->edges = bg_realloc(job->edges, (job->n_edges + 1) * sizeof(*job->edges));
    memmove(job->edges + 1, job->edges, job->n_edges * sizeof(*job->edges));
    job->edges[0] = e;
    job->n_edges++;
    real_node_op_block(n, REAL_OP_ALL, job, job->blocker);
    return true;
}

void real_job_remove_all_bdrv(RealJob *job)
{
    /* block_job_remove_all_bdrv(): unblock first, then drop the edges */
    while (job->n_edges) {
        RealEdge *e = job->edges[0];
        memmove(job->edges, job->edges + 1, (job->n_edges - 1) * sizeof(*job->edges));
        job->n_edges--;
        real_node_op_unblock(e->child, job);
        real_edge_unref(e);
    }
}

void real_job_early_fail(RealJob *job)
{
    transition(job, JOB_NULL);
    job_unlink(job);
    job_free(job);
}

void real_job_restore_read_only(RealNode *n, bool was_read_only)
{
    if (was_read_only) {
        BgError ignore = { 0 };
        real_reopen_set_read_only(n, true, &ignore);
    }
}

const char *real_job_arg(json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

bool real_job_args(json_t *args, RealJobArgs *a, BgError *err)
{
    const char *on_error = real_job_arg(args, "on-error");
    if (on_error && strcmp(on_error, "report"))
        return bg_error_setf(err, "unsupported");
    json_t *af = json_object_get(args, "auto-finalize");
    json_t *ad = json_object_get(args, "auto-dismiss");
    json_t *sp = json_object_get(args, "speed");
    *a = (RealJobArgs){ .job_id = real_job_arg(args, "job-id"),
                        .filter_node_name = real_job_arg(args, "filter-node-name"),
                        .auto_finalize = !(af && json_is_false(af)),
                        .auto_dismiss = !(ad && json_is_false(ad)),
                        .speed = sp ? json_integer_value(sp) : 0 };
    return true;
}

void real_job_start(RealJob *job)
{
    job->started = true;
    transition(job, JOB_RUNNING);
}

/* ---- the graph's view --------------------------------------------------------------- */

char *real_job_parent_desc(RealJob *job)
{
    return bg_asprintf(BG_MSG_PARENT_DESC_JOB, job->drv->type, job->id);
}

RealCtx *real_job_ctx(RealJob *job)
{
    return job->ctx;
}

void real_job_set_ctx(RealJob *job, RealCtx *ctx)
{
    job->ctx = ctx;
}

size_t real_job_n_edges(RealJob *job)
{
    return job->n_edges;
}

RealEdge *real_job_edge(RealJob *job, size_t i)
{
    return job->edges[i];
}

/* ---- completion ------------------------------------------------------------------- */

/* block_job_error_action() (blockjob.c) with on-error "report", the only
 * policy the engine takes: BLOCK_JOB_ERROR names whether the failed request
 * was a read; the caller then ends the job with the error. */
void real_job_error_action(RealJob *job, bool is_read)
{
    event(job->g, "BLOCK_JOB_ERROR",
          json_pack("{s:s,s:s,s:s}", "device", job->id, "operation", is_read ? "read" : "write",
                    "action", "report"));
}


static void event_completed(RealJob *job)
{
    json_t *d = json_pack("{s:s,s:s,s:I,s:I,s:I}", "type", job->drv->type, "device", job->id,
                          "len", (json_int_t)job->progress_total, "offset",
                          (json_int_t)job->progress_current, "speed", (json_int_t)job->speed);
    if (job->ret < 0)
        json_object_set_new(d, "error", json_string(job->error ? job->error
                                                               : strerror(-job->ret)));
    event(job->g, "BLOCK_JOB_COMPLETED", d);
}

static void event_cancelled(RealJob *job)
{
    event(job->g, "BLOCK_JOB_CANCELLED",
          json_pack("{s:s,s:s,s:I,s:I,s:I}", "type", job->drv->type, "device", job->id, "len",
                    (json_int_t)job->progress_total, "offset",
                    (json_int_t)job->progress_current, "speed", (json_int_t)job->speed));
}

static bool is_cancelled(RealJob *job)
{
    return job->force_cancel;
}

/* job_update_rc() */
static void update_rc(RealJob *job)
{
    if (!job->ret && is_cancelled(job))
        job->ret = -ECANCELED;
    if (job->ret) {
        if (!job->error)
            job->error = bg_strdup(strerror(-job->ret));
        transition(job, JOB_ABORTING);
    }
}

static void do_dismiss(RealJob *job)
{
    transition(job, JOB_NULL);
    job_unlink(job);
    job_free(job);
}

/* job_conclude(); returns false when the job is gone. */
static bool conclude(RealJob *job)
{
    transition(job, JOB_CONCLUDED);
    if (job->auto_dismiss || !job->started) {
        do_dismiss(job);
        return false;
    }
    return true;
}

static void finalize_single(RealJob *job)
{
    update_rc(job);
    if (!job->ret) {
        if (job->drv->commit)
            job->drv->commit(job);
    } else if (job->drv->abort) {
        job->drv->abort(job);
    }
    if (job->drv->clean)
        job->drv->clean(job);
    if (job->started) {
        if (is_cancelled(job))
            event_cancelled(job);
        else
            event_completed(job);
    }
    conclude(job);
}

static void txn_abort(RealJob *job)
{
    finalize_single(job);
}

static void do_finalize(RealJob *job)
{
    if (job->ret == 0 && job->drv->prepare) {
        job->ret = job->drv->prepare(job);
        update_rc(job);
    }
    if (job->ret)
        txn_abort(job);
    else
        finalize_single(job);
}

static void completed(RealJob *job)
{
    update_rc(job);
    if (job->ret) {
        txn_abort(job);
        return;
    }
    transition(job, JOB_WAITING);
    transition(job, JOB_PENDING);
    if (!job->auto_finalize) {
        event(job->g, "BLOCK_JOB_PENDING",
              json_pack("{s:s,s:s}", "type", job->drv->type, "id", job->id));
        return;
    }
    do_finalize(job);
}

/* Advance one job; true when something happened. */
static bool run_one(RealJob *job)
{
    if (job->status != JOB_RUNNING)
        return false;
    if (!job->ran) {
        job->ran = true;
        if (!is_cancelled(job))
            job->ret = job->drv->run(job);
        if (job->drv->has_ready && job->ret == 0 && !job->cancelled && !job->should_complete) {
            transition(job, JOB_READY);
            event(job->g, "BLOCK_JOB_READY",
                  json_pack("{s:s,s:s,s:I,s:I,s:I}", "type", job->drv->type, "device",
                            job->id, "len", (json_int_t)job->progress_total, "offset",
                            (json_int_t)job->progress_current, "speed",
                            (json_int_t)job->speed));
            return true;
        }
    }
    completed(job);
    return true;
}

void real_job_run_all(RealGraph *g)
{
    bool progress = true;
    while (progress) {
        progress = false;
        for (RealJob *j = g->jobs; j; j = j->next) {
            if (run_one(j)) {
                progress = true;
                break;     /* the list may have changed */
            }
        }
    }
}

void real_job_cancel_all(RealGraph *g)
{
    while (g->jobs) {
        RealJob *job = g->jobs;
        if (job->status == JOB_CONCLUDED) {
            do_dismiss(job);
            continue;
        }
        job->cancelled = job->force_cancel = true;
        if (job->status == JOB_RUNNING || job->status == JOB_READY ||
            job->status == JOB_STANDBY || job->status == JOB_CREATED) {
            job->ran = true;
            completed(job);
        } else {
            txn_abort(job);
        }
        /* a job without auto-dismiss is still concluded here */
        if (g->jobs == job)
            do_dismiss(job);
    }
}

/* ---- commands ---------------------------------------------------------------------- */

static RealJob *find_for_cmd(RealGraph *g, const char *id, bool block_job, BgError *err)
{
    RealJob *job = real_job_find(g, id);
    if (!job) {
        if (block_job)
            bg_error_setf(err, BG_MSG_BLOCK_JOB_NOT_FOUND, id);
        else
            bg_error_setf(err, BG_MSG_JOB_NOT_FOUND);
    }
    return job;
}

bool real_job_cmd_complete(RealGraph *g, const char *id, bool block_job, BgError *err)
{
    RealJob *job = find_for_cmd(g, id, block_job, err);
    if (!job || !apply_verb(job, JOB_VERB_COMPLETE, err))
        return false;
    if (job->cancelled || !job->drv->complete)
        return bg_error_setf(err, BG_MSG_JOB_CANNOT_COMPLETE, id);
    if (!job->drv->complete(job, err))
        return false;
    job->should_complete = true;
    if (job->status == JOB_READY || job->status == JOB_STANDBY)
        job->status = JOB_RUNNING;   /* it leaves ready silently, as mirror does */
    return true;
}

bool real_job_cmd_finalize(RealGraph *g, const char *id, bool block_job, BgError *err)
{
    RealJob *job = find_for_cmd(g, id, block_job, err);
    if (!job || !apply_verb(job, JOB_VERB_FINALIZE, err))
        return false;
    do_finalize(job);
    return true;
}

bool real_job_cmd_dismiss(RealGraph *g, const char *id, bool block_job, BgError *err)
{
    RealJob *job = find_for_cmd(g, id, block_job, err);
    if (!job || !apply_verb(job, JOB_VERB_DISMISS, err))
        return false;
    do_dismiss(job);
    return true;
}

bool real_job_cmd_cancel(RealGraph *g, const char *id, bool force, bool block_job,
                         BgError *err)
{
    RealJob *job = find_for_cmd(g, id, block_job, err);
    if (!job || !apply_verb(job, JOB_VERB_CANCEL, err))
        return false;
    if (job->status == JOB_CONCLUDED) {
        do_dismiss(job);
        return true;
    }
    /* job_cancel_async(): mirror in ready treats a soft cancel as "complete, no pivot" */
    bool f = force;
    if (!(job->drv->soft_cancel_in_ready && (job->status == JOB_READY ||
                                             job->status == JOB_STANDBY)))
        f = true;
    if (!job->cancelled) {
        job->cancelled = true;
        job->force_cancel |= f;
    }
    if (!job->started) {
        completed(job);
    } else if (job->ran && job->status != JOB_READY && job->status != JOB_STANDBY) {
        /* deferred to the main loop: only a real cancel aborts now */
        if (is_cancelled(job))
            txn_abort(job);
    } else {
        if (job->status == JOB_READY || job->status == JOB_STANDBY)
            job->status = JOB_RUNNING;
    }
    return true;
}

json_t *real_query_block_jobs(RealGraph *g)
{
    json_t *list = json_array();
    for (RealJob *j = g->jobs; j; j = j->next) {
        json_t *info = json_pack("{s:s,s:s,s:I,s:I,s:I,s:b,s:b,s:s,s:b,s:s,s:b,s:b}", "type",
                                 j->drv->type, "device", j->id, "len",
                                 (json_int_t)j->progress_total, "offset",
                                 (json_int_t)j->progress_current, "speed",
                                 (json_int_t)j->speed, "busy", 0, "paused", 0, "io-status",
                                 "ok", "ready", j->status == JOB_READY || j->status == JOB_STANDBY,
                                 "status", status_names[j->status], "auto-finalize",
                                 j->auto_finalize, "auto-dismiss", j->auto_dismiss);
        if (j->ret)
            json_object_set_new(info, "error",
                                json_string(j->error ? j->error : strerror(-j->ret)));
        json_array_append_new(list, info);
    }
    return list;
}

json_t *real_query_jobs(RealGraph *g)
{
    json_t *list = json_array();
    for (RealJob *j = g->jobs; j; j = j->next) {
        json_t *info = json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", j->id, "type", j->drv->type,
                                 "status", status_names[j->status], "current-progress",
                                 (json_int_t)j->progress_current, "total-progress",
                                 (json_int_t)j->progress_total);
        if (j->error)
            json_object_set_new(info, "error", json_string(j->error));
        json_array_append_new(list, info);
    }
    return list;
}
