/*
 * confine.h: every file a stream names stays inside its scratch directory.
 *
 * Lexical rules (at load time, before anything runs): a file name is a
 * relative path, or "$DIR" followed by "/" and a relative path; ".."
 * components may not climb above the scratch directory; no protocol prefix
 * ("json:", "nbd:", anything with ':' before the first '/'); "/dev/null" is
 * allowed only where ALLOW_DEV_NULL says so (blkdebug's config, as the seed
 * uses it).
 *
 * Run-time rules (just before a step runs, on the substituted step): the
 * same lexical rules on the real path, then every existing component is
 * resolved (symlinks included) and must stay under the scratch directory;
 * and every qcow2 image in the scratch directory must name only confined
 * backing and external data files in its header (an io step can write any
 * bytes into a file, including a crafted header).
 */
#ifndef BG_CONFINE_H
#define BG_CONFINE_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "stream.h"

/* Lexical check of one file name as written in a stream ($DIR not yet substituted). */
bool bg_confine_name(const char *name, bool allow_dev_null, BgError *err);

/*
 * Run-time check of a substituted step CMD (the step object without
 * metadata) against SCRATCH (absolute, real path: it is not resolved again
 * when it names a directory).  Message without a "FILE:LINE: " prefix.
 */
bool bg_confine_step(const char *scratch, BgStepKind kind, const json_t *cmd, BgError *err);

/*
 * The same with the scan of the scratch directory only when SCAN: the
 * runner skips it when the backend says nothing below the directory changed
 * since a scan that passed (backend.h, file_changes).
 */
bool bg_confine_step_scan(const char *scratch, BgStepKind kind, const json_t *cmd, bool scan,
                          BgError *err);

#endif
