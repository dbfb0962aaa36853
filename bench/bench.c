/*
 * bench.c: `make bench`: 4 KiB sequential and random reads and writes on a
 * 64 MiB qcow2 image through the engine, beside `qemu-img bench` on the
 * same image with the same offsets, measured in one run.
 *
 * What this is: a throughput comparison of the storage layer (real/ with
 * qcow2 over file, page cache on, as qemu-img bench's default writeback
 * cache) against QEMU 7.2.  The offset sequence is qemu-img bench's own
 * (bench_cb(): offset += step, modulo size - bufsize), so both sides touch
 * the same clusters in the same order: "seq" with step 4 KiB, "rand" with
 * step 7919 * 4 KiB (7919 is prime and coprime with the 16383 slots, so the
 * walk visits every 4 KiB slot once, scattered; qemu-img bench has no PRNG
 * mode).  An engine-only line also reports a xorshift PRNG pattern with a
 * fixed seed.  Write runs start from a copy of a fresh image (so they
 * include cluster allocation), read runs from a copy of a fully written
 * one.  Only the request loop is timed, as qemu-img bench times it.
 * qemu-img bench runs at queue depth 1 (the engine is synchronous) and at
 * its default depth 64 for reference; the ratio is against depth 1.
 * What it is not: a unit test; it prints numbers and checks the written
 * images with `qemu-img check`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../real/bdrv.h"
#include "bg.h"
#include "../real/img.h"

#define IMAGE_SIZE (64ll << 20)
#define BUF_SIZE 4096
#define RAND_STEP (7919ll * BUF_SIZE)
#define REPEAT 3

static char dir[256];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *cmd, char *out, size_t outlen)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = out ? fread(out, 1, outlen - 1, f) : 0;
    if (out)
        out[n] = '\0';
    else {
        char sink[4096];
        while (fread(sink, 1, sizeof(sink), f) > 0)
            ;
    }
    return pclose(f);
}

static void copy_image(const char *from, const char *to)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "cp --sparse=always %s/%s %s/%s", dir, from, dir, to);
    if (run(cmd, NULL, 0) != 0) {
        fprintf(stderr, "bench: %s failed\n", cmd);
        exit(1);
    }
}

typedef enum { PAT_SEQ, PAT_STRIDE, PAT_PRNG } Pattern;

/* The engine side: COUNT requests through a BlockBackend-style check, timed. */
static double engine_run(const char *image, bool write, Pattern pat, long count)
{
    BgError err = { 0 };
    ImgOpenOptions o = { .read_only = !write };
    RealImage *img = img_open(dir, image, "qcow2", &o, &err);
    if (!img) {
        fprintf(stderr, "bench: %s\n", err.text);
        exit(1);
    }
    RealBlockState *bs = img_bs(img);
    void *buf = aligned_alloc(4096, BUF_SIZE);
    memset(buf, 0xa5, BUF_SIZE);
    int64_t offset = 0, modulus = IMAGE_SIZE - BUF_SIZE;
    uint64_t x = 0x9e3779b97f4a7c15ull;     /* fixed seed */
    double t0 = now();
    for (long i = 0; i < count; i++) {
        int64_t off = offset;
        if (pat == PAT_PRNG) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            off = (int64_t)(x % (uint64_t)(IMAGE_SIZE / BUF_SIZE)) * BUF_SIZE;
        } else {
            offset = (offset + (pat == PAT_SEQ ? BUF_SIZE : RAND_STEP)) % modulus;
        }
        int ret = bdrv_check_byte_request(bs, off, BUF_SIZE);
        if (ret == 0)
            ret = write ? bdrv_pwrite(bs, off, BUF_SIZE, buf, 0)
                        : bdrv_pread(bs, off, BUF_SIZE, buf, 0);
        if (ret < 0) {
            fprintf(stderr, "bench: I/O error at %" PRId64 ": %s\n", off, strerror(-ret));
            exit(1);
        }
    }
    double t = now() - t0;
    free(buf);
    img_close(img);
    return t;
}

/* qemu-img bench on the same image: its "Run completed in X seconds." */
static double qemu_run(const char *image, bool write, Pattern pat, long count, int depth)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof(cmd), "qemu-img bench -f qcow2 -c %ld -d %d -s %d -S %lld %s %s/%s 2>&1",
             count, depth, BUF_SIZE, pat == PAT_SEQ ? (long long)BUF_SIZE : RAND_STEP,
             write ? "-w" : "", dir, image);
    if (run(cmd, out, sizeof(out)) != 0) {
        fprintf(stderr, "bench: %s failed: %s\n", cmd, out);
        exit(1);
    }
    const char *p = strstr(out, "Run completed in ");
    return p ? strtod(p + 17, NULL) : -1;
}

static void check_image(const char *image)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof(cmd), "qemu-img check -f qcow2 %s/%s 2>&1", dir, image);
    int rc = run(cmd, out, sizeof(out));
    if (rc != 0 || !strstr(out, "No errors were found")) {
        fprintf(stderr, "bench: qemu-img check %s failed:\n%s", image, out);
        exit(1);
    }
}

static void line(const char *name, long count, double te, double tq1, double tq64)
{
    double mib = (double)count * BUF_SIZE / (1 << 20);
    printf("%-12s %8ld %10.1f %9.0f", name, count, mib / te, count / te);
    if (tq1 > 0)
        printf(" %10.1f %9.0f %7.2fx %10.1f %9.0f", mib / tq1, count / tq1, tq1 / te,
               mib / tq64, count / tq64);
    printf("\n");
}

int main(void)
{
    BgBuf out = { 0 }, errb = { 0 };
    snprintf(dir, sizeof(dir), "/var/tmp/bgraph-bench.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (img_create(dir, "qcow2", "empty.img", "64M", NULL, NULL, &out, &errb) != 0) {
        fprintf(stderr, "bench: img_create: %s", errb.data ? errb.data : "");
        return 1;
    }
    /* The full image: every cluster written once through the engine. */
    copy_image("empty.img", "full.img");
    engine_run("full.img", true, PAT_SEQ, IMAGE_SIZE / BUF_SIZE);
    check_image("full.img");

    const long reads = 2 * IMAGE_SIZE / BUF_SIZE, writes = IMAGE_SIZE / BUF_SIZE;
    printf("4 KiB requests on a 64 MiB qcow2 image (64 KiB clusters), page cache on\n");
    printf("%-12s %8s %10s %9s %10s %9s %8s %10s %9s\n", "pattern", "ops", "eng MiB/s",
           "eng IOPS", "qemu d=1", "IOPS", "ratio", "qemu d=64", "IOPS");
    struct { const char *name; bool write; Pattern pat; long count; } cases[] = {
        { "seq read", false, PAT_SEQ, reads },
        { "rand read", false, PAT_STRIDE, reads },
        { "seq write", true, PAT_SEQ, writes },
        { "rand write", true, PAT_STRIDE, writes },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *base = cases[i].write ? "empty.img" : "full.img";
        double te = 1e9, tq1 = 1e9, tq64 = 1e9, t;
        /* Best of REPEAT, alternating the two sides, against machine noise. */
        for (int r = 0; r < REPEAT; r++) {
            copy_image(base, "run.img");
            t = engine_run("run.img", cases[i].write, cases[i].pat, cases[i].count);
            te = t < te ? t : te;
            if (cases[i].write)
                check_image("run.img");
            copy_image(base, "run.img");
            t = qemu_run("run.img", cases[i].write, cases[i].pat, cases[i].count, 1);
            tq1 = t < tq1 ? t : tq1;
            copy_image(base, "run.img");
            t = qemu_run("run.img", cases[i].write, cases[i].pat, cases[i].count, 64);
            tq64 = t < tq64 ? t : tq64;
        }
        line(cases[i].name, cases[i].count, te, tq1, tq64);
    }
    /* Engine only: a true PRNG walk (fixed seed); qemu-img bench cannot do this. */
    copy_image("full.img", "run.img");
    line("prng read", reads, engine_run("run.img", false, PAT_PRNG, reads), -1, -1);
    copy_image("empty.img", "run.img");
    double tw = engine_run("run.img", true, PAT_PRNG, writes);
    check_image("run.img");
    line("prng write", writes, tw, -1, -1);
    printf("ratio = qemu-img bench time at depth 1 / engine time (>1: engine faster)\n");

    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    run(cmd, NULL, 0);
    bg_buf_cleanup(&out);
    bg_buf_cleanup(&errb);
    return 0;
}
