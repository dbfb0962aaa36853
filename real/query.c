/*
 * query.c: query-named-block-nodes (see query.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_named_nodes_list(), bdrv_get_info(),
 * bdrv_get_allocated_file_size() / bdrv_sum_allocated_file_size(),
 * bdrv_get_specific_info(), and
 * block/qapi.c bdrv_block_device_info(), bdrv_query_image_info().
 */
#include "query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "filename.h"
#include "messages.h"
#include "nodedrv.h"

int64_t real_node_getlength(RealNode *n)
{
    return bdrv_getlength(n->bs);
}

int64_t real_node_allocated_size(RealNode *n)
{
    if (!n->drv)
        return -ENOMEDIUM;
    if (n->bs->drv && n->bs->drv->get_allocated_file_size)
        return n->bs->drv->get_allocated_file_size(n->bs);
    if (n->drv->protocol)
        /* null_allocated_file_size(): 0; other protocols -ENOTSUP */
        return !strncmp(n->drv->format_name, "null-", 5) ? 0 : -ENOTSUP;
    if (n->drv->is_filter) {
        RealEdge *c = real_node_filter_child(n);
        return c ? real_node_allocated_size(c->child) : -ENOTSUP;
    }
    int64_t sum = 0;
    for (RealEdge *c = n->children; c; c = c->next_child) {
        if (c->c.role & (REAL_CHILD_DATA | REAL_CHILD_METADATA | REAL_CHILD_FILTERED)) {
            int64_t s = real_node_allocated_size(c->child);
            if (s < 0)
                return s;
            sum += s;
        }
    }
    return sum;
}

/* bdrv_get_info(): drivers without get_info forward to their filtered child. */
static int node_get_info(RealNode *n, RealDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    if (!n->drv)
        return -ENOMEDIUM;
    if (!n->bs->drv || !n->bs->drv->get_info) {
        RealEdge *c = real_node_filter_child(n);
        return c ? node_get_info(c->child, bdi) : -ENOTSUP;
    }
    return n->bs->drv->get_info(n->bs, bdi);
}

static json_t *image_info(RealNode *n)
{
    real_node_refresh_filename(n);
    json_t *info = json_object();
    json_object_set_new(info, "filename", json_string(n->filename));
    json_object_set_new(info, "format", json_string(n->drv->format_name));
    json_object_set_new(info, "virtual-size", json_integer(real_node_getlength(n)));
    int64_t actual = real_node_allocated_size(n);
    if (actual >= 0)
        json_object_set_new(info, "actual-size", json_integer(actual));
    RealDriverInfo bdi;
    if (node_get_info(n, &bdi) >= 0) {
        if (bdi.cluster_size)
            json_object_set_new(info, "cluster-size", json_integer(bdi.cluster_size));
        json_object_set_new(info, "dirty-flag", json_boolean(bdi.is_dirty));
    }
    json_t *spec = n->bs->drv ? bdrv_get_specific_info(n->bs) : NULL;
    if (spec)
        json_object_set_new(info, "format-specific", spec);
    if (n->backing_file[0]) {
        json_object_set_new(info, "backing-filename", json_string(n->backing_file));
        char *full = real_filename_make_absolute(n, n->backing_file, NULL);
        if (full)
            json_object_set_new(info, "full-backing-filename", json_string(full));
        free(full);
        if (n->backing_format[0])
            json_object_set_new(info, "backing-filename-format",
                                json_string(n->backing_format));
    }
    return info;
}

static json_t *device_info(RealNode *n, bool flat)
{
    real_node_refresh_filename(n);
    json_t *info = json_object();
    json_object_set_new(info, "file", json_string(n->filename));
    json_object_set_new(info, "ro", json_boolean(!(n->open_flags & REAL_O_RDWR)));
    json_object_set_new(info, "drv", json_string(n->drv->format_name));
    json_object_set_new(info, "encrypted", json_false());
    json_object_set_new(info, "cache",
                        json_pack("{s:b,s:b,s:b}", "writeback", 1, "direct",
                                  !!(n->open_flags & REAL_O_NOCACHE), "no-flush",
                                  !!(n->open_flags & REAL_O_NO_FLUSH)));
    json_object_set_new(info, "node-name", json_string(n->node_name));
    RealEdge *cow = real_node_cow_child(n);
    if (cow)
        json_object_set_new(info, "backing_file", json_string(cow->child->filename));
    if (n->dirty_bitmaps) {
        json_t *list = json_array();
        for (RealDirtyBitmap *b = n->dirty_bitmaps; b; b = b->next)
            json_array_append_new(list, json_pack("{s:I,s:I,s:b,s:b,s:b}", "count",
                                                  (json_int_t)b->count, "granularity",
                                                  (json_int_t)b->granularity, "recording", 1,
                                                  "busy", 0, "persistent", 0));
        json_object_set_new(info, "dirty-bitmaps", list);
    }
    static const char *const dz[] = { "off", "on", "unmap" };
    json_object_set_new(info, "detect_zeroes", json_string(dz[n->bs->detect_zeroes]));
    static const char *const zero_fields[] = { "bps", "bps_rd", "bps_wr", "iops", "iops_rd",
                                               "iops_wr", "write_threshold" };
    for (size_t i = 0; i < sizeof(zero_fields) / sizeof(zero_fields[0]); i++)
        json_object_set_new(info, zero_fields[i], json_integer(0));

    int depth = 0;
    json_t *image = image_info(n);
    json_object_set_new(info, "image", image);
    RealNode *bs0 = n;
    while (!flat) {
        RealEdge *c = real_node_filter_or_cow_child(bs0);
        if (!c)
            break;
        depth++;
        bs0 = c->child;
        json_t *sub = image_info(bs0);
        json_object_set_new(image, "backing-image", sub);
        image = sub;
    }
    json_object_set_new(info, "backing_file_depth", json_integer(depth));
    return info;
}

json_t *real_query_named_block_nodes(RealGraph *g, bool flat, BgError *err)
{
    json_t *list = json_array();
    for (RealNode *n = g->tail; n; n = n->list_prev) {
        /* bdrv_block_device_info(): bs->drv, which a fatal corruption clears too */
        if (!n->drv || !n->bs->drv) {
            json_decref(list);
            bg_error_setf(err, BG_MSG_QUERY_EJECTED, n->node_name);
            return NULL;
        }
        json_array_append_new(list, device_info(n, flat));
    }
    return list;
}
