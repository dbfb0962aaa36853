/*
 * qcow2_compress.c: zlib-compressed clusters, written and read.
 *
 * What this is: QEMU 7.2 block/qcow2-threads.c qcow2_compress() and
 * qcow2_decompress() (raw deflate, windowBits -12, memLevel 9, default
 * level and strategy; inflate accepts Z_BUF_ERROR once the cluster is
 * full, because the compressed size is only known to the sector) and
 * block/qcow2.c qcow2_co_pwritev_compressed_part()/_task() (cluster
 * aligned, the last cluster zero-padded at an unaligned image end, data that
 * does not compress below cluster_size - 1 bytes written as a normal
 * cluster, allocation that fails with EIO on an allocated cluster) and
 * qcow2_co_preadv_compressed().
 * What it is not: zstd, or the thread pool (compression runs inline).
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "alloc.h"
#include "bdrv.h"
#include "qcow2.h"

long qcow2_compress_buffer(void *dest, size_t dest_size, const void *src, size_t src_size)
{
    z_stream strm;
    long ret;
    memset(&strm, 0, sizeof(strm));
    if (deflateInit2(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -EIO;
    strm.avail_in = (uInt)src_size;
    strm.next_in = (Bytef *)(uintptr_t)src;
    strm.avail_out = (uInt)dest_size;
    strm.next_out = dest;
    int r = deflate(&strm, Z_FINISH);
    if (r == Z_STREAM_END)
        ret = (long)(dest_size - strm.avail_out);
    else
        ret = r == Z_OK ? -ENOMEM : -EIO;
    deflateEnd(&strm);
    return ret;
}

long qcow2_compress_decompress(void *dest, size_t dest_size, const void *src, size_t src_size)
{
    z_stream strm;
    long ret;
    memset(&strm, 0, sizeof(strm));
    strm.avail_in = (uInt)src_size;
    strm.next_in = (Bytef *)(uintptr_t)src;
    strm.avail_out = (uInt)dest_size;
    strm.next_out = dest;
    if (inflateInit2(&strm, -12) != Z_OK)
        return -EIO;
    int r = inflate(&strm, Z_FINISH);
    ret = ((r == Z_STREAM_END || r == Z_BUF_ERROR) && strm.avail_out == 0) ? 0 : -EIO;
    inflateEnd(&strm);
    return ret;
}

/*
 * QEMU qcow2_alloc_compressed_cluster_offset() and the data write of
 * qcow2_co_pwritev_compressed_task(): the L2 entry is set before the
 * compressed bytes are written, after the overlap check, and a failed
 * write leaves it pointing at bytes never written (a later read of the
 * cluster reads them and fails to inflate them).
 */
static int write_compressed(RealBlockState *bs, uint64_t offset, const void *data,
                            int compressed_size)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice;
    int l2_index;
    int ret = qcow2_cluster_get_table(bs, offset, &l2_slice, &l2_index);
    if (ret < 0)
        return ret;
    /* Compression can't overwrite anything: fail if the cluster is allocated. */
    uint64_t old = qcow2_get_l2_entry(l2_slice, l2_index);
    if (old & L2E_OFFSET_MASK) {
        qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
        return -EIO;
    }
    int64_t cluster_offset = qcow2_refcount_alloc_bytes(bs, compressed_size);
    if (cluster_offset < 0) {
        qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
        return (int)cluster_offset;
    }
    uint64_t nb_csectors = ((uint64_t)cluster_offset + (uint64_t)compressed_size - 1) /
                               QCOW2_COMPRESSED_SECTOR_SIZE -
                           (uint64_t)cluster_offset / QCOW2_COMPRESSED_SECTOR_SIZE;
    uint64_t entry = (uint64_t)cluster_offset | (nb_csectors << s->csize_shift) |
                     QCOW_OFLAG_COMPRESSED;
    bdrv_debug_event(bs->file->bs, "l2_update_compressed");
    qcow2_cache_entry_mark_dirty(s->l2_table_cache, l2_slice);
    qcow2_set_l2_entry(l2_slice, l2_index, entry);
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    ret = qcow2_refcount_pre_write_check(bs, 0, cluster_offset, compressed_size);
    if (ret < 0)
        return ret;
    bdrv_debug_event(bs->file->bs, "write_compressed");
    return bdrv_pwrite(bs->file->bs, cluster_offset, compressed_size, data, 0);
}

/* One cluster (QEMU qcow2_co_pwritev_compressed_task). */
static int compressed_task(RealBlockState *bs, uint64_t offset, uint64_t bytes,
                           const uint8_t *data)
{
    Qcow2State *s = bs->opaque;
    size_t cs = (size_t)s->cluster_size;
    uint8_t *buf = real_buf_alloc(cs);
    uint8_t *out_buf = real_buf_alloc(cs);
    int ret;
    if (!buf || !out_buf) {
        ret = -ENOMEM;
        goto out;
    }
    memcpy(buf, data, bytes);
    if (bytes < cs)
        memset(buf + bytes, 0, cs - bytes);
    long out_len = qcow2_compress_buffer(out_buf, cs - 1, buf, cs);
    if (out_len == -ENOMEM) {
        /* Could not compress: written as a normal cluster. */
        ret = bs->drv->pwrite(bs, (int64_t)offset, (int64_t)bytes, data, 0);
        goto out;
    }
    if (out_len < 0) {
        ret = -EINVAL;
        goto out;
    }
    ret = write_compressed(bs, offset, out_buf, (int)out_len);
out:
    real_buf_free(buf);
    real_buf_free(out_buf);
    return ret;
}

int qcow2_compress_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf)
{
    Qcow2State *s = bs->opaque;
    const uint8_t *p = buf;
    if (bytes == 0) {
        /* Align the end of the file to a sector (qemu-img convert -c does this). */
        int64_t len = bdrv_getlength(bs->file->bs);
        if (len < 0)
            return (int)len;
        return bdrv_truncate(bs->file->bs, len, false, REAL_PREALLOC_OFF, NULL);
    }
    if (qcow2_offset_into_cluster(s, (uint64_t)offset))
        return -EINVAL;
    if (qcow2_offset_into_cluster(s, (uint64_t)bytes) &&
        offset + bytes != bs->total_sectors * BDRV_SECTOR_SIZE)
        return -EINVAL;
    /*
     * qcow2_co_pwritev_compressed_part(): one task per cluster in a pool of
     * QCOW2_MAX_WORKERS; a failed task stops only the tasks not started yet.
     * Each task yields to compress in a thread, so the first eight all
     * start; task k > 8 waits for a slot (task k - 8 done) and starts when
     * none of tasks 1 .. k - 9 had failed at the loop's status check.  The
     * engine runs the tasks one after the other, in that order (QEMU's
     * threads may finish in another, which the model does not answer); the
     * first error is the result.
     */
    int first_err = 0;
    long failed_at = 0;                         /* task number of the first error, 0: none */
    for (long k = 1; bytes > 0; k++) {
        if (failed_at && failed_at <= k - 1 - QCOW2_MAX_WORKERS)
            break;
        uint64_t chunk = (uint64_t)(bytes < s->cluster_size ? bytes : s->cluster_size);
        int ret = compressed_task(bs, (uint64_t)offset, chunk, p);
        if (ret < 0 && !first_err) {
            first_err = ret;
            failed_at = k;
        }
        if (!bs->drv)
            return -ENOMEDIUM;
        offset += (int64_t)chunk;
        bytes -= (int64_t)chunk;
        p += chunk;
    }
    return first_err;
}

int qcow2_compress_pread(RealBlockState *bs, uint64_t l2_entry, uint64_t offset_in_cluster,
                         uint64_t bytes, void *buf)
{
    Qcow2State *s = bs->opaque;
    uint64_t coffset;
    int csize;
    qcow2_cluster_parse_compressed(s, l2_entry, &coffset, &csize);
    if (!s->cluster_cache) {
        s->cluster_cache = real_malloc((size_t)s->cluster_size);
        if (!s->cluster_cache)
            return -ENOMEM;
    }
    uint8_t *in = real_malloc((size_t)csize);
    if (!in)
        return -ENOMEM;
    int ret = bdrv_pread(bs->file->bs, (int64_t)coffset, csize, in, 0);
    if (ret == 0 &&
        qcow2_compress_decompress(s->cluster_cache, (size_t)s->cluster_size, in,
                                  (size_t)csize) < 0)
        ret = -EIO;
    if (ret == 0)
        memcpy(buf, s->cluster_cache + offset_in_cluster, bytes);
    real_free(in);
    return ret;
}
