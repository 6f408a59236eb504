/* A small blocking HTTP/1.1 client for outputs that post batches (the
 * InfluxDB writers). It runs on an output's own thread, never on a worker
 * or the collector, so blocking is fine; every call is bounded by a
 * deadline. One connection, kept alive between requests; http://, or
 * https:// with http_post_set_tls. */
#ifndef STRAIN_OUTPUT_HTTP_POST_H
#define STRAIN_OUTPUT_HTTP_POST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct http_post http_post;
typedef struct tls_client tls_client;

typedef struct http_post_result {
	int status;      /* HTTP status, or 0 when the request failed in transport */
	char body[512];  /* the response body's start (error messages), NUL-terminated */
} http_post_result;

/* A client for host:port (resolved at each new connection, so a server
 * that moves or restarts is found again). Destroy with http_post_destroy
 * (accepts NULL). */
http_post *http_post_create(const char *host, const char *port);
void http_post_destroy(http_post *c);

/* Speaks TLS on every new connection, with TLS's client context
 * (io/tls.h: the system CA store plus a --cacert, the name checked against
 * the host's). Borrowed: it must outlive c. A handshake that fails is a
 * transport error whose message names the certificate's problem. */
void http_post_set_tls(http_post *c, tls_client *tls);

/* Ties c to an output's cutoff (output.h): every wait of a request ends
 * by it too, noticed within 50 ms, so a request in flight when the run
 * ends (a server that accepted and never answers) does not hold the
 * summary for its whole timeout. The atomic must outlive c. */
void http_post_set_cutoff(http_post *c, const _Atomic uint64_t *cutoff);

/* Sends one request: head holds the request line and header fields, each
 * ending in CRLF, without Content-Length and without the blank line (both
 * added here). Waits for the response until deadline (monotonic ns).
 * Returns 0 with res->status set, or -1 on a transport error or timeout,
 * with a message in res->body. A kept-alive connection the server had
 * closed is retried once on a new one. */
int http_post_send(http_post *c, const char *head, const char *body, size_t len, uint64_t deadline,
		   http_post_result *res);

#endif
