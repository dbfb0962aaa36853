/*
 * img.c: offline image open (qemu-io's) and creation (qemu-img create).
 *
 * What this is: see img.h.  Mirrors QEMU 7.2 block.c bdrv_open_inherit()
 * for the nodes qemu-io builds (format node, "file" child, backing chain
 * from the header via bdrv_open_backing_file(), bdrv_inherited_options()
 * flags, bdrv_default_perms() on each edge so file-posix takes QEMU's
 * locks), block.c bdrv_img_create() and qemu-img.c img_create() (size
 * parsing, backing checks and their texts, the "Formatting" line with
 * qemu_opts_print()'s field order), file-posix.c raw_co_create() and
 * qcow2.c qcow2_co_create_opts() (file created, locked, truncated).
 * What it is not: format probing beyond qcow2-or-raw, or any format other
 * than qcow2 and raw for creation.
 */
#include "img.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "opts.h"
#include "qcow2.h"

#define IMG_MAX_CHAIN 64

typedef struct ImgLevel {
    RealBlockState *fmt;      /* format node */
    RealBlockState *file;     /* its file node */
} ImgLevel;

struct RealImage {
    ImgLevel levels[IMG_MAX_CHAIN];
    int n;                    /* levels in use, top first */
};

char *img_path_combine(const char *base, const char *name)
{
    if (name[0] == '/' || !strrchr(base, '/'))
        return real_strdup(name);
    size_t dirlen = (size_t)(strrchr(base, '/') - base) + 1;
    char *p = real_malloc(dirlen + strlen(name) + 1);
    if (!p)
        return NULL;
    memcpy(p, base, dirlen);
    strcpy(p + dirlen, name);
    return p;
}

static char *resolve(const char *dir, const char *name)
{
    if (!dir || name[0] == '/')
        return real_strdup(name);
    char *p = real_malloc(strlen(dir) + strlen(name) + 2);
    if (p)
        sprintf(p, "%s/%s", dir, name);
    return p;
}

/* Error texts name the file as the user gave it, not the resolved path. */
static void rename_in_error(BgError *err, const char *resolved, const char *given)
{
    if (!err || !err->set || !strcmp(resolved, given))
        return;
    char *at = strstr(err->text, resolved);
    if (!at)
        return;
    char tail[BG_ERROR_TEXT];
    snprintf(tail, sizeof(tail), "%s", at + strlen(resolved));
    snprintf(at, sizeof(err->text) - (size_t)(at - err->text), "%s%s", given, tail);
}

/* bdrv_filter_default_perms() + bdrv_default_perms_for_storage(): the file edge
 * (a format node opened with BDRV_O_NO_IO asks no consistent read of it). */
static void storage_perms(bool writable, bool metadata, bool no_io, uint64_t perm,
                          uint64_t shared, uint64_t *nperm, uint64_t *nshared)
{
    perm &= REAL_PERM_ALL;
    shared &= REAL_PERM_ALL;
    if (metadata) {
        if (writable)
            perm |= REAL_PERM_WRITE | REAL_PERM_RESIZE;
        if (!no_io)
            perm |= REAL_PERM_CONSISTENT_READ;
        shared &= ~(uint64_t)(REAL_PERM_WRITE | REAL_PERM_RESIZE);
    }
    shared &= ~(uint64_t)REAL_PERM_RESIZE;
    if (perm & REAL_PERM_WRITE_UNCHANGED)
        perm |= REAL_PERM_WRITE;
    if (perm & REAL_PERM_WRITE)
        perm |= REAL_PERM_RESIZE;
    *nperm = perm;
    *nshared = shared;
}

/*
 * The permissions of a file node under FMT, whose parents hold PERM/SHARED.
 * A file node that inherited force-share shares everything
 * (bdrv_child_perm()).
 */
static int apply_perms(RealBlockState *fmt, RealBlockState *file, uint64_t perm, uint64_t shared,
                       const ImgOpenOptions *o, BgError *err)
{
    uint64_t nperm, nshared;
    if (!strcmp(fmt->orig_drv->format_name, "raw")) {
        /* raw_child_perm(): filter rules, WRITE/RESIZE only if the parent has them. */
        nperm = perm & REAL_PERM_ALL;
        nshared = shared & REAL_PERM_ALL;
    } else {
        storage_perms(!fmt->read_only, true, o->no_io, perm, shared, &nperm, &nshared);
    }
    if (o->force_share)
        nshared = REAL_PERM_ALL;
    fmt->file->perm = nperm;
    fmt->file->shared_perm = nshared;
    if (file->drv->check_perm) {
        int ret = file->drv->check_perm(file, nperm, nshared, err);
        if (ret < 0) {
            if (file->drv->abort_perm_update)
                file->drv->abort_perm_update(file);
            return ret;
        }
        file->drv->set_perm(file, nperm, nshared);
    }
    return 0;
}

static const char *probe_format(RealBlockState *file)
{
    uint8_t magic[4] = { 0 };
    if (bdrv_getlength(file) >= 4 && bdrv_pread(file, 0, 4, magic, 0) == 0 &&
        magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && magic[3] == 0xfb)
        return "qcow2";
    return "raw";
}

/* Open one level: file node, then the format node over it. */
static int open_level(RealImage *img, const char *dir, const char *name, const char *fmt,
                      json_t *options, int flags, uint64_t perm, uint64_t shared,
                      const ImgOpenOptions *o, BgError *err)
{
    ImgLevel *l = &img->levels[img->n];
    char *path = resolve(dir, name);
    json_t *fopts = NULL;
    int ret = -ENOMEM;
    img->n++;       /* img_close() frees whatever this level got */
    if (!path)
        goto oom;
    l->file = bdrv_new();
    l->fmt = bdrv_new();
    fopts = json_pack("{s:s}", "filename", path);
    if (!l->file || !l->fmt || !fopts)
        goto oom;
    /* Children inherit read-only and the cache flags, and get discard=unmap. */
    int file_flags = (flags & (REAL_O_RDWR | REAL_O_NOCACHE | REAL_O_NO_FLUSH)) | REAL_O_UNMAP;
    ret = bdrv_open_driver(l->file, bdrv_find_driver("file"), fopts, file_flags, err);
    rename_in_error(err, path, name);
    if (ret < 0)
        goto out;
    real_free(l->file->filename);
    l->file->filename = real_strdup(name);
    if (!fmt)
        fmt = probe_format(l->file);
    if (!strcmp(fmt, "file")) {
        /* qemu-io -f file: the protocol node is the top node. */
        bdrv_free(l->fmt);
        l->fmt = NULL;
        ret = l->file->drv->check_perm(l->file, perm, shared, err);
        if (ret < 0)
            l->file->drv->abort_perm_update(l->file);
        else
            l->file->drv->set_perm(l->file, perm, shared);
        goto out;
    }
    const RealDriver *drv = bdrv_find_driver(fmt);
    if (!drv || !drv->is_format) {
        bg_error_setf(err, BG_MSG_UNKNOWN_DRIVER, fmt);
        ret = -EINVAL;
        goto out;
    }
    l->fmt->file = bdrv_child_new(l->fmt, l->file, "file",
                                  REAL_CHILD_DATA | REAL_CHILD_METADATA | REAL_CHILD_PRIMARY);
    if (!l->fmt->file)
        goto oom;
    ret = bdrv_open_driver(l->fmt, drv, options, flags, err);
    if (ret < 0)
        goto out;
    ret = apply_perms(l->fmt, l->file, perm, shared, o, err);
    if (ret < 0)
        goto out;
    real_free(l->fmt->filename);
    l->fmt->filename = real_strdup(name);
    ret = 0;
    goto out;
oom:
    bg_error_setf(err, "Out of memory");
    ret = -ENOMEM;
out:
    json_decref(fopts);
    real_free(path);
    return ret;
}

void img_close(RealImage *img)
{
    if (!img)
        return;
    for (int i = 0; i < img->n; i++) {
        ImgLevel *l = &img->levels[i];
        if (l->fmt) {
            bdrv_flush(l->fmt);
            bdrv_close(l->fmt);
            bdrv_child_free(l->fmt->file);
            bdrv_child_free(l->fmt->backing);
            bdrv_free(l->fmt);
        }
        if (l->file) {
            bdrv_close(l->file);
            bdrv_free(l->file);
        }
    }
    real_free(img);
}

/* raw_handle_perm_lock(): a lock held elsewhere gets a hint naming the file
 * of the level that failed (error_append_hint(): printed on the next line,
 * also under "Could not open backing file: "). */
static void lock_hint(BgError *err, const char *file)
{
    if (strncmp(err->text, "Failed to get ", 14) != 0)
        return;
    size_t len = strlen(err->text);
    snprintf(err->text + len, sizeof(err->text) - len, "\n" BG_MSG_FILE_LOCK_HINT, file);
}

/* img_open(); *RET_OUT is -ELOOP when the chain passes IMG_MAX_CHAIN levels. */
static RealImage *open_chain(const char *dir, const char *filename, const char *fmt,
                             const ImgOpenOptions *o, int *ret_out, BgError *err)
{
    *ret_out = -EINVAL;
    RealImage *img = real_calloc(1, sizeof(*img));
    if (!img) {
        bg_error_setf(err, "Out of memory");
        return NULL;
    }
    int flags = REAL_O_UNMAP | (o->read_only ? 0 : REAL_O_RDWR) |
                (o->nocache ? REAL_O_NOCACHE : 0) | (o->no_flush ? REAL_O_NO_FLUSH : 0);
    /* qemu-io's BlockBackend: read (+ write), sharing all only with -U.  A
     * bdrv_open() without a BlockBackend (no_io) has no parent to ask. */
    uint64_t perm = REAL_PERM_CONSISTENT_READ | (o->read_only ? 0 : REAL_PERM_WRITE);
    uint64_t shared = o->force_share ? REAL_PERM_ALL
                                     : REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED;
    if (o->no_io) {
        perm = 0;
        shared = REAL_PERM_ALL;
    }
    char *name = real_strdup(filename);
    if (!name) {
        bg_error_setf(err, "Out of memory");
        goto fail;
    }
    if (open_level(img, dir, filename, fmt, o->options, flags, perm, shared, o, err) < 0) {
        lock_hint(err, filename);
        goto fail;
    }
    while (!o->no_backing) {
        RealBlockState *top = img->levels[img->n - 1].fmt;
        if (!top || !top->orig_drv->supports_backing || !top->backing_file || !top->backing_file[0])
            break;
        if (img->n == IMG_MAX_CHAIN) {
            bg_error_setf(err, "Backing file chain too long");
            *ret_out = -ELOOP;
            goto fail;
        }
        char *bname = img_path_combine(name, top->backing_file);
        if (!bname) {
            bg_error_setf(err, "Out of memory");
            goto fail;
        }
        /* bdrv_default_perms_for_cow(): consistent read only; backing is read-only. */
        uint64_t bperm = perm & REAL_PERM_CONSISTENT_READ;
        uint64_t bshared = ((shared & REAL_PERM_WRITE) ? REAL_PERM_WRITE | REAL_PERM_RESIZE : 0) |
                           REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED;
        if (o->force_share)
            bshared = REAL_PERM_ALL;        /* bdrv_child_perm() */
        int bflags = (flags & ~REAL_O_RDWR) | REAL_O_UNMAP;
        int ret = open_level(img, dir, bname, top->backing_format, NULL, bflags, bperm, bshared,
                             o, err);
        real_free(name);
        name = bname;
        if (ret < 0) {
            lock_hint(err, bname);
            bg_error_prepend(err, BG_MSG_BACKING_OPEN_PREFIX);
            goto fail;
        }
        RealBlockState *b = img->levels[img->n - 1].fmt;
        top->backing = bdrv_child_new(top, b, "backing", REAL_CHILD_COW);
        if (!top->backing) {
            bg_error_setf(err, "Out of memory");
            goto fail;
        }
        top->backing->perm = bperm;
        top->backing->shared_perm = bshared;
        perm = bperm;
        shared = bshared;
    }
    real_free(name);
    *ret_out = 0;
    return img;
fail:
    real_free(name);
    img_close(img);
    return NULL;
}

RealImage *img_open(const char *dir, const char *filename, const char *fmt,
                    const ImgOpenOptions *o, BgError *err)
{
    int ret;
    return open_chain(dir, filename, fmt, o, &ret, err);
}

RealBlockState *img_bs(RealImage *img)
{
    return img->levels[0].fmt ? img->levels[0].fmt : img->levels[0].file;
}

/* ---- qemu-img create ---------------------------------------------------------- */

/* qemu-img.c cvtnum_full("image size", ...) */
static bool parse_size(const char *s, int64_t *out, BgBuf *errb)
{
    uint64_t v;
    bool hex_suffix = false;
    int r = opts_strtosz(s, 'B', &v, &hex_suffix);
    if (hex_suffix)
        bg_buf_printf(errb, "qemu-img: warning: " BG_MSG_QEMUIO_HEX_SUFFIX "\n", s);
    if (r < 0 && r != -ERANGE) {
        bg_buf_printf(errb, "qemu-img: " BG_MSG_IMG_INVALID_SIZE "\n", "image size");
        bg_buf_printf(errb, "qemu-img: " BG_MSG_IMG_INVALID_SIZE2 "\n");
        return false;
    }
    if (r == -ERANGE || v > INT64_MAX) {
        bg_buf_printf(errb, "qemu-img: " BG_MSG_IMG_SIZE_RANGE "\n", "image size",
                      (int64_t)0, INT64_MAX);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

/* raw_co_create(): create, lock (write+resize, resize unshared), truncate. */
static int create_file(const char *path, const char *given, int64_t size, BgError *err)
{
    drv_file_changed();
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        bg_error_setf(err, BG_MSG_IMG_CREATE_FILE, given, strerror(e));
        return -e;
    }
    static const char *const names[] = { "consistent read", "write", "write unchanged",
                                         "resize" };
    uint64_t perm = REAL_PERM_WRITE | REAL_PERM_RESIZE;
    uint64_t shared = REAL_PERM_ALL & ~(uint64_t)REAL_PERM_RESIZE;
    int ret = 0;
    for (int i = 0; i < 4 && !ret; i++) {
        struct flock fl = { .l_whence = SEEK_SET, .l_len = 1, .l_type = F_WRLCK };
        if (perm & (1u << i)) {
            fl.l_start = 200 + i;
            if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
                bg_error_setf(err, BG_MSG_FILE_LOCK_GET, names[i]);
                ret = -EAGAIN;
            }
        }
        fl = (struct flock){ .l_whence = SEEK_SET, .l_len = 1, .l_type = F_WRLCK };
        if (!ret && !(shared & (1u << i))) {
            fl.l_start = 100 + i;
            if (fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) {
                bg_error_setf(err, BG_MSG_FILE_LOCK_GET_SHARED, names[i]);
                ret = -EAGAIN;
            }
        }
    }
    if (!ret && (ftruncate(fd, 0) != 0 || ftruncate(fd, size) != 0)) {
        ret = -errno;
        bg_error_setf(err, BG_MSG_FILE_RESIZE, strerror(-ret));
    }
    close(fd);
    return ret;
}

static void print_error(BgBuf *errb, const char *file, const BgError *e, const char *hint)
{
    bg_buf_printf(errb, "qemu-img: %s: %s\n", file, e->text);
    if (hint)
        bg_buf_puts(errb, hint);
}

int img_create(const char *dir, const char *fmt, const char *filename, const char *size,
               const char *backing, const char *backing_fmt, BgBuf *out, BgBuf *errb)
{
    BgError err = { 0 };
    int64_t img_size = -1;
    bool qcow2 = !strcmp(fmt, "qcow2");
    if (!qcow2 && strcmp(fmt, "raw") && strcmp(fmt, "file"))
        return -1;
    if (size && !parse_size(size, &img_size, errb))
        return 1;
    if (!qcow2 && backing) {
        bg_error_setf(&err, BG_MSG_IMG_NO_BACKING, fmt);
        print_error(errb, filename, &err, NULL);
        return 1;
    }
    if (!qcow2 && backing_fmt) {
        bg_error_setf(&err, BG_MSG_IMG_NO_BACKING_FMT, fmt);
        print_error(errb, filename, &err, NULL);
        return 1;
    }
    if (backing) {
        if (!strcmp(filename, backing)) {
            bg_error_setf(&err, BG_MSG_IMG_SAME_BACKING);
            print_error(errb, filename, &err, NULL);
            return 1;
        }
        if (!backing[0]) {
            bg_error_setf(&err, BG_MSG_IMG_EMPTY_BACKING);
            print_error(errb, filename, &err, NULL);
            return 1;
        }
        /*
         * bdrv_img_create() opens the backing file with or without a size:
         * bdrv_open() with its whole chain (BDRV_O_NO_BACKING cleared),
         * read-only, BDRV_O_NO_IO and force-share=on, which the children
         * inherit.  No BlockBackend sits above it, so no node takes a
         * permission and every edge shares all: file-posix checks no lock
         * against a VM that holds the chain.  Only the open can fail.  A
         * chain that comes back to a file has no end there (QEMU opens it
         * until it runs out of file descriptors): a chain longer than
         * IMG_MAX_CHAIN is taken for one and answered unsupported.
         */
        char *full = img_path_combine(filename, backing);
        ImgOpenOptions bo = { .read_only = true, .force_share = true, .no_io = true };
        int oret = -ENOMEM;
        RealImage *b = full ? open_chain(dir, full, backing_fmt, &bo, &oret, &err) : NULL;
        real_free(full);
        if (!b && oret == -ELOOP)
            return -1;
        if (!b) {
            print_error(errb, filename, &err, BG_MSG_IMG_OPEN_BACKING_HINT "\n");
            return 1;
        }
        if (!backing_fmt) {
            char hint[64];
            snprintf(hint, sizeof(hint), BG_MSG_IMG_DETECTED_HINT,
                     img_bs(b)->orig_drv->format_name);
            img_close(b);
            bg_error_setf(&err, BG_MSG_IMG_BACKING_NO_FMT);
            print_error(errb, filename, &err, hint);
            return 1;
        }
        if (img_size == -1)
            img_size = bdrv_getlength(img_bs(b));
        img_close(b);
    }
    if (img_size == -1) {
        bg_error_setf(&err, BG_MSG_IMG_NEEDS_SIZE);
        print_error(errb, filename, &err, NULL);
        return 1;
    }

    /* qemu_opts_print() order of the create options. */
    bg_buf_printf(out, BG_MSG_IMG_FORMATTING, filename, fmt);
    if (qcow2) {
        bg_buf_printf(out, "cluster_size=65536 extended_l2=off compression_type=zlib size=%"
                      PRId64, img_size);
        if (backing)
            bg_buf_printf(out, " backing_file=%s", backing);
        if (backing_fmt)
            bg_buf_printf(out, " backing_fmt=%s", backing_fmt);
        bg_buf_puts(out, " lazy_refcounts=off refcount_bits=16\n");
    } else {
        bg_buf_printf(out, "size=%" PRId64 "\n", img_size);
    }

    if (qcow2 && backing_fmt && !backing) {
        /* qcow2_co_create_opts(), after the "Formatting" line and before
         * the file is made (QEMU 7.2 leaves no file) */
        bg_error_setf(&err, BG_MSG_IMG_FMT_WITHOUT_BACKING);
        print_error(errb, filename, &err, NULL);
        return 1;
    }
    int64_t rounded = (img_size + BDRV_SECTOR_SIZE - 1) / BDRV_SECTOR_SIZE * BDRV_SECTOR_SIZE;
    char *path = resolve(dir, filename);
    if (!path) {
        bg_buf_puts(errb, "qemu-img: out of memory\n");
        return 1;
    }
    int ret = create_file(path, filename, qcow2 ? 0 : rounded, &err);
    if (ret == 0 && qcow2) {
        RealBlockState *file = bdrv_new();
        json_t *fopts = json_pack("{s:s}", "filename", path);
        ret = file && fopts ? bdrv_open_driver(file, bdrv_find_driver("file"), fopts,
                                               REAL_O_RDWR | REAL_O_NO_FLUSH | REAL_O_UNMAP, &err)
                            : -ENOMEM;
        json_decref(fopts);
        if (ret == 0 && !img_template_write(file, rounded, backing, backing_fmt)) {
            ret = drv_qcow2_create(file, rounded, backing, backing_fmt, &err);
            if (ret == 0)
                img_template_record(file, rounded, backing, backing_fmt);
        }
        bdrv_free(file);
    }
    if (ret < 0) {
        rename_in_error(&err, path, filename);
        print_error(errb, filename, &err, NULL);
        if (ret == -EAGAIN)
            bg_buf_printf(errb, BG_MSG_FILE_LOCK_HINT "\n", filename);
    }
    real_free(path);
    return ret < 0 ? 1 : 0;
}
