/*
 * bigbuf.c: request-sized I/O buffers, kept for reuse (bigbuf.h).
 *
 * A few slots per thread, each holding one buffer and whether it is lent:
 * nested requests (a model write and its copy-on-write buffer) take
 * different slots; when all are lent, a request is a plain allocation.
 */
#include "bigbuf.h"

#include <stdbool.h>
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

#define BIGBUF_SLOTS 4

typedef struct BigBufSlot {
    unsigned char *p;
    size_t cap;
    bool lent;
} BigBufSlot;

static _Thread_local BigBufSlot slots[BIGBUF_SLOTS];

static void *plain(size_t n)
{
    void *p = NULL;
    return posix_memalign(&p, BG_BIGBUF_ALIGN, n ? n : 1) == 0 ? p : NULL;
}

void *bg_bigbuf_try_get(size_t n)
{
    if (n < BG_BIGBUF_MIN || n > BG_BIGBUF_MAX)
        return plain(n);
    BigBufSlot *s = NULL;
    for (int i = 0; i < BIGBUF_SLOTS; i++) {
        if (slots[i].lent)
            continue;
        if (slots[i].cap >= n) {
            s = &slots[i];
            break;
        }
        if (!s)
            s = &slots[i];   /* a free slot to grow, if none is large enough */
    }
    if (!s)
        return plain(n);
    if (s->cap < n) {
        unsigned char *p = plain(n);
        if (!p)
            return NULL;
        UNPOISON(s->p, s->cap);   /* back to malloc as it lent it */
        free(s->p);
        s->p = p;
        s->cap = n;
    }
    s->lent = true;
    UNPOISON(s->p, n);
    POISON(s->p + n, s->cap - n);
    return s->p;
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
    for (int i = 0; i < BIGBUF_SLOTS; i++) {
        if (slots[i].lent && slots[i].p == p) {
            slots[i].lent = false;
            POISON(slots[i].p, slots[i].cap);
            return;
        }
    }
    free(p);
}
