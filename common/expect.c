/*
 * expect.c: one assertion per expectation key (expect.h).
 *
 * The qemu-io rules are the seed's check_qemu_io_errors() (seed lines
 * 75-86): a result line matches re.match("(read|wrote) .*\/.* bytes at
 * offset"), a failure line starts with "Pattern verification failed".
 */
#include "expect.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "json.h"
#include "norm.h"

#define DEFAULT_CLASS "GenericError"

static const regex_t *io_line_re(void)
{
    static regex_t re;   /* compiled once, read-only afterwards */
    static int ready;
    if (!ready) {
        if (regcomp(&re, "^(read|wrote) .*/.* bytes at offset", REG_EXTENDED | REG_NOSUB) != 0)
            abort();
        ready = 1;
    }
    return &re;
}

/* Call fn on each line of text (without its newline). */
static int count_lines(const char *text, bool (*fn)(const char *line))
{
    int n = 0;
    if (!text)
        return 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = bg_strndup(p, len);
        if (fn(line))
            n++;
        free(line);
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static bool is_io_line(const char *line) { return regexec(io_line_re(), line, 0, NULL, 0) == 0; }
static bool is_pattern_failure(const char *line)
{
    return strncmp(line, "Pattern verification failed", 27) == 0;
}

int bg_expect_count_io_lines(const char *text) { return count_lines(text, is_io_line); }
int bg_expect_pattern_failures(const char *text) { return count_lines(text, is_pattern_failure); }

static json_t *display(const json_t *v, const char *scratch)
{
    return v ? bg_norm_display(v, scratch) : json_null();
}

static json_t *display_str(const char *s, const char *scratch)
{
    if (!s)
        return json_null();
    char *a = bg_norm_dir(s, scratch);
    char *b = bg_norm_timing(a);
    json_t *r = json_string(b);
    free(a);
    free(b);
    return r ? r : json_string("(invalid UTF-8)");
}

json_t *bg_expect_result_json(const BgResult *res, const char *scratch)
{
    switch (res->kind) {
    case BG_RES_RETURN:
        return json_pack("{s:o}", "return", display(res->ret, scratch));
    case BG_RES_ERROR:
        return json_pack("{s:{s:o,s:o}}", "error", "class", display_str(res->err_class, scratch),
                         "desc", display_str(res->err_desc, scratch));
    case BG_RES_OFFLINE:
        return json_pack("{s:i,s:o,s:o}", "rc", res->rc, "stdout", display_str(res->out, scratch),
                         "stderr", display_str(res->err_text, scratch));
    case BG_RES_UNSUPPORTED:
        return json_pack("{s:o}", "unsupported", display_str(res->unsupported, scratch));
    }
    return json_null();
}

static void add(json_t *out, int *failed, const char *kind, json_t *expected, bool ok,
                json_t *actual)
{
    json_array_append_new(out, json_pack("{s:s,s:o,s:b,s:o}", "kind", kind, "expected",
                                         expected ? expected : json_null(), "ok", ok, "actual",
                                         actual ? actual : json_null()));
    if (!ok)
        (*failed)++;
}

/* The list entry whose node-name is NAME, or NULL. */
static json_t *find_node(json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    if (!json_is_array(list))
        return NULL;
    json_array_foreach(list, i, e) {
        const char *n = json_string_value(json_object_get(e, "node-name"));
        if (n && strcmp(n, name) == 0)
            return e;
    }
    return NULL;
}

/* CHK is compared, SHOWN (the same check as written) is reported. */
static void judge_check(json_t *out, int *failed, const json_t *chk, const json_t *shown,
                        const BgResult *res, const char *scratch)
{
    json_t *ret = res->kind == BG_RES_RETURN ? res->ret : NULL;
    const char *node = json_string_value(json_object_get(chk, "node"));
    const char *path = json_string_value(json_object_get(chk, "path"));
    json_t *start = ret;
    json_t *expected = json_deep_copy(shown);
    if (!ret) {
        add(out, failed, "check", expected, false, bg_expect_result_json(res, scratch));
        return;
    }
    if (node) {
        start = find_node(ret, node);
        if (json_is_true(json_object_get(chk, "missing"))) {
            add(out, failed, "check", expected, start == NULL,
                start ? display(start, scratch) : json_null());
            return;
        }
        if (!start) {
            add(out, failed, "check", expected, false, json_string("no such node"));
            return;
        }
    }
    json_t *v = bg_json_path_get(start, path ? path : "");
    if (json_is_true(json_object_get(chk, "absent"))) {
        add(out, failed, "check", expected, v == NULL, v ? display(v, scratch) : json_null());
        return;
    }
    json_t *want = json_object_get(chk, "equals");
    const char *other = json_string_value(json_object_get(chk, "equals-path"));
    if (other)
        want = bg_json_path_get(start, other);
    bool ok = v && want && bg_norm_equal(want, v, scratch);
    add(out, failed, "check", expected, ok, v ? display(v, scratch) : json_string("absent"));
}

static bool io_ok(const char *text)
{
    return bg_expect_count_io_lines(text) > 0 && bg_expect_pattern_failures(text) == 0;
}

json_t *bg_expect_judge(const BgStep *step, const BgResult *res, const BgExpectCtx *ctx,
                        int *failed)
{
    json_t *out = json_array();
    const json_t *shown = step->expect;   /* as written */
    const char *scratch = ctx->scratch;
    if (!shown)
        return out;
    json_t *e = ctx->subst ? bg_json_map_strings(shown, ctx->subst, ctx->subst_opaque)
                           : json_incref((json_t *)shown);   /* as compared */

    json_t *want = json_object_get(e, "return");
    if (want) {
        bool ok = res->kind == BG_RES_RETURN && bg_norm_equal(want, res->ret, scratch);
        add(out, failed, "return", json_deep_copy(json_object_get(shown, "return")), ok,
            bg_expect_result_json(res, scratch));
    }
    want = json_object_get(e, "error");
    if (want) {
        const char *cls = DEFAULT_CLASS, *desc;
        if (json_is_string(want)) {
            desc = json_string_value(want);
        } else {
            desc = json_string_value(json_object_get(want, "desc"));
            if (json_object_get(want, "class"))
                cls = json_string_value(json_object_get(want, "class"));
        }
        bool ok = res->kind == BG_RES_ERROR && strcmp(res->err_class, cls) == 0 &&
                  bg_norm_str_equal(desc, res->err_desc, scratch);
        add(out, failed, "error", json_deep_copy(json_object_get(shown, "error")), ok,
            bg_expect_result_json(res, scratch));
    }
    want = json_object_get(e, "same-as");
    if (want) {
        json_t *saved = json_object_get(ctx->saved, json_string_value(want));
        bool ok = res->kind == BG_RES_RETURN && saved && json_equal(saved, res->ret);
        add(out, failed, "same-as", json_deep_copy(want), ok,
            bg_expect_result_json(res, scratch));
    }
    json_t *checks = json_object_get(e, "checks");
    json_t *shown_checks = json_object_get(shown, "checks");
    size_t i;
    json_t *chk;
    json_array_foreach(checks, i, chk)
        judge_check(out, failed, chk, json_array_get(shown_checks, i), res, scratch);

    want = json_object_get(e, "io-ok");
    if (want) {
        const char *text = res->io_out ? res->io_out : res->out;
        bool ok = io_ok(text) == json_is_true(want);
        add(out, failed, "io-ok", json_deep_copy(want), ok, display_str(text ? text : "", scratch));
    }
    want = json_object_get(e, "io-ops");
    if (want) {
        int n = bg_expect_count_io_lines(res->log);
        int bad = bg_expect_pattern_failures(res->log);
        bool ok = n == json_integer_value(want) && bad == 0;
        add(out, failed, "io-ops", json_deep_copy(want), ok,
            json_pack("{s:i,s:i}", "io-lines", n, "pattern-failures", bad));
    }
    want = json_object_get(e, "rc");
    if (want) {
        bool ok = res->kind == BG_RES_OFFLINE && res->rc == json_integer_value(want);
        add(out, failed, "rc", json_deep_copy(want), ok, bg_expect_result_json(res, scratch));
    }
    json_decref(e);
    return out;
}
