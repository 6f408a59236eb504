#include "engine/worker_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/record.h"
#include "engine/sched.h"
#include "program/request.h"

/* Intended starts a queue-mode scenario holds per worker before it drops. */
#define QUEUE_MAX 65536

static void on_wake(ev_loop *loop, ev_io *io, unsigned events);

static void on_end(ev_loop *loop, ev_timer *t);

static void scn_init(worker *w, worker_scn *s, uint32_t index, const worker_share *sh, uint32_t first)
{
	const run_ctx *ctx = w->ctx;
	const run_scenario *sc = &ctx->cfg->scenarios[index];
	met_tag tags[MET_MAX_TAGS];
	size_t n = record_scenario_tags(ctx, sc, tags, MET_MAX_TAGS);
	uint32_t i;

	s->w = w;
	s->sc = sc;
	s->index = index;
	s->first = first;
	s->nvus = sh->nvus;
	s->nalloc = exec_is_arrival(sc->exec) ? (sh->prealloc < sh->nvus ? sh->prealloc : sh->nvus) : sh->nvus;
	s->slot = sh->slot;
	s->nslots = sh->nslots ? sh->nslots : 1;
	s->iters_left = sc->exec == EXEC_SHARED_ITERATIONS ? sh->iters : 0;
	s->t_start = ctx->t0 + sc->start_time_ns;
	s->t_end = s->t_start + sc->duration_ns;
	ev_timer_init(&s->sched, sched_on_timer);
	ev_timer_init(&s->rampdown, sched_on_rampdown);
	s->tagset = met_tagset_intern(ctx->reg, tags, n);
	s->s_iterations = met_series_intern(ctx->reg, MET_ITERATIONS, s->tagset);
	s->s_iteration_duration = met_series_intern(ctx->reg, MET_ITERATION_DURATION, s->tagset);
	s->s_data_sent = met_series_intern(ctx->reg, MET_DATA_SENT, s->tagset);
	s->s_data_received = met_series_intern(ctx->reg, MET_DATA_RECEIVED, s->tagset);
	s->s_dropped = met_series_intern(ctx->reg, MET_DROPPED_ITERATIONS, s->tagset);
	s->s_start_delay = met_series_intern(ctx->reg, MET_ITERATION_START_DELAY, s->tagset);
	s->data_mask = sc->data_mask;
	s->s_group = xcalloc(ctx->cfg->ngroups + 1, sizeof(uint32_t));
	for (i = 0; i < ctx->cfg->ngroups; i++)
		s->s_group[i] = UINT32_MAX;
	if (exec_is_arrival(sc->exec)) {
		s->idle = xcalloc(s->nvus + 1, sizeof(*s->idle));
		if (sc->queue) {
			s->qcap = QUEUE_MAX;
			s->queue = xcalloc(s->qcap, sizeof(*s->queue));
		}
	}
}

worker *worker_create(run_ctx *ctx, uint32_t index, const worker_share *shares)
{
	const run_phase *ph = ctx->phase;
	worker *w = xcalloc(1, sizeof(*w));
	uint32_t i, k, total = 0, at = 0, alloc = 0;
	int efd;

	for (k = 0; k < ph->nscenarios; k++)
		total += shares[k].nvus;
	w->ctx = ctx;
	w->index = index;
	w->loop = ev_loop_create(total + 2 * ph->nscenarios + 8);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!w->loop || efd < 0) {
		if (efd >= 0)
			close(efd);
		ev_loop_destroy(w->loop);
		free(w);
		return NULL;
	}
	ev_loop_set_data(w->loop, w);
	ev_io_init(&w->wake_io, efd, on_wake);
	ev_io_set(w->loop, &w->wake_io, EV_READ);
	sem_init(&w->swap_ack, 0, 0);
	met_shard_init(&w->shards[0]);
	met_shard_init(&w->shards[1]);
	w->shards[0].keep_samples = w->shards[1].keep_samples = (ctx->keep_samples & MET_KEEP_SAMPLES) != 0;
	w->shards[0].keep_arrivals = w->shards[1].keep_arrivals = (ctx->keep_samples & MET_KEEP_ARRIVALS) != 0;
	w->active = &w->shards[0];
	w->retired = &w->shards[1];
	w->rng = UINT64_C(0x9E3779B97F4A7C15) * (index + 1) ^ clock_mono_ns();
	w->nscns = ph->nscenarios;
	w->scns = xcalloc(w->nscns ? w->nscns : 1, sizeof(*w->scns));
	w->http = http_client_create(&(http_client_opts){.loop = w->loop,
							.tls = ctx->tls,
							.nendpoints = ctx->nendpoints + WORKER_DYN_ENDPOINTS,
							.nfixed = ctx->nendpoints,
							.endpoints = ctx->endpoints,
							.seed = index,
							.connect_timeout_ns = ctx->cfg->connect_timeout_ns});
	/* Bodies are kept only for extraction and checks, one per response
	 * being judged; 4 MiB is the most kept (ERR_BODY_TRUNCATED past it). */
	buf_pool_init(&w->bodies, 4096, 4 * 1024 * 1024);
	buf_init(&w->xbuf, 0, 1024 * 1024);
	buf_init(&w->bbuf, 0, 64 * 1024 * 1024);
	buf_init(&w->zbuf, 0, 64 * 1024 * 1024 + 65536);
	w->enc = http_encoder_create();
	w->fields = xcalloc(run_request_max_headers(ctx->cfg) + 1, sizeof(*w->fields));
	w->nvus = total;
	w->vus = xcalloc(total ? total : 1, sizeof(vu));
	for (k = 0; k < ph->nscenarios; k++) {
		worker_scn *s = &w->scns[k];

		scn_init(w, s, ph->scenarios[k], &shares[k], at);
		for (i = 0; i < shares[k].nvus; i++)
			vu_init(&w->vus[at++], w, s, shares[k].first_id + i);
		/* Arrival rates hand out the preallocated VUs first. */
		for (i = 0; s->idle && i < s->nalloc; i++)
			s->idle[s->nidle++] = &w->vus[s->first + s->nalloc - 1 - i];
		alloc += s->nalloc;
		atomic_store(&s->g_alloc, s->nalloc);
	}
	atomic_store(&w->vus_alloc, alloc);
	ev_timer_init(&w->end_timer, on_end);
	w->md = pcre2_match_data_create(32, NULL);
	record_init(w);
	return w;
}

void worker_destroy(worker *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->nvus; i++)
		vu_free(&w->vus[i]);
	for (i = 0; i < w->nscns; i++) {
		free(w->scns[i].s_group);
		free(w->scns[i].idle);
		free(w->scns[i].queue);
	}
	free(w->scns);
	free(w->vus);
	if (w->listening)
		resolver_unlisten(w->ctx->res, w->wake_io.fd);
	close(w->wake_io.fd);
	ev_loop_destroy(w->loop);
	met_shard_free(&w->shards[0]);
	met_shard_free(&w->shards[1]);
	sem_destroy(&w->swap_ack);
	pcre2_match_data_free(w->md);
	record_free(w);
	http_client_destroy(w->http);
	buf_pool_free(&w->bodies);
	buf_free(&w->xbuf);
	buf_free(&w->bbuf);
	buf_free(&w->zbuf);
	http_encoder_destroy(w->enc);
	free(w->fields);
	for (i = 0; w->dyn_eps && i < w->ndyn_eps; i++)
		buf_free(&w->dyn_eps[i].connect);
	free(w->dyn_eps);
	free(w);
}

static void wake(worker *w)
{
	uint64_t one = 1;

	if (write(w->wake_io.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("strain: eventfd write");
}

void worker_request_stop(worker *w, int how)
{
	int cur = atomic_load(&w->stop_req);

	while (cur < how && !atomic_compare_exchange_weak(&w->stop_req, &cur, how))
		;
	wake(w);
}

void worker_request_exit(worker *w)
{
	atomic_store(&w->exit_req, 1);
	wake(w);
}

met_shard *worker_swap(worker *w)
{
	atomic_store(&w->swap_req, 1);
	wake(w);
	while (sem_wait(&w->swap_ack) < 0 && errno == EINTR)
		;
	return w->retired;
}

void worker_shards(worker *w, met_shard *out[2])
{
	out[0] = &w->shards[0];
	out[1] = &w->shards[1];
}

void worker_vus_gauges(worker *w, uint32_t *active, uint32_t *peak, uint32_t *alloc)
{
	*active = atomic_load_explicit(&w->vus_active, memory_order_relaxed);
	*peak = atomic_exchange_explicit(&w->vus_peak, *active, memory_order_relaxed);
	*alloc = atomic_load_explicit(&w->vus_alloc, memory_order_relaxed);
}

void worker_scn_vus_gauges(worker *w, uint32_t k, uint32_t *active, uint32_t *peak, uint32_t *alloc)
{
	worker_scn *s = &w->scns[k];

	*active = atomic_load_explicit(&s->g_active, memory_order_relaxed);
	*peak = atomic_exchange_explicit(&s->g_peak, *active, memory_order_relaxed);
	*alloc = atomic_load_explicit(&s->g_alloc, memory_order_relaxed);
}

static void check_finished(worker *w)
{
	uint32_t k;

	if (w->finished)
		return;
	for (k = 0; k < w->nscns; k++)
		if (!w->scns[k].done)
			return;
	w->finished = 1;
	ev_timer_stop(w->loop, &w->end_timer);
	atomic_fetch_add(&w->ctx->finished, 1);
}

/* Arms the worker's one timer for the next scenario end or grace end. */
static void arm_end_timer(worker *w)
{
	uint64_t next = UINT64_MAX;
	uint32_t k;

	for (k = 0; k < w->nscns; k++) {
		const worker_scn *s = &w->scns[k];

		if (s->done)
			continue;
		if (!s->stopping && s->t_end < next)
			next = s->t_end;
		if (s->stopping && s->grace_end < next)
			next = s->grace_end;
	}
	if (next == UINT64_MAX)
		ev_timer_stop(w->loop, &w->end_timer);
	else
		ev_timer_start(w->loop, &w->end_timer, next);
}

static void scn_check_done(worker *w, worker_scn *s)
{
	if (!s->done && s->stopping && !s->busy) {
		s->done = 1;
		arm_end_timer(w);
		check_finished(w);
	}
}

/* No more starts: the schedule and ramp timers stop, and intended starts
 * still queued will never run, so they count as dropped. */
static void scn_halt(worker *w, worker_scn *s)
{
	uint64_t now = clock_mono_ns();

	/* Iterations that fell due and never started (every VU was busy, or
	 * the loop was behind) are dropped: the books balance at the end. */
	if (exec_is_arrival(s->sc->exec) && s->started && !s->stopping)
		sched_arrivals_drop_due(w, s, now < s->t_end ? now : s->t_end);
	s->stopping = 1;
	ev_timer_stop(w->loop, &s->sched);
	if (s->qlen && w->active->keep_arrivals) {
		/* Each with its arrival record, for the JSON output. */
		for (; s->qlen; s->qlen--, s->qhead = (s->qhead + 1) % s->qcap)
			sched_arrival_drop(w, s, s->queue[s->qhead]);
	} else if (s->qlen) {
		if (w->active->keep_samples)
			met_shard_stamp(w->active, record_time(w, now), 0, 0);
		met_shard_add(w->active, w->ctx->reg, s->s_dropped, (double)s->qlen);
		s->qlen = 0;
	}
}

void worker_scn_stop(worker *w, worker_scn *s, uint64_t grace_ns)
{
	if (s->stopping)
		return;
	scn_halt(w, s);
	s->grace_end = clock_mono_ns() + grace_ns;
	arm_end_timer(w);
	scn_check_done(w, s);
}

static void scn_abort(worker *w, worker_scn *s)
{
	uint32_t i;

	scn_halt(w, s);
	ev_timer_stop(w->loop, &s->rampdown);
	for (i = 0; i < s->nvus; i++)
		vu_abort(&w->vus[s->first + i]);
	scn_check_done(w, s);
}

static void on_end(ev_loop *loop, ev_timer *t)
{
	worker *w = container_of(t, worker, end_timer);
	uint64_t now = clock_mono_ns();
	uint32_t k;

	for (k = 0; k < w->nscns; k++) {
		worker_scn *s = &w->scns[k];

		if (s->done)
			continue;
		if (!s->stopping && now >= s->t_end)
			worker_scn_stop(w, s, s->sc->graceful_stop_ns);
		else if (s->stopping && now >= s->grace_end)
			scn_abort(w, s);
	}
	arm_end_timer(w);
}

static void on_wake(ev_loop *loop, ev_io *io, unsigned events)
{
	worker *w = container_of(io, worker, wake_io);
	uint64_t v;
	int stop;
	uint32_t k;

	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("strain: eventfd read");
	/* The resolver writes here too when a lookup a hop waits on ended. */
	if (w->parked)
		vu_parked_resume(w);
	if (atomic_exchange(&w->swap_req, 0)) {
		met_shard *s = w->active;

		w->active = w->retired;
		w->retired = s;
		sem_post(&w->swap_ack);
	}
	stop = atomic_load(&w->stop_req);
	for (k = 0; k < w->nscns && stop; k++) {
		if (stop == STOP_HARD)
			scn_abort(w, &w->scns[k]);
		else
			worker_scn_stop(w, &w->scns[k], w->scns[k].sc->graceful_stop_ns);
	}
	if (atomic_load(&w->exit_req))
		ev_loop_stop(loop);
}

static void vu_activate(worker *w, vu *v)
{
	uint32_t n;

	if (v->active)
		return;
	n = atomic_fetch_add_explicit(&w->vus_active, 1, memory_order_relaxed) + 1;
	v->active = 1;
	if (n > atomic_load_explicit(&w->vus_peak, memory_order_relaxed))
		atomic_store_explicit(&w->vus_peak, n, memory_order_relaxed);
	n = atomic_fetch_add_explicit(&v->scn->g_active, 1, memory_order_relaxed) + 1;
	if (n > atomic_load_explicit(&v->scn->g_peak, memory_order_relaxed))
		atomic_store_explicit(&v->scn->g_peak, n, memory_order_relaxed);
}

void worker_vu_retire(worker *w, vu *v)
{
	if (v->active) {
		v->active = 0;
		atomic_fetch_sub_explicit(&w->vus_active, 1, memory_order_relaxed);
		atomic_fetch_sub_explicit(&v->scn->g_active, 1, memory_order_relaxed);
	}
}

/* Starts v's next iteration, or retires the VU when its scenario allows no
 * more. Returns 1 if it started. */
int worker_vu_start(worker *w, vu *v)
{
	worker_scn *s = v->scn;
	const run_scenario *sc = s->sc;

	if (s->stopping)
		goto retire;
	if (v->ramp_out) {
		/* Ramped down: this was its last iteration. */
		v->ramp_out = 0;
		goto retire;
	}
	if (sc->exec == EXEC_SHARED_ITERATIONS) {
		if (!s->iters_left) {
			worker_scn_stop(w, s, sc->graceful_stop_ns);
			goto retire;
		}
		s->iters_left--;
	} else if (sc->exec == EXEC_PER_VU_ITERATIONS && v->iter >= sc->iterations) {
		goto retire;
	}
	vu_activate(w, v);
	s->busy++;
	if (vu_iteration_start(v) < 0) {
		/* Its unique data rows are used up: the module is done. */
		s->busy--;
		worker_scn_stop(w, s, sc->graceful_stop_ns);
		goto retire;
	}
	return 1;
retire:
	worker_vu_retire(w, v);
	/* Per-VU iterations end VU by VU: the scenario ends with its last. */
	if (sc->exec == EXEC_PER_VU_ITERATIONS && !s->stopping && s->begin_next >= s->nvus) {
		uint32_t i;

		/* A VU still waiting for its spread start counts as running. */
		for (i = 0; i < s->nvus; i++)
			if (w->vus[s->first + i].active || w->vus[s->first + i].pending_start)
				break;
		if (i == s->nvus)
			worker_scn_stop(w, s, sc->graceful_stop_ns);
	}
	scn_check_done(w, s);
	return 0;
}

void worker_vu_begin(worker *w, vu *v)
{
	worker_vu_start(w, v);
}

void worker_iteration_done(worker *w, vu *v, int completed)
{
	worker_scn *s = v->scn;

	s->busy--;
	v->co_pending = 0;
	if (completed > 0) {
		int arrival = exec_is_arrival(s->sc->exec);
		uint64_t sched_ns = v->intended - w->ctx->t0;

		if (w->active->keep_samples)
			met_shard_stamp(w->active, record_time(w, clock_mono_ns()), v->id, v->iter ? v->iter - 1 : 0);
		/* An arrival record describes the one sample after it. */
		if (arrival)
			met_shard_arrival(w->active, sched_ns, v->arrival);
		met_shard_add(w->active, w->ctx->reg, s->s_iterations, 1);
		if (arrival)
			met_shard_arrival(w->active, sched_ns, v->arrival);
		met_shard_trend(w->active, w->ctx->reg, s->s_iteration_duration, clock_mono_ns() - v->iter_start);
	}
	if (exec_is_arrival(s->sc->exec)) {
		/* An arrival-rate VU runs one iteration per arrival: it goes back
		 * to the free list, or takes the oldest queued start. */
		worker_vu_retire(w, v);
		if (!s->stopping && s->qlen) {
			uint64_t k = s->queue[s->qhead];

			s->qhead = (s->qhead + 1) % s->qcap;
			s->qlen--;
			sched_arrival_run(w, s, v, k);
			sched_arrivals_unblock(w, s);
			return;
		}
		if (!s->stopping)
			s->idle[s->nidle++] = v;
		sched_arrivals_unblock(w, s);
		scn_check_done(w, s);
		return;
	}
	if (worker_vu_start(w, v))
		return;
	worker_vu_retire(w, v);
	scn_check_done(w, s);
}

int worker_data_row(worker *w, vu *v, uint32_t a)
{
	run_data *d = &w->ctx->cfg->data[a];
	uint64_t row;

	switch (d->mode) {
	case DATA_PER_VU:
		row = (v->id - 1) % d->nrows;
		break;
	case DATA_SEQUENTIAL:
		row = atomic_fetch_add_explicit(&d->next, 1, memory_order_relaxed) % d->nrows;
		break;
	case DATA_RANDOM:
		row = tmpl_rand(&v->rng) % d->nrows;
		break;
	case DATA_UNIQUE:
	default:
		row = atomic_fetch_add_explicit(&d->next, 1, memory_order_relaxed);
		if (row >= d->nrows)
			return -1;
		break;
	}
	v->rows[a] = (const char *const *)&d->cells[row * d->ncols];
	return 0;
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	uint32_t k;

	/* Arrival schedules want their timers on time: the default 50 us of
	 * timer slack would show in every iteration_start_delay. */
	for (k = 0; k < w->nscns; k++)
		if (exec_is_arrival(w->scns[k].sc->exec))
			prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	ev_now_update(w->loop);
	arm_end_timer(w);
	for (k = 0; k < w->nscns; k++) {
		worker_scn *s = &w->scns[k];

		if (s->stopping)
			continue;
		if (!s->nvus)
			worker_scn_stop(w, s, 0);
		else if (s->sc->start_time_ns)
			ev_timer_start(w->loop, &s->sched, s->t_start);
		else
			sched_begin(w, s);
	}
	check_finished(w);
	if (ev_loop_run(w->loop) < 0)
		perror("strain: worker event loop");
	return NULL;
}

int worker_start(worker *w)
{
	return pthread_create(&w->thread, NULL, worker_main, w) ? -1 : 0;
}

void worker_join(worker *w)
{
	pthread_join(w->thread, NULL);
}
