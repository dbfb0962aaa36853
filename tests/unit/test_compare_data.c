/*
 * test_compare_data.c: the guest data comparison's memo (compare_data.c):
 * a node found equal and changed on neither side since is not read again;
 * a version that moves, or a hashed side whose bytes changed, makes it read
 * again; BG_CHECK_DATA_VERSIONS=1 catches a version that stays put over
 * changed bytes.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bg.h"
#include "compare.h"
#include "harness.h"

#define NODE_SIZE 200003        /* not a multiple of 8 or of a chunk */

struct BgBackend {
    uint8_t bytes[NODE_SIZE];
    uint64_t version;
    unsigned reads;             /* read_node calls */
};

static json_t *list_nodes(BgBackend *be)
{
    (void)be;
    return json_pack("[{s:s,s:i}]", "node-name", "hd1", "size", NODE_SIZE);
}

static bool read_node(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                      uint8_t *buf, BgError *err)
{
    (void)node;
    (void)err;
    be->reads++;
    memcpy(buf, be->bytes + offset, len);
    return true;
}

static uint64_t data_version(BgBackend *be, const char *node)
{
    (void)node;
    return be->version;
}

static bool checking_wanted;   /* run_checked()'s child: leave the variable set */

static const BgBackendOps versioned = { .name = "versioned", .list_nodes = list_nodes,
                                        .read_node = read_node, .data_version = data_version };
static const BgBackendOps hashed = { .name = "hashed", .list_nodes = list_nodes,
                                     .read_node = read_node };

/* A memo for the tests that count reads: BG_CHECK_DATA_VERSIONS (make check
 * sets it; the memo reads it when made) reads skipped nodes anyway, so it is
 * off here but in run_checked(). */
static BgDataMemo *memo_new(void)
{
    char *saved = getenv("BG_CHECK_DATA_VERSIONS") ? bg_strdup(getenv("BG_CHECK_DATA_VERSIONS"))
                                                    : NULL;
    if (!checking_wanted)
        unsetenv("BG_CHECK_DATA_VERSIONS");
    BgDataMemo *memo = bg_data_memo_new();
    if (saved)
        setenv("BG_CHECK_DATA_VERSIONS", saved, 1);
    free(saved);
    return memo;
}

/* One comparison of A and B with MEMO; the reads it made go to READS. */
static bool compare(const BgBackendOps *oa, BgBackend *a, const BgBackendOps *ob, BgBackend *b,
                    BgDataMemo *memo, unsigned reads[2])
{
    const BgBackendOps *ops[2] = { oa, ob };
    BgBackend *be[2] = { a, b };
    uint8_t *buf[2] = { NULL, NULL };
    char *path = NULL;
    a->reads = b->reads = 0;
    bool same = bg_compare_data(ops, be, true, memo, buf, &path);
    reads[0] = a->reads;
    reads[1] = b->reads;
    free(path);
    free(buf[0]);
    free(buf[1]);
    return same;
}

static BgBackend *backend(void)
{
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->version = 7;
    for (size_t i = 1000; i < 1200; i++)
        be->bytes[i] = (uint8_t)i;
    be->bytes[NODE_SIZE - 1] = 0x5a;
    return be;
}

/* Both sides answer data_version: an unchanged node is read once. */
static void test_compare_data_unchanged_not_read_again(void)
{
    BgBackend *a = backend(), *b = backend();
    BgDataMemo *memo = memo_new();
    unsigned reads[2];
    CHECK(compare(&versioned, a, &versioned, b, memo, reads));
    CHECK(reads[0] > 0 && reads[1] > 0);
    CHECK(compare(&versioned, a, &versioned, b, memo, reads));
    CHECK_INT_EQ(reads[0], 0);
    CHECK_INT_EQ(reads[1], 0);
    /* without a memo, every comparison reads */
    CHECK(compare(&versioned, a, &versioned, b, NULL, reads));
    CHECK(reads[0] > 0 && reads[1] > 0);
    bg_data_memo_free(memo);
    free(a);
    free(b);
}

/* One side's version moves: the node is read again, and a difference
 * between the two sides is found. */
static void test_compare_data_version_moves(void)
{
    BgBackend *a = backend(), *b = backend();
    BgDataMemo *memo = memo_new();
    unsigned reads[2];
    CHECK(compare(&versioned, a, &versioned, b, memo, reads));
    b->bytes[150001] = 9;
    b->version++;
    CHECK(!compare(&versioned, a, &versioned, b, memo, reads));
    CHECK(reads[0] > 0 && reads[1] > 0);
    /* the difference is not remembered as equal: found again */
    CHECK(!compare(&versioned, a, &versioned, b, memo, reads));
    bg_data_memo_free(memo);
    free(a);
    free(b);
}

/* A side without data_version is hashed: its bytes are read (the other
 * side's are not) and a change of them is found. */
static void test_compare_data_hashed_side(void)
{
    BgBackend *a = backend(), *b = backend();
    BgDataMemo *memo = memo_new();
    unsigned reads[2];
    CHECK(compare(&versioned, a, &hashed, b, memo, reads));
    CHECK(compare(&versioned, a, &hashed, b, memo, reads));
    CHECK_INT_EQ(reads[0], 0);
    CHECK(reads[1] > 0);
    b->bytes[NODE_SIZE - 2] = 1;       /* the last, partial word */
    CHECK(!compare(&versioned, a, &hashed, b, memo, reads));
    CHECK(reads[0] > 0);
    /* two hashed sides: nothing is saved, both are read */
    b->bytes[NODE_SIZE - 2] = 0;
    CHECK(compare(&hashed, a, &hashed, b, memo, reads));
    CHECK(compare(&hashed, a, &hashed, b, memo, reads));
    CHECK(reads[0] > 0 && reads[1] > 0);
    bg_data_memo_free(memo);
    free(a);
    free(b);
}

/* In a child with BG_CHECK_DATA_VERSIONS=1: compare, change B's bytes (its
 * version moving or not, A's moving so that the node is compared), compare
 * again.  How the child ended. */
static int run_checked(bool b_version_moves)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("BG_CHECK_DATA_VERSIONS", "1", 1);
        checking_wanted = true;
        BgBackend *a = backend(), *b = backend();
        BgDataMemo *memo = memo_new();
        unsigned reads[2];
        compare(&versioned, a, &versioned, b, memo, reads);
        a->bytes[5] = b->bytes[5] = 3;
        a->version++;
        if (b_version_moves)
            b->version++;
        freopen("/dev/null", "w", stderr);   /* the abort's message is expected */
        compare(&versioned, a, &versioned, b, memo, reads);
        _exit(0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    return status;
}

static void test_compare_data_check_catches_stale_version(void)
{
    int st = run_checked(false);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    st = run_checked(true);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

BG_SUITE(compare_data) = {
    {"unchanged_not_read_again", test_compare_data_unchanged_not_read_again},
    {"version_moves", test_compare_data_version_moves},
    {"hashed_side", test_compare_data_hashed_side},
    {"check_catches_stale_version", test_compare_data_check_catches_stale_version},
    {NULL, NULL},
};
