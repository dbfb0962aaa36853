/*
 * filter_blkverify.c: the "blkverify" filter: every request goes to both
 * the raw and the test child and the results are compared.
 *
 * What this is: QEMU 7.2 block/blkverify.c: blkverify_parse_filename() (a
 * name from bdrv_fill_options() into x-image, x-raw), blkverify_open()
 * ("raw" opened first as the filtered child, then "test" as a data child,
 * each with its x- name as its filename),
 * blkverify_getlength() (the test child's), reads compared byte for byte,
 * writes to both, blkverify_refresh_filename() ("blkverify:RAW:TEST"),
 * blkverify_dirname() (refused).  No reopen handler.
 * What it is not: QEMU's reaction to a mismatch, which is to print the
 * mismatch and exit the whole process; the engine fails the request with
 * EIO and marks the graph (g->vm_exit), which makes the step unsupported.
 * Nor QEMU's reaction to a zero write that reaches the node, an assertion
 * failure (bdrv.c do_pwrite_zeroes()), answered the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "bg.h"
#include "filter.h"
#include "graph.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"

typedef struct BlkverifyState {
    RealEdge *test;          /* the "test" child */
} BlkverifyState;

/*
 * blkverify_parse_filename(): the name bdrv_fill_options() hands the node
 * (a backing file name going down a backing node's `file` chain) is the
 * test image's, kept in x-image for blkverify_open(); a
 * "blkverify:RAW:TEST" name gives the raw image's in x-raw too.
 */
static bool blkverify_parse_filename(const char *filename, json_t *options, BgError *err)
{
    if (strncmp(filename, "blkverify:", 10) != 0) {
        json_object_set_new(options, "x-image", json_string(filename));
        return true;
    }
    filename += 10;
    const char *c = strchr(filename, ':');
    if (!c)
        return bg_error_setf(err, BG_MSG_BLKVERIFY_PARSE_FILENAME);
    json_object_set_new(options, "x-raw", json_stringn(filename, (size_t)(c - filename)));
    json_object_set_new(options, "x-image", json_string(c + 1));
    return true;
}

/* An x- option blkverify_open() absorbs: owned, or NULL. */
static char *take_x_opt(json_t *options, const char *key)
{
    const char *v = json_string_value(json_object_get(options, key));
    char *s = v ? bg_strdup(v) : NULL;
    json_object_del(options, key);
    return s;
}

/* blkverify_open(): raw (x-raw as its filename) with bdrv_open_file_child(),
 * then test (x-image as its filename) with bdrv_open_child(). */
static int blkverify_node_open(RealNode *n, json_t *options, int flags, BgError *err)
{
    char *x_raw = take_x_opt(options, "x-raw");
    char *x_image = take_x_opt(options, "x-image");
    int ret = -EINVAL;
    RealEdge *test = NULL;
    if (real_open_child(x_raw, n, options, "raw", REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY,
                        false, err))
        test = real_open_child(x_image, n, options, "test", REAL_CHILD_DATA, false, err);
    if (test) {
        ret = bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
        if (ret == 0)
            ((BlkverifyState *)n->bs->opaque)->test = test;
    }
    free(x_raw);
    free(x_image);
    return ret;
}

static RealBlockState *test_bs(RealBlockState *bs)
{
    RealNode *n = bs->graph;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (!strcmp(c->name, "test"))
            return c->child->bs;
    return NULL;
}

static int blkverify_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    /* as blkverify_open(): with no pwrite_zeroes of its own, this makes a
     * zero write on the node abort QEMU 7.2 (bdrv.c do_pwrite_zeroes()) */
    bs->supported_write_flags = REAL_REQ_WRITE_UNCHANGED;
    bs->supported_zero_flags = REAL_REQ_WRITE_UNCHANGED;
    return 0;
}

static int64_t blkverify_getlength(RealBlockState *bs)
{
    RealBlockState *t = test_bs(bs);
    return t ? bdrv_getlength(t) : -ENOMEDIUM;
}

static int blkverify_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf,
                           int flags)
{
    RealBlockState *t = test_bs(bs);
    uint8_t *raw = real_malloc((size_t)bytes);
    if (!raw)
        return -ENOMEM;
    int ret = bdrv_pread(t, offset, bytes, buf, flags);
    int raw_ret = bdrv_pread(filter_child(bs), offset, bytes, raw, flags);
    if (ret != raw_ret || (ret == 0 && memcmp(buf, raw, (size_t)bytes))) {
        ret = -EIO;
        ((RealNode *)bs->graph)->g->vm_exit = "a blkverify mismatch (QEMU 7.2 exits)";
    }
    real_free(raw);
    return ret;
}

static int blkverify_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                            int flags)
{
    int ret = bdrv_pwrite(test_bs(bs), offset, bytes, buf, flags);
    int raw_ret = bdrv_pwrite(filter_child(bs), offset, bytes, buf, flags);
    return ret != raw_ret ? -EIO : ret;
}

static int blkverify_flush(RealBlockState *bs)
{
    /* bdrv_co_flush() flushes the filtered child; the test child here */
    return bdrv_flush(test_bs(bs));
}

static void blkverify_refresh_filename(RealNode *n)
{
    RealNode *raw = n->file ? n->file->child : NULL;
    RealNode *test = NULL;
    for (RealEdge *c = n->children; c; c = c->next_child)
        if (!strcmp(c->name, "test"))
            test = c->child;
    if (raw && test && raw->exact_filename[0] && test->exact_filename[0]) {
        free(n->exact_filename);
        n->exact_filename = bg_asprintf("blkverify:%s:%s", raw->exact_filename,
                                        test->exact_filename);
    }
}

static const RealDriver drv_blkverify = {
    .format_name = "blkverify",
    .protocol_name = "blkverify",  /* bdrv_blkverify: its "blkverify:" file names */
    .is_filter = true,
    .instance_size = sizeof(BlkverifyState),
    .open = blkverify_open,
    .pread = blkverify_pread,
    .pwrite = blkverify_pwrite,
    .flush_to_os = blkverify_flush,
    .getlength = blkverify_getlength,
    .block_status = filter_block_status,
    .get_info = filter_get_info,   /* bdrv_get_info(): no get_info of its own, a filter */
};

const RealNodeDriver real_nd_blkverify = {
    .format_name = "blkverify",
    .ops = &drv_blkverify,
    .is_filter = true,
    .protocol = true,       /* bdrv_file_open */
    .open = blkverify_node_open,
    .parse_filename = blkverify_parse_filename,
    .refresh_filename = blkverify_refresh_filename,
};
