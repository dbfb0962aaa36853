/*
 * model_query.c: query-named-block-nodes, query-block-jobs, query-jobs.
 *
 * What this is: the BlockDeviceInfo of every named node, newest first,
 * with every field QEMU 7.2 fills when no BlockBackend is given (fixed
 * throttling fields, cache.writeback true), the ImageInfo chain through
 * filter-or-COW children, and file names as bdrv_refresh_filename() builds
 * them: a protocol node's path, a format node's primary child's path, or
 * json:{...} from the strong runtime options and the children's full open
 * options (member order is QDict order, model_qdict.c).
 * What it is not: a cache.  Everything is derived from the world and the
 * file table on every call.
 *
 * Mirrors QEMU 7.2.0 block.c bdrv_named_nodes_list(),
 * bdrv_refresh_filename(), append_strong_runtime_options(),
 * bdrv_backing_overridden(), bdrv_dirname(), bdrv_make_absolute_filename(),
 * null_refresh_filename(),
 * blkdebug_refresh_filename(), blkverify_refresh_filename(),
 * quorum_gather_child_options(), bdrv_commit_top_refresh_filename(),
 * block/qapi.c bdrv_block_device_info() and bdrv_query_image_info(),
 * block/qcow2.c qcow2_get_info() / qcow2_get_specific_info(),
 * blockjob.c block_job_query_locked(), job-qmp.c job_query_single_locked().
 */
#include <string.h>

#include "messages.h"
#include "model.h"

typedef struct FnInfo {
    char *exact;              /* exact_filename ("" if none) */
    char *filename;           /* filename */
    ModelQDict *full;         /* full_open_options */
} FnInfo;

static void fn_cleanup(FnInfo *f)
{
    free(f->exact);
    free(f->filename);
    model_qdict_free(f->full);
}

/* A dict as a JSON object with its entries in insertion order. */
static json_t *qdict_to_obj(const ModelQDict *d)
{
    json_t *o = json_object();
    for (size_t i = 0; i < d->n; i++)
        json_object_set(o, d->e[i].key, d->e[i].val);
    return o;
}

static void refresh(ModelState *st, const ModelWorld *w, const ModelNode *n, FnInfo *out);

static bool is_protocol(const ModelNode *n)
{
    return n->drv->kind == BG_DRV_PROTOCOL ||
           strcmp(n->drv->name, "blkdebug") == 0 || strcmp(n->drv->name, "blkverify") == 0;
}

static const ModelNode *primary_child(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        if (n->children[i].role & MODEL_ROLE_PRIMARY)
            return model_graph_node(w, n->children[i].node);
    return NULL;
}

static void refresh(ModelState *st, const ModelWorld *w, const ModelNode *n, FnInfo *out)
{
    *out = (FnInfo){0};
    if (n->implicit && n->n_children) {
        FnInfo c;
        refresh(st, w, model_graph_node(w, n->children[0].node), &c);
        *out = c;
        return;
    }
    /* bdrv_backing_overridden() */
    const ModelNode *backing = model_graph_backing(w, n);
    bool overridden = false;
    char *backing_filename = NULL;
    if (backing) {
        FnInfo b;
        refresh(st, w, backing, &b);
        backing_filename = bg_strdup(b.filename);
        fn_cleanup(&b);
        overridden = strcmp(n->auto_backing_file ? n->auto_backing_file : "", backing_filename) != 0;
    } else {
        overridden = n->auto_backing_file && n->auto_backing_file[0];
    }
    free(backing_filename);

    /* append_strong_runtime_options() */
    ModelQDict *opts = model_qdict_new();
    bool found_any = false;
    if (model_qdict_has(n->options, "driver"))
        model_qdict_put(opts, "driver", json_incref(model_qdict_get(n->options, "driver")));
    if (model_qdict_has(n->options, "filename"))
        model_qdict_put(opts, "filename", json_incref(model_qdict_get(n->options, "filename")));
    size_t cnt;
    const char **keys = model_qdict_order(n->options, &cnt);
    for (size_t pass = 0; pass < model_opt_count(); pass++) {
        /* strong options in the driver's list order */
        const ModelOpt *o = model_opt_at(pass);
        if (!o->driver[0] || strcmp(o->driver, n->drv->name) != 0 || !(o->flags & BG_OF_STRONG))
            continue;
        if (o->type == BG_OT_ANY) {   /* "inject-error." etc.: every key with the prefix */
            char *prefix = bg_asprintf("%s.", o->name);
            for (size_t i = 0; i < cnt; i++)
                if (strncmp(keys[i], prefix, strlen(prefix)) == 0) {
                    model_qdict_put(opts, keys[i], json_incref(model_qdict_get(n->options, keys[i])));
                    found_any = true;
                }
            free(prefix);
        } else if (model_qdict_has(n->options, o->name)) {
            model_qdict_put(opts, o->name, json_incref(model_qdict_get(n->options, o->name)));
            found_any = true;
        }
    }
    free(keys);
    if (!model_qdict_has(opts, "driver"))
        model_qdict_put_str(opts, "driver", n->drv->name);
    bool generate_json = found_any || overridden;

    /* children: quorum gathers a list, the others one entry per child */
    if (strcmp(n->drv->name, "quorum") == 0) {
        json_t *list = json_array();
        for (unsigned i = 0; i < n->quorum_next; i++) {
            char *k = bg_asprintf("children.%u", i);
            const ModelNode *c = model_graph_child_node(w, n, k);
            free(k);
            if (!c)
                continue;
            FnInfo ci;
            refresh(st, w, c, &ci);
            json_array_append_new(list, qdict_to_obj(ci.full));
            fn_cleanup(&ci);
        }
        model_qdict_put(opts, "children", list);
    } else {
        for (size_t i = 0; i < n->n_children; i++) {
            const ModelChild *ch = &n->children[i];
            const ModelNode *c = model_graph_node(w, ch->node);
            if ((ch->role & MODEL_ROLE_COW) && !overridden)
                continue;
            FnInfo ci;
            refresh(st, w, c, &ci);
            model_qdict_put(opts, ch->name, qdict_to_obj(ci.full));
            fn_cleanup(&ci);
        }
        if (overridden && !backing)
            model_qdict_put(opts, "backing", json_null());
    }
    out->full = opts;

    const char *d = n->drv->name;
    const ModelNode *primary = primary_child(w, n);
    if (strcmp(d, "file") == 0) {
        out->exact = bg_strdup(n->filename);
    } else if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0) {
        bool plain = true;
        for (size_t i = 0; i < opts->n; i++)
            if (strcmp(opts->e[i].key, "filename") && strcmp(opts->e[i].key, "driver") &&
                strcmp(opts->e[i].key, "latency-ns"))
                plain = false;
        out->exact = plain ? bg_asprintf("%s://", d) : bg_strdup("");
    } else if (strcmp(d, "blkdebug") == 0) {
        FnInfo ci;
        refresh(st, w, model_graph_file(w, n), &ci);
        bool plain = ci.exact[0] != '\0';
        for (size_t i = 0; i < opts->n; i++)
            if (strcmp(opts->e[i].key, "config") && strcmp(opts->e[i].key, "image") &&
                strcmp(opts->e[i].key, "x-image") && strcmp(opts->e[i].key, "driver"))
                plain = false;
        out->exact = plain ? bg_asprintf("blkdebug:%s:%s", n->config ? n->config : "", ci.exact)
                           : bg_strdup("");
        fn_cleanup(&ci);
    } else if (strcmp(d, "blkverify") == 0) {
        FnInfo r, t;
        refresh(st, w, model_graph_child_node(w, n, "raw"), &r);
        refresh(st, w, model_graph_child_node(w, n, "test"), &t);
        out->exact = r.exact[0] && t.exact[0] ? bg_asprintf("blkverify:%s:%s", r.exact, t.exact)
                                              : bg_strdup("");
        fn_cleanup(&r);
        fn_cleanup(&t);
    } else if (strcmp(d, "commit_top") == 0 || strcmp(d, "mirror_top") == 0) {
        FnInfo b;
        refresh(st, w, model_graph_backing(w, n) ? model_graph_backing(w, n)
                                                  : model_graph_filtered(w, n), &b);
        out->exact = bg_strdup(b.filename);
        fn_cleanup(&b);
    } else if (primary) {
        FnInfo p;
        refresh(st, w, primary, &p);
        bool copy = p.exact[0] && is_protocol(primary) && n->drv->kind != BG_DRV_FILTER &&
                    !generate_json;
        out->exact = bg_strdup(copy ? p.exact : "");
        fn_cleanup(&p);
    } else {
        out->exact = bg_strdup("");
    }
    if (out->exact[0]) {
        out->filename = bg_strdup(out->exact);
    } else {
        char *j = model_qdict_to_json_text(opts);
        out->filename = bg_asprintf("json:%s", j);
        free(j);
    }
}

char *model_query_filename(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    FnInfo f;
    refresh(st, w, n, &f);
    char *s = bg_strdup(f.filename);
    fn_cleanup(&f);
    return s;
}

/* path_combine(BASE, ""): BASE up to its last '/', or up to and with its
 * protocol's ':' if that comes later. */
static char *path_dir(const char *base)
{
    const char *p = base;
    if (model_path_has_protocol(base))
        p = strchr(base, ':') + 1;
    const char *slash = strrchr(base, '/');
    if (slash && slash + 1 > p)
        p = slash + 1;
    return bg_strndup(base, (size_t)(p - base));
}

/*
 * bdrv_dirname(): blkverify_dirname() and quorum_dirname() refuse (their
 * children may lie in different directories); a driver without its own
 * routine asks its primary child (bdrv_primary_bs()); a node without one
 * gives the directory of its exact_filename, or fails when it has none.
 */
char *model_query_dirname(ModelState *st, const ModelWorld *w, const ModelNode *n, BgError *err)
{
    if (strcmp(n->drv->name, "blkverify") == 0 || strcmp(n->drv->name, "quorum") == 0) {
        bg_error_setf(err, BG_MSG_DIRNAME_NO_BASE, n->drv->name);
        return NULL;
    }
    const ModelNode *primary = primary_child(w, n);
    if (primary)
        return model_query_dirname(st, w, primary, err);
    FnInfo f;
    refresh(st, w, n, &f);
    char *dir = f.exact[0] ? path_dir(f.exact) : NULL;
    fn_cleanup(&f);
    if (!dir)
        bg_error_setf(err, BG_MSG_DIRNAME_NO_BASE, n->drv->name);
    return dir;
}

/* bdrv_make_absolute_filename(): NAME as it is when it is absolute or has a
 * protocol, else joined to bdrv_dirname() of N; NULL (and ERR, if not NULL)
 * for an empty NAME or when N has no directory. */
char *model_query_make_absolute(ModelState *st, const ModelWorld *w, const ModelNode *n,
                                const char *name, BgError *err)
{
    BgError ignore = {0};
    if (!name || !name[0])
        return NULL;
    if (name[0] == '/' || model_path_has_protocol(name))
        return bg_strdup(name);
    char *dir = model_query_dirname(st, w, n, err ? err : &ignore);
    if (!dir)
        return NULL;
    char *full = bg_asprintf("%s%s", dir, name);
    free(dir);
    return full;
}

/* bdrv_get_info(): qcow2 and file answer, filters and raw forward
 * (raw_get_info(), bdrv_filter_bs()), so the BlockDriverInfo, its
 * is_dirty included, is the node's that answered. */
const ModelNode *model_query_get_info(const ModelWorld *w, const ModelNode *n, unsigned *cluster_size)
{
    const char *d = n->drv->name;
    if (strcmp(d, "qcow2") == 0) {
        *cluster_size = MODEL_CLUSTER;
        return n;
    }
    if (strcmp(d, "file") == 0) {
        *cluster_size = 0;
        return n;
    }
    if (strcmp(d, "raw") == 0) {
        const ModelNode *c = model_graph_file(w, n);
        return c ? model_query_get_info(w, c, cluster_size) : NULL;
    }
    const ModelNode *f = model_graph_filtered(w, n);
    return f ? model_query_get_info(w, f, cluster_size) : NULL;
}

json_t *model_query_specific_info(const ModelNode *n)
{
    if (strcmp(n->drv->name, "qcow2") != 0)
        return NULL;
    return json_pack("{s:s,s:{s:s,s:s,s:b,s:i,s:b,s:b}}", "type", "qcow2", "data", "compat", "1.1",
                     "compression-type", "zlib", "lazy-refcounts", 0, "refcount-bits", 16,
                     "corrupt", 0, "extended-l2", 0);
}

/* bdrv_get_allocated_file_size(): present or not; the value depends on the
 * host file system and is not compared (streams.md, normalisation). */
static bool allocated_size(ModelState *st, const ModelWorld *w, const ModelNode *n, int64_t *size)
{
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = model_image_find(&st->files, n->filename);
        *size = f ? (int64_t)((model_image_host_len(f) + 4095) / 4096 * 4096) : 0;
        return true;
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0) {
        *size = 0;
        return true;
    }
    if (strcmp(d, "blkdebug") == 0 || strcmp(d, "blkverify") == 0)
        return false;    /* protocol drivers without the callback: -ENOTSUP */
    if (n->drv->kind == BG_DRV_FILTER) {
        const ModelNode *f = model_graph_filtered(w, n);
        return f && allocated_size(st, w, f, size);
    }
    /* bdrv_sum_allocated_file_size(): children that store data or metadata */
    *size = 0;
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelChild *c = &n->children[i];
        if (!(c->role & (MODEL_ROLE_DATA | MODEL_ROLE_METADATA | MODEL_ROLE_FILTERED)))
            continue;
        int64_t s;
        if (!allocated_size(st, w, model_graph_node(w, c->node), &s))
            return false;
        *size += s;
    }
    return true;
}

static json_t *image_info(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    json_t *img = json_object();
    char *fn = model_query_filename(st, w, n);
    json_object_set_new(img, "filename", json_string(fn));
    free(fn);
    json_object_set_new(img, "format", json_string(n->drv->name));
    uint64_t len = (model_open_length(st, w, n) + 511) / 512 * 512;
    json_object_set_new(img, "virtual-size", json_integer((json_int_t)len));
    int64_t asize;
    if (allocated_size(st, w, n, &asize))
        json_object_set_new(img, "actual-size", json_integer(asize));
    unsigned cs;
    const ModelNode *answered = model_query_get_info(w, n, &cs);
    if (answered) {
        if (cs)
            json_object_set_new(img, "cluster-size", json_integer(cs));
        /* qcow2_get_info(): the dirty bit of the qcow2 node that answered */
        json_object_set_new(img, "dirty-flag", json_boolean(answered->qcow2_dirty));
    }
    json_t *spec = model_query_specific_info(n);
    if (spec)
        json_object_set_new(img, "format-specific", spec);
    if (n->backing_file && n->backing_file[0]) {
        json_object_set_new(img, "backing-filename", json_string(n->backing_file));
        /* bdrv_get_full_backing_filename(): absent when bdrv_dirname() fails
         * (a blkverify or quorum node on the primary chain) */
        char *full = model_query_make_absolute(st, w, n, n->backing_file, NULL);
        if (full)
            json_object_set_new(img, "full-backing-filename", json_string(full));
        free(full);
        if (n->backing_fmt && n->backing_fmt[0])
            json_object_set_new(img, "backing-filename-format", json_string(n->backing_fmt));
    }
    return img;
}

/* bdrv_filter_or_cow_bs() */
static const ModelNode *filter_or_cow(const ModelWorld *w, const ModelNode *n)
{
    if (n->drv->kind == BG_DRV_FILTER)
        return model_graph_filtered(w, n);
    return model_graph_backing(w, n);
}

static json_t *node_info(ModelState *st, const ModelWorld *w, const ModelNode *n, bool flat)
{
    static const char *const dz[] = { "off", "on", "unmap" };
    char *fn = model_query_filename(st, w, n);
    json_t *info = json_pack("{s:s,s:b,s:s,s:b,s:s,s:{s:b,s:b,s:b},s:i,s:i,s:i,s:i,s:i,s:i,s:i}",
                             "file", fn, "ro", n->read_only, "drv", n->drv->name,
                             "encrypted", 0, "detect_zeroes", dz[n->detect_zeroes],
                             "cache", "writeback", 1, "direct", n->nocache, "no-flush", n->noflush,
                             "bps", 0, "bps_rd", 0, "bps_wr", 0, "iops", 0, "iops_rd", 0,
                             "iops_wr", 0, "write_threshold", 0);
    free(fn);
    json_object_set_new(info, "node-name", json_string(n->name));
    const ModelNode *cow = n->drv->kind == BG_DRV_FILTER ? NULL : model_graph_backing(w, n);
    if (cow) {
        char *bfn = model_query_filename(st, w, cow);
        json_object_set_new(info, "backing_file", json_string(bfn));
        free(bfn);
    }
    /* mirror_start_job(): the active commit's source has an anonymous dirty
     * bitmap (granularity: the target's cluster size) while the job runs;
     * nothing is dirty once it is ready */
    for (size_t i = 0; i < w->n_jobs; i++) {
        const ModelJob *j = &w->jobs[i];
        if (j->type == MODEL_JOB_ACTIVE_COMMIT && j->filter && j->top == n->id)
            json_object_set_new(info, "dirty-bitmaps",
                                json_pack("[{s:b,s:I,s:i,s:b,s:b}]", "busy", 0, "count",
                                          (json_int_t)(j->status < MODEL_JOB_READY ? j->len : 0),
                                          "granularity", (int)MODEL_CLUSTER, "persistent", 0,
                                          "recording", 1));
    }
    int depth = 0;
    json_t *img = image_info(st, w, n);
    json_object_set_new(info, "image", img);
    const ModelNode *bs0 = n;
    json_t *cur = img;
    while (!flat) {
        const ModelNode *next = filter_or_cow(w, bs0);
        if (!next)
            break;
        depth++;
        json_t *bi = image_info(st, w, next);
        json_object_set_new(cur, "backing-image", bi);
        cur = bi;
        bs0 = next;
    }
    json_object_set_new(info, "backing_file_depth", json_integer(depth));
    return info;
}

/*
 * A filter without its filtered child: a job's filter the job dropped from
 * the graph while it still holds a reference (block-stream's copy-on-read
 * after the job concluded, before job-dismiss).  QEMU 7.2's
 * bdrv_block_device_info() asks every node for its length, and a filter's
 * getlength (cor_co_getlength(), ...) follows bs->file, which is NULL there:
 * QEMU dies with SIGSEGV, so there is no answer to model.
 */
static bool has_childless_filter(const ModelWorld *w)
{
    for (size_t i = 0; i < w->n_nodes; i++)
        if (w->nodes[i]->drv->kind == BG_DRV_FILTER && !model_graph_filtered(w, w->nodes[i]))
            return true;
    return false;
}

json_t *model_query_named_block_nodes(ModelState *st, bool flat)
{
    if (has_childless_filter(st->w)) {
        st->unsupported = "query-named-block-nodes with a job's filter left without its "
                          "child (QEMU 7.2 crashes: SIGSEGV in the filter's getlength)";
        return NULL;
    }
    json_t *list = json_array();
    for (size_t i = st->w->n_nodes; i-- > 0;)
        json_array_append_new(list, node_info(st, st->w, st->w->nodes[i], flat));
    return list;
}

static const char *const job_status_names[] = {
    "created", "running", "ready", "waiting", "pending", "aborting", "concluded", "null",
};
static const char *const job_type_names[] = { "stream", "commit", "commit" };

/* The job list is newest first (job_create(): QLIST_INSERT_HEAD). */
json_t *model_query_block_jobs(ModelState *st)
{
    json_t *list = json_array();
    for (size_t i = st->w->n_jobs; i-- > 0;) {
        const ModelJob *j = &st->w->jobs[i];
        if (j->status == MODEL_JOB_NULL)
            continue;
        json_array_append_new(list, json_pack(
            "{s:b,s:s,s:I,s:I,s:b,s:I,s:s,s:b,s:s,s:s,s:b,s:b}", "auto-finalize", j->auto_finalize,
            "device", j->id, "len", (json_int_t)j->len, "offset", (json_int_t)j->offset,
            "busy", j->status == MODEL_JOB_RUNNING, "speed", (json_int_t)j->speed,
            "io-status", "ok", "paused", 0, "type", job_type_names[j->type], "status",
            job_status_names[j->status], "ready", j->status == MODEL_JOB_READY, "auto-dismiss",
            j->auto_dismiss));
        if (j->cancelled)      /* job->ret: strerror(ECANCELED) */
            json_object_set_new(json_array_get(list, json_array_size(list) - 1), "error",
                                json_string("Operation canceled"));
    }
    return list;
}

json_t *model_query_jobs(ModelState *st)
{
    json_t *list = json_array();
    for (size_t i = st->w->n_jobs; i-- > 0;) {
        const ModelJob *j = &st->w->jobs[i];
        if (j->status == MODEL_JOB_NULL)
            continue;
        json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", j->id, "type",
                                              job_type_names[j->type], "status",
                                              job_status_names[j->status], "current-progress",
                                              (json_int_t)j->offset, "total-progress",
                                              (json_int_t)j->len));
        if (j->cancelled)
            json_object_set_new(json_array_get(list, json_array_size(list) - 1), "error",
                                json_string("Operation canceled"));
    }
    return list;
}
