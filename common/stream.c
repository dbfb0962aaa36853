/*
 * stream.c: reading and validating command streams (stream.h).
 *
 * Structure only: lines, JSON, step keys, metadata and expectation shapes,
 * ${VAR} and same-as references.  What a step may ask for (commands,
 * drivers, file names, sizes) is policy.c's; both run before any backend
 * acts, so a bad stream never half-runs.
 */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "json.h"
#include "policy.h"

static const char *const step_keys[BG_STEP__COUNT] = {
    [BG_STEP_NOOP] = NULL,
    [BG_STEP_EXECUTE] = "execute",
    [BG_STEP_IMG_CREATE] = "img-create",
    [BG_STEP_IO] = "io",
    [BG_STEP_QEMU_IMG] = "qemu-img",
    [BG_STEP_LAUNCH] = "launch",
    [BG_STEP_WAIT_EVENT] = "wait-event",
    [BG_STEP_WAIT_JOB] = "wait-job",
    [BG_STEP_RUN_JOB] = "run-job",
    [BG_STEP_SHUTDOWN] = "shutdown",
};

static const char *const meta_keys[] = { "expect", "seed", "comment", "save", "bind", NULL };
static const char *const expect_keys[] = {
    "return", "error", "same-as", "checks", "io-ok", "io-ops", "rc", NULL
};
static const char *const check_ops[] = { "equals", "absent", "equals-path", "missing", NULL };

const char *bg_step_kind_name(BgStepKind kind)
{
    return kind < BG_STEP__COUNT && step_keys[kind] ? step_keys[kind] : "comment";
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static BgStepKind step_kind_of(const char *key)
{
    for (int k = 0; k < BG_STEP__COUNT; k++)
        if (step_keys[k] && strcmp(step_keys[k], key) == 0)
            return (BgStepKind)k;
    return BG_STEP_NOOP;
}

const char *bg_step_name(const BgStep *step)
{
    if (step->kind == BG_STEP_EXECUTE) {
        const char *n = json_string_value(json_object_get(step->cmd, "execute"));
        return n ? n : "execute";
    }
    return bg_step_kind_name(step->kind);
}

void bg_step_cleanup(BgStep *step)
{
    json_decref(step->cmd);
    json_decref(step->expect);
    json_decref(step->bind);
    json_decref(step->source);
    free(step->save);
    *step = (BgStep){0};
}

/* ---- expectations ------------------------------------------------------ */

static bool check_one_check(const json_t *c, size_t i, BgError *err)
{
    if (!json_is_object(c))
        return bg_error_setf(err, "expect: checks[%zu] must be an object", i);
    int ops = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)c, k, v) {
        if (strcmp(k, "node") == 0 || strcmp(k, "path") == 0) {
            if (!json_is_string(v))
                return bg_error_setf(err, "expect: checks[%zu].%s must be a string", i, k);
        } else if (in_list(check_ops, k)) {
            ops++;
            if ((strcmp(k, "absent") == 0 || strcmp(k, "missing") == 0) && !json_is_true(v))
                return bg_error_setf(err, "expect: checks[%zu].%s must be true", i, k);
            if (strcmp(k, "equals-path") == 0 && !json_is_string(v))
                return bg_error_setf(err, "expect: checks[%zu].equals-path must be a string", i);
        } else {
            return bg_error_setf(err, "expect: checks[%zu]: unknown key '%s'", i, k);
        }
    }
    if (ops != 1)
        return bg_error_setf(err, "expect: checks[%zu] needs exactly one of equals, absent, "
                             "equals-path, missing", i);
    bool missing = json_object_get(c, "missing") != NULL;
    if (missing && !json_object_get(c, "node"))
        return bg_error_setf(err, "expect: checks[%zu]: 'missing' needs 'node'", i);
    if (!missing && !json_object_get(c, "path"))
        return bg_error_setf(err, "expect: checks[%zu] needs a 'path'", i);
    return true;
}

static bool check_expect(BgStepKind kind, const json_t *e, BgError *err)
{
    if (!json_is_object(e))
        return bg_error_setf(err, "'expect' must be an object, got %s", bg_json_type_name(e));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)e, k, v) {
        if (!in_list(expect_keys, k))
            return bg_error_setf(err, "unknown expectation '%s'", k);
    }
    if (json_object_get(e, "return") && json_object_get(e, "error"))
        return bg_error_setf(err, "expect: 'return' and 'error' exclude each other");
    json_t *er = json_object_get(e, "error");
    if (er && !json_is_string(er)) {
        if (!json_is_object(er))
            return bg_error_setf(err, "expect: 'error' must be a string or {\"class\", \"desc\"}");
        json_object_foreach(er, k, v) {
            if (strcmp(k, "class") != 0 && strcmp(k, "desc") != 0)
                return bg_error_setf(err, "expect: error: unknown key '%s'", k);
            if (!json_is_string(v))
                return bg_error_setf(err, "expect: error.%s must be a string", k);
        }
        if (!json_object_get(er, "desc"))
            return bg_error_setf(err, "expect: error needs 'desc'");
    }
    json_t *sa = json_object_get(e, "same-as");
    if (sa && !json_is_string(sa))
        return bg_error_setf(err, "expect: 'same-as' must be a string");
    json_t *checks = json_object_get(e, "checks");
    if (checks) {
        if (!json_is_array(checks))
            return bg_error_setf(err, "expect: 'checks' must be an array");
        size_t i;
        json_t *c;
        json_array_foreach(checks, i, c)
            if (!check_one_check(c, i, err))
                return false;
    }
    json_t *io_ok = json_object_get(e, "io-ok");
    if (io_ok && !json_is_boolean(io_ok))
        return bg_error_setf(err, "expect: 'io-ok' must be a boolean");
    json_t *ops = json_object_get(e, "io-ops");
    if (ops) {
        if (!json_is_integer(ops) || json_integer_value(ops) < 0)
            return bg_error_setf(err, "expect: 'io-ops' must be a non-negative integer");
        if (kind != BG_STEP_SHUTDOWN)
            return bg_error_setf(err, "expect: 'io-ops' belongs to a shutdown step");
    }
    json_t *rc = json_object_get(e, "rc");
    if (rc) {
        if (!json_is_integer(rc) || json_integer_value(rc) < 0 || json_integer_value(rc) > 255)
            return bg_error_setf(err, "expect: 'rc' must be an integer from 0 to 255");
        if (kind != BG_STEP_IMG_CREATE && kind != BG_STEP_IO && kind != BG_STEP_QEMU_IMG)
            return bg_error_setf(err, "expect: 'rc' belongs to an img-create, io or qemu-img step");
    }
    return true;
}

static bool valid_var_name(const char *s)
{
    if (!*s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static bool check_bind(const json_t *b, BgError *err)
{
    if (!json_is_object(b))
        return bg_error_setf(err, "'bind' must be an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)b, k, v) {
        if (!valid_var_name(k))
            return bg_error_setf(err, "bind: '%s' is not a variable name", k);
        if (!json_is_object(v))
            return bg_error_setf(err, "bind: '%s' must be {\"where\", \"path\"}", k);
        const char *k2;
        json_t *v2;
        json_object_foreach(v, k2, v2) {
            if (strcmp(k2, "where") != 0 && strcmp(k2, "path") != 0)
                return bg_error_setf(err, "bind: %s: unknown key '%s'", k, k2);
        }
        json_t *where = json_object_get(v, "where");
        if (where && !json_is_object(where))
            return bg_error_setf(err, "bind: %s.where must be an object", k);
        if (!json_is_string(json_object_get(v, "path")))
            return bg_error_setf(err, "bind: %s needs a string 'path'", k);
    }
    return true;
}

/* ---- one step ------------------------------------------------------------ */

bool bg_step_from_json(json_t *obj, int line, BgStep *out, BgError *err)
{
    *out = (BgStep){ .line = line, .kind = BG_STEP_NOOP };
    if (!json_is_object(obj))
        return bg_error_setf(err, "a step must be a JSON object, got %s", bg_json_type_name(obj));

    const char *step_key = NULL;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (step_kind_of(k) != BG_STEP_NOOP) {
            if (step_key)
                return bg_error_setf(err, "two step keys: '%s' and '%s'", step_key, k);
            step_key = k;
        } else if (!in_list(meta_keys, k) && strcmp(k, "arguments") != 0) {
            return bg_error_setf(err, "unknown step or key '%s'", k);
        }
    }
    json_t *seed = json_object_get(obj, "seed");
    if (seed && !json_is_integer(seed) && !json_is_string(seed))
        return bg_error_setf(err, "'seed' must be a line number or a string");
    json_t *comment = json_object_get(obj, "comment");
    if (comment && !json_is_string(comment))
        return bg_error_setf(err, "'comment' must be a string");

    if (!step_key) {
        json_object_foreach(obj, k, v) {
            if (strcmp(k, "seed") != 0 && strcmp(k, "comment") != 0)
                return bg_error_setf(err, "no step key: a line needs one of execute, img-create, "
                                     "io, qemu-img, launch, wait-event, wait-job, run-job, "
                                     "shutdown (or only comment/seed)");
        }
        return true;
    }
    BgStepKind kind = step_kind_of(step_key);
    json_t *args = json_object_get(obj, "arguments");
    if (args && kind != BG_STEP_EXECUTE)
        return bg_error_setf(err, "'arguments' belongs to an execute step");
    if (kind == BG_STEP_EXECUTE) {
        if (!json_is_string(json_object_get(obj, "execute")))
            return bg_error_setf(err, "'execute' must be a string");
        if (args && !json_is_object(args))
            return bg_error_setf(err, "'arguments' must be an object, got %s",
                                 bg_json_type_name(args));
    }

    json_t *expect = json_object_get(obj, "expect");
    if (expect && !check_expect(kind, expect, err))
        return false;
    json_t *save = json_object_get(obj, "save");
    if (save && (!json_is_string(save) || !json_string_length(save)))
        return bg_error_setf(err, "'save' must be a non-empty string");
    json_t *bind = json_object_get(obj, "bind");
    if (bind && !check_bind(bind, err))
        return false;

    json_t *cmd;
    if (json_object_size(obj) == (args ? 2u : 1u)) {
        cmd = json_incref(obj);   /* no metadata (the fuzzer's lines): the line is the command */
    } else {
        cmd = json_object();
        json_object_set(cmd, step_key, json_object_get(obj, step_key));
        if (args)
            json_object_set(cmd, "arguments", args);
    }
    if (!bg_policy_check_step(kind, cmd, err)) {
        json_decref(cmd);
        return false;
    }
    out->kind = kind;
    out->cmd = cmd;
    out->expect = json_incref(expect);
    out->bind = json_incref(bind);
    out->source = json_incref(obj);
    out->save = save ? bg_strdup(json_string_value(save)) : NULL;
    return true;
}

/* ---- references between steps -------------------------------------------- */

typedef struct Names {
    char **v;
    size_t n;
} Names;

static bool names_has(const Names *ns, const char *s, size_t len)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->v[i]) == len && strncmp(ns->v[i], s, len) == 0)
            return true;
    return false;
}

static void names_add(Names *ns, const char *s)
{
    ns->v = bg_realloc(ns->v, (ns->n + 1) * sizeof(*ns->v));
    ns->v[ns->n++] = bg_strdup(s);
}

static void names_free(Names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
}

/* Every ${VAR} in the strings of V must be bound by an earlier step. */
static bool check_var_refs(const json_t *v, const Names *vars, BgError *err)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (const char *p = strstr(s, "${"); p; p = strstr(p + 2, "${")) {
            const char *end = strchr(p, '}');
            if (!end)
                continue;
            if (!names_has(vars, p + 2, (size_t)(end - p - 2)))
                return bg_error_setf(err, "${%.*s} is not bound by an earlier step",
                                     (int)(end - p - 2), p + 2);
        }
        return true;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach((json_t *)v, k, c)
            if (!check_var_refs(c, vars, err))
                return false;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            if (!check_var_refs(c, vars, err))
                return false;
    }
    return true;
}

/* ---- whole streams --------------------------------------------------------- */

void bg_stream_free(BgStream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_steps; i++)
        bg_step_cleanup(&s->steps[i]);
    free(s->steps);
    free(s->path);
    free(s);
}

/* What the lines read so far have defined. */
typedef struct ParseState {
    Names vars;        /* bound ${VAR}s */
    Names labels;      /* saved labels */
    int n_adds;        /* blockdev-add steps */
} ParseState;

static bool parse_line(BgStream *s, const char *text, size_t len, int line, ParseState *ps,
                       BgError *err)
{
    Names *vars = &ps->vars, *labels = &ps->labels;
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return bg_error_setf(err, "%s:%d: invalid JSON: %s (column %d)", s->path, line, jerr.text,
                             jerr.column);
    if (bg_json_depth(obj) > BG_MAX_JSON_DEPTH) {
        json_decref(obj);
        return bg_error_setf(err, "%s:%d: JSON nested deeper than %d levels", s->path, line,
                             BG_MAX_JSON_DEPTH);
    }
    BgStep step;
    BgError serr = {0};
    bool ok = bg_step_from_json(obj, line, &step, &serr);
    if (ok && step.cmd && !check_var_refs(step.cmd, vars, &serr))
        ok = false;
    if (ok && step.expect && !check_var_refs(step.expect, vars, &serr))
        ok = false;
    json_t *same_as = step.expect ? json_object_get(step.expect, "same-as") : NULL;
    if (ok && same_as && !names_has(labels, json_string_value(same_as),
                                    strlen(json_string_value(same_as))))
        ok = bg_error_setf(&serr, "same-as '%s' names no earlier 'save'",
                           json_string_value(same_as));
    json_decref(obj);
    if (!ok) {
        bg_step_cleanup(&step);
        return bg_error_setf(err, "%s:%d: %s", s->path, line, serr.text);
    }
    if (step.kind == BG_STEP_NOOP)
        return true;   /* comment-only lines are not steps */
    if (s->n_steps >= BG_MAX_STEPS) {
        bg_step_cleanup(&step);
        return bg_error_setf(err, "%s:%d: more than %d steps", s->path, line, BG_MAX_STEPS);
    }
    if (step.kind == BG_STEP_EXECUTE && strcmp(bg_step_name(&step), "blockdev-add") == 0 &&
        ++ps->n_adds > BG_MAX_NODES) {
        bg_step_cleanup(&step);
        return bg_error_setf(err, "%s:%d: more than %d blockdev-add steps", s->path, line,
                             BG_MAX_NODES);
    }
    if (step.save)
        names_add(labels, step.save);
    if (step.bind) {
        const char *k;
        json_t *v;
        json_object_foreach(step.bind, k, v)
            if (!names_has(vars, k, strlen(k))) {
                if (vars->n >= BG_MAX_VARS) {
                    bg_step_cleanup(&step);
                    return bg_error_setf(err, "%s:%d: more than %d bind variables", s->path,
                                         line, BG_MAX_VARS);
                }
                names_add(vars, k);
            }
    }
    s->steps = bg_realloc(s->steps, (s->n_steps + 1) * sizeof(*s->steps));
    s->steps[s->n_steps++] = step;
    return true;
}

/*
 * A message about a stream is one line whatever the stream holds: control
 * bytes echoed from keys, values or the file name become \xNN, so a stream
 * cannot forge lines in the tool's output.
 */
static void one_line(BgError *err)
{
    if (!err || !err->set)
        return;
    char out[BG_ERROR_TEXT];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)err->text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (o + 4 >= sizeof(out))
                break;
            snprintf(out + o, 5, "\\x%02x", *p);
            o += 4;
        } else {
            if (o + 1 >= sizeof(out))
                break;
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    memcpy(err->text, out, o + 1);
}

BgStream *bg_stream_parse(const char *name, const char *data, size_t len, BgError *err)
{
    BgStream *s = bg_calloc(1, sizeof(*s));
    s->path = bg_strdup(name);
    ParseState ps = {0};
    int line = 0;
    size_t pos = 0;
    bool ok = true;
    while (ok && pos < len) {
        line++;
        const char *start = data + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > BG_MAX_LINE_BYTES) {
            ok = bg_error_setf(err, "%s:%d: line longer than %u bytes", name, line,
                               BG_MAX_LINE_BYTES);
            break;
        }
        if (n && start[n - 1] == '\r')
            n--;
        if (memchr(start, '\0', n)) {
            ok = bg_error_setf(err, "%s:%d: NUL byte in line", name, line);
            break;
        }
        size_t i = 0;
        while (i < n && (start[i] == ' ' || start[i] == '\t'))
            i++;
        if (i == n || start[i] == '#')
            continue;
        ok = parse_line(s, start, n, line, &ps, err);
    }
    names_free(&ps.vars);
    names_free(&ps.labels);
    if (!ok) {
        one_line(err);
        bg_stream_free(s);
        return NULL;
    }
    return s;
}

BgStream *bg_stream_load(const char *path, BgError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        bg_error_setf(err, "%s: cannot open: %s", path, strerror(errno));
        one_line(err);
        return NULL;
    }
    BgBuf b = {0};
    char chunk[65536];
    size_t n;
    const size_t max = (size_t)BG_MAX_STEPS * 4096 + BG_MAX_LINE_BYTES;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        bg_buf_append(&b, chunk, n);
        if (b.len > max) {
            fclose(f);
            bg_buf_cleanup(&b);
            bg_error_setf(err, "%s: file larger than %zu bytes", path, max);
            return NULL;
        }
    }
    bool rerr = ferror(f);
    int saved = errno;
    fclose(f);
    if (rerr) {
        bg_buf_cleanup(&b);
        bg_error_setf(err, "%s: cannot read: %s", path, strerror(saved));
        return NULL;
    }
    BgStream *s = bg_stream_parse(path, b.data ? b.data : "", b.len, err);
    bg_buf_cleanup(&b);
    return s;
}

char *bg_step_to_line(const BgStep *step)
{
    if (step->source)
        return bg_json_dumps(step->source);
    return bg_json_dumps(step->cmd);
}
