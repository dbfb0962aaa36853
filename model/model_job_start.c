/*
 * model_job_start.c: block-stream and block-commit up to a running job.
 *
 * What this is: the QMP handlers' argument checks in QEMU's order (QAPI
 * types, mutually exclusive arguments, the device and the base or top node
 * by name or by file name, root nodes, op blockers), then what
 * stream_start(), commit_start() and commit_active_start() do to the
 * graph: the top made writable for a stream, the base for a commit, a
 * copy-on-read / commit_top / mirror_top filter inserted above the top, the
 * chain frozen, the job's BlockBackends (s->blk, s->base, s->top,
 * s->target; block_job_create() gives a job none of its own in 7.2: its
 * "main node" child takes the job's permissions) and its own children with
 * their permissions.  Everything happens on a copy of the world that replaces it
 * only when the job runs; a job that was created and then failed leaves
 * its "created" and "null" status changes, and a node made writable for
 * it is reopened read-only again (bdrv_reopen_set_read_only() in the
 * failure paths), which leaves "read-only": true in its explicit options.
 * A negative speed fails in block_job_create(); a valid one is kept and
 * only reported.
 * What it is not: the state machine (model_job.c).
 *
 * Mirrors QEMU 7.2.0 blockdev.c qmp_block_stream() / qmp_block_commit() /
 * qmp_get_root_bs(), block.c bdrv_find_backing_image() /
 * bdrv_find_overlay() / bdrv_find_base() / bdrv_chain_contains(),
 * block/stream.c stream_start(), block/commit.c commit_start(),
 * block/mirror.c commit_active_start() / mirror_start_job(), blockjob.c
 * block_job_create() / block_job_add_bdrv(), job.c job_create()
 * (id_wellformed()) / job_early_fail().
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

static const char *str_arg(const json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

/* The QAPI visit of a command's arguments: NAME:TYPE pairs, '*' optional,
 * TYPE s(tring), b(ool), i(nt), e(num BlockdevOnError). */
static bool qapi_args(const json_t *args, const char *const *members, BgError *err)
{
    for (size_t i = 0; members[i]; i++) {
        const char *m = members[i];
        bool optional = m[0] == '*';
        char name[64];
        const char *colon = strchr(m, ':');
        snprintf(name, sizeof(name), "%.*s", (int)(colon - m - optional), m + optional);
        json_t *v = json_object_get(args, name);
        if (!v) {
            if (!optional)
                return bg_error_setf(err, BG_MSG_QAPI_MISSING, name);
            continue;
        }
        char t = colon[1];
        if ((t == 's' || t == 'e') && !json_is_string(v))
            return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, name, "string");
        if (t == 'b' && !json_is_boolean(v))
            return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, name, "boolean");
        if (t == 'i' && !json_is_integer(v))
            return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, name, "integer");
        if (t == 'e') {
            static const char *const on_error[] = { "report", "ignore", "enospc", "stop", "auto" };
            bool ok = false;
            for (size_t k = 0; k < 5; k++)
                ok |= strcmp(json_string_value(v), on_error[k]) == 0;
            if (!ok)
                return bg_error_setf(err, BG_MSG_QAPI_ENUM_VALUE, name, json_string_value(v));
        }
    }
    /* the members taken, in visit order; the first key left is named */
    const char **taken = bg_calloc(json_object_size(args) + 1, sizeof(*taken));
    size_t n_taken = 0;
    for (size_t i = 0; members[i]; i++) {
        const char *m = members[i] + (members[i][0] == '*');
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)args, k, v)
            if (strncmp(m, k, strlen(k)) == 0 && m[strlen(k)] == ':')
                taken[n_taken++] = k;
    }
    const char *k = model_qapi_first_unexpected(args, taken, n_taken);
    free(taken);
    if (k)
        return bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, k);
    return true;
}

/* ---- chains ------------------------------------------------------------------- */

/* bdrv_chain_contains(): TARGET is TOP or below it through filter-or-COW links. */
static bool chain_contains(const ModelWorld *w, const ModelNode *top, const ModelNode *target)
{
    for (const ModelNode *it = top; it; it = model_graph_filter_or_cow(w, it))
        if (it == target)
            return true;
    return false;
}

/* bdrv_find_overlay(): the node whose next non-filter backing is BASE (the
 * bottom of the chain when BASE is NULL). */
static ModelNode *find_overlay(const ModelWorld *w, ModelNode *active, ModelNode *base)
{
    base = model_graph_skip_filters(w, base);
    for (active = model_graph_skip_filters(w, active); active;) {
        ModelNode *next = model_graph_skip_filters(w, model_graph_backing(w, active));
        if (next == base)
            return active;
        active = next;
    }
    return NULL;
}

/* realpath(): the model's files live in its table; no symlinks inside. */
static char *real_path(ModelState *st, const char *p)
{
    if (p[0] != '/')
        return NULL;
    BgBuf b = {0};
    for (const char *s = p; *s;) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 || (len == 1 && s[0] == '.')) {
        } else if (len == 2 && s[0] == '.' && s[1] == '.') {
            char *slash = b.data ? strrchr(b.data, '/') : NULL;
            if (slash) {
                b.len = (size_t)(slash - b.data);
                b.data[b.len] = '\0';
            }
        } else {
            bg_buf_puts(&b, "/");
            bg_buf_append(&b, s, len);
        }
        s += len;
    }
    char *r = bg_buf_take(&b);
    if (!r || !model_image_find(&st->files, r)) {
        free(r);
        return NULL;
    }
    return r;
}

/* bdrv_find_backing_image() */
static ModelNode *find_backing_image(ModelState *st, ModelWorld *w, ModelNode *bs, const char *name)
{
    bool is_protocol = model_path_has_protocol(name);
    for (ModelNode *curr = model_graph_skip_filters(w, bs); curr && model_graph_backing(w, curr);) {
        ModelNode *below = model_graph_skip_filters(w, model_graph_backing(w, curr));
        char *below_name = model_query_filename(st, w, model_graph_backing(w, curr));
        bool overridden = strcmp(curr->auto_backing_file ? curr->auto_backing_file : "",
                                 below_name) != 0;
        free(below_name);
        const char *bf = curr->backing_file ? curr->backing_file : "";
        bool found = false;
        if (overridden) {
            char *fn = model_query_filename(st, w, below);
            found = strcmp(name, fn) == 0;
            free(fn);
        } else if (is_protocol || model_path_has_protocol(bf)) {
            char *full = model_query_make_absolute(st, w, curr, bf, NULL);
            found = strcmp(name, bf) == 0 || (full && strcmp(name, full) == 0);
            free(full);
        } else {
            char *a = model_query_make_absolute(st, w, curr, name, NULL);
            char *b = model_query_make_absolute(st, w, curr, bf, NULL);
            char *ra = a ? real_path(st, a) : NULL, *rb = ra && b ? real_path(st, b) : NULL;
            found = ra && rb && strcmp(ra, rb) == 0;
            free(a);
            free(b);
            free(ra);
            free(rb);
        }
        if (found)
            return below;
        curr = below;
    }
    return NULL;
}

/* job_create()'s checks of the id. */
static bool job_id_ok(const ModelWorld *w, const char *id, BgError *err)
{
    if (!id)
        id = "";     /* block_job_create(): the node's device name, "" */
    bool good = (id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z');
    for (const char *p = id + 1; good && *p; p++)
        good = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               strchr("-._", *p);
    if (!good)
        return bg_error_setf(err, BG_MSG_JOB_ID_INVALID, id);
    if (model_graph_job(w, id))
        return bg_error_setf(err, BG_MSG_JOB_ID_IN_USE, id);
    return true;
}

static ModelJob *job_new(ModelWorld *w, const char *id, ModelJobType type, const json_t *args)
{
    w->jobs = bg_realloc(w->jobs, (w->n_jobs + 1) * sizeof(*w->jobs));
    ModelJob *j = &w->jobs[w->n_jobs++];
    json_t *af = json_object_get(args, "auto-finalize"), *ad = json_object_get(args, "auto-dismiss");
    *j = (ModelJob){ .id = bg_strdup(id), .type = type, .status = MODEL_JOB_CREATED,
                     .auto_finalize = af ? json_is_true(af) : true,
                     .auto_dismiss = ad ? json_is_true(ad) : true };
    const char *bf = str_arg(args, "backing-file");
    j->backing_file_str = bf ? bg_strdup(bf) : NULL;
    json_t *speed = json_object_get(args, "speed");
    j->speed = speed ? json_integer_value(speed) : 0;
    return j;
}

/* block_job_create() -> block_job_set_speed_locked(), once the job holds
 * its main node: a negative speed fails the job (job_early_fail()). */
static bool speed_ok(const ModelJob *j, BgError *err)
{
    if (j->speed < 0)
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, "speed", "a non-negative value");
    return true;
}

/* job_early_fail(): the job existed; its status changes remain. */
static void early_fail_events(ModelState *st, const char *id)
{
    model_event(st, "JOB_STATUS_CHANGE", json_pack("{s:s,s:s}", "id", id, "status", "created"));
    model_event(st, "JOB_STATUS_CHANGE", json_pack("{s:s,s:s}", "id", id, "status", "null"));
}

/* The failure paths of stream_start(), commit_start() and
 * commit_active_start() after the node NODE_ID was made writable for the
 * job: W_RW, the world right after that reopen, becomes the state's world
 * (the job and its filter are gone), and bdrv_reopen_set_read_only(bs,
 * true, NULL) makes the node read-only again.  Being a reopen that keeps
 * the old options, it leaves "read-only": true among the node's explicit
 * options, which a later blockdev-reopen that keeps old explicit options
 * (a child by reference, a node queued twice) keeps too. */
static void restore_read_only(ModelState *st, ModelWorld *w_rw, int node_id)
{
    ModelWorld *old = st->w;
    st->w = w_rw;
    model_graph_free(old);
    BgError ignore = {0};       /* errp NULL: a failure leaves the node writable */
    model_reopen_set_read_only(st, st->w, model_graph_node(st->w, node_id), true, &ignore);
}

/* A filter made by a job (bdrv_insert_node() / bdrv_new_open_driver()). */
static ModelNode *new_filter(ModelWorld *w, const char *drv, const char *name, BgError *err)
{
    if (name && model_graph_find(w, name)) {
        bg_error_setf(err, BG_MSG_DUPLICATE_NODE, name);
        return NULL;
    }
    ModelNode *f = model_graph_node_new(w, model_driver_find(drv));
    if (name) {
        f->name = bg_strdup(name);
        model_qdict_put_str(f->options, "node-name", name);
        model_qdict_put_str(f->explicit_options, "node-name", name);
    } else {
        f->name = bg_asprintf("#block%u", ++w->auto_counter);
        f->auto_name = true;
        f->implicit = true;
    }
    model_qdict_put_str(f->options, "driver", drv);
    model_qdict_put_str(f->explicit_options, "driver", drv);
    w->nodes = bg_realloc(w->nodes, (w->n_nodes + 1) * sizeof(*w->nodes));
    w->nodes[w->n_nodes++] = f;
    return f;
}

/* bdrv_freeze_backing_chain(FROM, TO) */
/* block_job_add_bdrv() / blk_insert_bs(): a new user of NODE, whose
 * permissions are refreshed at once (bdrv_root_attach_child()). */
static bool add_user(ModelWorld *w, ModelBlkKind kind, const char *id, ModelNode *node,
                     unsigned perm, unsigned shared, const char *name, BgError *err)
{
    model_job_add_blk(w, kind, id, node->id, perm, shared, name);
    return model_perm_refresh_below(w, node, err);
}

/* The permissions of the job's parents, then the job runs: W replaces the world. */
static bool start(ModelState *st, ModelWorld *w, ModelJob *j, BgError *err)
{
    bool ok = model_perm_refresh_below(w, model_graph_node(w, j->filter), err);
    if (!ok)
        return false;
    ModelWorld *old = st->w;
    st->w = w;
    model_graph_free(old);
    model_job_started(st, model_graph_job(st->w, j->id));
    return true;
}

/* ---- block-stream ------------------------------------------------------------- */

bool model_job_block_stream(ModelState *st, const json_t *args, BgError *err)
{
    static const char *const members[] = {
        "*job-id:s", "device:s", "*base:s", "*base-node:s", "*backing-file:s", "*bottom:s",
        "*speed:i", "*on-error:e", "*filter-node-name:s", "*auto-finalize:b", "*auto-dismiss:b",
        NULL,
    };
    if (!qapi_args(args, members, err))
        return false;
    const char *device = str_arg(args, "device"), *base_name = str_arg(args, "base");
    const char *base_node = str_arg(args, "base-node"), *bottom_name = str_arg(args, "bottom");
    const char *id = str_arg(args, "job-id");
    if (base_name && base_node)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "base", "base-node");
    if (base_name && bottom_name)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "base", "bottom");
    if (bottom_name && base_node)
        return bg_error_setf(err, BG_MSG_JOB_EXCLUSIVE, "bottom", "base-node");
    ModelWorld *w = model_graph_copy(st->w), *w_rw = NULL;
    ModelNode *bs = model_graph_find(w, device), *base = NULL, *bottom = NULL;
    bool created = false, inserted = false, blk_made = false;   /* blk_made: s->blk exists */
    int top_id = 0;                          /* the node a filter went above */
    if (!bs) {
        bg_error_setf(err, BG_MSG_LOOKUP_BS, device, device);
        goto fail;
    }
    if (base_name && !(base = find_backing_image(st, w, bs, base_name))) {
        bg_error_setf(err, BG_MSG_JOB_BASE_NOT_FOUND, base_name);
        goto fail;
    }
    if (base_node) {
        if (!(base = model_graph_find(w, base_node))) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", base_node);
            goto fail;
        }
        if (bs == base || !chain_contains(w, bs, base)) {
            bg_error_setf(err, BG_MSG_JOB_NOT_BACKING, base_node, device);
            goto fail;
        }
    }
    if (bottom_name) {
        if (!(bottom = model_graph_find(w, bottom_name))) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", bottom_name);
            goto fail;
        }
        if (bottom->drv->kind == BG_DRV_FILTER) {
            bg_error_setf(err, BG_MSG_JOB_BOTTOM_FILTER, bottom_name);
            goto fail;
        }
        if (!chain_contains(w, bs, bottom)) {
            bg_error_setf(err, BG_MSG_JOB_BOTTOM_NOT_IN_CHAIN, bottom_name, device);
            goto fail;
        }
    }
    ModelNode *iter_end = bottom ? model_graph_filter_or_cow(w, bottom) : base;
    for (ModelNode *it = bs; it && it != iter_end; it = model_graph_filter_or_cow(w, it)) {
        char *reason = model_graph_op_blocker(w, it, MODEL_OP_STREAM);
        if (reason) {
            bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, it), reason);
            free(reason);
            goto fail;
        }
    }
    if (!base && str_arg(args, "backing-file")) {
        bg_error_setf(err, BG_MSG_STREAM_BACKING_FILE);
        goto fail;
    }

    /* stream_start() */
    ModelNode *overlay = bottom, *above_base = bottom;
    if (!bottom) {
        overlay = find_overlay(w, bs, base);
        if (!overlay) {
            bg_error_setf(err, BG_MSG_STREAM_NOT_IN_CHAIN, base->name, bs->name);
            goto fail;
        }
        above_base = overlay;
        if (model_graph_backing(w, above_base) != base) {
            above_base = model_graph_backing(w, above_base);
            while (model_graph_filtered(w, above_base) != base)
                above_base = model_graph_filtered(w, above_base);
        }
    }
    bool bs_read_only = bs->read_only;
    if (bs_read_only && !model_reopen_set_read_only(st, w, bs, false, err))
        goto fail;
    if (bs_read_only)
        w_rw = model_graph_copy(w);          /* what a later failure goes back to */
    ModelNode *cor = new_filter(w, "copy-on-read", str_arg(args, "filter-node-name"), err);
    if (!cor) {
        bg_error_prepend(err, BG_MSG_INSERT_CREATE_PREFIX);
        goto fail;
    }
    /* bdrv_insert_node(): cor_open() takes its child, with WRITE_UNCHANGED
     * (cor_child_perm()), before the filter replaces anything; a node below
     * that cannot give it fails the open */
    model_graph_attach(w, cor, bs, "file", MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY);
    model_io_refresh_limits(w, cor);          /* bdrv_open_driver() */
    if (!model_perm_refresh_below(w, cor, err)) {
        bg_error_prepend(err, BG_MSG_INSERT_CREATE_PREFIX);
        goto fail;
    }
    model_qdict_put_str(cor->options, "bottom", overlay->name);
    cor->total = model_open_length(st, w, bs);
    cor->iothread = bs->iothread ? bg_strdup(bs->iothread) : NULL;
    model_graph_replace_node(w, bs, cor);     /* the filter's own edge stays on bs */
    inserted = true;
    top_id = bs->id;
    model_graph_freeze_chain(w, cor, overlay, true);   /* cor_open() with bottom */
    if (!job_id_ok(w, id, err))
        goto fail;
    ModelJob *j = job_new(w, id, MODEL_JOB_STREAM, args);
    created = true;
    j->frozen_to = overlay->id;
    j->was_ro = bs_read_only;                /* stream_clean() makes the top read-only again */
    j->filter = cor->id;
    j->top = bs->id;
    j->above_base = above_base->id;
    /* stream_run(): nothing to do when the top is the bottom of the chain */
    j->len = model_graph_skip_filters(w, bs) == overlay
                 ? 0 : (model_open_length(st, w, bs) + 511) / 512 * 512;
    /* stream_start(): each user is checked as it comes, so a lock error
     * names the first node that cannot have it */
    unsigned basic = MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED;
    bool ok = add_user(w, MODEL_BLK_JOB_CHILD, id, cor, 0, MODEL_PERM_ALL, "main node", err) &&
              speed_ok(j, err) &&
              (blk_made = add_user(w, MODEL_BLK_JOB, id, cor, MODEL_PERM_CONSISTENT_READ,
                                   basic | MODEL_PERM_WRITE, "root", err)) &&   /* s->blk */
              add_user(w, MODEL_BLK_JOB_CHILD, id, bs, 0, basic | MODEL_PERM_WRITE,
                       "active node", err);
    ModelNode *stop = model_graph_filter_or_cow(w, above_base);
    for (ModelNode *it = model_graph_filter_or_cow(w, bs); ok && it && it != stop;
         it = model_graph_filter_or_cow(w, it))
        ok = add_user(w, MODEL_BLK_JOB_CHILD, id, it, 0, basic, "intermediate node", err);
    if (!ok || !start(st, w, j, err))
        goto fail;
    model_graph_free(w_rw);
    return true;
fail:
    if (created)
        early_fail_events(st, id);
    /* QEMU 7.2 leaks s->blk when stream_start() fails after making it:
     * job_early_fail() frees the job, but only stream_clean() would unref
     * s->blk, and bdrv_cor_filter_drop() moves it, a parent of the filter,
     * to the top: an unnamed BlockBackend that holds consistent read and
     * shares no resize, there for good ("Node hd0 is in use" for
     * blockdev-del; regress/191, 203) */
    ModelWorld *after = w_rw ? w_rw : st->w;
    if (inserted)           /* bdrv_cor_filter_drop() */
        model_graph_reattach_parents(after, model_graph_node(after, top_id));
    if (blk_made) {
        model_job_add_blk(after, MODEL_BLK_LEAKED, "", top_id, MODEL_PERM_CONSISTENT_READ,
                          MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED |
                              MODEL_PERM_WRITE, "root");
        BgError ignore = {0};
        model_perm_refresh_below(after, model_graph_node(after, top_id), &ignore);
    }
    if (w_rw)               /* then the top read-only again */
        restore_read_only(st, w_rw, bs->id);
    model_graph_free(w);
    return false;
}

/* ---- block-commit -------------------------------------------------------------- */

bool model_job_block_commit(ModelState *st, const json_t *args, BgError *err)
{
    static const char *const members[] = {
        "*job-id:s", "device:s", "*base-node:s", "*base:s", "*top-node:s", "*top:s",
        "*backing-file:s", "*speed:i", "*on-error:e", "*filter-node-name:s", "*auto-finalize:b",
        "*auto-dismiss:b", NULL,
    };
    if (!qapi_args(args, members, err))
        return false;
    const char *device = str_arg(args, "device"), *id = str_arg(args, "job-id");
    ModelWorld *w = model_graph_copy(st->w), *w_rw = NULL;
    ModelNode *bs = model_graph_find(w, device);
    bool created = false, inserted = false;
    int top_id = 0;                          /* the node a filter went above */
    /* qmp_get_root_bs(); DeviceNotFound comes before any other error */
    if (!bs) {
        st->err_class = "DeviceNotFound";
        bg_error_setf(err, BG_MSG_DEVICE_NOT_FOUND, device);
        goto fail;
    }
    if (!model_graph_is_root(w, bs)) {
        bg_error_setf(err, BG_MSG_JOB_NEED_ROOT);
        goto fail;
    }
    char *reason = model_graph_op_blocker(w, bs, MODEL_OP_COMMIT_SOURCE);
    if (reason) {
        bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, bs), reason);
        free(reason);
        goto fail;
    }
    ModelNode *top = bs, *base = NULL;
    const char *top_node = str_arg(args, "top-node"), *top_name = str_arg(args, "top");
    const char *base_node = str_arg(args, "base-node"), *base_name = str_arg(args, "base");
    if (top_node && top_name) {
        bg_error_setf(err, BG_MSG_JOB_MUTUALLY_EXCLUSIVE, "top-node", "top");
        goto fail;
    } else if (top_node) {
        if (!(top = model_graph_find(w, top_node))) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", top_node);
            goto fail;
        }
        if (!chain_contains(w, bs, top)) {
            bg_error_setf(err, BG_MSG_JOB_NOT_IN_CHAIN, top_node);
            goto fail;
        }
    } else if (top_name) {
        char *fn = model_query_filename(st, w, bs);
        if (strcmp(fn, top_name) != 0)
            top = find_backing_image(st, w, bs, top_name);
        free(fn);
        if (!top) {
            bg_error_setf(err, BG_MSG_JOB_TOP_NOT_FOUND, top_name);
            goto fail;
        }
    }
    if (base_node && base_name) {
        bg_error_setf(err, BG_MSG_JOB_MUTUALLY_EXCLUSIVE, "base-node", "base");
        goto fail;
    } else if (base_node) {
        if (!(base = model_graph_find(w, base_node))) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", base_node);
            goto fail;
        }
        if (!chain_contains(w, top, base)) {
            bg_error_setf(err, BG_MSG_JOB_NOT_IN_CHAIN, base_node);
            goto fail;
        }
    } else if (base_name) {
        if (!(base = find_backing_image(st, w, top, base_name))) {
            bg_error_setf(err, BG_MSG_JOB_BASE_NOT_FOUND, base_name);
            goto fail;
        }
    } else {
        base = find_overlay(w, top, NULL);  /* bdrv_find_base() */
    }
    for (ModelNode *it = top; it && it != model_graph_filter_or_cow(w, base);
         it = model_graph_filter_or_cow(w, it)) {
        reason = model_graph_op_blocker(w, it, MODEL_OP_COMMIT_TARGET);
        if (reason) {
            bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, it), reason);
            free(reason);
            goto fail;
        }
    }
    if (top == base) {
        bg_error_setf(err, BG_MSG_JOB_COMMIT_ITSELF);
        goto fail;
    }
    /* active commit when the top is the active layer or has a writer */
    unsigned top_perm, top_shared;
    model_perm_cumulative(w, top, &top_perm, &top_shared);
    bool layer = model_graph_skip_filters(w, top) == model_graph_skip_filters(w, bs);
    bool active = layer || (top_perm & MODEL_PERM_WRITE);
    if (active && str_arg(args, "backing-file")) {
        bg_error_setf(err, layer ? BG_MSG_JOB_BACKING_FILE_ACTIVE : BG_MSG_JOB_BACKING_FILE_WRITER);
        goto fail;
    }
    ModelNode *overlay = active ? NULL : find_overlay(w, bs, top);
    if (overlay) {
        reason = model_graph_op_blocker(w, overlay, MODEL_OP_COMMIT_TARGET);
        if (reason) {
            bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, overlay), reason);
            free(reason);
            goto fail;
        }
    }
    ModelJob *j = NULL;
    bool base_ro = base->read_only;
    ModelNode *f = NULL;
    if (!active) {
        /* commit_start(): a top and a base that are one node under their
         * filters are refused before the job exists */
        if (model_graph_skip_filters(w, top) == model_graph_skip_filters(w, base)) {
            bg_error_setf(err, BG_MSG_COMMIT_SAME_FILES);
            goto fail;
        }
        /* then the job, then the base made writable */
        if (!job_id_ok(w, id, err))
            goto fail;
        j = job_new(w, id, MODEL_JOB_COMMIT, args);
        created = true;
        if (!speed_ok(j, err))      /* block_job_create(), before the base is touched */
            goto fail;
        if (base_ro && !model_reopen_set_read_only(st, w, base, false, err))
            goto fail;
        if (base_ro)
            w_rw = model_graph_copy(w);        /* what a later failure goes back to */
        if (!(f = new_filter(w, "commit_top", str_arg(args, "filter-node-name"), err)))
            goto fail;
        f->read_only = true;                  /* bdrv_new_open_driver(..., 0) */
    } else {
        /* commit_active_start(): the base writable, then mirror_start_job() */
        if (base_ro && !model_reopen_set_read_only(st, w, base, false, err))
            goto fail;
        if (base_ro)
            w_rw = model_graph_copy(w);        /* what a later failure goes back to */
        if (model_graph_skip_filters(w, top) == model_graph_skip_filters(w, base)) {
            bg_error_setf(err, BG_MSG_JOB_MIRROR_ITSELF);
            goto fail;
        }
        if (!layer) {
            st->unsupported = "an active commit of a node below the active layer (one with a "
                              "writer) is not modelled";
            goto fail;
        }
        if (!(f = new_filter(w, "mirror_top", str_arg(args, "filter-node-name"), err)))
            goto fail;
    }
    f->iothread = top->iothread ? bg_strdup(top->iothread) : NULL;
    f->total = model_open_length(st, w, top);     /* ->total_sectors = top->total_sectors */
    model_graph_replace_node(w, top, f);
    inserted = true;
    top_id = top->id;
    /* bdrv_append() -> bdrv_set_backing_noperm(): a filter's "backing" is FILTERED */
    model_graph_attach(w, f, top, "backing", MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY);
    /* bdrv_set_file_or_backing_noperm() refreshes the filter's limits,
     * bdrv_append() then those of the node below it */
    model_io_refresh_limits(w, f);
    model_io_refresh_limits(w, top);
    if (active) {
        if (!job_id_ok(w, id, err))
            goto fail;
        j = job_new(w, id, MODEL_JOB_ACTIVE_COMMIT, args);
        created = true;
    }
    /* the model's handles may have moved with the job array */
    j = &w->jobs[w->n_jobs - 1];
    j->top = top->id;
    j->base = base->id;
    j->was_ro = base_ro;
    j->filter = f->id;
    model_graph_freeze_chain(w, f, base, true);
    j->frozen_to = base->id;
    if (active) {
        /* mirror_dirty_init(): the dirty bitmap (granularity 64 KiB, the
         * base's cluster size, bdrv_get_default_bitmap_granularity()) gets
         * what bdrv_is_allocated_above() finds above the base, the zeroes
         * past a shorter layer's end included (a granule that holds any of
         * it is dirty); mirror_iteration() clips the last granule to the
         * top's length (mirror_clip_bytes()) and mirror_iteration_done()
         * counts each operation's bytes, so len ends at the image's end */
        uint64_t len = 0, top_len = model_open_length(st, w, top);
        for (uint64_t off = 0; off < top_len; off += MODEL_CLUSTER)
            if (model_job_chain_status(st, w, top, base, base, off, top_len, NULL) ==
                MODEL_CHAIN_ALLOC)
                len += top_len - off < MODEL_CLUSTER ? top_len - off : MODEL_CLUSTER;
        j->len = len;
        /* mirror_start_job(): each user is checked as it comes (so a lock
         * error names what the target needs); the target writes, and
         * resizes a base shorter than the top at the end; it shares
         * consistent read and write with the chain it is in */
        unsigned target_perm = MODEL_PERM_WRITE;
        if (model_open_length(st, w, base) < model_open_length(st, w, top))
            target_perm |= MODEL_PERM_RESIZE;
        bool ok = add_user(w, MODEL_BLK_JOB_CHILD, id, f, MODEL_PERM_CONSISTENT_READ,
                           MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED |
                               MODEL_PERM_WRITE, "main node", err) &&
                  speed_ok(j, err) &&
                  add_user(w, MODEL_BLK_JOB, id, base, target_perm,
                           MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED |
                               MODEL_PERM_WRITE, "root", err) &&            /* s->target */
                  add_user(w, MODEL_BLK_JOB_CHILD, id, base, 0, MODEL_PERM_ALL, "target", err) &&
                  add_user(w, MODEL_BLK_JOB_CHILD, id, top, 0,
                           MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_WRITE |
                               MODEL_PERM_CONSISTENT_READ, "source", err);
        /* mirror_start_job(): the filters between the base's COW overlay
         * and the base are filters on the base, so they share consistent
         * read from the topmost of them (filtered_target) down */
        ModelNode *ov = find_overlay(w, top, base);
        ModelNode *filtered_target = ov ? model_graph_backing(w, ov) : NULL;
        unsigned iter_shared = MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_WRITE;
        for (ModelNode *it = model_graph_filter_or_cow(w, top); ok && it && it != base;
             it = model_graph_filter_or_cow(w, it)) {
            if (it == filtered_target)
                iter_shared |= MODEL_PERM_CONSISTENT_READ;
            ok = add_user(w, MODEL_BLK_JOB_CHILD, id, it, 0, iter_shared, "intermediate node",
                          err);
        }
        if (!ok)
            goto fail;
    } else {
        j->len = (model_open_length(st, w, top) + 511) / 512 * 512;
        /* commit_start(): each user is checked as it comes; the base is
         * written, and resized when it is shorter than the top */
        unsigned base_perm = MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE;
        if (model_open_length(st, w, base) < model_open_length(st, w, top))
            base_perm |= MODEL_PERM_RESIZE;
        bool ok = add_user(w, MODEL_BLK_JOB_CHILD, id, bs, 0, MODEL_PERM_ALL, "main node", err);
        /* commit_start(): from filtered_base, the COW child of the base's
         * overlay (s->base_overlay), down to the base every node is a filter
         * on the base, so it shares consistent read with the s->base
         * BlockBackend that reads and writes the base */
        ModelNode *ov = find_overlay(w, top, base);
        ModelNode *filtered_base = ov ? model_graph_backing(w, ov) : NULL;
        unsigned iter_shared = MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_WRITE;
        for (ModelNode *it = top; ok && it && it != base; it = model_graph_filter_or_cow(w, it)) {
            if (it == filtered_base)
                iter_shared |= MODEL_PERM_CONSISTENT_READ;
            ok = add_user(w, MODEL_BLK_JOB_CHILD, id, it, 0, iter_shared, "intermediate node",
                          err);
        }
        ok = ok && add_user(w, MODEL_BLK_JOB_CHILD, id, base, 0, MODEL_PERM_ALL, "base", err) &&
             add_user(w, MODEL_BLK_JOB, id, base, base_perm,
                      MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED, "root",
                      err) &&                                                /* s->base */
             add_user(w, MODEL_BLK_JOB, id, top, 0, MODEL_PERM_ALL, "root", err); /* s->top */
        if (!ok)
            goto fail;
    }
    if (!start(st, w, j, err))
        goto fail;
    model_graph_free(w_rw);
    return true;
fail:
    if (created)
        early_fail_events(st, id ? id : "");
    if (w_rw) {
        if (!active) {          /* commit_start() made the job before the base writable */
            w_rw->n_jobs--;
            free(w_rw->jobs[w_rw->n_jobs].id);
            free(w_rw->jobs[w_rw->n_jobs].backing_file_str);
        }
        /* commit_start(): bdrv_replace_node(commit_top_bs, top) after the
         * base is read-only again; mirror_start_job(): the filter goes first */
        if (inserted)
            model_graph_reattach_parents(w_rw, model_graph_node(w_rw, top_id));
        restore_read_only(st, w_rw, base->id);
    } else if (inserted) {  /* bdrv_replace_node(commit_top_bs, top) */
        model_graph_reattach_parents(st->w, model_graph_node(st->w, top_id));
    }
    model_graph_free(w);
    return false;
}
