/*
 * reopen.h: blockdev-reopen: the reopen queue and the multi-node
 * transaction.
 *
 * What this is: QEMU 7.2 block.c bdrv_reopen_queue_child() (options of the
 * listed nodes and of the children that inherit from them, merged for a
 * node listed twice, flags recomputed, "backing" presence recorded),
 * bdrv_reopen_multiple() (flush; prepare every entry in queue order;
 * refresh the permissions of every touched subtree in topological order;
 * commit in reverse order, or abort everything: a failed reopen leaves no
 * trace), bdrv_reopen_prepare() stages a-k (generic options, detect-zeroes,
 * read-only with copy-on-read, "does not support reopening", reset check,
 * the driver's handler, "backing is missing", backing then file replacement,
 * "Cannot change the option" in QDict order), bdrv_reopen_commit/abort(),
 * bdrv_reopen_parse_file_or_backing(), bdrv_reset_options_allowed(), and
 * blockdev.c qmp_blockdev_reopen().
 *
 * The transaction, drawn after QEMU:
 *
 *     queue ──▶ flush ──▶ prepare(e1) … prepare(en) ──▶ refresh perms ──▶ commit(en) … commit(e1)
 *                 │            │ any failure                │ failure          then tran_commit
 *                 └────────────┴───────────────────────────┴──▶ tran_abort + abort(prepared)
 *
 * What it is not: QAPI validation (qapi.h) or option semantics of the
 * storage drivers (their reopen slots).
 */
#ifndef REAL_REOPEN_H
#define REAL_REOPEN_H

#include <jansson.h>

#include "graph.h"

/* bdrv_reopen_get_flags(): the flags N will have after Q (current ones when absent). */
int real_reopen_queue_flags(ReopenQueue *q, RealNode *n);

/*
 * blockdev-reopen {"options": [...]}.  SEED_WORDING: the arguments came as
 * x-blockdev-reopen (the caller rewords input-validation errors).
 * *unsupported when a driver named is not implemented by the engine.
 */
bool real_blockdev_reopen(RealGraph *g, json_t *args, bool *unsupported, BgError *err);

/*
 * bdrv_reopen_set_read_only() / bdrv_reopen(bs, opts, keep_old_opts=true):
 * used by jobs to make a node writable and back.
 */
int real_reopen_set_read_only(RealNode *n, bool read_only, BgError *err);

#endif
