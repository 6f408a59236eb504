/* Execution segments, k6's way of splitting one test over N processes
 * (k6's lib/execution_segment.go, the semantics written again in C): a
 * segment a:b of [0,1) within a sequence of segments that covers [0,1).
 * Every count of the unsplit run (VUs at any instant, shared iterations,
 * preallocated and maximum VUs) and every index of an arrival schedule is
 * dealt out to the sequence's segments by one striped pattern that repeats
 * every `lcd` indices (the least common denominator of the segments'
 * lengths): within each period, segment i owns length_i * lcd of the
 * indices, spread as evenly as the striping allows. So, for every n, the
 * segments' shares of n add up to n, and the indices the segments own are
 * 0..n-1 exactly once — the union of the processes is the unsplit run.
 * Pure arithmetic: nothing reads a clock; unit-tested (tests/unit/test_segment.c). */
#ifndef STRAIN_PROGRAM_SEGMENT_H
#define STRAIN_PROGRAM_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

/* The largest period the striped pattern may have (the LCD of the
 * sequence's denominators); past it a segment or sequence is refused. */
#define SEG_MAX_LCD 1000000
/* The most segments a sequence may have. */
#define SEG_MAX_PARTS 1024

/* A fraction num/den in [0,1], reduced. */
typedef struct seg_rat {
	uint64_t num, den;
} seg_rat;

/* One process's part: its segment, the sequence it belongs to, and its
 * striped pattern. A zero-initialised tuple, or one built from 0:1, is the
 * whole run (seg_scale and seg_index are the identity). */
typedef struct seg_tuple {
	int full;
	seg_rat from, to;
	uint32_t index, nparts; /* its position in the sequence, the sequence's length */
	seg_rat *points;        /* the sequence's nparts + 1 boundaries (owned) */
	uint64_t lcd;           /* the pattern's period */
	uint64_t *pattern;      /* the indices this segment owns within one period, ascending (owned) */
	uint64_t count;         /* how many: length * lcd */
} seg_tuple;

/* Parses one fraction: "1/4", "0.25", "25%", "0", "1". 0, or -1 with a
 * message in err. */
int seg_rat_parse(const char *s, size_t len, seg_rat *out, char *err, size_t errsz);

/* Builds t from a segment text ("a:b", or "b" for 0:b; NULL for the whole
 * run) and a sequence text ("0,1/4,1/2,3/4,1"; NULL: the segment and the
 * pieces around it, as k6 fills it). The segment must be one of the
 * sequence's. 0, or -1 with a message in err (nothing to free then). */
int seg_tuple_build(seg_tuple *t, const char *segment, const char *sequence, char *err, size_t errsz);

/* Equal shares: segment `index` (0-based) of `n`, within 0,1/n,...,1. */
int seg_tuple_equal(seg_tuple *t, uint32_t index, uint32_t n, char *err, size_t errsz);

void seg_tuple_free(seg_tuple *t);

/* This segment's share of a count n of the whole run: how many of the
 * indices 0..n-1 it owns. Monotone in n. */
uint64_t seg_scale(const seg_tuple *t, uint64_t n);

/* The index, in the whole run, of this segment's j-th (0-based) index. */
uint64_t seg_index(const seg_tuple *t, uint64_t j);

/* "a/b:c/d" and the sequence "p0,p1,...", as text (for the summary). */
void seg_format(const seg_tuple *t, char *seg, size_t segsz, char *seq, size_t seqsz);

#endif
