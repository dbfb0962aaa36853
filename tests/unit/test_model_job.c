/*
 * test_model_job.c: the model's block jobs: argument checks and error
 * classes, op blockers and "Need a root block node", cancel at pending
 * (aborted) and at ready (a soft cancel completes), block-stream with a
 * base named by file and a backing-file string, the job list newest
 * first, a commit that fails after creating its job.  Expected texts and
 * events are QEMU 7.2's (recorded with replay --backend=qemu).
 */
#include "test_model_util.h"

static void chain(BgBackend *be)
{
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd2.img', 'size': '3M'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'hd2.img', 'cmd': 'write -P 0xa2 2M 64k'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'size': '3M'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'hd1.img', 'cmd': 'write -P 0xa1 1M 64k'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}, "
              "'backing': {'driver': 'qcow2', 'node-name': 'hd1', 'file': {'driver': 'file', "
              "'node-name': 'hd1-file', 'filename': '$DIR/hd1.img'}, 'backing': {'driver': "
              "'qcow2', 'node-name': 'hd2', 'file': {'driver': 'file', 'node-name': 'hd2-file', "
              "'filename': '$DIR/hd2.img'}}}}}");
}

static void check_error(BgBackend *be, const char *line, const char *cls, const char *desc)
{
    BgResult r = tm_run(be, line);
    CHECK(r.kind == BG_RES_ERROR);
    CHECK_STR_EQ(r.err_class, cls);
    CHECK_STR_EQ(r.err_desc, desc);
    bg_result_cleanup(&r);
}

static void test_model_job_argument_errors(void)
{
    BgBackend *be = tm_open();
    chain(be);
    check_error(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'nope'}}",
                "DeviceNotFound", "Device 'nope' not found");
    check_error(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'hd1'}}",
                "GenericError", "Need a root block node");
    check_error(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'hd0', "
                    "'top-node': 'hd2'}}", "GenericError", "cannot commit an image into itself");
    check_error(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'hd0', "
                    "'backing-file': 'x'}}", "GenericError",
                "'backing-file' specified, but 'top' is the active layer");
    check_error(be, "{'execute': 'block-stream', 'arguments': {'device': 'hd0'}}", "GenericError",
                "Invalid job ID ''");
    check_error(be, "{'execute': 'block-stream', 'arguments': {'device': 'hd0', 'job-id': 's0', "
                    "'filter-node-name': 'hd1'}}", "GenericError",
                "Could not create node: Duplicate nodes with node-name='hd1'");
    check_error(be, "{'execute': 'block-stream', 'arguments': {'device': 'hd0', 'job-id': 's0', "
                    "'bottom': 'hd2', 'base-node': 'hd2'}}", "GenericError",
                "'bottom' and 'base-node' cannot be specified at the same time");
    check_error(be, "{'execute': 'block-stream', 'arguments': {'device': 'hd0', 'job-id': 's0', "
                    "'base': '$DIR/nope.img'}}", "GenericError",
                "Can't find '" TM_DIR "/nope.img' in the backing chain");
    check_error(be, "{'execute': 'block-stream', 'arguments': {'job-id': 's0'}}", "GenericError",
                "Parameter 'device' is missing");
    check_error(be, "{'execute': 'block-job-cancel', 'arguments': {'device': 'zz'}}",
                "DeviceNotActive", "Block job 'zz' not found");
    check_error(be, "{'execute': 'job-cancel', 'arguments': {'id': 'zz'}}", "GenericError",
                "Job not found");
    bg_model_backend_ops.close(be);
}

static void test_model_job_cancel(void)
{
    BgBackend *be = tm_open();
    chain(be);
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 's0', 'device': 'hd0', "
              "'base-node': 'hd2', 'auto-finalize': false}}");
    tm_ok(be, "{'wait-event': {'event': 'BLOCK_JOB_PENDING'}}");
    /* the stream's filter holds a BlockBackend; the intermediate node a job blocker */
    check_error(be, "{'execute': 'blockdev-del', 'arguments': {'node-name': 'hd1'}}",
                "GenericError", "Node 'hd1' is busy: block device is in use by block job: stream");
    char *out = tm_qemu_io(be, "hd1", "write 0 512");
    CHECK_STR_EQ(out, "Permission conflict on node 'hd1': permissions 'write' are both required "
                      "by an unnamed block device (uses node 'hd1' as 'root' child) and unshared "
                      "by stream job 's0' (uses node 'hd1' as 'intermediate node' child).\r\n");
    free(out);
    BgResult r = tm_run(be, "{'execute': 'job-cancel', 'arguments': {'id': 's0'}}");
    CHECK(r.kind == BG_RES_RETURN);
    /* aborting, BLOCK_JOB_CANCELLED, concluded, null */
    CHECK_INT_EQ(json_array_size(r.events), 4);
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.events, "1/event")), "BLOCK_JOB_CANCELLED");
    bg_result_cleanup(&r);
    r = tm_run(be, "{'execute': 'query-named-block-nodes'}");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "0/node-name")), "hd2");
    CHECK_INT_EQ(json_integer_value(bg_json_path_get(r.ret, "4/backing_file_depth")), 2);
    bg_result_cleanup(&r);
    /* an active commit cancelled at ready without force completes, no pivot */
    tm_ok(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', 'device': 'hd0'}}");
    tm_ok(be, "{'wait-event': {'event': 'BLOCK_JOB_READY'}}");
    tm_ok(be, "{'execute': 'block-job-cancel', 'arguments': {'device': 'c0'}}");
    r = tm_run(be, "{'wait-job': 'c0'}");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "event")), "BLOCK_JOB_COMPLETED");
    bg_result_cleanup(&r);
    r = tm_run(be, "{'execute': 'query-named-block-nodes'}");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "0/node-name")), "hd2");
    CHECK(json_is_false(bg_json_path_get(r.ret, "0/ro")));       /* the base stays writable */
    CHECK_INT_EQ(json_integer_value(bg_json_path_get(r.ret, "4/backing_file_depth")), 2);
    bg_result_cleanup(&r);
    out = tm_qemu_io(be, "hd2", "read -P 0xa1 1M 64k");           /* committed anyway */
    CHECK(out && strncmp(out, "read 65536/65536", 16) == 0);
    free(out);
    bg_model_backend_ops.close(be);
}

static void test_model_job_stream_base_by_name(void)
{
    BgBackend *be = tm_open();
    chain(be);
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 's0', 'device': 'hd0', "
              "'base': '$DIR/hd2.img', 'backing-file': 'hd2.img'}}");
    tm_ok(be, "{'wait-job': 's0'}");
    BgResult r = tm_run(be, "{'execute': 'query-named-block-nodes'}");
    CHECK_INT_EQ(json_array_size(r.ret), 4);                  /* hd1 is gone */
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "2/image/backing-filename")), "hd2.img");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "2/image/full-backing-filename")),
                 TM_DIR "/hd2.img");
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

static void test_model_job_list_and_early_fail(void)
{
    BgBackend *be = tm_open();
    chain(be);
    /* commit_start(): the job exists, the base is made writable, then the
     * filter's name clashes: created and null events, and the failure path
     * makes the base read-only again (QEMU 7.2 shows hd2 "ro": true) */
    BgResult r = tm_run(be, "{'execute': 'block-commit', 'arguments': {'job-id': 'c0', "
                            "'device': 'hd0', 'top-node': 'hd1', 'filter-node-name': 'hd2'}}");
    CHECK_STR_EQ(r.err_desc, "Duplicate nodes with node-name='hd2'");
    CHECK_INT_EQ(json_array_size(r.events), 2);
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.events, "1/data/status")), "null");
    bg_result_cleanup(&r);
    r = tm_run(be, "{'execute': 'query-named-block-nodes'}");
    CHECK(json_is_true(bg_json_path_get(r.ret, "0/ro")));
    bg_result_cleanup(&r);
    /* two jobs: newest first */
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'x.img', 'size': '3M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'x', "
              "'file': {'driver': 'file', 'filename': '$DIR/x.img'}}}");
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 'ja', 'device': 'hd0', "
              "'auto-finalize': false}}");
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 'jb', 'device': 'x'}}");
    r = tm_run(be, "{'execute': 'query-jobs'}");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "0/id")), "jb");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "1/id")), "ja");
    bg_result_cleanup(&r);
    r = tm_run(be, "{'wait-job': 'jb'}");                      /* nothing to stream */
    CHECK_INT_EQ(json_integer_value(bg_json_path_get(r.ret, "data/len")), 0);
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

/* A stream whose device is a compress filter over the image it fills: its
 * copy-on-read writes pass the filter and become compressed clusters (QEMU
 * 7.2 leaves hd1's file at 329216 bytes for 1 MiB streamed), which the model
 * does not copy: the step that drives the job answers "unsupported". */
static void test_model_job_stream_through_compress(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'backing': '$DIR/hd0.img', "
              "'backing-fmt': 'qcow2'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'hd0.img', 'cmd': 'write -P 0xa0 0 1M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'file': {'driver': 'file', 'filename': '$DIR/hd1.img'}}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'compress', "
              "'node-name': 'c', 'file': 'hd1'}}");
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 's0', 'device': 'c', "
              "'auto-finalize': false}}");
    BgResult r = tm_run(be, "{'wait-event': {'event': 'BLOCK_JOB_PENDING', "
                            "'match': {'data': {'id': 's0'}}, 'timeout': 10}}");
    CHECK_INT_EQ(r.kind, BG_RES_UNSUPPORTED);
    CHECK(r.unsupported && strstr(r.unsupported, "compress"));
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

BG_SUITE(model_job) = {
    { "argument_errors", test_model_job_argument_errors },
    { "cancel", test_model_job_cancel },
    { "stream_base_by_name", test_model_job_stream_base_by_name },
    { "list_and_early_fail", test_model_job_list_and_early_fail },
    { "stream_through_compress", test_model_job_stream_through_compress },
    { NULL, NULL },
};
