#include "target/stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"

struct stats_hub {
	pthread_mutex_t mu; /* serialises readers and resets, never writers */
	int nshards;
	int routes;
	const char *const *names;
	stats_shard *shards;
	size_t ncells;  /* routes x slots, then idle_closed */
	uint64_t *base; /* sums at the last reset */
	uint64_t *sum;  /* scratch for one read */
};

stats_hub *stats_hub_create(int shards, int routes, const char *const *names)
{
	stats_hub *h = xcalloc(1, sizeof(*h));
	size_t n = (size_t)routes * STATS_SLOTS + 1;
	int i;

	pthread_mutex_init(&h->mu, NULL);
	h->ncells = n;
	h->nshards = shards;
	h->routes = routes;
	h->names = names;
	h->shards = xcalloc((size_t)shards, sizeof(*h->shards));
	/* One allocation per shard, so its idle counter shares no cache line
	 * with another worker's. */
	for (i = 0; i < shards; i++) {
		h->shards[i].counts = xcalloc(n, sizeof(uint64_t));
		h->shards[i].idle_closed = &h->shards[i].counts[n - 1];
	}
	h->base = xcalloc(n, sizeof(uint64_t));
	h->sum = xcalloc(n, sizeof(uint64_t));
	return h;
}

void stats_hub_destroy(stats_hub *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < h->nshards; i++)
		free(h->shards[i].counts);
	free(h->shards);
	free(h->base);
	free(h->sum);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

stats_shard *stats_hub_shard(stats_hub *h, int i)
{
	return &h->shards[i];
}

static void sum_shards(stats_hub *h)
{
	size_t n = h->ncells, j;
	int i;

	for (j = 0; j < n; j++)
		h->sum[j] = 0;
	for (i = 0; i < h->nshards; i++) {
		const uint64_t *c = h->shards[i].counts;

		for (j = 0; j < n; j++)
			h->sum[j] += __atomic_load_n(&c[j], __ATOMIC_ACQUIRE);
	}
}

static void slot_name(int slot, char *out, size_t outsz)
{
	static const char *const special[] = {"reset", "closed", "hang", "malformed"};

	if (slot >= STATS_RESET)
		snprintf(out, outsz, "%s", special[slot - STATS_RESET]);
	else
		snprintf(out, outsz, "%d", slot);
}

/* Appends {"total":N,"statuses":{...}} for the counts in v[STATS_SLOTS]. */
static int render_counts(buf *out, const uint64_t *v)
{
	uint64_t total = 0;
	int s, first = 1, rc = 0;
	char name[16];

	for (s = 0; s < STATS_SLOTS; s++)
		total += v[s];
	rc |= buf_printf(out, "{\"total\":%llu,\"statuses\":{", (unsigned long long)total);
	for (s = 0; s < STATS_SLOTS; s++) {
		if (!v[s])
			continue;
		slot_name(s, name, sizeof(name));
		rc |= buf_printf(out, "%s\"%s\":%llu", first ? "" : ",", name, (unsigned long long)v[s]);
		first = 0;
	}
	rc |= buf_appends(out, "}}");
	return rc ? -1 : 0;
}

int stats_render(stats_hub *h, buf *out)
{
	uint64_t all[STATS_SLOTS] = {0};
	size_t n = h->ncells, j;
	int r, s, first = 1, rc = 0;

	pthread_mutex_lock(&h->mu);
	sum_shards(h);
	for (j = 0; j < n; j++)
		h->sum[j] -= h->base[j];
	for (r = 0; r < h->routes; r++)
		for (s = 0; s < STATS_SLOTS; s++)
			all[s] += h->sum[(size_t)r * STATS_SLOTS + (size_t)s];
	/* Reuse the route-level renderer for the totals, then splice "routes"
	 * in before its closing brace. */
	rc |= render_counts(out, all);
	if (!rc)
		out->len--;
	rc |= buf_appends(out, ",\"routes\":{");
	for (r = 0; r < h->routes; r++) {
		const uint64_t *v = &h->sum[(size_t)r * STATS_SLOTS];
		uint64_t t = 0;

		for (s = 0; s < STATS_SLOTS; s++)
			t += v[s];
		if (!t)
			continue;
		rc |= buf_printf(out, "%s\"%s\":", first ? "" : ",", h->names[r]);
		rc |= render_counts(out, v);
		first = 0;
	}
	rc |= buf_printf(out, "},\"idle_closed\":%llu}", (unsigned long long)h->sum[n - 1]);
	pthread_mutex_unlock(&h->mu);
	return rc ? -1 : 0;
}

void stats_reset(stats_hub *h)
{
	size_t n = h->ncells, j;

	pthread_mutex_lock(&h->mu);
	sum_shards(h);
	for (j = 0; j < n; j++)
		h->base[j] = h->sum[j];
	pthread_mutex_unlock(&h->mu);
}
