/*
 * test_model_qdict.c: the model's QDict: tdb_hash buckets (the table of
 * qemu-semantics.md 2.6), iteration order, clone, flatten, json text.
 */
#include <stdlib.h>

#include "harness.h"
#include "../../model/model.h"

static void test_model_qdict_buckets_match_the_spec_table(void)
{
    static const struct { const char *key; unsigned bucket; } t[] = {
        { "cache.no-flush", 4 }, { "backing.backing.file.node-name", 18 }, { "test", 41 },
        { "locking", 52 }, { "file.aio", 57 }, { "backing.driver", 85 }, { "read-zeroes", 86 },
        { "backing.node-name", 96 }, { "file.driver", 130 }, { "detect-zeroes", 146 },
        { "offset", 180 }, { "image", 181 }, { "x-check-cache-dropped", 192 }, { "backing", 198 },
        { "throttle-group", 203 }, { "file.filename", 204 }, { "node-name", 212 },
        { "driver", 239 }, { "file.file.driver", 239 }, { "children.0", 280 }, { "config", 306 },
        { "filename", 313 }, { "size", 318 }, { "read-only", 342 }, { "vote-threshold", 393 },
        { "aio", 403 }, { "raw", 430 }, { "cache.direct", 430 }, { "latency-ns", 433 },
        { "discard", 436 }, { "force-share", 460 }, { "file", 463 }, { "align", 509 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        CHECK_INT_EQ(model_qdict_bucket(t[i].key), t[i].bucket);
}

static void test_model_qdict_iterates_by_bucket_then_newest_first(void)
{
    ModelQDict *d = model_qdict_new();
    model_qdict_put_str(d, "file", "x");          /* 463 */
    model_qdict_put_str(d, "driver", "qcow2");    /* 239 */
    model_qdict_put_str(d, "file.file.driver", "file");   /* 239, newer */
    model_qdict_put_str(d, "backing.driver", "y"); /* 85 */
    size_t n;
    const char **k = model_qdict_order(d, &n);
    CHECK_INT_EQ(n, 4);
    CHECK_STR_EQ(k[0], "backing.driver");
    CHECK_STR_EQ(k[1], "file.file.driver");
    CHECK_STR_EQ(k[2], "driver");
    CHECK_STR_EQ(k[3], "file");
    free(k);
    /* qdict_clone_shallow() reverses the order inside a bucket */
    ModelQDict *c = model_qdict_clone(d);
    k = model_qdict_order(c, &n);
    CHECK_STR_EQ(k[1], "driver");
    CHECK_STR_EQ(k[2], "file.file.driver");
    free(k);
    /* replacing keeps the entry where it is */
    model_qdict_put_str(d, "driver", "raw");
    k = model_qdict_order(d, &n);
    CHECK_STR_EQ(k[2], "driver");
    free(k);
    model_qdict_free(c);
    model_qdict_free(d);
}

static void test_model_qdict_flatten_and_extract(void)
{
    json_t *o = json_pack("{s:s,s:{s:s,s:s},s:n}", "driver", "qcow2", "file", "driver", "file",
                          "filename", "/a", "backing", "ignored");
    json_object_set_new(o, "backing", json_null());
    ModelQDict *d = model_qdict_from_json(o);
    json_decref(o);
    CHECK_STR_EQ(model_qdict_get_str(d, "file.driver"), "file");
    CHECK_STR_EQ(model_qdict_get_str(d, "file.filename"), "/a");
    CHECK(json_is_null(model_qdict_get(d, "backing")));
    CHECK(!model_qdict_has(d, "file"));
    ModelQDict *sub = NULL;
    model_qdict_extract_sub(d, &sub, "file.");
    CHECK_STR_EQ(model_qdict_get_str(sub, "filename"), "/a");
    CHECK(!model_qdict_has(d, "file.driver"));
    model_qdict_free(sub);
    model_qdict_free(d);
}

static void test_model_qdict_json_text_is_qobject_to_json(void)
{
    ModelQDict *d = model_qdict_new();
    model_qdict_put_str(d, "driver", "null-co");
    model_qdict_put(d, "size", json_integer(1024));
    char *s = model_qdict_to_json_text(d);
    CHECK_STR_EQ(s, "{\"driver\": \"null-co\", \"size\": 1024}");
    free(s);
    model_qdict_free(d);
}

static void test_model_qdict_opt_strings(void)
{
    json_t *t = json_true(), *i = json_integer(5), *s = json_string("off");
    char *a = model_qobject_to_opt_str(t), *b = model_qobject_to_opt_str(i),
         *c = model_qobject_to_opt_str(s);
    CHECK_STR_EQ(a, "on");
    CHECK_STR_EQ(b, "5");
    CHECK_STR_EQ(c, "off");
    CHECK(!model_qobject_equal(s, t));
    free(a);
    free(b);
    free(c);
    json_decref(t);
    json_decref(i);
    json_decref(s);
}

BG_SUITE(model_qdict) = {
    { "buckets_match_the_spec_table", test_model_qdict_buckets_match_the_spec_table },
    { "iterates_by_bucket_then_newest_first", test_model_qdict_iterates_by_bucket_then_newest_first },
    { "flatten_and_extract", test_model_qdict_flatten_and_extract },
    { "json_text_is_qobject_to_json", test_model_qdict_json_text_is_qobject_to_json },
    { "opt_strings", test_model_qdict_opt_strings },
    { NULL, NULL },
};
