/*
 * test_qemu_backend.c: the qemu backend end to end on the installed QEMU 7.2.
 *
 * Each test opens the backend on its own scratch directory, drives it with
 * hand-built steps (kind, line, cmd) as the runner would after substitution,
 * and closes it.  When qemu-system-x86_64, qemu-img, qemu-io or stdbuf is
 * missing, every test but the unavailable one is skipped with a note.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "../../qemu/proc.h"
#include "../../qemu/qemu_backend.h"
#include "bg.h"

/* ---- fixtures ------------------------------------------------------------------- */

typedef struct Fixture {
    char dir[256];        /* scratch directory */
    BgBackend *be;
    int line;             /* next step's line number */
} Fixture;

static bool skip(void)
{
    static int avail = -1;
    if (avail < 0) {
        avail = bg_qemu_backend_ops.available();
        if (!avail)
            fprintf(stderr, "  qemu backend tests skipped: QEMU not installed\n");
    }
    return !avail;
}

static bool fixture_open(Fixture *f)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/bg-qemu-test.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
    if (!mkdtemp(f->dir)) {
        CHECK(!"mkdtemp");
        return false;
    }
    BgBackendConfig cfg = { .scratch = f->dir, .stream_path = "test" };
    BgError err = { 0 };
    f->be = bg_qemu_backend_ops.open(&cfg, &err);
    CHECK(f->be != NULL);
    if (!f->be)
        fprintf(stderr, "  open: %s\n", err.text);
    f->line = 1;
    return f->be != NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void fixture_close(Fixture *f)
{
    bg_qemu_backend_ops.close(f->be);
    f->be = NULL;
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* JSON text with $DIR replaced by the scratch directory. */
static json_t *parse(const Fixture *f, const char *text)
{
    BgBuf b = { 0 };
    for (const char *s = text;;) {
        const char *hit = strstr(s, "$DIR");
        if (!hit) {
            bg_buf_puts(&b, s);
            break;
        }
        bg_buf_append(&b, s, (size_t)(hit - s));
        bg_buf_puts(&b, f->dir);
        s = hit + 4;
    }
    json_error_t jerr;
    json_t *j = json_loads(b.data, 0, &jerr);
    if (!j)
        fprintf(stderr, "  bad test JSON: %s: %s\n", jerr.text, b.data);
    bg_buf_cleanup(&b);
    return j;
}

/* Run one step; res must be cleaned up by the caller. */
static bool step(Fixture *f, BgStepKind kind, const char *text, BgResult *res, BgError *err)
{
    *res = (BgResult){ 0 };
    BgStep st = { .line = f->line++, .kind = kind, .cmd = parse(f, text) };
    bool ok = bg_qemu_backend_ops.execute(f->be, &st, st.cmd, res, err);
    json_decref(st.cmd);
    return ok;
}

/* Run a step that must succeed as a backend; returns its result kind. */
static BgResultKind run(Fixture *f, BgStepKind kind, const char *text, BgResult *res)
{
    BgError err = { 0 };
    bool ok = step(f, kind, text, res, &err);
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  step %s failed: %s\n", text, err.text);
    return res->kind;
}

/* A step whose result does not matter beyond success. */
static void must(Fixture *f, BgStepKind kind, const char *text)
{
    BgResult res;
    BgResultKind k = run(f, kind, text, &res);
    if (kind == BG_STEP_IMG_CREATE || kind == BG_STEP_IO || kind == BG_STEP_QEMU_IMG) {
        CHECK_INT_EQ(k, BG_RES_OFFLINE);
        CHECK_INT_EQ(res.rc, 0);
    } else {
        CHECK_INT_EQ(k, BG_RES_RETURN);
    }
    bg_result_cleanup(&res);
}

static bool has_event(const BgResult *res, const char *name)
{
    size_t i;
    json_t *ev;
    json_array_foreach(res->events, i, ev) {
        if (strcmp(json_string_value(json_object_get(ev, "event")), name) == 0)
            return true;
    }
    return false;
}

/* hd<n>.img, 3M qcow2, on top of backing (or none), with 1M of pattern 0xa<n> at n M. */
static void make_image(Fixture *f, int n, int backing)
{
    char *s = backing < 0
                  ? bg_asprintf("{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd%d.img\", "
                                "\"size\": \"3M\"}}", n)
                  : bg_asprintf("{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd%d.img\", "
                                "\"backing\": \"hd%d.img\", \"backing-fmt\": \"qcow2\"}}",
                                n, backing);
    must(f, BG_STEP_IMG_CREATE, s);
    free(s);
    s = bg_asprintf("{\"io\": {\"fmt\": \"qcow2\", \"file\": \"hd%d.img\", "
                    "\"cmd\": \"write -P 0xa%d %dM 1M\"}}", n, n, n);
    must(f, BG_STEP_IO, s);
    free(s);
}

static const char *const ADD_HD0 =
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": \"hd0\","
    " \"file\": {\"driver\": \"file\", \"node-name\": \"hd0-file\", \"filename\": \"$DIR/hd0.img\"}}}";

/* hd1 on top of hd0, both named (iotest 245 hd_opts(1) with backing hd_opts(0)). */
static const char *const ADD_HD1_ON_HD0 =
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": \"hd1\","
    " \"file\": {\"driver\": \"file\", \"node-name\": \"hd1-file\", \"filename\": \"$DIR/hd1.img\"},"
    " \"backing\": {\"driver\": \"qcow2\", \"node-name\": \"hd0\", \"file\": {\"driver\": \"file\","
    " \"node-name\": \"hd0-file\", \"filename\": \"$DIR/hd0.img\"}}}}";

static double now_s(void)
{
    return (double)proc_clock_ms() / 1000.0;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_qemu_backend_available(void)
{
    char *old = getenv("BG_QEMU_IO") ? bg_strdup(getenv("BG_QEMU_IO")) : NULL;
    setenv("BG_QEMU_IO", "/nonexistent/qemu-io", 1);
    CHECK(!bg_qemu_backend_ops.available());
    BgBackendConfig cfg = { .scratch = "/tmp" };
    BgError err = { 0 };
    CHECK(bg_qemu_backend_ops.open(&cfg, &err) == NULL);
    CHECK(strstr(err.text, "qemu-io") != NULL);
    if (old)
        setenv("BG_QEMU_IO", old, 1);
    else
        unsetenv("BG_QEMU_IO");
    free(old);
    CHECK_STR_EQ(bg_qemu_backend_ops.name, "qemu");
    bg_qemu_backend_ops.close(NULL);
}

static void test_qemu_backend_proc_reports_missing_program(void)
{
    const char *argv[] = { "/nonexistent/program", NULL };
    BgError err = { 0 };
    CHECK(proc_spawn(argv, NULL, &err) == NULL);
    CHECK(strstr(err.text, "cannot start /nonexistent/program") != NULL);
    const char *argv2[] = { "/bin/true", NULL };
    ProcSpawnOpts o = { .cwd = "/nonexistent/dir", .pass_fd = -1 };
    bg_error_clear(&err);
    CHECK(proc_spawn(argv2, &o, &err) == NULL);
    CHECK(strstr(err.text, "cannot enter /nonexistent/dir") != NULL);
}

static void test_qemu_backend_offline_steps(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_IMG_CREATE,
                     "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"size\": 3145728}}",
                     &res), BG_RES_OFFLINE);
    CHECK_INT_EQ(res.rc, 0);
    CHECK(res.out && strstr(res.out, "Formatting 'hd0.img', fmt=qcow2 cluster_size=65536") != NULL);
    CHECK(res.out && strstr(res.out, "size=3145728") != NULL);
    CHECK(res.io_out == NULL);
    bg_result_cleanup(&res);

    CHECK_INT_EQ(run(&f, BG_STEP_IO,
                     "{\"io\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\","
                     " \"cmd\": [\"write -P 0xa0 0 1M\", \"read -P 0xa0 0 1M\"]}}", &res),
                 BG_RES_OFFLINE);
    CHECK_INT_EQ(res.rc, 0);
    CHECK(res.io_out && strstr(res.io_out, "wrote 1048576/1048576 bytes at offset 0\n") != NULL);
    CHECK(res.io_out && strstr(res.io_out, "read 1048576/1048576 bytes at offset 0\n") != NULL);
    bg_result_cleanup(&res);

    CHECK_INT_EQ(run(&f, BG_STEP_QEMU_IMG, "{\"qemu-img\": [\"check\", \"-f\", \"qcow2\", \"hd0.img\"]}",
                     &res), BG_RES_OFFLINE);
    CHECK_INT_EQ(res.rc, 0);
    CHECK(res.out && strstr(res.out, "No errors were found on the image.") != NULL);
    bg_result_cleanup(&res);

    /* -b without the file: qemu-img fails, which is a result (rc 1, stderr). */
    CHECK_INT_EQ(run(&f, BG_STEP_IMG_CREATE,
                     "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd1.img\","
                     " \"backing\": \"missing.img\", \"backing-fmt\": \"qcow2\"}}", &res),
                 BG_RES_OFFLINE);
    CHECK_INT_EQ(res.rc, 1);
    CHECK(res.err_text && strstr(res.err_text, "missing.img") != NULL);
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_blockdev_add_and_hmp_io(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    CHECK(qemu_backend_vm_pid(f.be) < 0);   /* offline steps start no VM */
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, ADD_HD0, &res), BG_RES_RETURN);
    CHECK(json_is_object(res.ret) && json_object_size(res.ret) == 0);
    CHECK(res.io_out == NULL);
    CHECK(qemu_backend_vm_pid(f.be) > 0);
    bg_result_cleanup(&res);

    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"human-monitor-command\", \"arguments\":"
                     " {\"command-line\": \"qemu-io hd0 \\\"read -P 0xa0 0 1M\\\"\"}}", &res),
                 BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(res.ret), "");
    CHECK(res.io_out && strncmp(res.io_out, "read 1048576/1048576 bytes at offset 0\n", 39) == 0);
    bg_result_cleanup(&res);

    /* A failed pattern check is still "" (observations 2); the text is io_out. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"human-monitor-command\", \"arguments\":"
                     " {\"command-line\": \"qemu-io hd0 \\\"read -P 0xa1 0 1M\\\"\"}}", &res),
                 BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(res.ret), "");
    CHECK(res.io_out && strstr(res.io_out, "Pattern verification failed at offset 0, 1048576 bytes")
          != NULL);
    bg_result_cleanup(&res);

    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-named-block-nodes\"}", &res),
                 BG_RES_RETURN);
    CHECK_INT_EQ(json_array_size(res.ret), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(res.ret, 0), "node-name")), "hd0");
    CHECK(res.io_out == NULL);
    bg_result_cleanup(&res);

    /* shutdown: the whole log; its stdout since the last step is nothing. */
    CHECK_INT_EQ(run(&f, BG_STEP_SHUTDOWN, "{\"shutdown\": {}}", &res), BG_RES_RETURN);
    CHECK(res.log && strstr(res.log, "read 1048576/1048576 bytes at offset 0") != NULL);
    CHECK(res.log && strstr(res.log, "Pattern verification failed") != NULL);
    CHECK(res.io_out == NULL);
    CHECK(has_event(&res, "SHUTDOWN"));
    if (res.events) {
        char *evs = json_dumps(res.events, JSON_COMPACT);
        fprintf(stderr, "  (shutdown events: %s)\n", evs);
        free(evs);
    }
    char *log = res.log ? bg_strdup(res.log) : NULL;
    bg_result_cleanup(&res);
    CHECK(qemu_backend_vm_pid(f.be) < 0);

    /* A second shutdown is a no-op that returns the last VM's log. */
    CHECK_INT_EQ(run(&f, BG_STEP_SHUTDOWN, "{\"shutdown\": {}}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(res.log, log);
    CHECK(res.events == NULL);
    bg_result_cleanup(&res);
    char *got = bg_qemu_backend_ops.get_log(f.be);
    CHECK_STR_EQ(got, log);
    free(got);
    free(log);
    fixture_close(&f);
}

static void test_qemu_backend_error_replies(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"no-such-command\"}", &res),
                 BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "CommandNotFound");
    CHECK_STR_EQ(res.err_desc, "The command no-such-command has not been found");
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"nope\"}}",
                     &res), BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "GenericError");
    CHECK_STR_EQ(res.err_desc, "Failed to find node with node-name='nope'");
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_reopen_seed_wording(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    must(&f, BG_STEP_EXECUTE, ADD_HD0);
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"x-blockdev-reopen\", \"arguments\": {\"driver\": \"\","
                     " \"node-name\": \"hd0\", \"file\": \"hd0-file\"}}", &res), BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "GenericError");
    CHECK_STR_EQ(res.err_desc, "Invalid parameter ''");
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"x-blockdev-reopen\", \"arguments\": {\"driver\": \"qcow2\","
                     " \"node-name\": null, \"file\": \"hd0-file\"}}", &res), BG_RES_ERROR);
    CHECK_STR_EQ(res.err_desc, "Invalid parameter type for 'node-name', expected: string");
    bg_result_cleanup(&res);
    /* The same through blockdev-reopen keeps QEMU 7.2's own wording. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"blockdev-reopen\", \"arguments\": {\"options\": [{\"driver\":"
                     " \"qcow2\", \"node-name\": null, \"file\": \"hd0-file\"}]}}", &res),
                 BG_RES_ERROR);
    CHECK_STR_EQ(res.err_desc, "Invalid parameter type for 'options[0].node-name', expected: string");
    bg_result_cleanup(&res);
    /* A reopen that succeeds answers {}. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"x-blockdev-reopen\", \"arguments\": {\"driver\": \"qcow2\","
                     " \"node-name\": \"hd0\", \"file\": \"hd0-file\", \"read-only\": true}}", &res),
                 BG_RES_RETURN);
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_wait_job_stream(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    make_image(&f, 1, 0);
    make_image(&f, 2, 1);   /* before the VM locks hd1 */
    must(&f, BG_STEP_EXECUTE, ADD_HD1_ON_HD0);
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"stream0\","
                     " \"device\": \"hd1\"}}", &res), BG_RES_RETURN);
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_JOB, "{\"wait-job\": \"stream0\"}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(json_object_get(res.ret, "event")), "BLOCK_JOB_COMPLETED");
    json_t *data = json_object_get(res.ret, "data");
    CHECK_STR_EQ(json_string_value(json_object_get(data, "device")), "stream0");
    CHECK_INT_EQ(json_integer_value(json_object_get(data, "offset")), 3145728);
    CHECK_INT_EQ(json_integer_value(json_object_get(data, "len")), 3145728);
    CHECK(json_object_get(data, "error") == NULL);
    CHECK(json_is_false(json_object_get(res.ret, "dismissed-by-us")));   /* auto-dismiss */
    CHECK(json_object_get(res.ret, "timestamp") == NULL);
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-jobs\"}", &res), BG_RES_RETURN);
    CHECK_INT_EQ(json_array_size(res.ret), 0);
    bg_result_cleanup(&res);
    /* The data came up: hd1 reads hd0's pattern without a backing node. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"human-monitor-command\", \"arguments\":"
                     " {\"command-line\": \"qemu-io hd1 \\\"read -P 0xa0 0 1M\\\"\"}}", &res),
                 BG_RES_RETURN);
    CHECK(res.io_out && strstr(res.io_out, "read 1048576/1048576 bytes at offset 0") != NULL);
    bg_result_cleanup(&res);

    /* With auto-dismiss off, wait-job dismisses the concluded job itself. */
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": \"hd2\","
         " \"file\": {\"driver\": \"file\", \"filename\": \"$DIR/hd2.img\"}, \"backing\": \"hd1\"}}");
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"s2\", \"device\": \"hd2\","
         " \"auto-dismiss\": false}}");
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_JOB, "{\"wait-job\": \"s2\"}", &res), BG_RES_RETURN);
    CHECK(json_is_true(json_object_get(res.ret, "dismissed-by-us")));
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-jobs\"}", &res), BG_RES_RETURN);
    CHECK_INT_EQ(json_array_size(res.ret), 0);
    bg_result_cleanup(&res);
    /* Everything of both jobs was consumed: no null status left to wait for. */
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_EVENT,
                     "{\"wait-event\": {\"event\": \"JOB_STATUS_CHANGE\", \"match\": {\"data\":"
                     " {\"status\": \"null\"}}, \"timeout\": 0.2}}", &res), BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "Timeout");
    CHECK_STR_EQ(res.err_desc, "no JOB_STATUS_CHANGE event within 0.2 s");
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_run_job(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    make_image(&f, 1, 0);
    make_image(&f, 2, 1);
    must(&f, BG_STEP_EXECUTE, ADD_HD1_ON_HD0);
    BgResult res;
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"j\", \"device\": \"hd1\","
         " \"auto-finalize\": false}}");
    CHECK_INT_EQ(run(&f, BG_STEP_RUN_JOB, "{\"run-job\": {\"id\": \"j\", \"auto-finalize\": false,"
                     " \"auto-dismiss\": true}}", &res), BG_RES_RETURN);
    CHECK(json_is_null(json_object_get(res.ret, "error")));
    /* The job waited in pending for run-job's job-finalize: it completed here. */
    CHECK(has_event(&res, "BLOCK_JOB_COMPLETED"));
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-jobs\"}", &res), BG_RES_RETURN);
    CHECK_INT_EQ(json_array_size(res.ret), 0);
    bg_result_cleanup(&res);

    /* cancel while pending: the job aborts; run-job reports its error. */
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": \"hd2\","
         " \"file\": {\"driver\": \"file\", \"filename\": \"$DIR/hd2.img\"}, \"backing\": \"hd1\"}}");
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"k\", \"device\": \"hd2\","
         " \"auto-finalize\": false, \"auto-dismiss\": false}}");
    CHECK_INT_EQ(run(&f, BG_STEP_RUN_JOB, "{\"run-job\": {\"id\": \"k\", \"auto-finalize\": false,"
                     " \"cancel\": true}}", &res), BG_RES_RETURN);
    json_t *e = json_object_get(res.ret, "error");
    CHECK(json_is_string(e));
    if (json_is_string(e))
        fprintf(stderr, "  (run-job cancel: error \"%s\")\n", json_string_value(e));
    CHECK(has_event(&res, "BLOCK_JOB_CANCELLED"));
    bg_result_cleanup(&res);
    /* A job that does not exist: nothing comes. */
    BgError err = { 0 };
    CHECK(step(&f, BG_STEP_WAIT_EVENT, "{\"wait-event\": {\"event\": \"X\", \"timeout\": 0}}",
               &res, &err));
    CHECK_STR_EQ(res.err_desc, "no X event within 0 s");
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_run_job_completes_ready_job(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    make_image(&f, 1, 0);
    must(&f, BG_STEP_EXECUTE, ADD_HD1_ON_HD0);
    /* Active commit (no top-node): the job becomes ready; run-job completes it. */
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"block-commit\", \"arguments\": {\"job-id\": \"c\", \"device\": \"hd1\"}}");
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_RUN_JOB, "{\"run-job\": {\"id\": \"c\"}}", &res), BG_RES_RETURN);
    CHECK(json_is_null(json_object_get(res.ret, "error")));
    CHECK(has_event(&res, "BLOCK_JOB_COMPLETED"));
    bg_result_cleanup(&res);
    /* hd0 got hd1's data. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE,
                     "{\"execute\": \"human-monitor-command\", \"arguments\":"
                     " {\"command-line\": \"qemu-io hd0 \\\"read -P 0xa1 1M 1M\\\"\"}}", &res),
                 BG_RES_RETURN);
    CHECK(res.io_out && strstr(res.io_out, "read 1048576/1048576 bytes at offset 1048576") != NULL);
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_wait_event_uses_queue(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    make_image(&f, 0, -1);
    make_image(&f, 1, 0);
    must(&f, BG_STEP_EXECUTE, ADD_HD1_ON_HD0);
    must(&f, BG_STEP_EXECUTE,
         "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"q\", \"device\": \"hd1\"}}");
    BgResult res;
    /* The completion event is matched on data.device, queued or new. */
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_EVENT,
                     "{\"wait-event\": {\"event\": \"BLOCK_JOB_COMPLETED\", \"match\": {\"data\":"
                     " {\"device\": \"q\", \"len\": 3145728.0}}}}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(json_object_get(res.ret, "event")), "BLOCK_JOB_COMPLETED");
    CHECK(json_object_get(res.ret, "data") != NULL);
    bg_result_cleanup(&res);
    /* Consumed: a second wait does not see it again. */
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_EVENT,
                     "{\"wait-event\": {\"event\": \"BLOCK_JOB_COMPLETED\", \"timeout\": 0.1}}",
                     &res), BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "Timeout");
    bg_result_cleanup(&res);
    /* But the status changes are still queued, in order. */
    CHECK_INT_EQ(run(&f, BG_STEP_WAIT_EVENT,
                     "{\"wait-event\": {\"event\": \"JOB_STATUS_CHANGE\", \"match\": {\"data\":"
                     " {\"id\": \"q\"}}, \"timeout\": 1}}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(res.ret, "data"), "status")),
                 "created");
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_launch(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    BgResult res;
    CHECK_INT_EQ(run(&f, BG_STEP_LAUNCH, "{\"launch\": {\"machine\": \"pc\", \"args\": []}}", &res),
                 BG_RES_RETURN);
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_LAUNCH, "{\"launch\": {\"machine\": \"none\"}}", &res),
                 BG_RES_ERROR);
    CHECK_STR_EQ(res.err_class, "GenericError");
    CHECK(res.err_desc && strstr(res.err_desc, "already running") != NULL);
    bg_result_cleanup(&res);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-status\"}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(json_object_get(res.ret, "status")), "prelaunch");
    bg_result_cleanup(&res);
    /* quit as a command ends the VM; the next command starts a new one. */
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"quit\"}", &res), BG_RES_RETURN);
    bg_result_cleanup(&res);
    CHECK(qemu_backend_vm_pid(f.be) < 0);
    CHECK_INT_EQ(run(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-status\"}", &res), BG_RES_RETURN);
    CHECK_STR_EQ(json_string_value(json_object_get(res.ret, "status")), "running");
    bg_result_cleanup(&res);
    fixture_close(&f);
}

static void test_qemu_backend_killed_qemu_is_a_failure(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    must(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-version\"}");
    pid_t pid = qemu_backend_vm_pid(f.be);
    CHECK(pid > 0);
    if (pid > 0)
        kill(pid, SIGKILL);
    double t0 = now_s();
    BgResult res;
    BgError err = { 0 };
    CHECK(!step(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-version\"}", &res, &err));
    CHECK(now_s() - t0 < 5.0);
    CHECK(strstr(err.text, "killed by signal 9") != NULL);
    fprintf(stderr, "  (killed: %s)\n", err.text);
    bg_result_cleanup(&res);
    char *log = bg_qemu_backend_ops.get_log(f.be);
    CHECK(log != NULL);
    free(log);
    CHECK(qemu_backend_vm_pid(f.be) < 0);
    fixture_close(&f);
}

static void test_qemu_backend_crash_mid_command(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    /* qemu-semantics.md 1.2: an empty options list aborts QEMU 7.2.22. */
    BgResult res;
    BgError err = { 0 };
    CHECK(!step(&f, BG_STEP_EXECUTE,
                "{\"execute\": \"blockdev-reopen\", \"arguments\": {\"options\": []}}", &res, &err));
    CHECK(strstr(err.text, "QEMU died while running 'blockdev-reopen'") != NULL);
    CHECK(strstr(err.text, "SIGABRT") != NULL);
    CHECK(strstr(err.text, "bs_queue != NULL") != NULL);
    bg_result_cleanup(&res);
    char *log = bg_qemu_backend_ops.get_log(f.be);
    CHECK(log && strstr(log, "Assertion") != NULL);
    free(log);
    fixture_close(&f);
}

static void test_qemu_backend_start_failure_is_a_failure(void)
{
    if (skip())
        return;
    /* A "QEMU" that complains on stderr and exits, as a bad option would. */
    char dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/bg-qemu-fake.XXXXXX", tmp && *tmp ? tmp : "/var/tmp");
    CHECK(mkdtemp(dir) != NULL);
    char *script = bg_asprintf("%s/fake-qemu", dir);
    FILE *fp = fopen(script, "w");
    CHECK(fp != NULL);
    if (!fp) {
        free(script);
        return;
    }
    fputs("#!/bin/sh\necho 'qemu-system-x86_64: -bogus: invalid option' >&2\nexit 1\n", fp);
    fclose(fp);
    chmod(script, 0755);
    char *old = getenv("BG_QEMU") ? bg_strdup(getenv("BG_QEMU")) : NULL;
    setenv("BG_QEMU", script, 1);
    Fixture f;
    if (fixture_open(&f)) {
        BgResult res;
        BgError err = { 0 };
        CHECK(!step(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-version\"}", &res, &err));
        CHECK_STR_EQ(err.text, "QEMU died during start-up: exit status 1; "
                               "stderr: qemu-system-x86_64: -bogus: invalid option");
        bg_result_cleanup(&res);
        char *log = bg_qemu_backend_ops.get_log(f.be);
        CHECK_STR_EQ(log, "qemu-system-x86_64: -bogus: invalid option\n");
        free(log);
        fixture_close(&f);
    }
    if (old)
        setenv("BG_QEMU", old, 1);
    else
        unsetenv("BG_QEMU");
    free(old);
    remove(script);
    remove(dir);
    free(script);
}

static void test_qemu_backend_timing(void)
{
    Fixture f;
    if (skip() || !fixture_open(&f))
        return;
    enum { N = 50 };
    double t0 = now_s();
    must(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-version\"}");
    double t1 = now_s();
    for (int i = 0; i < N; i++)
        must(&f, BG_STEP_EXECUTE, "{\"execute\": \"query-named-block-nodes\"}");
    double t2 = now_s();
    must(&f, BG_STEP_SHUTDOWN, "{\"shutdown\": {}}");
    double t3 = now_s();
    fprintf(stderr, "  (timing: VM start + first command %.1f ms, command %.2f ms, "
            "shutdown %.1f ms)\n", (t1 - t0) * 1e3, (t2 - t1) * 1e3 / N, (t3 - t2) * 1e3);
    CHECK(t1 - t0 < BG_START_TIMEOUT_S);
    fixture_close(&f);
}

BG_SUITE(qemu_backend) = {
    {"available", test_qemu_backend_available},
    {"proc_reports_missing_program", test_qemu_backend_proc_reports_missing_program},
    {"offline_steps", test_qemu_backend_offline_steps},
    {"blockdev_add_and_hmp_io", test_qemu_backend_blockdev_add_and_hmp_io},
    {"error_replies", test_qemu_backend_error_replies},
    {"reopen_seed_wording", test_qemu_backend_reopen_seed_wording},
    {"wait_job_stream", test_qemu_backend_wait_job_stream},
    {"run_job", test_qemu_backend_run_job},
    {"run_job_completes_ready_job", test_qemu_backend_run_job_completes_ready_job},
    {"wait_event_uses_queue", test_qemu_backend_wait_event_uses_queue},
    {"launch", test_qemu_backend_launch},
    {"killed_qemu_is_a_failure", test_qemu_backend_killed_qemu_is_a_failure},
    {"crash_mid_command", test_qemu_backend_crash_mid_command},
    {"start_failure_is_a_failure", test_qemu_backend_start_failure_is_a_failure},
    {"timing", test_qemu_backend_timing},
    {NULL, NULL},
};
