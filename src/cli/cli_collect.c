/* strain collect [PLAN.yaml] --listen ADDR --expect N: the live merge of N
 * instances started with `strain run --collector URL` (suite/collect.c,
 * docs/distributed.md). The plan gives the thresholds judged on the merged
 * data; without one, nothing is judged. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/clock.h"
#include "io/net.h"
#include "io/tls_server.h"
#include "plan/plan.h"
#include "report/web.h"
#include "suite/collect.h"

#define MAX_ENV 128

typedef struct collect_flags {
	const char *plan, *listen, *web, *summary_export, *report, *token, *tls_cert, *tls_key,
		*envs[MAX_ENV];
	uint32_t nenv;
	uint64_t expect, timeout_lost_ns;
	int quiet;
	opts_seen seen;
} collect_flags;

static cli_outcome plan_arg(void *base, const char *arg)
{
	collect_flags *f = base;

	if (f->plan) {
		fprintf(stderr, "strain collect: one plan at a time ('%s' and '%s')\n", f->plan, arg);
		return CLI_USAGE;
	}
	f->plan = arg;
	return CLI_DONE;
}

static int listen_arg(void *base, const char *v, char *err, size_t errsz)
{
	collect_flags *f = base;
	net_addr a;

	f->listen = v;
	return net_parse_listen(v, &a, err, errsz);
}

static int web_arg(void *base, const char *v, char *err, size_t errsz)
{
	collect_flags *f = base;
	net_addr a;

	f->web = v ? v : WEB_DEFAULT_ADDR;
	return net_parse_listen(f->web, &a, err, errsz);
}

enum { C_LISTEN, C_EXPECT, C_TOKEN, C_TLS_CERT, C_TLS_KEY, C_TIMEOUT_LOST, C_ENV, C_WEB, C_SUMMARY_EXPORT, C_REPORT, C_QUIET, C_HELP,
       C_COUNT };

#define F(field) offsetof(collect_flags, field)

static const opts_group collect_groups[] = {{"Flags", NULL}};

static const opt collect_opts_table[C_COUNT] = {
	[C_LISTEN] = {"--listen", NULL, "ADDR:PORT", OPT_CUSTOM, 0, 0, 0, 0, 0, listen_arg, "HOST:PORT or :PORT", 0,
		      "where instances push (required; :PORT listens on loopback, 0.0.0.0:PORT on every address)"},
	[C_EXPECT] = {"--expect", NULL, "N", OPT_U64, 0, 1, 100000, F(expect), 0, NULL, NULL, 0,
		      "how many instances make the whole run (required)"},
	[C_TOKEN] = {"--token", NULL, "T", OPT_STRING, 0, 0, 0, F(token), 0, NULL, NULL, 0,
		     "refuse (401) every push without 'Authorization: Bearer T' (default: $STRAIN_COLLECTOR_TOKEN)"},
	[C_TLS_CERT] = {"--tls-cert", NULL, "FILE", OPT_FILE, 0, 0, 0, F(tls_cert), 0, NULL, NULL, 0,
			"serve HTTPS (--listen, and --web) with this certificate chain, PEM (needs --tls-key)"},
	[C_TLS_KEY] = {"--tls-key", NULL, "FILE", OPT_FILE, 0, 0, 0, F(tls_key), 0, NULL, NULL, 0,
		       "the private key of --tls-cert, PEM, unencrypted"},
	[C_TIMEOUT_LOST] = {"--timeout-lost", NULL, "D", OPT_DURATION, OPT_POSITIVE, 0, 0, F(timeout_lost_ns), 0, NULL,
			    NULL, 0, "an instance that has not pushed for D is lost: the result is partial (default 10s)"},
	[C_ENV] = {"--env", "-e", "KEY=VALUE", OPT_KEYVAL, OPT_REPEAT, 0, MAX_ENV, F(envs), F(nenv), NULL, NULL, 0,
		   "sets {{env.KEY}} while the plan is read (repeatable)"},
	[C_WEB] = {"--web", NULL, "[ADDR]", OPT_CUSTOM, OPT_OPTIONAL_ADDR, 0, 0, 0, 0, web_arg, "HOST:PORT or :PORT", 0,
		   "serve the live dashboard of the merged run at ADDR (default " WEB_DEFAULT_ADDR ")"},
	[C_SUMMARY_EXPORT] = {"--summary-export", NULL, "FILE", OPT_STRING, 0, 0, 0, F(summary_export), 0, NULL, NULL,
			      0, "write the merged summary as JSON (strain-summary/2)"},
	[C_REPORT] = {"--report", NULL, "FILE", OPT_STRING, 0, 0, 0, F(report), 0, NULL, NULL, 0,
		      "write the merged run's HTML report"},
	[C_QUIET] = {"--quiet", "-q", NULL, OPT_SWITCH, 0, 0, 0, F(quiet), 0, NULL, NULL, 0, "no summary on stdout"},
	[C_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

#undef F

static const opts_cmd collect_cmd = {
	"collect",
	collect_opts_table,
	C_COUNT,
	collect_groups,
	1,
	"Usage: strain collect [PLAN.yaml] --listen ADDR:PORT --expect N [flags]\n\n"
	"Receives the interval snapshots of N instances (strain run --collector URL),\n"
	"merges them exactly, judges the plan's thresholds on the merged data (an\n"
	"abortOnFail one stops every instance), and writes one summary at the end.\n",
	"Exit status: 0 ok, 1 partial (an instance lost), 2 usage, 99 thresholds failed,\n"
	"104 bad plan, 105 interrupted, 107 could not listen. See docs/distributed.md.\n",
	NULL,
	plan_arg,
};

int cli_collect_main(int argc, char **argv)
{
	collect_flags f;
	collect_opts co;
	SSL_CTX *tls = NULL;
	run_config cfg;
	cli_outcome o;
	suite_outcome rc;
	int partial = 0;

	memset(&f, 0, sizeof(f));
	run_config_init(&cfg);
	o = opts_parse(&collect_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		goto out;
	if (!f.listen || !f.expect) {
		fprintf(stderr, "strain collect: %s is required\n", !f.listen ? "--listen" : "--expect");
		o = CLI_USAGE;
		goto out;
	}
	if (!f.tls_cert != !f.tls_key) {
		fprintf(stderr, "strain collect: %s needs %s\n", f.tls_cert ? "--tls-cert" : "--tls-key",
			f.tls_cert ? "--tls-key" : "--tls-cert");
		o = CLI_USAGE;
		goto out;
	}
	if (f.tls_cert) {
		char err[768];

		tls = tls_server_from_files(f.tls_cert, "--tls-cert", f.tls_key, "--tls-key", err, sizeof(err));
		if (!tls) {
			fprintf(stderr, "strain collect: %s\n", err);
			o = CLI_BAD_VALUE;
			goto out;
		}
	}
	if (f.plan) {
		plan_opts po = {NULL, 0, NULL, 0, f.envs, f.nenv, NULL, 0};
		plan_errors errs;

		if (plan_load(f.plan, &po, &cfg, &errs) < 0) {
			plan_errors_print(&errs, stderr);
			plan_errors_free(&errs);
			o = CLI_BAD_VALUE;
			goto out;
		}
	}
	memset(&co, 0, sizeof(co));
	co.plan = f.plan;
	co.cfg = &cfg;
	co.listen = f.listen;
	co.expect = (uint32_t)f.expect;
	co.web = f.web;
	co.summary_export = f.summary_export;
	co.report_html = f.report;
	co.token = f.token ? f.token : getenv("STRAIN_COLLECTOR_TOKEN");
	if (co.token && !*co.token)
		co.token = NULL;
	co.timeout_lost_ns = f.timeout_lost_ns ? f.timeout_lost_ns : COLLECT_DEFAULT_LOST;
	co.quiet = f.quiet;
	co.tls = tls;
	rc = collect_run(&co, &partial);
	switch (rc) {
	case SUITE_OK:
		o = partial ? CLI_FAILED : CLI_DONE;
		break;
	case SUITE_THRESHOLDS:
		o = CLI_THRESHOLDS;
		break;
	case SUITE_INTERRUPTED:
		o = CLI_INTERRUPTED;
		break;
	case SUITE_SETUP:
		o = CLI_CANNOT_START;
		break;
	case SUITE_BAD_CONFIG:
		o = CLI_BAD_VALUE;
		break;
	case SUITE_ERROR:
		o = CLI_FAILED;
		break;
	}
out:
	SSL_CTX_free(tls);
	run_config_free(&cfg);
	return cli_exit_code(o);
}
