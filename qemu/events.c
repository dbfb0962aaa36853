/*
 * events.c: iotests' event_match() and the cached half of events_wait().
 *
 * What this is: python/qemu/machine/machine.py (QEMU 7.2)
 * QEMUMachine.event_match() and the "Search cached events" loop of
 * events_wait().  Python iterates a non-dict MATCH as if it were a dict and
 * falls back to ==; for JSON that is plain equality, which is what this does
 * (the one quirk not copied: Python lets an empty string match anything).
 * What it is not: reading events (qmp.h) or deciding what to wait for.
 */
#include "events.h"

#include <string.h>

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
