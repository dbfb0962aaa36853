/*
 * test_model_io.c: the model's data path and qemu-io: discard, readv and
 * writev, flush, copy-on-read, blkdebug's injected errors and alignment,
 * raw reads of a qcow2 file (data clusters, and a header's pattern check), the
 * lengths fixed at open, file-posix's image locking between nodes, and
 * what the model does not answer for two qcow2 nodes on one image.
 * Expected texts are QEMU 7.2's (recorded with replay --backend=qemu).
 */
#include "test_model_util.h"

static bool starts(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void base_images(BgBackend *be)
{
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'hd0.img', 'cmd': 'write -P 0xa0 0 1M'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'backing': 'hd0.img', "
              "'backing-fmt': 'qcow2'}}");
    tm_ok(be, "{'img-create': {'fmt': 'raw', 'file': 'r.img', 'size': '1M'}}");
    tm_ok(be, "{'io': {'fmt': 'raw', 'file': 'r.img', 'cmd': 'write -P 0x11 0 1M'}}");
}

static void test_model_io_discard(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    /* without discard=unmap the request does nothing, but is reported */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'r', "
              "'file': {'driver': 'file', 'node-name': 'rf', 'filename': '$DIR/r.img'}}}");
    char *out = tm_qemu_io(be, "r", "discard 0 4k");
    CHECK(starts(out, "discard 4096/4096 bytes at offset 0\n4 KiB, 1 ops; "));
    free(out);
    out = tm_qemu_io(be, "r", "read -P 0x11 0 4k");
    CHECK(starts(out, "read 4096/4096 bytes at offset 0\n"));
    free(out);
    /* with it, through raw's offset, a hole in the file */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'r2', "
              "'discard': 'unmap', 'offset': 4096, 'file': {'driver': 'file', 'node-name': 'rf2', "
              "'filename': '$DIR/r.img'}}}");
    free(tm_qemu_io(be, "r2", "discard 0 4k"));
    out = tm_qemu_io(be, "r", "read -P 0 4k 4k");
    CHECK(starts(out, "read 4096/4096 bytes at offset 4096\n"));
    free(out);
    /* qcow2: whole clusters only; with a backing file they read as zeroes */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'discard': 'unmap', 'file': {'driver': 'file', 'node-name': 'hd1-file', "
              "'filename': '$DIR/hd1.img'}}}");
    free(tm_qemu_io(be, "hd1", "discard 32k 128k"));
    out = tm_qemu_io(be, "hd1", "read -P 0xa0 0 64k");
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    out = tm_qemu_io(be, "hd1", "read -P 0 64k 64k");
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    out = tm_qemu_io(be, "hd1", "read -P 0xa0 128k 64k");
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    /* a read-only node refuses the WRITE the command asks for */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'ro', "
              "'read-only': true, 'file': {'driver': 'file', 'filename': '$DIR/r.img'}}}");
    out = tm_qemu_io(be, "ro", "discard 0 4k");
    CHECK_STR_EQ(out, "Block node is read-only\r\n");
    free(out);
    bg_model_backend_ops.close(be);
}

static void test_model_io_vectored_and_flush(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'r', "
              "'file': {'driver': 'file', 'filename': '$DIR/r.img'}}}");
    char *out = tm_qemu_io(be, "r", "writev -P 0x22 0 1k 3k");
    CHECK(starts(out, "wrote 4096/4096 bytes at offset 0\n"));
    free(out);
    out = tm_qemu_io(be, "r", "readv -P 0x22 0 2k 2k");
    CHECK(starts(out, "read 4096/4096 bytes at offset 0\n"));
    free(out);
    out = tm_qemu_io(be, "r", "readv -P 0x23 0 2k 2k");
    CHECK(starts(out, "Pattern verification failed at offset 0, 4096 bytes\nread 4096/4096"));
    free(out);
    out = tm_qemu_io(be, "r", "read -q -P 0x22 0 1k");
    CHECK_STR_EQ(out, "");
    free(out);
    out = tm_qemu_io(be, "r", "flush");
    CHECK_STR_EQ(out, "");
    free(out);
    bg_model_backend_ops.close(be);
}

static void test_model_io_copy_on_read(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'file': {'driver': 'file', 'node-name': 'hd1-file', 'filename': '$DIR/hd1.img'}}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'copy-on-read', "
              "'node-name': 'cor', 'file': 'hd1'}}");
    free(tm_qemu_io(be, "cor", "read -P 0xa0 0 64k"));
    tm_ok(be, "{'execute': 'blockdev-del', 'arguments': {'node-name': 'cor'}}");
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
              "'node-name': 'hd1', 'file': 'hd1-file', 'backing': null}]}}");
    /* the cluster read through the filter was copied up; the next was not */
    char *out = tm_qemu_io(be, "hd1", "read -P 0xa0 0 64k");
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    out = tm_qemu_io(be, "hd1", "read -P 0 64k 64k");
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    bg_model_backend_ops.close(be);
}

static void test_model_io_blkdebug_rules(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'blkdebug', 'node-name': 'bd', 'inject-error': [{'event': "
              "'read_aio', 'errno': 28, 'once': true}], 'image': {'driver': 'file', "
              "'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}}");
    char *out = tm_qemu_io(be, "hd0", "read -P 0xa0 0 64k");
    CHECK_STR_EQ(out, "read failed: No space left on device\n");
    free(out);
    out = tm_qemu_io(be, "hd0", "read -P 0xa0 0 64k");      /* once: gone */
    CHECK(starts(out, "read 65536/65536"));
    free(out);
    /* the rule's members are kept options: they cannot be reset */
    char *e = tm_error(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': "
                           "'blkdebug', 'node-name': 'bd', 'image': 'hd0-file'}]}}");
    CHECK(starts(e, "Option 'inject-error.0."));
    free(e);
    /* raw raises read_aio on its file; a rule limited to writes */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'raw', 'node-name': 'r', "
              "'file': {'driver': 'blkdebug', 'node-name': 'bd2', 'inject-error': [{'event': "
              "'read_aio', 'iotype': 'write', 'errno': 1}], 'image': {'driver': 'file', "
              "'node-name': 'rf', 'filename': '$DIR/r.img'}}}}");
    out = tm_qemu_io(be, "r", "write 0 4k");
    CHECK(starts(out, "wrote 4096/4096"));                /* no read_aio yet */
    free(out);
    free(tm_qemu_io(be, "r", "read 0 4k"));
    out = tm_qemu_io(be, "r", "write 0 4k");
    CHECK_STR_EQ(out, "write failed: Operation not permitted\n");
    free(out);
    /* alignment: a write permission needs the size to be a multiple */
    e = tm_error(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', "
                     "'node-name': 'bd3', 'align': 3000, 'image': 'rf'}}");
    CHECK_STR_EQ(e, "Cannot meet constraints with align 3000");
    free(e);
    tm_ok(be, "{'img-create': {'fmt': 'raw', 'file': 'odd.img', 'size': '10k'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', 'node-name': "
              "'bd4', 'align': 4096, 'image': {'driver': 'file', 'filename': '$DIR/odd.img'}}}");
    out = tm_qemu_io(be, "bd4", "write 0 4k");
    CHECK_STR_EQ(out, "Cannot get 'write' permission without 'resize': Image size is not a "
                      "multiple of request alignment\r\n");
    free(out);
    /* events the model cannot place answer "unsupported" */
    BgResult r = tm_run(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', "
                            "'node-name': 'bd5', 'inject-error': [{'event': 'l2_load'}], "
                            "'image': 'rf'}}");
    CHECK(r.kind == BG_RES_UNSUPPORTED);
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

static void test_model_io_raw_qcow2_and_lengths(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'f', "
              "'filename': '$DIR/hd0.img'}}");
    /* data clusters start at 0x50000: their bytes are known */
    char *out = tm_qemu_io(be, "f", "read -P 0xa0 320k 64k");
    CHECK(starts(out, "read 65536/65536 bytes at offset 327680\n"));
    free(out);
    /* the header: rendered (test_model_image_meta.c), a pattern check fails */
    out = tm_qemu_io(be, "f", "read 0 512");
    CHECK(starts(out, "read 512/512"));
    free(out);
    out = tm_qemu_io(be, "f", "read -P 0 0 512");
    CHECK(starts(out, "Pattern verification failed at offset 0, 512 bytes\n"));
    free(out);
    /* a throttle node keeps the length it had at open */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}");
    tm_ok(be, "{'execute': 'object-add', 'arguments': {'qom-type': 'throttle-group', 'id': 'g'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'throttle', 'node-name': 't', "
              "'throttle-group': 'g', 'file': 'hd0'}}");
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'throttle', "
              "'node-name': 't', 'throttle-group': 'g', 'file': 'hd0-file'}]}}");
    BgResult r = tm_run(be, "{'execute': 'query-named-block-nodes'}");
    CHECK_STR_EQ(json_string_value(bg_json_path_get(r.ret, "0/node-name")), "t");
    CHECK_INT_EQ(json_integer_value(bg_json_path_get(r.ret, "0/image/virtual-size")), 3145728);
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

static void test_model_io_file_locking(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'f0', 'filename': '$DIR/hd0.img'}}}");
    /* a second file node is a second open file description: its locks clash */
    char *e = tm_error(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', "
                           "'node-name': 'x', 'file': {'driver': 'file', 'filename': "
                           "'$DIR/hd0.img'}}}");
    CHECK_STR_EQ(e, "Failed to get \"write\" lock");
    free(e);
    e = tm_error(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': "
                     "'x', 'read-only': true, 'file': {'driver': 'file', 'filename': "
                     "'$DIR/hd0.img'}}}");
    CHECK_STR_EQ(e, "Failed to get shared \"write\" lock");
    free(e);
    /* HMP prints the hint too */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'f1', "
              "'filename': '$DIR/hd0.img'}}");
    char *out = tm_qemu_io(be, "f1", "write 0 512");
    CHECK_STR_EQ(out, "Failed to get \"write\" lock\r\nIs another process using the image ["
                      TM_DIR "/hd0.img]?\r\n");
    free(out);
    /* locking=off takes no locks and checks none */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'y', "
              "'file': {'driver': 'file', 'filename': '$DIR/hd0.img', 'locking': 'off'}}}");
    bg_model_backend_ops.close(be);
}

/*
 * Two qcow2 nodes on one image (the second through a file node with locking
 * off).  Each QEMU 7.2 qcow2 node keeps its L2 tables in a writeback cache:
 * after hd1 wrote 0x5a at 0, a node opened on hd1.img reads hd0's 0xa0
 * there, and only a node opened after hd1 is closed reads 0x5a (recorded on
 * QEMU 7.2).  The model keeps one state per image file, so it answers
 * "unsupported" for an open of an image another open qcow2 node has
 * changed, by a write or a stream job's copy (the fuzzer's finding:
 * block-stream on hd2, then fmt2 on hd2.img; QEMU reads zeroes at 64k where
 * the model showed the streamed 0xa4).  No corpus stream can check this on
 * the model: it has no fmt2 to read from.
 */
static void test_model_io_two_qcow2_nodes_one_image(void)
{
    BgBackend *be = tm_open();
    base_images(be);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'hd1-file', "
              "'filename': '$DIR/hd1.img', 'locking': 'off'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'file': {'driver': 'file', 'filename': '$DIR/hd1.img'}}}");
    char *out = tm_qemu_io(be, "hd1", "write -P 0x5a 0 64k");
    CHECK(starts(out, "wrote 65536/65536 bytes at offset 0\n"));
    free(out);
    BgResult r = tm_run(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', "
                            "'node-name': 'fmt0', 'file': 'hd1-file'}}");
    CHECK(r.kind == BG_RES_UNSUPPORTED);
    bg_result_cleanup(&r);
    /* bdrv_close() writes hd1's caches back: a node opened now sees them */
    tm_ok(be, "{'execute': 'blockdev-del', 'arguments': {'node-name': 'hd1'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'fmt1', "
              "'read-only': true, 'file': {'driver': 'file', 'filename': '$DIR/hd1.img', "
              "'locking': 'off'}}}");
    out = tm_qemu_io(be, "fmt1", "read -P 0x5a 0 64k");
    CHECK(starts(out, "read 65536/65536 bytes at offset 0\n"));
    free(out);
    /* a stream job's copy is a change too */
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd2.img', 'backing': 'hd0.img', "
              "'backing-fmt': 'qcow2'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'hd2-file', "
              "'filename': '$DIR/hd2.img', 'locking': 'off'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd2', "
              "'file': {'driver': 'file', 'filename': '$DIR/hd2.img'}}}");
    tm_ok(be, "{'execute': 'block-stream', 'arguments': {'job-id': 'stream0', 'device': 'hd2'}}");
    tm_ok(be, "{'run-job': {'id': 'stream0', 'auto-finalize': true, 'auto-dismiss': true}}");
    r = tm_run(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', "
                   "'node-name': 'fmt2', 'file': 'hd2-file'}}");
    CHECK(r.kind == BG_RES_UNSUPPORTED);
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

/* HMP qemu-io NODE "CMD" answered "unsupported"? */
static bool io_unsupported(BgBackend *be, const char *node, const char *cmd)
{
    char *line = bg_asprintf("{'execute': 'human-monitor-command', 'arguments': "
                             "{'command-line': 'qemu-io %s \\\"%s\\\"'}}", node, cmd);
    BgResult r = tm_run(be, line);
    bool unsupported = r.kind == BG_RES_UNSUPPORTED;
    bg_result_cleanup(&r);
    free(line);
    return unsupported;
}

/* A null node without read-zeroes leaves qemu-io's buffer as it is, but a
 * copy-on-read copies through a bounce buffer of the block layer's own
 * (bdrv_co_do_copy_on_readv(), qemu_try_blockalign()), which it never
 * fills: QEMU 7.2 returns uninitialized bytes (findings-c
 * mismatch-68fc7f43b19556b5: QEMU's pattern check failed, the engine's
 * zeroed buffer passed it), so the model answers "unsupported". */
static void test_model_io_null_bounce_buffer(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'size': '1M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'null-aio', "
              "'node-name': 'null0', 'size': 1048576}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'null-co', "
              "'node-name': 'nullz', 'size': 1048576, 'read-zeroes': true}}");
    char *out = tm_qemu_io(be, "null0", "read -P 0xab 0 512");
    CHECK(starts(out, "read 512/512 bytes at offset 0\n"));
    free(out);
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'copy-on-read', "
              "'node-name': 'cor0', 'file': 'null0'}}");
    CHECK(io_unsupported(be, "cor0", "read -P 0 0 512"));
    tm_ok(be, "{'execute': 'object-add', 'arguments': {'qom-type': 'throttle-group', "
              "'id': 'group0'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'throttle', "
              "'node-name': 'throttle0', 'throttle-group': 'group0', 'file': 'cor0'}}");
    CHECK(io_unsupported(be, "throttle0", "read 0 512"));
    /* with read-zeroes the null node is allocated: nothing is copied */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'copy-on-read', "
              "'node-name': 'cor1', 'file': 'nullz'}}");
    out = tm_qemu_io(be, "cor1", "read -P 0 0 512");
    CHECK(starts(out, "read 512/512 bytes at offset 0\n"));
    free(out);
    /* a qcow2 image's unallocated clusters copied up from a null backing */
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'file': {'driver': 'file', 'filename': '$DIR/hd1.img'}, 'backing': 'null0'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'copy-on-read', "
              "'node-name': 'cor2', 'file': 'hd1'}}");
    CHECK(io_unsupported(be, "cor2", "read 0 64k"));
    bg_model_backend_ops.close(be);
}

/* An HMP step the model answers "unsupported" prints nothing into the
 * model's VM log, so the log at shutdown lacks what QEMU printed there:
 * the shutdown is unsupported too (its io-ops count would be wrong), until
 * the next VM. */
static void test_model_io_log_incomplete_shutdown(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'launch': {'machine': 'none'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'null-co', "
              "'node-name': 'null0', 'read-zeroes': true}}");
    free(tm_qemu_io(be, "null0", "read -P 0 0 512"));
    CHECK(io_unsupported(be, "null0", "map"));
    BgResult r = tm_run(be, "{'shutdown': {}}");
    CHECK(r.kind == BG_RES_UNSUPPORTED);
    bg_result_cleanup(&r);
    tm_ok(be, "{'launch': {'machine': 'none'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'null-co', "
              "'node-name': 'null0', 'read-zeroes': true}}");
    free(tm_qemu_io(be, "null0", "read -P 0 0 512"));
    r = tm_run(be, "{'shutdown': {}}");
    CHECK(r.kind == BG_RES_RETURN && r.log && starts(r.log, "read 512/512 bytes at offset 0\n"));
    bg_result_cleanup(&r);
    bg_model_backend_ops.close(be);
}

/* A reopen that gives a qcow2 node the file of another image: QEMU 7.2
 * keeps the L1 table of the image the node opened and maps its requests
 * through it onto the new file (qcow2_reopen_prepare() reads no metadata;
 * findings-c mismatch-54644051053ee1a3: an empty 16M image's node on a 3M
 * image's file read zeroes where that image held data).  The model keeps
 * each image's clusters with its file and answers "unsupported" for
 * requests through such a node until it is back on its own image. */
static void test_model_io_qcow2_on_other_image(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '16M'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'size': '3M'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'hd1.img', 'cmd': 'write -P 0xa0 512k 128k'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd1', "
              "'file': {'driver': 'file', 'node-name': 'hd1-file', 'filename': '$DIR/hd1.img'}}}");
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': ["
              "{'driver': 'qcow2', 'node-name': 'hd1', 'file': 'hd0-file'}, "
              "{'driver': 'qcow2', 'node-name': 'hd0', 'file': 'hd1-file'}]}}");
    CHECK(io_unsupported(be, "hd0", "read 512k 64k"));
    CHECK(io_unsupported(be, "hd1", "read 0 64k"));
    CHECK(io_unsupported(be, "hd0", "write -P 0x11 0 64k"));
    CHECK(io_unsupported(be, "hd1", "write -z 0 64k"));
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': ["
              "{'driver': 'qcow2', 'node-name': 'hd1', 'file': 'hd1-file'}, "
              "{'driver': 'qcow2', 'node-name': 'hd0', 'file': 'hd0-file'}]}}");
    char *out = tm_qemu_io(be, "hd1", "read -P 0xa0 512k 128k");
    CHECK(starts(out, "read 131072/131072 bytes at offset 524288\n"));
    free(out);
    out = tm_qemu_io(be, "hd0", "read -P 0 0 1M");
    CHECK(starts(out, "read 1048576/1048576 bytes at offset 0\n"));
    free(out);
    bg_model_backend_ops.close(be);
}

BG_SUITE(model_io) = {
    { "discard", test_model_io_discard },
    { "vectored_and_flush", test_model_io_vectored_and_flush },
    { "copy_on_read", test_model_io_copy_on_read },
    { "blkdebug_rules", test_model_io_blkdebug_rules },
    { "raw_qcow2_and_lengths", test_model_io_raw_qcow2_and_lengths },
    { "file_locking", test_model_io_file_locking },
    { "two_qcow2_nodes_one_image", test_model_io_two_qcow2_nodes_one_image },
    { "null_bounce_buffer", test_model_io_null_bounce_buffer },
    { "log_incomplete_shutdown", test_model_io_log_incomplete_shutdown },
    { "qcow2_on_other_image", test_model_io_qcow2_on_other_image },
    { NULL, NULL },
};
