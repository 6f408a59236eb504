/* The scheduling of a worker's iteration starts: ramping-vus' ramps,
 * arrival rates' schedules (queue, drops), and each scenario's start. The
 * math of the schedules is program/exec.c's; the worker's life cycle and
 * control are worker.c's. */
#include "engine/sched.h"

#include "core/clock.h"
#include "engine/record.h"

/* Work one loop pass may do for one schedule before it yields to the event
 * loop, so that I/O, stop requests and the collector's swap are never kept
 * waiting by a schedule that is behind: iterations started (arrival rates)
 * or VUs started (ramping-vus, a module's start). */
#define ARRIVALS_PER_PASS 256
#define STARTS_PER_PASS 512
/* How often a schedule with no VU free counts its drops. */
#define ARRIVALS_BLOCKED_POLL (10 * NS_PER_MS)
/* Dropped iterations written one by one, with their arrival records, per
 * drop of many: a rate far beyond the machine with the JSON output on
 * must not turn each poll into millions of samples. The rest are one
 * sample of their count. */
#define DROPS_RECORDED 65536

/* ---- ramping-vus ---- */

static uint32_t share_of(uint32_t total, uint32_t slot, uint32_t nslots)
{
	return total / nslots + (slot < total % nslots);
}

/* Moves the number of looping VUs to s->want: VUs ramping out are kept
 * first (they are still warm), then idle ones start; going down, the
 * newest VUs finish their iteration and stop, within gracefulRampDown.
 * Starts at most STARTS_PER_PASS VUs (each may connect); returns 1 when
 * more are still to start, for the next loop pass. */
static int ramp_apply(worker *w, worker_scn *s)
{
	uint64_t now = clock_mono_ns();
	uint32_t i, started = 0;

	for (i = 0; i < s->nvus && s->running < s->want; i++) {
		vu *v = &w->vus[s->first + i];

		if (v->ramp_out) {
			v->ramp_out = 0;
			s->running++;
		}
	}
	for (i = 0; i < s->nvus && s->running < s->want && !s->stopping; i++) {
		vu *v = &w->vus[s->first + i];

		if (v->active)
			continue;
		if (started++ == STARTS_PER_PASS)
			return 1;
		s->running++;
		if (!worker_vu_start(w, v))
			s->running--;
	}
	for (i = s->nvus; i-- > 0 && s->running > s->want;) {
		vu *v = &w->vus[s->first + i];

		if (!v->active || v->ramp_out)
			continue;
		s->running--;
		if (!v->in_iteration) {
			worker_vu_retire(w, v);
			continue;
		}
		v->ramp_out = 1;
		v->ramp_deadline = now + s->sc->graceful_ramp_down_ns;
		if (!ev_timer_armed(&s->rampdown) || s->rampdown.deadline > v->ramp_deadline)
			ev_timer_start(w->loop, &s->rampdown, v->ramp_deadline);
	}
	return 0;
}

static void ramp_update(worker *w, worker_scn *s)
{
	const run_scenario *sc = s->sc;
	uint64_t now = clock_mono_ns(), el = now > s->t_start ? now - s->t_start : 0, next;
	/* The process's segment of the whole ramp's VUs, then this worker's part. */
	uint32_t total = (uint32_t)seg_scale(&w->ctx->cfg->segment, exec_vus_at(sc->stages, sc->nstages, sc->start_vus, el));
	int more;

	s->want = share_of(total, s->slot, s->nslots);
	if (s->want > s->nvus)
		s->want = s->nvus;
	more = ramp_apply(w, s);
	next = exec_vus_next_change(sc->stages, sc->nstages, sc->start_vus, el);
	if (s->stopping)
		return;
	if (more)
		ev_timer_start(w->loop, &s->sched, clock_mono_ns() + 1);
	else if (next != UINT64_MAX && s->t_start + next < s->t_end)
		ev_timer_start(w->loop, &s->sched, s->t_start + next);
}

/* A ramped-out VU's gracefulRampDown is over: its iteration is abandoned.
 * Ramp-downs are rare, so scanning the scenario's VUs here is fine. */
void sched_on_rampdown(ev_loop *loop, ev_timer *t)
{
	worker_scn *s = container_of(t, worker_scn, rampdown);
	worker *w = s->w;
	uint64_t now = clock_mono_ns(), next = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < s->nvus; i++) {
		vu *v = &w->vus[s->first + i];

		if (!v->ramp_out)
			continue;
		if (v->ramp_deadline <= now)
			vu_abort(v);
		else if (v->ramp_deadline < next)
			next = v->ramp_deadline;
	}
	if (next != UINT64_MAX)
		ev_timer_start(loop, &s->rampdown, next);
}

/* ---- arrival rates ---- */

/* A free VU, initialising one more (up to this worker's maxVUs share) when
 * none is free. Every VU was allocated at creation, so this never allocates. */
static vu *arrival_vu(worker *w, worker_scn *s)
{
	if (s->nidle)
		return s->idle[--s->nidle];
	if (s->nalloc < s->nvus) {
		atomic_fetch_add_explicit(&w->vus_alloc, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->g_alloc, 1, memory_order_relaxed);
		return &w->vus[s->first + s->nalloc++];
	}
	return NULL;
}

uint64_t sched_arrival_ns(const worker_scn *s, uint64_t k)
{
	const run_scenario *sc = s->sc;
	uint64_t off = exec_arrival_time(sc->stages, sc->nstages, sc->start_rate, sc->time_unit_ns, k);

	return off == UINT64_MAX || off >= sc->duration_ns ? UINT64_MAX : sc->start_time_ns + off;
}

void sched_arrival_run(worker *w, worker_scn *s, vu *v, uint64_t k)
{
	uint64_t now = clock_mono_ns(), ns = sched_arrival_ns(s, k);
	uint64_t intended = ns == UINT64_MAX ? now : w->ctx->t0 + ns;

	v->intended = intended;
	v->arrival = k;
	v->co_pending = s->sc->queue != 0;
	if (w->active->keep_samples) {
		met_shard_stamp(w->active, record_time(w, now), v->id, v->iter);
		met_shard_arrival(w->active, ns, k);
	}
	met_shard_trend(w->active, w->ctx->reg, s->s_start_delay, now > intended ? now - intended : 0);
	worker_vu_start(w, v);
}

void sched_arrival_drop(worker *w, worker_scn *s, uint64_t k)
{
	if (w->active->keep_samples) {
		uint64_t ns = sched_arrival_ns(s, k);

		met_shard_stamp(w->active, record_time(w, clock_mono_ns()), 0, 0);
		if (ns != UINT64_MAX)
			met_shard_arrival(w->active, ns, k);
	}
	met_shard_add(w->active, w->ctx->reg, s->s_dropped, 1);
}

/* Arrival k is due: it runs on a free VU, waits in the queue (queue
 * mode), or is dropped and counted, as k6 does. */
static void arrival_due(worker *w, worker_scn *s, uint64_t k)
{
	vu *v = arrival_vu(w, s);

	if (v) {
		sched_arrival_run(w, s, v, k);
		return;
	}
	if (s->qlen < s->qcap) {
		s->queue[(s->qhead + s->qlen) % s->qcap] = k;
		s->qlen++;
		return;
	}
	sched_arrival_drop(w, s, k);
}

/* Whether an iteration due now could start or wait: a free VU, one more
 * to initialise, or room in the queue. */
static int arrival_room(const worker_scn *s)
{
	return s->nidle || s->nalloc < s->nvus || s->qlen < s->qcap;
}

/* This worker's next intended start (k advances by nslots, so the
 * workers' schedules interleave into one evenly spaced one). next_k counts
 * the process's iterations; its segment's striped pattern says which
 * iteration of the whole schedule that is (next_idx), so the processes'
 * schedules interleave the same way. Sets next_at without arming
 * anything; UINT64_MAX once the schedule is over. */
static void arrival_next(worker_scn *s)
{
	uint64_t ns;

	s->next_idx = seg_index(&s->w->ctx->cfg->segment, s->next_k);
	ns = sched_arrival_ns(s, s->next_idx);
	s->next_at = ns == UINT64_MAX ? UINT64_MAX : s->w->ctx->t0 + ns;
}

/* n of this worker's arrivals, from the process's count j on, dropped.
 * With the JSON output's arrival records each is its own sample (k6
 * writes one per dropped iteration), up to DROPS_RECORDED per call; the
 * rest, and every drop without the records, is one sample of n. */
static void drops_count(worker *w, worker_scn *s, uint64_t j, uint64_t n)
{
	uint64_t i = 0;

	if (!n)
		return;
	for (; w->active->keep_arrivals && i < n && i < DROPS_RECORDED; i++)
		sched_arrival_drop(w, s, seg_index(&w->ctx->cfg->segment, j + i * s->nslots));
	if (i == n)
		return;
	if (w->active->keep_samples)
		met_shard_stamp(w->active, record_time(w, clock_mono_ns()), 0, 0);
	met_shard_add(w->active, w->ctx->reg, s->s_dropped, (double)(n - i));
}

/* Drops, in one step, every iteration of this worker's share that is due
 * by `until` and has not started: the count comes from the schedule's
 * integral, so the cost does not depend on the rate. This is what keeps a
 * rate the machine cannot follow (millions a second, every VU busy) from
 * spinning: those iterations are dropped and counted, as k6 counts them,
 * without being visited one by one. */
void sched_arrivals_drop_due(worker *w, worker_scn *s, uint64_t until)
{
	const run_scenario *sc = s->sc;
	uint64_t el, owed, n;
	int i;

	if (s->next_at == UINT64_MAX || s->next_at > until)
		return;
	el = until - s->t_start;
	if (el > sc->duration_ns)
		el = sc->duration_ns;
	/* Iterations 0..owed-1 of the whole schedule are due by `until`. */
	owed = exec_arrivals_between(sc->stages, sc->nstages, sc->start_rate, sc->time_unit_ns, 0, el + 1);
	owed = seg_scale(&w->ctx->cfg->segment, owed);
	if (owed > s->next_k) {
		n = (owed - s->next_k + s->nslots - 1) / s->nslots;
		drops_count(w, s, s->next_k, n);
		s->next_k += n * s->nslots;
	}
	arrival_next(s);
	/* The integral and the per-iteration times may disagree by a rounding
	 * step at the boundary: take the stragglers one by one (a few at most). */
	for (i = 0; i < 4 && s->next_at <= until; i++) {
		drops_count(w, s, s->next_k, 1);
		s->next_k += s->nslots;
		arrival_next(s);
	}
}

/* Starts what is due, at most ARRIVALS_PER_PASS per call, then arms the
 * schedule's timer:
 * - behind schedule with room left (a busy loop pass): the next call comes
 *   on the next loop pass, after I/O and stop requests have been seen; the
 *   lag shows in iteration_start_delay;
 * - no room (every VU busy, maxVUs reached, the queue full): due
 *   iterations are dropped in bulk; the timer then only polls every
 *   ARRIVALS_BLOCKED_POLL to count drops as they fall due, and a VU that
 *   frees up resumes the schedule at once (sched_arrivals_unblock). */
static void arrivals_run(worker *w, worker_scn *s)
{
	uint64_t now = clock_mono_ns();
	uint32_t started = 0;

	ev_timer_stop(w->loop, &s->sched);
	s->blocked = 0;
	while (s->next_at <= now && !s->stopping) {
		if (!arrival_room(s)) {
			sched_arrivals_drop_due(w, s, now);
			break;
		}
		if (started++ == ARRIVALS_PER_PASS) {
			ev_timer_start(w->loop, &s->sched, now + 1);
			return;
		}
		arrival_due(w, s, s->next_idx);
		s->next_k += s->nslots;
		arrival_next(s);
	}
	if (s->stopping || s->next_at == UINT64_MAX)
		return;
	if (!arrival_room(s)) {
		s->blocked = 1;
		ev_timer_start(w->loop, &s->sched,
			       s->next_at > now + ARRIVALS_BLOCKED_POLL ? s->next_at : now + ARRIVALS_BLOCKED_POLL);
		return;
	}
	ev_timer_start(w->loop, &s->sched, s->next_at);
}

/* A VU of a blocked schedule is free again: what fell due while none was
 * free is dropped, and the schedule goes on from now. */
void sched_arrivals_unblock(worker *w, worker_scn *s)
{
	if (!s->blocked || s->stopping)
		return;
	sched_arrivals_drop_due(w, s, clock_mono_ns());
	arrivals_run(w, s);
}

/* ---- scenario start and timers ---- */

/* Closed-model executors: every VU starts looping (spread over one think
 * period when the module thinks), STARTS_PER_PASS per loop pass. */
static void scn_start_vus(worker *w, worker_scn *s)
{
	uint64_t spread = s->sc->start_spread_ns;
	uint32_t n = 0;

	while (s->begin_next < s->nvus && !s->stopping) {
		vu *v = &w->vus[s->first + s->begin_next];

		if (n++ == STARTS_PER_PASS) {
			ev_timer_start(w->loop, &s->sched, clock_mono_ns() + 1);
			return;
		}
		s->begin_next++;
		if (spread) {
			v->pending_start = 1;
			v->state = VU_WAITING;
			ev_timer_start(w->loop, &v->timer, clock_mono_ns() + tmpl_rand(&v->rng) % spread);
			continue;
		}
		worker_vu_start(w, v);
	}
}

void sched_begin(worker *w, worker_scn *s)
{
	const run_scenario *sc = s->sc;

	s->started = 1;
	if (!s->nvus) {
		worker_scn_stop(w, s, 0);
		return;
	}
	switch (sc->exec) {
	case EXEC_RAMPING_VUS:
		ramp_update(w, s);
		break;
	case EXEC_CONSTANT_ARRIVAL_RATE:
	case EXEC_RAMPING_ARRIVAL_RATE:
		s->next_k = s->slot;
		arrival_next(s);
		/* Started late (--start-at): what fell due before this process
		 * began is dropped, as iterations no VU could start. */
		if (w->ctx->late_ns && w->ctx->t0 + w->ctx->late_ns > s->t_start)
			sched_arrivals_drop_due(w, s, w->ctx->t0 + w->ctx->late_ns - 1);
		arrivals_run(w, s);
		break;
	default:
		scn_start_vus(w, s);
		break;
	}
}

void sched_on_timer(ev_loop *loop, ev_timer *t)
{
	worker_scn *s = container_of(t, worker_scn, sched);
	worker *w = s->w;

	if (s->stopping)
		return;
	if (!s->started)
		sched_begin(w, s);
	else if (s->sc->exec == EXEC_RAMPING_VUS)
		ramp_update(w, s);
	else if (exec_is_arrival(s->sc->exec))
		arrivals_run(w, s);
	else
		scn_start_vus(w, s);
}
