/* Steps and programs: think, group, choose and request steps compiled into
 * a flow program; the module's variables. */
#include "plan/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int var_lookup(void *ctx, const char *name, uint32_t *slot)
{
	loader *L = ctx;
	uint32_t i;

	for (i = 0; L->sc && i < L->sc->nvars; i++)
		if (strcmp(L->sc->var_names[i], name) == 0) {
			*slot = i;
			return 0;
		}
	return -1;
}

uint32_t var_slot(loader *L, const char *name)
{
	uint32_t slot;

	if (var_lookup(L, name, &slot) == 0)
		return slot;
	L->sc->var_names = xrealloc(L->sc->var_names, (L->sc->nvars + 1) * sizeof(char *));
	L->sc->var_names[L->sc->nvars] = xstrdup(name);
	return L->sc->nvars++;
}

static const char *const think_keys[] = {"think", NULL};
static const char *const group_keys[] = {"group", "steps", NULL};
static const char *const choose_keys[] = {"choose", NULL};
static const char *const branch_keys[] = {"weight", "steps", "name", NULL};

static uint32_t group_index(loader *L, const char *path)
{
	run_config *cfg = L->cfg;
	uint32_t i;

	if (strmap_get(&L->groups, path, &i))
		return i;
	cfg->groups = grow(cfg->groups, cfg->ngroups, &L->caps[CAP_GROUPS], sizeof(char *));
	cfg->groups[cfg->ngroups] = xstrdup(path);
	strmap_set(&L->groups, cfg->groups[cfg->ngroups], cfg->ngroups);
	return cfg->ngroups++;
}

int compile_steps(loader *L, const ynode *steps, flow_program *p, const char *where, int depth);

/* The most requests one parallel block may hold: a VU keeps the state of
 * each until the block ends. */
#define PARALLEL_MAX 1024

static int is_request_step(loader *L, const ynode *st)
{
	size_t i;

	for (i = 0; request_methods[i]; i++)
		if (ymap_get(&L->doc, st, request_methods[i]))
			return 1;
	return 0;
}

/* parallel: [request, ...] — k6's http.batch. Only requests: what a step
 * between them would mean (a think time, a group's duration, a choice)
 * has no answer when they all go out at once. */
static int compile_parallel(loader *L, const ynode *st, const ynode *list, flow_program *p)
{
	run_config *cfg = L->cfg;
	flow_parallel *b;
	flow_op op = {0};
	uint32_t n = (uint32_t)yseq_len(list), k, j, *per;
	uint64_t sum = 0;
	int bad = 0;
	size_t i;

	if (ymap_len(st) != 1) {
		err_at(L, st, "a parallel step has only 'parallel': a list of requests");
		return -1;
	}
	if (L->in_parallel) {
		err_at(L, st, "parallel blocks cannot be nested");
		return -1;
	}
	if (!ynode_is_seq(list) || !n) {
		err_at(L, list, "parallel: expected a non-empty list of requests, found %s",
		       ynode_is_seq(list) ? "an empty list" : ynode_kind(list));
		return -1;
	}
	if (n > PARALLEL_MAX) {
		err_at(L, yseq_item(&L->doc, list, PARALLEL_MAX), "parallel: at most %d requests in a block",
		       PARALLEL_MAX);
		return -1;
	}
	cfg->parallels = grow(cfg->parallels, cfg->nparallels, &L->caps[CAP_PARALLELS], sizeof(flow_parallel));
	op.kind = OP_PARALLEL;
	op.arg = cfg->nparallels++;
	b = &cfg->parallels[op.arg];
	b->reqs = xcalloc(n, sizeof(uint32_t));
	b->host = xcalloc(n, sizeof(uint32_t));
	b->batch = (uint32_t)L->def_batch;
	b->per_host = (uint32_t)L->def_batch_per_host;
	L->in_parallel = 1;
	for (i = 0; i < n; i++) {
		const ynode *it = yseq_item(&L->doc, list, i);
		int r;

		if (!ynode_is_map(it) || !is_request_step(L, it)) {
			if (ynode_is_map(it) && (ymap_get(&L->doc, it, "parallel")))
				err_at(L, it, "parallel blocks cannot be nested");
			else
				err_at(L, it, "a parallel block holds only requests (get, post, put, patch, delete, head, "
					      "options: URL); found %s",
				       ynode_is_map(it) && ymap_len(it) ? ynode_str(ymap_key(&L->doc, it, 0)) : ynode_kind(it));
			bad = 1;
			continue;
		}
		r = compile_request(L, it);
		if (r < 0) {
			bad = 1;
			continue;
		}
		b = &cfg->parallels[op.arg];
		b->reqs[b->n++] = (uint32_t)r;
	}
	L->in_parallel = 0;
	b = &cfg->parallels[op.arg];
	if (bad)
		return -1;
	/* Hosts as a connection tells them apart (engine/run.c). */
	per = xcalloc(b->n, sizeof(uint32_t));
	for (i = 0; i < b->n; i++) {
		const run_request *ri = &cfg->reqs[b->reqs[i]];

		for (k = 0; k < i; k++) {
			const run_request *rk = &cfg->reqs[b->reqs[k]];

			if (ri->tls == rk->tls && !strcmp(ri->url.host, rk->url.host) && !strcmp(ri->url.port, rk->url.port))
				break;
		}
		b->host[i] = k < i ? b->host[k] : b->nhosts++;
		per[b->host[i]]++;
	}
	for (j = 0; j < b->nhosts; j++)
		sum += b->per_host && per[j] > b->per_host ? b->per_host : per[j];
	free(per);
	b->nconns = (uint32_t)(sum < b->batch ? sum : b->batch);
	if (b->n > L->sc->batch_reqs)
		L->sc->batch_reqs = b->n;
	if (b->nconns > L->sc->batch_conns)
		L->sc->batch_conns = b->nconns;
	if (b->nhosts > L->sc->batch_hosts)
		L->sc->batch_hosts = b->nhosts;
	flow_program_add(p, op);
	return 0;
}

static int compile_step(loader *L, const ynode *st, flow_program *p, int depth)
{
	ynode *v;
	flow_op op = {0};
	size_t i;

	if (!ynode_is_map(st)) {
		err_at(L, st, "a step is a mapping: a request (get: /path ...), think, group, choose or parallel; found %s", ynode_kind(st));
		return -1;
	}
	v = ymap_get(&L->doc, st, "parallel");
	if (v)
		return compile_parallel(L, st, v, p);
	v = ymap_get(&L->doc, st, "think");
	if (v) {
		if (check_keys(L, st, think_keys, "a think step") < 0 || get_think(L, v, &op.a, &op.b) < 0)
			return -1;
		op.kind = OP_THINK;
		flow_program_add(p, op);
		return 0;
	}
	v = ymap_get(&L->doc, st, "group");
	if (v) {
		const char *name = get_str(L, v, "group");
		char *saved = L->group_path, *path;
		size_t len;
		int rc;
		ynode *steps = ymap_get(&L->doc, st, "steps");

		if (check_keys(L, st, group_keys, "a group step") < 0 || !name)
			return -1;
		if (strstr(name, "::")) {
			err_at(L, v, "group names cannot contain '::'");
			return -1;
		}
		if (!steps) {
			err_at(L, st, "group %s: 'steps' is required", name);
			return -1;
		}
		len = strlen(saved ? saved : "") + strlen(name) + 3;
		path = xmalloc(len);
		snprintf(path, len, "%s::%s", saved ? saved : "", name);
		op.kind = OP_GROUP_BEGIN;
		op.arg = group_index(L, path);
		flow_program_add(p, op);
		L->group_path = path;
		rc = compile_steps(L, steps, p, "group steps", depth + 1);
		L->group_path = saved;
		free(path);
		op.kind = OP_GROUP_END;
		flow_program_add(p, op);
		return rc;
	}
	v = ymap_get(&L->doc, st, "choose");
	if (v) {
		run_config *cfg = L->cfg;
		flow_choice *c;
		uint32_t ci, *jumps, nb = (uint32_t)yseq_len(v), total = 0;
		int bad = 0;

		if (check_keys(L, st, choose_keys, "a choose step") < 0)
			return -1;
		if (!ynode_is_seq(v) || !nb) {
			err_at(L, v, "choose: expected a list of {weight: N, steps: [...]}");
			return -1;
		}
		cfg->choices = grow(cfg->choices, cfg->nchoices, &L->caps[CAP_CHOICES], sizeof(flow_choice));
		ci = cfg->nchoices++;
		cfg->choices[ci].n = nb;
		cfg->choices[ci].cum = xcalloc(nb, sizeof(uint32_t));
		cfg->choices[ci].target = xcalloc(nb, sizeof(uint32_t));
		op.kind = OP_CHOOSE;
		op.arg = ci;
		flow_program_add(p, op);
		jumps = xcalloc(nb, sizeof(uint32_t));
		for (i = 0; i < nb; i++) {
			ynode *b = yseq_item(&L->doc, v, i), *w, *steps;
			uint64_t weight = 1;

			if (!ynode_is_map(b) || check_keys(L, b, branch_keys, "a choose branch") < 0) {
				if (!ynode_is_map(b))
					err_at(L, b, "choose: each branch is {weight: N, steps: [...]}");
				bad = 1;
				continue;
			}
			w = ymap_get(&L->doc, b, "weight");
			steps = ymap_get(&L->doc, b, "steps");
			if (w && get_u64(L, w, "weight", 1, 1000000, &weight) < 0)
				bad = 1;
			if (!steps) {
				err_at(L, b, "choose branch: 'steps' is required");
				bad = 1;
				continue;
			}
			total += (uint32_t)weight;
			c = &cfg->choices[ci]; /* steps below may grow the array */
			c->cum[i] = total;
			c->target[i] = p->nops;
			if (compile_steps(L, steps, p, "choose steps", depth + 1) < 0)
				bad = 1;
			/* Each branch jumps past the others. */
			op.kind = OP_JUMP;
			op.arg = 0;
			jumps[i] = p->nops;
			flow_program_add(p, op);
		}
		for (i = 0; i < nb; i++)
			p->ops[jumps[i]].arg = p->nops;
		cfg->choices[ci].total = total ? total : 1;
		free(jumps);
		return bad ? -1 : 0;
	}
	for (i = 0; request_methods[i]; i++)
		if (ymap_get(&L->doc, st, request_methods[i]))
			break;
	if (!request_methods[i]) {
		const char *k = ymap_len(st) ? ynode_str(ymap_key(&L->doc, st, 0)) : NULL;
		static const char *const kinds[] = {"get", "post", "put", "patch", "delete", "head", "options",
						    "think", "group", "choose", "parallel", NULL};
		const char *near = k ? nearest(k, kinds) : NULL;

		if (near)
			err_at(L, st, "unknown step '%s'; did you mean '%s'?", k, near);
		else
			err_at(L, st, "a step needs a request (get, post, put, patch, delete, head, options: URL), think, group, choose or parallel");
		return -1;
	}
	{
		int r = compile_request(L, st);

		if (r < 0)
			return -1;
		op.kind = OP_REQUEST;
		op.arg = (uint32_t)r;
		flow_program_add(p, op);
	}
	return 0;
}

int compile_steps(loader *L, const ynode *steps, flow_program *p, const char *where, int depth)
{
	size_t i, n = yseq_len(steps);
	int bad = 0;

	if (depth > 16) {
		err_at(L, steps, "%s: nested too deeply (16 levels at most)", where);
		return -1;
	}
	if (!ynode_is_seq(steps) || !n) {
		err_at(L, steps, "%s: expected a non-empty list of steps, found %s", where,
		       ynode_is_seq(steps) ? "an empty list" : ynode_kind(steps));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (compile_step(L, yseq_item(&L->doc, steps, i), p, depth) < 0)
			bad = 1;
	return bad ? -1 : 0;
}

/* Variables are known before templates are compiled, so a step may use a
 * variable that a later step (or the previous iteration) extracts. */
void collect_vars(loader *L, const ynode *steps)
{
	size_t i, j;

	for (i = 0; i < yseq_len(steps); i++) {
		ynode *st = yseq_item(&L->doc, steps, i), *v;

		if (!ynode_is_map(st))
			continue;
		v = ymap_get(&L->doc, st, "extract");
		if (v && ynode_is_map(v))
			for (j = 0; j < ymap_len(v); j++) {
				const char *name = ynode_str(ymap_key(&L->doc, v, j));

				if (name && L->sc->nvars < MAX_VARS)
					var_slot(L, name);
			}
		v = ymap_get(&L->doc, st, "steps");
		if (v)
			collect_vars(L, v);
		v = ymap_get(&L->doc, st, "parallel");
		if (v && ynode_is_seq(v))
			collect_vars(L, v);
		v = ymap_get(&L->doc, st, "choose");
		if (v && ynode_is_seq(v))
			for (j = 0; j < yseq_len(v); j++) {
				ynode *b = yseq_item(&L->doc, v, j);

				if (ynode_is_map(b) && ymap_get(&L->doc, b, "steps"))
					collect_vars(L, ymap_get(&L->doc, b, "steps"));
			}
	}
}

int program_has_request(const flow_program *p)
{
	uint32_t i;

	for (i = 0; i < p->nops; i++)
		if (p->ops[i].kind == OP_REQUEST || p->ops[i].kind == OP_PARALLEL)
			return 1;
	return 0;
}
