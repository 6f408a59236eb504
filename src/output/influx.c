#include "output/influx.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/parse.h"
#include "http/url.h"
#include "io/tls.h"
#include "output/http_post.h"
#include "output/influx_schema.h"
#include "output/outq.h"

/* k6 mode at full speed makes about a million points a second; this holds
 * a few seconds of them (40 bytes each) while InfluxDB is away. */
#define DEFAULT_BUFFER 4000000
/* Well under InfluxDB's default max-body-size (25 MB). */
#define DEFAULT_MAX_BODY (5 * 1024 * 1024)
#define MAX_MAX_BODY (25 * 1024 * 1024)
#define DEFAULT_CONCURRENCY 2
#define DEFAULT_RETRIES 4
#define DEFAULT_TIMEOUT (10 * NS_PER_SEC)
#define DEFAULT_FLUSH (5 * NS_PER_SEC)
#define BACKOFF_FIRST (100 * NS_PER_MS)
#define BACKOFF_MAX (5 * NS_PER_SEC)
/* Aggregated points of one interval: 65,536 series at most, a few hundred
 * bytes each. */
#define AGG_TEXT_MAX (64 * 1024 * 1024)

typedef struct writer {
	http_post *http;
	influx_k6_enc enc;
	buf body;
} writer;

typedef struct influx {
	influx_config cfg;
	const met_registry *reg;
	char *instance;
	char *write_head;    /* request line and fields for a write */
	char *create_head;   /* v1: CREATE DATABASE */
	char *create_body;
	outq *q;
	writer *w;
	tls_client *tls;     /* https://: shared by the writers' connections */
	_Atomic int db_ready;
	pthread_mutex_t lock; /* guards st and warned */
	output_stats st;
	int warned;
} influx;

/* ---- configuration ---------------------------------------------------- */


/* Percent-decodes s[0..n) ('+' is a space in query values). NULL on a bad escape. */
static char *pct_decode(const char *s, size_t n, int plus)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? parse_hex_digit((unsigned char)s[i + 1]) : -1;
			int lo = i + 2 < n ? parse_hex_digit((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = plus && s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

static void pct_encode_append(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			buf_append(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			buf_append(b, e, 3);
		}
	}
}

static void base64_append(buf *b, const char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		char o[4] = {tab[p[i] >> 2], tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)],
			     tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)], tab[p[i + 2] & 63]};

		buf_append(b, o, 4);
	}
	if (n - i == 1) {
		char o[4] = {tab[p[i] >> 2], tab[(p[i] & 3) << 4], '=', '='};

		buf_append(b, o, 4);
	} else if (n - i == 2) {
		char o[4] = {tab[p[i] >> 2], tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)], tab[(p[i + 1] & 15) << 2], '='};

		buf_append(b, o, 4);
	}
}

static int query_param(influx_config *c, const char *key, const char *val, char *err, size_t errsz)
{
	uint64_t v;

	if (strcmp(key, "schema") == 0) {
		if (strcmp(val, "k6") == 0)
			c->k6_schema = 1;
		else if (strcmp(val, "aggregated") == 0)
			c->k6_schema = 0;
		else
			goto bad;
	} else if (strcmp(key, "buffer") == 0) {
		if (parse_u64(val, 1, UINT64_C(1000000000), &c->buffer) < 0)
			goto bad;
	} else if (strcmp(key, "max_body") == 0) {
		if (parse_u64(val, 1024, MAX_MAX_BODY, &c->max_body) < 0)
			goto bad;
	} else if (strcmp(key, "concurrency") == 0) {
		if (parse_u64(val, 1, 16, &v) < 0)
			goto bad;
		c->concurrency = (uint32_t)v;
	} else if (strcmp(key, "retries") == 0) {
		if (parse_u64(val, 0, 100, &v) < 0)
			goto bad;
		c->retries = (uint32_t)v;
	} else if (strcmp(key, "timeout") == 0) {
		if (parse_duration_ns(val, &c->timeout_ns) < 0 || c->timeout_ns < NS_PER_MS)
			goto bad;
	} else if (strcmp(key, "flush") == 0) {
		/* Bounded: a dead server may hold the end of the run this long. */
		if (parse_duration_ns(val, &c->flush_ns) < 0 || c->flush_ns > OUTPUT_FLUSH_MAX) {
			snprintf(err, errsz, "invalid flush '%s' (a duration up to %llus)", val,
				 (unsigned long long)(OUTPUT_FLUSH_MAX / NS_PER_SEC));
			return -1;
		}
	} else if (!c->v2 && strcmp(key, "rp") == 0) {
		free(c->rp);
		c->rp = xstrdup(val);
	} else if (c->v2 && strcmp(key, "org") == 0) {
		free(c->org);
		c->org = xstrdup(val);
	} else if (c->v2 && strcmp(key, "bucket") == 0) {
		free(c->bucket);
		c->bucket = xstrdup(val);
	} else {
		snprintf(err, errsz, "unknown option '%s' (see docs/outputs.md)", key);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errsz, "invalid %s '%s'", key, val);
	return -1;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? xstrdup(v) : NULL;
}

int influx_config_parse(influx_config *c, int v2, const char *arg, char *err, size_t errsz)
{
	const char *auth, *auth_end, *at, *path, *query;
	http_url u;
	buf clean;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	buf_init(&clean, 256, 1 << 16);
	c->v2 = v2;
	c->buffer = DEFAULT_BUFFER;
	c->max_body = DEFAULT_MAX_BODY;
	c->concurrency = DEFAULT_CONCURRENCY;
	c->retries = DEFAULT_RETRIES;
	c->timeout_ns = DEFAULT_TIMEOUT;
	c->flush_ns = DEFAULT_FLUSH;
	c->tls = strncmp(arg, "https://", 8) == 0;
	if (!c->tls && strncmp(arg, "http://", 7) != 0) {
		snprintf(err, errsz, "expected an http:// or https:// URL");
		goto out;
	}
	auth = arg + (c->tls ? 8 : 7);
	auth_end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(auth_end - auth));
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		if (v2) {
			snprintf(err, errsz, "user info in the URL: InfluxDB 2 takes a token from STRAIN_INFLUXDB_TOKEN");
			goto out;
		}
		c->user = pct_decode(auth, (size_t)((colon ? colon : at) - auth), 0);
		c->password = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1), 0) : NULL;
		if (!c->user || (colon && !c->password)) {
			snprintf(err, errsz, "bad percent-escape in the URL's user info");
			goto out;
		}
		auth = at + 1;
	}
	path = auth_end;
	query = strchr(path, '?');
	if (strchr(path, '#')) {
		snprintf(err, errsz, "a URL fragment ('#') is not allowed");
		goto out;
	}
	buf_appends(&clean, c->tls ? "https://" : "http://"); /* the default port follows */
	buf_append(&clean, auth, (size_t)(auth_end - auth));
	buf_append(&clean, "/", 2);
	if (http_url_parse(clean.data, &u, err, errsz) < 0)
		goto out;
	snprintf(c->host, sizeof(c->host), "%s", u.host);
	snprintf(c->port, sizeof(c->port), "%s", u.port);
	c->authority = xstrdup(u.authority);
	http_url_free(&u);
	{
		size_t plen = (size_t)((query ? query : path + strlen(path)) - path);

		if (plen && *path == '/') {
			path++;
			plen--;
		}
		if (v2 && plen) {
			snprintf(err, errsz, "InfluxDB 2 URLs have no path: use ?org=ORG&bucket=BUCKET");
			goto out;
		}
		if (!v2) {
			c->db = pct_decode(path, plen, 0);
			if (!c->db || !*c->db || strchr(c->db, '/')) {
				snprintf(err, errsz, "expected the database as the URL's path: http://HOST:PORT/DB");
				goto out;
			}
		}
	}
	while (query && *query) {
		const char *p = query + 1, *end = p + strcspn(p, "&"), *eq = memchr(p, '=', (size_t)(end - p));
		char *key, *val;
		int bad;

		query = *end ? end : NULL;
		if (end == p)
			continue;
		key = pct_decode(p, (size_t)((eq ? eq : end) - p), 1);
		val = eq ? pct_decode(eq + 1, (size_t)(end - eq - 1), 1) : xstrdup("");
		bad = !key || !val;
		if (bad)
			snprintf(err, errsz, "bad percent-escape in the URL's query");
		else
			bad = query_param(c, key, val, err, errsz) < 0;
		free(key);
		free(val);
		if (bad)
			goto out;
	}
	if (v2) {
		if (!c->org || !*c->org || !c->bucket || !*c->bucket) {
			snprintf(err, errsz, "InfluxDB 2 needs ?org=ORG&bucket=BUCKET");
			goto out;
		}
		c->token = env_dup("STRAIN_INFLUXDB_TOKEN");
		if (!c->token) {
			snprintf(err, errsz, "InfluxDB 2 needs a token: set STRAIN_INFLUXDB_TOKEN");
			goto out;
		}
	} else if (!c->user) {
		c->user = env_dup("STRAIN_INFLUXDB_USERNAME");
		c->password = c->user ? env_dup("STRAIN_INFLUXDB_PASSWORD") : NULL;
	}
	rc = 0;
out:
	buf_free(&clean);
	if (rc < 0)
		influx_config_free(c);
	return rc;
}

void influx_config_free(influx_config *c)
{
	free(c->authority);
	free(c->db);
	free(c->rp);
	free(c->org);
	free(c->bucket);
	free(c->user);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	free(c->password);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	memset(c, 0, sizeof(*c));
}

/* ---- requests --------------------------------------------------------- */

static void common_fields(buf *b, const influx_config *c)
{
	buf_printf(b, "Host: %s\r\nUser-Agent: strain\r\n", c->authority);
	if (c->v2) {
		buf_printf(b, "Authorization: Token %s\r\n", c->token);
	} else if (c->user) {
		buf cred;

		buf_init(&cred, 128, 1 << 16);
		buf_printf(&cred, "%s:%s", c->user, c->password ? c->password : "");
		buf_appends(b, "Authorization: Basic ");
		base64_append(b, cred.data, cred.len);
		buf_appends(b, "\r\n");
		memset(cred.data, 0, cred.len);
		buf_free(&cred);
	}
}

static void build_requests(influx *ix)
{
	const influx_config *c = &ix->cfg;
	buf b;

	buf_init(&b, 512, 1 << 17);
	if (c->v2) {
		buf_appends(&b, "POST /api/v2/write?org=");
		pct_encode_append(&b, c->org);
		buf_appends(&b, "&bucket=");
		pct_encode_append(&b, c->bucket);
	} else {
		buf_appends(&b, "POST /write?db=");
		pct_encode_append(&b, c->db);
		if (c->rp) {
			buf_appends(&b, "&rp=");
			pct_encode_append(&b, c->rp);
		}
	}
	buf_appends(&b, "&precision=ns HTTP/1.1\r\n");
	common_fields(&b, c);
	buf_appends(&b, "Content-Type: text/plain; charset=utf-8\r\n");
	ix->write_head = xstrndup(b.data, b.len);
	if (!c->v2) {
		buf q;
		const char *p;

		buf_reset(&b);
		buf_appends(&b, "POST /query HTTP/1.1\r\n");
		common_fields(&b, c);
		buf_appends(&b, "Content-Type: application/x-www-form-urlencoded\r\n");
		ix->create_head = xstrndup(b.data, b.len);
		/* CREATE DATABASE "name", with '"' and '\' escaped in the identifier. */
		buf_init(&q, 128, 1 << 16);
		buf_appends(&q, "CREATE DATABASE \"");
		for (p = c->db; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(&q, "\\", 1);
			buf_append(&q, p, 1);
		}
		buf_append(&q, "\"", 2);
		buf_reset(&b);
		buf_appends(&b, "q=");
		pct_encode_append(&b, q.data);
		ix->create_body = xstrndup(b.data, b.len);
		buf_free(&q);
	}
	memset(b.data, 0, b.len); /* held credentials */
	buf_free(&b);
}

/* ---- writer threads --------------------------------------------------- */

static void note_error(influx *ix, const char *what, const http_post_result *res, int transport)
{
	char msg[sizeof(ix->st.last_error)];
	size_t n;

	if (transport)
		snprintf(msg, sizeof(msg), "%s: %.200s", what, res->body);
	else
		snprintf(msg, sizeof(msg), "%s: HTTP %d %.200s", what, res->status, res->body);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	pthread_mutex_lock(&ix->lock);
	ix->st.write_errors++;
	snprintf(ix->st.last_error, sizeof(ix->st.last_error), "%s", msg);
	if (!ix->warned) {
		ix->warned = 1;
		fprintf(stderr, "\nstrain: output %s: %s (retrying; totals in the summary)\n",
			ix->cfg.v2 ? "influxdb2" : "influxdb", msg);
	}
	pthread_mutex_unlock(&ix->lock);
}

static void count(influx *ix, uint64_t written, uint64_t dropped)
{
	pthread_mutex_lock(&ix->lock);
	ix->st.points_written += written;
	ix->st.points_dropped += dropped;
	pthread_mutex_unlock(&ix->lock);
}

static uint64_t request_deadline(influx *ix)
{
	uint64_t d = clock_mono_ns() + ix->cfg.timeout_ns, close_by = outq_deadline(ix->q);

	return close_by && close_by < d ? close_by : d;
}

/* InfluxDB 1.x: CREATE DATABASE is idempotent, so it is simply sent before
 * the first write, and again whenever a write says the database is gone
 * (a server restarted with empty storage). */
static int ensure_db(influx *ix, writer *w)
{
	http_post_result res;

	if (ix->cfg.v2 || atomic_load(&ix->db_ready))
		return 0;
	if (http_post_send(w->http, ix->create_head, ix->create_body, strlen(ix->create_body), request_deadline(ix),
			   &res) < 0) {
		note_error(ix, "create database", &res, 1);
		return -1;
	}
	if (res.status / 100 != 2) {
		note_error(ix, "create database", &res, 0);
		return -1;
	}
	atomic_store(&ix->db_ready, 1);
	return 0;
}

/* Writes one batch: up to 1 + retries attempts with exponential backoff;
 * an answer that retrying cannot change (400 bad points, 401/403 auth,
 * 413 too large) ends it at once. Once the run is closing, a batch that
 * could not reach the server is not retried: the server is down and the
 * summary should not wait for it. */
static void write_batch(influx *ix, writer *w, const char *data, size_t len, uint64_t npoints)
{
	uint64_t backoff = BACKOFF_FIRST;
	uint32_t attempt;

	if (!npoints)
		return;
	for (attempt = 0;; attempt++) {
		http_post_result res;
		int transport = 0;

		if (outq_deadline(ix->q) && clock_mono_ns() >= outq_deadline(ix->q))
			break;
		if (ensure_db(ix, w) == 0) {
			if (http_post_send(w->http, ix->write_head, data, len, request_deadline(ix), &res) < 0) {
				note_error(ix, "write", &res, 1);
				transport = 1;
			} else if (res.status / 100 == 2) {
				count(ix, npoints, 0);
				return;
			} else {
				note_error(ix, "write", &res, 0);
				if (res.status == 404 && !ix->cfg.v2 && strstr(res.body, "database not found"))
					atomic_store(&ix->db_ready, 0);
				else if (res.status / 100 == 4 && res.status != 408 && res.status != 429)
					break;
			}
		} else {
			transport = 1;
		}
		if (attempt >= ix->cfg.retries || (transport && outq_deadline(ix->q)))
			break;
		if (outq_sleep(ix->q, backoff) < 0)
			break;
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	count(ix, 0, npoints);
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	const char *end = p + n;

	while (p < end) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (!p)
			break;
		lines++;
		p++;
	}
	return lines;
}

static void consume(void *ctx, unsigned t, outq_job *j)
{
	influx *ix = ctx;
	writer *w = &ix->w[t];
	size_t i = 0;

	/* k6 schema: encode here, on the writer thread, a body at a time. */
	while (i < j->nsamples) {
		size_t first = i;

		buf_reset(&w->body);
		while (i < j->nsamples && influx_k6_append(&w->enc, &w->body, &j->samples[i]) == 0)
			i++;
		if (i == first) { /* one point larger than a body: cannot be sent */
			count(ix, 0, 1);
			i++;
			continue;
		}
		write_batch(ix, w, w->body.data, w->body.len,
			    i - first - met_samples_arrivals(j->samples + first, i - first));
	}
	/* Pre-encoded lines: split at line ends so no body exceeds max_body. */
	if (j->text.len) {
		const char *p = j->text.data, *end = p + j->text.len;

		while (p < end) {
			const char *cut = end;

			if ((size_t)(end - p) > ix->cfg.max_body) {
				cut = p + ix->cfg.max_body;
				while (cut > p && cut[-1] != '\n')
					cut--;
				if (cut == p) { /* a line over max_body: skip it */
					cut = memchr(p, '\n', (size_t)(end - p));
					cut = cut ? cut + 1 : end;
					count(ix, 0, 1);
					p = cut;
					continue;
				}
			}
			write_batch(ix, w, p, (size_t)(cut - p), count_lines(p, (size_t)(cut - p)));
			p = cut;
		}
	}
}

/* ---- the output ------------------------------------------------------- */

static void influx_free(influx *ix)
{
	uint32_t i;

	if (!ix)
		return;
	for (i = 0; ix->w && i < ix->cfg.concurrency; i++) {
		http_post_destroy(ix->w[i].http);
		influx_k6_free(&ix->w[i].enc);
		buf_free(&ix->w[i].body);
	}
	free(ix->w);
	tls_client_destroy(ix->tls);
	if (ix->write_head)
		memset(ix->write_head, 0, strlen(ix->write_head));
	if (ix->create_head)
		memset(ix->create_head, 0, strlen(ix->create_head));
	free(ix->write_head);
	free(ix->create_head);
	free(ix->create_body);
	free(ix->instance);
	influx_config_free(&ix->cfg);
	pthread_mutex_destroy(&ix->lock);
	free(ix);
}

static int influx_open(output *o, int v2, const char *arg, const output_env *env, char *err, size_t errsz)
{
	influx *ix = xcalloc(1, sizeof(*ix));
	uint32_t i;

	pthread_mutex_init(&ix->lock, NULL);
	if (influx_config_parse(&ix->cfg, v2, arg, err, errsz) < 0) {
		influx_free(ix);
		return -1;
	}
	if (ix->cfg.tls) {
		/* The system store and --cacert, always checked: a server that
		 * takes credentials must be the real one. */
		tls_client_opts to = {0, env->cacert, 0, NULL, NULL, 0};

		ix->tls = tls_client_create(&to, err, errsz);
		if (!ix->tls) {
			influx_free(ix);
			return -1;
		}
	}
	ix->reg = env->reg;
	ix->instance = xstrdup(env->instance ? env->instance : "");
	build_requests(ix);
	ix->w = xcalloc(ix->cfg.concurrency, sizeof(*ix->w));
	for (i = 0; i < ix->cfg.concurrency; i++) {
		ix->w[i].http = http_post_create(ix->cfg.host, ix->cfg.port);
		http_post_set_cutoff(ix->w[i].http, &o->cutoff);
		if (ix->tls)
			http_post_set_tls(ix->w[i].http, ix->tls);
		influx_k6_init(&ix->w[i].enc, ix->reg, ix->instance);
		buf_init(&ix->w[i].body, 0, ix->cfg.max_body);
	}
	ix->q = outq_create(ix->cfg.buffer, ix->cfg.concurrency, consume, ix);
	if (!ix->q) {
		snprintf(err, errsz, "cannot start writer threads");
		influx_free(ix);
		return -1;
	}
	outq_set_cutoff(ix->q, &o->cutoff);
	o->impl = ix;
	o->wants_samples = ix->cfg.k6_schema;
	return 0;
}

static int open_v1(output *o, const char *arg, const output_env *env, char *err, size_t errsz)
{
	return influx_open(o, 0, arg, env, err, errsz);
}

static int open_v2(output *o, const char *arg, const output_env *env, char *err, size_t errsz)
{
	return influx_open(o, 1, arg, env, err, errsz);
}

static void influx_snapshot(output *o, const met_snapshot *snap)
{
	influx *ix = o->impl;
	const met_shard *iv = snap->interval;
	outq_job *j;
	uint64_t lost = 0;

	if (ix->cfg.k6_schema) {
		size_t n = iv->nsamples;
		uint64_t room = outq_room(ix->q);

		lost = iv->samples_lost; /* past the shard log's maximum */
		if (!n && !lost)
			return;
		if (n > room) {
			lost += n - room;
			n = (size_t)room;
		}
		j = n ? outq_job_samples(ix->q, iv->samples, n) : NULL;
	} else {
		int64_t n;

		j = outq_job_create(NULL, 0, AGG_TEXT_MAX);
		n = influx_agg_append(&j->text, snap->reg, iv, snap->wall_ns, ix->instance);
		if (n < 0) {
			lost = iv->ntouched;
			outq_job_free(j);
			j = NULL;
		} else {
			j->npoints = (uint64_t)n;
		}
	}
	if (j && (!j->npoints || outq_push(ix->q, j) < 0)) {
		lost += j->npoints;
		outq_job_free(j);
	}
	if (lost)
		count(ix, 0, lost);
}

static void influx_stats(output *o, output_stats *stats)
{
	influx *ix = o->impl;

	pthread_mutex_lock(&ix->lock);
	*stats = ix->st;
	pthread_mutex_unlock(&ix->lock);
}

static int influx_close(output *o, output_stats *stats)
{
	influx *ix = o->impl;
	uint64_t left;

	if (!ix)
		return 0;
	/* The flush limit covers requests already in flight too: their own
	 * timeout (10 s) would otherwise hold the summary. */
	output_cutoff_at(o, clock_mono_ns() + ix->cfg.flush_ns);
	left = outq_close(ix->q, atomic_load(&o->cutoff));
	outq_destroy(ix->q);
	ix->q = NULL;
	count(ix, 0, left);
	*stats = ix->st;
	influx_free(ix);
	o->impl = NULL;
	return 0;
}

const output_ops influx_v1_ops = {"influxdb", open_v1, influx_snapshot, influx_close, influx_stats};
const output_ops influx_v2_ops = {"influxdb2", open_v2, influx_snapshot, influx_close, influx_stats};
