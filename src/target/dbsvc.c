#include "target/dbsvc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"

/* A multi-producer queue with an eventfd. The eventfd is written only when
 * the queue goes from "consumer told" to "consumer not told", so a burst of
 * submissions costs one wake-up. */
typedef struct tq {
	pthread_mutex_t mu;
	db_query *head, *tail;
	int signalled;
	int efd;
} tq;

static int tq_init(tq *q)
{
	pthread_mutex_init(&q->mu, NULL);
	q->head = q->tail = NULL;
	q->signalled = 0;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return q->efd < 0 ? -1 : 0;
}

static void tq_destroy(tq *q)
{
	if (q->efd >= 0)
		close(q->efd);
	pthread_mutex_destroy(&q->mu);
}

static void tq_push(tq *q, db_query *x)
{
	int wake;

	x->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail)
		q->tail->next = x;
	else
		q->head = x;
	q->tail = x;
	wake = !q->signalled;
	q->signalled = 1;
	pthread_mutex_unlock(&q->mu);
	if (wake) {
		uint64_t one = 1;
		ssize_t n = write(q->efd, &one, sizeof(one));

		(void)n; /* only fails when the counter is saturated: already readable */
	}
}

static db_query *tq_take(tq *q)
{
	uint64_t v;
	db_query *list;
	ssize_t n = read(q->efd, &v, sizeof(v));

	(void)n;
	pthread_mutex_lock(&q->mu);
	list = q->head;
	q->head = q->tail = NULL;
	q->signalled = 0;
	pthread_mutex_unlock(&q->mu);
	return list;
}

struct dbsvc {
	db_model *model;
	ev_loop *loop;
	pthread_t thread;
	int started;
	tq in;
	tq *out;
	int nout;
	ev_io in_io;
	ev_io ctl_io;
	int ctl_fd;
	ev_timer timer;
	/* Published for /__stats; written by the db thread only. */
	dbsvc_snapshot snap;
	/* Autoscaling: the rule's state is the db thread's; the change logs
	 * are shared with /__stats readers under scale_mu. */
	uint64_t t0;
	int nscaled;
	ev_timer tick;
	as_state scale[DB_MODULES];
	pthread_mutex_t scale_mu;
	struct {
		uint64_t total;
		as_change ring[DBSVC_CHANGES];
	} log[DB_MODULES];
};

static void publish(dbsvc *s)
{
	int i;

	__atomic_store_n(&s->snap.active, db_model_active(s->model), __ATOMIC_RELAXED);
	for (i = 0; i < DB_MODULES; i++) {
		__atomic_store_n(&s->snap.pool[i], db_model_size(s->model, i), __ATOMIC_RELAXED);
		__atomic_store_n(&s->snap.busy[i], db_model_busy(s->model, i), __ATOMIC_RELAXED);
		__atomic_store_n(&s->snap.waiting[i], db_model_waiting(s->model, i), __ATOMIC_RELAXED);
	}
}

static void on_done(void *ctx, db_query *q)
{
	dbsvc *s = ctx;

	if (q->cache_hit)
		__atomic_store_n(&s->snap.cache_hits[q->module], s->snap.cache_hits[q->module] + 1,
				 __ATOMIC_RELAXED);
	tq_push(&s->out[q->owner], q);
}

static void rearm(dbsvc *s)
{
	uint64_t next = db_model_next(s->model);

	if (next == UINT64_MAX)
		ev_timer_stop(s->loop, &s->timer);
	else
		ev_timer_start(s->loop, &s->timer, next);
	publish(s);
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
	dbsvc *s = container_of(t, dbsvc, timer);

	db_model_advance(s->model, ev_now_update(loop), on_done, s);
	rearm(s);
}

static void on_submit(ev_loop *loop, ev_io *io, unsigned events)
{
	dbsvc *s = container_of(io, dbsvc, in_io);
	db_query *q = tq_take(&s->in);
	uint64_t now = ev_now_update(loop);

	while (q) {
		db_query *next = q->next;

		__atomic_store_n(&s->snap.queries[q->module], s->snap.queries[q->module] + 1,
				 __ATOMIC_RELAXED);
		db_model_submit(s->model, q, now, on_done, s);
		q = next;
	}
	rearm(s);
}

/* The autoscaler's sample: every AS_PERIOD_NS on a fixed grid (a late
 * tick, after a stall, takes the next point in the future). */
static void on_tick(ev_loop *loop, ev_timer *t)
{
	dbsvc *s = container_of(t, dbsvc, tick);
	uint64_t now = ev_now_update(loop), next = t->deadline + AS_PERIOD_NS;
	int i;

	db_model_advance(s->model, now, on_done, s);
	for (i = 0; i < DB_MODULES; i++) {
		as_change c;

		if (!s->scale[i].max)
			continue;
		if (!as_sample(&s->scale[i], now, db_model_busy(s->model, i), db_model_waiting(s->model, i), &c))
			continue;
		/* as_sample keeps sizes within [min, max] <= pool_max: cannot fail. */
		db_model_resize(s->model, i, c.to, now, on_done, s);
		c.at_ns -= s->t0;
		c.decided_ns -= s->t0;
		pthread_mutex_lock(&s->scale_mu);
		s->log[i].ring[s->log[i].total % DBSVC_CHANGES] = c;
		s->log[i].total++;
		pthread_mutex_unlock(&s->scale_mu);
	}
	if (next <= now)
		next = now + AS_PERIOD_NS;
	ev_timer_start(loop, t, next);
	rearm(s);
}

static void on_ctl(ev_loop *loop, ev_io *io, unsigned events)
{
	ev_loop_stop(loop);
}

dbsvc *dbsvc_create(const db_config *cfg, const as_range *scale, int workers, ev_pass_hook hook)
{
	dbsvc *s = xcalloc(1, sizeof(*s));
	db_config mc = *cfg;
	int i;

	pthread_mutex_init(&s->scale_mu, NULL);
	s->in.efd = s->ctl_fd = -1;
	s->out = xcalloc((size_t)workers, sizeof(*s->out));
	for (i = 0; i < workers; i++)
		s->out[i].efd = -1;
	s->nout = workers;
	s->loop = ev_loop_create(64);
	if (!s->loop || tq_init(&s->in) < 0)
		goto fail;
	for (i = 0; i < workers; i++)
		if (tq_init(&s->out[i]) < 0)
			goto fail;
	s->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->ctl_fd < 0)
		goto fail;
	s->t0 = ev_now_update(s->loop);
	for (i = 0; scale && i < DB_MODULES; i++) {
		if (!scale[i].max)
			continue;
		/* The heap is sized for the largest pool, so a resize never allocates. */
		mc.pool[i] = scale[i].min;
		mc.pool_max[i] = scale[i].max;
		as_init(&s->scale[i], scale[i], s->t0);
		s->nscaled++;
	}
	s->model = db_model_create(&mc, s->t0);
	ev_loop_set_pass_hook(s->loop, hook);
	ev_timer_init(&s->timer, on_timer);
	ev_timer_init(&s->tick, on_tick);
	/* No timer at all unless a module scales. */
	if (s->nscaled)
		ev_timer_start(s->loop, &s->tick, s->t0 + AS_PERIOD_NS);
	publish(s);
	ev_io_init(&s->in_io, s->in.efd, on_submit);
	ev_io_init(&s->ctl_io, s->ctl_fd, on_ctl);
	if (ev_io_set(s->loop, &s->in_io, EV_READ) < 0 || ev_io_set(s->loop, &s->ctl_io, EV_READ) < 0)
		goto fail;
	return s;
fail:
	i = errno;
	dbsvc_destroy(s);
	errno = i;
	return NULL;
}

static void *run(void *arg)
{
	dbsvc *s = arg;

	ev_loop_run(s->loop);
	return NULL;
}

int dbsvc_start(dbsvc *s)
{
	if (pthread_create(&s->thread, NULL, run, s) != 0)
		return -1;
	s->started = 1;
	return 0;
}

void dbsvc_stop(dbsvc *s)
{
	uint64_t one = 1;
	ssize_t n;

	if (!s || !s->started)
		return;
	n = write(s->ctl_fd, &one, sizeof(one));
	(void)n;
	pthread_join(s->thread, NULL);
	s->started = 0;
}

void dbsvc_destroy(dbsvc *s)
{
	int i;

	if (!s)
		return;
	db_model_destroy(s->model);
	ev_loop_destroy(s->loop);
	tq_destroy(&s->in);
	for (i = 0; i < s->nout; i++)
		tq_destroy(&s->out[i]);
	free(s->out);
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	pthread_mutex_destroy(&s->scale_mu);
	free(s);
}

void dbsvc_submit(dbsvc *s, db_query *q)
{
	tq_push(&s->in, q);
}

int dbsvc_done_fd(const dbsvc *s, int i)
{
	return s->out[i].efd;
}

db_query *dbsvc_take(dbsvc *s, int i)
{
	return tq_take(&s->out[i]);
}

void dbsvc_snapshot_read(const dbsvc *s, dbsvc_snapshot *out)
{
	int i;

	out->active = __atomic_load_n(&s->snap.active, __ATOMIC_RELAXED);
	for (i = 0; i < DB_MODULES; i++) {
		out->pool[i] = __atomic_load_n(&s->snap.pool[i], __ATOMIC_RELAXED);
		out->busy[i] = __atomic_load_n(&s->snap.busy[i], __ATOMIC_RELAXED);
		out->waiting[i] = __atomic_load_n(&s->snap.waiting[i], __ATOMIC_RELAXED);
		out->queries[i] = __atomic_load_n(&s->snap.queries[i], __ATOMIC_RELAXED);
		out->cache_hits[i] = __atomic_load_n(&s->snap.cache_hits[i], __ATOMIC_RELAXED);
	}
}

int dbsvc_scale_read(dbsvc *s, int m, dbsvc_scale_view *out)
{
	uint64_t k;

	if (!s->scale[m].max)
		return -1;
	out->min = s->scale[m].min;
	out->max = s->scale[m].max;
	out->size = __atomic_load_n(&s->snap.pool[m], __ATOMIC_RELAXED);
	pthread_mutex_lock(&s->scale_mu);
	out->total = s->log[m].total;
	out->n = out->total < DBSVC_CHANGES ? (uint32_t)out->total : DBSVC_CHANGES;
	for (k = 0; k < out->n; k++)
		out->change[k] = s->log[m].ring[(out->total - out->n + k) % DBSVC_CHANGES];
	pthread_mutex_unlock(&s->scale_mu);
	/* The tick logs a change before it publishes the new size: report
	 * the logged one, so size and the last change always agree. */
	if (out->n)
		out->size = out->change[out->n - 1].to;
	return 0;
}

uint64_t dbsvc_uptime_ns(const dbsvc *s)
{
	return clock_mono_ns() - s->t0;
}
