#include "program/tmpl.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "http/request.h"
#include "http/url.h"

void tmpl_init(tmpl *t)
{
	memset(t, 0, sizeof(*t));
}

void tmpl_free(tmpl *t)
{
	free(t->text);
	free(t->parts);
	free(t->words);
	memset(t, 0, sizeof(*t));
}

static void text_add(tmpl *t, const char *s, size_t n)
{
	if (t->text_len + n + 1 > t->text_cap) {
		t->text_cap = (t->text_len + n + 1) * 2;
		t->text = xrealloc(t->text, t->text_cap);
	}
	memcpy(t->text + t->text_len, s, n);
	t->text_len += n;
	t->text[t->text_len] = '\0';
}

static tmpl_part *part_add(tmpl *t, tmpl_kind kind, tmpl_esc esc)
{
	tmpl_part *p;

	if (t->nparts == t->parts_cap) {
		t->parts_cap = t->parts_cap ? t->parts_cap * 2 : 8;
		t->parts = xrealloc(t->parts, t->parts_cap * sizeof(*t->parts));
	}
	p = &t->parts[t->nparts++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->esc = esc;
	if (kind != TP_LIT)
		t->dynamic = 1;
	return p;
}

void tmpl_lit(tmpl *t, const char *s, size_t n)
{
	tmpl_part *last = t->nparts ? &t->parts[t->nparts - 1] : NULL;

	if (!n)
		return;
	if (last && last->kind == TP_LIT && last->off + last->len == t->text_len) {
		text_add(t, s, n);
		last->len += (uint32_t)n;
		return;
	}
	last = part_add(t, TP_LIT, TESC_NONE);
	last->off = (uint32_t)t->text_len;
	last->len = (uint32_t)n;
	text_add(t, s, n);
}

/* JSON string contents: quote, backslash and controls escaped; UTF-8 is
 * left as it is (valid JSON). */
static int put_json(buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];
		size_t en = 0;

		if (c == '"' || c == '\\') {
			e[en++] = '\\';
			e[en++] = (char)c;
		} else if (c < 0x20) {
			e[en++] = '\\';
			e[en++] = 'u';
			e[en++] = '0';
			e[en++] = '0';
			e[en++] = hex[c >> 4];
			e[en++] = hex[c & 15];
		} else {
			continue;
		}
		if (buf_append(out, s + start, i - start) < 0 || buf_append(out, e, en) < 0)
			return TMPL_ETOOBIG;
		start = i + 1;
	}
	return buf_append(out, s + start, n - start) < 0 ? TMPL_ETOOBIG : 0;
}

/* An expanded value, escaped for where it lands. A value that would be
 * framing in a header (CR, LF, NUL) is refused rather than cleaned: the
 * request is not what the plan meant. */
static int put(buf *out, const char *s, size_t n, tmpl_esc esc)
{
	switch (esc) {
	case TESC_URL:
	case TESC_QUERY:
		return http_url_escape(out, s, n, URL_ESC_COMPONENT) < 0 ? TMPL_ETOOBIG : 0;
	case TESC_PATH:
		return http_url_escape(out, s, n, URL_ESC_PATH) < 0 ? TMPL_ETOOBIG : 0;
	case TESC_JSON:
		return put_json(out, s, n);
	case TESC_HEADER:
		if (!http_field_value_ok(s, n))
			return TMPL_EVALUE;
		break;
	case TESC_NONE:
		break;
	}
	return buf_append(out, s, n) < 0 ? TMPL_ETOOBIG : 0;
}

/* Literal text of a template, escaped once at compile time for where it
 * lands: form and query names and values and JSON strings are encoded like
 * expanded values; a path or inline query as written is only normalised
 * (what a URL never carries raw is percent-encoded). */
static int lit_add(tmpl *t, const char *s, size_t n, tmpl_esc esc, char *err, size_t errsz)
{
	buf b;
	int rc = 0;

	if (esc == TESC_NONE || !n) {
		tmpl_lit(t, s, n);
		return 0;
	}
	if (esc == TESC_HEADER) {
		if (!http_field_value_ok(s, n)) {
			snprintf(err, errsz, "a header value cannot hold a line break or control character");
			return -1;
		}
		tmpl_lit(t, s, n);
		return 0;
	}
	buf_init(&b, n * 3 + 16, SIZE_MAX / 2);
	if (esc == TESC_PATH || esc == TESC_QUERY)
		rc = http_url_escape(&b, s, n, URL_ESC_NORMALISE);
	else
		rc = put(&b, s, n, esc);
	if (rc == 0)
		tmpl_lit(t, b.data, b.len);
	buf_free(&b);
	return 0;
}

/* Splits an expression into at most 16 whitespace-separated words. */
static int split_words(char *s, char **w, int max)
{
	int n = 0;

	while (*s) {
		while (isspace((unsigned char)*s))
			*s++ = '\0';
		if (!*s)
			break;
		if (n == max)
			return -1;
		w[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
	}
	return n;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

static int compile_expr(tmpl *t, char *expr, tmpl_esc esc, const tmpl_names *names, char *err, size_t errsz)
{
	char *w[16];
	int n = split_words(expr, w, 16);
	tmpl_part *p;

	if (n <= 0) {
		snprintf(err, errsz, n < 0 ? "too many words in {{...}}" : "empty {{}}");
		return -1;
	}
	if (strcmp(w[0], "vu") == 0 || strcmp(w[0], "iter") == 0 || strcmp(w[0], "module") == 0 ||
	    strcmp(w[0], "uuid") == 0 || strcmp(w[0], "now_ms") == 0) {
		if (n != 1) {
			snprintf(err, errsz, "{{%s}} takes no arguments", w[0]);
			return -1;
		}
		part_add(t, w[0][0] == 'v' ? TP_VU : w[0][0] == 'i' ? TP_ITER : w[0][0] == 'm' ? TP_MODULE
						  : w[0][0] == 'u' ? TP_UUID : TP_NOW_MS, esc);
		return 0;
	}
	if (strcmp(w[0], "rand_int") == 0) {
		int64_t a, b;

		if (n != 3 || parse_i64(w[1], &a) < 0 || parse_i64(w[2], &b) < 0 || b < a) {
			snprintf(err, errsz, "expected {{rand_int MIN MAX}} with whole numbers, MIN <= MAX");
			return -1;
		}
		p = part_add(t, TP_RAND_INT, esc);
		p->a = a;
		p->b = b;
		return 0;
	}
	if (strcmp(w[0], "rand_choice") == 0) {
		int i;

		if (n < 2) {
			snprintf(err, errsz, "expected {{rand_choice A B ...}} with at least one word");
			return -1;
		}
		p = part_add(t, TP_RAND_CHOICE, esc);
		p->a = t->nwords;
		p->b = n - 1;
		for (i = 1; i < n; i++) {
			if (t->nwords + 2 > t->words_cap) {
				t->words_cap = t->words_cap ? t->words_cap * 2 : 16;
				t->words = xrealloc(t->words, t->words_cap * sizeof(*t->words));
			}
			t->words[t->nwords++] = (uint32_t)t->text_len;
			t->words[t->nwords++] = (uint32_t)strlen(w[i]);
			text_add(t, w[i], strlen(w[i]));
		}
		p->a /= 2;
		return 0;
	}
	if (n != 1) {
		snprintf(err, errsz, "unknown function '%s' (vu, iter, module, rand_int, rand_choice, uuid, now_ms)", w[0]);
		return -1;
	}
	if (strncmp(w[0], "env.", 4) == 0) {
		const char *v;

		if (!w[0][4]) {
			snprintf(err, errsz, "expected {{env.NAME}}, with a name");
			return -1;
		}
		if (!names->env || names->env(names->ctx, w[0] + 4, &v) < 0) {
			snprintf(err, errsz, "environment variable %s is not set (set it, or pass -e %s=VALUE)", w[0] + 4,
				 w[0] + 4);
			return -1;
		}
		/* Known now: escaped once, as any expanded value, and kept as a
		 * literal so a request using only the environment stays static. */
		{
			buf b;
			int rc;

			buf_init(&b, strlen(v) * 3 + 16, SIZE_MAX / 2);
			rc = put(&b, v, strlen(v), esc);
			if (rc == 0)
				tmpl_lit(t, b.data, b.len);
			buf_free(&b);
			if (rc == TMPL_EVALUE) {
				snprintf(err, errsz, "environment variable %s holds a line break or control character, "
						     "which a header cannot carry", w[0] + 4);
				return -1;
			}
		}
		return 0;
	}
	if (strncmp(w[0], "data.", 5) == 0) {
		char *alias = w[0] + 5, *col = strchr(alias, '.');
		uint32_t ai, ci;

		if (!col) {
			snprintf(err, errsz, "expected {{data.ALIAS.COLUMN}}");
			return -1;
		}
		*col++ = '\0';
		if (!names->data || names->data(names->ctx, alias, col, &ai, &ci) < 0) {
			snprintf(err, errsz, "no data column '%s' in data '%s' (see the plan's data section)", col, alias);
			return -1;
		}
		p = part_add(t, TP_DATA, esc);
		p->idx = ai;
		p->col = ci;
		return 0;
	}
	{
		uint32_t slot;

		if (!names->var || names->var(names->ctx, w[0], &slot) < 0) {
			snprintf(err, errsz, "unknown variable '%s': no step of this module extracts it", w[0]);
			return -1;
		}
		p = part_add(t, TP_VAR, esc);
		p->idx = slot;
	}
	return 0;
}

int tmpl_add(tmpl *t, const char *src, tmpl_esc esc, const tmpl_names *names, char *err, size_t errsz,
	     size_t *err_off)
{
	const char *p = src;

	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		char expr[512];
		size_t n;

		if (!open) {
			if (lit_add(t, p, strlen(p), esc, err, errsz) < 0) {
				*err_off = (size_t)(p - src);
				return -1;
			}
			break;
		}
		if (lit_add(t, p, (size_t)(open - p), esc, err, errsz) < 0) {
			*err_off = (size_t)(p - src);
			return -1;
		}
		close = strstr(open + 2, "}}");
		if (!close) {
			snprintf(err, errsz, "'{{' without a closing '}}'");
			*err_off = (size_t)(open - src);
			return -1;
		}
		n = (size_t)(close - open - 2);
		if (n >= sizeof(expr)) {
			snprintf(err, errsz, "expression too long");
			*err_off = (size_t)(open - src);
			return -1;
		}
		memcpy(expr, open + 2, n);
		expr[n] = '\0';
		if (compile_expr(t, expr, esc, names, err, errsz) < 0) {
			*err_off = (size_t)(open - src);
			return -1;
		}
		p = close + 2;
	}
	return 0;
}

int tmpl_is_numeric(const tmpl *t)
{
	return t->nparts == 1 && (t->parts[0].kind == TP_VU || t->parts[0].kind == TP_ITER ||
				  t->parts[0].kind == TP_RAND_INT || t->parts[0].kind == TP_NOW_MS);
}

int tmpl_expand(const tmpl *t, const tmpl_ctx *c, buf *out)
{
	uint32_t i;

	for (i = 0; i < t->nparts; i++) {
		const tmpl_part *p = &t->parts[i];
		char num[48];
		int n = 0, rc = 0;

		switch (p->kind) {
		case TP_LIT:
			rc = buf_append(out, t->text + p->off, p->len) < 0 ? TMPL_ETOOBIG : 0;
			break;
		case TP_VU:
			n = snprintf(num, sizeof(num), "%u", c->vu);
			break;
		case TP_ITER:
			n = snprintf(num, sizeof(num), "%llu", (unsigned long long)c->iter);
			break;
		case TP_MODULE:
			rc = put(out, c->module, strlen(c->module), p->esc);
			break;
		case TP_RAND_INT: {
			/* Unsigned arithmetic: the span of [INT64_MIN, INT64_MAX] is 2^64,
			 * which wraps to 0 and means "any 64-bit value". */
			uint64_t span = (uint64_t)p->b - (uint64_t)p->a + 1, r = tmpl_rand(c->rng);

			n = snprintf(num, sizeof(num), "%lld", (long long)(int64_t)((uint64_t)p->a + (span ? r % span : r)));
			break;
		}
		case TP_RAND_CHOICE: {
			uint32_t k = (uint32_t)(p->a + (int64_t)(tmpl_rand(c->rng) % (uint64_t)p->b));

			rc = put(out, t->text + t->words[2 * k], t->words[2 * k + 1], p->esc);
			break;
		}
		case TP_UUID: {
			uint64_t h = tmpl_rand(c->rng), l = tmpl_rand(c->rng);

			h = (h & ~UINT64_C(0xF000)) | UINT64_C(0x4000);
			l = (l & ~(UINT64_C(3) << 62)) | (UINT64_C(2) << 62);
			n = snprintf(num, sizeof(num), "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h >> 32),
				     (unsigned)((h >> 16) & 0xFFFF), (unsigned)(h & 0xFFFF), (unsigned)(l >> 48),
				     (unsigned long long)(l & UINT64_C(0xFFFFFFFFFFFF)));
			break;
		}
		case TP_NOW_MS:
			n = snprintf(num, sizeof(num), "%llu", (unsigned long long)(clock_wall_ns() / NS_PER_MS));
			break;
		case TP_VAR:
			rc = put(out, c->vars[p->idx].data ? c->vars[p->idx].data : "", c->vars[p->idx].len, p->esc);
			break;
		case TP_DATA: {
			const char *cell = c->data_rows && c->data_rows[p->idx] ? c->data_rows[p->idx][p->col] : "";

			rc = put(out, cell, strlen(cell), p->esc);
			break;
		}
		}
		if (n > 0)
			rc = buf_append(out, num, (size_t)n) < 0 ? TMPL_ETOOBIG : 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}
