#include "http/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "http/coding.h"
#include "io/tls.h"

#define RBUF_INITIAL 8192
/* Heads larger than this are classified ERR_HEAD_TOO_LARGE. */
#define RBUF_MAX (1024 * 1024)
/* A compressed body decoding past this is ERR_DECODED_TOO_LARGE: the
 * body its owner keeps is no larger (engine/worker.c). */
#define DECODED_MAX (4 * 1024 * 1024)

struct http_client {
	ev_loop *loop;
	struct tls_client *tls;
	uint32_t nendpoints;
	uint32_t nfixed;             /* endpoints known at start; those past it are added at run time */
	uint32_t seed;
	http_endpoint *eps;          /* by endpoint (copies; dest NULL: not added yet) */
	resolve_view *views;         /* by endpoint: this thread's copy of its addresses */
	int resumes;                 /* TLS sessions are kept for the next connection */
	uint64_t connect_timeout_ns;
	buf_pool rbufs;              /* read buffers, lent while a response is read */
	http_decoder_pool decoders;  /* lent while a compressed body that is wanted is read */
	http_head head;              /* scratch for response heads */
};

/* How bytes move on a connection: plain socket calls or TLS records,
 * chosen when it connects so the request path never asks which.
 * read/write return bytes moved, 0 at the end of the stream (read),
 * TLS_WANT_READ/TLS_WANT_WRITE when they would block, or a negative error
 * code; close releases what the connection holds besides its fd. */
typedef struct conn_ops {
	ssize_t (*read)(http_conn *c, void *p, size_t n);
	ssize_t (*write)(http_conn *c, const void *p, size_t n);
	void (*close)(http_conn *c);
	int (*pending)(const http_conn *c); /* bytes read ahead, waiting for read() */
} conn_ops;

typedef enum {
	CONN_IDLE,        /* no exchange: closed, or kept alive */
	CONN_CONNECTING,
	CONN_TUNNELING,   /* CONNECT through a proxy */
	CONN_HANDSHAKING, /* TLS */
	CONN_SENDING,
	CONN_RECEIVING
} conn_state;

/* Ordered for size: an idle connection of an idle VU costs this struct
 * and nothing else (its read buffer is back in the pool). */
struct http_conn {
	http_client *cl;
	const http_conn_cbs *cbs;
	void *owner;
	http_exchange *x;            /* the exchange under way, NULL when idle */
	const conn_ops *ops;
	struct ssl_st *ssl;          /* TLS connections */
	struct ssl_session_st **sess; /* by endpoint: last resumable session; made at the first TLS connection */
	const char *tls_version, *tls_cipher; /* of this connection, for reused exchanges */
	const net_addr *local;       /* source address, or NULL */
	ev_io io;                    /* io.fd is the socket, -1 when none */
	ev_timer timer;              /* connect or exchange deadline */
	buf rbuf;                    /* response bytes not yet consumed; lent from cl->rbufs */
	http_body body;
	struct http_decoder *dec;    /* decoding the body under way: lent from cl->decoders */
	size_t head_scan;
	size_t wr_off;
	uint64_t deadline, conn_deadline;
	uint64_t wire_in, wire_out;  /* TLS bytes on the wire already counted */
	uint64_t t_open;             /* when the socket's first exchange began (max_age_ns) */
	uint32_t nreqs;              /* exchanges completed on this socket (max_reqs) */
	uint32_t ep;                 /* the endpoint the socket is connected to */
	uint16_t tls_cipher_id;
	uint8_t state;               /* conn_state */
	uint8_t tls_ver;
	uint8_t tls_bad;             /* a TLS error happened: no close_notify, no resumption */
	uint8_t in_body;
	uint8_t conn_close;          /* the server will close, or we must */
	uint8_t retried;             /* resent once after a stale kept-alive connection */
	uint8_t in_send;             /* inside http_conn_send: failures are returned, not called back */
	uint8_t sync_done;
	uint8_t body_err;            /* the error is the body's content (its coding): the status stands */
	int sync_err;
};

static void on_io(ev_loop *loop, ev_io *io, unsigned events);
static void on_timer(ev_loop *loop, ev_timer *t);
static void conn_start(http_conn *c);

http_client *http_client_create(const http_client_opts *o)
{
	http_client *cl = xcalloc(1, sizeof(*cl));

	cl->loop = o->loop;
	cl->tls = o->tls;
	cl->nendpoints = o->nendpoints;
	cl->nfixed = o->endpoints ? (o->nfixed ? o->nfixed : o->nendpoints) : 0;
	cl->seed = o->seed;
	cl->eps = xcalloc(cl->nendpoints > cl->nfixed ? cl->nendpoints : cl->nfixed + 1, sizeof(*cl->eps));
	cl->views = xcalloc(cl->nendpoints > cl->nfixed ? cl->nendpoints : cl->nfixed + 1, sizeof(*cl->views));
	for (uint32_t i = 0; i < cl->nfixed; i++) {
		cl->eps[i] = o->endpoints[i];
		resolve_view_init(&cl->views[i], o->endpoints[i].dest, o->seed);
	}
	cl->resumes = o->tls && tls_client_resumes(o->tls);
	cl->connect_timeout_ns = o->connect_timeout_ns;
	buf_pool_init(&cl->rbufs, RBUF_INITIAL, RBUF_MAX);
	http_decoder_pool_init(&cl->decoders, DECODED_MAX);
	return cl;
}

void http_client_destroy(http_client *cl)
{
	if (!cl)
		return;
	buf_pool_free(&cl->rbufs);
	http_decoder_pool_free(&cl->decoders);
	free(cl->eps);
	free(cl->views);
	free(cl);
}

void http_client_endpoint_set(http_client *cl, uint32_t ep, const http_endpoint *e)
{
	if (ep < cl->nfixed || ep >= cl->nendpoints)
		return;
	cl->eps[ep] = *e;
	resolve_view_init(&cl->views[ep], e->dest, cl->seed);
}

size_t http_client_rbufs(const http_client *cl)
{
	return cl->rbufs.made;
}

void http_exchange_begin(http_exchange *x)
{
	x->t_start = clock_mono_ns();
	x->t_resolved = 0;
	x->t_conn_start = x->t_connected = 0;
	x->t_tls_done = x->t_send_start = x->t_sent = x->t_first = 0;
	x->bytes_in = x->bytes_out = 0;
	x->status = 0;
}

static ssize_t plain_read(http_conn *c, void *p, size_t n)
{
	for (;;) {
		ssize_t r = read(c->io.fd, p, n);

		if (r >= 0) {
			c->x->bytes_in += (uint64_t)r;
			return r;
		}
		if (errno != EINTR)
			return errno == EAGAIN ? TLS_WANT_READ : -err_from_io_errno(errno);
	}
}

static ssize_t plain_write(http_conn *c, const void *p, size_t n)
{
	for (;;) {
		ssize_t r = send(c->io.fd, p, n, MSG_NOSIGNAL);

		if (r > 0) {
			c->x->bytes_out += (uint64_t)r;
			return r;
		}
		if (r == 0)
			return -ERR_TCP_BROKEN_PIPE;
		if (errno != EINTR)
			return errno == EAGAIN ? TLS_WANT_WRITE : -err_from_io_errno(errno);
	}
}

static void plain_close(http_conn *c)
{
}

static int plain_pending(const http_conn *c)
{
	return 0;
}

/* data_received/data_sent count what crossed the socket, records and
 * handshakes included, as for plain connections. */
static void tls_account(http_conn *c)
{
	uint64_t in, out;

	tls_conn_wire(c->ssl, &in, &out);
	c->x->bytes_in += in - c->wire_in;
	c->x->bytes_out += out - c->wire_out;
	c->wire_in = in;
	c->wire_out = out;
}

static ssize_t tls_read(http_conn *c, void *p, size_t n)
{
	ssize_t r = tls_conn_read(c->ssl, p, n);

	tls_account(c);
	if (r < TLS_WANT_WRITE)
		c->tls_bad = 1;
	return r;
}

static ssize_t tls_write(http_conn *c, const void *p, size_t n)
{
	ssize_t r = tls_conn_write(c->ssl, p, n);

	tls_account(c);
	if (r < TLS_WANT_WRITE || r == 0)
		c->tls_bad = 1;
	return r == 0 ? -ERR_TCP_BROKEN_PIPE : r;
}

/* Keeps the session for the next connection unless resumption is off. */
static void tls_close(http_conn *c)
{
	tls_conn_free(c->ssl, !c->tls_bad, c->cl->resumes ? &c->sess[c->ep] : NULL);
	c->ssl = NULL;
}

static int tls_pending(const http_conn *c)
{
	return tls_conn_pending(c->ssl);
}

static const conn_ops plain_ops = {plain_read, plain_write, plain_close, plain_pending};
static const conn_ops tls_ops = {tls_read, tls_write, tls_close, tls_pending};

static int would_block(ssize_t n)
{
	return n == TLS_WANT_READ || n == TLS_WANT_WRITE;
}

http_conn *http_conn_create(http_client *cl, const http_conn_cbs *cbs, void *owner)
{
	http_conn *c = xcalloc(1, sizeof(*c));

	c->cl = cl;
	c->cbs = cbs;
	c->owner = owner;
	c->ops = &plain_ops;
	ev_io_init(&c->io, -1, on_io);
	ev_timer_init(&c->timer, on_timer);
	return c;
}

/* close() drops the fd from epoll too, which saves an epoll_ctl. */
static void conn_shut(http_conn *c)
{
	buf_pool_put(&c->cl->rbufs, &c->rbuf);
	http_decoder_put(&c->cl->decoders, c->dec);
	c->dec = NULL;
	c->state = CONN_IDLE;
	if (c->io.fd < 0)
		return;
	c->ops->close(c);
	c->ops = &plain_ops;
	close(c->io.fd);
	c->io.fd = -1;
	c->io.events = 0;
}

void http_conn_bind(http_conn *c, const net_addr *local)
{
	c->local = local;
}

void http_conn_close(http_conn *c)
{
	ev_timer_stop(c->cl->loop, &c->timer);
	conn_shut(c);
	c->x = NULL;
}

void http_conn_destroy(http_conn *c)
{
	uint32_t i;

	if (!c)
		return;
	http_conn_close(c);
	for (i = 0; c->sess && i < c->cl->nendpoints; i++)
		tls_session_free(c->sess[i]);
	free(c->sess);
	free(c);
}

/* Has the socket served its last exchange (max_requests_per_connection,
 * max_connection_age)? Counts the one that just ended. */
static int conn_spent(http_conn *c, const http_exchange *x)
{
	c->nreqs++;
	if (x->max_reqs && c->nreqs >= x->max_reqs)
		return 1;
	return x->max_age_ns && clock_mono_ns() - c->t_open >= x->max_age_ns;
}

/* The exchange ended, with a complete response (err 0) or err: the socket
 * is kept for the next one only when both sides can go on. A body whose
 * coding failed (body_err) keeps its status: the server did answer. */
static void conn_finish(http_conn *c, int err)
{
	http_exchange *x = c->x;

	ev_timer_stop(c->cl->loop, &c->timer);
	if (err && !c->body_err)
		x->status = 0;
	if (err || c->conn_close || c->x->close_after || conn_spent(c, x))
		conn_shut(c);
	buf_pool_put(&c->cl->rbufs, &c->rbuf);
	http_decoder_put(&c->cl->decoders, c->dec);
	c->dec = NULL;
	c->state = CONN_IDLE;
	c->x = NULL;
	if (c->in_send && err) {
		c->sync_done = 1;
		c->sync_err = err;
		return;
	}
	c->cbs->on_done(c->owner, err);
}

/* RFC 9110's idempotent methods (9.2.2), or a request that says it may be
 * repeated with an Idempotency-Key / X-Idempotency-Key header (Go's
 * net/http honours both names). Asked only when a connection failed under
 * the request or before writing it, so it reads the head actually sent. */
static int replayable(const http_exchange *x)
{
	static const char *const methods[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
	static const char *const keys[] = {"idempotency-key:", "x-idempotency-key:"};
	const char *p = x->wire, *end = p + x->wire_len, *nl;
	const char *sp = memchr(p, ' ', x->wire_len);
	size_t mlen = sp ? (size_t)(sp - p) : 0, i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i]) == mlen && memcmp(p, methods[i], mlen) == 0)
			return 1;
	/* Header lines follow the request line and end at the blank line. */
	nl = memchr(p, '\n', (size_t)(end - p));
	while (nl && nl + 1 < end && nl[1] != '\r' && nl[1] != '\n') {
		p = nl + 1;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t k = strlen(keys[i]);

			if ((size_t)(end - p) >= k && strncasecmp(p, keys[i], k) == 0)
				return 1;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
	}
	return 0;
}

/* A kept-alive connection failed under the request (err) before any byte
 * of the answer came back. The server may have closed it just as we reused
 * it, or may have failed this very request; from here the two look alike.
 * So, as Go's net/http does, the request is sent again, once, on a new
 * connection, only when that cannot do harm: nothing of it reached the wire
 * (the server cannot have seen it), or it is replayable. A POST that went out
 * is never sent twice. An attempt that reached the wire is reported first
 * (on_attempt) so the owner records it as its own failed request, and
 * http_reqs counts every request the server may have seen. Returns 1 if
 * the request was resent, 0 if the caller fails it with err. */
static int retry_stale(http_conn *c, int err)
{
	http_exchange *x = c->x;

	if (!x->reused || c->retried || x->t_first)
		return 0;
	if (x->bytes_out && !replayable(x))
		return 0;
	c->retried = 1;
	conn_shut(c);
	if (x->bytes_out) {
		x->status = 0;
		c->cbs->on_attempt(c->owner, err);
	}
	ev_timer_stop(c->cl->loop, &c->timer);
	http_exchange_begin(x);
	conn_start(c);
	return 1;
}

/* A kept-alive connection is about to carry a request that could not be
 * sent again (replayable() says no) if the connection turned out dead. One
 * look first: if the server's FIN, a reset or unsolicited bytes arrived
 * since the last answer, nothing has been written yet, so a new connection
 * costs nothing and the request provably reached no one twice. Idempotent
 * requests skip the system call: a retry covers them. */
static int conn_stale(http_conn *c)
{
	char b;
	ssize_t r;

	if (replayable(c->x))
		return 0;
	r = recv(c->io.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

/* A TLS server that refuses us sends an alert and hangs up; our write or
 * read may meet the reset first. If the alert is still readable, it is
 * the better reason. */
static int tls_reason(http_conn *c, int err)
{
	char scratch[512];
	ssize_t r;

	if (!c->ssl || err < ERR_TCP || err >= ERR_TLS)
		return err;
	r = tls_conn_read(c->ssl, scratch, sizeof(scratch));
	return r <= -ERR_TLS && r > -(ERR_TLS + 100) ? (int)-r : err;
}

static void send_request(http_conn *c)
{
	http_exchange *x = c->x;
	int err;

	if (!x->t_send_start)
		x->t_send_start = clock_mono_ns();
	while (c->wr_off < x->wire_len) {
		ssize_t n = c->ops->write(c, x->wire + c->wr_off, x->wire_len - c->wr_off);

		if (n > 0) {
			c->wr_off += (size_t)n;
			continue;
		}
		if (would_block(n)) {
			c->state = CONN_SENDING;
			ev_io_set(c->cl->loop, &c->io, EV_READ | EV_WRITE);
			return;
		}
		err = tls_reason(c, (int)-n);
		if (!retry_stale(c, err))
			conn_finish(c, err);
		return;
	}
	x->t_sent = clock_mono_ns();
	c->state = CONN_RECEIVING;
	if (ev_io_set(c->cl->loop, &c->io, EV_READ) < 0)
		conn_finish(c, ERR_TCP_ERRNO);
}

static void connected(http_conn *c)
{
	c->deadline = c->x->t_start + c->x->timeout_ns;
	ev_timer_start(c->cl->loop, &c->timer, c->deadline);
	send_request(c);
}

/* Advances the TLS handshake; once done, the request goes out. */
static void handshake(http_conn *c)
{
	http_exchange *x = c->x;
	int rc = tls_conn_handshake(c->ssl), ver;
	unsigned id;

	tls_account(c);
	if (would_block(rc)) {
		if (ev_io_set(c->cl->loop, &c->io, rc == TLS_WANT_READ ? EV_READ : EV_WRITE) < 0)
			conn_finish(c, ERR_TCP_ERRNO);
		return;
	}
	x->t_tls_done = clock_mono_ns();
	if (rc < 0) {
		c->tls_bad = 1;
		conn_finish(c, -rc);
		return;
	}
	c->tls_version = tls_conn_version(c->ssl, &ver);
	c->tls_cipher = tls_conn_cipher(c->ssl, &id);
	c->tls_ver = (uint8_t)ver;
	c->tls_cipher_id = (uint16_t)id;
	x->tls_ver = c->tls_ver;
	x->tls_version = c->tls_version;
	x->tls_cipher_id = c->tls_cipher_id;
	x->tls_cipher = c->tls_cipher;
	if (ev_io_set(c->cl->loop, &c->io, EV_READ) < 0) {
		conn_finish(c, ERR_TCP_ERRNO);
		return;
	}
	connected(c);
}

static void tls_start(http_conn *c);

/* The proxy's answer to CONNECT: a 2xx head and nothing after it (the
 * origin speaks first only after our ClientHello). Returns 1 when the
 * tunnel is open, 0 when more bytes are needed, or a negative code. */
static int tunnel_answer(http_conn *c)
{
	http_head *h = &c->cl->head;
	size_t hl = http_head_end(c->rbuf.data, c->rbuf.len, &c->head_scan);

	if (!hl)
		return c->rbuf.len < 16384 ? 0 : -ERR_PROXY_CONNECT;
	if (http_head_parse_response(c->rbuf.data, hl, h) != HTTP_OK)
		return -ERR_MALFORMED;
	if (h->status < 200 || h->status > 299 || hl != c->rbuf.len)
		return -ERR_PROXY_CONNECT;
	return 1;
}

/* Writes the endpoint's CONNECT and reads the proxy's answer, then goes on
 * to TLS with the origin over the tunnel. Its time counts as connecting. */
static void tunnel(http_conn *c)
{
	const http_endpoint *ep = &c->cl->eps[c->x->endpoint]; /* tcp_connected checked its CONNECT */
	buf_pool *pool = &c->cl->rbufs;

	while (c->wr_off < ep->connect_len) {
		ssize_t n = plain_write(c, ep->connect + c->wr_off, ep->connect_len - c->wr_off);

		if (n > 0) {
			c->wr_off += (size_t)n;
			continue;
		}
		if (would_block(n)) {
			ev_io_set(c->cl->loop, &c->io, EV_WRITE);
			return;
		}
		conn_finish(c, (int)-n);
		return;
	}
	if (ev_io_set(c->cl->loop, &c->io, EV_READ) < 0) {
		conn_finish(c, ERR_TCP_ERRNO);
		return;
	}
	for (;;) {
		ssize_t n;
		int rc;

		if (!c->rbuf.data)
			buf_pool_get(pool, &c->rbuf);
		n = plain_read(c, c->rbuf.data + c->rbuf.len, buf_room(&c->rbuf));
		if (n == TLS_WANT_READ)
			return;
		if (n <= 0) {
			conn_finish(c, n == 0 ? ERR_PROXY_CONNECT : (int)-n);
			return;
		}
		c->rbuf.len += (size_t)n;
		rc = tunnel_answer(c);
		if (rc < 0) {
			conn_finish(c, -rc);
			return;
		}
		if (rc > 0)
			break;
	}
	buf_reset(&c->rbuf);
	buf_pool_put(pool, &c->rbuf);
	c->head_scan = 0;
	c->wr_off = 0;
	c->x->t_connected = clock_mono_ns();
	tls_start(c);
}

/* TCP is up (t_connected is set): plain connections send at once, TLS ones
 * shake hands first (through a proxy's tunnel first when there is one),
 * within the exchange's deadline. */
static void tcp_connected(http_conn *c)
{
	http_client *cl = c->cl;
	http_exchange *x = c->x;

	if (x->tls && x->endpoint < cl->nendpoints && cl->eps[x->endpoint].connect) {
		c->state = CONN_TUNNELING;
		c->wr_off = 0;
		c->head_scan = 0;
		c->deadline = x->t_start + x->timeout_ns;
		ev_timer_start(cl->loop, &c->timer, c->deadline);
		tunnel(c);
		return;
	}
	if (!x->tls) {
		x->t_tls_done = x->t_connected;
		if (ev_io_set(cl->loop, &c->io, EV_READ) < 0) {
			conn_finish(c, ERR_DIAL_ERRNO);
			return;
		}
		connected(c);
		return;
	}
	tls_start(c);
}

static void tls_start(http_conn *c)
{
	http_client *cl = c->cl;
	http_exchange *x = c->x;

	if (!c->sess)
		c->sess = xcalloc(cl->nendpoints ? cl->nendpoints : 1, sizeof(*c->sess));
	c->ssl = cl->tls ? tls_conn_new(cl->tls, c->io.fd, x->host, c->sess[x->endpoint]) : NULL;
	c->wire_in = c->wire_out = 0;
	if (!c->ssl) {
		x->t_tls_done = clock_mono_ns();
		conn_finish(c, ERR_TLS);
		return;
	}
	c->ops = &tls_ops;
	c->tls_bad = 0;
	c->state = CONN_HANDSHAKING;
	c->deadline = x->t_start + x->timeout_ns;
	ev_timer_start(cl->loop, &c->timer, c->deadline);
	handshake(c);
}

/* Sends c->x from its t_start: on the kept-alive socket, or a new one. */
static void conn_start(http_conn *c)
{
	http_client *cl = c->cl;
	http_exchange *x = c->x;
	const net_addr *addr;
	int rc, fd;

	c->wr_off = 0;
	c->conn_close = 0;
	c->in_body = 0;
	c->head_scan = 0;
	c->body_err = 0;
	/* A connection may also have aged past max_connection_age while idle. */
	if (c->io.fd >= 0 && (c->ep != x->endpoint || (x->max_age_ns && x->t_start - c->t_open >= x->max_age_ns) ||
			      conn_stale(c)))
		conn_shut(c);
	if (c->io.fd >= 0) {
		x->reused = 1;
		x->t_conn_start = x->t_connected = x->t_tls_done = x->t_resolved ? x->t_resolved : x->t_start;
		x->tls_ver = c->tls_ver;
		x->tls_version = c->tls_version;
		x->tls_cipher_id = c->tls_cipher_id;
		x->tls_cipher = c->tls_cipher;
		connected(c);
		return;
	}
	x->reused = 0;
	x->tls_ver = c->tls_ver = 0;
	x->tls_version = c->tls_version = NULL;
	x->tls_cipher_id = c->tls_cipher_id = 0;
	x->tls_cipher = c->tls_cipher = NULL;
	/* blocked: from the start to the connect, a run-time lookup included. */
	x->t_conn_start = x->t_resolved ? x->t_resolved : x->t_start;
	c->ep = x->endpoint;
	c->t_open = x->t_start;
	c->nreqs = 0;
	/* The address is chosen per new connection (dns.select), from this
	 * thread's view of the endpoint's current answer; a redirect's
	 * endpoint added at run time brings its own. */
	if (x->addr)
		addr = x->addr;
	else
		addr = x->endpoint < cl->nendpoints && cl->views[x->endpoint].h ? resolve_view_pick(&cl->views[x->endpoint])
										  : NULL;
	if (!addr) {
		x->t_connected = clock_mono_ns();
		conn_finish(c, ERR_DNS);
		return;
	}
	fd = net_socket(addr);
	if (fd < 0) {
		x->t_connected = clock_mono_ns();
		conn_finish(c, err_from_dial_errno(errno));
		return;
	}
	c->io.fd = fd;
	c->io.events = 0;
	if (c->local && c->local->sa.ss_family == addr->sa.ss_family && net_bind_local(fd, c->local) < 0) {
		int e = errno;

		x->t_connected = clock_mono_ns();
		conn_shut(c);
		conn_finish(c, err_from_dial_errno(e));
		return;
	}
	rc = net_connect(fd, addr);
	if (rc == 0) {
		x->t_connected = clock_mono_ns();
		tcp_connected(c);
		return;
	}
	if (rc < 0) {
		int e = errno;

		x->t_connected = clock_mono_ns();
		conn_shut(c);
		conn_finish(c, err_from_dial_errno(e));
		return;
	}
	c->state = CONN_CONNECTING;
	ev_io_set(cl->loop, &c->io, EV_WRITE);
	c->deadline = x->t_start + x->timeout_ns;
	c->conn_deadline = x->t_start + cl->connect_timeout_ns;
	ev_timer_start(cl->loop, &c->timer, c->conn_deadline < c->deadline ? c->conn_deadline : c->deadline);
}

int http_conn_send(http_conn *c, http_exchange *x)
{
	c->x = x;
	c->retried = 0;
	c->in_send = 1;
	c->sync_done = 0;
	conn_start(c);
	c->in_send = 0;
	return c->sync_done ? -c->sync_err : 0;
}

/* A wanted body in a Content-Encoding is decoded as it comes, by a
 * decoder lent for this response; one that is not wanted is only counted,
 * so the plain path never looks at the header. Returns 0, or
 * -ERR_CODING_UNSUPPORTED for a coding strain cannot decode (unknown, or
 * stacked: docs/plan-format.md). */
static int open_decoder(http_conn *c, const http_head *h)
{
	const http_header *f = http_head_find(h, "content-encoding");
	int coding;

	if (!f)
		return 0;
	coding = http_coding_parse(f->value, f->value_len);
	if (coding < 0) {
		c->body_err = 1;
		c->conn_close = 1;
		return coding;
	}
	if (coding != HTTP_CODING_IDENTITY)
		c->dec = http_decoder_get(&c->cl->decoders, coding);
	return 0;
}

/* The framing decoder's output, through the content decoder, to on_body.
 * A failure is kept and reported by parse_response after the feed. */
static void decode_body(void *p, const char *d, size_t n)
{
	http_conn *c = p;

	if (!c->body_err && http_decoder_feed(c->dec, d, n, c->cbs->on_body, c->owner) < 0)
		c->body_err = 1;
}

/* The body ended, or its decoding failed: 1 when it decoded whole, or the
 * decoder's code. The connection is not reused after a failure: the rest
 * of the body was not read. */
static int body_decoded(http_conn *c)
{
	int rc = c->body_err ? http_decoder_feed(c->dec, NULL, 0, NULL, NULL) : http_decoder_finish(c->dec);

	if (rc < 0) {
		c->body_err = 1;
		c->conn_close = 1;
		return rc;
	}
	return 1;
}

/* Parses what is buffered. Returns 1 when the response is complete, 0 when
 * more bytes are needed, or a negative error code. */
static int parse_response(http_conn *c)
{
	http_exchange *x = c->x;
	http_head *h = &c->cl->head;
	size_t off = 0;
	ssize_t used;

	while (!c->in_body) {
		size_t hl = http_head_end(c->rbuf.data, c->rbuf.len, &c->head_scan);

		if (!hl)
			return 0;
		if (http_head_parse_response(c->rbuf.data, hl, h) != HTTP_OK)
			return -ERR_MALFORMED;
		if (h->status < 200 && h->status != 101) {
			/* Interim response (100 Continue, 103 Early Hints): skip it. */
			buf_consume(&c->rbuf, hl);
			c->head_scan = 0;
			continue;
		}
		x->status = h->status;
		c->conn_close = (uint8_t)h->conn_close;
		http_body_init_response(&c->body, h, x->head_method);
		if (c->body.mode == HTTP_BODY_EOF || h->status == 101)
			c->conn_close = 1;
		if (c->cbs->on_head)
			c->cbs->on_head(c->owner, h);
		c->in_body = 1;
		off = hl;
		if (x->want_body && !c->body.done) {
			int rc = open_decoder(c, h);

			if (rc < 0)
				return rc;
		}
	}
	if (c->dec)
		used = http_body_feed(&c->body, c->rbuf.data + off, c->rbuf.len - off, decode_body, c);
	else
		used = http_body_feed(&c->body, c->rbuf.data + off, c->rbuf.len - off,
				      x->want_body ? c->cbs->on_body : NULL, c->owner);
	if (used < 0)
		return -ERR_MALFORMED;
	if (c->body.done && off + (size_t)used < c->rbuf.len)
		c->conn_close = 1; /* bytes nobody asked for: the stream can't be trusted */
	/* Body bytes are counted and dropped (or handed on above); only an
	 * incomplete head stays in the buffer. */
	buf_reset(&c->rbuf);
	if (c->dec && (c->body_err || c->body.done))
		return body_decoded(c);
	return c->body.done;
}

static void response_complete(http_conn *c)
{
	if (!c->x->t_first)
		c->x->t_first = clock_mono_ns();
	conn_finish(c, 0);
}

/* Reads while bytes come. The read buffer is borrowed for each read and
 * given back as soon as nothing is left in it (only an incomplete head
 * stays), so between responses — and through a streamed body — the
 * connection holds none. */
static void on_readable(http_conn *c)
{
	buf_pool *pool = &c->cl->rbufs;

	for (;;) {
		ssize_t n;
		size_t room;
		int rc;

		if (!c->rbuf.data)
			buf_pool_get(pool, &c->rbuf);
		if (buf_room(&c->rbuf) < 1024 && buf_reserve(&c->rbuf, c->rbuf.cap) < 0 && buf_room(&c->rbuf) == 0) {
			conn_finish(c, ERR_HEAD_TOO_LARGE);
			return;
		}
		room = buf_room(&c->rbuf);
		n = c->ops->read(c, c->rbuf.data + c->rbuf.len, room);
		if (n > 0) {
			if (!c->x->t_first)
				c->x->t_first = clock_mono_ns();
			c->rbuf.len += (size_t)n;
			rc = parse_response(c);
			if (rc > 0) {
				response_complete(c);
				return;
			}
			if (rc < 0) {
				conn_finish(c, -rc);
				return;
			}
			if (!c->rbuf.len)
				buf_pool_put(pool, &c->rbuf);
			/* Drained; level-triggered epoll calls again. TLS reads ahead,
			 * so bytes it already holds are read now: epoll won't tell. */
			if ((size_t)n < room && !c->ops->pending(c))
				return;
			continue;
		}
		if (!c->rbuf.len)
			buf_pool_put(pool, &c->rbuf);
		if (n == 0) {
			if (c->in_body && c->body.mode == HTTP_BODY_EOF) {
				http_body_eof(&c->body);
				c->conn_close = 1;
				rc = c->dec ? body_decoded(c) : 1;
				if (rc < 0)
					conn_finish(c, -rc);
				else
					response_complete(c);
			} else if (!retry_stale(c, ERR_CLOSED_EARLY)) {
				conn_finish(c, ERR_CLOSED_EARLY);
			}
			return;
		}
		if (would_block(n)) {
			/* TLS may need to write while reading (a TLS 1.3 KeyUpdate
			 * answered, say): wait for writability too, until it's done. */
			if (c->state == CONN_RECEIVING &&
			    ev_io_set(c->cl->loop, &c->io, n == TLS_WANT_WRITE ? EV_READ | EV_WRITE : EV_READ) < 0)
				conn_finish(c, ERR_TCP_ERRNO);
			return;
		}
		rc = tls_reason(c, (int)-n);
		if (!retry_stale(c, rc))
			conn_finish(c, rc);
		return;
	}
}

static void on_io(ev_loop *loop, ev_io *io, unsigned events)
{
	http_conn *c = container_of(io, http_conn, io);
	int e;

	switch (c->state) {
	case CONN_CONNECTING:
		e = net_socket_error(c->io.fd);
		c->x->t_connected = clock_mono_ns();
		if (e) {
			conn_finish(c, err_from_dial_errno(e));
			return;
		}
		tcp_connected(c);
		return;
	case CONN_TUNNELING:
		tunnel(c);
		return;
	case CONN_HANDSHAKING:
		handshake(c);
		return;
	case CONN_SENDING:
		if (events & EV_READ) {
			/* The server answered (or closed) before taking the whole request. */
			on_readable(c);
			return;
		}
		send_request(c);
		return;
	case CONN_RECEIVING:
		on_readable(c);
		return;
	default:
		/* An idle kept-alive connection became readable: the server closed it
		 * (or sent something unsolicited). Either way it is no longer usable. */
		conn_shut(c);
		return;
	}
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
	http_conn *c = container_of(t, http_conn, timer);
	uint64_t now = clock_mono_ns();

	switch (c->state) {
	case CONN_CONNECTING:
		c->x->t_connected = now;
		conn_finish(c, now >= c->conn_deadline && c->conn_deadline < c->deadline ? ERR_DIAL_TIMEOUT : ERR_TIMEOUT);
		return;
	case CONN_TUNNELING:
		c->x->t_connected = now;
		conn_finish(c, ERR_TIMEOUT);
		return;
	case CONN_HANDSHAKING:
		c->x->t_tls_done = now;
		conn_finish(c, ERR_TIMEOUT);
		return;
	case CONN_SENDING:
	case CONN_RECEIVING:
		if (!c->x->t_sent)
			c->x->t_sent = now;
		conn_finish(c, ERR_TIMEOUT);
		return;
	default:
		return;
	}
}
