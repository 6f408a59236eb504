/* --out json=FILE: k6's JSON-lines format. One "Metric" line the first
 * time a metric appears, then one "Point" line per sample:
 *
 *   {"type":"Metric","data":{"name":"http_reqs","type":"counter","contains":"default",
 *    "thresholds":[],"submetrics":null},"metric":"http_reqs"}
 *   {"metric":"http_reqs","type":"Point","data":{"time":"2026-01-02T03:04:05.123456789Z",
 *    "value":1,"tags":{"method":"GET",...},"metadata":{"vu":"3","iter":"17"}}}
 *
 * Times in UTC with nanoseconds; time metrics in milliseconds. gzip when
 * FILE ends in .gz. */
#ifndef STRAIN_OUTPUT_JSON_H
#define STRAIN_OUTPUT_JSON_H

#include "output/output.h"

extern const output_ops json_output_ops;

#endif
