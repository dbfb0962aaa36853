/*
 * alloc.c: the single allocation hook of real/ (see alloc.h).
 *
 * What this is: thin wrappers over malloc/posix_memalign with one
 * countdown for fault injection, and a few table-sized buffers kept for
 * reuse behind the same countdown (qemu-io's large request buffers:
 * common/bigbuf.h's cache).  What it is not: a cache of contents (a buffer
 * comes back with undefined contents, as from malloc) or a general pool.
 *
 * Speed: real_buf_free() keeps up to POOL_SLOTS buffers smaller than
 * BG_BIGBUF_MIN (larger ones are bigbuf.h's range) instead of freeing them,
 * and real_buf_alloc() lends one back when it is large enough and at most
 * twice the request.  Each qcow2 open allocates its refcount table and a
 * table per cache, 64 KiB each with the default cluster size, about ten per
 * fuzz input: under ASan a freed block waits in quarantine and each new one
 * is fresh memory until the quarantine recycles, so every page of them the
 * engine touched was a page fault (40% of the faults of an engine-only run
 * of the fuzz inputs; fewer beside the model, which recycles sooner).
 * ASan still sees misuse: a kept buffer and the bytes past the size lent
 * are poisoned (use-after-poison), as common/bigbuf.c does.
 */
#include "alloc.h"

#include <malloc.h>
#include <sanitizer/asan_interface.h>   /* the poisoning macros: no-ops without ASan */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"

#define POOL_SLOTS 16               /* at most 2 MiB held */

typedef struct PoolSlot {
    unsigned char *p;         /* a buffer given back, or NULL */
    size_t cap;               /* its malloc_usable_size() */
} PoolSlot;

/* Per thread, as common/bigbuf.c: the engine runs on one. */
static _Thread_local PoolSlot pool[POOL_SLOTS];

static long fail_countdown = -1;  /* allocations left before failing; -1: off */
static long fail_count;           /* injected failures since fail_after() */

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0) {
        fail_count++;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void real_alloc_fail_after(long n)
{
    fail_countdown = n;
    fail_count = 0;
}

long real_alloc_failed(void)
{
    return fail_count;
}

void *real_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n ? n : 1);
}

void *real_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : calloc(n ? n : 1, size ? size : 1);
}

void *real_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *real_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = real_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *real_memalign(size_t align, size_t n)
{
    void *p = NULL;
    if (should_fail())
        return NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, n ? n : 1) != 0)
        return NULL;
    return p;
}

void real_free(void *p)
{
    free(p);
}

void *real_buf_alloc(size_t n)
{
    if (should_fail())
        return NULL;
    if (!n)
        n = 1;
    PoolSlot *best = NULL;
    for (int i = 0; i < POOL_SLOTS; i++)
        if (pool[i].p && pool[i].cap >= n && pool[i].cap / 2 <= n &&
            (!best || pool[i].cap < best->cap))
            best = &pool[i];
    if (!best) {
        void *p = NULL;
        return posix_memalign(&p, REAL_BUF_ALIGN, n) == 0 ? p : NULL;
    }
    unsigned char *p = best->p;
    ASAN_UNPOISON_MEMORY_REGION(p, n);
    ASAN_POISON_MEMORY_REGION(p + n, best->cap - n);
    best->p = NULL;
    return p;
}

void real_buf_free(void *p)
{
    if (!p)
        return;
    size_t cap = malloc_usable_size(p);
    PoolSlot *slot = NULL;
    if ((uintptr_t)p % REAL_BUF_ALIGN == 0 && cap < BG_BIGBUF_MIN)
        for (int i = 0; i < POOL_SLOTS && !slot; i++)
            if (!pool[i].p)
                slot = &pool[i];
    if (!slot) {
        ASAN_UNPOISON_MEMORY_REGION(p, cap);   /* back to malloc whole, as it lent it */
        free(p);
        return;
    }
    ASAN_POISON_MEMORY_REGION(p, cap);
    slot->p = p;
    slot->cap = cap;
}

void *real_io_buf_alloc(size_t n)
{
    if (n < BG_BIGBUF_MIN)
        return real_buf_alloc(n);
    return should_fail() ? NULL : bg_bigbuf_try_get(n);
}

void real_io_buf_free(void *p)
{
    /* real_buf_alloc() lends and keeps only buffers below bigbuf's range */
    if (p && malloc_usable_size(p) < BG_BIGBUF_MIN)
        real_buf_free(p);
    else
        bg_bigbuf_put(p);
}
