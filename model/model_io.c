/*
 * model_io.c: guest-visible I/O through the graph, and qemu-io.
 *
 * What this is: reads and writes through a node down to the image files
 * (qcow2 clusters read through to the backing node when unallocated,
 * copy-on-write of partial clusters, raw offset/size, filters passing
 * requests on, compress turning writes into compressed ones, quorum and
 * blkverify writing all children), qemu-io's read and write commands with
 * qemu-io's parsing and output lines, the HMP `qemu-io NODE "CMD"` command
 * and the offline `io` step (qemu-io -f FMT -c CMD... FILE).
 * What it is not: timing (the runner normalises qemu-io's timing line), or
 * the qcow2 layout (a raw read or write of a qcow2 file is "unsupported").
 *
 * Mirrors QEMU 7.2.0 qemu-io-cmds.c (read_f(), write_f(), print_report(),
 * cvtstr(), cvtnum(), parse_pattern(), breakline(), command(),
 * qemuio_command()), qemu-io.c (exit status 1 when a command failed),
 * block/monitor/block-hmp-cmds.c hmp_qemu_io(), monitor/hmp.c get_str(),
 * block/io.c (request bounds: -EIO beyond the end; detect-zeroes),
 * block/qcow2.c qcow2_co_preadv_part() / qcow2_co_pwritev_part(),
 * block/raw-format.c, block/filter-compress.c, block/null.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

typedef struct IoCtx {
    ModelState *st;
    const ModelWorld *w;
    const char *unsupported;   /* set when the model keeps no data for a request */
    bool eio;                  /* a read failed with -EIO (quorum) */
} IoCtx;

enum { IO_ZERO = 1, IO_MAY_UNMAP = 2, IO_COMPRESSED = 4 };

static bool node_read(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf);
static bool quorum_read(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf);
static int node_write(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                      unsigned flags);

static ModelFile *file_of(IoCtx *c, const ModelNode *n)
{
    return n->filename ? model_image_find(&c->st->files, n->filename) : NULL;
}

/* The qcow2 image under a qcow2 node (its `file` through filters). */
static ModelFile *qcow2_file(IoCtx *c, const ModelNode *n)
{
    const ModelNode *f = model_graph_file(c->w, n);
    while (f && f->drv->kind == BG_DRV_FILTER)
        f = model_graph_filtered(c->w, f);
    ModelFile *mf = f && strcmp(f->drv->name, "file") == 0 ? file_of(c, f) : NULL;
    return mf && mf->qcow2 ? mf : NULL;
}

static bool qcow2_read(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf)
{
    ModelFile *f = qcow2_file(c, n);
    if (!f) {
        c->unsupported = "qcow2 over a node the model keeps no image for";
        return false;
    }
    const ModelNode *backing = model_graph_backing(c->w, n);
    uint64_t blen = backing ? model_open_length(c->st, c->w, backing) : 0;
    while (len) {
        uint64_t cl = off / MODEL_CLUSTER;
        uint64_t n_here = MODEL_CLUSTER - off % MODEL_CLUSTER;
        if (n_here > len)
            n_here = len;
        bool zero;
        if (model_image_qcow2_allocated(f, cl, &zero)) {
            memcpy(buf, f->data + off, n_here);
        } else {
            memset(buf, 0, n_here);
            if (backing && off < blen) {
                uint64_t m = off + n_here <= blen ? n_here : blen - off;
                if (!node_read(c, backing, off, m, buf))
                    return false;
            }
        }
        off += n_here;
        buf += n_here;
        len -= n_here;
    }
    return true;
}

/* block/quorum.c quorum_vote(): every child read; when they differ, the
 * version with most votes wins (ties: the version seen last, vote_list is
 * newest first), below the threshold the read fails; losers are reported. */
static bool quorum_read(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf)
{
    unsigned nc = n->quorum_next, threshold = 1;
    json_t *t = model_qdict_get(n->options, "vote-threshold");
    if (json_is_integer(t))
        threshold = (unsigned)json_integer_value(t);
    uint8_t **bufs = bg_calloc(nc + 1, sizeof(*bufs));
    const ModelNode **kids = bg_calloc(nc + 1, sizeof(*kids));
    bool ok = true;
    for (unsigned i = 0; i < nc && ok; i++) {
        char *k = bg_asprintf("children.%u", i);
        kids[i] = model_graph_child_node(c->w, n, k);
        free(k);
        bufs[i] = bg_malloc(len ? len : 1);
        memcpy(bufs[i], buf, len);
        ok = kids[i] && node_read(c, kids[i], off, len, bufs[i]);
    }
    bool agree = true;
    for (unsigned i = 1; ok && i < nc; i++)
        agree &= memcmp(bufs[0], bufs[i], len) == 0;
    if (ok && agree) {
        memcpy(buf, bufs[0], len);
    } else if (ok) {
        /* versions in vote_list order: newest first */
        int *version = bg_calloc(nc + 1, sizeof(int));    /* child -> first child with its data */
        for (unsigned i = 0; i < nc; i++) {
            version[i] = (int)i;
            for (unsigned j = 0; j < i; j++)
                if (memcmp(bufs[i], bufs[j], len) == 0) {
                    version[i] = version[j];
                    break;
                }
        }
        int winner = -1;
        unsigned max = 0;
        for (int v = (int)nc - 1; v >= 0; v--) {
            if (version[v] != v)
                continue;
            unsigned count = 0;
            for (unsigned i = 0; i < nc; i++)
                count += version[i] == v;
            if (count > max) {
                max = count;
                winner = v;
            }
        }
        int64_t start = (int64_t)(off / 512), end = (int64_t)((off + len + 511) / 512);
        if (max < threshold) {
            model_event(c->st, "QUORUM_FAILURE", json_pack("{s:s,s:I,s:I}", "reference", n->name,
                                                           "sector-num", (json_int_t)start,
                                                           "sectors-count",
                                                           (json_int_t)(end - start)));
            ok = false;
            c->eio = true;
        } else {
            memcpy(buf, bufs[winner], len);
            for (int v = (int)nc - 1; v >= 0; v--) {
                if (version[v] != v || v == winner)
                    continue;
                for (int i = (int)nc - 1; i >= 0; i--)
                    if (version[i] == v)
                        model_event(c->st, "QUORUM_REPORT_BAD",
                                    json_pack("{s:s,s:s,s:I,s:I}", "type", "read", "node-name",
                                              kids[i]->name, "sector-num", (json_int_t)start,
                                              "sectors-count", (json_int_t)(end - start)));
            }
        }
        free(version);
    }
    for (unsigned i = 0; i < nc; i++)
        free(bufs[i]);
    free(bufs);
    free(kids);
    return ok;
}

static bool node_read(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf)
{
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = file_of(c, n);
        if (!f || f->qcow2) {
            c->unsupported = "a raw read of a qcow2 file's metadata";
            return false;
        }
        for (uint64_t i = 0; i < len; i++)
            buf[i] = off + i < f->len ? f->bytes[off + i] : 0;
        return true;
    }
    if (strcmp(d, "qcow2") == 0)
        return qcow2_read(c, n, off, len, buf);
    if (strcmp(d, "raw") == 0)
        return node_read(c, model_graph_file(c->w, n), off + n->offset, len, buf);
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0) {
        if (n->read_zeroes)
            memset(buf, 0, len);     /* else the buffer is left as it is */
        return true;
    }
    if (strcmp(d, "quorum") == 0)
        return quorum_read(c, n, off, len, buf);
    const ModelNode *f = model_graph_filtered(c->w, n);
    if (!f) {
        c->unsupported = "a node the model cannot read through";
        return false;
    }
    return node_read(c, f, off, len, buf);
}

static bool all_zero(const uint8_t *b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* qcow2_co_pwritev_part() / pwrite_zeroes / compressed, with COW of partial
 * clusters from what the node reads now. */
static int qcow2_write(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                       unsigned flags)
{
    ModelFile *f = qcow2_file(c, n);
    if (!f) {
        c->unsupported = "qcow2 over a node the model keeps no image for";
        return -ENOTSUP;
    }
    uint64_t vend = f->vsize;
    if (flags & IO_COMPRESSED) {
        if (off % MODEL_CLUSTER || (len % MODEL_CLUSTER && off + len != vend))
            return -EINVAL;
        for (uint64_t o = off; o < off + len; o += MODEL_CLUSTER) {
            uint8_t *cbuf = bg_calloc(MODEL_CLUSTER, 1);
            uint64_t m = off + len - o < MODEL_CLUSTER ? off + len - o : MODEL_CLUSTER;
            memcpy(cbuf, buf + (o - off), m);
            BgError e = {0};
            model_image_qcow2_write(f, o, MODEL_CLUSTER, cbuf, false, false, true, &e);
            free(cbuf);
            if (e.set)
                return -EIO;
        }
        return 0;
    }
    uint64_t a = off / MODEL_CLUSTER * MODEL_CLUSTER;
    uint64_t b = (off + len + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
    uint64_t b_eff = b < vend ? b : (vend + 511) / 512 * 512;
    if (flags & IO_ZERO) {
        /* the aligned middle is zeroised; partial clusters (not at the image
         * end) become writes of a zero buffer (bdrv_co_do_pwrite_zeroes()) */
        uint64_t za = (off + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
        uint64_t zb = off + len >= vend ? b : (off + len) / MODEL_CLUSTER * MODEL_CLUSTER;
        if (za < zb) {
            if (off < za) {
                uint8_t *z = bg_calloc(za - off, 1);
                int r = qcow2_write(c, n, off, za - off, z, 0);
                free(z);
                if (r)
                    return r;
            }
            BgError e = {0};
            model_image_qcow2_write(f, za, zb - za, NULL, true, flags & IO_MAY_UNMAP, false, &e);
            if (off + len > zb && zb < vend) {
                uint8_t *z = bg_calloc(off + len - zb, 1);
                int r = qcow2_write(c, n, zb, off + len - zb, z, 0);
                free(z);
                if (r)
                    return r;
            }
            return 0;
        }
        uint8_t *z = bg_calloc(len ? len : 1, 1);
        int r = qcow2_write(c, n, off, len, z, 0);
        free(z);
        return r;
    }
    /* copy-on-write: the whole clusters as the node reads them now */
    (void)b_eff;
    uint8_t *tmp = bg_calloc(b - a, 1);
    if (!qcow2_read(c, n, a, b - a, tmp)) {
        free(tmp);
        return -ENOTSUP;
    }
    memcpy(tmp + (off - a), buf, len);
    BgError e = {0};
    model_image_qcow2_write(f, a, b - a, tmp, false, false, false, &e);
    free(tmp);
    return 0;
}

static int node_write(IoCtx *c, const ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                      unsigned flags)
{
    /* bdrv_aligned_pwritev(): detect-zeroes turns zero buffers into zero writes */
    if (!(flags & (IO_ZERO | IO_COMPRESSED)) && n->detect_zeroes != MODEL_DZ_OFF &&
        all_zero(buf, len)) {
        flags |= IO_ZERO;
        if (n->detect_zeroes == MODEL_DZ_UNMAP)
            flags |= IO_MAY_UNMAP;
    }
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = file_of(c, n);
        if (!f || f->qcow2) {
            c->unsupported = "a raw write into a qcow2 file's metadata";
            return -ENOTSUP;
        }
        if (flags & IO_COMPRESSED)
            return -ENOTSUP;
        if (off + len > f->len) {
            f->bytes = bg_realloc(f->bytes, off + len);
            memset(f->bytes + f->len, 0, off + len - f->len);
            f->len = off + len;
        }
        if (flags & IO_ZERO)
            memset(f->bytes + off, 0, len);
        else
            memcpy(f->bytes + off, buf, len);
        return 0;
    }
    if (strcmp(d, "qcow2") == 0)
        return qcow2_write(c, n, off, len, buf, flags);
    if (strcmp(d, "raw") == 0) {
        if (flags & IO_COMPRESSED)
            return -ENOTSUP;
        return node_write(c, model_graph_file(c->w, n), off + n->offset, len, buf, flags);
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0)
        return 0;
    if (strcmp(d, "quorum") == 0 || strcmp(d, "blkverify") == 0) {
        for (size_t i = n->n_children; i-- > 0;) {
            int r = node_write(c, model_graph_node(c->w, n->children[i].node), off, len, buf, flags);
            if (r)
                return r;
        }
        return 0;
    }
    if (strcmp(d, "compress") == 0 && !(flags & IO_ZERO))
        flags |= IO_COMPRESSED;
    const ModelNode *f = model_graph_filtered(c->w, n);
    if (!f) {
        c->unsupported = "a node the model cannot write through";
        return -ENOTSUP;
    }
    return node_write(c, f, off, len, buf, flags);
}

bool model_io_read(ModelState *st, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                   const char **unsupported)
{
    IoCtx c = { st, st->w, NULL, false };
    bool ok = node_read(&c, n, off, len, buf);
    *unsupported = c.unsupported;
    return ok;
}

/* ---- qemu-io ------------------------------------------------------------------------ */

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
    bg_buf_printf(out, "%s %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n", op, count,
                  count, offset);
    bg_buf_printf(out, "%s, 1 ops; 00.00 sec (1 bytes/sec and 1.0000 ops/sec)\n", s1);
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
        bg_buf_printf(out, "Parsing error: non-numeric argument, or extraneous/unrecognized "
                           "suffix -- %s\n", arg);
    else
        bg_buf_printf(out, "Parsing error: argument too large -- %s\n", arg);
}

static int parse_pattern(BgBuf *out, const char *arg)
{
    char *end = NULL;
    errno = 0;
    long p = strtol(arg, &end, 0);
    if (p < 0 || p > 255 || *end != '\0') {
        bg_buf_printf(out, "%s is not a valid pattern byte\n", arg);
        return -1;
    }
    return (int)p;
}

#define REQUEST_MAX 2147483136ll  /* BDRV_REQUEST_MAX_BYTES */

/*
 * One qemu-io command on node N.  Output (stdout) goes to OUT, monitor
 * errors to MON (HMP only).  Returns <0 when the command failed.
 */
static int run_command(ModelState *st, const ModelNode *n, const char *cmd, BgBuf *out, BgBuf *mon,
                       const char **unsupported)
{
    char *input = bg_strdup(cmd);
    char *argv[64];
    int argc = 0;
    for (char *save = NULL, *p = strtok_r(input, " ", &save); p && argc < 63;
         p = strtok_r(NULL, " ", &save))
        argv[argc++] = p;
    argv[argc] = NULL;
    int ret = 0;
    if (argc == 0)
        goto done;
    bool is_read = strcmp(argv[0], "read") == 0 || strcmp(argv[0], "r") == 0;
    bool is_write = strcmp(argv[0], "write") == 0 || strcmp(argv[0], "w") == 0;
    if (!is_read && !is_write) {
        *unsupported = "qemu-io commands other than read and write are not modelled";
        ret = -ENOTSUP;
        goto done;
    }
    if (argc - 1 < 2) {          /* goes to stderr: not in the output */
        ret = -EINVAL;
        goto done;
    }
    if (is_write) {
        /* command(): the temporary BlockBackend (hmp_qemu_io(): perm 0,
         * shared all) asks for WRITE; a failure is error_report_err()ed */
        ModelWorld *w = model_graph_copy(st->w);
        w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
        w->blks[w->n_blks++] = (ModelBlk){ MODEL_BLK_DEVICE, NULL, n->id, MODEL_PERM_WRITE,
                                           MODEL_PERM_ALL, ++w->next_seq, NULL };
        int *order = NULL;
        size_t olen = 0;
        model_perm_topo(w, model_graph_node(w, n->id), &order, &olen);
        BgError perr = {0};
        bool pok = model_perm_refresh(w, order, olen, &perr);
        free(order);
        model_graph_free(w);
        if (!pok) {
            bg_buf_printf(mon, "%s\n", perr.text);
            ret = -EPERM;
            goto done;
        }
    }
    bool P = false, z = false, u = false, cflag = false;
    int pattern = is_write ? 0xcd : 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        for (const char *o = argv[i] + 1; *o; o++) {
            const char *valid = is_write ? "bcCfnpP:qs:uz" : "bCl:pP:qs:v";
            const char *pos = strchr(valid, *o);
            if (!pos) {
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
            else if (*o == 'p' || *o == 'q' || *o == 'C')
                continue;
            else {
                *unsupported = "qemu-io option not modelled";
                ret = -ENOTSUP;
                goto done;
            }
        }
    }
    if (argc - i != 2) {
        *unsupported = "qemu-io usage output is not modelled";
        ret = -EINVAL;
        goto done;
    }
    if (is_write) {
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
    int64_t count = cvtnum(argv[i + 1]);
    if (count < 0) {
        cvtnum_err(out, count, argv[i + 1]);
        ret = (int)count;
        goto done;
    }
    if (count > REQUEST_MAX) {
        bg_buf_printf(out, is_write ? "length cannot exceed %" PRIu64 " without -n, given %s\n"
                                    : "length cannot exceed %" PRIu64 ", given %s\n",
                      (uint64_t)REQUEST_MAX, argv[i + 1]);
        ret = -EINVAL;
        goto done;
    }
    if (cflag && (offset % 512 || count % 512)) {
        if (offset % 512)
            bg_buf_printf(out, "%" PRId64 " is not a sector-aligned value for 'offset'\n", offset);
        else
            bg_buf_printf(out, "%" PRId64 " is not a sector-aligned value for 'count'\n", count);
        ret = -EINVAL;
        goto done;
    }
    if ((uint64_t)count > BG_MAX_REQUEST_BYTES) {
        *unsupported = "request larger than the model's limit";
        ret = -ENOTSUP;
        goto done;
    }
    /* blk_check_byte_request(): beyond the end is -EIO */
    IoCtx c = { st, st->w, NULL, false };
    uint64_t len = (model_open_length(st, st->w, n) + 511) / 512 * 512;
    bool in_range = (uint64_t)offset <= len && (uint64_t)count <= len - (uint64_t)offset;
    uint8_t *buf = bg_malloc(count ? (size_t)count : 1);
    memset(buf, is_write ? pattern : 0xab, (size_t)count);
    int r = 0;
    if (!in_range) {
        r = -EIO;
    } else if (is_write) {
        unsigned flags = (z ? IO_ZERO : 0) | (u ? IO_MAY_UNMAP : 0) | (cflag ? IO_COMPRESSED : 0);
        if (cflag && strcmp(n->drv->name, "qcow2") != 0 && strcmp(n->drv->name, "compress") != 0) {
            c.unsupported = "compressed writes through this driver are not modelled";
            r = -ENOTSUP;
        } else {
            r = node_write(&c, n, (uint64_t)offset, (uint64_t)count, buf, flags);
        }
    } else if (!node_read(&c, n, (uint64_t)offset, (uint64_t)count, buf)) {
        r = c.eio ? -EIO : -ENOTSUP;
    }
    if (c.unsupported) {
        *unsupported = c.unsupported;
        free(buf);
        ret = -ENOTSUP;
        goto done;
    }
    if (r < 0) {
        bg_buf_printf(out, is_write ? BG_MSG_IO_WRITE_FAILED : BG_MSG_IO_READ_FAILED, strerror(-r));
        free(buf);
        ret = r;
        goto done;
    }
    if (!is_write && P) {
        for (int64_t k = 0; k < count; k++) {
            if (buf[k] != pattern) {
                bg_buf_printf(out, BG_MSG_IO_PATTERN_FAILED, offset, count);
                ret = -EINVAL;
                break;
            }
        }
    }
    free(buf);
    report(out, is_write ? "wrote" : "read", offset, count);
done:
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
    const ModelNode *n = model_graph_find(st->w, dev);
    if (!n) {
        char *msg = bg_asprintf("Error: " BG_MSG_LOOKUP_BS "\r\n", "", dev);
        bg_result_set_return(res, json_string(msg));
        free(msg);
        goto out;
    }
    BgBuf out = {0}, mon = {0};
    const char *unsupported = NULL;
    run_command(st, n, cmd, &out, &mon, &unsupported);
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
    if (st->vm) {
        for (size_t i = 0; i < vm_world->n_nodes; i++) {
            const ModelNode *n = vm_world->nodes[i];
            if (n->filename && strcmp(n->filename, path) == 0) {
                bg_result_set_unsupported(res, "io on an image the VM holds open (image locking)");
                goto out;
            }
        }
    }
    ModelQDict *o = model_qdict_new();
    model_qdict_put_str(o, "driver", fmt);
    model_qdict_put_str(o, "file.driver", "file");
    model_qdict_put_str(o, "file.filename", path);
    BgError err = {0};
    const char *unsup_before = st->unsupported;
    st->unsupported = NULL;
    st->w = w;
    ModelNode *n = model_open_node(st, w, o, NULL, NULL, 0, &err);
    if (!n) {
        st->w = vm_world;
        if (st->unsupported) {
            bg_result_set_unsupported(res, st->unsupported);
            st->unsupported = unsup_before;
            goto out;
        }
        err_text = bg_asprintf("qemu-io: can't open device %s: %s\n", file, err.text);
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
                                &unsupported);
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
