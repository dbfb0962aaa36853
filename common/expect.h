/*
 * expect.h: judging a step's "expect" against a backend's result.
 *
 * Each key of `expect` is one assertion (each entry of `checks` is one),
 * as streams.md "Expectations" defines them.  An assertion is reported as
 * {"kind", "expected", "ok", "actual"} for the transcript; "actual" is in
 * display form ($DIR written back).  What it is not: the comparison of two
 * backends (runner.c), which uses the same normalisation (norm.h).
 */
#ifndef BG_EXPECT_H
#define BG_EXPECT_H

#include <jansson.h>

#include "backend.h"
#include "json.h"
#include "stream.h"

typedef struct BgExpectCtx {
    const char *scratch;   /* real scratch path, written back as $DIR */
    json_t *saved;         /* label -> saved return value (borrowed object) */
    BgJsonStrFn subst;     /* ${VAR} substitution applied before comparing, or NULL */
    void *subst_opaque;
} BgExpectCtx;

/*
 * Judge STEP's expectations on RES.  Returns a new array of assertion
 * objects (empty when the step has no expect) and adds the number of failed
 * ones to *failed.  Values are compared after ctx->subst; "expected" shows
 * them as the stream writes them.
 */
json_t *bg_expect_judge(const BgStep *step, const BgResult *res, const BgExpectCtx *ctx,
                        int *failed);

/* qemu-io output checks shared with the comparator and tests. */
int bg_expect_count_io_lines(const char *text);      /* "(read|wrote) .../... bytes at offset" */
int bg_expect_pattern_failures(const char *text);    /* "Pattern verification failed" lines */

/* The value a result shows in a transcript or a diff (new reference, display form). */
json_t *bg_expect_result_json(const BgResult *res, const char *scratch);

#endif
