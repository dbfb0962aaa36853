/*
 * qmp.h: a QMP client on a connected stream socket.
 *
 * What this is: the wire protocol of QEMU's QMP monitor as
 * python/qemu/qmp (QEMUMonitorProtocol, legacy.py in QEMU 7.2) speaks it:
 * read the greeting, negotiate with qmp_capabilities, send one command and
 * read its reply, queueing every event that arrives meanwhile.  Each message
 * QEMU sends is one JSON object on one line (monitor/qmp.c
 * qmp_send_response()).  Events are kept as {"event": NAME, "data": {...}}:
 * the timestamp is dropped (iotests' filter_qmp_event() replaces it anyway),
 * and "data" is {} when QEMU sent none.
 * What it is not: process management (proc.h) or event matching (events.h).
 *
 * Waiting goes through a QmpWaitFn, so that the caller can keep draining the
 * VM's stdout and stderr while the client waits on the socket.
 */
#ifndef BG_QEMU_QMP_H
#define BG_QEMU_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Largest message accepted from QEMU (query-named-block-nodes of a big graph). */
#define QMP_MAX_MESSAGE (64u << 20)

typedef enum QmpStatus {
    QMP_OK,
    QMP_TIMEOUT,   /* nothing (or not enough) came before the deadline */
    QMP_CLOSED,    /* QEMU closed the connection: it exited or crashed */
    QMP_BROKEN,    /* a protocol or system error; err says which */
} QmpStatus;

/*
 * Wait until fd is ready for events (POLLIN or POLLOUT) or the deadline
 * passes.  Returns 1 when ready, 0 on timeout, -1 on failure (err set).
 */
typedef int QmpWaitFn(void *opaque, int fd, short events, int64_t deadline_ms, BgError *err);

typedef struct Qmp Qmp;

/* Takes ownership of fd (made non-blocking).  wait may be NULL: plain poll(). */
Qmp *qmp_new(int fd, QmpWaitFn *wait, void *opaque);
void qmp_free(Qmp *q);

/* Greeting ({"QMP": ...}) and qmp_capabilities. */
QmpStatus qmp_handshake(Qmp *q, int64_t deadline_ms, BgError *err);

/*
 * Send {"execute": name, "arguments": args, "id": N} (args borrowed, may be
 * NULL) and wait for the reply with that id.  *reply is the whole reply
 * object, {"return": ...} or {"error": {...}} (owned).  Any status but
 * QMP_OK sets err.
 */
QmpStatus qmp_execute(Qmp *q, const char *name, json_t *args, int64_t deadline_ms,
                      json_t **reply, BgError *err);

/* Wait until at least one event not yet taken is queued.  Any status but
 * QMP_OK sets err. */
QmpStatus qmp_wait_event(Qmp *q, int64_t deadline_ms, BgError *err);

/* Read whatever has arrived without waiting (events are queued). */
QmpStatus qmp_poll(Qmp *q, BgError *err);

/* Read until QEMU closes the connection (after "quit"), queueing events.
 * QMP_OK once closed; a timeout or failure sets err. */
QmpStatus qmp_wait_closed(Qmp *q, int64_t deadline_ms, BgError *err);

/* The events received and not yet taken, oldest first (owned), or NULL. */
json_t *qmp_take_events(Qmp *q);

#endif
