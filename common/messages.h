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
/* bdrv_lookup_bs() (also qmp_block_commit(), qmp_block_stream() with device and node name) */
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
/* bdrv_node_refresh_perm() */
#define BG_MSG_WRITE_WITHOUT_RESIZE "Cannot get 'write' permission without 'resize': Image size is not a multiple of request alignment"
/* bdrv_reopen_multiple() */
#define BG_MSG_FLUSH_FAILED "Error flushing drive: %s"

/* block.c, opening, naming and changing nodes */
/* bdrv_assign_node_name() */
#define BG_MSG_NODE_NAME_CONFLICT "node-name=%s is conflicting with a device id"
/* bdrv_assign_node_name() */
#define BG_MSG_NODE_NAME_TOO_LONG "Node name too long"
/* bdrv_lookup_bs() */
#define BG_MSG_LOOKUP_NO_MEDIUM "Device '%s' has no medium"
/* bdrv_fill_options(), bdrv_open_inherit() */
#define BG_MSG_UNKNOWN_DRIVER "Unknown driver '%s'"
/* bdrv_fill_options() */
#define BG_MSG_FILE_AND_FILENAME "Can't specify 'file' and 'filename' options at the same time"
/* bdrv_fill_options() */
#define BG_MSG_NEED_DRIVER_OR_FILE "Must specify either driver or file"
/* parse_json_filename(), error_prepend() to the JSON parser's error */
#define BG_MSG_JSON_PARSE "Could not parse the JSON options: %s"
/* parse_json_filename() */
#define BG_MSG_JSON_NOT_OBJECT "Invalid JSON object given"
/* bdrv_open_common(), bdrv_reopen_prepare() */
#define BG_MSG_INVALID_DISCARD "Invalid discard option"
/* bdrv_open_backing_file() */
#define BG_MSG_BACKING_NOT_SUPPORTED "Driver doesn't support backing files"
/* bdrv_set_file_or_backing_noperm() */
#define BG_MSG_NODE_CORRUPTED "Node corrupted"
/* bdrv_is_backing_chain_frozen() */
#define BG_MSG_CHAIN_FROZEN "Cannot change '%s' link from '%s' to '%s'"
/* bdrv_freeze_backing_chain() */
#define BG_MSG_CHAIN_FREEZE "Cannot freeze '%s' link to '%s'"
/* bdrv_replace_node_noperm() */
#define BG_MSG_REPLACE_SHOULD_NOT "Should not change '%s' link to '%s'"
/* bdrv_replace_node_noperm() */
#define BG_MSG_REPLACE_CANNOT "Cannot change '%s' link to '%s'"
/* bdrv_insert_node() */
#define BG_MSG_INSERT_NO_DRIVER "driver is not specified"
/* bdrv_insert_node() */
#define BG_MSG_INSERT_UNKNOWN_DRIVER "Unknown driver: '%s'"
/* bdrv_insert_node(), error_prepend() */
#define BG_MSG_INSERT_CREATE_PREFIX "Could not create node: "
/* bdrv_insert_node(), error_prepend() */
#define BG_MSG_INSERT_REPLACE_PREFIX "Could not replace node: "
/* bdrv_child_cb_update_filename(), error_setg_errno() */
#define BG_MSG_UPDATE_BACKING_LINK "Could not update backing file link: %s"
/* bdrv_dirname() */
#define BG_MSG_DIRNAME_EJECTED "Node '%s' is ejected"
/* bdrv_dirname() */
#define BG_MSG_DIRNAME_NO_BASE "Cannot generate a base directory for %s nodes"
/* bdrv_child_get_parent_desc(): a node parent in permission texts */
#define BG_MSG_PARENT_DESC_NODE "node '%s'"

/* block/io.c */
/* bdrv_co_truncate() */
#define BG_MSG_TRUNCATE_NO_MEDIUM "No medium inserted"
/* bdrv_co_truncate() */
#define BG_MSG_TRUNCATE_NEGATIVE "Image size cannot be negative"
/* bdrv_co_truncate() */
#define BG_MSG_TRUNCATE_READ_ONLY "Image is read-only"
/* bdrv_co_truncate() */
#define BG_MSG_TRUNCATE_NO_RESIZE "Image format driver does not support resize"

/* block/qapi.c */
/* bdrv_block_device_info() */
#define BG_MSG_QUERY_EJECTED "Block device %s is ejected"

/* util/throttle.c */
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_TOTAL_AND_RW "bps/iops/max total values and read/write values cannot be used at the same time"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_RANGE "bps/iops/max values must be within [0, %lld]"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_BURST_ZERO "the burst length cannot be 0"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_BURST_NO_RATE "burst length set without burst rate"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_MAX_NO_AVG "bps_max/iops_max require corresponding bps/iops values"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_MAX_BELOW_AVG "bps_max/iops_max cannot be lower than bps/iops"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_IOPS_SIZE "iops size requires an iops value to be set"
/* throttle_is_valid() */
#define BG_MSG_THROTTLE_BURST_TOO_HIGH "burst length too high for this burst rate"
/* throttle_limits_to_config(): NAME is the ThrottleLimits member ("bps-total-max-length") */
#define BG_MSG_THROTTLE_LENGTH_RANGE "%s value must be in the range [0, %u]"
/* throttle_group_set() (block/throttle-groups.c), the x-*-max-length properties: QEMU's
 * two literals join without a space */
#define BG_MSG_THROTTLE_X_LENGTH_RANGE "%s value must be in therange [0, %u]"
/* throttle_group_set() */
#define BG_MSG_THROTTLE_NEGATIVE "Property values cannot be negative"

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
/* read_config() (block/blkdebug.c), error_setg_errno() */
#define BG_MSG_BLKDEBUG_READ_CONFIG "Could not read blkdebug config file: %s"
/* blkdebug_parse_filename(): a "blkdebug:" name without a second ':' */
#define BG_MSG_BLKDEBUG_PARSE_FILENAME "blkdebug requires both config file and image path"
/* blkverify_parse_filename() (block/blkverify.c): a "blkverify:" name without a second ':' */
#define BG_MSG_BLKVERIFY_PARSE_FILENAME "blkverify requires raw copy and original image path"
/* cor_open() (block/copy-on-read.c) */
#define BG_MSG_COR_BOTTOM_NOT_FOUND "Bottom node '%s' not found"
/* cor_open() */
#define BG_MSG_COR_BOTTOM_NOT_OPENED "Bottom node '%s' not opened"
/* cor_open() */
#define BG_MSG_COR_BOTTOM_FILTER "Bottom node '%s' is a filter"
/* quorum_open() (block/quorum.c) */
#define BG_MSG_QUORUM_BLKVERIFY "blkverify=on can only be set if there are exactly two files and vote-threshold is 2"
/* quorum_open() */
#define BG_MSG_QUORUM_REWRITE_BLKVERIFY "rewrite-corrupted=on cannot be used with blkverify=on"

/* real/ storage layer: block/file-posix.c, util/osdep.c */
/* qemu_open_internal() (util/osdep.c): error_setg_errno(errp, errno, "Could not open '%s'");
 * raw_open_common() (block/file-posix.c) passes it on */
#define BG_MSG_FILE_OPEN "Could not open '%s': %s"
/* qemu_open_internal(): EINVAL with O_DIRECT */
#define BG_MSG_FILE_NO_ODIRECT "Could not open '%s': filesystem does not support O_DIRECT"
/* qapi_enum_parse() (qapi/qapi-util.c), for aio and locking in raw_open_common();
 * blockdev-add's QAPI check catches these first with BG_MSG_QAPI_ENUM_VALUE */
#define BG_MSG_FILE_ENUM_VALUE "invalid parameter value: %s"
/* raw_open_common() */
#define BG_MSG_FILE_AIO_NATIVE "aio=native was specified, but it requires cache.direct=on, which was not specified."
/* pr_manager_lookup() (scsi/pr-manager.c) */
#define BG_MSG_FILE_PR_MANAGER "No persistent reservation manager with id '%s'"
/* raw_apply_lock_bytes() */
#define BG_MSG_FILE_LOCK_BYTE "Failed to lock byte %d"
/* raw_check_lock_bytes() */
#define BG_MSG_FILE_LOCK_GET "Failed to get \"%s\" lock"
/* raw_check_lock_bytes() */
#define BG_MSG_FILE_LOCK_GET_SHARED "Failed to get shared \"%s\" lock"
/* raw_handle_perm_lock(): the hint printed after a lock error (not part of a QMP desc) */
#define BG_MSG_FILE_LOCK_HINT "Is another process using the image [%s]?"
/* handle_aiocb_truncate() */
#define BG_MSG_FILE_RESIZE "Could not resize file: %s"

/* real/ storage layer: block/raw-format.c, block/null.c */
/* raw_co_truncate() */
#define BG_MSG_RAW_FIXED_SIZE "Cannot resize fixed-size raw disks"
/* raw_co_truncate() */
#define BG_MSG_RAW_OFFSET_TOO_LARGE "Disk size too large for the chosen offset"
/* raw_apply_options(), error_setg_errno() */
#define BG_MSG_RAW_GET_SIZE "Could not get image size: %s"
/* null_file_open() */
#define BG_MSG_NULL_LATENCY "latency-ns is invalid"
/* null_co_parse_filename(), null_aio_parse_filename(): the driver's own URL */
#define BG_MSG_NULL_FILENAME "The only allowed filename for this driver is '%s'"

/* real/ storage layer: block/qcow2.c, block/qcow2-refcount.c */
/* qcow2_do_open(): error_setg_errno(errp, -ret, "Could not read qcow2 header") */
#define BG_MSG_QCOW2_READ_HEADER "Could not read qcow2 header: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_NOT_QCOW2 "Image is not in qcow2 format"
/* qcow2_update_header(): the names of the feature name table header
 * extension, QEMU 7.2's entries in its order: X(type, bit, name) */
#define BG_QCOW2_FEATURE_NAMES(X)                                                  \
    X(0, 0, "dirty bit") X(0, 1, "corrupt bit") X(0, 2, "external data file")    \
    X(0, 3, "compression type") X(0, 4, "extended L2 entries")                  \
    X(1, 0, "lazy refcounts") X(2, 0, "bitmaps") X(2, 1, "raw external data")
/* bdrv_image_info_specific_dump() of ImageInfoSpecificQCow2 (qemu-io
 * info): QAPI member name and the label it prints, in QAPI's order */
#define BG_QCOW2_SPECIFIC_LABELS(X)                                                \
    X("compat", "compat") X("compression-type", "compression type")              \
    X("lazy-refcounts", "lazy refcounts") X("refcount-bits", "refcount bits")    \
    X("corrupt", "corrupt") X("extended-l2", "extended l2")
/* qcow2_do_open() */
#define BG_MSG_QCOW2_VERSION "Unsupported qcow2 version %" PRIu32
/* qcow2_do_open() */
#define BG_MSG_QCOW2_CLUSTER_SIZE "Unsupported cluster size: 2^%" PRIu32
/* qcow2_do_open() */
#define BG_MSG_QCOW2_HEADER_SHORT "qcow2 header too short"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_HEADER_EXCEEDS "qcow2 header exceeds cluster size"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_BACKING_OFFSET "Invalid backing file offset"
/* report_unsupported_feature() (the engine also names what it does not implement) */
#define BG_MSG_QCOW2_UNSUPPORTED_FEATURE "Unsupported qcow2 feature(s): %s"
/* validate_compression_type() */
#define BG_MSG_QCOW2_COMPRESSION_TYPE "qcow2: unknown compression type: %u"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_CORRUPT_RW "qcow2: Image is corrupt; cannot be opened read/write"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_REFCOUNT_WIDTH "Reference count entry width too large; may not exceed 64 bits"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_NO_REFTABLE "Image does not contain a reference count table"
/* qcow2_validate_table() */
#define BG_MSG_QCOW2_TABLE_TOO_LARGE "%s too large"
/* qcow2_validate_table() */
#define BG_MSG_QCOW2_TABLE_OFFSET "%s offset invalid"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_TOO_BIG "Image is too big"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_L1_TOO_SMALL "L1 table is too small"
/* qcow2_do_open(): error_setg_errno(errp, -ret, "Could not read L1 table") */
#define BG_MSG_QCOW2_READ_L1 "Could not read L1 table: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_L1_ALLOC "Could not allocate L1 table"
/* qcow2_do_open(), error_setg_errno() */
#define BG_MSG_QCOW2_READ_BACKING_NAME "Could not read backing file name: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_BACKING_TOO_LONG "Backing file name too long"
/* qcow2_read_extensions() */
#define BG_MSG_QCOW2_EXT_TOO_LARGE "Header extension too large"
/* qcow2_read_extensions(), error_setg_errno() */
#define BG_MSG_QCOW2_EXT_PREAD "qcow2_read_extension: ERROR: pread fail from offset %" PRIu64 ": %s"
/* qcow2_read_extensions(); QEMU prints sizeof(bs->backing_format), 16, with %zu */
#define BG_MSG_QCOW2_EXT_BACKING_FMT_LEN "ERROR: ext_backing_format: len=%" PRIu32 " too large (>=16)"
/* qcow2_read_extensions(), error_setg_errno() */
#define BG_MSG_QCOW2_EXT_BACKING_FMT_READ "ERROR: ext_backing_format: Could not read format name: %s"
/* qcow2_read_extensions(), error_setg_errno() */
#define BG_MSG_QCOW2_EXT_UNKNOWN_READ "ERROR: unknown extension: Could not read data: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_REFCOUNT_INIT "Could not initialize refcount handling: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_UPDATE_HEADER "Could not update qcow2 header: %s"
/* qcow2_do_open() */
#define BG_MSG_QCOW2_REPAIR_DIRTY "Could not repair dirty image: %s"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_L2_CACHE_TOO_BIG "L2 cache size too big"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_REFCOUNT_CACHE_TOO_BIG "Refcount cache size too big"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_FLUSH_L2 "Failed to flush the L2 table cache: %s"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_FLUSH_REFCOUNT "Failed to flush the refcount block cache: %s"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_CACHE_ALLOC "Could not allocate metadata caches"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_CLEAN_INTERVAL_TOO_BIG "Cache clean interval too big"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_LAZY_V3 "Lazy refcounts require a qcow2 image with at least qemu 1.1 compatibility level"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_DISABLE_LAZY "Failed to disable lazy refcounts: %s"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_OVERLAP_CONFLICT "Conflicting values for qcow2 options 'overlap-check' ('%s') and 'overlap-check.template' ('%s')"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_OVERLAP_VALUE "Unsupported value '%s' for qcow2 option 'overlap-check'. Allowed are any of the following: none, constant, cached, all"
/* qcow2_update_options_prepare() */
#define BG_MSG_QCOW2_NO_ENCRYPTION "No encryption in image header, but options specified format '%s'"
/* qcow2_co_truncate() */
#define BG_MSG_QCOW2_SIZE_MULTIPLE "The new size must be a multiple of 512"
/* qcow2_co_truncate() */
#define BG_MSG_QCOW2_RESIZE_SNAPSHOTS "Can't resize an image which has snapshots"
/* qcow2_co_truncate() before 2.11 (the engine does not shrink qcow2 images) */
#define BG_MSG_QCOW2_NO_SHRINK "qcow2 doesn't support shrinking images yet"
/* qcow2_co_truncate() */
#define BG_MSG_QCOW2_GROW_L1 "Failed to grow the L1 table: %s"
/* qcow2_co_truncate(), error_setg_errno() */
#define BG_MSG_QCOW2_ZERO_NEW_CLUSTERS "Failed to zero out new clusters: %s"
/* qcow2_co_truncate() */
#define BG_MSG_QCOW2_UPDATE_SIZE "Failed to update the image size: %s"
/* qcow2_signal_corruption(), printed on stderr */
#define BG_MSG_QCOW2_MARK_CORRUPT "qcow2: Marking image as corrupt: %s; further corruption events will be suppressed"
/* qcow2_signal_corruption(), printed on stderr */
#define BG_MSG_QCOW2_IMAGE_CORRUPT "qcow2: Image is corrupt: %s; further non-fatal corruption events will be suppressed"
/* qcow2_pre_write_overlap_check() (block/qcow2-refcount.c), with one of the names below */
#define BG_MSG_QCOW2_OVERLAP_WRITE "Preventing invalid write on metadata (overlaps with %s)"
/* metadata_ol_names[] (block/qcow2-refcount.c), in QCOW2_OL_*_BITNR order */
#define BG_MSG_QCOW2_OL_NAMES "qcow2_header", "active L1 table", "active L2 table", \
    "refcount table", "refcount block", "snapshot table", "inactive L1 table", \
    "inactive L2 table", "bitmap directory"

/* real/ storage layer: qcow2_co_create() (block/qcow2.c) */
/* qcow2_co_create() */
#define BG_MSG_QCOW2_WRITE_HEADER "Could not write qcow2 header: %s"
/* qcow2_co_create() */
#define BG_MSG_QCOW2_WRITE_REFTABLE "Could not write refcount table: %s"
/* qcow2_co_create() */
#define BG_MSG_QCOW2_ALLOC_HEADER "Could not allocate clusters for qcow2 header and refcount table: %s"
/* qcow2_co_create() */
#define BG_MSG_QCOW2_ASSIGN_BACKING "Could not assign backing file '%s' with format '%s': %s"
/* qcow2_co_create(), error_prepend() */
#define BG_MSG_QCOW2_CREATE_RESIZE_PREFIX "Could not resize image: "

/* real/ storage layer: qemu-img create (qemu-img.c img_create(), block.c bdrv_img_create()) */
/* cvtnum_full() */
#define BG_MSG_IMG_INVALID_SIZE "Invalid %s specified. You may use k, M, G, T, P or E suffixes for"
/* cvtnum_full() */
#define BG_MSG_IMG_INVALID_SIZE2 "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes."
/* cvtnum_full() */
#define BG_MSG_IMG_SIZE_RANGE "Invalid %s specified. Must be between %" PRId64 " and %" PRId64 "."
/* qemu_open_internal() with O_CREAT (util/osdep.c) */
#define BG_MSG_IMG_CREATE_FILE "Could not create '%s': %s"
/* bdrv_img_create() */
#define BG_MSG_IMG_NO_BACKING "Backing file not supported for file format '%s'"
/* bdrv_img_create() */
#define BG_MSG_IMG_NO_BACKING_FMT "Backing file format not supported for file format '%s'"
/* bdrv_img_create() */
#define BG_MSG_IMG_SAME_BACKING "Error: Trying to create an image with the same filename as the backing file"
/* bdrv_img_create() */
#define BG_MSG_IMG_EMPTY_BACKING "Expected backing file name, got empty string"
/* bdrv_img_create(): hint after a failed backing open */
#define BG_MSG_IMG_OPEN_BACKING_HINT "Could not open backing image."
/* bdrv_img_create() */
#define BG_MSG_IMG_BACKING_NO_FMT "Backing file specified without backing format"
/* bdrv_img_create(): hint, printed without a newline */
#define BG_MSG_IMG_DETECTED_HINT "Detected format of %s."
/* bdrv_img_create() */
#define BG_MSG_IMG_NEEDS_SIZE "Image creation needs a size parameter"
/* qcow2_co_create_opts(), before the file is created */
#define BG_MSG_IMG_FMT_WITHOUT_BACKING "Backing format cannot be used without backing file"
/* bdrv_img_create(): the line's start; qemu_opts_print() adds the options */
#define BG_MSG_IMG_FORMATTING "Formatting '%s', fmt=%s "

/* real/ storage layer: qemu-io (qemu-io-cmds.c, qemu-io.c), QEMU 7.2 */
/* print_report() */
#define BG_MSG_QEMUIO_REPORT "%s %" PRId64 "/%" PRId64 " bytes at offset %" PRId64
/* print_report() */
#define BG_MSG_QEMUIO_TIMING "%s, %d ops; %s (%s/sec and %.4f ops/sec)"
/* print_report() with -C */
#define BG_MSG_QEMUIO_REPORT_CSV "%" PRId64 ",%d,%s,%.3f,%.3f"
/* read_f(), readv_f() */
#define BG_MSG_QEMUIO_PATTERN_FAILED "Pattern verification failed at offset %" PRId64 ", %" PRId64 " bytes"
/* read_f() */
#define BG_MSG_QEMUIO_PATTERN_RANGE "pattern verification range exceeds end of read data"
/* read_f(), write_f(), readv_f(), writev_f(), discard_f(): "<op> failed: <strerror>" */
#define BG_MSG_QEMUIO_FAILED "%s failed: %s"
/* print_cvtnum_err() */
#define BG_MSG_QEMUIO_PARSE_EINVAL "Parsing error: non-numeric argument, or extraneous/unrecognized suffix -- %s"
/* print_cvtnum_err() */
#define BG_MSG_QEMUIO_PARSE_ERANGE "Parsing error: argument too large -- %s"
/* print_cvtnum_err() */
#define BG_MSG_QEMUIO_PARSE_OTHER "Parsing error: %s"
/* do_strtosz() (util/cutils.c), a warning */
#define BG_MSG_QEMUIO_HEX_SUFFIX "Using a multiplier suffix on hex numbers is deprecated: %s"
/* parse_pattern() */
#define BG_MSG_QEMUIO_BAD_PATTERN "%s is not a valid pattern byte"
/* read_f(), discard_f() */
#define BG_MSG_QEMUIO_LENGTH_MAX "length cannot exceed %" PRIu64 ", given %s"
/* write_f() */
#define BG_MSG_QEMUIO_LENGTH_MAX_N "length cannot exceed %" PRIu64 " without -n, given %s"
/* write_f() */
#define BG_MSG_QEMUIO_B_AND_Z "-b and -z cannot be specified at the same time"
/* write_f() */
#define BG_MSG_QEMUIO_F_AND_BC "-f and -b or -c cannot be specified at the same time"
/* write_f() */
#define BG_MSG_QEMUIO_N_NEEDS_Z "-n requires -z to be specified"
/* write_f() */
#define BG_MSG_QEMUIO_U_NEEDS_Z "-u requires -z to be specified"
/* write_f() */
#define BG_MSG_QEMUIO_ONE_OF_ZPS "Only one of -z, -P, and -s can be specified at the same time"
/* read_f(), write_f() */
#define BG_MSG_QEMUIO_UNALIGNED "%" PRId64 " is not a sector-aligned value for '%s'"
/* create_iovec() */
#define BG_MSG_QEMUIO_ARG_EXCEEDS "Argument '%s' exceeds maximum size %" PRIu64
/* create_iovec() */
#define BG_MSG_QEMUIO_TOTAL_EXCEEDS "The total number of bytes exceed the maximum size %" PRIu64
/* length_f() */
#define BG_MSG_QEMUIO_GETLENGTH "getlength: %s"
/* map_f() */
#define BG_MSG_QEMUIO_MAP_LENGTH "Failed to query image length: %s"
/* map_f() */
#define BG_MSG_QEMUIO_MAP_STATUS "Failed to get allocation status: %s"
/* map_f() */
#define BG_MSG_QEMUIO_MAP_END "Unexpected end of image"
/* map_f() */
#define BG_MSG_QEMUIO_MAP_LINE "%s (0x%" PRIx64 ") bytes %s at offset %s (0x%" PRIx64 ")"
/* alloc_f() */
#define BG_MSG_QEMUIO_ALLOC_LINE "%" PRId64 "/%" PRId64 " bytes allocated at offset %s"
/* alloc_f() */
#define BG_MSG_QEMUIO_IS_ALLOCATED "is_allocated failed: %s"
/* qemuio_command_usage() */
#define BG_MSG_QEMUIO_USAGE "%s %s -- %s"
/* qemuio_command(), on stderr */
#define BG_MSG_QEMUIO_NOT_FOUND "command \"%s\" not found"
/* command(), on stderr */
#define BG_MSG_QEMUIO_ARGC_MIN "bad argument count %d to %s, expected at least %d arguments"
/* command(), on stderr */
#define BG_MSG_QEMUIO_ARGC_EXACT "bad argument count %d to %s, expected %d arguments"
/* command(), on stderr */
#define BG_MSG_QEMUIO_ARGC_RANGE "bad argument count %d to %s, expected between %d and %d arguments"
/* getopt() (glibc), on stderr */
#define BG_MSG_QEMUIO_GETOPT_INVALID "%s: invalid option -- '%c'"
/* getopt() (glibc), on stderr */
#define BG_MSG_QEMUIO_GETOPT_NEEDS_ARG "%s: option requires an argument -- '%c'"
/* info_f() */
#define BG_MSG_QEMUIO_INFO_FORMAT "format name: %s"
/* info_f() */
#define BG_MSG_QEMUIO_INFO_CLUSTER "cluster size: %s"
/* info_f() */
#define BG_MSG_QEMUIO_INFO_VMSTATE "vm state offset: %s"
/* info_f() */
#define BG_MSG_QEMUIO_INFO_SPECIFIC "Format specific information:"
/* openfile() (qemu-io.c): error_reportf_err(..., "can't open device %s: ") */
#define BG_MSG_QEMUIO_CANT_OPEN "can't open device %s: %s"

/* qom/object_interfaces.c */
/* user_creatable_del() */
#define BG_MSG_OBJECT_NOT_FOUND "object '%s' not found"
/* user_creatable_del() */
#define BG_MSG_OBJECT_IN_USE "object '%s' is in use, can not be deleted"

/* block/block-backend.c */
/* blk_root_change_aio_ctx() */
#define BG_MSG_IOTHREAD_ACTIVE_BB "Cannot change iothread of active block backend"
/* blk_root_get_parent_desc(): a BlockBackend parent in permission texts */
#define BG_MSG_PARENT_DESC_BLK "block device '%s'"
/* blk_root_get_parent_desc(): a BlockBackend without a name or device */
#define BG_MSG_PARENT_DESC_UNNAMED_BLK "an unnamed block device"

/* job.c */
/* find_job_locked() */
#define BG_MSG_JOB_NOT_FOUND "Job not found"
/* job_create() */
#define BG_MSG_JOB_ID_REQUIRED "An explicit job ID is required"

/* blockjob.c, block/commit.c, blockdev.c (block jobs) */
/* child_job_get_parent_desc(): a job parent in permission texts */
#define BG_MSG_PARENT_DESC_JOB "%s job '%s'"
/* block_job_create(): the blocker a job sets on its nodes */
#define BG_MSG_JOB_BLOCKER "block device is in use by block job: %s"
/* commit_start() */
#define BG_MSG_COMMIT_SAME_FILES "Invalid files for merge: top and base are the same"
/* qmp_block_commit() (QEMU's spelling) */
#define BG_MSG_JOB_NO_BACKING_IMAGE "There is no backimg image"
/* qmp_block_commit() */
#define BG_MSG_JOB_BACKING_FILE_WRITER "'backing-file' specified, but 'top' has a writer on it"
/* qmp_block_stream() */
#define BG_MSG_JOB_BOTTOM_NOT_OPEN "Node '%s' is not open"

/* block/monitor/block-hmp-cmds.c, hmp_qemu_io() (the HMP reply string) */
/* hmp_qemu_io() */
#define BG_MSG_HMP_NO_DEVICE "Error: Cannot find device='' nor node-name='%s'\r\n"
/* hmp_handle_error() (monitor/hmp.c), with the monitor's \r\n */
#define BG_MSG_HMP_ERROR "Error: %s\r\n"

/* Added for the model (issue 3); QEMU 7.2.0 function above each. */
/* bdrv_assign_node_name() */
#define BG_MSG_INVALID_NODE_NAME "Invalid node-name: '%s'"
/* bdrv_open_child_bs() */
#define BG_MSG_CHILD_MISSING "A block device must be specified for \"%s\""
/* bdrv_open_inherit() */
#define BG_MSG_REFERENCE_WITH_OPTIONS "Cannot reference an existing block device with additional options or a new filename"
/* bdrv_open_inherit() */
#define BG_MSG_PROTOCOL_OPTION "Block protocol '%s' doesn't support the option '%s'"
/* bdrv_open_inherit() */
#define BG_MSG_FORMAT_OPTION "Block format '%s' does not support the option '%s'"
/* bdrv_open_common() */
#define BG_MSG_FORCE_SHARE_RW "force-share=on can only be used with read-only images"
/* bdrv_open_driver(), error_setg_errno() (quorum_getlength(): EIO when
 * the children's lengths differ) */
#define BG_MSG_REFRESH_TOTAL_SECTORS "Could not refresh total sector count: %s"
/* bdrv_open_backing_file(), prepended to the backing node's error */
#define BG_MSG_BACKING_OPEN_PREFIX "Could not open backing file: "
/* compress_open() (block/filter-compress.c) */
#define BG_MSG_COMPRESS_UNSUPPORTED "Compression is not supported for underlying format: %s"
/* quorum_open() */
#define BG_MSG_QUORUM_NO_CHILDREN "Number of provided children must be 1 or more"
/* quorum_valid_threshold() */
#define BG_MSG_QUORUM_THRESHOLD "threshold may not exceed children count"
/* quorum_valid_threshold(): QERR_INVALID_PARAMETER_VALUE */
#define BG_MSG_QAPI_INVALID_VALUE "Parameter '%s' expects %s"
/* block_job_create() -> job_create() */
#define BG_MSG_JOB_ID_IN_USE "Job ID '%s' already in use"
/* job_apply_verb_locked() */
#define BG_MSG_JOB_VERB "Job '%s' in state '%s' cannot accept command verb '%s'"
/* job_create() */
#define BG_MSG_JOB_ID_INVALID "Invalid job ID '%s'"
/* qmp_block_stream() */
#define BG_MSG_JOB_EXCLUSIVE "'%s' and '%s' cannot be specified at the same time"
/* qmp_block_stream(), qmp_block_commit() */
#define BG_MSG_JOB_BASE_NOT_FOUND "Can't find '%s' in the backing chain"
/* qmp_block_stream() */
#define BG_MSG_JOB_NOT_BACKING "Node '%s' is not a backing image of '%s'"
/* qmp_block_stream() */
#define BG_MSG_JOB_BOTTOM_FILTER "Node '%s' is a filter, use a non-filter node as 'bottom'"
/* qmp_block_stream() */
#define BG_MSG_JOB_BOTTOM_NOT_IN_CHAIN "Node '%s' is not in a chain starting from '%s'"
/* qmp_block_stream() */
#define BG_MSG_STREAM_BACKING_FILE "backing file specified, but streaming the entire chain"
/* qmp_get_root_bs() */
#define BG_MSG_JOB_NEED_ROOT "Need a root block node"
/* qmp_block_commit() */
#define BG_MSG_JOB_MUTUALLY_EXCLUSIVE "'%s' and '%s' are mutually exclusive"
/* qmp_block_commit() */
#define BG_MSG_JOB_NOT_IN_CHAIN "'%s' is not in this backing file chain"
/* qmp_block_commit() */
#define BG_MSG_JOB_TOP_NOT_FOUND "Top image file %s not found"
/* qmp_block_commit() */
#define BG_MSG_JOB_COMMIT_ITSELF "cannot commit an image into itself"
/* qmp_block_commit() */
#define BG_MSG_JOB_BACKING_FILE_ACTIVE "'backing-file' specified, but 'top' is the active layer"
/* stream_start() */
#define BG_MSG_STREAM_NOT_IN_CHAIN "'%s' is not in the backing chain of '%s'"
/* mirror_start_job() */
#define BG_MSG_JOB_MIRROR_ITSELF "Can't mirror node into itself"
/* job_complete_locked() */
#define BG_MSG_JOB_CANNOT_COMPLETE "The active block job '%s' cannot be completed"
/* qmp_block_job_cancel() */
#define BG_MSG_JOB_PAUSED "The block job for device '%s' is currently paused"
/* qdev_device_add() (softmmu/qdev-monitor.c): machine "none" has no PCI bus
 * for virtio-scsi (an alias of virtio-scsi-pci) */
#define BG_MSG_DEVICE_NO_BUS "No '%s' bus found for device '%s'"
/* qdev_device_add(): a `bus` no bus of that name answers (qbus_find()) */
#define BG_MSG_DEVICE_BUS_NOT_FOUND "Bus '%s' not found"
/* qdev_set_id() (hw/core/qdev.c) */
#define BG_MSG_DEVICE_DUPLICATE_ID "Duplicate device ID '%s'"
/* set_drive_helper() (hw/core/qdev-properties-system.c): `drive` names no
 * BlockBackend and no node */
#define BG_MSG_DEVICE_DRIVE_NOT_FOUND "Property '%s.drive' can't find value '%s'"
/* scsi_qdev_realize() (hw/scsi/scsi-bus.c): a SCSI address out of the bus's
 * range (virtio-scsi: channel 0, target 0-255, LUN 0-16383), taken, or none
 * free */
#define BG_MSG_SCSI_BAD_CHANNEL "bad scsi channel id: %d"
#define BG_MSG_SCSI_BAD_TARGET "bad scsi device id: %d"
#define BG_MSG_SCSI_BAD_LUN "bad scsi device lun: %d"
#define BG_MSG_SCSI_LUN_USED "lun already used by '%s'"
#define BG_MSG_SCSI_NO_FREE_TARGET "no free target"
#define BG_MSG_SCSI_NO_FREE_LUN "no free lun"
/* scsi_realize() (hw/scsi/scsi-disk.c) without a `drive` */
#define BG_MSG_DEVICE_NO_DRIVE "drive property not set"
/* QERR_DEVICE_NOT_FOUND, class DeviceNotFound: qmp_device_del() -> find_device_state(),
 * qmp_block_commit() */
#define BG_MSG_DEVICE_NOT_FOUND "Device '%s' not found"
/* object_property_try_add() (qom/object.c) */
#define BG_MSG_DUPLICATE_PROPERTY "attempt to add duplicate property '%s' to object (type '%s')"
/* block_job_get_locked() users: qmp_block_job_complete() */
#define BG_MSG_BLOCK_JOB_NOT_FOUND "Block job '%s' not found"
/* parse_option_size() (util/qemu-option.c): QERR_INVALID_PARAMETER_VALUE */
#define BG_MSG_QEMUOPTS_SIZE "Parameter '%s' expects a non-negative number below 2^64"
/* blkdebug_open() */
#define BG_MSG_BLKDEBUG_CONSTRAINT "Cannot meet constraints with %s %" PRIu64

/*
 * The seed's (x-blockdev-reopen's) wording of a QEMU 7.2 blockdev-reopen
 * error about options list element 0.  Returns an owned string; a text that
 * is not an input-validation error comes back unchanged.
 */
char *bg_msg_seed_wording(const char *desc);

#endif
