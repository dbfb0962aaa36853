/*
 * bdrv.h: the generic request path around the RealDriver slots.
 *
 * What this is: QEMU 7.2's block/io.c and the driver-facing part of
 * block.c for one node at a time: open/close of a driver on a
 * RealBlockState, reads that zero-fill beyond the end, writes with
 * detect-zeroes, write-zeroes split at the driver's alignment with the
 * bounce-buffer fallback, discard gated by discard=unmap and split the same
 * way, flush in QEMU's order (flush_to_os, then flush_to_disk unless
 * cache.no-flush, then the writable children), block status through the
 * backing chain.  Every driver reaches its children through these.
 * What it is not: the graph (no node names index, no permissions between
 * parents, no reopen queue) and not a BlockBackend: bdrv_check_byte_request()
 * is offered for the device-level bounds check, callers decide when to use it.
 */
#ifndef REAL_BDRV_H
#define REAL_BDRV_H

#include "driver.h"

#define BDRV_SECTOR_SIZE 512
/* QEMU BDRV_REQUEST_MAX_BYTES: the largest request qemu-io accepts. */
#define BDRV_REQUEST_MAX_BYTES 2147483136ll
/* QEMU MAX_BOUNCE_BUFFER: chunk of the write-zeroes fallback. */
#define BDRV_MAX_BOUNCE_BUFFER (32768ll * 512)

/* The compiled-in drivers, by QEMU name ("file", "raw", "qcow2", "null-co"). */
const RealDriver *bdrv_find_driver(const char *name);

/* A zeroed node with no driver; NULL on out-of-memory. */
RealBlockState *bdrv_new(void);
/* Close (if open) and free the node; children structs are not freed. NULL: no-op. */
void bdrv_free(RealBlockState *bs);

/*
 * Open DRV on BS (QEMU bdrv_open_driver): allocates opaque, sets the flags,
 * calls drv->open, refreshes limits and length.  bs->file must already be
 * attached for a format driver.  On failure bs is left without a driver.
 */
int bdrv_open_driver(RealBlockState *bs, const RealDriver *drv, json_t *options, int flags,
                     BgError *err);
/* drv->close and free opaque; the node keeps its children pointers. */
void bdrv_close(RealBlockState *bs);

/* Edge from PARENT to CHILD (the graph layer frees it with bdrv_child_free). */
RealChild *bdrv_child_new(RealBlockState *parent, RealBlockState *child, const char *name,
                          unsigned role);
void bdrv_child_free(RealChild *c);

/* Length in bytes: total_sectors * 512, as QEMU's bdrv_getlength(). */
int64_t bdrv_getlength(RealBlockState *bs);
/* Re-read the driver's length into total_sectors. */
int bdrv_refresh_total_sectors(RealBlockState *bs);

/* Device-level check (QEMU blk_check_byte_request): -EIO outside [0, length]. */
int bdrv_check_byte_request(RealBlockState *bs, int64_t offset, int64_t bytes);

int bdrv_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags);
int bdrv_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf, int flags);
int bdrv_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags);
/* A node's zero write to its child CHILD (QEMU bdrv_co_pwrite_zeroes()):
 * MAY_UNMAP is dropped unless CHILD was opened with discard=unmap.  A
 * BlockBackend's own zero write (blk_co_pwrite_zeroes()) keeps it at its
 * root: bdrv_pwrite_zeroes(). */
int bdrv_child_pwrite_zeroes(RealBlockState *child, int64_t offset, int64_t bytes, int flags);
int bdrv_pwrite_compressed(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf);
int bdrv_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes);
int bdrv_flush(RealBlockState *bs);
/*
 * Process-wide: does the file driver's flush_to_disk reach the disk
 * (fdatasync)?  On by default.  Off only for scratch directories that are
 * thrown away after the run (BgBackendConfig.volatile_scratch): a flush then
 * still does everything QEMU's does above the host file system (flush_to_os,
 * children, generations) and succeeds as fdatasync on a healthy disk does.
 */
void drv_file_set_host_sync(bool on);
/*
 * A count that moves with every change this process makes to a file through
 * the file driver or qemu-img create (a write, a zero write or discard, a
 * truncation, a file created): the runner scans the scratch directory again
 * only when it moved (backend.h, file_changes).
 */
uint64_t drv_file_changes(void);
void drv_file_changed(void);
int bdrv_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                  BgError *err);

/* One layer (QEMU bdrv_co_block_status). */
int bdrv_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                      int64_t *pnum, int64_t *map, RealBlockState **file);
/* Through the backing chain down to BASE (NULL: the whole chain). */
int bdrv_block_status_above(RealBlockState *bs, RealBlockState *base, bool want_zero,
                            int64_t offset, int64_t bytes, int64_t *pnum, int64_t *map,
                            RealBlockState **file, int *depth);
/* 1 if allocated in this layer (data or zero flag), 0 if not, <0 error. */
int bdrv_is_allocated(RealBlockState *bs, int64_t offset, int64_t bytes, int64_t *pnum);
/* 1 if the range is known to read as zeroes without reading it. */
int bdrv_is_zero_fast(RealBlockState *bs, int64_t offset, int64_t bytes);

int bdrv_get_info(RealBlockState *bs, RealDriverInfo *bdi);
/* drv->check (true when the driver has none, or the node lost its driver). */
bool bdrv_check(RealBlockState *bs, BgError *err);
json_t *bdrv_get_specific_info(RealBlockState *bs);
int64_t bdrv_get_allocated_file_size(RealBlockState *bs);

/* QEMU bdrv_debug_event() / BLKDBG_EVENT(): tell BS (blkdebug) that EVENT happened. */
void bdrv_debug_event(RealBlockState *bs, const char *event);

/* Does the buffer hold only zero bytes? (QEMU buffer_is_zero) */
bool bdrv_buffer_is_zero(const void *buf, size_t len);

#endif
