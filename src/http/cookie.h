/* A cookie jar as RFC 6265 keeps one: cookies stored from Set-Cookie
 * (section 5.2 and 5.3: Domain and host-only, Path and the default path,
 * Expires and Max-Age, Secure, HttpOnly; SameSite is parsed and ignored,
 * as a client without documents has no site to compare) and sent on the
 * requests they match (5.4: domain-match, path-match, Secure only over
 * https, ordered by longer path first, then earlier creation).
 *
 * Bounded: at most COOKIE_JAR_MAX cookies (RFC 6265 6.1's minimum is 50
 * per domain, 3000 in all; one virtual user talks to few hosts), each at
 * most COOKIE_MAX_BYTES of name and value (6.1's 4096). A cookie past the
 * size is ignored; a new cookie in a full jar evicts the expired ones, then
 * the oldest (6.1 lets a user agent evict), and the set says so. Storage is
 * one byte arena compacted in place: once it has grown to the jar's
 * largest content, storing and sending allocate nothing.
 *
 * Times: expiry is kept on the monotonic clock; an Expires date (wall
 * clock) is converted once, when the cookie is stored. One thread only. */
#ifndef STRAIN_HTTP_COOKIE_H
#define STRAIN_HTTP_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define COOKIE_JAR_MAX 64
#define COOKIE_MAX_BYTES 4096

typedef struct cookie_jar cookie_jar;

/* The request a cookie is stored from or sent with. */
typedef struct cookie_url {
	const char *host;   /* as in the URL, any case, IPv6 without brackets */
	const char *path;   /* the request target: path, then maybe ?query */
	size_t path_len;
	int secure;         /* https:// */
} cookie_url;

/* What cookie_jar_set did. */
enum {
	COOKIE_STORED = 0,   /* stored, or replaced one of the same name, domain and path */
	COOKIE_DELETED = 1,  /* already expired (Max-Age=0, an Expires in the past): one it replaces is removed */
	COOKIE_IGNORED = 2,  /* malformed, too large, or for a domain the host does not match */
	COOKIE_EVICTED = 3,  /* stored, but the jar was full: the oldest cookie was dropped */
};

/* An empty jar. Free with cookie_jar_destroy (accepts NULL). */
cookie_jar *cookie_jar_create(void);
void cookie_jar_destroy(cookie_jar *j);
/* Forgets every cookie; keeps the memory. */
void cookie_jar_clear(cookie_jar *j);
/* Cookies stored (expired ones not yet swept included). */
uint32_t cookie_jar_count(const cookie_jar *j);

/* Stores the cookie of one Set-Cookie value v[0..n) received for u.
 * now: monotonic ns; wall: the wall clock in seconds since the epoch (for
 * Expires). Returns COOKIE_*. */
int cookie_jar_set(cookie_jar *j, const char *v, size_t n, const cookie_url *u, uint64_t now, int64_t wall);

/* Appends the Cookie header value for u ("a=1; b=2") to out. Returns the
 * number of cookies written (0: none match), or -1 past out's maximum. */
int cookie_jar_header(cookie_jar *j, const cookie_url *u, uint64_t now, buf *out);

/* The value of the cookie named name that would be sent to u (the first
 * in sending order). Returns 1 with it in *val, *len (pointing into the
 * jar, valid until it changes), or 0 when none. */
int cookie_jar_find(cookie_jar *j, const char *name, const cookie_url *u, uint64_t now, const char **val,
		    size_t *len);

/* Parses an HTTP date as RFC 6265 5.1.1 does (lenient: "Wed, 21 Oct 2015
 * 07:28:00 GMT", the RFC 850 and asctime forms). Returns 0 with seconds
 * since the epoch (UTC) in *t, or -1. */
int cookie_date_parse(const char *s, size_t n, int64_t *t);

/* Does host domain-match domain (RFC 6265 5.1.3)? Case-insensitive;
 * an IP address matches only itself. */
int cookie_domain_match(const char *host, size_t hn, const char *domain, size_t dn);
/* Does request path p path-match cookie path cp (5.1.4)? p stops at '?'. */
int cookie_path_match(const char *p, size_t pn, const char *cp, size_t cpn);

#endif
