/*
 * mut_rand.h: the mutator's pseudo-random numbers (prefix mut_rand_).
 *
 * What this is: splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014; the public-domain C version
 * by Sebastiano Vigna, prng.di.unimi.it/splitmix64.c), with the helpers the
 * mutator needs.  Its state lives in the caller's MutRand, seeded from the
 * seed libFuzzer passes, so a mutation depends on (input, seed) only.
 * What it is not: a source of randomness for anything but test-input
 * generation (never rand(), never the clock, no global state).
 */
#ifndef BG_MUT_RAND_H
#define BG_MUT_RAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct MutRand {
    uint64_t s;
} MutRand;

static inline MutRand mut_rand_seed(uint64_t seed)
{
    /* distinct seeds give distinct streams; 0 is a fine seed too */
    return (MutRand){ .s = seed * 0x2545f4914f6cdd1dull + 0x853c49e6748fea9bull };
}

static inline uint64_t mut_rand_next(MutRand *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32; 0 when n is 0 (Lemire's multiply-shift, bias < 2^-32). */
static inline size_t mut_rand_below(MutRand *r, size_t n)
{
    return n ? (size_t)(((mut_rand_next(r) >> 32) * (uint64_t)(uint32_t)n) >> 32) : 0;
}

/* True with probability PERCENT/100. */
static inline bool mut_rand_chance(MutRand *r, unsigned percent)
{
    return mut_rand_below(r, 100) < percent;
}

/* An index into W[0..n) chosen with probability proportional to W[i]. */
static inline size_t mut_rand_weighted(MutRand *r, const unsigned *w, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    if (!total)
        return 0;
    uint64_t x = mut_rand_next(r) % total;
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

#endif
