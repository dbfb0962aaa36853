/*
 * qcow2_header.c: the qcow2 header, its extensions and the feature bits.
 *
 * What this is: QEMU 7.2 block/qcow2.c qcow2_do_open() (header fields and
 * their validation, with QEMU's error texts), qcow2_read_extensions()
 * (backing format, feature table, unknown extensions kept),
 * qcow2_update_header() (one cluster: header, backing format extension,
 * feature name table for clusters above 4 KiB, kept extensions, end marker,
 * backing file name), qcow2_mark_dirty/clean/corrupt() and
 * qcow2_signal_corruption().
 * What it is not: snapshot tables (their offset and count are kept and
 * rewritten unchanged), bitmaps, encryption, external data files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "qcow2.h"

#define V2_HEADER_SIZE 72
#define V3_HEADER_SIZE 112    /* 104 + compression type + 7 bytes of padding */

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }
static void wr32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static void wr64(uint8_t *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }

/* QEMU qcow2_validate_table() */
static int validate_table(Qcow2State *s, uint64_t offset, uint64_t entries, size_t entry_len,
                          int64_t max_size_bytes, const char *table_name, BgError *err)
{
    if (entries > (uint64_t)max_size_bytes / entry_len) {
        bg_error_setf(err, BG_MSG_QCOW2_TABLE_TOO_LARGE, table_name);
        return -EFBIG;
    }
    if ((INT64_MAX - entries * entry_len < offset) || qcow2_offset_into_cluster(s, offset)) {
        bg_error_setf(err, BG_MSG_QCOW2_TABLE_OFFSET, table_name);
        return -EINVAL;
    }
    return 0;
}

static int read_extensions(RealBlockState *bs, uint64_t start, uint64_t end, BgError *err)
{
    Qcow2State *s = bs->opaque;
    Qcow2UnknownExt **tail = &s->unknown_ext;
    uint64_t offset = start;
    while (offset < end) {
        uint8_t ext[8];
        int ret = bdrv_pread(bs->file->bs, (int64_t)offset, 8, ext, 0);
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_QCOW2_EXT_PREAD, offset, strerror(-ret));
            return ret;
        }
        uint32_t magic = rd32(ext), len = rd32(ext + 4);
        offset += 8;
        if (offset > end || len > end - offset) {
            bg_error_setf(err, BG_MSG_QCOW2_EXT_TOO_LARGE);
            return -EINVAL;
        }
        if (magic == QCOW2_EXT_MAGIC_END)
            return 0;
        if (magic == QCOW2_EXT_MAGIC_BACKING_FORMAT) {
            if (len >= 16) {
                bg_error_setf(err, BG_MSG_QCOW2_EXT_BACKING_FMT_LEN, len);
                return -EINVAL;
            }
            char fmt[16] = { 0 };
            ret = bdrv_pread(bs->file->bs, (int64_t)offset, len, fmt, 0);
            if (ret < 0) {
                bg_error_setf(err, BG_MSG_QCOW2_EXT_BACKING_FMT_READ,
                              strerror(-ret));
                return ret;
            }
            real_free(s->image_backing_format);
            s->image_backing_format = real_strdup(fmt);
            if (!s->image_backing_format)
                return bg_error_setf(err, "Out of memory"), -ENOMEM;
        } else if (magic != QCOW2_EXT_MAGIC_FEATURE_TABLE) {
            /* Unknown: kept for header rewrites (QEMU keeps them in reverse order). */
            Qcow2UnknownExt *u = real_calloc(1, sizeof(*u));
            uint8_t *data = real_malloc(len ? len : 1);
            if (!u || !data) {
                real_free(u);
                real_free(data);
                return bg_error_setf(err, "Out of memory"), -ENOMEM;
            }
            u->magic = magic;
            u->len = len;
            u->data = data;
            ret = bdrv_pread(bs->file->bs, (int64_t)offset, len, data, 0);
            u->next = s->unknown_ext;
            s->unknown_ext = u;
            if (ret < 0) {
                bg_error_setf(err, BG_MSG_QCOW2_EXT_UNKNOWN_READ,
                              strerror(-ret));
                return ret;
            }
        }
        offset += (len + 7u) & ~7u;
    }
    (void)tail;
    return 0;
}

void qcow2_header_free(Qcow2State *s)
{
    real_free(s->image_backing_file);
    real_free(s->image_backing_format);
    s->image_backing_file = s->image_backing_format = NULL;
    while (s->unknown_ext) {
        Qcow2UnknownExt *u = s->unknown_ext;
        s->unknown_ext = u->next;
        real_free(u->data);
        real_free(u);
    }
    real_free(s->l1_table);
    s->l1_table = NULL;
}

int qcow2_header_read(RealBlockState *bs, BgError *err)
{
    Qcow2State *s = bs->opaque;
    uint8_t h[V3_HEADER_SIZE];
    int ret = bdrv_pread(bs->file->bs, 0, sizeof(h), h, 0);
    if (ret < 0) {
        bg_error_setf(err, BG_MSG_QCOW2_READ_HEADER, strerror(-ret));
        return ret;
    }
    if (rd32(h) != QCOW_MAGIC) {
        bg_error_setf(err, BG_MSG_QCOW2_NOT_QCOW2);
        return -EINVAL;
    }
    uint32_t version = rd32(h + 4);
    if (version < 2 || version > 3) {
        bg_error_setf(err, BG_MSG_QCOW2_VERSION, version);
        return -ENOTSUP;
    }
    s->qcow_version = (int)version;
    uint32_t cluster_bits = rd32(h + 20);
    if (cluster_bits < QCOW2_MIN_CLUSTER_BITS || cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
        bg_error_setf(err, BG_MSG_QCOW2_CLUSTER_SIZE, cluster_bits);
        return -EINVAL;
    }
    s->cluster_bits = (int)cluster_bits;
    s->cluster_size = 1 << s->cluster_bits;

    uint64_t backing_file_offset = rd64(h + 8);
    uint32_t backing_file_size = rd32(h + 16);
    uint64_t size = rd64(h + 24);
    uint32_t crypt_method = rd32(h + 32);
    uint32_t l1_size = rd32(h + 36);
    uint64_t l1_table_offset = rd64(h + 40);
    uint64_t refcount_table_offset = rd64(h + 48);
    uint32_t refcount_table_clusters = rd32(h + 56);
    uint32_t nb_snapshots = rd32(h + 60);
    uint64_t snapshots_offset = rd64(h + 64);
    uint32_t refcount_order, header_length;

    if (version == 2) {
        s->incompatible_features = s->compatible_features = s->autoclear_features = 0;
        refcount_order = 4;
        header_length = V2_HEADER_SIZE;
    } else {
        s->incompatible_features = rd64(h + 72);
        s->compatible_features = rd64(h + 80);
        s->autoclear_features = rd64(h + 88);
        refcount_order = rd32(h + 96);
        header_length = rd32(h + 100);
        if (header_length < 104) {
            bg_error_setf(err, BG_MSG_QCOW2_HEADER_SHORT);
            return -EINVAL;
        }
    }
    if (header_length > (uint32_t)s->cluster_size) {
        bg_error_setf(err, BG_MSG_QCOW2_HEADER_EXCEEDS);
        return -EINVAL;
    }
    if (header_length > V3_HEADER_SIZE) {
        bg_error_setf(err, BG_MSG_QCOW2_UNSUPPORTED_FEATURE, "unknown header fields");
        return -ENOTSUP;
    }
    s->header_length = header_length;
    if (backing_file_offset > (uint64_t)s->cluster_size) {
        bg_error_setf(err, BG_MSG_QCOW2_BACKING_OFFSET);
        return -EINVAL;
    }
    uint64_t ext_end = backing_file_offset ? backing_file_offset : (uint64_t)s->cluster_size;
    s->compression_type = header_length > 104 ? h[104] : 0;
    if (s->compression_type > 1) {
        bg_error_setf(err, BG_MSG_QCOW2_COMPRESSION_TYPE, s->compression_type);
        return -ENOTSUP;
    }
    if (s->compression_type != 0 || (s->incompatible_features & ~QCOW2_INCOMPAT_MASK) ||
        (s->incompatible_features & (QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_EXTL2 |
                                     QCOW2_INCOMPAT_COMPRESSION))) {
        /* zstd, external data files and extended L2 entries are not implemented. */
        bg_error_setf(err, BG_MSG_QCOW2_UNSUPPORTED_FEATURE,
                      s->compression_type ? "compression type" :
                      (s->incompatible_features & QCOW2_INCOMPAT_DATA_FILE) ? "external data file"
                      : (s->incompatible_features & QCOW2_INCOMPAT_EXTL2) ? "extended L2 entries"
                      : "unknown incompatible feature");
        return -ENOTSUP;
    }
    if ((s->incompatible_features & QCOW2_INCOMPAT_CORRUPT) && (bs->open_flags & REAL_O_RDWR)) {
        bg_error_setf(err, BG_MSG_QCOW2_CORRUPT_RW);
        return -EACCES;
    }
    if (refcount_order > 6) {
        bg_error_setf(err, BG_MSG_QCOW2_REFCOUNT_WIDTH);
        return -EINVAL;
    }
    s->refcount_order = (int)refcount_order;
    s->refcount_bits = 1 << s->refcount_order;
    s->refcount_max = 1ull << (s->refcount_bits - 1);
    s->refcount_max += s->refcount_max - 1;
    if (crypt_method) {
        bg_error_setf(err, BG_MSG_QCOW2_UNSUPPORTED_FEATURE, "encryption");
        return -ENOTSUP;
    }
    s->l2_bits = s->cluster_bits - 3;
    s->l2_size = 1 << s->l2_bits;
    s->refcount_block_bits = s->cluster_bits - (s->refcount_order - 3);
    s->refcount_block_size = 1 << s->refcount_block_bits;
    bs->total_sectors = (int64_t)(size / BDRV_SECTOR_SIZE);
    s->csize_shift = 62 - (s->cluster_bits - 8);
    s->csize_mask = (1ull << (s->cluster_bits - 8)) - 1;
    s->cluster_offset_mask = (1ull << s->csize_shift) - 1;
    s->refcount_table_offset = refcount_table_offset;
    s->refcount_table_size = refcount_table_clusters << (s->cluster_bits - 3);
    if (refcount_table_clusters == 0) {
        bg_error_setf(err, BG_MSG_QCOW2_NO_REFTABLE);
        return -EINVAL;
    }
    ret = validate_table(s, refcount_table_offset, refcount_table_clusters,
                         (size_t)s->cluster_size, QCOW_MAX_REFTABLE_SIZE,
                         "Reference count table", err);
    if (ret < 0)
        return ret;
    ret = validate_table(s, snapshots_offset, nb_snapshots, 40, 40ll * 65536,
                         "Snapshot table", err);
    if (ret < 0)
        return ret;
    ret = validate_table(s, l1_table_offset, l1_size, 8, QCOW_MAX_L1_SIZE, "Active L1 table",
                         err);
    if (ret < 0)
        return ret;
    s->l1_size = (int)l1_size;
    s->l1_table_offset = l1_table_offset;
    int64_t l1_vm_state_index = qcow2_size_to_l1(s, (int64_t)size);
    if (l1_vm_state_index > INT32_MAX) {
        bg_error_setf(err, BG_MSG_QCOW2_TOO_BIG);
        return -EFBIG;
    }
    s->l1_vm_state_index = (int)l1_vm_state_index;
    if (s->l1_size < s->l1_vm_state_index) {
        bg_error_setf(err, BG_MSG_QCOW2_L1_TOO_SMALL);
        return -EINVAL;
    }
    s->l1_table = real_calloc(s->l1_size ? (size_t)s->l1_size : 1, 8);
    if (!s->l1_table) {
        bg_error_setf(err, BG_MSG_QCOW2_L1_ALLOC);
        return -ENOMEM;
    }
    if (s->l1_size > 0) {
        ret = bdrv_pread(bs->file->bs, (int64_t)s->l1_table_offset, (int64_t)s->l1_size * 8,
                         s->l1_table, 0);
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_QCOW2_READ_L1, strerror(-ret));
            return ret;
        }
        for (int i = 0; i < s->l1_size; i++)
            s->l1_table[i] = be64toh(s->l1_table[i]);
    }
    s->nb_snapshots = nb_snapshots;
    s->snapshots_offset = snapshots_offset;

    ret = read_extensions(bs, header_length, ext_end, err);
    if (ret < 0)
        return ret;
    if (backing_file_offset) {
        if (backing_file_size > 1023 ||
            backing_file_size > (uint64_t)s->cluster_size - backing_file_offset) {
            bg_error_setf(err, BG_MSG_QCOW2_BACKING_TOO_LONG);
            return -EINVAL;
        }
        s->image_backing_file = real_calloc(1, backing_file_size + 1);
        if (!s->image_backing_file)
            return bg_error_setf(err, "Out of memory"), -ENOMEM;
        ret = bdrv_pread(bs->file->bs, (int64_t)backing_file_offset, backing_file_size,
                         s->image_backing_file, 0);
        if (ret < 0) {
            bg_error_setf(err, BG_MSG_QCOW2_READ_BACKING_NAME, strerror(-ret));
            return ret;
        }
    }
    return 0;
}

/* QEMU header_ext_add() */
static int ext_add(uint8_t *buf, uint32_t magic, const void *data, size_t len, size_t buflen)
{
    size_t ext_len = 8 + ((len + 7) & ~(size_t)7);
    if (buflen < ext_len)
        return -ENOSPC;
    wr32(buf, magic);
    wr32(buf + 4, (uint32_t)len);
    if (len)
        memcpy(buf + 8, data, len);
    return (int)ext_len;
}

/* The feature name table qcow2_update_header() writes (messages.h). */
#define FEATURE(TYPE, BIT, NAME) { TYPE, BIT, NAME },
static const struct { uint8_t type, bit; const char *name; } feature_names[] = {
    BG_QCOW2_FEATURE_NAMES(FEATURE)
};
#undef FEATURE

int qcow2_header_update(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    size_t buflen = (size_t)s->cluster_size;
    uint8_t *header = real_buf_alloc(buflen);
    int ret;
    if (!header)
        return -ENOMEM;
    memset(header, 0, buflen);

    wr32(header, QCOW_MAGIC);
    wr32(header + 4, (uint32_t)s->qcow_version);
    wr32(header + 20, (uint32_t)s->cluster_bits);
    wr64(header + 24, (uint64_t)bs->total_sectors * BDRV_SECTOR_SIZE);
    wr32(header + 36, (uint32_t)s->l1_size);
    wr64(header + 40, s->l1_table_offset);
    wr64(header + 48, s->refcount_table_offset);
    wr32(header + 56, s->refcount_table_size >> (s->cluster_bits - 3));
    wr32(header + 60, s->nb_snapshots);
    wr64(header + 64, s->snapshots_offset);
    size_t pos;
    if (s->qcow_version >= 3) {
        wr64(header + 72, s->incompatible_features);
        wr64(header + 80, s->compatible_features);
        wr64(header + 88, s->autoclear_features);
        wr32(header + 96, (uint32_t)s->refcount_order);
        wr32(header + 100, V3_HEADER_SIZE);
        header[104] = s->compression_type;
        pos = V3_HEADER_SIZE;
    } else {
        pos = V2_HEADER_SIZE;
    }

    if (s->image_backing_format) {
        ret = ext_add(header + pos, QCOW2_EXT_MAGIC_BACKING_FORMAT, s->image_backing_format,
                      strlen(s->image_backing_format), buflen - pos);
        if (ret < 0)
            goto fail;
        pos += (size_t)ret;
    }
    if (s->qcow_version >= 3 && s->cluster_size > 4096) {
        uint8_t table[sizeof(feature_names) / sizeof(feature_names[0]) * 48];
        memset(table, 0, sizeof(table));
        for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
            table[i * 48] = feature_names[i].type;
            table[i * 48 + 1] = feature_names[i].bit;
            memcpy(table + i * 48 + 2, feature_names[i].name, strlen(feature_names[i].name));
        }
        ret = ext_add(header + pos, QCOW2_EXT_MAGIC_FEATURE_TABLE, table, sizeof(table),
                      buflen - pos);
        if (ret < 0)
            goto fail;
        pos += (size_t)ret;
    }
    for (Qcow2UnknownExt *u = s->unknown_ext; u; u = u->next) {
        ret = ext_add(header + pos, u->magic, u->data, u->len, buflen - pos);
        if (ret < 0)
            goto fail;
        pos += (size_t)ret;
    }
    ret = ext_add(header + pos, QCOW2_EXT_MAGIC_END, NULL, 0, buflen - pos);
    if (ret < 0)
        goto fail;
    pos += (size_t)ret;
    if (s->image_backing_file) {
        size_t len = strlen(s->image_backing_file);
        if (buflen - pos < len) {
            ret = -ENOSPC;
            goto fail;
        }
        memcpy(header + pos, s->image_backing_file, len);
        wr64(header + 8, pos);
        wr32(header + 16, (uint32_t)len);
    }
    ret = bdrv_pwrite(bs->file->bs, 0, s->cluster_size, header, 0);
fail:
    real_buf_free(header);
    return ret;
}

int qcow2_header_mark_dirty(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    if (s->incompatible_features & QCOW2_INCOMPAT_DIRTY)
        return 0;
    uint64_t val = htobe64(s->incompatible_features | QCOW2_INCOMPAT_DIRTY);
    int ret = bdrv_pwrite(bs->file->bs, 72, sizeof(val), &val, 0);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    if (ret < 0)
        return ret;
    s->incompatible_features |= QCOW2_INCOMPAT_DIRTY;
    return 0;
}

int qcow2_header_mark_clean(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    if (!(s->incompatible_features & QCOW2_INCOMPAT_DIRTY))
        return 0;
    s->incompatible_features &= ~QCOW2_INCOMPAT_DIRTY;
    /* QEMU qcow2_flush_caches(): L2 first, then refcounts, then the file. */
    int ret = qcow2_cache_write(bs, s->l2_table_cache);
    if (ret == 0)
        ret = qcow2_cache_write(bs, s->refcount_block_cache);
    if (ret == 0)
        ret = bdrv_flush(bs->file->bs);
    if (ret < 0)
        return ret;
    return qcow2_header_update(bs);
}

int qcow2_header_mark_corrupt(RealBlockState *bs)
{
    Qcow2State *s = bs->opaque;
    s->incompatible_features |= QCOW2_INCOMPAT_CORRUPT;
    return qcow2_header_update(bs);
}

static void signal_corruption(RealBlockState *bs, bool fatal, int64_t offset, int64_t size,
                              const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void signal_corruption(RealBlockState *bs, bool fatal, int64_t offset, int64_t size,
                              const char *fmt, va_list ap)
{
    Qcow2State *s = bs->opaque;
    char message[200];

    if (bs->inspecting)
        return;     /* the caller's -EIO is all an inspecting read reports */
    fatal = fatal && !bs->read_only;
    if (s->signaled_corruption &&
        (!fatal || (s->incompatible_features & QCOW2_INCOMPAT_CORRUPT)))
        return;
    vsnprintf(message, sizeof(message), fmt, ap);
    snprintf(bs->corrupt_msg, sizeof(bs->corrupt_msg),
             fatal ? BG_MSG_QCOW2_MARK_CORRUPT : BG_MSG_QCOW2_IMAGE_CORRUPT, message);
    if (bs->corrupted)
        bs->corrupted(bs, message, offset, size, fatal);
    if (fatal) {
        qcow2_header_mark_corrupt(bs);
        bs->drv = NULL;     /* make the node unusable: "No medium found" */
    }
    s->signaled_corruption = true;
}

void qcow2_header_signal_corruption(RealBlockState *bs, bool fatal, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    signal_corruption(bs, fatal, -1, -1, fmt, ap);
    va_end(ap);
}

void qcow2_header_signal_corruption_at(RealBlockState *bs, bool fatal, int64_t offset,
                                       int64_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    signal_corruption(bs, fatal, offset, size, fmt, ap);
    va_end(ap);
}
