/* The record of the run in the summary (strain-summary/2): what ran
 * (plan, target, strategy, phases), per request name, the time series and
 * every trend's histograms, so that a summary can be re-read, drawn,
 * merged and compared without the run (docs/summary-export.md). */
#ifndef STRAIN_REPORT_HISTORY_H
#define STRAIN_REPORT_HISTORY_H

#include <jansson.h>

#include "report/result.h"

/* Adds those sections to the summary's root object. */
void history_json(json_t *root, const run_result *info);

#endif
