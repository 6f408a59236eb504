/* Executor arithmetic: the pure functions behind k6's ramping executors.
 * Stages ramp linearly from the previous target (or the start value) to
 * their own target over their duration; a zero-length stage jumps. Times
 * are nanoseconds since the scenario started. Nothing here allocates or
 * reads a clock, so it is unit-tested on its own (tests/unit). */
#ifndef STRAIN_PROGRAM_EXEC_H
#define STRAIN_PROGRAM_EXEC_H

#include <stdint.h>

typedef struct exec_stage {
	uint64_t duration_ns;
	double target;       /* VUs (ramping-vus) or iterations per time unit (ramping-arrival-rate) */
} exec_stage;

/* Sum of the stages' durations. */
uint64_t exec_stages_duration(const exec_stage *st, uint32_t n);

/* ramping-vus: the VUs wanted at time t. Within a ramp the value moves in
 * whole VUs and rounds toward the stage's starting value, as k6 does (a
 * ramp from 0 to 10 over 10 s reaches 1 at 1 s; one from 10 to 0 drops to
 * 9 at 1 s). Past the last stage: the last target. */
uint32_t exec_vus_at(const exec_stage *st, uint32_t n, uint32_t start, uint64_t t);

/* The next time after t at which exec_vus_at can change: the next whole-VU
 * step of the current ramp, or the end of the current stage. UINT64_MAX
 * once the stages are over. */
uint64_t exec_vus_next_change(const exec_stage *st, uint32_t n, uint32_t start, uint64_t t);

/* The largest VU count the stages ever ask for (start included). */
uint32_t exec_vus_max(const exec_stage *st, uint32_t n, uint32_t start);

/* The most iterations per second an arrival-rate module may ask for (after
 * timeUnit and the plan's scale), at any point of its schedule. Past it a
 * plan is refused (and --rate / --stage too): no machine starts ten
 * million iterations a second, and beyond the rates the schedule's
 * arithmetic is built and tested for. Below it a schedule the machine
 * cannot follow drops what it cannot start and still ends on time
 * (docs/executors.md). */
#define EXEC_MAX_RATE_PER_SEC 10000000.0

/* The highest rate the schedule reaches (start_rate or a stage target), in
 * iterations per unit_ns. */
double exec_rate_peak(const exec_stage *st, uint32_t n, double start_rate);

/* Arrival rates. Rates are iterations per unit_ns; the rate ramps linearly
 * from start_rate through the stages' targets. N(t) is the number of
 * arrivals the schedule owes by time t: the integral of the rate. */
double exec_arrivals_by(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns, uint64_t t);

/* How many iterations start in [t0, t1): ceil(N(t1)) - ceil(N(t0)). */
uint64_t exec_arrivals_between(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns,
			       uint64_t t0, uint64_t t1);

/* When iteration k (0-based) starts: the first time N(t) exceeds k. So a
 * constant rate r starts iterations at 0, 1/r, 2/r, ..., evenly spaced, and
 * a ramp from 0 starts its first at once. UINT64_MAX when the stages end
 * before iteration k is due. */
uint64_t exec_arrival_time(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns, uint64_t k);

#endif
