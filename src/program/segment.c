#include "program/segment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Denominators above this are refused while parsing: the sequence's LCD
 * is bounded anyway, and it keeps every product below 2^128. */
#define SEG_MAX_DEN 1000000000ull

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

static seg_rat rat_make(uint64_t num, uint64_t den)
{
	uint64_t g = gcd64(num, den);

	if (!g)
		g = 1;
	return (seg_rat){num / g, den / g};
}

static int rat_cmp(seg_rat a, seg_rat b)
{
	unsigned __int128 l = (unsigned __int128)a.num * b.den, r = (unsigned __int128)b.num * a.den;

	return l < r ? -1 : l > r;
}

/* b - a, for b >= a. */
static seg_rat rat_sub(seg_rat b, seg_rat a)
{
	uint64_t g = gcd64(a.den, b.den), l = a.den / g * b.den;
	unsigned __int128 n = (unsigned __int128)b.num * (l / b.den) - (unsigned __int128)a.num * (l / a.den);

	return rat_make((uint64_t)n, l);
}

static int digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* "N", "N/D" or "I.F" into num/den, not yet reduced or checked. */
static int rat_text(const char *s, size_t len, uint64_t *num, uint64_t *den)
{
	const char *slash = memchr(s, '/', len), *dot = memchr(s, '.', len);

	if (slash)
		return digits(s, (size_t)(slash - s), num) < 0 ||
			       digits(slash + 1, len - (size_t)(slash - s) - 1, den) < 0
			   ? -1
			   : 0;
	if (dot) {
		uint64_t ip = 0, fp = 0, scale = 1;
		size_t flen = len - (size_t)(dot - s) - 1, i;

		if (flen > 9 || (dot > s && digits(s, (size_t)(dot - s), &ip) < 0) || digits(dot + 1, flen, &fp) < 0)
			return -1;
		for (i = 0; i < flen; i++)
			scale *= 10;
		if (ip > 1)
			return -1;
		*num = ip * scale + fp;
		*den = scale;
		return 0;
	}
	*den = 1;
	return digits(s, len, num);
}

int seg_rat_parse(const char *s, size_t len, seg_rat *out, char *err, size_t errsz)
{
	uint64_t num, den;
	int pct = len && s[len - 1] == '%';

	if (rat_text(s, len - (size_t)pct, &num, &den) < 0 || !den) {
		snprintf(err, errsz, "'%.*s': expected a fraction such as 1/4, 0.25 or 25%%", (int)len, s);
		return -1;
	}
	if (pct) {
		if (den > SEG_MAX_DEN / 100) {
			snprintf(err, errsz, "'%.*s': too fine", (int)len, s);
			return -1;
		}
		den *= 100;
	}
	if (den > SEG_MAX_DEN || num > den) {
		snprintf(err, errsz, "'%.*s': %s", (int)len, s, num > den ? "must be between 0 and 1" : "too fine");
		return -1;
	}
	*out = rat_make(num, den);
	return 0;
}

void seg_tuple_free(seg_tuple *t)
{
	if (!t)
		return;
	free(t->points);
	free(t->pattern);
	memset(t, 0, sizeof(*t));
	t->full = 1;
}

/* The striping (k6's algorithm, restated): the segments, largest first
 * (ties in sequence order), each owe length * lcd indices per period; index
 * i of the period goes to the first segment, in that order, whose next
 * index is due — the one whose count so far, spread evenly over the
 * period, places its next index at or before i. Spacing each segment's
 * indices about 1/length apart is what makes a share of a small n (the
 * first VUs of a ramp, the first iterations) close to length * n. Fills
 * t->pattern for t->index. */
static void stripe(seg_tuple *t, const uint64_t *norm)
{
	uint32_t n = t->nparts, i, j;
	uint32_t *order = xcalloc(n, sizeof(*order));
	uint64_t *chosen = xcalloc(n, sizeof(*chosen)), k, got = 0;

	for (i = 0; i < n; i++)
		order[i] = i;
	/* Stable insertion sort, descending by norm: n is small. */
	for (i = 1; i < n; i++) {
		uint32_t v = order[i];

		for (j = i; j > 0 && norm[order[j - 1]] < norm[v]; j--)
			order[j] = order[j - 1];
		order[j] = v;
	}
	t->pattern = xcalloc(t->count + 1, sizeof(uint64_t));
	for (k = 0; k < t->lcd; k++) {
		for (i = 0; i < n; i++) {
			uint64_t num = chosen[i] * t->lcd, den = norm[order[i]], q = num / den;

			if (k > q || (k == q && num % den == 0)) {
				chosen[i]++;
				if (order[i] == t->index && got < t->count)
					t->pattern[got++] = k;
				break;
			}
		}
	}
	free(order);
	free(chosen);
}

/* Builds t from the sequence's points (owned by t from here) and the
 * segment's position. */
static int tuple_finish(seg_tuple *t, seg_rat *points, uint32_t nparts, uint32_t index, char *err, size_t errsz)
{
	uint64_t *norm = xcalloc(nparts, sizeof(*norm)), lcd = 1;
	uint32_t i;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	t->points = points;
	t->nparts = nparts;
	t->index = index;
	t->from = points[index];
	t->to = points[index + 1];
	for (i = 0; i < nparts; i++) {
		seg_rat len = rat_sub(points[i + 1], points[i]);
		uint64_t g = gcd64(lcd, len.den);

		if ((unsigned __int128)(lcd / g) * len.den > SEG_MAX_LCD) {
			snprintf(err, errsz,
				 "the sequence's segments need a pattern longer than %d (their lengths' common "
				 "denominator): use simpler fractions",
				 SEG_MAX_LCD);
			goto out;
		}
		lcd = lcd / g * len.den;
	}
	t->lcd = lcd;
	for (i = 0; i < nparts; i++) {
		seg_rat len = rat_sub(points[i + 1], points[i]);

		norm[i] = len.num * (lcd / len.den);
	}
	t->count = norm[index];
	t->full = nparts == 1;
	stripe(t, norm);
	rc = 0;
out:
	free(norm);
	if (rc < 0) {
		free(points);
		memset(t, 0, sizeof(*t));
		t->full = 1;
	}
	return rc;
}

/* "a:b" or "b" (0:b). */
static int segment_parse(const char *s, seg_rat *from, seg_rat *to, char *err, size_t errsz)
{
	const char *colon = strchr(s, ':');

	*from = (seg_rat){0, 1};
	if (colon && seg_rat_parse(s, (size_t)(colon - s), from, err, errsz) < 0)
		return -1;
	if (seg_rat_parse(colon ? colon + 1 : s, strlen(colon ? colon + 1 : s), to, err, errsz) < 0)
		return -1;
	if (rat_cmp(*from, *to) >= 0) {
		snprintf(err, errsz, "'%s': a segment from:to needs from < to", s);
		return -1;
	}
	return 0;
}

int seg_tuple_build(seg_tuple *t, const char *segment, const char *sequence, char *err, size_t errsz)
{
	seg_rat from = {0, 1}, to = {1, 1}, *pts = xcalloc(SEG_MAX_PARTS + 3, sizeof(*pts));
	uint32_t n = 0, i, index = 0;

	if (segment && segment_parse(segment, &from, &to, err, errsz) < 0)
		goto fail;
	if (sequence) {
		const char *p = sequence;

		for (;;) {
			const char *c = strchr(p, ',');
			size_t len = c ? (size_t)(c - p) : strlen(p);

			if (n == SEG_MAX_PARTS + 1) {
				snprintf(err, errsz, "at most %d segments in a sequence", SEG_MAX_PARTS);
				goto fail;
			}
			if (seg_rat_parse(p, len, &pts[n], err, errsz) < 0)
				goto fail;
			if (n && rat_cmp(pts[n - 1], pts[n]) >= 0) {
				snprintf(err, errsz, "'%s': the points must increase", sequence);
				goto fail;
			}
			n++;
			if (!c)
				break;
			p = c + 1;
		}
		if (n < 2) {
			snprintf(err, errsz, "'%s': a sequence needs two points at least (0,1)", sequence);
			goto fail;
		}
		/* k6 fills a sequence that does not reach 0 or 1. */
		if (pts[0].num) {
			memmove(pts + 1, pts, n * sizeof(*pts));
			pts[0] = (seg_rat){0, 1};
			n++;
		}
		if (pts[n - 1].num != pts[n - 1].den)
			pts[n++] = (seg_rat){1, 1};
	} else {
		/* No sequence: the segment and what is around it. */
		if (from.num)
			pts[n++] = (seg_rat){0, 1};
		pts[n++] = from;
		pts[n++] = to;
		if (to.num != to.den)
			pts[n++] = (seg_rat){1, 1};
	}
	for (i = 0; i + 1 < n; i++)
		if (rat_cmp(pts[i], from) == 0 && rat_cmp(pts[i + 1], to) == 0)
			break;
	if (i + 1 >= n) {
		snprintf(err, errsz, "the segment '%s' is not one of the sequence '%s'", segment ? segment : "0:1",
			 sequence ? sequence : "");
		goto fail;
	}
	index = i;
	return tuple_finish(t, pts, n - 1, index, err, errsz);
fail:
	free(pts);
	memset(t, 0, sizeof(*t));
	t->full = 1;
	return -1;
}

int seg_tuple_equal(seg_tuple *t, uint32_t index, uint32_t n, char *err, size_t errsz)
{
	seg_rat *pts;
	uint32_t i;

	if (!n || n > SEG_MAX_PARTS || index >= n) {
		snprintf(err, errsz, "segment index %u of %u: expected 0 <= index < segments <= %d", index, n,
			 SEG_MAX_PARTS);
		memset(t, 0, sizeof(*t));
		t->full = 1;
		return -1;
	}
	pts = xcalloc(n + 1, sizeof(*pts));
	for (i = 0; i <= n; i++)
		pts[i] = rat_make(i, n);
	return tuple_finish(t, pts, n, index, err, errsz);
}

uint64_t seg_scale(const seg_tuple *t, uint64_t n)
{
	uint64_t whole, rest, lo = 0, hi;

	if (t->full || !t->pattern)
		return n;
	whole = n / t->lcd * t->count;
	rest = n % t->lcd;
	/* How many pattern entries are below rest: a binary search. */
	hi = t->count;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (t->pattern[mid] < rest)
			lo = mid + 1;
		else
			hi = mid;
	}
	return whole + lo;
}

uint64_t seg_index(const seg_tuple *t, uint64_t j)
{
	if (t->full || !t->pattern || !t->count)
		return j;
	return j / t->count * t->lcd + t->pattern[j % t->count];
}

static void rat_put(char *out, size_t outsz, seg_rat r)
{
	if (r.den == 1 || !r.num)
		snprintf(out, outsz, "%llu", (unsigned long long)(r.num ? 1 : 0));
	else
		snprintf(out, outsz, "%llu/%llu", (unsigned long long)r.num, (unsigned long long)r.den);
}

void seg_format(const seg_tuple *t, char *seg, size_t segsz, char *seq, size_t seqsz)
{
	char a[48], b[48];
	size_t at = 0;
	uint32_t i;

	if (t->full || !t->points) {
		snprintf(seg, segsz, "0:1");
		snprintf(seq, seqsz, "0,1");
		return;
	}
	rat_put(a, sizeof(a), t->from);
	rat_put(b, sizeof(b), t->to);
	snprintf(seg, segsz, "%s:%s", a, b);
	seq[0] = 0;
	for (i = 0; i <= t->nparts && at + 1 < seqsz; i++) {
		int w;

		rat_put(a, sizeof(a), t->points[i]);
		w = snprintf(seq + at, seqsz - at, "%s%s", i ? "," : "", a);
		if (w < 0 || (size_t)w >= seqsz - at)
			break;
		at += (size_t)w;
	}
}
