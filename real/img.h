/*
 * img.h: images opened and created the way qemu-io and qemu-img do it,
 * without a graph: the offline half of the engine's img-create and io steps.
 *
 * What this is: img_open() builds format node -> file node and the backing
 * chain named in the header (relative names against the image's
 * directory, format from the header or probed), with the options, flags and
 * permissions QEMU gives the nodes under qemu-io's BlockBackend
 * (bdrv_inherited_options: children inherit read-only, cache.direct and
 * cache.no-flush, get discard=unmap; backing nodes are read-only;
 * bdrv_default_perms: the file child of a writable format node takes write
 * and resize and shares neither) so the file locks are QEMU's.
 * img_create() is `qemu-img create -f qcow2|raw [-b B -F F] FILE [SIZE]`:
 * the same checks, the same "Formatting ..." line, the same bytes.
 * What it is not: the graph layer (node names, blockdev-add); that layer
 * builds its own nodes with bdrv_open_driver() and may use img_open() for
 * implicit backing files.
 */
#ifndef REAL_IMG_H
#define REAL_IMG_H

#include "bg.h"
#include "driver.h"

typedef struct RealImage RealImage;

/* qemu-io's open flags: -r (read-only), -t none (cache.direct), -U (force share). */
typedef struct ImgOpenOptions {
    bool read_only;       /* -r */
    bool nocache;         /* -t none / cache.direct */
    bool no_flush;        /* -t unsafe / cache.no-flush */
    bool force_share;     /* -U: share every permission */
    bool no_backing;      /* do not open the backing chain */
    bool no_io;           /* BDRV_O_NO_IO and no BlockBackend: bdrv_img_create()'s open */
    json_t *options;      /* driver options of the top format node (borrowed), or NULL */
} ImgOpenOptions;

/*
 * Open FILENAME (relative names against DIR, which may be NULL) with format
 * FMT ("qcow2", "raw", "file" for the bare protocol node, or NULL to probe).  On failure returns NULL with err
 * holding QEMU's text (e.g. "Could not open 'x': No such file or
 * directory", "Could not open backing file: ...").
 */
RealImage *img_open(const char *dir, const char *filename, const char *fmt,
                    const ImgOpenOptions *o, BgError *err);
/* The top node (borrowed). */
RealBlockState *img_bs(RealImage *img);
/* Flush and close the whole chain; NULL is a no-op. */
void img_close(RealImage *img);

/*
 * qemu-img create -f FMT [-b BACKING -F BACKING_FMT] FILE [SIZE], FMT one of
 * qcow2, raw, file.  SIZE is
 * qemu-img's string ("3M", "1048576") or NULL.  Appends what qemu-img
 * prints to OUT and ERR and returns its exit status.  Returns -1 (nothing
 * printed) for a format the engine cannot create, or a backing chain that
 * comes back to a file (QEMU opens it without end), for the caller to
 * report as unsupported.
 */
int img_create(const char *dir, const char *fmt, const char *filename, const char *size,
               const char *backing, const char *backing_fmt, BgBuf *out, BgBuf *err);

/* QEMU path_combine(): NAME relative to the directory of BASE. */
char *img_path_combine(const char *base, const char *name);

/*
 * Templates of created qcow2 files (img_template.c): when enabled (off by
 * default; process-wide), img_create() writes the file a creation with the
 * same size and backing wrote before instead of formatting it again.  The
 * bytes and allocated ranges are the same; only the time differs.
 */
void img_template_enable(bool on);
/* Write the remembered file into empty FILE; false if none (or a write failed). */
bool img_template_write(RealBlockState *file, int64_t size, const char *backing,
                        const char *backing_fmt);
/* Remember what drv_qcow2_create() just wrote into FILE. */
void img_template_record(RealBlockState *file, int64_t size, const char *backing,
                         const char *backing_fmt);

#endif
