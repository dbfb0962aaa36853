/*
 * qdict.c: QEMU QDict semantics on jansson objects (see qdict.h).
 *
 * Mirrors QEMU 7.2 qobject/qdict.c (tdb_hash, bucket iteration,
 * qdict_join, qdict_copy_default, qdict_set_default_str), block/qdict.c
 * (qdict_flatten_qdict/qlist, qdict_extract_subqdict), qobject/qjson.c and
 * qobject/json-writer.c (to_json, quoted_str) and qobject/qnum.c
 * (qnum_is_equal, qnum_to_string).
 */
#include "qdict.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned qdict_bucket(const char *name)
{
    unsigned value, i;
    for (value = 0x238F13AFu * (unsigned)strlen(name), i = 0; name[i]; i++)
        value = value + ((unsigned)((const unsigned char *)name)[i] << (i * 5 % 24));
    return (1103515243u * value + 12345u) % QDICT_BUCKET_MAX;
}

typedef struct OrderEntry {
    const char *key;
    unsigned bucket;
    size_t seq;          /* insertion position in the jansson object */
} OrderEntry;

static int order_cmp(const void *pa, const void *pb)
{
    const OrderEntry *a = pa, *b = pb;
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    /* newest first within a bucket */
    return a->seq > b->seq ? -1 : a->seq < b->seq ? 1 : 0;
}

const char **qdict_order(json_t *d, size_t *n)
{
    size_t count = json_object_size(d), i = 0;
    /* Speed: one block, the array returned and behind it the entries sorted
     * (every open orders a dict several times; each allocation counts under
     * ASan) */
    const char **keys = bg_malloc((count + 1) * sizeof(*keys) + count * sizeof(OrderEntry));
    OrderEntry *e = (OrderEntry *)(keys + count + 1);
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v) {
        e[i].key = key;
        e[i].bucket = qdict_bucket(key);
        e[i].seq = i;
        i++;
    }
    qsort(e, count, sizeof(*e), order_cmp);
    for (i = 0; i < count; i++)
        keys[i] = e[i].key;
    keys[count] = NULL;
    if (n)
        *n = count;
    return keys;
}

const char *qdict_first_key(json_t *d)
{
    const char *best = NULL, *key;
    unsigned best_bucket = QDICT_BUCKET_MAX;
    json_t *v;
    /* Later keys of the same bucket are newer: >= keeps the last one. */
    json_object_foreach(d, key, v) {
        unsigned b = qdict_bucket(key);
        if (b <= best_bucket) {
            best = key;
            best_bucket = b;
        }
    }
    return best;
}

json_t *qdict_clone(json_t *d)
{
    /* qdict_clone_shallow() walks the buckets, each from its newest entry,
     * and inserts each at the head of its bucket: the copy holds keys that
     * share a bucket in the opposite order (a json: file name shows it) */
    size_t n;
    const char **keys = qdict_order(d, &n);
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set(out, keys[i], json_object_get(d, keys[i]));
    free(keys);
    return out;
}

const char *qdict_get_str(json_t *d, const char *key)
{
    return json_string_value(json_object_get(d, key));
}

void qdict_set_default_str(json_t *d, const char *key, const char *val)
{
    if (!json_object_get(d, key))
        json_object_set_new(d, key, json_string(val));
}

void qdict_copy_default(json_t *dst, json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (v && !json_object_get(dst, key))
        json_object_set(dst, key, v);
}

void qdict_join(json_t *dest, json_t *src, bool overwrite)
{
    size_t n, nd = 0;
    const char **keys = qdict_order(src, &n);
    for (size_t i = 0; i < n; i++) {
        if (overwrite || !json_object_get(dest, keys[i])) {
            json_object_set(dest, keys[i], json_object_get(src, keys[i]));
            keys[nd++] = keys[i];
        }
    }
    for (size_t i = 0; i < nd; i++)
        json_object_del(src, keys[i]);   /* src's own key: see qdict_extract_subqdict() */
    free(keys);
}

void qdict_extract_subqdict(json_t *src, json_t **dst, const char *prefix)
{
    size_t plen = strlen(prefix), n;
    json_t *out = dst ? json_object() : NULL;
    const char **keys = qdict_order(src, &n);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(keys[i], prefix, plen) != 0)
            continue;
        if (out)
            json_object_set(out, keys[i] + plen, json_object_get(src, keys[i]));
        keys[nd++] = keys[i];
    }
    /* Each key is its entry's own (jansson allocates them together): it
     * stays valid until that entry goes, as json_object_foreach_safe()
     * deletes (Speed: no copies). */
    for (size_t i = 0; i < nd; i++)
        json_object_del(src, keys[i]);
    free(keys);
    if (dst)
        *dst = out;
}

/* ---- flatten (block/qdict.c) -------------------------------------------------- */

static void flatten_list(json_t *list, json_t *target, const char *prefix);

static void flatten_object(json_t *obj, json_t *target, const char *prefix)
{
    size_t n;
    /* Work on a snapshot of the values: deleting from obj (root level) and
     * setting flattened keys in it must not disturb it.  Keys stay valid
     * until their own entry is deleted (qdict_order()): no copies. */
    const char **keys = qdict_order(obj, &n);
    json_t **vs = bg_calloc(n + 1, sizeof(*vs));
    for (size_t i = 0; i < n; i++)
        vs[i] = json_incref(json_object_get(obj, keys[i]));
    for (size_t i = 0; i < n; i++) {
        char *joined = prefix ? bg_asprintf("%s.%s", prefix, keys[i]) : NULL;
        const char *key = joined ? joined : keys[i];
        json_t *v = vs[i];
        if (json_is_object(v) && json_object_size(v)) {
            flatten_object(v, target, key);
            if (target == obj)
                json_object_del(obj, keys[i]);
        } else if (json_is_array(v) && json_array_size(v)) {
            flatten_list(v, target, key);
            if (target == obj)
                json_object_del(obj, keys[i]);
        } else if (target != obj) {
            json_object_set(target, key, v);
        }
        free(joined);
        json_decref(v);
    }
    free(keys);
    free(vs);
}

static void flatten_list(json_t *list, json_t *target, const char *prefix)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        char *key = bg_asprintf("%s.%zu", prefix, i);
        if (json_is_object(v) && json_object_size(v))
            flatten_object(v, target, key);
        else if (json_is_array(v) && json_array_size(v))
            flatten_list(v, target, key);
        else
            json_object_set(target, key, v);
        free(key);
    }
}

void qdict_flatten(json_t *d)
{
    flatten_object(d, d, NULL);
}

json_t *qdict_unflatten(json_t *d)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v) {
        json_t *cur = out;
        const char *p = key;
        const char *dot;
        while ((dot = strchr(p, '.'))) {
            char *part = bg_strndup(p, (size_t)(dot - p));
            json_t *next = json_object_get(cur, part);
            if (!json_is_object(next)) {
                next = json_object();
                json_object_set_new(cur, part, next);
            }
            free(part);
            cur = next;
            p = dot + 1;
        }
        json_object_set(cur, p, v);
    }
    return out;
}

bool qdict_value_equal(json_t *a, json_t *b)
{
    if (!a || !b)
        return a == b;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *va;
        json_object_foreach(a, k, va) {
            if (!qdict_value_equal(va, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!qdict_value_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* ---- JSON text (qobject/json-writer.c) ----------------------------------------- */

/* One UTF-8 code point (mod_utf8_codepoint, simplified): -1 when invalid. */
static int codepoint(const unsigned char *s, const unsigned char **end)
{
    unsigned c = s[0];
    int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
              : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len) {
        *end = s + 1;
        return -1;
    }
    unsigned cp = len == 1 ? c : c & (0x7fu >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *end = s + i;
            return -1;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    *end = s + len;
    return (int)cp;
}

static void quoted(BgBuf *out, const char *str)
{
    bg_buf_puts(out, "\"");
    const unsigned char *p = (const unsigned char *)str, *end;
    while (*p) {
        int cp = codepoint(p, &end);
        p = end;
        switch (cp) {
        case '"': bg_buf_puts(out, "\\\""); break;
        case '\\': bg_buf_puts(out, "\\\\"); break;
        case '\b': bg_buf_puts(out, "\\b"); break;
        case '\f': bg_buf_puts(out, "\\f"); break;
        case '\n': bg_buf_puts(out, "\\n"); break;
        case '\r': bg_buf_puts(out, "\\r"); break;
        case '\t': bg_buf_puts(out, "\\t"); break;
        default:
            if (cp < 0)
                cp = 0xfffd;
            if (cp > 0xffff) {
                bg_buf_printf(out, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
                              0xdc00 + ((cp - 0x10000) & 0x3ff));
            } else if (cp < 0x20 || cp >= 0x7f) {
                bg_buf_printf(out, "\\u%04X", cp);
            } else {
                char c = (char)cp;
                bg_buf_append(out, &c, 1);
            }
        }
    }
    bg_buf_puts(out, "\"");
}

void qdict_to_json(BgBuf *out, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n;
        const char **keys = qdict_order(v, &n);
        bg_buf_puts(out, "{");
        for (size_t i = 0; i < n; i++) {
            if (i)
                bg_buf_puts(out, ", ");
            quoted(out, keys[i]);
            bg_buf_puts(out, ": ");
            qdict_to_json(out, json_object_get(v, keys[i]));
        }
        bg_buf_puts(out, "}");
        free(keys);
        break;
    }
    case JSON_ARRAY: {
        bg_buf_puts(out, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                bg_buf_puts(out, ", ");
            qdict_to_json(out, json_array_get(v, i));
        }
        bg_buf_puts(out, "]");
        break;
    }
    case JSON_STRING:
        quoted(out, json_string_value(v));
        break;
    case JSON_INTEGER:
        bg_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        bg_buf_printf(out, "%.17g", json_real_value(v));
        break;
    case JSON_TRUE:
        bg_buf_puts(out, "true");
        break;
    case JSON_FALSE:
        bg_buf_puts(out, "false");
        break;
    case JSON_NULL:
        bg_buf_puts(out, "null");
        break;
    }
}

char *qdict_opt_string(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return bg_strdup(json_string_value(v));
    case JSON_INTEGER:
        return bg_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL:
        return bg_asprintf("%.17g", json_real_value(v));
    case JSON_TRUE:
        return bg_strdup("on");
    case JSON_FALSE:
        return bg_strdup("off");
    default:
        return NULL;
    }
}
