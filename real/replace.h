/*
 * replace.h: putting one node in another's place: node replacement,
 * filter insertion and removal.
 *
 * What this is: QEMU 7.2 block.c should_update_child(),
 * bdrv_replace_node_noperm(), bdrv_replace_node_common(),
 * bdrv_replace_node(), bdrv_remove_filter_or_cow_child(),
 * bdrv_drop_filter(), bdrv_insert_node() and bdrv_drop_intermediate() as the
 * block jobs use them (stream's copy-on-read filter, commit's commit_top,
 * mirror's mirror_top).
 * What it is not: child replacement by reopen (child.h).
 */
#ifndef REAL_REPLACE_H
#define REAL_REPLACE_H

#include <jansson.h>

#include "graph.h"

/* bdrv_replace_node_common(): every parent of FROM (but job edges and edges
 * inside TO's subtree) moves to TO; permissions refreshed; all or nothing. */
int real_replace_node_common(RealNode *from, RealNode *to, bool auto_skip, bool detach_subchain,
                             BgError *err);
/* bdrv_replace_node() */
int real_replace_node(RealNode *from, RealNode *to, BgError *err);
/* bdrv_drop_filter(): the filter's parents go to its child, the filter is detached. */
int real_drop_filter(RealNode *filter, BgError *err);
/*
 * bdrv_insert_node(): a new node of driver OPTIONS["driver"] (OPTIONS taken)
 * put above BS.  Returns the new node with one reference for the caller.
 */
RealNode *real_insert_node(RealNode *bs, json_t *take_options, int flags, BgError *err);
/* bdrv_append(): BS_NEW goes above BS_TOP, which becomes its "backing" child;
 * BS_TOP's parents (but job edges) move to BS_NEW. */
int real_append(RealNode *bs_new, RealNode *bs_top, BgError *err);
/*
 * bdrv_drop_intermediate(): every parent of TOP's COW/filter link below... moves
 * from TOP to BASE (the nodes between are dropped); BACKING_FILE_STR (or
 * BASE's file name) goes into the headers of the nodes whose backing changes.
 */
int real_drop_intermediate(RealNode *top, RealNode *base, const char *backing_file_str,
                           BgError *err);

#endif
