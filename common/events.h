/*
 * events.h: the queue of events not yet waited for, and what the wait
 * steps take from it (streams.md wait-event, wait-job, run-job).
 *
 * What this is: python/qemu/machine's QEMUMachine.event_match(), the
 * cached-events half of events_wait() and the _events queue (QEMU 7.2,
 * machine.py), and the event rules of iotests.py VM.run_job(): an event
 * matches (NAME, MATCH) when its "event" is NAME and MATCH matches it
 * recursively; the first match in the queue is removed and returned.  Every
 * backend with a VM (qemu/qemu_backend.c, real/real_backend.c) keeps such a
 * queue and answers the wait steps with these rules and texts.
 * What it is not: the waiting (the qemu backend reads new events and
 * appends them to the queue, then asks again, which is exactly events_wait's
 * order: cached events first, then new ones in arrival order; the engine's
 * events are all there already) or the job commands a backend issues.
 *
 * Events are {"event": NAME, "data": {...}} (qemu/qmp.h).
 */
#ifndef BG_EVENTS_H
#define BG_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "backend.h"

typedef struct EventsWant {
    const char *name;   /* event name */
    json_t *match;      /* borrowed; NULL or json null matches anything */
} EventsWant;

/*
 * event_match(event, match): NULL/null matches anything; an object matches
 * when each of its keys is present in value and matches there recursively;
 * any other value matches an equal value (numbers compare by value, so 1
 * matches 1.0, as in Python).
 */
bool events_match(json_t *value, json_t *match);

/* Remove and return (owned) the first event in queue that satisfies one of
 * the n wants, or NULL. */
json_t *events_take_first(json_t *queue, const EventsWant *wants, size_t n);

/* Events that arrived (EVS, borrowed, oldest first) are the step's (res->events)
 * and join the queue. */
void events_collect(json_t *queue, BgResult *res, json_t *evs);

/* wait-event: the timeout in seconds (default, cap) and its text for the
 * Timeout error (*text owned). */
double events_wait_timeout(json_t *timeout, char **text);

/* The Timeout errors of the wait steps. */
#define EVENTS_MSG_NO_EVENT     "no %s event within %s s"
#define EVENTS_MSG_NO_JOB_END   "no BLOCK_JOB_COMPLETED or BLOCK_JOB_CANCELLED event for job " \
                                "'%s' within %d s"
#define EVENTS_MSG_NOT_NULL     "job '%s' did not reach status null within %d s"
#define EVENTS_MSG_NO_JOB_EVENT "no event for job '%s' within %d s"

/* wait-job ID: the end of the job, then its status null. */
typedef struct EventsWaitJob {
    EventsWant ends[2];   /* BLOCK_JOB_COMPLETED, BLOCK_JOB_CANCELLED of the job */
    EventsWant gone;      /* JOB_STATUS_CHANGE to null */
    json_t *by_device, *null_status;
} EventsWaitJob;

void events_wait_job_init(EventsWaitJob *w, const char *id);
void events_wait_job_cleanup(EventsWaitJob *w);

/* What run-job does after an event of its job (iotests.py VM.run_job()). */
typedef enum EventsRunJobStep {
    EVENTS_RUN_JOB_WAIT,      /* nothing: wait for the next event */
    EVENTS_RUN_JOB_ABORTING,  /* the job's error (query-jobs) becomes the result's */
    EVENTS_RUN_JOB_COMMAND,   /* issue the command named for the job ({"id": ID}) */
    EVENTS_RUN_JOB_DONE,      /* status null: return {"error": ERROR} */
} EventsRunJobStep;

/* run-job SPEC: the job, its flags and the events it waits for. */
typedef struct EventsRunJob {
    const char *id;           /* borrowed from the spec */
    bool auto_finalize, auto_dismiss, cancel;
    EventsWant wants[6];
    json_t *by_device, *by_id;
} EventsRunJob;

/* False with err when SPEC has no string "id". */
bool events_run_job_init(EventsRunJob *r, json_t *spec, BgError *err);
void events_run_job_cleanup(EventsRunJob *r);
/* The next move after EV (borrowed); *command set for EVENTS_RUN_JOB_COMMAND. */
EventsRunJobStep events_run_job_next(const EventsRunJob *r, json_t *ev, const char **command);

#endif
