/*
 * qemuio.c: the qemu-io command interpreter (see qemuio.h).
 *
 * Mirrors QEMU 7.2 qemu-io-cmds.c (read_f, qemuio_rw_write_f, qemuio_rw_readv_f, writev_f,
 * discard_f, flush_f, aio_flush_f, length_f, info_f, map_f, alloc_f,
 * quit_f, command(), qemuio_command(), breakline(), cvtnum(), cvtstr(),
 * timestr(), qemuio_print_report(), qemuio_dump_buffer(), parse_pattern(),
 * create_iovec()) and qemu-io.c main() for the offline tool.  Requests go
 * through the BlockBackend checks (blk_check_byte_request: EIO outside the
 * device) and then bdrv_*() on the node.
 */
#include "qemuio.h"
#include "qemuio_cmds.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "opts.h"

/* The engine's deterministic elapsed time of one command (see qemuio.h). */
static const double COMMAND_SECONDS = 0.000001;

typedef struct Cmd {
    const char *name;
    const char *altname;
    int argmin, argmax;       /* operands and options after the name; -1: no maximum */
    const char *args;         /* usage synopsis */
    const char *oneline;
    int (*fn)(QemuIoContext *ctx, int argc, char **argv);
    bool writes;              /* needs BLK_PERM_WRITE (cmdinfo_t.perm) */
} Cmd;

/* ---- formatting helpers ------------------------------------------------------- */

int64_t qemuio_cvtnum(const char *s, bool *hex_suffix)
{
    uint64_t value;
    int err = opts_strtosz(s, 'B', &value, hex_suffix);
    if (err < 0)
        return err;
    if (value > INT64_MAX)
        return -ERANGE;
    return (int64_t)value;
}

void qemuio_cvtstr(double value, char *str, size_t size)
{
    static const struct { int shift; const char *suffix; } units[] = {
        { 60, " EiB" }, { 50, " PiB" }, { 40, " TiB" }, { 30, " GiB" }, { 20, " MiB" },
        { 10, " KiB" },
    };
    const char *suffix = " bytes";
    bool done = false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !done; i++) {
        double unit = (double)(1ll << units[i].shift);
        if (value >= unit) {
            suffix = units[i].suffix;
            snprintf(str, size - 4, "%.3f", value / unit);
            done = true;
        }
    }
    if (!done)
        snprintf(str, size - 6, "%f", value);
    char *trim = strstr(str, ".000");
    if (trim)
        strcpy(trim, suffix);
    else
        strcat(str, suffix);
}

/* timestr(): "00.00 sec", or "H:MM:SS.ss" for -C (VERBOSE_FIXED_TIME). */
static void timestr(double secs, char *ts, size_t size, bool verbose)
{
    unsigned sec = (unsigned)secs;
    double frac = secs - sec;
    if (verbose || sec)
        snprintf(ts, size, "%u:%02u:%05.2f", sec / 3600, (sec % 3600) / 60, sec % 60 + frac);
    else
        snprintf(ts, size, "%05.2f sec", frac);
}

void qemuio_print_report(QemuIoContext *ctx, const char *op, int64_t offset, int64_t count,
                         int64_t total, int cnt, bool Cflag)
{
    char s1[64], s2[64], ts[64];
    double t = COMMAND_SECONDS;
    timestr(t, ts, sizeof(ts), Cflag);
    if (!Cflag) {
        qemuio_cvtstr((double)total, s1, sizeof(s1));
        qemuio_cvtstr((double)total / t, s2, sizeof(s2));
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_REPORT "\n", op, total, count, offset);
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_TIMING "\n", s1, cnt, ts, s2, (double)cnt / t);
    } else {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_REPORT_CSV "\n", total, cnt, ts,
                      (double)total / t, (double)cnt / t);
    }
}

void qemuio_dump_buffer(QemuIoContext *ctx, const uint8_t *p, int64_t offset, int64_t len)
{
    for (int64_t i = 0; i < len; i += 16) {
        bg_buf_printf(ctx->out, "%08" PRIx64 ":  ", (uint64_t)(offset + i));
        for (int j = 0; j < 16 && i + j < len; j++)
            bg_buf_printf(ctx->out, "%02x ", p[i + j]);
        bg_buf_puts(ctx->out, " ");
        for (int j = 0; j < 16 && i + j < len; j++)
            bg_buf_append(ctx->out, isalnum(p[i + j]) ? (const char *)&p[i + j] : ".", 1);
        bg_buf_puts(ctx->out, "\n");
    }
}

void qemuio_print_cvtnum_err(QemuIoContext *ctx, int64_t rc, const char *arg)
{
    if (rc == -EINVAL)
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PARSE_EINVAL "\n", arg);
    else if (rc == -ERANGE)
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PARSE_ERANGE "\n", arg);
    else
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PARSE_OTHER "\n", arg);
}

int64_t qemuio_cvtnum_arg(QemuIoContext *ctx, const char *s)
{
    bool hex_suffix = false;
    int64_t v = qemuio_cvtnum(s, &hex_suffix);
    if (v >= 0 && hex_suffix)
        bg_buf_printf(ctx->report, "%swarning: " BG_MSG_QEMUIO_HEX_SUFFIX "\n",
                      ctx->report_prefix, s);
    return v;
}

int qemuio_parse_pattern(QemuIoContext *ctx, const char *arg)
{
    char *end;
    long pattern = strtol(arg, &end, 0);
    if (pattern < 0 || pattern > UCHAR_MAX || *end != '\0') {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_BAD_PATTERN "\n", arg);
        return -1;
    }
    return (int)pattern;
}

/* ---- GNU getopt over one command's argv ------------------------------------------ */


/* Options may come anywhere (GNU permutation); "--" ends them. false: bad option. */
bool qemuio_getopt(QemuIoContext *ctx, int argc, char **argv, const char *optstring,
                       Getopt *g)
{
    g->noperands = g->nopts = 0;
    bool only_operands = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_operands || a[0] != '-' || a[1] == '\0') {
            g->operands[g->noperands++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_operands = true;
            continue;
        }
        for (char *p = a + 1; *p; p++) {
            const char *o = strchr(optstring, *p);
            if (!o || *p == ':') {
                bg_buf_printf(ctx->err, BG_MSG_QEMUIO_GETOPT_INVALID "\n", argv[0], *p);
                return false;
            }
            g->opts[g->nopts].c = *p;
            g->opts[g->nopts].arg = NULL;
            if (o[1] == ':') {
                if (p[1]) {
                    g->opts[g->nopts].arg = p + 1;
                } else if (i + 1 < argc) {
                    g->opts[g->nopts].arg = argv[++i];
                } else {
                    bg_buf_printf(ctx->err, BG_MSG_QEMUIO_GETOPT_NEEDS_ARG "\n",
                                  argv[0], *p);
                    return false;
                }
                g->nopts++;
                break;
            }
            g->nopts++;
        }
    }
    return true;
}

static const Cmd *find_command(const char *name);

int qemuio_usage(QemuIoContext *ctx, const char *name)
{
    const Cmd *c = find_command(name);
    bg_buf_printf(ctx->out, BG_MSG_QEMUIO_USAGE "\n", c->name, c->args, c->oneline);
    return -EINVAL;
}

/* ---- other commands ------------------------------------------------------------ */

static int flush_f(QemuIoContext *ctx, int argc, char **argv)
{
    return bdrv_flush(ctx->bs);
}

static int aio_flush_f(QemuIoContext *ctx, int argc, char **argv)
{
    return 0;   /* blk_drain_all(): nothing is in flight here */
}

static int length_f(QemuIoContext *ctx, int argc, char **argv)
{
    char s1[64];
    int64_t size = bdrv_getlength(ctx->bs);
    if (size < 0) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_GETLENGTH "\n", strerror((int)-size));
        return (int)size;
    }
    qemuio_cvtstr((double)size, s1, sizeof(s1));
    bg_buf_printf(ctx->out, "%s\n", s1);
    return 0;
}

static int info_f(QemuIoContext *ctx, int argc, char **argv)
{
    RealBlockState *bs = ctx->bs;
    RealDriverInfo bdi;
    char s1[64], s2[64];
    if (bs->drv && bs->drv->format_name)
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_INFO_FORMAT "\n", bs->drv->format_name);
    if (bs->drv && bs->drv->protocol_name)
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_INFO_FORMAT "\n", bs->drv->protocol_name);
    int ret = bdrv_get_info(bs, &bdi);
    if (ret)
        return ret;
    qemuio_cvtstr(bdi.cluster_size, s1, sizeof(s1));
    qemuio_cvtstr((double)bdi.vm_state_offset, s2, sizeof(s2));
    bg_buf_printf(ctx->out, BG_MSG_QEMUIO_INFO_CLUSTER "\n" BG_MSG_QEMUIO_INFO_VMSTATE "\n", s1, s2);
    json_t *spec = bdrv_get_specific_info(bs);
    if (spec) {
        json_t *d = json_object_get(spec, "data");
        bg_buf_puts(ctx->out, BG_MSG_QEMUIO_INFO_SPECIFIC "\n");
        /* bdrv_image_info_specific_dump() for qcow2, in QEMU's key order,
         * with qemu_printf() (ctx->qemu_print) */
        BgBuf *pr = ctx->qemu_print;
#define LABEL(KEY, TEXT) { KEY, TEXT },
        static const char *const keys[][2] = { BG_QCOW2_SPECIFIC_LABELS(LABEL) };
#undef LABEL
        for (size_t i = 0; pr && i < sizeof(keys) / sizeof(keys[0]); i++) {
            json_t *v = json_object_get(d, keys[i][0]);
            if (json_is_string(v))
                bg_buf_printf(pr, "    %s: %s\n", keys[i][1], json_string_value(v));
            else if (json_is_boolean(v))
                bg_buf_printf(pr, "    %s: %s\n", keys[i][1],
                              json_is_true(v) ? "true" : "false");
            else if (json_is_integer(v))
                bg_buf_printf(pr, "    %s: %" JSON_INTEGER_FORMAT "\n", keys[i][1],
                              json_integer_value(v));
            else if (!strcmp(keys[i][0], "compression-type"))
                bg_buf_printf(pr, "    %s: zlib\n", keys[i][1]);
        }
        json_decref(spec);
    }
    return 0;
}

/* map_is_allocated(): merge runs with the same allocation status. */
static int map_is_allocated(RealBlockState *bs, int64_t offset, int64_t bytes, int64_t *pnum)
{
    int64_t num;
    int ret = bdrv_is_allocated(bs, offset, bytes, &num);
    if (ret < 0)
        return ret;
    int firstret = ret;
    *pnum = num;
    while (bytes > 0 && ret == firstret) {
        offset += num;
        bytes -= num;
        ret = bdrv_is_allocated(bs, offset, bytes, &num);
        if (ret == firstret && num)
            *pnum += num;
        else
            break;
    }
    return firstret;
}

static int map_f(QemuIoContext *ctx, int argc, char **argv)
{
    char s1[64], s2[64];
    int64_t offset = 0, num;
    int64_t bytes = bdrv_getlength(ctx->bs);
    if (bytes < 0) {
        bg_buf_printf(ctx->report, "%s" BG_MSG_QEMUIO_MAP_LENGTH "\n", ctx->report_prefix,
                      strerror((int)-bytes));
        return (int)bytes;
    }
    while (bytes) {
        int ret = map_is_allocated(ctx->bs, offset, bytes, &num);
        if (ret < 0) {
            bg_buf_printf(ctx->report, "%s" BG_MSG_QEMUIO_MAP_STATUS "\n",
                          ctx->report_prefix, strerror(-ret));
            return ret;
        }
        if (!num) {
            bg_buf_printf(ctx->report, "%s" BG_MSG_QEMUIO_MAP_END "\n", ctx->report_prefix);
            return -EIO;
        }
        qemuio_cvtstr((double)num, s1, sizeof(s1));
        qemuio_cvtstr((double)offset, s2, sizeof(s2));
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_MAP_LINE "\n", s1,
                      (uint64_t)num, ret ? "    allocated" : "not allocated", s2,
                      (uint64_t)offset);
        offset += num;
        bytes -= num;
    }
    return 0;
}

static int alloc_f(QemuIoContext *ctx, int argc, char **argv)
{
    char s1[64];
    int64_t start = qemuio_cvtnum_arg(ctx, argv[1]), count = BDRV_SECTOR_SIZE, num, sum_alloc = 0;
    if (start < 0) {
        qemuio_print_cvtnum_err(ctx, start, argv[1]);
        return (int)start;
    }
    if (argc == 3) {
        count = qemuio_cvtnum_arg(ctx, argv[2]);
        if (count < 0) {
            qemuio_print_cvtnum_err(ctx, count, argv[2]);
            return (int)count;
        }
    }
    int64_t offset = start, remaining = count;
    while (remaining) {
        int ret = bdrv_is_allocated(ctx->bs, offset, remaining, &num);
        if (ret < 0) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_IS_ALLOCATED "\n", strerror(-ret));
            return ret;
        }
        offset += num;
        remaining -= num;
        if (ret)
            sum_alloc += num;
        if (num == 0) {
            count -= remaining;
            remaining = 0;
        }
    }
    qemuio_cvtstr((double)start, s1, sizeof(s1));
    bg_buf_printf(ctx->out, BG_MSG_QEMUIO_ALLOC_LINE "\n", sum_alloc, count, s1);
    return 0;
}

static int quit_f(QemuIoContext *ctx, int argc, char **argv)
{
    ctx->quit = true;
    return 0;
}

static const Cmd commands[] = {
    { "read", "r", 2, -1, "[-abCqv] [-P pattern [-s off] [-l len]] off len",
      "reads a number of bytes at a specified offset", qemuio_rw_read_f, false },
    { "write", "w", 2, -1, "[-bcCfnquz] [-P pattern | -s source_file] off len",
      "writes a number of bytes at a specified offset", qemuio_rw_write_f, true },
    { "readv", NULL, 2, -1, "[-Cqv] [-P pattern] off len [len..]",
      "reads a number of bytes at a specified offset", qemuio_rw_readv_f, false },
    { "writev", NULL, 2, -1, "[-Cfq] [-P pattern] off len [len..]",
      "writes a number of bytes at a specified offset", qemuio_rw_writev_f, true },
    { "discard", "d", 2, -1, "[-Cq] off len", "discards a number of bytes at a specified offset",
      qemuio_rw_discard_f, true },
    { "flush", "f", 0, 0, "", "flush all in-core file state to disk", flush_f, false },
    { "aio_flush", NULL, 0, 0, "", "completes all outstanding aio requests", aio_flush_f,
      false },
    { "length", "l", 0, 0, "", "gets the length of the current file", length_f, false },
    { "info", "i", 0, 0, "", "prints information about the current file", info_f, false },
    { "map", NULL, 0, 0, "", "prints the allocated areas of a file", map_f, false },
    { "alloc", "a", 1, 2, "offset [count]", "checks if offset is allocated in the file",
      alloc_f, false },
    { "quit", "q", 0, 0, "", "exit the program", quit_f, false },
};

/* qemu-io commands this engine does not implement (reported as unsupported). */
static const char *const other_commands[] = {
    "abort", "aio_read", "aio_write", "break", "close", "help", "open", "remove_break",
    "reopen", "resume", "sigraise", "sleep", "truncate", "wait_break", "?", "o", "c", "t", NULL
};

static const Cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name) ||
            (commands[i].altname && !strcmp(commands[i].altname, name)))
            return &commands[i];
    return NULL;
}

int qemuio_command(QemuIoContext *ctx, const char *cmdline)
{
    char *input = real_strdup(cmdline);
    char *argv[MAX_ARGS + 1];
    int argc = 0, ret = 0;
    if (!input)
        return -ENOMEM;
    /* breakline(): split on single spaces, skipping empty tokens. */
    for (char *p = input, *tok; (tok = strsep(&p, " ")) != NULL;) {
        if (!*tok)
            continue;
        if (argc == MAX_ARGS) {
            real_free(input);
            return QEMUIO_UNSUPPORTED;
        }
        argv[argc++] = tok;
    }
    argv[argc] = NULL;
    if (argc == 0)
        goto out;
    const Cmd *c = find_command(argv[0]);
    if (!c) {
        for (const char *const *o = other_commands; *o; o++)
            if (!strcmp(*o, argv[0])) {
                ret = QEMUIO_UNSUPPORTED;
                goto out;
            }
        bg_buf_printf(ctx->err, BG_MSG_QEMUIO_NOT_FOUND "\n", argv[0]);
        ret = -EINVAL;
        goto out;
    }
    if (argc - 1 < c->argmin || (c->argmax != -1 && argc - 1 > c->argmax)) {
        if (c->argmax == -1)
            bg_buf_printf(ctx->err, BG_MSG_QEMUIO_ARGC_MIN "\n", argc - 1, argv[0], c->argmin);
        else if (c->argmin == c->argmax)
            bg_buf_printf(ctx->err, BG_MSG_QEMUIO_ARGC_EXACT "\n", argc - 1, argv[0], c->argmin);
        else
            bg_buf_printf(ctx->err, BG_MSG_QEMUIO_ARGC_RANGE "\n", argc - 1, argv[0], c->argmin,
                          c->argmax);
        ret = -EINVAL;
        goto out;
    }
    if (c->writes) {
        BgError e = { 0 };
        bool ok = ctx->take_write_perm ? ctx->take_write_perm(ctx->opaque, ctx->bs, &e)
                                       : (ctx->bs->read_only
                                              ? bg_error_setf(&e, BG_MSG_NODE_READ_ONLY)
                                              : true);
        if (!ok) {
            bg_buf_printf(ctx->report, "%s%s\n", ctx->report_prefix, e.text);
            ret = -EPERM;
            goto out;
        }
    }
    ret = c->fn(ctx, argc, argv);
out:
    real_free(input);
    return ret;
}

int qemuio_offline(const char *dir, const char *fmt, const char *filename,
                   const char *const *cmds, int ncmds, const ImgOpenOptions *o, BgBuf *out,
                   BgBuf *err)
{
    BgError e = { 0 };
    RealImage *img = img_open(dir, filename, fmt, o, &e);
    if (!img) {
        /* the text carries the lock hint, if any, on its second line */
        bg_buf_printf(err, "qemu-io: " BG_MSG_QEMUIO_CANT_OPEN "\n", filename, e.text);
        return 1;
    }
    QemuIoContext ctx = { .bs = img_bs(img), .out = out, .err = err, .report = err,
                          .report_prefix = "qemu-io: ", .qemu_print = out };
    int last_error = 0;
    for (int i = 0; i < ncmds && !ctx.quit; i++) {
        int ret = qemuio_command(&ctx, cmds[i]);
        if (ret == QEMUIO_UNSUPPORTED) {
            img_close(img);
            return QEMUIO_UNSUPPORTED;
        }
        if (ret < 0)
            last_error = ret;
    }
    img_close(img);
    return last_error < 0 ? 1 : 0;
}
