/*
 * open.c: opening node trees (see open.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_open_inherit(), bdrv_fill_options(),
 * parse_json_protocol(), bdrv_open_common(), bdrv_open_driver(),
 * bdrv_assign_node_name() (graph.c), bdrv_open_child_bs(),
 * bdrv_open_child(), bdrv_attach_child(), bdrv_open_backing_file(),
 * find_image_format() (qcow2 magic, else raw), bdrv_inherited_options(),
 * update_flags_from_options(), update_options_from_flags(),
 * bdrv_parse_discard_flags(), bdrv_parse_detect_zeroes(),
 * bdrv_new_open_driver_opts(); blockdev.c qmp_blockdev_add(), bds_tree_init(),
 * bdrv_set_monitor_owned().
 * What it is not: the probing BlockBackend QEMU puts on the file child
 * while the format is guessed (it takes no permissions and shares all, so
 * it cannot change a permission result); a temporary reference stands in.
 */
#include "open.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "child.h"
#include "filename.h"
#include "messages.h"
#include "nodedrv.h"
#include "perm.h"
#include "qapi.h"
#include "qdict.h"
#include "tran.h"

/* ---- option helpers --------------------------------------------------------------- */

bool real_opt_bool(json_t *v, bool def)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    const char *s = json_string_value(v);
    if (!s)
        return def;
    if (!strcmp(s, "on") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "y"))
        return true;
    if (!strcmp(s, "off") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "n"))
        return false;
    return def;
}

void real_open_inherited_options(unsigned role, bool parent_is_format, int *child_flags,
                                 json_t *child_options, int parent_flags,
                                 json_t *parent_options)
{
    int flags = parent_flags;
    if (!parent_is_format && (role & REAL_CHILD_DATA) &&
        !(role & (REAL_CHILD_METADATA | REAL_CHILD_FILTERED)))
        flags &= ~REAL_O_PROTOCOL;
    if ((parent_is_format && !(role & REAL_CHILD_COW)) || (role & REAL_CHILD_METADATA))
        flags |= REAL_O_PROTOCOL;
    qdict_copy_default(child_options, parent_options, "cache.direct");
    qdict_copy_default(child_options, parent_options, "cache.no-flush");
    qdict_copy_default(child_options, parent_options, "force-share");
    if (role & REAL_CHILD_COW) {
        qdict_set_default_str(child_options, "read-only", "on");
        qdict_set_default_str(child_options, "auto-read-only", "off");
    } else {
        qdict_copy_default(child_options, parent_options, "read-only");
        qdict_copy_default(child_options, parent_options, "auto-read-only");
    }
    qdict_set_default_str(child_options, "discard", "unmap");
    flags &= ~(REAL_O_NO_BACKING | REAL_O_COPY_ON_READ);
    if (role & REAL_CHILD_METADATA)
        flags &= ~REAL_O_NO_IO;
    *child_flags = flags;
}

void real_open_flags_from_options(int *flags, json_t *opts)
{
    *flags &= ~(REAL_O_CACHE_MASK | REAL_O_RDWR | REAL_O_AUTO_RDONLY);
    if (real_opt_bool(json_object_get(opts, "cache.no-flush"), false))
        *flags |= REAL_O_NO_FLUSH;
    if (real_opt_bool(json_object_get(opts, "cache.direct"), false))
        *flags |= REAL_O_NOCACHE;
    if (!real_opt_bool(json_object_get(opts, "read-only"), false))
        *flags |= REAL_O_RDWR;
    if (real_opt_bool(json_object_get(opts, "auto-read-only"), false))
        *flags |= REAL_O_AUTO_RDONLY;
}

void real_open_options_from_flags(json_t *options, int flags)
{
    if (!json_object_get(options, "cache.direct"))
        json_object_set_new(options, "cache.direct", json_boolean(flags & REAL_O_NOCACHE));
    if (!json_object_get(options, "cache.no-flush"))
        json_object_set_new(options, "cache.no-flush", json_boolean(flags & REAL_O_NO_FLUSH));
    if (!json_object_get(options, "read-only"))
        json_object_set_new(options, "read-only", json_boolean(!(flags & REAL_O_RDWR)));
    if (!json_object_get(options, "auto-read-only"))
        json_object_set_new(options, "auto-read-only",
                            json_boolean(flags & REAL_O_AUTO_RDONLY));
}

int real_open_parse_discard(const char *mode, int *flags)
{
    *flags &= ~REAL_O_UNMAP;
    if (!strcmp(mode, "off") || !strcmp(mode, "ignore"))
        return 0;
    if (!strcmp(mode, "on") || !strcmp(mode, "unmap")) {
        *flags |= REAL_O_UNMAP;
        return 0;
    }
    return -1;
}

/* The generic options bdrv_runtime_opts absorbs. */
enum {
    RT_NODE_NAME, RT_DRIVER, RT_CACHE_DIRECT, RT_CACHE_NO_FLUSH, RT_READ_ONLY,
    RT_AUTO_READ_ONLY, RT_DETECT_ZEROES, RT_DISCARD, RT_FORCE_SHARE, RT_COUNT
};
static const char *const runtime_opts[RT_COUNT] = {
    [RT_NODE_NAME] = "node-name", [RT_DRIVER] = "driver", [RT_CACHE_DIRECT] = "cache.direct",
    [RT_CACHE_NO_FLUSH] = "cache.no-flush", [RT_READ_ONLY] = "read-only",
    [RT_AUTO_READ_ONLY] = "auto-read-only", [RT_DETECT_ZEROES] = "detect-zeroes",
    [RT_DISCARD] = "discard", [RT_FORCE_SHARE] = "force-share",
};

/* ---- children ------------------------------------------------------------------- */

static RealNode *open_child_bs(const char *filename, json_t *options, const char *key,
                               RealNode *parent, unsigned role, bool allow_none, BgError *err)
{
    char *dot = bg_asprintf("%s.", key);
    json_t *image_options;
    qdict_extract_subqdict(options, &image_options, dot);
    free(dot);
    const char *ref = qdict_get_str(options, key);
    char *reference = ref ? bg_strdup(ref) : NULL;
    RealNode *n = NULL;
    if (!filename && !reference && !json_object_size(image_options)) {
        if (!allow_none)
            bg_error_setf(err, BG_MSG_CHILD_MISSING, key);
        json_decref(image_options);
    } else {
        n = real_open_inherit(parent->g, filename, reference, image_options, 0, parent, role,
                              err);
    }
    free(reference);
    json_object_del(options, key);
    return n;
}

/* bdrv_attach_child(): attach (taking over the caller's reference) and refresh. */
static RealEdge *attach_child(RealNode *parent, RealNode *child, const char *name,
                              unsigned role, BgError *err)
{
    Tran *tran = tran_new();
    RealEdge *e = real_edge_attach_to_node(parent, child, name, role, tran, err);
    int ret = e ? real_perm_refresh_node(parent, err) : -EINVAL;
    tran_finalize(tran, ret);
    real_node_unref(child);
    return ret < 0 ? NULL : e;
}

RealEdge *real_open_child(const char *filename, RealNode *parent, json_t *options,
                          const char *key, unsigned role, bool allow_none, BgError *err)
{
    RealNode *child = open_child_bs(filename, options, key, parent, role, allow_none, err);
    if (!child)
        return NULL;
    return attach_child(parent, child, key, role, err);
}

int real_open_backing_file(RealNode *n, json_t *parent_options, const char *key, BgError *err)
{
    if (n->backing)
        return 0;
    n->open_flags &= ~REAL_O_NO_BACKING;
    char *dot = bg_asprintf("%s.", key);
    json_t *options;
    qdict_extract_subqdict(parent_options, &options, dot);
    free(dot);
    const char *ref = qdict_get_str(parent_options, key);
    char *reference = ref ? bg_strdup(ref) : NULL;
    char *backing_filename = NULL;
    bool implicit_backing = false;
    int ret = 0;

    if (reference || json_object_get(options, "file.filename")) {
        /* keep backing_filename NULL */
    } else if (!n->backing_file[0] && !json_object_size(options)) {
        json_decref(options);
        goto out;
    } else {
        if (!json_object_size(options))
            implicit_backing = !strcmp(n->auto_backing_file, n->backing_file);
        BgError local = { 0 };
        backing_filename = real_filename_make_absolute(n, n->backing_file, &local);
        if (local.set) {
            if (err && !err->set)
                *err = local;
            json_decref(options);
            ret = -EINVAL;
            goto out;
        }
    }
    if (!n->drv || !n->drv->supports_backing) {
        bg_error_setf(err, BG_MSG_BACKING_NOT_SUPPORTED);
        json_decref(options);
        ret = -EINVAL;
        goto out;
    }
    if (!reference && n->backing_format[0] && !json_object_get(options, "driver"))
        json_object_set_new(options, "driver", json_string(n->backing_format));

    RealNode *backing = real_open_inherit(n->g, backing_filename, reference, options, 0, n,
                                          real_child_backing_role(n), err);
    if (!backing) {
        n->open_flags |= REAL_O_NO_BACKING;
        bg_error_prepend(err, BG_MSG_BACKING_OPEN_PREFIX);
        ret = -EINVAL;
        goto out;
    }
    if (implicit_backing) {
        real_node_refresh_filename(backing);
        free(n->auto_backing_file);
        n->auto_backing_file = bg_strdup(backing->filename);
    }
    ret = real_child_set_backing_hd(n, backing, err);
    real_node_unref(backing);
    if (ret < 0)
        goto out;
    json_object_del(parent_options, key);
out:
    free(reference);
    free(backing_filename);
    return ret;
}

/* ---- json: filenames and probing ------------------------------------------------------ */

static bool parse_json_protocol(json_t *options, const char **pfilename, BgError *err)
{
    const char *fn = *pfilename;
    if (!fn || strncmp(fn, "json:", 5) != 0)
        return true;
    json_error_t jerr;
    json_t *obj = json_loads(fn + 5, JSON_DECODE_ANY, &jerr);
    if (!obj)
        return bg_error_setf(err, BG_MSG_JSON_PARSE, jerr.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return bg_error_setf(err, BG_MSG_JSON_NOT_OBJECT);
    }
    qdict_flatten(obj);
    qdict_join(options, obj, false);
    json_decref(obj);
    *pfilename = NULL;
    return true;
}

/* find_image_format(): qcow2 by its magic, otherwise raw. */
static const char *probe_format(RealNode *file)
{
    unsigned char magic[4] = { 0 };
    if (bdrv_getlength(file->bs) >= 4 && bdrv_pread(file->bs, 0, 4, magic, 0) == 0 &&
        !memcmp(magic, "QFI\xfb", 4))
        return "qcow2";
    return "raw";
}

/* ---- bdrv_open_common / bdrv_open_driver ----------------------------------------------- */

static int open_common(RealNode *n, RealNode *file, json_t *options, BgError *err)
{
    /* The absorbed bdrv_runtime_opts, taken out of OPTIONS with a reference
     * each (Speed: not copied into a dict of their own; the flags read the
     * same keys before they go). */
    json_t *opts[RT_COUNT];
    real_open_flags_from_options(&n->open_flags, options);
    for (int i = 0; i < RT_COUNT; i++) {
        opts[i] = json_incref(json_object_get(options, runtime_opts[i]));
        if (opts[i])
            json_object_del(options, runtime_opts[i]);
    }
    int ret = -EINVAL;
    const RealNodeDriver *drv = real_nodedrv_find(json_string_value(opts[RT_DRIVER]));
    n->force_share = real_opt_bool(opts[RT_FORCE_SHARE], false);
    if (n->force_share && (n->open_flags & REAL_O_RDWR)) {
        bg_error_setf(err, BG_MSG_FORCE_SHARE_RW);
        goto out;
    }
    const char *filename;
    if (file) {
        real_node_refresh_filename(file);
        filename = file->filename;
    } else {
        filename = qdict_get_str(options, "filename");
    }
    const char *discard = json_string_value(opts[RT_DISCARD]);
    if (discard && real_open_parse_discard(discard, &n->open_flags) != 0) {
        bg_error_setf(err, BG_MSG_INVALID_DISCARD);
        goto out;
    }
    const char *dz = json_string_value(opts[RT_DETECT_ZEROES]);
    RealDetectZeroes detect = REAL_DETECT_ZEROES_OFF;
    if (dz && !strcmp(dz, "on"))
        detect = REAL_DETECT_ZEROES_ON;
    else if (dz && !strcmp(dz, "unmap"))
        detect = REAL_DETECT_ZEROES_UNMAP;
    if (detect == REAL_DETECT_ZEROES_UNMAP && !(n->open_flags & REAL_O_UNMAP)) {
        bg_error_setf(err, BG_MSG_DETECT_ZEROES_UNMAP);
        goto out;
    }
    n->bs->detect_zeroes = detect;
    free(n->filename);
    n->filename = bg_strdup(filename ? filename : "");
    free(n->exact_filename);
    n->exact_filename = bg_strdup(n->filename);

    /* bdrv_open_driver() */
    if (!real_node_assign_name(n, json_string_value(opts[RT_NODE_NAME]), err))
        goto out;
    n->drv = drv;
    int open_flags = n->open_flags & ~REAL_O_NO_BACKING;
    ret = drv->open ? drv->open(n, options, open_flags, err)
                    : bdrv_open_driver(n->bs, drv->ops, options, open_flags, err);
    if (ret < 0) {
        if (err && !err->set)
            bg_error_setf(err, BG_MSG_FILE_OPEN, n->filename, strerror(-ret));
        n->drv = NULL;
        while (n->children)
            real_edge_unref(n->children);
        ret = ret < 0 ? ret : -EINVAL;
        goto out;
    }
    /* bdrv_open_driver(): bdrv_refresh_limits() with the children the
     * driver opened (the backing child refreshes it again when attached) */
    real_node_refresh_limits(n, NULL);
    /* the storage layer keeps its own copy of the flags and the header's backing name */
    n->bs->open_flags = n->open_flags;
    n->bs->read_only = !(n->open_flags & REAL_O_RDWR);
    n->bs->detect_zeroes = detect;
    if (n->bs->backing_file) {
        free(n->backing_file);
        n->backing_file = bg_strdup(n->bs->backing_file);
        free(n->auto_backing_file);
        n->auto_backing_file = bg_strdup(n->bs->backing_file);
    }
    if (n->bs->backing_format) {
        free(n->backing_format);
        n->backing_format = bg_strdup(n->bs->backing_format);
    }
    ret = 0;
out:
    for (int i = 0; i < RT_COUNT; i++)
        json_decref(opts[i]);
    return ret;
}

/* Drop the keys the driver consumes (its QemuOpts lists); what is left is unknown. */
static void drop_driver_options(const RealNodeDriver *drv, json_t *options)
{
    size_t n, nd = 0;
    const char **keys = qdict_order(options, &n);
    for (size_t i = 0; i < n; i++)
        if (real_nodedrv_has_opt(drv, keys[i]))
            keys[nd++] = keys[i];
    for (size_t i = 0; i < nd; i++)
        json_object_del(options, keys[i]);   /* its own key: qdict.h, qdict_order() */
    free(keys);
}

/* ---- bdrv_open_inherit ---------------------------------------------------------------- */

RealNode *real_open_inherit(RealGraph *g, const char *filename, const char *reference,
                            json_t *take_options, int flags, RealNode *parent, unsigned role,
                            BgError *err)
{
    json_t *options = take_options;
    if (reference) {
        bool non_empty = options && json_object_size(options);
        json_decref(options);
        if (filename || non_empty) {
            bg_error_setf(err, BG_MSG_REFERENCE_WITH_OPTIONS);
            return NULL;
        }
        RealNode *n = real_graph_lookup(g, reference, reference, err);
        if (n)
            real_node_ref(n);
        return n;
    }

    RealNode *n = real_node_new(g);
    if (!n) {
        json_decref(options);
        bg_error_setf(err, "Out of memory");
        return NULL;
    }
    if (!options)
        options = json_object();
    RealNode *file = NULL;
    json_t *working = NULL;
    const RealNodeDriver *drv = NULL;

    if (!parse_json_protocol(options, &filename, err))
        goto fail;
    n->explicit_options = qdict_clone(options);
    if (parent) {
        bool parent_is_format = parent->drv ? parent->drv->is_format : true;
        n->inherits_from = parent;
        real_open_inherited_options(role, parent_is_format, &flags, options, parent->open_flags,
                                    parent->options);
    }

    /* bdrv_fill_options() */
    const char *drvname = qdict_get_str(options, "driver");
    bool protocol = flags & REAL_O_PROTOCOL;
    bool parse_filename = false;
    if (drvname) {
        drv = real_nodedrv_find(drvname);
        if (!drv) {
            bg_error_setf(err, BG_MSG_UNKNOWN_DRIVER, drvname);
            goto fail;
        }
        protocol = drv->protocol;
    }
    if (protocol)
        flags |= REAL_O_PROTOCOL;
    else
        flags &= ~REAL_O_PROTOCOL;
    real_open_options_from_flags(options, flags);
    if (protocol && filename) {
        if (json_object_get(options, "filename")) {
            bg_error_setf(err, BG_MSG_FILE_AND_FILENAME);
            goto fail;
        }
        json_object_set_new(options, "filename", json_string(filename));
        parse_filename = true;
    }
    if (!drvname && protocol) {
        const char *fn = qdict_get_str(options, "filename");
        if (!fn) {
            bg_error_setf(err, BG_MSG_NEED_DRIVER_OR_FILE);
            goto fail;
        }
        drv = real_nodedrv_find("file");
        json_object_set_new(options, "driver", json_string("file"));
    }
    /* Driver-specific filename parsing */
    if (drv && drv->parse_filename && parse_filename) {
        char *fn = bg_strdup(qdict_get_str(options, "filename"));
        bool ok = drv->parse_filename(fn, options, err);
        free(fn);
        if (!ok)
            goto fail;
        if (!drv->needs_filename)
            json_object_del(options, "filename");
    }

    /* the read-only decision */
    json_t *ro = json_object_get(options, "read-only");
    if (!(json_is_string(ro) && !strcmp(json_string_value(ro), "on")) && !json_is_true(ro))
        flags |= REAL_O_RDWR | REAL_O_ALLOW_RDWR;
    else
        flags &= ~REAL_O_RDWR;

    n->open_flags = flags;
    n->options = options;
    options = NULL;
    working = qdict_clone(n->options);

    /* "backing": null (or "") means no backing file */
    json_t *backing = json_object_get(working, "backing");
    if (json_is_null(backing) ||
        (json_is_string(backing) && !json_string_value(backing)[0])) {
        flags |= REAL_O_NO_BACKING;
        n->open_flags |= REAL_O_NO_BACKING;
        json_object_del(n->explicit_options, "backing");
        json_object_del(n->options, "backing");
        json_object_del(working, "backing");
    }

    if (!(flags & REAL_O_PROTOCOL)) {
        BgError local = { 0 };
        file = open_child_bs(filename, working, "file", n, REAL_CHILD_IMAGE, true, &local);
        if (local.set) {
            if (err && !err->set)
                *err = local;
            goto fail;
        }
        if (file)
            json_object_set_new(working, "file", json_string(file->node_name));
    }
    if (!drv && file) {
        const char *fmt = probe_format(file);
        drv = real_nodedrv_find(fmt);
        json_object_set_new(n->options, "driver", json_string(fmt));
        json_object_set_new(working, "driver", json_string(fmt));
    } else if (!drv) {
        bg_error_setf(err, BG_MSG_NEED_DRIVER_OR_FILE);
        goto fail;
    }

    if (open_common(n, file, working, err) < 0)
        goto fail;
    real_node_unref(file);
    file = NULL;

    if (!(flags & REAL_O_NO_BACKING) &&
        real_open_backing_file(n, working, "backing", err) < 0)
        goto close_and_fail;

    /* remove the children's options and references from options / explicit_options */
    for (RealEdge *c = n->children; c; c = c->next_child) {
        char *dot = bg_asprintf("%s.", c->name);
        qdict_extract_subqdict(n->explicit_options, NULL, dot);
        qdict_extract_subqdict(n->options, NULL, dot);
        json_object_del(n->explicit_options, c->name);
        json_object_del(n->options, c->name);
        free(dot);
    }

    drop_driver_options(drv, working);
    if (json_object_size(working)) {
        const char *key = qdict_first_key(working);
        if (flags & REAL_O_PROTOCOL)
            bg_error_setf(err, BG_MSG_PROTOCOL_OPTION, drv->format_name, key);
        else
            bg_error_setf(err, BG_MSG_FORMAT_OPTION, drv->format_name, key);
        goto close_and_fail;
    }
    json_decref(working);
    return n;

fail:
    real_node_unref(file);
close_and_fail:
    json_decref(options);
    json_decref(working);
    real_node_unref(n);
    return NULL;
}

/* ---- blockdev-add -------------------------------------------------------------------- */

bool real_blockdev_add(RealGraph *g, json_t *args, bool *unsupported, BgError *err)
{
    json_t *opts = real_qapi_blockdev_options(args, NULL, 0, unsupported, err);
    if (!opts)
        return false;
    qdict_flatten(opts);
    /* drivers of the BlockdevDriver enum the engine does not implement (host_device...) */
    const char *key;
    json_t *v;
    json_object_foreach(opts, key, v) {
        size_t len = strlen(key);
        if ((len == 6 || (len > 6 && key[len - 7] == '.')) && !strcmp(key + len - 6, "driver") &&
            json_is_string(v) && !real_nodedrv_find(json_string_value(v))) {
            *unsupported = true;
            json_decref(opts);
            return false;
        }
    }
    if (!qdict_get_str(opts, "node-name")) {
        json_decref(opts);
        return bg_error_setf(err, BG_MSG_ROOT_NODE_NAME);
    }
    qdict_set_default_str(opts, "cache.direct", "off");
    qdict_set_default_str(opts, "cache.no-flush", "off");
    qdict_set_default_str(opts, "read-only", "off");
    RealNode *n = real_open_inherit(g, NULL, NULL, opts, 0, NULL, 0, err);
    if (!n)
        return false;
    /* bdrv_set_monitor_owned(): the monitor keeps the reference */
    n->monitor_owned = true;
    RealNode **pp = &g->monitor_head;
    while (*pp)
        pp = &(*pp)->monitor_next;
    *pp = n;
    n->monitor_next = NULL;
    return true;
}

RealNode *real_open_new_driver(RealGraph *g, const RealNodeDriver *drv, const char *node_name,
                               json_t *take_options, int flags, BgError *err)
{
    RealNode *n = real_node_new(g);
    if (!n) {
        json_decref(take_options);
        bg_error_setf(err, "Out of memory");
        return NULL;
    }
    n->open_flags = flags;
    n->options = take_options ? take_options : json_object();
    n->explicit_options = qdict_clone(n->options);
    real_open_options_from_flags(n->options, flags);
    if (!real_node_assign_name(n, node_name, err)) {
        real_node_unref(n);
        return NULL;
    }
    n->drv = drv;
    /* the driver consumes its children's keys from the node's own options */
    int ret = drv->open ? drv->open(n, n->options, flags, err)
                        : bdrv_open_driver(n->bs, drv->ops, n->options, flags, err);
    if (ret < 0) {
        n->drv = NULL;
        while (n->children)
            real_edge_unref(n->children);
        real_node_unref(n);
        return NULL;
    }
    n->bs->open_flags = flags;
    n->bs->read_only = !(flags & REAL_O_RDWR);
    return n;
}
