/*
 * qmp.h: the QMP commands of the engine's "VM", and HMP qemu-io.
 *
 * What this is: the command table of a running engine VM: blockdev-add,
 * blockdev-reopen (and the seed's x-blockdev-reopen), blockdev-del,
 * query-named-block-nodes, query-block-jobs, query-jobs, object-add,
 * object-del, device_add, block-stream, block-commit, the job verbs, and
 * human-monitor-command with qemu-io (QEMU 7.2 block/monitor/
 * block-hmp-cmds.c hmp_qemu_io(): a node is looked up and a temporary
 * BlockBackend with no permissions (all shared) is put on it for the
 * command; what qemu-io reports goes to the HMP reply with "\r\n" line
 * ends, what it prints goes to the VM's stdout).  Commands the engine does
 * not implement are "unsupported".
 * What it is not: the step semantics (real_backend.c) or QAPI (qapi.h).
 */
#ifndef REAL_QMP_H
#define REAL_QMP_H

#include <jansson.h>

#include "backend.h"
#include "bg.h"
#include "graph.h"

/* The engine's running VM. */
typedef struct RealMachine {
    RealGraph *g;
    bool pc;                 /* machine "pc": devices can be added */
    BgBuf log;               /* everything qemu-io printed (stdout and stderr) */
    BgBuf out;               /* stdout of the current step */
} RealMachine;

RealMachine *real_machine_new(const char *scratch, bool pc);
void real_machine_free(RealMachine *m);

/* Execute QMP command NAME with ARGS (may be NULL) into RES. */
void real_qmp_execute(RealMachine *m, const char *name, json_t *args, BgResult *res);

#endif
