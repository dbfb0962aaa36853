/*
 * harness.h: a minimal unit-test harness (after redis src/unit/testhelp.h).
 *
 * A test is `static void test_<module>_<behaviour>(void)`; CHECK() records a
 * failure with file and line and goes on, so one run reports every broken
 * assertion.  Suites are registered in tests/test_main.c.
 */
#ifndef BG_TEST_HARNESS_H
#define BG_TEST_HARNESS_H

#include <stdio.h>
#include <string.h>

extern int bg_test_failures;   /* failed CHECKs in the current test */

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            bg_test_failures++; \
        } \
    } while (0)

#define CHECK_STR_EQ(a, b) do { \
        const char *a_ = (a), *b_ = (b); \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
            fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
            bg_test_failures++; \
        } \
    } while (0)

#define CHECK_INT_EQ(a, b) do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) { \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
                    #a, a_, b_); \
            bg_test_failures++; \
        } \
    } while (0)

typedef struct BgTest {
    const char *name;
    void (*fn)(void);
} BgTest;

/* Each tests/unit/test_<module>.c defines `const BgTest test_<module>_suite[]`,
 * terminated by {NULL, NULL}. */
#define BG_SUITE(module) const BgTest test_##module##_suite[]

#endif
