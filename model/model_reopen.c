/*
 * model_reopen.c: blockdev-reopen, one transaction over a copy of the world.
 *
 * What this is: the reopen queue (each list entry, then its inheriting
 * children, newest child first, options merged when a node is queued
 * twice), then every entry prepared in queue order with QEMU's stages:
 *   a-d  generic options absorbed (detect-zeroes/discard checks), node-name,
 *        driver and force-share put back as QemuOpts strings
 *   f    a driver without reopen support
 *   g    an omitted option that cannot be reset to its default
 *   h    the driver's own reopen checks (qcow2 caches, raw offset/size,
 *        throttle group)
 *   i    `backing` missing while the node has or names a backing file
 *   j    `backing` then `file` replaced (lookup, cycle, implicit child,
 *        filter, frozen link, AioContext)
 *   k    every other option compared with the node's current options, the
 *        first differing key in QDict order named
 * then permissions recomputed over the new graph and flags, then commit.
 * All of it works on a copy of the world; the copy replaces the world only
 * if every stage of every entry passed.  Nothing is undone by hand, but the
 * abort leaves one trace in the world before: every file or backing edge
 * stage j removed is attached again, at the head of its lists.
 * What it is not: QAPI validation (model_qapi.c, done by the caller).
 *
 * Mirrors QEMU 7.2.0 blockdev.c qmp_blockdev_reopen(), block.c
 * bdrv_reopen_queue_child(), bdrv_reopen_multiple(), bdrv_reopen_prepare(),
 * bdrv_reset_options_allowed(), bdrv_reopen_parse_file_or_backing(),
 * bdrv_set_file_or_backing_noperm(), bdrv_unset_inherits_from(),
 * bdrv_inherits_from_recursive(), bdrv_attach_child_common() (AioContext),
 * bdrv_reopen_commit(), tran_abort() with bdrv_replace_child_abort(), and the
 * drivers' reopen_prepare handlers.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"


typedef struct Entry {
    int node;                   /* node id */
    ModelQDict *options;        /* reopen_state->options */
    ModelQDict *explicit_options;
    bool read_only, auto_read_only, nocache, noflush, unmap;  /* reopen_state->flags */
    int detect_zeroes;
    bool backing_missing;
    int old_backing, old_file;  /* replaced children (ids) */
    uint64_t removed[2];        /* seq of each edge removed by stage j, in order */
    size_t n_removed;
    /* driver state staged by prepare */
    uint64_t raw_offset, raw_size;
    bool raw_has_size;
    char *throttle_group;
    bool qcow2_clean;           /* qcow2_mark_clean() ran: kept even on failure */
} Entry;

typedef struct Queue {
    Entry *e;
    size_t n;
} Queue;

static void queue_free(Queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        model_qdict_free(q->e[i].options);
        model_qdict_free(q->e[i].explicit_options);
        free(q->e[i].throttle_group);
    }
    free(q->e);
}

/* ---- the queue: bdrv_reopen_queue_child() ---------------------------------------- */

static void queue_child(Queue *q, ModelWorld *w, ModelNode *bs, ModelQDict *take_options,
                        unsigned role, const ModelQDict *parent_options, const Entry *parent,
                        bool keep_old)
{
    ModelQDict *options = take_options ? take_options : model_qdict_new();
    Entry *entry = NULL;
    for (size_t i = 0; i < q->n; i++)
        if (q->e[i].node == bs->id)
            entry = &q->e[i];
    if (entry || keep_old) {
        ModelQDict *old = model_qdict_clone(entry ? entry->explicit_options : bs->explicit_options);
        model_qdict_join(options, old);
        model_qdict_free(old);
    }
    ModelQDict *explicit_options = model_qdict_clone(options);
    /* the flags a child starts from are its parent's new ones; the top
     * node's are its current ones */
    bool unmap = parent ? parent->unmap : bs->unmap;
    if (parent_options)
        model_open_inherit(role, false, options, parent_options);
    if (keep_old) {
        ModelQDict *old = model_qdict_clone(bs->options);
        model_qdict_join(options, old);
        model_qdict_free(old);
    }
    if (!entry) {
        q->e = bg_realloc(q->e, (q->n + 1) * sizeof(*q->e));
        entry = &q->e[q->n++];
        *entry = (Entry){ .node = bs->id };
    } else {
        model_qdict_free(entry->options);
        model_qdict_free(entry->explicit_options);
    }
    entry->options = options;
    entry->explicit_options = explicit_options;
    ModelNode tmp = {0};
    model_open_flags_from_options(&tmp, options);
    entry->read_only = tmp.read_only;
    entry->auto_read_only = tmp.auto_read_only;
    entry->nocache = tmp.nocache;
    entry->noflush = tmp.noflush;
    entry->unmap = unmap;
    if (!keep_old)
        entry->backing_missing = !model_qdict_has(options, "backing") &&
                                 !model_qdict_has(options, "backing.driver");

    size_t idx = (size_t)(entry - q->e);
    for (size_t i = 0; i < bs->n_children; i++) {
        ModelChild ch = bs->children[i];
        ModelNode *c = model_graph_node(w, ch.node);
        if (c->inherits_from != bs->id)
            continue;
        Entry *me = &q->e[idx];
        ModelQDict *child_options = NULL;
        bool child_keep_old = keep_old;
        if (model_qdict_has(me->options, ch.name)) {
            const char *ref = model_qdict_get_str(me->options, ch.name);
            if (!ref || strcmp(ref, c->name) != 0)
                continue;
            child_keep_old = true;
        } else {
            char *dot = bg_asprintf("%s.", ch.name);
            model_qdict_extract_sub(me->explicit_options, NULL, dot);
            model_qdict_extract_sub(me->options, &child_options, dot);
            free(dot);
        }
        /* the parent's options and flags at this point (the entry may move
         * when the queue grows: copy what the child needs) */
        ModelQDict *popts = model_qdict_clone(q->e[idx].options);
        Entry pcopy = q->e[idx];
        queue_child(q, w, c, child_options, ch.role, popts, &pcopy, child_keep_old);
        model_qdict_free(popts);
    }
}

/* ---- stage j: bdrv_reopen_parse_file_or_backing() ------------------------------------- */

static void unset_inherits_from(ModelWorld *w, const ModelNode *root, const ModelChild *child)
{
    ModelNode *cb = model_graph_node(w, child->node);
    if (cb->inherits_from == root->id) {
        bool other = false;
        for (size_t i = 0; i < root->n_children; i++)
            if (&root->children[i] != child && root->children[i].node == cb->id)
                other = true;
        if (!other)
            cb->inherits_from = 0;
    }
    for (size_t i = 0; i < cb->n_children; i++)
        unset_inherits_from(w, root, &cb->children[i]);
}

static bool inherits_from_recursive(const ModelWorld *w, const ModelNode *child,
                                    const ModelNode *parent)
{
    while (child && child != parent)
        child = model_graph_node(w, child->inherits_from);
    return child != NULL;
}

/* bs->backing or bs->file as an edge */
static ModelChild *file_or_backing_edge(ModelNode *bs, bool is_backing)
{
    for (size_t i = 0; i < bs->n_children; i++) {
        ModelChild *c = &bs->children[i];
        if (is_backing ? strcmp(c->name, "backing") == 0
                       : (strcmp(c->name, "file") == 0 ||
                          (bs->drv->kind == BG_DRV_FILTER && (c->role & MODEL_ROLE_PRIMARY))))
            return c;
    }
    return NULL;
}

/* bdrv_set_file_or_backing_noperm(); the removed edge is noted in E for the
 * abort (bdrv_remove_child() is in the transaction even if the attach fails) */
static bool set_file_or_backing(ModelWorld *w, Entry *e, ModelNode *bs, ModelNode *new_bs,
                                bool is_backing, BgError *err)
{
    bool update_inherits_from = new_bs && inherits_from_recursive(w, new_bs, bs);
    ModelChild *child = file_or_backing_edge(bs, is_backing);
    if (child && child->frozen)
        return bg_error_setf(err, BG_MSG_FROZEN_LINK, child->name, bs->name,
                             model_graph_node(w, child->node)->name);
    if (is_backing && bs->drv->kind != BG_DRV_FILTER && !(bs->drv->flags & BG_DRVF_BACKING))
        return bg_error_setf(err, BG_MSG_NO_BACKING_SUPPORT, bs->drv->name, bs->name);
    unsigned role;
    if (bs->drv->kind == BG_DRV_FILTER)
        role = MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY;
    else if (is_backing)
        role = MODEL_ROLE_COW;
    else if (!child)
        return bg_error_setf(err, BG_MSG_FILE_TO_FORMAT);
    else
        role = child->role;
    if (child) {
        unset_inherits_from(w, bs, child);
        assert(e->n_removed < sizeof(e->removed) / sizeof(e->removed[0]));
        e->removed[e->n_removed++] = child->seq;
        char *name = bg_strdup(child->name);
        model_graph_detach(w, bs, name);
        free(name);
    }
    if (!new_bs) {
        model_io_refresh_limits(w, bs);     /* goto out */
        return true;
    }
    /* bdrv_attach_child_noperm() */
    if (model_graph_reaches(w, new_bs, bs))
        return bg_error_setf(err, BG_MSG_CHILD_CYCLE, new_bs->name, is_backing ? "backing" : "file",
                             bs->name);
    if (!model_aio_attach(w, bs, new_bs, err))
        return false;
    model_graph_attach(w, bs, new_bs, is_backing ? "backing" : "file", role);
    if (update_inherits_from)
        new_bs->inherits_from = bs->id;
    model_io_refresh_limits(w, bs);     /* out: bdrv_refresh_limits(parent_bs) */
    return true;
}

static bool parse_file_or_backing(ModelWorld *w, Entry *e, ModelQDict *opts, bool is_backing,
                                  BgError *err)
{
    ModelNode *bs = model_graph_node(w, e->node);
    ModelChild *edge = file_or_backing_edge(bs, is_backing);
    ModelNode *old = edge ? model_graph_node(w, edge->node) : NULL;
    const char *child_name = is_backing ? "backing" : "file";
    json_t *value = model_qdict_get(opts, child_name);
    ModelNode *new_bs = NULL;
    if (!value)
        return true;
    if (json_is_string(value)) {
        const char *str = json_string_value(value);
        new_bs = model_graph_find(w, str);
        if (!new_bs)
            return bg_error_setf(err, BG_MSG_LOOKUP_BS, "", str);
        if (model_graph_reaches(w, new_bs, bs))
            return bg_error_setf(err, BG_MSG_CHILD_CYCLE, str, child_name, bs->name);
    }
    if (old == new_bs)
        return true;
    if (old) {
        if (model_graph_skip_implicit(w, old) == new_bs)
            return true;
        if (old->implicit)
            return bg_error_setf(err, BG_MSG_REPLACE_IMPLICIT, child_name, bs->name);
    }
    if (bs->drv->kind == BG_DRV_FILTER && !old)
        return bg_error_setf(err, BG_MSG_FILTER_NO_BACKING, bs->name, bs->drv->name, child_name);
    if (is_backing)
        e->old_backing = old ? old->id : 0;
    else
        e->old_file = old ? old->id : 0;
    return set_file_or_backing(w, e, bs, new_bs, is_backing, err);
}

/* ---- stages a-k: bdrv_reopen_prepare() -------------------------------------------------- */

static bool is_mutable(const ModelNode *bs, const char *key)
{
    static const char *const common[] = { "node-name", "discard", "cache.direct", "cache.no-flush",
                                          "read-only", "auto-read-only", "detect-zeroes" };
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        if (strcmp(key, common[i]) == 0)
            return true;
    const ModelOpt *o = model_opt_find(bs->drv->name, key);
    if (o && o->driver[0] && (o->flags & BG_OF_MUTABLE))
        return true;
    /* qcow2's mutable_opts lists every overlap-check.<bit> option */
    return strcmp(bs->drv->name, "qcow2") == 0 && strncmp(key, "overlap-check.", 14) == 0;
}

/* The driver's bdrv_reopen_prepare(): consumes its options, may fail. */
static bool driver_prepare(ModelState *st, ModelWorld *w, Entry *e, ModelNode *bs,
                           ModelQDict *opts, BgError *err)
{
    const char *d = bs->drv->name;
    if (strcmp(d, "file") == 0) {
        /* raw_reopen_prepare(): all raw_runtime_opts absorbed, the two
         * cache options used, the rest put back as strings */
        static const char *const back[] = { "filename", "pr-manager", "locking", "aio",
                                            "aio-max-batch" };
        model_qdict_del(opts, "drop-cache");
        model_qdict_del(opts, "x-check-cache-dropped");
        ModelQDict *tmp = model_qdict_new();
        for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
            json_t *v = model_qdict_get(opts, back[i]);
            if (!v)
                continue;
            char *s = model_qobject_to_opt_str(v);
            if (s)
                model_qdict_put_str(tmp, back[i], s);
            free(s);
            model_qdict_del(opts, back[i]);
        }
        /* qemu_opts_to_qdict(): in the order QemuOpts keeps them */
        for (size_t i = 0; i < tmp->n; i++)
            model_qdict_put(opts, tmp->e[i].key, json_incref(tmp->e[i].val));
        model_qdict_free(tmp);
        return true;
    }
    if (strcmp(d, "qcow2") == 0) {
        bool clean;
        bool ok = model_qcow2_update_options(st, model_open_qcow2_file(st, w, bs),
                                             model_qcow2_lazy_refcounts(bs), opts, &clean, err);
        /* qcow2_reopen_prepare(): a node reopened read-only is flushed and
         * marked clean too */
        if (ok && e->read_only)
            clean = true;
        /* qcow2_update_options_prepare() flushed both metadata caches
         * before the checks that may still fail */
        if (ok)
            model_io_qcow2_written_back(st, w, bs);
        if (clean) {
            e->qcow2_clean = true;
            bs->qcow2_dirty = false;
        }
        return ok;
    }
    if (strcmp(d, "raw") == 0) {
        /* raw_reopen_prepare(): checked against the current `file` child */
        static const char *const sizes[] = { "offset", "size", NULL };
        if (!model_qcow2_opts_sizes(opts, sizes, err))
            return false;
        ModelNode tmp = *bs;
        if (!model_open_raw_apply(st, w, &tmp, opts, err))
            return false;
        e->raw_offset = tmp.offset;
        e->raw_size = tmp.size;
        e->raw_has_size = tmp.has_size;
        model_qdict_del(opts, "offset");
        model_qdict_del(opts, "size");
        return true;
    }
    if (strcmp(d, "throttle") == 0) {
        const char *g = model_open_throttle_group(w, opts, err);
        if (!g)
            return false;
        e->throttle_group = bg_strdup(g);
        model_qdict_del(opts, "throttle-group");
        return true;
    }
    return true;   /* null-co, null-aio, blkdebug: nothing consumed */
}

static bool prepare(ModelState *st, ModelWorld *w, Entry *e, BgError *err)
{
    ModelNode *bs = model_graph_node(w, e->node);
    /* QEMU works on reopen_state->options itself (its order) and, once
     * prepared, puts back the clone it took at the start (orig_reopen_opts):
     * the working copy keeps e->options' order, which becomes its clone */
    ModelQDict *opts = model_qdict_copy(e->options);
    bool ok = false;

    /* a-d: bdrv_runtime_opts absorbed */
    json_t *nn = model_qdict_get(opts, "node-name"), *drv = model_qdict_get(opts, "driver");
    json_t *fs = model_qdict_get(opts, "force-share");
    char *nn_s = nn ? model_qobject_to_opt_str(nn) : NULL;
    char *drv_s = drv ? model_qobject_to_opt_str(drv) : NULL;
    char *fs_s = fs ? model_qobject_to_opt_str(fs) : NULL;
    const char *discard = model_qdict_get_str(opts, "discard");
    if (discard)
        e->unmap = strcmp(discard, "unmap") == 0 || strcmp(discard, "on") == 0;
    const char *dz = model_qdict_get_str(opts, "detect-zeroes");
    e->detect_zeroes = !dz ? MODEL_DZ_OFF : strcmp(dz, "on") == 0 ? MODEL_DZ_ON
                       : strcmp(dz, "unmap") == 0 ? MODEL_DZ_UNMAP : MODEL_DZ_OFF;
    static const char *const generic[] = { "node-name", "driver", "cache.direct", "cache.no-flush",
                                           "read-only", "auto-read-only", "discard",
                                           "detect-zeroes", "force-share" };
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
        model_qdict_del(opts, generic[i]);
    if (e->detect_zeroes == MODEL_DZ_UNMAP && !e->unmap) {
        bg_error_setf(err, BG_MSG_DETECT_ZEROES_UNMAP);
        goto out;
    }
    /* qemu_opts_to_qdict(): what QemuOpts still holds, as strings */
    if (nn_s)
        model_qdict_put_str(opts, "node-name", nn_s);
    if (drv_s)
        model_qdict_put_str(opts, "driver", drv_s);
    if (fs_s)
        model_qdict_put_str(opts, "force-share", fs_s);

    /* f */
    if (!(bs->drv->flags & BG_DRVF_REOPEN)) {
        bg_error_setf(err, BG_MSG_NO_REOPEN_SUPPORT, bs->drv->name,
                      model_graph_device_or_node_name(w, bs));
        goto out;
    }
    /* g: bdrv_reset_options_allowed() over the current options */
    size_t cnt;
    const char **keys = model_qdict_order(bs->options, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        if (!model_qdict_has(opts, keys[i]) && !is_mutable(bs, keys[i])) {
            bg_error_setf(err, BG_MSG_CANNOT_RESET_OPTION, keys[i]);
            free(keys);
            goto out;
        }
    }
    free(keys);
    /* h */
    if (!driver_prepare(st, w, e, bs, opts, err))
        goto out;
    /* i */
    if ((bs->drv->flags & BG_DRVF_BACKING) && e->backing_missing &&
        (model_graph_backing(w, bs) || (bs->backing_file && bs->backing_file[0]))) {
        bg_error_setf(err, BG_MSG_BACKING_MISSING, bs->name);
        goto out;
    }
    /* j */
    if (!parse_file_or_backing(w, e, opts, true, err))
        goto out;
    model_qdict_del(opts, "backing");
    if (!parse_file_or_backing(w, e, opts, false, err))
        goto out;
    model_qdict_del(opts, "file");
    /* k */
    bs = model_graph_node(w, e->node);
    keys = model_qdict_order(opts, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        json_t *nv = model_qdict_get(opts, keys[i]);
        if (json_is_string(nv)) {
            ModelNode *c = model_graph_child_node(w, bs, keys[i]);
            if (c && strcmp(c->name, json_string_value(nv)) == 0)
                continue;
        }
        if (!model_qobject_equal(nv, model_qdict_get(bs->options, keys[i]))) {
            bg_error_setf(err, BG_MSG_CANNOT_CHANGE_OPTION, keys[i]);
            free(keys);
            goto out;
        }
    }
    free(keys);
    ok = true;
    ModelQDict *orig = model_qdict_clone(e->options);
    model_qdict_free(e->options);
    e->options = orig;
out:
    free(nn_s);
    free(drv_s);
    free(fs_s);
    model_qdict_free(opts);
    return ok;
}

/* ---- commit: bdrv_reopen_commit() -------------------------------------------------------- */

static void commit(ModelWorld *w, Entry *e)
{
    ModelNode *bs = model_graph_node(w, e->node);
    const char *d = bs->drv->name;
    bs->data_gen++;
    bs->l2_warm = 0;        /* qcow2_update_options_prepare() makes new caches */
    if (strcmp(d, "raw") == 0) {
        bs->offset = e->raw_offset;
        bs->size = e->raw_size;
        bs->has_size = e->raw_has_size;
    } else if (strcmp(d, "throttle") == 0) {
        free(bs->throttle_group);
        bs->throttle_group = bg_strdup(e->throttle_group);
    }
    model_qdict_free(bs->options);
    model_qdict_free(bs->explicit_options);
    bs->options = e->options;
    bs->explicit_options = e->explicit_options;
    e->options = e->explicit_options = NULL;
    bs->detect_zeroes = e->detect_zeroes;
    for (size_t i = 0; i < bs->n_children; i++) {
        model_qdict_del(bs->explicit_options, bs->children[i].name);
        model_qdict_del(bs->options, bs->children[i].name);
    }
    model_qdict_del(bs->explicit_options, "backing");
    model_qdict_del(bs->options, "backing");
    model_io_refresh_limits(w, bs);     /* bdrv_refresh_limits(bs) */
}

/* bdrv_reopen_multiple() on W in place (a copy the caller drops on failure);
 * OLD is the world before, for the permission messages. */
static bool reopen_world(ModelState *st, ModelWorld *w, const ModelWorld *old, Queue *q,
                         BgError *err)
{
    size_t i;
    /* bdrv_reopen_multiple() flushes every queued node before it prepares
     * any: "Error flushing drive" from a blkdebug rule is not modelled */
    for (i = 0; i < q->n; i++)
        if (model_blkdebug_flush_may_fail(w, model_graph_node(w, q->e[i].node))) {
            st->unsupported = "a reopen whose flush meets an active blkdebug error rule is not "
                              "modelled";
            return false;
        }
    for (i = 0; i < q->n; i++)
        if (model_io_qcow2_stale_flush(st, w, model_graph_node(w, q->e[i].node))) {
            /* the image file's bytes are unknown from here on */
            st->unsupported = st->lost = "a reopen whose flush writes a qcow2 node's caches into "
                                         "an image file made anew since the node opened it";
            return false;
        }
    for (i = 0; i < q->n; i++)
        if (!prepare(st, w, &q->e[i], err))
            return false;
    /* the new flags take effect for the permission update
     * (bdrv_is_writable_after_reopen()) */
    for (i = 0; i < q->n; i++) {
        ModelNode *bs = model_graph_node(w, q->e[i].node);
        bs->read_only = q->e[i].read_only;
        bs->auto_read_only = q->e[i].auto_read_only;
        bs->nocache = q->e[i].nocache;
        bs->noflush = q->e[i].noflush;
        bs->unmap = q->e[i].unmap;
    }
    int *order = NULL;
    size_t len = 0;
    for (i = 0; i < q->n; i++) {
        model_perm_topo(w, model_graph_node(w, q->e[i].node), &order, &len);
        ModelNode *ob = model_graph_node(w, q->e[i].old_backing);
        ModelNode *of = model_graph_node(w, q->e[i].old_file);
        if (ob)
            model_perm_topo(w, ob, &order, &len);
        if (of)
            model_perm_topo(w, of, &order, &len);
    }
    bool perms = model_perm_refresh_from(w, old, order, len, err);
    free(order);
    if (!perms)
        return false;
    for (i = q->n; i-- > 0;)
        commit(w, &q->e[i]);
    model_graph_collect(w);
    BgError ignore = {0};
    model_perm_refresh(w, NULL, 0, &ignore);   /* the same state, checked above */
    return true;
}

bool model_reopen(ModelState *st, const json_t *list, BgError *err)
{
    ModelWorld *w = model_graph_copy(st->w);
    Queue q = {0};
    bool ok = false;
    size_t i;
    json_t *elem;
    json_array_foreach(list, i, elem) {
        const char *name = json_string_value(json_object_get(elem, "node-name"));
        if (!name) {
            bg_error_setf(err, BG_MSG_NODE_NAME_NOT_SPEC);
            goto out;
        }
        ModelNode *bs = model_graph_find(w, name);
        if (!bs) {
            bg_error_setf(err, BG_MSG_FIND_NODE_FAILED, name);
            goto out;
        }
        json_t *o = model_qapi_output(elem);
        ModelQDict *qd = model_qdict_from_json(o);
        json_decref(o);
        queue_child(&q, w, bs, qd, 0, NULL, NULL, false);
    }
    if (q.n == 0) {
        st->unsupported = "an empty blockdev-reopen list aborts QEMU 7.2";
        goto out;
    }
    if (!reopen_world(st, w, st->w, &q, err)) {
        /* qcow2_mark_clean() wrote the header in prepare: no abort undoes it */
        for (i = 0; i < q.n; i++)
            if (q.e[i].qcow2_clean)
                model_graph_node(st->w, q.e[i].node)->qcow2_dirty = false;
        /* tran_abort() undoes the actions newest first: each file or backing
         * edge stage j removed is attached again, so the world before differs
         * in order (the first one removed ends up at the head) */
        for (i = q.n; i-- > 0;)
            for (size_t r = q.e[i].n_removed; r-- > 0;)
                model_graph_reattach_edge(st->w, model_graph_node(st->w, q.e[i].node),
                                          q.e[i].removed[r]);
        goto out;
    }
    ModelWorld *old = st->w;
    st->w = w;
    w = old;
    ok = true;
out:
    queue_free(&q);
    model_graph_free(w);
    return ok;
}

/* bdrv_reopen_set_read_only(): a reopen of N keeping its options, in W. */
bool model_reopen_set_read_only(ModelState *st, ModelWorld *w, ModelNode *n, bool read_only,
                                BgError *err)
{
    ModelWorld *before = model_graph_copy(w);
    Queue q = {0};
    ModelQDict *opts = model_qdict_new();
    model_qdict_put(opts, "read-only", json_boolean(read_only));
    queue_child(&q, w, n, opts, 0, NULL, NULL, true);
    bool ok = reopen_world(st, w, before, &q, err);
    if (!ok) {
        /* the transaction's abort: W is the caller's own world here (not a
         * copy to drop), so the flags set for the permission update go
         * back, and the permissions with them (stream_clean(), for one,
         * ignores the error and the node stays writable) */
        for (size_t i = 0; i < q.n; i++) {
            ModelNode *x = model_graph_node(w, q.e[i].node);
            const ModelNode *was = model_graph_node(before, q.e[i].node);
            if (!x || !was)
                continue;
            x->read_only = was->read_only;
            x->auto_read_only = was->auto_read_only;
            x->nocache = was->nocache;
            x->noflush = was->noflush;
            x->unmap = was->unmap;
        }
        BgError ignore = {0};
        model_perm_refresh(w, NULL, 0, &ignore);
    }
    queue_free(&q);
    model_graph_free(before);
    return ok;
}
