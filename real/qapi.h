/*
 * qapi.h: QAPI input validation of command arguments, with QEMU's texts
 * and precedence, and the output-visitor form of BlockdevOptions.
 *
 * What this is: what QEMU 7.2's generated visitors (qapi/qapi-visit-*.c
 * over qapi/qobject-input-visitor.c and qapi/qapi-visit-core.c) do to the
 * arguments of a command before its handler runs: members visited in
 * schema order (union base first, then the driver's struct, its bases
 * first), "Parameter 'P' is missing", "Invalid parameter type for 'P',
 * expected: T" (full path; alternates use the bare member name), "Parameter
 * 'N' does not accept value 'V'" (bare name), "Parameter 'P' is unexpected"
 * after the known members of a struct; the first error wins.  On success
 * real_qapi_blockdev_options() returns the object the output visitor would
 * build (members in schema order, only those present), ready for
 * qdict_flatten().
 * The schema is common/options.def plus the nested types it leaves as ANY
 * (qapi/block-core.json: Qcow2OverlapChecks, BlockdevQcow2Encryption,
 * BlkdebugInjectErrorOptions, BlkdebugSetStateOptions, BlockPermission
 * lists) and the integer subtypes (int32, uint64).
 * What it is not: semantic checks of the handlers.
 */
#ifndef REAL_QAPI_H
#define REAL_QAPI_H

#include <jansson.h>
#include <stdbool.h>

#include "error.h"

/*
 * Visit ARGS as BlockdevOptions whose own name is NAME under PATH (both may
 * be NULL: blockdev-add's boxed arguments; for blockdev-reopen the caller
 * passes PATH "options", the element index is in INDEX, NAME NULL).
 * Returns the output form (owned), or NULL with err.  *unsupported is set
 * (and NULL returned, err untouched) when a driver of the tree is a
 * BlockdevDriver value the engine does not implement.
 */
json_t *real_qapi_blockdev_options(json_t *args, const char *path, int index,
                                   bool *unsupported, BgError *err);

/* A member of a command's argument struct (flat commands). */
typedef enum QapiScalar {
    QAPI_STR, QAPI_BOOL, QAPI_INT, QAPI_ENUM, QAPI_ANY,
} QapiScalar;

typedef struct QapiMember {
    const char *name;
    QapiScalar type;
    bool required;
    const char *enums;     /* QAPI_ENUM: '|'-separated */
} QapiMember;

/* object-add's arguments for a throttle-group (ObjectOptions' base and
 * ThrottleGroupProperties, ThrottleLimits nested): the output form (owned,
 * members in schema order), or NULL with err. */
json_t *real_qapi_throttle_group(json_t *args, BgError *err);
/* Visit ARGS (NULL = {}) as a struct with MEMBERS (NULL-name terminated). */
bool real_qapi_check_struct(json_t *args, const QapiMember *members, BgError *err);
/* qobject_input_check_struct(): the key of D QEMU names as unexpected when the
 * visit took the members of VISITED (an object, in visit order); NULL: none. */
const char *real_qapi_first_unexpected(json_t *d, json_t *visited);

#endif
