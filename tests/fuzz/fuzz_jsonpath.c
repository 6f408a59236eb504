/* libFuzzer driver for the JSON path evaluator: the input up to its first
 * newline is a path, the rest a document (no newline: the whole input is a
 * document). The path is compiled and, with a few fixed ones, evaluated on
 * the document; found values go through jsonpath_text and jsonpath_equals.
 * Besides crashes and sanitizer reports, it aborts when an invariant breaks:
 * a found value lies inside the document, has a text, and equals itself.
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "program/jsonpath.h"

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			abort();                                                                                       \
	} while (0)

static void run(const char *src, const char *doc, size_t len, const char *lit, size_t lit_len)
{
	jsonpath p;
	json_kind kind = JK_NONE;
	const char *raw = NULL;
	size_t raw_len = 0, err_pos = 0;
	char err[128], small[16], *big;
	ssize_t n;
	int rc;

	if (jsonpath_compile(src, &p, err, sizeof(err), &err_pos) < 0) {
		CHECK(err_pos <= strlen(src) && err[0]);
		return;
	}
	rc = jsonpath_eval(&p, doc, len, &kind, &raw, &raw_len);
	CHECK(rc >= -1 && rc <= 1);
	if (rc == 1) {
		CHECK(kind != JK_NONE && raw >= doc && raw + raw_len <= doc + len && raw_len > 0);
		n = jsonpath_text(kind, raw, raw_len, NULL, 0);
		CHECK(n >= 0);
		CHECK(jsonpath_text(kind, raw, raw_len, small, sizeof(small)) == n);
		CHECK(strlen(small) <= sizeof(small) - 1);
		big = malloc((size_t)n + 1);
		CHECK(big != NULL);
		CHECK(jsonpath_text(kind, raw, raw_len, big, (size_t)n + 1) == n);
		free(big);
		CHECK(jsonpath_equals(kind, raw, raw_len, raw, raw_len) == 1);
		jsonpath_equals(kind, raw, raw_len, lit, lit_len);
		jsonpath_equals(kind, raw, raw_len, doc, len);
	}
	jsonpath_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {"$", "$[0]", "$[-1]", "$.a", "$.a[1].b", "$[-9][0]"};
	const uint8_t *nl = memchr(data, '\n', size);
	const char *doc = (const char *)data;
	size_t len = size, plen = 0, k;
	char path[512];

	if (nl) {
		plen = (size_t)(nl - data);
		doc = (const char *)nl + 1;
		len = size - plen - 1;
	}
	if (plen > sizeof(path) - 1)
		plen = sizeof(path) - 1;
	memcpy(path, data, plen);
	path[plen] = '\0';
	/* The path line doubles as an expected literal for jsonpath_equals. */
	if (nl)
		run(path, doc, len, path, plen);
	for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		run(fixed[k], doc, len, path, plen);
	return 0;
}
