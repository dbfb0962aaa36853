/*
 * fuzz_diff.c: the differential fuzz target: one stream, two in-process
 * backends (model and real by default), compared step by step.
 *
 * What it is: libFuzzer's entry points around the runner (common/runner.h),
 * which already runs two backends in lock-step and compares every step
 * after normalisation: the result (return value, or error class and text),
 * the qemu-io output, the events, job events per job, and, with
 * compare_data, the guest-visible bytes of every named node after each step
 * that can change data.  The input IS a stream (streams.md); the custom
 * mutator (mutator.h) edits it as a stream, so a crash file is a readable
 * reproducer that `replay --backend=model,real` and `--backend=qemu` run
 * unchanged.
 * What it is not: a judge of expectations (a stream's own `expect` may be
 * stale after mutation; only disagreements between backends count), nor the
 * parser target (fuzz_stream.c).
 *
 * On the first difference it prints one signature line and the finding's
 * key (finding.h: what tools/fuzz-findings.sh groups findings by),
 *   bgraph-mismatch: step=S line=L command=C channel=CH path=P
 *   bgraph-key: mismatch: command=C channel=CH path=P2 | A ~ B
 * (P2: P with positions N and chosen names *; A, B: the two sides' values)
 * then the runner's message, writes the stream up to that step to
 * $BG_FUZZ_ARTIFACTS/mismatch-<hash>.jsonl (when set) and aborts, so
 * libFuzzer keeps the input as a crash artifact.  A backend failure (crash of
 * an in-process backend, a bind that selects nothing in one backend only) is
 * reported the same way with channel "backend".  Deterministic:
 * json_object_seed(1), no clocks, scratch directories named by the runner
 * from the stream name only.
 *
 * Unsupported steps: when a backend answers "unsupported" to a step that may
 * change state, the runner stops comparing that input.  So that a model
 * that says so too often cannot leave the fuzzer blind unnoticed, the
 * process counts its inputs (fuzz_stats.h: run, ended by an unsupported
 * step and by which command, differed, a backend failure included) and
 * prints the line
 *   bgraph-fuzz-stats: inputs=N unsupported=U differed=D unsupported-by=C:n,...
 * to stderr at a normal exit; with BG_FUZZ_STATS=DIR it keeps it in
 * DIR/stats-<pid>.txt, rewritten after every input: libFuzzer leaves by
 * _Exit() after a crash, a timeout or SIGINT, which skips atexit, and a
 * campaign restarts the target and in fork mode runs many processes, so it
 * sums the files (tools/report-fuzz.sh unsupported).  fuzz_stats.c is not
 * instrumented for coverage (Makefile): counting is not progress.
 *
 * Speed (issue 5; bench/bench_fuzz.c measures it):
 *   - the scratch directory is on tmpfs (/dev/shm) when that file system
 *     takes O_DIRECT (Linux 6.6 and later; probed at start), else on a disk
 *     file system (/var/tmp): a tmpfs that refuses O_DIRECT would fail every
 *     cache.direct=on stream on real (as on QEMU there) but not on the
 *     model, and a stream found here must replay unchanged where replay
 *     runs it.  tmpfs saves the inode and block work of ext4 for the few
 *     short-lived images of every input;
 *   - the scratch is volatile (BgRunOptions.volatile_scratch): removed after
 *     every input, so real skips fdatasync (drv_file_set_host_sync()).  A
 *     flush still runs all of QEMU's logic above the host and succeeds, as
 *     fdatasync does on a healthy disk; without the syncs ext4 never
 *     allocates blocks for the short-lived images, so unlinking them is
 *     cheap too.  Results are unchanged: only durability is given up.  The
 *     same flag makes real write created qcow2 files from templates
 *     (img_template_enable(): the same bytes, without formatting again);
 *   - the two scratch directories are made once per process and emptied
 *     after each input (BgRunOptions.reuse_scratch): on ext4 a mkdir and
 *     an rmdir cost more wall time than a short stream; each input still
 *     starts from an empty directory with the same name;
 *   - qemu-io's request buffers (1 MiB in generated streams) are kept for
 *     reuse (common/bigbuf.h), poisoned for ASan while unused: under ASan a
 *     fresh one is an mmap, 256 page faults and an munmap.
 *
 * Environment: BG_FUZZ_BACKENDS (default "model,real"), BG_FUZZ_SCRATCH
 * (default /dev/shm if it takes O_DIRECT, as cache.direct needs, else
 * /var/tmp),
 * BG_FUZZ_ARTIFACTS (directory for truncated reproducers), BG_FUZZ_DATA=0
 * (no guest-data comparison) or =full (read even the chunks both backends
 * know to be zeroes, and check those claims, as replay does),
 * BG_FUZZ_NO_ABORT=1 (count a finding and go on: the benchmark and
 * campaigns), BG_FUZZ_STATS (directory for the per-process counts above).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "bg.h"
#include "finding.h"
#include "fuzz_stats.h"
#include "mutator.h"
#include "runner.h"
#include "stream.h"

static const BgBackendOps *backends[2];
static char *scratch_base;   /* process-wide state: set once, read-only after */
static bool no_abort;        /* BG_FUZZ_NO_ABORT=1: count findings, do not abort (bench) */
static BgRunOptions run_opt; /* every input's run options, from the environment at start */
static const char *stats_dir;/* BG_FUZZ_STATS, or NULL */
static unsigned long findings;

static FuzzStats stats = FUZZ_STATS_INIT;   /* fuzz_stats.h; BG_FUZZ_STATS */

static void stats_print(void)
{
    char *line = fuzz_stats_line(&stats);
    fputs(line, stderr);
    free(line);
}

static void remove_scratch_base(void)
{
    bg_runner_scratch_remove(scratch_base);   /* the reused, emptied scratch directories */
    free(scratch_base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed);

/* Does DIR exist and take O_DIRECT opens (tmpfs from Linux 6.6 on)? */
static bool takes_o_direct(const char *dir)
{
    char *probe = bg_asprintf("%s/bgraph-fuzz-probe-%d", dir, (int)getpid());
    int fd = open(probe, O_RDWR | O_CREAT | O_EXCL | O_DIRECT, 0600);
    if (fd >= 0) {
        close(fd);
        unlink(probe);
    }
    free(probe);
    return fd >= 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_object_seed(1);
    const char *names = getenv("BG_FUZZ_BACKENDS");
    char *list = bg_strdup(names && *names ? names : "model,real");
    char *save = NULL;
    int n = 0;
    for (char *name = strtok_r(list, ",", &save); name && n < 2;
         name = strtok_r(NULL, ",", &save)) {
        backends[n] = bg_backend_find(name);
        if (!backends[n]) {
            fprintf(stderr, "fuzz_diff: unknown backend '%s' (known: %s)\n", name,
                    bg_backend_names());
            abort();
        }
        n++;
    }
    free(list);
    if (n != 2) {
        fprintf(stderr, "fuzz_diff: BG_FUZZ_BACKENDS needs two backends\n");
        abort();
    }
    /* One scratch parent per process (two jobs in fork mode must not share
     * names); the pid never reaches a result: the runner writes it $DIR. */
    const char *base = getenv("BG_FUZZ_SCRATCH");
    if (!base || !*base)
        base = takes_o_direct("/dev/shm") ? "/dev/shm" : "/var/tmp";
    scratch_base = bg_asprintf("%s/bgraph-fuzz-%d", base, (int)getpid());
    if (mkdir(scratch_base, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_diff: cannot create %s: %s\n", scratch_base, strerror(errno));
        abort();
    }
    atexit(remove_scratch_base);
    atexit(stats_print);
    const char *na = getenv("BG_FUZZ_NO_ABORT");
    no_abort = na && strcmp(na, "1") == 0;
    const char *data_env = getenv("BG_FUZZ_DATA");
    run_opt = (BgRunOptions){ .scratch_base = scratch_base,
                              .volatile_scratch = true, .reuse_scratch = true,
                              .compare_data = !(data_env && strcmp(data_env, "0") == 0),
                              .skip_known_zero = !(data_env && strcmp(data_env, "full") == 0) };
    stats_dir = getenv("BG_FUZZ_STATS");
    return 0;
}

/* The stream's lines up to and including LINE: the readable reproducer. */
static void write_reproducer(const uint8_t *data, size_t size, int line, const char *sig)
{
    const char *dir = getenv("BG_FUZZ_ARTIFACTS");
    if (!dir || !*dir)
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = sig; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    char *path = bg_asprintf("%s/mismatch-%016llx.jsonl", dir, (unsigned long long)h);
    /* Written aside and renamed: in fork mode two jobs may write one name, and
     * make fuzz reads these files while the fuzzer runs. */
    char *tmp = bg_asprintf("%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (f) {
        int n = 1;
        for (size_t i = 0; i < size && (line <= 0 || n <= line); i++) {
            fputc(data[i], f);
            if (data[i] == '\n')
                n++;
        }
        if (fclose(f) == 0 && rename(tmp, path) == 0)
            fprintf(stderr, "bgraph-reproducer: %s\n", path);
        else
            unlink(tmp);
    }
    free(tmp);
    free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("fuzz-input.jsonl", (const char *)data, size, &err);
    if (!s)
        return -1;   /* not a stream: never reaches the backends, not kept */
    BgRunReport rep = {0};
    bg_run_stream(s, backends, 2, &run_opt, &rep);
    size_t n_steps = s->n_steps;
    bg_stream_free(s);
    bool mismatch = rep.signature != NULL;
    /* An in-process backend that fails is a bug; a bind that selects nothing
     * or a refused file name is the stream's problem, on both sides alike. */
    bool backend_failed = rep.status == BG_RUN_ERROR && rep.message &&
                          strstr(rep.message, " backend failed: ");
    if (fuzz_stats_count(&stats, data, size, n_steps, mismatch || backend_failed,
                         json_string_value(json_object_get(rep.diverged, "command"))))
        fuzz_stats_write(&stats, stats_dir);
    if (mismatch || backend_failed) {
        const char *cmd = json_string_value(json_object_get(rep.signature, "command"));
        const char *ch = json_string_value(json_object_get(rep.signature, "channel"));
        const char *path = json_string_value(json_object_get(rep.signature, "path"));
        char *sig = bg_asprintf("step=%lld line=%d command=%s channel=%s path=%s",
                                (long long)json_integer_value(json_object_get(rep.signature,
                                                                              "step")),
                                rep.first_line, cmd ? cmd : "?", ch ? ch : "backend",
                                path ? path : "-");
        json_t *backend_sig = json_pack("{s:s,s:s,s:s}", "command", "?", "channel", "backend",
                                        "path", "-");
        char *key = bg_finding_key(mismatch ? rep.signature : backend_sig);
        json_decref(backend_sig);
        fprintf(stderr, "bgraph-mismatch: %s\nbgraph-key: %s\n%s\n", sig, key,
                rep.message ? rep.message : "");
        free(key);
        write_reproducer(data, size, rep.first_line, sig);
        free(sig);
        bg_run_report_cleanup(&rep);
        findings++;
        if (no_abort)
            return 0;
        abort();
    }
    bg_run_report_cleanup(&rep);
    return 0;
}

/* Findings so far (with BG_FUZZ_NO_ABORT=1; for bench/bench_fuzz.c). */
unsigned long bg_fuzz_diff_findings(void);
unsigned long bg_fuzz_diff_findings(void)
{
    return findings;
}

/* Add the CPU time of each part of later inputs to TIMES (runner.h; NULL:
 * stop), and the name of backend I (for bench/bench_fuzz.c). */
void bg_fuzz_diff_time_parts(BgRunTimes *times);
void bg_fuzz_diff_time_parts(BgRunTimes *times)
{
    run_opt.times = times;
}

const char *bg_fuzz_diff_backend_name(int i);
const char *bg_fuzz_diff_backend_name(int i)
{
    return i >= 0 && i < 2 && backends[i] ? backends[i]->name : "?";
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return bg_mutate(data, size, max_size, seed);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2,
                                 uint8_t *out, size_t max_out, unsigned int seed)
{
    return bg_crossover(d1, s1, d2, s2, out, max_out, seed);
}
