/* Allocation wrappers. Out-of-memory policy: strain cannot measure anything
 * useful without memory, so a failed allocation prints one line and exits
 * with status 1; callers never check for NULL. */
#ifndef STRAIN_CORE_ALLOC_H
#define STRAIN_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a NUL-terminated copy of s (or of its first n bytes); caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
