/*
 * test_step_util.h: one stream step on any backend, for unit tests that
 * drive backends directly (without the runner): $DIR stands for the scratch
 * directory, and single quotes in the step stand for double quotes, for
 * readability.
 * What it is not: the runner's substitution (${VAR}, confinement) or
 * judging (runner.h, expect.h).  Static functions in a header: each test
 * file gets its own copy.
 */
#ifndef BG_TEST_STEP_UTIL_H
#define BG_TEST_STEP_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "bg.h"
#include "harness.h"
#include "json.h"

/* bg_json_map_strings() callback: $DIR becomes DIR (the opaque). */
static inline char *ts_subst(const char *s, void *dir)
{
    BgBuf b = {0};
    for (; *s; s++) {
        if (strncmp(s, "$DIR", 4) == 0) {
            bg_buf_puts(&b, dir);
            s += 3;
        } else {
            bg_buf_append(&b, s, 1);
        }
    }
    return bg_buf_take(&b);
}

/* One step LINE on OPS/BE with $DIR = DIR; a bad step or a failed backend is a
 * test failure (the result is then empty or partial). */
static inline BgResult ts_run(const BgBackendOps *ops, BgBackend *be, const char *dir,
                              const char *line)
{
    char *text = bg_strdup(line);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    BgStep step = {0};
    BgError err = {0};
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    BgResult res = {0};
    if (!obj || !bg_step_from_json(obj, 1, &step, &err)) {
        fprintf(stderr, "  bad test step: %s %s\n", text, err.text);
        bg_test_failures++;
    } else {
        json_t *cmd = bg_json_map_strings(step.cmd, ts_subst, (void *)dir);
        if (!ops->execute(be, &step, cmd, &res, &err)) {
            fprintf(stderr, "  %s failed: %s\n", ops->name, err.text);
            bg_test_failures++;
        }
        json_decref(cmd);
        bg_step_cleanup(&step);
    }
    json_decref(obj);
    free(text);
    return res;
}

#endif
