/*
 * tran.c: transactions of undoable graph actions (see tran.h).
 *
 * Mirrors QEMU 7.2 util/transactions.c: actions are kept newest first, so
 * abort and commit walk the list from the head; every clean runs after all
 * aborts (or commits).  An action that cannot be recorded could not be
 * undone, so a failed allocation here is fatal, like the rest of the graph
 * layer's bookkeeping (graph.h: it uses the tools' aborting allocator).
 */
#include "tran.h"

#include <stdbool.h>
#include <stdlib.h>

typedef struct TranAction {
    const TranActionDrv *drv;
    void *opaque;
    struct TranAction *next;   /* the action recorded before this one */
} TranAction;

struct Tran {
    TranAction *head;          /* newest action */
};

static void *must_alloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        abort();
    return p;
}

Tran *tran_new(void)
{
    return must_alloc(sizeof(Tran));
}

void tran_add(Tran *tran, const TranActionDrv *drv, void *opaque)
{
    TranAction *a = must_alloc(sizeof(*a));
    a->drv = drv;
    a->opaque = opaque;
    a->next = tran->head;
    tran->head = a;
}

static void finish(Tran *tran, bool commit)
{
    for (TranAction *a = tran->head; a; a = a->next) {
        if (commit && a->drv->commit)
            a->drv->commit(a->opaque);
        else if (!commit && a->drv->abort)
            a->drv->abort(a->opaque);
    }
    TranAction *a = tran->head;
    while (a) {
        TranAction *next = a->next;
        if (a->drv->clean)
            a->drv->clean(a->opaque);
        free(a);
        a = next;
    }
    free(tran);
}

void tran_abort(Tran *tran)
{
    finish(tran, false);
}

void tran_commit(Tran *tran)
{
    finish(tran, true);
}
