#include "program/exec.h"

#include <math.h>

/* Sums of durations saturate instead of wrapping: a plan cannot overflow
 * the schedule into the past. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t exec_stages_duration(const exec_stage *st, uint32_t n)
{
	uint64_t d = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		d = add_sat(d, st[i].duration_ns);
	return d;
}

static uint32_t vus_target(const exec_stage *s)
{
	return s->target <= 0 ? 0 : s->target >= 4294967295.0 ? UINT32_MAX : (uint32_t)s->target;
}

/* Whole VUs moved after tau of a ramp of `diff` VUs over d ns, rounded
 * toward the start (integer arithmetic, so no step is ever missed). */
static uint64_t ramp_steps(uint32_t diff, uint64_t tau, uint64_t d)
{
	return (uint64_t)(((unsigned __int128)diff * tau) / d);
}

uint32_t exec_vus_at(const exec_stage *st, uint32_t n, uint32_t start, uint64_t t)
{
	uint64_t cum = 0;
	uint32_t a = start, i;

	for (i = 0; i < n; i++) {
		uint32_t b = vus_target(&st[i]);
		uint64_t d = st[i].duration_ns;

		if (d && t < cum + d) {
			uint64_t tau = t - cum;

			if (b >= a)
				return a + (uint32_t)ramp_steps(b - a, tau, d);
			return a - (uint32_t)ramp_steps(a - b, tau, d);
		}
		a = b;
		cum = add_sat(cum, d);
	}
	return a;
}

uint64_t exec_vus_next_change(const exec_stage *st, uint32_t n, uint32_t start, uint64_t t)
{
	uint64_t cum = 0;
	uint32_t a = start, i;

	for (i = 0; i < n; i++) {
		uint32_t b = vus_target(&st[i]);
		uint64_t d = st[i].duration_ns;

		if (d && t < cum + d) {
			uint32_t diff = b >= a ? b - a : a - b;
			uint64_t j = diff ? ramp_steps(diff, t - cum, d) : 0;

			if (diff && j + 1 <= diff) {
				/* Step j+1 is reached at ceil((j+1) * d / diff). */
				unsigned __int128 num = (unsigned __int128)(j + 1) * d;
				uint64_t tau = (uint64_t)((num + diff - 1) / diff);

				if (tau < d)
					return cum + tau;
			}
			return cum + d;
		}
		a = b;
		cum = add_sat(cum, d);
	}
	return UINT64_MAX;
}

uint32_t exec_vus_max(const exec_stage *st, uint32_t n, uint32_t start)
{
	uint32_t m = start, i;

	for (i = 0; i < n; i++)
		if (vus_target(&st[i]) > m)
			m = vus_target(&st[i]);
	return m;
}

static double rate_of(double r)
{
	return r > 0 ? r : 0;
}

double exec_rate_peak(const exec_stage *st, uint32_t n, double start_rate)
{
	double m = rate_of(start_rate);
	uint32_t i;

	for (i = 0; i < n; i++)
		if (rate_of(st[i].target) > m)
			m = rate_of(st[i].target);
	return m;
}

double exec_arrivals_by(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns, uint64_t t)
{
	double a = rate_of(start_rate), total = 0, unit = (double)unit_ns;
	uint64_t cum = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		double b = rate_of(st[i].target), du = (double)st[i].duration_ns / unit;
		uint64_t d = st[i].duration_ns;

		if (d && t < cum + d) {
			double tau = (double)(t - cum) / unit;

			return total + a * tau + (b - a) * tau * tau / (2 * du);
		}
		if (d)
			total += (a + b) / 2 * du;
		a = b;
		cum = add_sat(cum, d);
	}
	return total;
}

/* Rounding noise in the integral (1000 computed as 1000.0000000001) must
 * not conjure an extra iteration. */
static uint64_t owed(double x)
{
	return x <= 1e-9 ? 0 : (uint64_t)ceil(x - 1e-9);
}

uint64_t exec_arrivals_between(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns,
			       uint64_t t0, uint64_t t1)
{
	uint64_t a, b;

	if (t1 <= t0)
		return 0;
	a = owed(exec_arrivals_by(st, n, start_rate, unit_ns, t0));
	b = owed(exec_arrivals_by(st, n, start_rate, unit_ns, t1));
	return b > a ? b - a : 0;
}

uint64_t exec_arrival_time(const exec_stage *st, uint32_t n, double start_rate, uint64_t unit_ns, uint64_t k)
{
	double a = rate_of(start_rate), total = 0, unit = (double)unit_ns, want = (double)k;
	uint64_t cum = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		double b = rate_of(st[i].target), du = (double)st[i].duration_ns / unit, area;
		uint64_t d = st[i].duration_ns, off;

		if (!d) {
			a = b;
			continue;
		}
		area = (a + b) / 2 * du;
		if (total + area > want + 1e-9) {
			/* Solve a*tau + (b-a)/(2 du) * tau^2 = c for the smallest
			 * tau >= 0, in the form that stays exact as b-a -> 0 and
			 * for ramps down. */
			double c = want - total, alpha = (b - a) / (2 * du), tau = 0;

			if (c > 0) {
				double disc = a * a + 4 * alpha * c, den;

				den = a + sqrt(disc > 0 ? disc : 0);
				tau = den > 0 ? 2 * c / den : du;
			}
			tau *= unit;
			off = tau < (double)d ? (uint64_t)llround(tau) : d;
			if (off >= d)
				off = d - 1;
			return cum + off;
		}
		total += area;
		a = b;
		cum = add_sat(cum, d);
	}
	return UINT64_MAX;
}
