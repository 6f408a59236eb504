#include "report/timeline.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "metrics/hist_codec.h"
#include "report/failure.h"

/* Groups beyond this (module x strategy pairs) share the last one. */
#define TL_MAX_GROUPS 256
/* Distinct failure keys kept per run; beyond, they count as failures only. */
#define TL_MAX_CODES 64

typedef struct tl_err {
	uint16_t code;     /* index into the timeline's codes */
	uint64_t n;
} tl_err;

/* One group's figures in one slot. */
typedef struct tl_slot {
	uint64_t idx;      /* slot number at the current width */
	uint64_t requests, failures, iterations, dropped;
	double vus;
	uint64_t start_delay_max; /* iteration_start_delay's highest, ns: the generator's lateness */
	char *hist;        /* encoded; NULL while open or without requests */
	tl_err *errs;
	uint32_t nerrs;
} tl_slot;

typedef struct tl_group {
	char *module, *strategy;
	tl_slot *slots;    /* in slot order; the last may be open */
	uint32_t nslots, cap;
	met_hist *open;    /* the last slot's latency, while it is open */
	int has_open;      /* the last slot is still being filled */
} tl_group;

struct timeline {
	pthread_mutex_t mu;
	uint64_t width_ns;
	tl_group *groups;
	uint32_t ngroups;
	int32_t *by_tagset; /* tagset id -> group, -1 unknown, -2 none */
	uint32_t nby;
	int codes[TL_MAX_CODES];
	uint32_t ncodes;
	met_hist *scratch, *scratch2;
	unsigned long version;
};

timeline *timeline_create(void)
{
	timeline *t = xcalloc(1, sizeof(*t));

	pthread_mutex_init(&t->mu, NULL);
	t->width_ns = NS_PER_SEC;
	t->scratch = met_hist_create();
	t->scratch2 = met_hist_create();
	return t;
}

static void slot_free(tl_slot *s)
{
	free(s->hist);
	free(s->errs);
}

void timeline_destroy(timeline *t)
{
	uint32_t g, k;

	if (!t)
		return;
	for (g = 0; g < t->ngroups; g++) {
		for (k = 0; k < t->groups[g].nslots; k++)
			slot_free(&t->groups[g].slots[k]);
		free(t->groups[g].slots);
		free(t->groups[g].module);
		free(t->groups[g].strategy);
		met_hist_destroy(t->groups[g].open);
	}
	free(t->groups);
	free(t->by_tagset);
	met_hist_destroy(t->scratch);
	met_hist_destroy(t->scratch2);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* The group of a tag set: its module and strategy tags, "" where absent
 * (quick mode, the run-wide gauges). */
static int32_t group_of(timeline *t, const met_registry *reg, uint32_t tagset)
{
	const met_tagset *ts;
	const char *mod, *st;
	uint32_t g;

	if (tagset >= t->nby) {
		uint32_t n = t->nby ? t->nby : 64;

		while (n <= tagset)
			n *= 2;
		t->by_tagset = xrealloc(t->by_tagset, n * sizeof(*t->by_tagset));
		for (g = t->nby; g < n; g++)
			t->by_tagset[g] = -1;
		t->nby = n;
	}
	if (t->by_tagset[tagset] != -1)
		return t->by_tagset[tagset];
	ts = met_tagset_get(reg, tagset);
	mod = met_tagset_value(ts, "module");
	st = met_tagset_value(ts, "strategy");
	if (!mod)
		mod = "";
	if (!st)
		st = "";
	for (g = 0; g < t->ngroups; g++)
		if (!strcmp(t->groups[g].module, mod) && !strcmp(t->groups[g].strategy, st))
			break;
	if (g == t->ngroups) {
		if (t->ngroups == TL_MAX_GROUPS) {
			g = TL_MAX_GROUPS - 1;
		} else {
			t->groups = xrealloc(t->groups, (t->ngroups + 1) * sizeof(*t->groups));
			memset(&t->groups[g], 0, sizeof(t->groups[g]));
			t->groups[g].module = xstrdup(mod);
			t->groups[g].strategy = xstrdup(st);
			t->groups[g].open = met_hist_create();
			t->ngroups++;
		}
	}
	t->by_tagset[tagset] = (int32_t)g;
	return (int32_t)g;
}

static void close_open(tl_group *g)
{
	tl_slot *s;

	if (!g->has_open)
		return;
	s = &g->slots[g->nslots - 1];
	s->hist = g->open->count ? met_hist_encode(g->open) : NULL;
	met_hist_reset(g->open);
	g->has_open = 0;
}

static void slots_grow(tl_group *g)
{
	if (g->nslots == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->slots = xrealloc(g->slots, g->cap * sizeof(*g->slots));
	}
}

/* The group's slot number idx, opened if it is past the last one. A slot
 * before the last (a late snapshot: strain collect's instance that pushed
 * slowly) is found, or put in its place, closed. */
static tl_slot *slot_at(tl_group *g, uint64_t idx)
{
	tl_slot *s;
	uint32_t pos;

	if (g->nslots && g->slots[g->nslots - 1].idx == idx)
		return &g->slots[g->nslots - 1];
	if (g->nslots && g->slots[g->nslots - 1].idx > idx) {
		pos = g->nslots - 1;
		while (pos > 0 && g->slots[pos - 1].idx >= idx)
			pos--;
		if (g->slots[pos].idx == idx)
			return &g->slots[pos];
		slots_grow(g);
		memmove(&g->slots[pos + 1], &g->slots[pos], (g->nslots - pos) * sizeof(*g->slots));
		g->nslots++;
		s = &g->slots[pos];
		memset(s, 0, sizeof(*s));
		s->idx = idx;
		return s;
	}
	close_open(g);
	slots_grow(g);
	s = &g->slots[g->nslots++];
	memset(s, 0, sizeof(*s));
	s->idx = idx;
	g->has_open = 1;
	return s;
}

/* Adds h to a closed slot's latency (decoded, merged, encoded again). */
static void closed_hist_add(timeline *t, tl_slot *s, const met_hist *h)
{
	char err[128];

	met_hist_reset(t->scratch2);
	if (s->hist && met_hist_decode(t->scratch2, s->hist, strlen(s->hist), err, sizeof(err)) < 0)
		met_hist_reset(t->scratch2);
	met_hist_merge(t->scratch2, h);
	free(s->hist);
	s->hist = met_hist_encode(t->scratch2);
}

static void add_err(tl_slot *s, uint16_t code, uint64_t n)
{
	uint32_t i;

	for (i = 0; i < s->nerrs; i++)
		if (s->errs[i].code == code) {
			s->errs[i].n += n;
			return;
		}
	s->errs = xrealloc(s->errs, (s->nerrs + 1) * sizeof(*s->errs));
	s->errs[s->nerrs].code = code;
	s->errs[s->nerrs++].n = n;
}

static int code_index(timeline *t, int code)
{
	uint32_t i;

	for (i = 0; i < t->ncodes; i++)
		if (t->codes[i] == code)
			return (int)i;
	if (t->ncodes == TL_MAX_CODES)
		return -1;
	t->codes[t->ncodes] = code;
	return (int)t->ncodes++;
}

/* Merges slot b into slot a (both closed, or a open and b closed is never
 * needed: the open slot is always the last). Histograms merge exactly. */
static void slot_merge(timeline *t, tl_slot *a, tl_slot *b, met_hist *into_open)
{
	uint32_t i;
	char err[128];

	a->requests += b->requests;
	a->failures += b->failures;
	a->iterations += b->iterations;
	a->dropped += b->dropped;
	if (b->vus > a->vus)
		a->vus = b->vus;
	if (b->start_delay_max > a->start_delay_max)
		a->start_delay_max = b->start_delay_max;
	for (i = 0; i < b->nerrs; i++)
		add_err(a, b->errs[i].code, b->errs[i].n);
	if (into_open) {
		/* a is the open slot: its latency lives in the open histogram. */
		if (b->hist && met_hist_decode(t->scratch, b->hist, strlen(b->hist), err, sizeof(err)) == 0)
			met_hist_merge(into_open, t->scratch);
	} else if (b->hist) {
		met_hist_reset(t->scratch2);
		if (a->hist && met_hist_decode(t->scratch2, a->hist, strlen(a->hist), err, sizeof(err)) < 0)
			met_hist_reset(t->scratch2);
		if (met_hist_decode(t->scratch, b->hist, strlen(b->hist), err, sizeof(err)) == 0)
			met_hist_merge(t->scratch2, t->scratch);
		free(a->hist);
		a->hist = met_hist_encode(t->scratch2);
	}
	slot_free(b);
}

/* Doubles the interval: slots 2k and 2k+1 become slot k. */
static void coarsen(timeline *t)
{
	uint32_t gi, k, out;

	t->width_ns *= 2;
	for (gi = 0; gi < t->ngroups; gi++) {
		tl_group *g = &t->groups[gi];

		for (k = 0, out = 0; k < g->nslots; k++) {
			tl_slot *s = &g->slots[k];

			s->idx /= 2;
			if (out && g->slots[out - 1].idx == s->idx) {
				int last_open = g->has_open && k == g->nslots - 1;

				if (last_open) {
					/* The open slot absorbs the closed one before it,
					 * and stays open in its place. */
					tl_slot merged = *s;

					merged.hist = NULL;
					slot_merge(t, &merged, &g->slots[out - 1], g->open);
					g->slots[out - 1] = merged;
				} else {
					slot_merge(t, &g->slots[out - 1], s, NULL);
				}
				continue;
			}
			g->slots[out++] = *s;
		}
		g->nslots = out;
	}
}

static void take(void *self, const met_snapshot *snap)
{
	timeline *t = self;
	const met_registry *reg = snap->reg;
	const met_shard *iv = snap->interval;
	/* The interval's middle: ticks come about a second apart, a little
	 * late or early, and the middle falls in the right slot either way. */
	uint64_t mid = snap->elapsed_ns > snap->interval_ns / 2 ? snap->elapsed_ns - snap->interval_ns / 2 : 0;
	uint64_t idx;
	uint32_t i;

	pthread_mutex_lock(&t->mu);
	while (mid / t->width_ns >= TIMELINE_MAX_SLOTS)
		coarsen(t);
	idx = mid / t->width_ns;
	for (i = 0; i < iv->ntouched; i++) {
		uint32_t id = iv->touched[i], m = met_series_metric(reg, id), tsid;
		const met_cell *c = &iv->cells[id];
		tl_group *g;
		tl_slot *s;
		int32_t gi;
		int code, ci;

		if (!c->n)
			continue;
		if (m != MET_HTTP_REQS && m != MET_HTTP_REQ_FAILED && m != MET_ITERATIONS &&
		    m != MET_DROPPED_ITERATIONS && m != MET_VUS && m != MET_HTTP_REQ_DURATION &&
		    m != MET_ITERATION_START_DELAY)
			continue;
		tsid = met_series_tagset(reg, id);
		gi = group_of(t, reg, tsid);
		g = &t->groups[gi];
		s = slot_at(g, idx);
		switch (m) {
		case MET_HTTP_REQS:
			s->requests += (uint64_t)c->u.sum;
			if (failure_code(met_tagset_get(reg, tsid), &code)) {
				ci = code_index(t, code);
				if (ci >= 0)
					add_err(s, (uint16_t)ci, (uint64_t)c->u.sum);
			}
			break;
		case MET_HTTP_REQ_FAILED:
			s->failures += c->u.rate.nonzero;
			break;
		case MET_ITERATIONS:
			s->iterations += (uint64_t)c->u.sum;
			break;
		case MET_DROPPED_ITERATIONS:
			s->dropped += (uint64_t)c->u.sum;
			break;
		case MET_ITERATION_START_DELAY:
			if (c->hist && c->hist->count && c->hist->max > s->start_delay_max)
				s->start_delay_max = c->hist->max;
			break;
		case MET_VUS:
			if (c->u.gauge.max > s->vus)
				s->vus = c->u.gauge.max;
			break;
		default:
			if (!c->hist)
				break;
			if (g->has_open && s == &g->slots[g->nslots - 1])
				met_hist_merge(g->open, c->hist);
			else
				closed_hist_add(t, s, c->hist);
			break;
		}
	}
	t->version++;
	pthread_mutex_unlock(&t->mu);
}

met_output timeline_output(timeline *t)
{
	met_output o = {take, t};

	return o;
}

unsigned long timeline_version(timeline *t)
{
	unsigned long v;

	pthread_mutex_lock(&t->mu);
	v = t->version;
	pthread_mutex_unlock(&t->mu);
	return v;
}

static json_t *ms_or_null(const met_hist *h, double p)
{
	if (!h->count)
		return json_null();
	if (p >= 100)
		return json_real((double)h->max / 1e6);
	return json_real(met_hist_percentile(h, p) / 1e6);
}

static json_t *group_json(timeline *t, tl_group *g, int with_hist)
{
	static const double ps[] = {50, 90, 95, 99, 100};
	static const char *const pnames[] = {"p50", "p90", "p95", "p99", "max"};
	json_t *o = json_object(), *cols[13], *errs = json_object();
	json_t *errcols[TL_MAX_CODES] = {0};
	char err[128];
	uint32_t k, i;

	for (i = 0; i < 13; i++)
		cols[i] = json_array();
	for (k = 0; k < g->nslots; k++) {
		tl_slot *s = &g->slots[k];
		const met_hist *h;
		int open = g->has_open && k == g->nslots - 1;

		if (open) {
			h = g->open;
		} else {
			met_hist_reset(t->scratch);
			if (s->hist && met_hist_decode(t->scratch, s->hist, strlen(s->hist), err, sizeof(err)) < 0)
				met_hist_reset(t->scratch);
			h = t->scratch;
		}
		json_array_append_new(cols[0], json_integer((json_int_t)(s->idx * (t->width_ns / NS_PER_MS))));
		json_array_append_new(cols[1], json_integer((json_int_t)s->requests));
		json_array_append_new(cols[2], json_integer((json_int_t)s->failures));
		json_array_append_new(cols[3], json_real(s->vus));
		json_array_append_new(cols[4], json_integer((json_int_t)s->iterations));
		json_array_append_new(cols[5], json_integer((json_int_t)s->dropped));
		for (i = 0; i < 5; i++)
			json_array_append_new(cols[6 + i], ms_or_null(h, ps[i]));
		json_array_append_new(cols[12], json_real((double)s->start_delay_max / 1e6));
		if (with_hist) {
			char *text = open ? (h->count ? met_hist_encode(h) : NULL) : NULL;

			json_array_append_new(cols[11], json_string(open ? (text ? text : "") : (s->hist ? s->hist : "")));
			free(text);
		}
		for (i = 0; i < s->nerrs; i++) {
			uint16_t c = s->errs[i].code;

			if (!errcols[c]) {
				/* Zeros for the slots before this code first appeared. */
				uint32_t z;

				errcols[c] = json_array();
				for (z = 0; z < k; z++)
					json_array_append_new(errcols[c], json_integer(0));
			}
		}
		for (i = 0; i < TL_MAX_CODES; i++) {
			uint32_t e;
			uint64_t n = 0;

			if (!errcols[i])
				continue;
			for (e = 0; e < s->nerrs; e++)
				if (s->errs[e].code == i)
					n = s->errs[e].n;
			json_array_append_new(errcols[i], json_integer((json_int_t)n));
		}
	}
	json_object_set_new(o, "module", json_string(g->module));
	json_object_set_new(o, "strategy", json_string(g->strategy));
	json_object_set_new(o, "t_ms", cols[0]);
	json_object_set_new(o, "requests", cols[1]);
	json_object_set_new(o, "failures", cols[2]);
	json_object_set_new(o, "vus", cols[3]);
	json_object_set_new(o, "iterations", cols[4]);
	json_object_set_new(o, "dropped_iterations", cols[5]);
	for (i = 0; i < 5; i++)
		json_object_set_new(o, pnames[i], cols[6 + i]);
	json_object_set_new(o, "start_delay_max", cols[12]);
	if (with_hist)
		json_object_set_new(o, "hist", cols[11]);
	else
		json_decref(cols[11]);
	for (i = 0; i < TL_MAX_CODES; i++) {
		char key[24];

		if (!errcols[i])
			continue;
		failure_key(t->codes[i], key, sizeof(key));
		json_object_set_new(errs, key, errcols[i]);
	}
	json_object_set_new(o, "errors", errs);
	return o;
}

json_t *timeline_json(timeline *t, int with_hist)
{
	json_t *o = json_object(), *series = json_array();
	uint32_t g;

	pthread_mutex_lock(&t->mu);
	json_object_set_new(o, "interval_ms", json_integer((json_int_t)(t->width_ns / NS_PER_MS)));
	for (g = 0; g < t->ngroups; g++)
		if (t->groups[g].nslots)
			json_array_append_new(series, group_json(t, &t->groups[g], with_hist));
	pthread_mutex_unlock(&t->mu);
	json_object_set_new(o, "series", series);
	return o;
}
