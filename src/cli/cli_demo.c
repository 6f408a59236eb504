/* strain demo: the whole story on the built-in target. It starts `strain
 * target` on a free loopback port, runs the example four-module suite with
 * --strategy all (sequential, hybrid, parallel) and prints the comparison
 * and verdict; then, as the team in the story did, restarts the target with
 * the fixes (a bigger Profile pool and a cache), re-runs the parallel
 * strategy and shows Profile before and after (the whole phase, and the
 * steady state after every VU's login); finally it measures each fix —
 * pool, cache, autoscaling — as Profile's capacity under the other
 * modules' load (strain capacity --under-load against a target with that
 * fix). Summaries and the HTML reports go to ./results/: report.html
 * (every strategy, written by the run with --report), report-fixed.html
 * (the fixed run against it) and capacity-*.json. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/parse.h"
#include "metrics/hist.h"
#include "report/html.h"
#include "report/summary_read.h"

static pid_t start_target(char *addr, size_t addrsz, const char *const *extra)
{
	const char *argv[16] = {"strain", "target", "--listen", "127.0.0.1:0", "--quiet"};
	int fds[2], n = 5;
	pid_t pid;
	FILE *f;
	char line[256];

	while (extra && *extra && n < 15)
		argv[n++] = *extra++;
	argv[n] = NULL;
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(addr, addrsz, "%s", strrchr(line, ' ') ? strrchr(line, ' ') + 1 : line);
	return pid;
}

static void stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* Runs `strain ...`; returns its exit status or -1. With mute, its
 * standard output is dropped (its errors still show). */
static int run_cmd(const char *const *argv, int mute)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = mute ? open("/dev/null", O_WRONLY) : -1;

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run(const char *const *argv)
{
	return run_cmd(argv, 0);
}

/* examples/suite.yaml next to the working directory or the binary. */
static int find_suite(char *out, size_t outsz)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (access("examples/suite.yaml", R_OK) == 0) {
		snprintf(out, outsz, "examples/suite.yaml");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(out, outsz, "%s/../examples/suite.yaml", dirname(exe));
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

static json_t *profile_parallel(const char *path)
{
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e), *p;

	if (!root)
		return NULL;
	p = json_object_get(json_object_get(json_object_get(json_object_get(root, "comparison"), "strategies"), "parallel"),
			    "profile");
	json_incref(p);
	json_decref(root);
	return p;
}

/* results/report-fixed.html: the fixed run, with the first as its
 * baseline. 0, or -1 after saying why. */
static int report_fixed(void)
{
	json_t *all = json_load_file("results/demo-all.json", 0, NULL);
	json_t *fixed = json_load_file("results/demo-fixed.json", 0, NULL);
	char *a = all ? json_dumps(all, JSON_COMPACT) : NULL, *f = fixed ? json_dumps(fixed, JSON_COMPACT) : NULL;
	char err[512];
	int rc = -1;

	if (!a || !f)
		fprintf(stderr, "strain demo: cannot read the summaries for results/report-fixed.html\n");
	else if (report_html_write("results/report-fixed.html", f, a, err, sizeof(err)) < 0)
		fprintf(stderr, "strain demo: %s\n", err);
	else
		rc = 0;
	free(a);
	free(f);
	json_decref(all);
	json_decref(fixed);
	return rc;
}


static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Profile's p95 and p99 in the parallel phase of a summary, leaving out
 * the phase's first warm_ms: every VU logs in at the start of a phase
 * (the module's setup), and those logins queue on the database whether or
 * not the views are cached, so the whole phase's p95 mixes the start with
 * the steady state. Both are printed; neither is hidden. 0, or -1. */
static int steady_profile(const char *path, double warm_ms, double *p95, double *p99)
{
	char err[256];
	sum_doc *d = summary_read(path, err, sizeof(err));
	met_hist *h = met_hist_create();
	double from = -1, to = 0;
	json_t *ph;
	size_t i;
	uint32_t k, j;
	int rc = -1;

	if (!d)
		goto out;
	json_array_foreach(json_object_get(d->root, "phases"), i, ph) {
		if (!strcmp(json_string_value(json_object_get(ph, "strategy")) ?: "", "parallel")) {
			from = num(ph, "start_ms") + warm_ms;
			to = num(ph, "end_ms");
		}
	}
	if (from < 0)
		goto out;
	for (k = 0; k < d->nseries; k++) {
		const sum_series *s = &d->series[k];

		if (strcmp(s->module, "profile") || strcmp(s->strategy, "parallel"))
			continue;
		for (j = 0; j < s->n; j++)
			if (s->hist[j] && s->t_ms[j] >= from && s->t_ms[j] < to)
				met_hist_merge(h, s->hist[j]);
	}
	if (!h->count)
		goto out;
	*p95 = met_hist_percentile(h, 95) / 1e6;
	*p99 = met_hist_percentile(h, 99) / 1e6;
	rc = 0;
out:
	met_hist_destroy(h);
	summary_doc_free(d);
	return rc;
}

typedef struct demo_flags {
	const char *plan;
	uint64_t duration_ns;
	char duration[32]; /* as given, passed on to the runs */
	int quick;
	opts_seen seen;
} demo_flags;

/* The three fixes of the story, each measured as capacity: Profile's
 * limit under the other modules' load (where it broke), on a target with
 * the fix and the ones before it. */
typedef struct fix {
	const char *label, *file;
	const char *args[5];
} fix;

static const fix fixes[] = {
	{"as shipped: pool of 12", "results/capacity-0-shipped.json", {NULL}},
	{"1. pool of 24", "results/capacity-1-pool.json", {"--db-pool", "profile=24", NULL}},
	{"2. pool of 24 + cache", "results/capacity-2-cache.json", {"--db-pool", "profile=24", "--cache", "profile", NULL}},
	{"3. autoscale 12..48 + cache", "results/capacity-3-autoscale.json",
	 {"--autoscale", "profile=12..48", "--cache", "profile", NULL}},
};

#define NFIXES (sizeof(fixes) / sizeof(fixes[0]))

/* The capacity export's result for profile (a new reference), or NULL. */
static json_t *capacity_result(const char *path)
{
	json_t *root = json_load_file(path, 0, NULL), *m;

	m = json_array_get(json_object_get(json_object_get(root, "capacity"), "modules"), 0);
	json_incref(m);
	json_decref(root);
	return m;
}

/* The p95 of the step that held at the sustained rate, ms; NAN if none. */
static double held_p95(json_t *m)
{
	double rate = num(m, "sustainable_rate"), p95 = NAN;
	json_t *st;
	size_t i;

	json_array_foreach(json_object_get(m, "steps"), i, st) {
		if (json_is_true(json_object_get(st, "ok")) && num(st, "rate") == rate)
			p95 = num(st, "p95");
	}
	return p95;
}

static void print_rate(const char *what, json_t *v)
{
	char b[32];

	if (json_is_number(v))
		snprintf(b, sizeof(b), "%.4g/s", json_number_value(v));
	else
		snprintf(b, sizeof(b), "-");
	printf(what, b);
}

/* Runs the capacity searches and prints their table. 0, or an exit code. */
static int capacity_story(const char *suite, int quick)
{
	char addr[256], target_env[320], dur_env[64];
	json_t *res[NFIXES] = {NULL};
	double first, last, scaled;
	size_t i;
	int rc = 0;

	/* The other modules' executors outlast every step (each is cut at the
	 * end of its step), so they load the target for the whole of it. */
	snprintf(dur_env, sizeof(dur_env), "DURATION=10m");
	printf("\nstrain demo: each fix measured as capacity — the highest arrival rate profile sustains\n"
	       "within its objectives (the plan's thresholds) while the other modules run at their\n"
	       "plan load; %s per step, its first %s left out (strain capacity --under-load) ...\n",
	       quick ? "2s" : "4s", quick ? "1s" : "2s");
	for (i = 0; i < NFIXES; i++) {
		const char *argv[40] = {"strain", "capacity", suite, "--module", "profile", "--under-load", "-e", NULL,
					"-e", dur_env, "--step", quick ? "2s" : "4s", "--warmup", quick ? "1s" : "2s",
					"--start-rate", "50", "--precision", "10", "--max-rate", "3200",
					"--max-steps", quick ? "3" : "8", "--quiet", "--summary-export", fixes[i].file, NULL};
		pid_t target = start_target(addr, sizeof(addr), fixes[i].args);
		int r;

		if (target < 0) {
			fprintf(stderr, "strain demo: could not start the built-in target\n");
			rc = cli_exit_code(CLI_CANNOT_START);
			goto out;
		}
		snprintf(target_env, sizeof(target_env), "TARGET=http://%s", addr);
		argv[7] = target_env;
		printf("  %s ...\n", fixes[i].label);
		r = run_cmd(argv, 1);
		stop(target);
		if (r != 0) {
			fprintf(stderr, "strain demo: the capacity search failed (exit %d)\n", r);
			rc = r < 0 ? cli_exit_code(CLI_FAILED) : r;
			goto out;
		}
		res[i] = capacity_result(fixes[i].file);
		if (!res[i]) {
			fprintf(stderr, "strain demo: %s has no capacity result\n", fixes[i].file);
			rc = cli_exit_code(CLI_FAILED);
			goto out;
		}
	}
	printf("\n  profile under load            sustains   fails at   p95 there  limit, and why\n");
	for (i = 0; i < NFIXES; i++) {
		json_t *m = res[i], *fo = json_object_get(m, "failed_objective");
		const char *by = json_string_value(json_object_get(m, "limited_by")) ?: "?";
		const char *grew = json_string_value(json_object_get(m, "grew"));
		double p95 = held_p95(m);

		printf("  %-28s", fixes[i].label);
		print_rate(" %9s", json_object_get(m, "sustainable_rate"));
		print_rate(" %10s", json_object_get(m, "first_failing_rate"));
		if (isnan(p95))
			printf(" %11s", "-");
		else
			printf(" %8.3g ms", p95);
		if (!strcmp(by, "target") && fo)
			printf("  %s %s (observed %.4g)%s%s\n", json_string_value(json_object_get(fo, "metric")) ?: "",
			       json_string_value(json_object_get(fo, "expression")) ?: "",
			       num(fo, "observed"), grew ? "; grew: " : "", grew ?: "");
		else if (!strcmp(by, "generator"))
			printf("  the generator, not the target, was the limit\n");
		else
			printf("  %s\n", by);
	}
	first = num(res[0], "sustainable_rate");
	last = num(res[2], "sustainable_rate");
	scaled = num(res[3], "sustainable_rate");
	if (quick)
		printf("\n  (--quick: steps too short and too few for figures to trust; run without it)\n");
	else if (first > 0)
		printf("\n  => profile sustains %.4g/s under load as shipped, %.4g/s with pool + cache (x%.1f),\n"
		       "     %.4g/s with the cache and a pool that scales itself (x%.1f)\n",
		       first, last, last / first, scaled, scaled / first);
	printf("  Every step starts new VUs and each logs in first (the module's setup): logins are\n"
	       "  never cached, so with the cache they are what is left on the database, which\n"
	       "  Profile shares with the other modules; that is where the fixed module breaks.\n");
	printf("  capacity results: results/capacity-*.json (strain report FILE draws one)\n");
out:
	for (i = 0; i < NFIXES; i++)
		json_decref(res[i]);
	return rc;
}

/* The duration as given (-d 15s, or a bare 15s), kept as text for the runs. */
static int duration_arg(void *base, const char *v, char *err, size_t errsz)
{
	demo_flags *f = base;

	if (parse_duration_ns(v, &f->duration_ns) < 0 || !f->duration_ns || strlen(v) >= sizeof(f->duration))
		return -1;
	snprintf(f->duration, sizeof(f->duration), "%s", v);
	return 0;
}

static cli_outcome duration_positional(void *base, const char *arg)
{
	char err[8];

	if (duration_arg(base, arg, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain demo: '%s' is not a duration (examples: 15s, 1m)\n", arg);
		return CLI_BAD_VALUE;
	}
	return CLI_DONE;
}

enum { D_DURATION, D_QUICK, D_PLAN, D_HELP, D_COUNT };

static const opts_group demo_groups[] = {{"Flags", NULL}};

static const opt demo_opts[D_COUNT] = {
	[D_DURATION] = {"--duration", "-d", "D", OPT_CUSTOM, 0, 0, 0, 0, 0, duration_arg,
			"a duration above 0 (examples: 15s, 1m)", 0,
			"per module and phase (default 15s; also as a bare argument: strain demo 5s)"},
	[D_QUICK] = {"--quick", NULL, NULL, OPT_SWITCH, 0, 0, 0, offsetof(demo_flags, quick), 0, NULL, NULL, 0,
		     "the whole story in about a minute: 3s phases, short capacity steps"},
	[D_PLAN] = {"--plan", NULL, "FILE", OPT_FILE, 0, 0, 0, offsetof(demo_flags, plan), 0, NULL, NULL, 0,
		    "the suite to run (default: examples/suite.yaml)"},
	[D_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

static const opts_cmd demo_cmd = {
	"demo",
	demo_opts,
	D_COUNT,
	demo_groups,
	1,
	"Usage: strain demo [--duration D] [--quick] [--plan FILE]\n\n"
	"Starts the built-in target and runs the example suite with every strategy (D per\n"
	"module and phase, default 15s), prints the comparison and verdict, re-runs the\n"
	"parallel strategy with the fixes (bigger Profile pool, cache) and shows Profile\n"
	"before and after, then measures each fix (pool, cache, autoscaling) as Profile's\n"
	"capacity under the others' load. About 5 minutes in all. Summaries and the HTML\n"
	"reports (report.html, report-fixed.html) are written to ./results/.\n",
	NULL,
	NULL,
	duration_positional,
};

int cli_demo_main(int argc, char **argv)
{
	char addr[256], url[300], suite[PATH_MAX], target_env[320], dur_env[64];
	const char *fixed[] = {"--db-pool", "profile=24", "--cache", "profile", NULL};
	const char *duration, *plan;
	double warm_ms, b95 = NAN, b99 = NAN, a95 = NAN, a99 = NAN;
	demo_flags f;
	pid_t target;
	cli_outcome o;
	int rc;
	json_t *before, *after;

	memset(&f, 0, sizeof(f));
	o = opts_parse(&demo_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		return cli_exit_code(o);
	if (!f.duration[0])
		snprintf(f.duration, sizeof(f.duration), "%s", f.quick ? "3s" : "15s");
	if (!f.duration_ns)
		parse_duration_ns(f.duration, &f.duration_ns);
	duration = f.duration;
	plan = f.plan;
	if (plan)
		snprintf(suite, sizeof(suite), "%s", plan);
	else if (find_suite(suite, sizeof(suite)) < 0) {
		fprintf(stderr, "strain demo: cannot find examples/suite.yaml (run from the source tree, or give --plan)\n");
		return cli_exit_code(CLI_CANNOT_START);
	}
	if (mkdir("results", 0755) < 0 && errno != EEXIST) {
		perror("strain demo: results/");
		return cli_exit_code(CLI_CANNOT_START);
	}
	target = start_target(addr, sizeof(addr), NULL);
	if (target < 0) {
		fprintf(stderr, "strain demo: could not start the built-in target\n");
		return cli_exit_code(CLI_CANNOT_START);
	}
	snprintf(url, sizeof(url), "http://%s", addr);
	snprintf(target_env, sizeof(target_env), "TARGET=%s", url);
	snprintf(dur_env, sizeof(dur_env), "DURATION=%s", duration);
	printf("strain demo: built-in target on %s; running %s with every strategy (%s per phase)\n\n", addr, suite,
	       duration);
	{
		const char *args1[] = {"strain", "run", suite, "--strategy", "all", "-e", target_env, "-e", dur_env,
				       "--summary-export", "results/demo-all.json", "--report", "results/report.html", NULL};

		rc = run(args1);
	}
	stop(target);
	if (rc != 0 && rc != CLI_EXIT_THRESHOLDS) {
		fprintf(stderr, "strain demo: the run failed (exit %d)\n", rc);
		return rc < 0 ? cli_exit_code(CLI_FAILED) : rc;
	}
	printf("\nstrain demo: the fixes — restarting the target with --db-pool profile=24 --cache profile, "
	       "re-running parallel ...\n");
	target = start_target(addr, sizeof(addr), fixed);
	if (target < 0) {
		fprintf(stderr, "strain demo: could not restart the built-in target\n");
		return cli_exit_code(CLI_CANNOT_START);
	}
	snprintf(url, sizeof(url), "http://%s", addr);
	snprintf(target_env, sizeof(target_env), "TARGET=%s", url);
	{
		const char *args2[] = {"strain", "run", suite, "--strategy", "parallel", "--quiet", "-e", target_env,
				       "-e", dur_env, "--summary-export", "results/demo-fixed.json", NULL};

		rc = run(args2);
	}
	stop(target);
	if (rc != 0 && rc != CLI_EXIT_THRESHOLDS) {
		fprintf(stderr, "strain demo: the re-run failed (exit %d)\n", rc);
		return rc < 0 ? cli_exit_code(CLI_FAILED) : rc;
	}
	before = profile_parallel("results/demo-all.json");
	after = profile_parallel("results/demo-fixed.json");
	if (!before || !after) {
		fprintf(stderr, "strain demo: the summaries lack the parallel figures for profile\n");
		json_decref(before);
		json_decref(after);
		return cli_exit_code(CLI_FAILED);
	}
	/* A third of a short phase, at most 5 s: 200 logins on a pool of 24
	 * shared with the other modules take about 4 s. */
	warm_ms = (double)f.duration_ns / 3e6;
	if (warm_ms > 5000)
		warm_ms = 5000;
	steady_profile("results/demo-all.json", warm_ms, &b95, &b99);
	steady_profile("results/demo-fixed.json", warm_ms, &a95, &a99);
	printf("\n  profile in parallel             before  after fixes\n");
	printf("  requests/s                  %10.1f %12.1f\n", num(before, "rps"), num(after, "rps"));
	printf("  p50 (ms)                    %10.1f %12.1f\n", num(before, "p50"), num(after, "p50"));
	printf("  p95 (ms)                    %10.1f %12.1f\n", num(before, "p95"), num(after, "p95"));
	printf("  p99 (ms)                    %10.1f %12.1f\n", num(before, "p99"), num(after, "p99"));
	printf("  max (ms)                    %10.1f %12.1f\n", num(before, "max"), num(after, "max"));
	printf("  errors                      %9.2f%% %11.2f%%\n", 100 * num(before, "error_rate"),
	       100 * num(after, "error_rate"));
	printf("  after the first %.3gs:\n", warm_ms / 1000);
	printf("  p95 (ms)                    %10.1f %12.1f\n", b95, a95);
	printf("  p99 (ms)                    %10.1f %12.1f\n", b99, a99);
	printf("\n  The phase's first seconds are every VU's login (its setup): logins are not\n"
	       "  cached and queue on the database, so they weigh on the whole phase's p95 after\n"
	       "  the fixes too; the lines after the first %.3gs show the steady state.\n", warm_ms / 1000);
	printf("\n  summaries: results/demo-all.json, results/demo-fixed.json\n");
	json_decref(before);
	json_decref(after);
	if (report_fixed() < 0)
		return cli_exit_code(CLI_FAILED);
	rc = capacity_story(suite, f.quick);
	if (rc)
		return rc;
	printf("\n  report:    results/report.html (every strategy; open it in a browser)\n");
	printf("             results/report-fixed.html (the fixes, before and after)\n");
	return 0;
}
