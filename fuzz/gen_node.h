/*
 * gen_node.h: block-node definitions and reopen entries for the generators
 * (prefix gen_node_).
 *
 * What this is: the blockdev-add arguments of every kind of node the
 * generators make (qcow2 over a file node on an image, with its header's
 * backing image defined inline or another node or null as backing; raw
 * with offset/size; a lone file node; qcow2 or raw over a live file node;
 * null-co/null-aio; throttle, compress and copy-on-read filters;
 * blkdebug; quorum and blkverify), the reopen entry that restates a node
 * (iotest 245's reopen(): its driver, name, own options and current
 * children by name, or a nested definition of a child that inherits), and
 * the two edits of a definition: an option to another value its table
 * allows (mut_values.h) and a child link to another live node, null, or
 * nothing.
 * What it is not: the choice of which action to generate (gen.h).
 */
#ifndef BG_GEN_NODE_H
#define BG_GEN_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "mut_rand.h"
#include "mut_state.h"

/* Append a blockdev-add of a new node or subtree (and what it needs) to OUT; 0 when none fits. */
size_t gen_node_add(const MutState *st, MutRand *r, json_t *out);

/* object-add's arguments for a throttle group ID: mostly one limit, one in
 * five with more members, valid together or not (owned). */
json_t *gen_node_group_args(MutRand *r, const char *id);
/* A throttle group that exists, or the steps creating one appended to OUT (id in *ID, owned). */
size_t gen_node_group(const MutState *st, MutRand *r, json_t *out, char **id);
/* A filter node of driver DRV over CHILD: steps appended to OUT, its name in *NAME (owned). */
size_t gen_node_filter(const MutState *st, MutRand *r, json_t *out, const char *drv,
                       const char *child, char **name);
/* throttle, compress or copy-on-read. */
const char *gen_node_filter_driver(MutRand *r);
/*
 * A qcow2 node over a free image with a live node as backing (a chain for a
 * job): the step appended to OUT, its name in *TOP (owned), the backing in *BASE.
 */
size_t gen_node_chain(const MutState *st, MutRand *r, json_t *out, char **top,
                      const MutNode **base);

/*
 * The reopen options of node N that change nothing: its driver, name, own
 * options and current children by name (a nested definition sometimes).
 */
json_t *gen_node_reopen_entry(const MutState *st, const MutNode *n, MutRand *r, int depth);

/*
 * Change one option of the node definition OBJ (driver DRIVER, inside a
 * blockdev-add or a reopen) to another value its table allows.  True when
 * OBJ changed.
 */
bool gen_node_change_option(const MutState *st, json_t *obj, const char *driver, MutRand *r);

/*
 * Point a child link of OBJ ("file", "backing" for qcow2, "image" for
 * blkdebug) at another live node, at null (backing), or leave it out.  SELF
 * is the node OBJ defines or reopens (never its own child).  True when OBJ
 * changed.
 */
bool gen_node_change_child(const MutState *st, json_t *obj, const char *driver, const char *self,
                           MutRand *r);

#endif
