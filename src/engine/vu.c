#include "engine/vu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/net.h"
#include "engine/errcode.h"
#include "engine/worker.h"

#define RBUF_INITIAL 8192
/* Heads larger than this are classified ERR_HEAD_TOO_LARGE. */
#define RBUF_MAX (1024 * 1024)

static void on_io(ev_loop *loop, ev_io *io, unsigned events);
static void on_timer(ev_loop *loop, ev_timer *t);
static void request_start(vu *v);

void vu_init(vu *v, struct worker *w, uint32_t id)
{
	memset(v, 0, sizeof(*v));
	v->w = w;
	v->id = id;
	v->fd = -1;
	ev_io_init(&v->io, -1, on_io);
	ev_timer_init(&v->timer, on_timer);
	buf_init(&v->rbuf, RBUF_INITIAL, RBUF_MAX);
}

/* close() drops the fd from epoll too, which saves an epoll_ctl. */
static void conn_close(vu *v)
{
	if (v->fd < 0)
		return;
	close(v->fd);
	v->fd = -1;
	v->io.fd = -1;
	v->io.events = 0;
}

void vu_free(vu *v)
{
	conn_close(v);
	buf_free(&v->rbuf);
}

void vu_abort(vu *v)
{
	ev_timer_stop(v->w->loop, &v->timer);
	conn_close(v);
	if (v->in_iteration) {
		v->in_iteration = 0;
		worker_iteration_done(v->w, v, 0);
	}
	v->state = VU_IDLE;
}

static void iteration_end(vu *v)
{
	v->in_iteration = 0;
	v->state = VU_IDLE;
	worker_iteration_done(v->w, v, 1);
}

/* Continues the flow from a timer: a request that fails without touching
 * the network (unresolvable host, no free fd) must not recurse into the
 * next one, or a failing run would grow the stack without bound. */
static void defer_next(vu *v)
{
	v->state = VU_WAITING;
	ev_timer_start(v->w->loop, &v->timer, clock_mono_ns() + 1);
}

/* The current request ended (with a response or an error): record it, then
 * move on to the next request of the flow or end the iteration. */
static void request_done(vu *v, int err, int synchronous)
{
	worker *w = v->w;

	ev_timer_stop(w->loop, &v->timer);
	if (err || v->conn_close || w->ctx->cfg->no_reuse)
		conn_close(v);
	worker_record_http(w, v, err ? 0 : v->status, err);
	v->step++;
	if (synchronous) {
		defer_next(v);
		return;
	}
	if (v->step >= w->ctx->cfg->nreqs) {
		iteration_end(v);
		return;
	}
	request_start(v);
}

static void request_fail(vu *v, int err)
{
	v->status = 0;
	request_done(v, err, 0);
}

/* A kept-alive connection may have been closed by the server just as we
 * reused it. If nothing came back yet, resend once on a new connection, as
 * browsers and Go's client do, instead of reporting an error the server
 * never made. */
static int retry_stale(vu *v)
{
	if (!v->reused || v->retried || v->t_first)
		return 0;
	v->retried = 1;
	conn_close(v);
	request_start(v);
	return 1;
}

static void send_request(vu *v)
{
	const buf *wire = &v->req->wire;

	if (!v->t_send_start)
		v->t_send_start = clock_mono_ns();
	while (v->wr_off < wire->len) {
		ssize_t n = send(v->fd, wire->data + v->wr_off, wire->len - v->wr_off, MSG_NOSIGNAL);

		if (n > 0) {
			v->wr_off += (size_t)n;
			v->bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			v->state = VU_SENDING;
			ev_io_set(v->w->loop, &v->io, EV_READ | EV_WRITE);
			return;
		}
		if (!retry_stale(v))
			request_fail(v, err_from_io_errno(n < 0 ? errno : EPIPE));
		return;
	}
	v->t_sent = clock_mono_ns();
	v->state = VU_RECEIVING;
	if (ev_io_set(v->w->loop, &v->io, EV_READ) < 0)
		request_fail(v, ERR_TCP_ERRNO);
}

static void connected(vu *v)
{
	v->deadline = v->t_start + v->w->ctx->cfg->timeout_ns;
	ev_timer_start(v->w->loop, &v->timer, v->deadline);
	send_request(v);
}

static void request_start(vu *v)
{
	worker *w = v->w;
	const run_config *cfg = w->ctx->cfg;
	int rc;

	v->req = &cfg->reqs[v->step];
	v->t_start = clock_mono_ns();
	v->t_send_start = v->t_sent = v->t_first = 0;
	v->wr_off = 0;
	v->bytes_in = v->bytes_out = 0;
	v->status = 0;
	v->conn_close = 0;
	v->in_body = 0;
	v->head_scan = 0;
	buf_reset(&v->rbuf);
	if (v->req->resolve_error) {
		v->t_conn_start = v->t_connected = v->t_start;
		request_done(v, v->req->resolve_error, 1);
		return;
	}
	if (v->fd >= 0) {
		v->reused = 1;
		v->t_conn_start = v->t_connected = v->t_start;
		connected(v);
		return;
	}
	v->reused = 0;
	v->t_conn_start = v->t_start;
	v->fd = net_socket(&v->req->addr);
	if (v->fd < 0) {
		v->t_connected = clock_mono_ns();
		request_done(v, err_from_dial_errno(errno), 1);
		return;
	}
	v->io.fd = v->fd;
	v->io.events = 0;
	rc = net_connect(v->fd, &v->req->addr);
	if (rc == 0) {
		v->t_connected = clock_mono_ns();
		if (ev_io_set(w->loop, &v->io, EV_READ) < 0) {
			request_done(v, ERR_DIAL_ERRNO, 1);
			return;
		}
		connected(v);
		return;
	}
	if (rc < 0) {
		int e = errno;

		v->t_connected = clock_mono_ns();
		conn_close(v);
		request_done(v, err_from_dial_errno(e), 1);
		return;
	}
	v->state = VU_CONNECTING;
	ev_io_set(w->loop, &v->io, EV_WRITE);
	v->deadline = v->t_start + cfg->timeout_ns;
	v->conn_deadline = v->t_start + cfg->connect_timeout_ns;
	ev_timer_start(w->loop, &v->timer, v->conn_deadline < v->deadline ? v->conn_deadline : v->deadline);
}

void vu_iteration_start(vu *v)
{
	v->in_iteration = 1;
	v->iter++;
	v->iter_start = clock_mono_ns();
	v->step = 0;
	v->retried = 0;
	request_start(v);
}

/* Parses what is buffered. Returns 1 when the response is complete, 0 when
 * more bytes are needed, or a negative error code. */
static int parse_response(vu *v)
{
	worker *w = v->w;
	size_t off = 0;
	ssize_t used;

	while (!v->in_body) {
		size_t hl = http_head_end(v->rbuf.data, v->rbuf.len, &v->head_scan);

		if (!hl)
			return 0;
		if (http_head_parse_response(v->rbuf.data, hl, &w->head) != HTTP_OK)
			return -ERR_MALFORMED;
		if (w->head.status < 200 && w->head.status != 101) {
			/* Interim response (100 Continue, 103 Early Hints): skip it. */
			buf_consume(&v->rbuf, hl);
			v->head_scan = 0;
			continue;
		}
		v->status = w->head.status;
		v->conn_close = w->head.conn_close;
		http_body_init_response(&v->body, &w->head, v->req->head_method);
		if (v->body.mode == HTTP_BODY_EOF || w->head.status == 101)
			v->conn_close = 1;
		v->in_body = 1;
		off = hl;
	}
	used = http_body_feed(&v->body, v->rbuf.data + off, v->rbuf.len - off, NULL, NULL);
	if (used < 0)
		return -ERR_MALFORMED;
	if (v->body.done && off + (size_t)used < v->rbuf.len)
		v->conn_close = 1; /* bytes nobody asked for: the stream can't be trusted */
	/* Body bytes are counted and dropped; only an incomplete head is kept. */
	buf_reset(&v->rbuf);
	return v->body.done;
}

static void response_complete(vu *v)
{
	if (!v->t_first)
		v->t_first = clock_mono_ns();
	request_done(v, 0, 0);
}

static void on_readable(vu *v)
{
	for (;;) {
		ssize_t n;
		size_t room;
		int rc;

		if (buf_room(&v->rbuf) < 1024 && buf_reserve(&v->rbuf, v->rbuf.cap) < 0 &&
		    buf_room(&v->rbuf) == 0) {
			request_fail(v, ERR_HEAD_TOO_LARGE);
			return;
		}
		room = buf_room(&v->rbuf);
		n = read(v->fd, v->rbuf.data + v->rbuf.len, room);
		if (n > 0) {
			if (!v->t_first)
				v->t_first = clock_mono_ns();
			v->bytes_in += (uint64_t)n;
			v->rbuf.len += (size_t)n;
			rc = parse_response(v);
			if (rc > 0) {
				response_complete(v);
				return;
			}
			if (rc < 0) {
				request_fail(v, -rc);
				return;
			}
			if ((size_t)n < room)
				return; /* drained; level-triggered epoll calls again */
			continue;
		}
		if (n == 0) {
			if (v->in_body && v->body.mode == HTTP_BODY_EOF) {
				http_body_eof(&v->body);
				v->conn_close = 1;
				response_complete(v);
			} else if (!retry_stale(v)) {
				request_fail(v, ERR_CLOSED_EARLY);
			}
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return;
		if (!retry_stale(v))
			request_fail(v, err_from_io_errno(errno));
		return;
	}
}

static void on_io(ev_loop *loop, ev_io *io, unsigned events)
{
	vu *v = container_of(io, vu, io);

	switch (v->state) {
	case VU_CONNECTING: {
		int e = net_socket_error(v->fd);

		if (e) {
			v->t_connected = clock_mono_ns();
			request_fail(v, err_from_dial_errno(e));
			return;
		}
		v->t_connected = clock_mono_ns();
		ev_io_set(loop, &v->io, EV_READ);
		connected(v);
		return;
	}
	case VU_SENDING:
		if (events & EV_READ) {
			/* The server answered (or closed) before taking the whole request. */
			on_readable(v);
			return;
		}
		send_request(v);
		return;
	case VU_RECEIVING:
		on_readable(v);
		return;
	case VU_IDLE:
	case VU_WAITING:
		/* An idle kept-alive connection became readable: the server closed it
		 * (or sent something unsolicited). Either way it is no longer usable. */
		conn_close(v);
		return;
	}
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
	vu *v = container_of(t, vu, timer);
	uint64_t now = clock_mono_ns();

	switch (v->state) {
	case VU_WAITING:
		v->state = VU_IDLE;
		if (v->step >= v->w->ctx->cfg->nreqs)
			iteration_end(v);
		else
			request_start(v);
		return;
	case VU_CONNECTING:
		v->t_connected = now;
		request_fail(v, now >= v->conn_deadline && v->conn_deadline < v->deadline ? ERR_DIAL_TIMEOUT
											 : ERR_TIMEOUT);
		return;
	case VU_SENDING:
	case VU_RECEIVING:
		if (!v->t_sent)
			v->t_sent = now;
		request_fail(v, ERR_TIMEOUT);
		return;
	case VU_IDLE:
		return;
	}
}
