/* The hand-off between the collector thread and an output's own thread(s):
 * a FIFO of jobs (raw samples or pre-encoded text) with a bound on the
 * points it holds, consumed by N threads. The collector only ever copies
 * into a job and pushes it; when the bound is reached it is told so at
 * once and counts the points as dropped, so a slow destination never slows
 * the collector or the load. */
#ifndef STRAIN_OUTPUT_OUTQ_H
#define STRAIN_OUTPUT_OUTQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pagebuf.h"
#include "metrics/shard.h"

typedef struct outq outq;

typedef struct outq_job {
	struct outq_job *next;
	uint64_t npoints;     /* what the bound counts */
	met_sample *samples;  /* raw samples (per-sample outputs), nsamples of them */
	size_t nsamples;
	buf text;             /* or pre-encoded lines */
	outq *pool;           /* the queue whose spare store holds the samples, or NULL */
	pagebuf store;        /* the samples, when pool is set */
} outq_job;

/* Consumes one job on consumer thread `thread` (0..n-1). The job is freed
 * by the queue after it returns. */
typedef void (*outq_fn)(void *ctx, unsigned thread, outq_job *job);

/* Starts nthreads consumers. Returns NULL if a thread cannot be created.
 * Stop with outq_close, then outq_destroy. */
outq *outq_create(uint64_t max_points, unsigned nthreads, outq_fn fn, void *ctx);
void outq_destroy(outq *q);

/* A job holding a copy of n samples, or text with room for `text_max`
 * bytes (0: none). Free with outq_job_free (accepts NULL). */
outq_job *outq_job_create(const met_sample *samples, size_t n, size_t text_max);
/* A job holding a copy of n samples (n > 0) in storage of q's: a whole
 * interval's samples, every second, so the copy is not malloc'd (a heap
 * keeps what the biggest copy touched) but made in a page-backed store
 * that q keeps one spare of. Steady intervals reuse the spare's pages; a
 * second store exists only while two jobs are out at once, and is unmapped
 * when it comes back; what a bigger interval touched is given back
 * (pagebuf_settle). Free with outq_job_free, before outq_destroy(q). */
outq_job *outq_job_samples(outq *q, const met_sample *samples, size_t n);
void outq_job_free(outq_job *j);

/* Room left under the bound, in points. */
uint64_t outq_room(outq *q);
/* Queues a job. Returns 0, or -1 when its points do not fit under the
 * bound or the queue is closing (the job stays the caller's). */
int outq_push(outq *q, outq_job *job);

/* Ties the queue to its output's cutoff (output.h): once that is set,
 * every deadline here is at most it, and waits notice it within 50 ms.
 * Call once, before anything is queued; the atomic must outlive q. */
void outq_set_cutoff(outq *q, const _Atomic uint64_t *cutoff);

/* Lets the consumers finish what is queued, until the monotonic deadline;
 * then stops them and frees what is left. Returns the points that were
 * still queued (never consumed). Call once. */
uint64_t outq_close(outq *q, uint64_t deadline);
/* For consumers: 0 while running, the close deadline once closing (or
 * the cutoff, if sooner or set before closing). */
uint64_t outq_deadline(outq *q);
/* For consumers' retry backoff: sleeps ns, but never past the close
 * deadline. Returns 0, or -1 when the deadline has passed. */
int outq_sleep(outq *q, uint64_t ns);

#endif
