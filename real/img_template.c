/*
 * img_template.c: the files `qemu-img create -f qcow2` writes, remembered and
 * written again (img.h, img_template_*).
 *
 * What this is: a process-wide memo of drv_qcow2_create() on a new, empty
 * file.  What creation writes there depends on nothing but (size, backing
 * name, backing format): img_create() has already made the checks that
 * depend on the scratch directory (the backing file, locks, the size) and
 * printed its "Formatting ..." line.  After a creation succeeds, the file's
 * data extents (SEEK_DATA/SEEK_HOLE, so the same ranges are allocated) and
 * its length are kept; the next creation with the same arguments writes
 * them instead of formatting, which opens the image, allocates its caches
 * and writes its clusters one by one.  Off by default; the real backend
 * turns it on for volatile scratch directories (the fuzzer, where
 * img-create is the most frequent step).
 * What it is not: a cache of images in use or of anything a later step
 * changes.  A template write that fails truncates the file back to empty
 * and lets drv_qcow2_create() run (and report its own error).
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "bdrv.h"
#include "img.h"

#define TEMPLATE_MAX 32            /* distinct argument sets remembered */
#define TEMPLATE_MAX_BYTES (4u << 20)  /* larger images (huge L1 tables) are formatted */

typedef struct Extent {
    int64_t offset, bytes;
    uint8_t *data;
} Extent;

typedef struct Template {
    int64_t size;
    char *backing, *backing_fmt;   /* or NULL */
    int64_t length;                /* of the file */
    Extent *ext;
    size_t n_ext;
} Template;

static bool enabled;
static Template templates[TEMPLATE_MAX];
static size_t n_templates;

void img_template_enable(bool on)
{
    enabled = on;
}

static bool same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static Template *find(int64_t size, const char *backing, const char *backing_fmt)
{
    for (size_t i = 0; i < n_templates; i++)
        if (templates[i].size == size && same(templates[i].backing, backing) &&
            same(templates[i].backing_fmt, backing_fmt))
            return &templates[i];
    return NULL;
}

bool img_template_write(RealBlockState *file, int64_t size, const char *backing,
                        const char *backing_fmt)
{
    const Template *t = enabled ? find(size, backing, backing_fmt) : NULL;
    if (!t)
        return false;
    BgError err = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < t->n_ext; i++)
        ok = bdrv_pwrite(file, t->ext[i].offset, t->ext[i].bytes, t->ext[i].data, 0) >= 0;
    ok = ok && bdrv_refresh_total_sectors(file) == 0;
    if (ok && bdrv_getlength(file) < t->length)
        ok = bdrv_truncate(file, t->length, false, REAL_PREALLOC_OFF, &err) >= 0;
    if (!ok) {
        BgError ignored = {0};
        bdrv_truncate(file, 0, false, REAL_PREALLOC_OFF, &ignored);
    }
    return ok;
}

void img_template_record(RealBlockState *file, int64_t size, const char *backing,
                         const char *backing_fmt)
{
    if (!enabled || n_templates == TEMPLATE_MAX || find(size, backing, backing_fmt) ||
        bdrv_refresh_total_sectors(file) < 0)
        return;
    int64_t length = bdrv_getlength(file);
    if (length < 0 || length > TEMPLATE_MAX_BYTES)
        return;
    Template t = { .size = size, .length = length };
    bool ok = true;
    for (int64_t off = 0; ok && off < length;) {
        int64_t pnum = 0, map = 0;
        RealBlockState *f = NULL;
        int st = bdrv_block_status(file, true, off, length - off, &pnum, &map, &f);
        ok = st >= 0 && pnum > 0;
        if (ok && (st & REAL_BLOCK_DATA)) {
            Extent e = { off, pnum, real_malloc((size_t)pnum) };
            Extent *grown = real_realloc(t.ext, (t.n_ext + 1) * sizeof(*t.ext));
            ok = e.data && grown && bdrv_pread(file, off, pnum, e.data, 0) >= 0;
            if (grown)
                t.ext = grown;
            if (ok)
                t.ext[t.n_ext++] = e;
            else
                real_free(e.data);
        }
        off += pnum;
    }
    t.backing = backing ? real_strdup(backing) : NULL;
    t.backing_fmt = backing_fmt ? real_strdup(backing_fmt) : NULL;
    if (ok && (!backing || t.backing) && (!backing_fmt || t.backing_fmt)) {
        templates[n_templates++] = t;
        return;
    }
    for (size_t i = 0; i < t.n_ext; i++)
        real_free(t.ext[i].data);
    real_free(t.ext);
    real_free(t.backing);
    real_free(t.backing_fmt);
}
