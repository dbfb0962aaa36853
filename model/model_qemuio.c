/*
 * model_qemuio.c: qemu-io's commands on a node: the HMP `qemu-io NODE "CMD"`
 * command and the offline `io` step (qemu-io -f FMT -c CMD... FILE).
 *
 * What this is: qemu-io's parsing (options, sizes with suffixes, patterns),
 * its checks and output lines for read, readv, write, writev, discard and
 * flush; the temporary BlockBackend of hmp_qemu_io(), which asks for WRITE
 * for the commands that write (a refusal goes to the monitor, "\r\n"
 * terminated); the request bounds of the BlockBackend (EIO beyond the
 * end); exit status 1 for an offline command that failed.  The requests
 * themselves go through the data path (model_io.c).
 * What it is not: the other qemu-io commands, -v dumps, CSV output, -s/-l
 * pattern ranges, or timing (the runner normalises the timing line).
 *
 * Mirrors QEMU 7.2.0 qemu-io-cmds.c (command(), read_f(), readv_f(),
 * write_f(), writev_f(), discard_f(), flush_f(), create_iovec(),
 * print_report(), cvtstr(), cvtnum(), parse_pattern(), qemuio_command()),
 * qemu-io.c (exit status), block/monitor/block-hmp-cmds.c hmp_qemu_io(),
 * monitor/hmp.c get_str(), block/block-backend.c blk_check_byte_request().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "messages.h"
#include "model.h"

/* qemu-io-cmds.c cvtstr() */
static void cvtstr(double value, char *str, size_t size)
{
    const char *suffix;
    if (value >= 1152921504606846976.0) {
        suffix = " EiB";
        snprintf(str, size - 4, "%.3f", value / 1152921504606846976.0);
    } else if (value >= 1125899906842624.0) {
        suffix = " PiB";
        snprintf(str, size - 4, "%.3f", value / 1125899906842624.0);
    } else if (value >= 1099511627776.0) {
        suffix = " TiB";
        snprintf(str, size - 4, "%.3f", value / 1099511627776.0);
    } else if (value >= 1073741824.0) {
        suffix = " GiB";
        snprintf(str, size - 4, "%.3f", value / 1073741824.0);
    } else if (value >= 1048576.0) {
        suffix = " MiB";
        snprintf(str, size - 4, "%.3f", value / 1048576.0);
    } else if (value >= 1024.0) {
        suffix = " KiB";
        snprintf(str, size - 4, "%.3f", value / 1024.0);
    } else {
        suffix = " bytes";
        snprintf(str, size - 6, "%f", value);
    }
    char *trim = strstr(str, ".000");
    if (trim)
        strcpy(trim, suffix);
    else
        strcat(str, suffix);
}

/* print_report(): the timing values are the runner's normalised form. */
static void report(BgBuf *out, const char *op, int64_t offset, int64_t count)
{
    char s1[64];
    cvtstr((double)count, s1, sizeof(s1));
    bg_buf_printf(out, BG_MSG_QEMUIO_REPORT "\n", op, count,
                  count, offset);
    bg_buf_printf(out, BG_MSG_QEMUIO_TIMING "\n", s1, 1, "00.00 sec", "1 bytes", 1.0);
}

static int64_t cvtnum(const char *s)
{
    uint64_t v;
    if (!model_image_parse_size(s, &v))
        return -EINVAL;
    if (v > INT64_MAX)
        return -ERANGE;
    return (int64_t)v;
}

static void cvtnum_err(BgBuf *out, int64_t rc, const char *arg)
{
    if (rc == -EINVAL)
        bg_buf_printf(out, BG_MSG_QEMUIO_PARSE_EINVAL "\n", arg);
    else
        bg_buf_printf(out, BG_MSG_QEMUIO_PARSE_ERANGE "\n", arg);
}

static int parse_pattern(BgBuf *out, const char *arg)
{
    char *end = NULL;
    errno = 0;
    long p = strtol(arg, &end, 0);
    if (p < 0 || p > 255 || *end != '\0') {
        bg_buf_printf(out, BG_MSG_QEMUIO_BAD_PATTERN "\n", arg);
        return -1;
    }
    return (int)p;
}

#define REQUEST_MAX 2147483136ll  /* BDRV_REQUEST_MAX_BYTES */

/* The commands the model runs (qemu-io-cmds.c cmdinfo_t): their options
 * (getopt strings), argument counts and the permission they ask for. */
typedef enum {
    CMD_READ, CMD_READV, CMD_WRITE, CMD_WRITEV, CMD_DISCARD, CMD_FLUSH, CMD_AIO_FLUSH, CMD_LENGTH,
    CMD_INFO
} CmdKind;

static const struct {
    const char *name, *alias;
    CmdKind kind;
    const char *opts;
    int argmin, argmax;
    bool write;
} commands[] = {
    { "read", "r", CMD_READ, "bCl:pP:qs:v", 2, -1, false },
    { "readv", NULL, CMD_READV, "CP:qv", 2, -1, false },
    { "write", "w", CMD_WRITE, "bcCfnpP:qs:uz", 2, -1, true },
    { "writev", NULL, CMD_WRITEV, "CfqP:", 2, -1, true },
    { "discard", "d", CMD_DISCARD, "Cq", 2, -1, true },
    { "flush", "f", CMD_FLUSH, "", 0, 0, false },
    { "aio_flush", NULL, CMD_AIO_FLUSH, "", 0, 0, false },
    { "length", "l", CMD_LENGTH, "", 0, 0, false },
    { "info", "i", CMD_INFO, "", 0, 0, false },
};

/*
 * info_f(): the driver's format name, again as its protocol name for a
 * driver that has one (file, null-co, null-aio, blkdebug, blkverify);
 * bdrv_get_info() of the node that answers for N (N, or below it through
 * raw and the filters): qcow2's cluster size and where its VM state would
 * start (l1_vm_state_index: the L1 entries the virtual size needs, set at
 * open and at a resize), 0 and 0 for a file; none (a null node, quorum):
 * nothing more.  Then a qcow2 node's format specific information, whose
 * lines bdrv_image_info_specific_dump() prints with qemu_printf() (PRINT).
 */
static void info(ModelState *st, const ModelNode *n, BgBuf *out, BgBuf *print)
{
    static const char *const protocols[] = { "file", "null-co", "null-aio", "blkdebug",
                                             "blkverify" };
    bg_buf_printf(out, BG_MSG_QEMUIO_INFO_FORMAT "\n", n->drv->name);
    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
        if (strcmp(n->drv->name, protocols[i]) == 0)
            bg_buf_printf(out, BG_MSG_QEMUIO_INFO_FORMAT "\n", n->drv->name);
    unsigned cs;
    const ModelNode *a = model_query_get_info(st->w, n, &cs);
    if (!a)
        return;
    uint64_t vm_state = 0;
    if (cs) {
        uint64_t l1_span = (uint64_t)MODEL_CLUSTER * (MODEL_CLUSTER / 8);
        vm_state = (model_open_length(st, st->w, a) + l1_span - 1) / l1_span * l1_span;
    }
    char s1[64], s2[64];
    cvtstr((double)cs, s1, sizeof(s1));
    cvtstr((double)vm_state, s2, sizeof(s2));
    bg_buf_printf(out, BG_MSG_QEMUIO_INFO_CLUSTER "\n" BG_MSG_QEMUIO_INFO_VMSTATE "\n", s1, s2);
    json_t *spec = model_query_specific_info(n);
    if (!spec)
        return;
    bg_buf_puts(out, BG_MSG_QEMUIO_INFO_SPECIFIC "\n");
#define LABEL(KEY, TEXT) { KEY, TEXT },
    static const char *const keys[][2] = { BG_QCOW2_SPECIFIC_LABELS(LABEL) };
#undef LABEL
    json_t *d = json_object_get(spec, "data");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(d, keys[i][0]);
        if (json_is_string(v))
            bg_buf_printf(print, "    %s: %s\n", keys[i][1], json_string_value(v));
        else if (json_is_boolean(v))
            bg_buf_printf(print, "    %s: %s\n", keys[i][1], json_is_true(v) ? "true" : "false");
        else if (json_is_integer(v))
            bg_buf_printf(print, "    %s: %" JSON_INTEGER_FORMAT "\n", keys[i][1],
                          json_integer_value(v));
    }
    json_decref(spec);
}

/*
 * bdrv_co_flush() of N: nothing for a read-only node; qcow2_co_flush_to_os()
 * writes a qcow2 node's metadata caches.  Its children are flushed too,
 * which the model does not follow (their caches stay "not known on disk").
 * NULL, or why the flush is not modelled: it might meet a blkdebug error
 * rule, or write stale caches into an image made anew (then nothing of the
 * stream is known any more: st->lost).
 */
static const char *flush_node(ModelState *st, ModelNode *n)
{
    if (n->read_only)
        return NULL;
    if (model_blkdebug_flush_may_fail(st->w, n))
        return "a qemu-io flush that may meet an active blkdebug error rule is not modelled";
    if (model_io_qcow2_stale_flush(st, st->w, n))
        return st->lost = "a qemu-io flush writes a qcow2 node's caches into an image file made "
                          "anew since the node opened it";
    model_io_qcow2_written_back(st, st->w, n);
    return NULL;
}

/* command(): the temporary BlockBackend (hmp_qemu_io(): perm 0, shared
 * all) asks for WRITE; a failure is error_report_err()ed to MON. */
static bool take_write(ModelState *st, const ModelNode *n, BgBuf *mon)
{
    ModelWorld *w = model_graph_copy(st->w);
    w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
    w->blks[w->n_blks++] = (ModelBlk){ MODEL_BLK_DEVICE, NULL, n->id, MODEL_PERM_WRITE,
                                       MODEL_PERM_ALL, ++w->next_seq, NULL, NULL };
    int *order = NULL;
    size_t olen = 0;
    model_perm_topo(w, model_graph_node(w, n->id), &order, &olen);
    BgError perr = {0};
    char *hint = NULL;
    bool ok = model_perm_refresh_hint(w, order, olen, &hint, &perr);
    free(order);
    model_graph_free(w);
    if (!ok)   /* error_report_err(): the message, then the hint */
        bg_buf_printf(mon, "%s\n%s", perr.text, hint ? hint : "");
    free(hint);
    return ok;
}

/*
 * One qemu-io command on node N.  Output (stdout) goes to OUT, monitor
 * errors to MON (HMP only), qemu_printf() to PRINT (the monitor under HMP,
 * else stdout).  Returns <0 when the command failed.
 */
static int run_command(ModelState *st, ModelNode *n, const char *cmd, BgBuf *out, BgBuf *mon,
                       BgBuf *print, const char **unsupported)
{
    char *input = bg_strdup(cmd);
    char *argv[64];
    int argc = 0;
    for (char *save = NULL, *p = strtok_r(input, " ", &save); p && argc < 63;
         p = strtok_r(NULL, " ", &save))
        argv[argc++] = p;
    argv[argc] = NULL;
    int ret = 0;
    uint8_t *buf = NULL;
    if (argc == 0)
        goto done;
    int ci = -1;
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (strcmp(argv[0], commands[k].name) == 0 ||
            (commands[k].alias && strcmp(argv[0], commands[k].alias) == 0))
            ci = (int)k;
    if (ci < 0) {
        *unsupported = "qemu-io commands other than read(v), write(v), discard, flush, "
                       "aio_flush, length and info are not modelled";
        ret = -ENOTSUP;
        goto done;
    }
    CmdKind kind = commands[ci].kind;
    if (argc - 1 < commands[ci].argmin || (commands[ci].argmax >= 0 && argc - 1 > commands[ci].argmax)) {
        ret = -EINVAL;           /* "bad argument count" goes to stderr: not in the output */
        goto done;
    }
    if (commands[ci].write && !take_write(st, n, mon)) {
        ret = -EPERM;
        goto done;
    }
    if (kind == CMD_FLUSH) {
        *unsupported = flush_node(st, n);          /* blk_flush() */
        ret = *unsupported ? -ENOTSUP : 0;
        goto done;
    }
    if (kind == CMD_AIO_FLUSH)
        goto done;             /* blk_drain_all(): no request is in flight between steps */
    if (kind == CMD_INFO) {
        info(st, n, out, print);
        goto done;
    }
    if (kind == CMD_LENGTH) {
        /* bdrv_getlength(): whole sectors, the last one rounded up */
        char s1[64];
        cvtstr((double)((model_open_length(st, st->w, n) + 511) / 512 * 512), s1, sizeof(s1));
        bg_buf_printf(out, "%s\n", s1);
        goto done;
    }
    bool is_write = kind == CMD_WRITE || kind == CMD_WRITEV;
    bool P = false, z = false, u = false, cflag = false, q = false, fua = false;
    int pattern = is_write ? 0xcd : 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        for (const char *o = argv[i] + 1; *o; o++) {
            const char *pos = strchr(commands[ci].opts, *o);
            if (!pos || *o == ':') {
                ret = -EINVAL;          /* usage on stdout: not modelled */
                *unsupported = "qemu-io usage output is not modelled";
                goto done;
            }
            if (pos[1] == ':') {
                const char *arg = o[1] ? o + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (!arg) {
                    *unsupported = "qemu-io usage output is not modelled";
                    ret = -EINVAL;
                    goto done;
                }
                if (*o == 'P') {
                    P = true;
                    pattern = parse_pattern(out, arg);
                    if (pattern < 0) {
                        ret = -EINVAL;
                        goto done;
                    }
                } else {
                    *unsupported = "qemu-io -s/-l options are not modelled";
                    ret = -ENOTSUP;
                    goto done;
                }
                break;
            }
            if (*o == 'z')
                z = true;
            else if (*o == 'u')
                u = true;
            else if (*o == 'c')
                cflag = true;
            else if (*o == 'q')
                q = true;
            else if (*o == 'f')
                fua = true;
            else if (*o == 'p')
                continue;            /* ignored for backwards compatibility */
            else {
                *unsupported = "qemu-io option not modelled";
                ret = -ENOTSUP;
                goto done;
            }
        }
    }
    bool vectored = kind == CMD_READV || kind == CMD_WRITEV;
    if (vectored ? argc - i < 2 : argc - i != 2) {
        *unsupported = "qemu-io usage output is not modelled";
        ret = -EINVAL;
        goto done;
    }
    if (kind == CMD_WRITE) {
        if (fua && cflag) {
            bg_buf_puts(out, BG_MSG_QEMUIO_F_AND_BC "\n");
            ret = -EINVAL;
            goto done;
        }
        if (u && !z) {
            bg_buf_puts(out, "-u requires -z to be specified\n");
            ret = -EINVAL;
            goto done;
        }
        if (z + P > 1) {
            bg_buf_puts(out, "Only one of -z, -P, and -s can be specified at the same time\n");
            ret = -EINVAL;
            goto done;
        }
    }
    int64_t offset = cvtnum(argv[i]);
    if (offset < 0) {
        cvtnum_err(out, offset, argv[i]);
        ret = (int)offset;
        goto done;
    }
    int64_t count = 0;
    if (vectored) {
        /* create_iovec() */
        for (int k = i + 1; k < argc; k++) {
            int64_t l = cvtnum(argv[k]);
            if (l < 0) {
                cvtnum_err(out, l, argv[k]);
                ret = -EINVAL;
                goto done;
            }
            if (l > REQUEST_MAX) {
                bg_buf_printf(out, BG_MSG_QEMUIO_ARG_EXCEEDS "\n", argv[k],
                              (uint64_t)REQUEST_MAX);
                ret = -EINVAL;
                goto done;
            }
            if (count > REQUEST_MAX - l) {
                bg_buf_printf(out, BG_MSG_QEMUIO_TOTAL_EXCEEDS "\n",
                              (uint64_t)REQUEST_MAX);
                ret = -EINVAL;
                goto done;
            }
            count += l;
        }
    } else {
        count = cvtnum(argv[i + 1]);
        if (count < 0) {
            cvtnum_err(out, count, argv[i + 1]);
            ret = (int)count;
            goto done;
        }
        if (count > REQUEST_MAX) {
            bg_buf_printf(out, kind == CMD_WRITE ? BG_MSG_QEMUIO_LENGTH_MAX_N "\n"
                                                 : BG_MSG_QEMUIO_LENGTH_MAX "\n",
                          (uint64_t)REQUEST_MAX, argv[i + 1]);
            ret = -EINVAL;
            goto done;
        }
    }
    if (cflag && (offset % 512 || count % 512)) {
        if (offset % 512)
            bg_buf_printf(out, BG_MSG_QEMUIO_UNALIGNED "\n", offset, "offset");
        else
            bg_buf_printf(out, BG_MSG_QEMUIO_UNALIGNED "\n", count, "count");
        ret = -EINVAL;
        goto done;
    }
    if ((uint64_t)count > BG_MAX_REQUEST_BYTES) {
        *unsupported = "request larger than the model's limit";
        ret = -ENOTSUP;
        goto done;
    }
    /* blk_check_byte_request(): beyond the end is -EIO */
    uint64_t len = (model_open_length(st, st->w, n) + 511) / 512 * 512;
    bool in_range = (uint64_t)offset <= len && (uint64_t)count <= len - (uint64_t)offset;
    /* qemu_io_alloc()'s buffer, for the commands that read or write one:
     * write -z and discard carry no data, so none is made (for a large
     * request that is a large allocation less per step) */
    if (kind != CMD_DISCARD && !(is_write && z)) {
        buf = bg_bigbuf_get((size_t)count);
        memset(buf, is_write ? pattern : 0xab, (size_t)count);
    }
    ModelIoStatus s = {0};
    int r = 0;
    if (!in_range) {
        r = -EIO;
    } else if (kind == CMD_DISCARD) {
        r = model_io_pdiscard(st, n, (uint64_t)offset, (uint64_t)count, &s);
    } else if (is_write) {
        unsigned flags = (z ? MODEL_WR_ZERO : 0) | (u ? MODEL_WR_MAY_UNMAP : 0) |
                         (cflag ? MODEL_WR_COMPRESSED : 0);
        r = model_io_pwrite(st, n, (uint64_t)offset, (uint64_t)count, buf, flags, &s);
        /* BDRV_REQ_FUA: a node whose driver does not take it (qcow2, file)
         * flushes itself after the write (bdrv_driver_pwritev(),
         * bdrv_co_do_pwrite_zeroes()); raw and the filters pass it on when
         * their child takes it (null).  The model flushes N whichever node
         * QEMU flushes, if any: of what the model keeps, a flush changes only
         * a qcow2 N's caches (qcow2 never takes FUA, so QEMU flushes N
         * then), and one that might fail is unsupported either way */
        if (!r && !s.unsupported && fua)
            s.unsupported = flush_node(st, n);
    } else {
        /* a pattern check fails for sure when a byte the model knows
         * differs: the bytes it does not know cannot change that */
        if (P) {
            s.known = bg_bigbuf_get((size_t)count);
            memset(s.known, 1, (size_t)count);
        }
        r = model_io_pread(st, n, (uint64_t)offset, (uint64_t)count, buf, &s);
        bool fails = false;
        for (int64_t k = 0; P && !r && s.unknown && !s.known_lost && !fails && k < count; k++)
            fails = s.known[k] && buf[k] != pattern;
        if (s.known)
            bg_bigbuf_put(s.known);
        if (!r && s.unknown && P && !fails)
            s.unsupported = "a pattern check of bytes the model does not know (qcow2 metadata)";
    }
    if (s.unsupported) {
        *unsupported = s.unsupported;
        ret = -ENOTSUP;
        goto done;
    }
    const char *op = kind == CMD_DISCARD ? "discard" : kind == CMD_READV ? "readv"
                     : kind == CMD_WRITEV ? "writev" : is_write ? "write" : "read";
    if (r < 0) {
        bg_buf_printf(out, BG_MSG_QEMUIO_FAILED "\n", op, strerror(-r));
        ret = r;
        goto done;
    }
    if (!is_write && kind != CMD_DISCARD && P) {
        for (int64_t k = 0; k < count; k++) {
            if (buf[k] != pattern) {
                bg_buf_printf(out, BG_MSG_QEMUIO_PATTERN_FAILED "\n", offset, count);
                ret = -EINVAL;
                break;
            }
        }
    }
    if (!q)
        report(out, kind == CMD_DISCARD ? "discard" : is_write ? "wrote" : "read", offset, count);
done:
    bg_bigbuf_put(buf);
    free(input);
    return ret;
}

/* monitor/hmp.c get_str(): a word, or a "quoted string" with escapes. */
static const char *hmp_word(const char *p, char **out)
{
    while (*p == ' ' || *p == '\t')
        p++;
    BgBuf b = {0};
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) {
                p++;
                char c = *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
                bg_buf_append(&b, &c, 1);
            } else {
                bg_buf_append(&b, p, 1);
            }
            p++;
        }
        if (*p != '"') {
            bg_buf_cleanup(&b);
            *out = NULL;
            return p;
        }
        p++;
    } else {
        while (*p && *p != ' ' && *p != '\t')
            bg_buf_append(&b, p++, 1);
    }
    *out = bg_buf_take(&b);
    return p;
}

void model_io_hmp(ModelState *st, const char *line, BgResult *res)
{
    char *word = NULL, *dev = NULL, *cmd = NULL;
    const char *p = hmp_word(line, &word);
    if (!word || strcmp(word, "qemu-io") != 0) {
        bg_result_set_unsupported(res, "HMP commands other than qemu-io are not modelled");
        goto out;
    }
    p = hmp_word(p, &dev);
    if (dev && strcmp(dev, "-d") == 0) {
        bg_result_set_unsupported(res, "qemu-io -d (qdev) is not modelled");
        goto out;
    }
    p = hmp_word(p, &cmd);
    if (!dev || !cmd || !*dev) {
        bg_result_set_unsupported(res, "HMP argument errors are not modelled");
        goto out;
    }
    ModelNode *n = model_graph_find(st->w, dev);
    if (!n) {
        char *msg = bg_asprintf(BG_MSG_HMP_NO_DEVICE, dev);
        bg_result_set_return(res, json_string(msg));
        free(msg);
        goto out;
    }
    BgBuf out = {0}, mon = {0};
    const char *unsupported = NULL;
    run_command(st, n, cmd, &out, &mon, &mon, &unsupported);
    if (unsupported) {
        bg_result_set_unsupported(res, unsupported);
        bg_buf_cleanup(&out);
        bg_buf_cleanup(&mon);
        goto out;
    }
    /* the monitor turns "\n" into "\r\n" */
    BgBuf reply = {0};
    for (size_t i = 0; mon.data && i < mon.len; i++) {
        if (mon.data[i] == '\n')
            bg_buf_puts(&reply, "\r");
        bg_buf_append(&reply, &mon.data[i], 1);
    }
    bg_buf_cleanup(&mon);
    bg_result_set_return(res, json_string(reply.data ? reply.data : ""));
    bg_buf_cleanup(&reply);
    if (out.len) {
        bg_buf_append(&st->log, out.data, out.len);
        res->io_out = bg_buf_take(&out);
    }
    bg_buf_cleanup(&out);
out:
    free(word);
    free(dev);
    free(cmd);
}

/* qemu-io -f FMT -c CMD... FILE, outside the VM. */
/*
 * blk_new_open() in qemu-io, on an image a file node of the VM (VM) holds:
 * qemu-io's BlockBackend takes CONSISTENT_READ and WRITE and shares all, and
 * file-posix checks its file node's lock bytes against the VM's
 * (raw_check_lock_bytes()) each time that node's permissions grow: when the
 * format attaches it, then under the BlockBackend.  The first set is within
 * the second for qcow2 (its metadata permissions) and empty for raw, so the
 * second is checked.  TOP is the image opened in the offline world W.
 */
/* TEXT with each PATH in it written as NAME (owned). */
static char *name_as_given(const char *text, const char *path, const char *name)
{
    BgBuf b = {0};
    size_t n = strlen(path);
    for (const char *hit; n && (hit = strstr(text, path)); text = hit + n) {
        bg_buf_append(&b, text, (size_t)(hit - text));
        bg_buf_puts(&b, name);
    }
    bg_buf_puts(&b, text);
    return bg_buf_take(&b);
}

static bool offline_locks(const ModelWorld *vm, ModelWorld *w, const ModelNode *top,
                          const char *path, BgError *err)
{
    w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
    w->blks[w->n_blks++] = (ModelBlk){ MODEL_BLK_DEVICE, NULL, top->id,
                                       MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE,
                                       MODEL_PERM_ALL, ++w->next_seq, NULL, NULL };
    int *order = NULL;
    size_t olen = 0;
    model_perm_topo(w, top, &order, &olen);
    BgError perr = {0};
    bool ok = model_perm_refresh(w, order, olen, &perr);
    free(order);
    bg_error_clear(&perr);
    for (size_t i = 0; ok && i < w->n_nodes; i++) {
        const ModelNode *f = w->nodes[i];
        if (f->filename && strcmp(f->filename, path) == 0)
            return model_perm_other_locks(vm, path, f->lock_perm, f->lock_shared, err);
    }
    return true;
}

/* The first level of the offline chain (TOP, opened on PATH: 0; its
 * backing: 1; ...) whose image file a file node of the VM holds open; -1:
 * none. */
static int held_level(const ModelState *st, const ModelWorld *vm, const ModelWorld *w,
                      const ModelNode *top, const char *path)
{
    int level = 0;
    for (const ModelNode *b = top; st->vm && b && level < 64;
         b = model_graph_backing(w, b), level++) {
        const ModelNode *f = level ? model_graph_file(w, b) : NULL;
        const char *name = level ? (f ? f->filename : NULL) : path;
        for (size_t i = 0; name && i < vm->n_nodes; i++)
            if (vm->nodes[i]->filename && strcmp(vm->nodes[i]->filename, name) == 0)
                return level;
    }
    return -1;
}

void model_io_offline(ModelState *st, const json_t *spec, BgResult *res)
{
    const char *fmt = json_string_value(json_object_get(spec, "fmt"));
    const char *file = json_string_value(json_object_get(spec, "file"));
    if (!fmt || !file || (strcmp(fmt, "qcow2") != 0 && strcmp(fmt, "raw") != 0)) {
        bg_result_set_unsupported(res, "io: the model opens qcow2 and raw images only");
        return;
    }
    char *path = file[0] == '/' ? bg_strdup(file) : bg_asprintf("%s/%s", st->scratch, file);
    ModelWorld *w = model_graph_new();
    ModelWorld *vm_world = st->w;
    BgBuf out = {0};
    char *err_text = NULL;
    int rc = 0;
    int level;                          /* of the chain, a file the VM holds open */
    ModelQDict *o = model_qdict_new();
    model_qdict_put_str(o, "driver", fmt);
    /* qemu-io.c main(): flags start as BDRV_O_UNMAP, a discard reaches the image */
    model_qdict_put_str(o, "discard", "unmap");
    model_qdict_put_str(o, "file.driver", "file");
    model_qdict_put_str(o, "file.filename", path);
    BgError err = {0};
    const char *unsup_before = st->unsupported;
    st->unsupported = NULL;
    st->w = w;
    ModelNode *n = model_open_node(st, w, o, NULL, NULL, NULL, 0, &err);
    if (!n) {
        st->w = vm_world;
        if (st->unsupported) {
            bg_result_set_unsupported(res, st->unsupported);
            st->unsupported = unsup_before;
            goto out;
        }
        /* qemu-io runs in the scratch directory and opens FILE as given:
         * its texts name it so, where the model's node has the full path */
        char *named = name_as_given(err.text, path, file);
        err_text = bg_asprintf("qemu-io: " BG_MSG_QEMUIO_CANT_OPEN "\n", file, named);
        free(named);
        rc = 1;
    } else if ((level = held_level(st, vm_world, w, n, path)) >= 0) {
        /* the image, or the backing file the open comes to next
         * (bdrv_open_backing_file(): the first level is followed), fails
         * its lock check, the hint naming it as qemu-io combined it */
        st->w = vm_world;
        const ModelNode *b = model_graph_backing(w, n);
        const ModelNode *bf = level == 1 && b ? model_graph_file(w, b) : NULL;
        const char *unsupported = NULL;
        BgError lock = {0};
        if (level > 1 || (level == 1 && (!bf || !n->backing_file)))
            unsupported = "io on an image whose backing chain the VM holds open below its first "
                          "level";
        else if (offline_locks(vm_world, w, n, level ? bf->filename : path, &lock))
            unsupported = "io on an image the VM holds open, its locks allowing it (the two "
                          "would share the image)";
        if (unsupported) {
            bg_result_set_unsupported(res, unsupported);
            st->unsupported = unsup_before;
            goto out;
        }
        char *shown = level ? model_image_path_combine(file, n->backing_file) : bg_strdup(file);
        char *why = bg_asprintf("%s%s", level ? BG_MSG_BACKING_OPEN_PREFIX : "", lock.text);
        err_text = bg_asprintf("qemu-io: " BG_MSG_QEMUIO_CANT_OPEN "\n" BG_MSG_FILE_LOCK_HINT "\n",
                               file, why, shown);
        free(why);
        free(shown);
        rc = 1;
    } else {
        json_t *cmds = json_object_get(spec, "cmd");
        json_t *list = json_is_array(cmds) ? json_incref(cmds) : json_pack("[O]", cmds);
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c) {
            const char *unsupported = NULL;
            BgBuf mon = {0};
            int r = run_command(st, n, json_string_value(c) ? json_string_value(c) : "", &out, &mon,
                                &out, &unsupported);
            bg_buf_cleanup(&mon);
            if (unsupported) {
                json_decref(list);
                st->w = vm_world;
                st->unsupported = unsup_before;
                bg_buf_cleanup(&out);
                bg_result_set_unsupported(res, unsupported);
                goto out;
            }
            if (r < 0)
                rc = 1;
        }
        json_decref(list);
        st->w = vm_world;
    }
    st->unsupported = unsup_before;
    res->kind = BG_RES_OFFLINE;
    res->rc = rc;
    res->out = bg_buf_take(&out);
    res->err_text = err_text ? err_text : bg_strdup("");
    err_text = NULL;
    if (res->out[0])
        res->io_out = bg_strdup(res->out);
out:
    free(err_text);
    bg_buf_cleanup(&out);
    model_graph_free(w);
    free(path);
}
