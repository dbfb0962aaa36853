/*
 * test_policy.c: what a stream may ask for (common/policy.c), each refusal
 * with its exact message, and the load-time half of confinement as streams
 * reach it (file names inside QMP arguments and offline steps).
 *
 * Step bodies are written with single quotes, turned into double quotes
 * before parsing (\\' gives a literal " inside a JSON string).
 */
#include <stdlib.h>

#include "bg.h"
#include "harness.h"
#include "policy.h"
#include "stream.h"

/* Check BODY (a step without metadata); "" when it is accepted, else the message. */
static char *policy_err(const char *body_text)
{
    char *text = bg_strdup(body_text);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_error_t jerr;
    json_t *body = json_loads(text, JSON_DECODE_ANY, &jerr);
    free(text);
    if (!body)
        return bg_asprintf("(test JSON does not parse: %s)", jerr.text);
    BgStepKind kind = BG_STEP_NOOP;
    for (int k = BG_STEP_NOOP + 1; k < BG_STEP__COUNT; k++)
        if (json_object_get(body, bg_step_kind_name((BgStepKind)k)))
            kind = (BgStepKind)k;
    BgError err = {0};
    bool ok = bg_policy_check_step(kind, body, &err);
    json_decref(body);
    if (ok == err.set)
        return bg_strdup(ok ? "(accepted with an error set)" : "(refused without a message)");
    return bg_strdup(ok ? "" : err.text);
}

#define CHECK_POLICY(body, msg) do { \
        char *e_ = policy_err(body); \
        CHECK_STR_EQ(e_, msg); \
        free(e_); \
    } while (0)
#define CHECK_OK(body) CHECK_POLICY(body, "")

#define ADD(args) "{'execute': 'blockdev-add', 'arguments': " args "}"
#define REOPEN(args) "{'execute': 'x-blockdev-reopen', 'arguments': " args "}"
#define HMP(line) "{'execute': 'human-monitor-command', 'arguments': {'command-line': '" line "'}}"
#define IO(cmd) "{'io': {'fmt': 'qcow2', 'file': 'hd0.img', 'cmd': '" cmd "'}}"
#define QIO_LIST "(allowed: read, write, readv, writev, discard, flush, aio_flush, length, " \
                 "info, map, alloc)"

/* ---- what the seed does passes ------------------------------------------------ */

static void test_policy_accepts_the_seed_shapes(void)
{
    CHECK_OK("{'img-create': {'fmt': 'qcow2', 'file': 'hd0.img', 'size': '3M'}}");
    CHECK_OK("{'img-create': {'fmt': 'qcow2', 'file': 'hd1.img', 'backing': '$DIR/hd0.img', "
             "'backing-fmt': 'qcow2'}}");
    CHECK_OK("{'img-create': {'fmt': 'raw', 'file': 'sub/../hd0.img', 'size': 1073741824}}");
    CHECK_OK("{'io': {'fmt': 'qcow2', 'file': 'hd0.img', 'cmd': ['write -P 0xa0  0 1M', "
             "'read -P 0 1M 1M', 'write -z -u 0 128k', 'discard 0 64k', 'flush', 'aio_flush', "
             "'length', 'info', 'map', 'alloc 0 64k', 'alloc 0', 'readv -v 0 512 512', "
             "'writev -P 5 0 1k 2k', 'read 0 512 -q', 'read -- 0 512', "
             "'read -P0x5 -s 1 -l 2 0 4']}}");
    CHECK_OK(ADD("{'driver': 'qcow2', 'node-name': 'hd0', 'file': {'driver': 'file', "
                 "'filename': '$DIR/hd0.img'}}"));
    CHECK_OK(ADD("{'driver': 'blkdebug', 'node-name': 'bd', 'config': '/dev/null', "
                 "'image': {'driver': 'qcow2', 'file': {'driver': 'file', "
                 "'filename': 'hd0.img'}}}"));
    CHECK_OK(ADD("{'driver': 'null-co', 'node-name': 'root', 'size': 1024, 'latency-ns': 1000}"));
    CHECK_OK(ADD("{'driver': 'quorum', 'children': [{'driver': 'file', 'filename': 'a'}, 'b']}"));
    /* values QEMU answers with an error text pass through */
    CHECK_OK(ADD("{'driver': '', 'node-name': 'x'}"));
    CHECK_OK(ADD("{'driver': 'bogus', 'node-name': 'x', 'size': 'big', 'filename': null}"));
    CHECK_OK(ADD("{'driver': 'raw', 'size': '1G', 'offset': 1048576}"));
    CHECK_OK("{'execute': 'blockdev-add'}");
    /* a reopen opens nothing: host_device and a config outside pass (seed lines 153, 702) */
    CHECK_OK(REOPEN("{'driver': 'qcow2', 'node-name': 'hd0', 'file': {'driver': 'host_device', "
                    "'node-name': 'hd0-file', 'filename': '$DIR/hd0.img'}}"));
    CHECK_OK(REOPEN("{'driver': 'blkdebug', 'node-name': 'bd', 'config': '/non/existent'}"));
    CHECK_OK(REOPEN("{'driver': 'null-co', 'node-name': 'root', 'size': 1073741824}"));
    CHECK_OK("{'execute': 'object-add', 'arguments': {'qom-type': 'throttle-group', "
             "'id': 'group0', 'limits': {'iops-total': 1000}}}");
    CHECK_OK("{'execute': 'object-add', 'arguments': {'qom-type': 'iothread', 'id': 'io0'}}");
    CHECK_OK("{'execute': 'device_add', 'arguments': {'driver': 'virtio-scsi', 'id': 'scsi0'}}");
    CHECK_OK("{'execute': 'device_add', 'arguments': {'driver': 'scsi-hd', 'drive': 'hd0'}}");
    CHECK_OK("{'execute': 'block-stream', 'arguments': {'job-id': 's', 'device': 'hd0', "
             "'backing-file': '$DIR/hd0.img'}}");
    CHECK_OK(HMP("qemu-io hd \\'write -z -u 0 128k\\'"));
    CHECK_OK(HMP("qemu-io hd0 \\'read -P 0xa0    0 64k\\'"));
    CHECK_OK(HMP("qemu-io hd0 flush"));
    CHECK_OK("{'qemu-img': ['check', '-f', 'qcow2', 'hd0.img']}");
    CHECK_OK("{'qemu-img': ['check', '-r', 'all', '--output=json', '-q', '-U', '$DIR/hd0.img']}");
    CHECK_OK("{'qemu-img': ['map', '--output', 'json', '--start-offset=64k', "
             "'--max-length', '1M', 'hd0.img']}");
    CHECK_OK("{'qemu-img': ['compare', '-f', 'qcow2', '-F', 'raw', '-s', 'a.img', 'b.img']}");
    CHECK_OK("{'qemu-img': ['info', '--backing-chain', 'a.img', '-U']}");
    CHECK_OK("{'launch': {'machine': 'none'}}");
    CHECK_OK("{'launch': {'machine': 'pc', 'args': ['-S']}}");
    CHECK_OK("{'launch': {}}");
    CHECK_OK("{'wait-event': {'event': 'BLOCK_JOB_READY', 'match': {'data': {}}, 'timeout': 1.5}}");
    CHECK_OK("{'wait-job': 'commit0'}");
    CHECK_OK("{'run-job': {'id': 'commit0', 'auto-finalize': false, 'auto-dismiss': true, "
             "'cancel': false}}");
    CHECK_OK("{'shutdown': {}}");
}

/* ---- QMP ----------------------------------------------------------------------------- */

static void test_policy_refuses_unknown_commands(void)
{
    CHECK_POLICY("{'execute': 'migrate', 'arguments': {'uri': 'exec:sh'}}",
                 "unknown QMP command 'migrate'");
    CHECK_POLICY("{'execute': 'quit'}", "unknown QMP command 'quit'");
    CHECK_POLICY("{'execute': 'drive-mirror'}", "unknown QMP command 'drive-mirror'");
    CHECK_POLICY("{'execute': 'blockdev-create'}", "unknown QMP command 'blockdev-create'");
    CHECK_POLICY("{'execute': 'bad\\nname'}", "unknown QMP command 'bad\\x0aname'");
    CHECK(bg_policy_command_known("x-blockdev-reopen"));
    CHECK(bg_policy_command_known("job-resume"));
    CHECK(!bg_policy_command_known("human-monitor"));
    CHECK(!bg_policy_command_known(NULL));
}

static void test_policy_refuses_qom_types_and_devices(void)
{
    CHECK_POLICY("{'execute': 'object-add', 'arguments': {'qom-type': 'memory-backend-file', "
                 "'id': 'm', 'mem-path': '/etc/passwd'}}",
                 "object-add: qom-type 'memory-backend-file' is not allowed "
                 "(allowed: throttle-group, iothread)");
    CHECK_POLICY("{'execute': 'object-add', 'arguments': {'qom-type': 'secret', 'id': 's', "
                 "'file': '/etc/shadow'}}",
                 "object-add: qom-type 'secret' is not allowed "
                 "(allowed: throttle-group, iothread)");
    CHECK_OK("{'execute': 'object-add', 'arguments': {'qom-type': 5}}");
    CHECK_POLICY("{'execute': 'device_add', 'arguments': {'driver': 'e1000'}}",
                 "device_add: device 'e1000' is not allowed "
                 "(allowed: virtio-scsi, virtio-scsi-pci, scsi-hd)");
    CHECK_POLICY("{'execute': 'device_add', 'arguments': {'driver': 'vfio-pci', 'host': '0:1'}}",
                 "device_add: device 'vfio-pci' is not allowed "
                 "(allowed: virtio-scsi, virtio-scsi-pci, scsi-hd)");
}

#define DRIVERS "(allowed: qcow2, raw, file, null-co, null-aio, throttle, compress, " \
                "copy-on-read, blkdebug, blkverify, quorum)"

static void test_policy_refuses_block_drivers(void)
{
    CHECK_POLICY(ADD("{'driver': 'nbd', 'node-name': 'n', 'server': {'type': 'inet', "
                     "'host': 'example.org', 'port': '10809'}, 'export': 'x'}"),
                 "blockdev-add: block driver 'nbd' is not allowed " DRIVERS);
    CHECK_POLICY(ADD("{'driver': 'qcow2', 'node-name': 'hd0', 'file': {'driver': 'host_device', "
                     "'filename': '$DIR/hd0.img'}}"),
                 "blockdev-add: block driver 'host_device' is not allowed " DRIVERS);
    CHECK_POLICY(ADD("{'driver': 'vmdk', 'file': 'hd0-file'}"),
                 "blockdev-add: block driver 'vmdk' is not allowed " DRIVERS);
    CHECK_POLICY(ADD("{'driver': 'quorum', 'children': ['a', {'driver': 'ssh', 'path': '/x'}]}"),
                 "blockdev-add: block driver 'ssh' is not allowed " DRIVERS);
    CHECK_POLICY(ADD("{'driver': 'virtio-blk-vhost-user', 'path': '/x'}"),
                 "blockdev-add: block driver 'virtio-blk-vhost-user' is not allowed " DRIVERS);
    CHECK_POLICY(REOPEN("{'driver': 'qcow2', 'node-name': 'hd0', 'file': {'driver': 'http', "
                        "'url': 'http://example.org/'}}"),
                 "x-blockdev-reopen: block driver 'http' is not allowed " DRIVERS);
    CHECK_POLICY("{'execute': 'blockdev-reopen', 'arguments': {'options': [{'driver': 'qcow2', "
                 "'node-name': 'a'}, {'driver': 'vvfat', 'dir': '/'}]}}",
                 "blockdev-reopen: block driver 'vvfat' is not allowed " DRIVERS);
    CHECK_POLICY(ADD("{'driver': 'qcow2', 'file.driver': 'iscsi'}"),
                 "blockdev-add: block driver 'iscsi' is not allowed " DRIVERS);
    CHECK(bg_policy_driver_allowed("qcow2"));
    CHECK(!bg_policy_driver_allowed("host_device"));
}

static void test_policy_refuses_sizes_out_of_range(void)
{
    CHECK_POLICY(ADD("{'driver': 'null-co', 'node-name': 'n', 'size': -1}"),
                 "blockdev-add: null-co 'size' must be between 0 and 1073741824, got -1");
    CHECK_POLICY(ADD("{'driver': 'null-aio', 'node-name': 'n', 'size': 1073741825}"),
                 "blockdev-add: null-aio 'size' must be between 0 and 1073741824, got 1073741825");
    CHECK_POLICY(ADD("{'driver': 'null-co', 'size': 1e12}"),
                 "blockdev-add: null-co 'size' must be between 0 and 1073741824, "
                 "got 1000000000000.0");
    CHECK_POLICY(ADD("{'driver': 'null-co', 'latency-ns': 3600000000000}"),
                 "blockdev-add: null-co 'latency-ns' must be between 0 and 1000000000, "
                 "got 3600000000000");
    CHECK_POLICY(ADD("{'driver': 'raw', 'offset': -512, 'file': 'f'}"),
                 "blockdev-add: raw 'offset' must be between 0 and 1073741824, got -512");
    CHECK_POLICY(REOPEN("{'driver': 'raw', 'node-name': 'r', 'size': 4294967296}"),
                 "x-blockdev-reopen: raw 'size' must be between 0 and 1073741824, got 4294967296");
    CHECK_POLICY(ADD("{'driver': 'qcow2', 'file': {'driver': 'raw', 'size': -1}}"),
                 "blockdev-add: raw 'size' must be between 0 and 1073741824, got -1");
}

static void test_policy_confines_qmp_file_names(void)
{
    CHECK_POLICY(ADD("{'driver': 'file', 'node-name': 'f', 'filename': '/etc/passwd'}"),
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'qcow2', 'file': {'driver': 'file', 'filename': '$DIR/../x'}}"),
                 "file name '$DIR/../x' leaves the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': 'a/../../x'}"),
                 "file name 'a/../../x' leaves the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': 'json:{\\'driver\\': \\'file\\'}'}"),
                 "file name 'json:{\"driver\": \"file\"}' has a protocol prefix; only plain "
                 "file names are allowed");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': 'nbd:localhost:10809'}"),
                 "file name 'nbd:localhost:10809' has a protocol prefix; only plain file names "
                 "are allowed");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': '$DIRx/y'}"),
                 "file name '$DIRx/y': $DIR must be followed by '/'");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': '..$DIR/x'}"),
                 "file name '..$DIR/x': $DIR may only start a file name");
    CHECK_POLICY(ADD("{'driver': 'file', 'filename': '/dev/null'}"),
                 "file name '/dev/null' is outside the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'blkdebug', 'config': '/etc/passwd', 'image': 'hd0'}"),
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'blkdebug', 'config': '../blkdebug.conf', 'image': 'hd0'}"),
                 "file name '../blkdebug.conf' leaves the scratch directory");
    CHECK_POLICY(ADD("{'driver': 'qcow2', 'file.filename': '/etc/passwd'}"),
                 "file name '/etc/passwd' is outside the scratch directory");
    /* a reopen's config is never read, so only the run-time check looks at absolute ones */
    CHECK_POLICY(REOPEN("{'driver': 'blkdebug', 'node-name': 'bd', 'config': 'x/../../y'}"),
                 "file name 'x/../../y' leaves the scratch directory");
    CHECK_POLICY(REOPEN("{'driver': 'file', 'node-name': 'f', 'filename': '/etc/passwd'}"),
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY("{'execute': 'block-stream', 'arguments': {'device': 'hd0', "
                 "'backing-file': '/etc/passwd'}}",
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY("{'execute': 'block-commit', 'arguments': {'device': 'hd0', "
                 "'backing-file': 'a/../..'}}",
                 "file name 'a/../..' leaves the scratch directory");
}

static void test_policy_checks_hmp(void)
{
    CHECK_POLICY(HMP("info block"),
                 "human-monitor-command: only 'qemu-io NODE \"CMD\"' is allowed, got 'info block'");
    CHECK_POLICY(HMP("qemu-iox hd0 \\'read 0 1\\'"),
                 "human-monitor-command: only 'qemu-io NODE \"CMD\"' is allowed, "
                 "got 'qemu-iox hd0 \"read 0 1\"'");
    CHECK_POLICY("{'execute': 'human-monitor-command', 'arguments': {'command-line': "
                 "'qemu-io hd0 flush', 'cpu-index': 0}}",
                 "human-monitor-command: arguments must be exactly {\"command-line\": STRING}");
    CHECK_POLICY("{'execute': 'human-monitor-command'}",
                 "human-monitor-command: arguments must be exactly {\"command-line\": STRING}");
    CHECK_POLICY(HMP("qemu-io -d dev0 \\'read 0 1\\'"),
                 "human-monitor-command: qemu-io needs a node name, "
                 "got 'qemu-io -d dev0 \"read 0 1\"'");
    CHECK_POLICY(HMP("qemu-io hd0 "),
                 "human-monitor-command: qemu-io needs a command, got 'qemu-io hd0 '");
    CHECK_POLICY(HMP("qemu-io hd0 \\'open -o driver=nbd\\'"),
                 "human-monitor-command: qemu-io command 'open' is not allowed " QIO_LIST);
    CHECK_POLICY(HMP("qemu-io hd0 \\'write -s /etc/passwd 0 1k\\'"),
                 "human-monitor-command: qemu-io write -s (data from a file) is not allowed");
    CHECK_POLICY(HMP("qemu-io hd0 \\'read 0 1"),
                 "human-monitor-command: unterminated quote in 'qemu-io hd0 \"read 0 1'");
    CHECK_POLICY(HMP("qemu-io hd0 \\'read 0 1\\' x"),
                 "human-monitor-command: text after the quoted qemu-io command in "
                 "'qemu-io hd0 \"read 0 1\" x'");
    CHECK_POLICY(HMP("qemu-io hd0 \\'read\\\\t0 1\\'"),
                 "human-monitor-command: bad escape in 'qemu-io hd0 \"read\\t0 1\"'");
    /* escapes are decoded before the qemu-io check, as get_str() does */
    CHECK_POLICY(HMP("qemu-io hd0 \\'\\\\\\'sleep\\\\\\' 1\\'"),
                 "human-monitor-command: qemu-io command '\"sleep\"' is not allowed " QIO_LIST);
    /* unquoted: everything after the node is checked */
    CHECK_POLICY(HMP("qemu-io hd0 sleep 100000"),
                 "human-monitor-command: qemu-io command 'sleep' is not allowed " QIO_LIST);
}

/* ---- qemu-io ---------------------------------------------------------------------------- */


static void test_policy_refuses_qemu_io_commands(void)
{
    static const char *const refused[] = {
        "open", "close", "reopen", "sleep", "abort", "sigraise", "truncate", "resize",
        "aio_read", "aio_write", "break", "wait_break", "quit", "help", "r", "w", NULL
    };
    for (const char *const *c = refused; *c; c++) {
        char *body = bg_asprintf(IO("%s 0 1"), *c);
        char *want = bg_asprintf("io: qemu-io command '%s' is not allowed " QIO_LIST, *c);
        CHECK_POLICY(body, want);
        free(body);
        free(want);
    }
    CHECK_POLICY(IO(""), "io: empty qemu-io command");
    CHECK_POLICY(IO("read\\t0 1"), "io: qemu-io command 'read\\x090' is not allowed " QIO_LIST);
}

static void test_policy_checks_qemu_io_operands(void)
{
    CHECK_POLICY(IO("write -s /etc/passwd 0 1k"),
                 "io: qemu-io write -s (data from a file) is not allowed");
    CHECK_POLICY(IO("write -cs/etc/passwd 0 1k"),
                 "io: qemu-io write -s (data from a file) is not allowed");
    CHECK_POLICY(IO("write 0 1k -s x"), "io: qemu-io write -s (data from a file) is not allowed");
    CHECK_POLICY(IO("read -x 0 1"), "io: qemu-io read: unknown option '-x'");
    CHECK_POLICY(IO("discard -z 0 1"), "io: qemu-io discard: unknown option '-z'");
    CHECK_POLICY(IO("read 0 1 -P"), "io: qemu-io read: option '-P' needs a value");
    CHECK_POLICY(IO("read -1 512"),
                 "io: qemu-io read: offsets and lengths must be non-negative, got '-1'");
    CHECK_POLICY(IO("read -s -5 -P 1 0 1"),
                 "io: qemu-io read: pattern offset must be non-negative, got '-5'");
    CHECK_POLICY(IO("read 0 65M"),
                 "io: qemu-io read: length 65M is above the limit of 67108864 bytes");
    CHECK_OK(IO("read 0 64M"));
    CHECK_OK(IO("write 0x0 0x4000000"));
    CHECK_POLICY(IO("write 0 0x4000001"),
                 "io: qemu-io write: length 0x4000001 is above the limit of 67108864 bytes");
    CHECK_POLICY(IO("read -P 1 -l 1G 0 1"),
                 "io: qemu-io read: pattern length 1G is above the limit of 67108864 bytes");
    CHECK_POLICY(IO("readv 0 32M 32M 1"),
                 "io: qemu-io readv: total length 67108865 is above the limit of 67108864 bytes");
    CHECK_POLICY(IO("read 1.5k 1"), "io: qemu-io read: invalid offset '1.5k'");
    CHECK_POLICY(IO("read 0 1x"), "io: qemu-io read: invalid length '1x'");
    CHECK_POLICY(IO("read 99999999999999999999 1"),
                 "io: qemu-io read: invalid offset '99999999999999999999'");
    CHECK_POLICY(IO("read 0"), "io: qemu-io read: expects 2 operands, got 1");
    CHECK_POLICY(IO("discard 0 1 2"), "io: qemu-io discard: expects 2 operands, got 3");
    CHECK_POLICY(IO("flush now"), "io: qemu-io flush: expects 0 operands, got 1");
    CHECK_POLICY(IO("alloc"), "io: qemu-io alloc: expects 1 or 2 operands, got 0");
    CHECK_POLICY(IO("writev 0"), "io: qemu-io writev: expects 2 or more operands, got 1");
    CHECK_POLICY(IO("read -- -1 1"), "io: qemu-io read: offset must be non-negative, got '-1'");
}

static void test_policy_parses_sizes_as_cvtnum(void)
{
    uint64_t v = 0;
    CHECK(bg_policy_parse_size("3M", &v) && v == 3u << 20);
    CHECK(bg_policy_parse_size("10k", &v) && v == 10240);
    CHECK(bg_policy_parse_size("10K", &v) && v == 10240);
    CHECK(bg_policy_parse_size("1b", &v) && v == 1);
    CHECK(bg_policy_parse_size("0x10", &v) && v == 16);
    CHECK(bg_policy_parse_size("0x1k", &v) && v == 1024);
    CHECK(bg_policy_parse_size("0x1b", &v) && v == 27);   /* hex digit, as strtoull reads it */
    CHECK(bg_policy_parse_size("7E", &v) && v == 7ull << 60);
    CHECK(bg_policy_parse_size("9223372036854775807", &v) && v == INT64_MAX);
    CHECK(!bg_policy_parse_size("8E", &v));
    CHECK(!bg_policy_parse_size("9223372036854775808", &v));
    CHECK(!bg_policy_parse_size("18446744073709551616", &v));
    CHECK(!bg_policy_parse_size("", &v));
    CHECK(!bg_policy_parse_size("k", &v));
    CHECK(!bg_policy_parse_size("0x", &v));
    CHECK(!bg_policy_parse_size("-1", &v));
    CHECK(!bg_policy_parse_size("+1", &v));
    CHECK(!bg_policy_parse_size(" 1", &v));
    CHECK(!bg_policy_parse_size("1.5M", &v));
    CHECK(!bg_policy_parse_size("1MB", &v));
}

/* ---- offline steps ------------------------------------------------------------------- */

static void test_policy_checks_img_create(void)
{
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'size': -1}}",
                 "img-create: 'size' must be a non-negative integer or a size string, got -1");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'size': 'lots'}}",
                 "img-create: 'size' must be a non-negative integer or a size string, got 'lots'");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'size': 1.5}}",
                 "img-create: 'size' must be a non-negative integer or a size string, got 1.5");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'size': '2G'}}",
                 "img-create: 'size' '2G' is above the limit of 1073741824 bytes");
    CHECK_POLICY("{'img-create': {'fmt': 'raw', 'file': 'a', 'size': 1073741825}}",
                 "img-create: 'size' 1073741825 is above the limit of 1073741824 bytes");
    CHECK_OK("{'img-create': {'fmt': 'raw', 'file': 'a', 'size': '1G'}}");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a'}}",
                 "img-create: 'size' is required unless 'backing' is given");
    CHECK_POLICY("{'img-create': {'fmt': 'vmdk', 'file': 'a', 'size': 1}}",
                 "img-create: 'fmt' must be qcow2 or raw, got 'vmdk'");
    CHECK_POLICY("{'img-create': {'file': 'a', 'size': 1, 'backing': 'b', 'backing-fmt': 'qed'}}",
                 "img-create: 'backing-fmt' must be qcow2 or raw, got 'qed'");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'size': 1}}", "img-create: 'file' is required");
    CHECK_POLICY("{'img-create': {'file': ['a'], 'size': 1}}",
                 "img-create: 'file' must be a string, got [\"a\"]");
    CHECK_POLICY("{'img-create': {'file': 'a', 'size': 1, 'options': 'data_file=/etc/passwd'}}",
                 "img-create: unknown key 'options'");
    CHECK_POLICY("{'img-create': ['a']}", "img-create: must be an object, got array");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': '/tmp/a', 'size': 1}}",
                 "file name '/tmp/a' is outside the scratch directory");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'backing': '/etc/passwd', "
                 "'backing-fmt': 'raw'}}",
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY("{'img-create': {'fmt': 'qcow2', 'file': 'a', 'backing': 'json:{}'}}",
                 "file name 'json:{}' has a protocol prefix; only plain file names are allowed");
}

static void test_policy_checks_io(void)
{
    CHECK_POLICY("{'io': {'fmt': 'qcow2', 'file': 'a', 'cmd': []}}",
                 "io: 'cmd' must be a string or a non-empty array of at most 64 strings");
    CHECK_POLICY("{'io': {'fmt': 'qcow2', 'file': 'a', 'cmd': ['flush', 3]}}",
                 "io: 'cmd' must be a string or a non-empty array of at most 64 strings");
    CHECK_POLICY("{'io': {'fmt': 'qcow2', 'file': 'a'}}",
                 "io: 'cmd' must be a string or a non-empty array of at most 64 strings");
    BgBuf b = {0};
    bg_buf_puts(&b, "{'io': {'file': 'a', 'cmd': [");
    for (int i = 0; i < 65; i++)
        bg_buf_puts(&b, i ? ", 'flush'" : "'flush'");
    bg_buf_puts(&b, "]}}");
    CHECK_POLICY(b.data, "io: 'cmd' must be a string or a non-empty array of at most 64 strings");
    bg_buf_cleanup(&b);
    CHECK_POLICY("{'io': {'fmt': 'vpc', 'file': 'a', 'cmd': 'flush'}}",
                 "io: 'fmt' must be qcow2 or raw, got 'vpc'");
    CHECK_POLICY("{'io': {'file': 'a', 'cmd': 'flush', 'opts': '-o x'}}",
                 "io: unknown key 'opts'");
    CHECK_POLICY("{'io': {'cmd': 'flush'}}", "io: 'file' is required");
    CHECK_POLICY("{'io': {'file': '$DIR/../../etc/passwd', 'cmd': 'read 0 1'}}",
                 "file name '$DIR/../../etc/passwd' leaves the scratch directory");
    CHECK_POLICY("{'io': {'file': 'ok', 'cmd': ['read 0 1', 'open /etc/passwd']}}",
                 "io: qemu-io command 'open' is not allowed " QIO_LIST);
}

static void test_policy_checks_qemu_img(void)
{
    static const char *const refused[] = {
        "create", "convert", "amend", "rebase", "snapshot", "resize", "commit", "bench",
        "dd", "measure", "bitmap", NULL
    };
    for (const char *const *c = refused; *c; c++) {
        char *body = bg_asprintf("{'qemu-img': ['%s', 'a']}", *c);
        char *want = bg_asprintf("qemu-img: subcommand '%s' is not allowed (allowed: check, map, "
                                 "compare, info)", *c);
        CHECK_POLICY(body, want);
        free(body);
        free(want);
    }
    CHECK_POLICY("{'qemu-img': []}", "qemu-img: must be a non-empty array of strings");
    CHECK_POLICY("{'qemu-img': ['check', 1]}", "qemu-img: must be a non-empty array of strings");
    CHECK_POLICY("{'qemu-img': 'check a'}", "qemu-img: must be a non-empty array of strings");
    CHECK_POLICY("{'qemu-img': ['info', '--image-opts', 'driver=nbd,host=x']}",
                 "qemu-img info: option '--image-opts' is not allowed");
    CHECK_POLICY("{'qemu-img': ['check', '--object', 'secret,id=s,file=/etc/shadow', 'a']}",
                 "qemu-img check: option '--object' is not allowed");
    CHECK_POLICY("{'qemu-img': ['map', '-o', 'x', 'a']}",
                 "qemu-img map: option '-o' is not allowed");
    CHECK_POLICY("{'qemu-img': ['info', '-T', 'x', 'a']}",
                 "qemu-img info: option '-T' is not allowed");
    CHECK_POLICY("{'qemu-img': ['info', '-q', 'a']}", "qemu-img info: option '-q' is not allowed");
    CHECK_POLICY("{'qemu-img': ['check', '-fqcow2', 'a']}",
                 "qemu-img check: option '-fqcow2' is not allowed");
    CHECK_POLICY("{'qemu-img': ['check', '-r', 'everything', 'a']}",
                 "qemu-img check: '-r' must be leaks or all, got 'everything'");
    CHECK_POLICY("{'qemu-img': ['map', '-f', 'vmdk', 'a']}",
                 "qemu-img map: '-f' must be qcow2 or raw, got 'vmdk'");
    CHECK_POLICY("{'qemu-img': ['compare', 'a', 'b', '-F']}",
                 "qemu-img compare: '-F' must be qcow2 or raw, got ''");
    CHECK_POLICY("{'qemu-img': ['info', '--output=xml', 'a']}",
                 "qemu-img info: '--output' must be human or json, got 'xml'");
    CHECK_POLICY("{'qemu-img': ['map', '--start-offset=-1', 'a']}",
                 "qemu-img map: '--start-offset' must be a non-negative number, got '-1'");
    CHECK_POLICY("{'qemu-img': ['compare', 'a']}", "qemu-img compare: expects 2 file names, got 1");
    CHECK_POLICY("{'qemu-img': ['check', 'a', 'b']}",
                 "qemu-img check: expects 1 file name, got more than 1");
    CHECK_POLICY("{'qemu-img': ['check', '/etc/passwd']}",
                 "file name '/etc/passwd' is outside the scratch directory");
    CHECK_POLICY("{'qemu-img': ['compare', 'a', '--', '../b']}",
                 "file name '../b' leaves the scratch directory");
}

/* ---- VM steps ---------------------------------------------------------------------------- */

static void test_policy_checks_vm_steps(void)
{
    CHECK_POLICY("{'launch': {'machine': 'q35'}}",
                 "launch: 'machine' must be none or pc, got 'q35'");
    CHECK_POLICY("{'launch': {'args': ['-S', '-device', 'e1000']}}",
                 "launch: argument '-device' is not allowed (only -S)");
    CHECK_POLICY("{'launch': {'args': '-S'}}", "launch: 'args' must be an array of strings");
    CHECK_POLICY("{'launch': {'qemu': '/bin/sh'}}", "launch: unknown key 'qemu'");
    CHECK_POLICY("{'launch': 'pc'}", "launch: must be an object, got string");
    CHECK_POLICY("{'wait-event': {'match': {}}}", "wait-event: 'event' is required");
    CHECK_POLICY("{'wait-event': {'event': 5}}", "wait-event: 'event' must be a string, got 5");
    CHECK_POLICY("{'wait-event': {'event': 'E', 'timeout': 0}}",
                 "wait-event: 'timeout' must be a number above 0 and at most 120, got 0");
    CHECK_POLICY("{'wait-event': {'event': 'E', 'timeout': 120.5}}",
                 "wait-event: 'timeout' must be a number above 0 and at most 120, got 120.5");
    CHECK_POLICY("{'wait-event': {'event': 'E', 'timeout': '5'}}",
                 "wait-event: 'timeout' must be a number above 0 and at most 120, got '5'");
    CHECK_OK("{'wait-event': {'event': 'E', 'timeout': 120}}");
    CHECK_POLICY("{'wait-event': {'event': 'E', 'match': []}}",
                 "wait-event: 'match' must be an object, got array");
    CHECK_POLICY("{'wait-event': {'event': 'E', 'forever': true}}",
                 "wait-event: unknown key 'forever'");
    CHECK_POLICY("{'wait-job': 5}", "wait-job: must be a job ID string, got 5");
    CHECK_POLICY("{'wait-job': {'id': 'j'}}",
                 "wait-job: must be a job ID string, got {\"id\":\"j\"}");
    CHECK_POLICY("{'run-job': {'auto-finalize': false}}", "run-job: 'id' is required");
    CHECK_POLICY("{'run-job': {'id': 'j', 'cancel': 'yes'}}",
                 "run-job: 'cancel' must be a boolean, got 'yes'");
    CHECK_POLICY("{'run-job': {'id': 'j', 'timeout': 5}}", "run-job: unknown key 'timeout'");
    CHECK_POLICY("{'shutdown': {'force': true}}", "shutdown: must be {}, got {\"force\":true}");
    CHECK_POLICY("{'shutdown': null}", "shutdown: must be {}, got null");
}

/* ---- through the stream reader -------------------------------------------------------- */

static void test_policy_messages_get_file_and_line_from_the_reader(void)
{
    const char *text = "{\"launch\": {}}\n\n{\"execute\": \"migrate\"}\n";
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    CHECK(s == NULL);
    CHECK_STR_EQ(err.text, "t.jsonl:3: unknown QMP command 'migrate'");
    bg_stream_free(s);
}

static void test_policy_refuses_overlong_line(void)
{
    size_t n = BG_MAX_LINE_BYTES + 1;
    char *text = bg_malloc(n + 40);
    memset(text, ' ', n);
    memcpy(text, "{\"comment\": \"", 13);
    memcpy(text + n - 2, "\"}\n{}", 6);
    BgError err = {0};
    BgStream *s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    CHECK(s == NULL);
    char want[128];
    snprintf(want, sizeof(want), "t.jsonl:1: line longer than %u bytes", BG_MAX_LINE_BYTES);
    CHECK_STR_EQ(err.text, want);
    bg_stream_free(s);
    /* one byte shorter is accepted */
    memcpy(text + n - 3, "\"}\n", 4);
    bg_error_clear(&err);
    s = bg_stream_parse("t.jsonl", text, strlen(text), &err);
    CHECK(s != NULL);
    bg_stream_free(s);
    free(text);
}

static void test_policy_quotes_values_for_one_line_messages(void)
{
    char q[BG_QUOTE_BYTES];
    CHECK_STR_EQ(bg_policy_quote("a\nb\x7f\xc3\xa9", q), "a\\x0ab\\x7f\\xc3\\xa9");
    char *long_name = bg_malloc(1000);
    memset(long_name, 'x', 999);
    long_name[999] = '\0';
    bg_policy_quote(long_name, q);
    CHECK_INT_EQ(strlen(q), BG_QUOTE_MAX + 3);
    CHECK(strcmp(q + BG_QUOTE_MAX, "...") == 0);
    free(long_name);
    /* the first error wins: a second refusal does not overwrite it */
    BgError err = {0};
    json_t *body = json_pack("{s:s}", "execute", "migrate");
    CHECK(!bg_policy_check_step(BG_STEP_EXECUTE, body, &err));
    CHECK(!bg_policy_check_step(BG_STEP_EXECUTE, body, &err));
    CHECK_STR_EQ(err.text, "unknown QMP command 'migrate'");
    json_decref(body);
}

BG_SUITE(policy) = {
    { "accepts_the_seed_shapes", test_policy_accepts_the_seed_shapes },
    { "refuses_unknown_commands", test_policy_refuses_unknown_commands },
    { "refuses_qom_types_and_devices", test_policy_refuses_qom_types_and_devices },
    { "refuses_block_drivers", test_policy_refuses_block_drivers },
    { "refuses_sizes_out_of_range", test_policy_refuses_sizes_out_of_range },
    { "confines_qmp_file_names", test_policy_confines_qmp_file_names },
    { "checks_hmp", test_policy_checks_hmp },
    { "refuses_qemu_io_commands", test_policy_refuses_qemu_io_commands },
    { "checks_qemu_io_operands", test_policy_checks_qemu_io_operands },
    { "parses_sizes_as_cvtnum", test_policy_parses_sizes_as_cvtnum },
    { "checks_img_create", test_policy_checks_img_create },
    { "checks_io", test_policy_checks_io },
    { "checks_qemu_img", test_policy_checks_qemu_img },
    { "checks_vm_steps", test_policy_checks_vm_steps },
    { "messages_get_file_and_line_from_the_reader",
      test_policy_messages_get_file_and_line_from_the_reader },
    { "refuses_overlong_line", test_policy_refuses_overlong_line },
    { "quotes_values_for_one_line_messages", test_policy_quotes_values_for_one_line_messages },
    { NULL, NULL }
};
