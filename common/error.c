/*
 * error.c: BgError; the first error wins and nothing allocates.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool bg_error_setf(BgError *err, const char *fmt, ...)
{
    if (!err || err->set)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    va_end(ap);
    err->set = true;
    return false;
}

void bg_error_prepend(BgError *err, const char *fmt, ...)
{
    if (!err || !err->set)
        return;
    char prefix[BG_ERROR_TEXT];
    char old[BG_ERROR_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->text, sizeof(old));
    size_t n = strlen(prefix);
    if (n >= sizeof(err->text))
        n = sizeof(err->text) - 1;
    memcpy(err->text, prefix, n);
    size_t rest = sizeof(err->text) - 1 - n;
    size_t m = strnlen(old, rest);
    memcpy(err->text + n, old, m);
    err->text[n + m] = '\0';
}

void bg_error_clear(BgError *err)
{
    err->set = false;
    err->text[0] = '\0';
}
