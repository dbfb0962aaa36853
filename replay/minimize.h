/*
 * minimize.h: replay --minimize (minimize.c).
 */
#ifndef BG_MINIMIZE_H
#define BG_MINIMIZE_H

#include "error.h"
#include "runner.h"

/*
 * Shrink S, on which BACKENDS[0] and BACKENDS[1] differ, keeping the
 * signature of the difference.  On success *out_text is the minimized
 * stream (owned) and *runs the number of candidates run.
 */
bool minimize_stream(const BgStream *s, const BgBackendOps *const *backends,
                     const BgRunOptions *opt, char **out_text, int *runs, BgError *err);

#endif
