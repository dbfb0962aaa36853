/*
 * qemuio_rw.c: qemu-io's data commands: read, write, readv, writev, discard.
 *
 * What this is: QEMU 7.2 qemu-io-cmds.c read_f(), write_f(), readv_f(),
 * writev_f(), discard_f() with create_iovec() and the do_*() request
 * helpers: options and their checks in QEMU's order, QEMU's texts, the
 * request through the BlockBackend bounds check (EIO outside the device)
 * and bdrv_*() on the node, pattern verification, the report lines.
 * Buffers start filled with 0xab (reads) or the pattern, 0xcd by default
 * (writes), as qemu_io_alloc() fills them.
 * What it is not: the dispatcher, parsing helpers and the other commands
 * (qemuio.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "qemuio.h"
#include "qemuio_cmds.h"

static void *io_alloc(size_t len, int pattern)
{
    void *buf = real_buf_alloc(len);
    if (buf)
        memset(buf, pattern, len);
    return buf;
}

int qemuio_rw_read_f(QemuIoContext *ctx, int argc, char **argv)
{
    bool Cflag = false, qflag = false, vflag = false, Pflag = false, sflag = false,
         lflag = false;
    int pattern = 0;
    int64_t pattern_offset = 0, pattern_count = 0;
    Getopt g;
    if (!qemuio_getopt(ctx, argc, argv, "bCl:pP:qs:v", &g))
        return qemuio_usage(ctx, "read");
    for (int i = 0; i < g.nopts; i++) {
        switch (g.opts[i].c) {
        case 'b':
            return QEMUIO_UNSUPPORTED;
        case 'C': Cflag = true; break;
        case 'l':
            lflag = true;
            pattern_count = qemuio_cvtnum_arg(ctx, g.opts[i].arg);
            if (pattern_count < 0) {
                qemuio_print_cvtnum_err(ctx, pattern_count, g.opts[i].arg);
                return (int)pattern_count;
            }
            break;
        case 'p': break;
        case 'P':
            Pflag = true;
            pattern = qemuio_parse_pattern(ctx, g.opts[i].arg);
            if (pattern < 0)
                return -EINVAL;
            break;
        case 'q': qflag = true; break;
        case 's':
            sflag = true;
            pattern_offset = qemuio_cvtnum_arg(ctx, g.opts[i].arg);
            if (pattern_offset < 0) {
                qemuio_print_cvtnum_err(ctx, pattern_offset, g.opts[i].arg);
                return (int)pattern_offset;
            }
            break;
        case 'v': vflag = true; break;
        }
    }
    if (g.noperands != 2)
        return qemuio_usage(ctx, "read");
    int64_t offset = qemuio_cvtnum_arg(ctx, g.operands[0]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(ctx, offset, g.operands[0]);
        return (int)offset;
    }
    int64_t count = qemuio_cvtnum_arg(ctx, g.operands[1]);
    if (count < 0) {
        qemuio_print_cvtnum_err(ctx, count, g.operands[1]);
        return (int)count;
    }
    if (count > BDRV_REQUEST_MAX_BYTES) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_LENGTH_MAX "\n", (uint64_t)BDRV_REQUEST_MAX_BYTES,
                      g.operands[1]);
        return -EINVAL;
    }
    if (!Pflag && (lflag || sflag))
        return qemuio_usage(ctx, "read");
    if (!lflag)
        pattern_count = count - pattern_offset;
    if (pattern_count < 0 || pattern_count + pattern_offset > count) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PATTERN_RANGE "\n");
        return -EINVAL;
    }
    uint8_t *buf = io_alloc((size_t)count, 0xab);
    if (!buf)
        return -ENOMEM;
    int ret = bdrv_check_byte_request(ctx->bs, offset, count);
    if (ret == 0)
        ret = bdrv_pread(ctx->bs, offset, count, buf, 0);
    if (ret < 0) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_FAILED "\n", "read", strerror(-ret));
        goto out;
    }
    if (Pflag) {
        /* every byte is the pattern: the first is, and each equals the next
         * (one memcmp; a loop per byte costs a coverage callback per byte in
         * the fuzz build) */
        const uint8_t *p = buf + pattern_offset;
        if (pattern_count > 0 &&
            (p[0] != (uint8_t)pattern || memcmp(p, p + 1, (size_t)pattern_count - 1) != 0)) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PATTERN_FAILED "\n",
                          offset + pattern_offset, pattern_count);
            ret = -EINVAL;
        }
    }
    if (qflag)
        goto out;
    if (vflag)
        qemuio_dump_buffer(ctx, buf, offset, count);
    qemuio_print_report(ctx, "read", offset, count, count, 1, Cflag);
out:
    real_buf_free(buf);
    return ret;
}

int qemuio_rw_write_f(QemuIoContext *ctx, int argc, char **argv)
{
    bool Cflag = false, qflag = false, bflag = false, Pflag = false, zflag = false,
         cflag = false, sflag = false;
    int flags = 0, pattern = 0xcd;
    Getopt g;
    if (!qemuio_getopt(ctx, argc, argv, "bcCfnpP:qs:uz", &g))
        return qemuio_usage(ctx, "write");
    for (int i = 0; i < g.nopts; i++) {
        switch (g.opts[i].c) {
        case 'b': bflag = true; break;
        case 'c': cflag = true; break;
        case 'C': Cflag = true; break;
        case 'f': flags |= REAL_REQ_FUA; break;
        case 'n': flags |= REAL_REQ_NO_FALLBACK; break;
        case 'p': break;
        case 'P':
            Pflag = true;
            pattern = qemuio_parse_pattern(ctx, g.opts[i].arg);
            if (pattern < 0)
                return -EINVAL;
            break;
        case 'q': qflag = true; break;
        case 's': sflag = true; break;
        case 'u': flags |= REAL_REQ_MAY_UNMAP; break;
        case 'z': zflag = true; break;
        }
    }
    if (g.noperands != 2)
        return qemuio_usage(ctx, "write");
    if (bflag && zflag) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_B_AND_Z "\n");
        return -EINVAL;
    }
    if ((flags & REAL_REQ_FUA) && (bflag || cflag)) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_F_AND_BC "\n");
        return -EINVAL;
    }
    if ((flags & REAL_REQ_NO_FALLBACK) && !zflag) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_N_NEEDS_Z "\n");
        return -EINVAL;
    }
    if ((flags & REAL_REQ_MAY_UNMAP) && !zflag) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_U_NEEDS_Z "\n");
        return -EINVAL;
    }
    if (zflag + Pflag + sflag > 1) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_ONE_OF_ZPS "\n");
        return -EINVAL;
    }
    int64_t offset = qemuio_cvtnum_arg(ctx, g.operands[0]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(ctx, offset, g.operands[0]);
        return (int)offset;
    }
    int64_t count = qemuio_cvtnum_arg(ctx, g.operands[1]);
    if (count < 0) {
        qemuio_print_cvtnum_err(ctx, count, g.operands[1]);
        return (int)count;
    }
    if (count > BDRV_REQUEST_MAX_BYTES && !(flags & REAL_REQ_NO_FALLBACK)) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_LENGTH_MAX_N "\n",
                      (uint64_t)BDRV_REQUEST_MAX_BYTES, g.operands[1]);
        return -EINVAL;
    }
    if (bflag || cflag) {
        if (offset % BDRV_SECTOR_SIZE) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_UNALIGNED "\n", offset, "offset");
            return -EINVAL;
        }
        if (count % BDRV_SECTOR_SIZE) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_UNALIGNED "\n", count, "count");
            return -EINVAL;
        }
    }
    if (bflag || sflag)
        return QEMUIO_UNSUPPORTED;
    uint8_t *buf = NULL;
    if (!zflag) {
        buf = io_alloc((size_t)count, pattern);
        if (!buf)
            return -ENOMEM;
    }
    int ret;
    if (count > INT_MAX && !cflag) {
        ret = -ERANGE;
    } else {
        ret = bdrv_check_byte_request(ctx->bs, offset, count);
        if (ret == 0) {
            if (zflag)
                ret = bdrv_pwrite_zeroes(ctx->bs, offset, count, flags);
            else if (cflag)
                ret = bdrv_pwrite_compressed(ctx->bs, offset, count, buf);
            else
                ret = bdrv_pwrite(ctx->bs, offset, count, buf, flags);
        }
    }
    if (ret < 0) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_FAILED "\n", "write", strerror(-ret));
        goto out;
    }
    if (!qflag)
        qemuio_print_report(ctx, "wrote", offset, count, count, 1, Cflag);
out:
    real_buf_free(buf);
    return ret;
}

/* create_iovec(): the lengths of readv/writev, summed. */
static int64_t iovec_len(QemuIoContext *ctx, char **argv, int n)
{
    int64_t count = 0;
    for (int i = 0; i < n; i++) {
        int64_t len = qemuio_cvtnum_arg(ctx, argv[i]);
        if (len < 0) {
            qemuio_print_cvtnum_err(ctx, len, argv[i]);
            return -1;
        }
        if (len > BDRV_REQUEST_MAX_BYTES) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_ARG_EXCEEDS "\n", argv[i],
                          (uint64_t)BDRV_REQUEST_MAX_BYTES);
            return -1;
        }
        if (count > BDRV_REQUEST_MAX_BYTES - len) {
            bg_buf_printf(ctx->out, BG_MSG_QEMUIO_TOTAL_EXCEEDS "\n",
                          (uint64_t)BDRV_REQUEST_MAX_BYTES);
            return -1;
        }
        count += len;
    }
    return count;
}

static int rwv_f(QemuIoContext *ctx, int argc, char **argv, bool write)
{
    bool Cflag = false, qflag = false, vflag = false, Pflag = false;
    int flags = 0, pattern = write ? 0xcd : 0;
    const char *name = write ? "writev" : "readv";
    Getopt g;
    if (!qemuio_getopt(ctx, argc, argv, write ? "CfqP:" : "CP:qv", &g))
        return qemuio_usage(ctx, name);
    for (int i = 0; i < g.nopts; i++) {
        switch (g.opts[i].c) {
        case 'C': Cflag = true; break;
        case 'f': flags |= REAL_REQ_FUA; break;
        case 'q': qflag = true; break;
        case 'v': vflag = true; break;
        case 'P':
            Pflag = true;
            pattern = qemuio_parse_pattern(ctx, g.opts[i].arg);
            if (pattern < 0)
                return -EINVAL;
            break;
        }
    }
    if (g.noperands < 2)
        return qemuio_usage(ctx, name);
    int64_t offset = qemuio_cvtnum_arg(ctx, g.operands[0]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(ctx, offset, g.operands[0]);
        return (int)offset;
    }
    int64_t count = iovec_len(ctx, g.operands + 1, g.noperands - 1);
    if (count < 0)
        return -EINVAL;
    uint8_t *buf = io_alloc((size_t)count, write ? pattern : 0xab);
    if (!buf)
        return -ENOMEM;
    int ret = bdrv_check_byte_request(ctx->bs, offset, count);
    if (ret == 0)
        ret = write ? bdrv_pwrite(ctx->bs, offset, count, buf, flags)
                    : bdrv_pread(ctx->bs, offset, count, buf, 0);
    if (ret < 0) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_FAILED "\n", name, strerror(-ret));
        goto out;
    }
    if (!write && Pflag) {
        for (int64_t i = 0; i < count; i++) {
            if (buf[i] != (uint8_t)pattern) {
                bg_buf_printf(ctx->out, BG_MSG_QEMUIO_PATTERN_FAILED "\n", offset, count);
                ret = -EINVAL;
                break;
            }
        }
    }
    if (qflag)
        goto out;
    if (vflag)
        qemuio_dump_buffer(ctx, buf, offset, count);
    qemuio_print_report(ctx, write ? "wrote" : "read", offset, count, count, 1, Cflag);
out:
    real_buf_free(buf);
    return ret;
}

int qemuio_rw_readv_f(QemuIoContext *ctx, int argc, char **argv)
{
    return rwv_f(ctx, argc, argv, false);
}

int qemuio_rw_writev_f(QemuIoContext *ctx, int argc, char **argv)
{
    return rwv_f(ctx, argc, argv, true);
}

int qemuio_rw_discard_f(QemuIoContext *ctx, int argc, char **argv)
{
    bool Cflag = false, qflag = false;
    Getopt g;
    if (!qemuio_getopt(ctx, argc, argv, "Cq", &g))
        return qemuio_usage(ctx, "discard");
    for (int i = 0; i < g.nopts; i++) {
        if (g.opts[i].c == 'C')
            Cflag = true;
        else
            qflag = true;
    }
    if (g.noperands != 2)
        return qemuio_usage(ctx, "discard");
    int64_t offset = qemuio_cvtnum_arg(ctx, g.operands[0]);
    if (offset < 0) {
        qemuio_print_cvtnum_err(ctx, offset, g.operands[0]);
        return (int)offset;
    }
    int64_t bytes = qemuio_cvtnum_arg(ctx, g.operands[1]);
    if (bytes < 0) {
        qemuio_print_cvtnum_err(ctx, bytes, g.operands[1]);
        return (int)bytes;
    }
    if (bytes > BDRV_REQUEST_MAX_BYTES) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_LENGTH_MAX "\n", (uint64_t)BDRV_REQUEST_MAX_BYTES,
                      g.operands[1]);
        return -EINVAL;
    }
    int ret = bdrv_check_byte_request(ctx->bs, offset, bytes);
    if (ret == 0)
        ret = bdrv_pdiscard(ctx->bs, offset, bytes);
    if (ret < 0) {
        bg_buf_printf(ctx->out, BG_MSG_QEMUIO_FAILED "\n", "discard", strerror(-ret));
        return ret;
    }
    if (!qflag)
        qemuio_print_report(ctx, "discard", offset, bytes, bytes, 1, Cflag);
    return 0;
}
