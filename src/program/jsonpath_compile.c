/* JSON path compilation: the path language of jsonpath.h into steps, once
 * at load. */
#include "program/jsonpath.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

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
