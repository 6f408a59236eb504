/* --http-debug: every request's and response's head on stderr, and with
 * --http-debug=full their bodies, as k6 prints them. Off the hot path: the
 * VU asks cfg->http_debug once per request, and nothing here runs unless
 * it is set. Secrets are printed as REDACT_MARK (core/redact.h): the
 * values of Authorization, Proxy-Authorization, Cookie, Set-Cookie and
 * credential-named headers, credential query parameters in the request
 * line, credential fields of JSON and form bodies, and every secret value
 * of the run wherever it appears, the VU's secret variables' included.
 * Each call writes one block under stderr's lock, so blocks of different
 * threads do not mix. */
#ifndef STRAIN_ENGINE_HTTP_DEBUG_H
#define STRAIN_ENGINE_HTTP_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/http_parse.h"

typedef struct redact redact;

/* A VU's variables, so that the values of its secret ones (known only at
 * run time) are hidden wherever they show: vars[0..n) by slot, secret[i]
 * nonzero for a secret one (run_scenario.var_secret); more: a second set
 * of the same slots (a parallel block's request and its VU's own), or
 * NULL. The whole may be NULL. */
typedef struct http_debug_vars {
	const buf *vars, *more;
	const uint8_t *secret;
	uint32_t n;
} http_debug_vars;

/* The run's secrets (borrowed; NULL: the name rules alone). Set once,
 * before any worker starts. */
void http_debug_set_redact(const redact *r);

/* A request as written: wire[0..len), its head up to the blank line, and
 * what follows when full. */
void http_debug_request(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const char *wire, size_t len,
			int full);
/* A response's head (h: the parsed head, during on_head). */
void http_debug_response(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const http_head *h);
/* A response's body, decoded (full only); truncated: it was longer than kept. */
void http_debug_body(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const char *body, size_t len,
		     int truncated);

#endif
