/* test_expect.c: one assertion per expectation key, each able to fail. */
#include <stdlib.h>

#include "bg.h"
#include "expect.h"
#include "harness.h"
#include "stream.h"

static BgStream *one(const char *line)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", line, strlen(line), &err);
    if (!s)
        fprintf(stderr, "  parse: %s\n", err.text);
    return s;
}

/* Judge LINE's step on RES; return the number of failed assertions, -1 on parse error. */
static int judge(const char *line, const BgResult *res, json_t *saved, int *n)
{
    BgStream *s = one(line);
    if (!s)
        return -1;
    BgExpectCtx ctx = { .scratch = "/scr", .saved = saved };
    int failed = 0;
    json_t *a = bg_expect_judge(&s->steps[0], res, &ctx, &failed);
    *n = (int)json_array_size(a);
    json_decref(a);
    bg_stream_free(s);
    return failed;
}

static void test_expect_return_normalised(void)
{
    BgResult r = {0};
    bg_result_set_return(&r, json_loads("[{\"node-name\": \"#block123\", \"file\": "
                                        "\"/scr/hd0.img\", \"image\": {\"actual-size\": 7}}]",
                                        0, NULL));
    int n;
    CHECK_INT_EQ(judge("{\"execute\": \"query-named-block-nodes\", \"expect\": {\"return\": "
                       "[{\"node-name\": \"#block9\", \"file\": \"$DIR/hd0.img\", \"image\": "
                       "{\"actual-size\": 1}}]}}", &r, NULL, &n), 0);
    CHECK_INT_EQ(n, 1);
    CHECK_INT_EQ(judge("{\"execute\": \"query-named-block-nodes\", \"expect\": {\"return\": "
                       "[{\"node-name\": \"hd0\", \"file\": \"$DIR/hd0.img\", \"image\": "
                       "{\"actual-size\": 1}}]}}", &r, NULL, &n), 1);
    bg_result_cleanup(&r);
}

static void test_expect_error_class_and_text(void)
{
    BgResult r = {0};
    bg_result_set_error(&r, "GenericError", "Cannot change the option 'driver'");
    int n;
    CHECK_INT_EQ(judge("{\"execute\": \"blockdev-del\", \"expect\": {\"error\": "
                       "\"Cannot change the option 'driver'\"}}", &r, NULL, &n), 0);
    CHECK_INT_EQ(judge("{\"execute\": \"blockdev-del\", \"expect\": {\"error\": "
                       "\"Cannot change the option 'node-name'\"}}", &r, NULL, &n), 1);
    CHECK_INT_EQ(judge("{\"execute\": \"blockdev-del\", \"expect\": {\"error\": {\"class\": "
                       "\"CommandNotFound\", \"desc\": \"Cannot change the option 'driver'\"}}}",
                       &r, NULL, &n), 1);
    CHECK_INT_EQ(judge("{\"execute\": \"blockdev-del\", \"expect\": {\"return\": {}}}", &r, NULL,
                       &n), 1);
    bg_result_cleanup(&r);
}

static void test_expect_checks(void)
{
    BgResult r = {0};
    bg_result_set_return(&r, json_loads("[{\"node-name\": \"hd1\", \"ro\": false, \"image\": "
                                        "{\"backing-image\": {\"filename\": \"/scr/hd0.img\"}}},"
                                        "{\"node-name\": \"hd0\", \"ro\": true}]", 0, NULL));
    int n;
    CHECK_INT_EQ(judge("{\"execute\": \"query-named-block-nodes\", \"expect\": {\"checks\": ["
                       "{\"node\": \"hd1\", \"path\": \"ro\", \"equals\": false},"
                       "{\"node\": \"hd1\", \"path\": \"image/backing-image/filename\", "
                       "\"equals\": \"$DIR/hd0.img\"},"
                       "{\"node\": \"hd0\", \"path\": \"image/backing-image\", \"absent\": true},"
                       "{\"node\": \"hd2\", \"missing\": true},"
                       "{\"path\": \"1/ro\", \"equals\": true}]}}", &r, NULL, &n), 0);
    CHECK_INT_EQ(n, 5);
    CHECK_INT_EQ(judge("{\"execute\": \"query-named-block-nodes\", \"expect\": {\"checks\": ["
                       "{\"node\": \"hd1\", \"path\": \"ro\", \"equals\": true},"
                       "{\"node\": \"hd1\", \"path\": \"image\", \"absent\": true},"
                       "{\"node\": \"hd0\", \"missing\": true},"
                       "{\"node\": \"hd7\", \"path\": \"ro\", \"equals\": true}]}}", &r, NULL, &n),
                 4);
    bg_result_cleanup(&r);
    bg_result_set_return(&r, json_loads("{\"event\": \"BLOCK_JOB_COMPLETED\", \"data\": "
                                        "{\"len\": 3, \"offset\": 3}}", 0, NULL));
    CHECK_INT_EQ(judge("{\"wait-job\": \"j\", \"expect\": {\"checks\": [{\"path\": "
                       "\"data/offset\", \"equals-path\": \"data/len\"}]}}", &r, NULL, &n), 0);
    json_object_set_new(json_object_get(r.ret, "data"), "offset", json_integer(2));
    CHECK_INT_EQ(judge("{\"wait-job\": \"j\", \"expect\": {\"checks\": [{\"path\": "
                       "\"data/offset\", \"equals-path\": \"data/len\"}]}}", &r, NULL, &n), 1);
    bg_result_cleanup(&r);
}

static void test_expect_same_as_is_exact(void)
{
    json_t *saved = json_pack("{s:{s:i}}", "g", "actual-size", 1);
    BgResult r = {0};
    bg_result_set_return(&r, json_pack("{s:i}", "actual-size", 1));
    int n;
    const char *line = "{\"execute\": \"query-named-block-nodes\", \"save\": \"g\"}\n"
                       "{\"execute\": \"query-named-block-nodes\", \"expect\": {\"same-as\": \"g\"}}";
    BgStream *s = one(line);
    BgExpectCtx ctx = { .scratch = "/scr", .saved = saved };
    int failed = 0;
    json_t *a = bg_expect_judge(&s->steps[1], &r, &ctx, &failed);
    CHECK_INT_EQ(failed, 0);
    json_decref(a);
    json_object_set_new(r.ret, "actual-size", json_integer(2));   /* unnormalised: differs */
    failed = 0;
    a = bg_expect_judge(&s->steps[1], &r, &ctx, &failed);
    CHECK_INT_EQ(failed, 1);
    json_decref(a);
    (void)n;
    bg_stream_free(s);
    bg_result_cleanup(&r);
    json_decref(saved);
}

static void test_expect_io_ok_and_io_ops(void)
{
    const char *good = "read 1048576/1048576 bytes at offset 0\n"
                       "1 MiB, 1 ops; 00.00 sec (1 GiB/sec and 1 ops/sec)\n";
    const char *badp = "Pattern verification failed at offset 0, 1048576 bytes\n"
                       "read 1048576/1048576 bytes at offset 0\n";
    BgResult r = {0};
    bg_result_set_return(&r, json_string(""));
    r.io_out = bg_strdup(good);
    int n;
    const char *hmp = "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
                      "\"qemu-io hd0 \\\"read 0 1M\\\"\"}, \"expect\": {\"return\": \"\", "
                      "\"io-ok\": true}}";
    CHECK_INT_EQ(judge(hmp, &r, NULL, &n), 0);
    CHECK_INT_EQ(n, 2);
    free(r.io_out);
    r.io_out = bg_strdup(badp);
    CHECK_INT_EQ(judge(hmp, &r, NULL, &n), 1);
    free(r.io_out);
    r.io_out = NULL;
    CHECK_INT_EQ(judge(hmp, &r, NULL, &n), 1);
    bg_result_cleanup(&r);

    bg_result_set_return(&r, json_object());
    r.log = bg_asprintf("%s%swrote 65536/65536 bytes at offset 65536\n", good, good);
    CHECK_INT_EQ(judge("{\"shutdown\": {}, \"expect\": {\"io-ops\": 3}}", &r, NULL, &n), 0);
    CHECK_INT_EQ(judge("{\"shutdown\": {}, \"expect\": {\"io-ops\": 2}}", &r, NULL, &n), 1);
    free(r.log);
    r.log = bg_asprintf("%s%s", good, badp);
    CHECK_INT_EQ(judge("{\"shutdown\": {}, \"expect\": {\"io-ops\": 2}}", &r, NULL, &n), 1);
    bg_result_cleanup(&r);
}

static void test_expect_rc(void)
{
    BgResult r = { .kind = BG_RES_OFFLINE, .rc = 1 };
    int n;
    const char *line = "{\"qemu-img\": [\"check\", \"hd0.img\"], \"expect\": {\"rc\": 0}}";
    CHECK_INT_EQ(judge(line, &r, NULL, &n), 1);
    r.rc = 0;
    CHECK_INT_EQ(judge(line, &r, NULL, &n), 0);
    bg_result_cleanup(&r);
}

BG_SUITE(expect) = {
    {"return_normalised", test_expect_return_normalised},
    {"error_class_and_text", test_expect_error_class_and_text},
    {"checks", test_expect_checks},
    {"same_as_is_exact", test_expect_same_as_is_exact},
    {"io_ok_and_io_ops", test_expect_io_ok_and_io_ops},
    {"rc", test_expect_rc},
    {NULL, NULL},
};
