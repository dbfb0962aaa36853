/*
 * nodedrv.c: the driver registry and options.def lookups (see nodedrv.h).
 *
 * Mirrors the BlockDriver tables of QEMU 7.2 block/file-posix.c (bdrv_file:
 * raw_parse_filename()), block/raw-format.c (bdrv_raw: raw_open()'s file
 * role, FILTERED without offset/size, DATA with them; raw_child_perm()),
 * block/qcow2.c (bdrv_qcow2) and block/null.c (null-co, null-aio:
 * null_refresh_filename(), null_co_parse_filename(),
 * null_aio_parse_filename()).  The filters and job filters are defined in
 * filter_*.c and job_*.c.
 */
#include "nodedrv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "filename.h"
#include "messages.h"
#include "open.h"
#include "optab.h"

extern const RealDriver drv_file;
extern const RealDriver drv_raw;
extern const RealDriver drv_null_co;
extern const RealDriver drv_null_aio;
extern const RealDriver drv_qcow2;

extern const RealNodeDriver real_nd_throttle;
extern const RealNodeDriver real_nd_compress;
extern const RealNodeDriver real_nd_copy_on_read;
extern const RealNodeDriver real_nd_blkdebug;
extern const RealNodeDriver real_nd_blkverify;
extern const RealNodeDriver real_nd_quorum;
extern const RealNodeDriver real_nd_commit_top;
extern const RealNodeDriver real_nd_mirror_top;

/* ---- storage drivers ------------------------------------------------------------- */

/* Formats: bdrv_open_file_child() (BDRV_CHILD_IMAGE), then the driver. */
static int format_open(RealNode *n, json_t *options, int flags, BgError *err)
{
    if (!real_open_child(NULL, n, options, "file", REAL_CHILD_IMAGE, false, err))
        return -1;
    return bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
}

int real_nodedrv_open_filtered(RealNode *n, json_t *options, int flags, BgError *err)
{
    if (!real_open_child(NULL, n, options, "file", REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY,
                         false, err))
        return -1;
    return bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
}

/* raw_open(): without offset and size it behaves like a filter. */
static int raw_open_hook(RealNode *n, json_t *options, int flags, BgError *err)
{
    bool limited = json_object_get(options, "offset") || json_object_get(options, "size");
    unsigned role = limited ? REAL_CHILD_DATA | REAL_CHILD_PRIMARY
                            : REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY;
    if (json_is_integer(json_object_get(options, "offset")) &&
        json_integer_value(json_object_get(options, "offset")) == 0 &&
        !json_object_get(options, "size"))
        role = REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY;
    if (!real_open_child(NULL, n, options, "file", role, false, err))
        return -1;
    return bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
}

/* raw_child_perm(): only the WRITE/RESIZE the parents need. */
static void raw_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                           uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    real_default_perms(n, c, role, q, perm, shared, nperm, nshared);
    *nperm &= ~(uint64_t)(REAL_PERM_WRITE | REAL_PERM_RESIZE);
    *nperm |= perm & (REAL_PERM_WRITE | REAL_PERM_RESIZE);
}

/* Protocols: the driver opens the file itself; relative names are the scratch dir's. */
static int protocol_open(RealNode *n, json_t *options, int flags, BgError *err)
{
    const char *fn = json_string_value(json_object_get(options, "filename"));
    if (!fn || fn[0] == '/' || strncmp(fn, "file:", 5) == 0)
        return bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
    json_t *copy = json_copy(options);
    char *abs = real_graph_path(n->g, fn);
    json_object_set_new(copy, "filename", json_string(abs));
    free(abs);
    int ret = bdrv_open_driver(n->bs, n->drv->ops, copy, flags, err);
    json_decref(copy);
    return ret;
}

/* null_refresh_filename(): "null-co://" unless a strong option says more. */
static void null_refresh_filename(RealNode *n)
{
    const char *key;
    json_t *v;
    json_object_foreach(n->full_open_options, key, v) {
        if (strcmp(key, "filename") && strcmp(key, "driver") && strcmp(key, "latency-ns"))
            return;
    }
    free(n->exact_filename);
    n->exact_filename = bg_asprintf("%s://", n->drv->format_name);
}

/* raw_parse_filename() (file-posix): bdrv_parse_filename_strip_prefix() of
 * "file:", with "./" before a rest that would look like a protocol. */
static bool file_parse_filename(const char *filename, json_t *options, BgError *err)
{
    (void)err;
    if (strncmp(filename, "file:", 5) != 0)
        return true;
    const char *rest = filename + 5;
    char *fn = real_filename_has_protocol(rest) ? bg_asprintf("./%s", rest) : bg_strdup(rest);
    json_object_set_new(options, "filename", json_string(fn));
    free(fn);
    return true;
}

/* null_co_parse_filename(), null_aio_parse_filename(): only the driver's own
 * URL is accepted (and then dropped: no bdrv_needs_filename). */
static bool null_parse_filename(const char *filename, json_t *options, BgError *err,
                                const char *url)
{
    (void)options;
    if (strcmp(filename, url) != 0)
        return bg_error_setf(err, BG_MSG_NULL_FILENAME, url);
    return true;
}

static bool null_co_parse_filename(const char *filename, json_t *options, BgError *err)
{
    return null_parse_filename(filename, options, err, "null-co://");
}

static bool null_aio_parse_filename(const char *filename, json_t *options, BgError *err)
{
    return null_parse_filename(filename, options, err, "null-aio://");
}

static const RealNodeDriver nd_file = {
    .format_name = "file", .ops = &drv_file, .protocol = true, .has_reopen = true,
    .open = protocol_open, .parse_filename = file_parse_filename, .needs_filename = true,
};
static const RealNodeDriver nd_null_co = {
    .format_name = "null-co", .ops = &drv_null_co, .protocol = true, .has_reopen = true,
    .open = protocol_open, .refresh_filename = null_refresh_filename,
    .parse_filename = null_co_parse_filename,
};
static const RealNodeDriver nd_null_aio = {
    .format_name = "null-aio", .ops = &drv_null_aio, .protocol = true, .has_reopen = true,
    .open = protocol_open, .refresh_filename = null_refresh_filename,
    .parse_filename = null_aio_parse_filename,
};
static const RealNodeDriver nd_raw = {
    .format_name = "raw", .ops = &drv_raw, .is_format = true, .has_reopen = true,
    .open = raw_open_hook, .child_perm = raw_child_perm,
};
static const RealNodeDriver nd_qcow2 = {
    .format_name = "qcow2", .ops = &drv_qcow2, .is_format = true, .supports_backing = true,
    .has_reopen = true, .open = format_open,
};

static const RealNodeDriver *const registry[] = {
    &nd_file, &nd_null_co, &nd_null_aio, &nd_raw, &nd_qcow2,
    &real_nd_throttle, &real_nd_compress, &real_nd_copy_on_read, &real_nd_blkdebug,
    &real_nd_blkverify, &real_nd_quorum, &real_nd_commit_top, &real_nd_mirror_top,
};

const RealNodeDriver *real_nodedrv_find(const char *name)
{
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (strcmp(registry[i]->format_name, name) == 0)
            return registry[i];
    return NULL;
}

bool real_nodedrv_in_enum(const char *name)
{
    for (const char *const *e = optab_driver_enum; *e; e++)
        if (strcmp(*e, name) == 0)
            return true;
    return false;
}

/* ---- options.def lookups ------------------------------------------------------------ */

/* The row that KEY belongs to for DRIVER ("" = base rows), or NULL. */
static const OptabOpt *find_row(const char *driver, const char *key)
{
    const OptabOpt *prefix_row = NULL;
    for (size_t i = 0; i < optab_n_opts; i++) {
        const OptabOpt *o = &optab_opts[i];
        if (strcmp(o->driver, driver) != 0)
            continue;
        if (strcmp(o->name, key) == 0)
            return o;
        size_t len = strlen(o->name);
        if (strncmp(key, o->name, len) == 0 && key[len] == '.' &&
            (o->type == BG_OT_ANY || o->type == BG_OT_REF || o->type == BG_OT_REF_NULL ||
             o->type == BG_OT_REF_LIST || o->type == BG_OT_STRUCT))
            prefix_row = o;
    }
    return prefix_row;
}

static const OptabOpt *row_for(const RealNodeDriver *drv, const char *key)
{
    const OptabOpt *o = find_row("", key);
    if (!o && drv)
        o = find_row(drv->format_name, key);
    return o;
}

RealOptReopen real_nodedrv_opt_reopen(const RealNodeDriver *drv, const char *key)
{
    const OptabOpt *o = row_for(drv, key);
    if (!o)
        return REAL_OR_UNKNOWN;
    switch (o->reopen) {
    case BG_OR_GENERIC: return REAL_OR_GENERIC;
    case BG_OR_GENERIC_BACK: return REAL_OR_GENERIC_BACK;
    case BG_OR_CONSUMED: return REAL_OR_CONSUMED;
    case BG_OR_DRV_BACK: return REAL_OR_DRV_BACK;
    case BG_OR_KEPT: return REAL_OR_KEPT;
    case BG_OR_CHILD: return REAL_OR_CHILD;
    }
    return REAL_OR_UNKNOWN;
}

bool real_nodedrv_opt_mutable(const RealNodeDriver *drv, const char *key)
{
    const OptabOpt *o = drv ? find_row(drv->format_name, key) : NULL;
    return o && (o->flags & BG_OF_MUTABLE);
}

bool real_nodedrv_has_opt(const RealNodeDriver *drv, const char *key)
{
    return row_for(drv, key) != NULL;
}

bool real_nodedrv_strong_next(const RealNodeDriver *drv, size_t *pos, const char **name,
                             bool *prefix)
{
    for (; *pos < optab_n_opts; (*pos)++) {
        const OptabOpt *o = &optab_opts[*pos];
        if (strcmp(o->driver, drv->format_name) || !(o->flags & BG_OF_STRONG))
            continue;
        *name = o->name;
        *prefix = o->type == BG_OT_ANY || o->type == BG_OT_REF_LIST;
        (*pos)++;
        return true;
    }
    /* qcow2_strong_runtime_opts: "encrypt.key-secret" (not an options.def row) */
    if (*pos == optab_n_opts && !strcmp(drv->format_name, "qcow2")) {
        (*pos)++;
        *name = "encrypt.key-secret";
        *prefix = false;
        return true;
    }
    return false;
}
