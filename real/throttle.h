/*
 * throttle.h: throttle groups and their token buckets on the virtual clock.
 *
 * What this is: QEMU 7.2 util/throttle.c (leaky buckets: a bucket's level
 * drains at avg units per second; a request that would overflow the burst
 * capacity waits until it fits) and block/throttle-groups.c (members of a
 * group share one ThrottleState; round-robin between members is moot
 * because every request completes within its step).  Time is the graph's
 * virtual clock (RealGraph.clock_ns): a request that must wait advances the
 * clock by the wait and then proceeds, so I/O through a throttled node is
 * deterministic and never sleeps.
 * What it is not: legacy -drive throttling (BlockBackend members).
 */
#ifndef REAL_THROTTLE_H
#define REAL_THROTTLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "graph.h"

/* QEMU ThrottleBucketType order. */
enum {
    THROTTLE_BPS_TOTAL, THROTTLE_BPS_READ, THROTTLE_BPS_WRITE,
    THROTTLE_OPS_TOTAL, THROTTLE_OPS_READ, THROTTLE_OPS_WRITE,
    THROTTLE_BUCKETS,
};

typedef struct RealThrottleBucket {
    double avg;          /* units per second, 0 = unlimited */
    double max;          /* burst size per second */
    double level;        /* units in the bucket */
    double burst_level;
    uint64_t burst_length;  /* seconds */
} RealThrottleBucket;

typedef struct RealThrottleGroup RealThrottleGroup;

struct RealThrottleGroup {
    char *name;
    int refcount;                 /* throttle nodes using it */
    RealThrottleBucket buckets[THROTTLE_BUCKETS];
    uint64_t op_size;             /* iops-size */
    int64_t previous_leak_ns;
    void *config;                 /* the configuration as set, for the completion check */
};

/* A group with object-add's properties PROPS (real_qapi_throttle_group()'s
 * output) set in QEMU's order; NULL with err (a property refused). */
RealThrottleGroup *real_throttle_group_new(const char *name, json_t *props, BgError *err);
/* throttle_group_obj_complete(): the configuration as a whole is valid. */
bool real_throttle_group_complete(RealThrottleGroup *tg, BgError *err);
void real_throttle_group_free(RealThrottleGroup *tg);
/* Account one request of BYTES; advances *clock_ns by the wait it needs. */
void real_throttle_account(RealThrottleGroup *tg, int64_t *clock_ns, bool is_write,
                           uint64_t bytes);

#endif
