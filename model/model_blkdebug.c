/*
 * model_blkdebug.c: blkdebug's options, error injection rules and events.
 *
 * What this is: the options blkdebug_open() reads (alignment and limit
 * overrides with their constraint errors, the permission modifiers, the
 * inject-error rules), and the rules at work: an event raised on the
 * blkdebug node (by the format node above it, whose `file` it is) makes the
 * event's rules the active ones, and an I/O request reaching the node fails
 * with the errno of the first active rule that matches its type and offset
 * (a `once` rule is then gone).
 * What it is not: set-state rules or config files (the model answers
 * "unsupported" for them), events other than read_aio and none (qcow2's
 * metadata events depend on its caches, and whether it raises write_aio
 * depends on how it merges copy-on-write, neither of which the model
 * keeps), metadata I/O (the model checks the rules for a format node's
 * data requests only: its data clusters' and its compressed clusters'
 * bytes), and flushes (model_blkdebug_flush_may_fail() says
 * when one might meet a rule; the caller answers "unsupported").
 *
 * Mirrors QEMU 7.2.0 block/blkdebug.c blkdebug_open(), read_config(),
 * add_rule(), blkdebug_parse_perms(), blkdebug_debug_event(),
 * process_rule(), rule_check(), remove_rule(), blkdebug_co_flush(); block/io.c
 * bdrv_co_flush(), bdrv_debug_event()
 * (only the direct child hears an event).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "messages.h"
#include "model.h"

static const char *const iotype_names[] = {
    "read", "write", "write-zeroes", "discard", "flush", "block-status",
};

static const char *const event_names[] = { "read_aio", "none" };

static bool key_bool(const ModelQDict *o, const char *key)
{
    return model_open_opt_bool(o, key, false, NULL);
}

static int64_t key_int(const ModelQDict *o, const char *key, int64_t dflt)
{
    json_t *v = model_qdict_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

/* blkdebug_parse_perms(): PREFIX.0, PREFIX.1, ... permission names. */
static unsigned parse_perms(ModelQDict *opts, const char *prefix)
{
    static const char *const names[] = { "consistent-read", "write", "write-unchanged", "resize" };
    static const unsigned bits[] = { MODEL_PERM_CONSISTENT_READ, MODEL_PERM_WRITE,
                                     MODEL_PERM_WRITE_UNCHANGED, MODEL_PERM_RESIZE };
    unsigned perms = 0;
    ModelQDict *sub = NULL;
    model_qdict_extract_sub(opts, &sub, prefix);
    for (size_t i = 0; i < sub->n; i++)
        for (size_t k = 0; k < 4; k++)
            if (json_is_string(sub->e[i].val) && strcmp(json_string_value(sub->e[i].val), names[k]) == 0)
                perms |= bits[k];
    model_qdict_free(sub);
    return perms;
}

/* add_rule() for every "inject-error.N." group of OPTS (which loses them). */
static bool parse_rules(ModelState *st, ModelNode *n, ModelQDict *opts)
{
    for (unsigned i = 0;; i++) {
        char *prefix = bg_asprintf("inject-error.%u.", i);
        ModelQDict *r = NULL;
        model_qdict_extract_sub(opts, &r, prefix);
        free(prefix);
        if (r->n == 0) {
            model_qdict_free(r);
            return true;
        }
        ModelDbgRule rule = { .state = (int)key_int(r, "state", 0), .error = EIO, .offset = -1 };
        const char *ev = model_qdict_get_str(r, "event");
        rule.event = -1;
        for (int e = 0; ev && e < MODEL_DBG_EVENTS; e++)
            if (strcmp(ev, event_names[e]) == 0)
                rule.event = e;
        if (rule.event < 0) {
            model_qdict_free(r);
            st->unsupported = "blkdebug rules on events other than read_aio and none are not "
                              "modelled";
            return false;
        }
        const char *iotype = model_qdict_get_str(r, "iotype");
        rule.iotypes = 0;
        for (unsigned t = 0; t < sizeof(iotype_names) / sizeof(iotype_names[0]); t++)
            if (!iotype ? t != MODEL_IO_BLOCK_STATUS : strcmp(iotype, iotype_names[t]) == 0)
                rule.iotypes |= 1u << t;
        rule.error = (int)key_int(r, "errno", EIO);
        int64_t sector = key_int(r, "sector", -1);
        rule.offset = sector < 0 ? -1 : sector * 512;
        rule.once = key_bool(r, "once");
        model_qdict_free(r);
        n->dbg_rules = bg_realloc(n->dbg_rules, (n->n_dbg_rules + 1) * sizeof(*n->dbg_rules));
        n->dbg_rules[n->n_dbg_rules++] = rule;
    }
}

static bool constraint(uint64_t v, uint64_t align, const char *name, BgError *err)
{
    if (v && (v >= INT32_MAX || v % align))
        return bg_error_setf(err, BG_MSG_BLKDEBUG_CONSTRAINT, name, v);
    return true;
}

bool model_blkdebug_open(ModelState *st, ModelNode *n, ModelQDict *opts, BgError *err)
{
    static const char *const sizes[] = { "align", "max-transfer", "opt-write-zero",
                                         "max-write-zero", "opt-discard", "max-discard", NULL };
    if (!model_qcow2_opts_sizes(opts, sizes, err))
        return false;
    const char *config = model_qdict_get_str(opts, "config");
    if (config && strcmp(config, "/dev/null") != 0) {
        st->unsupported = "blkdebug config files other than /dev/null are not modelled";
        return false;
    }
    for (size_t i = 0; i < opts->n; i++)
        if (strncmp(opts->e[i].key, "set-state.", 10) == 0) {
            st->unsupported = "blkdebug set-state rules are not modelled";
            return false;
        }
    if (!parse_rules(st, n, opts))
        return false;
    n->take_perms = parse_perms(opts, "take-child-perms.");
    n->unshare_perms = parse_perms(opts, "unshare-child-perms.");
    n->config = config ? bg_strdup(config) : NULL;
    return true;
}

/* After the image child is open: the alignment and limit overrides. */
bool model_blkdebug_limits(ModelNode *n, ModelQDict *opts, BgError *err)
{
    uint64_t v[6] = {0};
    static const char *const keys[] = { "align", "max-transfer", "opt-write-zero",
                                        "max-write-zero", "opt-discard", "max-discard" };
    for (size_t i = 0; i < 6; i++) {
        json_t *j = model_qdict_get(opts, keys[i]);
        v[i] = json_is_integer(j) ? (uint64_t)json_integer_value(j) : 0;
        model_qdict_del(opts, keys[i]);
    }
    uint64_t align = v[0];
    if (align && (align >= INT32_MAX || (align & (align - 1))))
        return bg_error_setf(err, BG_MSG_BLKDEBUG_CONSTRAINT, "align", align);
    uint64_t a = align ? align : 1;    /* the image's request_alignment is 1 */
    if (!constraint(v[1], a, "max-transfer", err) || !constraint(v[2], a, "opt-write-zero", err) ||
        !constraint(v[3], v[2] > a ? v[2] : a, "max-write-zero", err) ||
        !constraint(v[4], a, "opt-discard", err) ||
        !constraint(v[5], v[4] > a ? v[4] : a, "max-discard", err))
        return false;
    n->align = align;
    n->dbg_max_transfer = v[1];
    model_blkdebug_event(n, MODEL_DBG_NONE);
    model_qdict_del(opts, "config");
    return true;
}

/* blkdebug_debug_event() + process_rule() (the state is always 1). */
void model_blkdebug_event(ModelNode *n, int event)
{
    if (!n || strcmp(n->drv->name, "blkdebug") != 0)
        return;
    bool any = false;
    for (size_t i = 0; i < n->n_dbg_rules; i++)
        if (n->dbg_rules[i].event == event && (!n->dbg_rules[i].state || n->dbg_rules[i].state == 1))
            any = true;
    if (!any)
        return;
    /* the active list is replaced by the event's rules */
    for (size_t i = 0; i < n->n_dbg_rules; i++)
        n->dbg_rules[i].active = n->dbg_rules[i].event == event &&
                                 (!n->dbg_rules[i].state || n->dbg_rules[i].state == 1);
}

/* rule_check(): 0 or the -errno of the first matching active rule. */
int model_blkdebug_check(ModelNode *n, uint64_t off, uint64_t len, int iotype)
{
    /* bdrv_co_write_req_finish(): write_gen counts every write request,
     * a failed one included */
    if (iotype == MODEL_IO_WRITE || iotype == MODEL_IO_WRITE_ZEROES || iotype == MODEL_IO_DISCARD)
        n->dbg_written = true;
    for (size_t i = 0; i < n->n_dbg_rules; i++) {
        ModelDbgRule *r = &n->dbg_rules[i];
        if (!r->active || !(r->iotypes & (1u << iotype)))
            continue;
        if (r->offset >= 0 && !(len && (uint64_t)r->offset >= off && (uint64_t)r->offset < off + len))
            continue;
        int error = r->error;
        if (!error)
            return 0;
        if (r->once) {
            memmove(r, r + 1, (n->n_dbg_rules - i - 1) * sizeof(*r));
            n->n_dbg_rules--;
        }
        return -error;
    }
    return 0;
}

static bool active_rule_for(const ModelNode *n, int iotype)
{
    for (size_t i = 0; i < n->n_dbg_rules; i++)
        if (n->dbg_rules[i].active && n->dbg_rules[i].error &&
            (n->dbg_rules[i].iotypes & (1u << iotype)))
            return true;
    return false;
}

static void flush_walk(const ModelWorld *w, const ModelNode *n, bool *qcow2_changed,
                       bool *own_flush, bool *write_rule)
{
    if (strcmp(n->drv->name, "qcow2") == 0 && n->qcow2_changed)
        *qcow2_changed = true;
    if (strcmp(n->drv->name, "blkdebug") == 0) {
        if (n->dbg_written && active_rule_for(n, MODEL_IO_FLUSH))
            *own_flush = true;
        if (active_rule_for(n, MODEL_IO_WRITE))
            *write_rule = true;
    }
    for (size_t i = 0; i < n->n_children; i++)
        flush_walk(w, model_graph_node(w, n->children[i].node), qcow2_changed, own_flush,
                   write_rule);
}

/*
 * Could bdrv_flush() of N (which flushes N's children too) fail on a
 * blkdebug rule?  A blkdebug node gets to blkdebug_co_flush()'s
 * rule_check() only if it was written since its last flush (write_gen), and
 * a qcow2 node flushed above it first writes its dirty L2 and refcount
 * caches through it.  The model follows neither QEMU's flushes nor qcow2's
 * caches: a blkdebug node ever written with an active rule for flushes, or
 * a changed qcow2 node and an active rule for writes, count as "may fail".
 */
bool model_blkdebug_flush_may_fail(const ModelWorld *w, const ModelNode *n)
{
    bool qcow2_changed = false, own_flush = false, write_rule = false;
    flush_walk(w, n, &qcow2_changed, &own_flush, &write_rule);
    return own_flush || (qcow2_changed && write_rule);
}

/*
 * Could a request of a job's copy fail on a blkdebug rule below N?  Any
 * blkdebug node under N (N's children, recursively) with a rule that
 * injects an error, for any type of request (block status included), and
 * is active or on read_aio, which the copy's own reads raise (a qcow2 or
 * raw node's data read tells its file).
 * A failed copy request goes to block_job_error_action() (blockjob.c:
 * BLOCK_JOB_ERROR, then the job ends with the error, its progress short of
 * its len), which the model does not follow; the caller answers
 * "unsupported".
 */
bool model_blkdebug_job_may_fail(const ModelWorld *w, const ModelNode *n)
{
    for (size_t i = 0; strcmp(n->drv->name, "blkdebug") == 0 && i < n->n_dbg_rules; i++)
        if (n->dbg_rules[i].error &&
            (n->dbg_rules[i].active || n->dbg_rules[i].event == MODEL_DBG_READ_AIO))
            return true;
    for (size_t i = 0; i < n->n_children; i++)
        if (model_blkdebug_job_may_fail(w, model_graph_node(w, n->children[i].node)))
            return true;
    return false;
}

bool model_blkdebug_chain_rule(const ModelWorld *w, const ModelNode *n, unsigned iotypes)
{
    for (const ModelNode *x = model_graph_file(w, n); x && x->drv->kind == BG_DRV_FILTER;
         x = model_graph_filtered(w, x))
        for (int t = MODEL_IO_READ; strcmp(x->drv->name, "blkdebug") == 0 &&
                                    t <= MODEL_IO_BLOCK_STATUS; t++)
            if ((iotypes & (1u << t)) && active_rule_for(x, t))
                return true;
    return false;
}

/* Would an active rule of N for IOTYPE look at the request's offset? */
bool model_blkdebug_needs_offset(const ModelNode *n, int iotype)
{
    for (size_t i = 0; i < n->n_dbg_rules; i++)
        if (n->dbg_rules[i].active && (n->dbg_rules[i].iotypes & (1u << iotype)) &&
            n->dbg_rules[i].offset >= 0)
            return true;
    return false;
}
