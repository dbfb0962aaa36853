/*
 * filename.h: the file names QEMU shows for nodes.
 *
 * What this is: QEMU 7.2 block.c bdrv_refresh_filename() (children first;
 * implicit nodes copy their child; a plain file name when the node is a
 * format over a protocol node with no strong options and no overridden
 * backing child; otherwise "json:" + the full open options in QDict
 * order), append_strong_runtime_options(), bdrv_backing_overridden(),
 * bdrv_dirname(), path_combine() and bdrv_make_absolute_filename().
 * What it is not: the query output (query.h).
 */
#ifndef REAL_FILENAME_H
#define REAL_FILENAME_H

#include "graph.h"

/* bdrv_refresh_filename(): n->filename, n->exact_filename, n->full_open_options. */
void real_node_refresh_filename(RealNode *n);
/* bdrv_dirname(): the directory with a trailing '/', owned; NULL with err. */
char *real_filename_dirname(RealNode *n, BgError *err);
/* path_has_protocol(): a "proto:" prefix before any '/'. */
bool real_filename_has_protocol(const char *path);
/* bdrv_make_absolute_filename() (bdrv_get_full_backing_filename() with N's
 * backing file name): NAME made absolute against N's directory (a protocol
 * name or an absolute path as it is); owned, NULL for an empty NAME, or
 * when N has no directory (then with ERR, which may be NULL). */
char *real_filename_make_absolute(RealNode *n, const char *name, BgError *err);

#endif
