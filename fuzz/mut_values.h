/*
 * mut_values.h: the block-node options the mutator changes and the values
 * that matter for each (prefix mut_values_).
 *
 * What this is: per driver, the options of QEMU 7.2's BlockdevOptions
 * (common/options.def, qapi/block-core.json) that a fuzzer should vary, with
 * value tables chosen for the checks QEMU makes: both booleans, every enum
 * value (detect-zeroes, discard, locking, aio, overlap-check, read-pattern),
 * qcow2 cache sizes on both sides of the limits of read_cache_sizes() and
 * qcow2_update_options_prepare() (block/qcow2.c: minimum of 2 L2 / 4
 * refcount clusters, cache-size vs l2/refcount sizes, INT_MAX, entry size a
 * power of two in 512..cluster size, clean interval <= UINT_MAX), raw
 * offset/size around the size of the file below (raw_apply_options(),
 * block/raw-format.c: beyond the file, sums, multiples of 512).
 * Integer values stay within the limits common/policy.c enforces (raw and
 * null sizes at most 1 GiB, latency at most 1 s, nothing negative), so a
 * changed value never makes a stream invalid.
 * What it is not: validation.  Values QEMU refuses are in the tables on
 * purpose; what QEMU answers is for the backends to agree on.
 */
#ifndef BG_MUT_VALUES_H
#define BG_MUT_VALUES_H

#include <jansson.h>
#include <stdint.h>

#include "mut_rand.h"

typedef enum MutValKind {
    MUT_V_BOOL,
    MUT_V_ENUM,      /* one of a '|'-separated list */
    MUT_V_INT,       /* one of a table of integers */
    MUT_V_SIZE_REL,  /* a byte count around the size of the node below */
    MUT_V_GROUP,     /* a throttle group id: the caller picks one that exists */
    MUT_V_NODE,      /* a node name: the caller picks a live one */
} MutValKind;

typedef struct MutOpt {
    const char *driver;      /* "" for the options every driver has */
    const char *name;        /* "cache.direct": member "direct" of struct "cache" */
    MutValKind kind;
    const char *enums;       /* MUT_V_ENUM */
    const int64_t *ints;     /* MUT_V_INT */
    size_t n_ints;
    unsigned weight;         /* how often it is picked, relative to the others */
} MutOpt;

/* A random option DRIVER takes (its own ones favoured; only the common ones for a driver
 * without a table, such as compress or "" when the driver is not known). */
const MutOpt *mut_values_pick_opt(const char *driver, MutRand *r);

/*
 * A new value for OPT, different from CURRENT when the table allows it.
 * REF_SIZE is the size MUT_V_SIZE_REL values are placed around.  NULL for
 * MUT_V_GROUP and MUT_V_NODE (the caller knows what exists).
 */
json_t *mut_values_pick(const MutOpt *opt, MutRand *r, uint64_t ref_size, const json_t *current);

/* A value from the table of named option NAME of DRIVER, or NULL (used by the generator). */
json_t *mut_values_pick_named(const char *driver, const char *name, MutRand *r, uint64_t ref_size);

/* Member NAME ("a.b" walks into struct "a") of OBJ: borrowed, NULL when absent. */
json_t *mut_values_get(const json_t *obj, const char *name);
/* Set member NAME of OBJ to V (stolen), creating the struct of a dotted name. */
void mut_values_set(json_t *obj, const char *name, json_t *v);
/* Remove member NAME (and a struct left empty).  True when something was removed. */
bool mut_values_del(json_t *obj, const char *name);

#endif
