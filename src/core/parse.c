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
