/*
 * stream.h: command streams (../shared/spec/streams.md, version 1).
 *
 * What this is: the reader that turns a .jsonl file into validated steps.
 * Every structural rule of the spec is checked here, before any backend
 * acts: one step key per line, known step kinds and QMP commands, metadata
 * types, expectation kinds, limits (bg.h) and path confinement (confine.h).
 * A violation is "FILE:LINE: what is wrong" and exit status 2 in the tools.
 * What it is not: the executor (runner.h) or the judge (expect.h).
 */
#ifndef BG_STREAM_H
#define BG_STREAM_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

typedef enum BgStepKind {
    BG_STEP_NOOP,        /* only comment/seed metadata */
    BG_STEP_EXECUTE,     /* {"execute": NAME, "arguments": {...}} */
    BG_STEP_IMG_CREATE,  /* {"img-create": {...}} */
    BG_STEP_IO,          /* {"io": {...}} */
    BG_STEP_QEMU_IMG,    /* {"qemu-img": [ARG, ...]} */
    BG_STEP_LAUNCH,      /* {"launch": {"machine": ..., "args": [...]}} */
    BG_STEP_WAIT_EVENT,  /* {"wait-event": {"event", "match", "timeout"}} */
    BG_STEP_WAIT_JOB,    /* {"wait-job": ID} */
    BG_STEP_RUN_JOB,     /* {"run-job": {...}} */
    BG_STEP_SHUTDOWN,    /* {"shutdown": {}} */
    BG_STEP__COUNT
} BgStepKind;

/* The JSON key that introduces each step kind ("execute", "img-create", ...). */
const char *bg_step_kind_name(BgStepKind kind);

typedef struct BgStep {
    int line;            /* 1-based line number in the stream file */
    BgStepKind kind;
    json_t *cmd;         /* the step without metadata keys (owned); NULL for NOOP */
    json_t *expect;      /* the "expect" object (owned) or NULL */
    char *save;          /* "save" label or NULL */
    json_t *bind;        /* "bind" object (owned) or NULL */
    json_t *source;      /* the whole line as written, metadata included (owned) */
} BgStep;

typedef struct BgStream {
    char *path;          /* the file name as given (for messages) */
    size_t n_steps;
    BgStep *steps;
} BgStream;

/*
 * Read and validate a whole stream.  On failure returns NULL and sets err to
 * "PATH:LINE: message" (or "PATH: message" for an unreadable file).
 */
BgStream *bg_stream_load(const char *path, BgError *err);
/* The same from memory; name is used in messages.  Used by the parser fuzzer. */
BgStream *bg_stream_parse(const char *name, const char *data, size_t len, BgError *err);
void bg_stream_free(BgStream *s);

/* Validate one already-parsed line object as a step (used by the mutator too). */
bool bg_step_from_json(json_t *obj, int line, BgStep *out, BgError *err);
void bg_step_cleanup(BgStep *step);

/* The step's "name" for messages and signatures: the QMP command or step key. */
const char *bg_step_name(const BgStep *step);

/* Serialise a stream back to JSON Lines (metadata included). */
char *bg_step_to_line(const BgStep *step);

#endif
