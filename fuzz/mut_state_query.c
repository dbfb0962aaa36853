/*
 * mut_state_query.c: the questions the mutator asks of a MutState and of a
 * stream line (mut_state.h): lookups of images, nodes, jobs and groups,
 * which step a line is, which of a definition's members are the node's own
 * options, and the node names a step refers to (and which of them are not
 * alive).
 *
 * What it is not: it never changes a state; reading lines into one is
 * mut_state.c.
 */
#include "mut_state.h"

#include <string.h>

#include "bg.h"
#include "mut_state_int.h"

/* ---- lookups ------------------------------------------------------------------------------ */

const char *mut_state_image_name(const char *filename)
{
    if (!filename)
        return NULL;
    if (strncmp(filename, "$DIR/", 5) == 0)
        filename += 5;
    while (filename[0] == '.' && filename[1] == '/')
        filename += 2;
    return filename;
}

MutNode *mut_state_node(const MutState *st, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < st->n_nodes; i++)
        if (strcmp(st->nodes[i].name, name) == 0)
            return &st->nodes[i];
    return NULL;
}

const MutImage *mut_state_image(const MutState *st, const char *file)
{
    file = mut_state_image_name(file);
    if (!file)
        return NULL;
    for (size_t i = 0; i < st->n_images; i++)
        if (strcmp(st->images[i].file, file) == 0)
            return &st->images[i];
    return NULL;
}

MutJob *mut_state_job(const MutState *st, const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < st->n_jobs; i++)
        if (strcmp(st->jobs[i].id, id) == 0)
            return &st->jobs[i];
    return NULL;
}

bool mut_state_has_group(const MutState *st, const char *id)
{
    return id && mut_state_strv_has(st->groups, st->n_groups, id);
}

bool mut_state_group_used(const MutState *st, const char *id)
{
    for (size_t i = 0; i < st->n_nodes; i++) {
        const char *g = json_string_value(json_object_get(st->nodes[i].def, "throttle-group"));
        if (g && strcmp(g, id) == 0)
            return true;
    }
    return false;
}

MutNode *mut_state_parent(const MutState *st, const char *child, const char **role)
{
    for (size_t i = 0; i < st->n_nodes; i++) {
        MutNode *n = &st->nodes[i];
        if (n->file && strcmp(n->file, child) == 0) {
            if (role)
                *role = "file";
            return n;
        }
        if (n->backing && strcmp(n->backing, child) == 0) {
            if (role)
                *role = "backing";
            return n;
        }
    }
    return NULL;
}

const char *mut_state_step_name(const json_t *line)
{
    static const char *const keys[] = { "img-create", "io", "qemu-img", "launch", "wait-event",
                                        "wait-job", "run-job", "shutdown", NULL };
    if (!json_is_object(line))
        return NULL;
    const char *ex = json_string_value(json_object_get(line, "execute"));
    if (ex)
        return ex;
    for (const char *const *k = keys; *k; k++)
        if (json_object_get(line, *k))
            return *k;
    return NULL;
}

bool mut_state_is_vm_step(const json_t *line)
{
    const char *n = mut_state_step_name(line);
    return n && strcmp(n, "img-create") != 0 && strcmp(n, "io") != 0 && strcmp(n, "qemu-img") != 0;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

bool mut_state_own_option(const char *key)
{
    return strcmp(key, "node-name") != 0 && strcmp(key, "driver") != 0 &&
           strcmp(key, "children") != 0 && !in_list(mut_state_child_keys, key);
}

/* ---- references --------------------------------------------------------------------------- */

static void refs_tree(const json_t *obj, bool reopen, MutRefFn fn, void *opaque, int depth)
{
    if (!json_is_object(obj) || depth > 32)
        return;
    const char *name = json_string_value(json_object_get(obj, "node-name"));
    if (reopen && name)
        fn(name, opaque);   /* a reopen restates existing nodes */
    for (const char *const *k = mut_state_child_keys; *k; k++) {
        const json_t *c = json_object_get(obj, *k);
        if (json_is_string(c))
            fn(json_string_value(c), opaque);
        else
            refs_tree(c, reopen, fn, opaque, depth + 1);
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(obj, "children"), i, c) {
        if (json_is_string(c))
            fn(json_string_value(c), opaque);
        else
            refs_tree(c, reopen, fn, opaque, depth + 1);
    }
    const char *bottom = json_string_value(json_object_get(obj, "bottom"));
    if (bottom)
        fn(bottom, opaque);
}

static void ref_member(const json_t *args, const char *key, MutRefFn fn, void *opaque)
{
    const char *s = json_string_value(json_object_get(args, key));
    if (s)
        fn(s, opaque);
}

void mut_state_refs(const json_t *line, MutRefFn fn, void *opaque)
{
    const char *cmd = json_string_value(json_object_get(line, "execute"));
    const json_t *args = json_object_get(line, "arguments");
    if (!cmd || !json_is_object(args))
        return;
    if (strcmp(cmd, "blockdev-add") == 0) {
        refs_tree(args, false, fn, opaque, 0);
    } else if (strcmp(cmd, "x-blockdev-reopen") == 0) {
        refs_tree(args, true, fn, opaque, 0);
    } else if (strcmp(cmd, "blockdev-reopen") == 0) {
        size_t i;
        const json_t *e;
        json_array_foreach(json_object_get(args, "options"), i, e)
            refs_tree(e, true, fn, opaque, 0);
    } else if (strcmp(cmd, "blockdev-del") == 0) {
        ref_member(args, "node-name", fn, opaque);
    } else if (strcmp(cmd, "block-stream") == 0) {
        ref_member(args, "device", fn, opaque);
        ref_member(args, "base-node", fn, opaque);
        ref_member(args, "bottom", fn, opaque);
    } else if (strcmp(cmd, "block-commit") == 0) {
        ref_member(args, "device", fn, opaque);
        ref_member(args, "top-node", fn, opaque);
        ref_member(args, "base-node", fn, opaque);
    } else if (strcmp(cmd, "device_add") == 0) {
        ref_member(args, "drive", fn, opaque);
    } else if (strcmp(cmd, "human-monitor-command") == 0) {
        const char *cl = json_string_value(json_object_get(args, "command-line"));
        char node[256];
        if (cl && sscanf(cl, "qemu-io %255s", node) == 1)
            fn(node, opaque);
    }
}

typedef struct DanglingCtx {
    const MutState *st;
    BgBuf out;
} DanglingCtx;

static void note_dangling(const char *name, void *opaque)
{
    DanglingCtx *c = opaque;
    if (name[0] == '#' || strstr(name, "${") || mut_state_node(c->st, name))
        return;
    if (!c->out.len)
        bg_buf_puts(&c->out, "\n");
    bg_buf_puts(&c->out, name);
    bg_buf_puts(&c->out, "\n");
}

char *mut_state_dangling(const MutState *st, const json_t *line)
{
    DanglingCtx c = { .st = st };
    mut_state_refs(line, note_dangling, &c);
    if (!c.out.len)
        return NULL;
    return bg_buf_take(&c.out);
}
