/* Strict parsers for numbers and durations given by users. They accept the
 * whole string or fail, so "10x" never silently becomes 10. */
#ifndef STRAIN_CORE_PARSE_H
#define STRAIN_CORE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a Go/k6-style duration: "1h30m", "10s", "250ms", "1.5s", "100us",
 * "20ns"; a bare number means seconds. Result in nanoseconds.
 * Returns 0, or -1 if s is not a duration or overflows. */
int parse_duration_ns(const char *s, uint64_t *out);
/* Days from 1970-01-01 to y-m-d (m 1-12) in the proleptic Gregorian
 * calendar, with no time zone consulted: RFC 3339 times, cookie dates. */
int64_t parse_days_from_civil(int64_t y, int m, int d);
/* An RFC 3339 time (2026-12-01T14:00:00Z, 2026-12-01T15:00:00.5+01:00; a
 * space or 't' for 'T', 'z' for 'Z') as Unix nanoseconds. 0, or -1. */
int parse_rfc3339_ns(const char *s, uint64_t *out);
/* Parses a decimal unsigned integer within [min, max]. Returns 0 or -1. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Same for a counted (not NUL-terminated) string. */
int parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max, uint64_t *out);
/* Value of a hexadecimal digit (either case), or -1. */
static inline int parse_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Formats a duration in ns the way k6 prints it ("1m30s", "250ms", "1.5s").
 * Returns out. */
char *fmt_duration(uint64_t ns, char *out, size_t outsz);

#endif
