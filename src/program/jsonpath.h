/* A small JSON path evaluator for extracting values from response bodies and
 * checking them. Paths are compiled once when a plan is loaded; evaluation
 * walks the response text in place, in one pass, without allocating or
 * recursing, so it is safe on the hot path and on hostile input.
 *
 * The path language is a documented subset of JSONPath:
 *   $                 the whole document
 *   .key              member; key chars: letters, digits, _ - $ and bytes >= 0x80
 *   ['key'] ["key"]   member with any key chars; \' \" \\ \/ are the escapes
 *   [N]  [-N]         array element N (from 0), or N-th from the end (-1: last)
 * chained: $.data.items[0].id, $['a b'][2], $.list[-1]. Blanks are allowed
 * inside brackets. No wildcards, filters, slices or recursive descent. */
#ifndef STRAIN_PROGRAM_JSONPATH_H
#define STRAIN_PROGRAM_JSONPATH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JSONPATH_MAX_STEPS 32
/* Containers nested deeper than this cannot be walked: JSONPATH_ELIMIT, an
 * engine limit, not a verdict on the document. */
#define JSONPATH_MAX_DEPTH 256
#define JSONPATH_ELIMIT (-2)

typedef struct jsonpath_step {
	int is_index;
	int64_t index;   /* is_index: >= 0 from the start, < 0 from the end */
	const char *key; /* !is_index: unescaped key in jsonpath.keys, not NUL-terminated */
	size_t key_len;
} jsonpath_step;

typedef struct jsonpath {
	jsonpath_step steps[JSONPATH_MAX_STEPS];
	int nsteps;
	char *keys; /* owned storage for unescaped keys */
} jsonpath;

/* Compiles the NUL-terminated path src into *out. Returns 0, or -1 with a
 * message in err (if err and errsz) and the 0-based byte offset of the
 * problem in *err_pos (if err_pos); *out is then zeroed. The only function
 * here that allocates; free with jsonpath_free. */
int jsonpath_compile(const char *src, jsonpath *out, char *err, size_t errsz, size_t *err_pos);
/* Frees a compiled path and zeroes it; p may be zeroed or already freed. */
void jsonpath_free(jsonpath *p);

typedef enum { JK_NONE, JK_NULL, JK_BOOL, JK_NUMBER, JK_STRING, JK_OBJECT, JK_ARRAY } json_kind;

/* Finds the value at p in the JSON text json[0..len) (need not be
 * NUL-terminated). Returns
 *    1  found: *kind and the raw value slice (*raw, *raw_len) pointing into
 *       json (strings include their quotes and escapes, e.g. "\"a\\nb\"");
 *    0  the path does not exist (a missing key, an index out of range, or a
 *       step that meets a value of the wrong kind);
 *   -1  the text is not valid JSON on the way to the value;
 *   JSONPATH_ELIMIT (-2)  it is nested deeper than JSONPATH_MAX_DEPTH on the
 *       way to (or inside) the value: no answer either way.
 * Everything read before the value, and the value itself, is validated;
 * so is the one delimiter after a value found inside a container, so a
 * truncated document never yields a cut-off value. What follows is not
 * examined: trailing garbage is accepted. Duplicate keys: the first wins.
 * Never allocates; O(len). The out-parameters are set only when found. */
int jsonpath_eval(const jsonpath *p, const char *json, size_t len, json_kind *kind, const char **raw, size_t *raw_len);

/* Writes a value as text for templates and comparisons: strings unescaped
 * (\uXXXX and surrogate pairs become UTF-8; a lone surrogate becomes
 * U+FFFD), other kinds as their raw JSON text. Writes at most outsz-1 bytes
 * and a NUL into out (nothing if outsz is 0; out may then be NULL). Returns
 * the full length needed, excluding the NUL (like snprintf), or -1 if a
 * string is not a well-formed JSON string (bad escape, control character,
 * missing quotes). */
ssize_t jsonpath_text(json_kind kind, const char *raw, size_t raw_len, char *out, size_t outsz);

/* Compares a found value to an expected JSON literal given as text (e.g.
 * from a plan: `1`, `"x"`, `true`, `null`, `2.50`; surrounding blanks are
 * ignored). Values of different kinds never match (1 vs "1"). Numbers
 * compare by exact decimal value (1 == 1.0 == 1e0, no rounding through
 * double); strings after unescaping; objects and arrays by their text with
 * insignificant whitespace removed (member order, number spelling and
 * escapes inside them matter). Returns 1 equal, 0 not equal or either side
 * is not a valid JSON value. Never allocates. */
int jsonpath_equals(json_kind kind, const char *raw, size_t raw_len, const char *expected, size_t expected_len);

#endif
