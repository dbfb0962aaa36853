/*
 * model_sparse.c: a byte array that stores only the chunks written.
 *
 * What this is: the storage behind the model's image contents (ModelFile's
 * raw bytes and qcow2 guest bytes).  The array is cut into MODEL_SPARSE_CHUNK
 * byte chunks; a chunk never written (or zeroed whole since) is not stored
 * and reads as zeroes, exactly as the flat, zero-filled array it replaces.
 * Why: images are created at up to 64 MiB and a stream writes a few KiB of
 * them; a flat array cost a calloc of the whole size per img-create and a
 * free per close, which dominated the differential fuzz harness's time
 * (under ASan every large allocation also poisons its shadow and passes
 * through the quarantine).
 * What it is not: a model of allocation.  Which qcow2 clusters are
 * allocated, zero or compressed is ModelFile's cl/host tables; whether a
 * chunk is stored here means nothing to the guest.
 */
#include <sanitizer/asan_interface.h>   /* no-ops without ASan */
#include <stdlib.h>
#include <string.h>

#include "bg.h"
#include "model.h"

/*
 * Chunks given back, kept for the next ones (as common/bigbuf.c keeps
 * request buffers): under ASan a freed chunk sits in the quarantine and a
 * new one is fresh memory, 16 page faults on its first write (most of the
 * model's page-fault time in the ASan harness, by perf).  Poisoned
 * while kept, so a use after model_sparse_cleanup() is still reported.
 * Contents are undefined when taken, as malloc's are.  Not common/bigbuf.h's
 * cache: its buffers are 4 KiB-aligned (the engine's O_DIRECT), and chunks
 * so aligned made the model's reads into the runner's chunk buffers 4 KiB
 * aliased copies (release user time per fuzz input 0.53 -> 0.80 ms).
 */
#define POOL_MAX 64
static _Thread_local uint8_t *pool[POOL_MAX];
static _Thread_local size_t n_pool;

static uint8_t *chunk_get(bool zeroed)
{
    if (!n_pool)
        return zeroed ? bg_calloc(MODEL_SPARSE_CHUNK, 1) : bg_malloc(MODEL_SPARSE_CHUNK);
    uint8_t *c = pool[--n_pool];
    ASAN_UNPOISON_MEMORY_REGION(c, MODEL_SPARSE_CHUNK);
    if (zeroed)
        memset(c, 0, MODEL_SPARSE_CHUNK);
    return c;
}

static void chunk_put(uint8_t *c)
{
    if (!c || n_pool == POOL_MAX) {
        free(c);
        return;
    }
    ASAN_POISON_MEMORY_REGION(c, MODEL_SPARSE_CHUNK);
    pool[n_pool++] = c;
}

void model_sparse_cleanup(ModelSparse *s)
{
    for (uint64_t i = 0; i < s->n; i++)
        chunk_put(s->chunk[i]);
    free(s->chunk);
    *s = (ModelSparse){0};
}

void model_sparse_read(const ModelSparse *s, uint64_t off, uint64_t len, uint8_t *buf)
{
    while (len) {
        uint64_t i = off / MODEL_SPARSE_CHUNK, o = off % MODEL_SPARSE_CHUNK;
        uint64_t n = MODEL_SPARSE_CHUNK - o < len ? MODEL_SPARSE_CHUNK - o : len;
        if (i < s->n && s->chunk[i])
            memcpy(buf, s->chunk[i] + o, n);
        else
            memset(buf, 0, n);
        off += n;
        buf += n;
        len -= n;
    }
}

void model_sparse_write(ModelSparse *s, uint64_t off, uint64_t len, const uint8_t *buf)
{
    if (!len)
        return;
    uint64_t last = (off + len - 1) / MODEL_SPARSE_CHUNK;
    if (buf && last >= s->n) {
        s->chunk = bg_realloc(s->chunk, (last + 1) * sizeof(*s->chunk));
        memset(s->chunk + s->n, 0, (last + 1 - s->n) * sizeof(*s->chunk));
        s->n = last + 1;
    }
    while (len) {
        uint64_t i = off / MODEL_SPARSE_CHUNK, o = off % MODEL_SPARSE_CHUNK;
        uint64_t n = MODEL_SPARSE_CHUNK - o < len ? MODEL_SPARSE_CHUNK - o : len;
        if (!buf && i >= s->n)
            break;                                  /* zeroes past the stored end */
        if (!buf && n == MODEL_SPARSE_CHUNK) {
            chunk_put(s->chunk[i]);                 /* a whole chunk of zeroes */
            s->chunk[i] = NULL;
        } else if (!buf) {
            if (s->chunk[i])
                memset(s->chunk[i] + o, 0, n);
        } else {
            if (!s->chunk[i])   /* zeroed only if this write leaves some of it unwritten */
                s->chunk[i] = chunk_get(n < MODEL_SPARSE_CHUNK);
            memcpy(s->chunk[i] + o, buf, n);
            buf += n;
        }
        off += n;
        len -= n;
    }
}
