/*
 * mutator_int.h: what mutator.c shares with mut_crossover.c: the node
 * definitions a step makes, and the finishing of an edited stream.
 */
#ifndef BG_MUTATOR_INT_H
#define BG_MUTATOR_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bg.h"
#include "mut_lines.h"

/* The node definitions of a step: a blockdev-add's tree, a reopen's entries. */
typedef struct MutDefs {
    json_t *v[32];
    size_t n;
} MutDefs;
void mut_step_defs(json_t *step, MutDefs *d);
/* A deep copy of a stream line without its expect, save and bind. */
json_t *mut_copy_without_meta(const json_t *obj);

/* mut_lines_finish() after the job-timing rule (job_timing.h): the edited
 * stream LS (cloned from IN) as bytes in OUT, or false. */
bool mut_finish(MutLines *ls, MutLines *in, size_t max_size, BgBuf *out);
/* Copy B into OUT when it fits MAX; its length, or 0. */
size_t mut_emit(const BgBuf *b, uint8_t *out, size_t max);
/* Is B the same bytes as DATA? (an edit that changed nothing is no mutation) */
bool mut_same_bytes(const BgBuf *b, const uint8_t *data, size_t size);

#endif
