/*
 * qapi.c: QAPI input validation (see qapi.h).
 *
 * Mirrors QEMU 7.2 qapi/qobject-input-visitor.c (qobject_input_get_object,
 * start_struct "expected: object", start_list "expected: array",
 * type_int64 "integer", type_uint64 "uint64", type_bool "boolean",
 * type_str "string", check_struct "is unexpected", full_name()),
 * qapi/qapi-visit-core.c (input_type_enum, visit_type_intN range texts) and
 * the generated visitors of qapi/block-core.json (alternates: "Invalid
 * parameter type for 'NAME', expected: BlockdevRef").
 *
 * Unknown members: QEMU reports the first key left in the visitor's
 * GHashTable (qobject_input_push() inserts the keys in QDict order,
 * qobject_input_try_get_object() removes each visited one); ghash_first_left()
 * replays GLib's GHashTable (g_str_hash, open addressing, resizes) to find it.
 */
#include "qapi.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "messages.h"
#include "nodedrv.h"
#include "options.def"   /* no X-macro defined: the BG_ENUM_* strings */
#include "optab.h"
#include "qdict.h"

typedef enum Kind {
    K_STR, K_BOOL, K_INT, K_INT32, K_UINT64, K_ENUM, K_STRUCT, K_LIST, K_REF, K_REF_NULL,
    K_OVERLAP, K_QCOW2_ENC, K_OPTIONS,
} Kind;

typedef struct QMem QMem;
typedef struct QType {
    Kind kind;
    const char *enums;       /* K_ENUM */
    const QMem *members;     /* K_STRUCT */
    const struct QType *elem;/* K_LIST */
} QType;
struct QMem {
    const char *name;
    const QType *type;
    bool required;
};

/* ---- nested types of qapi/block-core.json that options.def leaves as ANY ------------- */

static const QType t_str = { K_STR, NULL, NULL, NULL };
static const QType t_bool = { K_BOOL, NULL, NULL, NULL };
static const QType t_int = { K_INT, NULL, NULL, NULL };
static const QType t_int32 = { K_INT32, NULL, NULL, NULL };
static const QType t_uint64 = { K_UINT64, NULL, NULL, NULL };
static const QType t_ref = { K_REF, NULL, NULL, NULL };
static const QType t_ref_null = { K_REF_NULL, NULL, NULL, NULL };
static const QType t_ref_list = { K_LIST, NULL, NULL, &t_ref };
static const QType t_overlap = { K_OVERLAP, NULL, NULL, NULL };
static const QType t_qcow2_enc = { K_QCOW2_ENC, NULL, NULL, NULL };

static const QType t_overlap_mode = { K_ENUM, BG_ENUM_OVERLAP_TEMPLATE, NULL, NULL };
static const QMem overlap_flags_members[] = {
    { "template", &t_overlap_mode, false },
#define BG_QCOW2_OVERLAP(NAME) { NAME, &t_bool, false },
#include "options.def"
#undef BG_QCOW2_OVERLAP
    { NULL, NULL, false },
};

/* BlkdebugEvent, '|'-separated (a '|' after the last: no value is empty) */
static const char blkdbg_events[] =
#define BG_BLKDBG_EVENT(NAME) NAME "|"
#include "options.def"
#undef BG_BLKDBG_EVENT
    ;
static const QType t_blkdbg_event = { K_ENUM, blkdbg_events, NULL, NULL };
static const QType t_blkdbg_iotype = { K_ENUM, BG_ENUM_BLKDBG_IOTYPE, NULL, NULL };
static const QMem inject_error_members[] = {
    { "event", &t_blkdbg_event, true },
    { "state", &t_int, false },
    { "iotype", &t_blkdbg_iotype, false },
    { "errno", &t_int, false },
    { "sector", &t_int, false },
    { "once", &t_bool, false },
    { "immediately", &t_bool, false },
    { NULL, NULL, false },
};
static const QType t_inject_error = { K_STRUCT, NULL, inject_error_members, NULL };
static const QType t_inject_error_list = { K_LIST, NULL, NULL, &t_inject_error };
static const QMem set_state_members[] = {
    { "event", &t_blkdbg_event, true },
    { "state", &t_int, false },
    { "new_state", &t_int, true },
    { NULL, NULL, false },
};
static const QType t_set_state = { K_STRUCT, NULL, set_state_members, NULL };
static const QType t_set_state_list = { K_LIST, NULL, NULL, &t_set_state };
/* ThrottleLimits (qapi/block-core.json) and ThrottleGroupProperties
 * (qapi/qom.json, the throttle-group branch of ObjectOptions), in schema
 * order: the group's unstable members are the limits with "x-" before. */
#define THROTTLE_LIMIT_MEMBERS(P)                                                  \
    { P "iops-total", &t_int, false }, { P "iops-total-max", &t_int, false },      \
    { P "iops-total-max-length", &t_int, false }, { P "iops-read", &t_int, false }, \
    { P "iops-read-max", &t_int, false }, { P "iops-read-max-length", &t_int, false }, \
    { P "iops-write", &t_int, false }, { P "iops-write-max", &t_int, false },      \
    { P "iops-write-max-length", &t_int, false }, { P "bps-total", &t_int, false }, \
    { P "bps-total-max", &t_int, false }, { P "bps-total-max-length", &t_int, false }, \
    { P "bps-read", &t_int, false }, { P "bps-read-max", &t_int, false },          \
    { P "bps-read-max-length", &t_int, false }, { P "bps-write", &t_int, false },  \
    { P "bps-write-max", &t_int, false }, { P "bps-write-max-length", &t_int, false }, \
    { P "iops-size", &t_int, false }
static const QMem throttle_limits_members[] = {
    THROTTLE_LIMIT_MEMBERS(""),
    { NULL, NULL, false },
};
static const QType t_throttle_limits = { K_STRUCT, NULL, throttle_limits_members, NULL };
static const QMem throttle_group_members[] = {
    { "qom-type", &t_str, true }, { "id", &t_str, true },
    { "limits", &t_throttle_limits, false },
    THROTTLE_LIMIT_MEMBERS("x-"),
    { NULL, NULL, false },
};
#undef THROTTLE_LIMIT_MEMBERS

static const QType t_perm = { K_ENUM, BG_ENUM_BLOCK_PERMISSION, NULL, NULL };
static const QType t_perm_list = { K_LIST, NULL, NULL, &t_perm };

/* Members options.def types as ANY or as a plain int where the schema is narrower. */
static const struct { const char *driver, *name; const QType *type; } overrides[] = {
    { "qcow2", "overlap-check", &t_overlap },
    { "qcow2", "encrypt", &t_qcow2_enc },
    { "blkdebug", "inject-error", &t_inject_error_list },
    { "blkdebug", "set-state", &t_set_state_list },
    { "blkdebug", "take-child-perms", &t_perm_list },
    { "blkdebug", "unshare-child-perms", &t_perm_list },
    { "blkdebug", "max-transfer", &t_int32 },
    { "blkdebug", "opt-write-zero", &t_int32 },
    { "blkdebug", "max-write-zero", &t_int32 },
    { "blkdebug", "opt-discard", &t_int32 },
    { "blkdebug", "max-discard", &t_int32 },
    { "null-co", "latency-ns", &t_uint64 },
    { "null-aio", "latency-ns", &t_uint64 },
};

/* ---- the visitor -------------------------------------------------------------------- */

typedef struct Visitor {
    BgError *err;
    bool *unsupported;
} Visitor;

/* full_name(): PATH.NAME, or PATH[INDEX] for a list element (name NULL). */
static char *full(const char *path, const char *name)
{
    if (!path || !*path)
        return bg_strdup(name ? name : "");
    return name ? bg_asprintf("%s.%s", path, name) : bg_strdup(path);
}

static bool in_enum(const char *enums, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = enums; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p = bar ? bar + 1 : p + len;
    }
    return false;
}

static bool type_error(Visitor *v, const char *path, const char *name, const char *expected)
{
    char *f = full(path, name);
    bg_error_setf(v->err, BG_MSG_QAPI_INVALID_TYPE, f, expected);
    free(f);
    return false;
}

static json_t *visit(Visitor *v, const char *path, const char *name, json_t *val,
                     const QType *t);
static json_t *visit_options(Visitor *v, const char *path, const char *name, json_t *val);

/* The members of a struct; OUT gets what is present.  VISITED marks keys. */
static bool visit_members(Visitor *v, const char *spath, json_t *d, const QMem *m,
                          json_t *out, json_t *visited)
{
    for (; m->name; m++) {
        json_t *val = json_object_get(d, m->name);
        if (!val) {
            if (m->required) {
                char *f = full(spath, m->name);
                bg_error_setf(v->err, BG_MSG_QAPI_MISSING, f);
                free(f);
                return false;
            }
            continue;
        }
        json_object_set_new(visited, m->name, json_true());
        json_t *o = visit(v, spath, m->name, val, m->type);
        if (!o)
            return false;
        json_object_set_new(out, m->name, o);
    }
    return true;
}

/*
 * GLib ghash.c as QEMU's QAPI input visitor uses it: g_hash_table_new(
 * g_str_hash, g_str_equal), g_hash_table_insert(), g_hash_table_remove()
 * and g_hash_table_iter_next().  Slots are probed quadratically from
 * (hash * 11) % prime_mod[shift]; the table grows or shrinks in
 * g_hash_table_maybe_resize() and rehashes in place (resize_map()); the
 * iteration visits slots in increasing order.
 */
typedef struct GHash {
    unsigned shift, size, mod, mask, nnodes, noccupied;
    unsigned *hashes;           /* 0 unused, 1 tombstone, >= 2 real */
    const char **keys;
} GHash;

static const unsigned ghash_prime_mod[] = {
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
};

static unsigned ghash_str_hash(const char *s)
{
    unsigned h = 5381;
    for (const signed char *p = (const signed char *)s; *p; p++)
        h = (h << 5) + h + (unsigned)*p;
    return h;
}

static void ghash_set_shift(GHash *h, unsigned shift)
{
    h->shift = shift;
    h->size = 1u << shift;
    h->mod = ghash_prime_mod[shift];
    h->mask = h->size - 1;
}

static void ghash_resize(GHash *h)
{
    unsigned old_size = h->size;
    unsigned n = (unsigned)(int)(h->nnodes * 1.333), shift = 0;
    while (n) {
        n >>= 1;
        shift++;
    }
    if (shift < 3)
        shift = 3;
    ghash_set_shift(h, shift);
    unsigned cap = h->size > old_size ? h->size : old_size;
    if (h->size > old_size) {
        h->hashes = bg_realloc(h->hashes, cap * sizeof(*h->hashes));
        h->keys = bg_realloc(h->keys, cap * sizeof(*h->keys));
        for (unsigned i = old_size; i < cap; i++) {
            h->hashes[i] = 0;
            h->keys[i] = NULL;
        }
    }
    unsigned char *placed = bg_calloc(cap, 1);
    for (unsigned i = 0; i < old_size; i++) {
        unsigned node_hash = h->hashes[i];
        if (node_hash < 2) {
            h->hashes[i] = 0;
            continue;
        }
        if (placed[i])
            continue;
        h->hashes[i] = 0;
        const char *key = h->keys[i];
        h->keys[i] = NULL;
        for (;;) {
            unsigned idx = (node_hash * 11u) % h->mod, step = 0;
            while (placed[idx]) {
                step++;
                idx = (idx + step) & h->mask;
            }
            placed[idx] = 1;
            unsigned replaced = h->hashes[idx];
            const char *rkey = h->keys[idx];
            h->hashes[idx] = node_hash;
            h->keys[idx] = key;
            if (replaced < 2)
                break;
            node_hash = replaced;
            key = rkey;
        }
    }
    free(placed);
    h->noccupied = h->nnodes;
}

static void ghash_maybe_resize(GHash *h)
{
    if ((h->size > h->nnodes * 4 && h->size > 8) ||
        h->size <= h->noccupied + h->noccupied / 16)
        ghash_resize(h);
}

/* g_hash_table_lookup_node(): the slot of KEY, or where to insert it (*found false) */
static unsigned ghash_lookup(const GHash *h, const char *key, unsigned hash, bool *found)
{
    unsigned idx = (hash * 11u) % h->mod, step = 0, tomb = 0;
    bool have_tomb = false;
    *found = false;
    while (h->hashes[idx] != 0) {
        if (h->hashes[idx] == hash && strcmp(h->keys[idx], key) == 0) {
            *found = true;
            return idx;
        }
        if (h->hashes[idx] == 1 && !have_tomb) {
            tomb = idx;
            have_tomb = true;
        }
        step++;
        idx = (idx + step) & h->mask;
    }
    return have_tomb ? tomb : idx;
}

static unsigned ghash_hash(const char *key)
{
    unsigned hash = ghash_str_hash(key);
    return hash < 2 ? 2 : hash;
}

static void ghash_insert(GHash *h, const char *key)
{
    unsigned hash = ghash_hash(key);
    bool found;
    unsigned idx = ghash_lookup(h, key, hash, &found);
    if (found)
        return;
    unsigned old = h->hashes[idx];
    h->hashes[idx] = hash;
    h->keys[idx] = key;
    h->nnodes++;
    if (old == 0) {
        h->noccupied++;
        ghash_maybe_resize(h);
    }
}

static void ghash_remove(GHash *h, const char *key)
{
    bool found;
    unsigned idx = ghash_lookup(h, key, ghash_hash(key), &found);
    if (!found)
        return;
    h->hashes[idx] = 1;
    h->keys[idx] = NULL;
    h->nnodes--;
    ghash_maybe_resize(h);
}

/* The key g_hash_table_iter_next() returns first after inserting D's keys in
 * QDict order and removing the VISITED ones in visit order (NULL: none left). */
static const char *ghash_first_left(json_t *d, json_t *visited)
{
    GHash h = { 0 };
    ghash_set_shift(&h, 3);
    h.hashes = bg_calloc(h.size, sizeof(*h.hashes));
    h.keys = bg_calloc(h.size, sizeof(*h.keys));
    size_t n;
    const char **keys = qdict_order(d, &n);
    for (size_t i = 0; i < n; i++)
        ghash_insert(&h, keys[i]);
    const char *k;
    json_t *val;
    json_object_foreach(visited, k, val) {
        ghash_remove(&h, k);
    }
    const char *first = NULL;
    for (unsigned i = 0; i < h.size && !first; i++)
        if (h.hashes[i] >= 2)
            first = h.keys[i];
    free(keys);
    free(h.hashes);
    free(h.keys);
    return first;
}

const char *real_qapi_first_unexpected(json_t *d, json_t *visited)
{
    return ghash_first_left(d, visited);
}

static bool check_struct(Visitor *v, const char *spath, json_t *d, json_t *visited)
{
    const char *left = ghash_first_left(d, visited);
    if (left) {
        char *f = full(spath, left);
        bg_error_setf(v->err, BG_MSG_QAPI_UNEXPECTED, f);
        free(f);
        return false;
    }
    return true;
}

static json_t *visit_struct(Visitor *v, const char *path, const char *name, json_t *val,
                            const QMem *members)
{
    if (!json_is_object(val)) {
        type_error(v, path, name, "object");
        return NULL;
    }
    char *spath = full(path, name);
    json_t *out = json_object(), *visited = json_object();
    bool ok = visit_members(v, spath, val, members, out, visited) &&
              check_struct(v, spath, val, visited);
    free(spath);
    json_decref(visited);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *visit_enum(Visitor *v, const char *path, const char *name, json_t *val,
                          const char *enums)
{
    if (!json_is_string(val)) {
        type_error(v, path, name, "string");
        return NULL;
    }
    if (!in_enum(enums, json_string_value(val))) {
        bg_error_setf(v->err, BG_MSG_QAPI_ENUM_VALUE, name ? name : "null",
                      json_string_value(val));
        return NULL;
    }
    return json_incref(val);
}

static json_t *visit(Visitor *v, const char *path, const char *name, json_t *val,
                     const QType *t)
{
    switch (t->kind) {
    case K_STR:
        if (!json_is_string(val))
            return type_error(v, path, name, "string"), NULL;
        return json_incref(val);
    case K_BOOL:
        if (!json_is_boolean(val))
            return type_error(v, path, name, "boolean"), NULL;
        return json_incref(val);
    case K_INT:
        if (!json_is_integer(val))
            return type_error(v, path, name, "integer"), NULL;
        return json_incref(val);
    case K_INT32:
        if (!json_is_integer(val))
            return type_error(v, path, name, "integer"), NULL;
        if (json_integer_value(val) < INT32_MIN || json_integer_value(val) > INT32_MAX) {
            bg_error_setf(v->err, BG_MSG_QAPI_INVALID_VALUE, name ? name : "null", "int32");
            return NULL;
        }
        return json_incref(val);
    case K_UINT64:
        if (!json_is_integer(val))
            return type_error(v, path, name, "uint64"), NULL;
        return json_incref(val);
    case K_ENUM:
        return visit_enum(v, path, name, val, t->enums);
    case K_STRUCT:
        return visit_struct(v, path, name, val, t->members);
    case K_LIST: {
        if (!json_is_array(val))
            return type_error(v, path, name, "array"), NULL;
        char *lpath = full(path, name);
        json_t *out = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(val, i, e) {
            char *epath = bg_asprintf("%s[%zu]", lpath, i);
            json_t *o = visit(v, epath, NULL, e, t->elem);
            free(epath);
            if (!o) {
                free(lpath);
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, o);
        }
        free(lpath);
        return out;
    }
    case K_REF:
    case K_REF_NULL:
        if (json_is_object(val))
            return visit_options(v, path, name, val);
        if (json_is_string(val) || (t->kind == K_REF_NULL && json_is_null(val)))
            return json_incref(val);
        bg_error_setf(v->err, BG_MSG_QAPI_INVALID_TYPE, name ? name : "null",
                      t->kind == K_REF ? "BlockdevRef" : "BlockdevRefOrNull");
        return NULL;
    case K_OVERLAP:
        if (json_is_object(val))
            return visit_struct(v, path, name, val, overlap_flags_members);
        if (json_is_string(val))
            return visit_enum(v, path, name, val, t_overlap_mode.enums);
        bg_error_setf(v->err, BG_MSG_QAPI_INVALID_TYPE, name ? name : "null",
                      "Qcow2OverlapChecks");
        return NULL;
    case K_QCOW2_ENC: {
        /* union BlockdevQcow2Encryption: format (aes|luks), then key-secret */
        static const QType fmt = { K_ENUM, "aes|luks", NULL, NULL };
        static const QMem base[] = { { "format", &fmt, true }, { NULL, NULL, false } };
        static const QMem variant[] = { { "key-secret", &t_str, false },
                                        { NULL, NULL, false } };
        if (!json_is_object(val))
            return type_error(v, path, name, "object"), NULL;
        char *spath = full(path, name);
        json_t *out = json_object(), *visited = json_object();
        bool ok = visit_members(v, spath, val, base, out, visited) &&
                  visit_members(v, spath, val, variant, out, visited) &&
                  check_struct(v, spath, val, visited);
        free(spath);
        json_decref(visited);
        if (!ok) {
            json_decref(out);
            return NULL;
        }
        return out;
    }
    case K_OPTIONS:
        return visit_options(v, path, name, val);
    }
    return NULL;
}

/* ---- BlockdevOptions from options.def ------------------------------------------------ */

static const QType *row_type(const OptabOpt *o, QType *scratch)
{
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
        if (strcmp(overrides[i].driver, o->driver) == 0 &&
            strcmp(overrides[i].name, o->name) == 0)
            return overrides[i].type;
    switch (o->type) {
    case BG_OT_STR: return &t_str;
    case BG_OT_BOOL: return &t_bool;
    case BG_OT_INT: return &t_int;
    case BG_OT_ENUM:
        scratch->kind = K_ENUM;
        scratch->enums = o->enums;
        return scratch;
    case BG_OT_REF: return &t_ref;
    case BG_OT_REF_NULL: return &t_ref_null;
    case BG_OT_REF_LIST: return &t_ref_list;
    default: return &t_str;
    }
}

/* Visit the rows of DRIVER (a struct's members; "x.y" rows belong to struct x). */
static bool visit_rows(Visitor *v, const char *spath, json_t *d, const char *driver,
                       json_t *out, json_t *visited)
{
    for (size_t i = 0; i < optab_n_opts; i++) {
        const OptabOpt *o = &optab_opts[i];
        if (strcmp(o->driver, driver) != 0 || strchr(o->name, '.'))
            continue;
        if (!*driver && !strcmp(o->name, "driver"))
            continue;   /* visited first by visit_options() */
        json_t *val = json_object_get(d, o->name);
        if (!val) {
            if (o->flags & BG_OF_REQUIRED) {
                char *f = full(spath, o->name);
                bg_error_setf(v->err, BG_MSG_QAPI_MISSING, f);
                free(f);
                return false;
            }
            continue;
        }
        json_object_set_new(visited, o->name, json_true());
        json_t *res;
        if (o->type == BG_OT_STRUCT) {
            /* members are the following "NAME.member" rows */
            QMem mem[16];
            QType scratch[16];
            size_t n = 0, plen = strlen(o->name);
            for (size_t j = i + 1; j < optab_n_opts && n < 15; j++) {
                const OptabOpt *s = &optab_opts[j];
                if (strcmp(s->driver, driver) != 0 || strncmp(s->name, o->name, plen) != 0 ||
                    s->name[plen] != '.')
                    continue;
                mem[n].name = s->name + plen + 1;
                mem[n].type = row_type(s, &scratch[n]);
                mem[n].required = s->flags & BG_OF_REQUIRED;
                n++;
            }
            mem[n].name = NULL;
            res = visit_struct(v, spath, o->name, val, mem);
        } else {
            QType scratch;
            res = visit(v, spath, o->name, val, row_type(o, &scratch));
        }
        if (!res)
            return false;
        json_object_set_new(out, o->name, res);
    }
    return true;
}

static json_t *visit_options(Visitor *v, const char *path, const char *name, json_t *val)
{
    if (!json_is_object(val)) {
        type_error(v, path, name, "object");
        return NULL;
    }
    char *spath = full(path, name);
    json_t *out = json_object(), *visited = json_object();
    bool ok = false;

    /* The base: driver first (an enum over BlockdevDriver), then the others.
     * visit_enum() with the values looked up one by one (Speed: not joined
     * into one string at every visit: each blockdev-add and reopen visits). */
    json_t *drv = json_object_get(val, "driver");
    if (!drv) {
        char *f = full(spath, "driver");
        bg_error_setf(v->err, BG_MSG_QAPI_MISSING, f);
        free(f);
        goto out;
    }
    if (!json_is_string(drv)) {
        type_error(v, spath, "driver", "string");
        goto out;
    }
    if (!real_nodedrv_in_enum(json_string_value(drv))) {
        bg_error_setf(v->err, BG_MSG_QAPI_ENUM_VALUE, "driver", json_string_value(drv));
        goto out;
    }
    json_object_set(out, "driver", drv);
    json_object_set_new(visited, "driver", json_true());
    if (!visit_rows(v, spath, val, "", out, visited))
        goto out;

    const char *dname = json_string_value(drv);
    const char *schema = dname;
    if (!strcmp(dname, "host_device") || !strcmp(dname, "host_cdrom"))
        schema = "file";
    const OptabDriver *od = optab_driver(schema);
    if (!od || (od->flags & BG_DRVF_INTERNAL)) {
        if (v->unsupported)
            *v->unsupported = true;
        goto out;
    }
    ok = visit_rows(v, spath, val, schema, out, visited) && check_struct(v, spath, val, visited);
out:
    free(spath);
    json_decref(visited);
    if (!ok) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *real_qapi_blockdev_options(json_t *args, const char *path, int index,
                                   bool *unsupported, BgError *err)
{
    Visitor v = { .err = err, .unsupported = unsupported };
    if (unsupported)
        *unsupported = false;
    if (path) {
        char *epath = bg_asprintf("%s[%d]", path, index);
        json_t *r = visit_options(&v, epath, NULL, args);
        free(epath);
        return r;
    }
    return visit_options(&v, NULL, NULL, args);
}

json_t *real_qapi_throttle_group(json_t *args, BgError *err)
{
    Visitor v = { .err = err };
    return visit_struct(&v, NULL, NULL, args, throttle_group_members);
}

bool real_qapi_check_struct(json_t *args, const QapiMember *members, BgError *err)
{
    Visitor v = { .err = err };
    json_t *empty = NULL;
    if (!args)
        args = empty = json_object();
    if (!json_is_object(args)) {
        json_decref(empty);
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "null", "object");
    }
    json_t *visited = json_object();
    bool ok = true;
    for (const QapiMember *m = members; ok && m->name; m++) {
        json_t *val = json_object_get(args, m->name);
        if (!val) {
            if (m->required)
                ok = bg_error_setf(err, BG_MSG_QAPI_MISSING, m->name);
            continue;
        }
        json_object_set_new(visited, m->name, json_true());
        QType t = { K_STR, NULL, NULL, NULL };
        if (m->type == QAPI_ANY)
            continue;
        t.kind = m->type == QAPI_STR ? K_STR : m->type == QAPI_BOOL ? K_BOOL
                 : m->type == QAPI_INT ? K_INT : K_ENUM;
        t.enums = m->enums;
        json_t *o = visit(&v, NULL, m->name, val, &t);
        if (!o)
            ok = false;
        json_decref(o);
    }
    if (ok)
        ok = check_struct(&v, NULL, args, visited);
    json_decref(visited);
    json_decref(empty);
    return ok;
}
