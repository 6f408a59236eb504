/* The one HTTP/1.1 request writer. Every request strain sends — a plan's
 * static requests built once at load, its templated ones expanded per
 * request, quick mode's — goes through http_request_write, so the framing
 * rules live in one place:
 *
 *   - Host, User-Agent and Connection are strain's defaults; a header the
 *     user gives with that name replaces the default (exactly one is sent).
 *   - Content-Length and Transfer-Encoding are strain's: the body decides
 *     them. A user Content-Length must equal the body's length (checked at
 *     load, sent once); a user "Transfer-Encoding: chunked" makes strain
 *     send the body as one chunk; anything else is refused at load.
 *   - No value may carry CR, LF or NUL, and the target no space or control
 *     byte: such a request is refused, never written as protocol framing.
 *
 * The description is not tied to the wire format; it is the seam a second
 * protocol (HTTP/2) will write from. */
#ifndef STRAIN_HTTP_REQUEST_H
#define STRAIN_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* One header: name and value bytes (not NUL-terminated). */
typedef struct http_field {
	const char *name;
	const char *value;
	uint32_t name_len;
	uint32_t value_len;
} http_field;

/* Framing headers found among the user's fields (http_fields_scan). */
enum {
	HTTP_USER_HOST = 1u << 0,
	HTTP_USER_AGENT = 1u << 1,
	HTTP_USER_LENGTH = 1u << 2,
	HTTP_USER_TE = 1u << 3,
	HTTP_USER_CONNECTION = 1u << 4,
	HTTP_USER_COOKIE = 1u << 5,
};

/* How the body is framed. */
enum {
	HTTP_REQ_BODY = 1u << 0,    /* a body is part of the request even when empty (POST, PUT,
				     * PATCH, or a body given): Content-Length: 0 is sent */
	HTTP_REQ_CHUNKED = 1u << 1, /* the user asked for Transfer-Encoding: chunked */
	HTTP_REQ_CLOSE = 1u << 2,   /* Connection: close unless the user set Connection */
};

typedef struct http_request {
	const char *method;        /* an upper-case token */
	const char *origin;        /* NULL, or "http://authority" written before target: the
				    * absolute form a request to an HTTP proxy carries (RFC 9112 3.2.2) */
	const char *proxy_auth;    /* NULL, or the Proxy-Authorization value (to the proxy) */
	const char *target;        /* origin-form path and query */
	size_t target_len;
	const char *authority;     /* the default Host: host[:port] as written */
	const char *user_agent;    /* the default User-Agent, or NULL for none */
	const http_field *fields;  /* the user's headers, in the order given */
	uint32_t nfields;
	unsigned user;             /* HTTP_USER_* of fields, from http_fields_scan */
	unsigned flags;            /* HTTP_REQ_* */
	const char *body;
	size_t body_len;
	/* The cookie jar's Cookie value ("a=1; b=2"), or NULL / 0 for none.
	 * A request carries one Cookie header (RFC 6265 5.4): with a user
	 * Cookie header, the jar's cookies come first in it. */
	const char *cookie;
	size_t cookie_len;
} http_request;

enum {
	HTTP_REQ_ETOOBIG = -1,  /* out's maximum was reached */
	HTTP_REQ_EVALUE = -2,   /* a value holds CR, LF or NUL, or the target a space or control byte */
};

/* Which framing headers the fields hold (case-insensitive names). */
unsigned http_fields_scan(const http_field *f, uint32_t n);

/* Is name a valid header field name (an RFC 9110 token)? */
int http_field_name_ok(const char *name, size_t n);
/* Is value sendable as a header value (no CR, LF, NUL or other control
 * byte but tab)? */
int http_field_value_ok(const char *value, size_t n);

/* Checks a request as a plan or the command line gives it, before any
 * traffic: method and names are tokens, one Host at most, a Content-Length
 * equal to the body (when body_static; a varying body must leave it to
 * strain), Transfer-Encoding only "chunked". Sets HTTP_REQ_CHUNKED in
 * *flags when asked for. Returns 0, or -1 with a message in err. */
int http_request_check(const http_request *r, int body_static, unsigned *flags, char *err, size_t errsz);

/* Appends the request's bytes to out. Returns 0, HTTP_REQ_ETOOBIG or
 * HTTP_REQ_EVALUE (then out holds a partial request: reset it). */
int http_request_write(const http_request *r, buf *out);

#endif
