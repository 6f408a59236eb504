/* libFuzzer driver for templates: the first byte picks the escaping (raw,
 * URL, JSON) and whether the source is appended twice; the rest, up to a
 * NUL, is compiled with fixed names (env HOST and ODD; variables token, id,
 * empty; data users.name, users.pass, items.sku) and expanded twice with a
 * fixed context. Besides crashes and sanitizer reports it aborts when an
 * invariant breaks: a failed compile has a message and an offset inside the
 * source; a static template expands to its text; a numeric one to digits.
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "program/tmpl.h"

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			abort();                                                                                       \
	} while (0)

static int env_cb(void *ctx, const char *name, const char **value)
{
	(void)ctx;
	if (!strcmp(name, "HOST")) {
		*value = "127.0.0.1";
		return 0;
	}
	if (!strcmp(name, "ODD")) {
		*value = "a \"b\"&c=d\\\n%";
		return 0;
	}
	return -1;
}

static int var_cb(void *ctx, const char *name, uint32_t *slot)
{
	static const char *const names[] = {"token", "id", "empty"};
	uint32_t i;

	(void)ctx;
	for (i = 0; i < 3; i++)
		if (!strcmp(name, names[i])) {
			*slot = i;
			return 0;
		}
	return -1;
}

static int data_cb(void *ctx, const char *alias, const char *column, uint32_t *alias_idx, uint32_t *col_idx)
{
	(void)ctx;
	if (!strcmp(alias, "users") && (!strcmp(column, "name") || !strcmp(column, "pass"))) {
		*alias_idx = 0;
		*col_idx = column[0] == 'p';
		return 0;
	}
	if (!strcmp(alias, "items") && !strcmp(column, "sku")) {
		*alias_idx = 1;
		*col_idx = 0;
		return 0;
	}
	return -1;
}

static int all_digits(const char *s, size_t n)
{
	size_t i = 0;

	if (n && s[0] == '-')
		i = 1;
	if (i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const user_row[] = {"alice", "p@ss word\"1"};
	static const char *const item_row[] = {"SKU-\x01-42"};
	static const char *const *const rows[] = {user_row, item_row};
	const tmpl_names names = {NULL, env_cb, var_cb, data_cb};
	tmpl_esc esc;
	int twice;
	char *src, err[256];
	size_t err_off = (size_t)-1, srclen;
	buf vars[3], out, again;
	uint64_t rng = 0x853c49e6748fea9bULL;
	tmpl_ctx c;
	tmpl t;
	int rc;

	if (!size)
		return 0;
	esc = (tmpl_esc)(data[0] % 3);
	twice = (data[0] >> 2) & 1;
	src = malloc(size);
	CHECK(src != NULL);
	memcpy(src, data + 1, size - 1);
	src[size - 1] = '\0';
	srclen = strlen(src);

	tmpl_init(&t);
	err[0] = '\0';
	rc = tmpl_add(&t, src, esc, &names, err, sizeof(err), &err_off);
	if (rc == 0 && twice)
		rc = tmpl_add(&t, src, esc, &names, err, sizeof(err), &err_off);
	if (rc < 0) {
		CHECK(err[0] != '\0');
		CHECK(err_off < srclen);
		goto out;
	}

	buf_init(&vars[0], 16, 1 << 10);
	buf_init(&vars[1], 16, 1 << 10);
	buf_init(&vars[2], 16, 1 << 10);
	CHECK(buf_append(&vars[0], "abc\"&= 123", 10) == 0);
	CHECK(buf_append(&vars[1], "42", 2) == 0);
	c = (tmpl_ctx){.vu = 3, .iter = 7, .module = "shop/\"x\"", .rng = &rng, .vars = vars, .data_rows = rows};
	buf_init(&out, 64, 1 << 20);
	buf_init(&again, 64, 1 << 20);
	rc = tmpl_expand(&t, &c, &out);
	CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		if (tmpl_static(&t))
			CHECK(out.len == t.text_len && (!out.len || !memcmp(out.data, t.text, out.len)));
		if (tmpl_is_numeric(&t))
			CHECK(all_digits(out.data, out.len));
	}
	/* Into a buffer that already holds something, and with a tiny maximum. */
	CHECK(tmpl_expand(&t, &c, &out) >= -1);
	buf_free(&again);
	buf_init(&again, 1, 8);
	CHECK(tmpl_expand(&t, &c, &again) >= -1);
	CHECK(again.len <= 8);
	buf_free(&again);
	buf_free(&out);
	buf_free(&vars[0]);
	buf_free(&vars[1]);
	buf_free(&vars[2]);
out:
	tmpl_free(&t);
	free(src);
	return 0;
}
