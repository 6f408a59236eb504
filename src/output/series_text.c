#include "output/series_text.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

const char *series_texts_get(series_texts *t, uint32_t series, series_text_fn make, void *ctx)
{
	if (series >= t->cap) {
		uint32_t cap = t->cap ? t->cap : 64;

		while (cap <= series)
			cap *= 2;
		t->text = xrealloc(t->text, cap * sizeof(*t->text));
		memset(t->text + t->cap, 0, (cap - t->cap) * sizeof(*t->text));
		t->cap = cap;
	}
	if (!t->text[series])
		t->text[series] = make(ctx, series);
	return t->text[series];
}

void series_texts_free(series_texts *t)
{
	uint32_t i;

	for (i = 0; i < t->cap; i++)
		free(t->text[i]);
	free(t->text);
	t->text = NULL;
	t->cap = 0;
}
