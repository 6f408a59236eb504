/* The autoscaling rule of `strain target --autoscale MODULE=MIN..MAX`, as a
 * pure state machine fed one sample of a pool every AS_PERIOD_NS (the
 * database thread's timer), so it can be unit tested on explicit times.
 * docs/target.md ("Autoscaling") is the user's statement of the rule:
 *   - up: when queries waited for a connection in at least AS_UP_HITS of the
 *     last AS_UP_SAMPLES samples (80 % of 2 s), size -> min(MAX,
 *     ceil(size * 1.5)), effective AS_DELAY_NS after the decision;
 *   - down: when fewer than half the connections were busy in each of the
 *     last AS_DOWN_SAMPLES samples (10 s), size -> max(MIN,
 *     floor(size * 0.75)), at once;
 *   - only samples taken since the last change count, and no decision is
 *     taken within AS_COOLDOWN_NS of a change or while a grow is pending. */
#ifndef STRAIN_TARGET_AUTOSCALE_H
#define STRAIN_TARGET_AUTOSCALE_H

#include <stdint.h>

#include "core/clock.h"

#define AS_PERIOD_NS (100 * NS_PER_MS)
#define AS_UP_SAMPLES 20
#define AS_UP_HITS 16
#define AS_DOWN_SAMPLES 100
#define AS_DELAY_NS (2 * NS_PER_SEC)
#define AS_COOLDOWN_NS (5 * NS_PER_SEC)
#define AS_SIZE_MAX 100000

/* A module's range; max == 0: not autoscaled. */
typedef struct as_range {
	uint32_t min, max;
} as_range;

typedef struct as_change {
	uint64_t at_ns;      /* when the new size took effect */
	uint64_t decided_ns; /* when the rule decided it (== at_ns for down) */
	uint32_t from, to;
	uint8_t up;          /* 1: grown, 0: shrunk */
} as_change;

typedef struct as_state {
	uint32_t min, max, size;
	uint32_t queued;    /* bit i: the sample i periods ago had waiters */
	uint32_t samples;   /* samples since the last change (saturates) */
	uint32_t idle_run;  /* consecutive samples with busy < size / 2 */
	uint32_t pending;   /* the size a decided grow will set; 0 = none */
	uint64_t decided_ns;
	uint64_t due_ns;    /* when `pending` takes effect */
	uint64_t quiet_ns;  /* no decision before this (cool-down) */
} as_state;

/* Starts at size min (1 <= min <= max <= AS_SIZE_MAX) at time now. */
void as_init(as_state *a, as_range r, uint64_t now);
/* One sample at `now` of the pool's busy connections and waiting queries.
 * Returns 1 when the size changes now (the change in *out, a->size
 * updated: the caller resizes the pool), else 0. */
int as_sample(as_state *a, uint64_t now, uint32_t busy, uint32_t waiting, as_change *out);

#endif
