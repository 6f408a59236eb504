/* Content codings (RFC 9110 8.4): gzip, deflate, br and zstd, decoded as a
 * stream and encoded in one go.
 *
 * Decoding: an http_decoder takes the body bytes the framing decoder
 * (http/http_parse.h) hands on, in any split, and gives the decoded bytes
 * to a sink in runs, never more than max_out in total: past that the
 * body is a bomb (ERR_DECODED_TOO_LARGE) and decoding stops. Decoders
 * come from a pool per thread, lent for one response and reset for the
 * next, so once warm no response allocates: zlib and zstd reset their
 * state in place; brotli has no reset, so its instance is made anew per
 * br response through an allocator that keeps the blocks the last one
 * freed and hands them back (the same sizes come back for streams of the
 * same window), so that too costs no malloc once warm.
 *
 * Encoding (request bodies, `compression:`): http_encoder compresses a
 * whole body into a caller's buffer, its state kept between bodies (zlib,
 * zstd) or its blocks recycled as the decoder's are (brotli), so a body
 * compressed per request allocates nothing once warm either.
 *
 * What a decoder holds while lent is bounded by its coding's window: 32
 * KiB for zlib, at most 8 MiB for zstd (windowLogMax 23) and 16 MiB for
 * brotli; a body smaller than the window asks for less. */
#ifndef STRAIN_HTTP_CODING_H
#define STRAIN_HTTP_CODING_H

#include <stddef.h>

#include "core/buf.h"
#include "http/http_parse.h"

typedef enum {
	HTTP_CODING_IDENTITY = 0,
	HTTP_CODING_GZIP,
	HTTP_CODING_DEFLATE,
	HTTP_CODING_BR,
	HTTP_CODING_ZSTD,
	HTTP_CODING_COUNT
} http_coding;

/* The coding a Content-Encoding value names: identity (or empty, or only
 * "identity" elements), gzip (also x-gzip), deflate, br or zstd. One
 * coding only: a stacked value ("gzip, br") or an unknown name returns
 * -ERR_CODING_UNSUPPORTED. */
int http_coding_parse(const char *v, size_t n);
/* A coding's token ("gzip") or NULL; http_coding_from_name is the reverse
 * for the four real codings (-1 otherwise). */
const char *http_coding_name(int coding);
int http_coding_from_name(const char *name);

typedef struct http_decoder http_decoder;

/* Decoders of one thread, made as needed, lent one per response. */
typedef struct http_decoder_pool {
	http_decoder *free;
	size_t made;
	size_t max_out;
} http_decoder_pool;

void http_decoder_pool_init(http_decoder_pool *p, size_t max_out);
void http_decoder_pool_free(http_decoder_pool *p);
/* Lends a decoder set up for coding (not identity). Give it back with
 * http_decoder_put. */
http_decoder *http_decoder_get(http_decoder_pool *p, int coding);
void http_decoder_put(http_decoder_pool *p, http_decoder *d);

/* A standalone decoder (tests). Free with http_decoder_destroy (accepts NULL). */
http_decoder *http_decoder_create(size_t max_out);
void http_decoder_destroy(http_decoder *d);
/* Starts a new stream of coding. */
void http_decoder_reset(http_decoder *d, int coding);
/* Decodes n input bytes, handing output to sink(ctx, ...). Returns 0, or
 * -ERR_DECOMPRESS (corrupt input, or bytes after the stream's end) or
 * -ERR_DECODED_TOO_LARGE (output past max_out: what fits was handed on);
 * after an error further input is refused with the same code. */
int http_decoder_feed(http_decoder *d, const char *p, size_t n, http_body_sink sink, void *ctx);
/* The body ended: 0 if the stream did too (or no byte came at all),
 * else -ERR_DECOMPRESS (cut short). */
int http_decoder_finish(http_decoder *d);
/* Decoded bytes handed on since the reset. */
size_t http_decoder_out(const http_decoder *d);

typedef struct http_encoder http_encoder;

/* Free with http_encoder_destroy (accepts NULL). */
http_encoder *http_encoder_create(void);
void http_encoder_destroy(http_encoder *e);
/* Replaces out's contents with p[0..n) compressed with coding. Returns 0,
 * or -1 when out's maximum was reached or the library failed. */
int http_encode(http_encoder *e, int coding, const char *p, size_t n, buf *out);

#endif
