/*
 * model_job.c: block-stream and block-commit as explicit state machines.
 *
 *   created -> running --(stream, commit)--------------------> waiting
 *                      \--(active commit)--> ready --complete--/
 *   waiting -> pending --(auto-finalize, or job-finalize)--> concluded
 *   concluded --(auto-dismiss, or job-dismiss)--> null
 *
 * A job moves only when a step drives it: wait-event, wait-job and run-job
 * advance jobs one transition at a time until what they wait for is there;
 * block-job-complete / job-complete, job-finalize, job-dismiss and job-cancel
 * move a job that waits for them.  Every transition raises QEMU's events
 * (JOB_STATUS_CHANGE, BLOCK_JOB_READY, BLOCK_JOB_PENDING when auto-finalize
 * is off, BLOCK_JOB_COMPLETED before "concluded").  The drain of every
 * reopen (paused/running) is not raised: the runner drops it.
 *
 * What a job does to the graph: stream inserts a copy-on-read filter above
 * the top node and freezes the links down to the node above the base;
 * commit appends a commit_top filter above the top node (non-active) or a
 * mirror_top filter above the active node, freezes the chain down to the
 * base and makes the base writable; their BlockBackends and job children
 * take QEMU's permissions.  At the end the data is copied (logical bytes),
 * the streamed/committed nodes leave the chain, the image header's backing
 * name is rewritten, the filter goes away and read-only nodes become
 * read-only again.
 * What it is not: time.  No speed, no progress in between, no I/O errors.
 *
 * Mirrors QEMU 7.2.0 blockdev.c qmp_block_stream() / qmp_block_commit(),
 * block/stream.c stream_start() / stream_prepare() / stream_clean(),
 * block/commit.c commit_start() / commit_prepare() / commit_clean(),
 * block/mirror.c commit_active_start() / mirror_exit_common(), job.c
 * (job_apply_verb_locked(), the state transition table, events), blockjob.c
 * block_job_add_bdrv(), and python/qemu/machine + iotests.py VM.run_job()
 * for the driving steps.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "messages.h"
#include "model.h"

static const char *const status_names[] = {
    "created", "running", "ready", "waiting", "pending", "aborting", "concluded", "null",
};
static const char *const type_names[] = { "stream", "commit", "commit" };

static void status_event(ModelState *st, ModelJob *j, ModelJobStatus s)
{
    j->status = s;
    model_event(st, "JOB_STATUS_CHANGE",
                json_pack("{s:s,s:s}", "id", j->id, "status", status_names[s]));
}

static json_t *block_event_data(const ModelJob *j)
{
    return json_pack("{s:s,s:I,s:I,s:i,s:s}", "device", j->id, "len", (json_int_t)j->len,
                     "offset", (json_int_t)j->len, "speed", 0, "type", type_names[j->type]);
}

/* ---- graph helpers ------------------------------------------------------------------- */

static ModelNode *filter_or_cow(const ModelWorld *w, const ModelNode *n)
{
    return n->drv->kind == BG_DRV_FILTER ? model_graph_filtered(w, n) : model_graph_backing(w, n);
}

static ModelChild *filter_or_cow_edge(ModelNode *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        if ((n->drv->kind == BG_DRV_FILTER && (n->children[i].role & MODEL_ROLE_FILTERED)) ||
            (n->drv->kind != BG_DRV_FILTER && (n->children[i].role & MODEL_ROLE_COW)))
            return &n->children[i];
    return NULL;
}

/* bdrv_replace_node(FROM, TO): every parent of FROM but TO moves to TO. */
static void replace_node(ModelWorld *w, ModelNode *from, ModelNode *to)
{
    for (size_t i = 0; i < w->n_nodes; i++) {
        ModelNode *p = w->nodes[i];
        if (p == to)
            continue;
        for (size_t c = 0; c < p->n_children; c++)
            if (p->children[c].node == from->id) {
                p->children[c].node = to->id;
                p->children[c].seq = ++w->next_seq;
            }
    }
    for (size_t i = 0; i < w->n_blks; i++)
        if (w->blks[i].node == from->id && w->blks[i].kind == MODEL_BLK_DEVICE) {
            w->blks[i].node = to->id;
            w->blks[i].seq = ++w->next_seq;
        }
}

static void add_blk(ModelWorld *w, const char *owner, int node, unsigned perm, unsigned shared)
{
    w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
    w->blks[w->n_blks++] = (ModelBlk){ MODEL_BLK_JOB, bg_strdup(owner), node, perm, shared,
                                       ++w->next_seq, NULL };
}

static void drop_blks(ModelWorld *w, const char *owner)
{
    for (size_t i = 0; i < w->n_blks;) {
        if (w->blks[i].kind == MODEL_BLK_JOB && strcmp(w->blks[i].owner, owner) == 0) {
            free(w->blks[i].owner);
            free(w->blks[i].iothread);
            memmove(&w->blks[i], &w->blks[i + 1], (w->n_blks - i - 1) * sizeof(*w->blks));
            w->n_blks--;
        } else {
            i++;
        }
    }
}

/* A filter node made by a job (bdrv_new_open_driver() / bdrv_insert_node()). */
static ModelNode *new_filter(ModelWorld *w, const char *drv, const char *name, BgError *err)
{
    ModelNode *f = model_graph_node_new(w, model_driver_find(drv));
    if (name) {
        if (model_graph_find(w, name)) {
            bg_error_setf(err, BG_MSG_DUPLICATE_NODE, name);
            model_graph_node_free(f);
            return NULL;
        }
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

static bool job_id_ok(const ModelWorld *w, const char *id, BgError *err)
{
    if (!id) {
        bg_error_setf(err, "An explicit job ID is required for this node");
        return false;
    }
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
    const char *bf = json_string_value(json_object_get(args, "backing-file"));
    j->backing_file_str = bf ? bg_strdup(bf) : NULL;
    return j;
}

static const char *str_arg(const json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static bool start(ModelState *st, ModelWorld *w, ModelJob *j, BgError *err)
{
    int *order = NULL;
    size_t len = 0;
    model_perm_topo(w, model_graph_node(w, j->filter), &order, &len);
    bool ok = model_perm_refresh(w, order, len, err);
    free(order);
    if (!ok)
        return false;
    ModelWorld *old = st->w;
    st->w = w;
    model_graph_free(old);
    ModelJob *live = model_graph_job(st->w, j->id);
    status_event(st, live, MODEL_JOB_CREATED);
    status_event(st, live, MODEL_JOB_RUNNING);
    return true;
}

/* ---- block-stream --------------------------------------------------------------------------- */

bool model_job_block_stream(ModelState *st, const json_t *args, BgError *err)
{
    const char *device = str_arg(args, "device");
    const char *base_node = str_arg(args, "base-node");
    if (json_object_get(args, "base") || json_object_get(args, "bottom") ||
        json_object_get(args, "backing-file")) {
        st->unsupported = "block-stream base, bottom and backing-file are not modelled";
        return false;
    }
    ModelWorld *w = model_graph_copy(st->w);
    ModelNode *bs = device ? model_graph_find(w, device) : NULL;
    ModelNode *base = NULL;
    if (!bs) {
        bg_error_setf(err, BG_MSG_JOB_DEVICE_NOT_FOUND, device ? device : "", device ? device : "");
        goto fail;
    }
    if (base_node) {
        base = model_graph_find(w, base_node);
        if (!base) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", base_node);
            goto fail;
        }
        bool in_chain = false;
        for (ModelNode *it = filter_or_cow(w, bs); it; it = filter_or_cow(w, it))
            in_chain |= it == base;
        if (!in_chain) {
            bg_error_setf(err, "Node '%s' is not a backing image of '%s'", base_node, device);
            goto fail;
        }
    }
    const char *id = str_arg(args, "job-id");
    if (!job_id_ok(w, id, err))
        goto fail;
    /* base_overlay: the node directly above the base (the bottom of the chain without one) */
    ModelNode *overlay = bs;
    while (filter_or_cow(w, overlay) && filter_or_cow(w, overlay) != base)
        overlay = filter_or_cow(w, overlay);
    bool bs_read_only = bs->read_only;
    if (bs_read_only && !model_reopen_set_read_only(st, w, bs, false, err))
        goto fail;
    ModelNode *cor = new_filter(w, "copy-on-read", str_arg(args, "filter-node-name"), err);
    if (!cor)
        goto fail;
    model_qdict_put_str(cor->options, "file", bs->name);
    model_qdict_put_str(cor->options, "bottom", overlay->name);
    model_qdict_del(cor->options, "file");   /* child keys leave bs->options */
    cor->iothread = bs->iothread ? bg_strdup(bs->iothread) : NULL;
    replace_node(w, bs, cor);
    ModelChild *fc = model_graph_attach(w, cor, bs, "file", MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY);
    (void)fc;
    /* cor_open() with bottom: freeze from the filter down to base_overlay */
    for (ModelNode *it = cor; it != overlay;) {
        ModelChild *e = filter_or_cow_edge(it);
        e->frozen = true;
        it = model_graph_node(w, e->node);
    }
    ModelJob *j = job_new(w, id, MODEL_JOB_STREAM, args);
    j->base_was_ro = bs_read_only;      /* stream_clean() makes the top read-only again */
    j->filter = cor->id;
    j->top = bs->id;
    j->base = base ? base->id : 0;
    j->len = (model_open_length(st, w, bs) + 511) / 512 * 512;
    add_blk(w, id, cor->id, 0, MODEL_PERM_ALL);                              /* main node */
    add_blk(w, id, cor->id, MODEL_PERM_CONSISTENT_READ,
            MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_WRITE);  /* s->blk */
    add_blk(w, id, bs->id, 0, MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED |
                              MODEL_PERM_WRITE);                           /* active node */
    for (ModelNode *it = filter_or_cow(w, bs); it && it != base; it = filter_or_cow(w, it))
        add_blk(w, id, it->id, 0, MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED);
    if (!start(st, w, j, err))
        goto fail;
    return true;
fail:
    model_graph_free(w);
    return false;
}

/* ---- block-commit ------------------------------------------------------------------------------ */

bool model_job_block_commit(ModelState *st, const json_t *args, BgError *err)
{
    const char *device = str_arg(args, "device");
    if (json_object_get(args, "base") || json_object_get(args, "top") ||
        json_object_get(args, "backing-file")) {
        st->unsupported = "block-commit base, top and backing-file are not modelled";
        return false;
    }
    ModelWorld *w = model_graph_copy(st->w);
    ModelNode *bs = device ? model_graph_find(w, device) : NULL;
    if (!bs) {
        bg_error_setf(err, "Device '%s' not found", device ? device : "");
        goto fail;
    }
    ModelNode *top = bs, *base = NULL;
    const char *top_node = str_arg(args, "top-node"), *base_node = str_arg(args, "base-node");
    if (top_node) {
        top = model_graph_find(w, top_node);
        if (!top) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", top_node);
            goto fail;
        }
        bool in = false;
        for (ModelNode *it = bs; it; it = filter_or_cow(w, it))
            in |= it == top;
        if (!in) {
            bg_error_setf(err, "'%s' is not in this backing file chain", top_node);
            goto fail;
        }
    }
    if (base_node) {
        base = model_graph_find(w, base_node);
        if (!base) {
            bg_error_setf(err, BG_MSG_LOOKUP_BS, "", base_node);
            goto fail;
        }
        bool in = false;
        for (ModelNode *it = top; it; it = filter_or_cow(w, it))
            in |= it == base;
        if (!in) {
            bg_error_setf(err, "'%s' is not in this backing file chain", base_node);
            goto fail;
        }
    } else {
        base = top;
        while (filter_or_cow(w, base))
            base = filter_or_cow(w, base);
    }
    if (top == base) {
        bg_error_setf(err, "cannot commit an image into itself");
        goto fail;
    }
    const char *id = str_arg(args, "job-id");
    if (!job_id_ok(w, id, err))
        goto fail;
    bool active = top == bs;
    ModelJob *j = job_new(w, id, active ? MODEL_JOB_ACTIVE_COMMIT : MODEL_JOB_COMMIT, args);
    j->top = top->id;
    j->base = base->id;
    j->base_was_ro = base->read_only;
    if (base->read_only && !model_reopen_set_read_only(st, w, base, false, err))
        goto fail;
    ModelNode *f = new_filter(w, active ? "mirror_top" : "commit_top",
                              str_arg(args, "filter-node-name"), err);
    if (!f)
        goto fail;
    f->iothread = top->iothread ? bg_strdup(top->iothread) : NULL;
    /* bdrv_new_open_driver(&bdrv_commit_top, ..., 0) opens read-only;
     * mirror_top is opened with BDRV_O_RDWR */
    f->read_only = !active;
    replace_node(w, top, f);
    /* bdrv_append() -> bdrv_set_backing_noperm(): a filter's "backing" is FILTERED */
    model_graph_attach(w, f, top, "backing", MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY);
    j->filter = f->id;
    /* bdrv_freeze_backing_chain(filter, base) */
    for (ModelNode *it = f; it != base;) {
        ModelChild *e = filter_or_cow_edge(it);
        if (!e)
            break;
        e->frozen = true;
        it = model_graph_node(w, e->node);
    }
    uint64_t len = 0;
    if (active) {
        /* mirror: the bytes allocated above the base */
        for (uint64_t off = 0; off < model_open_length(st, w, top); off += MODEL_CLUSTER) {
            bool alloc = false;
            for (ModelNode *it = top; it && it != base && !alloc; it = filter_or_cow(w, it)) {
                const ModelNode *fn = model_graph_file(w, it);
                ModelFile *mf = fn && fn->filename ? model_image_find(&st->files, fn->filename) : NULL;
                bool zero;
                alloc = mf && mf->qcow2 && model_image_qcow2_allocated(mf, off / MODEL_CLUSTER, &zero);
            }
            if (alloc)
                len += MODEL_CLUSTER;
        }
    } else {
        len = (model_open_length(st, w, top) + 511) / 512 * 512;
    }
    j->len = len;
    add_blk(w, id, bs->id == top->id ? f->id : bs->id, 0, MODEL_PERM_ALL);           /* main node */
    unsigned shared = MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_WRITE;
    for (ModelNode *it = top; it && it != base; it = filter_or_cow(w, it))
        add_blk(w, id, it->id, 0, shared);                                  /* intermediate */
    add_blk(w, id, base->id, 0, MODEL_PERM_ALL);                             /* base */
    add_blk(w, id, base->id, MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE,
            MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED);       /* s->base */
    if (!active)
        add_blk(w, id, top->id, 0, MODEL_PERM_ALL);                          /* s->top */
    if (!start(st, w, j, err))
        goto fail;
    return true;
fail:
    model_graph_free(w);
    return false;
}

/* ---- finishing ------------------------------------------------------------------------------------ */

/* Copy what TOP's chain above BASE holds (allocated clusters) into DEST. */
static void copy_data(ModelState *st, ModelNode *top, ModelNode *base, ModelNode *dest)
{
    ModelWorld *w = st->w;
    uint64_t len = model_open_length(st, w, top);
    uint8_t *buf = bg_malloc(MODEL_CLUSTER);
    for (uint64_t off = 0; off < len; off += MODEL_CLUSTER) {
        bool alloc = false;
        for (ModelNode *it = top; it && it != base && !alloc; it = filter_or_cow(w, it)) {
            if (it == dest)
                continue;
            const ModelNode *fn = model_graph_file(w, it);
            ModelFile *mf = fn && fn->filename ? model_image_find(&st->files, fn->filename) : NULL;
            bool zero;
            alloc = mf && mf->qcow2 && model_image_qcow2_allocated(mf, off / MODEL_CLUSTER, &zero);
        }
        const ModelNode *dfn = model_graph_file(w, dest);
        ModelFile *df = dfn && dfn->filename ? model_image_find(&st->files, dfn->filename) : NULL;
        bool zero;
        if (!alloc || !df || !df->qcow2 ||
            (dest != base && model_image_qcow2_allocated(df, off / MODEL_CLUSTER, &zero)))
            continue;
        uint64_t n = len - off < MODEL_CLUSTER ? len - off : MODEL_CLUSTER;
        const char *unsupported = NULL;
        memset(buf, 0, MODEL_CLUSTER);
        if (!model_io_read(st, top, off, n, buf, &unsupported))
            continue;
        BgError e = {0};
        model_image_qcow2_write(df, off, MODEL_CLUSTER, buf, false, false, false, &e);
    }
    free(buf);
}

static void set_header_backing(ModelState *st, ModelNode *n, ModelNode *base, const char *str)
{
    const ModelNode *fn = model_graph_file(st->w, n);
    ModelFile *mf = fn && fn->filename ? model_image_find(&st->files, fn->filename) : NULL;
    free(n->backing_file);
    free(n->backing_fmt);
    free(n->auto_backing_file);
    n->backing_file = n->backing_fmt = n->auto_backing_file = NULL;
    if (base) {
        n->backing_file = str ? bg_strdup(str) : model_query_filename(st, st->w, base);
        n->backing_fmt = bg_strdup(base->drv->name);
        n->auto_backing_file = bg_strdup(n->backing_file);
    }
    if (mf && mf->qcow2) {
        free(mf->backing);
        free(mf->backing_fmt);
        mf->backing = n->backing_file ? bg_strdup(n->backing_file) : NULL;
        mf->backing_fmt = n->backing_fmt ? bg_strdup(n->backing_fmt) : NULL;
    }
}

/* Remove FILTER from the graph: its parents go to its child. */
static void drop_filter(ModelWorld *w, ModelNode *filter)
{
    ModelNode *child = filter_or_cow(w, filter);
    for (size_t i = 0; i < filter->n_children; i++)
        filter->children[i].frozen = false;
    if (child)
        replace_node(w, filter, child);
    while (filter->n_children) {
        char *name = bg_strdup(filter->children[0].name);
        model_graph_detach(w, filter, name);
        free(name);
    }
}

/* job_prepare() + job_commit() + job_clean(): the graph at the end. */
static void finish(ModelState *st, ModelJob *j)
{
    ModelWorld *w = st->w;
    ModelNode *filter = model_graph_node(w, j->filter);
    ModelNode *top = model_graph_node(w, j->top);
    ModelNode *base = model_graph_node(w, j->base);
    for (size_t i = 0; i < w->n_nodes; i++)          /* bdrv_unfreeze_backing_chain() */
        for (size_t c = 0; c < w->nodes[i]->n_children; c++)
            w->nodes[i]->children[c].frozen = false;
    if (j->type == MODEL_JOB_STREAM) {
        /* stream_prepare(): the top's backing becomes the base */
        ModelNode *old = model_graph_backing(w, top);
        if (old != base) {
            model_graph_detach(w, top, "backing");
            if (base)
                model_graph_attach(w, top, base, "backing", MODEL_ROLE_COW);
        }
        set_header_backing(st, top, base, j->backing_file_str);
        if (base && base->inherits_from && old && base->inherits_from == old->id)
            base->inherits_from = top->id;
        drop_filter(w, filter);
    } else if (j->type == MODEL_JOB_COMMIT) {
        /* bdrv_drop_intermediate(): the filter's parents now use the base */
        ModelNode *overlay = NULL;
        for (size_t i = 0; i < w->n_nodes && !overlay; i++)
            for (size_t c = 0; c < w->nodes[i]->n_children; c++)
                if (w->nodes[i]->children[c].node == filter->id &&
                    (w->nodes[i]->children[c].role & MODEL_ROLE_COW))
                    overlay = w->nodes[i];
        replace_node(w, filter, base);
        if (overlay) {
            set_header_backing(st, overlay, base, j->backing_file_str);
            if (base->inherits_from && base->inherits_from != overlay->id &&
                model_graph_node(w, base->inherits_from) == top)
                base->inherits_from = overlay->id;
        }
        while (filter->n_children) {
            char *name = bg_strdup(filter->children[0].name);
            model_graph_detach(w, filter, name);
            free(name);
        }
    } else {
        drop_filter(w, filter);
    }
    drop_blks(w, j->id);
    j->filter = 0;
    model_graph_collect(w);
    BgError ignore = {0};
    model_perm_refresh(w, NULL, 0, &ignore);
    /* stream_clean() / commit_clean(): read-only again; an active commit
     * (mirror_exit_common()) does that only when it is aborted */
    ModelNode *restore = j->type == MODEL_JOB_STREAM ? model_graph_node(w, j->top)
                         : j->type == MODEL_JOB_COMMIT ? model_graph_node(w, j->base) : NULL;
    if (j->base_was_ro && restore)
        model_reopen_set_read_only(st, w, restore, true, &ignore);
}

/* ---- the state machine ---------------------------------------------------------------------------- */

static void conclude(ModelState *st, ModelJob *j)
{
    finish(st, j);
    model_event(st, "BLOCK_JOB_COMPLETED", block_event_data(j));
    status_event(st, j, MODEL_JOB_CONCLUDED);
    if (j->auto_dismiss)
        status_event(st, j, MODEL_JOB_NULL);
}

bool model_job_step(ModelState *st, ModelJob *j)
{
    switch (j->status) {
    case MODEL_JOB_CREATED:
        status_event(st, j, MODEL_JOB_RUNNING);
        return true;
    case MODEL_JOB_RUNNING: {
        /* the job's run(): stream copies into the top, commit into the base */
        ModelNode *top = model_graph_node(st->w, j->top), *base = model_graph_node(st->w, j->base);
        copy_data(st, top, base, j->type == MODEL_JOB_STREAM ? top : base);
        if (j->type == MODEL_JOB_ACTIVE_COMMIT) {
            status_event(st, j, MODEL_JOB_READY);
            model_event(st, "BLOCK_JOB_READY", block_event_data(j));
            return true;
        }
        status_event(st, j, MODEL_JOB_WAITING);
        return true;
    }
    case MODEL_JOB_WAITING:
        status_event(st, j, MODEL_JOB_PENDING);
        if (!j->auto_finalize)
            model_event(st, "BLOCK_JOB_PENDING",
                        json_pack("{s:s,s:s}", "id", j->id, "type", type_names[j->type]));
        return true;
    case MODEL_JOB_PENDING:
        if (!j->auto_finalize)
            return false;
        conclude(st, j);
        return true;
    default:
        return false;    /* ready, concluded, null: wait for a command */
    }
}

/* Advance the first job that can move; false when none can. */
static bool drive(ModelState *st)
{
    for (size_t i = 0; i < st->w->n_jobs; i++)
        if (model_job_step(st, &st->w->jobs[i]))
            return true;
    return false;
}

static bool verb(ModelJob *j, const char *verb_name, bool allowed, BgError *err)
{
    if (!allowed)
        return bg_error_setf(err, BG_MSG_JOB_VERB, j->id, status_names[j->status], verb_name);
    return true;
}

bool model_job_command(ModelState *st, const char *cmd, const json_t *args, BgError *err)
{
    bool block = strcmp(cmd, "block-job-complete") == 0;
    const char *id = str_arg(args, block ? "device" : "id");
    ModelJob *j = id ? model_graph_job(st->w, id) : NULL;
    if (!j) {
        if (block)
            return bg_error_setf(err, BG_MSG_BLOCK_JOB_NOT_FOUND, id ? id : "");
        return bg_error_setf(err, BG_MSG_JOB_NOT_FOUND);
    }
    if (block || strcmp(cmd, "job-complete") == 0) {
        if (!verb(j, "complete", j->status == MODEL_JOB_READY, err))
            return false;
        status_event(st, j, MODEL_JOB_WAITING);
        return true;
    }
    if (strcmp(cmd, "job-finalize") == 0) {
        if (!verb(j, "finalize", j->status == MODEL_JOB_PENDING, err))
            return false;
        conclude(st, j);
        return true;
    }
    if (strcmp(cmd, "job-dismiss") == 0) {
        if (!verb(j, "dismiss", j->status == MODEL_JOB_CONCLUDED, err))
            return false;
        status_event(st, j, MODEL_JOB_NULL);
        return true;
    }
    st->unsupported = "job-cancel is not modelled";
    return false;
}

/* ---- driving steps ----------------------------------------------------------------------------------- */

/* The first queued event named one of NAMES whose data matches MATCH. */
static json_t *take_event(ModelState *st, const char *const *names, size_t n, const json_t *match)
{
    size_t i;
    json_t *ev;
    json_array_foreach(st->queue, i, ev) {
        const char *name = json_string_value(json_object_get(ev, "event"));
        for (size_t k = 0; k < n; k++) {
            if (strcmp(name, names[k]) != 0)
                continue;
            if (match && !json_is_null(match) && !bg_json_match(match, ev))
                continue;
            json_incref(ev);
            json_array_remove(st->queue, i);
            return ev;
        }
    }
    return NULL;
}

void model_job_wait_event(ModelState *st, const json_t *spec, BgResult *res)
{
    const char *name = json_string_value(json_object_get(spec, "event"));
    json_t *match = json_object_get(spec, "match");
    for (;;) {
        json_t *ev = take_event(st, &name, 1, match);
        if (ev) {
            bg_result_set_return(res, ev);
            break;
        }
        if (!drive(st)) {
            json_t *t = json_object_get(spec, "timeout");
            double s = json_is_number(t) ? json_number_value(t) : BG_WAIT_TIMEOUT_DEF_S;
            if (!(s >= 0))
                s = 0;
            if (s > BG_WAIT_TIMEOUT_MAX_S)
                s = BG_WAIT_TIMEOUT_MAX_S;
            char *secs = s == (double)(long long)s ? bg_asprintf("%lld", (long long)s)
                                                   : bg_asprintf("%g", s);
            char *desc = bg_asprintf("no %s event within %s s", name, secs);
            bg_result_set_error(res, "Timeout", desc);
            free(desc);
            free(secs);
            break;
        }
    }
}

void model_job_wait_job(ModelState *st, const char *id, BgResult *res)
{
    static const char *const ends[] = { "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED" };
    json_t *by_device = json_pack("{s:{s:s}}", "data", "device", id);
    json_t *ev = NULL;
    while (!(ev = take_event(st, ends, 2, by_device)) && drive(st))
        ;
    json_decref(by_device);
    if (!ev) {
        char *desc = bg_asprintf("no BLOCK_JOB_COMPLETED or BLOCK_JOB_CANCELLED event for job '%s' "
                                 "within %d s", id, BG_WAIT_TIMEOUT_DEF_S);
        bg_result_set_error(res, "Timeout", desc);
        free(desc);
        return;
    }
    bool dismissed = false;
    ModelJob *j = model_graph_job(st->w, id);
    if (j && j->status == MODEL_JOB_CONCLUDED) {
        status_event(st, j, MODEL_JOB_NULL);
        dismissed = true;
    }
    json_object_set_new(ev, "dismissed-by-us", json_boolean(dismissed));
    bg_result_set_return(res, ev);
}

/* iotests.py VM.run_job() */
void model_job_run_job(ModelState *st, const json_t *spec, BgResult *res)
{
    const char *id = json_string_value(json_object_get(spec, "id"));
    json_t *af = json_object_get(spec, "auto-finalize"), *ad = json_object_get(spec, "auto-dismiss");
    bool auto_finalize = json_is_boolean(af) ? json_is_true(af) : true;
    bool auto_dismiss = json_is_boolean(ad) ? json_is_true(ad) : false;
    bool cancel = json_is_true(json_object_get(spec, "cancel"));
    if (!id) {
        bg_result_set_unsupported(res, "run-job without an id");
        return;
    }
    static const char *const by_dev[] = { "BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED",
                                          "BLOCK_JOB_ERROR", "BLOCK_JOB_READY" };
    static const char *const by_id[] = { "BLOCK_JOB_PENDING", "JOB_STATUS_CHANGE" };
    json_t *mdev = json_pack("{s:{s:s}}", "data", "device", id);
    json_t *mid = json_pack("{s:{s:s}}", "data", "id", id);
    for (;;) {
        /* the first queued event for this job, in queue order */
        json_t *ev = NULL;
        size_t i;
        json_t *q;
        json_array_foreach(st->queue, i, q) {
            const char *name = json_string_value(json_object_get(q, "event"));
            const json_t *data = json_object_get(q, "data");
            bool dev = false, idm = false;
            for (size_t k = 0; k < 4; k++)
                dev |= strcmp(name, by_dev[k]) == 0;
            for (size_t k = 0; k < 2; k++)
                idm |= strcmp(name, by_id[k]) == 0;
            const char *key = dev ? "device" : idm ? "id" : NULL;
            const char *v = key ? json_string_value(json_object_get(data, key)) : NULL;
            if (v && strcmp(v, id) == 0) {
                ev = json_incref(q);
                json_array_remove(st->queue, i);
                break;
            }
        }
        if (!ev) {
            if (!drive(st)) {
                char *desc = bg_asprintf("no event for job '%s' within %d s", id,
                                         BG_WAIT_TIMEOUT_DEF_S);
                bg_result_set_error(res, "Timeout", desc);
                free(desc);
                break;
            }
            continue;
        }
        const char *name = json_string_value(json_object_get(ev, "event"));
        const char *status = json_string_value(json_object_get(json_object_get(ev, "data"),
                                                               "status"));
        BgError ignore = {0};
        if (strcmp(name, "JOB_STATUS_CHANGE") == 0 && status) {
            json_t *a = json_pack("{s:s}", "id", id);
            if (strcmp(status, "ready") == 0)
                model_job_command(st, "job-complete", a, &ignore);
            else if (strcmp(status, "pending") == 0 && !auto_finalize)
                model_job_command(st, cancel ? "job-cancel" : "job-finalize", a, &ignore);
            else if (strcmp(status, "concluded") == 0 && !auto_dismiss)
                model_job_command(st, "job-dismiss", a, &ignore);
            json_decref(a);
            if (strcmp(status, "null") == 0) {
                json_decref(ev);
                bg_result_set_return(res, json_pack("{s:n}", "error"));
                break;
            }
        }
        json_decref(ev);
    }
    json_decref(mdev);
    json_decref(mid);
}
