/*
 * bench_fuzz.c: `make bench`, the differential harness's speed (issue 5,
 * item 7): executions per second of fuzz_diff's LLVMFuzzerTestOneInput on
 * generated streams of at most 8 and at most 32 steps.
 *
 * What this is: a driver that links fuzz/fuzz_diff.c as libFuzzer would
 * (LLVMFuzzerInitialize once, then one LLVMFuzzerTestOneInput per input)
 * but without libFuzzer, so the same file measures the release build and
 * the ASan+UBSan build (build/asan).  The inputs are made by the mutator's
 * own generator (gen_stream(), fixed seeds), so they are the streams a
 * campaign starts from; each is run once untimed (warm-up) and then the
 * whole set is run for a fixed number of rounds with CPU time
 * (CLOCK_PROCESS_CPUTIME_ID) and wall time measured.  It also prints the
 * share of steps that are VM steps and the mean step count.
 * What it is not: a test with a threshold: the figures depend on the
 * machine.  The verdicts of the inputs are counted (a mismatch here is a
 * finding: it is printed, not hidden), BG_FUZZ_NO_ABORT keeps the harness
 * from aborting on one.
 *
 * With -kinds it also prints the CPU cost of one step of each common kind
 * (run_kinds()), so that a speed goal can be weighed step by step.
 *
 * With -stream FILE it measures that one stream instead (run_file()): the
 * CPU cost of one input and where it goes, to weigh a change against the
 * stream it is meant to speed up.
 *
 *   build/bench_fuzz [-n STREAMS] [-rounds R] [-steps N]... [-kinds] [-stream FILE]
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bg.h"
#include "runner.h"
#include "../fuzz/gen.h"
#include "../fuzz/mut_rand.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
unsigned long bg_fuzz_diff_findings(void);
void bg_fuzz_diff_time_parts(BgRunTimes *times);
const char *bg_fuzz_diff_backend_name(int i);

typedef struct Input {
    char *data;
    size_t size;
    size_t steps;
} Input;

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* N generated streams of at most MAX_STEPS steps, as JSON Lines. */
static Input *make_inputs(size_t n, size_t max_steps)
{
    Input *in = bg_calloc(n, sizeof(*in));
    for (size_t i = 0; i < n; i++) {
        MutRand r = mut_rand_seed(0x5eed0000ull + i * 7919 + max_steps);
        json_t *lines = gen_stream(&r, max_steps);
        BgBuf b = {0};
        size_t k;
        json_t *line;
        json_array_foreach(lines, k, line) {
            char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
            bg_buf_append(&b, s, strlen(s));
            bg_buf_append(&b, "\n", 1);
            free(s);
        }
        in[i].steps = json_array_size(lines);
        in[i].size = b.len;
        in[i].data = bg_buf_take(&b);
        json_decref(lines);
    }
    return in;
}

/* User and kernel CPU seconds of this process so far. */
static void cpu_split(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Where the time of an input goes: one more round of IN, with the runner
 * adding up the CPU time of each part (runner.h BgRunTimes).  A separate
 * round, as the clock reads (a system call each, several per step) would
 * slow the measured ones; the shares, not the sum, are the figure.
 */
static void print_parts(const Input *in, size_t n)
{
    BgRunTimes t = {0};
    bg_fuzz_diff_time_parts(&t);
    double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)in[i].data, in[i].size);
    double total = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0, parts = 0;
    bg_fuzz_diff_time_parts(NULL);
    char exec0[48], exec1[48];
    snprintf(exec0, sizeof(exec0), "%s execute", bg_fuzz_diff_backend_name(0));
    snprintf(exec1, sizeof(exec1), "%s execute", bg_fuzz_diff_backend_name(1));
    const char *names[BG_PART__COUNT] = {
        [BG_PART_SESSIONS] = "sessions", [BG_PART_SCAN] = "scan", [BG_PART_EXECUTE0] = exec0,
        [BG_PART_EXECUTE1] = exec1, [BG_PART_COMPARE] = "compare", [BG_PART_DATA] = "data",
    };
    printf("    where it goes (one more round, timed by part):");
    for (int p = 0; p < BG_PART__COUNT; p++) {
        parts += t.cpu[p];
        printf(" %s %.0f%%,", names[p], t.cpu[p] / total * 100);
    }
    printf(" the rest %.0f%%\n", (total - parts) / total * 100);
}

static void run_set(size_t max_steps, size_t n, int rounds)
{
    Input *in = make_inputs(n, max_steps);
    size_t steps = 0;
    for (size_t i = 0; i < n; i++) {
        steps += in[i].steps;
        LLVMFuzzerTestOneInput((const uint8_t *)in[i].data, in[i].size);   /* warm-up */
    }
    unsigned long found0 = bg_fuzz_diff_findings();
    double u0, s0, u1, s1;
    cpu_split(&u0, &s0);
    double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID), w0 = seconds(CLOCK_MONOTONIC);
    for (int round = 0; round < rounds; round++)
        for (size_t i = 0; i < n; i++)
            LLVMFuzzerTestOneInput((const uint8_t *)in[i].data, in[i].size);
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0, wall = seconds(CLOCK_MONOTONIC) - w0;
    cpu_split(&u1, &s1);
    double execs = (double)n * rounds;
    unsigned long found = bg_fuzz_diff_findings() - found0;
    printf("  streams of <= %2zu steps (mean %4.1f): %8.0f exec/s CPU, %8.0f exec/s wall "
           "(%zu streams x %d rounds, %lu mismatching runs)\n",
           max_steps, (double)steps / (double)n, execs / cpu, execs / wall, n, rounds, found);
    /* The kernel's share is the engine's file work (tmpfs reads and writes,
     * lock bytes, the scratch scan) and, under ASan, the page faults of
     * fresh memory: what no change to user code alone can go below. */
    printf("    CPU per input: %.3f ms user + %.3f ms kernel\n",
           (u1 - u0) / execs * 1e3, (s1 - s0) / execs * 1e3);
    print_parts(in, n);
    for (size_t i = 0; i < n; i++)
        free(in[i].data);
    free(in);
}

/*
 * Where an input's time goes: streams that each add one step to the one
 * before (the VM start, then an image, offline qemu-io, blockdev-add,
 * blockdev-reopen, a query), each run ROUNDS * 40 times; the cost of a step
 * is the difference to the stream before it.  Each step of the generated
 * streams above is one of these kinds or close to one.
 */
static const char *const step_kinds[][2] = {
    { "launch (fixed cost)", "{\"launch\":{\"machine\":\"none\"}}\n" },
    { "img-create qcow2 3M", "{\"img-create\":{\"fmt\":\"qcow2\",\"file\":\"hd0.img\",\"size\":\"3M\"}}\n" },
    { "io write 64k", "{\"io\":{\"fmt\":\"qcow2\",\"file\":\"hd0.img\",\"cmd\":\"write -P 0xa3 64k 64k\"}}\n" },
    { "blockdev-add qcow2+file", "{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"qcow2\",\"node-name\":\"hd0\",\"file\":{\"driver\":\"file\",\"node-name\":\"hd0-file\",\"filename\":\"$DIR/hd0.img\"}}}\n" },
    { "blockdev-reopen read-only", "{\"execute\":\"blockdev-reopen\",\"arguments\":{\"options\":[{\"driver\":\"qcow2\",\"node-name\":\"hd0\",\"file\":\"hd0-file\",\"read-only\":true}]}}\n" },
    { "query-named-block-nodes", "{\"execute\":\"query-named-block-nodes\"}\n" },
};

static void run_kinds(int rounds)
{
    BgBuf b = {0};
    double before = 0;
    printf("  cost per step (CPU, each stream = the one above plus one step):\n");
    for (size_t k = 0; k < sizeof(step_kinds) / sizeof(step_kinds[0]); k++) {
        bg_buf_puts(&b, step_kinds[k][1]);
        int n = 40 * rounds;
        LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);   /* warm-up */
        double c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < n; i++)
            LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);
        double us = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / n * 1e6;
        printf("    %-28s %7.0f us (stream of %zu steps: %7.0f us)\n", step_kinds[k][0],
               k ? us - before : us, k + 1, us);
        before = us;
    }
    bg_buf_cleanup(&b);
}

/* One stream from FILE, run ROUNDS * 40 times (after one warm-up run). */
static int run_file(const char *path, int rounds)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_fuzz: %s: cannot open: %s\n", path, strerror(errno));
        return 2;
    }
    BgBuf b = {0};
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
        bg_buf_append(&b, chunk, got);
    fclose(f);
    size_t size = b.len;
    char *data = b.data ? bg_buf_take(&b) : bg_strdup("");
    Input in = { data, size, 0 };
    for (size_t i = 0; i < size; i++)
        in.steps += data[i] == '\n';
    unsigned long found0 = bg_fuzz_diff_findings();
    LLVMFuzzerTestOneInput((const uint8_t *)data, size);   /* warm-up */
    int n = 40 * rounds;
    double u0, s0, u1, s1;
    cpu_split(&u0, &s0);
    for (int i = 0; i < n; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)data, size);
    cpu_split(&u1, &s1);
    printf("  %s (%zu lines): %.0f us user + %.0f us kernel per input (%d runs, %lu mismatching)\n",
           path, in.steps, (u1 - u0) / n * 1e6, (s1 - s0) / n * 1e6, n,
           bg_fuzz_diff_findings() - found0);
    print_parts(&in, 1);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = 200;
    int rounds = 5;
    size_t sets[8];
    size_t n_sets = 0;
    bool kinds = false;
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-steps") && i + 1 < argc && n_sets < 8)
            sets[n_sets++] = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-kinds"))
            kinds = true;
        else if (!strcmp(argv[i], "-stream") && i + 1 < argc)
            file = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-n STREAMS] [-rounds R] [-steps N]... [-kinds] "
                    "[-stream FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!n_sets) {
        sets[n_sets++] = 8;
        sets[n_sets++] = 32;
    }
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "%s: -n and -rounds must be positive\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);   /* each figure is out before a sanitizer exit */
    setenv("BG_FUZZ_NO_ABORT", "1", 1);
    LLVMFuzzerInitialize(&argc, &argv);
    if (file)
        return run_file(file, rounds);
    for (size_t s = 0; s < n_sets; s++)
        run_set(sets[s], n, rounds);
    if (kinds)
        run_kinds(rounds);
    return 0;
}
