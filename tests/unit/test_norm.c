/* test_norm.c: the normalisation rules of streams.md. */
#include <stdlib.h>

#include "harness.h"
#include "norm.h"

static void test_norm_dir(void)
{
    char *s = bg_norm_dir("json:{\"filename\": \"/s/x/hd0.img\"} /s/x/hd1.img", "/s/x");
    CHECK_STR_EQ(s, "json:{\"filename\": \"$DIR/hd0.img\"} $DIR/hd1.img");
    free(s);
    s = bg_norm_dir("/s/x/a", NULL);
    CHECK_STR_EQ(s, "/s/x/a");
    free(s);
}

static void test_norm_timing_line(void)
{
    char *s = bg_norm_timing("read 1048576/1048576 bytes at offset 0\n"
                             "1 MiB, 1 ops; 00.00 sec (15.261 GiB/sec and 15627.6860 ops/sec)\n");
    CHECK_STR_EQ(s, "read 1048576/1048576 bytes at offset 0\n"
                    "1 MiB, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)\n");
    free(s);
    s = bg_norm_timing("1 bytes, 1 ops; 0.0000 sec (inf bytes/sec and inf ops/sec)");
    CHECK_STR_EQ(s, "1 bytes, X ops; XX:XX:XX.X (XXX YYY/sec and XXX ops/sec)");
    free(s);
}

static void test_norm_auto_names_equal(void)
{
    CHECK(bg_norm_str_equal("Node #block154 is busy", "Node #block3 is busy", NULL));
    CHECK(!bg_norm_str_equal("Node #block154 is busy", "Node hd0 is busy", NULL));
    CHECK(!bg_norm_str_equal("#block1", "#blocks", NULL));
}

static void test_norm_actual_size_ignored_but_required(void)
{
    json_t *a = json_loads("{\"image\": {\"actual-size\": 1314816, \"x\": 1}}", 0, NULL);
    json_t *b = json_loads("{\"image\": {\"actual-size\": 200704, \"x\": 1}}", 0, NULL);
    json_t *c = json_loads("{\"image\": {\"x\": 1}}", 0, NULL);
    CHECK(bg_norm_equal(a, b, NULL));
    CHECK(!bg_norm_equal(a, c, NULL));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_norm_lists_ordered_keys_not(void)
{
    json_t *a = json_loads("[{\"a\": 1, \"b\": \"/d/x\"}, 2]", 0, NULL);
    json_t *b = json_loads("[{\"b\": \"$DIR/x\", \"a\": 1}, 2]", 0, NULL);
    json_t *c = json_loads("[2, {\"b\": \"$DIR/x\", \"a\": 1}]", 0, NULL);
    CHECK(bg_norm_equal(a, b, "/d"));
    CHECK(!bg_norm_equal(a, c, "/d"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

BG_SUITE(norm) = {
    {"dir", test_norm_dir},
    {"timing_line", test_norm_timing_line},
    {"auto_names_equal", test_norm_auto_names_equal},
    {"actual_size_ignored_but_required", test_norm_actual_size_ignored_but_required},
    {"lists_ordered_keys_not", test_norm_lists_ordered_keys_not},
    {NULL, NULL},
};
