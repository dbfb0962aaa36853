/*
 * compare_data.c: the guest-visible bytes of every node two backends list,
 * compared (compare.h bg_compare_data()).
 *
 * What this is: a walk of each node both backends list (named by the user),
 * 64 KiB chunk by chunk, with memcmp; with skip_known_zero a chunk both
 * backends know from their metadata to be zeroes is not read at all (most
 * of a fuzz input's images: a few KiB written into up to 64 MiB).  The two
 * chunk buffers are the caller's, made once per run, not once per step.
 *
 * Nodes that have not changed (BgDataMemo): the runner compares after
 * every step that can change data, and most such steps change few nodes
 * (a blockdev-add adds one; the nodes before it keep their bytes), yet a
 * node's bytes were read again at every step (half of the bytes an 8-step
 * fuzz input compared, 84% at 32 steps, were those of a node unchanged
 * since its last comparison).  A node whose last comparison found both
 * sides equal is not read again when, for each backend, either
 *   - the backend's data_version (backend.h) of it has not moved, or
 *   - (a backend without data_version) the hash of its bytes, read again,
 *     is the one recorded then;
 * and at least one backend answered by its version (else nothing is saved).
 * The two sides were equal and neither has changed, so they still are.  A
 * data_version that stays put while the bytes move would hide a
 * difference: under BG_CHECK_DATA_VERSIONS=1 (tests/run.sh sets it, as make
 * check runs) such a node is compared anyway, every side's bytes are
 * hashed, and a version that did not move over changed bytes aborts.
 *
 * The hash: the sum over the node's nonzero 8-byte words (by their index
 * in the node) of a 64-bit mix of index and value, plus the node's size.
 * Zero words add nothing, so the zeroes a backend claims and is not asked
 * to read hash as they read, and the sum does not depend on how the bytes
 * were cut into reads.
 */
#include "compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

#define DATA_CHUNK (64 * 1024)

/* ---- the hash -------------------------------------------------------------------------- */

typedef struct Hash {
    uint64_t sum;
    uint64_t word;        /* a word only part of which was fed so far */
    uint64_t word_index;
    bool pending;
} Hash;

static uint64_t mix(uint64_t x)
{
    /* splitmix64's finalizer */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void hash_word(Hash *h, uint64_t index, uint64_t w)
{
    if (w)
        h->sum += mix(w ^ mix(index + 0x9e3779b97f4a7c15ull));
}

static void hash_flush(Hash *h)
{
    if (h->pending)
        hash_word(h, h->word_index, h->word);
    h->pending = false;
}

/* Bytes BUF[0..N) of the node at offset OFF (each call past the last). */
static void hash_feed(Hash *h, uint64_t off, const uint8_t *buf, uint64_t n)
{
    uint64_t i = 0;
    while (i < n) {
        uint64_t p = off + i;
        if (p % 8 || n - i < 8) {        /* a byte of a word fed in parts */
            if (!h->pending || h->word_index != p / 8) {
                hash_flush(h);
                h->pending = true;
                h->word_index = p / 8;
                h->word = 0;
            }
            h->word |= (uint64_t)buf[i] << (8 * (p % 8));
            i++;
            continue;
        }
        hash_flush(h);
        uint64_t w;
        memcpy(&w, buf + i, 8);
        hash_word(h, p / 8, w);
        i += 8;
    }
}

static uint64_t hash_end(Hash *h, uint64_t size)
{
    hash_flush(h);
    return h->sum ^ mix(size);
}

/* ---- the memo -------------------------------------------------------------------------- */

struct BgDataMemo {
    struct MemoEntry {
        char *name;
        bool equal;           /* its last comparison found both sides equal */
        uint64_t version[2];  /* data_version then, 0: none */
        uint64_t hash[2];     /* the bytes' hash (a side without data_version, or checking) */
        bool hashed[2];
    } *e;
    size_t n;
    bool check;               /* BG_CHECK_DATA_VERSIONS, read once per run */
};

BgDataMemo *bg_data_memo_new(void)
{
    BgDataMemo *m = bg_calloc(1, sizeof(BgDataMemo));
    const char *v = getenv("BG_CHECK_DATA_VERSIONS");
    m->check = v && *v && strcmp(v, "0") != 0;
    return m;
}

void bg_data_memo_free(BgDataMemo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].name);
    free(m->e);
    free(m);
}

/* NAME's entry, made (not equal) if it has none. */
static struct MemoEntry *memo_entry(BgDataMemo *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].name, name) == 0)
            return &m->e[i];
    m->e = bg_realloc(m->e, (m->n + 1) * sizeof(*m->e));
    m->e[m->n] = (struct MemoEntry){ .name = bg_strdup(name) };
    return &m->e[m->n++];
}

/* ---- reading ----------------------------------------------------------------------------- */

/* Is every byte of B[0..N) zero? */
static bool all_zero(const uint8_t *b, size_t n)
{
    return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

/* How many bytes of NAME from OFF (at most N) does backend BE say read as zeroes (backend.h)? */
static uint64_t claims_zero(const BgBackendOps *ops, BgBackend *be, const char *name,
                            json_int_t off, uint64_t n)
{
    uint64_t z = ops->known_zero ? ops->known_zero(be, name, (uint64_t)off, n) : 0;
    return z < n ? z : n;
}

/* The hash of one backend's bytes of NAME (SIZE bytes), the zeroes it
 * claims unread; false when a read fails. */
static bool hash_node(const BgBackendOps *ops, BgBackend *be, const char *name, json_int_t size,
                      uint8_t *buf, uint64_t *out)
{
    Hash h = {0};
    for (json_int_t off = 0; off < size;) {
        uint64_t rest = (uint64_t)(size - off);
        uint64_t z = claims_zero(ops, be, name, off, rest);
        if (z) {
            off += (json_int_t)z;
            continue;
        }
        uint64_t n = rest < DATA_CHUNK ? rest : DATA_CHUNK;
        BgError err = {0};
        if (!ops->read_node(be, name, (uint64_t)off, n, buf, &err))
            return false;
        hash_feed(&h, (uint64_t)off, buf, n);
        off += (json_int_t)n;
    }
    *out = hash_end(&h, (uint64_t)size);
    return true;
}

static uint64_t version_of(const BgBackendOps *ops, BgBackend *be, const char *name)
{
    return ops->data_version ? ops->data_version(be, name) : 0;
}

/*
 * May NAME go unread (see the top of the file)?  E: what its last
 * comparison found; NOW: the backends' versions now.  BUF[b] is a chunk
 * buffer for the sides that are hashed.
 */
static bool unchanged(const BgBackendOps *const ops[2], BgBackend *const be[2],
                      const struct MemoEntry *e, const uint64_t now[2], const char *name,
                      json_int_t size, uint8_t *buf[2])
{
    if (!e->equal)
        return false;
    bool by_version = false;
    for (int b = 0; b < 2; b++) {
        if (!e->version[b])
            continue;
        if (now[b] != e->version[b])
            return false;
        by_version = true;
    }
    if (!by_version)
        return false;
    for (int b = 0; b < 2; b++) {
        uint64_t h;
        if (!e->version[b] && (!e->hashed[b] || !hash_node(ops[b], be[b], name, size, buf[b], &h) ||
                               h != e->hash[b]))
            return false;
    }
    return true;
}

/* BG_CHECK_DATA_VERSIONS: a side whose version stayed (NOW, as BEFORE)
 * while its bytes moved; each side is checked on its own, whether or not
 * the other one moved. */
static void check_versions(const BgBackendOps *const ops[2], const struct MemoEntry *before,
                           const uint64_t now[2], const uint64_t hash[2], const bool hashed[2],
                           const char *name)
{
    for (int b = 0; b < 2; b++)
        if (before->version[b] && before->version[b] == now[b] && before->hashed[b] &&
            hashed[b] && hash[b] != before->hash[b]) {
            fprintf(stderr, "%s backend: the data_version of node '%s' did not move, but its "
                    "bytes changed\n", ops[b]->name, name);
            abort();
        }
}

/* ---- the comparison ---------------------------------------------------------------------- */

bool bg_compare_data(const BgBackendOps *const ops[2], BgBackend *const be[2],
                     bool skip_known_zero, BgDataMemo *memo, uint8_t *buf[2], char **path_out)
{
    if (!ops[0]->list_nodes || !ops[1]->list_nodes || !ops[0]->read_node ||
        !ops[1]->read_node)
        return true;
    json_t *la = ops[0]->list_nodes(be[0]), *lb = ops[1]->list_nodes(be[1]);
    bool same = true, check = memo && memo->check;
    for (int b = 0; b < 2; b++)
        if (!buf[b])
            buf[b] = bg_malloc(DATA_CHUNK);
    size_t i;
    json_t *na;
    json_array_foreach(la, i, na) {
        const char *name = json_string_value(json_object_get(na, "node-name"));
        json_int_t size = json_integer_value(json_object_get(na, "size"));
        json_t *nb = NULL;
        size_t j;
        json_t *e;
        json_array_foreach(lb, j, e)
            if (name && json_equal(json_object_get(e, "node-name"), json_object_get(na, "node-name")))
                nb = e;
        if (!name || !nb || name[0] == '#')   /* automatic names differ by design */
            continue;
        if (json_integer_value(json_object_get(nb, "size")) != size) {
            *path_out = bg_asprintf("/%s/size", name);
            same = false;
            break;
        }
        /* the versions, asked once: reads change none (backend.h) */
        struct MemoEntry *m = memo ? memo_entry(memo, name) : NULL;
        uint64_t now[2] = { 0, 0 };
        for (int b = 0; m && b < 2; b++)
            now[b] = version_of(ops[b], be[b], name);
        bool skippable = m && unchanged(ops, be, m, now, name, size, buf);
        if (skippable && !check)
            continue;
        /* the node is compared: what the memo knew of it holds no longer */
        struct MemoEntry before = m ? *m : (struct MemoEntry){0};
        if (m)
            m->equal = false;
        Hash h[2] = {{0}};
        bool hashed[2];
        for (int b = 0; b < 2; b++)        /* the sides the memo will hash */
            hashed[b] = memo && (!ops[b]->data_version || check);
        bool complete = true;
        json_int_t zend[2] = { 0, 0 };   /* each backend's claim: zeroes up to here */
        for (json_int_t off = 0; off < size && same;) {
            uint64_t rest = (uint64_t)(size - off);
            uint64_t n = rest < DATA_CHUNK ? rest : DATA_CHUNK;
            for (int b = 0; b < 2; b++)
                if (off >= zend[b])
                    zend[b] = off + (json_int_t)claims_zero(ops[b], be[b], name, off, rest);
            json_int_t both = zend[0] < zend[1] ? zend[0] : zend[1];
            if (skip_known_zero && both > off) {
                off = both;
                continue;
            }
            bool read = true;
            for (int b = 0; b < 2 && read; b++) {
                BgError err = {0};
                /* a read that succeeds writes all N bytes (backend.h) */
                read = ops[b]->read_node(be[b], name, (uint64_t)off, n, buf[b], &err);
            }
            if (!read) {
                complete = false;
                break;
            }
            for (int b = 0; b < 2 && same; b++)
                if (zend[b] > off && !all_zero(buf[b], (uint64_t)(zend[b] - off) < n
                                                           ? (uint64_t)(zend[b] - off) : n)) {
                    *path_out = bg_asprintf("/%s/%lld/zero-claim/%s", name, (long long)off,
                                            ops[b]->name);
                    same = false;
                }
            if (same && memcmp(buf[0], buf[1], n) != 0) {
                *path_out = bg_asprintf("/%s/%lld", name, (long long)off);
                same = false;
            }
            for (int b = 0; b < 2; b++)
                if (hashed[b])
                    hash_feed(&h[b], (uint64_t)off, buf[b], n);
            off += (json_int_t)n;
        }
        if (!same)
            break;
        if (!m || !complete)
            continue;
        uint64_t hash[2];
        for (int b = 0; b < 2; b++)
            hash[b] = hashed[b] ? hash_end(&h[b], (uint64_t)size) : 0;
        if (check && before.equal)
            check_versions(ops, &before, now, hash, hashed, name);
        m->equal = true;
        for (int b = 0; b < 2; b++) {
            m->version[b] = now[b];
            m->hash[b] = hash[b];
            m->hashed[b] = hashed[b];
        }
    }
    json_decref(la);
    json_decref(lb);
    return same;
}
