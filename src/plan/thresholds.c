/* thresholds: k6-syntax expressions per metric, with abortOnFail and
 * delayAbortEval. */
#include "plan/loader.h"

#include <stddef.h>

static const char *const threshold_keys[] = {"threshold", "abortOnFail", "delayAbortEval", NULL};

void compile_thresholds(loader *L, ynode *th)
{
	run_config *cfg = L->cfg;
	size_t i, j, total = 0;
	met_registry *reg = met_registry_create();

	if (!ynode_is_map(th)) {
		err_at(L, th, "thresholds: expected a mapping of METRIC: [EXPRESSION, ...]");
		met_registry_destroy(reg);
		return;
	}
	check_dups(L, th, "thresholds");
	for (i = 0; i < ymap_len(th); i++)
		total += ynode_is_seq(ymap_value(&L->doc, th, i)) ? yseq_len(ymap_value(&L->doc, th, i)) : 1;
	cfg->thresholds = xcalloc(total + 1, sizeof(met_threshold));
	for (i = 0; i < ymap_len(th); i++) {
		ynode *k = ymap_key(&L->doc, th, i), *v = ymap_value(&L->doc, th, i);
		const char *metric = ynode_str(k) ? get_text(L, k, "thresholds") : NULL;
		size_t cnt = ynode_is_seq(v) ? yseq_len(v) : 1;

		if (!metric) {
			if (!template_failed(k, metric))
				err_at(L, k, "thresholds: keys are metric names");
			continue;
		}
		if (ynode_is_seq(v) && !cnt)
			err_at(L, v, "thresholds %s: the list is empty", metric);
		for (j = 0; j < cnt; j++) {
			ynode *it = ynode_is_seq(v) ? yseq_item(&L->doc, v, j) : v, *e = it, *x;
			met_threshold *t = &cfg->thresholds[cfg->nthresholds];
			const char *expr;
			char err[512];
			int in_expr, abort = 0;
			uint64_t delay = 0;

			if (ynode_is_map(it)) {
				if (check_keys(L, it, threshold_keys, "a threshold") < 0)
					continue;
				e = ymap_get(&L->doc, it, "threshold");
				if (!e) {
					err_at(L, it, "threshold: 'threshold' (the expression) is required");
					continue;
				}
				x = ymap_get(&L->doc, it, "abortOnFail");
				if (x && get_bool(L, x, "abortOnFail", &abort) < 0)
					continue;
				x = ymap_get(&L->doc, it, "delayAbortEval");
				if (x &&
				    get_duration(L, x, "delayAbortEval", &delay) < 0)
					continue;
			}
			expr = get_text(L, e, "threshold");
			if (!expr)
				continue;
			if (met_threshold_parse(t, metric, expr, reg, err, sizeof(err), &in_expr) < 0) {
				err_at(L, in_expr ? e : k, "threshold: %s", err);
				met_threshold_free(t);
				continue;
			}
			t->abort_on_fail = abort;
			t->delay_ns = delay;
			cfg->nthresholds++;
		}
	}
	met_registry_destroy(reg);
}
