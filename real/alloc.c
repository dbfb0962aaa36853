/*
 * alloc.c: the single allocation hook of real/ (see alloc.h).
 *
 * What this is: thin wrappers over malloc/posix_memalign with one
 * countdown for fault injection, and the table- and request-sized buffers
 * of common/bigbuf.h's cache behind the same countdown (real_buf_alloc()).
 * What it is not: a cache of contents (a buffer comes back with undefined
 * contents, as from malloc) or a pool of its own.
 */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"

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
    return should_fail() ? NULL : bg_bigbuf_try_get(n);
}

void real_buf_free(void *p)
{
    bg_bigbuf_put(p);
}
