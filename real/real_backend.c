/*
 * real_backend.c: BgBackendOps "real": the steps of a stream on the engine.
 *
 * What this is: streams.md's step semantics on the optimized engine, after
 * the qemu backend (qemu/qemu_backend.c) and QEMU 7.2's iotests:
 *   - the "VM" (qmp.h RealMachine) starts lazily with machine none, or by
 *     launch; shutdown closes every node, raises SHUTDOWN {"guest": false,
 *     "reason": "host-qmp-quit"} and returns the log of what qemu-io printed;
 *   - every event a step raises is the step's and also joins a queue of
 *     events not yet waited for (python/qemu/machine's QEMUMachine._events);
 *   - jobs advance after every step (job.h), so wait-event, wait-job and
 *     run-job find their events in the queue or time out at once: nothing
 *     else could make them happen;
 *   - x-blockdev-reopen is blockdev-reopen {"options": [ARGS]} with the
 *     seed's wording (bg_msg_seed_wording());
 *   - img-create and io run the engine's own qemu-img create and qemu-io
 *     (img.h, qemuio.h) on the scratch directory's files; qemu-img steps run
 *     the installed qemu-img (the images the engine writes are meant to be
 *     QEMU's), and are unsupported without it.
 *   - list_nodes offers the model's side-effect-free nodes (format and
 *     protocol subtrees only, none over a node a job that has not concluded
 *     may write) and read_node reads them leaving no trace, for the
 *     guest-data comparison (runner.h compare_data).
 * What it is not: a judge or a transcript writer (runner.h).  It keeps no
 * global state: everything lives in the BgBackend, except that opening
 * sets, from BgBackendConfig.volatile_scratch (the fuzzer's scratch, thrown
 * away after each input), whether files are synced to disk
 * (drv_file_set_host_sync()) and whether created qcow2 files are written
 * from templates (img_template_enable()).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bdrv.h"
#include "bg.h"
#include "events.h"
#include "graph.h"
#include "img.h"
#include "job.h"
#include "messages.h"
#include "nodedrv.h"
#include "offline.h"
#include "proc.h"
#include "qemuio.h"
#include "qmp.h"
#include "query.h"

struct BgBackend {
    char *scratch;            /* the stream's scratch directory */
    bool verbose;
    RealMachine *m;           /* the running VM, or NULL */
    char *last_log;           /* the log of the VM that ended last */
    json_t *queue;            /* events not yet waited for, oldest first */
    char *qemu_img;           /* the installed qemu-img, found at its first use */
    bool qemu_img_looked_up;
};

/* ---- events -------------------------------------------------------------------------- */

static void collect(BgBackend *be, BgResult *res)
{
    if (!be->m)
        return;
    events_collect(be->queue, res, be->m->g->events);
    json_array_clear(be->m->g->events);
}

/*
 * QEMU's main loop between two commands: jobs started or resumed by a
 * command make progress only after its reply, before the next command is
 * read (a stream that ends right after block-commit never sees the job move,
 * as with QEMU).  Every step that talks to the VM starts with it.
 */
static void main_loop(BgBackend *be, BgResult *res)
{
    if (!be->m)
        return;
    real_job_run_all(be->m->g);
    collect(be, res);
}

/* The end of every step that ran in the VM: events and stdout are handed out. */
static void finish_step(BgBackend *be, BgResult *res)
{
    if (!be->m)
        return;
    collect(be, res);
    if (be->m->out.len) {
        free(res->io_out);
        res->io_out = bg_buf_take(&be->m->out);
    }
    if (be->m->g && be->m->g->vm_exit)
        bg_result_set_unsupported(res, be->m->g->vm_exit);
}

static void start_vm(BgBackend *be, bool pc)
{
    if (be->m)
        return;
    be->m = real_machine_new(be->scratch, pc);
    json_array_clear(be->queue);
}

static void end_vm(BgBackend *be, BgResult *res)
{
    if (!be->m)
        return;
    main_loop(be, res);
    finish_step(be, res);
    /* QEMU's quit cancels every job (job_cancel_sync_all): their events are this step's */
    real_job_cancel_all(be->m->g);
    collect(be, res);
    real_graph_free(be->m->g);
    be->m->g = NULL;
    free(be->last_log);
    be->last_log = bg_buf_take(&be->m->log);
    bg_buf_cleanup(&be->m->out);
    free(be->m);
    be->m = NULL;
    json_array_clear(be->queue);
    json_t *shutdown = json_pack("{s:s,s:{s:b,s:s}}", "event", "SHUTDOWN", "data", "guest", 0,
                                 "reason", "host-qmp-quit");
    if (!res->events)
        res->events = json_array();
    json_array_append_new(res->events, shutdown);
}

/* ---- steps ----------------------------------------------------------------------------- */

static bool step_execute(BgBackend *be, json_t *cmd, BgResult *res, BgError *err)
{
    const char *name = json_string_value(json_object_get(cmd, "execute"));
    json_t *args = json_object_get(cmd, "arguments");
    if (!name)
        return bg_error_setf(err, "execute: the command name must be a string");
    start_vm(be, false);
    main_loop(be, res);
    if (!strcmp(name, "quit")) {
        end_vm(be, res);
        bg_result_set_return(res, json_object());
        return true;
    }
    bool seed = !strcmp(name, "x-blockdev-reopen");
    json_t *send = args;
    if (seed) {
        name = "blockdev-reopen";
        send = args ? json_pack("{s:[O]}", "options", args)
                    : json_pack("{s:[{}]}", "options");
    }
    real_qmp_execute(be->m, name, send, res);
    if (seed) {
        json_decref(send);
        if (res->kind == BG_RES_ERROR) {
            char *text = bg_msg_seed_wording(res->err_desc);
            free(res->err_desc);
            res->err_desc = text;
        }
    }
    assert(real_graph_check(be->m->g));
    finish_step(be, res);
    return true;
}

static char *size_string(json_t *v)
{
    if (json_is_integer(v))
        return bg_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_string(v))
        return bg_strdup(json_string_value(v));
    return NULL;
}

static bool step_img_create(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    const char *fmt = json_string_value(json_object_get(spec, "fmt"));
    const char *file = json_string_value(json_object_get(spec, "file"));
    if (!fmt || !file)
        return bg_error_setf(err, "img-create: \"fmt\" and \"file\" must be strings");
    char *size = size_string(json_object_get(spec, "size"));
    BgBuf out = { 0 }, errb = { 0 };
    int rc = img_create(be->scratch, fmt, file, size,
                        json_string_value(json_object_get(spec, "backing")),
                        json_string_value(json_object_get(spec, "backing-fmt")), &out, &errb);
    free(size);
    if (rc < 0) {
        bg_buf_cleanup(&out);
        bg_buf_cleanup(&errb);
        bg_result_set_unsupported(res, "img-create: format not implemented by the engine, or a "
                                       "looping backing chain");
        return true;
    }
    res->kind = BG_RES_OFFLINE;
    res->rc = rc;
    res->out = bg_buf_take(&out);
    res->err_text = bg_buf_take(&errb);
    return true;
}

static bool step_io(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    const char *fmt = json_string_value(json_object_get(spec, "fmt"));
    const char *file = json_string_value(json_object_get(spec, "file"));
    json_t *cmd = json_object_get(spec, "cmd");
    if (!fmt || !file || !cmd)
        return bg_error_setf(err, "io: \"fmt\", \"file\" and \"cmd\" are required");
    const char *cmds[BG_MAX_IO_CMDS];
    int n = 0;
    if (json_is_string(cmd)) {
        cmds[n++] = json_string_value(cmd);
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(cmd, i, c) {
            if (!json_is_string(c) || n == BG_MAX_IO_CMDS)
                return bg_error_setf(err, "io: \"cmd\" must be strings");
            cmds[n++] = json_string_value(c);
        }
    }
    BgBuf out = { 0 }, errb = { 0 };
    ImgOpenOptions o = { 0 };
    int rc = qemuio_offline(be->scratch, fmt, file, cmds, n, &o, &out, &errb);
    if (rc == QEMUIO_UNSUPPORTED) {
        bg_buf_cleanup(&out);
        bg_buf_cleanup(&errb);
        bg_result_set_unsupported(res, "io: a qemu-io command the engine does not implement");
        return true;
    }
    res->kind = BG_RES_OFFLINE;
    res->rc = rc;
    res->out = bg_buf_take(&out);
    res->err_text = bg_buf_take(&errb);
    if (res->out[0])
        res->io_out = bg_strdup(res->out);
    return true;
}

static bool step_qemu_img(BgBackend *be, const BgStep *step, json_t *args, BgResult *res,
                          BgError *err)
{
    if (!be->qemu_img_looked_up) {
        const char *o = getenv("BG_QEMU_IMG");
        be->qemu_img = proc_find_program(o && *o ? o : "qemu-img");
        be->qemu_img_looked_up = true;
    }
    if (!be->qemu_img) {
        bg_result_set_unsupported(res, "qemu-img is not installed");
        return true;
    }
    OfflineTools tools = { .qemu_img = be->qemu_img, .qemu_io = NULL, .cwd = be->scratch,
                           .line = step->line };
    return offline_qemu_img(&tools, args, res, err);
}

static bool step_launch(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    if (be->m) {
        bg_result_set_error(res, "GenericError",
                            "launch: the VM is already running (shutdown first)");
        return true;
    }
    json_t *mv = json_object_get(spec, "machine");
    const char *machine = mv ? json_string_value(mv) : "none";
    if (!machine || (strcmp(machine, "none") && strcmp(machine, "pc")))
        return bg_error_setf(err, "launch: machine must be \"none\" or \"pc\"");
    start_vm(be, !strcmp(machine, "pc"));
    bg_result_set_return(res, json_object());
    finish_step(be, res);
    return true;
}

static bool step_shutdown(BgBackend *be, BgResult *res)
{
    end_vm(be, res);
    bg_result_set_return(res, json_object());
    res->log = bg_strdup(be->last_log ? be->last_log : "");
    return true;
}

static bool step_wait_event(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    const char *name = json_string_value(json_object_get(spec, "event"));
    if (!name)
        return bg_error_setf(err, "wait-event: \"event\" must be a string");
    start_vm(be, false);
    main_loop(be, res);
    EventsWant want = { name, json_object_get(spec, "match") };
    json_t *ev = events_take_first(be->queue, &want, 1);
    if (ev) {
        bg_result_set_return(res, ev);
    } else {
        char *secs;
        events_wait_timeout(json_object_get(spec, "timeout"), &secs);
        char *desc = bg_asprintf(EVENTS_MSG_NO_EVENT, name, secs);
        bg_result_set_error(res, "Timeout", desc);
        free(desc);
        free(secs);
    }
    return true;
}

/* wait-job: its end event, then make sure it is gone (dismiss when concluded). */
static bool step_wait_job(BgBackend *be, const char *id, BgResult *res)
{
    start_vm(be, false);
    main_loop(be, res);
    EventsWaitJob wj;
    events_wait_job_init(&wj, id);
    json_t *ev = events_take_first(be->queue, wj.ends, 2);
    bool dismissed = false;
    if (!ev) {
        char *desc = bg_asprintf(EVENTS_MSG_NO_JOB_END, id, BG_WAIT_TIMEOUT_DEF_S);
        bg_result_set_error(res, "Timeout", desc);
        free(desc);
    } else {
        json_t *null_ev = events_take_first(be->queue, &wj.gone, 1);
        if (!null_ev) {
            RealJob *job = real_job_find(be->m->g, id);
            if (job && job->status == JOB_CONCLUDED) {
                BgError e = { 0 };
                dismissed = real_job_cmd_dismiss(be->m->g, id, false, &e);
                main_loop(be, res);
                null_ev = events_take_first(be->queue, &wj.gone, 1);
            }
        }
        if (!null_ev && real_job_find(be->m->g, id)) {
            char *desc = bg_asprintf(EVENTS_MSG_NOT_NULL, id, BG_WAIT_TIMEOUT_DEF_S);
            bg_result_set_error(res, "Timeout", desc);
            free(desc);
            json_decref(ev);
        } else {
            json_object_set_new(ev, "dismissed-by-us", json_boolean(dismissed));
            bg_result_set_return(res, ev);
        }
        json_decref(null_ev);
    }
    events_wait_job_cleanup(&wj);
    return true;
}

/* A QMP command issued by a wait helper (iotests' qmp_log): its events are the step's. */
static void helper_command(BgBackend *be, const char *name, const char *id, BgResult *res)
{
    BgResult r = { 0 };
    json_t *args = json_pack("{s:s}", "id", id);
    real_qmp_execute(be->m, name, args, &r);
    json_decref(args);
    bg_result_cleanup(&r);
    main_loop(be, res);
}

/* iotests.py VM.run_job(): the events' rules are events.h's. */
static bool step_run_job(BgBackend *be, json_t *spec, BgResult *res, BgError *err)
{
    EventsRunJob rj;
    if (!events_run_job_init(&rj, spec, err))
        return false;
    start_vm(be, false);
    main_loop(be, res);
    json_t *error = json_null();
    for (bool done = false; !done;) {
        json_t *ev = events_take_first(be->queue, rj.wants, sizeof(rj.wants) / sizeof(rj.wants[0]));
        if (!ev) {
            char *desc = bg_asprintf(EVENTS_MSG_NO_JOB_EVENT, rj.id, BG_WAIT_TIMEOUT_DEF_S);
            bg_result_set_error(res, "Timeout", desc);
            free(desc);
            break;
        }
        const char *command;
        switch (events_run_job_next(&rj, ev, &command)) {
        case EVENTS_RUN_JOB_ABORTING: {
            RealJob *job = real_job_find(be->m->g, rj.id);
            json_decref(error);
            error = job && job->error ? json_string(job->error) : json_null();
            break;
        }
        case EVENTS_RUN_JOB_COMMAND:
            helper_command(be, command, rj.id, res);
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
    return true;
}

/* ---- the vtable ------------------------------------------------------------------------ */

static void real_close(BgBackend *be);

static bool real_available(void)
{
    return true;
}

static BgBackend *real_open(const BgBackendConfig *cfg, BgError *err)
{
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->scratch = bg_strdup(cfg->scratch);
    be->verbose = cfg->verbose;
    be->queue = json_array();
    drv_file_set_host_sync(!cfg->volatile_scratch);
    img_template_enable(cfg->volatile_scratch);
    (void)err;
    return be;
}

static bool real_execute(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res,
                         BgError *err)
{
    switch (step->kind) {
    case BG_STEP_EXECUTE:
        return step_execute(be, cmd, res, err);
    case BG_STEP_IMG_CREATE:
        return step_img_create(be, json_object_get(cmd, "img-create"), res, err);
    case BG_STEP_IO:
        return step_io(be, json_object_get(cmd, "io"), res, err);
    case BG_STEP_QEMU_IMG:
        return step_qemu_img(be, step, json_object_get(cmd, "qemu-img"), res, err);
    case BG_STEP_LAUNCH:
        return step_launch(be, json_object_get(cmd, "launch"), res, err);
    case BG_STEP_WAIT_EVENT:
        return step_wait_event(be, json_object_get(cmd, "wait-event"), res, err);
    case BG_STEP_WAIT_JOB: {
        const char *id = json_string_value(json_object_get(cmd, "wait-job"));
        if (!id)
            return bg_error_setf(err, "wait-job: the job id must be a string");
        return step_wait_job(be, id, res);
    }
    case BG_STEP_RUN_JOB:
        return step_run_job(be, json_object_get(cmd, "run-job"), res, err);
    case BG_STEP_SHUTDOWN:
        return step_shutdown(be, res);
    case BG_STEP_NOOP:
    case BG_STEP__COUNT:
        break;
    }
    bg_result_set_unsupported(res, "not a step");
    return true;
}

/* ---- the comparator's view ---------------------------------------------------------- */

/*
 * Can N be read without side effects?  The model's rule (model_backend.c
 * pure_read()), so that both backends offer the same nodes for the same
 * graph: N and every node below it is qcow2, raw or file.  Reads through
 * copy-on-read copy up, through blkdebug consume rules, through throttle
 * take tokens, through quorum raise events; null-co without read-zeroes
 * returns no data; job filters belong to their jobs.  What a read of such a
 * subtree may still change is invisible to every later result: the qcow2
 * caches' contents and order (a dirty table written back on eviction is
 * what a flush writes anyway) and a variable length re-read.  A qcow2
 * corruption found on the way is the one exception: read_node makes it a
 * plain -EIO (RealBlockState.inspecting).
 */
static bool pure_read(const RealNode *n, int depth)
{
    static const char *const pure[] = { "qcow2", "raw", "file", NULL };
    bool ok = false;
    for (const char *const *p = pure; n->drv && *p; p++)
        ok |= strcmp(n->drv->format_name, *p) == 0;
    if (!ok || depth > 64)
        return false;
    for (const RealEdge *e = n->children; e; e = e->next_child)
        if (!e->child || !pure_read(e->child, depth + 1))
            return false;
    return true;
}

/* Does a write to D reach N: N is D, or below D through any child but a
 * COW (backing) child, the nodes a write to D passes? */
static bool write_reaches(const RealNode *d, const RealNode *n, int depth)
{
    if (d == n)
        return true;
    for (const RealEdge *e = d->children; e && depth < 64; e = e->next_child)
        if (e->child && !(e->c.role & REAL_CHILD_COW) && write_reaches(e->child, n, depth + 1))
            return true;
    return false;
}

/* Does N's subtree (N included) hold a node a block job that has not
 * concluded may write (backend.h list_nodes)?  The jobs move their data
 * after every step here, in QEMU whenever its coroutines run. */
static bool job_writes_below(const RealGraph *g, const RealNode *n, int depth)
{
    for (RealJob *j = g->jobs; j; j = j->next) {
        bool live = j->status >= JOB_CREATED && j->status < JOB_CONCLUDED;
        RealNode *d = live && j->drv->dest ? j->drv->dest(j) : NULL;
        if (d && write_reaches(d, n, 0))
            return true;
    }
    for (const RealEdge *e = n->children; e; e = e->next_child)
        if (e->child && (depth >= 64 || job_writes_below(g, e->child, depth + 1)))
            return true;
    return false;
}

/* The nodes the differential comparator reads (backend.h list_nodes). */
static json_t *real_list_nodes(BgBackend *be)
{
    json_t *list = json_array();
    for (RealNode *n = be->m ? be->m->g->head : NULL; n; n = n->list_next) {
        if (!pure_read(n, 0) || job_writes_below(be->m->g, n, 0))
            continue;
        int64_t len = bdrv_getlength(n->bs);
        if (len < 0)
            continue;
        json_array_append_new(list, json_pack("{s:s,s:I}", "node-name", n->node_name, "size",
                                              (json_int_t)len));
    }
    return list;
}

/* Mark (or unmark) every storage node of N's subtree as read for inspection. */
static void set_inspecting(RealNode *n, bool on)
{
    n->bs->inspecting = on;
    for (RealEdge *e = n->children; e; e = e->next_child)
        if (e->child)
            set_inspecting(e->child, on);
}

/* Guest-visible bytes of a node (the differential comparison's view); only
 * for nodes real_list_nodes() offers, so the read leaves no trace. */
static bool real_read_node(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                           uint8_t *buf, BgError *err)
{
    if (!be->m)
        return bg_error_setf(err, "the VM is not running");
    RealNode *n = real_graph_find_node(be->m->g, node);
    if (!n)
        return bg_error_setf(err, BG_MSG_FIND_NODE_FAILED, node);
    if (!pure_read(n, 0))
        return bg_error_setf(err, "node '%s' cannot be read without side effects", node);
    set_inspecting(n, true);
    int ret = bdrv_pread(n->bs, (int64_t)offset, (int64_t)len, buf, 0);
    set_inspecting(n, false);
    if (ret < 0)
        return bg_error_setf(err, "read failed: %s", strerror(-ret));
    return true;
}

/*
 * backend.h data_version: N's own numbers (its serial, its reopens and
 * child changes, bs->write_gen: every write, zero write, discard and
 * truncate that reached it), those of every child, and for a file node
 * the count of every change to a host file (drv_file_changes(): a write
 * through another node, img-create, an io step).  Whatever changes the
 * bytes a node reads moves one of them.
 */
static uint64_t version_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t node_version(const RealNode *n)
{
    uint64_t h = version_mix(version_mix(n->serial, n->data_gen), n->bs->write_gen);
    if (n->drv && n->drv->protocol)    /* file (and null, which has no file: harmless) */
        h = version_mix(h, drv_file_changes());
    for (const RealEdge *e = n->children; e; e = e->next_child)
        if (e->child)
            h = version_mix(h, node_version(e->child));
    return h ? h : 1;
}

static uint64_t real_data_version(BgBackend *be, const char *node)
{
    const RealNode *n = be->m ? real_graph_find_node(be->m->g, node) : NULL;
    return n ? node_version(n) : 0;
}

/* bdrv_block_status_above() down the whole chain, with want_zero (file
 * holes count), as qemu-img compare asks it, for as long as it says zero;
 * under `inspecting`, as a read. */
static uint64_t real_known_zero(BgBackend *be, const char *node, uint64_t offset, uint64_t len)
{
    RealNode *n = be->m ? real_graph_find_node(be->m->g, node) : NULL;
    if (!n || !pure_read(n, 0))
        return 0;
    set_inspecting(n, true);
    uint64_t done = 0;
    while (done < len) {
        int64_t pnum = 0;
        int ret = bdrv_block_status_above(n->bs, NULL, true, (int64_t)(offset + done),
                                          (int64_t)(len - done), &pnum, NULL, NULL, NULL);
        if (ret < 0 || !(ret & REAL_BLOCK_ZERO) || pnum <= 0)
            break;
        done += (uint64_t)pnum;
    }
    set_inspecting(n, false);
    return done < len ? done : len;
}

static char *real_get_log(BgBackend *be)
{
    if (be->m)
        return bg_strdup(be->m->log.data ? be->m->log.data : "");
    return be->last_log ? bg_strdup(be->last_log) : NULL;
}

static void real_close(BgBackend *be)
{
    if (!be)
        return;
    if (be->m) {
        BgResult scratch = { 0 };
        end_vm(be, &scratch);
        bg_result_cleanup(&scratch);
    }
    free(be->scratch);
    free(be->last_log);
    free(be->qemu_img);
    json_decref(be->queue);
    free(be);
}

/* Every change the engine makes to a file goes through drv_file.c or
 * qemu-img create (img.c), which count it. */
static uint64_t real_file_changes(BgBackend *be)
{
    (void)be;
    return drv_file_changes();
}

const BgBackendOps bg_real_backend_ops = {
    .name = "real",
    .available = real_available,
    .open = real_open,
    .execute = real_execute,
    .read_node = real_read_node,
    .known_zero = real_known_zero,
    .data_version = real_data_version,
    .list_nodes = real_list_nodes,
    .file_changes = real_file_changes,
    .get_log = real_get_log,
    .close = real_close,
};
