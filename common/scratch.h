/*
 * scratch.h: the scratch directories streams run in (runner.c).
 *
 * A stream runs on each backend in a directory of its own under a base
 * (runner.h: bg_runner_default_scratch_base(), BgRunOptions.scratch_base),
 * named from the stream's file name and the backend's name only, so that
 * the same stream gets the same path every run (transcripts write it back
 * as $DIR).
 */
#ifndef BG_SCRATCH_H
#define BG_SCRATCH_H

#include <stdbool.h>

#include "error.h"

/* The stream file PATH's name without directory and extension, every
 * character but [A-Za-z0-9_-] made '_' (owned). */
char *bg_scratch_stem(const char *path);
/* A new directory BASE/bgraph-STEM-BACKEND[-N], its real path (owned), or
 * NULL and ERR; mkdir is the lock.  With REUSE, an empty directory of that
 * name left by an earlier run of this process is taken again. */
char *bg_scratch_new(const char *base, const char *stem, const char *backend, bool reuse,
                     BgError *err);
/* Remove everything below DIR (not followed if it is a symbolic link). */
void bg_scratch_empty(const char *dir);

#endif
