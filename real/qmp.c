/*
 * qmp.c: the engine VM's QMP commands (see qmp.h).
 *
 * Mirrors QEMU 7.2 blockdev.c qmp_blockdev_add/reopen/del(), block.c
 * qmp_query_named_block_nodes(), job-qmp.c and blockdev.c's block-job-*
 * commands, qom/qom-qmp-cmds.c qmp_object_add/del(), softmmu/qdev-monitor.c
 * qmp_device_add(), monitor/hmp.c qmp_human_monitor_command() with
 * block/monitor/block-hmp-cmds.c hmp_qemu_io().
 */
#include "qmp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"
#include "device.h"
#include "job.h"
#include "messages.h"
#include "nodedrv.h"
#include "object.h"
#include "open.h"
#include "perm.h"
#include "qapi.h"
#include "query.h"
#include "qemuio.h"
#include "reopen.h"

RealMachine *real_machine_new(const char *scratch, bool pc)
{
    RealMachine *m = bg_calloc(1, sizeof(*m));
    m->g = real_graph_new(scratch);
    m->pc = pc;
    return m;
}

void real_machine_free(RealMachine *m)
{
    if (!m)
        return;
    real_graph_free(m->g);
    bg_buf_cleanup(&m->log);
    bg_buf_cleanup(&m->out);
    free(m);
}

static void set_error(BgResult *res, BgError *err)
{
    bg_result_set_error(res, "GenericError", err->text);
}

/* ---- blockdev-del (qmp_blockdev_del) ------------------------------------------------ */

static const QapiMember del_args[] = { { "node-name", QAPI_STR, true, NULL },
                                       { NULL, 0, false, NULL } };

static bool blockdev_del(RealGraph *g, json_t *args, BgError *err)
{
    if (!real_qapi_check_struct(args, del_args, err))
        return false;
    const char *name = json_string_value(json_object_get(args, "node-name"));
    RealNode *n = real_graph_find_node(g, name);
    if (!n)
        return bg_error_setf(err, BG_MSG_FIND_NODE_FAILED, name);
    if (real_node_has_blk(n))
        return bg_error_setf(err, BG_MSG_NODE_IN_USE, name);
    if (real_node_op_is_blocked(n, REAL_OP_DRIVE_DEL, err))
        return false;
    if (!n->monitor_owned)
        return bg_error_setf(err, BG_MSG_NOT_OWNED_BY_MONITOR, n->node_name);
    if (n->refcnt > 1)
        return bg_error_setf(err, BG_MSG_BLOCK_DEVICE_IN_USE,
                             real_node_device_or_node_name(n));
    for (RealNode **pp = &g->monitor_head; *pp; pp = &(*pp)->monitor_next) {
        if (*pp == n) {
            *pp = n->monitor_next;
            break;
        }
    }
    n->monitor_owned = false;
    n->monitor_next = NULL;
    real_node_unref(n);
    return true;
}

/* ---- human-monitor-command: qemu-io --------------------------------------------------- */

typedef struct HmpIo {
    RealBlk *blk;
} HmpIo;

/* qemu-io-cmds.c command(): blk_set_perm(blk, perm | WRITE, shared). */
static bool hmp_take_write(void *opaque, RealBlockState *bs, BgError *err)
{
    HmpIo *h = opaque;
    if (h->blk->perm & REAL_PERM_WRITE)
        return true;
    RealGraph *g = h->blk->g;
    free(g->error_hint);
    g->error_hint = NULL;
    if (real_blk_set_perm(h->blk, h->blk->perm | REAL_PERM_WRITE, h->blk->shared_perm,
                          err) == 0)
        return true;
    /* error_report_err() prints the hint on the next line */
    if (g->error_hint && err && strlen(err->text) + strlen(g->error_hint) + 2 < BG_ERROR_TEXT) {
        strcat(err->text, "\n");
        strcat(err->text, g->error_hint);
    }
    return false;
}

/* monitor/hmp.c get_str(): a word or a quoted string with \n \r \\ \' \" escapes. */
static const char *hmp_get_str(const char *p, char *out, size_t size)
{
    size_t n = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            char c = *p++;
            if (c == '\\' && *p) {
                c = *p++;
                c = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
            }
            if (n + 1 < size)
                out[n++] = c;
        }
        if (*p != '"')
            return NULL;
        p++;
    } else {
        while (*p && *p != ' ' && *p != '\t') {
            if (n + 1 < size)
                out[n++] = *p;
            p++;
        }
    }
    out[n] = '\0';
    return p;
}

static void crlf(BgBuf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            bg_buf_puts(out, "\r");
        bg_buf_append(out, p, 1);
    }
}

static void hmp_qemu_io(RealMachine *m, const char *args, BgResult *res)
{
    char device[4096], command[4096];
    const char *p = args;
    while (*p == ' ')
        p++;
    if (!strncmp(p, "-d", 2) && (p[2] == ' ' || !p[2])) {
        bg_result_set_unsupported(res, "qemu-io -d (qdev) is not implemented");
        return;
    }
    p = hmp_get_str(p, device, sizeof(device));
    if (!p || !device[0]) {
        bg_result_set_unsupported(res, "qemu-io: malformed HMP arguments");
        return;
    }
    p = hmp_get_str(p, command, sizeof(command));
    if (!p) {
        bg_result_set_unsupported(res, "qemu-io: malformed HMP arguments");
        return;
    }
    BgError err = { 0 };
    RealNode *n = real_graph_lookup(m->g, NULL, device, &err);
    if (!n) {
        char *reply = bg_asprintf(BG_MSG_HMP_ERROR, err.text);
        bg_result_set_return(res, json_string(reply));
        free(reply);
        return;
    }
    HmpIo h = { .blk = real_blk_new(m->g, n->ctx, 0, REAL_PERM_ALL) };
    BgBuf report = { 0 }, out = { 0 }, errb = { 0 };
    if (real_blk_insert(h.blk, n, &err) < 0) {
        bg_buf_printf(&report, "%s\n", err.text);
    } else {
        QemuIoContext ctx = { .bs = n->bs, .out = &out, .err = &errb, .report = &report,
                              .report_prefix = "", .qemu_print = &report,
                              .take_write_perm = hmp_take_write,
                              .opaque = &h };
        int ret = qemuio_command(&ctx, command);
        if (ret == QEMUIO_UNSUPPORTED) {
            real_blk_unref(h.blk);
            bg_buf_cleanup(&report);
            bg_buf_cleanup(&out);
            bg_buf_cleanup(&errb);
            bg_result_set_unsupported(res, "qemu-io command not implemented by the engine");
            return;
        }
    }
    real_blk_unref(h.blk);
    BgBuf reply = { 0 };
    crlf(&reply, report.data ? report.data : "");
    char *r = bg_buf_take(&reply);
    bg_result_set_return(res, json_string(r));
    free(r);
    if (out.len) {
        bg_buf_append(&m->out, out.data, out.len);
        bg_buf_append(&m->log, out.data, out.len);
    }
    if (errb.len)
        bg_buf_append(&m->log, errb.data, errb.len);
    bg_buf_cleanup(&report);
    bg_buf_cleanup(&out);
    bg_buf_cleanup(&errb);
}

static const QapiMember hmp_args[] = { { "command-line", QAPI_STR, true, NULL },
                                       { "cpu-index", QAPI_INT, false, NULL },
                                       { NULL, 0, false, NULL } };

static void human_monitor_command(RealMachine *m, json_t *args, BgResult *res)
{
    BgError err = { 0 };
    if (!real_qapi_check_struct(args, hmp_args, &err)) {
        set_error(res, &err);
        return;
    }
    const char *line = json_string_value(json_object_get(args, "command-line"));
    while (*line == ' ')
        line++;
    if (!strncmp(line, "qemu-io", 7) && (line[7] == ' ' || !line[7])) {
        hmp_qemu_io(m, line + 7, res);
        return;
    }
    bg_result_set_unsupported(res, "only the qemu-io HMP command is implemented");
}

/* ---- job commands ------------------------------------------------------------------ */

static const QapiMember id_args[] = { { "id", QAPI_STR, true, NULL },
                                      { NULL, 0, false, NULL } };
static const QapiMember device_args[] = { { "device", QAPI_STR, true, NULL },
                                          { NULL, 0, false, NULL } };
static const QapiMember cancel_args[] = { { "id", QAPI_STR, true, NULL },
                                          { NULL, 0, false, NULL } };
static const QapiMember bj_cancel_args[] = { { "device", QAPI_STR, true, NULL },
                                             { "force", QAPI_BOOL, false, NULL },
                                             { NULL, 0, false, NULL } };
static const QapiMember bj_id_args[] = { { "id", QAPI_STR, true, NULL },
                                         { NULL, 0, false, NULL } };
static const QapiMember bj_speed_args[] = { { "device", QAPI_STR, true, NULL },
                                            { "speed", QAPI_INT, true, NULL },
                                            { NULL, 0, false, NULL } };

static void job_cmd(RealMachine *m, const char *name, json_t *args, BgResult *res)
{
    BgError err = { 0 };
    bool ok, block_job = !strncmp(name, "block-job-", 10);
    const char *verb = name + (block_job ? 10 : 4);
    const QapiMember *members = id_args;
    const char *key = "id";
    if (block_job && !strcmp(verb, "set-speed")) {
        members = bj_speed_args;
        key = "device";
    } else if (block_job && (!strcmp(verb, "complete") || !strcmp(verb, "cancel") ||
                             !strcmp(verb, "pause") || !strcmp(verb, "resume"))) {
        members = !strcmp(verb, "cancel") ? bj_cancel_args : device_args;
        key = "device";
    } else if (block_job) {
        members = bj_id_args;            /* block-job-finalize, block-job-dismiss */
    } else if (!strcmp(verb, "cancel")) {
        members = cancel_args;
    }
    if (!real_qapi_check_struct(args, members, &err)) {
        set_error(res, &err);
        return;
    }
    const char *id = json_string_value(json_object_get(args, key));
    if (!strcmp(verb, "complete"))
        ok = real_job_cmd_complete(m->g, id, block_job, &err);
    else if (!strcmp(verb, "finalize"))
        ok = real_job_cmd_finalize(m->g, id, block_job, &err);
    else if (!strcmp(verb, "dismiss"))
        ok = real_job_cmd_dismiss(m->g, id, block_job, &err);
    else if (!strcmp(verb, "cancel"))
        ok = real_job_cmd_cancel(m->g, id,
                                 block_job ? json_is_true(json_object_get(args, "force")) : true,
                                 block_job, &err);
    else {
        /* pause, resume, set-speed: the job is looked up first (qmp_job_pause()
         * and friends, find_block_job_locked()); what they do is not
         * implemented */
        if (real_job_find(m->g, id)) {
            bg_result_set_unsupported(res, "job pause, resume and speed changes are not "
                                           "implemented");
            return;
        }
        ok = block_job ? bg_error_setf(&err, BG_MSG_BLOCK_JOB_NOT_FOUND, id)
                       : bg_error_setf(&err, BG_MSG_JOB_NOT_FOUND);
    }
    if (ok) {
        bg_result_set_return(res, json_object());
    } else {
        const char *cls = block_job && !strncmp(err.text, "Block job '", 11)
                              ? "DeviceNotActive" : "GenericError";
        bg_result_set_error(res, cls, err.text);
    }
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* A filter left without its filtered child (a job's dropped filter still
 * referenced) at or below N: QEMU's filter drivers take the length from
 * bs->file->bs, and a closed node (no driver) is answered ("is ejected"). */
static bool childless_filter_below(RealNode *n)
{
    if (n->drv && n->bs && n->bs->drv && n->drv->is_filter && !real_node_filter_child(n))
        return true;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (childless_filter_below(c->child))
            return true;
    return false;
}

static void execute(RealMachine *m, const char *name, json_t *args, BgResult *res,
                    json_t *empty)
{
    BgError err = { 0 };
    bool unsupported = false, ok;
    RealGraph *g = m->g;
    if (!args)
        args = empty;

    if (!strcmp(name, "blockdev-add")) {
        ok = real_blockdev_add(g, args, &unsupported, &err);
    } else if (!strcmp(name, "blockdev-reopen")) {
        ok = real_blockdev_reopen(g, args, &unsupported, &err);
    } else if (!strcmp(name, "blockdev-del")) {
        ok = blockdev_del(g, args, &err);
    } else if (!strcmp(name, "query-named-block-nodes")) {
        static const QapiMember qargs[] = { { "flat", QAPI_BOOL, false, NULL },
                                            { NULL, 0, false, NULL } };
        if (!real_qapi_check_struct(args, qargs, &err)) {
            set_error(res, &err);
            return;
        }
        /* a job's dropped filter left without its child (still referenced)
         * makes QEMU 7.2 die with SIGSEGV here */
        for (RealNode *n = g->head; n; n = n->list_next) {
            if (childless_filter_below(n)) {
                bg_result_set_unsupported(res, "query-named-block-nodes with a filter "
                                               "left without its child (QEMU 7.2 crashes)");
                return;
            }
        }
        json_t *r = real_query_named_block_nodes(
            g, json_is_true(json_object_get(args, "flat")), &err);
        if (r)
            bg_result_set_return(res, r);
        else
            set_error(res, &err);
        return;
    } else if (!strcmp(name, "query-block-jobs")) {
        bg_result_set_return(res, real_query_block_jobs(g));
        return;
    } else if (!strcmp(name, "query-jobs")) {
        bg_result_set_return(res, real_query_jobs(g));
        return;
    } else if (!strcmp(name, "object-add")) {
        ok = real_object_add(g, args, &unsupported, &err);
    } else if (!strcmp(name, "object-del")) {
        ok = real_object_del(g, args, &err);
    } else if (!strcmp(name, "device_add")) {
        const char *cls = "GenericError";
        ok = real_device_add(g, args, m->pc, &unsupported, &cls, &err);
        if (!ok && !unsupported) {
            bg_result_set_error(res, cls, err.text);
            return;
        }
    } else if (!strcmp(name, "block-stream")) {
        ok = real_qmp_block_stream(g, args, &err);
        unsupported = !ok && !strcmp(err.text, "unsupported");
    } else if (!strcmp(name, "block-commit")) {
        ok = real_qmp_block_commit(g, args, &err);
        unsupported = !ok && !strcmp(err.text, "unsupported");
    } else if (!strncmp(name, "job-", 4) || !strncmp(name, "block-job-", 10)) {
        job_cmd(m, name, args, res);
        return;
    } else if (!strcmp(name, "human-monitor-command")) {
        human_monitor_command(m, args, res);
        return;
    } else if (!strcmp(name, "qmp_capabilities")) {
        bg_result_set_return(res, json_object());
        return;
    } else {
        bg_result_set_unsupported(res, "QMP command not implemented by the engine");
        return;
    }
    if (unsupported)
        bg_result_set_unsupported(res, "a driver or type the engine does not implement");
    else if (ok)
        bg_result_set_return(res, json_object());
    else if (!strcmp(name, "block-commit") && !strncmp(err.text, "Device '", 8) &&
             strlen(err.text) > 11 && !strcmp(err.text + strlen(err.text) - 11, "' not found"))
        bg_result_set_error(res, "DeviceNotFound", err.text);
    else
        set_error(res, &err);
}

void real_qmp_execute(RealMachine *m, const char *name, json_t *args, BgResult *res)
{
    json_t *empty = json_object();
    execute(m, name, args, res, empty);
    json_decref(empty);
}
