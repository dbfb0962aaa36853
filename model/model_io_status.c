/*
 * model_io_status.c: what the model knows of a node's bytes without reading
 * them: block status.
 *
 * What this is: the node whose block status answers for a cluster (filters
 * and raw pass the query to their child, raw at its `offset`), whether a
 * cluster is allocated in a node itself (only a qcow2 image leaves clusters
 * to its backing; null-co holds zeroes only with read-zeroes), whether a
 * range reads as zeroes by block status down the whole chain (qcow2's zero
 * writes of part of a cluster, an active commit's zero runs), and how many
 * bytes a read returns that the model never stored (the comparator's
 * known_zero: unstored chunks, unallocated clusters down the backing chain).
 * Split from model_io.c, which carries the requests and asks here for
 * copy-on-read's runs; the model_io*.c files share model_io_int.h.
 * What it is not: reads, writes or discards (model_io.c, model_io_qcow2.c),
 * bdrv_is_allocated_above()'s runs down a chain for the jobs' copies and a
 * copy-on-read filter's `bottom` (model_job_copy.c), or the cluster map
 * itself (model_image.c, model_sparse.c).
 *
 * Mirrors QEMU 7.2.0 block/io.c bdrv_co_block_status() / bdrv_is_allocated()
 * and bdrv_co_block_status_from_file() (the filters), block/raw-format.c
 * raw_co_block_status(), block/null.c null_co_block_status(), block/qcow2.c
 * qcow2_co_block_status() / is_zero().
 */
#include <string.h>

#include "model.h"
#include "model_io_int.h"

/* ---- allocation --------------------------------------------------------------- */

/* The node whose block status answers for *CLUSTER of N, with *CLUSTER
 * moved to that node's: filters (bdrv_co_block_status_from_file()) and raw
 * (raw_co_block_status(), at offset + `offset`) answer BDRV_BLOCK_RAW, so
 * bdrv_co_block_status() asks their child.  NULL (c->unsupported) when a
 * raw `offset` inside a cluster would split the cluster between two of a
 * qcow2 child's clusters. */
static ModelNode *status_node(IoCtx *c, ModelNode *n, uint64_t *cluster)
{
    for (;;) {
        if (strcmp(n->drv->name, "raw") == 0 && model_graph_file(c->w, n)) {
            if (n->offset % MODEL_CLUSTER) {
                const ModelNode *below = n;
                while (below && strcmp(below->drv->name, "qcow2") != 0 &&
                       (below->drv->kind == BG_DRV_FILTER || strcmp(below->drv->name, "raw") == 0))
                    below = model_graph_file(c->w, below);
                if (below && strcmp(below->drv->name, "qcow2") == 0) {
                    if (!c->unsupported)
                        c->unsupported = "the block status of a raw node whose offset is not "
                                         "cluster-aligned over a qcow2 node";
                    return NULL;
                }
            }
            *cluster += n->offset / MODEL_CLUSTER;
            n = model_graph_file(c->w, n);
        } else if (n->drv->kind == BG_DRV_FILTER && model_graph_filtered(c->w, n)) {
            n = model_graph_filtered(c->w, n);
        } else {
            return n;
        }
    }
}

/* Is CLUSTER of N allocated in N itself (bdrv_is_allocated())?  Only a qcow2
 * image can leave clusters to its backing; null-co reports zeroes
 * (allocated) only with read-zeroes (null_co_block_status()); file reports
 * data; filters and raw ask their child (status_node()). */
bool model_io_allocated_in(IoCtx *c, ModelNode *n, uint64_t cluster)
{
    n = status_node(c, n, &cluster);
    if (!n)
        return true;
    if (strcmp(n->drv->name, "qcow2") == 0) {
        ModelFile *f = model_io_qcow2_file(c, n);
        bool zero;
        return !f || cluster >= (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER ||
               model_image_qcow2_allocated(f, cluster, &zero);
    }
    if (strcmp(n->drv->name, "null-co") == 0 || strcmp(n->drv->name, "null-aio") == 0)
        return n->read_zeroes;
    return true;
}

bool model_io_allocated(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t cluster)
{
    IoCtx c = { .st = st, .w = w };
    bool r = model_io_allocated_in(&c, n, cluster);
    if (c.unsupported && !st->unsupported)
        st->unsupported = c.unsupported;
    return r;
}

ModelNode *model_io_status_node(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t *cluster)
{
    IoCtx c = { .st = st, .w = w };
    ModelNode *r = status_node(&c, n, cluster);
    if (c.unsupported && !st->unsupported)
        st->unsupported = c.unsupported;
    return r;
}

/* ---- zeroes by block status --------------------------------------------------- */

/*
 * qcow2.c is_zero(): does [OFF, OFF+LEN) of N read as zeroes by block status
 * (bdrv_block_status_above() down the whole chain; beyond a node's end it
 * does)?  1 yes, 0 no, -1 the model cannot tell: a raw or file layer's
 * zeroes are the host file system's holes.
 */
int model_io_zero_run(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len)
{
    uint64_t vlen = model_open_length(c->st, c->w, n);
    if (off >= vlen || !len)
        return 1;
    if (off + len > vlen)
        len = vlen - off;
    if (n->drv->kind == BG_DRV_FILTER) {
        ModelNode *f = model_graph_filtered(c->w, n);
        return f ? model_io_zero_run(c, f, off, len) : -1;
    }
    if (strcmp(n->drv->name, "null-co") == 0 || strcmp(n->drv->name, "null-aio") == 0)
        return n->read_zeroes ? 1 : 0;
    ModelFile *f = strcmp(n->drv->name, "qcow2") == 0 ? model_io_qcow2_file(c, n) : NULL;
    if (!f)
        return -1;
    ModelNode *backing = model_graph_backing(c->w, n);
    for (uint64_t cl = off / MODEL_CLUSTER; cl * MODEL_CLUSTER < off + len; cl++) {
        bool zero;
        if (model_image_qcow2_allocated(f, cl, &zero)) {
            if (!zero)
                return 0;                       /* data or compressed */
            continue;
        }
        if (!backing)
            continue;
        uint64_t s = off > cl * MODEL_CLUSTER ? off : cl * MODEL_CLUSTER;
        uint64_t e = off + len < (cl + 1) * MODEL_CLUSTER ? off + len : (cl + 1) * MODEL_CLUSTER;
        int r = model_io_zero_run(c, backing, s, e - s);
        if (r != 1)
            return r;
    }
    return 1;
}

int model_io_reads_as_zero(ModelState *st, ModelNode *n, uint64_t off, uint64_t len)
{
    IoCtx c = { .st = st, .w = st->w };
    return model_io_zero_run(&c, n, off, len);
}

/* ---- zeroes known without reading --------------------------------------------- */

/* How many bytes of S from OFF (at most LEN) lie in unstored chunks (zeroes)? */
static uint64_t sparse_unstored(const ModelSparse *s, uint64_t off, uint64_t len)
{
    uint64_t done = 0;
    while (done < len) {
        uint64_t i = (off + done) / MODEL_SPARSE_CHUNK;
        if (i < s->n && s->chunk[i])
            break;
        done += MODEL_SPARSE_CHUNK - (off + done) % MODEL_SPARSE_CHUNK;
    }
    return done < len ? done : len;
}

/*
 * How many bytes of N from OFF (at most LEN) does a read return that the
 * model never stored (zeroes), by the same path model_io_node_read() takes?  Only
 * for the nodes the comparator reads (qcow2, raw and file); 0 for anything
 * else and whenever unsure.  A stored chunk counts as data even if it holds
 * zeroes.
 */
static uint64_t known_zero(IoCtx *c, ModelNode *n, uint64_t off, uint64_t len, int depth)
{
    const char *d = n->drv->name;
    if (depth > 64)
        return 0;
    if (strcmp(d, "file") == 0) {
        ModelFile *f = model_io_file_of(c, n);
        if (!f || f->qcow2)
            return 0;
        uint64_t n_in = off < f->len ? (f->len - off < len ? f->len - off : len) : 0;
        uint64_t z = sparse_unstored(&f->bytes, off, n_in);
        return z < n_in ? z : len;              /* past the end: zeroes */
    }
    if (strcmp(d, "raw") == 0) {
        ModelNode *f = model_graph_file(c->w, n);
        return f ? known_zero(c, f, off + n->offset, len, depth + 1) : 0;
    }
    if (strcmp(d, "qcow2") != 0)
        return 0;
    ModelFile *f = model_io_qcow2_file(c, n);
    uint64_t end = f ? (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER : 0;
    if (!f || off >= end)
        return 0;
    if (len > end - off)
        len = end - off;
    ModelNode *backing = model_graph_backing(c->w, n);
    uint64_t blen = backing ? model_open_length(c->st, c->w, backing) : 0;
    uint64_t done = 0;
    while (done < len) {
        uint64_t at = off + done, cl = at / MODEL_CLUSTER;
        uint64_t n_here = MODEL_CLUSTER - at % MODEL_CLUSTER;
        if (n_here > len - done)
            n_here = len - done;
        uint64_t z = n_here;
        if (f->cl[cl] != MODEL_CL_UNALLOC) {
            z = sparse_unstored(&f->data, at, n_here);
        } else if (backing && at < blen) {
            uint64_t m = at + n_here <= blen ? n_here : blen - at;
            z = known_zero(c, backing, at, m, depth + 1);
            if (z == m)
                z = n_here;                     /* past the backing node's end: zeroes */
        }
        done += z;
        if (z < n_here)
            break;
    }
    return done;
}

uint64_t model_io_known_zero(ModelState *st, const ModelNode *n, uint64_t off, uint64_t len)
{
    IoCtx c = { .st = st, .w = st->w };
    return known_zero(&c, model_graph_node(st->w, n->id), off, len, 0);
}
