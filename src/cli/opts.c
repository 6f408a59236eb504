#include "cli/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "core/parse.h"

/* Usage layout: "  -u, --vus N" up to HELP_COL, the help wrapped at WIDTH. */
#define HELP_COL 28
#define WIDTH 86

/* The entry spelled FLAG (long name or alias), or -1. */
static int find(const opts_cmd *c, const char *flag)
{
	uint32_t i;

	for (i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, flag) == 0 || (c->opts[i].alias && strcmp(c->opts[i].alias, flag) == 0))
			return (int)i;
	return -1;
}

/* Optimal string alignment distance (edits, adjacent swaps count one), capped. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[32][32];

	if (la >= 32 || lb >= 32)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* The long name closest to FLAG: a near miss ("--iteration", "-vus") or a
 * prefix of one name only ("--insecure"); NULL when nothing is close. */
static const char *suggest(const opts_cmd *c, const char *flag)
{
	const char *s = flag + strspn(flag, "-"), *best = NULL, *prefixed = NULL;
	size_t len = strlen(s), bestd = 99, nprefix = 0, i;

	if (!len)
		return NULL;
	for (i = 0; i < c->nopts; i++) {
		const char *n = c->opts[i].name + 2;
		size_t d = distance(s, n);

		if (d < bestd) {
			bestd = d;
			best = c->opts[i].name;
		}
		if (len >= 3 && strncmp(n, s, len) == 0) {
			prefixed = c->opts[i].name;
			nprefix++;
		}
	}
	if (best && bestd <= 2 && bestd * 3 <= len)
		return best;
	return nprefix == 1 ? prefixed : NULL;
}

static cli_outcome unknown(const opts_cmd *c, const char *flag)
{
	const opts_k6 *k;
	const char *near;

	for (k = c->k6; k && k->name; k++) {
		if (strcmp(k->name, flag) != 0 && !(k->alias && strcmp(k->alias, flag) == 0))
			continue;
		if (k->instead)
			fprintf(stderr, "strain %s: strain has no %s (%s); %s\n", c->cmd, flag, k->what, k->instead);
		else
			fprintf(stderr, "strain %s: strain has no %s (%s), nor anything like it\n", c->cmd, flag, k->what);
		return CLI_USAGE;
	}
	near = suggest(c, flag);
	if (near)
		fprintf(stderr, "strain %s: unknown flag %s: did you mean %s? (see 'strain help %s')\n", c->cmd, flag,
			near, c->cmd);
	else
		fprintf(stderr, "strain %s: unknown flag %s (see 'strain help %s')\n", c->cmd, flag, c->cmd);
	return CLI_USAGE;
}

int opts_number(const char *s, double max, double *out)
{
	char *end;
	double d;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (*end || errno || !(d >= 0) || d > max)
		return -1;
	*out = d;
	return 0;
}

/* Stores the value of entry O, already taken into a->value. */
static cli_outcome store(const opt *o, args *a, void *base)
{
	char *at = (char *)base + o->off, err[256] = "";
	const char *v = a->value;

	switch (o->kind) {
	case OPT_SWITCH:
		*(int *)at = 1;
		return CLI_DONE;
	case OPT_FILE:
		if (args_check_file(a->cmd, a->flag, v) < 0)
			return CLI_BAD_VALUE;
		/* fallthrough */
	case OPT_KEYVAL:
		if (o->kind == OPT_KEYVAL && (!strchr(v, '=') || v[0] == '=')) {
			args_error(a, "'%s': expected KEY=VALUE", v);
			return CLI_BAD_VALUE;
		}
		/* fallthrough */
	case OPT_STRING:
		if (o->flags & OPT_REPEAT) {
			uint32_t *n = (uint32_t *)((char *)base + o->count_off);

			if (*n == o->max) {
				args_error(a, "given more than %llu times", (unsigned long long)o->max);
				return CLI_BAD_VALUE;
			}
			((const char **)at)[(*n)++] = v;
		} else {
			*(const char **)at = v;
		}
		return CLI_DONE;
	case OPT_U64:
		if (parse_u64(v, o->min, o->max, (uint64_t *)at) < 0) {
			args_error(a, "'%s' is not a whole number from %llu to %llu", v, (unsigned long long)o->min,
				   (unsigned long long)o->max);
			return CLI_BAD_VALUE;
		}
		return CLI_DONE;
	case OPT_DURATION:
		if (parse_duration_ns(v, (uint64_t *)at) < 0) {
			args_error(a, "'%s' is not a duration (examples: 30s, 1m30s, 250ms)", v);
			return CLI_BAD_VALUE;
		}
		if ((o->flags & OPT_POSITIVE) && !*(uint64_t *)at) {
			args_error(a, "must be longer than 0s");
			return CLI_BAD_VALUE;
		}
		return CLI_DONE;
	case OPT_NUMBER:
		if (opts_number(v, (double)o->max, (double *)at) < 0 ||
		    ((o->flags & OPT_POSITIVE) && !(*(double *)at > 0))) {
			args_error(a, "'%s': expected %s", v, o->expect);
			return CLI_BAD_VALUE;
		}
		return CLI_DONE;
	case OPT_CUSTOM:
		if (o->parse(base, v, err, sizeof(err)) < 0) {
			if (err[0])
				args_error(a, "%s", err);
			else
				args_error(a, "'%s': expected %s", v ? v : "", o->expect);
			return CLI_BAD_VALUE;
		}
		return CLI_DONE;
	case OPT_OPTVAL:
		*(const char **)at = v ? v : "";
		return CLI_DONE;
	case OPT_HELP:
		break;
	}
	return CLI_DONE;
}

/* One flag, a->flag, found as entry ID. */
static cli_outcome one_flag(const opts_cmd *c, args *a, int id, void *base, opts_seen *seen, uint32_t order)
{
	const opt *o = &c->opts[id];

	if (seen->n[id] && !(o->flags & OPT_REPEAT)) {
		if (strcmp(seen->typed[id], a->flag) == 0)
			fprintf(stderr, "strain %s: %s: given twice (it takes one value)\n", c->cmd, a->flag);
		else
			fprintf(stderr, "strain %s: %s: given twice (also as %s; it takes one value)\n", c->cmd, a->flag,
				seen->typed[id]);
		return CLI_USAGE;
	}
	if (!seen->n[id]++) {
		seen->order[id] = order;
		snprintf(seen->typed[id], sizeof(seen->typed[id]), "%s", a->flag);
	}
	if (o->kind == OPT_SWITCH || o->kind == OPT_HELP) {
		if (a->value) {
			args_error(a, "takes no value");
			return CLI_USAGE;
		}
		if (o->kind == OPT_HELP) {
			opts_usage(c, stdout);
			return CLI_HELP;
		}
		return store(o, a, base);
	}
	if (o->kind == OPT_OPTVAL)
		return store(o, a, base);
	if (o->flags & OPT_OPTIONAL_ADDR) {
		const char *next = a->i < a->argc ? a->argv[a->i] : NULL;

		if (!a->value && next && next[0] != '-' && strchr(next, ':'))
			a->value = a->argv[a->i++];
		return store(o, a, base);
	}
	if (!args_value(a))
		return CLI_USAGE;
	return store(o, a, base);
}

cli_outcome opts_parse(const opts_cmd *c, int argc, char **argv, void *base, opts_seen *seen)
{
	args a;
	int kind, id;
	uint32_t order = 0;
	cli_outcome rc = CLI_DONE;

	memset(seen, 0, sizeof(*seen));
	args_init(&a, c->cmd, argc, argv);
	for (kind = args_next(&a); kind && rc == CLI_DONE; kind = args_next(&a)) {
		if (kind == 2) {
			if (c->positional) {
				rc = c->positional(base, a.value);
			} else {
				fprintf(stderr, "strain %s: unexpected argument '%s' (see 'strain help %s')\n", c->cmd,
					a.value, c->cmd);
				rc = CLI_USAGE;
			}
			continue;
		}
		id = find(c, a.flag);
		if (id < 0)
			rc = unknown(c, a.flag);
		else
			rc = one_flag(c, &a, id, base, seen, order++);
	}
	return rc;
}

const char *opts_typed(const opts_cmd *c, const opts_seen *s, int id)
{
	return s->n[id] ? s->typed[id] : c->opts[id].name;
}

void opts_list(const opts_cmd *c, unsigned flags, char *out, size_t outsz)
{
	uint32_t i, total = 0, k = 0;
	size_t len = 0;

	out[0] = '\0';
	for (i = 0; i < c->nopts; i++)
		total += (c->opts[i].flags & flags) == flags;
	for (i = 0; i < c->nopts && len < outsz; i++) {
		if ((c->opts[i].flags & flags) != flags)
			continue;
		k++;
		len += (size_t)snprintf(out + len, outsz - len, "%s%s", k == 1 ? "" : k == total ? " and " : ", ",
					c->opts[i].name);
	}
}

int opts_first_given(const opts_cmd *c, const opts_seen *s, unsigned flags)
{
	int best = -1;
	uint32_t i;

	for (i = 0; i < c->nopts; i++)
		if ((c->opts[i].flags & flags) && s->n[i] && (best < 0 || s->order[i] < s->order[best]))
			best = (int)i;
	return best;
}

/* Writes TEXT with the cursor at column AT, wrapped at WIDTH; lines after the
 * first (and after each "\n" in TEXT) start at column COL. */
static void wrap(FILE *f, const char *text, int at, int col)
{
	const char *p = text;
	int first = 1; /* no word on this line yet */

	while (*p) {
		int w;

		if (*p == '\n' || *p == ' ') {
			if (*p == '\n') {
				fprintf(f, "\n%*s", col, "");
				at = col;
				first = 1;
			}
			p++;
			continue;
		}
		w = (int)strcspn(p, " \n");
		if (!first && at + 1 + w > WIDTH) {
			fprintf(f, "\n%*s", col, "");
			at = col;
			first = 1;
		}
		if (!first) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", w, p);
		at += w;
		first = 0;
		p += w;
	}
	fputc('\n', f);
}

static void usage_entry(FILE *f, const opt *o)
{
	char left[96];
	int n;

	n = snprintf(left, sizeof(left), "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "    ", o->name,
		     o->arg ? (o->kind == OPT_OPTVAL ? "" : " ") : "", o->arg ? o->arg : "");
	if (n > (int)sizeof(left) - 1)
		n = (int)sizeof(left) - 1;
	if (n < HELP_COL - 1) {
		fprintf(f, "%-*s", HELP_COL, left);
		wrap(f, o->help, HELP_COL, HELP_COL);
	} else {
		fprintf(f, "%s  ", left);
		wrap(f, o->help, n + 2, HELP_COL);
	}
}

void opts_usage(const opts_cmd *c, FILE *f)
{
	uint32_t g, i;

	fputs(c->synopsis, f);
	for (g = 0; g < c->ngroups; g++) {
		fputc('\n', f);
		if (c->groups[g].intro) {
			fprintf(f, "%s: ", c->groups[g].title);
			wrap(f, c->groups[g].intro, (int)strlen(c->groups[g].title) + 2, 0);
		} else {
			fprintf(f, "%s:\n", c->groups[g].title);
		}
		for (i = 0; i < c->nopts; i++)
			if (c->opts[i].group == (int)g)
				usage_entry(f, &c->opts[i]);
	}
	if (c->epilogue) {
		fputc('\n', f);
		fputs(c->epilogue, f);
	}
}
