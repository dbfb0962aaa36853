/*
 * graph.c: the graph, its nodes, their names, references and op blockers
 * (see graph.h).
 *
 * Mirrors QEMU 7.2 block.c: bdrv_new(), bdrv_assign_node_name() with
 * util/id.c id_wellformed()/id_generate() (the generated suffix is two
 * digits derived from the counter, not random: streams compare generated
 * names as equal anyway), bdrv_find_node(), bdrv_lookup_bs(),
 * bdrv_ref/unref/delete/close (children dropped newest first),
 * bdrv_get_device_or_node_name(), op blockers and bdrv_has_blk().
 * Not here: child edges, inherits_from, max_transfer and the chain
 * helpers (edge.c); the invariant check (real_check.c).
 */
#include "graph.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bdrv.h"
#include "bg.h"
#include "blk.h"
#include "device.h"
#include "job.h"
#include "messages.h"
#include "object.h"

/* ---- the graph ---------------------------------------------------------------- */

RealGraph *real_graph_new(const char *dir)
{
    RealGraph *g = bg_calloc(1, sizeof(*g));
    g->dir = bg_strdup(dir ? dir : ".");
    g->index_size = 64;
    g->index = bg_calloc(g->index_size, sizeof(*g->index));
    g->events = json_array();
    g->event_times = json_object();
    return g;
}

void real_graph_event(RealGraph *g, const char *name, json_t *take_data)
{
    json_array_append_new(g->events, json_pack("{s:s,s:o}", "event", name, "data", take_data));
}

void real_graph_event_throttled(RealGraph *g, const char *name, const char *key,
                                json_t *take_data)
{
    char *k = bg_asprintf("%s/%s", name, key ? key : "");
    json_t *last = json_object_get(g->event_times, k);
    if (last && g->clock_ns - json_integer_value(last) < 1000000000LL) {
        json_decref(take_data);
    } else {
        json_object_set_new(g->event_times, k, json_integer(g->clock_ns));
        real_graph_event(g, name, take_data);
    }
    free(k);
}

char *real_graph_path(RealGraph *g, const char *name)
{
    if (!name || name[0] == '/' || !g->dir)
        return bg_strdup(name ? name : "");
    return bg_asprintf("%s/%s", g->dir, name);
}

unsigned real_graph_new_mark(RealGraph *g)
{
    if (++g->mark_gen == 0) {
        for (RealNode *n = g->head; n; n = n->list_next)
            n->mark = 0;
        g->mark_gen = 1;
    }
    return g->mark_gen;
}

static unsigned name_hash(const char *s)
{
    unsigned h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static void index_insert(RealGraph *g, RealNode *n)
{
    if (g->n_nodes + 1 > g->index_size) {
        unsigned size = g->index_size * 2;
        RealNode **idx = bg_calloc(size, sizeof(*idx));
        for (unsigned i = 0; i < g->index_size; i++) {
            RealNode *m = g->index[i];
            while (m) {
                RealNode *next = m->hash_next;
                unsigned b = name_hash(m->node_name) & (size - 1);
                m->hash_next = idx[b];
                idx[b] = m;
                m = next;
            }
        }
        free(g->index);
        g->index = idx;
        g->index_size = size;
    }
    unsigned b = name_hash(n->node_name) & (g->index_size - 1);
    n->hash_next = g->index[b];
    g->index[b] = n;
    g->n_nodes++;
}

static void index_remove(RealGraph *g, RealNode *n)
{
    RealNode **p = &g->index[name_hash(n->node_name) & (g->index_size - 1)];
    while (*p && *p != n)
        p = &(*p)->hash_next;
    if (*p) {
        *p = n->hash_next;
        g->n_nodes--;
    }
    n->hash_next = NULL;
}

RealNode *real_graph_find_node(RealGraph *g, const char *name)
{
    if (!name)
        return NULL;
    for (RealNode *n = g->index[name_hash(name) & (g->index_size - 1)]; n; n = n->hash_next)
        if (strcmp(n->node_name, name) == 0)
            return n;
    return NULL;
}

RealNode *real_graph_lookup(RealGraph *g, const char *device, const char *node_name,
                            BgError *err)
{
    if (device) {
        RealBlk *blk = real_blk_by_name(g, device);
        if (blk) {
            RealNode *n = real_blk_node(blk);
            if (!n) {
                bg_error_setf(err, BG_MSG_LOOKUP_NO_MEDIUM, device);
                return NULL;
            }
            return n;
        }
    }
    if (node_name) {
        RealNode *n = real_graph_find_node(g, node_name);
        if (n)
            return n;
    }
    bg_error_setf(err, BG_MSG_LOOKUP_BS, device ? device : "", node_name ? node_name : "");
    return NULL;
}

/* ---- nodes -------------------------------------------------------------------- */

/*
 * qcow2_signal_corruption()'s qapi_event_send_block_image_corrupted(): the
 * device name ("" without a named BlockBackend), the node name, the message,
 * the request's offset and size when there is one, and whether it is fatal.
 */
static void node_corrupted(RealBlockState *bs, const char *msg, int64_t offset, int64_t size,
                           bool fatal)
{
    RealNode *n = bs->graph;
    const char *dev = real_node_device_or_node_name(n);
    json_t *data = json_pack("{s:s,s:s,s:s,s:b}", "device", dev == n->node_name ? "" : dev,
                             "node-name", n->node_name, "msg", msg, "fatal", fatal);
    if (offset >= 0)
        json_object_set_new(data, "offset", json_integer(offset));
    if (size >= 0)
        json_object_set_new(data, "size", json_integer(size));
    real_graph_event(n->g, "BLOCK_IMAGE_CORRUPTED", data);
}

static void node_aborts(RealBlockState *bs, const char *why)
{
    RealNode *n = bs->graph;
    if (!n->g->vm_exit)
        n->g->vm_exit = why;
}

/* RealNode.serial: unique in the process, so that no node of a later VM
 * of the same stream takes an earlier one's */
static uint64_t node_serials;

RealNode *real_node_new(RealGraph *g)
{
    RealNode *n = bg_calloc(1, sizeof(*n));
    n->g = g;
    n->bs = bdrv_new();
    if (!n->bs) {
        free(n);
        return NULL;
    }
    n->bs->graph = n;
    n->serial = ++node_serials;
    n->bs->corrupted = node_corrupted;
    n->bs->aborts = node_aborts;
    n->refcnt = 1;
    n->node_name = bg_strdup("");
    n->filename = bg_strdup("");
    n->exact_filename = bg_strdup("");
    n->auto_backing_file = bg_strdup("");
    n->backing_file = bg_strdup("");
    n->backing_format = bg_strdup("");
    return n;
}

/* util/id.c id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
    if (!isalpha((unsigned char)id[0]))
        return false;
    for (int i = 1; id[i]; i++)
        if (!isalnum((unsigned char)id[i]) && !strchr("-._", id[i]))
            return false;
    return true;
}

bool real_node_assign_name(RealNode *n, const char *name, BgError *err)
{
    RealGraph *g = n->g;
    char *gen = NULL;
    if (!name) {
        /* util/id.c id_generate(): "#block" counter and two digits */
        uint64_t c = g->name_counter++;
        gen = bg_asprintf("#block%llu%02u", (unsigned long long)c, (unsigned)((c * 37 + 11) % 100));
        name = gen;
    } else if (!id_wellformed(name)) {
        return bg_error_setf(err, BG_MSG_INVALID_NODE_NAME, name);
    }
    if (real_blk_by_name(g, name)) {
        bg_error_setf(err, BG_MSG_NODE_NAME_CONFLICT, name);
        free(gen);
        return false;
    }
    if (real_graph_find_node(g, name)) {
        bg_error_setf(err, BG_MSG_DUPLICATE_NODE, name);
        free(gen);
        return false;
    }
    if (strlen(name) >= 32) {
        bg_error_setf(err, BG_MSG_NODE_NAME_TOO_LONG);
        free(gen);
        return false;
    }
    free(n->node_name);
    n->node_name = gen ? gen : bg_strdup(name);
    n->generated_name = gen != NULL;
    free(n->bs->node_name);
    n->bs->node_name = strdup(n->node_name);
    index_insert(g, n);
    n->list_prev = g->tail;
    n->list_next = NULL;
    if (g->tail)
        g->tail->list_next = n;
    else
        g->head = n;
    g->tail = n;
    n->in_list = true;
    return true;
}

void real_node_ref(RealNode *n)
{
    n->refcnt++;
}

void real_node_hold(RealNode *n)
{
    if (n) {
        n->refcnt++;
        n->extra_refs++;
    }
}

void real_node_release(RealNode *n)
{
    if (n) {
        n->extra_refs--;
        real_node_unref(n);
    }
}

static void node_unlist(RealNode *n)
{
    RealGraph *g = n->g;
    if (!n->in_list)
        return;
    index_remove(g, n);
    if (n->list_prev)
        n->list_prev->list_next = n->list_next;
    else
        g->head = n->list_next;
    if (n->list_next)
        n->list_next->list_prev = n->list_prev;
    else
        g->tail = n->list_prev;
    n->list_prev = n->list_next = NULL;
    n->in_list = false;
}

/* bdrv_close(): flush, close the driver, drop every child (newest first). */
static void node_close(RealNode *n)
{
    if (n->drv) {
        bdrv_flush(n->bs);
        bdrv_close(n->bs);
        n->drv = NULL;
    }
    while (n->children)
        real_edge_unref(n->children);
    while (n->blockers)
        real_node_op_unblock(n, n->blockers->owner);
    json_decref(n->options);
    json_decref(n->explicit_options);
    json_decref(n->full_open_options);
    n->options = n->explicit_options = n->full_open_options = NULL;
}

/* bdrv_delete() */
static void node_delete(RealNode *n)
{
    node_unlist(n);
    node_close(n);
    bdrv_free(n->bs);
    free(n->node_name);
    free(n->filename);
    free(n->exact_filename);
    free(n->auto_backing_file);
    free(n->backing_file);
    free(n->backing_format);
    free(n);
}

void real_node_unref(RealNode *n)
{
    if (!n)
        return;
    if (--n->refcnt == 0)
        node_delete(n);
}

const char *real_node_device_or_node_name(RealNode *n)
{
    /* bdrv_get_device_name(): the name of the first named BlockBackend parent */
    for (RealEdge *e = n->parents; e; e = e->next_parent) {
        if (e->kind == REAL_PARENT_BLK) {
            const char *name = real_blk_name(e->parent_blk);
            if (name && *name)
                return name;
        }
    }
    return n->node_name;
}

/* ---- op blockers --------------------------------------------------------------- */

void real_node_op_block(RealNode *n, unsigned ops, const void *owner, const char *reason)
{
    RealBlocker *b = bg_calloc(1, sizeof(*b));
    b->owner = owner;
    b->reason = bg_strdup(reason);
    b->ops = ops;
    b->next = n->blockers;
    n->blockers = b;
}

void real_node_op_unblock(RealNode *n, const void *owner)
{
    for (RealBlocker **pp = &n->blockers; *pp;) {
        RealBlocker *b = *pp;
        if (b->owner == owner) {
            *pp = b->next;
            free(b->reason);
            free(b);
        } else {
            pp = &b->next;
        }
    }
}

bool real_node_op_is_blocked(RealNode *n, RealOp op, BgError *err)
{
    for (RealBlocker *b = n->blockers; b; b = b->next) {
        if (b->ops & (1u << op)) {
            bg_error_setf(err, BG_MSG_NODE_BUSY, real_node_device_or_node_name(n), b->reason);
            return true;
        }
    }
    return false;
}

bool real_node_has_blk(RealNode *n)
{
    for (RealEdge *e = n->parents; e; e = e->next_parent)
        if (e->kind == REAL_PARENT_BLK)
            return true;
    /* bdrv_has_blk() also looks through filters above: only BlockBackend parents count */
    return false;
}

/* ---- freeing the whole graph -------------------------------------------------- */

void real_graph_free(RealGraph *g)
{
    if (!g)
        return;
    real_job_cancel_all(g);
    real_devices_free(g);
    real_blk_free_all(g);
    /* monitor references, then whatever remains (BlockBackends are gone) */
    while (g->monitor_head) {
        RealNode *n = g->monitor_head;
        g->monitor_head = n->monitor_next;
        n->monitor_owned = false;
        real_node_unref(n);
    }
    while (g->head) {
        RealNode *n = g->head;
        /* a node still referenced here is leaked by a bug; free it anyway */
        n->refcnt = 1;
        real_node_unref(n);
    }
    real_objects_free(g);
    json_decref(g->events);
    json_decref(g->event_times);
    free(g->error_hint);
    free(g->index);
    free(g->dir);
    free(g);
}
