/*
 * offline.h: the img-create, io and qemu-img steps, run with the real tools.
 *
 * What this is: streams.md's offline steps as iotests runs them
 * (iotests.py qemu_img(), qemu_io(): a subprocess in the test directory,
 * output captured): `qemu-img create -f F [-b B -F BF] FILE [SIZE]`,
 * `qemu-io -f F -c CMD [-c CMD ...] FILE`, `qemu-img ARGS`, in the scratch
 * directory, bounded by BG_STEP_TIMEOUT_S.
 * What it is not: anything that talks to the VM.
 */
#ifndef BG_QEMU_OFFLINE_H
#define BG_QEMU_OFFLINE_H

#include <jansson.h>
#include <stdbool.h>

#include "backend.h"
#include "error.h"

typedef struct OfflineTools {
    const char *qemu_img;   /* path of qemu-img */
    const char *qemu_io;    /* path of qemu-io */
    const char *cwd;        /* the scratch directory */
    int line;               /* stream line, for messages */
} OfflineTools;

/*
 * Each fills res (BG_RES_OFFLINE: rc, out, err_text; io also io_out) from
 * the step's argument (the value of its step key).  False only when the tool
 * could not be run: not startable, or still running after
 * BG_STEP_TIMEOUT_S (then killed), or a malformed argument.
 */
bool offline_img_create(const OfflineTools *t, json_t *spec, BgResult *res, BgError *err);
bool offline_io(const OfflineTools *t, json_t *spec, BgResult *res, BgError *err);
bool offline_qemu_img(const OfflineTools *t, json_t *args, BgResult *res, BgError *err);

#endif
