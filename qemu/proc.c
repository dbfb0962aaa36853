/*
 * proc.c: spawn a child with piped stdout/stderr, drain, wait, kill.
 *
 * What this is: the process plumbing under the qemu backend, the C version
 * of what python/qemu/machine's QEMUMachine gets from subprocess.Popen
 * (stdin /dev/null, output captured, wait with a timeout, then kill).  The
 * child runs in its own process group with PR_SET_PDEATHSIG = SIGKILL, so
 * nothing outlives the tool even when the tool itself is killed.
 * What it is not: it knows nothing of QMP or QEMU.
 *
 * The child side of fork() only makes async-signal-safe calls.  Exec
 * failures come back through a close-on-exec status pipe (the classic
 * "exec or report errno" trick), so a missing program is an error here and
 * not a mysterious exit status 127 later.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int64_t proc_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t proc_deadline_s(double seconds)
{
    return proc_clock_ms() + (int64_t)(seconds * 1000.0);
}

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *proc_find_program(const char *name)
{
    if (!name || !*name)
        return NULL;
    if (strchr(name, '/'))
        return is_executable(name) ? bg_strdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char *cand = n ? bg_asprintf("%.*s/%s", (int)n, p, name) : bg_asprintf("./%s", name);
        if (is_executable(cand))
            return cand;
        free(cand);
        if (!colon)
            return NULL;
        p = colon + 1;
    }
}

/* ---- child side (async-signal-safe calls only) ---------------------------- */

enum { STAGE_CHDIR = 1, STAGE_EXEC = 2, STAGE_SETUP = 3 };

static void child_fail(int status_fd, int stage)
{
    int msg[2] = { stage, errno };
    ssize_t r = write(status_fd, msg, sizeof(msg));
    (void)r;
    _exit(127);
}

/* Move fd to a number >= 10 so that the dup2()s below cannot clobber it. */
static int child_lift(int fd, int status_fd)
{
    int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    if (n < 0)
        child_fail(status_fd, STAGE_SETUP);
    return n;
}

static void child_run(const char *const argv[], const ProcSpawnOpts *opts, pid_t parent,
                      int null_fd, int out_w, int err_w, int status_fd)
{
    setpgid(0, 0);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(127);
    /* Ignored signals and the mask survive exec: give the program defaults. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);

    int st = child_lift(status_fd, status_fd);
    int in = child_lift(null_fd, st);
    int out = child_lift(out_w, st);
    int errfd = child_lift(err_w, st);
    int pass = opts->pass_fd >= 0 ? child_lift(opts->pass_fd, st) : -1;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        child_fail(st, STAGE_SETUP);
    if (pass >= 0 && dup2(pass, PROC_PASS_FD) < 0)
        child_fail(st, STAGE_SETUP);
    /* The status pipe sits just above the fds the program gets. */
    int keep = pass >= 0 ? PROC_PASS_FD + 1 : 3;
    if (dup2(st, keep) < 0 || fcntl(keep, F_SETFD, FD_CLOEXEC) < 0)
        child_fail(st, STAGE_SETUP);
    st = keep;
    close_range((unsigned)keep + 1, ~0u, 0);
    if (opts->cwd && chdir(opts->cwd) < 0)
        child_fail(st, STAGE_CHDIR);
    execve(argv[0], (char *const *)argv, environ);
    child_fail(st, STAGE_EXEC);
}

/* ---- parent side ---------------------------------------------------------- */

static bool set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

Proc *proc_spawn(const char *const argv[], const ProcSpawnOpts *opts, BgError *err)
{
    static const ProcSpawnOpts defaults = { .cwd = NULL, .pass_fd = -1 };
    if (!opts)
        opts = &defaults;
    int out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 }, st_p[2] = { -1, -1 };
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) {
        bg_error_setf(err, "cannot open /dev/null: %s", strerror(errno));
        return NULL;
    }
    if (pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0 || pipe2(st_p, O_CLOEXEC) < 0) {
        bg_error_setf(err, "cannot create pipes for %s: %s", argv[0], strerror(errno));
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        bg_error_setf(err, "cannot fork for %s: %s", argv[0], strerror(errno));
        goto fail;
    }
    if (pid == 0)
        child_run(argv, opts, parent, null_fd, out_p[1], err_p[1], st_p[1]);

    setpgid(pid, pid);   /* also done by the child; whichever runs first wins */
    close_fd(&null_fd);
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    close_fd(&st_p[1]);

    int msg[2];
    ssize_t n;
    do {
        n = read(st_p[0], msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    close_fd(&st_p[0]);
    if (n > 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (n == (ssize_t)sizeof(msg) && msg[0] == STAGE_CHDIR)
            bg_error_setf(err, "cannot start %s: cannot enter %s: %s", argv[0],
                          opts->cwd, strerror(msg[1]));
        else if (n == (ssize_t)sizeof(msg))
            bg_error_setf(err, "cannot start %s: %s", argv[0], strerror(msg[1]));
        else
            bg_error_setf(err, "cannot start %s", argv[0]);
        close_fd(&out_p[0]);
        close_fd(&err_p[0]);
        return NULL;
    }
    set_nonblock(out_p[0]);
    set_nonblock(err_p[0]);

    Proc *p = bg_calloc(1, sizeof(*p));
    p->pid = pid;
    p->out_fd = out_p[0];
    p->err_fd = err_p[0];
    return p;

fail:
    close_fd(&null_fd);
    for (int i = 0; i < 2; i++) {
        close_fd(&out_p[i]);
        close_fd(&err_p[i]);
        close_fd(&st_p[i]);
    }
    return NULL;
}

static void keep(Proc *p, BgBuf *b, const char *s, size_t n)
{
    if (b->len + n > PROC_MAX_OUTPUT) {
        if (!p->truncated)
            bg_buf_puts(&p->log, "\n[output truncated]\n");
        p->truncated = true;
        return;
    }
    bg_buf_append(b, s, n);
}

/* Read what fd has now; closes it at end of file.  False on a read error. */
static bool drain(Proc *p, int *fd, BgBuf *dst, BgError *err)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            keep(p, dst, buf, (size_t)n);
            keep(p, &p->log, buf, (size_t)n);
            continue;
        }
        if (n == 0) {
            close_fd(fd);
            return true;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return true;
        bg_error_setf(err, "cannot read the output of a child process: %s", strerror(errno));
        close_fd(fd);
        return false;
    }
}

ProcPumpStatus proc_pump(Proc *p, int extra_fd, short extra_events, int64_t deadline_ms,
                         BgError *err)
{
    for (;;) {
        struct pollfd fds[3];
        int nfds = 0, i_out = -1, i_err = -1, i_extra = -1;
        if (p->out_fd >= 0) {
            i_out = nfds;
            fds[nfds++] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
        }
        if (p->err_fd >= 0) {
            i_err = nfds;
            fds[nfds++] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
        }
        if (extra_fd >= 0) {
            i_extra = nfds;
            fds[nfds++] = (struct pollfd){ .fd = extra_fd, .events = extra_events };
        }
        if (nfds == 0)
            return PROC_PUMP_EOF;
        int64_t left = deadline_ms - proc_clock_ms();
        int timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
        int r = poll(fds, (nfds_t)nfds, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            bg_error_setf(err, "poll: %s", strerror(errno));
            return PROC_PUMP_FAILED;
        }
        if (r == 0) {
            if (left <= 60000)
                return PROC_PUMP_TIMEOUT;
            continue;
        }
        if (i_out >= 0 && fds[i_out].revents && !drain(p, &p->out_fd, &p->out, err))
            return PROC_PUMP_FAILED;
        if (i_err >= 0 && fds[i_err].revents && !drain(p, &p->err_fd, &p->err, err))
            return PROC_PUMP_FAILED;
        if (i_extra >= 0 && fds[i_extra].revents)
            return PROC_PUMP_READY;
        if (extra_fd < 0 && p->out_fd < 0 && p->err_fd < 0)
            return PROC_PUMP_EOF;
    }
}

static bool try_reap(Proc *p)
{
    if (p->reaped)
        return true;
    for (;;) {
        pid_t r = waitpid(p->pid, &p->status, WNOHANG);
        if (r == p->pid) {
            p->reaped = true;
            return true;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ECHILD) {   /* someone else reaped it: treat as killed */
            p->status = SIGKILL;
            p->reaped = true;
            return true;
        }
        return false;
    }
}

bool proc_wait(Proc *p, int64_t deadline_ms)
{
    BgError ignore = { 0 };
    for (;;) {
        ProcPumpStatus s = proc_pump(p, -1, 0, deadline_ms, &ignore);
        if (s == PROC_PUMP_EOF)
            break;
        if (s == PROC_PUMP_TIMEOUT)
            return try_reap(p) && p->out_fd < 0 && p->err_fd < 0;
        /* PROC_PUMP_FAILED: drain() closed that pipe; go on with the other. */
    }
    /* Both pipes closed: the exit follows at once; poll for it briefly. */
    for (;;) {
        if (try_reap(p))
            return true;
        if (proc_clock_ms() >= deadline_ms)
            return false;
        struct timespec ts = { 0, 1000000 };   /* 1 ms */
        nanosleep(&ts, NULL);
    }
}

void proc_kill(Proc *p)
{
    if (p && !p->reaped)
        kill(-p->pid, SIGKILL);
}

char *proc_status_text(const Proc *p)
{
    if (!p->reaped)
        return bg_strdup("still running");
    if (WIFEXITED(p->status))
        return bg_asprintf("exit status %d", WEXITSTATUS(p->status));
    if (WIFSIGNALED(p->status)) {
        int sig = WTERMSIG(p->status);
        const char *name = sigabbrev_np(sig);
        return name ? bg_asprintf("killed by signal %d (SIG%s)", sig, name)
                    : bg_asprintf("killed by signal %d", sig);
    }
    return bg_asprintf("wait status %d", p->status);
}

int proc_exit_code(const Proc *p)
{
    if (!p->reaped)
        return -1;
    if (WIFEXITED(p->status))
        return WEXITSTATUS(p->status);
    if (WIFSIGNALED(p->status))
        return 128 + WTERMSIG(p->status);
    return -1;
}

void proc_free(Proc *p)
{
    if (!p)
        return;
    if (!p->reaped) {
        proc_kill(p);
        close_fd(&p->out_fd);
        close_fd(&p->err_fd);
        while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR) {
        }
        p->reaped = true;
    }
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    bg_buf_cleanup(&p->out);
    bg_buf_cleanup(&p->err);
    bg_buf_cleanup(&p->log);
    free(p);
}
