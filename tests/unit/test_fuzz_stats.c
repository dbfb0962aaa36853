/*
 * test_fuzz_stats.c: fuzz_diff's count of its inputs (fuzz/fuzz_stats.h):
 * what counts, the line's form, the table's overflow and the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../fuzz/fuzz_stats.h"
#include "bg.h"
#include "harness.h"

static bool count(FuzzStats *st, const char *text, size_t n_steps, bool differed,
                  const char *unsupported_at)
{
    return fuzz_stats_count(st, (const uint8_t *)text, strlen(text), n_steps, differed,
                            unsupported_at);
}

static void check_line(const FuzzStats *st, const char *want)
{
    char *got = fuzz_stats_line(st);
    CHECK_STR_EQ(got, want);
    free(got);
}

static void test_fuzz_stats_counts(void)
{
    FuzzStats st = FUZZ_STATS_INIT;
    check_line(&st, "bgraph-fuzz-stats: inputs=0 unsupported=0 differed=0 unsupported-by=-\n");
    CHECK(count(&st, "a", 3, false, "blockdev-reopen"));
    CHECK(!count(&st, "a", 3, false, "blockdev-reopen"));   /* the leak check's second run */
    CHECK(!count(&st, "", 0, false, NULL));                  /* the empty input */
    CHECK(count(&st, "a", 3, false, "blockdev-reopen"));     /* again, not at once: counted */
    CHECK(count(&st, "b", 2, false, "block-stream"));
    CHECK(count(&st, "c", 2, false, "block-commit"));
    CHECK(count(&st, "d", 2, true, NULL));
    CHECK(count(&st, "e", 2, true, "device_add"));          /* a difference is not a blind spot */
    CHECK(count(&st, "f", 2, false, NULL));
    check_line(&st, "bgraph-fuzz-stats: inputs=7 unsupported=4 differed=2 "
                    "unsupported-by=blockdev-reopen:2,block-commit:1,block-stream:1\n");
}

static void test_fuzz_stats_table_overflow(void)
{
    FuzzStats st = FUZZ_STATS_INIT;
    for (int i = 0; i < FUZZ_STATS_COMMANDS + 2; i++) {
        char name[16], input[16];
        snprintf(name, sizeof(name), "c%02d", i);
        snprintf(input, sizeof(input), "in%d", i);
        CHECK(count(&st, input, 1, false, name));
    }
    char *line = fuzz_stats_line(&st);
    CHECK(strstr(line, "unsupported=34 ") != NULL);
    CHECK(strstr(line, ",c31:1,(other):2\n") != NULL);
    free(line);
}

static void test_fuzz_stats_file(void)
{
    char tdir[] = "/tmp/bg-test-fuzz-stats-XXXXXX";
    CHECK(mkdtemp(tdir) != NULL);
    char *dir = bg_asprintf("%s/stats", tdir);
    FuzzStats st = FUZZ_STATS_INIT;
    for (int i = 0; i < 12; i++) {
        char input[8];
        snprintf(input, sizeof(input), "%d", i);
        count(&st, input, 1, false, i == 0 ? "a-very-long-command-name-first" : NULL);
        fuzz_stats_write(&st, dir);
    }
    char *path = bg_asprintf("%s/stats-%d.txt", dir, (int)getpid());
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char buf[256] = "";
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    /* rewritten, not appended: one line, the last counts */
    CHECK_STR_EQ(buf, "bgraph-fuzz-stats: inputs=12 unsupported=1 differed=0 "
                      "unsupported-by=a-very-long-command-name-first:1\n");
    close(st.fd);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    CHECK(rmdir(tdir) == 0);
    free(path);
    free(dir);
}

BG_SUITE(fuzz_stats) = {
    {"counts", test_fuzz_stats_counts},
    {"table_overflow", test_fuzz_stats_table_overflow},
    {"file", test_fuzz_stats_file},
    {NULL, NULL},
};
