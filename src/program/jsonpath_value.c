/* A found JSON value as text, and its comparison with an expected literal,
 * without allocating. */
#include "program/jsonpath.h"

#include <string.h>

#include "program/json_scan.h"

ssize_t jsonpath_text(json_kind kind, const char *raw, size_t raw_len, char *out, size_t outsz)
{
	unsigned char u[4];
	size_t n = 0, i = 1;
	int k, j;

	if (kind != JK_STRING) {
		if (outsz) {
			n = raw_len < outsz - 1 ? raw_len : outsz - 1;
			if (n)
				memcpy(out, raw, n);
			out[n] = '\0';
		}
		return (ssize_t)raw_len;
	}
	if (!raw || raw_len < 2 || raw[0] != '"')
		return -1;
	for (;;) {
		k = json_str_next(raw, raw_len, &i, u);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		for (j = 0; j < k; j++, n++)
			if (n + 1 < outsz)
				out[n] = (char)u[j];
	}
	if (i != raw_len)
		return -1;
	if (outsz)
		out[n < outsz - 1 ? n : outsz - 1] = '\0';
	return (ssize_t)n;
}

/* Finds the one value in s[0..len), blanks around it allowed. */
static int value_span(const char *s, size_t len, json_kind *kind, size_t *start, size_t *end)
{
	size_t i = json_skip_ws(s, len, 0);

	*start = i;
	if (json_skip_value(s, len, &i, 0, kind) < 0)
		return -1;
	*end = i;
	return json_skip_ws(s, len, i) == len ? 0 : -1;
}

static char decimal_digit(const json_decimal *d, size_t k)
{
	return k < d->in ? d->ip[k] : d->fp[k - d->in];
}

/* Reduces d to significant digits [*first, *last] times 10^*exp. Returns 0
 * if the number is zero (any sign, any spelling). */
static int decimal_norm(const json_decimal *d, size_t *first, size_t *last, int64_t *exp)
{
	size_t total = d->in + d->fn, f = 0, l = total;

	while (f < total && decimal_digit(d, f) == '0')
		f++;
	if (f == total)
		return 0;
	while (decimal_digit(d, l - 1) == '0')
		l--;
	*first = f;
	*last = l - 1;
	*exp = d->exp - (int64_t)d->fn + (int64_t)(total - l);
	return 1;
}

static int numbers_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	json_decimal x, y;
	size_t i = 0, j = 0, xf = 0, xl = 0, yf = 0, yl = 0, k;
	int64_t xe = 0, ye = 0;
	int xnz, ynz;

	if (json_scan_number(a, alen, &i, &x) < 0 || json_scan_number(b, blen, &j, &y) < 0)
		return 0;
	xnz = decimal_norm(&x, &xf, &xl, &xe);
	ynz = decimal_norm(&y, &yf, &yl, &ye);
	if (!xnz || !ynz)
		return xnz == ynz;
	if (x.neg != y.neg || xe != ye || xl - xf != yl - yf)
		return 0;
	for (k = 0; k <= xl - xf; k++)
		if (decimal_digit(&x, xf + k) != decimal_digit(&y, yf + k))
			return 0;
	return 1;
}

static int strings_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	json_cursor x, y;
	int cx, cy;

	json_cursor_init(&x, a, alen, 1);
	json_cursor_init(&y, b, blen, 1);
	do {
		cx = json_cursor_byte(&x);
		cy = json_cursor_byte(&y);
		if (cx != cy || cx == -2)
			return 0;
	} while (cx >= 0);
	return 1;
}

/* Next byte of a validated JSON text that is not a blank outside strings;
 * -1 at the end. */
static int significant_byte(const char *s, size_t len, size_t *i, int *in_str, int *esc)
{
	int c;

	while (*i < len) {
		c = (unsigned char)s[(*i)++];
		if (*in_str) {
			if (*esc)
				*esc = 0;
			else if (c == '\\')
				*esc = 1;
			else if (c == '"')
				*in_str = 0;
			return c;
		}
		if (json_is_ws(c))
			continue;
		if (c == '"')
			*in_str = 1;
		return c;
	}
	return -1;
}

static int texts_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	int sa = 0, ea = 0, sb = 0, eb = 0, ca, cb;

	do {
		ca = significant_byte(a, alen, &i, &sa, &ea);
		cb = significant_byte(b, blen, &j, &sb, &eb);
		if (ca != cb)
			return 0;
	} while (ca >= 0);
	return 1;
}

int jsonpath_equals(json_kind kind, const char *raw, size_t raw_len, const char *expected, size_t expected_len)
{
	json_kind rk, ek;
	size_t rs, re, es, ee;

	if (kind == JK_NONE || !raw || !expected)
		return 0;
	if (value_span(raw, raw_len, &rk, &rs, &re) < 0 || rk != kind)
		return 0;
	if (value_span(expected, expected_len, &ek, &es, &ee) < 0 || ek != kind)
		return 0;
	raw += rs;
	raw_len = re - rs;
	expected += es;
	expected_len = ee - es;
	switch (kind) {
	case JK_NUMBER:
		return numbers_equal(raw, raw_len, expected, expected_len);
	case JK_STRING:
		return strings_equal(raw, raw_len, expected, expected_len);
	default:
		return texts_equal(raw, raw_len, expected, expected_len);
	}
}
