/* strain target: flags, then target_run. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/parse.h"
#include "target/target.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: strain target [FLAGS]\n"
		"\n"
		"Serves the built-in demo API (jobs, ecommerce, notifications, profile over a\n"
		"simulated database), fault endpoints (/fault/...) and counters (/__stats).\n"
		"See docs/target.md.\n"
		"\n"
		"Flags:\n"
		"  --listen ADDR:PORT     address to serve (default 127.0.0.1:8080; port 0 = any)\n"
		"  --threads N            worker threads (default: one per core)\n"
		"  --db-slots N           database query slots (default 16)\n"
		"  --db-pool MODULE=N     connection pool size of a module\n"
		"                         (defaults jobs=40 ecommerce=40 notifications=30 profile=12)\n"
		"  --db-time MODULE=MS    base query time of a module, in ms or a duration (\"2.5ms\")\n"
		"                         (defaults jobs=5 ecommerce=4 notifications=3 profile=50;\n"
		"                         POST /cart and /orders cost twice the ecommerce time)\n"
		"  --db-jitter PCT        random variation of query times, +-PCT %% (default 10)\n"
		"  --cache MODULE[=SIZE]  LRU cache of SIZE keys (default 10000) in front of a pool\n"
		"  --tls                  serve HTTPS; without --cert/--key, with a self-signed\n"
		"                         certificate for localhost, 127.0.0.1 and ::1 made at\n"
		"                         start, whose path is printed as \"certificate: PATH\"\n"
		"  --cert FILE, --key FILE  with --tls: the certificate (chain) and key, PEM\n"
		"  --client-ca FILE       with --tls: require a client certificate issued by a CA\n"
		"                         in FILE (PEM): mutual TLS\n"
		"  --idle-timeout D       close a kept-alive connection after D without a\n"
		"                         request, e.g. 250ms, 5s, 1m (default 60s; 0 = never)\n"
		"  --quiet                print only the \"listening on\" line\n"
		"  -h, --help             this help\n"
		"\n"
		"MODULE is jobs, ecommerce, notifications or profile. The first line printed is\n"
		"\"listening on ADDR:PORT\". SIGINT or SIGTERM stops the server (exit 0).\n");
}

/* Splits "MODULE=VALUE"; value may be absent when optional. */
static int module_arg(const char *flag, const char *arg, int need_value, int *module,
		      const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	*module = db_module_find(arg, n);
	*value = eq ? eq + 1 : NULL;
	if (*module < 0) {
		fprintf(stderr, "strain target: %s: unknown module '%.*s' (jobs, ecommerce, notifications, profile)\n",
			flag, (int)n, arg);
		return -1;
	}
	if (need_value && !eq) {
		fprintf(stderr, "strain target: %s: expected MODULE=VALUE, got '%s'\n", flag, arg);
		return -1;
	}
	return 0;
}

static int ms_arg(const char *s, uint64_t *ns)
{
	uint64_t v;

	if (parse_u64(s, 0, 600000, &v) == 0) {
		*ns = v * NS_PER_MS;
		return 0;
	}
	if (parse_duration_ns(s, &v) == 0 && v <= 600 * NS_PER_SEC) {
		*ns = v;
		return 0;
	}
	return -1;
}

int cli_target_main(int argc, char **argv)
{
	target_config cfg;
	char err[256];
	const char *listen = "127.0.0.1:8080";
	int i;

	target_config_defaults(&cfg);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		char flag[32];
		uint64_t v;
		int m;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
			cfg.quiet = 1;
			continue;
		}
		if (strcmp(a, "--tls") == 0) {
			cfg.tls = 1;
			continue;
		}
		/* --flag=value or --flag value */
		eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
		if (eq && (size_t)(eq - a) < sizeof(flag)) {
			snprintf(flag, sizeof(flag), "%.*s", (int)(eq - a), a);
			val = eq + 1;
		} else {
			snprintf(flag, sizeof(flag), "%s", a);
		}
		if (strcmp(flag, "--listen") && strcmp(flag, "--threads") && strcmp(flag, "--db-slots") &&
		    strcmp(flag, "--db-pool") && strcmp(flag, "--db-time") && strcmp(flag, "--cache") &&
		    strcmp(flag, "--db-jitter") && strcmp(flag, "--cert") && strcmp(flag, "--key") &&
		    strcmp(flag, "--client-ca") && strcmp(flag, "--idle-timeout")) {
			fprintf(stderr, "strain target: unknown flag '%s' (see strain target --help)\n", a);
			return CLI_EXIT_USAGE;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "strain target: %s needs a value\n", flag);
				return CLI_EXIT_USAGE;
			}
			val = argv[++i];
		}
		if (strcmp(flag, "--listen") == 0) {
			listen = val;
		} else if (strcmp(flag, "--cert") == 0) {
			cfg.cert = val;
		} else if (strcmp(flag, "--key") == 0) {
			cfg.key = val;
		} else if (strcmp(flag, "--client-ca") == 0) {
			cfg.client_ca = val;
		} else if (strcmp(flag, "--idle-timeout") == 0) {
			if (parse_duration_ns(val, &cfg.idle_timeout_ns) < 0) {
				fprintf(stderr, "strain target: --idle-timeout: '%s' is not a duration (examples: 250ms, 5s, 1m)\n", val);
				return CLI_EXIT_BAD_CONFIG;
			}
		} else if (strcmp(flag, "--threads") == 0) {
			if (parse_u64(val, 1, 1024, &v) < 0) {
				fprintf(stderr, "strain target: --threads: '%s' is not a number from 1 to 1024\n", val);
				return CLI_EXIT_BAD_CONFIG;
			}
			cfg.threads = (int)v;
		} else if (strcmp(flag, "--db-slots") == 0) {
			if (parse_u64(val, 1, 1000000, &v) < 0) {
				fprintf(stderr, "strain target: --db-slots: '%s' is not a number from 1 to 1000000\n", val);
				return CLI_EXIT_BAD_CONFIG;
			}
			cfg.db.slots = (uint32_t)v;
		} else if (strcmp(flag, "--db-jitter") == 0) {
			if (parse_u64(val, 0, 50, &v) < 0) {
				fprintf(stderr, "strain target: --db-jitter: '%s' is not a number from 0 to 50\n", val);
				return CLI_EXIT_BAD_CONFIG;
			}
			cfg.db.jitter_pct = (uint32_t)v;
		} else if (strcmp(flag, "--db-pool") == 0) {
			const char *num;

			if (module_arg(flag, val, 1, &m, &num) < 0)
				return CLI_EXIT_BAD_CONFIG;
			if (parse_u64(num, 1, 100000, &v) < 0) {
				fprintf(stderr, "strain target: --db-pool: '%s' is not a number from 1 to 100000\n", num);
				return CLI_EXIT_BAD_CONFIG;
			}
			cfg.db.pool[m] = (uint32_t)v;
		} else if (strcmp(flag, "--db-time") == 0) {
			const char *num;

			if (module_arg(flag, val, 1, &m, &num) < 0)
				return CLI_EXIT_BAD_CONFIG;
			if (ms_arg(num, &cfg.db.service_ns[m]) < 0) {
				fprintf(stderr, "strain target: --db-time: '%s' is not a time from 0 to 600000 ms\n", num);
				return CLI_EXIT_BAD_CONFIG;
			}
		} else {
			const char *num;

			if (module_arg(flag, val, 0, &m, &num) < 0)
				return CLI_EXIT_BAD_CONFIG;
			v = 10000;
			if (num && parse_u64(num, 1, 10000000, &v) < 0) {
				fprintf(stderr, "strain target: --cache: '%s' is not a number from 1 to 10000000\n", num);
				return CLI_EXIT_BAD_CONFIG;
			}
			cfg.db.cache[m] = (uint32_t)v;
		}
	}
	if ((cfg.cert || cfg.key) && !(cfg.cert && cfg.key && cfg.tls)) {
		fprintf(stderr, "strain target: --cert and --key go together, with --tls\n");
		return CLI_EXIT_USAGE;
	}
	if (cfg.client_ca && !cfg.tls) {
		fprintf(stderr, "strain target: --client-ca goes with --tls\n");
		return CLI_EXIT_USAGE;
	}
	if (net_parse_listen(listen, &cfg.listen, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain target: --listen: %s\n", err);
		return CLI_EXIT_BAD_CONFIG;
	}
	return target_run(&cfg, stdout) < 0 ? CLI_EXIT_SETUP : CLI_EXIT_OK;
}
