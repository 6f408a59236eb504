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
 * Dynamic parts are escaped for where they land: raw, in a URL query, or
 * inside a JSON string. */
#ifndef STRAIN_ENGINE_TMPL_H
#define STRAIN_ENGINE_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum { TESC_NONE, TESC_URL, TESC_JSON } tmpl_esc;

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

/* Appends the expansion to out. Returns 0, or -1 if out's maximum was hit. */
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
