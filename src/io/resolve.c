#include "io/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"

/* ttl 0 means "no cache" in k6; here it means a lookup round as soon as
 * the last one ended, but not more often than this. */
#define RESOLVE_MIN_ROUND_NS (100 * NS_PER_MS)

struct resolve_host {
	resolve_host *next;
	char *name, *port;
	int is_name;               /* goes to DNS (not numeric, not pinned) */
	int start_err;             /* 0, or the negative EAI_* of the first round */
	int warned;                /* the once-only "keeping the last answer" */
	int select;                /* the resolver's, for views */
	_Atomic int ready;         /* its first lookup is done (start_err says how) */
	pthread_mutex_t mu;        /* guards set; gen changes inside it */
	_Atomic uint64_t gen;      /* bumped each time set changes */
	resolve_set set;
};

struct resolver {
	resolve_opts o;
	char *server;
	resolve_host *hosts;
	int names;                 /* some host goes to DNS */
	pthread_t thread;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* CLOCK_MONOTONIC */
	int stop;
	int first_done;
	int queued;                /* some name waits for its first lookup */
	int busy;                  /* the thread is inside a lookup */
	int orphan;                /* destroyed while busy: the thread frees it */
	int *fds;                  /* eventfds to write when a first lookup ends */
	uint32_t nfds, capfds;
};

int resolve_select_parse(const char *s)
{
	if (!strcmp(s, "random"))
		return RESOLVE_SELECT_RANDOM;
	if (!strcmp(s, "first"))
		return RESOLVE_SELECT_FIRST;
	if (!strcmp(s, "roundRobin"))
		return RESOLVE_SELECT_ROUND_ROBIN;
	return -1;
}

int resolve_policy_parse(const char *s)
{
	static const char *const names[] = {"preferIPv4", "preferIPv6", "onlyIPv4", "onlyIPv6", "any"};
	int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static int family_count(const net_addr *in, uint32_t n, int fam)
{
	uint32_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		c += in[i].sa.ss_family == fam;
	return c;
}

uint32_t resolve_filter(const net_addr *in, uint32_t n, int policy, net_addr *out, uint32_t max)
{
	int want = 0; /* 0: both families */
	uint32_t i, k = 0;

	switch (policy) {
	case RESOLVE_PREFER_IPV4:
		want = family_count(in, n, AF_INET) ? AF_INET : AF_INET6;
		break;
	case RESOLVE_PREFER_IPV6:
		want = family_count(in, n, AF_INET6) ? AF_INET6 : AF_INET;
		break;
	case RESOLVE_ONLY_IPV4:
		want = AF_INET;
		break;
	case RESOLVE_ONLY_IPV6:
		want = AF_INET6;
		break;
	default:
		break;
	}
	for (i = 0; i < n && k < max; i++)
		if (!want || in[i].sa.ss_family == want)
			out[k++] = in[i];
	return k;
}

uint32_t resolve_select(int select, uint32_t n, uint32_t *next, uint64_t *rng)
{
	uint64_t x;
	uint32_t i;

	switch (select) {
	case RESOLVE_SELECT_FIRST:
		return 0;
	case RESOLVE_SELECT_ROUND_ROBIN:
		i = *next % n;
		*next = i + 1;
		return i;
	default:
		x = *rng;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		*rng = x;
		return (uint32_t)(x % n);
	}
}

resolver *resolver_create(const resolve_opts *o)
{
	resolver *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;

	r->o = *o;
	r->server = o->server ? xstrdup(o->server) : NULL;
	r->o.server = r->server;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	return r;
}

static int numeric(const char *host, const char *port, net_addr *out)
{
	struct addrinfo hints = {0}, *res = NULL;
	int ok;

	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return 0;
	ok = res->ai_addrlen <= sizeof(out->sa);
	if (ok) {
		memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
		out->len = res->ai_addrlen;
	}
	freeaddrinfo(res);
	return ok;
}

static resolve_host *host_new(resolver *r, const char *host, const char *port, const net_addr *fixed)
{
	resolve_host *h = xcalloc(1, sizeof(*h));

	h->name = xstrdup(host);
	h->port = xstrdup(port);
	h->select = r->o.select;
	pthread_mutex_init(&h->mu, NULL);
	if (fixed) {
		h->set.a[0] = *fixed;
		h->set.n = 1;
	} else if (numeric(host, port, &h->set.a[0])) {
		h->set.n = 1;
	} else {
		h->is_name = 1;
		r->names = 1;
		r->queued = 1;
	}
	atomic_store(&h->ready, !h->is_name);
	atomic_store(&h->gen, 1);
	h->next = r->hosts;
	return h;
}

resolve_host *resolver_add(resolver *r, const char *host, const char *port, const net_addr *fixed)
{
	resolve_host *h = host_new(r, host, port, fixed);

	r->hosts = h;
	return h;
}

/* glibc's resolver state is per thread: pointing this thread's at the
 * server leaves every other thread's lookups alone. */
static void use_server(const resolver *r)
{
	char ip[64];
	const char *colon;
	size_t n;
	struct in_addr a;
	long port;

	if (!r->server)
		return;
	colon = strrchr(r->server, ':');
	n = colon ? (size_t)(colon - r->server) : 0;
	if (!colon || n >= sizeof(ip))
		return;
	memcpy(ip, r->server, n);
	ip[n] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (inet_pton(AF_INET, ip, &a) != 1 || port <= 0 || port > 65535)
		return;
	res_init();
	_res.nscount = 1;
	_res.nsaddr_list[0].sin_family = AF_INET;
	_res.nsaddr_list[0].sin_port = htons((uint16_t)port);
	_res.nsaddr_list[0].sin_addr = a;
}

static int same_set(const resolve_set *a, const net_addr *b, uint32_t n)
{
	uint32_t i;

	if (a->n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (a->a[i].len != b[i].len || memcmp(&a->a[i].sa, &b[i].sa, b[i].len))
			return 0;
	return 1;
}

/* One lookup of one name: a changed answer is published; a failed one
 * keeps the last good answer (said once per host). */
static void lookup(resolver *r, resolve_host *h, int first)
{
	net_addr raw[RESOLVE_MAX_ADDRS], kept[RESOLVE_MAX_ADDRS];
	int n = net_resolve(h->name, h->port, raw, RESOLVE_MAX_ADDRS);
	uint32_t k = 0;

	if (n > 0) {
		k = resolve_filter(raw, (uint32_t)n, r->o.policy, kept, RESOLVE_MAX_ADDRS);
		if (!k)
			n = EAI_NODATA;
	}
	if (!k) {
		if (first) {
			h->start_err = n < 0 ? n : EAI_NODATA;
			atomic_store_explicit(&h->ready, 1, memory_order_release);
		} else if (!h->warned) {
			h->warned = 1;
			fprintf(stderr, "strain: warning: resolving %s again failed (%s); keeping its last answer\n",
				h->name, gai_strerror(n));
		}
		return;
	}
	if (!same_set(&h->set, kept, k)) {
		pthread_mutex_lock(&h->mu);
		memcpy(h->set.a, kept, k * sizeof(kept[0]));
		h->set.n = k;
		atomic_fetch_add_explicit(&h->gen, 1, memory_order_release);
		pthread_mutex_unlock(&h->mu);
	}
	if (first)
		atomic_store_explicit(&h->ready, 1, memory_order_release);
	/* A name that had no answer at start stays failed (its requests were
	 * refused from the start); later answers are for the others. */
}

/* The list only grows at its head (under r->mu) and a host's next never
 * changes, so a walk from the head read under the lock is safe while
 * workers add hosts. */
static resolve_host *hosts_head(resolver *r)
{
	resolve_host *h;

	pthread_mutex_lock(&r->mu);
	h = r->hosts;
	pthread_mutex_unlock(&r->mu);
	return h;
}

/* First lookups: the start's names, then those a worker asked for. */
static void first_all(resolver *r)
{
	resolve_host *h;

	for (h = hosts_head(r); h; h = h->next)
		if (h->is_name && !atomic_load_explicit(&h->ready, memory_order_acquire))
			lookup(r, h, 1);
}

/* Every ttl: the names that had an answer at first. */
static void round_all(resolver *r)
{
	resolve_host *h;

	for (h = hosts_head(r); h; h = h->next)
		if (h->is_name && atomic_load_explicit(&h->ready, memory_order_acquire) && !h->start_err)
			lookup(r, h, 0);
}

/* Wakes the workers waiting on a first lookup (r->mu held: a worker
 * closes its fd only after resolver_unlisten). */
static void notify(resolver *r)
{
	uint64_t one = 1;
	uint32_t i;

	for (i = 0; i < r->nfds; i++)
		if (write(r->fds[i], &one, sizeof(one)) < 0 && errno != EAGAIN)
			perror("strain: resolver eventfd write");
}

static void resolver_free(resolver *r);

static void *resolver_main(void *p)
{
	resolver *r = p;
	uint64_t period = r->o.ttl_ns < RESOLVE_MIN_ROUND_NS ? RESOLVE_MIN_ROUND_NS : r->o.ttl_ns;
	uint64_t due = 0; /* the next ttl round; 0 before any name had a first lookup */
	int orphan;

	use_server(r);
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		if (r->queued) {
			r->queued = 0;
			r->busy = 1;
			pthread_mutex_unlock(&r->mu);
			first_all(r);
			pthread_mutex_lock(&r->mu);
			r->busy = 0;
			notify(r);
			if (!r->first_done) {
				r->first_done = 1;
				pthread_cond_broadcast(&r->cv);
			}
			if (!due)
				due = clock_mono_ns() + period;
			continue;
		}
		if (r->o.ttl_ns == RESOLVE_TTL_INF || !due) {
			pthread_cond_wait(&r->cv, &r->mu);
		} else if (clock_mono_ns() >= due) {
			r->busy = 1;
			pthread_mutex_unlock(&r->mu);
			round_all(r);
			pthread_mutex_lock(&r->mu);
			r->busy = 0;
			due = clock_mono_ns() + period;
		} else {
			struct timespec ts = {(time_t)(due / NS_PER_SEC), (long)(due % NS_PER_SEC)};

			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		}
	}
	orphan = r->orphan;
	pthread_mutex_unlock(&r->mu);
	if (orphan)
		resolver_free(r);
	return NULL;
}

int resolver_start(resolver *r)
{
	if (!r->names)
		return 0;
	if (pthread_create(&r->thread, NULL, resolver_main, r) != 0)
		return -1;
	r->running = 1;
	pthread_mutex_lock(&r->mu);
	while (!r->first_done)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void listen_fd(resolver *r, int fd)
{
	uint32_t i;

	for (i = 0; i < r->nfds; i++)
		if (r->fds[i] == fd)
			return;
	if (r->nfds == r->capfds) {
		r->capfds = r->capfds ? 2 * r->capfds : 8;
		r->fds = xrealloc(r->fds, r->capfds * sizeof(*r->fds));
	}
	r->fds[r->nfds++] = fd;
}

resolve_host *resolver_want(resolver *r, const char *host, const char *port, const net_addr *fixed, int fd)
{
	resolve_host *h;

	pthread_mutex_lock(&r->mu);
	for (h = r->hosts; h; h = h->next)
		if (!strcasecmp(h->name, host) && !strcmp(h->port, port))
			break;
	if (!h) {
		h = host_new(r, host, port, fixed);
		r->hosts = h;
		if (h->is_name && !r->running) {
			/* No name at start: the thread starts with the first one
			 * asked for (once per run). */
			if (pthread_create(&r->thread, NULL, resolver_main, r) == 0) {
				r->running = 1;
			} else {
				h->start_err = EAI_SYSTEM;
				atomic_store(&h->ready, 1);
			}
		}
		pthread_cond_broadcast(&r->cv);
	}
	if (!atomic_load_explicit(&h->ready, memory_order_acquire))
		listen_fd(r, fd);
	pthread_mutex_unlock(&r->mu);
	return h;
}

void resolver_unlisten(resolver *r, int fd)
{
	uint32_t i;

	pthread_mutex_lock(&r->mu);
	for (i = 0; i < r->nfds; i++)
		if (r->fds[i] == fd) {
			r->fds[i] = r->fds[--r->nfds];
			break;
		}
	pthread_mutex_unlock(&r->mu);
}

int resolve_host_state(const resolve_host *h)
{
	if (!atomic_load_explicit(&((resolve_host *)h)->ready, memory_order_acquire))
		return 0;
	return h->start_err ? h->start_err : 1;
}

int resolve_host_error(const resolve_host *h)
{
	return h->start_err;
}

const char *resolve_host_name(const resolve_host *h)
{
	return h->name;
}

static void resolver_free(resolver *r)
{
	resolve_host *h, *nx;

	for (h = r->hosts; h; h = nx) {
		nx = h->next;
		pthread_mutex_destroy(&h->mu);
		free(h->name);
		free(h->port);
		free(h);
	}
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->fds);
	free(r->server);
	free(r);
}

void resolver_destroy(resolver *r)
{
	pthread_t t;
	int busy;

	if (!r)
		return;
	if (r->running) {
		t = r->thread;
		pthread_mutex_lock(&r->mu);
		r->stop = 1;
		busy = r->busy;
		r->orphan = busy;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		/* A lookup can take the system resolver's whole timeout (seconds
		 * per try, a name that never answers): the run's end does not
		 * wait for it. The thread frees the resolver when the lookup
		 * returns; nothing else reads it after this. */
		if (busy) {
			pthread_detach(t);
			return;
		}
		pthread_join(t, NULL);
	}
	resolver_free(r);
}

void resolve_view_init(resolve_view *v, const resolve_host *h, uint32_t seed)
{
	memset(v, 0, sizeof(*v));
	v->h = h;
	v->select = h->select;
	v->next = seed;
	v->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed * 0xff51afd7ed558ccdull);
	if (!v->rng)
		v->rng = 1;
}

const net_addr *resolve_view_pick(resolve_view *v)
{
	resolve_host *h = (resolve_host *)v->h;
	uint64_t g = atomic_load_explicit(&h->gen, memory_order_acquire);

	if (g != v->gen) {
		pthread_mutex_lock(&h->mu);
		v->set = h->set;
		v->gen = atomic_load_explicit(&h->gen, memory_order_relaxed);
		pthread_mutex_unlock(&h->mu);
	}
	if (!v->set.n)
		return NULL;
	return &v->set.a[resolve_select(v->select, v->set.n, &v->next, &v->rng)];
}
