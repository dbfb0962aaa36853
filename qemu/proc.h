/*
 * proc.h: a child process with its standard output and error on pipes.
 *
 * What this is: spawn a program (own process group, SIGKILL when we die,
 * stdin /dev/null, cwd given), drain its stdout and stderr into buffers while
 * the caller waits for something else, wait for its exit with a deadline, and
 * kill its process group.  It mirrors what python/qemu/machine
 * (QEMUMachine._launch, _post_shutdown, kill) and iotests' qemu_img()/qemu_io()
 * get from subprocess.Popen.
 * What it is not: a QMP client (qmp.h) or anything that knows about QEMU.
 *
 * Deadlines are CLOCK_MONOTONIC milliseconds (proc_clock_ms()); they only
 * bound waiting and never reach a result.
 */
#ifndef BG_QEMU_PROC_H
#define BG_QEMU_PROC_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bg.h"
#include "error.h"

/* Output kept per buffer; beyond that text is dropped with a marker. */
#define PROC_MAX_OUTPUT (64u << 20)
/* The fd number a passed descriptor gets in the child (ProcSpawnOpts). */
#define PROC_PASS_FD 3

typedef struct Proc {
    pid_t pid;          /* process id, also its process group id */
    bool reaped;        /* waitpid() has collected it; status is valid */
    int status;         /* wait status once reaped */
    int out_fd;         /* read end of its stdout pipe, -1 after EOF */
    int err_fd;         /* read end of its stderr pipe, -1 after EOF */
    BgBuf out;          /* everything read from stdout */
    BgBuf err;          /* everything read from stderr */
    BgBuf log;          /* stdout and stderr interleaved in arrival order */
    bool truncated;     /* some output was dropped (PROC_MAX_OUTPUT) */
} Proc;

typedef struct ProcSpawnOpts {
    const char *cwd;    /* working directory of the child, or NULL */
    int pass_fd;        /* descriptor that becomes PROC_PASS_FD in the child, or -1 */
} ProcSpawnOpts;

typedef enum ProcPumpStatus {
    PROC_PUMP_TIMEOUT,  /* the deadline passed */
    PROC_PUMP_READY,    /* the extra fd is ready */
    PROC_PUMP_EOF,      /* no extra fd, and both pipes are at end of file */
    PROC_PUMP_FAILED,   /* poll() or read() failed; err says why */
} ProcPumpStatus;

int64_t proc_clock_ms(void);
/* Deadline seconds from now. */
int64_t proc_deadline_s(double seconds);

/*
 * Find an executable: a name with a '/' is taken as it is, a bare name is
 * searched on PATH.  Owned absolute-or-given path, or NULL.
 */
char *proc_find_program(const char *name);

/*
 * Start argv[0] (a path, see proc_find_program) with argv.  NULL with err
 * when the program cannot be started (fork, chdir or exec failed).
 */
Proc *proc_spawn(const char *const argv[], const ProcSpawnOpts *opts, BgError *err);

/*
 * Read whatever stdout and stderr have until extra_fd (if >= 0) is ready for
 * extra_events, or the deadline passes.  A deadline in the past polls once
 * without blocking and reads all that is available.
 */
ProcPumpStatus proc_pump(Proc *p, int extra_fd, short extra_events, int64_t deadline_ms,
                         BgError *err);

/* Read both pipes to end of file and reap the process.  False if it is
 * still running (or the pipes still open) at the deadline. */
bool proc_wait(Proc *p, int64_t deadline_ms);

/* SIGKILL the process group (no-op once reaped). */
void proc_kill(Proc *p);

/* "exit status N" / "killed by signal N (NAME)" for a reaped process. */
char *proc_status_text(const Proc *p);
/* Exit status as a shell reports it: N, or 128 + signal. */
int proc_exit_code(const Proc *p);

/* Kill if still running, reap, close the pipes, free. NULL is a no-op. */
void proc_free(Proc *p);

#endif
