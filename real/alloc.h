/*
 * alloc.h: real_malloc & co., the engine's single allocation hook.
 *
 * What this is: every allocation in real/ goes through these functions, so
 * one counter can make the Nth allocation fail (SQLite's faultsim,
 * libxml2's xmlFuzzInjectFailure) and a sweep can check that each failure
 * is reported and leaves images consistent.  Failure returns NULL; callers
 * turn it into -ENOMEM.  What it is not: the tools' allocator (common/bg.h
 * aborts on out-of-memory and is never fault-injected).
 * Mirrors nothing in QEMU (QEMU's g_try_malloc/qemu_try_blockalign return
 * NULL too, which is the contract kept here).
 */
#ifndef REAL_ALLOC_H
#define REAL_ALLOC_H

#include <stddef.h>

#include "bigbuf.h"

void *real_malloc(size_t n);
void *real_calloc(size_t n, size_t size);
void *real_realloc(void *p, size_t n);
char *real_strdup(const char *s);
/* Memory aligned to ALIGN (a power of two): I/O buffers, O_DIRECT bounce. */
void *real_memalign(size_t align, size_t n);
/* Frees anything the functions above returned; NULL is a no-op. */
void real_free(void *p);
/*
 * A table- or request-sized buffer (qcow2 tables and cache entries, header
 * clusters, COW, bounce and qemu-io request buffers), REAL_BUF_ALIGN-aligned,
 * contents undefined as malloc's: common/bigbuf.h's cache, behind the same
 * fault-injection countdown.  real_buf_free() gives it back to the cache;
 * it takes what real_buf_alloc(), real_malloc() & co. returned and NULL;
 * real_free() takes a real_buf_alloc() buffer too.
 */
#define REAL_BUF_ALIGN BG_BIGBUF_ALIGN
void *real_buf_alloc(size_t n);
void real_buf_free(void *p);

/*
 * Fault injection: after real_alloc_fail_after(n), n more allocations
 * succeed and every later one fails until real_alloc_fail_after(-1)
 * switches injection off.  Process-wide by design (a test knob, reset by
 * the test that sets it).
 */
void real_alloc_fail_after(long n);
/* Allocations that failed by injection since the last fail_after(). */
long real_alloc_failed(void);

#endif
