/*
 * gen.c: step and stream generators (gen.h).
 *
 * Shapes follow the seed streams (corpus/seed/, iotest 245): jobs
 * "streamN"/"commitN" driven by run-job as iotests' VM.run_job() does, HMP
 * qemu-io patterns 0xa0.. as the seeds write them.
 * Offsets and lengths of qemu-io requests stay inside the node (its size as
 * mut_state.c estimates it) and are multiples of 512 but for a few.
 */
#include "gen.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bg.h"
#include "gen_node.h"
#include "gen_pick.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[GEN__COUNT] = {
    [GEN_IMG_CREATE] = "img-create", [GEN_IO_OFFLINE] = "io-offline", [GEN_ADD] = "add",
    [GEN_REOPEN] = "reopen", [GEN_REOPEN_MULTI] = "reopen-multi", [GEN_DEL] = "del",
    [GEN_HMP_IO] = "hmp-io", [GEN_JOB_START] = "job-start", [GEN_JOB_DRIVE] = "job-drive",
    [GEN_GROUP] = "group", [GEN_FILTER_INSERT] = "filter-insert",
    [GEN_FILTER_REMOVE] = "filter-remove", [GEN_QUERY] = "query", [GEN_DEVICE] = "device",
};

const char *gen_kind_name(GenKind k)
{
    return k < GEN__COUNT ? kind_names[k] : "?";
}

json_t *gen_execute(const char *cmd, json_t *args)
{
    json_t *o = json_object();
    json_object_set_new(o, "execute", json_string(cmd));
    if (args)
        json_object_set_new(o, "arguments", args);
    return o;
}

static size_t push(json_t *out, json_t *step)
{
    json_array_append_new(out, step);
    return 1;
}

/* A number as qemu-io reads it: plain, or with a k/M suffix when exact. */
static void io_num(char *buf, size_t n, uint64_t v, MutRand *r)
{
    if (v && v % (1u << 20) == 0 && mut_rand_chance(r, 50))
        snprintf(buf, n, "%" PRIu64 "M", v >> 20);
    else if (v && v % 1024 == 0 && mut_rand_chance(r, 50))
        snprintf(buf, n, "%" PRIu64 "k", v >> 10);
    else
        snprintf(buf, n, "%" PRIu64, v);
}

static unsigned pattern_byte(MutRand *r)
{
    static const unsigned p[] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0x00, 0xff, 0x5a };
    return p[mut_rand_below(r, N(p))];
}

/* An offset and a length inside [0, size). */
static void io_range(MutRand *r, uint64_t size, uint64_t *off, uint64_t *len)
{
    static const uint64_t lens[] = { 512, 4096, 65536, 65536, 131072, 1048576 };
    if (size > (64u << 20))
        size = 64u << 20;
    uint64_t l = lens[mut_rand_below(r, N(lens))];
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 4)
        l = 1 + mut_rand_below(r, 4096);   /* unaligned */
    if (l > size)
        l = size;
    uint64_t room = size - l, o;
    if (how < 4)
        o = mut_rand_below(r, (size_t)(room < 8192 ? room + 1 : 8192));
    else if (how < 60)
        o = (mut_rand_below(r, (size_t)(room / 65536 + 1))) * 65536;
    else if (how < 85)
        o = (mut_rand_below(r, (size_t)(room / 512 + 1))) * 512;
    else
        o = room & ~511ull;    /* the end of the node */
    *off = o;
    *len = l;
}

/* ---- images ------------------------------------------------------------------------------- */

static size_t gen_img_create(const MutState *st, MutRand *r, json_t *out)
{
    char file[32] = "";
    for (unsigned k = 0; k < 6 && !file[0]; k++) {
        char f[32];
        snprintf(f, sizeof(f), "hd%u.img", k);
        if (!mut_state_image(st, f))
            snprintf(file, sizeof(file), "%s", f);
    }
    if (!file[0])
        return 0;
    static const char *const sizes[] = { "1M", "3M", "3M", "4M", "16M", "64k" };
    bool qcow2 = mut_rand_chance(r, 80);
    json_t *o = json_object();
    json_object_set_new(o, "fmt", json_string(qcow2 ? "qcow2" : "raw"));
    json_object_set_new(o, "file", json_string(file));
    const MutImage *back = st->n_images && qcow2 && mut_rand_chance(r, 35)
                               ? &st->images[mut_rand_below(r, st->n_images)] : NULL;
    if (!back || mut_rand_chance(r, 40)) {
        if (mut_rand_chance(r, 20))
            json_object_set_new(o, "size", json_integer(mut_rand_chance(r, 50) ? 3145728
                                                                                : 1048576));
        else
            json_object_set_new(o, "size", json_string(sizes[mut_rand_below(r, N(sizes))]));
    }
    if (back) {
        char *b = bg_asprintf("$DIR/%s", back->file);
        json_object_set_new(o, "backing", json_string(b));
        json_object_set_new(o, "backing-fmt", json_string(back->fmt));
        free(b);
    }
    json_t *step = json_object();
    json_object_set_new(step, "img-create", o);
    return push(out, step);
}

static size_t gen_io_offline(const MutState *st, MutRand *r, json_t *out)
{
    if (!st->n_images)
        return 0;
    const MutImage *img = &st->images[mut_rand_below(r, st->n_images)];
    uint64_t off, len;
    io_range(r, img->size, &off, &len);
    char o[32], l[32];
    io_num(o, sizeof(o), off, r);
    io_num(l, sizeof(l), len, r);
    char *cmd = mut_rand_chance(r, 85)
                    ? bg_asprintf("write -P 0x%02x %s %s", pattern_byte(r), o, l)
                    : bg_asprintf("write -z %s %s", o, l);
    json_t *io = json_pack("{s:s, s:s, s:s}", "fmt", img->fmt, "file", img->file, "cmd", cmd);
    free(cmd);
    json_t *step = json_object();
    json_object_set_new(step, "io", io);
    return push(out, step);
}

static bool reopenable(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return !n->job_filter;
}

/* Change a few things of a canonical entry (or nothing: a reopen that restates). */
static void tweak_entry(const MutState *st, json_t *e, const MutNode *n, MutRand *r)
{
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 30)
        return;
    if (how < 70) {
        gen_node_change_option(st, e, n->driver, r);
        if (mut_rand_chance(r, 25))
            gen_node_change_option(st, e, n->driver, r);
    } else if (how < 90) {
        gen_node_change_child(st, e, n->driver, n->name, r);
    } else {
        /* leave an option out: "cannot be reset" / "backing is missing" / a reset to default */
        size_t count = json_object_size(e);
        if (count > 2) {
            size_t k = 2 + mut_rand_below(r, count - 2);
            const char *key;
            json_t *v;
            json_object_foreach(e, key, v) {
                if (!k--) {
                    json_object_del(e, key);
                    break;
                }
            }
        }
    }
}

static size_t gen_reopen(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *n = gen_pick_node(st, r, reopenable, NULL);
    if (!n)
        return 0;
    json_t *e = gen_node_reopen_entry(st, n, r, 0);
    tweak_entry(st, e, n, r);
    if (mut_rand_chance(r, 25))
        return push(out, gen_execute("x-blockdev-reopen", e));
    return push(out, gen_execute("blockdev-reopen", json_pack("{s:[o]}", "options", e)));
}

static size_t gen_reopen_multi(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *pick[3] = { NULL };
    size_t n = 0, want = 2 + mut_rand_below(r, 2);
    for (int tries = 0; tries < 12 && n < want; tries++) {
        const MutNode *c = gen_pick_node(st, r, reopenable, NULL);
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup |= pick[i] == c;
        if (c && !dup)
            pick[n++] = c;
    }
    if (n < 2)
        return 0;
    json_t *e[3];
    for (size_t i = 0; i < n; i++)
        e[i] = gen_node_reopen_entry(st, pick[i], r, 0);
    unsigned how = (unsigned)mut_rand_below(r, 100);
    json_t *f0 = json_object_get(e[0], "file"), *f1 = json_object_get(e[1], "file");
    if (how < 35 && json_is_string(f0) && json_is_string(f1)) {
        /* swap the file children: valid only as one transaction (qemu-semantics §2.8) */
        json_t *tmp = json_incref(f0);
        json_object_set(e[0], "file", f1);
        json_object_set_new(e[1], "file", tmp);
    } else if (how < 60 && gen_pick_drv_is(pick[0], "qcow2")) {
        json_object_set_new(e[0], "backing", json_string(pick[1]->name));
    } else {
        for (size_t i = 0; i < n; i++)
            tweak_entry(st, e[i], pick[i], r);
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, e[i]);
    return push(out, gen_execute("blockdev-reopen", json_pack("{s:o}", "options", list)));
}

static size_t gen_del(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *n = mut_rand_chance(r, 80)
                           ? gen_pick_node(st, r, gen_pick_monitor_owned, NULL) : NULL;
    if (!n)
        n = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
    if (!n)
        return 0;
    return push(out, gen_execute("blockdev-del", json_pack("{s:s}", "node-name", n->name)));
}

/* ---- HMP qemu-io ------------------------------------------------------------------------ */

static size_t gen_hmp_io(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *n = mut_rand_chance(r, 85)
                           ? gen_pick_node(st, r, gen_pick_format_or_filter, NULL) : NULL;
    if (!n)
        n = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
    if (!n)
        return 0;
    uint64_t off, len;
    io_range(r, n->size, &off, &len);
    char o[32], l[32], *cmd;
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 30 && n->pattern >= 0 && n->pat_off + n->pat_len <= n->size) {
        off = n->pat_off;   /* read back the last write */
        len = n->pat_len;
    }
    io_num(o, sizeof(o), off, r);
    io_num(l, sizeof(l), len, r);
    if (how < 30)
        cmd = bg_asprintf("read -P 0x%02x %s %s", n->pattern >= 0 ? (unsigned)n->pattern : 0u,
                          o, l);
    else if (how < 45)
        cmd = bg_asprintf("read -P 0x%02x %s %s", mut_rand_chance(r, 50) ? 0u : pattern_byte(r),
                          o, l);
    else if (how < 48)
        cmd = bg_asprintf("read %s %s", o, l);
    else if (how < 50 && len >= 2)
        cmd = bg_asprintf("readv -P 0x%02x %s %" PRIu64 " %" PRIu64, mut_rand_chance(r, 50) ? 0u
                          : pattern_byte(r), o, len / 2, len - len / 2);
    else if (how < 73)
        cmd = bg_asprintf("write -P 0x%02x %s %s", pattern_byte(r), o, l);
    else if (how < 75 && len >= 2)
        cmd = bg_asprintf("writev -P 0x%02x %s %" PRIu64 " %" PRIu64, pattern_byte(r), o,
                          len / 2, len - len / 2);
    else if (how < 81)
        cmd = bg_asprintf("write -z %s %s", o, l);
    else if (how < 87)
        cmd = bg_asprintf("write -z -u %s %s", o, l);
    else if (how < 92) {
        /* compressed: mostly whole clusters (qcow2 takes nothing else), and
         * with -z now and then (the zero write wins: bdrv_aligned_pwritev()) */
        if (mut_rand_chance(r, 80)) {
            io_num(o, sizeof(o), off / 65536 * 65536, r);
            io_num(l, sizeof(l), 65536, r);
        }
        cmd = bg_asprintf("write -c %s%s %s", mut_rand_chance(r, 20) ? "-z " : "", o, l);
    } else if (how < 94)
        cmd = bg_asprintf("write -f -P 0x%02x %s %s", pattern_byte(r), o, l);
    else if (how < 97)
        cmd = bg_asprintf("discard %s %s", o, l);
    else
        cmd = bg_strdup(mut_rand_chance(r, 50) ? "flush" : "aio_flush");
    char *cl = bg_asprintf("qemu-io %s \"%s\"", n->name, cmd);
    free(cmd);
    json_t *step = gen_execute("human-monitor-command", json_pack("{s:s}", "command-line", cl));
    free(cl);
    return push(out, step);
}

/* ---- jobs --------------------------------------------------------------------------------- */

json_t *gen_run_job(const char *id, bool auto_finalize, bool cancel)
{
    json_t *rj = json_pack("{s:s}", "id", id);
    json_object_set_new(rj, "auto-finalize", json_boolean(auto_finalize));
    json_object_set_new(rj, "auto-dismiss", json_true());
    if (cancel)
        json_object_set_new(rj, "cancel", json_true());
    json_t *step = json_object();
    json_object_set_new(step, "run-job", rj);
    return step;
}

static size_t run_job_step(json_t *out, const char *id, bool auto_finalize, bool cancel)
{
    return push(out, gen_run_job(id, auto_finalize, cancel));
}

/*
 * Job timing.  QEMU runs a job in the background; the model moves it only
 * when a step drives it.  The two agree only where the job is parked at a
 * point it cannot leave on its own: "ready" (an active commit, waiting for
 * job-complete) or "pending" (auto-finalize off, waiting for job-finalize),
 * or ended.  So every step that sets a job moving is followed at once by a
 * step that drives it to such a point: run-job (to its end), or wait-event
 * for BLOCK_JOB_READY / BLOCK_JOB_PENDING.  Anything in between would see
 * the job wherever QEMU's timing put it.
 */
json_t *gen_wait_parked(const char *id, bool ready)
{
    return json_pack("{s:{s:s,s:{s:{s:s}},s:i}}", "wait-event", "event",
                     ready ? "BLOCK_JOB_READY" : "BLOCK_JOB_PENDING", "match", "data",
                     ready ? "device" : "id", id, "timeout", 10);
}

static size_t wait_parked(json_t *out, const char *id, bool ready)
{
    return push(out, gen_wait_parked(id, ready));
}

static size_t gen_job_start(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *dev = gen_pick_node(st, r, gen_pick_has_chain, NULL), *below;
    char *dev_name = NULL;
    size_t count = 0;
    if (dev) {
        dev_name = bg_strdup(dev->name);
        below = mut_state_node(st, dev->backing);
    } else if (!(count = gen_node_chain(st, r, out, &dev_name, &below))) {
        return 0;   /* nothing to build a chain from */
    }
    const char *chain[16];
    size_t n = 0;
    for (const MutNode *c = below; c && n < 16; c = mut_state_node(st, c->backing)) {
        bool loop = strcmp(c->name, dev_name) == 0;
        for (size_t i = 0; i < n; i++)
            loop |= chain[i] == c->name;
        if (loop)
            break;
        chain[n++] = c->name;
    }
    if (!n) {
        free(dev_name);
        return count;
    }
    bool commit = mut_rand_chance(r, 45);
    char *id = gen_pick_fresh_numbered(st, commit ? "commit" : "stream");
    json_t *a = json_pack("{s:s, s:s}", "job-id", id, "device", dev_name);
    free(dev_name);
    bool active = false, af = !mut_rand_chance(r, 60);
    if (commit) {
        active = n < 2 || mut_rand_chance(r, 50);
        size_t top = 0;
        if (!active) {
            top = mut_rand_below(r, n - 1);
            json_object_set_new(a, "top-node", json_string(chain[top]));
        }
        if (mut_rand_chance(r, 50))
            json_object_set_new(a, "base-node",
                                json_string(chain[top + (active ? 0 : 1) +
                                                  mut_rand_below(r, n - top - (active ? 0 : 1))]));
        if (mut_rand_chance(r, 15)) {
            char *f = gen_pick_fresh_numbered(st, "cf");
            json_object_set_new(a, "filter-node-name", json_string(f));
            free(f);
        }
    } else {
        if (mut_rand_chance(r, 50))
            json_object_set_new(a, "base-node", json_string(chain[mut_rand_below(r, n)]));
        else if (mut_rand_chance(r, 30))     /* the last node to copy from, no base */
            json_object_set_new(a, "bottom", json_string(chain[mut_rand_below(r, n)]));
        if (mut_rand_chance(r, 15)) {
            char *f = gen_pick_fresh_numbered(st, "cor");
            json_object_set_new(a, "filter-node-name", json_string(f));
            free(f);
        }
    }
    if (!af)
        json_object_set_new(a, "auto-finalize", json_false());
    /* the name the new backing link gets in the top's header (an error
     * without a base, and for an active commit) */
    const MutImage *bf = mut_rand_chance(r, 15) ? gen_pick_image(st, r, NULL) : NULL;
    if (bf)
        json_object_set_new(a, "backing-file", json_string(bf->file));
    count += push(out, gen_execute(commit ? "block-commit" : "block-stream", a));
    if ((active || !af) && mut_rand_chance(r, 60))
        count += wait_parked(out, id, active);      /* parked: later steps see it there */
    else
        count += run_job_step(out, id, af, mut_rand_chance(r, 10));
    free(id);
    return count;
}

/* A job that gen_job_start() left parked ("ready" or "pending"): one verb,
 * then run-job drives it to its end (see "Job timing" above). */
static size_t gen_job_drive(const MutState *st, MutRand *r, json_t *out)
{
    if (!st->n_jobs)
        return 0;
    const MutJob *j = &st->jobs[mut_rand_below(r, st->n_jobs)];
    unsigned how = (unsigned)mut_rand_below(r, 100);
    json_t *step;
    if (how < 40)
        return run_job_step(out, j->id, j->auto_finalize, how < 5);
    if (j->active && !j->completed) {
        if (how < 70)
            step = gen_execute("job-complete", json_pack("{s:s}", "id", j->id));
        else if (how < 80)
            step = gen_execute("block-job-complete", json_pack("{s:s}", "device", j->id));
        else
            step = gen_execute("job-cancel", json_pack("{s:s}", "id", j->id));
    } else if (how < 75) {
        step = gen_execute("job-finalize", json_pack("{s:s}", "id", j->id));
    } else {
        step = gen_execute("job-cancel", json_pack("{s:s}", "id", j->id));
    }
    char *id = bg_strdup(j->id);
    bool af = j->auto_finalize;
    size_t n = push(out, step);
    n += run_job_step(out, id, af, false);
    free(id);
    return n;
}

/* ---- throttle groups, filters ------------------------------------------------------------- */

static size_t gen_group(const MutState *st, MutRand *r, json_t *out)
{
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 25 && st->n_groups) {
        /* mostly a group nothing uses: "in use" is a seed case already */
        const char *g = st->groups[mut_rand_below(r, st->n_groups)];
        for (size_t i = 0; i < st->n_groups && mut_rand_chance(r, 60); i++)
            if (!mut_state_group_used(st, st->groups[i]))
                g = st->groups[i];
        return push(out, gen_execute("object-del", json_pack("{s:s}", "id", g)));
    }
    const MutNode *t = how < 45 ? gen_pick_node(st, r, gen_pick_throttle, NULL) : NULL;
    if (t && st->n_groups >= 2) {
        /* move a throttle node to another group */
        json_t *e = gen_node_reopen_entry(st, t, r, 0);
        json_object_set_new(e, "throttle-group",
                            json_string(st->groups[mut_rand_below(r, st->n_groups)]));
        return push(out, gen_execute("blockdev-reopen", json_pack("{s:[o]}", "options", e)));
    }
    char *id = st->n_groups && mut_rand_chance(r, 10)
                   ? bg_strdup(st->groups[mut_rand_below(r, st->n_groups)])   /* a duplicate */
                   : gen_pick_fresh_numbered(st, "group");
    size_t n = push(out, gen_execute("object-add", gen_node_group_args(r, id)));
    free(id);
    return n;
}

/* A reopen of PARENT with its ROLE child replaced by NEW_CHILD. */
static size_t reopen_with_child(const MutState *st, MutRand *r, json_t *out,
                                const MutNode *parent, const char *role, const char *new_child)
{
    json_t *e = gen_node_reopen_entry(st, parent, r, 0);
    if (gen_pick_drv_is(parent, "blkdebug") && strcmp(role, "file") == 0)
        role = "image";
    json_object_set_new(e, role, json_string(new_child));
    if (mut_rand_chance(r, 25))
        return push(out, gen_execute("x-blockdev-reopen", e));
    return push(out, gen_execute("blockdev-reopen", json_pack("{s:[o]}", "options", e)));
}

static size_t gen_filter_insert(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *x = gen_pick_node(st, r, gen_pick_not_job_filter, NULL);
    if (!x)
        return 0;
    const char *drv = gen_node_filter_driver(r);
    const MutNode *below = mut_state_node(st, x->file);
    char *f = NULL;
    size_t n;
    if (below && (gen_pick_is_format(x) || gen_pick_is_filter(x)) && mut_rand_chance(r, 40)) {
        /* below X: X -> F -> X's file child (245's test_insert_throttle_filter) */
        n = gen_node_filter(st, r, out, drv, below->name, &f);
        n += reopen_with_child(st, r, out, x, "file", f);
    } else {
        /* above X: X's parent -> F -> X */
        const char *role = NULL;
        const MutNode *parent = mut_state_parent(st, x->name, &role);
        n = gen_node_filter(st, r, out, drv, x->name, &f);
        if (parent && !parent->job_filter)
            n += reopen_with_child(st, r, out, parent, role, f);
    }
    free(f);
    return n;
}

static size_t gen_filter_remove(const MutState *st, MutRand *r, json_t *out)
{
    const MutNode *f = gen_pick_node(st, r, gen_pick_filter_with_child, NULL);
    if (!f)
        return 0;
    const char *role = NULL;
    const MutNode *parent = mut_state_parent(st, f->name, &role);
    size_t n = 0;
    if (parent && !parent->job_filter)
        n += reopen_with_child(st, r, out, parent, role, f->file);
    if (mut_rand_chance(r, 85))
        n += push(out, gen_execute("blockdev-del", json_pack("{s:s}", "node-name", f->name)));
    return n;
}

/* ---- queries and devices ------------------------------------------------------------------ */

static size_t gen_query(const MutState *st, MutRand *r, json_t *out)
{
    (void)st;
    unsigned how = (unsigned)mut_rand_below(r, 100);
    if (how < 55)
        return push(out, gen_execute("query-named-block-nodes", NULL));
    if (how < 70)
        return push(out, gen_execute("query-named-block-nodes", json_pack("{s:b}", "flat", 1)));
    if (how < 85)
        return push(out, gen_execute("query-block-jobs", NULL));
    return push(out, gen_execute("query-jobs", NULL));
}

static size_t gen_device(const MutState *st, MutRand *r, json_t *out)
{
    if (!st->pc)
        return 0;
    if ((!st->n_scsi && !st->n_iothreads && mut_rand_chance(r, 50)) ||
        (st->n_scsi && mut_rand_chance(r, 10))) {
        char *id = gen_pick_fresh_numbered(st, "iothread");
        size_t n = push(out, gen_execute("object-add", json_pack("{s:s, s:s}", "qom-type",
                                                             "iothread", "id", id)));
        free(id);
        return n;
    }
    if (!st->n_scsi || mut_rand_chance(r, 20)) {
        char *id = gen_pick_fresh_numbered(st, "scsi");
        json_t *a = json_pack("{s:s, s:s}", "driver", "virtio-scsi", "id", id);
        if (st->n_iothreads && mut_rand_chance(r, 80))
            json_object_set_new(a, "iothread",
                                json_string(st->iothreads[mut_rand_below(r, st->n_iothreads)]));
        free(id);
        return push(out, gen_execute("device_add", a));
    }
    const MutNode *n = gen_pick_node(st, r, gen_pick_format_or_filter, NULL);
    if (!n)
        return 0;
    char *bus = bg_asprintf("%s.0", st->scsi[mut_rand_below(r, st->n_scsi)]);
    json_t *a = json_pack("{s:s, s:s, s:b}", "driver", "scsi-hd", "drive", n->name,
                          "share-rw", 1);
    if (mut_rand_chance(r, 85))     /* without: the newest controller's bus */
        json_object_set_new(a, "bus", json_string(bus));
    free(bus);
    /* a SCSI address, mostly small so that two disks may meet, now and
     * then out of the bus's range */
    if (mut_rand_chance(r, 25))
        json_object_set_new(a, "scsi-id", json_integer(mut_rand_chance(r, 5) ? 256
                                                       : (json_int_t)mut_rand_below(r, 3)));
    if (mut_rand_chance(r, 25))
        json_object_set_new(a, "lun", json_integer(mut_rand_chance(r, 5) ? 16384
                                                   : (json_int_t)mut_rand_below(r, 3)));
    return push(out, gen_execute("device_add", a));
}

/* ---- dispatch ----------------------------------------------------------------------------- */

size_t gen_steps(GenKind k, const MutState *st, MutRand *r, json_t *out)
{
    switch (k) {
    case GEN_IMG_CREATE: return gen_img_create(st, r, out);
    case GEN_IO_OFFLINE: return gen_io_offline(st, r, out);
    case GEN_ADD: return gen_node_add(st, r, out);
    case GEN_REOPEN: return gen_reopen(st, r, out);
    case GEN_REOPEN_MULTI: return gen_reopen_multi(st, r, out);
    case GEN_DEL: return gen_del(st, r, out);
    case GEN_HMP_IO: return gen_hmp_io(st, r, out);
    case GEN_JOB_START: return gen_job_start(st, r, out);
    case GEN_JOB_DRIVE: return gen_job_drive(st, r, out);
    case GEN_GROUP: return gen_group(st, r, out);
    case GEN_FILTER_INSERT: return gen_filter_insert(st, r, out);
    case GEN_FILTER_REMOVE: return gen_filter_remove(st, r, out);
    case GEN_QUERY: return gen_query(st, r, out);
    case GEN_DEVICE: return gen_device(st, r, out);
    case GEN__COUNT: break;
    }
    return 0;
}

size_t gen_vm_action(const MutState *st, MutRand *r, json_t *out, GenKind *kind)
{
    unsigned w[GEN__COUNT] = {
        [GEN_ADD] = st->n_nodes < 4 ? 30 : 10, [GEN_REOPEN] = 22, [GEN_REOPEN_MULTI] = 6,
        [GEN_DEL] = 5, [GEN_HMP_IO] = 18, [GEN_JOB_START] = 6,
        [GEN_JOB_DRIVE] = st->n_jobs ? 10 : 0,
        [GEN_GROUP] = 4, [GEN_FILTER_INSERT] = 6, [GEN_FILTER_REMOVE] = 3, [GEN_QUERY] = 3,
        [GEN_DEVICE] = st->pc ? 5 : 0,
    };
    for (int tries = 0; tries < 8; tries++) {
        GenKind k = (GenKind)mut_rand_weighted(r, w, GEN__COUNT);
        size_t n = gen_steps(k, st, r, out);
        if (n) {
            if (kind)
                *kind = k;
            return n;
        }
        w[k] = 0;
    }
    return 0;
}

/* ---- whole streams ------------------------------------------------------------------------ */

static void append_applied(json_t *lines, json_t *steps, MutState *st, size_t max)
{
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        if (json_array_size(lines) >= max)
            break;
        mut_state_apply(st, s);
        json_array_append(lines, s);
    }
    json_array_clear(steps);
}

json_t *gen_stream(MutRand *r, size_t max_steps)
{
    if (max_steps > GEN_MAX_STEPS)
        max_steps = GEN_MAX_STEPS;
    json_t *lines = json_array(), *tmp = json_array();
    MutState st;
    mut_state_init(&st);
    size_t n_img = 1 + mut_rand_below(r, 3);
    for (size_t i = 0; i < n_img; i++) {
        gen_steps(GEN_IMG_CREATE, &st, r, tmp);
        append_applied(lines, tmp, &st, max_steps);
    }
    size_t n_io = mut_rand_below(r, 4);
    for (size_t i = 0; i < n_io; i++) {
        gen_steps(GEN_IO_OFFLINE, &st, r, tmp);
        append_applied(lines, tmp, &st, max_steps);
    }
    json_array_append_new(tmp, json_pack("{s:{s:s}}", "launch", "machine",
                                         mut_rand_chance(r, 85) ? "none" : "pc"));
    append_applied(lines, tmp, &st, max_steps);
    size_t n_add = 1 + mut_rand_below(r, 3);
    for (size_t i = 0; i < n_add; i++) {
        if (!gen_steps(GEN_ADD, &st, r, tmp))
            break;
        append_applied(lines, tmp, &st, max_steps);
    }
    size_t n_vm = 2 + mut_rand_below(r, 10);
    for (size_t i = 0; i < n_vm && json_array_size(lines) + 1 < max_steps; i++) {
        gen_vm_action(&st, r, tmp, NULL);
        /* an action goes in whole or not at all: a job start without the
         * step that drives it would leave the job to QEMU's timing */
        if (json_array_size(lines) + json_array_size(tmp) > max_steps - 1) {
            json_array_clear(tmp);
            break;
        }
        append_applied(lines, tmp, &st, max_steps - 1);
    }
    if (mut_rand_chance(r, 50) && json_array_size(lines) < max_steps)
        json_array_append_new(lines, json_pack("{s:{}}", "shutdown"));
    json_decref(tmp);
    mut_state_cleanup(&st);
    return lines;
}
