#include "target/autoscale.h"

void as_init(as_state *a, as_range r, uint64_t now)
{
	a->min = r.min;
	a->max = r.max;
	a->size = r.min;
	a->queued = 0;
	a->samples = 0;
	a->idle_run = 0;
	a->pending = 0;
	a->decided_ns = a->due_ns = 0;
	a->quiet_ns = now;
}

static int popcount(uint32_t x)
{
	return __builtin_popcount(x);
}

/* Applies a change at `now` and starts over: samples taken at the old size
 * say nothing about the new one. */
static int change(as_state *a, uint64_t now, uint32_t to, uint64_t decided, as_change *out)
{
	out->at_ns = now;
	out->decided_ns = decided;
	out->from = a->size;
	out->to = to;
	out->up = to > a->size;
	a->size = to;
	a->queued = 0;
	a->samples = 0;
	a->idle_run = 0;
	a->pending = 0;
	a->quiet_ns = now + AS_COOLDOWN_NS;
	return 1;
}

int as_sample(as_state *a, uint64_t now, uint32_t busy, uint32_t waiting, as_change *out)
{
	if (a->pending) {
		/* The new connections are still being provisioned: samples of
		 * the old size would only repeat the decision. */
		if (now >= a->due_ns)
			return change(a, now, a->pending, a->decided_ns, out);
		return 0;
	}
	a->queued = ((a->queued << 1) | (waiting > 0)) & ((1u << AS_UP_SAMPLES) - 1);
	if (a->samples < AS_DOWN_SAMPLES)
		a->samples++;
	if ((uint64_t)busy * 2 < a->size)
		a->idle_run++;
	else
		a->idle_run = 0;
	if (now < a->quiet_ns)
		return 0;
	if (a->size < a->max && a->samples >= AS_UP_SAMPLES && popcount(a->queued) >= AS_UP_HITS) {
		uint64_t to = ((uint64_t)a->size * 3 + 1) / 2; /* ceil(size * 1.5) */

		a->pending = to > a->max ? a->max : (uint32_t)to;
		a->decided_ns = now;
		a->due_ns = now + AS_DELAY_NS;
		return 0;
	}
	if (a->size > a->min && a->idle_run >= AS_DOWN_SAMPLES) {
		uint32_t to = (uint32_t)((uint64_t)a->size * 3 / 4); /* floor(size * 0.75) */

		return change(a, now, to < a->min ? a->min : to, now, out);
	}
	return 0;
}
