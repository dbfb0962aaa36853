/*
 * job_mirror.h: the active commit (block-commit without a top below the
 * active layer), run as QEMU runs it: a mirror job into the base.
 */
#ifndef REAL_JOB_MIRROR_H
#define REAL_JOB_MIRROR_H

#include "graph.h"

/* commit_active_start() */
bool real_job_commit_active_start(RealGraph *g, const char *job_id, RealNode *bs, RealNode *base,
                                  bool auto_finalize, bool auto_dismiss, int64_t speed,
                                  const char *filter_node_name, BgError *err);

#endif
