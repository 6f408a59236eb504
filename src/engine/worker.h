/* A worker: one thread with its own event loop, its own VUs and connections,
 * and its own metric shards. Share-nothing: the only cross-thread traffic is
 * control (an eventfd plus atomic flags) and the once-a-second shard swap
 * with the collector, acknowledged through a semaphore. A worker lives for
 * one phase and runs its share of every scenario of that phase. */
#ifndef STRAIN_ENGINE_WORKER_H
#define STRAIN_ENGINE_WORKER_H

#include <stdatomic.h>
#include <stdint.h>

#include "http/conn.h"
#include "io/net.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "program/program.h"

/* Where a request goes, decided at the start of the run. */
typedef struct run_target {
	uint32_t endpoint;      /* index of its scheme, host and port among the run's */
	int resolve_error;      /* ERR_DNS* when resolution failed; every request then fails */
} run_target;

/* Read-only state shared by all workers of a phase. */
typedef struct run_ctx {
	const run_config *cfg;
	const run_target *targets;   /* by request index */
	uint32_t nendpoints;         /* distinct scheme, host and port among the requests */
	const http_endpoint *endpoints; /* by endpoint: where its connections go */
	struct resolver *res;        /* the run's; workers ask it for a redirect's new hosts */
	const run_phase *phase;
	met_registry *reg;
	struct tls_client *tls;      /* when a request is https:// */
	uint64_t t0;                 /* monotonic start of the phase */
	uint64_t wall0;              /* wall clock at t0, to stamp raw samples */
	uint64_t late_ns;            /* the phase began this long after t0 and drops what was due (--start-at) */
	int keep_samples;            /* MET_KEEP_*: an output wants every raw sample (and arrival records) */
	uint32_t nworkers;           /* of this phase */
	_Atomic uint32_t finished;   /* workers whose VUs are all done */
} run_ctx;

/* Where request r of the program goes. */
static inline const run_target *run_ctx_target(const run_ctx *c, const run_request *r)
{
	return &c->targets[r - c->cfg->reqs];
}

/* k6's hosts: when cfg pins host:port, its address (port set) into *out
 * and 1; else 0. */
int run_pin_addr(const run_config *cfg, const char *host, const char *port, net_addr *out);

/* What one worker takes of one scenario, decided by the run. */
typedef struct worker_share {
	uint32_t nvus;               /* VUs to allocate */
	uint32_t first_id;           /* 1-based id of the first */
	uint64_t iters;              /* shared-iterations share */
	uint32_t prealloc;           /* arrival rates: VUs initialised at start */
	uint32_t slot, nslots;       /* see worker_scn */
} worker_share;

enum { STOP_NONE, STOP_GRACEFUL, STOP_HARD };

/* Opaque: its state belongs to its thread (engine/worker_impl.h). */
typedef struct worker worker;

/* Creates worker `index` of ctx->phase with shares[k] of the phase's k-th
 * scenario. Everything a scenario can need is allocated here (all of its
 * maxVUs share, the queue ring), so the run itself never allocates. */
worker *worker_create(run_ctx *ctx, uint32_t index, const worker_share *shares);
int worker_start(worker *w);
/* From any thread. */
void worker_request_stop(worker *w, int how);
void worker_request_exit(worker *w);
/* From the collector: swaps shards and returns the retired one, which the
 * worker will not touch until the next swap. Blocks until acknowledged. */
met_shard *worker_swap(worker *w);
void worker_join(worker *w);
void worker_destroy(worker *w);

/* The worker's two shards, for the collector to absorb once it has exited. */
void worker_shards(worker *w, met_shard *out[2]);
/* The vus gauge's inputs, from the collector: VUs active now, the most
 * active since the last call (reset to the current count), and VUs
 * initialised (vus_max). */
void worker_vus_gauges(worker *w, uint32_t *active, uint32_t *peak, uint32_t *alloc);
/* The same for scenario k of the phase (its index in the phase's list). */
void worker_scn_vus_gauges(worker *w, uint32_t k, uint32_t *active, uint32_t *peak, uint32_t *alloc);

#endif
