#include "target/db.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "target/lru.h"

const char *const db_module_names[DB_MODULES] = {"jobs", "ecommerce", "notifications", "profile"};

int db_module_find(const char *name, unsigned long n)
{
	int i;

	for (i = 0; i < DB_MODULES; i++)
		if (strlen(db_module_names[i]) == n && memcmp(db_module_names[i], name, n) == 0)
			return i;
	return -1;
}

typedef struct pool {
	uint32_t size;
	uint32_t max;  /* db_model_resize's limit */
	uint32_t busy;
	uint32_t waiting;
	db_query *head, *tail; /* FIFO of queries waiting for a connection */
} pool;

struct db_model {
	db_config cfg;
	uint64_t last;  /* real time the state below describes */
	uint64_t vnow;  /* virtual clock at `last` */
	db_query **heap; /* 1-based min-heap on vfinish */
	uint32_t nactive;
	uint32_t cap;
	uint64_t rng;
	pool pools[DB_MODULES];
	lru *cache[DB_MODULES];
};

db_model *db_model_create(const db_config *cfg, uint64_t now)
{
	db_model *m = xcalloc(1, sizeof(*m));
	int i;

	m->cfg = *cfg;
	if (!m->cfg.slots)
		m->cfg.slots = 1;
	m->last = now;
	m->rng = cfg->seed ? cfg->seed : 0x9E3779B97F4A7C15ull;
	for (i = 0; i < DB_MODULES; i++) {
		m->pools[i].size = cfg->pool[i] ? cfg->pool[i] : 1;
		m->pools[i].max = cfg->pool_max[i] > m->pools[i].size ? cfg->pool_max[i] : m->pools[i].size;
		m->cap += m->pools[i].max;
		if (cfg->cache[i])
			m->cache[i] = lru_create(cfg->cache[i]);
	}
	/* At most every pool connection runs a query, and no pool grows past
	 * its max, so the heap never grows. */
	m->heap = xmalloc(sizeof(*m->heap) * (m->cap + 1));
	return m;
}

void db_model_destroy(db_model *m)
{
	int i;

	if (!m)
		return;
	for (i = 0; i < DB_MODULES; i++)
		lru_destroy(m->cache[i]);
	free(m->heap);
	free(m);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Real time needed for the virtual clock to advance by v with n active. */
static uint64_t real_for(const db_model *m, uint64_t v)
{
	if (m->nactive <= m->cfg.slots)
		return v;
	return (uint64_t)(((unsigned __int128)v * m->nactive + m->cfg.slots - 1) / m->cfg.slots);
}

/* Virtual time gained in real time t with n active (rounded down, so a
 * query never finishes before its time). */
static uint64_t virtual_for(const db_model *m, uint64_t t)
{
	if (m->nactive <= m->cfg.slots)
		return t;
	return (uint64_t)((unsigned __int128)t * m->cfg.slots / m->nactive);
}

static void heap_push(db_model *m, db_query *q)
{
	uint32_t i = ++m->nactive;

	while (i > 1 && m->heap[i / 2]->vfinish > q->vfinish) {
		m->heap[i] = m->heap[i / 2];
		i /= 2;
	}
	m->heap[i] = q;
}

static db_query *heap_pop(db_model *m)
{
	db_query *top = m->heap[1], *last = m->heap[m->nactive--];
	uint32_t i = 1;

	for (;;) {
		uint32_t c = i * 2;

		if (c > m->nactive)
			break;
		if (c + 1 <= m->nactive && m->heap[c + 1]->vfinish < m->heap[c]->vfinish)
			c++;
		if (m->heap[c]->vfinish >= last->vfinish)
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (m->nactive)
		m->heap[i] = last;
	return top;
}

static void start(db_model *m, db_query *q, uint64_t at)
{
	uint64_t svc = m->cfg.service_ns[q->module] * (q->cost ? q->cost : 1);
	uint32_t j = m->cfg.jitter_pct;

	if (j) {
		/* Uniform in [100 - j, 100 + j] percent, in steps of 0.01 %. */
		uint64_t span = 2ull * j * 100 + 1;
		uint64_t pct = 10000ull - j * 100ull + xorshift(&m->rng) % span;

		svc = svc * pct / 10000;
	}
	m->pools[q->module].busy++;
	q->start_ns = at;
	q->service_ns = svc;
	q->vfinish = m->vnow + svc;
	heap_push(m, q);
}

static void start_waiter(db_model *m, pool *p, uint64_t at)
{
	db_query *w = p->head;

	p->head = w->next;
	if (!p->head)
		p->tail = NULL;
	p->waiting--;
	w->next = NULL;
	start(m, w, at);
}

static void finish(db_model *m, db_query *q, uint64_t at, db_done_fn done, void *ctx)
{
	pool *p = &m->pools[q->module];

	p->busy--;
	q->done_ns = at;
	if (q->cache_key && m->cache[q->module])
		lru_put(m->cache[q->module], q->cache_key);
	/* Hand the freed connection to the longest waiter at the same instant,
	 * unless a shrink retires it. */
	if (p->head && p->busy < p->size)
		start_waiter(m, p, at);
	q->next = NULL;
	done(ctx, q);
}

void db_model_advance(db_model *m, uint64_t now, db_done_fn done, void *ctx)
{
	uint64_t dt;

	if (now <= m->last)
		return;
	dt = now - m->last;
	/* Step from completion to completion: each one changes n and so the
	 * rate for the rest of the interval. */
	while (m->nactive) {
		db_query *q = m->heap[1];
		uint64_t need = real_for(m, q->vfinish > m->vnow ? q->vfinish - m->vnow : 0);

		if (need > dt)
			break;
		dt -= need;
		m->last += need;
		if (q->vfinish > m->vnow)
			m->vnow = q->vfinish;
		heap_pop(m);
		finish(m, q, m->last, done, ctx);
	}
	if (m->nactive)
		m->vnow += virtual_for(m, dt);
	m->last = now;
}

void db_model_submit(db_model *m, db_query *q, uint64_t now, db_done_fn done, void *ctx)
{
	pool *p = &m->pools[q->module];
	lru *c = m->cache[q->module];

	db_model_advance(m, now, done, ctx);
	if (now < m->last)
		now = m->last;
	q->submit_ns = now;
	q->cache_hit = 0;
	q->next = NULL;
	if (c && q->invalidate_key)
		lru_remove(c, q->invalidate_key);
	if (c && q->cache_key && lru_get(c, q->cache_key)) {
		q->cache_hit = 1;
		q->start_ns = q->done_ns = now;
		q->service_ns = 0;
		done(ctx, q);
		return;
	}
	if (p->busy < p->size) {
		start(m, q, now);
		return;
	}
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
	p->waiting++;
}

int db_model_resize(db_model *m, int module, uint32_t size, uint64_t now, db_done_fn done, void *ctx)
{
	pool *p = &m->pools[module];

	if (size == 0 || size > p->max)
		return -1;
	/* Starting queries changes the processor-sharing rate, so the clock
	 * must describe `now` first. */
	db_model_advance(m, now, done, ctx);
	if (now < m->last)
		now = m->last;
	p->size = size;
	while (p->head && p->busy < p->size)
		start_waiter(m, p, now);
	return 0;
}

uint64_t db_model_next(const db_model *m)
{
	const db_query *q;

	if (!m->nactive)
		return UINT64_MAX;
	q = m->heap[1];
	return m->last + real_for(m, q->vfinish > m->vnow ? q->vfinish - m->vnow : 0);
}

uint32_t db_model_active(const db_model *m)
{
	return m->nactive;
}

uint32_t db_model_size(const db_model *m, int module)
{
	return m->pools[module].size;
}

uint32_t db_model_busy(const db_model *m, int module)
{
	return m->pools[module].busy;
}

uint32_t db_model_waiting(const db_model *m, int module)
{
	return m->pools[module].waiting;
}
