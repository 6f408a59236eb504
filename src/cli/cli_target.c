/* strain target: flags, then target_run. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
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
static int module_arg(const args *a, int need_value, int *module, const char **value)
{
	const char *arg = a->value, *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	*module = db_module_find(arg, n);
	*value = eq ? eq + 1 : NULL;
	if (*module < 0) {
		args_error(a, "unknown module '%.*s' (jobs, ecommerce, notifications, profile)", (int)n, arg);
		return -1;
	}
	if (need_value && !eq) {
		args_error(a, "expected MODULE=VALUE, got '%s'", arg);
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

static int is_switch(const args *a)
{
	return args_is(a, "--quiet", "-q") || args_is(a, "--tls", NULL) || args_is(a, "--help", "-h");
}

static int takes_value(const args *a)
{
	static const char *const names[] = {"--listen", "--threads", "--db-slots", "--db-pool",
					    "--db-time", "--db-jitter", "--cache", "--cert",
					    "--key", "--client-ca", "--idle-timeout", NULL};
	int i;

	for (i = 0; names[i]; i++)
		if (args_is(a, names[i], NULL))
			return 1;
	return 0;
}

/* Reads one value flag whose value is already taken; 0 or -1 (printed). */
static int value_flag(args *a, target_config *cfg, const char **listen)
{
	const char *num;
	uint64_t v;
	int m;

	if (args_is(a, "--listen", NULL)) {
		*listen = a->value;
	} else if (args_is(a, "--cert", NULL)) {
		cfg->cert = a->value;
	} else if (args_is(a, "--key", NULL)) {
		cfg->key = a->value;
	} else if (args_is(a, "--client-ca", NULL)) {
		cfg->client_ca = a->value;
	} else if (args_is(a, "--threads", NULL)) {
		if (args_u64(a, 1, 1024, &v) < 0)
			return -1;
		cfg->threads = (int)v;
	} else if (args_is(a, "--db-slots", NULL)) {
		if (args_u64(a, 1, 1000000, &v) < 0)
			return -1;
		cfg->db.slots = (uint32_t)v;
	} else if (args_is(a, "--db-jitter", NULL)) {
		if (args_u64(a, 0, 50, &v) < 0)
			return -1;
		cfg->db.jitter_pct = (uint32_t)v;
	} else if (args_is(a, "--idle-timeout", NULL)) {
		if (args_duration(a, &cfg->idle_timeout_ns) < 0)
			return -1;
	} else if (args_is(a, "--db-pool", NULL)) {
		if (module_arg(a, 1, &m, &num) < 0)
			return -1;
		if (parse_u64(num, 1, 100000, &v) < 0) {
			args_error(a, "'%s' is not a whole number from 1 to 100000", num);
			return -1;
		}
		cfg->db.pool[m] = (uint32_t)v;
	} else if (args_is(a, "--db-time", NULL)) {
		if (module_arg(a, 1, &m, &num) < 0)
			return -1;
		if (ms_arg(num, &cfg->db.service_ns[m]) < 0) {
			args_error(a, "'%s' is not a time from 0 to 600000 ms", num);
			return -1;
		}
	} else { /* --cache */
		if (module_arg(a, 0, &m, &num) < 0)
			return -1;
		v = 10000;
		if (num && parse_u64(num, 1, 10000000, &v) < 0) {
			args_error(a, "'%s' is not a whole number from 1 to 10000000", num);
			return -1;
		}
		cfg->db.cache[m] = (uint32_t)v;
	}
	return 0;
}

int cli_target_main(int argc, char **argv)
{
	target_config cfg;
	args a;
	char err[256];
	const char *listen = "127.0.0.1:8080";
	int kind;

	target_config_defaults(&cfg);
	args_init(&a, "target", argc, argv);
	while ((kind = args_next(&a))) {
		if (kind == 2) {
			fprintf(stderr, "strain target: unexpected argument '%s' (see strain target --help)\n",
				a.value);
			return CLI_EXIT_USAGE;
		}
		if (is_switch(&a)) {
			if (a.value) {
				args_error(&a, "takes no value");
				return CLI_EXIT_USAGE;
			}
			if (args_is(&a, "--help", "-h")) {
				usage(stdout);
				return CLI_EXIT_OK;
			}
			if (args_is(&a, "--tls", NULL))
				cfg.tls = 1;
			else
				cfg.quiet = 1;
			continue;
		}
		if (!takes_value(&a)) {
			fprintf(stderr, "strain target: unknown flag %s (see strain target --help)\n", a.flag);
			return CLI_EXIT_USAGE;
		}
		/* A missing value is a usage error, a wrong one a bad configuration. */
		if (!args_value(&a))
			return CLI_EXIT_USAGE;
		if (value_flag(&a, &cfg, &listen) < 0)
			return CLI_EXIT_BAD_CONFIG;
	}
	if ((cfg.cert || cfg.key) && !(cfg.cert && cfg.key && cfg.tls)) {
		fprintf(stderr, "strain target: --cert and --key go together, with --tls\n");
		return CLI_EXIT_USAGE;
	}
	if (cfg.client_ca && !cfg.tls) {
		fprintf(stderr, "strain target: --client-ca goes with --tls\n");
		return CLI_EXIT_USAGE;
	}
	/* Named now, not as an OpenSSL error when the server starts. */
	if ((cfg.cert && args_check_file("target", "--cert", cfg.cert) < 0) ||
	    (cfg.key && args_check_file("target", "--key", cfg.key) < 0) ||
	    (cfg.client_ca && args_check_file("target", "--client-ca", cfg.client_ca) < 0))
		return CLI_EXIT_BAD_CONFIG;
	if (net_parse_listen(listen, &cfg.listen, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain target: --listen: %s\n", err);
		return CLI_EXIT_BAD_CONFIG;
	}
	return target_run(&cfg, stdout) < 0 ? CLI_EXIT_SETUP : CLI_EXIT_OK;
}
