/*
 * filter_cor.c: the "copy-on-read" filter, and copy-on-read itself.
 *
 * What this is: QEMU 7.2 block/copy-on-read.c (cor_open() with "bottom":
 * "Bottom node 'X' not found" / "is a filter", the chain to the bottom
 * frozen while open; cor_child_perm(): consistent read, write and resize
 * passed through, write unchanged always taken and shared;
 * cor_co_preadv_part(): reads copy data from below into the child, limited
 * to what is allocated above the bottom) and the copy-on-read path of
 * block/io.c bdrv_aligned_preadv() and bdrv_co_do_copy_on_readv() (a request
 * the child holds whole is only read; else whole clusters of the child:
 * allocated parts are read; each run the child lacks, up to its
 * max_transfer and MAX_BOUNCE_BUFFER, is read through the backing chain
 * and written into the child whole, as a zero write if all of it is
 * zeroes), and bdrv_aligned_preadv()'s cut of a request at the filter's
 * max_transfer.
 * No reopen handler.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "bg.h"
#include "child.h"
#include "filter.h"
#include "filter_cor.h"
#include "messages.h"
#include "nodedrv.h"

typedef struct CorState {
    RealNode *bottom;        /* the node copying stops above (referenced), or NULL */
    bool chain_frozen;
} CorState;

static RealNode *node_of(RealBlockState *bs)
{
    return bs->graph;
}

int filter_cor_read(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf)
{
    /* bdrv_aligned_preadv(): a request the child holds whole is only read */
    int64_t held = 0;
    if (bdrv_is_allocated(bs, offset, bytes, &held) > 0 && held == bytes)
        return buf ? bdrv_pread(bs, offset, bytes, buf, 0) : 0;
    /* bdrv_round_to_clusters(): whole clusters of a child that has a
     * cluster size, else the request as it is */
    RealDriverInfo bdi;
    int64_t cluster = bdrv_get_info(bs, &bdi) >= 0 && bdi.cluster_size ? bdi.cluster_size : 1;
    int64_t len = bdrv_getlength(bs);
    int64_t cstart = offset / cluster * cluster;
    int64_t cend = (offset + bytes + cluster - 1) / cluster * cluster;
    if (cend > len)
        cend = len > offset + bytes ? len : offset + bytes;
    /* bdrv_co_do_copy_on_readv(): each run that block status says the
     * child lacks is read and written whole, up to MAX_BOUNCE_BUFFER (the
     * zero test covers the whole run); max_transfer bounds the status
     * query (MIN_NON_ZERO(bs->bl.max_transfer, BDRV_REQUEST_MAX_BYTES)) */
    int64_t max_transfer = bs->bl.max_transfer && (int64_t)bs->bl.max_transfer <
                                                      BDRV_REQUEST_MAX_BYTES
                               ? (int64_t)bs->bl.max_transfer
                               : BDRV_REQUEST_MAX_BYTES;
    uint8_t *bounce = NULL;
    int ret = 0;

    for (int64_t pos = cstart; pos < cend;) {
        int64_t chunk = cend - pos < max_transfer ? cend - pos : max_transfer;
        int64_t pnum = 0;
        int alloc = bdrv_is_allocated(bs, pos, chunk, &pnum);
        if (alloc < 0 || pnum <= 0) {
            alloc = 0;
            pnum = chunk;
        }
        if (!alloc && pnum > BDRV_MAX_BOUNCE_BUFFER)
            pnum = BDRV_MAX_BOUNCE_BUFFER;
        /* the part of [pos, pos+pnum) the caller asked for */
        int64_t a = pos > offset ? pos : offset;
        int64_t b = pos + pnum < offset + bytes ? pos + pnum : offset + bytes;
        if (!alloc) {
            if (!bounce) {
                /* as large as the biggest run can be, no larger */
                int64_t need = pnum > cend - pos - pnum ? pnum : cend - pos - pnum;
                int64_t allowed = max_transfer < BDRV_MAX_BOUNCE_BUFFER ? max_transfer
                                                                        : BDRV_MAX_BOUNCE_BUFFER;
                bounce = real_malloc((size_t)(need < allowed ? need : allowed));
                if (!bounce)
                    return -ENOMEM;
            }
            ret = bdrv_pread(bs, pos, pnum, bounce, 0);
            if (ret < 0)
                break;
            if (bs->drv->pwrite_zeroes && bdrv_buffer_is_zero(bounce, (size_t)pnum))
                ret = bdrv_pwrite_zeroes(bs, pos, pnum, 0);
            else
                ret = bdrv_pwrite(bs, pos, pnum, bounce, 0);
            if (ret < 0)
                break;
            if (buf && b > a)
                memcpy((uint8_t *)buf + (a - offset), bounce + (a - pos), (size_t)(b - a));
        } else if (buf && b > a) {
            ret = bdrv_pread(bs, a, b - a, (uint8_t *)buf + (a - offset), 0);
            if (ret < 0)
                break;
        }
        pos += pnum;
    }
    real_free(bounce);
    return ret;
}

static int cor_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    CorState *s = bs->opaque;
    RealNode *n = node_of(bs);
    filter_inherit_flags(bs);
    const char *bottom = json_string_value(json_object_get(options, "bottom"));
    if (bottom) {
        RealNode *b = real_graph_find_node(n->g, bottom);
        if (!b)
            return bg_error_setf(err, BG_MSG_COR_BOTTOM_NOT_FOUND, bottom), -EINVAL;
        if (!b->drv)
            return bg_error_setf(err, BG_MSG_COR_BOTTOM_NOT_OPENED, bottom), -EINVAL;
        if (b->drv->is_filter)
            return bg_error_setf(err, BG_MSG_COR_BOTTOM_FILTER, bottom), -EINVAL;
        /* the node is not linked to its drv yet: freeze from its file child */
        if (real_child_freeze_chain(n, b, err) < 0)
            return -EINVAL;
        s->chain_frozen = true;
        real_node_hold(b);    /* held by this filter */
        s->bottom = b;
    }
    return 0;
}

void filter_cor_unfreeze(RealBlockState *bs)
{
    CorState *s = bs->opaque;
    if (s && s->chain_frozen) {
        s->chain_frozen = false;
        real_child_unfreeze_chain(node_of(bs), s->bottom);
    }
}

static void cor_close(RealBlockState *bs)
{
    CorState *s = bs->opaque;
    if (s->chain_frozen) {
        s->chain_frozen = false;
        real_child_unfreeze_chain(node_of(bs), s->bottom);
    }
    real_node_release(s->bottom);
    s->bottom = NULL;
}

/* cor_co_preadv_part(); BUF NULL is BDRV_REQ_PREFETCH. */
int filter_cor_preadv(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf)
{
    CorState *s = bs->opaque;
    RealBlockState *child = filter_child(bs);
    if (!s->bottom)
        return filter_cor_read(child, offset, bytes, buf);
    RealNode *cn = child->graph;
    while (bytes > 0) {
        bool copy = false;
        int64_t n = bytes;
        int ret = bdrv_is_allocated(child, offset, bytes, &n);
        if (ret <= 0) {
            RealNode *next = real_node_backing_chain_next(cn);
            int64_t m = n > 0 ? n : bytes;
            ret = next ? real_child_is_allocated_above(next, s->bottom, true, offset, m, &n)
                       : (n = m, 0);
            if (ret != 0)
                copy = true;
            if (n == 0)
                break;
        }
        if (copy) {
            ret = filter_cor_read(child, offset, n, buf);
        } else if (buf) {
            ret = bdrv_pread(child, offset, n, buf, 0);
        } else {
            ret = 0;
        }
        if (ret < 0)
            return ret;
        offset += n;
        if (buf)
            buf = (uint8_t *)buf + n;
        bytes -= n;
    }
    return 0;
}

static int cor_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    /* bdrv_aligned_preadv() on the filter: a request longer than its
     * max_transfer reaches cor_co_preadv_part() in pieces, each copied on
     * read by itself */
    int64_t max = bs->bl.max_transfer && bs->bl.max_transfer < INT32_MAX
                      ? (int64_t)bs->bl.max_transfer : INT32_MAX;
    while (bytes > 0) {
        int64_t n = bytes < max ? bytes : max;
        int ret = filter_cor_preadv(bs, offset, n, buf);
        if (ret < 0)
            return ret;
        offset += n;
        bytes -= n;
        if (buf)
            buf = (uint8_t *)buf + n;
    }
    return 0;
}

#define COR_PASSTHROUGH (REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE | REAL_PERM_RESIZE)

static void cor_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                           uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    *nperm = perm & COR_PASSTHROUGH;
    *nshared = (shared & COR_PASSTHROUGH) | (REAL_PERM_ALL & ~COR_PASSTHROUGH);
    if (!(n->open_flags & REAL_O_INACTIVE))
        *nperm |= REAL_PERM_WRITE_UNCHANGED;
}

static const RealDriver drv_cor = {
    .has_variable_length = true,
    .format_name = "copy-on-read",
    .is_filter = true,
    .instance_size = sizeof(CorState),
    .open = cor_open,
    .close = cor_close,
    .pread = cor_pread,
    .pwrite = filter_pwrite,
    .pwrite_zeroes = filter_pwrite_zeroes,
    .pwrite_compressed = filter_pwrite_compressed,
    .pdiscard = filter_pdiscard,
    .getlength = filter_getlength,
    .truncate = filter_truncate,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
};

const RealNodeDriver real_nd_copy_on_read = {
    .format_name = "copy-on-read",
    .ops = &drv_cor,
    .is_filter = true,
    .open = real_nodedrv_open_filtered,
    .child_perm = cor_child_perm,
};
