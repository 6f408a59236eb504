#include "metrics/collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/alloc.h"
#include "core/clock.h"

#define MAX_OUTPUTS 16

struct met_collector {
	met_registry *reg;
	met_source src;
	uint64_t interval_ns;
	uint64_t start_wall_ns;
	uint64_t t0;
	uint64_t last_tick;
	met_shard interval;
	met_shard total;
	met_output outputs[MAX_OUTPUTS];
	uint32_t noutputs;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_mutex_t src_lock; /* held while the source or the interval is used */
	pthread_cond_t cond;
	int stop;
	int running;
};

met_collector *met_collector_create(met_registry *reg, const met_source *src, uint64_t interval_ns, uint64_t t0)
{
	met_collector *c = xcalloc(1, sizeof(*c));
	pthread_condattr_t ca;

	c->reg = reg;
	c->src = *src;
	c->interval_ns = interval_ns;
	c->t0 = c->last_tick = t0;
	met_shard_init(&c->interval);
	met_shard_init(&c->total);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->src_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	return c;
}

void met_collector_destroy(met_collector *c)
{
	if (!c)
		return;
	met_shard_free(&c->interval);
	met_shard_free(&c->total);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->src_lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

void met_collector_set_start_wall(met_collector *c, uint64_t wall_ns)
{
	c->start_wall_ns = wall_ns;
}

void met_collector_keep_samples(met_collector *c)
{
	c->interval.keep_samples = 1;
}

void met_collector_add_output(met_collector *c, const met_output *o)
{
	if (c->noutputs < MAX_OUTPUTS)
		c->outputs[c->noutputs++] = *o;
}

static void emit(met_collector *c, uint64_t now, int final)
{
	met_snapshot snap;
	uint32_t i;

	met_shard_stamp(&c->interval, clock_wall_ns(), 0, 0);
	if (c->src.gauges)
		c->src.gauges(c->src.ctx, &c->interval);
	met_shard_merge(&c->total, c->reg, &c->interval);
	snap.reg = c->reg;
	snap.wall_ns = clock_wall_ns();
	snap.elapsed_ns = now - c->t0;
	snap.interval_ns = now - c->last_tick;
	snap.start_wall_ns = c->start_wall_ns;
	snap.interval = &c->interval;
	snap.total = &c->total;
	snap.final = final;
	for (i = 0; i < c->noutputs; i++)
		c->outputs[i].snapshot(c->outputs[i].self, &snap);
	met_shard_clear(&c->interval);
	c->last_tick = now;
}

static void tick(met_collector *c, uint64_t now)
{
	uint32_t i;

	pthread_mutex_lock(&c->src_lock);
	for (i = 0; i < c->src.n; i++) {
		met_shard *s = c->src.swap(c->src.ctx, i);

		met_shard_merge(&c->interval, c->reg, s);
		met_shard_clear(s);
	}
	emit(c, now, 0);
	pthread_mutex_unlock(&c->src_lock);
}

void met_collector_set_source(met_collector *c, const met_source *src)
{
	pthread_mutex_lock(&c->src_lock);
	c->src = *src;
	pthread_mutex_unlock(&c->src_lock);
}

void met_collector_sample_gauges(met_collector *c)
{
	pthread_mutex_lock(&c->src_lock);
	if (c->src.gauges) {
		met_shard_stamp(&c->interval, clock_wall_ns(), 0, 0);
		c->src.gauges(c->src.ctx, &c->interval);
	}
	pthread_mutex_unlock(&c->src_lock);
}

void met_collector_absorb(met_collector *c, met_shard *const *shards, uint32_t n)
{
	uint32_t i;

	pthread_mutex_lock(&c->src_lock);
	for (i = 0; i < n; i++) {
		met_shard_merge(&c->interval, c->reg, shards[i]);
		met_shard_clear(shards[i]);
	}
	pthread_mutex_unlock(&c->src_lock);
}

static void *collector_main(void *arg)
{
	met_collector *c = arg;
	uint64_t next = c->t0 + c->interval_ns;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		struct timespec ts = {.tv_sec = (time_t)(next / NS_PER_SEC), .tv_nsec = (long)(next % NS_PER_SEC)};
		int rc = pthread_cond_timedwait(&c->cond, &c->lock, &ts);

		if (c->stop)
			break;
		if (rc == ETIMEDOUT || clock_mono_ns() >= next) {
			uint64_t now;

			pthread_mutex_unlock(&c->lock);
			now = clock_mono_ns();
			tick(c, now);
			/* Ticks stay on the t0 grid; a late tick skips, never bunches. */
			while (next <= now)
				next += c->interval_ns;
			pthread_mutex_lock(&c->lock);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int met_collector_start(met_collector *c)
{
	if (pthread_create(&c->thread, NULL, collector_main, c))
		return -1;
	c->running = 1;
	return 0;
}

void met_collector_stop(met_collector *c)
{
	if (!c->running)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	c->running = 0;
}

void met_collector_finish(met_collector *c, met_shard *const *rest, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		met_shard_merge(&c->interval, c->reg, rest[i]);
		met_shard_clear(rest[i]);
	}
	emit(c, clock_mono_ns(), 1);
}

const met_shard *met_collector_total(const met_collector *c)
{
	return &c->total;
}
