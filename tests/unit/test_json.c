/* test_json.c: paths, depth, matching and canonical output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A mapping for the test: "D1" becomes "$D", "bad" becomes bytes that are not UTF-8. */
static char *test_fn(const char *s, void *opaque)
{
    const char *dir = opaque;
    if (strcmp(s, "bad") == 0)
        return strdup("\xff\xfe");
    const char *hit = dir ? strstr(s, dir) : NULL;
    if (!hit)
        return NULL;
    char *r = malloc(strlen(s) + 3);
    sprintf(r, "%.*s$D%s", (int)(hit - s), s, hit + strlen(dir));
    return r;
}

/* bg_json_map_equal() says what json_equal() says of the two mapped copies,
 * for pairs that differ in each way a walk can get wrong. */
static void test_json_map_equal_is_equal_of_the_maps(void)
{
    static const char *const pairs[][2] = {
        { "{\"f\": \"/s/D1/x\", \"n\": 1}", "{\"n\": 1, \"f\": \"/s/D2/x\"}" },
        { "{\"f\": \"/s/D1/x\"}", "{\"f\": \"/s/D1/y\"}" },
        { "{\"f\": \"D1\"}", "{\"f\": \"D2\", \"g\": 1}" },
        { "{\"f\": 1, \"g\": 2}", "{\"f\": 1, \"h\": 2}" },
        { "{\"actual-size\": 1, \"a\": [1, \"D1\"]}", "{\"actual-size\": \"x\", \"a\": [1, \"D2\"]}" },
        { "{\"actual-size\": 1}", "{\"other\": 1}" },
        { "[1, 2]", "[1, 2, 3]" },
        { "[1, 2.0]", "[1, 2]" },
        { "[\"bad\"]", "[\"bad\"]" },
        { "[\"bad\"]", "[\"\\u00ff\"]" },
        { "[\"D1\", null, true]", "[\"D2\", null, false]" },
        { "\"$D\"", "\"D2\"" },
        { "[{\"a\": [{\"b\": \"xD1\"}]}]", "[{\"a\": [{\"b\": \"xD2\"}]}]" },
    };
    int same = 0;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        json_t *a = json_loads(pairs[i][0], JSON_DECODE_ANY, NULL);
        json_t *b = json_loads(pairs[i][1], JSON_DECODE_ANY, NULL);
        CHECK(a && b);
        json_t *ma = bg_json_map_shared(a, test_fn, "D1", "actual-size");
        json_t *mb = bg_json_map_shared(b, test_fn, "D2", "actual-size");
        bool want = json_equal(ma, mb);
        same += want;
        CHECK_INT_EQ(bg_json_map_equal(a, test_fn, "D1", b, test_fn, "D2", "actual-size"), want);
        CHECK_INT_EQ(bg_json_map_equal(b, test_fn, "D2", a, test_fn, "D1", "actual-size"), want);
        json_decref(ma);
        json_decref(mb);
        json_decref(a);
        json_decref(b);
    }
    CHECK_INT_EQ(same, 5);   /* both answers occur */
}

BG_SUITE(json) = {
    {"path_get", test_json_path_get},
    {"depth", test_json_depth},
    {"match_is_iotests_event_match", test_json_match_is_iotests_event_match},
    {"dumps_sorted", test_json_dumps_sorted},
    {"map_equal_is_equal_of_the_maps", test_json_map_equal_is_equal_of_the_maps},
    {NULL, NULL},
};
