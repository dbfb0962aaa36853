/*
 * test_real_util.h: helpers shared by the tests of the engine's storage
 * layer (tests/unit/test_real_*.c): a scratch directory under /var/tmp,
 * running QEMU's tools (fork/exec, stdout and stderr captured separately),
 * the engine's offline qemu-io and qemu-img create with the same arguments,
 * byte comparison of images and qemu-io output normalisation.
 * Static functions in a header: each test file gets its own copy.
 */
#ifndef TEST_REAL_UTIL_H
#define TEST_REAL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bg.h"
#include "harness.h"
#include "../../real/img.h"
#include "../../real/qemuio.h"

/* A fresh scratch directory (owned string); NULL if it cannot be made. */
static inline char *tr_mkdtemp(void)
{
    char *d = bg_strdup("/var/tmp/bgraph-real.XXXXXX");
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

/* Run ARGV in DIR; stdout/stderr into *out / *err (owned, may be NULL). */
static inline int tr_runv(const char *dir, char **out, char **err, char *const argv[])
{
    int po[2], pe[2];
    if (pipe(po) || pipe(pe))
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(pe[0]);
        if (dir && chdir(dir))
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    BgBuf bo = { 0 }, be = { 0 };
    struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
    int open_fds = 2;
    while (open_fds) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                bg_buf_append(i ? &be : &bo, buf, (size_t)n);
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (out)
        *out = bg_buf_take(&bo);
    else
        bg_buf_cleanup(&bo);
    if (err)
        *err = bg_buf_take(&be);
    else
        bg_buf_cleanup(&be);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* tr_run(dir, &out, &err, "qemu-img", "check", "x.img", NULL) */
static inline int tr_run(const char *dir, char **out, char **err, ...)
{
    char *argv[64];
    int n = 0;
    va_list ap;
    va_start(ap, err);
    while (n < 63 && (argv[n] = va_arg(ap, char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    return tr_runv(dir, out, err, argv);
}

static inline void tr_rmdir(char *dir)
{
    if (dir && !strncmp(dir, "/var/tmp/bgraph-real.", 21))
        tr_run(NULL, NULL, NULL, "rm", "-rf", dir, (char *)NULL);
    free(dir);
}

/* The real qemu-io: qemu-io -f FMT -c CMD... FILE (in DIR). */
static inline int tr_qemu_io(const char *dir, const char *fmt, const char *file, char **out,
                      char **err, const char *const *cmds, int n)
{
    char *argv[2 * 64 + 8];
    int k = 0;
    argv[k++] = "qemu-io";
    argv[k++] = "-f";
    argv[k++] = (char *)fmt;
    for (int i = 0; i < n && i < 64; i++) {
        argv[k++] = "-c";
        argv[k++] = (char *)cmds[i];
    }
    argv[k++] = (char *)file;
    argv[k] = NULL;
    return tr_runv(dir, out, err, argv);
}

/* The engine's qemu-io, same arguments. */
static inline int tr_engine_io(const char *dir, const char *fmt, const char *file, char **out,
                        char **err, const char *const *cmds, int n)
{
    BgBuf bo = { 0 }, be = { 0 };
    ImgOpenOptions o = { 0 };
    int rc = qemuio_offline(dir, fmt, file, cmds, n, &o, &bo, &be);
    if (out)
        *out = bg_buf_take(&bo);
    else
        bg_buf_cleanup(&bo);
    if (err)
        *err = bg_buf_take(&be);
    else
        bg_buf_cleanup(&be);
    return rc;
}

/* The engine's qemu-img create. */
static inline int tr_engine_create(const char *dir, const char *fmt, const char *file, const char *size,
                            const char *backing, const char *bfmt, char **out, char **err)
{
    BgBuf bo = { 0 }, be = { 0 };
    int rc = img_create(dir, fmt, file, size, backing, bfmt, &bo, &be);
    if (out)
        *out = bg_buf_take(&bo);
    else
        bg_buf_cleanup(&bo);
    if (err)
        *err = bg_buf_take(&be);
    else
        bg_buf_cleanup(&be);
    return rc;
}

/* Whole file contents (owned), length in *len; NULL if unreadable. */
static inline uint8_t *tr_slurp(const char *dir, const char *file, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    BgBuf b = { 0 };
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        bg_buf_append(&b, buf, n);
    fclose(f);
    *len = b.len;
    return (uint8_t *)bg_buf_take(&b);
}

/* Byte-identical files (cmp). */
static inline bool tr_same_bytes(const char *dir1, const char *f1, const char *dir2, const char *f2)
{
    size_t l1 = 0, l2 = 0;
    uint8_t *a = tr_slurp(dir1, f1, &l1), *b = tr_slurp(dir2, f2, &l2);
    bool same = a && b && l1 == l2 && !memcmp(a, b, l1);
    free(a);
    free(b);
    return same;
}

static inline uint64_t tr_be64_at(const char *dir, const char *file, size_t off)
{
    size_t len = 0;
    uint8_t *a = tr_slurp(dir, file, &len);
    uint64_t v = 0;
    if (a && off + 8 <= len)
        for (int i = 0; i < 8; i++)
            v = v << 8 | a[off + (size_t)i];
    free(a);
    return v;
}

/* qemu-io's timing lines reduced to "X ops; T" (the comparator's normalisation). */
static inline char *tr_norm(const char *s)
{
    BgBuf b = { 0 };
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) + 1 : strlen(s);
        const char *ops = strstr(s, " ops; ");
        if (ops && ops < s + len) {
            const char *num = ops;
            while (num > s && num[-1] >= '0' && num[-1] <= '9')
                num--;
            bg_buf_append(&b, s, (size_t)(num - s));
            bg_buf_puts(&b, "X ops; T\n");
        } else {
            bg_buf_append(&b, s, len);
        }
        s += len;
    }
    return bg_buf_take(&b);
}

#define CHECK_SAME_OUTPUT(a, b) do { \
        char *na_ = tr_norm(a), *nb_ = tr_norm(b); \
        CHECK_STR_EQ(na_, nb_); \
        free(na_); \
        free(nb_); \
    } while (0)

#endif
