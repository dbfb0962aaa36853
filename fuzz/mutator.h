/*
 * mutator.h: the structure-aware mutator of command streams (issue 5,
 * item 2): what LLVMFuzzerCustomMutator and LLVMFuzzerCustomCrossOver call.
 *
 * What this is: edits of a stream as a stream.  The input bytes are read as
 * JSON Lines (jansson), one step per line, metadata kept; a mutation is one
 * of the BgMutKind edits below, made with the resources alive at the edited
 * point (mut_state.h); the result is written back as JSON Lines, one step
 * per line (unchanged lines byte for byte).  Every output is checked
 * against the rules of bg_stream_parse(), the reader the tools use (each
 * new or edited line with its own bg_step_from_json(), the rules between
 * lines as common/stream.c has them: mut_lines.h), and against the
 * live-node rule (an edit never makes a step name a node that is not alive
 * there); an edit that fails either is retried with the next random
 * numbers, and after a few failures a fresh generated stream (gen.h) is
 * returned, or the empty stream when nothing else fits in MAX_SIZE.  Input
 * lines that are not valid steps are dropped (repair); an input with no
 * valid step is replaced by a generated stream.
 *
 * Expectations: the backends are compared with each other, so mutated
 * streams need no `expect`.  A step's result depends only on the steps
 * before it, so the `expect` of every line BEFORE the first edited line is
 * still right and is kept (free extra assertions, and the prefix of a seed
 * stays a readable reproducer); from the first edited line on, every
 * `expect` is dropped.  Generated steps never carry one.  `seed`, `comment`,
 * `save` and `bind` are kept on the lines that keep them.
 *
 * Bounds (well inside common/bg.h): at most BG_MUT_MAX_STEPS steps (longer
 * inputs are only shortened), generated images of at most 16 MiB, qemu-io
 * requests of at most 1 MiB inside the node, at most 3 images deep of nested
 * definitions.  Outputs never exceed MAX_SIZE bytes.
 *
 * Deterministic: the output depends only on (input bytes, MAX_SIZE, seed):
 * splitmix64 seeded from SEED (mut_rand.h), no global state, no clock.
 * Object member order is jansson's insertion order, independent of its hash
 * seed.
 *
 * What it is not: the harness (issue 5 item 1), which owns the libFuzzer
 * entry points, decides how often to call LLVMFuzzerMutate for byte-level
 * edits with fuzz/blockgraph.dict, and compares the backends.
 * Ideas from: libFuzzer's custom mutator API (llvm/docs/LibFuzzer.rst,
 * google/fuzzing docs/structure-aware-fuzzing.md), syzkaller's program
 * mutations (prog/mutation.go: insert, remove, mutate argument, splice) and
 * its resources, cryptofuzz's mutator that only ever emits valid operations.
 */
#ifndef BG_MUTATOR_H
#define BG_MUTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Steps a mutated stream may have (the longest seed has about 60). */
#define BG_MUT_MAX_STEPS 96
/* Edits tried before falling back to a generated stream. */
#define BG_MUT_ATTEMPTS  8

typedef enum BgMutKind {
    BG_MUT_INSERT,          /* a generated step of any kind at a point of the VM part */
    BG_MUT_DROP,            /* a step removed */
    BG_MUT_DUPLICATE,       /* a step copied, next to it or later */
    BG_MUT_MOVE,            /* a step moved within its part (offline or VM) */
    BG_MUT_OPTION,          /* an option of a node definition changed or left out */
    BG_MUT_CHILD,           /* file/backing/image pointed at another live node, null, or left out */
    BG_MUT_FILTER_INSERT,   /* throttle/compress/copy-on-read inserted above or below a node */
    BG_MUT_FILTER_REMOVE,   /* a filter taken out of the graph and deleted */
    BG_MUT_THROTTLE_GROUP,  /* object-add/object-del of a throttle group, or a group switch */
    BG_MUT_IO,              /* HMP qemu-io read/write/write -z -u inside a node */
    BG_MUT_JOB,             /* block-stream/block-commit started, or a job driven */
    BG_MUT_REOPEN_MULTI,    /* a blockdev-reopen of several nodes in one transaction */
    BG_MUT_DEL,             /* blockdev-del of a live node */
    BG_MUT_ADD_NODE,        /* blockdev-add of a node or subtree */
    BG_MUT_VALUE,           /* a value of another step: image size, io range, job flags, machine */
    BG_MUT_IMAGE,           /* img-create or an offline io write before the VM starts */
    BG_MUT_CROSSOVER,       /* steps of another stream spliced in (bg_crossover) */
    BG_MUT_GENERATE,        /* a fresh generated stream (empty/unusable input, or fallback) */
    BG_MUT_EMPTY,           /* the empty stream: nothing else fits in MAX_SIZE */
    BG_MUT__COUNT
} BgMutKind;

/* What one call did (for tests and the benchmark; pass NULL when not needed). */
typedef struct BgMutInfo {
    BgMutKind kind;       /* the edit that produced the output */
    unsigned attempts;    /* edits tried: 1 when the first one was accepted */
    unsigned dropped;     /* input lines dropped because they were not valid steps */
} BgMutInfo;

const char *bg_mut_kind_name(BgMutKind kind);

/*
 * Mutate the stream DATA[0..SIZE) in place; DATA has room for MAX_SIZE
 * bytes.  Returns the new size (at most MAX_SIZE).
 */
size_t bg_mutate(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t bg_mutate_ex(uint8_t *data, size_t size, size_t max_size, unsigned int seed,
                    BgMutInfo *info);

/*
 * Write into OUT (room for MAX_OUT bytes) a stream made of D1 with a run of
 * D2's VM steps spliced in (inserted, or replacing D1's tail), node names of
 * D2 mapped onto D1's live nodes.  Returns the size written.
 */
size_t bg_crossover(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                    size_t max_out, unsigned int seed);
size_t bg_crossover_ex(const uint8_t *d1, size_t s1, const uint8_t *d2, size_t s2, uint8_t *out,
                       size_t max_out, unsigned int seed, BgMutInfo *info);

#endif
