/* InfluxDB outputs: influxdb= (1.x /write) and influxdb2= (2.x
 * /api/v2/write). Both write line protocol in one of two schemas (see
 * influx_schema.h) from their own writer threads, through a bounded queue:
 * batches no larger than max_body, retried with backoff, and whatever is
 * finally given up counted as dropped. docs/outputs.md has the options. */
#ifndef STRAIN_OUTPUT_INFLUX_H
#define STRAIN_OUTPUT_INFLUX_H

#include <stddef.h>
#include <stdint.h>

#include "output/output.h"

extern const output_ops influx_v1_ops;
extern const output_ops influx_v2_ops;

/* Everything an --out influxdb[2]=URL says, parsed. Strings are owned
 * (influx_config_free). Credentials never appear in error messages. */
typedef struct influx_config {
	int v2;
	int k6_schema;          /* schema=k6; default aggregated */
	int tls;                /* https:// */
	char host[256], port[8];
	char *authority;        /* Host header */
	char *db;               /* v1 */
	char *rp;               /* v1 retention policy, optional */
	char *org, *bucket;     /* v2 */
	char *user, *password;  /* v1: URL user info, else STRAIN_INFLUXDB_USERNAME/PASSWORD */
	char *token;            /* v2: STRAIN_INFLUXDB_TOKEN */
	uint64_t buffer;        /* points held at most (queued + being written) */
	uint64_t max_body;      /* bytes per write request */
	uint32_t concurrency;   /* writer threads = requests in flight */
	uint32_t retries;       /* further attempts after a failed write */
	uint64_t timeout_ns;    /* per request */
	uint64_t flush_ns;      /* at the end, time left to deliver what is queued */
} influx_config;

/* Parses ARG (the text after "influxdb=" or "influxdb2="). Returns 0, or -1
 * with a message in err. */
int influx_config_parse(influx_config *c, int v2, const char *arg, char *err, size_t errsz);
void influx_config_free(influx_config *c);

#endif
