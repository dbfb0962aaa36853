/*
 * model_throttle.c: object-add of a throttle-group, and its checks.
 *
 * What this is: the throttle-group branch of object-add from the QMP
 * arguments to the finished object, in QEMU's order, each step a plain
 * function:
 *   1. the QAPI visit of ThrottleGroupProperties (members in schema order:
 *      `limits`, its ThrottleLimits members in their order, then the
 *      unstable x-* members; an unknown member after all known ones);
 *   2. the properties set one by one in the order QEMU's QDict of them
 *      iterates (user_creatable_add_type()): `limits` puts what it holds
 *      into a copy of the configuration and checks the whole of it
 *      (throttle_limits_to_config()), an x-* property sets one value,
 *      refusing a negative one and a burst length above UINT_MAX;
 *   3. the id taken in /objects (a duplicate fails here, after 2);
 *   4. the configuration checked as a whole (throttle_group_obj_complete()).
 * The configuration is kept as QEMU keeps it: unsigned 64-bit averages,
 * maxima and burst lengths (a negative QAPI value becomes a huge one).
 * What it is not: throttling.  The model keeps no clock; a group's limits
 * change when requests complete, never what they read or write.
 *
 * Mirrors QEMU 7.2.0 qom/object_interfaces.c user_creatable_add_qapi() /
 * user_creatable_add_type(), block/throttle-groups.c throttle_group_set(),
 * throttle_group_set_limits(), throttle_group_obj_complete(), util/throttle.c
 * throttle_config_init(), throttle_limits_to_config(), throttle_is_valid();
 * qapi/block-core.json ThrottleLimits, qapi/qom.json ThrottleGroupProperties.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "messages.h"
#include "model.h"

#define VALUE_MAX 1000000000000000ULL          /* THROTTLE_VALUE_MAX */

/* The buckets in ThrottleBucketType order, by the names their members share. */
enum { BPS_TOTAL, BPS_READ, BPS_WRITE, OPS_TOTAL, OPS_READ, OPS_WRITE, N_BUCKETS };
static const char *const bucket_name[N_BUCKETS] = {
    "bps-total", "bps-read", "bps-write", "iops-total", "iops-read", "iops-write",
};

/* ThrottleLimits' members, in schema order; ThrottleGroupProperties' x-*
 * members are the same with "x-" before them, in the same order. */
static const char *const limits_members[] = {
    "iops-total", "iops-total-max", "iops-total-max-length", "iops-read", "iops-read-max",
    "iops-read-max-length", "iops-write", "iops-write-max", "iops-write-max-length",
    "bps-total", "bps-total-max", "bps-total-max-length", "bps-read", "bps-read-max",
    "bps-read-max-length", "bps-write", "bps-write-max", "bps-write-max-length", "iops-size",
};
#define N_LIMITS (sizeof(limits_members) / sizeof(limits_members[0]))

typedef struct Config {
    uint64_t avg[N_BUCKETS], max[N_BUCKETS], length[N_BUCKETS];
    uint64_t op_size;
} Config;

/* ---- 1. the QAPI visit ---------------------------------------------------------------- */

/* Every member of OBJ named in NAMES (N of them, in visit order; PREFIX
 * before each, path PATH) is an integer, and OBJ has no other member than
 * those and the N_OTHER in OTHER. */
static bool visit_ints(const json_t *obj, const char *path, const char *prefix,
                       const char *const *names, size_t n, const char *const *other,
                       size_t n_other, BgError *err)
{
    const char *taken[64];
    size_t n_taken = 0;
    for (size_t i = 0; i < n_other; i++)
        if (json_object_get(obj, other[i]))
            taken[n_taken++] = other[i];
    char key[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%s%s", prefix, names[i]);
        json_t *v = json_object_get(obj, key);
        if (!v)
            continue;
        if (!json_is_integer(v)) {
            char *full = path[0] ? bg_asprintf("%s.%s", path, key) : bg_strdup(key);
            bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, full, "integer");
            free(full);
            return false;
        }
        /* the key's text lives in OBJ */
        const char *k;
        json_t *val;
        json_object_foreach((json_t *)obj, k, val)
            if (strcmp(k, key) == 0)
                taken[n_taken++] = k;
    }
    const char *bad = model_qapi_first_unexpected(obj, taken, n_taken);
    if (bad) {
        char *full = path[0] ? bg_asprintf("%s.%s", path, bad) : bg_strdup(bad);
        bg_error_setf(err, BG_MSG_QAPI_UNEXPECTED, full);
        free(full);
        return false;
    }
    return true;
}


static bool visit_properties(const json_t *args, BgError *err)
{
    json_t *limits = json_object_get(args, "limits");
    if (limits && !json_is_object(limits))
        return bg_error_setf(err, BG_MSG_QAPI_INVALID_TYPE, "limits", "object");
    if (limits && !visit_ints(limits, "limits", "", limits_members, N_LIMITS, NULL, 0, err))
        return false;
    static const char *const base[] = { "qom-type", "id", "limits" };
    return visit_ints(args, "", "x-", limits_members, N_LIMITS, base, 3, err);
}

/* ---- 2-4. the configuration ------------------------------------------------------------ */

/* Which bucket and which of its values MEMBER ("iops-read-max") names:
 * 0 average, 1 maximum, 2 burst length; -1: iops-size. */
static int member_bucket(const char *member, int *what)
{
    for (int b = 0; b < N_BUCKETS; b++) {
        size_t n = strlen(bucket_name[b]);
        if (strncmp(member, bucket_name[b], n) != 0)
            continue;
        const char *rest = member + n;
        *what = !*rest ? 0 : strcmp(rest, "-max") == 0 ? 1 : strcmp(rest, "-max-length") == 0 ? 2 : -1;
        if (*what >= 0)
            return b;
    }
    return -1;
}

/* throttle_is_valid() */
static bool config_valid(const Config *c, BgError *err)
{
    bool together = false;
    for (int total = BPS_TOTAL; total <= OPS_TOTAL; total += OPS_TOTAL - BPS_TOTAL) {
        together |= c->avg[total] && (c->avg[total + 1] || c->avg[total + 2]);
        together |= c->max[total] && (c->max[total + 1] || c->max[total + 2]);
    }
    if (together)
        return bg_error_setf(err, BG_MSG_THROTTLE_TOTAL_AND_RW);
    if (c->op_size && !c->avg[OPS_TOTAL] && !c->avg[OPS_READ] && !c->avg[OPS_WRITE])
        return bg_error_setf(err, BG_MSG_THROTTLE_IOPS_SIZE);
    for (int b = 0; b < N_BUCKETS; b++) {
        if (c->avg[b] > VALUE_MAX || c->max[b] > VALUE_MAX)
            return bg_error_setf(err, BG_MSG_THROTTLE_RANGE, (long long)VALUE_MAX);
        if (c->length[b] == 0)
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_ZERO);
        if (c->length[b] > 1 && c->max[b] == 0)
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_NO_RATE);
        if (c->max[b] && c->length[b] > VALUE_MAX / c->max[b])
            return bg_error_setf(err, BG_MSG_THROTTLE_BURST_TOO_HIGH);
        if (c->max[b] && !c->avg[b])
            return bg_error_setf(err, BG_MSG_THROTTLE_MAX_NO_AVG);
        if (c->max[b] && c->max[b] < c->avg[b])
            return bg_error_setf(err, BG_MSG_THROTTLE_MAX_BELOW_AVG);
    }
    return true;
}

/* throttle_limits_to_config(): the averages, the maxima, the burst lengths
 * (each bucket in order), iops-size; then the whole is checked. */
static bool set_limits(const json_t *limits, Config *c, BgError *err)
{
    for (int what = 0; what < 3; what++) {
        for (int b = 0; b < N_BUCKETS; b++) {
            char name[64];
            snprintf(name, sizeof(name), "%s%s", bucket_name[b],
                     what == 0 ? "" : what == 1 ? "-max" : "-max-length");
            json_t *v = json_object_get(limits, name);
            if (!v)
                continue;
            json_int_t x = json_integer_value(v);
            if (what == 2 && x > (json_int_t)UINT32_MAX)
                return bg_error_setf(err, BG_MSG_THROTTLE_LENGTH_RANGE, name, UINT32_MAX);
            uint64_t *slot = what == 0 ? c->avg : what == 1 ? c->max : c->length;
            slot[b] = (uint64_t)x;
        }
    }
    json_t *size = json_object_get(limits, "iops-size");
    if (size)
        c->op_size = (uint64_t)json_integer_value(size);
    return config_valid(c, err);
}

/* throttle_group_set(): the unstable property x-MEMBER. */
static bool set_x(const char *member, json_int_t v, Config *c, BgError *err)
{
    if (v < 0)
        return bg_error_setf(err, BG_MSG_THROTTLE_NEGATIVE);
    if (strcmp(member, "iops-size") == 0) {
        c->op_size = (uint64_t)v;
        return true;
    }
    int what;
    int b = member_bucket(member, &what);
    if (b < 0)
        return true;
    if (what == 2 && v > (json_int_t)UINT32_MAX) {
        char *name = bg_asprintf("x-%s", member);
        bg_error_setf(err, BG_MSG_THROTTLE_X_LENGTH_RANGE, name, UINT32_MAX);
        free(name);
        return false;
    }
    (what == 0 ? c->avg : what == 1 ? c->max : c->length)[b] = (uint64_t)v;
    return true;
}

bool model_throttle_group_add(ModelWorld *w, const json_t *args, const char *id, BgError *err)
{
    if (!visit_properties(args, err))
        return false;
    Config c = { .op_size = 0 };
    for (int b = 0; b < N_BUCKETS; b++)
        c.length[b] = 1;                         /* throttle_config_init() */
    /* the output visitor's QDict: the properties present, in schema order */
    ModelQDict *props = model_qdict_new();
    json_t *limits = json_object_get(args, "limits");
    if (limits)
        model_qdict_put(props, "limits", json_incref(limits));
    for (size_t i = 0; i < N_LIMITS; i++) {
        char *name = bg_asprintf("x-%s", limits_members[i]);
        json_t *v = json_object_get(args, name);
        if (v)
            model_qdict_put(props, name, json_incref(v));
        free(name);
    }
    size_t n;
    const char **order = model_qdict_order(props, &n);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        const json_t *v = model_qdict_get(props, order[i]);
        if (strcmp(order[i], "limits") == 0) {
            Config next = c;                     /* applied only when valid */
            ok = set_limits(v, &next, err);
            if (ok)
                c = next;
        } else {
            ok = set_x(order[i] + 2, json_integer_value(v), &c, err);
        }
    }
    free(order);
    model_qdict_free(props);
    if (!ok)
        return false;
    /* object_property_try_add_child(): objects live in /objects, one namespace */
    if (model_graph_group_exists(w, id) || model_graph_iothread_exists(w, id))
        return bg_error_setf(err, BG_MSG_DUPLICATE_PROPERTY, id, "container");
    return config_valid(&c, err);                /* throttle_group_obj_complete() */
}
