/*
 * qmp.c: QMP client (greeting, capabilities, command/reply, event queue).
 *
 * What this is: the C counterpart of python/qemu/qmp's QEMUMonitorProtocol
 * as QEMU 7.2's iotests use it through python/qemu/machine: cmd() sends one
 * command and returns its reply; events that arrive before the reply are
 * queued for pull_event()/get_events().  Replies are matched by an "id" we
 * choose (a counter, deterministic); QMP echoes it back (qmp-spec.txt 2.4).
 * What it is not: the event matcher (events.h) or the VM (vm.h).
 *
 * Each message QEMU writes is one JSON text followed by "\n"
 * (monitor/qmp.c qmp_send_response()), so input is split on newlines.
 */
#include "qmp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"

struct Qmp {
    int fd;                 /* our end of the socket */
    QmpWaitFn *wait;        /* how to wait on fd (drains the VM's pipes) */
    void *opaque;           /* for wait */
    BgBuf in;               /* received bytes not yet parsed */
    size_t in_off;          /* start of the unparsed part of in */
    json_t *events;         /* events received, not yet taken (array) */
    bool closed;            /* end of file seen */
    json_int_t next_id;     /* id of the next command */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int plain_wait(void *opaque, int fd, short events, int64_t deadline_ms, BgError *err)
{
    (void)opaque;
    for (;;) {
        int64_t left = deadline_ms - now_ms();
        struct pollfd pfd = { .fd = fd, .events = events };
        int r = poll(&pfd, 1, left <= 0 ? 0 : left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return 1;
        if (r == 0 && left <= 60000)
            return 0;
        if (r < 0 && errno != EINTR) {
            bg_error_setf(err, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

Qmp *qmp_new(int fd, QmpWaitFn *wait, void *opaque)
{
    Qmp *q = bg_calloc(1, sizeof(*q));
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    q->fd = fd;
    q->wait = wait ? wait : plain_wait;
    q->opaque = opaque;
    q->events = json_array();
    q->next_id = 1;
    return q;
}

void qmp_free(Qmp *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    bg_buf_cleanup(&q->in);
    json_decref(q->events);
    free(q);
}

json_t *qmp_take_events(Qmp *q)
{
    if (json_array_size(q->events) == 0)
        return NULL;
    json_t *evs = q->events;
    q->events = json_array();
    return evs;
}

/* {"event", "data", "timestamp"} -> {"event", "data"} (data {} if absent). */
static void queue_event(Qmp *q, json_t *msg)
{
    json_t *data = json_object_get(msg, "data");
    json_t *ev = json_object();
    json_object_set(ev, "event", json_object_get(msg, "event"));
    json_object_set_new(ev, "data", data ? json_deep_copy(data) : json_object());
    json_array_append_new(q->events, ev);
}

/* Drop consumed input once it is more than half the buffer. */
static void compact(Qmp *q)
{
    if (q->in_off == 0 || q->in_off * 2 < q->in.len)
        return;
    memmove(q->in.data, q->in.data + q->in_off, q->in.len - q->in_off + 1);
    q->in.len -= q->in_off;
    q->in_off = 0;
}

/*
 * Next complete message from the buffer, or NULL when there is none yet.
 * A line that is not a JSON object is QMP_BROKEN.
 */
static QmpStatus next_buffered(Qmp *q, json_t **msg, BgError *err)
{
    *msg = NULL;
    for (;;) {
        if (q->in_off >= q->in.len)
            return QMP_OK;
        char *start = q->in.data + q->in_off;
        char *nl = memchr(start, '\n', q->in.len - q->in_off);
        if (!nl)
            return QMP_OK;
        size_t n = (size_t)(nl - start);
        q->in_off += n + 1;
        while (n && (start[n - 1] == '\r' || start[n - 1] == ' '))
            n--;
        if (n == 0)
            continue;
        json_error_t jerr;
        json_t *m = json_loadb(start, n, 0, &jerr);
        if (!m || !json_is_object(m)) {
            json_decref(m);
            bg_error_setf(err, "QMP: cannot parse a message from QEMU: %s",
                          m ? "not an object" : jerr.text);
            return QMP_BROKEN;
        }
        *msg = m;
        compact(q);
        return QMP_OK;
    }
}

/* Receive what the socket has; waits (through q->wait) until the deadline. */
static QmpStatus fill(Qmp *q, int64_t deadline_ms, BgError *err)
{
    if (q->closed) {
        bg_error_setf(err, "QMP connection closed");
        return QMP_CLOSED;
    }
    int r = q->wait(q->opaque, q->fd, POLLIN, deadline_ms, err);
    if (r < 0)
        return QMP_BROKEN;
    if (r == 0) {
        bg_error_setf(err, "QMP: timed out");
        return QMP_TIMEOUT;
    }
    char buf[65536];
    for (;;) {
        ssize_t n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            if (q->in.len - q->in_off + (size_t)n > QMP_MAX_MESSAGE) {
                bg_error_setf(err, "QMP: a message from QEMU exceeds %u bytes", QMP_MAX_MESSAGE);
                return QMP_BROKEN;
            }
            bg_buf_append(&q->in, buf, (size_t)n);
            if ((size_t)n < sizeof(buf))
                return QMP_OK;
            continue;
        }
        if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
            q->closed = true;
            bg_error_setf(err, "QMP connection closed");
            return QMP_CLOSED;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return QMP_OK;
        bg_error_setf(err, "QMP: recv: %s", strerror(errno));
        return QMP_BROKEN;
    }
}

/* Next message that is not an event (events are queued), waiting as needed. */
static QmpStatus read_reply(Qmp *q, int64_t deadline_ms, json_t **msg, BgError *err)
{
    for (;;) {
        json_t *m;
        QmpStatus s = next_buffered(q, &m, err);
        if (s != QMP_OK)
            return s;
        if (m && json_is_string(json_object_get(m, "event"))) {
            queue_event(q, m);
            json_decref(m);
            continue;
        }
        if (m) {
            *msg = m;
            return QMP_OK;
        }
        s = fill(q, deadline_ms, err);
        if (s != QMP_OK)
            return s;
    }
}

static QmpStatus send_all(Qmp *q, const char *s, size_t len, int64_t deadline_ms, BgError *err)
{
    while (len) {
        ssize_t n = send(q->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            s += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = q->wait(q->opaque, q->fd, POLLOUT, deadline_ms, err);
            if (r < 0)
                return QMP_BROKEN;
            if (r == 0) {
                bg_error_setf(err, "QMP: timed out sending a command");
                return QMP_TIMEOUT;
            }
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            q->closed = true;
            bg_error_setf(err, "QMP connection closed");
            return QMP_CLOSED;
        }
        bg_error_setf(err, "QMP: send: %s", n < 0 ? strerror(errno) : "no progress");
        return QMP_BROKEN;
    }
    return QMP_OK;
}

QmpStatus qmp_handshake(Qmp *q, int64_t deadline_ms, BgError *err)
{
    json_t *greeting = NULL;
    QmpStatus s = read_reply(q, deadline_ms, &greeting, err);
    if (s != QMP_OK)
        return s;
    bool ok = json_is_object(json_object_get(greeting, "QMP"));
    json_decref(greeting);
    if (!ok) {
        bg_error_setf(err, "QMP: the first message is not a greeting");
        return QMP_BROKEN;
    }
    json_t *reply = NULL;
    s = qmp_execute(q, "qmp_capabilities", NULL, deadline_ms, &reply, err);
    if (s != QMP_OK)
        return s;
    ok = json_object_get(reply, "return") != NULL;
    json_decref(reply);
    if (!ok) {
        bg_error_setf(err, "QMP: qmp_capabilities failed");
        return QMP_BROKEN;
    }
    return QMP_OK;
}

QmpStatus qmp_execute(Qmp *q, const char *name, json_t *args, int64_t deadline_ms,
                      json_t **reply, BgError *err)
{
    *reply = NULL;
    json_int_t id = q->next_id++;
    json_t *msg = json_pack("{s:s, s:I}", "execute", name, "id", id);
    if (args)
        json_object_set(msg, "arguments", args);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text) {
        bg_error_setf(err, "QMP: cannot encode the arguments of %s", name);
        return QMP_BROKEN;
    }
    size_t len = strlen(text);
    text = bg_realloc(text, len + 2);
    text[len++] = '\n';
    text[len] = '\0';
    QmpStatus s = send_all(q, text, len, deadline_ms, err);
    free(text);
    if (s != QMP_OK)
        return s;
    for (;;) {
        json_t *m = NULL;
        s = read_reply(q, deadline_ms, &m, err);
        if (s != QMP_OK)
            return s;
        json_t *mid = json_object_get(m, "id");
        if (json_is_integer(mid) && json_integer_value(mid) == id &&
            (json_object_get(m, "return") || json_is_object(json_object_get(m, "error")))) {
            *reply = m;
            return QMP_OK;
        }
        /* A reply to nothing we are waiting for (cannot happen without OOB). */
        json_decref(m);
        bg_error_setf(err, "QMP: unexpected message while waiting for the reply to %s", name);
        return QMP_BROKEN;
    }
}

/* Queue every complete buffered message that is an event; drop the rest. */
static QmpStatus parse_all(Qmp *q, BgError *err)
{
    for (;;) {
        json_t *m = NULL;
        QmpStatus s = next_buffered(q, &m, err);
        if (s != QMP_OK || !m)
            return s;
        if (json_is_string(json_object_get(m, "event")))
            queue_event(q, m);
        json_decref(m);   /* a stray reply: nothing waits for it */
    }
}

QmpStatus qmp_poll(Qmp *q, BgError *err)
{
    for (;;) {
        QmpStatus s = parse_all(q, err);
        if (s != QMP_OK || q->closed)
            return s;
        BgError local = { 0 };
        s = fill(q, 0, &local);
        if (s == QMP_TIMEOUT || s == QMP_CLOSED)
            return parse_all(q, err);   /* a close is reported by the next command */
        if (s != QMP_OK) {
            bg_error_setf(err, "%s", local.text);
            return s;
        }
    }
}

QmpStatus qmp_wait_closed(Qmp *q, int64_t deadline_ms, BgError *err)
{
    for (;;) {
        QmpStatus s = parse_all(q, err);
        if (s != QMP_OK)
            return s;
        if (q->closed)
            return QMP_OK;
        s = fill(q, deadline_ms, err);
        if (s != QMP_OK && s != QMP_CLOSED)
            return s;
    }
}

QmpStatus qmp_wait_event(Qmp *q, int64_t deadline_ms, BgError *err)
{
    for (;;) {
        if (json_array_size(q->events) > 0)
            return QMP_OK;
        QmpStatus s = parse_all(q, err);
        if (s != QMP_OK)
            return s;
        if (json_array_size(q->events) > 0)
            return QMP_OK;
        s = fill(q, deadline_ms, err);
        if (s != QMP_OK)
            return s;
    }
}
