/* The end-of-run summary: k6-like text on stdout, and the same figures as
 * JSON for --summary-export (schema in docs/summary-export.md). */
#ifndef STRAIN_REPORT_SUMMARY_H
#define STRAIN_REPORT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/result.h"

/* Prints the k6-style summary, the thresholds and the comparison. */
void summary_print(FILE *f, const run_result *res);

/* Writes the JSON summary text (summary_json's) to path. Returns 0, or -1
 * with a message in err. */
int summary_export(const char *path, const char *text, char *err, size_t errsz);

/* Builds the JSON text (caller frees with free()). For tests and export. */
char *summary_json(const run_result *res);

#endif
