/* A worker: one thread with its own event loop, its own VUs and connections,
 * and its own metric shards. Share-nothing: the only cross-thread traffic is
 * control (an eventfd plus atomic flags) and the once-a-second shard swap
 * with the collector, acknowledged through a semaphore. */
#ifndef STRAIN_ENGINE_WORKER_H
#define STRAIN_ENGINE_WORKER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/ev.h"
#include "engine/run.h"
#include "engine/vu.h"
#include "http/http_parse.h"
#include "metrics/registry.h"
#include "metrics/shard.h"

/* Read-only state shared by all workers of a run. */
typedef struct run_ctx {
	const run_config *cfg;
	met_registry *reg;
	uint64_t t0;                 /* monotonic start of the run */
	uint64_t wall0;              /* wall clock at t0, to stamp raw samples */
	uint64_t t_end;              /* when new iterations stop; 0: no limit */
	uint32_t s_iterations;       /* scenario-level series */
	uint32_t s_iteration_duration;
	uint32_t s_data_sent;
	uint32_t s_data_received;
	_Atomic uint32_t finished;   /* workers whose VUs are all done */
	int keep_samples;            /* an output wants every raw sample */
} run_ctx;

/* Series ids of one request's samples, for one (request, status, error). */
typedef struct http_series {
	uint32_t reqs, duration, blocked, connecting, tls, sending, waiting, receiving, failed;
} http_series;

typedef struct series_slot {
	uint64_t key; /* 0 = empty */
	http_series s;
} series_slot;

enum { STOP_NONE, STOP_GRACEFUL, STOP_HARD };

typedef struct worker {
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
	vu *vus;
	uint32_t nvus;
	uint32_t busy;               /* VUs inside an iteration */
	_Atomic uint32_t vus_active; /* gauge, read by the collector */
	_Atomic uint32_t vus_peak;   /* most active since the collector last looked */
	uint64_t iters_left;         /* when the run is iteration-bound */
	int stopping;                /* no new iterations */
	int finished;
	ev_timer end_timer;
	ev_timer grace_timer;
	http_head head;              /* scratch for response heads */
	series_slot *cache;          /* (request, status, error) -> series ids */
	uint32_t cache_cap, cache_len;
} worker;

/* Creates worker `index` owning VUs first_vu .. first_vu + nvus - 1 (1-based
 * ids) and, for iteration-bound runs, `iterations` of the total. */
worker *worker_create(run_ctx *ctx, uint32_t index, uint32_t first_vu, uint32_t nvus, uint64_t iterations);
int worker_start(worker *w);
/* From any thread. */
void worker_request_stop(worker *w, int how);
void worker_request_exit(worker *w);
/* From the collector: swaps shards and returns the retired one, which the
 * worker will not touch until the next swap. Blocks until acknowledged. */
met_shard *worker_swap(worker *w);
void worker_join(worker *w);
void worker_destroy(worker *w);

/* For VUs. */
int worker_may_start_iteration(worker *w);
void worker_iteration_done(worker *w, vu *v, int completed);
void worker_record_http(worker *w, vu *v, int status, int err);
uint64_t worker_now(const worker *w);

#endif
