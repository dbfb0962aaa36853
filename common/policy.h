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
 *     "abort"), qemu-img subcommands outside check/map/compare/info (their
 *     grammar is policy_io.h), launch arguments outside "-S";
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
#include <stdint.h>

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

/* Is NAME a block driver streams may use (anywhere, not only in a reopen)? */
bool bg_policy_driver_allowed(const char *name);

/* Is FMT an image format offline steps may use (qcow2, raw)? */
bool bg_policy_image_format_allowed(const char *fmt);

/*
 * What a file name found in a step is used for; it decides which
 * exceptions apply and what a relative name is relative to.
 */
typedef enum BgFileRole {
    BG_FILE_IMAGE,         /* opened or created: "filename", img-create/io "file", qemu-img files */
    BG_FILE_CONFIG,        /* blkdebug's "config" in blockdev-add: "/dev/null" is allowed */
    BG_FILE_REOPEN_CONFIG, /* "config" in a reopen: never read by QEMU 7.2 (the option cannot
                            * change), so an absolute name passes the lexical check; at run
                            * time it must be inside the scratch directory or not exist */
    BG_FILE_BACKING,       /* img-create "backing": relative to the new image's directory */
    BG_FILE_HEADER,        /* block-stream/block-commit "backing-file": written into a header */
} BgFileRole;

/*
 * Called for each file name of a step.  BASE is the image a BG_FILE_BACKING
 * name belongs to (img-create's "file"), otherwise NULL.  Returns false with
 * err set to refuse.
 */
typedef bool (*BgFileFn)(const char *name, BgFileRole role, const char *base, void *opaque,
                         BgError *err);

/*
 * bg_policy_check_step() with the file-name rule supplied by the caller: the
 * one walk that finds every file name of a step.  bg_policy_check_step()
 * passes the lexical rule of confine.h; bg_confine_step() re-runs the whole
 * check on the substituted step (a ${VAR} may have become anything) with
 * the run-time rule.
 */
bool bg_policy_check_step_files(BgStepKind kind, const json_t *body, BgFileFn on_file,
                                void *opaque, BgError *err);

/*
 * The same walk over block-node options OPTIONS as blockdev-add would take
 * them (drivers allowed, every file name through ON_FILE), for the options
 * of a "json:{...}" file name QEMU wrote into an image header; WHO starts
 * the messages.
 */
bool bg_policy_check_block_options(const char *who, const json_t *options, BgFileFn on_file,
                                   void *opaque, BgError *err);

/*
 * qemu-io's and qemu-img's cvtnum() as far as streams may use it: decimal or
 * 0x hex digits, then at most one suffix b/k/M/G/T/P/E (any case), nothing
 * else.  False when malformed or above INT64_MAX.
 */
bool bg_policy_parse_size(const char *s, uint64_t *out);

/*
 * S made fit for a one-line message: control and non-ASCII bytes as \xNN,
 * cut after BG_QUOTE_MAX bytes with "...".  Returns OUT.
 */
#define BG_QUOTE_MAX   160
#define BG_QUOTE_BYTES (4 * BG_QUOTE_MAX + 8)
const char *bg_policy_quote(const char *s, char out[BG_QUOTE_BYTES]);

#endif
