/* strain run: flags -> a program (a plan's, or quick mode's) -> suite_run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/parse.h"
#include "plan/plan.h"
#include "plan/quick.h"
#include "program/request.h"
#include "suite/suite.h"

#define MAX_HEADERS 64
#define MAX_OUTS 16
#define MAX_ENV 128
#define MAX_MODULES 64
#define MAX_BODY (64u * 1024 * 1024)
#define MAX_STAGES 64
/* Iterations per second a quick-mode rate may ask for: the one maximum of
 * every arrival rate (engine/exec.h). */
#define MAX_RATE EXEC_MAX_RATE_PER_SEC

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: strain run PLAN.yaml [--strategy S] [--module NAME]... [-e KEY=VALUE]... [flags]\n"
		"       strain run --url URL [flags]\n"
		"\n"
		"With a plan: its modules run in the chosen strategy (docs/plan-format.md).\n"
		"      --strategy S          sequential, hybrid, parallel (default) or all\n"
		"      --module NAME         only this module (repeatable)\n"
		"  -e, --env KEY=VALUE       sets {{env.KEY}}, overriding the environment\n"
		"\n"
		"Quick mode: VUs loop requests to one URL, like wrk or hey.\n"
		"\n"
		"  -u, --vus N               virtual users (default 1)\n"
		"  -d, --duration D          how long to run, e.g. 30s, 1m30s\n"
		"  -i, --iterations N        total iterations shared by the VUs\n"
		"                            (neither: one iteration; iterations alone: at most 10m)\n"
		"      --rate R              open model: start R iterations per second, evenly\n"
		"                            spaced, whatever the server does (constant-arrival-rate;\n"
		"                            --vus VUs preallocated; needs --duration or --stage)\n"
		"      --max-vus N           with --rate: start more VUs up to N when none is free\n"
		"                            (default --vus); past that, iterations are dropped\n"
		"      --stage D:T           ramp linearly to T over D, repeatable: with --rate T is\n"
		"                            a rate (ramping-arrival-rate from --rate), without it a\n"
		"                            VU count (ramping-vus from --vus)\n"
		"      --queue               with --rate: queue iterations that find no free VU and\n"
		"                            measure their first request from the intended start\n"
		"                            (coordinated omission corrected, like wrk2)\n"
		"      --url URL             the request URL (http:// or https://)\n"
		"  -X, --method M            HTTP method (default GET)\n"
		"  -H, --header 'N: V'       request header, repeatable\n"
		"      --body TEXT           request body\n"
		"      --body-file FILE      request body from a file\n"
		"      --timeout D           per-request timeout (default 60s)\n"
		"      --connect-timeout D   TCP connect timeout (default 30s)\n"
		"      --graceful-stop D     time in-flight iterations get at the end, and VUs above\n"
		"                            a --stage ramp-down (default 30s)\n"
		"      --no-connection-reuse a new connection for every request\n"
		"      --insecure-skip-tls-verify  https: do not check server certificates\n"
		"      --cacert FILE         https: also trust the CA certificates in FILE (PEM)\n"
		"      --no-tls-resumption   https: a full handshake on every new connection\n"
		"      --cert FILE           https: client certificate (chain, PEM) for mutual TLS\n"
		"      --key FILE            https: its private key (PEM; default: in the --cert file)\n"
		"      --expect-status A-B   statuses that are not failures (default 200-399)\n"
		"      --threads N           worker threads (default: one per core)\n"
		"      --summary-export FILE write the end-of-test summary as JSON\n"
		"  -o, --out KIND=ARG        stream metrics: influxdb=URL, influxdb2=URL, json=FILE,\n"
		"                            csv=FILE (repeatable; docs/outputs.md)\n"
		"  -q, --quiet               no live progress and no summary on stdout\n"
		"\n"
		"Exit status: 0 ok, 1 error, 2 usage, 104 bad configuration, 105 interrupted,\n"
		"107 could not start. See docs/error-codes.md.\n");
}

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

/* A non-negative decimal number, the whole string. */
static int parse_number(const char *s, double max, double *out)
{
	char *end;
	double d;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (*end || errno || !(d >= 0) || d > max)
		return -1;
	*out = d;
	return 0;
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
	return parse_number(colon + 1, MAX_RATE, &st->target);
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

/* The one place a run's outcome becomes the process's exit status. */
static int exit_code(suite_outcome o)
{
	switch (o) {
	case SUITE_OK:
		return CLI_EXIT_OK;
	case SUITE_THRESHOLDS:
		return CLI_EXIT_THRESHOLDS;
	case SUITE_INTERRUPTED:
		return CLI_EXIT_INTERRUPTED;
	case SUITE_BAD_CONFIG:
		return CLI_EXIT_BAD_CONFIG;
	case SUITE_SETUP:
		return CLI_EXIT_SETUP;
	case SUITE_ERROR:
		break;
	}
	return CLI_EXIT_ERROR;
}

int cli_run_main(int argc, char **argv)
{
	run_config cfg;
	quick_flags q = {.vus = 1};
	suite_opts so = {0};
	const char *tls_files[3] = {NULL, NULL, NULL};
	args a;
	const char *url = NULL, *method = "GET", *body = NULL, *body_file = NULL, *headers[MAX_HEADERS];
	const char *outs[MAX_OUTS], *envs[MAX_ENV], *modules[MAX_MODULES], *plan = NULL, *strategy = NULL;
	uint32_t nenv = 0, nmodules = 0;
	const char **plan_outs_merged = NULL;
	int quick_given = 0, have_max_vus = 0, have_vus = 0;
	/* The first flag of each kind as the user typed it, for messages. */
	char quick_flag[64] = "", plan_flag[64] = "", iter_flag[64] = "", vus_flag[64] = "--vus";
	exec_stage stages[MAX_STAGES];
	char *file_body = NULL;
	size_t body_len = 0;
	uint32_t nheaders = 0;
	uint64_t v;
	int kind, rc = CLI_EXIT_BAD_CONFIG, have_duration = 0;
	char err[512], dur[32];

	run_config_init(&cfg);
	args_init(&a, "run", argc, argv);
	while ((kind = args_next(&a))) {
		if (kind == 2) {
			if (plan) {
				fprintf(stderr, "strain run: one plan at a time ('%s' and '%s')\n", plan, a.value);
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			plan = a.value;
			continue;
		}
		if (args_is(&a, "--url", NULL) || args_is(&a, "--vus", "-u") || args_is(&a, "--duration", "-d") ||
		    args_is(&a, "--iterations", "-i") || args_is(&a, "--method", "-X") || args_is(&a, "--header", "-H") ||
		    args_is(&a, "--body", NULL) || args_is(&a, "--body-file", NULL) || args_is(&a, "--expect-status", NULL) ||
		    args_is(&a, "--rate", NULL) || args_is(&a, "--max-vus", NULL) || args_is(&a, "--stage", NULL) ||
		    args_is(&a, "--queue", NULL) || args_is(&a, "--graceful-stop", NULL)) {
			if (!quick_given)
				snprintf(quick_flag, sizeof(quick_flag), "%s", a.flag);
			quick_given = 1;
		}
		if (!plan_flag[0] && (args_is(&a, "--strategy", NULL) || args_is(&a, "--module", NULL) ||
				      args_is(&a, "--env", "-e")))
			snprintf(plan_flag, sizeof(plan_flag), "%s", a.flag);
		if (args_is(&a, "--help", "-h")) {
			usage(stdout);
			rc = CLI_EXIT_OK;
			goto out;
		} else if (args_is(&a, "--url", NULL)) {
			if (!(url = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--vus", "-u")) {
			if (args_u64(&a, 1, 1000000, &v) < 0)
				goto out;
			q.vus = (uint32_t)v;
			have_vus = 1;
			snprintf(vus_flag, sizeof(vus_flag), "%s", a.flag);
		} else if (args_is(&a, "--duration", "-d")) {
			if (args_duration(&a, &q.duration_ns) < 0)
				goto out;
			if (!q.duration_ns) {
				args_error(&a, "must be longer than 0s");
				goto out;
			}
			have_duration = 1;
		} else if (args_is(&a, "--iterations", "-i")) {
			if (args_u64(&a, 1, UINT64_C(1) << 50, &q.iterations) < 0)
				goto out;
			snprintf(iter_flag, sizeof(iter_flag), "%s", a.flag);
		} else if (args_is(&a, "--rate", NULL)) {
			const char *r = args_value(&a);

			if (!r)
				goto out;
			if (parse_number(r, MAX_RATE, &q.rate) < 0 || !(q.rate > 0)) {
				args_error(&a, "'%s': expected iterations per second, a number above 0 and at most %.0f "
					       "(docs/executors.md)", r, MAX_RATE);
				goto out;
			}
		} else if (args_is(&a, "--max-vus", NULL)) {
			if (args_u64(&a, 1, 1000000, &v) < 0)
				goto out;
			q.max_vus = (uint32_t)v;
			have_max_vus = 1;
		} else if (args_is(&a, "--stage", NULL)) {
			const char *sv = args_value(&a);

			if (!sv)
				goto out;
			if (q.nstages == MAX_STAGES) {
				args_error(&a, "at most %d stages", MAX_STAGES);
				goto out;
			}
			if (parse_stage(sv, &stages[q.nstages]) < 0) {
				args_error(&a, "'%s': expected DURATION:TARGET, e.g. 30s:100 (a target of at most %.0f: "
					       "iterations per second with --rate, VUs without)", sv, MAX_RATE);
				goto out;
			}
			q.nstages++;
		} else if (args_is(&a, "--queue", NULL)) {
			q.queue = 1;
		} else if (args_is(&a, "--method", "-X")) {
			if (!(method = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--header", "-H")) {
			if (nheaders == MAX_HEADERS) {
				args_error(&a, "at most %d headers", MAX_HEADERS);
				goto out;
			}
			if (!(headers[nheaders++] = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--body", NULL)) {
			if (!(body = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--body-file", NULL)) {
			if (!(body_file = args_file(&a)))
				goto out;
		} else if (args_is(&a, "--timeout", NULL)) {
			if (args_duration(&a, &cfg.timeout_ns) < 0)
				goto out;
			if (!cfg.timeout_ns) {
				args_error(&a, "must be longer than 0s");
				goto out;
			}
		} else if (args_is(&a, "--connect-timeout", NULL)) {
			if (args_duration(&a, &cfg.connect_timeout_ns) < 0)
				goto out;
			if (!cfg.connect_timeout_ns) {
				args_error(&a, "must be longer than 0s");
				goto out;
			}
		} else if (args_is(&a, "--graceful-stop", NULL)) {
			if (args_duration(&a, &cfg.graceful_stop_ns) < 0)
				goto out;
		} else if (args_is(&a, "--no-connection-reuse", NULL)) {
			cfg.no_reuse = 1;
		} else if (args_is(&a, "--insecure-skip-tls-verify", NULL)) {
			cfg.tls_insecure = 1;
		} else if (args_is(&a, "--cacert", NULL)) {
			if (!(tls_files[0] = args_file(&a)))
				goto out;
		} else if (args_is(&a, "--cert", NULL)) {
			if (!(tls_files[1] = args_file(&a)))
				goto out;
		} else if (args_is(&a, "--key", NULL)) {
			if (!(tls_files[2] = args_file(&a)))
				goto out;
		} else if (args_is(&a, "--no-tls-resumption", NULL)) {
			cfg.no_tls_resumption = 1;
		} else if (args_is(&a, "--expect-status", NULL)) {
			const char *s = args_value(&a);

			if (!s)
				goto out;
			if (parse_status_range(s, &cfg.expected_lo, &cfg.expected_hi) < 0) {
				args_error(&a, "'%s': expected STATUS or LOW-HIGH within 100-599", s);
				goto out;
			}
		} else if (args_is(&a, "--threads", NULL)) {
			if (args_u64(&a, 1, 1024, &v) < 0)
				goto out;
			cfg.threads = (uint32_t)v;
		} else if (args_is(&a, "--summary-export", NULL)) {
			if (!(so.summary_export = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--out", "-o")) {
			if (so.nouts == MAX_OUTS) {
				args_error(&a, "at most %d outputs", MAX_OUTS);
				goto out;
			}
			if (!(outs[so.nouts++] = args_value(&a)))
				goto out;
			so.outs = outs;
		} else if (args_is(&a, "--strategy", NULL)) {
			if (!(strategy = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--module", NULL)) {
			if (nmodules == MAX_MODULES) {
				args_error(&a, "at most %d", MAX_MODULES);
				goto out;
			}
			if (!(modules[nmodules++] = args_value(&a)))
				goto out;
		} else if (args_is(&a, "--env", "-e")) {
			const char *kv;

			if (!(kv = args_value(&a)))
				goto out;
			if (!strchr(kv, '=') || kv[0] == '=') {
				args_error(&a, "'%s': expected KEY=VALUE", kv);
				goto out;
			}
			if (nenv == MAX_ENV) {
				args_error(&a, "at most %d", MAX_ENV);
				goto out;
			}
			envs[nenv++] = kv;
		} else if (args_is(&a, "--quiet", "-q")) {
			so.quiet = 1;
		} else {
			fprintf(stderr, "strain run: unknown flag %s (see 'strain help run')\n", a.flag);
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	for (int t = 0; t < 3; t++)
		if (tls_files[t])
			run_config_tls_file(&cfg, t, tls_files[t]);
	if (cfg.tls_key && !cfg.tls_cert && !plan) {
		fprintf(stderr, "strain run: --key goes with --cert (the client certificate)\n");
		goto out;
	}
	if (plan) {
		plan_opts po = {strategy, 0, modules, nmodules, envs, nenv};
		plan_errors errs;
		char line[600];

		if (quick_given) {
			fprintf(stderr, "strain run: %s is for quick mode (--url); a plan sets this per module (--url, --vus, "
					"--duration, --iterations, --rate, --max-vus, --stage, --queue, --method, --header, --body, "
					"--body-file, --expect-status and --graceful-stop are all quick-mode flags)\n",
				quick_flag);
			goto out;
		}
		if (plan_load(plan, &po, &cfg, &errs) < 0) {
			plan_errors_print(&errs, stderr);
			plan_errors_free(&errs);
			goto out;
		}
		/* The plan's outputs, then the command line's. */
		if (cfg.nplan_outs) {
			const char **all = xcalloc(cfg.nplan_outs + so.nouts + 1, sizeof(char *));

			memcpy(all, cfg.plan_outs, cfg.nplan_outs * sizeof(char *));
			memcpy(all + cfg.nplan_outs, outs, so.nouts * sizeof(char *));
			so.outs = all;
			so.nouts += cfg.nplan_outs;
			plan_outs_merged = all;
		}
		snprintf(line, sizeof(line), "%s: %u modules, strategy %s", plan, cfg.nscenarios,
			 strategy ? strategy : "parallel");
		so.description = line;
		rc = exit_code(suite_run(&cfg, &so));
		goto out;
	}
	if (strategy || nmodules || nenv) {
		fprintf(stderr, "strain run: %s needs a plan file (--strategy, --module and -e are for plans)\n", plan_flag);
		goto out;
	}
	if (!url) {
		fprintf(stderr, "strain run: give a plan file or --url (see 'strain help run')\n");
		goto out;
	}
	if (body && body_file) {
		fprintf(stderr, "strain run: --body and --body-file: give one or the other\n");
		goto out;
	}
	if (body_file) {
		file_body = read_file(body_file, &body_len, err, sizeof(err));
		if (!file_body) {
			fprintf(stderr, "strain run: --body-file: %s\n", err);
			goto out;
		}
		body = file_body;
	} else if (body) {
		body_len = strlen(body);
	}
	if (q.rate > 0 || q.nstages) {
		const char *why = NULL;

		if (q.iterations)
			why = q.rate > 0 ? "can't be combined with --rate" : "can't be combined with --stage";
		else if (q.nstages && have_duration)
			why = "--stage sets the length of the run; drop --duration";
		else if (q.rate > 0 && !q.nstages && !have_duration)
			why = "--rate needs --duration (or --stage)";
		else if (q.nstages && !exec_stages_duration(stages, q.nstages))
			why = "the stages last 0s";
		else if (q.max_vus && q.max_vus < q.vus)
			why = "--max-vus can't be less than --vus";
		if (why) {
			if (q.iterations)
				fprintf(stderr, "strain run: %s %s\n", iter_flag, why);
			else
				fprintf(stderr, "strain run: %s\n", why);
			goto out;
		}
		if (q.nstages) {
			q.stages = stages;
			q.duration_ns = exec_stages_duration(stages, q.nstages);
		}
	}
	if ((have_max_vus || q.queue) && !(q.rate > 0)) {
		fprintf(stderr, "strain run: %s is for the open model (--rate)\n", have_max_vus ? "--max-vus" : "--queue");
		goto out;
	}
	if (!have_duration && !q.iterations && !q.nstages) {
		/* k6's default: one VU runs one iteration. Like k6, a --vus without
		 * --duration, --iterations or --stage is ignored, with a warning. */
		if (have_vus && q.vus != 1)
			fprintf(stderr,
				"strain run: warning: %s %u is ignored: it works with --duration, --iterations or --stage; "
				"running one iteration with one VU (as k6 does)\n",
				vus_flag, q.vus);
		q.vus = 1;
		q.iterations = 1;
	}
	if (q.iterations && q.iterations < q.vus) {
		fprintf(stderr, "strain run: %s (%llu) can't be less than %s (%u)\n", iter_flag,
			(unsigned long long)q.iterations, vus_flag, q.vus);
		goto out;
	}
	cfg.reqs = xcalloc(1, sizeof(*cfg.reqs));
	{
		const char *flag = "--url";

		if (run_request_quick(&cfg.reqs[0], method, url, headers, nheaders, body, body_len, cfg.no_reuse, &flag,
				      err, sizeof(err)) < 0) {
			fprintf(stderr, "strain run: %s: %s\n", flag, err);
			goto out;
		}
	}
	cfg.nreqs = 1;
	plan_quick(&cfg, &q);
	{
		char line[512];

		if (q.rate > 0 && q.nstages)
			snprintf(line, sizeof(line), "%s %s: from %g iterations/s through %u stages over %s, %u-%u VUs%s",
				 cfg.reqs[0].method, url, q.rate, q.nstages,
				 fmt_duration(q.duration_ns, dur, sizeof(dur)), q.vus, cfg.scenarios[0].vus,
				 q.queue ? ", queued" : "");
		else if (q.rate > 0)
			snprintf(line, sizeof(line), "%s %s: %g iterations/s for %s, %u-%u VUs%s", cfg.reqs[0].method, url,
				 q.rate, fmt_duration(q.duration_ns, dur, sizeof(dur)), q.vus, cfg.scenarios[0].vus,
				 q.queue ? ", queued" : "");
		else if (q.nstages)
			snprintf(line, sizeof(line), "%s %s: ramping from %u VUs through %u stages over %s",
				 cfg.reqs[0].method, url, q.vus, q.nstages, fmt_duration(q.duration_ns, dur, sizeof(dur)));
		else if (have_duration && q.iterations)
			snprintf(line, sizeof(line), "%s %s: %u VUs, %llu iterations within %s", cfg.reqs[0].method, url,
				 q.vus, (unsigned long long)q.iterations, fmt_duration(q.duration_ns, dur, sizeof(dur)));
		else if (have_duration)
			snprintf(line, sizeof(line), "%s %s: %u VUs for %s", cfg.reqs[0].method, url, q.vus,
				 fmt_duration(q.duration_ns, dur, sizeof(dur)));
		else
			snprintf(line, sizeof(line), "%s %s: %u VUs, %llu iterations", cfg.reqs[0].method, url, q.vus,
				 (unsigned long long)q.iterations);
		so.description = line;
		rc = exit_code(suite_run(&cfg, &so));
	}
out:
	if (a.missing)
		rc = CLI_EXIT_USAGE;
	free(plan_outs_merged);
	run_config_free(&cfg);
	free(file_body);
	return rc;
}
