/*
 * opts.c: typed option reads and QEMU's size parser (see opts.h).
 *
 * Mirrors QEMU 7.2 util/cutils.c do_strtosz() and util/qemu-option.c
 * parse_option_bool()/parse_option_size() for the values drivers read.
 */
#include "opts.h"

#include "messages.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

json_t *opts_get(json_t *opts, const char *key)
{
    if (!opts || !json_is_object(opts))
        return NULL;
    json_t *v = json_object_get(opts, key);
    if (!v) {
        const char *dot = strchr(key, '.');
        if (dot) {
            char head[128];
            size_t n = (size_t)(dot - key);
            if (n < sizeof(head)) {
                memcpy(head, key, n);
                head[n] = '\0';
                v = opts_get(json_object_get(opts, head), dot + 1);
            }
        }
    }
    return json_is_null(v) ? NULL : v;
}

bool opts_has(json_t *opts, const char *key)
{
    return opts_get(opts, key) != NULL;
}

bool opts_get_bool(json_t *opts, const char *key, bool def, bool *out, BgError *err)
{
    json_t *v = opts_get(opts, key);
    *out = def;
    if (!v)
        return true;
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "on") || !strcmp(s, "true") || !strcmp(s, "yes")) {
            *out = true;
            return true;
        }
        if (!strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no")) {
            *out = false;
            return true;
        }
    }
    /* QEMU parse_option_bool() */
    return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, key, "'on' or 'off'");
}

static int mul_for(char c, uint64_t *mul)
{
    switch (c) {
    case 'B': case 'b': *mul = 1; return 1;
    case 'K': case 'k': *mul = 1ull << 10; return 1;
    case 'M': case 'm': *mul = 1ull << 20; return 1;
    case 'G': case 'g': *mul = 1ull << 30; return 1;
    case 'T': case 't': *mul = 1ull << 40; return 1;
    case 'P': case 'p': *mul = 1ull << 50; return 1;
    case 'E': case 'e': *mul = 1ull << 60; return 1;
    default: return 0;
    }
}

int opts_strtosz(const char *nptr, char default_suffix, uint64_t *out, bool *hex_suffix)
{
    const char *p = nptr;
    char *end;
    uint64_t val, mul;
    double fraction = 0;
    bool hex = false, has_fraction = false;

    if (hex_suffix)
        *hex_suffix = false;
    /* qemu_strtou64(nptr, &endptr, 10): strtoull, leading blanks and sign allowed */
    while (isspace((unsigned char)*p))
        p++;
    if (!*nptr)
        return -EINVAL;
    errno = 0;
    val = strtoull(nptr, &end, 10);
    if (end == nptr)
        return -EINVAL;
    if (errno == ERANGE)
        return -ERANGE;
    if (memchr(nptr, '-', (size_t)(end - nptr)))
        return -EINVAL;
    if (val == 0 && (*end == 'x' || *end == 'X')) {
        errno = 0;
        val = strtoull(nptr, &end, 16);
        if (errno == ERANGE)
            return -ERANGE;
        if (*end == '.')
            return -EINVAL;
        hex = true;
    } else if (*end == '.') {
        const char *f = end;
        char *fend;
        errno = 0;
        fraction = strtod(f, &fend);
        if (fend == f || errno || !isfinite(fraction)) {
            end++;                      /* "1." : no digits, keep going */
        } else if (memchr(f, 'e', (size_t)(fend - f)) || memchr(f, 'E', (size_t)(fend - f))) {
            return -EINVAL;
        } else {
            end = fend;
            has_fraction = fraction != 0;
        }
    }
    if (mul_for(*end, &mul)) {
        if (hex && hex_suffix)
            *hex_suffix = true;
        end++;
    } else {
        mul_for(default_suffix, &mul);
    }
    if (mul == 1) {
        if (has_fraction)
            return -EINVAL;
    } else {
        unsigned __int128 r = (unsigned __int128)val * mul;
        if (has_fraction) {
            /* 64.64 fixed point, rounding 0.5 up, as do_strtosz */
            uint64_t valf = (uint64_t)(fraction * 18446744073709551616.0);
            unsigned __int128 fr = (unsigned __int128)valf * mul;
            r += fr >> 64;
            r += (uint64_t)fr >> 63;
        }
        if (r >> 64)
            return -ERANGE;
        val = (uint64_t)r;
    }
    if (*end)
        return -EINVAL;
    *out = val;
    return 0;
}

bool opts_get_size(json_t *opts, const char *key, uint64_t def, uint64_t *out, BgError *err)
{
    json_t *v = opts_get(opts, key);
    *out = def;
    if (!v)
        return true;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && opts_strtosz(json_string_value(v), 'B', out, NULL) == 0)
        return true;
    /* QEMU parse_option_size(); its "Optional suffix ..." text is an error hint,
     * which QMP does not put in the error's desc */
    return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, key, "a non-negative number below 2^64");
}

bool opts_get_int(json_t *opts, const char *key, int64_t def, int64_t *out, BgError *err)
{
    json_t *v = opts_get(opts, key);
    *out = def;
    if (!v)
        return true;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        char *end;
        errno = 0;
        long long n = strtoll(json_string_value(v), &end, 0);
        if (!errno && *json_string_value(v) && !*end) {
            *out = n;
            return true;
        }
    }
    /* QEMU parse_option_number() */
    return bg_error_setf(err, BG_MSG_QAPI_INVALID_VALUE, key, "a number");
}

const char *opts_get_str(json_t *opts, const char *key, const char *def)
{
    json_t *v = opts_get(opts, key);
    return json_is_string(v) ? json_string_value(v) : def;
}
