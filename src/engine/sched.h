/* The scheduling of a worker's iteration starts, private to the engine:
 * ramping-vus' ramps (each worker looping its share of the target VUs),
 * arrival rates' schedules (this worker's slot of one evenly spaced
 * schedule; queued or dropped when no VU is free, as k6 does) and each
 * scenario's start (startTime, closed models' spread start). Runs on the
 * worker's thread; never allocates. */
#ifndef STRAIN_ENGINE_SCHED_H
#define STRAIN_ENGINE_SCHED_H

#include <stdint.h>

#include "engine/worker_impl.h"

/* Starts scenario s on w: its ramp, its arrival schedule, or its VUs
 * looping (a scenario without VUs stops at once). */
void sched_begin(worker *w, worker_scn *s);
/* The callback of a scenario's sched timer: startTime reached, the next
 * ramp step, the next arrival, or more starts left from the last pass. */
void sched_on_timer(ev_loop *loop, ev_timer *t);
/* The callback of a scenario's rampdown timer: aborts the iterations of
 * ramped-out VUs whose gracefulRampDown is over. */
void sched_on_rampdown(ev_loop *loop, ev_timer *t);
/* Arrival rates: starts arrival `k` (its index in the whole schedule) on
 * free VU v at once, recording its iteration_start_delay. */
void sched_arrival_run(worker *w, worker_scn *s, vu *v, uint64_t k);
/* Arrival rates: counts arrival `k` as dropped (with its arrival record
 * when the JSON output is on). */
void sched_arrival_drop(worker *w, worker_scn *s, uint64_t k);
/* Arrival rates: arrival k's scheduled instant, ns from the phase's start
 * (t0; startTime included), UINT64_MAX past the schedule's end. */
uint64_t sched_arrival_ns(const worker_scn *s, uint64_t k);
/* Arrival rates: counts as dropped, in one step, every iteration of this
 * worker's share due by `until` that has not started. */
void sched_arrivals_drop_due(worker *w, worker_scn *s, uint64_t until);
/* Arrival rates: a VU is free again; a schedule blocked for want of one
 * drops what fell due meanwhile and goes on from now. */
void sched_arrivals_unblock(worker *w, worker_scn *s);

#endif
