#include "metrics/hist_codec.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define CODEC_FORMAT 1
/* Header (3 bytes), four numbers, the bucket count, and two numbers per
 * bucket: a varint takes at most 10 bytes. */
#define ENCODED_MAX(nb) (3 + 10 * (5 + 2 * (size_t)(nb)))

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

char *met_hist_encode(const met_hist *h)
{
	uint32_t i, nb = 0, prev = 0;
	unsigned char *raw;
	size_t n = 0;
	char *text;
	int first = 1;

	if (h->count)
		for (i = h->lo; i <= h->hi; i++)
			nb += h->counts[i] != 0;
	raw = xmalloc(ENCODED_MAX(nb));
	raw[n++] = CODEC_FORMAT;
	raw[n++] = HIST_SUB_BITS;
	raw[n++] = HIST_MAX_BITS;
	n += put_varint(raw + n, h->count);
	n += put_varint(raw + n, h->count ? h->min : 0);
	n += put_varint(raw + n, h->count ? h->max : 0);
	n += put_varint(raw + n, h->count ? h->sum : 0);
	n += put_varint(raw + n, nb);
	for (i = h->lo; h->count && i <= h->hi; i++) {
		if (!h->counts[i])
			continue;
		n += put_varint(raw + n, first ? i : i - prev - 1);
		n += put_varint(raw + n, h->counts[i]);
		prev = i;
		first = 0;
	}
	text = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)text, raw, (int)n);
	free(raw);
	return text;
}

typedef struct reader {
	const unsigned char *p, *end;
} reader;

static int get_varint(reader *r, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (r->p < r->end) {
		unsigned char b = *r->p++;

		if (shift == 63 && b > 1)
			return -1; /* more than 64 bits */
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return 0;
		}
		shift += 7;
		if (shift > 63)
			return -1;
	}
	return -1;
}

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return -1;
}

/* Standard base64 with padding; EVP_DecodeBlock takes no length check of
 * its own and counts padding as zero bytes, so both are handled here. */
static int b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int base64_decode(const char *text, size_t len, unsigned char **out, size_t *outlen)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t pad, i;
	int n;

	if (len == 0 || len % 4)
		return -1;
	for (i = 0; i < len - 2; i++)
		if (!b64_char(t[i]))
			return -1;
	pad = t[len - 1] == '=' ? (t[len - 2] == '=' ? 2 : 1) : 0;
	if ((pad < 2 && !b64_char(t[len - 2])) || (pad < 1 && !b64_char(t[len - 1])))
		return -1;
	*out = xmalloc(len / 4 * 3 + 1);
	n = EVP_DecodeBlock(*out, t, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = (size_t)n - pad;
	return 0;
}

int met_hist_decode(met_hist *h, const char *text, size_t len, char *err, size_t errsz)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	uint64_t count, min, max, sum, nb, k, total = 0;
	uint64_t idx = 0;
	unsigned __int128 lo_sum, hi_sum;
	reader r;
	int rc = -1;

	met_hist_reset(h);
	/* A histogram has at most HIST_BUCKETS buckets: anything longer than
	 * their encoding is not one. */
	if (len > 4 * (ENCODED_MAX(HIST_BUCKETS) / 3 + 1)) {
		fail(err, errsz, "histogram text too long (%zu bytes)", len);
		goto out;
	}
	if (base64_decode(text, len, &raw, &rawlen) < 0) {
		fail(err, errsz, "histogram is not base64");
		goto out;
	}
	if (rawlen < 3 || raw[0] != CODEC_FORMAT) {
		fail(err, errsz, "histogram: unknown format %u", rawlen ? raw[0] : 0);
		goto out;
	}
	if (raw[1] != HIST_SUB_BITS || raw[2] != HIST_MAX_BITS) {
		fail(err, errsz, "histogram: bucket layout %u/%u is not this build's %u/%u", raw[1], raw[2], HIST_SUB_BITS,
		     HIST_MAX_BITS);
		goto out;
	}
	r.p = raw + 3;
	r.end = raw + rawlen;
	if (get_varint(&r, &count) < 0 || get_varint(&r, &min) < 0 || get_varint(&r, &max) < 0 ||
	    get_varint(&r, &sum) < 0 || get_varint(&r, &nb) < 0) {
		fail(err, errsz, "histogram: truncated header");
		goto out;
	}
	if (nb > HIST_BUCKETS) {
		fail(err, errsz, "histogram: %llu buckets (at most %u)", (unsigned long long)nb, HIST_BUCKETS);
		goto out;
	}
	if (count == 0) {
		if (nb || min || max || sum) {
			fail(err, errsz, "histogram: empty but with values");
			goto out;
		}
	} else if (min > max) {
		fail(err, errsz, "histogram: min above max");
		goto out;
	}
	for (k = 0; k < nb; k++) {
		uint64_t gap, c;

		if (get_varint(&r, &gap) < 0 || get_varint(&r, &c) < 0) {
			fail(err, errsz, "histogram: truncated at bucket %llu", (unsigned long long)k);
			goto out;
		}
		if (gap >= HIST_BUCKETS || (k && idx + 1 + gap >= HIST_BUCKETS)) {
			fail(err, errsz, "histogram: bucket index out of range");
			goto out;
		}
		idx = k ? idx + 1 + gap : gap;
		if (c == 0 || c > count - total) {
			fail(err, errsz, "histogram: bucket counts do not add up to its count");
			goto out;
		}
		h->counts[idx] = c;
		total += c;
		if (k == 0)
			h->lo = (uint32_t)idx;
		h->hi = (uint32_t)idx;
	}
	if (r.p != r.end) {
		fail(err, errsz, "histogram: %zu bytes after its last bucket", (size_t)(r.end - r.p));
		goto out;
	}
	if (total != count) {
		fail(err, errsz, "histogram: bucket counts do not add up to its count");
		goto out;
	}
	if (count && (met_hist_index(min) != h->lo || met_hist_index(max) != h->hi)) {
		fail(err, errsz, "histogram: min or max outside its first or last bucket");
		goto out;
	}
	lo_sum = (unsigned __int128)min * count;
	hi_sum = (unsigned __int128)max * count;
	if (count && ((unsigned __int128)sum < lo_sum || (unsigned __int128)sum > hi_sum)) {
		fail(err, errsz, "histogram: sum outside count x [min, max]");
		goto out;
	}
	h->count = count;
	h->min = min;
	h->max = max;
	h->sum = sum;
	rc = 0;
out:
	if (rc < 0) {
		/* Leave an empty histogram, never a half-filled one. */
		uint32_t i;

		for (i = 0; i < HIST_BUCKETS; i++)
			h->counts[i] = 0;
		h->count = h->sum = h->min = h->max = 0;
		h->lo = h->hi = 0;
	}
	free(raw);
	return rc;
}
