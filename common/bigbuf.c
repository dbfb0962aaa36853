/*
 * bigbuf.c: table- and request-sized buffers, kept for reuse (bigbuf.h).
 *
 * Up to BIGBUF_SLOTS buffers given back are kept per thread, at most
 * BIGBUF_KEEP bytes in all.  A request takes the smallest kept buffer that
 * holds it and is at most twice its size (a 4 KiB request does not take a
 * 4 MiB buffer); lent buffers are not tracked, so nested requests (a model
 * write and its copy-on-write buffer) and long-lived ones (the engine's
 * cache tables) are alike.  A buffer's size is malloc_usable_size(): what
 * the allocator lent for it.
 */
#include "bigbuf.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define BIGBUF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIGBUF_ASAN 1
#endif
#endif

#ifdef BIGBUF_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BIGBUF_SLOTS 64
#define BIGBUF_KEEP  (16u << 20)

typedef struct BigBufSlot {
    unsigned char *p;         /* a buffer given back, or NULL */
    size_t cap;               /* its malloc_usable_size() */
} BigBufSlot;

static _Thread_local BigBufSlot slots[BIGBUF_SLOTS];
static _Thread_local size_t kept_bytes;

static void *plain(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, BG_BIGBUF_ALIGN, n ? n : 1) == 0 ? p : NULL;
}

void *bg_bigbuf_try_get(size_t n)
{
    if (n < BG_BIGBUF_MIN || n > BG_BIGBUF_MAX)
        return plain(n);
    BigBufSlot *best = NULL;
    for (int i = 0; i < BIGBUF_SLOTS; i++)
        if (slots[i].p && slots[i].cap >= n && slots[i].cap / 2 <= n &&
            (!best || slots[i].cap < best->cap))
            best = &slots[i];
    if (!best)
        return plain(n);
    unsigned char *p = best->p;
    UNPOISON(p, n);
    POISON(p + n, best->cap - n);
    kept_bytes -= best->cap;
    best->p = NULL;
    return p;
}

void *bg_bigbuf_get(size_t n)
{
    void *p = bg_bigbuf_try_get(n);
    if (!p) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return p;
}

void bg_bigbuf_put(void *p)
{
    if (!p)
        return;
    size_t cap = malloc_usable_size(p);
    BigBufSlot *slot = NULL;
    if ((uintptr_t)p % BG_BIGBUF_ALIGN == 0 && cap >= BG_BIGBUF_MIN && cap <= BG_BIGBUF_MAX &&
        kept_bytes + cap <= BIGBUF_KEEP)
        for (int i = 0; i < BIGBUF_SLOTS && !slot; i++)
            if (!slots[i].p)
                slot = &slots[i];
    if (!slot) {
        UNPOISON(p, cap);   /* back to malloc whole, as it lent it */
        free(p);
        return;
    }
    POISON(p, cap);
    slot->p = p;
    slot->cap = cap;
    kept_bytes += cap;
}

void bg_bigbuf_drop(void)
{
    for (int i = 0; i < BIGBUF_SLOTS; i++) {
        if (slots[i].p) {
            UNPOISON(slots[i].p, slots[i].cap);
            free(slots[i].p);
            slots[i].p = NULL;
        }
    }
    kept_bytes = 0;
}
