#include "output/output.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* The kinds this build knows; each lives in its own output/<kind>.c. */
static const output_ops *const kinds[] = {
	NULL,
};

output *output_create(const char *spec, const output_env *env, char *err, size_t errsz)
{
	const char *eq = strchr(spec, '=');
	size_t klen = eq ? (size_t)(eq - spec) : strlen(spec);
	size_t i;
	output *o;

	for (i = 0; kinds[i]; i++)
		if (strlen(kinds[i]->kind) == klen && strncmp(kinds[i]->kind, spec, klen) == 0)
			break;
	if (!kinds[i]) {
		snprintf(err, errsz, "unknown output '%.*s' (this build has none yet)", (int)klen, spec);
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->ops = kinds[i];
	if (o->ops->open(o, eq ? eq + 1 : "", env, err, errsz) < 0) {
		free(o);
		return NULL;
	}
	return o;
}

static void on_snapshot(void *self, const met_snapshot *snap)
{
	output *o = self;

	o->ops->snapshot(o, snap);
}

met_output output_met(output *o)
{
	met_output m = {on_snapshot, o};

	return m;
}

int output_close(output *o, output_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	return o->ops->close(o, stats);
}

void output_destroy(output *o)
{
	free(o);
}
