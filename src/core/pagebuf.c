#include "core/pagebuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void)
{
	static size_t ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

static size_t round_up(size_t n)
{
	size_t ps = page_size();

	return (n + ps - 1) / ps * ps;
}

void pagebuf_init(pagebuf *b)
{
	memset(b, 0, sizeof(*b));
}

void pagebuf_free(pagebuf *b)
{
	if (b->p)
		munmap(b->p, b->cap);
	pagebuf_init(b);
}

void pagebuf_reserve(pagebuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : PAGEBUF_MIN;
	void *p;

	if (n <= b->cap)
		return;
	while (cap < n)
		cap *= 2;
	cap = round_up(cap);
	if (b->p)
		p = mremap(b->p, b->cap, cap, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		/* The policy of core/alloc.h: nothing useful runs without memory. */
		fprintf(stderr, "strain: out of memory (mapping %zu bytes)\n", cap);
		exit(1);
	}
	b->p = p;
	b->cap = cap;
}

static size_t median3(size_t a, size_t b, size_t c)
{
	if (a > b) {
		size_t t = a;

		a = b;
		b = t;
	}
	/* Now a <= b: the median is b unless c falls below it. */
	if (c < b)
		b = c > a ? c : a;
	return b;
}

void pagebuf_settle(pagebuf *b, size_t used)
{
	size_t top = b->touched > used ? b->touched : used, need, keep;
	size_t med = median3(used, b->last[0], b->last[1]);

	b->last[1] = b->last[0];
	b->last[0] = used;
	need = used > med ? used : med;
	if (top > b->cap)
		top = b->cap;
	keep = round_up(need + need / 64);
	if (keep < top && top - keep >= PAGEBUF_SLACK) {
		/* DONTNEED, not FREE: MADV_FREE pages stay counted in RSS until
		 * the system is short of memory, and constant RSS is the point. */
		madvise((char *)b->p + keep, round_up(top) - keep, MADV_DONTNEED);
		top = keep;
	}
	b->touched = top;
}
