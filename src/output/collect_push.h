/* The collector output (strain run --collector URL, or --out
 * collector=URL): every interval snapshot of the run is pushed to a
 * `strain collect` server (strain-collect/1, docs/distributed.md) by a
 * thread of its own, through a bounded queue, so a slow or absent
 * collector never slows the run. A push's answer may tell the run to stop
 * (another instance's data made an abortOnFail threshold fail): the output
 * then raises output_env.abort, which the suite treats like its own
 * threshold watch. */
#ifndef STRAIN_OUTPUT_COLLECT_PUSH_H
#define STRAIN_OUTPUT_COLLECT_PUSH_H

#include "output/output.h"

extern const output_ops collect_push_ops;

#endif
