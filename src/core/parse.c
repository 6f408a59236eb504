#include "core/parse.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"

int parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return parse_u64n(s, strlen(s), min, max, out);
}

static const struct {
	const char *name;
	double ns;
} units[] = {
	{"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6},
	{"s", 1e9},  {"m", 60e9}, {"h", 3600e9},
};

int parse_duration_ns(const char *s, uint64_t *out)
{
	double total = 0;
	int parts = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		const char *p = s;
		double num = 0, scale = 1;
		int digits = 0, frac = 0;
		size_t i, best = 0;
		double unit_ns = 0;

		while ((*p >= '0' && *p <= '9') || (*p == '.' && !frac)) {
			if (*p == '.') {
				frac = 1;
			} else {
				digits++;
				if (frac) {
					scale /= 10;
					num += (*p - '0') * scale;
				} else {
					num = num * 10 + (*p - '0');
				}
			}
			p++;
		}
		if (!digits)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].name);

			if (l > best && strncmp(p, units[i].name, l) == 0) {
				best = l;
				unit_ns = units[i].ns;
			}
		}
		if (!best) {
			/* A bare number is seconds, and only on its own. */
			if (*p || parts)
				return -1;
			unit_ns = 1e9;
		}
		total += num * unit_ns;
		s = p + best;
		parts++;
	}
	if (!isfinite(total) || total > 1e19)
		return -1;
	/* Not llround: its long long overflows past INT64_MAX ns (~292 years),
	 * which the 1e19 limit still admits; total is never negative. */
	*out = (uint64_t)(total + 0.5);
	return 0;
}

char *fmt_duration(uint64_t ns, char *out, size_t outsz)
{
	uint64_t h = ns / (3600 * NS_PER_SEC), rest = ns % (3600 * NS_PER_SEC);
	uint64_t m = rest / (60 * NS_PER_SEC);
	double s = (double)(rest % (60 * NS_PER_SEC)) / 1e9;

	if (ns < NS_PER_SEC && ns % NS_PER_MS == 0)
		snprintf(out, outsz, "%llums", (unsigned long long)(ns / NS_PER_MS));
	else if (ns < NS_PER_SEC)
		snprintf(out, outsz, "%.3gms", (double)ns / 1e6);
	else if (h)
		snprintf(out, outsz, "%lluh%llum%.4gs", (unsigned long long)h, (unsigned long long)m, s);
	else if (m)
		snprintf(out, outsz, "%llum%.4gs", (unsigned long long)m, s);
	else
		snprintf(out, outsz, "%.4gs", s);
	return out;
}

static int fixed_digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Howard Hinnant's days_from_civil. */
int64_t parse_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int parse_rfc3339_ns(const char *s, uint64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0, scale = NS_PER_SEC;
	int64_t t;
	const char *p;

	if (strlen(s) < 20 || fixed_digits(s, 4, &y) < 0 || s[4] != '-' || fixed_digits(s + 5, 2, &mo) < 0 ||
	    s[7] != '-' || fixed_digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    fixed_digits(s + 11, 2, &h) < 0 || s[13] != ':' || fixed_digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    fixed_digits(s + 17, 2, &sec) < 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (fixed_digits(p + 1, 2, &oh) < 0 || p[3] != ':' || fixed_digits(p + 4, 2, &om) < 0 || oh > 23 ||
		    om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	t = parse_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*out = (uint64_t)t * NS_PER_SEC + frac;
	return 0;
}
