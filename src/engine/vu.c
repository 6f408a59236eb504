#include "engine/vu.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/batch.h"
#include "engine/http_debug.h"
#include "engine/record.h"
#include "engine/worker_impl.h"
#include "http/cookie.h"
#include "http/proxy.h"
#include "http/url.h"
#include "program/request.h"

#define VAR_MAX (1024 * 1024)
/* An expanded request (templated) is refused past this: ERR_REQUEST_TOO_LARGE. */
#define WIRE_MAX (64 * 1024 * 1024)

static void on_timer(ev_loop *loop, ev_timer *t);
static void run_program(vu *v);
static void on_head(void *p, const http_head *h);
static void keep_body(void *p, const char *d, size_t n);
static void on_attempt(void *p, int err);
static void on_done(void *p, int err);

static const http_conn_cbs conn_cbs = {on_head, keep_body, on_attempt, on_done};

/* A redirect target (path and query) is refused past this. */
#define HOP_TARGET_MAX (64 * 1024)
/* The Cookie header a VU sends: the jar's most (64 cookies of 4 KiB). */
#define COOKIE_HDR_MAX (COOKIE_JAR_MAX * (COOKIE_MAX_BYTES + 2))

/* What a VU keeps for cookies and redirects, made the first time one is
 * needed (most VUs of most runs never see either) and kept for its life:
 * once warm, neither allocates. A parallel block's request (batch_sub)
 * has one of its own for its redirects, and its cookie buffer, but no jar:
 * it uses its VU's (jar_vu), as k6's batch requests use the VU's jar. */
typedef struct vu_ext {
	cookie_jar *jar;      /* a VU's only */
	buf cookie;           /* the Cookie value being sent */
	http_loc loc;         /* where the hop in flight goes */
	http_loc next_loc;    /* where the redirect just read points */
	buf target, next;     /* their paths and queries */
	buf url;              /* the hop's URL, its url and name tags (unnamed requests) */
	uint64_t url_hash;
	uint8_t url_tag;      /* url holds the hop's tags */
	char origin[280];     /* "http://authority" of an http:// hop through a proxy */
	struct vu *self;      /* whose this is (for the park timer) */
	struct vu *park_next; /* the worker's parked hops: waiting for a run-time lookup */
	struct vu **park_prev;
	ev_timer park_timer;  /* a parked hop's request deadline */
	uint8_t parked;
	uint32_t hops;        /* redirects followed for the current request */
	int err;              /* a redirect that could not be followed: the request's error */
	uint8_t active;       /* the exchange in flight is a hop, not the request's own */
	uint8_t pending;      /* the response being read is a redirect to follow */
	uint8_t get;          /* the hops go as GET without the body */
} vu_ext;

static void on_park_timer(ev_loop *loop, ev_timer *t);

static vu_ext *ext_get(vu *v)
{
	if (!v->ext) {
		v->ext = xcalloc(1, sizeof(*v->ext));
		v->ext->self = v;
		ev_timer_init(&v->ext->park_timer, on_park_timer);
		buf_init(&v->ext->cookie, 0, COOKIE_HDR_MAX);
		buf_init(&v->ext->target, 0, HOP_TARGET_MAX);
		buf_init(&v->ext->next, 0, HOP_TARGET_MAX);
		buf_init(&v->ext->url, 0, HOP_TARGET_MAX + 512);
	}
	return v->ext;
}

const char *vu_hop_url(const vu *v, uint64_t *hash)
{
	if (!v->ext || !v->ext->active || !v->ext->url_tag)
		return NULL;
	*hash = v->ext->url_hash;
	return v->ext->url.data;
}

/* Whose jar v's exchanges use: its own, or its block's VU's. */
static vu *jar_vu(vu *v)
{
	return v->batch_sub ? v->owner : v;
}

static cookie_jar *jar_of(vu *v)
{
	vu *o = jar_vu(v);

	return o->ext ? o->ext->jar : NULL;
}

static void ext_free(vu_ext *e)
{
	if (!e)
		return;
	cookie_jar_destroy(e->jar);
	buf_free(&e->cookie);
	buf_free(&e->target);
	buf_free(&e->next);
	buf_free(&e->url);
	free(e);
}

void vu_init(vu *v, struct worker *w, struct worker_scn *scn, uint32_t id)
{
	const run_config *cfg = w->ctx->cfg;
	uint32_t i, nvars = scn->sc->nvars;

	memset(v, 0, sizeof(*v));
	v->w = w;
	v->scn = scn;
	v->id = id;
	v->rng = (UINT64_C(0x9E3779B97F4A7C15) * id) ^ w->rng;
	if (!v->rng)
		v->rng = 1;
	ev_timer_init(&v->timer, on_timer);
	v->conn = http_conn_create(w->http, &conn_cbs, v);
	/* k6's localIPs: VU i (1-based) binds to address i - 1 of the list, round. */
	if (cfg->nlocal_ips)
		http_conn_bind(v->conn, &cfg->local_ips[(id ? id - 1 : 0) % cfg->nlocal_ips]);
	buf_init(&v->wbuf, 0, WIRE_MAX);
	/* Only what this VU can use: an idle VU is most of a run's memory. */
	if (nvars)
		v->vars = xcalloc(nvars, sizeof(buf));
	for (i = 0; i < nvars; i++)
		buf_init(&v->vars[i], 0, VAR_MAX);
	if (cfg->ndata)
		v->rows = xcalloc(cfg->ndata, sizeof(*v->rows));
}

void vu_free(vu *v)
{
	uint32_t i;

	http_conn_destroy(v->conn);
	v->conn = NULL;
	vu_batch_free(v);
	buf_free(&v->wbuf);
	buf_pool_put(&v->w->bodies, &v->resp_body);
	for (i = 0; v->vars && i < v->scn->sc->nvars; i++)
		buf_free(&v->vars[i]);
	free(v->vars);
	v->vars = NULL;
	free(v->rows);
	v->rows = NULL;
	ext_free(v->ext);
	v->ext = NULL;
}

void vu_sub_free(vu *v)
{
	ext_free(v->ext);
	v->ext = NULL;
}

void vu_abort(vu *v)
{
	vu_park_cancel(v);
	ev_timer_stop(v->w->loop, &v->timer);
	v->pending_start = 0;
	if (v->state == VU_REQUEST && v->x.t_sent)
		record_http_abandoned(v->w, v);
	if (v->state == VU_BATCH)
		vu_batch_abort(v);
	http_conn_close(v->conn);
	buf_pool_put(&v->w->bodies, &v->resp_body);
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
	/* k6 empties a VU's jar before each iteration unless noCookiesReset;
	 * setup is the start of the VU's first iteration here (it runs in the
	 * VU), so what it set reaches that iteration only. */
	if (v->ext && v->ext->jar && !v->w->ctx->cfg->no_cookies_reset)
		cookie_jar_clear(v->ext->jar);
	v->in_iteration = 1;
	v->iter++;
	v->iter_start = clock_mono_ns();
	v->async = 0;
	v->ngroups = 0;
	v->in_setup = !v->setup_done && sc->setup.nops > 1;
	v->prog = v->in_setup ? &sc->setup : &sc->flow;
	v->pc = 0;
	run_program(v);
	return 0;
}

static void request_start(vu *v);

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
				record_group(v->w, v, v->group_idx[v->ngroups],
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
		case OP_PARALLEL:
			v->pc++;
			v->async = 1;
			vu_batch_start(v, &cfg->parallels[op->arg]);
			return;
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
 * move on. v->x.status is 0 unless a response came: with err, that is an
 * answer strain could not judge (a regex limit), on a sound connection.
 * synchronous: it ended inside request_start, so the program continues
 * from a timer rather than recursing into the next request. */
static void request_done(vu *v, int err, int synchronous)
{
	worker *w = v->w;

	ev_timer_stop(w->loop, &v->timer);
	buf_pool_put(&w->bodies, &v->resp_body);
	v->state = VU_IDLE;
	record_http(w, v, v->x.status, err, 0);
	if (synchronous) {
		defer_continue(v, 0);
		return;
	}
	run_program(v);
}

/* The request failed before reaching its connection (nothing was sent):
 * like a failed request on a new connection, the kept-alive one is closed. */
static void request_refuse(vu *v, int err)
{
	v->x.t_conn_start = v->x.t_connected = v->x.t_start;
	http_conn_close(v->conn);
	request_done(v, err, 1);
}

/* Expands a templated request into wbuf, through the worker's scratch.
 * Returns 0, TMPL_ETOOBIG or TMPL_EVALUE. */
static int build_request(vu *v, int *close_after, const run_request_over *over)
{
	worker *w = v->w;
	vu *o = jar_vu(v);
	tmpl_ctx c;

	/* A block's request reads its VU's variables and random stream (its
	 * own variables only capture what it extracts). */
	c.vu = v->id;
	c.iter = v->iter ? v->iter - 1 : 0;
	c.module = v->scn->sc->name;
	c.rng = &o->rng;
	c.vars = o->vars;
	c.data_rows = v->rows;
	return run_request_expand(v->req, &c, &w->xbuf, w->fields, &w->bbuf, w->enc, &w->zbuf, &v->wbuf, close_after,
				  over);
}

/* The path and query of a request's bytes: its request line's target. */
static void wire_target(const char *wire, size_t len, const char **t, size_t *n)
{
	const char *sp = memchr(wire, ' ', len), *end;

	*t = "/";
	*n = 1;
	if (!sp)
		return;
	sp++;
	end = memchr(sp, ' ', len - (size_t)(sp - wire));
	if (end) {
		*t = sp;
		*n = (size_t)(end - sp);
	}
}

/* The URL of the exchange in flight, as the cookie jar sees it. */
static void exchange_url(const vu *v, cookie_url *u)
{
	const vu_ext *e = v->ext;

	if (e && e->active) {
		u->host = e->loc.host;
		u->secure = e->loc.tls;
	} else {
		u->host = v->req->url.host;
		u->secure = v->req->tls;
	}
	wire_target(v->x.wire, v->x.wire_len, &u->path, &u->path_len);
}

/* The jar's Cookie value for u into ext->cookie. Returns its length (0:
 * none), or -1 past the header's limit. */
static long cookies_for(vu *v, const cookie_url *u)
{
	cookie_jar *jar = jar_of(v);
	vu_ext *e;
	int n;

	if (!jar || !cookie_jar_count(jar))
		return 0;
	e = ext_get(v);
	buf_reset(&e->cookie);
	n = cookie_jar_header(jar, u, clock_mono_ns(), &e->cookie);
	return n < 0 ? -1 : (long)e->cookie.len;
}

/* Sends the exchange v->x is set up for. Returns 0, or -code when it
 * failed at once: the caller ends the request (a VU's, or a block's). */
static int exchange_send(vu *v)
{
	const run_config *cfg = v->w->ctx->cfg;
	http_exchange *x = &v->x;
	int rc;

	v->async = 1;
	if (cfg->http_debug) {
		x->want_body |= cfg->http_debug == 2 && !cfg->discard_bodies;
		http_debug_vars dv = vu_debug_vars(v);

		http_debug_request(v->id, v->iter, &dv, x->wire, x->wire_len, cfg->http_debug == 2);
	}
	rc = http_conn_send(v->conn, x);
	return rc < 0 ? rc : 0;
}

/* A request starts with no hop: the record tags it as itself. */
void vu_request_reset(vu *v)
{
	v->as_get = 0;
	if (v->ext) {
		v->ext->hops = 0;
		v->ext->err = 0;
		v->ext->active = v->ext->pending = v->ext->get = v->ext->url_tag = 0;
	}
}

/* v->x's bytes for v->req: expanded when templated, and written again
 * with the jar's cookies for its URL when any match (a static request
 * too; without cookies it keeps its bytes). Returns 0, TMPL_ETOOBIG or
 * TMPL_EVALUE. */
int vu_request_wire(vu *v, int *close_after)
{
	const run_request *rq = v->req;
	http_exchange *x = &v->x;
	cookie_jar *jar = jar_of(v);
	int rc = 0;
	cookie_url u;
	long clen;

	if (rq->dynamic) {
		rc = build_request(v, close_after, NULL);
		x->wire = v->wbuf.data;
		x->wire_len = v->wbuf.len;
	} else {
		x->wire = rq->wire.data;
		x->wire_len = rq->wire.len;
	}
	if (rc == 0 && jar && cookie_jar_count(jar)) {
		u.host = rq->url.host;
		u.secure = rq->tls;
		wire_target(x->wire, x->wire_len, &u.path, &u.path_len);
		clen = cookies_for(v, &u);
		if (clen < 0) {
			rc = TMPL_ETOOBIG;
		} else if (clen > 0) {
			run_request_over over = {0};

			over.cookie = v->ext->cookie.data;
			over.cookie_len = (size_t)clen;
			rc = build_request(v, close_after, &over);
			x->wire = v->wbuf.data;
			x->wire_len = v->wbuf.len;
		}
	}
	return rc;
}

static void request_start(vu *v)
{
	const run_config *cfg = v->w->ctx->cfg;
	const run_request *rq = v->req;
	const run_target *tg = run_ctx_target(v->w->ctx, rq);
	http_exchange *x = &v->x;
	int rc, close_after = rq->close_after;

	http_exchange_begin(x);
	v->check_fail = 0;
	v->resp_truncated = 0;
	v->state = VU_REQUEST;
	vu_request_reset(v);
	if (tg->resolve_error) {
		request_refuse(v, tg->resolve_error);
		return;
	}
	rc = vu_request_wire(v, &close_after);
	if (rc < 0) {
		/* Nothing was sent: a value that would have been framing (a line
		 * break from a CSV field or an extracted value in a header) fails
		 * this request, counted, as does a request past the size limit. */
		request_refuse(v, rc == TMPL_EVALUE ? ERR_REQUEST_VALUE : ERR_REQUEST_TOO_LARGE);
		return;
	}
	x->addr = NULL;
	x->host = rq->url.host;
	x->endpoint = tg->endpoint;
	x->close_after = (uint8_t)close_after;
	x->max_reqs = rq->max_reqs;
	x->max_age_ns = rq->max_age_ns;
	x->tls = (uint8_t)rq->tls;
	x->head_method = (uint8_t)rq->head_method;
	x->want_body = (uint8_t)rq->needs_body;
	x->timeout_ns = rq->timeout_ns ? rq->timeout_ns : cfg->timeout_ns;
	rc = exchange_send(v);
	if (rc < 0)
		request_done(v, -rc, 1);
}

/* A failed lookup's code, as at start: k6's 1101 for a name with no
 * address, 1100 otherwise. */
static int dns_code(int eai)
{
	return eai == EAI_NONAME || eai == EAI_NODATA ? ERR_DNS_NO_HOST : ERR_DNS;
}

/* Where a hop goes: an endpoint of the run's (same scheme, host and port
 * as one of its requests), or one this worker adds for another (at most
 * WORKER_DYN_ENDPOINTS: ERR_REDIRECT_HOST past them), whose destination —
 * the origin, or the proxy it goes through, by the run's proxy rules — is
 * the run resolver's host for it: a `hosts:` pin, an IP literal, a name
 * resolved at start, or one the resolver thread looks up now (never this
 * loop). *proxy is the proxy the hop goes through, or NULL. Returns 0 or
 * an error code. */
static int hop_endpoint(vu *v, const http_loc *l, uint32_t *ep, const http_proxy **proxy)
{
	worker *w = v->w;
	const run_ctx *ctx = w->ctx;
	const run_config *cfg = ctx->cfg;
	const char *dh, *dp;
	dyn_endpoint *d;
	net_addr fixed;
	int pinned;
	uint32_t i;

	*proxy = run_proxy_for(cfg, l->tls, l->host, l->port);
	for (i = 0; i < cfg->nreqs; i++) {
		const run_request *r = &cfg->reqs[i];

		if (r->tls == l->tls && !strcasecmp(r->url.host, l->host) && !strcmp(r->url.port, l->port)) {
			if (ctx->targets[i].resolve_error)
				return ctx->targets[i].resolve_error;
			*ep = ctx->targets[i].endpoint;
			return 0;
		}
	}
	for (i = 0; i < w->ndyn_eps; i++) {
		d = &w->dyn_eps[i];
		if (d->tls == l->tls && !strcasecmp(d->host, l->host) && !strcmp(d->port, l->port)) {
			*ep = ctx->nendpoints + i;
			return 0;
		}
	}
	if (w->ndyn_eps == WORKER_DYN_ENDPOINTS)
		return ERR_REDIRECT_HOST;
	/* Once per new endpoint per worker, never per request. */
	if (!w->dyn_eps)
		w->dyn_eps = xcalloc(WORKER_DYN_ENDPOINTS, sizeof(*w->dyn_eps));
	d = &w->dyn_eps[w->ndyn_eps];
	buf_init(&d->connect, 0, 64 * 1024);
	d->tls = l->tls;
	d->proxy = *proxy;
	snprintf(d->host, sizeof(d->host), "%s", l->host);
	snprintf(d->port, sizeof(d->port), "%s", l->port);
	dh = *proxy ? (*proxy)->url.host : l->host;
	dp = *proxy ? (*proxy)->url.port : l->port;
	pinned = run_pin_addr(cfg, dh, dp, &fixed);
	d->ep.dest = resolver_want(ctx->res, dh, dp, pinned ? &fixed : NULL, w->wake_io.fd);
	w->listening = 1;
	if (*proxy && l->tls) {
		char auth[300];
		int v6 = strchr(l->host, ':') != NULL;

		snprintf(auth, sizeof(auth), "%s%s%s:%s", v6 ? "[" : "", l->host, v6 ? "]" : "", l->port);
		if (http_proxy_connect_write(auth, (*proxy)->auth, &d->connect) == 0) {
			d->ep.connect = d->connect.data;
			d->ep.connect_len = d->connect.len;
		}
	}
	http_client_endpoint_set(w->http, ctx->nendpoints + w->ndyn_eps, &d->ep);
	*ep = ctx->nendpoints + w->ndyn_eps++;
	return 0;
}

/* Whether endpoint ep can be dialled: 1 yes, 0 its run-time lookup is
 * pending, else the negative EAI_* code of a lookup that failed. */
static int hop_state(const vu *v, uint32_t ep)
{
	const worker *w = v->w;

	if (ep < w->ctx->nendpoints)
		return 1;
	return resolve_host_state(w->dyn_eps[ep - w->ctx->nendpoints].ep.dest);
}

/* The response just read was a redirect to follow (it is recorded): the
 * next hop is set up in v->x, to ext->next_loc and ext->next. Returns 0,
 * or the error that keeps it from going (nothing was sent); *wait is set
 * when its endpoint's lookup is still pending (the hop parks). */
static int hop_prepare(vu *v, int *wait)
{
	const run_config *cfg = v->w->ctx->cfg;
	const run_request *rq = v->req;
	vu_ext *e = v->ext;
	http_exchange *x = &v->x;
	run_request_over over = {0};
	const http_proxy *proxy = NULL;
	buf tmp;
	uint32_t ep = 0;
	int rc, st, close_after = rq->close_after;
	cookie_url u;
	long clen;

	*wait = 0;
	e->loc = e->next_loc;
	tmp = e->target;
	e->target = e->next;
	e->next = tmp;
	e->active = 1;
	v->as_get = e->get;
	/* k6 (since #1474) tags a hop of an unnamed request with the hop's own
	 * URL as its name; a request with a name keeps it for every hop. */
	e->url_tag = 0;
	if (!rq->named) {
		size_t i;

		buf_reset(&e->url);
		if (buf_appends(&e->url, e->loc.tls ? "https://" : "http://") == 0 &&
		    buf_appends(&e->url, e->loc.authority) == 0 &&
		    buf_append(&e->url, e->target.data, e->target.len) == 0 && buf_append(&e->url, "", 1) == 0) {
			e->url_hash = UINT64_C(0xcbf29ce484222325);
			for (i = 0; i < e->url.len; i++)
				e->url_hash = (e->url_hash ^ (unsigned char)e->url.data[i]) * UINT64_C(0x100000001b3);
			e->url_tag = 1;
		}
	}
	http_exchange_begin(x);
	v->check_fail = 0;
	v->resp_truncated = 0;
	rc = hop_endpoint(v, &e->loc, &ep, &proxy);
	if (rc)
		return rc;
	st = hop_state(v, ep);
	if (st < 0)
		return dns_code(st);
	*wait = st == 0;
	u.host = e->loc.host;
	u.secure = e->loc.tls;
	u.path = e->target.data;
	u.path_len = e->target.len;
	clen = cookies_for(v, &u);
	over.method = e->get ? "GET" : NULL;
	over.target = e->target.data;
	over.target_len = e->target.len;
	over.authority = e->loc.authority;
	over.drop_body = e->get;
	over.other_host = strcasecmp(e->loc.host, rq->url.host) != 0;
	over.cookie = clen > 0 ? e->cookie.data : NULL;
	over.cookie_len = clen > 0 ? (size_t)clen : 0;
	/* Through a proxy, an http:// hop names its own origin in the request
	 * line; a direct one names none, whatever the request's route. */
	over.route = 1;
	if (proxy && !e->loc.tls) {
		snprintf(e->origin, sizeof(e->origin), "http://%s", e->loc.authority);
		over.origin = e->origin;
		over.proxy_auth = proxy->auth;
	}
	rc = clen < 0 ? TMPL_ETOOBIG : build_request(v, &close_after, &over);
	if (rc < 0)
		return rc == TMPL_EVALUE ? ERR_REQUEST_VALUE : ERR_REQUEST_TOO_LARGE;
	x->wire = v->wbuf.data;
	x->wire_len = v->wbuf.len;
	x->addr = NULL;
	x->host = e->loc.host;
	x->endpoint = ep;
	x->close_after = (uint8_t)close_after;
	x->max_reqs = rq->max_reqs;
	x->max_age_ns = rq->max_age_ns;
	x->tls = (uint8_t)e->loc.tls;
	x->head_method = (uint8_t)rq->head_method;
	x->want_body = (uint8_t)rq->needs_body;
	x->timeout_ns = rq->timeout_ns ? rq->timeout_ns : cfg->timeout_ns;
	return 0;
}

/* A written attempt failed on a stale kept-alive connection and goes out
 * again: it counts as its own failed request, without checks. */
static void on_attempt(void *p, int err)
{
	vu *v = p;

	record_http(v->w, v, 0, err, 1);
}

static int judge_body(vu *v);

/* An answer came but its body could not be read (a Content-Encoding that
 * failed, http/coding.h): the head's checks stand, the body's fail. */
static void fail_body_checks(vu *v)
{
	const run_request *rq = v->req;
	uint32_t i;

	for (i = 0; i < rq->nchecks; i++)
		if (rq->checks[i].kind == CHK_BODY_CONTAINS || rq->checks[i].kind == CHK_BODY_MATCHES ||
		    rq->checks[i].kind == CHK_JSON_EXISTS || rq->checks[i].kind == CHK_JSON_EQUALS)
			v->check_fail |= UINT64_C(1) << i;
}

/* A hop whose endpoint's lookup is pending waits here, in the worker's
 * list, without its connection: the resolver's thread wakes the worker
 * (its eventfd) when the answer is in, and the hop's request deadline
 * still runs (park_timer). */
static void park(vu *v)
{
	worker *w = v->w;
	vu_ext *e = v->ext;

	e->parked = 1;
	e->park_next = w->parked;
	e->park_prev = &w->parked;
	if (w->parked)
		w->parked->ext->park_prev = &e->park_next;
	w->parked = v;
	if (v->x.timeout_ns)
		ev_timer_start(w->loop, &e->park_timer, v->x.t_start + v->x.timeout_ns);
}

void vu_park_cancel(vu *v)
{
	vu_ext *e = v->ext;

	if (!e || !e->parked)
		return;
	e->parked = 0;
	*e->park_prev = e->park_next;
	if (e->park_next)
		e->park_next->ext->park_prev = e->park_prev;
	e->park_next = NULL;
	e->park_prev = NULL;
	ev_timer_stop(v->w->loop, &e->park_timer);
}

/* A parked hop that cannot go: it ends its request with err, its wait
 * counted as blocked (nothing was sent). */
static void hop_fail(vu *v, int err)
{
	v->x.t_conn_start = v->x.t_connected = clock_mono_ns();
	if (v->batch_sub)
		vu_batch_hop_end(v, err);
	else
		request_done(v, err, 1);
}

static void on_park_timer(ev_loop *loop, ev_timer *t)
{
	vu_ext *e = container_of(t, vu_ext, park_timer);
	vu *v = e->self;

	(void)loop;
	vu_park_cancel(v);
	hop_fail(v, ERR_TIMEOUT);
}

void vu_parked_resume(worker *w)
{
	vu *v, *nx;

	/* Ending or sending a hop never parks or unparks another at once. */
	for (v = w->parked; v; v = nx) {
		int st = hop_state(v, v->x.endpoint), rc;

		nx = v->ext->park_next;
		if (!st)
			continue;
		vu_park_cancel(v);
		if (st < 0) {
			hop_fail(v, dns_code(st));
			continue;
		}
		v->x.t_resolved = clock_mono_ns();
		rc = exchange_send(v);
		if (rc < 0) {
			if (v->batch_sub)
				vu_batch_hop_end(v, -rc);
			else
				request_done(v, -rc, 1);
		}
	}
}

/* When the response that ended is a redirect to follow, records it as
 * its own sample (as in k6; checks judge the final response only) and
 * returns 1: the next hop is the caller's to set up and send. */
static int hop_take(vu *v, int err)
{
	vu_ext *e = v->ext;

	if (!e || !e->pending)
		return 0;
	e->pending = 0;
	if (err)
		return 0;
	record_http(v->w, v, v->x.status, 0, 1);
	e->hops++;
	return 1;
}

/* A redirect to follow: the next hop goes out on v->conn. Returns 1 then
 * (the request goes on, or ended at once). */
static int response_hop(vu *v, int err)
{
	int rc, wait;

	if (!hop_take(v, err))
		return 0;
	rc = hop_prepare(v, &wait);
	if (rc) {
		request_refuse(v, rc);
		return 1;
	}
	if (wait) {
		park(v);
		return 1;
	}
	rc = exchange_send(v);
	if (rc < 0)
		request_done(v, -rc, 1);
	return 1;
}

int vu_response_hop(vu *v, int err)
{
	int rc, wait;

	if (!hop_take(v, err))
		return 0;
	rc = hop_prepare(v, &wait);
	if (rc) {
		/* Nothing was sent, as a request refused before its connection. */
		v->x.t_conn_start = v->x.t_connected = v->x.t_start;
		return -rc;
	}
	if (wait) {
		park(v);
		return 1;
	}
	rc = exchange_send(v);
	return rc < 0 ? rc : 1;
}

int vu_response_end(vu *v, int err)
{
	vu_ext *e = v->ext;
	int debug_body = v->w->ctx->cfg->http_debug == 2 && !err;

	if (!err && v->req->needs_body)
		err = judge_body(v);
	else if (err && v->x.status)
		fail_body_checks(v);
	/* After extraction: a secret variable taken from this body is hidden
	 * in it too, wherever else it shows. */
	if (debug_body) {
		http_debug_vars dv = vu_debug_vars(v);

		http_debug_body(v->id, v->iter, &dv, v->resp_body.data ? v->resp_body.data : "", v->resp_body.len,
				v->resp_truncated);
	}
	/* A redirect strain could not follow is the response, judged as one;
	 * the request carries why (unless a limit of the judging came first). */
	if (e && !err)
		err = e->err;
	return err;
}

static void on_done(void *p, int err)
{
	vu *v = p;

	if (response_hop(v, err))
		return;
	request_done(v, vu_response_end(v, err), 0);
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

/* Stores the response's Set-Cookie headers in the VU's jar. */
static void store_cookies(vu *v, const http_head *h)
{
	static atomic_int warned;
	cookie_url u;
	uint64_t now = 0;
	int64_t wall = 0;
	size_t i;

	for (i = 0; i < h->num_headers; i++) {
		const http_header *f = &h->headers[i];
		vu_ext *e;

		if (f->name_len != 10 || strncasecmp(f->name, "set-cookie", 10) != 0)
			continue;
		e = ext_get(jar_vu(v));
		if (!e->jar)
			e->jar = cookie_jar_create();
		if (!now) {
			now = clock_mono_ns();
			wall = (int64_t)(clock_wall_ns() / NS_PER_SEC);
			exchange_url(v, &u);
		}
		if (cookie_jar_set(e->jar, f->value, f->value_len, &u, now, wall) == COOKIE_EVICTED &&
		    !atomic_exchange(&warned, 1))
			fprintf(stderr, "strain: warning: a VU's cookie jar is full (%d cookies): the oldest are "
					"evicted (docs/plan-format.md, cookies)\n", COOKIE_JAR_MAX);
	}
}

static int is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* A redirect answer: decides whether it is followed (ext->pending, the
 * next hop resolved into ext->next*) or is the final response (ext->err
 * says why: too many hops, a Location strain cannot follow). A 3xx
 * without Location, or with an empty one, is a final response, as in Go's
 * client (k6's). */
static void redirect_check(vu *v, const http_head *h)
{
	const run_config *cfg = v->w->ctx->cfg;
	const run_request *rq = v->req;
	uint32_t limit = rq->max_redirects >= 0 ? (uint32_t)rq->max_redirects : cfg->max_redirects;
	const http_header *loc;
	const char *bt;
	size_t bn;
	http_loc base;
	vu_ext *e;

	if (!limit || !is_redirect(h->status))
		return;
	loc = http_head_find(h, "location");
	if (!loc || !loc->value_len)
		return;
	e = ext_get(v);
	if (e->hops >= limit) {
		e->err = ERR_REDIRECT_LIMIT;
		return;
	}
	if (e->active) {
		base = e->loc;
	} else {
		base.tls = rq->tls;
		snprintf(base.host, sizeof(base.host), "%s", rq->url.host);
		snprintf(base.port, sizeof(base.port), "%s", rq->url.port);
		snprintf(base.authority, sizeof(base.authority), "%s", rq->url.authority);
	}
	wire_target(v->x.wire, v->x.wire_len, &bt, &bn);
	if (http_url_resolve(&base, bt, bn, loc->value, loc->value_len, &e->next_loc, &e->next) < 0) {
		e->err = ERR_REDIRECT_LOCATION;
		return;
	}
	/* Go's rules, k6's: 301, 302 and 303 go on as GET without the body
	 * (GET and HEAD stay as they are); 307 and 308 keep method and body. */
	if (h->status <= 303 && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		e->get = 1;
	e->pending = 1;
}

/* The jar's cookie name for the final response's URL. */
static int jar_cookie(vu *v, const char *name, const char **val, size_t *len)
{
	cookie_jar *jar = jar_of(v);
	cookie_url u;

	if (!jar)
		return 0;
	exchange_url(v, &u);
	return cookie_jar_find(jar, name, &u, clock_mono_ns(), val, len);
}

/* Extraction and checks that need only the head: status, headers and
 * cookies. A redirect that is followed gets none: they judge the final
 * response. */
static void on_head(void *p, const http_head *h)
{
	vu *v = p;
	const run_request *rq = v->req;
	uint32_t i;

	if (v->w->ctx->cfg->http_debug) {
		http_debug_vars dv = vu_debug_vars(v);

		http_debug_response(v->id, v->iter, &dv, h);
	}
	/* A parallel block's request (engine/batch.c) too: its VU's jar, its
	 * own redirects. */
	store_cookies(v, h);
	redirect_check(v, h);
	if (v->ext && v->ext->pending)
		return;
	if (!rq->nextracts && !rq->nchecks)
		return;

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
		} else if (e->kind == EXT_COOKIE) {
			const char *cv;
			size_t cn;

			if (jar_cookie(v, e->header, &cv, &cn))
				var_set(v, e->slot, cv, cn);
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
		} else if (c->kind == CHK_COOKIE_EQUALS) {
			const char *cv;
			size_t cn;

			ok = jar_cookie(v, c->header, &cv, &cn) && cn == strlen(c->text) && memcmp(cv, c->text, cn) == 0;
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
static int judge_body(vu *v)
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

/* Keeps the body for judge_body, in a buffer borrowed for this response. */
static void keep_body(void *p, const char *d, size_t n)
{
	vu *v = p;
	size_t room;

	/* A redirect's body is counted on the wire, never judged. */
	if (v->ext && v->ext->pending)
		return;
	if (!v->resp_body.data)
		buf_pool_get(&v->w->bodies, &v->resp_body);
	room = v->resp_body.max - v->resp_body.len;

	if (n > room) {
		n = room;
		v->resp_truncated = 1;
	}
	buf_append(&v->resp_body, d, n);
}

void vu_response_head(vu *v, const http_head *h)
{
	on_head(v, h);
}

void vu_response_body(vu *v, const char *d, size_t n)
{
	keep_body(v, d, n);
}

static void on_timer(ev_loop *loop, ev_timer *t)
{
	vu *v = container_of(t, vu, timer);

	if (v->state != VU_WAITING)
		return;
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
}

http_debug_vars vu_debug_vars(const vu *v)
{
	const run_scenario *sc = v->scn->sc;
	http_debug_vars dv = {v->vars, v->batch_sub ? v->owner->vars : NULL, sc->var_secret, sc->nvars};

	return dv;
}
