#include "target/routes.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "core/parse.h"
#include "target/dbsvc.h"
#include "target/faults.h"
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

/* Sizes of the simulated catalogues: ids beyond them are 404. */
#define JOBS_MAX 100000
#define PRODUCTS_MAX 50000
#define USERS_MAX 1000000
#define NOTIFS_MAX 100000000ull
#define PAGE_SIZE 20
#define JOBS_PAGES 1000
#define NCATEGORIES 8
#define MAX_STR 64

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

/* ---- deterministic content ---------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint64_t hash_bytes(const char *p, size_t n, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return mix(h);
}

/* A tiny generator seeded from an id, so content is a pure function of it. */
typedef struct gen {
	uint64_t s;
} gen;

static uint64_t gen_next(gen *g)
{
	g->s = mix(g->s);
	return g->s;
}

static uint64_t gen_range(gen *g, uint64_t lo, uint64_t hi)
{
	return lo + gen_next(g) % (hi - lo + 1);
}

#define PICK(g, arr) (arr[gen_next(g) % (sizeof(arr) / sizeof(arr[0]))])

static const char *const levels[] = {"Junior", "Mid-level", "Senior", "Staff", "Principal", "Lead"};
static const char *const roles[] = {
	"Backend Engineer", "Frontend Engineer", "Site Reliability Engineer", "Data Engineer",
	"Product Designer", "QA Engineer", "Platform Engineer", "Mobile Developer",
	"Security Engineer", "Engineering Manager", "Data Scientist", "DevOps Engineer"};
static const char *const companies[] = {
	"Acme Robotics", "Northwind Labs", "Globex", "Initech", "Umbrella Health", "Stark Logistics",
	"Wayne Analytics", "Hooli", "Vandelay Imports", "Soylent Foods", "Cyberdyne Systems",
	"Tyrell Bio"};
static const char *const cities[] = {
	"Berlin, DE", "Lisbon, PT", "Amsterdam, NL", "Warsaw, PL", "Madrid, ES", "Paris, FR",
	"Dublin, IE", "Stockholm, SE", "Prague, CZ", "Vienna, AT", "Milan, IT", "Remote, EU"};
static const char *const tags[] = {"c", "go", "rust", "python", "java", "kotlin", "typescript",
				   "postgres", "redis", "kafka", "kubernetes", "terraform",
				   "aws", "gcp", "react", "grpc", "graphql", "linux"};
static const char *const sentences[] = {
	"You will design, build and operate services that handle millions of requests a day.",
	"Our team owns the public API and the data pipelines behind it, end to end.",
	"We value small, well-tested changes, shipped continuously behind feature flags.",
	"You will work closely with product and design to shape what we build next.",
	"On-call is shared fairly across the team and backed by good runbooks and alerting.",
	"We invest in observability: metrics, traces and logs are part of every feature.",
	"Expect to mentor others, review code thoughtfully and write clear design documents.",
	"The role includes improving the performance and reliability of our core services.",
	"We offer flexible hours, a learning budget and four weeks of paid leave.",
	"Our stack is mostly open source, and we contribute fixes upstream when we can.",
	"You will help migrate legacy components to a simpler, event-driven architecture.",
	"We measure success by customer outcomes, not by lines of code or hours online.",
	"Load testing is part of our release process, so regressions are caught early.",
	"You care about security, privacy and accessibility from the first commit.",
	"The team is distributed across three time zones with a few hours of overlap.",
	"We pair often and rotate responsibilities so knowledge never sits in one head."};
static const char *const adjectives[] = {"Compact", "Wireless", "Ergonomic", "Vintage", "Smart",
					 "Organic", "Portable", "Premium", "Classic", "Modular"};
static const char *const nouns[] = {"Headphones", "Desk Lamp", "Backpack", "Coffee Grinder",
				    "Running Shoes", "Board Game", "Blender", "Notebook",
				    "Water Bottle", "Keyboard", "Tent", "Jacket"};
static const char *const categories[NCATEGORIES] = {"books", "electronics", "home", "garden",
						    "toys", "sports", "fashion", "food"};
static const char *const colors[] = {"black", "white", "red", "blue", "green", "grey", "oak"};
static const char *const first_names[] = {"Ana", "Ben", "Chloe", "David", "Elif", "Farid",
					  "Greta", "Hugo", "Ines", "Jonas", "Kasia", "Luca"};
static const char *const last_names[] = {"Silva", "Novak", "Meyer", "Rossi", "Dubois", "Kowalski",
					 "Jansen", "Garcia", "Nielsen", "Horvat", "Byrne", "Costa"};
static const char *const notif_types[] = {"message", "job_match", "order_shipped", "mention",
					  "follow", "price_drop", "security"};
static const char *const notif_titles[] = {
	"You have a new message", "A new job matches your profile", "Your order has shipped",
	"Someone mentioned you in a comment", "You have a new follower",
	"An item on your wishlist is cheaper", "New sign-in to your account"};

/* Appends s as a JSON string literal. */
static void jstr(buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_append(b, "\"", 1);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			char e[2] = {'\\', (char)ch};

			buf_append(b, e, 2);
		} else if (ch < 0x20 || ch == 0x7f) {
			char e[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};

			buf_append(b, e, 6);
		} else {
			buf_append(b, &s[i], 1);
		}
	}
	buf_append(b, "\"", 1);
}

static void jstrz(buf *b, const char *s)
{
	jstr(b, s, strlen(s));
}

static void date_of(gen *g, char *out, size_t n)
{
	snprintf(out, n, "2025-%02u-%02u", (unsigned)gen_range(g, 1, 12), (unsigned)gen_range(g, 1, 28));
}

static void job_summary(buf *b, uint64_t id)
{
	gen g = {mix(id ^ 0x6a6f6273ull)};
	const char *lvl = PICK(&g, levels), *role = PICK(&g, roles);
	const char *co = PICK(&g, companies), *city = PICK(&g, cities);
	uint64_t smin = gen_range(&g, 35, 120) * 1000;

	buf_printf(b, "{\"id\":%llu,\"title\":\"%s %s\",\"company\":\"%s\",\"location\":\"%s\","
		      "\"salary_min\":%llu",
		   (unsigned long long)id, lvl, role, co, city, (unsigned long long)smin);
}

static void job_detail(buf *b, uint64_t id)
{
	gen g;
	char date[16];
	uint64_t i, n;

	job_summary(b, id);
	g.s = mix(id ^ 0x64657461ull);
	date_of(&g, date, sizeof(date));
	buf_printf(b, ",\"salary_max\":%llu,\"currency\":\"EUR\",\"remote\":%s,"
		      "\"employment\":\"%s\",\"posted\":\"%s\",\"applicants\":%llu,\"tags\":[",
		   (unsigned long long)gen_range(&g, 130, 200) * 1000,
		   gen_next(&g) & 1 ? "true" : "false", gen_next(&g) % 5 ? "full-time" : "contract",
		   date, (unsigned long long)gen_range(&g, 0, 400));
	n = gen_range(&g, 2, 6);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		jstrz(b, PICK(&g, tags));
	}
	buf_appends(b, "],\"description\":\"");
	n = gen_range(&g, 4, 14);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? " " : "");
		buf_appends(b, PICK(&g, sentences));
	}
	buf_appends(b, "\",\"requirements\":[");
	n = gen_range(&g, 3, 6);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		jstrz(b, PICK(&g, sentences));
	}
	buf_appends(b, "]}");
}

static void product_summary(buf *b, uint64_t id)
{
	gen g = {mix(id ^ 0x70726f64ull)};
	const char *adj = PICK(&g, adjectives), *noun = PICK(&g, nouns);
	uint64_t cents = gen_range(&g, 299, 49999);

	buf_printf(b, "{\"id\":%llu,\"sku\":\"SKU-%06llu\",\"name\":\"%s %s\",\"category\":\"%s\","
		      "\"price\":%llu.%02llu",
		   (unsigned long long)id, (unsigned long long)id, adj, noun,
		   categories[(id - 1) % NCATEGORIES], (unsigned long long)(cents / 100),
		   (unsigned long long)(cents % 100));
}

static uint64_t product_cents(uint64_t id)
{
	gen g = {mix(id ^ 0x70726f64ull)};

	gen_next(&g);
	gen_next(&g);
	return gen_range(&g, 299, 49999);
}

static void product_detail(buf *b, uint64_t id)
{
	gen g = {mix(id ^ 0x64657461ull)};
	uint64_t i, n;

	product_summary(b, id);
	buf_printf(b, ",\"currency\":\"EUR\",\"stock\":%llu,\"rating\":%llu.%llu,\"reviews\":%llu,"
		      "\"attributes\":{\"color\":\"%s\",\"weight_g\":%llu,\"warranty_months\":%llu},"
		      "\"description\":\"",
		   (unsigned long long)gen_range(&g, 0, 500), (unsigned long long)gen_range(&g, 2, 4),
		   (unsigned long long)gen_range(&g, 0, 9), (unsigned long long)gen_range(&g, 0, 5000),
		   PICK(&g, colors), (unsigned long long)gen_range(&g, 50, 5000),
		   (unsigned long long)gen_range(&g, 6, 36));
	n = gen_range(&g, 2, 8);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? " " : "");
		buf_appends(b, PICK(&g, sentences));
	}
	buf_appends(b, "\"}");
}

/* "user123" is user 123; other names hash into the id space. */
static uint64_t user_id_of(const char *u, size_t n)
{
	uint64_t id;

	if (n > 4 && memcmp(u, "user", 4) == 0 && parse_u64n(u + 4, n - 4, 1, USERS_MAX, &id) == 0)
		return id;
	return hash_bytes(u, n, 0x75736572ull) % USERS_MAX + 1;
}

static void profile_json(buf *b, uint64_t id, const char *user, size_t user_len,
			 const char *const *override)
{
	gen g = {mix(id ^ 0x70726f66ull)};
	const char *fn = PICK(&g, first_names), *ln = PICK(&g, last_names);
	char name[64], date[16];
	uint64_t i, n;

	buf_printf(b, "{\"id\":%llu,\"username\":", (unsigned long long)id);
	if (user) {
		jstr(b, user, user_len);
	} else {
		char u[32];

		snprintf(u, sizeof(u), "user%llu", (unsigned long long)id);
		jstrz(b, u);
	}
	snprintf(name, sizeof(name), "%s %s", fn, ln);
	buf_appends(b, ",\"name\":");
	jstrz(b, override && override[0] ? override[0] : name);
	buf_printf(b, ",\"email\":\"user%llu@example.com\",\"location\":", (unsigned long long)id);
	jstrz(b, override && override[2] ? override[2] : PICK(&g, cities));
	date_of(&g, date, sizeof(date));
	buf_printf(b, ",\"joined\":\"%s\",\"followers\":%llu,\"following\":%llu,\"bio\":", date,
		   (unsigned long long)gen_range(&g, 0, 20000), (unsigned long long)gen_range(&g, 0, 800));
	if (override && override[1]) {
		jstrz(b, override[1]);
	} else {
		buf_appends(b, "\"");
		n = gen_range(&g, 2, 6);
		for (i = 0; i < n; i++) {
			buf_appends(b, i ? " " : "");
			buf_appends(b, PICK(&g, sentences));
		}
		buf_appends(b, "\"");
	}
	buf_appends(b, ",\"skills\":[");
	n = gen_range(&g, 3, 8);
	for (i = 0; i < n; i++) {
		buf_appends(b, i ? "," : "");
		jstrz(b, PICK(&g, tags));
	}
	buf_printf(b, "],\"preferences\":{\"newsletter\":%s,\"language\":\"en\",\"theme\":\"%s\"},"
		      "\"links\":{\"website\":\"https://example.com/u/%llu\",\"avatar\":"
		      "\"https://cdn.example.com/avatars/%llu.png\"}}",
		   gen_next(&g) & 1 ? "true" : "false", gen_next(&g) & 1 ? "dark" : "light",
		   (unsigned long long)id, (unsigned long long)id);
}

static void notifications_json(buf *b, uint64_t user)
{
	gen g = {mix(user ^ 0x6e6f7466ull)};
	uint64_t i, n = gen_range(&g, 10, 25), unread = 0;
	char date[16];

	buf_printf(b, "{\"user\":%llu,\"notifications\":[", (unsigned long long)user);
	for (i = 0; i < n; i++) {
		size_t k = (size_t)(gen_next(&g) % (sizeof(notif_types) / sizeof(notif_types[0])));
		int read = (gen_next(&g) % 3) != 0;

		unread += !read;
		date_of(&g, date, sizeof(date));
		buf_printf(b, "%s{\"id\":%llu,\"type\":\"%s\",\"title\":\"%s\",\"read\":%s,"
			      "\"created\":\"%sT%02u:%02u:00Z\",\"link\":\"/notifications/%llu\"}",
			   i ? "," : "", (unsigned long long)(user * 100 + i), notif_types[k],
			   notif_titles[k], read ? "true" : "false", date,
			   (unsigned)gen_range(&g, 0, 23), (unsigned)gen_range(&g, 0, 59),
			   (unsigned long long)(user * 100 + i));
	}
	buf_printf(b, "],\"unread\":%llu}", (unsigned long long)unread);
}

/* ---- tokens -------------------------------------------------------------- */

#define TOKEN_SECRET 0x73747261696e2121ull

/* A token is hex(user) "." hex(mac): deterministic for a user, checkable
 * without state, and no secret worth protecting (it is a demo). */
static void token_of(const char *u, size_t n, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n && o + 2 < outsz; i++) {
		out[o++] = hex[(unsigned char)u[i] >> 4];
		out[o++] = hex[(unsigned char)u[i] & 15];
	}
	snprintf(out + o, outsz - o, ".%016llx", (unsigned long long)hash_bytes(u, n, TOKEN_SECRET));
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
	snprintf(mac, sizeof(mac), ".%016llx", (unsigned long long)hash_bytes(r->str, ul, TOKEN_SECRET));
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
	r->n[1] = 0; /* 0: all categories, else index + 1; NCATEGORIES + 1: unknown */
	if (route_query_get(q, qn, "category", &v, &vn) && vn) {
		r->n[1] = NCATEGORIES + 1;
		for (i = 0; i < NCATEGORIES; i++)
			if (strlen(categories[i]) == vn && memcmp(categories[i], v, vn) == 0)
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

/* ---- bodies ------------------------------------------------------------- */

/* Parses the body as a JSON object. On failure answers 400 and returns NULL. */
static json_t *body_object(tgt_conn *c, int allow_empty)
{
	json_error_t err;
	json_t *j;
	char msg[200];

	if (!c->bodybuf.len && allow_empty)
		return json_object();
	j = json_loadb(c->bodybuf.data ? c->bodybuf.data : "", c->bodybuf.len, 0, &err);
	if (!j) {
		buf *b = &c->w->json;

		snprintf(msg, sizeof(msg), "invalid JSON: %s (line %d, column %d)", err.text, err.line,
			 err.column);
		b->len = 0;
		buf_appends(b, "{\"error\":");
		jstrz(b, msg);
		buf_appends(b, ",\"status\":400}\n");
		tgt_respond(c, 400, NULL, NULL, 0, b->data, b->len);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		tgt_error(c, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

/* Reads an integer field in [min, max]; answers 400 and returns -1 if it is
 * missing or wrong. */
static int field_int(tgt_conn *c, json_t *o, const char *name, json_int_t min, json_int_t max,
		     uint64_t *out)
{
	json_t *v = json_object_get(o, name);
	char m[96];

	if (!v) {
		snprintf(m, sizeof(m), "missing field: %s", name);
		tgt_error(c, 400, m);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(m, sizeof(m), "%s must be an integer from %lld to %lld", name,
			 (long long)min, (long long)max);
		tgt_error(c, 400, m);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* Reads a string field of 1..max bytes into dst (NUL-terminated). Returns
 * 1 if present, 0 if absent and optional, -1 after answering 400. */
static int field_str(tgt_conn *c, json_t *o, const char *name, size_t max, int required, char *dst,
		     size_t *len)
{
	json_t *v = json_object_get(o, name);
	char m[96];

	if (!v && !required)
		return 0;
	if (!v) {
		snprintf(m, sizeof(m), "missing field: %s", name);
		tgt_error(c, 400, m);
		return -1;
	}
	if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > max) {
		snprintf(m, sizeof(m), "%s must be a string of 1 to %zu bytes", name, max);
		tgt_error(c, 400, m);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v));
	dst[json_string_length(v)] = '\0';
	*len = json_string_length(v);
	return 1;
}

/* Validates a module request's body; stores what the answer needs in
 * c->req. Returns 0, or -1 after answering 400. */
static int check_body(tgt_conn *c)
{
	tgt_req *r = &c->req;
	json_t *o = NULL;
	int rc = -1;

	switch (r->route) {
	case R_JOBS_APPLY:
		o = body_object(c, 1);
		if (o)
			rc = 0;
		break;
	case R_CART:
		o = body_object(c, 0);
		if (o && field_int(c, o, "product_id", 1, PRODUCTS_MAX, &r->n[0]) == 0 &&
		    field_int(c, o, "quantity", 1, 99, &r->n[1]) == 0)
			rc = 0;
		break;
	case R_ORDERS: {
		json_t *items;

		o = body_object(c, 0);
		if (!o)
			break;
		items = json_object_get(o, "items");
		if (items) {
			size_t i;
			json_t *it;

			if (!json_is_array(items) || json_array_size(items) < 1 ||
			    json_array_size(items) > 50) {
				tgt_error(c, 400, "items must be an array of 1 to 50 items");
				break;
			}
			r->n[0] = json_array_size(items);
			r->n[1] = 0;
			json_array_foreach(items, i, it) {
				uint64_t pid, qty;

				if (!json_is_object(it)) {
					tgt_error(c, 400, "each item must be an object");
					goto out;
				}
				if (field_int(c, it, "product_id", 1, PRODUCTS_MAX, &pid) < 0 ||
				    field_int(c, it, "quantity", 1, 99, &qty) < 0)
					goto out;
				r->n[1] += product_cents(pid) * qty;
			}
			rc = 0;
		} else if (field_str(c, o, "cart_id", MAX_STR, 1, r->str, &r->str_len) > 0) {
			r->n[0] = 0;
			r->n[1] = hash_bytes(r->str, r->str_len, 1) % 50000 + 999;
			rc = 0;
		}
		break;
	}
	case R_LOGIN:
		o = body_object(c, 0);
		if (o && field_str(c, o, "user", MAX_STR, 1, r->str, &r->str_len) > 0) {
			char pw[MAX_STR + 1];
			size_t pl;

			if (field_str(c, o, "password", MAX_STR, 1, pw, &pl) > 0)
				rc = 0;
		}
		break;
	case R_PROFILE_PUT: {
		static const char *const fields[] = {"name", "bio", "location"};
		size_t i;

		o = body_object(c, 0);
		if (!o)
			break;
		/* The edit travels in the body buffer, re-read on completion;
		 * here it is only validated. */
		for (i = 0; i < 3; i++) {
			char tmp[201];
			size_t tl;

			if (field_str(c, o, fields[i], 200, 0, tmp, &tl) < 0)
				goto out;
		}
		rc = 0;
		break;
	}
	default:
		rc = 0;
	}
out:
	json_decref(o);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

static uint64_t cache_key(const tgt_req *r)
{
	switch (r->route) {
	case R_JOBS_LIST:
		return mix(hash_bytes(r->str, r->str_len, R_JOBS_LIST) ^ r->n[0]) | 1;
	case R_PRODUCTS_LIST:
		return mix(((uint64_t)R_PRODUCTS_LIST << 40) ^ (r->n[1] << 20) ^ r->n[0]) | 1;
	case R_JOBS_GET:
	case R_PRODUCTS_GET:
	case R_NOTIF_LIST:
		return mix(((uint64_t)r->route << 40) ^ r->id ^ r->n[0]) | 1;
	case R_PROFILE_GET:
	case R_PROFILE_ME:
		/* /profile/me and /profile/{id} read the same row. */
		return mix(((uint64_t)R_PROFILE_GET << 40) ^ r->id) | 1;
	default:
		return 0;
	}
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
	buf_printf(b, ",\"db\":{\"slots\":%u,\"active\":%u,\"modules\":{", c->w->srv->cfg.db.slots,
		   s.active);
	for (i = 0; i < DB_MODULES; i++)
		buf_printf(b, "%s\"%s\":{\"pool\":%u,\"busy\":%u,\"waiting\":%u,\"queries\":%llu,"
			      "\"cache_hits\":%llu}",
			   i ? "," : "", db_module_names[i], c->w->srv->cfg.db.pool[i], s.busy[i],
			   s.waiting[i], (unsigned long long)s.queries[i],
			   (unsigned long long)s.cache_hits[i]);
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
	if (check_body(c) < 0)
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
		r->id = user_id_of(r->str, r->str_len);
		c->q.cache_key = cache_key(r);
	}
	c->state = CS_WAIT;
	c->query_pending = 1;
	dbsvc_submit(c->w->srv->db, &c->q);
}

static void put_fields(tgt_conn *c, const char **ov, char store[3][201])
{
	static const char *const fields[] = {"name", "bio", "location"};
	json_t *o = json_loadb(c->bodybuf.data ? c->bodybuf.data : "", c->bodybuf.len, 0, NULL);
	int i;

	for (i = 0; i < 3; i++) {
		json_t *v = o ? json_object_get(o, fields[i]) : NULL;

		ov[i] = NULL;
		if (v && json_is_string(v) && json_string_length(v) <= 200) {
			memcpy(store[i], json_string_value(v), json_string_length(v));
			store[i][json_string_length(v)] = '\0';
			ov[i] = store[i];
		}
	}
	json_decref(o);
}

void route_complete(tgt_conn *c)
{
	tgt_req *r = &c->req;
	buf *b = &c->w->json;
	char extra[160], tok[2 * MAX_STR + 24];
	size_t en;
	uint64_t i, id;
	int status = 200;

	b->len = 0;
	switch (r->route) {
	case R_JOBS_LIST:
		buf_printf(b, "{\"page\":%llu,\"per_page\":%d,\"total\":%d,\"q\":",
			   (unsigned long long)r->n[0], PAGE_SIZE, JOBS_MAX);
		jstr(b, r->str, r->str_len);
		buf_appends(b, ",\"results\":[");
		for (i = 0; i < PAGE_SIZE; i++) {
			id = mix(hash_bytes(r->str, r->str_len, r->n[0]) + i) % JOBS_MAX + 1;
			buf_appends(b, i ? "," : "");
			job_summary(b, id);
			buf_appends(b, "}");
		}
		buf_appends(b, "]}");
		break;
	case R_JOBS_GET:
		job_detail(b, r->id);
		break;
	case R_JOBS_APPLY:
		status = 201;
		buf_printf(b, "{\"application_id\":\"a-%016llx\",\"job_id\":%llu,\"status\":\"received\"}",
			   (unsigned long long)mix(r->id ^ tgt_rand(c->w)), (unsigned long long)r->id);
		break;
	case R_PRODUCTS_LIST: {
		uint64_t cat = r->n[1], per = PRODUCTS_MAX / NCATEGORIES, total;
		int first = 1;

		total = cat == 0 ? PRODUCTS_MAX : cat <= NCATEGORIES ? per : 0;
		buf_printf(b, "{\"page\":%llu,\"per_page\":%d,\"total\":%llu,\"category\":",
			   (unsigned long long)r->n[0], PAGE_SIZE, (unsigned long long)total);
		if (cat)
			jstr(b, r->str, r->str_len);
		else
			buf_appends(b, "null");
		buf_appends(b, ",\"results\":[");
		for (i = 0; i < PAGE_SIZE && total; i++) {
			uint64_t k = (r->n[0] - 1) * PAGE_SIZE + i;

			id = cat ? k * NCATEGORIES + cat : k + 1;
			if (id > PRODUCTS_MAX)
				break;
			buf_appends(b, first ? "" : ",");
			first = 0;
			product_summary(b, id);
			buf_appends(b, "}");
		}
		buf_appends(b, "]}");
		break;
	}
	case R_PRODUCTS_GET:
		product_detail(b, r->id);
		break;
	case R_CART: {
		uint64_t cents = product_cents(r->n[0]) * r->n[1];

		status = 201;
		buf_printf(b, "{\"cart_id\":\"c-%016llx\",\"items\":[",
			   (unsigned long long)mix(tgt_rand(c->w)));
		product_summary(b, r->n[0]);
		buf_printf(b, ",\"quantity\":%llu}],\"total\":%llu.%02llu,\"currency\":\"EUR\"}",
			   (unsigned long long)r->n[1], (unsigned long long)(cents / 100),
			   (unsigned long long)(cents % 100));
		break;
	}
	case R_ORDERS:
		status = 201;
		buf_printf(b, "{\"order_id\":\"o-%016llx\",\"status\":\"confirmed\",\"items\":%llu,"
			      "\"total\":%llu.%02llu,\"currency\":\"EUR\",\"estimated_delivery_days\":%llu}",
			   (unsigned long long)mix(tgt_rand(c->w)), (unsigned long long)r->n[0],
			   (unsigned long long)(r->n[1] / 100), (unsigned long long)(r->n[1] % 100),
			   (unsigned long long)(2 + r->n[1] % 5));
		break;
	case R_NOTIF_LIST:
		notifications_json(b, r->n[0]);
		break;
	case R_NOTIF_READ:
		buf_printf(b, "{\"id\":%llu,\"read\":true}", (unsigned long long)r->id);
		break;
	case R_LOGIN:
		token_of(r->str, r->str_len, tok, sizeof(tok));
		buf_printf(b, "{\"token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
			      "\"user\":{\"id\":%llu,\"username\":",
			   tok, (unsigned long long)user_id_of(r->str, r->str_len));
		jstr(b, r->str, r->str_len);
		buf_appends(b, "}}");
		break;
	case R_PROFILE_ME:
		profile_json(b, r->id, r->str, r->str_len, NULL);
		break;
	case R_PROFILE_GET:
		profile_json(b, r->id, NULL, 0, NULL);
		break;
	case R_PROFILE_PUT: {
		const char *ov[3];
		char store[3][201];

		put_fields(c, ov, store);
		profile_json(b, r->id, NULL, 0, ov);
		break;
	}
	}
	buf_appends(b, "\n");
	/* Where the time went, as a real service would report it. */
	en = (size_t)snprintf(extra, sizeof(extra),
			      "Server-Timing: pool;dur=%.3f, db;dur=%.3f, cache;desc=%s\r\n",
			      (double)(c->q.start_ns - c->q.submit_ns) / 1e6,
			      (double)(c->q.done_ns - c->q.start_ns) / 1e6, c->q.cache_hit ? "hit" : "miss");
	tgt_respond(c, status, NULL, extra, en, b->data, b->len);
}
