/*
 * test_real_qcow2.c: the engine's qcow2 driver and qemu-img create against
 * QEMU 7.2's tools: images created and written by the engine must be byte
 * for byte what qemu-img/qemu-io make from the same commands (cmp), pass
 * `qemu-img check`, compare equal (`qemu-img compare`), and reproduce the
 * seed's compress-test layout exactly.
 */
#include <jansson.h>

#include "test_real_util.h"
#include "../../real/bdrv.h"

/* Run the same qemu-io commands on twin images E/FILE (engine) and Q/FILE (QEMU). */
static void twin_io(const char *e, const char *q, const char *fmt, const char *file,
                    const char *const *cmds, int n)
{
    char *eo, *ee, *qo, *qe;
    int erc = tr_engine_io(e, fmt, file, &eo, &ee, cmds, n);
    int qrc = tr_qemu_io(q, fmt, file, &qo, &qe, cmds, n);
    CHECK_INT_EQ(erc, qrc);
    CHECK_SAME_OUTPUT(eo, qo);
    CHECK_STR_EQ(ee, qe);
    if (!tr_same_bytes(e, file, q, file)) {
        fprintf(stderr, "  images differ after: %s ...\n", cmds[0]);
        bg_test_failures++;
    }
    free(eo);
    free(ee);
    free(qo);
    free(qe);
}

static void twin_create(const char *e, const char *q, const char *file, const char *size,
                        const char *backing, const char *bfmt)
{
    char *eo, *ee, *qo, *qe;
    int erc = tr_engine_create(e, "qcow2", file, size, backing, bfmt, &eo, &ee);
    int qrc = backing ? (size ? tr_run(q, &qo, &qe, "qemu-img", "create", "-f", "qcow2", "-b",
                                       backing, "-F", bfmt, file, size, (char *)NULL)
                              : tr_run(q, &qo, &qe, "qemu-img", "create", "-f", "qcow2", "-b",
                                       backing, "-F", bfmt, file, (char *)NULL))
                      : tr_run(q, &qo, &qe, "qemu-img", "create", "-f", "qcow2", file, size,
                               (char *)NULL);
    CHECK_INT_EQ(erc, qrc);
    CHECK_STR_EQ(eo, qo);
    CHECK_STR_EQ(ee, qe);
    CHECK(tr_same_bytes(e, file, q, file));
    free(eo);
    free(ee);
    free(qo);
    free(qe);
}

static void check_clean(const char *dir, const char *file)
{
    char *out, *err;
    int rc = tr_run(dir, &out, &err, "qemu-img", "check", "-f", "qcow2", file, (char *)NULL);
    CHECK_INT_EQ(rc, 0);
    CHECK(strstr(out, "No errors were found on the image.") != NULL);
    free(out);
    free(err);
}

static void test_real_qcow2_create_matches_qemu_img(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    char *out;
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "hd0.img", "3M", NULL, NULL, &out, NULL), 0);
    CHECK_STR_EQ(out, "Formatting 'hd0.img', fmt=qcow2 cluster_size=65536 extended_l2=off "
                      "compression_type=zlib size=3145728 lazy_refcounts=off refcount_bits=16\n");
    free(out);
    tr_run(q, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "hd0.img", "3M", (char *)NULL);
    CHECK(tr_same_bytes(e, "hd0.img", q, "hd0.img"));
    /* 0x30008 bytes: header, refcount table, refcount block, 8 bytes of L1. */
    size_t len = 0;
    free(tr_slurp(e, "hd0.img", &len));
    CHECK_INT_EQ(len, 0x30008);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x10000), 0x20000);
    twin_create(e, q, "odd.img", "1000", NULL, NULL);
    twin_create(e, q, "zero.img", "0", NULL, NULL);
    twin_create(e, q, "big.img", "1G", NULL, NULL);
    twin_create(e, q, "frac.img", "1.5k", NULL, NULL);
    check_clean(e, "big.img");
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qcow2_create_backing_matches(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    twin_create(e, q, "hd1.img", NULL, "hd0.img", "qcow2");
    char *out;
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "hd2.img", NULL, "hd0.img", "qcow2", &out, NULL), 0);
    CHECK_STR_EQ(out, "Formatting 'hd2.img', fmt=qcow2 cluster_size=65536 extended_l2=off "
                      "compression_type=zlib size=3145728 backing_file=hd0.img backing_fmt=qcow2 "
                      "lazy_refcounts=off refcount_bits=16\n");
    free(out);
    /* backing_file_offset 0x210: after the backing-format and feature extensions. */
    CHECK_INT_EQ(tr_be64_at(e, "hd1.img", 8), 0x210);
    CHECK_INT_EQ(tr_be64_at(e, "hd1.img", 0x70) >> 32, 0xe2792aca);
    twin_create(e, q, "hd3.img", "5M", "hd0.img", "raw");
    tr_rmdir(e);
    tr_rmdir(q);
}

static void check_create_error(const char *e, const char *q, const char *fmt, const char *file,
                               const char *size, const char *backing, const char *bfmt)
{
    char *eo, *ee, *qo, *qe;
    char *argv[16];
    int k = 0;
    argv[k++] = "qemu-img";
    argv[k++] = "create";
    argv[k++] = "-f";
    argv[k++] = (char *)fmt;
    if (backing) {
        argv[k++] = "-b";
        argv[k++] = (char *)backing;
    }
    if (bfmt) {
        argv[k++] = "-F";
        argv[k++] = (char *)bfmt;
    }
    argv[k++] = (char *)file;
    if (size)
        argv[k++] = (char *)size;
    argv[k] = NULL;
    int erc = tr_engine_create(e, fmt, file, size, backing, bfmt, &eo, &ee);
    int qrc = tr_runv(q, &qo, &qe, argv);
    CHECK_INT_EQ(erc, qrc);
    CHECK_STR_EQ(eo, qo);
    CHECK_STR_EQ(ee, qe);
    free(eo);
    free(ee);
    free(qo);
    free(qe);
}

static void test_real_qcow2_create_errors(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    check_create_error(e, q, "qcow2", "a.img", NULL, NULL, NULL);
    check_create_error(e, q, "qcow2", "b.img", NULL, "hd0.img", NULL);
    check_create_error(e, q, "qcow2", "c.img", NULL, "nonexist.img", "qcow2");
    check_create_error(e, q, "qcow2", "d.img", "1M", "nonexist.img", "qcow2");
    check_create_error(e, q, "raw", "e.img", NULL, "hd0.img", "qcow2");
    check_create_error(e, q, "qcow2", "f.img", "3Q", NULL, NULL);
    check_create_error(e, q, "qcow2", "g.img", "99999999999999999999", NULL, NULL);
    check_create_error(e, q, "qcow2", "h.img", NULL, "h.img", "qcow2");
    check_create_error(e, q, "qcow2", "i.img", "1M", "", "qcow2");
    check_create_error(e, q, "qcow2", "j.img", NULL, "hd0.img", "raw");
    tr_rmdir(e);
    tr_rmdir(q);
}

/* bdrv_img_create() opens the backing's whole chain with force-share, so a
 * chain that comes back to a file takes no lock that stops it: QEMU 7.2 opens
 * it until it runs out of file descriptors.  The engine answers -1
 * (unsupported), printing nothing. */
static void test_real_qcow2_create_backing_loop(void)
{
    char *e = tr_mkdtemp();
    char *out, *err;
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "b.img", "1M", NULL, NULL, NULL, NULL), 0);
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "a.img", NULL, "b.img", "qcow2", NULL, NULL), 0);
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "b.img", NULL, "a.img", "qcow2", NULL, NULL), 0);
    CHECK_INT_EQ(tr_engine_create(e, "qcow2", "c.img", "1M", "a.img", "qcow2", &out, &err), -1);
    CHECK_STR_EQ(out, "");
    CHECK_STR_EQ(err, "");
    free(out);
    free(err);
    tr_rmdir(e);
}

/* The seed's test_insert_compress_filter, offline: qemu-semantics.md section 5. */
static void test_real_qcow2_compress_seed_layout(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    const char *setup[] = { "write -P 0xa0 0 1M" };
    twin_io(e, q, "qcow2", "hd0.img", setup, 1);
    /* After setUp: L1[0] -> 0x40000, data from 0x50000, 0x150000 bytes. */
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x30000), 0x8000000000040000ull);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40000), 0x8000000000050000ull);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40078), 0x8000000000140000ull);
    const char *cmds[] = { "write -z -u 0 128k", "write -P 0xa0 0 64k",
                           "write -c -P 0xa1 64k 64k", "write -P 0xa2 128k 64k" };
    twin_io(e, q, "qcow2", "hd0.img", cmds, 4);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40000), 0x8000000000050000ull);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40008), 0x4000000000060000ull);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40010), 0x8000000000070000ull);

    char *out, *err;
    CHECK_INT_EQ(tr_run(e, &out, &err, "qemu-img", "check", "-f", "qcow2", "hd0.img",
                        (char *)NULL), 0);
    CHECK_STR_EQ(out, "No errors were found on the image.\n"
                      "16/48 = 33.33% allocated, 12.50% fragmented, 6.25% compressed clusters\n"
                      "Image end offset: 1376256\n");
    free(out);
    free(err);
    /* The seed's raw reads of the L2 flag bytes. */
    CHECK_INT_EQ(tr_run(e, &out, &err, "qemu-io", "-f", "raw", "-c", "read -P 0x80 0x40000 1",
                        "-c", "read -P 0x40 0x40008 1", "-c", "read -P 0x80 0x40010 1",
                        "hd0.img", (char *)NULL), 0);
    CHECK(!strstr(out, "Pattern verification failed"));
    CHECK(strstr(out, "read 1/1 bytes at offset 262160") != NULL);
    free(out);
    free(err);
    CHECK_INT_EQ(tr_run(e, &out, &err, "qemu-img", "map", "--output=json", "-f", "qcow2",
                        "hd0.img", (char *)NULL), 0);
    CHECK_STR_EQ(out, "[{ \"start\": 0, \"length\": 65536, \"depth\": 0, \"present\": true, "
                      "\"zero\": false, \"data\": true, \"offset\": 327680},\n"
                      "{ \"start\": 65536, \"length\": 65536, \"depth\": 0, \"present\": true, "
                      "\"zero\": false, \"data\": true},\n"
                      "{ \"start\": 131072, \"length\": 917504, \"depth\": 0, \"present\": true, "
                      "\"zero\": false, \"data\": true, \"offset\": 458752},\n"
                      "{ \"start\": 1048576, \"length\": 2097152, \"depth\": 0, \"present\": false, "
                      "\"zero\": true, \"data\": false}]\n");
    free(out);
    free(err);
    char ep[4096], qp[4096];
    snprintf(ep, sizeof(ep), "%s/hd0.img", e);
    snprintf(qp, sizeof(qp), "%s/hd0.img", q);
    CHECK_INT_EQ(tr_run(NULL, &out, &err, "qemu-img", "compare", ep, qp, (char *)NULL), 0);
    CHECK_STR_EQ(out, "Images are identical.\n");
    free(out);
    free(err);
    /* Reading back through the engine. */
    const char *reads[] = { "read -P 0xa0 0 64k", "read -P 0xa1 64k 64k",
                            "read -P 0xa2 128k 64k", "read -P 0xa0 192k 832k",
                            "read -P 0 1M 2M" };
    twin_io(e, q, "qcow2", "hd0.img", reads, 5);
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qcow2_compressed_write_needs_unallocated(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    const char *cmds[] = { "write -P 0xa0 0 1M", "write -c -P 0xa1 64k 64k",
                           "write -z 128k 64k", "write -c 128k 64k", "write -c 512 512",
                           "write -c 2M 64k", "write -c 2M 64k" };
    char *out;
    CHECK_INT_EQ(tr_engine_io(e, "qcow2", "hd0.img", &out, NULL, cmds, 2), 1);
    CHECK(strstr(out, "write failed: Input/output error\n") != NULL);
    free(out);
    tr_run(q, NULL, NULL, "qemu-io", "-f", "qcow2", "-c", cmds[0], "-c", cmds[1], "hd0.img",
           (char *)NULL);
    twin_io(e, q, "qcow2", "hd0.img", cmds + 2, 5);
    check_clean(e, "hd0.img");
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qcow2_zero_discard_twins(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    const char *cmds[] = {
        "write -P 0xa0 0 1M", "write -z 0 64k", "write -z -u 64k 64k", "write -z 100 100",
        "write -z -u 70000 100", "write -z -u 1M 64k", "write -z 2M 128k", "discard 256k 128k",
        "discard 1000 3000", "write -P 0x11 2050k 1k", "read -P 0 0 64k", "map",
        "alloc 0 3M", "info", "write -z -u 2M 1M", "write -P 5 3M-4k 4k",
    };
    twin_io(e, q, "qcow2", "hd0.img", cmds, 15);
    /* zero flag kept with the cluster (no -u), cleared offset with -u */
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40000), 0x8000000000050001ull);
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 0x40008), 0x1);
    check_clean(e, "hd0.img");
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qcow2_backing_twins(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    char sub[4096];
    const char *d[2] = { e, q };
    for (int i = 0; i < 2; i++) {
        snprintf(sub, sizeof(sub), "%s/sub", d[i]);
        mkdir(sub, 0755);
        tr_run(d[i], NULL, NULL, "qemu-img", "create", "-f", "qcow2", "sub/b.img", "3M",
               (char *)NULL);
        tr_run(d[i], NULL, NULL, "qemu-io", "-f", "qcow2", "-c", "write -P 0xa0 0 1M", "-c",
               "write -P 0xa5 1500k 100k", "sub/b.img", (char *)NULL);
    }
    twin_create(e, q, "sub/o.img", NULL, "b.img", "qcow2");
    const char *cmds[] = {
        "read -P 0xa0 0 1M", "read -P 0 1M 64k", "write -P 0xa1 1M 1M", "write -P 0xa3 4k 4k",
        "write -P 0xa4 1400k 200k", "read -P 0xa5 1500k 50k", "write -z 1600k 64k",
        "write -z 1600k 4k", "write -z -u 512k 128k", "write -z -u 700k 10k",
        "discard 768k 128k", "write -c 2M 64k", "write -c 0 64k", "map", "alloc 0 3M",
    };
    twin_io(e, q, "qcow2", "sub/o.img", cmds, 15);
    check_clean(e, "sub/o.img");
    tr_rmdir(e);
    tr_rmdir(q);
}

/* A tiny PRNG-driven differential run: batches of random commands on twins. */
static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_cmd(char *buf, size_t n, int64_t size, int cs)
{
    int64_t off = (int64_t)(rng() % (uint64_t)size), len;
    if (rng() % 2)
        off = off / cs * cs;
    static const int lens[] = { 1, 512, 4096 };
    int pick = (int)(rng() % 6);
    len = pick < 3 ? lens[pick] : pick == 3 ? cs : pick == 4 ? 2 * cs + 100
                                                 : (int64_t)(rng() % (uint64_t)(4 * cs)) + 1;
    if (len > size - off)
        len = size - off;
    switch (rng() % 8) {
    case 0: case 1: case 2:
        snprintf(buf, n, "write -P 0x%02x %lld %lld", (int)(rng() % 256), (long long)off,
                 (long long)len);
        break;
    case 3:
        snprintf(buf, n, "write -z -u %lld %lld", (long long)off, (long long)len);
        break;
    case 4:
        snprintf(buf, n, "write -z %lld %lld", (long long)off, (long long)len);
        break;
    case 5:
        snprintf(buf, n, "discard %lld %lld", (long long)off, (long long)len);
        break;
    case 6: {
        int64_t c = (int64_t)(rng() % (uint64_t)(size / cs));
        snprintf(buf, n, "write -c %lld %lld", (long long)(c * cs),
                 (long long)(size - c * cs < cs ? size - c * cs : cs));
        break;
    }
    default:
        snprintf(buf, n, "read %lld %lld", (long long)off, (long long)len);
    }
}

static void test_real_qcow2_random_twins(void)
{
    static const struct { const char *opts; int cs; const char *size; int64_t bytes; } cfg[] = {
        { "cluster_size=65536", 65536, "3M", 3 << 20 },
        { "cluster_size=4096,refcount_bits=8", 4096, "1M", 1 << 20 },
        { "cluster_size=512,refcount_bits=64", 512, "3M", 3 << 20 },
        { "cluster_size=65536,refcount_bits=1", 65536, "5243392", 5243392 },
        { "compat=0.10", 65536, "3M", 3 << 20 },
    };
    for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
        char *e = tr_mkdtemp(), *q = tr_mkdtemp();
        for (int i = 0; i < 2; i++)
            tr_run(i ? q : e, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "-o",
                   cfg[c].opts, "t.img", cfg[c].size, (char *)NULL);
        rng_state = 0x1234567ull + c;
        for (int batch = 0; batch < 6; batch++) {
            char cmdbuf[4][128];
            const char *cmds[4];
            int n = 1 + (int)(rng() % 4);
            for (int i = 0; i < n; i++) {
                random_cmd(cmdbuf[i], sizeof(cmdbuf[i]), cfg[c].bytes, cfg[c].cs);
                cmds[i] = cmdbuf[i];
            }
            twin_io(e, q, "qcow2", "t.img", cmds, n);
        }
        check_clean(e, "t.img");
        tr_rmdir(e);
        tr_rmdir(q);
    }
}

static RealImage *open_with(const char *dir, const char *file, const char *json, BgError *err)
{
    json_t *o = json_loads(json, 0, NULL);
    ImgOpenOptions io = { .options = o };
    RealImage *img = img_open(dir, file, "qcow2", &io, err);
    json_decref(o);
    return img;
}

static void test_real_qcow2_cache_options(void)
{
    char *e = tr_mkdtemp();
    tr_engine_create(e, "qcow2", "hd0.img", "3M", NULL, NULL, NULL, NULL);
    static const struct { const char *json, *error; } bad[] = {
        { "{\"l2-cache-entry-size\": 131072}",
          "L2 cache entry size must be a power of two between 512 and the cluster size (65536)" },
        { "{\"l2-cache-entry-size\": 3000}",
          "L2 cache entry size must be a power of two between 512 and the cluster size (65536)" },
        { "{\"l2-cache-size\": 1048576, \"cache-size\": 524288}",
          "l2-cache-size may not exceed cache-size" },
        { "{\"refcount-cache-size\": 1048576, \"cache-size\": 524288}",
          "refcount-cache-size may not exceed cache-size" },
        { "{\"l2-cache-size\": 1, \"refcount-cache-size\": 1, \"cache-size\": 2}",
          "cache-size, l2-cache-size and refcount-cache-size may not be set at the same time" },
        { "{\"overlap-check\": \"sometimes\"}",
          "Unsupported value 'sometimes' for qcow2 option 'overlap-check'. Allowed are any of "
          "the following: none, constant, cached, all" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        BgError err = { 0 };
        RealImage *img = open_with(e, "hd0.img", bad[i].json, &err);
        CHECK(img == NULL);
        CHECK_STR_EQ(err.text, bad[i].error);
        img_close(img);
        /* The same text from QEMU 7.2 (qemu-io on a json: filename). */
        char spec[512], *out, *qerr;
        snprintf(spec, sizeof(spec), "json:{\"driver\": \"qcow2\", \"file\": {\"driver\": "
                 "\"file\", \"filename\": \"hd0.img\"}, %s", bad[i].json + 1);
        tr_run(e, &out, &qerr, "qemu-io", "-c", "quit", spec, (char *)NULL);
        const char *colon = strstr(qerr, "}: ");
        CHECK(colon != NULL);
        if (colon) {
            char want[1024];
            snprintf(want, sizeof(want), "%s\n", bad[i].error);
            CHECK_STR_EQ(colon + 3, want);
        }
        free(out);
        free(qerr);
    }
    /* The seed's accepted sizes, then a reopen to other sizes and back. */
    BgError err = { 0 };
    RealImage *img = open_with(e, "hd0.img", "{\"l2-cache-size\": 4194304, "
                               "\"refcount-cache-size\": 4194304, \"l2-cache-entry-size\": 32768}",
                               &err);
    CHECK(img != NULL);
    if (img) {
        RealBlockState *bs = img_bs(img);
        uint8_t buf[4096];
        memset(buf, 0x5a, sizeof(buf));
        CHECK_INT_EQ(bdrv_pwrite(bs, 70000, sizeof(buf), buf, 0), 0);
        json_t *o = json_loads("{\"l2-cache-entry-size\": 131072}", 0, NULL);
        RealReopenState rs = { .bs = bs, .options = o, .flags = bs->open_flags };
        BgError rerr = { 0 };
        CHECK(bs->drv->reopen_prepare(&rs, &rerr) < 0);
        CHECK_STR_EQ(rerr.text, bad[0].error);
        json_decref(o);
        o = json_loads("{\"l2-cache-size\": 65536, \"l2-cache-entry-size\": 4096}", 0, NULL);
        rs = (RealReopenState){ .bs = bs, .options = o, .flags = bs->open_flags };
        CHECK_INT_EQ(bs->drv->reopen_prepare(&rs, &rerr), 0);
        bs->drv->reopen_abort(&rs);
        CHECK_INT_EQ(bs->drv->reopen_prepare(&rs, &rerr), 0);
        bs->drv->reopen_commit(&rs);
        json_decref(o);
        memset(buf, 0x5b, sizeof(buf));
        CHECK_INT_EQ(bdrv_pwrite(bs, 2 << 20, sizeof(buf), buf, 0), 0);
        CHECK_INT_EQ(bdrv_pread(bs, 70000, sizeof(buf), buf, 0), 0);
        CHECK_INT_EQ(buf[0], 0x5a);
        CHECK_INT_EQ(buf[4095], 0x5a);
        img_close(img);
    }
    check_clean(e, "hd0.img");
    tr_rmdir(e);
}

static void test_real_qcow2_info_and_query(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    const char *cmds[] = { "info", "length", "map", "write -P 1 0 4k", "map", "alloc 0 3M" };
    twin_io(e, q, "qcow2", "hd0.img", cmds, 6);
    BgError err = { 0 };
    ImgOpenOptions o = { .read_only = true };
    RealImage *img = img_open(e, "hd0.img", "qcow2", &o, &err);
    CHECK(img != NULL);
    if (img) {
        RealDriverInfo bdi;
        CHECK_INT_EQ(bdrv_get_info(img_bs(img), &bdi), 0);
        CHECK_INT_EQ(bdi.cluster_size, 65536);
        CHECK(!bdi.is_dirty);
        json_t *spec = bdrv_get_specific_info(img_bs(img));
        char *s = json_dumps(spec, JSON_SORT_KEYS | JSON_COMPACT);
        CHECK_STR_EQ(s, "{\"data\":{\"compat\":\"1.1\",\"compression-type\":\"zlib\","
                        "\"corrupt\":false,\"extended-l2\":false,\"lazy-refcounts\":false,"
                        "\"refcount-bits\":16},\"type\":\"qcow2\"}");
        free(s);
        json_decref(spec);
        CHECK_INT_EQ(bdrv_getlength(img_bs(img)), 3 << 20);
        CHECK_INT_EQ(bdrv_getlength(img_bs(img)->file->bs), 0x60000);
        img_close(img);
    }
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qcow2_corrupt_bit(void)
{
    char *e = tr_mkdtemp();
    tr_engine_create(e, "qcow2", "hd0.img", "3M", NULL, NULL, NULL, NULL);
    /* Set incompatible bit 1 (corrupt) at header offset 72..79. */
    tr_run(e, NULL, NULL, "qemu-io", "-f", "raw", "-c", "write -P 0x02 79 1", "hd0.img",
           (char *)NULL);
    const char *cmds[] = { "read 0 1" };
    char *eo, *ee, *qo, *qe;
    int erc = tr_engine_io(e, "qcow2", "hd0.img", &eo, &ee, cmds, 1);
    int qrc = tr_qemu_io(e, "qcow2", "hd0.img", &qo, &qe, cmds, 1);
    CHECK_INT_EQ(erc, 1);
    CHECK_INT_EQ(qrc, 1);
    CHECK_STR_EQ(ee, "qemu-io: can't open device hd0.img: qcow2: Image is corrupt; cannot be "
                     "opened read/write\n");
    CHECK_STR_EQ(ee, qe);
    free(eo);
    free(ee);
    free(qo);
    free(qe);
    BgError err = { 0 };
    ImgOpenOptions o = { .read_only = true };
    RealImage *img = img_open(e, "hd0.img", "qcow2", &o, &err);
    CHECK(img != NULL);
    if (img) {
        json_t *spec = bdrv_get_specific_info(img_bs(img));
        CHECK(json_is_true(json_object_get(json_object_get(spec, "data"), "corrupt")));
        json_decref(spec);
    }
    img_close(img);
    tr_rmdir(e);
}

/* lazy-refcounts=on: the dirty bit is set while writing and cleared on close, as QEMU does. */
static void test_real_qcow2_lazy_refcounts(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    twin_create(e, q, "hd0.img", "3M", NULL, NULL);
    BgError err = { 0 };
    RealImage *img = open_with(e, "hd0.img", "{\"lazy-refcounts\": true}", &err);
    CHECK(img != NULL);
    if (img) {
        uint8_t buf[512];
        memset(buf, 7, sizeof(buf));
        CHECK_INT_EQ(bdrv_pwrite(img_bs(img), 0, sizeof(buf), buf, 0), 0);
        RealDriverInfo bdi;
        bdrv_get_info(img_bs(img), &bdi);
        CHECK(bdi.is_dirty);
        CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 72), 1);
        img_close(img);
    }
    CHECK_INT_EQ(tr_be64_at(e, "hd0.img", 72), 0);
    tr_run(q, NULL, NULL, "qemu-io", "-c", "write -P 7 0 512",
           "json:{\"driver\": \"qcow2\", \"lazy-refcounts\": true, \"file\": {\"driver\": "
           "\"file\", \"filename\": \"hd0.img\"}}", (char *)NULL);
    CHECK(tr_same_bytes(e, "hd0.img", q, "hd0.img"));
    check_clean(e, "hd0.img");
    tr_rmdir(e);
    tr_rmdir(q);
}


/* qcow2_check_refcounts() on the live image after every command, small caches. */
static void test_real_qcow2_live_invariants(void)
{
    static const struct { const char *create, *opts; int cs; int64_t bytes; } cfg[] = {
        { "cluster_size=65536", "{}", 65536, 3 << 20 },
        { "cluster_size=4096,refcount_bits=4", "{\"l2-cache-size\": 1, \"refcount-cache-size\": 1}",
          4096, 2 << 20 },
        { "cluster_size=512,refcount_bits=64", "{\"l2-cache-entry-size\": 512}", 512, 3 << 20 },
    };
    for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
        char *d = tr_mkdtemp();
        char size[32];
        snprintf(size, sizeof(size), "%lld", (long long)cfg[c].bytes);
        tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "-o", cfg[c].create, "t.img",
               size, (char *)NULL);
        BgError err = { 0 };
        RealImage *img = open_with(d, "t.img", cfg[c].opts, &err);
        CHECK(img != NULL);
        if (!img) {
            tr_rmdir(d);
            continue;
        }
        BgBuf out = { 0 }, eb = { 0 };
        QemuIoContext ctx = { .bs = img_bs(img), .out = &out, .err = &eb, .report = &eb,
                              .report_prefix = "qemu-io: " };
        rng_state = 0xabcdefull + c;
        for (int i = 0; i < 60; i++) {
            char cmd[128];
            random_cmd(cmd, sizeof(cmd), cfg[c].bytes, cfg[c].cs);
            qemuio_command(&ctx, cmd);
            BgError cerr = { 0 };
            if (!bdrv_check(img_bs(img), &cerr)) {
                fprintf(stderr, "  after '%s': %s\n", cmd, cerr.text);
                bg_test_failures++;
                break;
            }
        }
        bg_buf_cleanup(&out);
        bg_buf_cleanup(&eb);
        img_close(img);
        check_clean(d, "t.img");
        tr_rmdir(d);
    }
    /* A leaked cluster and a wrong COPIED flag are found. */
    char *d = tr_mkdtemp();
    tr_engine_create(d, "qcow2", "t.img", "3M", NULL, NULL, NULL, NULL);
    const char *w[] = { "write -P 1 0 64k" };
    tr_engine_io(d, "qcow2", "t.img", NULL, NULL, w, 1);
    tr_run(d, NULL, NULL, "qemu-io", "-f", "raw", "-c", "write -P 1 0x2000d 1", "t.img",
           (char *)NULL);
    BgError err = { 0 };
    ImgOpenOptions o = { .read_only = true };
    RealImage *img = img_open(d, "t.img", "qcow2", &o, &err);
    CHECK(img && !bdrv_check(img_bs(img), &err));
    CHECK_STR_EQ(err.text, "qcow2 check (1): cluster 6 refcount=1 reference=0");
    img_close(img);
    tr_run(d, NULL, NULL, "qemu-io", "-f", "raw", "-c", "write -P 0 0x2000d 1", "-c",
           "write -P 0 0x40000 1", "t.img", (char *)NULL);
    bg_error_clear(&err);
    img = img_open(d, "t.img", "qcow2", &o, &err);
    CHECK(img && !bdrv_check(img_bs(img), &err));
    CHECK_STR_EQ(err.text, "qcow2 check (2): OFLAG_COPIED data cluster: l2_entry=50000 "
                           "refcount=1");
    img_close(img);
    tr_rmdir(d);
}

/* Data extents of DIR/FILE as SEEK_DATA/SEEK_HOLE see them, as text. */
static char *extents(const char *dir, const char *file)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int fd = open(path, O_RDONLY);
    BgBuf b = { 0 };
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    for (off_t off = 0; fd >= 0 && off < end;) {
        off_t data = lseek(fd, off, SEEK_DATA);
        if (data < 0)
            break;
        off_t hole = lseek(fd, data, SEEK_HOLE);
        bg_buf_printf(&b, "%lld+%lld ", (long long)data, (long long)(hole - data));
        off = hole;
    }
    bg_buf_printf(&b, "end %lld", (long long)end);
    if (fd >= 0)
        close(fd);
    return bg_buf_take(&b);
}

/* img_template.c: a creation written from a template is the formatted file,
 * byte for byte and range for range (with and without a backing file). */
static void test_real_qcow2_create_from_template(void)
{
    char *d = tr_mkdtemp();
    img_template_enable(true);
    static const char *const sizes[] = { "3M", "64M", "1048577" };
    for (int i = 0; i < 3; i++) {
        for (int backing = 0; backing < 2; backing++) {
            const char *b = backing ? "base.img" : NULL, *bf = backing ? "qcow2" : NULL;
            CHECK_INT_EQ(tr_engine_create(d, "qcow2", "base.img", "1M", NULL, NULL, NULL, NULL), 0);
            CHECK_INT_EQ(tr_engine_create(d, "qcow2", "a.img", sizes[i], b, bf, NULL, NULL), 0);
            char *first = extents(d, "a.img");
            CHECK_INT_EQ(tr_engine_create(d, "qcow2", "b.img", sizes[i], b, bf, NULL, NULL), 0);
            CHECK(tr_same_bytes(d, "a.img", d, "b.img"));
            char *second = extents(d, "b.img");
            CHECK_STR_EQ(second, first);
            free(first);
            free(second);
        }
    }
    img_template_enable(false);
    tr_rmdir(d);
}

BG_SUITE(real_qcow2) = {
    { "create_from_template", test_real_qcow2_create_from_template },
    { "create_matches_qemu_img", test_real_qcow2_create_matches_qemu_img },
    { "create_backing_matches", test_real_qcow2_create_backing_matches },
    { "create_errors", test_real_qcow2_create_errors },
    { "create_backing_loop", test_real_qcow2_create_backing_loop },
    { "compress_seed_layout", test_real_qcow2_compress_seed_layout },
    { "compressed_write_needs_unallocated", test_real_qcow2_compressed_write_needs_unallocated },
    { "zero_discard_twins", test_real_qcow2_zero_discard_twins },
    { "backing_twins", test_real_qcow2_backing_twins },
    { "random_twins", test_real_qcow2_random_twins },
    { "cache_options", test_real_qcow2_cache_options },
    { "info_and_query", test_real_qcow2_info_and_query },
    { "corrupt_bit", test_real_qcow2_corrupt_bit },
    { "lazy_refcounts", test_real_qcow2_lazy_refcounts },
    { "live_invariants", test_real_qcow2_live_invariants },
    { NULL, NULL },
};
