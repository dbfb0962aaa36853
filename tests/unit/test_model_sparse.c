/*
 * test_model_sparse.c: the model's sparse byte array reads exactly as the
 * flat zero-filled array it replaced: unwritten bytes are zeroes, writes
 * across chunk borders land where they were written, zero writes drop
 * whole chunks and clear partial ones.
 */
#include <stdlib.h>

#include "harness.h"
#include "../../model/model.h"

static bool all_are(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static void test_model_sparse_reads_like_flat(void)
{
    ModelSparse s = {0};
    uint8_t buf[3 * MODEL_SPARSE_CHUNK];
    memset(buf, 0xaa, sizeof(buf));
    model_sparse_read(&s, 12345, sizeof(buf), buf);          /* never written */
    CHECK(all_are(buf, sizeof(buf), 0));
    uint8_t data[100];
    memset(data, 0x5a, sizeof(data));
    model_sparse_write(&s, MODEL_SPARSE_CHUNK - 50, sizeof(data), data);   /* across a border */
    CHECK_INT_EQ(s.n, 2);
    model_sparse_read(&s, MODEL_SPARSE_CHUNK - 60, 120, buf);
    CHECK(all_are(buf, 10, 0));
    CHECK(all_are(buf + 10, 100, 0x5a));
    CHECK(all_are(buf + 110, 10, 0));
    model_sparse_read(&s, 0, 3 * MODEL_SPARSE_CHUNK, buf);  /* past the stored end */
    CHECK(all_are(buf + 2 * MODEL_SPARSE_CHUNK, MODEL_SPARSE_CHUNK, 0));
    model_sparse_cleanup(&s);
}

static void test_model_sparse_zero_writes(void)
{
    ModelSparse s = {0};
    uint8_t data[2 * MODEL_SPARSE_CHUNK], buf[2 * MODEL_SPARSE_CHUNK];
    memset(data, 0x11, sizeof(data));
    model_sparse_write(&s, 0, sizeof(data), data);
    model_sparse_write(&s, 0, MODEL_SPARSE_CHUNK, NULL);                    /* whole chunk */
    CHECK(s.chunk[0] == NULL);
    model_sparse_write(&s, MODEL_SPARSE_CHUNK + 10, 20, NULL);              /* partial */
    model_sparse_write(&s, 5 * MODEL_SPARSE_CHUNK, 20, NULL);               /* past the end */
    CHECK_INT_EQ(s.n, 2);
    model_sparse_read(&s, 0, sizeof(buf), buf);
    CHECK(all_are(buf, MODEL_SPARSE_CHUNK, 0));
    CHECK(all_are(buf + MODEL_SPARSE_CHUNK, 10, 0x11));
    CHECK(all_are(buf + MODEL_SPARSE_CHUNK + 10, 20, 0));
    CHECK(all_are(buf + MODEL_SPARSE_CHUNK + 30, MODEL_SPARSE_CHUNK - 30, 0x11));
    model_sparse_cleanup(&s);
    CHECK(s.chunk == NULL && s.n == 0);
}

BG_SUITE(model_sparse) = {
    { "reads_like_flat", test_model_sparse_reads_like_flat },
    { "zero_writes", test_model_sparse_zero_writes },
    { NULL, NULL },
};
