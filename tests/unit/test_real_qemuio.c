/*
 * test_real_qemuio.c: the engine's qemu-io interpreter prints what QEMU
 * 7.2's qemu-io prints (stdout, stderr, exit status; the timing line
 * normalised), for good commands and for every kind of bad one, and its
 * number parser and size printer follow qemu_strtosz()/cvtstr().
 */
#include "test_real_util.h"

static void same_as_qemu(const char *fmt, const char *size, const char *const *cmds, int n)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    for (int i = 0; i < 2; i++)
        tr_run(i ? q : e, NULL, NULL, "qemu-img", "create", "-f", fmt, "t.img", size,
               (char *)NULL);
    for (int i = 0; i < n; i++) {
        char *eo, *ee, *qo, *qe;
        int erc = tr_engine_io(e, fmt, "t.img", &eo, &ee, cmds + i, 1);
        int qrc = tr_qemu_io(q, fmt, "t.img", &qo, &qe, cmds + i, 1);
        if (erc != qrc)
            fprintf(stderr, "  '%s': exit %d, qemu-io %d\n", cmds[i], erc, qrc);
        CHECK_INT_EQ(erc, qrc);
        CHECK_SAME_OUTPUT(eo, qo);
        CHECK_STR_EQ(ee, qe);
        CHECK(tr_same_bytes(e, "t.img", q, "t.img"));
        free(eo);
        free(ee);
        free(qo);
        free(qe);
    }
    /* All of them in one process too: quit stops the rest. */
    char *eo, *ee, *qo, *qe;
    int erc = tr_engine_io(e, fmt, "t.img", &eo, &ee, cmds, n);
    int qrc = tr_qemu_io(q, fmt, "t.img", &qo, &qe, cmds, n);
    CHECK_INT_EQ(erc, qrc);
    CHECK_SAME_OUTPUT(eo, qo);
    CHECK_STR_EQ(ee, qe);
    free(eo);
    free(ee);
    free(qo);
    free(qe);
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_qemuio_commands_raw(void)
{
    static const char *const cmds[] = {
        "read -P 0 0 10k", "write -P 0xa0 0 10k", "read -P 0xa0 0 10k", "read -P 0xa1 0 10k",
        "write 10240 1", "read 10000 241", "write -z 1k 2k", "write -z -u 4k 4k",
        "discard 0 1k", "write -c 0 512", "info", "map", "alloc 0 10k", "alloc 1k",
        "length", "write -P 1 0 1", "read -v 0 17", "flush", "aio_flush", "readv -P 1 0 1",
        "writev -P 5 0 1k 1k 3", "readv -P 5 0 2051", "read -q 0 1", "write -q 0 1",
        "r 0 1", "w 0 1", "d 0 1", "f", "l", "i", "a 0",
        "read -l 512 -s 512 -P 0xcd 0 1k", "read -P 0xcd -s 1 0 2",
    };
    same_as_qemu("raw", "10k", cmds, sizeof(cmds) / sizeof(cmds[0]));
}

static void test_real_qemuio_bad_commands(void)
{
    static const char *const cmds[] = {
        "bogus", "read", "read 0", "read 0 1 2", "read -5 1", "read 1.5 1k", "read 0x1k 1",
        "read -l 3 0 1", "read -P 1 -s 2 0 1", "read -P 1 -l 2 0 1", "read -P", "read -x 0 1",
        "read 0 3000000000", "read -P 300 0 1", "read -P 0x 0 1", "read 1e3 1",
        "read 99999999999999999999 1", "read 0 -1", "write -u 0 1", "write -n 0 1",
        "write -b -z 0 1", "write -f -c 0 512", "write -z -P 1 0 1", "write -c 1 512",
        "write -c 512 1", "write 0 3000000000", "write -x 0 1", "write 3M 0", "discard -x 0 1",
        "discard 0", "discard 0 3000000000", "alloc", "alloc 0 1 2", "flush 1", "map x",
        "readv 0", "readv 0 3G", "writev 0 1G 1.5G", "length x", "write -P 1 0 1 -q",
        "read 0 1k -P 0", "write -- 0 1", "quit", "read 0 1",
    };
    same_as_qemu("qcow2", "3M", cmds, sizeof(cmds) / sizeof(cmds[0]));
}

static void test_real_qemuio_cvtnum_cvtstr(void)
{
    static const struct { const char *s; int64_t v; } nums[] = {
        { "0", 0 }, { "512", 512 }, { "1k", 1024 }, { "1K", 1024 }, { "3M", 3 << 20 },
        { "1G", 1 << 30 }, { "1.5k", 1536 }, { "0x10", 16 }, { "0x1k", 1024 }, { "1b", 1 },
        { "1.", 1 }, { "1.5", -EINVAL }, { "1e3", -EINVAL }, { "-5", -EINVAL }, { "", -EINVAL },
        { "k", -EINVAL }, { "99999999999999999999", -ERANGE }, { "16E", -ERANGE },
        { " 12", 12 }, { "0x1.5", -EINVAL },
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        int64_t v = qemuio_cvtnum(nums[i].s, NULL);
        if (v != nums[i].v)
            fprintf(stderr, "  cvtnum(\"%s\") = %lld\n", nums[i].s, (long long)v);
        CHECK_INT_EQ(v, nums[i].v);
    }
    static const struct { double v; const char *s; } strs[] = {
        { 0, "0 bytes" }, { 1, "1 bytes" }, { 1000, "1000 bytes" }, { 1024, "1 KiB" },
        { 1536, "1.500 KiB" }, { 1 << 20, "1 MiB" }, { 3 << 20, "3 MiB" },
        { 1114112, "1.062 MiB" }, { 512.0 * (1 << 20), "512 MiB" }, { 1ll << 30, "1 GiB" },
    };
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        char buf[64];
        qemuio_cvtstr(strs[i].v, buf, sizeof(buf));
        CHECK_STR_EQ(buf, strs[i].s);
    }
}

static void test_real_qemuio_open_errors(void)
{
    char *d = tr_mkdtemp();
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "raw", "r.raw", "10k", (char *)NULL);
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "tb.img", "1M", (char *)NULL);
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "-b", "tb.img", "-F", "qcow2",
           "to.img", (char *)NULL);
    tr_run(d, NULL, NULL, "mv", "tb.img", "tb2.img", (char *)NULL);
    static const struct { const char *fmt, *file; } cases[] = {
        { "qcow2", "nonexist.img" }, { "qcow2", "r.raw" }, { "qcow2", "to.img" },
    };
    const char *cmds[] = { "read 0 1" };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *eo, *ee, *qo, *qe;
        int erc = tr_engine_io(d, cases[i].fmt, cases[i].file, &eo, &ee, cmds, 1);
        int qrc = tr_qemu_io(d, cases[i].fmt, cases[i].file, &qo, &qe, cmds, 1);
        CHECK_INT_EQ(erc, qrc);
        CHECK_STR_EQ(eo, qo);
        CHECK_STR_EQ(ee, qe);
        free(eo);
        free(ee);
        free(qo);
        free(qe);
    }
    tr_rmdir(d);
}

BG_SUITE(real_qemuio) = {
    { "commands_raw", test_real_qemuio_commands_raw },
    { "bad_commands", test_real_qemuio_bad_commands },
    { "cvtnum_cvtstr", test_real_qemuio_cvtnum_cvtstr },
    { "open_errors", test_real_qemuio_open_errors },
    { NULL, NULL },
};
