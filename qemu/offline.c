/*
 * offline.c: img-create, io and qemu-img steps through qemu-img and qemu-io.
 *
 * What this is: the command lines of streams.md's offline steps, built the
 * way tests/qemu-iotests/245 setUp() builds them (qemu_img('create', '-f',
 * iotests.imgfmt, hd_path[0], '3M'), qemu_io('-f', fmt, '-c', cmd, path)),
 * run in the scratch directory with stdin /dev/null and both outputs kept.
 * What it is not: validation of the step (the stream reader and the runner's
 * policy did that), or anything in the VM.
 */
#include "offline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "proc.h"

/* A growable argv of owned strings. */
typedef struct Argv {
    char **v;
    size_t n, cap;
} Argv;

static void argv_add(Argv *a, const char *s)
{
    if (a->n + 2 > a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = bg_realloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = bg_strdup(s);
    a->v[a->n] = NULL;
}

static void argv_cleanup(Argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    *a = (Argv){ 0 };
}

/* A JSON scalar as a command-line word (owned), or NULL for other values. */
static char *word(json_t *v)
{
    if (json_is_string(v))
        return bg_strdup(json_string_value(v));
    if (json_is_integer(v))
        return bg_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > -9e18 && d < 9e18 && d == (double)(long long)d)
            return bg_asprintf("%lld", (long long)d);
        return bg_asprintf("%.17g", d);
    }
    return NULL;
}

static bool add_word(Argv *a, json_t *v, const char *what, const OfflineTools *t, BgError *err)
{
    char *w = word(v);
    if (!w)
        return bg_error_setf(err, "line %d: %s must be a string or a number", t->line, what);
    argv_add(a, w);
    free(w);
    return true;
}

static bool add_key(Argv *a, json_t *spec, const char *key, const char *flag,
                    const OfflineTools *t, BgError *err)
{
    json_t *v = json_object_get(spec, key);
    if (!v || json_is_null(v))
        return true;
    if (flag)
        argv_add(a, flag);
    return add_word(a, v, key, t, err);
}

/* Run argv in t->cwd and fill res; the tool's name is argv[0]'s basename. */
static bool run(const OfflineTools *t, Argv *a, bool io_out, BgResult *res, BgError *err)
{
    const char *name = strrchr(a->v[0], '/') ? strrchr(a->v[0], '/') + 1 : a->v[0];
    ProcSpawnOpts opts = { .cwd = t->cwd, .pass_fd = -1 };
    Proc *p = proc_spawn((const char *const *)a->v, &opts, err);
    if (!p)
        return false;
    if (!proc_wait(p, proc_deadline_s(BG_STEP_TIMEOUT_S))) {
        proc_free(p);   /* kills it */
        return bg_error_setf(err, "%s did not finish within %d s (killed)", name,
                             BG_STEP_TIMEOUT_S);
    }
    res->kind = BG_RES_OFFLINE;
    res->rc = proc_exit_code(p);
    free(res->out);
    free(res->err_text);
    res->out = bg_buf_take(&p->out);
    res->err_text = bg_buf_take(&p->err);
    if (io_out && res->out[0]) {
        free(res->io_out);
        res->io_out = bg_strdup(res->out);
    }
    proc_free(p);
    return true;
}

bool offline_img_create(const OfflineTools *t, json_t *spec, BgResult *res, BgError *err)
{
    if (!json_is_object(spec) || !json_is_string(json_object_get(spec, "file")))
        return bg_error_setf(err, "line %d: img-create needs an object with a \"file\"", t->line);
    Argv a = { 0 };
    argv_add(&a, t->qemu_img);
    argv_add(&a, "create");
    bool ok = add_key(&a, spec, "fmt", "-f", t, err) &&
              add_key(&a, spec, "backing", "-b", t, err) &&
              add_key(&a, spec, "backing-fmt", "-F", t, err) &&
              add_key(&a, spec, "file", NULL, t, err) &&
              add_key(&a, spec, "size", NULL, t, err) &&
              run(t, &a, false, res, err);
    argv_cleanup(&a);
    return ok;
}

bool offline_io(const OfflineTools *t, json_t *spec, BgResult *res, BgError *err)
{
    if (!json_is_object(spec) || !json_is_string(json_object_get(spec, "file")))
        return bg_error_setf(err, "line %d: io needs an object with a \"file\"", t->line);
    json_t *cmd = json_object_get(spec, "cmd");
    Argv a = { 0 };
    argv_add(&a, t->qemu_io);
    bool ok = add_key(&a, spec, "fmt", "-f", t, err);
    if (json_is_array(cmd)) {
        size_t i;
        json_t *c;
        json_array_foreach(cmd, i, c) {
            if (!ok)
                break;
            argv_add(&a, "-c");
            ok = add_word(&a, c, "cmd", t, err);
        }
    } else if (ok && cmd) {
        argv_add(&a, "-c");
        ok = add_word(&a, cmd, "cmd", t, err);
    }
    ok = ok && add_key(&a, spec, "file", NULL, t, err) && run(t, &a, true, res, err);
    argv_cleanup(&a);
    return ok;
}

bool offline_qemu_img(const OfflineTools *t, json_t *args, BgResult *res, BgError *err)
{
    if (!json_is_array(args))
        return bg_error_setf(err, "line %d: qemu-img needs an array of arguments", t->line);
    Argv a = { 0 };
    argv_add(&a, t->qemu_img);
    bool ok = true;
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) {
        ok = add_word(&a, v, "a qemu-img argument", t, err);
        if (!ok)
            break;
    }
    ok = ok && run(t, &a, false, res, err);
    argv_cleanup(&a);
    return ok;
}
