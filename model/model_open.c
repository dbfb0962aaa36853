/*
 * model_open.c: opening nodes (blockdev-add and the children it creates).
 *
 * What this is: bdrv_open_inherit() on the model's data: options as QEMU
 * keeps them (bs->options, bs->explicit_options), inheritance from the
 * parent, the order in which nodes get their names (a format node after its
 * `file` child and before its `backing` child), children by definition or by
 * reference, implicit backing files opened from the image header, the
 * options no driver took, and the lengths fixed at open.
 * What it is not: each driver's own open (model_open_driver.c, which this
 * calls and lends model_open_child_bs()), QAPI validation (model_qapi.c) or
 * permission checks (model_perm.c, run by the caller after the whole tree
 * is open).
 *
 * Mirrors QEMU 7.2.0 blockdev.c qmp_blockdev_add() / bds_tree_init(),
 * block.c bdrv_open_inherit(), bdrv_inherited_options(), bdrv_open_common(),
 * bdrv_fill_options(), bdrv_assign_node_name(), bdrv_open_child_bs(),
 * bdrv_open_backing_file(), bdrv_open_driver(), bdrv_getlength().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

/* ---- options helpers ----------------------------------------------------------- */

/* A boolean option as bdrv_open_inherit()/QemuOpts read it: JSON bools, or
 * the strings "on"/"off"/"true"/"false" that inheritance puts there. */
bool model_open_opt_bool(const ModelQDict *opts, const char *key, bool dflt, bool *is_valid)
{
    json_t *v = model_qdict_get(opts, key);
    if (is_valid)
        *is_valid = true;
    if (!v)
        return dflt;
    if (json_is_boolean(v))
        return json_is_true(v);
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "on") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0))
        return true;
    if (s && (strcmp(s, "off") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0))
        return false;
    if (is_valid)
        *is_valid = false;
    return dflt;
}

/* block.c update_flags_from_options() */
void model_open_flags_from_options(ModelNode *n, const ModelQDict *opts)
{
    n->noflush = model_open_opt_bool(opts, "cache.no-flush", false, NULL);
    n->nocache = model_open_opt_bool(opts, "cache.direct", false, NULL);
    n->read_only = model_open_opt_bool(opts, "read-only", false, NULL);
    n->auto_read_only = model_open_opt_bool(opts, "auto-read-only", false, NULL);
}

/* block.c bdrv_inherited_options() (the option part; flags follow from them) */
void model_open_inherit(unsigned role, bool parent_is_format, ModelQDict *child_options,
                        const ModelQDict *parent_options)
{
    (void)parent_is_format;
    model_qdict_copy_default(child_options, parent_options, "cache.direct");
    model_qdict_copy_default(child_options, parent_options, "cache.no-flush");
    model_qdict_copy_default(child_options, parent_options, "force-share");
    if (role & MODEL_ROLE_COW) {
        model_qdict_set_default_str(child_options, "read-only", "on");
        model_qdict_set_default_str(child_options, "auto-read-only", "off");
    } else {
        model_qdict_copy_default(child_options, parent_options, "read-only");
        model_qdict_copy_default(child_options, parent_options, "auto-read-only");
    }
    model_qdict_set_default_str(child_options, "discard", "unmap");
}

/* ---- lengths --------------------------------------------------------------------- */

static ModelFile *node_file(ModelState *st, const ModelNode *n)
{
    return n->filename ? model_image_find(&st->files, n->filename) : NULL;
}

/* The image file under a qcow2 node: its `file` child, through filters. */
ModelFile *model_open_qcow2_file(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    const ModelNode *f = model_graph_file(w, n);
    while (f && f->drv->kind == BG_DRV_FILTER)
        f = model_graph_filtered(w, f);
    if (!f || strcmp(f->drv->name, "file") != 0)
        return NULL;
    return node_file(st, f);
}

/* refresh_total_sectors(): the length the driver reports now. */
static uint64_t driver_length(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = node_file(st, n);
        return f ? model_image_host_len(f) : 0;
    }
    if (strcmp(d, "qcow2") == 0) {
        ModelFile *f = model_open_qcow2_file(st, w, n);
        return f ? (f->vsize + 511) / 512 * 512 : 0;
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0)
        return n->size;
    if (strcmp(d, "raw") == 0) {
        /* raw_getlength(): the size follows the current `file` child */
        const ModelNode *c = model_graph_file(w, n);
        uint64_t len = c ? model_open_length(st, w, c) : 0;
        if (len < n->offset)
            return 0;
        return n->has_size && n->size < len - n->offset ? n->size : len - n->offset;
    }
    if (strcmp(d, "blkverify") == 0) {   /* blkverify_getlength(): the test child */
        const ModelNode *c = model_graph_child_node(w, n, "test");
        return c ? model_open_length(st, w, c) : 0;
    }
    if (strcmp(d, "quorum") == 0) {   /* quorum_getlength(): the first child */
        const ModelNode *c = model_graph_child_node(w, n, "children.0");
        return c ? model_open_length(st, w, c) : 0;
    }
    const ModelNode *c = model_graph_file(w, n);
    return c ? model_open_length(st, w, c) : 0;
}

/*
 * bdrv_getlength() (bdrv_nb_sectors()): raw, copy-on-read and compress have
 * a variable length (has_variable_length: asked of their child every time,
 * refresh_total_sectors(): whole sectors).  Every other driver, file-posix's
 * `file` included, answers bs->total_sectors: the length at open (a file of
 * 196616 bytes is 197120 long), grown only by writes through the node
 * (bdrv_co_write_req_finish()); a reopen does not refresh it, and a file
 * node does not see the file grow through another node.
 */
uint64_t model_open_length(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    static const char *const variable[] = { "raw", "copy-on-read", "compress", NULL };
    for (const char *const *v = variable; *v; v++)
        if (strcmp(n->drv->name, *v) == 0)
            return (driver_length(st, w, n) + 511) / 512 * 512;
    return n->total;
}

/* ---- node names ---------------------------------------------------------------------- */

static bool id_wellformed(const char *id)
{
    if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
        return false;
    for (const char *p = id + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-._", *p)))
            return false;
    return true;
}

/* bdrv_assign_node_name(): the node joins graph_bdrv_states here. */
static bool assign_name(ModelWorld *w, ModelNode *n, const char *name, BgError *err)
{
    if (!name) {
        n->name = bg_asprintf("#block%u", ++w->auto_counter);
        n->auto_name = true;
    } else {
        if (!id_wellformed(name))
            return bg_error_setf(err, BG_MSG_INVALID_NODE_NAME, name);
        if (model_graph_find(w, name))
            return bg_error_setf(err, BG_MSG_DUPLICATE_NODE, name);
        n->name = bg_strdup(name);
    }
    w->nodes = bg_realloc(w->nodes, (w->n_nodes + 1) * sizeof(*w->nodes));
    w->nodes[w->n_nodes++] = n;
    return true;
}

/* ---- children ---------------------------------------------------------------------------- */

/*
 * bdrv_attach_child(): the permissions below the new edge are refreshed as
 * soon as it exists (bdrv_refresh_perms()).  The parent is still being
 * opened and has no parent of its own, so the child gets what the parent's
 * driver asks for itself (a writable format node: write and resize on its
 * file).  A permission conflict or an image lock fails the open here,
 * before the driver reads its options or opens the backing file.
 */
static bool attach_child(ModelWorld *w, ModelNode *parent, ModelNode *child, const char *key,
                         unsigned role, BgError *err)
{
    /* bdrv_attach_child_noperm(): the node being opened is already named,
     * so a reference may name it or a node above it */
    if (model_graph_reaches(w, child, parent))
        return bg_error_setf(err, BG_MSG_CHILD_CYCLE, child->name, key, parent->name);
    model_graph_attach(w, parent, child, key, role);
    return model_perm_refresh_below(w, role == MODEL_ROLE_COW ? parent : child, err);
}

/*
 * bdrv_open_child_bs() + bdrv_attach_child(): open or look up the child KEY
 * of PARENT from OPTS (which loses "KEY" and "KEY.*").  *none: there was no
 * such child and ALLOW_NONE.  FILENAME is bdrv_open_child_bs()'s filename:
 * the name bdrv_open_backing_file() hands down the `file` chain of a backing
 * node (bdrv_open_inherit()'s probing open, blkdebug's and blkverify's
 * x-image); NULL everywhere else.
 */
ModelNode *model_open_child_bs(ModelState *st, ModelWorld *w, ModelQDict *opts,
                               const char *filename, const char *key, ModelNode *parent,
                               unsigned role, bool allow_none, bool attach, BgError *err)
{
    char *dot = bg_asprintf("%s.", key);
    ModelQDict *image_options = NULL;
    model_qdict_extract_sub(opts, &image_options, dot);
    free(dot);
    const char *reference = model_qdict_get_str(opts, key);
    ModelNode *child = NULL;
    if (!filename && !reference && image_options->n == 0) {
        model_qdict_free(image_options);
        if (!allow_none)
            bg_error_setf(err, BG_MSG_CHILD_MISSING, key);
        return NULL;
    }
    if (reference) {
        /* bdrv_open_inherit(): a reference takes neither options nor a
         * file name */
        if (filename || image_options->n) {
            bg_error_setf(err, BG_MSG_REFERENCE_WITH_OPTIONS);
        } else {
            child = model_graph_find(w, reference);
            if (!child)
                bg_error_setf(err, BG_MSG_LOOKUP_BS, reference, reference);
        }
        model_qdict_free(image_options);
    } else {
        child = model_open_node(st, w, image_options, filename, parent, key, role, err);
    }
    model_qdict_del(opts, key);
    if (child && attach && !attach_child(w, parent, child, key, role, err))
        return NULL;
    return child;
}

/*
 * bdrv_open_backing_file().  A backing given in the options is opened with
 * the header's backing file name as bdrv_open_inherit()'s filename unless
 * it is a reference ("backing": "NODE") or its options hold
 * backing.file.filename (a `file` child defined inline as a file-posix
 * node); a header without a backing name hands down nothing.  The name then
 * goes down the `file` chain (model_open_node()): it fails at the first
 * reference ("Cannot reference an existing block device..."), at a `file`
 * node ("Can't specify 'file' and 'filename'..."), at a null node (its
 * bdrv_parse_filename()), or leaves a probing `file` under quorum.
 * backing.driver is mandatory in QAPI, so the header's backing format never
 * fills it in here.
 */
static bool open_backing(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    const char *reference = model_qdict_get_str(opts, "backing");
    bool defined = reference != NULL;
    for (size_t i = 0; !defined && i < opts->n; i++)
        defined = strncmp(opts->e[i].key, "backing.", 8) == 0;
    if (defined) {
        BgError local = {0};
        char *backing_filename = NULL;
        if (!reference && !model_qdict_has(opts, "backing.file.filename") && n->backing_file &&
            n->backing_file[0]) {
            backing_filename = model_query_make_absolute(st, w, n, n->backing_file, err);
            if (!backing_filename)
                return false;       /* no "Could not open backing file" prefix */
        }
        ModelNode *b = model_open_child_bs(st, w, opts, backing_filename, "backing", n,
                                           MODEL_ROLE_COW, true, false, &local);
        free(backing_filename);
        if (!b && local.set) {
            bg_error_setf(err, "%s%s", BG_MSG_BACKING_OPEN_PREFIX, local.text);
            return false;
        }
        /* bdrv_set_backing_hd(): its error has no prefix */
        return !b || attach_child(w, n, b, "backing", MODEL_ROLE_COW, err);
    }
    if (!n->backing_file || !n->backing_file[0])
        return true;        /* bdrv_open_backing_file(): no name, no backing */
    /* The header names a backing file: open it with the parent's inherited
     * options, the format from the header, the file from the name. */
    char *full = model_query_make_absolute(st, w, n, n->backing_file, err);
    if (!full)
        return false;
    ModelQDict *bo = model_qdict_new();
    if (n->backing_fmt)
        model_qdict_put_str(bo, "driver", n->backing_fmt);
    if (!n->backing_fmt || (strcmp(n->backing_fmt, "qcow2") != 0 &&
                            strcmp(n->backing_fmt, "raw") != 0)) {
        model_qdict_free(bo);
        free(full);
        st->unsupported = n->backing_fmt ? "backing format not modelled"
                                         : "backing file without a format: probing is not modelled";
        return false;
    }
    if (strncmp(full, "json:", 5) == 0) {
        /* parse_json_protocol(): the name's options (qdict_flatten()ed)
         * join the header's format, which they do not override */
        json_t *j = json_loads(full + 5, JSON_DECODE_ANY, NULL);
        free(full);
        if (!json_is_object(j)) {
            json_decref(j);
            model_qdict_free(bo);
            st->unsupported = "a json: backing file name that is not a JSON object (QEMU's "
                              "parser's errors are not modelled)";
            return false;
        }
        ModelQDict *jo = model_qdict_from_json(j);
        json_decref(j);
        model_qdict_join(bo, jo);
        model_qdict_free(jo);
    } else {
        model_qdict_put_str(bo, "file.driver", "file");
        model_qdict_put_str(bo, "file.filename", full);
        free(full);
    }
    BgError local = {0};
    ModelNode *b = model_open_node(st, w, bo, NULL, n, "backing", MODEL_ROLE_COW, &local);
    if (!b) {
        bg_error_setf(err, "%s%s", BG_MSG_BACKING_OPEN_PREFIX, local.text);
        return false;
    }
    if (!attach_child(w, n, b, "backing", MODEL_ROLE_COW, err))
        return false;
    /* implicit_backing: the header's name is now the node's file name (a
     * backing given in the options leaves the header's name, so that the
     * backing counts as overridden unless the two happen to be equal) */
    free(n->auto_backing_file);
    n->auto_backing_file = model_query_filename(st, w, b);
    return true;
}

/* ---- bdrv_open_inherit() -------------------------------------------------------------- */

static void remove_child_keys(ModelNode *n)
{
    for (size_t i = 0; i < n->n_children; i++) {
        char *dot = bg_asprintf("%s.", n->children[i].name);
        model_qdict_extract_sub(n->explicit_options, NULL, dot);
        model_qdict_extract_sub(n->options, NULL, dot);
        model_qdict_del(n->explicit_options, n->children[i].name);
        model_qdict_del(n->options, n->children[i].name);
        free(dot);
    }
}

/* BlockDriver.bdrv_file_open: the drivers bdrv_fill_options() opens as
 * protocols (file-posix, null, blkdebug, blkverify); bdrv_open_inherit()
 * opens a probing `file` child for every other one. */
static bool drv_file_open(const ModelDriver *drv)
{
    return drv->kind == BG_DRV_PROTOCOL || strcmp(drv->name, "blkdebug") == 0 ||
           strcmp(drv->name, "blkverify") == 0;
}

/*
 * bdrv_fill_options() for a node opened with FILENAME: a protocol driver
 * takes the name as its "filename" option, which it must not have been
 * given ("Can't specify 'file' and 'filename'..."), then parses it
 * (bdrv_parse_filename(): file-posix keeps it; null_co_parse_filename()
 * accepts only its own URL and drops it; blkdebug's and blkverify's leave
 * it in x-image, returned in *X_IMAGE, for the child they open).
 */
static bool fill_filename(ModelState *st, const ModelDriver *drv, ModelQDict *options,
                          const char *filename, char **x_image, BgError *err)
{
    if (!drv_file_open(drv))
        return true;
    if (model_qdict_has(options, "filename"))
        return bg_error_setf(err, BG_MSG_FILE_AND_FILENAME);
    const char *d = drv->name;
    if (strcmp(d, "file") == 0) {
        if (!model_qdict_has(options, "driver"))
            model_qdict_put_str(options, "driver", d);
        model_qdict_put_str(options, "filename", filename);
    } else if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0) {
        char *url = bg_asprintf("%s://", d);
        bool own = strcmp(filename, url) == 0;
        if (!own)
            bg_error_setf(err, BG_MSG_NULL_FILENAME, url);
        free(url);
        return own;
    } else {
        char *prefix = bg_asprintf("%s:", d);
        bool prefixed = strncmp(filename, prefix, strlen(prefix)) == 0;
        free(prefix);
        if (prefixed) {
            st->unsupported = "a blkdebug: or blkverify: name handed down as a backing file "
                              "name is not modelled";
            return false;
        }
        *x_image = bg_strdup(filename);
    }
    return true;
}

/*
 * bdrv_open_inherit().  FILENAME (NULL but for the header's backing file
 * name going down a backing node's `file` chain, bdrv_open_backing_file())
 * is passed on to the probing `file` child of a node that is not a
 * protocol, or taken by a protocol node (fill_filename()).
 */
ModelNode *model_open_node(ModelState *st, ModelWorld *w, ModelQDict *options, const char *filename,
                           ModelNode *parent, const char *child_name, unsigned role, BgError *err)
{
    (void)child_name;
    const char *drvname = model_qdict_get_str(options, "driver");
    /* parse_json_protocol(): a json: name joins its options to the node's */
    if (filename && strncmp(filename, "json:", 5) == 0) {
        model_qdict_free(options);
        st->unsupported = "a json: backing file name handed down a backing node's file chain is "
                          "not modelled";
        return NULL;
    }
    /* bdrv_fill_options(): a node without a driver opened with a name (the
     * probing `file` under quorum, a protocol child) finds its driver by the
     * name's protocol (bdrv_find_protocol()): file-posix for a plain path */
    if (!drvname && filename && !model_path_has_protocol(filename))
        drvname = "file";
    const ModelDriver *drv = drvname ? model_driver_find(drvname) : NULL;
    if (!drv || (drv->flags & BG_DRVF_INTERNAL)) {
        model_qdict_free(options);
        if (!drvname)
            st->unsupported = "a node without a driver (format probing) is not modelled";
        else
            st->unsupported = "a block driver the model does not implement";
        return NULL;
    }
    ModelNode *n = model_graph_node_new(w, drv);
    bool named = false;
    ModelQDict *opts = NULL;
    char *x_image = NULL;
    model_qdict_free(n->explicit_options);
    n->explicit_options = model_qdict_clone(options);
    if (parent) {
        n->inherits_from = parent->id;
        model_open_inherit(role, parent->drv->kind == BG_DRV_FORMAT, options, parent->options);
    }
    model_qdict_free(n->options);
    n->options = options;
    if (filename && !fill_filename(st, drv, options, filename, &x_image, err))
        goto fail;
    model_open_flags_from_options(n, options);
    opts = model_qdict_clone(options);
    /* blkdebug_parse_filename(), blkverify_parse_filename(): x-image is in
     * QEMU's bs->options too; the model keeps it in the driver's copy only
     * (no open that reaches a blkdebug or blkverify node with a name ends
     * well: the name goes on to its child) */
    if (x_image)
        model_qdict_put_str(opts, "x-image", x_image);
    free(x_image);
    bool no_backing = false;

    json_t *bk = model_qdict_get(opts, "backing");
    if (json_is_null(bk)) {
        no_backing = true;
        model_qdict_del(n->explicit_options, "backing");
        model_qdict_del(n->options, "backing");
        model_qdict_del(opts, "backing");
    }
    if (!drv_file_open(drv)) {
        /* the probing open of `file` (the driver attaches it below) */
        ModelNode *f = model_open_child_bs(st, w, opts, filename, "file", n, MODEL_ROLE_IMAGE,
                                           true, false, err);
        if (err->set || st->unsupported)
            goto fail;
        if (f)
            model_qdict_put_str(opts, "file", f->name);
    }

    /* bdrv_open_common() */
    n->force_share = model_open_opt_bool(opts, "force-share", false, NULL);
    if (n->force_share && !n->read_only) {
        bg_error_setf(err, BG_MSG_FORCE_SHARE_RW);
        goto fail;
    }
    const char *discard = model_qdict_get_str(opts, "discard");
    n->unmap = discard && (strcmp(discard, "unmap") == 0 || strcmp(discard, "on") == 0);
    const char *dz = model_qdict_get_str(opts, "detect-zeroes");
    n->detect_zeroes = !dz ? MODEL_DZ_OFF : strcmp(dz, "on") == 0 ? MODEL_DZ_ON
                       : strcmp(dz, "unmap") == 0 ? MODEL_DZ_UNMAP : MODEL_DZ_OFF;
    if (n->detect_zeroes == MODEL_DZ_UNMAP && !n->unmap) {
        bg_error_setf(err, BG_MSG_DETECT_ZEROES_UNMAP);
        goto fail;
    }
    /* bdrv_open_driver(): the name comes after bdrv_open_common()'s own
     * checks (force-share, detect-zeroes), so those win over a duplicate or
     * ill-formed node-name */
    if (!assign_name(w, n, model_qdict_get_str(opts, "node-name"), err))
        goto fail;
    named = true;
    static const char *const generic[] = { "node-name", "driver", "cache.direct", "cache.no-flush",
                                           "read-only", "auto-read-only", "discard",
                                           "detect-zeroes", "force-share" };
    for (size_t i = 0; i < sizeof(generic) / sizeof(generic[0]); i++)
        model_qdict_del(opts, generic[i]);
    if (parent && parent->iothread)
        n->iothread = bg_strdup(parent->iothread);

    if (!model_open_driver(st, w, n, opts, err))
        goto fail;
    /* bdrv_open_driver(): refresh_total_sectors() asks the driver's length;
     * quorum_getlength() fails with EIO unless every child has the first
     * child's length */
    if (strcmp(drv->name, "quorum") == 0) {
        uint64_t len = driver_length(st, w, n);
        for (size_t i = 0; i < n->n_children; i++)
            if (model_open_length(st, w, model_graph_node(w, n->children[i].node)) != len) {
                bg_error_setf(err, BG_MSG_REFRESH_TOTAL_SECTORS, strerror(EIO));
                goto fail;
            }
    }

    if ((drv->flags & BG_DRVF_BACKING) && !no_backing && !open_backing(st, w, n, opts, err))
        goto fail;
    /* bdrv_refresh_limits() in bdrv_open_driver() and again when the backing
     * child is attached (bdrv_set_file_or_backing_noperm()) */
    model_io_refresh_limits(w, n);
    remove_child_keys(n);
    if (opts->n) {
        size_t cnt;
        const char **keys = model_qdict_order(opts, &cnt);
        if (drv->kind == BG_DRV_PROTOCOL)
            bg_error_setf(err, BG_MSG_PROTOCOL_OPTION, drv->name, keys[0]);
        else
            bg_error_setf(err, BG_MSG_FORMAT_OPTION, drv->name, keys[0]);
        free(keys);
        goto fail;
    }
    model_qdict_free(opts);
    n->total = (driver_length(st, w, n) + 511) / 512 * 512;
    return n;

fail:
    /* The caller drops the whole world; a named node stays in it until then. */
    model_qdict_free(opts);
    if (!named)
        model_graph_node_free(n);
    return NULL;
}

/* qmp_blockdev_add(): ARGS are validated; the caller drops W on failure. */
bool model_open_blockdev_add(ModelState *st, ModelWorld *w, const json_t *args, BgError *err)
{
    json_t *out = model_qapi_output(args);
    ModelQDict *opts = model_qdict_from_json(out);
    json_decref(out);
    if (!model_qdict_get_str(opts, "node-name")) {
        model_qdict_free(opts);
        return bg_error_setf(err, BG_MSG_ROOT_NODE_NAME);
    }
    /* bds_tree_init() */
    model_qdict_set_default_str(opts, "cache.direct", "off");
    model_qdict_set_default_str(opts, "cache.no-flush", "off");
    model_qdict_set_default_str(opts, "read-only", "off");
    ModelNode *n = model_open_node(st, w, opts, NULL, NULL, NULL, 0, err);
    if (!n)
        return false;
    n->monitor_owned = true;
    return model_perm_refresh_below(w, n, err);
}
