/*
 * model_qdict.c: QEMU's QDict as far as its iteration order shows.
 *
 * What this is: a flat ordered dictionary with QEMU's observable order.
 * QDict (qobject/qdict.c) hashes a key into one of 512 buckets with
 * tdb_hash(); iteration goes through the buckets in increasing order, and
 * within a bucket from the newest entry to the oldest (QLIST_INSERT_HEAD);
 * replacing a value keeps the entry where it is.  That order decides which
 * key "Cannot change the option" and "cannot be reset" name, and the member
 * order of json:{...} filenames.  Plus the block layer's helpers
 * (qobject/block-qdict.c): flatten, extract_subqdict, join, copy_default.
 * What it is not: a hash table; lookups are linear scans.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define QDICT_BUCKET_MAX 512

/* qobject/qdict.c tdb_hash() */
unsigned model_qdict_bucket(const char *name)
{
    unsigned value, i;
    for (value = 0x238F13AFu * (unsigned)strlen(name), i = 0; name[i]; i++)
        value = value + ((unsigned)(unsigned char)name[i] << (i * 5 % 24));
    return (1103515243u * value + 12345u) % QDICT_BUCKET_MAX;
}

/* An entry's key is shared by the entries that clones and copies of it make
 * (the world is copied for every command, and each node's dicts with it): a
 * counted string, ModelQDictEntry.key pointing at its text. */
typedef struct Key {
    size_t ref;
    char text[];
} Key;

static Key *key_of(char *text)
{
    return (Key *)(text - offsetof(Key, text));
}

static char *key_new(const char *s)
{
    size_t len = strlen(s) + 1;
    Key *k = bg_malloc(sizeof(*k) + len);
    k->ref = 1;
    memcpy(k->text, s, len);
    return k->text;
}

static char *key_ref(char *text)
{
    key_of(text)->ref++;
    return text;
}

static void key_unref(char *text)
{
    if (--key_of(text)->ref == 0)
        free(key_of(text));
}

ModelQDict *model_qdict_new(void)
{
    return bg_calloc(1, sizeof(ModelQDict));
}

void model_qdict_free(ModelQDict *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        key_unref(d->e[i].key);
        json_decref(d->e[i].val);
    }
    free(d->e);
    free(d);
}

ModelQDict *model_qdict_copy(const ModelQDict *d)
{
    ModelQDict *c = model_qdict_new();
    c->next_seq = d->next_seq;
    c->cap = d->n + 1;
    c->e = bg_calloc(c->cap, sizeof(*c->e));
    for (size_t i = 0; i < d->n; i++) {
        c->e[i] = d->e[i];
        key_ref(c->e[i].key);
        json_incref(c->e[i].val);
    }
    c->n = d->n;
    return c;
}

static ModelQDictEntry *find(const ModelQDict *d, const char *key)
{
    for (size_t i = 0; d && i < d->n; i++)
        if (strcmp(d->e[i].key, key) == 0)
            return &d->e[i];
    return NULL;
}

json_t *model_qdict_get(const ModelQDict *d, const char *key)
{
    ModelQDictEntry *e = find(d, key);
    return e ? e->val : NULL;
}

const char *model_qdict_get_str(const ModelQDict *d, const char *key)
{
    return json_string_value(model_qdict_get(d, key));
}

bool model_qdict_has(const ModelQDict *d, const char *key)
{
    return find(d, key) != NULL;
}

/* model_qdict_put(); a new entry shares SHARED_KEY (KEY's text, another
 * entry's key) if given, else gets a key of its own. */
static void put(ModelQDict *d, const char *key, char *shared_key, json_t *take_val)
{
    ModelQDictEntry *e = find(d, key);
    if (e) {                       /* qdict_put_obj(): replace in place */
        json_decref(e->val);
        e->val = take_val;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->e = bg_realloc(d->e, d->cap * sizeof(*d->e));
    }
    d->e[d->n++] = (ModelQDictEntry){ shared_key ? key_ref(shared_key) : key_new(key), take_val,
                                      ++d->next_seq, model_qdict_bucket(key) };
}

void model_qdict_put(ModelQDict *d, const char *key, json_t *take_val)
{
    put(d, key, NULL, take_val);
}

void model_qdict_put_str(ModelQDict *d, const char *key, const char *s)
{
    model_qdict_put(d, key, json_string(s));
}

void model_qdict_set_default_str(ModelQDict *d, const char *key, const char *s)
{
    if (!model_qdict_has(d, key))
        model_qdict_put_str(d, key, s);
}

void model_qdict_copy_default(ModelQDict *dst, const ModelQDict *src, const char *key)
{
    json_t *v = model_qdict_get(src, key);
    if (!model_qdict_has(dst, key) && v)
        model_qdict_put(dst, key, json_incref(v));
}

bool model_qdict_del(ModelQDict *d, const char *key)
{
    ModelQDictEntry *e = find(d, key);
    if (!e)
        return false;
    size_t i = (size_t)(e - d->e);
    key_unref(e->key);
    json_decref(e->val);
    memmove(&d->e[i], &d->e[i + 1], (d->n - i - 1) * sizeof(*d->e));
    d->n--;
    return true;
}

/* Iteration order: by bucket, newest first within one. */
static int cmp_entry(const void *a, const void *b)
{
    const ModelQDictEntry *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return x->seq > y->seq ? -1 : x->seq < y->seq ? 1 : 0;
}

static const ModelQDict *sort_dict;

static int cmp_order(const void *a, const void *b)
{
    return cmp_entry(&sort_dict->e[*(const size_t *)a], &sort_dict->e[*(const size_t *)b]);
}

/* Entry indexes in iteration order (owned array). */
static size_t *order_idx(const ModelQDict *d)
{
    size_t *idx = bg_malloc((d->n + 1) * sizeof(*idx));
    for (size_t i = 0; i < d->n; i++)
        idx[i] = i;
    sort_dict = d;
    qsort(idx, d->n, sizeof(*idx), cmp_order);
    sort_dict = NULL;
    return idx;
}

const char **model_qdict_order(const ModelQDict *d, size_t *n)
{
    size_t *idx = order_idx(d);
    const char **keys = bg_malloc((d->n + 1) * sizeof(*keys));
    for (size_t i = 0; i < d->n; i++)
        keys[i] = d->e[idx[i]].key;
    free(idx);
    *n = d->n;
    return keys;
}

/* qdict_clone_shallow(): puts entries in iteration order, which reverses
 * the order of entries that share a bucket. */
ModelQDict *model_qdict_clone(const ModelQDict *d)
{
    if (!d || !d->n)
        return model_qdict_new();
    /* the puts into an empty dict made at once (no sorted index, no key
     * lookups): the entries sorted into iteration order, numbered 1, 2, ... */
    ModelQDict *c = model_qdict_copy(d);
    qsort(c->e, c->n, sizeof(*c->e), cmp_entry);
    for (size_t i = 0; i < c->n; i++)
        c->e[i].seq = i + 1;
    c->next_seq = c->n;
    return c;
}

void model_qdict_extract_sub(ModelQDict *d, ModelQDict **out, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (out) {
        *out = model_qdict_new();
        size_t *idx = order_idx(d);
        for (size_t i = 0; i < d->n; i++) {
            const ModelQDictEntry *e = &d->e[idx[i]];
            if (strncmp(e->key, prefix, plen) == 0)
                model_qdict_put(*out, e->key + plen, json_incref(e->val));
        }
        free(idx);
    }
    /* model_qdict_del() of each, in one pass: the rest keep their order */
    size_t kept = 0;
    for (size_t i = 0; i < d->n; i++) {
        if (strncmp(d->e[i].key, prefix, plen) == 0) {
            key_unref(d->e[i].key);
            json_decref(d->e[i].val);
        } else {
            d->e[kept++] = d->e[i];
        }
    }
    d->n = kept;
}

void model_qdict_join(ModelQDict *dest, const ModelQDict *src)
{
    size_t *idx = order_idx(src);
    for (size_t i = 0; i < src->n; i++) {
        const ModelQDictEntry *e = &src->e[idx[i]];
        if (!model_qdict_has(dest, e->key))
            put(dest, e->key, e->key, json_incref(e->val));
    }
    free(idx);
}

/* The output visitor's dict: members in the order of the JSON object
 * (model_qapi_output() made that the schema order); nested objects stay. */
ModelQDict *model_qdict_from_json(const json_t *obj)
{
    ModelQDict *d = model_qdict_new();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        model_qdict_put(d, k, json_incref(v));
    model_qdict_flatten(d);
    return d;
}

static void flatten_into(const json_t *v, ModelQDict *target, const char *key);

/* Iteration order of a JSON object seen as a QDict built in member order. */
static void flatten_object(const json_t *obj, ModelQDict *target, const char *prefix)
{
    ModelQDict *tmp = model_qdict_new();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        model_qdict_put(tmp, k, json_incref(v));
    size_t *idx = order_idx(tmp);
    for (size_t i = 0; i < tmp->n; i++) {
        char *key = bg_asprintf("%s.%s", prefix, tmp->e[idx[i]].key);
        flatten_into(tmp->e[idx[i]].val, target, key);
        free(key);
    }
    free(idx);
    model_qdict_free(tmp);
}

static void flatten_into(const json_t *v, ModelQDict *target, const char *key)
{
    if (json_is_object(v) && json_object_size(v)) {
        flatten_object(v, target, key);
    } else if (json_is_array(v) && json_array_size(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char *k = bg_asprintf("%s.%zu", key, i);
            flatten_into(e, target, k);
            free(k);
        }
    } else {
        model_qdict_put(target, key, json_incref((json_t *)v));
    }
}

/* qdict_flatten(): nested non-empty dicts and lists become dotted keys. */
void model_qdict_flatten(ModelQDict *d)
{
    size_t *idx = order_idx(d);
    size_t n = d->n;
    char **keys = bg_calloc(n + 1, sizeof(*keys));
    for (size_t i = 0; i < n; i++)
        keys[i] = bg_strdup(d->e[idx[i]].key);
    free(idx);
    for (size_t i = 0; i < n; i++) {
        json_t *v = model_qdict_get(d, keys[i]);
        if ((json_is_object(v) && json_object_size(v)) || (json_is_array(v) && json_array_size(v))) {
            json_incref(v);
            flatten_into(v, d, keys[i]);   /* the container is re-put, then deleted */
            model_qdict_del(d, keys[i]);
            json_decref(v);
        }
        free(keys[i]);
    }
    free(keys);
}

static void json_text(BgBuf *b, const json_t *v);

char *model_qdict_to_json_text(const ModelQDict *d)
{
    BgBuf b = {0};
    bg_buf_puts(&b, "{");
    size_t *idx = order_idx(d);
    for (size_t i = 0; i < d->n; i++) {
        if (i)
            bg_buf_puts(&b, ", ");
        json_t *k = json_string(d->e[idx[i]].key);
        json_text(&b, k);
        json_decref(k);
        bg_buf_puts(&b, ": ");
        json_text(&b, d->e[idx[i]].val);
    }
    free(idx);
    bg_buf_puts(&b, "}");
    return bg_buf_take(&b);
}

/* qobject_to_json(): ", " and ": " separators, dict members in QDict order. */
static void json_text(BgBuf *b, const json_t *v)
{
    if (json_is_object(v)) {
        ModelQDict *tmp = model_qdict_new();
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m)
            model_qdict_put(tmp, k, json_incref(m));
        char *s = model_qdict_to_json_text(tmp);
        bg_buf_puts(b, s);
        free(s);
        model_qdict_free(tmp);
    } else if (json_is_array(v)) {
        bg_buf_puts(b, "[");
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (i)
                bg_buf_puts(b, ", ");
            json_text(b, e);
        }
        bg_buf_puts(b, "]");
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        bg_buf_puts(b, s);
        free(s);
    }
}

bool model_qobject_equal(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return json_equal((json_t *)a, (json_t *)b);
}

char *model_qobject_to_opt_str(const json_t *v)
{
    if (json_is_string(v))
        return bg_strdup(json_string_value(v));
    if (json_is_boolean(v))
        return bg_strdup(json_is_true(v) ? "on" : "off");
    if (json_is_integer(v))
        return bg_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
        return bg_asprintf("%.17g", json_real_value(v));
    return NULL;
}
