/*
 * json.h: small jansson helpers used across the project (prefix bg_json_).
 *
 * Paths are assert_qmp's: "a/b/0" walks object keys and array indexes.
 * Output is canonical: compact, keys sorted, so the same value always
 * prints the same bytes (transcripts must be byte-identical run to run).
 */
#ifndef BG_JSON_H
#define BG_JSON_H

#include <jansson.h>
#include <stdbool.h>

/* Borrowed value at PATH under ROOT, or NULL when the path does not exist. */
json_t *bg_json_path_get(json_t *root, const char *path);

/* Nesting depth: a scalar is 0, [] and {} are 1. */
int bg_json_depth(const json_t *v);

/* Deep copy in which every string (values, not keys) goes through fn.
 * Objects and arrays are new; a string fn leaves as it is (fn returns NULL)
 * and the other scalars are the input's, shared (a reference more): nobody
 * sets a jansson scalar in place, so the copy is as good as a deep one and
 * costs no allocation per leaf (the runner maps every step's values). */
typedef char *(*BgJsonStrFn)(const char *s, void *opaque);   /* owned string, or NULL: unchanged */
json_t *bg_json_map_strings(const json_t *v, BgJsonStrFn fn, void *opaque);
/* The same value, but a sub-tree in which no string changes is V's own (a
 * reference more), and with NULL_KEY (may be NULL) the value of every object
 * member of that name is null (its strings still go through fn).  Nothing
 * is copied for a value that stays as it is (the runner normalises every
 * result); the caller changes neither V nor the result in place. */
json_t *bg_json_map_shared(const json_t *v, BgJsonStrFn fn, void *opaque, const char *null_key);
/* Would bg_json_map_shared(A, FA, OA, NULL_KEY) and bg_json_map_shared(B,
 * FB, OB, NULL_KEY) be json_equal()?  Answered in one walk of both, without
 * building either: only a string FA or FB rewrites is made, and freed (the
 * runner compares every result; a query's whole tree holds the scratch
 * path, so the mapped copies were most of a query's allocations).  FA and
 * FB must have no side effect: unlike the mapping, this walk does not pass
 * NULL_KEY's values through them. */
bool bg_json_map_equal(const json_t *a, BgJsonStrFn fa, void *oa, const json_t *b,
                       BgJsonStrFn fb, void *ob, const char *null_key);
/* Does a string value anywhere in V (not a key) contain NEEDLE? */
bool bg_json_has_substring(const json_t *v, const char *needle);

/* Canonical one-line text (owned). */
char *bg_json_dumps(const json_t *v);

/* True when every key of PATTERN matches V recursively (iotests event_match). */
bool bg_json_match(const json_t *pattern, const json_t *v);

/* Name of a JSON type for messages ("string", "object", ...). */
const char *bg_json_type_name(const json_t *v);

#endif
