/* test_stream.c: the stream reader's structure rules and their messages. */
#include <stdlib.h>

#include "bg.h"
#include "harness.h"
#include "stream.h"

/* Parse TEXT; return the error text ("" when it parsed). */
static char *parse_err(const char *text)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    bg_stream_free(s);
    return bg_strdup(s ? "" : err.text);
}

#define CHECK_PARSE(text, msg) do { \
        char *e_ = parse_err(text); \
        CHECK_STR_EQ(e_, msg); \
        free(e_); \
    } while (0)

static void test_stream_accepts_every_step_kind(void)
{
    const char *text =
        "# a comment\n"
        "\n"
        "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"size\": \"3M\"}, "
        "\"expect\": {\"rc\": 0}, \"seed\": 47}\n"
        "{\"io\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"cmd\": \"write -P 0xa0 0 1M\"}}\n"
        "{\"qemu-img\": [\"check\", \"-f\", \"qcow2\", \"hd0.img\"]}\n"
        "{\"launch\": {\"machine\": \"pc\"}}\n"
        "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": "
        "\"hd0\", \"file\": {\"driver\": \"file\", \"filename\": \"$DIR/hd0.img\"}}, "
        "\"expect\": {\"return\": {}}}\n"
        "{\"execute\": \"query-named-block-nodes\", \"save\": \"g\", \"bind\": {\"N\": "
        "{\"where\": {\"drv\": \"qcow2\"}, \"path\": \"node-name\"}}}\n"
        "{\"execute\": \"query-named-block-nodes\", \"expect\": {\"same-as\": \"g\", "
        "\"checks\": [{\"node\": \"${N}\", \"path\": \"ro\", \"equals\": false}, "
        "{\"node\": \"x\", \"missing\": true}]}}\n"
        "{\"comment\": \"only a comment\", \"seed\": \"free text\"}\n"
        "{\"wait-event\": {\"event\": \"BLOCK_JOB_READY\", \"match\": {\"data\": {}}, "
        "\"timeout\": 5}}\n"
        "{\"wait-job\": \"j\"}\r\n"
        "{\"run-job\": {\"id\": \"j\", \"auto-finalize\": false}}\n"
        "{\"shutdown\": {}, \"expect\": {\"io-ops\": 0}}";
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  %s\n", err.text);
        return;
    }
    CHECK_INT_EQ(s->n_steps, 11);   /* comment-only lines are not steps */
    CHECK_INT_EQ(s->steps[0].line, 3);
    CHECK(s->steps[0].kind == BG_STEP_IMG_CREATE);
    CHECK(s->steps[4].kind == BG_STEP_EXECUTE);
    CHECK_STR_EQ(bg_step_name(&s->steps[4]), "blockdev-add");
    CHECK_STR_EQ(s->steps[5].save, "g");
    CHECK(s->steps[10].kind == BG_STEP_SHUTDOWN);
    char *line = bg_step_to_line(&s->steps[0]);
    CHECK(strstr(line, "\"seed\":47") != NULL);
    free(line);
    bg_stream_free(s);
}

static void test_stream_structure_errors(void)
{
    CHECK_PARSE("{\"execute\": \"query-jobs\"}\n{nope}\n",
                "t.jsonl:2: invalid JSON: string or '}' expected near 'nope' (column 5)");
    CHECK_PARSE("[1]\n", "t.jsonl:1: a step must be a JSON object, got array");
    CHECK_PARSE("{\"expect\": {}}\n",
                "t.jsonl:1: no step key: a line needs one of execute, img-create, io, "
                "qemu-img, launch, wait-event, wait-job, run-job, shutdown (or only "
                "comment/seed)");
    CHECK_PARSE("{\"wait-job\": \"a\", \"shutdown\": {}}\n",
                "t.jsonl:1: two step keys: 'wait-job' and 'shutdown'");
    CHECK_PARSE("{\"reboot\": {}}\n", "t.jsonl:1: unknown step or key 'reboot'");
    CHECK_PARSE("{\"shutdown\": {}, \"expect\": {\"fine\": 1}}\n",
                "t.jsonl:1: unknown expectation 'fine'");
    CHECK_PARSE("{\"shutdown\": {}, \"expect\": []}\n",
                "t.jsonl:1: 'expect' must be an object, got array");
    CHECK_PARSE("{\"shutdown\": {}, \"seed\": true}\n",
                "t.jsonl:1: 'seed' must be a line number or a string");
    CHECK_PARSE("{\"execute\": 5}\n", "t.jsonl:1: 'execute' must be a string");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"arguments\": []}\n",
                "t.jsonl:1: 'arguments' must be an object, got array");
    CHECK_PARSE("{\"shutdown\": {}, \"arguments\": {}}\n",
                "t.jsonl:1: 'arguments' belongs to an execute step");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"expect\": {\"rc\": 0}}\n",
                "t.jsonl:1: expect: 'rc' belongs to an img-create, io or qemu-img step");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"expect\": {\"return\": 1, \"error\": \"x\"}}\n",
                "t.jsonl:1: expect: 'return' and 'error' exclude each other");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"expect\": {\"checks\": [{\"path\": \"a\"}]}}\n",
                "t.jsonl:1: expect: checks[0] needs exactly one of equals, absent, "
                "equals-path, missing");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"expect\": {\"same-as\": \"nope\"}}\n",
                "t.jsonl:1: same-as 'nope' names no earlier 'save'");
    CHECK_PARSE("{\"wait-job\": \"${J}\"}\n", "t.jsonl:1: ${J} is not bound by an earlier step");
    CHECK_PARSE("{\"execute\": \"query-jobs\", \"expect\": {\"return\": 99999999999999999999}}\n",
                "t.jsonl:1: invalid JSON: too big integer near '99999999999999999999' (column 67)");
    CHECK_PARSE("{\"shutdown\": {}, \"shutdown\": {}}\n",
                "t.jsonl:1: invalid JSON: duplicate object key near '\"shutdown\"' (column 27)");
}

static void test_stream_limits(void)
{
    /* nesting */
    BgBuf b = {0};
    bg_buf_puts(&b, "{\"execute\": \"query-jobs\", \"expect\": {\"return\": ");
    for (int i = 0; i < 40; i++)
        bg_buf_puts(&b, "[");
    for (int i = 0; i < 40; i++)
        bg_buf_puts(&b, "]");
    bg_buf_puts(&b, "}}\n");
    char *e = parse_err(b.data);
    CHECK_STR_EQ(e, "t.jsonl:1: JSON nested deeper than 32 levels");
    free(e);
    bg_buf_cleanup(&b);
    /* line length */
    size_t n = BG_MAX_LINE_BYTES + 10;
    char *big = bg_malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    e = parse_err(big);
    CHECK_STR_EQ(e, "t.jsonl:1: line longer than 1048576 bytes");
    free(e);
    free(big);
    /* NUL byte */
    const char nul[] = "{\"shutdown\": {}}\n{\"shut\0down\": {}}\n";
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", nul, sizeof(nul) - 1, &err);
    CHECK(s == NULL);
    CHECK_STR_EQ(err.text, "t.jsonl:2: NUL byte in line");
}

static void test_stream_missing_file(void)
{
    BgError err = {0};
    BgStream *s = bg_stream_load("/nonexistent/x.jsonl", &err);
    CHECK(s == NULL);
    CHECK_STR_EQ(err.text, "/nonexistent/x.jsonl: cannot open: No such file or directory");
}

BG_SUITE(stream) = {
    {"accepts_every_step_kind", test_stream_accepts_every_step_kind},
    {"structure_errors", test_stream_structure_errors},
    {"limits", test_stream_limits},
    {"missing_file", test_stream_missing_file},
    {NULL, NULL},
};
