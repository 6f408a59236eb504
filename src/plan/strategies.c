/* strategies: the phases of sequential, hybrid, parallel and all, every
 * section checked whichever runs. */
#include "plan/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

static const char *const strategy_keys[] = {"sequential", "hybrid", "parallel", "all", NULL};
static const char *const seq_keys[] = {"order", "pause", NULL};
static const char *const hybrid_keys[] = {"groups", "recovery", NULL};
static const char *const all_keys[] = {"recovery", NULL};

static int find_module(const loader *L, const char *name)
{
	uint32_t i;

	return strmap_get(&L->modules, name, &i) ? (int)i : -1;
}

static int selected(loader *L, uint32_t sc)
{
	uint32_t i;

	if (!L->opts->nmodules)
		return 1;
	for (i = 0; i < L->opts->nmodules; i++)
		if (!strcmp(L->opts->modules[i], L->cfg->scenarios[sc].name))
			return 1;
	return 0;
}

/* cap: how many scenarios the phase can hold (a sequential phase has one;
 * sizing every phase for all modules made 10,000 sequential phases cost
 * 10,000^2 slots). */
static run_phase *add_phase(run_config *cfg, const char *strategy, uint64_t pause, uint32_t cap)
{
	run_phase *p;

	/* Doubling (16, 32, ...: the size is implied by nphases): one phase
	 * per module of a sequential strategy would otherwise copy the array
	 * once per module, which is quadratic wherever realloc cannot grow in
	 * place (ASan's allocator always moves). */
	if (cfg->nphases == 0 || (cfg->nphases >= 16 && (cfg->nphases & (cfg->nphases - 1)) == 0)) {
		size_t room = cfg->nphases ? (size_t)cfg->nphases * 2 : 16;

		cfg->phases = xrealloc(cfg->phases, room * sizeof(*cfg->phases));
	}
	p = &cfg->phases[cfg->nphases++];
	memset(p, 0, sizeof(*p));
	p->strategy = run_strategy_parse(strategy);
	p->scenarios = xcalloc((size_t)cap + 1, sizeof(uint32_t));
	p->pause_ns = pause;
	return p;
}

static int module_ref(loader *L, ynode *n, const char *what)
{
	const char *s = ynode_str(n);
	int m = s ? find_module(L, s) : -1;

	if (m < 0) {
		const char *near = s && !errors_full(L) ? nearest_module(L, s) : NULL;

		err_at(L, n, "%s: no module named '%s'%s%s%s", what, s ? s : "?", near ? "; did you mean '" : "",
		       near ? near : "", near ? "'?" : "");
	}
	return m;
}

/* Builds the phases of one strategy. Returns 0 or -1. */
static int plan_strategy(loader *L, ynode *strat, const char *name, uint64_t pause_first)
{
	run_config *cfg = L->cfg;
	ynode *sec = strat ? ymap_get(&L->doc, strat, name) : NULL, *v;
	uint32_t i, j;

	if (!strcmp(name, "parallel")) {
		run_phase *p = add_phase(cfg, "parallel", pause_first, cfg->nscenarios);

		for (i = 0; i < cfg->nscenarios; i++)
			if (selected(L, i))
				p->scenarios[p->nscenarios++] = i;
		return 0;
	}
	if (!strcmp(name, "sequential")) {
		uint64_t pause = 0;
		int first = 1, *listed;

		if (sec && !ynode_is_map(sec) && !ynode_is_null(sec)) {
			err_at(L, sec, "strategies.sequential: expected a mapping ({order: [...], pause: 5s})");
			return -1;
		}
		if (sec && ynode_is_map(sec) && check_keys(L, sec, seq_keys, "strategies.sequential") < 0)
			return -1;
		v = sec ? ymap_get(&L->doc, sec, "pause") : NULL;
		if (v && get_duration(L, v, "pause", &pause) < 0)
			return -1;
		v = sec ? ymap_get(&L->doc, sec, "order") : NULL;
		if (v) {
			if (!ynode_is_seq(v) || !yseq_len(v)) {
				err_at(L, v, "order: expected a list of module names");
				return -1;
			}
			listed = xcalloc(cfg->nscenarios + 1, sizeof(int));
			for (i = 0; i < yseq_len(v); i++) {
				int m = module_ref(L, yseq_item(&L->doc, v, i), "order");

				if (m < 0) {
					free(listed);
					return -1;
				}
				if (listed[m]) {
					err_at(L, yseq_item(&L->doc, v, i), "order: module '%s' is listed twice",
					       cfg->scenarios[m].name);
					free(listed);
					return -1;
				}
				listed[m] = 1;
				if (!selected(L, (uint32_t)m))
					continue;
				add_phase(cfg, "sequential", first ? pause_first : pause, 1)->scenarios[0] = (uint32_t)m;
				cfg->phases[cfg->nphases - 1].nscenarios = 1;
				first = 0;
			}
			free(listed);
			return 0;
		}
		for (i = 0; i < cfg->nscenarios; i++) {
			if (!selected(L, i))
				continue;
			add_phase(cfg, "sequential", first ? pause_first : pause, 1)->scenarios[0] = i;
			cfg->phases[cfg->nphases - 1].nscenarios = 1;
			first = 0;
		}
		return 0;
	}
	/* hybrid */
	{
		ynode *groups;
		uint64_t recovery = 10 * NS_PER_SEC;
		int *seen, bad = 0, first = 1;

		if (!sec || !ynode_is_map(sec)) {
			err_at(L, sec ? sec : strat, "--strategy hybrid needs strategies.hybrid: {groups: [[a, b], [c]], recovery: 10s}");
			return -1;
		}
		if (check_keys(L, sec, hybrid_keys, "strategies.hybrid") < 0)
			return -1;
		v = ymap_get(&L->doc, sec, "recovery");
		if (v && get_duration(L, v, "recovery", &recovery) < 0)
			return -1;
		groups = ymap_get(&L->doc, sec, "groups");
		if (!groups || !ynode_is_seq(groups) || !yseq_len(groups)) {
			err_at(L, groups ? groups : sec, "strategies.hybrid.groups: expected a list of lists of modules");
			return -1;
		}
		seen = xcalloc(cfg->nscenarios + 1, sizeof(int));
		for (i = 0; i < yseq_len(groups); i++) {
			ynode *g = yseq_item(&L->doc, groups, i);
			run_phase *p = NULL;

			if (!ynode_is_seq(g) || !yseq_len(g)) {
				err_at(L, g, "a hybrid group is a non-empty list of module names");
				bad = 1;
				continue;
			}
			for (j = 0; j < yseq_len(g); j++) {
				ynode *mn = yseq_item(&L->doc, g, j);
				int m = module_ref(L, mn, "hybrid group");

				if (m < 0) {
					bad = 1;
					continue;
				}
				if (seen[m]) {
					err_at(L, mn, "module '%s' is in two hybrid groups (%d and %u)", cfg->scenarios[m].name,
					       seen[m], i + 1);
					bad = 1;
					continue;
				}
				seen[m] = (int)i + 1;
				if (!selected(L, (uint32_t)m))
					continue;
				if (!p) {
					p = add_phase(cfg, "hybrid", first ? pause_first : recovery, (uint32_t)yseq_len(g));
					first = 0;
				}
				p->scenarios[p->nscenarios++] = (uint32_t)m;
			}
		}
		for (i = 0; i < cfg->nscenarios; i++)
			if (!seen[i]) {
				err_at(L, groups, "module '%s' is in no hybrid group", cfg->scenarios[i].name);
				bad = 1;
			}
		free(seen);
		return bad ? -1 : 0;
	}
}

void plan_strategies(loader *L, ynode *strat)
{
	const char *which = L->opts->strategy ? L->opts->strategy : "parallel";
	uint64_t recovery = 10 * NS_PER_SEC;
	ynode *v;
	uint32_t i;

	if (strat && !ynode_is_map(strat)) {
		err_at(L, strat, "strategies: expected a mapping (sequential, hybrid, parallel, all)");
		return;
	}
	if (strat)
		check_keys(L, strat, strategy_keys, "strategies");
	v = strat ? ymap_get(&L->doc, strat, "parallel") : NULL;
	if (v && !ynode_is_null(v) && !(ynode_is_map(v) && !ymap_len(v)))
		err_at(L, v, "strategies.parallel takes no options (use {} or leave it empty)");
	v = strat ? ymap_get(&L->doc, strat, "all") : NULL;
	if (v && !ynode_is_null(v) && !ynode_is_map(v))
		err_at(L, v, "strategies.all: expected a mapping ({recovery: 10s})");
	if (!strcmp(which, "all") && !(strat && ymap_get(&L->doc, strat, "hybrid"))) {
		err_at(L, strat, "--strategy all runs hybrid too, which needs strategies.hybrid: {groups: [[a, b], [c]]}");
		return;
	}
	v = strat ? ymap_get(&L->doc, strat, "all") : NULL;
	if (v) {
		if (ynode_is_map(v) && check_keys(L, v, all_keys, "strategies.all") == 0 &&
		    ymap_get(&L->doc, v, "recovery"))
			get_duration(L, ymap_get(&L->doc, v, "recovery"), "recovery", &recovery);
	}
	for (i = 0; i < L->opts->nmodules; i++) {
		int m = find_module(L, L->opts->modules[i]);

		if (m < 0) {
			char msg[300];

			snprintf(msg, sizeof(msg), "--module %s: the plan has no such module", L->opts->modules[i]);
			add_error(L->errs, xstrdup(msg));
			return;
		}
	}
	/* Every strategy section is checked, whichever one runs. */
	if (strat) {
		uint32_t keep = L->cfg->nphases, errs_before = L->errs->n;

		if (ymap_get(&L->doc, strat, "hybrid"))
			plan_strategy(L, strat, "hybrid", recovery);
		if (ymap_get(&L->doc, strat, "sequential"))
			plan_strategy(L, strat, "sequential", 0);
		for (i = keep; i < L->cfg->nphases; i++) {
			free(L->cfg->phases[i].scenarios);
		}
		L->cfg->nphases = keep;
		if (L->errs->n > errs_before)
			return;
	}
	if (L->opts->validate_all && !L->opts->strategy) {
		plan_strategy(L, strat, "sequential", 0);
		if (strat && ymap_get(&L->doc, strat, "hybrid"))
			plan_strategy(L, strat, "hybrid", recovery);
		plan_strategy(L, strat, "parallel", recovery);
		return;
	}
	if (!strcmp(which, "all")) {
		if (plan_strategy(L, strat, "sequential", 0) < 0 ||
		    plan_strategy(L, strat, "hybrid", recovery) < 0 ||
		    plan_strategy(L, strat, "parallel", recovery) < 0)
			return;
	} else if (!strcmp(which, "sequential") || !strcmp(which, "hybrid") || !strcmp(which, "parallel")) {
		plan_strategy(L, strat, which, 0);
	} else {
		char msg[300];

		snprintf(msg, sizeof(msg), "--strategy %s: expected sequential, hybrid, parallel or all", which);
		add_error(L->errs, xstrdup(msg));
	}
}
