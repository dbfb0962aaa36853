/*
 * test_minimize.c: replay --minimize keeps the difference and drops the rest.
 *
 * Two fake backends that differ only on query-jobs, and only when the step
 * carries "arguments": {"keep": ...}; everything else agrees.
 */
#include <stdlib.h>
#include <unistd.h>

#include "bg.h"
#include "harness.h"
#include "json.h"
#include "minimize.h"

struct BgBackend {
    int variant;
};

static BgBackend *open_v(int v)
{
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->variant = v;
    return be;
}
static BgBackend *open_a(const BgBackendConfig *c, BgError *e) { return open_v(0); }
static BgBackend *open_b(const BgBackendConfig *c, BgError *e) { return open_v(1); }

static bool exec(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res, BgError *err)
{
    bool differs = strcmp(bg_step_name(step), "query-jobs") == 0 &&
                   bg_json_path_get(cmd, "arguments/keep") != NULL;
    bg_result_set_return(res, json_integer(differs ? be->variant : 0));
    return true;
}

static void close_be(BgBackend *be) { free(be); }

static const BgBackendOps fa = { .name = "fa", .open = open_a, .execute = exec, .close = close_be };
static const BgBackendOps fb = { .name = "fb", .open = open_b, .execute = exec, .close = close_be };

static void test_minimize_keeps_the_difference(void)
{
    const char *text =
        "# a comment line\n"
        "{\"execute\": \"query-block\", \"comment\": \"noise\"}\n"
        "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"x\"}, \"seed\": 3}\n"
        "{\"execute\": \"query-jobs\", \"arguments\": {\"keep\": 1, \"drop\": {\"a\": 2}}, "
        "\"expect\": {\"return\": 0}}\n"
        "{\"execute\": \"query-block\"}\n"
        "{\"execute\": \"query-jobs\"}\n";
    BgError err = {0};
    BgStream *s = bg_stream_parse("m.jsonl", text, strlen(text), &err);
    CHECK(s != NULL);
    if (!s)
        return;
    char tdir[] = "/tmp/bg-test-minimize-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    BgRunOptions opt = { .scratch_base = tdir };
    const BgBackendOps *backends[2] = { &fa, &fb };
    char *out = NULL;
    int runs = 0;
    CHECK(minimize_stream(s, backends, &opt, &out, &runs, &err));
    CHECK_STR_EQ(out, "{\"execute\": \"query-jobs\", \"arguments\": {\"keep\": 1}}\n");
    CHECK(runs > 3);
    free(out);
    bg_stream_free(s);

    /* nothing to minimize when the backends agree */
    const char *agree = "{\"execute\": \"query-block\"}\n";
    s = bg_stream_parse("m.jsonl", agree, strlen(agree), &err);
    CHECK(s != NULL);
    if (!s)
        return;
    bg_error_clear(&err);
    out = NULL;
    CHECK(!minimize_stream(s, backends, &opt, &out, &runs, &err));
    CHECK_STR_EQ(err.text, "m.jsonl: the backends do not differ: nothing to minimize");
    CHECK(out == NULL);
    bg_stream_free(s);
    CHECK(rmdir(tdir) == 0);
}

BG_SUITE(minimize) = {
    {"keeps_the_difference", test_minimize_keeps_the_difference},
    {NULL, NULL},
};
