#include "target/faults.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "target/respond.h"
#include "target/routes.h"
#include "target/server.h"
#include "target/tgt_worker.h"

/* Bounds: generous enough for any test, small enough that one request
 * cannot take the target down. */
#define MAX_DELAY_MS 600000ull         /* 10 min */
#define MAX_STALL_MS 60000ull
#define MAX_BYTES (64ull << 30)         /* 64 GiB, streamed */
#define MAX_CHUNKS 100000ull
#define MAX_CHUNK_SIZE 65536ull
#define MAX_CHUNKED_TOTAL (1ull << 30)
#define MAX_SLOW_BYTES (16ull << 20)
#define MAX_SLOW_SECONDS 600ull
#define MAX_HEADERS_N 10000ull
#define MAX_HEADER_SIZE 65536ull
#define MAX_HEADERS_TOTAL (2ull << 20)
#define CLOSE_BODY 1024

enum { RND_OK, RND_STATUS, RND_RESET, RND_DELAY, RND_HANG, RND_CLOSE, RND_MALFORMED };

/* The end of the current whole-server stall (monotonic ns), 0 if none. */
static _Atomic uint64_t stall_until;

void fault_stall_hook(ev_loop *loop)
{
	uint64_t until = stall_until, now;

	if (!until)
		return;
	now = clock_mono_ns();
	if (now >= until)
		return;
	/* The point is to do nothing at all, as a stop-the-world pause would:
	 * no accepts, no reads, no timers, on every thread. */
	while (now < until) {
		struct timespec ts = {(time_t)(until / NS_PER_SEC), (long)(until % NS_PER_SEC)};

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		now = clock_mono_ns();
	}
	ev_now_update(loop);
}

static void bad(tgt_req *r, const char *msg)
{
	if (!r->err_status) {
		r->err_status = 400;
		r->err_msg = msg;
	}
}

static int name_is(const char *name, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(name, lit, n) == 0;
}

void fault_parse(tgt_req *r, const char *name, size_t nlen, const char *q, size_t qn)
{
	uint64_t *n = r->n;

	if (name_is(name, nlen, "delay")) {
		r->route = R_F_DELAY;
		if (route_query_u64(q, qn, "ms", 0, MAX_DELAY_MS, 1000, &n[0]) < 0)
			bad(r, "ms must be an integer from 0 to 600000");
	} else if (name_is(name, nlen, "status")) {
		r->route = R_F_STATUS;
		if (route_query_u64(q, qn, "code", 100, 599, 500, &n[0]) < 0)
			bad(r, "code must be an integer from 100 to 599");
	} else if (name_is(name, nlen, "reset")) {
		r->route = R_F_RESET;
	} else if (name_is(name, nlen, "close")) {
		const char *v;
		size_t vn;

		r->route = R_F_CLOSE;
		n[0] = 0;
		if (route_query_get(q, qn, "after", &v, &vn)) {
			if (vn == 12 && memcmp(v, "partial-body", 12) == 0)
				n[0] = 1;
			else if (vn == 7 && memcmp(v, "request", 7) == 0)
				n[0] = 2;
			else if (!(vn == 7 && memcmp(v, "headers", 7) == 0))
				bad(r, "after must be request, headers or partial-body");
		}
	} else if (name_is(name, nlen, "malformed")) {
		r->route = R_F_MALFORMED;
	} else if (name_is(name, nlen, "chunked")) {
		r->route = R_F_CHUNKED;
		if (route_query_u64(q, qn, "chunks", 0, MAX_CHUNKS, 4, &n[0]) < 0)
			bad(r, "chunks must be an integer from 0 to 100000");
		else if (route_query_u64(q, qn, "size", 1, MAX_CHUNK_SIZE, 64, &n[1]) < 0)
			bad(r, "size must be an integer from 1 to 65536");
		else if (n[0] * n[1] > MAX_CHUNKED_TOTAL)
			bad(r, "chunks * size must be at most 1 GiB");
	} else if (name_is(name, nlen, "bytes")) {
		r->route = R_F_BYTES;
		if (route_query_u64(q, qn, "n", 0, MAX_BYTES, 1u << 20, &n[0]) < 0)
			bad(r, "n must be an integer from 0 to 68719476736");
	} else if (name_is(name, nlen, "slow-body")) {
		r->route = R_F_SLOW_BODY;
		if (route_query_u64(q, qn, "bytes_per_s", 1, 10u << 20, 128, &n[0]) < 0)
			bad(r, "bytes_per_s must be an integer from 1 to 10485760");
		else if (route_query_u64(q, qn, "n", 1, MAX_SLOW_BYTES, 512, &n[1]) < 0)
			bad(r, "n must be an integer from 1 to 16777216");
		else if (n[1] / n[0] > MAX_SLOW_SECONDS)
			bad(r, "n / bytes_per_s must be at most 600 seconds");
	} else if (name_is(name, nlen, "hang")) {
		r->route = R_F_HANG;
	} else if (name_is(name, nlen, "headers")) {
		r->route = R_F_HEADERS;
		if (route_query_u64(q, qn, "n", 0, MAX_HEADERS_N, 10, &n[0]) < 0)
			bad(r, "n must be an integer from 0 to 10000");
		else if (route_query_u64(q, qn, "size", 1, MAX_HEADER_SIZE, 32, &n[1]) < 0)
			bad(r, "size must be an integer from 1 to 65536");
		else if (n[0] * n[1] > MAX_HEADERS_TOTAL)
			bad(r, "n * size must be at most 2 MiB");
	} else if (name_is(name, nlen, "stall")) {
		r->route = R_F_STALL;
		if (route_query_u64(q, qn, "ms", 1, MAX_STALL_MS, 1000, &n[0]) < 0)
			bad(r, "ms must be an integer from 1 to 60000");
	} else if (name_is(name, nlen, "random")) {
		static const char *const keys[] = {"status", "reset", "delay", "hang", "close", "malformed"};
		uint64_t sum = 0;
		int i;

		r->route = R_F_RANDOM;
		for (i = 0; i < 6; i++) {
			if (route_query_u64(q, qn, keys[i], 0, 100, 0, &n[i]) < 0)
				bad(r, "percentages must be integers from 0 to 100");
			sum += n[i];
		}
		if (sum > 100)
			bad(r, "percentages must add up to at most 100");
		if (route_query_u64(q, qn, "code", 100, 599, 500, &n[6]) < 0)
			bad(r, "code must be an integer from 100 to 599");
		if (route_query_u64(q, qn, "delay_ms", 0, MAX_DELAY_MS, 200, &n[7]) < 0)
			bad(r, "delay_ms must be an integer from 0 to 600000");
	} else {
		r->route = R_UNMATCHED;
		r->err_status = 404;
		r->err_msg = "no such fault";
	}
}

static void answer(tgt_conn *c, int status, const char *what)
{
	buf *b = &c->w->json;

	b->len = 0;
	buf_printf(b, "{\"fault\":\"%s\",\"status\":%d}\n", what, status);
	tgt_respond(c, status, NULL, NULL, 0, b->data, b->len);
}

static void wait_until(tgt_conn *c, uint64_t deadline)
{
	c->state = CS_WAIT;
	ev_timer_start(c->w->loop, &c->timer, deadline);
}

/* how: 0 after the head, 1 after half the body, 2 at once — the request
 * read, nothing answered: what a client sees when a server drops a
 * kept-alive connection under a request it has already taken. */
static void close_early(tgt_conn *c, int how)
{
	int partial = how == 1;

	if (how == 2) {
		tgt_finish_close(c, STATS_CLOSED, 0);
		return;
	}
	tgt_send_head(c, 200, "application/octet-stream", NULL, 0, CLOSE_BODY);
	if (partial)
		tgt_send(c, tgt_filler, CLOSE_BODY / 2);
	tgt_finish_close(c, STATS_CLOSED, 0);
}

static void malformed(tgt_conn *c)
{
	static const char bad_line[] = "HTTP/1.1 OK-ish this is not a status line\r\n"
				       "Content-Length: 0\r\n\r\n";

	tgt_count(c, STATS_MALFORMED);
	tgt_send(c, bad_line, sizeof(bad_line) - 1);
	tgt_finish_close(c, STATS_MALFORMED, 0);
}

static void hang(tgt_conn *c)
{
	tgt_finish(c, STATS_HANG);
	c->state = CS_HANG;
}

static void many_headers(tgt_conn *c)
{
	buf *b = &c->w->json;
	uint64_t i, n = c->req.n[0], size = c->req.n[1];
	static const char body[] = "{\"fault\":\"headers\",\"status\":200}\n";

	b->len = 0;
	for (i = 0; i < n; i++) {
		if (buf_printf(b, "X-Fill-%llu: ", (unsigned long long)i) < 0 ||
		    buf_append(b, tgt_filler, size) < 0 || buf_append(b, "\r\n", 2) < 0)
			break;
	}
	tgt_respond(c, 200, NULL, b->data, b->len, body, sizeof(body) - 1);
}

void fault_dispatch(tgt_conn *c)
{
	tgt_req *r = &c->req;
	uint64_t now = ev_now(c->w->loop);

	switch (r->route) {
	case R_F_DELAY:
		wait_until(c, now + r->n[0] * NS_PER_MS);
		break;
	case R_F_STATUS:
		if (r->n[0] < 200) {
			/* An interim response alone would leave the client waiting for
			 * the final one, which a server must send: a 200 follows. */
			char head[64];
			int n = snprintf(head, sizeof(head), "HTTP/1.1 %d Informational\r\n\r\n", (int)r->n[0]);

			tgt_send(c, head, (size_t)n);
			answer(c, 200, "status");
			break;
		}
		answer(c, (int)r->n[0], "status");
		break;
	case R_F_RESET:
		tgt_finish_close(c, STATS_RESET, 1);
		break;
	case R_F_CLOSE:
		close_early(c, (int)r->n[0]);
		break;
	case R_F_MALFORMED:
		malformed(c);
		break;
	case R_F_CHUNKED:
		tgt_send_head(c, 200, "text/plain", NULL, 0, -1);
		tgt_finish(c, 200);
		if (r->method == TM_HEAD)
			break;
		tgt_stream(c, ST_CHUNKED, r->n[0], (uint32_t)r->n[1]);
		break;
	case R_F_BYTES:
		tgt_send_head(c, 200, "application/octet-stream", NULL, 0, (int64_t)r->n[0]);
		tgt_finish(c, 200);
		if (r->method == TM_HEAD)
			break;
		tgt_stream(c, ST_BYTES, r->n[0], 0);
		break;
	case R_F_SLOW_BODY: {
		uint64_t bps = r->n[0];

		tgt_send_head(c, 200, "application/octet-stream", NULL, 0, (int64_t)r->n[1]);
		tgt_finish(c, 200);
		if (r->method == TM_HEAD)
			break;
		tgt_stream(c, ST_SLOW, r->n[1], 0);
		/* Ten ticks a second, or one byte per tick below 10 B/s. */
		if (bps >= 10) {
			c->slow_step = bps / 10;
			c->slow_interval = NS_PER_SEC / 10;
		} else {
			c->slow_step = 1;
			c->slow_interval = NS_PER_SEC / bps;
		}
		ev_timer_start(c->w->loop, &c->timer, now + c->slow_interval);
		break;
	}
	case R_F_HANG:
		hang(c);
		break;
	case R_F_HEADERS:
		many_headers(c);
		break;
	case R_F_STALL: {
		uint64_t until = clock_mono_ns() + r->n[0] * NS_PER_MS, cur = stall_until;

		/* Overlapping stalls extend, never shorten, the pause. */
		while (cur < until && !__atomic_compare_exchange_n(&stall_until, &cur, until, 0,
								   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
		wait_until(c, until);
		break;
	}
	case R_F_RANDOM: {
		uint64_t x = tgt_rand(c->w) % 100, acc = 0;
		static const int outcome[6] = {RND_STATUS, RND_RESET, RND_DELAY, RND_HANG, RND_CLOSE,
					       RND_MALFORMED};
		int i, pick = RND_OK;

		for (i = 0; i < 6; i++) {
			acc += r->n[i];
			if (x < acc) {
				pick = outcome[i];
				break;
			}
		}
		r->id = (uint64_t)pick;
		switch (pick) {
		case RND_STATUS:
			answer(c, (int)r->n[6], "random");
			break;
		case RND_RESET:
			tgt_finish_close(c, STATS_RESET, 1);
			break;
		case RND_DELAY:
			wait_until(c, now + r->n[7] * NS_PER_MS);
			break;
		case RND_HANG:
			hang(c);
			break;
		case RND_CLOSE:
			close_early(c, 0);
			break;
		case RND_MALFORMED:
			malformed(c);
			break;
		default:
			answer(c, 200, "random");
		}
		break;
	}
	default:
		tgt_error(c, 404, "no such fault");
	}
}

void fault_timer(tgt_conn *c)
{
	tgt_req *r = &c->req;

	if (c->state == CS_STREAM && c->stream == ST_SLOW) {
		uint64_t n = c->slow_step < c->stream_left ? c->slow_step : c->stream_left;

		tgt_send(c, tgt_filler, n);
		c->stream_left -= n;
		if (c->stream_left)
			ev_timer_start(c->w->loop, &c->timer, ev_now(c->w->loop) + c->slow_interval);
		else
			tgt_stream_end(c);
		return;
	}
	if (c->state != CS_WAIT)
		return;
	switch (r->route) {
	case R_F_DELAY:
		answer(c, 200, "delay");
		break;
	case R_F_STALL:
		answer(c, 200, "stall");
		break;
	case R_F_RANDOM:
		answer(c, 200, "random");
		break;
	}
}
