/*
 * minimize.c: replay --minimize: shrink a stream on which two backends
 * differ while the difference stays the same.
 *
 * The signature kept is the runner's {command, channel, path, values}
 * (runner.h): the values in the form the finding key uses (finding.h), so a
 * minimized stream shows the same finding, not another error text of the
 * same command (tools/fuzz-findings.sh keys it again and refuses one that
 * drifted); the step index may move as steps go.  Delta debugging after
 * Zeller's ddmin over the steps (drop halves, quarters, ... single steps),
 * then one pass that drops members of each step's arguments, innermost
 * first, then `expect`, `comment` and `seed` metadata that no longer
 * describe anything.  Every candidate is a whole stream, re-read by the
 * stream reader (a candidate that breaks a ${VAR} or same-as reference is
 * simply not taken) and run on both backends from scratch.  A candidate
 * that sets a job moving without a step that drives it next (job_timing.h)
 * is not taken either: on QEMU its later steps would see the job wherever
 * the timing put it.  The result runs unchanged on any backend, QEMU
 * included, which is how a person sees which side was right.
 * What it is not: a general test-case reducer for single-backend assertion
 * failures (those have no signature to keep).
 */
#include "minimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "job_timing.h"
#include "json.h"

typedef struct Ctx {
    const BgBackendOps *const *backends;
    const BgRunOptions *opt;
    json_t *want;        /* the signature to keep: {command, channel, path, values} */
    size_t undriven;     /* the input's jobs set moving without a driving step next */
    int runs;            /* candidates tried */
} Ctx;

static bool same_signature(const json_t *a, const json_t *b)
{
    /* the exact path (not the key's, with N and *): a stream keeps its place */
    static const char *const keys[] = { "command", "channel", "path", "values" };
    if (!a || !b)
        return false;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *va = json_object_get(a, keys[i]), *vb = json_object_get(b, keys[i]);
        if ((va || vb) && !json_equal(va, vb))   /* absent on both: equal (data: no values) */
            return false;
    }
    return true;
}

/* Text of LINES (an array of step objects) as a stream. */
static char *to_text(const json_t *lines)
{
    BgBuf b = {0};
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        char *s = json_dumps(l, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        bg_buf_puts(&b, s);
        bg_buf_puts(&b, "\n");
        free(s);
    }
    return bg_buf_take(&b);
}

/* Run a candidate; true when it still shows the wanted difference. */
static bool still_differs(Ctx *c, const json_t *lines)
{
    /* the job-timing rule (job_timing.h): a candidate that leaves a job to
     * QEMU's timing is no reproducer, whatever model and real say */
    if (bg_job_timing_undriven(lines) > c->undriven)
        return false;
    char *text = to_text(lines);
    BgError err = {0};
    BgStream *s = bg_stream_parse("minimize.jsonl", text, strlen(text), &err);
    free(text);
    if (!s)
        return false;
    BgRunOptions opt = *c->opt;
    opt.transcript[0] = opt.transcript[1] = NULL;
    opt.on_step = NULL;
    BgRunReport rep = {0};
    bg_run_stream(s, c->backends, 2, &opt, &rep);
    c->runs++;
    bool same = same_signature(c->want, rep.signature);
    bg_run_report_cleanup(&rep);
    bg_stream_free(s);
    return same;
}

/* LINES without the items [from, to). */
static json_t *without(const json_t *lines, size_t from, size_t to)
{
    json_t *r = json_array();
    for (size_t i = 0; i < json_array_size(lines); i++)
        if (i < from || i >= to)
            json_array_append(r, json_array_get(lines, i));
    return r;
}

/* ddmin over whole steps. */
static json_t *drop_steps(Ctx *c, json_t *lines)
{
    size_t chunk = json_array_size(lines) / 2;
    while (chunk >= 1) {
        bool progress = false;
        for (size_t from = 0; from < json_array_size(lines);) {
            size_t to = from + chunk;
            if (to > json_array_size(lines))
                to = json_array_size(lines);
            json_t *cand = without(lines, from, to);
            if (json_array_size(cand) > 0 && still_differs(c, cand)) {
                json_decref(lines);
                lines = cand;
                progress = true;
            } else {
                json_decref(cand);
                from = to;
            }
        }
        if (!progress)
            chunk /= 2;
    }
    return lines;
}

/*
 * Try dropping each member of OBJ (recursively, innermost first).  OBJ lives
 * inside LINES, so a candidate is LINES with OBJ edited in place; a failed
 * try puts the member back.
 */
static void drop_members(Ctx *c, json_t *lines, json_t *obj)
{
    if (json_is_array(obj)) {
        for (size_t i = 0; i < json_array_size(obj); i++)
            drop_members(c, lines, json_array_get(obj, i));
        return;
    }
    if (!json_is_object(obj))
        return;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
        drop_members(c, lines, v);
    /* keys first collected: the object changes while we try */
    json_t *keys = json_array();
    json_object_foreach(obj, k, v)
        json_array_append_new(keys, json_string(k));
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        const char *name = json_string_value(key);
        json_t *saved = json_incref(json_object_get(obj, name));
        json_object_del(obj, name);
        if (!still_differs(c, lines))
            json_object_set(obj, name, saved);
        json_decref(saved);
    }
    json_decref(keys);
}

static const char *const meta_keys[] = { "comment", "seed", "expect", NULL };

bool minimize_stream(const BgStream *s, const BgBackendOps *const *backends,
                     const BgRunOptions *opt, char **out_text, int *runs, BgError *err)
{
    Ctx c = { .backends = backends, .opt = opt };
    BgRunReport rep = {0};
    BgRunOptions first = *opt;
    first.on_step = NULL;
    bg_run_stream(s, backends, 2, &first, &rep);
    if (!rep.signature) {
        bg_error_setf(err, "%s: the backends do not differ: nothing to minimize", s->path);
        bg_run_report_cleanup(&rep);
        return false;
    }
    c.want = json_incref(rep.signature);
    bg_run_report_cleanup(&rep);

    json_t *lines = json_array();
    for (size_t i = 0; i < s->n_steps; i++)
        json_array_append_new(lines, json_deep_copy(s->steps[i].source));
    c.undriven = bg_job_timing_undriven(lines);
    lines = drop_steps(&c, lines);
    for (size_t i = 0; i < json_array_size(lines); i++) {
        json_t *step = json_array_get(lines, i);
        for (const char *const *m = meta_keys; *m; m++) {
            json_t *saved = json_incref(json_object_get(step, *m));
            if (!saved)
                continue;
            json_object_del(step, *m);
            if (!still_differs(&c, lines))
                json_object_set(step, *m, saved);
            json_decref(saved);
        }
        drop_members(&c, lines, json_object_get(step, "arguments"));
    }
    *out_text = to_text(lines);
    *runs = c.runs;
    json_decref(lines);
    json_decref(c.want);
    return true;
}
