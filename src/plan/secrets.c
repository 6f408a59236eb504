/* What a plan keeps secret (core/redact.h): the names in its secrets:
 * list and --secret's (environment variables, or variables a module
 * extracts), every environment value a plan puts where credentials go
 * (Authorization, Cookie and Proxy-Authorization headers, fields and
 * query parameters named like password, token or api_key) or whose own
 * name is a credential's (DB_PASSWORD, API_TOKEN), and the literal values
 * of those headers. Found by reading the YAML as written, so it holds for
 * any key a feature adds later: a header, a form field, a JSON body.
 *
 * Then the headers, fields and parameters that carry a secret by another
 * name (X-Session: "{{sid}}" with sid secret) are added as secret names,
 * which --http-debug hides whatever their values become at run time. */
#include "plan/loader.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/redact.h"

typedef struct secret_walk {
	loader *L;
	redact *r;
	strmap names;   /* secret environment and variable names (owned in own) */
	char **own;
	uint32_t nown;
	int pass;       /* 0: find secret names; 1: names that carry them */
} secret_walk;

static void add_secret_name(secret_walk *w, const char *name, size_t n)
{
	char *copy;

	if (!n || n > 256)
		return;
	copy = xstrndup(name, n);
	if (strmap_put(&w->names, copy, w->nown, NULL)) {
		free(copy);
		return;
	}
	w->own = xrealloc(w->own, (w->nown + 1) * sizeof(*w->own));
	w->own[w->nown++] = copy;
}

static int is_secret_name(const secret_walk *w, const char *name, size_t n)
{
	char tmp[257];
	uint32_t v;

	if (!n || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, name, n);
	tmp[n] = '\0';
	return strmap_get(&w->names, tmp, &v);
}

/* The next {{ ... }} of s from *p: its name without spaces (env.NAME gives
 * NAME with *env set; data.a.b and function calls are skipped). Returns 0
 * when there is none left. */
static int next_ref(const char **p, const char **name, size_t *n, int *env)
{
	const char *s = *p, *open, *close, *a, *b;

	for (;;) {
		open = strstr(s, "{{");
		if (!open)
			return 0;
		close = strstr(open + 2, "}}");
		if (!close)
			return 0;
		s = close + 2;
		for (a = open + 2; a < close && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = close; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		if (memchr(a, ' ', (size_t)(b - a)) || b == a)
			continue; /* a function call: rand_int 1 5 */
		*env = (size_t)(b - a) > 4 && !memcmp(a, "env.", 4);
		if (*env)
			a += 4;
		else if (memchr(a, '.', (size_t)(b - a)))
			continue; /* data.alias.column, vu.id... */
		*name = a;
		*n = (size_t)(b - a);
		*p = s;
		return 1;
	}
}

static int is_literal_credential_header(const char *k)
{
	return !strcasecmp(k, "authorization") || !strcasecmp(k, "proxy-authorization") || !strcasecmp(k, "cookie");
}

/* name=value pairs after '?' or '&' in s: pass 0 makes env values of
 * credential parameters secret, pass 1 makes parameters secret that take
 * a secret. */
static void scan_query(secret_walk *w, const char *s)
{
	const char *p;

	for (p = strpbrk(s, "?&"); p; p = strpbrk(p + 1, "?&")) {
		const char *name = p + 1, *eq = strchr(name, '='), *end, *ref, *rn;
		size_t nlen, rlen;
		int env;

		if (!eq || strcspn(name, "&#?") < (size_t)(eq - name))
			continue;
		nlen = (size_t)(eq - name);
		end = eq + 1 + strcspn(eq + 1, "&#");
		ref = eq + 1;
		while (next_ref(&ref, &rn, &rlen, &env) && rn < end) {
			if (w->pass == 0 && env && redact_name_secret(NULL, name, nlen))
				add_secret_name(w, rn, rlen);
			if (w->pass == 1 && !env && is_secret_name(w, rn, rlen)) {
				char *pn = xstrndup(name, nlen);

				redact_add_name(w->r, pn);
				free(pn);
			}
		}
	}
}

static void scan_scalar(secret_walk *w, const char *key, const char *v)
{
	const char *p = v, *name;
	size_t n;
	int env, sensitive = key && redact_header_secret(NULL, key, strlen(key));

	if (w->pass == 0 && sensitive && is_literal_credential_header(key) && !strstr(v, "{{")) {
		const char *sp = strchr(v, ' ');

		redact_add_value(w->r, v);
		if (sp)
			redact_add_value(w->r, sp + 1);
	}
	while (next_ref(&p, &name, &n, &env)) {
		if (w->pass == 0 && env && (sensitive || redact_name_secret(NULL, name, n)))
			add_secret_name(w, name, n);
		/* An environment value is known and hidden wherever it shows; a
		 * variable's is only known at run time: hide what carries it. */
		if (w->pass == 1 && key && !env && is_secret_name(w, name, n))
			redact_add_name(w->r, key);
	}
	scan_query(w, v);
}

/* extract: {sid: $.session.id}: with sid secret, the field it comes from
 * (id) is hidden in the response bodies --http-debug prints. */
static void secret_extracts(secret_walk *w, ynode *map)
{
	size_t i;

	for (i = 0; i < ymap_len(map); i++) {
		const char *var = ynode_str(ymap_key(&w->L->doc, map, i));
		const char *path = ynode_str(ymap_value(&w->L->doc, map, i)), *last;
		size_t n;

		if (!var || !path || !is_secret_name(w, var, strlen(var)))
			continue;
		last = strrchr(path, '.');
		last = last ? last + 1 : path;
		n = strcspn(last, "[]'\" ");
		if (n) {
			char *field = xstrndup(last, n);

			redact_add_name(w->r, field);
			free(field);
		}
	}
}

static void walk(secret_walk *w, ynode *n, const char *key, int depth)
{
	size_t i;

	if (!n || depth > YDOC_MAX_DEPTH)
		return;
	if (w->pass == 1 && key && !strcmp(key, "extract") && ynode_is_map(n))
		secret_extracts(w, n);
	if (ynode_is_scalar(n)) {
		scan_scalar(w, key, ynode_str(n));
	} else if (ynode_is_map(n)) {
		for (i = 0; i < ymap_len(n); i++) {
			ynode *k = ymap_key(&w->L->doc, n, i);

			walk(w, ymap_value(&w->L->doc, n, i), ynode_str(k), depth + 1);
		}
	} else if (ynode_is_seq(n)) {
		for (i = 0; i < yseq_len(n); i++)
			walk(w, yseq_item(&w->L->doc, n, i), NULL, depth + 1);
	}
}

/* The secrets: list: names of environment variables or variables. */
static void secrets_list(secret_walk *w, const ynode *root)
{
	ynode *v = ymap_get(&w->L->doc, root, "secrets");
	size_t i;

	if (!v)
		return;
	if (!ynode_is_seq(v)) {
		err_at(w->L, v, "secrets: expected a list of names (environment variables or variables)");
		return;
	}
	for (i = 0; i < yseq_len(v); i++) {
		ynode *it = yseq_item(&w->L->doc, v, i);
		const char *s = ynode_str(it);
		size_t k;

		if (!s || !*s) {
			err_at(w->L, it, "secrets: expected a name, found %s", ynode_kind(it));
			continue;
		}
		for (k = 0; s[k]; k++)
			if (!(s[k] == '_' || s[k] == '-' || s[k] == '.' || (s[k] >= '0' && s[k] <= '9') ||
			      ((s[k] | 32) >= 'a' && (s[k] | 32) <= 'z')))
				break;
		if (s[k]) {
			err_at(w->L, it, "secrets: '%s' is not a name (an environment variable's or a variable's)", s);
			continue;
		}
		add_secret_name(w, s, strlen(s));
	}
}

/* Thresholds see the tags the registry keeps: a filter on url or name
 * matches the redacted value, and what the summary prints of it hides
 * secrets too. */
static void secret_thresholds(redact *r, run_config *cfg)
{
	uint32_t i, j;

	for (i = 0; i < cfg->nthresholds; i++) {
		met_threshold *t = &cfg->thresholds[i];
		char *s;

		for (j = 0; j < t->nfilter; j++) {
			int url = strpbrk(t->filter[j].value, "?@") != NULL;

			s = redact_strdup(r, t->filter[j].value, url);
			if (strcmp(s, t->filter[j].value)) {
				char *old = t->source;
				size_t at = strlen(old);
				const char *found = strstr(old, t->filter[j].value);

				/* The source as written, with the value replaced. */
				if (found) {
					size_t vl = strlen(t->filter[j].value), sl = strlen(s);

					t->source = xmalloc(at - vl + sl + 1);
					memcpy(t->source, old, (size_t)(found - old));
					memcpy(t->source + (found - old), s, sl);
					memcpy(t->source + (found - old) + sl, found + vl, at - (size_t)(found - old) - vl + 1);
					free(old);
				}
			}
			free((char *)t->filter[j].value);
			t->filter[j].value = s;
		}
		s = redact_strdup(r, t->source, 0);
		free(t->source);
		t->source = s;
	}
}

/* Does extraction e fill its variable from a credential: a cookie, or a
 * header that is one (Set-Cookie, Authorization, X-Auth-Token)? */
static int extract_is_secret(const flow_extract *e)
{
	return e->kind == EXT_COOKIE ||
	       (e->kind == EXT_HEADER && e->header && redact_header_secret(NULL, e->header, strlen(e->header)));
}

static void mark_extracts(run_scenario *sc, const run_request *rq)
{
	uint32_t i;

	for (i = 0; i < rq->nextracts; i++)
		if (extract_is_secret(&rq->extracts[i]) && rq->extracts[i].slot < sc->nvars)
			sc->var_secret[rq->extracts[i].slot] = 1;
}

static void mark_program(const run_config *cfg, run_scenario *sc, const flow_program *p)
{
	uint32_t i, j;

	for (i = 0; i < p->nops; i++) {
		const flow_op *op = &p->ops[i];

		if (op->kind == OP_REQUEST && op->arg < cfg->nreqs)
			mark_extracts(sc, &cfg->reqs[op->arg]);
		else if (op->kind == OP_PARALLEL && op->arg < cfg->nparallels)
			for (j = 0; j < cfg->parallels[op->arg].n; j++)
				mark_extracts(sc, &cfg->reqs[cfg->parallels[op->arg].reqs[j]]);
	}
}

/* Which variables of each module hold secrets, known only at run time
 * (--http-debug hides their values wherever they show): those listed as
 * secrets, those named like credentials (token, session_id), and those
 * filled from a cookie or a credential header. */
static void secret_vars(secret_walk *w, run_config *cfg)
{
	uint32_t i, k;

	for (i = 0; i < cfg->nscenarios; i++) {
		run_scenario *sc = &cfg->scenarios[i];

		if (!sc->nvars)
			continue;
		free(sc->var_secret);
		sc->var_secret = xcalloc(sc->nvars, 1);
		for (k = 0; k < sc->nvars; k++) {
			const char *name = sc->var_names[k];

			if (is_secret_name(w, name, strlen(name)) || redact_name_secret(NULL, name, strlen(name)))
				sc->var_secret[k] = 1;
		}
		mark_program(cfg, sc, &sc->setup);
		mark_program(cfg, sc, &sc->flow);
	}
}

void plan_secrets(loader *L, const ynode *root)
{
	secret_walk w;
	uint32_t i;
	const char *value;

	memset(&w, 0, sizeof(w));
	w.L = L;
	if (!L->cfg->secrets)
		L->cfg->secrets = redact_create();
	w.r = L->cfg->secrets;
	strmap_init(&w.names);
	if (ynode_is_map(root))
		secrets_list(&w, root);
	for (i = 0; i < L->opts->nsecrets; i++)
		add_secret_name(&w, L->opts->secrets[i], strlen(L->opts->secrets[i]));
	if (ynode_is_map(root)) {
		walk(&w, (ynode *)root, NULL, 0);
		w.pass = 1;
		walk(&w, (ynode *)root, NULL, 0);
	}
	for (i = 0; i < w.nown; i++)
		if (env_lookup(L, w.own[i], &value) == 0)
			redact_add_value(w.r, value);
	/* What the load wrote before the secrets were known. The position
	 * stays as it is: a secret that happens to occur in the plan's path
	 * (a literal "Authorization: plan") must not take away where the
	 * error is. */
	for (i = 0; i < L->errs->n; i++) {
		char *m = L->errs->msgs[i], *rest, *s;
		size_t keep = error_position_len(L, m);

		rest = redact_strdup(w.r, m + keep, 0);
		s = xmalloc(keep + strlen(rest) + 1);
		memcpy(s, m, keep);
		strcpy(s + keep, rest);
		free(rest);
		free(m);
		L->errs->msgs[i] = s;
	}
	if (L->cfg->target) {
		char *s = redact_strdup(w.r, L->cfg->target, 1);

		free(L->cfg->target);
		L->cfg->target = s;
	}
	secret_thresholds(w.r, L->cfg);
	/* Marks for run time, over compiled programs: none when the load failed. */
	if (!L->errs->n)
		secret_vars(&w, L->cfg);
	for (i = 0; i < w.nown; i++)
		free(w.own[i]);
	free(w.own);
	strmap_free(&w.names);
}
