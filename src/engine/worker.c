#include "engine/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "engine/errcode.h"

static void on_wake(ev_loop *loop, ev_io *io, unsigned events);
static void on_end(ev_loop *loop, ev_timer *t);
static void on_grace(ev_loop *loop, ev_timer *t);

worker *worker_create(run_ctx *ctx, uint32_t index, uint32_t first_vu, uint32_t nvus, uint64_t iterations)
{
	worker *w = xcalloc(1, sizeof(*w));
	uint32_t i;
	int efd;

	w->ctx = ctx;
	w->index = index;
	w->loop = ev_loop_create(nvus + 8);
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
	w->shards[0].keep_samples = w->shards[1].keep_samples = ctx->keep_samples;
	w->active = &w->shards[0];
	w->retired = &w->shards[1];
	w->nvus = nvus;
	w->vus = xcalloc(nvus ? nvus : 1, sizeof(vu));
	for (i = 0; i < nvus; i++)
		vu_init(&w->vus[i], w, first_vu + i);
	w->iters_left = iterations;
	ev_timer_init(&w->end_timer, on_end);
	ev_timer_init(&w->grace_timer, on_grace);
	w->cache_cap = 64;
	w->cache = xcalloc(w->cache_cap, sizeof(*w->cache));
	return w;
}

void worker_destroy(worker *w)
{
	uint32_t i;

	if (!w)
		return;
	for (i = 0; i < w->nvus; i++)
		vu_free(&w->vus[i]);
	free(w->vus);
	close(w->wake_io.fd);
	ev_loop_destroy(w->loop);
	met_shard_free(&w->shards[0]);
	met_shard_free(&w->shards[1]);
	sem_destroy(&w->swap_ack);
	free(w->cache);
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

uint64_t worker_now(const worker *w)
{
	return ev_now(w->loop);
}

static void check_finished(worker *w)
{
	if (w->finished || w->busy || !w->stopping)
		return;
	w->finished = 1;
	ev_timer_stop(w->loop, &w->grace_timer);
	ev_timer_stop(w->loop, &w->end_timer);
	atomic_fetch_add(&w->ctx->finished, 1);
}

static void begin_stop(worker *w)
{
	const run_config *cfg = w->ctx->cfg;

	if (w->stopping)
		return;
	w->stopping = 1;
	if (w->busy)
		ev_timer_start(w->loop, &w->grace_timer, clock_mono_ns() + cfg->graceful_stop_ns);
	check_finished(w);
}

static void hard_stop(worker *w)
{
	uint32_t i;

	w->stopping = 1;
	for (i = 0; i < w->nvus; i++)
		vu_abort(&w->vus[i]);
	check_finished(w);
}

static void on_grace(ev_loop *loop, ev_timer *t)
{
	hard_stop(container_of(t, worker, grace_timer));
}

static void on_end(ev_loop *loop, ev_timer *t)
{
	begin_stop(container_of(t, worker, end_timer));
}

static void on_wake(ev_loop *loop, ev_io *io, unsigned events)
{
	worker *w = container_of(io, worker, wake_io);
	uint64_t v;
	int stop;

	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("strain: eventfd read");
	if (atomic_exchange(&w->swap_req, 0)) {
		met_shard *s = w->active;

		w->active = w->retired;
		w->retired = s;
		sem_post(&w->swap_ack);
	}
	stop = atomic_load(&w->stop_req);
	if (stop == STOP_HARD)
		hard_stop(w);
	else if (stop == STOP_GRACEFUL)
		begin_stop(w);
	if (atomic_load(&w->exit_req))
		ev_loop_stop(loop);
}

int worker_may_start_iteration(worker *w)
{
	if (w->stopping)
		return 0;
	if (w->ctx->cfg->iterations) {
		if (!w->iters_left)
			return 0;
		w->iters_left--;
	}
	return 1;
}

/* Starts v's next iteration, or retires the VU when the run allows no
 * more. Returns 1 if it started. */
static int start_vu(worker *w, vu *v)
{
	if (!worker_may_start_iteration(w)) {
		if (!w->stopping && w->ctx->cfg->iterations)
			begin_stop(w);
		if (v->active) {
			v->active = 0;
			atomic_fetch_sub_explicit(&w->vus_active, 1, memory_order_relaxed);
		}
		return 0;
	}
	if (!v->active) {
		uint32_t n = atomic_fetch_add_explicit(&w->vus_active, 1, memory_order_relaxed) + 1;

		v->active = 1;
		if (n > atomic_load_explicit(&w->vus_peak, memory_order_relaxed))
			atomic_store_explicit(&w->vus_peak, n, memory_order_relaxed);
	}
	w->busy++;
	vu_iteration_start(v);
	return 1;
}

void worker_iteration_done(worker *w, vu *v, int completed)
{
	const run_ctx *ctx = w->ctx;

	w->busy--;
	if (completed > 0) {
		if (w->active->keep_samples)
			met_shard_stamp(w->active, ctx->wall0 + (clock_mono_ns() - ctx->t0), v->id, v->iter);
		met_shard_add(w->active, ctx->reg, ctx->s_iterations, 1);
		met_shard_trend(w->active, ctx->reg, ctx->s_iteration_duration, clock_mono_ns() - v->iter_start);
	}
	if (completed >= 0 && start_vu(w, v))
		return;
	if (v->active) {
		v->active = 0;
		atomic_fetch_sub_explicit(&w->vus_active, 1, memory_order_relaxed);
	}
	check_finished(w);
}

/* Series ids for a (request, status, error) combination; interned once per
 * worker, then served from a small open-addressing table. */
static const http_series *series_for(worker *w, const vu *v, int status, int err)
{
	const run_ctx *ctx = w->ctx;
	const run_config *cfg = ctx->cfg;
	uint32_t req = (uint32_t)(v->req - cfg->reqs);
	uint64_t key = ((uint64_t)(req + 1) << 32) | ((uint64_t)(uint32_t)status << 16) | (uint32_t)err;
	uint64_t h = key * UINT64_C(0x9e3779b97f4a7c15);
	uint32_t i = (uint32_t)(h >> 40) & (w->cache_cap - 1);
	char status_s[8], err_s[8];
	met_tag tags[10];
	size_t n = 0;
	uint32_t ts;
	http_series *s;
	int expected = !err && status >= cfg->expected_lo && status <= cfg->expected_hi;

	while (w->cache[i].key) {
		if (w->cache[i].key == key)
			return &w->cache[i].s;
		i = (i + 1) & (w->cache_cap - 1);
	}
	/* Miss: rare (first sight of this combination), so allocating is fine. */
	if ((w->cache_len + 1) * 2 > w->cache_cap) {
		series_slot *old = w->cache;
		uint32_t oldcap = w->cache_cap, j;

		w->cache_cap *= 2;
		w->cache = xcalloc(w->cache_cap, sizeof(*w->cache));
		for (j = 0; j < oldcap; j++) {
			uint32_t k;

			if (!old[j].key)
				continue;
			k = (uint32_t)((old[j].key * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & (w->cache_cap - 1);
			while (w->cache[k].key)
				k = (k + 1) & (w->cache_cap - 1);
			w->cache[k] = old[j];
		}
		free(old);
		i = (uint32_t)(h >> 40) & (w->cache_cap - 1);
		while (w->cache[i].key)
			i = (i + 1) & (w->cache_cap - 1);
	}
	snprintf(status_s, sizeof(status_s), "%d", status);
	tags[n++] = (met_tag){"method", v->req->method};
	tags[n++] = (met_tag){"url", v->req->url_str};
	tags[n++] = (met_tag){"name", v->req->name};
	tags[n++] = (met_tag){"status", status_s};
	tags[n++] = (met_tag){"expected_response", expected ? "true" : "false"};
	tags[n++] = (met_tag){"scenario", cfg->scenario};
	if (!err)
		tags[n++] = (met_tag){"proto", "HTTP/1.1"};
	if (!err)
		err = err_from_status(status);
	snprintf(err_s, sizeof(err_s), "%d", err);
	if (err)
		tags[n++] = (met_tag){"error_code", err_s};
	ts = met_tagset_intern(ctx->reg, tags, n);
	s = &w->cache[i].s;
	s->reqs = met_series_intern(ctx->reg, MET_HTTP_REQS, ts);
	s->duration = met_series_intern(ctx->reg, MET_HTTP_REQ_DURATION, ts);
	s->blocked = met_series_intern(ctx->reg, MET_HTTP_REQ_BLOCKED, ts);
	s->connecting = met_series_intern(ctx->reg, MET_HTTP_REQ_CONNECTING, ts);
	s->tls = met_series_intern(ctx->reg, MET_HTTP_REQ_TLS_HANDSHAKING, ts);
	s->sending = met_series_intern(ctx->reg, MET_HTTP_REQ_SENDING, ts);
	s->waiting = met_series_intern(ctx->reg, MET_HTTP_REQ_WAITING, ts);
	s->receiving = met_series_intern(ctx->reg, MET_HTTP_REQ_RECEIVING, ts);
	s->failed = met_series_intern(ctx->reg, MET_HTTP_REQ_FAILED, ts);
	w->cache[i].key = key;
	w->cache_len++;
	return s;
}

static inline uint64_t span(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* Phases as k6 defines them: blocked until the connection attempt starts,
 * connecting, then sending / waiting (to the first response byte) /
 * receiving; duration = sending + waiting + receiving. */
void worker_record_http(worker *w, vu *v, int status, int err)
{
	const run_ctx *ctx = w->ctx;
	const run_config *cfg = ctx->cfg;
	met_shard *sh = w->active;
	const met_registry *r = ctx->reg;
	const http_series *s = series_for(w, v, status, err);
	uint64_t end = clock_mono_ns();
	/* Phases that never began (a refused connect, a timeout before the
	 * first byte) collapse to zero length at the point the request ended. */
	uint64_t send_start = v->t_send_start ? v->t_send_start : v->t_connected;
	uint64_t sent = v->t_sent ? v->t_sent : (v->t_send_start ? end : send_start);
	uint64_t first = v->t_first ? v->t_first : (v->t_sent ? end : sent);
	uint64_t sending = span(send_start, sent), waiting = span(sent, first), receiving = span(first, end);
	int failed = err || status < cfg->expected_lo || status > cfg->expected_hi;

	if (sh->keep_samples)
		met_shard_stamp(sh, ctx->wall0 + (end - ctx->t0), v->id, v->iter);
	met_shard_add(sh, r, s->reqs, 1);
	met_shard_trend(sh, r, s->duration, sending + waiting + receiving);
	met_shard_trend(sh, r, s->blocked, span(v->t_start, v->t_conn_start));
	met_shard_trend(sh, r, s->connecting, span(v->t_conn_start, v->t_connected));
	met_shard_trend(sh, r, s->tls, 0);
	met_shard_trend(sh, r, s->sending, sending);
	met_shard_trend(sh, r, s->waiting, waiting);
	met_shard_trend(sh, r, s->receiving, receiving);
	met_shard_rate(sh, r, s->failed, failed);
	if (v->bytes_out)
		met_shard_add(sh, r, ctx->s_data_sent, (double)v->bytes_out);
	if (v->bytes_in)
		met_shard_add(sh, r, ctx->s_data_received, (double)v->bytes_in);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	const run_ctx *ctx = w->ctx;
	uint32_t i;

	ev_now_update(w->loop);
	if (ctx->t_end)
		ev_timer_start(w->loop, &w->end_timer, ctx->t_end);
	for (i = 0; i < w->nvus && !w->stopping; i++)
		start_vu(w, &w->vus[i]);
	if (!w->nvus)
		begin_stop(w);
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
