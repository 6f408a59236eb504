/* Plan errors: the error list, file:line:col messages, and "did you mean"
 * for misspelt keys and module names. */
#include "plan/loader.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void add_error(plan_errors *e, char *msg)
{
	if (e->n < PLAN_MAX_ERRORS)
		e->msgs[e->n++] = msg;
	else {
		e->dropped++;
		free(msg);
	}
}

/* Past PLAN_MAX_ERRORS a message is only counted: callers skip the work of
 * composing it ("did you mean" searches), so a file of a million mistakes
 * is refused as fast as one with fifty. */
int errors_full(const loader *L)
{
	return L->errs->n >= PLAN_MAX_ERRORS;
}

size_t error_position_len(const loader *L, const char *msg)
{
	size_t plen = strlen(L->path);
	const char *p = msg + plen;
	int field;

	if (strncmp(msg, L->path, plen) != 0)
		return 0;
	for (field = 0; field < 2; field++) {
		if (*p != ':' || !isdigit((unsigned char)p[1]))
			return 0;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	return p[0] == ':' && p[1] == ' ' ? (size_t)(p + 2 - msg) : 0;
}

void err_at(loader *L, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void err_at(loader *L, const ynode *n, const char *fmt, ...)
{
	char msg[768], *full;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(L->path) + strlen(msg) + 32;
	full = xmalloc(len);
	snprintf(full, len, "%s:%d:%d: %s", L->path, n ? ynode_line(n) : 1, n ? ynode_col(n) : 1, msg);
	add_error(L->errs, full);
}

void plan_errors_print(const plan_errors *errs, FILE *f)
{
	uint32_t i;

	for (i = 0; i < errs->n; i++)
		fprintf(f, "%s\n", errs->msgs[i]);
	if (errs->dropped)
		fprintf(f, "(%u more errors not shown)\n", errs->dropped);
}

void plan_errors_free(plan_errors *errs)
{
	uint32_t i;

	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	memset(errs, 0, sizeof(*errs));
}

/* Edit distance, for "did you mean" on misspelt keys. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *nearest(const char *key, const char *const *allowed)
{
	const char *best = NULL;
	size_t bd = 99, i;

	for (i = 0; allowed[i]; i++) {
		size_t d = distance(key, allowed[i]);

		if (d < bd) {
			bd = d;
			best = allowed[i];
		}
	}
	return bd <= 2 || (best && bd <= strlen(best) / 3) ? best : NULL;
}

void list_allowed(const char *const *allowed, char *out, size_t outsz)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; allowed[i] && n + 2 < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? ", " : "", allowed[i]);
}

int check_keys(loader *L, const ynode *map, const char *const *allowed, const char *where)
{
	size_t i, n = ymap_len(map);
	int bad = check_dups(L, map, where) < 0;

	for (i = 0; i < n; i++) {
		ynode *k = ymap_key(&L->doc, map, i);
		const char *ks = ynode_str(k), *near;
		size_t j;
		char list[512];

		if (!ks) {
			err_at(L, k, "keys must be plain text in %s", where);
			bad = 1;
			continue;
		}
		for (j = 0; allowed[j]; j++)
			if (strcmp(ks, allowed[j]) == 0)
				break;
		if (allowed[j])
			continue;
		bad = 1;
		if (errors_full(L)) {
			L->errs->dropped++;
			continue;
		}
		near = nearest(ks, allowed);
		list_allowed(allowed, list, sizeof(list));
		if (near)
			err_at(L, k, "unknown key '%s' in %s; did you mean '%s'?", ks, where, near);
		else
			err_at(L, k, "unknown key '%s' in %s; expected one of: %s", ks, where, list);
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Repeated keys in a mapping whose keys are the user's own (modules,
 * headers, tags, ...): YAML parsers differ on which copy wins, so say so. */
int check_dups(loader *L, const ynode *map, const char *where)
{
	size_t i, n = ymap_len(map);
	int bad = 0;
	strmap seen;

	if (n < 2)
		return 0;
	strmap_init(&seen);
	for (i = 0; i < n; i++) {
		const char *k = ynode_str(ymap_key(&L->doc, map, i));

		if (k && strmap_put(&seen, k, (uint32_t)i, NULL)) {
			err_at(L, ymap_key(&L->doc, map, i), "duplicate key '%s' in %s", k, where);
			bad = 1;
		}
	}
	strmap_free(&seen);
	return bad ? -1 : 0;
}

/* "Did you mean" over every module name: a name whose length is too far
 * off cannot be close enough and costs nothing; the rest are paid from a
 * budget of edit-distance cells, so a plan of 100,000 modules and as many
 * misspelt references costs a bounded time (then there is no suggestion). */
const char *nearest_module(loader *L, const char *s)
{
	const char *best = NULL;
	size_t bd = 99, ls = strlen(s);
	uint32_t i;

	if (ls >= 63)
		return NULL;
	for (i = 0; i < L->cfg->nscenarios; i++) {
		const char *name = L->cfg->scenarios[i].name;
		size_t ln = strlen(name), d, slack = ln / 3 > 2 ? ln / 3 : 2;

		if (ln >= 63 || (ls > ln ? ls - ln : ln - ls) > slack)
			continue;
		if (L->suggest_budget < (ls + 1) * (ln + 1))
			break;
		L->suggest_budget -= (ls + 1) * (ln + 1);
		d = distance(s, name);
		if (d < bd) {
			bd = d;
			best = name;
		}
	}
	return bd <= 2 || (best && bd <= strlen(best) / 3) ? best : NULL;
}
