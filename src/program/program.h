/* The program: what a plan or the quick-mode flags compile to — requests,
 * scenarios (modules), phases (strategies), data, thresholds — and, until
 * they move out, the run's options. The engine reads it. */
#ifndef STRAIN_PROGRAM_PROGRAM_H
#define STRAIN_PROGRAM_PROGRAM_H

#include <stdint.h>

#include "core/buf.h"
#include "http/proxy.h"
#include "http/url.h"
#include "io/net.h"
#include "metrics/threshold.h"
#include "program/flow.h"
#include "program/segment.h"
#include "program/tmpl.h"


/* A header of a request as the plan or the command line gives it: the
 * plan's defaults merged with the request's own (the request's win). */
typedef struct run_header {
	char *name;
	tmpl value;         /* TESC_HEADER */
} run_header;

/* One request of a flow: a description the one request writer
 * (http/request.h) turns into bytes. When nothing in it is templated its
 * wire bytes are built once, at load; otherwise the VU expands the target,
 * header values and body into its own buffers and writes them per request
 * (engine/request.h). */
typedef struct run_request {
	char *method;
	char *url_str;      /* the url tag: the URL as written, templates unexpanded */
	char *name;         /* name tag; defaults to the URL as written */
	int named;          /* the name is the plan's own (`name:`), not the URL */
	char *group;        /* group tag ("" outside groups, "::a::b" inside) */
	http_url url;
	const char *user_agent; /* the default User-Agent: NULL strain's, "" none;
				 * borrowed from the run_config (--user-agent) */
	buf wire;           /* the complete request, when static */
	int dynamic;        /* target, a header or the body is templated */
	tmpl target;        /* path and query */
	run_header *headers; /* the user's, in order */
	uint32_t nheaders;
	unsigned user_fields; /* HTTP_USER_*: framing headers among them */
	unsigned req_flags;   /* HTTP_REQ_*: body framing, Connection: close */
	int close_after;      /* no further request on its connection: --no-connection-reuse, or
			       * the user's own Connection: close */
	int conn_varies;      /* a templated Connection header: close_after is decided per request */
	tmpl body;          /* request body (may be static) */
	int head_method;    /* HEAD: responses carry no body */
	int tls;            /* https:// */
	const http_proxy *proxy; /* the proxy it goes through (borrowed from the run_config), or NULL */
	char *origin;       /* "http://authority": the absolute form for a proxy (owned), or NULL */
	uint64_t timeout_ns; /* 0: the run's */
	status_set expect;  /* n == 0: the run's expected range */
	flow_extract *extracts;
	uint32_t nextracts;
	flow_check *checks;
	uint32_t nchecks;
	int needs_body;     /* extraction or checks read the body */
	int compression;    /* http_coding of the body as sent (compression:), 0 none */
	uint32_t max_reqs;  /* max_requests_per_connection, 0 no limit */
	uint64_t max_age_ns; /* max_connection_age, 0 no limit */
	int max_redirects;  /* redirects followed; -1: the run's (run_config.max_redirects) */
} run_request;

/* One entry of k6's hosts: name (and, when given, port) pinned to an
 * address (and port, when given). */
typedef struct run_host_pin {
	char *name;
	char *port;         /* NULL: every port */
	net_addr addr;      /* port 0 when addr_port is 0 */
	int addr_port;      /* 0: the request's own port */
} run_host_pin;

/* The compiled program: what a plan or quick mode's flags compile to, and
 * what the engine, the suite and the report read. Nobody writes it once it
 * is built: run-time state (resolved addresses, data cursors' positions are
 * the one exception, atomics in run_data) lives with whoever computes it,
 * threshold results with the suite. Owned by whoever built it
 * (run_config_free); every pointer in it points into it. */
typedef struct run_config {
	run_request *reqs;          /* every request of every scenario */
	uint32_t nreqs;
	run_scenario *scenarios;    /* modules */
	uint32_t nscenarios;
	run_phase *phases;          /* executed in order */
	uint32_t nphases;
	run_data *data;
	uint32_t ndata;
	char **groups;              /* group names by index (OP_GROUP_*) */
	uint32_t ngroups;
	flow_choice *choices;
	uint32_t nchoices;
	flow_parallel *parallels;   /* parallel blocks (OP_PARALLEL) */
	uint32_t nparallels;
	flow_check **checks;        /* by check id */
	uint32_t nchecks;
	met_threshold *thresholds;  /* specifications; results are the suite's */
	uint32_t nthresholds;
	char **plan_outs;           /* the outputs the plan asks for, nplan_outs of them */
	uint32_t nplan_outs;
	/* What was asked, for the summary: the largest phase's VUs, and quick
	 * mode's --duration (0 when iteration-bound) and --iterations. */
	uint32_t vus;
	uint64_t planned_duration_ns;
	uint64_t planned_iterations;
	char *target;               /* the plan's target or quick mode's URL, for the report; NULL if none */
	/* How the load is made: k6's options, from the flags or the plan. */
	uint32_t threads;           /* 0: one per core */
	uint64_t timeout_ns;        /* per request, like k6's timeout (default 60 s) */
	uint64_t connect_timeout_ns;
	uint64_t graceful_stop_ns;  /* in-flight iterations get this long at the end */
	int no_reuse;               /* new connection per request (k6 noConnectionReuse) */
	int discard_bodies;         /* discard_response_bodies (k6 discardResponseBodies): no body is kept */
	/* Quick mode's --compression, --max-requests-per-connection and
	 * --max-connection-age, for its one request. */
	int compression;
	uint32_t max_reqs;
	uint64_t max_age_ns;
	int expected_lo, expected_hi; /* statuses that are not failures */
	int tls_insecure;           /* --insecure-skip-tls-verify */
	int no_tls_resumption;      /* every TLS connection is a full handshake */
	const char *tls_cacert;     /* extra CA certificates (PEM), or NULL; points into tls_files */
	const char *tls_cert;       /* client certificate for mutual TLS, or NULL; into tls_files */
	const char *tls_key;        /* its key; NULL: in the cert file; into tls_files */
	char *tls_files[3];         /* owned copies of the three paths (cacert, cert, key) */
	char *user_agent;           /* --user-agent: NULL strain's default, "" none (owned) */
	/* The run's own tags (its testid, a plan's tags:, --tag): every sample
	 * carries them (metrics/registry.h, met_registry_set_run_tags). Owned
	 * copies, at most MET_MAX_RUN_TAGS. */
	met_tag *run_tags;
	uint32_t nrun_tags;
	const char *testid;         /* the run id: the testid tag's value, in run_tags */
	int http_debug;             /* --http-debug: 0 off, 1 heads, 2 heads and bodies */
	uint32_t max_redirects;     /* k6 maxRedirects: redirects followed per request (default 10; 0 off) */
	int no_cookies_reset;       /* k6 noCookiesReset: a VU's cookie jar outlives its iterations */
	/* k6's dns option (io/resolve.h): ttl, select, policy; dns_server is
	 * strain's own (a DNS server to ask instead of the system's), owned. */
	uint64_t dns_ttl_ns;
	int dns_select, dns_policy;
	char *dns_server;
	run_host_pin *hosts;        /* k6's hosts: names pinned to addresses */
	uint32_t nhosts;
	net_addr *local_ips;        /* k6's localIPs: VU i binds to local_ips[(i - 1) % n] */
	uint32_t nlocal_ips;
	const char *local_ips_key;  /* how the user spelled it, for setup errors: "--local-ips" or "local_ips" */
	/* Proxies: for http:// and https:// origins (NULL: direct), the
	 * NO_PROXY list, and whether they came from the environment (then, as
	 * in Go, localhost and loopback addresses never go through them). */
	http_proxy *proxy_http, *proxy_https;
	char *no_proxy;
	int proxy_from_env;
	/* This process's execution segment (k6's): its share of every
	 * module's VUs, iterations and arrival schedule (program/segment.h).
	 * The whole run unless --execution-segment, --segment-index or the
	 * plan's execution: says otherwise. Owned. */
	seg_tuple segment;
	char *instance;             /* the instance tag's value (owned), or NULL: none */
	/* What no output, log or message may show (core/redact.h): built at
	 * load; NULL: only the rules every run has. Owned. */
	struct redact *secrets;
} run_config;

/* Fills defaults (k6's where k6 has them). */
void run_config_init(run_config *cfg);
void run_config_free(run_config *cfg);
/* Sets the run tag key to a copy of value, replacing one of the same key
 * (later wins: the plan's, then --tag). Returns 0, or -1 when the run has
 * MET_MAX_RUN_TAGS already. */
int run_config_tag_set(run_config *cfg, const char *key, const char *value);

/* Why KEY=VALUE cannot be a run tag ("the key ..."), or NULL when it can:
 * a key of letters, digits, '_', '-' and '.', up to 64 bytes; a value of
 * 1 to 256 bytes without control characters. */
const char *run_tag_problem(const char *key, const char *value);

/* Sets TLS file i (0 cacert, 1 cert, 2 key) to a copy of path (NULL: none). */
void run_config_tls_file(run_config *cfg, int i, const char *path);

/* Reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY (upper case first, then lower
 * case, as Go's httpproxy) into cfg's proxies, unless one is set already.
 * Returns 0, or -1 with a message in err (an unparsable proxy URL). */
int run_config_proxy_env(run_config *cfg, char *err, size_t errsz);

#endif
