/* http/proxy: NO_PROXY matching by Go's httpproxy rules (the rules k6
 * users get), proxy URLs with credentials, and the CONNECT request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/proxy.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_no_proxy(void **state)
{
	static const struct {
		const char *list, *host, *port;
		int match;
	} cases[] = {
		{"*", "anything.test", "80", 1},
		{"*", "10.0.0.1", "443", 1},
		/* A name: itself and its subdomains, on label boundaries. */
		{"example.com", "example.com", "80", 1},
		{"example.com", "api.example.com", "80", 1},
		{"example.com", "a.b.example.com", "80", 1},
		{"example.com", "badexample.com", "80", 0},
		{"example.com", "example.com.evil", "80", 0},
		/* A leading "." or "*.": subdomains only. */
		{".example.com", "example.com", "80", 0},
		{".example.com", "api.example.com", "80", 1},
		{"*.example.com", "example.com", "80", 0},
		{"*.example.com", "api.example.com", "80", 1},
		/* Case does not matter. */
		{"Example.COM", "api.example.com", "80", 1},
		{"example.com", "API.Example.Com", "80", 1},
		/* A port: that port only. */
		{"example.com:8080", "example.com", "8080", 1},
		{"example.com:8080", "example.com", "80", 0},
		{".example.com:443", "x.example.com", "443", 1},
		/* IP addresses and blocks. */
		{"10.1.2.3", "10.1.2.3", "80", 1},
		{"10.1.2.3", "10.1.2.4", "80", 0},
		{"10.1.2.3:80", "10.1.2.3", "80", 1},
		{"10.1.2.3:80", "10.1.2.3", "81", 0},
		{"10.0.0.0/8", "10.200.3.4", "80", 1},
		{"10.0.0.0/8", "11.0.0.1", "80", 0},
		{"10.0.0.0/8", "ten.test", "80", 0},
		{"192.168.1.0/25", "192.168.1.127", "80", 1},
		{"192.168.1.0/25", "192.168.1.128", "80", 0},
		{"0.0.0.0/0", "203.0.113.9", "80", 1},
		{"::1", "::1", "80", 1},
		{"[::1]:8080", "::1", "8080", 1},
		{"[::1]:8080", "::1", "80", 0},
		{"fd00::/8", "fd12::1", "80", 1},
		{"fd00::/8", "fe80::1", "80", 0},
		/* An IPv4 block never matches an IPv6 host, nor the reverse. */
		{"0.0.0.0/0", "::1", "80", 0},
		{"::/0", "127.0.0.1", "80", 0},
		/* Lists: any entry; spaces around entries and empty ones ignored. */
		{" a.test , b.test ", "b.test", "80", 1},
		{"a.test,,b.test", "c.test", "80", 0},
		{"a.test,10.0.0.0/8", "10.9.9.9", "80", 1},
		{"", "a.test", "80", 0},
		/* Nonsense entries match nothing. */
		{"10.0.0.0/99", "10.0.0.1", "80", 0},
		{"[::1", "::1", "80", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++)
		if (http_no_proxy_match(cases[i].list, cases[i].host, cases[i].port) != cases[i].match)
			fail_msg("NO_PROXY='%s' %s:%s: want %d", cases[i].list, cases[i].host, cases[i].port,
				 cases[i].match);
	assert_int_equal(http_no_proxy_match(NULL, "a.test", "80"), 0);
}

static void test_proxy_urls(void **state)
{
	static const struct {
		const char *s;
		const char *host, *port, *auth;
	} cases[] = {
		{"http://127.0.0.1:3128", "127.0.0.1", "3128", NULL},
		{"http://127.0.0.1:3128/", "127.0.0.1", "3128", NULL},
		/* No scheme means http://, as Go's; no port means 80. */
		{"127.0.0.1:3128", "127.0.0.1", "3128", NULL},
		{"http://proxy.test", "proxy.test", "80", NULL},
		{"HTTP://[::1]:8888", "::1", "8888", NULL},
		/* base64("user:pass"); a user alone has an empty password. */
		{"http://user:pass@proxy.test:1", "proxy.test", "1", "Basic dXNlcjpwYXNz"},
		{"http://user@proxy.test:1", "proxy.test", "1", "Basic dXNlcjo="},
		/* Percent-encoded userinfo: "u@x" and "p:w". */
		{"http://u%40x:p%3Aw@proxy.test:1", "proxy.test", "1", "Basic dUB4OnA6dw=="},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		http_proxy p;
		char err[256] = "";

		if (http_proxy_parse(cases[i].s, &p, err, sizeof(err)) < 0)
			fail_msg("%s: %s", cases[i].s, err);
		assert_string_equal(p.url.host, cases[i].host);
		assert_string_equal(p.url.port, cases[i].port);
		if (cases[i].auth)
			assert_string_equal(p.auth, cases[i].auth);
		else
			assert_null(p.auth);
		http_proxy_free(&p);
	}
}

static void test_proxy_urls_refused(void **state)
{
	static const struct {
		const char *s, *why;
	} cases[] = {
		{"https://proxy.test:443", "over http:// only"},
		{"socks5://127.0.0.1:1080", "over http:// only"},
		{"http://proxy.test:3128/path", "a proxy URL has no path"},
		{"http://", ""},
		{"http://proxy.test:99999", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		http_proxy p;
		char err[256] = "";

		if (http_proxy_parse(cases[i].s, &p, err, sizeof(err)) != -1 || !strstr(err, cases[i].why) || !err[0])
			fail_msg("%s: accepted, or '%s' (want '%s')", cases[i].s, err, cases[i].why);
		assert_null(p.auth);
	}
}

static void test_connect_request(void **state)
{
	buf b;

	(void)state;
	buf_init(&b, 0, 4096);
	assert_int_equal(http_proxy_connect_write("api.test:443", NULL, &b), 0);
	assert_int_equal(b.len, strlen("CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n"));
	assert_memory_equal(b.data, "CONNECT api.test:443 HTTP/1.1\r\nHost: api.test:443\r\n\r\n", b.len);
	b.len = 0;
	assert_int_equal(http_proxy_connect_write("[::1]:8443", "Basic dTpw", &b), 0);
	assert_memory_equal(b.data,
			    "CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
			    b.len);
	buf_free(&b);
	/* Past the buffer's maximum: refused, not truncated. */
	buf_init(&b, 0, 16);
	assert_int_equal(http_proxy_connect_write("api.test:443", NULL, &b), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_proxy),
		cmocka_unit_test(test_proxy_urls),
		cmocka_unit_test(test_proxy_urls_refused),
		cmocka_unit_test(test_connect_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
