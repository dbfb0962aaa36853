/*
 * test_model_util.h: helpers for the model's unit tests: a model backend on
 * a scratch name (the model keeps no files), steps written as JSON with
 * single quotes for readability, and HMP qemu-io lines.
 */
#ifndef BG_TEST_MODEL_UTIL_H
#define BG_TEST_MODEL_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "json.h"
#include "test_step_util.h"
#include "../../model/model.h"

#define TM_DIR "/scratch"

static inline BgBackend *tm_open(void)
{
    BgBackendConfig cfg = { .scratch = TM_DIR, .stream_path = "test" };
    BgError err = {0};
    return bg_model_backend_ops.open(&cfg, &err);
}

/* One step; LINE is JSON whose single quotes stand for double quotes. */
static inline BgResult tm_run(BgBackend *be, const char *line)
{
    return ts_run(&bg_model_backend_ops, be, TM_DIR, line);
}

/* A step that must succeed (its result is dropped). */
static inline void tm_ok(BgBackend *be, const char *line)
{
    BgResult r = tm_run(be, line);
    if (r.kind == BG_RES_ERROR || r.kind == BG_RES_UNSUPPORTED ||
        (r.kind == BG_RES_OFFLINE && r.rc != 0)) {
        fprintf(stderr, "  step failed: %s: %s\n", line,
                r.err_desc ? r.err_desc : r.unsupported ? r.unsupported : "rc");
        bg_test_failures++;
    }
    bg_result_cleanup(&r);
}

/* The error text of a step that must fail ("" if it did not; owned). */
static inline char *tm_error(BgBackend *be, const char *line)
{
    BgResult r = tm_run(be, line);
    char *e = bg_strdup(r.kind == BG_RES_ERROR && r.err_desc ? r.err_desc : "");
    bg_result_cleanup(&r);
    return e;
}

/* HMP qemu-io NODE "CMD": what it printed (owned, "" if nothing). */
static inline char *tm_qemu_io(BgBackend *be, const char *node, const char *cmd)
{
    json_t *j = json_pack("{s:s,s:{s:s}}", "execute", "human-monitor-command", "arguments",
                          "command-line", "");
    char *cl = bg_asprintf("qemu-io %s \"%s\"", node, cmd);
    json_object_set_new(json_object_get(j, "arguments"), "command-line", json_string(cl));
    free(cl);
    char *text = json_dumps(j, 0);
    json_decref(j);
    for (char *p = text; *p; p++)      /* tm_run() turns ' into " */
        if (*p == '\'')
            *p = ' ';
    BgResult r = tm_run(be, text);
    free(text);
    char *out = bg_strdup(r.io_out ? r.io_out : r.kind == BG_RES_RETURN && json_is_string(r.ret)
                                                     ? json_string_value(r.ret) : "");
    bg_result_cleanup(&r);
    return out;
}

#endif
