/* The histogram's text form (strain-hist/1, docs/summary-export.md):
 * sparse buckets as varints, then base64. Lossless: decoding gives back
 * the histogram that was encoded, so summaries can be re-read, merged and
 * compared exactly. The decoder reads untrusted text. */
#ifndef STRAIN_METRICS_HIST_CODEC_H
#define STRAIN_METRICS_HIST_CODEC_H

#include <stddef.h>

#include "metrics/hist.h"

/* Base64 text of h (caller frees). */
char *met_hist_encode(const met_hist *h);
/* Decodes text into h (reset first). Returns 0, or -1 with the reason in
 * err when the text is malformed or its counts are inconsistent. */
int met_hist_decode(met_hist *h, const char *text, size_t len, char *err, size_t errsz);

#endif
