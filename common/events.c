/*
 * events.c: the queue of events not yet waited for and the wait steps'
 * event rules (events.h).
 *
 * What this is: python/qemu/machine/machine.py (QEMU 7.2)
 * QEMUMachine.event_match(), the "Search cached events" loop of
 * events_wait(), and iotests.py VM.run_job()'s reaction to each
 * JOB_STATUS_CHANGE.  Python iterates a non-dict MATCH as if it were a dict
 * and falls back to ==; for JSON that is plain equality, which is what this
 * does (the one quirk not copied: Python lets an empty string match
 * anything).
 * What it is not: reading events (qemu/qmp.h, real/graph.h) or issuing the
 * job commands (each backend does, and its events are the step's).
 */
#include "events.h"

#include <stdio.h>
#include <string.h>

#include "bg.h"

bool events_match(json_t *value, json_t *match)
{
    if (!match || json_is_null(match))
        return true;
    if (json_is_object(match)) {
        const char *key;
        json_t *sub;
        json_object_foreach(match, key, sub) {
            json_t *v = json_is_object(value) ? json_object_get(value, key) : NULL;
            if (!v || !events_match(v, sub))
                return false;
        }
        return true;
    }
    if (json_is_number(match) && json_is_number(value) && !json_is_boolean(value))
        return json_number_value(match) == json_number_value(value);
    return json_equal(value, match);
}

json_t *events_take_first(json_t *queue, const EventsWant *wants, size_t n)
{
    for (size_t i = 0; i < json_array_size(queue); i++) {
        json_t *ev = json_array_get(queue, i);
        const char *name = json_string_value(json_object_get(ev, "event"));
        if (!name)
            continue;
        for (size_t w = 0; w < n; w++) {
            if (strcmp(name, wants[w].name) == 0 && events_match(ev, wants[w].match)) {
                json_incref(ev);
                json_array_remove(queue, i);
                return ev;
            }
        }
    }
    return NULL;
}

void events_collect(json_t *queue, BgResult *res, json_t *evs)
{
    size_t i;
    json_t *ev;
    json_array_foreach(evs, i, ev) {
        if (!res->events)
            res->events = json_array();
        json_array_append_new(res->events, json_deep_copy(ev));
        json_array_append(queue, ev);
    }
}

double events_wait_timeout(json_t *timeout, char **text)
{
    double s = json_is_number(timeout) ? json_number_value(timeout) : BG_WAIT_TIMEOUT_DEF_S;
    if (!(s >= 0))
        s = 0;
    if (s > BG_WAIT_TIMEOUT_MAX_S)
        s = BG_WAIT_TIMEOUT_MAX_S;
    *text = s == (double)(long long)s ? bg_asprintf("%lld", (long long)s) : bg_asprintf("%g", s);
    return s;
}

/* ---- wait-job ----------------------------------------------------------------------- */

void events_wait_job_init(EventsWaitJob *w, const char *id)
{
    w->by_device = json_pack("{s:{s:s}}", "data", "device", id);
    w->null_status = json_pack("{s:{s:s,s:s}}", "data", "id", id, "status", "null");
    w->ends[0] = (EventsWant){ "BLOCK_JOB_COMPLETED", w->by_device };
    w->ends[1] = (EventsWant){ "BLOCK_JOB_CANCELLED", w->by_device };
    w->gone = (EventsWant){ "JOB_STATUS_CHANGE", w->null_status };
}

void events_wait_job_cleanup(EventsWaitJob *w)
{
    json_decref(w->by_device);
    json_decref(w->null_status);
    *w = (EventsWaitJob){ 0 };
}

/* ---- run-job ------------------------------------------------------------------------- */

static bool flag(json_t *spec, const char *key, bool dflt)
{
    json_t *v = json_object_get(spec, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* iotests.py (QEMU 7.2) VM.run_job(), with pre_finalize=None, wait=60. */
bool events_run_job_init(EventsRunJob *r, json_t *spec, BgError *err)
{
    *r = (EventsRunJob){ 0 };
    r->id = json_string_value(json_object_get(spec, "id"));
    if (!r->id)
        return bg_error_setf(err, "run-job: \"id\" must be a string");
    r->auto_finalize = flag(spec, "auto-finalize", true);
    r->auto_dismiss = flag(spec, "auto-dismiss", false);
    r->cancel = flag(spec, "cancel", false);
    r->by_device = json_pack("{s:{s:s}}", "data", "device", r->id);
    r->by_id = json_pack("{s:{s:s}}", "data", "id", r->id);
    const EventsWant wants[] = {
        { "BLOCK_JOB_COMPLETED", r->by_device }, { "BLOCK_JOB_CANCELLED", r->by_device },
        { "BLOCK_JOB_ERROR", r->by_device },     { "BLOCK_JOB_READY", r->by_device },
        { "BLOCK_JOB_PENDING", r->by_id },       { "JOB_STATUS_CHANGE", r->by_id },
    };
    memcpy(r->wants, wants, sizeof(wants));
    return true;
}

void events_run_job_cleanup(EventsRunJob *r)
{
    json_decref(r->by_device);
    json_decref(r->by_id);
    *r = (EventsRunJob){ 0 };
}

EventsRunJobStep events_run_job_next(const EventsRunJob *r, json_t *ev, const char **command)
{
    const char *name = json_string_value(json_object_get(ev, "event"));
    const char *status = json_string_value(json_object_get(json_object_get(ev, "data"),
                                                           "status"));
    *command = NULL;
    if (!name || strcmp(name, "JOB_STATUS_CHANGE") != 0 || !status)
        return EVENTS_RUN_JOB_WAIT;
    if (strcmp(status, "aborting") == 0)
        return EVENTS_RUN_JOB_ABORTING;
    if (strcmp(status, "ready") == 0)
        *command = "job-complete";
    else if (strcmp(status, "pending") == 0 && !r->auto_finalize)
        *command = r->cancel ? "job-cancel" : "job-finalize";
    else if (strcmp(status, "concluded") == 0 && !r->auto_dismiss)
        *command = "job-dismiss";
    else if (strcmp(status, "null") == 0)
        return EVENTS_RUN_JOB_DONE;
    return *command ? EVENTS_RUN_JOB_COMMAND : EVENTS_RUN_JOB_WAIT;
}
