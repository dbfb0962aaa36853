/*
 * record.h: replay --record: write a stream back with every step's
 * expectations filled from one backend's answers (return or error, io-ok,
 * io-ops, rc).  Comments, blank lines, metadata and the author's own
 * `checks`/`same-as` are kept; the recorded keys replace the old ones.
 */
#ifndef BG_RECORD_H
#define BG_RECORD_H

#include "error.h"
#include "runner.h"

typedef struct BgRecorder BgRecorder;

BgRecorder *record_new(void);
void record_free(BgRecorder *r);
/* The runner's step hook (BgRunOptions.on_step, opaque = the recorder). */
void record_step(void *opaque, const BgStep *step, const BgResult *res, const char *scratch);
/* Write STREAM_PATH with the recorded expectations to OUT_PATH; returns the
 * text written (owned, *LEN bytes), or NULL with ERR. */
char *record_write(BgRecorder *r, const char *stream_path, const char *out_path, size_t *len,
                   BgError *err);

#endif
