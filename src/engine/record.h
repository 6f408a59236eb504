/* Recording a worker's samples into its active shard: each request's k6
 * phases and counters, checks, group durations. The series ids of a
 * (request, status, error, TLS) combination are interned on first sight
 * and cached per worker, so recording is array indexing and histogram
 * increments. Worker thread only. */
#ifndef STRAIN_ENGINE_RECORD_H
#define STRAIN_ENGINE_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "engine/worker_impl.h"

/* Tags every sample of scenario sc carries (at most max of them into tags).
 * Returns the count. */
size_t record_scenario_tags(const run_ctx *ctx, const run_scenario *sc, met_tag *tags, size_t max);
/* The wall-clock stamp of a raw sample taken at monotonic time mono:
 * unique across the run's workers, strictly increasing per worker. */
uint64_t record_time(worker *w, uint64_t mono);
/* Sets up and frees the worker's series cache and check series. */
void record_init(worker *w);
void record_free(worker *w);
/* v's current request ended now with status (0: no answer) and err (0 or
 * a code). attempt: a written attempt that a resend follows, recorded as
 * its own failed request without checks (they judge the final answer). */
void record_http(worker *w, vu *v, int status, int err, int attempt);
/* v's current request was abandoned in flight when the run ended (its
 * gracefulStop ran out, or a second signal): once written whole, the server
 * has it, so it counts — in http_reqs, http_req_failed and the data
 * metrics, with ERR_ABANDONED — but its unfinished time is no latency and
 * no check verdict, so no trend or check is recorded. */
void record_http_abandoned(worker *w, vu *v);
/* Group `group` of v's scenario took ns. */
void record_group(worker *w, vu *v, uint32_t group, uint64_t ns);

#endif
