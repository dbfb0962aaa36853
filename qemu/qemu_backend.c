/*
 * qemu_backend.c: BgBackendOps "qemu": steps of a stream on a real QEMU 7.2.
 *
 * What this is: the step semantics of streams.md on top of vm.h, qmp.h,
 * events.h and offline.h, after QEMU 7.2's iotests:
 *   - the VM starts lazily (machine none) or by `launch`, as iotests'
 *     VM.launch() with `-nodefaults -display none`, under `stdbuf -oL`;
 *   - every event is this step's event and also goes to a queue of events
 *     not yet waited for, python/qemu/machine's QEMUMachine._events;
 *   - wait-event is QEMUMachine.event_wait(), wait-job waits for the end of
 *     a job and makes sure it is gone, run-job is iotests.py VM.run_job();
 *   - x-blockdev-reopen is blockdev-reopen {"options": [ARGS]} with the
 *     seed's wording (messages.h bg_msg_seed_wording());
 *   - what QEMU prints on stdout (HMP qemu-io) is the step's io_out.
 * What it is not: a judge (expect.h) or a transcript writer (runner.h); it
 * never deletes files (the runner owns the scratch directory).
 *
 * A false return means the backend failed (QEMU died, hung, or a tool could
 * not be run); a QMP error or a wait that timed out is a result.
 */
#include "qemu_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "events.h"
#include "messages.h"
#include "offline.h"
#include "proc.h"
#include "vm.h"

struct BgBackend {
    char *scratch;      /* the stream's scratch directory (cwd of every process) */
    bool verbose;       /* print command lines on stderr */
    char *log_path;     /* where VM logs are written when they end, or NULL */
    bool log_written;   /* log_path was started (later VMs append) */
    char *stdbuf;       /* resolved paths of the programs */
    char *qemu;
    char *qemu_img;
    char *qemu_io;
    Vm *vm;             /* the running VM, or NULL */
    char *last_log;     /* the whole log of the VM that ended last, or NULL */
    json_t *queue;      /* events of the VM not yet waited for, oldest first */
};

/* ---- programs --------------------------------------------------------------- */

static char *find(const char *env, const char *name)
{
    const char *o = getenv(env);
    return proc_find_program(o && *o ? o : name);
}

static bool qemu_available(void)
{
    char *p[4] = { find("BG_QEMU", "qemu-system-x86_64"), find("BG_QEMU_IMG", "qemu-img"),
                   find("BG_QEMU_IO", "qemu-io"), proc_find_program("stdbuf") };
    bool ok = p[0] && p[1] && p[2] && p[3];
    for (int i = 0; i < 4; i++)
        free(p[i]);
    return ok;
}

/* ---- the VM and its events --------------------------------------------------- */

/* Move the events that arrived into the step's result and into the queue. */
static void collect(BgBackend *be, BgResult *res)
{
    if (!be->vm)
        return;
    json_t *evs = vm_take_events(be->vm);
    events_collect(be->queue, res, evs);
    json_decref(evs);
}

/* Events and stdout of the step so far. */
static void finish_step(BgBackend *be, BgResult *res)
{
    if (!be->vm)
        return;
    collect(be, res);
    char *out = vm_take_stdout(be->vm);
    if (out) {
        free(res->io_out);
        res->io_out = out;
    }
}

static void keep_log(BgBackend *be, const char *log)
{
    free(be->last_log);
    be->last_log = bg_strdup(log ? log : "");
    if (!be->log_path)
        return;
    FILE *f = fopen(be->log_path, be->log_written ? "a" : "w");
    if (f) {
        fputs(be->last_log, f);
        fclose(f);
    }
    be->log_written = true;
}

/* The VM has ended (quit or died): keep its log, forget it and its queue. */
static void end_vm(BgBackend *be, BgResult *res)
{
    finish_step(be, res);
    keep_log(be, vm_log(be->vm));
    vm_free(be->vm);
    be->vm = NULL;
    json_array_clear(be->queue);
}

/* A VM operation failed (err is set): the VM is dead; the step fails. */
static bool lost_vm(BgBackend *be, BgResult *res)
{
    end_vm(be, res);
    return false;
}

static bool start_vm(BgBackend *be, const char *machine, json_t *args, BgResult *res,
                     BgError *err)
{
    if (be->vm)
        return true;
    VmConfig cfg = { .stdbuf = be->stdbuf, .qemu = be->qemu, .cwd = be->scratch,
                     .machine = machine, .args = args, .verbose = be->verbose };
    char *log = NULL;
    be->vm = vm_start(&cfg, &log, err);
    if (!be->vm) {
        keep_log(be, log);
        free(log);
        return false;
    }
    json_array_clear(be->queue);
    collect(be, res);
    return true;
}

/* One QMP command inside a step; its events are the step's.  False: VM lost. */
static bool command(BgBackend *be, const char *name, json_t *args, BgResult *res, json_t **reply,
                    BgError *err)
{
    bool ok = vm_execute(be->vm, name, args, reply, err);
    collect(be, res);
    return ok;
}

/* A command whose reply only matters if it is missing (iotests' qmp_log()). */
static bool command_ignore(BgBackend *be, const char *name, json_t *take_args, BgResult *res,
                           BgError *err)
{
    json_t *reply = NULL;
    bool ok = command(be, name, take_args, res, &reply, err);
    json_decref(take_args);
    json_decref(reply);
    return ok;
}

typedef enum WaitStatus { WAIT_FOUND, WAIT_TIMEOUT, WAIT_LOST } WaitStatus;

/*
 * python/qemu/machine events_wait(): the first queued event that matches one
 * of the wants, else new events in arrival order (unmatched ones stay
 * queued) until the deadline.  WAIT_FOUND sets *ev (owned).
 */
static WaitStatus wait_for(BgBackend *be, const EventsWant *wants, size_t n, int64_t deadline_ms,
                           BgResult *res, json_t **ev, BgError *err)
{
    for (;;) {
        collect(be, res);
        *ev = events_take_first(be->queue, wants, n);
        if (*ev)
            return WAIT_FOUND;
        bool timed_out;
        if (!vm_wait_event(be->vm, deadline_ms, &timed_out, err))
            return timed_out ? WAIT_TIMEOUT : WAIT_LOST;
    }
}

/* query-jobs entry of job ID (borrowed from *reply, owned by the caller). */
static json_t *query_job(BgBackend *be, const char *id, BgResult *res, json_t **reply,
                         BgError *err, bool *ok)
{
    *ok = command(be, "query-jobs", NULL, res, reply, err);
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(*reply, "return"), i, j) {
        const char *jid = json_string_value(json_object_get(j, "id"));
        if (jid && strcmp(jid, id) == 0)
            return j;
    }
    return NULL;
}

/* ---- steps ---------------------------------------------------------------------- */

static bool step_launch(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    if (be->vm) {
        bg_result_set_error(res, "GenericError",
                            "launch: the VM is already running (shutdown first)");
        return true;
    }
    json_t *m = json_object_get(spec, "machine");
    const char *machine = m ? json_string_value(m) : "none";
    if (!machine || (strcmp(machine, "none") != 0 && strcmp(machine, "pc") != 0))
        return bg_error_setf(err, "launch: machine must be \"none\" or \"pc\"");
    json_t *args = json_object_get(spec, "args");
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a) {
        if (!json_is_string(a))
            return bg_error_setf(err, "launch: args must be strings");
    }
    if (!start_vm(be, machine, args, res, err))
        return false;
    bg_result_set_return(res, json_object());
    finish_step(be, res);
    return true;
}

static bool step_shutdown(BgBackend *be, BgResult *res, BgError *err)
{
    if (!be->vm) {
        bg_result_set_return(res, json_object());
        res->log = bg_strdup(be->last_log ? be->last_log : "");
        return true;
    }
    bool ok = vm_quit(be->vm, err);
    end_vm(be, res);
    if (!ok)
        return false;
    bg_result_set_return(res, json_object());
    res->log = bg_strdup(be->last_log);
    return true;
}

static bool step_execute(BgBackend *be, json_t *cmd, BgResult *res, BgError *err)
{
    const char *name = json_string_value(json_object_get(cmd, "execute"));
    json_t *args = json_object_get(cmd, "arguments");
    if (!name)
        return bg_error_setf(err, "execute: the command name must be a string");
    if (!start_vm(be, "none", NULL, res, err))
        return false;
    if (strcmp(name, "quit") == 0) {
        /* QEMU goes away: wait for it as shutdown does. */
        bool ok = vm_quit(be->vm, err);
        end_vm(be, res);
        if (ok)
            bg_result_set_return(res, json_object());
        return ok;
    }
    bool reopen = strcmp(name, "x-blockdev-reopen") == 0;
    json_t *send = args;
    if (reopen) {
        name = "blockdev-reopen";
        send = json_pack("{s:[o]}", "options", args ? json_incref(args) : json_object());
    }
    json_t *reply = NULL;
    bool ok = command(be, name, send, res, &reply, err);
    if (reopen)
        json_decref(send);
    if (!ok)
        return lost_vm(be, res);
    json_t *ret = json_object_get(reply, "return");
    if (ret) {
        bg_result_set_return(res, json_incref(ret));
    } else {
        json_t *e = json_object_get(reply, "error");
        const char *cls = json_string_value(json_object_get(e, "class"));
        const char *desc = json_string_value(json_object_get(e, "desc"));
        char *text = reopen ? bg_msg_seed_wording(desc ? desc : "") : bg_strdup(desc ? desc : "");
        bg_result_set_error(res, cls ? cls : "GenericError", text);
        free(text);
    }
    json_decref(reply);
    finish_step(be, res);
    return true;
}

static bool step_wait_event(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    const char *name = json_string_value(json_object_get(spec, "event"));
    if (!name)
        return bg_error_setf(err, "wait-event: \"event\" must be a string");
    char *secs;
    double timeout = events_wait_timeout(json_object_get(spec, "timeout"), &secs);
    if (!start_vm(be, "none", NULL, res, err)) {
        free(secs);
        return false;
    }
    EventsWant want = { name, json_object_get(spec, "match") };
    json_t *ev = NULL;
    WaitStatus w = wait_for(be, &want, 1, proc_deadline_s(timeout), res, &ev, err);
    if (w == WAIT_LOST) {
        free(secs);
        return lost_vm(be, res);
    }
    if (w == WAIT_FOUND) {
        bg_result_set_return(res, ev);
    } else {
        char *desc = bg_asprintf(EVENTS_MSG_NO_EVENT, name, secs);
        bg_result_set_error(res, "Timeout", desc);
        free(desc);
    }
    free(secs);
    finish_step(be, res);
    return true;
}

/*
 * wait-job: BLOCK_JOB_COMPLETED or _CANCELLED for the job, then make sure it
 * is gone: dismiss it if it is still "concluded", wait for status null.
 */
static bool step_wait_job(BgBackend *be, const char *id, BgResult *res, BgError *err)
{
    if (!start_vm(be, "none", NULL, res, err))
        return false;
    int64_t deadline = proc_deadline_s(BG_WAIT_TIMEOUT_DEF_S);
    EventsWaitJob wj;
    events_wait_job_init(&wj, id);
    json_t *ev = NULL;
    char *timeout = NULL;
    bool dismissed = false, tried = false, ok = true;

    WaitStatus w = wait_for(be, wj.ends, 2, deadline, res, &ev, err);
    if (w == WAIT_TIMEOUT)
        timeout = bg_asprintf(EVENTS_MSG_NO_JOB_END, id, BG_WAIT_TIMEOUT_DEF_S);
    while (w == WAIT_FOUND) {
        collect(be, res);
        json_t *null_ev = events_take_first(be->queue, &wj.gone, 1);
        if (null_ev) {
            json_decref(null_ev);
            break;
        }
        json_t *reply = NULL;
        json_t *job = query_job(be, id, res, &reply, err, &ok);
        const char *status = json_string_value(json_object_get(job, "status"));
        bool concluded = status && strcmp(status, "concluded") == 0;
        bool listed = job != NULL;
        json_decref(reply);
        if (!ok)
            break;
        if (!listed) {   /* gone; its JOB_STATUS_CHANGE null came before the reply */
            collect(be, res);
            json_decref(events_take_first(be->queue, &wj.gone, 1));
            break;
        }
        if (concluded && !tried) {
            tried = true;
            json_t *args = json_pack("{s:s}", "id", id);
            json_t *r = NULL;
            ok = command(be, "job-dismiss", args, res, &r, err);
            dismissed = ok && json_object_get(r, "return") != NULL;
            json_decref(args);
            json_decref(r);
            if (!ok)
                break;
            continue;
        }
        bool timed_out;
        if (!vm_wait_event(be->vm, deadline, &timed_out, err)) {
            if (!timed_out) {
                ok = false;
                break;
            }
            timeout = bg_asprintf(EVENTS_MSG_NOT_NULL, id, BG_WAIT_TIMEOUT_DEF_S);
            break;
        }
    }
    events_wait_job_cleanup(&wj);
    if (w == WAIT_LOST || !ok) {
        json_decref(ev);
        free(timeout);
        return lost_vm(be, res);
    }
    if (timeout) {
        bg_result_set_error(res, "Timeout", timeout);
        json_decref(ev);
    } else {
        json_object_set_new(ev, "dismissed-by-us", json_boolean(dismissed));
        bg_result_set_return(res, ev);
    }
    free(timeout);
    finish_step(be, res);
    return true;
}

/* iotests.py (QEMU 7.2) VM.run_job(): the events' rules are events.h's. */
static bool step_run_job(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    EventsRunJob rj;
    if (!events_run_job_init(&rj, spec, err))
        return false;
    if (!start_vm(be, "none", NULL, res, err)) {
        events_run_job_cleanup(&rj);
        return false;
    }
    json_t *error = json_null();
    bool ok = true, done = false;
    while (ok && !done) {
        json_t *ev = NULL;
        WaitStatus w = wait_for(be, rj.wants, sizeof(rj.wants) / sizeof(rj.wants[0]),
                                proc_deadline_s(BG_WAIT_TIMEOUT_DEF_S), res, &ev, err);
        if (w == WAIT_LOST) {
            ok = false;
            break;
        }
        if (w == WAIT_TIMEOUT) {
            char *desc = bg_asprintf(EVENTS_MSG_NO_JOB_EVENT, rj.id, BG_WAIT_TIMEOUT_DEF_S);
            bg_result_set_error(res, "Timeout", desc);
            free(desc);
            break;
        }
        const char *command;
        switch (events_run_job_next(&rj, ev, &command)) {
        case EVENTS_RUN_JOB_ABORTING: {
            json_t *reply = NULL;
            json_t *job = query_job(be, rj.id, res, &reply, err, &ok);
            if (job) {
                json_t *e = json_object_get(job, "error");
                json_decref(error);
                error = e ? json_incref(e) : json_null();
            }
            json_decref(reply);
            break;
        }
        case EVENTS_RUN_JOB_COMMAND:
            ok = command_ignore(be, command, json_pack("{s:s}", "id", rj.id), res, err);
            break;
        case EVENTS_RUN_JOB_DONE:
            bg_result_set_return(res, json_pack("{s:O}", "error", error));
            done = true;
            break;
        case EVENTS_RUN_JOB_WAIT:
            break;
        }
        json_decref(ev);
    }
    json_decref(error);
    events_run_job_cleanup(&rj);
    if (!ok)
        return lost_vm(be, res);
    finish_step(be, res);
    return true;
}

/* ---- the vtable ------------------------------------------------------------------- */

static void qemu_close(BgBackend *be);

static BgBackend *qemu_open(const BgBackendConfig *cfg, BgError *err)
{
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->scratch = bg_strdup(cfg->scratch);
    be->verbose = cfg->verbose;
    be->log_path = cfg->log_path ? bg_strdup(cfg->log_path) : NULL;
    be->queue = json_array();
    be->qemu = find("BG_QEMU", "qemu-system-x86_64");
    be->qemu_img = find("BG_QEMU_IMG", "qemu-img");
    be->qemu_io = find("BG_QEMU_IO", "qemu-io");
    be->stdbuf = proc_find_program("stdbuf");
    const char *missing = !be->qemu     ? "qemu-system-x86_64 (or $BG_QEMU)"
                          : !be->qemu_img ? "qemu-img (or $BG_QEMU_IMG)"
                          : !be->qemu_io  ? "qemu-io (or $BG_QEMU_IO)"
                          : !be->stdbuf   ? "stdbuf"
                                          : NULL;
    if (missing) {
        bg_error_setf(err, "qemu backend: %s not found", missing);
        qemu_close(be);
        return NULL;
    }
    return be;
}

static bool qemu_execute(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res,
                         BgError *err)
{
    OfflineTools tools = { .qemu_img = be->qemu_img, .qemu_io = be->qemu_io,
                           .cwd = be->scratch, .line = step->line };
    switch (step->kind) {
    case BG_STEP_EXECUTE:
        return step_execute(be, cmd, res, err);
    case BG_STEP_IMG_CREATE:
        return offline_img_create(&tools, json_object_get(cmd, "img-create"), res, err);
    case BG_STEP_IO:
        return offline_io(&tools, json_object_get(cmd, "io"), res, err);
    case BG_STEP_QEMU_IMG:
        return offline_qemu_img(&tools, json_object_get(cmd, "qemu-img"), res, err);
    case BG_STEP_LAUNCH:
        return step_launch(be, json_object_get(cmd, "launch"), res, err);
    case BG_STEP_WAIT_EVENT:
        return step_wait_event(be, json_object_get(cmd, "wait-event"), res, err);
    case BG_STEP_WAIT_JOB: {
        const char *id = json_string_value(json_object_get(cmd, "wait-job"));
        if (!id)
            return bg_error_setf(err, "wait-job: the job id must be a string");
        return step_wait_job(be, id, res, err);
    }
    case BG_STEP_RUN_JOB:
        return step_run_job(be, json_object_get(cmd, "run-job"), res, err);
    case BG_STEP_SHUTDOWN:
        return step_shutdown(be, res, err);
    case BG_STEP_NOOP:
    case BG_STEP__COUNT:
        break;
    }
    bg_result_set_unsupported(res, "not a step");
    return true;
}

static char *qemu_get_log(BgBackend *be)
{
    if (be->vm)
        return bg_strdup(vm_log(be->vm));
    return be->last_log ? bg_strdup(be->last_log) : NULL;
}

static void qemu_close(BgBackend *be)
{
    if (!be)
        return;
    if (be->vm) {
        BgError ignore = { 0 };
        BgResult scratch_res = { 0 };
        vm_quit(be->vm, &ignore);   /* kills it when it does not go */
        end_vm(be, &scratch_res);
        bg_result_cleanup(&scratch_res);
    }
    free(be->scratch);
    free(be->log_path);
    free(be->stdbuf);
    free(be->qemu);
    free(be->qemu_img);
    free(be->qemu_io);
    free(be->last_log);
    json_decref(be->queue);
    free(be);
}

pid_t qemu_backend_vm_pid(const BgBackend *be)
{
    return be ? vm_pid(be->vm) : -1;
}

const BgBackendOps bg_qemu_backend_ops = {
    .name = "qemu",
    .available = qemu_available,
    .open = qemu_open,
    .execute = qemu_execute,
    .read_node = NULL,
    .get_log = qemu_get_log,
    .close = qemu_close,
};
