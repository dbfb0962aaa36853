/*
 * mutator.c: the structure-aware mutator of command streams (mutator.h).
 *
 * One call: read the input (mut_lines.c), pick an edit kind, make the edit
 * on a copy with the resources alive at the edited point (mut_state.c,
 * gen.c), drop expectations from the first edited line on, and finish
 * (the job-timing rule, fit MAX_SIZE, the reader's rules, the live-node
 * rule: mut_lines.h).  A rejected edit is retried with the next random
 * numbers, BG_MUT_ATTEMPTS times, then a generated stream is returned.
 * The crossover of two streams is mut_crossover.c; it finishes its splice
 * with this file's mut_finish() (mutator_int.h).
 */
#include "mutator.h"
#include "job_timing.h"

#include <string.h>

#include "bg.h"
#include "gen.h"
#include "gen_node.h"
#include "gen_pick.h"
#include "mut_lines.h"
#include "mut_rand.h"
#include "mut_state.h"
#include "mut_values.h"
#include "mutator_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const kind_names[BG_MUT__COUNT] = {
    [BG_MUT_INSERT] = "insert", [BG_MUT_DROP] = "drop", [BG_MUT_DUPLICATE] = "duplicate",
    [BG_MUT_MOVE] = "move", [BG_MUT_OPTION] = "option", [BG_MUT_CHILD] = "child",
    [BG_MUT_FILTER_INSERT] = "filter-insert", [BG_MUT_FILTER_REMOVE] = "filter-remove",
    [BG_MUT_THROTTLE_GROUP] = "throttle-group", [BG_MUT_IO] = "io", [BG_MUT_JOB] = "job",
    [BG_MUT_REOPEN_MULTI] = "reopen-multi", [BG_MUT_DEL] = "del", [BG_MUT_ADD_NODE] = "add-node",
    [BG_MUT_VALUE] = "value", [BG_MUT_IMAGE] = "image", [BG_MUT_CROSSOVER] = "crossover",
    [BG_MUT_GENERATE] = "generate", [BG_MUT_EMPTY] = "empty",
};

const char *bg_mut_kind_name(BgMutKind kind)
{
    return kind < BG_MUT__COUNT ? kind_names[kind] : "?";
}

/* Relative frequency of the edits (the specific inserts are what the issue asks for). */
static const unsigned kind_weights[BG_MUT__COUNT] = {
    [BG_MUT_INSERT] = 14, [BG_MUT_DROP] = 9, [BG_MUT_DUPLICATE] = 4, [BG_MUT_MOVE] = 5,
    [BG_MUT_OPTION] = 14, [BG_MUT_CHILD] = 8, [BG_MUT_FILTER_INSERT] = 5,
    [BG_MUT_FILTER_REMOVE] = 4, [BG_MUT_THROTTLE_GROUP] = 3, [BG_MUT_IO] = 8, [BG_MUT_JOB] = 6,
    [BG_MUT_REOPEN_MULTI] = 5, [BG_MUT_DEL] = 3, [BG_MUT_ADD_NODE] = 5, [BG_MUT_VALUE] = 5,
    [BG_MUT_IMAGE] = 2,
};

/* ---- picking lines ------------------------------------------------------------------------ */

typedef bool (*LinePred)(const json_t *obj);

static bool is_step(const json_t *obj)
{
    return mut_state_step_name(obj) != NULL;
}

static bool is_node_def_step(const json_t *obj)
{
    const char *n = mut_state_step_name(obj);
    return n && (strcmp(n, "blockdev-add") == 0 || strcmp(n, "blockdev-reopen") == 0 ||
                 strcmp(n, "x-blockdev-reopen") == 0);
}

static bool is_value_step(const json_t *obj)
{
    static const char *const names[] = { "img-create", "io", "human-monitor-command", "launch",
                                         "block-stream", "block-commit", "run-job", NULL };
    const char *n = mut_state_step_name(obj);
    for (const char *const *p = names; n && *p; p++)
        if (strcmp(n, *p) == 0)
            return true;
    return false;
}

/* A random line index in [lo, hi) whose object satisfies PRED; hi when none. */
static size_t pick_line(const MutLines *ls, MutRand *r, size_t lo, size_t hi, LinePred pred)
{
    size_t count = 0;
    for (size_t i = lo; i < hi && i < ls->n; i++)
        count += ls->v[i].obj && pred(ls->v[i].obj);
    if (!count)
        return hi;
    size_t k = mut_rand_below(r, count);
    for (size_t i = lo; i < hi && i < ls->n; i++)
        if (ls->v[i].obj && pred(ls->v[i].obj) && !k--)
            return i;
    return hi;
}

/* A point of the VM part: mostly its end (where a stream naturally grows), else anywhere. */
static size_t vm_point(const MutLines *ls, MutRand *r)
{
    MutRegions rg;
    mut_lines_regions(ls, &rg);
    if (mut_rand_chance(r, 45))
        return rg.vm_end;
    return rg.vm_start + mut_rand_below(r, rg.vm_end - rg.vm_start + 1);
}

/* ---- node definitions inside a step ------------------------------------------------------- */

static void collect_defs(json_t *obj, MutDefs *d, int depth)
{
    static const char *const keys[] = { "file", "backing", "image", "test", "raw", "data-file",
                                        NULL };
    if (!json_is_object(obj) || depth > 8 || d->n >= N(d->v))
        return;
    d->v[d->n++] = obj;
    for (const char *const *k = keys; *k; k++)
        collect_defs(json_object_get(obj, *k), d, depth + 1);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(obj, "children"), i, c)
        collect_defs(c, d, depth + 1);
}

void mut_step_defs(json_t *step, MutDefs *d)
{
    const char *n = mut_state_step_name(step);
    json_t *args = json_object_get(step, "arguments");
    d->n = 0;
    if (n && strcmp(n, "blockdev-reopen") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(args, "options"), i, e)
            collect_defs(e, d, 0);
    } else {
        collect_defs(args, d, 0);
    }
}

/* The driver of a definition, or of the node a reopen entry names. */
static const char *def_driver(const json_t *obj, const MutState *st)
{
    const char *d = json_string_value(json_object_get(obj, "driver"));
    if (d)
        return d;
    const MutNode *n = mut_state_node(st, json_string_value(json_object_get(obj, "node-name")));
    return n ? n->driver : "";
}

static bool has_child_link(const char *driver)
{
    return gen_pick_has_file_link(driver) || strcmp(driver, "blkdebug") == 0;
}

/* Remove one member of a definition: an own option mostly, node-name rarely, never driver. */
static bool leave_out(json_t *obj, MutRand *r)
{
    const char *keys[64];
    size_t n = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (n < 64 && strcmp(k, "driver") != 0 &&
            (strcmp(k, "node-name") != 0 || mut_rand_chance(r, 5)))
            keys[n++] = k;
    }
    return n && json_object_del(obj, keys[mut_rand_below(r, n)]) == 0;
}

/* ---- the edits ---------------------------------------------------------------------------- */

typedef struct Edit {
    MutLines *ls;
    MutRand *r;
    size_t at;        /* first edited line */
} Edit;

/* Insert the steps of generator K at a VM point (a few points are tried). */
static bool insert_generated(Edit *e, int k)
{
    for (int tries = 0; tries < 3; tries++) {
        size_t p = vm_point(e->ls, e->r);
        /* a deleted node must not be named later; filters and jobs are most alive at the end */
        if ((k == GEN_DEL && mut_rand_chance(e->r, 70)) ||
            ((k == GEN_FILTER_REMOVE || k == GEN_JOB_DRIVE) && tries == 0)) {
            MutRegions rg;
            mut_lines_regions(e->ls, &rg);
            p = rg.vm_end;
        }
        MutState st;
        mut_lines_state_at(e->ls, p, &st);
        json_t *steps = json_array();
        size_t n = k < 0 ? gen_vm_action(&st, e->r, steps, NULL)
                         : gen_steps((GenKind)k, &st, e->r, steps);
        mut_state_cleanup(&st);
        if (n && mut_lines_steps(e->ls) + n <= BG_MUT_MAX_STEPS) {
            size_t i;
            json_t *s;
            json_array_foreach(steps, i, s)
                mut_lines_insert(e->ls, p + i, json_incref(s), -1);
            json_decref(steps);
            e->at = p;
            return true;
        }
        json_decref(steps);
    }
    return false;
}

static bool edit_image(Edit *e)
{
    MutRegions rg;
    mut_lines_regions(e->ls, &rg);
    MutState st;
    mut_lines_state_at(e->ls, rg.first_vm, &st);
    json_t *steps = json_array();
    size_t n = gen_steps(mut_rand_chance(e->r, 50) ? GEN_IMG_CREATE : GEN_IO_OFFLINE, &st, e->r,
                         steps);
    if (!n)
        n = gen_steps(GEN_IMG_CREATE, &st, e->r, steps);
    mut_state_cleanup(&st);
    bool ok = n && mut_lines_steps(e->ls) + n <= BG_MUT_MAX_STEPS;
    for (size_t i = 0; ok && i < n; i++)
        mut_lines_insert(e->ls, rg.first_vm + i, json_incref(json_array_get(steps, i)), -1);
    json_decref(steps);
    e->at = rg.first_vm;
    return ok;
}

static bool edit_drop(Edit *e)
{
    size_t i = pick_line(e->ls, e->r, 0, e->ls->n, is_step);
    if (i >= e->ls->n)
        return false;
    mut_lines_remove(e->ls, i);
    e->at = i;
    return true;
}

/* The part a line belongs to: [lo, hi) where it may move or be copied. */
static void part_of(const MutLines *ls, size_t i, size_t *lo, size_t *hi)
{
    MutRegions rg;
    mut_lines_regions(ls, &rg);
    if (i < rg.first_vm) {
        *lo = 0;
        *hi = rg.first_vm;
    } else {
        *lo = rg.vm_start > i ? i : rg.vm_start;
        *hi = ls->n;
    }
}

json_t *mut_copy_without_meta(const json_t *obj)
{
    json_t *c = json_deep_copy(obj);
    json_object_del(c, "expect");
    json_object_del(c, "save");
    json_object_del(c, "bind");
    return c;
}

static bool edit_duplicate(Edit *e)
{
    if (mut_lines_steps(e->ls) >= BG_MUT_MAX_STEPS)
        return false;
    size_t i = pick_line(e->ls, e->r, 0, e->ls->n, is_step), lo, hi;
    if (i >= e->ls->n)
        return false;
    part_of(e->ls, i, &lo, &hi);
    size_t j = mut_rand_chance(e->r, 60) ? i + 1 : i + 1 + mut_rand_below(e->r, hi - i);
    mut_lines_insert(e->ls, j, mut_copy_without_meta(e->ls->v[i].obj), e->ls->v[i].origin);
    e->at = j;
    return true;
}

static bool edit_move(Edit *e)
{
    size_t i = pick_line(e->ls, e->r, 0, e->ls->n, is_step), lo, hi;
    if (i >= e->ls->n)
        return false;
    part_of(e->ls, i, &lo, &hi);
    if (hi - lo < 2)
        return false;
    size_t j = lo + mut_rand_below(e->r, hi - lo - 1);   /* index after removal */
    if (j >= i)
        j++;
    if (j > hi - 1)
        j = hi - 1;
    MutLine l = e->ls->v[i];
    memmove(e->ls->v + i, e->ls->v + i + 1, (e->ls->n - i - 1) * sizeof(l));
    e->ls->n--;
    if (j > e->ls->n)
        j = e->ls->n;
    e->ls->v = bg_realloc(e->ls->v, (e->ls->n + 1) * sizeof(l));
    memmove(e->ls->v + j + 1, e->ls->v + j, (e->ls->n - j) * sizeof(l));
    e->ls->v[j] = l;
    e->ls->n++;
    e->at = i < j ? i : j;
    return i != j;
}

/* Change an option (OPTION) or a child link (CHILD) of a definition in an add or reopen. */
static bool edit_definition(Edit *e, bool child)
{
    size_t i = pick_line(e->ls, e->r, 0, e->ls->n, is_node_def_step);
    if (i >= e->ls->n)
        return false;
    MutState st;
    mut_lines_state_at(e->ls, i, &st);
    json_t *step = mut_lines_edit(e->ls, i);
    MutDefs d;
    mut_step_defs(step, &d);
    bool ok = false;
    if (child) {   /* only definitions whose driver has a file, backing or image link */
        size_t k = 0;
        for (size_t j = 0; j < d.n; j++)
            if (has_child_link(def_driver(d.v[j], &st)))
                d.v[k++] = d.v[j];
        d.n = k;
    }
    if (d.n) {
        json_t *obj = d.v[mut_rand_below(e->r, d.n)];
        const char *driver = def_driver(obj, &st);
        const char *self = json_string_value(json_object_get(obj, "node-name"));
        if (child) {
            ok = gen_node_change_child(&st, obj, driver, self, e->r);
        } else if (mut_rand_chance(e->r, 20) && (ok = leave_out(obj, e->r))) {
            /* an option left out */
        } else {
            ok = gen_node_change_option(&st, obj, driver, e->r);
        }
    }
    mut_state_cleanup(&st);
    e->at = i;
    return ok;
}

static bool toggle(json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_boolean(v ? !json_is_true(v) : !dflt));
    return true;
}

/* A value of a step that is not a node definition. */
static bool edit_value(Edit *e)
{
    size_t i = pick_line(e->ls, e->r, 0, e->ls->n, is_value_step);
    if (i >= e->ls->n)
        return false;
    e->at = i;
    const char *name = mut_state_step_name(e->ls->v[i].obj);
    if (strcmp(name, "io") == 0 || strcmp(name, "human-monitor-command") == 0) {
        /* the same kind of step again: another range, pattern or node */
        MutState st;
        mut_lines_state_at(e->ls, i, &st);
        json_t *steps = json_array();
        size_t n = gen_steps(name[0] == 'i' ? GEN_IO_OFFLINE : GEN_HMP_IO, &st, e->r, steps);
        mut_state_cleanup(&st);
        if (n == 1) {
            mut_lines_remove(e->ls, i);
            mut_lines_insert(e->ls, i, json_incref(json_array_get(steps, 0)), -1);
        }
        json_decref(steps);
        return n == 1;
    }
    json_t *step = mut_lines_edit(e->ls, i);
    if (strcmp(name, "img-create") == 0) {
        static const char *const sizes[] = { "64k", "1M", "3M", "4M", "16M", "1000", "0" };
        json_t *o = json_object_get(step, "img-create");
        unsigned how = (unsigned)mut_rand_below(e->r, 100);
        if (how < 60 || !json_object_get(o, "backing"))
            json_object_set_new(o, "size", json_string(sizes[mut_rand_below(e->r, N(sizes))]));
        else if (how < 80)
            json_object_del(o, "backing-fmt");
        else
            json_object_set_new(o, "fmt", json_string(mut_rand_chance(e->r, 50) ? "raw"
                                                                                 : "qcow2"));
        return true;
    }
    if (strcmp(name, "launch") == 0) {
        json_t *o = json_object_get(step, "launch");
        const char *m = json_string_value(json_object_get(o, "machine"));
        json_object_set_new(o, "machine", json_string(m && strcmp(m, "pc") == 0 ? "none"
                                                                                : "pc"));
        return true;
    }
    if (strcmp(name, "run-job") == 0) {
        json_t *o = json_object_get(step, "run-job");
        return toggle(o, mut_rand_chance(e->r, 50) ? "cancel" : "auto-finalize",
                      false);
    }
    /* block-stream, block-commit */
    json_t *a = json_object_get(step, "arguments");
    unsigned how = (unsigned)mut_rand_below(e->r, 100);
    if (how < 40)
        return toggle(a, "auto-finalize", true);
    if (how < 55)
        return toggle(a, "auto-dismiss", true);
    if (how < 80)
        return json_object_del(a, strcmp(name, "block-commit") == 0 &&
                                      mut_rand_chance(e->r, 50) ? "top-node" : "base-node") == 0;
    json_object_set_new(a, "speed", json_integer(mut_rand_chance(e->r, 50) ? 0 : 65536));
    return true;
}

static bool edit_job(Edit *e)
{
    /* drive a job when one is alive at the end of the VM part, else start one */
    MutRegions rg;
    mut_lines_regions(e->ls, &rg);
    MutState st;
    mut_lines_state_at(e->ls, rg.vm_end, &st);
    bool jobs = st.n_jobs > 0;
    mut_state_cleanup(&st);
    if (jobs && mut_rand_chance(e->r, 60) && insert_generated(e, GEN_JOB_DRIVE))
        return true;
    return insert_generated(e, GEN_JOB_START);
}

static bool apply_kind(Edit *e, BgMutKind k)
{
    switch (k) {
    case BG_MUT_INSERT: return insert_generated(e, -1);
    case BG_MUT_DROP: return edit_drop(e);
    case BG_MUT_DUPLICATE: return edit_duplicate(e);
    case BG_MUT_MOVE: return edit_move(e);
    case BG_MUT_OPTION: return edit_definition(e, false);
    case BG_MUT_CHILD: return edit_definition(e, true);
    case BG_MUT_FILTER_INSERT: return insert_generated(e, GEN_FILTER_INSERT);
    case BG_MUT_FILTER_REMOVE: return insert_generated(e, GEN_FILTER_REMOVE);
    case BG_MUT_THROTTLE_GROUP: return insert_generated(e, GEN_GROUP);
    case BG_MUT_IO: return insert_generated(e, GEN_HMP_IO);
    case BG_MUT_JOB: return edit_job(e);
    case BG_MUT_REOPEN_MULTI: return insert_generated(e, GEN_REOPEN_MULTI);
    case BG_MUT_DEL: return insert_generated(e, GEN_DEL);
    case BG_MUT_ADD_NODE: return insert_generated(e, GEN_ADD);
    case BG_MUT_VALUE: return edit_value(e);
    case BG_MUT_IMAGE: return edit_image(e);
    case BG_MUT_CROSSOVER:
    case BG_MUT_GENERATE:
    case BG_MUT_EMPTY:
    case BG_MUT__COUNT:
        break;
    }
    return false;
}

/* ---- outputs ------------------------------------------------------------------------------ */

size_t mut_emit(const BgBuf *b, uint8_t *out, size_t max)
{
    size_t n = b->len <= max ? b->len : 0;
    if (n)
        memcpy(out, b->data, n);
    return n;
}

/* ---- the job-timing rule -------------------------------------------------------------------- */

/* A flag of a job-starting command's arguments (default true). */
static bool job_flag(const json_t *args, const char *key)
{
    const json_t *v = json_object_get(args, key);
    return !json_is_boolean(v) || json_is_true(v);
}

/*
 * gen.c's job-timing rule for any edited stream: a step that sets a job
 * moving (block-stream, block-commit, a job verb) is followed at once by
 * a step that drives that job to where it parks or ends; where an edit
 * (a drop, a move, a crossover) took it away, one is added: a wait for
 * where the job parks (ready, pending) after a start, run-job otherwise.
 * Without it QEMU's timing decides what the next steps see.
 */
static void drive_jobs(MutLines *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        const json_t *o = ls->v[i].obj;
        bool start = false;
        const char *id = o ? bg_job_timing_moving(o, &start) : NULL;
        if (!id || (i + 1 < ls->n && ls->v[i + 1].obj && bg_job_timing_drives(ls->v[i + 1].obj, id)))
            continue;
        const char *cmd = json_string_value(json_object_get(o, "execute"));
        const json_t *a = json_object_get(o, "arguments");
        bool af = true;
        for (size_t k = i + 1; k-- > 0;) {        /* the start of that job */
            const json_t *ko = ls->v[k].obj;
            bool kstart = false;
            const char *kid = ko ? bg_job_timing_moving(ko, &kstart) : NULL;
            if (kid && kstart && strcmp(kid, id) == 0) {
                af = job_flag(json_object_get(ko, "arguments"), "auto-finalize");
                break;
            }
        }
        bool active = strcmp(cmd, "block-commit") == 0 && !json_object_get(a, "top-node") &&
                      !json_object_get(a, "top");
        json_t *step = start && (active || !af) ? gen_wait_parked(id, active)
                                                : gen_run_job(id, af, false);
        mut_lines_insert(ls, i + 1, step, -1);
        mut_lines_strip_expect(ls, i + 1);     /* what follows is no longer the input's */
        i++;
    }
}

/* Does any line of LS start, set moving or drive a job named ID? */
static bool job_id_used(const MutLines *ls, const char *id)
{
    for (size_t i = 0; i < ls->n; i++) {
        const json_t *o = ls->v[i].obj;
        const char *m = o ? bg_job_timing_moving(o, NULL) : NULL;
        if (o && ((m && strcmp(m, id) == 0) || bg_job_timing_drives(o, id)))
            return true;
    }
    return false;
}

/* In DRIVER (a line that drives job OLD: job_timing.h), name job NEW instead. */
static void rename_driver(json_t *driver, const char *old, const char *fresh)
{
    json_t *run = json_object_get(driver, "run-job");
    json_t *wait = json_object_get(driver, "wait-job");
    json_t *m = json_object_get(json_object_get(json_object_get(driver, "wait-event"), "match"),
                                "data");
    if (json_is_string(wait) && strcmp(json_string_value(wait), old) == 0)
        json_object_set_new(driver, "wait-job", json_string(fresh));
    static const char *const keys[] = { "id", "device" };
    for (size_t k = 0; k < N(keys); k++) {
        json_t *in[] = { run, m };
        for (size_t j = 0; j < N(in); j++) {
            const char *v = json_string_value(json_object_get(in[j], keys[k]));
            if (v && strcmp(v, old) == 0)
                json_object_set_new(in[j], keys[k], json_string(fresh));
        }
    }
}

/*
 * job_timing.h's second rule: a job start that takes the id of an earlier
 * job of the stream is given a fresh one.  The earlier job's events that
 * its driver did not take (wait-job takes BLOCK_JOB_COMPLETED and the last
 * status changes, not "pending") are still queued, and run-job answers
 * them for the new job at once while QEMU runs the new job on in the
 * background: which wins is QEMU's timing (corpus/regress/167).  An edit
 * that repeats a start (a duplicate, a crossover) keeps its meaning
 * otherwise: the line right after that drove the start drives the renamed
 * job, later lines still name the first job.
 */
static void fresh_job_ids(MutLines *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        bool start = false;
        const char *id = ls->v[i].obj ? bg_job_timing_moving(ls->v[i].obj, &start) : NULL;
        bool again = false;
        for (size_t k = 0; id && start && k < i && !again; k++) {
            bool kstart = false;
            const char *kid = ls->v[k].obj ? bg_job_timing_moving(ls->v[k].obj, &kstart) : NULL;
            again = kid && kstart && strcmp(kid, id) == 0;
        }
        if (!again)
            continue;
        char *fresh = NULL;
        for (unsigned n = 2; !fresh; n++) {
            fresh = bg_asprintf("%s-%u", id, n);
            if (job_id_used(ls, fresh)) {
                free(fresh);
                fresh = NULL;
            }
        }
        char *old = bg_strdup(id);
        json_t *args = json_object_get(mut_lines_edit(ls, i), "arguments");
        json_object_set_new(args, "job-id", json_string(fresh));
        if (i + 1 < ls->n && ls->v[i + 1].obj && bg_job_timing_drives(ls->v[i + 1].obj, old))
            rename_driver(mut_lines_edit(ls, i + 1), old, fresh);   /* the pair stays a pair */
        free(old);
        free(fresh);
        mut_lines_strip_expect(ls, i);       /* "in use" no longer; what follows may differ */
    }
}

/* mut_lines_finish() after the job-timing rules (the step bound still holds:
 * a drive added at the end may be cut again, a job started last then has
 * nothing after it to see it). */
bool mut_finish(MutLines *ls, MutLines *in, size_t max_size, BgBuf *out)
{
    fresh_job_ids(ls);
    drive_jobs(ls);
    while (mut_lines_steps(ls) > BG_MUT_MAX_STEPS)
        mut_lines_remove(ls, ls->n - 1);
    return mut_lines_finish(ls, in, max_size, out);
}

/* A generated stream that fits MAX (or the empty stream). */
static size_t emit_generated(MutRand *r, uint8_t *out, size_t max, BgMutInfo *info)
{
    for (int tries = 0; tries < 3; tries++) {
        json_t *arr = gen_stream(r, GEN_MAX_STEPS);
        MutLines ls = {0};
        size_t i;
        json_t *s;
        json_array_foreach(arr, i, s)
            mut_lines_insert(&ls, ls.n, json_incref(s), -1);
        json_decref(arr);
        BgBuf b = {0};
        bool ok = mut_lines_finish(&ls, NULL, max, &b) && mut_lines_steps(&ls);
        size_t n = ok ? mut_emit(&b, out, max) : 0;
        bg_buf_cleanup(&b);
        mut_lines_cleanup(&ls);
        if (n) {
            info->kind = BG_MUT_GENERATE;
            return n;
        }
    }
    info->kind = BG_MUT_EMPTY;
    return 0;
}

bool mut_same_bytes(const BgBuf *b, const uint8_t *data, size_t size)
{
    return b->len == size && (!size || memcmp(b->data, data, size) == 0);
}

size_t bg_mutate_ex(uint8_t *data, size_t size, size_t max_size, unsigned int seed,
                    BgMutInfo *info)
{
    BgMutInfo local;
    if (!info)
        info = &local;
    *info = (BgMutInfo){ .kind = BG_MUT_GENERATE };
    MutRand r = mut_rand_seed(seed);
    MutLines in;
    mut_lines_read(&in, data, size);
    info->dropped = in.dropped;
    size_t result = 0;
    bool done = false;
    if (mut_lines_steps(&in)) {
        unsigned w[BG_MUT__COUNT];
        memcpy(w, kind_weights, sizeof(w));
        size_t steps = mut_lines_steps(&in);
        if (steps >= BG_MUT_MAX_STEPS) {   /* too long: only shorten */
            memset(w, 0, sizeof(w));
            w[BG_MUT_DROP] = 1;
        }
        for (unsigned a = 0; a < BG_MUT_ATTEMPTS && !done; a++) {
            BgMutKind k = (BgMutKind)mut_rand_weighted(&r, w, BG_MUT__COUNT);
            MutLines ls;
            mut_lines_clone(&ls, &in);
            while (mut_lines_steps(&ls) > BG_MUT_MAX_STEPS)   /* cut an overlong input */
                mut_lines_remove(&ls, ls.n - 1);
            Edit e = { .ls = &ls, .r = &r, .at = ls.n };
            info->attempts = a + 1;
            if (apply_kind(&e, k)) {
                mut_lines_strip_expect(&ls, e.at);
                BgBuf b = {0};
                if (mut_finish(&ls, &in, max_size, &b) && mut_lines_steps(&ls) &&
                    !mut_same_bytes(&b, data, size)) {
                    result = mut_emit(&b, data, max_size);
                    done = result > 0;
                    info->kind = k;
                }
                bg_buf_cleanup(&b);
            }
            mut_lines_cleanup(&ls);
        }
    }
    mut_lines_cleanup(&in);
    if (!done)
        result = emit_generated(&r, data, max_size, info);
    return result;
}

size_t bg_mutate(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    return bg_mutate_ex(data, size, max_size, seed, NULL);
}
