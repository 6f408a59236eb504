/* What the per-sample file outputs (json=, csv=) share: the file (gzip
 * when its name ends in .gz), a writer thread fed through a bounded queue
 * (outq), and the collector hook that copies each interval's raw samples
 * into it. A kind supplies only its encoder. */
#ifndef STRAIN_OUTPUT_SAMPLE_FILE_H
#define STRAIN_OUTPUT_SAMPLE_FILE_H

#include <stddef.h>

#include "core/buf.h"
#include "metrics/shard.h"
#include "output/output.h"

/* Samples held at most between the collector and the file (40 bytes each):
 * a few seconds of a fast run, if the disk or gzip cannot keep up. */
#define SAMPLE_FILE_BUFFER 4000000

typedef struct sample_file_enc {
	/* Appends what comes before the first sample (a CSV header); may be NULL. */
	int (*begin)(void *self, buf *b);
	/* Appends one sample. Returns 0, or -1 when b is full. */
	int (*sample)(void *self, buf *b, const met_sample *s);
	void (*destroy)(void *self);
	void *self;
} sample_file_enc;

/* Opens path for writing (truncating) and starts the writer thread; enc is
 * owned from then on, even on failure. Returns 0, or -1 with a message. */
int sample_file_open(output *o, const char *path, const sample_file_enc *enc, char *err, size_t errsz);
void sample_file_snapshot(output *o, const met_snapshot *snap);
/* Writes what is queued and closes the file. -1 if any write failed. */
int sample_file_close(output *o, output_stats *stats);
void sample_file_stats(output *o, output_stats *stats);

#endif
