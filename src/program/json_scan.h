/* The JSON text scanner shared by the path evaluator (jsonpath.c) and the
 * value text and comparisons (jsonpath_value.c): it reads JSON text in
 * place, never allocates and never recurses. Internal to src/program.
 * Positions are byte offsets into s[0..len), which need not be
 * NUL-terminated. */
#ifndef STRAIN_PROGRAM_JSON_SCAN_H
#define STRAIN_PROGRAM_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "program/jsonpath.h"

/* Yields a JSON string's decoded bytes one at a time, for comparisons that
 * must not allocate. Set up with json_cursor_init. */
typedef struct json_cursor {
	const char *s;
	size_t len, i;
	unsigned char u[4];
	int n, k;
} json_cursor;

/* A number as written, for exact comparison: digits ip[0..in) "." fp[0..fn)
 * times 10^exp. */
typedef struct json_decimal {
	int neg;
	const char *ip, *fp;
	size_t in, fn;
	int64_t exp;
} json_decimal;

/* 1 if c is a JSON blank (space, tab, LF, CR). */
int json_is_ws(int c);
/* The offset of the first non-blank at or after i (len if none). */
size_t json_skip_ws(const char *s, size_t len, size_t i);
/* Decodes the next character of a JSON string body at s[*i] into u as
 * UTF-8. Returns its byte count (1-4), 0 at the closing quote (*i moves past
 * it), or -1 if the string is malformed or cut off. A lone surrogate
 * decodes to U+FFFD. */
int json_str_next(const char *s, size_t len, size_t *i, unsigned char u[4]);
/* Starts c on the string body at s[i], the byte after the opening quote. */
void json_cursor_init(json_cursor *c, const char *s, size_t len, size_t i);
/* The next decoded byte, -1 at the closing quote, -2 if malformed. */
int json_cursor_byte(json_cursor *c);
/* Scans a JSON number at s[*pos] (*pos moves past it); fills d if not
 * NULL (pointing into s). Returns 0 or -1. */
int json_scan_number(const char *s, size_t len, size_t *pos, json_decimal *d);
/* At a member's opening quote: scans `"key" :` and the blanks after.
 * Returns 0 with *pos at the member's value, or -1. */
int json_scan_member_key(const char *s, size_t len, size_t *pos);
/* Skips and validates one value starting at s[*pos] (after blanks), which
 * sits inside `depth` containers. Sets *kind if not NULL. Returns 0 with
 * *pos just past the value, -1 invalid, or JSONPATH_ELIMIT nested deeper
 * than JSONPATH_MAX_DEPTH. */
int json_skip_value(const char *s, size_t len, size_t *pos, int depth, json_kind *kind);

#endif
