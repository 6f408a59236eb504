/* A run: the compiled form of what to execute (quick mode today, plans
 * later compile to the same thing), and the driver that executes it —
 * worker threads, the metrics collector, signals, outputs and summary. */
#ifndef STRAIN_ENGINE_RUN_H
#define STRAIN_ENGINE_RUN_H

#include <stdint.h>

#include "core/buf.h"
#include "core/net.h"
#include "http/url.h"

#define RUN_MAX_ADDRS 8

/* One request of a flow. Its wire bytes are built once at load time. */
typedef struct run_request {
	char *method;
	char *url_str;      /* as given; the url tag */
	char *name;         /* name tag; defaults to the URL */
	http_url url;
	buf wire;           /* the complete request: head and body */
	int head_method;    /* HEAD: responses carry no body */
	net_addr addr;      /* resolved at start */
	int resolve_error;  /* ERR_DNS* when resolution failed; every request then fails */
} run_request;

typedef struct run_config {
	run_request *reqs;          /* the flow: every iteration sends these in order */
	uint32_t nreqs;
	uint32_t vus;
	uint64_t duration_ns;       /* 0: until iterations are done */
	uint64_t iterations;        /* total across VUs; 0: until duration ends */
	uint32_t threads;           /* 0: one per core */
	uint64_t timeout_ns;        /* per request, like k6's timeout (default 60 s) */
	uint64_t connect_timeout_ns;
	uint64_t graceful_stop_ns;  /* in-flight iterations get this long at the end */
	int no_reuse;               /* new connection per request (k6 noConnectionReuse) */
	int expected_lo, expected_hi; /* statuses that are not failures */
	const char *scenario;       /* scenario tag */
	int quiet;
	const char *summary_export; /* path or NULL */
	const char **outs;          /* --out specs ("json=FILE"), nouts of them */
	uint32_t nouts;
	char *description;          /* one line for the summary header */
} run_config;

/* Fills defaults (k6's where k6 has them). */
void run_config_init(run_config *cfg);
void run_config_free(run_config *cfg);

/* Builds a request's wire bytes. headers: "Name: value" strings. Returns 0,
 * or -1 with a message in err. */
int run_request_build(run_request *r, const char *method, const char *url, const char *const *headers,
		      uint32_t nheaders, const char *body, size_t body_len, int no_reuse, char *err,
		      size_t errsz);

/* Executes the run: resolves names, starts workers and the collector, shows
 * live progress, prints the summary, writes --summary-export. Returns the
 * process exit status (0, 105 when interrupted, 107 if it could not start). */
int run_execute(run_config *cfg);

#endif
