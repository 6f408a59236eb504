/* Name resolution that follows the service (k6's `dns` option): each
 * host:port a run connects to is a resolve_host whose address set is
 * resolved at start and, for names, again every ttl by one resolver thread
 * (getaddrinfo: nothing ever resolves on a worker's loop). The policy
 * (IPv4/IPv6 preference) filters each answer; the select rule picks, per
 * new connection, one address of the set.
 *
 * Publishing: the resolver thread writes a new set under the host's mutex
 * and bumps its generation (release). A reader holds a resolve_view, its own
 * copy of the set: it compares generations (one acquire load) when it opens
 * a connection and copies the set under the mutex only when the generation
 * moved — once per change, never per request. No set is ever freed while a
 * reader can see it, because readers never point into the host's set. */
#ifndef STRAIN_IO_RESOLVE_H
#define STRAIN_IO_RESOLVE_H

#include <stdint.h>

#include "io/net.h"

/* Most addresses kept per name (a DNS answer rarely has more). */
#define RESOLVE_MAX_ADDRS 16
/* ttl: resolved once at start, never again (k6's "inf"). */
#define RESOLVE_TTL_INF UINT64_MAX

/* k6's dns.select. */
enum { RESOLVE_SELECT_RANDOM, RESOLVE_SELECT_FIRST, RESOLVE_SELECT_ROUND_ROBIN };
/* k6's dns.policy. */
enum { RESOLVE_PREFER_IPV4, RESOLVE_PREFER_IPV6, RESOLVE_ONLY_IPV4, RESOLVE_ONLY_IPV6, RESOLVE_ANY };

typedef struct resolve_opts {
	uint64_t ttl_ns;    /* RESOLVE_TTL_INF: once; 0: continuously (a round every 100 ms at most) */
	int select;         /* RESOLVE_SELECT_* */
	int policy;         /* RESOLVE_* policy */
	const char *server; /* strain's own dns.server: "IP:PORT" of the DNS server to ask,
			     * NULL for the system's (resolv.conf); copied */
} resolve_opts;

typedef struct resolve_set {
	net_addr a[RESOLVE_MAX_ADDRS];
	uint32_t n;
} resolve_set;

typedef struct resolver resolver;
typedef struct resolve_host resolve_host;

/* Parses k6's names: select "first" | "random" | "roundRobin"; policy
 * "preferIPv4" | "preferIPv6" | "onlyIPv4" | "onlyIPv6" | "any".
 * Return the enum value, or -1. */
int resolve_select_parse(const char *s);
int resolve_policy_parse(const char *s);

/* Keeps the addresses of in[0..n) that policy allows, in order, at most
 * max into out. Returns how many. */
uint32_t resolve_filter(const net_addr *in, uint32_t n, int policy, net_addr *out, uint32_t max);
/* Which of n addresses (n > 0) a new connection uses: first is 0, random
 * draws from *rng (xorshift64, nonzero), roundRobin takes *next and
 * advances it. */
uint32_t resolve_select(int select, uint32_t n, uint32_t *next, uint64_t *rng);

/* A resolver with no hosts. Free with resolver_destroy (accepts NULL). */
resolver *resolver_create(const resolve_opts *o);
/* Follows host:port. A numeric host, or one given a fixed address (fixed:
 * the `hosts:` map), never goes to DNS. The name is resolved by
 * resolver_start. The host belongs to the resolver. */
resolve_host *resolver_add(resolver *r, const char *host, const char *port, const net_addr *fixed);
/* Resolves every host once (on the resolver's thread, so dns.server
 * applies to it alone) and, when ttl is finite and some host is a name,
 * keeps that thread re-resolving every ttl. Returns 0, or -1 when the
 * thread cannot start (errno). */
int resolver_start(resolver *r);
/* After resolver_start: 0 when host h had an answer at start, else the
 * negative EAI_* code (gai_strerror names it; EAI_NODATA when the policy
 * left no address). */
int resolve_host_error(const resolve_host *h);
const char *resolve_host_name(const resolve_host *h);

/* During the run, from any thread (a worker following a redirect to a
 * host no request names): the host for host:port, the run's own when it
 * has one, else added — fixed (a `hosts:` pin) or numeric ones ready at
 * once, a name queued for the resolver thread (started now if the run
 * had no name at start), which looks it up once, then every ttl like the
 * others. While its first lookup is pending, fd (an eventfd) is written
 * when it ends — and at every later first lookup's end, until
 * resolver_unlisten. Takes the resolver's mutex: call it once per new
 * host per reader, never per request. The host belongs to the resolver. */
resolve_host *resolver_want(resolver *r, const char *host, const char *port, const net_addr *fixed, int fd);
/* 1 when h has addresses, 0 while its first lookup is pending, else the
 * negative EAI_* code of that lookup (kept: a name that failed stays
 * failed). One acquire load. */
int resolve_host_state(const resolve_host *h);
/* fd is no longer written (call before closing it). */
void resolver_unlisten(resolver *r, int fd);
/* Stops the thread and frees the hosts. A lookup in progress is not
 * waited for: the thread, detached, frees them once it returns. */
void resolver_destroy(resolver *r);

/* One reader's view of one host: its copy of the set and its select state.
 * Plain data, owned by the reader (one thread). */
typedef struct resolve_view {
	const resolve_host *h;
	uint64_t gen;
	uint64_t rng;
	uint32_t next;
	int select;
	resolve_set set;
} resolve_view;

/* seed varies the reader's start (roundRobin starts at seed mod n, random
 * draws from a seed-derived stream), so readers spread from the first
 * connection. */
void resolve_view_init(resolve_view *v, const resolve_host *h, uint32_t seed);
/* The address a new connection uses, or NULL when the host has none (its
 * start error). Takes the host's mutex only when its set changed since
 * this view last looked. */
const net_addr *resolve_view_pick(resolve_view *v);

#endif
