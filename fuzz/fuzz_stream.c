/*
 * fuzz_stream.c: libFuzzer target for everything that reads a stream before
 * any backend acts: the reader (common/stream.c), the policy and the lexical
 * confinement it calls (policy.c, confine.c), the expectation checker
 * (expect.c) and the normaliser (norm.c).
 *
 * What it is: raw bytes go to bg_stream_parse(); for a stream that parses,
 * each step is judged against fake results built from the step itself (the
 * expected return value, the expected error, an output text made of the
 * step's strings), so every expectation kind runs on values an attacker
 * chose.  It also checks invariants that must hold whatever the input:
 *   1. a refusal names the stream ("fuzz:") and fits one line;
 *   2. a step re-reads from its own serialisation (bg_step_to_line);
 *   3. a "return" or "error" expectation holds on the very value it expects,
 *      and normalised equality is reflexive and symmetric;
 *   4. a step that parsed passes its own policy check again, and the walk
 *      finds as many file names after $DIR substitution (unless the
 *      substituted step is refused).
 * A broken invariant aborts with the reason on stderr.
 * What it is not: the differential target (model against real), and it runs
 * no backend and touches no file (bg_confine_step scans a directory; it is
 * tested by tests/unit/test_confine.c).
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Icommon \
 *         -D_GNU_SOURCE fuzz/fuzz_stream.c common/\*.c -ljansson -lz -o fuzz_stream
 *   ./fuzz_stream -dict=fuzz/stream.dict corpus/seed tests/streams
 *
 * Follows libxml2 fuzz/ and OpenSSL fuzz/: engine-free body, no exit(), all
 * memory released on every path (LeakSanitizer checks each input).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bg.h"
#include "expect.h"
#include "json.h"
#include "norm.h"
#include "policy.h"
#include "stream.h"

#define FUZZ_SCRATCH "/fuzz/scratch"   /* never created: only substituted and normalised */


static void broken(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_stream: invariant broken: %s: %s\n", what, detail ? detail : "");
    abort();
}

/* ---- texts made of a step's strings ---------------------------------------- */

static void collect_strings(const json_t *v, BgBuf *b, int depth)
{
    if (depth > BG_MAX_JSON_DEPTH + 2)
        return;
    if (json_is_string(v)) {
        bg_buf_append(b, json_string_value(v), json_string_length(v));
        bg_buf_puts(b, "\n");
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            collect_strings(c, b, depth + 1);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            bg_buf_puts(b, k);
            bg_buf_puts(b, " ");
            collect_strings(c, b, depth + 1);
        }
    }
}

/* ---- invariant 4: file names before and after $DIR substitution ------------- */

typedef struct Names {
    int count;         /* file names the walk reported */
} Names;

static bool count_name(const char *name, BgFileRole role, const char *base, void *opaque,
                       BgError *err)
{
    Names *n = opaque;
    (void)role;
    (void)base;
    (void)err;
    if (!name)
        broken("file name callback", "NULL name");
    n->count++;
    return true;
}

static char *subst_dir(const char *s, void *opaque)
{
    (void)opaque;
    BgBuf b = {0};
    for (const char *p = s; *p;) {
        const char *d = strstr(p, "$DIR");
        size_t n = d ? (size_t)(d - p) : strlen(p);
        bg_buf_append(&b, p, n);
        if (!d)
            break;
        bg_buf_puts(&b, FUZZ_SCRATCH);
        p = d + 4;
    }
    return bg_buf_take(&b);
}

static void check_file_names(const BgStep *step)
{
    Names before = {0}, after = {0};
    BgError e1 = {0}, e2 = {0};
    bool ok1 = bg_policy_check_step_files(step->kind, step->cmd, count_name, &before, &e1);
    if (!ok1)
        broken("a step that parsed fails its own policy check", e1.text);
    json_t *sub = bg_json_map_strings(step->cmd, subst_dir, NULL);
    if (!sub)
        broken("bg_json_map_strings", "returned NULL");
    (void)bg_policy_check_step_files(step->kind, sub, count_name, &after, &e2);
    if (!e2.set && before.count != after.count)
        broken("file names differ after $DIR substitution", e2.text);
    json_decref(sub);
}

/* ---- invariants 2 and 3, and the checker on fake results ------------------------ */

static void judge(const BgStep *step, BgResult *res, const BgExpectCtx *ctx)
{
    int failed = 0;
    json_t *a = bg_expect_judge(step, res, ctx, &failed);
    if (!json_is_array(a))
        broken("bg_expect_judge", "did not return an array");
    json_t *shown = bg_expect_result_json(res, ctx->scratch);
    char *s = bg_json_dumps(a);
    free(s);
    json_decref(shown);

    /* invariant 3: the expected value itself satisfies "return" and "error" */
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        const char *kind = json_string_value(json_object_get(x, "kind"));
        bool ok = json_is_true(json_object_get(x, "ok"));
        if (!kind)
            broken("assertion without a kind", NULL);
        if (!ok && ((strcmp(kind, "return") == 0 && res->kind == BG_RES_RETURN) ||
                    (strcmp(kind, "error") == 0 && res->kind == BG_RES_ERROR))) {
            char *d = bg_json_dumps(x);
            fprintf(stderr, "assertion: %s\n", d);
            free(d);
            broken("an expectation does not hold on the value it expects", kind);
        }
    }
    json_decref(a);
}

static void check_norm(const json_t *a, const json_t *b)
{
    if (!bg_norm_equal(a, a, FUZZ_SCRATCH))
        broken("bg_norm_equal is not reflexive", NULL);
    if (bg_norm_equal(a, b, FUZZ_SCRATCH) != bg_norm_equal(b, a, FUZZ_SCRATCH))
        broken("bg_norm_equal is not symmetric", NULL);
    json_t *n = bg_norm_json(a, FUZZ_SCRATCH);
    json_t *d = bg_norm_display(a, FUZZ_SCRATCH);
    json_decref(n);
    json_decref(d);
}

static void check_text(const char *text)
{
    char *a = bg_norm_dir(text, FUZZ_SCRATCH);
    char *b = bg_norm_timing(a);
    char *c = bg_norm_string(text, FUZZ_SCRATCH);
    if (!bg_norm_str_equal(text, text, FUZZ_SCRATCH))
        broken("bg_norm_str_equal is not reflexive", NULL);
    (void)bg_expect_count_io_lines(text);
    (void)bg_expect_pattern_failures(text);
    free(a);
    free(b);
    free(c);
}

static void fuzz_step(const BgStep *step, json_t *saved)
{
    /* invariant 2: the step re-reads from its own line */
    char *line = bg_step_to_line(step);
    json_error_t jerr;
    json_t *obj = line ? json_loads(line, 0, &jerr) : NULL;
    if (!obj)
        broken("bg_step_to_line gives a line that does not parse", line);
    BgStep again;
    BgError err = {0};
    if (!bg_step_from_json(obj, step->line, &again, &err))
        broken("a step does not re-read from its own line", err.text);
    if (again.kind != step->kind || !json_equal(again.cmd, step->cmd))
        broken("a step re-reads as another step", line);
    bg_step_cleanup(&again);
    json_decref(obj);
    free(line);

    check_file_names(step);

    const json_t *e = step->expect;
    json_t *want_ret = json_object_get(e, "return");
    json_t *want_err = json_object_get(e, "error");
    BgBuf b = {0};
    collect_strings(step->cmd, &b, 0);
    collect_strings(e, &b, 0);
    char *text = bg_buf_take(&b);
    check_text(text);
    BgExpectCtx ctx = { .scratch = FUZZ_SCRATCH, .saved = saved };

    /* a success returning the expected value, or the step itself */
    BgResult r = {0};
    json_t *ret = json_deep_copy(want_ret ? want_ret : step->cmd);
    bg_result_set_return(&r, ret ? ret : json_null());
    r.io_out = bg_strdup(text);
    r.log = bg_strdup(text);
    r.events = json_array();
    judge(step, &r, &ctx);
    check_norm(r.ret, step->cmd);
    if (want_ret)
        check_norm(want_ret, r.ret);
    if (step->save)
        json_object_set(saved, step->save, r.ret);
    json_t *bind;
    const char *var;
    json_object_foreach(step->bind, var, bind) {
        const char *path = json_string_value(json_object_get(bind, "path"));
        json_t *list = r.ret;
        size_t i;
        json_t *entry;
        json_array_foreach(list, i, entry)
            if (bg_json_match(json_object_get(bind, "where"), entry))
                (void)bg_json_path_get(entry, path ? path : "");
    }
    bg_result_cleanup(&r);

    /* a failure with the expected class and text, or a text of the step's strings */
    BgResult f = {0};
    const char *cls = "GenericError", *desc = text;
    if (json_is_string(want_err)) {
        desc = json_string_value(want_err);
    } else if (want_err) {
        desc = json_string_value(json_object_get(want_err, "desc"));
        if (json_is_string(json_object_get(want_err, "class")))
            cls = json_string_value(json_object_get(want_err, "class"));
    }
    bg_result_set_error(&f, cls, desc ? desc : "");
    judge(step, &f, &ctx);
    bg_result_cleanup(&f);

    /* an offline tool's exit status and output */
    BgResult o = { .kind = BG_RES_OFFLINE };
    json_t *rc = json_object_get(e, "rc");
    o.rc = json_is_integer(rc) ? (int)json_integer_value(rc) : 0;
    o.out = bg_strdup(text);
    o.err_text = bg_strdup(text);
    judge(step, &o, &ctx);
    bg_result_cleanup(&o);

    /* a step the backend cannot do */
    BgResult u = {0};
    bg_result_set_unsupported(&u, text);
    judge(step, &u, &ctx);
    bg_result_cleanup(&u);
    free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("fuzz", (const char *)data, size, &err);
    if (!s) {
        /* invariant 1: a refusal says where, on one line */
        if (!err.set || strncmp(err.text, "fuzz:", 5) != 0)
            broken("a refusal without \"fuzz:LINE:\"", err.text);
        if (strchr(err.text, '\n'))
            broken("a refusal that spans lines", err.text);
        return 0;
    }
    json_t *saved = json_object();
    for (size_t i = 0; i < s->n_steps; i++)
        fuzz_step(&s->steps[i], saved);
    json_decref(saved);
    bg_stream_free(s);
    return 0;
}
