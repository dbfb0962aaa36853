/*
 * test_minimize.c: replay --minimize keeps the difference and drops the rest.
 *
 * Two fake backends that differ only on query-jobs, and only when the step
 * carries "arguments": {"keep": ...}; everything else agrees.  And two whose
 * blockdev-del errors differ in a text that an earlier block-stream decides:
 * minimizing must keep the text (the finding key's values), not only the
 * command, channel and path.
 */
#include <stdlib.h>
#include <unistd.h>

#include "bg.h"
#include "harness.h"
#include "json.h"
#include "minimize.h"

struct BgBackend {
    int variant;
    char *streamed;   /* the device of the last block-stream, or NULL */
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

static void close_be(BgBackend *be)
{
    free(be->streamed);
    free(be);
}

/* blockdev-del: "fa" says it is in use; "fb" names the node a block-stream
 * ran on (any name: the key blanks it) as busy, or without one, not found. */
static bool exec_text(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res,
                      BgError *err)
{
    const char *name = bg_step_name(step);
    if (strcmp(name, "block-stream") == 0) {
        const char *dev = json_string_value(bg_json_path_get(cmd, "arguments/device"));
        free(be->streamed);
        be->streamed = bg_strdup(dev ? dev : "");
        bg_result_set_return(res, json_object());
    } else if (strcmp(name, "blockdev-del") == 0) {
        char *msg = be->variant == 0 ? bg_strdup("Node 'hd0' is in use")
                    : be->streamed ? bg_asprintf("Node '%s' is busy: 2 jobs", be->streamed)
                                   : bg_strdup("Node 'hd0' not found");
        bg_result_set_error(res, "GenericError", msg);
        free(msg);
    } else {
        bg_result_set_return(res, json_object());
    }
    return true;
}

static const BgBackendOps fa = { .name = "fa", .open = open_a, .execute = exec, .close = close_be };
static const BgBackendOps fb = { .name = "fb", .open = open_b, .execute = exec, .close = close_be };
static const BgBackendOps ta = { .name = "ta", .open = open_a, .execute = exec_text,
                                 .close = close_be };
static const BgBackendOps tb = { .name = "tb", .open = open_b, .execute = exec_text,
                                 .close = close_be };

/* Minimize TEXT (named NAME) on backends A and B in a fresh scratch
 * directory: minimize_stream()'s answer, the minimized text in *OUT. */
static bool minimize_text(const char *name, const char *text, const BgBackendOps *a,
                          const BgBackendOps *b, char **out, BgError *err)
{
    BgStream *s = bg_stream_parse(name, text, strlen(text), err);
    CHECK(s != NULL);
    if (!s)
        return false;
    char tdir[] = "/tmp/bg-test-minimize-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    BgRunOptions opt = { .scratch_base = tdir };
    const BgBackendOps *backends[2] = { a, b };
    int runs = 0;
    *out = NULL;
    bool ok = minimize_stream(s, backends, &opt, out, &runs, err);
    CHECK(!ok || runs > 3);
    bg_stream_free(s);
    CHECK(rmdir(tdir) == 0);
    return ok;
}

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
    char *out = NULL;
    CHECK(minimize_text("m.jsonl", text, &fa, &fb, &out, &err));
    CHECK_STR_EQ(out, "{\"execute\": \"query-jobs\", \"arguments\": {\"keep\": 1}}\n");
    free(out);

    /* nothing to minimize when the backends agree */
    bg_error_clear(&err);
    CHECK(!minimize_text("m.jsonl", "{\"execute\": \"query-block\"}\n", &fa, &fb, &out, &err));
    CHECK_STR_EQ(err.text, "m.jsonl: the backends do not differ: nothing to minimize");
    CHECK(out == NULL);
}

/* Dropping the block-stream keeps command, channel and path (blockdev-del,
 * result, /error/desc) but changes fb's text: not taken.  Dropping its
 * device changes only a quoted name, which the key blanks: taken. */
static void test_minimize_keeps_the_values(void)
{
    const char *text =
        "{\"execute\": \"query-block\"}\n"
        "{\"execute\": \"block-stream\", \"arguments\": {\"device\": \"top\", \"speed\": 1}}\n"
        "{\"execute\": \"query-block\"}\n"
        "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hd0\"}}\n";
    BgError err = {0};
    char *out = NULL;
    CHECK(minimize_text("v.jsonl", text, &ta, &tb, &out, &err));
    CHECK_STR_EQ(out, "{\"execute\": \"block-stream\", \"arguments\": {}}\n"
                      "{\"execute\": \"blockdev-del\", \"arguments\": {}}\n");
    free(out);
}

/* The blockdev-del text needs the block-stream before it; the run-job
 * between them changes nothing on these backends, but dropping it would
 * leave the job to QEMU's timing (job_timing.h): it stays. */
static void test_minimize_keeps_jobs_driven(void)
{
    const char *text =
        "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"j\", \"device\": \"top\"}}\n"
        "{\"run-job\": {\"id\": \"j\", \"auto-finalize\": true, \"auto-dismiss\": true}}\n"
        "{\"execute\": \"query-block\"}\n"
        "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hd0\"}}\n";
    BgError err = {0};
    char *out = NULL;
    CHECK(minimize_text("j.jsonl", text, &ta, &tb, &out, &err));
    CHECK(out && strstr(out, "\"run-job\"") && strstr(out, "\"block-stream\""));
    CHECK(out && !strstr(out, "query-block"));
    free(out);
}

BG_SUITE(minimize) = {
    {"keeps_the_difference", test_minimize_keeps_the_difference},
    {"keeps_the_values", test_minimize_keeps_the_values},
    {"keeps_jobs_driven", test_minimize_keeps_jobs_driven},
    {NULL, NULL},
};
