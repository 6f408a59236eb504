/* `strain target`: the built-in demo API (four modules over a simulated
 * database), fault endpoints and request counters. docs/target.md is the
 * user's reference. */
#ifndef STRAIN_TARGET_TARGET_H
#define STRAIN_TARGET_TARGET_H

#include <stdint.h>
#include <stdio.h>

#include "io/net.h"
#include "target/autoscale.h"
#include "target/db.h"

typedef struct target_config {
	net_addr listen;
	int threads;   /* worker threads; 0 = one per online core */
	db_config db;
	as_range autoscale[DB_MODULES]; /* --autoscale; max 0 = a fixed pool of db.pool[m] */
	int quiet;     /* no shutdown summary */
	int tls;       /* --tls: HTTPS */
	const char *cert, *key; /* --cert/--key PEM files; NULL: a generated self-signed certificate */
	const char *client_ca;  /* --client-ca: require client certificates issued by these CAs */
	int backlog;   /* --backlog: listen() backlog per worker socket (the kernel caps it at somaxconn) */
	uint64_t idle_timeout_ns; /* --idle-timeout: close connections idle this long; 0 = never */
} target_config;

/* The documented defaults (listen 127.0.0.1:8080 is set by the caller). */
void target_config_defaults(target_config *cfg);

typedef struct target target;

/* Binds every worker's socket and starts the worker and database threads.
 * The bound address ("127.0.0.1:41234") goes to addr. Returns 0 and the
 * running target in *out, or -1 with a message in err. Stop it with
 * target_stop. Signals blocked in the caller stay blocked in its threads. */
int target_start(const target_config *cfg, target **out, char *addr, size_t addrsz, char *err,
		 size_t errsz);
/* Stops accepting, closes every connection, joins the threads and frees
 * everything. Accepts NULL. */
void target_stop(target *t);

/* Serves until SIGINT or SIGTERM arrives. Prints "listening on ADDR:PORT"
 * as the first line of `announce` once every socket is bound (with a
 * generated certificate, "certificate: PATH" as the second). Returns 0,
 * or -1 after printing why to stderr. */
int target_run(const target_config *cfg, FILE *announce);

#endif
