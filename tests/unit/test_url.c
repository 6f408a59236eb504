/* Absolute URLs (http/url): scheme, host (IPv6 in brackets), port with
 * the scheme's default, authority for the Host header, request target; and
 * the URLs we refuse, each with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "http/url.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_good_urls(void **state)
{
	static const struct {
		const char *url;
		const char *scheme, *host, *port, *authority, *target;
	} cases[] = {
		{"http://127.0.0.1/", "http", "127.0.0.1", "80", "127.0.0.1", "/"},
		{"http://127.0.0.1", "http", "127.0.0.1", "80", "127.0.0.1", "/"},
		{"https://127.0.0.1", "https", "127.0.0.1", "443", "127.0.0.1", "/"},
		{"https://localhost:8443/a", "https", "localhost", "8443", "localhost:8443", "/a"},
		{"http://localhost:1/", "http", "localhost", "1", "localhost:1", "/"},
		{"http://localhost:65535/", "http", "localhost", "65535", "localhost:65535", "/"},
		/* An explicit default port stays in the authority as written. */
		{"http://h:80/x", "http", "h", "80", "h:80", "/x"},
		{"http://[::1]:8080/p", "http", "::1", "8080", "[::1]:8080", "/p"},
		{"http://[::1]", "http", "::1", "80", "[::1]", "/"},
		{"https://[::1]/", "https", "::1", "443", "[::1]", "/"},
		{"http://[fe80::1%25lo]:81/", "http", "fe80::1%25lo", "81", "[fe80::1%25lo]:81", "/"},
		{"http://[2001:db8::7]:9000?q=1", "http", "2001:db8::7", "9000", "[2001:db8::7]:9000", "/?q=1"},
		/* Query without a path gets one; the fragment never leaves. */
		{"http://h?x=1&y=2", "http", "h", "80", "h", "/?x=1&y=2"},
		{"http://h/jobs?page=2#frag", "http", "h", "80", "h", "/jobs?page=2"},
		{"http://h#frag", "http", "h", "80", "h", "/"},
		{"http://h/#frag", "http", "h", "80", "h", "/"},
		{"http://h/a/b/../c?d=%20e", "http", "h", "80", "h", "/a/b/../c?d=%20e"},
		{"http://h:8080?", "http", "h", "8080", "h:8080", "/?"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		http_url u;
		char err[256] = "";

		if (http_url_parse(cases[i].url, &u, err, sizeof(err)) != 0)
			fail_msg("rejected '%s': %s", cases[i].url, err);
		assert_string_equal(u.scheme, cases[i].scheme);
		assert_string_equal(u.host, cases[i].host);
		assert_string_equal(u.port, cases[i].port);
		assert_string_equal(u.authority, cases[i].authority);
		assert_string_equal(u.target, cases[i].target);
		http_url_free(&u);
		/* Freeing twice is harmless: the pointers are cleared. */
		http_url_free(&u);
	}
}

static void test_bad_urls(void **state)
{
	static const struct {
		const char *url;
		const char *reason; /* a word the message must contain */
	} cases[] = {
		{"", "only http"},
		{"127.0.0.1:8080", "only http"},
		{"ftp://h/", "only http"},
		{"ws://h/", "only http"},
		{"http:/h/", "only http"},
		{"//h/", "only http"},
		{"http://user:pw@h/", "user info"},
		{"http://@h/", "user info"},
		{"http://", "invalid host"},
		{"http:///path", "invalid host"},
		{"http://:80/", "invalid host"},
		{"http://?q", "invalid host"},
		{"http://[]:80/", "invalid host"},
		{"http://[::1/", "unterminated"},
		{"http://[::1", "unterminated"},
		{"http://[::1]x/", "invalid host"},
		{"http://[::1]8080/", "invalid host"},
		{"http://h:/", "invalid port"},
		{"http://h:0/", "invalid port"},
		{"http://h:65536/", "invalid port"},
		{"http://h:99999/", "invalid port"},
		{"http://h:123456/", "invalid port"},
		{"http://h:8x/", "invalid port"},
		{"http://h:-1/", "invalid port"},
		{"http://h:+80/", "invalid port"},
		{"http://h: 80/", "invalid port"},
		{"http://[::1]:/", "invalid port"},
		{"http://[::1]:0/", "invalid port"},
		{"http://::1/", "invalid host"},   /* IPv6 needs brackets */
		{"http://h:1:2/", "invalid port"},
		{"http://a b/", "invalid host"},
		{"http://a\r\nb/", "invalid host"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		http_url u;
		char err[256] = "";

		if (http_url_parse(cases[i].url, &u, err, sizeof(err)) == 0) {
			http_url_free(&u);
			fail_msg("accepted '%s'", cases[i].url);
		}
		if (!strstr(err, cases[i].reason))
			fail_msg("'%s': message '%s' does not say '%s'", cases[i].url, err, cases[i].reason);
		/* Nothing is left allocated after a failure. */
		assert_null(u.authority);
		assert_null(u.target);
	}
}

/* A target is normalised, never refused: what a URL never carries raw is
 * percent-encoded, escapes already there are kept, a fragment is dropped. */
static void test_targets_normalised(void **state)
{
	static const struct {
		const char *url, *target;
	} cases[] = {
		{"http://h/a b", "/a%20b"},
		{"http://h/a\tb", "/a%09b"},
		{"http://h/a\x7f", "/a%7F"},
		{"http://h/?q=\x01", "/?q=%01"},
		{"http://h/caf\xc3\xa9", "/caf%C3%A9"},
		{"http://h/%41%2f%zz%", "/%41%2f%25zz%25"},
		{"http://h/a\r\nHost: x", "/a%0D%0AHost:%20x"},
		{"http://h/<x>\"{|}\\^`", "/%3Cx%3E%22%7B%7C%7D%5C%5E%60"},
		{"http://h/keep!$&'()*+,;=:@/?a=b&c=d", "/keep!$&'()*+,;=:@/?a=b&c=d"},
		{"http://h/x#frag ment", "/x"},
		{"HTTP://h/x", "/x"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		http_url u;
		char err[256] = "";

		if (http_url_parse(cases[i].url, &u, err, sizeof(err)) != 0)
			fail_msg("refused '%s': %s", cases[i].url, err);
		if (strcmp(u.target, cases[i].target) != 0)
			fail_msg("'%s': target '%s', want '%s'", cases[i].url, u.target, cases[i].target);
		http_url_free(&u);
	}
}

static void test_host_length(void **state)
{
	char url[400], host[300], err[600]; /* the message quotes the URL */
	http_url u;

	(void)state;
	/* host[] holds 255 bytes and a NUL: a 255-byte name fits, 256 does not. */
	memset(host, 'a', 255);
	host[255] = '\0';
	snprintf(url, sizeof(url), "http://%s:81/", host);
	assert_int_equal(http_url_parse(url, &u, err, sizeof(err)), 0);
	assert_int_equal(strlen(u.host), 255);
	assert_string_equal(u.port, "81");
	http_url_free(&u);
	host[255] = 'a';
	host[256] = '\0';
	snprintf(url, sizeof(url), "http://%s/", host);
	assert_int_equal(http_url_parse(url, &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid host"));
}

static void test_small_error_buffer(void **state)
{
	http_url u;
	char err[8];

	(void)state;
	/* A message longer than the buffer is cut, not overflowed. */
	assert_int_equal(http_url_parse("gopher://a-long-host-name/", &u, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_urls),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_targets_normalised),
		cmocka_unit_test(test_host_length),
		cmocka_unit_test(test_small_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
