/*
 * policy.c: what a stream may ask for (policy.h).
 *
 * What this is: the allowlists (QMP commands, block drivers, devices, QOM
 * types, qemu-io commands and options, qemu-img subcommands and options,
 * launch arguments), the shapes of the steps that are not QMP, the limits of
 * bg.h on sizes and request lengths, and the one walk that finds every file
 * name of a step (bg_policy_check_step_files), shared by the load-time check
 * here and the run-time check of confine.c.
 * What it is not: QEMU's validation.  A value that QEMU answers with an
 * error text (driver "", a string where a number belongs, a missing
 * argument) passes: that error is what a stream tests.  Only what could
 * reach outside the scratch directory, or exhaust the machine, is refused.
 *
 * Provenance (QEMU 7.2): BlockdevDriver of qapi/block-core.json (checked
 * against query-qmp-schema of Debian's 7.2.22 build, which lacks the
 * CONFIG_BLKIO and io_uring members listed here too); qemu-io-cmds.c (command
 * names, getopt strings "bCl:pP:qs:v", "bcCfnpP:qs:uz", "CP:qv", "CfqP:",
 * "Cq", breakline() splitting on ' ' only, getopt permuting options after
 * operands); util/cutils.c qemu_strtosz() (cvtnum's suffixes); qemu-img.c
 * img_check/img_map/img_compare/img_info (options); monitor/hmp.c get_str()
 * (HMP quoting).
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

/* ---- qemu-io ----------------------------------------------------------------- */

typedef struct QemuIoCmd {
    const char *name;
    const char *flags;      /* getopt options without a value */
    const char *valued;     /* getopt options with a value */
    int min_args, max_args; /* operands: offset, then lengths; -1: no maximum */
} QemuIoCmd;

static const QemuIoCmd qemu_io_cmds[] = {
    { "read", "bCpqv", "lPs", 2, 2 },
    { "write", "bcCfnpquz", "Ps", 2, 2 },
    { "readv", "Cqv", "P", 2, -1 },
    { "writev", "Cfq", "P", 2, -1 },
    { "discard", "Cq", "", 2, 2 },
    { "flush", "", "", 0, 0 },
    { "aio_flush", "", "", 0, 0 },
    { "length", "", "", 0, 0 },
    { "info", "", "", 0, 0 },
    { "map", "", "", 0, 0 },
    { "alloc", "", "", 1, 2 },
    { NULL, NULL, NULL, 0, 0 }
};

/* One offset or length operand; LENGTH: also at most BG_MAX_REQUEST_BYTES. */
static bool qemu_io_number(const char *who, const char *cmd, const char *what, const char *s,
                           bool length, uint64_t *out, BgError *err)
{
    char q[BG_QUOTE_BYTES];
    if (s[0] == '-')
        return bg_error_setf(err, "%s: qemu-io %s: %s must be non-negative, got '%s'", who, cmd,
                             what, bg_policy_quote(s, q));
    if (!bg_policy_parse_size(s, out))
        return bg_error_setf(err, "%s: qemu-io %s: invalid %s '%s'", who, cmd, what,
                             bg_policy_quote(s, q));
    if (length && *out > BG_MAX_REQUEST_BYTES)
        return bg_error_setf(err, "%s: qemu-io %s: %s %s is above the limit of %u bytes", who,
                             cmd, what, bg_policy_quote(s, q), BG_MAX_REQUEST_BYTES);
    return true;
}

bool bg_policy_qemu_io_cmd(const char *who, const char *cmd, BgError *err)
{
    char q[BG_QUOTE_BYTES];
    char *copy = bg_strdup(cmd);
    size_t n_tok = 0, cap = 16;
    char **tok = bg_malloc(cap * sizeof(*tok));
    /* breakline(): split on ' ' only, empty words dropped */
    for (char *p = copy, *w; (w = strsep(&p, " ")) != NULL;) {
        if (!*w)
            continue;
        if (n_tok == cap)
            tok = bg_realloc(tok, (cap *= 2) * sizeof(*tok));
        tok[n_tok++] = w;
    }
    bool ok = true;
    const QemuIoCmd *c = NULL;
    if (n_tok == 0) {
        ok = bg_error_setf(err, "%s: empty qemu-io command", who);
        goto out;
    }
    for (const QemuIoCmd *i = qemu_io_cmds; i->name; i++)
        if (strcmp(i->name, tok[0]) == 0)
            c = i;
    if (!c) {
        ok = bg_error_setf(err, "%s: qemu-io command '%s' is not allowed (allowed: read, write, "
                           "readv, writev, discard, flush, aio_flush, length, info, map, alloc)",
                           who, bg_policy_quote(tok[0], q));
        goto out;
    }
    /* getopt with permutation: an option may follow the operands; "--" ends them */
    size_t n_args = 0;
    bool end_of_options = false;
    for (size_t i = 1; ok && i < n_tok; i++) {
        char *t = tok[i];
        if (end_of_options || t[0] != '-' || t[1] == '\0') {
            tok[1 + n_args++] = t;   /* operands are compacted in place */
            continue;
        }
        if (strcmp(t, "--") == 0) {
            end_of_options = true;
            continue;
        }
        if (isdigit((unsigned char)t[1])) {
            ok = bg_error_setf(err, "%s: qemu-io %s: offsets and lengths must be non-negative, "
                               "got '%s'", who, c->name, bg_policy_quote(t, q));
            break;
        }
        for (char *o = t + 1; ok && *o; o++) {
            if (strchr(c->flags, *o))
                continue;
            if (!strchr(c->valued, *o)) {
                char opt[2] = { *o, '\0' };
                ok = bg_error_setf(err, "%s: qemu-io %s: unknown option '-%s'", who, c->name,
                                   bg_policy_quote(opt, q));
                break;
            }
            const char *val = o[1] ? o + 1 : (i + 1 < n_tok ? tok[++i] : NULL);
            uint64_t v;
            if (!val)
                ok = bg_error_setf(err, "%s: qemu-io %s: option '-%c' needs a value", who,
                                   c->name, *o);
            else if (*o == 's' && strcmp(c->name, "write") == 0)
                ok = bg_error_setf(err, "%s: qemu-io write -s (data from a file) is not allowed",
                                   who);
            else if (*o == 's' || *o == 'l')   /* read's pattern offset and length */
                ok = qemu_io_number(who, c->name, *o == 's' ? "pattern offset" : "pattern length",
                                    val, *o == 'l', &v, err);
            break;   /* -P: a pattern byte, parsed by qemu-io */
        }
    }
    if (!ok)
        goto out;
    if ((int)n_args < c->min_args || (c->max_args >= 0 && (int)n_args > c->max_args)) {
        ok = bg_error_setf(err, "%s: qemu-io %s: expects %d%s operand%s, got %zu", who, c->name,
                           c->min_args, c->max_args < 0 ? " or more" : c->max_args > c->min_args
                           ? " or 2" : "", c->max_args == 1 ? "" : "s", n_args);
        goto out;
    }
    uint64_t total = 0;
    for (size_t i = 0; ok && i < n_args; i++) {
        uint64_t v;
        ok = qemu_io_number(who, c->name, i == 0 ? "offset" : "length", tok[1 + i], i > 0, &v,
                            err);
        if (ok && i > 0 && (total += v) > BG_MAX_REQUEST_BYTES)
            ok = bg_error_setf(err, "%s: qemu-io %s: total length %" PRIu64 " is above the "
                               "limit of %u bytes", who, c->name, total, BG_MAX_REQUEST_BYTES);
    }
out:
    free(tok);
    free(copy);
    return ok;
}

/* ---- QMP commands -------------------------------------------------------- */

/* HMP "qemu-io NODE \"CMD\"" (monitor/hmp.c get_str() quoting) or "qemu-io NODE CMD". */
static bool check_hmp(const json_t *args, BgError *err)
{
    static const char who[] = "human-monitor-command";
    char q[BG_QUOTE_BYTES];
    const json_t *cl = args ? json_object_get(args, "command-line") : NULL;
    if (!cl || json_object_size(args) != 1 || !json_is_string(cl))
        return bg_error_setf(err, "%s: arguments must be exactly {\"command-line\": STRING}", who);
    const char *line = json_string_value(cl);
    if (strncmp(line, "qemu-io", 7) != 0 || !isspace((unsigned char)line[7]))
        return bg_error_setf(err, "%s: only 'qemu-io NODE \"CMD\"' is allowed, got '%s'", who,
                             bg_policy_quote(line, q));
    const char *p = line + 7;
    while (isspace((unsigned char)*p))
        p++;
    const char *node = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (p == node || *node == '"' || *node == '-')
        return bg_error_setf(err, "%s: qemu-io needs a node name, got '%s'", who,
                             bg_policy_quote(line, q));
    while (isspace((unsigned char)*p))
        p++;
    if (*p != '"')
        return *p ? bg_policy_qemu_io_cmd(who, p, err)
                  : bg_error_setf(err, "%s: qemu-io needs a command, got '%s'", who,
                                  bg_policy_quote(line, q));
    char *cmd = bg_malloc(strlen(p) + 1);
    size_t n = 0;
    bool ok = true;
    for (p++; ok && *p && *p != '"'; p++) {
        if (*p != '\\') {
            cmd[n++] = *p;
            continue;
        }
        switch (*++p) {
        case 'n': cmd[n++] = '\n'; break;
        case 'r': cmd[n++] = '\r'; break;
        case '\\': case '\'': case '"': cmd[n++] = *p; break;
        default:
            ok = bg_error_setf(err, "%s: bad escape in '%s'", who, bg_policy_quote(line, q));
            p--;   /* stay on the NUL, if that is what followed */
        }
    }
    cmd[n] = '\0';
    if (ok && *p != '"')
        ok = bg_error_setf(err, "%s: unterminated quote in '%s'", who, bg_policy_quote(line, q));
    if (ok) {
        for (p++; isspace((unsigned char)*p); p++)
            ;
        if (*p)
            ok = bg_error_setf(err, "%s: text after the quoted qemu-io command in '%s'", who,
                               bg_policy_quote(line, q));
    }
    if (ok)
        ok = bg_policy_qemu_io_cmd(who, cmd, err);
    free(cmd);
    return ok;
}

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
        return check_hmp(args, err);
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
    if (json_is_string(cmd) && !bg_policy_qemu_io_cmd(who, json_string_value(cmd), err))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!bg_policy_qemu_io_cmd(who, json_string_value(json_array_get(cmd, i)), err))
            return false;
    return w->on_file(json_string_value(json_object_get(o, "file")), BG_FILE_IMAGE, NULL,
                      w->opaque, err);
}

/* qemu-img options: the exact spellings accepted, per subcommand. */
enum {
    IMG_F = 1 << 0,              /* -f FMT */
    IMG_BIG_F = 1 << 1,          /* -F FMT (compare) */
    IMG_OUTPUT = 1 << 2,         /* --output=FMT, --output FMT */
    IMG_U = 1 << 3,              /* -U */
    IMG_Q = 1 << 4,              /* -q */
    IMG_S = 1 << 5,              /* -s (compare: strict) */
    IMG_BACKING_CHAIN = 1 << 6,  /* --backing-chain */
    IMG_RANGE = 1 << 7,          /* --start-offset=N, --max-length=N */
    IMG_R = 1 << 8,              /* -r leaks|all (check) */
};

typedef struct QemuImgCmd {
    const char *name;
    unsigned opts;
    size_t files;
} QemuImgCmd;

static const QemuImgCmd qemu_img_cmds[] = {
    { "check", IMG_F | IMG_OUTPUT | IMG_U | IMG_Q | IMG_R, 1 },
    { "map", IMG_F | IMG_OUTPUT | IMG_U | IMG_RANGE, 1 },
    { "compare", IMG_F | IMG_BIG_F | IMG_U | IMG_Q | IMG_S, 2 },
    { "info", IMG_F | IMG_OUTPUT | IMG_U | IMG_BACKING_CHAIN, 1 },
    { NULL, 0, 0 }
};

/* A valued option: "-f V", "--output=V" or "--output V".  Returns the value or NULL. */
static const char *img_value(const json_t *a, size_t *i, const char *opt)
{
    const char *t = json_string_value(json_array_get(a, *i));
    size_t n = strlen(opt);
    if (strncmp(t, opt, n) == 0 && t[n] == '=' && opt[1] == '-')
        return t + n + 1;
    if (strcmp(t, opt) != 0)
        return NULL;
    return *i + 1 < json_array_size(a) ? json_string_value(json_array_get(a, ++*i)) : "";
}

static bool img_is(const char *t, const char *opt)
{
    size_t n = strlen(opt);
    return strcmp(t, opt) == 0 || (opt[1] == '-' && strncmp(t, opt, n) == 0 && t[n] == '=');
}

static bool check_qemu_img(const json_t *a, const Walk *w, BgError *err)
{
    char q[BG_QUOTE_BYTES], who[32];
    size_t n = json_array_size(a);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string(json_array_get(a, i)))
            n = 0;
    if (!json_is_array(a) || n == 0)
        return bg_error_setf(err, "qemu-img: must be a non-empty array of strings");
    const char *sub = json_string_value(json_array_get(a, 0));
    const QemuImgCmd *c = NULL;
    for (const QemuImgCmd *i = qemu_img_cmds; i->name; i++)
        if (strcmp(i->name, sub) == 0)
            c = i;
    if (!c)
        return bg_error_setf(err, "qemu-img: subcommand '%s' is not allowed (allowed: check, "
                             "map, compare, info)", bg_policy_quote(sub, q));
    snprintf(who, sizeof(who), "qemu-img %s", c->name);
    size_t files = 0;
    bool end_of_options = false;
    for (size_t i = 1; i < n; i++) {
        const char *t = json_string_value(json_array_get(a, i)), *v = NULL, *opt = t;
        uint64_t num;
        if (end_of_options || t[0] != '-' || t[1] == '\0') {
            if (++files > c->files)
                break;
            if (!w->on_file(t, BG_FILE_IMAGE, NULL, w->opaque, err))
                return false;
            continue;
        }
        if (strcmp(t, "--") == 0) {
            end_of_options = true;
        } else if ((c->opts & IMG_U && strcmp(t, "-U") == 0) ||
                   (c->opts & IMG_Q && strcmp(t, "-q") == 0) ||
                   (c->opts & IMG_S && strcmp(t, "-s") == 0) ||
                   (c->opts & IMG_BACKING_CHAIN && strcmp(t, "--backing-chain") == 0)) {
            continue;
        } else if ((c->opts & IMG_F && img_is(t, opt = "-f")) ||
                   (c->opts & IMG_BIG_F && img_is(t, opt = "-F"))) {
            v = img_value(a, &i, opt);
            if (!in_list(image_formats, v))
                return bg_error_setf(err, "%s: '%s' must be qcow2 or raw, got '%s'", who, opt,
                                     bg_policy_quote(v, q));
        } else if (c->opts & IMG_OUTPUT && img_is(t, opt = "--output")) {
            v = img_value(a, &i, opt);
            if (strcmp(v, "human") != 0 && strcmp(v, "json") != 0)
                return bg_error_setf(err, "%s: '--output' must be human or json, got '%s'", who,
                                     bg_policy_quote(v, q));
        } else if (c->opts & IMG_R && img_is(t, opt = "-r")) {
            v = img_value(a, &i, opt);
            if (strcmp(v, "leaks") != 0 && strcmp(v, "all") != 0)
                return bg_error_setf(err, "%s: '-r' must be leaks or all, got '%s'", who,
                                     bg_policy_quote(v, q));
        } else if (c->opts & IMG_RANGE && (img_is(t, opt = "--start-offset") ||
                                           img_is(t, opt = "--max-length"))) {
            v = img_value(a, &i, opt);
            if (!bg_policy_parse_size(v, &num))
                return bg_error_setf(err, "%s: '%s' must be a non-negative number, got '%s'",
                                     who, opt, bg_policy_quote(v, q));
        } else {
            return bg_error_setf(err, "%s: option '%s' is not allowed", who,
                                 bg_policy_quote(t, q));
        }
    }
    if (files != c->files)
        return bg_error_setf(err, "%s: expects %zu file name%s, got %s%zu", who, c->files,
                             c->files == 1 ? "" : "s", files > c->files ? "more than " : "",
                             files > c->files ? c->files : files);
    return true;
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
    case BG_STEP_QEMU_IMG: return check_qemu_img(v, &w, err);
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
