/*
 * test_finding.c: the finding key (finding.h): the forms of values and
 * paths, byte for byte those tools/fuzz-findings.sh built in awk before
 * (so a finding keeps its id), and the key of a signature.
 */
#include <stdlib.h>

#include "finding.h"
#include "harness.h"

static void check_value(const char *shown, const char *want)
{
    char *got = bg_finding_value(shown);
    CHECK_STR_EQ(got, want);
    free(got);
}

static void check_path(const char *channel, const char *path, const char *want)
{
    char *got = bg_finding_path(channel, path);
    CHECK_STR_EQ(got, want);
    free(got);
}

static void test_finding_values_blank_names_and_numbers(void)
{
    check_value("\"Node 'hd0' is busy: node is used as backing hd of 'hd1'\"",
                "\"Node '*' is busy: node is used as backing hd of '*'\"");
    check_value("{\"error\":{\"class\":\"GenericError\",\"desc\":\"Cannot change the option "
                "'cache.direct' of node 12 \\\"x\\\"\"}}",
                "error \"Cannot change the option '*' of node N \\\"x\\\"\"");
    check_value("{\"a\":1}", "{...}");
    check_value("{\"desc\":\"cut short", "{...}");   /* the runner cut it at 400 bytes */
    check_value("[1,2]", "[...]");
    check_value("-5", "N");
    check_value("42", "N");
    check_value("(absent)", "(absent)");
    check_value("true", "true");
    check_value("\"it's 3 o'clock and 'unterminated\"", "\"it'*'clock and 'unterminated\"");
    check_value("\"read 65536/65536 bytes at offset 1441792\\n64 KiB, 1 ops\"",
                "\"read N/N bytes at offset N\\nN KiB, N ops\"");
    char long_text[203];
    memset(long_text, 'x', sizeof(long_text));
    long_text[0] = '"';
    long_text[201] = '"';
    long_text[202] = '\0';
    char *got = bg_finding_value(long_text);
    CHECK_INT_EQ(strlen(got), 163);
    CHECK(strcmp(got + 160, "...") == 0);
    free(got);
}

static void test_finding_paths(void)
{
    check_path("result", "/return/0/n", "/return/N/n");
    check_path("data", "/hd1/65536", "/*/N");
    check_path("job-events", "/jobs/job0/3/data/status", "/jobs/*/N/data/status");
    check_path("backend", "-", "");
    check_path("events", "/events/2/data/device", "/events/N/data/device");
    check_path("result", "/error/desc", "/error/desc");
}

static void test_finding_key(void)
{
    json_t *sig = json_pack("{s:i,s:i,s:s,s:s,s:s,s:[s,s]}", "step", 3, "line", 9, "command",
                            "blockdev-reopen", "channel", "result", "path", "/error/desc",
                            "values", "\"A '*'\"", "\"B\"");
    char *key = bg_finding_key(sig);
    CHECK_STR_EQ(key, "mismatch: command=blockdev-reopen channel=result path=/error/desc"
                      " | \"A '*'\" ~ \"B\"");
    free(key);
    json_object_del(sig, "values");
    json_object_set_new(sig, "channel", json_string("data"));
    json_object_set_new(sig, "path", json_string("/hd0/131072"));
    key = bg_finding_key(sig);
    CHECK_STR_EQ(key, "mismatch: command=blockdev-reopen channel=data path=/*/N");
    free(key);
    json_decref(sig);
    sig = json_pack("{s:s,s:s,s:s}", "command", "?", "channel", "backend", "path", "-");
    key = bg_finding_key(sig);
    CHECK_STR_EQ(key, "mismatch: command=? channel=backend path=");
    free(key);
    json_decref(sig);
}

BG_SUITE(finding) = {
    {"values_blank_names_and_numbers", test_finding_values_blank_names_and_numbers},
    {"paths", test_finding_paths},
    {"key", test_finding_key},
    {NULL, NULL},
};
