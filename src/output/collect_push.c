#include "output/collect_push.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "http/url.h"
#include "io/tls.h"
#include "metrics/wire.h"
#include "output/http_post.h"
#include "output/outq.h"

/* Snapshots held while the collector is slow or away: a minute of them.
 * Past that the oldest are not dropped but the newest are (outq's bound),
 * and counted. */
#define PUSH_QUEUE 60
/* A push's answer is awaited this long; the next snapshot is a second
 * behind, so waiting longer only piles them up. */
#define PUSH_TIMEOUT (3 * NS_PER_SEC)
/* The final push (the instance is done) gets this long at the end. */
#define PUSH_FLUSH (5 * NS_PER_SEC)
/* One push: 65,536 series at most, with their histograms. */
#define PUSH_TEXT_MAX (256u * 1024 * 1024)

typedef struct pusher {
	http_post *http;
	tls_client *tls;       /* https:// collectors */
	char *head;            /* request line and fields */
	outq *q;
	_Atomic int *abort;    /* the suite's; may be NULL */
	met_wire_meta meta;    /* the collector thread's */
	pthread_mutex_t lock;  /* guards st and warned */
	output_stats st;
	int warned;
	int told_abort;
} pusher;

static void note(pusher *p, const char *msg)
{
	pthread_mutex_lock(&p->lock);
	p->st.write_errors++;
	snprintf(p->st.last_error, sizeof(p->st.last_error), "%s", msg);
	if (!p->warned) {
		p->warned = 1;
		fprintf(stderr, "\nstrain: collector: %s (the run goes on and writes its own summary; later pushes that "
				"fail are counted, not reported)\n", msg);
	}
	pthread_mutex_unlock(&p->lock);
}

static void count(pusher *p, uint64_t written, uint64_t dropped)
{
	pthread_mutex_lock(&p->lock);
	p->st.points_written += written;
	p->st.points_dropped += dropped;
	pthread_mutex_unlock(&p->lock);
}

/* {"action": "abort", "reason": "..."}: the collector's thresholds failed. */
static void answer(pusher *p, const http_post_result *res)
{
	json_t *j = json_loads(res->body, 0, NULL);
	const char *action = json_string_value(json_object_get(j, "action"));
	const char *reason = json_string_value(json_object_get(j, "reason"));

	if (action && strcmp(action, "abort") == 0 && !p->told_abort) {
		int zero = 0;

		p->told_abort = 1;
		fprintf(stderr, "\nstrain: collector: %s: aborting the run\n", reason ? reason : "abort");
		if (p->abort)
			atomic_compare_exchange_strong(p->abort, &zero, 1);
	}
	json_decref(j);
}

/* One push, one attempt: a snapshot that could not be delivered is
 * counted as dropped, never retried (the next one is a second away, and
 * the instance's own summary has everything). */
static void consume(void *ctx, unsigned t, outq_job *j)
{
	pusher *p = ctx;
	uint64_t deadline = clock_mono_ns() + PUSH_TIMEOUT, close_by = outq_deadline(p->q);
	http_post_result res;
	char msg[300];

	(void)t;
	if (close_by && close_by < deadline)
		deadline = close_by;
	if (http_post_send(p->http, p->head, j->text.data, j->text.len, deadline, &res) < 0) {
		snprintf(msg, sizeof(msg), "push failed: %.200s", res.body);
		note(p, msg);
		count(p, 0, j->npoints);
		return;
	}
	if (res.status / 100 != 2) {
		size_t n;

		snprintf(msg, sizeof(msg), "push refused: HTTP %d %.200s%s", res.status, res.body,
			 res.status == 401 ? " (check --collector-token / STRAIN_COLLECTOR_TOKEN)" : "");
		n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
			msg[--n] = '\0';
		note(p, msg);
		count(p, 0, j->npoints);
		return;
	}
	count(p, j->npoints, 0);
	answer(p, &res);
}

static void pusher_free(pusher *p)
{
	if (!p)
		return;
	http_post_destroy(p->http);
	tls_client_destroy(p->tls);
	if (p->head)
		memset(p->head, 0, strlen(p->head)); /* holds the token */
	free(p->head);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int push_open(output *o, const char *arg, const output_env *env, char *err, size_t errsz)
{
	pusher *p = xcalloc(1, sizeof(*p));
	const char *token = env->collector_token;
	http_url u;
	buf b;
	size_t plen;

	pthread_mutex_init(&p->lock, NULL);
	if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0) {
		snprintf(err, errsz, "expected an http:// or https:// URL");
		pusher_free(p);
		return -1;
	}
	if (http_url_parse(arg, &u, err, errsz) < 0) {
		pusher_free(p);
		return -1;
	}
	if (strcmp(u.scheme, "https") == 0) {
		/* The collector's certificate is always checked, against the
		 * system store and --cacert: --insecure-skip-tls-verify is the
		 * target's, and a collector that takes a token must be the
		 * real one. */
		tls_client_opts to = {0, env->cacert, 0, NULL, NULL, 0};

		p->tls = tls_client_create(&to, err, errsz);
		if (!p->tls) {
			http_url_free(&u);
			pusher_free(p);
			return -1;
		}
	}
	if (!token || !*token)
		token = getenv("STRAIN_COLLECTOR_TOKEN");
	buf_init(&b, 512, 1 << 16);
	/* The URL's path is a prefix (a proxy's); the push goes to PREFIX/v1/push. */
	plen = strcspn(u.target, "?");
	while (plen && u.target[plen - 1] == '/')
		plen--;
	buf_printf(&b, "POST %.*s/v1/push HTTP/1.1\r\nHost: %s\r\nUser-Agent: strain\r\n", (int)plen, u.target,
		   u.authority);
	buf_appends(&b, "Content-Type: application/json\r\n");
	if (token && *token)
		buf_printf(&b, "Authorization: Bearer %s\r\n", token);
	p->head = xstrndup(b.data, b.len);
	memset(b.data, 0, b.len);
	buf_free(&b);
	p->http = http_post_create(u.host, u.port);
	if (p->tls)
		http_post_set_tls(p->http, p->tls);
	http_url_free(&u);
	http_post_set_cutoff(p->http, &o->cutoff);
	p->abort = env->abort;
	snprintf(p->meta.instance, sizeof(p->meta.instance), "%s", env->instance ? env->instance : "");
	snprintf(p->meta.id, sizeof(p->meta.id), "%s/%ld", p->meta.instance, (long)getpid());
	p->q = outq_create(PUSH_QUEUE, 1, consume, p);
	if (!p->q) {
		snprintf(err, errsz, "cannot start its thread");
		pusher_free(p);
		return -1;
	}
	outq_set_cutoff(p->q, &o->cutoff);
	o->impl = p;
	return 0;
}

static void push_snapshot(output *o, const met_snapshot *snap)
{
	pusher *p = o->impl;
	outq_job *j = outq_job_create(NULL, 0, PUSH_TEXT_MAX);
	char *text;

	p->meta.wall_ns = snap->wall_ns;
	p->meta.elapsed_ns = snap->elapsed_ns;
	p->meta.interval_ns = snap->interval_ns;
	/* The interval on the wall clock of the instance's own summary, so
	 * the collector slots it where strain merge would. */
	p->meta.start_wall_ns = snap->start_wall_ns ? snap->start_wall_ns : snap->wall_ns - snap->elapsed_ns;
	p->meta.interval_start_ns = p->meta.start_wall_ns + (snap->elapsed_ns - snap->interval_ns);
	p->meta.final = snap->final;
	text = met_wire_encode(&p->meta, snap->reg, snap->interval);
	p->meta.seq++;
	j->npoints = 1;
	if (!text || buf_appends(&j->text, text) < 0 || outq_push(p->q, j) < 0) {
		count(p, 0, 1);
		outq_job_free(j);
	}
	free(text);
}

static void push_stats(output *o, output_stats *stats)
{
	pusher *p = o->impl;

	pthread_mutex_lock(&p->lock);
	*stats = p->st;
	pthread_mutex_unlock(&p->lock);
}

static int push_close(output *o, output_stats *stats)
{
	pusher *p = o->impl;
	uint64_t left;

	if (!p)
		return 0;
	output_cutoff_at(o, clock_mono_ns() + PUSH_FLUSH);
	left = outq_close(p->q, atomic_load(&o->cutoff));
	outq_destroy(p->q);
	p->q = NULL;
	count(p, 0, left);
	*stats = p->st;
	pusher_free(p);
	o->impl = NULL;
	return 0;
}

const output_ops collect_push_ops = {"collector", push_open, push_snapshot, push_close, push_stats};
