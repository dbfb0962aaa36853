/*
 * reopen.c: blockdev-reopen (see reopen.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_reopen_queue_child(), bdrv_reopen_queue(),
 * bdrv_reopen_queue_free(), bdrv_reopen_multiple(), bdrv_reopen_prepare(),
 * bdrv_reopen_commit(), bdrv_reopen_abort(), bdrv_reset_options_allowed(),
 * bdrv_reopen_parse_file_or_backing(), bdrv_can_set_read_only(),
 * bdrv_reopen_set_read_only(), and blockdev.c qmp_blockdev_reopen().
 * The storage drivers' reopen slots see the entry's options; what QEMU's
 * QemuOpts absorption does with each key (consume it, or put it back as a
 * string for the "Cannot change" check) follows options.def.
 */
#include "reopen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "child.h"
#include "filename.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"
#include "perm.h"
#include "qapi.h"
#include "qdict.h"
#include "tran.h"

typedef struct ReopenEntry {
    RealNode *bs;                 /* referenced while queued */
    json_t *options;              /* state.options */
    json_t *explicit_options;     /* state.explicit_options */
    int flags;
    RealDetectZeroes detect_zeroes;
    bool backing_missing;
    bool prepared;
    RealReopenState rs;           /* the driver's staged reopen */
    RealNode *old_backing_bs;     /* replaced children, for the permission refresh */
    RealNode *old_file_bs;
} ReopenEntry;

struct ReopenQueue {
    ReopenEntry **v;
    size_t n, cap;
};

int real_reopen_queue_flags(ReopenQueue *q, RealNode *n)
{
    if (q)
        for (size_t i = 0; i < q->n; i++)
            if (q->v[i]->bs == n)
                return q->v[i]->flags;
    return n->open_flags;
}

static void queue_free(ReopenQueue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->n; i++) {
        ReopenEntry *e = q->v[i];
        json_decref(e->options);
        json_decref(e->explicit_options);
        real_node_unref(e->bs);
        free(e);
    }
    free(q->v);
    free(q);
}

/* ---- the queue (bdrv_reopen_queue_child) ---------------------------------------------- */

static void queue_child(ReopenQueue *q, RealNode *bs, json_t *options, unsigned role,
                        bool parent_is_format, json_t *parent_options, int parent_flags,
                        bool keep_old_opts)
{
    ReopenEntry *entry = NULL;
    for (size_t i = 0; i < q->n; i++)
        if (q->v[i]->bs == bs)
            entry = q->v[i];
    if (!options)
        options = json_object();

    /* 2. retained explicit options (listed twice, or keep_old_opts) */
    if (entry || keep_old_opts) {
        json_t *old = qdict_clone(entry ? entry->explicit_options : bs->explicit_options);
        qdict_join(options, old, false);
        json_decref(old);
    }
    json_t *explicit_options = qdict_clone(options);

    /* 3. inherited from the parent */
    int flags;
    if (parent_options) {
        flags = 0;
        real_open_inherited_options(role, parent_is_format, &flags, options, parent_flags,
                                    parent_options);
    } else {
        flags = bs->open_flags;
    }
    /* 4. the effective options of the node */
    if (keep_old_opts) {
        json_t *old = qdict_clone(bs->options);
        qdict_join(options, old, false);
        json_decref(old);
    }
    real_open_flags_from_options(&flags, options);
    flags &= ~REAL_O_PROTOCOL;
    if (flags & REAL_O_RDWR)
        flags |= REAL_O_ALLOW_RDWR;

    if (!entry) {
        entry = bg_calloc(1, sizeof(*entry));
        entry->bs = bs;
        real_node_ref(bs);
        if (q->n == q->cap) {
            q->cap = q->cap ? 2 * q->cap : 8;
            q->v = bg_realloc(q->v, q->cap * sizeof(*q->v));
        }
        q->v[q->n++] = entry;
    } else {
        json_decref(entry->options);
        json_decref(entry->explicit_options);
    }
    entry->options = options;
    entry->explicit_options = explicit_options;
    entry->flags = flags;
    if (!keep_old_opts)
        entry->backing_missing = !json_object_get(options, "backing") &&
                                 !json_object_get(options, "backing.driver");

    for (RealEdge *c = bs->children; c; c = c->next_child) {
        json_t *child_options = NULL;
        bool child_keep_old = keep_old_opts;
        if (c->child->inherits_from != bs)
            continue;
        if (json_object_get(options, c->name)) {
            const char *ref = qdict_get_str(options, c->name);
            if (!ref || strcmp(ref, c->child->node_name))
                continue;
            child_keep_old = true;
        } else {
            char *dot = bg_asprintf("%s.", c->name);
            qdict_extract_subqdict(explicit_options, NULL, dot);
            qdict_extract_subqdict(options, &child_options, dot);
            free(dot);
        }
        queue_child(q, c->child, child_options, c->c.role, bs->drv->is_format, options, flags,
                    child_keep_old);
    }
}

/* ---- prepare ---------------------------------------------------------------------- */

/* The generic options bdrv_runtime_opts absorbs (bdrv_reopen_prepare's QemuOpts). */
static const char *const generic_opts[] = {
    "node-name", "driver", "cache.direct", "cache.no-flush", "read-only", "auto-read-only",
    "detect-zeroes", "discard", "force-share", NULL
};

/* Put KEY back as QemuOpts' string form (qemu_opts_to_qdict). */
static void put_back_string(json_t *opts, const char *key, json_t *v)
{
    char *s = qdict_opt_string(v);
    if (s) {
        json_object_set_new(opts, key, json_string(s));
        free(s);
    }
}

/* bdrv_reset_options_allowed() */
static bool reset_allowed(RealNode *bs, json_t *new_opts, BgError *err)
{
    static const char *const common[] = {
        "node-name", "discard", "cache.direct", "cache.no-flush", "read-only",
        "auto-read-only", "detect-zeroes", NULL
    };
    size_t n;
    const char **keys = qdict_order(bs->options, &n);
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i];
        bool is_common = false;
        for (const char *const *c = common; *c; c++)
            is_common |= !strcmp(*c, k);
        if (!json_object_get(new_opts, k) && !is_common &&
            !real_nodedrv_opt_mutable(bs->drv, k)) {
            bg_error_setf(err, BG_MSG_CANNOT_RESET_OPTION, k);
            free(keys);
            return false;
        }
    }
    free(keys);
    return true;
}

/* bdrv_reopen_parse_file_or_backing() */
static int parse_file_or_backing(ReopenEntry *e, json_t *opts, bool is_backing, Tran *tran,
                                 BgError *err)
{
    RealNode *bs = e->bs;
    RealEdge *old_edge = is_backing ? bs->backing : bs->file;
    RealNode *old_child = old_edge ? old_edge->child : NULL;
    const char *child_name = is_backing ? "backing" : "file";
    json_t *value = json_object_get(opts, child_name);
    RealNode *new_child = NULL;
    if (!value)
        return 0;
    if (json_is_string(value)) {
        const char *str = json_string_value(value);
        new_child = real_graph_lookup(bs->g, NULL, str, err);
        if (!new_child)
            return -EINVAL;
        if (real_node_has_child_recursive(new_child, bs)) {
            bg_error_setf(err, BG_MSG_CHILD_CYCLE, str, child_name, bs->node_name);
            return -EINVAL;
        }
    } else if (!json_is_null(value)) {
        return 0;
    }
    if (old_child == new_child)
        return 0;
    if (old_child) {
        if (real_node_skip_implicit_filters(old_child) == new_child)
            return 0;
        if (old_child->implicit) {
            bg_error_setf(err, BG_MSG_REPLACE_IMPLICIT, child_name, bs->node_name);
            return -EPERM;
        }
    }
    if (bs->drv->is_filter && !old_child) {
        bg_error_setf(err, BG_MSG_FILTER_NO_BACKING, bs->node_name, bs->drv->format_name,
                      child_name);
        return -EINVAL;
    }
    if (is_backing)
        e->old_backing_bs = old_child;
    else
        e->old_file_bs = old_child;
    return real_child_set_file_or_backing_noperm(bs, new_child, is_backing, tran, err);
}

static int prepare(ReopenEntry *e, ReopenQueue *q, Tran *tran, BgError *err)
{
    RealNode *bs = e->bs;
    const RealNodeDriver *drv = bs->drv;
    /* The working copy, in e->options' own order (QEMU works on
     * reopen_state->options itself); e->options stays, and on success
     * becomes its qdict_clone_shallow(), as QEMU restores the orig_reopen_opts
     * it took at the start */
    json_t *opts = json_copy(e->options);
    json_t *absorbed = json_object();
    bool drv_prepared = false;
    int ret = -EINVAL;

    /* a. generic options absorbed */
    for (const char *const *k = generic_opts; *k; k++) {
        json_t *v = json_object_get(opts, *k);
        if (v) {
            json_object_set(absorbed, *k, v);
            json_object_del(opts, *k);
        }
    }
    /* b. discard */
    const char *discard = qdict_get_str(absorbed, "discard");
    if (discard && real_open_parse_discard(discard, &e->flags) != 0) {
        bg_error_setf(err, BG_MSG_INVALID_DISCARD);
        goto error;
    }
    /* c. detect-zeroes */
    const char *dz = qdict_get_str(absorbed, "detect-zeroes");
    e->detect_zeroes = REAL_DETECT_ZEROES_OFF;
    if (dz && !strcmp(dz, "on"))
        e->detect_zeroes = REAL_DETECT_ZEROES_ON;
    else if (dz && !strcmp(dz, "unmap"))
        e->detect_zeroes = REAL_DETECT_ZEROES_UNMAP;
    if (e->detect_zeroes == REAL_DETECT_ZEROES_UNMAP && !(e->flags & REAL_O_UNMAP)) {
        bg_error_setf(err, BG_MSG_DETECT_ZEROES_UNMAP);
        goto error;
    }
    /* d. node-name, driver, force-share (and anything else absorbed) put back */
    static const char *const put_back[] = { "node-name", "driver", "force-share", NULL };
    for (const char *const *k = put_back; *k; k++) {
        json_t *v = json_object_get(absorbed, *k);
        if (v)
            put_back_string(opts, *k, v);
    }
    /* e. read-only with copy-on-read */
    if (bs->copy_on_read && !(e->flags & REAL_O_RDWR)) {
        bg_error_setf(err, BG_MSG_RO_WITH_COR, real_node_device_or_node_name(bs));
        goto error;
    }
    /* f. the driver must have a reopen handler */
    if (!drv->has_reopen) {
        bg_error_setf(err, BG_MSG_NO_REOPEN_SUPPORT, drv->format_name,
                      real_node_device_or_node_name(bs));
        goto error;
    }
    /* g. options that may not be reset */
    if (!reset_allowed(bs, opts, err))
        goto error;
    /* h. the driver's handler; it absorbs its options */
    e->rs.bs = bs->bs;
    e->rs.options = opts;
    e->rs.flags = e->flags;
    e->rs.opaque = NULL;
    if (drv->ops->reopen_prepare) {
        BgError local = { 0 };
        ret = drv->ops->reopen_prepare(&e->rs, &local);
        if (ret && e->rs.opaque && drv->ops->reopen_abort) {
            /* a handler that staged something before failing gets to drop it */
            drv->ops->reopen_abort(&e->rs);
            e->rs.opaque = NULL;
        }
        if (ret) {
            if (local.set) {
                if (err && !err->set)
                    *err = local;
            } else {
                real_node_refresh_filename(bs);
                bg_error_setf(err, BG_MSG_PREPARE_FAILED, bs->filename);
            }
            ret = -EINVAL;
            goto error;
        }
    }
    drv_prepared = true;
    ret = -EINVAL;
    {
        size_t n;
        const char **keys = qdict_order(opts, &n);
        char **ks = bg_calloc(n + 1, sizeof(*ks));
        for (size_t i = 0; i < n; i++)
            ks[i] = bg_strdup(keys[i]);
        free(keys);
        for (size_t i = 0; i < n; i++) {
            RealOptReopen how = real_nodedrv_opt_reopen(drv, ks[i]);
            json_t *v = json_object_get(opts, ks[i]);
            if (how == REAL_OR_CONSUMED) {
                json_object_del(opts, ks[i]);
            } else if (how == REAL_OR_DRV_BACK) {
                json_incref(v);
                json_object_del(opts, ks[i]);
                put_back_string(opts, ks[i], v);
                json_decref(v);
            }
            free(ks[i]);
        }
        free(ks);
    }
    /* i. backing missing */
    if (drv->supports_backing && e->backing_missing && (bs->backing || bs->backing_file[0])) {
        bg_error_setf(err, BG_MSG_BACKING_MISSING, bs->node_name);
        goto error;
    }
    /* j. backing, then file */
    if (parse_file_or_backing(e, opts, true, tran, err) < 0)
        goto error;
    json_object_del(opts, "backing");
    if (parse_file_or_backing(e, opts, false, tran, err) < 0)
        goto error;
    json_object_del(opts, "file");
    /* k. everything else must be unchanged */
    {
        size_t n;
        const char **keys = qdict_order(opts, &n);
        for (size_t i = 0; i < n; i++) {
            json_t *nv = json_object_get(opts, keys[i]);
            json_t *ov = json_object_get(bs->options, keys[i]);
            if (json_is_string(nv)) {
                RealEdge *c;
                for (c = bs->children; c; c = c->next_child)
                    if (!strcmp(c->name, keys[i]))
                        break;
                if (c && !strcmp(c->child->node_name, json_string_value(nv)))
                    continue;
            }
            if (!qdict_value_equal(nv, ov)) {
                bg_error_setf(err, BG_MSG_CANNOT_CHANGE_OPTION, keys[i]);
                free(keys);
                goto error;
            }
        }
        free(keys);
    }
    ret = 0;
    {
        json_t *orig = qdict_clone(e->options);
        json_decref(e->options);
        e->options = orig;
    }
error:
    if (ret < 0 && drv_prepared && drv->ops->reopen_abort)
        drv->ops->reopen_abort(&e->rs);
    e->rs.options = NULL;
    json_decref(opts);
    json_decref(absorbed);
    return ret;
}

static void commit(ReopenEntry *e)
{
    RealNode *bs = e->bs;
    bs->data_gen++;         /* options that change what it reads (raw's offset, ...) */
    e->rs.options = e->options;
    if (bs->drv->ops->reopen_commit)
        bs->drv->ops->reopen_commit(&e->rs);
    e->rs.options = NULL;
    json_decref(bs->options);
    json_decref(bs->explicit_options);
    bs->options = json_incref(e->options);
    bs->explicit_options = json_incref(e->explicit_options);
    bs->open_flags = e->flags;
    bs->bs->open_flags = e->flags;
    bs->bs->read_only = !(e->flags & REAL_O_RDWR);
    bs->bs->detect_zeroes = e->detect_zeroes;
    for (RealEdge *c = bs->children; c; c = c->next_child) {
        json_object_del(bs->explicit_options, c->name);
        json_object_del(bs->options, c->name);
    }
    json_object_del(bs->explicit_options, "backing");
    json_object_del(bs->options, "backing");
    if (bs->bs->drv && bs->bs->drv->refresh_limits)
        bs->bs->drv->refresh_limits(bs->bs);
    real_node_refresh_limits(bs, NULL);
}

static void abort_entry(ReopenEntry *e)
{
    if (e->bs->drv->ops->reopen_abort)
        e->bs->drv->ops->reopen_abort(&e->rs);
}

/* bdrv_reopen_multiple(); frees Q. */
static int reopen_multiple(ReopenQueue *q, BgError *err)
{
    Tran *tran = tran_new();
    int ret = 0;
    RealNodeList refresh;
    real_node_list_init(&refresh, q->v[0]->bs->g);

    for (size_t i = 0; i < q->n; i++) {
        ret = bdrv_flush(q->v[i]->bs->bs);
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_FLUSH_FAILED, strerror(-ret));
            goto abort;
        }
    }
    for (size_t i = 0; i < q->n; i++) {
        ret = prepare(q->v[i], q, tran, err);
        if (ret < 0)
            goto abort;
        q->v[i]->prepared = true;
    }
    for (size_t i = 0; i < q->n; i++) {
        ReopenEntry *e = q->v[i];
        real_perm_topo_add(&refresh, e->bs);
        if (e->old_backing_bs)
            real_perm_topo_add(&refresh, e->old_backing_bs);
        if (e->old_file_bs)
            real_perm_topo_add(&refresh, e->old_file_bs);
    }
    ret = real_perm_list_refresh(&refresh, q, tran, err);
    if (ret < 0)
        goto abort;
    for (size_t i = q->n; i-- > 0;)
        commit(q->v[i]);
    tran_commit(tran);
    ret = 0;
    goto cleanup;
abort:
    tran_abort(tran);
    for (size_t i = 0; i < q->n; i++)
        if (q->v[i]->prepared)
            abort_entry(q->v[i]);
cleanup:
    real_node_list_cleanup(&refresh);
    queue_free(q);
    return ret;
}

/* ---- entry points ----------------------------------------------------------------- */

bool real_blockdev_reopen(RealGraph *g, json_t *args, bool *unsupported, BgError *err)
{
    *unsupported = false;
    json_t *list = json_object_get(args, "options");
    if (!json_is_object(args))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "null", "object");
    if (!list)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, "options");
    if (!json_is_array(list))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "options", "array");
    /* QAPI first: every element, then the unknown top-level members */
    size_t n = json_array_size(list);
    json_t **flat = bg_calloc(n + 1, sizeof(*flat));
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        flat[i] = real_qapi_blockdev_options(json_array_get(list, i), "options", (int)i,
                                             unsupported, err);
        ok = flat[i] != NULL;
    }
    if (ok) {
        json_t *visited = json_pack("{s:b}", "options", true);
        const char *k = real_qapi_first_unexpected(args, visited);
        if (k)
            ok = bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, k);
        json_decref(visited);
    }
    if (ok && n == 0) {
        /* QEMU 7.2 aborts on an empty list (bdrv_reopen_multiple asserts) */
        *unsupported = true;
        ok = false;
    }
    ReopenQueue *q = NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const char *name = qdict_get_str(flat[i], "node-name");
        if (!name) {
            ok = bg_error_setf(err, BG_MSG_NODE_NAME_NOT_SPEC);
            break;
        }
        RealNode *bs = real_graph_find_node(g, name);
        if (!bs) {
            ok = bg_error_setf(err, BG_MSG_FIND_NODE_FAILED, name);
            break;
        }
        qdict_flatten(flat[i]);
        if (!q)
            q = bg_calloc(1, sizeof(*q));
        queue_child(q, bs, flat[i], 0, false, NULL, 0, false);
        flat[i] = NULL;
    }
    for (size_t i = 0; i < n; i++)
        json_decref(flat[i]);
    free(flat);
    if (!ok) {
        queue_free(q);
        return false;
    }
    return reopen_multiple(q, err) == 0;
}

int real_reopen_set_read_only(RealNode *n, bool read_only, BgError *err)
{
    json_t *opts = json_object();
    json_object_set_new(opts, "read-only", json_boolean(read_only));
    ReopenQueue *q = bg_calloc(1, sizeof(*q));
    queue_child(q, n, opts, 0, false, NULL, 0, true);
    return reopen_multiple(q, err);
}
