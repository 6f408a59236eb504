#include "target/lru.h"

#include <stdlib.h>

#include "core/alloc.h"

#define NIL UINT32_MAX

/* Entries are linked by index rather than pointer: half the size, and the
 * whole cache is two flat arrays. */
typedef struct entry {
	uint64_t key;
	uint32_t hnext; /* bucket chain */
	uint32_t prev;  /* recency list, towards most recent */
	uint32_t next;  /* towards least recent; also the free list */
} entry;

struct lru {
	entry *e;
	uint32_t *bucket;
	uint32_t mask;
	uint32_t cap;
	uint32_t size;
	uint32_t head; /* most recently used */
	uint32_t tail; /* least recently used */
	uint32_t free;
};

lru *lru_create(uint32_t cap)
{
	lru *c = xcalloc(1, sizeof(*c));
	uint32_t nb = 1, i;

	if (cap < 1)
		cap = 1;
	/* Twice as many buckets as keys keeps chains around one entry. */
	while (nb < cap * 2 && nb < (1u << 31))
		nb <<= 1;
	c->e = xmalloc(sizeof(*c->e) * cap);
	c->bucket = xmalloc(sizeof(*c->bucket) * nb);
	c->mask = nb - 1;
	c->cap = cap;
	for (i = 0; i < nb; i++)
		c->bucket[i] = NIL;
	for (i = 0; i < cap; i++)
		c->e[i].next = i + 1 < cap ? i + 1 : NIL;
	c->free = 0;
	c->head = c->tail = NIL;
	return c;
}

void lru_destroy(lru *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->bucket);
	free(c);
}

static uint32_t slot_of(const lru *c, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & c->mask;
}

static uint32_t find(const lru *c, uint64_t key)
{
	uint32_t i = c->bucket[slot_of(c, key)];

	while (i != NIL && c->e[i].key != key)
		i = c->e[i].hnext;
	return i;
}

static void list_unlink(lru *c, uint32_t i)
{
	entry *x = &c->e[i];

	if (x->prev != NIL)
		c->e[x->prev].next = x->next;
	else
		c->head = x->next;
	if (x->next != NIL)
		c->e[x->next].prev = x->prev;
	else
		c->tail = x->prev;
}

static void list_push_head(lru *c, uint32_t i)
{
	entry *x = &c->e[i];

	x->prev = NIL;
	x->next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void bucket_unlink(lru *c, uint32_t i)
{
	uint32_t *p = &c->bucket[slot_of(c, c->e[i].key)];

	while (*p != i)
		p = &c->e[*p].hnext;
	*p = c->e[i].hnext;
}

int lru_get(lru *c, uint64_t key)
{
	uint32_t i = find(c, key);

	if (i == NIL)
		return 0;
	if (c->head != i) {
		list_unlink(c, i);
		list_push_head(c, i);
	}
	return 1;
}

void lru_put(lru *c, uint64_t key)
{
	uint32_t i, s;

	if (lru_get(c, key))
		return;
	if (c->free != NIL) {
		i = c->free;
		c->free = c->e[i].next;
		c->size++;
	} else {
		i = c->tail;
		list_unlink(c, i);
		bucket_unlink(c, i);
	}
	c->e[i].key = key;
	s = slot_of(c, key);
	c->e[i].hnext = c->bucket[s];
	c->bucket[s] = i;
	list_push_head(c, i);
}

void lru_remove(lru *c, uint64_t key)
{
	uint32_t i = find(c, key);

	if (i == NIL)
		return;
	list_unlink(c, i);
	bucket_unlink(c, i);
	c->e[i].next = c->free;
	c->free = i;
	c->size--;
}

uint32_t lru_size(const lru *c)
{
	return c->size;
}
