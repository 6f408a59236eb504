#include "engine/vu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/http_debug.h"
#include "engine/record.h"
#include "engine/worker_impl.h"
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
	buf_free(&v->wbuf);
	buf_pool_put(&v->w->bodies, &v->resp_body);
	for (i = 0; v->vars && i < v->scn->sc->nvars; i++)
		buf_free(&v->vars[i]);
	free(v->vars);
	v->vars = NULL;
	free(v->rows);
	v->rows = NULL;
}

void vu_abort(vu *v)
{
	ev_timer_stop(v->w->loop, &v->timer);
	v->pending_start = 0;
	if (v->state == VU_REQUEST && v->x.t_sent)
		record_http_abandoned(v->w, v);
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
static int build_request(vu *v, int *close_after)
{
	worker *w = v->w;
	tmpl_ctx c;

	c.vu = v->id;
	c.iter = v->iter ? v->iter - 1 : 0;
	c.module = v->scn->sc->name;
	c.rng = &v->rng;
	c.vars = v->vars;
	c.data_rows = v->rows;
	return run_request_expand(v->req, &c, &w->xbuf, w->fields, &w->bbuf, &v->wbuf, close_after);
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
	if (tg->resolve_error) {
		request_refuse(v, tg->resolve_error);
		return;
	}
	if (rq->dynamic) {
		rc = build_request(v, &close_after);
		if (rc < 0) {
			/* Nothing was sent: a value that would have been framing (a
			 * line break from a CSV field or an extracted value in a
			 * header) fails this request, counted, as does a request past
			 * the size limit. */
			request_refuse(v, rc == TMPL_EVALUE ? ERR_REQUEST_VALUE : ERR_REQUEST_TOO_LARGE);
			return;
		}
		x->wire = v->wbuf.data;
		x->wire_len = v->wbuf.len;
	} else {
		x->wire = rq->wire.data;
		x->wire_len = rq->wire.len;
	}
	v->async = 1;
	x->host = rq->url.host;
	x->endpoint = tg->endpoint;
	x->close_after = (uint8_t)close_after;
	x->tls = (uint8_t)rq->tls;
	x->head_method = (uint8_t)rq->head_method;
	x->want_body = (uint8_t)rq->needs_body;
	x->timeout_ns = rq->timeout_ns ? rq->timeout_ns : cfg->timeout_ns;
	if (cfg->http_debug) {
		x->want_body |= cfg->http_debug == 2;
		http_debug_request(v->id, v->iter, x->wire, x->wire_len, cfg->http_debug == 2);
	}
	rc = http_conn_send(v->conn, x);
	if (rc < 0)
		request_done(v, -rc, 1);
}

/* A written attempt failed on a stale kept-alive connection and goes out
 * again: it counts as its own failed request, without checks. */
static void on_attempt(void *p, int err)
{
	vu *v = p;

	record_http(v->w, v, 0, err, 1);
}

static int judge_body(vu *v);

static void on_done(void *p, int err)
{
	vu *v = p;

	if (v->w->ctx->cfg->http_debug == 2 && !err)
		http_debug_body(v->id, v->iter, v->resp_body.data ? v->resp_body.data : "", v->resp_body.len,
				v->resp_truncated);
	if (!err && v->req->needs_body)
		err = judge_body(v);
	request_done(v, err, 0);
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
static void on_head(void *p, const http_head *h)
{
	vu *v = p;
	const run_request *rq = v->req;
	uint32_t i;

	if (v->w->ctx->cfg->http_debug)
		http_debug_response(v->id, v->iter, h);
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

	if (!v->resp_body.data)
		buf_pool_get(&v->w->bodies, &v->resp_body);
	room = v->resp_body.max - v->resp_body.len;

	if (n > room) {
		n = room;
		v->resp_truncated = 1;
	}
	buf_append(&v->resp_body, d, n);
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
