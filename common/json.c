/*
 * json.c: jansson helpers (json.h).
 */
#include "json.h"

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "bg.h"

json_t *bg_json_path_get(json_t *root, const char *path)
{
    json_t *v = root;
    const char *p = path;
    while (v && *p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char *seg = bg_strndup(p, n);
        if (json_is_object(v)) {
            v = json_object_get(v, seg);
        } else if (json_is_array(v)) {
            char *end;
            errno = 0;
            unsigned long idx = strtoul(seg, &end, 10);
            if (n == 0 || *end || errno || seg[0] == '-' || seg[0] == '+')
                v = NULL;
            else
                v = json_array_get(v, idx);
        } else {
            v = NULL;
        }
        free(seg);
        p += n;
        if (*p == '/')
            p++;
    }
    return v;
}

int bg_json_depth(const json_t *v)
{
    int max = 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c) {
            int d = bg_json_depth(c);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            int d = bg_json_depth(c);
            if (d > max)
                max = d;
        }
        return max + 1;
    }
    return 0;
}

/* The string V through FN: V itself (a reference more) when FN keeps it. */
static json_t *map_string(const json_t *v, BgJsonStrFn fn, void *opaque)
{
    char *s = fn(json_string_value(v), opaque);
    if (!s)   /* the same text: shared, as nothing sets a string in place */
        return json_incref((json_t *)v);
    json_t *r = json_string(s);
    free(s);
    return r ? r : json_incref((json_t *)v);   /* not valid UTF-8 after mapping: the original */
}

/*
 * bg_json_map_strings() and, with SHARE, bg_json_map_shared(): with SHARE a
 * container is made only once a member differs from V's, and then holds V's
 * members before that one (references more) in V's order, so that its
 * members iterate as a full copy's would.
 */
static json_t *map(const json_t *v, BgJsonStrFn fn, void *opaque, bool share,
                   const char *null_key)
{
    if (json_is_string(v))
        return map_string(v, fn, opaque);
    if (json_is_object(v)) {
        json_t *r = share ? NULL : json_object();
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            const char *k = json_object_iter_key(it);
            json_t *c = json_object_iter_value(it);
            json_t *m = map(c, fn, opaque, share, null_key);
            if (null_key && strcmp(k, null_key) == 0) {
                json_decref(m);   /* mapped all the same: FN may count what it sees */
                m = json_null();
            }
            if (!r) {
                if (m == c) {
                    json_decref(m);
                    continue;
                }
                r = json_object();
                for (void *j = json_object_iter((json_t *)v); j != it;
                     j = json_object_iter_next((json_t *)v, j))
                    json_object_set(r, json_object_iter_key(j), json_object_iter_value(j));
            }
            json_object_set_new(r, k, m);
        }
        return r ? r : json_incref((json_t *)v);
    }
    if (json_is_array(v)) {
        json_t *r = share ? NULL : json_array();
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            json_t *m = map(c, fn, opaque, share, null_key);
            if (!r) {
                if (m == c) {
                    json_decref(m);
                    continue;
                }
                r = json_array();
                for (size_t j = 0; j < i; j++)
                    json_array_append(r, json_array_get(v, j));
            }
            json_array_append_new(r, m);
        }
        return r ? r : json_incref((json_t *)v);
    }
    return json_incref((json_t *)v);   /* numbers, true, false, null: shared likewise */
}

json_t *bg_json_map_strings(const json_t *v, BgJsonStrFn fn, void *opaque)
{
    return map(v, fn, opaque, false, NULL);
}

json_t *bg_json_map_shared(const json_t *v, BgJsonStrFn fn, void *opaque, const char *null_key)
{
    return map(v, fn, opaque, true, null_key);
}

/* Is S (LEN bytes) UTF-8 as json_string() accepts it (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF, no NUL)? */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (c == 0 || n == 4 || c == 0xc0 || c == 0xc1 || (n && i + n >= len))
            return false;
        uint32_t u = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            u = (u << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && u < 0x800) || (n == 3 && u < 0x10000) || u > 0x10ffff ||
            (u >= 0xd800 && u <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

/* The text map_string() would give the string V: *OWNED when FN rewrote it. */
static const char *mapped_text(const json_t *v, BgJsonStrFn fn, void *opaque, char **owned,
                               size_t *len)
{
    *owned = fn(json_string_value(v), opaque);
    if (*owned && utf8_valid((const unsigned char *)*owned, strlen(*owned))) {
        *len = strlen(*owned);
        return *owned;
    }
    free(*owned);               /* kept, or not valid UTF-8 after mapping: the original */
    *owned = NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}

bool bg_json_map_equal(const json_t *a, BgJsonStrFn fa, void *oa, const json_t *b,
                       BgJsonStrFn fb, void *ob, const char *null_key)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_string(a)) {
        char *ma, *mb;
        size_t la, lb;
        const char *ta = mapped_text(a, fa, oa, &ma, &la);
        const char *tb = mapped_text(b, fb, ob, &mb, &lb);
        bool eq = la == lb && memcmp(ta, tb, la) == 0;
        free(ma);
        free(mb);
        return eq;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *ca;
        json_object_foreach((json_t *)a, k, ca) {
            json_t *cb = json_object_get(b, k);
            if (!cb)
                return false;
            if (null_key && strcmp(k, null_key) == 0)
                continue;                    /* null on both sides */
            if (!bg_json_map_equal(ca, fa, oa, cb, fb, ob, null_key))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!bg_json_map_equal(json_array_get(a, i), fa, oa, json_array_get(b, i), fb, ob,
                                   null_key))
                return false;
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);   /* numbers, true, false, null */
}

bool bg_json_has_substring(const json_t *v, const char *needle)
{
    if (json_is_string(v))
        return strstr(json_string_value(v), needle) != NULL;
    const char *k;
    json_t *c;
    size_t i;
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, c)
            if (bg_json_has_substring(c, needle))
                return true;
    if (json_is_array(v))
        json_array_foreach(v, i, c)
            if (bg_json_has_substring(c, needle))
                return true;
    return false;
}

char *bg_json_dumps(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s)
        abort();
    return s;
}

bool bg_json_match(const json_t *pattern, const json_t *v)
{
    if (json_is_object(pattern)) {
        if (!json_is_object(v))
            return false;
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)pattern, k, c) {
            if (!bg_json_match(c, json_object_get(v, k)))
                return false;
        }
        return true;
    }
    return v && json_equal((json_t *)pattern, (json_t *)v);
}

const char *bg_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}
