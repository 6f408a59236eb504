#include "http/coding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include "core/alloc.h"
#include "core/errcode.h"

/* Decoded bytes go to the sink in runs of at most this. */
#define OUT_CHUNK 16384
/* RFC 8878 7.2: an HTTP zstd window is at most 8 MiB; a larger one
 * (up to 128 MiB by default) would be an allocation the server chose. */
#define ZSTD_WINDOW_LOG_MAX 23
/* Blocks a brotli instance freed, kept for the next one (a decoder makes
 * about 9: state, tables, ring buffer; an encoder more). */
#define BR_CACHE 32

static const char *const names[HTTP_CODING_COUNT] = {"identity", "gzip", "deflate", "br", "zstd"};

const char *http_coding_name(int coding)
{
	return coding >= 0 && coding < HTTP_CODING_COUNT ? names[coding] : NULL;
}

int http_coding_from_name(const char *name)
{
	int i;

	for (i = HTTP_CODING_GZIP; i < HTTP_CODING_COUNT; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

int http_coding_parse(const char *v, size_t n)
{
	size_t i = 0;
	int coding = HTTP_CODING_IDENTITY;

	while (i < n) {
		size_t s, e;
		int c = -1, k;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e == s)
			continue;
		for (k = 0; k < HTTP_CODING_COUNT; k++)
			if (http_token_eq(v + s, e - s, names[k]))
				c = k;
		if (c < 0 && http_token_eq(v + s, e - s, "x-gzip"))
			c = HTTP_CODING_GZIP;
		if (c < 0)
			return -ERR_CODING_UNSUPPORTED;
		if (c == HTTP_CODING_IDENTITY)
			continue;
		/* Stacked codings are refused rather than chained: one
		 * decoder per response keeps the pool simple, and no server
		 * we know of stacks them unasked. */
		if (coding != HTTP_CODING_IDENTITY)
			return -ERR_CODING_UNSUPPORTED;
		coding = c;
	}
	return coding;
}

/* brotli's allocator: blocks carry their size in front, and freed ones
 * wait in a small cache for an allocation of the same size. */
typedef struct br_cache {
	void *blk[BR_CACHE];
	size_t size[BR_CACHE];
	unsigned n;
} br_cache;

#define BR_HDR 16 /* keeps the block max_align_t-aligned */

static void *br_alloc(void *opaque, size_t size)
{
	br_cache *c = opaque;
	unsigned i;
	char *b;

	for (i = 0; i < c->n; i++)
		if (c->size[i] == size) {
			b = c->blk[i];
			c->n--;
			c->blk[i] = c->blk[c->n];
			c->size[i] = c->size[c->n];
			return b + BR_HDR;
		}
	b = malloc(size + BR_HDR);
	if (!b)
		return NULL;
	memcpy(b, &size, sizeof(size));
	return b + BR_HDR;
}

static void br_free(void *opaque, void *addr)
{
	br_cache *c = opaque;
	char *b;
	size_t size;

	if (!addr)
		return;
	b = (char *)addr - BR_HDR;
	memcpy(&size, b, sizeof(size));
	if (c->n == BR_CACHE) {
		/* Full: the oldest goes. */
		free(c->blk[0]);
		memmove(c->blk, c->blk + 1, (BR_CACHE - 1) * sizeof(c->blk[0]));
		memmove(c->size, c->size + 1, (BR_CACHE - 1) * sizeof(c->size[0]));
		c->n--;
	}
	c->blk[c->n] = b;
	c->size[c->n] = size;
	c->n++;
}

struct http_decoder {
	http_decoder *next;          /* in the pool's free list */
	int coding;
	int err;                     /* sticky: the first error */
	int done;                    /* the stream ended */
	int started;                 /* an input byte came */
	int zinit;                   /* zlib state made (inflateInit2) */
	size_t out, max_out;
	z_stream z;
	BrotliDecoderState *br;      /* made at the first br byte of each stream */
	br_cache brc;
	ZSTD_DCtx *zstd;
	unsigned char buf[OUT_CHUNK];
};

http_decoder *http_decoder_create(size_t max_out)
{
	http_decoder *d = xcalloc(1, sizeof(*d));

	d->max_out = max_out;
	return d;
}

void http_decoder_destroy(http_decoder *d)
{
	unsigned i;

	if (!d)
		return;
	if (d->zinit)
		inflateEnd(&d->z);
	if (d->br)
		BrotliDecoderDestroyInstance(d->br);
	for (i = 0; i < d->brc.n; i++)
		free(d->brc.blk[i]);
	ZSTD_freeDCtx(d->zstd);
	free(d);
}

void http_decoder_reset(http_decoder *d, int coding)
{
	d->coding = coding;
	d->err = 0;
	d->done = 0;
	d->started = 0;
	d->out = 0;
	if (d->br) {
		BrotliDecoderDestroyInstance(d->br);
		d->br = NULL;
	}
	if (coding == HTTP_CODING_ZSTD && d->zstd)
		ZSTD_DCtx_reset(d->zstd, ZSTD_reset_session_only);
}

size_t http_decoder_out(const http_decoder *d)
{
	return d->out;
}

/* Hands n decoded bytes on, up to max_out in all. */
static int emit(http_decoder *d, size_t n, http_body_sink sink, void *ctx)
{
	size_t room = d->max_out - d->out;

	if (n > room) {
		if (room && sink)
			sink(ctx, (const char *)d->buf, room);
		d->out += room;
		return -ERR_DECODED_TOO_LARGE;
	}
	if (n && sink)
		sink(ctx, (const char *)d->buf, n);
	d->out += n;
	return 0;
}

/* The first byte says whether a "deflate" body is zlib-wrapped, as RFC
 * 9110 says it is, or raw deflate, as some servers send: a zlib header's
 * first byte is method 8 with a window of at most 32 KiB. */
static int zlib_start(http_decoder *d, unsigned char first)
{
	int wbits = 15 + 16;

	if (d->coding == HTTP_CODING_DEFLATE)
		wbits = (first & 0x0f) == 8 && (first >> 4) <= 7 ? 15 : -15;
	if (!d->zinit) {
		memset(&d->z, 0, sizeof(d->z));
		if (inflateInit2(&d->z, wbits) != Z_OK)
			return -ERR_DECOMPRESS;
		d->zinit = 1;
		return 0;
	}
	/* Every wbits here has the same 32 KiB window: the reset keeps it. */
	return inflateReset2(&d->z, wbits) == Z_OK ? 0 : -ERR_DECOMPRESS;
}

static int feed_zlib(http_decoder *d, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	int rc;

	d->z.next_in = (Bytef *)(uintptr_t)p;
	d->z.avail_in = (uInt)n;
	while (d->z.avail_in) {
		size_t got;

		if (d->done) {
			/* gzip may have several members (RFC 1952 2.2); anything
			 * else after the end is not part of the body. */
			if (d->coding != HTTP_CODING_GZIP || inflateReset(&d->z) != Z_OK)
				return -ERR_DECOMPRESS;
			d->done = 0;
		}
		d->z.next_out = d->buf;
		d->z.avail_out = OUT_CHUNK;
		rc = inflate(&d->z, Z_NO_FLUSH);
		got = OUT_CHUNK - d->z.avail_out;
		if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && got))
			return -ERR_DECOMPRESS;
		rc = rc == Z_STREAM_END ? 1 : 0;
		if (emit(d, got, sink, ctx) < 0)
			return -ERR_DECODED_TOO_LARGE;
		d->done = rc;
	}
	/* Output the window still holds comes out without more input. */
	while (!d->done) {
		size_t got;

		d->z.next_out = d->buf;
		d->z.avail_out = OUT_CHUNK;
		rc = inflate(&d->z, Z_NO_FLUSH);
		got = OUT_CHUNK - d->z.avail_out;
		if (rc == Z_STREAM_END)
			d->done = 1;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return -ERR_DECOMPRESS;
		if (emit(d, got, sink, ctx) < 0)
			return -ERR_DECODED_TOO_LARGE;
		if (!got)
			break;
	}
	return 0;
}

static int feed_br(http_decoder *d, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	const uint8_t *in = (const uint8_t *)p;
	size_t avail = n;

	if (!d->br) {
		d->br = BrotliDecoderCreateInstance(br_alloc, br_free, &d->brc);
		if (!d->br)
			return -ERR_DECOMPRESS;
	}
	for (;;) {
		uint8_t *out = d->buf;
		size_t room = OUT_CHUNK;
		BrotliDecoderResult r;

		if (d->done)
			return avail ? -ERR_DECOMPRESS : 0;
		r = BrotliDecoderDecompressStream(d->br, &avail, &in, &room, &out, NULL);
		if (r == BROTLI_DECODER_RESULT_ERROR)
			return -ERR_DECOMPRESS;
		if (emit(d, OUT_CHUNK - room, sink, ctx) < 0)
			return -ERR_DECODED_TOO_LARGE;
		if (r == BROTLI_DECODER_RESULT_SUCCESS)
			d->done = 1;
		else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
			return 0;
	}
}

static int feed_zstd(http_decoder *d, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	ZSTD_inBuffer in = {p, n, 0};

	if (!d->zstd) {
		d->zstd = ZSTD_createDCtx();
		if (!d->zstd || ZSTD_isError(ZSTD_DCtx_setParameter(d->zstd, ZSTD_d_windowLogMax, ZSTD_WINDOW_LOG_MAX)))
			return -ERR_DECOMPRESS;
	}
	for (;;) {
		ZSTD_outBuffer out = {d->buf, OUT_CHUNK, 0};
		size_t before = in.pos, r = ZSTD_decompressStream(d->zstd, &out, &in);

		if (ZSTD_isError(r))
			return -ERR_DECOMPRESS;
		if (emit(d, out.pos, sink, ctx) < 0)
			return -ERR_DECODED_TOO_LARGE;
		/* 0: a frame ended and nothing is pending; another may follow.
		 * A call that moved nothing (after a frame's last output filled
		 * the chunk) leaves that as it was. */
		if (out.pos || in.pos > before)
			d->done = r == 0;
		if (in.pos == in.size && out.pos < out.size)
			return 0;
	}
}

int http_decoder_feed(http_decoder *d, const char *p, size_t n, http_body_sink sink, void *ctx)
{
	int rc = 0;

	if (d->err)
		return d->err;
	if (!n)
		return 0;
	if (!d->started) {
		d->started = 1;
		if ((d->coding == HTTP_CODING_GZIP || d->coding == HTTP_CODING_DEFLATE) &&
		    zlib_start(d, (unsigned char)p[0]) < 0)
			rc = -ERR_DECOMPRESS;
	}
	if (!rc) {
		switch (d->coding) {
		case HTTP_CODING_GZIP:
		case HTTP_CODING_DEFLATE:
			rc = feed_zlib(d, p, n, sink, ctx);
			break;
		case HTTP_CODING_BR:
			rc = feed_br(d, p, n, sink, ctx);
			break;
		case HTTP_CODING_ZSTD:
			rc = feed_zstd(d, p, n, sink, ctx);
			break;
		default:
			rc = emit(d, 0, sink, ctx);
			break;
		}
	}
	d->err = rc;
	return rc;
}

int http_decoder_finish(http_decoder *d)
{
	if (d->err)
		return d->err;
	if (d->started && !d->done)
		d->err = -ERR_DECOMPRESS;
	return d->err;
}

void http_decoder_pool_init(http_decoder_pool *p, size_t max_out)
{
	p->free = NULL;
	p->made = 0;
	p->max_out = max_out;
}

void http_decoder_pool_free(http_decoder_pool *p)
{
	while (p->free) {
		http_decoder *d = p->free;

		p->free = d->next;
		http_decoder_destroy(d);
	}
}

http_decoder *http_decoder_get(http_decoder_pool *p, int coding)
{
	http_decoder *d = p->free;

	if (d) {
		p->free = d->next;
	} else {
		d = http_decoder_create(p->max_out);
		p->made++;
	}
	http_decoder_reset(d, coding);
	return d;
}

void http_decoder_put(http_decoder_pool *p, http_decoder *d)
{
	if (!d)
		return;
	/* A brotli instance is spent once its stream is over; its blocks
	 * stay in the cache for the next one. */
	if (d->br) {
		BrotliDecoderDestroyInstance(d->br);
		d->br = NULL;
	}
	d->next = p->free;
	p->free = d;
}

struct http_encoder {
	z_stream z[2];               /* gzip, deflate */
	int zinit[2];
	ZSTD_CCtx *zstd;
	br_cache brc;                /* blocks of the last brotli encoder, for the next */
};

http_encoder *http_encoder_create(void)
{
	return xcalloc(1, sizeof(http_encoder));
}

void http_encoder_destroy(http_encoder *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < 2; i++)
		if (e->zinit[i])
			deflateEnd(&e->z[i]);
	ZSTD_freeCCtx(e->zstd);
	for (i = 0; i < (int)e->brc.n; i++)
		free(e->brc.blk[i]);
	free(e);
}

static int encode_zlib(http_encoder *e, int gzip, const char *p, size_t n, buf *out)
{
	z_stream *z = &e->z[gzip ? 0 : 1];
	size_t bound;
	int rc;

	if (!e->zinit[gzip ? 0 : 1]) {
		if (deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		e->zinit[gzip ? 0 : 1] = 1;
	} else if (deflateReset(z) != Z_OK) {
		return -1;
	}
	bound = deflateBound(z, (uLong)n) + 32;
	if (buf_reserve(out, bound) < 0)
		return -1;
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)n;
	z->next_out = (Bytef *)out->data;
	z->avail_out = (uInt)bound;
	rc = deflate(z, Z_FINISH);
	if (rc != Z_STREAM_END)
		return -1;
	out->len = bound - z->avail_out;
	return 0;
}

/* brotli's encoder has no reset either: an instance per body, its
 * blocks recycled through the same cache as the decoder's (bodies of
 * about the same size ask for the same blocks). Quality 5, a middle
 * setting, keeps a body compressed per request within reason. */
static int encode_br(http_encoder *e, const char *p, size_t n, buf *out)
{
	size_t cap = BrotliEncoderMaxCompressedSize(n), avail_in = n, avail_out;
	const uint8_t *in = (const uint8_t *)p;
	uint8_t *o;
	BrotliEncoderState *s;
	int ok;

	if (!cap || buf_reserve(out, cap) < 0)
		return -1;
	s = BrotliEncoderCreateInstance(br_alloc, br_free, &e->brc);
	if (!s)
		return -1;
	BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, 5);
	BrotliEncoderSetParameter(s, BROTLI_PARAM_SIZE_HINT, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n);
	o = (uint8_t *)out->data;
	avail_out = cap;
	ok = BrotliEncoderCompressStream(s, BROTLI_OPERATION_FINISH, &avail_in, &in, &avail_out, &o, NULL) &&
	     BrotliEncoderIsFinished(s);
	BrotliEncoderDestroyInstance(s);
	if (!ok)
		return -1;
	out->len = cap - avail_out;
	return 0;
}

static int encode_zstd(http_encoder *e, const char *p, size_t n, buf *out)
{
	size_t cap = ZSTD_compressBound(n), r;

	if (!e->zstd) {
		e->zstd = ZSTD_createCCtx();
		/* A checksum lets the server tell a damaged body. */
		if (e->zstd)
			ZSTD_CCtx_setParameter(e->zstd, ZSTD_c_checksumFlag, 1);
	}
	if (!e->zstd || buf_reserve(out, cap) < 0)
		return -1;
	r = ZSTD_compress2(e->zstd, out->data, cap, p, n);
	if (ZSTD_isError(r))
		return -1;
	out->len = r;
	return 0;
}

int http_encode(http_encoder *e, int coding, const char *p, size_t n, buf *out)
{
	buf_reset(out);
	switch (coding) {
	case HTTP_CODING_GZIP:
	case HTTP_CODING_DEFLATE:
		return encode_zlib(e, coding == HTTP_CODING_GZIP, p, n, out);
	case HTTP_CODING_BR:
		return encode_br(e, p, n, out);
	case HTTP_CODING_ZSTD:
		return encode_zstd(e, p, n, out);
	default:
		return buf_append(out, p, n);
	}
}
