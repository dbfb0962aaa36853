/*
 * job_timing.h: the job-timing rule of streams that two backends run in
 * lock-step (fuzz/gen.c "Job timing").
 *
 * QEMU runs a block job in the background; the model moves it only when a
 * step drives it.  The two agree only where the job is parked (ready,
 * pending) or ended, so a step that sets a job moving (block-stream,
 * block-commit, a job verb) must be followed at once by a step that drives
 * that job: run-job, wait-job, or a wait-event for it.  The generator and
 * the mutator keep the rule (fuzz/mutator.c adds a missing driver);
 * replay --minimize keeps it (a candidate that breaks it would let QEMU's
 * timing decide what the next steps see, and its verdict on QEMU could
 * differ from run to run).
 *
 * A second rule, kept by the mutator: a job start does not take the id of
 * an earlier job of the stream.  Events of the earlier job its driver left
 * in the queue would answer a run-job of the new one at once, while QEMU
 * runs the new job on: again QEMU's timing would decide
 * (corpus/regress/167 shows the case the model follows).
 */
#ifndef BG_JOB_TIMING_H
#define BG_JOB_TIMING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The id of the job LINE (a stream line as JSON) sets moving, or NULL;
 * *START tells a job start (block-stream, block-commit) from a verb. */
const char *bg_job_timing_moving(const json_t *line, bool *start);
/* Does LINE (run-job, wait-job, wait-event) drive job ID? */
bool bg_job_timing_drives(const json_t *line, const char *id);
/* How many lines of LINES (a JSON array) set a job moving without the
 * next line driving it. */
size_t bg_job_timing_undriven(const json_t *lines);

#endif
