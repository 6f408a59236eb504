#include "output/console.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "core/errcode.h"
#include "core/format.h"
#include "metrics/query.h"

#define PLAIN_EVERY_NS (10 * NS_PER_SEC)
#define MAX_SAID 8 /* distinct codes err_names_fix can name, with room */

struct console_live {
	FILE *f;
	int tty;
	uint64_t total_ns;
	uint64_t last_plain;
	_Atomic(const char *) note;
	uint64_t (*dropped)(void *ctx);
	void *dropped_ctx;
	int said[MAX_SAID]; /* codes already said on a line of their own */
	uint32_t nsaid;
};

void console_live_set_drops(console_live *c, uint64_t (*dropped)(void *ctx), void *ctx)
{
	if (!c)
		return;
	c->dropped = dropped;
	c->dropped_ctx = ctx;
}

console_live *console_live_create(FILE *f, int quiet, uint64_t total_ns)
{
	console_live *c;

	if (quiet)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->f = f;
	c->tty = isatty(fileno(f));
	c->total_ns = total_ns;
	return c;
}

void console_live_destroy(console_live *c)
{
	free(c);
}

void console_live_set_note(console_live *c, const char *note)
{
	if (c)
		atomic_store(&c->note, note);
}

static double metric_sum(const met_snapshot *s, uint32_t m)
{
	met_agg a = {0};

	met_query(s->interval, s->reg, m, NULL, 0, &a);
	return a.type == MET_GAUGE ? a.value : a.sum;
}

static int said(const console_live *c, int code)
{
	uint32_t i;

	for (i = 0; i < c->nsaid; i++)
		if (c->said[i] == code)
			return 1;
	return 0;
}

/* A resource running out (err_names_fix) is said on a line of its own the
 * first second it fails a request, with the fix in its description: the
 * live line's error percentage alone would not say what to change, and
 * the summary comes only at the end. Once per code for the run. */
static void say_fixes(console_live *c, const met_snapshot *snap)
{
	const met_shard *s = snap->interval;
	char el[32];
	uint32_t i;

	for (i = 0; i < s->ntouched && c->nsaid < MAX_SAID; i++) {
		uint32_t id = s->touched[i];
		const char *ec;
		int code;

		if (met_series_metric(snap->reg, id) != MET_HTTP_REQS)
			continue;
		ec = met_tagset_value(met_tagset_get(snap->reg, met_series_tagset(snap->reg, id)), "error_code");
		if (!ec)
			continue;
		code = (int)strtol(ec, NULL, 10);
		if (!err_names_fix(code) || said(c, code))
			continue;
		c->said[c->nsaid++] = code;
		fmt_ns((double)(snap->elapsed_ns / NS_PER_SEC) * 1e9, el, sizeof(el));
		fprintf(c->f, "%sstrain: at %s: error %d %s\n", c->tty ? "\r\033[K" : "", el, code, err_describe(code));
	}
}

void console_live_snapshot(void *self, const met_snapshot *snap)
{
	console_live *c = self;
	met_agg dur, failed = {0};
	double secs = snap->interval_ns ? (double)snap->interval_ns / 1e9 : 1;
	double reqs = metric_sum(snap, MET_HTTP_REQS);
	char el[32], tot[32], p95[32], rx[32], tx[32];
	const char *note = atomic_load(&c->note);
	uint64_t drops = c->dropped ? c->dropped(c->dropped_ctx) : 0;
	char dropped[64] = "";

	say_fixes(c, snap);
	if (snap->final) {
		if (c->tty)
			fprintf(c->f, "\r\033[K");
		fflush(c->f);
		return;
	}
	if (!c->tty && snap->elapsed_ns - c->last_plain < PLAIN_EVERY_NS && c->last_plain)
		return;
	if (!c->tty && !c->last_plain && snap->elapsed_ns < PLAIN_EVERY_NS)
		return;
	c->last_plain = snap->elapsed_ns;
	if (drops)
		snprintf(dropped, sizeof(dropped), ", OUTPUT DROPPED %llu points", (unsigned long long)drops);
	met_agg_init(&dur);
	met_query(snap->interval, snap->reg, MET_HTTP_REQ_DURATION, NULL, 0, &dur);
	met_query(snap->interval, snap->reg, MET_HTTP_REQ_FAILED, NULL, 0, &failed);
	fmt_ns((double)(snap->elapsed_ns / NS_PER_SEC) * 1e9, el, sizeof(el));
	if (c->total_ns)
		fmt_ns((double)(c->total_ns / NS_PER_SEC) * 1e9, tot, sizeof(tot));
	fmt_ns(met_hist_percentile(dur.hist, 95), p95, sizeof(p95));
	fmt_bytes(metric_sum(snap, MET_DATA_RECEIVED) / secs, rx, sizeof(rx));
	fmt_bytes(metric_sum(snap, MET_DATA_SENT) / secs, tx, sizeof(tx));
	fprintf(c->f, "%srunning %s%s%s, %.0f VUs, %.0f req/s, p95 %s, errors %.2f%%, in %s/s, out %s/s%s%s%s%s",
		c->tty ? "\r\033[K" : "", el, c->total_ns ? "/" : "", c->total_ns ? tot : "",
		metric_sum(snap, MET_VUS), reqs / secs, dur.hist->count ? p95 : "-",
		failed.n ? 100.0 * (double)failed.nonzero / (double)failed.n : 0.0, rx, tx, dropped, note ? ", " : "",
		note ? note : "", c->tty ? "" : "\n");
	fflush(c->f);
	met_agg_free(&dur);
}
