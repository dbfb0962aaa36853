/*
 * model_io_int.h: what model_io.c (requests through the graph),
 * model_io_qcow2.c (qcow2's part of them) and model_io_status.c (block
 * status) share; nothing outside these three files includes it.  The API
 * of all three is model.h's model_io_*().
 */
#ifndef MODEL_IO_INT_H
#define MODEL_IO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* One request's context: the state, the world it runs in, and what it found
 * that the model cannot answer. */
typedef struct IoCtx {
    ModelState *st;
    ModelWorld *w;
    const char *unsupported;   /* set when the model keeps no data for a request */
    bool unknown;              /* a read returned bytes the model does not know */
    bool bounce;               /* reading into a buffer of the block layer's own (a copy-on-read
                                * or job bounce buffer, qemu_try_blockalign()), which a null
                                * node without read-zeroes leaves uninitialized: unknown bytes */
    uint8_t *known;            /* ModelIoStatus.known for the request's buffer KNOWN_BUF of
                                * KNOWN_LEN bytes, or NULL */
    const uint8_t *known_buf;
    uint64_t known_len;
    bool known_lost;           /* ModelIoStatus.known_lost */
} IoCtx;

/* ---- model_io.c ---------------------------------------------------------- */

/* The image file behind `file` node N (its filename), or NULL. */
ModelFile *model_io_file_of(IoCtx *c, const ModelNode *n);
/* A read of LEN bytes at OFF through node N into BUF: 0 or -errno. */
int model_io_node_read(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf);
/* blkdebug's rules on the nodes between qcow2 node N and its image file, for
 * a request of LEN bytes at HOST_OFF (-1: a write not placed yet). */
int model_io_file_chain(IoCtx *c, const ModelNode *n, int64_t host_off, uint64_t len, int iotype);
bool model_io_all_zero(const uint8_t *b, uint64_t n);

/* ---- model_io_status.c --------------------------------------------------- */

/* Whether CLUSTER of N is allocated in N itself (bdrv_is_allocated());
 * model.h's model_io_allocated() for a request's context. */
bool model_io_allocated_in(IoCtx *c, ModelNode *n, uint64_t cluster);
/* Whether LEN bytes at OFF of node N read as zeroes (QEMU's block status):
 * 1, 0, or -1 when the model cannot tell. */
int model_io_zero_run(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len);

/* ---- model_io_qcow2.c ---------------------------------------------------- */

/* The image behind qcow2 node N for a request that changes it, or NULL (C
 * says why when the model cannot follow). */
ModelFile *model_io_qcow2_file(IoCtx *c, const ModelNode *n);
/* -ENOTSUP for a qcow2 request the model keeps no image for (C says why,
 * unless an earlier reason is already there). */
int model_io_qcow2_no_image(IoCtx *c);
/* -ENOTSUP when F's host layout may differ from QEMU's (F->unsupported). */
int model_io_qcow2_layout_unknown(IoCtx *c, const ModelFile *f);
/* qcow2_co_preadv_part(); EVENTS: blkdebug events on the file child. */
int model_io_qcow2_read(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                        bool events);
/* qcow2_co_pwritev_part() / pwrite_zeroes / compressed (MODEL_WR_* FLAGS). */
int model_io_qcow2_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                         unsigned flags);
/* A raw read of a qcow2 image file: the data clusters the model knows. */
void model_io_qcow2_raw_read(IoCtx *c, const ModelFile *f, uint64_t off, uint64_t len,
                             uint8_t *buf);

/* Would metadata I/O of a change of N's clusters meet an active blkdebug
 * rule for flushes (or, with WRITES, writes) below it?  -ENOTSUP and
 * C->unsupported if so, else 0 (model_io_qcow2.c). */
int model_io_qcow2_meta_rules(IoCtx *c, const ModelNode *n, bool writes);

/* The L2 slices of N's clusters in [OFF, OFF+LEN) into its L2 cache, each
 * not there yet read through its file chain's blkdebug rules (model_io_qcow2.c). */
int model_io_qcow2_l2_load(IoCtx *c, ModelNode *n, const ModelFile *f, uint64_t off, uint64_t len);

#endif
