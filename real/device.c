/*
 * device.c: virtio-scsi and scsi-hd (see device.h).
 *
 * Mirrors QEMU 7.2 hw/core/qdev-properties-system.c parse_drive() /
 * set_drive_helper(), hw/block/block.c blkconf_apply_backend_options(),
 * hw/scsi/scsi-disk.c scsi_realize() and hw/scsi/virtio-scsi.c
 * virtio_scsi_hotplug() (blk_op_is_blocked(DATAPLANE), then
 * blk_set_aio_context(): the node's subtree moves, the backend follows).
 */
#include "device.h"

#include <stdlib.h>
#include <string.h>

#include "aio.h"
#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "messages.h"
#include "object.h"

static struct RealDevices *devs(RealGraph *g)
{
    if (!g->devices)
        g->devices = bg_calloc(1, sizeof(*g->devices));
    return g->devices;
}

static RealDevice *find(RealGraph *g, const char *id)
{
    for (RealDevice *d = devs(g)->head; d; d = d->next)
        if (d->id && !strcmp(d->id, id))
            return d;
    return NULL;
}

static void add(RealGraph *g, RealDevice *d)
{
    RealDevice **pp = &devs(g)->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = d;
}

/* A property value as QemuOpts sees it (strings; true/false as "on"/"off"). */
static bool prop_bool(json_t *v)
{
    if (json_is_boolean(v))
        return json_is_true(v);
    const char *s = json_string_value(v);
    return s && (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes"));
}

static bool add_virtio_scsi(RealGraph *g, json_t *args, const char *id, const char **cls,
                            BgError *err)
{
    /* qdev_device_add(): the id first (anonymous devices are numbered), then properties */
    if (id && find(g, id))
        return bg_error_setf(err, BG_MSG_DEVICE_DUPLICATE_ID, id);
    if (!id)
        devs(g)->anon_count++;
    json_t *it = json_object_get(args, "iothread");
    RealCtx *ctx = NULL;
    const char *name = json_string_value(it);
    if (name && *name) {
        ctx = real_object_iothread(g, name);
        if (!ctx) {
            *cls = "DeviceNotFound";
            return bg_error_setf(err, BG_MSG_DEVICE_NOT_FOUND, name);
        }
    }
    RealDevice *d = bg_calloc(1, sizeof(*d));
    d->driver = bg_strdup("virtio-scsi");
    d->id = id ? bg_strdup(id) : NULL;
    d->iothread = ctx;
    add(g, d);
    return true;
}

static bool add_scsi_hd(RealGraph *g, json_t *args, const char *id, BgError *err)
{
    const char *drive = json_string_value(json_object_get(args, "drive"));
    const char *bus = json_string_value(json_object_get(args, "bus"));
    RealDevice *ctrl = NULL;
    if (bus) {
        /* a virtio-scsi controller's one bus is "<its id>.0" */
        size_t l = strlen(bus);
        if (l > 2 && !strcmp(bus + l - 2, ".0")) {
            char *ctrl_id = bg_strndup(bus, l - 2);
            ctrl = find(g, ctrl_id);
            free(ctrl_id);
        }
        if (!ctrl || strcmp(ctrl->driver, "virtio-scsi"))
            return bg_error_setf(err, BG_MSG_DEVICE_BUS_NOT_FOUND, bus);
    } else {
        for (RealDevice *d = devs(g)->head; d && !ctrl; d = d->next)
            if (!strcmp(d->driver, "virtio-scsi"))
                ctrl = d;
        if (!ctrl)
            return bg_error_setf(err, BG_MSG_DEVICE_NO_BUS, "SCSI", "scsi-hd");
    }
    if (id && find(g, id))
        return bg_error_setf(err, BG_MSG_DEVICE_DUPLICATE_ID, id);
    int anon = id ? 0 : devs(g)->anon_count++;
    RealNode *n = drive ? real_graph_find_node(g, drive) : NULL;
    if (drive && !n)
        return bg_error_setf(err, BG_MSG_DEVICE_DRIVE_NOT_FOUND, "scsi-hd", drive);
    if (!drive)
        return bg_error_setf(err, BG_MSG_DEVICE_NO_DRIVE);

    /* parse_drive(): an anonymous BlockBackend in the node's context */
    RealBlk *blk = real_blk_new(g, n->ctx, 0, REAL_PERM_ALL);
    if (real_blk_insert(blk, n, err) < 0) {
        real_blk_unref(blk);
        return false;
    }
    blk->has_dev = true;
    blk->dev_id = id ? bg_strdup(id)
                     : bg_asprintf("/machine/peripheral-anon/device[%d]", anon);

    /* scsi_realize() -> blkconf_geometry() -> hd_geometry_guess():
     * guess_disk_lchs() reads sector 0 through the device's BlockBackend
     * before the device takes its permissions; a failure only makes it guess
     * from the size.  What the read does below stays (a blkdebug rule it
     * fires, a copy-on-read copy, a corruption found); a shorter node fails
     * blk_check_byte_request() and reads nothing. */
    uint8_t sector[512];
    if (bdrv_getlength(n->bs) >= (int64_t)sizeof(sector))
        (void)bdrv_pread(n->bs, 0, sizeof(sector), sector, 0);

    /* blkconf_apply_backend_options(conf, readonly, resizable = true) */
    bool readonly = !(n->open_flags & REAL_O_RDWR);
    uint64_t perm = REAL_PERM_CONSISTENT_READ | (readonly ? 0 : REAL_PERM_WRITE);
    uint64_t shared = REAL_PERM_CONSISTENT_READ | REAL_PERM_WRITE_UNCHANGED | REAL_PERM_RESIZE;
    if (prop_bool(json_object_get(args, "share-rw")))
        shared |= REAL_PERM_WRITE;
    if (real_blk_set_perm(blk, perm, shared, err) < 0) {
        real_blk_unref(blk);
        return false;
    }

    /* virtio_scsi_hotplug() */
    if (ctrl->iothread) {
        if (real_node_op_is_blocked(n, REAL_OP_DATAPLANE, err) ||
            (n->ctx != ctrl->iothread &&
             real_aio_try_change(n, ctrl->iothread, blk->root, err) < 0)) {
            real_blk_unref(blk);
            return false;
        }
        blk->ctx = ctrl->iothread;
    }
    RealDevice *d = bg_calloc(1, sizeof(*d));
    d->driver = bg_strdup("scsi-hd");
    d->id = id ? bg_strdup(id) : NULL;
    d->blk = blk;
    add(g, d);
    return true;
}

bool real_device_add(RealGraph *g, json_t *args, bool machine_pc, bool *unsupported,
                     const char **cls, BgError *err)
{
    *unsupported = false;
    *cls = "GenericError";
    const char *driver = json_string_value(json_object_get(args, "driver"));
    json_t *idv = json_object_get(args, "id");
    const char *id = json_string_value(idv);
    if (!driver)
        return bg_error_setf(err, BG_MSG_QAPI_MISSING, "driver");
    if (!strcmp(driver, "virtio-scsi") || !strcmp(driver, "virtio-scsi-pci")) {
        if (!machine_pc)   /* machine none has no PCI bus */
            return bg_error_setf(err, BG_MSG_DEVICE_NO_BUS, "PCI", "virtio-scsi-pci");
        return add_virtio_scsi(g, args, id, cls, err);
    }
    if (!strcmp(driver, "scsi-hd"))
        return add_scsi_hd(g, args, id, err);
    *unsupported = true;
    return false;
}

void real_devices_free(RealGraph *g)
{
    if (!g->devices)
        return;
    RealDevice *d = g->devices->head;
    while (d) {
        RealDevice *next = d->next;
        real_blk_unref(d->blk);
        free(d->driver);
        free(d->id);
        free(d);
        d = next;
    }
    free(g->devices);
    g->devices = NULL;
}
