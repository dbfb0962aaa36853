/*
 * error.h: BgError, the fixed-size error object passed last.
 *
 * After QEMU's include/qapi/error.h and jansson's json_error_t: the first
 * error wins, setting never allocates, and a function that fails returns
 * false (or NULL) as well as filling the error.  The text of an error that a
 * user sees about a stream names the file and line ("FILE:LINE: what").
 */
#ifndef BG_ERROR_H
#define BG_ERROR_H

#include <stdbool.h>

#define BG_ERROR_TEXT 1024

typedef struct BgError {
    bool set;                   /* an error has been recorded */
    char text[BG_ERROR_TEXT];   /* the message, truncated if longer */
} BgError;

/* Record an error unless one is already set.  Always returns false. */
bool bg_error_setf(BgError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Put "PREFIX" in front of a recorded error (no-op when none is set). */
void bg_error_prepend(BgError *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void bg_error_clear(BgError *err);

#endif
