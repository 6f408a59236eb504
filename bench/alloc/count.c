/* LD_PRELOAD shim: counts calls to the allocator and prints the totals at
 * exit, to check that a run's allocations do not grow with its requests. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static _Atomic unsigned long n_malloc, n_calloc, n_realloc;
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);

/* dlsym may itself call calloc: serve that from a static arena. */
static char boot[4096];
static size_t boot_used;

static void *boot_alloc(size_t n)
{
	void *p = boot + boot_used;

	boot_used += (n + 15) & ~(size_t)15;
	return boot_used <= sizeof(boot) ? p : NULL;
}

static void init(void)
{
	static int busy;

	if (busy)
		return;
	busy = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	busy = 0;
}

void *malloc(size_t n)
{
	if (!real_malloc)
		init();
	if (!real_malloc)
		return boot_alloc(n);
	n_malloc++;
	return real_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (!real_calloc)
		init();
	if (!real_calloc)
		return boot_alloc(a * b); /* static, so already zero */
	n_calloc++;
	return real_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (!real_realloc)
		init();
	n_realloc++;
	return real_realloc(p, n);
}

void free(void *p)
{
	static void (*real_free)(void *);

	if ((char *)p >= boot && (char *)p < boot + sizeof(boot))
		return;
	if (!real_free)
		real_free = dlsym(RTLD_NEXT, "free");
	real_free(p);
}

__attribute__((destructor)) static void report(void)
{
	char line[128];
	int len = snprintf(line, sizeof(line), "allocations: malloc %lu calloc %lu realloc %lu\n",
			   (unsigned long)n_malloc, (unsigned long)n_calloc, (unsigned long)n_realloc);

	write(2, line, (size_t)len);
}
