#include "program/jsonpath.h"

#include "core/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Elements from the end that find_index remembers while counting an array,
 * so [-1] .. [-8] cost one pass; farther ones walk the array a second time. */
#define TAIL_RING 8
/* Exponents are saturated here; numbers beyond 10^(10^17) are not told apart. */
#define EXP_LIMIT 100000000000000000LL

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && is_ws((unsigned char)s[i]))
		i++;
	return i;
}


/* Reads the 4 hex digits of a \u escape at s[i]. Returns the code unit or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
	long v = 0;
	size_t k;
	int h;

	if (i > len || len - i < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		h = parse_hex_digit((unsigned char)s[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static int utf8_put(unsigned long cp, unsigned char u[4])
{
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes the next character of a JSON string body at s[*i] into u as
 * UTF-8. Returns its byte count (1-4), 0 at the closing quote (*i moves past
 * it), or -1 if the string is malformed or cut off. A lone surrogate is
 * valid JSON but not a character: it decodes to U+FFFD, as Go does, so a
 * value that eval accepted always has a text. Raw bytes are not checked for
 * UTF-8 validity: they pass through. */
static int str_next(const char *s, size_t len, size_t *i, unsigned char u[4])
{
	size_t j = *i;
	unsigned char c;
	long cp, lo;

	if (j >= len)
		return -1;
	c = (unsigned char)s[j];
	if (c == '"') {
		*i = j + 1;
		return 0;
	}
	if (c < 0x20)
		return -1;
	if (c != '\\') {
		u[0] = c;
		*i = j + 1;
		return 1;
	}
	if (j + 1 >= len)
		return -1;
	*i = j + 2;
	switch (s[j + 1]) {
	case '"':
	case '\\':
	case '/':
		u[0] = (unsigned char)s[j + 1];
		return 1;
	case 'b':
		u[0] = '\b';
		return 1;
	case 'f':
		u[0] = '\f';
		return 1;
	case 'n':
		u[0] = '\n';
		return 1;
	case 'r':
		u[0] = '\r';
		return 1;
	case 't':
		u[0] = '\t';
		return 1;
	case 'u':
		break;
	default:
		return -1;
	}
	cp = hex4(s, len, j + 2);
	if (cp < 0)
		return -1;
	*i = j + 6;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		cp = 0xfffd;
	} else if (cp >= 0xd800 && cp <= 0xdbff) {
		lo = -1;
		if (len - *i >= 6 && s[*i] == '\\' && s[*i + 1] == 'u')
			lo = hex4(s, len, *i + 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			*i += 6;
		} else {
			/* The following escape, if any, is decoded on its own next time. */
			cp = 0xfffd;
		}
	}
	return utf8_put((unsigned long)cp, u);
}

/* Yields a JSON string's decoded bytes one at a time, for comparisons that
 * must not allocate. */
typedef struct str_cursor {
	const char *s;
	size_t len, i;
	unsigned char u[4];
	int n, k;
} str_cursor;

/* s[i] is the byte after the opening quote. */
static void cursor_init(str_cursor *c, const char *s, size_t len, size_t i)
{
	c->s = s;
	c->len = len;
	c->i = i;
	c->n = c->k = 0;
}

/* Returns the next byte, -1 at the closing quote, -2 if malformed. */
static int cursor_byte(str_cursor *c)
{
	if (c->k == c->n) {
		c->n = str_next(c->s, c->len, &c->i, c->u);
		c->k = 0;
		if (c->n <= 0)
			return c->n == 0 ? -1 : -2;
	}
	return c->u[c->k++];
}

static int scan_string(const char *s, size_t len, size_t *pos)
{
	unsigned char u[4];
	size_t i = *pos + 1;
	int n;

	do {
		n = str_next(s, len, &i, u);
	} while (n > 0);
	if (n < 0)
		return -1;
	*pos = i;
	return 0;
}

/* A number as written, for exact comparison: digits ip[0..in) "." fp[0..fn)
 * times 10^exp. */
typedef struct decimal {
	int neg;
	const char *ip, *fp;
	size_t in, fn;
	int64_t exp;
} decimal;

static int is_digit(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/* Scans a JSON number at s[*pos]; fills d if not NULL. Returns 0 or -1. */
static int scan_number(const char *s, size_t len, size_t *pos, decimal *d)
{
	decimal t = {0};
	size_t i = *pos;
	int eneg = 0;

	if (i < len && s[i] == '-') {
		t.neg = 1;
		i++;
	}
	if (!is_digit(s, len, i))
		return -1;
	t.ip = s + i;
	if (s[i] == '0') {
		i++;
	} else {
		while (is_digit(s, len, i))
			i++;
	}
	t.in = (size_t)(s + i - t.ip);
	if (i < len && s[i] == '.') {
		i++;
		if (!is_digit(s, len, i))
			return -1;
		t.fp = s + i;
		while (is_digit(s, len, i))
			i++;
		t.fn = (size_t)(s + i - t.fp);
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-')) {
			eneg = s[i] == '-';
			i++;
		}
		if (!is_digit(s, len, i))
			return -1;
		while (is_digit(s, len, i)) {
			if (t.exp < EXP_LIMIT)
				t.exp = t.exp * 10 + (s[i] - '0');
			i++;
		}
		if (eneg)
			t.exp = -t.exp;
	}
	if (d)
		*d = t;
	*pos = i;
	return 0;
}

static int scan_literal(const char *s, size_t len, size_t *pos, const char *lit, size_t n)
{
	if (len - *pos < n || memcmp(s + *pos, lit, n) != 0)
		return -1;
	*pos += n;
	return 0;
}

static int scan_scalar(const char *s, size_t len, size_t *pos)
{
	switch (s[*pos]) {
	case '"':
		return scan_string(s, len, pos);
	case 't':
		return scan_literal(s, len, pos, "true", 4);
	case 'f':
		return scan_literal(s, len, pos, "false", 5);
	case 'n':
		return scan_literal(s, len, pos, "null", 4);
	default:
		return scan_number(s, len, pos, NULL);
	}
}

static json_kind kind_of(int c)
{
	switch (c) {
	case '{':
		return JK_OBJECT;
	case '[':
		return JK_ARRAY;
	case '"':
		return JK_STRING;
	case 't':
	case 'f':
		return JK_BOOL;
	case 'n':
		return JK_NULL;
	default:
		return JK_NUMBER;
	}
}

/* At a member's opening quote: scans `"key" :` and the blanks after. */
static int scan_member_key(const char *s, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (i >= len || s[i] != '"' || scan_string(s, len, &i) < 0)
		return -1;
	i = skip_ws(s, len, i);
	if (i >= len || s[i] != ':')
		return -1;
	*pos = skip_ws(s, len, i + 1);
	return 0;
}

/* Skips and validates one value starting at s[*pos] (after blanks), which
 * sits inside `depth` containers. Iterative: open containers are a bit stack
 * (1 = object), so hostile nesting costs neither stack nor heap. Sets *kind
 * if not NULL. Returns 0 with *pos just past the value, -1 invalid, or
 * JSONPATH_ELIMIT nested too deep to walk. */
static int skip_value(const char *s, size_t len, size_t *pos, int depth, json_kind *kind)
{
	uint64_t is_obj[JSONPATH_MAX_DEPTH / 64 + 1];
	size_t i = skip_ws(s, len, *pos);
	int top = 0, c, obj;

	if (i >= len)
		return -1;
	if (kind)
		*kind = kind_of((unsigned char)s[i]);
	for (;;) {
		/* A value is expected at s[i]; blanks are already skipped. */
		if (i >= len)
			return -1;
		c = (unsigned char)s[i];
		if (c == '{' || c == '[') {
			if (depth + top >= JSONPATH_MAX_DEPTH)
				return JSONPATH_ELIMIT;
			obj = c == '{';
			if (obj)
				is_obj[top / 64] |= 1ULL << (top % 64);
			else
				is_obj[top / 64] &= ~(1ULL << (top % 64));
			top++;
			i = skip_ws(s, len, i + 1);
			if (i < len && s[i] == (obj ? '}' : ']')) {
				i++;
				top--;
			} else {
				if (obj && scan_member_key(s, len, &i) < 0)
					return -1;
				continue;
			}
		} else if (scan_scalar(s, len, &i) < 0) {
			return -1;
		}
		/* A value ended: close containers until one has a next element. */
		for (;;) {
			if (top == 0) {
				*pos = i;
				return 0;
			}
			obj = (is_obj[(top - 1) / 64] >> ((top - 1) % 64)) & 1;
			i = skip_ws(s, len, i);
			if (i >= len)
				return -1;
			if (s[i] == ',') {
				i = skip_ws(s, len, i + 1);
				if (obj && scan_member_key(s, len, &i) < 0)
					return -1;
				break;
			}
			if (s[i] != (obj ? '}' : ']'))
				return -1;
			i++;
			top--;
		}
	}
}

/* At a key's opening quote: scans it and compares its unescaped bytes with
 * key. Returns 1 equal, 0 different, -1 malformed. */
static int key_match(const char *s, size_t len, size_t *pos, const char *key, size_t key_len)
{
	str_cursor c;
	size_t n = 0;
	int b, same = 1;

	cursor_init(&c, s, len, *pos + 1);
	for (;;) {
		b = cursor_byte(&c);
		if (b == -2)
			return -1;
		if (b == -1)
			break;
		if (n >= key_len || (unsigned char)key[n] != b)
			same = 0;
		n++;
	}
	*pos = c.i;
	return same && n == key_len;
}

/* At '{' of an object inside `depth` containers: finds the first member
 * named by st. Returns 1 with *pos at its value, 0 absent, -1 invalid. */
static int find_key(const char *s, size_t len, size_t *pos, int depth, const jsonpath_step *st)
{
	size_t i = skip_ws(s, len, *pos + 1);
	int m;

	if (i < len && s[i] == '}')
		return 0;
	for (;;) {
		if (i >= len || s[i] != '"')
			return -1;
		m = key_match(s, len, &i, st->key, st->key_len);
		if (m < 0)
			return -1;
		i = skip_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return -1;
		i = skip_ws(s, len, i + 1);
		if (m) {
			*pos = i;
			return 1;
		}
		m = skip_value(s, len, &i, depth + 1, NULL);
		if (m < 0)
			return m;
		i = skip_ws(s, len, i);
		if (i >= len)
			return -1;
		if (s[i] == '}')
			return 0;
		if (s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
}

/* At '[' of an array inside `depth` containers: finds element index (< 0:
 * from the end). Returns 1 with *pos at the element, 0 absent, -1 invalid. */
static int find_index(const char *s, size_t len, size_t *pos, int depth, int64_t index)
{
	size_t tail[TAIL_RING];
	size_t i = skip_ws(s, len, *pos + 1);
	uint64_t n, want = index >= 0 ? (uint64_t)index : UINT64_MAX, count, back;

	if (i < len && s[i] == ']')
		return 0;
	for (n = 0;; n++) {
		if (n == want) {
			*pos = i;
			return 1;
		}
		int rc;

		tail[n % TAIL_RING] = i;
		rc = skip_value(s, len, &i, depth + 1, NULL);
		if (rc < 0)
			return rc;
		i = skip_ws(s, len, i);
		if (i >= len)
			return -1;
		if (s[i] == ']')
			break;
		if (s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
	if (index >= 0)
		return 0;
	count = n + 1;
	back = (uint64_t)-index;
	if (back > count)
		return 0;
	if (back <= TAIL_RING) {
		*pos = tail[(count - back) % TAIL_RING];
		return 1;
	}
	/* One more walk from the start, by a now non-negative index: the
	 * recursion is one level deep at most. */
	return find_index(s, len, pos, depth, (int64_t)(count - back));
}

/* A value that ended at s[i] inside a container must be followed by a
 * delimiter; otherwise the document was cut off or is garbled there. */
static int delimited(const char *s, size_t len, size_t i, int in_array)
{
	i = skip_ws(s, len, i);
	return i < len && (s[i] == ',' || s[i] == (in_array ? ']' : '}'));
}

int jsonpath_eval(const jsonpath *p, const char *json, size_t len, json_kind *kind, const char **raw, size_t *raw_len)
{
	const jsonpath_step *st;
	json_kind vk;
	size_t i = 0, start;
	int k, rc, in_array = 0;

	if (!p || !json)
		return -1;
	/* Before step k the value at i sits inside k containers. */
	for (k = 0; k < p->nsteps; k++) {
		st = &p->steps[k];
		i = skip_ws(json, len, i);
		if (i >= len)
			return -1;
		if (json[i] != (st->is_index ? '[' : '{')) {
			/* The path leads into a scalar or a container of the other
			 * kind: it does not exist, provided that value is sound. */
			rc = skip_value(json, len, &i, k, NULL);
			if (rc < 0)
				return rc;
			return k > 0 && !delimited(json, len, i, in_array) ? -1 : 0;
		}
		rc = st->is_index ? find_index(json, len, &i, k, st->index) : find_key(json, len, &i, k, st);
		if (rc <= 0)
			return rc;
		in_array = st->is_index;
	}
	start = skip_ws(json, len, i);
	i = start;
	rc = skip_value(json, len, &i, p->nsteps, &vk);
	if (rc < 0)
		return rc;
	if (p->nsteps > 0 && !delimited(json, len, i, in_array))
		return -1;
	if (kind)
		*kind = vk;
	if (raw)
		*raw = json + start;
	if (raw_len)
		*raw_len = i - start;
	return 1;
}

/* Compiler state: the source, the position, and the error if any. */
typedef struct compiler {
	const char *src;
	size_t i;
	char *keys;
	size_t used;
	const char *msg;
	size_t pos;
} compiler;

static int compile_fail(compiler *c, size_t pos, const char *msg)
{
	c->pos = pos;
	c->msg = msg;
	return -1;
}

static int is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '$' || c >= 0x80;
}

static void skip_blanks(compiler *c)
{
	while (c->src[c->i] == ' ' || c->src[c->i] == '\t')
		c->i++;
}

/* .key */
static int compile_dot(compiler *c, jsonpath_step *st)
{
	const char *s = c->src;
	size_t start = ++c->i;

	if (s[start] == '.')
		return compile_fail(c, start - 1, "recursive descent ('..') is not supported");
	if (s[start] == '*')
		return compile_fail(c, start, "wildcards are not supported");
	while (is_name_char((unsigned char)s[c->i]))
		c->i++;
	if (c->i == start)
		return compile_fail(c, start,
				    s[start] ? "a key after '.' has letters, digits, _ - $; quote others: ['...']"
					     : "a key must follow '.'");
	st->key = c->keys + c->used;
	st->key_len = c->i - start;
	memcpy(c->keys + c->used, s + start, st->key_len);
	c->used += st->key_len;
	return 0;
}

/* ['key'] or ["key"], c->i at the quote. */
static int compile_quoted(compiler *c, jsonpath_step *st)
{
	const char *s = c->src;
	size_t open = c->i;
	char q = s[c->i++], e;

	st->key = c->keys + c->used;
	for (;;) {
		if (s[c->i] == '\0')
			return compile_fail(c, open, "unterminated quoted key");
		if (s[c->i] == q)
			break;
		if (s[c->i] == '\\') {
			e = s[c->i + 1];
			if (e != '\'' && e != '"' && e != '\\' && e != '/')
				return compile_fail(c, c->i,
						    "unsupported escape in a quoted key (use \\' \\\" \\\\ \\/)");
			c->keys[c->used++] = e;
			c->i += 2;
		} else {
			c->keys[c->used++] = s[c->i++];
		}
	}
	c->i++;
	st->key_len = (size_t)(c->keys + c->used - st->key);
	return 0;
}

/* [N] or [-N], c->i at the sign or first digit. */
static int compile_index(compiler *c, jsonpath_step *st)
{
	const char *s = c->src;
	size_t start = c->i;
	int64_t v = 0;
	int neg = 0, d;

	if (s[c->i] == '-') {
		neg = 1;
		c->i++;
	}
	if (s[c->i] < '0' || s[c->i] > '9')
		return compile_fail(c, c->i, "digits expected after '-'");
	while (s[c->i] >= '0' && s[c->i] <= '9') {
		d = s[c->i] - '0';
		if (v > (INT64_MAX - d) / 10)
			return compile_fail(c, start, "index out of range");
		v = v * 10 + d;
		c->i++;
	}
	if (neg && v == 0)
		return compile_fail(c, start, "[-0] is not an index; the last element is [-1]");
	st->is_index = 1;
	st->index = neg ? -v : v;
	return 0;
}

/* [...], c->i at '['. */
static int compile_bracket(compiler *c, jsonpath_step *st)
{
	const char *s = c->src;
	size_t open = c->i++;
	int rc;

	skip_blanks(c);
	switch (s[c->i]) {
	case '\'':
	case '"':
		rc = compile_quoted(c, st);
		break;
	case '*':
		return compile_fail(c, c->i, "wildcards are not supported");
	case '?':
		return compile_fail(c, c->i, "filters are not supported");
	case ':':
		return compile_fail(c, c->i, "slices are not supported");
	case ']':
		return compile_fail(c, c->i, "empty brackets");
	case '\0':
		return compile_fail(c, open, "unterminated '['");
	default:
		if (s[c->i] != '-' && (s[c->i] < '0' || s[c->i] > '9'))
			return compile_fail(c, c->i, "a quoted key or an index expected after '['");
		rc = compile_index(c, st);
		break;
	}
	if (rc < 0)
		return rc;
	skip_blanks(c);
	switch (s[c->i]) {
	case ']':
		c->i++;
		return 0;
	case ':':
		return compile_fail(c, c->i, "slices are not supported");
	case ',':
		return compile_fail(c, c->i, "unions are not supported");
	case '\0':
		return compile_fail(c, open, "unterminated '['");
	default:
		return compile_fail(c, c->i, "']' expected");
	}
}

int jsonpath_compile(const char *src, jsonpath *out, char *err, size_t errsz, size_t *err_pos)
{
	compiler c = {.src = src, .i = 1};
	jsonpath_step *st;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!src || src[0] != '$') {
		compile_fail(&c, 0, "a path starts with '$'");
		goto out;
	}
	/* Unescaped keys are never longer than the path that spells them. */
	c.keys = xmalloc(strlen(src));
	while (src[c.i]) {
		if (out->nsteps == JSONPATH_MAX_STEPS) {
			compile_fail(&c, c.i, "too many steps (at most 32)");
			goto out;
		}
		st = &out->steps[out->nsteps];
		if (src[c.i] == '.') {
			if (compile_dot(&c, st) < 0)
				goto out;
		} else if (src[c.i] == '[') {
			if (compile_bracket(&c, st) < 0)
				goto out;
		} else {
			compile_fail(&c, c.i, "'.' or '[' expected (quote keys with other characters: ['a b'])");
			goto out;
		}
		out->nsteps++;
	}
	out->keys = c.keys;
	c.keys = NULL;
	rc = 0;
out:
	if (rc < 0) {
		free(c.keys);
		memset(out, 0, sizeof(*out));
		if (err && errsz)
			snprintf(err, errsz, "%s", c.msg);
		if (err_pos)
			*err_pos = c.pos;
	}
	return rc;
}

void jsonpath_free(jsonpath *p)
{
	if (!p)
		return;
	free(p->keys);
	memset(p, 0, sizeof(*p));
}

ssize_t jsonpath_text(json_kind kind, const char *raw, size_t raw_len, char *out, size_t outsz)
{
	unsigned char u[4];
	size_t n = 0, i = 1;
	int k, j;

	if (kind != JK_STRING) {
		if (outsz) {
			n = raw_len < outsz - 1 ? raw_len : outsz - 1;
			if (n)
				memcpy(out, raw, n);
			out[n] = '\0';
		}
		return (ssize_t)raw_len;
	}
	if (!raw || raw_len < 2 || raw[0] != '"')
		return -1;
	for (;;) {
		k = str_next(raw, raw_len, &i, u);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		for (j = 0; j < k; j++, n++)
			if (n + 1 < outsz)
				out[n] = (char)u[j];
	}
	if (i != raw_len)
		return -1;
	if (outsz)
		out[n < outsz - 1 ? n : outsz - 1] = '\0';
	return (ssize_t)n;
}

/* Finds the one value in s[0..len), blanks around it allowed. */
static int value_span(const char *s, size_t len, json_kind *kind, size_t *start, size_t *end)
{
	size_t i = skip_ws(s, len, 0);

	*start = i;
	if (skip_value(s, len, &i, 0, kind) < 0)
		return -1;
	*end = i;
	return skip_ws(s, len, i) == len ? 0 : -1;
}

static char decimal_digit(const decimal *d, size_t k)
{
	return k < d->in ? d->ip[k] : d->fp[k - d->in];
}

/* Reduces d to significant digits [*first, *last] times 10^*exp. Returns 0
 * if the number is zero (any sign, any spelling). */
static int decimal_norm(const decimal *d, size_t *first, size_t *last, int64_t *exp)
{
	size_t total = d->in + d->fn, f = 0, l = total;

	while (f < total && decimal_digit(d, f) == '0')
		f++;
	if (f == total)
		return 0;
	while (decimal_digit(d, l - 1) == '0')
		l--;
	*first = f;
	*last = l - 1;
	*exp = d->exp - (int64_t)d->fn + (int64_t)(total - l);
	return 1;
}

static int numbers_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	decimal x, y;
	size_t i = 0, j = 0, xf = 0, xl = 0, yf = 0, yl = 0, k;
	int64_t xe = 0, ye = 0;
	int xnz, ynz;

	if (scan_number(a, alen, &i, &x) < 0 || scan_number(b, blen, &j, &y) < 0)
		return 0;
	xnz = decimal_norm(&x, &xf, &xl, &xe);
	ynz = decimal_norm(&y, &yf, &yl, &ye);
	if (!xnz || !ynz)
		return xnz == ynz;
	if (x.neg != y.neg || xe != ye || xl - xf != yl - yf)
		return 0;
	for (k = 0; k <= xl - xf; k++)
		if (decimal_digit(&x, xf + k) != decimal_digit(&y, yf + k))
			return 0;
	return 1;
}

static int strings_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	str_cursor x, y;
	int cx, cy;

	cursor_init(&x, a, alen, 1);
	cursor_init(&y, b, blen, 1);
	do {
		cx = cursor_byte(&x);
		cy = cursor_byte(&y);
		if (cx != cy || cx == -2)
			return 0;
	} while (cx >= 0);
	return 1;
}

/* Next byte of a validated JSON text that is not a blank outside strings;
 * -1 at the end. */
static int significant_byte(const char *s, size_t len, size_t *i, int *in_str, int *esc)
{
	int c;

	while (*i < len) {
		c = (unsigned char)s[(*i)++];
		if (*in_str) {
			if (*esc)
				*esc = 0;
			else if (c == '\\')
				*esc = 1;
			else if (c == '"')
				*in_str = 0;
			return c;
		}
		if (is_ws(c))
			continue;
		if (c == '"')
			*in_str = 1;
		return c;
	}
	return -1;
}

static int texts_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;
	int sa = 0, ea = 0, sb = 0, eb = 0, ca, cb;

	do {
		ca = significant_byte(a, alen, &i, &sa, &ea);
		cb = significant_byte(b, blen, &j, &sb, &eb);
		if (ca != cb)
			return 0;
	} while (ca >= 0);
	return 1;
}

int jsonpath_equals(json_kind kind, const char *raw, size_t raw_len, const char *expected, size_t expected_len)
{
	json_kind rk, ek;
	size_t rs, re, es, ee;

	if (kind == JK_NONE || !raw || !expected)
		return 0;
	if (value_span(raw, raw_len, &rk, &rs, &re) < 0 || rk != kind)
		return 0;
	if (value_span(expected, expected_len, &ek, &es, &ee) < 0 || ek != kind)
		return 0;
	raw += rs;
	raw_len = re - rs;
	expected += es;
	expected_len = ee - es;
	switch (kind) {
	case JK_NUMBER:
		return numbers_equal(raw, raw_len, expected, expected_len);
	case JK_STRING:
		return strings_equal(raw, raw_len, expected, expected_len);
	default:
		return texts_equal(raw, raw_len, expected, expected_len);
	}
}
