/* Templates: every expression compiles and expands; literal text and
 * expanded values are escaped for where they land (form/query components,
 * paths, inline queries, JSON strings, headers); environment values become
 * literals; bad expressions are refused with their offset; a header value
 * with a line break fails the expansion rather than being written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "program/tmpl.h"

static const char *env_vals[][2] = {{"TOKEN", "s3cret"}, {"SP", "a b&c"}, {"NL", "x\r\ny"}, {"Q", "say \"hi\""}};

static int env(void *ctx, const char *name, const char **value)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(env_vals) / sizeof(env_vals[0]); i++)
		if (!strcmp(env_vals[i][0], name)) {
			*value = env_vals[i][1];
			return 0;
		}
	return -1;
}

static int var(void *ctx, const char *name, uint32_t *slot)
{
	(void)ctx;
	if (!strcmp(name, "token")) {
		*slot = 0;
		return 0;
	}
	if (!strcmp(name, "id")) {
		*slot = 1;
		return 0;
	}
	return -1;
}

static int data(void *ctx, const char *alias, const char *column, uint32_t *ai, uint32_t *ci)
{
	(void)ctx;
	if (strcmp(alias, "users") || strcmp(column, "name"))
		return -1;
	*ai = 0;
	*ci = 0;
	return 0;
}

static const tmpl_names names = {NULL, env, var, data};

/* Compiles src for esc, expands with the variables given, returns the
 * expansion's status and the text in out. */
static int expand(const char *src, tmpl_esc esc, const char *token, const char *id, const char *cell, buf *out,
		  int *dynamic)
{
	tmpl t;
	char err[256];
	size_t off = 0;
	buf vars[2];
	const char *row[1] = {cell};
	const char *const *rows[1] = {row};
	uint64_t rng = 42;
	tmpl_ctx c = {.vu = 3, .iter = 0, .module = "mod ule", .rng = &rng, .vars = vars, .data_rows = rows};
	int rc;

	tmpl_init(&t);
	buf_init(&vars[0], 0, 1 << 20);
	buf_init(&vars[1], 0, 1 << 20);
	buf_appends(&vars[0], token ? token : "");
	buf_appends(&vars[1], id ? id : "");
	buf_reset(out);
	assert_int_equal(tmpl_add(&t, src, esc, &names, err, sizeof(err), &off), 0);
	if (dynamic)
		*dynamic = t.dynamic;
	rc = tmpl_expand(&t, &c, out);
	buf_append(out, "", 1);
	tmpl_free(&t);
	buf_free(&vars[0]);
	buf_free(&vars[1]);
	return rc;
}

typedef struct tcase {
	const char *src;
	tmpl_esc esc;
	const char *token, *id, *cell;
	const char *want;
	int dynamic;
} tcase;

static const tcase cases[] = {
	/* raw bodies: as they are */
	{"a&b=c d {{token}}", TESC_NONE, "t\"k", NULL, NULL, "a&b=c d t\"k", 1},
	{"{{vu}}-{{iter}}-{{module}}", TESC_NONE, NULL, NULL, NULL, "3-0-mod ule", 1},
	/* form and query components: literal text encoded like values */
	{"a&b=c d", TESC_URL, NULL, NULL, NULL, "a%26b%3Dc%20d", 0},
	{"x {{token}}", TESC_URL, "1&2=3", NULL, NULL, "x%201%262%3D3", 1},
	{"{{env.SP}}", TESC_URL, NULL, NULL, NULL, "a%20b%26c", 0},
	{"caf\xc3\xa9~._-", TESC_URL, NULL, NULL, NULL, "caf%C3%A9~._-", 0},
	/* paths: literal normalised, values encoded but for / and sub-delims */
	{"/a b/caf\xc3\xa9/%41", TESC_PATH, NULL, NULL, NULL, "/a%20b/caf%C3%A9/%41", 0},
	{"/u/{{id}}", TESC_PATH, NULL, "7/x?y#z %", NULL, "/u/7/x%3Fy%23z%20%25", 1},
	{"/u/{{id}}", TESC_PATH, NULL, "a\r\nHost: evil", NULL, "/u/a%0D%0AHost:%20evil", 1},
	{"/{{module}}", TESC_PATH, NULL, NULL, NULL, "/mod%20ule", 1},
	/* inline query: literal kept but for the unsafe, values as components */
	{"?a=1&b=<x>", TESC_QUERY, NULL, NULL, NULL, "?a=1&b=%3Cx%3E", 0},
	{"?q={{token}}&n={{data.users.name}}", TESC_QUERY, "a&b=c", NULL, "\xc3\xbc \n", "?q=a%26b%3Dc&n=%C3%BC%20%0A", 1},
	/* JSON strings: literal text escaped too */
	{"say \"hi\" \\ {{token}}", TESC_JSON, "\"\n\x01", NULL, NULL, "say \\\"hi\\\" \\\\ \\\"\\u000A\\u0001", 1},
	{"{{env.Q}}", TESC_JSON, NULL, NULL, NULL, "say \\\"hi\\\"", 0},
	/* headers: environment-only values are static literals */
	{"Bearer {{env.TOKEN}}", TESC_HEADER, NULL, NULL, NULL, "Bearer s3cret", 0},
	{"Bearer {{token}}", TESC_HEADER, "abc\tdef", NULL, NULL, "Bearer abc\tdef", 1},
	{"{{rand_int 5 5}}/{{rand_choice only}}", TESC_NONE, NULL, NULL, NULL, "5/only", 1},
};

static void test_escaping_table(void **state)
{
	buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0, 1 << 20);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int dyn = -1, rc = expand(cases[i].src, cases[i].esc, cases[i].token, cases[i].id, cases[i].cell, &out, &dyn);

		if (rc != 0 || strcmp(out.data, cases[i].want) != 0 || dyn != cases[i].dynamic)
			fail_msg("case %zu '%s': rc %d, got '%s' (dynamic %d), want '%s' (dynamic %d)", i, cases[i].src, rc,
				 out.data, dyn, cases[i].want, cases[i].dynamic);
	}
	buf_free(&out);
}

static void test_header_values_with_line_breaks_fail(void **state)
{
	static const char *const bad[] = {"a\r\nX-Evil: 1", "a\n", "a\rb", "bell\x07", "del\x7f"};
	buf out;
	size_t i;

	(void)state;
	buf_init(&out, 0, 1 << 20);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(expand("Bearer {{token}}", TESC_HEADER, bad[i], NULL, NULL, &out, NULL), TMPL_EVALUE);
	assert_int_equal(expand("{{data.users.name}}", TESC_HEADER, NULL, NULL, "x\ny", &out, NULL), TMPL_EVALUE);
	buf_free(&out);
}

static void test_refusals(void **state)
{
	static const struct {
		const char *src;
		tmpl_esc esc;
		size_t off;
		const char *needle;
	} bad[] = {
		{"a {{nope}}", TESC_NONE, 2, "unknown variable"},
		{"a {{vu", TESC_NONE, 2, "closing"},
		{"x{{}}", TESC_NONE, 1, "empty"},
		{"{{rand_int 9 1}}", TESC_NONE, 0, "MIN <= MAX"},
		{"{{rand_int a 1}}", TESC_NONE, 0, "whole numbers"},
		{"{{rand_int -4 88888888888888888888}}", TESC_NONE, 0, "whole numbers"},
		{"{{vu 1}}", TESC_NONE, 0, "no arguments"},
		{"{{frobnicate 1}}", TESC_NONE, 0, "unknown function"},
		{"ab{{env.MISSING}}", TESC_NONE, 2, "not set"},
		{"{{env.NL}}", TESC_HEADER, 0, "line break"},
		{"line\nbreak", TESC_HEADER, 0, "line break"},
		{"{{data.users}}", TESC_NONE, 0, "data.ALIAS.COLUMN"},
		{"{{data.users.age}}", TESC_NONE, 0, "no data column"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tmpl t;
		char err[256] = "";
		size_t off = 99;

		tmpl_init(&t);
		if (tmpl_add(&t, bad[i].src, bad[i].esc, &names, err, sizeof(err), &off) != -1 || off != bad[i].off ||
		    !strstr(err, bad[i].needle))
			fail_msg("case '%s': off %zu, err '%s'", bad[i].src, off, err);
		tmpl_free(&t);
	}
}

static void test_random_parts_stay_in_range(void **state)
{
	tmpl t;
	char err[256];
	size_t off, i;
	uint64_t rng = 7;
	tmpl_ctx c = {.vu = 1, .module = "m", .rng = &rng};
	buf out;
	int seen[3] = {0};

	(void)state;
	tmpl_init(&t);
	buf_init(&out, 0, 1 << 20);
	assert_int_equal(tmpl_add(&t, "{{rand_int -1 1}} {{rand_choice a b}} {{uuid}}", TESC_NONE, &names, err,
				  sizeof(err), &off),
			 0);
	for (i = 0; i < 1000; i++) {
		long n;
		char word[8], uuid[64];

		buf_reset(&out);
		assert_int_equal(tmpl_expand(&t, &c, &out), 0);
		buf_append(&out, "", 1);
		assert_int_equal(sscanf(out.data, "%ld %7s %63s", &n, word, uuid), 3);
		assert_true(n >= -1 && n <= 1);
		seen[n + 1]++;
		assert_true(!strcmp(word, "a") || !strcmp(word, "b"));
		assert_int_equal(strlen(uuid), 36);
		assert_int_equal(uuid[14], '4');
		assert_non_null(strchr("89ab", uuid[19]));
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	/* The whole 64-bit range: no overflow (UBSan checks), any value. */
	tmpl_free(&t);
	tmpl_init(&t);
	assert_int_equal(tmpl_add(&t, "{{rand_int -9223372036854775808 9223372036854775807}}", TESC_NONE, &names, err,
				  sizeof(err), &off),
			 0);
	buf_reset(&out);
	assert_int_equal(tmpl_expand(&t, &c, &out), 0);
	assert_true(out.len > 0);
	buf_free(&out);
	tmpl_free(&t);
}

static void test_expansion_limit(void **state)
{
	tmpl t;
	char err[256];
	size_t off;
	uint64_t rng = 1;
	buf vars[1], out;
	tmpl_ctx c = {.vu = 1, .module = "m", .rng = &rng, .vars = vars};

	(void)state;
	tmpl_init(&t);
	buf_init(&vars[0], 0, 1 << 20);
	buf_init(&out, 0, 16);
	buf_appends(&vars[0], "0123456789abcdefghij");
	assert_int_equal(tmpl_add(&t, "{{token}}", TESC_NONE, &names, err, sizeof(err), &off), 0);
	assert_int_equal(tmpl_expand(&t, &c, &out), TMPL_ETOOBIG);
	buf_free(&out);
	buf_free(&vars[0]);
	tmpl_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping_table),
		cmocka_unit_test(test_header_values_with_line_breaks_fail),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_random_parts_stay_in_range),
		cmocka_unit_test(test_expansion_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
