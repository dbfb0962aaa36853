/*
 * filter.h: the pass-through data path shared by filter drivers.
 *
 * What this is: what QEMU 7.2 filter drivers write out one by one
 * (throttle, compress, copy-on-read, blkdebug, blkverify, commit_top,
 * mirror_top): reads, writes, zero writes, discards and compressed writes
 * forwarded to the filtered child, the length and the allocation status of
 * the child (bdrv_co_block_status_from_file / _from_backing), and
 * bdrv_get_info() forwarding for query output.  A driver fills its slots
 * with these where it does nothing special.
 * What it is not: a driver of its own.
 */
#ifndef REAL_FILTER_H
#define REAL_FILTER_H

#include "driver.h"

/* The filtered child: bs->file, or bs->backing for commit_top / mirror_top. */
RealBlockState *filter_child(RealBlockState *bs);

int filter_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags);
int filter_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf, int flags);
int filter_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags);
int filter_pwrite_compressed(RealBlockState *bs, int64_t offset, int64_t bytes,
                             const void *buf);
int filter_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes);
int64_t filter_getlength(RealBlockState *bs);
int filter_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                        int64_t *pnum, int64_t *map, RealBlockState **file);
int filter_get_info(RealBlockState *bs, RealDriverInfo *bdi);
int filter_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                    BgError *err);
/* The child's zero-write flags become the filter's (supported_zero_flags). */
void filter_inherit_flags(RealBlockState *bs);
/* A reopen handler that consumes nothing. */
int filter_reopen_prepare(RealReopenState *rs, BgError *err);
void filter_reopen_nothing(RealReopenState *rs);

#endif
