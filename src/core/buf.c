#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void buf_init(buf *b, size_t initial, size_t max)
{
	b->data = initial ? xmalloc(initial) : NULL;
	b->len = 0;
	b->cap = initial;
	b->max = max < initial ? initial : max;
}

void buf_free(buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int buf_reserve(buf *b, size_t extra)
{
	size_t need = b->len + extra, cap;

	if (need <= b->cap)
		return 0;
	if (need > b->max || need < b->len)
		return -1;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	return 0;
}

int buf_append(buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_appends(buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= buf_room(b)) {
		if (buf_reserve(b, (size_t)n + 1) < 0)
			return -1;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

void buf_consume(buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_pool_init(buf_pool *p, size_t initial, size_t max)
{
	p->idle = NULL;
	p->nidle = p->made = p->slots = 0;
	p->initial = initial;
	p->max = max;
}

void buf_pool_free(buf_pool *p)
{
	size_t i;

	for (i = 0; i < p->nidle; i++)
		buf_free(&p->idle[i]);
	free(p->idle);
	buf_pool_init(p, p->initial, p->max);
}

void buf_pool_get(buf_pool *p, buf *b)
{
	if (p->nidle) {
		*b = p->idle[--p->nidle];
		b->len = 0;
		return;
	}
	/* A new high-water mark: room for it to come back is made now, so
	 * buf_pool_put never allocates. */
	if (p->made == p->slots) {
		p->slots = p->slots ? 2 * p->slots : 8;
		p->idle = xrealloc(p->idle, p->slots * sizeof(*p->idle));
	}
	p->made++;
	buf_init(b, p->initial, p->max);
}

void buf_pool_put(buf_pool *p, buf *b)
{
	if (!b->data)
		return;
	p->idle[p->nidle++] = *b;
	b->data = NULL;
	b->len = b->cap = 0;
}
