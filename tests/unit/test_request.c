/* The one request writer: exact bytes for every framing case — defaults and
 * the user's replacements sent once, bodies with and without length,
 * chunked on request, Connection: close — and what it refuses, at load
 * (http_request_check) and per request (http_request_write). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/request.h"

#define F(n, v) {n, v, sizeof(n) - 1, sizeof(v) - 1}

typedef struct wcase {
	const char *method, *target, *body;
	unsigned flags;
	http_field fields[4];
	uint32_t nfields;
	const char *want;
} wcase;

static const wcase cases[] = {
	{"GET", "/a", NULL, 0, {{0}}, 0, "GET /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\n\r\n"},
	{"POST", "/a", "", HTTP_REQ_BODY, {{0}}, 0,
	 "POST /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nContent-Length: 0\r\n\r\n"},
	{"PUT", "/a", "abc", HTTP_REQ_BODY | HTTP_REQ_CLOSE, {F("Content-Type", "text/plain")}, 1,
	 "PUT /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nContent-Type: text/plain\r\nConnection: close\r\n"
	 "Content-Length: 3\r\n\r\nabc"},
	{"GET", "/a", NULL, HTTP_REQ_CLOSE, {F("host", "x.test"), F("USER-AGENT", " mine "), F("Connection", "keep-alive")},
	 3, "GET /a HTTP/1.1\r\nhost: x.test\r\nUSER-AGENT: mine\r\nConnection: keep-alive\r\n\r\n"},
	{"POST", "/a", "abc", HTTP_REQ_BODY, {F("Content-Length", "3")}, 1,
	 "POST /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nContent-Length: 3\r\n\r\nabc"},
	{"DELETE", "/a", NULL, 0, {F("Content-Length", "0")}, 1,
	 "DELETE /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nContent-Length: 0\r\n\r\n"},
	{"POST", "/a", "hello world", HTTP_REQ_BODY | HTTP_REQ_CHUNKED, {F("Transfer-Encoding", "chunked")}, 1,
	 "POST /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"},
	{"POST", "/a", "", HTTP_REQ_BODY | HTTP_REQ_CHUNKED, {F("Transfer-Encoding", "chunked")}, 1,
	 "POST /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	{"GET", "/a", NULL, 0, {F("X-Tab", "a\tb"), F("X-Empty", "")}, 2,
	 "GET /a HTTP/1.1\r\nHost: h:1\r\nUser-Agent: ua\r\nX-Tab: a\tb\r\nX-Empty: \r\n\r\n"},
};

static void describe(http_request *q, const wcase *c)
{
	memset(q, 0, sizeof(*q));
	q->method = c->method;
	q->target = c->target;
	q->target_len = strlen(c->target);
	q->authority = "h:1";
	q->user_agent = "ua";
	q->fields = c->fields;
	q->nfields = c->nfields;
	q->user = http_fields_scan(c->fields, c->nfields);
	q->flags = c->flags;
	q->body = c->body;
	q->body_len = c->body ? strlen(c->body) : 0;
}

static void test_writes(void **state)
{
	buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0, 1 << 20);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_request q;
		unsigned flags = cases[i].flags & ~HTTP_REQ_CHUNKED;
		char err[256];

		describe(&q, &cases[i]);
		assert_int_equal(http_request_check(&q, 1, &flags, err, sizeof(err)), 0);
		assert_int_equal(flags, cases[i].flags);
		buf_reset(&out);
		assert_int_equal(http_request_write(&q, &out), 0);
		if (out.len != strlen(cases[i].want) || memcmp(out.data, cases[i].want, out.len) != 0)
			fail_msg("case %zu: got '%.*s'", i, (int)out.len, out.data);
	}
	buf_free(&out);
}

/* The jar's Cookie value: its own header, or first in the user's one. */
static void test_cookie_header(void **state)
{
	static const http_field user[] = {F("Cookie", "u=1"), F("X-A", "a")};
	static const http_field other[] = {F("X-A", "a")};
	http_request q = {0};
	buf out;

	(void)state;
	buf_init(&out, 0, 1 << 20);
	q.method = "GET";
	q.target = "/";
	q.target_len = 1;
	q.authority = "h";
	q.fields = other;
	q.nfields = 1;
	q.cookie = "a=1; b=2";
	q.cookie_len = 8;
	assert_int_equal(http_request_write(&q, &out), 0);
	assert_int_equal(out.len, strlen("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\nCookie: a=1; b=2\r\n\r\n"));
	assert_memory_equal(out.data, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\nCookie: a=1; b=2\r\n\r\n", out.len);
	buf_reset(&out);
	q.fields = user;
	q.nfields = 2;
	q.user = http_fields_scan(user, 2);
	assert_true(q.user & HTTP_USER_COOKIE);
	assert_int_equal(http_request_write(&q, &out), 0);
	assert_int_equal(out.len, strlen("GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2; u=1\r\nX-A: a\r\n\r\n"));
	assert_memory_equal(out.data, "GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1; b=2; u=1\r\nX-A: a\r\n\r\n", out.len);
	/* No jar cookies: the user's header as it is. */
	buf_reset(&out);
	q.cookie = NULL;
	q.cookie_len = 0;
	assert_int_equal(http_request_write(&q, &out), 0);
	assert_memory_equal(out.data, "GET / HTTP/1.1\r\nHost: h\r\nCookie: u=1\r\nX-A: a\r\n\r\n", out.len);
	buf_free(&out);
}

static void test_check_refusals(void **state)
{
	static const struct {
		const char *method, *body;
		int body_static;
		http_field fields[3];
		uint32_t nfields;
		const char *needle;
	} bad[] = {
		{"G T", NULL, 1, {{0}}, 0, "not an HTTP method"},
		{"", NULL, 1, {{0}}, 0, "empty HTTP method"},
		{"GET", NULL, 1, {F("Bad Name", "x")}, 1, "not a token"},
		{"GET", NULL, 1, {F("X-A", "a\r\nb")}, 1, "line break"},
		{"GET", NULL, 1, {F("Host", "a"), F("HOST", "b")}, 2, "is given more than once"},
		{"POST", "abc", 1, {F("Content-Length", "4")}, 1, "contradicts the body"},
		{"POST", "abc", 1, {F("Content-Length", "3x")}, 1, "not a length"},
		{"POST", "abc", 1, {F("Content-Length", "")}, 1, "contradicts"},
		{"POST", "abc", 0, {F("Content-Length", "3")}, 1, "varies per request"},
		{"POST", "abc", 1, {F("Content-Length", "3"), F("content-length", "3")}, 2, "given more than once"},
		{"GET", NULL, 1, {F("User-Agent", "a"), F("user-agent", "b")}, 2, "given more than once"},
		{"GET", NULL, 1, {F("Host", " ")}, 1, "is not a host"},
		{"POST", "abc", 1, {{"Content-Length", NULL, 14, 0}}, 1, "cannot be a template"},
		{"POST", "abc", 1, {F("Transfer-Encoding", "gzip, chunked")}, 1, "only 'chunked'"},
		{"POST", "abc", 1, {F("Transfer-Encoding", "chunked"), F("Content-Length", "3")}, 2, "contradict each other"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_request q = {0};
		unsigned flags = 0;
		char err[256] = "";

		q.method = bad[i].method;
		q.target = "/";
		q.target_len = 1;
		q.authority = "h";
		q.fields = bad[i].fields;
		q.nfields = bad[i].nfields;
		q.body = bad[i].body;
		q.body_len = bad[i].body ? strlen(bad[i].body) : 0;
		if (http_request_check(&q, bad[i].body_static, &flags, err, sizeof(err)) != -1 || !strstr(err, bad[i].needle))
			fail_msg("case %zu: err '%s'", i, err);
	}
}

static void test_write_refuses_framing_values(void **state)
{
	static const http_field evil[] = {F("X-A", "ok"), F("X-B", "a\r\nX-Evil: 1")};
	http_request q = {0};
	buf out;

	(void)state;
	buf_init(&out, 0, 1 << 20);
	q.method = "GET";
	q.authority = "h";
	q.fields = evil;
	q.nfields = 2;
	q.target = "/a";
	q.target_len = 2;
	assert_int_equal(http_request_write(&q, &out), HTTP_REQ_EVALUE);
	q.nfields = 1;
	q.target = "/a b";
	q.target_len = 4;
	buf_reset(&out);
	assert_int_equal(http_request_write(&q, &out), HTTP_REQ_EVALUE);
	q.target = "/a\r\nX: y";
	q.target_len = strlen(q.target);
	buf_reset(&out);
	assert_int_equal(http_request_write(&q, &out), HTTP_REQ_EVALUE);
	q.target = "";
	q.target_len = 0;
	assert_int_equal(http_request_write(&q, &out), HTTP_REQ_EVALUE);
	buf_free(&out);
}

static void test_write_limit(void **state)
{
	http_request q = {0};
	buf out;
	char body[200];

	(void)state;
	memset(body, 'x', sizeof(body));
	buf_init(&out, 0, 128);
	q.method = "POST";
	q.authority = "h";
	q.target = "/";
	q.target_len = 1;
	q.body = body;
	q.body_len = sizeof(body);
	q.flags = HTTP_REQ_BODY;
	assert_int_equal(http_request_write(&q, &out), HTTP_REQ_ETOOBIG);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_check_refusals), cmocka_unit_test(test_cookie_header),
		cmocka_unit_test(test_write_refuses_framing_values),
		cmocka_unit_test(test_write_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
