/* Which failure an http_reqs series counts, by its tags: the one rule the
 * summary's "errors", the time series and the verdict share. */
#ifndef STRAIN_REPORT_FAILURE_H
#define STRAIN_REPORT_FAILURE_H

#include <stddef.h>

#include "metrics/registry.h"

/* 1 when the series' requests are failures, with *code their error code,
 * or minus their status when they failed for the status alone (a 200
 * where 404 was expected: k6 gives those no error code). 0 when they are
 * not failures: no error, or a 4xx/5xx inside the expected statuses,
 * which keeps its error_code tag as in k6 but is no failure. */
int failure_code(const met_tagset *ts, int *code);

/* The key a failure is listed under: "1212", or "status:200". */
void failure_key(int code, char *out, size_t outsz);

#endif
