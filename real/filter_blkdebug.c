/*
 * filter_blkdebug.c: the "blkdebug" filter: error injection rules and
 * request-limit overrides in front of its "image" child.
 *
 * What this is: QEMU 7.2 block/blkdebug.c: blkdebug_parse_filename() (a
 * name from bdrv_fill_options() into x-image), blkdebug_open() (config file
 * read first: "Could not read blkdebug config file: ..."; rules from
 * inject-error / set-state; take-child-perms / unshare-child-perms; the
 * image child, opened with x-image as its filename; align, max-transfer,
 * opt/max-write-zero, opt/max-discard checks with "Cannot meet constraints
 * with ..."), blkdebug_child_perm(),
 * rules: an event (debug_event slot, raised by the format driver above on
 * its child) activates the inject-error rules of that event and state,
 * set-state rules move the state; an active rule fails requests of its
 * iotype (and sector, when given) with its errno (once: only the first),
 * blkdebug_refresh_filename() ("blkdebug:CONFIG:IMAGE"),
 * blkdebug_reopen_prepare() (consumes nothing: every option must stay).
 * What it is not: the config file's rule syntax (a file with rules is
 * refused as unsupported; /dev/null and empty files are accepted), suspend
 * and break points.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bdrv.h"
#include "bg.h"
#include "filter.h"
#include "graph.h"
#include "messages.h"
#include "nodedrv.h"
#include "open.h"
#include "options.def"   /* no X-macro defined: the BG_ENUM_* strings */
#include "perm.h"

#define MAX_RULES 64

typedef struct BlkdebugRule {
    int event;                /* index in event_names */
    bool inject;              /* inject-error (else set-state) */
    int64_t state;            /* 0: any */
    int error;                /* errno (inject) */
    bool once;
    int64_t offset;           /* -1: any */
    unsigned iotype_mask;
    int64_t new_state;        /* set-state */
    bool active;
    bool removed;
} BlkdebugRule;

typedef struct BlkdebugState {
    char *config_file;
    int64_t limits[6];        /* align, max-transfer, opt/max-write-zero, opt/max-discard */
    int64_t state;
    uint64_t take_child_perms;
    uint64_t unshare_child_perms;
    uint64_t align;
    BlkdebugRule rules[MAX_RULES];
    int n_rules;
} BlkdebugState;

/* BlkdebugEvent, '|'-separated in enum order: an event's number is its index */
static const char event_names[] =
#define BG_BLKDBG_EVENT(NAME) NAME "|"
#include "options.def"
#undef BG_BLKDBG_EVENT
    ;

enum { IO_READ, IO_WRITE, IO_WRITE_ZEROES, IO_DISCARD, IO_FLUSH, IO_BLOCK_STATUS };
static const char iotype_names[] = BG_ENUM_BLKDBG_IOTYPE;

/* The index of S among the '|'-separated NAMES, or -1. */
static int lookup(const char *names, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    int i = 0;
    for (const char *p = names; s && *p; i++) {
        size_t len = strcspn(p, "|");
        if (len == n && strncmp(p, s, n) == 0)
            return i;
        p += len + (p[len] == '|');
    }
    return -1;
}

static int64_t opt_int(json_t *options, const char *key, int64_t def)
{
    json_t *v = json_object_get(options, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 0);
    return def;
}

static uint64_t perm_list(json_t *options, const char *prefix)
{
    static const char names[] = BG_ENUM_BLOCK_PERMISSION;   /* in bit order */
    uint64_t perms = 0;
    for (int i = 0;; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s.%d", prefix, i);
        int p = lookup(names, json_string_value(json_object_get(options, key)));
        if (p < 0)
            break;
        perms |= 1ull << p;
    }
    return perms;
}

static bool add_rules(BlkdebugState *s, json_t *options, const char *prefix, bool inject,
                      BgError *err)
{
    for (int i = 0;; i++) {
        char key[64];
        snprintf(key, sizeof(key), "%s.%d.event", prefix, i);
        json_t *ev = json_object_get(options, key);
        if (!ev)
            return true;
        if (s->n_rules == MAX_RULES)
            return bg_error_setf(err, "Too many blkdebug rules");
        BlkdebugRule *r = &s->rules[s->n_rules++];
        memset(r, 0, sizeof(*r));
        r->event = lookup(event_names, json_string_value(ev));
        if (r->event < 0)
            return bg_error_setf(err, "Invalid parameter '%s'", json_string_value(ev));
        r->inject = inject;
#define FIELD(name) (snprintf(key, sizeof(key), "%s.%d." name, prefix, i), key)
        r->state = opt_int(options, FIELD("state"), 0);
        if (inject) {
            r->error = (int)opt_int(options, FIELD("errno"), EIO);
            r->once = real_opt_bool(json_object_get(options, FIELD("once")), false);
            int64_t sector = opt_int(options, FIELD("sector"), -1);
            r->offset = sector == -1 ? -1 : sector * BDRV_SECTOR_SIZE;
            const char *io = json_string_value(json_object_get(options, FIELD("iotype")));
            int t = io ? lookup(iotype_names, io) : -1;
            r->iotype_mask = t >= 0 ? 1u << t
                                    : 1u << IO_READ | 1u << IO_WRITE | 1u << IO_WRITE_ZEROES |
                                          1u << IO_DISCARD | 1u << IO_FLUSH;
        } else {
            r->new_state = opt_int(options, FIELD("new_state"), 0);
        }
#undef FIELD
    }
}

/*
 * blkdebug_parse_filename(): the name bdrv_fill_options() hands the node
 * (a backing file name going down a backing node's `file` chain) is the
 * image's, kept in x-image for blkdebug_open(); a "blkdebug:CONFIG:IMAGE"
 * name gives the config file too.
 */
static bool blkdebug_parse_filename(const char *filename, json_t *options, BgError *err)
{
    if (strncmp(filename, "blkdebug:", 9) != 0) {
        json_object_set_new(options, "x-image", json_string(filename));
        return true;
    }
    filename += 9;
    const char *c = strchr(filename, ':');
    if (!c)
        return bg_error_setf(err, BG_MSG_BLKDEBUG_PARSE_FILENAME);
    if (c != filename)
        json_object_set_new(options, "config", json_stringn(filename, (size_t)(c - filename)));
    json_object_set_new(options, "x-image", json_string(c + 1));
    return true;
}

/* blkdebug_open(): the config file is read, then the image child is opened
 * with x-image as its filename (bdrv_open_file_child()); the limits are
 * checked after it (blkdebug_do_open()). */
static int blkdebug_node_open(RealNode *n, json_t *options, int flags, BgError *err)
{
    const char *x = json_string_value(json_object_get(options, "x-image"));
    char *x_image = x ? bg_strdup(x) : NULL;
    json_object_del(options, "x-image");
    int ret = -EINVAL;
    const char *config = json_string_value(json_object_get(options, "config"));
    if (config) {
        struct stat st;
        FILE *f = fopen(config, "r");
        if (!f) {
            ret = -errno;
            bg_error_setf(err, BG_MSG_BLKDEBUG_READ_CONFIG, strerror(-ret));
            goto out;
        }
        bool has_rules = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
        fclose(f);
        if (has_rules) {
            bg_error_setf(err, "blkdebug config files with rules are not supported by "
                               "the engine");
            ret = -ENOTSUP;
            goto out;
        }
    }
    if (!real_open_child(x_image, n, options, "image", REAL_CHILD_FILTERED | REAL_CHILD_PRIMARY,
                         false, err))
        goto out;
    ret = bdrv_open_driver(n->bs, n->drv->ops, options, flags, err);
out:
    free(x_image);
    return ret;
}

static int blkdebug_do_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    BlkdebugState *s = bs->opaque;
    const char *config = json_string_value(json_object_get(options, "config"));
    s->config_file = config ? bg_strdup(config) : NULL;
    if (!add_rules(s, options, "inject-error", true, err) ||
        !add_rules(s, options, "set-state", false, err))
        return -EINVAL;
    s->state = 1;
    s->take_child_perms = perm_list(options, "take-child-perms");
    s->unshare_child_perms = perm_list(options, "unshare-child-perms");
    filter_inherit_flags(bs);
    RealBlockState *child = filter_child(bs);
    uint64_t child_align = child->bl.request_alignment ? child->bl.request_alignment : 1;
    static const char *const limits[] = { "align", "max-transfer", "opt-write-zero",
                                          "max-write-zero", "opt-discard", "max-discard" };
    int64_t vals[6];
    for (int i = 0; i < 6; i++)
        s->limits[i] = vals[i] = opt_int(options, limits[i], 0);
    s->align = (uint64_t)vals[0];
    if (s->align && (s->align >= INT32_MAX || (s->align & (s->align - 1))))
        return bg_error_setf(err, BG_MSG_BLKDEBUG_CONSTRAINT, "align", s->align),
               -EINVAL;
    uint64_t align = s->align > child_align ? s->align : child_align;
    for (int i = 1; i < 6; i++) {
        uint64_t v = (uint64_t)vals[i];
        uint64_t a = align;
        if (i == 3 && (uint64_t)vals[2] > a)
            a = (uint64_t)vals[2];
        if (i == 5 && (uint64_t)vals[4] > a)
            a = (uint64_t)vals[4];
        if (v && (v >= INT32_MAX || v % a))
            return bg_error_setf(err, BG_MSG_BLKDEBUG_CONSTRAINT, limits[i], v), -EINVAL;
    }
    /* the rules of event "none" are active from the start */
    bdrv_debug_event(bs, "none");
    return 0;
}

/* blkdebug_open(): on failure the config file name goes (its "out:"
 * label); bdrv_open_driver() frees the state without a close. */
static int blkdebug_open(RealBlockState *bs, json_t *options, int flags, BgError *err)
{
    int ret = blkdebug_do_open(bs, options, flags, err);
    if (ret < 0) {
        BlkdebugState *s = bs->opaque;
        free(s->config_file);
        s->config_file = NULL;
    }
    return ret;
}

/* blkdebug_refresh_limits() */
static void blkdebug_refresh_limits(RealBlockState *bs)
{
    BlkdebugState *s = bs->opaque;
    if (s->limits[0])
        bs->bl.request_alignment = (uint32_t)s->limits[0];
    if (s->limits[1])
        bs->bl.max_transfer = (uint64_t)s->limits[1];
    if (s->limits[2])
        bs->bl.pwrite_zeroes_alignment = (uint32_t)s->limits[2];
    if (s->limits[4])
        bs->bl.pdiscard_alignment = (uint32_t)s->limits[4];
}

static void blkdebug_close(RealBlockState *bs)
{
    BlkdebugState *s = bs->opaque;
    free(s->config_file);
    s->config_file = NULL;
}

/* blkdebug_debug_event(): activate the event's rules, move the state. */
static void blkdebug_debug_event(RealBlockState *bs, const char *name)
{
    BlkdebugState *s = bs->opaque;
    int event = lookup(event_names, name);
    if (event < 0)
        return;
    int64_t new_state = s->state;
    bool first_inject = true;
    for (int i = s->n_rules - 1; i >= 0; i--) {   /* QLIST_INSERT_HEAD order */
        BlkdebugRule *r = &s->rules[i];
        if (r->removed || r->event != event || (r->state && r->state != s->state))
            continue;
        if (r->inject) {
            if (first_inject) {
                for (int j = 0; j < s->n_rules; j++)
                    s->rules[j].active = false;
                first_inject = false;
            }
            r->active = true;
        } else {
            new_state = r->new_state;
        }
    }
    s->state = new_state;
}

/* rule_check() */
static int rule_check(RealBlockState *bs, int64_t offset, int64_t bytes, int iotype)
{
    BlkdebugState *s = bs->opaque;
    for (int i = 0; i < s->n_rules; i++) {
        BlkdebugRule *r = &s->rules[i];
        if (!r->active || r->removed)
            continue;
        if ((r->offset == -1 || (bytes && r->offset >= offset && r->offset < offset + bytes)) &&
            (r->iotype_mask & (1u << iotype))) {
            int error = r->error;
            if (!error)
                return 0;
            if (r->once) {
                r->active = false;
                r->removed = true;
            }
            return -error;
        }
    }
    return 0;
}

static int blkdebug_pread(RealBlockState *bs, int64_t offset, int64_t bytes, void *buf,
                          int flags)
{
    int ret = rule_check(bs, offset, bytes, IO_READ);
    return ret ? ret : filter_pread(bs, offset, bytes, buf, flags);
}

static int blkdebug_pwrite(RealBlockState *bs, int64_t offset, int64_t bytes, const void *buf,
                           int flags)
{
    int ret = rule_check(bs, offset, bytes, IO_WRITE);
    return ret ? ret : filter_pwrite(bs, offset, bytes, buf, flags);
}

static int blkdebug_pwrite_zeroes(RealBlockState *bs, int64_t offset, int64_t bytes, int flags)
{
    int ret = rule_check(bs, offset, bytes, IO_WRITE_ZEROES);
    return ret ? ret : filter_pwrite_zeroes(bs, offset, bytes, flags);
}

static int blkdebug_pdiscard(RealBlockState *bs, int64_t offset, int64_t bytes)
{
    int ret = rule_check(bs, offset, bytes, IO_DISCARD);
    return ret ? ret : filter_pdiscard(bs, offset, bytes);
}

static int blkdebug_flush(RealBlockState *bs)
{
    return rule_check(bs, 0, 0, IO_FLUSH);
}

static void blkdebug_child_perm(RealNode *n, RealEdge *c, unsigned role, ReopenQueue *q,
                                uint64_t perm, uint64_t shared, uint64_t *nperm,
                                uint64_t *nshared)
{
    real_default_perms(n, c, role, q, perm, shared, nperm, nshared);
    BlkdebugState *s = n->bs->opaque;
    if (s) {
        *nperm |= s->take_child_perms;
        *nshared &= ~s->unshare_child_perms;
    } else {
        *nperm |= perm_list(n->options, "take-child-perms");
        *nshared &= ~perm_list(n->options, "unshare-child-perms");
    }
}

static void blkdebug_refresh_filename(RealNode *n)
{
    if (!n->file || !n->file->child->exact_filename[0])
        return;
    const char *key;
    json_t *v;
    json_object_foreach(n->full_open_options, key, v) {
        if (strcmp(key, "config") && strcmp(key, "image") && strcmp(key, "x-image") &&
            strcmp(key, "driver"))
            return;
    }
    BlkdebugState *s = n->bs->opaque;
    free(n->exact_filename);
    n->exact_filename = bg_asprintf("blkdebug:%s:%s", s->config_file ? s->config_file : "",
                                    n->file->child->exact_filename);
}

static const RealDriver drv_blkdebug = {
    .format_name = "blkdebug",
    .protocol_name = "blkdebug",  /* bdrv_blkdebug: its "blkdebug:" file names */
    .is_filter = true,
    .instance_size = sizeof(BlkdebugState),
    .open = blkdebug_open,
    .close = blkdebug_close,
    .pread = blkdebug_pread,
    .pwrite = blkdebug_pwrite,
    .pwrite_zeroes = blkdebug_pwrite_zeroes,
    .pdiscard = blkdebug_pdiscard,
    .flush_to_disk = blkdebug_flush,
    .getlength = filter_getlength,
    .truncate = filter_truncate,
    .block_status = filter_block_status,
    .get_info = filter_get_info,
    .refresh_limits = blkdebug_refresh_limits,
    .debug_event = blkdebug_debug_event,
    .reopen_prepare = filter_reopen_prepare,
    .reopen_commit = filter_reopen_nothing,
    .reopen_abort = filter_reopen_nothing,
};

const RealNodeDriver real_nd_blkdebug = {
    .format_name = "blkdebug",
    .ops = &drv_blkdebug,
    .is_filter = true,
    .protocol = true,       /* bdrv_file_open */
    .has_reopen = true,
    .open = blkdebug_node_open,
    .parse_filename = blkdebug_parse_filename,
    .child_perm = blkdebug_child_perm,
    .refresh_filename = blkdebug_refresh_filename,
};

