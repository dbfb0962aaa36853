/*
 * afl_mutator.c: the structure-aware stream mutator (mutator.h) as an AFL++
 * custom mutator library, for AFL_CUSTOM_MUTATOR_LIBRARY.
 *
 * What it is: AFL++'s custom mutator entry points (AFLplusplus
 * docs/custom_mutators.md: afl_custom_init, afl_custom_fuzz,
 * afl_custom_deinit) around bg_mutate() and bg_crossover(), the same edits
 * LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver make under
 * libFuzzer (fuzz_diff.c).  AFL++ never calls those two (verified with AFL++
 * 4.04c, shared/spec/fuzzing-reference.md section 3.3), hence this file.
 * What it is not: part of a fuzz target.  fuzz/build.sh builds it, without
 * instrumentation or sanitizers, when LIB_FUZZING_ENGINE is AFL++'s driver.
 *
 *   AFL_CUSTOM_MUTATOR_LIBRARY=$OUT/fuzz_diff_afl_mutator.so afl-fuzz ...
 *
 * Deterministic for a given AFL++ seed: the seed of each edit comes from a
 * linear congruential sequence started at afl_custom_init's seed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"

typedef struct AflMutator {
    unsigned int seed;
    uint8_t *buf;   /* the output AFL++ reads, reused */
    size_t cap;
} AflMutator;

void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

void *afl_custom_init(void *afl, unsigned int seed)
{
    (void)afl;
    AflMutator *m = calloc(1, sizeof *m);
    if (m)
        m->seed = seed;
    return m;
}

size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size)
{
    AflMutator *m = data;
    if (max_size > m->cap) {
        uint8_t *n = realloc(m->buf, max_size);
        if (!n) {
            *out_buf = buf;   /* no memory: hand the input back unchanged */
            return buf_size;
        }
        m->buf = n;
        m->cap = max_size;
    }
    m->seed = m->seed * 1103515245u + 12345u;
    size_t len;
    /* One edit in eight splices in AFL++'s second input, as libFuzzer's
     * cross-over would. */
    if (add_buf && add_buf_size && (m->seed >> 16) % 8 == 0) {
        len = bg_crossover(buf, buf_size, add_buf, add_buf_size, m->buf, max_size, m->seed);
    } else {
        len = buf_size < max_size ? buf_size : max_size;
        memcpy(m->buf, buf, len);
        len = bg_mutate(m->buf, len, max_size, m->seed);
    }
    *out_buf = m->buf;
    return len;
}

void afl_custom_deinit(void *data)
{
    AflMutator *m = data;
    if (m)
        free(m->buf);
    free(m);
}
