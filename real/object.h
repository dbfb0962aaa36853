/*
 * object.h: user-creatable QOM objects the block layer uses: iothreads
 * and throttle groups (object-add, object-del).
 *
 * What this is: QEMU 7.2 qom/object_interfaces.c user_creatable_add_type()
 * and user_creatable_del() ("object 'ID' not found", "object 'ID' is in
 * use, can not be deleted" when a throttle group still has members:
 * throttle_group_can_be_deleted()), the duplicate-id error of
 * object_property_try_add_child(), iothread/iothread.c (an AioContext per
 * iothread) and the throttle-group object of block/throttle-groups.c
 * (limits, reference counting by members).
 * What it is not: the token buckets (throttle.h).
 */
#ifndef REAL_OBJECT_H
#define REAL_OBJECT_H

#include <jansson.h>

#include "aio.h"
#include "graph.h"

#include "throttle.h"

typedef enum RealObjectType { REAL_OBJ_IOTHREAD, REAL_OBJ_THROTTLE_GROUP } RealObjectType;

typedef struct RealObject {
    RealObjectType type;
    char *id;
    RealCtx ctx;                 /* REAL_OBJ_IOTHREAD: its AioContext */
    RealThrottleGroup *tg;       /* REAL_OBJ_THROTTLE_GROUP */
    bool deleted;                /* object-del'd iothread still referenced by users */
    struct RealObject *next;
} RealObject;

struct RealObjects {
    RealObject *head;            /* in creation order */
};

/* object-add: qom-type iothread or throttle-group.  *unsupported for other types. */
bool real_object_add(RealGraph *g, json_t *args, bool *unsupported, BgError *err);
/* object-del */
bool real_object_del(RealGraph *g, json_t *args, BgError *err);
/* The iothread with this id (its context), or NULL. */
RealCtx *real_object_iothread(RealGraph *g, const char *id);
/* The throttle group with this id, or NULL. */
RealThrottleGroup *real_object_throttle_group(RealGraph *g, const char *id);
void real_objects_free(RealGraph *g);

#endif
