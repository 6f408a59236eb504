/* Per-series text that a sample encoder renders once (the series' name and
 * tags in its own format) and reuses for every sample of that series, so
 * encoding a sample is copying bytes. */
#ifndef STRAIN_OUTPUT_SERIES_TEXT_H
#define STRAIN_OUTPUT_SERIES_TEXT_H

#include <stdint.h>

typedef struct series_texts {
	char **text;   /* by series id; NULL until first needed */
	uint32_t cap;
} series_texts;

/* Builds the text of a series; returns a malloc'd string, owned by the cache. */
typedef char *(*series_text_fn)(void *ctx, uint32_t series);

/* The series' text, built with make on first use. */
const char *series_texts_get(series_texts *t, uint32_t series, series_text_fn make, void *ctx);
/* Frees every text; t may be zeroed. */
void series_texts_free(series_texts *t);

#endif
