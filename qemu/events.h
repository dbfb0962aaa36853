/*
 * events.h: matching QMP events and taking them out of a queue.
 *
 * What this is: python/qemu/machine's QEMUMachine.event_match() and the
 * cached-events half of events_wait() (QEMU 7.2, machine.py): an event
 * matches (NAME, MATCH) when its "event" is NAME and MATCH matches it
 * recursively; the first match in the queue is removed and returned.
 * What it is not: the waiting (the qemu backend reads new events and
 * appends them to the queue, then asks again, which is exactly events_wait's
 * order: cached events first, then new ones in arrival order).
 *
 * Events are {"event": NAME, "data": {...}} (qmp.h).
 */
#ifndef BG_QEMU_EVENTS_H
#define BG_QEMU_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

#endif
