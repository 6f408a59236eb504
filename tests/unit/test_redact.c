/* Secrets kept out of text (core/redact.h): values and their encoded
 * forms, credential names in URLs and bodies, and the registry interning
 * tag values with them hidden. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "metrics/registry.h"

#define M REDACT_MARK

static char *apply(const redact *r, const char *s, int kind)
{
	buf b;

	buf_init(&b, 0, 1 << 20);
	if (kind == 0)
		redact_text(r, s, strlen(s), &b);
	else if (kind == 1)
		redact_url(r, s, strlen(s), &b);
	else
		redact_body(r, s, strlen(s), &b);
	buf_append(&b, "", 1);
	return b.data;
}

static void expect(const redact *r, int kind, const char *in, const char *want)
{
	char *got = apply(r, in, kind);

	assert_string_equal(got, want);
	free(got);
}

static void test_values(void **state)
{
	redact *r = redact_create();

	(void)state;
	assert_int_equal(redact_add_value(r, "abc"), 0); /* too short to hide */
	assert_int_equal(redact_add_value(r, "s3cr3t"), 1);
	assert_int_equal(redact_add_value(r, "s3cr3t"), 0);
	assert_int_equal(redact_add_value(r, "p@ss word\""), 1);
	assert_int_equal(redact_add_value(r, "s3cr3t-longer"), 1);
	assert_int_equal(redact_nvalues(r), 3);
	expect(r, 0, "x s3cr3t y s3cr3ts3cr3t", "x " M " y " M M);
	/* the longest known secret wins over one it contains */
	expect(r, 0, "[s3cr3t-longer]", "[" M "]");
	/* the forms it takes on the wire: percent-encoded, JSON-escaped */
	expect(r, 0, "q=p%40ss%20word%22&", "q=" M "&");
	expect(r, 0, "{\"a\":\"p@ss word\\\"\"}", "{\"a\":\"" M "\"}");
	expect(r, 0, "abc nothing here", "abc nothing here");
	expect(NULL, 0, "s3cr3t", "s3cr3t");
	redact_destroy(r);
	redact_destroy(NULL);
}

static void test_names(void **state)
{
	static const char *const secret[] = {"token", "TOKEN", "api_key", "Api-Key", "apikey", "access_token",
					     "refresh_token", "id_token", "password", "client_secret", "sig",
					     "X-Amz-Signature", "key", "secret", "auth", "passwd", "sessionid", NULL};
	static const char *const plain[] = {"page", "keyboard", "monkey", "q", "name", "id", "tokens_used_for", "",
					    NULL};
	redact *r = redact_create();
	size_t i;

	(void)state;
	for (i = 0; secret[i]; i++)
		assert_true(redact_name_secret(NULL, secret[i], strlen(secret[i])));
	for (i = 0; plain[i]; i++)
		assert_false(redact_name_secret(NULL, plain[i], strlen(plain[i])));
	assert_true(redact_header_secret(NULL, "Authorization", 13));
	assert_true(redact_header_secret(NULL, "set-cookie", 10));
	assert_true(redact_header_secret(NULL, "Proxy-Authorization", 19));
	assert_true(redact_header_secret(NULL, "X-Api-Key", 9));
	assert_false(redact_header_secret(NULL, "X-Session", 9));
	assert_false(redact_header_secret(NULL, "Content-Type", 12));
	redact_add_name(r, "X-Session");
	assert_true(redact_header_secret(r, "x-session", 9));
	assert_true(redact_name_secret(r, "x_session", 9));
	redact_destroy(r);
}

static void test_urls(void **state)
{
	redact *r = redact_create();

	(void)state;
	expect(NULL, 1, "http://h/a?page=2&api_key=k1&token=t2#frag", "http://h/a?page=2&api_key=" M "&token=" M "#frag");
	expect(NULL, 1, "/a?x=1&password=", "/a?x=1&password=");
	expect(NULL, 1, "/a?token={{env.T}}&sig={{sig}}", "/a?token={{env.T}}&sig={{sig}}");
	expect(NULL, 1, "https://user:pw1234@h:8443/p?q=1", "https://user:" M "@h:8443/p?q=1");
	expect(NULL, 1, "https://user@h/p", "https://user@h/p");
	expect(NULL, 1, "/items?key=abc: status is 200", "/items?key=" M ": status is 200");
	expect(NULL, 1, "/plain/path", "/plain/path");
	redact_add_value(r, "path-secret");
	expect(r, 1, "/u/path-secret?flag", "/u/" M "?flag");
	redact_destroy(r);
}

static void test_bodies(void **state)
{
	redact *r = redact_create();

	(void)state;
	expect(NULL, 2, "{\"user\":\"a\",\"password\":\"pw\\\"1\",\"n\":{\"token\" : \"t\"}}",
	       "{\"user\":\"a\",\"password\":\"" M "\",\"n\":{\"token\" : \"" M "\"}}");
	expect(NULL, 2, "[\"token\", \"kept\"]", "[\"token\", \"kept\"]");
	expect(NULL, 2, "{\"key\": 12}", "{\"key\": 12}");
	expect(NULL, 2, "user=a&password=pw&x=1", "user=a&password=" M "&x=1");
	expect(NULL, 2, "just some text = here", "just some text = here");
	expect(NULL, 2, "{\"password\":\"unterminated", "{\"password\":\"unterminated");
	/* An echoed request (httpbin's "headers"): credential headers by name. */
	expect(NULL, 2, "{\"headers\": {\"Cookie\": \"session=s1\", \"Authorization\": \"Bearer t\", \"Accept\": \"*/*\"}}",
	       "{\"headers\": {\"Cookie\": \"" M "\", \"Authorization\": \"" M "\", \"Accept\": \"*/*\"}}");
	redact_add_name(r, "sid");
	redact_add_value(r, "envsecret");
	expect(r, 2, "{\"sid\": \"x1\", \"note\": \"has envsecret\"}", "{\"sid\": \"" M "\", \"note\": \"has " M "\"}");
	redact_destroy(r);
}

/* Tag values are hidden once, when interned: the samples carry ids. */
static void test_registry(void **state)
{
	met_registry *reg = met_registry_create();
	redact *r = redact_create();
	met_tag tags[] = {{"url", "http://h/x?token=abc123&p=1"}, {"owner", "team-envsecret"}, {"method", "GET"}};
	met_tag other[] = {{"url", "http://h/x?token=zzz999&p=1"}, {"owner", "team-envsecret"}, {"method", "GET"}};
	met_tag run[] = {{"deploy", "envsecret"}};
	const met_tagset *ts;
	uint32_t a, b;

	(void)state;
	redact_add_value(r, "envsecret");
	met_registry_set_redact(reg, r);
	met_registry_set_run_tags(reg, run, 1);
	a = met_tagset_intern(reg, tags, 3);
	b = met_tagset_intern(reg, other, 3);
	/* two tokens, one series: the value that told them apart is gone */
	assert_int_equal(a, b);
	ts = met_tagset_get(reg, a);
	assert_string_equal(met_tagset_value(ts, "url"), "http://h/x?token=" M "&p=1");
	assert_string_equal(met_tagset_value(ts, "owner"), "team-" M);
	assert_string_equal(met_tagset_value(ts, "method"), "GET");
	assert_string_equal(met_tagset_value(ts, "deploy"), M);
	met_registry_destroy(reg);
	redact_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
