/*
 * model_open_driver.c: each modelled driver's open function, as
 * bdrv_open_driver() calls it on a node bdrv_open_inherit() has set up.
 *
 * What this is: what each driver reads from the options it is left (and
 * deletes, so that model_open_node() can name the first one nobody took),
 * the children it opens by definition or reference and the roles it gives
 * them, and its own checks in QEMU's order: file (the file must exist, aio
 * native only with cache.direct), qcow2 (a qcow2 header below, its runtime
 * options, the header's backing name and format), raw (offset and size
 * against the child's length), null (size, latency, read-zeroes), the
 * filters throttle (its group), compress (a child that takes compressed
 * writes) and copy-on-read, blkdebug, blkverify and quorum (children,
 * vote-threshold, read-pattern, blkverify, rewrite-corrupted).  Split from
 * model_open.c, which calls model_open_driver() and lends it
 * model_open_child_bs().
 * What it is not: the generic part of an open (model_open.c: inheritance,
 * bdrv_open_common()'s options, node names, the probing `file` child, the
 * backing file, options nobody took), qcow2's runtime options themselves
 * (model_qcow2.c), blkdebug's rules and limits (model_blkdebug.c), QAPI
 * validation (model_qapi.c) or permissions (model_perm.c).
 *
 * Mirrors QEMU 7.2.0's drivers' bdrv_open and bdrv_file_open:
 * block/file-posix.c raw_open_common(), block/qcow2.c qcow2_open() /
 * qcow2_do_open(), block/raw-format.c raw_open() / raw_read_options() /
 * raw_apply_options(), block/null.c null_file_open(), block/throttle.c
 * throttle_open(), block/filter-compress.c compress_open(),
 * block/copy-on-read.c cor_open(), block/blkdebug.c blkdebug_open(),
 * block/blkverify.c blkverify_open(), block/quorum.c quorum_open(); and
 * block.c bdrv_open_child(), bdrv_open_file_child().
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

/* ---- helpers ------------------------------------------------------------------------------ */

/* An integer option: a JSON number, or a string model_image_parse_size()
 * reads (a size with a suffix); DFLT otherwise. */
static int64_t opt_int(const ModelQDict *opts, const char *key, int64_t dflt)
{
    json_t *v = model_qdict_get(opts, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v)) {
        uint64_t u;
        if (model_image_parse_size(json_string_value(v), &u))
            return (int64_t)u;
    }
    return dflt;
}

/* bdrv_open_child(): a child the driver opens, without a file name. */
static ModelNode *open_child(ModelState *st, ModelWorld *w, ModelQDict *opts, const char *key,
                             ModelNode *parent, unsigned role, bool allow_none, bool attach,
                             BgError *err)
{
    return model_open_child_bs(st, w, opts, NULL, key, parent, role, allow_none, attach, err);
}

/* bdrv_open_file_child(): the role a filter or a format gives its `file`. */
static unsigned file_role(const ModelNode *n)
{
    return n->drv->kind == BG_DRV_FILTER ? MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY
                                         : MODEL_ROLE_IMAGE;
}

/* ---- drivers ------------------------------------------------------------------------------- */

static bool open_file(ModelState *st, ModelNode *n, ModelQDict *opts, BgError *err)
{
    const char *filename = model_qdict_get_str(opts, "filename");
    if (!filename || !model_image_find(&st->files, filename))
        return bg_error_setf(err, BG_MSG_FILE_OPEN, filename ? filename : "",
                             "No such file or directory");
    /* raw_open_common(): Linux AIO only for files opened with O_DIRECT
     * (checked after the file is opened, before any lock is taken) */
    const char *aio = model_qdict_get_str(opts, "aio");
    if (aio && strcmp(aio, "native") == 0 && !n->nocache)
        return bg_error_setf(err, BG_MSG_FILE_AIO_NATIVE);
    n->filename = bg_strdup(filename);
    static const char *const consumed[] = { "filename", "pr-manager", "locking", "aio",
                                            "aio-max-batch", "drop-cache",
                                            "x-check-cache-dropped" };
    for (size_t i = 0; i < sizeof(consumed) / sizeof(consumed[0]); i++)
        model_qdict_del(opts, consumed[i]);
    return true;
}

static bool open_qcow2(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    if (!open_child(st, w, opts, "file", n, MODEL_ROLE_IMAGE, false, true, err))
        return false;
    ModelFile *f = model_open_qcow2_file(st, w, n);
    ModelNode *c = model_graph_file(w, n);
    if (!f && c && strcmp(c->drv->name, "file") == 0)
        return bg_error_setf(err, BG_MSG_QCOW2_NOT_QCOW2);
    /* qcow2_do_open() reads the header through the child first (into a
     * QCowHeader on its stack).  The model reads it too where that read
     * tells something: a child with no image the model keeps, whose guest
     * bytes it may know (no qcow2 magic fails here; past the child's end
     * the block layer reads zeroes), and a blkdebug rule for reads between
     * the node and its image (regress/211) */
    if (c && (!f || model_blkdebug_chain_rule(w, n, 1u << MODEL_IO_READ))) {
        uint8_t header[104];            /* sizeof(QCowHeader) */
        ModelIoStatus s = {0};
        int r = model_io_pread_in(st, w, c, 0, sizeof(header), header, true, &s);
        bool known = !s.unsupported && !s.unknown;
        if (f && s.unsupported) {
            st->unsupported = s.unsupported;
            return false;
        }
        if (r < 0 && (f || known))
            return bg_error_setf(err, BG_MSG_QCOW2_READ_HEADER, strerror(-r));
        if (!f && known && memcmp(header, "QFI\xfb", 4) != 0)
            return bg_error_setf(err, BG_MSG_QCOW2_NOT_QCOW2);
    }
    if (!f) {
        st->unsupported = "qcow2 over a node that is not a file, holding a qcow2 header or bytes "
                          "the model does not know: the model keeps no such layout";
        return false;
    }
    if (!f->qcow2)
        return bg_error_setf(err, BG_MSG_QCOW2_NOT_QCOW2);
    if (model_qdict_has(opts, "data-file")) {
        st->unsupported = "qcow2 data-file is not modelled";
        return false;
    }
    if (model_io_qcow2_unflushed(st, w, n)) {
        st->unsupported = "a qcow2 open of an image another open qcow2 node has changed is not "
                          "modelled (the change may be in that node's metadata caches only)";
        return false;
    }
    bool mark_clean;                    /* s->use_lazy_refcounts is false at open */
    if (!model_qcow2_update_options(st, f, false, opts, &mark_clean, err))
        return false;
    model_image_qcow2_open(f);
    free(n->qcow2_image);
    n->qcow2_image = bg_strdup(f->path);
    n->qcow2_gen = f->meta_gen;         /* its caches start empty */
    n->qcow2_serial = f->serial;
    n->backing_file = f->backing ? bg_strdup(f->backing) : NULL;
    n->backing_fmt = f->backing_fmt ? bg_strdup(f->backing_fmt) : NULL;
    /* qcow2_do_open(): the header's name as it is; bdrv_open_backing_file()
     * makes it the backing node's file name when it opens that node itself */
    n->auto_backing_file = f->backing ? bg_strdup(f->backing) : NULL;
    return true;
}

/* block/raw-format.c raw_read_options() + raw_apply_options() */
bool model_open_raw_apply(ModelState *st, const ModelWorld *w, ModelNode *n, const ModelQDict *opts,
                          BgError *err)
{
    uint64_t offset = (uint64_t)opt_int(opts, "offset", 0);
    bool has_size = model_qdict_has(opts, "size");
    uint64_t size = (uint64_t)opt_int(opts, "size", 0);
    const ModelNode *c = model_graph_file(w, n);
    int64_t real = c ? (int64_t)model_open_length(st, w, c) : 0;
    if (offset > (uint64_t)real)
        return bg_error_setf(err, BG_MSG_RAW_OFFSET_TOO_BIG, offset, real);
    if (has_size && (uint64_t)(real - (int64_t)offset) < size)
        return bg_error_setf(err, BG_MSG_RAW_SUM_TOO_BIG, offset, size, real);
    if (has_size && size % 512)
        return bg_error_setf(err, BG_MSG_RAW_SIZE_ALIGN, 512ULL);
    n->offset = offset;
    n->has_size = has_size;
    n->size = has_size ? size : (uint64_t)real - offset;
    return true;
}

static const char *const raw_size_opts[] = { "offset", "size", NULL };

static bool open_raw(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    if (!model_qcow2_opts_sizes(opts, raw_size_opts, err))   /* raw_read_options() */
        return false;
    bool limited = opt_int(opts, "offset", 0) != 0 || model_qdict_has(opts, "size");
    unsigned role = limited ? MODEL_ROLE_DATA | MODEL_ROLE_PRIMARY
                            : MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY;
    if (!open_child(st, w, opts, "file", n, role, false, true, err))
        return false;
    if (!model_open_raw_apply(st, w, n, opts, err))
        return false;
    model_qdict_del(opts, "offset");
    model_qdict_del(opts, "size");
    return true;
}

const char *model_open_throttle_group(const ModelWorld *w, const ModelQDict *opts, BgError *err)
{
    const char *g = model_qdict_get_str(opts, "throttle-group");
    if (!g) {
        bg_error_setf(err, BG_MSG_THROTTLE_GROUP_NEEDED);
        return NULL;
    }
    if (!model_graph_group_exists(w, g)) {
        bg_error_setf(err, BG_MSG_THROTTLE_NO_GROUP, g);
        return NULL;
    }
    return g;
}

static bool open_filter(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    const char *d = n->drv->name;
    if (strcmp(d, "throttle") == 0 && !model_open_throttle_group(w, opts, err))
        return false;
    ModelNode *c = open_child(st, w, opts, "file", n, file_role(n), false, true, err);
    if (!c)
        return false;
    if (strcmp(d, "throttle") == 0) {
        n->throttle_group = bg_strdup(model_qdict_get_str(opts, "throttle-group"));
        model_qdict_del(opts, "throttle-group");
    } else if (strcmp(d, "compress") == 0) {
        /* block_driver_can_compress(): bdrv_co_pwritev_compressed(_part) */
        if (strcmp(c->drv->name, "qcow2") != 0 && strcmp(c->drv->name, "throttle") != 0 &&
            strcmp(c->drv->name, "copy-on-read") != 0)
            return bg_error_setf(err, BG_MSG_COMPRESS_UNSUPPORTED, c->drv->name);
    } else if (strcmp(d, "copy-on-read") == 0) {
        if (model_qdict_has(opts, "bottom")) {
            st->unsupported = "copy-on-read with bottom is not modelled";
            return false;
        }
    }
    return true;
}

static bool open_null(ModelNode *n, ModelQDict *opts, BgError *err)
{
    static const char *const sizes[] = { "size", NULL };
    if (!model_qcow2_opts_sizes(opts, sizes, err))
        return false;
    if (opt_int(opts, "latency-ns", 0) < 0)
        return bg_error_setf(err, BG_MSG_NULL_LATENCY);
    n->size = (uint64_t)opt_int(opts, "size", 1 << 30);
    n->read_zeroes = model_open_opt_bool(opts, "read-zeroes", false, NULL);
    model_qdict_del(opts, "size");
    model_qdict_del(opts, "latency-ns");
    model_qdict_del(opts, "read-zeroes");
    return true;
}

/* x-image: the name bdrv_fill_options() handed to blkdebug's or blkverify's
 * bdrv_parse_filename(), which the driver opens its child with. */
static char *take_x_opt(ModelQDict *opts, const char *key)
{
    const char *v = model_qdict_get_str(opts, key);
    char *s = v ? bg_strdup(v) : NULL;
    model_qdict_del(opts, key);
    return s;
}

/* blkdebug_open() */
static bool open_blkdebug(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    char *x_image = take_x_opt(opts, "x-image");
    bool ok = model_blkdebug_open(st, n, opts, err) &&
              model_open_child_bs(st, w, opts, x_image, "image", n,
                                  MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY, false, true, err);
    free(x_image);
    return ok && model_blkdebug_limits(n, opts, err);
}

/* blkverify_open(): x-raw is only set by a "blkverify:" name (not modelled) */
static bool open_blkverify(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    char *x_image = take_x_opt(opts, "x-image");
    bool ok = open_child(st, w, opts, "raw", n, MODEL_ROLE_FILTERED | MODEL_ROLE_PRIMARY, false,
                         true, err) &&
              model_open_child_bs(st, w, opts, x_image, "test", n, MODEL_ROLE_DATA, false, true,
                                  err);
    free(x_image);
    return ok;
}

static bool open_quorum(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    int64_t threshold = opt_int(opts, "vote-threshold", 0);
    unsigned count = 0;
    for (;; count++) {
        char *k = bg_asprintf("children.%u", count);
        char *kd = bg_asprintf("children.%u.", count);
        bool has = model_qdict_has(opts, k);
        for (size_t i = 0; !has && i < opts->n; i++)
            has = strncmp(opts->e[i].key, kd, strlen(kd)) == 0;
        free(k);
        free(kd);
        if (!has)
            break;
    }
    if (count == 0)
        return bg_error_setf(err, BG_MSG_QUORUM_NO_CHILDREN);
    if (threshold < 1)
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, "vote-threshold",
                             "a value >= 1");
    if (threshold > count)
        return bg_error_setf(err, BG_MSG_QUORUM_THRESHOLD);
    /* quorum_open(): blkverify and rewrite-corrupted are read in the
     * default read pattern (vote) only */
    const char *pattern = model_qdict_get_str(opts, "read-pattern");
    n->quorum_fifo = pattern && strcmp(pattern, "fifo") == 0;
    if (pattern && !n->quorum_fifo && strcmp(pattern, "quorum") != 0) {
        st->unsupported = "a quorum read-pattern other than quorum and fifo";
        return false;
    }
    n->quorum_blkverify = false;
    n->rewrite_corrupted = false;
    if (!n->quorum_fifo) {
        n->quorum_blkverify = model_open_opt_bool(opts, "blkverify", false, NULL);
        if (n->quorum_blkverify && (count != 2 || threshold != 2))
            return bg_error_setf(err, BG_MSG_QUORUM_BLKVERIFY);
        n->rewrite_corrupted = model_open_opt_bool(opts, "rewrite-corrupted", false, NULL);
        if (n->rewrite_corrupted && n->quorum_blkverify)
            return bg_error_setf(err, BG_MSG_QUORUM_REWRITE_BLKVERIFY);
    }
    for (unsigned i = 0; i < count; i++) {
        char *k = bg_asprintf("children.%u", i);
        ModelNode *c = open_child(st, w, opts, k, n, MODEL_ROLE_DATA, false, true, err);
        free(k);
        if (!c)
            return false;
    }
    n->quorum_next = count;
    model_qdict_del(opts, "vote-threshold");
    model_qdict_del(opts, "rewrite-corrupted");
    model_qdict_del(opts, "read-pattern");
    model_qdict_del(opts, "blkverify");
    return true;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

/* bdrv_open_driver(): drv->bdrv_file_open or drv->bdrv_open of N's driver on
 * OPTS (the options bdrv_open_common() left).  The drivers not named here
 * are the filters throttle, compress and copy-on-read (model_open_node()
 * opens no internal driver: the job filters are made by the jobs). */
bool model_open_driver(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err)
{
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0)
        return open_file(st, n, opts, err);
    if (strcmp(d, "qcow2") == 0)
        return open_qcow2(st, w, n, opts, err);
    if (strcmp(d, "raw") == 0)
        return open_raw(st, w, n, opts, err);
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0)
        return open_null(n, opts, err);
    if (strcmp(d, "blkdebug") == 0)
        return open_blkdebug(st, w, n, opts, err);
    if (strcmp(d, "blkverify") == 0)
        return open_blkverify(st, w, n, opts, err);
    if (strcmp(d, "quorum") == 0)
        return open_quorum(st, w, n, opts, err);
    return open_filter(st, w, n, opts, err);
}
