#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

void strmap_init(strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_free(strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static strmap_slot *find(const strmap *m, const char *key, uint32_t h)
{
	uint32_t i = h & (m->cap - 1);

	for (;;) {
		strmap_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

/* Kept at most half full, so probes stay short and find() always ends. */
static void grow(strmap *m)
{
	strmap old = *m;
	uint32_t i;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	free(old.slots);
}

int strmap_get(const strmap *m, const char *key, uint32_t *val)
{
	strmap_slot *s;

	if (!m->cap)
		return 0;
	s = find(m, key, hash_str(key));
	if (!s->key)
		return 0;
	*val = s->val;
	return 1;
}

int strmap_put(strmap *m, const char *key, uint32_t val, uint32_t *old)
{
	uint32_t h = hash_str(key);
	strmap_slot *s;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, key, h);
	if (s->key) {
		if (old)
			*old = s->val;
		return 1;
	}
	s->key = key;
	s->hash = h;
	s->val = val;
	m->n++;
	return 0;
}

void strmap_set(strmap *m, const char *key, uint32_t val)
{
	uint32_t h = hash_str(key);
	strmap_slot *s;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, key, h);
	if (!s->key) {
		s->key = key;
		s->hash = h;
		m->n++;
	}
	s->val = val;
}
