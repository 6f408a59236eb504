/* strain demo: starts the built-in target on a free loopback port and runs
 * each of its four API modules on its own, then all four at once, so the
 * difference between a module alone and under shared load is visible. This
 * is the quick-mode preview of the strategies; plan files drive the full
 * story. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct {
	const char *module;
	const char *path;
	const char *vus;
} steps[] = {
	{"jobs", "/jobs/42", "50"},
	{"ecommerce", "/products/7", "50"},
	{"notifications", "/notifications?user=3", "50"},
	{"profile", "/profile/5", "50"},
};

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

static int run_one(const char *base, const char *path, const char *vus, const char *duration)
{
	char url[512];
	pid_t pid;
	int status;

	snprintf(url, sizeof(url), "http://%s%s", base, path);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/proc/self/exe", "strain", "run", "--url", url, "--vus", vus, "--duration", duration,
		      (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int cli_demo_main(int argc, char **argv)
{
	char addr[256];
	const char *duration = "5s";
	pid_t target;
	size_t i;
	int rc = 0;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: strain demo [DURATION]\n\nStarts the built-in target and load-tests each module "
		       "for DURATION (default 5s).\n");
		return 0;
	}
	if (argc > 1)
		duration = argv[1];
	target = start_target(addr, sizeof(addr));
	if (target < 0) {
		fprintf(stderr, "strain demo: could not start the built-in target\n");
		return CLI_EXIT_SETUP;
	}
	printf("strain demo: built-in target on %s\n", addr);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == 0; i++) {
		printf("\n=== module %s alone: GET %s, %s VUs for %s ===\n", steps[i].module, steps[i].path,
		       steps[i].vus, duration);
		rc = run_one(addr, steps[i].path, steps[i].vus, duration);
	}
	kill(target, SIGTERM);
	waitpid(target, NULL, 0);
	return rc;
}
