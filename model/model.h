/*
 * model.h: the reference model of QEMU 7.2's block graph (backend "model").
 *
 * What this is: the plain data every model_*.c file works on, and their
 * prototypes.  The only symbol other parts of the project use is
 * bg_model_backend_ops (model_backend.c).
 *
 * The shape (DESIGN.md, issue 3): nodes in an array in the order QEMU
 * assigns node names (graph_bdrv_states), children as plain edges in each
 * node, lookup by linear scan, ids instead of pointers so that a whole world
 * can be deep-copied; images as logical bytes plus an allocation map per
 * image file in an in-memory file table; permissions recomputed from scratch;
 * a reopen that works on a copy of the world and keeps it only if all is
 * well.  No caches, no cleverness.
 *
 * What it is not: QEMU.  No coroutines, no AioContext locking, no on-disk
 * qcow2 layout (only the host cluster accounting that decides a qcow2 file's
 * length), no real files.
 */
#ifndef BG_MODEL_H
#define BG_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "bg.h"
#include "error.h"

extern const BgBackendOps bg_model_backend_ops;

/* ======================================================================
 * Specification tables (common/options.def)
 * ====================================================================== */

typedef enum ModelDrvKind { BG_DRV_FORMAT, BG_DRV_FILTER, BG_DRV_PROTOCOL, BG_DRV_OTHER } ModelDrvKind;
enum { BG_DRVF_BACKING = 1, BG_DRVF_REOPEN = 2, BG_DRVF_INTERNAL = 4 };

typedef enum ModelOptType {
    BG_OT_STR, BG_OT_BOOL, BG_OT_INT, BG_OT_ENUM, BG_OT_STRUCT,
    BG_OT_REF, BG_OT_REF_NULL, BG_OT_REF_LIST, BG_OT_ANY,
} ModelOptType;
enum { BG_OF_REQUIRED = 1, BG_OF_MUTABLE = 2, BG_OF_STRONG = 4 };
typedef enum ModelOptReopen {
    BG_OR_GENERIC, BG_OR_GENERIC_BACK, BG_OR_CONSUMED, BG_OR_DRV_BACK, BG_OR_KEPT, BG_OR_CHILD,
} ModelOptReopen;

typedef struct ModelDriver {
    const char *name;       /* format_name */
    ModelDrvKind kind;
    unsigned flags;         /* BG_DRVF_* */
} ModelDriver;

typedef struct ModelOpt {
    const char *driver;     /* "" for the union base */
    const char *name;       /* "cache.direct" for a struct member */
    ModelOptType type;
    unsigned flags;         /* BG_OF_* */
    ModelOptReopen reopen;
    const char *enums;      /* '|'-separated values of an enum */
    const char *dflt;       /* documentation */
} ModelOpt;

/* model_options.c */
const ModelDriver *model_driver_find(const char *name);   /* NULL: not modelled */
bool model_driver_in_enum(const char *name);              /* BlockdevDriver value */
size_t model_opt_count(void);
const ModelOpt *model_opt_at(size_t i);
/* The option row of flattened KEY for DRIVER (base rows included), or NULL. */
const ModelOpt *model_opt_find(const char *driver, const char *key);
/* VALUE is one of ENUMS ('|'-separated names). */
bool model_enum_has(const char *enums, const char *value);
bool model_opt_enum_has(const ModelOpt *o, const char *value);

/* ======================================================================
 * QDict (model_qdict.c): QEMU's QDict with its iteration order
 * ====================================================================== */

typedef struct ModelQDictEntry {
    char *key;              /* shared with clones and copies: not to be changed or freed */
    json_t *val;            /* a scalar, null, or (unflattened dicts only) object/array */
    uint64_t seq;           /* insertion stamp: newest first within a bucket */
    unsigned bucket;        /* model_qdict_bucket(key), kept: sorts compare it often */
} ModelQDictEntry;

typedef struct ModelQDict {
    ModelQDictEntry *e;
    size_t n, cap;
    uint64_t next_seq;
} ModelQDict;

unsigned model_qdict_bucket(const char *key);
ModelQDict *model_qdict_new(void);
void model_qdict_free(ModelQDict *d);
ModelQDict *model_qdict_clone(const ModelQDict *d);            /* qdict_clone_shallow() */
/* A copy that is exactly the same dict: model_qdict_clone() keeps the
 * iteration order only up to in-bucket order, so this copies entry by entry. */
ModelQDict *model_qdict_copy(const ModelQDict *d);
json_t *model_qdict_get(const ModelQDict *d, const char *key);  /* borrowed */
const char *model_qdict_get_str(const ModelQDict *d, const char *key);
bool model_qdict_has(const ModelQDict *d, const char *key);
void model_qdict_put(ModelQDict *d, const char *key, json_t *take_val);
void model_qdict_put_str(ModelQDict *d, const char *key, const char *s);
void model_qdict_set_default_str(ModelQDict *d, const char *key, const char *s);
void model_qdict_copy_default(ModelQDict *dst, const ModelQDict *src, const char *key);
bool model_qdict_del(ModelQDict *d, const char *key);
/* Keys in QEMU's iteration order (array of borrowed key pointers, owned array). */
const char **model_qdict_order(const ModelQDict *d, size_t *n);
/* qdict_extract_subqdict(): move "PREFIX*" entries (prefix stripped) into *out (may be NULL). */
void model_qdict_extract_sub(ModelQDict *d, ModelQDict **out, const char *prefix);
/* qdict_join(dest, src, false): entries of SRC whose keys DEST lacks. */
void model_qdict_join(ModelQDict *dest, const ModelQDict *src);
/* qdict_flatten() of a JSON object whose members were inserted in the given order. */
ModelQDict *model_qdict_from_json(const json_t *obj);
void model_qdict_flatten(ModelQDict *d);
/* qobject_to_json() text of a dict (json:{...} filenames). Owned. */
char *model_qdict_to_json_text(const ModelQDict *d);
/* qobject_is_equal() */
bool model_qobject_equal(const json_t *a, const json_t *b);
/* qnum/qbool/qstring to the string QemuOpts keeps ("on"/"off" for bools). Owned. */
char *model_qobject_to_opt_str(const json_t *v);

/* ======================================================================
 * Sparse bytes (model_sparse.c): image contents, only the chunks written
 * ====================================================================== */

#define MODEL_SPARSE_CHUNK 65536u
typedef struct ModelSparse {
    uint8_t **chunk;        /* per chunk: its bytes, or NULL for zeroes */
    uint64_t n;             /* chunk slots (reads past them are zeroes) */
} ModelSparse;

void model_sparse_cleanup(ModelSparse *s);
/* Copy LEN bytes at OFF into BUF (never stored: zeroes). */
void model_sparse_read(const ModelSparse *s, uint64_t off, uint64_t len, uint8_t *buf);
/* Store LEN bytes of BUF at OFF; BUF NULL writes zeroes (and drops whole chunks). */
void model_sparse_write(ModelSparse *s, uint64_t off, uint64_t len, const uint8_t *buf);

/* ======================================================================
 * Images (model_image.c): the in-memory file table of the scratch dir
 * ====================================================================== */

#define MODEL_CLUSTER 65536u
#define MODEL_QCOW2_MAX_WORKERS 8u  /* block/qcow2.h QCOW2_MAX_WORKERS: tasks of one request at once */
enum { MODEL_CL_UNALLOC = 0, MODEL_CL_DATA, MODEL_CL_ZERO, MODEL_CL_COMPRESSED };

typedef struct ModelFile {
    char *path;             /* absolute path */
    bool qcow2;             /* a qcow2 header was written by img-create */
    /* raw contents (not qcow2) */
    ModelSparse bytes;
    uint64_t len;
    /* qcow2: header facts and logical contents */
    uint64_t vsize;         /* virtual size */
    char *backing;          /* backing file name as stored, or NULL */
    char *backing_fmt;      /* backing format extension, or NULL */
    ModelSparse data;       /* vsize logical bytes */
    uint8_t *cl;            /* per guest cluster: MODEL_CL_* */
    uint64_t *host;         /* per guest cluster: host cluster index (DATA) */
    uint64_t *coff;         /* per guest cluster: host byte offset of the compressed
                             * bytes (COMPRESSED) */
    uint64_t *clen;         /* per guest cluster: the length of the compressed bytes */
    uint8_t *used;          /* per host cluster: 1 when it holds metadata or a data
                             * cluster (its refcount is used + cref) */
    uint32_t *cref;         /* per host cluster: compressed clusters whose bytes touch it */
    uint64_t n_host;        /* host clusters tracked in `used` and `cref` */
    uint64_t *l2;           /* per L1 entry: host cluster of the L2 table, 0 if none */
    uint64_t n_l1;
    uint64_t l1_host;       /* host cluster of the L1 table */
    uint64_t free_index;    /* BDRVQcow2State.free_cluster_index (reset on open) */
    uint64_t free_byte;     /* free_byte_offset for compressed data (byte, 0 if none) */
    uint64_t host_len;      /* length of the host file */
    uint32_t *cgroup;       /* per guest cluster: the compressed write of several clusters
                             * whose order of completion placed its bytes, 0 if none */
    uint32_t *grp_total;    /* per such write (index cgroup - 1): its clusters */
    uint32_t *grp_left;     /* per such write: its clusters still compressed */
    uint32_t n_grp;
    uint8_t *cshuffled;     /* per guest cluster: compressed by a request of several
                             * clusters, so that which of their offsets it got depends on
                             * the order QEMU's compression tasks finished */
    const char *unsupported; /* why the host layout may differ from QEMU's from here on */
    /* what model_image_meta.c needs to render the on-disk metadata */
    uint8_t *ever;          /* per host cluster: allocated at some time (else never written) */
    bool l1_fresh;          /* the L1 table's clusters were never used before it */
    uint64_t serial;        /* which img-create made it: unique in its table */
    uint64_t meta_gen;      /* bumped by every change of the L2 tables or refcounts */
    bool meta_lost;         /* the metadata on disk may differ from the accounting for a
                             * reason the model does not follow (model_io_qcow2_change()) */
    uint64_t gen;           /* moved by every change of the file (data_version) */
} ModelFile;

typedef struct ModelFiles {
    ModelFile **f;
    size_t n;
    uint64_t serial;        /* the last ModelFile.serial given */
} ModelFiles;

void model_image_cleanup(ModelFiles *t);
ModelFile *model_image_find(ModelFiles *t, const char *abspath);
/* Host length of a file (what a `file` node reports as its size). */
uint64_t model_image_host_len(const ModelFile *f);
/* `img-create` step. */
struct ModelWorld;
void model_image_create(ModelFiles *t, const struct ModelWorld *vm, const char *scratch,
                        const json_t *spec, BgResult *res);
/* A new empty ModelFile for PATH (numbered: ModelFile.serial), in place of
 * the one there was. */
ModelFile *model_image_replace(ModelFiles *t, const char *path);
/* qcow2_co_create(): a fresh qcow2 image of VSIZE bytes (whole sectors). */
void model_image_qcow2_init(ModelFile *f, uint64_t vsize);
/* qcow2 logical I/O on the image (no bounds checks: the caller did them). */
void model_image_qcow2_open(ModelFile *f);
/* qcow2_co_truncate(): grow to VSIZE (a multiple of 512, not smaller). */
void model_image_qcow2_grow(ModelFile *f, uint64_t vsize);
bool model_image_qcow2_allocated(const ModelFile *f, uint64_t cluster, bool *zero);
/* Does guest CLUSTER own a host cluster a write goes into in place (a data
 * cluster, or a zero cluster that kept its host cluster: QCOW_OFLAG_COPIED,
 * handle_copied())? */
static inline bool model_image_qcow2_in_place(const ModelFile *f, uint64_t cluster)
{
    return f->cl[cluster] == MODEL_CL_DATA || (f->cl[cluster] == MODEL_CL_ZERO && f->host[cluster]);
}
bool model_image_qcow2_write(ModelFile *f, uint64_t off, uint64_t len, const uint8_t *buf,
                             bool zero, bool may_unmap, bool compressed, BgError *err);
/* discard_in_l2_slice() for one whole CLUSTER (full_discard false, v3). */
void model_image_qcow2_discard(ModelFile *f, uint64_t cluster, bool has_backing);
/* l2_allocate() alone: the L2 table of CLUSTER, if it has none yet (a write
 * makes it, and writes it and the L1 entry, before its data goes out). */
void model_image_qcow2_make_l2(ModelFile *f, uint64_t cluster);
/* CLUSTER's compressed bytes went into a host cluster that holds something
 * else (qcow2_alloc_bytes() with a stale free_byte_offset). */
bool model_image_qcow2_compressed_shares(const ModelFile *f, uint64_t cluster);
/* After one compressed write: the N clusters CL (ascending) it wrote
 * compressed, N_PLAIN it wrote as data (they did not compress), whether it
 * allocated L2 tables.  The reason its host layout depends on the order
 * QEMU's compression tasks finish, or NULL. */
const char *model_image_qcow2_compressed_request(ModelFile *f, const uint64_t *cl, uint64_t n,
                                                 uint64_t n_plain, bool l2_allocated);
/* L2 tables allocated. */
uint64_t model_image_qcow2_l2_count(const ModelFile *f);
/* qcow2_compress(): CLUSTER's bytes compressed as QEMU does into OUT (at
 * least MODEL_CLUSTER bytes); their length, 0 when they do not fit. */
uint64_t model_image_qcow2_deflate(const uint8_t *cluster, uint8_t *out);

/* model_image_meta.c: the on-disk bytes of a qcow2 file's metadata.
 * Render host cluster H of F into BUF (MODEL_CLUSTER bytes) and say which
 * of them the model knows: MODEL_META_ALL, MODEL_META_NONE, or
 * MODEL_META_SOME with KNOWN (MODEL_CLUSTER bytes, one flag a byte) saying
 * which; KNOWN is written only for the last.  CACHED: the L2 tables and
 * refcount blocks on disk are the accounting's
 * (model_io_qcow2_meta_on_disk()). */
enum { MODEL_META_NONE, MODEL_META_ALL, MODEL_META_SOME };
int model_image_meta_cluster(const ModelFile *f, uint64_t h, bool cached, uint8_t *buf,
                             uint8_t *known);
/* Parse a size as qemu-img/qemu-io do ("3M", "10k", "512"). */
bool model_image_parse_size(const char *s, uint64_t *out);
/* Join a relative name to the directory of BASE (path_combine()); an absolute
 * name or one with a protocol prefix ("json:") is kept as it is. Owned. */
char *model_image_path_combine(const char *base, const char *name);
/* path_has_protocol(): a ':' before any '/'. */
bool model_path_has_protocol(const char *name);

/* ======================================================================
 * The graph (model_graph.c)
 * ====================================================================== */

/* Permissions (include/block/block-common.h, QEMU 7.2: no GRAPH_MOD). */
enum {
    MODEL_PERM_CONSISTENT_READ = 0x01,
    MODEL_PERM_WRITE = 0x02,
    MODEL_PERM_WRITE_UNCHANGED = 0x04,
    MODEL_PERM_RESIZE = 0x08,
    MODEL_PERM_ALL = 0x0f,
};
/* Child roles (BdrvChildRole). */
enum {
    MODEL_ROLE_DATA = 1, MODEL_ROLE_METADATA = 2, MODEL_ROLE_FILTERED = 4,
    MODEL_ROLE_COW = 8, MODEL_ROLE_PRIMARY = 16,
    MODEL_ROLE_IMAGE = MODEL_ROLE_DATA | MODEL_ROLE_METADATA | MODEL_ROLE_PRIMARY,
};
enum { MODEL_DZ_OFF, MODEL_DZ_ON, MODEL_DZ_UNMAP };

typedef struct ModelChild {
    char *name;             /* "file", "backing", "image", "test", "raw", "children.N" */
    int node;               /* id of the child node */
    unsigned role;          /* MODEL_ROLE_* */
    bool frozen;            /* bdrv_freeze_backing_chain() */
    uint64_t seq;           /* attach stamp: the child's parents list is newest first */
    unsigned perm, shared;  /* computed by model_perm_refresh() */
} ModelChild;

/* blkdebug: events the model raises, and I/O types (BlkdebugIOType). */
enum { MODEL_DBG_READ_AIO, MODEL_DBG_NONE, MODEL_DBG_EVENTS };
enum { MODEL_IO_READ, MODEL_IO_WRITE, MODEL_IO_WRITE_ZEROES, MODEL_IO_DISCARD, MODEL_IO_FLUSH,
       MODEL_IO_BLOCK_STATUS };

/* A blkdebug inject-error rule (BlkdebugRule, ACTION_INJECT_ERROR). */
typedef struct ModelDbgRule {
    int event;              /* MODEL_DBG_* */
    int state;              /* 0: any */
    unsigned iotypes;       /* 1 << MODEL_IO_* */
    int error;              /* errno */
    int64_t offset;         /* sector * 512, or -1 */
    bool once;
    bool active;            /* in s->active_rules */
} ModelDbgRule;

typedef struct ModelNode {
    int id;                 /* unique in a world, never reused */
    char *name;             /* node-name, explicit or "#blockN" */
    bool auto_name;
    const ModelDriver *drv;
    ModelQDict *options;    /* bs->options */
    ModelQDict *explicit_options;
    bool read_only;         /* !BDRV_O_RDWR */
    bool auto_read_only, nocache, noflush, unmap;
    int detect_zeroes;      /* MODEL_DZ_* */
    bool force_share;
    int inherits_from;      /* node id, 0 for none */
    bool implicit;          /* job filter without a user-given name */
    bool monitor_owned;
    char *iothread;         /* AioContext: NULL = main loop, else iothread id */
    ModelChild *children;   /* newest first (QLIST_INSERT_HEAD) */
    size_t n_children;
    /* driver state */
    char *filename;         /* file: the path; others: NULL */
    unsigned lock_perm, lock_shared; /* file: the lock bytes its open file description
                                        holds (file-posix's s->perm, s->shared_perm): the
                                        permissions of the last refresh that succeeded */
    uint64_t size;          /* null-co: size; raw: size (has_size) */
    uint64_t total;         /* bs->total_sectors * 512 (drivers without a variable length) */
    uint64_t offset;        /* raw */
    bool has_size;          /* raw */
    bool read_zeroes;       /* null-co */
    char *throttle_group;   /* throttle */
    char *config;           /* blkdebug */
    char *backing_file;     /* qcow2: header backing name (bs->backing_file) */
    char *auto_backing_file;/* qcow2: bs->auto_backing_file (combined path) */
    char *backing_fmt;      /* qcow2: backing format from the header */
    bool qcow2_dirty;       /* qcow2: the header's dirty bit (s->incompatible_features) */
    bool qcow2_changed;     /* qcow2: changed its image since open (model_io_qcow2_change()) */
    char *qcow2_image;      /* qcow2: path of the image whose header and L1 table it read at open */
    uint64_t qcow2_gen;     /* qcow2: its image's meta_gen when it last wrote back its L2
                             * and refcount caches (open, reopen, flush) */
    uint64_t qcow2_serial;  /* qcow2: the ModelFile.serial of the image it opened */
    uint64_t serial;        /* unique in the process: no node of a later VM takes it */
    uint64_t data_gen;      /* moved by every reopen (options that change what it reads) */
    uint64_t l2_warm;       /* qcow2: the L2 slices (by index, 0-63) in its L2 cache */
    unsigned quorum_next;   /* quorum: next child index */
    bool rewrite_corrupted; /* quorum (vote mode only) */
    bool quorum_fifo;       /* quorum: read-pattern fifo (the first child that reads) */
    bool quorum_blkverify;  /* quorum: blkverify=on (two children must agree, or QEMU exits) */
    unsigned take_perms, unshare_perms;  /* blkdebug */
    uint64_t align;         /* blkdebug: request_alignment override (0: none) */
    uint64_t dbg_max_transfer; /* blkdebug: max_transfer override (0: none) */
    ModelDbgRule *dbg_rules;/* blkdebug: rules in definition order */
    size_t n_dbg_rules;
    bool dbg_written;       /* blkdebug: a write request reached it since open (never cleared) */
    uint64_t max_transfer;  /* bs->bl.max_transfer as the last bdrv_refresh_limits() left
                             * it (0: none; model_io_refresh_limits()) */
} ModelNode;

/* A parent that is not a node: a BlockBackend (child_root: a scsi-hd
 * device's, or one a job made), or a job's own child (child_job,
 * block_job_add_bdrv()). */
/* A device's BlockBackend, a job's (s->blk, s->target...), a job's own
 * BdrvChild, and the one QEMU 7.2 leaks when a block-stream fails after
 * making it (owned by nobody, unnamed). */
typedef enum ModelBlkKind {
    MODEL_BLK_DEVICE, MODEL_BLK_JOB, MODEL_BLK_JOB_CHILD, MODEL_BLK_LEAKED
} ModelBlkKind;

typedef struct ModelBlk {
    ModelBlkKind kind;
    char *owner;            /* device id (may be NULL: anonymous) or job id */
    int node;               /* root node id */
    unsigned perm, shared;
    uint64_t seq;
    char *iothread;         /* device: its controller's iothread */
    const char *child_name; /* "root", or the job child's name ("main node", ...) */
} ModelBlk;

typedef struct ModelDevice {
    char *id;               /* may be NULL */
    char *driver;           /* "virtio-scsi", "scsi-hd" */
    char *iothread;         /* virtio-scsi */
    char *bus;              /* scsi-hd: the bus as given, or NULL */
    long ctrl;              /* scsi-hd: its controller's index in devices[] */
    unsigned target, lun;   /* scsi-hd: its SCSI address on that bus (channel 0) */
} ModelDevice;

typedef enum ModelJobStatus {
    MODEL_JOB_CREATED, MODEL_JOB_RUNNING, MODEL_JOB_READY, MODEL_JOB_WAITING,
    MODEL_JOB_PENDING, MODEL_JOB_ABORTING, MODEL_JOB_CONCLUDED, MODEL_JOB_NULL,
} ModelJobStatus;

typedef enum ModelJobType { MODEL_JOB_STREAM, MODEL_JOB_COMMIT, MODEL_JOB_ACTIVE_COMMIT } ModelJobType;

typedef struct ModelJob {
    char *id;
    ModelJobType type;
    ModelJobStatus status;
    bool auto_finalize, auto_dismiss;
    bool pivot;             /* active commit: block-job-complete, not a soft cancel */
    bool cancelled;         /* aborted: job->ret is -ECANCELED */
    bool keeps_children;    /* ended, its own children kept until the dismissal */
    int frozen_to;          /* its frozen chain runs from its filter down to this node */
    int filter;             /* id of the job's filter node */
    int top, base;          /* node ids: top of the chain, base (commit; a stream's is
                             * below frozen_to when it runs, below above_base at its end) */
    int above_base;         /* stream: the node whose filter-or-COW child is the base */
    char *backing_file_str; /* backing-file argument, or NULL */
    uint64_t len;           /* progress total (0: nothing to do) */
    uint64_t offset;        /* progress done */
    int64_t speed;          /* the speed argument: only reported, no time is modelled */
    bool was_ro;            /* commit: the base, stream: the top was reopened read-write */
} ModelJob;

typedef struct ModelWorld {
    ModelNode **nodes;      /* in node-name assignment order */
    size_t n_nodes;
    ModelBlk *blks;
    size_t n_blks;
    ModelDevice *devices;
    size_t n_devices;
    char **groups;          /* throttle-group objects */
    size_t n_groups;
    char **iothreads;       /* iothread objects */
    size_t n_iothreads;
    ModelJob *jobs;
    size_t n_jobs;
    int next_id;
    uint64_t next_seq;
    unsigned auto_counter;  /* id_generate(ID_BLOCK) */
} ModelWorld;

ModelWorld *model_graph_new(void);
void model_graph_free(ModelWorld *w);
ModelWorld *model_graph_copy(const ModelWorld *w);
ModelNode *model_graph_node(const ModelWorld *w, int id);
ModelNode *model_graph_find(const ModelWorld *w, const char *name);
ModelNode *model_graph_node_new(ModelWorld *w, const ModelDriver *drv);
void model_graph_node_free(ModelNode *n);
/* Attach CHILD under PARENT as NAME (head of the children list). */
ModelChild *model_graph_attach(ModelWorld *w, ModelNode *parent, ModelNode *child,
                               const char *name, unsigned role);
/* Detach PARENT's child NAME; returns the child id or 0. */
int model_graph_detach(ModelWorld *w, ModelNode *parent, const char *name);
ModelChild *model_graph_child(const ModelNode *n, const char *name);
ModelNode *model_graph_child_node(const ModelWorld *w, const ModelNode *n, const char *name);
/* bs->backing, bs->file (the primary child for filters), bdrv_filter_bs() */
ModelNode *model_graph_backing(const ModelWorld *w, const ModelNode *n);
ModelNode *model_graph_file(const ModelWorld *w, const ModelNode *n);
ModelNode *model_graph_filtered(const ModelWorld *w, const ModelNode *n);
ModelNode *model_graph_skip_implicit(const ModelWorld *w, ModelNode *n);
/* bdrv_recurse_has_child(): TARGET reachable from FROM (FROM itself included). */
bool model_graph_reaches(const ModelWorld *w, const ModelNode *from, const ModelNode *target);
/* Number of parents (edges), BlockBackends and the monitor's reference. */
int model_graph_refcnt(const ModelWorld *w, const ModelNode *n);
/* bdrv_has_blk(): a BlockBackend (not a job's own child) on N. */
bool model_graph_has_blk(const ModelWorld *w, const ModelNode *n);
/* bdrv_is_root_node(): every parent is a BlockBackend. */
bool model_graph_is_root(const ModelWorld *w, const ModelNode *n);
/* bdrv_filter_or_cow_bs(), bdrv_skip_filters() */
ModelNode *model_graph_filter_or_cow(const ModelWorld *w, const ModelNode *n);
ModelNode *model_graph_skip_filters(const ModelWorld *w, ModelNode *n);
/* bdrv_replace_node(FROM, TO): every parent of FROM but TO (and a job's own
 * children, which stay at their node) moves to TO. */
void model_graph_replace_node(ModelWorld *w, ModelNode *from, ModelNode *to);
/* bdrv_freeze_backing_chain() / bdrv_unfreeze_backing_chain(): the filtered
 * or COW links from FROM down to TO (not TO's own) are frozen or thawed. */
void model_graph_freeze_chain(ModelWorld *w, ModelNode *from, const ModelNode *to, bool frozen);
/* N's parents after a filter was inserted above N and dropped again: every
 * edge to N first in its parent's children list, N's newest parents. */
void model_graph_reattach_parents(ModelWorld *w, ModelNode *n);
/* An edge a transaction's abort put back: to the head of both lists. */
void model_graph_reattach_edge(ModelWorld *w, ModelNode *parent, uint64_t seq);
/* bdrv_op_is_blocked(): the reason of N's newest blocker of OP (a job's, or
 * a backing parent's), owned; NULL if OP is not blocked. */
typedef enum ModelOp {
    MODEL_OP_DRIVE_DEL, MODEL_OP_STREAM, MODEL_OP_COMMIT_SOURCE, MODEL_OP_COMMIT_TARGET,
    MODEL_OP_DATAPLANE,
} ModelOp;
char *model_graph_op_blocker(const ModelWorld *w, const ModelNode *n, ModelOp op);
/* Drop nodes nothing references any more (bdrv_unref to 0), children first. */
void model_graph_collect(ModelWorld *w);
bool model_graph_group_exists(const ModelWorld *w, const char *id);
bool model_graph_iothread_exists(const ModelWorld *w, const char *id);
ModelJob *model_graph_job(const ModelWorld *w, const char *id);
/* bdrv_get_device_or_node_name() */
const char *model_graph_device_or_node_name(const ModelWorld *w, const ModelNode *n);

/* ======================================================================
 * The model state: files + world + VM (model_backend.c)
 * ====================================================================== */

typedef struct ModelState {
    char *scratch;
    ModelFiles files;
    ModelWorld *w;
    bool vm;                /* a VM runs */
    bool pc;                /* ... with machine "pc" (a PCI bus), not "none" */
    unsigned anon_devices;  /* devices added without id: /machine/peripheral-anon/device[N] */
    BgBuf log;              /* what the running VM printed (qemu-io) */
    char *last_log;         /* log of the VM that ended last */
    bool log_incomplete;    /* an HMP step of this VM the model did not answer (its output
                             * is missing from the log: the shutdown is unsupported) */
    json_t *queue;          /* events not yet waited for */
    json_t *throttled;      /* rate-limited events sent in this VM's life (keys) */
    json_t *step_events;    /* events of the current step (borrowed by the step) */
    const char *unsupported;/* set by a command the model cannot answer (static text) */
    const char *lost;       /* a job's end the model does not follow (its copy met an
                             * error it does not model), or a flush into an image file
                             * made anew under its node: the graph, the images and the
                             * jobs are unknown from then on, so every later step of
                             * the stream is unsupported (static text) */
    const char *err_class;  /* an error class other than GenericError (static text) */
} ModelState;

/* Raise an event: the step's list and the queue. */
void model_event(ModelState *st, const char *name, json_t *take_data);

/* ======================================================================
 * Opening nodes (model_open*.c): blockdev-add, bdrv_open_inherit()
 * ====================================================================== */

/* blockdev-add of validated ARGS on world W (which the caller discards on error). */
bool model_open_blockdev_add(ModelState *st, ModelWorld *w, const json_t *args, BgError *err);
/* Open a node from a flattened options dict (takes OPTIONS); FILENAME is
 * bdrv_open_inherit()'s (NULL but down a backing node's `file` chain). */
ModelNode *model_open_node(ModelState *st, ModelWorld *w, ModelQDict *take_options,
                           const char *filename, ModelNode *parent, const char *child_name,
                           unsigned role, BgError *err);
/* bdrv_inherited_options() */
void model_open_inherit(unsigned role, bool parent_is_format, ModelQDict *child_options,
                        const ModelQDict *parent_options);
/* Flags from options (update_flags_from_options()): read-only etc. */
void model_open_flags_from_options(ModelNode *n, const ModelQDict *opts);
/* The value of a bool-ish generic option ("on"/"off" strings or JSON bools). */
bool model_open_opt_bool(const ModelQDict *opts, const char *key, bool dflt, bool *is_valid);
/* bdrv_open_child_bs() + bdrv_attach_child(): open or look up the child KEY
 * of PARENT from OPTS (which loses "KEY" and "KEY.*"); NULL on failure (ERR
 * or st->unsupported set) or for no such child and ALLOW_NONE.  FILENAME:
 * the name bdrv_open_backing_file() hands down a backing node's `file`
 * chain, or NULL.  ATTACH: attach it here (and refresh the permissions
 * below). */
ModelNode *model_open_child_bs(ModelState *st, ModelWorld *w, ModelQDict *opts,
                               const char *filename, const char *key, ModelNode *parent,
                               unsigned role, bool allow_none, bool attach, BgError *err);
/* The driver's own open of N on what bdrv_open_common() left of OPTS,
 * taking the options it reads out of OPTS (model_open_driver.c). */
bool model_open_driver(ModelState *st, ModelWorld *w, ModelNode *n, ModelQDict *opts, BgError *err);
/* raw offset/size (raw_apply_options(), model_open_driver.c). */
bool model_open_raw_apply(ModelState *st, const ModelWorld *w, ModelNode *n, const ModelQDict *opts,
                          BgError *err);
/* throttle's group (throttle_parse_options(), at open and at reopen): the
 * group OPTS names, which must exist, or NULL and ERR (model_open_driver.c). */
const char *model_open_throttle_group(const ModelWorld *w, const ModelQDict *opts, BgError *err);
/* The image file under a qcow2 node (its `file` through filters), or NULL. */
ModelFile *model_open_qcow2_file(ModelState *st, const ModelWorld *w, const ModelNode *n);
/* Host-file or node length. */
uint64_t model_open_length(ModelState *st, const ModelWorld *w, const ModelNode *n);

/* ======================================================================
 * blkdebug (model_blkdebug.c)
 * ====================================================================== */

/* blkdebug_open() before the image is opened: rules, permission modifiers. */
bool model_blkdebug_open(ModelState *st, ModelNode *n, ModelQDict *opts, BgError *err);
/* ... and after: alignment and limit overrides, then the "none" event. */
bool model_blkdebug_limits(ModelNode *n, ModelQDict *opts, BgError *err);
/* bdrv_debug_event() on N (a no-op unless N is a blkdebug node). */
void model_blkdebug_event(ModelNode *n, int event);
/* Could bdrv_flush() of N fail on a blkdebug rule below it (not modelled)? */
bool model_blkdebug_flush_may_fail(const ModelWorld *w, const ModelNode *n);
/* Could a job's copy request meet an active error rule of a blkdebug node
 * below N (not modelled)? */
bool model_blkdebug_job_may_fail(const ModelWorld *w, const ModelNode *n);
/* Would an active rule of N for IOTYPE look at the request's offset? */
bool model_blkdebug_needs_offset(const ModelNode *n, int iotype);
/* Has a blkdebug node between N and its image file (N's `file` chain of
 * filters) an active rule that fails requests of one of IOTYPES (a mask of
 * 1 << MODEL_IO_*)?  The metadata I/O of a format node meets those. */
bool model_blkdebug_chain_rule(const ModelWorld *w, const ModelNode *n, unsigned iotypes);
/* rule_check(): 0 or -errno for a request of IOTYPE reaching N. */
int model_blkdebug_check(ModelNode *n, uint64_t off, uint64_t len, int iotype);

/* ======================================================================
 * qcow2 runtime options (model_qcow2.c)
 * ====================================================================== */

/* qcow2_update_options_prepare() on OPTS for the image F: checks, then the
 * consumed keys leave OPTS.  Huge caches: st->unsupported.  LAZY_IN_USE is
 * s->use_lazy_refcounts (false at open); *MARK_CLEAN is set when the checks
 * got as far as turning lazy refcounts off (qcow2_mark_clean() there, kept
 * even if a later check or the rest of the reopen fails). */
bool model_qcow2_update_options(ModelState *st, const ModelFile *f, bool lazy_in_use,
                                ModelQDict *opts, bool *mark_clean, BgError *err);
/* qemu_opts_absorb_qdict(): the first of KEYS (QEMU_OPT_SIZE options, NULL
 * terminated) in QDict order holding a negative integer fails. */
/* s->use_lazy_refcounts of the qcow2 node N: its lazy-refcounts option (the
 * model's images never carry the compat bit that is the default). */
bool model_qcow2_lazy_refcounts(const ModelNode *n);
/* The clusters one L2 slice maps (block status runs end there). */
uint64_t model_qcow2_l2_slice_clusters(const ModelNode *n);
/* qcow2_alloc_cluster_link_l2(): a write that LINKED clusters into the L2
 * tables of qcow2 node N marks the image dirty under lazy refcounts. */
void model_qcow2_linked(ModelNode *n, bool linked);
bool model_qcow2_opts_sizes(const ModelQDict *opts, const char *const *keys, BgError *err);

/* ======================================================================
 * QAPI input validation (model_qapi.c)
 * ====================================================================== */

/* object-add of a throttle-group named ID (model_throttle.c): the QAPI
 * visit of its properties, the properties set in QEMU's order, the id's
 * namespace and the configuration's check, each error as QEMU gives it. */
bool model_throttle_group_add(ModelWorld *w, const json_t *args, const char *id, BgError *err);

/* Validate BlockdevOptions OBJ; PATH is the visitor's path prefix ("" or "options[0]"). */
bool model_qapi_blockdev_options(const json_t *obj, const char *path, BgError *err);
/* qobject_input_check_struct(): the member of OBJ QEMU names as unexpected,
 * TAKEN (in visit order) being those the visit took; NULL when none is left. */
const char *model_qapi_first_unexpected(const json_t *obj, const char *const *taken,
                                        size_t n_taken);
/* Validate blockdev-reopen's arguments {"options": [...]}. */
bool model_qapi_blockdev_reopen(const json_t *args, BgError *err);
/* Schema-order copy of a validated BlockdevOptions object (output visitor). */
json_t *model_qapi_output(const json_t *obj);

/* ======================================================================
 * Reopen (model_reopen.c)
 * ====================================================================== */

bool model_reopen(ModelState *st, const json_t *options_list, BgError *err);
/* bdrv_reopen_set_read_only() on world W in place (W is a scratch copy). */
bool model_reopen_set_read_only(ModelState *st, ModelWorld *w, ModelNode *n, bool read_only,
                                BgError *err);

/* ======================================================================
 * Permissions (model_perm.c)
 * ====================================================================== */

/* Recompute every edge's permissions from scratch and check the nodes of
 * ORDER (ids, in order) first, then all others.  First error wins. */
bool model_perm_refresh(ModelWorld *w, const int *order, size_t n_order, BgError *err);
/* bdrv_refresh_perms(N): the same with N's subtree (topologically) first. */
bool model_perm_refresh_below(ModelWorld *w, const ModelNode *n, BgError *err);
/* The same, telling "Block node is read-only" (read-only in OLD too) from
 * "Read-only block node ... cannot support read-write users". */
bool model_perm_refresh_from(ModelWorld *w, const ModelWorld *old, const int *order, size_t n_order,
                             BgError *err);
/* raw_check_lock_bytes() for a file description of another process (qemu-img,
 * qemu-io) on the file PATH that takes PERM and shares SHARED, against the
 * lock bytes the file nodes of W (the VM's, or NULL) that lock PATH hold;
 * false with its error. */
bool model_perm_other_locks(const ModelWorld *w, const char *path, unsigned perm, unsigned shared,
                            BgError *err);
/* raw_co_create() (qemu-img create, for either format): its locks on the
 * file PATH (WRITE and RESIZE taken, RESIZE not shared); as above. */
bool model_perm_create_locks(const ModelWorld *w, const char *path, BgError *err);
/* model_perm_refresh(); a lock failure's hint (error_append_hint(), owned, or
 * NULL) in *HINT, for the HMP monitor, which prints hints. */
bool model_perm_refresh_hint(ModelWorld *w, const int *order, size_t n_order, char **hint,
                             BgError *err);
/* bdrv_topological_dfs(): add N's subtree to LIST (ids). */
void model_perm_topo(const ModelWorld *w, const ModelNode *n, int **list, size_t *len);
/* bdrv_get_cumulative_perm(): what N's parents (nodes and BlockBackends)
 * take of it, and what all of them share. */
void model_perm_cumulative(const ModelWorld *w, const ModelNode *n, unsigned *perm, unsigned *shared);
char *model_perm_names(unsigned perm);

/* ======================================================================
 * Queries (model_query.c)
 * ====================================================================== */

/* NULL and st->unsupported when a job's filter lost its child (QEMU 7.2 crashes). */
json_t *model_query_named_block_nodes(ModelState *st, bool flat);
/* bdrv_refresh_filename(): the node's filename (owned). */
char *model_query_filename(ModelState *st, const ModelWorld *w, const ModelNode *n);
/* bdrv_dirname(): N's base directory with its trailing '/' (owned), NULL
 * with ERR set when it has none. */
char *model_query_dirname(ModelState *st, const ModelWorld *w, const ModelNode *n, BgError *err);
/* bdrv_make_absolute_filename(): NAME relative to N's directory (owned),
 * NULL for an empty NAME or without a directory. */
char *model_query_make_absolute(ModelState *st, const ModelWorld *w, const ModelNode *n,
                                const char *name, BgError *err);
/* bdrv_get_info(): the node whose driver answers for N (borrowed; N or one
 * below it), NULL when none does; *CLUSTER_SIZE 0 for a file. */
const ModelNode *model_query_get_info(const ModelWorld *w, const ModelNode *n, unsigned *cluster_size);
/* bdrv_get_specific_info() of N: {"type", "data"} for a qcow2 node, else NULL. */
json_t *model_query_specific_info(const ModelNode *n);
json_t *model_query_block_jobs(ModelState *st);
json_t *model_query_jobs(ModelState *st);

/* ======================================================================
 * Data path (model_io*.c) and qemu-io (model_qemuio.c)
 * ====================================================================== */

/* What a request left undone: a reason the model cannot answer
 * (unsupported, static text), or bytes it does not know (unknown). */
typedef struct ModelIoStatus {
    const char *unsupported;
    bool unknown;
    uint8_t *known;         /* in (may be NULL): one flag a byte of a read's buffer, all set;
                             * a raw read of qcow2 metadata clears those it does not know */
    bool known_lost;        /* out: some unknown bytes are not in KNOWN (they came through a
                             * buffer of the model's own, or decided something below) */
} ModelIoStatus;
enum { MODEL_WR_ZERO = 1, MODEL_WR_MAY_UNMAP = 2, MODEL_WR_COMPRESSED = 4 };

/* Requests through node N, 0 or -errno (model_io.c). */
int model_io_pread(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                   ModelIoStatus *s);
/* The same in world W (an open's copy of the world, before it replaces
 * st->w); QEMU_BUFFER: QEMU reads into a buffer of its own (on its stack, or a
 * bounce buffer), which a null node without read-zeroes leaves as it was:
 * unknown bytes. */
int model_io_pread_in(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t off, uint64_t len,
                      uint8_t *buf, bool qemu_buffer, ModelIoStatus *s);
int model_io_pwrite(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, const uint8_t *buf,
                    unsigned flags, ModelIoStatus *s);
int model_io_pdiscard(ModelState *st, ModelNode *n, uint64_t off, uint64_t len, ModelIoStatus *s);
/* bdrv_refresh_limits() of N (of W), for the one limit the data path asks
 * (max_transfer, copy-on-read's run length): called where QEMU 7.2 calls
 * it (a node's open, bdrv_set_file_or_backing_noperm() for the parent,
 * bdrv_reopen_commit(), bdrv_append() for the node below the new one);
 * parents are not refreshed, so theirs may be stale. */
void model_io_refresh_limits(ModelWorld *w, ModelNode *n);
/* After a write into qcow2 image F of node N (of W) outside model_io.c: the
 * nodes down to its file node grow to the image file's end. */
void model_io_host_grew(ModelWorld *w, const ModelNode *n, const ModelFile *f);
/* Before qcow2 node N (of W) changes its image (write, discard, a job's
 * copy or growth): false with a reason when another qcow2 node is open on
 * the image file; else N is recorded as having changed it. */
bool model_io_qcow2_change(ModelState *st, const ModelWorld *w, ModelNode *n,
                           const char **unsupported);
/* At the open of qcow2 node N: another qcow2 node open on its image file has
 * changed it, maybe only in its own metadata caches. */
bool model_io_qcow2_unflushed(ModelState *st, const ModelWorld *w, const ModelNode *n);
/* Whether F's L2 tables and refcount blocks on disk are the model's: no
 * qcow2 node open read-write on F (in the VM's world or W) changed them
 * since it last wrote back its caches. */
bool model_io_qcow2_meta_on_disk(ModelState *st, const ModelWorld *w, const ModelFile *f);
/* qcow2 node N wrote back its L2 and refcount caches (its open, a reopen, a
 * flush): ModelNode.qcow2_gen. */
/* Would a flush of N (its subtree's) write the caches of a qcow2 node that
 * changed its image into a file img-create made anew since that node opened
 * it?  Where those writes land is not followed (regress/202). */
bool model_io_qcow2_stale_flush(ModelState *st, const ModelWorld *w, const ModelNode *n);
/* Whether N's open did not read F (a reopen gave it another image's file,
 * or img-create made the image anew since): C's *UNSUPPORTED says why. */
bool model_io_qcow2_foreign(const ModelNode *n, const ModelFile *f, const char **unsupported);
void model_io_qcow2_written_back(ModelState *st, const ModelWorld *w, ModelNode *n);
/* A read whose every byte the model knows, into a buffer of the block
 * layer's own (a job's: a null node without read-zeroes leaves it
 * unknown); false with a reason otherwise. */
bool model_io_read(ModelState *st, const ModelNode *n, uint64_t off, uint64_t len, uint8_t *buf,
                   const char **unsupported);
/* Block status (model_io_status.c): bdrv_is_allocated() of CLUSTER in N (a
 * node of W) itself (a qcow2 image's map; filters and raw ask their child;
 * file holds everything). */
bool model_io_allocated(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t cluster);
/* The node whose block status answers for *CLUSTER of N (through filters
 * and raw), *CLUSTER moved to its own; NULL: not modelled (st->unsupported). */
ModelNode *model_io_status_node(ModelState *st, ModelWorld *w, ModelNode *n, uint64_t *cluster);
/* qcow2.c is_zero(): does [OFF, OFF + LEN) of N read as zeroes by block
 * status down the whole chain?  1 yes, 0 no, -1 the model cannot tell. */
int model_io_reads_as_zero(ModelState *st, ModelNode *n, uint64_t off, uint64_t len);
/* How many bytes of N (qcow2, raw or file) from OFF (at most LEN) does a read
 * return that the model never stored (zeroes)?  0 when unsure (backend.h
 * known_zero). */
uint64_t model_io_known_zero(ModelState *st, const ModelNode *n, uint64_t off, uint64_t len);
/* HMP qemu-io NODE "CMD": fills res (return "" or an error string) (model_qemuio.c). */
void model_io_hmp(ModelState *st, const char *command_line, BgResult *res);
/* `io` step (offline qemu-io). */
void model_io_offline(ModelState *st, const json_t *spec, BgResult *res);

/* ======================================================================
 * Jobs (model_job.c)
 * ====================================================================== */

/* block-stream, block-commit (model_job_start.c): checks, filter, job. */
bool model_job_block_stream(ModelState *st, const json_t *args, BgError *err);
bool model_job_block_commit(ModelState *st, const json_t *args, BgError *err);
/* The job's own BlockBackends and children (block_job_create(),
 * block_job_add_bdrv()), and its first two status changes. */
void model_job_add_blk(ModelWorld *w, ModelBlkKind kind, const char *job, int node, unsigned perm,
                       unsigned shared, const char *child_name);
void model_job_started(ModelState *st, ModelJob *j);
/* The job verbs: job-* and block-job-* commands. */
bool model_job_command(ModelState *st, const char *cmd, const json_t *args, BgError *err);
/* Advance JOB by one transition; false when it cannot move without a command. */
/* bdrv_is_allocated_above() cluster by cluster down a chain, for the
 * jobs' copies and a copy-on-read filter's `bottom` (model_job.c).
 * MODEL_CHAIN_ALLOC says where the cluster's block status comes from: the
 * layer that holds it and what it is there (a qcow2 cluster type
 * MODEL_CL_*, MODEL_RUN_DATA for other drivers, MODEL_RUN_PAST_END for
 * the zeroes past a shorter layer's end), with its host cluster (qcow2). */
enum { MODEL_CHAIN_EOF, MODEL_CHAIN_FREE, MODEL_CHAIN_ALLOC };
enum { MODEL_RUN_DATA = 16, MODEL_RUN_PAST_END };
typedef struct ModelChainRun {
    int layer;
    int type;
    uint64_t host;
} ModelChainRun;
int model_job_chain_status(ModelState *st, ModelWorld *w, ModelNode *top, ModelNode *base,
                           ModelNode *dest, uint64_t off, uint64_t len, ModelChainRun *run);
bool model_job_run_continues(const ModelChainRun *prev, const ModelChainRun *next);
/* model_job_copy.c: the copy of TOP's chain above BASE into DEST at a job's
 * end, how QEMU's stream (copy on read), commit or active commit (mirror)
 * copies it; a shorter base grown first (0 or -errno); a header's backing
 * name rewritten; the COW parents of N (ids, oldest first, N_OUT of them,
 * owned) and the rewrite of one's header with QEMU's read-only round trip. */
enum { MODEL_COPY_COMMIT, MODEL_COPY_STREAM, MODEL_COPY_MIRROR };
void model_job_copy_data(ModelState *st, ModelNode *top, ModelNode *base, ModelNode *dest,
                         int how);
int model_job_grow_base(ModelState *st, ModelNode *top, ModelNode *base);
void model_job_set_header_backing(ModelState *st, ModelNode *n, ModelNode *base, const char *str,
                                  bool skip_filters);
int *model_job_cow_parents(const ModelWorld *w, const ModelNode *n, size_t *n_out);
void model_job_update_filename(ModelState *st, ModelNode *parent, ModelNode *base,
                               const char *str);
bool model_job_step(ModelState *st, ModelJob *job);
/* quit: cancel every job that has not ended, dismiss the concluded ones. */
void model_job_cancel_all(ModelState *st);
/* The driving steps: wait-event, wait-job, run-job. */
void model_job_wait_event(ModelState *st, const json_t *spec, BgResult *res);
void model_job_wait_job(ModelState *st, const char *id, BgResult *res);
void model_job_run_job(ModelState *st, const json_t *spec, BgResult *res);

/* ======================================================================
 * AioContexts (model_aio.c)
 * ====================================================================== */

/* Before PARENT takes CHILD: move one side's subgraph into the other's context. */
bool model_aio_attach(ModelWorld *w, ModelNode *parent, ModelNode *child, BgError *err);
/* Move N's subgraph into CTX (a device's BlockBackend refuses). */
bool model_aio_move(ModelWorld *w, ModelNode *n, const char *ctx, BgError *err);

/* ======================================================================
 * Invariants (model_check.c)
 * ====================================================================== */

bool model_check(const ModelState *st);

#endif
