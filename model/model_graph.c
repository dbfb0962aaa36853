/*
 * model_graph.c: the world: nodes, child edges, BlockBackends, objects,
 * devices and jobs, as plain arrays.
 *
 * What this is: creation, deep copy and destruction of a world, edges
 * attached at the head of a node's children list (bdrv_child_cb_attach()
 * does QLIST_INSERT_HEAD), lookups by linear scan, reachability, reference
 * counting and the removal of nodes nothing references any more.
 * What it is not: opening nodes (model_open.c), permissions (model_perm.c)
 * or any QMP command.
 *
 * Mirrors QEMU 7.2.0 block.c: graph_bdrv_states (nodes in the order their
 * names were assigned, bdrv_assign_node_name()), bdrv_attach_child_noperm(),
 * bdrv_replace_child_noperm() (a node's parents list is newest first; a
 * moved edge goes to the head of its parent's children list),
 * bdrv_replace_child_abort() (so does an edge a transaction put back),
 * bdrv_recurse_has_child(), bdrv_filter_bs(), bdrv_skip_implicit_filters(),
 * bdrv_unref() / bdrv_close().
 */
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

static char *dup0(const char *s)
{
    return s ? bg_strdup(s) : NULL;
}

ModelWorld *model_graph_new(void)
{
    ModelWorld *w = bg_calloc(1, sizeof(*w));
    w->next_id = 1;
    return w;
}

void model_graph_node_free(ModelNode *n)
{
    if (!n)
        return;
    free(n->name);
    model_qdict_free(n->options);
    model_qdict_free(n->explicit_options);
    free(n->iothread);
    for (size_t i = 0; i < n->n_children; i++)
        free(n->children[i].name);
    free(n->children);
    free(n->filename);
    free(n->throttle_group);
    free(n->config);
    free(n->backing_file);
    free(n->auto_backing_file);
    free(n->backing_fmt);
    free(n->qcow2_image);
    free(n->dbg_rules);
    free(n);
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void job_cleanup(ModelJob *j)
{
    free(j->id);
    free(j->backing_file_str);
}

void model_graph_free(ModelWorld *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_nodes; i++)
        model_graph_node_free(w->nodes[i]);
    free(w->nodes);
    for (size_t i = 0; i < w->n_blks; i++) {
        free(w->blks[i].owner);
        free(w->blks[i].iothread);
    }
    free(w->blks);
    for (size_t i = 0; i < w->n_devices; i++) {
        free(w->devices[i].id);
        free(w->devices[i].driver);
        free(w->devices[i].iothread);
        free(w->devices[i].bus);
    }
    free(w->devices);
    strv_free(w->groups, w->n_groups);
    strv_free(w->iothreads, w->n_iothreads);
    for (size_t i = 0; i < w->n_jobs; i++)
        job_cleanup(&w->jobs[i]);
    free(w->jobs);
    free(w);
}

static ModelNode *node_copy(const ModelNode *s)
{
    ModelNode *n = bg_malloc(sizeof(*n));
    *n = *s;
    n->name = dup0(s->name);
    n->options = model_qdict_copy(s->options);
    n->explicit_options = model_qdict_copy(s->explicit_options);
    n->iothread = dup0(s->iothread);
    n->children = bg_calloc(s->n_children + 1, sizeof(ModelChild));
    for (size_t i = 0; i < s->n_children; i++) {
        n->children[i] = s->children[i];
        n->children[i].name = bg_strdup(s->children[i].name);
    }
    n->filename = dup0(s->filename);
    n->throttle_group = dup0(s->throttle_group);
    n->config = dup0(s->config);
    n->backing_file = dup0(s->backing_file);
    n->auto_backing_file = dup0(s->auto_backing_file);
    n->backing_fmt = dup0(s->backing_fmt);
    n->qcow2_image = dup0(s->qcow2_image);
    n->dbg_rules = NULL;
    if (s->n_dbg_rules) {
        n->dbg_rules = bg_malloc(s->n_dbg_rules * sizeof(*n->dbg_rules));
        memcpy(n->dbg_rules, s->dbg_rules, s->n_dbg_rules * sizeof(*n->dbg_rules));
    }
    return n;
}

static char **strv_copy(char *const *v, size_t n)
{
    char **c = bg_calloc(n + 1, sizeof(*c));
    for (size_t i = 0; i < n; i++)
        c[i] = bg_strdup(v[i]);
    return c;
}

ModelWorld *model_graph_copy(const ModelWorld *s)
{
    ModelWorld *w = bg_malloc(sizeof(*w));
    *w = *s;
    w->nodes = bg_calloc(s->n_nodes + 1, sizeof(*w->nodes));
    for (size_t i = 0; i < s->n_nodes; i++)
        w->nodes[i] = node_copy(s->nodes[i]);
    w->blks = bg_calloc(s->n_blks + 1, sizeof(*w->blks));
    for (size_t i = 0; i < s->n_blks; i++) {
        w->blks[i] = s->blks[i];
        w->blks[i].owner = dup0(s->blks[i].owner);
        w->blks[i].iothread = dup0(s->blks[i].iothread);
    }
    w->devices = bg_calloc(s->n_devices + 1, sizeof(*w->devices));
    for (size_t i = 0; i < s->n_devices; i++) {
        w->devices[i].id = dup0(s->devices[i].id);
        w->devices[i].driver = dup0(s->devices[i].driver);
        w->devices[i].iothread = dup0(s->devices[i].iothread);
        w->devices[i].bus = dup0(s->devices[i].bus);
        w->devices[i].ctrl = s->devices[i].ctrl;
        w->devices[i].target = s->devices[i].target;
        w->devices[i].lun = s->devices[i].lun;
    }
    w->groups = strv_copy(s->groups, s->n_groups);
    w->iothreads = strv_copy(s->iothreads, s->n_iothreads);
    w->jobs = bg_calloc(s->n_jobs + 1, sizeof(*w->jobs));
    for (size_t i = 0; i < s->n_jobs; i++) {
        w->jobs[i] = s->jobs[i];
        w->jobs[i].id = dup0(s->jobs[i].id);
        w->jobs[i].backing_file_str = dup0(s->jobs[i].backing_file_str);
    }
    return w;
}

ModelNode *model_graph_node(const ModelWorld *w, int id)
{
    for (size_t i = 0; id && i < w->n_nodes; i++)
        if (w->nodes[i]->id == id)
            return w->nodes[i];
    return NULL;
}

ModelNode *model_graph_find(const ModelWorld *w, const char *name)
{
    for (size_t i = 0; name && i < w->n_nodes; i++)
        if (strcmp(w->nodes[i]->name, name) == 0)
            return w->nodes[i];
    return NULL;
}

/* A node without a name yet; model_open.c names it and appends it. */
ModelNode *model_graph_node_new(ModelWorld *w, const ModelDriver *drv)
{
    static uint64_t serials;
    ModelNode *n = bg_calloc(1, sizeof(*n));
    n->id = w->next_id++;
    n->serial = ++serials;
    n->drv = drv;
    n->lock_shared = MODEL_PERM_ALL;   /* raw_open_common(): no lock byte held yet */
    n->options = model_qdict_new();
    n->explicit_options = model_qdict_new();
    return n;
}

ModelChild *model_graph_attach(ModelWorld *w, ModelNode *parent, ModelNode *child,
                               const char *name, unsigned role)
{
    parent->children = bg_realloc(parent->children, (parent->n_children + 1) * sizeof(ModelChild));
    memmove(&parent->children[1], &parent->children[0], parent->n_children * sizeof(ModelChild));
    parent->children[0] = (ModelChild){ .name = bg_strdup(name), .node = child->id, .role = role,
                                        .seq = ++w->next_seq };
    parent->n_children++;
    return &parent->children[0];
}

int model_graph_detach(ModelWorld *w, ModelNode *parent, const char *name)
{
    (void)w;
    for (size_t i = 0; i < parent->n_children; i++) {
        if (strcmp(parent->children[i].name, name) == 0) {
            int id = parent->children[i].node;
            free(parent->children[i].name);
            memmove(&parent->children[i], &parent->children[i + 1],
                    (parent->n_children - i - 1) * sizeof(ModelChild));
            parent->n_children--;
            return id;
        }
    }
    return 0;
}

ModelChild *model_graph_child(const ModelNode *n, const char *name)
{
    for (size_t i = 0; i < n->n_children; i++)
        if (strcmp(n->children[i].name, name) == 0)
            return &n->children[i];
    return NULL;
}

ModelNode *model_graph_child_node(const ModelWorld *w, const ModelNode *n, const char *name)
{
    ModelChild *c = model_graph_child(n, name);
    return c ? model_graph_node(w, c->node) : NULL;
}

ModelNode *model_graph_backing(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; i < n->n_children; i++)
        if (n->children[i].role & MODEL_ROLE_COW)
            return model_graph_node(w, n->children[i].node);
    return NULL;
}

/* bs->file: the "file" child, or for filters the PRIMARY child (blkdebug's
 * "image", blkverify's "raw"). */
ModelNode *model_graph_file(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; i < n->n_children; i++) {
        const ModelChild *c = &n->children[i];
        if (strcmp(c->name, "file") == 0 ||
            (n->drv->kind == BG_DRV_FILTER && (c->role & MODEL_ROLE_PRIMARY)))
            return model_graph_node(w, c->node);
    }
    return NULL;
}

/* bdrv_filter_bs(): the FILTERED child of a filter (or raw acting as one,
 * which the model does not model). */
ModelNode *model_graph_filtered(const ModelWorld *w, const ModelNode *n)
{
    if (n->drv->kind != BG_DRV_FILTER)
        return NULL;
    for (size_t i = 0; i < n->n_children; i++)
        if (n->children[i].role & MODEL_ROLE_FILTERED)
            return model_graph_node(w, n->children[i].node);
    return NULL;
}

ModelNode *model_graph_skip_implicit(const ModelWorld *w, ModelNode *n)
{
    while (n && n->implicit)
        n = model_graph_filtered(w, n);
    return n;
}

bool model_graph_reaches(const ModelWorld *w, const ModelNode *from, const ModelNode *target)
{
    if (from == target)
        return true;
    for (size_t i = 0; i < from->n_children; i++)
        if (model_graph_reaches(w, model_graph_node(w, from->children[i].node), target))
            return true;
    return false;
}

bool model_graph_has_blk(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; i < w->n_blks; i++)
        if (w->blks[i].node == n->id && w->blks[i].kind != MODEL_BLK_JOB_CHILD)
            return true;
    return false;
}

bool model_graph_is_root(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; i < w->n_blks; i++)
        if (w->blks[i].node == n->id && w->blks[i].kind == MODEL_BLK_JOB_CHILD)
            return false;
    for (size_t i = 0; i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children; c++)
            if (w->nodes[i]->children[c].node == n->id)
                return false;
    return true;
}

/* The edge model_graph_filter_or_cow() follows: a filter's filtered child,
 * any other node's COW child. */
static ModelChild *filter_or_cow_edge(const ModelNode *n)
{
    unsigned role = n->drv->kind == BG_DRV_FILTER ? MODEL_ROLE_FILTERED : MODEL_ROLE_COW;
    for (size_t i = 0; i < n->n_children; i++)
        if (n->children[i].role & role)
            return &n->children[i];
    return NULL;
}

ModelNode *model_graph_filter_or_cow(const ModelWorld *w, const ModelNode *n)
{
    const ModelChild *e = filter_or_cow_edge(n);
    return e ? model_graph_node(w, e->node) : NULL;
}

ModelNode *model_graph_skip_filters(const ModelWorld *w, ModelNode *n)
{
    while (n && n->drv->kind == BG_DRV_FILTER && model_graph_filtered(w, n))
        n = model_graph_filtered(w, n);
    return n;
}

void model_graph_replace_node(ModelWorld *w, ModelNode *from, ModelNode *to)
{
    for (size_t i = 0; i < w->n_nodes; i++) {
        ModelNode *p = w->nodes[i];
        if (p == to)
            continue;
        for (size_t c = 0; c < p->n_children; c++)
            if (p->children[c].node == from->id) {
                /* bdrv_child_cb_detach() then bdrv_child_cb_attach(): the
                 * edge goes to the head of its parent's children list */
                ModelChild moved = p->children[c];
                moved.node = to->id;
                moved.seq = ++w->next_seq;
                memmove(&p->children[1], &p->children[0], c * sizeof(ModelChild));
                p->children[0] = moved;
            }
    }
    for (size_t i = 0; i < w->n_blks; i++)      /* a job's own children stay_at_node */
        if (w->blks[i].node == from->id && w->blks[i].kind != MODEL_BLK_JOB_CHILD) {
            w->blks[i].node = to->id;
            w->blks[i].seq = ++w->next_seq;
        }
}

/* A filter inserted above N and dropped again (a job that fails to start
 * after bdrv_insert_node() or bdrv_append(): bdrv_drop_filter() or
 * bdrv_replace_node() back, or the transaction's abort): each edge was moved
 * away from N and back, so the world without the filter still differs in
 * order. */
void model_graph_reattach_parents(ModelWorld *w, ModelNode *n)
{
    model_graph_replace_node(w, n, n);
}

/* An edge removed and put back by a transaction's abort
 * (bdrv_replace_child_abort()): detached, then attached again, so it goes to
 * the head of its parent's children list and of its child's parents list.
 * An edge SEQ that PARENT does not hold (one the transaction made) is left alone. */
void model_graph_reattach_edge(ModelWorld *w, ModelNode *parent, uint64_t seq)
{
    for (size_t c = 0; c < parent->n_children; c++)
        if (parent->children[c].seq == seq) {
            ModelChild moved = parent->children[c];
            moved.seq = ++w->next_seq;
            memmove(&parent->children[1], &parent->children[0], c * sizeof(ModelChild));
            parent->children[0] = moved;
            return;
        }
}

char *model_graph_op_blocker(const ModelWorld *w, const ModelNode *n, ModelOp op)
{
    const ModelBlk *jb = NULL;
    for (size_t i = 0; i < w->n_blks; i++)
        if (w->blks[i].kind == MODEL_BLK_JOB_CHILD && w->blks[i].node == n->id &&
            !(op == MODEL_OP_DATAPLANE && strcmp(w->blks[i].child_name, "main node") == 0))
            jb = &w->blks[i];
    const ModelNode *bparent = NULL;
    uint64_t bseq = 0;
    bool backing_blocks = op != MODEL_OP_STREAM && op != MODEL_OP_COMMIT_TARGET;
    for (size_t i = 0; backing_blocks && i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children; c++) {
            const ModelChild *ch = &w->nodes[i]->children[c];
            if (ch->node == n->id && (ch->role & MODEL_ROLE_COW) && ch->seq > bseq) {
                bseq = ch->seq;
                bparent = w->nodes[i];
            }
        }
    if (jb && (!bparent || jb->seq > bseq)) {
        const ModelJob *j = model_graph_job(w, jb->owner);
        return bg_asprintf(BG_MSG_JOB_BLOCKER,
                           j && j->type == MODEL_JOB_STREAM ? "stream" : "commit");
    }
    if (bparent)
        return bg_asprintf(BG_MSG_BUSY_BACKING_HD,
                           model_graph_device_or_node_name(w, bparent));
    return NULL;
}

int model_graph_refcnt(const ModelWorld *w, const ModelNode *n)
{
    int r = n->monitor_owned ? 1 : 0;
    for (size_t i = 0; i < w->n_nodes; i++)
        for (size_t c = 0; c < w->nodes[i]->n_children; c++)
            if (w->nodes[i]->children[c].node == n->id)
                r++;
    for (size_t i = 0; i < w->n_blks; i++)
        if (w->blks[i].node == n->id)
            r++;
    for (size_t i = 0; i < w->n_jobs; i++)
        if (w->jobs[i].filter == n->id && w->jobs[i].status != MODEL_JOB_NULL)
            r++;
    return r;
}

static void remove_node(ModelWorld *w, size_t idx)
{
    ModelNode *n = w->nodes[idx];
    memmove(&w->nodes[idx], &w->nodes[idx + 1], (w->n_nodes - idx - 1) * sizeof(*w->nodes));
    w->n_nodes--;
    for (size_t i = 0; i < w->n_nodes; i++)   /* inherits_from of the others */
        if (w->nodes[i]->inherits_from == n->id)
            w->nodes[i]->inherits_from = 0;
    model_graph_node_free(n);
}

void model_graph_collect(ModelWorld *w)
{
    for (bool again = true; again;) {
        again = false;
        for (size_t i = 0; i < w->n_nodes; i++) {
            if (model_graph_refcnt(w, w->nodes[i]) == 0) {
                remove_node(w, i);
                again = true;
                break;
            }
        }
    }
}

bool model_graph_group_exists(const ModelWorld *w, const char *id)
{
    for (size_t i = 0; i < w->n_groups; i++)
        if (strcmp(w->groups[i], id) == 0)
            return true;
    return false;
}

bool model_graph_iothread_exists(const ModelWorld *w, const char *id)
{
    for (size_t i = 0; i < w->n_iothreads; i++)
        if (strcmp(w->iothreads[i], id) == 0)
            return true;
    return false;
}

ModelJob *model_graph_job(const ModelWorld *w, const char *id)
{
    for (size_t i = 0; i < w->n_jobs; i++)
        if (strcmp(w->jobs[i].id, id) == 0 && w->jobs[i].status != MODEL_JOB_NULL)
            return &w->jobs[i];
    return NULL;
}

/* bdrv_get_device_or_node_name(): a named BlockBackend's name would come
 * first; the model's BlockBackends (scsi-hd devices, jobs) are anonymous. */
const char *model_graph_device_or_node_name(const ModelWorld *w, const ModelNode *n)
{
    (void)w;
    return n->name;
}

void model_graph_freeze_chain(ModelWorld *w, ModelNode *from, const ModelNode *to, bool frozen)
{
    for (ModelNode *it = from; it && it != to;) {
        ModelChild *e = filter_or_cow_edge(it);
        if (!e)
            break;
        e->frozen = frozen;
        it = model_graph_node(w, e->node);
    }
}
