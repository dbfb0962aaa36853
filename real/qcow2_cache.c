/*
 * qcow2_cache.c: the L2 table and refcount block caches.
 *
 * What this is: QEMU 7.2 block/qcow2-cache.c: a fixed number of
 * table-sized entries, looked up by host offset starting at
 * (offset / table_size * 4) % size, replaced least recently used first,
 * written back when evicted or flushed, with the dependency rule "flush
 * that cache (or the file) before writing this one" that keeps refcounts
 * ahead of the L2 entries pointing at new clusters.  Tables are kept in
 * on-disk byte order.
 * One difference, invisible in results: QEMU allocates all entries in one
 * array when the cache is created; here CACHE_EAGER_TABLES tables are
 * allocated then, and the others one by one when an entry is first filled.  Caches are sized for the whole image or by
 * l2-cache-size/cache-size (up to 32 MiB), and most opens touch a few
 * tables or none: allocating them all up front dominated the fuzz harness
 * under ASan (which maps, poisons and quarantines every large block).  A
 * late allocation that fails is not an error: the least recently used
 * table already allocated is reused, so a get fails only as QEMU's does.
 * What it is not: the cache-clean-interval timer (nothing runs between
 * steps in this engine) or a concurrency-safe structure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "qcow2.h"

/* Tables allocated with the cache: one, so that a get whose late allocation
 * fails has a table to fall back on (a request holds one table of a cache
 * at a time). */
#define CACHE_EAGER_TABLES 1

typedef struct Qcow2CachedTable {
    uint8_t *table;           /* table_size bytes, aligned; NULL until first filled */
    uint64_t offset;          /* host offset of the table, 0 when the slot is free */
    uint64_t lru_counter;     /* value of the cache counter at the last put */
    int ref;                  /* get without put */
    bool dirty;               /* must be written before reuse */
} Qcow2CachedTable;

struct Qcow2Cache {
    Qcow2CachedTable *entries;
    Qcow2Cache *depends;      /* flush this one first */
    int size;                 /* entries */
    int table_size;           /* bytes per entry */
    bool depends_on_flush;    /* flush the file first */
    uint64_t lru_counter;
};

static inline void *table_addr(Qcow2Cache *c, int i)
{
    return c->entries[i].table;
}

static int table_index(Qcow2Cache *c, void *table)
{
    for (int i = 0; i < c->size; i++)
        if (c->entries[i].table == table)
            return i;
    abort();    /* not a table of this cache */
}

Qcow2Cache *qcow2_cache_create(int num_tables, int table_size)
{
    Qcow2Cache *c = real_calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->size = num_tables;
    c->table_size = table_size;
    c->entries = real_calloc((size_t)num_tables, sizeof(*c->entries));
    if (!c->entries) {
        real_free(c);
        return NULL;
    }
    for (int i = 0; i < num_tables && i < CACHE_EAGER_TABLES; i++) {
        c->entries[i].table = real_buf_alloc((size_t)table_size);
        if (!c->entries[i].table) {
            qcow2_cache_destroy(c);
            return NULL;
        }
    }
    return c;
}

void qcow2_cache_destroy(Qcow2Cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->size; i++)
        real_buf_free(c->entries[i].table);
    real_free(c->entries);
    real_free(c);
}

int qcow2_cache_size(const Qcow2Cache *c)
{
    return c->size;
}

static int cache_flush_dependency(RealBlockState *bs, Qcow2Cache *c)
{
    int ret = qcow2_cache_flush(bs, c->depends);
    if (ret < 0)
        return ret;
    c->depends = NULL;
    c->depends_on_flush = false;
    return 0;
}

static int entry_flush(RealBlockState *bs, Qcow2Cache *c, int i)
{
    int ret = 0;
    if (!c->entries[i].dirty || !c->entries[i].offset)
        return 0;
    if (c->depends) {
        ret = cache_flush_dependency(bs, c);
    } else if (c->depends_on_flush) {
        ret = bdrv_flush(bs->file->bs);
        if (ret >= 0)
            c->depends_on_flush = false;
    }
    if (ret < 0)
        return ret;
    Qcow2State *s = bs->opaque;
    ret = qcow2_refcount_pre_write_check(bs, c == s->refcount_block_cache ? QCOW2_OL_REFCOUNT_BLOCK
                                             : c == s->l2_table_cache     ? QCOW2_OL_ACTIVE_L2
                                                                          : 0,
                                         (int64_t)c->entries[i].offset, c->table_size);
    if (ret < 0)
        return ret;
    ret = bdrv_pwrite(bs->file->bs, (int64_t)c->entries[i].offset, c->table_size,
                      table_addr(c, i), 0);
    if (ret < 0)
        return ret;
    c->entries[i].dirty = false;
    return 0;
}

int qcow2_cache_write(RealBlockState *bs, Qcow2Cache *c)
{
    int result = 0;
    for (int i = 0; i < c->size; i++) {
        int ret = entry_flush(bs, c, i);
        if (ret < 0 && result != -ENOSPC)
            result = ret;
    }
    return result;
}

int qcow2_cache_flush(RealBlockState *bs, Qcow2Cache *c)
{
    int result = qcow2_cache_write(bs, c);
    if (result == 0) {
        int ret = bdrv_flush(bs->file->bs);
        if (ret < 0)
            result = ret;
    }
    return result;
}

int qcow2_cache_set_dependency(RealBlockState *bs, Qcow2Cache *c, Qcow2Cache *dependency)
{
    int ret;
    if (dependency->depends) {
        ret = cache_flush_dependency(bs, dependency);
        if (ret < 0)
            return ret;
    }
    if (c->depends && c->depends != dependency) {
        ret = cache_flush_dependency(bs, c);
        if (ret < 0)
            return ret;
    }
    c->depends = dependency;
    return 0;
}

void qcow2_cache_depends_on_flush(Qcow2Cache *c)
{
    c->depends_on_flush = true;
}

int qcow2_cache_empty(RealBlockState *bs, Qcow2Cache *c)
{
    int ret = qcow2_cache_flush(bs, c);
    if (ret < 0)
        return ret;
    for (int i = 0; i < c->size; i++) {
        c->entries[i].offset = 0;
        c->entries[i].lru_counter = 0;
    }
    c->lru_counter = 0;
    return 0;
}

static int do_get(RealBlockState *bs, Qcow2Cache *c, uint64_t offset, void **table,
                  bool read_from_disk)
{
    int i, lookup_index;
    uint64_t min_lru_counter = UINT64_MAX, min_alloc_counter = UINT64_MAX;
    int min_lru_index = -1, min_alloc_index = -1;   /* among all, among allocated */

    if (offset % (uint64_t)c->table_size) {
        Qcow2State *s = bs->opaque;
        qcow2_header_signal_corruption(bs, true, "Cannot get entry from %s cache: "
                                       "Offset %#" PRIx64 " is unaligned",
                                       c == s->l2_table_cache ? "L2 table" : "refcount block",
                                       offset);
        return -EIO;
    }
    i = lookup_index = (int)((offset / (uint64_t)c->table_size * 4) % (uint64_t)c->size);
    do {
        const Qcow2CachedTable *t = &c->entries[i];
        if (t->offset == offset)
            goto found;
        if (t->ref == 0 && t->lru_counter < min_lru_counter) {
            min_lru_counter = t->lru_counter;
            min_lru_index = i;
        }
        if (t->ref == 0 && t->table && t->lru_counter < min_alloc_counter) {
            min_alloc_counter = t->lru_counter;
            min_alloc_index = i;
        }
        if (++i == c->size)
            i = 0;
    } while (i != lookup_index);

    if (min_lru_index == -1)
        abort();    /* every entry referenced: impossible in synchronous code */

    i = min_lru_index;
    if (!c->entries[i].table) {
        c->entries[i].table = real_buf_alloc((size_t)c->table_size);
        if (!c->entries[i].table) {
            if (min_alloc_index == -1)
                return -ENOMEM;   /* every allocated table is held */
            i = min_alloc_index;
        }
    }
    int ret = entry_flush(bs, c, i);
    if (ret < 0)
        return ret;
    c->entries[i].offset = 0;
    if (read_from_disk) {
        ret = bdrv_pread(bs->file->bs, (int64_t)offset, c->table_size, table_addr(c, i), 0);
        if (ret < 0)
            return ret;
    }
    c->entries[i].offset = offset;

found:
    c->entries[i].ref++;
    *table = table_addr(c, i);
    return 0;
}

int qcow2_cache_get(RealBlockState *bs, Qcow2Cache *c, uint64_t offset, void **table)
{
    return do_get(bs, c, offset, table, true);
}

int qcow2_cache_get_empty(RealBlockState *bs, Qcow2Cache *c, uint64_t offset, void **table)
{
    return do_get(bs, c, offset, table, false);
}

void qcow2_cache_put(Qcow2Cache *c, void **table)
{
    int i = table_index(c, *table);
    c->entries[i].ref--;
    *table = NULL;
    if (c->entries[i].ref == 0)
        c->entries[i].lru_counter = ++c->lru_counter;
}

void qcow2_cache_entry_mark_dirty(Qcow2Cache *c, void *table)
{
    c->entries[table_index(c, table)].dirty = true;
}

void *qcow2_cache_is_table_offset(Qcow2Cache *c, uint64_t offset)
{
    for (int i = 0; i < c->size; i++)
        if (c->entries[i].offset == offset)
            return table_addr(c, i);
    return NULL;
}

void qcow2_cache_discard(Qcow2Cache *c, void *table)
{
    int i = table_index(c, table);
    c->entries[i].offset = 0;
    c->entries[i].lru_counter = 0;
    c->entries[i].dirty = false;
}
