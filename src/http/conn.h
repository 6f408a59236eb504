/* The HTTP/1.1 client connection: one non-blocking socket, plain or TLS,
 * carrying one exchange (request and response) at a time and kept alive
 * between them. It connects (within the connect timeout), shakes hands
 * (io/tls.h), writes the request (asking for writability only after a
 * short write), reads and parses the response (http/http_parse.h), times
 * the phases k6 names, counts wire bytes and classifies failures with
 * core/errcode.h's codes. Its owner hears of it through a small callback
 * table and never touches the socket.
 *
 * The connections of one thread share an http_client: the loop, the TLS
 * context, a scratch head and a pool of read buffers lent only while a
 * response is being read, so an idle kept-alive connection holds no
 * buffer. One thread only. */
#ifndef STRAIN_HTTP_CONN_H
#define STRAIN_HTTP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "http/http_parse.h"
#include "io/ev.h"
#include "io/net.h"
#include "io/resolve.h"

struct tls_client;

typedef struct http_client http_client;
typedef struct http_conn http_conn;

/* Where an endpoint's connections go: the host to connect to (the origin,
 * or its proxy) and, for an https:// origin through a proxy, the CONNECT
 * request that opens the tunnel before TLS. */
typedef struct http_endpoint {
	const resolve_host *dest;
	const char *connect;         /* CONNECT bytes, or NULL */
	size_t connect_len;
} http_endpoint;

typedef struct http_client_opts {
	ev_loop *loop;
	struct tls_client *tls;      /* NULL when no request is https:// */
	uint32_t nendpoints;         /* endpoints a connection may be asked for */
	const http_endpoint *endpoints; /* by endpoint, nfixed of them; outlive the client */
	uint32_t nfixed;             /* endpoints known at start (0: all nendpoints); those past it
				      * are a redirect's, added at run time (http_client_endpoint_set) */
	uint32_t seed;               /* spreads this client's address choices from the others' */
	uint64_t connect_timeout_ns;
} http_client_opts;

/* Creates the shared part of one thread's connections. Free with
 * http_client_destroy (accepts NULL) after every connection. */
http_client *http_client_create(const http_client_opts *o);
void http_client_destroy(http_client *cl);
/* Gives endpoint ep (nfixed <= ep < nendpoints: one added at run time)
 * its destination and CONNECT bytes (copied; e->dest and e->connect must
 * outlive the client). Its connections then pick addresses from this
 * client's view of e->dest, as the start's endpoints do. */
void http_client_endpoint_set(http_client *cl, uint32_t ep, const http_endpoint *e);
/* Read buffers the pool has made so far: the most responses read at once. */
size_t http_client_rbufs(const http_client *cl);

/* One request and its response. The owner fills the first part and keeps
 * it and the request bytes alive until the exchange ends; the connection
 * fills the rest. */
typedef struct http_exchange {
	const char *wire;            /* the request's bytes */
	size_t wire_len;
	const char *host;            /* TLS: SNI and the name the certificate must carry */
	const net_addr *addr;        /* where to connect, for an endpoint added at run time; NULL:
				      * the endpoint's resolved answer (dns.select) */
	uint64_t timeout_ns;         /* the exchange's deadline, from t_start */
	uint32_t endpoint;           /* scheme, host and port: a connection serves one */
	uint8_t tls;                 /* https:// */
	uint8_t head_method;         /* HEAD: the response has no body */
	uint8_t want_body;           /* hand the decoded body to on_body */
	uint8_t close_after;         /* no further exchange on this connection (we sent
				      * Connection: close, or --no-connection-reuse) */
	uint32_t max_reqs;           /* max_requests_per_connection: close the socket after its
				      * max_reqs-th exchange (0: no limit) */
	uint64_t max_age_ns;         /* max_connection_age: no exchange starts on a socket older
				      * than this, and one ending past it closes it (0: no limit) */
	uint64_t t_resolved;         /* set by the owner when the exchange waited for a run-time
				      * lookup after t_start: when it ended (blocked runs to the
				      * connect from t_start); 0 otherwise */
	/* Filled by the connection. */
	uint8_t reused;              /* it went out on a kept-alive connection */
	int status;                  /* of the final response; 0 until its head came, or on failure */
	uint8_t tls_ver;             /* 0 plain, 1 TLS 1.2, 2 TLS 1.3 */
	uint16_t tls_cipher_id;      /* the suite's 16-bit id, 0 when plain */
	const char *tls_version;     /* tls_version tag, NULL when plain (static) */
	const char *tls_cipher;      /* tls_cipher_suite tag, NULL when plain (static) */
	/* Phases (monotonic ns; 0: not reached): k6's blocked is t_start to
	 * t_conn_start, connecting to t_connected, tls_handshaking to
	 * t_tls_done, sending t_send_start to t_sent, waiting to t_first. */
	uint64_t t_start, t_conn_start, t_connected, t_tls_done, t_send_start, t_sent, t_first;
	uint64_t bytes_in, bytes_out; /* wire bytes, TLS records and handshakes included */
} http_exchange;

/* Starts x's clock (t_start = now) and clears what a connection reports. */
void http_exchange_begin(http_exchange *x);

/* How a connection reports to its owner. Each gets the owner pointer given
 * to http_conn_create. on_head and on_body may be NULL. */
typedef struct http_conn_cbs {
	/* The final response's head (interim 1xx ones are skipped); h is
	 * scratch, valid during the call. */
	void (*on_head)(void *owner, const http_head *h);
	/* A run of decoded body bytes, when the exchange wants the body:
	 * framing removed and, for a Content-Encoding of gzip, deflate, br or
	 * zstd, decompressed (http/coding.h; at most 4 MiB, past that the
	 * exchange fails with ERR_DECODED_TOO_LARGE). An unwanted body is
	 * counted on the wire and never decoded. */
	void (*on_body)(void *owner, const char *p, size_t n);
	/* A written attempt failed with err on a kept-alive connection and the
	 * request goes out again on a new one: record it as its own failed
	 * request (status 0). The exchange's clock restarts after. */
	void (*on_attempt)(void *owner, int err);
	/* The exchange ended: 0 with a complete response, or a code (status
	 * is then 0). The connection is idle (kept alive) or closed. */
	void (*on_done)(void *owner, int err);
} http_conn_cbs;

/* A connection with no socket yet. Free with http_conn_destroy (accepts NULL). */
http_conn *http_conn_create(http_client *cl, const http_conn_cbs *cbs, void *owner);
void http_conn_destroy(http_conn *c);
/* Binds c's new connections to local (k6's localIPs; borrowed, must
 * outlive c) when its family is the destination's. NULL: the kernel's. */
void http_conn_bind(http_conn *c, const net_addr *local);

/* Sends x (x->t_start set by http_exchange_begin): on the kept-alive
 * connection when it serves x's endpoint and has not gone stale, else on a
 * new one. A request that fails on a reused connection before any of its
 * answer came is sent once more on a new connection when that is safe
 * (nothing of it was written, or it is replayable: RFC 9110's idempotent
 * methods or an Idempotency-Key header). Returns 0 when the exchange is
 * under way (on_done ends it), or a negative code when it failed at once
 * (no on_done: the owner must not recurse into its next request). */
int http_conn_send(http_conn *c, http_exchange *x);
/* Closes the socket, abandoning any exchange without a callback. */
void http_conn_close(http_conn *c);

#endif
