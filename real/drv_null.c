/*
 * drv_null.c: the "null-co" and "null-aio" protocol drivers.
 *
 * What this is: QEMU 7.2 block/null.c: options size (default 1 GiB),
 * latency-ns ("latency-ns is invalid" when negative) and read-zeroes
 * (default off: a read leaves the caller's buffer untouched, so qemu-io
 * sees its 0xab fill), writes and flushes that do nothing, block status
 * OFFSET_VALID (plus ZERO with read-zeroes), a reopen that changes nothing.
 * What it is not: a sleeping driver: latency-ns is accepted and kept, but
 * no time passes (the engine is deterministic and has no wall clock).
 */
#include <errno.h>
#include <string.h>

#include "bdrv.h"
#include "messages.h"
#include "opts.h"

typedef struct NullState {
    int64_t length;       /* option size */
    int64_t latency_ns;   /* option latency-ns (accepted, not slept) */
    bool read_zeroes;     /* option read-zeroes */
} NullState;

static const char *const null_runtime_opts[] = { "size", "latency-ns", "read-zeroes", NULL };
static const char *const null_mutable_opts[] = { NULL };

static int null_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    NullState *s = bs->opaque;
    uint64_t size;
    if (!opts_get_size(options, "size", 1ull << 30, &size, err) ||
        !opts_get_int(options, "latency-ns", 0, &s->latency_ns, err) ||
        !opts_get_bool(options, "read-zeroes", false, &s->read_zeroes, err))
        return -EINVAL;
    s->length = (int64_t)size;
    bs->supported_write_flags = REAL_REQ_FUA;
    if (s->latency_ns < 0)
        return bg_error_setf(err, BG_MSG_NULL_LATENCY), -EINVAL;
    return 0;
}

static void null_close(RealBlockState *bs)
{
}

static int null_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    NullState *s = bs->opaque;
    if (s->read_zeroes)
        memset(buf, 0, (size_t)bytes);
    return 0;
}

static int null_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                       int flags)
{
    return 0;
}

static int null_flush(RealBlockState *bs)
{
    return 0;
}

static int64_t null_getlength(RealBlockState *bs)
{
    NullState *s = bs->opaque;
    return s->length;
}

static int null_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                             int64_t *pnum, int64_t *map, RealBlockState **file)
{
    NullState *s = bs->opaque;
    *pnum = bytes;
    *map = offset;
    *file = bs;
    return REAL_BLOCK_OFFSET_VALID | (s->read_zeroes ? REAL_BLOCK_ZERO : 0);
}

static int null_reopen_prepare(RealReopenState *rs, BgError *err)
{
    return 0;
}

static void null_reopen_nothing(RealReopenState *rs)
{
}

#define NULL_DRIVER(name)                         \
    {                                             \
        .format_name = name,                      \
        .protocol_name = name,                    \
        .instance_size = sizeof(NullState),       \
        .runtime_opts = null_runtime_opts,        \
        .mutable_opts = null_mutable_opts,        \
        .open = null_open,                        \
        .close = null_close,                      \
        .pread = null_pread,                      \
        .pwrite = null_pwrite,                    \
        .flush_to_disk = null_flush,              \
        .getlength = null_getlength,              \
        .block_status = null_block_status,        \
        .reopen_prepare = null_reopen_prepare,    \
        .reopen_commit = null_reopen_nothing,     \
        .reopen_abort = null_reopen_nothing,      \
    }

const RealDriver drv_null_co = NULL_DRIVER("null-co");
const RealDriver drv_null_aio = NULL_DRIVER("null-aio");
