/* The HTTP/1.1 client connection (http/conn) against a real peer: a small
 * server on 127.0.0.1 run by the same event loop. What is checked here is
 * what the integration tests cannot see: kept-alive connections are reused
 * and hold no read buffer while idle, the pool of read buffers grows only
 * with the responses being read at once (heads split over reads), and a
 * head past the 1 MiB limit is ERR_HEAD_TOO_LARGE. A guard timer fails a
 * test instead of letting it hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errcode.h"
#include "http/conn.h"
#include "io/ev.h"
#include "io/net.h"
#include "io/resolve.h"

#define NCONN 8
#define HEAD "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Pad: 0123456789\r\n\r\nhello"
#define SPLIT 20 /* bytes of HEAD sent first when the server splits heads */

typedef struct peer {
	ev_io io;
	int split;   /* sent the first SPLIT bytes only */
	size_t big_sent;
} peer;

typedef struct client {
	http_conn *c;
	http_exchange x;
	int done, err;
	size_t body;
} client;

static struct {
	ev_loop *loop;
	ev_io lis;
	net_addr addr;
	resolver *res;      /* the server's address, as the engine gives it */
	http_endpoint ep;
	peer peers[NCONN];
	uint32_t npeers;
	int mode;          /* 0 whole responses, 1 split heads, 2 a head over 1 MiB */
	uint32_t ndone, expect;
	uint32_t nsplit;   /* peers holding back the rest of a head */
	ev_timer rest, guard;
} S;

static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static void finish_split(ev_loop *loop, ev_timer *t)
{
	uint32_t i;

	S.nsplit = 0;
	for (i = 0; i < S.npeers; i++)
		if (S.peers[i].split) {
			S.peers[i].split = 0;
			assert_int_equal(write(S.peers[i].io.fd, HEAD + SPLIT, strlen(HEAD) - SPLIT),
					 (ssize_t)(strlen(HEAD) - SPLIT));
		}
}

/* Mode 2: a head that never ends, fed as fast as the client reads it. */
static void feed_big(ev_loop *loop, peer *p)
{
	static char big[64 * 1024];

	memset(big, 'a', sizeof(big));
	memcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ", 24);
	while (p->big_sent < 2 * 1024 * 1024) {
		ssize_t w = send(p->io.fd, big, sizeof(big), MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w <= 0) {
			ev_io_set(loop, &p->io, w < 0 ? EV_READ | EV_WRITE : EV_READ);
			return;
		}
		p->big_sent += (size_t)w;
	}
	ev_io_set(loop, &p->io, EV_READ);
}

static void on_peer(ev_loop *loop, ev_io *io, unsigned events)
{
	peer *p = container_of(io, peer, io);
	char b[4096];
	ssize_t n;

	if (S.mode == 2 && p->big_sent && (events & EV_WRITE)) {
		feed_big(loop, p);
		if (!(events & EV_READ))
			return;
	}
	n = read(io->fd, b, sizeof(b));
	if (n <= 0) {
		ev_io_set(loop, io, 0);
		close(io->fd);
		io->fd = -1;
		return;
	}
	/* Every test request fits one read. */
	if (S.mode == 0) {
		assert_int_equal(write(io->fd, HEAD, strlen(HEAD)), (ssize_t)strlen(HEAD));
	} else if (S.mode == 1) {
		assert_int_equal(write(io->fd, HEAD, SPLIT), SPLIT);
		p->split = 1;
		/* The rest goes out once every connection has half a head (and
		 * a moment to read it), so all of them hold one at once. */
		if (++S.nsplit == NCONN)
			ev_timer_start(loop, &S.rest, clock_mono_ns() + 20 * 1000 * 1000);
	} else {
		p->big_sent = 1;
		feed_big(loop, p);
	}
}

static void on_accept(ev_loop *loop, ev_io *io, unsigned events)
{
	int fd = accept(io->fd, NULL, NULL);
	peer *p;

	assert_true(fd >= 0);
	assert_true(S.npeers < NCONN);
	p = &S.peers[S.npeers++];
	ev_io_init(&p->io, fd, on_peer);
	ev_io_set(loop, &p->io, EV_READ);
}

static void cb_body(void *o, const char *p, size_t n)
{
	((client *)o)->body += n;
}

static void cb_attempt(void *o, int err)
{
	fail_msg("no resend expected (err %d)", err);
}

static void cb_done(void *o, int err)
{
	client *c = o;

	c->done = 1;
	c->err = err;
	if (++S.ndone == S.expect)
		ev_loop_stop(S.loop);
}

static void on_guard(ev_loop *loop, ev_timer *t)
{
	fail_msg("timed out: %u of %u exchanges done", S.ndone, S.expect);
}

static const http_conn_cbs cbs = {NULL, cb_body, cb_attempt, cb_done};

static int setup(void **state)
{
	memset(&S, 0, sizeof(S));
	S.loop = ev_loop_create(16);
	assert_non_null(S.loop);
	assert_int_equal(net_parse_listen("127.0.0.1:0", &S.addr, NULL, 0), 0);
	ev_io_init(&S.lis, net_listen(&S.addr, 64, 0), on_accept);
	assert_true(S.lis.fd >= 0);
	S.res = resolver_create(&(resolve_opts){RESOLVE_TTL_INF, RESOLVE_SELECT_FIRST, RESOLVE_PREFER_IPV4, NULL});
	S.ep.dest = resolver_add(S.res, "127.0.0.1", "0", &S.addr);
	assert_int_equal(resolver_start(S.res), 0);
	ev_io_set(S.loop, &S.lis, EV_READ);
	ev_timer_init(&S.rest, finish_split);
	ev_timer_init(&S.guard, on_guard);
	return 0;
}

static int teardown(void **state)
{
	uint32_t i;

	for (i = 0; i < S.npeers; i++)
		if (S.peers[i].io.fd >= 0)
			close(S.peers[i].io.fd);
	close(S.lis.fd);
	ev_loop_destroy(S.loop);
	resolver_destroy(S.res);
	return 0;
}

/* Sends one GET on each client and runs the loop until all are done. */
static void exchange_all(client *cl, uint32_t n)
{
	uint32_t i;

	S.ndone = 0;
	S.expect = n;
	for (i = 0; i < n; i++) {
		cl[i].done = cl[i].err = 0;
		cl[i].body = 0;
		http_exchange_begin(&cl[i].x);
		cl[i].x.wire = req;
		cl[i].x.wire_len = strlen(req);
		cl[i].x.host = "127.0.0.1";
		cl[i].x.timeout_ns = 10ull * 1000 * 1000 * 1000;
		cl[i].x.want_body = 1;
		assert_int_equal(http_conn_send(cl[i].c, &cl[i].x), 0);
	}
	ev_timer_start(S.loop, &S.guard, clock_mono_ns() + 10ull * 1000 * 1000 * 1000);
	assert_int_equal(ev_loop_run(S.loop), 0);
	ev_timer_stop(S.loop, &S.guard);
}

static http_client *client_new(void)
{
	http_client_opts o = {.loop = S.loop, .nendpoints = 1, .endpoints = &S.ep,
			      .connect_timeout_ns = 5ull * 1000 * 1000 * 1000};

	return http_client_create(&o);
}

static void test_idle_connections_hold_no_buffer(void **state)
{
	http_client *hc = client_new();
	client cl[NCONN];
	uint32_t i, round;

	memset(cl, 0, sizeof(cl));
	for (i = 0; i < NCONN; i++)
		cl[i].c = http_conn_create(hc, &cbs, &cl[i]);
	for (round = 0; round < 3; round++) {
		exchange_all(cl, NCONN);
		for (i = 0; i < NCONN; i++) {
			assert_int_equal(cl[i].err, 0);
			assert_int_equal(cl[i].x.status, 200);
			assert_int_equal(cl[i].body, 5);
			assert_int_equal(cl[i].x.reused, round > 0);
		}
		/* Each response came whole in one read: one buffer served all. */
		assert_int_equal(http_client_rbufs(hc), 1);
	}
	assert_int_equal(S.npeers, NCONN);
	for (i = 0; i < NCONN; i++)
		http_conn_destroy(cl[i].c);
	http_client_destroy(hc);
}

static void test_split_heads_borrow_one_each(void **state)
{
	http_client *hc = client_new();
	client cl[NCONN];
	uint32_t i;

	memset(cl, 0, sizeof(cl));
	S.mode = 1;
	for (i = 0; i < NCONN; i++)
		cl[i].c = http_conn_create(hc, &cbs, &cl[i]);
	exchange_all(cl, NCONN);
	for (i = 0; i < NCONN; i++) {
		assert_int_equal(cl[i].err, 0);
		assert_int_equal(cl[i].x.status, 200);
		assert_int_equal(cl[i].body, 5);
	}
	/* Every connection held half a head at once: one buffer each. */
	assert_int_equal(http_client_rbufs(hc), NCONN);
	/* Warm: the same again allocates no further buffer. */
	exchange_all(cl, NCONN);
	assert_int_equal(http_client_rbufs(hc), NCONN);
	for (i = 0; i < NCONN; i++)
		http_conn_destroy(cl[i].c);
	http_client_destroy(hc);
}

static void test_head_over_limit(void **state)
{
	http_client *hc = client_new();
	client cl[1];

	memset(cl, 0, sizeof(cl));
	S.mode = 2;
	cl[0].c = http_conn_create(hc, &cbs, &cl[0]);
	exchange_all(cl, 1);
	assert_int_equal(cl[0].err, ERR_HEAD_TOO_LARGE);
	assert_int_equal(cl[0].x.status, 0);
	assert_int_equal(http_client_rbufs(hc), 1);
	http_conn_destroy(cl[0].c);
	http_client_destroy(hc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_connections_hold_no_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_heads_borrow_one_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_over_limit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
