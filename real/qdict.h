/*
 * qdict.h: QEMU's QDict semantics on jansson objects: the iteration order
 * that decides which option an error names, flattening, and QEMU's JSON
 * text for json: filenames.
 *
 * What this is: QEMU 7.2 qobject/qdict.c and block/qdict.c for the
 * operations the graph layer uses.  A QDict here is a plain jansson object
 * (so values may be any JSON, nested objects included); what QEMU adds is
 * the order of iteration: 512 buckets by tdb_hash(key) % 512, buckets in
 * increasing order, and within a bucket the most recently inserted key
 * first.  jansson keeps insertion order and keeps a replaced key in place,
 * exactly as QDict keeps a replaced entry in its bucket, so the order is
 * computed from the object when it is needed (qdict_order()).
 * What it is not: a general JSON library or QAPI validation (qapi.h).
 */
#ifndef REAL_QDICT_H
#define REAL_QDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "bg.h"

#define QDICT_BUCKET_MAX 512

/* QEMU qdict.c tdb_hash() % QDICT_BUCKET_MAX */
unsigned qdict_bucket(const char *key);

/*
 * The keys of D in QDict iteration order: a NULL-terminated array of
 * borrowed key pointers (valid while D is unchanged; a key stays valid
 * until its own entry is deleted); free it with free().
 * *n (optional) receives the count.
 */
const char **qdict_order(json_t *d, size_t *n);
/* The first key in iteration order (borrowed), or NULL when D is empty. */
const char *qdict_first_key(json_t *d);

/* qdict_clone_shallow(): a new object with the same keys and values; keys
 * that share a bucket come out in the opposite order, as in QEMU. */
json_t *qdict_clone(json_t *d);
/* qdict_get_try_str(): the value of KEY when it is a string, else NULL. */
const char *qdict_get_str(json_t *d, const char *key);
/* qdict_set_default_str(): put KEY=VAL unless KEY exists. */
void qdict_set_default_str(json_t *d, const char *key, const char *val);
/* qdict_copy_default(): copy KEY from SRC unless DST has it. */
void qdict_copy_default(json_t *dst, json_t *src, const char *key);
/* qdict_join(): move SRC's entries (iteration order) into DEST; an existing
 * key of DEST is replaced only when OVERWRITE; moved keys leave SRC. */
void qdict_join(json_t *dest, json_t *src, bool overwrite);
/*
 * qdict_extract_subqdict(): move every "PREFIX..." key of SRC (iteration
 * order) into a new object without the prefix, returned in *dst (NULL: the
 * keys are only deleted).
 */
void qdict_extract_subqdict(json_t *src, json_t **dst, const char *prefix);
/* qdict_flatten(): nested non-empty objects and arrays become "a.b" and
 * "a.0" keys, in QEMU's order (see qdict.c).  D is changed in place. */
void qdict_flatten(json_t *d);
/* qdict_crumple() for one level: the "a.b..." keys of D as nested objects
 * (arrays stay "0","1" objects); a new object.  Used for query output. */
json_t *qdict_unflatten(json_t *d);
/* qobject_is_equal(): numbers by value, objects by keys, arrays in order. */
bool qdict_value_equal(json_t *a, json_t *b);

/* qobject_to_json(): QEMU's compact JSON text ({"a": 1, "b": [2, 3]}),
 * objects in QDict iteration order, appended to OUT. */
void qdict_to_json(BgBuf *out, json_t *v);

/*
 * QemuOpts' view of a value (qemu_opts_from_qdict_entry): the string a
 * QemuOpt keeps for it ("on"/"off" for booleans, decimal for numbers), or
 * NULL for objects, arrays and null.  Owned.
 */
char *qdict_opt_string(json_t *v);

#endif
