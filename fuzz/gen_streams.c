/*
 * gen_streams.c: write the fuzzer's generated streams to files, so that
 * they can be run where libFuzzer cannot take them: on QEMU itself
 * (`make qemu-gen`, tools/qemu-gen.sh).
 *
 * What it is: gen_stream() (gen.h), the generator behind the custom
 * mutator and bench/bench_fuzz.c, called with fixed seeds; stream I of a
 * run is seeded from SEED, I and STEPS only, so the same arguments write
 * the same files on every machine.  Each file is JSON Lines with no
 * expectations: `replay --backend=qemu,model` and `--backend=qemu,real`
 * judge them by comparison, step by step.
 * Why: model and engine can agree with each other and both differ from
 * QEMU (scsi-hd's realize read, compressed writes through copy-on-read);
 * the differential fuzzer cannot see that, QEMU can.
 * What it is not: a fuzzer (nothing runs here) or a corpus (the files are
 * thrown away; a difference found this way is minimized and recorded into
 * corpus/regress as any other).
 *
 *   build/gen_streams [-n N] [-steps S] [-seed SEED] DIR
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bg.h"
#include "gen.h"
#include "mut_rand.h"

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-n N] [-steps S] [-seed SEED] DIR\n", argv0);
    return 2;
}

/* A whole, non-negative decimal number no larger than MAX, or -1. */
static long long number(const char *s, long long max)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return errno || end == s || *end || v < 0 || v > max ? -1 : v;
}

int main(int argc, char **argv)
{
    long long n = 100, steps = 8, seed = 1;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        long long *opt = !strcmp(argv[i], "-n")       ? &n
                         : !strcmp(argv[i], "-steps") ? &steps
                         : !strcmp(argv[i], "-seed")  ? &seed
                                                      : NULL;
        if (opt && i + 1 < argc) {
            *opt = number(argv[++i], opt == &steps ? 256 : 1000000);
            if (*opt < 0 || (opt != &seed && *opt == 0)) {
                fprintf(stderr, "%s: %s: not a number in range: %s\n", argv[0], argv[i - 1],
                        argv[i]);
                return 2;
            }
        } else if (!opt && !dir && argv[i][0] != '-') {
            dir = argv[i];
        } else {
            return usage(argv[0]);
        }
    }
    if (!dir)
        return usage(argv[0]);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", argv[0], dir, strerror(errno));
        return 2;
    }
    for (long long i = 0; i < n; i++) {
        MutRand r = mut_rand_seed((uint64_t)seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 7919 +
                                  (uint64_t)steps);
        json_t *lines = gen_stream(&r, (size_t)steps);
        char *path = bg_asprintf("%s/gen-%lld-%lld-%05lld.jsonl", dir, seed, steps, i);
        FILE *f = fopen(path, "w");
        size_t k;
        json_t *line;
        bool ok = f != NULL;
        json_array_foreach(lines, k, line) {
            char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            ok = ok && s && fprintf(f, "%s\n", s) > 0;
            free(s);
        }
        if (f && fclose(f) != 0)
            ok = false;
        json_decref(lines);
        if (!ok) {
            fprintf(stderr, "%s: cannot write %s\n", argv[0], path);
            free(path);
            return 2;
        }
        free(path);
    }
    return 0;
}
