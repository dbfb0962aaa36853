/*
 * scratch.c: the scratch directories streams run in (scratch.h).
 *
 * Speed: a directory is checked and emptied with bg_dir_foreach() (dir.h:
 * getdents64() into a stack buffer), not with opendir() and nftw(), which
 * allocate 32 KiB per directory.
 */
#include "scratch.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"
#include "dir.h"
#include "runner.h"

const char *bg_runner_default_scratch_base(void)
{
    const char *e = getenv("BG_SCRATCH");
    if (e && *e)
        return e;
    /* Not /tmp: it may be tmpfs, which has no O_DIRECT (the seed's cache.direct). */
    return "/var/tmp";
}

char *bg_scratch_stem(const char *path)
{
    char *copy = bg_strdup(path);
    char *base = bg_strdup(basename(copy));
    free(copy);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    for (char *p = base; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            *p = '_';
    return base;
}

static bool stop_at_first(int dfd, const char *name, unsigned char type, void *found)
{
    *(bool *)found = true;
    return false;
}

static bool dir_is_empty(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool found = false;
    int r = bg_dir_foreach(fd, stop_at_first, &found);
    close(fd);
    return r == 0 && !found;
}

char *bg_scratch_new(const char *base, const char *stem, const char *backend, bool reuse,
                     BgError *err)
{
    if (mkdir(base, 0755) != 0 && errno != EEXIST) {
        bg_error_setf(err, "cannot create scratch base %s: %s", base, strerror(errno));
        return NULL;
    }
    for (int n = 0; n < 1000; n++) {
        char *dir = n ? bg_asprintf("%s/bgraph-%s-%s-%d", base, stem, backend, n)
                      : bg_asprintf("%s/bgraph-%s-%s", base, stem, backend);
        if (mkdir(dir, 0700) == 0 || (reuse && errno == EEXIST && dir_is_empty(dir))) {
            char *real = realpath(dir, NULL);
            free(dir);
            if (!real)
                bg_error_setf(err, "cannot resolve scratch directory: %s", strerror(errno));
            return real;
        }
        int e = errno;
        free(dir);
        if (e != EEXIST) {
            bg_error_setf(err, "cannot create scratch directory under %s: %s", base, strerror(e));
            return NULL;
        }
    }
    bg_error_setf(err, "no free scratch directory name under %s", base);
    return NULL;
}

/* Removing everything below a directory as nftw(FTW_DEPTH | FTW_PHYS |
 * FTW_MOUNT) would: symbolic links are removed, not followed; a directory
 * on another device, or one that cannot be read, is left; errors are
 * ignored. */
static bool remove_entry(int dfd, const char *name, unsigned char type, void *dev);

static void remove_below(int dfd, dev_t dev)
{
    bg_dir_foreach(dfd, remove_entry, &dev);
}

static bool remove_entry(int dfd, const char *name, unsigned char type, void *dev)
{
    struct stat st;
    if (type != DT_DIR && type != DT_UNKNOWN)
        unlinkat(dfd, name, 0);
    else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        ;
    else if (!S_ISDIR(st.st_mode))
        unlinkat(dfd, name, 0);
    else if (st.st_dev == *(dev_t *)dev) {
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
            remove_below(sub, st.st_dev);
            close(sub);
            unlinkat(dfd, name, AT_REMOVEDIR);
        }
    }
    return true;
}

void bg_scratch_empty(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0)
        remove_below(fd, st.st_dev);
    close(fd);
}

void bg_runner_scratch_remove(const char *dir)
{
    bg_scratch_empty(dir);
    rmdir(dir);
}
