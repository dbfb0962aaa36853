/*
 * bigbuf.h: table- and request-sized buffers, kept for reuse.
 *
 * What this is: the one cache of buffers given back for the next request
 * of a size they hold: qemu-io's request buffers (real/qemuio_rw.c,
 * model/model_qemuio.c), the engine's table-sized buffers (real/alloc.h
 * real_buf_alloc(): refcount table, cache tables, COW and bounce buffers)
 * and the model's copy-on-write buffer (the model's sparse chunks have a
 * cache of their own: model_sparse.c says why).  Under ASan a
 * freed block waits in the quarantine and a new one is fresh memory (a 1
 * MiB one a fresh mmap): every page touched was a page fault, about one
 * per 4 KiB of each table, chunk and request of every fuzz input.
 * ASan still sees every misuse a malloc'd buffer would show: a kept buffer
 * and the bytes beyond a request are poisoned (an overflow or a use after
 * bg_bigbuf_put() is reported, as use-after-poison).  Contents are
 * undefined on return, as malloc's are.
 * What it is not: a general allocator (smaller and larger requests are
 * plain allocations), nor shared between threads (the cache is per thread).
 */
#ifndef BG_BIGBUF_H
#define BG_BIGBUF_H

#include <stddef.h>

#define BG_BIGBUF_MIN   512u           /* smaller ones: plain allocations */
#define BG_BIGBUF_MAX   (4u << 20)     /* larger ones are not kept (memory held by the cache) */
#define BG_BIGBUF_ALIGN 4096           /* as real_memalign() for I/O buffers */

/* N bytes aligned to BG_BIGBUF_ALIGN, or NULL when out of memory. */
void *bg_bigbuf_try_get(size_t n);
/* The same; out of memory aborts (the model, the tools). */
void *bg_bigbuf_get(size_t n);
/* Gives back P: kept when it is BG_BIGBUF_ALIGN-aligned, of a size in the
 * cache's range and there is room, else freed.  P is anything free()
 * takes (what the functions above returned, malloc's, ...); NULL is a
 * no-op. */
void bg_bigbuf_put(void *p);
/* Frees every buffer this thread's cache keeps (its memory back; tests
 * start from an empty cache). */
void bg_bigbuf_drop(void);

#endif
