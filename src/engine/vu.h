/* A virtual user: a state machine over one non-blocking connection, driven
 * by its worker's event loop. It runs its scenario's setup program once,
 * then the flow program every iteration: requests, think times, groups and
 * weighted choices, with variables extracted from responses. */
#ifndef STRAIN_ENGINE_VU_H
#define STRAIN_ENGINE_VU_H

#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "http/http_parse.h"
#include "io/ev.h"
#include "program/flow.h"

struct worker;
struct worker_scn;
struct run_request;
struct ssl_st;
struct ssl_session_st;
struct vu;

/* How bytes move on a connection: plain socket calls or TLS records,
 * chosen when it connects so the request path never asks which.
 * read/write return bytes moved, 0 at the end of the stream (read),
 * TLS_WANT_READ/TLS_WANT_WRITE when they would block, or a negative error
 * code; close releases what the connection holds besides its fd. */
typedef struct vu_conn_ops {
	ssize_t (*read)(struct vu *v, void *p, size_t n);
	ssize_t (*write)(struct vu *v, const void *p, size_t n);
	void (*close)(struct vu *v);
	int (*pending)(const struct vu *v); /* bytes read ahead, waiting for read() */
} vu_conn_ops;

typedef enum {
	VU_IDLE,       /* between iterations, or done */
	VU_CONNECTING,
	VU_HANDSHAKING, /* TLS */
	VU_SENDING,
	VU_RECEIVING,
	VU_WAITING     /* on its timer: think time, or continuing after a failure */
} vu_state;

#define VU_MAX_GROUP_DEPTH 8
#define VU_MAX_DATA 32

typedef struct vu {
	struct worker *w;
	struct worker_scn *scn;
	uint32_t id;          /* 1-based across the run, like k6's __VU */
	vu_state state;
	int fd;               /* -1 when no connection */
	const vu_conn_ops *ops;
	struct ssl_st *ssl;   /* TLS connections */
	uint32_t conn_ep;     /* the endpoint (run_request.endpoint) fd is connected to */
	struct ssl_session_st **sess; /* by endpoint: last resumable TLS session, for the next connection */
	int tls_bad;          /* a TLS error happened: no close_notify, no resumption */
	int tls_ver;          /* 0 plain, 1 TLS 1.2, 2 TLS 1.3 */
	const char *tls_version; /* tls_version tag, NULL when plain */
	unsigned tls_cipher_id;  /* the suite's 16-bit id, 0 when plain */
	const char *tls_cipher;  /* tls_cipher_suite tag, NULL when plain */
	uint64_t wire_in, wire_out; /* TLS bytes on the wire already counted */
	ev_io io;
	ev_timer timer;       /* request/connect deadline, think time, or deferred continue */
	buf rbuf;             /* response bytes not yet consumed */
	size_t head_scan;
	http_body body;
	int in_body;
	int status;
	int conn_close;       /* the server will close, or we must */
	int reused;           /* this request went out on a kept-alive connection */
	int retried;          /* resent once after a stale kept-alive connection */
	int attempt;          /* recording an attempt that a resend follows: no checks */
	int in_iteration;
	int active;           /* counted in the vus gauge */
	int in_setup;         /* running the setup program */
	int setup_done;
	int async;            /* this iteration waited on the network or a timer */
	int pending_start;    /* waiting for its spread start time */
	int ramp_out;         /* ramping-vus: finish this iteration, then stop */
	int co_pending;       /* queue mode: the next request is measured from `intended` */
	uint64_t ramp_deadline; /* ramp_out: abandoned after this */
	uint64_t intended;    /* arrival rates: when this iteration should have started */
	const flow_program *prog;
	uint32_t pc;
	const struct run_request *req;
	const buf *wire;      /* bytes being sent: the request's own, or wbuf */
	size_t wr_off;
	buf wbuf;             /* expanded request (templated requests) */
	buf bbuf;             /* expanded request body */
	buf xbuf;             /* expanded target and header values */
	struct http_field *fields; /* their descriptions, room for the run's most headers */
	buf resp_body;        /* kept when extraction or checks read the body */
	int resp_truncated;
	uint64_t check_fail;  /* bit per check of the current request, set = failed */
	uint64_t iter;        /* iterations started by this VU */
	uint64_t iter_start;
	uint64_t t_start, t_conn_start, t_connected, t_tls_done, t_send_start, t_sent, t_first;
	uint64_t deadline, conn_deadline;
	uint64_t bytes_in, bytes_out;
	uint64_t rng;
	uint32_t ngroups;
	uint32_t group_idx[VU_MAX_GROUP_DEPTH];
	uint64_t group_start[VU_MAX_GROUP_DEPTH];
	buf *vars;            /* by slot, scn->sc->nvars of them */
	const char *const *rows[VU_MAX_DATA]; /* current CSV row per data alias */
} vu;

/* Sets up an idle VU of scenario scn with no connection. */
void vu_init(vu *v, struct worker *w, struct worker_scn *scn, uint32_t id);
/* Starts the VU's next iteration now. Returns 0, or -1 if it cannot (its
 * unique data rows are used up), in which case the VU is done. */
int vu_iteration_start(vu *v);
/* Abandons whatever the VU is doing without recording it (hard stop). */
void vu_abort(vu *v);
/* Closes the connection and frees buffers. */
void vu_free(vu *v);

#endif
