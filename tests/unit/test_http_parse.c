/* HTTP/1.x parsing: every response framing case, fed whole, split in two at
 * every byte boundary, and one byte at a time; malformed input; requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/http_parse.h"

typedef struct result {
	int rc;            /* 1 complete, 0 incomplete, < 0 error */
	int status;
	int conn_close;
	size_t body_len;
	char body[256];
	size_t consumed;   /* bytes of input that belonged to the message */
	int interim;       /* 1xx responses skipped */
} result;

static void sink(void *ctx, const char *d, size_t n)
{
	result *r = ctx;

	if (r->body_len + n < sizeof(r->body))
		memcpy(r->body + r->body_len, d, n);
	r->body_len += n;
}

/* Feeds `msg` in pieces, as a connection reading into a buffer would:
 * the head is accumulated until complete, the body is streamed through the
 * decoder. Pieces end at the offsets in cuts[] (ascending), then at len. */
static result feed(const char *msg, size_t len, const size_t *cuts, size_t ncuts, int head_req, int eof)
{
	result r = {0};
	buf b;
	http_head h;
	http_body body;
	size_t scan = 0, pos = 0, k;
	int in_body = 0;

	buf_init(&b, 64, 1 << 20);
	for (k = 0; k <= ncuts && r.rc == 0; k++) {
		size_t end = k < ncuts ? cuts[k] : len, off = 0;

		buf_append(&b, msg + pos, end - pos);
		pos = end;
		while (!in_body) {
			size_t hl = http_head_end(b.data, b.len, &scan);

			if (!hl)
				break;
			if (http_head_parse_response(b.data, hl, &h) != HTTP_OK) {
				r.rc = -1;
				goto out;
			}
			if (h.status < 200) {
				r.interim++;
				r.consumed += hl;
				buf_consume(&b, hl);
				scan = 0;
				continue;
			}
			r.status = h.status;
			r.conn_close = h.conn_close;
			http_body_init_response(&body, &h, head_req);
			in_body = 1;
			off = hl;
			r.consumed += hl;
		}
		if (in_body) {
			ssize_t used = http_body_feed(&body, b.data + off, b.len - off, sink, &r);

			if (used < 0) {
				r.rc = (int)used;
				goto out;
			}
			r.consumed += (size_t)used;
			b.len = 0;
			if (body.done)
				r.rc = 1;
		}
	}
	if (r.rc == 0 && in_body && eof && body.mode == HTTP_BODY_EOF) {
		http_body_eof(&body);
		r.rc = body.done;
	}
out:
	buf_free(&b);
	return r;
}

typedef struct tcase {
	const char *name;
	const char *msg;
	int head_req;
	int eof;           /* input ends with the peer closing */
	int status;
	const char *body;
	int conn_close;
	int trailing;      /* bytes after the message that belong to the next one */
} tcase;

static const tcase cases[] = {
	{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", 0, 0, 200, "hello", 0, 0},
	{"zero length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, 200, "", 0, 0},
	{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 0, 0,
	 200, "hello world", 0, 0},
	{"chunked ext+trailer",
	 "HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;name=val\r\nabc\r\nA \r\n0123456789\r\n"
	 "0;last\r\nX-Trailer: yes\r\nX-Two: 2\r\n\r\n",
	 0, 0, 201, "abc0123456789", 0, 0},
	{"chunked uppercase hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0000A\r\n0123456789\r\n0\r\n\r\n", 0,
	 0, 200, "0123456789", 0, 0},
	{"HEAD ignores length", "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 1, 0, 200, "", 0, 0},
	{"204", "HTTP/1.1 204 No Content\r\n\r\n", 0, 0, 204, "", 0, 0},
	{"304 with length", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", 0, 0, 304, "", 0, 0},
	{"100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 0, 200, "ok", 0,
	 0},
	{"103 with headers", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx",
	 0, 0, 404, "x", 0, 0},
	{"close delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", 0, 1, 200, "until the end", 1, 0},
	{"http/1.0 default close", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 0, 0, 200, "hi", 1, 0},
	{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", 0, 0, 200, "hi", 0,
	 0},
	{"connection list", "HTTP/1.1 500 Oops\r\nConnection: upgrade, Close\r\nContent-Length: 0\r\n\r\n", 0, 0, 500, "", 1,
	 0},
	{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 0, 0, 200, "abc", 0, 0},
	{"no reason", "HTTP/1.1 200\r\nContent-Length: 1\r\n\r\nz", 0, 0, 200, "z", 0, 0},
	{"ows around value", "HTTP/1.1 200 OK\r\nContent-Length: \t 4 \t\r\n\r\nabcd", 0, 0, 200, "abcd", 0, 0},
	{"repeated equal lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok", 0, 0, 200, "ok",
	 0, 0},
	{"next message follows", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n", 0, 0, 200, "ok", 0,
	 17},
};

static void check(const tcase *c, const result *r, size_t len)
{
	if (r->rc != 1)
		fail_msg("%s: rc %d", c->name, r->rc);
	assert_int_equal(r->status, c->status);
	assert_int_equal(r->conn_close, c->conn_close);
	assert_int_equal(r->body_len, strlen(c->body));
	assert_memory_equal(r->body, c->body, r->body_len);
	if (!c->eof)
		assert_int_equal(r->consumed, len - (size_t)c->trailing);
}

static void test_framing_all_splits(void **state)
{
	size_t i, cut, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const tcase *c = &cases[i];
		size_t len = strlen(c->msg);
		size_t *cuts = malloc(len * sizeof(*cuts));
		result r = feed(c->msg, len, NULL, 0, c->head_req, c->eof);

		check(c, &r, len);
		for (cut = 1; cut < len; cut++) {
			r = feed(c->msg, len, &cut, 1, c->head_req, c->eof);
			check(c, &r, len);
		}
		for (k = 0; k + 1 < len; k++)
			cuts[k] = k + 1;
		r = feed(c->msg, len, cuts, len - 1, c->head_req, c->eof);
		check(c, &r, len);
		free(cuts);
	}
}

static void test_incomplete_is_not_done(void **state)
{
	const char *m = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
	const char *c = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
	result r;

	(void)state;
	r = feed(m, strlen(m), NULL, 0, 0, 0);
	assert_int_equal(r.rc, 0);
	r = feed(c, strlen(c), NULL, 0, 0, 0);
	assert_int_equal(r.rc, 0);
	r = feed("HTTP/1.1 200 OK\r\nContent-Le", 27, NULL, 0, 0, 0);
	assert_int_equal(r.rc, 0);
}

static void test_malformed(void **state)
{
	static const char *bad[] = {
		"HTTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"garbage\r\n\r\n",
		"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\x01 b\r\n\r\n",
	};
	static const char *bad_chunks[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		result r = feed(bad[i], strlen(bad[i]), NULL, 0, 0, 0);

		if (r.rc >= 0)
			fail_msg("accepted malformed #%zu: %s", i, bad[i]);
	}
	for (i = 0; i < sizeof(bad_chunks) / sizeof(bad_chunks[0]); i++) {
		result r = feed(bad_chunks[i], strlen(bad_chunks[i]), NULL, 0, 0, 0);

		if (r.rc >= 0)
			fail_msg("accepted malformed chunking #%zu", i);
	}
	{
		http_head h;

		assert_int_equal(http_head_parse_response("HTTP/2.0 200 OK\r\n\r\n", 19, &h), HTTP_E_VERSION);
	}
}

static void test_requests(void **state)
{
	http_head h;
	http_body b;
	const char *r1 = "POST /cart?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
	const char *r2 = "GET / HTTP/1.0\r\n\r\n";
	const char *r3 = "PUT /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
	size_t scan = 0;

	(void)state;
	assert_int_equal(http_head_end(r1, strlen(r1), &scan), strlen(r1));
	assert_int_equal(http_head_parse_request(r1, strlen(r1), &h), HTTP_OK);
	assert_true(http_token_eq(h.method, h.method_len, "POST"));
	assert_int_equal(h.target_len, 9);
	assert_memory_equal(h.target, "/cart?x=1", 9);
	assert_int_equal(h.content_length, 3);
	assert_true(h.expect_continue);
	assert_non_null(http_head_find(&h, "HOST"));
	http_body_init_request(&b, &h);
	assert_int_equal(b.mode, HTTP_BODY_LENGTH);
	assert_int_equal(http_head_parse_request(r2, strlen(r2), &h), HTTP_OK);
	assert_true(h.conn_close);
	http_body_init_request(&b, &h);
	assert_int_equal(b.mode, HTTP_BODY_NONE);
	assert_true(b.done);
	assert_int_equal(http_head_parse_request(r3, strlen(r3), &h), HTTP_OK);
	assert_true(h.chunked && h.conn_close);
	assert_int_equal(http_head_parse_request("GET  / HTTP/1.1\r\n\r\n", 19, &h), HTTP_E_SYNTAX);
	assert_int_equal(http_head_parse_request("GET / HTTP/2.0\r\n\r\n", 18, &h), HTTP_E_VERSION);
	assert_int_equal(http_head_parse_request("G@T / HTTP/1.1\r\n\r\n", 18, &h), HTTP_E_SYNTAX);
	assert_int_equal(http_head_parse_request("\x16\x03\x01\x02\x00\r\n\r\n", 9, &h), HTTP_E_SYNTAX);
}

static void test_head_end_resumes(void **state)
{
	const char *m = "HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY";
	size_t scan = 0, i, found = 0;

	(void)state;
	/* Growing prefixes with a carried scan position find the end exactly once, at 25. */
	for (i = 1; i <= strlen(m) && !found; i++)
		found = http_head_end(m, i, &scan);
	assert_int_equal(found, 25);
	scan = 0;
	assert_int_equal(http_head_end("\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 23, &scan), 23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framing_all_splits),
		cmocka_unit_test(test_incomplete_is_not_done),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_head_end_resumes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
