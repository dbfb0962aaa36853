/*
 * filter_compress.c: the "compress" filter: every write becomes a
 * compressed write on the child.
 *
 * What this is: QEMU 7.2 block/filter-compress.c: compress_open() (the
 * child must be able to write compressed data: "Compression is not
 * supported for underlying format: F"), writes forwarded with
 * BDRV_REQ_WRITE_COMPRESSED, compress_refresh_limits() (request alignment =
 * the child's cluster size, so block/io.c pads a partial write with the
 * surrounding data: done here as a read-modify-write), zero writes and
 * discards forwarded unchanged.  No reopen handler ("does not support
 * reopening files").  No bdrv_co_pwritev_compressed(_part) either: a
 * compress node cannot stand below another compress node, and a compressed
 * write that reaches it fails with -ENOTSUP (bdrv_driver_pwritev_compressed()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "filter.h"
#include "messages.h"
#include "nodedrv.h"

typedef struct CompressState {
    int64_t align;     /* the child's cluster size, or 1 */
} CompressState;

static bool can_compress(RealBlockState *bs)
{
    return bs && bs->drv && bs->drv->pwrite_compressed;
}

static int compress_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    CompressState *s = bs->opaque;
    RealBlockState *c = filter_child(bs);
    if (!can_compress(c)) {
        const char *fmt = c && c->drv ? c->drv->format_name : "(no format)";
        bg_error_setf(err, BG_MSG_COMPRESS_UNSUPPORTED, fmt);
        return -ENOTSUP;
    }
    filter_inherit_flags(bs);
    RealDriverInfo bdi;
    s->align = bdrv_get_info(c, &bdi) >= 0 && bdi.cluster_size ? bdi.cluster_size : 1;
    return 0;
}

static int compress_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                           int flags)
{
    CompressState *s = bs->opaque;
    RealBlockState *c = filter_child(bs);
    int64_t a = s->align;
    int64_t start = offset / a * a;
    int64_t end = (offset + bytes + a - 1) / a * a;
    int64_t len = bdrv_getlength(c);
    if (end > len && len >= offset + bytes)
        end = len;
    if (start == offset && end == offset + bytes)
        return bdrv_pwrite(c, offset, bytes, buf, flags | REAL_REQ_WRITE_COMPRESSED);
    /* bdrv_co_pwritev_part(): pad to the alignment with what is there */
    uint8_t *bounce = real_malloc((size_t)(end - start));
    if (!bounce)
        return -ENOMEM;
    int ret = bdrv_pread(c, start, end - start, bounce, 0);
    if (ret == 0) {
        memcpy(bounce + (offset - start), buf, (size_t)bytes);
        ret = bdrv_pwrite(c, start, end - start, bounce, flags | REAL_REQ_WRITE_COMPRESSED);
    }
    real_free(bounce);
    return ret;
}

static const RealDriver drv_compress = {
    .has_variable_length = true,
    .format_name = "compress",
    .is_filter = true,
    .instance_size = sizeof(CompressState),
    .open = compress_open,
    .pread = filter_pread,
    .pwrite = compress_pwrite,
    .pwrite_zeroes = filter_pwrite_zeroes,
    .pdiscard = filter_pdiscard,
    .getlength = filter_getlength,
    .truncate = filter_truncate,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
};

const RealNodeDriver real_nd_compress = {
    .format_name = "compress",
    .ops = &drv_compress,
    .is_filter = true,
    .open = real_nodedrv_open_filtered,
};
