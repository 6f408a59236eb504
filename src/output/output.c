#include "output/output.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "output/collect_push.h"
#include "output/csv.h"
#include "output/influx.h"
#include "output/json.h"

/* The kinds this build knows; each lives in its own output/<kind>.c. */
static const output_ops *const kinds[] = {
	&influx_v1_ops,
	&influx_v2_ops,
	&json_output_ops,
	&csv_output_ops,
	&collect_push_ops,
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
		snprintf(err, errsz, "unknown output '%.*s' (influxdb, influxdb2, json, csv, collector)", (int)klen, spec);
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

void output_cutoff_at(output *o, uint64_t when)
{
	uint64_t cur = atomic_load(&o->cutoff);

	while ((!cur || cur > when) && !atomic_compare_exchange_weak(&o->cutoff, &cur, when))
		;
}

void output_cut(output *o)
{
	output_cutoff_at(o, clock_mono_ns());
}

uint64_t output_dropped(output *o)
{
	output_stats st;

	if (!o->ops->stats || !o->impl)
		return 0;
	memset(&st, 0, sizeof(st));
	o->ops->stats(o, &st);
	return st.points_dropped;
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

char *output_spec_redact(const char *spec, char *out, size_t outsz)
{
	const char *auth = strstr(spec, "://"), *end, *at;

	snprintf(out, outsz, "%s", spec);
	if (!auth)
		return out;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	/* Keep the user name, hide the password: "http://me:***@host/db". */
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		snprintf(out, outsz, "%.*s%s%s", (int)((colon ? colon : at) - spec), spec, colon ? ":***" : "", at);
	}
	return out;
}
