/*
 * throttle.c: token buckets (see throttle.h).
 *
 * Mirrors QEMU 7.2 util/throttle.c throttle_leak_bucket(),
 * throttle_compute_wait(), throttle_account(), throttle_is_valid() (the
 * limit texts) and block/throttle-groups.c throttle_group_set_limits()
 * for the ThrottleLimits members object-add accepts.
 */
#include "throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "messages.h"

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

#define NANOSECONDS_PER_SECOND 1000000000.0
#define THROTTLE_VALUE_MAX 1000000000000000LL

static const char *const limit_names[THROTTLE_BUCKETS] = {
    "bps-total", "bps-read", "bps-write", "iops-total", "iops-read", "iops-write",
};

RealThrottleGroup *real_throttle_group_new(const char *name, json_t *limits, BgError *err)
{
    RealThrottleGroup *tg = bg_calloc(1, sizeof(*tg));
    tg->name = bg_strdup(name);
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        char key[64];
        tg->buckets[i].burst_length = 1;
        json_t *v = json_object_get(limits, limit_names[i]);
        if (json_is_integer(v))
            tg->buckets[i].avg = (double)json_integer_value(v);
        snprintf(key, sizeof(key), "%s-max", limit_names[i]);
        v = json_object_get(limits, key);
        if (json_is_integer(v))
            tg->buckets[i].max = (double)json_integer_value(v);
        snprintf(key, sizeof(key), "%s-max-length", limit_names[i]);
        v = json_object_get(limits, key);
        if (json_is_integer(v))
            tg->buckets[i].burst_length = (uint64_t)json_integer_value(v);
    }
    json_t *sz = json_object_get(limits, "iops-size");
    if (json_is_integer(sz))
        tg->op_size = (uint64_t)json_integer_value(sz);

    /* throttle_is_valid() */
    bool bps_flag = tg->buckets[THROTTLE_BPS_TOTAL].avg &&
                    (tg->buckets[THROTTLE_BPS_READ].avg || tg->buckets[THROTTLE_BPS_WRITE].avg);
    bool ops_flag = tg->buckets[THROTTLE_OPS_TOTAL].avg &&
                    (tg->buckets[THROTTLE_OPS_READ].avg || tg->buckets[THROTTLE_OPS_WRITE].avg);
    if (bps_flag || ops_flag) {
        bg_error_setf(err, BG_MSG_THROTTLE_TOTAL_AND_RW);
        real_throttle_group_free(tg);
        return NULL;
    }
    for (int i = 0; i < THROTTLE_BUCKETS; i++) {
        RealThrottleBucket *b = &tg->buckets[i];
        if (b->avg < 0 || b->max < 0 || b->avg > THROTTLE_VALUE_MAX ||
            b->max > THROTTLE_VALUE_MAX) {
            bg_error_setf(err, BG_MSG_THROTTLE_RANGE,
                          THROTTLE_VALUE_MAX);
            real_throttle_group_free(tg);
            return NULL;
        }
        if (!b->burst_length) {
            bg_error_setf(err, BG_MSG_THROTTLE_BURST_ZERO);
            real_throttle_group_free(tg);
            return NULL;
        }
        if (b->burst_length > 1 && !b->max) {
            bg_error_setf(err, BG_MSG_THROTTLE_BURST_NO_RATE);
            real_throttle_group_free(tg);
            return NULL;
        }
        if (b->max && !b->avg) {
            bg_error_setf(err, BG_MSG_THROTTLE_MAX_NO_AVG);
            real_throttle_group_free(tg);
            return NULL;
        }
        if (b->max && b->max < b->avg) {
            bg_error_setf(err, BG_MSG_THROTTLE_MAX_BELOW_AVG);
            real_throttle_group_free(tg);
            return NULL;
        }
    }
    return tg;
}

void real_throttle_group_free(RealThrottleGroup *tg)
{
    if (!tg)
        return;
    free(tg->name);
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
