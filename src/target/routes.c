#include "target/routes.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/parse.h"
#include "target/content.h"
#include "target/dbsvc.h"
#include "target/faults.h"
#include "target/modules.h"
#include "target/respond.h"
#include "target/server.h"

const char *const route_names[R_COUNT] = {
	[R_HEALTH] = "GET /health",
	[R_JOBS_LIST] = "GET /jobs",
	[R_JOBS_GET] = "GET /jobs/{id}",
	[R_JOBS_APPLY] = "POST /jobs/{id}/apply",
	[R_PRODUCTS_LIST] = "GET /products",
	[R_PRODUCTS_GET] = "GET /products/{id}",
	[R_CART] = "POST /cart",
	[R_ORDERS] = "POST /orders",
	[R_NOTIF_LIST] = "GET /notifications",
	[R_NOTIF_READ] = "POST /notifications/{id}/read",
	[R_LOGIN] = "POST /auth/login",
	[R_PROFILE_ME] = "GET /profile/me",
	[R_PROFILE_GET] = "GET /profile/{id}",
	[R_PROFILE_PUT] = "PUT /profile/{id}",
	[R_F_DELAY] = "fault/delay",
	[R_F_STATUS] = "fault/status",
	[R_F_RESET] = "fault/reset",
	[R_F_CLOSE] = "fault/close",
	[R_F_MALFORMED] = "fault/malformed",
	[R_F_CHUNKED] = "fault/chunked",
	[R_F_BYTES] = "fault/bytes",
	[R_F_SLOW_BODY] = "fault/slow-body",
	[R_F_HANG] = "fault/hang",
	[R_F_HEADERS] = "fault/headers",
	[R_F_STALL] = "fault/stall",
	[R_F_RANDOM] = "fault/random",
	[R_STATS] = "GET /__stats",
	[R_STATS_RESET] = "POST /__stats/reset",
	[R_UNMATCHED] = "unmatched",
	[R_INVALID] = "invalid",
};

/* Allowed methods, as a mask of 1 << TM_*. */
#define M(x) (1u << (x))
#define M_GET (M(TM_GET) | M(TM_HEAD))

static const struct {
	int module;
	int cost;
} route_db[R_COUNT] = {
	[R_JOBS_LIST] = {DB_JOBS, 1},          [R_JOBS_GET] = {DB_JOBS, 1},
	[R_JOBS_APPLY] = {DB_JOBS, 1},         [R_PRODUCTS_LIST] = {DB_ECOMMERCE, 1},
	[R_PRODUCTS_GET] = {DB_ECOMMERCE, 1},  [R_CART] = {DB_ECOMMERCE, 2},
	[R_ORDERS] = {DB_ECOMMERCE, 2},        [R_NOTIF_LIST] = {DB_NOTIFICATIONS, 1},
	[R_NOTIF_READ] = {DB_NOTIFICATIONS, 1}, [R_LOGIN] = {DB_PROFILE, 1},
	[R_PROFILE_ME] = {DB_PROFILE, 1},      [R_PROFILE_GET] = {DB_PROFILE, 1},
	[R_PROFILE_PUT] = {DB_PROFILE, 1},
};

static int is_module_route(int r)
{
	return r >= R_JOBS_LIST && r <= R_PROFILE_PUT;
}

/* ---- tokens -------------------------------------------------------------- */

#define TOKEN_SECRET 0x73747261696e2121ull

/* A token is hex(user) "." hex(mac): deterministic for a user, checkable
 * without state, and no secret worth protecting (it is a demo). */
void route_token_make(const char *u, size_t n, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n && o + 2 < outsz; i++) {
		out[o++] = hex[(unsigned char)u[i] >> 4];
		out[o++] = hex[(unsigned char)u[i] & 15];
	}
	snprintf(out + o, outsz - o, ".%016llx", (unsigned long long)content_hash(u, n, TOKEN_SECRET));
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Checks "Authorization: Bearer TOKEN"; on success the user goes to r->str. */
static int token_check(tgt_req *r, const http_head *h)
{
	const http_header *a = http_head_find(h, "authorization");
	const char *t, *dot;
	size_t n, ul, i;
	char mac[24];

	if (!a || a->value_len < 8 || !http_token_eq(a->value, 7, "bearer "))
		return -1;
	t = a->value + 7;
	n = a->value_len - 7;
	dot = memchr(t, '.', n);
	if (!dot || (size_t)(dot - t) % 2 || (size_t)(dot - t) / 2 > MAX_STR || dot == t)
		return -1;
	ul = (size_t)(dot - t) / 2;
	for (i = 0; i < ul; i++) {
		int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		r->str[i] = (char)(hi << 4 | lo);
	}
	r->str_len = ul;
	snprintf(mac, sizeof(mac), ".%016llx", (unsigned long long)content_hash(r->str, ul, TOKEN_SECRET));
	if ((size_t)(t + n - dot) != strlen(mac) || memcmp(dot, mac, strlen(mac)) != 0)
		return -1;
	r->auth = 1;
	return 0;
}

/* ---- query strings ------------------------------------------------------- */

int route_query_get(const char *q, size_t qlen, const char *key, const char **val, size_t *vlen)
{
	size_t kl = strlen(key), i = 0;

	while (i < qlen) {
		size_t s = i, e;
		const char *amp = memchr(q + i, '&', qlen - i);

		e = amp ? (size_t)(amp - q) : qlen;
		if (e - s >= kl && memcmp(q + s, key, kl) == 0 && (e - s == kl || q[s + kl] == '=')) {
			*val = e - s == kl ? q + e : q + s + kl + 1;
			*vlen = e - s == kl ? 0 : e - s - kl - 1;
			return 1;
		}
		i = e + 1;
	}
	return 0;
}

int route_query_u64(const char *q, size_t qlen, const char *key, uint64_t min, uint64_t max, uint64_t def,
	      uint64_t *out)
{
	const char *v;
	size_t n;

	if (!route_query_get(q, qlen, key, &v, &n)) {
		*out = def;
		return 0;
	}
	return parse_u64n(v, n, min, max, out);
}

/* Percent-decodes (and '+' to space) into out. Returns the length, or -1
 * if it does not fit or is malformed. */
static int url_decode(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1] | 0x20);
			lo = hexval(s[i + 2] | 0x20);
			if (hi < 0 || lo < 0)
				return -1;
			ch = hi << 4 | lo;
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (o + 1 >= outsz)
			return -1;
		out[o++] = (char)ch;
	}
	out[o] = '\0';
	return (int)o;
}

/* ---- matching ------------------------------------------------------------ */

#define MAX_SEG 4

typedef struct seg {
	const char *p;
	size_t n;
} seg;

static int seg_is(const seg *s, const char *lit)
{
	return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

static void fail(tgt_req *r, int status, const char *msg)
{
	if (!r->err_status) {
		r->err_status = status;
		r->err_msg = msg;
	}
}

/* Parses an {id} segment: non-numeric is 400, outside 1..max is 404. */
static void id_of(tgt_req *r, const seg *s, uint64_t max, const char *missing)
{
	uint64_t id;

	if (parse_u64n(s->p, s->n, 0, UINT64_MAX, &id) < 0) {
		fail(r, 400, "invalid id: expected a positive integer");
		return;
	}
	if (id < 1 || id > max) {
		fail(r, 404, missing);
		return;
	}
	r->id = id;
}

static void set_route(tgt_req *r, int route, unsigned methods, const char *allow)
{
	r->route = route;
	if (!(methods & (1u << r->method))) {
		r->route = R_UNMATCHED;
		r->allow = allow;
		fail(r, 405, "method not allowed");
	}
}

static void params_jobs_list(tgt_req *r, const char *q, size_t qn)
{
	const char *v;
	size_t vn;
	int n;

	if (route_query_u64(q, qn, "page", 1, JOBS_PAGES, 1, &r->n[0]) < 0)
		fail(r, 400, "page must be an integer from 1 to 1000");
	if (route_query_get(q, qn, "q", &v, &vn)) {
		n = url_decode(v, vn, r->str, MAX_STR + 1);
		if (n < 0)
			fail(r, 400, "q must be at most 64 bytes of valid percent-encoding");
		else
			r->str_len = (size_t)n;
	}
}

static void params_products_list(tgt_req *r, const char *q, size_t qn)
{
	const char *v;
	size_t vn;
	int i;

	if (route_query_u64(q, qn, "page", 1, PRODUCTS_MAX / PAGE_SIZE, 1, &r->n[0]) < 0)
		fail(r, 400, "page must be an integer from 1 to 2500");
	r->n[1] = 0; /* 0: all content_categories, else index + 1; NCATEGORIES + 1: unknown */
	if (route_query_get(q, qn, "category", &v, &vn) && vn) {
		r->n[1] = NCATEGORIES + 1;
		for (i = 0; i < NCATEGORIES; i++)
			if (strlen(content_categories[i]) == vn && memcmp(content_categories[i], v, vn) == 0)
				r->n[1] = (uint64_t)i + 1;
		if (url_decode(v, vn, r->str, MAX_STR + 1) < 0)
			fail(r, 400, "category must be at most 64 bytes of valid percent-encoding");
		else
			r->str_len = strlen(r->str);
	}
}

void route_head(tgt_conn *c, const http_head *h)
{
	tgt_req *r = &c->req;
	const char *t = h->target, *q, *qm;
	size_t tn = h->target_len, pn, qn;
	seg s[MAX_SEG + 1];
	int ns = 0;
	size_t i;

	r->route = R_UNMATCHED;
	/* Absolute form (a proxy-style request line): drop scheme and authority. */
	if (tn > 7 && (http_token_eq(t, 7, "http://") || (tn > 8 && http_token_eq(t, 8, "https://")))) {
		const char *p = memchr(t + 8, '/', tn - 8);

		if (!p) {
			t = "/";
			tn = 1;
		} else {
			tn -= (size_t)(p - t);
			t = p;
		}
	}
	if (!tn || t[0] != '/') {
		/* Not a request this server could ever route: end the connection. */
		r->close = 1;
		fail(r, 400, "request target must be an absolute path");
		return;
	}
	qm = memchr(t, '?', tn);
	pn = qm ? (size_t)(qm - t) : tn;
	q = qm ? qm + 1 : t + tn;
	qn = qm ? tn - pn - 1 : 0;
	for (i = 1; i < pn && ns <= MAX_SEG;) {
		const char *sl = memchr(t + i, '/', pn - i);
		size_t e = sl ? (size_t)(sl - t) : pn;

		s[ns].p = t + i;
		s[ns].n = e - i;
		ns++;
		i = e + 1;
	}
	/* One trailing slash is forgiven: "/jobs/" is "/jobs". */
	if (ns && s[ns - 1].n == 0)
		ns--;
	if (ns == 0 || ns > MAX_SEG) {
		fail(r, 404, "not found");
		return;
	}
	if (seg_is(&s[0], "health") && ns == 1) {
		set_route(r, R_HEALTH, M_GET, "GET, HEAD");
	} else if (seg_is(&s[0], "jobs")) {
		if (ns == 1) {
			set_route(r, R_JOBS_LIST, M_GET, "GET, HEAD");
			params_jobs_list(r, q, qn);
		} else if (ns == 2) {
			set_route(r, R_JOBS_GET, M_GET, "GET, HEAD");
			id_of(r, &s[1], JOBS_MAX, "job not found");
		} else if (ns == 3 && seg_is(&s[2], "apply")) {
			set_route(r, R_JOBS_APPLY, M(TM_POST), "POST");
			id_of(r, &s[1], JOBS_MAX, "job not found");
			c->want_body = 1;
		}
	} else if (seg_is(&s[0], "products")) {
		if (ns == 1) {
			set_route(r, R_PRODUCTS_LIST, M_GET, "GET, HEAD");
			params_products_list(r, q, qn);
		} else if (ns == 2) {
			set_route(r, R_PRODUCTS_GET, M_GET, "GET, HEAD");
			id_of(r, &s[1], PRODUCTS_MAX, "product not found");
		}
	} else if (seg_is(&s[0], "cart") && ns == 1) {
		set_route(r, R_CART, M(TM_POST), "POST");
		c->want_body = 1;
	} else if (seg_is(&s[0], "orders") && ns == 1) {
		set_route(r, R_ORDERS, M(TM_POST), "POST");
		c->want_body = 1;
	} else if (seg_is(&s[0], "notifications")) {
		if (ns == 1) {
			const char *v;
			size_t vn;

			set_route(r, R_NOTIF_LIST, M_GET, "GET, HEAD");
			if (!route_query_get(q, qn, "user", &v, &vn))
				fail(r, 400, "user is required");
			else if (parse_u64n(v, vn, 0, UINT64_MAX, &r->n[0]) < 0)
				fail(r, 400, "user must be a positive integer");
			else if (r->n[0] < 1 || r->n[0] > USERS_MAX)
				fail(r, 404, "user not found");
		} else if (ns == 3 && seg_is(&s[2], "read")) {
			set_route(r, R_NOTIF_READ, M(TM_POST), "POST");
			id_of(r, &s[1], NOTIFS_MAX, "notification not found");
		}
	} else if (seg_is(&s[0], "auth") && ns == 2 && seg_is(&s[1], "login")) {
		set_route(r, R_LOGIN, M(TM_POST), "POST");
		c->want_body = 1;
	} else if (seg_is(&s[0], "profile") && ns == 2) {
		if (seg_is(&s[1], "me")) {
			set_route(r, R_PROFILE_ME, M_GET, "GET, HEAD");
		} else if (r->method == TM_PUT) {
			set_route(r, R_PROFILE_PUT, M(TM_PUT), "GET, HEAD, PUT");
			id_of(r, &s[1], USERS_MAX, "profile not found");
			c->want_body = 1;
		} else {
			set_route(r, R_PROFILE_GET, M_GET, "GET, HEAD, PUT");
			id_of(r, &s[1], USERS_MAX, "profile not found");
		}
		if ((r->route == R_PROFILE_ME || r->route == R_PROFILE_PUT) && token_check(r, h) < 0)
			fail(r, 401, "a valid Bearer token is required (POST /auth/login)");
	} else if (seg_is(&s[0], "fault") && ns == 2) {
		fault_parse(r, s[1].p, s[1].n, q, qn);
	} else if (seg_is(&s[0], "__stats")) {
		if (ns == 1)
			set_route(r, R_STATS, M_GET, "GET, HEAD");
		else if (ns == 2 && seg_is(&s[1], "reset"))
			set_route(r, R_STATS_RESET, M(TM_POST), "POST");
	}
	if (r->route == R_UNMATCHED)
		fail(r, r->err_status ? r->err_status : 404, "not found");
	if (r->err_status)
		c->want_body = 0;
}

/* ---- dispatch ------------------------------------------------------------ */

static uint64_t cache_key(const tgt_req *r)
{
	switch (r->route) {
	case R_JOBS_LIST:
		return content_mix(content_hash(r->str, r->str_len, R_JOBS_LIST) ^ r->n[0]) | 1;
	case R_PRODUCTS_LIST:
		return content_mix(((uint64_t)R_PRODUCTS_LIST << 40) ^ (r->n[1] << 20) ^ r->n[0]) | 1;
	case R_JOBS_GET:
	case R_PRODUCTS_GET:
	case R_NOTIF_LIST:
		return content_mix(((uint64_t)r->route << 40) ^ r->id ^ r->n[0]) | 1;
	case R_PROFILE_GET:
	case R_PROFILE_ME:
		/* /profile/me and /profile/{id} read the same row. */
		return content_mix(((uint64_t)R_PROFILE_GET << 40) ^ r->id) | 1;
	default:
		return 0;
	}
}

/* ,"autoscale":{...} for an autoscaled module. The view is 8 KiB on the
 * stack rather than per worker: /__stats is not the hot path, and the copy
 * keeps the log mutex held only for a memcpy's time. */
static void scale_render(dbsvc *db, int m, buf *b)
{
	dbsvc_scale_view v;
	uint32_t k;

	if (dbsvc_scale_read(db, m, &v) < 0)
		return;
	buf_printf(b, ",\"autoscale\":{\"min\":%u,\"max\":%u,\"size\":%u,\"changes_total\":%llu,\"changes\":[",
		   v.min, v.max, v.size, (unsigned long long)v.total);
	for (k = 0; k < v.n; k++) {
		const as_change *x = &v.change[k];

		buf_printf(b, "%s{\"at_ms\":%llu,\"decided_ms\":%llu,\"from\":%u,\"to\":%u,\"why\":\"%s\"}",
			   k ? "," : "", (unsigned long long)(x->at_ns / NS_PER_MS),
			   (unsigned long long)(x->decided_ns / NS_PER_MS), x->from, x->to, x->up ? "up" : "down");
	}
	buf_appends(b, "]}");
}

static void stats_answer(tgt_conn *c)
{
	buf *b = &c->w->json;
	dbsvc_snapshot s;
	int i;

	b->len = 0;
	if (c->req.route == R_STATS_RESET) {
		stats_reset(c->w->srv->stats);
		buf_appends(b, "{\"reset\":true}\n");
		tgt_respond(c, 200, NULL, NULL, 0, b->data, b->len);
		return;
	}
	stats_render(c->w->srv->stats, b);
	/* Splice the database's live state in before the final brace. */
	b->len--;
	dbsvc_snapshot_read(c->w->srv->db, &s);
	buf_printf(b, ",\"db\":{\"slots\":%u,\"active\":%u,\"now_ms\":%llu,\"modules\":{",
		   c->w->srv->cfg.db.slots, s.active,
		   (unsigned long long)(dbsvc_uptime_ns(c->w->srv->db) / NS_PER_MS));
	for (i = 0; i < DB_MODULES; i++) {
		buf_printf(b, "%s\"%s\":{\"pool\":%u,\"busy\":%u,\"waiting\":%u,\"queries\":%llu,"
			      "\"cache_hits\":%llu",
			   i ? "," : "", db_module_names[i], s.pool[i], s.busy[i], s.waiting[i],
			   (unsigned long long)s.queries[i], (unsigned long long)s.cache_hits[i]);
		scale_render(c->w->srv->db, i, b);
		buf_appends(b, "}");
	}
	buf_appends(b, "}}}\n");
	tgt_respond(c, 200, NULL, NULL, 0, b->data, b->len);
}

void route_dispatch(tgt_conn *c)
{
	tgt_req *r = &c->req;

	if (r->err_status) {
		char extra[96];
		size_t n = 0;

		if (r->err_status == 405)
			n = (size_t)snprintf(extra, sizeof(extra), "Allow: %s\r\n", r->allow);
		else if (r->err_status == 401)
			n = (size_t)snprintf(extra, sizeof(extra), "WWW-Authenticate: Bearer\r\n");
		if (n) {
			buf *b = &c->w->json;

			b->len = 0;
			buf_printf(b, "{\"error\":\"%s\",\"status\":%d}\n", r->err_msg, r->err_status);
			tgt_respond(c, r->err_status, NULL, extra, n, b->data, b->len);
		} else {
			tgt_error(c, r->err_status, r->err_msg);
		}
		return;
	}
	if (r->route == R_HEALTH) {
		static const char ok[] = "{\"status\":\"ok\"}\n";

		tgt_respond(c, 200, NULL, NULL, 0, ok, sizeof(ok) - 1);
		return;
	}
	if (r->route == R_STATS || r->route == R_STATS_RESET) {
		stats_answer(c);
		return;
	}
	if (!is_module_route(r->route)) {
		fault_dispatch(c);
		return;
	}
	if (module_body_check(c) < 0)
		return;
	c->q.module = (uint16_t)route_db[r->route].module;
	c->q.cost = (uint16_t)route_db[r->route].cost;
	c->q.cache_key = cache_key(r);
	c->q.invalidate_key = 0;
	if (r->route == R_PROFILE_PUT) {
		tgt_req tmp = *r;

		tmp.route = R_PROFILE_GET;
		c->q.invalidate_key = cache_key(&tmp);
	}
	if (r->route == R_PROFILE_ME) {
		r->id = content_user_id(r->str, r->str_len);
		c->q.cache_key = cache_key(r);
	}
	c->state = CS_WAIT;
	c->query_pending = 1;
	dbsvc_submit(c->w->srv->db, &c->q);
}
