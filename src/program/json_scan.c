/* The JSON text scanner under the path evaluator and the value comparisons:
 * blanks, strings (decoded without allocating), numbers, literals, and the
 * skipping and validation of whole values. */
#include "program/json_scan.h"

#include <string.h>

#include "core/parse.h"

/* Exponents are saturated here; numbers beyond 10^(10^17) are not told apart. */
#define EXP_LIMIT 100000000000000000LL

int json_is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t json_skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && json_is_ws((unsigned char)s[i]))
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
int json_str_next(const char *s, size_t len, size_t *i, unsigned char u[4])
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

/* s[i] is the byte after the opening quote. */
void json_cursor_init(json_cursor *c, const char *s, size_t len, size_t i)
{
	c->s = s;
	c->len = len;
	c->i = i;
	c->n = c->k = 0;
}

/* Returns the next byte, -1 at the closing quote, -2 if malformed. */
int json_cursor_byte(json_cursor *c)
{
	if (c->k == c->n) {
		c->n = json_str_next(c->s, c->len, &c->i, c->u);
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
		n = json_str_next(s, len, &i, u);
	} while (n > 0);
	if (n < 0)
		return -1;
	*pos = i;
	return 0;
}

static int is_digit(const char *s, size_t len, size_t i)
{
	return i < len && s[i] >= '0' && s[i] <= '9';
}

/* Scans a JSON number at s[*pos]; fills d if not NULL. Returns 0 or -1. */
int json_scan_number(const char *s, size_t len, size_t *pos, json_decimal *d)
{
	json_decimal t = {0};
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
		return json_scan_number(s, len, pos, NULL);
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
int json_scan_member_key(const char *s, size_t len, size_t *pos)
{
	size_t i = *pos;

	if (i >= len || s[i] != '"' || scan_string(s, len, &i) < 0)
		return -1;
	i = json_skip_ws(s, len, i);
	if (i >= len || s[i] != ':')
		return -1;
	*pos = json_skip_ws(s, len, i + 1);
	return 0;
}

/* Skips and validates one value starting at s[*pos] (after blanks), which
 * sits inside `depth` containers. Iterative: open containers are a bit stack
 * (1 = object), so hostile nesting costs neither stack nor heap. Sets *kind
 * if not NULL. Returns 0 with *pos just past the value, -1 invalid, or
 * JSONPATH_ELIMIT nested too deep to walk. */
int json_skip_value(const char *s, size_t len, size_t *pos, int depth, json_kind *kind)
{
	uint64_t is_obj[JSONPATH_MAX_DEPTH / 64 + 1];
	size_t i = json_skip_ws(s, len, *pos);
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
			i = json_skip_ws(s, len, i + 1);
			if (i < len && s[i] == (obj ? '}' : ']')) {
				i++;
				top--;
			} else {
				if (obj && json_scan_member_key(s, len, &i) < 0)
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
			i = json_skip_ws(s, len, i);
			if (i >= len)
				return -1;
			if (s[i] == ',') {
				i = json_skip_ws(s, len, i + 1);
				if (obj && json_scan_member_key(s, len, &i) < 0)
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
