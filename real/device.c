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

#include <stdint.h>
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

/* Does ARGS hold only properties of the list the engine implements? */
static bool known_props(json_t *args, const char *const *props)
{
    const char *key;
    json_t *v;
    json_object_foreach(args, key, v) {
        const char *const *p = props;
        while (*p && strcmp(*p, key))
            p++;
        if (!*p)
            return false;
    }
    return true;
}

/* A uint32 qdev property of the SCSI address: *OUT is UINT32_MAX (the
 * default, "any") when absent; false for a value the engine does not take
 * (not an integer of 0..65535: QEMU refuses those while it sets the
 * properties, in the QDict's order). */
static bool scsi_prop(json_t *args, const char *name, uint32_t *out)
{
    json_t *v = json_object_get(args, name);
    *out = UINT32_MAX;
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
        return false;
    *out = (uint32_t)json_integer_value(v);
    return true;
}

/* scsi_device_find() with an exact match: the disk at BUS, TARGET, LUN. */
static RealDevice *scsi_find(RealGraph *g, RealDevice *bus, uint32_t target, uint32_t lun)
{
    for (RealDevice *d = devs(g)->head; d; d = d->next)
        if (d->bus == bus && d->target == target && d->lun == lun)
            return d;
    return NULL;
}

/* virtio-scsi's bus: one channel, targets up to VIRTIO_SCSI_MAX_TARGET, LUNs
 * up to VIRTIO_SCSI_MAX_LUN (hw/scsi/virtio-scsi.c virtio_scsi_scsi_info) */
#define SCSI_MAX_CHANNEL 0
#define SCSI_MAX_TARGET  255
#define SCSI_MAX_LUN     16383

/* scsi_qdev_realize() (hw/scsi/scsi-bus.c): the range checks, then the
 * address the disk takes on BUS (*TARGET and *LUN in and out). */
static bool scsi_realize_address(RealGraph *g, RealDevice *bus, uint32_t channel,
                                 uint32_t *target, uint32_t *lun, BgError *err)
{
    if (channel != UINT32_MAX && channel > SCSI_MAX_CHANNEL)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_CHANNEL, (int)channel);
    if (*target != UINT32_MAX && *target > SCSI_MAX_TARGET)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_TARGET, (int)*target);
    if (*lun != UINT32_MAX && *lun > SCSI_MAX_LUN)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_LUN, (int)*lun);
    if (*target == UINT32_MAX) {
        if (*lun == UINT32_MAX)
            *lun = 0;
        uint32_t id = 0;
        RealDevice *d;
        while ((d = scsi_find(g, bus, id, *lun)) && id < SCSI_MAX_TARGET)
            id++;
        if (d)
            return bg_error_setf(err, BG_MSG_SCSI_NO_FREE_TARGET);
        *target = id;
    } else if (*lun == UINT32_MAX) {
        uint32_t l = 0;
        RealDevice *d;
        while ((d = scsi_find(g, bus, *target, l)) && l < SCSI_MAX_LUN)
            l++;
        if (d)
            return bg_error_setf(err, BG_MSG_SCSI_NO_FREE_LUN);
        *lun = l;
    } else {
        RealDevice *d = scsi_find(g, bus, *target, *lun);
        if (d)      /* glib prints an anonymous device's NULL id as "(null)" */
            return bg_error_setf(err, BG_MSG_SCSI_LUN_USED, d->id ? d->id : "(null)");
    }
    return true;
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

static bool add_scsi_hd(RealGraph *g, json_t *args, const char *id, uint32_t channel,
                        uint32_t target, uint32_t lun, BgError *err)
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
        /* qbus_find_recursive() meets the newest controller's bus first
         * (bus_add_child() inserts at the head); the list is oldest first */
        for (RealDevice *d = devs(g)->head; d; d = d->next)
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
    if (!scsi_realize_address(g, ctrl, channel, &target, &lun, err))
        return false;
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
    d->bus = ctrl;
    d->target = target;
    d->lun = lun;
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
    static const char *const ctrl_props[] = { "driver", "id", "iothread", NULL };
    static const char *const disk_props[] = { "driver", "id", "bus", "drive", "share-rw",
                                              "channel", "scsi-id", "lun", NULL };
    if (!strcmp(driver, "virtio-scsi") || !strcmp(driver, "virtio-scsi-pci")) {
        if (!known_props(args, ctrl_props)) {
            *unsupported = true;
            return false;
        }
        if (!machine_pc)   /* machine none has no PCI bus */
            return bg_error_setf(err, BG_MSG_DEVICE_NO_BUS, "PCI", "virtio-scsi-pci");
        return add_virtio_scsi(g, args, id, cls, err);
    }
    uint32_t channel, target, lun;
    if (!strcmp(driver, "scsi-hd")) {
        if (!known_props(args, disk_props) || !scsi_prop(args, "channel", &channel) ||
            !scsi_prop(args, "scsi-id", &target) || !scsi_prop(args, "lun", &lun)) {
            *unsupported = true;
            return false;
        }
        return add_scsi_hd(g, args, id, channel, target, lun, err);
    }
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
