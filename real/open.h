/*
 * open.h: opening node trees: blockdev-add, children, backing files.
 *
 * What this is: QEMU 7.2 block.c bdrv_open_inherit() (options, inheritance,
 * json: filenames, the read-only decision, "backing": null, the file child
 * opened before the node is named, format probing, bdrv_open_common(),
 * bdrv_open_driver() with the node name assigned before the driver opens
 * its own children, the backing file, removal of child options, unknown
 * options), bdrv_open_child()/bdrv_open_child_bs(), bdrv_open_backing_file(),
 * bdrv_inherited_options(), update_flags_from_options(),
 * update_options_from_flags(), bdrv_new_open_driver_opts(), and blockdev.c
 * qmp_blockdev_add() / bds_tree_init().
 * What it is not: QAPI validation (qapi.h) or reopen (reopen.h).
 */
#ifndef REAL_OPEN_H
#define REAL_OPEN_H

#include <jansson.h>
#include <stdbool.h>

#include "graph.h"

/* qemu_opt_get_bool() of an option value: QBool, or "on"/"yes"/"true"/"y"... */
bool real_opt_bool(json_t *v, bool def);

/* bdrv_inherited_options() (child_of_bds.inherit_options). */
void real_open_inherited_options(unsigned role, bool parent_is_format, int *child_flags,
                                 json_t *child_options, int parent_flags,
                                 json_t *parent_options);
/* update_flags_from_options(): cache, read-only, auto-read-only from OPTS. */
void real_open_flags_from_options(int *flags, json_t *opts);
/* update_options_from_flags() */
void real_open_options_from_flags(json_t *options, int flags);
/* bdrv_parse_discard_flags(): -1 for an unknown mode. */
int real_open_parse_discard(const char *mode, int *flags);

/*
 * bdrv_open_inherit().  TAKE_OPTIONS (may be NULL) is consumed.  PARENT
 * and ROLE describe the edge the node will hang from (PARENT NULL: a
 * root).  Returns the node with one reference owned by the caller.
 */
RealNode *real_open_inherit(RealGraph *g, const char *filename, const char *reference,
                            json_t *take_options, int flags, RealNode *parent, unsigned role,
                            BgError *err);
/*
 * bdrv_open_child(): the child KEY of PARENT from OPTIONS ("KEY" reference
 * or "KEY.*" definition, both consumed), attached with ROLE and permissions
 * refreshed.  NULL with err, or NULL without err when absent and ALLOW_NONE.
 * FILENAME is bdrv_open_inherit()'s filename for the child: NULL but for the
 * name blkdebug and blkverify got from bdrv_fill_options() (x-image, x-raw).
 */
RealEdge *real_open_child(const char *filename, RealNode *parent, json_t *options,
                          const char *key, unsigned role, bool allow_none, BgError *err);
/* bdrv_open_backing_file() */
int real_open_backing_file(RealNode *n, json_t *parent_options, const char *key, BgError *err);

/*
 * qmp_blockdev_add(): ARGS are the command's arguments.  *unsupported is
 * set (false returned, err untouched) when the tree names a driver the
 * engine does not implement.
 */
bool real_blockdev_add(RealGraph *g, json_t *args, bool *unsupported, BgError *err);

/* bdrv_new_open_driver_opts(): a node of DRV without children (job filters). */
RealNode *real_open_new_driver(RealGraph *g, const RealNodeDriver *drv, const char *node_name,
                               json_t *take_options, int flags, BgError *err);

#endif
