/*
 * test_real_nodes.c: the nodes the differential comparator reads on the
 * "real" backend (backend.h list_nodes, read_node): the same nodes as the
 * model offers for the same graph, a planted difference in the bytes is
 * found by a model,real run with compare_data, and a read for the
 * comparator leaves no trace even where it finds a qcow2 corruption.
 * What it is not: the comparison itself on fake backends (test_runner.c).
 */
#include <jansson.h>

#include "test_real_util.h"
#include "test_step_util.h"
#include "backend.h"
#include "json.h"
#include "runner.h"
#include "stream.h"

extern const BgBackendOps bg_model_backend_ops;
extern const BgBackendOps bg_real_backend_ops;

/* Named nodes of a list_nodes answer: {"NAME": SIZE} (automatic names left out). */
static json_t *named(json_t *take_list)
{
    json_t *m = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(take_list, i, e) {
        const char *name = json_string_value(json_object_get(e, "node-name"));
        if (name && name[0] != '#')
            json_object_set(m, name, json_object_get(e, "size"));
    }
    json_decref(take_list);
    return m;
}

typedef struct Pair {
    char *dir;               /* real's scratch directory; the model only uses the name */
    BgBackend *model, *real;
} Pair;

static void pair_open(Pair *p)
{
    p->dir = tr_mkdtemp();
    BgBackendConfig cfg = { .scratch = p->dir, .stream_path = "test" };
    BgError err = { 0 };
    p->model = bg_model_backend_ops.open(&cfg, &err);
    p->real = bg_real_backend_ops.open(&cfg, &err);
}

static void pair_close(Pair *p)
{
    bg_model_backend_ops.close(p->model);
    bg_real_backend_ops.close(p->real);
    tr_rmdir(p->dir);
}

/* A step on both backends: they must agree on success. */
static void both(Pair *p, const char *line)
{
    BgResult a = ts_run(&bg_model_backend_ops, p->model, p->dir, line);
    BgResult b = ts_run(&bg_real_backend_ops, p->real, p->dir, line);
    if (a.kind != b.kind || a.kind == BG_RES_UNSUPPORTED || a.kind == BG_RES_ERROR ||
        (a.kind == BG_RES_OFFLINE && (a.rc || b.rc))) {
        fprintf(stderr, "  step %s: model %s, real %s\n", line,
                a.err_desc ? a.err_desc : a.unsupported ? a.unsupported : "-",
                b.err_desc ? b.err_desc : b.unsupported ? b.unsupported : "-");
        bg_test_failures++;
    }
    bg_result_cleanup(&a);
    bg_result_cleanup(&b);
}

/* Both backends offer exactly the nodes in WANT (space-separated names,
 * automatic names aside), each with the same size. */
static void expect_nodes(Pair *p, const char *want)
{
    json_t *m = named(bg_model_backend_ops.list_nodes(p->model));
    json_t *r = named(bg_real_backend_ops.list_nodes(p->real));
    char *w = bg_strdup(want);
    size_t n = 0;
    for (char *tok = strtok(w, " "); tok; tok = strtok(NULL, " "), n++) {
        if (!json_object_get(m, tok) || !json_object_get(r, tok)) {
            fprintf(stderr, "  node %s: model %s, real %s\n", tok,
                    json_object_get(m, tok) ? "lists it" : "does not list it",
                    json_object_get(r, tok) ? "lists it" : "does not list it");
            bg_test_failures++;
            continue;
        }
        CHECK_INT_EQ(json_integer_value(json_object_get(r, tok)),
                     json_integer_value(json_object_get(m, tok)));
    }
    CHECK_INT_EQ(json_object_size(m), n);
    CHECK_INT_EQ(json_object_size(r), n);
    free(w);
    json_decref(m);
    json_decref(r);
}

/* ---- list_nodes agrees with the model -------------------------------------------------- */

/* A backing chain of qcow2 nodes over files: every node is offered. */
static void test_real_nodes_chain(void)
{
    Pair p;
    pair_open(&p);
    expect_nodes(&p, "");   /* no VM yet */
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'base.img', 'size': '3M'}}");
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'top.img', 'backing': '$DIR/base.img', "
             "'backing-fmt': 'qcow2'}}");
    both(&p, "{'io': {'fmt': 'qcow2', 'file': 'base.img', 'cmd': 'write -P 0x5a 0 1M'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'top', "
             "'file': {'driver': 'file', 'node-name': 'top-file', 'filename': '$DIR/top.img'}, "
             "'backing': {'driver': 'qcow2', 'node-name': 'base', 'file': {'driver': 'file', "
             "'filename': '$DIR/base.img'}}}}");
    expect_nodes(&p, "top top-file base");
    both(&p, "{'execute': 'blockdev-del', 'arguments': {'node-name': 'top'}}");
    expect_nodes(&p, "");
    pair_close(&p);
}

/* Filters, and every node above one, are not offered; what is below them is. */
static void test_real_nodes_filters(void)
{
    Pair p;
    pair_open(&p);
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    both(&p, "{'img-create': {'fmt': 'raw', 'file': 'r0.img', 'size': '1M'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
             "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}");
    both(&p, "{'execute': 'object-add', 'arguments': {'qom-type': 'throttle-group', "
             "'id': 'group0'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'throttle', 'node-name': 't0', "
             "'throttle-group': 'group0', 'file': 'hd0'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'copy-on-read', "
             "'node-name': 'cor0', 'file': {'driver': 'raw', 'node-name': 'r0', 'offset': 512, "
             "'size': 4096, 'file': {'driver': 'file', 'node-name': 'r0-file', "
             "'filename': '$DIR/r0.img'}}}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'null-co', 'node-name': 'n0', "
             "'size': 1048576}}");
    expect_nodes(&p, "hd0 hd0-file r0 r0-file");
    /* a format node over a filter reads through it */
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'over', "
             "'file': 't0'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'overnull', "
             "'file': 'n0'}}");
    expect_nodes(&p, "hd0 hd0-file r0 r0-file");
    pair_close(&p);
}

/* Reopen changes the graph: a backing swapped for a filter takes the node out. */
static void test_real_nodes_reopen(void)
{
    Pair p;
    pair_open(&p);
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'a.img', 'size': '1M'}}");
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'b.img', 'size': '1M'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'b', "
             "'file': {'driver': 'file', 'filename': '$DIR/b.img'}}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'a', "
             "'file': {'driver': 'file', 'node-name': 'a-file', 'filename': '$DIR/a.img'}, "
             "'backing': 'b'}}");
    expect_nodes(&p, "a a-file b");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'compress', 'node-name': 'c0', "
             "'file': 'b'}}");
    both(&p, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
             "'node-name': 'a', 'file': 'a-file', 'backing': 'c0'}]}}");
    expect_nodes(&p, "a-file b");
    both(&p, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
             "'node-name': 'a', 'file': 'a-file', 'backing': null}]}}");
    expect_nodes(&p, "a a-file b");
    both(&p, "{'shutdown': {}}");
    expect_nodes(&p, "");
    pair_close(&p);
}

/*
 * A block job that has not concluded takes out the node it copies into
 * (stream: the top, commit: the base), what its writes pass below that (not
 * its backing chain), and every node above those; the rest stays offered,
 * and everything is offered again once the job has concluded.
 */
static void test_real_nodes_jobs(void)
{
    Pair p;
    pair_open(&p);
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'base.img', 'size': '1M'}}");
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'mid.img', 'backing': '$DIR/base.img', "
             "'backing-fmt': 'qcow2'}}");
    both(&p, "{'img-create': {'fmt': 'qcow2', 'file': 'top.img', 'backing': '$DIR/mid.img', "
             "'backing-fmt': 'qcow2'}}");
    both(&p, "{'io': {'fmt': 'qcow2', 'file': 'mid.img', 'cmd': 'write -P 0x5a 0 64k'}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'top', "
             "'file': {'driver': 'file', 'node-name': 'top-file', 'filename': '$DIR/top.img'}, "
             "'backing': {'driver': 'qcow2', 'node-name': 'mid', 'file': {'driver': 'file', "
             "'node-name': 'mid-file', 'filename': '$DIR/mid.img'}, 'backing': {'driver': "
             "'qcow2', 'node-name': 'base', 'file': {'driver': 'file', 'node-name': "
             "'base-file', 'filename': '$DIR/base.img'}}}}}");
    both(&p, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'peek', "
             "'file': 'base-file', 'read-only': true}}");
    const char *all = "top top-file mid mid-file base base-file peek";
    expect_nodes(&p, all);
    both(&p, "{'execute': 'block-stream', 'arguments': {'job-id': 'j0', 'device': 'top', "
             "'base-node': 'mid', 'auto-finalize': false}}");
    expect_nodes(&p, "mid mid-file base base-file peek");
    both(&p, "{'run-job': {'id': 'j0', 'auto-finalize': false, 'auto-dismiss': true}}");
    expect_nodes(&p, all);
    both(&p, "{'execute': 'block-commit', 'arguments': {'job-id': 'j1', 'device': 'top', "
             "'top-node': 'mid', 'base-node': 'base', 'auto-finalize': false}}");
    expect_nodes(&p, "top-file mid-file");
    both(&p, "{'run-job': {'id': 'j1', 'auto-finalize': false, 'auto-dismiss': true}}");
    expect_nodes(&p, "top top-file base base-file peek");
    both(&p, "{'execute': 'block-commit', 'arguments': {'job-id': 'j2', 'device': 'top'}}");
    expect_nodes(&p, "top-file");
    both(&p, "{'run-job': {'id': 'j2', 'auto-finalize': true, 'auto-dismiss': true}}");
    expect_nodes(&p, "top top-file base base-file peek");
    pair_close(&p);
}

/* ---- a planted difference is found ----------------------------------------------------- */

static const BgBackendOps *planted_base;
static uint64_t planted_at = 1024 * 1024 + 7;

/* real's read_node with one byte of node 'top' changed at planted_at. */
static bool planted_read_node(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                              uint8_t *buf, BgError *err)
{
    if (!planted_base->read_node(be, node, offset, len, buf, err))
        return false;
    if (!strcmp(node, "top") && offset <= planted_at && planted_at < offset + len)
        buf[planted_at - offset] ^= 0x40;
    return true;
}

static const char *PLANT_STREAM =
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"base.img\", \"size\": \"3M\"}}\n"
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"top.img\", \"backing\": \"$DIR/base.img\", "
    "\"backing-fmt\": \"qcow2\"}}\n"
    "{\"io\": {\"fmt\": \"qcow2\", \"file\": \"base.img\", \"cmd\": \"write -P 0x5a 0 2M\"}}\n"
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", "
    "\"node-name\": \"top\", \"file\": {\"driver\": \"file\", \"filename\": \"$DIR/top.img\"}, "
    "\"backing\": {\"driver\": \"qcow2\", \"node-name\": \"base\", \"file\": {\"driver\": "
    "\"file\", \"filename\": \"$DIR/base.img\"}}}}\n"
    "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
    "\"qemu-io top \\\"write -P 0x33 512k 4k\\\"\"}}\n";

static BgRunReport run_pair_opt(const BgBackendOps *real_ops, bool compare_data,
                                bool skip_known_zero)
{
    BgError err = { 0 };
    BgStream *s = bg_stream_parse("plant.jsonl", PLANT_STREAM, strlen(PLANT_STREAM), &err);
    BgRunReport rep = { 0 };
    CHECK(s != NULL);
    if (!s)
        return rep;
    char *base = tr_mkdtemp();
    BgRunOptions opt = { .scratch_base = base, .compare_data = compare_data,
                         .skip_known_zero = skip_known_zero };
    const BgBackendOps *backends[2] = { &bg_model_backend_ops, real_ops };
    bg_run_stream(s, backends, 2, &opt, &rep);
    bg_stream_free(s);
    tr_rmdir(base);
    return rep;
}

static BgRunReport run_pair(const BgBackendOps *real_ops, bool compare_data)
{
    return run_pair_opt(real_ops, compare_data, false);
}

static void test_real_nodes_planted_difference(void)
{
    BgRunReport rep = run_pair(&bg_real_backend_ops, true);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);   /* model and real agree on the data */
    if (rep.message)
        fprintf(stderr, "  %s\n", rep.message);
    bg_run_report_cleanup(&rep);

    planted_base = &bg_real_backend_ops;
    BgBackendOps planted = bg_real_backend_ops;
    planted.read_node = planted_read_node;
    rep = run_pair(&planted, true);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK(rep.message && strstr(rep.message, "plant.jsonl:4: backends differ on guest "
                                             "data after blockdev-add (at /top/1048576)"));
    CHECK_STR_EQ(json_string_value(json_object_get(rep.signature, "channel")), "data");
    bg_run_report_cleanup(&rep);

    rep = run_pair(&planted, false);           /* not looked for without compare_data */
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    bg_run_report_cleanup(&rep);
}

/* ---- a false "known zeroes" claim is caught ------------------------------------------- */

/* real's known_zero claiming zeroes everywhere (the data under 'top' is not). */
static uint64_t planted_known_zero(BgBackend *be, const char *node, uint64_t offset,
                                   uint64_t len)
{
    (void)be;
    (void)node;
    (void)offset;
    return len;
}

static void test_real_nodes_zero_claim_checked(void)
{
    BgBackendOps planted = bg_real_backend_ops;
    planted.known_zero = planted_known_zero;
    /* without skip_known_zero (replay) every claim is checked against the bytes */
    BgRunReport rep = run_pair_opt(&planted, true, false);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK(rep.message && strstr(rep.message, "/zero-claim/real)"));
    bg_run_report_cleanup(&rep);
    /* with it (the fuzzer) a claim is still checked where the other backend
     * reads data: the model knows the base's bytes are there */
    rep = run_pair_opt(&planted, true, true);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK(rep.message && strstr(rep.message, "/zero-claim/real)"));
    bg_run_report_cleanup(&rep);
    /* the real claims hold on this stream, in both modes */
    rep = run_pair_opt(&bg_real_backend_ops, true, true);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    bg_run_report_cleanup(&rep);

    /* a byte only a read shows, where both backends' metadata say zeroes
     * (nothing was written at 2.5 MiB): checked by replay, skipped by the
     * fuzzer, the rule of qemu-img compare */
    planted_base = &bg_real_backend_ops;
    planted_at = 2560 * 1024;
    planted = bg_real_backend_ops;
    planted.read_node = planted_read_node;
    rep = run_pair_opt(&planted, true, false);
    CHECK_INT_EQ(rep.status, BG_RUN_FAILED);
    CHECK(rep.message && strstr(rep.message, "(at /top/2621440/zero-claim/real)"));
    bg_run_report_cleanup(&rep);
    rep = run_pair_opt(&planted, true, true);
    CHECK_INT_EQ(rep.status, BG_RUN_PASSED);
    bg_run_report_cleanup(&rep);
    planted_at = 1024 * 1024 + 7;
}

/* ---- a read for the comparator leaves no trace ---------------------------------------- */

static bool read_real(BgBackend *be, const char *node, uint8_t *buf, BgError *err)
{
    return bg_real_backend_ops.read_node(be, node, 0, 65536, buf, err);
}

/* Runs STEPS on OPS/BE in DIR; each must succeed (offline steps with rc 0). */
static void run_ok(const BgBackendOps *ops, BgBackend *be, const char *dir,
                   const char *const *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        BgResult r = ts_run(ops, be, dir, steps[i]);
        CHECK(r.kind != BG_RES_ERROR && !(r.kind == BG_RES_OFFLINE && r.rc));
        bg_result_cleanup(&r);
    }
}

/*
 * An L1 entry naming an unaligned L2 table: QEMU's read raises
 * BLOCK_IMAGE_CORRUPTED, marks the image corrupt and closes it
 * (qcow2_signal_corruption()); the comparator's read only fails, without
 * an event, the header keeps its bits, and the next guest read is the one
 * that finds the corruption.
 */
static void test_real_nodes_corruption_no_trace(void)
{
    char *dir = tr_mkdtemp();
    BgBackendConfig cfg = { .scratch = dir, .stream_path = "test" };
    BgError err = { 0 };
    const BgBackendOps *ops = &bg_real_backend_ops;
    BgBackend *be = ops->open(&cfg, &err);
    const char *steps[] = {
        "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}",
        "{'io': {'fmt': 'raw', 'file': 'hd0.img', 'cmd': 'write -P 0x03 196608 8'}}",
        ("{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
         "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}"),
    };
    run_ok(ops, be, dir, steps, sizeof(steps) / sizeof(steps[0]));
    CHECK_INT_EQ(tr_be64_at(dir, "hd0.img", 72), 0);   /* incompatible features */
    uint8_t *buf = bg_malloc(65536);
    for (int i = 0; i < 2; i++) {
        BgError e = { 0 };
        CHECK(!read_real(be, "hd0", buf, &e));
        CHECK_STR_EQ(e.text, "read failed: Input/output error");   /* not "No medium found" */
    }
    CHECK_INT_EQ(tr_be64_at(dir, "hd0.img", 72), 0);
    json_t *l = named(ops->list_nodes(be));
    CHECK(json_object_get(l, "hd0") != NULL);
    json_decref(l);
    BgResult r = ts_run(ops, be, dir, "{'execute': 'query-jobs'}");
    CHECK(r.events == NULL);                            /* no BLOCK_IMAGE_CORRUPTED either */
    bg_result_cleanup(&r);

    r = ts_run(ops, be, dir, "{'execute': 'human-monitor-command', 'arguments': "
                              "{'command-line': 'qemu-io hd0 \\'read 0 64k\\''}}");
    CHECK(r.io_out && strstr(r.io_out, "read failed: Input/output error"));
    json_t *ev = json_array_get(r.events, 0);
    CHECK_STR_EQ(json_string_value(json_object_get(ev, "event")), "BLOCK_IMAGE_CORRUPTED");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(ev, "data/msg")),
                 "L2 table offset 0x3030303030200 unaligned (L1 index: 0)");
    CHECK(json_is_true(bg_json_path_get(ev, "data/fatal")));
    bg_result_cleanup(&r);
    CHECK_INT_EQ(tr_be64_at(dir, "hd0.img", 72), 2);   /* QCOW2_INCOMPAT_CORRUPT */
    BgError e = { 0 };
    CHECK(!read_real(be, "hd0", buf, &e));
    CHECK_STR_EQ(e.text, "read failed: No medium found");
    r = ts_run(ops, be, dir, "{'execute': 'query-named-block-nodes'}");
    CHECK_STR_EQ(r.err_desc, "Block device hd0 is ejected");   /* bdrv_block_device_info() */
    bg_result_cleanup(&r);
    free(buf);
    ops->close(be);
    tr_rmdir(dir);
}

/*
 * A reopen of the node above a named commit filter with backing: null
 * takes the filter out of the graph while the job is pending (QEMU 7.2
 * asserts there, so no corpus stream can hold it: fuzz finding
 * 425f9bc9f944).  The job holds the filter (extra_refs) until it is
 * cleaned up, so its abort at quit neither uses freed memory nor breaks
 * the refcount invariant (the backend checks the graph after each step).
 */
static void test_real_nodes_commit_filter_held(void)
{
    char *dir = tr_mkdtemp();
    BgBackendConfig cfg = { .scratch = dir, .stream_path = "test" };
    BgError err = { 0 };
    const BgBackendOps *ops = &bg_real_backend_ops;
    BgBackend *be = ops->open(&cfg, &err);
    const char *steps[] = {
        "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'size': '0'}}",
        "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '0'}}",
        "{'img-create': {'fmt': 'qcow2', 'file': 'hd2.img', 'size': '0'}}",
        ("{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
         "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}, "
         "'backing': {'driver': 'qcow2', 'node-name': 'hd1', 'file': {'driver': 'file', "
         "'node-name': 'hd1-file', 'filename': '$DIR/hd1.img'}, 'backing': {'driver': 'qcow2', "
         "'node-name': 'hd2', 'file': {'driver': 'file', 'node-name': 'hd2-file', "
         "'filename': '$DIR/hd2.img'}}}}}"),
        ("{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'hd0', "
         "'top-node': 'hd1', 'filter-node-name': 'ct', 'auto-finalize': false}}"),
        ("{'wait-event': {'event': 'BLOCK_JOB_PENDING', 'match': {'data': {'id': 'c0'}}, "
         "'timeout': 10}}"),
        ("{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
         "'node-name': 'hd0', 'file': 'hd0-file', 'backing': null}]}}"),
    };
    run_ok(ops, be, dir, steps, sizeof(steps) / sizeof(steps[0]));
    BgResult r = ts_run(ops, be, dir, "{'execute': 'query-block-jobs'}");
    CHECK(json_array_size(r.ret) == 1);                 /* still pending */
    bg_result_cleanup(&r);
    ops->close(be);                                     /* quit cancels and aborts c0 */
    tr_rmdir(dir);
}

/*
 * A zero write that reaches a blkverify node: QEMU 7.2 aborts
 * (bdrv_co_do_pwrite_zeroes() asserts !bs->supported_zero_flags, and
 * blkverify_open() sets BDRV_REQ_WRITE_UNCHANGED there without a
 * bdrv_co_pwrite_zeroes), so the step is unsupported, also through a raw
 * node above.  A write of zeroes with detect-zeroes on the node is not
 * turned into a zero write there (no bdrv_co_pwrite_zeroes) and runs.
 * Found by make fuzz (fuzz_diff key "/ * /size" after "write -z" on bv0).
 */
static void test_real_nodes_blkverify_zero_write_aborts(void)
{
    const BgBackendOps *ops = &bg_real_backend_ops;
    for (int through_raw = 0; through_raw < 3; through_raw++) {
        char *dir = tr_mkdtemp();
        BgBackendConfig cfg = { .scratch = dir, .stream_path = "test" };
        BgError err = { 0 };
        BgBackend *be = ops->open(&cfg, &err);
        const char *steps[] = {
            "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'size': '3M'}}",
            "{'img-create': {'fmt': 'qcow2', 'file': 'hd2.img', 'size': '3M'}}",
            ("{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd2', "
             "'file': {'driver': 'file', 'filename': '$DIR/hd2.img'}}}"),
            ("{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
             "'file': {'driver': 'file', 'filename': '$DIR/hd1.img'}}}"),
            ("{'execute': 'blockdev-add', 'arguments': {'driver': 'blkverify', 'node-name': "
             "'bv0', 'test': 'hd2', 'raw': 'hd1', 'detect-zeroes': 'on'}}"),
            ("{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'r0', "
             "'file': 'bv0'}}"),
        };
        run_ok(ops, be, dir, steps, sizeof(steps) / sizeof(steps[0]));
        const char *io[] = {
            "{'execute': 'human-monitor-command', 'arguments': "
            "{'command-line': 'qemu-io bv0 \\'write -z 0 64k\\''}}",
            "{'execute': 'human-monitor-command', 'arguments': "
            "{'command-line': 'qemu-io r0 \\'write -z 0 64k\\''}}",
            "{'execute': 'human-monitor-command', 'arguments': "
            "{'command-line': 'qemu-io bv0 \\'write -P 0 0 64k\\''}}",
        };
        BgResult r = ts_run(ops, be, dir, io[through_raw]);
        if (through_raw < 2) {
            CHECK_INT_EQ(r.kind, BG_RES_UNSUPPORTED);
            CHECK_STR_EQ(r.unsupported, "a zero write on a blkverify node (QEMU 7.2 aborts in "
                                        "bdrv_co_do_pwrite_zeroes())");
        } else {
            CHECK_INT_EQ(r.kind, BG_RES_RETURN);
            CHECK(r.io_out && strstr(r.io_out, "wrote 65536/65536 bytes at offset 0"));
        }
        bg_result_cleanup(&r);
        ops->close(be);
        tr_rmdir(dir);
    }
}

BG_SUITE(real_nodes) = {
    { "chain", test_real_nodes_chain },
    { "filters", test_real_nodes_filters },
    { "reopen", test_real_nodes_reopen },
    { "jobs", test_real_nodes_jobs },
    { "planted_difference", test_real_nodes_planted_difference },
    { "zero_claim_checked", test_real_nodes_zero_claim_checked },
    { "commit_filter_held", test_real_nodes_commit_filter_held },
    { "corruption_no_trace", test_real_nodes_corruption_no_trace },
    { "blkverify_zero_write_aborts", test_real_nodes_blkverify_zero_write_aborts },
    { NULL, NULL },
};
