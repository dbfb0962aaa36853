/*
 * vm.h: one running qemu-system-x86_64 with a QMP monitor on a socketpair.
 *
 * What this is: python/qemu/machine's QEMUMachine reduced to what the
 * streams need: launch (command line, greeting, qmp_capabilities), cmd(),
 * the event queue of the QMP connection, the VM log (stdout and stderr),
 * shutdown (quit, wait, then kill) and the death of the VM mid-command.
 * QEMU runs under `stdbuf -oL`, so what HMP qemu-io prints on stdout is in
 * the pipe, line by line, before the command's reply is (see
 * ../shared/spec/qemu-7.2-observations.md, "HMP qemu-io").
 * What it is not: step semantics (qemu_backend.c), event matching
 * (events.h).
 */
#ifndef BG_QEMU_VM_H
#define BG_QEMU_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "qmp.h"

/* Seconds QEMU gets to exit after "quit" before it is killed. */
#define VM_QUIT_TIMEOUT_S 10
/* Seconds a VM whose QMP connection closed gets to be reaped. */
#define VM_REAP_TIMEOUT_S 2

typedef struct VmConfig {
    const char *stdbuf;    /* path of stdbuf */
    const char *qemu;      /* path of qemu-system-x86_64 */
    const char *cwd;       /* the scratch directory */
    const char *machine;   /* "none" or "pc" ("pc" adds -S) */
    json_t *args;          /* extra arguments (array of strings, borrowed) or NULL */
    bool verbose;          /* print the command line on stderr */
} VmConfig;

typedef struct Vm Vm;

/*
 * Start QEMU and complete the QMP handshake (BG_START_TIMEOUT_S).  On
 * failure returns NULL with err saying what happened in one line; *log_out
 * (when not NULL) then gets whatever QEMU printed (owned, may be NULL).
 */
Vm *vm_start(const VmConfig *cfg, char **log_out, BgError *err);

/*
 * Run one QMP command (BG_STEP_TIMEOUT_S).  *reply as qmp_execute().
 * False when the VM failed: it died (the exit status and its last line of
 * stderr are in err) or did not answer in time; the VM is then dead
 * (vm_alive() false), killed if need be.
 */
bool vm_execute(Vm *vm, const char *name, json_t *args, json_t **reply, BgError *err);

/*
 * Wait until a new event is queued.  *timed_out distinguishes the deadline
 * (true, err untouched) from the death of the VM (false, err set).
 */
bool vm_wait_event(Vm *vm, int64_t deadline_ms, bool *timed_out, BgError *err);

/* Events received and not yet taken, oldest first (owned), or NULL. */
json_t *vm_take_events(Vm *vm);

/* What QEMU wrote on stdout since the last call (owned), or NULL when
 * nothing.  Reads what the pipe has first, without waiting. */
char *vm_take_stdout(Vm *vm);

/* The whole log so far: stdout and stderr as they arrived (borrowed). */
const char *vm_log(Vm *vm);

/*
 * "quit", then wait for the connection to close and QEMU to exit
 * (VM_QUIT_TIMEOUT_S), killing it after that.  Events that arrive meanwhile
 * (SHUTDOWN) stay queued.  Afterwards the VM is dead either way; false when
 * it had already died, did not answer, or exited with a failure status or
 * a signal we did not send (err says which).
 */
bool vm_quit(Vm *vm, BgError *err);

bool vm_alive(const Vm *vm);
/* Process id of QEMU (for tests), or -1 once it is gone. */
pid_t vm_pid(const Vm *vm);

/* Kill if still running, reap, free. NULL is a no-op. */
void vm_free(Vm *vm);

#endif
