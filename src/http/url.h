/* Absolute http:// URLs as a load target needs them: where to connect and
 * what to put in the request line and Host header. */
#ifndef STRAIN_HTTP_URL_H
#define STRAIN_HTTP_URL_H

#include <stddef.h>

typedef struct http_url {
	char scheme[8];   /* "http" or "https" */
	char host[256];   /* without brackets for IPv6 */
	char port[8];     /* always set; default from the scheme */
	char *authority;  /* Host header value: host[:port] as written, brackets kept */
	char *target;     /* path + query, at least "/" */
} http_url;

/* Parses an absolute URL. Returns 0, or -1 with a reason in err.
 * Free with http_url_free. */
int http_url_parse(const char *s, http_url *u, char *err, size_t errsz);
void http_url_free(http_url *u);

/* How http_url_escape treats bytes:
 *   URL_ESC_COMPONENT  a query or form name or value: all but RFC 3986's
 *                      unreserved bytes are percent-encoded;
 *   URL_ESC_PATH       a value put into a path: '/' and the sub-delimiters
 *                      stay, '?', '#', '%' and the rest are encoded;
 *   URL_ESC_NORMALISE  a target as written: only what a URL never carries
 *                      raw (controls, space, non-ASCII, "<>\\^`{|}, a '%'
 *                      not starting an escape) is encoded. */
enum { URL_ESC_COMPONENT, URL_ESC_PATH, URL_ESC_NORMALISE };

struct buf;
/* Appends s[0..n) to out, escaped as mode says. Returns 0, or -1 past
 * out's maximum. */
int http_url_escape(struct buf *out, const char *s, size_t n, int mode);

/* Where a redirect goes: scheme, host, port and the Host value. */
typedef struct http_loc {
	int tls;            /* https:// */
	char host[256];     /* without brackets for IPv6 */
	char port[8];
	char authority[264]; /* host[:port] as written, brackets kept */
} http_loc;

/* Resolves the reference ref[0..n) (a Location header) against the
 * request it answered — base (where it went) and base_target (its path and
 * query) — as RFC 3986 section 5.2 says: absolute, network-path ("//h/p"),
 * absolute-path and relative references, dot segments removed, the
 * fragment dropped. Writes where it goes to *out and its path and query
 * to target (reset first). out may not be base. Returns 0, or -1 when the
 * reference is empty, malformed, not http(s), or past target's maximum.
 * Allocates nothing once target has grown. */
int http_url_resolve(const http_loc *base, const char *base_target, size_t base_len, const char *ref, size_t n,
		     http_loc *out, struct buf *target);

#endif
