/* The engine: runs a program's phases, one at a time, on fresh worker
 * threads, recording into their metric shards for the collector. It knows
 * nothing of signals, outputs or summaries: the suite (suite/suite.h)
 * drives it, waits on it and decides when it stops. */
#ifndef STRAIN_ENGINE_RUN_H
#define STRAIN_ENGINE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/collector.h"
#include "metrics/registry.h"
#include "program/program.h"

typedef struct engine engine;

/* When each phase of the run ran (monotonic ns). */
typedef struct run_phase_result {
	int ran;
	uint64_t t_start, t_end;
} run_phase_result;

enum { ENGINE_STOP_GRACEFUL = 1, ENGINE_STOP_HARD = 2 };

/* Called while a phase runs, to wait at most wait_ns for something to do
 * (the suite takes signals there and may call engine_stop). */
typedef void (*engine_wait_fn)(void *ctx, uint64_t wait_ns);

/* Prepares program p (which must outlive the engine): the TLS client
 * context when a request is https://, and the names of its hosts resolved
 * once (an unresolvable one makes its requests fail, with a warning).
 * keep_samples: MET_KEEP_* bits, an output wants every raw sample (and the
 * arrival records of arrival-rate iterations). Returns NULL with a
 * message in err (a TLS file that cannot be used). */
engine *engine_create(const run_config *p, met_registry *reg, int keep_samples, char *err, size_t errsz);
/* The collector's source between phases: no VUs, the last vus_max. */
met_source engine_idle_source(engine *e);
/* --start-at: the next phase's schedule runs as if it had begun at wall
 * time wall_ns (closed models end on time, ramps are where they would be).
 * With drop_due (the process came after that time), arrival-rate
 * iterations already due when the phase begins are dropped and counted in
 * dropped_iterations; without (it waited, and woke a little late), they
 * start at once, their lag in iteration_start_delay. */
void engine_start_at(engine *e, uint64_t wall_ns, int drop_due);
/* Runs phase ph to its end: workers, VUs, the collector's source switched
 * to them and back; wait is called until every worker is done. Returns 0,
 * or -1 when its workers could not be created (a message is printed). */
int engine_phase_run(engine *e, met_collector *coll, const run_phase *ph, run_phase_result *res,
		     engine_wait_fn wait, void *ctx);
/* Stops the running phase's iterations: gracefully (in flight ones get
 * their gracefulStop) or at once. A later phase starts stopped too. Main
 * thread. */
void engine_stop(engine *e, int how);
/* The most VUs a phase had. */
uint32_t engine_vus_max(const engine *e);
void engine_destroy(engine *e);

#endif
