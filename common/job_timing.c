/*
 * job_timing.c: the job-timing rule (job_timing.h).
 */
#include "job_timing.h"

#include <string.h>

static bool is_one_of(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(s, *names) == 0)
            return true;
    return false;
}

const char *bg_job_timing_moving(const json_t *line, bool *start)
{
    static const char *const starts[] = { "block-stream", "block-commit", NULL };
    static const char *const verbs[] = { "job-complete", "job-finalize", "job-cancel",
                                         "block-job-complete", "block-job-finalize",
                                         "block-job-cancel", NULL };
    const char *cmd = json_string_value(json_object_get(line, "execute"));
    if (!cmd)
        return NULL;
    bool is_start = is_one_of(cmd, starts);
    if (!is_start && !is_one_of(cmd, verbs))
        return NULL;
    const json_t *a = json_object_get(line, "arguments");
    const char *id = json_string_value(json_object_get(a, is_start ? "job-id" : "id"));
    if (!id)
        id = json_string_value(json_object_get(a, "device"));
    if (start)
        *start = is_start;
    return id;
}

bool bg_job_timing_drives(const json_t *line, const char *id)
{
    const json_t *w = json_object_get(line, "wait-event");
    const json_t *m = json_object_get(json_object_get(w, "match"), "data");
    const char *ids[] = {
        json_string_value(json_object_get(json_object_get(line, "run-job"), "id")),
        json_string_value(json_object_get(line, "wait-job")),
        json_string_value(json_object_get(m, "id")),
        json_string_value(json_object_get(m, "device")),
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return true;
    return false;
}

size_t bg_job_timing_undriven(const json_t *lines)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(lines); i++) {
        const char *id = bg_job_timing_moving(json_array_get(lines, i), NULL);
        const json_t *next = json_array_get(lines, i + 1);
        if (id && !(next && bg_job_timing_drives(next, id)))
            n++;
    }
    return n;
}
