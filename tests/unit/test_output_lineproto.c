/* Line protocol: escaping in every context, number formats, the
 * aggregated point builder and the k6-schema encoder, table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "metrics/hist.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "output/influx.h"
#include "output/influx_schema.h"
#include "output/lineproto.h"

static const char *text(buf *b)
{
	buf_append(b, "", 1);
	b->len--;
	return b->data;
}

static void test_measurement_escaping(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{"http_reqs", "http_reqs"},
		{"a b", "a\\ b"},
		{"a,b", "a\\,b"},
		{"a=b", "a=b"},              /* '=' is plain in a measurement */
		{"a\"b", "a\"b"},
		{"line\nbreak", "line\\ break"},
		{"tab\there", "tab\\ here"},
		{"end\\", "end\\\\"},         /* a trailing backslash would escape the separator */
		{"back\\slash", "back\\slash"},
		{"back\\,comma", "back\\\\\\,comma"},
		{"", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf b;

		buf_init(&b, 0, 1024);
		assert_int_equal(lp_measurement_append(&b, cases[i].in), 0);
		assert_string_equal(text(&b), cases[i].out);
		buf_free(&b);
	}
}

static void test_tag_escaping(void **state)
{
	static const struct { const char *k, *v, *out; } cases[] = {
		{"status", "200", ",status=200"},
		{"name", "GET /a b", ",name=GET\\ /a\\ b"},
		{"url", "http://h/p?a=1,b=2", ",url=http://h/p?a\\=1\\,b\\=2"},
		{"key with space", "v", ",key\\ with\\ space=v"},
		{"k=k", "v", ",k\\=k=v"},
		{"k", "", ""},                 /* empty tags are left out */
		{"k", "trailing\\", ",k=trailing\\\\"},
		{"k", "quote\"d", ",k=quote\"d"},  /* quotes are plain in tags */
		{"k", "cr\r\nlf", ",k=cr\\ \\ lf"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf b;

		buf_init(&b, 0, 1024);
		assert_int_equal(lp_tag_append(&b, cases[i].k, cases[i].v), 0);
		assert_string_equal(text(&b), cases[i].out);
		buf_free(&b);
	}
}

static void test_fields(void **state)
{
	buf b;

	(void)state;
	buf_init(&b, 0, 1024);
	assert_int_equal(lp_field_float_append(&b, "value", 1, 1), 0);
	assert_int_equal(lp_field_float_append(&b, "f", 0.25, 0), 0);
	assert_int_equal(lp_field_int_append(&b, "count", 42, 0), 0);
	assert_int_equal(lp_field_int_append(&b, "neg", -7, 0), 0);
	assert_int_equal(lp_field_string_append(&b, "url", "http://x/\"q\"\\", 0), 0);
	assert_int_equal(lp_field_string_append(&b, "s p", "a,b c=d", 0), 0);
	assert_int_equal(lp_time_append(&b, 1700000000123456789ULL), 0);
	assert_string_equal(text(&b), " value=1,f=0.25,count=42i,neg=-7i,url=\"http://x/\\\"q\\\"\\\\\",s\\ p=\"a,b c=d\" "
				      "1700000000123456789\n");
	buf_free(&b);
}

static void test_numbers(void **state)
{
	static const struct { double v; const char *out; } nums[] = {
		{0, "0"}, {1, "1"}, {-3, "-3"}, {1e15, "1000000000000000"}, {0.1, "0.1"},
		{1.0 / 3, "0.33333333333333331"}, {2.5e-7, "2.5e-07"}, {1e300, "1e+300"}, {0.1 + 0.2, "0.30000000000000004"},
	};
	static const struct { uint64_t ns; int fixed; const char *out; } ms[] = {
		{0, 0, "0"}, {1, 0, "0.000001"}, {1000000, 0, "1"}, {1234567, 0, "1.234567"}, {1500000, 0, "1.5"},
		{1500000, 1, "1.500000"}, {0, 1, "0.000000"}, {123456789012ULL, 0, "123456.789012"},
	};
	char out[LP_NUM_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		size_t n = lp_num_format(out, nums[i].v);

		assert_string_equal(out, nums[i].out);
		assert_int_equal(n, strlen(nums[i].out));
		assert_true(strtod(out, NULL) == nums[i].v);
	}
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		size_t n = lp_ms_format(out, ms[i].ns, ms[i].fixed);

		assert_int_equal(n, strlen(ms[i].out));
		out[n] = '\0';
		assert_string_equal(out, ms[i].out);
	}
}

static void test_buffer_limit_cuts_back(void **state)
{
	buf b;
	met_registry *r = met_registry_create();
	met_shard s;
	met_tag tags[] = {{"status", "200"}};
	uint32_t ts = met_tagset_intern(r, tags, 1);
	uint32_t reqs = met_series_intern(r, MET_HTTP_REQS, ts);
	int i;

	(void)state;
	met_shard_init(&s);
	for (i = 0; i < 3; i++)
		met_shard_add(&s, r, reqs, 1);
	buf_init(&b, 0, 16);
	assert_int_equal(lp_tag_append(&b, "k", "0123456789abcdef"), -1);
	b.len = 0;
	buf_appends(&b, "keep");
	assert_int_equal(influx_agg_append(&b, r, &s, 1, "host"), -1);
	assert_int_equal(b.len, 4);
	buf_free(&b);
	met_shard_free(&s);
	met_registry_destroy(r);
}

static void test_aggregated_points(void **state)
{
	met_registry *r = met_registry_create();
	met_tag ok[] = {{"status", "200"}, {"method", "GET"}, {"url", "http://h/a b"}, {"name", ""}};
	met_tag bad[] = {{"status", "503"}, {"method", "GET"}, {"url", "http://h/a b"}, {"error_code", "1503"}};
	uint32_t t_ok = met_tagset_intern(r, ok, 4), t_bad = met_tagset_intern(r, bad, 4);
	uint32_t reqs_ok = met_series_intern(r, MET_HTTP_REQS, t_ok), reqs_bad = met_series_intern(r, MET_HTTP_REQS, t_bad);
	uint32_t dur = met_series_intern(r, MET_HTTP_REQ_DURATION, t_ok);
	uint32_t failed = met_series_intern(r, MET_HTTP_REQ_FAILED, t_bad);
	uint32_t failed_ok = met_series_intern(r, MET_HTTP_REQ_FAILED, t_ok);
	uint32_t vus = met_series_intern(r, MET_VUS, 0);
	uint32_t untouched = met_series_intern(r, MET_DATA_SENT, 0);
	met_shard s;
	buf b;
	int i;

	(void)state;
	(void)untouched;
	met_shard_init(&s);
	for (i = 1; i <= 4; i++) {
		met_shard_add(&s, r, reqs_ok, 1);
		met_shard_trend(&s, r, dur, (uint64_t)i * 1000000); /* 1, 2, 3, 4 ms */
		met_shard_rate(&s, r, failed_ok, 0);
	}
	met_shard_add(&s, r, reqs_bad, 1);
	met_shard_rate(&s, r, failed, 1);
	met_shard_gauge(&s, r, vus, 3);
	met_shard_gauge(&s, r, vus, 5);
	buf_init(&b, 0, 1 << 20);
	assert_int_equal(influx_agg_append(&b, r, &s, 1700000000000000000ULL, "box 1"), 6);
	{
		/* Percentiles are what the merged histogram says (bucket
		 * midpoints, within 0.78%), in ms. */
		const met_hist *h = s.cells[dur].hist;
		static const double ps[] = {50, 90, 95, 99}, truth[] = {2.5, 3.7, 3.85, 3.97};
		char expect[2048], p[4][LP_NUM_MAX];
		size_t k;

		for (k = 0; k < 4; k++) {
			double v = met_hist_percentile(h, ps[k]) / 1e6;

			assert_true(v > truth[k] * 0.99 && v < truth[k] * 1.01);
			lp_num_format(p[k], v);
		}
		snprintf(expect, sizeof(expect),
			 "http_reqs,instance=box\\ 1,method=GET,status=200,url=http://h/a\\ b count=4i,sum=4 1700000000000000000\n"
			 "http_req_duration,instance=box\\ 1,method=GET,status=200,url=http://h/a\\ b "
			 "count=4i,sum=10,min=1,max=4,mean=2.5,p50=%s,p90=%s,p95=%s,p99=%s 1700000000000000000\n"
			 "http_req_failed,instance=box\\ 1,method=GET,status=200,url=http://h/a\\ b count=4i,passes=0i,rate=0 "
			 "1700000000000000000\n"
			 "http_reqs,error_code=1503,instance=box\\ 1,method=GET,status=503,url=http://h/a\\ b count=1i,sum=1 "
			 "1700000000000000000\n"
			 "http_req_failed,error_code=1503,instance=box\\ 1,method=GET,status=503,url=http://h/a\\ b "
			 "count=1i,passes=1i,rate=1 1700000000000000000\n"
			 "vus,instance=box\\ 1 value=5,min=3,max=5 1700000000000000000\n",
			 p[0], p[1], p[2], p[3]);
		assert_string_equal(text(&b), expect);
	}
	buf_free(&b);
	met_shard_free(&s);
	met_registry_destroy(r);
}

static void test_k6_points(void **state)
{
	met_registry *r = met_registry_create();
	met_tag tags[] = {{"status", "200"}, {"url", "http://h/p?a=\"1\""}, {"method", "GET"}, {"group", ""},
			  {"zone", "eu west"}};
	uint32_t ts = met_tagset_intern(r, tags, 5);
	uint32_t reqs = met_series_intern(r, MET_HTTP_REQS, ts), dur = met_series_intern(r, MET_HTTP_REQ_DURATION, ts);
	uint32_t vus = met_series_intern(r, MET_VUS, 0);
	met_sample s1 = {1000, 7, 3, reqs, 1}, s2 = {2000, 7, 3, dur, 1234567}, s3 = {3000, 0, 0, vus, 10};
	influx_k6_enc e;
	buf b;

	(void)state;
	influx_k6_init(&e, r, "h1");
	buf_init(&b, 0, 1 << 20);
	assert_int_equal(influx_k6_append(&e, &b, &s1), 0);
	assert_int_equal(influx_k6_append(&e, &b, &s2), 0);
	assert_int_equal(influx_k6_append(&e, &b, &s3), 0);
	assert_int_equal(influx_k6_append(&e, &b, &s1), 0); /* from the cache */
	assert_string_equal(text(&b),
		"http_reqs,instance=h1,method=GET,status=200,zone=eu\\ west value=1,url=\"http://h/p?a=\\\"1\\\"\",vu=3i,iter=7i 1000\n"
		"http_req_duration,instance=h1,method=GET,status=200,zone=eu\\ west value=1.234567,url=\"http://h/p?a=\\\"1\\\"\","
		"vu=3i,iter=7i 2000\n"
		"vus,instance=h1 value=10 3000\n"
		"http_reqs,instance=h1,method=GET,status=200,zone=eu\\ west value=1,url=\"http://h/p?a=\\\"1\\\"\",vu=3i,iter=7i 1000\n");
	buf_free(&b);
	/* A full buffer leaves it as it was. */
	buf_init(&b, 0, 40);
	buf_appends(&b, "x");
	assert_int_equal(influx_k6_append(&e, &b, &s2), -1);
	assert_int_equal(b.len, 1);
	buf_free(&b);
	influx_k6_free(&e);
	met_registry_destroy(r);
}

static void test_config_parse(void **state)
{
	influx_config c;
	char err[256];

	(void)state;
	unsetenv("STRAIN_INFLUXDB_USERNAME");
	assert_int_equal(influx_config_parse(&c, 0, "http://127.0.0.1:8086/k6", err, sizeof(err)), 0);
	assert_string_equal(c.host, "127.0.0.1");
	assert_string_equal(c.port, "8086");
	assert_string_equal(c.db, "k6");
	assert_false(c.k6_schema);
	assert_null(c.user);
	influx_config_free(&c);

	assert_int_equal(influx_config_parse(&c, 0, "http://me:p%40ss@[::1]:9/my%20db?schema=k6&buffer=10&concurrency=3"
						    "&max_body=2048&timeout=2s&flush=1s&retries=0&rp=week",
					     err, sizeof(err)), 0);
	assert_string_equal(c.host, "::1");
	assert_string_equal(c.db, "my db");
	assert_string_equal(c.user, "me");
	assert_string_equal(c.password, "p@ss");
	assert_string_equal(c.rp, "week");
	assert_true(c.k6_schema);
	assert_int_equal(c.buffer, 10);
	assert_int_equal(c.concurrency, 3);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(c.retries, 0);
	influx_config_free(&c);

	setenv("STRAIN_INFLUXDB_USERNAME", "envuser", 1);
	setenv("STRAIN_INFLUXDB_PASSWORD", "envpass", 1);
	assert_int_equal(influx_config_parse(&c, 0, "http://h/db", err, sizeof(err)), 0);
	assert_string_equal(c.user, "envuser");
	assert_string_equal(c.password, "envpass");
	assert_string_equal(c.port, "80");
	influx_config_free(&c);
	unsetenv("STRAIN_INFLUXDB_USERNAME");

	unsetenv("STRAIN_INFLUXDB_TOKEN");
	assert_int_equal(influx_config_parse(&c, 1, "http://h:8086?org=o&bucket=b", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "STRAIN_INFLUXDB_TOKEN"));
	setenv("STRAIN_INFLUXDB_TOKEN", "secret-token", 1);
	assert_int_equal(influx_config_parse(&c, 1, "http://h:8086/?org=my+org&bucket=b&schema=aggregated", err,
					     sizeof(err)), 0);
	assert_string_equal(c.org, "my org");
	assert_string_equal(c.bucket, "b");
	assert_string_equal(c.token, "secret-token");
	influx_config_free(&c);

	/* https: TLS, and the scheme's default port. */
	assert_int_equal(influx_config_parse(&c, 0, "https://h/db", err, sizeof(err)), 0);
	assert_int_equal(c.tls, 1);
	assert_string_equal(c.port, "443");
	influx_config_free(&c);

	/* Errors, none of which may echo a password. */
	{
		static const char *const bad1[] = {
			"http://h:8086", "http://h/db?schema=x", "http://h/db?bogus=1",
			"http://h/db?buffer=0", "http://h/db?concurrency=99", "http://u:hunter2@h:99999/db",
			"http://h/a/b", "ftp://h/db", "http://h/db?timeout=soon", "http://h/%zz",
		};
		size_t i;

		for (i = 0; i < sizeof(bad1) / sizeof(bad1[0]); i++) {
			assert_int_equal(influx_config_parse(&c, 0, bad1[i], err, sizeof(err)), -1);
			assert_null(strstr(err, "hunter2"));
		}
		assert_int_equal(influx_config_parse(&c, 1, "http://h:8086/path?org=o&bucket=b", err, sizeof(err)), -1);
		assert_int_equal(influx_config_parse(&c, 1, "http://h:8086?org=o", err, sizeof(err)), -1);
		assert_int_equal(influx_config_parse(&c, 1, "http://u:p@h:8086?org=o&bucket=b", err, sizeof(err)), -1);
	}
}

static void test_redact(void **state)
{
	char out[256];

	(void)state;
	assert_string_equal(output_spec_redact("influxdb=http://me:hunter2@h:8086/db", out, sizeof(out)),
			    "influxdb=http://me:***@h:8086/db");
	assert_string_equal(output_spec_redact("influxdb=http://me@h/db", out, sizeof(out)), "influxdb=http://me@h/db");
	assert_string_equal(output_spec_redact("json=a@b.json", out, sizeof(out)), "json=a@b.json");
	assert_string_equal(output_spec_redact("influxdb=http://h/db?x=a@b", out, sizeof(out)), "influxdb=http://h/db?x=a@b");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measurement_escaping),
		cmocka_unit_test(test_tag_escaping),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_buffer_limit_cuts_back),
		cmocka_unit_test(test_aggregated_points),
		cmocka_unit_test(test_k6_points),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
