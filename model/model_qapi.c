/*
 * model_qapi.c: QAPI input validation of BlockdevOptions, in QEMU's order
 * and wording, and the output visitor's member order.
 *
 * What this is: what the generated visitor visit_type_BlockdevOptions()
 * and qapi/qobject-input-visitor.c check before any block-layer code runs:
 * members in schema order (union base first, then the driver's struct with
 * its base structs first, nested structs and BlockdevRef definitions
 * recursively), a missing required member, a wrong JSON type, a bad enum
 * value, and unknown members only after all known members of that object.
 * The first error wins.  Paths: the full dotted path with list indexes for
 * scalars, structs, missing and unexpected members ("options[0].file.filename");
 * the bare member name for enum values and for alternates (BlockdevRef).
 * What it is not: block-layer checks (model_open.c, model_reopen.c).  The
 * schema itself is data in common/options.def.
 *
 * Mirrors QEMU 7.2.0 qapi/qobject-input-visitor.c (full_name_nth(),
 * qobject_input_get_object(), qobject_input_check_struct(),
 * qobject_input_type_*()), qapi/qapi-visit-core.c input_type_enum(), and the
 * generated qapi-visit-block-core.c.
 */
#include <string.h>

#include "messages.h"
#include "model.h"

static bool visit_options(const json_t *obj, const char *path, BgError *err);

static char *member_path(const char *path, const char *name)
{
    return path[0] ? bg_asprintf("%s.%s", path, name) : bg_strdup(name);
}

static bool type_error(BgError *err, const char *path, const char *name, const char *expected)
{
    char *full = member_path(path, name);
    bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, full, expected);
    free(full);
    return false;
}

/* Is NAME a member of the struct at PREFIX ("" top level, "cache" nested)? */
static bool row_in_struct(const ModelOpt *o, const char *prefix, const char **member)
{
    size_t pl = strlen(prefix);
    if (pl) {
        if (strncmp(o->name, prefix, pl) != 0 || o->name[pl] != '.')
            return false;
        *member = o->name + pl + 1;
    } else {
        *member = o->name;
    }
    return strchr(*member, '.') == NULL;
}

/* The driver whose rows hold DRIVER's branch: in qapi/block-core.json
 * BlockdevOptions' branches host_device and host_cdrom are
 * BlockdevOptionsFile, the struct of `file`. */
static const char *schema_driver(const char *driver)
{
    if (driver && (strcmp(driver, "host_device") == 0 || strcmp(driver, "host_cdrom") == 0))
        return "file";
    return driver;
}

static bool row_of(const ModelOpt *o, const char *driver)
{
    return o->driver[0] == '\0' || (driver && strcmp(o->driver, driver) == 0);
}

static bool visit_ref(const json_t *v, const char *path, const char *name, bool allow_null,
                      BgError *err)
{
    if (json_is_object(v)) {
        char *full = member_path(path, name);
        bool ok = visit_options(v, full, err);
        free(full);
        return ok;
    }
    if (json_is_string(v) || (allow_null && json_is_null(v)))
        return true;
    return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, name ? name : "null",
                         allow_null ? "BlockdevRefOrNull" : "BlockdevRef");
}

static bool visit_member(const ModelOpt *o, const char *member, const json_t *v, const char *path,
                         const char *driver, BgError *err);

/* ---- the complex members options.def leaves to the model (BG_OT_ANY) ------------- */

/* Members of the structs behind BG_OT_ANY rows, in schema order
 * (qapi/block-core.json, crypto.json). */
typedef struct SubMember {
    const char *owner;      /* the struct: "overlap-check", "encrypt", "inject-error", ... */
    const char *name;
    ModelOptType type;      /* BG_OT_STR, BG_OT_BOOL, BG_OT_INT, BG_OT_ENUM */
    bool required;
    const char *enums;
} SubMember;

/* BlkdebugEvent, '|'-separated (a '|' after the last: no value is empty) */
static const char blkdbg_events[] =
#define BG_BLKDBG_EVENT(NAME) NAME "|"
#include "options.def"
#undef BG_BLKDBG_EVENT
    ;

static const SubMember sub_members[] = {
    /* Qcow2OverlapCheckFlags */
    { "overlap-check", "template", BG_OT_ENUM, false, BG_ENUM_OVERLAP_TEMPLATE },
#define BG_QCOW2_OVERLAP(NAME) { "overlap-check", NAME, BG_OT_BOOL, false, NULL },
#include "options.def"
#undef BG_QCOW2_OVERLAP
    /* BlockdevQcow2Encryption: both branches (aes, luks) have one member */
    { "encrypt", "format", BG_OT_ENUM, true, "aes|luks" },
    { "encrypt", "key-secret", BG_OT_STR, false, NULL },
    /* BlkdebugInjectErrorOptions */
    { "inject-error", "event", BG_OT_ENUM, true, blkdbg_events },
    { "inject-error", "state", BG_OT_INT, false, NULL },
    { "inject-error", "iotype", BG_OT_ENUM, false, BG_ENUM_BLKDBG_IOTYPE },
    { "inject-error", "errno", BG_OT_INT, false, NULL },
    { "inject-error", "sector", BG_OT_INT, false, NULL },
    { "inject-error", "once", BG_OT_BOOL, false, NULL },
    { "inject-error", "immediately", BG_OT_BOOL, false, NULL },
    /* BlkdebugSetStateOptions */
    { "set-state", "event", BG_OT_ENUM, true, blkdbg_events },
    { "set-state", "state", BG_OT_INT, false, NULL },
    { "set-state", "new_state", BG_OT_INT, true, NULL },
};

/*
 * qobject_input_check_struct(): the first member of OBJ at PATH that no one
 * visited (TAKEN, N_TAKEN of them; the array is freed here), in the order of
 * the visitor's GHashTable (model_qapi_first_unexpected()), as at top level.
 */
static bool check_unexpected(const json_t *obj, const char *path, const char **taken,
                             size_t n_taken, BgError *err)
{
    const char *k = model_qapi_first_unexpected(obj, (const char *const *)taken, n_taken);
    free(taken);
    if (!k)
        return true;
    char *full = member_path(path, k);
    bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, full);
    free(full);
    return false;
}

/* One struct of OWNER's members at PATH (its own full name). */
static bool visit_sub_struct(const char *owner, const json_t *obj, const char *path, BgError *err)
{
    if (!json_is_object(obj))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, path, "object");
    for (size_t i = 0; i < sizeof(sub_members) / sizeof(sub_members[0]); i++) {
        const SubMember *m = &sub_members[i];
        if (strcmp(m->owner, owner) != 0)
            continue;
        json_t *v = json_object_get(obj, m->name);
        if (!v) {
            if (m->required) {
                char *full = member_path(path, m->name);
                bg_error_setf(err, BG_MSG_QAPI_MISSING, full);
                free(full);
                return false;
            }
            continue;
        }
        if (m->type == BG_OT_STR && !json_is_string(v))
            return type_error(err, path, m->name, "string");
        if (m->type == BG_OT_BOOL && !json_is_boolean(v))
            return type_error(err, path, m->name, "boolean");
        if (m->type == BG_OT_INT && !json_is_integer(v))
            return type_error(err, path, m->name, "integer");
        if (m->type == BG_OT_ENUM) {
            if (!json_is_string(v))
                return type_error(err, path, m->name, "string");
            if (!model_enum_has(m->enums, json_string_value(v)))
                return bg_error_setf(err, BG_MSG_QAPI_ENUM_VALUE, m->name, json_string_value(v));
        }
    }
    const char **taken = bg_calloc(json_object_size(obj) + 1, sizeof(*taken));
    size_t n_taken = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
        for (size_t i = 0; i < sizeof(sub_members) / sizeof(sub_members[0]); i++)
            if (strcmp(sub_members[i].owner, owner) == 0 && strcmp(sub_members[i].name, k) == 0) {
                taken[n_taken++] = k;
                break;
            }
    return check_unexpected(obj, path, taken, n_taken, err);
}

/* A list member of NAME: each element by ELEM (a struct owner, or NULL for
 * the BlockPermission enum). */
static bool visit_sub_list(const char *elem, const json_t *v, const char *path, const char *member,
                           BgError *err)
{
    if (!json_is_array(v))
        return type_error(err, path, member, "array");
    char *full = member_path(path, member);
    size_t i;
    json_t *e;
    bool ok = true;
    json_array_foreach(v, i, e) {
        char *at = bg_asprintf("%s[%zu]", full, i);
        if (elem) {
            ok = visit_sub_struct(elem, e, at, err);
        } else if (!json_is_string(e)) {
            ok = bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, at, "string");
        } else if (!model_enum_has(BG_ENUM_BLOCK_PERMISSION, json_string_value(e))) {
            ok = bg_error_setf(err, BG_MSG_QAPI_ENUM_VALUE, "null", json_string_value(e));
        }
        free(at);
        if (!ok)
            break;
    }
    free(full);
    return ok;
}

/* qcow2 overlap-check (alternate: mode or flags), encrypt (flat union),
 * blkdebug's rule and permission lists. */
static bool visit_complex(const char *name, const char *member, const json_t *v, const char *path,
                          BgError *err)
{
    if (strcmp(name, "overlap-check") == 0) {
        if (json_is_string(v)) {
            if (!model_enum_has(BG_ENUM_OVERLAP_TEMPLATE, json_string_value(v)))
                return bg_error_setf(err, BG_MSG_QAPI_ENUM_VALUE, member, json_string_value(v));
            return true;
        }
        if (!json_is_object(v))
            return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, member, "Qcow2OverlapChecks");
    }
    if (strcmp(name, "overlap-check") == 0 || strcmp(name, "encrypt") == 0) {
        char *full = member_path(path, member);
        bool ok = visit_sub_struct(name, v, full, err);
        free(full);
        return ok;
    }
    if (strcmp(name, "inject-error") == 0 || strcmp(name, "set-state") == 0)
        return visit_sub_list(name, v, path, member, err);
    if (strcmp(name, "take-child-perms") == 0 || strcmp(name, "unshare-child-perms") == 0)
        return visit_sub_list(NULL, v, path, member, err);
    return true;
}

/* The members of the struct PREFIX of DRIVER in OBJ at PATH, then unknowns. */
static bool visit_struct(const json_t *obj, const char *path, const char *driver,
                         const char *prefix, BgError *err)
{
    for (size_t i = 0; i < model_opt_count(); i++) {
        const ModelOpt *o = model_opt_at(i);
        const char *member;
        if (!row_of(o, driver) || !row_in_struct(o, prefix, &member))
            continue;
        json_t *v = json_object_get(obj, member);
        if (!v) {
            if (o->flags & BG_OF_REQUIRED) {
                char *full = member_path(path, member);
                bg_error_setf(err, BG_MSG_QAPI_MISSING, full);
                free(full);
                return false;
            }
            continue;
        }
        if (!visit_member(o, member, v, path, driver, err))
            return false;
    }
    const char **taken = bg_calloc(json_object_size(obj) + 1, sizeof(*taken));
    size_t n_taken = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool known = false;
        for (size_t i = 0; i < model_opt_count() && !known; i++) {
            const ModelOpt *o = model_opt_at(i);
            const char *member;
            known = row_of(o, driver) && row_in_struct(o, prefix, &member) &&
                    strcmp(member, k) == 0;
        }
        if (known)
            taken[n_taken++] = k;
    }
    return check_unexpected(obj, path, taken, n_taken, err);
}

static bool visit_member(const ModelOpt *o, const char *member, const json_t *v, const char *path,
                         const char *driver, BgError *err)
{
    switch (o->type) {
    case BG_OT_STR:
        return json_is_string(v) || type_error(err, path, member, "string");
    case BG_OT_BOOL:
        return json_is_boolean(v) || type_error(err, path, member, "boolean");
    case BG_OT_INT:
        return json_is_integer(v) || type_error(err, path, member, "integer");
    case BG_OT_ENUM:
        if (!json_is_string(v))
            return type_error(err, path, member, "string");
        if (!model_opt_enum_has(o, json_string_value(v)))
            return bg_error_setf(err, BG_MSG_QAPI_ENUM_VALUE, member, json_string_value(v));
        return true;
    case BG_OT_STRUCT: {
        if (!json_is_object(v))
            return type_error(err, path, member, "object");
        char *full = member_path(path, member);
        bool ok = visit_struct(v, full, driver, o->name, err);
        free(full);
        return ok;
    }
    case BG_OT_REF:
        return visit_ref(v, path, member, false, err);
    case BG_OT_REF_NULL:
        return visit_ref(v, path, member, true, err);
    case BG_OT_REF_LIST: {
        if (!json_is_array(v))
            return type_error(err, path, member, "array");
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            char *full = member_path(path, member);
            char *elem = bg_asprintf("%s[%zu]", full, i);
            bool ok;
            if (json_is_object(e))
                ok = visit_options(e, elem, err);
            else if (json_is_string(e))
                ok = true;
            else
                ok = bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "null", "BlockdevRef");
            free(full);
            free(elem);
            if (!ok)
                return false;
        }
        return true;
    }
    case BG_OT_ANY:
        return visit_complex(o->name, member, v, path, err);
    }
    return true;
}

/*
 * qobject_input_check_struct(): the unknown member named is the first key
 * g_hash_table_iter_next() finds in the visitor's GHashTable, which got
 * every key of the object in QDict order (qobject_input_push()) and lost
 * each member the visit took.  GLib (ghash.c): g_str_hash() (djb2),
 * slot (hash * 11) % prime, quadratic probing over 2^shift slots, hashes
 * 0 (unused) and 1 (tombstone) reserved, g_hash_table_maybe_resize() after
 * an insert into an unused slot and after each remove, resize_map()
 * rehashing in place (an entry evicts what sits in its new slot).
 */
typedef struct GTab {
    unsigned shift, nnodes, noccupied;
    unsigned *h;
    const char **k;
} GTab;

static unsigned gtab_size(const GTab *t) { return 1u << t->shift; }

static unsigned gtab_mod(const GTab *t)
{
    static const unsigned primes[] = { 1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093,
                                       8191, 16381, 32749, 65521 };
    return primes[t->shift];
}

static unsigned gtab_hash(const char *key)
{
    uint32_t h = 5381;
    for (const signed char *p = (const signed char *)key; *p; p++)
        h = h * 33 + (uint32_t)(int)*p;
    return h > 1 ? h : 2;
}

static void gtab_resize(GTab *t)
{
    unsigned old = gtab_size(t), want = (unsigned)(int)(t->nnodes * 1.333), shift = 0;
    for (; want; want >>= 1)
        shift++;
    t->shift = shift < 3 ? 3 : shift;
    unsigned size = gtab_size(t), span = size > old ? size : old;
    t->h = bg_realloc(t->h, span * sizeof(*t->h));
    t->k = bg_realloc(t->k, span * sizeof(*t->k));
    for (unsigned i = old; i < span; i++) {
        t->h[i] = 0;
        t->k[i] = NULL;
    }
    bool *moved = bg_calloc(span, sizeof(*moved));
    for (unsigned i = 0; i < old; i++) {
        if (t->h[i] < 2) {
            t->h[i] = 0;
            continue;
        }
        if (moved[i])
            continue;
        unsigned hash = t->h[i];
        const char *key = t->k[i];
        t->h[i] = 0;
        t->k[i] = NULL;
        while (hash >= 2) {
            unsigned slot = (hash * 11u) % gtab_mod(t);
            for (unsigned step = 1; moved[slot]; step++)
                slot = (slot + step) & (size - 1);
            moved[slot] = true;
            unsigned h2 = t->h[slot];
            const char *k2 = t->k[slot];
            t->h[slot] = hash;
            t->k[slot] = key;
            hash = h2;
            key = k2;
        }
    }
    free(moved);
    t->noccupied = t->nnodes;
}

static void gtab_maybe_resize(GTab *t)
{
    unsigned size = gtab_size(t);
    if ((size > t->nnodes * 4 && size > 8) || size <= t->noccupied + t->noccupied / 16)
        gtab_resize(t);
}

/* The slot holding KEY (*hit) or the one an insert takes. */
static unsigned gtab_find(const GTab *t, const char *key, bool *hit)
{
    unsigned hash = gtab_hash(key), slot = (hash * 11u) % gtab_mod(t), tomb = ~0u;
    for (unsigned step = 1; t->h[slot]; step++) {
        if (t->h[slot] == hash && strcmp(t->k[slot], key) == 0) {
            *hit = true;
            return slot;
        }
        if (t->h[slot] == 1 && tomb == ~0u)
            tomb = slot;
        slot = (slot + step) & (gtab_size(t) - 1);
    }
    *hit = false;
    return tomb != ~0u ? tomb : slot;
}

static void gtab_add(GTab *t, const char *key)
{
    bool hit;
    unsigned slot = gtab_find(t, key, &hit);
    if (hit)
        return;
    bool fresh = t->h[slot] == 0;
    t->h[slot] = gtab_hash(key);
    t->k[slot] = key;
    t->nnodes++;
    if (fresh) {
        t->noccupied++;
        gtab_maybe_resize(t);
    }
}

static void gtab_take(GTab *t, const char *key)
{
    bool hit;
    unsigned slot = gtab_find(t, key, &hit);
    if (!hit)
        return;
    t->h[slot] = 1;
    t->k[slot] = NULL;
    t->nnodes--;
    gtab_maybe_resize(t);
}

/* The unknown member QEMU names in OBJ (NULL: none); TAKEN lists the
 * members the visit took, in visit order. */
const char *model_qapi_first_unexpected(const json_t *obj, const char *const *taken,
                                        size_t n_taken)
{
    ModelQDict *q = model_qdict_new();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
        model_qdict_put(q, key, json_null());
    size_t n;
    const char **order = model_qdict_order(q, &n);
    GTab t = { .shift = 3 };
    t.h = bg_calloc(8, sizeof(*t.h));
    t.k = bg_calloc(8, sizeof(*t.k));
    for (size_t i = 0; i < n; i++)
        gtab_add(&t, order[i]);
    for (size_t i = 0; i < n_taken; i++)
        gtab_take(&t, taken[i]);
    const char *first = NULL;
    for (unsigned i = 0; i < gtab_size(&t) && !first; i++)
        if (t.h[i] >= 2)
            first = t.k[i];
    /* the key text lives in Q; hand back OBJ's copy */
    const char *out = NULL;
    if (first)
        json_object_foreach((json_t *)obj, key, val)
            if (!out && strcmp(key, first) == 0)
                out = key;
    free(order);
    free(t.h);
    free(t.k);
    model_qdict_free(q);
    return out;
}

/* visit_type_BlockdevOptions(): PATH is the object's own full name. */
static bool visit_options(const json_t *obj, const char *path, BgError *err)
{
    if (!json_is_object(obj))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, path[0] ? path : "null", "object");
    /* the base first: its "driver" decides the branch */
    json_t *d = json_object_get(obj, "driver");
    const char *driver = NULL;
    if (!d) {
        char *full = member_path(path, "driver");
        bg_error_setf(err, BG_MSG_QAPI_MISSING, full);
        free(full);
        return false;
    }
    for (size_t i = 0; i < model_opt_count(); i++) {
        const ModelOpt *o = model_opt_at(i);
        const char *member;
        if (o->driver[0] != '\0' || !row_in_struct(o, "", &member))
            continue;
        json_t *v = json_object_get(obj, member);
        if (v && !visit_member(o, member, v, path, NULL, err))
            return false;
    }
    driver = schema_driver(json_string_value(d));
    /* a driver the model has no schema rows for: base checked, rest unknown */
    if (!model_driver_find(driver))
        return true;
    for (size_t i = 0; i < model_opt_count(); i++) {
        const ModelOpt *o = model_opt_at(i);
        const char *member;
        if (o->driver[0] == '\0' || strcmp(o->driver, driver) != 0 ||
            !row_in_struct(o, "", &member))
            continue;
        json_t *v = json_object_get(obj, member);
        if (!v) {
            if (o->flags & BG_OF_REQUIRED) {
                char *full = member_path(path, member);
                bg_error_setf(err, BG_MSG_QAPI_MISSING, full);
                free(full);
                return false;
            }
            continue;
        }
        if (!visit_member(o, member, v, path, driver, err))
            return false;
    }
    /* the members the visit took, in visit order: the base, then the branch */
    const char **taken = bg_calloc(json_object_size(obj) + 1, sizeof(*taken));
    size_t n_taken = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < model_opt_count(); i++) {
            const ModelOpt *o = model_opt_at(i);
            const char *member;
            bool base = o->driver[0] == '\0';
            if ((pass == 0) != base || (!base && strcmp(o->driver, driver) != 0) ||
                !row_in_struct(o, "", &member) || !json_object_get(obj, member))
                continue;
            bool dup = false;
            for (size_t j = 0; j < n_taken && !dup; j++)
                dup = strcmp(taken[j], member) == 0;
            if (!dup)
                taken[n_taken++] = member;
        }
    }
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {       /* any other member the schema has */
        bool dup = false;
        for (size_t j = 0; j < n_taken && !dup; j++)
            dup = strcmp(taken[j], key) == 0;
        if (!dup && model_opt_find(driver, key))
            taken[n_taken++] = key;
    }
    const char *k = model_qapi_first_unexpected(obj, (const char *const *)taken, n_taken);
    free(taken);
    if (k) {
        char *full = member_path(path, k);
        bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, full);
        free(full);
        return false;
    }
    return true;
}

bool model_qapi_blockdev_options(const json_t *obj, const char *path, BgError *err)
{
    return visit_options(obj, path, err);
}

bool model_qapi_blockdev_reopen(const json_t *args, BgError *err)
{
    json_t *list = json_object_get(args, "options");
    if (!list)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, "options");
    if (!json_is_array(list))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "options", "array");
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        char *path = bg_asprintf("options[%zu]", i);
        bool ok = visit_options(e, path, err);
        free(path);
        if (!ok)
            return false;
    }
    static const char *const taken[] = { "options" };
    const char *k = model_qapi_first_unexpected(args, taken, 1);
    if (k)
        return bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, k);
    return true;
}

/* ---- output visitor: the same members in schema order ------------------------ */

static json_t *output_value(const ModelOpt *o, const json_t *v, const char *driver);

/* A member's value as it is: no JSON scalar is ever changed in place, so a
 * scalar is shared, not copied (a blockdev-add has a dozen of them). */
static json_t *output_copy(const json_t *v)
{
    return json_is_object(v) || json_is_array(v) ? json_deep_copy(v) : json_incref((json_t *)v);
}

/* A BG_OT_ANY member's structs with their members in schema order. */
static json_t *output_complex(const char *owner, const json_t *v)
{
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            json_array_append_new(a, output_complex(owner, e));
        return a;
    }
    if (!json_is_object(v))
        return output_copy(v);
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof(sub_members) / sizeof(sub_members[0]); i++) {
        json_t *m = json_object_get(v, sub_members[i].name);
        if (strcmp(sub_members[i].owner, owner) == 0 && m)
            json_object_set_new(out, sub_members[i].name, output_copy(m));
    }
    return out;
}

static json_t *output_struct(const json_t *obj, const char *driver, const char *prefix)
{
    json_t *out = json_object();
    for (size_t i = 0; i < model_opt_count(); i++) {
        const ModelOpt *o = model_opt_at(i);
        const char *member;
        if (!row_of(o, driver) || !row_in_struct(o, prefix, &member))
            continue;
        json_t *v = json_object_get(obj, member);
        if (v)
            json_object_set_new(out, member, output_value(o, v, driver));
    }
    return out;
}

static json_t *output_value(const ModelOpt *o, const json_t *v, const char *driver)
{
    switch (o->type) {
    case BG_OT_STRUCT:
        return output_struct(v, driver, o->name);
    case BG_OT_REF:
    case BG_OT_REF_NULL:
        return json_is_object(v) ? model_qapi_output(v) : output_copy(v);
    case BG_OT_REF_LIST: {
        json_t *a = json_array();
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            json_array_append_new(a, json_is_object(e) ? model_qapi_output(e) : output_copy(e));
        return a;
    }
    case BG_OT_ANY:
        return output_complex(o->name, v);
    default:
        return output_copy(v);
    }
}

json_t *model_qapi_output(const json_t *obj)
{
    const char *driver = schema_driver(json_string_value(json_object_get(obj, "driver")));
    if (!driver || !model_driver_find(driver))
        return json_deep_copy(obj);
    /* base members first, then the driver's: the rows are in that order */
    json_t *out = json_object();
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < model_opt_count(); i++) {
            const ModelOpt *o = model_opt_at(i);
            const char *member;
            if ((pass == 0) != (o->driver[0] == '\0') || !row_of(o, driver) ||
                !row_in_struct(o, "", &member))
                continue;
            json_t *v = json_object_get(obj, member);
            if (v)
                json_object_set_new(out, member, output_value(o, v, driver));
        }
    }
    return out;
}
