/*
 * model_job.c: block jobs as explicit state machines.
 *
 *   created -> running --(stream, commit)--------------------> waiting
 *                      \--(active commit)--> ready --complete--/
 *   waiting -> pending --(auto-finalize, or job-finalize)--> concluded
 *   (waiting, pending and an auto-finalize are one step: job_exit())
 *   concluded --(auto-dismiss, or job-dismiss)--> null
 *   (cancel) -> aborting -> concluded; a soft cancel of a ready active
 *   commit -> waiting, and the job completes without the pivot
 *
 * A job moves only when a step drives it: wait-event, wait-job and run-job
 * advance jobs one transition at a time (job_exit()'s waiting, pending and
 * auto-finalize count as one) until what they wait for is there,
 * then let them run on to where they park (settle(), also before run-job
 * answers an event with a verb); the job verbs (job-*
 * and block-job-*) move a job that waits for them.
 * Every transition raises QEMU's events (JOB_STATUS_CHANGE, BLOCK_JOB_READY,
 * BLOCK_JOB_PENDING when auto-finalize is off, BLOCK_JOB_COMPLETED or
 * BLOCK_JOB_CANCELLED before "concluded").  The drain of every reopen
 * (paused/running) is not raised: the runner drops it.
 *
 * At the end: the data is copied (stream into the top, commit into the
 * base, when the job runs), the streamed/committed nodes leave the chain,
 * the image header's backing name is rewritten, an active commit that was
 * completed replaces the top by the base, the filter goes away and the
 * nodes made writable for the job become read-only again where QEMU does
 * that.  A cancelled job only drops its filter.  The copy itself and the
 * header rewrites are model_job_copy.c.
 * What it is not: time.  The speed is only reported (job->speed in the
 * events, block_job_event_completed_locked() and the others); a job with a
 * speed and a length makes the step that runs it "unsupported" (QEMU
 * sleeps between copies); no progress in between, no I/O errors;
 * the start of a job is model_job_start.c.
 *
 * Mirrors QEMU 7.2.0 job.c (job_apply_verb_locked() and JobVerbTable, the
 * state transition table, job_cancel_locked(), job_completed_txn_abort(),
 * events), job-qmp.c and blockdev.c's block-job-* handlers
 * (find_block_job_locked(): DeviceNotActive), block/stream.c
 * stream_prepare() / stream_clean(), block/commit.c commit_prepare() /
 * commit_abort() / commit_clean(), block.c bdrv_drop_intermediate(),
 * block/mirror.c mirror_cancel() / mirror_exit_common(), and
 * python/qemu/machine + iotests.py VM.run_job() for the driving steps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "messages.h"
#include "model.h"

static const char *const status_names[] = {
    "created", "running", "ready", "waiting", "pending", "aborting", "concluded", "null",
};
static const char *const type_names[] = { "stream", "commit", "commit" };

static void drop_blks(ModelWorld *w, const char *owner, bool children);

static void status_event(ModelState *st, ModelJob *j, ModelJobStatus s)
{
    j->status = s;
    if (s == MODEL_JOB_NULL) {
        /* job_unref() -> block_job_free() -> block_job_remove_all_bdrv(): a
         * stream job holds its intermediate nodes until it is dismissed */
        drop_blks(st->w, j->id, true);
        model_graph_collect(st->w);
        BgError ignore = {0};
        model_perm_refresh(st->w, NULL, 0, &ignore);
    }
    model_event(st, "JOB_STATUS_CHANGE",
                json_pack("{s:s,s:s}", "id", j->id, "status", status_names[s]));
}

static json_t *block_event_data(const ModelJob *j)
{
    return json_pack("{s:s,s:I,s:I,s:I,s:s}", "device", j->id, "len", (json_int_t)j->len,
                     "offset", (json_int_t)j->offset, "speed", (json_int_t)j->speed, "type",
                     type_names[j->type]);
}

void model_job_add_blk(ModelWorld *w, ModelBlkKind kind, const char *job, int node, unsigned perm,
                       unsigned shared, const char *child_name)
{
    w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
    w->blks[w->n_blks++] = (ModelBlk){ .kind = kind, .owner = bg_strdup(job), .node = node,
                                       .perm = perm, .shared = shared, .seq = ++w->next_seq,
                                       .child_name = child_name };
}

void model_job_started(ModelState *st, ModelJob *j)
{
    status_event(st, j, MODEL_JOB_CREATED);
    status_event(st, j, MODEL_JOB_RUNNING);
}

/* The BlockBackends of job OWNER, and its own children (BdrvChild edges)
 * too when CHILDREN. */
static void drop_blks(ModelWorld *w, const char *owner, bool children)
{
    for (size_t i = 0; i < w->n_blks;) {
        if ((w->blks[i].kind == MODEL_BLK_JOB || w->blks[i].kind == MODEL_BLK_JOB_CHILD) &&
            strcmp(w->blks[i].owner, owner) == 0 &&
            (children || w->blks[i].kind == MODEL_BLK_JOB)) {
            free(w->blks[i].owner);
            free(w->blks[i].iothread);
            memmove(&w->blks[i], &w->blks[i + 1], (w->n_blks - i - 1) * sizeof(*w->blks));
            w->n_blks--;
        } else {
            i++;
        }
    }
}

/* blk_unref(s->target) early in mirror_exit_common(): the job's
 * BlockBackend on TARGET (the one that writes) goes before the target is
 * reopened and put in the source's place. */
static void drop_target_blk(ModelWorld *w, const char *owner, int target)
{
    for (size_t i = 0; i < w->n_blks; i++) {
        ModelBlk *b = &w->blks[i];
        if (b->kind == MODEL_BLK_JOB && b->node == target && strcmp(b->owner, owner) == 0) {
            free(b->owner);
            free(b->iothread);
            memmove(b, b + 1, (w->n_blks - i - 1) * sizeof(*w->blks));
            w->n_blks--;
            break;
        }
    }
    BgError ignore = {0};
    model_perm_refresh(w, NULL, 0, &ignore);
}

/* ---- finishing ------------------------------------------------------------------------------------ */

/* Remove FILTER from the graph: its parents go to its child. */
static void drop_filter(ModelWorld *w, ModelNode *filter)
{
    ModelNode *child = model_graph_filter_or_cow(w, filter);
    for (size_t i = 0; i < filter->n_children; i++)
        filter->children[i].frozen = false;
    if (child)
        model_graph_replace_node(w, filter, child);
    while (filter->n_children) {
        char *name = bg_strdup(filter->children[0].name);
        model_graph_detach(w, filter, name);
        free(name);
    }
}

/* bdrv_inherits_from_recursive() */
static bool inherits_from_recursive(const ModelWorld *w, const ModelNode *child,
                                    const ModelNode *parent)
{
    while (child && child != parent)
        child = model_graph_node(w, child->inherits_from);
    return child != NULL;
}

/* The job's end: job_prepare() + job_commit() (unless ABORT) + job_clean(). */
static void finish(ModelState *st, ModelJob *j, bool abort)
{
    ModelWorld *w = st->w;
    ModelNode *filter = model_graph_node(w, j->filter);
    ModelNode *top = model_graph_node(w, j->top);
    ModelNode *base = model_graph_node(w, j->base);
    /* bdrv_unfreeze_backing_chain(): this job's links only; another job's
     * stay frozen */
    model_graph_freeze_chain(w, filter, model_graph_node(w, j->frozen_to), false);
    int ro_again_id = 0;        /* by id: the node may go with the graph's collection */
    if (j->type == MODEL_JOB_STREAM) {
        /* stream_prepare(): the filter goes, the top's backing becomes the base */
        drop_filter(w, filter);
        top = model_graph_skip_filters(w, top);      /* unfiltered_bs */
        ModelNode *above = model_graph_node(w, j->above_base);
        base = above ? model_graph_filter_or_cow(w, above) : NULL;
        if (!abort && model_graph_backing(w, top)) {
            ModelNode *old = model_graph_backing(w, top);
            if (old != base) {
                bool update = base && inherits_from_recursive(w, base, top);
                model_graph_detach(w, top, "backing");
                if (base)
                    model_graph_attach(w, top, base, "backing", MODEL_ROLE_COW);
                if (update)
                    base->inherits_from = top->id;
            }
            model_io_refresh_limits(w, top);  /* bdrv_set_file_or_backing_noperm() */
            model_job_set_header_backing(st, top, base, j->backing_file_str, true);
        }
        if (j->was_ro)                        /* stream_clean() */
            ro_again_id = j->top;             /* the target_bs, not the unfiltered one */
    } else if (j->type == MODEL_JOB_COMMIT) {
        if (abort) {
            drop_filter(w, filter);           /* commit_abort() */
        } else {
            /* bdrv_drop_intermediate(): the filter's parents now use the base */
            ModelNode *explicit_top = model_graph_skip_implicit(w, filter);
            bool update = inherits_from_recursive(w, base, explicit_top);
            int new_inherits = explicit_top->inherits_from;
            size_t n_cow;
            int *cow = model_job_cow_parents(w, filter, &n_cow);
            model_graph_replace_node(w, filter, base);
            for (size_t i = 0; i < n_cow; i++)
                model_job_update_filename(st, model_graph_node(w, cow[i]), base, j->backing_file_str);
            free(cow);
            if (update)
                base->inherits_from = new_inherits;
            while (filter->n_children) {
                char *name = bg_strdup(filter->children[0].name);
                model_graph_detach(w, filter, name);
                free(name);
            }
        }
        if (j->was_ro)                        /* commit_clean() */
            ro_again_id = base->id;
    } else {
        /* mirror_exit_common(): the target's BlockBackend goes first (it
         * writes: the target could not become read-only with it); a
         * completed job then gives the base the top's read-only state and
         * replaces the top by the base */
        if (base)
            drop_target_blk(w, j->id, base->id);
        if (!abort && j->pivot) {
            bool ro = top->read_only;
            if (ro != base->read_only) {
                BgError ignore = {0};
                model_reopen_set_read_only(st, w, base, ro, &ignore);
            }
            model_graph_replace_node(w, top, base);
        }
        /* the base stays writable, even when the job is cancelled
         * (observed on 7.2: no base_ro restore in mirror_exit_common()) */
        drop_filter(w, filter);
    }
    /* stream_clean() unrefs s->blk (which stream_prepare()'s filter drop
     * moved onto the top), commit_prepare() and commit_clean() s->base and
     * s->top, but the job's own children stay until block_job_free() at the
     * dismissal (the intermediate nodes a commit dropped with them), unless
     * commit_abort() or mirror_exit_common() removed them
     * (block_job_remove_all_bdrv()) */
    j->keeps_children = j->type == MODEL_JOB_STREAM || (j->type == MODEL_JOB_COMMIT && !abort);
    drop_blks(w, j->id, !j->keeps_children);
    j->filter = 0;
    model_graph_collect(w);
    BgError ignore = {0};
    model_perm_refresh(w, NULL, 0, &ignore);
    ModelNode *ro = model_graph_node(w, ro_again_id);
    if (ro)
        model_reopen_set_read_only(st, w, ro, true, &ignore);
}

/* ---- the state machine ---------------------------------------------------------------------------- */

static void conclude(ModelState *st, ModelJob *j)
{
    finish(st, j, false);
    model_event(st, "BLOCK_JOB_COMPLETED", block_event_data(j));
    status_event(st, j, MODEL_JOB_CONCLUDED);
    if (j->auto_dismiss)
        status_event(st, j, MODEL_JOB_NULL);
}

/* run() failed (-RET): job_completed_txn_abort(); BLOCK_JOB_COMPLETED
 * carries strerror() of the error. */
static void fail_job(ModelState *st, ModelJob *j, int ret)
{
    status_event(st, j, MODEL_JOB_ABORTING);
    finish(st, j, true);
    json_t *data = block_event_data(j);
    json_object_set_new(data, "error", json_string(strerror(-ret)));
    model_event(st, "BLOCK_JOB_COMPLETED", data);
    status_event(st, j, MODEL_JOB_CONCLUDED);
    if (j->auto_dismiss)
        status_event(st, j, MODEL_JOB_NULL);
}

/* job_completed_txn_abort(): the job ends as cancelled. */
static void abort_job(ModelState *st, ModelJob *j)
{
    j->cancelled = true;
    status_event(st, j, MODEL_JOB_ABORTING);
    finish(st, j, true);
    model_event(st, "BLOCK_JOB_CANCELLED", block_event_data(j));
    status_event(st, j, MODEL_JOB_CONCLUDED);
    if (j->auto_dismiss)
        status_event(st, j, MODEL_JOB_NULL);
}

/* qemu_cleanup() -> job_cancel_sync_all() at quit: every job that has not
 * ended is cancelled (force: a ready active commit does not pivot), and
 * job_cancel_locked() dismisses a concluded one, so every job ends "null". */
void model_job_cancel_all(ModelState *st)
{
    for (size_t i = 0; i < st->w->n_jobs; i++) {
        ModelJob *j = &st->w->jobs[i];
        if (j->status != MODEL_JOB_NULL && j->status != MODEL_JOB_CONCLUDED)
            abort_job(st, j);
        if (j->status == MODEL_JOB_CONCLUDED)
            status_event(st, j, MODEL_JOB_NULL);
    }
}

bool model_job_step(ModelState *st, ModelJob *j)
{
    switch (j->status) {
    case MODEL_JOB_CREATED:
        status_event(st, j, MODEL_JOB_RUNNING);
        return true;
    case MODEL_JOB_RUNNING: {
        /* the job's run(): stream copies into the top, commit into the base */
        /* stream_run() copies what is allocated down to s->base_overlay, the
         * node it froze the chain to (with "bottom" there is no base, and
         * the copy still stops below the bottom: regress/196) */
        ModelNode *top = model_graph_node(st->w, j->top);
        ModelNode *base = j->type == MODEL_JOB_STREAM
                              ? model_graph_filter_or_cow(st->w,
                                                          model_graph_node(st->w, j->frozen_to))
                              : model_graph_node(st->w, j->base);
        if (j->type != MODEL_JOB_STREAM) {
            int ret = model_job_grow_base(st, top, base);
            if (ret < 0) {
                if (j->type == MODEL_JOB_ACTIVE_COMMIT)
                    j->len = 0;     /* mirror_run() counts the work after the resize */
                fail_job(st, j, ret);
                return true;
            }
        }
        /* block_job_ratelimit_sleep(): with a speed, the job sleeps after
         * each copy for as long as the rate limit says, on QEMU's wall
         * clock, so whether a step's timeout comes first is timing (only
         * an image with nothing to copy is sure not to sleep) */
        if (j->speed > 0 && j->len)
            st->unsupported = "a rate-limited job (speed) with data to copy: QEMU's clock decides";
        if (j->len && j->type == MODEL_JOB_STREAM)
            model_job_copy_data(st, top, base, model_graph_skip_filters(st->w, top),
                                MODEL_COPY_STREAM);
        else if (j->len)
            model_job_copy_data(st, top, base, base,
                                j->type == MODEL_JOB_ACTIVE_COMMIT ? MODEL_COPY_MIRROR
                                                                   : MODEL_COPY_COMMIT);
        j->offset = j->len;
        if (j->type == MODEL_JOB_ACTIVE_COMMIT) {
            status_event(st, j, MODEL_JOB_READY);
            model_event(st, "BLOCK_JOB_READY", block_event_data(j));
            return true;
        }
        status_event(st, j, MODEL_JOB_WAITING);
        return true;
    }
    case MODEL_JOB_WAITING:
        /* job_completed_txn_success_locked(), in job_exit()'s one bottom
         * half: pending (job_transition_to_pending_locked()) and, with
         * auto-finalize, job_do_finalize_locked() at once, so no command
         * (the job-finalize or job-cancel that run-job sends on "pending")
         * comes in between: it finds the job concluded or gone */
        status_event(st, j, MODEL_JOB_PENDING);
        if (!j->auto_finalize) {
            model_event(st, "BLOCK_JOB_PENDING",
                        json_pack("{s:s,s:s}", "id", j->id, "type", type_names[j->type]));
            return true;
        }
        conclude(st, j);
        return true;
    default:
        return false;    /* ready, pending, concluded, null: wait for a command */
    }
}

/* Advance the first job that can move; false when none can. */
static bool drive(ModelState *st)
{
    for (size_t i = 0; i < st->w->n_jobs; i++)
        if (model_job_step(st, &st->w->jobs[i]))
            return true;
    return false;
}

/* The end of a driving step: what it waited for may have been queued
 * already (a stale event of an earlier job of the same id, such as the
 * "null" of one that failed at its creation, job_early_fail()), but the
 * jobs it drives run on in QEMU all the same, in their coroutines and
 * job_exit() bottom halves, until they wait for a command: every job that
 * can move goes on to where it parks (ready, pending without
 * auto-finalize, concluded without auto-dismiss) or ends. */
static void settle(ModelState *st)
{
    while (drive(st))
        ;
}

/* JobVerbTable */
static bool verb(ModelJob *j, const char *verb_name, bool allowed, BgError *err)
{
    if (!allowed)
        return bg_error_setf(err, BG_MSG_JOB_VERB, j->id, status_names[j->status], verb_name);
    return true;
}

/* job_cancel_locked(): an active commit that is ready completes without the
 * pivot unless FORCE (mirror_cancel()); every other job is aborted. */
static void cancel(ModelState *st, ModelJob *j, bool force)
{
    if (j->type == MODEL_JOB_ACTIVE_COMMIT && !force && j->status == MODEL_JOB_READY) {
        j->pivot = false;
        status_event(st, j, MODEL_JOB_WAITING);
        return;
    }
    abort_job(st, j);
}

bool model_job_command(ModelState *st, const char *cmd, const json_t *args, BgError *err)
{
    /* block-job-*: find_block_job_locked() by "device" (finalize, dismiss: "id") */
    bool block = strncmp(cmd, "block-job-", 10) == 0;
    const char *what = block ? cmd + 10 : cmd + 4;
    const char *key = block && strcmp(what, "finalize") != 0 && strcmp(what, "dismiss") != 0
                          ? "device" : "id";
    json_t *idv = json_object_get(args, key);
    if (!idv)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, key);
    if (!json_is_string(idv))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, key, "string");
    if (strcmp(cmd, "block-job-set-speed") == 0) {   /* its second member, an int */
        json_t *speed = json_object_get(args, "speed");
        if (!speed)
            return bg_error_setf(err, BG_MSG_QAPI_MISSING, "speed");
        if (!json_is_integer(speed))
            return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "speed", "integer");
    }
    json_t *forcev = json_object_get(args, "force");
    if (forcev && (strcmp(cmd, "block-job-cancel") != 0 || !json_is_boolean(forcev)))
        return strcmp(cmd, "block-job-cancel") == 0
                   ? bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "force", "boolean")
                   : bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, "force");
    const char *id = json_string_value(idv);
    ModelJob *j = model_graph_job(st->w, id);
    if (!j) {
        if (!block)
            return bg_error_setf(err, BG_MSG_JOB_NOT_FOUND);
        st->err_class = "DeviceNotActive";
        return bg_error_setf(err, BG_MSG_BLOCK_JOB_NOT_FOUND, id);
    }
    ModelJobStatus s = j->status;
    if (strcmp(what, "complete") == 0) {
        if (!verb(j, "complete", s == MODEL_JOB_READY, err))
            return false;
        j->pivot = true;
        status_event(st, j, MODEL_JOB_WAITING);
        return true;
    }
    if (strcmp(what, "finalize") == 0) {
        if (!verb(j, "finalize", s == MODEL_JOB_PENDING, err))
            return false;
        conclude(st, j);
        return true;
    }
    if (strcmp(what, "dismiss") == 0) {
        if (!verb(j, "dismiss", s == MODEL_JOB_CONCLUDED, err))
            return false;
        status_event(st, j, MODEL_JOB_NULL);
        return true;
    }
    if (strcmp(what, "cancel") == 0) {
        bool force = block ? json_is_true(forcev) : true;
        if (!verb(j, "cancel", s != MODEL_JOB_ABORTING && s != MODEL_JOB_CONCLUDED, err))
            return false;
        cancel(st, j, force);
        return true;
    }
    st->unsupported = "job pause, resume and speed changes are not modelled";
    return false;
}

/* ---- driving steps ----------------------------------------------------------------------------------- */

/* The first queued event named one of NAMES whose data matches MATCH. */
static json_t *take_event(ModelState *st, const char *const *names, size_t n, const json_t *match)
{
    size_t i;
    json_t *ev;
    json_array_foreach(st->queue, i, ev) {
        const char *name = json_string_value(json_object_get(ev, "event"));
        for (size_t k = 0; k < n; k++) {
            if (strcmp(name, names[k]) != 0)
                continue;
            if (match && !json_is_null(match) && !bg_json_match(match, ev))
                continue;
            json_incref(ev);
            json_array_remove(st->queue, i);
            return ev;
        }
    }
    return NULL;
}

void model_job_wait_event(ModelState *st, const json_t *spec, BgResult *res)
{
    const char *name = json_string_value(json_object_get(spec, "event"));
    json_t *match = json_object_get(spec, "match");
    for (;;) {
        json_t *ev = take_event(st, &name, 1, match);
        if (ev) {
            bg_result_set_return(res, ev);
            settle(st);
            break;
        }
        if (!drive(st)) {
            json_t *t = json_object_get(spec, "timeout");
            double s = json_is_number(t) ? json_number_value(t) : BG_WAIT_TIMEOUT_DEF_S;
            if (!(s >= 0))
                s = 0;
            if (s > BG_WAIT_TIMEOUT_MAX_S)
                s = BG_WAIT_TIMEOUT_MAX_S;
            char *secs = s == (double)(long long)s ? bg_asprintf("%lld", (long long)s)
                                                   : bg_asprintf("%g", s);
            char *desc = bg_asprintf("no %s event within %s s", name, secs);
            bg_result_set_error(res, "Timeout", desc);
            free(desc);
            free(secs);
            break;
        }
    }
}

void model_job_wait_job(ModelState *st, const char *id, BgResult *res)
{
    static const char *const ends[] = { "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED" };
    json_t *by_device = json_pack("{s:{s:s}}", "data", "device", id);
    json_t *ev = NULL;
    while (!(ev = take_event(st, ends, 2, by_device)) && drive(st))
        ;
    json_decref(by_device);
    if (!ev) {
        char *desc = bg_asprintf("no BLOCK_JOB_COMPLETED or BLOCK_JOB_CANCELLED event for job '%s' "
                                 "within %d s", id, BG_WAIT_TIMEOUT_DEF_S);
        bg_result_set_error(res, "Timeout", desc);
        free(desc);
        return;
    }
    bool dismissed = false;
    ModelJob *j = model_graph_job(st->w, id);
    if (j && j->status == MODEL_JOB_CONCLUDED) {
        status_event(st, j, MODEL_JOB_NULL);
        dismissed = true;
    }
    /* wait-job waits for (and takes) the job's JOB_STATUS_CHANGE to null too,
     * also when auto-dismiss queued it before the step */
    static const char *const gone[] = { "JOB_STATUS_CHANGE" };
    json_t *null_status = json_pack("{s:{s:s,s:s}}", "data", "id", id, "status", "null");
    json_decref(take_event(st, gone, 1, null_status));
    json_decref(null_status);
    json_object_set_new(ev, "dismissed-by-us", json_boolean(dismissed));
    bg_result_set_return(res, ev);
    settle(st);
}

/* iotests.py VM.run_job() */
void model_job_run_job(ModelState *st, const json_t *spec, BgResult *res)
{
    const char *id = json_string_value(json_object_get(spec, "id"));
    json_t *af = json_object_get(spec, "auto-finalize"), *ad = json_object_get(spec, "auto-dismiss");
    bool auto_finalize = json_is_boolean(af) ? json_is_true(af) : true;
    bool auto_dismiss = json_is_boolean(ad) ? json_is_true(ad) : false;
    bool cancel = json_is_true(json_object_get(spec, "cancel"));
    if (!id) {
        bg_result_set_unsupported(res, "run-job without an id");
        return;
    }
    static const char *const by_dev[] = { "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED",
                                          "BLOCK_JOB_ERROR", "BLOCK_JOB_READY" };
    static const char *const by_id[] = { "BLOCK_JOB_PENDING", "JOB_STATUS_CHANGE" };
    json_t *mdev = json_pack("{s:{s:s}}", "data", "device", id);
    json_t *mid = json_pack("{s:{s:s}}", "data", "id", id);
    for (;;) {
        /* the first queued event for this job, in queue order */
        json_t *ev = NULL;
        size_t i;
        json_t *q;
        json_array_foreach(st->queue, i, q) {
            const char *name = json_string_value(json_object_get(q, "event"));
            const json_t *data = json_object_get(q, "data");
            bool dev = false, idm = false;
            for (size_t k = 0; k < 4; k++)
                dev |= strcmp(name, by_dev[k]) == 0;
            for (size_t k = 0; k < 2; k++)
                idm |= strcmp(name, by_id[k]) == 0;
            const char *key = dev ? "device" : idm ? "id" : NULL;
            const char *v = key ? json_string_value(json_object_get(data, key)) : NULL;
            if (v && strcmp(v, id) == 0) {
                ev = json_incref(q);
                json_array_remove(st->queue, i);
                break;
            }
        }
        if (!ev) {
            if (!drive(st)) {
                char *desc = bg_asprintf("no event for job '%s' within %d s", id,
                                         BG_WAIT_TIMEOUT_DEF_S);
                bg_result_set_error(res, "Timeout", desc);
                free(desc);
                break;
            }
            continue;
        }
        const char *name = json_string_value(json_object_get(ev, "event"));
        const char *status = json_string_value(json_object_get(json_object_get(ev, "data"),
                                                               "status"));
        BgError ignore = {0};
        if (strcmp(name, "JOB_STATUS_CHANGE") == 0 && status) {
            const char *verb_cmd = strcmp(status, "ready") == 0 ? "job-complete"
                                   : strcmp(status, "pending") == 0 && !auto_finalize
                                       ? (cancel ? "job-cancel" : "job-finalize")
                                   : strcmp(status, "concluded") == 0 && !auto_dismiss
                                       ? "job-dismiss" : NULL;
            json_t *a = json_pack("{s:s}", "id", id);
            if (verb_cmd) {
                /* The event may be a stale one of an earlier job of the same
                 * id (wait-job takes only its end and its "null"): VM.run_job()
                 * answers it at once, but the job of that id now, started by
                 * the step before, has run on meanwhile in its coroutine and
                 * job_exit() bottom half (observations: jobs finish within
                 * milliseconds), so the command meets it where it parks
                 * (ready, pending without auto-finalize, concluded without
                 * auto-dismiss) or gone, as settle() leaves it.  A job
                 * parked already does not move. */
                settle(st);
                model_job_command(st, verb_cmd, a, &ignore);
            }
            json_decref(a);
            if (strcmp(status, "null") == 0) {
                json_decref(ev);
                bg_result_set_return(res, json_pack("{s:n}", "error"));
                settle(st);
                break;
            }
        }
        json_decref(ev);
    }
    json_decref(mdev);
    json_decref(mid);
}
