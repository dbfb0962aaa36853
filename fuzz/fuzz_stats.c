/*
 * fuzz_stats.c: fuzz_diff's count of its inputs (fuzz_stats.h).
 */
#include "fuzz_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"

static void count_command(FuzzStats *st, const char *command)
{
    for (int i = 0; i < FUZZ_STATS_COMMANDS; i++) {
        FuzzStatsCommand *c = &st->by[i];
        if (!c->n) {
            snprintf(c->name, sizeof(c->name), "%s", command);
            c->n = 1;
            return;
        }
        if (strncmp(c->name, command, sizeof(c->name) - 1) == 0) {
            c->n++;
            return;
        }
    }
    st->other++;
}

bool fuzz_stats_count(FuzzStats *st, const uint8_t *data, size_t size, size_t n_steps,
                      bool differed, const char *unsupported_at)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 0x100000001b3ull;
    bool again = st->any && h == st->last_hash && size == st->last_size;
    st->any = true;
    st->last_hash = h;
    st->last_size = size;
    if (n_steps == 0 || again)
        return false;
    st->inputs++;
    if (differed) {
        st->differed++;
    } else if (unsupported_at) {
        st->unsupported++;
        count_command(st, unsupported_at);
    }
    return true;
}

static int by_count_then_name(const void *a, const void *b)
{
    const FuzzStatsCommand *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

char *fuzz_stats_line(const FuzzStats *st)
{
    FuzzStatsCommand sorted[FUZZ_STATS_COMMANDS];
    memcpy(sorted, st->by, sizeof(sorted));
    qsort(sorted, FUZZ_STATS_COMMANDS, sizeof(sorted[0]), by_count_then_name);
    BgBuf b = {0};
    char *head = bg_asprintf("bgraph-fuzz-stats: inputs=%lu unsupported=%lu differed=%lu "
                             "unsupported-by=", st->inputs, st->unsupported, st->differed);
    bg_buf_puts(&b, head);
    free(head);
    int n = 0;
    for (int i = 0; i < FUZZ_STATS_COMMANDS && sorted[i].n; i++) {
        char *e = bg_asprintf("%s%s:%lu", n++ ? "," : "", sorted[i].name, sorted[i].n);
        bg_buf_puts(&b, e);
        free(e);
    }
    if (st->other) {
        char *e = bg_asprintf("%s(other):%lu", n++ ? "," : "", st->other);
        bg_buf_puts(&b, e);
        free(e);
    }
    bg_buf_puts(&b, n ? "\n" : "-\n");
    return bg_buf_take(&b);
}

static void open_file(FuzzStats *st, const char *dir)
{
    st->fd = -2;
    if (!dir || !*dir)
        return;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_stats: cannot create %s: %s\n", dir, strerror(errno));
        return;
    }
    for (int n = 0; n < 100; n++) {   /* a pid used again in a long campaign: -N */
        char *path = n ? bg_asprintf("%s/stats-%d-%d.txt", dir, (int)getpid(), n)
                       : bg_asprintf("%s/stats-%d.txt", dir, (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        int e = errno;
        if (fd < 0 && e != EEXIST)
            fprintf(stderr, "fuzz_stats: cannot create %s: %s\n", path, strerror(e));
        free(path);
        if (fd >= 0)
            st->fd = fd;
        if (fd >= 0 || e != EEXIST)
            return;
    }
}

void fuzz_stats_write(FuzzStats *st, const char *dir)
{
    if (st->fd == -1)
        open_file(st, dir);
    if (st->fd < 0)
        return;
    char *line = fuzz_stats_line(st);
    size_t len = strlen(line);
    if (pwrite(st->fd, line, len, 0) != (ssize_t)len || ftruncate(st->fd, (off_t)len) != 0) {
        /* a full disk loses a figure, not the campaign */
    }
    free(line);
}
