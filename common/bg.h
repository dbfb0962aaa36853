/*
 * bg.h: project-wide limits and small helpers shared by every part.
 *
 * What this is: the caps that keep a stream from exhausting the machine
 * (issue "streams from anywhere are safe to run"), chosen so that the seed
 * test and the corpus fit with a wide margin, plus allocation helpers that
 * abort on out-of-memory (the tools are not fault-injected; real/ has its own
 * allocation hook).  What it is not: a place for behaviour.
 */
#ifndef BG_H
#define BG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on a stream (checked by the stream reader, exit status 2). */
#define BG_MAX_LINE_BYTES      (1u << 20)   /* one JSON line: 1 MiB */
#define BG_MAX_STEPS           10000        /* steps in one stream */
#define BG_MAX_JSON_DEPTH      32           /* nesting of arrays/objects */
#define BG_MAX_STRING_BYTES    4096         /* one JSON string value */
#define BG_MAX_IMAGE_BYTES     (1ull << 30) /* img-create size, null-co size: 1 GiB */
#define BG_MAX_REQUEST_BYTES   (64u << 20)  /* one qemu-io request: 64 MiB */
#define BG_MAX_IO_CMDS         64           /* -c commands in one io step */
#define BG_MAX_NODES           256          /* blockdev-add steps in one stream */
#define BG_MAX_SCRATCH_BYTES   (2ull << 30) /* disk use of one scratch dir: 2 GiB */
#define BG_MAX_VARS            64           /* bind variables */
#define BG_MAX_NULL_LATENCY_NS 1000000000ll /* null-co/null-aio latency-ns: 1 s per request */
#define BG_MAX_SCRATCH_FILES   1024         /* entries in one scratch dir (scanned every step) */
#define BG_MAX_SCRATCH_DEPTH   16           /* subdirectory nesting of one scratch dir */

/* Time limits on the qemu backend (seconds). */
#define BG_STEP_TIMEOUT_S      30           /* one QMP command or offline tool */
#define BG_WAIT_TIMEOUT_MAX_S  120          /* upper bound of a wait-* timeout */
#define BG_WAIT_TIMEOUT_DEF_S  60           /* iotests' default wait */
#define BG_START_TIMEOUT_S     20           /* VM start to QMP greeting */

void *bg_malloc(size_t n);
void *bg_calloc(size_t n, size_t size);
void *bg_realloc(void *p, size_t n);
char *bg_strdup(const char *s);
char *bg_strndup(const char *s, size_t n);
/* printf into a newly allocated string. */
char *bg_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer (always NUL-terminated). */
typedef struct BgBuf {
    char *data;     /* NUL-terminated contents, NULL when empty and unused */
    size_t len;     /* bytes used, not counting the NUL */
    size_t cap;     /* bytes allocated */
} BgBuf;

void bg_buf_append(BgBuf *b, const char *s, size_t n);
void bg_buf_puts(BgBuf *b, const char *s);
void bg_buf_printf(BgBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Return the contents as an owned string ("" when empty) and reset b. */
char *bg_buf_take(BgBuf *b);
void bg_buf_cleanup(BgBuf *b);

#endif
