/* test_bg.c: the buffer, the error object and the seed wording. */
#include <stdint.h>
#include <stdlib.h>

#include "bg.h"
#include "bigbuf.h"
#include "error.h"
#include "harness.h"
#include "messages.h"

static void test_bg_buf_grows_and_takes(void)
{
    BgBuf b = {0};
    for (int i = 0; i < 1000; i++)
        bg_buf_puts(&b, "ab");
    bg_buf_printf(&b, "%d", 42);
    CHECK_INT_EQ(b.len, 2002);
    char *s = bg_buf_take(&b);
    CHECK(s[2000] == '4' && s[2002] == '\0');
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    s = bg_buf_take(&b);   /* empty buffer gives "" */
    CHECK_STR_EQ(s, "");
    free(s);
}

static void test_bg_error_first_wins(void)
{
    BgError err = {0};
    CHECK(!bg_error_setf(&err, "first %d", 1));
    bg_error_setf(&err, "second");
    CHECK_STR_EQ(err.text, "first 1");
    bg_error_prepend(&err, "f.jsonl:%d: ", 3);
    CHECK_STR_EQ(err.text, "f.jsonl:3: first 1");
    bg_error_clear(&err);
    CHECK(!err.set);
}

static void test_bg_error_truncates_without_overflow(void)
{
    BgError err = {0};
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bg_error_setf(&err, "%s", big);
    CHECK_INT_EQ(strlen(err.text), BG_ERROR_TEXT - 1);
    bg_error_prepend(&err, "%s", big);
    CHECK_INT_EQ(strlen(err.text), BG_ERROR_TEXT - 1);
}

static void test_bg_seed_wording(void)
{
    /* qemu-7.2-observations.md, "Disagreements": the four texts. */
    struct { const char *qemu72, *seed; } cases[] = {
        {"Invalid parameter type for 'options[0].node-name', expected: string",
         "Invalid parameter type for 'node-name', expected: string"},
        {"Parameter 'driver' does not accept value ''", "Invalid parameter ''"},
        {"Invalid parameter type for 'options[0].driver', expected: string",
         "Invalid parameter type for 'driver', expected: string"},
        {"Invalid parameter type for 'options[0].file.filename', expected: string",
         "Invalid parameter type for 'file.filename', expected: string"},
        {"Parameter 'options[0].driver' is missing", "Parameter 'driver' is missing"},
        {"Parameter 'detect-zeroes' does not accept value 'bogus'", "Invalid parameter 'bogus'"},
        /* untouched: not input validation */
        {"Invalid parameter type for 'file', expected: BlockdevRef",
         "Invalid parameter type for 'file', expected: BlockdevRef"},
        {"Cannot change the option 'driver'", "Cannot change the option 'driver'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = bg_msg_seed_wording(cases[i].qemu72);
        CHECK_STR_EQ(s, cases[i].seed);
        free(s);
    }
}

/* bigbuf.h's cache: a buffer given back is lent again for a request it
 * holds (not for one it is more than twice the size of), every buffer is
 * aligned, and what is too small to keep is freed, not lent again. */
static void test_bg_bigbuf_reuses_what_fits(void)
{
    bg_bigbuf_drop();                            /* what earlier tests gave back */
    uint8_t *a = bg_bigbuf_get(64 << 10);
    CHECK((uintptr_t)a % BG_BIGBUF_ALIGN == 0);
    bg_bigbuf_put(a);
    uint8_t *b = bg_bigbuf_get(40 << 10);        /* 64 KiB holds it, not twice its size */
    CHECK(b == a);
    uint8_t *c = bg_bigbuf_get(16 << 10);        /* a is lent: a new one */
    CHECK(c != a && (uintptr_t)c % BG_BIGBUF_ALIGN == 0);
    bg_bigbuf_put(b);
    uint8_t *d = bg_bigbuf_get(8 << 10);         /* 64 KiB is more than twice 8 KiB */
    CHECK(d != a);
    uint8_t *small = bg_bigbuf_get(100);         /* below the range: plain, not kept */
    bg_bigbuf_put(small);
    uint8_t *e = bg_bigbuf_get(100);
    CHECK((uintptr_t)e % BG_BIGBUF_ALIGN == 0);
    bg_bigbuf_put(e);
    uint8_t *f = bg_bigbuf_get(64 << 10);        /* a is still kept */
    CHECK(f == a);
    bg_bigbuf_put(c);
    bg_bigbuf_put(d);
    bg_bigbuf_put(f);
    bg_bigbuf_drop();
}

BG_SUITE(bg) = {
    {"bigbuf_reuses_what_fits", test_bg_bigbuf_reuses_what_fits},
    {"buf_grows_and_takes", test_bg_buf_grows_and_takes},
    {"error_first_wins", test_bg_error_first_wins},
    {"error_truncates_without_overflow", test_bg_error_truncates_without_overflow},
    {"seed_wording", test_bg_seed_wording},
    {NULL, NULL},
};
