/* strain run: flags -> a program (a plan's, or quick mode's) -> suite_run. */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/parse.h"
#include "core/redact.h"
#include "io/net.h"
#include "io/resolve.h"
#include "http/proxy.h"
#include "metrics/trend_stats.h"
#include "plan/plan.h"
#include "plan/quick.h"
#include "program/exec.h"
#include "program/request.h"
#include "report/web.h"
#include "suite/suite.h"

#define MAX_HEADERS 64
#define MAX_OUTS 16
#define MAX_ENV 128
#define MAX_MODULES 64
#define MAX_BODY (64u * 1024 * 1024)
#define MAX_STAGES 64
#define MAX_TAGS MET_MAX_RUN_TAGS
#define MAX_SECRETS 64
/* Iterations per second a quick-mode rate may ask for (docs/executors.md);
 * the flags' messages spell it out. */
#define MAX_RATE EXEC_MAX_RATE_PER_SEC
_Static_assert(EXEC_MAX_RATE_PER_SEC == 10000000.0, "the --rate and --stage messages say 10000000");


static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			if (cap >= MAX_BODY) {
				snprintf(err, errsz, "%s: larger than %u MiB", path, MAX_BODY >> 20);
				free(data);
				fclose(f);
				return NULL;
			}
			cap = cap ? cap * 2 : 65536;
			data = xrealloc(data, cap);
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = n;
	return data ? data : xstrdup("");
}

/* "DURATION:TARGET", e.g. "30s:100". */
static int parse_stage(const char *s, exec_stage *st)
{
	const char *colon = strrchr(s, ':');
	char dur[64];

	if (!colon || (size_t)(colon - s) >= sizeof(dur))
		return -1;
	memcpy(dur, s, (size_t)(colon - s));
	dur[colon - s] = 0;
	if (parse_duration_ns(dur, &st->duration_ns) < 0)
		return -1;
	return opts_number(colon + 1, MAX_RATE, &st->target);
}

static int parse_status_range(const char *s, int *lo, int *hi)
{
	uint64_t a, b;
	const char *dash = strchr(s, '-');

	if (!dash) {
		if (parse_u64(s, 100, 599, &a) < 0)
			return -1;
		*lo = *hi = (int)a;
		return 0;
	}
	if (parse_u64n(s, (size_t)(dash - s), 100, 599, &a) < 0 || parse_u64(dash + 1, 100, 599, &b) < 0 || b < a)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}


/* Everything the command line says, before it becomes a run_config. */
typedef struct run_flags {
	const char *plan, *url, *method, *body, *body_file, *strategy, *summary_export, *report;
	const char *cacert, *cert, *key, *web, *collector_token;
	char collector_spec[1024];  /* "collector=URL", one of outs */
	const char *headers[MAX_HEADERS], *outs[MAX_OUTS], *envs[MAX_ENV], *modules[MAX_MODULES];
	const char *tags[MAX_TAGS], *user_agent, *http_debug, *dns, *local_ips, *proxy, *secrets[MAX_SECRETS];
	const char *segment, *sequence, *instance;
	uint64_t segment_index, segments, start_at_wall_ns;
	uint32_t nheaders, nouts, nenv, nmodules, nstages, ntags, nsecrets;
	trend_stats trend_stats;
	int no_thresholds, no_summary;
	uint64_t vus, iterations, max_vus, threads, duration_ns, timeout_ns, connect_timeout_ns, graceful_stop_ns;
	uint64_t web_linger_ns;
	uint64_t max_reqs, max_age_ns;
	int compression, discard;
	double rate;
	exec_stage stages[MAX_STAGES];
	int expected_lo, expected_hi;
	int queue, no_reuse, insecure, no_tls_resumption, quiet, help, no_cookies_reset;
	uint64_t max_redirects;
	opts_seen seen;
} run_flags;

static int stage_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;

	if (f->nstages == MAX_STAGES) {
		snprintf(err, errsz, "at most %d stages", MAX_STAGES);
		return -1;
	}
	if (parse_stage(v, &f->stages[f->nstages]) < 0)
		return -1;
	f->nstages++;
	return 0;
}

static int compression_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;
	int c = http_coding_from_name(v);

	if (c < 0 && strcmp(v, "none") != 0)
		return -1;
	f->compression = c < 0 ? 0 : c;
	return 0;
}

static int status_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;

	return parse_status_range(v, &f->expected_lo, &f->expected_hi);
}

/* --start-at TIME: RFC 3339 (2026-12-01T14:00:00Z, fractions and
 * offsets allowed) or +DURATION from now. */
static int start_at_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;
	uint64_t d;

	if (v[0] == '+') {
		if (parse_duration_ns(v + 1, &d) < 0)
			return -1;
		f->start_at_wall_ns = clock_wall_ns() + d;
		return 0;
	}
	return parse_rfc3339_ns(v, &f->start_at_wall_ns);
}

/* --web [ADDR]: checked now, so a malformed address is a flag error; it
 * is bound when the run starts. */
static int web_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;
	net_addr a;

	f->web = v ? v : WEB_DEFAULT_ADDR;
	return net_parse_listen(f->web, &a, err, errsz);
}

/* --collector URL: one more output, "collector=URL" (output/collect_push.c). */
static int collector_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;

	int plain = strncmp(v, "http://", 7) == 0, tls = strncmp(v, "https://", 8) == 0;

	if ((!plain && !tls) || !v[plain ? 7 : 8]) {
		snprintf(err, errsz, "'%s': expected an http:// or https:// URL (strain collect's --listen address)", v);
		return -1;
	}
	if (f->nouts == MAX_OUTS) {
		snprintf(err, errsz, "at most %d outputs, --out and --collector together", MAX_OUTS);
		return -1;
	}
	if (snprintf(f->collector_spec, sizeof(f->collector_spec), "collector=%s", v) >= (int)sizeof(f->collector_spec)) {
		snprintf(err, errsz, "the URL is too long");
		return -1;
	}
	f->outs[f->nouts++] = f->collector_spec;
	return 0;
}

static int trend_stats_arg(void *base, const char *v, char *err, size_t errsz)
{
	run_flags *f = base;

	return trend_stats_parse(v, &f->trend_stats, err, errsz);
}

static cli_outcome plan_arg(void *base, const char *arg)
{
	run_flags *f = base;

	if (f->plan) {
		fprintf(stderr, "strain run: one plan at a time ('%s' and '%s')\n", f->plan, arg);
		return CLI_USAGE;
	}
	f->plan = arg;
	return CLI_DONE;
}

enum { G_PLAN, G_QUICK, G_CONN, G_TLS, G_DIST, G_OUT };

static const opts_group run_groups[] = {
	[G_PLAN] = {"With a plan", "its modules run in the chosen strategy (docs/plan-format.md)."},
	[G_QUICK] = {"Quick mode", "VUs loop requests to one URL, like wrk or hey."},
	[G_CONN] = {"Requests and connections", "with a plan or in quick mode."},
	[G_TLS] = {"HTTPS", "with a plan (adding to its tls: section) or in quick mode."},
	[G_DIST] = {"Distributed runs", "one test split over processes, merged by strain merge (docs/distributed.md)."},
	[G_OUT] = {"Output", "with a plan or in quick mode."},
};

/* Entry ids, for the checks that involve more than one flag. */
enum {
	R_STRATEGY, R_MODULE, R_ENV,
	R_VUS, R_DURATION, R_ITERATIONS, R_RATE, R_MAX_VUS, R_STAGE, R_QUEUE, R_URL, R_METHOD, R_HEADER, R_BODY,
	R_BODY_FILE, R_COMPRESSION, R_EXPECT_STATUS, R_GRACEFUL_STOP, R_DISCARD, R_MAX_REQS, R_MAX_AGE,
	R_TIMEOUT, R_CONNECT_TIMEOUT, R_NO_REUSE, R_MAX_REDIRECTS, R_NO_COOKIES_RESET, R_THREADS,
	R_INSECURE, R_CACERT, R_NO_RESUMPTION, R_CERT, R_KEY,
	R_USER_AGENT, R_HTTP_DEBUG, R_DNS, R_LOCAL_IPS, R_PROXY,
	R_SEGMENT, R_SEQUENCE, R_SEGMENT_INDEX, R_SEGMENTS, R_START_AT, R_INSTANCE,
	R_TAG, R_SECRET, R_NO_THRESHOLDS,
	R_SUMMARY_EXPORT, R_REPORT, R_SUMMARY_TREND_STATS, R_NO_SUMMARY, R_OUT, R_COLLECTOR, R_COLLECTOR_TOKEN, R_WEB, R_WEB_LINGER, R_QUIET, R_HELP,
	R_COUNT
};

#define F(field) offsetof(run_flags, field)
#define Q (OPT_QUICK)
#define P (OPT_PLAN)

static const opt run_opts[R_COUNT] = {
	[R_STRATEGY] = {"--strategy", NULL, "S", OPT_STRING, P, 0, 0, F(strategy), 0, NULL, NULL, G_PLAN,
			"sequential, hybrid, parallel (default) or all"},
	[R_MODULE] = {"--module", NULL, "NAME", OPT_STRING, P | OPT_REPEAT, 0, MAX_MODULES, F(modules), F(nmodules),
		      NULL, NULL, G_PLAN, "only this module (repeatable)"},
	[R_ENV] = {"--env", "-e", "KEY=VALUE", OPT_KEYVAL, P | OPT_REPEAT, 0, MAX_ENV, F(envs), F(nenv), NULL, NULL,
		   G_PLAN, "sets {{env.KEY}}, overriding the environment (repeatable)"},
	[R_VUS] = {"--vus", "-u", "N", OPT_U64, Q, 1, 1000000, F(vus), 0, NULL, NULL, G_QUICK,
		   "virtual users (default 1)"},
	[R_DURATION] = {"--duration", "-d", "D", OPT_DURATION, Q | OPT_POSITIVE, 0, 0, F(duration_ns), 0, NULL, NULL,
			G_QUICK, "how long to run, e.g. 30s, 1m30s"},
	[R_ITERATIONS] = {"--iterations", "-i", "N", OPT_U64, Q, 1, UINT64_C(1) << 50, F(iterations), 0, NULL, NULL,
			  G_QUICK,
			  "total iterations shared by the VUs\n(neither: one iteration; iterations alone: at most 10m)"},
	[R_RATE] = {"--rate", NULL, "R", OPT_NUMBER, Q | OPT_POSITIVE, 0, (uint64_t)MAX_RATE, F(rate), 0, NULL,
		    "iterations per second, a number above 0 and at most 10000000 (docs/executors.md)", G_QUICK,
		    "open model: start R iterations per second, evenly spaced, whatever the server does "
		    "(constant-arrival-rate; --vus VUs preallocated; needs --duration or --stage)"},
	[R_MAX_VUS] = {"--max-vus", NULL, "N", OPT_U64, Q, 1, 1000000, F(max_vus), 0, NULL, NULL, G_QUICK,
		       "with --rate: start more VUs up to N when none is free (default --vus); past that, "
		       "iterations are dropped"},
	[R_STAGE] = {"--stage", NULL, "D:T", OPT_CUSTOM, Q | OPT_REPEAT, 0, 0, 0, 0, stage_arg,
		     "DURATION:TARGET, e.g. 30s:100 (a target of at most 10000000: iterations per second with "
		     "--rate, VUs without)", G_QUICK,
		     "ramp linearly to T over D, repeatable: with --rate T is a rate (ramping-arrival-rate from "
		     "--rate), without it a VU count (ramping-vus from --vus)"},
	[R_QUEUE] = {"--queue", NULL, NULL, OPT_SWITCH, Q, 0, 0, F(queue), 0, NULL, NULL, G_QUICK,
		     "with --rate: queue iterations that find no free VU and measure their first request from the "
		     "intended start (coordinated omission corrected, like wrk2)"},
	[R_URL] = {"--url", NULL, "URL", OPT_STRING, Q, 0, 0, F(url), 0, NULL, NULL, G_QUICK,
		   "the request URL (http:// or https://)"},
	[R_METHOD] = {"--method", "-X", "M", OPT_STRING, Q, 0, 0, F(method), 0, NULL, NULL, G_QUICK,
		      "HTTP method (default GET)"},
	[R_HEADER] = {"--header", "-H", "'Name: value'", OPT_STRING, Q | OPT_REPEAT, 0, MAX_HEADERS, F(headers), F(nheaders),
		      NULL, NULL, G_QUICK, "request header, repeatable"},
	[R_BODY] = {"--body", NULL, "TEXT", OPT_STRING, Q, 0, 0, F(body), 0, NULL, NULL, G_QUICK, "request body"},
	[R_BODY_FILE] = {"--body-file", NULL, "FILE", OPT_FILE, Q, 0, 0, F(body_file), 0, NULL, NULL, G_QUICK,
			 "request body from a file"},
	[R_COMPRESSION] = {"--compression", NULL, "C", OPT_CUSTOM, Q, 0, 0, 0, 0, compression_arg,
			   "gzip, deflate, br, zstd or none", G_QUICK,
			   "send the body compressed with C, with Content-Encoding: C (k6's compression)"},
	[R_DISCARD] = {"--discard-response-bodies", NULL, NULL, OPT_SWITCH, Q, 0, 0, F(discard), 0, NULL, NULL, G_QUICK,
		       "keep no response body (k6's discardResponseBodies; quick mode keeps none anyway)"},
	[R_MAX_REQS] = {"--max-requests-per-connection", NULL, "N", OPT_U64, Q, 1, UINT32_MAX, F(max_reqs), 0, NULL,
			NULL, G_QUICK, "close a connection after its N-th response; the next request opens a new one"},
	[R_MAX_AGE] = {"--max-connection-age", NULL, "D", OPT_DURATION, Q | OPT_POSITIVE, 0, 0, F(max_age_ns), 0, NULL,
		       NULL, G_QUICK, "close a connection once it is D old, after its current response"},
	[R_EXPECT_STATUS] = {"--expect-status", NULL, "A-B", OPT_CUSTOM, Q, 0, 0, 0, 0, status_arg,
			     "STATUS or LOW-HIGH within 100-599", G_QUICK,
			     "statuses that are not failures (default 200-399)"},
	[R_GRACEFUL_STOP] = {"--graceful-stop", NULL, "D", OPT_DURATION, Q, 0, 0, F(graceful_stop_ns), 0, NULL, NULL,
			     G_QUICK,
			     "time in-flight iterations get at the end, and VUs above a --stage ramp-down (default 30s)"},
	[R_TIMEOUT] = {"--timeout", NULL, "D", OPT_DURATION, OPT_POSITIVE, 0, 0, F(timeout_ns), 0, NULL, NULL, G_CONN,
		       "per-request timeout (default 60s)"},
	[R_CONNECT_TIMEOUT] = {"--connect-timeout", NULL, "D", OPT_DURATION, OPT_POSITIVE, 0, 0, F(connect_timeout_ns),
			       0, NULL, NULL, G_CONN, "TCP connect timeout (default 30s)"},
	[R_NO_REUSE] = {"--no-connection-reuse", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(no_reuse), 0, NULL, NULL, G_CONN,
			"a new connection for every request"},
	[R_MAX_REDIRECTS] = {"--max-redirects", NULL, "N", OPT_U64, Q, 0, 1000, F(max_redirects), 0, NULL, NULL,
			     G_QUICK, "redirects followed per request (default 10, k6's maxRedirects; 0: none)"},
	[R_NO_COOKIES_RESET] = {"--no-cookies-reset", NULL, NULL, OPT_SWITCH, Q, 0, 0, F(no_cookies_reset), 0, NULL,
				NULL, G_QUICK, "keep each VU's cookies across iterations (k6's noCookiesReset)"},
	[R_THREADS] = {"--threads", NULL, "N", OPT_U64, 0, 1, 1024, F(threads), 0, NULL, NULL, G_CONN,
		       "worker threads (default: one per core)"},
	[R_INSECURE] = {"--insecure-skip-tls-verify", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(insecure), 0, NULL, NULL,
			G_TLS, "do not check the target's certificates (a --collector's are always checked)"},
	[R_CACERT] = {"--cacert", NULL, "FILE", OPT_FILE, 0, 0, 0, F(cacert), 0, NULL, NULL, G_TLS,
		      "also trust the CA certificates in FILE (PEM): the target's, --collector's and https outputs'"},
	[R_NO_RESUMPTION] = {"--no-tls-resumption", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(no_tls_resumption), 0, NULL,
			     NULL, G_TLS, "a full handshake on every new connection"},
	[R_CERT] = {"--cert", NULL, "FILE", OPT_FILE, 0, 0, 0, F(cert), 0, NULL, NULL, G_TLS,
		    "client certificate (chain, PEM) for mutual TLS"},
	[R_KEY] = {"--key", NULL, "FILE", OPT_FILE, 0, 0, 0, F(key), 0, NULL, NULL, G_TLS,
		   "its private key (PEM; default: in the --cert file)"},
	[R_USER_AGENT] = {"--user-agent", NULL, "UA", OPT_STRING, 0, 0, 0, F(user_agent), 0, NULL, NULL, G_CONN,
			  "the User-Agent header (default strain/VERSION; '' sends none); a User-Agent header of a "
			  "request, -H or a plan's, wins"},
	[R_HTTP_DEBUG] = {"--http-debug", NULL, "[=full]", OPT_OPTVAL, 0, 0, 0, F(http_debug), 0, NULL, NULL, G_CONN,
			  "print every request and response head to stderr, with =full their bodies too "
			  "(Authorization, Cookie, Set-Cookie and Proxy-Authorization values redacted)"},
	[R_DNS] = {"--dns", NULL, "K=V,...", OPT_STRING, 0, 0, 0, F(dns), 0, NULL, NULL, G_CONN,
		   "k6's DNS options: ttl=5m|inf|0, select=random|first|roundRobin, policy=preferIPv4|preferIPv6|"
		   "onlyIPv4|onlyIPv6|any (default ttl=5m,select=random,policy=preferIPv4); strain's own "
		   "server=IP:PORT asks that DNS server"},
	[R_LOCAL_IPS] = {"--local-ips", NULL, "LIST", OPT_STRING, 0, 0, 0, F(local_ips), 0, NULL, NULL, G_CONN,
			 "source addresses: IPs, FROM-TO ranges and IP/BITS blocks, comma-separated; VU i sends "
			 "from address (i-1) mod N (as k6)"},
	[R_PROXY] = {"--proxy", NULL, "URL", OPT_STRING, 0, 0, 0, F(proxy), 0, NULL, NULL, G_CONN,
		     "send through the HTTP proxy at URL (http://[user:pass@]host:port; https:// targets through "
		     "CONNECT); default HTTP_PROXY/HTTPS_PROXY, NO_PROXY exempts hosts"},
	[R_SEGMENT] = {"--execution-segment", NULL, "A:B", OPT_STRING, 0, 0, 0, F(segment), 0, NULL, NULL, G_DIST,
		       "run only this part of the test, as in k6 (1/4:1/2, 25%:50%, or B for 0:B)"},
	[R_SEQUENCE] = {"--execution-segment-sequence", NULL, "LIST", OPT_STRING, 0, 0, 0, F(sequence), 0, NULL, NULL,
			G_DIST, "every process's segment boundaries (0,1/4,1/2,3/4,1); give the same one to all"},
	[R_SEGMENT_INDEX] = {"--segment-index", NULL, "I", OPT_U64, 0, 0, 1023, F(segment_index), 0, NULL, NULL, G_DIST,
			     "with --segments N: this process's equal share, I from 0 (Slurm's SLURM_ARRAY_TASK_ID, "
			     "Kubernetes' JOB_COMPLETION_INDEX)"},
	[R_SEGMENTS] = {"--segments", NULL, "N", OPT_U64, 0, 1, 1024, F(segments), 0, NULL, NULL, G_DIST,
			"the number of equal segments (0,1/N,...,1)"},
	[R_START_AT] = {"--start-at", NULL, "TIME", OPT_CUSTOM, 0, 0, 0, 0, 0, start_at_arg,
			"an RFC 3339 time (2026-12-01T14:00:00Z) or +DURATION", G_DIST,
			"wait until TIME to start; a process started later joins the schedule in step"},
	[R_INSTANCE] = {"--instance", NULL, "NAME", OPT_STRING, 0, 0, 0, F(instance), 0, NULL, NULL, G_DIST,
			"the instance tag on every sample (default: host name/segment)"},
	[R_TAG] = {"--tag", NULL, "KEY=VALUE", OPT_KEYVAL, OPT_REPEAT, 0, MAX_TAGS, F(tags), F(ntags), NULL, NULL, G_OUT,
		   "a tag on every sample of every output (repeatable; over a plan's tags:); testid=ID names the "
		   "run (default: a new run id)"},
	[R_SECRET] = {"--secret", NULL, "NAME", OPT_STRING, OPT_REPEAT, 0, MAX_SECRETS, F(secrets), F(nsecrets), NULL, NULL,
		      G_OUT,
		      "the environment variable NAME (or -e NAME=) holds a secret: its value never appears in any "
		      "output, tag, summary, report, log or message (repeatable; docs/secrets.md)"},
	[R_NO_THRESHOLDS] = {"--no-thresholds", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(no_thresholds), 0, NULL, NULL,
			     G_OUT, "do not evaluate thresholds: they neither fail nor abort the run"},
	[R_SUMMARY_EXPORT] = {"--summary-export", NULL, "FILE", OPT_STRING, 0, 0, 0, F(summary_export), 0, NULL, NULL,
			      G_OUT, "write the end-of-test summary as JSON"},
	[R_REPORT] = {"--report", NULL, "FILE", OPT_STRING, 0, 0, 0, F(report), 0, NULL, NULL, G_OUT,
		      "write the run's HTML report, one self-contained page (also when interrupted; docs/report.md)"},
	[R_SUMMARY_TREND_STATS] = {"--summary-trend-stats", NULL, "LIST", OPT_CUSTOM, 0, 0, 0, 0, 0, trend_stats_arg,
				   "a list of avg, min, med, max, count, p(N)", G_OUT,
				   "the trend columns of the summary and its export, e.g. 'avg,min,med,max,p(90),p(95),"
				   "p(99.9),count' (default " TREND_STATS_DEFAULT ")"},
	[R_NO_SUMMARY] = {"--no-summary", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(no_summary), 0, NULL, NULL, G_OUT,
			  "no end-of-test summary on stdout (--summary-export is still written)"},
	[R_OUT] = {"--out", "-o", "KIND=ARG", OPT_STRING, OPT_REPEAT, 0, MAX_OUTS, F(outs), F(nouts), NULL, NULL, G_OUT,
		   "stream metrics: influxdb=URL, influxdb2=URL, json=FILE, csv=FILE (repeatable; docs/outputs.md)"},
	[R_COLLECTOR] = {"--collector", NULL, "URL", OPT_CUSTOM, 0, 0, 0, 0, 0, collector_arg, NULL, G_OUT,
			 "push every interval's metrics to a strain collect server at URL (http://HOST:PORT, or "
			 "https:// checked against the system CAs and --cacert), which merges the instances and may "
			 "stop the run (docs/distributed.md)"},
	[R_COLLECTOR_TOKEN] = {"--collector-token", NULL, "T", OPT_STRING, 0, 0, 0, F(collector_token), 0, NULL, NULL,
			       G_OUT, "the bearer token for --collector (default: $STRAIN_COLLECTOR_TOKEN)"},
	[R_WEB] = {"--web", NULL, "[ADDR]", OPT_CUSTOM, OPT_OPTIONAL_ADDR, 0, 0, 0, 0, web_arg, "HOST:PORT or :PORT",
		   G_OUT, "serve the live dashboard while the run goes, at ADDR (default " WEB_DEFAULT_ADDR
		   "; --web=ADDR or --web HOST:PORT; docs/dashboard.md)"},
	[R_WEB_LINGER] = {"--web-linger", NULL, "D", OPT_DURATION, 0, 0, 0, F(web_linger_ns), 0, NULL, NULL, G_OUT,
			  "with --web: keep the dashboard up for D after the run (default 0; Ctrl-C ends it)"},
	[R_QUIET] = {"--quiet", "-q", NULL, OPT_SWITCH, 0, 0, 0, F(quiet), 0, NULL, NULL, G_OUT,
		     "no live progress and no summary on stdout"},
	[R_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, F(help), 0, NULL, NULL, G_OUT, "this help"},
};

#undef F
#undef Q
#undef P

/* k6 flags people type out of habit (k6 run --help), and strain's nearest. */
static const opts_k6 run_k6[] = {
	{"-s", NULL, "k6's short form of --stage", "use --stage D:T"},
	{"--rps", NULL, "k6's cap on requests per second",
	 "use --rate R: one request per iteration in quick mode, R iterations started per second"},
	{"--vus-max", "-m", "k6's old maximum of VUs", "use --max-vus N with --rate (or maxVUs in a plan)"},
	{"--no-vu-connection-reuse", NULL, "k6's new connection per iteration",
	 "use --no-connection-reuse: a new connection for every request"},
	{"--batch", "-b", "k6's limit on parallel requests of http.batch()",
	 "a strain VU makes one request at a time: add VUs (--vus) for parallel requests"},
	{"--batch-per-host", NULL, "k6's per-host limit of http.batch()",
	 "a strain VU makes one request at a time: add VUs (--vus) for parallel requests"},
	{"--compatibility-mode", NULL, "k6's JavaScript flavour", "strain runs YAML plans, not scripts"},
	{"--console-output", NULL, "k6's file for console.log", "strain runs YAML plans, which print nothing"},
	{"--paused", "-p", "k6's start in a paused state", NULL},
	{"--linger", "-l", "k6's keep-running after the test", "use --web-linger D with --web"},
	{"--address", "-a", "k6's REST API address", NULL},
	{"--exit-on-running", NULL, "k6's exit once the test is running", NULL},
	{"--no-usage-report", NULL, "k6's switch for its usage report", "strain sends no usage report: nothing to switch off"},
	{"--include-system-env-vars", NULL, "k6's environment for scripts",
	 "a plan reads the environment as {{env.NAME}}; -e KEY=VALUE overrides it"},
	{"--logformat", NULL, "k6's log format", "strain prints plain lines to stderr"},
	{"--log-format", NULL, "k6's log format", "strain prints plain lines to stderr"},
	{"--log-output", NULL, "k6's log destination", "strain logs to stderr: redirect it (2>FILE)"},
	{"--system-tags", NULL, "k6's choice of system tags",
	 "strain writes a fixed set (docs/outputs.md); --tag adds tags of your own"},
	{"--summary-time-unit", NULL, "k6's fixed time unit of the summary",
	 "the text summary picks a unit per value; --summary-export gives milliseconds"},
	{"--no-setup", NULL, "k6's skip of setup()", "a plan module without setup: has none"},
	{"--no-teardown", NULL, "k6's skip of teardown()", "strain plans have no teardown"},
	{"--setup-timeout", NULL, "k6's time limit of setup()", "a module's setup requests have the run's --timeout"},
	{"--teardown-timeout", NULL, "k6's time limit of teardown()", "strain plans have no teardown"},
	{"--min-iteration-duration", NULL, "k6's shortest iteration", "use think: in a plan's module"},
	{"--throw", "-w", "k6's throw on failed requests", NULL},
	{"--blacklist-ip", NULL, "k6's blocked address ranges", NULL},
	{"--block-hostnames", NULL, "k6's blocked host names", NULL},
	{"--no-color", NULL, "k6's switch for colours", "strain prints no colours"},
	{"--traces-output", NULL, "k6's tracing output", NULL},
	{"--type", "-t", "k6's script type (js or archive)", "strain runs YAML plans: strain run PLAN.yaml"},
	{"--upload-only", NULL, "k6's cloud upload", "strain has no cloud service"},
	{"--config", "-c", "k6's JSON options file", "put the options in a plan file: strain run PLAN.yaml"},
	{"--verbose", "-v", "k6's debug logging", "use --http-debug to see requests and responses"},
	{NULL, NULL, NULL, NULL},
};

static const opts_cmd run_cmd = {
	"run",
	run_opts,
	R_COUNT,
	run_groups,
	sizeof(run_groups) / sizeof(run_groups[0]),
	"Usage: strain run PLAN.yaml [--strategy S] [--module NAME]... [-e KEY=VALUE]... [flags]\n"
	"       strain run --url URL [flags]\n",
	"Exit status: 0 ok, 1 error, 2 usage, 99 thresholds failed, 104 bad configuration,\n"
	"105 interrupted, 107 could not start. See docs/error-codes.md.\n",
	run_k6,
	plan_arg,
};

/* The command line into f; the defaults are run_config's. */
static cli_outcome run_flags_parse(run_flags *f, const run_config *defaults, int argc, char **argv)
{
	memset(f, 0, sizeof(*f));
	f->method = "GET";
	f->vus = 1;
	f->timeout_ns = defaults->timeout_ns;
	f->connect_timeout_ns = defaults->connect_timeout_ns;
	f->graceful_stop_ns = defaults->graceful_stop_ns;
	f->expected_lo = defaults->expected_lo;
	f->expected_hi = defaults->expected_hi;
	f->max_redirects = defaults->max_redirects;
	return opts_parse(&run_cmd, argc, argv, f, &f->seen);
}

/* A new run id: the start's UTC second and 16 random bits,
 * "20261129-094102-3f7a" (docs/outputs.md, "The run id"): sortable by time,
 * and two runs started in the same second still differ. */
static void run_id_new(char *out, size_t outsz)
{
	time_t t = (time_t)(clock_wall_ns() / NS_PER_SEC);
	struct tm tm;
	uint16_t r = 0;
	size_t n;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint16_t)(clock_mono_ns() ^ ((uint64_t)getpid() << 7));
	gmtime_r(&t, &tm);
	n = strftime(out, outsz, "%Y%m%d-%H%M%S", &tm);
	snprintf(out + n, outsz - n, "-%04x", (unsigned)r);
}

/* k6 outputs strain does not have, and what to use instead. */
static const struct {
	const char *kind, *what;
} k6_outputs[] = {
	{"cloud", "k6's Grafana Cloud k6 output"},
	{"experimental-prometheus-rw", "k6's Prometheus remote write output"},
	{"statsd", "k6's StatsD output"},
	{"datadog", "k6's Datadog output"},
	{"kafka", "k6's Kafka output"},
	{"opentelemetry", "k6's OpenTelemetry output"},
	{"experimental-opentelemetry", "k6's OpenTelemetry output"},
	{"web-dashboard", "k6's web dashboard"},
	{"dashboard", "k6's web dashboard"},
};

/* 0, or -1 after saying that a --out kind is k6's, not strain's. */
static int k6_output_check(const run_flags *f)
{
	uint32_t i;
	size_t k;

	for (i = 0; i < f->nouts; i++) {
		size_t len = strcspn(f->outs[i], "=");

		for (k = 0; k < sizeof(k6_outputs) / sizeof(k6_outputs[0]); k++) {
			if (strlen(k6_outputs[k].kind) != len || strncmp(f->outs[i], k6_outputs[k].kind, len) != 0)
				continue;
			if (strstr(k6_outputs[k].kind, "dashboard")) {
				fprintf(stderr, "strain run: --out %.*s: strain's live dashboard is not an output (%s); "
						"use --web [ADDR] (docs/dashboard.md)\n", (int)len, f->outs[i],
					k6_outputs[k].what);
				return -1;
			}
			fprintf(stderr, "strain run: --out %.*s: strain has no %.*s output (%s); it streams to influxdb=URL, "
					"influxdb2=URL, json=FILE and csv=FILE (docs/outputs.md)\n", (int)len, f->outs[i],
				(int)len, f->outs[i], k6_outputs[k].what);
			return -1;
		}
	}
	return 0;
}

/* What both modes share; 0, or -1 after printing which flag is wrong. */
static int apply_common(run_flags *f, run_config *cfg)
{
	char id[40];
	const char *p;

	cfg->timeout_ns = f->timeout_ns;
	cfg->connect_timeout_ns = f->connect_timeout_ns;
	cfg->no_reuse = f->no_reuse;
	cfg->threads = (uint32_t)f->threads;
	cfg->tls_insecure = f->insecure;
	run_config_tls_file(cfg, 0, f->cacert);
	run_config_tls_file(cfg, 1, f->cert);
	run_config_tls_file(cfg, 2, f->key);
	cfg->no_tls_resumption = f->no_tls_resumption;
	/* Every run has an id; a plan's tags: or --tag testid=... replace it. */
	run_id_new(id, sizeof(id));
	run_config_tag_set(cfg, "testid", id);
	if (f->user_agent) {
		for (p = f->user_agent; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				fprintf(stderr, "strain run: --user-agent: the value holds a control character\n");
				return -1;
			}
		cfg->user_agent = xstrdup(f->user_agent);
	}
	if (f->http_debug) {
		if (!f->http_debug[0] || strcmp(f->http_debug, "headers") == 0) {
			cfg->http_debug = 1;
		} else if (strcmp(f->http_debug, "full") == 0) {
			cfg->http_debug = 2;
		} else {
			fprintf(stderr, "strain run: --http-debug=%s: expected --http-debug (heads) or --http-debug=full "
					"(heads and bodies)\n", f->http_debug);
			return -1;
		}
	}
	return 0;
}

static const char *run_tag_value(const run_config *cfg, const char *key)
{
	uint32_t i;

	for (i = 0; i < cfg->nrun_tags; i++)
		if (strcmp(cfg->run_tags[i].key, key) == 0)
			return cfg->run_tags[i].value;
	return NULL;
}

/* The segment flags over the plan's execution:, the instance tag, and
 * the check that every module's share of this segment can run. 0, or -1
 * after printing why. */
static int apply_segment(const run_flags *f, run_config *cfg)
{
	char err[400], seg[64], seq[256], host[256];
	uint32_t i;

	if (f->segment && opts_given(&f->seen, R_SEGMENTS)) {
		fprintf(stderr, "strain run: --execution-segment and --segments: give one way to name the segment\n");
		return -1;
	}
	if (opts_given(&f->seen, R_SEGMENT_INDEX) && !opts_given(&f->seen, R_SEGMENTS)) {
		fprintf(stderr, "strain run: --segment-index goes with --segments N\n");
		return -1;
	}
	if (f->sequence && !f->segment) {
		fprintf(stderr, "strain run: --execution-segment-sequence needs --execution-segment (which of its "
				"segments this process runs)\n");
		return -1;
	}
	if (f->segment) {
		seg_tuple_free(&cfg->segment);
		if (seg_tuple_build(&cfg->segment, f->segment, f->sequence, err, sizeof(err)) < 0) {
			fprintf(stderr, "strain run: --execution-segment %s: %s\n", f->segment, err);
			return -1;
		}
	} else if (opts_given(&f->seen, R_SEGMENTS)) {
		seg_tuple_free(&cfg->segment);
		if (seg_tuple_equal(&cfg->segment, (uint32_t)f->segment_index, (uint32_t)f->segments, err, sizeof(err)) <
		    0) {
			fprintf(stderr, "strain run: --segment-index %llu: %s\n", (unsigned long long)f->segment_index, err);
			return -1;
		}
	}
	/* A share that has iterations to run but no VU to run them would lose
	 * them: the union would no longer be the unsplit run. */
	for (i = 0; i < cfg->nscenarios; i++) {
		const run_scenario *sc = &cfg->scenarios[i];
		int lost = 0;

		if (seg_scale(&cfg->segment, sc->vus))
			continue;
		if (sc->exec == EXEC_SHARED_ITERATIONS)
			lost = seg_scale(&cfg->segment, sc->iterations) > 0;
		else if (exec_is_arrival(sc->exec))
			lost = exec_rate_peak(sc->stages, sc->nstages, sc->start_rate) > 0;
		if (lost) {
			seg_format(&cfg->segment, seg, sizeof(seg), seq, sizeof(seq));
			fprintf(stderr, "strain run: %s: segment %s of %s gets none of its %u VUs%s but iterations to run: give "
					"it at least as many VUs as there are segments\n",
				sc->name, seg, seq, sc->vus, exec_is_arrival(sc->exec) ? " (maxVUs)" : "");
			return -1;
		}
	}
	seg_format(&cfg->segment, seg, sizeof(seg), seq, sizeof(seq));
	free(cfg->instance);
	cfg->instance = NULL;
	if (f->instance) {
		cfg->instance = xstrdup(f->instance);
	} else if (run_tag_value(cfg, "instance")) {
		/* --tag instance=NAME or a plan's tags: name it too. */
		cfg->instance = xstrdup(run_tag_value(cfg, "instance"));
	} else {
		memset(host, 0, sizeof(host));
		if (gethostname(host, 255 - sizeof(seg)) < 0 || !host[0])
			snprintf(host, sizeof(host), "localhost");
		snprintf(err, sizeof(err), "%s/%s", host, seg);
		cfg->instance = xstrdup(err);
	}
	{
		const char *why = run_tag_problem("instance", cfg->instance);

		if (why) {
			fprintf(stderr, "strain run: --instance %s: %s\n", cfg->instance, why);
			return -1;
		}
	}
	if (run_config_tag_set(cfg, "instance", cfg->instance) < 0) {
		fprintf(stderr, "strain run: the instance tag: at most %d tags in all (testid, the plan's tags: and --tag)\n",
			MET_MAX_RUN_TAGS);
		return -1;
	}
	return 0;
}

/* --tag over the plan's tags:, and --no-thresholds; after the program is
 * built. 0, or -1 after printing why. */
static int apply_after(const run_flags *f, run_config *cfg)
{
	uint32_t i;

	for (i = 0; i < f->ntags; i++) {
		const char *eq = strchr(f->tags[i], '='), *why;
		char key[80];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - f->tags[i]), f->tags[i]);
		why = (size_t)(eq - f->tags[i]) >= sizeof(key) ? "the key is longer than 64 bytes"
								 : run_tag_problem(key, eq + 1);
		if (why) {
			fprintf(stderr, "strain run: --tag %s: %s\n", f->tags[i], why);
			return -1;
		}
		if (run_config_tag_set(cfg, key, eq + 1) < 0) {
			fprintf(stderr, "strain run: --tag %s: at most %d tags in all (testid, the plan's tags: and --tag)\n",
				f->tags[i], MET_MAX_RUN_TAGS);
			return -1;
		}
	}
	if (f->no_thresholds) {
		/* k6's --no-thresholds: as if the plan had none; nothing judges, nothing aborts. */
		for (i = 0; i < cfg->nthresholds; i++)
			met_threshold_free(&cfg->thresholds[i]);
		cfg->nthresholds = 0;
	}
	return apply_segment(f, cfg);
}

/* --secret NAME's value: the last -e NAME=, else the environment (as a
 * plan's {{env.NAME}} reads it), or NULL. */
static const char *secret_value(const run_flags *f, const char *name)
{
	size_t n = strlen(name);
	uint32_t i;

	for (i = f->nenv; i-- > 0;)
		if (!strncmp(f->envs[i], name, n) && f->envs[i][n] == '=')
			return f->envs[i] + n + 1;
	return getenv(name);
}

static int secrets_check(const run_flags *f)
{
	uint32_t i;

	for (i = 0; i < f->nsecrets; i++)
		if (!secret_value(f, f->secrets[i])) {
			fprintf(stderr, "strain run: --secret %s: %s is not set (in the environment, or with -e %s=VALUE)\n",
				f->secrets[i], f->secrets[i], f->secrets[i]);
			return -1;
		}
	return 0;
}

/* Quick mode's secrets: --secret's values, and the values of credential
 * headers given with -H (the shell expanded $TOKEN into them). */
static redact *quick_secrets(const run_flags *f)
{
	redact *r = redact_create();
	uint32_t i;

	for (i = 0; i < f->nsecrets; i++)
		redact_add_value(r, secret_value(f, f->secrets[i]));
	for (i = 0; i < f->nheaders; i++) {
		const char *h = f->headers[i], *colon = strchr(h, ':'), *v, *sp;

		if (!colon || !redact_header_secret(NULL, h, (size_t)(colon - h)))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		redact_add_value(r, v);
		sp = strchr(v, ' ');
		if (sp)
			redact_add_value(r, sp + 1);
	}
	return r;
}

/* The run's tags (the plan's and --tag's) as the summary and report show
 * them: with the secrets hidden, as the registry interns them. */
static void hide_run_tags(run_config *cfg)
{
	uint32_t i;

	for (i = 0; i < cfg->nrun_tags; i++) {
		char *s = redact_strdup(cfg->secrets, cfg->run_tags[i].value, 0);

		if (!strcmp(s, cfg->run_tags[i].value)) {
			free(s);
			continue;
		}
		if (cfg->testid == cfg->run_tags[i].value)
			cfg->testid = s;
		free((char *)cfg->run_tags[i].value);
		cfg->run_tags[i].value = s;
	}
}

/* The one place a run's outcome becomes the command's. */
static int run_outcome(suite_outcome o)
{
	switch (o) {
	case SUITE_OK:
		return cli_exit_code(CLI_DONE);
	case SUITE_THRESHOLDS:
		return cli_exit_code(CLI_THRESHOLDS);
	case SUITE_INTERRUPTED:
		return cli_exit_code(CLI_INTERRUPTED);
	case SUITE_BAD_CONFIG:
		return cli_exit_code(CLI_BAD_VALUE);
	case SUITE_SETUP:
		return cli_exit_code(CLI_CANNOT_START);
	case SUITE_ERROR:
		break;
	}
	return cli_exit_code(CLI_FAILED);
}

/* What the run reports and where: the command line's, read during the run. */
static suite_opts report_opts(const run_flags *f, const char *const *outs, uint32_t nouts, const char *description)
{
	suite_opts o = {0};

	o.quiet = f->quiet;
	o.summary_export = f->summary_export;
	o.outs = outs;
	o.nouts = nouts;
	o.description = description;
	o.plan = f->plan;
	o.report_html = f->report;
	if (f->plan)
		o.strategy = f->strategy ? f->strategy : "parallel";
	o.no_summary = f->no_summary;
	o.trend_stats = opts_given(&f->seen, R_SUMMARY_TREND_STATS) ? &f->trend_stats : NULL;
	o.web = f->web;
	o.web_linger_ns = f->web_linger_ns;
	o.collector_token = f->collector_token;
	o.start_at_wall_ns = f->start_at_wall_ns;
	return o;
}

static int net_flags(const run_flags *f, run_config *cfg, int quick);

/* A plan file: its modules in the chosen strategy. *merged gets the
 * outputs array to free after the run. */
static int run_plan(const run_flags *f, run_config *cfg, const char ***merged)
{
	plan_opts po = {f->strategy, 0, f->modules, f->nmodules, f->envs, f->nenv, f->secrets, f->nsecrets};
	plan_errors errs;
	suite_opts so;
	const char **both;
	char line[600], all[512];
	int q = opts_first_given(&run_cmd, &f->seen, OPT_QUICK);

	if (q >= 0) {
		opts_list(&run_cmd, OPT_QUICK, all, sizeof(all));
		fprintf(stderr, "strain run: %s is for quick mode (--url); a plan sets this per module (%s are all quick-mode "
				"flags)\n", opts_typed(&run_cmd, &f->seen, q), all);
		return cli_exit_code(CLI_BAD_VALUE);
	}
	if (plan_load(f->plan, &po, cfg, &errs) < 0) {
		plan_errors_print(&errs, stderr);
		plan_errors_free(&errs);
		return cli_exit_code(CLI_BAD_VALUE);
	}
	if (net_flags(f, cfg, 0) < 0 || apply_after(f, cfg) < 0)
		return cli_exit_code(CLI_BAD_VALUE);
	hide_run_tags(cfg);
	/* The plan's outputs, then the command line's. */
	both = xcalloc(cfg->nplan_outs + f->nouts + 1, sizeof(char *));
	if (cfg->nplan_outs)
		memcpy(both, cfg->plan_outs, cfg->nplan_outs * sizeof(char *));
	if (f->nouts)
		memcpy(both + cfg->nplan_outs, f->outs, f->nouts * sizeof(char *));
	*merged = both;
	snprintf(line, sizeof(line), "%s: %u modules, strategy %s", f->plan, cfg->nscenarios,
		 f->strategy ? f->strategy : "parallel");
	so = report_opts(f, both, cfg->nplan_outs + f->nouts, line);
	return run_outcome(suite_run(cfg, &so));
}

/* The arrival-rate and stage combinations: NULL, or what is wrong. */
static const char *open_model_problem(const run_flags *f, char *why, size_t whysz)
{
	const char *d = opts_typed(&run_cmd, &f->seen, R_DURATION), *it = opts_typed(&run_cmd, &f->seen, R_ITERATIONS);

	if (f->iterations)
		snprintf(why, whysz, "%s can't be combined with %s", it, f->rate > 0 ? "--rate" : "--stage");
	else if (f->nstages && opts_given(&f->seen, R_DURATION))
		snprintf(why, whysz, "--stage sets the length of the run; drop %s", d);
	else if (f->rate > 0 && !f->nstages && !opts_given(&f->seen, R_DURATION))
		snprintf(why, whysz, "--rate needs --duration (or --stage)");
	else if (f->nstages && !exec_stages_duration(f->stages, f->nstages))
		snprintf(why, whysz, "the stages last 0s");
	else if (f->max_vus && f->max_vus < f->vus)
		snprintf(why, whysz, "--max-vus can't be less than %s", opts_typed(&run_cmd, &f->seen, R_VUS));
	else
		return NULL;
	return why;
}

/* Checks the quick-mode flags against each other and sets the executor
 * fields of cfg; 0 or -1 (printed). */
static int quick_executor(const run_flags *f, run_config *cfg, quick_flags *q)
{
	const char *vus = opts_typed(&run_cmd, &f->seen, R_VUS), *it = opts_typed(&run_cmd, &f->seen, R_ITERATIONS);
	char why[160];

	q->vus = (uint32_t)f->vus;
	q->duration_ns = f->duration_ns;
	q->iterations = f->iterations;
	q->rate = f->rate;
	q->max_vus = (uint32_t)f->max_vus;
	q->queue = f->queue;
	cfg->graceful_stop_ns = f->graceful_stop_ns;
	cfg->expected_lo = f->expected_lo;
	cfg->expected_hi = f->expected_hi;
	if (f->rate > 0 || f->nstages) {
		if (open_model_problem(f, why, sizeof(why))) {
			fprintf(stderr, "strain run: %s\n", why);
			return -1;
		}
		if (f->nstages) {
			q->nstages = f->nstages;
			q->stages = f->stages;
			q->duration_ns = exec_stages_duration(f->stages, f->nstages);
		}
	}
	if ((opts_given(&f->seen, R_MAX_VUS) || f->queue) && !(f->rate > 0)) {
		fprintf(stderr, "strain run: %s is for the open model (--rate)\n",
			opts_given(&f->seen, R_MAX_VUS) ? "--max-vus" : "--queue");
		return -1;
	}
	if (!opts_given(&f->seen, R_DURATION) && !q->iterations && !q->nstages) {
		/* k6's default: one VU runs one iteration. Like k6, a --vus without
		 * --duration, --iterations or --stage is ignored, with a warning. */
		if (opts_given(&f->seen, R_VUS) && q->vus != 1)
			fprintf(stderr,
				"strain run: warning: %s %u is ignored: it works with --duration, --iterations or --stage; "
				"running one iteration with one VU (as k6 does)\n",
				vus, q->vus);
		q->vus = 1;
		q->iterations = 1;
	}
	if (q->iterations && q->iterations < q->vus) {
		fprintf(stderr, "strain run: %s (%llu) can't be less than %s (%u)\n", it,
			(unsigned long long)q->iterations, vus, q->vus);
		return -1;
	}
	return 0;
}

/* The one-line description of a quick run, for the summary. */
static void quick_description(const run_config *cfg, const quick_flags *q, const char *url, int have_duration,
			      char *line, size_t linesz)
{
	char dur[32];
	const char *m = cfg->reqs[0].method, *d = fmt_duration(q->duration_ns, dur, sizeof(dur));

	if (q->rate > 0 && q->nstages)
		snprintf(line, linesz, "%s %s: from %g iterations/s through %u stages over %s, %u-%u VUs%s", m, url,
			 q->rate, q->nstages, d, q->vus, cfg->scenarios[0].vus, q->queue ? ", queued" : "");
	else if (q->rate > 0)
		snprintf(line, linesz, "%s %s: %g iterations/s for %s, %u-%u VUs%s", m, url, q->rate, d, q->vus,
			 cfg->scenarios[0].vus, q->queue ? ", queued" : "");
	else if (q->nstages)
		snprintf(line, linesz, "%s %s: ramping from %u VUs through %u stages over %s", m, url, q->vus,
			 q->nstages, d);
	else if (have_duration && q->iterations)
		snprintf(line, linesz, "%s %s: %u VUs, %llu iterations within %s", m, url, q->vus,
			 (unsigned long long)q->iterations, d);
	else if (have_duration)
		snprintf(line, linesz, "%s %s: %u VUs for %s", m, url, q->vus, d);
	else
		snprintf(line, linesz, "%s %s: %u VUs, %llu iterations", m, url, q->vus,
			 (unsigned long long)q->iterations);
}

/* k6's --dns: "ttl=1m,select=roundRobin,policy=any" (and strain's server=). */
static int dns_arg(const char *spec, run_config *cfg)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int rc = -1;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), why[128];
		const char *v;

		if (!eq) {
			fprintf(stderr, "strain run: --dns: '%s': expected KEY=VALUE (ttl, select, policy, server)\n", tok);
			goto out;
		}
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(tok, "ttl")) {
			if (!strcmp(v, "inf")) {
				cfg->dns_ttl_ns = RESOLVE_TTL_INF;
			} else if (!strcmp(v, "0")) {
				cfg->dns_ttl_ns = 0;
			} else if (parse_duration_ns(v, &cfg->dns_ttl_ns) < 0) {
				fprintf(stderr, "strain run: --dns: ttl=%s: expected a duration such as 30s or 1m, inf, or 0\n", v);
				goto out;
			}
		} else if (!strcmp(tok, "select")) {
			cfg->dns_select = resolve_select_parse(v);
			if (cfg->dns_select < 0) {
				fprintf(stderr, "strain run: --dns: select=%s: expected first, random or roundRobin\n", v);
				goto out;
			}
		} else if (!strcmp(tok, "policy")) {
			cfg->dns_policy = resolve_policy_parse(v);
			if (cfg->dns_policy < 0) {
				fprintf(stderr, "strain run: --dns: policy=%s: expected preferIPv4, preferIPv6, onlyIPv4, "
						"onlyIPv6 or any\n", v);
				goto out;
			}
		} else if (!strcmp(tok, "server")) {
			net_addr a;

			if (net_parse_listen(v, &a, why, sizeof(why)) < 0 || a.sa.ss_family != AF_INET) {
				fprintf(stderr, "strain run: --dns: server=%s: expected IPV4:PORT\n", v);
				goto out;
			}
			free(cfg->dns_server);
			cfg->dns_server = xstrdup(v);
		} else {
			fprintf(stderr, "strain run: --dns: unknown key '%s' (ttl, select, policy, server)\n", tok);
			goto out;
		}
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* --proxy URL for both schemes, replacing cfg's proxies (a plan's, or
 * none); cfg's requests, when already built, are routed again. */
static int proxy_flag(const char *url, run_config *cfg)
{
	http_proxy *old_http = cfg->proxy_http, *old_https = cfg->proxy_https;
	const char *np = getenv("NO_PROXY");
	char err[256];
	uint32_t i;
	int rc = -1;

	cfg->proxy_http = xcalloc(1, sizeof(*cfg->proxy_http));
	cfg->proxy_https = xcalloc(1, sizeof(*cfg->proxy_https));
	/* Named on the command line: loopback hosts go through it too. */
	cfg->proxy_from_env = 0;
	if (http_proxy_parse(url, cfg->proxy_http, err, sizeof(err)) < 0 ||
	    http_proxy_parse(url, cfg->proxy_https, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain run: --proxy: %s\n", err);
		goto out;
	}
	if (!np || !*np)
		np = getenv("no_proxy");
	if (np && *np && !cfg->no_proxy)
		cfg->no_proxy = xstrdup(np);
	for (i = 0; i < cfg->nreqs; i++)
		if (run_request_route(&cfg->reqs[i], cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "strain run: --proxy: %s\n", err);
			goto out;
		}
	rc = 0;
out:
	/* No request points at the old ones any more (or the run stops). */
	http_proxy_free(old_http);
	free(old_http);
	http_proxy_free(old_https);
	free(old_https);
	return rc;
}

/* --dns, --local-ips and --proxy: over a plan's dns, local_ips and proxy
 * (after it is loaded), or in quick mode before the request is built, with
 * the proxy environment when --proxy is not given. */
static int net_flags(const run_flags *f, run_config *cfg, int quick)
{
	char err[256];
	int n;

	if (f->dns && dns_arg(f->dns, cfg) < 0)
		return -1;
	if (f->local_ips) {
		free(cfg->local_ips);
		cfg->local_ips = NULL;
		cfg->nlocal_ips = 0;
		n = net_parse_ip_list(f->local_ips, &cfg->local_ips, 65536, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "strain run: --local-ips: %s\n", err);
			return -1;
		}
		cfg->nlocal_ips = (uint32_t)n;
		cfg->local_ips_key = "--local-ips";
	}
	if (f->proxy)
		return proxy_flag(f->proxy, cfg);
	if (quick && run_config_proxy_env(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain run: %s\n", err);
		return -1;
	}
	return 0;
}

/* Quick mode: one request to one URL. *file_body gets the body read from
 * --body-file, to free after the run. */
static int run_quick(const run_flags *f, run_config *cfg, char **file_body)
{
	const char *body = f->body, *flag = "--url";
	size_t body_len = 0;
	char err[512], all[256], line[512];
	quick_flags q = {0};
	suite_opts so;
	int p = opts_first_given(&run_cmd, &f->seen, OPT_PLAN);

	if (p >= 0) {
		opts_list(&run_cmd, OPT_PLAN, all, sizeof(all));
		fprintf(stderr, "strain run: %s needs a plan file (%s are for plans)\n", opts_typed(&run_cmd, &f->seen, p),
			all);
		return cli_exit_code(CLI_BAD_VALUE);
	}
	if (!f->url) {
		fprintf(stderr, "strain run: give a plan file or --url (see 'strain help run')\n");
		return cli_exit_code(CLI_BAD_VALUE);
	}
	if (f->body && f->body_file) {
		fprintf(stderr, "strain run: --body and --body-file: give one or the other\n");
		return cli_exit_code(CLI_BAD_VALUE);
	}
	if (f->body_file) {
		*file_body = read_file(f->body_file, &body_len, err, sizeof(err));
		if (!*file_body) {
			fprintf(stderr, "strain run: --body-file: %s\n", err);
			return cli_exit_code(CLI_BAD_VALUE);
		}
		body = *file_body;
	} else if (body) {
		body_len = strlen(body);
	}
	if (quick_executor(f, cfg, &q) < 0 || net_flags(f, cfg, 1) < 0)
		return cli_exit_code(CLI_BAD_VALUE);
	/* Counted before it is built, so a refused one is freed with the rest. */
	cfg->reqs = xcalloc(1, sizeof(*cfg->reqs));
	cfg->nreqs = 1;
	cfg->discard_bodies = f->discard;
	cfg->compression = f->compression;
	cfg->max_reqs = (uint32_t)f->max_reqs;
	cfg->max_age_ns = f->max_age_ns;
	if (run_request_quick(&cfg->reqs[0], f->method, f->url, f->headers, f->nheaders, body, body_len, f->compression,
			      cfg->no_reuse, cfg->user_agent, &flag, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain run: %s: %s\n", flag, err);
		return cli_exit_code(CLI_BAD_VALUE);
	}
	cfg->reqs[0].max_reqs = cfg->max_reqs;
	cfg->reqs[0].max_age_ns = cfg->max_age_ns;
	cfg->reqs[0].max_redirects = -1;
	cfg->max_redirects = (uint32_t)f->max_redirects;
	cfg->no_cookies_reset = f->no_cookies_reset;
	if (run_request_route(&cfg->reqs[0], cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain run: --proxy: %s\n", err);
		return cli_exit_code(CLI_BAD_VALUE);
	}
	plan_quick(cfg, &q);
	cfg->secrets = quick_secrets(f);
	cfg->target = redact_strdup(cfg->secrets, f->url, 1);
	if (apply_after(f, cfg) < 0)
		return cli_exit_code(CLI_BAD_VALUE);
	hide_run_tags(cfg);
	quick_description(cfg, &q, cfg->target, opts_given(&f->seen, R_DURATION) > 0, line, sizeof(line));
	so = report_opts(f, f->outs, f->nouts, line);
	return run_outcome(suite_run(cfg, &so));
}

int cli_run_main(int argc, char **argv)
{
	run_config cfg;
	run_flags *f = xcalloc(1, sizeof(*f));
	const char **merged_outs = NULL;
	char *file_body = NULL;
	cli_outcome o;
	int rc;

	run_config_init(&cfg);
	o = run_flags_parse(f, &cfg, argc, argv);
	if (o != CLI_DONE) {
		rc = cli_exit_code(o);
		goto out;
	}
	if (k6_output_check(f) < 0) {
		rc = cli_exit_code(CLI_USAGE);
		goto out;
	}
	if (apply_common(f, &cfg) < 0) {
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	if (opts_given(&f->seen, R_WEB_LINGER) && !f->web) {
		fprintf(stderr, "strain run: --web-linger goes with --web (the dashboard it keeps up)\n");
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	if (f->key && !f->cert && !f->plan) {
		fprintf(stderr, "strain run: --key goes with --cert (the client certificate)\n");
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	if (secrets_check(f) < 0) {
		rc = cli_exit_code(CLI_BAD_VALUE);
		goto out;
	}
	if (f->plan)
		rc = run_plan(f, &cfg, &merged_outs);
	else
		rc = run_quick(f, &cfg, &file_body);
out:
	free(merged_outs);
	run_config_free(&cfg);
	free(file_body);
	free(f);
	return rc;
}
