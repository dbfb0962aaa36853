/*
 * compare.h: comparing two backends' answers to the same step
 * (runner.c runs the steps; this says where the answers differ).
 *
 * Paths name the first difference as a JSON path into the comparison
 * views: "/return/0/node-name", "/qemu-io", "/events/1/data/status", and
 * for guest data "/NODE/OFFSET", "/NODE/size" or
 * "/NODE/OFFSET/zero-claim/BACKEND".
 */
#ifndef BG_COMPARE_H
#define BG_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

/* First JSON path (below PREFIX) at which A and B differ, or NULL (owned). */
char *bg_compare_first_diff(const json_t *a, const json_t *b, const char *prefix);

/*
 * RA and RB (run in scratch directories DA and DB) and their sorted events
 * EVA and EVB, in comparison form: true when they agree; else the path of
 * the first difference and its channel ("result", "qemu-io" or "events"),
 * both owned by the caller.
 */
bool bg_compare_step(const BgResult *ra, const char *da, const BgResult *rb, const char *db,
                     const json_t *eva, const json_t *evb, char **path_out, char **channel_out);

/* What the comparisons of one run found unchanged since (compare_data.c). */
typedef struct BgDataMemo BgDataMemo;
BgDataMemo *bg_data_memo_new(void);
void bg_data_memo_free(BgDataMemo *m);

/*
 * The bytes of every node both backends list (named by the user: automatic
 * names differ by design), chunk by chunk.  False at the first difference,
 * with its path.  A chunk both know to be zeroes (known_zero) is skipped
 * with SKIP_KNOWN_ZERO; otherwise each claim is checked against the bytes
 * read.  A node one backend cannot read is skipped: failed reads are
 * compared through qemu-io steps instead.  MEMO (NULL: none) carries the
 * run's earlier comparisons: a node found equal then and changed on
 * neither side since is not read again (compare_data.c).  BUF: two chunk
 * buffers the caller frees, made at the first call (NULL before).
 */
bool bg_compare_data(const BgBackendOps *const ops[2], BgBackend *const be[2],
                     bool skip_known_zero, BgDataMemo *memo, uint8_t *buf[2], char **path_out);

#endif
