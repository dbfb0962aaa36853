/*
 * qcow2_refcount.c: reference counts of host clusters and cluster allocation.
 *
 * What this is: QEMU 7.2 block/qcow2-refcount.c for the running image:
 * the refcount table (host order in memory) and refcount blocks (through
 * the refcount block cache), QEMU's allocation order (first free cluster
 * from free_cluster_index, which frees move back), allocation at a given
 * offset for contiguous writes, byte allocation for compressed data
 * (free_byte_offset), self-describing new refcount blocks and refcount
 * table growth (alloc_refcount_block, qcow2_refcount_area), frees with
 * discard passthrough queued and merged (update_refcount_discard,
 * qcow2_process_discards).  Refcount widths 1..64 bits.
 * What it is not: the offline check and repair (qcow2_check.c reads, never
 * repairs) nor snapshot refcount updates.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "qcow2.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ROUND_UP(n, d) (DIV_ROUND_UP(n, d) * (d))
#define REFTABLE_ENTRY_SIZE 8

static int update_refcount(RealBlockState *bs, int64_t offset, int64_t length,
                           uint64_t addend, bool decrease, Qcow2DiscardType type);

/* ---- refcount block entries (get_refcount_ro0..6, set_refcount_ro0..6) --------- */

uint64_t qcow2_refcount_block_get(const Qcow2State *s, const void *block, uint64_t index)
{
    const uint8_t *b = block;
    switch (s->refcount_order) {
    case 0: return (b[index / 8] >> (index % 8)) & 0x1;
    case 1: return (b[index / 4] >> (2 * (index % 4))) & 0x3;
    case 2: return (b[index / 2] >> (4 * (index % 2))) & 0xf;
    case 3: return b[index];
    case 4: return be16toh(((const uint16_t *)block)[index]);
    case 5: return be32toh(((const uint32_t *)block)[index]);
    default: return be64toh(((const uint64_t *)block)[index]);
    }
}

void qcow2_refcount_block_set(const Qcow2State *s, void *block, uint64_t index,
                              uint64_t value)
{
    uint8_t *b = block;
    switch (s->refcount_order) {
    case 0:
        b[index / 8] = (uint8_t)((b[index / 8] & ~(0x1 << (index % 8))) | (value << (index % 8)));
        break;
    case 1:
        b[index / 4] = (uint8_t)((b[index / 4] & ~(0x3 << (2 * (index % 4)))) |
                                 (value << (2 * (index % 4))));
        break;
    case 2:
        b[index / 2] = (uint8_t)((b[index / 2] & ~(0xf << (4 * (index % 2)))) |
                                 (value << (4 * (index % 2))));
        break;
    case 3: b[index] = (uint8_t)value; break;
    case 4: ((uint16_t *)block)[index] = htobe16((uint16_t)value); break;
    case 5: ((uint32_t *)block)[index] = htobe32((uint32_t)value); break;
    default: ((uint64_t *)block)[index] = htobe64(value); break;
    }
}

static void update_max_refcount_table_index(Qcow2State *s)
{
    uint32_t i = s->refcount_table_size ? s->refcount_table_size - 1 : 0;
    while (i > 0 && (s->refcount_table[i] & REFT_OFFSET_MASK) == 0)
        i--;
    s->max_refcount_table_index = i;
}

/*
 * Speed: the entries up to the last one that is not zero (zero in either
 * byte order), found from the end a block at a time with memcmp().  Every
 * open reads the whole table, a cluster of mostly empty entries (each
 * qemu-io step opens its image); a loop over every entry was the most
 * expensive user code of an open under ASan.
 */
static uint32_t refcount_table_used(const uint64_t *table, uint32_t n)
{
    static const uint64_t zero[512];
    while (n > 0) {
        uint32_t k = MIN(n, (uint32_t)(sizeof(zero) / sizeof(zero[0])));
        if (memcmp(table + n - k, zero, k * sizeof(zero[0])) != 0)
            break;
        n -= k;
    }
    while (n > 0 && !table[n - 1])
        n--;
    return n;
}

int qcow2_refcount_init(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    size_t size2 = (size_t)s->refcount_table_size * REFTABLE_ENTRY_SIZE;
    s->refcount_table = real_buf_alloc(size2);
    if (!s->refcount_table)
        return -ENOMEM;
    if (s->refcount_table_size > 0) {
        int ret = bdrv_pread(bs->file->bs, (int64_t)s->refcount_table_offset, (int64_t)size2,
                             s->refcount_table, 0);
        if (ret < 0)
            return ret;
        /* update_max_refcount_table_index() in the same pass: one walk
         * of the table per open, not two (every qemu-io step opens); the
         * entries past the used ones are zero and stay so */
        uint32_t max = 0, used = refcount_table_used(s->refcount_table, s->refcount_table_size);
        for (uint32_t i = 0; i < used; i++) {
            s->refcount_table[i] = be64toh(s->refcount_table[i]);
            if (s->refcount_table[i] & REFT_OFFSET_MASK)
                max = i;
        }
        s->max_refcount_table_index = max;
    }
    return 0;
}

void qcow2_refcount_close(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    real_buf_free(s->refcount_table);
    s->refcount_table = NULL;
    while (s->discards) {
        Qcow2DiscardRegion *d = s->discards;
        s->discards = d->next;
        real_free(d);
    }
}

static int load_refcount_block(RealBlockState *bs, int64_t offset, void **block)
{
    Qcow2State *s = bs->opaque;
    return qcow2_cache_get(bs, s->refcount_block_cache, (uint64_t)offset, block);
}

int qcow2_refcount_get(RealBlockState *bs, int64_t cluster_index, uint64_t *refcount)
{
    Qcow2State *s = bs->opaque;
    uint64_t table_index = (uint64_t)cluster_index >> s->refcount_block_bits;
    if (table_index >= s->refcount_table_size) {
        *refcount = 0;
        return 0;
    }
    uint64_t block_offset = s->refcount_table[table_index] & REFT_OFFSET_MASK;
    if (!block_offset) {
        *refcount = 0;
        return 0;
    }
    if (qcow2_offset_into_cluster(s, block_offset)) {
        qcow2_header_signal_corruption(bs, true, "Refblock offset %#" PRIx64 " unaligned "
                                       "(reftable index: %#" PRIx64 ")", block_offset,
                                       table_index);
        return -EIO;
    }
    void *block;
    int ret = qcow2_cache_get(bs, s->refcount_block_cache, block_offset, &block);
    if (ret < 0)
        return ret;
    *refcount = qcow2_refcount_block_get(s, block, (uint64_t)cluster_index &
                                                   (uint64_t)(s->refcount_block_size - 1));
    qcow2_cache_put(s->refcount_block_cache, &block);
    return 0;
}

static bool in_same_refcount_block(const Qcow2State *s, uint64_t offset_a, uint64_t offset_b)
{
    uint64_t block_a = offset_a >> (s->cluster_bits + s->refcount_block_bits);
    uint64_t block_b = offset_b >> (s->cluster_bits + s->refcount_block_bits);
    return block_a == block_b;
}

/* QEMU alloc_clusters_noref(): the first NB free clusters from free_cluster_index. */
static int64_t alloc_clusters_noref(RealBlockState *bs, uint64_t size, uint64_t max)
{
    Qcow2State *s = bs->opaque;
    uint64_t nb_clusters, refcount;
    if (s->cache_discards)
        qcow2_refcount_process_discards(bs, 0);
    nb_clusters = qcow2_size_to_clusters(s, size);
retry:
    for (uint64_t i = 0; i < nb_clusters; i++) {
        uint64_t next_cluster_index = s->free_cluster_index++;
        int ret = qcow2_refcount_get(bs, (int64_t)next_cluster_index, &refcount);
        if (ret < 0)
            return ret;
        if (refcount != 0)
            goto retry;
    }
    if (s->free_cluster_index > 0 && s->free_cluster_index - 1 > (max >> s->cluster_bits))
        return -EFBIG;
    return (int64_t)((s->free_cluster_index - nb_clusters) << s->cluster_bits);
}

/* QEMU qcow2_refcount_metadata_size(): refcount blocks needed for CLUSTERS. */
static int64_t refcount_metadata_size(int64_t clusters, size_t cluster_size,
                                      int refcount_order, bool generous_increase,
                                      uint64_t *refblock_count)
{
    int64_t blocks_per_table_cluster = (int64_t)cluster_size / REFTABLE_ENTRY_SIZE;
    int64_t refcounts_per_block = (int64_t)cluster_size * 8 / (1 << refcount_order);
    int64_t table = 0, blocks = 0, last, n = 0;
    do {
        last = n;
        blocks = DIV_ROUND_UP(clusters + table + blocks, refcounts_per_block);
        table = DIV_ROUND_UP(blocks, blocks_per_table_cluster);
        n = clusters + blocks + table;
        if (n == last && generous_increase) {
            clusters += DIV_ROUND_UP(table, 2);
            n = 0;
            generous_increase = false;
        }
    } while (n != last);
    if (refblock_count)
        *refblock_count = (uint64_t)blocks;
    return (blocks + table) * (int64_t)cluster_size;
}

/*
 * QEMU qcow2_refcount_area(): a new, larger refcount table and the refcount
 * blocks for [start_offset, ...), all describing themselves, switched in at
 * once.  Returns the end of the new structures.
 */
static int64_t refcount_area(RealBlockState *bs, uint64_t start_offset,
                             uint64_t additional_clusters, bool exact_size,
                             int new_refblock_index, uint64_t new_refblock_offset)
{
    Qcow2State *s = bs->opaque;
    uint64_t total_u64, additional_refblock_count;
    int ret;

    refcount_metadata_size((int64_t)(start_offset / (uint64_t)s->cluster_size +
                                     additional_clusters),
                           (size_t)s->cluster_size, s->refcount_order, !exact_size, &total_u64);
    if (total_u64 > QCOW_MAX_REFTABLE_SIZE)
        return -EFBIG;
    int total_refblock_count = (int)total_u64;
    int area_reftable_index = (int)((start_offset / (uint64_t)s->cluster_size) /
                                    (uint64_t)s->refcount_block_size);
    int table_size = exact_size ? total_refblock_count
                                : total_refblock_count + DIV_ROUND_UP(total_refblock_count, 2);
    table_size = ROUND_UP(table_size, s->cluster_size / REFTABLE_ENTRY_SIZE);
    int table_clusters = (table_size * REFTABLE_ENTRY_SIZE) / s->cluster_size;
    if (table_size > (int)QCOW_MAX_REFTABLE_SIZE)
        return -EFBIG;

    uint64_t *new_table = real_calloc((size_t)table_size, sizeof(uint64_t));
    if (!new_table)
        return -ENOMEM;
    if ((uint32_t)table_size > s->max_refcount_table_index)
        memcpy(new_table, s->refcount_table,
               ((size_t)s->max_refcount_table_index + 1) * REFTABLE_ENTRY_SIZE);
    else
        memcpy(new_table, s->refcount_table, (size_t)table_size * REFTABLE_ENTRY_SIZE);
    if (new_refblock_offset)
        new_table[new_refblock_index] = new_refblock_offset;

    additional_refblock_count = 0;
    for (int i = area_reftable_index; i < total_refblock_count; i++)
        if (!new_table[i])
            additional_refblock_count++;

    uint64_t table_offset = start_offset + additional_refblock_count * (uint64_t)s->cluster_size;
    uint64_t end_offset = table_offset + (uint64_t)table_clusters * (uint64_t)s->cluster_size;
    uint64_t block_offset = start_offset;

    for (int i = area_reftable_index; i < total_refblock_count; i++) {
        void *refblock;
        if (new_table[i]) {
            ret = qcow2_cache_get(bs, s->refcount_block_cache, new_table[i], &refblock);
            if (ret < 0)
                goto fail;
        } else {
            ret = qcow2_cache_get_empty(bs, s->refcount_block_cache, block_offset, &refblock);
            if (ret < 0)
                goto fail;
            memset(refblock, 0, (size_t)s->cluster_size);
            qcow2_cache_entry_mark_dirty(s->refcount_block_cache, refblock);
            new_table[i] = block_offset;
            block_offset += (uint64_t)s->cluster_size;
        }
        uint64_t first_covered = (uint64_t)i * (uint64_t)s->refcount_block_size *
                                 (uint64_t)s->cluster_size;
        if (first_covered < end_offset) {
            uint64_t j = first_covered < start_offset
                             ? (start_offset - first_covered) / (uint64_t)s->cluster_size : 0;
            uint64_t end_index = MIN((end_offset - first_covered) / (uint64_t)s->cluster_size,
                                     (uint64_t)s->refcount_block_size);
            for (; j < end_index; j++)
                qcow2_refcount_block_set(s, refblock, j, 1);
            qcow2_cache_entry_mark_dirty(s->refcount_block_cache, refblock);
        }
        qcow2_cache_put(s->refcount_block_cache, &refblock);
    }

    ret = qcow2_cache_flush(bs, s->refcount_block_cache);
    if (ret < 0)
        goto fail;
    for (int i = 0; i < total_refblock_count; i++)
        new_table[i] = htobe64(new_table[i]);
    ret = bdrv_pwrite(bs->file->bs, (int64_t)table_offset,
                      (int64_t)table_size * REFTABLE_ENTRY_SIZE, new_table, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    for (int i = 0; i < total_refblock_count; i++)
        new_table[i] = be64toh(new_table[i]);
    if (ret < 0)
        goto fail;

    /* Hook up the new table in the header: refcount_table_offset, _clusters. */
    uint8_t data[12];
    uint64_t d64 = htobe64(table_offset);
    uint32_t d32 = htobe32((uint32_t)table_clusters);
    memcpy(data, &d64, 8);
    memcpy(data + 8, &d32, 4);
    ret = bdrv_pwrite(bs->file->bs, 48, sizeof(data), data, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    if (ret < 0)
        goto fail;

    uint64_t old_table_offset = s->refcount_table_offset;
    uint64_t old_table_size = s->refcount_table_size;
    real_buf_free(s->refcount_table);
    s->refcount_table = new_table;
    s->refcount_table_size = (uint32_t)table_size;
    s->refcount_table_offset = table_offset;
    update_max_refcount_table_index(s);
    qcow2_refcount_free_clusters(bs, (int64_t)old_table_offset,
                                 (int64_t)(old_table_size * REFTABLE_ENTRY_SIZE),
                                 QCOW2_DISCARD_OTHER);
    return (int64_t)end_offset;

fail:
    real_free(new_table);
    return ret;
}

/* QEMU alloc_refcount_block(): load, or create, the block covering CLUSTER_INDEX. */
static int alloc_refcount_block(RealBlockState *bs, int64_t cluster_index, void **block)
{
    Qcow2State *s = bs->opaque;
    uint64_t table_index = (uint64_t)cluster_index >> s->refcount_block_bits;
    int64_t ret;

    if (table_index < s->refcount_table_size) {
        uint64_t block_offset = s->refcount_table[table_index] & REFT_OFFSET_MASK;
        if (block_offset) {
            if (qcow2_offset_into_cluster(s, block_offset)) {
                qcow2_header_signal_corruption(bs, true, "Refblock offset %#" PRIx64
                                               " unaligned (reftable index: %#x)",
                                               block_offset, (unsigned)table_index);
                return -EIO;
            }
            return load_refcount_block(bs, (int64_t)block_offset, block);
        }
    }

    *block = NULL;
    ret = qcow2_cache_flush(bs, s->l2_table_cache);
    if (ret < 0)
        return (int)ret;
    int64_t new_block = alloc_clusters_noref(bs, (uint64_t)s->cluster_size, INT64_MAX);
    if (new_block < 0)
        return (int)new_block;
    if (new_block == 0) {
        qcow2_header_signal_corruption(bs, true, "Preventing invalid allocation of refcount "
                                       "block at offset 0");
        return -EIO;
    }

    if (in_same_refcount_block(s, (uint64_t)new_block,
                               (uint64_t)cluster_index << s->cluster_bits)) {
        ret = qcow2_cache_get_empty(bs, s->refcount_block_cache, (uint64_t)new_block, block);
        if (ret < 0)
            goto fail;
        memset(*block, 0, (size_t)s->cluster_size);
        uint64_t block_index = ((uint64_t)new_block >> s->cluster_bits) &
                               (uint64_t)(s->refcount_block_size - 1);
        qcow2_refcount_block_set(s, *block, block_index, 1);
    } else {
        ret = update_refcount(bs, new_block, s->cluster_size, 1, false, QCOW2_DISCARD_NEVER);
        if (ret < 0)
            goto fail;
        ret = qcow2_cache_flush(bs, s->refcount_block_cache);
        if (ret < 0)
            goto fail;
        ret = qcow2_cache_get_empty(bs, s->refcount_block_cache, (uint64_t)new_block, block);
        if (ret < 0)
            goto fail;
        memset(*block, 0, (size_t)s->cluster_size);
    }

    qcow2_cache_entry_mark_dirty(s->refcount_block_cache, *block);
    ret = qcow2_cache_flush(bs, s->refcount_block_cache);
    if (ret < 0)
        goto fail;

    if (table_index < s->refcount_table_size) {
        uint64_t data64 = htobe64((uint64_t)new_block);
        ret = bdrv_pwrite(bs->file->bs,
                          (int64_t)(s->refcount_table_offset + table_index * REFTABLE_ENTRY_SIZE),
                          sizeof(data64), &data64, 0);
        if (ret == 0)
            ret = bdrv_flush(bs->file->bs);
        if (ret < 0)
            goto fail;
        s->refcount_table[table_index] = (uint64_t)new_block;
        s->max_refcount_table_index = MAX(s->max_refcount_table_index, (uint32_t)table_index);
        return -EAGAIN;
    }

    qcow2_cache_put(s->refcount_block_cache, block);

    uint64_t blocks_used = DIV_ROUND_UP(MAX((uint64_t)cluster_index + 1,
                                            ((uint64_t)new_block >> s->cluster_bits) + 1),
                                        (uint64_t)s->refcount_block_size);
    uint64_t meta_offset = blocks_used * (uint64_t)s->refcount_block_size *
                           (uint64_t)s->cluster_size;
    ret = refcount_area(bs, meta_offset, 0, false, (int)table_index, (uint64_t)new_block);
    if (ret < 0)
        return (int)ret;
    ret = load_refcount_block(bs, new_block, block);
    if (ret < 0)
        return (int)ret;
    return -EAGAIN;

fail:
    if (*block)
        qcow2_cache_put(s->refcount_block_cache, block);
    return (int)ret;
}

/* QEMU update_refcount_discard(): queue and merge a region to discard. */
static void update_refcount_discard(RealBlockState *bs, uint64_t offset, uint64_t length)
{
    Qcow2State *s = bs->opaque;
    Qcow2DiscardRegion *d, **pp;
    for (d = s->discards; d; d = d->next) {
        uint64_t new_start = MIN(offset, d->offset);
        uint64_t new_end = MAX(offset + length, d->offset + d->bytes);
        if (new_end - new_start <= length + d->bytes) {
            d->offset = new_start;
            d->bytes = new_end - new_start;
            goto found;
        }
    }
    d = real_malloc(sizeof(*d));
    if (!d)
        return;     /* discard is advisory */
    *d = (Qcow2DiscardRegion){ .offset = offset, .bytes = length, .next = NULL };
    for (pp = &s->discards; *pp; pp = &(*pp)->next)
        ;
    *pp = d;
found:
    for (pp = &s->discards; *pp;) {
        Qcow2DiscardRegion *p = *pp;
        if (p == d || p->offset > d->offset + d->bytes || d->offset > p->offset + p->bytes) {
            pp = &p->next;
            continue;
        }
        *pp = p->next;
        d->offset = MIN(d->offset, p->offset);
        d->bytes += p->bytes;
        real_free(p);
    }
}

void qcow2_refcount_process_discards(RealBlockState *bs, int ret)
{
    Qcow2State *s = bs->opaque;
    while (s->discards) {
        Qcow2DiscardRegion *d = s->discards;
        s->discards = d->next;
        if (ret >= 0)
            bdrv_pdiscard(bs->file->bs, (int64_t)d->offset, (int64_t)d->bytes);
        real_free(d);
    }
}

/* QEMU update_refcount(): add or remove ADDEND for every cluster of the range. */
static int update_refcount(RealBlockState *bs, int64_t offset, int64_t length,
                           uint64_t addend, bool decrease, Qcow2DiscardType type)
{
    Qcow2State *s = bs->opaque;
    int64_t start, last, cluster_offset;
    void *refcount_block = NULL;
    int64_t old_table_index = -1;
    int ret;

    if (length < 0)
        return -EINVAL;
    if (length == 0)
        return 0;
    /* QEMU ignores a failed dependency flush here (the caches retry later). */
    if (decrease)
        qcow2_cache_set_dependency(bs, s->refcount_block_cache, s->l2_table_cache);
    start = (int64_t)qcow2_start_of_cluster(s, (uint64_t)offset);
    last = (int64_t)qcow2_start_of_cluster(s, (uint64_t)(offset + length - 1));
    for (cluster_offset = start; cluster_offset <= last; cluster_offset += s->cluster_size) {
        int64_t cluster_index = cluster_offset >> s->cluster_bits;
        int64_t table_index = cluster_index >> s->refcount_block_bits;
        if (table_index != old_table_index) {
            if (refcount_block)
                qcow2_cache_put(s->refcount_block_cache, &refcount_block);
            ret = alloc_refcount_block(bs, cluster_index, &refcount_block);
            if (ret == -EAGAIN && s->free_cluster_index > (uint64_t)(start >> s->cluster_bits))
                s->free_cluster_index = (uint64_t)(start >> s->cluster_bits);
            if (ret < 0)
                goto fail;
        }
        old_table_index = table_index;
        qcow2_cache_entry_mark_dirty(s->refcount_block_cache, refcount_block);

        uint64_t block_index = (uint64_t)cluster_index & (uint64_t)(s->refcount_block_size - 1);
        uint64_t refcount = qcow2_refcount_block_get(s, refcount_block, block_index);
        if (decrease ? (refcount - addend > refcount)
                     : (refcount + addend < refcount || refcount + addend > s->refcount_max)) {
            ret = -EINVAL;
            goto fail;
        }
        refcount = decrease ? refcount - addend : refcount + addend;
        if (refcount == 0 && (uint64_t)cluster_index < s->free_cluster_index)
            s->free_cluster_index = (uint64_t)cluster_index;
        qcow2_refcount_block_set(s, refcount_block, block_index, refcount);

        if (refcount == 0) {
            /* QEMU looks the freed cluster up by OFFSET, the start of the range. */
            void *table = qcow2_cache_is_table_offset(s->refcount_block_cache, (uint64_t)offset);
            if (table) {
                qcow2_cache_put(s->refcount_block_cache, &refcount_block);
                old_table_index = -1;
                qcow2_cache_discard(s->refcount_block_cache, table);
            }
            table = qcow2_cache_is_table_offset(s->l2_table_cache, (uint64_t)offset);
            if (table)
                qcow2_cache_discard(s->l2_table_cache, table);
            if (s->opts.discard_passthrough[type])
                update_refcount_discard(bs, (uint64_t)cluster_offset, (uint64_t)s->cluster_size);
        }
    }
    ret = 0;
fail:
    if (!s->cache_discards)
        qcow2_refcount_process_discards(bs, ret);
    if (refcount_block)
        qcow2_cache_put(s->refcount_block_cache, &refcount_block);
    if (ret < 0) {
        /* Undo what was done (may succeed, e.g. after ENOSPC on a new block). */
        update_refcount(bs, offset, cluster_offset - offset, addend, !decrease,
                        QCOW2_DISCARD_NEVER);
    }
    return ret;
}

int64_t qcow2_refcount_alloc_clusters(RealBlockState *bs, uint64_t size)
{
    int64_t offset;
    int ret;
    do {
        offset = alloc_clusters_noref(bs, size, QCOW_MAX_CLUSTER_OFFSET);
        if (offset < 0)
            return offset;
        ret = update_refcount(bs, offset, (int64_t)size, 1, false, QCOW2_DISCARD_NEVER);
    } while (ret == -EAGAIN);
    return ret < 0 ? ret : offset;
}

int64_t qcow2_refcount_alloc_clusters_at(RealBlockState *bs, uint64_t offset,
                                         int64_t nb_clusters)
{
    Qcow2State *s = bs->opaque;
    uint64_t i, refcount;
    int ret;
    if (nb_clusters == 0)
        return 0;
    do {
        int64_t cluster_index = (int64_t)(offset >> s->cluster_bits);
        for (i = 0; i < (uint64_t)nb_clusters; i++) {
            ret = qcow2_refcount_get(bs, cluster_index++, &refcount);
            if (ret < 0)
                return ret;
            if (refcount != 0)
                break;
        }
        ret = update_refcount(bs, (int64_t)offset, (int64_t)(i << s->cluster_bits), 1, false,
                              QCOW2_DISCARD_NEVER);
    } while (ret == -EAGAIN);
    return ret < 0 ? ret : (int64_t)i;
}

int64_t qcow2_refcount_alloc_bytes(RealBlockState *bs, int size)
{
    Qcow2State *s = bs->opaque;
    int64_t offset = (int64_t)s->free_byte_offset;
    uint64_t free_in_cluster;
    int ret;

    if (offset) {
        uint64_t refcount;
        ret = qcow2_refcount_get(bs, offset >> s->cluster_bits, &refcount);
        if (ret < 0)
            return ret;
        if (refcount == s->refcount_max)
            offset = 0;
    }
    free_in_cluster = (uint64_t)s->cluster_size - qcow2_offset_into_cluster(s, (uint64_t)offset);
    do {
        if (!offset || free_in_cluster < (uint64_t)size) {
            int64_t new_cluster = alloc_clusters_noref(bs, (uint64_t)s->cluster_size,
                                                       MIN(s->cluster_offset_mask,
                                                           QCOW_MAX_CLUSTER_OFFSET));
            if (new_cluster < 0)
                return new_cluster;
            if (new_cluster == 0) {
                qcow2_header_signal_corruption(bs, true, "Preventing invalid allocation of "
                                               "compressed cluster at offset 0");
                return -EIO;
            }
            if (!offset || (int64_t)ROUND_UP((uint64_t)offset, (uint64_t)s->cluster_size) !=
                               new_cluster) {
                offset = new_cluster;
                free_in_cluster = (uint64_t)s->cluster_size;
            } else {
                free_in_cluster += (uint64_t)s->cluster_size;
            }
        }
        ret = update_refcount(bs, offset, size, 1, false, QCOW2_DISCARD_NEVER);
        if (ret < 0)
            offset = 0;
    } while (ret == -EAGAIN);
    if (ret < 0)
        return ret;

    /* Refcount blocks must reach the disk before the L2 entry pointing here. */
    qcow2_cache_set_dependency(bs, s->l2_table_cache, s->refcount_block_cache);
    s->free_byte_offset = (uint64_t)offset + (uint64_t)size;
    if (!qcow2_offset_into_cluster(s, s->free_byte_offset))
        s->free_byte_offset = 0;
    return offset;
}

void qcow2_refcount_free_clusters(RealBlockState *bs, int64_t offset, int64_t size,
                                  Qcow2DiscardType type)
{
    /* QEMU qcow2_free_clusters(): a failure leaks the clusters (reported by check). */
    update_refcount(bs, offset, size, 1, true, type);
}

void qcow2_refcount_free_any_cluster(RealBlockState *bs, uint64_t l2_entry,
                                     Qcow2DiscardType type)
{
    Qcow2State *s = bs->opaque;
    switch (qcow2_get_cluster_type(l2_entry)) {
    case QCOW2_CLUSTER_COMPRESSED: {
        uint64_t coffset;
        int csize;
        qcow2_cluster_parse_compressed(s, l2_entry, &coffset, &csize);
        qcow2_refcount_free_clusters(bs, (int64_t)coffset, csize, type);
        break;
    }
    case QCOW2_CLUSTER_NORMAL:
    case QCOW2_CLUSTER_ZERO_ALLOC:
        if (qcow2_offset_into_cluster(s, l2_entry & L2E_OFFSET_MASK)) {
            qcow2_header_signal_corruption(bs, false, "Cannot free unaligned cluster %#llx",
                                           (unsigned long long)(l2_entry & L2E_OFFSET_MASK));
        } else {
            qcow2_refcount_free_clusters(bs, (int64_t)(l2_entry & L2E_OFFSET_MASK),
                                         s->cluster_size, type);
        }
        break;
    case QCOW2_CLUSTER_ZERO_PLAIN:
    case QCOW2_CLUSTER_UNALLOCATED:
        break;
    }
}

/* ---- overlap checks ------------------------------------------------------------ */

/* Does [START, START + LEN) meet [OFFSET, OFFSET + SIZE)? */
static bool meets(uint64_t start, uint64_t len, uint64_t offset, uint64_t size)
{
    return start < offset + size && offset < start + len;
}

/*
 * QEMU qcow2_check_metadata_overlap(): the first kind of metadata (a
 * QCOW2_OL_* bit) the range lands on, in QEMU's order of checks, or 0.
 * Only what the engine keeps in memory is checked, as the "cached" template
 * does; images with snapshots or bitmaps are not opened by the engine, so
 * their tables never exist here.
 */
static int metadata_overlap(const Qcow2State *s, int ign, uint64_t offset, uint64_t size)
{
    int chk = s->opts.overlap_check & ~ign;
    if (!size)
        return 0;
    if ((chk & QCOW2_OL_MAIN_HEADER) && offset < (uint64_t)s->cluster_size)
        return QCOW2_OL_MAIN_HEADER;
    /* whole clusters from here on */
    uint64_t start = offset & ~((uint64_t)s->cluster_size - 1);
    size = (offset - start + size + (uint64_t)s->cluster_size - 1) &
           ~((uint64_t)s->cluster_size - 1);
    offset = start;
    if ((chk & QCOW2_OL_ACTIVE_L1) && s->l1_size &&
        meets(s->l1_table_offset, (uint64_t)s->l1_size * 8, offset, size))
        return QCOW2_OL_ACTIVE_L1;
    if ((chk & QCOW2_OL_REFCOUNT_TABLE) && s->refcount_table_size &&
        meets(s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8, offset, size))
        return QCOW2_OL_REFCOUNT_TABLE;
    if ((chk & QCOW2_OL_ACTIVE_L2) && s->l1_table)
        for (int i = 0; i < s->l1_size; i++) {
            uint64_t l2 = s->l1_table[i] & L1E_OFFSET_MASK;
            if (l2 && meets(l2, (uint64_t)s->cluster_size, offset, size))
                return QCOW2_OL_ACTIVE_L2;
        }
    if ((chk & QCOW2_OL_REFCOUNT_BLOCK) && s->refcount_table)
        for (uint32_t i = 0; i <= s->max_refcount_table_index && i < s->refcount_table_size;
             i++) {
            uint64_t rb = s->refcount_table[i] & REFT_OFFSET_MASK;
            if (rb && meets(rb, (uint64_t)s->cluster_size, offset, size))
                return QCOW2_OL_REFCOUNT_BLOCK;
        }
    return 0;
}

int qcow2_refcount_pre_write_check(RealBlockState *bs, int ign, int64_t offset, int64_t size)
{
    static const char *const names[] = { BG_MSG_QCOW2_OL_NAMES };
    Qcow2State *s = bs->opaque;
    int ol = metadata_overlap(s, ign, (uint64_t)offset, (uint64_t)size);
    if (!ol)
        return 0;
    qcow2_header_signal_corruption_at(bs, true, offset, size, BG_MSG_QCOW2_OVERLAP_WRITE,
                                      names[__builtin_ctz((unsigned)ol)]);
    return -EIO;
}
