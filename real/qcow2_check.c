/*
 * qcow2_check.c: the qcow2 invariants, checked on an open image.
 *
 * What this is: a read-only QEMU qcow2_check_refcounts() (block/qcow2-
 * refcount.c) over the driver's in-memory truth: tables come from the
 * caches when they are cached (dirty or not) and from the file otherwise;
 * nothing is written, no cache entry moves.  Invariants:
 *   1. the refcount of every host cluster equals the number of references
 *      to it: the header (cluster 0), the active L1 table, each L2 table,
 *      each data cluster (a compressed cluster references every host
 *      cluster its bytes touch), the refcount table and each refcount
 *      block: nothing leaks, nothing is referenced without being counted;
 *   2. an L1 entry, and a standard or preallocated-zero L2 entry, carry
 *      COPIED exactly when the cluster they point to has refcount 1;
 *   3. compressed L2 entries never carry COPIED.
 * Used as assert(qcow2_check_refcounts(...)) by the graph layer's check and
 * by the tests after every command.
 * What it is not: repair, or a check of images with internal snapshots or
 * persistent bitmaps (their tables are not parsed; such images pass).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "qcow2.h"

#define QCOW2_EXT_MAGIC_BITMAPS 0x23852875u

typedef struct CheckState {
    RealBlockState *bs;
    Qcow2State *s;
    uint32_t *expected;   /* references per host cluster */
    uint64_t n;           /* clusters in expected[] */
    BgError *err;
} CheckState;

/* Read LEN bytes at OFFSET, cached tables (of SIZE bytes) overriding the file. */
static int read_tables(CheckState *cs, Qcow2Cache *c, int size, uint64_t offset, uint64_t len,
                       uint8_t *buf)
{
    for (uint64_t off = 0; off < len; off += (uint64_t)size) {
        void *t = c ? qcow2_cache_is_table_offset(c, offset + off) : NULL;
        uint64_t n = len - off < (uint64_t)size ? len - off : (uint64_t)size;
        if (t) {
            memcpy(buf + off, t, n);
        } else {
            int ret = bdrv_pread(cs->bs->file->bs, (int64_t)(offset + off), (int64_t)n,
                                 buf + off, 0);
            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

static bool ref(CheckState *cs, uint64_t offset, uint64_t len, const char *what)
{
    if (len == 0)
        return true;
    uint64_t first = offset >> cs->s->cluster_bits;
    uint64_t last = (offset + len - 1) >> cs->s->cluster_bits;
    if (last >= cs->n) {
        uint64_t n = last + 1 + cs->n;
        uint32_t *e = real_realloc(cs->expected, n * sizeof(uint32_t));
        if (!e)
            return bg_error_setf(cs->err, "qcow2 check: out of memory");
        memset(e + cs->n, 0, (n - cs->n) * sizeof(uint32_t));
        cs->expected = e;
        cs->n = n;
    }
    for (uint64_t c = first; c <= last; c++)
        cs->expected[c]++;
    (void)what;
    return true;
}

/* The stored refcount of CLUSTER, through cached refcount blocks. */
static bool stored_refcount(CheckState *cs, uint64_t cluster, uint8_t *block, uint64_t *cached,
                            uint64_t *rc)
{
    Qcow2State *s = cs->s;
    uint64_t idx = cluster >> s->refcount_block_bits;
    if (idx >= s->refcount_table_size || !(s->refcount_table[idx] & REFT_OFFSET_MASK)) {
        *rc = 0;
        return true;
    }
    uint64_t off = s->refcount_table[idx] & REFT_OFFSET_MASK;
    if (*cached != off) {
        if (read_tables(cs, s->refcount_block_cache, s->cluster_size, off,
                        (uint64_t)s->cluster_size, block) < 0)
            return bg_error_setf(cs->err, "qcow2 check: cannot read refcount block %#" PRIx64,
                                 off);
        *cached = off;
    }
    *rc = qcow2_refcount_block_get(s, block, cluster & (uint64_t)(s->refcount_block_size - 1));
    return true;
}

static bool check_l2(CheckState *cs, int l1_index, uint64_t l2_offset, uint8_t *l2,
                     uint8_t *block, uint64_t *cached)
{
    Qcow2State *s = cs->s;
    if (read_tables(cs, s->l2_table_cache, s->l2_slice_size * 8, l2_offset,
                    (uint64_t)s->cluster_size, l2) < 0)
        return bg_error_setf(cs->err, "qcow2 check: cannot read L2 table %#" PRIx64, l2_offset);
    for (int i = 0; i < s->l2_size; i++) {
        uint64_t e = qcow2_get_l2_entry((const uint64_t *)(const void *)l2, i);
        switch (qcow2_get_cluster_type(e)) {
        case QCOW2_CLUSTER_COMPRESSED: {
            uint64_t coffset;
            int csize;
            if (e & QCOW_OFLAG_COPIED)
                return bg_error_setf(cs->err, "qcow2 check (3): compressed L2 entry with "
                                     "COPIED: l1 %d l2 %d entry %#" PRIx64, l1_index, i, e);
            qcow2_cluster_parse_compressed(s, e, &coffset, &csize);
            if (!ref(cs, coffset, (uint64_t)csize, "compressed"))
                return false;
            break;
        }
        case QCOW2_CLUSTER_NORMAL:
        case QCOW2_CLUSTER_ZERO_ALLOC: {
            uint64_t off = e & L2E_OFFSET_MASK, rc;
            if (!ref(cs, off, (uint64_t)s->cluster_size, "data"))
                return false;
            if (!stored_refcount(cs, off >> s->cluster_bits, block, cached, &rc))
                return false;
            if (!!(e & QCOW_OFLAG_COPIED) != (rc == 1))
                return bg_error_setf(cs->err, "qcow2 check (2): OFLAG_COPIED data cluster: "
                                     "l2_entry=%" PRIx64 " refcount=%" PRIu64, e, rc);
            break;
        }
        default:
            break;
        }
    }
    return true;
}

bool qcow2_check_refcounts(RealBlockState *bs, BgError *err)
{
    Qcow2State *s = bs->opaque;
    if (s->nb_snapshots)
        return true;
    for (Qcow2UnknownExt *u = s->unknown_ext; u; u = u->next)
        if (u->magic == QCOW2_EXT_MAGIC_BITMAPS)
            return true;
    CheckState cs = { .bs = bs, .s = s, .err = err };
    int64_t file_len = bdrv_getlength(bs->file->bs);
    uint8_t *l2 = real_malloc((size_t)s->cluster_size);
    uint8_t *block = real_malloc((size_t)s->cluster_size);
    uint64_t cached = 0, rc;
    bool ok = l2 && block && file_len >= 0;
    if (!ok)
        bg_error_setf(err, "qcow2 check: out of memory");
    ok = ok && ref(&cs, 0, (uint64_t)s->cluster_size, "header") &&
         ref(&cs, s->l1_table_offset, (uint64_t)s->l1_size * 8, "L1 table") &&
         ref(&cs, s->refcount_table_offset, (uint64_t)s->refcount_table_size * 8,
             "refcount table");
    for (uint32_t i = 0; ok && i < s->refcount_table_size; i++)
        if (s->refcount_table[i] & REFT_OFFSET_MASK)
            ok = ref(&cs, s->refcount_table[i] & REFT_OFFSET_MASK, (uint64_t)s->cluster_size,
                     "refcount block");
    for (int i = 0; ok && i < s->l1_size; i++) {
        uint64_t l2_offset = s->l1_table[i] & L1E_OFFSET_MASK;
        if (!l2_offset)
            continue;
        ok = ref(&cs, l2_offset, (uint64_t)s->cluster_size, "L2 table") &&
             stored_refcount(&cs, l2_offset >> s->cluster_bits, block, &cached, &rc);
        if (ok && !!(s->l1_table[i] & QCOW_OFLAG_COPIED) != (rc == 1))
            ok = bg_error_setf(err, "qcow2 check (2): OFLAG_COPIED L2 cluster: l1_index=%d "
                               "l1_entry=%" PRIx64 " refcount=%" PRIu64, i, s->l1_table[i], rc);
        if (ok)
            ok = check_l2(&cs, i, l2_offset, l2, block, &cached);
    }
    /* (1) over every cluster that is referenced, in the file, or counted. */
    uint64_t n = cs.n;
    uint64_t file_clusters = ((uint64_t)file_len + (uint64_t)s->cluster_size - 1) >>
                             s->cluster_bits;
    uint64_t counted = (uint64_t)s->refcount_table_size << s->refcount_block_bits;
    if (n < file_clusters)
        n = file_clusters;
    for (uint64_t c = 0; ok && c < counted; c++) {
        if (c >= n) {
            /* Beyond the file: only allocated refcount blocks can hold counts. */
            uint64_t idx = c >> s->refcount_block_bits;
            if (!(s->refcount_table[idx] & REFT_OFFSET_MASK)) {
                c = ((idx + 1) << s->refcount_block_bits) - 1;
                continue;
            }
        }
        ok = stored_refcount(&cs, c, block, &cached, &rc);
        uint64_t want = c < cs.n ? cs.expected[c] : 0;
        if (ok && rc != want)
            ok = bg_error_setf(err, "qcow2 check (1): cluster %" PRIu64 " refcount=%" PRIu64
                               " reference=%" PRIu64, c, rc, want);
    }
    for (uint64_t c = counted; ok && c < cs.n; c++)
        if (cs.expected[c])
            ok = bg_error_setf(err, "qcow2 check (1): cluster %" PRIu64 " is referenced but "
                               "has no refcount block", c);
    real_free(cs.expected);
    real_free(l2);
    real_free(block);
    return ok;
}
