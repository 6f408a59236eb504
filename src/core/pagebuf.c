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

/* The median of this round's use and the four before it. */
static size_t median5(size_t used, const size_t last[4])
{
	size_t v[5] = {used, last[0], last[1], last[2], last[3]};
	int i, j;

	for (i = 1; i < 5; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			size_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[2];
}

void pagebuf_settle(pagebuf *b, size_t used)
{
	size_t top = b->touched > used ? b->touched : used, med = median5(used, b->last), need, keep;

	memmove(b->last + 1, b->last, 3 * sizeof(b->last[0]));
	b->last[0] = used;
	/* Up at once with the median (three rounds of five), down slowly. */
	b->floor = med > b->floor - b->floor / 256 ? med : b->floor - b->floor / 256;
	need = used > b->floor ? used : b->floor;
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
