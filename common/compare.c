/*
 * compare.c: comparing two backends' answers to a step (compare.h): the
 * result, qemu-io output and events in comparison form (norm.h).  The
 * guest-visible bytes are compare_data.c's.
 *
 * Speed (the fuzzer compares every step of every input):
 *   - two results are compared from their parts (views_equal()), each
 *     value in one walk of both (bg_norm_json_equal(), no copy); the
 *     comparison views, which show where they differ, are built only when
 *     the parts are not equal, and so are the events' comparison forms;
 *   - guest data: compare_data.c.
 */
#include "compare.h"

#include <string.h>

#include "bg.h"
#include "norm.h"

char *bg_compare_first_diff(const json_t *a, const json_t *b, const char *prefix)
{
    if (json_equal((json_t *)a, (json_t *)b))
        return NULL;
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *va;
        json_object_foreach((json_t *)a, k, va) {
            json_t *vb = json_object_get(b, k);
            char *sub = bg_asprintf("%s/%s", prefix, k);
            if (!vb)
                return sub;
            char *d = bg_compare_first_diff(va, vb, sub);
            free(sub);
            if (d)
                return d;
        }
        json_t *vb;
        json_object_foreach((json_t *)b, k, vb)
            if (!json_object_get(a, k))
                return bg_asprintf("%s/%s", prefix, k);
    }
    if (json_is_array(a) && json_is_array(b)) {
        size_t n = json_array_size(a) < json_array_size(b) ? json_array_size(a)
                                                           : json_array_size(b);
        for (size_t i = 0; i < n; i++) {
            char *sub = bg_asprintf("%s/%zu", prefix, i);
            char *d = bg_compare_first_diff(json_array_get(a, i), json_array_get(b, i), sub);
            free(sub);
            if (d)
                return d;
        }
        return bg_asprintf("%s/%zu", prefix, n);
    }
    return bg_strdup(*prefix ? prefix : "/");
}

/* Comparable view of a result (comparison form), or NULL if not comparable. */
static json_t *compare_view(const BgResult *res, const char *scratch)
{
    json_t *v;
    switch (res->kind) {
    case BG_RES_RETURN:
        v = json_pack("{s:O}", "return", res->ret ? res->ret : json_null());
        break;
    case BG_RES_ERROR:
        v = json_pack("{s:{s:s,s:s}}", "error", "class", res->err_class ? res->err_class : "",
                      "desc", res->err_desc ? res->err_desc : "");
        break;
    case BG_RES_OFFLINE:
        v = json_pack("{s:i,s:s,s:s}", "rc", res->rc, "stdout", res->out ? res->out : "",
                      "stderr", res->err_text ? res->err_text : "");
        break;
    default:
        return NULL;
    }
    if (res->io_out)
        json_object_set_new(v, "qemu-io", json_string(res->io_out));
    json_t *n = bg_norm_json(v, scratch);
    json_decref(v);
    return n;
}

/*
 * Would compare_view() of RA and RB show no difference?  True only when
 * sure, without building the views (most steps): then compare_step() need
 * not build them.  False: the views decide.
 */
static bool views_equal(const BgResult *ra, const char *da, const BgResult *rb, const char *db)
{
    if (ra->kind != rb->kind || !ra->io_out != !rb->io_out)
        return false;
    switch (ra->kind) {
    case BG_RES_RETURN:
        if (!bg_norm_json_equal(ra->ret ? ra->ret : json_null(), da,
                                rb->ret ? rb->ret : json_null(), db))
            return false;
        break;
    case BG_RES_ERROR:
        if (!bg_norm_text_equal(ra->err_class ? ra->err_class : "", da,
                                rb->err_class ? rb->err_class : "", db) ||
            !bg_norm_text_equal(ra->err_desc ? ra->err_desc : "", da,
                                rb->err_desc ? rb->err_desc : "", db))
            return false;
        break;
    case BG_RES_OFFLINE:   /* the tools' error texts count too (to the byte, as QEMU's) */
        if (ra->rc != rb->rc ||
            !bg_norm_text_equal(ra->out ? ra->out : "", da, rb->out ? rb->out : "", db) ||
            !bg_norm_text_equal(ra->err_text ? ra->err_text : "", da,
                                rb->err_text ? rb->err_text : "", db))
            return false;
        break;
    default:
        return true;   /* no view: not compared */
    }
    return !ra->io_out || bg_norm_text_equal(ra->io_out, da, rb->io_out, db);
}

bool bg_compare_step(const BgResult *ra, const char *da, const BgResult *rb, const char *db,
                     const json_t *eva, const json_t *evb, char **path_out, char **channel_out)
{
    bool views = !views_equal(ra, da, rb, db);
    json_t *va = views ? compare_view(ra, da) : NULL;
    json_t *vb = views ? compare_view(rb, db) : NULL;
    bool same = true;
    if (va && vb) {
        char *d = bg_compare_first_diff(va, vb, "");
        if (d) {
            same = false;
            *path_out = d;
            *channel_out = bg_strdup(strncmp(d, "/qemu-io", 8) == 0 ? "qemu-io" : "result");
        }
    }
    json_decref(va);
    json_decref(vb);
    if (same && !(eva && evb && bg_norm_json_equal(eva, NULL, evb, NULL))) {
        json_t *na = bg_norm_json(eva, NULL), *nb = bg_norm_json(evb, NULL);
        char *d = bg_compare_first_diff(na, nb, "/events");
        if (d) {
            same = false;
            *path_out = d;
            *channel_out = bg_strdup("events");
        }
        json_decref(na);
        json_decref(nb);
    }
    return same;
}
