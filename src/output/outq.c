#include "output/outq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"

struct outq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	outq_job *head, *tail;
	uint64_t max_points;
	uint64_t held;      /* points queued or being consumed */
	uint64_t deadline;  /* 0 until closing */
	int closing;
	const _Atomic uint64_t *cutoff; /* the output's, or NULL */
	outq_fn fn;
	void *ctx;
	unsigned nthreads;
	pthread_t *threads;
	pagebuf spare;      /* a job store not in use (outq_job_samples), under lock */
	int has_spare;
};

typedef struct consumer_arg {
	outq *q;
	unsigned i;
} consumer_arg;

static struct timespec abs_time(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / NS_PER_SEC), (long)(ns % NS_PER_SEC)};

	return ts;
}

/* A wait that an external cutoff may end is cut into slices this long. */
#define CUTOFF_POLL (50 * NS_PER_MS)

/* Under the lock: when consumers must stop, 0 for not yet known. */
static uint64_t deadline_locked(const outq *q)
{
	uint64_t c = q->cutoff ? atomic_load(q->cutoff) : 0, d = q->closing ? q->deadline : 0;

	return c && (!d || c < d) ? c : d;
}

/* Under q's lock (when the job has a pool): the store goes back as the
 * spare, settled to what the recent jobs needed, or is unmapped when there
 * is a spare already. */
static void job_free_locked(outq_job *j)
{
	outq *q = j->pool;

	if (q) {
		if (q->has_spare) {
			pagebuf_free(&j->store);
		} else {
			pagebuf_settle(&j->store, j->nsamples * sizeof(*j->samples));
			q->spare = j->store;
			q->has_spare = 1;
		}
	} else {
		free(j->samples);
	}
	buf_free(&j->text);
	free(j);
}

static void *consumer_main(void *p)
{
	consumer_arg a = *(consumer_arg *)p;
	outq *q = a.q;

	free(p);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		outq_job *j = q->head;

		if (q->closing && (!j || clock_mono_ns() >= deadline_locked(q)))
			break;
		if (!j) {
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&q->lock);
		q->fn(q->ctx, a.i, j);
		pthread_mutex_lock(&q->lock);
		q->held -= j->npoints;
		job_free_locked(j);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

outq *outq_create(uint64_t max_points, unsigned nthreads, outq_fn fn, void *ctx)
{
	outq *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;
	unsigned i;

	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	q->max_points = max_points;
	q->fn = fn;
	q->ctx = ctx;
	q->threads = xcalloc(nthreads, sizeof(*q->threads));
	for (i = 0; i < nthreads; i++) {
		consumer_arg *a = xmalloc(sizeof(*a));

		a->q = q;
		a->i = i;
		if (pthread_create(&q->threads[i], NULL, consumer_main, a)) {
			free(a);
			outq_close(q, 0);
			outq_destroy(q);
			return NULL;
		}
		q->nthreads++;
	}
	return q;
}

void outq_destroy(outq *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	pagebuf_free(&q->spare);
	free(q->threads);
	free(q);
}

outq_job *outq_job_create(const met_sample *samples, size_t n, size_t text_max)
{
	outq_job *j = xcalloc(1, sizeof(*j));

	if (n) {
		j->samples = xmalloc(n * sizeof(*samples));
		memcpy(j->samples, samples, n * sizeof(*samples));
		j->nsamples = n;
		j->npoints = n;
	}
	buf_init(&j->text, 0, text_max);
	return j;
}

outq_job *outq_job_samples(outq *q, const met_sample *samples, size_t n)
{
	outq_job *j = xcalloc(1, sizeof(*j));

	pthread_mutex_lock(&q->lock);
	if (q->has_spare) {
		j->store = q->spare;
		q->has_spare = 0;
	}
	pthread_mutex_unlock(&q->lock);
	/* Outside the lock: growing and copying a second's samples must not
	 * hold up a consumer. */
	pagebuf_reserve(&j->store, n * sizeof(*samples));
	j->samples = j->store.p;
	memcpy(j->samples, samples, n * sizeof(*samples));
	j->nsamples = n;
	j->npoints = n;
	j->pool = q;
	buf_init(&j->text, 0, 0);
	return j;
}

void outq_job_free(outq_job *j)
{
	outq *q;

	if (!j)
		return;
	q = j->pool;
	if (q)
		pthread_mutex_lock(&q->lock);
	job_free_locked(j);
	if (q)
		pthread_mutex_unlock(&q->lock);
}

uint64_t outq_room(outq *q)
{
	uint64_t room;

	pthread_mutex_lock(&q->lock);
	room = q->held < q->max_points ? q->max_points - q->held : 0;
	pthread_mutex_unlock(&q->lock);
	return room;
}

int outq_push(outq *q, outq_job *job)
{
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	if (!q->closing && job->npoints <= q->max_points - (q->held < q->max_points ? q->held : q->max_points)) {
		job->next = NULL;
		if (q->tail)
			q->tail->next = job;
		else
			q->head = job;
		q->tail = job;
		q->held += job->npoints;
		/* Broadcast: a consumer sleeping out a retry backoff waits on the
		 * same condition, and must not swallow the wake-up. */
		pthread_cond_broadcast(&q->cond);
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

uint64_t outq_close(outq *q, uint64_t deadline)
{
	uint64_t left = 0;
	unsigned i;

	pthread_mutex_lock(&q->lock);
	q->closing = 1;
	q->deadline = deadline ? deadline : 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	for (i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	q->nthreads = 0;
	while (q->head) {
		outq_job *j = q->head;

		q->head = j->next;
		left += j->npoints;
		outq_job_free(j);
	}
	q->tail = NULL;
	q->held = 0;
	return left;
}

void outq_set_cutoff(outq *q, const _Atomic uint64_t *cutoff)
{
	pthread_mutex_lock(&q->lock);
	q->cutoff = cutoff;
	pthread_mutex_unlock(&q->lock);
}

uint64_t outq_deadline(outq *q)
{
	uint64_t d;

	pthread_mutex_lock(&q->lock);
	d = deadline_locked(q);
	pthread_mutex_unlock(&q->lock);
	return d;
}

int outq_sleep(outq *q, uint64_t ns)
{
	uint64_t until = clock_mono_ns() + ns;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		uint64_t now = clock_mono_ns(), end = until, d = deadline_locked(q);
		struct timespec ts;

		if (d && d < end)
			end = d;
		if (now >= end) {
			rc = d && now >= d ? -1 : 0;
			break;
		}
		/* Woken early when closing starts, to move to the deadline; a
		 * cutoff set from outside is seen at the next slice. */
		ts = abs_time(q->cutoff && end - now > CUTOFF_POLL ? now + CUTOFF_POLL : end);
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}
