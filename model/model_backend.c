/*
 * model_backend.c: BgBackendOps "model": the step dispatch, the VM's life,
 * events (with the rate limit of the quorum events), and the small QMP
 * commands that need no file of their own (blockdev-del, object-add/del,
 * device_add, device_del, queries).
 *
 * What this is: the vtable the runner calls.  Every step gets a result the
 * way the qemu backend would report QEMU's answer: a return value or a
 * GenericError with QEMU's text, qemu-io output as io_out, events raised
 * during the step (and kept in a queue for wait-event, wait-job, run-job),
 * the VM log at shutdown; an error class other than GenericError where
 * QEMU uses one (st->err_class).  A step the model keeps no data for
 * answers "unsupported".  model_check() runs after every step inside
 * assert().
 * What it is not: a QEMU process.  No time passes; jobs move only when a
 * step drives them (model_job.c).
 *
 * Mirrors QEMU 7.2.0 blockdev.c qmp_blockdev_add() / qmp_blockdev_del(),
 * qom/object_interfaces.c user_creatable_add_type() / user_creatable_del(),
 * monitor/monitor.c monitor_qapi_event_queue() (rate limits),
 * softmmu/qdev-monitor.c qmp_device_del() / find_device_state(),
 * block/throttle-groups.c throttle_group_can_be_deleted(),
 * hw/block/block.c blkconf_apply_backend_options() (scsi-hd permissions),
 * hw/scsi/virtio-scsi.c virtio_scsi_hotplug() (the iothread's context),
 * and qemu/qemu_backend.c of this project for the step semantics.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

struct BgBackend {
    ModelState st;
};

/* Is there a throttle filter node in W (whose group may delay requests)? */
static bool throttle_node_exists(const ModelWorld *w)
{
    for (size_t i = 0; i < w->n_nodes; i++)
        if (w->nodes[i] && strcmp(w->nodes[i]->drv->name, "throttle") == 0)
            return true;
    return false;
}

void model_event(ModelState *st, const char *name, json_t *take_data)
{
    /* monitor_qapi_event_queue(): the quorum events are rate-limited to one
     * a second (QUORUM_REPORT_BAD per node); a held-back event would come
     * out a second later, which never passes in the model */
    if (strcmp(name, "QUORUM_REPORT_BAD") == 0 || strcmp(name, "QUORUM_FAILURE") == 0) {
        const char *node = json_string_value(json_object_get(take_data, "node-name"));
        char *key = bg_asprintf("%s/%s", name, node && name[7] == 'R' ? node : "");
        bool held = json_object_get(st->throttled, key) != NULL;
        json_object_set_new(st->throttled, key, json_true());
        free(key);
        if (held && throttle_node_exists(st->w)) {
            /* a throttle node's limits make QEMU's requests wait (real
             * time: a second of it lets the event through), and the model
             * keeps no clock */
            if (!st->unsupported)
                st->unsupported = "whether a rate-limited quorum event comes out depends on how "
                                  "long throttle limits made the step take (the model keeps no "
                                  "clock)";
            json_decref(take_data);
            return;
        }
        if (held) {
            json_decref(take_data);
            return;
        }
    }
    json_t *ev = json_pack("{s:s,s:o}", "event", name, "data", take_data);
    if (st->step_events)
        json_array_append_new(st->step_events, json_deep_copy(ev));
    json_array_append_new(st->queue, ev);
}

static void vm_start(ModelState *st)
{
    if (st->vm)
        return;
    st->vm = true;
    st->pc = false;                 /* the first VM step starts machine "none" */
    st->anon_devices = 0;
    st->log_incomplete = false;
    model_graph_free(st->w);
    st->w = model_graph_new();
    bg_buf_cleanup(&st->log);
    json_array_clear(st->queue);
    json_object_clear(st->throttled);
}

static void vm_stop(ModelState *st)
{
    if (!st->vm)
        return;
    model_job_cancel_all(st);
    model_event(st, "SHUTDOWN", json_pack("{s:b,s:s}", "guest", 0, "reason", "host-qmp-quit"));
    st->vm = false;
    free(st->last_log);
    st->last_log = bg_strdup(st->log.data ? st->log.data : "");
    bg_buf_cleanup(&st->log);
    model_graph_free(st->w);
    st->w = model_graph_new();
    json_array_clear(st->queue);
    json_object_clear(st->throttled);
}

/* ---- small commands ------------------------------------------------------------------ */

static const char *arg_str(const json_t *args, const char *key, BgError *err)
{
    json_t *v = json_object_get(args, key);
    if (!v) {
        bg_error_setf(err, BG_MSG_QAPI_MISSING, key);
        return NULL;
    }
    if (!json_is_string(v)) {
        bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, key, "string");
        return NULL;
    }
    return json_string_value(v);
}

/* qmp_blockdev_del() */
static bool blockdev_del(ModelState *st, const json_t *args, BgError *err)
{
    const char *name = arg_str(args, "node-name", err);
    if (!name)
        return false;
    ModelWorld *w = st->w;
    ModelNode *n = model_graph_find(w, name);
    if (!n)
        return bg_error_setf(err, BG_MSG_FIND_NODE_FAILED, name);
    if (model_graph_has_blk(w, n))
        return bg_error_setf(err, BG_MSG_NODE_IN_USE, name);
    /* bdrv_op_is_blocked(DRIVE_DEL): the newest blocker (a job's, or a
     * backing parent's) is the one reported */
    char *reason = model_graph_op_blocker(w, n, MODEL_OP_DRIVE_DEL);
    if (reason) {
        bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, n), reason);
        free(reason);
        return false;
    }
    if (!n->monitor_owned)
        return bg_error_setf(err, BG_MSG_NOT_OWNED_BY_MONITOR, n->name);
    if (model_graph_refcnt(w, n) > 1)
        return bg_error_setf(err, BG_MSG_BLOCK_DEVICE_IN_USE,
                             model_graph_device_or_node_name(w, n));
    /* bdrv_close() flushes what it closes */
    if (model_io_qcow2_stale_flush(st, w, n)) {
        st->unsupported = st->lost = "closing a qcow2 node whose caches go into an image file "
                                     "made anew since it opened it";
        return false;
    }
    n->monitor_owned = false;
    model_graph_collect(w);
    BgError ignore = {0};
    model_perm_refresh(w, NULL, 0, &ignore);
    return true;
}

static bool object_add(ModelState *st, const json_t *args, BgError *err)
{
    const char *type = arg_str(args, "qom-type", err);
    const char *id = type ? arg_str(args, "id", err) : NULL;
    if (!id)
        return false;
    ModelWorld *w = st->w;
    bool group = strcmp(type, "throttle-group") == 0, iothread = strcmp(type, "iothread") == 0;
    if (!group && !iothread) {
        st->unsupported = "QOM types other than throttle-group and iothread are not modelled";
        return false;
    }
    /* user_creatable_add_type(): objects live in /objects, one namespace
     * (a throttle group's properties are set and checked before) */
    if (group) {
        if (!model_throttle_group_add(w, args, id, err))
            return false;
    } else if (model_graph_group_exists(w, id) || model_graph_iothread_exists(w, id)) {
        return bg_error_setf(err, BG_MSG_DUPLICATE_PROPERTY, id, "container");
    }
    char ***v = group ? &w->groups : &w->iothreads;
    size_t *n = group ? &w->n_groups : &w->n_iothreads;
    *v = bg_realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = bg_strdup(id);
    return true;
}

static bool object_del(ModelState *st, const json_t *args, BgError *err)
{
    const char *id = arg_str(args, "id", err);
    if (!id)
        return false;
    ModelWorld *w = st->w;
    for (size_t i = 0; i < w->n_groups; i++) {
        if (strcmp(w->groups[i], id) != 0)
            continue;
        for (size_t k = 0; k < w->n_nodes; k++)
            if (w->nodes[k]->throttle_group && strcmp(w->nodes[k]->throttle_group, id) == 0)
                return bg_error_setf(err, BG_MSG_OBJECT_IN_USE, id);
        free(w->groups[i]);
        memmove(&w->groups[i], &w->groups[i + 1], (w->n_groups - i - 1) * sizeof(char *));
        w->n_groups--;
        return true;
    }
    for (size_t i = 0; i < w->n_iothreads; i++) {
        if (strcmp(w->iothreads[i], id) != 0)
            continue;
        for (size_t k = 0; k < w->n_devices; k++)
            if (w->devices[k].iothread && strcmp(w->devices[k].iothread, id) == 0) {
                st->unsupported = "deleting an iothread a device uses is not modelled";
                return false;
            }
        free(w->iothreads[i]);
        memmove(&w->iothreads[i], &w->iothreads[i + 1], (w->n_iothreads - i - 1) * sizeof(char *));
        w->n_iothreads--;
        return true;
    }
    return bg_error_setf(err, BG_MSG_OBJECT_NOT_FOUND, id);
}

static ModelDevice *device_push(ModelWorld *w, const char *id, const char *driver,
                                const char *iothread, const char *bus)
{
    w->devices = bg_realloc(w->devices, (w->n_devices + 1) * sizeof(*w->devices));
    w->devices[w->n_devices] = (ModelDevice){ id ? bg_strdup(id) : NULL, bg_strdup(driver),
                                              iothread ? bg_strdup(iothread) : NULL,
                                              bus ? bg_strdup(bus) : NULL, -1, 0, 0 };
    return &w->devices[w->n_devices++];
}

/* The properties the model follows; a device_add with any other is not modelled. */
static const char *unmodelled_property(const json_t *args, const char *const *known)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)args, key, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            return key;
    }
    return NULL;
}

/* A SCSI address property (qdev uint32): absent is -1, as its default; a
 * value the model does not follow (not an integer in 0..65535: QEMU's
 * errors for those come while the properties are set, in the QDict's
 * order) is -2. */
static long scsi_prop(const json_t *args, const char *name)
{
    const json_t *v = json_object_get(args, name);
    if (!v)
        return -1;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
        return -2;
    return (long)json_integer_value(v);
}

/* Is there a scsi-hd on controller CTRL at TARGET, LUN (channel 0)? */
static const ModelDevice *scsi_at(const ModelWorld *w, long ctrl, unsigned target, unsigned lun)
{
    for (size_t i = 0; i < w->n_devices; i++) {
        const ModelDevice *d = &w->devices[i];
        if (d->ctrl == ctrl && d->target == target && d->lun == lun)
            return d;
    }
    return NULL;
}

/*
 * scsi_qdev_realize() (hw/scsi/scsi-bus.c) on a virtio-scsi bus (max_channel
 * 0, max_target 255, max_lun 16383: VIRTIO_SCSI_MAX_TARGET / _MAX_LUN): the
 * range checks, then the address: without scsi-id the first target from 0
 * whose LUN (0 when not given) is free, without lun the first free LUN of
 * the target, with both a LUN no other device has.
 */
static bool scsi_address(const ModelWorld *w, long ctrl, long channel, long target, long lun,
                         unsigned *target_out, unsigned *lun_out, BgError *err)
{
    if (channel > 0)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_CHANNEL, (int)channel);
    if (target > 255)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_TARGET, (int)target);
    if (lun > 16383)
        return bg_error_setf(err, BG_MSG_SCSI_BAD_LUN, (int)lun);
    if (target < 0) {
        unsigned l = lun < 0 ? 0 : (unsigned)lun, t = 0;
        while (scsi_at(w, ctrl, t, l) && t < 255)
            t++;
        if (scsi_at(w, ctrl, t, l))
            return bg_error_setf(err, BG_MSG_SCSI_NO_FREE_TARGET);
        *target_out = t;
        *lun_out = l;
    } else if (lun < 0) {
        unsigned l = 0;
        while (scsi_at(w, ctrl, (unsigned)target, l) && l < 16383)
            l++;
        if (scsi_at(w, ctrl, (unsigned)target, l))
            return bg_error_setf(err, BG_MSG_SCSI_NO_FREE_LUN);
        *target_out = (unsigned)target;
        *lun_out = l;
    } else {
        const ModelDevice *d = scsi_at(w, ctrl, (unsigned)target, (unsigned)lun);
        if (d)      /* an anonymous device's id is NULL, which glib prints so */
            return bg_error_setf(err, BG_MSG_SCSI_LUN_USED, d->id ? d->id : "(null)");
        *target_out = (unsigned)target;
        *lun_out = (unsigned)lun;
    }
    return true;
}

static const ModelDevice *device_find(const ModelWorld *w, const char *id)
{
    for (size_t i = 0; i < w->n_devices; i++)
        if (w->devices[i].id && strcmp(w->devices[i].id, id) == 0)
            return &w->devices[i];
    return NULL;
}

/* device_add for virtio-scsi and scsi-hd, as the seed uses them. */
static bool device_add(ModelState *st, const json_t *args, BgError *err)
{
    const char *driver = arg_str(args, "driver", err);
    if (!driver)
        return false;
    const char *id = json_string_value(json_object_get(args, "id"));
    static const char *const ctrl_props[] = { "driver", "id", "iothread", NULL };
    static const char *const disk_props[] = { "driver", "id", "bus", "drive", "share-rw",
                                              "channel", "scsi-id", "lun", NULL };
    if (strcmp(driver, "virtio-scsi") == 0 || strcmp(driver, "virtio-scsi-pci") == 0) {
        if (unmodelled_property(args, ctrl_props)) {
            st->unsupported = "a virtio-scsi property the model does not follow";
            return false;
        }
        driver = "virtio-scsi";     /* an alias of virtio-scsi-pci */
        if (!st->pc)
            return bg_error_setf(err, BG_MSG_DEVICE_NO_BUS, "PCI", "virtio-scsi-pci");
        if (id && device_find(st->w, id))
            return bg_error_setf(err, BG_MSG_DEVICE_DUPLICATE_ID, id);
        if (!id)            /* qdev_set_id(): anonymous devices are numbered */
            st->anon_devices++;
        const char *it = json_string_value(json_object_get(args, "iothread"));
        if (it && !*it)
            it = NULL;
        if (it && !model_graph_iothread_exists(st->w, it)) {
            st->unsupported = "device_add with an unknown iothread is not modelled";
            return false;
        }
        device_push(st->w, id, driver, it, NULL);
        return true;
    }
    if (strcmp(driver, "scsi-hd") != 0) {
        st->unsupported = "devices other than virtio-scsi and scsi-hd are not modelled";
        return false;
    }
    long channel = scsi_prop(args, "channel"), target = scsi_prop(args, "scsi-id"),
         lun = scsi_prop(args, "lun");
    if (unmodelled_property(args, disk_props) || channel == -2 || target == -2 || lun == -2) {
        st->unsupported = "a scsi-hd property or value the model does not follow";
        return false;
    }
    const char *drive = json_string_value(json_object_get(args, "drive"));
    const char *bus = json_string_value(json_object_get(args, "bus"));
    /* qdev_device_add(): the bus first (a virtio-scsi controller's one bus
     * is "<its id>.0"; without `bus`, the first SCSI bus qbus_find_recursive()
     * meets, and bus_add_child() puts each new device first: the newest
     * controller's), then the id (qdev_set_id() numbers an anonymous device
     * here), then the `drive` property, then realize */
    const ModelDevice *ctrl = NULL;
    long ctrl_index = -1;
    for (size_t i = st->w->n_devices; i-- > 0 && !ctrl;) {
        const ModelDevice *d = &st->w->devices[i];
        size_t l = d->id ? strlen(d->id) : 0;
        if (strcmp(d->driver, "virtio-scsi") == 0 &&
            (!bus || (l && strncmp(bus, d->id, l) == 0 && strcmp(bus + l, ".0") == 0))) {
            ctrl = d;
            ctrl_index = (long)i;
        }
    }
    if (!ctrl && bus)
        return bg_error_setf(err, BG_MSG_DEVICE_BUS_NOT_FOUND, bus);
    if (!ctrl)
        return bg_error_setf(err, BG_MSG_DEVICE_NO_BUS, "SCSI", "scsi-hd");
    if (id && device_find(st->w, id))
        return bg_error_setf(err, BG_MSG_DEVICE_DUPLICATE_ID, id);
    unsigned anon = id ? 0 : st->anon_devices++;
    ModelNode *live = drive ? model_graph_find(st->w, drive) : NULL;
    if (drive && !live)
        return bg_error_setf(err, BG_MSG_DEVICE_DRIVE_NOT_FOUND, "scsi-hd", drive);
    /* realize: scsi_qdev_realize() takes the address before scsi_realize() */
    unsigned at_target = 0, at_lun = 0;
    if (!scsi_address(st->w, ctrl_index, channel, target, lun, &at_target, &at_lun, err))
        return false;
    if (!drive)
        return bg_error_setf(err, BG_MSG_DEVICE_NO_DRIVE);
    /* scsi_realize() -> blkconf_geometry() -> hd_geometry_guess():
     * guess_disk_lchs() reads sector 0 through the device's BlockBackend
     * before the device takes its permissions; a failure only makes it guess
     * from the size.  What the read does below stays, whatever follows; a
     * node shorter than a sector fails blk_check_byte_request() first. */
    if (model_open_length(st, st->w, live) >= 512) {
        uint8_t sector[512];
        ModelIoStatus ios = {0};
        (void)model_io_pread(st, live, 0, sizeof(sector), sector, &ios);
        if (ios.unsupported) {
            st->unsupported = ios.unsupported;
            return false;
        }
    }
    char *iothread = ctrl->iothread ? bg_strdup(ctrl->iothread) : NULL;
    ModelWorld *w = model_graph_copy(st->w);
    ModelNode *n = model_graph_find(w, drive);
    /* qdev_set_id() numbers an anonymous device before its drive is set;
     * blk_get_attached_dev_id() names it by its QOM path */
    char *owner = id ? bg_strdup(id) : bg_asprintf("/machine/peripheral-anon/device[%u]", anon);
    json_t *srw = json_object_get(args, "share-rw");
    bool share_rw = json_is_true(srw) || (json_is_string(srw) && strcmp(json_string_value(srw), "on") == 0);
    /* blkconf_apply_backend_options(conf, read_only = !writable, resizable = true) */
    unsigned perm = MODEL_PERM_CONSISTENT_READ | (n->read_only ? 0 : MODEL_PERM_WRITE);
    unsigned shared = MODEL_PERM_CONSISTENT_READ | MODEL_PERM_WRITE_UNCHANGED | MODEL_PERM_RESIZE |
                      (share_rw ? MODEL_PERM_WRITE : 0);
    w->blks = bg_realloc(w->blks, (w->n_blks + 1) * sizeof(*w->blks));
    w->blks[w->n_blks++] = (ModelBlk){ .kind = MODEL_BLK_DEVICE, .owner = owner,
                                       .node = n->id, .perm = perm, .shared = shared,
                                       .seq = ++w->next_seq, .child_name = "root" };
    bool ok = model_perm_refresh_below(w, n, err);
    /* virtio_scsi_hotplug(): with an iothread, the node must allow
     * dataplane (op blockers), then the disk (its BlockBackend first) joins
     * the controller's iothread */
    if (ok && iothread) {
        char *reason = model_graph_op_blocker(w, n, MODEL_OP_DATAPLANE);
        if (reason) {
            ok = bg_error_setf(err, BG_MSG_NODE_BUSY, model_graph_device_or_node_name(w, n), reason);
            free(reason);
        }
    }
    w->blks[w->n_blks - 1].iothread = iothread;
    iothread = NULL;
    if (ok && w->blks[w->n_blks - 1].iothread)
        ok = model_aio_move(w, n, w->blks[w->n_blks - 1].iothread, err);
    if (ok) {
        ModelDevice *d = device_push(w, id, driver, NULL, bus);
        d->ctrl = ctrl_index;
        d->target = at_target;
        d->lun = at_lun;
        ModelWorld *old = st->w;
        st->w = w;
        w = old;
    }
    free(iothread);
    model_graph_free(w);
    return ok;
}

/* ---- execute --------------------------------------------------------------------------- */

/*
 * A blockdev-add that failed left its own nodes behind, but not what its
 * reads did through nodes that were there before, as they did in QEMU 7.2:
 * a qcow2 header read through an existing copy-on-read filter copies into
 * the image below (cor_co_preadv_part() reads with BDRV_REQ_COPY_ON_READ,
 * and the zero write allocates an L2 table, also when qcow2_do_open() then
 * fails), which grows the file node and the filters the host write passed;
 * a read raises blkdebug events (read_aio makes a rule active, a once rule
 * that fails a request is gone), loads a qcow2 node's L2 slices and moves a
 * quorum's next child.  The
 * images are the state's own (st->files, kept); KEPT, the graph before the
 * step, gets that state of each of its nodes back from FAILED, the step's.
 */
static void io_state_kept(ModelWorld *kept, const ModelWorld *failed)
{
    for (size_t i = 0; i < kept->n_nodes; i++) {
        ModelNode *n = kept->nodes[i];
        const ModelNode *m = n ? model_graph_node(failed, n->id) : NULL;
        if (!m)
            continue;
        free(n->dbg_rules);
        n->dbg_rules = m->n_dbg_rules ? bg_calloc(m->n_dbg_rules, sizeof(*m->dbg_rules)) : NULL;
        if (m->n_dbg_rules)
            memcpy(n->dbg_rules, m->dbg_rules, m->n_dbg_rules * sizeof(*m->dbg_rules));
        n->n_dbg_rules = m->n_dbg_rules;
        n->dbg_written = m->dbg_written;
        n->quorum_next = m->quorum_next;
        n->total = m->total;                     /* only grows (model_io_host_grew()) */
        n->l2_warm = m->l2_warm;                 /* the L2 slices its reads loaded */
    }
}

static void set_error(ModelState *st, BgResult *res, const BgError *err, bool seed_wording)
{
    char *text = seed_wording ? bg_msg_seed_wording(err->text) : bg_strdup(err->text);
    bg_result_set_error(res, st->err_class ? st->err_class : "GenericError", text);
    free(text);
}

/* qmp_device_del(): only an unknown id is modelled (unplugging needs the guest). */
static bool device_del(ModelState *st, const json_t *args, BgError *err)
{
    const char *id = arg_str(args, "id", err);
    if (!id)
        return false;
    if (device_find(st->w, id)) {
        st->unsupported = "device_del of an existing device is not modelled";
        return false;
    }
    st->err_class = "DeviceNotFound";
    return bg_error_setf(err, BG_MSG_DEVICE_NOT_FOUND, id);
}

/* query-named-block-nodes' one argument. */
static bool query_args(const json_t *args, BgError *err)
{
    /* the visit of "flat" first, then the first key left (check_struct) */
    json_t *flat = json_object_get(args, "flat");
    if (flat && !json_is_boolean(flat))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "flat", "boolean");
    static const char *const taken[] = { "flat" };
    const char *k = args ? model_qapi_first_unexpected(args, taken, flat ? 1 : 0) : NULL;
    if (k)
        return bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, k);
    return true;
}

static void execute(ModelState *st, const char *name, json_t *args, BgResult *res)
{
    BgError err = {0};
    bool ok = true;
    json_t *ret = NULL;
    bool seed = false;

    if (strcmp(name, "blockdev-add") == 0) {
        if (!args || !model_qapi_blockdev_options(args, "", &err)) {
            ok = false;
            if (!args)
                bg_error_setf(&err, BG_MSG_QAPI_MISSING, "driver");
        } else {
            ModelWorld *w = model_graph_copy(st->w);
            ok = model_open_blockdev_add(st, w, args, &err);
            /* a node the model cannot open (unsupported) may have left
             * half-opened nodes behind: the step changes nothing */
            if (ok && !st->unsupported) {
                ModelWorld *old = st->w;
                st->w = w;
                w = old;
            } else {
                io_state_kept(st->w, w);
            }
            model_graph_free(w);
        }
    } else if (strcmp(name, "x-blockdev-reopen") == 0 || strcmp(name, "blockdev-reopen") == 0) {
        seed = strcmp(name, "x-blockdev-reopen") == 0;
        json_t *wrapped = !args ? (seed ? json_pack("{s:[{}]}", "options") : json_object())
                          : seed ? json_pack("{s:[O]}", "options", args) : json_incref(args);
        ok = model_qapi_blockdev_reopen(wrapped, &err) &&
             model_reopen(st, json_object_get(wrapped, "options"), &err);
        json_decref(wrapped);
    } else if (strcmp(name, "blockdev-del") == 0) {
        ok = blockdev_del(st, args, &err);
    } else if (strcmp(name, "query-named-block-nodes") == 0) {
        ok = query_args(args, &err);
        if (ok)
            ret = model_query_named_block_nodes(st, json_is_true(json_object_get(args, "flat")));
    } else if (strcmp(name, "query-block-jobs") == 0) {
        ret = model_query_block_jobs(st);
    } else if (strcmp(name, "query-jobs") == 0) {
        ret = model_query_jobs(st);
    } else if (strcmp(name, "object-add") == 0) {
        ok = object_add(st, args, &err);
    } else if (strcmp(name, "object-del") == 0) {
        ok = object_del(st, args, &err);
    } else if (strcmp(name, "device_add") == 0) {
        ok = device_add(st, args, &err);
    } else if (strcmp(name, "device_del") == 0) {
        ok = device_del(st, args, &err);
    } else if (strcmp(name, "block-stream") == 0) {
        ok = model_job_block_stream(st, args, &err);
    } else if (strcmp(name, "block-commit") == 0) {
        ok = model_job_block_commit(st, args, &err);
    } else if (strncmp(name, "block-job-", 10) == 0 || strncmp(name, "job-", 4) == 0) {
        ok = model_job_command(st, name, args, &err);
    } else if (strcmp(name, "human-monitor-command") == 0) {
        const char *line = json_string_value(json_object_get(args, "command-line"));
        if (line)
            model_io_hmp(st, line, res);
        else
            bg_result_set_unsupported(res, "human-monitor-command without a command line");
        /* what the I/O raised may be beyond the model too (model_event()) */
        if (st->unsupported && res->kind != BG_RES_UNSUPPORTED)
            bg_result_set_unsupported(res, st->unsupported);
        if (res->kind == BG_RES_UNSUPPORTED)
            st->log_incomplete = true;
        return;
    } else if (strcmp(name, "quit") == 0) {
        vm_stop(st);
    } else {
        bg_result_set_unsupported(res, "a QMP command the model does not implement");
        return;
    }
    if (st->unsupported) {
        bg_result_set_unsupported(res, st->unsupported);
        json_decref(ret);
        return;
    }
    if (!ok)
        set_error(st, res, &err, seed);
    else
        bg_result_set_return(res, ret ? ret : json_object());
}

static BgBackend *model_open(const BgBackendConfig *cfg, BgError *err)
{
    (void)err;
    BgBackend *be = bg_calloc(1, sizeof(*be));
    be->st.scratch = bg_strdup(cfg->scratch);
    be->st.w = model_graph_new();
    be->st.queue = json_array();
    be->st.throttled = json_object();
    return be;
}

static bool model_execute(BgBackend *be, const BgStep *step, json_t *cmd, BgResult *res, BgError *err)
{
    (void)err;
    ModelState *st = &be->st;
    st->unsupported = NULL;
    st->err_class = NULL;
    st->step_events = json_array();
    switch (step->kind) {
    case BG_STEP_IMG_CREATE:
        model_image_create(&st->files, st->vm ? st->w : NULL, st->scratch,
                           json_object_get(cmd, "img-create"), res);
        break;
    case BG_STEP_IO:
        model_io_offline(st, json_object_get(cmd, "io"), res);
        break;
    case BG_STEP_QEMU_IMG:
        bg_result_set_unsupported(res, "the model keeps no image files for qemu-img");
        break;
    case BG_STEP_LAUNCH:
        if (st->vm) {
            bg_result_set_error(res, "GenericError",
                                "launch: the VM is already running (shutdown first)");
        } else {
            vm_start(st);
            const char *m = json_string_value(
                json_object_get(json_object_get(cmd, "launch"), "machine"));
            st->pc = m && strcmp(m, "pc") == 0;
            bg_result_set_return(res, json_object());
        }
        break;
    case BG_STEP_EXECUTE: {
        const char *name = json_string_value(json_object_get(cmd, "execute"));
        vm_start(st);
        execute(st, name ? name : "", json_object_get(cmd, "arguments"), res);
        break;
    }
    case BG_STEP_WAIT_EVENT:
        vm_start(st);
        model_job_wait_event(st, json_object_get(cmd, "wait-event"), res);
        break;
    case BG_STEP_WAIT_JOB: {
        const char *id = json_string_value(json_object_get(cmd, "wait-job"));
        vm_start(st);
        if (id)
            model_job_wait_job(st, id, res);
        else
            bg_result_set_unsupported(res, "wait-job without a job id");
        break;
    }
    case BG_STEP_RUN_JOB:
        vm_start(st);
        model_job_run_job(st, json_object_get(cmd, "run-job"), res);
        break;
    case BG_STEP_SHUTDOWN:
        vm_stop(st);
        if (st->log_incomplete) {
            bg_result_set_unsupported(res, "the VM log lacks what an HMP step the model did not "
                                           "answer printed");
            break;
        }
        bg_result_set_return(res, json_object());
        res->log = bg_strdup(st->last_log ? st->last_log : "");
        break;
    default:
        bg_result_set_unsupported(res, "not a step");
        break;
    }
    /* a job driven by this step copied bytes the model does not know */
    if (st->unsupported && res->kind != BG_RES_UNSUPPORTED && step->kind != BG_STEP_EXECUTE)
        bg_result_set_unsupported(res, st->unsupported);
    if (st->lost && res->kind != BG_RES_UNSUPPORTED)
        bg_result_set_unsupported(res, st->lost);
    if (json_array_size(st->step_events))
        res->events = json_incref(st->step_events);
    json_decref(st->step_events);
    st->step_events = NULL;
    assert(model_check(st));
    return true;
}

static bool model_read_node(BgBackend *be, const char *node, uint64_t offset, uint64_t len,
                            uint8_t *buf, BgError *err)
{
    const ModelNode *n = model_graph_find(be->st.w, node);
    if (!n)
        return bg_error_setf(err, "no node '%s'", node);
    const char *unsupported = NULL;
    if (!model_io_read(&be->st, n, offset, len, buf, &unsupported))
        return bg_error_setf(err, "%s", unsupported ? unsupported : "read failed");
    return true;
}

/*
 * backend.h data_version, for the nodes model_list_nodes() offers (qcow2,
 * raw and file nodes over the same): the node's serial, reopens and length,
 * the image file a file node reads (which img-create made it, and every
 * change of it since: ModelFile.gen), and its children's versions.
 */
static uint64_t version_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

static uint64_t node_version(ModelState *st, const ModelNode *n, int depth)
{
    uint64_t h = version_mix(version_mix(version_mix(n->serial, n->data_gen), n->total),
                             n->qcow2_serial);
    if (n->filename) {
        const ModelFile *f = model_image_find(&st->files, n->filename);
        h = version_mix(h, f ? version_mix(f->serial, f->gen) : 0);
    }
    for (size_t i = 0; i < n->n_children && depth < 64; i++) {
        const ModelNode *c = model_graph_node(st->w, n->children[i].node);
        h = version_mix(h, c ? node_version(st, c, depth + 1) : 0);
    }
    return h ? h : 1;
}

static uint64_t model_data_version(BgBackend *be, const char *node)
{
    const ModelNode *n = model_graph_find(be->st.w, node);
    return n ? node_version(&be->st, n, 0) : 0;
}

static uint64_t model_known_zero(BgBackend *be, const char *node, uint64_t offset, uint64_t len)
{
    const ModelNode *n = model_graph_find(be->st.w, node);
    return n ? model_io_known_zero(&be->st, n, offset, len) : 0;
}

/*
 * Can N be read without side effects?  Reads through copy-on-read copy up,
 * through blkdebug consume rules, through throttle take tokens, through
 * quorum raise events; null-co without read-zeroes returns no data.  Only
 * subtrees made of format and protocol nodes are offered for comparison.
 */
static bool pure_read(const ModelWorld *w, const ModelNode *n, int depth)
{
    static const char *const pure[] = { "qcow2", "raw", "file", NULL };
    bool ok = false;
    for (const char *const *p = pure; *p; p++)
        ok |= strcmp(n->drv->name, *p) == 0;
    if (!ok || depth > 64)
        return false;
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelNode *c = model_graph_node(w, n->children[i].node);
        if (!c || !pure_read(w, c, depth + 1))
            return false;
    }
    return true;
}

/* Does a write to D reach N: N is D, or below D through any child but a
 * COW (backing) child, the nodes a write to D passes? */
static bool write_reaches(const ModelWorld *w, const ModelNode *d, const ModelNode *n, int depth)
{
    if (d == n)
        return true;
    for (size_t i = 0; i < d->n_children && depth < 64; i++) {
        const ModelNode *c = model_graph_node(w, d->children[i].node);
        if (c && !(d->children[i].role & MODEL_ROLE_COW) && write_reaches(w, c, n, depth + 1))
            return true;
    }
    return false;
}

/* Does N's subtree (N included) hold a node a block job that has not
 * concluded may write (backend.h list_nodes)?  The model moves a job's data
 * at the steps that drive it, QEMU whenever its coroutines run.  The node a
 * job copies into: stream its top, commit and active commit their base. */
static bool job_writes_below(const ModelWorld *w, const ModelNode *n, int depth)
{
    for (size_t i = 0; i < w->n_jobs; i++) {
        const ModelJob *j = &w->jobs[i];
        const ModelNode *d = model_graph_node(w, j->type == MODEL_JOB_STREAM ? j->top : j->base);
        if (j->status < MODEL_JOB_CONCLUDED && d && write_reaches(w, d, n, 0))
            return true;
    }
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelNode *c = model_graph_node(w, n->children[i].node);
        if (c && (depth >= 64 || job_writes_below(w, c, depth + 1)))
            return true;
    }
    return false;
}

/* The nodes the differential comparator reads (backend.h list_nodes). */
static json_t *model_list_nodes(BgBackend *be)
{
    json_t *list = json_array();
    const ModelWorld *w = be->st.w;
    for (size_t i = 0; w && i < w->n_nodes; i++) {
        const ModelNode *n = w->nodes[i];
        if (!pure_read(w, n, 0) || job_writes_below(w, n, 0))
            continue;
        uint64_t len = model_open_length(&be->st, w, n);
        json_array_append_new(list, json_pack("{s:s,s:I}", "node-name", n->name, "size",
                                              (json_int_t)len));
    }
    return list;
}

static char *model_get_log(BgBackend *be)
{
    if (be->st.vm)
        return bg_strdup(be->st.log.data ? be->st.log.data : "");
    return be->st.last_log ? bg_strdup(be->st.last_log) : NULL;
}

static void model_close(BgBackend *be)
{
    if (!be)
        return;
    ModelState *st = &be->st;
    free(st->scratch);
    model_image_cleanup(&st->files);
    model_graph_free(st->w);
    bg_buf_cleanup(&st->log);
    free(st->last_log);
    json_decref(st->queue);
    json_decref(st->throttled);
    free(be);
}

static bool model_available(void)
{
    return true;
}

/* The model's images live in memory (model_image.c): it never touches a file. */
static uint64_t model_file_changes(BgBackend *be)
{
    (void)be;
    return 0;
}

const BgBackendOps bg_model_backend_ops = {
    .name = "model",
    .available = model_available,
    .open = model_open,
    .execute = model_execute,
    .read_node = model_read_node,
    .known_zero = model_known_zero,
    .data_version = model_data_version,
    .list_nodes = model_list_nodes,
    .file_changes = model_file_changes,
    .get_log = model_get_log,
    .close = model_close,
};
