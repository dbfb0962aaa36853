/*
 * model_io.c: guest-visible I/O through the graph: read, write, discard.
 *
 * What this is: requests from a node down to the image files.  qcow2
 * clusters read through to the backing node when unallocated, partial
 * clusters are copied on write, discarded clusters read as zeroes; raw
 * adds its offset; filters pass requests on (compress turns writes into
 * compressed ones, copy-on-read copies what it reads from below the top
 * image into it, run by run, blkdebug fails requests its active rules
 * match); a node's max_transfer as bdrv_refresh_limits() left it; quorum
 * and blkverify write all children, quorum votes on reads; every node
 * reads as zeroes what lies past its length (a qcow2 node's L2 entries and
 * data past the end of its file chain included); a `file` node
 * is its bytes, and a qcow2 file read raw shows the data clusters the
 * model knows (other bytes are "unknown": a caller that needs them answers
 * "unsupported").  Errors are -errno, as the block layer returns them.
 * qcow2's own part (its clusters, copy-on-write, compressed and zero
 * writes) is in model_io_qcow2.c; the three model_io*.c files share
 * model_io_int.h.
 * What it is not: block status (model_io_status.c: allocation, which
 * copy-on-read asks, and zeroes known without reading), qemu-io
 * (model_qemuio.c), the request checks of the BlockBackend (bounds,
 * permissions), timing, or the qcow2 metadata.
 *
 * Mirrors QEMU 7.2.0 block/io.c (bdrv_aligned_preadv() copy-on-read,
 * bdrv_co_do_copy_on_readv(), bdrv_co_pdiscard(), detect-zeroes in
 * bdrv_aligned_pwritev(), bdrv_refresh_limits()), block/qcow2.c
 * qcow2_co_preadv_part() / qcow2_co_preadv_compressed() /
 * qcow2_co_pwritev_part() / qcow2_co_pwritev_compressed_task() /
 * qcow2_co_pdiscard(), block/qcow2-cluster.c perform_cow(), block/raw-format.c,
 * block/copy-on-read.c cor_co_preadv_part(), block/filter-compress.c,
 * block/null.c, block/quorum.c quorum_vote(), block/blkdebug.c,
 * block/file-posix.c (reads beyond the end are zeroes, discard punches a
 * hole).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "model.h"
#include "model_io_int.h"

static int node_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                      unsigned flags);

ModelFile *model_io_file_of(IoCtx *c, const ModelNode *n)
{
    return n->filename ? model_image_find(&c->st->files, n->filename) : NULL;
}

/* The nodes a qcow2 node's data requests pass on their way to its image
 * file: blkdebug's rules apply there.  HOST_OFF is -1 for a write, whose
 * host offset the model only knows after the allocation it precedes. */
int model_io_file_chain(IoCtx *c, const ModelNode *n, int64_t host_off, uint64_t len, int iotype)
{
    for (ModelNode *f = model_graph_file(c->w, n); f && f->drv->kind == BG_DRV_FILTER;
         f = model_graph_filtered(c->w, f)) {
        if (iotype == MODEL_IO_READ) {
            /* bdrv_aligned_preadv(): what lies past the node's length does
             * not reach its driver */
            uint64_t l = model_open_length(c->st, c->w, f);
            len = (uint64_t)host_off < l ? (l - (uint64_t)host_off < len ? l - (uint64_t)host_off : len)
                                         : 0;
            if (!len)
                break;
        }
        if (strcmp(f->drv->name, "blkdebug") == 0) {
            if (host_off < 0 && model_blkdebug_needs_offset(f, iotype)) {
                c->unsupported = "a blkdebug rule with a sector on a qcow2 data write";
                return -ENOTSUP;
            }
            int r = model_blkdebug_check(f, host_off < 0 ? 0 : (uint64_t)host_off, len, iotype);
            if (r)
                return r;
        }
    }
    return 0;
}

/* bdrv_co_write_req_finish(): a node a write passes grows to its end. */
static void grow(ModelNode *n, uint64_t end)
{
    end = (end + 511) / 512 * 512;
    if (end > n->total)
        n->total = end;
}

/* qcow2's host writes pass the filters above its image file and the file
 * node itself: each grows to the file's end. */
void model_io_host_grew(ModelWorld *w, const ModelNode *n, const ModelFile *f)
{
    ModelNode *x = model_graph_file(w, n);
    for (; x && x->drv->kind == BG_DRV_FILTER; x = model_graph_filtered(w, x))
        grow(x, f->host_len);
    if (x)
        grow(x, f->host_len);
}

/* bdrv_refresh_limits(): the children's limits are the default
 * (bdrv_merge_limits(): MIN_NON_ZERO of max_transfer over the DATA,
 * FILTERED and COW children, as each last refreshed its own), then the
 * driver overrides them (blkdebug_refresh_limits(): its max-transfer; no
 * other modelled driver sets max_transfer, file-posix only for block
 * devices). */
void model_io_refresh_limits(ModelWorld *w, ModelNode *n)
{
    uint64_t mt = 0;
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelNode *c = model_graph_node(w, n->children[i].node);
        if (c && (n->children[i].role & (MODEL_ROLE_DATA | MODEL_ROLE_FILTERED | MODEL_ROLE_COW)) &&
            c->max_transfer && (!mt || c->max_transfer < mt))
            mt = c->max_transfer;
    }
    if (n->dbg_max_transfer)
        mt = n->dbg_max_transfer;
    n->max_transfer = mt;
}

/* ---- reads -------------------------------------------------------------------- */

/*
 * quorum_vote_error(): the error most of the failed children gave.  ERRS
 * holds the NERR errors in the children's order (children.0 first);
 * quorum_count_vote() puts each new error at the head of the vote list and
 * quorum_get_vote_winner() takes the first with most votes: of a tie, the
 * error whose first child comes last.
 */
static int quorum_vote_error(const int *errs, unsigned nerr)
{
    int ret = 0;
    unsigned best = 0;
    for (unsigned i = nerr; i-- > 0;) {
        unsigned votes = 0, seen = 0;
        for (unsigned j = 0; j < nerr; j++) {
            votes += errs[j] == errs[i];
            seen += j < i && errs[j] == errs[i];
        }
        if (seen)
            continue;                        /* not where this error first came */
        if (votes > best) {
            best = votes;
            ret = errs[i];
        }
    }
    return ret;
}

/* block/quorum.c quorum_vote(): every child read; when they differ, the
 * version with most votes wins (ties: the version seen last, vote_list is
 * newest first), below the threshold the read fails; losers are reported. */
static int quorum_read(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf)
{
    if (n->quorum_fifo) {
        /* read_fifo_child(): the first child; one that fails is reported
         * (QUORUM_REPORT_BAD with its error) and the next one tried, which
         * the model leaves to QEMU */
        ModelNode *first = model_graph_child_node(c->w, n, "children.0");
        int r = first ? model_io_node_read(c, first, off, len, buf) : -EIO;
        if (r && !c->unsupported)
            c->unsupported = "a quorum fifo read whose first child fails";
        return r;
    }
    unsigned nc = n->quorum_next, threshold = 1;
    json_t *t = model_qdict_get(n->options, "vote-threshold");
    if (json_is_integer(t))
        threshold = (unsigned)json_integer_value(t);
    int64_t start = (int64_t)(off / 512), end = (int64_t)((off + len + 511) / 512);
    uint8_t **bufs = bg_calloc(nc + 1, sizeof(*bufs));
    ModelNode **kids = bg_calloc(nc + 1, sizeof(*kids));
    int *rets = bg_calloc(nc + 1, sizeof(*rets));
    int r = 0;
    unsigned success = 0;
    /* read_quorum_children(): every child is read; one that fails is
     * reported with its error and has no vote */
    for (unsigned i = 0; i < nc && !c->unsupported; i++) {
        char *k = bg_asprintf("children.%u", i);
        kids[i] = model_graph_child_node(c->w, n, k);
        free(k);
        /* each child reads into a buffer of quorum's own (qemu_blockalign(),
         * not a copy of the caller's): bytes a null node without read-zeroes
         * leaves there are garbage, and so is the vote over them */
        bufs[i] = bg_calloc(len ? len : 1, 1);
        bool bounce = c->bounce, unknown = c->unknown;
        c->bounce = true;
        c->unknown = false;
        rets[i] = kids[i] ? model_io_node_read(c, kids[i], off, len, bufs[i]) : -EIO;
        if (c->unknown && !c->unsupported)
            c->unsupported = "a quorum vote over bytes a child leaves uninitialized in quorum's "
                             "buffer (a null node without read-zeroes)";
        c->bounce = bounce;
        c->unknown |= unknown;
        if (!rets[i])
            success++;
        else if (kids[i] && !c->unsupported)
            model_event(c->st, "QUORUM_REPORT_BAD",
                        json_pack("{s:s,s:s,s:I,s:I,s:s}", "type", "read", "node-name",
                                  kids[i]->name, "sector-num", (json_int_t)start, "sectors-count",
                                  (json_int_t)(end - start), "error", strerror(-rets[i])));
    }
    if (c->unsupported) {
        r = -ENOTSUP;
    } else if (success < threshold) {
        /* quorum_has_too_much_io_failed(): the read fails with the error
         * most children gave */
        model_event(c->st, "QUORUM_FAILURE", json_pack("{s:s,s:I,s:I}", "reference", n->name,
                                                       "sector-num", (json_int_t)start,
                                                       "sectors-count", (json_int_t)(end - start)));
        int *errs = bg_calloc(nc + 1, sizeof(*errs));
        unsigned nerr = 0;
        for (unsigned i = 0; i < nc; i++)
            if (rets[i])
                errs[nerr++] = rets[i];
        r = quorum_vote_error(errs, nerr);
        free(errs);
    } else {
        /* versions among the children that read, in vote_list order: newest
         * first; child -> first child with its data (-1: it failed) */
        int *version = bg_calloc(nc + 1, sizeof(int));
        bool agree = true;
        int first = -1;
        for (unsigned i = 0; i < nc; i++) {
            version[i] = rets[i] ? -1 : (int)i;
            for (unsigned j = 0; j < i && !rets[i]; j++)
                if (!rets[j] && memcmp(bufs[i], bufs[j], len) == 0) {
                    version[i] = version[j];
                    break;
                }
            if (version[i] >= 0 && first < 0)
                first = version[i];
            agree &= version[i] < 0 || version[i] == first;
        }
        if (!agree && n->quorum_blkverify) {
            /* quorum_compare() in blkverify mode prints the offset and exits */
            c->unsupported = "a quorum blkverify mismatch (QEMU 7.2 exits)";
            r = -EIO;
        } else if (agree) {
            memcpy(buf, bufs[first], len);
        } else {
            int winner = -1;
            unsigned max = 0;
            for (int v = (int)nc - 1; v >= 0; v--) {
                if (version[v] != v)
                    continue;
                unsigned count = 0;
                for (unsigned i = 0; i < nc; i++)
                    count += version[i] == v;
                if (count > max) {
                    max = count;
                    winner = v;
                }
            }
            if (max < threshold) {
                model_event(c->st, "QUORUM_FAILURE",
                            json_pack("{s:s,s:I,s:I}", "reference", n->name, "sector-num",
                                      (json_int_t)start, "sectors-count",
                                      (json_int_t)(end - start)));
                r = -EIO;
            } else {
                memcpy(buf, bufs[winner], len);
                for (int v = (int)nc - 1; v >= 0; v--) {
                    if (version[v] != v || v == winner)
                        continue;
                    for (int i = (int)nc - 1; i >= 0; i--)
                        if (version[i] == v)
                            model_event(c->st, "QUORUM_REPORT_BAD",
                                        json_pack("{s:s,s:s,s:I,s:I}", "type", "read",
                                                  "node-name", kids[i]->name, "sector-num",
                                                  (json_int_t)start, "sectors-count",
                                                  (json_int_t)(end - start)));
                }
            }
        }
        free(version);
    }
    for (unsigned i = 0; i < nc; i++)
        free(bufs[i]);
    free(bufs);
    free(kids);
    free(rets);
    return r;
}

/* MAX_BOUNCE_BUFFER (block/io.c): the most one copy-on-read run copies */
#define COR_MAX_RUN (256 * MODEL_CLUSTER)

/*
 * bdrv_co_do_copy_on_readv() on the copy-on-read filter's child TOP: the
 * request is rounded to clusters, and each run of clusters that block
 * status says TOP lacks (bdrv_is_allocated(): one qcow2 cluster type, to
 * the end of an L2 slice at most) is read whole, MAX_BOUNCE_BUFFER at a
 * time, and written back into TOP whole: as a zero write if all of the
 * run reads as zeroes, as data otherwise (the zero test is of the run,
 * not of each cluster).  BOTTOM (the filter's `bottom`, or NULL) limits
 * what is copied to what the chain holds down to it, one block-status run
 * of bdrv_is_allocated_above() per request (cor_co_preadv_part()).  TOP's
 * max_transfer (a blkdebug's max-transfer below it, model_io_refresh_limits())
 * bounds each status query, so each run, too.
 *
 * cor_co_preadv_part() asks bdrv_is_allocated_above(bdrv_backing_chain_next(
 * TOP), BOTTOM, include_base=true): the walk stops at a layer that holds the
 * run, at one that ends before it, or at BOTTOM.  A stream job's BOTTOM is
 * its base_overlay, which is TOP itself when there was nothing to stream
 * (no backing file, or `base` TOP's own backing file, or `bottom` TOP):
 * then the walk never meets BOTTOM and goes on to the end of TOP's current
 * chain.  A run some layer there holds is copied into TOP; a run none holds
 * makes QEMU 7.2 walk past the end (bdrv_co_common_block_status_above()
 * calls bdrv_co_block_status(NULL), bdrv_getlength(NULL): SIGSEGV).
 */
static bool chain_meets(const ModelWorld *w, ModelNode *from, const ModelNode *bottom)
{
    for (ModelNode *it = from; it; it = model_graph_filter_or_cow(w, it))
        if (it == bottom)
            return true;
    return false;
}

static int copy_on_read(IoCtx *c, ModelNode *top, ModelNode *bottom, uint64_t off, uint64_t len)
{
    ModelFile *f = strcmp(top->drv->name, "qcow2") == 0 ? model_io_qcow2_file(c, top) : NULL;
    if (!f) {
        /* everything is allocated in TOP but in a null node without
         * read-zeroes (through filters), which QEMU copies from through a
         * bounce buffer the null node never fills, or in a qcow2 node below
         * a raw one (a copy through raw into that qcow2 node) */
        for (uint64_t cl = off / MODEL_CLUSTER; cl * MODEL_CLUSTER < off + len; cl++)
            if (!model_io_allocated_in(c, top, cl)) {
                if (!c->unsupported)
                    c->unsupported = "a copy-on-read into a node other than qcow2 that does not "
                                     "hold the data (a null node without read-zeroes, whose "
                                     "bounce buffer QEMU copies uninitialized, or a qcow2 node "
                                     "below raw)";
                return -ENOTSUP;
            }
        return 0;
    }
    uint64_t vlen = model_open_length(c->st, c->w, top);
    uint64_t slice = model_qcow2_l2_slice_clusters(top);
    /* MIN(MIN_NON_ZERO(bs->bl.max_transfer, ...), MAX_BOUNCE_BUFFER) */
    uint64_t max_run = top->max_transfer && top->max_transfer < COR_MAX_RUN ? top->max_transfer
                                                                             : COR_MAX_RUN;
    /* the chain below TOP down to BOTTOM (bdrv_backing_chain_next()) */
    ModelNode *below = bottom ? model_graph_backing(c->w, top) : NULL;
    ModelNode *base = bottom ? model_graph_filter_or_cow(c->w, bottom) : NULL;
    bool meets = bottom && chain_meets(c->w, below, bottom);
    if (!meets)
        base = NULL;                            /* to the end of TOP's chain */
    uint64_t last = (off + len + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
    uint8_t *cbuf = NULL;
    int r = 0;
    for (uint64_t cl = off / MODEL_CLUSTER, e; !r && cl < last; cl = e) {
        e = cl + 1;
        if (model_io_allocated_in(c, top, cl))
            continue;
        if (max_run % MODEL_CLUSTER) {
            /* a max_transfer of part of a cluster cuts the run inside one,
             * which copies part of a cluster (the rest then counts as
             * allocated) */
            if (!c->unsupported)
                c->unsupported = "a copy-on-read whose runs a max_transfer (a blkdebug's "
                                 "max-transfer below) cuts inside a cluster";
            r = -ENOTSUP;
            break;
        }
        ModelChainRun run = {0}, next = {0};
        int ch = bottom ? model_job_chain_status(c->st, c->w, below, base, NULL,
                                                 cl * MODEL_CLUSTER, vlen, &run)
                        : MODEL_CHAIN_ALLOC;
        for (; e < last && e - cl < max_run / MODEL_CLUSTER && e % slice != 0 &&
               !model_io_allocated_in(c, top, e);
             e++) {
            if (!bottom)
                continue;
            if (model_job_chain_status(c->st, c->w, below, base, NULL, e * MODEL_CLUSTER, vlen,
                                       &next) != ch ||
                (ch == MODEL_CHAIN_ALLOC && !model_job_run_continues(&run, &next)))
                break;
            run = next;
        }
        if (ch == MODEL_CHAIN_EOF) {
            /* cor_co_preadv_part() stops at the end of the backing file
             * ("n == 0"), and the rest of the request is not read at all */
            if (!c->unsupported)
                c->unsupported = "a read through a copy-on-read filter with `bottom` past the "
                                 "end of the node below its child (QEMU leaves the rest of the "
                                 "buffer unread)";
            r = -ENOTSUP;
            break;
        }
        if (ch == MODEL_CHAIN_FREE && bottom && !meets) {
            if (!c->unsupported)
                c->unsupported = "a read through a stream job's copy-on-read filter whose "
                                 "`bottom` is not below its child (nothing to stream) of a "
                                 "cluster no layer of the child's backing chain holds: "
                                 "cor_co_preadv_part()'s bdrv_is_allocated_above() walks past "
                                 "the end of the chain and QEMU 7.2 crashes (SIGSEGV in "
                                 "bdrv_co_block_status(), bdrv_getlength(NULL))";
            r = -ENOTSUP;
            break;
        }
        if (ch != MODEL_CHAIN_ALLOC)
            continue;                           /* read where it lies, not copied */
        uint64_t start = cl * MODEL_CLUSTER;
        uint64_t n = (e * MODEL_CLUSTER < vlen ? e * MODEL_CLUSTER : vlen) - start;
        cbuf = cbuf ? cbuf : bg_malloc(COR_MAX_RUN);
        bool bounce = c->bounce;
        c->bounce = true;
        r = model_io_qcow2_read(c, top, start, n, cbuf, true);
        c->bounce = bounce;
        if (c->unknown && !c->unsupported)
            c->unsupported = "a copy-on-read of bytes the model does not know";
        if (c->unsupported)
            r = -ENOTSUP;
        if (!r)
            r = node_write(c, top, start, n, cbuf, model_io_all_zero(cbuf, n) ? MODEL_WR_ZERO : 0);
    }
    free(cbuf);
    return r;
}

int model_io_node_read(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf)
{
    const char *d = n->drv->name;
    /* bdrv_aligned_preadv(): what lies past the node's length (bdrv_getlength(),
     * which a filter and a file node keep from their open while the node
     * below or the file may have changed) reads as zeroes without reaching
     * the driver */
    uint64_t nl = model_open_length(c->st, c->w, n);
    if (off + len > nl) {
        uint64_t in = off < nl ? nl - off : 0;
        memset(buf + in, 0, len - in);
        len = in;
        if (!len)
            return 0;
    }
    if (strcmp(d, "file") == 0) {
        ModelFile *f = model_io_file_of(c, n);
        if (!f) {
            c->unsupported = "a file the model does not hold";
            return -ENOTSUP;
        }
        if (f->qcow2) {
            model_io_qcow2_raw_read(c, f, off, len, buf);
            return 0;
        }
        uint64_t n_in = off < f->len ? (f->len - off < len ? f->len - off : len) : 0;
        model_sparse_read(&f->bytes, off, n_in, buf);
        memset(buf + n_in, 0, len - n_in);
        return 0;
    }
    if (strcmp(d, "qcow2") == 0)
        return model_io_qcow2_read(c, n, off, len, buf, true);
    if (strcmp(d, "raw") == 0) {
        ModelNode *f = model_graph_file(c->w, n);
        model_blkdebug_event(f, MODEL_DBG_READ_AIO);
        return model_io_node_read(c, f, off + n->offset, len, buf);
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0) {
        if (n->read_zeroes)
            memset(buf, 0, len);     /* else the buffer is left as it is */
        else if (c->bounce)
            c->unknown = c->known_lost = true;
        return 0;
    }
    if (strcmp(d, "quorum") == 0)
        return quorum_read(c, n, off, len, buf);
    ModelNode *f = model_graph_filtered(c->w, n);
    if (!f) {
        c->unsupported = "a node the model cannot read through";
        return -ENOTSUP;
    }
    if (strcmp(d, "blkdebug") == 0) {
        int r = model_blkdebug_check(n, off, len, MODEL_IO_READ);
        if (r)
            return r;
    }
    if (strcmp(d, "blkverify") == 0) {
        /* blkverify_co_preadv(): the test child into the request, the raw
         * child aside, compared; a mismatch makes QEMU 7.2 print it and
         * exit(1), which no step result can stand for */
        ModelNode *t = NULL;
        for (size_t i = 0; i < n->n_children; i++)
            if (strcmp(n->children[i].name, "test") == 0)
                t = model_graph_node(c->w, n->children[i].node);
        if (t) {
            int r = model_io_node_read(c, t, off, len, buf);
            uint8_t *raw = bg_calloc(len ? len : 1, 1);
            int raw_r = model_io_node_read(c, f, off, len, raw);
            bool same = r == raw_r && (r != 0 || memcmp(buf, raw, len) == 0);
            free(raw);
            if (c->unknown)
                c->known_lost = true;         /* compared bytes the model does not know */
            if (!same && !c->unsupported)
                c->unsupported = "a blkverify mismatch (QEMU 7.2 exits)";
            return same ? r : -EIO;
        }
    }
    if (strcmp(d, "copy-on-read") == 0) {
        const char *bottom = model_qdict_get_str(n->options, "bottom");
        /* bdrv_aligned_preadv() on the filter: a request longer than its
         * max_transfer reaches cor_co_preadv_part() in pieces, each copied
         * on read by itself (the model's request alignment is 1) */
        for (uint64_t o = off, k; o < off + len; o += k) {
            k = n->max_transfer && off + len - o > n->max_transfer ? n->max_transfer
                                                                   : off + len - o;
            int r = copy_on_read(c, f, bottom ? model_graph_find(c->w, bottom) : NULL, o, k);
            if (r)
                return r;
        }
    }
    return model_io_node_read(c, f, off, len, buf);
}

/* ---- writes ------------------------------------------------------------------- */

bool model_io_all_zero(const uint8_t *b, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* bdrv_co_pwrite_zeroes(): the zero write a node (raw, a filter) makes of
 * its CHILD keeps MAY_UNMAP only if CHILD was opened with discard=unmap;
 * a BlockBackend's own (blk_co_pwrite_zeroes(): qemu-io, a job's target)
 * keeps it at its root node. */
static unsigned child_flags(const ModelNode *child, unsigned flags)
{
    return child && !child->unmap ? flags & ~(unsigned)MODEL_WR_MAY_UNMAP : flags;
}

static int node_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                      unsigned flags);

/*
 * quorum_co_pwritev(): every child is written (children.0 first); one that
 * fails is reported (QUORUM_REPORT_BAD of type write, with its error), and
 * with fewer successes than the threshold the write fails (QUORUM_FAILURE)
 * with the error most children gave (quorum_vote_error(): a tie goes to
 * the newest error in its vote list, the one of the latest child).
 */
static int quorum_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                        unsigned flags)
{
    unsigned threshold = 1, success = 0, nerr = 0;
    json_t *t = model_qdict_get(n->options, "vote-threshold");
    if (json_is_integer(t))
        threshold = (unsigned)json_integer_value(t);
    int64_t start = (int64_t)(off / 512), end = (int64_t)((off + len + 511) / 512);
    int *errs = bg_calloc(n->n_children + 1, sizeof(*errs));
    for (size_t i = n->n_children; i-- > 0;) {
        ModelNode *kid = model_graph_node(c->w, n->children[i].node);
        int r = node_write(c, kid, off, len, buf, flags);
        if (c->unsupported) {
            free(errs);
            return -ENOTSUP;
        }
        if (!r) {
            success++;
            continue;
        }
        errs[nerr++] = r;
        model_event(c->st, "QUORUM_REPORT_BAD",
                    json_pack("{s:s,s:s,s:I,s:I,s:s}", "type", "write", "node-name", kid->name,
                              "sector-num", (json_int_t)start, "sectors-count",
                              (json_int_t)(end - start), "error", strerror(-r)));
    }
    int ret = 0;
    if (success < threshold) {
        model_event(c->st, "QUORUM_FAILURE", json_pack("{s:s,s:I,s:I}", "reference", n->name,
                                                       "sector-num", (json_int_t)start,
                                                       "sectors-count", (json_int_t)(end - start)));
        ret = quorum_vote_error(errs, nerr);
    }
    free(errs);
    return ret;
}

/* The base an active commit's mirror_top filter N also writes while its
 * job runs, or NULL: QEMU marks the write dirty and the job copies it into
 * the base before it finishes (in ready too, at once); writing both at
 * once leaves the same bytes (the engine does the same). */
static ModelNode *mirror_target(const IoCtx *c, const ModelNode *n)
{
    if (strcmp(n->drv->name, "mirror_top") != 0)
        return NULL;
    for (size_t i = 0; i < c->w->n_jobs; i++)
        if (c->w->jobs[i].filter == n->id)
            return model_graph_node(c->w, c->w->jobs[i].base);
    return NULL;
}

static int node_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                      unsigned flags)
{
    const char *d = n->drv->name;
    /* bdrv_aligned_pwritev(): a zero write goes to bdrv_co_do_pwrite_zeroes()
     * before a compressed one would, and the driver sees only the flags in
     * its supported_zero_flags: WRITE_COMPRESSED ("write -z -c") goes no
     * further than the zero flag */
    if (flags & MODEL_WR_ZERO)
        flags &= ~(unsigned)MODEL_WR_COMPRESSED;
    /* blkverify has no bdrv_co_pwrite_zeroes but sets supported_zero_flags
     * (BDRV_REQ_WRITE_UNCHANGED): bdrv_co_do_pwrite_zeroes() fails its
     * assertion on a zero write that reaches it */
    bool no_zero_writes = strcmp(d, "blkverify") == 0;
    if ((flags & MODEL_WR_ZERO) && no_zero_writes) {
        if (!c->unsupported)
            c->unsupported = "a zero write on a blkverify node (QEMU 7.2 aborts in "
                             "bdrv_co_do_pwrite_zeroes())";
        return -ENOTSUP;
    }
    /* bdrv_aligned_pwritev(): detect-zeroes turns zero buffers into zero
     * writes, on a driver that has bdrv_co_pwrite_zeroes */
    if (!(flags & (MODEL_WR_ZERO | MODEL_WR_COMPRESSED)) && n->detect_zeroes != MODEL_DZ_OFF &&
        !no_zero_writes && model_io_all_zero(buf, len)) {
        flags |= MODEL_WR_ZERO;
        if (n->detect_zeroes == MODEL_DZ_UNMAP)
            flags |= MODEL_WR_MAY_UNMAP;
    }
    /* bdrv_co_write_req_prepare(): a write past a node's length needs RESIZE
     * on the edge it comes down; the model's requests reach a node other than
     * a file node past its end only when a filter above kept a length from
     * its open that is longer than the chain below has now, through edges
     * without RESIZE, where QEMU 7.2 fails an assertion */
    if (strcmp(d, "file") != 0 && off + len > model_open_length(c->st, c->w, n)) {
        if (!c->unsupported)
            c->unsupported = "a write past the end of a node that a filter's stale length let "
                             "through (QEMU 7.2 aborts in bdrv_co_write_req_prepare())";
        return -ENOTSUP;
    }
    /* bdrv_driver_pwritev_compressed(): only drivers with a
     * bdrv_co_pwritev_compressed(_part) take a compressed write: qcow2, and
     * copy-on-read and throttle, which pass it to their child */
    if ((flags & MODEL_WR_COMPRESSED) && strcmp(d, "qcow2") != 0 &&
        strcmp(d, "copy-on-read") != 0 && strcmp(d, "throttle") != 0)
        return -ENOTSUP;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = model_io_file_of(c, n);
        if (!f || f->qcow2) {
            c->unsupported = "a raw write into a qcow2 file's metadata";
            return -ENOTSUP;
        }
        if (off + len > f->len)
            f->len = off + len;                 /* the bytes between read as zeroes */
        f->gen++;
        model_sparse_write(&f->bytes, off, len, (flags & MODEL_WR_ZERO) ? NULL : buf);
        grow(n, off + len);
        return 0;
    }
    if (strcmp(d, "qcow2") == 0) {
        if (!model_io_qcow2_change(c->st, c->w, n, &c->unsupported))
            return -ENOTSUP;
        return model_io_qcow2_write(c, n, off, len, buf, flags);
    }
    if (strcmp(d, "raw") == 0) {
        ModelNode *f = model_graph_file(c->w, n);
        return node_write(c, f, off + n->offset, len, buf, child_flags(f, flags));
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0)
        return 0;
    if (strcmp(d, "quorum") == 0)
        return quorum_write(c, n, off, len, buf, flags);
    if (strcmp(d, "blkverify") == 0) {
        for (size_t i = n->n_children; i-- > 0;) {
            int r = node_write(c, model_graph_node(c->w, n->children[i].node), off, len, buf, flags);
            if (r)
                return r;
        }
        return 0;
    }
    if (strcmp(d, "compress") == 0 && !(flags & MODEL_WR_ZERO)) {
        /* compress_refresh_limits(): the request alignment is the cluster
         * size below; bdrv_co_pwritev_part() pads an unaligned write with
         * what the node reads (bdrv_pad_request(), read-modify-write) */
        unsigned al = 0;
        const ModelNode *below = model_graph_filtered(c->w, n);
        if (below && model_query_get_info(c->w, below, &al) && al > 1 &&
            (off % al || len % al)) {
            uint64_t a = off / al * al, b = (off + len + al - 1) / al * al;
            uint8_t *tmp = bg_calloc(b - a, 1);
            bool bounce = c->bounce;
            c->bounce = true;              /* bdrv_pad_request()'s buffer */
            int r = model_io_node_read(c, n, a, b - a, tmp);
            c->bounce = bounce;
            if (!r) {
                memcpy(tmp + (off - a), buf, len);
                r = node_write(c, n, a, b - a, tmp, flags);
            }
            free(tmp);
            return r;
        }
        flags |= MODEL_WR_COMPRESSED;
    }
    ModelNode *f = model_graph_filtered(c->w, n);
    if (!f) {
        c->unsupported = "a node the model cannot write through";
        return -ENOTSUP;
    }
    if (strcmp(d, "blkdebug") == 0) {
        int r = model_blkdebug_check(n, off, len, (flags & MODEL_WR_ZERO) ? MODEL_IO_WRITE_ZEROES
                                                                          : MODEL_IO_WRITE);
        if (r)
            return r;
    }
    int r = node_write(c, f, off, len, buf, child_flags(f, flags));
    ModelNode *t = r ? NULL : mirror_target(c, n);
    if (t)
        r = node_write(c, t, off, len, buf, child_flags(t, flags));
    if (!r)
        grow(n, off + len);
    return r;
}

/* ---- discard ------------------------------------------------------------------ */

/* bdrv_co_pdiscard(): nothing unless the node was opened with discard=unmap;
 * qcow2 discards whole clusters (and the partial last cluster of the image)
 * and ignores the rest. */
static int node_discard(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len)
{
    if (!n->unmap || !len)
        return 0;
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = model_io_file_of(c, n);
        if (!f || f->qcow2) {
            c->unsupported = "a raw discard in a qcow2 file";
            return -ENOTSUP;
        }
        f->gen++;
        if (off < f->len)                       /* a punched hole */
            model_sparse_write(&f->bytes, off, f->len - off < len ? f->len - off : len, NULL);
        return 0;
    }
    if (strcmp(d, "qcow2") == 0) {
        ModelFile *f = model_io_qcow2_file(c, n);
        if (!f)
            return model_io_qcow2_no_image(c);
        if (!model_io_qcow2_change(c->st, c->w, n, &c->unsupported))
            return -ENOTSUP;
        uint64_t vend = (f->vsize + 511) / 512 * 512;
        uint64_t first = (off + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
        uint64_t end = off + len >= vend ? (vend + MODEL_CLUSTER - 1) / MODEL_CLUSTER
                                         : (off + len) / MODEL_CLUSTER;
        bool backing = model_graph_backing(c->w, n) != NULL;
        int r = first < end ? model_io_qcow2_meta_rules(c, n, true) : 0;
        if (!r && first < end)
            r = model_io_qcow2_l2_load(c, n, f, first * MODEL_CLUSTER,
                                       (end - first) * MODEL_CLUSTER);
        if (r)
            return r;
        for (uint64_t cl = first; cl < end; cl++)
            model_image_qcow2_discard(f, cl, backing);
        model_io_host_grew(c->w, n, f);
        return model_io_qcow2_layout_unknown(c, f);
    }
    if (strcmp(d, "raw") == 0)
        return node_discard(c, model_graph_file(c->w, n), off + n->offset, len);
    if (n->drv->kind != BG_DRV_FILTER || strcmp(d, "blkverify") == 0)
        return 0;                               /* null, quorum, blkverify: no pdiscard */
    if (strcmp(d, "blkdebug") == 0) {
        int r = model_blkdebug_check(n, off, len, MODEL_IO_DISCARD);
        if (r)
            return r;
    }
    ModelNode *f = model_graph_filtered(c->w, n);
    int r = f ? node_discard(c, f, off, len) : 0;
    ModelNode *t = r ? NULL : mirror_target(c, n);
    return t ? node_discard(c, t, off, len) : r;
}

/* ---- entry points ------------------------------------------------------------- */

int model_io_pread(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                   ModelIoStatus *s)
{
    return model_io_pread_in(st, st->w, n, off, len, buf, false, s);
}

int model_io_pread_in(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t off, uint64_t len,
                      uint8_t *buf, bool qemu_buffer, ModelIoStatus *s)
{
    IoCtx c = { .st = st, .w = w, .bounce = qemu_buffer, .known = s->known, .known_buf = buf,
                .known_len = len };
    int r = model_io_node_read(&c, n, off, len, buf);
    s->unsupported = c.unsupported;
    s->unknown = c.unknown;
    s->known_lost = c.known_lost;
    return r;
}

int model_io_pwrite(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                    unsigned flags, ModelIoStatus *s)
{
    IoCtx c = { .st = st, .w = st->w };
    int r = node_write(&c, n, off, len, buf, flags);
    s->unsupported = c.unknown && !c.unsupported ? "a copy of bytes the model does not know"
                                                 : c.unsupported;
    s->unknown = false;
    return r;
}

int model_io_pdiscard(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, ModelIoStatus *s)
{
    IoCtx c = { .st = st, .w = st->w };
    int r = node_discard(&c, n, off, len);
    s->unsupported = c.unsupported;
    s->unknown = false;
    return r;
}

bool model_io_read(ModelState *st, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                   const char **unsupported)
{
    IoCtx c = { .st = st, .w = st->w, .bounce = true };
    int r = model_io_node_read(&c, model_graph_node(st->w, n->id), off, len, buf);
    *unsupported = c.unsupported ? c.unsupported
                   : c.unknown   ? "a read of bytes the model does not know (a raw read of qcow2 "
                                   "metadata, a null node without read-zeroes)"
                   : r           ? "the read failed"
                                 : NULL;
    return !*unsupported;
}
