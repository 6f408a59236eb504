/* strain demo: starts the built-in target on a free loopback port, runs each
 * of its four API modules alone (sequential), then all four at once
 * (parallel), and compares them: which module degrades most under shared
 * load, and whether its time goes to waiting on the server or to
 * connecting. Quick-mode runs in child processes stand in for the plan-driven
 * strategies until plan files exist. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/parse.h"

#define NMOD 4

static const struct {
	const char *module;
	const char *path;
	const char *vus;
} mods[NMOD] = {
	{"jobs", "/jobs/42", "30"},
	{"ecommerce", "/products/7", "30"},
	{"notifications", "/notifications?user=3", "30"},
	{"profile", "/profile/5", "20"},
};

typedef struct figures {
	double p95, rate, waiting, duration, failed;
	int ok;
} figures;

static pid_t start_target(char *addr, size_t addrsz)
{
	int fds[2];
	pid_t pid;
	FILE *f;
	char line[256];

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl("/proc/self/exe", "strain", "target", "--listen", "127.0.0.1:0", "--quiet", (char *)NULL);
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

/* Starts `strain run` for module i in a child; its summary goes to out. */
static pid_t spawn_run(const char *base, int i, const char *duration, const char *out)
{
	char url[512];
	pid_t pid;

	snprintf(url, sizeof(url), "http://%s%s", base, mods[i].path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "strain", "run", "--quiet", "--url", url, "--vus", mods[i].vus, "--duration",
		      duration, "--summary-export", out, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static double metric(json_t *m, const char *name, const char *key)
{
	return json_number_value(json_object_get(json_object_get(m, name), key));
}

static figures read_figures(const char *path)
{
	figures f = {0};
	json_error_t e;
	json_t *root = json_load_file(path, 0, &e), *m;

	if (!root)
		return f;
	m = json_object_get(root, "metrics");
	f.p95 = metric(m, "http_req_duration", "p(95)");
	f.duration = metric(m, "http_req_duration", "avg");
	f.waiting = metric(m, "http_req_waiting", "avg");
	f.rate = metric(m, "http_reqs", "rate");
	f.failed = metric(m, "http_req_failed", "rate");
	f.ok = 1;
	json_decref(root);
	return f;
}

static int wait_ok(pid_t pid)
{
	int status;

	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int cli_demo_main(int argc, char **argv)
{
	char addr[256], dir[] = "/tmp/strain-demo-XXXXXX", path[2][NMOD][512];
	const char *duration = "5s";
	figures alone[NMOD], together[NMOD];
	pid_t target, pids[NMOD];
	uint64_t ns;
	int i, worst = -1, rc = 0;
	double worst_ratio = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: strain demo [DURATION]\n\nStarts the built-in target, load-tests each of its modules alone "
		       "and then all at once\nfor DURATION each (default 5s), and compares them.\n");
		return 0;
	}
	if (argc > 1)
		duration = argv[1];
	if (parse_duration_ns(duration, &ns) < 0 || !ns) {
		fprintf(stderr, "strain demo: '%s' is not a duration (examples: 5s, 1m)\n", duration);
		return CLI_EXIT_BAD_CONFIG;
	}
	if (!mkdtemp(dir)) {
		perror("strain demo: mkdtemp");
		return CLI_EXIT_SETUP;
	}
	target = start_target(addr, sizeof(addr));
	if (target < 0) {
		fprintf(stderr, "strain demo: could not start the built-in target\n");
		rmdir(dir);
		return CLI_EXIT_SETUP;
	}
	printf("strain demo: built-in target on %s\n\n", addr);
	for (i = 0; i < NMOD; i++) {
		snprintf(path[0][i], sizeof(path[0][i]), "%s/%s-alone.json", dir, mods[i].module);
		snprintf(path[1][i], sizeof(path[1][i]), "%s/%s-parallel.json", dir, mods[i].module);
	}
	printf("sequential: each module alone for %s\n", duration);
	for (i = 0; i < NMOD && !rc; i++) {
		printf("  %-14s GET %-24s %3s VUs ...", mods[i].module, mods[i].path, mods[i].vus);
		fflush(stdout);
		if (!wait_ok(spawn_run(addr, i, duration, path[0][i])))
			rc = CLI_EXIT_ERROR;
		alone[i] = read_figures(path[0][i]);
		printf(" p95 %.1f ms\n", alone[i].p95);
	}
	if (!rc) {
		printf("parallel: all four modules at once for %s ...\n", duration);
		for (i = 0; i < NMOD; i++)
			pids[i] = spawn_run(addr, i, duration, path[1][i]);
		for (i = 0; i < NMOD; i++)
			if (!wait_ok(pids[i]))
				rc = CLI_EXIT_ERROR;
		for (i = 0; i < NMOD; i++)
			together[i] = read_figures(path[1][i]);
	}
	kill(target, SIGTERM);
	waitpid(target, NULL, 0);
	if (!rc) {
		printf("\n  %-14s %12s %12s %8s %12s %12s\n", "module", "p95 alone", "p95 parallel", "ratio", "req/s alone",
		       "req/s par.");
		for (i = 0; i < NMOD; i++) {
			double ratio = alone[i].p95 > 0 ? together[i].p95 / alone[i].p95 : 0;

			printf("  %-14s %9.1f ms %9.1f ms %7.1fx %12.0f %12.0f\n", mods[i].module, alone[i].p95,
			       together[i].p95, ratio, alone[i].rate, together[i].rate);
			if (ratio > worst_ratio) {
				worst_ratio = ratio;
				worst = i;
			}
		}
		if (worst >= 0) {
			const figures *w = &together[worst];
			double share = w->duration > 0 ? 100.0 * w->waiting / w->duration : 0;

			printf("\n  verdict: %s degrades most under shared load: p95 %.0f ms alone -> %.0f ms in parallel "
			       "(%.1fx).\n  %.0f%% of its request time is waiting for the first byte, not connecting: "
			       "requests queue inside\n  the server (here: behind the module's small database pool, on a database the others now share).\n",
			       mods[worst].module, alone[worst].p95, w->p95, worst_ratio, share);
		}
	}
	for (i = 0; i < NMOD; i++) {
		unlink(path[0][i]);
		unlink(path[1][i]);
	}
	rmdir(dir);
	return rc;
}
