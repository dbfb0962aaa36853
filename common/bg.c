/*
 * bg.c: allocation helpers and the growable buffer of bg.h.
 * Out-of-memory in the tools is not recoverable and aborts.
 */
#include "bg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p)
{
    if (!p) {
        fputs("out of memory\n", stderr);
        abort();
    }
    return p;
}

void *bg_malloc(size_t n) { return check(malloc(n ? n : 1)); }
void *bg_calloc(size_t n, size_t size) { return check(calloc(n ? n : 1, size ? size : 1)); }
void *bg_realloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *bg_strdup(const char *s) { return check(strdup(s)); }
char *bg_strndup(const char *s, size_t n) { return check(strndup(s, n)); }

char *bg_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        check(NULL);
    return s;
}

void bg_buf_append(BgBuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = bg_realloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void bg_buf_puts(BgBuf *b, const char *s) { bg_buf_append(b, s, strlen(s)); }

void bg_buf_printf(BgBuf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (r < 0)
        check(NULL);
    bg_buf_append(b, s, (size_t)r);
    free(s);
}

char *bg_buf_take(BgBuf *b)
{
    char *s = b->data ? b->data : bg_strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

void bg_buf_cleanup(BgBuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
