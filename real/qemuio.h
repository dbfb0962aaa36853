/*
 * qemuio.h: the qemu-io command interpreter, on an open node or offline.
 *
 * What this is: QEMU 7.2 qemu-io-cmds.c for the commands streams use:
 * read, write (-P, -z, -u, -c, -f, -n, -q, -C, -v), readv, writev,
 * discard, flush, aio_flush, length, info, map, alloc, quit; command lines
 * split on spaces (breakline), GNU getopt option handling (options may
 * follow operands, "-5" is an option), cvtnum (qemu_strtosz: k/M/G...
 * suffixes, 0x hex), and every text qemu-io prints: "read N/N bytes at
 * offset O", "Pattern verification failed at offset N, M bytes", "write
 * failed: Input/output error", usage lines, argument errors.  qemuio_offline()
 * is the `qemu-io -f FMT -c CMD ... FILE` process: open (with
 * "qemu-io: can't open device FILE: ..."), run, close, exit status.
 * What it is not: aio_read/aio_write, open/reopen/close, breakpoints,
 * sleep, vmstate (-b) or -s source files: those answer
 * QEMUIO_UNSUPPORTED so a backend can skip the step.  The timing line is
 * deterministic (a fixed 1 us per command): the comparator normalises it
 * and the engine reads no clock.
 */
#ifndef REAL_QEMUIO_H
#define REAL_QEMUIO_H

#include "bg.h"
#include "driver.h"
#include "img.h"

/* Returned by qemuio_command() for a command the engine does not implement. */
#define QEMUIO_UNSUPPORTED (-10000)

typedef struct QemuIoContext {
    RealBlockState *bs;       /* the node the BlockBackend is attached to */
    BgBuf *out;               /* what qemu-io prints with printf (stdout) */
    BgBuf *err;               /* what it prints with fprintf(stderr) */
    BgBuf *report;            /* error_report() lines; offline: stderr with "qemu-io: " */
    const char *report_prefix;/* "qemu-io: " offline, "" under HMP */
    BgBuf *qemu_print;        /* where qemu_printf() goes: offline stdout (out); under
                               * HMP the monitor, like error_report() (report), not
                               * the VM's stdout where qemu-io's printf() goes (seen
                               * on QEMU 7.2: "info"'s format specific lines are in
                               * human-monitor-command's return); NULL: dropped */
    /*
     * Called before a command that needs write permission (qemu-io
     * command(): blk_set_perm() adding BLK_PERM_WRITE).  NULL: refuse on a
     * read-only node with "Block node is read-only".  Returns false with err
     * set to the text to report.
     */
    bool (*take_write_perm)(void *opaque, RealBlockState *bs, BgError *err);
    void *opaque;
    bool quit;                /* set by "quit": later commands are not run */
} QemuIoContext;

/*
 * Run one command line.  Returns 0, a negative errno (the command failed:
 * qemu-io's exit status becomes 1), or QEMUIO_UNSUPPORTED (nothing printed).
 */
int qemuio_command(QemuIoContext *ctx, const char *cmdline);

/*
 * qemu-io -f FMT [-r] [-t none] [-U] -c CMD... FILE, relative to DIR.
 * Returns the exit status (0 or 1), or QEMUIO_UNSUPPORTED when a command is
 * not implemented (output so far is discarded by the caller).
 */
int qemuio_offline(const char *dir, const char *fmt, const char *filename,
                   const char *const *cmds, int ncmds, const ImgOpenOptions *o, BgBuf *out,
                   BgBuf *err);

/* qemu-io's cvtnum(): 0..INT64_MAX, or -EINVAL / -ERANGE. */
int64_t qemuio_cvtnum(const char *s, bool *hex_suffix);
/* qemu-io's cvtstr(): "1 MiB", "1.500 KiB", "1000 bytes". */
void qemuio_cvtstr(double value, char *str, size_t size);

#endif
