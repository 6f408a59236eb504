/* A VU's parallel blocks (k6's http.batch): the block's requests go out
 * together on connections of their own — at most the block's `batch` in
 * flight, `per_host` per host — and the block ends when all have answered.
 * Each request is its own sample, with its own checks; what they extract
 * reaches the VU's variables when the block ends, in the block's order, so
 * the result does not depend on which answer came first.
 *
 * The connections and the state of each request are lent to the VU once,
 * at its first block, sized for its scenario's largest block
 * (run_scenario.batch_*), and kept alive between blocks: a warm block
 * allocates nothing. A VU without parallel blocks holds none of it.
 * Worker thread only. */
#ifndef STRAIN_ENGINE_BATCH_H
#define STRAIN_ENGINE_BATCH_H

#include "engine/vu.h"

struct vu_batch;

/* Starts block blk for v (v->state becomes VU_BATCH). When the block ends
 * the VU continues its program from its timer. */
void vu_batch_start(vu *v, const flow_parallel *blk);
/* Abandons the block in flight (a hard stop): a request written whole is
 * counted as abandoned, as a single request is (engine/record.h). */
void vu_batch_abort(vu *v);
/* A block's request r whose hop waited for a lookup ends with err (a DNS
 * error, a timeout, a send that failed at once), as on_done ends one. */
void vu_batch_hop_end(vu *r, int err);
/* Closes the block connections and frees what v->batch holds (NULL: nothing). */
void vu_batch_free(vu *v);

#endif
