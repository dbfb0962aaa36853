/*
 * dir.c: walking the entries of an open directory (see dir.h).
 */
#include "dir.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/types.h>

int bg_dir_foreach(int dfd, BgDirFn fn, void *opaque)
{
    _Alignas(struct dirent64) char buf[4096];
    ssize_t got;
    while ((got = getdents64(dfd, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < got;) {
            const struct dirent64 *de = (const struct dirent64 *)(buf + off);
            off += de->d_reclen;
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (!fn(dfd, de->d_name, de->d_type, opaque))
                return 0;
        }
    }
    return got < 0 ? -errno : 0;
}
