/* Page-backed storage for the large buffers that are refilled interval
 * after interval: the raw sample logs and their copies in the output
 * queues. With malloc, what one bigger interval touches stays resident for
 * the rest of the run (a grown block keeps its pages; a freed one is a
 * hole in a heap that later, smaller allocations pin), so RSS steps up
 * every time the collector runs late on a loaded machine. An anonymous
 * mapping grows without copying (mremap) and gives the pages past what the
 * recent intervals needed back to the system (madvise), so RSS follows the
 * steady state, not the busiest interval ever seen. Not thread-safe: one
 * owner at a time. */
#ifndef STRAIN_CORE_PAGEBUF_H
#define STRAIN_CORE_PAGEBUF_H

#include <stddef.h>

typedef struct pagebuf {
	void *p;          /* NULL until first reserved */
	size_t cap;       /* bytes mapped, whole pages */
	size_t touched;   /* bytes that may be resident: the highest use since the last give-back */
	size_t last[4];   /* what the four rounds before this one used, newest first */
	size_t floor;     /* the steady need: pages below it are kept through a lull */
} pagebuf;

/* Smallest mapping. */
#define PAGEBUF_MIN (64 * 1024)
/* The least a give-back returns: below it, the system call and the page
 * faults that refill it cost more than it saves. */
#define PAGEBUF_SLACK (16 * 1024)

void pagebuf_init(pagebuf *b);
/* Unmaps; b is left empty (pagebuf_init) and may be reused. */
void pagebuf_free(pagebuf *b);
/* Makes cap at least n bytes (doubling from PAGEBUF_MIN), keeping the
 * contents. The caller bounds n (every user has its own hard maximum);
 * out of memory exits, as xmalloc does. */
void pagebuf_reserve(pagebuf *b, size_t n);
/* Ends a round (an interval) that used the first `used` bytes. The pages
 * touched past the larger of this round's use and the steady need (plus
 * 1/64 for the jitter of steady rounds) go back to the system when they
 * are at least PAGEBUF_SLACK; they read as zeros if touched again. The
 * steady need is the median of the last five rounds, or, when that falls,
 * the previous need less 1/256. So a bigger round (a late interval, or
 * two) is given back at the next settle; a lull (the short interval after
 * a late one, a few slow seconds) does not give back what the steady
 * rounds will need again, while a lasting drop of load gives it back over
 * minutes. Steady rounds make no system call. */
void pagebuf_settle(pagebuf *b, size_t used);

#endif
