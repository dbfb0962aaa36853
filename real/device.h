/*
 * device.h: the guest devices streams add: virtio-scsi controllers (with
 * an iothread) and scsi-hd disks on them.
 *
 * What this is: what QEMU 7.2 device_add does for the block layer:
 * hw/core/qdev-properties-system.c parse_drive() (an anonymous
 * BlockBackend on the node), hw/block/block.c
 * blkconf_apply_backend_options() (consistent read + write unless the node
 * is read-only; shares consistent read, write unchanged, resize, and write
 * with share-rw), hw/scsi/virtio-scsi.c virtio_scsi_hotplug() (the
 * DATAPLANE op blocker, the move into the controller's iothread).
 * What it is not: device emulation or device_del.
 */
#ifndef REAL_DEVICE_H
#define REAL_DEVICE_H

#include <jansson.h>

#include "graph.h"

typedef struct RealDevice {
    char *driver;              /* "virtio-scsi" or "scsi-hd" */
    char *id;                  /* or NULL */
    RealCtx *iothread;         /* virtio-scsi: its context, NULL = main loop */
    RealBlk *blk;              /* scsi-hd: its BlockBackend */
    struct RealDevice *bus;    /* scsi-hd: the controller whose bus it is on */
    uint32_t target, lun;      /* scsi-hd: its address there (channel 0) */
    struct RealDevice *next;
} RealDevice;

struct RealDevices {
    RealDevice *head;
    int anon_count;            /* devices without id: /machine/peripheral-anon/device[N] */
};

/* device_add; *unsupported for other drivers. */
bool real_device_add(RealGraph *g, json_t *args, bool machine_pc, bool *unsupported,
                     const char **cls, BgError *err);
void real_devices_free(RealGraph *g);

#endif
