/*
 * norm.c: normalisation of values and texts (norm.h).
 *
 * The timing-line rule is iotests' filter_qemu_io() (tests/qemu-iotests/
 * iotests.py): qemu-io prints "1 MiB, 1 ops; 00.00 sec (15.2 GiB/sec and
 * 15627.6 ops/sec)" and only the "1 MiB, " part is kept.
 */
#include "norm.h"

#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "json.h"

#define TIMING_RE "[0-9]* ops; [0-9/:. sec]* \\([0-9/.inf]* [EPTGMKiBbytes]*/sec and [0-9/.inf]* ops/sec\\)"
#define TIMING_TEXT "X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)"

char *bg_norm_dir(const char *s, const char *scratch)
{
    size_t n = scratch ? strlen(scratch) : 0;
    if (!n)
        return bg_strdup(s);
    BgBuf b = {0};
    for (;;) {
        const char *hit = strstr(s, scratch);
        if (!hit)
            break;
        bg_buf_append(&b, s, (size_t)(hit - s));
        bg_buf_puts(&b, "$DIR");
        s = hit + n;
    }
    bg_buf_puts(&b, s);
    return bg_buf_take(&b);
}

static const regex_t *timing_re(void)
{
    /* Compiled once; read-only afterwards, so it holds no run-to-run state. */
    static regex_t re;
    static int ready;
    if (!ready) {
        if (regcomp(&re, TIMING_RE, REG_EXTENDED) != 0)
            abort();
        ready = 1;
    }
    return &re;
}

char *bg_norm_timing(const char *s)
{
    if (!strstr(s, " ops"))
        return bg_strdup(s);
    BgBuf b = {0};
    regmatch_t m;
    while (regexec(timing_re(), s, 1, &m, 0) == 0) {
        if (m.rm_eo == m.rm_so) {   /* empty match: copy one byte and go on */
            if (!*s)
                break;
            bg_buf_append(&b, s, 1);
            s++;
            continue;
        }
        bg_buf_append(&b, s, (size_t)m.rm_so);
        bg_buf_puts(&b, TIMING_TEXT);
        s += m.rm_eo;
    }
    bg_buf_puts(&b, s);
    return bg_buf_take(&b);
}

/* Rule 3: "#block" followed by digits becomes "#block". */
static char *norm_auto_names(const char *s)
{
    BgBuf b = {0};
    for (;;) {
        const char *hit = strstr(s, "#block");
        if (!hit)
            break;
        const char *d = hit + 6;
        bg_buf_append(&b, s, (size_t)(d - s));
        while (*d >= '0' && *d <= '9')
            d++;
        s = d;
    }
    bg_buf_puts(&b, s);
    return bg_buf_take(&b);
}

char *bg_norm_string(const char *s, const char *scratch)
{
    char *a = bg_norm_dir(s, scratch);
    if (strstr(a, "#block")) {   /* rules 3 and 4 copy only a text they rewrite */
        char *b = norm_auto_names(a);
        free(a);
        a = b;
    }
    if (strstr(a, " ops")) {
        char *c = bg_norm_timing(a);
        free(a);
        a = c;
    }
    return a;
}

/* Whether rule 1 (the scratch path) or the timing rule can touch S. */
static bool may_hold_dir_or_timing(const char *s, const char *scratch)
{
    return (scratch && *scratch && strstr(s, scratch)) || strstr(s, " ops");
}

/* Is S its own comparison form (rules 1, 3, 4 find nothing to rewrite)? */
static bool norm_keeps(const char *s, const char *scratch)
{
    return !may_hold_dir_or_timing(s, scratch) && !strstr(s, "#block");
}

static char *norm_string_fn(const char *s, void *opaque)
{
    if (norm_keeps(s, opaque))
        return NULL;   /* nothing to rewrite: bg_json_map_shared keeps S */
    return bg_norm_string(s, opaque);
}

json_t *bg_norm_json(const json_t *v, const char *scratch)
{
    /* rule 2 in the same walk: a value that needs no rewriting is not copied */
    return bg_json_map_shared(v, norm_string_fn, (void *)scratch, BG_NORM_MASKED_KEY);
}

bool bg_norm_equal(const json_t *a, const json_t *b, const char *scratch)
{
    return a && b ? bg_norm_json_equal(a, scratch, b, scratch) : a == b;
}

bool bg_norm_json_equal(const json_t *a, const char *da, const json_t *b, const char *db)
{
    return bg_json_map_equal(a, norm_string_fn, (void *)da, b, norm_string_fn, (void *)db,
                             BG_NORM_MASKED_KEY);
}

bool bg_norm_text_equal(const char *a, const char *da, const char *b, const char *db)
{
    /* most texts: no JSON string, no copy */
    if (norm_keeps(a, da) && norm_keeps(b, db))
        return strcmp(a, b) == 0;
    /* Rule 4 alone (qemu-io's output) rewrites runs of ASCII bytes into
     * ASCII text, so its result is UTF-8 exactly when the text is: as a JSON
     * string it would hold the same bytes. */
    bool a4 = !((da && *da && strstr(a, da)) || strstr(a, "#block"));
    bool b4 = !((db && *db && strstr(b, db)) || strstr(b, "#block"));
    if (a4 && b4) {
        char *ta = bg_norm_timing(a), *tb = bg_norm_timing(b);
        bool eq = strcmp(ta, tb) == 0;
        free(ta);
        free(tb);
        return eq;
    }
    json_t *ja = json_string(a), *jb = json_string(b);
    json_t *na = bg_norm_json(ja, da), *nb = bg_norm_json(jb, db);
    bool eq = ja && jb && json_equal(na, nb);
    json_decref(na);
    json_decref(nb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}

bool bg_norm_str_equal(const char *a, const char *b, const char *scratch)
{
    if (!a || !b)
        return a == b;
    char *na = bg_norm_string(a, scratch);
    char *nb = bg_norm_string(b, scratch);
    bool eq = strcmp(na, nb) == 0;
    free(na);
    free(nb);
    return eq;
}

static char *display_fn(const char *s, void *opaque)
{
    if (!may_hold_dir_or_timing(s, opaque))
        return NULL;
    char *a = bg_norm_dir(s, opaque);
    char *b = bg_norm_timing(a);
    free(a);
    return b;
}

json_t *bg_norm_display(const json_t *v, const char *scratch)
{
    return bg_json_map_shared(v, display_fn, (void *)scratch, NULL);
}
