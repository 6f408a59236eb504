/* A virtual user: a state machine over one non-blocking connection, driven
 * by its worker's event loop. It runs iterations of the flow (each a
 * sequence of requests), reusing its connection while the server allows. */
#ifndef STRAIN_ENGINE_VU_H
#define STRAIN_ENGINE_VU_H

#include <stdint.h>

#include "core/buf.h"
#include "engine/ev.h"
#include "http/http_parse.h"

struct worker;
struct run_request;

typedef enum {
	VU_IDLE,       /* between iterations, or done */
	VU_CONNECTING,
	VU_SENDING,
	VU_RECEIVING,
	VU_WAITING     /* paused on its timer before the next iteration */
} vu_state;

typedef struct vu {
	struct worker *w;
	uint32_t id;          /* 1-based across the run, like k6's __VU */
	vu_state state;
	int fd;               /* -1 when no connection */
	ev_io io;
	ev_timer timer;       /* request/connect deadline, or the wait before an iteration */
	buf rbuf;             /* response bytes not yet consumed */
	size_t head_scan;
	http_body body;
	int in_body;
	int status;
	int conn_close;       /* the server will close, or we must */
	int reused;           /* this request went out on a kept-alive connection */
	int retried;          /* resent once after a stale kept-alive connection */
	int in_iteration;
	int active;           /* counted in the vus gauge */
	uint32_t step;        /* index of the current request in the flow */
	const struct run_request *req;
	size_t wr_off;
	uint64_t iter;        /* iterations started by this VU */
	uint64_t iter_start;
	uint64_t t_start, t_conn_start, t_connected, t_send_start, t_sent, t_first;
	uint64_t deadline, conn_deadline;
	uint64_t bytes_in, bytes_out;
} vu;

/* Sets up an idle VU with no connection. */
void vu_init(vu *v, struct worker *w, uint32_t id);
/* Starts the VU's next iteration now. */
void vu_iteration_start(vu *v);
/* Abandons whatever the VU is doing without recording it (hard stop). */
void vu_abort(vu *v);
/* Closes the connection and frees buffers. */
void vu_free(vu *v);

#endif
