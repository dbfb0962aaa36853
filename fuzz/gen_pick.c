/*
 * gen_pick.c: choosing among what is alive (gen_pick.h).
 */
#include "gen_pick.h"

#include <string.h>

#include "bg.h"

bool gen_pick_drv_is(const MutNode *n, const char *d)
{
    return n && strcmp(n->driver, d) == 0;
}

bool gen_pick_is_format(const MutNode *n)
{
    return gen_pick_drv_is(n, "qcow2") || gen_pick_drv_is(n, "raw");
}

bool gen_pick_is_filter(const MutNode *n)
{
    return gen_pick_drv_is(n, "throttle") || gen_pick_drv_is(n, "compress") ||
           gen_pick_drv_is(n, "copy-on-read");
}

bool gen_pick_has_file_link(const char *driver)
{
    static const char *const d[] = { "qcow2", "raw", "throttle", "compress", "copy-on-read", NULL };
    for (const char *const *p = d; *p; p++)
        if (strcmp(*p, driver) == 0)
            return true;
    return false;
}

MutNode *gen_pick_node(const MutState *st, MutRand *r, GenPickPred pred, const void *arg)
{
    size_t count = 0;
    for (size_t i = 0; i < st->n_nodes; i++)
        count += !pred || pred(st, &st->nodes[i], arg);
    if (!count)
        return NULL;
    size_t k = mut_rand_below(r, count);
    for (size_t i = 0; i < st->n_nodes; i++)
        if (!pred || pred(st, &st->nodes[i], arg)) {
            if (!k--)
                return &st->nodes[i];
        }
    return NULL;
}

bool gen_pick_not_job_filter(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return !n->job_filter;
}

bool gen_pick_format_or_filter(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return (gen_pick_is_format(n) || gen_pick_is_filter(n) || gen_pick_drv_is(n, "blkdebug")) &&
           !n->job_filter;
}

bool gen_pick_other(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    return !n->job_filter && strcmp(n->name, (const char *)arg) != 0;
}

bool gen_pick_monitor_owned(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return !n->owner && !n->job_filter;
}

bool gen_pick_has_chain(const MutState *st, const MutNode *n, const void *arg)
{
    (void)arg;
    return !n->job_filter && mut_state_node(st, n->backing) != NULL;
}

bool gen_pick_filter_with_child(const MutState *st, const MutNode *n, const void *arg)
{
    (void)arg;
    return gen_pick_is_filter(n) && !n->job_filter && mut_state_node(st, n->file) != NULL;
}

bool gen_pick_throttle(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return gen_pick_drv_is(n, "throttle");
}

bool gen_pick_file_node(const MutState *st, const MutNode *n, const void *arg)
{
    (void)st;
    (void)arg;
    return gen_pick_drv_is(n, "file");
}

/* A name that no live node, job, group or device has: BASE, else BASE-1, BASE-2... */
char *gen_pick_fresh_name(const MutState *st, const char *base)
{
    char *name = bg_strdup(base);
    for (unsigned i = 1; mut_state_node(st, name) || mut_state_job(st, name) ||
                         mut_state_has_group(st, name); i++) {
        free(name);
        name = bg_asprintf("%s-%u", base, i);
    }
    return name;
}

/* PREFIX0, PREFIX1...: the first that is free. */
char *gen_pick_fresh_numbered(const MutState *st, const char *prefix)
{
    for (unsigned i = 0;; i++) {
        char *name = bg_asprintf("%s%u", prefix, i);
        bool used = mut_state_node(st, name) || mut_state_job(st, name) ||
                    mut_state_has_group(st, name);
        for (size_t k = 0; !used && k < st->n_iothreads; k++)
            used = strcmp(st->iothreads[k], name) == 0;
        for (size_t k = 0; !used && k < st->n_scsi; k++)
            used = strcmp(st->scsi[k], name) == 0;
        if (!used)
            return name;
        free(name);
    }
}

bool gen_pick_image_in_use(const MutState *st, const char *file)
{
    for (size_t i = 0; i < st->n_nodes; i++)
        if (st->nodes[i].image && strcmp(st->nodes[i].image, file) == 0)
            return true;
    return false;
}

/* The image's stem: "hd1.img" -> "hd1". */
char *gen_pick_image_stem(const char *file)
{
    const char *dot = strrchr(file, '.');
    return dot ? bg_strndup(file, (size_t)(dot - file)) : bg_strdup(file);
}

const MutImage *gen_pick_image(const MutState *st, MutRand *r, const char *fmt)
{
    size_t count = 0, free_count = 0;
    for (size_t i = 0; i < st->n_images; i++)
        if (!fmt || strcmp(st->images[i].fmt, fmt) == 0) {
            count++;
            free_count += !gen_pick_image_in_use(st, st->images[i].file);
        }
    if (!count)
        return NULL;
    bool want_free = free_count && mut_rand_chance(r, 85);
    size_t k = mut_rand_below(r, want_free ? free_count : count);
    for (size_t i = 0; i < st->n_images; i++)
        if ((!fmt || strcmp(st->images[i].fmt, fmt) == 0) &&
            (!want_free || !gen_pick_image_in_use(st, st->images[i].file)) && !k--)
            return &st->images[i];
    return NULL;
}
