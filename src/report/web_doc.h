/* What the live dashboard serves besides the stream's framing: the page
 * and the live document. Internal to the report layer (report/web.c). */
#ifndef STRAIN_REPORT_WEB_DOC_H
#define STRAIN_REPORT_WEB_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "report/web.h"

/* When a phase started and ended (end_ns 0: still running), in ns since
 * the start of the run. */
typedef struct web_phase_time {
	int started;
	uint64_t start_ns, end_ns;
} web_phase_time;

/* The page at "/" (HTML). Caller frees; *len is its length. */
char *web_doc_page(size_t *len);

/* The live document of RUN so far ("version": "strain-summary/2", "live":
 * true, its description, plan, target, strategy, start, elapsed_ms, the
 * phases begun (PHASES by run->cfg->phases index), the thresholds'
 * definitions with "ok": null, and the timeline's "timeseries" without
 * histograms), on one line: an event's data must have no newline. Takes
 * the timeline's lock while it reads it. Caller frees. */
char *web_doc_live(const web_run *run, const web_phase_time *phases, uint64_t elapsed_ns, size_t *len);

#endif
