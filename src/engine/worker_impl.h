/* The worker's insides, private to the engine files that make up a worker:
 * worker.c (thread, control, the scenarios' ends), sched.c (ramps, arrival
 * rates, starts), vu.c (the VUs' programs) and record.c (samples). engine/run.c sees only engine/worker.h. */
#ifndef STRAIN_ENGINE_WORKER_IMPL_H
#define STRAIN_ENGINE_WORKER_IMPL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "engine/vu.h"
#include "engine/worker.h"
#include "http/conn.h"
#include "http/request.h"
#include "io/ev.h"

struct worker;

/* Series ids of one request's samples, for one (request, status, error). */
typedef struct http_series {
	uint32_t reqs, duration, blocked, connecting, tls, sending, waiting, receiving, failed;
} http_series;

typedef struct series_slot {
	uint64_t key; /* 0 = empty */
	http_series s;
} series_slot;

/* One scenario's share of a worker. */
typedef struct worker_scn {
	struct worker *w;
	const run_scenario *sc;
	uint32_t index;              /* in cfg->scenarios */
	uint32_t first;              /* its first VU in w->vus */
	uint32_t nvus;               /* VUs allocated (for arrival rates: up to its maxVUs share) */
	uint32_t nalloc;             /* VUs initialised so far, counted in vus_max */
	uint32_t busy;               /* its VUs inside an iteration */
	uint64_t iters_left;         /* shared-iterations share */
	uint64_t t_start;            /* startTime reached (monotonic) */
	uint64_t t_end;              /* no new iterations after this */
	uint64_t grace_end;          /* in-flight iterations abandoned after this */
	int started;
	uint32_t begin_next;         /* closed models: the next VU to start looping */
	int stopping;
	int done;
	/* This worker's part of a ramp or a schedule: slot `slot` of `nslots`
	 * (ramping-vus: its share of each target; arrival rates: iterations
	 * k with k % nslots == slot, so the union stays evenly spaced). */
	uint32_t slot, nslots;
	ev_timer sched;              /* startTime, the next ramp step, or the next arrival */
	/* ramping-vus */
	uint32_t want;               /* VUs this worker should be looping now */
	uint32_t running;            /* looping, not ramping out */
	ev_timer rampdown;           /* earliest gracefulRampDown deadline */
	/* arrival rates */
	uint64_t next_k;             /* this worker's next iteration index (the process's count) */
	uint64_t next_idx;           /* that iteration's index in the whole, unsplit schedule */
	uint64_t next_at;            /* and its intended start (monotonic) */
	int blocked;                 /* no VU free and no queue room: drops are counted in bulk */
	struct vu **idle;            /* free VUs (a stack), nvus slots */
	uint32_t nidle;
	uint64_t *queue;             /* queue mode: arrivals (schedule indices) waiting for a VU (ring) */
	uint32_t qcap, qhead, qlen;
	/* Its part of the vus / vus_max gauges, for the collector (relaxed
	 * atomics, like the worker's totals): active now, the most active
	 * since the collector last looked, initialised. */
	_Atomic uint32_t g_active, g_peak, g_alloc;
	uint32_t tagset;             /* scenario-level tags */
	uint32_t s_iterations, s_iteration_duration, s_data_sent, s_data_received;
	uint32_t s_dropped, s_start_delay;
	uint32_t *s_group;           /* group_duration series by group index */
	uint32_t data_mask;          /* data aliases its templates read */
} worker_scn;

/* Endpoints met only through a redirect (engine/vu.c): numbered after the
 * run's, per worker, never reused, so a kept-alive connection or a TLS
 * session never serves another. Past this many, a hop fails with
 * ERR_REDIRECT_HOST. */
#define WORKER_DYN_ENDPOINTS 16

typedef struct dyn_endpoint {
	http_endpoint ep;            /* dest: the run resolver's host (the origin's or its proxy's) */
	buf connect;                 /* CONNECT bytes for an https:// origin through a proxy */
	const http_proxy *proxy;     /* NULL: direct */
	char host[256];
	char port[8];
	int tls;
} dyn_endpoint;

struct worker {
	run_ctx *ctx;
	uint32_t index;
	pthread_t thread;
	ev_loop *loop;
	ev_io wake_io;               /* eventfd: control requests */
	_Atomic int swap_req;
	_Atomic int stop_req;
	_Atomic int exit_req;
	sem_t swap_ack;
	met_shard shards[2];
	met_shard *active;           /* recorded into by this thread */
	met_shard *retired;          /* handed to the collector at the last swap */
	worker_scn *scns;
	uint32_t nscns;
	vu *vus;
	uint32_t nvus;
	_Atomic uint32_t vus_active; /* gauge, read by the collector */
	_Atomic uint32_t vus_peak;   /* most active since the collector last looked */
	_Atomic uint32_t vus_alloc;  /* VUs initialised: the vus_max gauge */
	int finished;
	ev_timer end_timer;          /* the next scenario end or grace end */
	http_client *http;           /* what its VUs' connections share: read buffers, head scratch */
	buf_pool bodies;             /* response bodies kept for extraction and checks, lent per response */
	buf xbuf, bbuf;              /* scratch for expanding templated requests: values, body */
	buf zbuf;                    /* and the body compressed (compression:) */
	struct http_encoder *enc;    /* its compressor state, kept between requests */
	http_field *fields;          /* and their header descriptions, room for the run's most headers */
	pcre2_match_data *md;        /* scratch for regex extraction and checks */
	series_slot *cache;          /* (request, status, error) -> series ids */
	uint32_t cache_cap, cache_len;
	uint32_t *s_checks;          /* checks series by check id */
	uint64_t rng;
	uint64_t last_stamp;         /* wall ns of the last raw-sample stamp */
	dyn_endpoint *dyn_eps;       /* WORKER_DYN_ENDPOINTS, made at the first redirect elsewhere */
	uint32_t ndyn_eps;
	int listening;               /* wake_io's fd is registered with the run's resolver */
	struct vu *parked;           /* hops waiting for a run-time lookup (engine/vu.c), a list */
};

/* For VUs. */
void worker_vu_begin(worker *w, vu *v);
void worker_iteration_done(worker *w, vu *v, int completed);
/* Picks the next row of data alias a for v; -1 when unique rows ran out. */
int worker_data_row(worker *w, vu *v, uint32_t a);

/* For the scheduler (sched.c). */
/* Starts v's next iteration, or retires the VU when its scenario allows no
 * more (and stops or ends the scenario when that was its last). Returns 1
 * if it started. */
int worker_vu_start(worker *w, vu *v);
/* v is no longer active (the vus gauge). */
void worker_vu_retire(worker *w, vu *v);
/* No more starts for s; in-flight iterations get grace_ns to finish. */
void worker_scn_stop(worker *w, worker_scn *s, uint64_t grace_ns);

#endif
