/*
 * mut_values.c: option tables and value choice (mut_values.h).
 *
 * Provenance of the boundaries (QEMU 7.2.0): block/qcow2.c read_cache_sizes()
 * ("l2-cache-size may not exceed cache-size", "refcount-cache-size may not
 * exceed cache-size", "cache-size, l2-cache-size and refcount-cache-size may
 * not be set at the same time", MIN_L2_CACHE_SIZE 2 clusters,
 * MIN_REFCOUNT_CACHE_SIZE 4 clusters, DEFAULT_L2_CACHE_MAX_SIZE 32 MiB, "L2
 * cache entry size must be a power of two between 512 and the cluster size"),
 * qcow2_update_options_prepare() ("Cache clean interval too big" above
 * UINT_MAX, "L2 cache size too big" / "Refcount cache size too big" above
 * INT_MAX); block/raw-format.c raw_apply_options(); block/null.c;
 * block/file-posix.c (aio=native needs cache.direct); block/blkdebug.c
 * (align a power of two).
 */
#include "mut_values.h"

#include <string.h>

#include "bg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* No cache of gigabytes: "L2/Refcount cache size too big" needs 2^31
 * entries (terabytes), so such a value only makes QEMU and the engine
 * allocate it (the model answers unsupported above 512 MiB, and libFuzzer
 * stops on its malloc limit). */
static const int64_t cache_sizes[] = {
    0, 1, 512, 65535, 65536, 65537, 131071, 131072, 262143, 262144, 524288, 1048576,
    2097152, 33554432, 33554433
};
static const int64_t l2_entry_sizes[] = { 0, 256, 511, 512, 513, 1024, 4096, 32768, 65536,
                                          65537, 131072 };
static const int64_t clean_intervals[] = { 0, 1, 600, 4294967295ll, 4294967296ll };
static const int64_t aio_batches[] = { 0, 1, 32, 128, 1024 };
static const int64_t null_sizes[] = { 0, 512, 1024, 65536, 1048576, 3145728, 1073741824 };
static const int64_t latencies[] = { 0, 1, 1000, 1000000 };
static const int64_t aligns[] = { 1, 3, 512, 4096, 65536 };
static const int64_t transfers[] = { 0, 512, 4096, 65536, 1048576 };
static const int64_t thresholds[] = { 0, 1, 2, 3 };

static const MutOpt opts[] = {
    /* union BlockdevOptions, base */
    { "", "read-only", MUT_V_BOOL, NULL, NULL, 0, 6 },
    { "", "auto-read-only", MUT_V_BOOL, NULL, NULL, 0, 2 },
    { "", "detect-zeroes", MUT_V_ENUM, "off|on|unmap", NULL, 0, 4 },
    { "", "discard", MUT_V_ENUM, "ignore|unmap", NULL, 0, 4 },
    { "", "cache.direct", MUT_V_BOOL, NULL, NULL, 0, 1 },
    { "", "cache.no-flush", MUT_V_BOOL, NULL, NULL, 0, 2 },
    { "", "force-share", MUT_V_BOOL, NULL, NULL, 0, 1 },
    /* BlockdevOptionsFile */
    { "file", "locking", MUT_V_ENUM, "on|off|auto", NULL, 0, 3 },
    { "file", "aio", MUT_V_ENUM, "threads|native|io_uring", NULL, 0, 2 },
    { "file", "aio-max-batch", MUT_V_INT, NULL, aio_batches, N(aio_batches), 1 },
    { "file", "drop-cache", MUT_V_BOOL, NULL, NULL, 0, 1 },
    { "file", "x-check-cache-dropped", MUT_V_BOOL, NULL, NULL, 0, 1 },
    /* BlockdevOptionsQcow2 */
    { "qcow2", "lazy-refcounts", MUT_V_BOOL, NULL, NULL, 0, 2 },
    { "qcow2", "pass-discard-request", MUT_V_BOOL, NULL, NULL, 0, 2 },
    { "qcow2", "pass-discard-snapshot", MUT_V_BOOL, NULL, NULL, 0, 1 },
    { "qcow2", "pass-discard-other", MUT_V_BOOL, NULL, NULL, 0, 1 },
    { "qcow2", "overlap-check", MUT_V_ENUM, "none|constant|cached|all", NULL, 0, 1 },
    { "qcow2", "cache-size", MUT_V_INT, NULL, cache_sizes, N(cache_sizes), 3 },
    { "qcow2", "l2-cache-size", MUT_V_INT, NULL, cache_sizes, N(cache_sizes), 4 },
    { "qcow2", "refcount-cache-size", MUT_V_INT, NULL, cache_sizes, N(cache_sizes), 3 },
    { "qcow2", "l2-cache-entry-size", MUT_V_INT, NULL, l2_entry_sizes, N(l2_entry_sizes), 3 },
    { "qcow2", "cache-clean-interval", MUT_V_INT, NULL, clean_intervals, N(clean_intervals), 2 },
    /* BlockdevOptionsRaw */
    { "raw", "offset", MUT_V_SIZE_REL, NULL, NULL, 0, 5 },
    { "raw", "size", MUT_V_SIZE_REL, NULL, NULL, 0, 5 },
    /* BlockdevOptionsThrottle, BlockdevOptionsCor */
    { "throttle", "throttle-group", MUT_V_GROUP, NULL, NULL, 0, 6 },
    { "copy-on-read", "bottom", MUT_V_NODE, NULL, NULL, 0, 2 },
    /* BlockdevOptionsNull */
    { "null-co", "size", MUT_V_INT, NULL, null_sizes, N(null_sizes), 3 },
    { "null-co", "latency-ns", MUT_V_INT, NULL, latencies, N(latencies), 1 },
    { "null-co", "read-zeroes", MUT_V_BOOL, NULL, NULL, 0, 3 },
    { "null-aio", "size", MUT_V_INT, NULL, null_sizes, N(null_sizes), 3 },
    { "null-aio", "latency-ns", MUT_V_INT, NULL, latencies, N(latencies), 1 },
    { "null-aio", "read-zeroes", MUT_V_BOOL, NULL, NULL, 0, 3 },
    /* BlockdevOptionsBlkdebug */
    { "blkdebug", "align", MUT_V_INT, NULL, aligns, N(aligns), 2 },
    { "blkdebug", "max-transfer", MUT_V_INT, NULL, transfers, N(transfers), 1 },
    /* BlockdevOptionsQuorum */
    { "quorum", "vote-threshold", MUT_V_INT, NULL, thresholds, N(thresholds), 2 },
    { "quorum", "read-pattern", MUT_V_ENUM, "quorum|fifo", NULL, 0, 1 },
    { "quorum", "rewrite-corrupted", MUT_V_BOOL, NULL, NULL, 0, 1 },
    { "quorum", "blkverify", MUT_V_BOOL, NULL, NULL, 0, 1 },
};

const MutOpt *mut_values_pick_opt(const char *driver, MutRand *r)
{
    unsigned w[N(opts)];
    for (size_t i = 0; i < N(opts); i++) {
        bool own = driver && driver[0] && strcmp(opts[i].driver, driver) == 0;
        w[i] = own ? opts[i].weight * 3 : !opts[i].driver[0] ? opts[i].weight : 0;
    }
    return &opts[mut_rand_weighted(r, w, N(opts))];
}

/* The number of values of an '|'-separated list. */
static size_t enum_count(const char *list)
{
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == '|';
    return n;
}

/* The I-th value of an '|'-separated list. */
static json_t *enum_value(const char *list, size_t i)
{
    const char *p = list;
    while (i-- && (p = strchr(p, '|')) != NULL)
        p++;
    if (!p)
        return json_string("");
    const char *end = strchr(p, '|');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    return json_stringn(p, n);
}

static int64_t size_rel(MutRand *r, uint64_t ref)
{
    const uint64_t cap = 1ull << 30;   /* policy.c: raw offset/size at most 1 GiB */
    if (ref > cap)
        ref = cap;
    uint64_t half = (ref / 2) & ~511ull;
    uint64_t table[] = { 0, 1, 511, 512, 4096, 65536, half, ref > 512 ? ref - 512 : 0,
                         ref ? ref - 1 : 0, ref, ref + 1, ref + 512, ref * 2, 1048576, 3145728 };
    uint64_t v = table[mut_rand_below(r, N(table))];
    return (int64_t)(v > cap ? cap : v);
}

static json_t *pick_once(const MutOpt *opt, MutRand *r, uint64_t ref_size)
{
    switch (opt->kind) {
    case MUT_V_BOOL:
        return json_boolean(mut_rand_chance(r, 50));
    case MUT_V_ENUM:
        return enum_value(opt->enums, mut_rand_below(r, enum_count(opt->enums)));
    case MUT_V_INT:
        return json_integer(opt->ints[mut_rand_below(r, opt->n_ints)]);
    case MUT_V_SIZE_REL:
        return json_integer(size_rel(r, ref_size));
    case MUT_V_GROUP:
    case MUT_V_NODE:
        break;
    }
    return NULL;
}

json_t *mut_values_pick(const MutOpt *opt, MutRand *r, uint64_t ref_size, const json_t *current)
{
    json_t *v = NULL;
    for (int tries = 0; tries < 4; tries++) {
        json_decref(v);
        v = pick_once(opt, r, ref_size);
        if (!v || !current || !json_equal(v, (json_t *)current))
            break;
    }
    if (v && current && json_equal(v, (json_t *)current) && opt->kind == MUT_V_BOOL) {
        json_decref(v);
        v = json_boolean(!json_is_true(current));
    }
    return v;
}

json_t *mut_values_pick_named(const char *driver, const char *name, MutRand *r, uint64_t ref_size)
{
    for (size_t i = 0; i < N(opts); i++)
        if ((strcmp(opts[i].driver, driver) == 0 || !opts[i].driver[0]) &&
            strcmp(opts[i].name, name) == 0)
            return pick_once(&opts[i], r, ref_size);
    return NULL;
}

/* ---- dotted member access ----------------------------------------------------------------- */

json_t *mut_values_get(const json_t *obj, const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot)
        return json_object_get(obj, name);
    char head[64];
    size_t n = (size_t)(dot - name);
    if (n >= sizeof(head))
        return NULL;
    memcpy(head, name, n);
    head[n] = '\0';
    return json_object_get(json_object_get(obj, head), dot + 1);
}

void mut_values_set(json_t *obj, const char *name, json_t *v)
{
    const char *dot = strchr(name, '.');
    if (!dot) {
        json_object_set_new(obj, name, v);
        return;
    }
    char head[64];
    size_t n = (size_t)(dot - name);
    if (n >= sizeof(head)) {
        json_decref(v);
        return;
    }
    memcpy(head, name, n);
    head[n] = '\0';
    json_t *sub = json_object_get(obj, head);
    if (!json_is_object(sub)) {
        sub = json_object();
        json_object_set_new(obj, head, sub);
    }
    json_object_set_new(sub, dot + 1, v);
}

bool mut_values_del(json_t *obj, const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot)
        return json_object_del(obj, name) == 0;
    char head[64];
    size_t n = (size_t)(dot - name);
    if (n >= sizeof(head))
        return false;
    memcpy(head, name, n);
    head[n] = '\0';
    json_t *sub = json_object_get(obj, head);
    if (!json_is_object(sub) || json_object_del(sub, dot + 1) != 0)
        return false;
    if (!json_object_size(sub))
        json_object_del(obj, head);
    return true;
}
