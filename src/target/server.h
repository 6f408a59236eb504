/* The target's HTTP/1.x server: worker threads, each with its own loop,
 * SO_REUSEPORT listening socket and connections (tgt_worker.c), and the
 * connections' state machine (server.c). Internal to src/target: routes.c,
 * modules.c and faults.c answer requests through respond.h and the
 * tgt_send / tgt_stream calls below.
 *
 * A connection handles one request at a time: its head is parsed and what
 * the route needs is copied into `req`, the body (if any) is decoded, then
 * the route answers at once, or later from a timer (faults) or a database
 * completion (the four modules). Pipelined requests wait in the input
 * buffer meanwhile, so responses leave in order. */
#ifndef STRAIN_TARGET_SERVER_H
#define STRAIN_TARGET_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/buf.h"
#include "http/http_parse.h"
#include "io/ev.h"
#include "target/db.h"
#include "target/stats.h"
#include "target/target.h"

#define TGT_INBUF (32 * 1024)     /* input block per busy connection */
#define TGT_MAX_HEAD (16 * 1024)  /* larger heads get 431 */
#define TGT_MAX_BODY (1024 * 1024) /* larger bodies get 413 */
#define TGT_FILLER (64 * 1024)    /* static body bytes for large responses */
#define TGT_SLAB 256              /* connections allocated at a time */

typedef struct tgt_server tgt_server;
typedef struct tgt_worker tgt_worker;
typedef struct tgt_conn tgt_conn;
typedef struct dbsvc dbsvc;

enum { TM_GET, TM_HEAD, TM_POST, TM_PUT, TM_DELETE, TM_PATCH, TM_OTHER };

enum conn_state {
	CS_HEAD,   /* reading a request head (or idle) */
	CS_BODY,   /* decoding a request body */
	CS_WAIT,   /* the answer waits for a timer or a database query */
	CS_STREAM, /* the head is out; the body follows as the socket takes it */
	CS_HANG,   /* never answering; waiting for the client to leave */
	CS_CLOSED
};

enum stream_kind { ST_NONE, ST_BYTES, ST_CHUNKED, ST_SLOW };

/* What a route keeps of a request while it is in flight: the input buffer
 * may be reused for the next request or released meanwhile. */
typedef struct tgt_req {
	int route;        /* R_* */
	int method;       /* TM_* */
	int minor;        /* HTTP/1.minor */
	int close;        /* the client wants the connection closed after this */
	int err_status;   /* non-zero: answer this once the body is read */
	const char *err_msg;
	const char *allow; /* 405: the Allow header's value */
	int auth;         /* a valid Bearer token came with the request */
	uint64_t id;      /* the {id} of the path */
	uint64_t n[8];    /* numeric parameters, by route */
	size_t str_len;
	char str[72];     /* a string parameter: q, category, user */
} tgt_req;

struct tgt_conn {
	ev_io io;
	struct ssl_st *ssl;  /* --tls */
	int handshaking;     /* TLS handshake not done yet */
	ev_timer timer;
	tgt_worker *w;
	int counted;        /* the current request is already in the stats */
	tgt_conn *next;     /* free / limbo list */
	uint64_t last_active; /* ev_now of the last event on it, for the idle sweep */
	int state;
	unsigned peer_eof : 1;      /* the client sent FIN */
	unsigned close_after : 1;   /* close once the output is flushed */
	unsigned broken : 1;        /* a write failed: close at the next chance */
	unsigned query_pending : 1; /* q is with the database thread */
	unsigned line_checked : 1;  /* the request line was checked early */
	unsigned want_body : 1;     /* keep the body in bodybuf */
	char *in;           /* TGT_INBUF block, or NULL while idle */
	uint32_t in_off, in_len;
	size_t head_scan;
	http_body body;
	buf bodybuf;
	buf out;            /* bytes the socket did not take yet */
	size_t out_off;
	int stream;         /* ST_* while state == CS_STREAM */
	uint64_t stream_left;
	uint32_t chunk_size;
	uint64_t slow_step;     /* ST_SLOW: bytes per tick */
	uint64_t slow_interval; /* ST_SLOW: ns between ticks */
	tgt_req req;
	db_query q;
};

struct tgt_worker {
	int idx;
	tgt_server *srv;
	ev_loop *loop;
	ev_io lio;          /* listening socket */
	ev_timer accept_timer; /* re-enables accept after EMFILE */
	ev_timer idle_timer;   /* sweeps for idle connections (--idle-timeout) */
	ev_io ctl_io;       /* eventfd: stop */
	ev_io done_io;      /* eventfd: database completions */
	tgt_conn *free;
	tgt_conn *limbo;    /* closed this pass; reusable from the next one */
	tgt_conn **slabs;
	size_t nslabs;
	char **blocks;      /* spare input blocks */
	size_t nblocks, capblocks;
	buf hbuf;           /* response head scratch */
	buf json;           /* response body scratch */
	stats_shard *stats;
	uint64_t rng;
	long long date_sec;
	char date[40];
	uint64_t nconns;
};

struct tgt_server {
	target_config cfg;
	struct ssl_ctx_st *tls; /* --tls, else NULL */
	char cert_path[256];    /* a generated certificate, or "" */
	tgt_worker *workers;
	int nworkers;
	dbsvc *db;
	stats_hub *stats;
};

extern char tgt_filler[TGT_FILLER];

/* Sends raw bytes (in order after anything queued). */
void tgt_send(tgt_conn *c, const void *p, size_t n);
/* Writes what the socket takes of iov[0..n), queues the rest (at most
 * 64 MiB; beyond that, or on a write error, the connection is broken). */
void tgt_conn_sendv(tgt_conn *c, struct iovec *iov, int n);
/* Starts a streamed body: ST_BYTES (left bytes of filler), ST_CHUNKED
 * (left chunks of chunk_size), ST_SLOW (timer-driven; see faults.c). */
void tgt_stream(tgt_conn *c, int kind, uint64_t left, uint32_t chunk_size);
/* Ends a streamed body early or on time; the request is over. */
void tgt_stream_end(tgt_conn *c);


/* The connection pool and state machine (server.c), for tgt_worker.c. */

/* Takes a connection from w's pool (allocating a slab of TGT_SLAB when it
 * is empty), reset for a new client; the caller sets its fd. Never fails. */
tgt_conn *tgt_conn_alloc(tgt_worker *w);
/* Closes c's socket (with RST when rst) and returns its input block; c
 * goes back to the pool once no database query points at it. Closing a
 * closed connection does nothing. */
void tgt_conn_close(tgt_conn *c, int rst);
/* Puts closed c in limbo, reusable from the next loop pass (an event for
 * its fd may still be in this pass's batch). */
void tgt_conn_retire(tgt_conn *c);
/* Moves c on after any event: parses and answers buffered requests, then
 * decides what to wait for (or closes it). */
void tgt_conn_run(tgt_conn *c);
/* The ev_io callback of a connection's socket (TLS handshake, reads, writes). */
void tgt_conn_on_io(ev_loop *loop, ev_io *io, unsigned events);
/* 1 if c waits for a request head with nothing owed to the client. */
int tgt_conn_idle(const tgt_conn *c);
/* 1 if the client sent bytes not read yet (in the kernel or in OpenSSL). */
int tgt_conn_has_input(const tgt_conn *c);

#endif
