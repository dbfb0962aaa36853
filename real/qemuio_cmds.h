/*
 * qemuio_cmds.h: what qemuio.c shares with the command files (qemuio_rw.c):
 * argument parsing and report helpers with qemu-io's exact output.
 * Real-internal; the graph layer uses qemuio.h.
 */
#ifndef REAL_QEMUIO_CMDS_H
#define REAL_QEMUIO_CMDS_H

#include "qemuio.h"

#define MAX_ARGS 64

/* A command's argv after GNU getopt: options in order, operands in order. */
typedef struct Getopt {
    char *operands[MAX_ARGS];
    int noperands;
    struct { char c; char *arg; } opts[MAX_ARGS];
    int nopts;
} Getopt;

/* GNU getopt with permutation over argv[1..]; false after printing glibc's error. */
bool qemuio_getopt(QemuIoContext *ctx, int argc, char **argv, const char *optstring, Getopt *g);
/* qemuio_command_usage() on stdout; returns -EINVAL. */
int qemuio_usage(QemuIoContext *ctx, const char *name);
/* cvtnum() of an argument, with do_strtosz()'s hex-suffix warning on the report stream. */
int64_t qemuio_cvtnum_arg(QemuIoContext *ctx, const char *s);
void qemuio_print_cvtnum_err(QemuIoContext *ctx, int64_t rc, const char *arg);
/* parse_pattern(): 0..255, or -1 after printing the error. */
int qemuio_parse_pattern(QemuIoContext *ctx, const char *arg);
void qemuio_print_report(QemuIoContext *ctx, const char *op, int64_t offset, int64_t count,
                         int64_t total, int cnt, bool Cflag);
void qemuio_dump_buffer(QemuIoContext *ctx, const uint8_t *p, int64_t offset, int64_t len);

int qemuio_rw_read_f(QemuIoContext *ctx, int argc, char **argv);
int qemuio_rw_write_f(QemuIoContext *ctx, int argc, char **argv);
int qemuio_rw_readv_f(QemuIoContext *ctx, int argc, char **argv);
int qemuio_rw_writev_f(QemuIoContext *ctx, int argc, char **argv);
int qemuio_rw_discard_f(QemuIoContext *ctx, int argc, char **argv);

#endif
