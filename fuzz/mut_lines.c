/*
 * mut_lines.c: a stream as the mutator edits it (mut_lines.h).
 *
 * Line splitting follows common/stream.c bg_stream_parse() (LF, optional CR,
 * blank and '#' lines skipped) so that line numbers in its messages name
 * the entries here: every entry is written as exactly one line.
 */
#include "mut_lines.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "stream.h"

/* ---- lifetime ----------------------------------------------------------------------------- */

static void line_cleanup(MutLine *l)
{
    json_decref(l->obj);
    free(l->raw);
    free(l->text);
    *l = (MutLine){0};
}

void mut_lines_cleanup(MutLines *ls)
{
    for (size_t i = 0; i < ls->n; i++)
        line_cleanup(&ls->v[i]);
    free(ls->v);
    if (ls->dangling) {
        for (size_t i = 0; i < ls->n; i++)
            free(ls->dangling[i]);
        free(ls->dangling);
    }
    *ls = (MutLines){0};
}

static void push_line(MutLines *ls, MutLine l)
{
    ls->v = bg_realloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
    ls->v[ls->n++] = l;
}

void mut_lines_clone(MutLines *dst, const MutLines *src)
{
    *dst = (MutLines){0};
    dst->v = bg_malloc((src->n ? src->n : 1) * sizeof(*dst->v));
    for (size_t i = 0; i < src->n; i++) {
        const MutLine *s = &src->v[i];
        dst->v[i] = (MutLine){ .obj = json_incref(s->obj), .origin = s->origin,
                               .raw = s->raw ? bg_strdup(s->raw) : NULL,
                               .text = s->text ? bg_strdup(s->text) : NULL,
                               .checked = s->checked };
    }
    dst->n = src->n;
}

/* ---- reading ------------------------------------------------------------------------------ */

/* One non-blank, non-'#' line: the object when it is a valid step, else NULL. */
static json_t *read_step(const char *text, size_t n, int line)
{
    if (memchr(text, '\0', n))
        return NULL;
    json_error_t jerr;
    json_t *obj = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj) || bg_json_depth(obj) > BG_MAX_JSON_DEPTH) {
        json_decref(obj);
        return NULL;
    }
    BgStep step;
    BgError err = {0};
    bool ok = bg_step_from_json(obj, line, &step, &err);
    bg_step_cleanup(&step);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

void mut_lines_read(MutLines *ls, const uint8_t *data, size_t size)
{
    *ls = (MutLines){0};
    const char *p = (const char *)data;
    size_t pos = 0;
    int line = 0;
    while (data && pos < size && ls->n < MUT_LINES_MAX_READ) {
        line++;
        const char *start = p + pos;
        const char *nl = memchr(start, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - start) : size - pos;
        pos += n + (nl ? 1 : 0);
        if (n && start[n - 1] == '\r')
            n--;
        size_t i = 0;
        while (i < n && (start[i] == ' ' || start[i] == '\t'))
            i++;
        if (i == n)
            continue;
        if (start[i] == '#') {
            if (n <= 1024 && !memchr(start, '\0', n))
                push_line(ls, (MutLine){ .raw = bg_strndup(start, n), .origin = -1 });
            else
                ls->dropped++;
            continue;
        }
        json_t *obj = n <= BG_MAX_LINE_BYTES ? read_step(start, n, line) : NULL;
        if (!obj) {
            ls->dropped++;
            continue;
        }
        push_line(ls, (MutLine){ .obj = obj, .origin = (long)ls->n,
                                 .text = bg_strndup(start, n), .checked = true });
    }
}

/* What each input line names that is not alive (a seed's 'not-found' is on purpose). */
static void note_dangling(MutLines *in)
{
    if (in->dangling)
        return;
    in->dangling = bg_calloc(in->n ? in->n : 1, sizeof(*in->dangling));
    MutState st;
    mut_state_init(&st);
    for (size_t i = 0; i < in->n; i++) {
        if (!in->v[i].obj)
            continue;
        in->dangling[i] = mut_state_dangling(&st, in->v[i].obj);
        mut_state_apply(&st, in->v[i].obj);
    }
    mut_state_cleanup(&st);
}

/* ---- editing ------------------------------------------------------------------------------ */

json_t *mut_lines_edit(MutLines *ls, size_t i)
{
    MutLine *l = &ls->v[i];
    if (!l->obj)
        return NULL;
    if (l->obj->refcount > 1) {   /* shared with the input (jansson's public refcount) */
        json_t *copy = json_deep_copy(l->obj);
        json_decref(l->obj);
        l->obj = copy;
    }
    free(l->text);
    l->text = NULL;
    l->checked = false;
    return l->obj;
}

void mut_lines_insert(MutLines *ls, size_t at, json_t *obj, long origin)
{
    if (at > ls->n)
        at = ls->n;
    ls->v = bg_realloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
    memmove(ls->v + at + 1, ls->v + at, (ls->n - at) * sizeof(*ls->v));
    ls->v[at] = (MutLine){ .obj = obj, .origin = origin };
    ls->n++;
}

void mut_lines_remove(MutLines *ls, size_t i)
{
    if (i >= ls->n)
        return;
    line_cleanup(&ls->v[i]);
    memmove(ls->v + i, ls->v + i + 1, (ls->n - i - 1) * sizeof(*ls->v));
    ls->n--;
}

size_t mut_lines_steps(const MutLines *ls)
{
    size_t n = 0;
    for (size_t i = 0; i < ls->n; i++)
        n += mut_state_step_name(ls->v[i].obj) != NULL;
    return n;
}

void mut_lines_state_at(const MutLines *ls, size_t p, MutState *st)
{
    mut_state_init(st);
    for (size_t i = 0; i < p && i < ls->n; i++)
        if (ls->v[i].obj)
            mut_state_apply(st, ls->v[i].obj);
}

void mut_lines_regions(const MutLines *ls, MutRegions *rg)
{
    *rg = (MutRegions){ ls->n, ls->n, ls->n };
    for (size_t i = 0; i < ls->n; i++) {
        const json_t *o = ls->v[i].obj;
        if (!mut_state_is_vm_step(o))
            continue;
        if (rg->first_vm == ls->n) {
            rg->first_vm = i;
            rg->vm_start = json_object_get(o, "launch") ? i + 1 : i;
        }
        if (json_object_get(o, "shutdown")) {
            rg->vm_end = i;
            break;
        }
    }
    if (rg->vm_start > rg->vm_end)
        rg->vm_start = rg->vm_end;
}

void mut_lines_strip_expect(MutLines *ls, size_t from)
{
    for (size_t i = from; i < ls->n; i++)
        if (ls->v[i].obj && json_object_get(ls->v[i].obj, "expect")) {
            bool checked = ls->v[i].checked;   /* a valid step stays valid without it */
            json_object_del(mut_lines_edit(ls, i), "expect");
            ls->v[i].checked = checked;
        }
}

/* ---- writing and checking ----------------------------------------------------------------- */

static const char *line_text(MutLine *l)
{
    if (!l->text)
        l->text = l->obj ? json_dumps(l->obj, 0) : bg_strdup(l->raw ? l->raw : "#");
    if (!l->text)   /* jansson out of memory */
        abort();
    return l->text;
}

void mut_lines_write(MutLines *ls, BgBuf *out)
{
    for (size_t i = 0; i < ls->n; i++) {
        bg_buf_puts(out, line_text(&ls->v[i]));
        bg_buf_puts(out, "\n");
    }
}

static size_t written_size(MutLines *ls)
{
    size_t n = 0;
    for (size_t i = 0; i < ls->n; i++)
        n += strlen(line_text(&ls->v[i])) + 1;
    return n;
}

/* Every name in D ("\nA\nB\n") is in ALLOWED (same form). */
static bool names_within(const char *d, const char *allowed)
{
    if (!d)
        return true;
    if (!allowed)
        return false;
    for (const char *p = d + 1; *p;) {
        const char *end = strchr(p, '\n');
        size_t n = (size_t)(end - p);
        bool found = false;
        for (const char *a = strstr(allowed, "\n"); a && !found; a = strchr(a + 1, '\n'))
            found = strncmp(a + 1, p, n) == 0 && a[1 + n] == '\n';
        if (!found)
            return false;
        p = end + 1;
    }
    return true;
}

static bool refs_ok(const MutLines *ls, MutLines *in)
{
    MutState st;
    mut_state_init(&st);
    bool ok = true;
    for (size_t i = 0; ok && i < ls->n; i++) {
        const MutLine *l = &ls->v[i];
        if (!l->obj)
            continue;
        char *d = mut_state_dangling(&st, l->obj);
        if (d) {
            const char *allowed = NULL;
            if (in && l->origin >= 0 && (size_t)l->origin < in->n) {
                note_dangling(in);   /* only now: most outputs name nothing dead */
                allowed = in->dangling[l->origin];
            }
            ok = names_within(d, allowed);
        }
        free(d);
        mut_state_apply(&st, l->obj);
    }
    mut_state_cleanup(&st);
    return ok;
}

/* ---- the reader's rules (common/stream.c parse_line()) ------------------------------------ */

typedef struct Names {
    const char *v[BG_MAX_VARS + 64];
    size_t len[BG_MAX_VARS + 64];
    size_t n;
} Names;

static bool names_has(const Names *ns, const char *s, size_t len)
{
    for (size_t i = 0; i < ns->n; i++)
        if (ns->len[i] == len && strncmp(ns->v[i], s, len) == 0)
            return true;
    return false;
}

static bool names_add(Names *ns, const char *s)
{
    if (ns->n >= sizeof(ns->v) / sizeof(ns->v[0]))
        return false;
    ns->v[ns->n] = s;
    ns->len[ns->n++] = strlen(s);
    return true;
}

/* Every ${VAR} in the strings of V is bound (check_var_refs()). */
static bool vars_bound(const json_t *v, const Names *vars, int depth)
{
    if (depth > BG_MAX_JSON_DEPTH + 2)
        return true;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (const char *p = strstr(s, "${"); p; p = strstr(p + 2, "${")) {
            const char *end = strchr(p, '}');
            if (end && !names_has(vars, p + 2, (size_t)(end - p - 2)))
                return false;
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
            if (!vars_bound(c, vars, depth + 1))
                return false;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            if (!vars_bound(c, vars, depth + 1))
                return false;
    }
    return true;
}

/* The index of the first line that breaks a rule, or LS->n. */
static size_t first_bad_line(MutLines *ls)
{
    Names vars = { .n = 0 }, labels = { .n = 0 };
    size_t steps = 0, adds = 0;
    for (size_t i = 0; i < ls->n; i++) {
        MutLine *l = &ls->v[i];
        if (!l->obj)
            continue;
        if (strlen(line_text(l)) > BG_MAX_LINE_BYTES)
            return i;
        if (!l->checked) {
            BgStep step;
            BgError err = {0};
            bool ok = bg_json_depth(l->obj) <= BG_MAX_JSON_DEPTH &&
                      bg_step_from_json(l->obj, (int)i + 1, &step, &err);
            bg_step_cleanup(&step);
            if (!ok)
                return i;
            l->checked = true;
        }
        const char *name = mut_state_step_name(l->obj);
        if (!name)
            continue;   /* comment-only: not a step */
        const char *key = json_object_get(l->obj, "execute") ? "execute" : name;
        if (!vars_bound(json_object_get(l->obj, key), &vars, 0) ||
            !vars_bound(json_object_get(l->obj, "arguments"), &vars, 0))
            return i;
        const char *same = json_string_value(json_object_get(json_object_get(l->obj, "expect"),
                                                             "same-as"));
        if (same && !names_has(&labels, same, strlen(same)))
            return i;
        if (++steps > BG_MAX_STEPS)
            return i;
        if (strcmp(name, "blockdev-add") == 0 && ++adds > BG_MAX_NODES)
            return i;
        const char *save = json_string_value(json_object_get(l->obj, "save"));
        if (save && !names_add(&labels, save))
            return i;
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(l->obj, "bind"), k, v)
            if (!names_has(&vars, k, strlen(k)) && (vars.n >= BG_MAX_VARS || !names_add(&vars, k)))
                return i;
    }
    return ls->n;
}

bool mut_lines_finish(MutLines *ls, MutLines *in, size_t max_size, BgBuf *out)
{
    while (ls->n && written_size(ls) > max_size)
        mut_lines_remove(ls, ls->n - 1);
    for (int repair = 0; repair < 4; repair++) {
        size_t bad = first_bad_line(ls);
        if (bad == ls->n) {
            if (!refs_ok(ls, in))
                return false;
            bg_buf_cleanup(out);
            mut_lines_write(ls, out);
            return true;
        }
        mut_lines_remove(ls, bad);   /* e.g. a ${VAR} whose binder went */
        mut_lines_strip_expect(ls, bad);   /* what follows may now answer differently */
    }
    return false;
}
