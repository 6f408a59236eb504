/* strain demo: the whole story on the built-in target. It starts `strain
 * target` on a free loopback port, runs the example four-module suite with
 * --strategy all (sequential, hybrid, parallel) and prints the comparison
 * and verdict; then, as the team in the story did, restarts the target with
 * the fixes (a bigger Profile pool and a cache), re-runs the parallel
 * strategy and shows Profile before and after. Summaries and the HTML
 * reports go to ./results/: report.html (every strategy, written by the run
 * with --report) and report-fixed.html (the fixed run against it). */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
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
#include "report/html.h"

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

/* Runs `strain run ...`; returns its exit status or -1. */
static int run(const char *const *argv)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execv("/proc/self/exe", (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

typedef struct demo_flags {
	const char *plan;
	uint64_t duration_ns;
	char duration[32]; /* as given, passed on to the runs */
	opts_seen seen;
} demo_flags;

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

enum { D_DURATION, D_PLAN, D_HELP, D_COUNT };

static const opts_group demo_groups[] = {{"Flags", NULL}};

static const opt demo_opts[D_COUNT] = {
	[D_DURATION] = {"--duration", "-d", "D", OPT_CUSTOM, 0, 0, 0, 0, 0, duration_arg,
			"a duration above 0 (examples: 15s, 1m)", 0,
			"per module and phase (default 15s; also as a bare argument: strain demo 5s)"},
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
	"Usage: strain demo [--duration D] [--plan FILE]\n\n"
	"Starts the built-in target, runs the example suite with every strategy (D per module\n"
	"and phase, default 15s: about 2-3 minutes in all), prints the comparison and verdict,\n"
	"then re-runs the parallel strategy with the fixes (bigger Profile pool, cache) and\n"
	"shows Profile before and after. Summaries and the HTML reports (report.html,\n"
	"report-fixed.html) are written to ./results/.\n",
	NULL,
	NULL,
	duration_positional,
};

int cli_demo_main(int argc, char **argv)
{
	char addr[256], url[300], suite[PATH_MAX], target_env[320], dur_env[64];
	const char *fixes[] = {"--db-pool", "profile=24", "--cache", "profile", NULL};
	const char *duration, *plan;
	demo_flags f;
	pid_t target;
	cli_outcome o;
	int rc;
	json_t *before, *after;

	memset(&f, 0, sizeof(f));
	snprintf(f.duration, sizeof(f.duration), "15s");
	o = opts_parse(&demo_cmd, argc, argv, &f, &f.seen);
	if (o != CLI_DONE)
		return cli_exit_code(o);
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
	target = start_target(addr, sizeof(addr), fixes);
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
	printf("\n  profile in parallel     %12s %12s\n", "before", "after fixes");
	printf("  requests/s              %12.1f %12.1f\n", num(before, "rps"), num(after, "rps"));
	printf("  p50 (ms)                %12.1f %12.1f\n", num(before, "p50"), num(after, "p50"));
	printf("  p95 (ms)                %12.1f %12.1f\n", num(before, "p95"), num(after, "p95"));
	printf("  p99 (ms)                %12.1f %12.1f\n", num(before, "p99"), num(after, "p99"));
	printf("  max (ms)                %12.1f %12.1f\n", num(before, "max"), num(after, "max"));
	printf("  errors                  %11.2f%% %11.2f%%\n", 100 * num(before, "error_rate"),
	       100 * num(after, "error_rate"));
	printf("\n  summaries: results/demo-all.json, results/demo-fixed.json\n");
	json_decref(before);
	json_decref(after);
	if (report_fixed() < 0)
		return cli_exit_code(CLI_FAILED);
	printf("  report:    results/report.html (every strategy; open it in a browser)\n");
	printf("             results/report-fixed.html (the fixes, before and after)\n");
	return 0;
}
