/* A target worker: its loop, accepting connections, database completions,
 * the idle sweep, and its life cycle. The connections themselves are server.c's. */
#include "target/tgt_worker.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/clock.h"
#include "target/dbsvc.h"
#include "target/faults.h"
#include "target/modules.h"
#include "target/server.h"

#define ACCEPT_BATCH 64
#define SWEEP_MAX NS_PER_SEC      /* longest pause between idle sweeps */
#define SWEEP_MIN (10 * NS_PER_MS) /* shortest, for tiny --idle-timeout values */

uint64_t tgt_rand(tgt_worker *w)
{
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Database completions for this worker. */
static void on_done(ev_loop *loop, ev_io *io, unsigned events)
{
	tgt_worker *w = container_of(io, tgt_worker, done_io);
	db_query *q = dbsvc_take(w->srv->db, w->idx);

	while (q) {
		db_query *next = q->next;
		tgt_conn *c = container_of(q, tgt_conn, q);

		c->query_pending = 0;
		if (c->state == CS_CLOSED) {
			tgt_conn_retire(c);
		} else {
			c->last_active = ev_now(loop);
			module_complete(c);
			tgt_conn_run(c);
		}
		q = next;
	}
}

static void on_accept_timer(ev_loop *loop, ev_timer *t)
{
	tgt_worker *w = container_of(t, tgt_worker, accept_timer);

	ev_io_set(loop, &w->lio, EV_READ);
}

static void on_accept(ev_loop *loop, ev_io *io, unsigned events)
{
	tgt_worker *w = container_of(io, tgt_worker, lio);
	int i, one = 1;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		tgt_conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors: stop accepting for a moment
				 * instead of spinning on a readable listener. */
				ev_io_set(loop, &w->lio, 0);
				ev_timer_start(loop, &w->accept_timer, ev_now(loop) + 100 * NS_PER_MS);
			}
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = tgt_conn_alloc(w);
		ev_io_init(&c->io, fd, tgt_conn_on_io);
		w->nconns++;
		if (w->srv->tls) {
			c->ssl = SSL_new(w->srv->tls);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
				ERR_clear_error();
				c->broken = 1;
				tgt_conn_close(c, 0);
				continue;
			}
			SSL_set_accept_state(c->ssl);
			c->handshaking = 1;
		}
		if (ev_io_set(loop, &c->io, EV_READ) < 0)
			tgt_conn_close(c, 0);
	}
}

/* A quarter of the timeout bounds how late a close comes (1.25 x). */
static uint64_t idle_period(uint64_t timeout)
{
	uint64_t p = timeout / 4;

	return p > SWEEP_MAX ? SWEEP_MAX : p < SWEEP_MIN ? SWEEP_MIN : p;
}

/* One timer per worker instead of one per connection: re-arming a heap
 * timer on every request would cost more than the request, so the hot path
 * only stores a timestamp and this sweep walks the slabs, at most once a
 * second (10,000 idle connections: under 10 ms of CPU in 10 s). Limbo and
 * free slots are CS_CLOSED and skipped. A connection is closed between the
 * timeout and the timeout plus one sweep period after its last event. */
static void on_idle_sweep(ev_loop *loop, ev_timer *t)
{
	tgt_worker *w = container_of(t, tgt_worker, idle_timer);
	uint64_t timeout = w->srv->cfg.idle_timeout_ns, now = ev_now(loop);
	size_t i, j;

	for (i = 0; i < w->nslabs && w->nconns; i++) {
		for (j = 0; j < TGT_SLAB; j++) {
			tgt_conn *c = &w->slabs[i][j];

			if (c->state == CS_CLOSED || now - c->last_active < timeout || !tgt_conn_idle(c))
				continue;
			if (tgt_conn_has_input(c)) {
				c->last_active = now;
				continue;
			}
			/* Counted first: a client that sees the FIN and asks /__stats
			 * at once must find this close there. */
			stats_count_idle_close(w->stats);
			tgt_conn_close(c, 0);
		}
	}
	ev_timer_start(loop, t, ev_now(loop) + idle_period(timeout));
}

static void on_ctl(ev_loop *loop, ev_io *io, unsigned events)
{
	ev_loop_stop(loop);
}

static void pass_hook(ev_loop *loop)
{
	tgt_worker *w = ev_loop_data(loop);

	fault_stall_hook(loop);
	/* Nothing from the previous batch can reach limbo any more. */
	while (w->limbo) {
		tgt_conn *c = w->limbo;

		w->limbo = c->next;
		c->next = w->free;
		w->free = c;
	}
}

int tgt_worker_init(tgt_worker *w, tgt_server *srv, int idx, int listen_fd, int ctl_fd)
{
	w->idx = idx;
	w->srv = srv;
	w->rng = 0x853c49e6748fea9bull ^ ((uint64_t)(idx + 1) * UINT64_C(0x9E3779B97F4A7C15));
	w->loop = ev_loop_create(1024);
	if (!w->loop)
		return -1;
	ev_loop_set_data(w->loop, w);
	ev_loop_set_pass_hook(w->loop, pass_hook);
	buf_init(&w->hbuf, 1024, 4u << 20);
	buf_init(&w->json, 8192, 4u << 20);
	w->stats = stats_hub_shard(srv->stats, idx);
	ev_timer_init(&w->accept_timer, on_accept_timer);
	ev_timer_init(&w->idle_timer, on_idle_sweep);
	if (srv->cfg.idle_timeout_ns)
		ev_timer_start(w->loop, &w->idle_timer,
			       ev_now(w->loop) + idle_period(srv->cfg.idle_timeout_ns));
	ev_io_init(&w->lio, listen_fd, on_accept);
	ev_io_init(&w->ctl_io, ctl_fd, on_ctl);
	ev_io_init(&w->done_io, dbsvc_done_fd(srv->db, idx), on_done);
	if (ev_io_set(w->loop, &w->lio, EV_READ) < 0 || ev_io_set(w->loop, &w->ctl_io, EV_READ) < 0 ||
	    ev_io_set(w->loop, &w->done_io, EV_READ) < 0)
		return -1;
	return 0;
}

int tgt_worker_run(tgt_worker *w)
{
	return ev_loop_run(w->loop);
}

void tgt_worker_fini(tgt_worker *w)
{
	size_t i, j;

	for (i = 0; i < w->nslabs; i++) {
		for (j = 0; j < TGT_SLAB; j++) {
			tgt_conn *c = &w->slabs[i][j];

			if (c->ssl)
				SSL_free(c->ssl);
			if (c->state != CS_CLOSED && c->io.fd >= 0)
				close(c->io.fd);
			if (c->in)
				free(c->in);
			buf_free(&c->bodybuf);
			buf_free(&c->out);
		}
		free(w->slabs[i]);
	}
	free(w->slabs);
	for (i = 0; i < w->nblocks; i++)
		free(w->blocks[i]);
	free(w->blocks);
	buf_free(&w->hbuf);
	buf_free(&w->json);
	if (w->lio.fd >= 0)
		close(w->lio.fd);
	ev_loop_destroy(w->loop);
}
