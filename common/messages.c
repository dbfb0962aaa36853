/*
 * messages.c: the seed's wording of input-validation errors (messages.h).
 *
 * QEMU 6.1 turned x-blockdev-reopen's single BlockdevOptions into
 * blockdev-reopen's "options" list, so the QAPI visitor's paths gained an
 * "options[0]." prefix; 6.2 reworded the enum error.  A stream's
 * x-blockdev-reopen keeps the seed's texts (qemu-semantics.md 4.1).
 */
#include "messages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

#define PREFIX "options[0]."

char *bg_msg_seed_wording(const char *desc)
{
    /* "Parameter 'NAME' does not accept value 'V'" -> "Invalid parameter 'V'" */
    const char *p = "Parameter '";
    const char *mid = "' does not accept value '";
    if (strncmp(desc, p, strlen(p)) == 0) {
        const char *m = strstr(desc, mid);
        size_t n = strlen(desc);
        if (m && n > 0 && desc[n - 1] == '\'') {
            const char *v = m + strlen(mid);
            char *value = bg_strndup(v, (size_t)(desc + n - 1 - v));
            char *out = bg_asprintf(BG_MSG_QAPI_ENUM_VALUE_SEED, value);
            free(value);
            return out;
        }
    }
    /* Drop the list path of element 0 wherever a quoted path starts with it. */
    BgBuf b = {0};
    const char *s = desc;
    for (;;) {
        const char *hit = strstr(s, "'" PREFIX);
        if (!hit)
            break;
        bg_buf_append(&b, s, (size_t)(hit - s) + 1);
        s = hit + 1 + strlen(PREFIX);
    }
    bg_buf_puts(&b, s);
    return bg_buf_take(&b);
}
