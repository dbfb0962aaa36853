/*
 * test_model_options.c: the shared option tables (common/options.def) as the
 * model reads them: every modelled driver, each one's options in schema
 * order, what reopen may change or reset (mutable_opts), the enums.
 */
#include <string.h>

#include "harness.h"
#include "../../model/model.h"

static bool mutable(const char *drv, const char *key)
{
    const ModelOpt *o = model_opt_find(drv, key);
    return o && (o->flags & BG_OF_MUTABLE);
}

static void test_model_options_drivers(void)
{
    static const char *const names[] = { "qcow2", "raw", "file", "null-co", "null-aio", "throttle",
                                         "compress", "copy-on-read", "blkdebug", "blkverify",
                                         "quorum" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        CHECK(model_driver_find(names[i]) != NULL);
        CHECK(model_driver_in_enum(names[i]));
    }
    CHECK(model_driver_find("vmdk") == NULL);
    CHECK(model_driver_in_enum("vmdk"));
    CHECK(!model_driver_in_enum(""));
    CHECK(model_driver_find("commit_top")->flags & BG_DRVF_INTERNAL);
    CHECK(!model_driver_in_enum("commit_top"));
    /* reopen support (bdrv_reopen_prepare) and backing support */
    CHECK(model_driver_find("qcow2")->flags & BG_DRVF_BACKING);
    CHECK(!(model_driver_find("raw")->flags & BG_DRVF_BACKING));
    CHECK(!(model_driver_find("quorum")->flags & BG_DRVF_REOPEN));
    CHECK(!(model_driver_find("blkverify")->flags & BG_DRVF_REOPEN));
    CHECK(!(model_driver_find("compress")->flags & BG_DRVF_REOPEN));
    CHECK(!(model_driver_find("copy-on-read")->flags & BG_DRVF_REOPEN));
    CHECK(model_driver_find("throttle")->flags & BG_DRVF_REOPEN);
    CHECK(model_driver_find("blkdebug")->flags & BG_DRVF_REOPEN);
}

static void test_model_options_mutable_opts(void)
{
    /* file-posix: only x-check-cache-dropped */
    CHECK(mutable("file", "x-check-cache-dropped"));
    CHECK(!mutable("file", "locking"));
    CHECK(!mutable("file", "aio"));
    CHECK(!mutable("file", "filename"));
    /* qcow2 */
    static const char *const q[] = { "lazy-refcounts", "pass-discard-request",
                                     "pass-discard-snapshot", "pass-discard-other", "overlap-check",
                                     "cache-size", "l2-cache-size", "l2-cache-entry-size",
                                     "refcount-cache-size", "cache-clean-interval" };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        CHECK(mutable("qcow2", q[i]));
    CHECK(!mutable("qcow2", "data-file"));
    CHECK(mutable("raw", "offset") && mutable("raw", "size"));
    CHECK(!mutable("null-co", "size") && !mutable("null-co", "read-zeroes"));
    CHECK(!mutable("throttle", "throttle-group"));
    CHECK(!mutable("blkdebug", "config") && !mutable("blkdebug", "align"));
}

static void test_model_options_schema_order_and_required(void)
{
    /* the base first, then GenericFormat's file, GenericCOWFormat's backing */
    const char *order[] = { "driver", "node-name", "discard", "cache", "cache.direct",
                            "cache.no-flush", "read-only", "auto-read-only", "force-share",
                            "detect-zeroes", "file", "backing", "lazy-refcounts" };
    size_t k = 0;
    for (size_t i = 0; i < model_opt_count() && k < sizeof(order) / sizeof(order[0]); i++) {
        const ModelOpt *o = model_opt_at(i);
        if (o->driver[0] && strcmp(o->driver, "qcow2") != 0)
            continue;
        CHECK_STR_EQ(o->name, order[k]);
        k++;
    }
    CHECK(model_opt_find("qcow2", "file")->flags & BG_OF_REQUIRED);
    CHECK(model_opt_find("throttle", "throttle-group")->flags & BG_OF_REQUIRED);
    CHECK(model_opt_find("quorum", "vote-threshold")->flags & BG_OF_REQUIRED);
    CHECK(model_opt_find("qcow2", "backing")->type == BG_OT_REF_NULL);
    CHECK(model_opt_find("raw", "backing") == NULL);
    CHECK(model_opt_find("blkdebug", "file") == NULL);
}

static void test_model_options_enums(void)
{
    CHECK(model_opt_enum_has(model_opt_find("", "detect-zeroes"), "unmap"));
    CHECK(!model_opt_enum_has(model_opt_find("", "detect-zeroes"), "bogus"));
    CHECK(model_opt_enum_has(model_opt_find("file", "locking"), "auto"));
    CHECK(model_opt_enum_has(model_opt_find("file", "aio"), "io_uring"));
    CHECK(model_opt_enum_has(model_opt_find("", "driver"), "qcow2"));
    CHECK(!model_opt_enum_has(model_opt_find("", "driver"), ""));
}

static void test_model_options_reopen_treatment(void)
{
    /* what bdrv_reopen_prepare() compares in stage k */
    CHECK(model_opt_find("file", "locking")->reopen == BG_OR_DRV_BACK);
    CHECK(model_opt_find("file", "x-check-cache-dropped")->reopen == BG_OR_CONSUMED);
    CHECK(model_opt_find("null-co", "size")->reopen == BG_OR_KEPT);
    CHECK(model_opt_find("qcow2", "data-file")->reopen == BG_OR_CHILD);
    CHECK(model_opt_find("", "force-share")->reopen == BG_OR_GENERIC_BACK);
    CHECK(model_opt_find("throttle", "throttle-group")->reopen == BG_OR_CONSUMED);
}

BG_SUITE(model_options) = {
    { "drivers", test_model_options_drivers },
    { "mutable_opts", test_model_options_mutable_opts },
    { "schema_order_and_required", test_model_options_schema_order_and_required },
    { "enums", test_model_options_enums },
    { "reopen_treatment", test_model_options_reopen_treatment },
    { NULL, NULL },
};
