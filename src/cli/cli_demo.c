/* strain demo: the whole story on the built-in target. It starts `strain
 * target` on a free loopback port, runs the example four-module suite with
 * --strategy all (sequential, hybrid, parallel) and prints the comparison
 * and verdict; then, as the team in the story did, restarts the target with
 * the fixes (a bigger Profile pool and a cache), re-runs the parallel
 * strategy and shows Profile before and after. Summaries go to ./results/. */
#include <errno.h>
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

#include "cli/args.h"
#include "cli/cli.h"
#include "core/parse.h"

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

static double num(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

int cli_demo_main(int argc, char **argv)
{
	char addr[256], url[300], suite[PATH_MAX], target_env[320], dur_env[64];
	const char *duration = "15s", *plan = NULL;
	const char *fixes[] = {"--db-pool", "profile=24", "--cache", "profile", NULL};
	pid_t target;
	args a;
	int kind, rc;
	uint64_t ns;
	json_t *before, *after;

	args_init(&a, "demo", argc, argv);
	while ((kind = args_next(&a))) {
		if (kind == 2) {
			duration = a.value;
		} else if (args_is(&a, "--help", "-h")) {
			printf("Usage: strain demo [--duration D] [--plan FILE]\n\n"
			       "Starts the built-in target, runs the example suite with every strategy (D per module\n"
			       "and phase, default 15s: about 2-3 minutes in all), prints the comparison and verdict,\n"
			       "then re-runs the parallel strategy with the fixes (bigger Profile pool, cache) and\n"
			       "shows Profile before and after. Summaries are written to ./results/.\n");
			return 0;
		} else if (args_is(&a, "--duration", "-d")) {
			if (!(duration = args_value(&a)))
				return CLI_EXIT_USAGE;
		} else if (args_is(&a, "--plan", NULL)) {
			if (!(plan = args_file(&a)))
				return a.missing ? CLI_EXIT_USAGE : CLI_EXIT_BAD_CONFIG;
		} else {
			fprintf(stderr, "strain demo: unknown flag %s\n", a.flag);
			return CLI_EXIT_USAGE;
		}
	}
	if (parse_duration_ns(duration, &ns) < 0 || !ns) {
		fprintf(stderr, "strain demo: --duration '%s' is not a duration (examples: 15s, 1m)\n", duration);
		return CLI_EXIT_BAD_CONFIG;
	}
	if (plan)
		snprintf(suite, sizeof(suite), "%s", plan);
	else if (find_suite(suite, sizeof(suite)) < 0) {
		fprintf(stderr, "strain demo: cannot find examples/suite.yaml (run from the source tree, or give --plan)\n");
		return CLI_EXIT_SETUP;
	}
	if (mkdir("results", 0755) < 0 && errno != EEXIST) {
		perror("strain demo: results/");
		return CLI_EXIT_SETUP;
	}
	target = start_target(addr, sizeof(addr), NULL);
	if (target < 0) {
		fprintf(stderr, "strain demo: could not start the built-in target\n");
		return CLI_EXIT_SETUP;
	}
	snprintf(url, sizeof(url), "http://%s", addr);
	snprintf(target_env, sizeof(target_env), "TARGET=%s", url);
	snprintf(dur_env, sizeof(dur_env), "DURATION=%s", duration);
	printf("strain demo: built-in target on %s; running %s with every strategy (%s per phase)\n\n", addr, suite,
	       duration);
	{
		const char *args1[] = {"strain", "run", suite, "--strategy", "all", "-e", target_env, "-e", dur_env,
				       "--summary-export", "results/demo-all.json", NULL};

		rc = run(args1);
	}
	stop(target);
	if (rc != 0 && rc != CLI_EXIT_THRESHOLDS) {
		fprintf(stderr, "strain demo: the run failed (exit %d)\n", rc);
		return rc < 0 ? CLI_EXIT_ERROR : rc;
	}
	printf("\nstrain demo: the fixes — restarting the target with --db-pool profile=24 --cache profile, "
	       "re-running parallel ...\n");
	target = start_target(addr, sizeof(addr), fixes);
	if (target < 0) {
		fprintf(stderr, "strain demo: could not restart the built-in target\n");
		return CLI_EXIT_SETUP;
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
		return rc < 0 ? CLI_EXIT_ERROR : rc;
	}
	before = profile_parallel("results/demo-all.json");
	after = profile_parallel("results/demo-fixed.json");
	if (!before || !after) {
		fprintf(stderr, "strain demo: the summaries lack the parallel figures for profile\n");
		json_decref(before);
		json_decref(after);
		return CLI_EXIT_ERROR;
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
	return 0;
}
