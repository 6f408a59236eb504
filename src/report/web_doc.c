#include "report/web_doc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/format.h"
#include "core/clock.h"
#include "report/html.h"

/* The page at "/": the report page in its live form (report/html.h),
 * which loads summary.json and follows /events. */
char *web_doc_page(size_t *len)
{
	char *page = report_html_page(NULL, NULL, 1);

	if (!page) /* only past REPORT_HTML_MAX, which no empty page reaches */
		page = xstrdup("<!doctype html><title>strain</title><p>The report page could not be built.</p>\n");
	*len = strlen(page);
	return page;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *phases_json(const run_config *cfg, const web_phase_time *phases)
{
	json_t *arr = json_array();
	uint32_t i, k;

	for (i = 0; cfg && i < cfg->nphases; i++) {
		const run_phase *ph = &cfg->phases[i];
		const char *name = run_strategy_name(ph->strategy);
		json_t *o, *mods;

		if (!phases[i].started)
			continue;
		o = json_object();
		mods = json_array();
		for (k = 0; k < ph->nscenarios; k++)
			json_array_append_new(mods, json_string(cfg->scenarios[ph->scenarios[k]].name));
		json_object_set_new(o, "strategy", json_string(name ? name : "none"));
		json_object_set_new(o, "modules", mods);
		json_object_set_new(o, "start_ms", json_real((double)phases[i].start_ns / 1e6));
		json_object_set_new(o, "end_ms",
				    phases[i].end_ns ? json_real((double)phases[i].end_ns / 1e6) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *thresholds_json(const run_config *cfg)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; cfg && i < cfg->nthresholds; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "metric", json_string(cfg->thresholds[i].source));
		json_object_set_new(o, "expression", json_string(cfg->thresholds[i].expr));
		json_object_set_new(o, "ok", json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

char *web_doc_live(const web_run *run, const web_phase_time *phases, uint64_t elapsed_ns, size_t *len)
{
	json_t *root = json_object(), *ts = NULL;
	char start[40], *text;

	fmt_rfc3339(run->start_wall_ns, start, sizeof(start));
	json_object_set_new(root, "version", json_string("strain-summary/2"));
	json_object_set_new(root, "live", json_true());
	json_object_set_new(root, "description", json_string(run->description ? run->description : ""));
	json_object_set_new(root, "plan", string_or_null(run->plan));
	json_object_set_new(root, "target", string_or_null(run->target));
	json_object_set_new(root, "strategy", json_string(run->strategy ? run->strategy : "none"));
	json_object_set_new(root, "start", json_string(start));
	json_object_set_new(root, "elapsed_ms", json_real((double)elapsed_ns / 1e6));
	json_object_set_new(root, "phases", phases_json(run->cfg, phases));
	json_object_set_new(root, "thresholds", thresholds_json(run->cfg));
	if (run->tl)
		ts = timeline_json(run->tl, 0);
	if (!ts) {
		/* No timeline: an empty one, so readers need no second shape. */
		ts = json_object();
		json_object_set_new(ts, "interval_ms", json_integer(1000));
		json_object_set_new(ts, "series", json_array());
	}
	json_object_set_new(root, "timeseries", ts);
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!text)
		text = xstrdup("{}");
	*len = strlen(text);
	return text;
}
