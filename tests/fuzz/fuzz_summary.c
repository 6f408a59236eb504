/* libFuzzer driver for the summary reader (report/summary_read): the input
 * is a summary file. Besides crashes, sanitizer reports and leaks, it
 * aborts when an invariant breaks: a refused input has a message; an
 * accepted one is written back, and that text is accepted again and
 * written back the same (the writer's output is a fixed point).
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/summary_read.h"

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond))                                                                                           \
			abort();                                                                                       \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "", err2[512] = "";
	sum_doc *d = summary_parse((const char *)data, size, err, sizeof(err)), *d2;
	char *text, *text2;

	if (!d) {
		CHECK(err[0]);
		return 0;
	}
	text = summary_doc_json(d);
	CHECK(text != NULL);
	d2 = summary_parse(text, strlen(text), err2, sizeof(err2));
	CHECK(d2 != NULL);
	CHECK(d2->version == d->version && d2->nseries == d->nseries && d2->nhists == d->nhists);
	text2 = summary_doc_json(d2);
	CHECK(strcmp(text, text2) == 0);
	free(text);
	free(text2);
	summary_doc_free(d);
	summary_doc_free(d2);
	return 0;
}
