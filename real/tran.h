/*
 * tran.h: transactions of undoable graph actions.
 *
 * What this is: QEMU 7.2 include/qemu/transactions.h for the engine's graph
 * layer.  An action is a driver {abort, commit, clean} plus an opaque; a
 * caller does the change, then records how to undo it with tran_add().
 * tran_abort() runs every abort, tran_commit() every commit, each in
 * reverse order of tran_add(), and then every clean (also in reverse
 * order); either frees the transaction.
 * What it is not: a lock or a drain: the engine is single-threaded and a
 * transaction lives within one step.
 */
#ifndef REAL_TRAN_H
#define REAL_TRAN_H

typedef struct TranActionDrv {
    void (*abort)(void *opaque);    /* undo the change (may be NULL) */
    void (*commit)(void *opaque);   /* make it final (may be NULL) */
    void (*clean)(void *opaque);    /* free opaque, after abort or commit (may be NULL) */
} TranActionDrv;

typedef struct Tran Tran;

/* A new, empty transaction (aborts on out-of-memory: a transaction must be
 * able to record every undo step, see tran.c). */
Tran *tran_new(void);
/* Record an action; its abort or commit runs when the transaction ends. */
void tran_add(Tran *tran, const TranActionDrv *drv, void *opaque);
/* Undo everything recorded, newest first, and free the transaction. */
void tran_abort(Tran *tran);
/* Commit everything recorded, newest first, and free the transaction. */
void tran_commit(Tran *tran);

/* tran_abort() when ret < 0, tran_commit() otherwise. */
static inline void tran_finalize(Tran *tran, int ret)
{
    if (ret < 0)
        tran_abort(tran);
    else
        tran_commit(tran);
}

#endif
