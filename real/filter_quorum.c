/*
 * filter_quorum.c: the "quorum" driver: reads vote among the children,
 * writes go to all of them.
 *
 * What this is: QEMU 7.2 block/quorum.c: quorum_open() (children.N opened
 * in order as data children, "Number of provided children must be 1 or
 * more", vote-threshold checks, read-pattern, blkverify, rewrite-corrupted),
 * quorum_child_perm(), reads in the "quorum" pattern (every child read,
 * versions compared, the most voted one returned when it has the threshold,
 * QUORUM_REPORT_BAD for each child of another version, QUORUM_FAILURE and
 * EIO otherwise), "fifo" (the first child that reads), writes to every
 * child (EIO when fewer than the threshold succeed),
 * quorum_gather_child_options() (the json: filename lists the children),
 * quorum_getlength() (EIO unless every child has the same length).  No
 * reopen handler.
 * What it is not: rewrite-corrupted repairs (the option is kept).
 */
#include <errno.h>
#include <stdio.h>
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

typedef struct QuorumState {
    int num_children;
    RealEdge **children;
    int threshold;
    bool fifo;
    bool rewrite_corrupted;
} QuorumState;

/* rewrite-corrupted counts in the "quorum" read pattern only (quorum_open()) */
static bool quorum_rewrites(const json_t *options)
{
    const char *pattern = json_string_value(json_object_get(options, "read-pattern"));
    return !(pattern && !strcmp(pattern, "fifo")) &&
           json_is_true(json_object_get(options, "rewrite-corrupted"));
}

static int quorum_node_open(RealNode *n, json_t *options, int flags, BgError *err)
{
    int count = 0;
    for (;; count++) {
        char key[32], dot[32];
        snprintf(key, sizeof(key), "children.%d", count);
        snprintf(dot, sizeof(dot), "children.%d.", count);
        bool found = json_object_get(options, key) != NULL;
        const char *k;
        json_t *v;
        json_object_foreach(options, k, v)
            found |= !strncmp(k, dot, strlen(dot));
        if (!found)
            break;
    }
    if (count < 1)
        return bg_error_setf(err, BG_MSG_QUORUM_NO_CHILDREN), -EINVAL;
    json_t *thr = json_object_get(options, "vote-threshold");
    json_int_t threshold = json_is_integer(thr) ? json_integer_value(thr) : 0;
    if (threshold < 1)
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, "vote-threshold", "a value >= 1"),
               -ERANGE;
    if (threshold > count)
        return bg_error_setf(err, BG_MSG_QUORUM_THRESHOLD), -ERANGE;
    const char *pattern = json_string_value(json_object_get(options, "read-pattern"));
    bool fifo = pattern && !strcmp(pattern, "fifo");
    bool blkverify = json_is_true(json_object_get(options, "blkverify"));
    bool rewrite = json_is_true(json_object_get(options, "rewrite-corrupted"));
    if (!fifo) {
        if (blkverify && (count != 2 || threshold != 2))
            return bg_error_setf(err, BG_MSG_QUORUM_BLKVERIFY), -EINVAL;
        if (rewrite && blkverify)
            return bg_error_setf(err, BG_MSG_QUORUM_REWRITE_BLKVERIFY),
                   -EINVAL;
    }
    RealEdge **children = bg_calloc((size_t)count, sizeof(*children));
    for (int i = 0; i < count; i++) {
        char key[32];
        snprintf(key, sizeof(key), "children.%d", i);
        children[i] = real_open_child(NULL, n, options, key, REAL_CHILD_DATA, false, err);
        if (!children[i]) {
            for (int j = 0; j < i; j++)
                real_edge_unref(children[j]);
            free(children);
            return -EINVAL;
        }
    }
    int ret = bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
    if (ret < 0) {
        free(children);
        return ret;
    }
    QuorumState *s = n->bs->opaque;
    s->num_children = count;
    s->children = children;
    s->threshold = (int)threshold;
    s->fifo = fifo;
    s->rewrite_corrupted = quorum_rewrites(options);
    /* quorum_refresh_flags(): the zero-write flags every child takes */
    n->bs->supported_zero_flags = REAL_REQ_FUA | REAL_REQ_MAY_UNMAP | REAL_REQ_NO_FALLBACK;
    for (int i = 0; i < count; i++)
        n->bs->supported_zero_flags &= children[i]->child->bs->supported_zero_flags;
    return 0;
}

static int quorum_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    return 0;
}

static void quorum_close(RealBlockState *bs)
{
    QuorumState *s = bs->opaque;
    free(s->children);
    s->children = NULL;
}

/* quorum_getlength(): the first child's length, EIO unless every child's
 * is the same (the first error as it is). */
static int64_t common_length(RealEdge *const *v, int count)
{
    if (!count)
        return -ENOMEDIUM;
    int64_t len = bdrv_getlength(v[0]->child->bs);
    for (int i = 1; i < count && len >= 0; i++) {
        int64_t l = bdrv_getlength(v[i]->child->bs);
        len = l < 0 ? l : l != len ? -EIO : len;
    }
    return len;
}

static int64_t quorum_getlength(RealBlockState *bs)
{
    QuorumState *s = bs->opaque;
    RealNode *n = bs->graph;
    if (s->children)
        return common_length(s->children, s->num_children);
    /* during open the children are attached but not yet recorded; the
     * edges list holds the newest first */
    int count = 0;
    for (RealEdge *c = n->children; c; c = c->next_child)
        count++;
    RealEdge **v = bg_calloc(count ? (size_t)count : 1, sizeof(*v));
    int i = count;
    for (RealEdge *c = n->children; c; c = c->next_child)
        v[--i] = c;
    int64_t len = common_length(v, count);
    free(v);
    return len;
}

static void report_bad(RealNode *n, const char *type, int64_t offset, int64_t bytes,
                       const char *node, int ret)
{
    int64_t start = offset / BDRV_SECTOR_SIZE;
    int64_t end = (offset + bytes + BDRV_SECTOR_SIZE - 1) / BDRV_SECTOR_SIZE;
    json_t *d = json_pack("{s:s,s:s,s:I,s:I}", "type", type, "node-name", node, "sector-num",
                          (json_int_t)start, "sectors-count", (json_int_t)(end - start));
    if (ret < 0)
        json_object_set_new(d, "error", json_string(strerror(-ret)));
    real_graph_event_throttled(n->g, "QUORUM_REPORT_BAD", node, d);
}

static void report_failure(RealNode *n, int64_t offset, int64_t bytes)
{
    int64_t start = offset / BDRV_SECTOR_SIZE;
    int64_t end = (offset + bytes + BDRV_SECTOR_SIZE - 1) / BDRV_SECTOR_SIZE;
    real_graph_event_throttled(n->g, "QUORUM_FAILURE", NULL,
                               json_pack("{s:s,s:I,s:I}", "reference",
                                         real_node_device_or_node_name(n), "sector-num",
                                         (json_int_t)start, "sectors-count",
                                         (json_int_t)(end - start)));
}

static int quorum_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf,
                        int flags)
{
    QuorumState *s = bs->opaque;
    RealNode *n = bs->graph;
    if (s->fifo) {
        /* read_fifo_child(): a child that fails is reported, then the next tried */
        int ret = -EIO;
        for (int i = 0; i < s->num_children; i++) {
            ret = bdrv_pread(s->children[i]->child->bs, offset, bytes, buf, flags);
            if (ret == 0)
                return 0;
            report_bad(n, "read", offset, bytes, s->children[i]->child->node_name, ret);
        }
        return ret;
    }
    int nc = s->num_children;
    uint8_t **bufs = bg_calloc((size_t)nc, sizeof(*bufs));
    int *rets = bg_calloc((size_t)nc, sizeof(*rets));
    int *version = bg_calloc((size_t)nc, sizeof(*version));
    int success = 0;
    for (int i = 0; i < nc; i++) {
        bufs[i] = real_malloc((size_t)bytes);
        rets[i] = bufs[i] ? bdrv_pread(s->children[i]->child->bs, offset, bytes, bufs[i], flags)
                          : -ENOMEM;
        if (rets[i] == 0)
            success++;
        else
            report_bad(n, "read", offset, bytes, s->children[i]->child->node_name, rets[i]);
    }
    int ret = 0;
    if (success < s->threshold) {
        report_failure(n, offset, bytes);
        ret = -EIO;
        for (int i = 0; i < nc; i++)
            if (rets[i])
                ret = rets[i];
        goto out;
    }
    /* versions: children with identical contents vote together */
    int best = -1, best_votes = 0;
    for (int i = 0; i < nc; i++) {
        version[i] = -1;
        if (rets[i])
            continue;
        for (int j = 0; j < i; j++) {
            if (!rets[j] && !memcmp(bufs[i], bufs[j], (size_t)bytes)) {
                version[i] = version[j];
                break;
            }
        }
        if (version[i] < 0)
            version[i] = i;
    }
    /* quorum_count_vote() puts each new version at the head of the vote
     * list, and each vote at the head of its version's items:
     * quorum_get_vote_winner() takes the first version with the most votes
     * in that list, the newest of a tie, and quorum_report_bad_versions()
     * reports the others in list order, each one's children last first */
    for (int i = nc; i-- > 0;) {
        if (rets[i] || version[i] != i)
            continue;
        int votes = 0;
        for (int j = 0; j < nc; j++)
            votes += !rets[j] && version[j] == i;
        if (votes > best_votes) {
            best = i;
            best_votes = votes;
        }
    }
    if (best_votes < s->threshold) {
        report_failure(n, offset, bytes);
        ret = -EIO;
        goto out;
    }
    for (int v = nc; v-- > 0;) {
        if (rets[v] || version[v] != v || v == best)
            continue;
        for (int i = nc; i-- > 0;)
            if (!rets[i] && version[i] == v)
                report_bad(n, "read", offset, bytes, s->children[i]->child->node_name, 0);
    }
    memcpy(buf, bufs[best], (size_t)bytes);
out:
    for (int i = 0; i < nc; i++)
        real_free(bufs[i]);
    free(bufs);
    free(rets);
    free(version);
    return ret;
}

/* quorum_co_pwritev(): every child is written (BUF NULL: a zero write,
 * write_quorum_entry() with BDRV_REQ_ZERO_WRITE); fewer successes than the
 * threshold fail the write. */
static int write_children(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                          int flags)
{
    QuorumState *s = bs->opaque;
    RealNode *n = bs->graph;
    int success = 0, ret = 0;
    for (int i = 0; i < s->num_children; i++) {
        RealBlockState *c = s->children[i]->child->bs;
        int r = buf ? bdrv_pwrite(c, offset, bytes, buf, flags)
                    : bdrv_pwrite_zeroes(c, offset, bytes, flags);
        if (r == 0) {
            success++;
        } else {
            ret = r;
            report_bad(n, "write", offset, bytes, s->children[i]->child->node_name, r);
        }
    }
    if (success < s->threshold) {
        report_failure(n, offset, bytes);
        return ret ? ret : -EIO;
    }
    return 0;
}

static int quorum_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                         int flags)
{
    return write_children(bs, offset, bytes, buf, flags);
}

/* quorum_co_pwrite_zeroes() */
static int quorum_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    return write_children(bs, offset, bytes, NULL, flags);
}

static int quorum_flush(RealBlockState *bs)
{
    QuorumState *s = bs->opaque;
    int ret = 0;
    for (int i = 0; i < s->num_children; i++) {
        int r = bdrv_flush(s->children[i]->child->bs);
        if (r && !ret)
            ret = r;
    }
    return ret;
}

static void quorum_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                              uint64_t perm, uint64_t shared, uint64_t *nperm,
                              uint64_t *nshared)
{
    /* QEMU sets s->rewrite_corrupted before it opens the children, so their
     * edges take WRITE from the start; here the driver state comes after
     * them, and the node's options say it meanwhile */
    QuorumState *s = n->bs->opaque;
    *nperm = perm & REAL_PERM_PASSTHROUGH;
    if (s ? s->rewrite_corrupted : quorum_rewrites(n->options))
        *nperm |= REAL_PERM_WRITE;
    *nshared = (shared & (REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED)) |
               REAL_PERM_UNCHANGED;
}

/* quorum_gather_child_options(): "children" is a list of the children's options */
static void quorum_gather_child_options(RealNode *n, json_t *opts, bool backing_overridden)
{
    QuorumState *s = n->bs->opaque;
    json_t *list = json_array();
    for (int i = 0; s && i < s->num_children; i++) {
        json_t *o = s->children[i]->child->full_open_options;
        json_array_append(list, o ? o : json_null());
    }
    json_object_set_new(opts, "children", list);
}

static const RealDriver drv_quorum = {
    .format_name = "quorum",
    .instance_size = sizeof(QuorumState),
    .open = quorum_open,
    .close = quorum_close,
    .pread = quorum_pread,
    .pwrite = quorum_pwrite,
    .pwrite_zeroes = quorum_pwrite_zeroes,
    .flush_to_os = quorum_flush,
    .getlength = quorum_getlength,
};

const RealNodeDriver real_nd_quorum = {
    .format_name = "quorum",
    .ops = &drv_quorum,
    .open = quorum_node_open,
    .child_perm = quorum_child_perm,
    .gather_child_options = quorum_gather_child_options,
};
