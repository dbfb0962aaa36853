/*
 * model_image.c: the scratch directory's image files, in memory.
 *
 * What this is: one ModelFile per file a stream creates.  A raw file is its
 * bytes.  A qcow2 file is its header facts (virtual size, backing file name
 * and format) plus its logical contents and a per-cluster allocation map,
 * plus the host cluster accounting qcow2 does (free_cluster_index,
 * first-fit allocation of L2 tables and data clusters, freeing on
 * write-zeroes with unmap, compressed bytes and their host refcounts)
 * because that decides the host file's length, which a `file` node reports
 * as its virtual size.  (The img-create step that makes them is
 * model_image_create.c's.)
 *
 * Plus what a raw view of a qcow2 file needs to tell its bytes
 * (model_image_meta.c renders them): which host clusters were ever
 * allocated (a never-allocated one is a hole), whether the L1 table's
 * cluster was fresh, which compressed clusters one request of several
 * placed, and meta_gen, moved on by every change of what the L2 tables and
 * refcount blocks hold (compared before and after each change).
 *
 * What it is not: the qcow2 on-disk layout itself.  No header, L1/L2 or
 * refcount bytes are stored; model_image_meta.c renders them from this
 * accounting when asked: the header (with its extensions and backing
 * name), the refcount table and block, the L1 and L2 tables, compressed
 * bytes.  Unknown stay what the accounting cannot tell (a freed cluster's
 * old bytes, a zero cluster's host cluster, compressed clusters whose
 * place depended on task order, a backing name naming the scratch
 * directory) and the L2 tables and refcount blocks while a qcow2 node holds
 * a change of them in its caches (model_io_qcow2_meta_on_disk()).
 *
 * Mirrors QEMU 7.2.0 block/qcow2.c qcow2_co_create() (a fresh image: header, refcount table, refcount block,
 * L1 table in clusters 0-3, file length 0x30000 + 8 * l1_size),
 * block/qcow2-refcount.c alloc_clusters_noref() / update_refcount() /
 * qcow2_alloc_bytes() / qcow2_free_any_cluster(), block/qcow2-cluster.c
 * handle_alloc() / l2_allocate() / zero_in_l2_slice() /
 * qcow2_alloc_cluster_link_l2(), block/qcow2.c qcow2_co_pwritev_part() /
 * qcow2_co_pwritev_compressed_part(), util/cutils.c qemu_strtosz().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bigbuf.h"
#include "model.h"

#define L2_ENTRIES (MODEL_CLUSTER / 8)           /* guest clusters one L2 table maps */
#define MODEL_CL_FREEING 0xff                   /* compressed, its bytes freed at the end */

static void file_free(ModelFile *f)
{
    if (!f)
        return;
    free(f->path);
    model_sparse_cleanup(&f->bytes);
    free(f->backing);
    free(f->backing_fmt);
    model_sparse_cleanup(&f->data);
    free(f->cl);
    free(f->host);
    free(f->coff);
    free(f->clen);
    free(f->used);
    free(f->cref);
    free(f->l2);
    free(f->cgroup);
    free(f->grp_total);
    free(f->grp_left);
    free(f->cshuffled);
    free(f->ever);
    free(f);
}

void model_image_cleanup(ModelFiles *t)
{
    for (size_t i = 0; i < t->n; i++)
        file_free(t->f[i]);
    free(t->f);
    *t = (ModelFiles){0};
}

ModelFile *model_image_find(ModelFiles *t, const char *abspath)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->f[i]->path, abspath) == 0)
            return t->f[i];
    return NULL;
}

/* A new ModelFile for PATH, in place of the one there was. */
ModelFile *model_image_replace(ModelFiles *t, const char *path)
{
    ModelFile *f = bg_calloc(1, sizeof(ModelFile));
    f->path = bg_strdup(path);
    f->serial = ++t->serial;
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->f[i]->path, path) == 0) {
            file_free(t->f[i]);
            t->f[i] = f;
            return f;
        }
    }
    t->f = bg_realloc(t->f, (t->n + 1) * sizeof(*t->f));
    t->f[t->n++] = f;
    return f;
}

uint64_t model_image_host_len(const ModelFile *f)
{
    return f->qcow2 ? f->host_len : f->len;
}

/* util/cutils.c do_strtosz(): a number (decimal, or hex without suffix),
 * an optional fraction, an optional suffix B/K/M/G/T/P/E (either case). */
bool model_image_parse_size(const char *s, uint64_t *out)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-' || *p == '\0')
        return false;
    errno = 0;
    char *end;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        uint64_t v = strtoull(p, &end, 16);
        if (errno || end == p + 2 || *end)
            return false;
        *out = v;
        return true;
    }
    double d = strtod(p, &end);
    if (errno || end == p)
        return false;
    uint64_t mul = 1;
    if (*end) {
        switch (*end) {
        case 'b': case 'B': mul = 1; break;
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        case 't': case 'T': mul = 1ull << 40; break;
        case 'p': case 'P': mul = 1ull << 50; break;
        case 'e': case 'E': mul = 1ull << 60; break;
        default: return false;
        }
        if (end[1])
            return false;
    } else if (strchr(p, '.')) {
        return false;               /* a fraction needs a suffix */
    }
    double r = d * (double)mul;
    if (r < 0 || r >= 18446744073709551616.0)
        return false;
    *out = (uint64_t)r;
    return true;
}

bool model_path_has_protocol(const char *name)
{
    return name[strcspn(name, ":/")] == ':';
}

char *model_image_path_combine(const char *base, const char *name)
{
    /* path_is_absolute(), or path_has_protocol():
     * bdrv_get_full_backing_filename_from_filename() keeps NAME as it is */
    if (name[0] == '/' || model_path_has_protocol(name))
        return bg_strdup(name);
    const char *slash = strrchr(base, '/');
    if (!slash)
        return bg_strdup(name);
    return bg_asprintf("%.*s/%s", (int)(slash - base), base, name);
}

/* ---- qcow2 host cluster accounting --------------------------------------------- */

static void host_ensure(ModelFile *f, uint64_t n)
{
    if (n <= f->n_host)
        return;
    uint64_t cap = f->n_host ? f->n_host : 64;
    while (cap < n)
        cap *= 2;
    f->used = bg_realloc(f->used, cap);
    memset(f->used + f->n_host, 0, cap - f->n_host);
    f->cref = bg_realloc(f->cref, cap * sizeof(uint32_t));
    memset(f->cref + f->n_host, 0, (cap - f->n_host) * sizeof(uint32_t));
    f->ever = bg_realloc(f->ever, cap);
    memset(f->ever + f->n_host, 0, cap - f->n_host);
    f->n_host = cap;
}

/* qcow2_get_refcount() != 0: the refcount is used + cref */
static bool host_used(const ModelFile *f, uint64_t c)
{
    return c < f->n_host && (f->used[c] || f->cref[c]);
}

static void host_grow_len(ModelFile *f, uint64_t end)
{
    if (end > f->host_len)
        f->host_len = end;
}

/* alloc_clusters_noref(): the first N contiguous free clusters from
 * free_cluster_index on, which moves past them; no refcount changes. */
static uint64_t host_find(ModelFile *f, uint64_t n)
{
    for (uint32_t g = 0; g < f->n_grp && !f->unsupported; g++)
        if (f->grp_left[g] && f->grp_left[g] < f->grp_total[g])
            f->unsupported = "a host cluster allocation after some but not all clusters of one "
                             "compressed write of several clusters were freed: which host "
                             "clusters that freed depends on the order in which QEMU's "
                             "compression tasks finished (qcow2_co_pwritev_compressed_part())";
retry:
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = f->free_index++;
        if (host_used(f, c))
            goto retry;
    }
    return f->free_index - n;
}

/* update_refcount(+1) on N host clusters from FIRST; true when none of
 * them was ever allocated before. */
static bool host_take(ModelFile *f, uint64_t first, uint64_t n)
{
    host_ensure(f, first + n);
    bool fresh = true;
    for (uint64_t i = 0; i < n; i++) {
        fresh &= !f->ever[first + i];
        f->used[first + i] = f->ever[first + i] = 1;
    }
    return fresh;
}

/* qcow2_alloc_clusters(): alloc_clusters_noref() + update_refcount(+1).
 * *FRESH (if not NULL): none of the clusters was ever allocated before. */
static uint64_t host_alloc(ModelFile *f, uint64_t n, bool *fresh)
{
    uint64_t first = host_find(f, n);
    bool all_fresh = host_take(f, first, n);
    if (fresh)
        *fresh = all_fresh;
    return first;
}

/* qcow2_alloc_clusters_at(): up to N clusters from host cluster AT, as
 * many as are free there in a row (free_cluster_index stays where it is).
 * Returns how many. */
static uint64_t host_alloc_at(ModelFile *f, uint64_t at, uint64_t n)
{
    uint64_t k = 0;
    while (k < n && !host_used(f, at + k))
        k++;
    host_take(f, at, k);
    return k;
}

/* update_refcount(-1): a cluster whose refcount drops to zero moves
 * free_cluster_index back to it, so the allocator may come back here. */
static void host_free(ModelFile *f, uint64_t c)
{
    if (c < f->n_host)
        f->used[c] = 0;
    if (!host_used(f, c) && c < f->free_index)
        f->free_index = c;
}

/* qcow2_free_any_cluster() of a compressed L2 entry: qcow2_free_clusters()
 * over the 512-byte sectors the entry names (qcow2_parse_compressed_l2_entry()),
 * which touch the host clusters qcow2_alloc_bytes() took a reference on:
 * update_refcount(-1) on each of them. */
static void host_unref_bytes(ModelFile *f, uint64_t off, uint64_t len)
{
    for (uint64_t c = off / MODEL_CLUSTER; c <= (off + len - 1) / MODEL_CLUSTER; c++) {
        if (c < f->n_host && f->cref[c])
            f->cref[c]--;
        if (!host_used(f, c) && c < f->free_index)
            f->free_index = c;
    }
}

static uint64_t guest_clusters(const ModelFile *f)
{
    return (f->vsize + MODEL_CLUSTER - 1) / MODEL_CLUSTER;
}

void model_image_qcow2_init(ModelFile *f, uint64_t vsize)
{
    f->gen++;
    f->qcow2 = true;
    f->vsize = vsize;
    uint64_t nc = guest_clusters(f);
    f->cl = bg_calloc(nc + 1, 1);
    f->host = bg_calloc(nc + 1, sizeof(uint64_t));
    f->coff = bg_calloc(nc + 1, sizeof(uint64_t));
    f->clen = bg_calloc(nc + 1, sizeof(uint64_t));
    f->cgroup = bg_calloc(nc + 1, sizeof(uint32_t));
    f->cshuffled = bg_calloc(nc + 1, 1);
    f->n_l1 = (nc + L2_ENTRIES - 1) / L2_ENTRIES;
    f->l2 = bg_calloc(f->n_l1 + 1, sizeof(uint64_t));
    /* header, refcount table, refcount block; qcow2_co_create() then
     * truncates to the size, and qcow2_grow_l1_table() puts the L1 table in
     * the next cluster, if it has entries: a 0-byte image has none */
    host_ensure(f, 4);
    for (int i = 0; i < 3 + (f->n_l1 > 0); i++)
        f->used[i] = f->ever[i] = 1;
    f->l1_fresh = true;
    f->host_len = 3 * MODEL_CLUSTER + 8 * f->n_l1;
    f->l1_host = f->n_l1 ? 3 : 0;
    f->free_index = 0;
}

/*
 * qcow2_co_truncate() growing the image to VSIZE (PREALLOC_MODE_OFF, no
 * snapshots, no data file): qcow2_grow_l1_table(exact_size) when the L1
 * table gets longer (a new table from qcow2_alloc_clusters(), written, the
 * old one freed), then the new size in the header.  The new clusters are
 * unallocated.  A multiple of 512 and not a shrink: the caller checked.
 */
static void qcow2_grow(ModelFile *f, uint64_t vsize)
{
    uint64_t old_nc = guest_clusters(f);
    f->vsize = vsize;
    uint64_t nc = guest_clusters(f);
    if (nc > old_nc) {
        /* f->data is sparse: the new clusters read as zeroes already */
        f->cl = bg_realloc(f->cl, nc + 1);
        memset(f->cl + old_nc, MODEL_CL_UNALLOC, nc + 1 - old_nc);
        f->host = bg_realloc(f->host, (nc + 1) * sizeof(uint64_t));
        memset(f->host + old_nc, 0, (nc + 1 - old_nc) * sizeof(uint64_t));
        f->coff = bg_realloc(f->coff, (nc + 1) * sizeof(uint64_t));
        memset(f->coff + old_nc, 0, (nc + 1 - old_nc) * sizeof(uint64_t));
        f->clen = bg_realloc(f->clen, (nc + 1) * sizeof(uint64_t));
        memset(f->clen + old_nc, 0, (nc + 1 - old_nc) * sizeof(uint64_t));
        f->cgroup = bg_realloc(f->cgroup, (nc + 1) * sizeof(uint32_t));
        memset(f->cgroup + old_nc, 0, (nc + 1 - old_nc) * sizeof(uint32_t));
        f->cshuffled = bg_realloc(f->cshuffled, nc + 1);
        memset(f->cshuffled + old_nc, 0, nc + 1 - old_nc);
    }
    uint64_t n_l1 = (nc + L2_ENTRIES - 1) / L2_ENTRIES;
    if (n_l1 <= f->n_l1)
        return;
    f->l2 = bg_realloc(f->l2, (n_l1 + 1) * sizeof(uint64_t));
    memset(f->l2 + f->n_l1, 0, (n_l1 + 1 - f->n_l1) * sizeof(uint64_t));
    uint64_t per = MODEL_CLUSTER / 8;              /* L1 entries in one cluster */
    uint64_t h = host_alloc(f, (n_l1 + per - 1) / per, &f->l1_fresh);
    host_grow_len(f, h * MODEL_CLUSTER + 8 * n_l1);
    for (uint64_t c = 0; c < (f->n_l1 + per - 1) / per; c++)
        host_free(f, f->l1_host + c);
    f->l1_host = h;
    f->n_l1 = n_l1;
}

void model_image_qcow2_open(ModelFile *f)
{
    f->gen++;
    f->free_index = 0;
    f->free_byte = 0;
}

bool model_image_qcow2_allocated(const ModelFile *f, uint64_t cluster, bool *zero)
{
    if (cluster >= guest_clusters(f))
        return *zero = false;
    *zero = f->cl[cluster] == MODEL_CL_ZERO;
    return f->cl[cluster] != MODEL_CL_UNALLOC;
}

/* l2_allocate() when the L1 entry of CLUSTER is empty. */
static void ensure_l2(ModelFile *f, uint64_t cluster)
{
    uint64_t l1 = cluster / L2_ENTRIES;
    if (f->l2[l1])
        return;
    f->l2[l1] = host_alloc(f, 1, NULL);
    host_grow_len(f, (f->l2[l1] + 1) * MODEL_CLUSTER);
}

/* The compressed bytes of CLUSTER give up their host clusters. */
static void unref_compressed(ModelFile *f, uint64_t cluster)
{
    host_unref_bytes(f, f->coff[cluster], f->clen[cluster]);
    if (f->cgroup[cluster])
        f->grp_left[f->cgroup[cluster] - 1]--;
    f->cgroup[cluster] = 0;
}

/* Drop what CLUSTER holds: its data cluster, or its compressed bytes'
 * reference on each host cluster they touch (qcow2_free_any_cluster()); a
 * host cluster other compressed bytes share stays allocated. */
static void release(ModelFile *f, uint64_t cluster)
{
    if (model_image_qcow2_in_place(f, cluster))
        host_free(f, f->host[cluster]);
    else if (f->cl[cluster] == MODEL_CL_COMPRESSED)
        unref_compressed(f, cluster);
    f->host[cluster] = 0;
    f->cshuffled[cluster] = 0;
}

/* qcow2_compress(): raw deflate, window 4 KiB, into at most
 * cluster_size - 1 bytes. */
uint64_t model_image_qcow2_deflate(const uint8_t *cluster, uint8_t *out)
{
    z_stream strm = {0};
    if (deflateInit2(&strm, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    strm.avail_in = MODEL_CLUSTER;
    strm.next_in = (uint8_t *)cluster;
    strm.avail_out = MODEL_CLUSTER - 1;
    strm.next_out = out;
    int ret = deflate(&strm, Z_FINISH);
    uint64_t n = ret == Z_STREAM_END ? MODEL_CLUSTER - 1 - strm.avail_out : 0;
    deflateEnd(&strm);
    return n;
}

/* Size of CLUSTER's contents compressed as qcow2 does; 0 when they do not
 * fit in cluster_size - 1 bytes. */
static uint64_t compressed_size(const uint8_t *buf)
{
    uint8_t *out = bg_bigbuf_get(MODEL_CLUSTER);
    uint64_t n = model_image_qcow2_deflate(buf, out);
    bg_bigbuf_put(out);
    return n;
}

/*
 * qcow2_alloc_bytes(): SIZE bytes for compressed data right after the last
 * ones (free_byte_offset) if they fit in that host cluster, or if the next
 * free cluster (alloc_clusters_noref()) follows it; else at the start of
 * that free cluster.  update_refcount(+1) on every host cluster the bytes
 * touch, so a host cluster's refcount counts the compressed clusters in it.
 * free_byte_offset is not reset when its cluster is freed: the next bytes
 * go there even if the cluster was allocated again meanwhile
 * (model_image_qcow2_compressed_shares()).  The refcount_max check cannot
 * fire: a 64 KiB cluster holds far fewer than 65535 compressed clusters.
 */
static uint64_t alloc_bytes(ModelFile *f, uint64_t size)
{
    uint64_t offset = f->free_byte;
    uint64_t free_in_cluster = MODEL_CLUSTER - offset % MODEL_CLUSTER;
    if (!offset || free_in_cluster < size) {
        uint64_t nc = host_find(f, 1) * MODEL_CLUSTER;
        if (!offset || (offset + MODEL_CLUSTER - 1) / MODEL_CLUSTER * MODEL_CLUSTER != nc)
            offset = nc;
    }
    uint64_t last = (offset + size - 1) / MODEL_CLUSTER;
    host_ensure(f, last + 1);
    for (uint64_t c = offset / MODEL_CLUSTER; c <= last; c++) {
        f->cref[c]++;
        f->ever[c] = 1;
    }
    f->free_byte = offset + size;
    if (f->free_byte % MODEL_CLUSTER == 0)
        f->free_byte = 0;
    host_grow_len(f, offset + size);
    return offset;
}

/* Do CLUSTER's compressed bytes lie in a host cluster that also holds
 * metadata or a data cluster?  Only a free_byte_offset left pointing into a
 * cluster that was freed and allocated again puts them there. */
bool model_image_qcow2_compressed_shares(const ModelFile *f, uint64_t cluster)
{
    if (f->cl[cluster] != MODEL_CL_COMPRESSED)
        return false;
    uint64_t off = f->coff[cluster], len = f->clen[cluster];
    for (uint64_t c = off / MODEL_CLUSTER; c <= (off + len - 1) / MODEL_CLUSTER; c++)
        if (c < f->n_host && f->used[c])
            return true;
    return false;
}

uint64_t model_image_qcow2_l2_count(const ModelFile *f)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < f->n_l1; i++)
        n += f->l2[i] != 0;
    return n;
}

/*
 * qcow2_co_pwritev_compressed_part() runs one task per cluster, up to
 * QCOW2_MAX_WORKERS at once; each compresses in a worker thread and then
 * takes the lock for qcow2_alloc_compressed_cluster_offset(), so the
 * clusters get their bytes in the order the threads finish, not in guest
 * order as the model places them.  Bytes all in one host cluster give it
 * the same references whatever the order.  Bytes over several: the
 * offsets are still the same ones, each new host cluster following the
 * last (or jumping to a free one at the same count) when the sizes are
 * equal, or when they differ but never jump; the model keeps its order and
 * records which clusters share the uncertainty (cgroup), so that an
 * allocation after some but not all of them were freed is unsupported
 * (host_find()).  Different sizes with a jump, an L2 table allocated
 * between the clusters of two L2 tables, or a cluster that does not
 * compress (a data cluster allocated among them) leave even the offsets to
 * the order: unsupported at once.
 */
const char *model_image_qcow2_compressed_request(ModelFile *f, const uint64_t *cl, uint64_t n,
                                                 uint64_t n_plain, bool l2_allocated)
{
    f->gen++;
    for (uint64_t i = 0; n > 1 && i < n; i++)
        f->cshuffled[cl[i]] = 1;
    if (n_plain && n + n_plain > 1)
        return "a compressed write of several clusters one of which does not compress "
               "(QEMU allocates its data cluster when its compression task finishes)";
    if (n < 2)
        return NULL;
    uint64_t lo = UINT64_MAX, hi = 0;
    bool equal = true, jump = false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = cl[i];
        uint64_t a = f->coff[c] / MODEL_CLUSTER, b = (f->coff[c] + f->clen[c] - 1) / MODEL_CLUSTER;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        equal &= f->clen[c] == f->clen[cl[0]];
        jump |= i && f->coff[c] != f->coff[cl[i - 1]] + f->clen[cl[i - 1]];
    }
    if (l2_allocated && cl[0] / L2_ENTRIES != cl[n - 1] / L2_ENTRIES)
        return "a compressed write of several clusters over several L2 tables that allocates "
               "an L2 table (QEMU allocates it when the first task of its range finishes "
               "compressing, among the host clusters for the compressed bytes)";
    if (lo == hi)
        return NULL;
    if (jump && !equal)
        return "a compressed write of several clusters of different compressed sizes that "
               "moves on to a host cluster not next to the last one (where it does depends on "
               "the order QEMU's compression tasks finish)";
    f->grp_total = bg_realloc(f->grp_total, (f->n_grp + 1) * sizeof(uint32_t));
    f->grp_left = bg_realloc(f->grp_left, (f->n_grp + 1) * sizeof(uint32_t));
    f->grp_total[f->n_grp] = f->grp_left[f->n_grp] = (uint32_t)n;
    f->n_grp++;
    for (uint64_t i = 0; i < n; i++)
        f->cgroup[cl[i]] = f->n_grp;
    return NULL;
}

/*
 * A write of whole clusters' worth of bytes (the caller did the COW of
 * partial clusters).  ZERO: write zeroes (the buffer is ignored); MAY_UNMAP:
 * free the host clusters (v3 zero flag).  COMPRESSED: one whole cluster.
 * Returns whether a data write linked clusters into the L2 tables
 * (qcow2_alloc_cluster_link_l2(): a new host cluster, or a zero cluster
 * with a host cluster that becomes data); zero and compressed writes do not.
 */
static bool qcow2_write(ModelFile *f, uint64_t off, uint64_t len, const uint8_t *buf, bool zero,
                        bool may_unmap, bool compressed, BgError *err)
{
    uint64_t first = off / MODEL_CLUSTER, last = (off + len - 1) / MODEL_CLUSTER;
    if (compressed) {
        uint64_t c = first;
        /* qcow2_alloc_compressed_cluster_offset(): no host offset allowed */
        if (!(f->cl[c] == MODEL_CL_UNALLOC || (f->cl[c] == MODEL_CL_ZERO && !f->host[c]))) {
            bg_error_setf(err, "Input/output error");
            return false;
        }
        uint64_t n = compressed_size(buf);
        if (n) {
            ensure_l2(f, c);
            release(f, c);
            /* qcow2_alloc_compressed_cluster_offset(): the L2 entry points
             * at the bytes before they are written */
            f->coff[c] = alloc_bytes(f, n);
            f->clen[c] = n;
            model_sparse_write(&f->data, c * MODEL_CLUSTER, MODEL_CLUSTER, buf);
            f->cl[c] = MODEL_CL_COMPRESSED;
            return false;
        }
        compressed = false;           /* does not compress: a normal write */
    }
    if (zero) {
        /* zero_in_l2_slice(): the L2 table is allocated if needed; an
         * allocated cluster is freed when unmapping is allowed (always for
         * compressed ones), else it keeps its host cluster (ZERO_ALLOC). */
        for (uint64_t c = first; c <= last; c++) {
            bool allocated = f->cl[c] == MODEL_CL_COMPRESSED || model_image_qcow2_in_place(f, c);
            model_sparse_write(&f->data, c * MODEL_CLUSTER, MODEL_CLUSTER, NULL);
            ensure_l2(f, c);
            if (f->cl[c] == MODEL_CL_COMPRESSED || (may_unmap && allocated))
                release(f, c);
            f->cl[c] = MODEL_CL_ZERO;
        }
        return false;
    }
    /* handle_alloc(): runs of clusters needing a new host cluster, within one
     * L2 table, are allocated contiguously, L2 table first.  Each run and
     * each in-place extent is a task of qcow2_co_pwritev_part() that links
     * its clusters and frees the old ones (qcow2_alloc_cluster_link_l2():
     * compressed clusters, whose bytes their host clusters give up) after
     * its data write, which yields: all runs are allocated before anything
     * is freed, while no more than QCOW2_MAX_WORKERS tasks wait.
     * qcow2_alloc_host_offset() gathers one contiguous host range a call:
     * after clusters it writes in place (handle_copied()) or has just
     * allocated, a run that needs new clusters goes right after them as far
     * as the host clusters there are free (handle_alloc() ->
     * qcow2_alloc_clusters_at()); the rest, or a run with nothing free
     * there, is the next call's, allocated wherever alloc_clusters_noref()
     * finds room.  NEXT: where the current range would go on, 0 for none. */
    uint64_t c = first, extents = 0, next = 0;
    bool linked = false, freed = false;
    while (c <= last) {
        linked |= f->cl[c] != MODEL_CL_DATA;
        if (model_image_qcow2_in_place(f, c)) {
            bool joined = c > first && f->cl[c - 1] == MODEL_CL_DATA &&
                          f->host[c - 1] + 1 == f->host[c];
            extents += !joined;
            f->cl[c] = MODEL_CL_DATA;
            next = f->host[c] + 1;
            c++;
            continue;
        }
        uint64_t run = 1;
        while (c + run <= last && (c + run) / L2_ENTRIES == c / L2_ENTRIES &&
               !model_image_qcow2_in_place(f, c + run))
            run++;
        ensure_l2(f, c);
        uint64_t h = next, at = next ? host_alloc_at(f, next, run) : 0;
        if (at)
            run = at;
        else
            h = host_alloc(f, run, NULL);
        next = h + run;
        for (uint64_t i = 0; i < run; i++) {
            if (f->cl[c + i] == MODEL_CL_COMPRESSED) {
                f->cl[c + i] = MODEL_CL_FREEING;
                freed = true;
            }
            f->host[c + i] = h + i;
        }
        host_grow_len(f, (h + run) * MODEL_CLUSTER);
        extents++;
        c += run;
    }
    for (c = first; c <= last; c++) {
        if (f->cl[c] == MODEL_CL_FREEING)
            unref_compressed(f, c);
        f->cl[c] = MODEL_CL_DATA;
    }
    if (freed && extents > MODEL_QCOW2_MAX_WORKERS && !f->unsupported)
        f->unsupported = "a write of more than 8 extents (QCOW2_MAX_WORKERS) over compressed "
                         "clusters: which task frees them before the later extents are "
                         "allocated depends on the order QEMU's writes finish";
    model_sparse_write(&f->data, off, len, buf);
    return linked;
}

static void qcow2_discard(ModelFile *f, uint64_t cluster, bool has_backing)
{
    /* get_cluster_table() allocates the L2 table even when nothing changes */
    ensure_l2(f, cluster);
    bool allocated = f->cl[cluster] != MODEL_CL_UNALLOC &&
                     !(f->cl[cluster] == MODEL_CL_ZERO && !f->host[cluster]);
    if (!has_backing && !allocated)
        return;
    /* the entry becomes the zero flag without an offset; the old host
     * cluster is freed (qcow2_free_any_cluster()) */
    release(f, cluster);
    model_sparse_write(&f->data, cluster * MODEL_CLUSTER, MODEL_CLUSTER, NULL);
    f->cl[cluster] = MODEL_CL_ZERO;
}

/* ---- the metadata generation ------------------------------------------------------- */

/* What the L2 tables and refcount blocks are rendered from
 * (model_image_meta.c), as bytes to compare. */
static uint8_t *acct_bytes(const ModelFile *f, size_t *len)
{
    uint64_t nc = guest_clusters(f);
    size_t n = 3 * sizeof(uint64_t) + nc * (2 + 3 * sizeof(uint64_t)) + f->n_l1 * sizeof(uint64_t) +
               f->n_host * (1 + sizeof(uint32_t));
    uint8_t *b = bg_malloc(n), *p = b;
    uint64_t scalars[3] = { f->vsize, f->n_l1, f->l1_host };
#define PUT(src, size) (memcpy(p, (src), (size)), p += (size))
    PUT(scalars, sizeof(scalars));
    PUT(f->cl, nc);
    PUT(f->cshuffled, nc);
    PUT(f->host, nc * sizeof(uint64_t));
    PUT(f->coff, nc * sizeof(uint64_t));
    PUT(f->clen, nc * sizeof(uint64_t));
    PUT(f->l2, f->n_l1 * sizeof(uint64_t));
    PUT(f->used, f->n_host);
    PUT(f->cref, f->n_host * sizeof(uint32_t));
#undef PUT
    *len = n;
    return b;
}

/* A change that touched them moves meta_gen on: a qcow2 node holds it in
 * its metadata caches until it writes them back (model_io_qcow2_meta_on_disk()). */
static void meta_changed(ModelFile *f, uint8_t *take_before, size_t n_before)
{
    size_t n;
    uint8_t *after = acct_bytes(f, &n);
    if (n != n_before || memcmp(after, take_before, n) != 0)
        f->meta_gen++;
    free(after);
    free(take_before);
}

void model_image_qcow2_grow(ModelFile *f, uint64_t vsize)
{
    f->gen++;
    size_t n;
    uint8_t *before = acct_bytes(f, &n);
    qcow2_grow(f, vsize);
    meta_changed(f, before, n);
}

bool model_image_qcow2_write(ModelFile *f, uint64_t off, uint64_t len, const uint8_t *buf,
                             bool zero, bool may_unmap, bool compressed, BgError *err)
{
    f->gen++;
    size_t n;
    uint8_t *before = acct_bytes(f, &n);
    bool linked = qcow2_write(f, off, len, buf, zero, may_unmap, compressed, err);
    meta_changed(f, before, n);
    return linked;
}

void model_image_qcow2_make_l2(ModelFile *f, uint64_t cluster)
{
    if (cluster / L2_ENTRIES >= f->n_l1 || f->l2[cluster / L2_ENTRIES])
        return;
    f->gen++;
    size_t n;
    uint8_t *before = acct_bytes(f, &n);
    ensure_l2(f, cluster);
    meta_changed(f, before, n);
}

void model_image_qcow2_discard(ModelFile *f, uint64_t cluster, bool has_backing)
{
    f->gen++;
    size_t n;
    uint8_t *before = acct_bytes(f, &n);
    qcow2_discard(f, cluster, has_backing);
    meta_changed(f, before, n);
}

