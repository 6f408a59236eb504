#include "engine/vu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/worker.h"
#include "io/net.h"
#include "io/tls.h"
#include "program/request.h"

#define RBUF_INITIAL 8192
/* Heads larger than this are classified ERR_HEAD_TOO_LARGE. */
#define RBUF_MAX (1024 * 1024)
/* Response bodies kept for extraction and checks are cut here. */
#define RESP_BODY_MAX (4 * 1024 * 1024)
#define VAR_MAX (1024 * 1024)

static void on_io(ev_loop *loop, ev_io *io, unsigned events);
static void on_timer(ev_loop *loop, ev_timer *t);
static void request_start(vu *v);
static void run_program(vu *v);

static ssize_t plain_read(vu *v, void *p, size_t n)
{
	for (;;) {
		ssize_t r = read(v->fd, p, n);

		if (r >= 0) {
			v->bytes_in += (uint64_t)r;
			return r;
		}
		if (errno != EINTR)
			return errno == EAGAIN ? TLS_WANT_READ : -err_from_io_errno(errno);
	}
}

static ssize_t plain_write(vu *v, const void *p, size_t n)
{
	for (;;) {
		ssize_t r = send(v->fd, p, n, MSG_NOSIGNAL);

		if (r > 0) {
			v->bytes_out += (uint64_t)r;
			return r;
		}
		if (r == 0)
			return -ERR_TCP_BROKEN_PIPE;
		if (errno != EINTR)
			return errno == EAGAIN ? TLS_WANT_WRITE : -err_from_io_errno(errno);
	}
}

static void plain_close(vu *v)
{
}

static int plain_pending(const vu *v)
{
	return 0;
}

/* data_received/data_sent count what crossed the socket, records and
 * handshakes included, as for plain connections. */
static void tls_account(vu *v)
{
	uint64_t in, out;

	tls_conn_wire(v->ssl, &in, &out);
	v->bytes_in += in - v->wire_in;
	v->bytes_out += out - v->wire_out;
	v->wire_in = in;
	v->wire_out = out;
}

static ssize_t tls_read(vu *v, void *p, size_t n)
{
	ssize_t r = tls_conn_read(v->ssl, p, n);

	tls_account(v);
	if (r < TLS_WANT_WRITE)
		v->tls_bad = 1;
	return r;
}

static ssize_t tls_write(vu *v, const void *p, size_t n)
{
	ssize_t r = tls_conn_write(v->ssl, p, n);

	tls_account(v);
	if (r < TLS_WANT_WRITE || r == 0)
		v->tls_bad = 1;
	return r == 0 ? -ERR_TCP_BROKEN_PIPE : r;
}

/* Keeps the session for the next connection unless resumption is off. */
static void tls_close(vu *v)
{
	tls_conn_free(v->ssl, !v->tls_bad, tls_client_resumes(v->w->ctx->tls) ? &v->sess[v->conn_ep] : NULL);
	v->ssl = NULL;
}

static int tls_pending(const vu *v)
{
	return tls_conn_pending(v->ssl);
}

static const vu_conn_ops plain_ops = {plain_read, plain_write, plain_close, plain_pending};
static const vu_conn_ops tls_ops = {tls_read, tls_write, tls_close, tls_pending};

static int would_block(ssize_t n)
{
	return n == TLS_WANT_READ || n == TLS_WANT_WRITE;
}

void vu_init(vu *v, struct worker *w, struct worker_scn *scn, uint32_t id)
{
	uint32_t i, nvars = scn->sc->nvars;

	memset(v, 0, sizeof(*v));
	v->w = w;
	v->scn = scn;
	v->id = id;
	v->fd = -1;
	v->ops = &plain_ops;
	v->rng = (UINT64_C(0x9E3779B97F4A7C15) * id) ^ w->rng;
	if (!v->rng)
		v->rng = 1;
	ev_io_init(&v->io, -1, on_io);
	ev_timer_init(&v->timer, on_timer);
	buf_init(&v->rbuf, RBUF_INITIAL, RBUF_MAX);
	buf_init(&v->wbuf, 0, 64 * 1024 * 1024);
	buf_init(&v->bbuf, 0, 64 * 1024 * 1024);
	buf_init(&v->xbuf, 0, 1024 * 1024);
	v->fields = xcalloc(run_request_max_headers(w->ctx->cfg) + 1, sizeof(*v->fields));
	buf_init(&v->resp_body, 0, RESP_BODY_MAX);
	v->vars = xcalloc(nvars ? nvars : 1, sizeof(buf));
	v->sess = xcalloc(w->ctx->nendpoints ? w->ctx->nendpoints : 1, sizeof(*v->sess));
	for (i = 0; i < nvars; i++)
		buf_init(&v->vars[i], 0, VAR_MAX);
}

/* close() drops the fd from epoll too, which saves an epoll_ctl. */
static void conn_close(vu *v)
{
	if (v->fd < 0)
		return;
	v->ops->close(v);
	v->ops = &plain_ops;
	close(v->fd);
	v->fd = -1;
	v->io.fd = -1;
	v->io.events = 0;
}

void vu_free(vu *v)
{
	uint32_t i;

	conn_close(v);
	for (i = 0; v->sess && i < v->w->ctx->nendpoints; i++)
		tls_session_free(v->sess[i]);
	free(v->sess);
	v->sess = NULL;
	buf_free(&v->rbuf);
	buf_free(&v->wbuf);
	buf_free(&v->bbuf);
	buf_free(&v->xbuf);
	free(v->fields);
	v->fields = NULL;
	buf_free(&v->resp_body);
	for (i = 0; v->vars && i < v->scn->sc->nvars; i++)
		buf_free(&v->vars[i]);
	free(v->vars);
}

void vu_abort(vu *v)
{
	ev_timer_stop(v->w->loop, &v->timer);
	v->pending_start = 0;
	conn_close(v);
	v->state = VU_IDLE;
	if (v->in_iteration) {
		v->in_iteration = 0;
		worker_iteration_done(v->w, v, 0);
	}
}

static void iteration_end(vu *v)
{
	v->in_iteration = 0;
	v->state = VU_IDLE;
	worker_iteration_done(v->w, v, 1);
}

/* Continues the program from a timer. A request that fails without touching
 * the network (unresolvable host, no free fd) must not recurse into the next
 * one, or a failing run would grow the stack without bound. */
static void defer_continue(vu *v, uint64_t delay_ns)
{
	v->state = VU_WAITING;
	ev_timer_start(v->w->loop, &v->timer, clock_mono_ns() + (delay_ns ? delay_ns : 1));
}

int vu_iteration_start(vu *v)
{
	const run_scenario *sc = v->scn->sc;
	uint32_t a;

	for (a = 0; a < v->w->ctx->cfg->ndata && a < VU_MAX_DATA; a++)
		if ((v->scn->data_mask >> a) & 1 && worker_data_row(v->w, v, a) < 0)
			return -1;
	v->in_iteration = 1;
	v->iter++;
	v->iter_start = clock_mono_ns();
	v->retried = 0;
	v->async = 0;
	v->ngroups = 0;
	v->in_setup = !v->setup_done && sc->setup.nops > 1;
	v->prog = v->in_setup ? &sc->setup : &sc->flow;
	v->pc = 0;
	run_program(v);
	return 0;
}

/* Runs steps until one has to wait (a request in flight, a think time) or
 * the iteration ends. */
static void run_program(vu *v)
{
	const run_config *cfg = v->w->ctx->cfg;

	for (;;) {
		const flow_op *op = &v->prog->ops[v->pc];

		switch (op->kind) {
		case OP_REQUEST:
			v->pc++;
			v->req = &cfg->reqs[op->arg];
			v->retried = 0;
			request_start(v);
			return;
		case OP_THINK:
			v->pc++;
			v->async = 1;
			defer_continue(v, op->a + (op->b > op->a ? tmpl_rand(&v->rng) % (op->b - op->a + 1) : 0));
			return;
		case OP_GROUP_BEGIN:
			if (v->ngroups < VU_MAX_GROUP_DEPTH) {
				v->group_idx[v->ngroups] = op->arg;
				v->group_start[v->ngroups] = clock_mono_ns();
			}
			v->ngroups++;
			v->pc++;
			break;
		case OP_GROUP_END:
			if (v->ngroups && --v->ngroups < VU_MAX_GROUP_DEPTH)
				worker_record_group(v->w, v, v->group_idx[v->ngroups],
						    clock_mono_ns() - v->group_start[v->ngroups]);
			v->pc++;
			break;
		case OP_CHOOSE: {
			const flow_choice *c = &cfg->choices[op->arg];
			uint32_t r = (uint32_t)(tmpl_rand(&v->rng) % c->total), k = 0;

			while (k + 1 < c->n && r >= c->cum[k])
				k++;
			v->pc = c->target[k];
			break;
		}
		case OP_JUMP:
			v->pc = op->arg;
			break;
		case OP_END:
			if (v->in_setup) {
				/* Setup is not an iteration; the flow's first one starts now. */
				v->in_setup = 0;
				v->setup_done = 1;
				v->prog = &v->scn->sc->flow;
				v->pc = 0;
				v->iter_start = clock_mono_ns();
				break;
			}
			if (!v->async) {
				/* Nothing waited this iteration: go through the timer so a
				 * flow of instant failures cannot spin inside one callback. */
				v->async = 1;
				v->pc = v->prog->nops - 1;
				defer_continue(v, 0);
				return;
			}
			iteration_end(v);
			return;
		}
	}
}

/* The current request ended (with a response or an error): record it, then
 * move on. v->status is 0 unless a response came: with err, that is an
 * answer strain could not judge (a regex limit), on a sound connection. */
static void request_done(vu *v, int err, int synchronous)
{
	worker *w = v->w;

	ev_timer_stop(w->loop, &v->timer);
	if ((err && !v->status) || v->conn_close || v->req->close_after)
		conn_close(v);
	v->state = VU_IDLE;
	worker_record_http(w, v, v->status, err);
	if (synchronous) {
		defer_continue(v, 0);
		return;
	}
	run_program(v);
}

static void request_fail(vu *v, int err)
{
	v->status = 0;
	request_done(v, err, 0);
}

/* RFC 9110's idempotent methods (9.2.2), or a request that says it may be
 * repeated with an Idempotency-Key / X-Idempotency-Key header (Go's
 * net/http honours both names). Asked only when a connection failed under
 * the request, so it reads the head actually sent. */
static int replayable(const vu *v)
{
	static const char *const methods[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
	static const char *const keys[] = {"idempotency-key:", "x-idempotency-key:"};
	const char *p = v->wire->data, *end = p + v->wire->len, *nl;
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(v->req->method, methods[i]) == 0)
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
 * is never sent twice. An attempt that reached the wire is recorded first as
 * its own failed request (without checks: those judge the final answer),
 * so http_reqs counts every request the server may have seen. Returns 1 if
 * the request was resent, 0 if the caller fails it with err. */
static int retry_stale(vu *v, int err)
{
	if (!v->reused || v->retried || v->t_first)
		return 0;
	if (v->bytes_out && !replayable(v))
		return 0;
	v->retried = 1;
	conn_close(v);
	if (v->bytes_out) {
		v->status = 0;
		v->attempt = 1;
		worker_record_http(v->w, v, 0, err);
		v->attempt = 0;
	}
	ev_timer_stop(v->w->loop, &v->timer);
	request_start(v);
	return 1;
}

/* A kept-alive connection is about to carry a request that could not be
 * sent again (replayable() says no) if the connection turned out dead. One
 * look first: if the server's FIN, a reset or unsolicited bytes arrived
 * since the last answer, nothing has been written yet, so a new connection
 * costs nothing and the request provably reached no one twice. Idempotent
 * requests skip the system call: a retry covers them. */
static int conn_stale(vu *v)
{
	char c;
	ssize_t r;

	if (replayable(v))
		return 0;
	r = recv(v->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

/* A TLS server that refuses us sends an alert and hangs up; our write or
 * read may meet the reset first. If the alert is still readable, it is
 * the better reason. */
static int tls_reason(vu *v, int err)
{
	char scratch[512];
	ssize_t r;

	if (!v->ssl || err < ERR_TCP || err >= ERR_TLS)
		return err;
	r = tls_conn_read(v->ssl, scratch, sizeof(scratch));
	return r <= -ERR_TLS && r > -(ERR_TLS + 100) ? (int)-r : err;
}

static void send_request(vu *v)
{
	const buf *wire = v->wire;
	int err;

	if (!v->t_send_start)
		v->t_send_start = clock_mono_ns();
	while (v->wr_off < wire->len) {
		ssize_t n = v->ops->write(v, wire->data + v->wr_off, wire->len - v->wr_off);

		if (n > 0) {
			v->wr_off += (size_t)n;
			continue;
		}
		if (would_block(n)) {
			v->state = VU_SENDING;
			ev_io_set(v->w->loop, &v->io, EV_READ | EV_WRITE);
			return;
		}
		err = tls_reason(v, (int)-n);
		if (!retry_stale(v, err))
			request_fail(v, err);
		return;
	}
	v->t_sent = clock_mono_ns();
	v->state = VU_RECEIVING;
	if (ev_io_set(v->w->loop, &v->io, EV_READ) < 0)
		request_fail(v, ERR_TCP_ERRNO);
}

static void connected(vu *v)
{
	v->deadline = v->t_start + (v->req->timeout_ns ? v->req->timeout_ns : v->w->ctx->cfg->timeout_ns);
	ev_timer_start(v->w->loop, &v->timer, v->deadline);
	send_request(v);
}

static void conn_fail(vu *v, int err, int synchronous)
{
	v->status = 0;
	request_done(v, err, synchronous);
}

/* Advances the TLS handshake; once done, the request goes out. */
static void handshake(vu *v, int synchronous)
{
	int rc = tls_conn_handshake(v->ssl);

	tls_account(v);
	if (would_block(rc)) {
		if (ev_io_set(v->w->loop, &v->io, rc == TLS_WANT_READ ? EV_READ : EV_WRITE) < 0)
			conn_fail(v, ERR_TCP_ERRNO, synchronous);
		return;
	}
	v->t_tls_done = clock_mono_ns();
	if (rc < 0) {
		v->tls_bad = 1;
		conn_fail(v, -rc, synchronous);
		return;
	}
	v->tls_version = tls_conn_version(v->ssl, &v->tls_ver);
	v->tls_cipher = tls_conn_cipher(v->ssl, &v->tls_cipher_id);
	if (ev_io_set(v->w->loop, &v->io, EV_READ) < 0) {
		conn_fail(v, ERR_TCP_ERRNO, synchronous);
		return;
	}
	connected(v);
}

/* TCP is up (t_connected is set): plain connections send at once, TLS ones
 * shake hands first, within the request's deadline. synchronous: called
 * from request_start, so a failure must not recurse into the next request. */
static void tcp_connected(vu *v, int synchronous)
{
	const run_request *rq = v->req;
	worker *w = v->w;

	if (!rq->tls) {
		v->t_tls_done = v->t_connected;
		if (ev_io_set(w->loop, &v->io, EV_READ) < 0) {
			conn_fail(v, ERR_DIAL_ERRNO, synchronous);
			return;
		}
		connected(v);
		return;
	}
	v->ssl = tls_conn_new(w->ctx->tls, v->fd, rq->url.host, v->sess[run_ctx_target(w->ctx, rq)->endpoint]);
	v->wire_in = v->wire_out = 0;
	if (!v->ssl) {
		v->t_tls_done = clock_mono_ns();
		conn_fail(v, ERR_TLS, synchronous);
		return;
	}
	v->ops = &tls_ops;
	v->tls_bad = 0;
	v->state = VU_HANDSHAKING;
	v->deadline = v->t_start + (rq->timeout_ns ? rq->timeout_ns : w->ctx->cfg->timeout_ns);
	ev_timer_start(w->loop, &v->timer, v->deadline);
	handshake(v, synchronous);
}

static const char *scenario_name(const vu *v)
{
	return v->scn->sc->name;
}

/* Expands a templated request into wbuf. Returns 0, TMPL_ETOOBIG or
 * TMPL_EVALUE. */
static int build_request(vu *v)
{
	tmpl_ctx c;

	c.vu = v->id;
	c.iter = v->iter ? v->iter - 1 : 0;
	c.module = scenario_name(v);
	c.rng = &v->rng;
	c.vars = v->vars;
	c.data_rows = v->rows;
	return run_request_expand(v->req, &c, &v->xbuf, v->fields, &v->bbuf, &v->wbuf);
}

static void request_start(vu *v)
{
	worker *w = v->w;
	const run_config *cfg = w->ctx->cfg;
	const run_request *rq = v->req;
	const run_target *tg = run_ctx_target(w->ctx, rq);
	int rc;

	v->t_start = clock_mono_ns();
	v->t_tls_done = v->t_send_start = v->t_sent = v->t_first = 0;
	v->wr_off = 0;
	v->bytes_in = v->bytes_out = 0;
	v->status = 0;
	v->conn_close = 0;
	v->in_body = 0;
	v->head_scan = 0;
	v->check_fail = 0;
	v->resp_truncated = 0;
	buf_reset(&v->rbuf);
	buf_reset(&v->resp_body);
	if (tg->resolve_error) {
		v->t_conn_start = v->t_connected = v->t_start;
		request_done(v, tg->resolve_error, 1);
		return;
	}
	if (rq->dynamic) {
		rc = build_request(v);
		if (rc < 0) {
			/* Nothing was sent: a value that would have been framing (a
			 * line break from a CSV field or an extracted value in a
			 * header) fails this request, counted, as does a request past
			 * the size limit. */
			v->t_conn_start = v->t_connected = v->t_start;
			request_done(v, rc == TMPL_EVALUE ? ERR_REQUEST_VALUE : ERR_REQUEST_TOO_LARGE, 1);
			return;
		}
		v->wire = &v->wbuf;
	} else {
		v->wire = &rq->wire;
	}
	v->async = 1;
	if (v->fd >= 0 && (v->conn_ep != tg->endpoint || conn_stale(v)))
		conn_close(v);
	if (v->fd >= 0) {
		v->reused = 1;
		v->t_conn_start = v->t_connected = v->t_tls_done = v->t_start;
		connected(v);
		return;
	}
	v->reused = 0;
	v->tls_ver = 0;
	v->tls_version = NULL;
	v->tls_cipher_id = 0;
	v->tls_cipher = NULL;
	v->t_conn_start = v->t_start;
	v->conn_ep = tg->endpoint;
	v->fd = net_socket(&tg->addr);
	if (v->fd < 0) {
		v->t_connected = clock_mono_ns();
		request_done(v, err_from_dial_errno(errno), 1);
		return;
	}
	v->io.fd = v->fd;
	v->io.events = 0;
	rc = net_connect(v->fd, &tg->addr);
	if (rc == 0) {
		v->t_connected = clock_mono_ns();
		tcp_connected(v, 1);
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
	v->deadline = v->t_start + (rq->timeout_ns ? rq->timeout_ns : cfg->timeout_ns);
	v->conn_deadline = v->t_start + cfg->connect_timeout_ns;
	ev_timer_start(w->loop, &v->timer, v->conn_deadline < v->deadline ? v->conn_deadline : v->deadline);
}

/* Stores text into a VU variable, cut at the variable's limit. */
static void var_set(vu *v, uint32_t slot, const char *s, size_t n)
{
	buf *b = &v->vars[slot];

	buf_reset(b);
	if (n > b->max)
		n = b->max;
	buf_append(b, s, n);
}

static const http_header *find_header(const http_head *h, const char *name)
{
	return http_head_find(h, name);
}

/* Extraction and checks that need only the head: status and headers. */
static void on_head(vu *v, const http_head *h)
{
	const run_request *rq = v->req;
	uint32_t i;

	for (i = 0; i < rq->nextracts; i++) {
		const flow_extract *e = &rq->extracts[i];
		char num[8];

		if (e->kind == EXT_STATUS) {
			int n = snprintf(num, sizeof(num), "%d", h->status);

			var_set(v, e->slot, num, (size_t)n);
		} else if (e->kind == EXT_HEADER) {
			const http_header *f = find_header(h, e->header);

			if (f)
				var_set(v, e->slot, f->value, f->value_len);
		}
	}
	for (i = 0; i < rq->nchecks; i++) {
		const flow_check *c = &rq->checks[i];
		int ok = 1;

		if (c->kind == CHK_STATUS) {
			ok = status_set_has(&c->status, h->status);
		} else if (c->kind == CHK_HEADER_EQUALS) {
			const http_header *f = find_header(h, c->header);

			ok = f && f->value_len == strlen(c->text) && memcmp(f->value, c->text, f->value_len) == 0;
		} else {
			continue;
		}
		if (!ok)
			v->check_fail |= UINT64_C(1) << i;
	}
}

/* One pcre2_match on s[0..n). Returns 1 for a match, 0 for none, or
 * -ERR_REGEX_LIMIT when PCRE2 gave up — a match, depth, heap or JIT stack
 * limit, or any other negative return but NOMATCH and PARTIAL: no answer is
 * not "no match". (A return of 0 is a match whose groups did not all fit
 * the match data.) */
static int regex_run(vu *v, const pcre2_code *re, const char *s, size_t n)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, v->w->md, NULL);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH || rc == PCRE2_ERROR_PARTIAL)
		return 0;
	return -ERR_REGEX_LIMIT;
}

/* Finds capture `group` of re in s. Returns 1 with the match in *m and *mlen, 0 if there
 * is no match or the group took no part, or -ERR_REGEX_LIMIT. */
static int regex_find(vu *v, const pcre2_code *re, uint32_t group, const char *s, size_t n, const char **m,
		      size_t *mlen)
{
	pcre2_match_data *md = v->w->md;
	PCRE2_SIZE *ov;
	int rc = regex_run(v, re, s, n);

	if (rc <= 0)
		return rc;
	if (group >= pcre2_get_ovector_count(md))
		return 0;
	ov = pcre2_get_ovector_pointer(md);
	if (ov[2 * group] == PCRE2_UNSET)
		return 0;
	*m = s + ov[2 * group];
	*mlen = ov[2 * group + 1] - ov[2 * group];
	return 1;
}

/* Extraction and checks that read the body, once it is complete. Returns 0,
 * or the engine limit that kept one from an answer — ERR_REGEX_LIMIT (PCRE2
 * gave up), ERR_JSON_LIMIT (nesting past the walker), ERR_BODY_TRUNCATED
 * (it failed on the first 4 MiB of a longer body) — so a limit of ours is
 * never reported as the server's "no match": its check is marked failed,
 * its variable left as it was, and the request carries that error. */
static int on_body(vu *v)
{
	const run_request *rq = v->req;
	const char *body = v->resp_body.data ? v->resp_body.data : "";
	size_t blen = v->resp_body.len;
	uint32_t i;
	int err = 0, rc;

	for (i = 0; i < rq->nextracts; i++) {
		const flow_extract *e = &rq->extracts[i];
		const char *raw;
		size_t rlen;
		json_kind kind;

		if (e->kind == EXT_JSON) {
			rc = jsonpath_eval(&e->path, body, blen, &kind, &raw, &rlen);
			if (rc == JSONPATH_ELIMIT)
				err = ERR_JSON_LIMIT;
			else if (rc != 1 && v->resp_truncated)
				err = ERR_BODY_TRUNCATED;
			if (rc == 1) {
				buf *b = &v->vars[e->slot];
				ssize_t need;

				buf_reset(b);
				need = jsonpath_text(kind, raw, rlen, b->data, b->cap);
				if (need >= 0 && (size_t)need >= b->cap && buf_reserve(b, (size_t)need + 1) == 0)
					need = jsonpath_text(kind, raw, rlen, b->data, b->cap);
				if (need >= 0 && (size_t)need < b->cap)
					b->len = (size_t)need;
			}
		} else if (e->kind == EXT_REGEX) {
			rc = regex_find(v, e->re, e->group, body, blen, &raw, &rlen);
			if (rc > 0)
				var_set(v, e->slot, raw, rlen);
			else if (rc < 0)
				err = -rc;
			else if (v->resp_truncated)
				err = ERR_BODY_TRUNCATED;
		}
	}
	for (i = 0; i < rq->nchecks; i++) {
		const flow_check *c = &rq->checks[i];
		const char *raw;
		size_t rlen;
		json_kind kind;
		int ok;

		switch (c->kind) {
		case CHK_BODY_CONTAINS:
			ok = memmem(body, blen, c->text, strlen(c->text)) != NULL;
			break;
		case CHK_BODY_MATCHES:
			rc = regex_run(v, c->re, body, blen);
			if (rc < 0)
				err = -rc;
			ok = rc > 0;
			break;
		case CHK_JSON_EXISTS:
		case CHK_JSON_EQUALS:
			rc = jsonpath_eval(&c->path, body, blen, &kind, &raw, &rlen);
			if (rc == JSONPATH_ELIMIT)
				err = ERR_JSON_LIMIT;
			ok = rc == 1 && (c->kind == CHK_JSON_EXISTS || jsonpath_equals(kind, raw, rlen, c->text, strlen(c->text)));
			break;
		default:
			continue;
		}
		if (!ok) {
			v->check_fail |= UINT64_C(1) << i;
			/* Judged on the first 4 MiB only: no verdict on the rest. */
			if (v->resp_truncated && !err)
				err = ERR_BODY_TRUNCATED;
		}
	}
	return err;
}

static void keep_body(void *ctx, const char *d, size_t n)
{
	vu *v = ctx;
	size_t room = v->resp_body.max - v->resp_body.len;

	if (n > room) {
		n = room;
		v->resp_truncated = 1;
	}
	buf_append(&v->resp_body, d, n);
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
		if (v->req->nextracts || v->req->nchecks)
			on_head(v, &w->head);
		v->in_body = 1;
		off = hl;
	}
	used = http_body_feed(&v->body, v->rbuf.data + off, v->rbuf.len - off, v->req->needs_body ? keep_body : NULL,
			      v);
	if (used < 0)
		return -ERR_MALFORMED;
	if (v->body.done && off + (size_t)used < v->rbuf.len)
		v->conn_close = 1; /* bytes nobody asked for: the stream can't be trusted */
	/* Body bytes are counted and dropped (or kept above); only an
	 * incomplete head stays in the buffer. */
	buf_reset(&v->rbuf);
	return v->body.done;
}

static void response_complete(vu *v)
{
	int err = 0;

	if (!v->t_first)
		v->t_first = clock_mono_ns();
	if (v->req->needs_body)
		err = on_body(v);
	request_done(v, err, 0);
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
		n = v->ops->read(v, v->rbuf.data + v->rbuf.len, room);
		if (n > 0) {
			if (!v->t_first)
				v->t_first = clock_mono_ns();
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
			/* Drained; level-triggered epoll calls again. TLS reads ahead,
			 * so bytes it already holds are read now: epoll won't tell. */
			if ((size_t)n < room && !v->ops->pending(v))
				return;
			continue;
		}
		if (n == 0) {
			if (v->in_body && v->body.mode == HTTP_BODY_EOF) {
				http_body_eof(&v->body);
				v->conn_close = 1;
				response_complete(v);
			} else if (!retry_stale(v, ERR_CLOSED_EARLY)) {
				request_fail(v, ERR_CLOSED_EARLY);
			}
			return;
		}
		if (would_block(n)) {
			/* TLS may need to write while reading (a TLS 1.3 KeyUpdate
			 * answered, say): wait for writability too, until it's done. */
			if (v->state == VU_RECEIVING &&
			    ev_io_set(v->w->loop, &v->io, n == TLS_WANT_WRITE ? EV_READ | EV_WRITE : EV_READ) < 0)
				request_fail(v, ERR_TCP_ERRNO);
			return;
		}
		rc = tls_reason(v, (int)-n);
		if (!retry_stale(v, rc))
			request_fail(v, rc);
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
		tcp_connected(v, 0);
		return;
	}
	case VU_HANDSHAKING:
		handshake(v, 0);
		return;
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
		if (v->pending_start) {
			v->pending_start = 0;
			worker_vu_begin(v->w, v);
			return;
		}
		if (v->pc + 1 == v->prog->nops && v->prog->ops[v->pc].kind == OP_END && !v->in_setup)
			iteration_end(v);
		else
			run_program(v);
		return;
	case VU_CONNECTING:
		v->t_connected = now;
		request_fail(v, now >= v->conn_deadline && v->conn_deadline < v->deadline ? ERR_DIAL_TIMEOUT
											 : ERR_TIMEOUT);
		return;
	case VU_HANDSHAKING:
		v->t_tls_done = now;
		request_fail(v, ERR_TIMEOUT);
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
