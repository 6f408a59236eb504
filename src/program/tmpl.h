/* Templates: text with {{...}} expressions, compiled once when a plan is
 * loaded and expanded per request into a reused buffer without allocating.
 *
 *   {{vu}} {{iter}} {{module}}          the VU's id (from 1), its iteration
 *                                       (from 0, like k6's __ITER), the module
 *   {{rand_int A B}}                    uniform integer in [A, B]
 *   {{rand_choice a b c}}               one of the words
 *   {{uuid}} {{now_ms}}                 random v4 UUID, wall clock in ms
 *   {{env.NAME}}                        resolved at load time (literal)
 *   {{data.ALIAS.COLUMN}}               the VU's current row of a CSV file
 *   {{NAME}}                            a VU variable (extracted earlier)
 *
 * Every part, literal or expanded, is escaped for where it lands (tmpl_esc):
 * literal text once at compile time, expanded values per request. */
#ifndef STRAIN_PROGRAM_TMPL_H
#define STRAIN_PROGRAM_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Where a template's text lands, and so how it is escaped:
 *   TESC_NONE    a raw body: as it is;
 *   TESC_URL     a form or `query:` name or value: percent-encoded, all but
 *                RFC 3986's unreserved bytes, literal text too;
 *   TESC_PATH    the path of a URL as written: literal text normalised
 *                (controls, space, non-ASCII percent-encoded), expanded
 *                values encoded but for '/' and the sub-delimiters;
 *   TESC_QUERY   the query of a URL as written: literal text normalised,
 *                expanded values encoded as TESC_URL;
 *   TESC_JSON    inside a JSON string: quote, backslash, controls escaped;
 *   TESC_HEADER  a header value: literal text must be one line (a compile
 *                error otherwise); an expanded value holding CR, LF, NUL
 *                or another control byte fails the request (TMPL_EVALUE). */
typedef enum { TESC_NONE, TESC_URL, TESC_PATH, TESC_QUERY, TESC_JSON, TESC_HEADER } tmpl_esc;

/* tmpl_expand's failures. */
enum {
	TMPL_ETOOBIG = -1, /* out's maximum was reached */
	TMPL_EVALUE = -2,  /* a value cannot be sent where it lands (CR/LF in a header) */
};

typedef enum {
	TP_LIT,
	TP_VU,
	TP_ITER,
	TP_MODULE,
	TP_RAND_INT,
	TP_RAND_CHOICE,
	TP_UUID,
	TP_NOW_MS,
	TP_VAR,
	TP_DATA
} tmpl_kind;

typedef struct tmpl_part {
	tmpl_kind kind;
	tmpl_esc esc;
	uint32_t off, len;   /* TP_LIT: bytes in text; TP_RAND_CHOICE: words in text */
	int64_t a, b;        /* rand_int bounds; TP_RAND_CHOICE: first word index, count */
	uint32_t idx, col;   /* TP_VAR: slot; TP_DATA: alias, column */
} tmpl_part;

typedef struct tmpl {
	char *text;          /* literal bytes and choice words */
	size_t text_len, text_cap;
	tmpl_part *parts;
	uint32_t nparts, parts_cap;
	uint32_t *words;     /* rand_choice word offsets/lengths, pairs */
	uint32_t nwords, words_cap;
	int dynamic;         /* has any non-literal part */
} tmpl;

/* Resolves names while compiling. Each returns 0 and fills the out values,
 * or -1 if the name is unknown (the compiler reports it). */
typedef struct tmpl_names {
	void *ctx;
	int (*env)(void *ctx, const char *name, const char **value);
	int (*var)(void *ctx, const char *name, uint32_t *slot);
	int (*data)(void *ctx, const char *alias, const char *column, uint32_t *alias_idx, uint32_t *col_idx);
} tmpl_names;

void tmpl_init(tmpl *t);
void tmpl_free(tmpl *t);
/* Appends literal bytes. */
void tmpl_lit(tmpl *t, const char *s, size_t n);
/* Compiles src and appends it. Returns 0, or -1 with a message in err and
 * the byte offset of the bad expression in *err_off. */
int tmpl_add(tmpl *t, const char *src, tmpl_esc esc, const tmpl_names *names, char *err, size_t errsz,
	     size_t *err_off);
/* A single expression that yields a number ({{vu}}, {{rand_int}}...)? */
int tmpl_is_numeric(const tmpl *t);
/* The literal text when the template has no dynamic part. */
static inline int tmpl_static(const tmpl *t) { return !t->dynamic; }

/* What an expansion reads. */
typedef struct tmpl_ctx {
	uint32_t vu;
	uint64_t iter;
	const char *module;
	uint64_t *rng;            /* xorshift state, advanced */
	const buf *vars;          /* by slot */
	const char *const *const *data_rows; /* [alias] -> current row's cells */
} tmpl_ctx;

/* Appends the expansion to out. Returns 0, TMPL_ETOOBIG or TMPL_EVALUE. */
int tmpl_expand(const tmpl *t, const tmpl_ctx *c, buf *out);

static inline uint64_t tmpl_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

#endif
