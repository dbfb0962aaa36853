/*
 * norm.h: the normalisation rules of streams.md ("Normalisation").
 *
 * Two values that differ only in these ways are equal, in `return` and
 * `error` expectations and when two backends are compared:
 *   1. the scratch directory is written $DIR;
 *   2. the value of every "actual-size" key is ignored (the key must be on
 *      both sides);
 *   3. automatic node names (#block followed by digits) equal each other
 *      wherever they stand in a string;
 *   4. qemu-io's timing line reads "X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)";
 *   5. object keys are unordered, list order matters.
 * Comparison forms are not for display: transcripts use bg_norm_display()
 * (rules 1 and 4), mask actual-size (rule 2: it depends on the host file
 * system, so a transcript writes null) and make auto names stable.
 */
#ifndef BG_NORM_H
#define BG_NORM_H

#include <jansson.h>
#include <stdbool.h>

/* Rule 1: SCRATCH (may be NULL) replaced by "$DIR".  Owned result. */
char *bg_norm_dir(const char *s, const char *scratch);
/* Rule 4 on a text (qemu-io output).  Owned result. */
char *bg_norm_timing(const char *s);
/* Rules 1, 3, 4 on one string: the comparison form.  Owned result. */
char *bg_norm_string(const char *s, const char *scratch);
/* Comparison form of a whole value (rules 1-4; 5 is json_equal's).  New reference;
 * it may share sub-trees with V (bg_json_map_shared()), and so may
 * bg_norm_display()'s: neither is changed in place. */
json_t *bg_norm_json(const json_t *v, const char *scratch);
/* Equal after normalisation. */
bool bg_norm_equal(const json_t *a, const json_t *b, const char *scratch);
/* json_equal(bg_norm_json(A, DA), bg_norm_json(B, DB)), without building
 * either (bg_json_map_equal()). */
bool bg_norm_json_equal(const json_t *a, const char *da, const json_t *b, const char *db);
bool bg_norm_str_equal(const char *a, const char *b, const char *scratch);
/* Texts A and B (scratch directories DA and DB) as JSON strings in comparison
 * form: equal?  A text that is not UTF-8 (no JSON string) may compare
 * unequal here while the strings' absence would not differ. */
bool bg_norm_text_equal(const char *a, const char *da, const char *b, const char *db);
/* Rule 2: the key whose every value is null in comparison and transcript forms. */
#define BG_NORM_MASKED_KEY "actual-size"
/* Display form: rules 1 and 4 (values kept).  New reference. */
json_t *bg_norm_display(const json_t *v, const char *scratch);

#endif
