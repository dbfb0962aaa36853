/*
 * dir.h: walking the entries of an open directory (prefix bg_dir_).
 *
 * What this is: one loop over getdents64() into a stack buffer, for the
 * directory walks that run for every input the fuzzer runs (the runner's
 * scratch check and clean-up, confine.c's scan): opendir() allocates a
 * 32 KiB buffer per directory, which under ASan was most of their cost.
 * What it is not: a recursive walk or a policy (callers decide what to do
 * with each name, and whether to follow it).
 */
#ifndef BG_DIR_H
#define BG_DIR_H

#include <stdbool.h>

/* Called for each entry but "." and ".."; TYPE is the dirent d_type
 * (DT_UNKNOWN when the file system does not say).  False stops the walk. */
typedef bool (*BgDirFn)(int dfd, const char *name, unsigned char type, void *opaque);

/* Calls FN for each entry of the directory open as DFD.  An entry FN
 * removes does not make the walk skip another.  Returns 0, or -errno when a
 * read failed. */
int bg_dir_foreach(int dfd, BgDirFn fn, void *opaque);

#endif
