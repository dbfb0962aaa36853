/*
 * vm.c: launch, command, wait and quit one QEMU over QMP.
 *
 * What this is: python/qemu/machine/machine.py (QEMU 7.2) QEMUMachine's
 * launch()/_post_launch() (greeting, qmp_capabilities), cmd(), shutdown()
 * (quit, wait, hard kill after a timeout) and the "QEMU died" path of its
 * _post_shutdown(), with the monitor on a socketpair instead of a listening
 * UNIX socket: `-chardev socket,id=qmp,fd=3 -mon chardev=qmp,mode=control`.
 * While the client waits on the socket, the VM's stdout and stderr pipes are
 * drained into its log, so QEMU never blocks on a full pipe.
 * What it is not: step semantics or event matching.
 */
#include "vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bg.h"
#include "proc.h"

struct Vm {
    Proc *proc;         /* stdbuf, which execs qemu-system-x86_64 (same pid) */
    Qmp *qmp;           /* the monitor connection */
    size_t out_mark;    /* stdout bytes already handed out by vm_take_stdout() */
    bool dead;          /* the connection closed or QEMU was killed */
    bool killed;        /* we sent SIGKILL (timeout, failure, vm_free) */
};

static int vm_wait_fn(void *opaque, int fd, short events, int64_t deadline_ms, BgError *err)
{
    Vm *vm = opaque;
    switch (proc_pump(vm->proc, fd, events, deadline_ms, err)) {
    case PROC_PUMP_READY:
        return 1;
    case PROC_PUMP_TIMEOUT:
        return 0;
    default:
        return -1;
    }
}

/* The last non-empty line of what QEMU wrote on stderr (owned) or NULL. */
static char *last_stderr_line(const Proc *p)
{
    const char *s = p->err.data;
    if (!s)
        return NULL;
    size_t end = p->err.len;
    while (end && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start && s[start - 1] != '\n')
        start--;
    return end > start ? bg_strndup(s + start, end - start) : NULL;
}

/* Make sure QEMU is gone and reaped; it may have exited by itself. */
static void finish(Vm *vm, double grace_s)
{
    if (!proc_wait(vm->proc, proc_deadline_s(grace_s))) {
        vm->killed = !vm->proc->reaped;
        proc_kill(vm->proc);
        proc_wait(vm->proc, proc_deadline_s(VM_REAP_TIMEOUT_S));
    }
    vm->dead = true;
}

/* The VM failed while doing `what`: kill it if needed and say why in err. */
static void fail(Vm *vm, QmpStatus s, const char *what, const BgError *detail, BgError *err)
{
    bool closed = s == QMP_CLOSED;
    finish(vm, closed ? VM_REAP_TIMEOUT_S : 0);
    char *line = last_stderr_line(vm->proc);
    char *status = proc_status_text(vm->proc);
    if (closed)
        bg_error_setf(err, "QEMU died %s: %s%s%s", what, status, line ? "; stderr: " : "",
                      line ? line : "");
    else if (s == QMP_TIMEOUT)
        bg_error_setf(err, "QEMU did not answer %s (killed)", what);
    else
        bg_error_setf(err, "QEMU failed %s: %s (killed)", what, detail->text);
    free(status);
    free(line);
}

Vm *vm_start(const VmConfig *cfg, char **log_out, BgError *err)
{
    if (log_out)
        *log_out = NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        bg_error_setf(err, "cannot create the QMP socket pair: %s", strerror(errno));
        return NULL;
    }
    size_t nargs = json_array_size(cfg->args);
    const char **argv = bg_calloc(16 + nargs, sizeof(*argv));
    size_t n = 0;
    argv[n++] = cfg->stdbuf;
    argv[n++] = "-oL";
    argv[n++] = cfg->qemu;
    argv[n++] = "-nodefaults";
    argv[n++] = "-display";
    argv[n++] = "none";
    argv[n++] = "-machine";
    argv[n++] = cfg->machine;
    if (strcmp(cfg->machine, "pc") == 0)
        argv[n++] = "-S";
    argv[n++] = "-chardev";
    argv[n++] = "socket,id=qmp,fd=3";   /* PROC_PASS_FD */
    argv[n++] = "-mon";
    argv[n++] = "chardev=qmp,mode=control";
    for (size_t i = 0; i < nargs; i++) {
        const char *a = json_string_value(json_array_get(cfg->args, i));
        if (a)
            argv[n++] = a;
    }
    argv[n] = NULL;
    if (cfg->verbose) {
        fputs("qemu:", stderr);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %s", argv[i]);
        fputc('\n', stderr);
    }
    ProcSpawnOpts opts = { .cwd = cfg->cwd, .pass_fd = sv[1] };
    Proc *proc = proc_spawn(argv, &opts, err);
    free(argv);
    close(sv[1]);
    if (!proc) {
        close(sv[0]);
        return NULL;
    }
    Vm *vm = bg_calloc(1, sizeof(*vm));
    vm->proc = proc;
    vm->qmp = qmp_new(sv[0], vm_wait_fn, vm);
    BgError local = { 0 };
    QmpStatus s = qmp_handshake(vm->qmp, proc_deadline_s(BG_START_TIMEOUT_S), &local);
    if (s != QMP_OK) {
        char *what = s == QMP_TIMEOUT
                         ? bg_asprintf("with its QMP greeting within %d s", BG_START_TIMEOUT_S)
                         : bg_strdup("during start-up");
        fail(vm, s, what, &local, err);
        free(what);
        if (log_out)
            *log_out = bg_strdup(vm_log(vm));
        vm_free(vm);
        return NULL;
    }
    return vm;
}

bool vm_execute(Vm *vm, const char *name, json_t *args, json_t **reply, BgError *err)
{
    *reply = NULL;
    if (vm->dead)
        return bg_error_setf(err, "QEMU is not running");
    BgError local = { 0 };
    QmpStatus s = qmp_execute(vm->qmp, name, args, proc_deadline_s(BG_STEP_TIMEOUT_S), reply,
                              &local);
    if (s == QMP_OK)
        return true;
    char *what = s == QMP_TIMEOUT
                     ? bg_asprintf("'%s' within %d s", name, BG_STEP_TIMEOUT_S)
                     : bg_asprintf("while running '%s'", name);
    fail(vm, s, what, &local, err);
    free(what);
    return false;
}

bool vm_wait_event(Vm *vm, int64_t deadline_ms, bool *timed_out, BgError *err)
{
    *timed_out = false;
    if (vm->dead)
        return bg_error_setf(err, "QEMU is not running");
    BgError local = { 0 };
    QmpStatus s = qmp_wait_event(vm->qmp, deadline_ms, &local);
    if (s == QMP_OK)
        return true;
    if (s == QMP_TIMEOUT) {
        *timed_out = true;
        return false;
    }
    fail(vm, s, "while waiting for an event", &local, err);
    return false;
}

json_t *vm_take_events(Vm *vm)
{
    BgError ignore = { 0 };
    qmp_poll(vm->qmp, &ignore);
    return qmp_take_events(vm->qmp);
}

char *vm_take_stdout(Vm *vm)
{
    BgError ignore = { 0 };
    proc_pump(vm->proc, -1, 0, 0, &ignore);
    const BgBuf *out = &vm->proc->out;
    if (out->len <= vm->out_mark)
        return NULL;
    char *s = bg_strndup(out->data + vm->out_mark, out->len - vm->out_mark);
    vm->out_mark = out->len;
    return s;
}

const char *vm_log(Vm *vm)
{
    BgError ignore = { 0 };
    proc_pump(vm->proc, -1, 0, 0, &ignore);
    return vm->proc->log.data ? vm->proc->log.data : "";
}

/* Wait for the exit that "quit" asked for; kill after VM_QUIT_TIMEOUT_S. */
static void reap_after_quit(Vm *vm)
{
    BgError ignore = { 0 };
    int64_t deadline = proc_deadline_s(VM_QUIT_TIMEOUT_S);
    qmp_wait_closed(vm->qmp, deadline, &ignore);
    double left = (double)(deadline - proc_clock_ms()) / 1000.0;
    finish(vm, left > 0 ? left : 0);
    qmp_poll(vm->qmp, &ignore);   /* events still in the socket buffer */
}

bool vm_quit(Vm *vm, BgError *err)
{
    if (vm->dead)
        return bg_error_setf(err, "QEMU is not running");
    json_t *reply = NULL;
    BgError local = { 0 };
    QmpStatus s = qmp_execute(vm->qmp, "quit", NULL, proc_deadline_s(BG_STEP_TIMEOUT_S), &reply,
                              &local);
    json_decref(reply);
    /* QEMU may close the connection before its reply is out, as
     * python/qemu/machine's _soft_shutdown() allows for. */
    if (s != QMP_OK && s != QMP_CLOSED) {
        fail(vm, s, "'quit' in time", &local, err);
        return false;
    }
    reap_after_quit(vm);
    const Proc *p = vm->proc;
    if (!vm->killed && proc_exit_code(p) != 0) {
        char *line = last_stderr_line(p);
        char *status = proc_status_text(p);
        bg_error_setf(err, "QEMU died while quitting: %s%s%s", status,
                      line ? "; stderr: " : "", line ? line : "");
        free(status);
        free(line);
        return false;
    }
    return true;
}

bool vm_alive(const Vm *vm)
{
    return vm && !vm->dead;
}

pid_t vm_pid(const Vm *vm)
{
    return vm && !vm->proc->reaped ? vm->proc->pid : -1;
}

void vm_free(Vm *vm)
{
    if (!vm)
        return;
    qmp_free(vm->qmp);
    proc_free(vm->proc);
    free(vm);
}
