/*
 * fuzz_stats.h: fuzz_diff's count of its inputs: how many ran, how many an
 * unsupported step ended (by that step's command), how many differed.
 *
 * When a backend answers "unsupported" to a step that may change state, the
 * runner stops comparing that input (runner.h's BgRunReport.diverged).  A
 * model that says so too often would leave the fuzzer blind without a sign;
 * these counts make it visible.  One line of a fixed form:
 *   bgraph-fuzz-stats: inputs=N unsupported=U differed=D unsupported-by=C:n,C:n
 * ("unsupported-by=-" when none; by count, then name; after
 * FUZZ_STATS_COMMANDS names the rest count as "(other)").  No clock: the
 * same inputs give the same line.
 * What it is not: libFuzzer's own statistics (executions, coverage), nor the
 * sum over a campaign's processes (tools/report-fuzz.sh unsupported).
 */
#ifndef BG_FUZZ_STATS_H
#define BG_FUZZ_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FUZZ_STATS_COMMANDS 32

typedef struct FuzzStatsCommand {
    char name[64];
    unsigned long n;
} FuzzStatsCommand;

typedef struct FuzzStats {
    unsigned long inputs, unsupported, differed, other;
    FuzzStatsCommand by[FUZZ_STATS_COMMANDS];
    int fd;               /* the file (fuzz_stats_write); -1: not open yet, -2: none */
    uint64_t last_hash;   /* of the input before (FNV-1a), and its size */
    size_t last_size;
    bool any;             /* an input was seen */
} FuzzStats;

#define FUZZ_STATS_INIT { .fd = -1 }

/*
 * Count one input of SIZE bytes (DATA), a stream of N_STEPS steps whose run
 * DIFFERED, or else ended at an unsupported step of command UNSUPPORTED_AT
 * (NULL: compared to the end).  Not counted: a stream of no step (libFuzzer
 * tries the empty input) and the input just counted, again (libFuzzer's
 * leak check runs an input twice when it left more mallocs than frees, as
 * fuzz_diff's reused scratch and buffers do).  Returns whether it counted.
 */
bool fuzz_stats_count(FuzzStats *st, const uint8_t *data, size_t size, size_t n_steps,
                      bool differed, const char *unsupported_at);

/* The line, with its newline.  Owned result. */
char *fuzz_stats_line(const FuzzStats *st);

/*
 * Keep the line in DIR/stats-<pid>.txt (made with DIR on the first call;
 * DIR's parent must exist), rewritten in place: a line first, then the file
 * cut to it, so a process killed in between leaves a complete line at the
 * top.  The pid only keeps processes apart.  DIR NULL or empty: nothing.
 */
void fuzz_stats_write(FuzzStats *st, const char *dir);

#endif
