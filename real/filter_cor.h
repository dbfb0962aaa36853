/*
 * filter_cor.h: copy-on-read, for the copy-on-read filter and the stream
 * job (see filter_cor.c).
 */
#ifndef REAL_FILTER_COR_H
#define REAL_FILTER_COR_H

#include "driver.h"

/*
 * block/io.c bdrv_co_do_copy_on_readv() on BS: read [offset, offset+bytes)
 * into BUF (NULL: prefetch only), copying what BS does not have yet from
 * its backing chain into BS.
 */
int filter_cor_read(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf);
/* cor_co_preadv_part() on a copy-on-read node (BUF NULL: prefetch). */
int filter_cor_preadv(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf);
/* bdrv_cor_filter_drop()'s first step: unfreeze the chain to the bottom. */
void filter_cor_unfreeze(RealBlockState *bs);

#endif
