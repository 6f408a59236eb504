/* A request's checks and extractions: regular expressions (PCRE2, JIT) and
 * JSON paths compiled at load. */
#include "plan/loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_REQ_CHECKS 64

static pcre2_code *compile_regex(loader *L, const ynode *n, const char *re)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &off, NULL);

	if (!c) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		err_at(L, n, "regular expression '%s': %s at offset %zu", re, (char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
	return c;
}

static int compile_path(loader *L, const ynode *n, const char *src, jsonpath *p)
{
	char err[256];
	size_t pos = 0;

	if (jsonpath_compile(src, p, err, sizeof(err), &pos) < 0) {
		err_at(L, n, "JSON path '%s': %s (at offset %zu; supported: $.a.b[0], $['key'], [-1])", src, err, pos);
		return -1;
	}
	return 0;
}

static const char *const extract_keys[] = {"json", "regex", "group", "header", "status", "cookie", NULL};

int compile_extracts(loader *L, run_request *r, const ynode *ex)
{
	size_t i, n = ymap_len(ex);
	int bad = 0;

	if (!ynode_is_map(ex)) {
		err_at(L, ex, "extract: expected a mapping of VARIABLE: $.json.path (or {regex: ...}, {header: ...}, {status: true})");
		return -1;
	}
	if (check_dups(L, ex, "extract") < 0)
		return -1;
	r->extracts = xcalloc(n + 1, sizeof(flow_extract));
	for (i = 0; i < n; i++) {
		ynode *k = ymap_key(&L->doc, ex, i), *v = ymap_value(&L->doc, ex, i);
		const char *name = ynode_str(k);
		flow_extract *e = &r->extracts[r->nextracts];
		const char *s;

		/* The slot may hold what a failed entry compiled before failing. */
		flow_extract_free(e);
		if (!name || !*name || strpbrk(name, " .{}")) {
			err_at(L, k, "extract: variable names are words without spaces, dots or braces");
			bad = 1;
			continue;
		}
		/* Every VU holds a buffer per variable: the count is bounded. */
		if (var_lookup(L, name, &e->slot) < 0 && L->sc->nvars >= MAX_VARS) {
			err_at(L, k, "extract %s: a module has at most %d variables", name, MAX_VARS);
			bad = 1;
			continue;
		}
		e->slot = var_slot(L, name);
		if (ynode_is_scalar(v)) {
			s = ynode_str(v);
			if (s[0] != '$') {
				err_at(L, v, "extract %s: a bare value must be a JSON path starting with $; use {regex: ...}, {header: ...} or {status: true} otherwise",
				       name);
				bad = 1;
				continue;
			}
			e->kind = EXT_JSON;
			if (compile_path(L, v, s, &e->path) < 0) {
				bad = 1;
				continue;
			}
		} else if (ynode_is_map(v)) {
			ynode *j = ymap_get(&L->doc, v, "json"), *re = ymap_get(&L->doc, v, "regex");
			ynode *h = ymap_get(&L->doc, v, "header"), *st = ymap_get(&L->doc, v, "status");
			ynode *g = ymap_get(&L->doc, v, "group"), *ck = ymap_get(&L->doc, v, "cookie");

			if (check_keys(L, v, extract_keys, "an extraction") < 0) {
				bad = 1;
				continue;
			}
			if (g && !re) {
				err_at(L, g, "extract %s: 'group' belongs with 'regex'", name);
				bad = 1;
				continue;
			}
			if (!!j + !!re + !!h + !!st + !!ck != 1) {
				err_at(L, v, "extract %s: give exactly one of json, regex, header, status, cookie", name);
				bad = 1;
				continue;
			}
			if (j) {
				e->kind = EXT_JSON;
				s = get_str(L, j, "json");
				if (!s || compile_path(L, j, s, &e->path) < 0) {
					bad = 1;
					continue;
				}
			} else if (re) {
				uint64_t grp = 1;
				uint32_t caps = 0;

				e->kind = EXT_REGEX;
				s = get_str(L, re, "regex");
				e->re = s ? compile_regex(L, re, s) : NULL;
				if (!e->re) {
					bad = 1;
					continue;
				}
				pcre2_pattern_info(e->re, PCRE2_INFO_CAPTURECOUNT, &caps);
				if (!caps)
					grp = 0;
				if (g && get_u64(L, g, "group", 0, caps, &grp) < 0) {
					bad = 1;
					continue;
				}
				e->group = (uint32_t)grp;
			} else if (h) {
				e->kind = EXT_HEADER;
				s = get_str(L, h, "header");
				if (!s) {
					bad = 1;
					continue;
				}
				e->header = xstrdup(s);
			} else if (ck) {
				/* The jar's cookie for the final URL, once the response
				 * (and every redirect before it) was stored. */
				e->kind = EXT_COOKIE;
				s = get_str(L, ck, "cookie");
				if (!s || !*s) {
					bad = 1;
					continue;
				}
				e->header = xstrdup(s);
			} else {
				e->kind = EXT_STATUS;
			}
		} else {
			err_at(L, v, "extract %s: expected a JSON path or a mapping", name);
			bad = 1;
			continue;
		}
		r->nextracts++;
		if (e->kind == EXT_JSON || e->kind == EXT_REGEX)
			r->needs_body = 1;
	}
	flow_extract_free(&r->extracts[r->nextracts]);
	return bad ? -1 : 0;
}

static const char *const check_keys_allowed[] = {"status", "body_contains", "body_matches", "json", "json_exists",
						 "header", "cookie", "max_duration", NULL};

static flow_check *new_check(loader *L, run_request *r, flow_check_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static flow_check *new_check(loader *L, run_request *r, flow_check_kind kind, const char *fmt, ...)
{
	flow_check *c;
	char label[512];
	size_t n;
	va_list ap;

	if (r->nchecks == MAX_REQ_CHECKS) {
		err_at(L, NULL, "request %s: more than %d checks", r->name, MAX_REQ_CHECKS);
		return NULL;
	}
	r->checks = xrealloc(r->checks, (r->nchecks + 1) * sizeof(*r->checks));
	c = &r->checks[r->nchecks++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	n = (size_t)snprintf(label, sizeof(label), "%s: ", r->name);
	va_start(ap, fmt);
	vsnprintf(label + (n < sizeof(label) ? n : sizeof(label) - 1), sizeof(label) - (n < sizeof(label) ? n : sizeof(label) - 1), fmt, ap);
	va_end(ap);
	c->name = xstrdup(label);
	return c;
}

int compile_checks(loader *L, run_request *r, const ynode *ch)
{
	size_t i;
	ynode *v;
	int bad = 0;
	flow_check *c;

	if (!ynode_is_map(ch)) {
		err_at(L, ch, "check: expected a mapping (status, body_contains, body_matches, json, json_exists, header, cookie, max_duration)");
		return -1;
	}
	if (check_keys(L, ch, check_keys_allowed, "check") < 0)
		return -1;
	v = ymap_get(&L->doc, ch, "status");
	if (v) {
		status_set ss;

		if (get_status_set(L, v, "check status", &ss) < 0) {
			bad = 1;
		} else {
			char list[160];
			size_t ln = 0;
			uint32_t k;

			/* The name spells the statuses out: "status in 200,204-206". */
			list[0] = '\0';
			for (k = 0; k < ss.n && ln + 16 < sizeof(list); k++)
				ln += (size_t)snprintf(list + ln, sizeof(list) - ln, ss.r[k].lo == ss.r[k].hi ? "%s%d" : "%s%d-%d",
						       k ? "," : "", ss.r[k].lo, ss.r[k].hi);
			c = new_check(L, r, CHK_STATUS, "status %s%s", ss.n == 1 && ss.r[0].lo == ss.r[0].hi ? "is " : "in ",
				      list);
			if (c)
				c->status = ss;
		}
	}
	v = ymap_get(&L->doc, ch, "body_contains");
	if (v) {
		const char *s = get_text(L, v, "body_contains");

		c = s ? new_check(L, r, CHK_BODY_CONTAINS, "body contains '%s'", s) : NULL;
		if (!s)
			bad = 1;
		else if (c)
			c->text = xstrdup(s), r->needs_body = 1;
	}
	v = ymap_get(&L->doc, ch, "body_matches");
	if (v) {
		const char *s = get_str(L, v, "body_matches");
		pcre2_code *re = s ? compile_regex(L, v, s) : NULL;

		c = re ? new_check(L, r, CHK_BODY_MATCHES, "body matches /%s/", s) : NULL;
		if (!re)
			bad = 1;
		else if (c)
			c->re = re, r->needs_body = 1;
		else
			pcre2_code_free(re);
	}
	v = ymap_get(&L->doc, ch, "json");
	if (v) {
		if (!ynode_is_map(v)) {
			err_at(L, v, "check json: expected a mapping of $.path: expected value");
			bad = 1;
		}
		for (i = 0; i < ymap_len(v); i++) {
			ynode *k = ymap_key(&L->doc, v, i), *val = ymap_value(&L->doc, v, i);
			const char *path = ynode_str(k);
			tmpl lit;
			jsonpath jp = {0};

			if (!path || compile_path(L, k, path, &jp) < 0) {
				bad = 1;
				continue;
			}
			tmpl_init(&lit);
			if (json_from_yaml(L, val, &lit, 0) < 0 || !tmpl_static(&lit)) {
				if (tmpl_static(&lit))
					;
				else
					err_at(L, val, "check json: expected values are literals, not templates");
				bad = 1;
				jsonpath_free(&jp);
				tmpl_free(&lit);
				continue;
			}
			c = new_check(L, r, CHK_JSON_EQUALS, "%s == %s", path, lit.text ? lit.text : "");
			if (c) {
				c->path = jp;
				c->text = xstrdup(lit.text ? lit.text : "");
				r->needs_body = 1;
			} else {
				jsonpath_free(&jp);
			}
			tmpl_free(&lit);
		}
	}
	v = ymap_get(&L->doc, ch, "json_exists");
	if (v) {
		size_t cnt = ynode_is_seq(v) ? yseq_len(v) : 1;

		for (i = 0; i < cnt; i++) {
			ynode *it = ynode_is_seq(v) ? yseq_item(&L->doc, v, i) : v;
			const char *path = get_str(L, it, "json_exists");
			jsonpath jp = {0};

			if (!path || compile_path(L, it, path, &jp) < 0) {
				bad = 1;
				continue;
			}
			c = new_check(L, r, CHK_JSON_EXISTS, "%s exists", path);
			if (c)
				c->path = jp, r->needs_body = 1;
			else
				jsonpath_free(&jp);
		}
	}
	v = ymap_get(&L->doc, ch, "header");
	if (v) {
		if (!ynode_is_map(v)) {
			err_at(L, v, "check header: expected a mapping of Name: value");
			bad = 1;
		}
		for (i = 0; i < ymap_len(v); i++) {
			const char *hn = ynode_str(ymap_key(&L->doc, v, i));
			const char *hv = get_text(L, ymap_value(&L->doc, v, i), "check header");

			if (!hn || !hv) {
				bad = 1;
				continue;
			}
			c = new_check(L, r, CHK_HEADER_EQUALS, "header %s == %s", hn, hv);
			if (c) {
				c->header = xstrdup(hn);
				c->text = xstrdup(hv);
			}
		}
	}
	v = ymap_get(&L->doc, ch, "cookie");
	if (v) {
		if (!ynode_is_map(v)) {
			err_at(L, v, "check cookie: expected a mapping of name: value");
			bad = 1;
		}
		for (i = 0; i < ymap_len(v); i++) {
			const char *cn = ynode_str(ymap_key(&L->doc, v, i));
			const char *cv = get_text(L, ymap_value(&L->doc, v, i), "check cookie");

			if (!cn || !cv) {
				bad = 1;
				continue;
			}
			c = new_check(L, r, CHK_COOKIE_EQUALS, "cookie %s == %s", cn, cv);
			if (c) {
				c->header = xstrdup(cn);
				c->text = xstrdup(cv);
			}
		}
	}
	v = ymap_get(&L->doc, ch, "max_duration");
	if (v) {
		uint64_t ns;

		if (get_duration(L, v, "max_duration", &ns) < 0) {
			bad = 1;
		} else {
			c = new_check(L, r, CHK_MAX_DURATION, "duration <= %s", scalar_text(L, v));
			if (c)
				c->max_ns = ns;
		}
	}
	return bad ? -1 : 0;
}
