/* The run driver: executes a program's phases with worker threads, the
 * metrics collector, signals, outputs and the summary. */
#ifndef STRAIN_ENGINE_RUN_H
#define STRAIN_ENGINE_RUN_H

#include "program/program.h"

/* Executes the run: resolves names, starts workers and the collector, shows
 * live progress, prints the summary, writes --summary-export. Returns the
 * process exit status (0, 105 when interrupted, 107 if it could not start). */
int run_execute(run_config *cfg);

#endif
