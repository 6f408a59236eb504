#include "output/lineproto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CTX_MEASUREMENT, CTX_KEY, CTX_STRING };

static int is_special(int ctx, char c)
{
	switch (ctx) {
	case CTX_MEASUREMENT:
		return c == ',' || c == ' ';
	case CTX_KEY:
		return c == ',' || c == ' ' || c == '=';
	default:
		return c == '"' || c == '\\';
	}
}

/* Escapes s into b. Runs of ordinary bytes are copied with one append, so
 * the usual text (no special bytes at all) costs a scan and a memcpy. */
static int escape_append(buf *b, const char *s, int ctx)
{
	const char *run = s;
	const char *p;

	for (p = s; *p; p++) {
		char c = *p;
		const char *rep = NULL;
		char two[2] = {'\\', c};

		if (c == '\n' || c == '\r' || c == '\t')
			rep = ctx == CTX_STRING ? " " : "\\ ";
		else if (is_special(ctx, c))
			rep = two;
		else if (c == '\\' && ctx != CTX_STRING && (!p[1] || p[1] == '\\' || is_special(ctx, p[1])))
			rep = two; /* "\\": a lone backslash here would escape what follows */
		if (!rep)
			continue;
		if (buf_append(b, run, (size_t)(p - run)) < 0 ||
		    buf_append(b, rep, rep == two ? 2 : strlen(rep)) < 0)
			return -1;
		run = p + 1;
	}
	return buf_append(b, run, (size_t)(p - run));
}

int lp_measurement_append(buf *b, const char *name)
{
	return escape_append(b, name, CTX_MEASUREMENT);
}

int lp_tag_append(buf *b, const char *key, const char *value)
{
	if (!value || !*value)
		return 0;
	if (buf_append(b, ",", 1) < 0 || escape_append(b, key, CTX_KEY) < 0 || buf_append(b, "=", 1) < 0)
		return -1;
	return escape_append(b, value, CTX_KEY);
}

static int field_key(buf *b, const char *key, int first)
{
	if (buf_append(b, first ? " " : ",", 1) < 0 || escape_append(b, key, CTX_KEY) < 0)
		return -1;
	return buf_append(b, "=", 1);
}

int lp_field_float_append(buf *b, const char *key, double v, int first)
{
	char num[LP_NUM_MAX];

	if (field_key(b, key, first) < 0)
		return -1;
	return buf_append(b, num, lp_num_format(num, v));
}

int lp_field_int_append(buf *b, const char *key, int64_t v, int first)
{
	char num[LP_NUM_MAX];
	size_t n;

	if (field_key(b, key, first) < 0)
		return -1;
	if (v < 0) {
		num[0] = '-';
		n = 1 + lp_u64_format(num + 1, (uint64_t)0 - (uint64_t)v);
	} else {
		n = lp_u64_format(num, (uint64_t)v);
	}
	num[n++] = 'i';
	return buf_append(b, num, n);
}

int lp_field_string_append(buf *b, const char *key, const char *value, int first)
{
	if (field_key(b, key, first) < 0 || buf_append(b, "\"", 1) < 0 || escape_append(b, value, CTX_STRING) < 0)
		return -1;
	return buf_append(b, "\"", 1);
}

int lp_time_append(buf *b, uint64_t ns)
{
	char num[LP_NUM_MAX + 2];
	size_t n;

	num[0] = ' ';
	n = 1 + lp_u64_format(num + 1, ns);
	num[n++] = '\n';
	return buf_append(b, num, n);
}

size_t lp_u64_format(char *out, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

size_t lp_num_format(char *out, double v)
{
	int n;

	if (!isfinite(v))
		v = 0;
	/* Counts, bytes, 0/1 rates and VU numbers are whole: print them
	 * without printf, which is most of the cost of a point. */
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		if (v < 0) {
			out[0] = '-';
			return 1 + lp_u64_format(out + 1, (uint64_t)-v);
		}
		return lp_u64_format(out, (uint64_t)v);
	}
	n = snprintf(out, LP_NUM_MAX, "%.15g", v);
	if (strtod(out, NULL) != v)
		n = snprintf(out, LP_NUM_MAX, "%.17g", v);
	return (size_t)n;
}

size_t lp_ms_format(char *out, uint64_t ns, int fixed6)
{
	size_t n = lp_u64_format(out, ns / 1000000);
	uint64_t frac = ns % 1000000;
	int digits = 6, i;

	if (!frac && !fixed6)
		return n;
	if (!fixed6)
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
	out[n++] = '.';
	for (i = digits - 1; i >= 0; i--) {
		out[n + (size_t)i] = (char)('0' + frac % 10);
		frac /= 10;
	}
	n += (size_t)digits;
	out[n] = '\0';
	return n;
}
