/*
 * policy_io.h: the command grammar of qemu-io and qemu-img as streams may
 * use it, checked before any backend acts (a part of policy.h's checks).
 *
 * What this is: which qemu-io commands and options a stream may run (io
 * steps' "cmd", HMP "qemu-io NODE \"CMD\""), with their operands within the
 * limits of bg.h, and which qemu-img subcommands, options and how many file
 * names a qemu-img step may have.  Messages have no "FILE:LINE: " prefix
 * (the caller adds it).
 * What it is not: qemu-io or qemu-img themselves (real/qemuio.h, the qemu
 * backend runs the installed tools), or the step shapes and allowlists of
 * policy.h.
 */
#ifndef BG_POLICY_IO_H
#define BG_POLICY_IO_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"
#include "policy.h"

/*
 * One qemu-io command line (the -c argument, or the quoted part of HMP
 * "qemu-io NODE \"CMD\"").  WHO prefixes the message ("io").
 */
bool bg_policy_io_cmd(const char *who, const char *cmd, BgError *err);

/* human-monitor-command's ARGS: exactly {"command-line": "qemu-io NODE \"CMD\""}
 * (or an unquoted CMD) with an allowed CMD. */
bool bg_policy_io_hmp(const json_t *args, BgError *err);

/* A qemu-img step's ARGV (subcommand, options, file names); every file name
 * goes to ON_FILE as BG_FILE_IMAGE. */
bool bg_policy_io_qemu_img(const json_t *argv, BgFileFn on_file, void *opaque, BgError *err);

#endif
