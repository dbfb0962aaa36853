/*
 * runner.c: running streams on backends (runner.h).
 *
 * One Session per backend holds what a stream run accumulates: the scratch
 * directory, bound variables, saved values, the transcript's auto-name map
 * and the per-job event lists.  Steps run in lock-step over the sessions so
 * two backends are compared step by step and the first difference stops
 * the run.
 *
 * Comparing the two sessions' answers is compare.c; making and emptying
 * scratch directories is scratch.c.
 *
 * Speed (the fuzzer runs hundreds of streams a second; bench/bench_fuzz.c):
 *   - with runner.h's reuse_scratch, a scratch directory is emptied and
 *     taken again by the next run instead of removed and created: on a disk
 *     file system mkdir and rmdir cost more than a short stream;
 *   - canonical names (canon_names_fn) keep a string that holds no
 *     automatic name, scratch path or timing line as it is, and canon()
 *     and the comparison forms (norm.h) share every sub-tree in which
 *     nothing changes instead of copying it (bg_json_map_shared()); so
 *     does the command a backend is handed (run_one(): only what holds a
 *     $DIR or ${VAR} is copied), which no backend may change
 *     (frozen_steps());
 *   - what is only written is only built when written: the transcript
 *     line (run_one()), the summary, a step's empty list of assertions;
 *     steps without events share one empty list per session, and a
 *     session's maps are made at their first entry (made());
 *   - compare_data's two chunk buffers are made once per thread, not once
 *     per run or step (data_chunks: fresh 64 KiB buffers cost the fuzzer
 *     their page faults on every input under ASan).
 */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bg.h"
#include "compare.h"
#include "confine.h"
#include "expect.h"
#include "finding.h"
#include "json.h"
#include "norm.h"
#include "scratch.h"

typedef struct Session {
    const BgBackendOps *ops;
    BgBackend *be;
    char *scratch;         /* real path of the scratch directory */
    /* made at their first entry (made()); NULL is empty: most runs bind,
     * save, name and wait for nothing */
    json_t *vars;          /* VAR -> string */
    json_t *saved;         /* label -> return value */
    json_t *names;         /* auto node name -> canonical "#blockN" (transcript) */
    json_t *jobs;          /* job id -> [events] (transcript order) */
    json_t *job_last;      /* job id -> last kept status */
    json_t *no_events;     /* the events of a step that raised none (shared, never changed) */
    FILE *transcript;
    int assertions, failed, unsupported;
    bool scanned;          /* a scan of the scratch directory passed ... */
    uint64_t scanned_at;   /* ... when the backend's file_changes said this */
} Session;

void bg_run_report_cleanup(BgRunReport *r)
{
    free(r->message);
    json_decref(r->signature);
    json_decref(r->diverged);
    *r = (BgRunReport){0};
}

/* ---- where the time goes (BgRunOptions.times) ------------------------------------- */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Add the CPU time since *T to PART of OPT's times and restart *T there. */
static void part_done(const BgRunOptions *opt, BgRunPart part, double *t)
{
    if (!opt->times)
        return;
    double now = cpu_seconds();
    opt->times->cpu[part] += now - *t;
    *t = now;
}

/* One of a session's objects, made if it is still NULL (empty). */
static json_t *made(json_t **obj)
{
    if (!*obj)
        *obj = json_object();
    return *obj;
}

/* ---- substitution ----------------------------------------------------------- */

static char *subst_fn(const char *s, void *opaque)
{
    Session *ss = opaque;
    if (!strchr(s, '$'))
        return NULL;   /* neither $DIR nor ${VAR}: the mapping keeps S */
    BgBuf b = {0};
    while (*s) {
        if (strncmp(s, "$DIR", 4) == 0) {
            bg_buf_puts(&b, ss->scratch);
            s += 4;
        } else if (strncmp(s, "${", 2) == 0 && strchr(s, '}')) {
            const char *end = strchr(s, '}');
            char *name = bg_strndup(s + 2, (size_t)(end - s - 2));
            const char *val = json_string_value(json_object_get(ss->vars, name));
            free(name);
            if (val) {
                bg_buf_puts(&b, val);
                s = end + 1;
            } else {
                bg_buf_append(&b, s, 1);
                s++;
            }
        } else {
            bg_buf_append(&b, s, 1);
            s++;
        }
    }
    return bg_buf_take(&b);
}

/* ---- transcript form -------------------------------------------------------- */

/* Rename every automatic node name to its canonical transcript name. */
static char *canon_names_fn(const char *s, void *opaque)
{
    Session *ss = opaque;
    /* most strings hold nothing to rewrite: kept, not copied */
    if (!strstr(s, "#block") && !strstr(s, " ops") && !strstr(s, ss->scratch))
        return NULL;
    char *a = bg_norm_dir(s, ss->scratch);
    char *t = bg_norm_timing(a);
    free(a);
    BgBuf b = {0};
    const char *p = t;
    for (;;) {
        const char *hit = strstr(p, "#block");
        if (!hit)
            break;
        const char *d = hit + 6;
        while (*d >= '0' && *d <= '9')
            d++;
        bg_buf_append(&b, p, (size_t)(hit - p));
        if (d == hit + 6) {
            bg_buf_puts(&b, "#block");
        } else {
            char *name = bg_strndup(hit, (size_t)(d - hit));
            json_t *c = json_object_get(ss->names, name);
            if (!c) {
                char *canon = bg_asprintf("#block%zu", json_object_size(ss->names) + 1);
                c = json_string(canon);
                json_object_set_new(made(&ss->names), name, c);
                free(canon);
            }
            bg_buf_puts(&b, json_string_value(c));
            free(name);
        }
        p = d;
    }
    bg_buf_puts(&b, p);
    free(t);
    return bg_buf_take(&b);
}

static json_t *canon(Session *ss, const json_t *v)
{
    if (!v)
        return json_null();
    return bg_json_map_shared(v, canon_names_fn, ss, BG_NORM_MASKED_KEY);
}

static json_t *canon_str(Session *ss, const char *s)
{
    if (!s)
        return json_null();
    json_t *tmp = json_string(s);
    if (!tmp)
        return json_string("(invalid UTF-8)");
    json_t *r = canon(ss, tmp);
    json_decref(tmp);
    return r;
}

static void transcript_write(Session *ss, json_t *take_line)
{
    if (ss->transcript) {
        char *s = bg_json_dumps(take_line);
        fputs(s, ss->transcript);
        fputc('\n', ss->transcript);
        fflush(ss->transcript);
        free(s);
    }
    json_decref(take_line);
}

/* ---- job events ---------------------------------------------------------------- */

static bool is_job_event(const char *name)
{
    return strncmp(name, "BLOCK_JOB_", 10) == 0 || strcmp(name, "JOB_STATUS_CHANGE") == 0;
}

static const char *job_id_of(const json_t *data)
{
    const char *id = json_string_value(json_object_get(data, "id"));
    return id ? id : json_string_value(json_object_get(data, "device"));
}

/* Split RES's events: job events go to the session's per-job lists, the
 * others are returned (new array, transcript form). */
static json_t *sort_events(Session *ss, const json_t *events)
{
    if (json_array_size(events) == 0) {
        if (!ss->no_events)
            ss->no_events = json_array();
        return json_incref(ss->no_events);
    }
    json_t *rest = json_array();
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *name = json_string_value(json_object_get(ev, "event"));
        json_t *data = json_object_get(ev, "data");
        if (!name || !is_job_event(name) || !job_id_of(data)) {
            json_array_append_new(rest, canon(ss, ev));
            continue;
        }
        const char *id = job_id_of(data);
        if (strcmp(name, "JOB_STATUS_CHANGE") == 0) {
            const char *st = json_string_value(json_object_get(data, "status"));
            const char *last = json_string_value(json_object_get(ss->job_last, id));
            if (!st || strcmp(st, "paused") == 0 || strcmp(st, "standby") == 0)
                continue;
            if (last && strcmp(last, st) == 0)
                continue;
            json_object_set_new(made(&ss->job_last), id, json_string(st));
        }
        json_t *list = json_object_get(ss->jobs, id);
        if (!list) {
            list = json_array();
            json_object_set_new(made(&ss->jobs), id, list);
        }
        json_array_append_new(list, canon(ss, ev));
    }
    return rest;
}

/* ---- bind ---------------------------------------------------------------------- */

static bool do_bind(Session *ss, const BgStep *step, const BgResult *res, BgError *err)
{
    const char *var;
    json_t *spec;
    json_object_foreach(step->bind, var, spec) {
        json_t *where = json_object_get(spec, "where");
        const char *path = json_string_value(json_object_get(spec, "path"));
        json_t *ret = res->kind == BG_RES_RETURN ? res->ret : NULL;
        json_t *found = NULL;
        if (json_is_array(ret)) {
            size_t i;
            json_t *e;
            json_array_foreach(ret, i, e) {
                json_t *ne = bg_norm_display(e, ss->scratch);
                if (!where || bg_json_match(where, ne))
                    found = e;
                json_decref(ne);
            }
        } else if (ret && !where) {
            found = ret;
        }
        json_t *v = found ? bg_json_path_get(found, path) : NULL;
        if (!json_is_string(v))
            return bg_error_setf(err, "bind %s selects nothing", var);
        json_object_set_new(made(&ss->vars), var, json_string(json_string_value(v)));
    }
    return true;
}

/* Steps after which node contents may differ from before. */
static bool changes_data(const BgStep *step)
{
    switch (step->kind) {
    case BG_STEP_EXECUTE:
        return strncmp(bg_step_name(step), "query-", 6) != 0;
    case BG_STEP_IO:
    case BG_STEP_WAIT_EVENT:
    case BG_STEP_WAIT_JOB:
    case BG_STEP_RUN_JOB:
        return true;
    default:
        return false;
    }
}

/*
 * A step that one backend could not run ("unsupported": the model keeps no
 * such data, or stops half-way) but that may change the graph, the images
 * or a job leaves the two backends in different states; what follows is not
 * a comparison of the same stream any more.  Queries and qemu-img checks
 * change nothing.
 */
static bool diverges(const BgStep *step, const BgResult *ra, const BgResult *rb)
{
    if (ra->kind != BG_RES_UNSUPPORTED && rb->kind != BG_RES_UNSUPPORTED)
        return false;
    return changes_data(step) || step->kind == BG_STEP_IMG_CREATE;
}

/* ---- the run ---------------------------------------------------------------------- */

static void report_set(BgRunReport *r, BgRunStatus st, int line, char *take_msg)
{
    if (r->message) {
        free(take_msg);
        if (st > r->status)
            r->status = st;
        return;
    }
    r->status = st;
    r->first_line = line;
    r->message = take_msg;
}

static char *short_json(const json_t *v)
{
    char *s = bg_json_dumps(v);
    if (strlen(s) > 400) {
        s[396] = '\0';
        strcat(s, " ...");
    }
    return s;
}

/* The two sides as the finding key keeps them (finding.h): sorted, so that
 * model and real in either order give one key. */
static json_t *key_values(const char *shown_a, const char *shown_b)
{
    char *a = bg_finding_value(shown_a), *b = bg_finding_value(shown_b);
    json_t *v = strcmp(a, b) <= 0 ? json_pack("[s,s]", a, b) : json_pack("[s,s]", b, a);
    if (!v)
        v = json_array();   /* not UTF-8 (a text the runner cut short): no values */
    free(a);
    free(b);
    return v;
}

static void session_close(Session *ss, const BgRunOptions *opt)
{
    if (ss->be) {
        if (opt->keep && ss->ops->get_log) {
            char *log = ss->ops->get_log(ss->be);
            if (log) {
                char *p = bg_asprintf("%s/vm.log", ss->scratch);
                FILE *f = fopen(p, "w");
                if (f) {
                    fputs(log, f);
                    fclose(f);
                }
                free(p);
                free(log);
            }
        }
        ss->ops->close(ss->be);
        ss->be = NULL;
    }
    if (ss->scratch && !opt->keep && opt->reuse_scratch)
        bg_scratch_empty(ss->scratch);
    else if (ss->scratch && !opt->keep)
        bg_runner_scratch_remove(ss->scratch);
    free(ss->scratch);
    json_decref(ss->vars);
    json_decref(ss->saved);
    json_decref(ss->names);
    json_decref(ss->jobs);
    json_decref(ss->job_last);
    json_decref(ss->no_events);
}

/* Does any text of the step's command or result hold an automatic node name? */
static bool mentions_auto_name(const json_t *cmd, const BgResult *res)
{
    const char *texts[] = { res->err_class, res->err_desc, res->out, res->err_text, res->io_out,
                            res->log, res->unsupported };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        if (texts[i] && strstr(texts[i], "#block"))
            return true;
    return bg_json_has_substring(cmd, "#block") || bg_json_has_substring(res->ret, "#block");
}

/* Run one step on one session; returns false when the stream must stop (error). */
static bool run_one(Session *ss, const BgStream *s, const BgStep *step, const BgRunOptions *opt,
                    BgRunPart part, BgResult *res, json_t **events_out, BgRunReport *rep)
{
    BgError err = {0};
    json_t *cmd = bg_json_map_shared(step->cmd, subst_fn, ss, NULL);
    double t = opt->times ? cpu_seconds() : 0;
    /* The scratch directory holds what it held at the last scan that passed
     * unless the backend changed a file since (backend.h, file_changes). */
    uint64_t changes = ss->ops->file_changes ? ss->ops->file_changes(ss->be) : 0;
    bool scan = !ss->ops->file_changes || !ss->scanned || changes != ss->scanned_at;
    if (!bg_confine_step_scan(ss->scratch, step->kind, cmd, scan, &err)) {
        json_decref(cmd);
        report_set(rep, BG_RUN_ERROR, step->line, bg_asprintf("%s:%d: %s", s->path, step->line,
                                                              err.text));
        return false;
    }
    ss->scanned = true;
    ss->scanned_at = changes;
    part_done(opt, BG_PART_SCAN, &t);
    bool ok = ss->ops->execute(ss->be, step, cmd, res, &err);
    part_done(opt, part, &t);
    /* The transcript line is built only to be written (or shown).  Its one
     * side effect is the numbering of automatic names (canon_names_fn), in
     * which only texts holding "#block" take part: a step with none is run
     * without it, and the names of later steps are numbered as they would
     * be with a transcript (the fuzzer: a fifth of its allocations). */
    bool keep_line = ss->transcript || opt->verbose || !ok || mentions_auto_name(cmd, res);
    json_t *line = keep_line ? json_pack("{s:i,s:o}", "line", step->line, "cmd", canon(ss, cmd))
                             : NULL;
    json_decref(cmd);
    if (!ok) {
        char *log = ss->ops->get_log ? ss->ops->get_log(ss->be) : NULL;
        json_object_set_new(line, "backend-failure", canon_str(ss, err.text));
        if (log)
            json_object_set_new(line, "log", canon_str(ss, log));
        transcript_write(ss, line);
        char *msg = bg_asprintf("%s:%d: %s backend failed: %s%s%s", s->path, step->line,
                                ss->ops->name, err.text, log && *log ? "\n--- VM log ---\n" : "",
                                log ? log : "");
        free(log);
        report_set(rep, BG_RUN_ERROR, step->line, msg);
        return false;
    }
    *events_out = sort_events(ss, res->events);
    if (res->kind == BG_RES_UNSUPPORTED) {
        ss->unsupported++;
        if (line)
            json_object_set_new(line, "unsupported", canon_str(ss, res->unsupported));
        transcript_write(ss, line);
        return true;
    }
    if (line) {
        json_t *rj = bg_expect_result_json(res, NULL);
        json_t *rc = canon(ss, rj);       /* the command's names are canonical already */
        json_object_update(line, rc);
        json_decref(rc);
        json_decref(rj);
        if (res->io_out || step->kind == BG_STEP_EXECUTE || step->kind == BG_STEP_SHUTDOWN)
            json_object_set_new(line, "stdout", canon_str(ss, res->io_out ? res->io_out : ""));
        json_object_set(line, "events", *events_out);
    }

    /* ${VAR} stands for its value in expectations too */
    BgExpectCtx ctx = { .scratch = ss->scratch, .saved = ss->saved, .subst = subst_fn,
                        .subst_opaque = ss };
    int failed = 0;
    /* a step without expectations has no assertions: the empty list is made
     * only for the transcript line */
    json_t *asserts = step->expect || line ? bg_expect_judge(step, res, &ctx, &failed) : NULL;
    ss->assertions += (int)json_array_size(asserts);
    ss->failed += failed;
    if (failed) {
        size_t i;
        json_t *a;
        json_array_foreach(asserts, i, a) {
            if (json_is_true(json_object_get(a, "ok")))
                continue;
            char *want = short_json(json_object_get(a, "expected"));
            json_t *actual_canon = canon(ss, json_object_get(a, "actual"));
            char *got = short_json(actual_canon);
            json_decref(actual_canon);
            report_set(rep, BG_RUN_FAILED, step->line,
                       bg_asprintf("%s:%d: %s: %s: expected %s, got %s", s->path, step->line,
                                   bg_step_name(step), json_string_value(json_object_get(a, "kind")),
                                   want, got));
            free(want);
            free(got);
            break;
        }
    }
    if (line) {
        size_t ai;
        json_t *a;
        json_array_foreach(asserts, ai, a)
            json_object_set_new(a, "actual", canon(ss, json_object_get(a, "actual")));
        json_object_set_new(line, "assertions", asserts);
    } else {
        json_decref(asserts);
    }
    if (opt->verbose) {
        char *txt = bg_json_dumps(line);
        fprintf(stderr, "[%s] %s\n", ss->ops->name, txt);
        free(txt);
    }
    transcript_write(ss, line);

    if (step->save && res->kind == BG_RES_RETURN)
        json_object_set(made(&ss->saved), step->save, res->ret);
    if (step->bind && !do_bind(ss, step, res, &err)) {
        report_set(rep, BG_RUN_ERROR, step->line,
                   bg_asprintf("%s:%d: %s", s->path, step->line, err.text));
        return false;
    }
    return true;
}

/*
 * The backends are handed each step's command with the stream's own values
 * in it (run_one(): bg_json_map_shared(), a copy only where a string was
 * substituted), so none may change it, at the step or later through a
 * reference it kept.  With BG_CHECK_FROZEN_STEPS=1 in the environment (make
 * check's ASan runs) the runner checks that: each step's command as text
 * before the run (frozen_steps()) and after it (frozen_check(), an abort()
 * naming the step).  Otherwise both cost a getenv() per run.
 */
/* The command as text, keys in their order (which QEMU's option order follows). */
static char *frozen_text(const json_t *cmd)
{
    char *t = json_dumps(cmd, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t)
        abort();
    return t;
}

static char **frozen_steps(const BgStream *s)
{
    const char *on = getenv("BG_CHECK_FROZEN_STEPS");
    if (!on || strcmp(on, "1") != 0)
        return NULL;
    char **text = bg_calloc(s->n_steps + 1, sizeof(*text));
    for (size_t i = 0; i < s->n_steps; i++)
        text[i] = frozen_text(s->steps[i].cmd);
    return text;
}

static void frozen_check(const BgStream *s, char **text)
{
    if (!text)
        return;
    for (size_t i = 0; i < s->n_steps; i++) {
        char *now = frozen_text(s->steps[i].cmd);
        if (strcmp(now, text[i]) != 0) {
            fprintf(stderr, "%s:%d: a backend changed the step's command during the run:\n"
                    "before: %s\nafter:  %s\n", s->path, s->steps[i].line, text[i], now);
            abort();
        }
        free(now);
        free(text[i]);
    }
    free(text);
}

/* bg_compare_data()'s two chunk buffers, made at the first data comparison
 * of the thread and kept for its later runs (reachable, so no leak). */
static __thread uint8_t *data_chunks[2];

void bg_run_stream(const BgStream *s, const BgBackendOps *const *backends, int n_backends,
                   const BgRunOptions *opt, BgRunReport *rep)
{
    Session ss[2] = {0};
    *rep = (BgRunReport){0};
    const char *base = opt->scratch_base ? opt->scratch_base : bg_runner_default_scratch_base();
    char *stem = bg_scratch_stem(s->path);
    bool ok = true;
    double t = opt->times ? cpu_seconds() : 0;

    char **frozen = frozen_steps(s);
    for (int b = 0; b < n_backends && ok; b++) {
        BgError err = {0};
        ss[b].ops = backends[b];
        ss[b].transcript = opt->transcript[b];
        ss[b].scratch = bg_scratch_new(base, stem, backends[b]->name, opt->reuse_scratch, &err);
        if (ss[b].scratch) {
            BgBackendConfig cfg = { .scratch = ss[b].scratch, .stream_path = s->path,
                                    .verbose = opt->verbose,
                                    .volatile_scratch = opt->volatile_scratch && !opt->keep };
            ss[b].be = backends[b]->open(&cfg, &err);
        }
        if (!ss[b].be) {
            report_set(rep, BG_RUN_ERROR, 0,
                       bg_asprintf("%s: %s backend: %s", s->path, backends[b]->name, err.text));
            ok = false;
        }
    }
    free(stem);
    part_done(opt, BG_PART_SESSIONS, &t);

    bool diverged = false;     /* an unsupported step changed one backend only */
    uint8_t **chunk = data_chunks;        /* bg_compare_data()'s buffers */
    BgDataMemo *memo = NULL;              /* and what it found unchanged */
    for (size_t i = 0; ok && i < s->n_steps; i++) {
        const BgStep *step = &s->steps[i];
        BgResult res[2] = {{0}};
        json_t *events[2] = {NULL, NULL};
        for (int b = 0; b < n_backends && ok; b++)
            ok = run_one(&ss[b], s, step, opt, b ? BG_PART_EXECUTE1 : BG_PART_EXECUTE0, &res[b],
                         &events[b], rep);
        if (ok && opt->on_step)
            opt->on_step(opt->hook_opaque, step, &res[0], ss[0].scratch);
        if (ok && n_backends == 2 && !diverged && diverges(step, &res[0], &res[1])) {
            diverged = true;       /* from here on the backends run, unchecked */
            json_t *who = json_array();
            for (int b = 0; b < 2; b++)
                if (res[b].kind == BG_RES_UNSUPPORTED)
                    json_array_append_new(who, json_string(ss[b].ops->name));
            rep->diverged = json_pack("{s:i,s:i,s:s,s:o}", "step", (int)i, "line", step->line,
                                      "command", bg_step_name(step), "backends", who);
        }
        if (ok && n_backends == 2 && !diverged) {
            char *path = NULL, *channel = NULL;
            double tc = opt->times ? cpu_seconds() : 0;
            bool same = bg_compare_step(&res[0], ss[0].scratch, &res[1], ss[1].scratch,
                                        events[0], events[1], &path, &channel);
            part_done(opt, BG_PART_COMPARE, &tc);
            if (!same) {
                json_t *va = bg_expect_result_json(&res[0], ss[0].scratch);
                json_t *vb = bg_expect_result_json(&res[1], ss[1].scratch);
                if (res[0].io_out)
                    json_object_set_new(va, "qemu-io", canon_str(&ss[0], res[0].io_out));
                if (res[1].io_out)
                    json_object_set_new(vb, "qemu-io", canon_str(&ss[1], res[1].io_out));
                if (strcmp(channel, "events") == 0) {
                    json_object_set(va, "events", events[0]);
                    json_object_set(vb, "events", events[1]);
                }
                /* show what differs: the values at the path, else the whole results */
                json_t *pa = bg_json_path_get(va, path + 1), *pb = bg_json_path_get(vb, path + 1);
                char *ta = short_json(pa ? pa : va), *tb = short_json(pb ? pb : vb);
                const char *sa = pa || !pb ? ta : "(absent)", *sb = pb || !pa ? tb : "(absent)";
                report_set(rep, BG_RUN_FAILED, step->line,
                           bg_asprintf("%s:%d: backends differ on %s (%s, at %s)\n  %s: %s\n  %s: %s",
                                       s->path, step->line, bg_step_name(step), channel, path,
                                       ss[0].ops->name, sa, ss[1].ops->name, sb));
                rep->signature = json_pack("{s:i,s:i,s:s,s:s,s:s,s:o}", "step", (int)i, "line",
                                           step->line, "command", bg_step_name(step), "channel",
                                           channel, "path", path, "values", key_values(sa, sb));
                free(ta);
                free(tb);
                json_decref(va);
                json_decref(vb);
                ok = false;
            }
            free(path);
            free(channel);
        }
        if (ok && n_backends == 2 && !diverged && opt->compare_data && changes_data(step)) {
            char *path = NULL;
            const BgBackendOps *ops[2] = { ss[0].ops, ss[1].ops };
            BgBackend *be[2] = { ss[0].be, ss[1].be };
            double td = opt->times ? cpu_seconds() : 0;
            if (!memo)
                memo = bg_data_memo_new();
            bool same = bg_compare_data(ops, be, opt->skip_known_zero, memo, chunk, &path);
            part_done(opt, BG_PART_DATA, &td);
            if (!same) {
                report_set(rep, BG_RUN_FAILED, step->line,
                           bg_asprintf("%s:%d: backends differ on guest data after %s (at %s)",
                                       s->path, step->line, bg_step_name(step), path));
                rep->signature = json_pack("{s:i,s:i,s:s,s:s,s:s}", "step", (int)i, "line",
                                           step->line, "command", bg_step_name(step), "channel",
                                           "data", "path", path);
                ok = false;
            }
            free(path);
        }
        for (int b = 0; b < n_backends; b++) {
            bg_result_cleanup(&res[b]);
            json_decref(events[b]);
        }
    }

    /* Job events, per job, in order: compared between backends, then summarised. */
    if (ok && n_backends == 2 && !diverged && (ss[0].jobs || ss[1].jobs)) {
        char *d = bg_compare_first_diff(made(&ss[0].jobs), made(&ss[1].jobs), "/jobs");
        if (d) {
            char *ta = short_json(ss[0].jobs), *tb = short_json(ss[1].jobs);
            report_set(rep, BG_RUN_FAILED, 0,
                       bg_asprintf("%s: backends differ on job events (at %s)\n  %s: %s\n  %s: %s",
                                   s->path, d, ss[0].ops->name, ta, ss[1].ops->name, tb));
            rep->signature = json_pack("{s:i,s:i,s:s,s:s,s:s,s:o}", "step", (int)s->n_steps,
                                       "line", 0, "command", "(jobs)", "channel", "job-events",
                                       "path", d, "values", key_values(ta, tb));
            free(ta);
            free(tb);
            free(d);
        }
    }
    t = opt->times ? cpu_seconds() : 0;
    for (int b = 0; b < n_backends; b++) {
        rep->assertions += ss[b].assertions;
        rep->failed += ss[b].failed;
        rep->unsupported += ss[b].unsupported;
        if (ss[b].ops && ss[b].transcript) {   /* the summary is only written */
            const char *result = rep->status == BG_RUN_PASSED ? "passed"
                                 : rep->status == BG_RUN_FAILED ? "failed" : "error";
            json_t *sum = json_pack("{s:{s:s,s:i,s:i,s:i,s:i,s:i,s:O,s:s}}", "summary",
                                    "backend", ss[b].ops->name, "steps", (int)s->n_steps,
                                    "assertions", ss[b].assertions, "passed",
                                    ss[b].assertions - ss[b].failed, "failed", ss[b].failed,
                                    "unsupported", ss[b].unsupported, "jobs", made(&ss[b].jobs),
                                    "result", result);
            transcript_write(&ss[b], sum);
        }
        session_close(&ss[b], opt);
    }
    frozen_check(s, frozen);
    bg_data_memo_free(memo);
    part_done(opt, BG_PART_SESSIONS, &t);
}
