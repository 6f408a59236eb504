/* libFuzzer driver for redaction (core/redact.h), which reads what servers
 * send (response bodies and headers --http-debug prints) and what plans
 * hold (URLs, tag values): the input's first line is a list of secret
 * values separated by '\t', the rest a text run through redact_text,
 * redact_url and redact_body. Besides crashes and sanitizer reports, it
 * aborts when the promise breaks: a secret value is still in the output.
 * (Values sharing a character with the marker are left out of that check:
 * the marker itself could complete them.)
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/redact.h"

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			abort();                                                                                       \
	} while (0)

static int has(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	return k && memmem(hay, n, needle, k) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = xmalloc(size + 1), *nl, *body, *vals[16], *save = NULL, *v;
	size_t nvals = 0, blen, i;
	redact *r = redact_create();
	buf out;
	int kind;

	memcpy(copy, data, size);
	copy[size] = '\0';
	nl = memchr(copy, '\n', size);
	body = nl ? nl + 1 : copy + size;
	blen = size - (size_t)(body - copy);
	if (nl) {
		*nl = '\0';
		for (v = strtok_r(copy, "\t", &save); v && nvals < 16; v = strtok_r(NULL, "\t", &save)) {
			redact_add_value(r, v);
			redact_add_name(r, v);
			vals[nvals++] = v;
		}
	}
	for (kind = 0; kind < 3; kind++) {
		buf_init(&out, 0, (size_t)1 << 24);
		if (kind == 0)
			redact_text(r, body, blen, &out);
		else if (kind == 1)
			redact_url(r, body, blen, &out);
		else
			redact_body(r, body, blen, &out);
		for (i = 0; i < nvals; i++)
			if (strlen(vals[i]) >= REDACT_MIN_LEN && !strpbrk(vals[i], "*SECRT_DA"))
				CHECK(!has(out.data ? out.data : "", out.len, vals[i]));
		buf_free(&out);
	}
	CHECK(redact_nvalues(r) <= nvals);
	redact_destroy(r);
	free(copy);
	return 0;
}
