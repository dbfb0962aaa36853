/*
 * test_mutator.c: the structure-aware mutator (fuzz/mutator.h): same seed,
 * same output; outputs the stream reader accepts; every kind of edit
 * happens; no edit names a deleted node (checked by a walk written here,
 * independent of fuzz/mut_state.c); outputs never exceed max_size;
 * expectations survive only on the unchanged prefix; garbage is repaired
 * or replaced.
 */
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../fuzz/mutator.h"
#include "bg.h"
#include "harness.h"
#include "stream.h"

#define MAX 65536

/* A short stream used when corpus/seed is not where the tests run. */
static const char fallback_seed[] =
    "# fallback seed\n"
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"size\": \"3M\"}, "
    "\"expect\": {\"rc\": 0}}\n"
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd1.img\", \"backing\": \"$DIR/hd0.img\", "
    "\"backing-fmt\": \"qcow2\"}, \"expect\": {\"rc\": 0}}\n"
    "{\"io\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"cmd\": \"write -P 0xa0 0 1M\"}}\n"
    "{\"launch\": {\"machine\": \"none\"}}\n"
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", "
    "\"node-name\": \"hd1\", \"file\": {\"driver\": \"file\", \"node-name\": \"hd1-file\", "
    "\"filename\": \"$DIR/hd1.img\"}, \"backing\": {\"driver\": \"qcow2\", "
    "\"node-name\": \"hd0\", \"file\": {\"driver\": \"file\", \"node-name\": \"hd0-file\", "
    "\"filename\": \"$DIR/hd0.img\"}}}, \"expect\": {\"return\": {}}}\n"
    "{\"execute\": \"x-blockdev-reopen\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": "
    "\"hd1\", \"file\": \"hd1-file\", \"backing\": \"hd0\", \"read-only\": true}, "
    "\"expect\": {\"return\": {}}}\n"
    "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
    "\"qemu-io hd1 \\\"read -P 0xa0 0 1M\\\"\"}, \"expect\": {\"return\": \"\", \"io-ok\": true}}\n"
    "{\"shutdown\": {}, \"expect\": {\"io-ops\": 1}}\n";

typedef struct Corpus {
    char *data[64];
    size_t size[64];
    size_t n;
} Corpus;

static void corpus_load(Corpus *c)
{
    glob_t g;
    c->n = 0;
    if (glob("corpus/seed/*.jsonl", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc && c->n < 64; i++) {
            FILE *f = fopen(g.gl_pathv[i], "rb");
            if (!f)
                continue;
            BgBuf b = {0};
            char chunk[4096];
            size_t n;
            while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
                bg_buf_append(&b, chunk, n);
            fclose(f);
            c->size[c->n] = b.len;
            c->data[c->n++] = bg_buf_take(&b);
        }
        globfree(&g);
    }
    if (!c->n) {
        c->size[0] = strlen(fallback_seed);
        c->data[c->n++] = bg_strdup(fallback_seed);
    }
}

static void corpus_free(Corpus *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->data[i]);
}

static bool parses(const uint8_t *data, size_t size)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("out", (const char *)data, size, &err);
    if (!s)
        fprintf(stderr, "  invalid output: %s\n", err.text);
    bg_stream_free(s);
    return s != NULL;
}

/* Mutate (or cross with OTHER) a copy of IN into BUF; returns the output size. */
static size_t mutate_copy(const char *in, size_t n, uint8_t *buf, size_t max, unsigned seed,
                          BgMutInfo *info)
{
    size_t k = n <= max ? n : max;
    memcpy(buf, in, k);
    return bg_mutate_ex(buf, k, max, seed, info);
}

/* ---- determinism ------------------------------------------------------------------ */

static void test_mutator_same_seed_same_output(void)
{
    Corpus c;
    corpus_load(&c);
    uint8_t *a = bg_malloc(MAX), *b = bg_malloc(MAX);
    for (size_t i = 0; i < c.n; i++)
        for (unsigned seed = 0; seed < 4; seed++) {
            size_t na = mutate_copy(c.data[i], c.size[i], a, MAX, seed * 7919 + 1, NULL);
            size_t nb = mutate_copy(c.data[i], c.size[i], b, MAX, seed * 7919 + 1, NULL);
            CHECK(na == nb && memcmp(a, b, na) == 0);
            size_t j = (i + 1) % c.n;
            na = bg_crossover((uint8_t *)c.data[i], c.size[i], (uint8_t *)c.data[j], c.size[j], a,
                              MAX, seed);
            nb = bg_crossover((uint8_t *)c.data[i], c.size[i], (uint8_t *)c.data[j], c.size[j], b,
                              MAX, seed);
            CHECK(na == nb && memcmp(a, b, na) == 0);
        }
    /* and a different seed usually gives a different output */
    size_t differ = 0;
    for (unsigned seed = 0; seed < 20; seed++) {
        size_t na = mutate_copy(c.data[0], c.size[0], a, MAX, seed, NULL);
        size_t nb = mutate_copy(c.data[0], c.size[0], b, MAX, seed + 1000, NULL);
        differ += na != nb || memcmp(a, b, na) != 0;
    }
    CHECK(differ >= 15);
    free(a);
    free(b);
    corpus_free(&c);
}

/* ---- validity and kinds ------------------------------------------------------------- */

static void test_mutator_outputs_are_valid_and_every_kind_happens(void)
{
    Corpus c;
    corpus_load(&c);
    enum { POOL = 48, OPS = 1000 };
    char *pool[POOL];
    size_t psize[POOL], n_pool = 0;
    for (size_t i = 0; i < POOL; i++)
        pool[i] = bg_malloc(MAX);
    for (size_t i = 0; i < c.n && n_pool < POOL / 2; i++) {
        memcpy(pool[n_pool], c.data[i], c.size[i]);
        psize[n_pool++] = c.size[i];
    }
    size_t n_seeds = n_pool;
    uint8_t *buf = bg_malloc(MAX);
    long valid = 0, kinds[BG_MUT__COUNT] = {0};
    uint64_t x = 12345;
    for (int op = 0; op < OPS; op++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t p = (size_t)(x >> 33) % n_pool, q = (size_t)(x >> 17) % n_pool;
        BgMutInfo info;
        size_t out;
        if (op % 10 == 9)
            out = bg_crossover_ex((uint8_t *)pool[p], psize[p], (uint8_t *)pool[q], psize[q], buf,
                                  MAX, (unsigned)(x >> 20), &info);
        else
            out = mutate_copy(pool[p], psize[p], buf, MAX, (unsigned)(x >> 20), &info);
        CHECK(out <= MAX);
        valid += parses(buf, out);
        kinds[info.kind]++;
        size_t slot = n_pool < POOL ? n_pool++ : n_seeds + (size_t)(x >> 45) % (POOL - n_seeds);
        if (slot >= n_seeds) {   /* outputs join the pool, as in a campaign */
            memcpy(pool[slot], buf, out);
            psize[slot] = out;
        }
    }
    printf("  mutator: %ld/%d outputs valid (%.1f%%)\n", valid, OPS, 100.0 * valid / OPS);
    CHECK(valid * 100 >= (long)OPS * 90);   /* issue 5: at least 90% */
    CHECK(valid == OPS);                     /* and in fact every one */
    for (int k = BG_MUT_INSERT; k <= BG_MUT_IMAGE; k++) {
        if (!kinds[k])
            fprintf(stderr, "  kind never happened: %s\n", bg_mut_kind_name((BgMutKind)k));
        CHECK(kinds[k] > 0);
    }
    CHECK(kinds[BG_MUT_CROSSOVER] > 0);
    for (size_t i = 0; i < POOL; i++)
        free(pool[i]);
    free(buf);
    corpus_free(&c);
}

static void test_mutator_empty_input_gives_generated_stream(void)
{
    uint8_t *buf = bg_malloc(MAX);
    for (unsigned seed = 0; seed < 30; seed++) {
        BgMutInfo info;
        size_t n = bg_mutate_ex(buf, 0, MAX, seed, &info);
        CHECK(info.kind == BG_MUT_GENERATE);
        CHECK(n > 0 && parses(buf, n));
        CHECK(!memmem(buf, n, "\"expect\"", 8));   /* generated steps carry none */
    }
    free(buf);
}

/* ---- references to deleted nodes (an independent walk) ------------------------------------- */

typedef struct Names {
    char **v;
    size_t n;
} Names;

static bool names_has(const Names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static void names_add(Names *s, const char *x)
{
    if (names_has(s, x))
        return;
    s->v = bg_realloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n++] = bg_strdup(x);
}

static void names_del(Names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0) {
            free(s->v[i]);
            s->v[i] = s->v[--s->n];
            return;
        }
}

static void names_free(Names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (Names){0};
}

typedef struct Walk {
    Names known, deleted;
    Names groups[256];   /* names each top-level blockdev-add defined */
    char *tops[256];
    size_t n_groups;
} Walk;

static void defs_of(const json_t *o, Names *out, int depth)
{
    static const char *const keys[] = { "file", "backing", "image", "test", "raw", NULL };
    if (!json_is_object(o) || depth > 20)
        return;
    const char *n = json_string_value(json_object_get(o, "node-name"));
    if (n)
        names_add(out, n);
    for (const char *const *k = keys; *k; k++)
        defs_of(json_object_get(o, *k), out, depth + 1);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "children"), i, c)
        defs_of(c, out, depth + 1);
}

/* Child references (strings) of a definition or reopen entry, and nested names of a reopen. */
static void refs_of(const json_t *o, bool reopen, Names *out, int depth)
{
    static const char *const keys[] = { "file", "backing", "image", "test", "raw", NULL };
    if (!json_is_object(o) || depth > 20)
        return;
    const char *n = json_string_value(json_object_get(o, "node-name"));
    if (reopen && n)
        names_add(out, n);
    for (const char *const *k = keys; *k; k++) {
        const json_t *c = json_object_get(o, *k);
        if (json_is_string(c))
            names_add(out, json_string_value(c));
        else
            refs_of(c, reopen, out, depth + 1);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "children"), i, c) {
        if (json_is_string(c))
            names_add(out, json_string_value(c));
        else
            refs_of(c, reopen, out, depth + 1);
    }
}

static void step_refs(const json_t *step, Names *out)
{
    const char *cmd = json_string_value(json_object_get(step, "execute"));
    const json_t *a = json_object_get(step, "arguments");
    static const char *const members[] = { "device", "base-node", "top-node", "drive", NULL };
    if (!cmd)
        return;
    if (strcmp(cmd, "blockdev-add") == 0) {
        refs_of(a, false, out, 0);
    } else if (strcmp(cmd, "x-blockdev-reopen") == 0) {
        refs_of(a, true, out, 0);
    } else if (strcmp(cmd, "blockdev-reopen") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(a, "options"), i, e)
            refs_of(e, true, out, 0);
    } else if (strcmp(cmd, "blockdev-del") == 0) {
        const char *n = json_string_value(json_object_get(a, "node-name"));
        if (n)
            names_add(out, n);
    } else if (strcmp(cmd, "human-monitor-command") == 0) {
        const char *cl = json_string_value(json_object_get(a, "command-line"));
        char node[256];
        if (cl && sscanf(cl, "qemu-io %255s", node) == 1)
            names_add(out, node);
    } else if (strcmp(cmd, "block-stream") == 0 || strcmp(cmd, "block-commit") == 0 ||
               strcmp(cmd, "device_add") == 0) {
        for (const char *const *m = members; *m; m++) {
            const char *n = json_string_value(json_object_get(a, *m));
            if (n)
                names_add(out, n);
        }
    }
}

/* Names STEP refers to that are deleted (or, when STRICT, never defined); then apply it. */
static size_t walk_step(Walk *w, const json_t *step, bool strict, Names *bad)
{
    Names refs = {0};
    step_refs(step, &refs);
    size_t n_bad = 0;
    for (size_t i = 0; i < refs.n; i++) {
        const char *r = refs.v[i];
        if (r[0] == '#' || strstr(r, "${"))
            continue;
        if (names_has(&w->deleted, r) || (strict && !names_has(&w->known, r))) {
            names_add(bad, r);
            n_bad++;
        }
    }
    names_free(&refs);
    const char *cmd = json_string_value(json_object_get(step, "execute"));
    const json_t *a = json_object_get(step, "arguments");
    if (json_object_get(step, "shutdown")) {
        for (size_t i = 0; i < w->known.n; i++)
            names_add(&w->deleted, w->known.v[i]);
        names_free(&w->known);
    } else if (cmd && strcmp(cmd, "blockdev-add") == 0) {
        Names defs = {0};
        defs_of(a, &defs, 0);
        for (size_t i = 0; i < defs.n; i++) {
            names_add(&w->known, defs.v[i]);
            names_del(&w->deleted, defs.v[i]);
        }
        const char *top = json_string_value(json_object_get(a, "node-name"));
        if (top && w->n_groups < 256) {
            w->tops[w->n_groups] = bg_strdup(top);
            w->groups[w->n_groups++] = defs;
        } else {
            names_free(&defs);
        }
    } else if (cmd && (strcmp(cmd, "block-stream") == 0 || strcmp(cmd, "block-commit") == 0)) {
        const char *f = json_string_value(json_object_get(a, "filter-node-name"));
        if (f)
            names_add(&w->known, f);
    } else if (cmd && strcmp(cmd, "blockdev-del") == 0) {
        const char *n = json_string_value(json_object_get(a, "node-name"));
        for (size_t g = w->n_groups; n && g-- > 0;)
            if (strcmp(w->tops[g], n) == 0) {
                for (size_t i = 0; i < w->groups[g].n; i++) {
                    names_add(&w->deleted, w->groups[g].v[i]);
                    names_del(&w->known, w->groups[g].v[i]);
                }
                break;
            }
        if (n) {
            names_add(&w->deleted, n);
            names_del(&w->known, n);
        }
    }
    return n_bad;
}

static void walk_free(Walk *w)
{
    names_free(&w->known);
    names_free(&w->deleted);
    for (size_t g = 0; g < w->n_groups; g++) {
        names_free(&w->groups[g]);
        free(w->tops[g]);
    }
}

/* Lines of a stream as parsed objects (NULL for '#' and blank lines). */
static json_t *lines_of(const uint8_t *data, size_t size)
{
    json_t *arr = json_array();
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t e;
        json_t *o = n && p[0] != '#' ? json_loadb(p, n, 0, &e) : NULL;
        json_array_append_new(arr, o ? o : json_null());
        p += n + 1;
    }
    return arr;
}

static size_t bad_refs(const uint8_t *data, size_t size, bool strict, bool quiet)
{
    json_t *lines = lines_of(data, size);
    Walk w = {0};
    Names bad = {0};
    size_t n = 0, i;
    json_t *o;
    json_array_foreach(lines, i, o)
        if (json_is_object(o))
            n += walk_step(&w, o, strict, &bad);
    if (n && !quiet)
        fprintf(stderr, "  reference to a deleted or unknown node: %s\n", bad.v[0]);
    names_free(&bad);
    walk_free(&w);
    json_decref(lines);
    return n;
}

static void test_mutator_never_names_deleted_nodes(void)
{
    /* the walk itself sees a reference to a deleted node, nested ones included */
    const char *dead =
        "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": "
        "\"hd0\", \"file\": {\"driver\": \"file\", \"node-name\": \"hd0-file\", "
        "\"filename\": \"$DIR/hd0.img\"}}}\n"
        "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": \"hd0\"}}\n"
        "{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": "
        "\"qemu-io hd0-file \\\"read 0 512\\\"\"}}\n";
    CHECK(bad_refs((const uint8_t *)dead, strlen(dead), false, true) == 1);
    uint8_t *a = bg_malloc(MAX), *b = bg_malloc(MAX);
    size_t checked = 0, dels = 0;
    for (unsigned chain = 0; chain < 6; chain++) {
        /* everything in these streams comes from the mutator: nothing may be named dead */
        size_t na = bg_mutate(a, 0, MAX, chain), nb = bg_mutate(b, 0, MAX, chain + 100);
        for (unsigned step = 0; step < 100; step++) {
            unsigned seed = chain * 1000 + step;
            if (step % 8 == 7) {
                uint8_t *t = bg_malloc(MAX);
                size_t nt = bg_crossover(a, na, b, nb, t, MAX, seed);
                memcpy(a, t, nt);
                na = nt;
                free(t);
            } else {
                na = bg_mutate(a, na, MAX, seed);
            }
            CHECK(bad_refs(a, na, true, false) == 0);
            checked++;
            dels += memmem(a, na, "\"blockdev-del\"", 14) != NULL;
        }
    }
    CHECK(checked == 6 * 100);
    CHECK(dels > 0);   /* the chains do delete nodes */
    free(a);
    free(b);
}

/* Is O (expectations aside) one of the lines of INPUT (an array from lines_of())? */
static bool is_input_line(const json_t *input, const json_t *o)
{
    json_t *a = json_deep_copy(o);
    json_object_del(a, "expect");
    bool found = false;
    size_t i;
    json_t *l;
    json_array_foreach(input, i, l) {
        if (!json_is_object(l) || found)
            continue;
        json_t *b = json_deep_copy(l);
        json_object_del(b, "expect");
        found = json_equal(a, b);
        json_decref(b);
    }
    json_decref(a);
    return found;
}

static void test_mutator_keeps_seed_references_only(void)
{
    /* a seed may name deleted nodes on purpose ("Failed to find node"); edits add none */
    Corpus c;
    corpus_load(&c);
    uint8_t *buf = bg_malloc(MAX);
    for (size_t i = 0; i < c.n; i++) {
        json_t *input = lines_of((uint8_t *)c.data[i], c.size[i]);
        for (unsigned seed = 0; seed < 6; seed++) {
            size_t n = mutate_copy(c.data[i], c.size[i], buf, MAX, seed, NULL);
            json_t *lines = lines_of(buf, n);
            Walk w = {0};
            size_t k;
            json_t *o;
            json_array_foreach(lines, k, o) {
                if (!json_is_object(o))
                    continue;
                Names bad = {0};
                if (walk_step(&w, o, false, &bad)) {
                    bool original = is_input_line(input, o);
                    if (!original)
                        fprintf(stderr, "  new reference to a deleted node: %s\n", bad.v[0]);
                    CHECK(original);
                }
                names_free(&bad);
            }
            walk_free(&w);
            json_decref(lines);
        }
        json_decref(input);
    }
    free(buf);
    corpus_free(&c);
}

/* ---- sizes, bounds, expectations, garbage ---------------------------------------------------- */

static void test_mutator_output_fits_max_size(void)
{
    Corpus c;
    corpus_load(&c);
    static const size_t maxes[] = { 0, 1, 16, 64, 200, 512, 1024, 4096 };
    for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
        size_t max = maxes[m];
        uint8_t *buf = bg_malloc(max + 1);
        for (unsigned seed = 0; seed < 20; seed++) {
            const char *in = c.data[seed % c.n];
            size_t n = mutate_copy(in, c.size[seed % c.n], buf, max, seed, NULL);
            CHECK(n <= max);
            CHECK(parses(buf, n));
            uint8_t *out = bg_malloc(max + 1);
            n = bg_crossover((const uint8_t *)in, c.size[seed % c.n],
                             (const uint8_t *)c.data[(seed + 1) % c.n], c.size[(seed + 1) % c.n],
                             out, max, seed);
            CHECK(n <= max);
            CHECK(parses(out, n));
            free(out);
        }
        free(buf);
    }
    corpus_free(&c);
}

static size_t count_steps(const uint8_t *data, size_t size)
{
    BgError err = {0};
    BgStream *s = bg_stream_parse("out", (const char *)data, size, &err);
    size_t n = s ? s->n_steps : 0;
    bg_stream_free(s);
    return n;
}

static void test_mutator_streams_stay_bounded(void)
{
    uint8_t *a = bg_malloc(MAX);
    size_t n = 0, longest = 0;
    for (unsigned seed = 0; seed < 400; seed++) {
        n = bg_mutate(a, n, MAX, seed);
        size_t steps = count_steps(a, n);
        CHECK(steps <= BG_MUT_MAX_STEPS);
        if (steps > longest)
            longest = steps;
    }
    CHECK(longest > 0);
    free(a);
}

/* Every output line carrying "expect" lies in a prefix equal to the input's own lines. */
static void test_mutator_expect_only_on_unchanged_prefix(void)
{
    Corpus c;
    corpus_load(&c);
    uint8_t *buf = bg_malloc(MAX);
    size_t kept = 0;
    for (size_t i = 0; i < c.n; i++)
        for (unsigned seed = 0; seed < 8; seed++) {
            size_t n = mutate_copy(c.data[i], c.size[i], buf, MAX, seed, NULL);
            const char *o = (const char *)buf, *oend = o + n;
            const char *s = c.data[i], *send = s + c.size[i];
            bool same = true;
            while (o < oend) {
                const char *onl = memchr(o, '\n', (size_t)(oend - o));
                const char *snl = s < send ? memchr(s, '\n', (size_t)(send - s)) : NULL;
                size_t on = onl ? (size_t)(onl - o) : (size_t)(oend - o);
                size_t sn = s < send ? (snl ? (size_t)(snl - s) : (size_t)(send - s)) : 0;
                same = same && s < send && on == sn && memcmp(o, s, on) == 0;
                if (memmem(o, on, "\"expect\"", 8)) {
                    CHECK(same);
                    kept += same;
                }
                o += on + 1;
                s += s < send ? sn + 1 : 0;
            }
        }
    CHECK(kept > 0);   /* a prefix keeps its assertions */
    free(buf);
    corpus_free(&c);
}

static void test_mutator_repairs_or_replaces_garbage(void)
{
    Corpus c;
    corpus_load(&c);
    uint8_t *buf = bg_malloc(MAX);
    uint64_t x = 99;
    for (unsigned t = 0; t < 200; t++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *src = c.data[t % c.n];
        size_t n = c.size[t % c.n];
        memcpy(buf, src, n);
        /* byte-level damage as libFuzzer's own mutations would do */
        unsigned hits = 1 + (unsigned)(x >> 60);
        for (unsigned h = 0; h < hits; h++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(x >> 20) % n;
            buf[at] = (uint8_t)(x >> 8);
        }
        if (t % 5 == 0)
            n = (size_t)(x >> 30) % n;   /* truncated */
        if (t % 7 == 0) {
            for (size_t i = 0; i < 512; i++)
                buf[i] = (uint8_t)((x >> (i % 56)) ^ i);   /* noise */
            n = 512;
        }
        BgMutInfo info;
        size_t out = bg_mutate_ex(buf, n, MAX, (unsigned)t, &info);
        CHECK(out <= MAX);
        CHECK(parses(buf, out));
        CHECK(count_steps(buf, out) > 0);
    }
    /* a stream with one broken line: the line goes, the rest is used */
    const char *text = "{\"launch\": {\"machine\": \"none\"}}\n{\"execute\": \"blockdev-add\", \n"
                       "{\"execute\": \"query-named-block-nodes\"}\n";
    BgMutInfo info;
    memcpy(buf, text, strlen(text));
    size_t out = bg_mutate_ex(buf, strlen(text), MAX, 5, &info);
    CHECK(info.dropped == 1);
    CHECK(parses(buf, out));
    free(buf);
    corpus_free(&c);
}

/* ---- the job-id rule (job_timing.h) ------------------------------------------------- */

static const char reused_job_id[] =
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd0.img\", \"size\": \"3M\"}}\n"
    "{\"img-create\": {\"fmt\": \"qcow2\", \"file\": \"hd1.img\", \"backing\": \"$DIR/hd0.img\", "
    "\"backing-fmt\": \"qcow2\"}}\n"
    "{\"launch\": {\"machine\": \"none\"}}\n"
    "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": \"qcow2\", \"node-name\": "
    "\"hd1\", \"file\": {\"driver\": \"file\", \"filename\": \"$DIR/hd1.img\"}}}\n"
    "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"s0\", \"device\": \"hd1\"}}\n"
    "{\"wait-job\": \"s0\"}\n"
    "{\"execute\": \"block-stream\", \"arguments\": {\"job-id\": \"s0\", \"device\": \"hd1\"}, "
    "\"expect\": {\"return\": {}}}\n"
    "{\"run-job\": {\"id\": \"s0\", \"auto-finalize\": true, \"auto-dismiss\": true}}\n"
    "{\"execute\": \"query-named-block-nodes\"}\n";

/* How many job starts (block-stream, block-commit) of the stream TEXT take
 * an id an earlier start took. */
static size_t reused_starts(const char *text, size_t n)
{
    json_t *ids = json_object();
    size_t reused = 0;
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_t *o = json_loadb(p, len, 0, NULL);
        const char *cmd = json_string_value(json_object_get(o, "execute"));
        json_t *a = json_object_get(o, "arguments");
        const char *id = json_string_value(json_object_get(a, "job-id"));
        if (!id)
            id = json_string_value(json_object_get(a, "device"));
        if (cmd && id && (!strcmp(cmd, "block-stream") || !strcmp(cmd, "block-commit"))) {
            reused += json_object_get(ids, id) != NULL;
            json_object_set_new(ids, id, json_true());
        }
        json_decref(o);
        p += len + 1;
    }
    json_decref(ids);
    return reused;
}

/* A start that repeats an earlier job's id would let QEMU's timing decide
 * what run-job sees (regress/167): every output gives it a fresh id. */
static void test_mutator_job_starts_take_fresh_ids(void)
{
    uint8_t *buf = bg_malloc(MAX);
    CHECK_INT_EQ(reused_starts(reused_job_id, sizeof(reused_job_id) - 1), 1);
    size_t renamed = 0;
    for (unsigned seed = 1; seed <= 60; seed++) {
        size_t n = mutate_copy(reused_job_id, sizeof(reused_job_id) - 1, buf, MAX, seed, NULL);
        CHECK_INT_EQ(reused_starts((const char *)buf, n), 0);
        static const char start[] = "\"job-id\": \"s0-2\"";
        static const char drive[] = "\"run-job\": {\"id\": \"s0-2\"";
        renamed += n && memmem(buf, n, start, sizeof(start) - 1) &&
                   memmem(buf, n, drive, sizeof(drive) - 1);
    }
    CHECK(renamed > 0);      /* most edits keep both starts: the second and its run-job renamed */
    free(buf);
}

BG_SUITE(mutator) = {
    {"same_seed_same_output", test_mutator_same_seed_same_output},
    {"outputs_are_valid_and_every_kind_happens",
     test_mutator_outputs_are_valid_and_every_kind_happens},
    {"empty_input_gives_generated_stream", test_mutator_empty_input_gives_generated_stream},
    {"never_names_deleted_nodes", test_mutator_never_names_deleted_nodes},
    {"keeps_seed_references_only", test_mutator_keeps_seed_references_only},
    {"output_fits_max_size", test_mutator_output_fits_max_size},
    {"streams_stay_bounded", test_mutator_streams_stay_bounded},
    {"expect_only_on_unchanged_prefix", test_mutator_expect_only_on_unchanged_prefix},
    {"repairs_or_replaces_garbage", test_mutator_repairs_or_replaces_garbage},
    {"job_starts_take_fresh_ids", test_mutator_job_starts_take_fresh_ids},
    {NULL, NULL},
};
