/*
 * child.c: file/backing child replacement and frozen links (see child.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_inherits_from_recursive(),
 * bdrv_backing_role(), bdrv_set_file_or_backing_noperm(),
 * bdrv_set_backing_hd(), bdrv_is_backing_chain_frozen(),
 * bdrv_freeze_backing_chain(), bdrv_unfreeze_backing_chain().
 * (bdrv_refresh_limits() of the parent is folded into the storage layer,
 * which reads its children's limits per request, except max_transfer,
 * which real_node_refresh_limits() keeps as QEMU does.)
 */
#include "child.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "filename.h"
#include "messages.h"
#include "nodedrv.h"
#include "perm.h"
#include "tran.h"

static bool inherits_from_recursive(RealNode *child, RealNode *parent)
{
    while (child && child != parent)
        child = child->inherits_from;
    return child != NULL;
}

unsigned real_child_backing_role(RealNode *n)
{
    if (n->drv && n->drv->is_filter)
        return REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY;
    return REAL_CHILD_COW;
}

int real_child_set_file_or_backing_noperm(RealNode *parent, RealNode *child, bool is_backing,
                                          Tran *tran, BgError *err)
{
    bool update_inherits_from = child && inherits_from_recursive(child, parent);
    RealEdge *e = is_backing ? parent->backing : parent->file;
    unsigned role;

    if (!parent->drv) {
        bg_error_setf(err, BG_MSG_NODE_CORRUPTED);
        return -EINVAL;
    }
    if (e && e->frozen) {
        bg_error_setf(err, BG_MSG_FROZEN_LINK, e->name, parent->node_name,
                      e->child->node_name);
        return -EPERM;
    }
    if (is_backing && !parent->drv->is_filter && !parent->drv->supports_backing) {
        bg_error_setf(err, BG_MSG_NO_BACKING_SUPPORT, parent->drv->format_name,
                      parent->node_name);
        return -EINVAL;
    }
    if (parent->drv->is_filter) {
        role = REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY;
    } else if (is_backing) {
        role = REAL_CHILD_COW;
    } else {
        if (!e) {
            bg_error_setf(err, BG_MSG_FILE_TO_FORMAT);
            return -EINVAL;
        }
        role = e->c.role;
    }
    if (e) {
        real_edge_unset_inherits_from(parent, e, tran);
        real_edge_remove_tran(e, tran);
    }
    if (!child) {
        real_node_refresh_limits(parent, tran);     /* goto out */
        return 0;
    }
    e = real_edge_attach_to_node(parent, child, is_backing ? "backing" : "file", role, tran,
                                 err);
    if (!e)
        return -EINVAL;
    if (update_inherits_from)
        real_node_set_inherits_from(child, parent, tran);
    real_node_refresh_limits(parent, tran);         /* out: */
    return 0;
}

int real_child_set_backing_hd(RealNode *n, RealNode *backing, BgError *err)
{
    Tran *tran = tran_new();
    int ret = real_child_set_file_or_backing_noperm(n, backing, true, tran, err);
    if (ret >= 0)
        ret = real_perm_refresh_node(n, err);
    tran_finalize(tran, ret);
    return ret;
}

bool real_child_chain_frozen(RealNode *top, RealNode *base, BgError *err)
{
    for (RealNode *i = top; i && i != base;) {
        RealEdge *c = real_node_filter_or_cow_child(i);
        if (c && c->frozen) {
            bg_error_setf(err, BG_MSG_CHAIN_FROZEN, c->name,
                          i->node_name, c->child->node_name);
            return true;
        }
        i = c ? c->child : NULL;
    }
    return false;
}

int real_child_freeze_chain(RealNode *top, RealNode *base, BgError *err)
{
    if (real_child_chain_frozen(top, base, err))
        return -EPERM;
    for (RealNode *i = top; i && i != base;) {
        RealEdge *c = real_node_filter_or_cow_child(i);
        if (c && c->child->never_freeze) {
            bg_error_setf(err, BG_MSG_CHAIN_FREEZE, c->name,
                          c->child->node_name);
            return -EPERM;
        }
        i = c ? c->child : NULL;
    }
    for (RealNode *i = top; i && i != base;) {
        RealEdge *c = real_node_filter_or_cow_child(i);
        if (c)
            c->frozen = true;
        i = c ? c->child : NULL;
    }
    return 0;
}

void real_child_unfreeze_chain(RealNode *top, RealNode *base)
{
    for (RealNode *i = top; i && i != base;) {
        RealEdge *c = real_node_filter_or_cow_child(i);
        if (c)
            c->frozen = false;
        i = c ? c->child : NULL;
    }
}

int real_child_is_allocated_above(RealNode *top, RealNode *base, bool include_base,
                                  int64_t offset, int64_t bytes, int64_t *pnum)
{
    int64_t n = bytes;
    for (RealNode *p = top; p; p = real_node_filter_or_cow_bs(p)) {
        if (p == base && !include_base)
            break;
        int64_t pn = 0;
        int ret = bdrv_is_allocated(p->bs, offset, n, &pn);
        if (ret < 0)
            return ret;
        if (ret) {
            *pnum = pn;
            return 1;
        }
        if (pn == 0) {
            if (p == top) {
                *pnum = 0;
                return 0;
            }
            /* QEMU bdrv_co_common_block_status_above(): this layer is short;
             * the zeroes synthesized beyond its EOF count as allocated here. */
            *pnum = n;
            return 1;
        }
        if (pn < n)
            n = pn;   /* the unallocated run of this layer */
        if (p == base)
            break;
    }
    *pnum = n;
    return 0;
}

int real_child_change_backing_file(RealNode *n, const char *backing_file,
                                   const char *backing_fmt)
{
    if (!n->bs->drv || !n->bs->drv->change_backing_file)
        return -ENOTSUP;
    int ret = n->bs->drv->change_backing_file(n->bs, backing_file, backing_fmt);
    if (ret == 0) {
        free(n->backing_file);
        free(n->backing_format);
        free(n->auto_backing_file);
        n->backing_file = bg_strdup(backing_file ? backing_file : "");
        n->backing_format = bg_strdup(backing_fmt ? backing_fmt : "");
        n->auto_backing_file = bg_strdup(backing_file ? backing_file : "");
    }
    return ret;
}

bool real_child_chain_contains(RealNode *top, RealNode *base)
{
    while (top && top != base)
        top = real_node_filter_or_cow_bs(top);
    return top != NULL;
}

RealNode *real_child_find_overlay(RealNode *active, RealNode *bs)
{
    bs = real_node_skip_filters(bs);
    active = real_node_skip_filters(active);
    while (active) {
        RealNode *next = real_node_backing_chain_next(active);
        if (bs == next)
            return active;
        active = next;
    }
    return NULL;
}

static bool overridden(RealNode *n)
{
    if (n->backing)
        return strcmp(n->auto_backing_file, n->backing->child->filename) != 0;
    return n->auto_backing_file[0] != '\0';
}

static char *canonical(RealGraph *g, const char *path)
{
    char *abs = real_graph_path(g, path);
    char *r = realpath(abs, NULL);
    free(abs);
    return r;
}

RealNode *real_child_find_backing_image(RealNode *bs, const char *backing_file)
{
    if (!bs || !bs->drv || !backing_file)
        return NULL;
    bool is_protocol = real_filename_has_protocol(backing_file);
    bool refreshed = false;
    for (RealNode *curr = real_node_skip_filters(bs); real_node_cow_child(curr);) {
        RealNode *below = real_node_backing_chain_next(curr);
        if (overridden(curr)) {
            if (!refreshed) {
                real_node_refresh_filename(below);
                refreshed = true;
            }
            if (!strcmp(backing_file, below->filename))
                return below;
        } else if (is_protocol || real_filename_has_protocol(curr->backing_file)) {
            if (!strcmp(backing_file, curr->backing_file))
                return below;
            char *full = real_filename_make_absolute(curr, curr->backing_file, NULL);
            bool eq = full && !strcmp(backing_file, full);
            free(full);
            if (eq)
                return below;
        } else {
            char *tmp = real_filename_make_absolute(curr, backing_file, NULL);
            char *a = tmp ? canonical(bs->g, tmp) : NULL;
            free(tmp);
            tmp = real_filename_make_absolute(curr, curr->backing_file, NULL);
            char *b = tmp ? canonical(bs->g, tmp) : NULL;
            free(tmp);
            bool eq = a && b && !strcmp(a, b);
            free(a);
            free(b);
            if (eq)
                return below;
        }
        curr = below;
        if (!curr)
            break;
    }
    return NULL;
}
