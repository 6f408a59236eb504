/* The cookie jar (RFC 6265): Set-Cookie parsing, domain-match and
 * host-only, path-match and the default path, expiry (Max-Age over
 * Expires, deletion), Secure, the sending order, the limits (size,
 * count, eviction); the date parser; and Location resolution (RFC 3986
 * section 5.2, with its examples of 5.4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/cookie.h"
#include "http/url.h"

#define SEC UINT64_C(1000000000)
#define NOW (1000 * SEC)
#define WALL INT64_C(1700000000) /* 2023-11-14 22:13:20 UTC */

static cookie_url url(const char *host, const char *path, int secure)
{
	cookie_url u = {host, path, strlen(path), secure};

	return u;
}

static int set(cookie_jar *j, const char *v, const char *host, const char *path)
{
	cookie_url u = url(host, path, 0);

	return cookie_jar_set(j, v, strlen(v), &u, NOW, WALL);
}

/* The Cookie value the jar sends to host+path at now ("" for none). */
static const char *header_at(cookie_jar *j, const char *host, const char *path, int secure, uint64_t now)
{
	static char out[8192];
	cookie_url u = url(host, path, secure);
	buf b;

	buf_init(&b, 0, 1 << 20);
	assert_true(cookie_jar_header(j, &u, now, &b) >= 0);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	return out;
}

static const char *header(cookie_jar *j, const char *host, const char *path)
{
	return header_at(j, host, path, 0, NOW);
}

static void test_parse_and_send(void **state)
{
	cookie_jar *j = cookie_jar_create();

	(void)state;
	assert_int_equal(set(j, "a=1", "example.com", "/"), COOKIE_STORED);
	assert_int_equal(set(j, " b = two words ; HttpOnly; SameSite=Strict", "example.com", "/"), COOKIE_STORED);
	assert_string_equal(header(j, "example.com", "/"), "a=1; b=two words");
	/* Malformed: no '=', an empty name, too large. */
	assert_int_equal(set(j, "novalue", "example.com", "/"), COOKIE_IGNORED);
	assert_int_equal(set(j, "=x", "example.com", "/"), COOKIE_IGNORED);
	{
		char big[COOKIE_MAX_BYTES + 16];

		memset(big, 'v', sizeof(big) - 1);
		big[0] = 'n', big[1] = '=';
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(set(j, big, "example.com", "/"), COOKIE_IGNORED);
	}
	/* Replacing keeps one cookie of a name, domain and path. */
	assert_int_equal(set(j, "a=3", "example.com", "/"), COOKIE_STORED);
	assert_string_equal(header(j, "example.com", "/"), "a=3; b=two words");
	assert_int_equal(cookie_jar_count(j), 2);
	cookie_jar_clear(j);
	assert_string_equal(header(j, "example.com", "/"), "");
	cookie_jar_destroy(j);
}

static void test_domain(void **state)
{
	cookie_jar *j = cookie_jar_create();

	(void)state;
	/* Host-only: that host exactly. */
	set(j, "h=1", "www.example.com", "/");
	/* Domain: it and its subdomains; a leading dot is ignored. */
	assert_int_equal(set(j, "d=1; Domain=.Example.COM", "www.example.com", "/"), COOKIE_STORED);
	/* A domain the host does not domain-match is refused. */
	assert_int_equal(set(j, "x=1; Domain=other.com", "www.example.com", "/"), COOKIE_IGNORED);
	assert_int_equal(set(j, "x=1; Domain=ww.example.com", "www.example.com", "/"), COOKIE_IGNORED);
	assert_string_equal(header(j, "www.example.com", "/"), "h=1; d=1");
	assert_string_equal(header(j, "WWW.EXAMPLE.COM", "/"), "h=1; d=1");
	assert_string_equal(header(j, "example.com", "/"), "d=1");
	assert_string_equal(header(j, "a.b.example.com", "/"), "d=1");
	assert_string_equal(header(j, "badexample.com", "/"), "");
	assert_string_equal(header(j, "sub.www.example.com", "/"), "d=1");
	/* IP addresses match only themselves. */
	assert_int_equal(set(j, "ip=1; Domain=0.0.1", "127.0.0.1", "/"), COOKIE_IGNORED);
	assert_int_equal(set(j, "ip=2; Domain=127.0.0.1", "127.0.0.1", "/"), COOKIE_STORED);
	assert_string_equal(header(j, "127.0.0.1", "/"), "ip=2");
	assert_true(cookie_domain_match("a.example.com", 13, "example.com", 11));
	assert_false(cookie_domain_match("1.2.3.4", 7, "2.3.4", 5));
	cookie_jar_destroy(j);
}

static void test_path(void **state)
{
	cookie_jar *j = cookie_jar_create();

	(void)state;
	assert_true(cookie_path_match("/x", 2, "/x", 2));
	assert_true(cookie_path_match("/x/y", 4, "/x", 2));
	assert_true(cookie_path_match("/x/y", 4, "/x/", 3));
	assert_false(cookie_path_match("/xy", 3, "/x", 2));
	assert_true(cookie_path_match("/x?q=1", 6, "/x", 2));
	assert_false(cookie_path_match("/", 1, "/x", 2));
	set(j, "root=1; Path=/", "h", "/a/b");
	set(j, "x=1; Path=/x", "h", "/");
	set(j, "xy=1; Path=/x/y", "h", "/");
	/* Default path: the request's up to its last '/'. */
	set(j, "dflt=1", "h", "/d/e/f?q=/z");
	set(j, "top=1", "h", "/page");
	/* A Path that is not absolute is the default path. */
	set(j, "rel=1; Path=rel", "h", "/r/s");
	assert_string_equal(header(j, "h", "/"), "root=1; top=1");
	assert_string_equal(header(j, "h", "/x"), "x=1; root=1; top=1");
	/* Longer paths first, then earlier creation. */
	assert_string_equal(header(j, "h", "/x/y/z"), "xy=1; x=1; root=1; top=1");
	assert_string_equal(header(j, "h", "/xyz"), "root=1; top=1");
	assert_string_equal(header(j, "h", "/d/e/g"), "dflt=1; root=1; top=1");
	assert_string_equal(header(j, "h", "/d/eg"), "root=1; top=1");
	assert_string_equal(header(j, "h", "/r/t"), "rel=1; root=1; top=1");
	cookie_jar_destroy(j);
}

static void test_expiry(void **state)
{
	cookie_jar *j = cookie_jar_create();

	(void)state;
	set(j, "s=1", "h", "/");
	set(j, "m=1; Max-Age=60", "h", "/");
	set(j, "e=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT", "h", "/"); /* WALL + 1 day */
	assert_string_equal(header(j, "h", "/"), "s=1; m=1; e=1");
	assert_string_equal(header_at(j, "h", "/", 0, NOW + 61 * SEC), "s=1; e=1");
	assert_string_equal(header_at(j, "h", "/", 0, NOW + 86401 * SEC), "s=1");
	/* Max-Age wins over Expires. */
	set(j, "w=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT; Max-Age=10", "h", "/");
	assert_string_equal(header_at(j, "h", "/", 0, NOW + 11 * SEC), "s=1; m=1; e=1");
	/* Max-Age=0, a negative one, an Expires in the past: deleted. */
	assert_int_equal(set(j, "m=gone; Max-Age=0", "h", "/"), COOKIE_DELETED);
	assert_int_equal(set(j, "s=gone; Max-Age=-5", "h", "/"), COOKIE_DELETED);
	assert_int_equal(set(j, "e=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "h", "/"), COOKIE_DELETED);
	assert_string_equal(header(j, "h", "/"), "w=1");
	/* A malformed Max-Age is ignored. */
	assert_int_equal(set(j, "b=1; Max-Age=abc", "h", "/"), COOKIE_STORED);
	assert_string_equal(header_at(j, "h", "/", 0, NOW + 1000000 * SEC), "b=1");
	cookie_jar_destroy(j);
}

static void test_secure(void **state)
{
	cookie_jar *j = cookie_jar_create();

	(void)state;
	set(j, "sec=1; Secure", "h", "/");
	set(j, "plain=1", "h", "/");
	assert_string_equal(header_at(j, "h", "/", 0, NOW), "plain=1");
	assert_string_equal(header_at(j, "h", "/", 1, NOW), "sec=1; plain=1");
	cookie_jar_destroy(j);
}

static void test_limits(void **state)
{
	cookie_jar *j = cookie_jar_create();
	char v[64];
	int i, evicted = 0;
	const char *val;
	size_t len;
	cookie_url u = url("h", "/", 0);

	(void)state;
	for (i = 0; i < COOKIE_JAR_MAX + 10; i++) {
		snprintf(v, sizeof(v), "c%d=%d", i, i);
		if (set(j, v, "h", "/") == COOKIE_EVICTED)
			evicted++;
	}
	assert_int_equal(evicted, 10);
	assert_int_equal(cookie_jar_count(j), COOKIE_JAR_MAX);
	/* The oldest went. */
	assert_int_equal(cookie_jar_find(j, "c9", &u, NOW, &val, &len), 0);
	assert_int_equal(cookie_jar_find(j, "c10", &u, NOW, &val, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(val, "10", 2);
	/* Churn: replacing and deleting over and over reuses the arena. */
	for (i = 0; i < 10000; i++) {
		char big[3000];

		memset(big, 'x', sizeof(big));
		memcpy(big, "big=", 4);
		big[sizeof(big) - 1] = '\0';
		assert_int_not_equal(set(j, big, "h", "/"), COOKIE_IGNORED);
		assert_int_equal(set(j, "big=; Max-Age=0", "h", "/"), COOKIE_DELETED);
	}
	assert_int_equal(cookie_jar_find(j, "c73", &u, NOW, &val, &len), 1);
	assert_memory_equal(val, "73", 2);
	cookie_jar_destroy(j);
	cookie_jar_destroy(NULL);
}

static void test_dates(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(cookie_date_parse("Wed, 21 Oct 2015 07:28:00 GMT", 29, &t), 0);
	assert_int_equal(t, INT64_C(1445412480));
	assert_int_equal(cookie_date_parse("Wednesday, 21-Oct-15 07:28:00 GMT", 33, &t), 0);
	assert_int_equal(t, INT64_C(1445412480));
	assert_int_equal(cookie_date_parse("Wed Oct 21 07:28:00 2015", 24, &t), 0);
	assert_int_equal(t, INT64_C(1445412480));
	assert_int_equal(cookie_date_parse("Thu, 01 Jan 1970 00:00:00 GMT", 29, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cookie_date_parse("not a date", 10, &t), -1);
	assert_int_equal(cookie_date_parse("Wed, 32 Oct 2015 07:28:00 GMT", 29, &t), -1);
	assert_int_equal(cookie_date_parse("Wed, 21 Oct 2015 25:28:00 GMT", 29, &t), -1);
}

/* RFC 3986 5.4's examples against its base http://a/b/c/d;p?q. */
static void test_resolve(void **state)
{
	static const struct {
		const char *ref, *want;
	} cases[] = {
		{"g", "/b/c/g"},          {"./g", "/b/c/g"},      {"g/", "/b/c/g/"},
		{"/g", "/g"},             {"?y", "/b/c/d;p?y"},   {"g?y", "/b/c/g?y"},
		{"#s", "/b/c/d;p?q"},     {"g#s", "/b/c/g"},      {"g?y#s", "/b/c/g?y"},
		{";x", "/b/c/;x"},        {"g;x", "/b/c/g;x"},    {"", NULL},
		{".", "/b/c/"},           {"./", "/b/c/"},        {"..", "/b/"},
		{"../", "/b/"},           {"../g", "/b/g"},       {"../..", "/"},
		{"../../", "/"},          {"../../g", "/g"},      {"../../../g", "/g"},
		{"../../../../g", "/g"},  {"/./g", "/g"},         {"/../g", "/g"},
		{"g.", "/b/c/g."},        {".g", "/b/c/.g"},      {"g..", "/b/c/g.."},
		{"..g", "/b/c/..g"},      {"./../g", "/b/g"},     {"./g/.", "/b/c/g/"},
		{"g/./h", "/b/c/g/h"},    {"g/../h", "/b/c/h"},   {"g;x=1/./y", "/b/c/g;x=1/y"},
		{"g;x=1/../y", "/b/c/y"}, {"g?y/./x", "/b/c/g?y/./x"},
	};
	http_loc base = {0, "a", "80", "a"}, out;
	buf t;
	size_t i;

	(void)state;
	buf_init(&t, 0, 1 << 16);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = http_url_resolve(&base, "/b/c/d;p?q", 10, cases[i].ref, strlen(cases[i].ref), &out, &t);

		if (!cases[i].want) {
			assert_int_equal(rc, -1);
			continue;
		}
		if (rc != 0 || t.len != strlen(cases[i].want) || memcmp(t.data, cases[i].want, t.len) != 0)
			fail_msg("'%s': rc %d, got '%.*s', want '%s'", cases[i].ref, rc, (int)t.len, t.data,
				 cases[i].want);
		assert_string_equal(out.host, "a");
		assert_string_equal(out.port, "80");
		assert_int_equal(out.tls, 0);
	}
	/* Absolute and network-path references: scheme, host, port, Host. */
	assert_int_equal(http_url_resolve(&base, "/x", 2, "https://Other.example:8443/p/../q?z#f", 37, &out, &t), 0);
	assert_int_equal(out.tls, 1);
	assert_string_equal(out.host, "Other.example");
	assert_string_equal(out.port, "8443");
	assert_string_equal(out.authority, "Other.example:8443");
	assert_int_equal(t.len, 4);
	assert_memory_equal(t.data, "/q?z", 4);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "//[::1]:81", 10, &out, &t), 0);
	assert_string_equal(out.host, "::1");
	assert_string_equal(out.port, "81");
	assert_string_equal(out.authority, "[::1]:81");
	assert_int_equal(t.len, 1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "http://u:p@h", 12, &out, &t), 0);
	assert_string_equal(out.host, "h");
	assert_string_equal(out.authority, "h");
	assert_string_equal(out.port, "80");
	assert_int_equal(http_url_resolve(&base, "/x", 2, "HTTPS://h/", 10, &out, &t), 0);
	assert_string_equal(out.port, "443");
	/* Not followed: other schemes, bad ports, control bytes. */
	assert_int_equal(http_url_resolve(&base, "/x", 2, "ftp://h/", 8, &out, &t), -1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "mailto:a@b", 10, &out, &t), -1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "http://h:99999/", 15, &out, &t), -1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "http://h:8x/", 12, &out, &t), -1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "/a\r\nb", 5, &out, &t), -1);
	assert_int_equal(http_url_resolve(&base, "/x", 2, "http:///p", 9, &out, &t), -1);
	buf_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_send), cmocka_unit_test(test_domain), cmocka_unit_test(test_path),
		cmocka_unit_test(test_expiry),         cmocka_unit_test(test_secure), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_dates),          cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
