#include "engine/run.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "engine/errcode.h"
#include "engine/worker.h"
#include "metrics/collector.h"
#include "output/console.h"
#include "output/output.h"
#include "output/summary.h"

/* k6's maxDuration default for iteration-bound executors. */
#define DEFAULT_MAX_DURATION (10 * 60 * NS_PER_SEC)

void run_config_init(run_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vus = 1;
	cfg->timeout_ns = 60 * NS_PER_SEC;
	cfg->connect_timeout_ns = 30 * NS_PER_SEC;
	cfg->graceful_stop_ns = 30 * NS_PER_SEC;
	cfg->expected_lo = 200;
	cfg->expected_hi = 399;
	cfg->scenario = "default";
}

void run_config_free(run_config *cfg)
{
	uint32_t i;

	for (i = 0; i < cfg->nreqs; i++) {
		run_request *r = &cfg->reqs[i];

		free(r->method);
		free(r->url_str);
		free(r->name);
		http_url_free(&r->url);
		buf_free(&r->wire);
	}
	free(cfg->reqs);
	free(cfg->description);
	cfg->reqs = NULL;
	cfg->nreqs = 0;
}

static int header_name_is(const char *h, const char *name)
{
	size_t n = strlen(name);

	return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int run_request_build(run_request *r, const char *method, const char *url, const char *const *headers,
		      uint32_t nheaders, const char *body, size_t body_len, int no_reuse, char *err,
		      size_t errsz)
{
	int has_host = 0, has_ua = 0, has_cl = 0, has_te = 0;
	uint32_t i;
	const char *m;

	memset(r, 0, sizeof(*r));
	for (m = method; *m; m++)
		if (!((*m >= 'A' && *m <= 'Z') || (*m >= 'a' && *m <= 'z') || *m == '-' || *m == '_')) {
			snprintf(err, errsz, "'%s' is not an HTTP method", method);
			return -1;
		}
	if (!*method) {
		snprintf(err, errsz, "empty HTTP method");
		return -1;
	}
	if (http_url_parse(url, &r->url, err, errsz) < 0)
		return -1;
	if (strcmp(r->url.scheme, "http") != 0) {
		snprintf(err, errsz, "'%s': https:// is not supported yet", url);
		http_url_free(&r->url);
		return -1;
	}
	for (i = 0; i < nheaders; i++) {
		const char *h = headers[i], *colon = strchr(h, ':');

		if (!colon || colon == h || strpbrk(h, "\r\n")) {
			snprintf(err, errsz, "header '%s': expected 'Name: value'", h);
			http_url_free(&r->url);
			return -1;
		}
		has_host |= header_name_is(h, "host");
		has_ua |= header_name_is(h, "user-agent");
		has_cl |= header_name_is(h, "content-length");
		has_te |= header_name_is(h, "transfer-encoding");
	}
	r->method = xstrdup(method);
	for (char *p = r->method; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 32;
	r->url_str = xstrdup(url);
	r->name = xstrdup(url);
	r->head_method = strcmp(r->method, "HEAD") == 0;
	buf_init(&r->wire, 256, 64 * 1024 * 1024 + 65536);
	buf_printf(&r->wire, "%s %s HTTP/1.1\r\n", r->method, r->url.target);
	if (!has_host)
		buf_printf(&r->wire, "Host: %s\r\n", r->url.authority);
	if (!has_ua)
		buf_printf(&r->wire, "User-Agent: strain/%s\r\n", STRAIN_VERSION);
	for (i = 0; i < nheaders; i++) {
		const char *h = headers[i], *colon = strchr(h, ':'), *v = colon + 1;

		while (*v == ' ' || *v == '\t')
			v++;
		buf_append(&r->wire, h, (size_t)(colon - h));
		buf_printf(&r->wire, ": %s\r\n", v);
	}
	if (no_reuse)
		buf_appends(&r->wire, "Connection: close\r\n");
	if ((body_len || !(r->head_method || strcmp(r->method, "GET") == 0 || strcmp(r->method, "DELETE") == 0 ||
			   strcmp(r->method, "OPTIONS") == 0)) && !has_cl && !has_te)
		buf_printf(&r->wire, "Content-Length: %zu\r\n", body_len);
	buf_appends(&r->wire, "\r\n");
	if (body_len && buf_append(&r->wire, body, body_len) < 0) {
		snprintf(err, errsz, "request body too large (limit 64 MiB)");
		return -1;
	}
	return 0;
}

/* When a name has several addresses (localhost: ::1 and 127.0.0.1), use the
 * first that accepts a connection, as a dialer with fallback would. */
static int pick_address(const net_addr *addrs, int n)
{
	int i;

	for (i = 0; i < n && n > 1; i++) {
		int fd = net_socket(&addrs[i]), rc;
		struct pollfd p;

		if (fd < 0)
			continue;
		rc = net_connect(fd, &addrs[i]);
		if (rc == 1) {
			p.fd = fd;
			p.events = POLLOUT;
			rc = poll(&p, 1, 500) == 1 && net_socket_error(fd) == 0 ? 0 : -1;
		}
		close(fd);
		if (rc == 0)
			return i;
	}
	return 0;
}

static void resolve_all(run_config *cfg)
{
	uint32_t i, j;

	for (i = 0; i < cfg->nreqs; i++) {
		run_request *r = &cfg->reqs[i];
		net_addr addrs[RUN_MAX_ADDRS];
		int n;

		for (j = 0; j < i; j++)
			if (strcmp(cfg->reqs[j].url.host, r->url.host) == 0 &&
			    strcmp(cfg->reqs[j].url.port, r->url.port) == 0)
				break;
		if (j < i) {
			r->addr = cfg->reqs[j].addr;
			r->resolve_error = cfg->reqs[j].resolve_error;
			continue;
		}
		n = net_resolve(r->url.host, r->url.port, addrs, RUN_MAX_ADDRS);
		if (n <= 0) {
			r->resolve_error = n == EAI_NONAME || n == EAI_NODATA ? ERR_DNS_NO_HOST : ERR_DNS;
			fprintf(stderr, "strain: warning: cannot resolve %s: %s; every request to it will fail with %d\n",
				r->url.host, gai_strerror(n), r->resolve_error);
			continue;
		}
		r->addr = addrs[pick_address(addrs, n)];
	}
}

typedef struct run_state {
	run_ctx ctx;
	worker **workers;
	uint32_t nworkers;
	uint32_t s_vus, s_vus_max;
} run_state;

static met_shard *swap_cb(void *p, uint32_t i)
{
	run_state *st = p;

	return worker_swap(st->workers[i]);
}

static void gauges_cb(void *p, met_shard *interval)
{
	run_state *st = p;
	uint32_t i, vus = 0;

	/* The most VUs active at any point of the interval, so a short burst
	 * or the last interval of a run still shows them. */
	for (i = 0; i < st->nworkers; i++) {
		worker *w = st->workers[i];
		uint32_t cur = atomic_load_explicit(&w->vus_active, memory_order_relaxed);
		uint32_t peak = atomic_exchange_explicit(&w->vus_peak, cur, memory_order_relaxed);

		vus += peak > cur ? peak : cur;
	}
	met_shard_gauge(interval, st->ctx.reg, st->s_vus, vus);
	met_shard_gauge(interval, st->ctx.reg, st->s_vus_max, st->ctx.cfg->vus);
}

static uint32_t default_threads(uint32_t vus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return (uint32_t)n < vus ? (uint32_t)n : (vus ? vus : 1);
}

int run_execute(run_config *cfg)
{
	run_state st;
	met_registry *reg = met_registry_create();
	met_collector *coll = NULL;
	console_live *live = NULL;
	met_tag scen = {"scenario", cfg->scenario};
	uint32_t ts_scen, i, first = 1;
	uint64_t t_start_wall;
	sigset_t sigs;
	int interrupted = 0, rc = CLI_EXIT_OK;
	long nofile;
	met_shard **rest = NULL;
	output **outs = NULL;
	summary_output *outstats = NULL;
	output_env oenv;
	summary_info info;
	char err[512], host[256] = "";

	memset(&st, 0, sizeof(st));
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	nofile = net_raise_nofile();
	if (nofile > 0 && (uint64_t)nofile < (uint64_t)cfg->vus + 64)
		fprintf(stderr, "strain: warning: open-file limit %ld is below %u VUs + margin; raise it with ulimit -n\n",
			nofile, cfg->vus);
	resolve_all(cfg);

	st.ctx.cfg = cfg;
	st.ctx.reg = reg;
	ts_scen = met_tagset_intern(reg, &scen, 1);
	st.ctx.s_iterations = met_series_intern(reg, MET_ITERATIONS, ts_scen);
	st.ctx.s_iteration_duration = met_series_intern(reg, MET_ITERATION_DURATION, ts_scen);
	st.ctx.s_data_sent = met_series_intern(reg, MET_DATA_SENT, ts_scen);
	st.ctx.s_data_received = met_series_intern(reg, MET_DATA_RECEIVED, ts_scen);
	st.s_vus = met_series_intern(reg, MET_VUS, 0);
	st.s_vus_max = met_series_intern(reg, MET_VUS_MAX, 0);

	/* Outputs first: whether they want raw samples decides how workers record. */
	outs = xcalloc(cfg->nouts + 1, sizeof(*outs));
	gethostname(host, sizeof(host) - 1);
	oenv.reg = reg;
	oenv.start_wall_ns = clock_wall_ns();
	oenv.instance = host;
	for (i = 0; i < cfg->nouts; i++) {
		outs[i] = output_create(cfg->outs[i], &oenv, err, sizeof(err));
		if (!outs[i]) {
			fprintf(stderr, "strain: --out %s: %s\n", cfg->outs[i], err);
			rc = CLI_EXIT_BAD_CONFIG;
			goto out;
		}
		st.ctx.keep_samples |= outs[i]->wants_samples;
	}

	st.nworkers = cfg->threads ? cfg->threads : default_threads(cfg->vus);
	if (st.nworkers > cfg->vus && cfg->vus)
		st.nworkers = cfg->vus;
	st.workers = xcalloc(st.nworkers, sizeof(*st.workers));

	/* Workers inherit this mask; only the main thread takes the signals. */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	st.ctx.t0 = clock_mono_ns();
	t_start_wall = clock_wall_ns();
	st.ctx.wall0 = t_start_wall;
	if (cfg->duration_ns)
		st.ctx.t_end = st.ctx.t0 + cfg->duration_ns;
	else
		st.ctx.t_end = st.ctx.t0 + DEFAULT_MAX_DURATION;
	for (i = 0; i < st.nworkers; i++) {
		uint32_t nv = cfg->vus / st.nworkers + (i < cfg->vus % st.nworkers);
		uint64_t it = 0;

		if (cfg->iterations)
			it = cfg->iterations / st.nworkers + (i < cfg->iterations % st.nworkers);
		st.workers[i] = worker_create(&st.ctx, i, first, nv, it);
		if (!st.workers[i]) {
			fprintf(stderr, "strain: cannot create worker %u: %s\n", i, strerror(errno));
			st.nworkers = i;
			rc = CLI_EXIT_SETUP;
			goto out;
		}
		first += nv;
	}
	{
		met_source src = {st.nworkers, swap_cb, gauges_cb, &st};
		met_output o;

		coll = met_collector_create(reg, &src, NS_PER_SEC, st.ctx.t0);
		if (st.ctx.keep_samples)
			met_collector_keep_samples(coll);
		for (i = 0; i < cfg->nouts; i++) {
			o = output_met(outs[i]);
			met_collector_add_output(coll, &o);
		}
		live = console_live_create(stderr, cfg->quiet, cfg->duration_ns);
		if (live) {
			o.snapshot = console_live_snapshot;
			o.self = live;
			met_collector_add_output(coll, &o);
		}
	}
	for (i = 0; i < st.nworkers; i++)
		if (worker_start(st.workers[i]) < 0) {
			fprintf(stderr, "strain: cannot start worker thread %u\n", i);
			abort();
		}
	met_collector_start(coll);

	while (atomic_load(&st.ctx.finished) < st.nworkers) {
		struct timespec wait = {0, 50 * 1000 * 1000};
		int sig = sigtimedwait(&sigs, NULL, &wait);

		if (sig != SIGINT && sig != SIGTERM)
			continue;
		interrupted++;
		for (i = 0; i < st.nworkers; i++)
			worker_request_stop(st.workers[i], interrupted == 1 ? STOP_GRACEFUL : STOP_HARD);
		if (interrupted == 1) {
			console_live_set_note(live, "stopping: finishing in-flight requests (signal again to stop now)");
			if (!cfg->quiet)
				fprintf(stderr, "\nstrain: stopping; in-flight iterations get %.0fs (signal again to stop now)\n",
					(double)cfg->graceful_stop_ns / 1e9);
		}
	}
	met_collector_stop(coll);
	for (i = 0; i < st.nworkers; i++) {
		worker_request_exit(st.workers[i]);
		worker_join(st.workers[i]);
	}
	rest = xcalloc(st.nworkers * 2 + 1, sizeof(*rest));
	for (i = 0; i < st.nworkers; i++) {
		rest[2 * i] = &st.workers[i]->shards[0];
		rest[2 * i + 1] = &st.workers[i]->shards[1];
	}
	met_collector_finish(coll, rest, st.nworkers * 2);
	outstats = xcalloc(cfg->nouts + 1, sizeof(*outstats));
	for (i = 0; i < cfg->nouts; i++) {
		output_stats os;

		if (output_close(outs[i], &os) < 0)
			rc = CLI_EXIT_ERROR;
		output_destroy(outs[i]);
		outs[i] = NULL;
		outstats[i].spec = cfg->outs[i];
		outstats[i].written = os.points_written;
		outstats[i].dropped = os.points_dropped;
		outstats[i].errors = os.write_errors;
		outstats[i].last_error = xstrdup(os.last_error);
	}

	memset(&info, 0, sizeof(info));
	info.description = cfg->description;
	info.start_wall_ns = t_start_wall;
	info.end_wall_ns = clock_wall_ns();
	info.elapsed_ns = clock_mono_ns() - st.ctx.t0;
	info.interrupted = interrupted > 0;
	info.vus = cfg->vus;
	info.threads = st.nworkers;
	info.duration_ns = cfg->duration_ns;
	info.iterations = cfg->iterations;
	info.timeout_ns = cfg->timeout_ns;
	info.no_reuse = cfg->no_reuse;
	info.series_overflow = met_series_overflowed(reg);
	info.outputs = outstats;
	info.noutputs = cfg->nouts;
	if (!cfg->quiet)
		summary_print(stdout, reg, met_collector_total(coll), &info);
	fflush(stdout);
	if (cfg->summary_export &&
	    summary_export(cfg->summary_export, reg, met_collector_total(coll), &info, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain: %s\n", err);
		rc = CLI_EXIT_ERROR;
	}
	if (interrupted)
		rc = CLI_EXIT_INTERRUPTED;
out:
	pthread_sigmask(SIG_UNBLOCK, &sigs, NULL);
	for (i = 0; outs && i < cfg->nouts; i++) {
		if (outs[i]) {
			output_stats os;

			output_close(outs[i], &os);
			output_destroy(outs[i]);
		}
	}
	for (i = 0; outstats && i < cfg->nouts; i++)
		free((char *)outstats[i].last_error);
	free(outs);
	free(outstats);
	free(rest);
	for (i = 0; i < st.nworkers; i++)
		worker_destroy(st.workers[i]);
	free(st.workers);
	met_collector_destroy(coll);
	console_live_destroy(live);
	met_registry_destroy(reg);
	return rc;
}
