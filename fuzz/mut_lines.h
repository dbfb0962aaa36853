/*
 * mut_lines.h: a stream as the mutator edits it, line by line (prefix
 * mut_lines_).
 *
 * What this is: the container between bytes and edits.  Reading keeps every
 * line that is a valid step as a jansson object (and '#' lines as text) and
 * drops the rest (the repair of malformed input).  Lines are shared with
 * the input until edited (copy on write), remember which input line they
 * came from, and keep their text (the input's own bytes until edited).
 * Finishing an edit makes the bytes fit MAX_SIZE, validates them as
 * common/stream.c bg_stream_parse() does (each new or edited line with
 * bg_step_from_json(), the reader's own check; then the rules between lines:
 * ${VAR} bound earlier, same-as naming an earlier save, the step, node and
 * variable limits), dropping a line that breaks a rule, a few times; and
 * checks that no line names a node that is not alive where it stands,
 * unless the input line it came from already did (seeds test 'not-found' on
 * purpose).  Re-checking only what changed keeps an edit at a fraction of a
 * full parse; tests/unit/test_mutator.c and fuzz/fuzz_mutator_selftest.c
 * check every output with bg_stream_parse() itself.
 * What it is not: the choice of edits (mutator.c) or the knowledge of what
 * is alive (mut_state.c).
 */
#ifndef BG_MUT_LINES_H
#define BG_MUT_LINES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bg.h"
#include "mut_state.h"

/* Input lines read at most (the rest is dropped: streams are bounded). */
#define MUT_LINES_MAX_READ 512

typedef struct MutLine {
    json_t *obj;       /* the step (a reference; copy before changing: mut_lines_edit) or NULL */
    char *raw;         /* a '#' line's text (owned), when obj is NULL */
    char *text;        /* its line (owned): the input's own text until edited, then a cached
                        * serialisation; NULL when stale */
    long origin;       /* index of the input line it comes from; -1 when generated */
    bool checked;      /* known to be a valid step by itself (bg_step_from_json) */
} MutLine;

typedef struct MutLines {
    MutLine *v;
    size_t n;
    char **dangling;   /* input only, computed when first needed: per line, the names it
                        * gives that are not alive where it stands ("\nA\n"), or NULL */
    unsigned dropped;  /* input only: lines dropped because they were not valid steps */
} MutLines;

/* Where steps may go. */
typedef struct MutRegions {
    size_t first_vm;   /* the first VM step (n when none): offline steps stay before it */
    size_t vm_start;   /* VM steps may be inserted from here (after the launch step) */
    size_t vm_end;     /* ... up to here: the first shutdown (n when none) */
} MutRegions;

/* Read DATA as a stream, dropping lines that are not valid steps. */
void mut_lines_read(MutLines *ls, const uint8_t *data, size_t size);
/* A copy sharing the line objects of SRC (origins kept). */
void mut_lines_clone(MutLines *dst, const MutLines *src);
void mut_lines_cleanup(MutLines *ls);

/* Line I's object, made private to LS so it may be changed. */
json_t *mut_lines_edit(MutLines *ls, size_t i);
/* Insert OBJ (stolen) at index AT with ORIGIN. */
void mut_lines_insert(MutLines *ls, size_t at, json_t *obj, long origin);
void mut_lines_remove(MutLines *ls, size_t i);
/* Number of lines that are steps (not '#' lines or comment-only lines). */
size_t mut_lines_steps(const MutLines *ls);

/* ST (initialised here) after lines [0, P). */
void mut_lines_state_at(const MutLines *ls, size_t p, MutState *st);
void mut_lines_regions(const MutLines *ls, MutRegions *rg);

/* Drop "expect" from every line at index FROM and later. */
void mut_lines_strip_expect(MutLines *ls, size_t from);

/*
 * Make LS an acceptable output: at most MAX_SIZE bytes, valid as
 * bg_stream_parse() reads streams, no new reference to a dead node (IN is the input LS was
 * cloned from; NULL: no line may name a dead node).  The bytes are left in
 * OUT.  False when LS cannot be made acceptable.
 */
bool mut_lines_finish(MutLines *ls, MutLines *in, size_t max_size, BgBuf *out);

/* The bytes of LS (every line serialised), appended to OUT. */
void mut_lines_write(MutLines *ls, BgBuf *out);

#endif
