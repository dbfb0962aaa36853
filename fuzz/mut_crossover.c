/*
 * mut_crossover.c: the mutator's crossover (mutator.h, bg_crossover()).
 *
 * A splice of two streams: the head of the first up to a point, then a run
 * of lines of the second, adapted to what is alive at the splice point
 * (node names the first already uses are renamed, names the run needs but
 * does not define are taken from the live ones), then finished as a
 * mutation is (mutator_int.h: the job-timing rule, the reader's rules, the
 * size bound).  When no splice is usable, a mutation of the first stream
 * is returned instead.
 */
#include "mutator.h"

#include <string.h>

#include "bg.h"
#include "gen_pick.h"
#include "mut_lines.h"
#include "mut_rand.h"
#include "mut_state.h"
#include "mutator_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Old node name -> new node name, for the lines taken from the other stream. */
typedef struct Renames {
    char *from[64], *to[64];
    size_t n;
} Renames;

static void renames_add(Renames *m, const char *from, const char *to)
{
    if (m->n < N(m->from)) {
        m->from[m->n] = bg_strdup(from);
        m->to[m->n++] = bg_strdup(to);
    }
}

static void renames_free(Renames *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->from[i]);
        free(m->to[i]);
    }
}

static const char *renamed(const Renames *m, const char *s)
{
    for (size_t i = m->n; i-- > 0;)
        if (strcmp(m->from[i], s) == 0)
            return m->to[i];
    return NULL;
}

/* Apply M to every string value of V (node names, and the node of "qemu-io NODE ..."). */
static void rename_values(json_t *v, const Renames *m, int depth)
{
    if (depth > 40)
        return;
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) {
            const char *s = json_string_value(c);
            const char *to = s ? renamed(m, s) : NULL;
            if (to) {
                json_object_set_new(v, k, json_string(to));
            } else if (s && strcmp(k, "command-line") == 0 && strncmp(s, "qemu-io ", 8) == 0) {
                const char *node = s + 8, *end = strchr(node, ' ');
                char name[256];
                size_t n = end ? (size_t)(end - node) : strlen(node);
                if (n < sizeof(name)) {
                    memcpy(name, node, n);
                    name[n] = '\0';
                    const char *nn = renamed(m, name);
                    if (nn) {
                        char *line = bg_asprintf("qemu-io %s%s", nn, end ? end : "");
                        json_object_set_new(v, k, json_string(line));
                        free(line);
                    }
                }
            } else {
                rename_values(c, m, depth + 1);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) {
            const char *s = json_string_value(c);
            const char *to = s ? renamed(m, s) : NULL;
            if (to)
                json_array_set_new(v, i, json_string(to));
            else
                rename_values(c, m, depth + 1);
        }
    }
}

/* Names a blockdev-add defines (collect_defs order). */
static void defined_names(json_t *step, const char **out, size_t *n, size_t max)
{
    MutDefs d;
    mut_step_defs(step, &d);
    *n = 0;
    for (size_t i = 0; i < d.n && *n < max; i++) {
        const char *name = json_string_value(json_object_get(d.v[i], "node-name"));
        if (name)
            out[(*n)++] = name;
    }
}

/* A name for a node of the other stream that clashes with a live one. */
static char *fresh_for(const MutState *st, const char *base)
{
    for (unsigned i = 1;; i++) {
        char *s = bg_asprintf("%s-x%u", base, i);
        if (!mut_state_node(st, s))
            return s;
        free(s);
    }
}

/* Fit line OBJ (owned) of the other stream into ST: renames, live references.  NULL: drop it. */
static json_t *adapt_line(json_t *obj, MutState *st, Renames *m, MutRand *r)
{
    rename_values(obj, m, 0);
    const char *name = mut_state_step_name(obj);
    if (name && strcmp(name, "blockdev-add") == 0) {
        const char *defs[32];
        size_t n;
        defined_names(obj, defs, &n, N(defs));
        Renames local = {0};
        for (size_t i = 0; i < n; i++)
            if (mut_state_node(st, defs[i]) && mut_rand_chance(r, 75)) {
                char *to = fresh_for(st, defs[i]);
                renames_add(&local, defs[i], to);
                renames_add(m, defs[i], to);
                free(to);
            }
        /* rename only the definitions: references in this step stay as they are */
        MutDefs d;
        mut_step_defs(obj, &d);
        for (size_t i = 0; i < d.n; i++) {
            const char *nn = json_string_value(json_object_get(d.v[i], "node-name"));
            const char *to = nn ? renamed(&local, nn) : NULL;
            if (to)
                json_object_set_new(d.v[i], "node-name", json_string(to));
        }
        renames_free(&local);
    }
    for (int tries = 0; tries < 8; tries++) {
        char *d = mut_state_dangling(st, obj);
        if (!d)
            return obj;
        /* map the first dead name onto a live node, for this and the later lines */
        char dead[256];
        const char *end = strchr(d + 1, '\n');
        size_t n = (size_t)(end - d - 1);
        if (!st->n_nodes || n >= sizeof(dead)) {
            free(d);
            break;
        }
        memcpy(dead, d + 1, n);
        dead[n] = '\0';
        free(d);
        const MutNode *to = &st->nodes[mut_rand_below(r, st->n_nodes)];
        Renames one = {0};
        renames_add(&one, dead, to->name);
        renames_add(m, dead, to->name);
        rename_values(obj, &one, 0);
        renames_free(&one);
    }
    json_decref(obj);
    return NULL;
}

static bool is_vm_chunk_step(const json_t *obj)
{
    const char *n = mut_state_step_name(obj);
    return n && mut_state_is_vm_step(obj) && strcmp(n, "launch") != 0;
}

static bool crossover_once(const MutLines *a, const MutLines *b, MutRand *r, MutLines *out,
                           size_t *edit_at)
{
    mut_lines_clone(out, a);
    while (mut_lines_steps(out) > BG_MUT_MAX_STEPS)
        mut_lines_remove(out, out->n - 1);
    MutRegions ra, rb;
    mut_lines_regions(out, &ra);
    mut_lines_regions(b, &rb);
    /* the run of B's VM steps to take */
    size_t lo = rb.first_vm, hi = b->n;
    if (lo >= hi)
        return false;
    size_t j = lo + mut_rand_below(r, hi - lo);
    size_t len = 1 + mut_rand_below(r, 8);
    bool splice = mut_rand_chance(r, 40);   /* replace A's tail instead of inserting */
    size_t at = ra.vm_start + mut_rand_below(r, ra.vm_end - ra.vm_start + 1);
    if (splice) {
        while (out->n > at)
            mut_lines_remove(out, out->n - 1);
        len = 16;
    }
    *edit_at = at;
    /* B's images that A lacks (and B's offline writes into them), before A's VM part */
    MutState sa;
    mut_lines_state_at(out, ra.first_vm, &sa);
    const char *added_files[16];
    size_t added = 0, n_files = 0;
    for (size_t i = 0; i < rb.first_vm; i++) {
        const json_t *o = b->v[i].obj;
        const char *n = mut_state_step_name(o);
        bool create = n && strcmp(n, "img-create") == 0;
        if (!n || (!create && strcmp(n, "io") != 0))
            continue;
        const char *file = json_string_value(json_object_get(json_object_get(o, n), "file"));
        bool ours = false;
        for (size_t k = 0; k < n_files; k++)
            ours |= strcmp(added_files[k], file) == 0;
        if (!file || (create && mut_state_image(&sa, file)) || (!create && !ours) ||
            (create && n_files == 16))
            continue;
        if (create)
            added_files[n_files++] = file;
        json_t *c = mut_copy_without_meta(o);
        mut_state_apply(&sa, c);
        mut_lines_insert(out, ra.first_vm + added++, c, -1);
    }
    mut_state_cleanup(&sa);
    if (added) {
        *edit_at = ra.first_vm;
        at += added;
    }
    MutState st;
    mut_lines_state_at(out, at, &st);
    Renames m = {0};
    size_t taken = 0;
    for (size_t i = j; i < b->n && taken < len; i++) {
        const json_t *o = b->v[i].obj;
        if (!is_vm_chunk_step(o) || (!splice && json_object_get(o, "shutdown")))
            continue;
        if (mut_lines_steps(out) >= BG_MUT_MAX_STEPS)
            break;
        json_t *c = mut_copy_without_meta(o);
        char *text = json_dumps(c, 0);
        bool vars = text && strstr(text, "${");
        free(text);
        if (vars) {
            json_decref(c);
            continue;
        }
        c = adapt_line(c, &st, &m, r);
        if (!c)
            continue;
        mut_state_apply(&st, c);
        mut_lines_insert(out, at + taken++, c, -1);
    }
    mut_state_cleanup(&st);
    renames_free(&m);
    return taken > 0;
}

size_t bg_crossover_ex(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                       size_t max_out, unsigned int seed, BgMutInfo *info)
{
    BgMutInfo local;
    if (!info)
        info = &local;
    *info = (BgMutInfo){ .kind = BG_MUT_CROSSOVER };
    MutRand r = mut_rand_seed((uint64_t)seed ^ 0x63726f73736f7672ull);
    MutLines a, b;
    mut_lines_read(&a, d1, s1);
    mut_lines_read(&b, d2, s2);
    info->dropped = a.dropped + b.dropped;
    size_t result = 0;
    bool done = false;
    for (unsigned t = 0; t < BG_MUT_ATTEMPTS && !done && mut_lines_steps(&a) &&
                         mut_lines_steps(&b); t++) {
        MutLines ls;
        size_t at = 0;
        info->attempts = t + 1;
        if (crossover_once(&a, &b, &r, &ls, &at)) {
            mut_lines_strip_expect(&ls, at);
            BgBuf buf = {0};
            if (mut_finish(&ls, &a, max_out, &buf) && mut_lines_steps(&ls) &&
                !mut_same_bytes(&buf, d1, s1)) {
                result = mut_emit(&buf, out, max_out);
                done = result > 0;
            }
            bg_buf_cleanup(&buf);
        }
        mut_lines_cleanup(&ls);
    }
    mut_lines_cleanup(&a);
    mut_lines_cleanup(&b);
    if (done)
        return result;
    /* no usable splice: a mutation of D1 instead */
    size_t n = s1 <= max_out ? s1 : 0;
    if (n)
        memcpy(out, d1, n);
    return bg_mutate_ex(out, n, max_out, seed, info);
}

size_t bg_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                    size_t max_out, unsigned int seed)
{
    return bg_crossover_ex(d1, s1, d2, s2, out, max_out, seed, NULL);
}
