/* The push format between `strain run --collector URL` and `strain collect`
 * (strain-collect/2, docs/distributed.md): one interval snapshot of one
 * instance as a JSON object — every touched series with its metric (name,
 * type, contains), its full tag set, and its cell (counter sum, rate
 * passes, gauge value/min/max, trend histogram in strain-hist/1). Lossless:
 * decoding gives back the cells that were encoded, so the collector's
 * merge is exact. The decoder reads untrusted text. */
#ifndef STRAIN_METRICS_WIRE_H
#define STRAIN_METRICS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "metrics/registry.h"
#include "metrics/shard.h"

#define MET_WIRE_VERSION "strain-collect/2"

/* What a push says about itself besides its series. */
typedef struct met_wire_meta {
	char id[128];          /* unique per process: "instance/pid" */
	char instance[96];     /* the instance name (host name unless set) */
	uint64_t seq;          /* 0, 1, 2...: one per interval, gaps are lost pushes */
	uint64_t wall_ns;      /* wall clock at the end of the interval */
	uint64_t elapsed_ns;   /* since the instance's run started */
	uint64_t interval_ns;
	uint64_t start_wall_ns;     /* the instance's run start on its wall clock (its summary's "start") */
	uint64_t interval_start_ns; /* this interval's start on the same clock: start_wall_ns + elapsed_ns - interval_ns */
	int final;             /* the instance's last push: it is done */
} met_wire_meta;

/* The JSON text of one push (caller frees). */
char *met_wire_encode(const met_wire_meta *m, const met_registry *reg, const met_shard *interval);

/* Decodes text into out (cleared first), interning metrics, tag sets and
 * series into reg. Returns 0, or -1 with the reason in err (not JSON,
 * another version, a metric whose type differs from reg's, a bad
 * histogram, the series cap). */
int met_wire_decode(const char *text, size_t len, met_registry *reg, met_shard *out, met_wire_meta *m, char *err,
		    size_t errsz);

#endif
