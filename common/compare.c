/*
 * compare.c: comparing two backends' answers (compare.h): a step's result,
 * qemu-io output and events in comparison form (norm.h), and the
 * guest-visible bytes of every node both list.
 *
 * Speed (the fuzzer compares every step of every input):
 *   - two results are compared from their parts (views_equal()), each
 *     value in one walk of both (bg_norm_json_equal(), no copy); the
 *     comparison views, which show where they differ, are built only when
 *     the parts are not equal, and so are the events' comparison forms;
 *   - guest data is compared with memcmp, chunk by chunk, as both chunks
 *     are in memory anyway (a checksum of each side cost far more and could
 *     collide); with skip_known_zero a chunk both backends know from their
 *     metadata to be zeroes is not read at all (most of a fuzz input's
 *     images: a few KiB written into up to 64 MiB); the two chunk buffers
 *     are the caller's, made once per run, not once per step.
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

/* ---- guest-visible data ------------------------------------------------------------------ */

#define DATA_CHUNK (64 * 1024)

/* Is every byte of B[0..N) zero? */
static bool all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* How many bytes of NAME from OFF (at most N) does backend BE say read as zeroes (backend.h)? */
static uint64_t claims_zero(const BgBackendOps *ops, BgBackend *be, const char *name,
                            json_int_t off, uint64_t n)
{
    uint64_t z = ops->known_zero ? ops->known_zero(be, name, (uint64_t)off, n) : 0;
    return z < n ? z : n;
}

bool bg_compare_data(const BgBackendOps *const ops[2], BgBackend *const be[2],
                     bool skip_known_zero, uint8_t *buf[2], char **path_out)
{
    if (!ops[0]->list_nodes || !ops[1]->list_nodes || !ops[0]->read_node ||
        !ops[1]->read_node)
        return true;
    json_t *la = ops[0]->list_nodes(be[0]), *lb = ops[1]->list_nodes(be[1]);
    bool same = true;
    size_t i;
    json_t *na;
    json_array_foreach(la, i, na) {
        const char *name = json_string_value(json_object_get(na, "node-name"));
        json_int_t size = json_integer_value(json_object_get(na, "size"));
        json_t *nb = NULL;
        size_t j;
        json_t *e;
        json_array_foreach(lb, j, e)
            if (name && json_equal(json_object_get(e, "node-name"), json_object_get(na, "node-name")))
                nb = e;
        if (!name || !nb || name[0] == '#')   /* automatic names differ by design */
            continue;
        if (json_integer_value(json_object_get(nb, "size")) != size) {
            *path_out = bg_asprintf("/%s/size", name);
            same = false;
            break;
        }
        json_int_t zend[2] = { 0, 0 };   /* each backend's claim: zeroes up to here */
        for (json_int_t off = 0; off < size && same;) {
            uint64_t rest = (uint64_t)(size - off);
            uint64_t n = rest < DATA_CHUNK ? rest : DATA_CHUNK;
            for (int b = 0; b < 2; b++)
                if (off >= zend[b])
                    zend[b] = off + (json_int_t)claims_zero(ops[b], be[b], name, off, rest);
            json_int_t both = zend[0] < zend[1] ? zend[0] : zend[1];
            if (skip_known_zero && both > off) {
                off = both;
                continue;
            }
            bool read = true;
            for (int b = 0; b < 2; b++)
                if (!buf[b])
                    buf[b] = bg_malloc(DATA_CHUNK);
            for (int b = 0; b < 2 && read; b++) {
                BgError err = {0};
                /* a read that succeeds writes all N bytes (backend.h) */
                read = ops[b]->read_node(be[b], name, (uint64_t)off, n, buf[b], &err);
            }
            if (!read)
                break;
            for (int b = 0; b < 2 && same; b++)
                if (zend[b] > off && !all_zero(buf[b], (uint64_t)(zend[b] - off) < n
                                                           ? (uint64_t)(zend[b] - off) : n)) {
                    *path_out = bg_asprintf("/%s/%lld/zero-claim/%s", name, (long long)off,
                                            ops[b]->name);
                    same = false;
                }
            /* memcmp, not checksums: both chunks are in memory, and a byte-wise
             * hash of each cost 20 times the rest of a fuzz input */
            if (same && memcmp(buf[0], buf[1], n) != 0) {
                *path_out = bg_asprintf("/%s/%lld", name, (long long)off);
                same = false;
            }
            off += (json_int_t)n;
        }
        if (!same)
            break;
    }
    json_decref(la);
    json_decref(lb);
    return same;
}
