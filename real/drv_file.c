/*
 * drv_file.c: the "file" protocol driver, POSIX I/O on a regular file.
 *
 * What this is: QEMU 7.2 block/file-posix.c for regular files: pread/pwrite
 * retried on EINTR and short transfers (handle_aiocb_rw_linear: a short
 * read is EOF and zero-filled, a short write is -EINVAL), cache.direct as
 * O_DIRECT with the alignment probed as raw_probe_alignment() does and
 * aligned bounce buffers (read-modify-write for unaligned writes, as
 * block/io.c pads requests), write-zeroes through fallocate
 * (handle_aiocb_write_zeroes[_unmap]), discard as PUNCH_HOLE, fdatasync
 * unless cache.no-flush (bdrv.c) or drv_file_set_host_sync(false) (bdrv.h:
 * volatile scratch directories; the only state this file keeps outside
 * its nodes), block status with SEEK_DATA/SEEK_HOLE,
 * and QEMU's image locking with OFD locks: byte 100+bit for each permission
 * held, 200+bit for each permission not shared (raw_apply_lock_bytes,
 * raw_check_lock_bytes, raw_handle_perm_lock).  Options: filename, aio,
 * aio-max-batch, locking, pr-manager, drop-cache, x-check-cache-dropped.
 * What it is not: host_device/host_cdrom, aio=native (accepted, served
 * synchronously), the page-cache check of x-check-cache-dropped (accepted
 * and ignored).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "bdrv.h"
#include "messages.h"
#include "opts.h"

#define LOCK_PERM_BASE   100  /* RAW_LOCK_PERM_BASE */
#define LOCK_SHARED_BASE 200  /* RAW_LOCK_SHARED_BASE */
#define MAX_BLOCKSIZE    4096

/* The lock bytes held through one fd (raw_apply_lock_bytes' bookkeeping). */
typedef struct FileLocks {
    uint64_t perm;            /* bytes 100+i held */
    uint64_t shared;          /* bytes 200+i held */
} FileLocks;

typedef struct FileReopen FileReopen;

typedef struct FileState {
    int fd;                   /* -1 when closed */
    int open_flags;           /* O_* the fd was opened with */
    bool use_lock;            /* locking=on, or auto with OFD locks */
    bool drop_cache;          /* option drop-cache (accepted) */
    bool check_cache_dropped; /* option x-check-cache-dropped (accepted) */
    bool has_write_zeroes;    /* FALLOC_FL_ZERO_RANGE still worth trying */
    bool has_discard;         /* PUNCH_HOLE still worth trying */
    bool has_fallocate;       /* plain fallocate still worth trying */
    bool page_cache_inconsistent; /* an fdatasync failed: later flushes fail */
    uint32_t buf_align;       /* O_DIRECT buffer alignment */
    uint64_t perm;            /* permissions in force */
    uint64_t shared_perm;     /* permissions shared in force */
    FileLocks locks;          /* lock bytes held through fd */
    FileReopen *reopen;       /* a reopen in progress (raw_reopen_prepare's s->reopen_state) */
} FileState;

struct FileReopen {
    int fd;                   /* new fd, or the old one */
    int open_flags;
    bool check_cache_dropped;
    bool drop_cache;
    FileLocks locks;          /* lock bytes held through a new fd */
};

static const char *const file_runtime_opts[] = {
    "filename", "aio", "aio-max-batch", "locking", "pr-manager", "drop-cache",
    "x-check-cache-dropped", NULL
};
static const char *const file_mutable_opts[] = { "x-check-cache-dropped", NULL };

static const char *const perm_names[] = { "consistent read", "write", "write unchanged",
                                          "resize" };

/* ---- locking (file-posix.c raw_apply_lock_bytes & co.) ------------------------ */

static int lock_fd(int fd, int64_t start, bool lock)
{
    struct flock fl = { .l_whence = SEEK_SET, .l_start = start, .l_len = 1,
                        .l_type = lock ? F_RDLCK : F_UNLCK };
    return fcntl(fd, F_OFD_SETLK, &fl) == -1 ? -errno : 0;
}

/* QEMU qemu_lock_fd_test(fd, start, 1, true): -EAGAIN if someone else holds it. */
static int lock_fd_test(int fd, int64_t start)
{
    struct flock fl = { .l_whence = SEEK_SET, .l_start = start, .l_len = 1,
                        .l_type = F_WRLCK };
    if (fcntl(fd, F_OFD_GETLK, &fl) == -1)
        return -errno;
    return fl.l_type == F_UNLCK ? 0 : -EAGAIN;
}

/* raw_lock_error_setg_errno(): no errno text for a lock held elsewhere. */
static void lock_error(BgError *err, int errnum, const char *msg)
{
    if (errnum == EAGAIN)
        bg_error_setf(err, "%s", msg);
    else
        bg_error_setf(err, "%s: %s", msg, strerror(errnum));
}

/*
 * QEMU raw_apply_lock_bytes(): hold byte 100+i for each bit of PERM_BITS and
 * 200+i for each bit of SHARED_BITS (the permissions NOT shared); with
 * UNLOCK, release the others.  L tracks what FD holds (NULL: unknown, lock
 * everything asked, unlock everything not asked).
 */
static int apply_lock_bytes(FileLocks *l, int fd, uint64_t perm_bits, uint64_t shared_bits,
                            bool unlock, BgError *err)
{
    uint64_t held[2] = { l ? l->perm : (unlock ? REAL_PERM_ALL : 0),
                         l ? l->shared : (unlock ? REAL_PERM_ALL : 0) };
    uint64_t want[2] = { perm_bits, shared_bits };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 4; i++) {
            uint64_t bit = 1ull << i;
            int off = (k ? LOCK_SHARED_BASE : LOCK_PERM_BASE) + i;
            if ((want[k] & bit) && !(held[k] & bit)) {
                int ret = lock_fd(fd, off, true);
                if (ret) {
                    char b[128];
                    snprintf(b, sizeof(b), BG_MSG_FILE_LOCK_BYTE, off);
                    lock_error(err, -ret, b);
                    return ret;
                }
                held[k] |= bit;
            } else if (unlock && (held[k] & bit) && !(want[k] & bit)) {
                if (lock_fd(fd, off, false) == 0)
                    held[k] &= ~bit;
            }
        }
    }
    if (l) {
        l->perm = held[0];
        l->shared = held[1];
    }
    return 0;
}

static int check_lock_bytes(int fd, uint64_t perm, uint64_t shared, BgError *err)
{
    for (int i = 0; i < 4; i++) {
        if ((perm & (1ull << i))) {
            int ret = lock_fd_test(fd, LOCK_SHARED_BASE + i);
            if (ret) {
                char b[128];
                snprintf(b, sizeof(b), BG_MSG_FILE_LOCK_GET, perm_names[i]);
                lock_error(err, -ret, b);
                return ret;
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        if (!(shared & (1ull << i))) {
            int ret = lock_fd_test(fd, LOCK_PERM_BASE + i);
            if (ret) {
                char b[128];
                snprintf(b, sizeof(b), BG_MSG_FILE_LOCK_GET_SHARED, perm_names[i]);
                lock_error(err, -ret, b);
                return ret;
            }
        }
    }
    return 0;
}

static int file_check_perm(RealBlockState *bs, uint64_t perm, uint64_t shared, BgError *err)
{
    FileState *s = bs->opaque;
    if (!s->use_lock)
        return 0;
    /*
     * raw_check_perm(): check from the old fd first, then give the new fd of a
     * reopen the new locks (were the new fd to hold them already, the OFD lock
     * test from the old fd would see them as another user's).
     */
    int ret = 0;
    if ((s->perm | perm) != s->perm || (s->shared_perm & shared) != s->shared_perm) {
        ret = apply_lock_bytes(&s->locks, s->fd, s->perm | perm, ~s->shared_perm | ~shared,
                               false, err);
        if (!ret)
            ret = check_lock_bytes(s->fd, perm, shared, err);
        if (ret) {
            apply_lock_bytes(&s->locks, s->fd, s->perm, ~s->shared_perm, true, NULL);
            return ret;
        }
    }
    if (s->reopen && s->reopen->fd != s->fd) {
        ret = apply_lock_bytes(&s->reopen->locks, s->reopen->fd, perm, ~shared, false, err);
        if (ret < 0) {
            apply_lock_bytes(&s->locks, s->fd, s->perm, ~s->shared_perm, true, NULL);
            return ret;
        }
    }
    return 0;
}

static void file_set_perm(RealBlockState *bs, uint64_t perm, uint64_t shared)
{
    FileState *s = bs->opaque;
    if (s->use_lock) {
        apply_lock_bytes(&s->locks, s->fd, perm, ~shared, true, NULL);
        if (s->reopen && s->reopen->fd != s->fd)
            apply_lock_bytes(&s->reopen->locks, s->reopen->fd, perm, ~shared, true, NULL);
    }
    s->perm = perm;
    s->shared_perm = shared;
}

static void file_abort_perm_update(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    if (s->use_lock) {
        apply_lock_bytes(&s->locks, s->fd, s->perm, ~s->shared_perm, true, NULL);
        if (s->reopen && s->reopen->fd != s->fd)
            apply_lock_bytes(&s->reopen->locks, s->reopen->fd, s->perm, ~s->shared_perm, true,
                             NULL);
    }
}

/* ---- open / close ------------------------------------------------------------ */

static int open_flags_for(int flags)
{
    int o = O_CLOEXEC | O_LARGEFILE;
    o |= (flags & REAL_O_RDWR) ? O_RDWR : O_RDONLY;
    if (flags & REAL_O_NOCACHE)
        o |= O_DIRECT;
    return o;
}

/* QEMU qemu_open_internal(): the error text names the file. */
static int do_open(const char *filename, int oflags, BgError *err)
{
    int fd;
    do {
        fd = open(filename, oflags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int e = errno;
        if (e == EINVAL && (oflags & O_DIRECT))
            bg_error_setf(err, BG_MSG_FILE_NO_ODIRECT, filename);
        else
            bg_error_setf(err, BG_MSG_FILE_OPEN, filename, strerror(e));
        return -e;
    }
    return fd;
}

/* QEMU raw_is_io_aligned() / raw_probe_alignment() for O_DIRECT fds. */
static void probe_alignment(RealBlockState *bs, FileState *s)
{
    if (!(s->open_flags & O_DIRECT)) {
        bs->bl.request_alignment = 1;
        s->buf_align = 1;
        return;
    }
    static const size_t alignments[] = { 1, 512, 1024, 2048, 4096 };
    size_t max_align = MAX_BLOCKSIZE;
    long page = sysconf(_SC_PAGESIZE);
    if (page > (long)max_align)
        max_align = (size_t)page;
    void *buf = real_memalign(max_align, 2 * max_align);
    bs->bl.request_alignment = 0;
    s->buf_align = 0;
    if (buf) {
        for (size_t i = 0; i < 5; i++) {
            if (pread(s->fd, buf, alignments[i], 0) >= 0) {
                bs->bl.request_alignment = alignments[i] != 1 ? (uint32_t)alignments[i]
                                                              : (uint32_t)max_align;
                break;
            }
        }
        for (size_t i = 0; i < 5; i++) {
            if (pread(s->fd, (char *)buf + alignments[i], max_align, 0) >= 0) {
                s->buf_align = alignments[i] != 1 ? (uint32_t)alignments[i]
                                                  : (uint32_t)max_align;
                break;
            }
        }
        real_free(buf);
    }
    if (!bs->bl.request_alignment)
        bs->bl.request_alignment = MAX_BLOCKSIZE;
    if (!s->buf_align)
        s->buf_align = bs->bl.request_alignment;
}

static int file_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    FileState *s = bs->opaque;
    s->fd = -1;
    const char *filename = opts_get_str(options, "filename", NULL);
    if (!filename)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, "filename"), -EINVAL;
    if (strncmp(filename, "file:", 5) == 0)
        filename += 5;

    const char *aio = opts_get_str(options, "aio", "threads");
    if (strcmp(aio, "threads") && strcmp(aio, "native") && strcmp(aio, "io_uring"))
        return bg_error_setf(err, BG_MSG_FILE_ENUM_VALUE, aio), -EINVAL;
    const char *locking = opts_get_str(options, "locking", "auto");
    if (strcmp(locking, "on") && strcmp(locking, "off") && strcmp(locking, "auto"))
        return bg_error_setf(err, BG_MSG_FILE_ENUM_VALUE, locking), -EINVAL;
    int64_t max_batch;
    if (!opts_get_int(options, "aio-max-batch", 0, &max_batch, err) ||
        !opts_get_bool(options, "drop-cache", true, &s->drop_cache, err) ||
        !opts_get_bool(options, "x-check-cache-dropped", false, &s->check_cache_dropped, err))
        return -EINVAL;
    if (opts_get_str(options, "pr-manager", NULL))
        return bg_error_setf(err, BG_MSG_FILE_PR_MANAGER,
                             opts_get_str(options, "pr-manager", "")), -EINVAL;
    /* Linux has OFD locks, so "auto" means on (qemu_has_ofd_lock()). */
    s->use_lock = strcmp(locking, "off") != 0;
    s->open_flags = open_flags_for(flags);
    int fd = do_open(filename, s->open_flags, err);
    if (fd < 0)
        return fd == -EROFS ? -EACCES : fd;
    s->fd = fd;
    if (!strcmp(aio, "native") && !(s->open_flags & O_DIRECT)) {
        bg_error_setf(err, BG_MSG_FILE_AIO_NATIVE);
        close(fd);
        s->fd = -1;
        return -EINVAL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        bg_error_setf(err, BG_MSG_FILE_OPEN, filename, strerror(EISDIR));
        close(fd);
        s->fd = -1;
        return -EISDIR;
    }
    s->perm = 0;
    s->shared_perm = REAL_PERM_ALL;
    s->has_write_zeroes = s->has_discard = s->has_fallocate = true;
    bs->supported_zero_flags = REAL_REQ_MAY_UNMAP | REAL_REQ_NO_FALLBACK;
    real_free(bs->filename);
    bs->filename = real_strdup(filename);
    if (!bs->filename) {
        close(fd);
        s->fd = -1;
        bg_error_setf(err, "Out of memory");
        return -ENOMEM;
    }
    return 0;
}

static void file_close(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    if (s->fd >= 0)
        close(s->fd);   /* closing the description drops its OFD locks */
    s->fd = -1;
}

static void file_refresh_limits(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    probe_alignment(bs, s);
    bs->bl.min_mem_alignment = s->buf_align;
}

/* ---- data path ---------------------------------------------------------------- */

/* QEMU handle_aiocb_rw_linear() + handle_aiocb_rw(). */
static int rw_linear(RealBlockState *bs, int fd, bool write, int64_t offset, int64_t bytes,
                     char *buf)
{
    int64_t done = 0;
    if (write)
        drv_file_changed();
    while (done < bytes) {
        ssize_t len = write ? pwrite(fd, buf + done, (size_t)(bytes - done), offset + done)
                            : pread(fd, buf + done, (size_t)(bytes - done), offset + done);
        if (len == -1 && errno == EINTR)
            continue;
        if (len == -1 && errno == EINVAL && (bs->open_flags & REAL_O_NOCACHE) && !write &&
            done > 0)
            break;          /* O_DIRECT short read at EOF */
        if (len == -1)
            return -errno;
        if (len == 0)
            break;
        done += len;
    }
    if (done < bytes) {
        if (write)
            return -EINVAL;
        memset(buf + done, 0, (size_t)(bytes - done));
    }
    return 0;
}

/* O_DIRECT with an unaligned request or buffer: aligned bounce, RMW on write. */
static int rw_bounce(RealBlockState *bs, FileState *s, bool write, int64_t offset,
                     int64_t bytes, char *buf)
{
    int64_t align = bs->bl.request_alignment;
    int64_t start = offset / align * align;
    int64_t end = (offset + bytes + align - 1) / align * align;
    size_t balign = s->buf_align > align ? s->buf_align : (size_t)align;
    char *bounce = balign <= REAL_BUF_ALIGN ? real_buf_alloc((size_t)(end - start))
                                            : real_memalign(balign, (size_t)(end - start));
    int ret;
    if (!bounce)
        return -ENOMEM;
    if (!write) {
        ret = rw_linear(bs, s->fd, false, start, end - start, bounce);
        if (ret == 0)
            memcpy(buf, bounce + (offset - start), (size_t)bytes);
    } else {
        ret = 0;
        if (end - start == align) {
            if (offset != start || offset + bytes != end)
                ret = rw_linear(bs, s->fd, false, start, align, bounce);
        } else {
            if (offset != start)
                ret = rw_linear(bs, s->fd, false, start, align, bounce);
            if (ret == 0 && offset + bytes != end)
                ret = rw_linear(bs, s->fd, false, end - align, align,
                                bounce + (end - align - start));
        }
        if (ret == 0) {
            memcpy(bounce + (offset - start), buf, (size_t)bytes);
            ret = rw_linear(bs, s->fd, true, start, end - start, bounce);
        }
    }
    real_buf_free(bounce);
    return ret;
}

static bool needs_bounce(RealBlockState *bs, FileState *s, int64_t offset, int64_t bytes,
                         const void *buf)
{
    if (!(s->open_flags & O_DIRECT))
        return false;
    uint32_t a = bs->bl.request_alignment;
    return (offset % a) || (bytes % a) || ((uintptr_t)buf % s->buf_align);
}

static int file_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf, int flags)
{
    FileState *s = bs->opaque;
    if (needs_bounce(bs, s, offset, bytes, buf))
        return rw_bounce(bs, s, false, offset, bytes, buf);
    return rw_linear(bs, s->fd, false, offset, bytes, buf);
}

static int file_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                       int flags)
{
    FileState *s = bs->opaque;
    if (needs_bounce(bs, s, offset, bytes, buf))
        return rw_bounce(bs, s, true, offset, bytes, (char *)buf);
    return rw_linear(bs, s->fd, true, offset, bytes, (char *)buf);
}

static int do_fallocate(int fd, int mode, int64_t offset, int64_t len)
{
    drv_file_changed();
    do {
        if (fallocate(fd, mode, offset, len) == 0)
            return 0;
    } while (errno == EINTR);
    return errno == EOPNOTSUPP ? -ENOTSUP : -errno;
}

/* QEMU handle_aiocb_write_zeroes(): ZERO_RANGE, else PUNCH_HOLE + fallocate, else extend. */
static int write_zeroes(RealBlockState *bs, FileState *s, int64_t offset, int64_t bytes)
{
    if (s->has_write_zeroes) {
        int ret = do_fallocate(s->fd, FALLOC_FL_ZERO_RANGE, offset, bytes);
        if (ret == -ENOTSUP)
            s->has_write_zeroes = false;
        else if (ret == 0 || ret != -EINVAL)
            return ret;
    }
    if (s->has_discard && s->has_fallocate) {
        int ret = do_fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes);
        if (ret == 0) {
            ret = do_fallocate(s->fd, 0, offset, bytes);
            if (ret == 0 || ret != -ENOTSUP)
                return ret;
            s->has_fallocate = false;
        } else if (ret != -EINVAL && ret != -ENOTSUP) {
            return ret;
        } else if (ret == -ENOTSUP) {
            s->has_discard = false;
        }
    }
    struct stat st;
    if (s->has_fallocate && fstat(s->fd, &st) == 0 && offset >= st.st_size) {
        int ret = do_fallocate(s->fd, 0, offset, bytes);
        if (ret == 0 || ret != -ENOTSUP)
            return ret;
        s->has_fallocate = false;
    }
    return -ENOTSUP;
}

static int file_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    FileState *s = bs->opaque;
    if (s->open_flags & O_DIRECT) {
        uint32_t a = bs->bl.request_alignment;
        if ((offset % a) || (bytes % a))
            return -ENOTSUP;
    }
    if (flags & REAL_REQ_MAY_UNMAP) {
        /* handle_aiocb_write_zeroes_unmap(): punch a hole first. */
        int ret = do_fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes);
        if (ret != -ENOTSUP && ret != -EINVAL && ret != -EBUSY)
            return ret;
    }
    return write_zeroes(bs, s, offset, bytes);
}

static int file_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    FileState *s = bs->opaque;
    if (!s->has_discard)
        return -ENOTSUP;
    int ret = do_fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, bytes);
    if (ret == -ENOTSUP || ret == -EINVAL) {
        s->has_discard = false;
        return -ENOTSUP;
    }
    return ret;
}

static bool host_sync = true;
static uint64_t changes;

uint64_t drv_file_changes(void)
{
    return changes;
}

void drv_file_changed(void)
{
    changes++;
}

void drv_file_set_host_sync(bool on)
{
    host_sync = on;
}

static int file_flush_to_disk(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    if (s->page_cache_inconsistent)
        return -EIO;
    while (host_sync && fdatasync(s->fd) != 0) {
        if (errno == EINTR)
            continue;
        /* QEMU handle_aiocb_flush(): after a failed fdatasync nothing is trusted. */
        s->page_cache_inconsistent = true;
        return -errno;
    }
    return 0;
}

static int64_t file_getlength(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    off_t size = lseek(s->fd, 0, SEEK_END);
    return size < 0 ? -errno : (int64_t)size;
}

static int64_t file_get_allocated_file_size(RealBlockState *bs)
{
    FileState *s = bs->opaque;
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return -errno;
    return (int64_t)st.st_blocks * 512;
}

static int file_truncate(RealBlockState *bs, int64_t offset, bool exact, RealPrealloc prealloc,
                         BgError *err)
{
    FileState *s = bs->opaque;
    drv_file_changed();
    if (ftruncate(s->fd, offset) != 0) {
        int e = errno;
        bg_error_setf(err, BG_MSG_FILE_RESIZE, strerror(e));
        return -e;
    }
    return 0;
}

/* QEMU raw_co_block_status() with find_allocation(). */
static int file_block_status(RealBlockState *bs, bool want_zero, int64_t offset, int64_t bytes,
                             int64_t *pnum, int64_t *map, RealBlockState **file)
{
    FileState *s = bs->opaque;
    *map = offset;
    *file = bs;
    if (!want_zero) {
        *pnum = bytes;
        return REAL_BLOCK_DATA | REAL_BLOCK_OFFSET_VALID;
    }
    off_t data = lseek(s->fd, offset, SEEK_DATA);
    if (data == offset) {
        off_t hole = lseek(s->fd, offset, SEEK_HOLE);
        *pnum = hole > offset ? hole - offset : bytes;
        if (*pnum > bytes)
            *pnum = bytes;
        return REAL_BLOCK_DATA | REAL_BLOCK_OFFSET_VALID;
    }
    if (data > offset) {
        *pnum = data - offset < bytes ? data - offset : bytes;
        return REAL_BLOCK_ZERO | REAL_BLOCK_OFFSET_VALID;
    }
    if (data < 0 && errno == ENXIO) {
        *pnum = bytes;      /* a hole up to EOF */
        return REAL_BLOCK_ZERO | REAL_BLOCK_OFFSET_VALID;
    }
    *pnum = bytes;
    return REAL_BLOCK_DATA | REAL_BLOCK_OFFSET_VALID;
}

static int file_get_info(RealBlockState *bs, RealDriverInfo *bdi)
{
    return 0;
}

/* ---- reopen (raw_reopen_prepare; the fd switch of raw_reconfigure_getfd) ------ */

static int file_reopen_prepare(RealReopenState *rs, BgError *err)
{
    RealBlockState *bs = rs->bs;
    FileState *s = bs->opaque;
    FileReopen *r = real_calloc(1, sizeof(*r));
    if (!r)
        return bg_error_setf(err, "Out of memory"), -ENOMEM;
    if (!opts_get_bool(rs->options, "x-check-cache-dropped", false, &r->check_cache_dropped,
                       err) ||
        !opts_get_bool(rs->options, "drop-cache", true, &r->drop_cache, err)) {
        real_free(r);
        return -EINVAL;
    }
    r->open_flags = open_flags_for(rs->flags);
    r->fd = s->fd;
    if (r->open_flags != s->open_flags) {
        int fd = -1;
        /* Only O_DIRECT differs: fcntl on the same fd keeps the locks. */
        if ((r->open_flags & ~O_DIRECT) == (s->open_flags & ~O_DIRECT)) {
            int fl = fcntl(s->fd, F_GETFL);
            if (fl >= 0 && fcntl(s->fd, F_SETFL,
                                 (fl & ~O_DIRECT) | (r->open_flags & O_DIRECT)) == 0)
                fd = s->fd;
        }
        if (fd < 0) {
            fd = do_open(bs->filename, r->open_flags, err);
            if (fd < 0) {
                real_free(r);
                return fd;
            }
            /* the new fd takes its locks in file_check_perm() (raw_check_perm) */
        }
        r->fd = fd;
    }
    rs->opaque = r;
    s->reopen = r;
    return 0;
}

static void file_reopen_commit(RealReopenState *rs)
{
    FileState *s = rs->bs->opaque;
    FileReopen *r = rs->opaque;
    s->check_cache_dropped = r->check_cache_dropped;
    s->drop_cache = r->drop_cache;
    if (r->fd != s->fd) {
        close(s->fd);           /* its locks go with it */
        s->fd = r->fd;
        s->locks = r->locks;
    }
    s->open_flags = r->open_flags;
    s->reopen = NULL;
    probe_alignment(rs->bs, s);
    rs->bs->bl.min_mem_alignment = s->buf_align;
    real_free(r);
    rs->opaque = NULL;
}

static void file_reopen_abort(RealReopenState *rs)
{
    FileState *s = rs->bs->opaque;
    FileReopen *r = rs->opaque;
    s->reopen = NULL;
    if (r && r->fd != s->fd)
        close(r->fd);
    else if (r && r->open_flags != s->open_flags) {
        int fl = fcntl(s->fd, F_GETFL);
        if (fl >= 0)
            fcntl(s->fd, F_SETFL, (fl & ~O_DIRECT) | (s->open_flags & O_DIRECT));
    }
    real_free(r);
    rs->opaque = NULL;
}

const RealDriver drv_file = {
    .format_name = "file",
    .protocol_name = "file",
    .instance_size = sizeof(FileState),
    .runtime_opts = file_runtime_opts,
    .mutable_opts = file_mutable_opts,
    .open = file_open,
    .close = file_close,
    .pread = file_pread,
    .pwrite = file_pwrite,
    .pwrite_zeroes = file_pwrite_zeroes,
    .pdiscard = file_pdiscard,
    .flush_to_disk = file_flush_to_disk,
    .getlength = file_getlength,
    .get_allocated_file_size = file_get_allocated_file_size,
    .truncate = file_truncate,
    .block_status = file_block_status,
    .get_info = file_get_info,
    .refresh_limits = file_refresh_limits,
    .reopen_prepare = file_reopen_prepare,
    .reopen_commit = file_reopen_commit,
    .reopen_abort = file_reopen_abort,
    .check_perm = file_check_perm,
    .set_perm = file_set_perm,
    .abort_perm_update = file_abort_perm_update,
};
