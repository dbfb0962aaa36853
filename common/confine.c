/*
 * confine.c: every file a stream names stays inside its scratch directory
 * (confine.h).
 *
 * What this is: the lexical rule applied when a stream is loaded
 * (bg_confine_name), and the run-time rule applied just before each step
 * (bg_confine_step): the step is checked again by policy.c after
 * substitution (a ${VAR} may have become anything), each of its file names
 * must resolve, symbolic links included, under the scratch directory, and
 * the scratch directory itself is scanned, because an io step can write any
 * bytes into an image, including a header that names /etc/passwd.
 * What it is not: a sandbox.  It keeps honest tools from being pointed
 * outside; it does not contain a compromised QEMU.
 *
 * What the scan refuses (QEMU 7.2 sources):
 *   - a symbolic link that resolves outside, or not at all; a hard-linked
 *     file (both can only be planted, no step creates them); a FIFO or
 *     device node (QEMU would block on it or open a host device);
 *   - a qcow2 or qcow image (magic "QFI\xfb": block/qcow2.c
 *     qcow2_do_open(), block/qcow.c qcow_open(); same backing_file_offset
 *     and _size at header bytes 8..19, big endian) whose backing file name
 *     resolves outside (or has a protocol prefix, but for "null-co://" and
 *     "null-aio://", which name nothing), relative names being relative to the image's
 *     directory (block.c bdrv_get_full_backing_filename()); a qcow2 header
 *     extension 0x44415441 (external data file) that does, or 0xE2792ACA
 *     (backing format) that names a driver outside policy.c's allowlist;
 *   - a qed or vmdk image (block/qed.c "QED\0", block/vmdk.c "KDMV",
 *     "COWD" or a text descriptor as vmdk_probe() reads it): formats that
 *     name other files and that only probing (no "fmt") could open;
 *   - more than BG_MAX_SCRATCH_BYTES of disk use, BG_MAX_SCRATCH_FILES
 *     entries or BG_MAX_SCRATCH_DEPTH levels.
 * Paths in messages are written with $DIR, so messages do not depend on
 * where the scratch directory is.
 */
#include "confine.h"
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"
#include "policy.h"

/* ---- the lexical rule ---------------------------------------------------- */

/* QEMU's path_has_protocol(): a ':' before the first '/'. */
static bool has_protocol(const char *name)
{
    return name[strcspn(name, ":/")] == ':';
}

bool bg_confine_name(const char *name, bool allow_dev_null, BgError *err)
{
    char q[BG_QUOTE_BYTES];
    const char *rel = name;
    if (allow_dev_null && strcmp(name, "/dev/null") == 0)
        return true;
    if (strncmp(name, "$DIR", 4) == 0) {
        if (name[4] != '\0' && name[4] != '/')
            return bg_error_setf(err, "file name '%s': $DIR must be followed by '/'",
                                 bg_policy_quote(name, q));
        rel = name + 4;
        while (*rel == '/')
            rel++;
    } else if (name[0] == '/') {
        return bg_error_setf(err, "file name '%s' is outside the scratch directory",
                             bg_policy_quote(name, q));
    }
    if (strstr(rel, "$DIR"))
        return bg_error_setf(err, "file name '%s': $DIR may only start a file name",
                             bg_policy_quote(name, q));
    if (has_protocol(rel))
        return bg_error_setf(err, "file name '%s' has a protocol prefix; only plain file names "
                             "are allowed", bg_policy_quote(name, q));
    long depth = 0;
    for (const char *c = rel; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (--depth < 0)
                return bg_error_setf(err, "file name '%s' leaves the scratch directory",
                                     bg_policy_quote(name, q));
        } else if (n > 0 && !(n == 1 && c[0] == '.')) {
            depth++;
        }
        c += n;
        while (*c == '/')
            c++;
    }
    return true;
}

/* ---- paths ----------------------------------------------------------------- */

typedef struct Confine {
    char scratch[PATH_MAX];   /* real path, no trailing '/' (unless it is "/") */
    size_t len;
} Confine;

static bool inside(const Confine *c, const char *path)
{
    if (c->len == 1)
        return path[0] == '/';
    return strncmp(path, c->scratch, c->len) == 0 && (path[c->len] == '\0' ||
                                                      path[c->len] == '/');
}

/* PATH for a message: the scratch directory written $DIR, control bytes escaped. */
static const char *shown(const Confine *c, const char *path, char out[BG_QUOTE_BYTES])
{
    char tmp[PATH_MAX + 8];
    if (c->len > 1 && inside(c, path))
        snprintf(tmp, sizeof(tmp), "$DIR%s", path + c->len);
    else
        snprintf(tmp, sizeof(tmp), "%s", path);
    return bg_policy_quote(tmp, out);
}

/* Lexically drop ".", ".." and repeated '/' of an absolute PATH, in place. */
static void normalise(char *path)
{
    size_t o = 0;                       /* bytes of the result, without a trailing '/' */
    const char *in = path + 1;
    while (*in) {
        size_t n = strcspn(in, "/");
        if (n == 2 && in[0] == '.' && in[1] == '.') {
            while (o > 0 && path[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (n > 0 && !(n == 1 && in[0] == '.')) {
            path[o++] = '/';            /* the input is always at least this far ahead */
            memmove(path + o, in, n);
            o += n;
        }
        in += n;
        while (*in == '/')
            in++;
    }
    if (o == 0)
        path[o++] = '/';
    path[o] = '\0';
}

/*
 * Where absolute PATH leads: the real path of its longest existing prefix
 * (symbolic links resolved, a dangling one refused) followed by the rest,
 * normalised.  RESOLVED has PATH_MAX bytes.
 */
static bool resolve(const Confine *c, const char *path, const char *name, char *resolved,
                    BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES], prefix[PATH_MAX], real[PATH_MAX];
    struct stat st;
    size_t len = strlen(path);
    if (len >= PATH_MAX || path[0] != '/')
        return bg_error_setf(err, "file name '%s' is too long or not absolute",
                             shown(c, name, q));
    /* The common case without realpath(): a plain name right in the scratch
     * directory (a real path) that is missing or not a symbolic link
     * resolves to itself. */
    const char *leaf = path + c->len + 1;
    if (c->len > 1 && inside(c, path) && path[c->len] == '/' && *leaf && !strchr(leaf, '/') &&
        strcmp(leaf, ".") != 0 && strcmp(leaf, "..") != 0 &&
        (lstat(path, &st) == 0 ? !S_ISLNK(st.st_mode) : errno == ENOENT)) {
        memcpy(resolved, path, len + 1);
        return true;
    }
    memcpy(prefix, path, len + 1);
    while (lstat(prefix, &st) != 0) {
        char *slash = strrchr(prefix, '/');
        if (slash == prefix) {
            prefix[1] = '\0';
            break;
        }
        *slash = '\0';
    }
    size_t plen = strlen(prefix);
    if (!realpath(prefix, real))
        return bg_error_setf(err, "file name '%s' goes through '%s', which cannot be resolved "
                             "(%s)", shown(c, name, q), shown(c, prefix, q2), strerror(errno));
    if (snprintf(resolved, PATH_MAX, "%s/%s", real, path + plen) >= PATH_MAX)
        return bg_error_setf(err, "file name '%s' is too long", shown(c, name, q));
    normalise(resolved);
    return true;
}

/* Absolute PATH (written NAME in the step) must lead under the scratch directory. */
static bool confine_path(const Confine *c, const char *path, const char *name,
                         bool missing_ok, BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES], resolved[PATH_MAX];
    struct stat st;
    if (!resolve(c, path, name, resolved, err))
        return false;
    if (inside(c, resolved))
        return true;
    if (missing_ok && lstat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
        return true;
    char norm[PATH_MAX];
    snprintf(norm, sizeof(norm), "%s", path);
    normalise(norm);
    if (strcmp(norm, resolved) == 0)
        return bg_error_setf(err, "file name '%s' is outside the scratch directory",
                             shown(c, name, q));
    return bg_error_setf(err, "file name '%s' resolves to '%s', outside the scratch directory",
                         shown(c, name, q), shown(c, resolved, q2));
}

/* NAME relative to DIR (or absolute) into OUT; false when too long.  On the
 * stack, not allocated: the scan joins every name before every step. */
static bool join(char out[PATH_MAX], const char *dir, const char *name)
{
    int n = name[0] == '/' ? snprintf(out, PATH_MAX, "%s", name)
                           : snprintf(out, PATH_MAX, "%s/%s", dir, name);
    return n >= 0 && n < PATH_MAX;
}

/* The run-time rule for one file name of the substituted step. */
static bool runtime_file(const char *name, BgFileRole role, const char *base, void *opaque,
                         BgError *err)
{
    const Confine *c = opaque;
    char q[BG_QUOTE_BYTES];
    bool config = role == BG_FILE_CONFIG || role == BG_FILE_REOPEN_CONFIG;
    if (name[0] == '\0' || (config && strcmp(name, "/dev/null") == 0))
        return true;
    if (has_protocol(name))
        return bg_error_setf(err, "file name '%s' has a protocol prefix; only plain file names "
                             "are allowed", shown(c, name, q));
    char path[PATH_MAX];
    bool ok = join(path, c->scratch, name)
              ? confine_path(c, path, name, role == BG_FILE_REOPEN_CONFIG, err)
              : bg_error_setf(err, "file name '%s' is too long", shown(c, name, q));
    if (ok && role == BG_FILE_BACKING && name[0] != '/' && base) {
        /* qemu-img create reads a relative backing name from the image's directory */
        char image[PATH_MAX];
        bool joined = join(image, c->scratch, base);
        if (joined) {
            *strrchr(image, '/') = '\0';
            joined = join(path, image[0] ? image : "/", name);
        }
        ok = joined ? confine_path(c, path, name, false, err)
                    : bg_error_setf(err, "file name '%s' is too long", shown(c, name, q));
    }
    return ok;
}

/* ---- the scan of the scratch directory ------------------------------------- */

typedef struct Scan {
    const Confine *c;
    uint64_t bytes;      /* disk use so far */
    size_t entries;      /* entries seen so far */
} Scan;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* The file's first bytes, read once: most headers, their extensions and
 * backing file names are in them, so the scan before each step does not
 * read them again piece by piece. */
typedef struct Head {
    int fd;
    /* aligned: a read into a buffer 8 bytes off a 32-byte boundary took
     * several times as long on the test machine's CPU (AMD EPYC, rep movsb) */
    _Alignas(64) unsigned char b[4096];
    size_t n;                  /* bytes of b that the file has */
} Head;

/* N bytes at OFF into OUT, from the head when they are in it; false if short. */
static bool head_read(const Head *h, uint64_t off, size_t n, void *out)
{
    if (off <= h->n && n <= h->n - off) {
        memcpy(out, h->b + off, n);
        return true;
    }
    return off <= (uint64_t)INT64_MAX - n && pread(h->fd, out, n, (off_t)off) == (ssize_t)n;
}

/* Read a name of SIZE bytes at OFF (up to the first NUL, at most 4095 bytes); "" if short. */
static void read_name(const Head *h, uint64_t off, uint64_t size, char name[4096])
{
    size_t n = size < 4095 ? (size_t)size : 4095;
    name[head_read(h, off, n, name) ? n : 0] = '\0';
}

static bool runtime_file(const char *name, BgFileRole role, const char *base, void *opaque,
                         BgError *err);

/*
 * A "json:{...}" name in a header: the options QEMU opens the node with
 * (block.c parse_json_filename(), then the options as blockdev-add takes
 * them), which QEMU itself writes when a job leaves a backing node with no
 * plain file name.  Checked as a blockdev-add of those options would be,
 * relative names relative to the scratch directory (QEMU and its tools run
 * there); what jansson cannot read, or reads with a key twice, is refused.
 */
static bool json_name(const Scan *sc, const char *image, const char *what, const char *name,
                      BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES];
    json_error_t je;
    json_t *o = json_loads(name + 5, JSON_REJECT_DUPLICATES, &je);
    BgError inner = {0};
    bool ok = json_is_object(o) &&
              bg_policy_check_block_options("json: file name", o, runtime_file,
                                            (void *)sc->c, &inner);
    json_decref(o);
    if (ok)
        return true;
    return bg_error_setf(err, "image '%s' names %s '%s', %s%s", shown(sc->c, image, q), what,
                         bg_policy_quote(name, q2),
                         inner.text[0] ? "whose options are refused: " : "which is not a JSON object",
                         inner.text);
}

/* A file name read from the header of IMAGE (whose names are relative to DIR). */
static bool header_name(const Scan *sc, const char *image, const char *what, const char *name,
                        const char *dir, BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES], resolved[PATH_MAX];
    BgError ignored = {0};
    if (!name[0])
        return true;
    if (strncmp(name, "json:", 5) == 0)
        return json_name(sc, image, what, name, err);
    /* the one file name each null driver takes (null_co_parse_filename()):
     * it names nothing on the host; a stream job whose base is a null node
     * writes it */
    if (strcmp(name, "null-co://") == 0 || strcmp(name, "null-aio://") == 0)
        return true;
    if (has_protocol(name))
        return bg_error_setf(err, "image '%s' names %s '%s', which has a protocol prefix",
                             shown(sc->c, image, q), what, bg_policy_quote(name, q2));
    char path[PATH_MAX];
    bool ok = join(path, dir, name) && resolve(sc->c, path, name, resolved, &ignored) &&
              inside(sc->c, resolved);
    if (!ok)
        return bg_error_setf(err, "image '%s' names %s '%s', outside the scratch directory",
                             shown(sc->c, image, q), what, bg_policy_quote(name, q2));
    return true;
}

/* vmdk_probe()'s text case: comment and blank lines, then "version=[123]". */
static bool vmdk_descriptor(const unsigned char *buf, size_t n)
{
    const char *p = (const char *)buf, *end = p + n;
    while (p < end) {
        if (*p == '#') {
            while (p < end && *p != '\n')
                p++;
            p++;
            continue;
        }
        if (*p == ' ') {
            while (p < end && *p == ' ')
                p++;
            if (p < end && *p == '\r')
                p++;
            if (p == end || *p != '\n')
                return false;
            p++;
            continue;
        }
        return end - p >= 9 && strncmp(p, "version=", 8) == 0 && p[8] >= '1' && p[8] <= '3';
    }
    return false;
}

/* The header of regular file IMAGE (opened as FD), names relative to DIR. */
static bool check_image(const Scan *sc, int fd, const char *image, const char *dir, BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES], name[4096];
    Head head = { .fd = fd };
    const unsigned char *h = head.b;
    ssize_t n = pread(fd, head.b, sizeof(head.b), 0);
    if (n < 4)
        return true;
    head.n = (size_t)n;
    if (memcmp(h, "QED\0", 4) == 0 || memcmp(h, "KDMV", 4) == 0 || memcmp(h, "COWD", 4) == 0 ||
        vmdk_descriptor(h, (size_t)n))
        return bg_error_setf(err, "'%s' is a %s image, a format that names other files; only "
                             "qcow2 and raw images are allowed", shown(sc->c, image, q),
                             h[0] == 'Q' ? "qed" : "vmdk");
    if (memcmp(h, "QFI\xfb", 4) != 0 || n < 24)
        return true;
    uint32_t version = be32(h + 4), cluster_bits = be32(h + 20);
    uint64_t backing_off = be64(h + 8);
    if (backing_off) {
        read_name(&head, backing_off, be32(h + 16), name);
        if (!header_name(sc, image, "backing file", name, dir, err))
            return false;
    }
    if (version < 2 || cluster_bits < 9 || cluster_bits > 21)
        return true;   /* qcow (v1) has no extensions; qcow2 refuses such a header */
    uint64_t off = version >= 3 && n >= 104 ? be32(h + 100) : 72;
    uint64_t end = backing_off ? backing_off : (uint64_t)1 << cluster_bits;
    if (end > (uint64_t)1 << cluster_bits)
        end = (uint64_t)1 << cluster_bits;
    for (int i = 0; i < 4096 && off + 8 <= end; i++) {
        unsigned char e[8];
        if (!head_read(&head, off, 8, e))
            break;
        uint32_t magic = be32(e), len = be32(e + 4);
        if (magic == 0)
            break;
        if (magic == 0xE2792ACAu) {           /* backing format */
            read_name(&head, off + 8, len, name);
            if (name[0] && !bg_policy_driver_allowed(name))
                return bg_error_setf(err, "image '%s' names backing format '%s', which is not "
                                     "an allowed driver", shown(sc->c, image, q),
                                     bg_policy_quote(name, q2));
        } else if (magic == 0x44415441u) {    /* external data file */
            read_name(&head, off + 8, len, name);
            if (!header_name(sc, image, "external data file", name, dir, err))
                return false;
        }
        off += 8 + (((uint64_t)len + 7) & ~(uint64_t)7);
    }
    return true;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct Listing {
    char **names;
    size_t n;
    size_t room;               /* entries the scan may still take */
    bool overflow;             /* one more entry than that */
} Listing;

static bool take_name(int dfd, const char *name, unsigned char type, void *opaque)
{
    Listing *l = opaque;
    if (l->n >= l->room) {
        l->overflow = true;
        return false;
    }
    l->names = bg_realloc(l->names, (l->n + 1) * sizeof(*l->names));
    l->names[l->n++] = bg_strdup(name);
    return true;
}

/*
 * The sorted entry names of DIR (so that the first refusal does not depend on
 * the file system), read with bg_dir_foreach() (dir.h).
 */
static bool list_dir(const Scan *sc, const char *dir, char ***names_out, size_t *count,
                     BgError *err)
{
    char q[BG_QUOTE_BYTES];
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return bg_error_setf(err, "cannot read '%s': %s", shown(sc->c, dir, q), strerror(errno));
    size_t room = sc->entries < BG_MAX_SCRATCH_FILES ? BG_MAX_SCRATCH_FILES - sc->entries : 0;
    Listing l = { NULL, 0, room, false };
    int r = bg_dir_foreach(fd, take_name, &l);
    close(fd);
    char **names = l.names;
    size_t n = l.n;
    bool ok = true;
    if (r < 0)
        ok = bg_error_setf(err, "cannot read '%s': %s", shown(sc->c, dir, q), strerror(-r));
    else if (l.overflow)
        ok = bg_error_setf(err, "the scratch directory holds more than %d files",
                           BG_MAX_SCRATCH_FILES);
    if (ok && n > 1)
        qsort(names, n, sizeof(*names), compare_names);
    if (!ok) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        names = NULL;
        n = 0;
    }
    *names_out = names;
    *count = n;
    return ok;
}

/* Open regular file PATH without following links or blocking, and check its header. */
static bool check_file(const Scan *sc, const char *path, const char *shown_as, const char *dir,
                       BgError *err)
{
    char q[BG_QUOTE_BYTES];
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return bg_error_setf(err, "cannot open '%s': %s", shown(sc->c, shown_as, q),
                             strerror(errno));
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
              ? check_image(sc, fd, shown_as, dir, err)
              : bg_error_setf(err, "'%s' changed while it was checked", shown(sc->c, shown_as, q));
    close(fd);
    return ok;
}

static bool scan_dir(Scan *sc, const char *dir, int depth, BgError *err)
{
    char q[BG_QUOTE_BYTES], q2[BG_QUOTE_BYTES], real[PATH_MAX];
    if (depth > BG_MAX_SCRATCH_DEPTH)
        return bg_error_setf(err, "the scratch directory is nested deeper than %d levels",
                             BG_MAX_SCRATCH_DEPTH);
    size_t n = 0;
    char **names = NULL;
    if (!list_dir(sc, dir, &names, &n, err))
        return false;
    sc->entries += n;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        struct stat st;
        if (!ok) {
            /* only freeing */
        } else if (!join(path, dir, names[i])) {
            ok = bg_error_setf(err, "a path in the scratch directory is too long");
        } else if (lstat(path, &st) != 0) {
            ok = errno == ENOENT || bg_error_setf(err, "cannot stat '%s': %s",
                                                  shown(sc->c, path, q), strerror(errno));
        } else if (S_ISLNK(st.st_mode)) {
            if (!realpath(path, real))
                ok = bg_error_setf(err, "symbolic link '%s' cannot be resolved (%s)",
                                   shown(sc->c, path, q), strerror(errno));
            else if (!inside(sc->c, real))
                ok = bg_error_setf(err, "symbolic link '%s' points outside the scratch "
                                   "directory, to '%s'", shown(sc->c, path, q),
                                   bg_policy_quote(real, q2));
            else if (stat(real, &st) == 0 && S_ISREG(st.st_mode))
                ok = check_file(sc, real, path, dir, err);  /* names relative to the link */
        } else if (S_ISREG(st.st_mode)) {
            sc->bytes += (uint64_t)st.st_blocks * 512;
            if (st.st_nlink > 1)
                ok = bg_error_setf(err, "'%s' has %ju hard links; files in the scratch "
                                   "directory may have only one", shown(sc->c, path, q),
                                   (uintmax_t)st.st_nlink);
            else
                ok = check_file(sc, path, path, dir, err);
        } else if (S_ISDIR(st.st_mode)) {
            sc->bytes += (uint64_t)st.st_blocks * 512;
            ok = scan_dir(sc, path, depth + 1, err);
        } else if (!S_ISSOCK(st.st_mode)) {
            ok = bg_error_setf(err, "'%s' is not a regular file or directory",
                               shown(sc->c, path, q));
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

bool bg_confine_step(const char *scratch, BgStepKind kind, const json_t *cmd, BgError *err)
{
    return bg_confine_step_scan(scratch, kind, cmd, true, err);
}

bool bg_confine_step_scan(const char *scratch, BgStepKind kind, const json_t *cmd, bool scan,
                          BgError *err)
{
    Confine c;
    struct stat st;
    /* SCRATCH is a real path (confine.h; the runner resolved it when it made
     * the directory, and no step reaches above it): realpath() only when it
     * is not a directory as named. */
    if (scratch && scratch[0] == '/' && strlen(scratch) < sizeof(c.scratch) &&
        lstat(scratch, &st) == 0 && S_ISDIR(st.st_mode)) {
        strcpy(c.scratch, scratch);
    } else if (!scratch || !realpath(scratch, c.scratch)) {
        return bg_error_setf(err, "cannot resolve the scratch directory '%s': %s",
                             scratch ? scratch : "(null)", strerror(errno));
    }
    c.len = strlen(c.scratch);
    while (c.len > 1 && c.scratch[c.len - 1] == '/')
        c.scratch[--c.len] = '\0';
    if (kind != BG_STEP_NOOP && !bg_policy_check_step_files(kind, cmd, runtime_file, &c, err))
        return false;
    if (!scan)
        return true;
    Scan sc = { .c = &c };
    if (!scan_dir(&sc, c.scratch, 0, err))
        return false;
    if (sc.bytes > BG_MAX_SCRATCH_BYTES)
        return bg_error_setf(err, "the scratch directory uses %" PRIu64 " bytes, above the "
                             "limit of %llu", sc.bytes, BG_MAX_SCRATCH_BYTES);
    return true;
}
