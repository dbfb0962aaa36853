/*
 * test_model_qcow2.c: qcow2's runtime options as the model checks them on
 * open and reopen (QemuOpts' size round trip, cache sizes, clean interval,
 * encryption), and the QAPI checks of the members options.def leaves to
 * the model (overlap-check flags, encrypt, blkdebug rules).  Expected texts
 * are QEMU 7.2's.
 */
#include "test_model_util.h"

static void add_hd0(BgBackend *be)
{
    tm_ok(be, "{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    tm_ok(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'qcow2', 'node-name': 'hd0', "
              "'file': {'driver': 'file', 'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}}");
}

static char *reopen_with(BgBackend *be, const char *extra)
{
    char *line = bg_asprintf("{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': "
                             "'qcow2', 'node-name': 'hd0', 'file': 'hd0-file', %s}]}}", extra);
    char *e = tm_error(be, line);
    free(line);
    return e;
}

static void test_model_qcow2_runtime_options(void)
{
    BgBackend *be = tm_open();
    add_hd0(be);
    char *e = reopen_with(be, "'l2-cache-size': -1");
    CHECK_STR_EQ(e, "Parameter 'l2-cache-size' expects a non-negative number below 2^64");
    free(e);
    /* two negative sizes: the first in QDict order is named */
    e = reopen_with(be, "'refcount-cache-size': -1, 'l2-cache-size': -2");
    CHECK_STR_EQ(e, "Parameter 'refcount-cache-size' expects a non-negative number below 2^64");
    free(e);
    e = reopen_with(be, "'cache-clean-interval': -1");         /* a number wraps */
    CHECK_STR_EQ(e, "Cache clean interval too big");
    free(e);
    e = reopen_with(be, "'cache-size': 1000000000000000, 'refcount-cache-size': 0");
    CHECK_STR_EQ(e, "L2 cache size too big");
    free(e);
    e = reopen_with(be, "'encrypt': {'format': 'aes'}");
    CHECK_STR_EQ(e, "No encryption in image header, but options specified format 'aes'");
    free(e);
    e = reopen_with(be, "'cache-clean-interval': 0");
    CHECK_STR_EQ(e, "");
    free(e);
    bg_model_backend_ops.close(be);
}

static void test_model_qcow2_complex_members(void)
{
    BgBackend *be = tm_open();
    add_hd0(be);
    char *e = reopen_with(be, "'overlap-check': {'template': 'bogus'}");
    CHECK_STR_EQ(e, "Parameter 'template' does not accept value 'bogus'");
    free(e);
    e = reopen_with(be, "'overlap-check': {'template': 'all', 'main-header': 'x'}");
    CHECK_STR_EQ(e, "Invalid parameter type for 'options[0].overlap-check.main-header', "
                    "expected: boolean");
    free(e);
    e = reopen_with(be, "'overlap-check': {'foo': true}");
    CHECK_STR_EQ(e, "Parameter 'options[0].overlap-check.foo' is unexpected");
    free(e);
    e = reopen_with(be, "'encrypt': {'key-secret': 'x'}");
    CHECK_STR_EQ(e, "Parameter 'options[0].encrypt.format' is missing");
    free(e);
    e = reopen_with(be, "'overlap-check': {'template': 'all', 'inactive-l2': false}");
    CHECK_STR_EQ(e, "");
    free(e);
    e = tm_error(be, "{'execute': 'blockdev-add', 'arguments': {'driver': 'blkdebug', "
                     "'node-name': 'bd', 'inject-error': [{'event': 'bogus'}], 'image': 'hd0'}}");
    CHECK_STR_EQ(e, "Parameter 'event' does not accept value 'bogus'");
    free(e);
    e = tm_error(be, "{'execute': 'query-named-block-nodes', 'arguments': {'flat': 'yes'}}");
    CHECK_STR_EQ(e, "Invalid parameter type for 'flat', expected: boolean");
    free(e);
    bg_model_backend_ops.close(be);
}

BG_SUITE(model_qcow2) = {
    { "runtime_options", test_model_qcow2_runtime_options },
    { "complex_members", test_model_qcow2_complex_members },
    { NULL, NULL },
};
