/* Connections of the target: the state machine that reads, parses and
 * writes one connection (plain or TLS), and the pool it is allocated from.
 * Accepting is tgt_worker.c's, response heads respond.c's, the
 * request-level decisions routes.c's and faults.c's. */
#include "target/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "io/tls_server.h"
#include "target/faults.h"
#include "target/respond.h"
#include "target/routes.h"

#define SPARE_BLOCKS 1024  /* input blocks kept for reuse per worker */
#define KEEP_BUF (64 * 1024) /* per-connection buffers above this are freed on close */

char tgt_filler[TGT_FILLER];

/* Input blocks: a connection holds one only while it has unparsed bytes or
 * a request in progress, so 10,000 idle keep-alive connections cost their
 * structs and nothing more. */
static char *block_get(tgt_worker *w)
{
	if (w->nblocks)
		return w->blocks[--w->nblocks];
	return xmalloc(TGT_INBUF);
}

static void block_put(tgt_worker *w, char *b)
{
	if (w->nblocks == SPARE_BLOCKS) {
		free(b);
		return;
	}
	if (w->nblocks == w->capblocks) {
		w->capblocks = w->capblocks ? w->capblocks * 2 : 64;
		w->blocks = xrealloc(w->blocks, sizeof(*w->blocks) * w->capblocks);
	}
	w->blocks[w->nblocks++] = b;
}

static void on_conn_timer(ev_loop *loop, ev_timer *t);

tgt_conn *tgt_conn_alloc(tgt_worker *w)
{
	tgt_conn *c;

	if (!w->free) {
		tgt_conn *slab = xcalloc(TGT_SLAB, sizeof(*slab));
		size_t i;

		w->slabs = xrealloc(w->slabs, sizeof(*w->slabs) * (w->nslabs + 1));
		w->slabs[w->nslabs++] = slab;
		for (i = 0; i < TGT_SLAB; i++) {
			slab[i].state = CS_CLOSED;
			slab[i].io.fd = -1;
			slab[i].next = i + 1 < TGT_SLAB ? &slab[i + 1] : NULL;
		}
		w->free = slab;
	}
	c = w->free;
	w->free = c->next;
	c->next = NULL;
	c->w = w;
	c->state = CS_HEAD;
	c->peer_eof = c->close_after = c->broken = c->query_pending = 0;
	c->line_checked = 0;
	c->want_body = 0;
	c->counted = 0;
	c->in = NULL;
	c->ssl = NULL;
	c->handshaking = 0;
	c->in_off = c->in_len = 0;
	c->head_scan = 0;
	c->bodybuf.len = 0;
	if (!c->bodybuf.max)
		buf_init(&c->bodybuf, 0, TGT_MAX_BODY);
	c->out.len = 0;
	if (!c->out.max)
		buf_init(&c->out, 0, 64u << 20);
	c->out_off = 0;
	c->stream = ST_NONE;
	memset(&c->req, 0, sizeof(c->req));
	memset(&c->q, 0, sizeof(c->q));
	c->q.owner = (uint16_t)w->idx;
	/* From the accept on: a client that never sends a byte is idle too. */
	c->last_active = ev_now(w->loop);
	ev_timer_init(&c->timer, on_conn_timer);
	return c;
}

/* Closed connections wait in limbo until the next loop pass: an event for
 * this fd may still be further down the current epoll batch, and it must
 * find a closed connection, not a reused one. */
void tgt_conn_retire(tgt_conn *c)
{
	tgt_worker *w = c->w;

	if (c->bodybuf.cap > KEEP_BUF)
		buf_free(&c->bodybuf);
	if (c->out.cap > KEEP_BUF)
		buf_free(&c->out);
	c->next = w->limbo;
	w->limbo = c;
}

void tgt_conn_close(tgt_conn *c, int rst)
{
	tgt_worker *w = c->w;

	if (c->state == CS_CLOSED)
		return;
	if (rst) {
		struct linger lg = {1, 0};

		setsockopt(c->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	if (c->ssl) {
		/* close_notify, one non-blocking try, when the session is sound. */
		if (!rst && !c->broken && !c->handshaking)
			SSL_shutdown(c->ssl);
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->handshaking = 0;
	}
	/* Closing removes the fd from the epoll set: no epoll_ctl needed. */
	close(c->io.fd);
	c->io.fd = -1;
	c->io.events = 0;
	ev_timer_stop(w->loop, &c->timer);
	if (c->in) {
		block_put(w, c->in);
		c->in = NULL;
	}
	c->state = CS_CLOSED;
	w->nconns--;
	/* A query in the database thread still points here; the completion
	 * retires the connection. */
	if (!c->query_pending)
		tgt_conn_retire(c);
}

static int out_pending(const tgt_conn *c)
{
	return c->out_off < c->out.len;
}

/* A failed TLS read or write in read(2)/write(2) terms; a broken session
 * is not shut down gracefully (conn_close). */
static ssize_t tls_fail(tgt_conn *c, int reading)
{
	int broken = 0;
	ssize_t r = tls_server_io_fail(c->ssl, reading, &broken);

	if (broken)
		c->broken = 1;
	return r;
}

static ssize_t conn_recv(tgt_conn *c, void *p, size_t n)
{
	size_t got;

	if (!c->ssl)
		return read(c->io.fd, p, n);
	return SSL_read_ex(c->ssl, p, n, &got) == 1 ? (ssize_t)got : tls_fail(c, 1);
}

static ssize_t conn_send(tgt_conn *c, const void *p, size_t n)
{
	size_t put;

	if (!c->ssl)
		return write(c->io.fd, p, n);
	return SSL_write_ex(c->ssl, p, n, &put) == 1 ? (ssize_t)put : tls_fail(c, 0);
}

/* Writes what the socket takes of iov[], queues the rest. */
void tgt_conn_sendv(tgt_conn *c, struct iovec *iov, int n)
{
	ssize_t wr = 0;
	int i;

	if (c->broken || c->state == CS_CLOSED)
		return;
	if (c->ssl) {
		/* One TLS record for the whole answer, rather than one per piece:
		 * queue it all, then write what the socket takes. */
		for (i = 0; i < n; i++)
			if (buf_append(&c->out, iov[i].iov_base, iov[i].iov_len) < 0) {
				c->broken = 1;
				return;
			}
		while (out_pending(c)) {
			ssize_t k = conn_send(c, c->out.data + c->out_off, c->out.len - c->out_off);

			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					c->broken = 1;
				return;
			}
			c->out_off += (size_t)k;
		}
		c->out.len = c->out_off = 0;
		return;
	}
	if (!out_pending(c)) {
		for (;;) {
			wr = writev(c->io.fd, iov, n);
			if (wr >= 0)
				break;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				c->broken = 1;
				return;
			}
			wr = 0;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		size_t skip = (size_t)wr < iov[i].iov_len ? (size_t)wr : iov[i].iov_len;

		wr -= (ssize_t)skip;
		if (skip < iov[i].iov_len &&
		    buf_append(&c->out, (char *)iov[i].iov_base + skip, iov[i].iov_len - skip) < 0) {
			c->broken = 1; /* beyond 64 MiB of unread output: give up */
			return;
		}
	}
}

void tgt_send(tgt_conn *c, const void *p, size_t n)
{
	struct iovec iov = {(void *)p, n};

	tgt_conn_sendv(c, &iov, 1);
}

/* A request the parser or the limits reject: answer, count under
 * "invalid", and close, since the framing of what follows is unknown. */
static void reject(tgt_conn *c, int status, const char *msg)
{
	memset(&c->req, 0, sizeof(c->req));
	c->req.minor = 1;
	c->req.route = R_INVALID;
	c->req.close = 1;
	tgt_error(c, status, msg);
}

void tgt_stream(tgt_conn *c, int kind, uint64_t left, uint32_t chunk_size)
{
	c->state = CS_STREAM;
	c->stream = kind;
	c->stream_left = left;
	c->chunk_size = chunk_size;
}

void tgt_stream_end(tgt_conn *c)
{
	c->stream = ST_NONE;
	c->state = CS_HEAD;
}

/* Produces more of a streamed body. Returns 1 if it made progress, 0 if the
 * socket is full or the stream waits for a timer, -1 if the write failed. */
static int stream_more(tgt_conn *c)
{
	if (c->stream == ST_BYTES) {
		ssize_t n;

		if (!c->stream_left) {
			tgt_stream_end(c);
			return 1;
		}
		/* Straight from the shared filler: a large body never costs memory. */
		n = conn_send(c, tgt_filler, c->stream_left < TGT_FILLER ? c->stream_left : TGT_FILLER);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return errno == EINTR;
			c->broken = 1;
			return -1;
		}
		c->stream_left -= (uint64_t)n;
		return 1;
	}
	if (c->stream == ST_CHUNKED) {
		/* Queue chunks up to about one filler's worth, then let them drain. */
		while (c->stream_left && c->out.len < TGT_FILLER) {
			char line[24];
			int l = snprintf(line, sizeof(line), "%x\r\n", c->chunk_size);

			if (buf_append(&c->out, line, (size_t)l) < 0 ||
			    buf_append(&c->out, tgt_filler, c->chunk_size) < 0 ||
			    buf_append(&c->out, "\r\n", 2) < 0) {
				c->broken = 1;
				return -1;
			}
			c->stream_left--;
		}
		if (!c->stream_left) {
			buf_appends(&c->out, "0\r\n\r\n");
			tgt_stream_end(c);
		}
		return 1;
	}
	return 0; /* ST_SLOW: the timer feeds it */
}

/* Writes queued output, then more of a streamed body. Returns -1 if the
 * connection broke. */
static int conn_flush(tgt_conn *c)
{
	for (;;) {
		if (out_pending(c)) {
			ssize_t n = conn_send(c, c->out.data + c->out_off, c->out.len - c->out_off);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return 0;
				c->broken = 1;
				return -1;
			}
			c->out_off += (size_t)n;
			if (c->out_off == c->out.len)
				c->out.len = c->out_off = 0;
			continue;
		}
		if (c->state != CS_STREAM)
			return 0;
		{
			int r = stream_more(c);

			if (r <= 0)
				return r;
		}
	}
}

static int conn_read(tgt_conn *c)
{
	if (c->peer_eof)
		return 0;
	if (!c->in)
		c->in = block_get(c->w);
	if (c->in_off && c->state != CS_HANG) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	for (;;) {
		size_t room = TGT_INBUF - c->in_len;
		ssize_t n;

		if (!room)
			return 0;
		n = conn_recv(c, c->in + c->in_len, room);
		if (n > 0) {
			/* A hanging request never reads what follows; drop it. */
			if (c->state != CS_HANG)
				c->in_len += (uint32_t)n;
			if ((size_t)n < room)
				return 0;
			continue;
		}
		if (n == 0) {
			c->peer_eof = 1;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		tgt_conn_close(c, 0);
		return -1;
	}
}

static int method_of(const char *m, size_t n)
{
	static const struct {
		const char *name;
		int id;
	} tab[] = {{"GET", TM_GET}, {"HEAD", TM_HEAD}, {"POST", TM_POST},
		   {"PUT", TM_PUT}, {"DELETE", TM_DELETE}, {"PATCH", TM_PATCH}};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strlen(tab[i].name) == n && memcmp(tab[i].name, m, n) == 0)
			return tab[i].id;
	return TM_OTHER;
}

/* Rejects a bad request line as soon as it is complete, so garbage or an
 * HTTP/2 preface is answered at once rather than after 16 KiB. */
static int check_line(tgt_conn *c, const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);
	http_head h;
	int rc;

	if (!nl)
		return 0;
	c->line_checked = 1;
	/* Skip the empty lines a head may start with. */
	while (p < nl && (*p == '\r' || *p == '\n'))
		p++;
	if (p == nl) {
		c->line_checked = 0;
		return 0;
	}
	rc = http_head_parse_request(p, (size_t)(nl - p) + 1, &h);
	if (rc == HTTP_E_VERSION) {
		reject(c, 505, "HTTP version not supported");
		return -1;
	}
	if (rc) {
		reject(c, 400, "malformed request line");
		return -1;
	}
	return 0;
}

/* Parses a head if a complete one is buffered. Returns 1 if the request
 * moved on, 0 if more input is needed or the request was rejected. */
static int step_head(tgt_conn *c)
{
	http_head h;
	const char *p = c->in + c->in_off;
	size_t avail = c->in_len - c->in_off, end;
	int rc;

	if (!avail)
		return 0;
	if (!c->line_checked && check_line(c, p, avail) < 0)
		return 0;
	end = http_head_end(p, avail, &c->head_scan);
	if (!end) {
		if (avail >= TGT_MAX_HEAD)
			reject(c, 431, "request head too large");
		return 0;
	}
	if (end > TGT_MAX_HEAD) {
		reject(c, 431, "request head too large");
		return 0;
	}
	memset(&c->req, 0, sizeof(c->req));
	rc = http_head_parse_request(p, end, &h);
	if (rc == HTTP_E_VERSION) {
		reject(c, 505, "HTTP version not supported");
		return 0;
	}
	if (rc) {
		reject(c, 400, rc == HTTP_E_FRAMING ? "bad message framing" : "malformed request head");
		return 0;
	}
	if (h.total_headers > HTTP_MAX_HEADERS) {
		reject(c, 431, "too many header fields");
		return 0;
	}
	c->req.minor = h.minor_version;
	c->req.close = h.conn_close;
	c->req.method = method_of(h.method, h.method_len);
	if (h.other_te) {
		reject(c, 400, "unsupported transfer coding");
		return 0;
	}
	if (h.content_length > TGT_MAX_BODY) {
		reject(c, 413, "request body too large");
		return 0;
	}
	http_body_init_request(&c->body, &h);
	route_head(c, &h);
	if (h.expect_continue && !c->body.done) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		tgt_send(c, cont, sizeof(cont) - 1);
	}
	c->in_off += (uint32_t)end;
	c->head_scan = 0;
	c->state = CS_BODY;
	return 1;
}

static void body_sink(void *ctx, const char *data, size_t n)
{
	tgt_conn *c = ctx;

	/* Past the limit the append fails; step_body sees decoded > max. */
	if (c->want_body)
		buf_append(&c->bodybuf, data, n);
}

static int step_body(tgt_conn *c)
{
	ssize_t n = http_body_feed(&c->body, c->in + c->in_off, c->in_len - c->in_off, body_sink, c);

	if (n < 0) {
		if (n == HTTP_E_TOO_LARGE)
			reject(c, 413, "chunk too large");
		else
			reject(c, 400, "malformed chunked body");
		return 0;
	}
	c->in_off += (uint32_t)n;
	if (c->body.decoded > TGT_MAX_BODY) {
		reject(c, 413, "request body too large");
		return 0;
	}
	if (!c->body.done)
		return 0;
	c->state = CS_WAIT;
	route_dispatch(c);
	return 1;
}

static void update_interest(tgt_conn *c)
{
	unsigned want = 0;

	if (!c->peer_eof && c->in_len - c->in_off < TGT_INBUF)
		want |= EV_READ;
	if (out_pending(c) || (c->state == CS_STREAM && c->stream != ST_SLOW))
		want |= EV_WRITE;
	if (ev_io_set(c->w->loop, &c->io, want) < 0)
		tgt_conn_close(c, 0);
}

/* Moves a connection on after any event: parses and answers buffered
 * requests, then decides what to wait for. */
void tgt_conn_run(tgt_conn *c)
{
	for (;;) {
		if (c->state == CS_CLOSED)
			return;
		if (c->broken) {
			tgt_conn_close(c, 0);
			return;
		}
		if (out_pending(c) || c->close_after)
			break;
		if (c->state == CS_HEAD) {
			if (step_head(c) <= 0)
				break;
		} else if (c->state == CS_BODY) {
			if (step_body(c) <= 0)
				break;
		} else if (c->state == CS_STREAM) {
			if (conn_flush(c) < 0 || c->state == CS_STREAM)
				break;
		} else {
			break;
		}
	}
	if (c->broken) {
		tgt_conn_close(c, 0);
		return;
	}
	if (!out_pending(c) && c->state != CS_WAIT && c->state != CS_STREAM && c->state != CS_HANG &&
	    c->close_after) {
		tgt_conn_close(c, 0);
		return;
	}
	/* After the client's FIN, answers still go out (it may only have shut
	 * down its side, with pipelined requests buffered); once nothing
	 * complete is left to answer, the connection is over. */
	if (c->peer_eof && !out_pending(c) && c->state != CS_WAIT &&
	    !(c->state == CS_STREAM && c->stream != ST_SLOW)) {
		tgt_conn_close(c, 0);
		return;
	}
	if (c->in && c->in_off == c->in_len && c->state != CS_BODY) {
		block_put(c->w, c->in);
		c->in = NULL;
		c->in_off = c->in_len = 0;
	}
	update_interest(c);
}

void tgt_conn_on_io(ev_loop *loop, ev_io *io, unsigned events)
{
	tgt_conn *c = container_of(io, tgt_conn, io);

	if (c->state == CS_CLOSED)
		return; /* an event for a connection closed earlier in this pass */
	/* The only idle-timeout cost per request: the sweep does the rest.
	 * Handshake steps land here too, so a slow handshake is not idle. */
	c->last_active = ev_now(loop);
	if (events & EV_ERROR) {
		tgt_conn_close(c, 0);
		return;
	}
	if (c->handshaking) {
		int rc = SSL_do_handshake(c->ssl), e;

		if (rc != 1) {
			e = SSL_get_error(c->ssl, rc);
			ERR_clear_error();
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				c->broken = 1;
				tgt_conn_close(c, 0);
			} else if (ev_io_set(loop, &c->io, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE) < 0) {
				tgt_conn_close(c, 0);
			}
			return;
		}
		c->handshaking = 0;
		events = EV_READ; /* the request may be right behind the handshake */
	}
	if ((events & EV_WRITE) && conn_flush(c) < 0) {
		tgt_conn_close(c, 0);
		return;
	}
	if ((events & EV_READ) && conn_read(c) < 0)
		return;
	tgt_conn_run(c);
}

static void on_conn_timer(ev_loop *loop, ev_timer *t)
{
	tgt_conn *c = container_of(t, tgt_conn, timer);

	if (c->state == CS_CLOSED)
		return;
	/* A response that ends a long wait starts the idle period afresh. */
	c->last_active = ev_now(loop);
	fault_timer(c);
	tgt_conn_run(c);
}

/* Waiting for a request head with nothing owed to the client: between
 * requests, or stalled mid-head (what nginx's client_header_timeout ends).
 * Faults that park a connection (delay, hang, streams, database waits) are
 * not idle. */
int tgt_conn_idle(const tgt_conn *c)
{
	return c->state == CS_HEAD && !out_pending(c) && !c->query_pending && !c->close_after && !c->peer_eof &&
	       !ev_timer_armed(&c->timer);
}

/* Bytes the client sent that we have not read yet (in the kernel, or
 * decrypted inside OpenSSL). A request that arrived since this pass's
 * events were read must be answered, not closed under: closing with unread
 * input would also turn the FIN into an RST. */
int tgt_conn_has_input(const tgt_conn *c)
{
	int n = 0;

	if (c->ssl && !c->handshaking && SSL_has_pending(c->ssl))
		return 1;
	return ioctl(c->io.fd, FIONREAD, &n) == 0 && n > 0;
}
