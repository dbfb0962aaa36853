/*
 * test_main.c: runs every unit-test suite, or the ones named on the command
 * line ("unit stream expect").  Ends with "N passed, M failed" (tests).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

int bg_test_failures;

/* One line per suite: the suite tables live in tests/unit/test_<module>.c. */
#define SUITES(X) \
    X(bg) \
    X(json) \
    X(norm) \
    X(stream) \
    X(expect) \
    X(confine) \
    X(policy) \
    X(runner) \
    X(compare_data) \
    X(finding) \
    X(minimize) \
    X(fuzz_stats) \
    X(mutator) \
    X(qemu_backend) \
    X(model_qdict) \
    X(model_options) \
    X(model_check) \
    X(model_backend) \
    X(model_io) \
    X(model_image_meta) \
    X(model_job) \
    X(model_qcow2) \
    X(model_sparse) \
    X(real_qcow2) \
    X(real_drivers) \
    X(real_faults) \
    X(real_qemuio) \
    X(real_graph) \
    X(real_backend) \
    X(real_nodes)

#define DECLARE(m) extern const BgTest test_##m##_suite[];
SUITES(DECLARE)
#undef DECLARE

static const struct {
    const char *name;
    const BgTest *tests;
} suites[] = {
#define ENTRY(m) { #m, test_##m##_suite },
    SUITES(ENTRY)
#undef ENTRY
};

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    json_object_seed(1);
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], suites[i].name) == 0)
                wanted = true;
        if (!wanted)
            continue;
        for (const BgTest *t = suites[i].tests; t->name; t++) {
            bg_test_failures = 0;
            t->fn();
            if (bg_test_failures) {
                printf("FAIL %s.%s\n", suites[i].name, t->name);
                failed++;
            } else {
                printf("ok   %s.%s\n", suites[i].name, t->name);
                passed++;
            }
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
