/*
 * nodedrv.h: the graph-level driver table (RealNodeDriver) and the driver
 * registry.
 *
 * What this is: the part of QEMU 7.2's struct BlockDriver that the graph
 * layer uses (format_name, is_filter, is_format, supports_backing,
 * bdrv_file_open, bdrv_parse_filename, bdrv_needs_filename,
 * filtered_child_is_backing, bdrv_child_perm,
 * bdrv_reopen_prepare presence, mutable_opts, strong_runtime_opts,
 * bdrv_refresh_filename, bdrv_gather_child_options), joined with the
 * storage slots of driver.h (RealDriver) that move data.  The facts come
 * from common/options.def (kinds, flags, options, mutability, reopen
 * handling); behaviour hooks come from the driver files (drv_*.c via
 * bdrv_find_driver(), filter_*.c, job filters).
 * What it is not: the open or reopen logic (open.c, reopen.c).
 */
#ifndef REAL_NODEDRV_H
#define REAL_NODEDRV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"

/* What bdrv_reopen_prepare() does with a flattened option key (options.def BG_OR_*). */
typedef enum RealOptReopen {
    REAL_OR_UNKNOWN,        /* not an option of this driver */
    REAL_OR_GENERIC,        /* absorbed by bdrv_runtime_opts and used */
    REAL_OR_GENERIC_BACK,   /* absorbed and put back as a string */
    REAL_OR_CONSUMED,       /* consumed by the driver's reopen handler */
    REAL_OR_DRV_BACK,       /* absorbed by the driver and put back as a string */
    REAL_OR_KEPT,           /* left as it is */
    REAL_OR_CHILD,          /* a child link */
} RealOptReopen;

struct RealNodeDriver {
    const char *format_name;
    const RealDriver *ops;          /* storage slots (data path, open/close, reopen) */
    bool is_filter;
    bool is_format;
    bool protocol;                  /* has bdrv_file_open: opened without a "file" child */
    bool supports_backing;
    bool has_reopen;                /* has bdrv_reopen_prepare */
    bool internal;                  /* job filter, never accepted from QMP */
    bool filtered_child_is_backing; /* commit_top, mirror_top */

    /*
     * Open the node's children and then the driver (QEMU drv->bdrv_open,
     * which calls bdrv_open_child()).  NULL: the generic path (a "file"
     * child for formats and filters, none for protocols, then ops->open).
     * OPTIONS is the node's working copy: a child's keys are consumed.
     */
    int (*open)(RealNode *n, json_t *options, int flags, BgError *err);
    /*
     * bdrv_parse_filename: bdrv_fill_options() hands a protocol driver the
     * FILENAME it was opened with (put in OPTIONS' "filename"); the driver
     * turns it into its own options.  False with err.  NULL: none.
     */
    bool (*parse_filename)(const char *filename, json_t *options, BgError *err);
    bool needs_filename;            /* bdrv_needs_filename: "filename" stays after parsing */
    /* bdrv_child_perm; NULL: bdrv_default_perms. */
    void (*child_perm)(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                       uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared);
    /* bdrv_refresh_filename hook: set n->exact_filename (blkdebug). */
    void (*refresh_filename)(RealNode *n);
    /* bdrv_gather_child_options hook (blkverify, quorum). */
    void (*gather_child_options)(RealNode *n, json_t *opts, bool backing_overridden);
    /* bdrv_dirname hook, or NULL (owned string or NULL with err). */
};

/* The driver called NAME, or NULL (an enum value the engine does not implement). */
const RealNodeDriver *real_nodedrv_find(const char *name);
/* Is NAME a value of BlockdevDriver (options.def BG_DRIVER_ENUM)? */
bool real_nodedrv_in_enum(const char *name);

/* What reopen does with flattened KEY of driver DRV (options.def), prefix rules
 * for nested members ("cache.direct", "overlap-check.template", "inject-error.0.event"). */
RealOptReopen real_nodedrv_opt_reopen(const RealNodeDriver *drv, const char *key);
/* Is KEY in the driver's mutable_opts (or one of its nested members)? */
bool real_nodedrv_opt_mutable(const RealNodeDriver *drv, const char *key);
/*
 * Iterate strong_runtime_opts (options.def BG_OF_STRONG, in table order):
 * *pos starts at 0; each call gives the next NAME, with *prefix set when
 * it stands for every "NAME." key (nested or list members).
 */
bool real_nodedrv_strong_next(const RealNodeDriver *drv, size_t *pos, const char **name,
                              bool *prefix);
/* Is KEY an option of the driver (base members included)? */
bool real_nodedrv_has_opt(const RealNodeDriver *drv, const char *key);

/* bdrv_open_file_child() of a filter (FILTERED | PRIMARY "file"), then the driver. */
int real_nodedrv_open_filtered(RealNode *n, json_t *options, int flags, BgError *err);

/* bdrv_default_perms() and bdrv_filter_default_perms() for drivers' hooks. */
void real_default_perms(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                        uint64_t perm, uint64_t shared, uint64_t *nperm, uint64_t *nshared);
void real_filter_default_perms(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                               uint64_t perm, uint64_t shared, uint64_t *nperm,
                               uint64_t *nshared);

#define REAL_PERM_PASSTHROUGH (REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE | \
                               REAL_PERM_WRITE_UNCHANGED | REAL_PERM_RESIZE)
#define REAL_PERM_UNCHANGED   (REAL_PERM_ALL & ~REAL_PERM_PASSTHROUGH) /* DEFAULT_PERM_UNCHANGED */

#endif
