/*
 * throttle.c: token buckets (see throttle.h).
 *
 * Mirrors QEMU 7.2 util/throttle.c throttle_leak_bucket(),
 * throttle_compute_wait(), throttle_account(), throttle_is_valid(),
 * throttle_limits_to_config(), and block/throttle-groups.c
 * throttle_group_set_limits(), throttle_group_set() (the unstable x-*
 * properties) and throttle_group_obj_complete(): object-add's checks.
 */
#include "throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "messages.h"
#include "qdict.h"

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

#define NANOSECONDS_PER_SECOND 1000000000.0
#define THROTTLE_VALUE_MAX 1000000000000000LL

/* ThrottleBucketType order: the member and property stems of each bucket */
static const char *const limit_names[THROTTLE_BUCKETS] = {
    "bps-total", "bps-read", "bps-write", "iops-total", "iops-read", "iops-write",
};

/* ThrottleConfig as QEMU keeps it (uint64_t fields, which the QAPI int64
 * values go into as C converts them); throttle_config_init(): lengths 1. */
typedef struct Config {
    uint64_t avg[THROTTLE_BUCKETS], max[THROTTLE_BUCKETS], len[THROTTLE_BUCKETS];
    uint64_t op_size;
} Config;

/* throttle_is_valid() */
static bool config_valid(const Config *c, BgError *err)
{
    bool bps = c->avg[THROTTLE_BPS_TOTAL] &&
               (c->avg[THROTTLE_BPS_READ] || c->avg[THROTTLE_BPS_WRITE]);
    bool ops = c->avg[THROTTLE_OPS_TOTAL] &&
               (c->avg[THROTTLE_OPS_READ] || c->avg[THROTTLE_OPS_WRITE]);
    bool bps_max = c->max[THROTTLE_BPS_TOTAL] &&
                   (c->max[THROTTLE_BPS_READ] || c->max[THROTTLE_BPS_WRITE]);
    bool ops_max = c->max[THROTTLE_OPS_TOTAL] &&
                   (c->max[THROTTLE_OPS_READ] || c->max[THROTTLE_OPS_WRITE]);
    if (bps || ops || bps_max || ops_max)
        return bg_error_setf(err, BG_MSG_THROTTLE_TOTAL_AND_RW);
    if (c->op_size && !c->avg[THROTTLE_OPS_TOTAL] && !c->avg[THROTTLE_OPS_READ] &&
        !c->avg[THROTTLE_OPS_WRITE])
        return bg_error_setf(err, BG_MSG_THROTTLE_IOPS_SIZE);
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        if (c->avg[i] > (uint64_t)THROTTLE_VALUE_MAX || c->max[i] > (uint64_t)THROTTLE_VALUE_MAX)
            return bg_error_setf(err, BG_MSG_THROTTLE_RANGE, THROTTLE_VALUE_MAX);
        if (!c->len[i])
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_ZERO);
        if (c->len[i] > 1 && !c->max[i])
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_NO_RATE);
        if (c->max[i] && c->len[i] > (uint64_t)THROTTLE_VALUE_MAX / c->max[i])
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_TOO_HIGH);
        if (c->max[i] && !c->avg[i])
            return bg_error_setf(err, BG_MSG_THROTTLE_MAX_NO_AVG);
        if (c->max[i] && c->max[i] < c->avg[i])
            return bg_error_setf(err, BG_MSG_THROTTLE_MAX_BELOW_AVG);
    }
    return true;
}

/* throttle_limits_to_config(): what LIMITS (ThrottleLimits, checked) has
 * goes into C (averages, then maxima, then burst lengths, each in bucket
 * order, then iops-size), and the result must be valid. */
static bool limits_to_config(json_t *limits, Config *c, BgError *err)
{
    char key[64];
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        json_t *v = json_object_get(limits, limit_names[i]);
        if (v)
            c->avg[i] = (uint64_t)json_integer_value(v);
    }
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        snprintf(key, sizeof(key), "%s-max", limit_names[i]);
        json_t *v = json_object_get(limits, key);
        if (v)
            c->max[i] = (uint64_t)json_integer_value(v);
    }
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        snprintf(key, sizeof(key), "%s-max-length", limit_names[i]);
        json_t *v = json_object_get(limits, key);
        if (!v)
            continue;
        if (json_integer_value(v) > (json_int_t)UINT32_MAX)
            return bg_error_setf(err, BG_MSG_THROTTLE_LENGTH_RANGE, key, UINT32_MAX);
        c->len[i] = (uint64_t)json_integer_value(v);
    }
    json_t *sz = json_object_get(limits, "iops-size");
    if (sz)
        c->op_size = (uint64_t)json_integer_value(sz);
    return config_valid(c, err);
}

/* throttle_group_set(): one unstable x-* property, VALUE of NAME. */
static bool set_x_property(const char *name, json_int_t value, Config *c, BgError *err)
{
    if (value < 0)
        return bg_error_setf(err, BG_MSG_THROTTLE_NEGATIVE);
    if (!strcmp(name, "x-iops-size")) {
        c->op_size = (uint64_t)value;
        return true;
    }
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        size_t n = strlen(limit_names[i]);
        if (strncmp(name + 2, limit_names[i], n) != 0)
            continue;
        const char *rest = name + 2 + n;
        if (!*rest) {
            c->avg[i] = (uint64_t)value;
        } else if (!strcmp(rest, "-max")) {
            c->max[i] = (uint64_t)value;
        } else if (!strcmp(rest, "-max-length")) {
            if (value > (json_int_t)UINT32_MAX)
                return bg_error_setf(err, BG_MSG_THROTTLE_X_LENGTH_RANGE, name, UINT32_MAX);
            c->len[i] = (uint64_t)value;
        } else {
            continue;
        }
        return true;
    }
    return true;   /* real_qapi_throttle_group() took no other member */
}

RealThrottleGroup *real_throttle_group_new(const char *name, json_t *props, BgError *err)
{
    Config c = { .op_size = 0 };
    for (int i = 0; i < THROTTLE_BUCKETS; i++)
        c.len[i] = 1;
    /* user_creatable_add_type(): the properties in the order QEMU's QDict
     * of them iterates (the output visitor put them in schema order; the
     * base's qom-type and id are not properties) */
    json_t *set = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(props, key, v)
        if (strcmp(key, "qom-type") && strcmp(key, "id"))
            json_object_set(set, key, v);
    size_t n;
    const char **order = qdict_order(set, &n);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        json_t *val = json_object_get(set, order[i]);
        if (!strcmp(order[i], "limits")) {
            Config next = c;   /* throttle_group_set_limits(): applied only when valid */
            ok = limits_to_config(val, &next, err);
            if (ok)
                c = next;
        } else {
            ok = set_x_property(order[i], json_integer_value(val), &c, err);
        }
    }
    free(order);
    json_decref(set);
    if (!ok)
        return NULL;
    RealThrottleGroup *tg = bg_calloc(1, sizeof(*tg));
    tg->name = bg_strdup(name);
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        tg->buckets[i].avg = (double)c.avg[i];
        tg->buckets[i].max = (double)c.max[i];
        tg->buckets[i].burst_length = c.len[i];
    }
    tg->op_size = c.op_size;
    tg->config = bg_malloc(sizeof(Config));
    memcpy(tg->config, &c, sizeof(Config));
    return tg;
}

bool real_throttle_group_complete(RealThrottleGroup *tg, BgError *err)
{
    return config_valid(tg->config, err);   /* throttle_group_obj_complete() */
}

void real_throttle_group_free(RealThrottleGroup *tg)
{
    if (!tg)
        return;
    free(tg->name);
    free(tg->config);
    free(tg);
}

/* throttle_leak_bucket() */
static void leak(RealThrottleBucket *b, int64_t delta_ns)
{
    double leaked = b->avg * (double)delta_ns / NANOSECONDS_PER_SECOND;
    b->level = dmax(b->level - leaked, 0);
    if (b->max) {
        double burst_leak = b->max * (double)delta_ns / NANOSECONDS_PER_SECOND;
        b->burst_level = dmax(b->burst_level - burst_leak, 0);
    }
}

/* throttle_compute_wait(): ns until one more unit fits. */
static int64_t compute_wait(RealThrottleBucket *b)
{
    if (!b->avg)
        return 0;
    double bucket_size, burst_bucket_size;
    if (!b->max) {
        bucket_size = b->avg / 10;
        burst_bucket_size = 0;
    } else {
        bucket_size = b->max * (double)b->burst_length;
        burst_bucket_size = b->max / 10;
    }
    double extra = b->level - bucket_size;
    if (extra > 0)
        return (int64_t)(extra / b->avg * NANOSECONDS_PER_SECOND);
    if (burst_bucket_size) {
        extra = b->burst_level - burst_bucket_size;
        if (extra > 0)
            return (int64_t)(extra / b->max * NANOSECONDS_PER_SECOND);
    }
    return 0;
}

void real_throttle_account(RealThrottleGroup *tg, int64_t *clock_ns, bool is_write,
                           uint64_t bytes)
{
    static const int bps_of[2] = { THROTTLE_BPS_READ, THROTTLE_BPS_WRITE };
    static const int ops_of[2] = { THROTTLE_OPS_READ, THROTTLE_OPS_WRITE };
    for (;;) {
        int64_t now = *clock_ns;
        int64_t delta = now - tg->previous_leak_ns;
        if (delta > 0) {
            for (int i = 0; i < THROTTLE_BUCKETS; i++)
                leak(&tg->buckets[i], delta);
            tg->previous_leak_ns = now;
        }
        int64_t wait = 0;
        int idx[4] = { THROTTLE_BPS_TOTAL, THROTTLE_OPS_TOTAL, bps_of[is_write],
                       ops_of[is_write] };
        for (int i = 0; i < 4; i++) {
            int64_t w = compute_wait(&tg->buckets[idx[i]]);
            if (w > wait)
                wait = w;
        }
        if (!wait)
            break;
        *clock_ns += wait;
    }
    double units = 1.0;
    if (tg->op_size && bytes > tg->op_size)
        units = (double)bytes / (double)tg->op_size;
    int bps[2] = { THROTTLE_BPS_TOTAL, bps_of[is_write] };
    int ops[2] = { THROTTLE_OPS_TOTAL, ops_of[is_write] };
    for (int i = 0; i < 2; i++) {
        RealThrottleBucket *b = &tg->buckets[bps[i]];
        if (b->avg) {
            b->level += (double)bytes;
            if (b->max)
                b->burst_level += (double)bytes;
        }
        b = &tg->buckets[ops[i]];
        if (b->avg) {
            b->level += units;
            if (b->max)
                b->burst_level += units;
        }
    }
}
