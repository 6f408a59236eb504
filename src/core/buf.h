/* Growable byte buffer with a hard maximum. Growth happens only when a
 * message is larger than anything seen before on that buffer, so a warmed-up
 * connection never allocates. */
#ifndef STRAIN_CORE_BUF_H
#define STRAIN_CORE_BUF_H

#include <stddef.h>

typedef struct buf {
	char *data;
	size_t len;  /* bytes in use */
	size_t cap;  /* bytes allocated */
	size_t max;  /* hard limit on cap */
} buf;

/* Sets up an empty buffer with `initial` bytes allocated (0: none yet). */
void buf_init(buf *b, size_t initial, size_t max);
/* Frees the storage; b may be zeroed or already freed. */
void buf_free(buf *b);
/* Makes room for `extra` more bytes. Returns 0, or -1 if that would exceed max. */
int buf_reserve(buf *b, size_t extra);
/* Appends n bytes. Returns 0, or -1 past max (nothing appended). */
int buf_append(buf *b, const void *p, size_t n);
int buf_appends(buf *b, const char *s);
/* printf-style append. Returns 0, or -1 past max (nothing appended). */
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes, moving the rest to the front. */
void buf_consume(buf *b, size_t n);

static inline void buf_reset(buf *b) { b->len = 0; }
static inline size_t buf_room(const buf *b) { return b->cap - b->len; }

/* Buffers lent to whoever needs one just now (a connection while it reads
 * a response), so memory follows what is in flight, not how many
 * connections exist. A buffer comes back with whatever it grew to; the
 * pool allocates only when more are out at once than ever before. One
 * thread only. */
typedef struct buf_pool {
	buf *idle;      /* a stack of buffers not lent */
	size_t nidle;
	size_t made;    /* buffers created: idle ones and lent ones */
	size_t slots;   /* room in idle */
	size_t initial; /* size of a new buffer */
	size_t max;     /* its hard limit */
} buf_pool;

void buf_pool_init(buf_pool *p, size_t initial, size_t max);
/* Frees the idle buffers; every lent one must have come back. */
void buf_pool_free(buf_pool *p);
/* Lends a buffer to *b (empty, at least `initial` bytes); b held none. */
void buf_pool_get(buf_pool *p, buf *b);
/* Takes b's storage back (b holds none after; one that held none is left
 * alone). Never allocates. */
void buf_pool_put(buf_pool *p, buf *b);

#endif
