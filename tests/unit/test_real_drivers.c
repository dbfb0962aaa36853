/*
 * test_real_drivers.c: the engine's file, raw and null-co drivers against
 * QEMU 7.2: open errors and option checks with QEMU's exact texts, OFD lock
 * bytes that conflict with a real qemu-io holding the image (and the other
 * way round), O_DIRECT requests of any alignment, raw's offset/size window
 * and its reopen, null-co's options and reads.
 */
#include <jansson.h>
#include <signal.h>

#include "test_real_util.h"
#include "../../real/bdrv.h"

/* A node of DRIVER with JSON options, over CHILD (NULL for protocols). */
static RealBlockState *node_open(const char *driver, const char *json, RealBlockState *child,
                                 int flags, BgError *err)
{
    RealBlockState *bs = bdrv_new();
    json_t *o = json_loads(json, 0, NULL);
    if (child) {
        bs->file = bdrv_child_new(bs, child, "file", REAL_CHILD_DATA | REAL_CHILD_PRIMARY);
        bs->file->perm = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE;
    }
    int ret = bdrv_open_driver(bs, bdrv_find_driver(driver), o, flags, err);
    json_decref(o);
    if (ret < 0) {
        bdrv_child_free(bs->file);
        bdrv_free(bs);
        return NULL;
    }
    return bs;
}

static void node_free(RealBlockState *bs)
{
    if (!bs)
        return;
    RealChild *c = bs->file;
    bdrv_free(bs);
    bdrv_child_free(c);
}

static RealBlockState *file_open(const char *dir, const char *name, const char *extra, int flags,
                                 BgError *err)
{
    char json[4096];
    snprintf(json, sizeof(json), "{\"filename\": \"%s/%s\"%s%s}", dir, name, extra ? ", " : "",
             extra ? extra : "");
    return node_open("file", json, NULL, flags, err);
}

/* QEMU's text for a json: filename that does not open (after "...}: "). */
static char *qemu_open_error(const char *dir, const char *json)
{
    char spec[4096], *out, *err;
    snprintf(spec, sizeof(spec), "json:%s", json);
    tr_run(dir, &out, &err, "qemu-io", "-c", "quit", spec, (char *)NULL);
    free(out);
    char *p = strstr(err, "}: ");
    char *r = bg_strdup(p ? p + 3 : err);
    char *nl = strchr(r, '\n');
    if (nl)
        *nl = '\0';
    free(err);
    return r;
}

static void test_real_drivers_file_open_errors(void)
{
    char *d = tr_mkdtemp();
    BgError err = { 0 };
    CHECK(file_open(d, "nonexist.img", NULL, REAL_O_RDWR, &err) == NULL);
    char want[4096];
    snprintf(want, sizeof(want), "Could not open '%s/nonexist.img': No such file or directory", d);
    CHECK_STR_EQ(err.text, want);
    char json[4096];
    snprintf(json, sizeof(json), "{\"driver\": \"file\", \"filename\": \"%s/nonexist.img\"}", d);
    char *q = qemu_open_error(d, json);
    CHECK_STR_EQ(err.text, q);
    free(q);

    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "raw", "r.raw", "10k", (char *)NULL);
    bg_error_clear(&err);
    CHECK(file_open(d, "r.raw", "\"aio\": \"native\"", REAL_O_RDWR, &err) == NULL);
    snprintf(json, sizeof(json), "{\"driver\": \"file\", \"aio\": \"native\", \"filename\": "
             "\"%s/r.raw\"}", d);
    q = qemu_open_error(d, json);
    CHECK_STR_EQ(err.text, q);
    free(q);

    /* Accepted options: x-check-cache-dropped, locking, aio=threads, drop-cache. */
    bg_error_clear(&err);
    RealBlockState *f = file_open(d, "r.raw", "\"x-check-cache-dropped\": true, \"locking\": "
                                  "\"off\", \"aio\": \"threads\", \"drop-cache\": false",
                                  REAL_O_RDWR, &err);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT_EQ(bdrv_getlength(f), 10240);
        json_t *o = json_loads("{\"x-check-cache-dropped\": false}", 0, NULL);
        RealReopenState rs = { .bs = f, .options = o, .flags = REAL_O_RDWR | REAL_O_NOCACHE };
        CHECK_INT_EQ(f->drv->reopen_prepare(&rs, &err), 0);
        f->drv->reopen_commit(&rs);
        CHECK_INT_EQ(f->bl.request_alignment >= 512, 1);
        json_decref(o);
    }
    node_free(f);
    tr_rmdir(d);
}

static void take_rw_perms(RealBlockState *f, BgError *err, int *ret)
{
    /* What a writable qcow2 parent takes on its file (bdrv_default_perms_for_storage). */
    *ret = f->drv->check_perm(f, REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE | REAL_PERM_RESIZE,
                              REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED, err);
    if (*ret == 0)
        f->drv->set_perm(f, REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE | REAL_PERM_RESIZE,
                         REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED);
    else
        f->drv->abort_perm_update(f);
}

static void test_real_drivers_file_locking(void)
{
    char *d = tr_mkdtemp();
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "hd0.img", "1M", (char *)NULL);
    BgError err = { 0 };
    int ret;
    RealBlockState *a = file_open(d, "hd0.img", NULL, REAL_O_RDWR, &err);
    CHECK(a != NULL);
    take_rw_perms(a, &err, &ret);
    CHECK_INT_EQ(ret, 0);

    /* A second user in this process: OFD locks are per open file description. */
    RealBlockState *b = file_open(d, "hd0.img", NULL, REAL_O_RDWR, &err);
    take_rw_perms(b, &err, &ret);
    CHECK(ret < 0);
    CHECK_STR_EQ(err.text, "Failed to get \"write\" lock");
    node_free(b);
    bg_error_clear(&err);
    b = file_open(d, "hd0.img", "\"locking\": \"off\"", REAL_O_RDWR, &err);
    take_rw_perms(b, &err, &ret);
    CHECK_INT_EQ(ret, 0);
    node_free(b);

    /* QEMU sees the engine's locks... */
    char *out, *qerr;
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-f", "qcow2", "-c", "read 0 1", "hd0.img",
                        (char *)NULL), 1);
    CHECK_STR_EQ(qerr, "qemu-io: can't open device hd0.img: Failed to get \"write\" lock\n"
                       "Is another process using the image [hd0.img]?\n");
    free(out);
    free(qerr);
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-r", "-f", "qcow2", "-c", "read 0 1",
                        "hd0.img", (char *)NULL), 1);
    CHECK(strstr(qerr, "Failed to get shared \"write\" lock") != NULL);
    free(out);
    free(qerr);
    node_free(a);

    /* ...and the engine sees QEMU's: qemu-io holds the image while sleeping. */
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        if (chdir(d) == 0)
            execlp("qemu-io", "qemu-io", "-f", "qcow2", "-c", "sleep 20000", "hd0.img",
                   (char *)NULL);
        _exit(127);
    }
    /* Wait (up to 10 s) until qemu-io holds its locks: byte 100 is locked. */
    char path[4096];
    snprintf(path, sizeof(path), "%s/hd0.img", d);
    int pfd = open(path, O_RDONLY);
    for (int i = 0; i < 1000; i++) {
        struct flock fl = { .l_whence = SEEK_SET, .l_start = 100, .l_len = 1,
                            .l_type = F_WRLCK };
        if (fcntl(pfd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
            break;
        usleep(10000);
    }
    close(pfd);
    char *eo, *ee;
    const char *cmds[] = { "read 0 1" };
    CHECK_INT_EQ(tr_engine_io(d, "qcow2", "hd0.img", &eo, &ee, cmds, 1), 1);
    CHECK_STR_EQ(ee, "qemu-io: can't open device hd0.img: Failed to get \"write\" lock\n"
                     "Is another process using the image [hd0.img]?\n");
    free(eo);
    free(ee);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    CHECK_INT_EQ(tr_engine_io(d, "qcow2", "hd0.img", &eo, &ee, cmds, 1), 0);
    free(eo);
    free(ee);
    tr_rmdir(d);
}

/* Reopen read-only with a new fd: the locks follow the new permissions. */
static void test_real_drivers_file_reopen_locks(void)
{
    char *d = tr_mkdtemp();
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "qcow2", "hd0.img", "1M", (char *)NULL);
    BgError err = { 0 };
    int ret;
    RealBlockState *f = file_open(d, "hd0.img", NULL, REAL_O_RDWR, &err);
    take_rw_perms(f, &err, &ret);
    CHECK_INT_EQ(ret, 0);
    char *out, *qerr;
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-r", "-f", "qcow2", "-c", "read 0 1",
                        "hd0.img", (char *)NULL), 1);
    free(out);
    free(qerr);

    json_t *o = json_object();
    RealReopenState rs = { .bs = f, .options = o, .flags = 0 };
    CHECK_INT_EQ(f->drv->reopen_prepare(&rs, &err), 0);
    uint64_t perm = REAL_PERM_CONSISTENT_READ;
    uint64_t shared = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED;
    CHECK_INT_EQ(f->drv->check_perm(f, perm, shared, &err), 0);
    f->drv->reopen_commit(&rs);
    f->drv->set_perm(f, perm, shared);
    f->read_only = true;
    f->open_flags = 0;
    json_decref(o);

    /* Another reader is welcome now, a writer still is not. */
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-r", "-f", "qcow2", "-c", "read 0 1",
                        "hd0.img", (char *)NULL), 0);
    free(out);
    free(qerr);
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-f", "qcow2", "-c", "read 0 1", "hd0.img",
                        (char *)NULL), 1);
    CHECK(strstr(qerr, "Failed to get \"write\" lock") != NULL);
    free(out);
    free(qerr);
    uint8_t b[16];
    CHECK_INT_EQ(bdrv_pread(f, 0, 4, b, 0), 0);
    CHECK(b[0] == 'Q' && b[3] == 0xfb);
    node_free(f);
    CHECK_INT_EQ(tr_run(d, &out, &qerr, "qemu-io", "-f", "qcow2", "-c", "read 0 1", "hd0.img",
                        (char *)NULL), 0);
    free(out);
    free(qerr);
    tr_rmdir(d);
}

static void test_real_drivers_file_direct_io(void)
{
    char *e = tr_mkdtemp(), *q = tr_mkdtemp();
    for (int i = 0; i < 2; i++)
        tr_run(i ? q : e, NULL, NULL, "qemu-img", "create", "-f", "raw", "r.raw", "1000",
               (char *)NULL);
    BgError err = { 0 };
    RealBlockState *f = file_open(e, "r.raw", NULL, REAL_O_RDWR | REAL_O_NOCACHE, &err);
    CHECK(f != NULL);
    if (f) {
        CHECK(f->bl.request_alignment >= 512);
        uint8_t buf[700];
        memset(buf, 0x3c, sizeof(buf));
        CHECK_INT_EQ(bdrv_pwrite(f, 1, 1, buf, 0), 0);
        CHECK_INT_EQ(bdrv_pwrite(f, 300, 700, buf, 0), 0);
        CHECK_INT_EQ(bdrv_pwrite(f, 999, 1, buf + 1, 0), 0);
        uint8_t rd[1024];
        CHECK_INT_EQ(bdrv_pread(f, 0, 1024, rd, 0), 0);
        CHECK_INT_EQ(rd[0], 0);
        CHECK_INT_EQ(rd[1], 0x3c);
        CHECK_INT_EQ(rd[299], 0);
        CHECK_INT_EQ(rd[999], 0x3c);
        CHECK_INT_EQ(rd[1000], 0);
        node_free(f);
    }
    /* qemu-io -t none does the same read-modify-write; the files end equal. */
    tr_run(q, NULL, NULL, "qemu-io", "-t", "none", "-f", "raw", "-c", "write -P 0x3c 1 1", "-c",
           "write -P 0x3c 300 700", "-c", "write -P 0x3c 999 1", "r.raw", (char *)NULL);
    CHECK(tr_same_bytes(e, "r.raw", q, "r.raw"));
    tr_rmdir(e);
    tr_rmdir(q);
}

static void test_real_drivers_raw_options(void)
{
    char *d = tr_mkdtemp();
    tr_run(d, NULL, NULL, "qemu-img", "create", "-f", "raw", "r.raw", "10k", (char *)NULL);
    static const char *const bad[] = {
        "\"offset\": 100000", "\"offset\": 1024, \"size\": 10000",
        "\"offset\": 1024, \"size\": 1000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        BgError err = { 0 };
        RealBlockState *f = file_open(d, "r.raw", NULL, REAL_O_RDWR, &err);
        char json[256];
        snprintf(json, sizeof(json), "{%s}", bad[i]);
        RealBlockState *r = node_open("raw", json, f, REAL_O_RDWR, &err);
        CHECK(r == NULL);
        char qjson[4096];
        snprintf(qjson, sizeof(qjson), "{\"driver\": \"raw\", %s, \"file\": {\"driver\": "
                 "\"file\", \"filename\": \"r.raw\"}}", bad[i]);
        char *q = qemu_open_error(d, qjson);
        CHECK_STR_EQ(err.text, q);
        free(q);
        node_free(f);
    }

    /* A window [1024, 1024 + 4096): I/O shifted, bounded, ENOSPC past the end. */
    BgError err = { 0 };
    RealBlockState *f = file_open(d, "r.raw", NULL, REAL_O_RDWR, &err);
    RealBlockState *r = node_open("raw", "{\"offset\": 1024, \"size\": 4096}", f, REAL_O_RDWR,
                                  &err);
    CHECK(r != NULL);
    if (r) {
        CHECK_INT_EQ(bdrv_getlength(r), 4096);
        uint8_t buf[512];
        memset(buf, 0x77, sizeof(buf));
        CHECK_INT_EQ(bdrv_pwrite(r, 0, 512, buf, 0), 0);
        CHECK_INT_EQ(bdrv_pwrite(r, 4000, 512, buf, 0), -ENOSPC);
        CHECK_INT_EQ(bdrv_pread(f, 1024, 512, buf, 0), 0);
        CHECK_INT_EQ(buf[0], 0x77);
        /* Reopen with another window; a bad one is refused and changes nothing. */
        json_t *o = json_loads("{\"offset\": 20000}", 0, NULL);
        RealReopenState rs = { .bs = r, .options = o, .flags = REAL_O_RDWR };
        CHECK(r->drv->reopen_prepare(&rs, &err) < 0);
        CHECK_STR_EQ(err.text, "Offset (20000) cannot be greater than size of the containing "
                               "file (10240)");
        r->drv->reopen_abort(&rs);
        json_decref(o);
        CHECK_INT_EQ(bdrv_getlength(r), 4096);
        o = json_loads("{\"offset\": 512}", 0, NULL);
        rs = (RealReopenState){ .bs = r, .options = o, .flags = REAL_O_RDWR };
        CHECK_INT_EQ(r->drv->reopen_prepare(&rs, &err), 0);
        r->drv->reopen_commit(&rs);
        json_decref(o);
        CHECK_INT_EQ(bdrv_getlength(r), 10240 - 512);
        CHECK_INT_EQ(bdrv_pread(r, 512, 512, buf, 0), 0);
        CHECK_INT_EQ(buf[0], 0x77);
    }
    node_free(r);
    node_free(f);
    tr_rmdir(d);
}

/* qemu-io on a node built here, against qemu-io on the same json: filename. */
static void io_vs_qemu(RealBlockState *bs, const char *dir, const char *json,
                       const char *const *cmds, int n)
{
    BgBuf out = { 0 }, err = { 0 };
    QemuIoContext ctx = { .bs = bs, .out = &out, .err = &err, .report = &err,
                          .report_prefix = "qemu-io: " };
    int erc = 0;
    for (int i = 0; i < n && !ctx.quit; i++)
        if (qemuio_command(&ctx, cmds[i]) < 0)
            erc = 1;
    char spec[4096], *qo, *qe;
    snprintf(spec, sizeof(spec), "json:%s", json);
    char *argv[2 * 32 + 4];
    int k = 0;
    argv[k++] = "qemu-io";
    for (int i = 0; i < n; i++) {
        argv[k++] = "-c";
        argv[k++] = (char *)cmds[i];
    }
    argv[k++] = spec;
    argv[k] = NULL;
    int qrc = tr_runv(dir, &qo, &qe, argv);
    CHECK_INT_EQ(erc, qrc);
    CHECK_SAME_OUTPUT(out.data ? out.data : "", qo);
    CHECK_STR_EQ(err.data ? err.data : "", qe);
    free(qo);
    free(qe);
    bg_buf_cleanup(&out);
    bg_buf_cleanup(&err);
}

static void test_real_drivers_null_co(void)
{
    char *d = tr_mkdtemp();
    BgError err = { 0 };
    RealBlockState *n = node_open("null-co", "{}", NULL, REAL_O_RDWR, &err);
    CHECK(n != NULL);
    const char *cmds[] = { "length", "read -P 0xab 0 512", "write -P 1 0 512", "map",
                           "alloc 0 1M", "read -P 0 4096 1" };
    io_vs_qemu(n, d, "{\"driver\": \"null-co\"}", cmds, 6);
    node_free(n);
    n = node_open("null-co", "{\"size\": 1000, \"read-zeroes\": true, \"latency-ns\": 5}", NULL,
                  REAL_O_RDWR, &err);
    CHECK(n != NULL);
    const char *cmds2[] = { "length", "read -P 0 1000 24", "read 1000 25", "info" };
    io_vs_qemu(n, d, "{\"driver\": \"null-co\", \"size\": 1000, \"read-zeroes\": true, "
               "\"latency-ns\": 5}", cmds2, 4);
    node_free(n);
    CHECK(node_open("null-co", "{\"latency-ns\": -1}", NULL, REAL_O_RDWR, &err) == NULL);
    CHECK_STR_EQ(err.text, "latency-ns is invalid");
    tr_rmdir(d);
}

/* Every way the engine changes a file moves drv_file_changes(), which the
 * runner trusts to skip the scan of the scratch directory (backend.h
 * file_changes); reads, flushes and opens do not move it. */
static void test_real_drivers_file_changes_counted(void)
{
    char *d = tr_mkdtemp();
    BgBuf out = { 0 }, errb = { 0 };
    uint64_t c = drv_file_changes();
    CHECK_INT_EQ(img_create(d, "raw", "c.img", "1M", NULL, NULL, &out, &errb), 0);
    CHECK(drv_file_changes() != c);
    BgError err = { 0 };
    c = drv_file_changes();
    RealBlockState *f = file_open(d, "c.img", NULL, REAL_O_RDWR, &err);
    CHECK(f != NULL);
    char buf[4096] = { 0 };
    CHECK_INT_EQ(bdrv_pread(f, 0, sizeof(buf), buf, 0), 0);
    CHECK_INT_EQ(bdrv_flush(f), 0);
    CHECK(drv_file_changes() == c);
    memset(buf, 0x5a, sizeof(buf));
    CHECK_INT_EQ(bdrv_pwrite(f, 0, sizeof(buf), buf, 0), 0);
    CHECK(drv_file_changes() != c);
    c = drv_file_changes();
    CHECK_INT_EQ(bdrv_pwrite_zeroes(f, 0, sizeof(buf), 0), 0);
    CHECK(drv_file_changes() != c);
    c = drv_file_changes();
    bdrv_pdiscard(f, 0, sizeof(buf));   /* unmap=ignore by default: nothing reaches the file */
    CHECK(drv_file_changes() == c);
    CHECK_INT_EQ(bdrv_truncate(f, 2 << 20, false, REAL_PREALLOC_OFF, &err), 0);
    CHECK(drv_file_changes() != c);
    node_free(f);
    c = drv_file_changes();
    f = file_open(d, "c.img", "\"discard\": \"unmap\"", REAL_O_RDWR | REAL_O_UNMAP, &err);
    CHECK(f != NULL);
    CHECK_INT_EQ(bdrv_pdiscard(f, 0, 65536), 0);
    CHECK(drv_file_changes() != c);
    node_free(f);
    bg_buf_cleanup(&out);
    bg_buf_cleanup(&errb);
    tr_rmdir(d);
}

BG_SUITE(real_drivers) = {
    { "file_open_errors", test_real_drivers_file_open_errors },
    { "file_locking", test_real_drivers_file_locking },
    { "file_reopen_locks", test_real_drivers_file_reopen_locks },
    { "file_direct_io", test_real_drivers_file_direct_io },
    { "raw_options", test_real_drivers_raw_options },
    { "null_co", test_real_drivers_null_co },
    { "file_changes_counted", test_real_drivers_file_changes_counted },
    { NULL, NULL },
};
