/* A string-keyed hash index (open addressing, FNV-1a) mapping text to a
 * 32-bit value: name lookups and duplicate checks that stay linear however
 * many names a plan has. Keys are borrowed, not copied: each must outlive
 * the map. */
#ifndef STRAIN_CORE_STRMAP_H
#define STRAIN_CORE_STRMAP_H

#include <stdint.h>

typedef struct strmap_slot {
	const char *key; /* NULL: empty */
	uint32_t hash;
	uint32_t val;
} strmap_slot;

typedef struct strmap {
	strmap_slot *slots;
	uint32_t cap; /* a power of two, or 0 before the first insert */
	uint32_t n;
} strmap;

void strmap_init(strmap *m);
/* Frees the slots (not the keys). Accepts an initialised, empty map. */
void strmap_free(strmap *m);
/* 1 and *val if key is present, else 0. */
int strmap_get(const strmap *m, const char *key, uint32_t *val);
/* Adds key -> val if key is absent and returns 0; if it is present, leaves
 * it, stores its value in *old (when old is not NULL) and returns 1. */
int strmap_put(strmap *m, const char *key, uint32_t val, uint32_t *old);
/* Sets key -> val whether or not it was present. */
void strmap_set(strmap *m, const char *key, uint32_t val);

#endif
