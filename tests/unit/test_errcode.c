/* Error classification and the small parsers users feed: errno -> k6 code,
 * status -> code, durations, URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "core/parse.h"
#include "core/errcode.h"
#include "http/url.h"

static void test_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(err_from_dial_errno(ECONNREFUSED), 1212);
	assert_int_equal(err_from_dial_errno(ETIMEDOUT), 1211);
	assert_int_equal(err_from_dial_errno(ENETUNREACH), 1213);
	assert_int_equal(err_from_dial_errno(EMFILE), 1214);
	assert_int_equal(err_from_dial_errno(ENFILE), 1214);
	assert_int_equal(err_from_dial_errno(EADDRNOTAVAIL), 1215);
	assert_int_equal(err_from_io_errno(ECONNRESET), 1220);
	assert_int_equal(err_from_io_errno(EPIPE), 1201);
	assert_int_equal(err_from_io_errno(EIO), 1202);
	assert_int_equal(err_from_status(200), 0);
	assert_int_equal(err_from_status(399), 0);
	assert_int_equal(err_from_status(404), 1404);
	assert_int_equal(err_from_status(503), 1503);
	assert_string_equal(err_describe(1212), "dial: connection refused");
	assert_string_equal(err_describe(1050), "request timeout");
	/* Every code we emit has its own description. */
	{
		static const int codes[] = {1000, 1020, 1050, 1100, 1101, 1200, 1201, 1202, 1210, 1211,
					    1212, 1213, 1214, 1215, 1220, 1230, 1300, 1310, 1311, 1312, 1313, 1720,
					    1721, 1722};
		size_t i, j;

		for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
			for (j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++)
				assert_string_not_equal(err_describe(codes[i]), err_describe(codes[j]));
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {{"10s", 10000000000ULL}, {"1m30s", 90000000000ULL}, {"250ms", 250000000ULL},
		  {"1.5s", 1500000000ULL},  {"2h", 7200000000000ULL},  {"100us", 100000ULL},
		  {"3", 3000000000ULL},     {"1h1m1s", 3661000000000ULL}, {"0s", 0}};
	static const char *bad[] = {"", "s", "10x", "1m-3s", "abc", "1..5s", "3 s", "5 10s"};
	size_t i;
	uint64_t v;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse_duration_ns(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].ns);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_duration_ns(bad[i], &v) == 0)
			fail_msg("accepted duration '%s'", bad[i]);
	assert_int_equal(parse_u64("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("0", 1, 100, &v), -1);
	assert_int_equal(parse_u64("4x", 1, 100, &v), -1);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -1);
}

static void test_urls(void **state)
{
	http_url u;
	char err[256];

	(void)state;
	assert_int_equal(http_url_parse("http://127.0.0.1:8080/jobs?page=2#frag", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8080");
	assert_string_equal(u.authority, "127.0.0.1:8080");
	assert_string_equal(u.target, "/jobs?page=2");
	http_url_free(&u);
	assert_int_equal(http_url_parse("http://[::1]:9000", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.authority, "[::1]:9000");
	assert_string_equal(u.target, "/");
	http_url_free(&u);
	assert_int_equal(http_url_parse("http://example.test?x=1", &u, err, sizeof(err)), 0);
	assert_string_equal(u.port, "80");
	assert_string_equal(u.target, "/?x=1");
	http_url_free(&u);
	assert_int_equal(http_url_parse("ftp://x/", &u, err, sizeof(err)), -1);
	assert_int_equal(http_url_parse("http://:80/", &u, err, sizeof(err)), -1);
	assert_int_equal(http_url_parse("http://h:99999/", &u, err, sizeof(err)), -1);
	assert_int_equal(http_url_parse("http://h:8x/", &u, err, sizeof(err)), -1);
	assert_int_equal(http_url_parse("http://[::1/", &u, err, sizeof(err)), -1);
	/* A target is normalised, not refused: what a URL never carries raw
	 * is percent-encoded, an escape already there is kept. */
	assert_int_equal(http_url_parse("http://h/a b/\xc3\xa9%41%g?q=\"x\"#f", &u, err, sizeof(err)), 0);
	assert_string_equal(u.target, "/a%20b/%C3%A9%41%25g?q=%22x%22");
	http_url_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
