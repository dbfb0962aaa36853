/*
 * test_runner.c: the runner on scripted fake backends: substitution, bind,
 * save, transcripts (canonical and flushed), job-event handling, the
 * comparison of two backends (with the finding key of a difference), the
 * unsupported step that ends a comparison, and backend failures.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"
#include "compare.h"
#include "finding.h"
#include "harness.h"
#include "json.h"
#include "runner.h"

struct BgBackend {
    char *scratch;
    int variant;     /* 1: answers query-jobs differently; 2: dies on query-jobs;
                      * 4: query-named-block-nodes and human-monitor-command unsupported;
                      * 5: adds a member to the command of query-jobs */
};

static BgBackend *fake_open_v(const BgBackendConfig *cfg, int variant)
{
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->scratch = bg_strdup(cfg->scratch);
    be->variant = variant;
    return be;
}
static BgBackend *fake_open0(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 0); }
static BgBackend *fake_open1(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 1); }
static BgBackend *fake_open2(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 2); }

static bool fake_execute(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res,
                         BgError *err)
{
    const char *name = bg_step_name(step);
    if (be->variant == 4 && (strcmp(name, "query-named-block-nodes") == 0 ||
                             strcmp(name, "human-monitor-command") == 0)) {
        bg_result_set_unsupported(res, "not modelled");
    } else if (strcmp(name, "query-named-block-nodes") == 0) {
        char *file = bg_asprintf("%s/hd0.img", be->scratch);
        bg_result_set_return(res, json_pack("[{s:s,s:s,s:s,s:{s:i}},{s:s,s:s,s:s}]",
                                            "node-name", "#block412", "drv", "qcow2", "file", file,
                                            "image", "actual-size", 4096 * (1 + be->variant),
                                            "node-name", "hd1", "drv", "qcow2", "file", "x"));
        free(file);
    } else if (strcmp(name, "blockdev-del") == 0) {
        const char *n = json_string_value(bg_json_path_get(cmd, "arguments/node-name"));
        char *msg = bg_asprintf("Node '%s' is busy: node is used as backing hd of 'hd1'", n);
        bg_result_set_error(res, "GenericError", msg);
        free(msg);
    } else if (strcmp(name, "query-jobs") == 0) {
        if (be->variant == 5)
            json_object_set_new(cmd, "x-changed", json_true());
        if (be->variant == 2)
            return bg_error_setf(err, "QEMU exited unexpectedly (signal 6)");
        bg_result_set_return(res, json_pack("[{s:s,s:i}]", "id", "j", "n", be->variant));
        res->events = json_pack("[{s:s,s:{s:s,s:s}},{s:s,s:{s:s,s:s}},{s:s,s:{s:s,s:s}},"
                                "{s:s,s:{s:s}}]",
                                "event", "JOB_STATUS_CHANGE", "data", "id", "j", "status", "running",
                                "event", "JOB_STATUS_CHANGE", "data", "id", "j", "status", "paused",
                                "event", "JOB_STATUS_CHANGE", "data", "id", "j", "status", "running",
                                "event", "SHUTDOWN", "data", "reason", "x");
    } else if (strcmp(name, "human-monitor-command") == 0) {
        bg_result_set_return(res, json_string(""));
        res->io_out = bg_strdup("read 1/1 bytes at offset 0\n"
                                "1 bytes, 1 ops; 0.0001 sec (9 KiB/sec and 9000 ops/sec)\n");
    } else {
        bg_result_set_return(res, json_object());
    }
    return true;
}

static json_t *fake_list_nodes(BgBackend *be)
{
    return json_pack("[{s:s,s:i},{s:s,s:i}]", "node-name", "hd1", "size", 200000, "node-name",
                     "#block412", "size", 10);
}

/* hd1 holds zeros; variant 3 has one different byte at offset 70000. */
static bool fake_read_node(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                           uint8_t *buf, BgError *err)
{
    memset(buf, 0, len);
    if (be->variant == 3 && offset <= 70000 && 70000 < offset + len)
        buf[70000 - offset] = 1;
    return true;
}

static void fake_close(BgBackend *be)
{
    if (be) {
        free(be->scratch);
        free(be);
    }
}

static const BgBackendOps fake0 = { .name = "fake0", .open = fake_open0,
                                    .execute = fake_execute, .close = fake_close };
static const BgBackendOps fake1 = { .name = "fake1", .open = fake_open1,
                                    .execute = fake_execute, .close = fake_close };
static const BgBackendOps fake2 = { .name = "fake2", .open = fake_open2,
                                    .execute = fake_execute, .close = fake_close };
static BgBackend *fake_open3(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 3); }
static const BgBackendOps fake0d = { .name = "fake0d", .open = fake_open0, .execute = fake_execute,
                                     .read_node = fake_read_node, .list_nodes = fake_list_nodes,
                                     .close = fake_close };
static const BgBackendOps fake3d = { .name = "fake3d", .open = fake_open3, .execute = fake_execute,
                                     .read_node = fake_read_node, .list_nodes = fake_list_nodes,
                                     .close = fake_close };

static BgBackend *fake_open4(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 4); }
static BgBackend *fake_open5(const BgBackendConfig *c, BgError *e) { return fake_open_v(c, 5); }
static const BgBackendOps fake5 = { .name = "fake5", .open = fake_open5,
                                    .execute = fake_execute, .close = fake_close };
static const BgBackendOps fake4 = { .name = "fake4", .open = fake_open4,
                                    .execute = fake_execute, .close = fake_close };

static const char *STREAM =
    "{\"execute\": \"query-named-block-nodes\", \"save\": \"g\", \"bind\": {\"B\": "
    "{\"where\": {\"drv\": \"qcow2\", \"file\": \"$DIR/hd0.img\"}, \"path\": \"node-name\"}}}\n"
    "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"${B}\"}, \"expect\": "
    "{\"error\": \"Node '#block1' is busy: node is used as backing hd of 'hd1'\"}}\n"
    "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
    "\"qemu-io hd1 \\\"read 0 1\\\"\"}, \"expect\": {\"return\": \"\", \"io-ok\": true}}\n"
    "{\"execute\": \"query-jobs\"}\n"
    "{\"execute\": \"query-named-block-nodes\", \"expect\": {\"same-as\": \"g\", \"checks\": "
    "[{\"node\": \"${B}\", \"path\": \"drv\", \"equals\": \"qcow2\"}]}}\n";

static char *run_opt(const char *text, const BgBackendOps *a, const BgBackendOps *b,
                     bool compare_data, BgRunReport *rep, char **transcript)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    if (!s) {
        fprintf(stderr, "  parse: %s\n", err.text);
        return NULL;
    }
    char tdir[] = "/tmp/bg-test-runner-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    char *tpath = bg_asprintf("%s/t.jsonl", tdir);
    BgRunOptions opt = { .scratch_base = tdir, .compare_data = compare_data };
    opt.transcript[0] = fopen(tpath, "w");
    const BgBackendOps *backends[2] = { a, b };
    bg_run_stream(s, backends, b ? 2 : 1, &opt, rep);
    fclose(opt.transcript[0]);
    FILE *f = fopen(tpath, "r");
    BgBuf buf = {0};
    char chunk[4096];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        bg_buf_append(&buf, chunk, n);
    if (f)
        fclose(f);
    *transcript = bg_buf_take(&buf);
    unlink(tpath);
    /* the scratch directory is gone: only the transcript was in tdir */
    CHECK(rmdir(tdir) == 0);
    free(tpath);
    bg_stream_free(s);
    return *transcript;
}

static char *run(const char *text, const BgBackendOps *a, const BgBackendOps *b,
                 BgRunReport *rep, char **transcript)
{
    return run_opt(text, a, b, false, rep, transcript);
}

static void test_runner_one_backend_transcript(void)
{
    BgRunReport rep;
    char *t = NULL;
    if (!run(STREAM, &fake0, NULL, &rep, &t))
        return;
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    CHECK_INT_EQ(rep.assertions, 5);   /* the check's node is ${B}, bound at step 1 */
    CHECK_INT_EQ(rep.failed, 0);
    /* $DIR written back, auto names canonical, bind used, timing normalised */
    CHECK(strstr(t, "\"file\":\"$DIR/hd0.img\"") != NULL);
    CHECK(strstr(t, "\"node-name\":\"#block1\"") != NULL);
    CHECK(strstr(t, "#block412") == NULL);
    CHECK(strstr(t, "1 bytes, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)") != NULL);
    /* job events: not in the step, in the summary, drain pause dropped */
    CHECK(strstr(t, "\"events\":[{\"data\":{\"reason\":\"x\"},\"event\":\"SHUTDOWN\"}]") != NULL);
    CHECK(strstr(t, "\"jobs\":{\"j\":[{\"data\":{\"id\":\"j\",\"status\":\"running\"},"
                    "\"event\":\"JOB_STATUS_CHANGE\"}]}") != NULL);
    CHECK(strstr(t, "paused") == NULL);
    /* actual-size depends on the host file system: masked */
    CHECK(strstr(t, "\"actual-size\":null") != NULL);
    CHECK(strstr(t, "4096") == NULL);
    /* one line per step plus the summary, each complete */
    int lines = 0;
    for (char *p = t; *p; p++)
        lines += *p == '\n';
    CHECK_INT_EQ(lines, 6);
    CHECK(strstr(t, "{\"summary\":{") != NULL);
    free(t);
    bg_run_report_cleanup(&rep);
}

static void test_runner_two_backends_agree(void)
{
    BgRunReport rep;
    char *t = NULL;
    run(STREAM, &fake0, &fake0, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    CHECK_INT_EQ(rep.assertions, 10);
    free(t);
    bg_run_report_cleanup(&rep);
}

static void test_runner_two_backends_differ(void)
{
    BgRunReport rep;
    char *t = NULL;
    run(STREAM, &fake0, &fake1, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK_INT_EQ(rep.first_line, 4);
    CHECK(rep.message && strstr(rep.message, "t.jsonl:4: backends differ on query-jobs "
                                             "(result, at /return/0/n)") != NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(rep.signature, "channel")), "result");
    CHECK_INT_EQ(json_integer_value(json_object_get(rep.signature, "step")), 3);
    char *key = bg_finding_key(rep.signature);
    CHECK_STR_EQ(key, "mismatch: command=query-jobs channel=result path=/return/N/n | N ~ N");
    free(key);
    CHECK(rep.diverged == NULL);
    free(t);
    bg_run_report_cleanup(&rep);
}

/* An unsupported step that may change state ends the comparison, and the
 * report names it; an unsupported query does not. */
static void test_runner_unsupported_ends_comparison(void)
{
    BgRunReport rep;
    char *t = NULL;
    const char *stream = "{\"execute\": \"query-named-block-nodes\"}\n"
                         "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hd0\"}}\n"
                         "{\"execute\": \"human-monitor-command\", \"arguments\": "
                         "{\"command-line\": \"qemu-io hd1 \\\"write 0 1\\\"\"}}\n"
                         "{\"execute\": \"query-jobs\"}\n";
    run(stream, &fake0, &fake4, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);   /* query-jobs (0 against 4) is not compared */
    CHECK(rep.signature == NULL);
    CHECK_INT_EQ(rep.unsupported, 2);
    CHECK(rep.diverged != NULL);
    CHECK_INT_EQ(json_integer_value(json_object_get(rep.diverged, "line")), 3);
    CHECK_INT_EQ(json_integer_value(json_object_get(rep.diverged, "step")), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(rep.diverged, "command")),
                 "human-monitor-command");
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(rep.diverged, "backends"), 0)),
                 "fake4");
    CHECK_INT_EQ(json_array_size(json_object_get(rep.diverged, "backends")), 1);
    free(t);
    bg_run_report_cleanup(&rep);
    /* the unsupported query alone: compared to the end, nothing diverged */
    run("{\"execute\": \"query-named-block-nodes\"}\n{\"execute\": \"query-jobs\"}\n",
        &fake0, &fake4, &rep, &t);
    CHECK_INT_EQ(rep.unsupported, 1);
    CHECK(rep.diverged == NULL);
    free(t);
    bg_run_report_cleanup(&rep);
}

static void test_runner_backend_failure_stops(void)
{
    BgRunReport rep;
    char *t = NULL;
    run(STREAM, &fake2, NULL, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_ERROR);
    CHECK(rep.message && strstr(rep.message, "t.jsonl:4: fake2 backend failed: QEMU exited "
                                             "unexpectedly (signal 6)") != NULL);
    CHECK(t && strstr(t, "\"backend-failure\"") != NULL);
    CHECK(t && strstr(t, "\"result\":\"error\"") != NULL);
    free(t);
    bg_run_report_cleanup(&rep);
}

static void test_runner_failed_assertion_reported(void)
{
    BgRunReport rep;
    char *t = NULL;
    run("{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hd0\"}, \"expect\": "
        "{\"return\": {}}}\n", &fake0, NULL, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK(rep.message && strstr(rep.message, "t.jsonl:1: blockdev-del: return: expected {}, got "
                                             "{\"error\":{\"class\":\"GenericError\"") != NULL);
    free(t);
    bg_run_report_cleanup(&rep);
}

/* The failure message of TEXT on fake0, with or without a transcript. */
static char *failure_message(const char *text, bool transcript)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    char tdir[] = "/tmp/bg-test-runner-XXXXXX";
    CHECK(s != NULL && mkdtemp(tdir) != NULL);
    BgRunOptions opt = { .scratch_base = tdir };
    opt.transcript[0] = transcript ? tmpfile() : NULL;
    const BgBackendOps *backends[1] = { &fake0 };
    BgRunReport rep = {0};
    bg_run_stream(s, backends, 1, &opt, &rep);
    if (opt.transcript[0])
        fclose(opt.transcript[0]);
    CHECK(rmdir(tdir) == 0);
    bg_stream_free(s);
    char *msg = rep.message ? bg_strdup(rep.message) : NULL;
    bg_run_report_cleanup(&rep);
    return msg;
}

/* Without a transcript the runner builds no transcript line for a step none
 * of whose texts names an automatic node; automatic names in later messages
 * are numbered as with one (here #block7 of the command is #block1). */
static void test_runner_auto_names_without_transcript(void)
{
    const char *text =
        "{\"execute\": \"query-jobs\"}\n"
        "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"#block7\"}}\n"
        "{\"execute\": \"query-jobs\"}\n"
        "{\"execute\": \"query-named-block-nodes\", \"expect\": {\"return\": []}}\n";
    char *with = failure_message(text, true), *without = failure_message(text, false);
    CHECK(with && strstr(with, "\"node-name\":\"#block2\""));
    CHECK_STR_EQ(without ? without : "(none)", with ? with : "(none)");
    free(with);
    free(without);
}

static void test_runner_bind_selecting_nothing(void)
{
    BgRunReport rep;
    char *t = NULL;
    run("{\"execute\": \"query-named-block-nodes\", \"bind\": {\"B\": {\"where\": "
        "{\"drv\": \"raw\"}, \"path\": \"node-name\"}}}\n", &fake0, NULL, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_ERROR);
    CHECK_STR_EQ(rep.message, "t.jsonl:1: bind B selects nothing");
    free(t);
    bg_run_report_cleanup(&rep);
}

static void test_runner_compares_guest_data(void)
{
    BgRunReport rep;
    char *t = NULL;
    const char *stream = "{\"execute\": \"query-named-block-nodes\"}\n"
                         "{\"execute\": \"human-monitor-command\", \"arguments\": "
                         "{\"command-line\": \"qemu-io hd1 \\\"write 0 1\\\"\"}}\n";
    run_opt(stream, &fake0d, &fake0d, true, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    free(t);
    bg_run_report_cleanup(&rep);
    /* the same stream against a backend whose hd1 differs in one byte: found after the
     * first step that can change data (queries cannot), in the chunk holding it */
    run_opt(stream, &fake0d, &fake3d, true, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK_INT_EQ(rep.first_line, 2);
    CHECK_STR_EQ(json_string_value(json_object_get(rep.signature, "channel")), "data");
    CHECK_STR_EQ(json_string_value(json_object_get(rep.signature, "path")), "/hd1/65536");
    free(t);
    bg_run_report_cleanup(&rep);
    /* without compare_data the difference is not looked for */
    run_opt(stream, &fake0d, &fake3d, false, &rep, &t);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    free(t);
    bg_run_report_cleanup(&rep);
}

/* BgRunOptions.times: every part of a two-backend run with guest data is
 * timed, and the parts add up to no more than the whole run took. */
static void test_runner_times_parts(void)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", STREAM, strlen(STREAM), &err);
    CHECK(s != NULL);
    if (!s)
        return;
    char tdir[] = "/tmp/bg-test-runner-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    BgRunTimes times = {0};
    BgRunOptions opt = { .scratch_base = tdir, .compare_data = true, .times = &times };
    const BgBackendOps *backends[2] = { &fake0d, &fake0d };
    BgRunReport rep;
    struct timespec a, b;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    bg_run_stream(s, backends, 2, &opt, &rep);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    double whole = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sum = 0;
    for (int p = 0; p < BG_PART__COUNT; p++) {
        if (times.cpu[p] <= 0)
            fprintf(stderr, "  part %d: %g s\n", p, times.cpu[p]);
        CHECK(times.cpu[p] > 0);   /* blockdev-del changes data: the data part ran too */
        sum += times.cpu[p];
    }
    CHECK(sum <= whole);
    bg_run_report_cleanup(&rep);
    bg_stream_free(s);
    CHECK(rmdir(tdir) == 0);
}

/* Run STREAM on OPS in a child with BG_CHECK_FROZEN_STEPS=1: how it ended. */
static int run_frozen_check(const BgBackendOps *ops)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", STREAM, strlen(STREAM), &err);
    CHECK(s != NULL);
    char tdir[] = "/tmp/bg-test-runner-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("BG_CHECK_FROZEN_STEPS", "1", 1);
        BgRunOptions opt = { .scratch_base = tdir };
        const BgBackendOps *backends[1] = { ops };
        BgRunReport rep;
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 2);                /* the abort's message is expected */
        bg_run_stream(s, backends, 1, &opt, &rep);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    bg_stream_free(s);
    bg_runner_scratch_remove(tdir);
    CHECK(access(tdir, F_OK) != 0);
    return status;
}

/* A backend that changes the command it was handed (which shares the
 * stream's values) is caught with BG_CHECK_FROZEN_STEPS=1; one that does
 * not runs through. */
static void test_runner_frozen_steps_check(void)
{
    int st = run_frozen_check(&fake5);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    st = run_frozen_check(&fake0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Two offline results that differ only in what the tool printed on stderr
 * differ at /stderr (its error texts are QEMU's, compared to the byte);
 * the scratch directory in them is $DIR on both sides. */
static void test_runner_offline_stderr_compared(void)
{
    BgResult a = { .kind = BG_RES_OFFLINE, .rc = 1, .out = "",
                   .err_text = "qemu-io: can't open device /s1/x.img: No such file\n" };
    BgResult b = a;
    b.err_text = "qemu-io: can't open device /s2/x.img: No such file\n";
    json_t *none = json_array();
    char *path = NULL, *channel = NULL;
    CHECK(bg_compare_step(&a, "/s1", &b, "/s2", none, none, &path, &channel));
    CHECK(path == NULL);
    b.err_text = "qemu-io: can't open device x.img: No such file\n";
    CHECK(!bg_compare_step(&a, "/s1", &b, "/s2", none, none, &path, &channel));
    CHECK_STR_EQ(path, "/stderr");
    CHECK_STR_EQ(channel, "result");
    free(path);
    free(channel);
    json_decref(none);
}

BG_SUITE(runner) = {
    {"compares_guest_data", test_runner_compares_guest_data},
    {"one_backend_transcript", test_runner_one_backend_transcript},
    {"two_backends_agree", test_runner_two_backends_agree},
    {"two_backends_differ", test_runner_two_backends_differ},
    {"unsupported_ends_comparison", test_runner_unsupported_ends_comparison},
    {"backend_failure_stops", test_runner_backend_failure_stops},
    {"failed_assertion_reported", test_runner_failed_assertion_reported},
    {"bind_selecting_nothing", test_runner_bind_selecting_nothing},
    {"auto_names_without_transcript", test_runner_auto_names_without_transcript},
    {"times_parts", test_runner_times_parts},
    {"frozen_steps_check", test_runner_frozen_steps_check},
    {"offline_stderr_compared", test_runner_offline_stderr_compared},
    {NULL, NULL},
};
