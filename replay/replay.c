/*
 * replay.c: run command streams on a backend, or two backends compared.
 *
 *   replay [--backend=NAME[,NAME]] [--transcript=PATH] [--scratch=DIR]
 *          [--keep] [-v] STREAM|DIR...
 *   replay --record=PATH [--backend=NAME] STREAM|DIR...
 *   replay --minimize=OUT --backend=A,B STREAM
 *
 * One line per stream (passed, or the first failed assertion / the first
 * difference between backends), then "N passed, M failed" counting
 * streams.  Exit status (streams.md): 0 all passed, 1 an assertion failed or
 * the backends differ, 2 a stream could not be run (bad input, a backend
 * that failed).  A directory stands for its *.jsonl files in name order.
 * --transcript: with one stream and one backend PATH is the transcript
 * file; otherwise PATH is a directory receiving STEM.BACKEND.jsonl.
 * --record: write each stream back with its expectations filled from the
 * backend's answers (record.h); with one stream PATH is the output file,
 * otherwise a directory receiving files of the same names.
 * --compare-data: with two backends, also compare the guest-visible bytes
 * of every node both list after each step that can change data.
 * --minimize: shrink a stream on which two backends differ, keeping the
 * difference (minimize.h), and write the result to OUT.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend.h"
#include "bg.h"
#include "minimize.h"
#include "record.h"
#include "runner.h"
#include "stream.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: replay [--backend=NAME[,NAME]] [--transcript=PATH] [--scratch=DIR]\n"
            "              [--keep] [-v] [--record=PATH] [--compare-data] STREAM|DIR...\n"
            "       replay --minimize=OUT --backend=A,B STREAM\n"
            "       replay --list-backends\n"
            "backends: %s (default: the first one available)\n",
            bg_backend_names());
}

/* --list-backends: the backends available here, one per line. */
static int list_backends(void)
{
    char *names = bg_strdup(bg_backend_names()), *save = NULL;
    for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
        const BgBackendOps *ops = bg_backend_find(n);
        if (!ops->available || ops->available())
            printf("%s\n", n);
    }
    free(names);
    return 0;
}

/* --minimize=OUT: one stream, two backends. */
static int run_minimize(const char *out, const BgBackendOps *const *backends, int n_backends,
                        const BgRunOptions *opt, int n_files, char **files)
{
    if (n_backends != 2 || n_files != 1) {
        fprintf(stderr, "replay: --minimize takes two backends and one stream\n");
        return 2;
    }
    BgError err = {0};
    BgStream *s = bg_stream_load(files[0], &err);
    if (!s) {
        fprintf(stderr, "%s\n", err.text);
        return 2;
    }
    char *text = NULL;
    int runs = 0;
    bool ok = minimize_stream(s, backends, opt, &text, &runs, &err);
    size_t before = s->n_steps;
    bg_stream_free(s);
    if (!ok) {
        fprintf(stderr, "%s\n", err.text);
        return 2;
    }
    FILE *f = fopen(out, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "replay: cannot write %s\n", out);
        free(text);
        return 2;
    }
    size_t after = 0;
    for (const char *p = text; *p; p++)
        after += *p == '\n';
    printf("minimized %s: %zu steps -> %zu (%d runs), written to %s\n", files[0], before, after,
           runs, out);
    free(text);
    return 0;
}

typedef struct Files {
    char **v;
    size_t n;
} Files;

static void files_add(Files *f, char *take)
{
    f->v = bg_realloc(f->v, (f->n + 1) * sizeof(*f->v));
    f->v[f->n++] = take;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand a directory into its *.jsonl files, subdirectories included, in
 * name order; a file stays itself. */
static bool expand(const char *arg, Files *out)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(arg);
        if (!d) {
            fprintf(stderr, "%s: cannot open directory: %s\n", arg, strerror(errno));
            return false;
        }
        Files local = {0};
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (e->d_name[0] == '.')
                continue;
            char *path = bg_asprintf("%s/%s", arg, e->d_name);
            struct stat sub;
            if ((n > 6 && strcmp(e->d_name + n - 6, ".jsonl") == 0) ||
                (stat(path, &sub) == 0 && S_ISDIR(sub.st_mode)))
                files_add(&local, path);
            else
                free(path);
        }
        closedir(d);
        if (local.n)
            qsort(local.v, local.n, sizeof(*local.v), cmp_str);
        bool ok = true;
        for (size_t i = 0; i < local.n; i++) {
            if (ok && !expand(local.v[i], out))
                ok = false;
            free(local.v[i]);
        }
        free(local.v);
        return ok;
    }
    files_add(out, bg_strdup(arg));
    return true;
}

static char *stem_of(const char *path)
{
    char *copy = bg_strdup(path);
    char *b = bg_strdup(basename(copy));
    free(copy);
    size_t n = strlen(b);
    if (n > 6 && strcmp(b + n - 6, ".jsonl") == 0)
        b[n - 6] = '\0';
    return b;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"transcript", required_argument, NULL, 't'},
        {"scratch", required_argument, NULL, 's'},
        {"keep", no_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"list-backends", no_argument, NULL, 'l'},
        {"record", required_argument, NULL, 'r'},
        {"minimize", required_argument, NULL, 'm'},
        {"compare-data", no_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    const char *backend_arg = NULL, *transcript = NULL, *record = NULL, *minimize = NULL;
    BgRunOptions opt = {0};
    int c;

    json_object_seed(1);   /* fixed hash seed: same stream, same bytes */
    signal(SIGPIPE, SIG_IGN);
    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': backend_arg = optarg; break;
        case 't': transcript = optarg; break;
        case 's': opt.scratch_base = optarg; break;
        case 'k': opt.keep = true; break;
        case 'v': opt.verbose = true; break;
        case 'h': usage(stdout); return 0;
        case 'l': return list_backends();
        case 'r': record = optarg; break;
        case 'm': minimize = optarg; break;
        case 'd': opt.compare_data = true; break;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }

    const BgBackendOps *backends[2];
    int n_backends = 0;
    if (backend_arg) {
        char *list = bg_strdup(backend_arg), *save = NULL;
        for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            if (n_backends == 2) {
                fprintf(stderr, "replay: at most two backends can be compared\n");
                free(list);
                return 2;
            }
            const BgBackendOps *ops = bg_backend_find(name);
            if (!ops) {
                fprintf(stderr, "replay: unknown backend '%s' (known: %s)\n", name,
                        bg_backend_names());
                free(list);
                return 2;
            }
            if (ops->available && !ops->available()) {
                fprintf(stderr, "replay: backend '%s' is not available on this machine%s\n",
                        name, strcmp(name, "qemu") == 0 ? " (run 'make deps')" : "");
                free(list);
                return 2;
            }
            backends[n_backends++] = ops;
        }
        free(list);
        if (n_backends == 0) {
            fprintf(stderr, "replay: --backend needs a name\n");
            return 2;
        }
    } else {
        backends[0] = bg_backend_default();
        if (!backends[0]) {
            fprintf(stderr, "replay: no backend is available (run 'make deps')\n");
            return 2;
        }
        n_backends = 1;
    }

    if (minimize)
        return run_minimize(minimize, backends, n_backends, &opt, argc - optind, argv + optind);
    if (record && n_backends != 1) {
        fprintf(stderr, "replay: --record takes one backend\n");
        return 2;
    }
    Files files = {0};
    for (int i = optind; i < argc; i++)
        if (!expand(argv[i], &files))
            return 2;
    if (files.n == 0) {
        fprintf(stderr, "replay: no streams (*.jsonl) in %s\n", argv[optind]);
        return 2;
    }
    bool transcript_dir = transcript && (files.n > 1 || n_backends > 1);
    bool record_dir = record && files.n > 1;
    if (record_dir && mkdir(record, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "replay: cannot create %s: %s\n", record, strerror(errno));
        return 2;
    }
    if (transcript_dir && mkdir(transcript, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "replay: cannot create %s: %s\n", transcript, strerror(errno));
        return 2;
    }

    int passed = 0, failed = 0, status = 0;
    for (size_t i = 0; i < files.n; i++) {
        BgError err = {0};
        BgStream *s = bg_stream_load(files.v[i], &err);
        if (!s) {
            fprintf(stderr, "%s\n", err.text);
            printf("ERROR  %s\n", files.v[i]);
            failed++;
            status = 2;
            continue;
        }
        bool open_failed = false;
        for (int b = 0; b < n_backends; b++) {
            opt.transcript[b] = NULL;
            if (!transcript)
                continue;
            char *stem = stem_of(files.v[i]);
            char *path = transcript_dir
                             ? bg_asprintf("%s/%s.%s.jsonl", transcript, stem, backends[b]->name)
                             : bg_strdup(transcript);
            free(stem);
            opt.transcript[b] = fopen(path, "w");
            if (!opt.transcript[b]) {
                fprintf(stderr, "replay: cannot write %s: %s\n", path, strerror(errno));
                open_failed = true;
            }
            free(path);
        }
        BgRunReport rep = {0};
        BgRecorder *rec = record ? record_new() : NULL;
        opt.on_step = rec ? record_step : NULL;
        opt.hook_opaque = rec;
        if (!open_failed)
            bg_run_stream(s, backends, n_backends, &opt, &rep);
        else
            rep.status = BG_RUN_ERROR;
        if (rec && rep.status != BG_RUN_ERROR) {
            char *stem = stem_of(files.v[i]);
            char *path = record_dir ? bg_asprintf("%s/%s.jsonl", record, stem) : bg_strdup(record);
            free(stem);
            BgError rerr = {0};
            BgStream *recorded = NULL;
            size_t len = 0;
            char *text = record_write(rec, files.v[i], path, &len, &rerr);
            if (text)
                recorded = bg_stream_parse(path, text, len, &rerr);
            free(text);
            /* What failed may be an old expectation the recording replaces:
             * judge the recorded stream by running it again. */
            bg_run_report_cleanup(&rep);
            if (recorded) {
                BgRunOptions again = opt;
                again.on_step = NULL;
                for (int b = 0; b < n_backends; b++)
                    again.transcript[b] = NULL;
                bg_run_stream(recorded, backends, n_backends, &again, &rep);
                bg_stream_free(recorded);
            } else {
                rep.status = BG_RUN_ERROR;
                rep.message = bg_asprintf("replay: %s", rerr.text);
            }
            free(path);
        }
        record_free(rec);
        for (int b = 0; b < n_backends; b++)
            if (opt.transcript[b])
                fclose(opt.transcript[b]);
        if (rep.status == BG_RUN_PASSED) {
            printf("passed %s (%d assertions%s)\n", files.v[i], rep.assertions,
                   rep.unsupported ? ", some steps unsupported" : "");
            passed++;
        } else {
            printf("%s %s\n", rep.status == BG_RUN_ERROR ? "ERROR " : "FAILED", rep.message
                   ? rep.message : files.v[i]);
            if (rep.status == BG_RUN_ERROR && rep.message)
                fprintf(stderr, "%s\n", rep.message);
            failed++;
            if ((int)rep.status > status)
                status = (int)rep.status;
        }
        fflush(stdout);
        bg_run_report_cleanup(&rep);
        bg_stream_free(s);
    }
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    free(files.v);
    printf("%d passed, %d failed\n", passed, failed);
    return status;
}
