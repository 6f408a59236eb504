#include "engine/record.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"

/* Tags every sample of a scenario carries: k6's scenario, and strain's
 * module and strategy, plus the plan's own tags for the module. */
size_t record_scenario_tags(const run_ctx *ctx, const run_scenario *sc, met_tag *tags, size_t max)
{
	size_t n = 0, i;

	tags[n++] = (met_tag){"scenario", sc->name};
	if (ctx->phase->strategy != STRATEGY_NONE) {
		tags[n++] = (met_tag){"module", sc->name};
		tags[n++] = (met_tag){"strategy", run_strategy_name(ctx->phase->strategy)};
	}
	for (i = 0; i < sc->ntags && n < max; i++)
		tags[n++] = sc->tags[i];
	return n;
}

/* Wall-clock time for raw samples, unique across the run: worker i only
 * uses nanoseconds congruent to i modulo the number of workers, strictly
 * increasing. Outputs keyed by (series, time) — InfluxDB — would otherwise
 * keep one of two samples that two threads stamped in the same nanosecond.
 * The shift is a few nanoseconds at most. */
uint64_t record_time(worker *w, uint64_t mono)
{
	uint64_t n = w->ctx->nworkers ? w->ctx->nworkers : 1;
	uint64_t t = w->ctx->wall0 + (mono - w->ctx->t0);

	t = t - t % n + w->index;
	if (t <= w->last_stamp)
		t = w->last_stamp + n;
	w->last_stamp = t;
	return t;
}

void record_init(worker *w)
{
	uint32_t i;

	w->cache_cap = 64;
	w->cache = xcalloc(w->cache_cap, sizeof(*w->cache));
	w->s_checks = xcalloc(w->ctx->cfg->nchecks + 1, sizeof(uint32_t));
	for (i = 0; i < w->ctx->cfg->nchecks; i++)
		w->s_checks[i] = UINT32_MAX;
}

void record_free(worker *w)
{
	free(w->cache);
	free(w->s_checks);
}

void record_group(worker *w, vu *v, uint32_t group, uint64_t ns)
{
	worker_scn *s = v->scn;

	if (s->s_group[group] == UINT32_MAX) {
		met_tag tags[MET_MAX_TAGS];
		size_t n = record_scenario_tags(w->ctx, s->sc, tags, MET_MAX_TAGS - 1);

		tags[n++] = (met_tag){"group", w->ctx->cfg->groups[group]};
		s->s_group[group] = met_series_intern(w->ctx->reg, MET_GROUP_DURATION,
						      met_tagset_intern(w->ctx->reg, tags, n));
	}
	met_shard_trend(w->active, w->ctx->reg, s->s_group[group], ns);
}

/* Series ids for a (request, status, error) combination; interned once per
 * worker, then served from a small open-addressing table. */
static const http_series *series_for(worker *w, const vu *v, int status, int err)
{
	const run_ctx *ctx = w->ctx;
	const run_config *cfg = ctx->cfg;
	const run_request *rq = v->req;
	uint32_t req = (uint32_t)(rq - cfg->reqs);
	uint64_t hop_hash = 0;
	const char *hop_url = vu_hop_url(v, &hop_hash);
	/* Packed: a redirect hop turned GET 1 bit, request 23 bits, cipher 16,
	 * TLS version 2, status 10 (three digits), error code 12 (codes are
	 * below 2000); a hop tagged with its own URL mixes the URL's hash in. */
	uint64_t key = ((uint64_t)v->as_get << 63) | ((uint64_t)(req + 1) << 40) |
		       ((uint64_t)(v->x.tls_cipher_id & 0xffff) << 24) | ((uint64_t)(v->x.tls_ver & 3) << 22) |
		       ((uint64_t)(status & 0x3ff) << 12) | (uint64_t)(err & 0xfff);
	uint64_t h;
	uint32_t i;
	char status_s[8], err_s[8];
	met_tag tags[MET_MAX_TAGS];
	size_t n;
	uint32_t ts;
	http_series *s;
	int expected = !err && (rq->expect.n ? status_set_has(&rq->expect, status)
					     : status >= cfg->expected_lo && status <= cfg->expected_hi);

	if (hop_url) {
		key = (key * UINT64_C(0x9e3779b97f4a7c15)) ^ hop_hash;
		if (!key)
			key = 1;
	}
	h = key * UINT64_C(0x9e3779b97f4a7c15);
	i = (uint32_t)(h >> 40) & (w->cache_cap - 1);

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
	n = record_scenario_tags(ctx, v->scn->sc, tags,
				 (size_t)(MET_MAX_TAGS - 8 - (v->x.tls_version != NULL) - (v->x.tls_cipher != NULL)));
	tags[n++] = (met_tag){"method", v->as_get ? "GET" : rq->method};
	tags[n++] = (met_tag){"url", hop_url ? hop_url : rq->url_str};
	tags[n++] = (met_tag){"name", hop_url ? hop_url : rq->name};
	tags[n++] = (met_tag){"status", status_s};
	tags[n++] = (met_tag){"expected_response", expected ? "true" : "false"};
	tags[n++] = (met_tag){"group", rq->group};
	if (status) /* an answer came, even if it could not be judged */
		tags[n++] = (met_tag){"proto", "HTTP/1.1"};
	if (v->x.tls_version)
		tags[n++] = (met_tag){"tls_version", v->x.tls_version};
	if (v->x.tls_cipher)
		tags[n++] = (met_tag){"tls_cipher_suite", v->x.tls_cipher};
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

static uint32_t check_series(worker *w, const vu *v, const flow_check *c)
{
	if (w->s_checks[c->id] == UINT32_MAX) {
		met_tag tags[MET_MAX_TAGS];
		size_t n = record_scenario_tags(w->ctx, v->scn->sc, tags, MET_MAX_TAGS - 2);

		tags[n++] = (met_tag){"check", c->name};
		tags[n++] = (met_tag){"group", v->req->group};
		w->s_checks[c->id] = met_series_intern(w->ctx->reg, MET_CHECKS, met_tagset_intern(w->ctx->reg, tags, n));
	}
	return w->s_checks[c->id];
}

static inline uint64_t span(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* Phases as k6 defines them: blocked until the connection attempt starts,
 * connecting, then sending / waiting (to the first response byte) /
 * receiving; duration = sending + waiting + receiving. */
void record_http_abandoned(worker *w, vu *v)
{
	const run_ctx *ctx = w->ctx;
	met_shard *sh = w->active;
	const met_registry *r = ctx->reg;
	const http_series *s = series_for(w, v, 0, ERR_ABANDONED);

	if (sh->keep_samples)
		met_shard_stamp(sh, record_time(w, clock_mono_ns()), v->id, v->iter ? v->iter - 1 : 0);
	met_shard_add(sh, r, s->reqs, 1);
	met_shard_rate(sh, r, s->failed, 1);
	if (v->x.bytes_out)
		met_shard_add(sh, r, v->scn->s_data_sent, (double)v->x.bytes_out);
	if (v->x.bytes_in)
		met_shard_add(sh, r, v->scn->s_data_received, (double)v->x.bytes_in);
}

void record_http(worker *w, vu *v, int status, int err, int attempt)
{
	const run_ctx *ctx = w->ctx;
	const run_config *cfg = ctx->cfg;
	const run_request *rq = v->req;
	met_shard *sh = w->active;
	const met_registry *r = ctx->reg;
	const http_series *s = series_for(w, v, status, err);
	uint64_t end = clock_mono_ns();
	/* Phases that never began (a refused connect, a timeout before the
	 * first byte) collapse to zero length at the point the request ended. */
	uint64_t send_start = v->x.t_send_start ? v->x.t_send_start : v->x.t_tls_done ? v->x.t_tls_done : v->x.t_connected;
	uint64_t sent = v->x.t_sent ? v->x.t_sent : (v->x.t_send_start ? end : send_start);
	uint64_t first = v->x.t_first ? v->x.t_first : (v->x.t_sent ? end : sent);
	uint64_t sending = span(send_start, sent), waiting = span(sent, first), receiving = span(first, end);
	uint64_t duration;
	int failed = err || (rq->expect.n ? !status_set_has(&rq->expect, status)
					  : status < cfg->expected_lo || status > cfg->expected_hi);
	uint32_t i;

	if (v->co_pending) {
		/* Queue mode: the iteration's first request counts from when it
		 * should have started, so time spent queued behind a stalled
		 * server shows as waiting, in full (wrk2's correction). */
		waiting += span(v->intended, v->x.t_start);
		v->co_pending = 0;
	}
	duration = sending + waiting + receiving;
	if (sh->keep_samples)
		met_shard_stamp(sh, record_time(w, end), v->id, v->iter ? v->iter - 1 : 0);
	met_shard_add(sh, r, s->reqs, 1);
	met_shard_trend(sh, r, s->duration, duration);
	met_shard_trend(sh, r, s->blocked, span(v->x.t_start, v->x.t_conn_start));
	met_shard_trend(sh, r, s->connecting, span(v->x.t_conn_start, v->x.t_connected));
	met_shard_trend(sh, r, s->tls, v->x.t_tls_done ? span(v->x.t_connected, v->x.t_tls_done) : 0);
	met_shard_trend(sh, r, s->sending, sending);
	met_shard_trend(sh, r, s->waiting, waiting);
	met_shard_trend(sh, r, s->receiving, receiving);
	met_shard_rate(sh, r, s->failed, failed);
	if (v->x.bytes_out)
		met_shard_add(sh, r, v->scn->s_data_sent, (double)v->x.bytes_out);
	if (v->x.bytes_in)
		met_shard_add(sh, r, v->scn->s_data_received, (double)v->x.bytes_in);
	/* A request without an answer fails all its checks; one whose answer
	 * came but could not be judged (a regex limit, with its status) fails
	 * only the checks marked. A failed attempt that a resend follows
	 * records none: checks judge the final answer. */
	for (i = 0; !attempt && i < rq->nchecks; i++) {
		const flow_check *c = &rq->checks[i];
		int ok = !(err && !status) && !(v->check_fail & (UINT64_C(1) << i));

		if (c->kind == CHK_MAX_DURATION)
			ok = !(err && !status) && duration <= c->max_ns;
		met_shard_rate(sh, r, check_series(w, v, c), ok);
	}
}
