/*
 * gen_pick.h: choosing among the resources alive at a point of a stream
 * (prefix gen_pick_).
 *
 * What this is: the generators' choosers: node kinds (format, filter),
 * predicates over live nodes and a uniform choice among the nodes that
 * satisfy one, names nothing alive uses yet ("hd1", "hd1-1", "group0",
 * "stream1"...), and images (preferring those no node has open).  The
 * idea is syzkaller's resource choice (prog/rand.go: a new resource or one
 * an earlier call produced).
 * What it is not: the generators (gen.h, gen_node.h) or the knowledge of
 * what is alive (mut_state.h).
 */
#ifndef BG_GEN_PICK_H
#define BG_GEN_PICK_H

#include <stdbool.h>

#include "mut_rand.h"
#include "mut_state.h"

bool gen_pick_drv_is(const MutNode *n, const char *driver);
bool gen_pick_is_format(const MutNode *n);          /* qcow2, raw */
bool gen_pick_is_filter(const MutNode *n);          /* throttle, compress, copy-on-read */
bool gen_pick_has_file_link(const char *driver);    /* a driver whose child is "file" */

/* A predicate over live nodes; ARG is the predicate's own parameter. */
typedef bool (*GenPickPred)(const MutState *st, const MutNode *n, const void *arg);

/* A live node satisfying PRED (all when NULL), uniformly; NULL when none does. */
MutNode *gen_pick_node(const MutState *st, MutRand *r, GenPickPred pred, const void *arg);

bool gen_pick_not_job_filter(const MutState *st, const MutNode *n, const void *arg);
bool gen_pick_format_or_filter(const MutState *st, const MutNode *n, const void *arg);
/* Any node but the one named ARG (a const char *). */
bool gen_pick_other(const MutState *st, const MutNode *n, const void *arg);
bool gen_pick_monitor_owned(const MutState *st, const MutNode *n, const void *arg);
/* A node with a named, live backing child. */
bool gen_pick_has_chain(const MutState *st, const MutNode *n, const void *arg);
bool gen_pick_filter_with_child(const MutState *st, const MutNode *n, const void *arg);
bool gen_pick_throttle(const MutState *st, const MutNode *n, const void *arg);
bool gen_pick_file_node(const MutState *st, const MutNode *n, const void *arg);

/* BASE when no node, job or group has that name, else BASE-1, BASE-2... (owned). */
char *gen_pick_fresh_name(const MutState *st, const char *base);
/* PREFIX0, PREFIX1...: the first no node, job, group, iothread or device has (owned). */
char *gen_pick_fresh_numbered(const MutState *st, const char *prefix);

bool gen_pick_image_in_use(const MutState *st, const char *file);
/* "hd1.img" -> "hd1" (owned). */
char *gen_pick_image_stem(const char *file);
/* An image of format FMT (any when NULL), mostly one no node has open; NULL when none. */
const MutImage *gen_pick_image(const MutState *st, MutRand *r, const char *fmt);

#endif
