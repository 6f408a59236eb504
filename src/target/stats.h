/* Request counters behind GET /__stats: per route, per status. Each worker
 * owns a shard it alone writes (plain load + store, no lock, no shared cache
 * line); a reader sums the shards. Reset is exact without stopping writers:
 * it records the current sums as a baseline that later reads subtract. */
#ifndef STRAIN_TARGET_STATS_H
#define STRAIN_TARGET_STATS_H

#include <stdint.h>

#include "core/buf.h"

/* Status slots: an HTTP status code (100..599) indexes itself; outcomes
 * without a status use the slots after it. */
enum {
	STATS_RESET = 600,  /* connection reset (RST) */
	STATS_CLOSED,       /* closed before a complete response */
	STATS_HANG,         /* never answered */
	STATS_MALFORMED,    /* an invalid status line was sent */
	STATS_SLOTS
};

typedef struct stats_shard {
	uint64_t *counts;      /* [route][slot] */
	uint64_t *idle_closed; /* the cell after counts: connections closed for idleness */
} stats_shard;

typedef struct stats_hub stats_hub;

/* Creates `shards` shards for `routes` routes named by `names` (borrowed,
 * must outlive the hub). Destroy with stats_hub_destroy (accepts NULL). */
stats_hub *stats_hub_create(int shards, int routes, const char *const *names);
void stats_hub_destroy(stats_hub *h);
stats_shard *stats_hub_shard(stats_hub *h, int i);

/* Counts one answer; called only by the shard's owner thread. */
static inline void stats_count(stats_shard *s, int route, int slot)
{
	uint64_t *p = &s->counts[(unsigned)route * STATS_SLOTS + (unsigned)slot];

	__atomic_store_n(p, *p + 1, __ATOMIC_RELEASE);
}

/* Counts a connection the server closed for idleness; owner thread only. */
static inline void stats_count_idle_close(stats_shard *s)
{
	__atomic_store_n(s->idle_closed, *s->idle_closed + 1, __ATOMIC_RELEASE);
}

/* Appends the counts since start (or the last reset) as JSON:
 * {"total":N,"statuses":{"200":N,...},"routes":{"GET /x":{"total":N,"statuses":{...}}},
 *  "idle_closed":N}
 * Returns 0, or -1 if out is full. */
int stats_render(stats_hub *h, buf *out);
/* Zeroes what stats_render reports. */
void stats_reset(stats_hub *h);

#endif
