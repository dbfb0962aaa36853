/*
 * policy.h: what a stream may ask for, checked before any backend acts.
 *
 * Streams travel (crash corpora, bug reports), so the tools run only what
 * the stream format needs and refuse the rest with "FILE:LINE: what" and
 * exit status 2:
 *   - QMP commands outside the project's list (commands the spec and the
 *     seed use), devices, QOM types and block drivers outside allowlists
 *     (no network protocols, no host devices, no formats that open other
 *     files such as vmdk extents);
 *   - qemu-io commands outside read/write/discard/... (no "open", "sleep",
 *     "abort"), qemu-img subcommands outside check/map/compare/info, launch
 *     arguments outside "-S";
 *   - sizes and request lengths above the limits of bg.h, negative numbers;
 *   - file names that leave the scratch directory (confine.h).
 * What it is not: QEMU's own validation.  Values QEMU rejects with an error
 * text (driver "", node-name null) pass through untouched: those errors are
 * what the streams test.
 */
#ifndef BG_POLICY_H
#define BG_POLICY_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "stream.h"

/*
 * Check one step's body (the step key's value, and "arguments" for
 * execute; BODY is the whole step object without metadata).  On refusal
 * sets err to a message WITHOUT the "FILE:LINE: " prefix (the caller adds it)
 * and returns false.
 */
bool bg_policy_check_step(BgStepKind kind, const json_t *body, BgError *err);

/* Is NAME a QMP command streams may use?  (the list is in policy.c) */
bool bg_policy_command_known(const char *name);

#endif
