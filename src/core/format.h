/* Human formatting of durations, byte counts and rates, k6-style. */
#ifndef STRAIN_CORE_FORMAT_H
#define STRAIN_CORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "0s", "812.5µs", "12.3ms", "1.52s", "1m2.5s" from nanoseconds. */
char *fmt_ns(double ns, char *out, size_t outsz);
/* "0 B", "512 B", "6.4 kB", "12 MB" (SI units, as k6 prints them). */
char *fmt_bytes(double bytes, char *out, size_t outsz);
/* "2026-11-29T09:41:02.114Z" (RFC 3339, UTC, milliseconds) from wall-clock
 * nanoseconds, as the summary writes its times. */
char *fmt_rfc3339(uint64_t wall_ns, char *out, size_t outsz);

#endif
