/*
 * replace.c: node replacement (see replace.h).
 *
 * Mirrors QEMU 7.2 block.c should_update_child(), bdrv_replace_node_noperm(),
 * bdrv_replace_node_common(), bdrv_remove_filter_or_cow_child(),
 * bdrv_drop_filter(), bdrv_insert_node(), bdrv_drop_intermediate() and
 * bdrv_change_backing_file() (via the header update hook of the format).
 */
#include "replace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "child.h"
#include "filename.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"
#include "perm.h"
#include "reopen.h"
#include "tran.h"

/* should_update_child(): job edges stay; no edge inside TO's subtree moves. */
static bool should_update_child(RealEdge *c, RealNode *to)
{
    if (c->kind == REAL_PARENT_JOB)
        return false;
    unsigned mark = real_graph_new_mark(to->g);
    RealNode **queue = bg_calloc(to->g->n_nodes + 1, sizeof(*queue));
    size_t head = 0, tail = 0;
    bool ret = true;
    queue[tail++] = to;
    to->mark = mark;
    while (head < tail && ret) {
        RealNode *v = queue[head++];
        for (RealEdge *c2 = v->children; c2; c2 = c2->next_child) {
            if (c2 == c) {
                ret = false;
                break;
            }
            if (c2->child->mark == mark)
                continue;
            c2->child->mark = mark;
            if (tail < to->g->n_nodes)
                queue[tail++] = c2->child;
        }
    }
    free(queue);
    return ret;
}

static int replace_node_noperm(RealNode *from, RealNode *to, bool auto_skip, Tran *tran,
                               BgError *err)
{
    RealEdge *c = from->parents;
    while (c) {
        RealEdge *next = c->next_parent;
        if (!should_update_child(c, to)) {
            if (auto_skip) {
                c = next;
                continue;
            }
            bg_error_setf(err, BG_MSG_REPLACE_SHOULD_NOT, c->name, from->node_name);
            return -EINVAL;
        }
        if (c->frozen) {
            bg_error_setf(err, BG_MSG_REPLACE_CANNOT, c->name, from->node_name);
            return -EPERM;
        }
        real_edge_replace_tran(c, to, tran);
        c = next;
    }
    return 0;
}

int real_replace_node_common(RealNode *from, RealNode *to, bool auto_skip, bool detach_subchain,
                             BgError *err)
{
    Tran *tran = tran_new();
    RealNode *to_cow_parent = NULL;
    int ret;
    if (detach_subchain) {
        for (to_cow_parent = from; real_node_filter_or_cow_bs(to_cow_parent) != to;
             to_cow_parent = real_node_filter_or_cow_bs(to_cow_parent))
            ;
    }
    real_node_ref(from);
    ret = replace_node_noperm(from, to, auto_skip, tran, err);
    if (ret >= 0) {
        if (detach_subchain) {
            RealEdge *c = real_node_filter_or_cow_child(to_cow_parent);
            if (c)
                real_edge_remove_tran(c, tran);
        }
        RealNodeList l;
        real_node_list_init(&l, to->g);
        real_perm_topo_add(&l, to);
        real_perm_topo_add(&l, from);
        ret = real_perm_list_refresh(&l, NULL, tran, err);
        real_node_list_cleanup(&l);
    }
    tran_finalize(tran, ret);
    real_node_unref(from);
    return ret < 0 ? ret : 0;
}

int real_replace_node(RealNode *from, RealNode *to, BgError *err)
{
    return real_replace_node_common(from, to, true, false, err);
}

int real_drop_filter(RealNode *filter, BgError *err)
{
    return real_replace_node_common(filter, real_node_filter_or_cow_bs(filter), true, true, err);
}

RealNode *real_insert_node(RealNode *bs, json_t *take_options, int flags, BgError *err)
{
    const char *drvname = json_string_value(json_object_get(take_options, "driver"));
    if (!drvname) {
        json_decref(take_options);
        bg_error_setf(err, BG_MSG_INSERT_NO_DRIVER);
        return NULL;
    }
    const RealNodeDriver *drv = real_nodedrv_find(drvname);
    if (!drv) {
        bg_error_setf(err, BG_MSG_INSERT_UNKNOWN_DRIVER, drvname);
        json_decref(take_options);
        return NULL;
    }
    char *node_name = json_string_value(json_object_get(take_options, "node-name"))
                          ? bg_strdup(json_string_value(json_object_get(take_options,
                                                                        "node-name")))
                          : NULL;
    RealNode *n = real_open_new_driver(bs->g, drv, node_name, take_options, flags, err);
    free(node_name);
    if (!n) {
        bg_error_prepend(err, BG_MSG_INSERT_CREATE_PREFIX);
        return NULL;
    }
    if (real_replace_node(bs, n, err) < 0) {
        bg_error_prepend(err, BG_MSG_INSERT_REPLACE_PREFIX);
        real_node_unref(n);
        return NULL;
    }
    return n;
}

/* bdrv_child_cb_update_filename(): the parent's header names BASE now. */
static int update_filename(RealEdge *c, RealNode *base, const char *filename, BgError *err)
{
    RealNode *parent = c->parent_node;
    bool read_only = !(parent->open_flags & REAL_O_RDWR);
    int ret;
    if (read_only) {
        ret = real_reopen_set_read_only(parent, false, err);
        if (ret < 0)
            return ret;
    }
    ret = real_child_change_backing_file(parent, filename,
                                         base->drv ? base->drv->format_name : "");
    if (ret < 0)
        bg_error_setf(err, BG_MSG_UPDATE_BACKING_LINK, strerror(-ret));
    if (read_only)
        real_reopen_set_read_only(parent, true, err);
    return ret;
}

static bool inherits_from_recursive(RealNode *child, RealNode *parent)
{
    while (child && child != parent)
        child = child->inherits_from;
    return child != NULL;
}

int real_drop_intermediate(RealNode *top, RealNode *base, const char *backing_file_str,
                           BgError *err)
{
    int ret = -EIO;
    real_node_ref(top);
    RealNode *chain = top;
    while (chain && chain != base)
        chain = real_node_filter_or_cow_bs(chain);
    if (!top->drv || !base->drv || !chain)
        goto out;
    RealNode *explicit_top = real_node_skip_implicit_filters(top);
    bool update_inherits_from = inherits_from_recursive(base, explicit_top);
    char *file_str;
    if (!backing_file_str) {
        real_node_refresh_filename(base);
        file_str = bg_strdup(base->filename);
    } else {
        file_str = bg_strdup(backing_file_str);
    }
    size_t n = 0;
    RealEdge **updated = NULL;
    for (RealEdge *c = top->parents; c; c = c->next_parent) {
        updated = bg_realloc(updated, (n + 1) * sizeof(*updated));
        memmove(updated + 1, updated, n * sizeof(*updated));   /* g_slist_prepend */
        updated[0] = c;
        n++;
    }
    BgError local = { 0 };
    if (real_replace_node_common(top, base, false, false, &local) < 0) {
        free(updated);
        free(file_str);
        goto out;
    }
    ret = 0;
    for (size_t i = 0; i < n; i++) {
        /* bdrv_child_cb_update_filename(): only a COW (backing) child's
         * parent records a backing file name; a blkdebug's image or a
         * filter's file child is left alone (0) */
        if (updated[i]->kind != REAL_PARENT_NODE || !(updated[i]->c.role & REAL_CHILD_COW))
            continue;
        BgError e = { 0 };
        ret = update_filename(updated[i], base, file_str, &e);
        if (ret < 0)
            break;
    }
    free(updated);
    free(file_str);
    if (ret == 0 && update_inherits_from)
        base->inherits_from = explicit_top->inherits_from;
out:
    (void)err;
    real_node_unref(top);
    return ret;
}

/* bdrv_append(): NEW goes above TOP (TOP becomes its backing). */
int real_append(RealNode *bs_new, RealNode *bs_top, BgError *err)
{
    Tran *tran = tran_new();
    int ret = -EINVAL;
    RealEdge *e = real_edge_attach_to_node(bs_new, bs_top, "backing",
                                           REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY, tran, err);
    if (e) {
        real_node_refresh_limits(bs_new, tran);   /* bdrv_set_file_or_backing_noperm() */
        /* bdrv_replace_node_noperm(bs_top, bs_new, auto_skip=true) */
        RealEdge *c = bs_top->parents;
        ret = 0;
        while (c) {
            RealEdge *next = c->next_parent;
            if (c != e && c->kind != REAL_PARENT_JOB) {
                if (c->frozen) {
                    bg_error_setf(err, BG_MSG_REPLACE_CANNOT, c->name,
                                  bs_top->node_name);
                    ret = -EPERM;
                    break;
                }
                real_edge_replace_tran(c, bs_new, tran);
            }
            c = next;
        }
        if (ret == 0)
            ret = real_perm_refresh_node(bs_new, err);
    }
    tran_finalize(tran, ret);
    real_node_refresh_limits(bs_top, NULL);
    return ret;
}
