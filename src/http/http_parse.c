#include "http/http_parse.h"

#include "core/parse.h"

#include <string.h>

/* RFC 9110 token characters. */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
	['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
	['~'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
	['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
	['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
	['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
	['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1,
	['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static inline int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int http_token_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!lit[i] || lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
			return 0;
	return lit[n] == '\0';
}

size_t http_head_end(const char *buf, size_t len, size_t *scan)
{
	size_t i = *scan;

	/* Skip empty lines before the start line (RFC 9112 2.2). */
	if (i == 0)
		while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
			i++;
	/* i is always at a line start, so a resumed scan costs nothing extra. */
	while (i < len) {
		const char *nl;

		if (buf[i] == '\n') {
			*scan = i + 1;
			return i + 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == len)
				break;
			if (buf[i + 1] == '\n') {
				*scan = i + 2;
				return i + 2;
			}
		}
		nl = memchr(buf + i, '\n', len - i);
		if (!nl)
			break;
		i = (size_t)(nl - buf) + 1;
	}
	*scan = i;
	return 0;
}

/* Returns the end of the line starting at p (pointing at '\n' or at the
 * '\r' before it); sets *next to the start of the next line. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl) {
		*next = end;
		return end;
	}
	*next = nl + 1;
	if (nl > p && nl[-1] == '\r')
		return nl - 1;
	return nl;
}

static int parse_version(const char *p, size_t n, int *minor)
{
	if (n != 8 || memcmp(p, "HTTP/1.", 7) != 0)
		return n >= 5 && memcmp(p, "HTTP/", 5) == 0 ? HTTP_E_VERSION : HTTP_E_SYNTAX;
	if (p[7] != '0' && p[7] != '1')
		return HTTP_E_VERSION;
	*minor = p[7] - '0';
	return HTTP_OK;
}

/* Does a comma-separated header value contain `tok` as an element? */
static int list_has(const char *v, size_t n, const char *tok)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && http_token_eq(v + s, e - s, tok))
			return 1;
	}
	return 0;
}

/* The last element of a comma-separated list is `tok`. */
static int list_last_is(const char *v, size_t n, const char *tok)
{
	size_t e = n, s;

	while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t' || v[e - 1] == ','))
		e--;
	s = e;
	while (s > 0 && v[s - 1] != ',')
		s--;
	while (s < e && (v[s] == ' ' || v[s] == '\t'))
		s++;
	return e > s && http_token_eq(v + s, e - s, tok);
}

static int parse_fields(const char *p, const char *end, http_head *h)
{
	int keep_alive = 0, close = 0;

	h->num_headers = h->total_headers = 0;
	h->content_length = -1;
	h->chunked = h->other_te = h->expect_continue = 0;
	while (p < end) {
		const char *next, *le = line_end(p, end, &next);
		const char *name = p, *colon, *v, *ve;
		size_t nlen;

		if (le == p)
			break; /* the blank line */
		if (*p == ' ' || *p == '\t')
			return HTTP_E_SYNTAX; /* obsolete line folding */
		colon = p;
		while (colon < le && tchar[(unsigned char)*colon])
			colon++;
		if (colon == p || colon == le || *colon != ':')
			return HTTP_E_SYNTAX;
		nlen = (size_t)(colon - name);
		v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		ve = le;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *c = v; c < ve; c++)
			if ((unsigned char)*c < 0x20 && *c != '\t')
				return HTTP_E_SYNTAX;
		if (h->num_headers < HTTP_MAX_HEADERS) {
			http_header *f = &h->headers[h->num_headers++];

			f->name = name;
			f->name_len = nlen;
			f->value = v;
			f->value_len = (size_t)(ve - v);
		}
		h->total_headers++;
		if (http_token_eq(name, nlen, "content-length")) {
			uint64_t cl = 0;
			const char *c;

			/* Repeated identical values (also "5, 5") are allowed;
			 * anything else is a framing error. */
			for (c = v; c < ve;) {
				uint64_t one = 0;
				int digits = 0;

				while (c < ve && *c >= '0' && *c <= '9') {
					if (one > (UINT64_C(1) << 60))
						return HTTP_E_FRAMING;
					one = one * 10 + (uint64_t)(*c++ - '0');
					digits++;
				}
				if (!digits)
					return HTTP_E_FRAMING;
				if (h->content_length >= 0 && (uint64_t)h->content_length != one)
					return HTTP_E_FRAMING;
				h->content_length = (int64_t)one;
				cl = one;
				while (c < ve && (*c == ' ' || *c == '\t'))
					c++;
				if (c < ve) {
					if (*c != ',')
						return HTTP_E_FRAMING;
					c++;
					while (c < ve && (*c == ' ' || *c == '\t'))
						c++;
				}
			}
			if (v == ve)
				return HTTP_E_FRAMING;
			(void)cl;
		} else if (http_token_eq(name, nlen, "transfer-encoding")) {
			if (list_last_is(v, (size_t)(ve - v), "chunked")) {
				h->chunked = 1;
				h->other_te = 0;
			} else {
				h->chunked = 0;
				h->other_te = 1;
			}
		} else if (http_token_eq(name, nlen, "connection")) {
			if (list_has(v, (size_t)(ve - v), "close"))
				close = 1;
			if (list_has(v, (size_t)(ve - v), "keep-alive"))
				keep_alive = 1;
		} else if (http_token_eq(name, nlen, "expect")) {
			if (http_token_eq(v, (size_t)(ve - v), "100-continue"))
				h->expect_continue = 1;
		}
		p = next;
	}
	h->conn_close = close || (h->minor_version == 0 && !keep_alive);
	return HTTP_OK;
}

static const char *skip_empty_lines(const char *p, const char *end)
{
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	return p;
}

int http_head_parse_response(const char *buf, size_t len, http_head *h)
{
	const char *end = buf + len, *p = skip_empty_lines(buf, end), *next, *le, *sp;
	int rc;

	h->method = h->target = NULL;
	h->method_len = h->target_len = 0;
	le = line_end(p, end, &next);
	sp = memchr(p, ' ', (size_t)(le - p));
	if (!sp)
		return HTTP_E_SYNTAX;
	rc = parse_version(p, (size_t)(sp - p), &h->minor_version);
	if (rc)
		return rc;
	p = sp + 1;
	if (le - p < 3 || p[0] < '1' || p[0] > '9' || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
	    p[2] > '9' || (le - p > 3 && p[3] != ' '))
		return HTTP_E_SYNTAX;
	h->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	return parse_fields(next, end, h);
}

int http_head_parse_request(const char *buf, size_t len, http_head *h)
{
	const char *end = buf + len, *p = skip_empty_lines(buf, end), *next, *le, *m, *t;
	int rc;

	h->status = 0;
	le = line_end(p, end, &next);
	m = p;
	while (p < le && tchar[(unsigned char)*p])
		p++;
	if (p == m || p == le || *p != ' ')
		return HTTP_E_SYNTAX;
	h->method = m;
	h->method_len = (size_t)(p - m);
	t = ++p;
	while (p < le && *p != ' ') {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return HTTP_E_SYNTAX;
		p++;
	}
	if (p == t || p == le)
		return HTTP_E_SYNTAX;
	h->target = t;
	h->target_len = (size_t)(p - t);
	p++;
	rc = parse_version(p, (size_t)(le - p), &h->minor_version);
	if (rc)
		return rc;
	return parse_fields(next, end, h);
}

const http_header *http_head_find(const http_head *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->num_headers; i++)
		if (http_token_eq(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

void http_body_init(http_body *b, http_body_mode mode, uint64_t length)
{
	memset(b, 0, sizeof(*b));
	b->mode = mode;
	b->remaining = length;
	b->done = mode == HTTP_BODY_NONE || (mode == HTTP_BODY_LENGTH && length == 0);
}

void http_body_init_response(http_body *b, const http_head *h, int head_method)
{
	if (head_method || (h->status >= 100 && h->status < 200) || h->status == 204 ||
	    h->status == 304)
		http_body_init(b, HTTP_BODY_NONE, 0);
	else if (h->chunked)
		http_body_init(b, HTTP_BODY_CHUNKED, 0);
	else if (h->other_te || h->content_length < 0)
		http_body_init(b, HTTP_BODY_EOF, 0);
	else
		http_body_init(b, HTTP_BODY_LENGTH, (uint64_t)h->content_length);
}

void http_body_init_request(http_body *b, const http_head *h)
{
	if (h->chunked)
		http_body_init(b, HTTP_BODY_CHUNKED, 0);
	else if (h->content_length > 0)
		http_body_init(b, HTTP_BODY_LENGTH, (uint64_t)h->content_length);
	else
		http_body_init(b, HTTP_BODY_NONE, 0);
}

/* Chunked decoder states. */
enum {
	CS_SIZE,       /* hex digits of the chunk size */
	CS_SIZE_WS,    /* whitespace after the size */
	CS_EXT,        /* chunk extension, skipped */
	CS_SIZE_LF,    /* '\n' after the size line's '\r' */
	CS_DATA,       /* chunk data */
	CS_DATA_CR,    /* '\r' or '\n' after data */
	CS_DATA_LF,    /* '\n' after data's '\r' */
	CS_TRAILER,    /* start of a trailer line or of the final blank line */
	CS_TRAILER_LN, /* inside a trailer field line */
	CS_TRAILER_LF, /* '\n' ending a trailer line */
	CS_END_LF      /* '\n' ending the final blank line */
};

#define MAX_CHUNK_LINE 4096
#define MAX_CHUNK_DIGITS 15 /* < 2^60 */

static ssize_t feed_chunked(http_body *b, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	size_t i = 0;

	while (i < n && !b->done) {
		int c = (unsigned char)p[i];

		switch (b->state) {
		case CS_SIZE: {
			int v = parse_hex_digit(c);

			if (v >= 0) {
				if (++b->digits > MAX_CHUNK_DIGITS)
					return HTTP_E_TOO_LARGE;
				b->remaining = b->remaining * 16 + (uint64_t)v;
				i++;
				break;
			}
			if (!b->digits)
				return HTTP_E_CHUNK;
			b->state = CS_SIZE_WS;
			break;
		}
		case CS_SIZE_WS:
		case CS_EXT:
			if (c == '\r') {
				b->state = CS_SIZE_LF;
			} else if (c == '\n') {
				b->state = b->remaining ? CS_DATA : CS_TRAILER;
				b->line_bytes = 0;
			} else if (b->state == CS_SIZE_WS && (c == ' ' || c == '\t')) {
				/* bad whitespace, tolerated as many servers emit it */
			} else if (c == ';') {
				b->state = CS_EXT;
			} else if (b->state == CS_SIZE_WS) {
				return HTTP_E_CHUNK;
			} else if (c < 0x20 && c != '\t') {
				return HTTP_E_CHUNK;
			}
			if (++b->line_bytes > MAX_CHUNK_LINE)
				return HTTP_E_TOO_LARGE;
			i++;
			break;
		case CS_SIZE_LF:
			if (c != '\n')
				return HTTP_E_CHUNK;
			i++;
			b->line_bytes = 0;
			b->state = b->remaining ? CS_DATA : CS_TRAILER;
			break;
		case CS_DATA: {
			size_t take = n - i;

			if (take > b->remaining)
				take = (size_t)b->remaining;
			if (sink)
				sink(ctx, p + i, take);
			b->decoded += take;
			b->remaining -= take;
			i += take;
			if (!b->remaining)
				b->state = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
			if (c == '\r') {
				b->state = CS_DATA_LF;
				i++;
				break;
			}
			/* A bare LF also ends the data line. */
			/* fall through */
		case CS_DATA_LF:
			if (c != '\n')
				return HTTP_E_CHUNK;
			i++;
			b->state = CS_SIZE;
			b->digits = 0;
			b->line_bytes = 0;
			b->remaining = 0;
			break;
		case CS_TRAILER:
			if (c == '\r') {
				b->state = CS_END_LF;
			} else if (c == '\n') {
				b->done = 1;
			} else {
				b->state = CS_TRAILER_LN;
				b->line_bytes = 1;
			}
			i++;
			break;
		case CS_TRAILER_LN:
			if (c == '\r')
				b->state = CS_TRAILER_LF;
			else if (c == '\n')
				b->state = CS_TRAILER;
			else if (++b->line_bytes > MAX_CHUNK_LINE)
				return HTTP_E_TOO_LARGE;
			i++;
			break;
		case CS_TRAILER_LF:
			if (c != '\n')
				return HTTP_E_CHUNK;
			b->state = CS_TRAILER;
			i++;
			break;
		case CS_END_LF:
			if (c != '\n')
				return HTTP_E_CHUNK;
			b->done = 1;
			i++;
			break;
		}
	}
	return (ssize_t)i;
}

ssize_t http_body_feed(http_body *b, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	size_t take;

	if (b->done)
		return 0;
	switch (b->mode) {
	case HTTP_BODY_NONE:
		b->done = 1;
		return 0;
	case HTTP_BODY_LENGTH:
		take = n < b->remaining ? n : (size_t)b->remaining;
		if (sink && take)
			sink(ctx, p, take);
		b->remaining -= take;
		b->decoded += take;
		b->done = b->remaining == 0;
		return (ssize_t)take;
	case HTTP_BODY_EOF:
		if (sink && n)
			sink(ctx, p, n);
		b->decoded += n;
		return (ssize_t)n;
	case HTTP_BODY_CHUNKED:
		return feed_chunked(b, p, n, sink, ctx);
	}
	return HTTP_E_SYNTAX;
}
