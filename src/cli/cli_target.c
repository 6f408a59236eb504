/* strain target: flags, then target_run. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/clock.h"
#include "core/parse.h"
#include "target/target.h"

typedef struct target_flags {
	target_config cfg;
	const char *listen;
	uint64_t threads, slots, jitter, backlog;
	uint8_t pool_set[DB_MODULES]; /* --db-pool given for the module */
	opts_seen seen;
} target_flags;

/* Splits "MODULE=VALUE" (the value may be absent when optional); 0 or -1
 * with the message in err. */
static int module_arg(const char *arg, int need_value, int *module, const char **value, char *err, size_t errsz)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	*module = db_module_find(arg, n);
	*value = eq ? eq + 1 : NULL;
	if (*module < 0) {
		snprintf(err, errsz, "unknown module '%.*s' (jobs, ecommerce, notifications, profile)", (int)n, arg);
		return -1;
	}
	if (need_value && !eq) {
		snprintf(err, errsz, "expected MODULE=VALUE, got '%s'", arg);
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

static int pool_arg(void *base, const char *v, char *err, size_t errsz)
{
	target_flags *f = base;
	const char *num;
	uint64_t n;
	int m;

	if (module_arg(v, 1, &m, &num, err, errsz) < 0)
		return -1;
	if (parse_u64(num, 1, 100000, &n) < 0) {
		snprintf(err, errsz, "'%s' is not a whole number from 1 to 100000", num);
		return -1;
	}
	f->cfg.db.pool[m] = (uint32_t)n;
	f->pool_set[m] = 1;
	return 0;
}

/* MODULE=MIN..MAX */
static int autoscale_arg(void *base, const char *v, char *err, size_t errsz)
{
	target_flags *f = base;
	const char *range, *dots;
	char lo[16];
	uint64_t min, max;
	size_t n;
	int m;

	if (module_arg(v, 1, &m, &range, err, errsz) < 0)
		return -1;
	dots = strstr(range, "..");
	n = dots ? (size_t)(dots - range) : 0;
	if (!dots || n == 0 || n >= sizeof(lo)) {
		snprintf(err, errsz, "expected MODULE=MIN..MAX (e.g. profile=4..32), got '%s'", v);
		return -1;
	}
	memcpy(lo, range, n);
	lo[n] = '\0';
	if (parse_u64(lo, 1, AS_SIZE_MAX, &min) < 0 || parse_u64(dots + 2, 1, AS_SIZE_MAX, &max) < 0) {
		snprintf(err, errsz, "'%s': MIN and MAX are whole numbers from 1 to %d", range, AS_SIZE_MAX);
		return -1;
	}
	if (min > max) {
		snprintf(err, errsz, "'%s': MIN is above MAX", range);
		return -1;
	}
	f->cfg.autoscale[m].min = (uint32_t)min;
	f->cfg.autoscale[m].max = (uint32_t)max;
	return 0;
}

static int time_arg(void *base, const char *v, char *err, size_t errsz)
{
	target_flags *f = base;
	const char *num;
	int m;

	if (module_arg(v, 1, &m, &num, err, errsz) < 0)
		return -1;
	if (ms_arg(num, &f->cfg.db.service_ns[m]) < 0) {
		snprintf(err, errsz, "'%s' is not a time from 0 to 600000 ms", num);
		return -1;
	}
	return 0;
}

static int cache_arg(void *base, const char *v, char *err, size_t errsz)
{
	target_flags *f = base;
	const char *num;
	uint64_t n = 10000;
	int m;

	if (module_arg(v, 0, &m, &num, err, errsz) < 0)
		return -1;
	if (num && parse_u64(num, 1, 10000000, &n) < 0) {
		snprintf(err, errsz, "'%s' is not a whole number from 1 to 10000000", num);
		return -1;
	}
	f->cfg.db.cache[m] = (uint32_t)n;
	return 0;
}

enum {
	T_LISTEN, T_THREADS, T_DB_SLOTS, T_DB_POOL, T_AUTOSCALE, T_DB_TIME, T_DB_JITTER, T_CACHE, T_TLS, T_CERT, T_KEY,
	T_CLIENT_CA, T_IDLE_TIMEOUT, T_BACKLOG, T_QUIET, T_HELP, T_COUNT
};

#define F(field) offsetof(target_flags, field)

static const opts_group target_groups[] = {{"Flags", NULL}};

static const opt target_opts[T_COUNT] = {
	[T_LISTEN] = {"--listen", NULL, "ADDR:PORT", OPT_STRING, 0, 0, 0, F(listen), 0, NULL, NULL, 0,
		      "address to serve (default 127.0.0.1:8080; port 0 = any)"},
	[T_THREADS] = {"--threads", NULL, "N", OPT_U64, 0, 1, 1024, F(threads), 0, NULL, NULL, 0,
		       "worker threads (default: one per core)"},
	[T_DB_SLOTS] = {"--db-slots", NULL, "N", OPT_U64, 0, 1, 1000000, F(slots), 0, NULL, NULL, 0,
			"database query slots (default 16)"},
	[T_DB_POOL] = {"--db-pool", NULL, "MODULE=N", OPT_CUSTOM, OPT_REPEAT, 0, 0, 0, 0, pool_arg, "MODULE=N", 0,
		       "connection pool size of a module (repeatable)\n"
		       "(defaults jobs=40 ecommerce=40 notifications=30 profile=12)"},
	[T_AUTOSCALE] = {"--autoscale", NULL, "MODULE=MIN..MAX", OPT_CUSTOM, OPT_REPEAT, 0, 0, 0, 0, autoscale_arg,
			  "MODULE=MIN..MAX", 0,
			  "a pool that starts at MIN connections and grows (up to MAX, 1-100000) while queries "
			  "queue, shrinks when idle (repeatable; instead of --db-pool; see docs/target.md)"},
	[T_DB_TIME] = {"--db-time", NULL, "MODULE=MS", OPT_CUSTOM, OPT_REPEAT, 0, 0, 0, 0, time_arg, "MODULE=MS", 0,
		       "base query time of a module, in ms or a duration (\"2.5ms\"; repeatable) (defaults jobs=5 ecommerce=4 "
		       "notifications=3 profile=50; POST /cart and /orders cost twice the ecommerce time)"},
	[T_DB_JITTER] = {"--db-jitter", NULL, "PCT", OPT_U64, 0, 0, 50, F(jitter), 0, NULL, NULL, 0,
			 "random variation of query times, +-PCT % (default 10)"},
	[T_CACHE] = {"--cache", NULL, "MODULE[=SIZE]", OPT_CUSTOM, OPT_REPEAT, 0, 0, 0, 0, cache_arg, "MODULE[=SIZE]",
		     0, "LRU cache of SIZE keys (default 10000) in front of a pool (repeatable)"},
	[T_TLS] = {"--tls", NULL, NULL, OPT_SWITCH, 0, 0, 0, F(cfg.tls), 0, NULL, NULL, 0,
		   "serve HTTPS; without --cert/--key, with a self-signed certificate for localhost, 127.0.0.1 and "
		   "::1 made at start, whose path is printed as \"certificate: PATH\""},
	[T_CERT] = {"--cert", NULL, "FILE", OPT_STRING, 0, 0, 0, F(cfg.cert), 0, NULL, NULL, 0,
		    "with --tls: the certificate (chain), PEM"},
	[T_KEY] = {"--key", NULL, "FILE", OPT_STRING, 0, 0, 0, F(cfg.key), 0, NULL, NULL, 0,
		   "with --tls and --cert: its key, PEM"},
	[T_CLIENT_CA] = {"--client-ca", NULL, "FILE", OPT_STRING, 0, 0, 0, F(cfg.client_ca), 0, NULL, NULL, 0,
			 "with --tls: require a client certificate issued by a CA in FILE (PEM): mutual TLS"},
	[T_IDLE_TIMEOUT] = {"--idle-timeout", NULL, "D", OPT_DURATION, 0, 0, 0, F(cfg.idle_timeout_ns), 0, NULL, NULL,
			    0, "close a kept-alive connection after D without a request, e.g. 250ms, 5s, 1m "
			    "(default 60s; 0 = never)"},
	[T_BACKLOG] = {"--backlog", NULL, "N", OPT_U64, 0, 1, 65535, F(backlog), 0, NULL, NULL, 0,
		       "listen backlog of each worker's socket, capped by net.core.somaxconn (default 4096); "
		       "a small one with /fault/stall fills up"},
	[T_QUIET] = {"--quiet", "-q", NULL, OPT_SWITCH, 0, 0, 0, F(cfg.quiet), 0, NULL, NULL, 0,
		     "print only the \"listening on\" line"},
	[T_HELP] = {"--help", "-h", NULL, OPT_HELP, 0, 0, 0, 0, 0, NULL, NULL, 0, "this help"},
};

#undef F

static const opts_cmd target_cmd = {
	"target",
	target_opts,
	T_COUNT,
	target_groups,
	1,
	"Usage: strain target [FLAGS]\n"
	"\n"
	"Serves the built-in demo API (jobs, ecommerce, notifications, profile over a\n"
	"simulated database), fault endpoints (/fault/...) and counters (/__stats).\n"
	"See docs/target.md.\n",
	"MODULE is jobs, ecommerce, notifications or profile. The first line printed is\n"
	"\"listening on ADDR:PORT\". SIGINT or SIGTERM stops the server (exit 0).\n",
	NULL,
	NULL,
};

/* The checks that involve several flags, after parsing. */
static cli_outcome target_check(target_flags *f)
{
	target_config *cfg = &f->cfg;
	char err[256];
	int i;

	if ((cfg->cert || cfg->key) && !(cfg->cert && cfg->key && cfg->tls)) {
		fprintf(stderr, "strain target: --cert and --key go together, with --tls\n");
		return CLI_USAGE;
	}
	for (i = 0; i < DB_MODULES; i++)
		if (cfg->autoscale[i].max && f->pool_set[i]) {
			fprintf(stderr, "strain target: --autoscale %s=... and --db-pool %s=... both size the %s pool; "
					"give one\n", db_module_names[i], db_module_names[i], db_module_names[i]);
			return CLI_USAGE;
		}
	if (cfg->client_ca && !cfg->tls) {
		fprintf(stderr, "strain target: --client-ca goes with --tls\n");
		return CLI_USAGE;
	}
	/* Named now, not as an OpenSSL error when the server starts. */
	if ((cfg->cert && args_check_file("target", "--cert", cfg->cert) < 0) ||
	    (cfg->key && args_check_file("target", "--key", cfg->key) < 0) ||
	    (cfg->client_ca && args_check_file("target", "--client-ca", cfg->client_ca) < 0))
		return CLI_BAD_VALUE;
	if (net_parse_listen(f->listen, &cfg->listen, err, sizeof(err)) < 0) {
		fprintf(stderr, "strain target: %s: %s\n", opts_typed(&target_cmd, &f->seen, T_LISTEN), err);
		return CLI_BAD_VALUE;
	}
	return CLI_DONE;
}

int cli_target_main(int argc, char **argv)
{
	target_flags f;
	cli_outcome o;

	memset(&f, 0, sizeof(f));
	target_config_defaults(&f.cfg);
	f.listen = "127.0.0.1:8080";
	f.threads = (uint64_t)f.cfg.threads;
	f.slots = f.cfg.db.slots;
	f.jitter = f.cfg.db.jitter_pct;
	f.backlog = (uint64_t)f.cfg.backlog;
	o = opts_parse(&target_cmd, argc, argv, &f, &f.seen);
	if (o == CLI_DONE) {
		f.cfg.threads = (int)f.threads;
		f.cfg.db.slots = (uint32_t)f.slots;
		f.cfg.db.jitter_pct = (uint32_t)f.jitter;
		f.cfg.backlog = (int)f.backlog;
		o = target_check(&f);
	}
	if (o != CLI_DONE)
		return cli_exit_code(o);
	return cli_exit_code(target_run(&f.cfg, stdout) < 0 ? CLI_CANNOT_START : CLI_DONE);
}
