#include "http/cookie.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/parse.h"

/* RFC 6265bis ignores a Domain or Path attribute value past this. */
#define ATTR_MAX 1024
#define DOMAIN_MAX 255
#define MAX_AGE_CAP (400 * 86400)
/* The arena never needs more than the jar's fullest content. */
#define ARENA_MAX (COOKIE_JAR_MAX * (COOKIE_MAX_BYTES + DOMAIN_MAX + ATTR_MAX))

/* One cookie; its name, value, domain and path lie one after the other at
 * off in the arena. */
typedef struct cookie {
	uint32_t off;
	uint16_t name_len, value_len, domain_len, path_len;
	uint64_t expiry;      /* monotonic ns; 0: a session cookie */
	uint64_t created;     /* the jar's sequence: creation order */
	uint8_t host_only, secure, http_only;
} cookie;

struct cookie_jar {
	cookie c[COOKIE_JAR_MAX];
	uint32_t n;
	uint64_t seq;
	char *arena;
	uint32_t used, cap;
};

cookie_jar *cookie_jar_create(void)
{
	return xcalloc(1, sizeof(cookie_jar));
}

void cookie_jar_destroy(cookie_jar *j)
{
	if (!j)
		return;
	free(j->arena);
	free(j);
}

void cookie_jar_clear(cookie_jar *j)
{
	j->n = 0;
	j->used = 0;
}

uint32_t cookie_jar_count(const cookie_jar *j)
{
	return j->n;
}

static const char *c_name(const cookie_jar *j, const cookie *c)
{
	return j->arena + c->off;
}

static const char *c_value(const cookie_jar *j, const cookie *c)
{
	return j->arena + c->off + c->name_len;
}

static const char *c_domain(const cookie_jar *j, const cookie *c)
{
	return j->arena + c->off + c->name_len + c->value_len;
}

static const char *c_path(const cookie_jar *j, const cookie *c)
{
	return j->arena + c->off + c->name_len + c->value_len + c->domain_len;
}

static uint32_t c_size(const cookie *c)
{
	return (uint32_t)c->name_len + c->value_len + c->domain_len + c->path_len;
}

static void remove_at(cookie_jar *j, uint32_t i)
{
	/* Creation order is kept in `created`, so the last slot can fill the hole. */
	j->c[i] = j->c[--j->n];
}

/* Moves live cookies to the front of the arena, in arena order, so the
 * space of removed ones is reused without allocating. */
static void compact(cookie_jar *j)
{
	uint32_t order[COOKIE_JAR_MAX], i, k, at = 0;

	for (i = 0; i < j->n; i++) {
		for (k = i; k > 0 && j->c[order[k - 1]].off > j->c[i].off; k--)
			order[k] = order[k - 1];
		order[k] = i;
	}
	for (i = 0; i < j->n; i++) {
		cookie *c = &j->c[order[i]];

		if (c->off != at)
			memmove(j->arena + at, j->arena + c->off, c_size(c));
		c->off = at;
		at += c_size(c);
	}
	j->used = at;
}

/* Room for need more bytes at the end of the arena. */
static void arena_room(cookie_jar *j, uint32_t need)
{
	uint32_t cap;

	if (j->used + need <= j->cap)
		return;
	compact(j);
	if (j->used + need <= j->cap)
		return;
	cap = j->cap ? j->cap : 1024;
	while (cap < j->used + need)
		cap *= 2;
	if (cap > ARENA_MAX)
		cap = ARENA_MAX;
	j->arena = xrealloc(j->arena, cap);
	j->cap = cap;
}

static int is_ip(const char *h, size_t n)
{
	char tmp[64];
	unsigned char a[16];

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, a) == 1 || inet_pton(AF_INET6, tmp, a) == 1;
}

int cookie_domain_match(const char *host, size_t hn, const char *domain, size_t dn)
{
	if (hn == dn && strncasecmp(host, domain, hn) == 0)
		return 1;
	if (!dn || hn <= dn || host[hn - dn - 1] != '.' || strncasecmp(host + hn - dn, domain, dn) != 0)
		return 0;
	return !is_ip(host, hn);
}

static size_t path_only(const char *p, size_t n)
{
	const char *q = memchr(p, '?', n);

	return q ? (size_t)(q - p) : n;
}

int cookie_path_match(const char *p, size_t pn, const char *cp, size_t cpn)
{
	pn = path_only(p, pn);
	if (!pn)
		p = "/", pn = 1;
	if (cpn > pn || memcmp(p, cp, cpn) != 0)
		return 0;
	return cpn == pn || cp[cpn - 1] == '/' || p[cpn] == '/';
}

/* RFC 6265 5.1.4's default-path of a request target. */
static void default_path(const char *p, size_t n, const char **out, size_t *outn)
{
	size_t i;

	n = path_only(p, n);
	if (!n || p[0] != '/') {
		*out = "/", *outn = 1;
		return;
	}
	for (i = n; i > 0 && p[i - 1] != '/'; i--)
		;
	/* i is one past the last '/'; the default path stops before it. */
	if (i <= 1) {
		*out = "/", *outn = 1;
		return;
	}
	*out = p, *outn = i - 1;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

/* RFC 6265 5.1.1's delimiters. */
static int date_delim(unsigned char c)
{
	return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
	       (c >= 0x7b && c <= 0x7e);
}

/* Reads 1..max digits at s; returns how many (0: none), the value in *v. */
static size_t digits(const char *s, size_t n, size_t max, int *v)
{
	size_t i = 0;

	*v = 0;
	while (i < n && i < max && s[i] >= '0' && s[i] <= '9')
		*v = *v * 10 + (s[i++] - '0');
	return i;
}

int cookie_date_parse(const char *s, size_t n, int64_t *t)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int have_time = 0, have_day = 0, have_month = 0, have_year = 0;
	int hh = 0, mi = 0, ss = 0, day = 0, month = 0, year = 0;
	size_t i = 0;

	while (i < n) {
		size_t start, len, k;
		const char *tok;
		int v;

		while (i < n && date_delim((unsigned char)s[i]))
			i++;
		start = i;
		while (i < n && !date_delim((unsigned char)s[i]))
			i++;
		tok = s + start;
		len = i - start;
		if (!len)
			continue;
		if (!have_time) {
			int a, b, c;
			size_t p = digits(tok, len, 2, &a), q, r;

			if (p && p < len && tok[p] == ':') {
				q = digits(tok + p + 1, len - p - 1, 2, &b);
				if (q && p + 1 + q < len && tok[p + 1 + q] == ':') {
					r = digits(tok + p + 2 + q, len - p - 2 - q, 2, &c);
					if (r) {
						have_time = 1, hh = a, mi = b, ss = c;
						continue;
					}
				}
			}
		}
		k = digits(tok, len, 2, &v);
		if (!have_day && k && (k == len || tok[k] < '0' || tok[k] > '9')) {
			have_day = 1, day = v;
			continue;
		}
		if (!have_month && len >= 3) {
			for (k = 0; k < 12; k++)
				if (strncasecmp(tok, months + 3 * k, 3) == 0)
					break;
			if (k < 12) {
				have_month = 1, month = (int)k + 1;
				continue;
			}
		}
		k = digits(tok, len, 4, &v);
		if (!have_year && k >= 2 && (k == len || tok[k] < '0' || tok[k] > '9')) {
			have_year = 1, year = v;
			continue;
		}
	}
	if (have_year && year >= 70 && year <= 99)
		year += 1900;
	else if (have_year && year >= 0 && year <= 69)
		year += 2000;
	if (!have_time || !have_day || !have_month || !have_year || day < 1 || day > 31 || year < 1601 || hh > 23 ||
	    mi > 59 || ss > 59)
		return -1;
	*t = parse_days_from_civil(year, month, day) * 86400 + hh * 3600 + mi * 60 + ss;
	return 0;
}

/* Max-Age: an optional '-' and digits (5.2.2). Returns 0 with seconds in *v. */
static int max_age_parse(const char *s, size_t n, int64_t *v)
{
	size_t i = 0;
	int neg = 0;
	int64_t x = 0;

	if (n && s[0] == '-')
		neg = 1, i = 1;
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x < INT64_C(1) << 40)
			x = x * 10 + (s[i] - '0');
	}
	*v = neg ? -x : x;
	return 0;
}

static int attr_is(const char *a, size_t an, const char *name)
{
	return an == strlen(name) && strncasecmp(a, name, an) == 0;
}

/* Makes room for one more cookie: expired ones go first, then, in a full
 * jar, the oldest (*evicted set). */
static void room_for_new(cookie_jar *j, uint64_t now, int *evicted)
{
	uint32_t i, old = 0;

	for (i = 0; i < j->n;) {
		if (j->c[i].expiry && j->c[i].expiry <= now)
			remove_at(j, i);
		else
			i++;
	}
	if (j->n < COOKIE_JAR_MAX)
		return;
	for (i = 1; i < j->n; i++)
		if (j->c[i].created < j->c[old].created)
			old = i;
	remove_at(j, old);
	*evicted = 1;
}

int cookie_jar_set(cookie_jar *j, const char *v, size_t n, const cookie_url *u, uint64_t now, int64_t wall)
{
	const char *semi = memchr(v, ';', n), *eq, *name, *value, *domain = NULL, *path = NULL;
	size_t pair = semi ? (size_t)(semi - v) : n, name_len, value_len, domain_len = 0, path_len = 0;
	size_t hn = strlen(u->host), at;
	int have_max_age = 0, have_expires = 0, secure = 0, http_only = 0, evicted = 0;
	int64_t max_age = 0, expires = 0;
	uint64_t expiry = 0, created;
	uint32_t i, need;
	cookie *c;

	eq = memchr(v, '=', pair);
	if (!eq)
		return COOKIE_IGNORED;
	name = v, name_len = (size_t)(eq - v);
	value = eq + 1, value_len = pair - name_len - 1;
	trim(&name, &name_len);
	trim(&value, &value_len);
	if (!name_len || name_len + value_len > COOKIE_MAX_BYTES)
		return COOKIE_IGNORED;
	/* Attributes: each "; name[=value]", unknown ones ignored (5.2). */
	at = pair;
	while (at < n) {
		const char *a = v + at + 1, *av = NULL, *end, *aeq;
		size_t an, avn = 0;

		end = memchr(a, ';', n - at - 1);
		an = end ? (size_t)(end - a) : n - at - 1;
		at += an + 1;
		aeq = memchr(a, '=', an);
		if (aeq) {
			av = aeq + 1;
			avn = an - (size_t)(av - a);
			an = (size_t)(aeq - a);
			trim(&av, &avn);
		}
		trim(&a, &an);
		if (attr_is(a, an, "expires")) {
			if (av && cookie_date_parse(av, avn, &expires) == 0)
				have_expires = 1;
		} else if (attr_is(a, an, "max-age")) {
			if (av && max_age_parse(av, avn, &max_age) == 0)
				have_max_age = 1;
		} else if (attr_is(a, an, "domain")) {
			if (av && avn && avn <= ATTR_MAX) {
				if (av[0] == '.')
					av++, avn--;
				domain = av, domain_len = avn;
			}
		} else if (attr_is(a, an, "path")) {
			if (av && avn && av[0] == '/' && avn <= ATTR_MAX)
				path = av, path_len = avn;
			else
				path = NULL, path_len = 0;
		} else if (attr_is(a, an, "secure")) {
			secure = 1;
		} else if (attr_is(a, an, "httponly")) {
			http_only = 1;
		}
		/* SameSite and the rest: a client without documents has no site. */
	}
	/* Max-Age wins over Expires (5.3 step 3); both are capped at 400 days
	 * as RFC 6265bis does, which also keeps the arithmetic in range. */
	if (max_age > MAX_AGE_CAP)
		max_age = MAX_AGE_CAP;
	if (have_expires && expires - wall > MAX_AGE_CAP)
		expires = wall + MAX_AGE_CAP;
	if (have_max_age)
		expiry = max_age <= 0 ? 1 : now + (uint64_t)max_age * UINT64_C(1000000000);
	else if (have_expires)
		expiry = expires <= wall ? 1 : now + (uint64_t)(expires - wall) * UINT64_C(1000000000);
	if (domain_len) {
		if (!cookie_domain_match(u->host, hn, domain, domain_len))
			return COOKIE_IGNORED;
	} else {
		domain = u->host, domain_len = hn;
	}
	if (domain_len > DOMAIN_MAX)
		return COOKIE_IGNORED;
	if (!path)
		default_path(u->path, u->path_len, &path, &path_len);
	created = ++j->seq;
	/* One of the same name, domain and path is replaced, keeping its
	 * creation time (5.3 step 11). */
	for (i = 0; i < j->n; i++) {
		c = &j->c[i];
		if (c->name_len == name_len && c->domain_len == domain_len && c->path_len == path_len &&
		    memcmp(c_name(j, c), name, name_len) == 0 && strncasecmp(c_domain(j, c), domain, domain_len) == 0 &&
		    memcmp(c_path(j, c), path, path_len) == 0)
			break;
	}
	if (i < j->n) {
		created = j->c[i].created;
		remove_at(j, i);
	}
	if (expiry && expiry <= now)
		return COOKIE_DELETED;
	need = (uint32_t)(name_len + value_len + domain_len + path_len);
	/* The arena may move or compact; the source (the response head, the
	 * URL) is never in it. */
	room_for_new(j, now, &evicted);
	/* The new cookie is not counted until written: compact must not see it. */
	arena_room(j, need);
	c = &j->c[j->n];
	c->off = j->used;
	memcpy(j->arena + j->used, name, name_len);
	memcpy(j->arena + j->used + name_len, value, value_len);
	for (i = 0; i < domain_len; i++) {
		char ch = domain[i];

		j->arena[j->used + name_len + value_len + i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	memcpy(j->arena + j->used + name_len + value_len + domain_len, path, path_len);
	j->used += need;
	c->name_len = (uint16_t)name_len;
	c->value_len = (uint16_t)value_len;
	c->domain_len = (uint16_t)domain_len;
	c->path_len = (uint16_t)path_len;
	c->expiry = expiry;
	c->created = created;
	c->host_only = domain == u->host;
	c->secure = (uint8_t)secure;
	c->http_only = (uint8_t)http_only;
	j->n++;
	return evicted ? COOKIE_EVICTED : COOKIE_STORED;
}

static int matches(const cookie_jar *j, const cookie *c, const cookie_url *u, size_t hn, uint64_t now)
{
	if (c->expiry && c->expiry <= now)
		return 0;
	if (c->secure && !u->secure)
		return 0;
	if (c->host_only) {
		if (hn != c->domain_len || strncasecmp(u->host, c_domain(j, c), hn) != 0)
			return 0;
	} else if (!cookie_domain_match(u->host, hn, c_domain(j, c), c->domain_len)) {
		return 0;
	}
	return cookie_path_match(u->path, u->path_len, c_path(j, c), c->path_len);
}

/* The cookies sent to u, in RFC 6265 5.4's order: longer paths first,
 * then earlier creation. Returns how many are in idx. */
static uint32_t select_for(cookie_jar *j, const cookie_url *u, uint64_t now, uint32_t *idx)
{
	size_t hn = strlen(u->host);
	uint32_t i, k, m = 0;

	for (i = 0; i < j->n; i++) {
		const cookie *c = &j->c[i];

		if (!matches(j, c, u, hn, now))
			continue;
		for (k = m; k > 0; k--) {
			const cookie *p = &j->c[idx[k - 1]];

			if (p->path_len > c->path_len || (p->path_len == c->path_len && p->created < c->created))
				break;
			idx[k] = idx[k - 1];
		}
		idx[k] = i;
		m++;
	}
	return m;
}

int cookie_jar_header(cookie_jar *j, const cookie_url *u, uint64_t now, buf *out)
{
	uint32_t idx[COOKIE_JAR_MAX], m, i;

	if (!j->n)
		return 0;
	m = select_for(j, u, now, idx);
	for (i = 0; i < m; i++) {
		const cookie *c = &j->c[idx[i]];

		if ((i && buf_append(out, "; ", 2) < 0) || buf_append(out, c_name(j, c), c->name_len) < 0 ||
		    buf_append(out, "=", 1) < 0 || buf_append(out, c_value(j, c), c->value_len) < 0)
			return -1;
	}
	return (int)m;
}

int cookie_jar_find(cookie_jar *j, const char *name, const cookie_url *u, uint64_t now, const char **val,
		    size_t *len)
{
	uint32_t idx[COOKIE_JAR_MAX], m, i;
	size_t nn = strlen(name);

	m = select_for(j, u, now, idx);
	for (i = 0; i < m; i++) {
		const cookie *c = &j->c[idx[i]];

		if (c->name_len == nn && memcmp(c_name(j, c), name, nn) == 0) {
			*val = c_value(j, c);
			*len = c->value_len;
			return 1;
		}
	}
	return 0;
}
