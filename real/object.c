/*
 * object.c: iothread and throttle-group objects (see object.h).
 *
 * Mirrors QEMU 7.2 qom/object_interfaces.c user_creatable_add_type() /
 * user_creatable_del(), qom/object.c object_property_try_add_child()'s
 * duplicate-id text, iothread.c (properties accepted and kept) and
 * block/throttle-groups.c (throttle_group_obj_complete(),
 * throttle_group_can_be_deleted()).
 */
#include "object.h"

#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "messages.h"
#include "qapi.h"
#include "throttle.h"

static struct RealObjects *objs(RealGraph *g)
{
    if (!g->objects)
        g->objects = bg_calloc(1, sizeof(*g->objects));
    return g->objects;
}

static RealObject *find(RealGraph *g, const char *id)
{
    for (RealObject *o = objs(g)->head; o; o = o->next)
        if (!o->deleted && !strcmp(o->id, id))
            return o;
    return NULL;
}

static const QapiMember iothread_members[] = {
    { "qom-type", QAPI_STR, true, NULL }, { "id", QAPI_STR, true, NULL },
    { "poll-max-ns", QAPI_INT, false, NULL }, { "poll-grow", QAPI_INT, false, NULL },
    { "poll-shrink", QAPI_INT, false, NULL }, { "aio-max-batch", QAPI_INT, false, NULL },
    { "thread-pool-min", QAPI_INT, false, NULL }, { "thread-pool-max", QAPI_INT, false, NULL },
    { NULL, 0, false, NULL },
};

bool real_object_add(RealGraph *g, json_t *args, bool *unsupported, BgError *err)
{
    *unsupported = false;
    const char *type = json_string_value(json_object_get(args, "qom-type"));
    if (!type || (strcmp(type, "iothread") && strcmp(type, "throttle-group"))) {
        *unsupported = true;
        return false;
    }
    bool iothread = !strcmp(type, "iothread");
    const char *id = json_string_value(json_object_get(args, "id"));
    RealObject *o;
    if (iothread) {
        if (!real_qapi_check_struct(args, iothread_members, err))
            return false;
        if (find(g, id))
            return bg_error_setf(err, BG_MSG_DUPLICATE_PROPERTY, id, "container");
        o = bg_calloc(1, sizeof(*o));
        o->id = bg_strdup(id);
        o->type = REAL_OBJ_IOTHREAD;
        o->ctx.iothread = o->id;
    } else {
        /* user_creatable_add_type(): the properties set, then the id taken
         * in /objects, then the object completed */
        json_t *props = real_qapi_throttle_group(args, err);
        RealThrottleGroup *tg = props ? real_throttle_group_new(id, props, err) : NULL;
        json_decref(props);
        if (!tg)
            return false;
        if (find(g, id)) {
            real_throttle_group_free(tg);
            return bg_error_setf(err, BG_MSG_DUPLICATE_PROPERTY, id, "container");
        }
        if (!real_throttle_group_complete(tg, err)) {
            real_throttle_group_free(tg);
            return false;
        }
        o = bg_calloc(1, sizeof(*o));
        o->id = bg_strdup(id);
        o->type = REAL_OBJ_THROTTLE_GROUP;
        o->tg = tg;
    }
    RealObject **pp = &objs(g)->head;
    while (*pp)
        pp = &(*pp)->next;
    *pp = o;
    return true;
}

static const QapiMember del_members[] = {
    { "id", QAPI_STR, true, NULL }, { NULL, 0, false, NULL },
};

bool real_object_del(RealGraph *g, json_t *args, BgError *err)
{
    if (!real_qapi_check_struct(args, del_members, err))
        return false;
    const char *id = json_string_value(json_object_get(args, "id"));
    RealObject *o = find(g, id);
    if (!o)
        return bg_error_setf(err, BG_MSG_OBJECT_NOT_FOUND, id);
    if (o->type == REAL_OBJ_THROTTLE_GROUP && o->tg->refcount > 0)
        return bg_error_setf(err, BG_MSG_OBJECT_IN_USE, id);
    if (o->type == REAL_OBJ_IOTHREAD) {
        /* Devices and nodes may still run in its context (QEMU keeps the
         * object alive through their references): only its id goes away. */
        o->deleted = true;
        return true;
    }
    for (RealObject **pp = &objs(g)->head; *pp; pp = &(*pp)->next) {
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    }
    real_throttle_group_free(o->tg);
    free(o->id);
    free(o);
    return true;
}

RealCtx *real_object_iothread(RealGraph *g, const char *id)
{
    RealObject *o = find(g, id);
    return o && o->type == REAL_OBJ_IOTHREAD ? &o->ctx : NULL;
}

RealThrottleGroup *real_object_throttle_group(RealGraph *g, const char *id)
{
    RealObject *o = find(g, id);
    return o && o->type == REAL_OBJ_THROTTLE_GROUP ? o->tg : NULL;
}

void real_objects_free(RealGraph *g)
{
    if (!g->objects)
        return;
    RealObject *o = g->objects->head;
    while (o) {
        RealObject *next = o->next;
        real_throttle_group_free(o->tg);
        free(o->id);
        free(o);
        o = next;
    }
    free(g->objects);
    g->objects = NULL;
}
