/* The top level of a plan: reading the file, its sections in order (env,
 * target, defaults, tags, the network options, data, modules, scale,
 * thresholds, outputs, strategies), each module's executor, tags, think time and programs,
 * and the loader's lifetime. The sections live beside it in src/plan/;
 * loader.h is what they share. */
#include "plan/plan.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/url.h"
#include "plan/loader.h"
#include "program/request.h"

#define MAX_DEFAULT_HEADERS 64

static const char *const module_keys[] = {"executor", "tags", "think", "setup", "flow", NULL};

static void compile_module(loader *L, ynode *k, ynode *m)
{
	run_config *cfg = L->cfg;
	run_scenario *sc = &cfg->scenarios[cfg->nscenarios];
	const char *name = ynode_str(k);
	ynode *v, *flow, *setup;
	flow_op end = {0};
	uint64_t think_lo = L->def_think_lo, think_hi = L->def_think_hi;
	size_t i;

	end.kind = OP_END;
	if (!name || !*name || strpbrk(name, " ,{}:")) {
		err_at(L, k, "module names are words without spaces, commas, braces or colons");
		return;
	}
	sc->name = xstrdup(name);
	/* The first of repeated names wins, as find_module's scan did. */
	strmap_put(&L->modules, sc->name, cfg->nscenarios, NULL);
	cfg->nscenarios++;
	L->sc = sc;
	L->data_mask = 0;
	if (!ynode_is_map(m)) {
		err_at(L, m, "module %s: expected a mapping with executor and flow", name);
		return;
	}
	check_keys(L, m, module_keys, "a module");
	v = ymap_get(&L->doc, m, "executor");
	if (!v)
		err_at(L, m, "module %s: 'executor' is required", name);
	else
		compile_executor(L, sc, v, name);
	v = ymap_get(&L->doc, m, "tags");
	if (v) {
		if (!ynode_is_map(v)) {
			err_at(L, v, "tags: expected a mapping of name: value");
		} else {
			check_dups(L, v, "tags");
			sc->tags = xcalloc(ymap_len(v) + 1, sizeof(met_tag));
			if (ymap_len(v) > 8)
				err_at(L, ymap_key(&L->doc, v, 8), "tags: at most 8 per module");
			for (i = 0; i < ymap_len(v) && i < 8; i++) {
				const ynode *tvn = ymap_value(&L->doc, v, i);
				const char *tk = ynode_str(ymap_key(&L->doc, v, i)), *tv = ynode_str(tvn) ? get_text(L, tvn, "tags") : NULL;

				if (!tk || !tv) {
					if (!template_failed(tvn, tv))
						err_at(L, tvn, "tags: expected text");
					continue;
				}
				sc->tags[sc->ntags].key = xstrdup(tk);
				sc->tags[sc->ntags].value = xstrdup(tv);
				sc->ntags++;
			}
		}
	}
	v = ymap_get(&L->doc, m, "think");
	if (v)
		get_think(L, v, &think_lo, &think_hi);
	flow = ymap_get(&L->doc, m, "flow");
	setup = ymap_get(&L->doc, m, "setup");
	if (setup)
		collect_vars(L, setup);
	if (flow)
		collect_vars(L, flow);
	if (setup) {
		L->group_path = xstrdup("::setup");
		compile_steps(L, setup, &sc->setup, "setup", 0);
		free(L->group_path);
		L->group_path = NULL;
	}
	flow_program_add(&sc->setup, end);
	if (!flow) {
		err_at(L, m, "module %s: 'flow' is required", name);
	} else if (compile_steps(L, flow, &sc->flow, "flow", 0) == 0 && !program_has_request(&sc->flow)) {
		err_at(L, flow, "module %s: the flow makes no request", name);
	}
	if (think_hi) {
		flow_op t = {OP_THINK, 0, think_lo, think_hi};

		flow_program_add(&sc->flow, t);
		/* Users with think time arrive over one think period, as real ones
		 * do, instead of all in the same millisecond. */
		sc->start_spread_ns = think_hi;
	}
	flow_program_add(&sc->flow, end);
	/* Which data aliases this module's templates read: only those advance. */
	sc->data_mask = L->data_mask;
	L->sc = NULL;
}

static const char *const top_keys[] = {"target",     "scale",      "defaults", "env",  "data",      "modules",
				       "thresholds", "strategies", "outputs",  "tags", "dns",       "hosts",
				       "local_ips",  "proxy",      "execution", "secrets", NULL};
static const char *const execution_keys[] = {"segment", "sequence", NULL};

/* execution: {segment: "1/4:1/2", sequence: "0,1/4,1/2,3/4,1"}: this
 * process's execution segment, as k6's --execution-segment and
 * --execution-segment-sequence (which win over it). */
static void plan_execution(loader *L, const ynode *root)
{
	const ynode *v = ymap_get(&L->doc, root, "execution"), *sn, *qn;
	const char *seg = NULL, *seq = NULL;
	char err[256];

	if (!v)
		return;
	if (!ynode_is_map(v)) {
		err_at(L, v, "execution: expected a mapping (segment, sequence)");
		return;
	}
	check_keys(L, v, execution_keys, "execution");
	sn = ymap_get(&L->doc, v, "segment");
	qn = ymap_get(&L->doc, v, "sequence");
	if (sn)
		seg = get_text(L, sn, "execution.segment");
	if (qn)
		seq = get_text(L, qn, "execution.sequence");
	if ((sn && !seg) || (qn && !seq))
		return;
	if (seq && !seg) {
		err_at(L, qn, "execution.sequence: needs execution.segment (which of the sequence's segments this is)");
		return;
	}
	seg_tuple_free(&L->cfg->segment);
	if (seg && seg_tuple_build(&L->cfg->segment, seg, seq, err, sizeof(err)) < 0)
		err_at(L, strstr(err, "sequence") && qn ? qn : sn, "execution: %s", err);
}

/* tags: at the top level: the run's own tags, on every sample of every
 * module (k6's options.tags); --tag adds to them and wins. */
static void plan_tags(loader *L, const ynode *root)
{
	const ynode *v = ymap_get(&L->doc, root, "tags");
	size_t i;

	if (!v)
		return;
	if (!ynode_is_map(v)) {
		err_at(L, v, "tags: expected a mapping of name: value");
		return;
	}
	check_dups(L, v, "tags");
	/* One slot stays for the run id (testid), which every run has. */
	if (ymap_len(v) > MET_MAX_RUN_TAGS - 1)
		err_at(L, ymap_key(&L->doc, v, MET_MAX_RUN_TAGS - 1), "tags: at most %d", MET_MAX_RUN_TAGS - 1);
	for (i = 0; i < ymap_len(v) && i < MET_MAX_RUN_TAGS - 1; i++) {
		const ynode *kn = ymap_key(&L->doc, v, i), *tvn = ymap_value(&L->doc, v, i);
		const char *tk = ynode_str(kn), *tv = ynode_str(tvn) ? get_text(L, tvn, "tags") : NULL, *why;

		if (!tk || !tv) {
			if (!template_failed(tvn, tv))
				err_at(L, tvn, "tags: expected text");
			continue;
		}
		why = run_tag_problem(tk, tv);
		if (why) {
			err_at(L, strncmp(why, "the key", 7) == 0 ? kn : tvn, "tags: %s: %s", tk, why);
			continue;
		}
		run_config_tag_set(L->cfg, tk, tv);
	}
}
static const char *const default_keys[] = {"headers", "timeout", "think", "expect", "tls", "compression",
					   "max_requests_per_connection", "max_connection_age",
					   "discard_response_bodies", "max_redirects", "no_cookies_reset", "batch",
					   "batch_per_host", NULL};

/* Reads and parses the file into L->doc. Returns 0, or -1 with the error
 * added (with a position when libyaml gave one). */
static int plan_read(loader *L, const char *path)
{
	char err[512];
	int line, col;

	if (ydoc_load(&L->doc, path, err, sizeof(err), &line, &col) < 0) {
		size_t len = strlen(path) + strlen(err) + 32;
		char *m = xmalloc(len);

		/* No position for a file that cannot be read at all. */
		if (line)
			snprintf(m, len, "%s:%d:%d: %s", path, line, col, err);
		else
			snprintf(m, len, "%s: %s", path, err);
		add_error(L->errs, m);
		return -1;
	}
	return 0;
}

/* env: defaults for {{env.NAME}}, indexed by name. */
static void plan_env(loader *L, const ynode *root)
{
	size_t i;

	L->env_defaults = ymap_get(&L->doc, root, "env");
	if (L->env_defaults && !ynode_is_map(L->env_defaults)) {
		err_at(L, L->env_defaults, "env: expected a mapping of NAME: default value");
		L->env_defaults = NULL;
	}
	if (L->env_defaults) {
		check_dups(L, L->env_defaults, "env");
		for (i = 0; i < ymap_len(L->env_defaults); i++) {
			const char *k = ynode_str(ymap_key(&L->doc, L->env_defaults, i));

			if (k)
				strmap_put(&L->env_index, k, (uint32_t)i, NULL);
		}
	}
}

/* target: scheme, host and port the requests' paths go to. */
static void plan_target(loader *L, const ynode *root)
{
	ynode *v = ymap_get(&L->doc, root, "target");
	const char *t;
	char err[512];

	if (!v)
		return;
	t = scalar_text(L, v);
	if (t && http_url_parse(t, &L->target, err, sizeof(err)) < 0)
		err_at(L, v, "target: %s", err);
	else if (t && strcmp(L->target.target, "/"))
		err_at(L, v, "target: give only scheme, host and port (paths go in the requests), found '%s'", t);
	else if (t) {
		L->have_target = 1;
		free(L->cfg->target);
		L->cfg->target = xstrdup(t);
	}
}

/* defaults: what every request gets unless it says otherwise. */
static void plan_defaults(loader *L, const ynode *root)
{
	ynode *v = ymap_get(&L->doc, root, "defaults"), *d;

	if (!v)
		return;
	if (!ynode_is_map(v)) {
		err_at(L, v, "defaults: expected a mapping (headers, timeout, think, expect, tls, compression, "
			   "max_requests_per_connection, max_connection_age, discard_response_bodies, "
			   "max_redirects, no_cookies_reset, batch, batch_per_host)");
		return;
	}
	check_keys(L, v, default_keys, "defaults");
	L->def_headers = ymap_get(&L->doc, v, "headers");
	if (L->def_headers && !ynode_is_map(L->def_headers)) {
		err_at(L, L->def_headers, "headers: expected a mapping of Name: value");
		L->def_headers = NULL;
	} else if (ymap_len(L->def_headers) > MAX_DEFAULT_HEADERS) {
		/* They are copied into every request. */
		err_at(L, ymap_key(&L->doc, L->def_headers, MAX_DEFAULT_HEADERS), "defaults.headers: at most %d",
		       MAX_DEFAULT_HEADERS);
		L->def_headers = NULL;
	}
	d = ymap_get(&L->doc, v, "timeout");
	if (d)
		get_duration(L, d, "timeout", &L->def_timeout);
	d = ymap_get(&L->doc, v, "think");
	if (d)
		get_think(L, d, &L->def_think_lo, &L->def_think_hi);
	d = ymap_get(&L->doc, v, "expect");
	if (d)
		get_status_set(L, d, "expect", &L->def_expect);
	d = ymap_get(&L->doc, v, "tls");
	if (d)
		load_tls(L, d);
	get_connection_options(L, v, &L->def_compression, &L->def_max_reqs, &L->def_max_age);
	d = ymap_get(&L->doc, v, "discard_response_bodies");
	if (d)
		get_bool(L, d, "discard_response_bodies", &L->cfg->discard_bodies);
	d = ymap_get(&L->doc, v, "max_redirects");
	if (d) {
		uint64_t n;

		if (get_u64(L, d, "max_redirects", 0, 1000, &n) == 0)
			L->cfg->max_redirects = (uint32_t)n;
	}
	d = ymap_get(&L->doc, v, "no_cookies_reset");
	if (d)
		get_bool(L, d, "no_cookies_reset", &L->cfg->no_cookies_reset);
	/* Parallel blocks: k6's batch and batchPerHost (0: no per-host limit). */
	d = ymap_get(&L->doc, v, "batch");
	if (d)
		get_u64(L, d, "batch", 1, 1024, &L->def_batch);
	d = ymap_get(&L->doc, v, "batch_per_host");
	if (d)
		get_u64(L, d, "batch_per_host", 0, 1024, &L->def_batch_per_host);
}

/* modules: each one a scenario. Returns -1 when there are none to
 * compile (nothing after them can be checked). */
static int plan_modules(loader *L, const ynode *root)
{
	run_config *cfg = L->cfg;
	ynode *mods = ymap_get(&L->doc, root, "modules");
	size_t i;

	if (!mods) {
		err_at(L, root, "the plan has no 'modules'");
		return -1;
	}
	if (!ynode_is_map(mods) || !ymap_len(mods)) {
		err_at(L, mods, "modules: expected a mapping of NAME: {executor: ..., flow: [...]}");
		return -1;
	}
	check_dups(L, mods, "modules");
	cfg->scenarios = xcalloc(ymap_len(mods) + 1, sizeof(run_scenario));
	for (i = 0; i < ymap_len(mods); i++)
		compile_module(L, ymap_key(&L->doc, mods, i), ymap_value(&L->doc, mods, i));
	return 0;
}

/* Outputs the plan always streams to ("influxdb=URL"), like --out. */
static void plan_outputs(loader *L, const ynode *v)
{
	run_config *cfg = L->cfg;
	size_t i;

	if (!ynode_is_seq(v)) {
		err_at(L, v, "outputs: expected a list such as [\"influxdb=http://127.0.0.1:8086/k6\"]");
		return;
	}
	cfg->plan_outs = xcalloc(yseq_len(v) + 1, sizeof(char *));
	for (i = 0; i < yseq_len(v); i++) {
		ynode *o = yseq_item(&L->doc, v, i);
		const char *spec = scalar_text(L, o);

		if (spec && strncmp(spec, "influxdb=", 9) && strncmp(spec, "influxdb2=", 10) && strncmp(spec, "json=", 5) &&
		    strncmp(spec, "csv=", 4)) {
			err_at(L, o, "outputs: unknown kind in '%s' (influxdb, influxdb2, json, csv)", spec);
			continue;
		}
		if (!spec || !strchr(spec, '=')) {
			if (!template_failed(o, spec))
				err_at(L, o, "outputs: expected KIND=ARG (influxdb=URL, influxdb2=URL, json=FILE, csv=FILE)");
			continue;
		}
		cfg->plan_outs[cfg->nplan_outs++] = xstrdup(spec);
	}
}

/* Checks get run-wide ids (their series are interned per worker by id);
 * the summary's VUs are the largest module's. */
static void plan_finish(run_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nreqs; i++)
		cfg->nchecks += cfg->reqs[i].nchecks;
	cfg->checks = xcalloc(cfg->nchecks + 1, sizeof(flow_check *));
	cfg->nchecks = 0;
	for (i = 0; i < cfg->nreqs; i++)
		for (uint32_t c = 0; c < cfg->reqs[i].nchecks; c++) {
			cfg->reqs[i].checks[c].id = cfg->nchecks;
			cfg->checks[cfg->nchecks++] = &cfg->reqs[i].checks[c];
		}
	for (i = 0; i < cfg->nscenarios; i++)
		if (cfg->scenarios[i].vus > cfg->vus)
			cfg->vus = cfg->scenarios[i].vus;
}

/* Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY), then
 * which requests go through one: their static bytes are final after. */
static void plan_route(loader *L)
{
	char err[512];
	uint32_t i;

	if (run_config_proxy_env(L->cfg, err, sizeof(err)) < 0) {
		add_error(L->errs, xstrdup(err));
		return;
	}
	/* Where the request is, though what failed is how it goes out. */
	for (i = 0; i < L->cfg->nreqs; i++)
		if (run_request_route(&L->cfg->reqs[i], L->cfg, err, sizeof(err)) < 0)
			err_at(L, L->req_steps[i], "%s", err);
}

int plan_load(const char *path, const plan_opts *opts, run_config *cfg, plan_errors *errs)
{
	loader L;
	ynode *root, *v;
	char *dcopy;
	size_t i;

	memset(&L, 0, sizeof(L));
	memset(errs, 0, sizeof(*errs));
	L.path = path;
	L.errs = errs;
	L.cfg = cfg;
	L.opts = opts;
	L.suggest_budget = 50u * 1000 * 1000;
	L.def_batch = 20;        /* k6's defaults */
	L.def_batch_per_host = 6;
	strmap_init(&L.modules);
	strmap_init(&L.groups);
	strmap_init(&L.env_index);
	dcopy = xstrdup(path);
	L.dir = xstrdup(dirname(dcopy));
	free(dcopy);
	if (plan_read(&L, path) < 0)
		goto out;
	root = ydoc_root(&L.doc);
	if (!ynode_is_map(root)) {
		err_at(&L, root, "a plan is a mapping with target, modules and more; found %s", ynode_kind(root));
		goto out;
	}
	check_keys(&L, root, top_keys, "the plan");
	plan_env(&L, root);
	plan_target(&L, root);
	plan_defaults(&L, root);
	plan_tags(&L, root);
	plan_net(&L, root);
	plan_execution(&L, root);
	load_data(&L, ymap_get(&L.doc, root, "data"));
	if (plan_modules(&L, root) < 0)
		goto out;
	v = ymap_get(&L.doc, root, "scale");
	if (v)
		plan_scale(&L, v);
	v = ymap_get(&L.doc, root, "thresholds");
	if (v)
		compile_thresholds(&L, v);
	v = ymap_get(&L.doc, root, "outputs");
	if (v)
		plan_outputs(&L, v);
	if (!errs->n)
		plan_strategies(&L, ymap_get(&L.doc, root, "strategies"));
	plan_finish(cfg);
	/* Only requests that compiled have a URL to route by. */
	if (!errs->n)
		plan_route(&L);
out:
	/* Last, so that it hides secrets in whatever the load produced, errors
	 * included. */
	if (L.doc.loaded)
		plan_secrets(&L, ydoc_root(&L.doc));
	free(L.req_steps);
	for (i = 0; i < L.nscratch; i++)
		free(L.scratch[i]);
	free(L.scratch);
	strmap_free(&L.modules);
	strmap_free(&L.groups);
	strmap_free(&L.env_index);
	ydoc_free(&L.doc);
	http_url_free(&L.target);
	free(L.dir);
	return errs->n ? -1 : 0;
}
