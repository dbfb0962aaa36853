/*
 * messages.h: every QEMU 7.2 message text the project reproduces, in one
 * table.  Each is a string-literal macro (so -Wformat checks each use)
 * preceded by the QEMU 7.2.0 function that raises it.  The texts are facts
 * from ../shared/spec/qemu-semantics.md section 3, checked against QEMU
 * 7.2.22.  Both engines print only these; a wrong text here is caught by the
 * qemu backend, never by the model-versus-real diff.
 *
 * bg_msg_seed_wording() is the one rewording rule the stream format
 * defines: x-blockdev-reopen answers input-validation errors as the seed's
 * QEMU did (no "options[0]." path prefix, "Invalid parameter 'V'" for a bad
 * enum value).  Source: qemu-semantics.md 4.1, qemu-7.2-observations.md
 * "Disagreements".
 */
#ifndef BG_MESSAGES_H
#define BG_MESSAGES_H

#include <inttypes.h>

/* QAPI input visitor (qapi/qobject-input-visitor.c, qapi/qapi-visit-core.c) */
/* qobject_input_type_error() */
#define BG_MSG_QAPI_INVALID_TYPE "Invalid parameter type for '%s', expected: %s"
/* input_type_enum() */
#define BG_MSG_QAPI_ENUM_VALUE "Parameter '%s' does not accept value '%s'"
/* input_type_enum() (seed era, before 6.2) */
#define BG_MSG_QAPI_ENUM_VALUE_SEED "Invalid parameter '%s'"
/* qobject_input_get_object() */
#define BG_MSG_QAPI_MISSING "Parameter '%s' is missing"
/* qobject_input_check_struct() */
#define BG_MSG_QAPI_UNEXPECTED "Parameter '%s' is unexpected"
/* qmp_dispatch() */
#define BG_MSG_QMP_COMMAND_NOT_FOUND "The command %s has not been found"

/* blockdev.c */
/* qmp_blockdev_reopen() */
#define BG_MSG_FIND_NODE_FAILED "Failed to find node with node-name='%s'"
/* qmp_blockdev_reopen() */
#define BG_MSG_NODE_NAME_NOT_SPEC "node-name not specified"
/* qmp_blockdev_add() */
#define BG_MSG_ROOT_NODE_NAME "'node-name' must be specified for the root node"
/* bdrv_open_common() */
#define BG_MSG_DUPLICATE_NODE "Duplicate nodes with node-name='%s'"
/* qmp_blockdev_del() */
#define BG_MSG_NODE_IN_USE "Node %s is in use"
/* bdrv_op_is_blocked() */
#define BG_MSG_NODE_BUSY "Node '%s' is busy: %s"
/* bdrv_backing_attach() */
#define BG_MSG_BUSY_BACKING_HD "node is used as backing hd of '%s'"
/* qmp_blockdev_del() */
#define BG_MSG_NOT_OWNED_BY_MONITOR "Node %s is not owned by the monitor"
/* qmp_blockdev_del() */
#define BG_MSG_BLOCK_DEVICE_IN_USE "Block device %s is in use"

/* block.c, bdrv_reopen_prepare() and helpers */
/* bdrv_reopen_prepare() */
#define BG_MSG_CANNOT_CHANGE_OPTION "Cannot change the option '%s'"
/* bdrv_reset_options_allowed() */
#define BG_MSG_CANNOT_RESET_OPTION "Option '%s' cannot be reset to its default value"
/* bdrv_reopen_prepare() */
#define BG_MSG_NO_REOPEN_SUPPORT "Block format '%s' used by node '%s' does not support reopening files"
/* bdrv_reopen_prepare() */
#define BG_MSG_BACKING_MISSING "backing is missing for '%s'"
/* bdrv_parse_detect_zeroes() */
#define BG_MSG_DETECT_ZEROES_UNMAP "setting detect-zeroes to unmap is not allowed without setting discard operation to unmap"
/* bdrv_can_set_read_only() */
#define BG_MSG_RO_WITH_COR "Can't set node '%s' to r/o with copy-on-read enabled"
/* bdrv_reopen_prepare() */
#define BG_MSG_PREPARE_FAILED "failed while preparing to reopen image '%s'"
/* bdrv_lookup_bs() */
#define BG_MSG_LOOKUP_BS "Cannot find device='%s' nor node-name='%s'"
/* bdrv_reopen_parse_file_or_backing() */
#define BG_MSG_CHILD_CYCLE "Making '%s' a %s child of '%s' would create a cycle"
/* bdrv_reopen_parse_file_or_backing() */
#define BG_MSG_REPLACE_IMPLICIT "Cannot replace implicit %s child of %s"
/* bdrv_reopen_parse_file_or_backing() */
#define BG_MSG_FILTER_NO_BACKING "'%s' is a %s filter node that does not support a %s child"
/* bdrv_set_file_or_backing_noperm() */
#define BG_MSG_FROZEN_LINK "Cannot change frozen '%s' link from '%s' to '%s'"
/* bdrv_set_file_or_backing_noperm() */
#define BG_MSG_NO_BACKING_SUPPORT "Driver '%s' of node '%s' does not support backing files"
/* bdrv_set_file_or_backing_noperm() */
#define BG_MSG_FILE_TO_FORMAT "Cannot set file child to format node without file child"
/* bdrv_a_allow_b() */
#define BG_MSG_PERM_CONFLICT "Permission conflict on node '%s': permissions '%s' are both required by %s (uses node '%s' as '%s' child) and unshared by %s (uses node '%s' as '%s' child)."
/* bdrv_node_refresh_perm() */
#define BG_MSG_RO_NODE_RW_USERS "Read-only block node '%s' cannot support read-write users"
/* bdrv_node_refresh_perm() */
#define BG_MSG_NODE_READ_ONLY "Block node is read-only"
/* bdrv_reopen_multiple() */
#define BG_MSG_FLUSH_FAILED "Error flushing drive: %s"

/* drivers */
/* read_cache_sizes() */
#define BG_MSG_QCOW2_L2_ENTRY_SIZE "L2 cache entry size must be a power of two between %d and the cluster size (%d)"
/* read_cache_sizes() */
#define BG_MSG_QCOW2_L2_EXCEEDS "l2-cache-size may not exceed cache-size"
/* read_cache_sizes() */
#define BG_MSG_QCOW2_REFCOUNT_EXCEEDS "refcount-cache-size may not exceed cache-size"
/* read_cache_sizes() */
#define BG_MSG_QCOW2_ALL_THREE "cache-size, l2-cache-size and refcount-cache-size may not be set at the same time"
/* raw_apply_options() */
#define BG_MSG_RAW_OFFSET_TOO_BIG "Offset (%" PRIu64 ") cannot be greater than size of the containing file (%" PRId64 ")"
/* raw_apply_options() */
#define BG_MSG_RAW_SUM_TOO_BIG "The sum of offset (%" PRIu64 ") and size (%" PRIu64 ") has to be smaller or equal to the  actual size of the containing file (%" PRId64 ")"
/* raw_apply_options() */
#define BG_MSG_RAW_SIZE_ALIGN "Specified size is not multiple of %llu"
/* throttle_parse_options() */
#define BG_MSG_THROTTLE_NO_GROUP "Throttle group '%s' does not exist"
/* throttle_parse_options() */
#define BG_MSG_THROTTLE_GROUP_NEEDED "Please specify a throttle group"

/* qom/object_interfaces.c */
/* user_creatable_del() */
#define BG_MSG_OBJECT_NOT_FOUND "object '%s' not found"
/* user_creatable_del() */
#define BG_MSG_OBJECT_IN_USE "object '%s' is in use, can not be deleted"

/* block/block-backend.c */
/* blk_root_change_aio_ctx() */
#define BG_MSG_IOTHREAD_ACTIVE_BB "Cannot change iothread of active block backend"

/* job.c */
/* find_job_locked() */
#define BG_MSG_JOB_NOT_FOUND "Job not found"

/* block/monitor/block-hmp-cmds.c, hmp_qemu_io() (the HMP reply string) */
/* hmp_qemu_io() */
#define BG_MSG_HMP_NO_DEVICE "Error: Cannot find device='' nor node-name='%s'\r\n"

/*
 * The seed's (x-blockdev-reopen's) wording of a QEMU 7.2 blockdev-reopen
 * error about options list element 0.  Returns an owned string; a text that
 * is not an input-validation error comes back unchanged.
 */
char *bg_msg_seed_wording(const char *desc);

#endif
