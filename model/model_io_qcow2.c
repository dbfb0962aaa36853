/*
 * model_io_qcow2.c: qcow2's part of the requests through the graph.
 *
 * What this is: reads of qcow2 clusters (data runs contiguous on the host,
 * compressed clusters, zero and unallocated ones through to the backing
 * node, L2 entries and data past the end of the file chain as zeroes),
 * raw reads of a qcow2 file (its data clusters, and its metadata as
 * model_image_meta.c renders it while the model knows it is on disk:
 * model_io_qcow2_meta_on_disk()), and writes (copy-on-write of
 * partial clusters, zero writes piece by piece, compressed writes as pool
 * tasks), with the cases where the model's image state cannot follow
 * QEMU's (two qcow2 nodes on one image, a layout that may differ) answered
 * "unsupported".  Split from model_io.c, which dispatches requests by
 * driver and keeps everything that is not qcow2's.
 * What it is not: the image's state itself (model_image.c) or the rules
 * of opening it (model_open.c, model_qcow2.c).
 *
 * Mirrors QEMU 7.2.0 block/qcow2.c qcow2_co_preadv_part() /
 * qcow2_co_preadv_compressed() / qcow2_co_pwritev_part() /
 * qcow2_co_pwrite_zeroes() / qcow2_co_pwritev_compressed_part() and
 * _task(), block/qcow2-cluster.c perform_cow(), qcow2_get_host_offset(),
 * block/io.c bdrv_co_do_pwrite_zeroes(), block/qcow2-cache.c (when the
 * caches are written back).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "model.h"
#include "model_io_int.h"

/* The image behind qcow2 node N, or NULL: none the model keeps, or one N
 * did not open (model_io_qcow2_foreign(): C says why). */
static ModelFile *qcow2_image(IoCtx *c, const ModelNode *n)
{
    ModelFile *mf = model_open_qcow2_file(c->st, c->w, n);
    return mf && mf->qcow2 && !model_io_qcow2_foreign(n, mf, &c->unsupported) ? mf : NULL;
}

/*
 * How far into its image file can qcow2 node N's requests reach?  Each node
 * from its `file` child down to the file node reads as zeroes what lies past
 * its own length (bdrv_aligned_preadv(), bdrv_getlength()), which a file
 * node keeps from its open: a reopen that gives N a file node opened before
 * the image grew leaves N's later clusters, and the L2 tables that map them,
 * past the end.
 */
static uint64_t host_reach(IoCtx *c, const ModelNode *n)
{
    uint64_t reach = UINT64_MAX;
    for (ModelNode *f = model_graph_file(c->w, n); f;
         f = f->drv->kind == BG_DRV_FILTER ? model_graph_filtered(c->w, f) : NULL) {
        uint64_t l = model_open_length(c->st, c->w, f);
        if (l < reach)
            reach = l;
    }
    return reach;
}

/* qcow2_image() for every request but a read, which model_io_qcow2_read() follows
 * past host_reach(): NULL also when the image reaches past it.  QEMU then
 * reads the L2 tables and refcount blocks there as zeroes into its caches
 * (emptied by each reopen of N, qcow2_update_options_prepare()), and a
 * write or block status goes by them: the model, keeping one cluster map
 * per image, does not follow. */
ModelFile *model_io_qcow2_file(IoCtx *c, const ModelNode *n)
{
    ModelFile *mf = qcow2_image(c, n);
    if (mf && host_reach(c, n) < mf->host_len) {
        if (!c->unsupported)
            c->unsupported = "a qcow2 request other than a read while its image reaches past the "
                             "end of its file chain (QEMU reads the metadata there as zeroes)";
        return NULL;
    }
    return mf;
}

/* The kind of guest cluster CL of F as qcow2 node reading up to REACH of its
 * file sees it (qcow2_get_host_offset()): an L2 entry past REACH reads as
 * zero, an unallocated cluster. */
static int cluster_kind(const ModelFile *f, uint64_t cl, uint64_t reach)
{
    uint64_t l2 = cl / (MODEL_CLUSTER / 8) < f->n_l1 ? f->l2[cl / (MODEL_CLUSTER / 8)] : 0;
    if (l2 && l2 * MODEL_CLUSTER + cl % (MODEL_CLUSTER / 8) * 8 + 8 > reach)
        return MODEL_CL_UNALLOC;
    return f->cl[cl];
}

/*
 * Does the qcow2 node N's file hold an image other than the one N opened?
 * Only after a reopen gave N the file of another image: QEMU 7.2 keeps the
 * header and L1 table it read at open (qcow2_reopen_prepare() reads
 * neither again) and maps N's requests through them onto the new file's
 * clusters, which the model, keeping each image's clusters with its file,
 * does not follow.
 */
bool model_io_qcow2_foreign(const ModelNode *n, const ModelFile *f, const char **unsupported)
{
    if (!n->qcow2_image)
        return false;
    if (strcmp(n->qcow2_image, f->path) != 0) {
        if (!*unsupported)
            *unsupported = "a qcow2 request after a reopen gave the node the file of another "
                           "image (QEMU maps it through the L1 table of the image it opened)";
        return true;
    }
    if (n->qcow2_serial != f->serial) {
        if (!*unsupported)
            *unsupported = "a qcow2 request after img-create made the node's image anew (QEMU "
                           "maps it through the L1 table of the image it opened)";
        return true;
    }
    return false;
}

/* qcow2_co_preadv_compressed(): a compressed cluster is one read of its
 * bytes from the file, from their offset to the end of the last 512-byte
 * sector they touch (qcow2_parse_compressed_l2_entry()), which blkdebug's
 * active rules see as they see any other read (the READ_COMPRESSED event
 * before it changes nothing: the model keeps no rules for that event). */
static int compressed_read(IoCtx *c, const ModelNode *n, const ModelFile *f, uint64_t cl)
{
    uint64_t end = (f->coff[cl] + f->clen[cl] + 511) / 512 * 512;
    return model_io_file_chain(c, n, (int64_t)f->coff[cl], end - f->coff[cl], MODEL_IO_READ);
}

int model_io_qcow2_no_image(IoCtx *c)
{
    if (!c->unsupported)
        c->unsupported = "qcow2 over a node the model keeps no image for";
    return -ENOTSUP;
}

/*
 * qcow2_get_host_offset() and the other L2 walks load the L2 slice of a
 * cluster into the L2 cache (qcow2_cache_get(): a read of the slice through
 * bs->file) unless it is there.  The cache starts empty at the node's open
 * and at each reopen (qcow2_update_options_prepare() makes new caches) and,
 * at its default size, keeps every slice of the images the model holds.
 * That read meets the active blkdebug rules for reads on its way, also for
 * a request that reads no data (an unallocated cluster, a write): regress/206.
 */
static int l2_load(IoCtx *c, ModelNode *n, const ModelFile *f, uint64_t cl)
{
    uint64_t entries = MODEL_CLUSTER / 8, t = cl / entries;
    if (t >= f->n_l1 || !f->l2[t])
        return 0;                              /* no table: nothing to load */
    uint64_t s = model_qcow2_l2_slice_clusters(n), slice = cl / s;
    if (slice < 64 && (n->l2_warm >> slice) & 1)
        return 0;
    bool rule = model_blkdebug_chain_rule(c->w, n, 1u << MODEL_IO_READ);
    if (rule && (slice >= 64 || model_qdict_has(n->options, "l2-cache-size") ||
                 model_qdict_has(n->options, "cache-size"))) {
        if (!c->unsupported)
            c->unsupported = "an L2 slice the model does not know to be cached, below an active "
                             "blkdebug rule for reads";
        return -ENOTSUP;
    }
    if (rule) {
        int64_t host = (int64_t)(f->l2[t] * MODEL_CLUSTER + (cl % entries) / s * s * 8);
        int r = model_io_file_chain(c, n, host, s * 8, MODEL_IO_READ);
        if (r)
            return r;
    }
    if (slice < 64)
        n->l2_warm |= 1ull << slice;
    return 0;
}

int model_io_qcow2_l2_load(IoCtx *c, ModelNode *n, const ModelFile *f, uint64_t off, uint64_t len)
{
    for (uint64_t cl = off / MODEL_CLUSTER; len && cl <= (off + len - 1) / MODEL_CLUSTER; cl++) {
        int r = l2_load(c, n, f, cl);
        if (r)
            return r;
    }
    return 0;
}

/* qcow2_co_preadv_part(): contiguous data clusters are one request to the
 * file (an event on the file child first), a compressed cluster one of its
 * own; EVENTS is false for the model's own copy-on-write reads of whole
 * clusters, which QEMU makes only of the clusters a write covers in part
 * (model_io_qcow2_write() checks those). */
int model_io_qcow2_read(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                        bool events)
{
    ModelFile *f = qcow2_image(c, n);
    if (!f)
        return model_io_qcow2_no_image(c);
    ModelNode *backing = model_graph_backing(c->w, n);
    uint64_t blen = backing ? model_open_length(c->st, c->w, backing) : 0;
    uint64_t reach = host_reach(c, n);
    while (len) {
        uint64_t cl = off / MODEL_CLUSTER;
        uint64_t n_here = MODEL_CLUSTER - off % MODEL_CLUSTER;
        if (n_here > len)
            n_here = len;
        int kind = cluster_kind(f, cl, reach);
        if (events) {
            int r = l2_load(c, n, f, cl);
            if (r)
                return r;
        }
        if (kind == MODEL_CL_DATA) {
            /* the run of data clusters contiguous on the host, in one L2 table */
            while (n_here < len &&
                   cluster_kind(f, cl + (off % MODEL_CLUSTER + n_here) / MODEL_CLUSTER, reach) ==
                       MODEL_CL_DATA &&
                   f->host[cl + (off % MODEL_CLUSTER + n_here) / MODEL_CLUSTER] ==
                       f->host[cl] + (off % MODEL_CLUSTER + n_here) / MODEL_CLUSTER &&
                   (cl + (off % MODEL_CLUSTER + n_here) / MODEL_CLUSTER) / 8192 == cl / 8192) {
                uint64_t more = len - n_here < MODEL_CLUSTER ? len - n_here : MODEL_CLUSTER;
                n_here += more;
            }
            if (events) {
                /* a run of several slices loads each (smaller l2-cache-entry-size) */
                int r = model_io_qcow2_l2_load(c, n, f, off, n_here);
                if (r)
                    return r;
                model_blkdebug_event(model_graph_file(c->w, n), MODEL_DBG_READ_AIO);
                int64_t host = (int64_t)(f->host[cl] * MODEL_CLUSTER + off % MODEL_CLUSTER);
                r = model_io_file_chain(c, n, host, n_here, MODEL_IO_READ);
                if (r)
                    return r;
            }
            model_sparse_read(&f->data, off, n_here, buf);
            /* bdrv_aligned_preadv() down the file chain: the host bytes past
             * its end read as zeroes */
            uint64_t host = f->host[cl] * MODEL_CLUSTER + off % MODEL_CLUSTER;
            if (host + n_here > reach) {
                uint64_t in = host < reach ? reach - host : 0;
                memset(buf + in, 0, n_here - in);
            }
        } else if (kind == MODEL_CL_COMPRESSED) {
            if (f->coff[cl] + f->clen[cl] > reach) {
                /* zeroes for some of the deflate stream: qcow2_co_decompress()
                 * decides what comes of it */
                if (!c->unsupported)
                    c->unsupported = "a compressed cluster past the end of its qcow2 node's file chain";
                return -ENOTSUP;
            }
            if (events) {
                int r = compressed_read(c, n, f, cl);
                if (r)
                    return r;
            }
            model_sparse_read(&f->data, off, n_here, buf);
        } else if (kind != MODEL_CL_UNALLOC) {
            model_sparse_read(&f->data, off, n_here, buf);     /* zero */
        } else {
            /* qcow2_co_preadv_part(): zeroes without a backing node; with
             * one, the request goes to it as it is (a null node without
             * read-zeroes leaves the buffer untouched) and only what lies
             * past its end is zeroed (bdrv_aligned_preadv()) */
            uint64_t m = 0;
            if (backing && off < blen) {
                m = off + n_here <= blen ? n_here : blen - off;
                int r = model_io_node_read(c, backing, off, m, buf);
                if (r)
                    return r;
            }
            memset(buf + m, 0, n_here - m);
        }
        off += n_here;
        buf += n_here;
        len -= n_here;
    }
    return 0;
}

/* A `file` node holding a qcow2 image: its bytes as model_image_meta.c
 * renders them, the L2 tables and refcount blocks only while they are on
 * disk (model_io_qcow2_meta_on_disk()); what the model does not know makes
 * the read's bytes unknown. */
void model_io_qcow2_raw_read(IoCtx *c, const ModelFile *f, uint64_t off, uint64_t len, uint8_t *buf)
{
    bool cached = model_io_qcow2_meta_on_disk(c->st, c->w, f);
    /* a whole cluster is rendered into BUF itself, a part of one into
     * CLUSTER; KNOWN is read only when some of a cluster's bytes are known
     * and others not.  Both are kept for reuse (bigbuf.h): a comparison
     * renders every cluster of a file node's image */
    uint8_t *cluster = NULL, *known = NULL;
    while (len) {
        /* one host cluster at a time */
        uint64_t h = off / MODEL_CLUSTER, o = off % MODEL_CLUSTER;
        uint64_t n = MODEL_CLUSTER - o < len ? MODEL_CLUSTER - o : len;
        if (off >= f->host_len) {
            memset(buf, 0, n);
        } else {
            if (!known)
                known = bg_bigbuf_get(MODEL_CLUSTER);
            int k;
            if (n == MODEL_CLUSTER) {
                k = model_image_meta_cluster(f, h, cached, buf, known);
            } else {
                if (!cluster)
                    cluster = bg_bigbuf_get(MODEL_CLUSTER);
                k = model_image_meta_cluster(f, h, cached, cluster, known);
                memcpy(buf, cluster + o, n);
            }
            if (k == MODEL_META_NONE || (k == MODEL_META_SOME && memchr(known + o, 0, n))) {
                c->unknown = true;
                /* which bytes: in the request's buffer, or lost */
                if (c->known && buf >= c->known_buf && buf + n <= c->known_buf + c->known_len) {
                    uint8_t *kb = c->known + (buf - c->known_buf);
                    if (k == MODEL_META_NONE)
                        memset(kb, 0, n);
                    else
                        for (uint64_t i = 0; i < n; i++)
                            kb[i] &= known[o + i];
                } else {
                    c->known_lost = true;
                }
            }
        }
        off += n;
        buf += n;
        len -= n;
    }
    bg_bigbuf_put(cluster);
    bg_bigbuf_put(known);
}

/*
 * Are the L2 tables and refcount blocks of F on disk as the model keeps
 * them?  QEMU's qcow2 holds their changes in write-back caches
 * (block/qcow2-cache.c) and writes them to the file when it flushes them:
 * qcow2_co_flush_to_os() (bdrv_flush(): qemu-io's flush), a reopen
 * (qcow2_update_options_prepare() flushes both caches before it makes new
 * ones), and at close (qcow2_inactivate()).  So they are on disk unless a
 * qcow2 node open read-write on F (in the VM's world or in W) has changed
 * them since its open or its last such flush (ModelNode.qcow2_gen behind
 * ModelFile.meta_gen).  A cache evicting an entry earlier only writes more
 * of the change; the model does not follow that and says "unknown".
 */
bool model_io_qcow2_meta_on_disk(ModelState *st, const ModelWorld *w, const ModelFile *f)
{
    const ModelWorld *worlds[2] = { st->w, w };
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; worlds[k] && i < worlds[k]->n_nodes; i++) {
            const ModelNode *o = worlds[k]->nodes[i];
            if (strcmp(o->drv->name, "qcow2") != 0 || o->read_only)
                continue;
            bool own = o->qcow2_image && strcmp(o->qcow2_image, f->path) == 0;
            bool on = model_open_qcow2_file(st, worlds[k], o) == f;
            /* a reopen gave O another image's file, or F's image another
             * file, or img-create made F anew under O: where its caches go
             * is not followed */
            if (own != on || (own && (o->qcow2_serial != f->serial || o->qcow2_gen != f->meta_gen)))
                return false;
        }
    }
    return true;
}

bool model_io_qcow2_stale_flush(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    if (strcmp(n->drv->name, "qcow2") == 0 && n->qcow2_changed && n->qcow2_image) {
        const ModelFile *f = model_image_find(&st->files, n->qcow2_image);
        if (!f || f->serial != n->qcow2_serial)
            return true;
    }
    for (size_t i = 0; i < n->n_children; i++)
        if (model_io_qcow2_stale_flush(st, w, model_graph_node(w, n->children[i].node)))
            return true;
    return false;
}

void model_io_qcow2_written_back(ModelState *st, const ModelWorld *w, ModelNode *n)
{
    const ModelFile *f = strcmp(n->drv->name, "qcow2") == 0 ? model_open_qcow2_file(st, w, n) : NULL;
    if (f && n->qcow2_image && strcmp(n->qcow2_image, f->path) == 0 && n->qcow2_serial == f->serial)
        n->qcow2_gen = f->meta_gen;
}

/* The model's host layout of F may differ from QEMU's from here on
 * (ModelFile.unsupported says why): the change that made it so is unsupported. */
int model_io_qcow2_layout_unknown(IoCtx *c, const ModelFile *f)
{
    if (!f->unsupported)
        return 0;
    if (!c->unsupported)
        c->unsupported = f->unsupported;
    return -ENOTSUP;
}

/*
 * A change of a qcow2 image's clusters makes metadata I/O through the
 * nodes between the qcow2 node and its file, which the model does not
 * follow (it checks blkdebug's rules for data requests only): a new L2
 * table writes its L1 entry at once and flushes the refcount cache first
 * (l2_allocate(): qcow2_cache_flush() writes the dirty refcount blocks and
 * flushes bs->file), a zero cluster or a discard is an L2 update.  With a
 * blkdebug node there whose active rules fail flushes (or, for a change
 * without data, WRITES) QEMU's request may fail where the model's data
 * request does not: not modelled (regress/198).
 */
int model_io_qcow2_meta_rules(IoCtx *c, const ModelNode *n, bool writes)
{
    unsigned types = 1u << MODEL_IO_FLUSH | (writes ? 1u << MODEL_IO_WRITE : 0);
    if (!model_blkdebug_chain_rule(c->w, n, types))
        return 0;
    c->unsupported = "a qcow2 change whose metadata writes or flushes meet an active blkdebug "
                     "rule (the model follows data requests only)";
    return -ENOTSUP;
}

/*
 * One piece of bdrv_co_do_pwrite_zeroes() (at most one partial cluster)
 * through qcow2_co_pwrite_zeroes(): a partial cluster becomes a whole zero
 * cluster when the rest of it reads as zeroes and it holds no data (the
 * image's last cluster counts as whole); otherwise -ENOTSUP, and the block
 * layer writes a buffer of zeroes instead.
 */
static int qcow2_zero_piece(IoCtx *c, ModelNode *n, ModelFile *f, uint64_t off, uint64_t len,
                            unsigned flags)
{
    uint64_t head = off % MODEL_CLUSTER;
    uint64_t tail = (off + len + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER - (off + len);
    if (off + len == model_open_length(c->st, c->w, n))
        tail = 0;
    if (head || tail) {
        int h = model_io_zero_run(c, n, off - head, head), t = model_io_zero_run(c, n, off + len, tail);
        if (h < 0 || t < 0) {
            c->unsupported = "a partial-cluster write of zeroes over a raw layer (host holes)";
            return -ENOTSUP;
        }
        bool zero;
        bool data = model_image_qcow2_allocated(f, off / MODEL_CLUSTER, &zero) && !zero;
        if (!h || !t || data) {
            uint8_t *z = bg_calloc(len, 1);
            int r = model_io_qcow2_write(c, n, off, len, z, 0);
            free(z);
            return r;
        }
        off -= head;
        len = MODEL_CLUSTER;
    }
    int r = model_io_qcow2_meta_rules(c, n, true);
    if (r)
        return r;
    BgError e = {0};
    model_image_qcow2_write(f, off, len, NULL, true, flags & MODEL_WR_MAY_UNMAP, false, &e);
    model_io_host_grew(c->w, n, f);
    return model_io_qcow2_layout_unknown(c, f);
}

/* Does a write of [OFF, OFF+LEN) allocate a cluster it covers only in
 * part (a copy-on-write region in a new cluster: the first or the last)? */
static bool new_cluster_cow(const ModelFile *f, uint64_t off, uint64_t len)
{
    uint64_t first = off / MODEL_CLUSTER, last = (off + len - 1) / MODEL_CLUSTER;
    bool cow[2] = { off % MODEL_CLUSTER != 0, (off + len) % MODEL_CLUSTER != 0 };
    uint64_t cl[2] = { first, last };
    for (int k = 0; k < 2; k++)
        if (cow[k] && !model_image_qcow2_in_place(f, cl[k]))
            return true;
    return false;
}

/* qcow2_co_pwritev_part() / pwrite_zeroes / compressed, with COW of partial
 * clusters from what the node reads now. */
int model_io_qcow2_write(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                         unsigned flags)
{
    ModelFile *f = model_io_qcow2_file(c, n);
    if (!f)
        return model_io_qcow2_no_image(c);
    uint64_t vend = f->vsize;
    if (flags & MODEL_WR_COMPRESSED) {
        if (off % MODEL_CLUSTER || (len % MODEL_CLUSTER && off + len != vend))
            return -EINVAL;
        /* qcow2_co_pwritev_compressed_part(): a task per cluster; one that
         * fails (EIO: the cluster is allocated) stops no task started
         * already, and all of them start before any finishes as long as
         * there are no more than QCOW2_MAX_WORKERS (8) */
        uint64_t l2_before = model_image_qcow2_l2_count(f);
        uint64_t n_cl = (len + MODEL_CLUSTER - 1) / MODEL_CLUSTER, n_done = 0, n_plain = 0;
        uint64_t *done = bg_calloc(n_cl, sizeof(uint64_t));
        int err = 0;
        for (uint64_t o = off; o < off + len; o += MODEL_CLUSTER) {
            int lr = l2_load(c, n, f, o / MODEL_CLUSTER);
            if (lr) {
                free(done);
                return lr;
            }
            uint8_t *cbuf = bg_calloc(MODEL_CLUSTER, 1);
            uint64_t m = off + len - o < MODEL_CLUSTER ? off + len - o : MODEL_CLUSTER;
            memcpy(cbuf, buf + (o - off), m);
            BgError e = {0};
            model_qcow2_linked(n, model_image_qcow2_write(f, o, MODEL_CLUSTER, cbuf, false, false,
                                                          true, &e));
            free(cbuf);
            if (e.set) {
                err = -EIO;
                continue;
            }
            uint64_t cl = o / MODEL_CLUSTER;
            if (f->cl[cl] == MODEL_CL_COMPRESSED)
                done[n_done++] = cl;
            else
                n_plain++;
            /* qcow2_alloc_bytes() keeps free_byte_offset when its host
             * cluster is freed; once that cluster is allocated again, the
             * next compressed bytes overwrite its data or metadata */
            if (model_image_qcow2_compressed_shares(f, cl)) {
                if (!c->unsupported)
                    c->unsupported = "a compressed write whose bytes qcow2_alloc_bytes() puts in "
                                     "the host cluster free_byte_offset points into after that "
                                     "cluster was freed and allocated again (QEMU 7.2 overwrites "
                                     "its data or metadata)";
                free(done);
                return -ENOTSUP;
            }
            if (model_io_qcow2_layout_unknown(c, f)) {
                free(done);
                return -ENOTSUP;
            }
            /* qcow2_co_pwritev_compressed_task(): the compressed bytes go to
             * the file after the L2 entry points at them; if blkdebug fails
             * that write, the cluster is left pointing at bytes never
             * written, which the model does not keep */
            int r = f->cl[cl] == MODEL_CL_COMPRESSED
                        ? model_io_file_chain(c, n, (int64_t)f->coff[cl], f->clen[cl], MODEL_IO_WRITE)
                        : model_io_file_chain(c, n, -1, MODEL_CLUSTER, MODEL_IO_WRITE);
            if (r) {
                if (!c->unsupported)
                    c->unsupported = "a compressed write that fails on a blkdebug rule (QEMU "
                                     "leaves the cluster pointing at bytes it never wrote)";
                free(done);
                return r;
            }
            r = model_io_qcow2_meta_rules(c, n, false);   /* the allocation's */
            if (r) {
                free(done);
                return r;
            }
            model_io_host_grew(c->w, n, f);
        }
        const char *why = model_image_qcow2_compressed_request(
            f, done, n_done, n_plain, model_image_qcow2_l2_count(f) != l2_before);
        free(done);
        if (!why && err && n_cl > MODEL_QCOW2_MAX_WORKERS)
            why = "a compressed write of more than 8 clusters (QCOW2_MAX_WORKERS) one of which "
                  "fails: whether QEMU starts the later tasks depends on when that one finishes";
        if (why) {
            if (!c->unsupported)
                c->unsupported = why;
            return -ENOTSUP;
        }
        return err;
    }
    uint64_t a = off / MODEL_CLUSTER * MODEL_CLUSTER;
    uint64_t b = (off + len + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER;
    if (flags & MODEL_WR_ZERO) {
        /* bdrv_co_do_pwrite_zeroes(): a head up to the first cluster
         * boundary, the aligned bulk, then the tail, each asked of qcow2 */
        int lr = model_io_qcow2_l2_load(c, n, f, off, len);
        if (lr)
            return lr;
        uint64_t end = off + len;
        while (off < end) {
            uint64_t num = end - off;
            if (off % MODEL_CLUSTER) {
                if (num > MODEL_CLUSTER - off % MODEL_CLUSTER)
                    num = MODEL_CLUSTER - off % MODEL_CLUSTER;
            } else if (end % MODEL_CLUSTER && num > MODEL_CLUSTER) {
                num -= end % MODEL_CLUSTER;
            }
            int r = qcow2_zero_piece(c, n, f, off, num, flags);
            if (r)
                return r;
            off += num;
        }
        return 0;
    }
    /* qcow2_co_pwritev_part(): a zero-length write maps no cluster, so there
     * is nothing to copy on write and nothing reaches the image */
    if (!len)
        return 0;
    int lr = model_io_qcow2_l2_load(c, n, f, off, len);    /* the L2 walk comes first */
    if (lr)
        return lr;
    /* qcow2_alloc_host_offset() makes a missing L2 table (l2_allocate()
     * writes it and its L1 entry) before the copy-on-write reads and the
     * data write, which may fail: the table stays (regress/209).  With an
     * active blkdebug rule for writes below, its own writes fail first and
     * nothing is linked (the data write below fails on the same rule) */
    bool write_rule = model_blkdebug_chain_rule(c->w, n, 1u << MODEL_IO_WRITE);
    for (uint64_t cl = off / MODEL_CLUSTER; !write_rule && cl <= (off + len - 1) / MODEL_CLUSTER;
         cl += MODEL_CLUSTER / 8 - cl % (MODEL_CLUSTER / 8)) {
        model_image_qcow2_make_l2(f, cl);
        model_io_host_grew(c->w, n, f);
    }
    /* copy-on-write: the parts of the first and the last cluster the write
     * does not cover, as the node reads them now (perform_cow() reads
     * those regions only: what the write covers is never read, so a
     * backing chain's copy-on-read filter copies nothing for it,
     * regress/200) */
    uint8_t *tmp = bg_bigbuf_get(b - a);   /* a whole request of clusters: reused, not mapped again */
    memset(tmp, 0, b - a);
    bool bounce = c->bounce;
    c->bounce = true;                      /* do_perform_cow_read()'s buffer */
    int r = off > a ? model_io_qcow2_read(c, n, a, off - a, tmp, false) : 0;
    if (!r && b > off + len)
        r = model_io_qcow2_read(c, n, off + len, b - (off + len), tmp + (off + len - a), false);
    c->bounce = bounce;
    /* perform_cow(): a compressed cluster the write covers in part (at its
     * start or its end) is read back, do_perform_cow_read() through
     * qcow2_co_preadv_part(), before the data goes out with it
     * (merge_cow()); a cluster the write covers in its middle is read once
     * or twice, and a second read meets the rules the first one passed */
    uint64_t first = off / MODEL_CLUSTER, last = (off + len - 1) / MODEL_CLUSTER;
    if (!r && off % MODEL_CLUSTER && f->cl[first] == MODEL_CL_COMPRESSED)
        r = compressed_read(c, n, f, first);
    if (!r && (off + len) % MODEL_CLUSTER && (last != first || !(off % MODEL_CLUSTER)) &&
        f->cl[last] == MODEL_CL_COMPRESSED)
        r = compressed_read(c, n, f, last);
    /* a cluster that is not data yet is allocated (metadata I/O) */
    for (uint64_t cl = first; !r && cl <= last; cl++) {
        bool zero;
        if (!model_image_qcow2_allocated(f, cl, &zero) || zero ||
            f->cl[cl] == MODEL_CL_COMPRESSED)
            r = model_io_qcow2_meta_rules(c, n, false);
    }
    if (!r) {
        r = model_io_file_chain(c, n, -1, len, MODEL_IO_WRITE);
        if (r && !c->unsupported && new_cluster_cow(f, off, len)) {
            /* qcow2_alloc_host_offset() allocated the clusters and
             * handle_alloc_space() may have written zeroes over them (when
             * their copy-on-write regions read as zeroes), growing the file,
             * before the data write failed and qcow2_alloc_cluster_abort()
             * freed them again: the image file's length is unknown from here on */
            c->unsupported = c->st->lost = "a failed qcow2 data write into new clusters with "
                                           "copy-on-write regions (handle_alloc_space() may have "
                                           "grown the file)";
            r = -ENOTSUP;
        }
    }
    if (!r) {
        memcpy(tmp + (off - a), buf, len);
        BgError e = {0};
        model_qcow2_linked(n, model_image_qcow2_write(f, a, b - a, tmp, false, false, false, &e));
        model_io_host_grew(c->w, n, f);
        r = model_io_qcow2_layout_unknown(c, f);
    }
    bg_bigbuf_put(tmp);
    return r;
}

/*
 * Two qcow2 nodes on one image file (the second through a file node with
 * locking off).  The model keeps one state per image file; each QEMU qcow2
 * node keeps the L1 table it read at open and its own writeback L2 and
 * refcount caches (block/qcow2-cache.c), written back on a flush, a reopen
 * or at close, not when a request or a job ends.  One state answers for
 * every node of an image only while
 *   1. no qcow2 node changes the image while another is open on it
 *      (the other node does not see the change: regress/075, and
 *      regress/091 for a job's copy), and
 *   2. no qcow2 node opens the image while another one that has changed it
 *      is open (the change may be in that node's caches only:
 *      test_model_io_two_qcow2_nodes_one_image).
 * Rule 1 is checked before every change a node makes (a write, a discard, a
 * job's copy or growth: model_io_qcow2_change()), which also records the
 * change for rule 2 (model_io_qcow2_unflushed(), at open).  The record is
 * never cleared: a flush would make the file current, but following when
 * QEMU flushes is not worth the model's simplicity.
 */
static const ModelNode *other_qcow2(ModelState *st, const ModelWorld *w, const ModelNode *n,
                                    bool changed_only)
{
    const ModelFile *f = model_open_qcow2_file(st, w, n);
    if (!f)
        return NULL;
    for (size_t i = 0; i < w->n_nodes; i++) {
        const ModelNode *o = w->nodes[i];
        if (o != n && strcmp(o->drv->name, "qcow2") == 0 && (!changed_only || o->qcow2_changed) &&
            model_open_qcow2_file(st, w, o) == f)
            return o;
    }
    return NULL;
}

bool model_io_qcow2_change(ModelState *st, const ModelWorld *w, ModelNode *n,
                           const char **unsupported)
{
    ModelFile *f = model_open_qcow2_file(st, w, n);
    if (f && model_io_qcow2_foreign(n, f, unsupported))
        return false;
    if (f && f->unsupported) {
        *unsupported = f->unsupported;
        return false;
    }
    if (other_qcow2(st, w, n, false)) {
        *unsupported = "a change through one of two qcow2 nodes on the same image is not "
                       "modelled (each node caches its own metadata)";
        return false;
    }
    /* the metadata on disk may stay behind the model's for good: with lazy
     * refcounts the header's dirty bit is set and the refcount cache is
     * not written at a flush (qcow2_co_flush_to_os() skips it while
     * !qcow2_need_accurate_refcounts()); a blkdebug node between N and the
     * file may fail the writes that flush its caches, at close too */
    bool blkdebug = false;
    for (ModelNode *x = model_graph_file(w, n); x;
         x = x->drv->kind == BG_DRV_FILTER ? model_graph_filtered(w, x) : NULL) {
        blkdebug |= strcmp(x->drv->name, "blkdebug") == 0;
        /* blkverify_co_pwritev() writes its test child too: a second image
         * file gets the same host writes, which the model does not keep
         * (it holds the image of the raw child's file only; regress/208) */
        if (strcmp(x->drv->name, "blkverify") == 0) {
            *unsupported = st->lost = "a qcow2 change through blkverify (its test child's file "
                                      "gets the same host writes)";
            return false;
        }
    }
    n->qcow2_changed = true;
    if (f && (blkdebug || model_qcow2_lazy_refcounts(n)))
        f->meta_lost = true;
    if (f)
        f->gen++;               /* meta_lost, and the change that follows */
    return true;
}

bool model_io_qcow2_unflushed(ModelState *st, const ModelWorld *w, const ModelNode *n)
{
    return other_qcow2(st, w, n, true) != NULL;
}
