/*
 * record.c: replay --record (record.h).
 */
#include "record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "expect.h"
#include "json.h"
#include "norm.h"

struct BgRecorder {
    json_t *by_line;   /* "LINE" -> recorded step object */
};

BgRecorder *record_new(void)
{
    BgRecorder *r = bg_calloc(1, sizeof(*r));
    r->by_line = json_object();
    return r;
}

void record_free(BgRecorder *r)
{
    if (!r)
        return;
    json_decref(r->by_line);
    free(r);
}

static bool is_hmp_qemu_io(const BgStep *step)
{
    const char *cl = json_string_value(bg_json_path_get(step->cmd, "arguments/command-line"));
    return step->kind == BG_STEP_EXECUTE && cl && strncmp(cl, "qemu-io", 7) == 0;
}

static json_t *display_str(const char *s, const char *scratch)
{
    char *a = bg_norm_dir(s, scratch);
    json_t *r = json_string(a);
    free(a);
    return r ? r : json_string("");
}

void record_step(void *opaque, const BgStep *step, const BgResult *res, const char *scratch)
{
    BgRecorder *r = opaque;
    if (!step->source || res->kind == BG_RES_UNSUPPORTED)
        return;
    json_t *line = json_deep_copy(step->source);
    json_t *old = json_object_get(line, "expect");
    json_t *expect = json_object();
    /* The author's own structural assertions stay. */
    if (old && json_object_get(old, "checks"))
        json_object_set(expect, "checks", json_object_get(old, "checks"));
    if (old && json_object_get(old, "same-as"))
        json_object_set(expect, "same-as", json_object_get(old, "same-as"));
    switch (res->kind) {
    case BG_RES_RETURN:
        json_object_set_new(expect, "return", bg_norm_display(res->ret, scratch));
        break;
    case BG_RES_ERROR:
        if (strcmp(res->err_class, "GenericError") == 0)
            json_object_set_new(expect, "error", display_str(res->err_desc, scratch));
        else
            json_object_set_new(expect, "error",
                                json_pack("{s:s,s:o}", "class", res->err_class, "desc",
                                          display_str(res->err_desc, scratch)));
        break;
    case BG_RES_OFFLINE:
        json_object_set_new(expect, "rc", json_integer(res->rc));
        break;
    default:
        break;
    }
    const char *io = res->io_out ? res->io_out : res->out;
    if (is_hmp_qemu_io(step) || (step->kind == BG_STEP_IO && io))
        json_object_set_new(expect, "io-ok",
                            json_boolean(bg_expect_count_io_lines(io) > 0 &&
                                         bg_expect_pattern_failures(io) == 0));
    /* io-ops holds only without pattern failures: a log with one records none */
    if (step->kind == BG_STEP_SHUTDOWN && res->log && bg_expect_pattern_failures(res->log) == 0)
        json_object_set_new(expect, "io-ops", json_integer(bg_expect_count_io_lines(res->log)));
    json_object_set_new(line, "expect", expect);
    char key[32];
    snprintf(key, sizeof(key), "%d", step->line);
    json_object_set_new(r->by_line, key, line);
}

char *record_write(BgRecorder *r, const char *stream_path, const char *out_path, size_t *len,
                   BgError *err)
{
    FILE *in = fopen(stream_path, "r");
    if (!in) {
        bg_error_setf(err, "%s: cannot open: %s", stream_path, strerror(errno));
        return NULL;
    }
    BgBuf b = {0};
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int line = 0;
    while ((n = getline(&buf, &cap, in)) >= 0) {
        line++;
        char key[32];
        snprintf(key, sizeof(key), "%d", line);
        json_t *rec = json_object_get(r->by_line, key);
        if (rec) {
            char *s = json_dumps(rec, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
            bg_buf_puts(&b, s);
            bg_buf_append(&b, "\n", 1);
            free(s);
        } else {
            bg_buf_append(&b, buf, (size_t)n);
            if (n > 0 && buf[n - 1] != '\n')
                bg_buf_append(&b, "\n", 1);
        }
    }
    free(buf);
    fclose(in);
    /* written in one go; the caller parses the text, never reads OUT_PATH
     * back (it may be /dev/stdout, a pipe) */
    FILE *out = fopen(out_path, "w");
    bool ok = out && fwrite(b.data ? b.data : "", 1, b.len, out) == b.len;
    if (out && fclose(out) != 0)
        ok = false;
    if (!ok) {
        bg_error_setf(err, "%s: cannot write: %s", out_path, strerror(errno));
        bg_buf_cleanup(&b);
        return NULL;
    }
    *len = b.len;
    return b.data ? bg_buf_take(&b) : bg_strdup("");
}
