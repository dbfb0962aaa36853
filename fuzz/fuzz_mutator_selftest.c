/*
 * fuzz_mutator_selftest.c: the mutator's benchmark and self-check (issue 5,
 * items 2 and 7): validity rate and mutations per second.
 *
 * What it does: loads the seed corpus (default: every .jsonl in
 * corpus/seed), then runs N operations (default 100000) the way a
 * libFuzzer campaign would: each picks a stream from a working pool (the
 * seeds plus recent outputs) and either mutates it (bg_mutate_ex, 90%) or
 * crosses it with another (bg_crossover_ex, 10%); outputs go back into the
 * pool.  Every output is read back with bg_stream_parse().  It reports the
 * share accepted, mutations per CPU second (the mutator alone, and with the
 * check), how often the first edit was accepted and the edit kinds, and
 * fails (exit 1) if an output exceeded MAX_SIZE or fewer than 90% were
 * valid.
 * What it is not: a fuzzer (no backend runs) or the harness.
 *
 *   make build/fuzz_mutator_selftest      (make bench runs it with -n 20000)
 *   build/fuzz_mutator_selftest [-n N] [-max BYTES] [-seed S] [FILE.jsonl...]
 */
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bg.h"
#include "error.h"
#include "mutator.h"
#include "stream.h"

#define POOL 256

typedef struct Input {
    uint8_t *data;
    size_t size;
} Input;

static bool read_file(const char *path, Input *in)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    BgBuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        bg_buf_append(&b, chunk, n);
    fclose(f);
    in->size = b.len;
    in->data = (uint8_t *)bg_buf_take(&b);
    return true;
}

/* CPU time of this process: a shared machine's load does not count (timing only). */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n_ops = 100000;
    size_t max = 65536;
    unsigned seed = 1;
    Input seeds[512];
    size_t n_seeds = 0;
    json_object_seed(1);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
            n_ops = atol(argv[++i]);
        else if (strcmp(argv[i], "-max") == 0 && i + 1 < argc)
            max = (size_t)atol(argv[++i]);
        else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc)
            seed = (unsigned)atol(argv[++i]);
        else if (n_seeds < 512 && read_file(argv[i], &seeds[n_seeds]))
            n_seeds++;
        else
            fprintf(stderr, "cannot read %s\n", argv[i]);
    }
    if (!n_seeds) {
        glob_t g;
        if (glob("corpus/seed/*.jsonl", 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc && n_seeds < 512; i++)
                if (read_file(g.gl_pathv[i], &seeds[n_seeds]))
                    n_seeds++;
            globfree(&g);
        }
    }
    if (!n_seeds) {
        fprintf(stderr, "no seed streams\n");
        return 2;
    }
    Input pool[POOL] = { { NULL, 0 } };
    size_t n_pool = 0;
    if (n_seeds > POOL / 2)
        n_seeds = POOL / 2;
    for (size_t i = 0; i < n_seeds && n_pool < POOL; i++) {
        pool[n_pool].data = bg_malloc(max);
        pool[n_pool].size = seeds[i].size <= max ? seeds[i].size : max;
        memcpy(pool[n_pool].data, seeds[i].data, pool[n_pool].size);
        n_pool++;
    }
    uint8_t *buf = bg_malloc(max);
    long valid = 0, first_try = 0, oversize = 0, generated = 0;
    long kinds[BG_MUT__COUNT] = {0};
    uint64_t rng = seed;
    size_t total_bytes = 0;
    double t_mut = 0;   /* time inside the mutator only */
    double t0 = now();
    for (long op = 0; op < n_ops; op++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        size_t pi = (size_t)(rng >> 33) % n_pool;
        size_t qi = (size_t)(rng >> 13) % n_pool;
        BgMutInfo info;
        size_t out;
        double t1 = now();
        if ((rng >> 40) % 10 == 0) {
            out = bg_crossover_ex(pool[pi].data, pool[pi].size, pool[qi].data, pool[qi].size,
                                  buf, max, (unsigned)(rng >> 20), &info);
        } else {
            memcpy(buf, pool[pi].data, pool[pi].size);
            out = bg_mutate_ex(buf, pool[pi].size, max, (unsigned)(rng >> 20), &info);
        }
        t_mut += now() - t1;
        if (out > max)
            oversize++;
        kinds[info.kind]++;
        first_try += info.attempts == 1;
        generated += info.kind == BG_MUT_GENERATE || info.kind == BG_MUT_EMPTY;
        total_bytes += out;
        BgError err = {0};
        BgStream *s = bg_stream_parse("out", (const char *)buf, out, &err);
        if (s) {
            valid++;
            bg_stream_free(s);
        } else if (getenv("SELFTEST_VERBOSE")) {
            fprintf(stderr, "invalid output (%s): %s\n", bg_mut_kind_name(info.kind), err.text);
        }
        /* the output joins the pool, replacing an older output (seeds stay) */
        size_t slot = n_pool < POOL ? n_pool++ : n_seeds + (size_t)(rng >> 50) % (POOL - n_seeds);
        if (slot >= n_seeds) {
            if (!pool[slot].data)
                pool[slot].data = bg_malloc(max);
            memcpy(pool[slot].data, buf, out);
            pool[slot].size = out;
        }
    }
    double dt = now() - t0;
    double rate = n_ops ? 100.0 * (double)valid / (double)n_ops : 0;
    printf("operations: %ld (max_size %zu, %zu seeds)\n", n_ops, max, n_seeds);
    printf("valid outputs: %ld (%.2f%%)\n", valid, rate);
    printf("first edit accepted: %.2f%%, generated/empty fallbacks: %ld\n",
           n_ops ? 100.0 * (double)first_try / (double)n_ops : 0, generated);
    printf("mutations per CPU second: %.0f (%.1f us each in the mutator, mean output %zu "
           "bytes); with the check of each output: %.0f per second\n",
           t_mut > 0 ? (double)n_ops / t_mut : 0, n_ops ? t_mut * 1e6 / (double)n_ops : 0,
           n_ops ? total_bytes / (size_t)n_ops : 0, dt > 0 ? (double)n_ops / dt : 0);
    printf("outputs above max_size: %ld\n", oversize);
    printf("kinds:");
    for (int k = 0; k < BG_MUT__COUNT; k++)
        printf(" %s=%ld", bg_mut_kind_name((BgMutKind)k), kinds[k]);
    printf("\n");
    for (size_t i = 0; i < n_pool; i++)
        free(pool[i].data);
    for (size_t i = 0; i < n_seeds; i++)
        free(seeds[i].data);
    free(buf);
    return oversize || rate < 90.0 ? 1 : 0;
}
