/* test_json.c: paths, depth, matching and canonical output. */
#include <stdlib.h>

#include "harness.h"
#include "json.h"

static void test_json_path_get(void)
{
    json_t *v = json_loads("{\"a\": {\"b\": [10, {\"c\": \"x\"}]}}", 0, NULL);
    CHECK(json_integer_value(bg_json_path_get(v, "a/b/0")) == 10);
    CHECK_STR_EQ(json_string_value(bg_json_path_get(v, "a/b/1/c")), "x");
    CHECK(bg_json_path_get(v, "a/b/2") == NULL);
    CHECK(bg_json_path_get(v, "a/b/-1") == NULL);
    CHECK(bg_json_path_get(v, "a/b/x") == NULL);
    CHECK(bg_json_path_get(v, "a/nope") == NULL);
    CHECK(bg_json_path_get(v, "a/b/0/deeper") == NULL);
    CHECK(bg_json_path_get(v, "") == v);
    json_decref(v);
}

static void test_json_depth(void)
{
    json_t *v = json_loads("[{\"a\": [[1]]}]", 0, NULL);
    CHECK_INT_EQ(bg_json_depth(v), 4);
    json_decref(v);
    json_t *s = json_integer(3);
    CHECK_INT_EQ(bg_json_depth(s), 0);
    json_decref(s);
}

static void test_json_match_is_iotests_event_match(void)
{
    json_t *ev = json_loads("{\"event\": \"BLOCK_JOB_READY\", \"data\": {\"device\": \"commit0\", "
                            "\"len\": 5}}", 0, NULL);
    json_t *p1 = json_loads("{\"data\": {\"device\": \"commit0\"}}", 0, NULL);
    json_t *p2 = json_loads("{\"data\": {\"device\": \"stream0\"}}", 0, NULL);
    json_t *p3 = json_loads("{\"data\": {\"missing\": 1}}", 0, NULL);
    CHECK(bg_json_match(p1, ev));
    CHECK(!bg_json_match(p2, ev));
    CHECK(!bg_json_match(p3, ev));
    json_decref(ev);
    json_decref(p1);
    json_decref(p2);
    json_decref(p3);
}

static void test_json_dumps_sorted(void)
{
    json_t *v = json_loads("{\"b\": 1, \"a\": [true, null]}", 0, NULL);
    char *s = bg_json_dumps(v);
    CHECK_STR_EQ(s, "{\"a\":[true,null],\"b\":1}");
    free(s);
    json_decref(v);
}

BG_SUITE(json) = {
    {"path_get", test_json_path_get},
    {"depth", test_json_depth},
    {"match_is_iotests_event_match", test_json_match_is_iotests_event_match},
    {"dumps_sorted", test_json_dumps_sorted},
    {NULL, NULL},
};
