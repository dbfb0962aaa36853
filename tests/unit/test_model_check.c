/*
 * test_model_check.c: model_check()'s numbered invariants hold on a world
 * the model built, and each one catches the breakage it is about.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../../model/model.h"

/* hd0 (qcow2) -> hd0-file (file) by hand, with one backing: hd1 -> hd1-file. */
static ModelState *state_new(void)
{
    ModelState *st = bg_calloc(1, sizeof(*st));
    st->w = model_graph_new();
    st->queue = json_array();
    ModelWorld *w = st->w;
    const char *names[] = { "hd0-file", "hd0", "hd1-file", "hd1" };
    const char *drvs[] = { "file", "qcow2", "file", "qcow2" };
    ModelNode *n[4];
    for (int i = 0; i < 4; i++) {
        n[i] = model_graph_node_new(w, model_driver_find(drvs[i]));
        n[i]->name = bg_strdup(names[i]);
        w->nodes = bg_realloc(w->nodes, (w->n_nodes + 1) * sizeof(*w->nodes));
        w->nodes[w->n_nodes++] = n[i];
    }
    model_graph_attach(w, n[1], n[0], "file", MODEL_ROLE_IMAGE);
    model_graph_attach(w, n[3], n[2], "file", MODEL_ROLE_IMAGE);
    model_graph_attach(w, n[1], n[3], "backing", MODEL_ROLE_COW);
    n[3]->read_only = n[2]->read_only = true;
    n[1]->monitor_owned = true;
    BgError err = {0};
    model_perm_refresh(w, NULL, 0, &err);
    return st;
}

static void state_free(ModelState *st)
{
    model_graph_free(st->w);
    json_decref(st->queue);
    free(st);
}

static void test_model_check_holds_on_a_chain(void)
{
    ModelState *st = state_new();
    CHECK(model_check(st));
    /* a deep copy is the same world */
    ModelWorld *c = model_graph_copy(st->w);
    ModelWorld *orig = st->w;
    st->w = c;
    CHECK(model_check(st));
    st->w = orig;
    model_graph_free(c);
    state_free(st);
}

static void test_model_check_1_dangling_edge(void)
{
    ModelState *st = state_new();
    model_graph_find(st->w, "hd0")->children[0].node = 999;
    CHECK(!model_check(st));
    model_graph_find(st->w, "hd0")->children[0].node = model_graph_find(st->w, "hd1")->id;
    state_free(st);
}

static void test_model_check_2_cycle(void)
{
    ModelState *st = state_new();
    ModelNode *hd1 = model_graph_find(st->w, "hd1"), *hd0 = model_graph_find(st->w, "hd0");
    model_graph_attach(st->w, hd1, hd0, "backing", MODEL_ROLE_COW);
    CHECK(!model_check(st));
    model_graph_detach(st->w, hd1, "backing");
    state_free(st);
}

static void test_model_check_3_names(void)
{
    ModelState *st = state_new();
    ModelNode *n = model_graph_find(st->w, "hd1-file");
    free(n->name);
    n->name = bg_strdup("hd0-file");
    CHECK(!model_check(st));
    free(n->name);
    n->name = bg_strdup("#block7");     /* an auto name on a named node */
    CHECK(!model_check(st));
    n->auto_name = true;
    CHECK(model_check(st));
    state_free(st);
}

static void test_model_check_5_permissions(void)
{
    ModelState *st = state_new();
    /* a second writable format node on hd0-file: write, resize unshared */
    ModelNode *x = model_graph_node_new(st->w, model_driver_find("qcow2"));
    x->name = bg_strdup("x");
    x->monitor_owned = true;
    st->w->nodes = bg_realloc(st->w->nodes, (st->w->n_nodes + 1) * sizeof(*st->w->nodes));
    st->w->nodes[st->w->n_nodes++] = x;
    model_graph_attach(st->w, x, model_graph_find(st->w, "hd0-file"), "file", MODEL_ROLE_IMAGE);
    BgError err = {0};
    CHECK(!model_perm_refresh(st->w, NULL, 0, &err));
    CHECK_STR_EQ(err.text, "Permission conflict on node 'hd0-file': permissions 'write, resize' "
                           "are both required by node 'hd0' (uses node 'hd0-file' as 'file' child) "
                           "and unshared by node 'x' (uses node 'hd0-file' as 'file' child).");
    CHECK(!model_check(st));
    state_free(st);
}

static void test_model_check_5_read_only_users(void)
{
    ModelState *st = state_new();
    ModelWorld *before = model_graph_copy(st->w);
    model_graph_find(st->w, "hd0")->read_only = true;   /* hd0-file still writable: fine */
    BgError err = {0};
    CHECK(model_perm_refresh_from(st->w, before, NULL, 0, &err));
    model_graph_find(st->w, "hd0")->read_only = false;
    model_graph_find(st->w, "hd0-file")->read_only = true;
    CHECK(!model_perm_refresh_from(st->w, before, NULL, 0, &err));
    CHECK_STR_EQ(err.text, "Read-only block node 'hd0-file' cannot support read-write users");
    model_graph_free(before);
    state_free(st);
}

static void test_model_check_6_unreferenced(void)
{
    ModelState *st = state_new();
    model_graph_find(st->w, "hd0")->monitor_owned = false;
    CHECK(!model_check(st));
    model_graph_collect(st->w);     /* bdrv_unref() to zero, children first */
    CHECK_INT_EQ(st->w->n_nodes, 0);
    CHECK(model_check(st));
    state_free(st);
}

static void test_model_check_8_job_parents(void)
{
    ModelState *st = state_new();
    ModelWorld *w = st->w;
    model_job_add_blk(w, MODEL_BLK_JOB_CHILD, "j0", model_graph_find(w, "hd1")->id, 0,
                      MODEL_PERM_ALL, "intermediate node");
    CHECK(!model_check(st));              /* no such job */
    w->jobs = bg_calloc(1, sizeof(*w->jobs));
    w->jobs[0] = (ModelJob){ .id = bg_strdup("j0"), .type = MODEL_JOB_COMMIT,
                             .status = MODEL_JOB_RUNNING,
                             .filter = model_graph_find(w, "hd0")->id };
    w->n_jobs = 1;
    CHECK(model_check(st));
    w->jobs[0].filter = 0;                /* the job has ended */
    CHECK(!model_check(st));
    w->jobs[0].status = MODEL_JOB_CONCLUDED;
    CHECK(!model_check(st));              /* an aborted commit does not keep them */
    w->jobs[0].keeps_children = true;     /* a stream, or a commit that did not abort */
    CHECK(model_check(st));
    model_job_add_blk(w, MODEL_BLK_JOB, "j0", model_graph_find(w, "hd1")->id,
                      MODEL_PERM_CONSISTENT_READ, MODEL_PERM_ALL, "root");
    CHECK(!model_check(st));              /* but not its BlockBackend (stream_clean()) */
    free(w->blks[--w->n_blks].owner);
    CHECK(model_check(st));
    w->jobs[0].status = MODEL_JOB_NULL;   /* until it is dismissed */
    CHECK(!model_check(st));
    state_free(st);
}

static void test_model_check_perm_names(void)
{
    char *s = model_perm_names(MODEL_PERM_ALL);
    CHECK_STR_EQ(s, "consistent read, write, write unchanged, resize");
    free(s);
}

BG_SUITE(model_check) = {
    { "holds_on_a_chain", test_model_check_holds_on_a_chain },
    { "1_dangling_edge", test_model_check_1_dangling_edge },
    { "2_cycle", test_model_check_2_cycle },
    { "3_names", test_model_check_3_names },
    { "5_permissions", test_model_check_5_permissions },
    { "5_read_only_users", test_model_check_5_read_only_users },
    { "6_unreferenced", test_model_check_6_unreferenced },
    { "8_job_parents", test_model_check_8_job_parents },
    { "perm_names", test_model_check_perm_names },
    { NULL, NULL },
};
