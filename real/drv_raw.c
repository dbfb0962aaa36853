/*
 * drv_raw.c: the "raw" format driver, a window onto its file child.
 *
 * What this is: QEMU 7.2 block/raw-format.c: options offset and size
 * (raw_read_options), their checks against the file's length with QEMU's
 * texts (raw_apply_options: "Offset (N) cannot be greater than ...", "The
 * sum of offset (N) and size (N) has to be smaller or equal to the  actual
 * size ..." with its two spaces, "Specified size is not multiple of 512"),
 * requests shifted by offset and bounded by size (raw_adjust_offset: ENOSPC
 * for writes, EINVAL for reads beyond the window), the read_aio and
 * write_aio events of data requests, block status passed down
 * as RAW, reopen of offset and size staged and committed (raw_reopen_*).
 * What it is not: format probing (the probed-raw write guard of sector 0)
 * or SCSI generic devices.  Child roles are the graph's: with neither
 * offset nor size the file child is FILTERED|PRIMARY, else DATA|PRIMARY.
 */
#include <errno.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "opts.h"

typedef struct RawState {
    uint64_t offset;      /* start of the window in the file */
    uint64_t size;        /* length of the window */
    bool has_size;        /* size was given (else it follows the file) */
} RawState;

static const char *const raw_runtime_opts[] = { "offset", "size", NULL };
static const char *const raw_mutable_opts[] = { "offset", "size", NULL };

/* QEMU raw_read_options() */
static bool read_options(json_t *options, uint64_t *offset, bool *has_size, uint64_t *size,
                         BgError *err)
{
    *has_size = opts_has(options, "size");
    return opts_get_size(options, "offset", 0, offset, err) &&
           opts_get_size(options, "size", 0, size, err);
}

/* QEMU raw_apply_options() */
static int apply_options(RealBlockState *bs, RawState *s, uint64_t offset, bool has_size,
                         uint64_t size, BgError *err)
{
    int64_t real_size = bdrv_getlength(bs->file->bs);
    if (real_size < 0) {
        bg_error_setf(err, BG_MSG_RAW_GET_SIZE, strerror((int)-real_size));
        return (int)real_size;
    }
    if (offset > (uint64_t)real_size) {
        bg_error_setf(err, BG_MSG_RAW_OFFSET_TOO_BIG, offset, real_size);
        return -EINVAL;
    }
    if (has_size && (uint64_t)real_size - offset < size) {
        bg_error_setf(err, BG_MSG_RAW_SUM_TOO_BIG, offset, size, real_size);
        return -EINVAL;
    }
    if (has_size && size % BDRV_SECTOR_SIZE) {
        bg_error_setf(err, BG_MSG_RAW_SIZE_ALIGN, (unsigned long long)BDRV_SECTOR_SIZE);
        return -EINVAL;
    }
    s->offset = offset;
    s->has_size = has_size;
    s->size = has_size ? size : (uint64_t)real_size - offset;
    return 0;
}

static int raw_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    RawState *s = bs->opaque;
    uint64_t offset, size;
    bool has_size;
    if (!bs->file || !bs->file->bs)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, "file"), -EINVAL;
    if (!read_options(options, &offset, &has_size, &size, err))
        return -EINVAL;
    RealBlockState *file = bs->file->bs;
    bs->supported_write_flags = REAL_REQ_FUA & file->supported_write_flags;
    bs->supported_zero_flags = (REAL_REQ_FUA | REAL_REQ_MAY_UNMAP | REAL_REQ_NO_FALLBACK) &
                               file->supported_zero_flags;
    real_free(bs->filename);
    bs->filename = real_strdup(file->filename);
    if (!bs->filename)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    return apply_options(bs, s, offset, has_size, size, err);
}

static void raw_close(RealBlockState *bs)
{
}

/* QEMU raw_adjust_offset() */
static int adjust_offset(RealBlockState *bs, int64_t *offset, int64_t bytes, bool is_write)
{
    RawState *s = bs->opaque;
    if (s->has_size && ((uint64_t)*offset > s->size || (uint64_t)bytes > s->size - (uint64_t)*offset))
        return is_write ? -ENOSPC : -EINVAL;
    if ((uint64_t)*offset > INT64_MAX - s->offset)
        return -EINVAL;
    *offset += (int64_t)s->offset;
    return 0;
}

/* raw_co_preadv() and raw_co_pwritev() tell the file "read_aio" and
 * "write_aio" (blkdebug rules on those events) once the window check
 * passed; a zero write and a discard tell it nothing. */
static int raw_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    int ret = adjust_offset(bs, &offset, bytes, false);
    if (ret < 0)
        return ret;
    bdrv_debug_event(bs->file->bs, "read_aio");
    return bdrv_pread(bs->file->bs, offset, bytes, buf, flags);
}

static int raw_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                      int flags)
{
    int ret = adjust_offset(bs, &offset, bytes, true);
    if (ret < 0)
        return ret;
    bdrv_debug_event(bs->file->bs, "write_aio");
    return bdrv_pwrite(bs->file->bs, offset, bytes, buf, flags);
}

static int raw_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    int ret = adjust_offset(bs, &offset, bytes, true);
    return ret < 0 ? ret : bdrv_child_pwrite_zeroes(bs->file->bs, offset, bytes, flags);
}

static int raw_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    int ret = adjust_offset(bs, &offset, bytes, true);
    return ret < 0 ? ret : bdrv_pdiscard(bs->file->bs, offset, bytes);
}

/* QEMU raw_getlength(): follows the file unless a size was given. */
static int64_t raw_getlength(RealBlockState *bs)
{
    RawState *s = bs->opaque;
    int64_t len = bdrv_getlength(bs->file->bs);
    if (len < 0)
        return len;
    if ((uint64_t)len < s->offset)
        s->size = 0;
    else if (s->has_size)
        s->size = s->size < (uint64_t)len - s->offset ? s->size : (uint64_t)len - s->offset;
    else
        s->size = (uint64_t)len - s->offset;
    return (int64_t)s->size;
}

static int raw_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                        BgError *err)
{
    RawState *s = bs->opaque;
    if (s->has_size)
        return bg_error_setf(err, BG_MSG_RAW_FIXED_SIZE), -ENOTSUP;
    if (INT64_MAX - offset < (int64_t)s->offset)
        return bg_error_setf(err, BG_MSG_RAW_OFFSET_TOO_LARGE), -EINVAL;
    s->size = (uint64_t)offset;
    return bdrv_truncate(bs->file->bs, offset + (int64_t)s->offset, exact, prealloc, err);
}

static int raw_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                            int64_t *pnum, int64_t *map, RealBlockState **file)
{
    RawState *s = bs->opaque;
    *pnum = bytes;
    *file = bs->file->bs;
    *map = offset + (int64_t)s->offset;
    return REAL_BLOCK_RAW | REAL_BLOCK_OFFSET_VALID;
}

static int raw_get_info(RealBlockState *bs, RealDriverInfo *bdi)
{
    return bdrv_get_info(bs->file->bs, bdi);
}

static int raw_reopen_prepare(RealReopenState *rs, BgError *err)
{
    RawState *n = real_calloc(1, sizeof(*n));
    uint64_t offset, size;
    bool has_size;
    if (!n)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    rs->opaque = n;
    if (!read_options(rs->options, &offset, &has_size, &size, err))
        return -EINVAL;
    return apply_options(rs->bs, n, offset, has_size, size, err);
}

static void raw_reopen_commit(RealReopenState *rs)
{
    RawState *s = rs->bs->opaque;
    memcpy(s, rs->opaque, sizeof(*s));
    real_free(rs->opaque);
    rs->opaque = NULL;
    rs->bs->total_sectors = (int64_t)((s->size + BDRV_SECTOR_SIZE - 1) / BDRV_SECTOR_SIZE);
}

static void raw_reopen_abort(RealReopenState *rs)
{
    real_free(rs->opaque);
    rs->opaque = NULL;
}

const RealDriver drv_raw = {
    .format_name = "raw",
    .instance_size = sizeof(RawState),
    .is_format = true,
    .has_variable_length = true,
    .runtime_opts = raw_runtime_opts,
    .mutable_opts = raw_mutable_opts,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .pdiscard = raw_pdiscard,
    .getlength = raw_getlength,
    .truncate = raw_truncate,
    .block_status = raw_block_status,
    .get_info = raw_get_info,
    .reopen_prepare = raw_reopen_prepare,
    .reopen_commit = raw_reopen_commit,
    .reopen_abort = raw_reopen_abort,
};
