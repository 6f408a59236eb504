#include "metrics/registry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/redact.h"

static const met_def builtins[MET_BUILTIN_COUNT] = {
	[MET_HTTP_REQS] = {"http_reqs", MET_COUNTER, MET_DEFAULT},
	[MET_HTTP_REQ_DURATION] = {"http_req_duration", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_BLOCKED] = {"http_req_blocked", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_CONNECTING] = {"http_req_connecting", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_TLS_HANDSHAKING] = {"http_req_tls_handshaking", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_SENDING] = {"http_req_sending", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_WAITING] = {"http_req_waiting", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_RECEIVING] = {"http_req_receiving", MET_TREND, MET_TIME},
	[MET_HTTP_REQ_FAILED] = {"http_req_failed", MET_RATE, MET_DEFAULT},
	[MET_ITERATIONS] = {"iterations", MET_COUNTER, MET_DEFAULT},
	[MET_ITERATION_DURATION] = {"iteration_duration", MET_TREND, MET_TIME},
	[MET_VUS] = {"vus", MET_GAUGE, MET_DEFAULT},
	[MET_VUS_MAX] = {"vus_max", MET_GAUGE, MET_DEFAULT},
	[MET_DATA_SENT] = {"data_sent", MET_COUNTER, MET_DATA},
	[MET_DATA_RECEIVED] = {"data_received", MET_COUNTER, MET_DATA},
	[MET_CHECKS] = {"checks", MET_RATE, MET_DEFAULT},
	[MET_GROUP_DURATION] = {"group_duration", MET_TREND, MET_TIME},
	[MET_DROPPED_ITERATIONS] = {"dropped_iterations", MET_COUNTER, MET_DEFAULT},
	[MET_ITERATION_START_DELAY] = {"iteration_start_delay", MET_TREND, MET_TIME},
};

/* Open-addressing hash tables; sized so they never need to grow. */
#define TAGSET_SLOTS (MET_MAX_TAGSETS * 2)
#define SERIES_SLOTS (MET_MAX_SERIES * 2)

struct met_registry {
	pthread_mutex_t lock;
	met_def metrics[MET_MAX_METRICS];
	uint32_t nmetrics;
	met_tagset **tagsets;   /* by id */
	char **tagset_keys;     /* canonical string, by id */
	uint32_t ntagsets;
	uint32_t *tagset_slots; /* id + 1, 0 = empty */
	uint32_t *series_metric;
	uint32_t *series_tagset;
	_Atomic uint32_t nseries;
	uint32_t *series_slots; /* id + 1 */
	_Atomic uint64_t overflowed;
	met_tag run_tags[MET_MAX_RUN_TAGS]; /* owned copies */
	uint32_t nrun_tags;
	const redact *secrets; /* borrowed; NULL: the name rules alone */
};

static uint64_t hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *c = p;

	/* FNV-1a: interning is rare, so simplicity wins. */
	while (n--)
		h = (h ^ *c++) * UINT64_C(0x100000001b3);
	return h;
}

static int tag_cmp(const void *a, const void *b)
{
	return strcmp(((const met_tag *)a)->key, ((const met_tag *)b)->key);
}

met_registry *met_registry_create(void)
{
	met_registry *r = xcalloc(1, sizeof(*r));
	met_tagset *empty;

	pthread_mutex_init(&r->lock, NULL);
	memcpy(r->metrics, builtins, sizeof(builtins));
	r->nmetrics = MET_BUILTIN_COUNT;
	r->tagsets = xcalloc(MET_MAX_TAGSETS, sizeof(*r->tagsets));
	r->tagset_keys = xcalloc(MET_MAX_TAGSETS, sizeof(*r->tagset_keys));
	r->tagset_slots = xcalloc(TAGSET_SLOTS, sizeof(uint32_t));
	r->series_metric = xcalloc(MET_MAX_SERIES, sizeof(uint32_t));
	r->series_tagset = xcalloc(MET_MAX_SERIES, sizeof(uint32_t));
	r->series_slots = xcalloc(SERIES_SLOTS, sizeof(uint32_t));
	empty = xcalloc(1, sizeof(*empty));
	r->tagsets[0] = empty;
	r->tagset_keys[0] = xstrdup("");
	r->ntagsets = 1;
	r->tagset_slots[hash_bytes("", 0, UINT64_C(0xcbf29ce484222325)) % TAGSET_SLOTS] = 1;
	return r;
}

void met_registry_destroy(met_registry *r)
{
	uint32_t i;

	if (!r)
		return;
	for (i = 0; i < r->ntagsets; i++) {
		free(r->tagsets[i]);
		free(r->tagset_keys[i]);
	}
	for (i = MET_BUILTIN_COUNT; i < r->nmetrics; i++)
		free((char *)r->metrics[i].name);
	free(r->tagsets);
	free(r->tagset_keys);
	free(r->tagset_slots);
	free(r->series_metric);
	free(r->series_tagset);
	free(r->series_slots);
	for (i = 0; i < r->nrun_tags; i++) {
		free((char *)r->run_tags[i].key);
		free((char *)r->run_tags[i].value);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int met_metric_find(const met_registry *r, const char *name)
{
	uint32_t i;

	for (i = 0; i < r->nmetrics; i++)
		if (strcmp(r->metrics[i].name, name) == 0)
			return (int)i;
	return -1;
}

int met_metric_add(met_registry *r, const char *name, met_type type, met_contains contains)
{
	int id;

	pthread_mutex_lock(&r->lock);
	id = met_metric_find(r, name);
	if (id >= 0) {
		if (r->metrics[id].type != type)
			id = -1;
	} else if (r->nmetrics < MET_MAX_METRICS) {
		id = (int)r->nmetrics++;
		r->metrics[id].name = xstrdup(name);
		r->metrics[id].type = type;
		r->metrics[id].contains = contains;
	}
	pthread_mutex_unlock(&r->lock);
	return id;
}

const met_def *met_metric(const met_registry *r, uint32_t metric)
{
	return &r->metrics[metric];
}

uint32_t met_metric_count(const met_registry *r)
{
	return r->nmetrics;
}

/* Does tags[0..n) have a non-empty tag named key? */
static int has_key(const met_tag *tags, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(tags[i].key, key) == 0)
			return 1;
	return 0;
}

void met_registry_set_redact(met_registry *r, const redact *secrets)
{
	r->secrets = secrets;
}

/* value as it may be kept: a value holding a URL (url, name, which
 * defaults to it, a check's name, which starts with it) loses credentials
 * in its query and user info, every value its secrets. Returns value
 * itself, or a copy for the caller to free. */
static const char *hide(const met_registry *r, const char *value)
{
	int url = strpbrk(value, "?@") != NULL;
	char *copy;

	if (!url && !redact_nvalues(r->secrets))
		return value;
	copy = redact_strdup(r->secrets, value, url);
	if (!strcmp(copy, value)) {
		free(copy);
		return value;
	}
	return copy;
}

uint32_t met_tagset_intern(met_registry *r, const met_tag *tags, size_t n)
{
	met_tag sorted[MET_MAX_TAGS + MET_MAX_RUN_TAGS];
	char key[8192], *hidden[MET_MAX_TAGS];
	size_t i, m = 0, own, klen = 0, strbytes = 0, nhidden = 0;
	uint64_t h;
	uint32_t slot, id;
	met_tagset *ts;
	char *s;

	/* Redacted here, once per tag set: samples carry the id only, so no
	 * request pays for it and no output sees the secret. */
	for (i = 0; i < n && m < MET_MAX_TAGS; i++)
		if (tags[i].value && tags[i].value[0]) {
			sorted[m] = tags[i];
			sorted[m].value = hide(r, tags[i].value);
			if (sorted[m].value != tags[i].value)
				hidden[nhidden++] = (char *)sorted[m].value;
			m++;
		}
	/* The run's tags never change once set (before any interning), so
	 * they are read without the lock. */
	own = m;
	for (i = 0; i < r->nrun_tags; i++)
		if (!has_key(sorted, own, r->run_tags[i].key))
			sorted[m++] = r->run_tags[i];
	qsort(sorted, m, sizeof(sorted[0]), tag_cmp);
	/* Canonical form "k\x1fv\x1e..." identifies the set. */
	for (i = 0; i < m; i++) {
		size_t kl = strlen(sorted[i].key), vl = strlen(sorted[i].value);

		if (klen + kl + vl + 2 >= sizeof(key))
			break;
		memcpy(key + klen, sorted[i].key, kl);
		klen += kl;
		key[klen++] = '\x1f';
		memcpy(key + klen, sorted[i].value, vl);
		klen += vl;
		key[klen++] = '\x1e';
		strbytes += kl + vl + 2;
	}
	m = i;
	key[klen] = '\0';
	h = hash_bytes(key, klen, UINT64_C(0xcbf29ce484222325));

	pthread_mutex_lock(&r->lock);
	for (slot = (uint32_t)(h % TAGSET_SLOTS);; slot = (slot + 1) % TAGSET_SLOTS) {
		uint32_t e = r->tagset_slots[slot];

		if (!e)
			break;
		if (strcmp(r->tagset_keys[e - 1], key) == 0) {
			id = e - 1;
			goto out;
		}
	}
	if (r->ntagsets >= MET_MAX_TAGSETS) {
		id = 0;
		atomic_fetch_add(&r->overflowed, 1);
		goto out;
	}
	id = r->ntagsets;
	ts = xmalloc(sizeof(*ts) + m * sizeof(met_tag) + strbytes);
	ts->id = id;
	ts->n = (uint32_t)m;
	s = (char *)&ts->tags[m];
	for (i = 0; i < m; i++) {
		size_t kl = strlen(sorted[i].key) + 1, vl = strlen(sorted[i].value) + 1;

		memcpy(s, sorted[i].key, kl);
		ts->tags[i].key = s;
		s += kl;
		memcpy(s, sorted[i].value, vl);
		ts->tags[i].value = s;
		s += vl;
	}
	r->tagsets[id] = ts;
	r->tagset_keys[id] = xstrndup(key, klen);
	r->tagset_slots[slot] = id + 1;
	r->ntagsets++;
out:
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < nhidden; i++)
		free(hidden[i]);
	return id;
}

void met_registry_set_run_tags(met_registry *r, const met_tag *tags, size_t n)
{
	size_t i;

	for (i = 0; i < n && r->nrun_tags < MET_MAX_RUN_TAGS; i++) {
		if (!tags[i].value || !tags[i].value[0] || has_key(r->run_tags, r->nrun_tags, tags[i].key))
			continue;
		r->run_tags[r->nrun_tags].key = xstrdup(tags[i].key);
		r->run_tags[r->nrun_tags].value = redact_strdup(r->secrets, tags[i].value, 0);
		r->nrun_tags++;
	}
	/* Tag set 0 (the untagged series: run-wide gauges, the overflow) is
	 * the run's tags alone, so those points carry the testid as well. */
	if (r->nrun_tags && r->ntagsets == 1) {
		r->tagset_slots[hash_bytes("", 0, UINT64_C(0xcbf29ce484222325)) % TAGSET_SLOTS] = 0;
		free(r->tagsets[0]);
		free(r->tagset_keys[0]);
		r->ntagsets = 0;
		met_tagset_intern(r, NULL, 0);
	}
}

const met_tagset *met_tagset_get(const met_registry *r, uint32_t id)
{
	return r->tagsets[id];
}

const char *met_tagset_value(const met_tagset *ts, const char *key)
{
	uint32_t i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->tags[i].key, key) == 0)
			return ts->tags[i].value;
	return NULL;
}

uint32_t met_series_intern(met_registry *r, uint32_t metric, uint32_t tagset)
{
	uint64_t h = ((uint64_t)metric * UINT64_C(0x9e3779b97f4a7c15)) ^ (tagset * UINT64_C(0xff51afd7ed558ccd));
	uint32_t slot, id, n;

	pthread_mutex_lock(&r->lock);
	n = atomic_load_explicit(&r->nseries, memory_order_relaxed);
	for (slot = (uint32_t)((h >> 17) % SERIES_SLOTS);; slot = (slot + 1) % SERIES_SLOTS) {
		uint32_t e = r->series_slots[slot];

		if (!e)
			break;
		if (r->series_metric[e - 1] == metric && r->series_tagset[e - 1] == tagset) {
			id = e - 1;
			goto out;
		}
	}
	if (n >= MET_MAX_SERIES - MET_MAX_METRICS && tagset != 0) {
		/* Near the cap: fold into the metric's untagged series. */
		atomic_fetch_add(&r->overflowed, 1);
		pthread_mutex_unlock(&r->lock);
		return met_series_intern(r, metric, 0);
	}
	id = n;
	r->series_metric[id] = metric;
	r->series_tagset[id] = tagset;
	r->series_slots[slot] = id + 1;
	atomic_store_explicit(&r->nseries, n + 1, memory_order_release);
out:
	pthread_mutex_unlock(&r->lock);
	return id;
}

uint32_t met_series_count(const met_registry *r)
{
	return atomic_load_explicit(&((met_registry *)r)->nseries, memory_order_acquire);
}

uint32_t met_series_metric(const met_registry *r, uint32_t series)
{
	return r->series_metric[series];
}

uint32_t met_series_tagset(const met_registry *r, uint32_t series)
{
	return r->series_tagset[series];
}

uint64_t met_series_overflowed(const met_registry *r)
{
	return atomic_load(&((met_registry *)r)->overflowed);
}
