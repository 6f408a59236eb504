/* The program: what a plan or the quick-mode flags compile to — requests,
 * scenarios (modules), phases (strategies), data, thresholds — and, until
 * they move out, the run's options. The engine reads it. */
#ifndef STRAIN_PROGRAM_PROGRAM_H
#define STRAIN_PROGRAM_PROGRAM_H

#include <stdint.h>

#include "core/buf.h"
#include "http/url.h"
#include "io/net.h"
#include "metrics/threshold.h"
#include "program/flow.h"
#include "program/tmpl.h"

#define RUN_MAX_ADDRS 8

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
	char *group;        /* group tag ("" outside groups, "::a::b" inside) */
	http_url url;
	buf wire;           /* the complete request, when static */
	int dynamic;        /* target, a header or the body is templated */
	tmpl target;        /* path and query */
	run_header *headers; /* the user's, in order */
	uint32_t nheaders;
	unsigned user_fields; /* HTTP_USER_*: framing headers among them */
	unsigned req_flags;   /* HTTP_REQ_*: body framing, Connection: close */
	tmpl body;          /* request body (may be static) */
	int head_method;    /* HEAD: responses carry no body */
	int tls;            /* https:// */
	uint64_t timeout_ns; /* 0: the run's */
	status_set expect;  /* n == 0: the run's expected range */
	flow_extract *extracts;
	uint32_t nextracts;
	flow_check *checks;
	uint32_t nchecks;
	int needs_body;     /* extraction or checks read the body */
	net_addr addr;      /* resolved at start */
	uint32_t endpoint;  /* index of its scheme, host and port among the run's (at start) */
	int resolve_error;  /* ERR_DNS* when resolution failed; every request then fails */
} run_request;

typedef struct run_config {
	run_request *reqs;          /* every request of every scenario */
	uint32_t nreqs;
	uint32_t nendpoints;        /* distinct scheme, host and port among reqs (at start) */
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
	flow_check **checks;        /* by check id */
	uint32_t nchecks;
	met_threshold *thresholds;
	uint32_t nthresholds;
	uint32_t vus;               /* quick mode, and the largest phase's total for the summary */
	uint64_t duration_ns;       /* quick mode: 0 until iterations are done */
	uint64_t iterations;        /* quick mode: total across VUs */
	double rate;                /* quick mode --rate: iterations per second (0: closed model) */
	uint32_t max_vus;           /* quick mode --max-vus (0: --vus) */
	exec_stage *stages;         /* quick mode --stage: VU or rate targets; owned */
	uint32_t nstages;
	int queue;                  /* quick mode --queue */
	uint32_t threads;           /* 0: one per core */
	uint64_t timeout_ns;        /* per request, like k6's timeout (default 60 s) */
	uint64_t connect_timeout_ns;
	uint64_t graceful_stop_ns;  /* in-flight iterations get this long at the end */
	int no_reuse;               /* new connection per request (k6 noConnectionReuse) */
	int tls_insecure;           /* --insecure-skip-tls-verify */
	const char *tls_cacert;     /* --cacert FILE, or NULL */
	int no_tls_resumption;      /* --no-tls-resumption: every TLS connection is a full handshake */
	const char *tls_cert;       /* --cert FILE: client certificate for mutual TLS, or NULL */
	const char *tls_key;        /* --key FILE: its key; NULL: in the cert file */
	char *tls_files[3];         /* paths the plan gave (cacert, cert, key), owned */
	int expected_lo, expected_hi; /* statuses that are not failures */
	const char *scenario;       /* scenario tag */
	int quiet;
	const char *summary_export; /* path or NULL */
	const char **outs;          /* --out specs ("json=FILE"), nouts of them */
	char **plan_outs;           /* the plan's outputs (owned), nplan_outs of them */
	uint32_t nplan_outs;
	uint32_t nouts;
	char *description;          /* one line for the summary header */
} run_config;

/* Fills defaults (k6's where k6 has them). */
void run_config_init(run_config *cfg);
void run_config_free(run_config *cfg);

/* Makes cfg a quick-mode run: one scenario ("default") whose flow is
 * reqs[0], in one phase. Its executor follows the flags as k6's do: --rate
 * makes it constant-arrival-rate (with --stage, ramping-arrival-rate from
 * --rate); --stage alone ramping-vus from --vus; --iterations
 * shared-iterations; otherwise constant-vus. */
void run_config_quick(run_config *cfg);

#endif
