/*
 * finding.c: the key of a difference between two backends (finding.h).
 *
 * The forms are those tools/fuzz-findings.sh built in awk before this file
 * took them over, byte for byte, so a finding keeps its id (the key's sha1)
 * across the move: a value is templated from the text the runner prints, not
 * from the JSON value, and lengths are bytes (a cut backs off to the start
 * of a UTF-8 sequence, where awk cut bytes).
 */
#include "finding.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

#define FINDING_TEXT_MAX 160

/* Names in single quotes as '*', digit runs as N, cut at FINDING_TEXT_MAX. */
static char *blank_text(const char *s)
{
    BgBuf b = {0};
    while (*s) {
        const char *close = *s == '\'' ? strchr(s + 1, '\'') : NULL;
        if (close) {
            bg_buf_puts(&b, "'*'");
            s = close + 1;
        } else if (*s >= '0' && *s <= '9') {
            while (*s >= '0' && *s <= '9')
                s++;
            bg_buf_puts(&b, "N");
        } else {
            bg_buf_append(&b, s, 1);
            s++;
        }
    }
    char *r = bg_buf_take(&b);
    if (!r)
        return bg_strdup("");
    if (strlen(r) > FINDING_TEXT_MAX) {
        size_t cut = FINDING_TEXT_MAX;   /* not inside a UTF-8 sequence: the key is JSON too */
        while (cut > 0 && ((unsigned char)r[cut] & 0xc0) == 0x80)
            cut--;
        r[cut] = '\0';
        char *shown = bg_asprintf("%s...", r);
        free(r);
        return shown;
    }
    return r;
}

/* The first complete JSON string that is a "desc" member's value in the
 * compact JSON text S (quotes included), or NULL. */
static char *desc_of(const char *s)
{
    for (const char *p = strstr(s, "\"desc\":"); p; p = strstr(p + 1, "\"desc\":")) {
        const char *q = p + 7;
        if (*q == ' ')
            q++;
        if (*q != '"')
            continue;
        const char *r = q + 1;
        while (*r && *r != '"') {
            if (*r == '\\') {
                if (!r[1])
                    break;
                r += 2;
            } else {
                r++;
            }
        }
        if (*r == '"')
            return bg_strndup(q, (size_t)(r + 1 - q));
    }
    return NULL;
}

char *bg_finding_value(const char *shown)
{
    if (shown[0] == '{') {
        char *d = desc_of(shown);
        if (!d)
            return bg_strdup("{...}");
        char *t = blank_text(d);
        char *r = bg_asprintf("error %s", t);
        free(t);
        free(d);
        return r;
    }
    if (shown[0] == '[')
        return bg_strdup("[...]");
    if ((shown[0] >= '0' && shown[0] <= '9') ||
        (shown[0] == '-' && shown[1] >= '0' && shown[1] <= '9'))
        return bg_strdup("N");
    return blank_text(shown);
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

char *bg_finding_path(const char *channel, const char *path)
{
    BgBuf b = {0};
    bool data = strcmp(channel, "data") == 0, jobs = strcmp(channel, "job-events") == 0;
    /* what stands before the first '/' is not a segment ("-": no path) */
    const char *p = strchr(path, '/');
    for (int seg = 2; p; seg++) {
        const char *s = p + 1;
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        bg_buf_puts(&b, "/");
        if (all_digits(s, n))
            bg_buf_puts(&b, "N");
        else if ((data && seg == 2) || (jobs && seg == 3 && strncmp(path, "/jobs/", 6) == 0))
            bg_buf_puts(&b, "*");
        else
            bg_buf_append(&b, s, n);
        p = end;
    }
    char *r = bg_buf_take(&b);
    return r ? r : bg_strdup("");
}

char *bg_finding_key(const json_t *sig)
{
    const char *cmd = json_string_value(json_object_get(sig, "command"));
    const char *ch = json_string_value(json_object_get(sig, "channel"));
    const char *path = json_string_value(json_object_get(sig, "path"));
    json_t *values = json_object_get(sig, "values");
    char *np = bg_finding_path(ch ? ch : "backend", path ? path : "-");
    char *key;
    if (json_array_size(values) == 2)
        key = bg_asprintf("mismatch: command=%s channel=%s path=%s | %s ~ %s", cmd ? cmd : "?",
                          ch ? ch : "backend", np,
                          json_string_value(json_array_get(values, 0)),
                          json_string_value(json_array_get(values, 1)));
    else
        key = bg_asprintf("mismatch: command=%s channel=%s path=%s", cmd ? cmd : "?",
                          ch ? ch : "backend", np);
    free(np);
    return key;
}
