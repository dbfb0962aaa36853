/*
 * model_image_meta.c: the bytes of a qcow2 file's host clusters, rendered
 * from the model's accounting (model_image.c).
 *
 * What this is: one host cluster at a time, what QEMU 7.2 has on disk
 * there, for a raw view of the file (a `file` node, a `raw` node over it):
 *   - cluster 0, the header: the version 3 fields as qcow2_co_create() and
 *     qcow2_update_header() write them, then the header extensions in
 *     QEMU's order (backing format, feature name table, end) and the
 *     backing file name right after them;
 *   - cluster 1, the refcount table: one entry, the refcount block;
 *   - cluster 2, the refcount block: 16-bit refcounts, used + cref;
 *   - the L1 table: each L2 table's offset with QCOW_OFLAG_COPIED;
 *   - the L2 tables: data offsets with QCOW_OFLAG_COPIED, the zero flag,
 *     compressed cluster descriptors;
 *   - data clusters (the guest data), compressed bytes (deflated again as
 *     qcow2_compress() does) and host clusters never allocated (zeroes: a
 *     hole, or past the end of the file).
 * What it is not: a judge of whether the bytes are on disk yet.  The
 * caller says whether the L2 tables and refcount blocks are (CACHED:
 * qcow2 keeps them in write-back caches, model_io_qcow2_meta_on_disk());
 * the header and L1 table are written through (qcow2_update_header(),
 * qcow2_write_l1_entry() and qcow2_grow_l1_table() write the file at once).
 * Unknown stay: a freed cluster (its old bytes), a zero cluster's host
 * cluster (its old data), the bytes of a host cluster holding compressed
 * data outside the compressed clusters the model keeps, the compressed
 * clusters of one request of several (where each went depends on the order
 * QEMU's compression tasks finished) and their L2 entries,
 * the tail of an L1 table in a cluster used before, and everything of an
 * image whose layout the model may not follow (ModelFile.unsupported) or
 * whose metadata on disk it lost track of (ModelFile.meta_lost).
 *
 * Mirrors QEMU 7.2.0 block/qcow2.c qcow2_co_create(), qcow2_update_header()
 * (header_ext_add(), the feature table), block/qcow2.h QCowHeader and the
 * L1/L2 entry flags, block/qcow2-cluster.c
 * qcow2_alloc_compressed_cluster_offset() (the descriptor),
 * qcow2_grow_l1_table(), block/qcow2-refcount.c (16-bit refcounts).
 */
#include <stdlib.h>
#include <string.h>

#include "bigbuf.h"
#include "messages.h"
#include "model.h"

#define L2_ENTRIES (MODEL_CLUSTER / 8)
#define OFLAG_COPIED (1ull << 63)            /* QCOW_OFLAG_COPIED */
#define OFLAG_COMPRESSED (1ull << 62)        /* QCOW_OFLAG_COMPRESSED */
#define OFLAG_ZERO 1ull                      /* QCOW_OFLAG_ZERO */
#define CSIZE_SHIFT (62 - (16 - 8))          /* s->csize_shift for 64 KiB clusters */
#define REFBLOCK_ENTRIES (MODEL_CLUSTER / 2) /* refcount_order 4: 16 bits a cluster */
#define HEADER_LENGTH 112                    /* sizeof(QCowHeader) with compression_type */

static void be16(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* qcow2_update_header()'s feature name table (Qcow2Feature: type, bit,
 * 46 bytes of name), from messages.h. */
#define FEATURE(TYPE, BIT, NAME) { TYPE, BIT, NAME },
static const struct {
    uint8_t type, bit;
    const char *name;
} features[] = { BG_QCOW2_FEATURE_NAMES(FEATURE) };
#undef FEATURE

/* header_ext_add(): magic, length, the data padded to 8 bytes.  Returns
 * the offset after it. */
static size_t header_ext(uint8_t *buf, size_t at, uint32_t magic, const void *data, size_t len)
{
    be32(buf + at, magic);
    be32(buf + at + 4, len);
    memcpy(buf + at + 8, data, len);
    return at + 8 + (len + 7) / 8 * 8;
}

/* Cluster 0.  A backing name with a '/' in it (an absolute one, a json:
 * one), its length and the rest of the cluster are left unknown: it may
 * name the scratch directory, which is another one for each backend that
 * runs a stream.  Nothing is known of a name that would not fit or an
 * empty one (qcow2_update_header() treats those otherwise). */
static void header(const ModelFile *f, uint8_t *buf, uint8_t *known)
{
    memcpy(buf, "QFI\xfb", 4);
    be32(buf + 4, 3);                              /* version */
    be32(buf + 20, 16);                            /* cluster_bits */
    be64(buf + 24, f->vsize);                      /* size */
    be32(buf + 36, f->n_l1);                       /* l1_size */
    be64(buf + 40, f->l1_host * MODEL_CLUSTER);    /* l1_table_offset (0 without a table) */
    be64(buf + 48, MODEL_CLUSTER);                 /* refcount_table_offset */
    be32(buf + 56, 1);                             /* refcount_table_clusters */
    be32(buf + 96, 4);                             /* refcount_order */
    be32(buf + 100, HEADER_LENGTH);                /* header_length; compression_type 0: zlib */
    size_t at = HEADER_LENGTH;
    if (f->backing_fmt)
        at = header_ext(buf, at, 0xE2792ACA, f->backing_fmt, strlen(f->backing_fmt));
    uint8_t table[sizeof(features) / sizeof(features[0]) * 48] = {0};
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        table[i * 48] = features[i].type;
        table[i * 48 + 1] = features[i].bit;
        memcpy(table + i * 48 + 2, features[i].name, strlen(features[i].name));
    }
    at = header_ext(buf, at, 0x6803f857, table, sizeof(table));
    at += 8;                                       /* the end of the extensions: zeroes */
    size_t n = f->backing ? strlen(f->backing) : 0;
    if (f->backing && (!n || at + n > MODEL_CLUSTER)) {
        memset(known, 0, MODEL_CLUSTER);
        return;
    }
    memset(known, 1, MODEL_CLUSTER);
    if (f->backing) {
        be64(buf + 8, at);                         /* backing_file_offset */
        be32(buf + 16, n);                         /* backing_file_size */
        memcpy(buf + at, f->backing, n);
        if (strchr(f->backing, '/')) {
            memset(known + 16, 0, 4);
            memset(known + at, 0, MODEL_CLUSTER - at);
        }
    }
}

/* An L2 entry (qcow2_get_cluster_type()'s inputs); false when the model
 * cannot tell. */
static bool l2_entry(const ModelFile *f, uint64_t cl, uint64_t *e)
{
    *e = 0;
    if (cl >= (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER)
        return true;
    switch (f->cl[cl]) {
    case MODEL_CL_DATA:
        *e = f->host[cl] * MODEL_CLUSTER | OFLAG_COPIED;
        return true;
    case MODEL_CL_ZERO:
        /* zero_in_l2_slice() keeps an allocated cluster's entry and sets
         * the flag; discard_in_l2_slice() leaves only the flag */
        *e = (f->host[cl] ? f->host[cl] * MODEL_CLUSTER | OFLAG_COPIED : 0) | OFLAG_ZERO;
        return true;
    case MODEL_CL_COMPRESSED: {
        /* qcow2_alloc_compressed_cluster_offset(): the sectors touched, less one */
        uint64_t nb = (f->coff[cl] + f->clen[cl] - 1) / 512 - f->coff[cl] / 512;
        *e = OFLAG_COMPRESSED | nb << CSIZE_SHIFT | f->coff[cl];
        return !f->cshuffled[cl];
    }
    default:
        return true;
    }
}

/* Host cluster H holds guest cluster G's data, an L2 table of L1 entry I,
 * or neither: which one. */
static bool find_data(const ModelFile *f, uint64_t h, uint64_t *g)
{
    uint64_t nc = (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
    for (*g = 0; *g < nc; (*g)++)
        if (model_image_qcow2_in_place(f, *g) && f->host[*g] == h)
            return true;
    return false;
}

static bool find_l2(const ModelFile *f, uint64_t h, uint64_t *i)
{
    for (*i = 0; *i < f->n_l1; (*i)++)
        if (f->l2[*i] == h)
            return true;
    return false;
}

/* The compressed bytes of every compressed cluster that reach into host
 * cluster H. */
static void compressed_bytes(const ModelFile *f, uint64_t h, uint8_t *buf, uint8_t *known)
{
    uint64_t nc = (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
    uint64_t lo = h * MODEL_CLUSTER, hi = lo + MODEL_CLUSTER;
    uint8_t *data = NULL, *out = NULL;
    for (uint64_t g = 0; g < nc; g++) {
        if (f->cl[g] != MODEL_CL_COMPRESSED || f->cshuffled[g] || f->coff[g] >= hi ||
            f->coff[g] + f->clen[g] <= lo)
            continue;
        if (!data) {
            data = bg_bigbuf_get(MODEL_CLUSTER);
            out = bg_bigbuf_get(MODEL_CLUSTER);
        }
        model_sparse_read(&f->data, g * MODEL_CLUSTER, MODEL_CLUSTER, data);
        if (model_image_qcow2_deflate(data, out) != f->clen[g])
            continue;                   /* not what the model placed: leave it unknown */
        for (uint64_t b = f->coff[g]; b < f->coff[g] + f->clen[g]; b++) {
            if (b >= lo && b < hi) {
                buf[b - lo] = out[b - f->coff[g]];
                known[b - lo] = 1;
            }
        }
    }
    bg_bigbuf_put(data);
    bg_bigbuf_put(out);
}

int model_image_meta_cluster(const ModelFile *f, uint64_t h, bool cached, uint8_t *buf,
                             uint8_t *known)
{
    uint64_t start = h * MODEL_CLUSTER;
    /* past the end of the file: zeroes */
    uint64_t in_file = f->host_len > start ? f->host_len - start : 0;
    if (!in_file) {
        memset(buf, 0, MODEL_CLUSTER);
        return MODEL_META_ALL;
    }
    bool used = h < f->n_host && f->used[h], cref = h < f->n_host && f->cref[h];
    uint64_t g, i;
    int k = MODEL_META_NONE;
    if (used && find_data(f, h, &g)) {
        /* a data cluster: the guest data; a zero cluster's: its old data */
        if (f->cl[g] == MODEL_CL_DATA) {
            model_sparse_read(&f->data, g * MODEL_CLUSTER, MODEL_CLUSTER, buf);
            k = MODEL_META_ALL;
        } else {
            memset(buf, 0, MODEL_CLUSTER);
        }
    } else if (f->unsupported || f->meta_lost || h >= REFBLOCK_ENTRIES) {
        /* the model's layout may not be QEMU's: nothing else is known */
        memset(buf, 0, MODEL_CLUSTER);
    } else if (h == 0) {
        memset(buf, 0, MODEL_CLUSTER);
        header(f, buf, known);
        k = MODEL_META_SOME;
    } else if (h == 1) {
        memset(buf, 0, MODEL_CLUSTER);
        be64(buf, 2 * MODEL_CLUSTER);      /* the refcount table's one refcount block */
        k = MODEL_META_ALL;
    } else if (h == 2) {
        memset(buf, 0, MODEL_CLUSTER);
        k = cached ? MODEL_META_ALL : MODEL_META_NONE;
        for (uint64_t c = 0; c < f->n_host; c++) {
            uint64_t r = (uint64_t)f->used[c] + f->cref[c];
            if (c >= REFBLOCK_ENTRIES && r) {
                k = MODEL_META_NONE;      /* a second refcount block: not modelled */
                break;
            }
            if (c < REFBLOCK_ENTRIES)
                be16(buf + 2 * c, r);
        }
    } else if (f->n_l1 && h == f->l1_host) {
        memset(buf, 0, MODEL_CLUSTER);
        for (i = 0; i < f->n_l1; i++)
            if (f->l2[i])
                be64(buf + 8 * i, f->l2[i] * MODEL_CLUSTER | OFLAG_COPIED);
        /* the rest of a cluster used before keeps what was there */
        k = MODEL_META_ALL;
        if (!f->l1_fresh) {
            memset(known, 0, MODEL_CLUSTER);
            memset(known, 1, 8 * f->n_l1);
            k = MODEL_META_SOME;
        }
    } else if (used && find_l2(f, h, &i)) {
        /* every entry is written: no clearing first */
        bool all = cached, none = true;
        for (uint64_t j = 0; j < L2_ENTRIES; j++) {
            uint64_t e;
            bool ok = l2_entry(f, i * L2_ENTRIES + j, &e);
            be64(buf + 8 * j, e);
            if (cached && !ok && all) {
                /* the first entry the model cannot tell: the ones before it are known */
                all = false;
                memset(known, 1, 8 * j);
            }
            if (cached && !all)
                memset(known + 8 * j, ok, 8);
            none = none && !(cached && ok);
        }
        k = all ? MODEL_META_ALL : none ? MODEL_META_NONE : MODEL_META_SOME;
    } else if (cref) {
        memset(buf, 0, MODEL_CLUSTER);
        memset(known, 0, MODEL_CLUSTER);
        compressed_bytes(f, h, buf, known);
        k = MODEL_META_SOME;
    } else {
        memset(buf, 0, MODEL_CLUSTER);
        if (!used && !(h < f->n_host && f->ever[h]))
            k = MODEL_META_ALL;           /* never allocated: a hole */
    }
    /* past the end of the file: known */
    if (in_file < MODEL_CLUSTER && k != MODEL_META_ALL) {
        if (k == MODEL_META_NONE)
            memset(known, 0, in_file);
        memset(known + in_file, 1, MODEL_CLUSTER - in_file);
        k = MODEL_META_SOME;
    }
    return k;
}
