/*
 * qcow2.h: the qcow2 driver's internal state and the functions its files
 * share (real-internal, not for the graph layer).
 *
 * What this is: QEMU 7.2 block/qcow2.h for the features the engine writes
 * (version 3 and 2 images, any cluster size, refcount widths 1..64 bits,
 * zlib compression, zero clusters, backing file name and format, lazy
 * refcounts and the dirty/corrupt bits).  The split of the .c files follows
 * QEMU's: drv_qcow2.c (qcow2.c: slots and data path), qcow2_options.c
 * (qcow2.c: runtime options, cache sizing, reopen), qcow2_header.c
 * (qcow2.c: header and extensions), qcow2_cluster.c (qcow2-cluster.c),
 * qcow2_refcount.c (qcow2-refcount.c), qcow2_cache.c (qcow2-cache.c),
 * qcow2_compress.c (qcow2-threads.c and the compressed paths of qcow2.c),
 * qcow2_check.c (qcow2-refcount.c qcow2_check_refcounts, read-only).
 * What it is not: snapshots, persistent bitmaps, extended L2 entries,
 * encryption, external data files and zstd (such images are refused or
 * their extensions preserved untouched, as documented at each place).
 *
 * L2 tables and refcount blocks are kept in the caches in on-disk (big
 * endian) order; the L1 and refcount tables are kept in host order.
 */
#ifndef REAL_QCOW2_H
#define REAL_QCOW2_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver.h"

#define QCOW_MAGIC 0x514649fbu            /* "QFI\xfb" */
#define QCOW2_DEFAULT_CLUSTER_BITS 16
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_COMPRESSED_SECTOR_SIZE 512
#define QCOW2_MAX_WORKERS 8          /* tasks of one request in flight (aio task pool) */
#define QCOW_MAX_L1_SIZE (32u << 20)      /* bytes */
#define QCOW_MAX_REFTABLE_SIZE (8u << 20) /* bytes */
#define QCOW_MAX_CLUSTER_OFFSET ((1ull << 56) - 1)

#define QCOW_OFLAG_COPIED     (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO       (1ull << 0)
#define L1E_OFFSET_MASK  0x00fffffffffffe00ull
#define L2E_OFFSET_MASK  0x00fffffffffffe00ull
#define REFT_OFFSET_MASK 0xfffffffffffffe00ull

#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)
#define QCOW2_INCOMPAT_MASK        0x1full
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS     (1ull << 0)

#define QCOW2_EXT_MAGIC_END            0x00000000u
#define QCOW2_EXT_MAGIC_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_MAGIC_FEATURE_TABLE  0x6803f857u

/* QEMU 7.2 defaults (block/qcow2.h). */
#define QCOW2_DEFAULT_L2_CACHE_MAX_SIZE (32ull << 20)
#define QCOW2_MIN_L2_CACHE_SIZE 2          /* cache entries */
#define QCOW2_MIN_REFCOUNT_CACHE_SIZE 4    /* clusters */
#define QCOW2_DEFAULT_CACHE_CLEAN_INTERVAL 600

typedef enum Qcow2DiscardType {
    QCOW2_DISCARD_NEVER = 0,
    QCOW2_DISCARD_ALWAYS,
    QCOW2_DISCARD_REQUEST,
    QCOW2_DISCARD_SNAPSHOT,
    QCOW2_DISCARD_OTHER,
    QCOW2_DISCARD_MAX
} Qcow2DiscardType;

typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO_PLAIN,
    QCOW2_CLUSTER_ZERO_ALLOC,
    QCOW2_CLUSTER_NORMAL,
    QCOW2_CLUSTER_COMPRESSED,
} Qcow2ClusterType;

typedef struct Qcow2Cache Qcow2Cache;

/* A region freed with discard passthrough, waiting to be discarded on the file. */
typedef struct Qcow2DiscardRegion {
    uint64_t offset;
    uint64_t bytes;
    struct Qcow2DiscardRegion *next;
} Qcow2DiscardRegion;

/* A header extension this driver does not interpret, kept byte for byte. */
typedef struct Qcow2UnknownExt {
    uint32_t magic;
    uint32_t len;
    uint8_t *data;
    struct Qcow2UnknownExt *next;
} Qcow2UnknownExt;

/* Runtime options after parsing (qcow2_update_options_prepare's Qcow2ReopenState). */
typedef struct Qcow2Options {
    uint64_t l2_cache_size;        /* entries */
    uint64_t l2_cache_entry_size;  /* bytes */
    uint64_t refcount_cache_size;  /* entries (clusters) */
    uint64_t cache_clean_interval; /* seconds (accepted; no timer runs) */
    bool use_lazy_refcounts;
    bool discard_passthrough[QCOW2_DISCARD_MAX];
    int overlap_check;             /* QCOW2_OL_* bits (parsed, see qcow2_options.c) */
} Qcow2Options;

/*
 * A write's metadata update in flight (QEMU QCowL2Meta): the clusters
 * allocated for [offset, offset + nb_clusters * cluster_size) and the
 * copy-on-write regions around the guest data.
 */
typedef struct Qcow2L2Meta {
    uint64_t offset;          /* guest offset of the first cluster */
    uint64_t alloc_offset;    /* host offset of the first cluster */
    int nb_clusters;
    bool keep_old_clusters;   /* in-place write of COPIED clusters */
    bool skip_cow;            /* COW regions already zeroed on disk */
    uint32_t cow_start_offset, cow_start_bytes;  /* relative to the first cluster */
    uint32_t cow_end_offset, cow_end_bytes;
    const uint8_t *data;      /* guest data, written with the COW regions */
    struct Qcow2L2Meta *next;
} Qcow2L2Meta;

/* Kinds of metadata overlap-check watches (QEMU QCOW2_OL_*_BITNR order). */
enum {
    QCOW2_OL_MAIN_HEADER = 1 << 0, QCOW2_OL_ACTIVE_L1 = 1 << 1, QCOW2_OL_ACTIVE_L2 = 1 << 2,
    QCOW2_OL_REFCOUNT_TABLE = 1 << 3, QCOW2_OL_REFCOUNT_BLOCK = 1 << 4,
    QCOW2_OL_SNAPSHOT_TABLE = 1 << 5, QCOW2_OL_INACTIVE_L1 = 1 << 6,
    QCOW2_OL_INACTIVE_L2 = 1 << 7, QCOW2_OL_BITMAP_DIRECTORY = 1 << 8,
};

typedef struct Qcow2State {
    /* geometry */
    int cluster_bits;
    int cluster_size;
    int l2_bits;              /* log2(entries per L2 table) */
    int l2_size;              /* entries per L2 table */
    int l2_slice_size;        /* entries per cached L2 slice */
    int l1_size;              /* entries in the active L1 table */
    int l1_vm_state_index;    /* L1 entries covering the virtual disk */
    int csize_shift;          /* compressed descriptor: size field position */
    uint64_t csize_mask;
    uint64_t cluster_offset_mask;
    int refcount_order;
    int refcount_bits;
    uint64_t refcount_max;
    int refcount_block_bits;  /* log2(refcounts per refcount block) */
    int refcount_block_size;  /* refcounts per refcount block */

    /* header */
    int qcow_version;
    uint32_t header_length;
    uint64_t incompatible_features;
    uint64_t compatible_features;
    uint64_t autoclear_features;
    uint8_t compression_type;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    char *image_backing_file;     /* name in the header, or NULL */
    char *image_backing_format;   /* backing format extension, or NULL */
    Qcow2UnknownExt *unknown_ext; /* kept and rewritten in order */

    /* tables */
    uint64_t l1_table_offset;
    uint64_t *l1_table;           /* l1_size entries, host order */
    uint64_t refcount_table_offset;
    uint64_t *refcount_table;     /* refcount_table_size entries, host order */
    uint32_t refcount_table_size;
    uint32_t max_refcount_table_index;
    Qcow2Cache *l2_table_cache;
    Qcow2Cache *refcount_block_cache;

    /* allocation */
    uint64_t free_cluster_index;  /* first cluster that may be free */
    uint64_t free_byte_offset;    /* compressed data continues here, 0 if none */
    bool cache_discards;          /* queue discards until process_discards */
    Qcow2DiscardRegion *discards;

    /* runtime options in force */
    json_t *options;              /* the node's options (own reference) */
    int flags;                    /* REAL_O_* the options were parsed with */
    Qcow2Options opts;
    bool use_lazy_refcounts;
    bool signaled_corruption;

    /* scratch buffers reused by the data path */
    uint8_t *cluster_cache;       /* decompressed cluster */
    uint64_t cluster_cache_offset;/* its compressed descriptor offset, -1 none */
    uint8_t *cluster_data;        /* compressed bytes read from disk */
} Qcow2State;

/* ---- geometry helpers (qcow2.h inline functions) ------------------------------ */

static inline uint64_t qcow2_offset_into_cluster(const Qcow2State *s, uint64_t offset)
{
    return offset & (uint64_t)(s->cluster_size - 1);
}
static inline uint64_t qcow2_start_of_cluster(const Qcow2State *s, uint64_t offset)
{
    return offset & ~(uint64_t)(s->cluster_size - 1);
}
static inline uint64_t qcow2_size_to_clusters(const Qcow2State *s, uint64_t size)
{
    return (size + (uint64_t)(s->cluster_size - 1)) >> s->cluster_bits;
}
static inline int qcow2_offset_to_l1_index(const Qcow2State *s, uint64_t offset)
{
    return (int)(offset >> (s->l2_bits + s->cluster_bits));
}
static inline int qcow2_offset_to_l2_index(const Qcow2State *s, uint64_t offset)
{
    return (int)((offset >> s->cluster_bits) & (uint64_t)(s->l2_size - 1));
}
static inline int qcow2_offset_to_l2_slice_index(const Qcow2State *s, uint64_t offset)
{
    return (int)((offset >> s->cluster_bits) & (uint64_t)(s->l2_slice_size - 1));
}
static inline int64_t qcow2_size_to_l1(const Qcow2State *s, int64_t size)
{
    int shift = s->cluster_bits + s->l2_bits;
    return (size + (1ll << shift) - 1) >> shift;
}
static inline uint64_t qcow2_get_l2_entry(const uint64_t *slice, int idx)
{
    return be64toh(slice[idx]);
}
static inline void qcow2_set_l2_entry(uint64_t *slice, int idx, uint64_t entry)
{
    slice[idx] = htobe64(entry);
}
static inline Qcow2ClusterType qcow2_get_cluster_type(uint64_t l2_entry)
{
    if (l2_entry & QCOW_OFLAG_COMPRESSED)
        return QCOW2_CLUSTER_COMPRESSED;
    if (l2_entry & QCOW_OFLAG_ZERO)
        return (l2_entry & L2E_OFFSET_MASK) ? QCOW2_CLUSTER_ZERO_ALLOC : QCOW2_CLUSTER_ZERO_PLAIN;
    if (!(l2_entry & L2E_OFFSET_MASK))
        return QCOW2_CLUSTER_UNALLOCATED;
    return QCOW2_CLUSTER_NORMAL;
}
static inline bool qcow2_cluster_is_allocated(Qcow2ClusterType t)
{
    return t == QCOW2_CLUSTER_COMPRESSED || t == QCOW2_CLUSTER_NORMAL ||
           t == QCOW2_CLUSTER_ZERO_ALLOC;
}
static inline bool qcow2_need_accurate_refcounts(const Qcow2State *s)
{
    return !(s->incompatible_features & QCOW2_INCOMPAT_DIRTY);
}

/* ---- qcow2_cache.c ---------------------------------------------------------- */

Qcow2Cache *qcow2_cache_create(int num_tables, int table_size);
void qcow2_cache_destroy(Qcow2Cache *c);
int qcow2_cache_get(RealBlockState *bs, Qcow2Cache *c, uint64_t offset, void **table);
int qcow2_cache_get_empty(RealBlockState *bs, Qcow2Cache *c, uint64_t offset, void **table);
void qcow2_cache_put(Qcow2Cache *c, void **table);
void qcow2_cache_entry_mark_dirty(Qcow2Cache *c, void *table);
int qcow2_cache_write(RealBlockState *bs, Qcow2Cache *c);
int qcow2_cache_flush(RealBlockState *bs, Qcow2Cache *c);
int qcow2_cache_set_dependency(RealBlockState *bs, Qcow2Cache *c, Qcow2Cache *dependency);
void qcow2_cache_depends_on_flush(Qcow2Cache *c);
int qcow2_cache_empty(RealBlockState *bs, Qcow2Cache *c);
void *qcow2_cache_is_table_offset(Qcow2Cache *c, uint64_t offset);
void qcow2_cache_discard(Qcow2Cache *c, void *table);
int qcow2_cache_size(const Qcow2Cache *c);

/* ---- qcow2_refcount.c --------------------------------------------------------- */

int qcow2_refcount_init(RealBlockState *bs);
void qcow2_refcount_close(RealBlockState *bs);
int qcow2_refcount_get(RealBlockState *bs, int64_t cluster_index, uint64_t *refcount);
int64_t qcow2_refcount_alloc_clusters(RealBlockState *bs, uint64_t size);
int64_t qcow2_refcount_alloc_clusters_at(RealBlockState *bs, uint64_t offset,
                                         int64_t nb_clusters);
int64_t qcow2_refcount_alloc_bytes(RealBlockState *bs, int size);
void qcow2_refcount_free_clusters(RealBlockState *bs, int64_t offset, int64_t size,
                                  Qcow2DiscardType type);
void qcow2_refcount_free_any_cluster(RealBlockState *bs, uint64_t l2_entry,
                                     Qcow2DiscardType type);
void qcow2_refcount_process_discards(RealBlockState *bs, int ret);
/*
 * QEMU qcow2_pre_write_overlap_check(): a write of SIZE bytes at host OFFSET
 * of the image file that would land on metadata the overlap-check option
 * watches (except the kinds in IGN, QCOW2_OL_* bits) signals a fatal
 * corruption and returns -EIO; 0 otherwise.
 */
int qcow2_refcount_pre_write_check(RealBlockState *bs, int ign, int64_t offset, int64_t size);
/* Refcount value at INDEX of an on-disk refcount block, and its setter. */
uint64_t qcow2_refcount_block_get(const Qcow2State *s, const void *block, uint64_t index);
void qcow2_refcount_block_set(const Qcow2State *s, void *block, uint64_t index,
                              uint64_t value);

/* ---- qcow2_cluster.c -------------------------------------------------------- */

int qcow2_cluster_get_host_offset(RealBlockState *bs, uint64_t offset, uint64_t *bytes,
                                  uint64_t *host_offset, Qcow2ClusterType *type);
int qcow2_cluster_alloc_host_offset(RealBlockState *bs, uint64_t offset, uint64_t *bytes,
                                    uint64_t *host_offset, Qcow2L2Meta **m);
int qcow2_cluster_link_l2(RealBlockState *bs, Qcow2L2Meta *m);
void qcow2_cluster_free_l2meta(Qcow2L2Meta *m);
/* QEMU get_cluster_table(): the L2 slice for OFFSET, allocated or COWed if
 * needed (put it back with qcow2_cache_put). */
int qcow2_cluster_get_table(RealBlockState *bs, uint64_t offset, uint64_t **l2_slice,
                            int *l2_index);
void qcow2_cluster_parse_compressed(const Qcow2State *s, uint64_t l2_entry,
                                    uint64_t *coffset, int *csize);
int qcow2_cluster_zeroize(RealBlockState *bs, uint64_t offset, uint64_t bytes, int flags);
int qcow2_cluster_discard(RealBlockState *bs, uint64_t offset, uint64_t bytes,
                          Qcow2DiscardType type, bool full_discard);
int qcow2_cluster_grow_l1_table(RealBlockState *bs, uint64_t min_size, bool exact_size);
int qcow2_cluster_write_l1_entry(RealBlockState *bs, int l1_index);

/* ---- qcow2_header.c ------------------------------------------------------- */

int qcow2_header_read(RealBlockState *bs, BgError *err);
int qcow2_header_update(RealBlockState *bs);
void qcow2_header_free(Qcow2State *s);
int qcow2_header_mark_dirty(RealBlockState *bs);
int qcow2_header_mark_clean(RealBlockState *bs);
int qcow2_header_mark_corrupt(RealBlockState *bs);
/* QEMU qcow2_signal_corruption(): fatal ones mark the image corrupt and
 * take the driver away (later requests fail with ENOMEDIUM). */
void qcow2_header_signal_corruption(RealBlockState *bs, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a request at OFFSET of SIZE bytes, which the event names. */
void qcow2_header_signal_corruption_at(RealBlockState *bs, bool fatal, int64_t offset,
                                       int64_t size, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- qcow2_options.c ------------------------------------------------------ */

/* Parse runtime options against the open image (read_cache_sizes() etc.). */
int qcow2_options_parse(RealBlockState *bs, json_t *options, int flags, Qcow2Options *o,
                        BgError *err);
/* Parse OPTIONS, flush and rebuild the caches, make them the ones in force
 * (open and truncate: prepare and commit at once). */
int qcow2_options_update(RealBlockState *bs, json_t *options, int flags, BgError *err);
int qcow2_options_reopen_prepare(RealReopenState *rs, BgError *err);
void qcow2_options_reopen_commit(RealReopenState *rs);
void qcow2_options_reopen_abort(RealReopenState *rs);

/* ---- qcow2_compress.c ---------------------------------------------------- */

/* Raw deflate, windowBits -12 (QEMU qcow2_compress): bytes written, -ENOMEM if
 * it does not fit in DEST_SIZE, -EIO on zlib errors. */
long qcow2_compress_buffer(void *dest, size_t dest_size, const void *src, size_t src_size);
long qcow2_compress_decompress(void *dest, size_t dest_size, const void *src,
                               size_t src_size);
int qcow2_compress_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf);
int qcow2_compress_pread(RealBlockState *bs, uint64_t l2_entry, uint64_t offset_in_cluster,
                         uint64_t bytes, void *buf);

/* ---- qcow2_check.c ----------------------------------------------------------- */

/* The invariants of an open image (see qcow2_check.c); read-only. */
bool qcow2_check_refcounts(RealBlockState *bs, BgError *err);

/* ---- drv_qcow2.c ----------------------------------------------------------- */

/*
 * QEMU qcow2_co_create() with qemu-img create's defaults (v3, 64 KiB
 * clusters, 16-bit refcounts, zlib): FILE is an open, empty, writable file
 * node; SIZE a multiple of 512; BACKING/BACKING_FMT may be NULL.
 */
int drv_qcow2_create(RealBlockState *file, int64_t size, const char *backing,
                     const char *backing_fmt, BgError *err);
/* The qcow2 read path, used by copy-on-write (QEMU do_perform_cow_read). */
int drv_qcow2_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags);

#endif
