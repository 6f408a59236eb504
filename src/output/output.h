/* Streaming outputs selected with --out KIND=ARG (InfluxDB v1/v2, JSON, CSV).
 * Every output is driven by the collector thread through met_snapshot
 * (merged once per second); none of them ever runs on a worker. Outputs
 * that write one point per sample (k6's schemas) ask for the raw sample log
 * with wants_samples; the engine then keeps it for them. An output may run
 * its own thread(s) for I/O, but must never block the collector for long:
 * a slow or dead destination buffers up to a bound and counts what it
 * drops. */
#ifndef STRAIN_OUTPUT_OUTPUT_H
#define STRAIN_OUTPUT_OUTPUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"

#include "metrics/collector.h"
#include "metrics/registry.h"

/* What an output may know about the run. Borrowed for the output's life. */
typedef struct output_env {
	const met_registry *reg;
	uint64_t start_wall_ns;
	const char *instance;   /* "instance" tag: host name unless set */
	/* The run's abort flag (0 running): an output that learns the run must
	 * stop (the collector's answer) sets it to 1, as the threshold watch
	 * does. NULL when nothing listens. */
	_Atomic int *abort;
	const char *collector_token; /* --collector-token, or NULL */
	const char *cacert;          /* --cacert (or the plan's tls.cacert): also trusted by https outputs, or NULL */
} output_env;

/* What an output did, for the summary and the exit status. */
typedef struct output_stats {
	uint64_t points_written;
	uint64_t points_dropped; /* given up after retries, or over the buffer bound */
	uint64_t write_errors;   /* failed write attempts (retried or not) */
	char last_error[256];
} output_stats;

typedef struct output output;

typedef struct output_ops {
	const char *kind; /* "influxdb", "influxdb2", "json", "csv", "collector" */
	/* Sets up the output from ARG (the text after "KIND="). Returns 0, or -1
	 * with a message naming the problem in err (the caller prefixes
	 * "--out KIND=..."). */
	int (*open)(output *o, const char *arg, const output_env *env, char *err, size_t errsz);
	/* Consumes one snapshot (collector thread). */
	void (*snapshot)(output *o, const met_snapshot *snap);
	/* Flushes and releases everything; called once, after the final
	 * snapshot. Fills stats. Returns 0, or -1 if the output failed. */
	int (*close)(output *o, output_stats *stats);
	/* Optional: the counts so far, from any thread (the live line). */
	void (*stats)(output *o, output_stats *stats);
} output_ops;

struct output {
	const output_ops *ops;
	int wants_samples; /* set by open, MET_KEEP_* bits: needs met_snapshot.interval->samples (and arrival records) */
	void *impl;        /* the kind's own state */
	/* When the final flush must be over (monotonic ns; 0 until set): a
	 * kind's close sets it to its own limit, output_cut lowers it to now.
	 * It lives here, not in impl, so that it can be lowered from another
	 * thread while close runs and frees impl. Every wait of a kind's
	 * threads (the network, retries, the queue) ends by it. */
	_Atomic uint64_t cutoff;
};

/* Every kind's final flush ends within this (InfluxDB's flush= is at most
 * this; the file outputs use it): the run never waits longer for outputs. */
#define OUTPUT_FLUSH_MAX (60 * NS_PER_SEC)

/* Parses one --out spec ("json=run.json.gz") and opens the output.
 * Returns NULL with a message in err (unknown kind, bad argument, file not
 * writable). Free with output_destroy after output_close. */
output *output_create(const char *spec, const output_env *env, char *err, size_t errsz);
/* The collector hook for an output. */
met_output output_met(output *o);
int output_close(output *o, output_stats *stats);
/* Lowers o->cutoff to `when` (never raises it). Any thread. */
void output_cutoff_at(output *o, uint64_t when);
/* Stops the final flush now: what is not delivered yet is dropped and
 * counted. Any thread, also while output_close runs on another. */
void output_cut(output *o);
/* Points dropped so far (0 for kinds that cannot tell). */
uint64_t output_dropped(output *o);
void output_destroy(output *o);

/* Copies spec into out with any password in a URL's user info replaced by
 * "***", for messages and the summary. Returns out. */
char *output_spec_redact(const char *spec, char *out, size_t outsz);

#endif
