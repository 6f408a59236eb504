#include "engine/batch.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/http_debug.h"
#include "engine/record.h"
#include "engine/worker_impl.h"
#include "program/request.h"

/* As vu.c's: a variable's limit, and an expanded request's. */
#define VAR_MAX  (1024 * 1024)
#define WIRE_MAX (64 * 1024 * 1024)
/* A captured value no extraction wrote: extraction always starts a value
 * with buf_reset, so a length nothing else can have marks "not found". */
#define UNSET       SIZE_MAX
#define NO_ENDPOINT UINT32_MAX

enum { REQ_PENDING, REQ_FLIGHT, REQ_DONE };

/* One connection of the block's. Its owner (what it reports to) is this
 * struct, fixed at creation; cur says which request it carries now. */
typedef struct batch_conn {
	struct vu_batch *b;
	http_conn *conn;
	vu *cur;           /* the request on it; NULL when free */
	uint32_t endpoint; /* its last request's: a kept-alive connection serves it */
} batch_conn;

/* Each request of a block answers to a VU of its own, a copy of the VU's
 * identity (id, iteration, scenario) with its own exchange, body, checks,
 * request bytes, redirect state and variables: so vu.c's response code
 * and record.c's recording serve it unchanged. Its variables only capture
 * what its extraction finds, applied to the VU's when the block ends; its
 * templates read the VU's, and its cookies are the VU's jar (owner). */
struct vu_batch {
	vu *v;
	const flow_parallel *blk; /* the block in flight */
	vu *reqs;                 /* one per request of the largest block */
	uint8_t *state;           /* REQ_* of each */
	uint32_t nreqs;
	batch_conn *conns;
	uint32_t nconns;
	uint32_t *host_busy; /* requests in flight per block-local host */
	uint32_t nhosts;
	uint32_t first_pending, inflight, ndone;
};

static void on_head(void *p, const http_head *h);
static void on_body(void *p, const char *d, size_t n);
static void on_attempt(void *p, int err);
static void on_done(void *p, int err);

static const http_conn_cbs batch_cbs = {on_head, on_body, on_attempt, on_done};

/* Lends v what its scenario's largest block needs, once. */
static struct vu_batch *batch_create(vu *v)
{
	const run_scenario *sc = v->scn->sc;
	const run_config *cfg = v->w->ctx->cfg;
	struct vu_batch *b = xcalloc(1, sizeof(*b));
	uint32_t i, j;

	b->v = v;
	b->nreqs = sc->batch_reqs;
	b->nconns = sc->batch_conns ? sc->batch_conns : 1;
	b->nhosts = sc->batch_hosts;
	b->reqs = xcalloc(b->nreqs, sizeof(vu));
	b->state = xcalloc(b->nreqs, 1);
	b->conns = xcalloc(b->nconns, sizeof(batch_conn));
	b->host_busy = xcalloc(b->nhosts ? b->nhosts : 1, sizeof(uint32_t));
	for (i = 0; i < b->nreqs; i++) {
		vu *r = &b->reqs[i];

		r->w = v->w;
		r->scn = v->scn;
		r->id = v->id;
		r->batch_sub = 1;
		r->owner = v;
		buf_init(&r->wbuf, 0, WIRE_MAX);
		if (sc->nvars)
			r->vars = xcalloc(sc->nvars, sizeof(buf));
		for (j = 0; j < sc->nvars; j++)
			buf_init(&r->vars[j], 0, VAR_MAX);
	}
	for (i = 0; i < b->nconns; i++) {
		b->conns[i].b = b;
		b->conns[i].endpoint = NO_ENDPOINT;
		b->conns[i].conn = http_conn_create(v->w->http, &batch_cbs, &b->conns[i]);
		/* k6's localIPs: the VU's address, as for its own connection. */
		if (cfg->nlocal_ips)
			http_conn_bind(b->conns[i].conn, &cfg->local_ips[(v->id ? v->id - 1 : 0) % cfg->nlocal_ips]);
	}
	return b;
}

void vu_batch_free(vu *v)
{
	struct vu_batch *b = v->batch;
	uint32_t i, j;

	if (!b)
		return;
	for (i = 0; i < b->nconns; i++)
		http_conn_destroy(b->conns[i].conn);
	for (i = 0; i < b->nreqs; i++) {
		vu *r = &b->reqs[i];

		buf_pool_put(&v->w->bodies, &r->resp_body);
		vu_sub_free(r);
		buf_free(&r->wbuf);
		for (j = 0; r->vars && j < v->scn->sc->nvars; j++)
			buf_free(&r->vars[j]);
		free(r->vars);
	}
	free(b->reqs);
	free(b->state);
	free(b->conns);
	free(b->host_busy);
	free(b);
	v->batch = NULL;
}

/* A free connection for endpoint ep: the one kept alive for it, else one
 * never used, else any (it reconnects). NULL when all are busy. */
static batch_conn *conn_pick(struct vu_batch *b, uint32_t ep)
{
	batch_conn *fresh = NULL, *any = NULL;
	uint32_t i;

	for (i = 0; i < b->nconns; i++) {
		batch_conn *c = &b->conns[i];

		if (c->cur)
			continue;
		if (c->endpoint == ep)
			return c;
		if (c->endpoint == NO_ENDPOINT && !fresh)
			fresh = c;
		if (!any)
			any = c;
	}
	return fresh ? fresh : any;
}

/* Request i of the block ended (answered, failed or refused): recorded as
 * a single request is. Its connection, if it had one, is free again. */
static void req_end(struct vu_batch *b, uint32_t i, batch_conn *c, int err)
{
	vu *r = &b->reqs[i];
	worker *w = b->v->w;

	buf_pool_put(&w->bodies, &r->resp_body);
	record_http(w, r, r->x.status, err, 0);
	b->state[i] = REQ_DONE;
	b->ndone++;
	if (c) {
		c->cur = NULL;
		r->conn = NULL;
		b->inflight--;
		b->host_busy[b->blk->host[i]]--;
	}
}

/* Puts request i on connection c, or ends it at once when it cannot go
 * (an unresolvable host, a value that would be framing, a connect that
 * failed on the spot). Returns 1 when it is in flight. */
static int req_send(struct vu_batch *b, uint32_t i, batch_conn *c)
{
	vu *v = b->v, *r = &b->reqs[i];
	worker *w = v->w;
	const run_config *cfg = w->ctx->cfg;
	const run_request *rq = r->req;
	const run_target *tg = run_ctx_target(w->ctx, rq);
	http_exchange *x = &r->x;
	int rc, close_after = rq->close_after;

	http_exchange_begin(x);
	r->check_fail = 0;
	r->resp_truncated = 0;
	vu_request_reset(r);
	if (tg->resolve_error) {
		x->t_conn_start = x->t_connected = x->t_start;
		req_end(b, i, NULL, tg->resolve_error);
		return 0;
	}
	/* Templates read the VU's own variables, rows and random stream. */
	rc = vu_request_wire(r, &close_after);
	if (rc < 0) {
		x->t_conn_start = x->t_connected = x->t_start;
		req_end(b, i, NULL, rc == TMPL_EVALUE ? ERR_REQUEST_VALUE : ERR_REQUEST_TOO_LARGE);
		return 0;
	}
	x->addr = NULL; /* the run's endpoint: its connections take the resolver's answer */
	x->host = rq->url.host;
	x->endpoint = tg->endpoint;
	x->close_after = (uint8_t)close_after;
	x->max_reqs = rq->max_reqs;
	x->max_age_ns = rq->max_age_ns;
	x->tls = (uint8_t)rq->tls;
	x->head_method = (uint8_t)rq->head_method;
	x->want_body = (uint8_t)rq->needs_body;
	x->timeout_ns = rq->timeout_ns ? rq->timeout_ns : cfg->timeout_ns;
	if (cfg->http_debug) {
		x->want_body |= cfg->http_debug == 2 && !cfg->discard_bodies;
		http_debug_vars dv = vu_debug_vars(r);

		http_debug_request(r->id, r->iter, &dv, x->wire, x->wire_len, cfg->http_debug == 2);
	}
	b->state[i] = REQ_FLIGHT;
	b->inflight++;
	b->host_busy[b->blk->host[i]]++;
	c->cur = r;
	c->endpoint = tg->endpoint;
	r->conn = c->conn;
	rc = http_conn_send(c->conn, x);
	if (rc < 0) {
		req_end(b, i, c, -rc);
		return 0;
	}
	return 1;
}

/* Sends pending requests in the block's order while the limits allow: a
 * request whose host is at batch_per_host waits, later ones to other hosts
 * go. Requests that end at once free their room, so it goes round again. */
static void dispatch(struct vu_batch *b)
{
	const flow_parallel *blk = b->blk;
	int again = 1;

	while (again) {
		uint32_t i;

		again = 0;
		while (b->first_pending < blk->n && b->state[b->first_pending] != REQ_PENDING)
			b->first_pending++;
		for (i = b->first_pending; i < blk->n && b->inflight < blk->batch; i++) {
			batch_conn *c;

			if (b->state[i] != REQ_PENDING)
				continue;
			if (blk->per_host && b->host_busy[blk->host[i]] >= blk->per_host)
				continue;
			c = conn_pick(b, run_ctx_target(b->v->w->ctx, b->reqs[i].req)->endpoint);
			if (!c)
				break; /* cannot happen: the connections are sized for the limits */
			if (!req_send(b, i, c))
				again = 1;
		}
	}
}

/* Every request answered: what they extracted reaches the VU's variables,
 * in the block's order (a later request's value wins), and the program
 * goes on from the VU's timer — also when everything ended at once, so a
 * block of instant failures cannot recurse into the next step. */
static void block_end(struct vu_batch *b)
{
	vu *v = b->v;
	const flow_parallel *blk = b->blk;
	uint32_t i, k;

	for (i = 0; i < blk->n; i++) {
		vu *r = &b->reqs[i];

		for (k = 0; k < r->req->nextracts; k++) {
			uint32_t slot = r->req->extracts[k].slot;
			buf *from = &r->vars[slot], *to = &v->vars[slot];

			if (from->len == UNSET)
				continue;
			buf_reset(to);
			buf_append(to, from->data, from->len < to->max ? from->len : to->max);
		}
	}
	b->blk = NULL;
	v->state = VU_WAITING;
	ev_timer_start(v->w->loop, &v->timer, clock_mono_ns() + 1);
}

void vu_batch_start(vu *v, const flow_parallel *blk)
{
	struct vu_batch *b = v->batch;
	const run_config *cfg = v->w->ctx->cfg;
	uint32_t i, k;

	if (!b) {
		b = batch_create(v);
		v->batch = b;
	}
	b->blk = blk;
	b->first_pending = b->inflight = b->ndone = 0;
	memset(b->host_busy, 0, blk->nhosts * sizeof(uint32_t));
	for (i = 0; i < blk->n; i++) {
		vu *r = &b->reqs[i];

		r->req = &cfg->reqs[blk->reqs[i]];
		r->iter = v->iter;
		r->rows = v->rows;
		/* Queue mode: a block that opens the iteration was queued as a
		 * whole, so each of its requests counts from the intended start. */
		r->co_pending = v->co_pending;
		r->intended = v->intended;
		for (k = 0; k < r->req->nextracts; k++)
			r->vars[r->req->extracts[k].slot].len = UNSET;
		b->state[i] = REQ_PENDING;
	}
	v->co_pending = 0;
	v->state = VU_BATCH;
	dispatch(b);
	if (b->ndone == blk->n)
		block_end(b);
}

void vu_batch_abort(vu *v)
{
	struct vu_batch *b = v->batch;
	uint32_t i;

	if (!b || !b->blk)
		return;
	for (i = 0; i < b->nconns; i++) {
		batch_conn *c = &b->conns[i];

		if (!c->cur)
			continue;
		vu_park_cancel(c->cur);
		if (c->cur->x.t_sent)
			record_http_abandoned(v->w, c->cur);
		http_conn_close(c->conn);
		buf_pool_put(&v->w->bodies, &c->cur->resp_body);
		c->cur->conn = NULL;
		c->cur = NULL;
		c->endpoint = NO_ENDPOINT;
	}
	b->blk = NULL;
}

static void on_head(void *p, const http_head *h)
{
	batch_conn *c = p;

	vu_response_head(c->cur, h);
}

static void on_body(void *p, const char *d, size_t n)
{
	batch_conn *c = p;

	vu_response_body(c->cur, d, n);
}

/* A written attempt failed on a stale connection and goes out again: its
 * own failed request, as on a VU's connection. */
static void on_attempt(void *p, int err)
{
	batch_conn *c = p;

	record_http(c->b->v->w, c->cur, 0, err, 1);
}

void vu_batch_hop_end(vu *r, int err)
{
	struct vu_batch *b = r->owner->batch;
	batch_conn *c = NULL;
	uint32_t i;

	for (i = 0; i < b->nconns && !c; i++)
		if (b->conns[i].cur == r)
			c = &b->conns[i];
	req_end(b, (uint32_t)(r - b->reqs), c, err);
	if (b->ndone == b->blk->n)
		block_end(b);
	else
		dispatch(b);
}

static void on_done(void *p, int err)
{
	batch_conn *c = p;
	struct vu_batch *b = c->b;
	vu *r = c->cur;
	int rc;

	/* A redirect to follow: its next hop goes out on this connection, to
	 * the hop's endpoint, which the connection now keeps alive. */
	rc = vu_response_hop(r, err);
	if (rc > 0) {
		c->endpoint = r->x.endpoint;
		return;
	}
	if (rc < 0)
		err = -rc;
	else
		err = vu_response_end(r, err);
	req_end(b, (uint32_t)(r - b->reqs), c, err);
	if (b->ndone == b->blk->n)
		block_end(b);
	else
		dispatch(b);
}
