/*
 * test_real_graph.c: the engine's graph layer: QDict order and JSON text,
 * blockdev-add naming and query order, blockdev-del, permission conflicts,
 * the reopen transaction (all or nothing, atomic swaps), frozen links and
 * the graph invariants after each change.
 */
#include <jansson.h>

#include "test_real_util.h"
#include "../../real/graph.h"
#include "../../real/qdict.h"
#include "../../real/qmp.h"

/* ---- helpers ------------------------------------------------------------------------ */

typedef struct Vm {
    char *dir;
    RealMachine *m;
} Vm;

static void vm_start(Vm *vm)
{
    vm->dir = tr_mkdtemp();
    vm->m = real_machine_new(vm->dir, false);
}

static void vm_stop(Vm *vm)
{
    real_machine_free(vm->m);
    tr_rmdir(vm->dir);
}

/* $DIR in TEXT replaced by the scratch directory (owned). */
static char *subst(Vm *vm, const char *text)
{
    BgBuf b = { 0 };
    for (const char *p = text; *p;) {
        if (!strncmp(p, "$DIR", 4)) {
            bg_buf_puts(&b, vm->dir);
            p += 4;
        } else {
            bg_buf_append(&b, p, 1);
            p++;
        }
    }
    return bg_buf_take(&b);
}

/* Run NAME with ARGS (JSON text, $DIR substituted); returns the error text or "" (owned). */
static char *qmp(Vm *vm, const char *name, const char *args)
{
    char *text = args ? subst(vm, args) : NULL;
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    BgResult res = { 0 };
    real_qmp_execute(vm->m, name, a, &res);
    json_decref(a);
    char *r = res.kind == BG_RES_ERROR ? bg_strdup(res.err_desc)
              : res.kind == BG_RES_UNSUPPORTED ? bg_strdup("unsupported") : bg_strdup("");
    bg_result_cleanup(&res);
    CHECK(real_graph_check(vm->m->g));
    return r;
}

static void qmp_ok(Vm *vm, const char *name, const char *args)
{
    char *e = qmp(vm, name, args);
    CHECK_STR_EQ(e, "");
    free(e);
}

static void qmp_err(Vm *vm, const char *name, const char *args, const char *want)
{
    char *e = qmp(vm, name, args);
    CHECK_STR_EQ(e, want);
    free(e);
}

/* query-named-block-nodes, serialized (owned). */
static char *query(Vm *vm)
{
    BgResult res = { 0 };
    real_qmp_execute(vm->m, "query-named-block-nodes", NULL, &res);
    char *s = json_dumps(res.ret, JSON_SORT_KEYS | JSON_COMPACT);
    bg_result_cleanup(&res);
    return s;
}

static void make_qcow2(Vm *vm, const char *name)
{
    char *out = NULL, *err = NULL;
    CHECK_INT_EQ(tr_engine_create(vm->dir, "qcow2", name, "3M", NULL, NULL, &out, &err), 0);
    free(out);
    free(err);
}

#define HD(n) "{\"driver\": \"qcow2\", \"node-name\": \"hd" #n "\", \"file\": {\"driver\": " \
              "\"file\", \"node-name\": \"hd" #n "-file\", \"filename\": \"$DIR/hd" #n ".img\"}}"

/* ---- QDict ------------------------------------------------------------------------- */

static void test_real_graph_qdict_buckets(void)
{
    /* qemu-semantics.md 2.6, computed by QEMU's tdb_hash */
    static const struct { const char *key; unsigned bucket; } t[] = {
        { "cache.no-flush", 4 }, { "backing.backing.file.node-name", 18 }, { "test", 41 },
        { "locking", 52 }, { "backing.driver", 85 }, { "backing.node-name", 96 },
        { "file.driver", 130 }, { "detect-zeroes", 146 }, { "backing", 198 },
        { "node-name", 212 }, { "driver", 239 }, { "filename", 313 }, { "read-only", 342 },
        { "aio", 403 }, { "cache.direct", 430 }, { "force-share", 460 }, { "file", 463 },
        { "align", 509 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        CHECK_INT_EQ(qdict_bucket(t[i].key), t[i].bucket);
}

static void test_real_graph_qdict_order_and_json(void)
{
    json_t *d = json_pack("{s:s,s:s,s:{s:s,s:s}}", "throttle-group", "group0", "driver",
                          "throttle", "file", "driver", "file", "filename", "/x");
    BgBuf b = { 0 };
    qdict_to_json(&b, d);
    char *s = bg_buf_take(&b);
    /* buckets: throttle-group 203, driver 239, file 463; filename 313 */
    CHECK_STR_EQ(s, "{\"throttle-group\": \"group0\", \"driver\": \"throttle\", \"file\": "
                    "{\"driver\": \"file\", \"filename\": \"/x\"}}");
    free(s);
    qdict_flatten(d);
    CHECK_STR_EQ(json_string_value(json_object_get(d, "file.filename")), "/x");
    CHECK(json_object_get(d, "file") == NULL);
    CHECK_STR_EQ(qdict_first_key(d), "file.driver");   /* bucket 130 */
    json_t *sub;
    qdict_extract_subqdict(d, &sub, "file.");
    CHECK_INT_EQ(json_object_size(sub), 2);
    CHECK_INT_EQ(json_object_size(d), 2);
    json_decref(sub);
    json_decref(d);
    json_t *v = json_true();
    char *o = qdict_opt_string(v);
    CHECK_STR_EQ(o, "on");
    free(o);
    json_decref(v);
}

/* ---- blockdev-add / del / query ------------------------------------------------------ */

static void test_real_graph_add_query_del(void)
{
    Vm vm;
    vm_start(&vm);
    make_qcow2(&vm, "hd0.img");
    make_qcow2(&vm, "hd1.img");
    qmp_ok(&vm, "blockdev-add", HD(0));
    qmp_err(&vm, "blockdev-add", HD(0), "Duplicate nodes with node-name='hd0-file'");
    qmp_err(&vm, "blockdev-add", "{\"driver\": \"qcow2\", \"file\": \"hd0-file\"}",
            "'node-name' must be specified for the root node");
    /* an implicit file child gets a generated name, named before its parent */
    qmp_ok(&vm, "blockdev-add", "{\"driver\": \"qcow2\", \"node-name\": \"hd1\", \"file\": "
                                "{\"driver\": \"file\", \"filename\": \"$DIR/hd1.img\"}}");
    RealGraph *g = vm.m->g;
    CHECK_STR_EQ(g->tail->node_name, "hd1");
    CHECK(g->tail->list_prev->generated_name);
    char *q = query(&vm);
    json_t *list = json_loads(q, 0, NULL);
    CHECK_INT_EQ(json_array_size(list), 4);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(list, 0), "node-name")),
                 "hd1");   /* newest first */
    CHECK_INT_EQ(json_integer_value(json_object_get(
                     json_object_get(json_array_get(list, 0), "image"), "virtual-size")),
                 3145728);
    json_decref(list);
    free(q);
    qmp_err(&vm, "blockdev-del", "{\"node-name\": \"hd0-file\"}",
            "Node hd0-file is not owned by the monitor");
    qmp_err(&vm, "blockdev-del", "{\"node-name\": \"nope\"}",
            "Failed to find node with node-name='nope'");
    qmp_ok(&vm, "blockdev-del", "{\"node-name\": \"hd1\"}");
    CHECK(real_graph_find_node(g, "hd1") == NULL);
    CHECK_INT_EQ(g->n_nodes, 2);   /* the implicit file child went with it */
    vm_stop(&vm);
}

static void test_real_graph_perm_conflict(void)
{
    Vm vm;
    vm_start(&vm);
    make_qcow2(&vm, "hd0.img");
    qmp_ok(&vm, "blockdev-add", HD(0));
    qmp_err(&vm, "blockdev-add", "{\"driver\": \"qcow2\", \"node-name\": \"b\", \"file\": "
                                 "\"hd0-file\"}",
            "Permission conflict on node 'hd0-file': permissions 'write, resize' are both "
            "required by node 'hd0' (uses node 'hd0-file' as 'file' child) and unshared by node "
            "'b' (uses node 'hd0-file' as 'file' child).");
    /* nothing of the failed node is left */
    CHECK(real_graph_find_node(vm.m->g, "b") == NULL);
    CHECK_INT_EQ(vm.m->g->n_nodes, 2);
    vm_stop(&vm);
}

/* ---- reopen ------------------------------------------------------------------------- */

static void test_real_graph_reopen_all_or_nothing(void)
{
    Vm vm;
    vm_start(&vm);
    make_qcow2(&vm, "hd0.img");
    make_qcow2(&vm, "hd1.img");
    qmp_ok(&vm, "blockdev-add", HD(0));
    qmp_ok(&vm, "blockdev-add", HD(1));
    char *before = query(&vm);
    /* the first entry would succeed, the second fails: no trace of the first */
    qmp_err(&vm, "blockdev-reopen",
            "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": \"hd0\", \"file\": "
            "\"hd0-file\", \"read-only\": true}, {\"driver\": \"qcow2\", \"node-name\": \"hd1\", "
            "\"file\": \"hd1-file\", \"lazy-refcounts\": true, \"force-share\": true}]}",
            "Cannot change the option 'force-share'");
    char *after = query(&vm);
    CHECK_STR_EQ(after, before);
    free(after);
    /* a cycle staged by an earlier entry is seen by a later one */
    qmp_err(&vm, "blockdev-reopen",
            "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": \"hd0\", \"file\": "
            "\"hd0-file\", \"backing\": \"hd1\"}, {\"driver\": \"qcow2\", \"node-name\": \"hd1\", "
            "\"file\": \"hd1-file\", \"backing\": \"hd0\"}]}",
            "Making 'hd0' a backing child of 'hd1' would create a cycle");
    after = query(&vm);
    CHECK_STR_EQ(after, before);
    free(after);
    free(before);
    vm_stop(&vm);
}

static void test_real_graph_reopen_swap_files(void)
{
    Vm vm;
    vm_start(&vm);
    make_qcow2(&vm, "hd0.img");
    make_qcow2(&vm, "hd1.img");
    qmp_ok(&vm, "blockdev-add", HD(0));
    qmp_ok(&vm, "blockdev-add", HD(1));
    /* one at a time conflicts, both in one transaction works */
    qmp_err(&vm, "blockdev-reopen",
            "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": \"hd0\", \"file\": "
            "\"hd1-file\"}]}",
            "Permission conflict on node 'hd1-file': permissions 'write, resize' are both "
            "required by node 'hd1' (uses node 'hd1-file' as 'file' child) and unshared by node "
            "'hd0' (uses node 'hd1-file' as 'file' child).");
    qmp_ok(&vm, "blockdev-reopen",
           "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": \"hd0\", \"file\": "
           "\"hd1-file\"}, {\"driver\": \"qcow2\", \"node-name\": \"hd1\", \"file\": "
           "\"hd0-file\"}]}");
    RealNode *hd0 = real_graph_find_node(vm.m->g, "hd0");
    CHECK_STR_EQ(hd0->file->child->node_name, "hd1-file");
    vm_stop(&vm);
}

static void test_real_graph_reopen_texts(void)
{
    Vm vm;
    vm_start(&vm);
    make_qcow2(&vm, "hd0.img");
    qmp_ok(&vm, "blockdev-add", HD(0));
    qmp_err(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                    "\"hd0\", \"file\": \"hd0-file\", \"detect-zeroes\": \"unmap\"}]}",
            "setting detect-zeroes to unmap is not allowed without setting discard operation "
            "to unmap");
    qmp_err(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                    "\"hd0\", \"file\": {\"driver\": \"file\", \"node-name\": "
                                    "\"hd0-file\", \"filename\": \"$DIR/hd0.img\", \"aio\": "
                                    "\"native\"}}]}",
            "Cannot change the option 'aio'");
    qmp_err(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                    "\"hd0\", \"file\": \"nope\"}]}",
            "Cannot find device='' nor node-name='nope'");
    qmp_err(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                    "5}]}",
            "Invalid parameter type for 'options[0].node-name', expected: string");
    qmp_err(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                    "\"hd0\", \"file\": null}]}",
            "Invalid parameter type for 'file', expected: BlockdevRef");
    qmp_ok(&vm, "blockdev-reopen", "{\"options\": [{\"driver\": \"qcow2\", \"node-name\": "
                                   "\"hd0\", \"file\": \"hd0-file\", \"read-only\": true}]}");
    CHECK(!(real_graph_find_node(vm.m->g, "hd0")->open_flags & REAL_O_RDWR));
    vm_stop(&vm);
}

BG_SUITE(real_graph) = {
    { "qdict_buckets", test_real_graph_qdict_buckets },
    { "qdict_order_and_json", test_real_graph_qdict_order_and_json },
    { "add_query_del", test_real_graph_add_query_del },
    { "perm_conflict", test_real_graph_perm_conflict },
    { "reopen_all_or_nothing", test_real_graph_reopen_all_or_nothing },
    { "reopen_swap_files", test_real_graph_reopen_swap_files },
    { "reopen_texts", test_real_graph_reopen_texts },
    { NULL, NULL },
};
