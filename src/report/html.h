/* The self-contained HTML report (docs/report.md): one page holding the
 * summary document (docs/summary-export.md) as inline JSON, the report's
 * script and style, and Chart.js, all embedded in the binary at build
 * time; nothing is fetched when it is viewed. The same page serves the
 * live dashboard: with live set, it loads summary.json and follows the
 * server-sent events of the server that serves it. */
#ifndef STRAIN_REPORT_HTML_H
#define STRAIN_REPORT_HTML_H

#include <stddef.h>

/* The page for summary_json (a summary document's text; NULL only when
 * live: the page then waits for the server's), with baseline_json (NULL:
 * none) drawn as "before". Neither is parsed here; every '<' in them is
 * written as \u003c so no text can close the script element that holds
 * it. Returns the page (caller frees), or NULL when the documents are
 * larger than a report may be (REPORT_HTML_MAX). */
char *report_html_page(const char *summary_json, const char *baseline_json, int live);

/* The largest page report_html_page builds. */
#define REPORT_HTML_MAX ((size_t)512 << 20)

/* Writes the (not live) page to path. Returns 0, or -1 with a message
 * naming the path in err. */
int report_html_write(const char *path, const char *summary_json, const char *baseline_json, char *err, size_t errsz);

#endif
