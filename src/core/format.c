#include "core/format.h"

#include <stdio.h>
#include <time.h>

char *fmt_ns(double ns, char *out, size_t outsz)
{
	if (ns <= 0)
		snprintf(out, outsz, "0s");
	else if (ns < 1e3)
		snprintf(out, outsz, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(out, outsz, "%.2fµs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(out, outsz, "%.2fms", ns / 1e6);
	else if (ns < 60e9)
		snprintf(out, outsz, "%.2fs", ns / 1e9);
	else
		snprintf(out, outsz, "%.0fm%.1fs", (double)(long long)(ns / 60e9), (ns - (double)(long long)(ns / 60e9) * 60e9) / 1e9);
	return out;
}

char *fmt_bytes(double b, char *out, size_t outsz)
{
	static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
	int u = 0;

	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(out, outsz, "%.0f B", b);
	else
		snprintf(out, outsz, "%.*f %s", b < 10 ? 1 : 0, b, units[u]);
	return out;
}

char *fmt_rfc3339(uint64_t wall_ns, char *out, size_t outsz)
{
	time_t t = (time_t)(wall_ns / 1000000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, outsz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsz - n, ".%03uZ", (unsigned)((wall_ns % 1000000000u) / 1000000u));
	return out;
}
