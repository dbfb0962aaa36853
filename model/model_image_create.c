/*
 * model_image_create.c: the img-create step, on the model's file table.
 *
 * What this is: `qemu-img create -f qcow2|raw [-b BACKING -F BFMT] FILE
 * [SIZE]` with qemu-img's exact output line and error texts: the size
 * parsed as qemu-img does, the backing chain opened as bdrv_img_create()
 * opens it (its size when none is given), the locks of a file the VM
 * holds, then a new ModelFile (model_image.c's qcow2 accounting starts it).
 * What it is not: the image's state (model_image.c) or its bytes
 * (model_image_meta.c).
 *
 * Mirrors QEMU 7.2.0 qemu-img.c img_create(), block.c bdrv_img_create(),
 * block/qcow2.c qcow2_co_create_opts(), block/file-posix.c
 * raw_co_create_opts(), util/cutils.c qemu_strtosz().
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

static char *word(const json_t *v)
{
    if (json_is_string(v))
        return bg_strdup(json_string_value(v));
    if (json_is_integer(v))
        return bg_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return NULL;
}

static void offline_result(BgResult *res, int rc, char *take_out, char *take_err)
{
    res->kind = BG_RES_OFFLINE;
    res->rc = rc;
    res->out = take_out ? take_out : bg_strdup("");
    res->err_text = take_err ? take_err : bg_strdup("");
}

static char *abs_path(const char *scratch, const char *name)
{
    return name[0] == '/' ? bg_strdup(name) : bg_asprintf("%s/%s", scratch, name);
}

/*
 * bdrv_img_create() opens the backing file, with a size given or not, as
 * bdrv_open() does: with its whole backing chain (back_flags clears
 * BDRV_O_NO_BACKING), read-only, BDRV_O_NO_IO, and force-share=on, which
 * every child inherits (bdrv_inherited_options()).  No BlockBackend sits
 * above it, so no node takes a permission (no CONSISTENT_READ under
 * BDRV_O_NO_IO) and every child shares all (bdrv_child_perm()): no lock of
 * a VM that holds files of the chain is in the way, only opening them can
 * fail.  PATH and SHOWN are the backing's name joined to the new image's,
 * absolute and as given; FMT its format.  Returns the backing file, or NULL
 * with *WHY (the text after "qemu-img: FILE: ", owned) or *UNSUPPORTED set.
 */
static ModelFile *open_backing_chain(ModelFiles *t, const char *path, const char *shown,
                                     const char *fmt, char **why, const char **unsupported)
{
    ModelFile *top = NULL;
    char *p = bg_strdup(path);
    char *sh = bg_strdup(shown);
    for (size_t depth = 0;; depth++) {
        ModelFile *b = model_image_find(t, p);
        if (!b || (strcmp(fmt, "qcow2") == 0 && !b->qcow2)) {
            /* bdrv_open_backing_file(): each level adds its prefix */
            char *text = b ? bg_strdup(BG_MSG_QCOW2_NOT_QCOW2)
                           : bg_asprintf(BG_MSG_FILE_OPEN, sh, "No such file or directory");
            for (size_t i = 0; i < depth; i++) {
                char *longer = bg_asprintf("%s%s", BG_MSG_BACKING_OPEN_PREFIX, text);
                free(text);
                text = longer;
            }
            *why = text;
            top = NULL;
            break;
        }
        if (!top)
            top = b;
        if (strcmp(fmt, "raw") == 0 || !b->backing || !b->backing[0])
            break;
        const char *name = b->backing;
        if (depth >= t->n) {
            /* more levels than files: the chain comes back to a file, and
             * QEMU opens it until it runs out of file descriptors */
            *unsupported = "img-create: a backing chain that loops (QEMU opens it without end)";
        } else if (name[strcspn(name, ":/")] == ':') {
            *unsupported = "img-create: a backing chain with a protocol or json: name";
        } else if (!b->backing_fmt) {
            *unsupported = "backing file without a format: probing is not modelled";
        } else if (strcmp(b->backing_fmt, "raw") != 0 && strcmp(b->backing_fmt, "qcow2") != 0) {
            *unsupported = "img-create: backing format the model does not hold";
        }
        if (*unsupported) {
            top = NULL;
            break;
        }
        char *np = model_image_path_combine(p, name);
        char *ns = model_image_path_combine(sh, name);
        free(p);
        free(sh);
        p = np;
        sh = ns;
        fmt = b->backing_fmt;
    }
    free(p);
    free(sh);
    return top;
}

/* qemu-img create -f FMT [-b BACKING -F BFMT] FILE [SIZE] */
void model_image_create(ModelFiles *t, const ModelWorld *vm, const char *scratch, const json_t *spec,
                        BgResult *res)
{
    char *fmt = word(json_object_get(spec, "fmt"));
    char *file = word(json_object_get(spec, "file"));
    char *backing = word(json_object_get(spec, "backing"));
    char *bfmt = word(json_object_get(spec, "backing-fmt"));
    char *size_s = word(json_object_get(spec, "size"));
    char *path = file ? abs_path(scratch, file) : NULL;
    uint64_t size = 0;

    if (!fmt || !file || (strcmp(fmt, "qcow2") != 0 && strcmp(fmt, "raw") != 0)) {
        bg_result_set_unsupported(res, "img-create: the model creates qcow2 and raw images only");
        goto out;
    }
    if (size_s && !model_image_parse_size(size_s, &size)) {
        offline_result(res, 1, NULL, bg_asprintf("qemu-img: " BG_MSG_IMG_INVALID_SIZE "\n"
                                                 "qemu-img: " BG_MSG_IMG_INVALID_SIZE2 "\n",
                                                 "image size"));
        goto out;
    }
    /* bdrv_img_create()'s checks before any file opens, in its order: the
     * options raw has not (backing_file, then backing_fmt), the backing's
     * name as given against the image's, an empty name */
    bool qcow2 = strcmp(fmt, "qcow2") == 0;
    char *early = backing && !qcow2 ? bg_asprintf(BG_MSG_IMG_NO_BACKING, fmt)
                  : bfmt && !qcow2 ? bg_asprintf(BG_MSG_IMG_NO_BACKING_FMT, fmt)
                  : backing && strcmp(backing, file) == 0 ? bg_strdup(BG_MSG_IMG_SAME_BACKING)
                  : backing && !backing[0] ? bg_strdup(BG_MSG_IMG_EMPTY_BACKING) : NULL;
    if (early) {
        offline_result(res, 1, NULL, bg_asprintf("qemu-img: %s: %s\n", file, early));
        free(early);
        goto out;
    }
    /* without -F the backing is opened by probing (the model knows its two
     * formats), and refused after the open with the format it found */
    const char *probed = NULL;
    if (backing && !bfmt) {
        char *bpath = model_image_path_combine(path, backing);
        ModelFile *b = model_image_find(t, bpath);
        free(bpath);
        probed = b ? (b->qcow2 ? "qcow2" : "raw") : NULL;
    }
    if (backing && strcmp(fmt, "qcow2") == 0) {
        if (!bfmt && probed) {
            offline_result(res, 1, NULL, bg_asprintf("qemu-img: %s: " BG_MSG_IMG_BACKING_NO_FMT
                                                     "\n" BG_MSG_IMG_DETECTED_HINT, file, probed));
            goto out;
        }
        if (!bfmt) {
            /* the probing open failed: the open's own error, as below */
            char *shown = model_image_path_combine(file, backing);
            char *why = bg_asprintf(BG_MSG_FILE_OPEN, shown, "No such file or directory");
            offline_result(res, 1, NULL, bg_asprintf("qemu-img: %s: %s\n"
                                                     BG_MSG_IMG_OPEN_BACKING_HINT "\n", file, why));
            free(why);
            free(shown);
            goto out;
        }
        if (strcmp(bfmt, "raw") != 0 && strcmp(bfmt, "qcow2") != 0) {
            bg_result_set_unsupported(res, "img-create: backing format the model does not hold");
            goto out;
        }
        /* bdrv_img_create() opens the backing file by its name joined to
         * the image's (as given: relative names stay relative in the text) */
        char *bpath = model_image_path_combine(path, backing);
        char *shown = model_image_path_combine(file, backing);
        char *why = NULL;
        const char *unsupported = NULL;
        ModelFile *b = open_backing_chain(t, bpath, shown, bfmt, &why, &unsupported);
        free(bpath);
        free(shown);
        if (unsupported) {
            bg_result_set_unsupported(res, unsupported);
            goto out;
        }
        if (!b) {
            offline_result(res, 1, NULL, bg_asprintf("qemu-img: %s: %s\n" BG_MSG_IMG_OPEN_BACKING_HINT
                                                     "\n", file, why));
            free(why);
            goto out;
        }
        if (!size_s) {
            /* bdrv_getlength() of the backing node: whole sectors */
            size = strcmp(bfmt, "raw") == 0 ? model_image_host_len(b) : b->vsize;
            size = (size + 511) / 512 * 512;
        }
    } else if (!size_s) {
        offline_result(res, 1, NULL, bg_asprintf("qemu-img: %s: " BG_MSG_IMG_NEEDS_SIZE "\n",
                                                 file));
        goto out;
    }
    if (size > BG_MAX_IMAGE_BYTES) {
        bg_result_set_unsupported(res, "img-create: image larger than the model's limit");
        goto out;
    }

    char *out;
    if (strcmp(fmt, "qcow2") == 0) {
        if (backing) {
            out = bg_asprintf(BG_MSG_IMG_FORMATTING "cluster_size=65536 extended_l2=off "
                              "compression_type=zlib size=%" PRIu64 " backing_file=%s "
                              "backing_fmt=%s lazy_refcounts=off refcount_bits=16\n",
                              file, "qcow2", size, backing, bfmt);
        } else {
            out = bg_asprintf(BG_MSG_IMG_FORMATTING "cluster_size=65536 extended_l2=off "
                              "compression_type=zlib size=%" PRIu64 "%s%s lazy_refcounts=off "
                              "refcount_bits=16\n", file, "qcow2", size,
                              bfmt ? " backing_fmt=" : "", bfmt ? bfmt : "");
            if (bfmt) {
                /* qcow2_co_create_opts() refuses it before making the file */
                offline_result(res, 1, out, bg_asprintf("qemu-img: %s: "
                                                        BG_MSG_IMG_FMT_WITHOUT_BACKING "\n", file));
                goto out;
            }
        }
    } else {
        out = bg_asprintf(BG_MSG_IMG_FORMATTING "size=%" PRIu64 "\n", file, "raw", size);
    }
    /* bdrv_img_create() printed the line; raw_co_create() (qcow2's file
     * first) takes its locks before it truncates anything: a file the VM
     * holds open is left as it is */
    BgError lock = {0};
    if (!model_perm_create_locks(vm, path, &lock)) {
        offline_result(res, 1, out, bg_asprintf("qemu-img: %s: %s\n" BG_MSG_FILE_LOCK_HINT "\n",
                                                file, lock.text, file));
        goto out;
    }
    ModelFile *f = model_image_replace(t, path);
    /* qemu-img prints the size asked for; the drivers' create functions
     * round it up to whole sectors (qcow2_co_create_opts(),
     * raw_co_create_opts(): ROUND_UP(size, BDRV_SECTOR_SIZE)) */
    uint64_t sectors = (size + 511) / 512 * 512;
    if (strcmp(fmt, "qcow2") == 0) {
        model_image_qcow2_init(f, sectors);
        if (backing) {
            f->backing = bg_strdup(backing);
            f->backing_fmt = bg_strdup(bfmt);
        }
    } else {
        f->len = sectors;
    }
    offline_result(res, 0, out, NULL);
out:
    free(fmt);
    free(file);
    free(backing);
    free(bfmt);
    free(size_s);
    free(path);
}
