/*
 * gen_node.c: node definitions and reopen entries (gen_node.h).
 *
 * Shapes follow the seed streams (corpus/seed/, iotest 245): qcow2 over a
 * file node named "hdN"/"hdN-file" on "$DIR/hdN.img", nested backing
 * definitions for the image a header names (245's hd_opts()), throttle
 * groups "groupN" with iops-total limits, filters "throttleN",
 * "compressN", "corN".
 */
#include "gen_node.h"

#include <string.h>

#include "bg.h"
#include "gen.h"
#include "gen_pick.h"
#include "mut_values.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static size_t push(json_t *out, json_t *step)
{
    json_array_append_new(out, step);
    return 1;
}

/* ---- blockdev-add ------------------------------------------------------------------- */

static json_t *file_def(const MutState *st, const MutImage *img, const char *name, MutRand *r)
{
    json_t *f = json_object();
    json_object_set_new(f, "driver", json_string("file"));
    json_object_set_new(f, "node-name", json_string(name));
    char *fn = bg_asprintf("$DIR/%s", img->file);
    json_object_set_new(f, "filename", json_string(fn));
    free(fn);
    if (mut_rand_chance(r, 12)) {
        static const char *const o[] = { "locking", "aio", "drop-cache", "cache.no-flush" };
        const char *name2 = o[mut_rand_below(r, N(o))];
        json_t *v = mut_values_pick_named("file", name2, r, 0);
        if (v)
            mut_values_set(f, name2, v);
    }
    (void)st;
    return f;
}

/* A qcow2-over-file definition of IMG; DEPTH bounds nested backing definitions. */
static json_t *qcow2_def(const MutState *st, const MutImage *img, MutRand *r, int depth)
{
    char *stem = gen_pick_image_stem(img->file);
    char *name = gen_pick_fresh_name(st, stem), *fname0 = bg_asprintf("%s-file", name);
    char *fname = gen_pick_fresh_name(st, fname0);
    json_t *q = json_object();
    json_object_set_new(q, "driver", json_string("qcow2"));
    json_object_set_new(q, "node-name", json_string(name));
    json_object_set_new(q, "file", file_def(st, img, fname, r));
    unsigned how = (unsigned)mut_rand_below(r, 100);
    const MutImage *b = mut_state_image(st, img->backing);
    if (b && how < 35 && depth < 2 && strcmp(b->fmt, "qcow2") == 0 &&
        strcmp(b->file, img->file) != 0) {
        /* the header's backing image, defined inline and named (245's hd_opts chains) */
        json_object_set_new(q, "backing", qcow2_def(st, b, r, depth + 1));
    } else if (how < 55) {
        json_object_set_new(q, "backing", json_null());
    } else if (how < 70) {
        const MutNode *bn = gen_pick_node(st, r, gen_pick_format_or_filter, NULL);
        if (bn)
            json_object_set_new(q, "backing", json_string(bn->name));
    }
    if (mut_rand_chance(r, 25))
        gen_node_change_option(st, q, "qcow2", r);
    if (depth == 0 && mut_rand_chance(r, 10))
        json_object_set_new(q, "read-only", json_true());
    free(stem);
    free(name);
    free(fname0);
    free(fname);
    return q;
}

static size_t add_step(json_t *out, json_t *args)
{
    return push(out, gen_execute("blockdev-add", args));
}

static size_t add_qcow2(const MutState *st, MutRand *r, json_t *out)
{
    const MutImage *img = gen_pick_image(st, r, "qcow2");
    if (!img)
        return 0;
    return add_step(out, qcow2_def(st, img, r, 0));
}

static size_t add_raw(const MutState *st, MutRand *r, json_t *out)
{
    const MutImage *img = gen_pick_image(st, r, mut_rand_chance(r, 70) ? "raw" : NULL);
    if (!img)
        return 0;
    char *stem = gen_pick_image_stem(img->file);
    char *name = gen_pick_fresh_name(st, stem), *f0 = bg_asprintf("%s-file", name);
    char *fname = gen_pick_fresh_name(st, f0);
    json_t *a = json_object();
    json_object_set_new(a, "driver", json_string("raw"));
    json_object_set_new(a, "node-name", json_string(name));
    json_object_set_new(a, "file", file_def(st, img, fname, r));
    uint64_t below = strcmp(img->fmt, "raw") == 0 ? img->size : MUT_QCOW2_HOST_BYTES;
    if (mut_rand_chance(r, 35))
        json_object_set_new(a, "offset", mut_values_pick_named("raw", "offset", r, below));
    if (mut_rand_chance(r, 35))
        json_object_set_new(a, "size", mut_values_pick_named("raw", "size", r, below));
    free(stem);
    free(name);
    free(f0);
    free(fname);
    return add_step(out, a);
}

static size_t add_file(const MutState *st, MutRand *r, json_t *out)
{
    const MutImage *img = gen_pick_image(st, r, NULL);
    if (!img)
        return 0;
    char *stem = gen_pick_image_stem(img->file), *f0 = bg_asprintf("%s-file", stem);
    char *name = gen_pick_fresh_name(st, f0);
    json_t *f = file_def(st, img, name, r);
    free(stem);
    free(f0);
    free(name);
    return add_step(out, f);
}

/* qcow2 or raw over a live file node, by reference. */
static size_t add_format_over(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *f = gen_pick_node(st, r, gen_pick_file_node, NULL);
    if (!f)
        return 0;
    const MutImage *img = mut_state_image(st, f->image);
    bool qcow2 = img && strcmp(img->fmt, "qcow2") == 0 ? mut_rand_chance(r, 85)
                                                         : mut_rand_chance(r, 15);
    char *name = gen_pick_fresh_numbered(st, qcow2 ? "fmt" : "raw");
    json_t *a = json_pack("{s:s, s:s, s:s}", "driver", qcow2 ? "qcow2" : "raw", "node-name",
                          name, "file", f->name);
    if (qcow2 && mut_rand_chance(r, 50))
        json_object_set_new(a, "backing", json_null());
    free(name);
    return add_step(out, a);
}

static size_t add_null(const MutState *st, MutRand *r, json_t *out)
{
    const char *drv = mut_rand_chance(r, 75) ? "null-co" : "null-aio";
    char *name = gen_pick_fresh_numbered(st, "null");
    json_t *a = json_pack("{s:s, s:s}", "driver", drv, "node-name", name);
    if (mut_rand_chance(r, 70))
        json_object_set_new(a, "size", mut_values_pick_named(drv, "size", r, 0));
    if (mut_rand_chance(r, 60))
        json_object_set_new(a, "read-zeroes", json_true());
    free(name);
    return add_step(out, a);
}

json_t *gen_node_group_args(MutRand *r, const char *id)
{
    json_t *limits = json_object();
    static const char *const keys[] = { "iops-total", "bps-total", "iops-read", "bps-write" };
    static const json_int_t vals[] = { 1000, 1048576, 100000, 0 };
    if (mut_rand_chance(r, 85))
        json_object_set_new(limits, keys[mut_rand_below(r, N(keys))],
                            json_integer(vals[mut_rand_below(r, N(vals))]));
    json_t *args = json_pack("{s:s, s:s, s:o}", "qom-type", "throttle-group", "id", id,
                             "limits", limits);
    /* One group in five gets more members, valid together or not: maxima,
     * burst lengths, iops-size and the unstable x-* properties, with values
     * at the edges throttle_is_valid() checks (object-add's order of checks) */
    static const char *const more[] = {
        "iops-total-max", "iops-total-max-length", "bps-read", "bps-read-max",
        "bps-read-max-length", "iops-write", "iops-size", "bps-total-max",
    };
    static const json_int_t edge[] = { 0, 1, 2, 512, 2000, 1048576, 4294967296LL,
                                       1000000000000001LL, -1 };
    for (int k = mut_rand_chance(r, 20) ? 1 + (int)mut_rand_below(r, 3) : 0; k > 0; k--) {
        bool x = mut_rand_chance(r, 25);
        char *name = bg_asprintf("%s%s", x ? "x-" : "", more[mut_rand_below(r, N(more))]);
        json_object_set_new(x ? args : limits, name, json_integer(edge[mut_rand_below(r, N(edge))]));
        free(name);
    }
    return args;
}

/* A throttle group that exists, or steps creating one (its id in *ID, owned). */
size_t gen_node_group(const MutState *st, MutRand *r, json_t *out, char **id)
{
    if (st->n_groups && mut_rand_chance(r, 80)) {
        *id = bg_strdup(st->groups[mut_rand_below(r, st->n_groups)]);
        return 0;
    }
    *id = gen_pick_fresh_numbered(st, "group");
    return push(out, gen_execute("object-add", gen_node_group_args(r, *id)));
}

/* A filter node of driver DRV over CHILD (steps appended; its name in *NAME, owned). */
size_t gen_node_filter(const MutState *st, MutRand *r, json_t *out, const char *drv,
                         const char *child, char **name)
{
    size_t n = 0;
    char *group = NULL;
    if (strcmp(drv, "throttle") == 0)
        n += gen_node_group(st, r, out, &group);
    *name = gen_pick_fresh_numbered(st, strcmp(drv, "copy-on-read") == 0 ? "cor" : drv);
    json_t *a = json_pack("{s:s, s:s}", "driver", drv, "node-name", *name);
    if (group)
        json_object_set_new(a, "throttle-group", json_string(group));
    json_object_set_new(a, "file", json_string(child));
    free(group);
    return n + add_step(out, a);
}

const char *gen_node_filter_driver(MutRand *r)
{
    static const char *const d[] = { "throttle", "throttle", "compress", "copy-on-read",
                                     "copy-on-read" };
    return d[mut_rand_below(r, N(d))];
}

static size_t add_filter_over(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *x = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
    if (!x)
        return 0;
    char *name = NULL;
    size_t n = gen_node_filter(st, r, out, gen_node_filter_driver(r), x->name, &name);
    free(name);
    return n;
}

static size_t add_blkdebug(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *x = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
    if (!x)
        return 0;
    char *name = gen_pick_fresh_numbered(st, "bd");
    json_t *a = json_pack("{s:s, s:s}", "driver", "blkdebug", "node-name", name);
    if (mut_rand_chance(r, 50))
        json_object_set_new(a, "config", json_string("/dev/null"));
    if (mut_rand_chance(r, 30))
        json_object_set_new(a, "align", mut_values_pick_named("blkdebug", "align", r, 0));
    json_object_set_new(a, "image", json_string(x->name));
    free(name);
    return add_step(out, a);
}

static size_t add_quorum(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *a = gen_pick_node(st, r, gen_pick_format_or_filter, NULL);
    const MutNode *b = a ? gen_pick_node(st, r, gen_pick_other, a->name) : NULL;
    if (!b)
        return 0;
    char *name = gen_pick_fresh_numbered(st, mut_rand_chance(r, 60) ? "quorum" : "bv");
    json_t *q;
    if (strncmp(name, "bv", 2) == 0) {
        q = json_pack("{s:s, s:s, s:s, s:s}", "driver", "blkverify", "node-name", name, "test",
                      a->name, "raw", b->name);
    } else {
        json_t *children = json_pack("[s, s]", a->name, b->name);
        q = json_pack("{s:s, s:s, s:o, s:I}", "driver", "quorum", "node-name", name,
                      "children", children, "vote-threshold",
                      (json_int_t)(1 + mut_rand_below(r, 2)));
    }
    free(name);
    return add_step(out, q);
}

size_t gen_node_add(const MutState *st, MutRand *r, json_t *out)
{
    static const unsigned w[] = { 30, 12, 6, 10, 6, 10, 3, 3 };
    size_t (*const f[])(const MutState *, MutRand *, json_t *) = {
        add_qcow2, add_raw, add_file, add_format_over, add_null, add_filter_over, add_blkdebug,
        add_quorum
    };
    size_t first = mut_rand_weighted(r, w, N(w));
    for (size_t i = 0; i < N(w); i++) {
        size_t n = f[(first + i) % N(w)](st, r, out);
        if (n)
            return n;
    }
    return 0;
}

/* ---- reopen entries and their changes ----------------------------------------------------- */

json_t *gen_node_reopen_entry(const MutState *st, const MutNode *n, MutRand *r, int depth)
{
    json_t *e = json_object();
    json_object_set_new(e, "driver", json_string(n->driver));
    json_object_set_new(e, "node-name", json_string(n->name));
    const char *k;
    json_t *v;
    json_object_foreach(n->def, k, v)
        if (mut_state_own_option(k))
            json_object_set_new(e, k, json_deep_copy(v));
    const char *link = gen_pick_drv_is(n, "blkdebug")         ? "image"
                       : gen_pick_has_file_link(n->driver) ? "file"
                                                           : NULL;
    const MutNode *child = mut_state_node(st, n->file);
    if (link && child) {
        /* a nested definition reopens the child too; only a child that inherits takes it */
        if (depth < 2 && child->owner && strcmp(child->owner, n->name) == 0 &&
            mut_rand_chance(r, 30))
            json_object_set_new(e, link, gen_node_reopen_entry(st, child, r, depth + 1));
        else
            json_object_set_new(e, link, json_string(child->name));
    }
    if (gen_pick_drv_is(n, "qcow2")) {
        const MutNode *b = mut_state_node(st, n->backing);
        if (b) {
            if (depth < 2 && b->owner && strcmp(b->owner, n->name) == 0 &&
                mut_rand_chance(r, 20))
                json_object_set_new(e, "backing", gen_node_reopen_entry(st, b, r, depth + 1));
            else
                json_object_set_new(e, "backing", json_string(b->name));
        } else if (!n->has_backing || mut_rand_chance(r, 50)) {
            json_object_set_new(e, "backing", json_null());
        }
    }
    return e;
}

static const MutNode *pick_plausible_child(const MutState *st, MutRand *r, const char *link,
                                           const char *self)
{
    for (int tries = 0; tries < 6; tries++) {
        const MutNode *c = gen_pick_node(st, r, gen_pick_other, self);
        if (!c)
            return NULL;
        bool plausible = strcmp(link, "backing") == 0
                             ? gen_pick_is_format(c) || gen_pick_is_filter(c)
                             : gen_pick_drv_is(c, "file") || gen_pick_is_filter(c) ||
                                   gen_pick_drv_is(c, "null-co");
        if (plausible || tries >= 3 || mut_rand_chance(r, 30))
            return c;
    }
    return NULL;
}

bool gen_node_change_child(const MutState *st, json_t *obj, const char *driver, const char *self,
                      MutRand *r)
{
    const char *links[2];
    size_t n = 0;
    if (strcmp(driver, "blkdebug") == 0)
        links[n++] = "image";
    else if (gen_pick_has_file_link(driver))
        links[n++] = "file";
    if (strcmp(driver, "qcow2") == 0)
        links[n++] = "backing";
    if (!n)
        return false;
    const char *link = links[mut_rand_below(r, n)];
    bool backing = strcmp(link, "backing") == 0;
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 65) {
        const MutNode *c = pick_plausible_child(st, r, link, self ? self : "");
        if (!c)
            return false;
        json_t *cur = json_object_get(obj, link);
        if (json_is_string(cur) && strcmp(json_string_value(cur), c->name) == 0)
            return false;
        json_object_set_new(obj, link, json_string(c->name));
        return true;
    }
    if (how < 85 && (backing || how < 67)) {
        if (json_is_null(json_object_get(obj, link)))
            return false;
        json_object_set_new(obj, link, json_null());   /* file: null is QEMU's QAPI error */
        return true;
    }
    return json_object_del(obj, link) == 0;
}

bool gen_node_change_option(const MutState *st, json_t *obj, const char *driver, MutRand *r)
{
    for (int tries = 0; tries < 4; tries++) {
        const MutOpt *opt = mut_values_pick_opt(driver, r);
        json_t *cur = mut_values_get(obj, opt->name);
        json_t *v = NULL;
        if (opt->kind == MUT_V_GROUP) {
            if (st->n_groups && !mut_rand_chance(r, 10))
                v = json_string(st->groups[mut_rand_below(r, st->n_groups)]);
            else
                v = json_string("notfound");
        } else if (opt->kind == MUT_V_NODE) {
            const MutNode *n = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
            if (n)
                v = json_string(n->name);
        } else {
            const char *fname = json_string_value(json_object_get(obj, "file"));
            const MutNode *below = mut_state_node(st, fname);
            const json_t *fdef = json_object_get(obj, "file");
            const MutImage *img = json_is_object(fdef)
                                      ? mut_state_image(st, json_string_value(
                                            json_object_get(fdef, "filename")))
                                      : NULL;
            uint64_t ref = below ? below->size
                           : img  ? (strcmp(img->fmt, "raw") == 0 ? img->size
                                                                   : MUT_QCOW2_HOST_BYTES)
                                  : MUT_DEFAULT_BYTES;
            v = mut_values_pick(opt, r, ref, cur);
        }
        if (!v)
            continue;
        if (cur && json_equal(cur, v)) {
            json_decref(v);
            continue;
        }
        mut_values_set(obj, opt->name, v);
        return true;
    }
    return false;
}

/* With no backing chain alive: a qcow2 node over a free image, backed by a live node. */
size_t gen_node_chain(const MutState *st, MutRand *r, json_t *out, char **top,
                        const MutNode **base)
{
    const MutImage *img = gen_pick_image(st, r, "qcow2");
    *base = gen_pick_node(st, r, gen_pick_format_or_filter, NULL);
    if (!img || !*base)
        return 0;
    json_t *q = qcow2_def(st, img, r, 0);
    json_object_set_new(q, "backing", json_string((*base)->name));
    *top = bg_strdup(json_string_value(json_object_get(q, "node-name")));
    return add_step(out, q);
}
