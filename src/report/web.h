/* The live dashboard (strain run --web): a small HTTP server on a thread of
 * its own that serves the report page, the run's live document as JSON,
 * and a stream of server-sent events with one update per collector
 * interval and, at the end, the final summary (docs/dashboard.md).
 *
 * The collector only wakes it (web_output: an eventfd write); every
 * document is built on the server's thread, never on the collector's or the
 * workers'. Clients are bounded, and a client that does not read is
 * dropped once its bounded buffer is full: it never holds up the run.
 * Nothing a client sends changes any state (GET and HEAD only), except
 * through the one POST path a caller may add (web_set_post: strain
 * collect's pushes). */
#ifndef STRAIN_REPORT_WEB_H
#define STRAIN_REPORT_WEB_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/collector.h"
#include "program/program.h"
#include "report/timeline.h"

#define WEB_DEFAULT_ADDR "127.0.0.1:5665"

typedef struct web_server web_server;
struct ssl_ctx_st;

/* What the live document says about the run. Every pointer is the
 * caller's and must outlive the server. */
typedef struct web_run {
	const char *description;  /* one line: what runs */
	const char *plan;         /* the plan file, or NULL (quick mode) */
	const char *target;       /* base URL, or NULL */
	const char *strategy;     /* asked for, or NULL ("none") */
	const run_config *cfg;    /* thresholds' definitions, phases' modules */
	timeline *tl;             /* the run over time, or NULL */
	uint64_t start_wall_ns;
} web_run;

/* Binds ADDR ("HOST:PORT", "[V6]:PORT" or ":PORT", loopback when the host
 * is left out) now, so that a busy port is an error before any traffic.
 * Returns the server (not serving yet), or NULL with a message in err. */
web_server *web_create(const char *addr, char *err, size_t errsz);
/* "http://127.0.0.1:5665/": where the dashboard is (the bound port). */
const char *web_url(const web_server *w);
/* A POST handler (web_set_post), on the server's thread: AUTH is the
 * Authorization header's value or NULL, BODY..BODY+LEN the whole body.
 * Writes a JSON answer into reply (NUL-terminated, at most replysz) and
 * returns the HTTP status (200, 400, 401, 409). */
typedef int (*web_post_fn)(void *ctx, const char *auth, const char *body, size_t len, char *reply,
			   size_t replysz);

/* Before web_start: POSTs to PATH go to FN (bodies of at most body_max
 * bytes; larger ones get 413), and up to max_clients connections are
 * served at once. Every other path keeps its GET-only answers. Returns 0,
 * or -1 (already started, path too long, no memory for the loop). */
int web_set_post(web_server *w, const char *path, size_t body_max, uint32_t max_clients, web_post_fn fn, void *ctx);
/* Before web_start: serve HTTPS with CTX (tls_server.h; borrowed, must
 * outlive the server). Handshakes run on the server's loop, never
 * blocking it; one that stalls is closed by the head timeout. Plain HTTP
 * to the port is answered 400 in plain HTTP. web_url says https:// from
 * then on. Returns 0, or -1 (already started). */
int web_set_tls(web_server *w, struct ssl_ctx_st *ctx);
/* Starts serving RUN on the server's thread (signals blocked there); with
 * RUN NULL no dashboard is served (only web_set_post's path). Returns 0,
 * or -1 with a message in err. */
int web_start(web_server *w, const web_run *run, char *err, size_t errsz);
/* The collector output that tells the server a snapshot was taken in
 * (add it after the timeline's, so the timeline already has it). */
met_output web_output(web_server *w);
/* Phase I of run->cfg started at start_ns (since the run's start), and
 * ended at end_ns (0: still running). Main thread. */
void web_phase(web_server *w, uint32_t i, uint64_t start_ns, uint64_t end_ns);
/* The run is over: SUMMARY (summary_json's text, copied) is pushed to every
 * event stream as "event: final" and served from then on. */
void web_final(web_server *w, const char *summary);
/* Stops the thread, closes every connection and the socket; accepts NULL. */
void web_destroy(web_server *w);

#endif
