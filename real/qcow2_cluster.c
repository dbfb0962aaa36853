/*
 * qcow2_cluster.c: guest-to-host mapping through the L1 table and L2 slices.
 *
 * What this is: QEMU 7.2 block/qcow2-cluster.c without subclusters: L1
 * growth and single-entry L1 writes (qcow2_grow_l1_table,
 * qcow2_write_l1_entry), L2 allocation with COW of a shared table
 * (l2_allocate, get_cluster_table), lookup of contiguous runs
 * (qcow2_get_host_offset), write allocation in QEMU's order (keep COPIED
 * clusters in place, then allocate a contiguous run, extending the previous
 * one with alloc_clusters_at: handle_copied, handle_alloc,
 * calculate_l2_meta), copy-on-write and L2 linking (perform_cow,
 * qcow2_alloc_cluster_link_l2), compressed descriptors, zero clusters
 * (zero_in_l2_slice) and discard (discard_in_l2_slice).
 * What it is not: extended L2 entries, external data files, the in-flight
 * dependency tracking of concurrent requests (requests never overlap here).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "qcow2.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ROUND_UP(n, d) (DIV_ROUND_UP(n, d) * (d))
#define L1E_SIZE 8
#define INV_OFFSET (~0ull)

/* ---- L1 ---------------------------------------------------------------------- */

int qcow2_cluster_grow_l1_table(RealBlockState *bs, uint64_t min_size, bool exact_size)
{
    Qcow2State *s = bs->opaque;
    int64_t new_l1_size, new_l1_table_offset;
    int ret;

    if (min_size <= (uint64_t)s->l1_size)
        return 0;
    if (min_size > INT_MAX / L1E_SIZE)
        return -EFBIG;
    if (exact_size) {
        new_l1_size = (int64_t)min_size;
    } else {
        new_l1_size = s->l1_size ? s->l1_size : 1;
        while ((int64_t)min_size > new_l1_size)
            new_l1_size = DIV_ROUND_UP(new_l1_size * 3, 2);
    }
    if (new_l1_size > QCOW_MAX_L1_SIZE / L1E_SIZE)
        return -EFBIG;

    int64_t new_l1_size2 = L1E_SIZE * new_l1_size;
    uint64_t *new_l1_table = real_calloc((size_t)new_l1_size, L1E_SIZE);
    if (!new_l1_table)
        return -ENOMEM;
    if (s->l1_size)
        memcpy(new_l1_table, s->l1_table, (size_t)s->l1_size * L1E_SIZE);

    new_l1_table_offset = qcow2_refcount_alloc_clusters(bs, (uint64_t)new_l1_size2);
    if (new_l1_table_offset < 0) {
        real_free(new_l1_table);
        return (int)new_l1_table_offset;
    }
    ret = qcow2_cache_flush(bs, s->refcount_block_cache);
    if (ret < 0)
        goto fail;
    for (int i = 0; i < s->l1_size; i++)
        new_l1_table[i] = htobe64(new_l1_table[i]);
    ret = bdrv_pwrite(bs->file->bs, new_l1_table_offset, new_l1_size2, new_l1_table, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    for (int i = 0; i < s->l1_size; i++)
        new_l1_table[i] = be64toh(new_l1_table[i]);
    if (ret < 0)
        goto fail;

    /* Activate: l1_size (be32) and l1_table_offset (be64) at header offset 36. */
    uint8_t data[12];
    uint32_t d32 = htobe32((uint32_t)new_l1_size);
    uint64_t d64 = htobe64((uint64_t)new_l1_table_offset);
    memcpy(data, &d32, 4);
    memcpy(data + 4, &d64, 8);
    ret = bdrv_pwrite(bs->file->bs, 36, sizeof(data), data, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    if (ret < 0)
        goto fail;

    real_free(s->l1_table);
    int64_t old_l1_table_offset = (int64_t)s->l1_table_offset;
    int64_t old_l1_size = s->l1_size;
    s->l1_table_offset = (uint64_t)new_l1_table_offset;
    s->l1_table = new_l1_table;
    s->l1_size = (int)new_l1_size;
    qcow2_refcount_free_clusters(bs, old_l1_table_offset, old_l1_size * L1E_SIZE,
                                 QCOW2_DISCARD_OTHER);
    return 0;
fail:
    real_free(new_l1_table);
    qcow2_refcount_free_clusters(bs, new_l1_table_offset, new_l1_size2, QCOW2_DISCARD_OTHER);
    return ret;
}

int qcow2_cluster_write_l1_entry(RealBlockState *bs, int l1_index)
{
    Qcow2State *s = bs->opaque;
    /* QEMU writes the file's request_alignment worth of entries (at least one). */
    int bufsize = MAX(L1E_SIZE, MIN((int)bs->file->bs->bl.request_alignment, s->cluster_size));
    int nentries = bufsize / L1E_SIZE;
    uint64_t *buf = real_calloc((size_t)nentries, sizeof(uint64_t));
    if (!buf)
        return -ENOMEM;
    int l1_start_index = l1_index / nentries * nentries;
    for (int i = 0; i < MIN(nentries, s->l1_size - l1_start_index); i++)
        buf[i] = htobe64(s->l1_table[l1_start_index + i]);
    int ret = bdrv_pwrite(bs->file->bs,
                          (int64_t)(s->l1_table_offset + (uint64_t)L1E_SIZE * l1_start_index),
                          bufsize, buf, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    real_free(buf);
    return ret;
}

/* ---- L2 tables -------------------------------------------------------------- */

static int l2_load(RealBlockState *bs, uint64_t offset, uint64_t l2_offset, uint64_t **l2_slice)
{
    Qcow2State *s = bs->opaque;
    int start_of_slice = 8 * (qcow2_offset_to_l2_index(s, offset) -
                              qcow2_offset_to_l2_slice_index(s, offset));
    return qcow2_cache_get(bs, s->l2_table_cache, l2_offset + (uint64_t)start_of_slice,
                           (void **)l2_slice);
}

/* QEMU l2_allocate(): a new L2 table for L1_INDEX, copying the old one if any. */
static int l2_allocate(RealBlockState *bs, int l1_index)
{
    Qcow2State *s = bs->opaque;
    uint64_t old_l2_offset = s->l1_table[l1_index];
    uint64_t *l2_slice = NULL;
    int64_t l2_offset;
    int ret;

    l2_offset = qcow2_refcount_alloc_clusters(bs, (uint64_t)s->l2_size * 8);
    if (l2_offset < 0)
        return (int)l2_offset;
    if (l2_offset == 0) {
        qcow2_header_signal_corruption(bs, true, "Preventing invalid allocation of L2 table "
                                       "at offset 0");
        ret = -EIO;
        goto fail;
    }
    ret = qcow2_cache_flush(bs, s->refcount_block_cache);
    if (ret < 0)
        goto fail;

    int slice_size2 = s->l2_slice_size * 8;
    int n_slices = s->cluster_size / slice_size2;
    for (int slice = 0; slice < n_slices; slice++) {
        ret = qcow2_cache_get_empty(bs, s->l2_table_cache,
                                    (uint64_t)l2_offset + (uint64_t)(slice * slice_size2),
                                    (void **)&l2_slice);
        if (ret < 0)
            goto fail;
        if ((old_l2_offset & L1E_OFFSET_MASK) == 0) {
            memset(l2_slice, 0, (size_t)slice_size2);
        } else {
            uint64_t *old_slice;
            uint64_t old_off = (old_l2_offset & L1E_OFFSET_MASK) + (uint64_t)(slice * slice_size2);
            ret = qcow2_cache_get(bs, s->l2_table_cache, old_off, (void **)&old_slice);
            if (ret < 0)
                goto fail;
            memcpy(l2_slice, old_slice, (size_t)slice_size2);
            qcow2_cache_put(s->l2_table_cache, (void **)&old_slice);
        }
        qcow2_cache_entry_mark_dirty(s->l2_table_cache, l2_slice);
        qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    }
    ret = qcow2_cache_flush(bs, s->l2_table_cache);
    if (ret < 0)
        goto fail;

    s->l1_table[l1_index] = (uint64_t)l2_offset | QCOW_OFLAG_COPIED;
    ret = qcow2_cluster_write_l1_entry(bs, l1_index);
    if (ret < 0)
        goto fail;
    return 0;

fail:
    if (l2_slice)
        qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    s->l1_table[l1_index] = old_l2_offset;
    if (l2_offset > 0)
        qcow2_refcount_free_clusters(bs, l2_offset, (int64_t)s->l2_size * 8,
                                     QCOW2_DISCARD_ALWAYS);
    return ret;
}

int qcow2_cluster_get_table(RealBlockState *bs, uint64_t offset, uint64_t **new_l2_slice,
                            int *new_l2_index)
{
    Qcow2State *s = bs->opaque;
    int l1_index = qcow2_offset_to_l1_index(s, offset);
    int ret;

    if (l1_index >= s->l1_size) {
        ret = qcow2_cluster_grow_l1_table(bs, (uint64_t)l1_index + 1, false);
        if (ret < 0)
            return ret;
    }
    uint64_t l2_offset = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    if (qcow2_offset_into_cluster(s, l2_offset)) {
        qcow2_header_signal_corruption(bs, true, "L2 table offset %#" PRIx64 " unaligned "
                                       "(L1 index: %#x)", l2_offset, (unsigned)l1_index);
        return -EIO;
    }
    if (!(s->l1_table[l1_index] & QCOW_OFLAG_COPIED)) {
        ret = l2_allocate(bs, l1_index);
        if (ret < 0)
            return ret;
        if (l2_offset)
            qcow2_refcount_free_clusters(bs, (int64_t)l2_offset, (int64_t)s->l2_size * 8,
                                         QCOW2_DISCARD_OTHER);
        l2_offset = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    }
    ret = l2_load(bs, offset, l2_offset, new_l2_slice);
    if (ret < 0)
        return ret;
    *new_l2_index = qcow2_offset_to_l2_slice_index(s, offset);
    return 0;
}

/* ---- lookup --------------------------------------------------------------- */

/* QEMU count_contiguous_subclusters() without subclusters. */
static int count_contiguous_clusters(const Qcow2State *s, int nb_clusters,
                                     const uint64_t *l2_slice, int l2_index)
{
    uint64_t first = qcow2_get_l2_entry(l2_slice, l2_index);
    Qcow2ClusterType expected_type = qcow2_get_cluster_type(first);
    if (expected_type == QCOW2_CLUSTER_COMPRESSED)
        return 1;
    bool check_offset = expected_type == QCOW2_CLUSTER_NORMAL ||
                        expected_type == QCOW2_CLUSTER_ZERO_ALLOC;
    uint64_t expected_offset = first & L2E_OFFSET_MASK;
    int i;
    for (i = 1; i < nb_clusters; i++) {
        uint64_t e = qcow2_get_l2_entry(l2_slice, l2_index + i);
        if (qcow2_get_cluster_type(e) != expected_type)
            break;
        if (check_offset) {
            expected_offset += (uint64_t)s->cluster_size;
            if (expected_offset != (e & L2E_OFFSET_MASK))
                break;
        }
    }
    return i;
}

int qcow2_cluster_get_host_offset(RealBlockState *bs, uint64_t offset, uint64_t *bytes,
                                  uint64_t *host_offset, Qcow2ClusterType *type_out)
{
    Qcow2State *s = bs->opaque;
    uint64_t offset_in_cluster = qcow2_offset_into_cluster(s, offset);
    uint64_t bytes_needed = *bytes + offset_in_cluster;
    uint64_t bytes_available = (uint64_t)(s->l2_slice_size -
                                          qcow2_offset_to_l2_slice_index(s, offset))
                               << s->cluster_bits;
    Qcow2ClusterType type;
    uint64_t *l2_slice;
    int ret;

    if (bytes_needed > bytes_available)
        bytes_needed = bytes_available;
    *host_offset = 0;

    int l1_index = qcow2_offset_to_l1_index(s, offset);
    if (l1_index >= s->l1_size) {
        type = QCOW2_CLUSTER_UNALLOCATED;
        goto out;
    }
    uint64_t l2_offset = s->l1_table[l1_index] & L1E_OFFSET_MASK;
    if (!l2_offset) {
        type = QCOW2_CLUSTER_UNALLOCATED;
        goto out;
    }
    if (qcow2_offset_into_cluster(s, l2_offset)) {
        qcow2_header_signal_corruption(bs, true, "L2 table offset %#" PRIx64 " unaligned "
                                       "(L1 index: %#x)", l2_offset, (unsigned)l1_index);
        return -EIO;
    }
    ret = l2_load(bs, offset, l2_offset, &l2_slice);
    if (ret < 0)
        return ret;

    int l2_index = qcow2_offset_to_l2_slice_index(s, offset);
    uint64_t l2_entry = qcow2_get_l2_entry(l2_slice, l2_index);
    int nb_clusters = (int)qcow2_size_to_clusters(s, bytes_needed);
    type = qcow2_get_cluster_type(l2_entry);
    if (s->qcow_version < 3 &&
        (type == QCOW2_CLUSTER_ZERO_PLAIN || type == QCOW2_CLUSTER_ZERO_ALLOC)) {
        qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
        qcow2_header_signal_corruption(bs, true, "Zero cluster entry found in pre-v3 image "
                                       "(L2 offset: %#" PRIx64 ", L2 index: %#x)", l2_offset,
                                       (unsigned)l2_index);
        return -EIO;
    }
    switch (type) {
    case QCOW2_CLUSTER_COMPRESSED:
        *host_offset = l2_entry;
        break;
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_UNALLOCATED:
        break;
    case QCOW2_CLUSTER_ZERO_ALLOC:
    case QCOW2_CLUSTER_NORMAL: {
        uint64_t host_cluster_offset = l2_entry & L2E_OFFSET_MASK;
        *host_offset = host_cluster_offset + offset_in_cluster;
        if (qcow2_offset_into_cluster(s, host_cluster_offset)) {
            qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
            qcow2_header_signal_corruption(bs, true, "Cluster allocation offset %#" PRIx64
                                           " unaligned (L2 offset: %#" PRIx64 ", L2 index: "
                                           "%#x)", host_cluster_offset, l2_offset,
                                           (unsigned)l2_index);
            return -EIO;
        }
        break;
    }
    }
    int c = count_contiguous_clusters(s, nb_clusters, l2_slice, l2_index);
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    bytes_available = (uint64_t)c << s->cluster_bits;
out:
    if (bytes_available > bytes_needed)
        bytes_available = bytes_needed;
    *bytes = bytes_available - offset_in_cluster;
    *type_out = type;
    return 0;
}

/* ---- write allocation ------------------------------------------------------ */

/* QEMU cluster_needs_new_alloc() */
static bool cluster_needs_new_alloc(uint64_t l2_entry)
{
    switch (qcow2_get_cluster_type(l2_entry)) {
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        return !(l2_entry & QCOW_OFLAG_COPIED);
    default:
        return true;
    }
}

/* QEMU count_single_write_clusters() */
static int count_single_write_clusters(const Qcow2State *s, int nb_clusters,
                                       const uint64_t *l2_slice, int l2_index, bool new_alloc)
{
    uint64_t expected_offset = qcow2_get_l2_entry(l2_slice, l2_index) & L2E_OFFSET_MASK;
    int i;
    for (i = 0; i < nb_clusters; i++) {
        uint64_t e = qcow2_get_l2_entry(l2_slice, l2_index + i);
        if (cluster_needs_new_alloc(e) != new_alloc)
            break;
        if (!new_alloc) {
            if (expected_offset != (e & L2E_OFFSET_MASK))
                break;
            expected_offset += (uint64_t)s->cluster_size;
        }
    }
    return i;
}

/* QEMU calculate_l2_meta() without subclusters. */
static int calculate_l2_meta(RealBlockState *bs, uint64_t host_cluster_offset,
                             uint64_t guest_offset, uint64_t bytes, const uint64_t *l2_slice,
                             Qcow2L2Meta **m, bool keep_old)
{
    Qcow2State *s = bs->opaque;
    int l2_index = qcow2_offset_to_l2_slice_index(s, guest_offset);
    uint32_t cow_start_to = (uint32_t)qcow2_offset_into_cluster(s, guest_offset);
    uint32_t cow_end_from = cow_start_to + (uint32_t)bytes;
    int nb_clusters = (int)qcow2_size_to_clusters(s, cow_end_from);
    uint32_t cow_start_from, cow_end_to;
    bool skip_cow = keep_old;

    for (int i = 0; i < nb_clusters && skip_cow; i++)
        if (qcow2_get_cluster_type(qcow2_get_l2_entry(l2_slice, l2_index + i)) !=
            QCOW2_CLUSTER_NORMAL)
            skip_cow = false;
    if (skip_cow)
        return 0;

    Qcow2ClusterType first = qcow2_get_cluster_type(qcow2_get_l2_entry(l2_slice, l2_index));
    Qcow2ClusterType last = qcow2_get_cluster_type(qcow2_get_l2_entry(l2_slice,
                                                                      l2_index + nb_clusters - 1));
    if (!keep_old) {
        cow_start_from = 0;
        cow_end_to = (uint32_t)ROUND_UP((uint64_t)cow_end_from, (uint64_t)s->cluster_size);
    } else {
        cow_start_from = first == QCOW2_CLUSTER_NORMAL ? cow_start_to : 0;
        cow_end_to = last == QCOW2_CLUSTER_NORMAL
                         ? cow_end_from
                         : (uint32_t)ROUND_UP((uint64_t)cow_end_from, (uint64_t)s->cluster_size);
    }
    Qcow2L2Meta *nm = real_calloc(1, sizeof(*nm));
    if (!nm)
        return -ENOMEM;
    *nm = (Qcow2L2Meta){
        .next = *m,
        .alloc_offset = host_cluster_offset,
        .offset = qcow2_start_of_cluster(s, guest_offset),
        .nb_clusters = nb_clusters,
        .keep_old_clusters = keep_old,
        .cow_start_offset = cow_start_from,
        .cow_start_bytes = cow_start_to - cow_start_from,
        .cow_end_offset = cow_end_from,
        .cow_end_bytes = cow_end_to - cow_end_from,
    };
    *m = nm;
    return 0;
}

/* QEMU handle_copied(): keep COPIED clusters, in place. 1: progress, 0: none. */
static int handle_copied(RealBlockState *bs, uint64_t guest_offset, uint64_t *host_offset,
                         uint64_t *bytes, Qcow2L2Meta **m)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice;
    int l2_index, ret;
    uint64_t nb_clusters = qcow2_size_to_clusters(s, qcow2_offset_into_cluster(s, guest_offset) +
                                                         *bytes);
    l2_index = qcow2_offset_to_l2_slice_index(s, guest_offset);
    nb_clusters = MIN(nb_clusters, (uint64_t)(s->l2_slice_size - l2_index));
    nb_clusters = MIN(nb_clusters, (uint64_t)BDRV_REQUEST_MAX_BYTES >> s->cluster_bits);

    ret = qcow2_cluster_get_table(bs, guest_offset, &l2_slice, &l2_index);
    if (ret < 0)
        return ret;
    uint64_t l2_entry = qcow2_get_l2_entry(l2_slice, l2_index);
    uint64_t cluster_offset = l2_entry & L2E_OFFSET_MASK;

    if (!cluster_needs_new_alloc(l2_entry)) {
        if (qcow2_offset_into_cluster(s, cluster_offset)) {
            qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
            qcow2_header_signal_corruption(bs, true, "%s cluster offset %#" PRIx64 " unaligned "
                                           "(guest offset: %#" PRIx64 ")",
                                           (l2_entry & QCOW_OFLAG_ZERO) ? "Preallocated zero"
                                                                        : "Data",
                                           cluster_offset, guest_offset);
            return -EIO;
        }
        if (*host_offset != INV_OFFSET && cluster_offset != *host_offset) {
            *bytes = 0;
            ret = 0;
            goto out;
        }
        int keep = count_single_write_clusters(s, (int)nb_clusters, l2_slice, l2_index, false);
        *bytes = MIN(*bytes, (uint64_t)keep * (uint64_t)s->cluster_size -
                                 qcow2_offset_into_cluster(s, guest_offset));
        ret = calculate_l2_meta(bs, cluster_offset, guest_offset, *bytes, l2_slice, m, true);
        if (ret < 0)
            goto out;
        ret = 1;
    } else {
        ret = 0;
    }
out:
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    if (ret > 0)
        *host_offset = cluster_offset + qcow2_offset_into_cluster(s, guest_offset);
    return ret;
}

/* QEMU handle_alloc(): allocate a contiguous run, at *host_offset if one is set. */
static int handle_alloc(RealBlockState *bs, uint64_t guest_offset, uint64_t *host_offset,
                        uint64_t *bytes, Qcow2L2Meta **m)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice;
    int l2_index, ret;
    uint64_t nb_clusters = qcow2_size_to_clusters(s, qcow2_offset_into_cluster(s, guest_offset) +
                                                         *bytes);
    l2_index = qcow2_offset_to_l2_slice_index(s, guest_offset);
    nb_clusters = MIN(nb_clusters, (uint64_t)(s->l2_slice_size - l2_index));
    nb_clusters = MIN(nb_clusters, (uint64_t)BDRV_REQUEST_MAX_BYTES >> s->cluster_bits);

    ret = qcow2_cluster_get_table(bs, guest_offset, &l2_slice, &l2_index);
    if (ret < 0)
        return ret;
    nb_clusters = (uint64_t)count_single_write_clusters(s, (int)nb_clusters, l2_slice, l2_index,
                                                        true);
    uint64_t alloc_cluster_offset;
    if (*host_offset == INV_OFFSET) {
        int64_t off = qcow2_refcount_alloc_clusters(bs, nb_clusters * (uint64_t)s->cluster_size);
        if (off < 0) {
            ret = (int)off;
            goto out;
        }
        alloc_cluster_offset = (uint64_t)off;
    } else {
        alloc_cluster_offset = qcow2_start_of_cluster(s, *host_offset);
        int64_t n = qcow2_refcount_alloc_clusters_at(bs, alloc_cluster_offset,
                                                     (int64_t)nb_clusters);
        if (n < 0) {
            ret = (int)n;
            goto out;
        }
        nb_clusters = (uint64_t)n;
    }
    if (nb_clusters == 0) {
        *bytes = 0;
        ret = 0;
        goto out;
    }
    uint64_t requested_bytes = *bytes + qcow2_offset_into_cluster(s, guest_offset);
    uint64_t avail_bytes = nb_clusters << s->cluster_bits;
    uint64_t nb_bytes = MIN(requested_bytes, avail_bytes);
    *host_offset = alloc_cluster_offset + qcow2_offset_into_cluster(s, guest_offset);
    *bytes = MIN(*bytes, nb_bytes - qcow2_offset_into_cluster(s, guest_offset));
    ret = calculate_l2_meta(bs, alloc_cluster_offset, guest_offset, *bytes, l2_slice, m, false);
    if (ret == 0)
        ret = 1;
    else    /* no metadata to link them: give the clusters back (QEMU cannot fail here) */
        qcow2_refcount_free_clusters(bs, (int64_t)alloc_cluster_offset,
                                     (int64_t)(nb_clusters << s->cluster_bits),
                                     QCOW2_DISCARD_NEVER);
out:
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    return ret;
}

void qcow2_cluster_free_l2meta(Qcow2L2Meta *m)
{
    while (m) {
        Qcow2L2Meta *next = m->next;
        real_free(m);
        m = next;
    }
}

int qcow2_cluster_alloc_host_offset(RealBlockState *bs, uint64_t offset, uint64_t *bytes,
                                    uint64_t *host_offset, Qcow2L2Meta **m)
{
    Qcow2State *s = bs->opaque;
    uint64_t start = offset, remaining = *bytes, cluster_offset = INV_OFFSET, cur_bytes = 0;
    int ret;

    *host_offset = INV_OFFSET;
    *m = NULL;
    for (;;) {
        if (*host_offset == INV_OFFSET && cluster_offset != INV_OFFSET)
            *host_offset = cluster_offset;
        start += cur_bytes;
        remaining -= cur_bytes;
        if (cluster_offset != INV_OFFSET)
            cluster_offset += cur_bytes;
        if (remaining == 0)
            break;
        cur_bytes = remaining;

        ret = handle_copied(bs, start, &cluster_offset, &cur_bytes, m);
        if (ret < 0)
            goto fail;
        if (ret)
            continue;
        if (cur_bytes == 0)
            break;
        ret = handle_alloc(bs, start, &cluster_offset, &cur_bytes, m);
        if (ret < 0)
            goto fail;
        if (ret)
            continue;
        break;
    }
    *bytes -= remaining;
    (void)s;
    return 0;
fail:
    qcow2_cluster_free_l2meta(*m);
    *m = NULL;
    return ret;
}

/* QEMU perform_cow(): read the COW regions through the image and write them. */
static int perform_cow(RealBlockState *bs, Qcow2L2Meta *m)
{
    uint32_t data_bytes = m->cow_end_offset - (m->cow_start_offset + m->cow_start_bytes);
    if ((m->cow_start_bytes == 0 && m->cow_end_bytes == 0) || m->skip_cow)
        return 0;
    uint64_t total = (uint64_t)m->cow_start_bytes + data_bytes + m->cow_end_bytes;
    uint8_t *buf = real_buf_alloc(total);
    int ret = 0;
    if (!buf)
        return -ENOMEM;
    if (m->cow_start_bytes)
        ret = drv_qcow2_pread(bs, (int64_t)(m->offset + m->cow_start_offset),
                              m->cow_start_bytes, buf, 0);
    if (ret == 0 && m->cow_end_bytes)
        ret = drv_qcow2_pread(bs, (int64_t)(m->offset + m->cow_end_offset), m->cow_end_bytes,
                              buf + m->cow_start_bytes + data_bytes, 0);
    /* both regions are checked before either is written */
    if (ret == 0)
        ret = qcow2_refcount_pre_write_check(bs, 0, (int64_t)(m->alloc_offset +
                                                             m->cow_start_offset),
                                             m->cow_start_bytes);
    if (ret == 0)
        ret = qcow2_refcount_pre_write_check(bs, 0, (int64_t)(m->alloc_offset +
                                                             m->cow_end_offset),
                                             m->cow_end_bytes);
    if (ret == 0) {
        if (m->data) {
            /* Guest data merged: one write of start region, data, end region. */
            memcpy(buf + m->cow_start_bytes, m->data, data_bytes);
            ret = bdrv_pwrite(bs->file->bs, (int64_t)(m->alloc_offset + m->cow_start_offset),
                              (int64_t)total, buf, 0);
        } else {
            if (m->cow_start_bytes)
                ret = bdrv_pwrite(bs->file->bs,
                                  (int64_t)(m->alloc_offset + m->cow_start_offset),
                                  m->cow_start_bytes, buf, 0);
            if (ret == 0 && m->cow_end_bytes)
                ret = bdrv_pwrite(bs->file->bs, (int64_t)(m->alloc_offset + m->cow_end_offset),
                                  m->cow_end_bytes, buf + m->cow_start_bytes + data_bytes, 0);
        }
    }
    real_buf_free(buf);
    if (ret == 0) {
        Qcow2State *s = bs->opaque;
        qcow2_cache_depends_on_flush(s->l2_table_cache);
    }
    return ret;
}

int qcow2_cluster_link_l2(RealBlockState *bs, Qcow2L2Meta *m)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice, *old_cluster;
    int l2_index, j = 0, ret;

    old_cluster = real_calloc((size_t)m->nb_clusters, sizeof(uint64_t));
    if (!old_cluster)
        return -ENOMEM;
    ret = perform_cow(bs, m);
    if (ret < 0)
        goto err;
    if (s->use_lazy_refcounts)
        qcow2_header_mark_dirty(bs);
    if (qcow2_need_accurate_refcounts(s))
        qcow2_cache_set_dependency(bs, s->l2_table_cache, s->refcount_block_cache);
    ret = qcow2_cluster_get_table(bs, m->offset, &l2_slice, &l2_index);
    if (ret < 0)
        goto err;
    qcow2_cache_entry_mark_dirty(s->l2_table_cache, l2_slice);
    for (int i = 0; i < m->nb_clusters; i++) {
        uint64_t offset = m->alloc_offset + ((uint64_t)i << s->cluster_bits);
        uint64_t old = qcow2_get_l2_entry(l2_slice, l2_index + i);
        if (old != 0)
            old_cluster[j++] = old;
        qcow2_set_l2_entry(l2_slice, l2_index + i, offset | QCOW_OFLAG_COPIED);
    }
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    /* Freed old clusters of a COW are not discarded: the next write reuses them. */
    if (!m->keep_old_clusters)
        for (int i = 0; i < j; i++)
            qcow2_refcount_free_any_cluster(bs, old_cluster[i], QCOW2_DISCARD_NEVER);
    ret = 0;
err:
    real_free(old_cluster);
    return ret;
}

/* ---- compressed clusters ----------------------------------------------------- */

void qcow2_cluster_parse_compressed(const Qcow2State *s, uint64_t l2_entry,
                                    uint64_t *coffset, int *csize)
{
    *coffset = l2_entry & s->cluster_offset_mask;
    int nb_csectors = (int)((l2_entry >> s->csize_shift) & s->csize_mask) + 1;
    *csize = nb_csectors * QCOW2_COMPRESSED_SECTOR_SIZE -
             (int)(*coffset & (QCOW2_COMPRESSED_SECTOR_SIZE - 1));
}

/* ---- zero clusters and discard ------------------------------------------------- */

static int zero_in_l2_slice(RealBlockState *bs, uint64_t offset, uint64_t nb_clusters,
                            int flags)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice;
    int l2_index;
    int ret = qcow2_cluster_get_table(bs, offset, &l2_slice, &l2_index);
    if (ret < 0)
        return ret;
    nb_clusters = MIN(nb_clusters, (uint64_t)(s->l2_slice_size - l2_index));
    for (uint64_t i = 0; i < nb_clusters; i++) {
        uint64_t old = qcow2_get_l2_entry(l2_slice, l2_index + (int)i);
        Qcow2ClusterType type = qcow2_get_cluster_type(old);
        bool unmap = type == QCOW2_CLUSTER_COMPRESSED ||
                     ((flags & REAL_REQ_MAY_UNMAP) && qcow2_cluster_is_allocated(type));
        uint64_t new_entry = (unmap ? 0 : old) | QCOW_OFLAG_ZERO;
        if (old == new_entry)
            continue;
        qcow2_cache_entry_mark_dirty(s->l2_table_cache, l2_slice);
        qcow2_set_l2_entry(l2_slice, l2_index + (int)i, new_entry);
        if (unmap)
            qcow2_refcount_free_any_cluster(bs, old, QCOW2_DISCARD_REQUEST);
    }
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    return (int)nb_clusters;
}

int qcow2_cluster_zeroize(RealBlockState *bs, uint64_t offset, uint64_t bytes, int flags)
{
    Qcow2State *s = bs->opaque;
    uint64_t end_offset = offset + bytes;
    int ret = 0;

    /* v2 has no zero flag: without a backing file a discard reads as zero. */
    if (s->qcow_version < 3) {
        if (!bs->backing)
            return qcow2_cluster_discard(bs, offset, bytes, QCOW2_DISCARD_REQUEST, false);
        return -ENOTSUP;
    }
    uint64_t nb_clusters = qcow2_size_to_clusters(s, end_offset - offset);
    s->cache_discards = true;
    while (nb_clusters > 0) {
        int cleared = zero_in_l2_slice(bs, offset, nb_clusters, flags);
        if (cleared < 0) {
            ret = cleared;
            break;
        }
        nb_clusters -= (uint64_t)cleared;
        offset += (uint64_t)cleared * (uint64_t)s->cluster_size;
    }
    s->cache_discards = false;
    qcow2_refcount_process_discards(bs, ret);
    return ret;
}

static int discard_in_l2_slice(RealBlockState *bs, uint64_t offset, uint64_t nb_clusters,
                               Qcow2DiscardType type, bool full_discard)
{
    Qcow2State *s = bs->opaque;
    uint64_t *l2_slice;
    int l2_index;
    int ret = qcow2_cluster_get_table(bs, offset, &l2_slice, &l2_index);
    if (ret < 0)
        return ret;
    nb_clusters = MIN(nb_clusters, (uint64_t)(s->l2_slice_size - l2_index));
    for (uint64_t i = 0; i < nb_clusters; i++) {
        uint64_t old = qcow2_get_l2_entry(l2_slice, l2_index + (int)i);
        uint64_t new_entry = old;
        Qcow2ClusterType ctype = qcow2_get_cluster_type(old);
        /*
         * A full discard falls through to the backing file; otherwise the
         * range must read as zeroes (v3: the zero flag), unless it already
         * does (unallocated without a backing file).
         */
        if (full_discard)
            new_entry = 0;
        else if (bs->backing || qcow2_cluster_is_allocated(ctype))
            new_entry = s->qcow_version >= 3 ? QCOW_OFLAG_ZERO : 0;
        if (old == new_entry)
            continue;
        qcow2_cache_entry_mark_dirty(s->l2_table_cache, l2_slice);
        qcow2_set_l2_entry(l2_slice, l2_index + (int)i, new_entry);
        qcow2_refcount_free_any_cluster(bs, old, type);
    }
    qcow2_cache_put(s->l2_table_cache, (void **)&l2_slice);
    return (int)nb_clusters;
}

int qcow2_cluster_discard(RealBlockState *bs, uint64_t offset, uint64_t bytes,
                          Qcow2DiscardType type, bool full_discard)
{
    Qcow2State *s = bs->opaque;
    uint64_t nb_clusters = qcow2_size_to_clusters(s, bytes);
    int ret = 0;
    s->cache_discards = true;
    while (nb_clusters > 0) {
        int cleared = discard_in_l2_slice(bs, offset, nb_clusters, type, full_discard);
        if (cleared < 0) {
            ret = cleared;
            break;
        }
        nb_clusters -= (uint64_t)cleared;
        offset += (uint64_t)cleared * (uint64_t)s->cluster_size;
    }
    s->cache_discards = false;
    qcow2_refcount_process_discards(bs, ret);
    return ret;
}
