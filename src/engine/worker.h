/* A worker: one thread with its own event loop, its own VUs and connections,
 * and its own metric shards. Share-nothing: the only cross-thread traffic is
 * control (an eventfd plus atomic flags) and the once-a-second shard swap
 * with the collector, acknowledged through a semaphore. A worker lives for
 * one phase and runs its share of every scenario of that phase. */
#ifndef STRAIN_ENGINE_WORKER_H
#define STRAIN_ENGINE_WORKER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/vu.h"
#include "http/http_parse.h"
#include "io/ev.h"
#include "io/net.h"
#include "metrics/registry.h"
#include "metrics/shard.h"
#include "program/program.h"

/* Where a request goes, decided at the start of the run. */
typedef struct run_target {
	net_addr addr;          /* resolved once */
	uint32_t endpoint;      /* index of its scheme, host and port among the run's */
	int resolve_error;      /* ERR_DNS* when resolution failed; every request then fails */
} run_target;

/* Read-only state shared by all workers of a phase. */
typedef struct run_ctx {
	const run_config *cfg;
	const run_target *targets;   /* by request index */
	uint32_t nendpoints;         /* distinct scheme, host and port among the requests */
	const run_phase *phase;
	met_registry *reg;
	struct tls_client *tls;      /* when a request is https:// */
	uint64_t t0;                 /* monotonic start of the phase */
	uint64_t wall0;              /* wall clock at t0, to stamp raw samples */
	int keep_samples;            /* an output wants every raw sample */
	uint32_t nworkers;           /* of this phase */
	_Atomic uint32_t finished;   /* workers whose VUs are all done */
} run_ctx;

/* Where request r of the program goes. */
static inline const run_target *run_ctx_target(const run_ctx *c, const run_request *r)
{
	return &c->targets[r - c->cfg->reqs];
}

/* Series ids of one request's samples, for one (request, status, error). */
typedef struct http_series {
	uint32_t reqs, duration, blocked, connecting, tls, sending, waiting, receiving, failed;
} http_series;

typedef struct series_slot {
	uint64_t key; /* 0 = empty */
	http_series s;
} series_slot;

struct worker;

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
	uint64_t next_k;             /* this worker's next iteration index */
	uint64_t next_at;            /* and its intended start (monotonic) */
	int blocked;                 /* no VU free and no queue room: drops are counted in bulk */
	struct vu **idle;            /* free VUs (a stack), nvus slots */
	uint32_t nidle;
	uint64_t *queue;             /* queue mode: intended starts waiting for a VU (ring) */
	uint32_t qcap, qhead, qlen;
	uint32_t tagset;             /* scenario-level tags */
	uint32_t s_iterations, s_iteration_duration, s_data_sent, s_data_received;
	uint32_t s_dropped, s_start_delay;
	uint32_t *s_group;           /* group_duration series by group index */
	uint32_t data_mask;          /* data aliases its templates read */
} worker_scn;

/* What one worker takes of one scenario, decided by the run. */
typedef struct worker_share {
	uint32_t nvus;               /* VUs to allocate */
	uint32_t first_id;           /* 1-based id of the first */
	uint64_t iters;              /* shared-iterations share */
	uint32_t prealloc;           /* arrival rates: VUs initialised at start */
	uint32_t slot, nslots;       /* see worker_scn */
} worker_share;

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
	worker_scn *scns;
	uint32_t nscns;
	vu *vus;
	uint32_t nvus;
	_Atomic uint32_t vus_active; /* gauge, read by the collector */
	_Atomic uint32_t vus_peak;   /* most active since the collector last looked */
	_Atomic uint32_t vus_alloc;  /* VUs initialised: the vus_max gauge */
	int finished;
	ev_timer end_timer;          /* the next scenario end or grace end */
	http_head head;              /* scratch for response heads */
	pcre2_match_data *md;        /* scratch for regex extraction and checks */
	series_slot *cache;          /* (request, status, error) -> series ids */
	uint32_t cache_cap, cache_len;
	uint32_t *s_checks;          /* checks series by check id */
	uint64_t rng;
	uint64_t last_stamp;         /* wall ns of the last raw-sample stamp */
} worker;

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

/* For VUs. */
void worker_vu_begin(worker *w, vu *v);
void worker_iteration_done(worker *w, vu *v, int completed);
void worker_record_http(worker *w, vu *v, int status, int err);
void worker_record_group(worker *w, vu *v, uint32_t group, uint64_t ns);
/* Picks the next row of data alias a for v; -1 when unique rows ran out. */
int worker_data_row(worker *w, vu *v, uint32_t a);

#endif
