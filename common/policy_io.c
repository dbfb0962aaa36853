/*
 * policy_io.c: the command grammar of qemu-io and qemu-img (policy_io.h).
 *
 * What this is: qemu-io commands and their options (read, write, readv,
 * writev, discard, flush, aio_flush, length, info, map, alloc; no "open",
 * "sleep", "abort", no write -s), operands as cvtnum reads them
 * (bg_policy_parse_size()) with the request limit of bg.h, HMP's quoting of
 * "qemu-io NODE \"CMD\"", and qemu-img check/map/compare/info with the
 * exact option spellings accepted.
 * What it is not: the allowlists and step shapes (policy.c) or the file
 * name rule (the caller's BgFileFn, confine.h).
 *
 * Provenance (QEMU 7.2): qemu-io-cmds.c (command names, getopt strings
 * "bCl:pP:qs:v", "bcCfnpP:qs:uz", "CP:qv", "CfqP:", "Cq", breakline()
 * splitting on ' ' only, getopt permuting options after operands);
 * qemu-img.c img_check/img_map/img_compare/img_info (options);
 * monitor/hmp.c get_str() (HMP quoting).
 */
#include "policy_io.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

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

bool bg_policy_io_cmd(const char *who, const char *cmd, BgError *err)
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

/* ---- HMP ------------------------------------------------------------------- */

/* HMP "qemu-io NODE \"CMD\"" (monitor/hmp.c get_str() quoting) or "qemu-io NODE CMD". */
bool bg_policy_io_hmp(const json_t *args, BgError *err)
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
        return *p ? bg_policy_io_cmd(who, p, err)
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
        ok = bg_policy_io_cmd(who, cmd, err);
    free(cmd);
    return ok;
}

/* ---- qemu-img ------------------------------------------------------------- */

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

bool bg_policy_io_qemu_img(const json_t *a, BgFileFn on_file, void *opaque, BgError *err)
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
            if (!on_file(t, BG_FILE_IMAGE, NULL, opaque, err))
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
            if (!bg_policy_image_format_allowed(v))
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
