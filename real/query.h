/*
 * query.h: query-named-block-nodes.
 *
 * What this is: QEMU 7.2 block.c bdrv_named_nodes_list() (every named node,
 * newest first) and block/qapi.c bdrv_block_device_info() /
 * bdrv_query_image_info() for a NULL BlockBackend: the fixed zero
 * throttling fields, cache.writeback true, backing_file of the COW child,
 * image.backing-image through filter-or-COW children with
 * backing_file_depth counting them, cluster-size / dirty-flag from
 * bdrv_get_info() (filters forward to their filtered child),
 * actual-size from bdrv_get_allocated_file_size(), format-specific, and the
 * header's backing-filename / full-backing-filename /
 * backing-filename-format.
 * What it is not: query-block (device view) or query-block-jobs (job.h).
 */
#ifndef REAL_QUERY_H
#define REAL_QUERY_H

#include <jansson.h>

#include "graph.h"

/* The reply of query-named-block-nodes {"flat": FLAT} (owned), or NULL with err. */
json_t *real_query_named_block_nodes(RealGraph *g, bool flat, BgError *err);
/* bdrv_getlength() as query sees it (protocol nodes re-read their length). */
int64_t real_node_getlength(RealNode *n);
/* bdrv_get_allocated_file_size() through the graph. */
int64_t real_node_allocated_size(RealNode *n);

#endif
