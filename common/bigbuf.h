/*
 * bigbuf.h: request-sized I/O buffers, kept for reuse.
 *
 * What this is: the buffer a qemu-io data command fills with its pattern
 * (real/qemuio_rw.c, model/model_qemuio.c) and the model's copy-on-write
 * buffer, taken and given back within one call.  A request of
 * BG_BIGBUF_MIN bytes or more (up to BG_BIGBUF_MAX) reuses a buffer given
 * back earlier instead of asking malloc: under ASan such a buffer comes from
 * a fresh mmap each time (quarantine), so each 1 MiB request cost 256 page
 * faults and an munmap; the harness makes about one per input.
 * ASan still sees every misuse a malloc'd buffer would show: the bytes
 * beyond the request and a whole buffer given back are poisoned (an
 * overflow or a use after bg_bigbuf_put() is reported, as use-after-poison).
 * Contents are undefined on return, as malloc's are.
 * What it is not: a general allocator (smaller and larger requests are
 * plain allocations), nor shared between threads (the cache is per thread).
 */
#ifndef BG_BIGBUF_H
#define BG_BIGBUF_H

#include <stddef.h>

#define BG_BIGBUF_MIN   (128u << 10)   /* ASan's mmap threshold: smaller ones are recycled anyway */
#define BG_BIGBUF_MAX   (4u << 20)     /* larger ones are not kept (memory held by the cache) */
#define BG_BIGBUF_ALIGN 4096           /* as real_memalign() for I/O buffers */

/* N bytes aligned to BG_BIGBUF_ALIGN, or NULL when out of memory. */
void *bg_bigbuf_try_get(size_t n);
/* The same; out of memory aborts (the model, the tools). */
void *bg_bigbuf_get(size_t n);
/* Gives back what the functions above returned; NULL is a no-op. */
void bg_bigbuf_put(void *p);

#endif
