#include "engine/run.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "engine/record.h"
#include "engine/worker.h"
#include "io/net.h"
#include "io/resolve.h"
#include "io/tls.h"

/* One endpoint: how its connections are made. */
typedef struct run_ep {
	int tls, proxied;            /* proxied: through r->proxy */
	const char *host, *port;     /* the origin's */
	const http_proxy *proxy;
	buf connect;                 /* CONNECT bytes for an https:// origin through a proxy */
} run_ep;

struct engine {
	run_ctx ctx;
	const run_config *cfg;
	run_target *targets;         /* by request */
	run_ep *eps;                 /* by endpoint */
	http_endpoint *endpoints;    /* by endpoint, what connections read */
	resolver *res;
	worker **workers;            /* of the running phase */
	uint32_t nworkers;
	uint32_t s_vus, s_vus_max;   /* the run-wide gauges */
	/* A strategy's phase: the gauges per scenario (module and strategy
	 * tags), by the phase's scenario index; NULL otherwise. */
	uint32_t *s_scn_vus, *s_scn_vus_max;
	uint32_t vus_max;
	uint32_t vus_max_now;        /* last vus_max gauge (collector thread) */
	int stop;                    /* 0, or how the run was asked to stop */
	uint64_t start_at_wall;      /* --start-at: the next phase's schedule begins at this wall time (0: now) */
	int start_drop;              /* and what fell due before the phase began is dropped */
};

/* Requests to the same endpoint share connections and TLS sessions. An
 * http:// request through a proxy goes to the proxy whatever its origin
 * (the request line names it), so all of them share one endpoint per
 * proxy, as in Go's Transport; an https:// one gets a tunnel of its own
 * per origin. */
static int same_endpoint(const run_ep *e, const run_request *r)
{
	const http_proxy *p = r->proxy;

	if (e->tls != r->tls || e->proxied != (p != NULL) || e->proxy != p)
		return 0;
	if (p && !r->tls)
		return 1;
	return strcmp(e->host, r->url.host) == 0 && strcmp(e->port, r->url.port) == 0;
}

/* k6's hosts: the pin for host:port, or NULL. */
static const run_host_pin *pin_for(const run_config *cfg, const char *host, const char *port)
{
	uint32_t i;

	for (i = 0; i < cfg->nhosts; i++)
		if (!strcasecmp(cfg->hosts[i].name, host) && (!cfg->hosts[i].port || !strcmp(cfg->hosts[i].port, port)))
			return &cfg->hosts[i];
	return NULL;
}

int run_pin_addr(const run_config *cfg, const char *host, const char *port, net_addr *out)
{
	const run_host_pin *pin = pin_for(cfg, host, port);
	long p;

	if (!pin)
		return 0;
	/* The request's port, checked by the URL parser: 1 to 65535. */
	p = pin->addr_port ? pin->addr_port : strtol(port, NULL, 10);
	*out = pin->addr;
	if (out->sa.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&out->sa)->sin6_port = htons((uint16_t)p);
	else
		((struct sockaddr_in *)&out->sa)->sin_port = htons((uint16_t)p);
	return 1;
}

typedef struct dest_slot {
	const char *host, *port;
	resolve_host *h;
} dest_slot;

static resolve_host *dest_get(engine *e, dest_slot *d, uint32_t *nd, const char *host, const char *port)
{
	net_addr fixed;
	int pinned;
	uint32_t i;

	for (i = 0; i < *nd; i++)
		if (!strcmp(d[i].host, host) && !strcmp(d[i].port, port))
			return d[i].h;
	d[*nd].host = host;
	d[*nd].port = port;
	pinned = run_pin_addr(e->cfg, host, port, &fixed);
	d[*nd].h = resolver_add(e->res, host, port, pinned ? &fixed : NULL);
	return d[(*nd)++].h;
}

/* Where each request goes, decided at start: its endpoint (a connection
 * and a TLS session serve one) and the host its connections resolve —
 * the origin, or its proxy. Names are then resolved once, before any
 * traffic, and followed every dns.ttl by the resolver's thread. */
static int resolve_all(engine *e, char *err, size_t errsz)
{
	const run_config *cfg = e->cfg;
	resolve_opts ro = {cfg->dns_ttl_ns, cfg->dns_select, cfg->dns_policy, cfg->dns_server};
	dest_slot *dests = xcalloc(cfg->nreqs + 1, sizeof(*dests));
	resolve_host **by_ep;
	uint32_t i, k, nd = 0;

	e->res = resolver_create(&ro);
	e->ctx.res = e->res;
	e->targets = xcalloc(cfg->nreqs + 1, sizeof(*e->targets));
	e->eps = xcalloc(cfg->nreqs + 1, sizeof(*e->eps));
	by_ep = xcalloc(cfg->nreqs + 1, sizeof(*by_ep));
	e->ctx.targets = e->targets;
	e->ctx.nendpoints = 0;
	for (i = 0; i < cfg->nreqs; i++) {
		const run_request *r = &cfg->reqs[i];
		run_ep *ep;

		for (k = 0; k < e->ctx.nendpoints && !same_endpoint(&e->eps[k], r); k++)
			;
		e->targets[i].endpoint = k;
		if (k < e->ctx.nendpoints)
			continue;
		ep = &e->eps[e->ctx.nendpoints++];
		ep->tls = r->tls;
		ep->proxied = r->proxy != NULL;
		ep->proxy = r->proxy;
		ep->host = r->url.host;
		ep->port = r->url.port;
		buf_init(&ep->connect, 0, 64 * 1024);
		if (r->proxy) {
			by_ep[k] = dest_get(e, dests, &nd, r->proxy->url.host, r->proxy->url.port);
			if (r->tls) {
				char auth[300];
				int v6 = strchr(r->url.host, ':') != NULL;

				snprintf(auth, sizeof(auth), "%s%s%s:%s", v6 ? "[" : "", r->url.host, v6 ? "]" : "",
					 r->url.port);
				http_proxy_connect_write(auth, r->proxy->auth, &ep->connect);
			}
		} else {
			by_ep[k] = dest_get(e, dests, &nd, r->url.host, r->url.port);
		}
	}
	if (resolver_start(e->res) < 0) {
		snprintf(err, errsz, "cannot start the resolver thread: %s", strerror(errno));
		free(dests);
		free(by_ep);
		return -1;
	}
	e->endpoints = xcalloc(e->ctx.nendpoints + 1, sizeof(*e->endpoints));
	for (k = 0; k < e->ctx.nendpoints; k++) {
		e->endpoints[k].dest = by_ep[k];
		e->endpoints[k].connect = e->eps[k].connect.len ? e->eps[k].connect.data : NULL;
		e->endpoints[k].connect_len = e->eps[k].connect.len;
	}
	e->ctx.endpoints = e->endpoints;
	for (i = 0; i < nd; i++) {
		int n = resolve_host_error(dests[i].h);

		if (!n)
			continue;
		fprintf(stderr, "strain: warning: cannot resolve %s: %s; every request to it will fail with %d\n",
			dests[i].host, n == EAI_NODATA && cfg->dns_policy >= RESOLVE_ONLY_IPV4 ? "no address of the family dns.policy allows" : gai_strerror(n),
			n == EAI_NONAME || n == EAI_NODATA ? ERR_DNS_NO_HOST : ERR_DNS);
	}
	for (i = 0; i < cfg->nreqs; i++) {
		int n = resolve_host_error(by_ep[e->targets[i].endpoint]);

		if (n)
			e->targets[i].resolve_error = n == EAI_NONAME || n == EAI_NODATA ? ERR_DNS_NO_HOST : ERR_DNS;
	}
	free(dests);
	free(by_ep);
	return 0;
}

/* k6's localIPs: every address must be one this machine can send from,
 * checked before any traffic (a setup error naming the flag or key). */
static int local_ips_check(const run_config *cfg, char *err, size_t errsz)
{
	uint32_t i;

	for (i = 0; i < cfg->nlocal_ips; i++) {
		const net_addr *a = &cfg->local_ips[i];
		int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;
		char s[80];

		rc = fd < 0 ? -1 : net_bind_local(fd, a);
		if (rc < 0) {
			int en = errno;

			net_addr_str(a, s, sizeof(s));
			s[strlen(s) - 2] = '\0'; /* drop the ":0" */
			snprintf(err, errsz, "%s: cannot send from %s: %s", cfg->local_ips_key ? cfg->local_ips_key : "local_ips",
				 s, strerror(en));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static met_shard *swap_cb(void *p, uint32_t i)
{
	engine *st = p;

	return worker_swap(st->workers[i]);
}

static void gauges_cb(void *p, met_shard *interval)
{
	engine *st = p;
	uint32_t i, k, vus = 0, vus_max = 0;

	/* The most VUs active at any point of the interval, so a short burst
	 * or the last interval of a run still shows them. vus_max follows the
	 * VUs initialised, which arrival rates raise up to maxVUs. */
	for (i = 0; i < st->nworkers; i++) {
		uint32_t cur, peak, alloc;

		worker_vus_gauges(st->workers[i], &cur, &peak, &alloc);
		vus += peak > cur ? peak : cur;
		vus_max += alloc;
	}
	st->vus_max_now = vus_max;
	met_shard_gauge(interval, st->ctx.reg, st->s_vus, vus);
	met_shard_gauge(interval, st->ctx.reg, st->s_vus_max, vus_max);
	for (k = 0; st->s_scn_vus && k < st->ctx.phase->nscenarios; k++) {
		vus = vus_max = 0;
		for (i = 0; i < st->nworkers; i++) {
			uint32_t cur, peak, alloc;

			worker_scn_vus_gauges(st->workers[i], k, &cur, &peak, &alloc);
			vus += peak > cur ? peak : cur;
			vus_max += alloc;
		}
		met_shard_gauge(interval, st->ctx.reg, st->s_scn_vus[k], vus);
		met_shard_gauge(interval, st->ctx.reg, st->s_scn_vus_max[k], vus_max);
	}
}

/* A strategy's phase: its scenarios' own vus and vus_max series, tagged
 * like their samples (scenario, module, strategy), beside the run-wide
 * ones, so a dashboard's module picker applies to VUs too. A phase outside
 * strategies (quick mode, scenarios as written) has the run-wide ones only,
 * as in k6. */
static void scn_gauges_intern(engine *st, const run_phase *ph)
{
	uint32_t k;

	if (ph->strategy == STRATEGY_NONE)
		return;
	st->s_scn_vus = xcalloc(ph->nscenarios + 1, sizeof(uint32_t));
	st->s_scn_vus_max = xcalloc(ph->nscenarios + 1, sizeof(uint32_t));
	for (k = 0; k < ph->nscenarios; k++) {
		met_tag tags[MET_MAX_TAGS];
		size_t n = record_scenario_tags(&st->ctx, &st->cfg->scenarios[ph->scenarios[k]], tags, MET_MAX_TAGS);
		uint32_t ts = met_tagset_intern(st->ctx.reg, tags, n);

		st->s_scn_vus[k] = met_series_intern(st->ctx.reg, MET_VUS, ts);
		st->s_scn_vus_max[k] = met_series_intern(st->ctx.reg, MET_VUS_MAX, ts);
	}
}

/* Between phases (and while a phase's workers are being created or
 * destroyed) the workers must not be touched: the gauges repeat the last
 * vus_max and show no VUs. */
static void gauges_idle_cb(void *p, met_shard *interval)
{
	engine *st = p;

	met_shard_gauge(interval, st->ctx.reg, st->s_vus, 0);
	met_shard_gauge(interval, st->ctx.reg, st->s_vus_max, st->vus_max_now);
}

static uint32_t default_threads(uint32_t vus)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return (uint32_t)n < vus ? (uint32_t)n : (vus ? vus : 1);
}

static uint32_t share_of(uint64_t total, uint32_t slot, uint32_t nslots)
{
	return (uint32_t)(total / nslots + (slot < total % nslots));
}

/* A phase's scenarios' VUs spread over fresh workers. */
int engine_phase_run(engine *st, met_collector *coll, const run_phase *ph, run_phase_result *res,
		     engine_wait_fn wait, void *wctx)
{
	const run_config *cfg = st->cfg;
	uint32_t total = 0, k, i, next_id = 1;
	worker_share *shares;
	met_source src = {0, swap_cb, gauges_cb, st};
	met_source none = {0, NULL, gauges_idle_cb, st};
	int rc = 0;

	for (k = 0; k < ph->nscenarios; k++)
		total += (uint32_t)seg_scale(&cfg->segment, cfg->scenarios[ph->scenarios[k]].vus);
	st->nworkers = cfg->threads ? cfg->threads : default_threads(total);
	if (st->nworkers > total && total)
		st->nworkers = total;
	if (!st->nworkers)
		st->nworkers = 1;
	if (total > st->vus_max)
		st->vus_max = total;
	st->workers = xcalloc(st->nworkers, sizeof(*st->workers));
	shares = xcalloc((size_t)ph->nscenarios * st->nworkers + 1, sizeof(*shares));
	/* Each scenario's VUs and shared iterations are split evenly over the
	 * workers; VU ids run 1..N across the phase's scenarios (k6 numbers them per run).
	 * An arrival-rate schedule is split over at most maxVUs workers, so
	 * every worker that owns part of it has a VU to run it. */
	for (k = 0; k < ph->nscenarios; k++) {
		const run_scenario *sc = &cfg->scenarios[ph->scenarios[k]];
		uint32_t id = next_id, nslots = st->nworkers;
		/* This process's segment of the module: k6's striped shares. */
		uint32_t vus = (uint32_t)seg_scale(&cfg->segment, sc->vus);
		uint32_t prealloc = (uint32_t)seg_scale(&cfg->segment, sc->prealloc_vus);
		uint64_t iters = sc->exec == EXEC_SHARED_ITERATIONS ? seg_scale(&cfg->segment, sc->iterations)
								     : sc->iterations;

		/* Shared iterations, too, go only to workers that have a VU of
		 * the module: a share on a worker without one would be lost. */
		if ((exec_is_arrival(sc->exec) || sc->exec == EXEC_SHARED_ITERATIONS) && vus < nslots)
			nslots = vus ? vus : 1;
		for (i = 0; i < st->nworkers; i++) {
			worker_share *sh = &shares[(size_t)i * ph->nscenarios + k];

			sh->first_id = id;
			sh->slot = i;
			sh->nslots = nslots;
			if (i < nslots) {
				sh->nvus = share_of(vus, i, nslots);
				sh->prealloc = share_of(prealloc, i, nslots);
				sh->iters = iters / nslots + (i < iters % nslots);
			}
			id += sh->nvus;
		}
		next_id = id;
	}
	atomic_store(&st->ctx.finished, 0);
	st->ctx.phase = ph;
	scn_gauges_intern(st, ph);
	st->ctx.nworkers = st->nworkers;
	/* --start-at: the schedule is anchored at that wall time, not at the
	 * moment this thread got here (a process woken a few ms late, or
	 * started after it, stays in step with the others): the phase's clock
	 * starts in the past. */
	st->ctx.t0 = clock_mono_ns();
	st->ctx.late_ns = 0;
	if (st->start_at_wall) {
		uint64_t now_wall = clock_wall_ns();
		uint64_t late = now_wall > st->start_at_wall ? now_wall - st->start_at_wall : 0;

		st->ctx.t0 -= late;
		st->ctx.late_ns = st->start_drop ? late : 0;
		st->start_at_wall = 0;
	}
	st->ctx.wall0 = clock_wall_ns() - (clock_mono_ns() - st->ctx.t0);
	res->t_start = st->ctx.t0;
	for (i = 0; i < st->nworkers; i++) {
		size_t at = (size_t)i * ph->nscenarios;

		st->workers[i] = worker_create(&st->ctx, i, shares + at);
		if (!st->workers[i]) {
			fprintf(stderr, "strain: cannot create worker %u: %s\n", i, strerror(errno));
			st->nworkers = i;
			rc = -1;
			goto out;
		}
	}
	for (i = 0; i < st->nworkers; i++)
		if (worker_start(st->workers[i]) < 0) {
			fprintf(stderr, "strain: cannot start worker thread %u\n", i);
			abort();
		}
	src.n = st->nworkers;
	met_collector_set_source(coll, &src);
	if (st->stop)
		for (i = 0; i < st->nworkers; i++)
			worker_request_stop(st->workers[i], st->stop == ENGINE_STOP_GRACEFUL ? STOP_GRACEFUL : STOP_HARD);
	while (atomic_load(&st->ctx.finished) < st->nworkers)
		wait(wctx, 50 * NS_PER_MS);
	res->t_end = clock_mono_ns();
	met_collector_sample_gauges(coll);
	met_collector_set_source(coll, &none);
	for (i = 0; i < st->nworkers; i++) {
		met_shard *rest[2];

		worker_request_exit(st->workers[i]);
		worker_join(st->workers[i]);
		worker_shards(st->workers[i], rest);
		met_collector_absorb(coll, rest, 2);
	}
out:
	for (i = 0; i < st->nworkers; i++)
		worker_destroy(st->workers[i]);
	free(st->workers);
	st->workers = NULL;
	st->nworkers = 0;
	free(st->s_scn_vus);
	free(st->s_scn_vus_max);
	st->s_scn_vus = st->s_scn_vus_max = NULL;
	free(shares);
	return rc;
}

static int redirects_asked(const run_config *p)
{
	uint32_t i;

	for (i = 0; i < p->nreqs; i++)
		if (p->reqs[i].max_redirects > 0)
			return 1;
	return 0;
}

engine *engine_create(const run_config *p, met_registry *reg, int keep_samples, char *err, size_t errsz)
{
	engine *e = xcalloc(1, sizeof(*e));
	uint32_t i;

	e->cfg = p;
	e->ctx.cfg = p;
	e->ctx.reg = reg;
	e->ctx.keep_samples = keep_samples;
	for (i = 0; i < p->nreqs && !p->reqs[i].tls; i++)
		;
	/* A redirect may lead to https:// from a plain plan: the context is
	 * made whenever redirects are followed (engine/vu.c). */
	if (i < p->nreqs || p->max_redirects || redirects_asked(p)) {
		tls_client_opts to = {p->tls_insecure, p->tls_cacert, p->no_tls_resumption, p->tls_cert, p->tls_key,
				      i == p->nreqs};

		e->ctx.tls = tls_client_create(&to, err, errsz);
		if (!e->ctx.tls) {
			free(e);
			return NULL;
		}
	}
	if (local_ips_check(p, err, errsz) < 0 || resolve_all(e, err, errsz) < 0) {
		engine_destroy(e);
		return NULL;
	}
	e->s_vus = met_series_intern(reg, MET_VUS, 0);
	e->s_vus_max = met_series_intern(reg, MET_VUS_MAX, 0);
	return e;
}

void engine_start_at(engine *e, uint64_t wall_ns, int drop_due)
{
	e->start_at_wall = wall_ns;
	e->start_drop = drop_due;
}

met_source engine_idle_source(engine *e)
{
	return (met_source){0, NULL, gauges_idle_cb, e};
}

void engine_stop(engine *e, int how)
{
	uint32_t i;

	if (how > e->stop)
		e->stop = how;
	for (i = 0; i < e->nworkers; i++)
		worker_request_stop(e->workers[i], how == ENGINE_STOP_GRACEFUL ? STOP_GRACEFUL : STOP_HARD);
}

uint32_t engine_vus_max(const engine *e)
{
	return e->vus_max;
}

void engine_destroy(engine *e)
{
	if (!e)
		return;
	resolver_destroy(e->res);
	tls_client_destroy(e->ctx.tls);
	for (uint32_t k = 0; e->eps && k < e->ctx.nendpoints; k++)
		buf_free(&e->eps[k].connect);
	free(e->eps);
	free(e->endpoints);
	free(e->targets);
	free(e);
}
