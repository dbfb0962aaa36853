/*
 * test_real_backend.c: the "real" backend as the tools run it: every corpus
 * stream passes on it, the images it leaves behind are clean for QEMU's own
 * `qemu-img check` (no corruption, no leaked clusters), a stream gives the
 * same transcript twice, and job events come in QEMU's order.
 */
#include <dirent.h>
#include <jansson.h>

#include "test_real_util.h"
#include "backend.h"
#include "runner.h"
#include "stream.h"

extern const BgBackendOps bg_real_backend_ops;

/* Run every stream of DIR on real, keeping scratch directories under BASE. */
static int run_dir(const char *dir, const char *base, int *failed)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".jsonl"))
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        BgError err = { 0 };
        BgStream *s = bg_stream_load(path, &err);
        if (!s) {
            fprintf(stderr, "  %s\n", err.text);
            (*failed)++;
            continue;
        }
        const BgBackendOps *ops = &bg_real_backend_ops;
        BgRunOptions opt = { .scratch_base = base, .keep = true };
        BgRunReport rep = { 0 };
        bg_run_stream(s, &ops, 1, &opt, &rep);
        if (rep.status != BG_RUN_PASSED) {
            fprintf(stderr, "  %s: %s\n", path, rep.message ? rep.message : "failed");
            (*failed)++;
        }
        bg_run_report_cleanup(&rep);
        bg_stream_free(s);
        n++;
    }
    closedir(d);
    return n;
}

static bool has_qemu_img(void)
{
    char *out = NULL, *err = NULL;
    int rc = tr_run(NULL, &out, &err, "qemu-img", "--version", (char *)NULL);
    free(out);
    free(err);
    return rc == 0;
}

/* qemu-img check of every qcow2 image under BASE/X/ (backing files are not opened). */
static void check_images(const char *base, int *checked, int *bad)
{
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof(sub), "%s/%s", base, e->d_name);
        DIR *d2 = opendir(sub);
        struct dirent *f;
        while (d2 && (f = readdir(d2))) {
            char path[8192];
            snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
            FILE *fp = fopen(path, "rb");
            unsigned char magic[4] = { 0 };
            bool qcow2 = fp && fread(magic, 1, 4, fp) == 4 && !memcmp(magic, "QFI\xfb", 4);
            if (fp)
                fclose(fp);
            if (!qcow2)
                continue;
            char spec[9000];
            snprintf(spec, sizeof(spec),
                     "json:{\"driver\": \"qcow2\", \"backing\": null, \"file\": {\"driver\": "
                     "\"file\", \"filename\": \"%s\"}}", path);
            char *out = NULL, *err = NULL;
            int rc = tr_run(NULL, &out, &err, "qemu-img", "check", "-U", spec, (char *)NULL);
            (*checked)++;
            if (rc != 0) {
                (*bad)++;
                fprintf(stderr, "  qemu-img check %s: rc %d\n%s%s", path, rc, out, err);
            }
            free(out);
            free(err);
        }
        if (d2)
            closedir(d2);
    }
    if (d)
        closedir(d);
}

static void test_real_backend_corpus_images_clean(void)
{
    char *base = tr_mkdtemp();
    int failed = 0;
    int n = run_dir("corpus/seed", base, &failed) + run_dir("corpus/conformance", base, &failed);
    CHECK(n >= 24);
    CHECK_INT_EQ(failed, 0);
    if (has_qemu_img()) {
        int checked = 0, bad = 0;
        check_images(base, &checked, &bad);
        CHECK(checked > 0);
        CHECK_INT_EQ(bad, 0);
    }
    tr_rmdir(base);
}

/* A stream's transcript twice (the engine reads no clock and makes no random names). */
static char *transcript_of(const char *path, const char *base)
{
    BgError err = { 0 };
    BgStream *s = bg_stream_load(path, &err);
    if (!s)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *t = open_memstream(&text, &len);
    const BgBackendOps *ops = &bg_real_backend_ops;
    BgRunOptions opt = { .scratch_base = base, .transcript = { t, NULL } };
    BgRunReport rep = { 0 };
    bg_run_stream(s, &ops, 1, &opt, &rep);
    fclose(t);
    bg_run_report_cleanup(&rep);
    bg_stream_free(s);
    return text;
}

static void test_real_backend_deterministic(void)
{
    char *base = tr_mkdtemp();
    static const char *const streams[] = {
        "corpus/seed/test_block_commit_1.jsonl",
        "corpus/conformance/070-throttle-io-with-limits.jsonl",
        "corpus/conformance/158-query-multi-child-drivers-full.jsonl",
    };
    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        char *a = transcript_of(streams[i], base);
        char *b = transcript_of(streams[i], base);
        CHECK(a && b && !strcmp(a, b));
        free(a);
        free(b);
    }
    tr_rmdir(base);
}

/* The events of one job in a transcript's summary, as "status|EVENT" words. */
static void test_real_backend_job_events(void)
{
    char *base = tr_mkdtemp();
    char *t = transcript_of("corpus/seed/test_block_stream_3.jsonl", base);
    CHECK(t != NULL);
    const char *last = t ? strstr(t, "{\"summary\"") : NULL;
    json_t *sum = last ? json_loads(last, 0, NULL) : NULL;
    json_t *evs = json_object_get(json_object_get(json_object_get(sum, "summary"), "jobs"),
                                  "stream0");
    BgBuf b = { 0 };
    size_t i;
    json_t *ev;
    json_array_foreach(evs, i, ev) {
        const char *st = json_string_value(json_object_get(json_object_get(ev, "data"),
                                                           "status"));
        bg_buf_printf(&b, "%s ", st ? st : json_string_value(json_object_get(ev, "event")));
    }
    char *got = bg_buf_take(&b);
    CHECK_STR_EQ(got, "created running waiting pending BLOCK_JOB_PENDING BLOCK_JOB_COMPLETED "
                      "concluded null ");
    free(got);
    json_decref(sum);
    free(t);
    tr_rmdir(base);
}

BG_SUITE(real_backend) = {
    { "corpus_images_clean", test_real_backend_corpus_images_clean },
    { "deterministic", test_real_backend_deterministic },
    { "job_events", test_real_backend_job_events },
    { NULL, NULL },
};
