/*
 * filename.c: node file names (see filename.h).
 *
 * Mirrors QEMU 7.2 block.c bdrv_refresh_filename(),
 * append_strong_runtime_options() and strong_options() (driver, filename,
 * then the driver's strong_runtime_opts), bdrv_backing_overridden(),
 * bdrv_dirname() and util/cutils.c path_combine().
 */
#include "filename.h"

#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "messages.h"
#include "nodedrv.h"
#include "qdict.h"

/* strong_options() + append_strong_runtime_options(): true if a strong option
 * other than driver and filename was given. */
static bool append_strong(json_t *d, RealNode *n)
{
    bool found_any = false;
    static const char *const global[] = { "driver", "filename" };
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(n->options, global[i]);
        if (v)
            json_object_set(d, global[i], v);
    }
    size_t pos = 0;
    const char *name;
    bool prefix;
    while (real_nodedrv_strong_next(n->drv, &pos, &name, &prefix)) {
        bool given = false;
        if (!prefix) {
            json_t *v = json_object_get(n->options, name);
            if (!v)
                continue;
            json_object_set(d, name, v);
            given = true;
        } else {
            size_t cnt, len = strlen(name);
            const char **keys = qdict_order(n->options, &cnt);
            for (size_t k = 0; k < cnt; k++) {
                if (!strncmp(keys[k], name, len) && keys[k][len] == '.') {
                    json_object_set(d, keys[k], json_object_get(n->options, keys[k]));
                    given = true;
                }
            }
            free(keys);
        }
        if (given)
            found_any = true;
    }
    if (!json_object_get(d, "driver"))
        json_object_set_new(d, "driver", json_string(n->drv->format_name));
    return found_any;
}

static bool backing_overridden(RealNode *n)
{
    if (n->backing)
        return strcmp(n->auto_backing_file, n->backing->child->filename) != 0;
    return n->auto_backing_file[0] != '\0';
}

static void set_str(char **dst, const char *src)
{
    char *s = bg_strdup(src);
    free(*dst);
    *dst = s;
}

void real_node_refresh_filename(RealNode *n)
{
    if (!n->drv)
        return;
    for (RealEdge *c = n->children; c; c = c->next_child)
        real_node_refresh_filename(c->child);

    if (n->implicit && n->children && !n->children->next_child) {
        RealNode *child = n->children->child;
        set_str(&n->exact_filename, child->exact_filename);
        set_str(&n->filename, child->filename);
        json_decref(n->full_open_options);
        n->full_open_options = json_incref(child->full_open_options);
        return;
    }

    bool overridden = backing_overridden(n);
    if (n->open_flags & REAL_O_NO_IO)
        overridden = false;

    json_t *opts = json_object();
    bool generate_json = append_strong(opts, n);
    generate_json |= overridden;
    if (n->drv->gather_child_options) {
        n->drv->gather_child_options(n, opts, overridden);
    } else {
        for (RealEdge *c = n->children; c; c = c->next_child) {
            if (c == n->backing && !overridden)
                continue;
            json_object_set(opts, c->name,
                            c->child->full_open_options ? c->child->full_open_options
                                                        : json_null());
        }
        if (overridden && !n->backing)
            json_object_set_new(opts, "backing", json_null());
    }
    json_decref(n->full_open_options);
    n->full_open_options = opts;

    RealEdge *primary = real_node_primary_child(n);
    if (n->drv->refresh_filename) {
        set_str(&n->exact_filename, "");
        n->drv->refresh_filename(n);
    } else if (primary) {
        RealNode *p = primary->child;
        set_str(&n->exact_filename, "");
        if (p->exact_filename[0] && p->drv && p->drv->protocol && !n->drv->is_filter &&
            !generate_json)
            set_str(&n->exact_filename, p->exact_filename);
    }

    if (n->exact_filename[0]) {
        set_str(&n->filename, n->exact_filename);
    } else {
        BgBuf b = { 0 };
        bg_buf_puts(&b, "json:");
        qdict_to_json(&b, n->full_open_options);
        char *s = bg_buf_take(&b);
        if (strlen(s) >= 4096)
            strcpy(s + 4096 - 4, "...");
        free(n->filename);
        n->filename = s;
    }
}

/* util/cutils.c path_combine(BASE, "") : BASE's directory with a trailing '/'. */
static char *path_dir(const char *base)
{
    const char *p = strrchr(base, '/');
    if (!p)
        return bg_strdup("");
    return bg_strndup(base, (size_t)(p - base + 1));
}

char *real_filename_dirname(RealNode *n, BgError *err)
{
    if (!n->drv) {
        bg_error_setf(err, BG_MSG_DIRNAME_EJECTED, n->node_name);
        return NULL;
    }
    if (!strcmp(n->drv->format_name, "blkverify") || !strcmp(n->drv->format_name, "quorum")) {
        bg_error_setf(err, BG_MSG_DIRNAME_NO_BASE,
                      n->drv->format_name);
        return NULL;
    }
    RealEdge *primary = real_node_primary_child(n);
    if (primary)
        return real_filename_dirname(primary->child, err);
    real_node_refresh_filename(n);
    if (n->exact_filename[0])
        return path_dir(n->exact_filename);
    bg_error_setf(err, BG_MSG_DIRNAME_NO_BASE, n->drv->format_name);
    return NULL;
}

bool real_filename_has_protocol(const char *path)
{
    return path[strcspn(path, ":/")] == ':';
}

char *real_filename_make_absolute(RealNode *n, const char *name, BgError *err)
{
    if (!name || !name[0])
        return NULL;
    if (real_filename_has_protocol(name) || name[0] == '/')
        return bg_strdup(name);
    char *dir = real_filename_dirname(n, err);
    if (!dir)
        return NULL;
    char *full = bg_asprintf("%s%s", dir, name);
    free(dir);
    return full;
}
