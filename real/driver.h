/*
 * driver.h: the RealDriver slot table, the per-open-image RealBlockState and
 * the RealChild handle through which a driver reaches the node below it.
 *
 * What this is: the storage half of the engine's block layer, after QEMU
 * 7.2's include/block/block_int-common.h (struct BlockDriver,
 * BlockDriverState, BdrvChild).  A driver fills only the slots it supports;
 * bdrv.c is the only caller of the slots and supplies QEMU's generic
 * behaviour around them (block/io.c: bounds, zero-write fallback, discard
 * splitting, flush ordering).
 * What it is not: the graph.  Node names, the node index, permissions
 * between parents, reopen queues and jobs belong to the graph layer, which
 * owns RealBlockStates, creates RealChild edges and may point a child's bs
 * at a filter node; a format driver only ever calls bdrv_*() on
 * bs->file->bs / bs->backing->bs.
 *
 * Units: bytes everywhere.  Return values: 0 (or a count) on success, a
 * negative errno on failure, as in QEMU.  Errors with text go in a BgError
 * passed last.
 */
#ifndef REAL_DRIVER_H
#define REAL_DRIVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

typedef struct RealDriver RealDriver;
typedef struct RealBlockState RealBlockState;
typedef struct RealChild RealChild;

/* Open flags (QEMU BDRV_O_*, same values). */
enum {
    REAL_O_RDWR     = 0x0002,   /* read-write */
    REAL_O_RESIZE   = 0x0004,   /* the user may resize (img-create) */
    REAL_O_NOCACHE  = 0x0020,   /* cache.direct: O_DIRECT on file nodes */
    REAL_O_NO_FLUSH = 0x0200,   /* cache.no-flush: bdrv_flush stops at the OS */
    REAL_O_UNMAP    = 0x4000,   /* discard=unmap: discard requests are executed */
};
/*
 * Children inherit as in QEMU's bdrv_inherited_options(): read-only,
 * cache.direct and cache.no-flush from the parent; discard=unmap by default
 * for every child (so qcow2's freed clusters reach the file); backing nodes
 * are read-only.  img.c does this for its nodes, the graph layer for its own.
 */

/* Request flags (QEMU BdrvRequestFlags, same values). */
enum {
    REAL_REQ_ZERO_WRITE       = 0x0002,
    REAL_REQ_MAY_UNMAP        = 0x0004,
    REAL_REQ_FUA              = 0x0010,
    REAL_REQ_WRITE_COMPRESSED = 0x0020,
    REAL_REQ_WRITE_UNCHANGED  = 0x0040,   /* never on a request here (a copy-on-read's
                                           * write is a plain one); drivers declare it
                                           * as QEMU's do (see do_pwrite_zeroes()) */
    REAL_REQ_NO_FALLBACK      = 0x0100,
};

/* Permissions (QEMU 7.2 BLK_PERM_*, same bits; GRAPH_MOD is gone in 7.0). */
enum {
    REAL_PERM_CONSISTENT_READ = 0x01,
    REAL_PERM_WRITE           = 0x02,
    REAL_PERM_WRITE_UNCHANGED = 0x04,
    REAL_PERM_RESIZE          = 0x08,
    REAL_PERM_ALL             = 0x0f,
};

/* Child roles (QEMU BdrvChildRole, same bits). */
enum {
    REAL_CHILD_DATA     = 0x01,
    REAL_CHILD_METADATA = 0x02,
    REAL_CHILD_FILTERED = 0x04,
    REAL_CHILD_COW      = 0x08,
    REAL_CHILD_PRIMARY  = 0x10,
};

/* Block status bits (QEMU BDRV_BLOCK_*, same values). */
enum {
    REAL_BLOCK_DATA         = 0x01,
    REAL_BLOCK_ZERO         = 0x02,
    REAL_BLOCK_OFFSET_VALID = 0x04,
    REAL_BLOCK_RAW          = 0x08,
    REAL_BLOCK_ALLOCATED    = 0x10,
    REAL_BLOCK_EOF          = 0x20,
    REAL_BLOCK_RECURSE      = 0x40,
};

typedef enum RealDetectZeroes {
    REAL_DETECT_ZEROES_OFF,
    REAL_DETECT_ZEROES_ON,
    REAL_DETECT_ZEROES_UNMAP,
} RealDetectZeroes;

/* QEMU BlockLimits, the subset the request path uses. */
typedef struct RealBlockLimits {
    uint32_t request_alignment;       /* every request is aligned to this (1 = none) */
    uint32_t pdiscard_alignment;      /* discard granularity, 0 = request_alignment */
    uint32_t pwrite_zeroes_alignment; /* write-zeroes granularity, 0 = request_alignment */
    uint64_t max_transfer;            /* largest single request, 0 = unlimited */
    uint32_t min_mem_alignment;       /* buffer alignment O_DIRECT needs */
} RealBlockLimits;

/*
 * An edge from a parent node to a child node.  The graph layer creates and
 * frees it and may change bs (child replacement, filter insertion) between
 * requests; drivers only read it.
 */
struct RealChild {
    RealBlockState *bs;       /* the child node (owned by the graph) */
    RealBlockState *parent;   /* the node using it (borrowed) */
    const char *name;         /* "file", "backing", ... (static string) */
    unsigned role;            /* REAL_CHILD_* */
    uint64_t perm;            /* permissions the parent holds on bs; bdrv_flush()
                                 flushes the child only with WRITE or WRITE_UNCHANGED */
    uint64_t shared_perm;     /* permissions the parent lets others hold */
};

/*
 * One open image or protocol node, after QEMU's BlockDriverState minus the
 * graph.  Created by bdrv_new(), filled by the caller (children, flags),
 * opened by bdrv_open_driver(), freed by bdrv_free().
 */
struct RealBlockState {
    const RealDriver *drv;     /* NULL after a fatal corruption ("No medium found") */
    const RealDriver *orig_drv;/* the driver it was opened with (for close and info) */
    void *opaque;              /* driver state, drv->instance_size bytes, zeroed */
    char *filename;            /* QEMU bs->filename: the file name, or "" */
    char *node_name;           /* for messages; set by the graph layer, may be NULL */
    int open_flags;            /* REAL_O_* */
    bool read_only;            /* !(open_flags & REAL_O_RDWR), kept in sync */
    RealDetectZeroes detect_zeroes;
    int64_t total_sectors;     /* length in 512-byte sectors (QEMU rounds up) */
    RealChild *file;           /* protocol/data child, NULL for protocol drivers */
    RealChild *backing;        /* COW child, NULL when none is attached */
    char *backing_file;        /* backing file name from the image header, or NULL */
    char *backing_format;      /* backing format from the image header, or NULL */
    RealBlockLimits bl;
    uint64_t drv_max_transfer; /* the driver's own bl.max_transfer (blkdebug's max-transfer),
                                  0 = none; bl.max_transfer adds the children's
                                  (real_node_refresh_limits()) */
    unsigned supported_write_flags; /* REAL_REQ_FUA etc. the driver handles */
    unsigned supported_zero_flags;  /* REAL_REQ_MAY_UNMAP / NO_FALLBACK on zero writes */
    uint64_t wr_highest_offset;/* end of the highest write (QEMU wr_highest_offset) */
    uint64_t write_gen;        /* bumped by every write (QEMU bs->write_gen) */
    uint64_t flushed_gen;      /* write_gen at the last completed flush */
    char corrupt_msg[320];     /* last "Marking image as corrupt" text, "" if none */
    bool inspecting;           /* a read that must leave no trace is under way (the
                                * differential comparator's): a corruption found is
                                * only -EIO, the image is neither marked nor closed */
    void *graph;               /* the graph layer's node, or NULL (borrowed) */
    /* The graph layer's report of a corruption a driver found (QEMU
     * BLOCK_IMAGE_CORRUPTED: OFFSET and SIZE of the request, -1 when there
     * is none), or NULL (offline tools). */
    void (*corrupted)(RealBlockState *bs, const char *msg, int64_t offset, int64_t size,
                      bool fatal);
    /* The graph layer's note that QEMU 7.2 would abort here (WHY, static),
     * which makes the step unsupported, or NULL (offline tools). */
    void (*aborts)(RealBlockState *bs, const char *why);
};

/* Driver information for query output (QEMU BlockDriverInfo subset). */
typedef struct RealDriverInfo {
    int cluster_size;          /* 0 when the format has no clusters */
    int64_t vm_state_offset;   /* qcow2: where VM state would live */
    bool is_dirty;             /* qcow2 dirty bit (lazy refcounts) */
} RealDriverInfo;

typedef enum RealPrealloc { REAL_PREALLOC_OFF } RealPrealloc;

/*
 * A reopen in progress for one node (QEMU BDRVReopenState).  prepare may
 * allocate opaque; exactly one of commit or abort follows and frees it.
 */
typedef struct RealReopenState {
    RealBlockState *bs;
    json_t *options;           /* the new driver options (borrowed) */
    int flags;                 /* the new REAL_O_* flags */
    void *opaque;              /* driver-staged state */
} RealReopenState;

struct RealDriver {
    const char *format_name;   /* "qcow2", "raw", "file", "null-co" */
    const char *protocol_name; /* for protocol drivers ("file", "null-co", "blkdebug"), else NULL */
    size_t instance_size;      /* bytes of opaque, allocated zeroed before open */
    bool is_format;            /* a format driver: reads through bs->file */
    bool supports_backing;     /* has a COW child; unallocated reads go to it */
    bool is_filter;            /* QEMU is_filter: block status and get_info go on to the
                                * filtered child (bs->backing or bs->file); the graph
                                * layer's node driver says the same (real_check) */
    /* QEMU has_variable_length: bdrv_getlength() re-reads the length each time
     * (raw, copy-on-read, compress follow their child's length). */
    bool has_variable_length;
    /* Option names the driver consumes (NULL-terminated); the rest are the
     * graph layer's ("Block format ... does not support the option"). */
    const char *const *runtime_opts;
    /* Options that may be omitted on reopen (QEMU mutable_opts). */
    const char *const *mutable_opts;

    /*
     * Open.  Called by bdrv_open_driver() with opaque zeroed, bs->file
     * attached for format drivers (bs->backing is attached later, after
     * open has read bs->backing_file), open_flags and read_only set.
     * OPTIONS is the node's option object (driver keys only are read).
     * On failure: err set, negative errno, and nothing to close (the driver
     * frees what it allocated).
     */
    int (*open)(RealBlockState *bs, json_t *options, int flags, BgError *err);
    /* Flush caches to the child and release everything; no I/O errors reported. */
    void (*close)(RealBlockState *bs);

    /*
     * Data path.  offset+bytes lie within [0, total_sectors*512) for reads
     * (bdrv.c zero-fills beyond); writes may extend a protocol node.  Both
     * are aligned to bl.request_alignment.  buf holds bytes bytes.  flags
     * are REAL_REQ_*.  A failed write leaves metadata consistent (data in
     * the range is undefined, as in QEMU).
     */
    int (*pread)(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags);
    int (*pwrite)(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                  int flags);
    /*
     * Write zeroes without a buffer.  Called per bl.pwrite_zeroes_alignment
     * piece by bdrv_pwrite_zeroes(); -ENOTSUP makes bdrv.c fall back to
     * writing a zero buffer (unless REAL_REQ_NO_FALLBACK).
     */
    int (*pwrite_zeroes)(RealBlockState *bs, int64_t offset, int64_t bytes, int flags);
    /* Compressed write of whole clusters (QEMU bdrv_co_pwritev_compressed_part). */
    int (*pwrite_compressed)(RealBlockState *bs, int64_t offset, int64_t bytes,
                             const void *buf);
    /* Discard, advisory: -ENOTSUP for pieces the driver ignores. */
    int (*pdiscard)(RealBlockState *bs, int64_t offset, int64_t bytes);
    /* Write driver caches to the child (qcow2 metadata). */
    int (*flush_to_os)(RealBlockState *bs);
    /* Make written data stable (fdatasync); skipped under REAL_O_NO_FLUSH. */
    int (*flush_to_disk)(RealBlockState *bs);

    /* Length in bytes (protocol drivers; formats set total_sectors in open). */
    int64_t (*getlength)(RealBlockState *bs);
    /* Bytes the image occupies on the host (st_blocks * 512), or -ENOTSUP. */
    int64_t (*get_allocated_file_size)(RealBlockState *bs);
    /* Resize to OFFSET bytes. */
    int (*truncate)(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                    BgError *err);
    /*
     * Allocation status of [offset, offset+bytes) in this layer only:
     * returns REAL_BLOCK_* bits for the first *pnum bytes (> 0), with
     * *map and *file naming where the data lives when OFFSET_VALID is set.
     */
    int (*block_status)(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                        int64_t *pnum, int64_t *map, RealBlockState **file);

    /* Query output: cluster size, dirty flag (QEMU bdrv_get_info). */
    int (*get_info)(RealBlockState *bs, RealDriverInfo *bdi);
    /* "format-specific" object of query output, new reference, or NULL. */
    json_t *(*get_specific_info)(RealBlockState *bs);
    /* Recompute bs->bl after open or reopen. */
    void (*refresh_limits)(RealBlockState *bs);
    /*
     * The driver's invariants on its in-memory state (qcow2: refcounts
     * match references, COPIED flags).  Read-only: no write, no cache
     * change; meant for assert().  false with err naming the first broken one.
     */
    bool (*check)(RealBlockState *bs, BgError *err);

    /*
     * Reopen: prepare validates rs->options/flags and stages the change in
     * rs->opaque without touching live state visible to I/O (it may flush);
     * commit applies it and cannot fail; abort drops it.
     */
    int (*reopen_prepare)(RealReopenState *rs, BgError *err);
    void (*reopen_commit)(RealReopenState *rs);
    void (*reopen_abort)(RealReopenState *rs);

    /*
     * Permissions the graph computed for this node (the union of its
     * parents' perm and the intersection of their shared perm).
     * check_perm may fail (file locks held by another process: QEMU's
     * raw_check_perm); then set_perm or abort_perm_update follows.  Between
     * reopen_prepare and reopen_commit/abort the three apply to the staged
     * state too (file: the new fd opened for the new flags), so a reopen
     * runs prepare -> check_perm -> commit and set_perm in either order.
     */
    int (*check_perm)(RealBlockState *bs, uint64_t perm, uint64_t shared, BgError *err);
    void (*set_perm)(RealBlockState *bs, uint64_t perm, uint64_t shared);
    void (*abort_perm_update)(RealBlockState *bs);

    /*
     * QEMU drv->bdrv_change_backing_file(): write BACKING_FILE / BACKING_FMT
     * (NULL: none) into the image header and bs->backing_file/format.
     * NULL slot: -ENOTSUP.
     */
    int (*change_backing_file)(RealBlockState *bs, const char *backing_file,
                               const char *backing_fmt);

    /*
     * QEMU bdrv_debug_event(): EVENT (a BlkdebugEvent name, "read_aio") was
     * raised on this node by the driver above it or by the request path.
     * Only blkdebug implements it; NULL elsewhere.
     */
    void (*debug_event)(RealBlockState *bs, const char *event);
};

#endif
