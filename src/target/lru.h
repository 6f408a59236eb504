/* A fixed-size LRU set of 64-bit keys: the cache a module may put in front of
 * its connection pool. The demo content is derived from ids, so the cache
 * only has to remember which keys are "warm", not their bytes. All memory is
 * allocated at creation; get/put/remove are O(1) and never allocate.
 * Not thread-safe: it lives on the database thread. */
#ifndef STRAIN_TARGET_LRU_H
#define STRAIN_TARGET_LRU_H

#include <stdint.h>

typedef struct lru lru;

/* Creates a cache holding at most cap (>= 1) keys. Destroy with lru_destroy
 * (accepts NULL). */
lru *lru_create(uint32_t cap);
void lru_destroy(lru *c);

/* Returns 1 and marks key most recently used if present, else 0. */
int lru_get(lru *c, uint64_t key);
/* Inserts key as most recently used, evicting the least recently used key
 * when full. Inserting a present key just refreshes it. */
void lru_put(lru *c, uint64_t key);
/* Forgets key; harmless if absent. */
void lru_remove(lru *c, uint64_t key);
uint32_t lru_size(const lru *c);

#endif
