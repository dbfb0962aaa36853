/*
 * child.h: replacing a node's file or backing child, and frozen links.
 *
 * What this is: QEMU 7.2 block.c bdrv_set_file_or_backing_noperm() (the
 * frozen-link, driver and role checks, inherits_from bookkeeping),
 * bdrv_set_backing_hd(), and the frozen backing chains of block jobs
 * (bdrv_freeze_backing_chain / bdrv_is_backing_chain_frozen /
 * bdrv_unfreeze_backing_chain).
 * What it is not: reopen's option parsing of "file"/"backing" (reopen.c).
 */
#ifndef REAL_CHILD_H
#define REAL_CHILD_H

#include "graph.h"

/* bdrv_backing_role() */
unsigned real_child_backing_role(RealNode *n);
/* bdrv_set_file_or_backing_noperm(): recorded in TRAN, permissions not updated. */
int real_child_set_file_or_backing_noperm(RealNode *parent, RealNode *child, bool is_backing,
                                          Tran *tran, BgError *err);
/* bdrv_set_backing_hd(): the above plus a permission refresh, as one transaction. */
int real_child_set_backing_hd(RealNode *n, RealNode *backing, BgError *err);

bool real_child_chain_frozen(RealNode *top, RealNode *base, BgError *err);
int real_child_freeze_chain(RealNode *top, RealNode *base, BgError *err);
void real_child_unfreeze_chain(RealNode *top, RealNode *base);

/*
 * bdrv_is_allocated_above(): is [offset, offset+bytes) allocated in any
 * layer from TOP down to BASE (BASE itself included when INCLUDE_BASE)?
 * 1 or 0 for the first *pnum bytes, or -errno.
 */
int real_child_is_allocated_above(RealNode *top, RealNode *base, bool include_base,
                                  int64_t offset, int64_t bytes, int64_t *pnum);

/* bdrv_change_backing_file(): the header's backing name and format (-ENOTSUP
 * for drivers without backing files in a header). */
int real_child_change_backing_file(RealNode *n, const char *backing_file,
                                   const char *backing_fmt);

/* bdrv_chain_contains(): is BASE reachable from TOP through filter/COW links? */
bool real_child_chain_contains(RealNode *top, RealNode *base);
/* bdrv_find_overlay(): the node in ACTIVE's chain whose backing (filters
 * skipped) is BS; BS NULL: the bottom of the chain. */
RealNode *real_child_find_overlay(RealNode *active, RealNode *bs);
/* bdrv_find_backing_image(): the node of BS's chain whose file name matches. */
RealNode *real_child_find_backing_image(RealNode *bs, const char *backing_file);

#endif
