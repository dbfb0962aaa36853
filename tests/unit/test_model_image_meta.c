/*
 * test_model_image_meta.c: the on-disk bytes of a qcow2 file as the model
 * renders them for a raw view (model_image_meta.c), and when it knows them
 * (model_io_qcow2_meta_on_disk()): a fresh image's header, refcount table,
 * refcount block and L1 table equal to what qemu-img 7.2 writes, with and
 * without a backing file; the L2 table and refcount block unknown while a
 * qcow2 node holds their change in its caches, known after a flush or a
 * reopen.
 */
#include "test_model_util.h"

/* A byte string at an offset of a file; the rest of the file is zeroes. */
typedef struct Frag {
    uint32_t off;
    const char *hex;
} Frag;

/*
 * Measured on QEMU 7.2: `qemu-img create -f qcow2 x.qcow2 3M`, then
 * `qemu-img create -f qcow2 -b x.qcow2 -F qcow2 y.qcow2`; every run of
 * non-zero bytes of each file (196616 bytes: header, refcount table,
 * refcount block, 8 bytes of L1 table), as `od -A x -t x1` shows them.
 */
static const Frag fresh_3m[] = {
    { 0x0, "514649fb00000003000000000000000000000000000000100000000000300000"
           "00000000000000010000000000030000000000000001000000000001" },
    { 0x63, "040000007000000000000000006803f857000001800000646972747920626974" },
    { 0xa9, "01636f727275707420626974" },
    { 0xd9, "0265787465726e616c20646174612066696c65" },
    { 0x109, "03636f6d7072657373696f6e2074797065" },
    { 0x139, "04657874656e646564204c3220656e7472696573" },
    { 0x168, "01006c617a7920726566636f756e7473" },
    { 0x198, "02006269746d617073" },
    { 0x1c8, "02017261772065787465726e616c2064617461" },
    { 0x10005, "02" },
    { 0x20001, "01000100010001" },
    { 0, NULL },
};

static const Frag fresh_backed[] = {
    { 0x0, "514649fb00000003000000000000021000000007000000100000000000300000"
           "00000000000000010000000000030000000000000001000000000001" },
    { 0x63, "04000000700000000000000000e2792aca0000000571636f77320000006803f8"
            "57000001800000646972747920626974" },
    { 0xb9, "01636f727275707420626974" },
    { 0xe9, "0265787465726e616c20646174612066696c65" },
    { 0x119, "03636f6d7072657373696f6e2074797065" },
    { 0x149, "04657874656e646564204c3220656e7472696573" },
    { 0x178, "01006c617a7920726566636f756e7473" },
    { 0x1a8, "02006269746d617073" },
    { 0x1d8, "02017261772065787465726e616c2064617461" },
    { 0x210, "782e71636f7732" },
    { 0x10005, "02" },
    { 0x20001, "01000100010001" },
    { 0, NULL },
};

#define FRESH_LEN 196616u

static uint8_t *expected_bytes(const Frag *f, size_t len)
{
    uint8_t *b = bg_calloc(len, 1);
    for (; f->hex; f++)
        for (size_t i = 0; f->hex[2 * i]; i++) {
            unsigned v;
            sscanf(f->hex + 2 * i, "%2x", &v);
            b[f->off + i] = (uint8_t)v;
        }
    return b;
}

/* The whole of file node NODE as the model reads it, or NULL if it does not
 * know every byte. */
static uint8_t *read_all(BgBackend *be, const char *node, size_t len)
{
    uint8_t *b = bg_malloc(len);
    BgError err = {0};
    if (!bg_model_backend_ops.read_node(be, node, 0, len, b, &err)) {
        free(b);
        return NULL;
    }
    return b;
}

static bool known(BgBackend *be, const char *node, uint64_t off, uint64_t len, uint8_t *buf)
{
    BgError err = {0};
    return bg_model_backend_ops.read_node(be, node, off, len, buf, &err);
}

static void test_model_image_meta_fresh_image(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'x.qcow2', 'size': '3M'}}");
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'y.qcow2', 'backing': 'x.qcow2', "
              "'backing-fmt': 'qcow2'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'x', "
              "'filename': '$DIR/x.qcow2'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'y', "
              "'filename': '$DIR/y.qcow2'}}");
    const Frag *want[2] = { fresh_3m, fresh_backed };
    const char *node[2] = { "x", "y" };
    for (int i = 0; i < 2; i++) {
        uint8_t *e = expected_bytes(want[i], FRESH_LEN), *m = read_all(be, node[i], FRESH_LEN);
        CHECK(m != NULL);
        for (size_t k = 0; m && k < FRESH_LEN; k++) {
            if (m[k] != e[k]) {
                fprintf(stderr, "  %s: byte 0x%zx is 0x%02x, qemu-img wrote 0x%02x\n", node[i], k,
                        m[k], e[k]);
                CHECK(m[k] == e[k]);
                break;
            }
        }
        free(e);
        free(m);
    }
    /* a freed cluster keeps its old bytes: unknown */
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'z.qcow2', 'size': '1M'}}");
    tm_ok(be, "{'io': {'fmt': 'qcow2', 'file': 'z.qcow2', 'cmd': ['write -P 1 0 128k', "
              "'write -z -u 0 64k']}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'z', "
              "'filename': '$DIR/z.qcow2'}}");
    uint8_t b[512];
    CHECK(!known(be, "z", 0x50000, 512, b));
    CHECK(known(be, "z", 0x60000, 512, b) && b[0] == 1);
    CHECK(known(be, "z", 0x20000, 16, b) && b[11] == 0 && b[13] == 1);   /* refcounts 0, 1 */
    /* qemu-io's pattern check of the header fails, as on QEMU */
    char *out = tm_qemu_io(be, "x", "read -P 0 0 512");
    CHECK(strncmp(out, "Pattern verification failed at offset 0, 512 bytes\n", 51) == 0);
    free(out);
    out = tm_qemu_io(be, "x", "read -P 0 0x1f8 0xfe08");
    CHECK(strncmp(out, "read 65032/65032 bytes at offset 504\n", 37) == 0);
    free(out);
    /* a backing name naming the scratch directory is unknown, and so is a
     * pattern check of it alone; one that meets the magic fails anyway */
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'w.qcow2', 'backing': '$DIR/x.qcow2', "
              "'backing-fmt': 'qcow2'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', 'node-name': 'w', "
              "'filename': '$DIR/w.qcow2'}}");
    CHECK(!known(be, "w", 0, 512, b));
    BgResult r = tm_run(be, "{'execute': 'human-monitor-command', 'arguments': {'command-line': "
                            "'qemu-io w \\\"read -P 0 0x210 16\\\"'}}");
    CHECK(r.kind == BG_RES_UNSUPPORTED);
    bg_result_cleanup(&r);
    out = tm_qemu_io(be, "w", "read -P 0 0 64k");
    CHECK(strncmp(out, "Pattern verification failed at offset 0, 65536 bytes\n", 53) == 0);
    free(out);
    bg_model_backend_ops.close(be);
}

/*
 * QEMU 7.2 (corpus/regress/169): after a write through a qcow2 node, the L2
 * entry and the data cluster's refcount are in its caches only (a raw read
 * sees the old zeroes); l2_allocate() wrote the L1 entry at once.  A flush
 * or a reopen writes the caches.
 */
static void test_model_image_meta_caches(void)
{
    BgBackend *be = tm_open();
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'a.img', 'size': '1M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'f', 'filename': '$DIR/a.img'}}}");
    uint8_t b[8];
    CHECK(known(be, "f", 0x30000, 8, b));
    char *out = tm_qemu_io(be, "hd0", "write -P 1 0 64k");
    free(out);
    CHECK(known(be, "f", 0x30000, 8, b) && b[0] == 0x80 && b[5] == 0x04);  /* L1: L2 at 0x40000 */
    CHECK(known(be, "f", 0x50000, 8, b) && b[0] == 1);                    /* the data */
    CHECK(!known(be, "f", 0x40000, 8, b));                                /* the L2 entry */
    CHECK(!known(be, "f", 0x20000, 8, b));                                /* the refcounts */
    out = tm_qemu_io(be, "hd0", "flush");
    free(out);
    CHECK(known(be, "f", 0x40000, 8, b) && b[0] == 0x80 && b[5] == 0x05 && b[7] == 0);
    CHECK(known(be, "f", 0x2000a, 2, b) && b[0] == 0 && b[1] == 1);
    out = tm_qemu_io(be, "hd0", "write -z 0 64k");
    free(out);
    CHECK(!known(be, "f", 0x40000, 8, b));
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
              "'node-name': 'hd0', 'file': 'f', 'read-only': true}]}}");
    CHECK(known(be, "f", 0x40000, 8, b) && b[0] == 0x80 && b[5] == 0x05 && b[7] == 1);
    /* a rewrite of an allocated cluster changes no metadata */
    tm_ok(be, "{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
              "'node-name': 'hd0', 'file': 'f', 'read-only': false}]}}");
    out = tm_qemu_io(be, "hd0", "write -P 2 0 64k");
    free(out);
    CHECK(!known(be, "f", 0x40000, 8, b));       /* ZERO with a host cluster becomes DATA */
    out = tm_qemu_io(be, "hd0", "flush");
    free(out);
    out = tm_qemu_io(be, "hd0", "write -P 3 0 64k");
    free(out);
    CHECK(known(be, "f", 0x40000, 8, b) && b[7] == 0);
    bg_model_backend_ops.close(be);
}

BG_SUITE(model_image_meta) = {
    { "fresh_image", test_model_image_meta_fresh_image },
    { "caches", test_model_image_meta_caches },
    { NULL, NULL },
};
