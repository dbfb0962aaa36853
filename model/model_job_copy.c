/*
 * model_job_copy.c: what a block job does to the data and the image headers
 * at its end.
 *
 * What this is: the copy of what TOP's chain above BASE holds into the
 * stream's top or the commit's base, in QEMU's units and by its block
 * status (model_job_chain_status(), run by run, with the zero-run rules of
 * copy-on-read and of the mirror), the growth of a shorter base before a
 * commit, and the rewrite of image headers' backing names
 * (bdrv_change_backing_file(), with the read-only round trip of a COW
 * parent).  Split from model_job.c, which keeps the state machine, the job
 * verbs and the graph changes of a job's end (finish()).
 * What it is not: time or progress in between (model_job.c), or the start
 * of a job (model_job_start.c).
 *
 * Mirrors QEMU 7.2.0 block/stream.c stream_run(), block/commit.c
 * commit_run(), block/mirror.c mirror_dirty_init() / mirror_iteration(),
 * block/io.c bdrv_is_allocated_above() / bdrv_co_do_copy_on_readv(),
 * block.c bdrv_change_backing_file() / bdrv_drop_intermediate()'s
 * update_filename.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "messages.h"
#include "model.h"

/* Is the cluster at OFF allocated in TOP's chain in world W above BASE, not
 * counting DEST (bdrv_is_allocated_above())?  Beyond the end of the first layer
 * asked nothing is (MODEL_CHAIN_EOF: stream_run() stops there); the zeroes
 * beyond the end of a shorter layer below it count as allocated there
 * (bdrv_co_common_block_status_above()).  A cluster a lower layer ends
 * inside has that layer's own status first: what the layer (or one below
 * it) holds there is its run, which goes on from the clusters before it
 * (the layer's run is clamped at its end, not cut at the cluster before:
 * regress/194, 195); only if nothing holds it do the zeroes past the end
 * make it allocated.  For MODEL_CHAIN_ALLOC, RUN (if not NULL) says where
 * from. */
int model_job_chain_status(ModelState *st, ModelWorld *w, ModelNode *top, ModelNode *base,
                           ModelNode *dest, uint64_t off, uint64_t len, ModelChainRun *run)
{
    bool first = true;
    const ModelNode *ends_inside = NULL;    /* the first lower layer that ends in the cluster */
    for (ModelNode *it = top; it && it != base; it = model_graph_filter_or_cow(w, it)) {
        if (it == dest || it->drv->kind == BG_DRV_FILTER)
            continue;
        uint64_t end = len - off < MODEL_CLUSTER ? len : off + MODEL_CLUSTER;
        uint64_t it_len = model_open_length(st, w, it);
        if (first && off >= it_len)
            return MODEL_CHAIN_EOF;
        if (!first && off >= it_len) {
            if (run)
                *run = (ModelChainRun){ it->id, MODEL_RUN_PAST_END, 0 };
            return MODEL_CHAIN_ALLOC;
        }
        if (!first && end > it_len && !ends_inside)
            ends_inside = it;
        first = false;
        uint64_t cl = off / MODEL_CLUSTER;
        if (model_io_allocated(st, w, it, cl)) {
            /* a raw layer's run is that of the node below it that answers */
            uint64_t scl = cl;
            const ModelNode *sn = model_io_status_node(st, w, it, &scl);
            const ModelFile *f = sn && strcmp(sn->drv->name, "qcow2") == 0
                                     ? model_open_qcow2_file(st, w, sn) : NULL;
            if (run)
                *run = f && f->qcow2 && scl < (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER
                           ? (ModelChainRun){ it->id, f->cl[scl], f->host[scl] }
                           : (ModelChainRun){ it->id, MODEL_RUN_DATA, 0 };
            return MODEL_CHAIN_ALLOC;
        }
    }
    if (ends_inside) {
        if (run)
            *run = (ModelChainRun){ ends_inside->id, MODEL_RUN_PAST_END, 0 };
        return MODEL_CHAIN_ALLOC;
    }
    return MODEL_CHAIN_FREE;
}

/*
 * Does the MODEL_CHAIN_ALLOC cluster NEXT continue the block-status run of the
 * cluster before it, PREV?  bdrv_is_allocated_above() answers one run of
 * the layer that holds the data (qcow2: count_contiguous_subclusters(),
 * one cluster type, data and allocated zero clusters contiguous on the
 * host, compressed clusters one by one), and stream_run() makes each run
 * one stream_populate() request, which copy-on-read writes as zeroes only
 * if all of it reads as zeroes (bdrv_co_do_copy_on_readv()).  (A run also
 * ends at an L2 slice, 8192 clusters by default, fewer with a smaller
 * l2-cache-entry-size: a stream's runs check it, run_slice(), and so do a
 * copy-on-read filter's, model_io.c copy_on_read(); a mirror's do not.)
 */
bool model_job_run_continues(const ModelChainRun *prev, const ModelChainRun *next)
{
    if (prev->layer != next->layer || prev->type != next->type ||
        prev->type == MODEL_CL_COMPRESSED)
        return false;
    if (prev->type == MODEL_CL_ZERO && !prev->host != !next->host)
        return false;                           /* ZERO_PLAIN, ZERO_ALLOC */
    bool on_host = prev->type == MODEL_CL_DATA || (prev->type == MODEL_CL_ZERO && prev->host);
    return !on_host || next->host == prev->host + 1;
}

/*
 * qcow2_get_host_offset() answers at most to the end of an L2 slice
 * (model_qcow2_l2_slice_clusters()), so a stream's block-status run ends
 * at the slice of each qcow2 layer its queries pass: DEST's first
 * (stream_run()'s bdrv_is_allocated() of its top), then those from TOP
 * down to the layer LAYER that holds the run (every layer for a run none
 * holds, LAYER 0).  A raw layer is not looked through.
 */
static uint64_t run_slice(ModelWorld *w, ModelNode *top, ModelNode *base, ModelNode *dest,
                          int layer)
{
    uint64_t s = strcmp(dest->drv->name, "qcow2") == 0 ? model_qcow2_l2_slice_clusters(dest)
                                                       : UINT64_MAX;
    for (ModelNode *it = top; it && it != base; it = model_graph_filter_or_cow(w, it)) {
        if (it == dest || it->drv->kind == BG_DRV_FILTER)
            continue;
        if (strcmp(it->drv->name, "qcow2") == 0 && model_qcow2_l2_slice_clusters(it) < s)
            s = model_qcow2_l2_slice_clusters(it);
        if (it->id == layer)
            break;
    }
    return s;
}

/*
 * Copy what TOP's chain above BASE holds into DEST, in the units QEMU
 * copies: runs of at most 512 KiB (STREAM_CHUNK, COMMIT_BUFFER_SIZE; an
 * active commit's mirror: 1 MiB of data, 16 MiB of zeroes) of
 * clusters that DEST does not hold and the chain does (a stream's and a
 * mirror's runs also end where the block-status run of the layer holding
 * them does: model_job_run_continues()).  Stream copies on
 * read (bdrv_co_do_copy_on_readv()): a run that reads as zeroes is written
 * as zeroes (ZERO_WRITE), any other run as data, whole.  Active commit is
 * a mirror (mirror_iteration()): a run of whole clusters that block status
 * down TOP's whole chain says reads as zeroes without data
 * (MIRROR_METHOD_ZERO) is a zero write with MAY_UNMAP (commit_active_start()
 * passes unmap=true), which allocates no data cluster in the base.
 */
/* STREAM_CHUNK and COMMIT_BUFFER_SIZE (512 KiB); the mirror's data requests
 * are at most max_io_bytes = MAX(buf_size / MAX_IN_FLIGHT, MAX_IO_BYTES),
 * 1 MiB, and a run without data at most the buf_size that mirror_iteration()
 * looks ahead (DEFAULT_MIRROR_BUF_SIZE, 16 MiB) */
#define STREAM_CHUNK    (8 * MODEL_CLUSTER)
#define MIRROR_MAX_IO   (16 * MODEL_CLUSTER)
#define MIRROR_BUF_SIZE (256 * MODEL_CLUSTER)

/* MIRROR_METHOD_ZERO for the cluster at OFF of an active commit's TOP?  Its
 * block status must say zeroes for the whole cluster in one run: a layer of
 * TOP's chain that ends inside the cluster ends the run there
 * (bdrv_block_status_above() answers up to its end, and beyond it "zeroes
 * past the end" as a run of its own), and mirror_iteration() copies a run
 * shorter than a granule as data, the whole granule. */
static bool mirror_zero(ModelState *st, ModelNode *top, uint64_t off, uint64_t len, int how)
{
    if (how != MODEL_COPY_MIRROR || off % MODEL_CLUSTER || off + MODEL_CLUSTER > len)
        return false;
    for (ModelNode *it = top; it; it = model_graph_filter_or_cow(st->w, it)) {
        uint64_t end = model_open_length(st, st->w, it);
        if (end > off && end < off + MODEL_CLUSTER)
            return false;
    }
    return model_io_reads_as_zero(st, top, off, MODEL_CLUSTER) == 1;
}
/* The copy's requests go to TOP's chain and to DEST (under TOP or its
 * filters): one that fails is the job's error (commit_run(),
 * mirror_read_complete() / mirror_write_complete(), stream_run() call
 * block_job_error_action()), which the model does not follow.  A read of
 * the copy may fire a rule's event, so this is asked at every run.  What
 * the job leaves (images, graph, its own state) is unknown: st->lost makes
 * every later step unsupported. */
static bool job_may_fail(ModelState *st, const ModelNode *top, const ModelNode *dest)
{
    if (!model_blkdebug_job_may_fail(st->w, top) && !model_blkdebug_job_may_fail(st->w, dest))
        return false;
    st->unsupported = st->lost = "a job's copy through a blkdebug node with an active error "
                                 "rule (block_job_error_action(), BLOCK_JOB_ERROR, is not "
                                 "modelled)";
    return true;
}
void model_job_copy_data(ModelState *st, ModelNode *top, ModelNode *base, ModelNode *dest,
                         int how)
{
    bool zero_write = how == MODEL_COPY_STREAM;
    ModelWorld *w = st->w;
    /* a stream's copy-on-read writes through the filters between its device
     * and the image it fills; a compress filter there makes them
     * compressed writes, cluster by cluster, which the model does not copy */
    for (ModelNode *f = top; how == MODEL_COPY_STREAM && f && f != dest; f = model_graph_filtered(w, f))
        if (strcmp(f->drv->name, "compress") == 0) {
            st->unsupported = "a stream through a compress filter (compressed copies)";
            return;
        }
    uint64_t len = model_open_length(st, w, top);
    if (job_may_fail(st, top, dest))
        return;
    /* qcow2 makes its host requests through bs->file, whatever node that
     * is: a filter there passes them to the image's file node below it */
    ModelFile *df = strcmp(dest->drv->name, "qcow2") == 0 ? model_open_qcow2_file(st, w, dest)
                                                          : NULL;
    if (!df || !df->qcow2) {
        /* a raw image below DEST (through filters, a file node), or DEST
         * not a qcow2 node (a filter over one; raw over a qcow2 file writes
         * its bytes): the copy is a plain write through DEST, run by run,
         * an active commit's MIRROR_METHOD_ZERO runs a zero write with
         * MAY_UNMAP */
        for (uint64_t off = 0, n; off < len; off += n) {
            if (job_may_fail(st, top, dest))
                return;
            int ch = model_job_chain_status(st, w, top, base, dest, off, len, NULL);
            if (ch == MODEL_CHAIN_EOF)
                break;
            bool mz = ch == MODEL_CHAIN_ALLOC && mirror_zero(st, top, off, len, how);
            uint64_t chunk = how != MODEL_COPY_MIRROR ? STREAM_CHUNK
                             : mz                ? MIRROR_BUF_SIZE : MIRROR_MAX_IO;
            for (n = MODEL_CLUSTER; off + n < len && n < chunk; n += MODEL_CLUSTER)
                if (model_job_chain_status(st, w, top, base, dest, off + n, len, NULL) != ch ||
                    (ch == MODEL_CHAIN_ALLOC && mirror_zero(st, top, off + n, len, how) != mz))
                    break;
            if (off + n > len)
                n = len - off;
            if (ch != MODEL_CHAIN_ALLOC)
                continue;
            if (mz) {
                ModelIoStatus ios = {0};
                if (model_io_pwrite(st, dest, off, n, NULL, MODEL_WR_ZERO | MODEL_WR_MAY_UNMAP,
                                    &ios) || ios.unsupported)
                    st->unsupported = ios.unsupported ? ios.unsupported
                                                      : "a job's zero write the model could not do";
                if (st->unsupported)
                    return;
                continue;
            }
            uint8_t *buf = bg_calloc(n, 1);
            const char *unsupported = NULL;
            ModelIoStatus ios = {0};
            if (!model_io_read(st, top, off, n, buf, &unsupported))
                st->unsupported = unsupported;
            else if (model_io_pwrite(st, dest, off, n, buf, 0, &ios) || ios.unsupported)
                st->unsupported = ios.unsupported ? ios.unsupported
                                                  : "a job's copy the model could not write";
            free(buf);
            if (st->unsupported)
                return;
        }
        return;
    }
    for (uint64_t off = 0, n; off < len; off += n) {
        if (job_may_fail(st, top, dest))
            return;
        bool zero;
        bool held = dest != base && model_image_qcow2_allocated(df, off / MODEL_CLUSTER, &zero);
        ModelChainRun run = {0}, next = {0};
        int ch = held ? MODEL_CHAIN_FREE
                      : model_job_chain_status(st, w, top, base, dest, off, len, &run);
        if (ch == MODEL_CHAIN_EOF)
            break;
        bool mz = !held && ch == MODEL_CHAIN_ALLOC && mirror_zero(st, top, off, len, how);
        uint64_t chunk = how != MODEL_COPY_MIRROR ? STREAM_CHUNK : mz ? MIRROR_BUF_SIZE : MIRROR_MAX_IO;
        uint64_t slice = how != MODEL_COPY_STREAM ? UINT64_MAX
                         : held             ? run_slice(w, NULL, base, dest, 0)
                         : run_slice(w, top, base, dest, ch == MODEL_CHAIN_ALLOC ? run.layer : 0);
        for (n = MODEL_CLUSTER; off + n < len && n < chunk; n += MODEL_CLUSTER) {
            bool h = dest != base &&
                     model_image_qcow2_allocated(df, (off + n) / MODEL_CLUSTER, &zero);
            bool alloc = !held && ch == MODEL_CHAIN_ALLOC;
            if (h != held || (off + n) / MODEL_CLUSTER % slice == 0 ||
                (!held &&
                 model_job_chain_status(st, w, top, base, dest, off + n, len, &next) != ch) ||
                (alloc && mirror_zero(st, top, off + n, len, how) != mz) ||
                (alloc && how != MODEL_COPY_COMMIT && !model_job_run_continues(&run, &next)))
                break;
            run = next;
        }
        if (off + n > len)
            n = len - off;
        if (held || ch != MODEL_CHAIN_ALLOC || off >= df->vsize)
            continue;
        uint64_t whole = (n + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
        uint64_t room = (df->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER - off;
        if (whole > room)                     /* never past the image's end */
            whole = n = room;
        if (mz) {
            if (!model_io_qcow2_change(st, w, dest, &st->unsupported))
                return;
            BgError e = {0};
            model_image_qcow2_write(df, off, whole, NULL, true, true, false, &e);
            model_io_host_grew(w, dest, df);
            if (df->unsupported) {
                st->unsupported = df->unsupported;
                return;
            }
            continue;
        }
        uint8_t *buf = bg_calloc(whole, 1);
        const char *unsupported = NULL;
        /* the top ends inside this cluster: the copy ends there too
         * (mirror_clip_bytes(), commit_run()'s last chunk), and the qcow2
         * write's copy-on-write keeps what a longer DEST holds after it */
        uint64_t dest_len = model_open_length(st, w, dest);
        uint64_t tail_end = off + whole < dest_len ? off + whole : dest_len;
        if (!model_io_read(st, top, off, n, buf, &unsupported) ||
            (off + n < tail_end &&
             !model_io_read(st, dest, off + n, tail_end - off - n, buf + n, &unsupported))) {
            st->unsupported = unsupported;      /* the step that drove the job says so */
            free(buf);
            continue;
        }
        if (!model_io_qcow2_change(st, w, dest, &st->unsupported)) {
            free(buf);
            return;
        }
        bool zeroes = zero_write;
        for (uint64_t i = 0; i < n && zeroes; i++)
            zeroes = buf[i] == 0;
        BgError e = {0};
        model_qcow2_linked(dest, model_image_qcow2_write(df, off, whole, buf, zeroes, false, false, &e));
        model_io_host_grew(w, dest, df);
        free(buf);
        if (df->unsupported) {
            st->unsupported = df->unsupported;
            return;
        }
    }
}

/*
 * commit_run() / mirror_run() (active commit): a base shorter than the top
 * is grown to the top's length before anything is copied (blk_truncate(),
 * PREALLOC_MODE_OFF; commit_start() took RESIZE on it for that).  Filters
 * pass it to their child (cor, throttle, blkdebug, compress); a file node
 * grows its host file (raw_co_truncate(); a qcow2 image's file grown that
 * way is not modelled); null-co,
 * quorum, blkverify and a raw node with a fixed size cannot grow: -ENOTSUP,
 * and the job fails.  When the qcow2 image's own backing file is longer
 * than it was, bdrv_co_truncate() asks for zeroes in the new area
 * (BDRV_REQ_ZERO_WRITE), so that the old backing file's bytes do not show
 * through: qcow2_co_truncate() makes the whole new clusters zero clusters
 * (qcow2_subcluster_zeroize(), no unmap) and writes explicit zeroes into
 * the rest of the old last cluster.  A raw image growing is not modelled.
 */
int model_job_grow_base(ModelState *st, ModelNode *top, ModelNode *base)
{
    ModelWorld *w = st->w;
    uint64_t len = model_open_length(st, w, top), old = model_open_length(st, w, base);
    if (len <= old)
        return 0;
    /* the growth's own requests through a blkdebug node with an error rule
     * may fail, and the job with them before it copies anything */
    if (model_blkdebug_job_may_fail(w, base)) {
        st->unsupported = st->lost = "a job growing its base through a blkdebug node with an "
                                     "error rule";
        return 0;
    }
    ModelNode *n = base;
    while (n->drv->kind == BG_DRV_FILTER && strcmp(n->drv->name, "quorum") != 0 &&
           strcmp(n->drv->name, "blkverify") != 0 && model_graph_filtered(w, n))
        n = model_graph_filtered(w, n);
    const char *d = n->drv->name;
    if (strcmp(d, "file") == 0) {
        /* raw_co_truncate(): ftruncate() grows the host file with zeroes */
        ModelFile *f = n->filename ? model_image_find(&st->files, n->filename) : NULL;
        if (!f || f->qcow2) {
            st->unsupported = "a job growing an image file through a file node is not modelled";
            return 0;
        }
        if (len > f->len)
            f->len = len;
        f->gen++;
        for (ModelNode *x = base; x; x = x == n ? NULL : model_graph_filtered(w, x))
            x->total = len;                   /* refresh_total_sectors() on each level */
        return 0;
    }
    if (strcmp(d, "qcow2") != 0) {
        if (strcmp(d, "raw") == 0 && !n->has_size) {
            st->unsupported = "a job growing a raw image is not modelled";
            return 0;
        }
        return -ENOTSUP;
    }
    ModelFile *mf = model_open_qcow2_file(st, w, n);     /* through filters, as model_job_copy_data() */
    if (!mf || !mf->qcow2) {
        /* a reopen gave the qcow2 node a `file` that is not its image (a raw
         * node over another file): qcow2_co_truncate() writes the new size
         * and L1 table there, and the node is longer from here on */
        st->unsupported = st->lost = "a job growing a qcow2 node whose file chain does not end "
                                     "in its image";
        return 0;
    }
    if (!model_io_qcow2_change(st, w, n, &st->unsupported))
        return 0;
    old = model_open_length(st, w, n);
    ModelNode *backing = model_graph_backing(w, n);
    bool zero = backing && model_open_length(st, w, backing) > old;
    model_image_qcow2_grow(mf, len);
    model_io_host_grew(w, n, mf);
    for (ModelNode *x = base; x; x = x == n ? NULL : model_graph_filtered(w, x))
        x->total = len;                       /* refresh_total_sectors() on each level */
    if (!zero)
        return 0;
    uint64_t zero_start = (old + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
    BgError e = {0};
    if (len > zero_start) {
        model_image_qcow2_write(mf, zero_start, len - zero_start, NULL, true, false, false, &e);
        model_io_host_grew(w, n, mf);
    }
    if (zero_start > old) {
        /* the driver's own write (no detect-zeroes); the model writes
         * through the node, which has the same effect unless detect-zeroes is on */
        uint64_t k = (zero_start < len ? zero_start : len) - old;
        uint8_t *zeroes = bg_calloc(k, 1);
        ModelIoStatus io = {0};
        model_io_pwrite(st, n, old, k, zeroes, 0, &io);
        free(zeroes);
    }
    if (mf->unsupported && !st->unsupported)
        st->unsupported = mf->unsupported;
    return 0;
}

/*
 * The backing file name and format written into N's header for BASE:
 * stream_prepare() names the base below its filters (unfiltered_base);
 * commit, through bdrv_drop_intermediate() and the child's update_filename
 * (bdrv_child_cb_update_filename()), names the base node itself, so a
 * filter there is written as its json: file name and its driver.
 */
void model_job_set_header_backing(ModelState *st, ModelNode *n, ModelNode *base, const char *str,
                                  bool skip_filters)
{
    /* qcow2_change_backing_file() writes the header through bs->file (filters
     * there pass it on) */
    ModelFile *mf = strcmp(n->drv->name, "qcow2") == 0 ? model_open_qcow2_file(st, st->w, n)
                                                       : NULL;
    /* a file chain that does not end in the image N opened (a reopen gave
     * it a qcow2 node or another image's file as its `file`): the header
     * goes into bytes the model does not follow (regress/210) */
    const char *foreign = NULL;
    if (strcmp(n->drv->name, "qcow2") == 0 &&
        (!mf || !mf->qcow2 || model_io_qcow2_foreign(n, mf, &foreign))) {
        st->unsupported = st->lost = "a backing name written into a qcow2 header through a file "
                                     "chain that does not end in the image the node opened";
        return;
    }
    free(n->backing_file);
    free(n->backing_fmt);
    free(n->auto_backing_file);
    n->backing_file = n->backing_fmt = n->auto_backing_file = NULL;
    if (base) {
        if (skip_filters)
            base = model_graph_skip_filters(st->w, base);
        n->backing_file = str ? bg_strdup(str) : model_query_filename(st, st->w, base);
        n->backing_fmt = bg_strdup(base->drv->name);
        n->auto_backing_file = bg_strdup(n->backing_file);
    }
    if (mf && mf->qcow2) {
        free(mf->backing);
        free(mf->backing_fmt);
        mf->backing = n->backing_file ? bg_strdup(n->backing_file) : NULL;
        mf->backing_fmt = n->backing_fmt ? bg_strdup(n->backing_fmt) : NULL;
        mf->gen++;
    }
}

/*
 * The nodes that use N as their COW (backing) child, oldest edge first:
 * bdrv_drop_intermediate() prepends N's parents (newest first) to its
 * updated_children list.  Only these get a new header name
 * (bdrv_child_cb_update_filename()); a filter's `file` child or a
 * blkdebug's `image` is left alone.  Ids, owned; *N_OUT entries.
 */
int *model_job_cow_parents(const ModelWorld *w, const ModelNode *n, size_t *n_out)
{
    int *ids = NULL;
    uint64_t *seqs = NULL;
    size_t k = 0;
    for (size_t i = 0; i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children; c++) {
            const ModelChild *ch = &w->nodes[i]->children[c];
            if (ch->node != n->id || !(ch->role & MODEL_ROLE_COW))
                continue;
            ids = bg_realloc(ids, (k + 1) * sizeof(*ids));
            seqs = bg_realloc(seqs, (k + 1) * sizeof(*seqs));
            size_t at = k++;
            while (at > 0 && seqs[at - 1] > ch->seq) {
                ids[at] = ids[at - 1];
                seqs[at] = seqs[at - 1];
                at--;
            }
            ids[at] = w->nodes[i]->id;
            seqs[at] = ch->seq;
        }
    free(seqs);
    *n_out = k;
    return ids;
}

/*
 * bdrv_backing_update_filename(): a read-only PARENT is reopened
 * read-write for bdrv_change_backing_file() and read-only again, each
 * time keeping its old options (bdrv_reopen_set_read_only()).
 */
void model_job_update_filename(ModelState *st, ModelNode *parent, ModelNode *base, const char *str)
{
    bool read_only = parent->read_only;
    BgError ignore = {0};
    if (read_only && !model_reopen_set_read_only(st, st->w, parent, false, &ignore)) {
        /* QEMU fails the commit here (commit_prepare()): not modelled */
        st->unsupported = "a commit whose overlay cannot be reopened read-write";
        return;
    }
    model_job_set_header_backing(st, parent, base, str, false);
    if (read_only)
        model_reopen_set_read_only(st, st->w, parent, true, &ignore);
}
