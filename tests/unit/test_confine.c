/*
 * test_confine.c: confinement of file names to the scratch directory
 * (common/confine.c): the lexical rule, then the run-time rule on real
 * scratch directories holding the escapes a stream cannot make by itself
 * (symbolic links, hard links, FIFOs) and the ones it can (crafted image
 * headers written by an io step, disk use).
 */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"
#include "confine.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------------ */

static char *name_err(const char *name, bool allow_dev_null)
{
    BgError err = {0};
    bool ok = bg_confine_name(name, allow_dev_null, &err);
    return bg_strdup(ok ? "" : err.text);
}

#define CHECK_NAME(name, dev_null, msg) do { \
        char *e_ = name_err(name, dev_null); \
        CHECK_STR_EQ(e_, msg); \
        free(e_); \
    } while (0)

static char *make_scratch(void)
{
    char tmpl[] = "/tmp/bg-test-confine.XXXXXX", real[PATH_MAX];
    if (!mkdtemp(tmpl) || !realpath(tmpl, real))
        return NULL;
    return bg_strdup(real);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_scratch(char *dir)
{
    if (dir)
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static char *path_in(const char *dir, const char *name)
{
    return bg_asprintf("%s/%s", dir, name);
}

/* DIR/NAME in a static buffer, valid for the next three calls. */
static const char *at(const char *dir, const char *name)
{
    static char buf[4][PATH_MAX];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

static bool write_at(const char *dir, const char *name, const void *data, size_t n, off_t off)
{
    char *p = path_in(dir, name);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    free(p);
    if (fd < 0)
        return false;
    bool ok = pwrite(fd, data, n, off) == (ssize_t)n;
    close(fd);
    return ok;
}

/*
 * Run the run-time check of STEP_TEXT (single quotes for double quotes, $DIR
 * replaced by the scratch directory as the runner does) in SCRATCH.
 */
static char *step_err(const char *scratch, const char *step_text)
{
    BgBuf b = {0};
    for (const char *p = step_text; *p; p++) {
        if (strncmp(p, "$DIR", 4) == 0) {
            bg_buf_puts(&b, scratch);
            p += 3;
        } else {
            bg_buf_append(&b, *p == '\'' ? "\"" : p, 1);
        }
    }
    json_error_t jerr;
    json_t *cmd = json_loads(b.data ? b.data : "", 0, &jerr);
    bg_buf_cleanup(&b);
    if (!cmd)
        return bg_asprintf("(test JSON does not parse: %s)", jerr.text);
    BgStepKind kind = BG_STEP_NOOP;
    for (int k = BG_STEP_NOOP + 1; k < BG_STEP__COUNT; k++)
        if (json_object_get(cmd, bg_step_kind_name((BgStepKind)k)))
            kind = (BgStepKind)k;
    BgError err = {0};
    bool ok = bg_confine_step(scratch, kind, cmd, &err);
    json_decref(cmd);
    if (ok == err.set)
        return bg_strdup(ok ? "(accepted with an error set)" : "(refused without a message)");
    return bg_strdup(ok ? "" : err.text);
}

#define CHECK_STEP(scratch, step, msg) do { \
        char *e_ = step_err(scratch, step); \
        CHECK_STR_EQ(e_, msg); \
        free(e_); \
    } while (0)

/* The scan alone: a comment step names no file. */
#define CHECK_SCAN(scratch, msg) CHECK_STEP(scratch, "{}", msg)

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

/*
 * A qcow2 v3 header (or qcow v1 when VERSION is 1) naming BACKING at offset
 * 1024, with one header extension (MAGIC, TEXT) when MAGIC is not 0.
 */
static bool write_qcow(const char *dir, const char *name, uint32_t version, const char *backing,
                       uint32_t ext_magic, const char *ext_text)
{
    unsigned char h[2048] = {0};
    memcpy(h, "QFI\xfb", 4);
    put_be32(h + 4, version);
    if (backing) {
        put_be64(h + 8, 1024);
        put_be32(h + 16, (uint32_t)strlen(backing));
        memcpy(h + 1024, backing, strlen(backing));
    }
    put_be32(h + 20, 16);           /* cluster_bits */
    put_be64(h + 24, 1u << 20);     /* size */
    put_be32(h + 100, 104);         /* header_length */
    if (ext_magic) {
        put_be32(h + 104, ext_magic);
        put_be32(h + 108, (uint32_t)strlen(ext_text));
        memcpy(h + 112, ext_text, strlen(ext_text));
    }
    return write_at(dir, name, h, sizeof(h), 0);
}

/* ---- the lexical rule ------------------------------------------------------------ */

static void test_confine_name_accepts_names_inside(void)
{
    CHECK_NAME("hd0.img", false, "");
    CHECK_NAME("$DIR/hd0.img", false, "");
    CHECK_NAME("$DIR", false, "");
    CHECK_NAME("$DIR//sub/./x", false, "");
    CHECK_NAME("a/../b", false, "");
    CHECK_NAME("a/b/../../c", false, "");
    CHECK_NAME("", false, "");
    CHECK_NAME("${NAME}", false, "");
    CHECK_NAME("a/b:c", false, "");
    CHECK_NAME("/dev/null", true, "");
}

static void test_confine_name_refuses_escapes(void)
{
    CHECK_NAME("/etc/passwd", false, "file name '/etc/passwd' is outside the scratch directory");
    CHECK_NAME("/etc/passwd", true, "file name '/etc/passwd' is outside the scratch directory");
    CHECK_NAME("/dev/null", false, "file name '/dev/null' is outside the scratch directory");
    CHECK_NAME("/dev/zero", true, "file name '/dev/zero' is outside the scratch directory");
    CHECK_NAME("/dev/null/", true, "file name '/dev/null/' is outside the scratch directory");
    CHECK_NAME("$DIR/../x", false, "file name '$DIR/../x' leaves the scratch directory");
    CHECK_NAME("$DIR/a/../../x", false, "file name '$DIR/a/../../x' leaves the scratch directory");
    CHECK_NAME("a/../../x", false, "file name 'a/../../x' leaves the scratch directory");
    CHECK_NAME("..", false, "file name '..' leaves the scratch directory");
    CHECK_NAME("./../x", false, "file name './../x' leaves the scratch directory");
    CHECK_NAME("json:{\"driver\": \"file\", \"filename\": \"/etc/passwd\"}", false,
               "file name 'json:{\"driver\": \"file\", \"filename\": \"/etc/passwd\"}' has a "
               "protocol prefix; only plain file names are allowed");
    CHECK_NAME("nbd:localhost:10809", false,
               "file name 'nbd:localhost:10809' has a protocol prefix; only plain file names are "
               "allowed");
    CHECK_NAME("$DIR/nbd:x", false,
               "file name '$DIR/nbd:x' has a protocol prefix; only plain file names are allowed");
    CHECK_NAME("$DIRx", false, "file name '$DIRx': $DIR must be followed by '/'");
    CHECK_NAME("x/$DIR", false, "file name 'x/$DIR': $DIR may only start a file name");
    CHECK_NAME("a\n/../../b", false, "file name 'a\\x0a/../../b' leaves the scratch directory");
}

/* ---- the run-time rule: file names of the substituted step ------------------------------ */

static void test_confine_step_accepts_names_inside(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(mkdir(at(s, "sub"), 0755) == 0);
    CHECK(symlink("sub", at(s, "link")) == 0);
    CHECK_STEP(s, "{'img-create': {'fmt': 'qcow2', 'file': '$DIR/hd0.img', 'size': '3M'}}", "");
    CHECK_STEP(s, "{'img-create': {'fmt': 'qcow2', 'file': 'link/new.img', 'size': 1}}", "");
    CHECK_STEP(s, "{'img-create': {'file': 'sub/a.img', 'backing': 'b.img'}}", "");
    CHECK_STEP(s, "{'io': {'file': 'missing/dir/../x', 'cmd': 'read 0 1'}}", "");
    CHECK_STEP(s, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', "
                  "'config': '/dev/null', 'image': {'driver': 'file', 'filename': '$DIR/x'}}}", "");
    CHECK_STEP(s, "{'execute': 'x-blockdev-reopen', 'arguments': {'driver': 'blkdebug', "
                  "'node-name': 'bd', 'config': '/non/existent'}}", "");
    CHECK_STEP(s, "{'qemu-img': ['compare', '$DIR/a', 'link/../b']}", "");
    CHECK_STEP(s, "{'execute': 'query-named-block-nodes'}", "");
    remove_scratch(s);
}

static void test_confine_step_refuses_escapes(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_STEP(s, "{'io': {'file': '$DIR/../x', 'cmd': 'read 0 1'}}",
               "file name '$DIR/../x' is outside the scratch directory");
    CHECK_STEP(s, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', "
                  "'filename': '/etc/passwd'}}",
               "file name '/etc/passwd' is outside the scratch directory");
    CHECK_STEP(s, "{'execute': 'blockdev-add', 'arguments': {'driver': 'file', "
                  "'filename': '/dev/null'}}",
               "file name '/dev/null' is outside the scratch directory");
    /* a reopen's config outside the scratch directory only passes while it does not exist */
    CHECK_STEP(s, "{'execute': 'x-blockdev-reopen', 'arguments': {'driver': 'blkdebug', "
                  "'node-name': 'bd', 'config': '/etc/passwd'}}",
               "file name '/etc/passwd' is outside the scratch directory");
    CHECK_STEP(s, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', "
                  "'config': '/non/existent', 'image': 'x'}}",
               "file name '/non/existent' is outside the scratch directory");
    /* a ${VAR} can turn into a protocol or a refused driver: the policy runs again */
    CHECK_STEP(s, "{'qemu-img': ['info', 'nbd:localhost:10809']}",
               "file name 'nbd:localhost:10809' has a protocol prefix; only plain file names are "
               "allowed");
    CHECK_STEP(s, "{'execute': 'blockdev-add', 'arguments': {'driver': 'nbd', 'node-name': 'n'}}",
               "blockdev-add: block driver 'nbd' is not allowed (allowed: qcow2, raw, file, "
               "null-co, null-aio, throttle, compress, copy-on-read, blkdebug, blkverify, quorum)");
    CHECK_STEP(s, "{'io': {'file': 'x', 'cmd': 'open /etc/passwd'}}",
               "io: qemu-io command 'open' is not allowed (allowed: read, write, readv, writev, "
               "discard, flush, aio_flush, length, info, map, alloc)");
    remove_scratch(s);
}

static void test_confine_step_refuses_symlinks_out(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    char *etc = path_in(s, "etc");
    CHECK(symlink("/etc", etc) == 0);
    CHECK_STEP(s, "{'io': {'fmt': 'raw', 'file': 'etc/passwd', 'cmd': 'read 0 1'}}",
               "file name 'etc/passwd' resolves to '/etc/passwd', outside the scratch directory");
    CHECK_STEP(s, "{'img-create': {'fmt': 'raw', 'file': '$DIR/etc/evil.img', 'size': 1}}",
               "file name '$DIR/etc/evil.img' resolves to '/etc/evil.img', outside the scratch "
               "directory");
    CHECK_SCAN(s, "symbolic link '$DIR/etc' points outside the scratch directory, to '/etc'");
    unlink(etc);
    free(etc);

    /* a dangling link would be created through: refused */
    char *dangling = path_in(s, "dangling");
    CHECK(symlink("/tmp/bg-test-confine-nonexistent-target", dangling) == 0);
    CHECK_STEP(s, "{'img-create': {'fmt': 'raw', 'file': 'dangling', 'size': 1}}",
               "file name 'dangling' goes through '$DIR/dangling', which cannot be resolved "
               "(No such file or directory)");
    CHECK_SCAN(s, "symbolic link '$DIR/dangling' cannot be resolved (No such file or directory)");
    unlink(dangling);
    free(dangling);

    /* img-create's backing is read relative to the new image's directory */
    char *sub = path_in(s, "sub"), *evil = path_in(s, "sub/evil");
    CHECK(mkdir(sub, 0755) == 0);
    CHECK(symlink("/etc", evil) == 0);
    CHECK_STEP(s, "{'img-create': {'fmt': 'qcow2', 'file': 'sub/a.img', 'backing': 'evil/passwd', "
                  "'backing-fmt': 'raw'}}",
               "file name 'evil/passwd' resolves to '/etc/passwd', outside the scratch directory");
    unlink(evil);
    free(evil);
    free(sub);
    CHECK_SCAN(s, "");
    remove_scratch(s);
}

/* ---- the run-time rule: the scan of the scratch directory -------------------------------- */

static void test_confine_scan_refuses_crafted_qcow2_headers(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(write_qcow(s, "base.qcow2", 3, NULL, 0, NULL));
    CHECK(write_qcow(s, "top.qcow2", 3, "base.qcow2", 0xE2792ACAu, "qcow2"));
    char *abs_backing = path_in(s, "base.qcow2");
    CHECK(write_qcow(s, "abs.qcow2", 2, abs_backing, 0, NULL));
    free(abs_backing);
    CHECK_SCAN(s, "");

    CHECK(write_qcow(s, "evil.qcow2", 3, "/etc/passwd", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file '/etc/passwd', outside the scratch "
                  "directory");
    /* the io step of the bad stream also makes one; the same io step on any backend */
    CHECK_STEP(s, "{'io': {'fmt': 'raw', 'file': 'other', 'cmd': 'read 0 1'}}",
               "image '$DIR/evil.qcow2' names backing file '/etc/passwd', outside the scratch "
               "directory");
    CHECK(write_qcow(s, "evil.qcow2", 3, "../../../../../../../../etc/passwd\0ignored", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file "
                  "'../../../../../../../../etc/passwd', outside the scratch directory");
    /* json: names are the options of a blockdev-add (QEMU writes them itself
     * when a job leaves a backing node without a plain file name) */
    CHECK(write_qcow(s, "evil.qcow2", 3, "json:{\"file.filename\": \"/etc/passwd\"}", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'json:{\"file.filename\": "
                  "\"/etc/passwd\"}', whose options are refused: file name '/etc/passwd' is "
                  "outside the scratch directory");
    CHECK(write_qcow(s, "evil.qcow2", 3, "json:{\"driver\": \"qcow2\", \"file\": {\"driver\": "
                     "\"file\", \"filename\": \"../../../../../../etc/passwd\"}}", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'json:{\"driver\": \"qcow2\", "
                  "\"file\": {\"driver\": \"file\", \"filename\": \"../../../../../../etc/passwd\"}}', "
                  "whose options are refused: file name '../../../../../../etc/passwd' is outside "
                  "the scratch directory");
    CHECK(write_qcow(s, "evil.qcow2", 3, "json:{\"driver\": \"nbd\", \"server\": {}}", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'json:{\"driver\": \"nbd\", "
                  "\"server\": {}}', whose options are refused: json: file name: block driver "
                  "'nbd' is not allowed (allowed: qcow2, raw, file, null-co, null-aio, throttle, "
                  "compress, copy-on-read, blkdebug, blkverify, quorum)");
    CHECK(write_qcow(s, "evil.qcow2", 3, "json:{'file.filename': '/etc/passwd'}", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'json:{'file.filename': "
                  "'/etc/passwd'}', which is not a JSON object");
    CHECK(write_qcow(s, "evil.qcow2", 3, "json:{\"file.filename\": \"base.qcow2\", "
                     "\"file.filename\": \"/etc/passwd\"}", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'json:{\"file.filename\": "
                  "\"base.qcow2\", \"file.filename\": \"/etc/passwd\"}', which is not a JSON "
                  "object");
    char *json_ok = bg_asprintf("json:{\"driver\": \"copy-on-read\", \"file\": {\"driver\": "
                                "\"qcow2\", \"file\": {\"driver\": \"file\", \"filename\": "
                                "\"%s/base.qcow2\"}}}", s);
    CHECK(write_qcow(s, "evil.qcow2", 3, json_ok, 0, NULL));
    CHECK_SCAN(s, "");
    free(json_ok);
    /* the null drivers' one file name is allowed; anything more is a protocol */
    CHECK(write_qcow(s, "evil.qcow2", 3, "null-co://", 0, NULL));
    CHECK_SCAN(s, "");
    CHECK(write_qcow(s, "evil.qcow2", 3, "null-aio://", 0, NULL));
    CHECK_SCAN(s, "");
    CHECK(write_qcow(s, "evil.qcow2", 3, "null-co:///etc/passwd", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file 'null-co:///etc/passwd', which has "
                  "a protocol prefix");
    CHECK(write_qcow(s, "evil.qcow2", 1, "/etc/shadow", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing file '/etc/shadow', outside the scratch "
                  "directory");
    CHECK(write_qcow(s, "evil.qcow2", 3, NULL, 0x44415441u, "/etc/passwd"));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names external data file '/etc/passwd', outside the "
                  "scratch directory");
    CHECK(write_qcow(s, "evil.qcow2", 3, "base.qcow2", 0xE2792ACAu, "vmdk"));
    CHECK_SCAN(s, "image '$DIR/evil.qcow2' names backing format 'vmdk', which is not an allowed "
                  "driver");
    unlink(at(s, "evil.qcow2"));

    /* relative names are relative to the image's directory */
    CHECK(mkdir(at(s, "sub"), 0755) == 0);
    CHECK(write_qcow(s, "sub/up.qcow2", 3, "../base.qcow2", 0, NULL));
    CHECK_SCAN(s, "");
    CHECK(write_qcow(s, "sub/up.qcow2", 3, "../../base.qcow2", 0, NULL));
    CHECK_SCAN(s, "image '$DIR/sub/up.qcow2' names backing file '../../base.qcow2', outside the "
                  "scratch directory");
    remove_scratch(s);
}

static void test_confine_scan_refuses_formats_that_name_files(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    static const char vmdk[] = "# Disk DescriptorFile\n  \nversion=1\nCID=fffffffe\n"
                               "RW 2048 FLAT \"/etc/passwd\" 0\n";
    CHECK(write_at(s, "d.vmdk", vmdk, sizeof(vmdk) - 1, 0));
    CHECK_SCAN(s, "'$DIR/d.vmdk' is a vmdk image, a format that names other files; only qcow2 "
                  "and raw images are allowed");
    unlink(at(s, "d.vmdk"));
    CHECK(write_at(s, "s.vmdk", "KDMV\1\0\0\0", 8, 0));
    CHECK_SCAN(s, "'$DIR/s.vmdk' is a vmdk image, a format that names other files; only qcow2 "
                  "and raw images are allowed");
    unlink(at(s, "s.vmdk"));
    CHECK(write_at(s, "q.qed", "QED\0\0\0\1\0", 8, 0));
    CHECK_SCAN(s, "'$DIR/q.qed' is a qed image, a format that names other files; only qcow2 and "
                  "raw images are allowed");
    unlink(at(s, "q.qed"));
    /* text that is not a descriptor is only data */
    static const char text[] = "# comment\nread 512/512 bytes at offset 0\nversion=1\n";
    CHECK(write_at(s, "vm.log", text, sizeof(text) - 1, 0));
    CHECK_SCAN(s, "");
    remove_scratch(s);
}

static void test_confine_scan_refuses_planted_files(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK(write_at(s, "a", "x", 1, 0));
    char *a = path_in(s, "a"), *b = path_in(s, "b"), *fifo = path_in(s, "fifo");
    CHECK(link(a, b) == 0);
    CHECK_SCAN(s, "'$DIR/a' has 2 hard links; files in the scratch directory may have only one");
    unlink(b);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_SCAN(s, "'$DIR/fifo' is not a regular file or directory");
    unlink(fifo);
    CHECK(symlink("a", b) == 0);     /* a link inside is fine */
    CHECK_SCAN(s, "");
    free(a);
    free(b);
    free(fifo);
    remove_scratch(s);
}

static void test_confine_scan_enforces_limits(void)
{
    char *s = make_scratch();
    CHECK(s != NULL);
    if (!s)
        return;
    for (int i = 0; i <= BG_MAX_SCRATCH_FILES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%04d", i);
        CHECK(write_at(s, name, "", 0, 0));
    }
    char want[128];
    snprintf(want, sizeof(want), "the scratch directory holds more than %d files",
             BG_MAX_SCRATCH_FILES);
    CHECK_SCAN(s, want);
    unlink(at(s, "f0000"));
    CHECK_SCAN(s, "");
    remove_scratch(s);

    s = make_scratch();
    if (!s)
        return;
    BgBuf p = {0};
    bg_buf_puts(&p, s);
    for (int i = 0; i <= BG_MAX_SCRATCH_DEPTH + 1; i++) {
        bg_buf_puts(&p, "/d");
        CHECK(mkdir(p.data, 0755) == 0);
    }
    bg_buf_cleanup(&p);
    snprintf(want, sizeof(want), "the scratch directory is nested deeper than %d levels",
             BG_MAX_SCRATCH_DEPTH);
    CHECK_SCAN(s, want);
    remove_scratch(s);

    s = make_scratch();
    if (!s)
        return;
    char *big = path_in(s, "big.img");
    int fd = open(big, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0 && posix_fallocate(fd, 0, (off_t)BG_MAX_SCRATCH_BYTES + (1 << 20)) == 0) {
        char *got = step_err(s, "{}");
        CHECK(strncmp(got, "the scratch directory uses ", 27) == 0);
        CHECK(strstr(got, "bytes, above the limit of 2147483648") != NULL);
        free(got);
    } else {
        fprintf(stderr, "  (disk-use limit not tested: cannot allocate %llu bytes here)\n",
                BG_MAX_SCRATCH_BYTES);
    }
    if (fd >= 0)
        close(fd);
    free(big);
    remove_scratch(s);
}

static void test_confine_step_needs_a_scratch_directory(void)
{
    BgError err = {0};
    json_t *cmd = json_pack("{s:{}}", "shutdown");
    CHECK(!bg_confine_step("/nonexistent/bg-scratch", BG_STEP_SHUTDOWN, cmd, &err));
    CHECK_STR_EQ(err.text, "cannot resolve the scratch directory '/nonexistent/bg-scratch': "
                           "No such file or directory");
    json_decref(cmd);
}

BG_SUITE(confine) = {
    { "name_accepts_names_inside", test_confine_name_accepts_names_inside },
    { "name_refuses_escapes", test_confine_name_refuses_escapes },
    { "step_accepts_names_inside", test_confine_step_accepts_names_inside },
    { "step_refuses_escapes", test_confine_step_refuses_escapes },
    { "step_refuses_symlinks_out", test_confine_step_refuses_symlinks_out },
    { "scan_refuses_crafted_qcow2_headers", test_confine_scan_refuses_crafted_qcow2_headers },
    { "scan_refuses_formats_that_name_files", test_confine_scan_refuses_formats_that_name_files },
    { "scan_refuses_planted_files", test_confine_scan_refuses_planted_files },
    { "scan_enforces_limits", test_confine_scan_enforces_limits },
    { "step_needs_a_scratch_directory", test_confine_step_needs_a_scratch_directory },
    { NULL, NULL }
};
