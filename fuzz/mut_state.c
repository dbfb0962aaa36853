/*
 * mut_state.c: reading what is alive at a point of a stream from its lines
 * (mut_state.h): the state's lifetime and mut_state_apply().
 *
 * The QEMU facts used (shared/spec/qemu-semantics.md): nested children are
 * created with their parent and go away with it (§1.3); a duplicate node
 * name makes the whole blockdev-add fail (§1.1); block-stream drops the
 * nodes between the top and the base, block-commit those from the top down
 * to the base, and an active commit waits in "ready" until it is completed
 * (§1.7); job-id defaults to the device name; a shutdown ends everything.
 *
 * Not here: the questions asked of a state or a line (lookups, step kinds,
 * the node names a step refers to): mut_state_query.c.
 */
#include "mut_state.h"

#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "mut_state_int.h"
#include "policy.h"

/* Child links of BlockdevOptions that hold a BlockdevRef (options.def). */
const char *const mut_state_child_keys[] = { "file", "backing", "image", "test", "raw",
                                             "data-file", NULL };

/* ---- string vectors ----------------------------------------------------------------------- */

bool mut_state_strv_has(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static void strv_add(char ***v, size_t *n, const char *s)
{
    if (mut_state_strv_has(*v, *n, s))
        return;
    *v = bg_realloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = bg_strdup(s);
}

static void strv_remove(char **v, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], s) == 0) {
            free(v[i]);
            memmove(v + i, v + i + 1, (*n - i - 1) * sizeof(*v));
            (*n)--;
            return;
        }
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void set_str(char **dst, const char *s)
{
    char *copy = s ? bg_strdup(s) : NULL;
    free(*dst);
    *dst = copy;
}

/* ---- init and cleanup --------------------------------------------------------------------- */

void mut_state_init(MutState *st)
{
    *st = (MutState){0};
}

static void node_cleanup(MutNode *n)
{
    free(n->name);
    free(n->driver);
    json_decref(n->def);
    free(n->file);
    free(n->backing);
    free(n->owner);
    free(n->image);
}

static void job_cleanup(MutJob *j)
{
    free(j->id);
    strv_free(j->victims, j->n_victims);
    free(j->filter);
}

void mut_state_cleanup(MutState *st)
{
    for (size_t i = 0; i < st->n_images; i++) {
        free(st->images[i].file);
        free(st->images[i].fmt);
        free(st->images[i].backing);
    }
    free(st->images);
    for (size_t i = 0; i < st->n_nodes; i++)
        node_cleanup(&st->nodes[i]);
    free(st->nodes);
    for (size_t i = 0; i < st->n_jobs; i++)
        job_cleanup(&st->jobs[i]);
    free(st->jobs);
    strv_free(st->groups, st->n_groups);
    strv_free(st->iothreads, st->n_iothreads);
    strv_free(st->scsi, st->n_scsi);
    *st = (MutState){0};
}

/* ---- sizes -------------------------------------------------------------------------------- */

static uint64_t size_value(const json_t *v, uint64_t dflt)
{
    uint64_t n;
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return (uint64_t)json_integer_value(v);
    if (json_is_string(v) && bg_policy_parse_size(json_string_value(v), &n))
        return n;
    return dflt;
}

/* Guest-visible length of a new node, from its driver, options and children. */
static uint64_t node_size(const MutState *st, const MutNode *n)
{
    const MutNode *child = mut_state_node(st, n->file);
    uint64_t below = child ? child->size : MUT_DEFAULT_BYTES;
    const char *d = n->driver;
    if (strcmp(d, "file") == 0) {
        const MutImage *img = mut_state_image(st, n->image);
        if (!img)
            return MUT_DEFAULT_BYTES;
        return strcmp(img->fmt, "raw") == 0 ? img->size : MUT_QCOW2_HOST_BYTES;
    }
    if (strcmp(d, "qcow2") == 0) {
        const MutImage *img = child ? mut_state_image(st, child->image) : NULL;
        return img ? img->size : MUT_DEFAULT_BYTES;
    }
    if (strcmp(d, "raw") == 0) {
        uint64_t off = size_value(json_object_get(n->def, "offset"), 0);
        uint64_t len = below > off ? below - off : 0;
        return size_value(json_object_get(n->def, "size"), len);
    }
    if (strcmp(d, "null-co") == 0 || strcmp(d, "null-aio") == 0)
        return size_value(json_object_get(n->def, "size"), 1u << 30);
    return below;
}

/* ---- killing nodes ------------------------------------------------------------------------ */

static void kill_node(MutState *st, const char *name)
{
    MutNode *n = mut_state_node(st, name);
    if (!n)
        return;
    char *gone = bg_strdup(name);
    size_t i = (size_t)(n - st->nodes);
    node_cleanup(n);
    memmove(st->nodes + i, st->nodes + i + 1, (st->n_nodes - i - 1) * sizeof(*st->nodes));
    st->n_nodes--;
    /* links to it are now unknown; nested children go with it */
    for (size_t k = 0; k < st->n_nodes; k++) {
        MutNode *o = &st->nodes[k];
        if (o->file && strcmp(o->file, gone) == 0)
            set_str(&o->file, NULL);
        if (o->backing && strcmp(o->backing, gone) == 0)
            set_str(&o->backing, NULL);
    }
    for (size_t k = 0; k < st->n_nodes;) {
        if (st->nodes[k].owner && strcmp(st->nodes[k].owner, gone) == 0) {
            char *child = bg_strdup(st->nodes[k].name);
            kill_node(st, child);
            free(child);
            k = 0;   /* the array changed */
        } else {
            k++;
        }
    }
    free(gone);
}

static void kill_all(MutState *st)
{
    while (st->n_nodes)
        kill_node(st, st->nodes[0].name);
    for (size_t i = 0; i < st->n_jobs; i++)
        job_cleanup(&st->jobs[i]);
    st->n_jobs = 0;
    strv_free(st->groups, st->n_groups);
    strv_free(st->iothreads, st->n_iothreads);
    strv_free(st->scsi, st->n_scsi);
    st->groups = st->iothreads = st->scsi = NULL;
    st->n_groups = st->n_iothreads = st->n_scsi = 0;
}

/* ---- blockdev-add ------------------------------------------------------------------- */

/* Can the definition tree OBJ be added: every name it defines new, every reference alive? */
static bool tree_addable(const MutState *st, const json_t *obj, char ***seen, size_t *n_seen,
                         int depth)
{
    if (!json_is_object(obj) || depth > 16)
        return false;
    const char *name = json_string_value(json_object_get(obj, "node-name"));
    if (name) {
        if (mut_state_node(st, name) || mut_state_strv_has(*seen, *n_seen, name))
            return false;
        strv_add(seen, n_seen, name);
    }
    for (const char *const *k = mut_state_child_keys; *k; k++) {
        const json_t *c = json_object_get(obj, *k);
        if (json_is_string(c) && !mut_state_node(st, json_string_value(c)))
            return false;
        if (json_is_object(c) && !tree_addable(st, c, seen, n_seen, depth + 1))
            return false;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(obj, "children"), i, c) {
        if (json_is_string(c) && !mut_state_node(st, json_string_value(c)))
            return false;
        if (json_is_object(c) && !tree_addable(st, c, seen, n_seen, depth + 1))
            return false;
    }
    return true;
}

/* The name of the child a link names (string reference or named nested definition). */
static const char *link_name(const json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_object(v))
        return json_string_value(json_object_get(v, "node-name"));
    return NULL;
}

static void add_tree(MutState *st, const json_t *obj, const char *owner);

static void add_children(MutState *st, const json_t *obj, const char *owner)
{
    for (const char *const *k = mut_state_child_keys; *k; k++) {
        const json_t *c = json_object_get(obj, *k);
        if (json_is_object(c))
            add_tree(st, c, owner);
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(obj, "children"), i, c)
        if (json_is_object(c))
            add_tree(st, c, owner);
}

/* QEMU's id_wellformed() (util/id.c): a letter, then letters, digits, '-', '.', '_'. */
static bool well_formed(const char *name)
{
    if (!name || !((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z')))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '.' || *p == '_'))
            return false;
    return strlen(name) < 128;
}

/* Add OBJ's named nodes, children first (QEMU opens file before naming the parent). */
static void add_tree(MutState *st, const json_t *obj, const char *owner)
{
    const char *name = json_string_value(json_object_get(obj, "node-name"));
    const char *driver = json_string_value(json_object_get(obj, "driver"));
    add_children(st, obj, name ? name : owner);
    if (!well_formed(name) || !driver)
        return;   /* QEMU refuses the name: nothing to refer to */
    MutNode n = { .name = bg_strdup(name), .driver = bg_strdup(driver),
                  .def = json_incref((json_t *)obj), .owner = owner ? bg_strdup(owner) : NULL,
                  .pattern = -1 };
    const char *primary = link_name(json_object_get(obj, "file"));
    if (!primary)
        primary = link_name(json_object_get(obj, "image"));
    if (!primary)
        primary = link_name(json_object_get(obj, "test"));
    if (!primary)
        primary = link_name(json_array_get(json_object_get(obj, "children"), 0));
    n.file = primary ? bg_strdup(primary) : NULL;
    const json_t *b = json_object_get(obj, "backing");
    if (link_name(b))
        n.backing = bg_strdup(link_name(b));
    if (strcmp(driver, "qcow2") == 0) {
        /* no "backing": opened from the header when the image names one */
        const MutNode *f = mut_state_node(st, n.file);
        const MutImage *img = f ? mut_state_image(st, f->image) : NULL;
        n.has_backing = b ? !json_is_null(b) : img && img->backing;
    }
    if (strcmp(driver, "file") == 0) {
        const char *fn = mut_state_image_name(json_string_value(json_object_get(obj, "filename")));
        n.image = fn ? bg_strdup(fn) : NULL;
    }
    n.size = node_size(st, &n);
    st->nodes = bg_realloc(st->nodes, (st->n_nodes + 1) * sizeof(*st->nodes));
    st->nodes[st->n_nodes++] = n;
}

static void apply_add(MutState *st, const json_t *args)
{
    char **seen = NULL;
    size_t n_seen = 0;
    bool ok = json_is_object(args) && json_is_string(json_object_get(args, "node-name")) &&
              tree_addable(st, args, &seen, &n_seen, 0);
    strv_free(seen, n_seen);
    if (ok)
        add_tree(st, args, NULL);
}

/* ---- blockdev-reopen --------------------------------------------------------------- */

static void apply_reopen_entry(MutState *st, const json_t *e, int depth)
{
    if (!json_is_object(e) || depth > 16)
        return;
    MutNode *n = mut_state_node(st, json_string_value(json_object_get(e, "node-name")));
    if (!n)
        return;
    json_decref(n->def);
    n->def = json_incref((json_t *)e);
    const char *const primary_keys[] = { "file", "image", "test" };
    for (size_t i = 0; i < 3; i++) {
        const json_t *c = json_object_get(e, primary_keys[i]);
        const char *name = link_name(c);
        if (name && mut_state_node(st, name))
            set_str(&n->file, name);
        if (json_is_object(c))
            apply_reopen_entry(st, c, depth + 1);
    }
    const json_t *b = json_object_get(e, "backing");
    if (json_is_null(b)) {
        set_str(&n->backing, NULL);
        n->has_backing = false;
    } else if (link_name(b) && mut_state_node(st, link_name(b))) {
        set_str(&n->backing, link_name(b));
        n->has_backing = true;
    }
    if (json_is_object(b))
        apply_reopen_entry(st, b, depth + 1);
}

/* ---- jobs --------------------------------------------------------------------------------- */

/* The named backing chain below NAME, nearest first (stops at an unnamed or unknown link). */
static size_t chain_below(const MutState *st, const char *name, const char **out, size_t max)
{
    size_t n = 0;
    const MutNode *node = mut_state_node(st, name);
    while (node && node->backing && n < max) {
        const MutNode *next = mut_state_node(st, node->backing);
        if (!next)
            break;
        for (size_t i = 0; i < n; i++)
            if (out[i] == next->name)
                return n;   /* a cycle the guess allowed: stop */
        out[n++] = next->name;
        node = next;
    }
    return n;
}

static void job_kill_victims(MutState *st, MutJob *j)
{
    for (size_t i = 0; i < j->n_victims; i++)
        kill_node(st, j->victims[i]);
    strv_free(j->victims, j->n_victims);
    j->victims = NULL;
    j->n_victims = 0;
    if (j->filter)
        kill_node(st, j->filter);
}

static void job_remove(MutState *st, MutJob *j)
{
    size_t i = (size_t)(j - st->jobs);
    job_cleanup(j);
    memmove(st->jobs + i, st->jobs + i + 1, (st->n_jobs - i - 1) * sizeof(*st->jobs));
    st->n_jobs--;
}

static void apply_job_start(MutState *st, const char *cmd, const json_t *args)
{
    const char *dev = json_string_value(json_object_get(args, "device"));
    const char *id = json_string_value(json_object_get(args, "job-id"));
    if (!id)
        id = dev;
    if (!dev || !id || !mut_state_node(st, dev) || mut_state_job(st, id))
        return;
    const char *chain[64];
    size_t n = chain_below(st, dev, chain, 64);
    const char *base = json_string_value(json_object_get(args, "base-node"));
    bool commit = strcmp(cmd, "block-commit") == 0;
    MutJob j = { .id = bg_strdup(id), .auto_finalize = true };
    const json_t *af = json_object_get(args, "auto-finalize");
    if (json_is_false(af))
        j.auto_finalize = false;
    size_t from = 0, to = n;   /* victims chain[from..to) (plus dev for active commit) */
    if (base) {
        to = n + 1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(chain[i], base) == 0)
                to = i;
        if (to > n)
            to = from = 0;     /* base not below: the job fails to start */
    }
    if (!commit) {
        const char *bottom = json_string_value(json_object_get(args, "bottom"));
        for (size_t i = 0; bottom && i < n; i++)
            if (strcmp(chain[i], bottom) == 0 && i + 1 < to)
                to = i + 1;
    } else {
        const char *top = json_string_value(json_object_get(args, "top-node"));
        j.active = !top || strcmp(top, dev) == 0;
        if (j.active) {
            strv_add(&j.victims, &j.n_victims, dev);
        } else {
            from = to;   /* top not in the chain: nothing dropped */
            for (size_t i = 0; i < n; i++)
                if (strcmp(chain[i], top) == 0 && i < to)
                    from = i;
        }
    }
    for (size_t i = from; i < to; i++)
        strv_add(&j.victims, &j.n_victims, chain[i]);
    const char *filter = json_string_value(json_object_get(args, "filter-node-name"));
    if (well_formed(filter) && !mut_state_node(st, filter)) {
        j.filter = bg_strdup(filter);
        MutNode *top = mut_state_node(st, dev);
        MutNode f = { .name = bg_strdup(filter),
                      .driver = bg_strdup(commit ? (j.active ? "mirror_top" : "commit_top")
                                                 : "copy-on-read"),
                      .def = json_object(), .file = bg_strdup(dev), .pattern = -1,
                      .size = top->size, .job_filter = true };
        st->nodes = bg_realloc(st->nodes, (st->n_nodes + 1) * sizeof(*st->nodes));
        st->nodes[st->n_nodes++] = f;
    }
    st->jobs = bg_realloc(st->jobs, (st->n_jobs + 1) * sizeof(*st->jobs));
    st->jobs[st->n_jobs++] = j;
    /* a job that may finish on its own drops its nodes at any time from now on */
    if (!j.active && j.auto_finalize)
        job_kill_victims(st, &st->jobs[st->n_jobs - 1]);
}

/* A step that ends, finalizes or completes job ID (CANCEL: the job goes, its nodes stay). */
static void apply_job_end(MutState *st, const char *id, bool cancel, bool keep_job)
{
    MutJob *j = mut_state_job(st, id);
    if (!j)
        return;
    if (cancel) {
        if (j->filter)
            kill_node(st, j->filter);
        job_remove(st, j);
        return;
    }
    job_kill_victims(st, j);
    if (keep_job)
        j->completed = true;
    else
        job_remove(st, j);
}

/* ---- HMP qemu-io -------------------------------------------------------------------- */

/* Record "write -P PAT OFF LEN" through a node (reads verify it later). */
static void apply_hmp(MutState *st, const json_t *args)
{
    const char *cl = json_string_value(json_object_get(args, "command-line"));
    char node[128], op[16], p[16], off[32], len[32];
    if (!cl || sscanf(cl, "qemu-io %127s \"%15s -P %15s %31s %31[^\"]\"", node, op, p, off,
                      len) != 5 || strcmp(op, "write") != 0)
        return;
    MutNode *n = mut_state_node(st, node);
    uint64_t o, l;
    if (!n || !bg_policy_parse_size(off, &o) || !bg_policy_parse_size(len, &l))
        return;
    n->pattern = (int)(strtol(p, NULL, 0) & 0xff);
    n->pat_off = o;
    n->pat_len = l;
}

/* ---- one line ----------------------------------------------------------------------------- */

static void apply_execute(MutState *st, const char *cmd, const json_t *args)
{
    if (strcmp(cmd, "blockdev-add") == 0) {
        apply_add(st, args);
    } else if (strcmp(cmd, "blockdev-reopen") == 0) {
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(args, "options"), i, e)
            apply_reopen_entry(st, e, 0);
    } else if (strcmp(cmd, "x-blockdev-reopen") == 0) {
        apply_reopen_entry(st, args, 0);
    } else if (strcmp(cmd, "blockdev-del") == 0) {
        kill_node(st, json_string_value(json_object_get(args, "node-name")));
    } else if (strcmp(cmd, "object-add") == 0) {
        const char *type = json_string_value(json_object_get(args, "qom-type"));
        const char *id = json_string_value(json_object_get(args, "id"));
        if (type && id && !mut_state_strv_has(st->groups, st->n_groups, id) &&
            !mut_state_strv_has(st->iothreads, st->n_iothreads, id)) {
            if (strcmp(type, "throttle-group") == 0)
                strv_add(&st->groups, &st->n_groups, id);
            else if (strcmp(type, "iothread") == 0)
                strv_add(&st->iothreads, &st->n_iothreads, id);
        }
    } else if (strcmp(cmd, "object-del") == 0) {
        const char *id = json_string_value(json_object_get(args, "id"));
        if (id) {
            strv_remove(st->groups, &st->n_groups, id);
            strv_remove(st->iothreads, &st->n_iothreads, id);
        }
    } else if (strcmp(cmd, "device_add") == 0) {
        const char *drv = json_string_value(json_object_get(args, "driver"));
        const char *id = json_string_value(json_object_get(args, "id"));
        if (drv && id && strncmp(drv, "virtio-scsi", 11) == 0)
            strv_add(&st->scsi, &st->n_scsi, id);
    } else if (strcmp(cmd, "block-stream") == 0 || strcmp(cmd, "block-commit") == 0) {
        apply_job_start(st, cmd, args);
    } else if (strcmp(cmd, "job-finalize") == 0 || strcmp(cmd, "block-job-finalize") == 0) {
        apply_job_end(st, json_string_value(json_object_get(args, "id")), false, false);
    } else if (strcmp(cmd, "job-cancel") == 0 || strcmp(cmd, "block-job-cancel") == 0) {
        const json_t *id = json_object_get(args, "id");
        apply_job_end(st, json_string_value(id ? id : json_object_get(args, "device")), true,
                      false);
    } else if (strcmp(cmd, "job-complete") == 0 || strcmp(cmd, "block-job-complete") == 0) {
        const json_t *id = json_object_get(args, "id");
        apply_job_end(st, json_string_value(id ? id : json_object_get(args, "device")), false,
                      true);
    } else if (strcmp(cmd, "human-monitor-command") == 0) {
        apply_hmp(st, args);
    }
}

static void apply_img_create(MutState *st, const json_t *o)
{
    const char *file = mut_state_image_name(json_string_value(json_object_get(o, "file")));
    if (!file)
        return;
    const char *fmt = json_string_value(json_object_get(o, "fmt"));
    const MutImage *back = mut_state_image(st, json_string_value(json_object_get(o, "backing")));
    uint64_t size = size_value(json_object_get(o, "size"), back ? back->size : MUT_DEFAULT_BYTES);
    MutImage *img = (MutImage *)mut_state_image(st, file);
    if (!img) {
        st->images = bg_realloc(st->images, (st->n_images + 1) * sizeof(*st->images));
        img = &st->images[st->n_images++];
        *img = (MutImage){ .file = bg_strdup(file) };
    }
    set_str(&img->fmt, fmt ? fmt : "raw");
    img->size = size;
    const char *bname = mut_state_image_name(json_string_value(json_object_get(o, "backing")));
    set_str(&img->backing, bname);
}

void mut_state_apply(MutState *st, const json_t *line)
{
    const char *name = mut_state_step_name(line);
    st->steps++;
    if (!name)
        return;
    if (mut_state_is_vm_step(line)) {
        st->offline_done = true;
        if (strcmp(name, "shutdown") == 0) {
            kill_all(st);
            st->launched = false;
            st->pc = false;
            st->shutdown = true;
            return;
        }
        if (!st->launched) {
            st->launched = true;   /* the first VM step starts one (machine none) */
            st->pc = false;
        }
    }
    if (strcmp(name, "img-create") == 0) {
        apply_img_create(st, json_object_get(line, "img-create"));
    } else if (strcmp(name, "launch") == 0) {
        const char *m = json_string_value(json_object_get(json_object_get(line, "launch"),
                                                          "machine"));
        st->pc = m && strcmp(m, "pc") == 0;
    } else if (strcmp(name, "run-job") == 0) {
        const json_t *rj = json_object_get(line, "run-job");
        apply_job_end(st, json_string_value(json_object_get(rj, "id")),
                      json_is_true(json_object_get(rj, "cancel")), false);
    } else if (strcmp(name, "wait-job") == 0) {
        apply_job_end(st, json_string_value(json_object_get(line, "wait-job")), false, false);
    } else if (json_object_get(line, "execute")) {
        const json_t *args = json_object_get(line, "arguments");
        apply_execute(st, name, json_is_object(args) ? args : NULL);
    }
}
