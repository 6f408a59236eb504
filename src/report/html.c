#include "report/html.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* html_assets.S: NUL-terminated copies of the files. */
extern const char report_asset_page[], report_asset_css[], report_asset_js[], report_asset_chartjs[];

/* Appends a JSON document for a <script type="application/json">
 * element. JSON may hold '<' only inside strings, where \u003c means the
 * same; no other character can end the element. */
static int put_json(buf *b, const char *json)
{
	const char *p = json, *lt;

	for (lt = strchr(p, '<'); lt; lt = strchr(p, '<')) {
		if (buf_append(b, p, (size_t)(lt - p)) < 0 || buf_appends(b, "\\u003c") < 0)
			return -1;
		p = lt + 1;
	}
	return buf_appends(b, p);
}

static int put_data(buf *b, const char *id, const char *json)
{
	if (!json)
		return 0;
	if (buf_printf(b, "<script type=\"application/json\" id=\"%s\">", id) < 0 || put_json(b, json) < 0)
		return -1;
	return buf_appends(b, "</script>\n");
}

/* What a marker <!--strain:NAME--> of the skeleton becomes. */
static int put_part(buf *b, const char *name, size_t len, const char *summary, const char *baseline, int live)
{
	if (len == 3 && memcmp(name, "css", 3) == 0)
		return buf_appends(b, report_asset_css);
	if (len == 2 && memcmp(name, "js", 2) == 0)
		return buf_appends(b, report_asset_js);
	if (len == 7 && memcmp(name, "chartjs", 7) == 0)
		return buf_appends(b, report_asset_chartjs);
	if (len == 4 && memcmp(name, "body", 4) == 0)
		return buf_appends(b, live ? "<body data-live=\"1\">" : "<body>");
	if (len == 4 && memcmp(name, "data", 4) == 0) {
		if (put_data(b, "strain-summary", summary) < 0)
			return -1;
		return put_data(b, "strain-baseline", baseline);
	}
	return 0; /* an unknown marker: the skeleton's own comment */
}

char *report_html_page(const char *summary_json, const char *baseline_json, int live)
{
	static const char open[] = "<!--strain:", close[] = "-->";
	const char *p = report_asset_page, *m, *end;
	size_t guess = strlen(report_asset_chartjs) + strlen(report_asset_js) + (summary_json ? strlen(summary_json) : 0) +
		       (baseline_json ? strlen(baseline_json) : 0) + 65536;
	buf b;

	buf_init(&b, guess < REPORT_HTML_MAX ? guess : REPORT_HTML_MAX, REPORT_HTML_MAX);
	for (m = strstr(p, open); m; m = strstr(p, open)) {
		end = strstr(m + sizeof(open) - 1, close);
		if (!end)
			break;
		if (buf_append(&b, p, (size_t)(m - p)) < 0 ||
		    put_part(&b, m + sizeof(open) - 1, (size_t)(end - m) - (sizeof(open) - 1), summary_json, baseline_json,
			     live) < 0)
			goto fail;
		p = end + sizeof(close) - 1;
	}
	if (buf_appends(&b, p) < 0 || buf_append(&b, "", 1) < 0)
		goto fail;
	return b.data;
fail:
	buf_free(&b);
	return NULL;
}

int report_html_write(const char *path, const char *summary_json, const char *baseline_json, char *err, size_t errsz)
{
	char *page = report_html_page(summary_json, baseline_json, 0);
	FILE *f = NULL;
	int rc = -1;

	if (!page) {
		snprintf(err, errsz, "%s: the report would be larger than %zu MiB", path, REPORT_HTML_MAX >> 20);
		goto out;
	}
	f = fopen(path, "w");
	if (!f || fputs(page, f) == EOF) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (f && fclose(f) != 0 && rc == 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(page);
	return rc;
}
