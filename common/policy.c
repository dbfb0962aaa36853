/*
 * policy.c: what a stream may ask for (policy.h).
 *
 * What this is: the allowlists (QMP commands, block drivers, devices, QOM
 * types, launch arguments), the shapes of the steps that are not QMP, the
 * limits of bg.h on sizes, and the one walk that finds every file name of a
 * step (bg_policy_check_step_files), shared by the load-time check here and
 * the run-time check of confine.c.  The qemu-io and qemu-img command
 * grammar is policy_io.c's.
 * What it is not: QEMU's validation.  A value that QEMU answers with an
 * error text (driver "", a string where a number belongs, a missing
 * argument) passes: that error is what a stream tests.  Only what could
 * reach outside the scratch directory, or exhaust the machine, is refused.
 *
 * Provenance (QEMU 7.2): BlockdevDriver of qapi/block-core.json (checked
 * against query-qmp-schema of Debian's 7.2.22 build, which lacks the
 * CONFIG_BLKIO and io_uring members listed here too); util/cutils.c
 * qemu_strtosz() (cvtnum's suffixes).
 */
#include "policy.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "confine.h"
#include "json.h"
#include "policy_io.h"

/* ---- tables ---------------------------------------------------------------- */

static const char *const commands[] = {
    "blockdev-add", "blockdev-reopen", "x-blockdev-reopen", "blockdev-del",
    "query-named-block-nodes", "query-block", "query-block-jobs", "query-jobs",
    "query-iothreads", "object-add", "object-del", "device_add", "device_del", "qom-get",
    "block-stream", "block-commit", "block-job-complete", "block-job-cancel",
    "block-job-pause", "block-job-resume", "block-job-finalize", "block-job-dismiss",
    "block-job-set-speed", "job-complete", "job-finalize", "job-dismiss", "job-cancel",
    "job-pause", "job-resume", "human-monitor-command", NULL
};

/* Every value of BlockdevDriver in QEMU 7.2, conditional members included. */
static const char *const qemu_drivers[] = {
    "blkdebug", "blklogwrites", "blkreplay", "blkverify", "bochs", "cloop", "compress",
    "copy-before-write", "copy-on-read", "dmg", "file", "snapshot-access", "ftp", "ftps",
    "gluster", "host_cdrom", "host_device", "http", "https", "io_uring", "iscsi", "luks",
    "nbd", "nfs", "null-aio", "null-co", "nvme", "nvme-io_uring", "parallels", "preallocate",
    "qcow", "qcow2", "qed", "quorum", "raw", "rbd", "replication", "ssh", "throttle", "vdi",
    "vhdx", "virtio-blk-vfio-pci", "virtio-blk-vhost-user", "virtio-blk-vhost-vdpa", "vmdk",
    "vpc", "vvfat", NULL
};

/* No network protocols, no host devices, no formats that open other files. */
static const char *const allowed_drivers[] = {
    "qcow2", "raw", "file", "null-co", "null-aio", "throttle", "compress", "copy-on-read",
    "blkdebug", "blkverify", "quorum", NULL
};

/*
 * Accepted in a reopen only.  QEMU 7.2 opens no node in blockdev-reopen:
 * inline children are the existing children reopened, and a different
 * driver is answered "Cannot change the option 'driver'" (block.c
 * bdrv_reopen_prepare()); the seed tests exactly that with host_device.
 * Their only resource is a "filename", which is confined like any other.
 */
static const char *const reopen_only_drivers[] = { "host_device", "host_cdrom", NULL };

static const char *const qom_types[] = { "throttle-group", "iothread", NULL };
static const char *const devices[] = { "virtio-scsi", "virtio-scsi-pci", "scsi-hd", NULL };
static const char *const image_formats[] = { "qcow2", "raw", NULL };
static const char *const machines[] = { "none", "pc", NULL };

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* "a, b, c" into a static-size buffer (the lists are short and fixed). */
static const char *list_text(const char *const *list, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (; *list && len < n; list++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", *list);
    return buf;
}

/*
 * The list above, plus every query: QMP's query-* commands (and the graph
 * dump x-debug-query-block-graph) only read state, and streams written
 * elsewhere may look at anything they like.
 */
bool bg_policy_command_known(const char *name)
{
    return name && (in_list(commands, name) || strncmp(name, "query-", 6) == 0 ||
                    strcmp(name, "x-debug-query-block-graph") == 0);
}

bool bg_policy_driver_allowed(const char *name)
{
    return name && in_list(allowed_drivers, name);
}

bool bg_policy_image_format_allowed(const char *fmt)
{
    return fmt && in_list(image_formats, fmt);
}

/* ---- message helpers ------------------------------------------------------- */

const char *bg_policy_quote(const char *s, char out[BG_QUOTE_BYTES])
{
    size_t o = 0, i = 0;
    for (; s[i] && i < BG_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, BG_QUOTE_BYTES - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    if (s[i])
        memcpy(out + o, "...", 3), o += 3;
    out[o] = '\0';
    return out;
}

/* A JSON value for a message: 'string' quoted, anything else as compact JSON. */
typedef struct Shown {
    char text[BG_QUOTE_BYTES + 2];
} Shown;

static const char *show(const json_t *v, Shown *sh)
{
    char q[BG_QUOTE_BYTES];
    if (json_is_string(v)) {
        snprintf(sh->text, sizeof(sh->text), "'%s'", bg_policy_quote(json_string_value(v), q));
        return sh->text;
    }
    char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(sh->text, sizeof(sh->text), "%s", bg_policy_quote(d ? d : "?", q));
    free(d);
    return sh->text;
}

/* ---- numbers ----------------------------------------------------------------- */

bool bg_policy_parse_size(const char *s, uint64_t *out)
{
    const char *p = s;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    uint64_t v = 0;
    const char *digits = p;
    for (;; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (base == 16 && isxdigit((unsigned char)*p))
            d = (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        else
            break;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    if (p == digits)
        return false;
    static const char suffixes[] = "bkmgtpe";   /* bytes, then powers of 1024 */
    unsigned shift = 0;
    if (*p) {
        const char *sfx = strchr(suffixes, tolower((unsigned char)*p++));
        if (!sfx)
            return false;
        shift = 10 * (unsigned)(sfx - suffixes);
    }
    if (*p || v > ((uint64_t)INT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

/* 0: V is a number within [0, max]; 1: a number outside; -1: not a number. */
static int number_range(const json_t *v, uint64_t max)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        return i < 0 || (uint64_t)i > max ? 1 : 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d < 0 || d > (double)max ? 1 : 0;
    }
    return -1;
}

/* ---- shapes ------------------------------------------------------------------ */

/* The caller's file-name rule (policy.h BgFileFn) and its state. */
typedef struct Walk {
    BgFileFn on_file;
    void *opaque;
} Walk;

/* An object's keys must all be in KEYS. */
static bool known_keys(const char *who, const json_t *o, const char *const *keys, BgError *err)
{
    const char *k;
    json_t *v;
    char q[BG_QUOTE_BYTES];
    json_object_foreach((json_t *)o, k, v)
        if (!in_list(keys, k))
            return bg_error_setf(err, "%s: unknown key '%s'", who, bg_policy_quote(k, q));
    return true;
}

/* An optional member that must be a string from LIST (what = "qcow2 or raw"). */
static bool one_of(const char *who, const json_t *o, const char *key, const char *const *list,
                   const char *what, BgError *err)
{
    const json_t *v = json_object_get(o, key);
    Shown sh;
    if (v && (!json_is_string(v) || !in_list(list, json_string_value(v))))
        return bg_error_setf(err, "%s: '%s' must be %s, got %s", who, key, what, show(v, &sh));
    return true;
}

static bool string_member(const char *who, const json_t *o, const char *key, bool required,
                          BgError *err)
{
    const json_t *v = json_object_get(o, key);
    Shown sh;
    if (!v && required)
        return bg_error_setf(err, "%s: '%s' is required", who, key);
    if (v && !json_is_string(v))
        return bg_error_setf(err, "%s: '%s' must be a string, got %s", who, key, show(v, &sh));
    return true;
}

static bool must_be_object(const char *who, const json_t *v, BgError *err)
{
    if (!json_is_object(v))
        return bg_error_setf(err, "%s: must be an object, got %s", who,
                             v ? bg_json_type_name(v) : "nothing");
    return true;
}

/* ---- QMP commands -------------------------------------------------------- */

/* KEY is NAME, or a flattened "x.NAME". */
static bool key_is(const char *key, const char *name)
{
    size_t k = strlen(key), n = strlen(name);
    return k == n ? strcmp(key, name) == 0 : k > n && key[k - n - 1] == '.' &&
           strcmp(key + k - n, name) == 0;
}

static bool check_driver(const char *cmd, const char *drv, bool reopen, BgError *err)
{
    char q[BG_QUOTE_BYTES], list[256];
    if (in_list(allowed_drivers, drv) || !in_list(qemu_drivers, drv) ||
        (reopen && in_list(reopen_only_drivers, drv)))
        return true;
    return bg_error_setf(err, "%s: block driver '%s' is not allowed (allowed: %s)", cmd,
                         bg_policy_quote(drv, q), list_text(allowed_drivers, list, sizeof(list)));
}

static bool check_number(const char *cmd, const json_t *o, const char *drv, const char *key,
                         uint64_t max, BgError *err)
{
    const json_t *v = json_object_get(o, key);
    Shown sh;
    if (v && number_range(v, max) == 1)
        return bg_error_setf(err, "%s: %s '%s' must be between 0 and %" PRIu64 ", got %s", cmd,
                             drv, key, max, show(v, &sh));
    return true;
}

/* blockdev-add, blockdev-reopen, x-blockdev-reopen: every driver and file name, anywhere. */
static bool walk_block(const char *cmd, const json_t *v, bool reopen, int depth, const Walk *w,
                       BgError *err)
{
    if (depth > BG_MAX_JSON_DEPTH)
        return bg_error_setf(err, "%s: arguments nested deeper than %d levels", cmd,
                             BG_MAX_JSON_DEPTH);
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c)
            if (!walk_block(cmd, c, reopen, depth + 1, w, err))
                return false;
        return true;
    }
    if (!json_is_object(v))
        return true;
    const char *drv = json_string_value(json_object_get(v, "driver"));
    if (drv && (strcmp(drv, "null-co") == 0 || strcmp(drv, "null-aio") == 0) &&
        (!check_number(cmd, v, drv, "size", BG_MAX_IMAGE_BYTES, err) ||
         !check_number(cmd, v, drv, "latency-ns", BG_MAX_NULL_LATENCY_NS, err)))
        return false;
    if (drv && strcmp(drv, "raw") == 0 &&
        (!check_number(cmd, v, drv, "size", BG_MAX_IMAGE_BYTES, err) ||
         !check_number(cmd, v, drv, "offset", BG_MAX_IMAGE_BYTES, err)))
        return false;
    const char *k;
    json_t *c;
    json_object_foreach((json_t *)v, k, c) {
        const char *s = json_string_value(c);
        bool ok = true;
        if (!s)
            ok = walk_block(cmd, c, reopen, depth + 1, w, err);
        else if (key_is(k, "driver"))
            ok = check_driver(cmd, s, reopen, err);
        else if (key_is(k, "filename"))
            ok = w->on_file(s, BG_FILE_IMAGE, NULL, w->opaque, err);
        else if (key_is(k, "config"))
            ok = w->on_file(s, reopen ? BG_FILE_REOPEN_CONFIG : BG_FILE_CONFIG, NULL,
                            w->opaque, err);
        if (!ok)
            return false;
    }
    return true;
}

bool bg_policy_check_block_options(const char *who, const json_t *options, BgFileFn on_file,
                                   void *opaque, BgError *err)
{
    Walk w = { on_file, opaque };
    return walk_block(who, options, false, 1, &w, err);
}

static bool check_execute(const json_t *body, const Walk *w, BgError *err)
{
    char q[BG_QUOTE_BYTES], list[128];
    Shown sh;
    const char *name = json_string_value(json_object_get(body, "execute"));
    const json_t *args = json_object_get(body, "arguments");
    if (!name)
        return bg_error_setf(err, "'execute' must be a string");
    if (!bg_policy_command_known(name))
        return bg_error_setf(err, "unknown QMP command '%s'", bg_policy_quote(name, q));
    if (args && !json_is_object(args))
        return bg_error_setf(err, "'arguments' must be an object, got %s", bg_json_type_name(args));
    if (strcmp(name, "blockdev-add") == 0)
        return !args || walk_block(name, args, false, 1, w, err);
    if (strcmp(name, "blockdev-reopen") == 0 || strcmp(name, "x-blockdev-reopen") == 0)
        return !args || walk_block(name, args, true, 1, w, err);
    if (strcmp(name, "human-monitor-command") == 0)
        return bg_policy_io_hmp(args, err);
    if (!args)
        return true;
    if (strcmp(name, "object-add") == 0) {
        const json_t *t = json_object_get(args, "qom-type");
        if (json_is_string(t) && !in_list(qom_types, json_string_value(t)))
            return bg_error_setf(err, "object-add: qom-type %s is not allowed (allowed: %s)",
                                 show(t, &sh), list_text(qom_types, list, sizeof(list)));
    } else if (strcmp(name, "device_add") == 0) {
        const json_t *d = json_object_get(args, "driver");
        if (json_is_string(d) && !in_list(devices, json_string_value(d)))
            return bg_error_setf(err, "device_add: device %s is not allowed (allowed: %s)",
                                 show(d, &sh), list_text(devices, list, sizeof(list)));
    } else if (strcmp(name, "block-stream") == 0 || strcmp(name, "block-commit") == 0) {
        const char *bf = json_string_value(json_object_get(args, "backing-file"));
        if (bf)
            return w->on_file(bf, BG_FILE_HEADER, NULL, w->opaque, err);
    }
    return true;
}

/* ---- offline steps ----------------------------------------------------------- */

static bool check_img_create(const json_t *o, const Walk *w, BgError *err)
{
    static const char *const keys[] = { "fmt", "file", "size", "backing", "backing-fmt", NULL };
    static const char who[] = "img-create";
    Shown sh;
    if (!must_be_object(who, o, err) || !known_keys(who, o, keys, err) ||
        !one_of(who, o, "fmt", image_formats, "qcow2 or raw", err) ||
        !string_member(who, o, "file", true, err) ||
        !string_member(who, o, "backing", false, err) ||
        !one_of(who, o, "backing-fmt", image_formats, "qcow2 or raw", err))
        return false;
    const json_t *size = json_object_get(o, "size");
    const char *file = json_string_value(json_object_get(o, "file"));
    const char *backing = json_string_value(json_object_get(o, "backing"));
    if (size) {
        uint64_t n = 0;
        bool valid = json_is_string(size) ? bg_policy_parse_size(json_string_value(size), &n)
                                          : number_range(size, INT64_MAX) == 0 &&
                                            json_is_integer(size);
        if (!valid)
            return bg_error_setf(err, "%s: 'size' must be a non-negative integer or a size "
                                 "string, got %s", who, show(size, &sh));
        if (json_is_integer(size))
            n = (uint64_t)json_integer_value(size);
        if (n > BG_MAX_IMAGE_BYTES)
            return bg_error_setf(err, "%s: 'size' %s is above the limit of %llu bytes", who,
                                 show(size, &sh), BG_MAX_IMAGE_BYTES);
    } else if (!backing) {
        return bg_error_setf(err, "%s: 'size' is required unless 'backing' is given", who);
    }
    return w->on_file(file, BG_FILE_IMAGE, NULL, w->opaque, err) &&
           (!backing || w->on_file(backing, BG_FILE_BACKING, file, w->opaque, err));
}

static bool check_io(const json_t *o, const Walk *w, BgError *err)
{
    static const char *const keys[] = { "fmt", "file", "cmd", NULL };
    static const char who[] = "io";
    if (!must_be_object(who, o, err) || !known_keys(who, o, keys, err) ||
        !one_of(who, o, "fmt", image_formats, "qcow2 or raw", err) ||
        !string_member(who, o, "file", true, err))
        return false;
    const json_t *cmd = json_object_get(o, "cmd");
    size_t n = json_array_size(cmd);
    bool shape = json_is_string(cmd) || (n > 0 && n <= BG_MAX_IO_CMDS);
    for (size_t i = 0; shape && json_is_array(cmd) && i < n; i++)
        shape = json_is_string(json_array_get(cmd, i));
    if (!shape)
        return bg_error_setf(err, "%s: 'cmd' must be a string or a non-empty array of at most "
                             "%d strings", who, BG_MAX_IO_CMDS);
    if (json_is_string(cmd) && !bg_policy_io_cmd(who, json_string_value(cmd), err))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!bg_policy_io_cmd(who, json_string_value(json_array_get(cmd, i)), err))
            return false;
    return w->on_file(json_string_value(json_object_get(o, "file")), BG_FILE_IMAGE, NULL,
                      w->opaque, err);
}

/* ---- VM steps ------------------------------------------------------------------- */

static bool check_launch(const json_t *o, BgError *err)
{
    static const char *const keys[] = { "machine", "args", NULL };
    static const char who[] = "launch";
    char q[BG_QUOTE_BYTES];
    if (!must_be_object(who, o, err) || !known_keys(who, o, keys, err) ||
        !one_of(who, o, "machine", machines, "none or pc", err))
        return false;
    const json_t *args = json_object_get(o, "args");
    if (args && !json_is_array(args))
        return bg_error_setf(err, "%s: 'args' must be an array of strings", who);
    size_t i;
    json_t *v;
    json_array_foreach(args, i, v) {
        if (!json_is_string(v))
            return bg_error_setf(err, "%s: 'args' must be an array of strings", who);
        if (strcmp(json_string_value(v), "-S") != 0)
            return bg_error_setf(err, "%s: argument '%s' is not allowed (only -S)", who,
                                 bg_policy_quote(json_string_value(v), q));
    }
    return true;
}

static bool check_wait_event(const json_t *o, BgError *err)
{
    static const char *const keys[] = { "event", "match", "timeout", NULL };
    static const char who[] = "wait-event";
    Shown sh;
    if (!must_be_object(who, o, err) || !known_keys(who, o, keys, err) ||
        !string_member(who, o, "event", true, err))
        return false;
    const json_t *m = json_object_get(o, "match");
    if (m && !json_is_object(m))
        return bg_error_setf(err, "%s: 'match' must be an object, got %s", who,
                             bg_json_type_name(m));
    const json_t *t = json_object_get(o, "timeout");
    if (t && (!json_is_number(t) || json_number_value(t) <= 0 ||
              json_number_value(t) > BG_WAIT_TIMEOUT_MAX_S))
        return bg_error_setf(err, "%s: 'timeout' must be a number above 0 and at most %d, got %s",
                             who, BG_WAIT_TIMEOUT_MAX_S, show(t, &sh));
    return true;
}

static bool check_run_job(const json_t *o, BgError *err)
{
    static const char *const keys[] = { "id", "auto-finalize", "auto-dismiss", "cancel", NULL };
    static const char who[] = "run-job";
    Shown sh;
    if (!must_be_object(who, o, err) || !known_keys(who, o, keys, err) ||
        !string_member(who, o, "id", true, err))
        return false;
    for (const char *const *k = keys + 1; *k; k++) {
        const json_t *v = json_object_get(o, *k);
        if (v && !json_is_boolean(v))
            return bg_error_setf(err, "%s: '%s' must be a boolean, got %s", who, *k,
                                 show(v, &sh));
    }
    return true;
}

/* ---- entry points ---------------------------------------------------------------- */

bool bg_policy_check_step_files(BgStepKind kind, const json_t *body, BgFileFn on_file,
                                void *opaque, BgError *err)
{
    Walk w = { on_file, opaque };
    Shown sh;
    if (kind == BG_STEP_NOOP)
        return true;
    if (!json_is_object(body))
        return bg_error_setf(err, "a step must be a JSON object");
    const json_t *v = json_object_get(body, bg_step_kind_name(kind));
    if (!v)
        return bg_error_setf(err, "no '%s' in the step", bg_step_kind_name(kind));
    switch (kind) {
    case BG_STEP_EXECUTE: return check_execute(body, &w, err);
    case BG_STEP_IMG_CREATE: return check_img_create(v, &w, err);
    case BG_STEP_IO: return check_io(v, &w, err);
    case BG_STEP_QEMU_IMG: return bg_policy_io_qemu_img(v, on_file, opaque, err);
    case BG_STEP_LAUNCH: return check_launch(v, err);
    case BG_STEP_WAIT_EVENT: return check_wait_event(v, err);
    case BG_STEP_RUN_JOB: return check_run_job(v, err);
    case BG_STEP_WAIT_JOB:
        if (!json_is_string(v))
            return bg_error_setf(err, "wait-job: must be a job ID string, got %s", show(v, &sh));
        return true;
    case BG_STEP_SHUTDOWN:
        if (!json_is_object(v) || json_object_size(v))
            return bg_error_setf(err, "shutdown: must be {}, got %s", show(v, &sh));
        return true;
    case BG_STEP_NOOP:
    case BG_STEP__COUNT:
        break;
    }
    return bg_error_setf(err, "unknown step kind %d", (int)kind);
}

/* The load-time rule: confine.h's lexical check, with the exceptions of each role. */
static bool lexical_file(const char *name, BgFileRole role, const char *base, void *opaque,
                         BgError *err)
{
    (void)base;
    (void)opaque;
    switch (role) {
    case BG_FILE_CONFIG:
        return bg_confine_name(name, true, err);
    case BG_FILE_REOPEN_CONFIG:
        return name[0] == '/' || bg_confine_name(name, true, err);
    case BG_FILE_IMAGE:
    case BG_FILE_BACKING:
    case BG_FILE_HEADER:
        break;
    }
    return bg_confine_name(name, false, err);
}

bool bg_policy_check_step(BgStepKind kind, const json_t *body, BgError *err)
{
    return bg_policy_check_step_files(kind, body, lexical_file, NULL, err);
}
