/*
 * runner.h: running a stream on one backend, or on two in lock-step.
 *
 * The runner owns everything that is the same for every backend: the
 * scratch directory, $DIR and ${VAR} substitution, run-time confinement,
 * `save`/`bind`, judging expectations, the transcript, and (with two
 * backends) the step-by-step comparison.  Backends only answer steps.
 *
 * Transcript (streams.md "Transcript"): one canonical JSON line per step,
 * flushed as soon as it is written, so a crash leaves everything up to the
 * failing step.  To make the same stream give the same bytes every run:
 *   - the scratch directory is written $DIR, qemu-io timing lines are
 *     normalised, keys are sorted, "actual-size" values (host file system
 *     allocation) are written null;
 *   - automatic node names in commands and results are renamed #block1,
 *     #block2, ... in order of first appearance (QEMU appends two random
 *     digits); an assertion's "expected" is the stream's own text, as written;
 *   - job events (BLOCK_JOB_* and JOB_STATUS_CHANGE) are not listed under
 *     the step during which they happened to arrive (that depends on timing
 *     in a real QEMU) but per job, in order, in the summary line; status
 *     changes to "paused" and "standby" and the return to the previous
 *     status are dropped: they come from drains (every blockdev-reopen
 *     drains the graph) and their number depends on timing too.
 */
#ifndef BG_RUNNER_H
#define BG_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "backend.h"
#include "stream.h"

/* Called after each step on the first backend (replay --record). */
typedef void (*BgStepHook)(void *opaque, const BgStep *step, const BgResult *res,
                           const char *scratch);

/* The parts of a run whose CPU time BgRunOptions.times adds up (what is
 * left of an input's time is the rest: parsing, substitution, judging,
 * transcript lines, the fuzzer's own work). */
typedef enum BgRunPart {
    BG_PART_SESSIONS,          /* opening and closing backends and scratch directories */
    BG_PART_SCAN,              /* the confinement scan before each step (confine.h) */
    BG_PART_EXECUTE0,          /* the first backend running steps */
    BG_PART_EXECUTE1,          /* the second backend running steps */
    BG_PART_COMPARE,           /* results, qemu-io output and events compared (compare.h) */
    BG_PART_DATA,              /* guest-visible bytes compared (compare_data) */
    BG_PART__COUNT
} BgRunPart;

typedef struct BgRunTimes {
    double cpu[BG_PART__COUNT];   /* CPU seconds of this process, summed over runs */
} BgRunTimes;

typedef struct BgRunOptions {
    const char *scratch_base;  /* parent of the scratch directories (NULL: default) */
    bool keep;                 /* leave the scratch directory (and vm.log) behind */
    bool verbose;              /* print every step's result on stderr */
    FILE *transcript[2];       /* per backend, or NULL */
    BgStepHook on_step;        /* or NULL */
    void *hook_opaque;
    bool volatile_scratch;     /* BgBackendConfig.volatile_scratch (the fuzzer) */
    bool reuse_scratch;        /* scratch_base belongs to this process alone: an
                                * existing, empty scratch directory of the stream's
                                * name is used again, and after the run it is
                                * emptied but kept (the fuzzer: no mkdir and rmdir
                                * per input; bg_runner_scratch_remove() at exit) */
    bool compare_data;         /* two backends: after every step that can change
                                * data, compare the guest-visible bytes of every
                                * node both list (64 KiB chunks, memcmp) */
    bool skip_known_zero;      /* compare_data: a chunk both backends know to be
                                * zeroes (backend.h known_zero) is not read (the
                                * fuzzer); otherwise each claim is checked against
                                * the bytes read (replay) */
    BgRunTimes *times;         /* or NULL: add each part's CPU time here (a clock
                                * read per part and step: bench/bench_fuzz.c) */
} BgRunOptions;

typedef enum BgRunStatus {
    BG_RUN_PASSED = 0,         /* every assertion held, backends agreed */
    BG_RUN_FAILED = 1,         /* an assertion failed or the backends differ */
    BG_RUN_ERROR = 2,          /* the stream could not be run */
} BgRunStatus;

typedef struct BgRunReport {
    BgRunStatus status;
    int assertions;            /* counted assertions (both backends) */
    int failed;                /* failed assertions */
    int unsupported;           /* steps a backend could not do */
    int first_line;            /* line of the first failure / difference, 0 if none */
    char *message;             /* first failure, difference or error, one or more lines (owned) */
    json_t *signature;         /* with two backends: {"step", "line", "command", "channel",
                                * "path", "values"}; "values": what each side has at
                                * the path as finding.h keeps it (sorted), or absent
                                * for a data difference */
    json_t *diverged;          /* with two backends: the step a backend answered
                                * "unsupported" that ended the comparison ({"step",
                                * "line", "command", "backends": [names]}), or NULL */
} BgRunReport;

void bg_run_report_cleanup(BgRunReport *r);

/* The default parent of scratch directories: $BG_SCRATCH, $TMPDIR or /var/tmp. */
const char *bg_runner_default_scratch_base(void);
/* Remove DIR and everything under it, never following a symbolic link. */
void bg_runner_scratch_remove(const char *dir);

/*
 * Run S on N_BACKENDS (1 or 2) backends.  Never returns early without a
 * report; never leaves a VM running or a scratch directory behind (unless
 * opt->keep).
 */
void bg_run_stream(const BgStream *s, const BgBackendOps *const *backends, int n_backends,
                   const BgRunOptions *opt, BgRunReport *report);

#endif
