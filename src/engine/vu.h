/* A virtual user: the interpreter of its scenario's programs, driven by its
 * worker's event loop. It runs the setup program once, then the flow program
 * every iteration: requests, think times, groups and weighted choices, with
 * variables extracted from responses and checks judged on them. Its requests
 * go out on the one HTTP/1.1 connection it owns (http/conn.h), which does
 * all the socket work and reports back; the VU never touches a socket. */
#ifndef STRAIN_ENGINE_VU_H
#define STRAIN_ENGINE_VU_H

#include <stdint.h>

#include "core/buf.h"
#include "http/conn.h"
#include "io/ev.h"
#include "program/flow.h"

struct worker;
struct worker_scn;
struct run_request;
struct vu_ext;

typedef enum {
	VU_IDLE,    /* between iterations, or done */
	VU_REQUEST, /* a request is on its connection */
	VU_WAITING, /* on its timer: think time, a spread start, or continuing after a failure */
	VU_BATCH    /* a parallel block's requests are out (engine/batch.h) */
} vu_state;

#define VU_MAX_GROUP_DEPTH 8
#define VU_MAX_DATA 32

/* Ordered for size: every VU of a run is allocated at the start, and an idle
 * one costs this struct, its connection's and its variables. */
typedef struct vu {
	struct worker *w;
	struct worker_scn *scn;
	http_conn *conn;
	union {
		struct vu_batch *batch; /* a VU: its parallel blocks' connections; NULL until its first block */
		struct vu *owner;       /* a block's request (batch_sub): the VU it answers to, whose jar it uses */
	};
	const flow_program *prog;
	const struct run_request *req;
	buf *vars;            /* by slot, scn->sc->nvars of them */
	const char *const **rows; /* current CSV row by data alias; NULL when the run has no data */
	ev_timer timer;       /* think time, spread start, or deferred continue */
	http_exchange x;      /* the current request: its bytes, endpoint, phases */
	buf wbuf;             /* expanded request (templated requests) */
	buf resp_body;        /* kept when extraction or checks read the body; lent by the worker */
	struct vu_ext *ext;   /* cookie jar and redirect state, made the first time either is needed;
			       * a block's request has redirect state of its own and its VU's jar */
	uint64_t check_fail;  /* bit per check of the current request, set = failed */
	uint64_t iter;        /* iterations started by this VU */
	uint64_t iter_start;
	uint64_t ramp_deadline; /* ramp_out: abandoned after this */
	uint64_t intended;    /* arrival rates: when this iteration should have started */
	uint64_t arrival;     /* arrival rates: its index in the whole schedule */
	uint64_t rng;
	uint64_t group_start[VU_MAX_GROUP_DEPTH];
	uint32_t group_idx[VU_MAX_GROUP_DEPTH];
	uint32_t id;          /* 1-based across the run, like k6's __VU */
	uint32_t pc;
	uint32_t ngroups;
	uint8_t state;        /* vu_state */
	uint8_t resp_truncated;
	uint8_t in_iteration;
	uint8_t active;       /* counted in the vus gauge */
	uint8_t in_setup;     /* running the setup program */
	uint8_t setup_done;
	uint8_t async;        /* this iteration waited on the network or a timer */
	uint8_t pending_start; /* waiting for its spread start time */
	uint8_t ramp_out;     /* ramping-vus: finish this iteration, then stop */
	uint8_t co_pending;   /* queue mode: the next request is measured from `intended` */
	uint8_t as_get;       /* the exchange is a redirect hop that became a GET (the method tag) */
	uint8_t batch_sub;    /* a request of a parallel block, answering to a VU (engine/batch.c) */
} vu;

/* Sets up an idle VU of scenario scn with no connection yet. */
void vu_init(vu *v, struct worker *w, struct worker_scn *scn, uint32_t id);
/* Starts the VU's next iteration now. Returns 0, or -1 if it cannot (its
 * unique data rows are used up), in which case the VU is done. */
int vu_iteration_start(vu *v);
/* Abandons whatever the VU is doing without recording it (hard stop). */
void vu_abort(vu *v);
/* Closes the connection and frees buffers. */
void vu_free(vu *v);
/* The url and name tags of the exchange in flight when it is a redirect
 * hop of a request without a name of its own: the hop's URL, as k6 tags
 * it; *hash identifies it for the series cache. NULL otherwise (the
 * request's own tags apply). */
const char *vu_hop_url(const vu *v, uint64_t *hash);

/* What a response to v's current request (v->req, v->x) does to v, for
 * the connections of a parallel block (engine/batch.c), which answer to a
 * VU of their own: the head's extraction and checks, a run of the body
 * kept for them, and the body's once complete. vu_response_end returns
 * err, or the engine limit that kept a check from its answer. */
void vu_response_head(vu *v, const http_head *h);
void vu_response_body(vu *v, const char *d, size_t n);
int vu_response_end(vu *v, int err);
/* For a block's request v about to go out (its exchange begun): its
 * redirect state starts over, so it is recorded as itself. */
void vu_request_reset(vu *v);
/* Its bytes, set in v->x: the request expanded with its VU's variables
 * when templated, and written with the VU's jar cookies for its URL.
 * Returns 0, TMPL_ETOOBIG or TMPL_EVALUE. */
int vu_request_wire(vu *v, int *close_after);
/* For a block's request whose response just ended (err as on_done's):
 * when that response is a redirect to follow, it is recorded as its own
 * sample and the next hop goes out on v->conn. Returns 1 then, 0 when the
 * response is the request's final one (vu_response_end judges it), or
 * -code when the hop could not go: the request ends with that error. */
int vu_response_hop(vu *v, int err);  /* 1 also while the hop waits for a lookup */
/* The worker's hops parked on a run-time lookup whose answer (or failure)
 * is in go on: sent on their connection, or ended with a DNS error. Called
 * when the worker's eventfd fires and some hop is parked. */
void vu_parked_resume(struct worker *w);
/* v's hop, if parked, stops waiting (nothing recorded: an abort). */
void vu_park_cancel(vu *v);
/* Frees what vu.c made for a block's request v (its redirect state);
 * the rest is batch.c's. */
void vu_sub_free(vu *v);
/* What --http-debug hides of v's variables (engine/http_debug.h). */
struct http_debug_vars vu_debug_vars(const vu *v);

#endif
