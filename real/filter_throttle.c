/*
 * filter_throttle.c: the "throttle" filter: I/O through a throttle group.
 *
 * What this is: QEMU 7.2 block/throttle.c: throttle_parse_options() ("Please
 * specify a throttle group", "Throttle group 'G' does not exist"),
 * throttle_open() (the file child first, then the group), membership of
 * the group while open (object-del refuses a group with members), reads and
 * writes accounted in the group's buckets (throttle.h: waits advance the
 * virtual clock), throttle_reopen_prepare/commit/abort (the node moves to
 * the new group on commit).
 * What it is not: group limits changed at run time (qom-set).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "filter.h"
#include "messages.h"
#include "nodedrv.h"
#include "object.h"
#include "throttle.h"

typedef struct ThrottleState {
    RealThrottleGroup *tg;      /* the group this node is a member of */
} ThrottleState;

static RealGraph *graph_of(RealBlockState *bs)
{
    return ((RealNode *)bs->graph)->g;
}

static RealThrottleGroup *parse_options(RealBlockState *bs, json_t *options, BgError *err)
{
    const char *name = json_string_value(json_object_get(options, "throttle-group"));
    if (!name) {
        bg_error_setf(err, BG_MSG_THROTTLE_GROUP_NEEDED);
        return NULL;
    }
    RealThrottleGroup *tg = real_object_throttle_group(graph_of(bs), name);
    if (!tg)
        bg_error_setf(err, BG_MSG_THROTTLE_NO_GROUP, name);
    return tg;
}

static int throttle_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    ThrottleState *s = bs->opaque;
    filter_inherit_flags(bs);
    s->tg = parse_options(bs, options, err);
    if (!s->tg)
        return -EINVAL;
    s->tg->refcount++;
    return 0;
}

static void throttle_close(RealBlockState *bs)
{
    ThrottleState *s = bs->opaque;
    if (s->tg)
        s->tg->refcount--;
    s->tg = NULL;
}

static void account(RealBlockState *bs, bool is_write, int64_t bytes)
{
    ThrottleState *s = bs->opaque;
    real_throttle_account(s->tg, &graph_of(bs)->clock_ns, is_write, (uint64_t)bytes);
}

static int throttle_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf,
                          int flags)
{
    account(bs, false, bytes);
    return filter_pread(bs, offset, bytes, buf, flags);
}

static int throttle_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                           int flags)
{
    account(bs, true, bytes);
    return filter_pwrite(bs, offset, bytes, buf, flags);
}

static int throttle_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    account(bs, true, bytes);
    return filter_pwrite_zeroes(bs, offset, bytes, flags);
}

static int throttle_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    account(bs, true, bytes);
    return filter_pdiscard(bs, offset, bytes);
}

static int throttle_pwrite_compressed(RealBlockState *bs, int64_t offset, int64_t bytes,
                                      const void *buf)
{
    account(bs, true, bytes);
    return filter_pwrite_compressed(bs, offset, bytes, buf);
}

static int throttle_reopen_prepare(RealReopenState *rs, BgError *err)
{
    RealThrottleGroup *tg = parse_options(rs->bs, rs->options, err);
    rs->opaque = tg;
    return tg ? 0 : -EINVAL;
}

static void throttle_reopen_commit(RealReopenState *rs)
{
    ThrottleState *s = rs->bs->opaque;
    RealThrottleGroup *tg = rs->opaque;
    if (tg != s->tg) {
        s->tg->refcount--;
        s->tg = tg;
        tg->refcount++;
    }
    rs->opaque = NULL;
}

static void throttle_reopen_abort(RealReopenState *rs)
{
    rs->opaque = NULL;
}

static const RealDriver drv_throttle = {
    .format_name = "throttle",
    .is_filter = true,
    .instance_size = sizeof(ThrottleState),
    .open = throttle_open,
    .close = throttle_close,
    .pread = throttle_pread,
    .pwrite = throttle_pwrite,
    .pwrite_zeroes = throttle_pwrite_zeroes,
    .pwrite_compressed = throttle_pwrite_compressed,
    .pdiscard = throttle_pdiscard,
    .getlength = filter_getlength,
    .truncate = filter_truncate,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
    .reopen_prepare = throttle_reopen_prepare,
    .reopen_commit = throttle_reopen_commit,
    .reopen_abort = throttle_reopen_abort,
};

const RealNodeDriver real_nd_throttle = {
    .format_name = "throttle",
    .ops = &drv_throttle,
    .is_filter = true,
    .has_reopen = true,
    .open = real_nodedrv_open_filtered,
};
