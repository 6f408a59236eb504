/* Typed values of a plan: text, durations, counts, booleans, think times,
 * status sets; scalars that may use {{env.NAME}}, and the template
 * compiler every section uses. */
#include "plan/loader.h"

#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

/* scalar_text failed on a template and has said why: report nothing more. */
int template_failed(const ynode *n, const char *expanded)
{
	const char *raw = ynode_str(n);

	return !expanded && raw && strstr(raw, "{{");
}

const char *get_str(loader *L, const ynode *n, const char *what)
{
	const char *s = ynode_str(n);

	if (!s || ynode_is_null(n)) {
		err_at(L, n, "%s: expected text, found %s", what, ynode_kind(n));
		return NULL;
	}
	return s;
}

const char *get_text(loader *L, const ynode *n, const char *what)
{
	const char *s = get_str(L, n, what);

	if (!s || !strstr(s, "{{"))
		return s;
	s = scalar_text(L, n);
	return template_failed(n, s) ? NULL : s;
}

int get_duration(loader *L, const ynode *n, const char *what, uint64_t *out)
{
	const char *s = scalar_text(L, n);

	if (template_failed(n, s))
		return -1;
	if (!s || parse_duration_ns(s, out) < 0) {
		err_at(L, n, "%s: expected a duration such as 30s, 1m30s or 250ms, found %s%s%s", what,
		       s ? "'" : "", s ? s : ynode_kind(n), s ? "'" : "");
		return -1;
	}
	return 0;
}

int get_u64(loader *L, const ynode *n, const char *what, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s = scalar_text(L, n);

	if (template_failed(n, s))
		return -1;
	if (!s || parse_u64(s, min, max, out) < 0) {
		err_at(L, n, "%s: expected a whole number from %llu to %llu, found %s%s%s", what, (unsigned long long)min,
		       (unsigned long long)max, s ? "'" : "", s ? s : ynode_kind(n), s ? "'" : "");
		return -1;
	}
	return 0;
}

int get_bool(loader *L, const ynode *n, const char *what, int *out)
{
	const char *s = ynode_str(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) {
		*out = 1;
		return 0;
	}
	if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) {
		*out = 0;
		return 0;
	}
	err_at(L, n, "%s: expected true or false", what);
	return -1;
}

/* "1s", or a uniform range "1s..3s". */
int get_think(loader *L, const ynode *n, uint64_t *lo, uint64_t *hi)
{
	const char *s = scalar_text(L, n), *dots;
	char a[64];

	if (template_failed(n, s))
		return -1;
	if (!s) {
		err_at(L, n, "think: expected a duration or a range such as 1s..3s");
		return -1;
	}
	dots = strstr(s, "..");
	if (!dots) {
		if (get_duration(L, n, "think", lo) < 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	if ((size_t)(dots - s) >= sizeof(a) || parse_duration_ns(dots + 2, hi) < 0) {
		err_at(L, n, "think: expected a range such as 1s..3s, found '%s'", s);
		return -1;
	}
	memcpy(a, s, (size_t)(dots - s));
	a[dots - s] = '\0';
	if (parse_duration_ns(a, lo) < 0 || *hi < *lo) {
		err_at(L, n, "think: expected a range such as 1s..3s (low..high), found '%s'", s);
		return -1;
	}
	return 0;
}

/* 200, "200-299", or a list of those. */
int get_status_set(loader *L, const ynode *n, const char *what, status_set *out)
{
	size_t i, cnt = ynode_is_seq(n) ? yseq_len(n) : 1;

	out->n = 0;
	for (i = 0; i < cnt; i++) {
		const ynode *it = ynode_is_seq(n) ? yseq_item(&L->doc, n, i) : n;
		const char *s = ynode_str(it), *dash;
		uint64_t a, b;

		if (!s || out->n == 16)
			goto bad;
		dash = strchr(s, '-');
		if (dash) {
			if (parse_u64n(s, (size_t)(dash - s), 100, 599, &a) < 0 || parse_u64(dash + 1, 100, 599, &b) < 0 ||
			    b < a)
				goto bad;
		} else {
			if (parse_u64(s, 100, 599, &a) < 0)
				goto bad;
			b = a;
		}
		out->r[out->n].lo = (int)a;
		out->r[out->n].hi = (int)b;
		out->n++;
		continue;
	bad:
		err_at(L, it, "%s: expected a status (100-599), a range like 200-299, or a list of them", what);
		return -1;
	}
	if (!out->n) {
		err_at(L, n, "%s: the list is empty", what);
		return -1;
	}
	return 0;
}

int env_lookup(void *ctx, const char *name, const char **value)
{
	loader *L = ctx;
	const char *v;
	uint32_t i;
	size_t n = strlen(name);

	/* The last -e for a name wins, as with repeated shell assignments. */
	for (i = L->opts->nenv; i-- > 0;)
		if (strncmp(L->opts->env[i], name, n) == 0 && L->opts->env[i][n] == '=') {
			*value = L->opts->env[i] + n + 1;
			return 0;
		}
	v = getenv(name);
	if (v) {
		*value = v;
		return 0;
	}
	/* The first of repeated names, as ymap_get would (check_dups says so
	 * too). */
	if (L->env_defaults && strmap_get(&L->env_index, name, &i)) {
		const char *d = ynode_str(ymap_value(&L->doc, L->env_defaults, i));

		if (d) {
			*value = d;
			return 0;
		}
	}
	return -1;
}

/* A scalar that may use {{env.NAME}} (durations, counts, the target):
 * expanded once, here. Other template functions are an error. */
const char *scalar_text(loader *L, const ynode *n)
{
	tmpl_names names = {L, env_lookup, NULL, NULL};
	const char *s = ynode_str(n);
	tmpl t;
	buf b;
	tmpl_ctx c = {0};
	char err[512];
	size_t off;

	if (!s || !strstr(s, "{{"))
		return s;
	tmpl_init(&t);
	if (tmpl_add(&t, s, TESC_NONE, &names, err, sizeof(err), &off) < 0 || !tmpl_static(&t)) {
		err_at(L, n, "%s", tmpl_static(&t) ? err : "only {{env.NAME}} can be used here");
		tmpl_free(&t);
		return NULL;
	}
	buf_init(&b, 64, 1 << 20);
	if (tmpl_expand(&t, &c, &b) < 0 || buf_append(&b, "", 1) < 0) {
		err_at(L, n, "the expanded text is over 1 MiB");
		tmpl_free(&t);
		buf_free(&b);
		return NULL;
	}
	tmpl_free(&t);
	L->scratch = grow(L->scratch, L->nscratch, &L->caps[CAP_SCRATCH], sizeof(char *));
	L->scratch[L->nscratch++] = b.data;
	return b.data;
}

int compile_tmpl(loader *L, const ynode *n, const char *src, tmpl *t, tmpl_esc esc)
{
	tmpl_names names = {L, env_lookup, var_lookup, data_lookup};
	char err[512];
	size_t off = 0;

	if (tmpl_add(t, src, esc, &names, err, sizeof(err), &off) < 0) {
		/* Point at the expression when the scalar is on one line. */
		if (n && !strchr(src, '\n')) {
			ynode tmp = *n;

			tmp.start_mark.column += off + (ynode_quoted(n) ? 1 : 0);
			err_at(L, &tmp, "%s", err);
		} else {
			err_at(L, n, "%s", err);
		}
		return -1;
	}
	return 0;
}
