/* Life cycle of `strain target`: sockets, threads, signals, shutdown. */
#include "target/target.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "io/tls_server.h"
#include "target/dbsvc.h"
#include "target/faults.h"
#include "target/routes.h"
#include "target/server.h"
#include "target/tgt_worker.h"

#include <openssl/ssl.h>

struct target {
	tgt_server srv;
	pthread_t *threads;
	int *ctl;      /* per worker stop eventfd */
	int running;   /* threads started */
};

void target_config_defaults(target_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->threads = 0;
	cfg->backlog = 4096;
	cfg->db.slots = 16;
	cfg->db.pool[DB_JOBS] = 40;
	cfg->db.pool[DB_ECOMMERCE] = 40;
	cfg->db.pool[DB_NOTIFICATIONS] = 30;
	cfg->db.pool[DB_PROFILE] = 12;
	cfg->db.service_ns[DB_JOBS] = 5 * NS_PER_MS;
	cfg->db.service_ns[DB_ECOMMERCE] = 4 * NS_PER_MS;
	cfg->db.service_ns[DB_NOTIFICATIONS] = 3 * NS_PER_MS;
	cfg->db.service_ns[DB_PROFILE] = 50 * NS_PER_MS;
	cfg->db.jitter_pct = 10;
	cfg->idle_timeout_ns = 60 * NS_PER_SEC;
}

/* Printable bytes, so the filler also serves as header values. */
static void filler_init(void)
{
	static const char pat[] = "strain-target-filler-0123456789-abcdefghijklmnopqrstuvwxyz.";
	size_t i;

	for (i = 0; i < TGT_FILLER; i++)
		tgt_filler[i] = pat[i % (sizeof(pat) - 1)];
}

static void *worker_thread(void *arg)
{
	tgt_worker_run(arg);
	return NULL;
}

void target_stop(target *t)
{
	int i, n;
	uint64_t one = 1;

	if (!t)
		return;
	n = t->srv.nworkers;
	if (t->running) {
		for (i = 0; i < n; i++) {
			ssize_t w = write(t->ctl[i], &one, sizeof(one));

			(void)w;
		}
		for (i = 0; i < n; i++)
			pthread_join(t->threads[i], NULL);
		dbsvc_stop(t->srv.db);
	}
	for (i = 0; i < n; i++) {
		tgt_worker_fini(&t->srv.workers[i]);
		if (t->ctl[i] >= 0)
			close(t->ctl[i]);
	}
	dbsvc_destroy(t->srv.db);
	stats_hub_destroy(t->srv.stats);
	SSL_CTX_free(t->srv.tls);
	tls_server_remove(t->srv.cert_path);
	free(t->srv.workers);
	free(t->threads);
	free(t->ctl);
	free(t);
}

int target_start(const target_config *cfg, target **out, char *addr, size_t addrsz, char *err,
		 size_t errsz)
{
	target *t = xcalloc(1, sizeof(*t));
	net_addr a = cfg->listen;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cfg->threads > 0 ? cfg->threads : (cores > 0 ? (int)cores : 1);
	int i, started = 0;

	*out = NULL;
	filler_init();
	/* Thousands of connections need thousands of descriptors. */
	net_raise_nofile();
	t->srv.cfg = *cfg;
	t->srv.nworkers = n;
	t->srv.workers = xcalloc((size_t)n, sizeof(*t->srv.workers));
	t->threads = xcalloc((size_t)n, sizeof(*t->threads));
	t->ctl = xcalloc((size_t)n, sizeof(*t->ctl));
	for (i = 0; i < n; i++) {
		t->ctl[i] = -1;
		t->srv.workers[i].lio.fd = -1;
	}
	if (cfg->tls) {
		t->srv.tls = tls_server_create(cfg->cert, cfg->key, cfg->client_ca, t->srv.cert_path, sizeof(t->srv.cert_path), err, errsz);
		if (!t->srv.tls)
			goto fail;
	}
	t->srv.stats = stats_hub_create(n, R_COUNT, route_names);
	t->srv.db = dbsvc_create(&cfg->db, cfg->autoscale, n, fault_stall_hook);
	if (!t->srv.db) {
		snprintf(err, errsz, "cannot start the database thread: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		/* One SO_REUSEPORT socket per worker: the kernel spreads new
		 * connections, no accept lock. After a bind to port 0 the rest
		 * bind to the port it chose. */
		int fd = net_listen(&a, cfg->backlog > 0 ? cfg->backlog : 4096, 1);

		if (fd < 0) {
			char s[64];

			snprintf(err, errsz, "cannot listen on %s: %s", net_addr_str(&a, s, sizeof(s)),
				 strerror(errno));
			goto fail;
		}
		t->ctl[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (t->ctl[i] < 0 || tgt_worker_init(&t->srv.workers[i], &t->srv, i, fd, t->ctl[i]) < 0) {
			if (t->srv.workers[i].lio.fd < 0)
				close(fd);
			snprintf(err, errsz, "cannot set up worker %d: %s", i, strerror(errno));
			goto fail;
		}
	}
	t->srv.cfg.listen = a;
	if (dbsvc_start(t->srv.db) < 0) {
		snprintf(err, errsz, "cannot start the database thread");
		goto fail;
	}
	t->running = 1;
	for (i = 0; i < n; i++) {
		if (pthread_create(&t->threads[i], NULL, worker_thread, &t->srv.workers[i]) != 0) {
			snprintf(err, errsz, "cannot start worker thread %d", i);
			break;
		}
		started++;
	}
	if (started < n) {
		/* Stop what did start, then free as usual. */
		uint64_t one = 1;
		int j;

		for (j = 0; j < n; j++) {
			ssize_t w = write(t->ctl[j], &one, sizeof(one));

			(void)w;
		}
		for (j = 0; j < started; j++)
			pthread_join(t->threads[j], NULL);
		dbsvc_stop(t->srv.db);
		t->running = 0;
		goto fail;
	}
	net_addr_str(&a, addr, addrsz);
	*out = t;
	return 0;
fail:
	target_stop(t);
	return -1;
}

int target_run(const target_config *cfg, FILE *announce)
{
	sigset_t set, old;
	target *t;
	char addr[80], err[256];
	int sig = 0, i;

	/* Blocked before the threads exist, so they inherit the mask and the
	 * signal can only reach sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	if (target_start(cfg, &t, addr, sizeof(addr), err, sizeof(err)) < 0) {
		fprintf(stderr, "strain target: %s\n", err);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	fprintf(announce, "listening on %s\n", addr);
	if (t->srv.cert_path[0])
		fprintf(announce, "certificate: %s\n", t->srv.cert_path);
	if (!cfg->quiet) {
		fprintf(announce, "threads %d, db slots %u, pools", t->srv.nworkers, cfg->db.slots);
		for (i = 0; i < DB_MODULES; i++) {
			if (cfg->autoscale[i].max)
				fprintf(announce, " %s=%u..%u", db_module_names[i], cfg->autoscale[i].min,
					cfg->autoscale[i].max);
			else
				fprintf(announce, " %s=%u", db_module_names[i], cfg->db.pool[i]);
			fprintf(announce, "/%.1fms%s", (double)cfg->db.service_ns[i] / 1e6,
				cfg->db.cache[i] ? "+cache" : "");
		}
		fprintf(announce, "\n");
	}
	fflush(announce);
	sigwait(&set, &sig);
	target_stop(t);
	if (!cfg->quiet) {
		fprintf(announce, "stopped (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
		fflush(announce);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
