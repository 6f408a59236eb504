#include "program/flow.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

const char *run_strategy_name(run_strategy s)
{
	static const char *const names[STRATEGY_COUNT] = {NULL, "sequential", "hybrid", "parallel"};

	return (unsigned)s < STRATEGY_COUNT ? names[s] : NULL;
}

run_strategy run_strategy_parse(const char *name)
{
	int s;

	for (s = STRATEGY_SEQUENTIAL; name && s < STRATEGY_COUNT; s++)
		if (!strcmp(name, run_strategy_name((run_strategy)s)))
			return (run_strategy)s;
	return STRATEGY_NONE;
}

void flow_program_add(flow_program *p, flow_op op)
{
	if (p->nops == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->ops = xrealloc(p->ops, p->cap * sizeof(*p->ops));
	}
	p->ops[p->nops++] = op;
}

void flow_program_free(flow_program *p)
{
	free(p->ops);
	memset(p, 0, sizeof(*p));
}

void flow_extract_free(flow_extract *e)
{
	jsonpath_free(&e->path);
	pcre2_code_free(e->re);
	free(e->header);
	memset(e, 0, sizeof(*e));
}

void flow_check_free(flow_check *c)
{
	free(c->name);
	free(c->text);
	free(c->header);
	pcre2_code_free(c->re);
	jsonpath_free(&c->path);
	memset(c, 0, sizeof(*c));
}

int status_set_has(const status_set *s, int status)
{
	uint32_t i;

	for (i = 0; i < s->n; i++)
		if (status >= s->r[i].lo && status <= s->r[i].hi)
			return 1;
	return 0;
}
