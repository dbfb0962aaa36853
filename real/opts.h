/*
 * opts.h: typed reads of a node's driver options from its JSON object.
 *
 * What this is: the little of QEMU's QemuOpts (util/qemu-option.c) the
 * drivers need: a key may be nested ("cache": {"direct": true}) or flat
 * ("cache.direct": true, as qemu-io's json: filenames and -o give them),
 * numbers may come as JSON integers or as strings with a size suffix.
 * What it is not: QAPI validation (types and unknown keys are the graph
 * layer's, with QAPI's texts); defaults live in the drivers.
 */
#ifndef REAL_OPTS_H
#define REAL_OPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* The value of KEY ("a" or "a.b"), borrowed, or NULL when absent or null. */
json_t *opts_get(json_t *opts, const char *key);
bool opts_has(json_t *opts, const char *key);
/* Each returns false with err set on a value of the wrong type. */
bool opts_get_bool(json_t *opts, const char *key, bool def, bool *out, BgError *err);
bool opts_get_size(json_t *opts, const char *key, uint64_t def, uint64_t *out, BgError *err);
bool opts_get_int(json_t *opts, const char *key, int64_t def, int64_t *out, BgError *err);
/* String value (borrowed) or DEF; numbers and booleans are not converted. */
const char *opts_get_str(json_t *opts, const char *key, const char *def);

/*
 * QEMU qemu_strtosz() (util/cutils.c do_strtosz, 7.2): decimal with an
 * optional fraction, or 0x hex; suffix B/K/M/G/T/P/E (1024-based) or
 * DEFAULT_SUFFIX ('B' for bytes).  Returns 0, -EINVAL or -ERANGE.  Sets
 * *hex_suffix when a hex number carried a suffix (QEMU warns about it).
 */
int opts_strtosz(const char *s, char default_suffix, uint64_t *out, bool *hex_suffix);

#endif
