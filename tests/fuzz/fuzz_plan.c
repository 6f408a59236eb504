/* libFuzzer driver for the plan loader: each input is written to plan.yaml
 * in a private directory (the loader reads files by path; data files it
 * names resolve there, where users.csv exists) and loaded with every
 * strategy checked, then freed. Besides crashes and sanitizer reports
 * (LeakSanitizer included), it aborts when an invariant breaks: a failed
 * load reports at least one error, each starting PATH:LINE:COL: with
 * plan.yaml's path as given (the project's rule for plan errors; hiding a
 * secret never takes it away); a successful one reports none and has
 * at least one module and one phase.
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/run.h"
#include "plan/plan.h"
#include "fuzz_files.h"

static char plan_path[300];
static const char *const files[] = {"users.csv", "plan.yaml", NULL};

/* "FILE:LINE:COL: message" with LINE and COL positive. */
static int has_position(const char *msg)
{
	const char *p = msg;
	int fields = 0;

	/* Find ":N:N: " after the file name (which may itself hold ':'). */
	for (p = strchr(msg, ':'); p; p = strchr(p + 1, ':')) {
		char *end;
		long line = strtol(p + 1, &end, 10), col;

		if (end == p + 1 || *end != ':' || line < 1)
			continue;
		col = strtol(end + 1, &end, 10);
		if (col >= 1 && end[0] == ':' && end[1] == ' ')
			fields = 1;
		if (fields)
			return p > msg;
	}
	return 0;
}

static void setup(void)
{
	static const char csv[] = "username,password,name\nalice,a1,Alice\nbob,b2,\"B, b\"\n";
	char path[300];

	make_dir("plan", files);
	snprintf(path, sizeof(path), "%s/users.csv", dir);
	write_file(path, csv, sizeof(csv) - 1);
	snprintf(plan_path, sizeof(plan_path), "%s/plan.yaml", load_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const env[] = {"BASE_URL=http://127.0.0.1:9", "USER=alice"};
	plan_opts po = {NULL, 1, NULL, 0, env, 2};
	plan_errors errs;
	run_config cfg;
	uint32_t i;

	if (!plan_path[0])
		setup();
	write_file(plan_path, data, size);
	memset(&errs, 0, sizeof(errs));
	run_config_init(&cfg);
	if (plan_load(plan_path, &po, &cfg, &errs) < 0) {
		CHECK(errs.n > 0);
		for (i = 0; i < errs.n; i++) {
			const char *m = errs.msgs[i];
			size_t n = strlen(plan_path);

			/* Every error of this plan is about plan.yaml (the driver
			 * names no module or strategy), its path intact. */
			if (m && !strncmp(m, plan_path, n) && has_position(m + n - 1))
				continue;
			/* Say which message broke the rule, so a crash
			 * input explains itself. */
			fprintf(stderr, "fuzz_plan: an error without FILE:LINE:COL: %s\n",
				errs.msgs[i] ? errs.msgs[i] : "(null)");
			CHECK(0);
		}
	} else {
		CHECK(errs.n == 0);
		CHECK(cfg.nscenarios > 0 && cfg.nphases > 0);
	}
	plan_errors_free(&errs);
	run_config_free(&cfg);
	return 0;
}
