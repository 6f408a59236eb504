/* Compiled requests: from a description (method, URL, headers, body, each
 * possibly templated) to the bytes the one request writer makes of it —
 * once at load when nothing varies, per request into a VU's buffers
 * otherwise. Plans and quick mode both end here. */
#ifndef STRAIN_PROGRAM_REQUEST_H
#define STRAIN_PROGRAM_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/coding.h"
#include "http/request.h"
#include "program/program.h"
#include "program/tmpl.h"

/* Adds a header (name copied; value taken over, a TESC_HEADER template). */
void run_request_add_header(run_request *r, const char *name, size_t name_len, tmpl *value);

/* Finishes a request whose method, url, target, headers and body are set:
 * checks its framing (http_request_check), decides its flags (has_body:
 * a body is part of the request even when it is empty; no_reuse:
 * Connection: close), and builds its wire bytes when nothing in it varies.
 * Returns 0, or -1 with a message in err. */
int run_request_finish(run_request *r, int has_body, int no_reuse, char *err, size_t errsz);

/* The most headers any of cfg's requests has (for a VU's field array). */
uint32_t run_request_max_headers(const run_config *cfg);

/* What a redirect hop or the cookie jar changes in a request as it is
 * written (run_request_expand); zero for nothing. */
typedef struct run_request_over {
	const char *method;        /* NULL: the request's */
	const char *target;        /* path and query; NULL: the request's template */
	size_t target_len;
	const char *authority;     /* the default Host; NULL: the request's */
	int drop_body;             /* 301/302/303: no body, nor its Content-Type, Content-Length,
				    * Transfer-Encoding */
	int other_host;            /* a hop to another host: the user's Host, Authorization and
				    * Cookie headers stay behind (as Go's client, k6's, does) */
	const char *cookie;        /* the cookie jar's Cookie value, or NULL */
	size_t cookie_len;
	int route;                 /* a hop: origin and proxy_auth below replace the request's */
	const char *origin;        /* "http://authority" for an http:// hop through a proxy, or NULL */
	const char *proxy_auth;    /* its Proxy-Authorization value, or NULL */
} run_request_over;

/* Expands a templated request and writes it to out. scratch holds the
 * expanded target and header values, fields (room for r->nheaders) their
 * descriptions, body the expanded body, zbody that body compressed with
 * enc when r->compression asks; all are the caller's, reused.
 * *close_after: nothing more may go on this connection (r->close_after, or
 * a templated Connection header that expanded to list "close").
 * over: what a redirect or the cookie jar changes (NULL: nothing); a
 * static request is written through here too when it does.
 * Returns 0, TMPL_ETOOBIG when a buffer's limit was hit, or TMPL_EVALUE
 * when an expanded value cannot be sent (a line break in a header). */
int run_request_expand(const run_request *r, const tmpl_ctx *c, buf *scratch, http_field *fields, buf *body,
		       struct http_encoder *enc, buf *zbody, buf *out, int *close_after,
		       const run_request_over *over);

/* Quick mode: a static request from the flags. headers: "Name: value"
 * strings; compression: an http_coding for the body (--compression, 0 none); user_agent: --user-agent (NULL: strain's default, "": none),
 * borrowed for the request's life. Returns 0, or -1 with a message in err and which flag is to
 * blame in *flag ("--url", "-X", "-H", "--body"). */
int run_request_quick(run_request *r, const char *method, const char *url, const char *const *headers,
		      uint32_t nheaders, const char *body, size_t body_len, int compression, int no_reuse,
		      const char *user_agent, const char **flag, char *err, size_t errsz);

/* Decides whether r goes through one of cfg's proxies (NO_PROXY and, for
 * proxies from the environment, Go's loopback rule considered) and, for an
 * http:// request through one, rebuilds its static bytes in absolute form.
 * Call once every request is finished. Returns 0, or -1 with a message. */
int run_request_route(run_request *r, const run_config *cfg, char *err, size_t errsz);
/* The proxy of cfg's that a request to scheme (tls), host and port goes
 * through, by the same rules (a redirect's hop asks it), or NULL. */
const http_proxy *run_proxy_for(const run_config *cfg, int tls, const char *host, const char *port);

void run_request_free(run_request *r);

#endif
