/* HTTP/1.x message parsing shared by the engine (responses) and the built-in
 * target (requests). Two parts:
 *   - the head (start line + header fields) is parsed once it is complete in
 *     a contiguous buffer; http_head_end finds its end incrementally, so a
 *     head split over any number of reads costs one scan in total;
 *   - the body is decoded by a byte-exact state machine (Content-Length,
 *     chunked with extensions and trailers, or until close) that accepts any
 *     split of its input and never buffers.
 * Nothing allocates: header fields are slices of the caller's buffer. */
#ifndef STRAIN_HTTP_HTTP_PARSE_H
#define STRAIN_HTTP_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 64

enum {
	HTTP_OK = 0,
	HTTP_E_SYNTAX = -1,   /* malformed start line or header field */
	HTTP_E_VERSION = -2,  /* not HTTP/1.0 or HTTP/1.1 */
	HTTP_E_FRAMING = -3,  /* bad or conflicting Content-Length / Transfer-Encoding */
	HTTP_E_CHUNK = -4,    /* malformed chunked encoding */
	HTTP_E_TOO_LARGE = -5 /* a size field beyond what we accept */
};

typedef struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} http_header;

typedef struct http_head {
	int minor_version;     /* 0 or 1 */
	int status;            /* responses */
	const char *method;    /* requests */
	size_t method_len;
	const char *target;    /* requests */
	size_t target_len;
	http_header headers[HTTP_MAX_HEADERS];
	size_t num_headers;    /* stored in headers[] */
	size_t total_headers;  /* seen; may exceed HTTP_MAX_HEADERS */
	int64_t content_length; /* -1 when absent */
	int chunked;           /* Transfer-Encoding ends in chunked */
	int other_te;          /* Transfer-Encoding present but not ending in chunked */
	int conn_close;        /* the connection ends after this message */
	int expect_continue;   /* requests: Expect: 100-continue */
} http_head;

/* Looks for the blank line ending a head in buf[0..len). *scan carries the
 * position to resume from across calls (start it at 0). Returns the head's
 * length including the blank line, or 0 if it is not complete yet. */
size_t http_head_end(const char *buf, size_t len, size_t *scan);

/* Parses a complete head (as delimited by http_head_end). Leading empty
 * lines are skipped. Returns HTTP_OK or a negative HTTP_E_* code. */
int http_head_parse_response(const char *buf, size_t len, http_head *h);
int http_head_parse_request(const char *buf, size_t len, http_head *h);

/* Finds a header by case-insensitive name; NULL if absent. */
const http_header *http_head_find(const http_head *h, const char *name);

/* Case-insensitive comparison of a counted string with a C string. */
int http_token_eq(const char *s, size_t n, const char *lit);

typedef enum {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,
	HTTP_BODY_CHUNKED,
	HTTP_BODY_EOF /* until the peer closes (responses only) */
} http_body_mode;

typedef struct http_body {
	http_body_mode mode;
	int state;           /* chunked sub-state */
	int done;            /* the message is complete */
	uint64_t remaining;  /* LENGTH: bytes left; CHUNKED: bytes left in chunk */
	uint64_t decoded;    /* body bytes delivered so far */
	uint32_t line_bytes; /* bytes in the current size/trailer line */
	uint32_t digits;
} http_body;

/* Called with each run of decoded body bytes (chunk framing removed). */
typedef void (*http_body_sink)(void *ctx, const char *data, size_t n);

/* Chooses the body mode for a parsed head. `is_request`; for responses,
 * `head_method` (the request was HEAD) and the status decide bodiless cases. */
void http_body_init_response(http_body *b, const http_head *h, int head_method);
void http_body_init_request(http_body *b, const http_head *h);
void http_body_init(http_body *b, http_body_mode mode, uint64_t length);

/* Feeds input bytes. Returns how many were consumed (less than n only when
 * the message ended inside the input: the rest belongs to the next message),
 * or a negative HTTP_E_* code. sink may be NULL to discard the body. */
ssize_t http_body_feed(http_body *b, const char *p, size_t n, http_body_sink sink, void *ctx);
/* For HTTP_BODY_EOF: the peer closed, so the body is complete. */
static inline void http_body_eof(http_body *b)
{
	if (b->mode == HTTP_BODY_EOF)
		b->done = 1;
}

#endif
