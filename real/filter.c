/*
 * filter.c: pass-through slots for filters (see filter.h).
 *
 * Mirrors the forwarding functions of QEMU 7.2 block/throttle.c,
 * block/filter-compress.c, block/copy-on-read.c and block/io.c
 * bdrv_co_block_status_from_file()/_from_backing() and bdrv_get_info()'s
 * "filtered child" fallback.
 */
#include "filter.h"

#include <errno.h>

#include "bdrv.h"
#include "graph.h"
#include "messages.h"

RealBlockState *filter_child(RealBlockState *bs)
{
    if (bs->file)
        return bs->file->bs;
    return bs->backing ? bs->backing->bs : NULL;
}

int filter_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_pread(c, offset, bytes, buf, flags) : -ENOMEDIUM;
}

int filter_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf, int flags)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_pwrite(c, offset, bytes, buf, flags) : -ENOMEDIUM;
}

int filter_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_child_pwrite_zeroes(c, offset, bytes, flags) : -ENOMEDIUM;
}

int filter_pwrite_compressed(RealBlockState *bs, int64_t offset, int64_t bytes,
                             const void *buf)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_pwrite_compressed(c, offset, bytes, buf) : -ENOMEDIUM;
}

int filter_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_pdiscard(c, offset, bytes) : -ENOMEDIUM;
}

int64_t filter_getlength(RealBlockState *bs)
{
    RealBlockState *c = filter_child(bs);
    if (!c)
        return -ENOMEDIUM;
    return bdrv_getlength(c);
}

int filter_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                        int64_t *pnum, int64_t *map, RealBlockState **file)
{
    *pnum = bytes;
    *map = offset;
    *file = filter_child(bs);
    return REAL_BLOCK_RAW | REAL_BLOCK_OFFSET_VALID;
}

int filter_get_info(RealBlockState *bs, RealDriverInfo *bdi)
{
    RealBlockState *c = filter_child(bs);
    return c ? bdrv_get_info(c, bdi) : -ENOTSUP;
}

int filter_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                    BgError *err)
{
    RealBlockState *c = filter_child(bs);
    if (!c)
        return bg_error_setf(err, BG_MSG_TRUNCATE_NO_MEDIUM), -ENOMEDIUM;
    return bdrv_truncate(c, offset, exact, prealloc, err);
}

void filter_inherit_flags(RealBlockState *bs)
{
    RealBlockState *c = filter_child(bs);
    if (!c)
        return;
    bs->supported_write_flags = REAL_REQ_FUA & c->supported_write_flags;
    bs->supported_zero_flags = (REAL_REQ_FUA | REAL_REQ_MAY_UNMAP | REAL_REQ_NO_FALLBACK) &
                               c->supported_zero_flags;
}

int filter_reopen_prepare(RealReopenState *rs, BgError *err)
{
    (void)rs;
    (void)err;
    return 0;
}

void filter_reopen_nothing(RealReopenState *rs)
{
    (void)rs;
}
