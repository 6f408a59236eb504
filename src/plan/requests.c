/* Request steps: method and URL (a path on the target or a full URL),
 * query, headers (the defaults' merged in), the body (json from YAML,
 * body, form, file) and the request's options. */
#include "plan/loader.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/coding.h"
#include "http/request.h"
#include "program/request.h"

const char *const request_methods[] = {"get", "post", "put", "patch", "delete", "head", "options", NULL};

static const char *const request_keys[] = {"get",  "post",   "put",     "patch", "delete", "head",   "options", "name",
					   "headers", "query", "json", "body", "form", "file", "timeout", "expect",
					   "extract", "check", "compression", "max_requests_per_connection",
					   "max_connection_age", "cookies", "max_redirects", NULL};

/* Is s a number exactly as JSON spells it? (YAML's 007, 1. or .inf are
 * not, so they are sent as strings rather than as invalid JSON.) */
static int json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* YAML value -> JSON text template. Strings become JSON strings whose
 * templates expand JSON-escaped; a string that is exactly one numeric
 * template ("{{rand_int 1 9}}") becomes a number. */
int json_from_yaml(loader *L, const ynode *n, tmpl *t, int depth)
{
	size_t i;

	if (depth > 64) {
		err_at(L, n, "json: nested too deeply");
		return -1;
	}
	if (ynode_is_map(n)) {
		tmpl_lit(t, "{", 1);
		for (i = 0; i < ymap_len(n); i++) {
			ynode *k = ymap_key(&L->doc, n, i);
			const char *ks = ynode_str(k);

			if (!ks) {
				err_at(L, k, "json: object keys must be text");
				return -1;
			}
			if (i)
				tmpl_lit(t, ",", 1);
			tmpl_lit(t, "\"", 1);
			if (compile_tmpl(L, k, ks, t, TESC_JSON) < 0)
				return -1;
			tmpl_lit(t, "\":", 2);
			if (json_from_yaml(L, ymap_value(&L->doc, n, i), t, depth + 1) < 0)
				return -1;
		}
		tmpl_lit(t, "}", 1);
		return 0;
	}
	if (ynode_is_seq(n)) {
		tmpl_lit(t, "[", 1);
		for (i = 0; i < yseq_len(n); i++) {
			if (i)
				tmpl_lit(t, ",", 1);
			if (json_from_yaml(L, yseq_item(&L->doc, n, i), t, depth + 1) < 0)
				return -1;
		}
		tmpl_lit(t, "]", 1);
		return 0;
	}
	{
		const char *s = ynode_str(n);
		char *end;

		if (ynode_is_null(n)) {
			tmpl_lit(t, "null", 4);
			return 0;
		}
		if (!ynode_quoted(n)) {
			if (!strcmp(s, "true") || !strcmp(s, "false")) {
				tmpl_lit(t, s, strlen(s));
				return 0;
			}
			(void)end;
			if (json_number(s)) {
				tmpl_lit(t, s, strlen(s));
				return 0;
			}
		} else {
			tmpl one;

			tmpl_init(&one);
			if (compile_tmpl(L, n, s, &one, TESC_JSON) < 0) {
				tmpl_free(&one);
				return -1;
			}
			if (tmpl_is_numeric(&one)) {
				tmpl_free(&one);
				return compile_tmpl(L, n, s, t, TESC_NONE);
			}
			tmpl_free(&one);
		}
		tmpl_lit(t, "\"", 1);
		if (compile_tmpl(L, n, s, t, TESC_JSON) < 0)
			return -1;
		tmpl_lit(t, "\"", 1);
	}
	return 0;
}

static int header_given(loader *L, const ynode *headers, const char *name)
{
	size_t i;

	for (i = 0; i < ymap_len(headers); i++) {
		const char *k = ynode_str(ymap_key(&L->doc, headers, i));

		if (k && !strcasecmp(k, name))
			return 1;
	}
	return 0;
}

/* Adds headers to the request: every header is a template (TESC_HEADER),
 * whether it varies per request or uses only the environment. skip: the
 * request's own headers, which override defaults of the same name. */
static int add_headers(loader *L, run_request *r, const ynode *headers, const ynode *skip)
{
	size_t i;
	int bad = 0;

	if (!headers)
		return 0;
	if (!ynode_is_map(headers)) {
		err_at(L, headers, "headers: expected a mapping of Name: value");
		return -1;
	}
	if (!skip && check_dups(L, headers, "headers") < 0)
		return -1;
	for (i = 0; i < ymap_len(headers); i++) {
		ynode *k = ymap_key(&L->doc, headers, i), *v = ymap_value(&L->doc, headers, i);
		const char *ks = ynode_str(k), *vs = ynode_str(v);
		tmpl val;

		if (skip && ks && header_given(L, skip, ks))
			continue; /* the request's own header overrides the default */
		if (!ks || !http_field_name_ok(ks, strlen(ks))) {
			err_at(L, k, "header names are tokens (letters, digits, !#$%%&'*+-.^_`|~), without spaces, "
				     "colons or templates");
			bad = 1;
			continue;
		}
		if (!vs) {
			err_at(L, v, "header %s: expected a one-line text value", ks);
			bad = 1;
			continue;
		}
		tmpl_init(&val);
		if (compile_tmpl(L, v, vs, &val, TESC_HEADER) < 0) {
			tmpl_free(&val);
			bad = 1;
			continue;
		}
		run_request_add_header(r, ks, strlen(ks), &val);
	}
	return bad ? -1 : 0;
}

/* RFC 6265 4.1.1's cookie-octet: what a literal cookie value may hold. */
static int cookie_value_ok(const char *v)
{
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
			return 0;
	}
	return 1;
}

/* cookies: NAME: value (k6's params.cookies): sent with this request only,
 * never stored in the jar. They become the request's Cookie header — one
 * template, so a value may hold {{...}} — and the jar's matching cookies
 * join it when it is written (http/request.h). */
static int add_cookies(loader *L, run_request *r, const ynode *step)
{
	const ynode *cs = ymap_get(&L->doc, step, "cookies");
	buf src;
	size_t i;
	int bad = 0;
	tmpl val;

	if (!cs)
		return 0;
	if (!ynode_is_map(cs)) {
		err_at(L, cs, "cookies: expected a mapping of name: value");
		return -1;
	}
	if (check_dups(L, cs, "cookies") < 0)
		return -1;
	if (header_given(L, ymap_get(&L->doc, step, "headers"), "cookie") ||
	    header_given(L, L->def_headers, "cookie")) {
		err_at(L, cs, "cookies: the request also has a Cookie header; give its cookies in one place");
		return -1;
	}
	buf_init(&src, 64, 1 << 20);
	for (i = 0; i < ymap_len(cs); i++) {
		const ynode *k = ymap_key(&L->doc, cs, i), *v = ymap_value(&L->doc, cs, i);
		const char *ks = ynode_str(k), *vs = ynode_str(v);

		if (!ks || !http_field_name_ok(ks, strlen(ks))) {
			err_at(L, k, "cookies: a cookie name is a token (letters, digits, !#$%%&'*+-.^_`|~)");
			bad = 1;
			continue;
		}
		if (!vs || (!strstr(vs, "{{") && !cookie_value_ok(vs))) {
			err_at(L, v, "cookies %s: expected a value without spaces, quotes, commas, semicolons or "
				     "backslashes (RFC 6265 cookie-octets)", ks);
			bad = 1;
			continue;
		}
		if (src.len)
			buf_append(&src, "; ", 2);
		buf_appends(&src, ks);
		buf_append(&src, "=", 1);
		buf_appends(&src, vs);
	}
	if (!bad && src.len) {
		buf_append(&src, "", 1);
		tmpl_init(&val);
		if (compile_tmpl(L, cs, src.data, &val, TESC_HEADER) < 0) {
			tmpl_free(&val);
			bad = 1;
		} else {
			run_request_add_header(r, "Cookie", 6, &val);
		}
	}
	buf_free(&src);
	return bad ? -1 : 0;
}

/* The path and query of a URL as written: a fragment is never sent; the
 * path's literal text is normalised and its templates expand
 * path-encoded, the query's expand as query values (TESC_PATH,
 * TESC_QUERY). An empty path is "/". */
/* Where the first of the bytes in stops is in s, outside any {{...}} (a '?'
 * or '#' inside a template is its text, not the URL's separator). */
static size_t outside_templates(const char *s, const char *stops)
{
	size_t i = 0;

	while (s[i]) {
		if (s[i] == '{' && s[i + 1] == '{') {
			const char *close = strstr(s + i + 2, "}}");

			if (!close)
				break; /* the template compiler names the unclosed one */
			i = (size_t)(close - s) + 2;
			continue;
		}
		if (strchr(stops, s[i]))
			return i;
		i++;
	}
	return i + strlen(s + i);
}

static int compile_target(loader *L, const ynode *n, const char *path, tmpl *t)
{
	size_t len = outside_templates(path, "#"), q = outside_templates(path, "?");
	char *p = xstrndup(path, len);
	int rc = 0;

	if (!len || path[0] == '?')
		tmpl_lit(t, "/", 1);
	if (q < len) {
		p[q] = '\0';
		rc = compile_tmpl(L, n, p, t, TESC_PATH);
		p[q] = '?';
		if (rc == 0)
			rc = compile_tmpl(L, n, p + q, t, TESC_QUERY);
	} else {
		rc = compile_tmpl(L, n, p, t, TESC_PATH);
	}
	free(p);
	return rc;
}

/* Which method the step names, and the node of its URL. Returns 0, or -1
 * when it names two. */
static int request_method(loader *L, const ynode *step, const char **method, const ynode **url_node)
{
	const ynode *v;
	size_t i;

	for (i = 0; request_methods[i]; i++) {
		v = ymap_get(&L->doc, step, request_methods[i]);
		if (!v)
			continue;
		if (*method) {
			err_at(L, v, "a step makes one request: both %s and %s given", *method, request_methods[i]);
			return -1;
		}
		*method = request_methods[i];
		*url_node = v;
	}
	return 0;
}

/* query: a mapping appended to the target's query, its names and values
 * URL-encoded. path: the URL's path as written (its own query decides
 * whether the first separator is ? or &). Returns 0 or -1. */
static int request_query(loader *L, run_request *r, const ynode *step, const char *path)
{
	const ynode *v = ymap_get(&L->doc, step, "query");
	int first, bad = 0;
	size_t i;

	if (!v)
		return 0;
	first = outside_templates(path, "?") >= outside_templates(path, "#");
	if (!ynode_is_map(v)) {
		err_at(L, v, "query: expected a mapping of name: value");
		bad = 1;
	} else if (check_dups(L, v, "query") < 0) {
		bad = 1;
	}
	for (i = 0; i < ymap_len(v); i++) {
		ynode *k = ymap_key(&L->doc, v, i), *qv = ymap_value(&L->doc, v, i);
		const char *ks = ynode_str(k), *vs = ynode_str(qv);

		if (!ks || !vs) {
			err_at(L, qv, "query: expected text values");
			bad = 1;
			continue;
		}
		tmpl_lit(&r->target, first ? "?" : "&", 1);
		first = 0;
		if (compile_tmpl(L, k, ks, &r->target, TESC_URL) < 0)
			bad = 1;
		tmpl_lit(&r->target, "=", 1);
		if (compile_tmpl(L, qv, vs, &r->target, TESC_URL) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

/* Where it goes: a path on the plan's target, or a full URL whose
 * scheme, host and port are fixed (connections depend on them). Returns
 * -1 when the URL is unusable; *bad is set when only its templates or
 * query failed. */
static int request_target(loader *L, run_request *r, const ynode *step, const char *url, const ynode *url_node,
			  const char *method, int *bad)
{
	const char *path = url;
	char origin[512], err[512];

	if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
		const char *p = url + (url[4] == 's' ? 8 : 7);
		size_t olen = strcspn(p, "/?#") + (size_t)(p - url);

		if (olen >= sizeof(origin) || memchr(url, '{', olen)) {
			err_at(L, url_node, "%s: templates are allowed in the path and query, not in the scheme or host", method);
			return -1;
		}
		memcpy(origin, url, olen);
		origin[olen] = '\0';
		path = url + olen;
		if (http_url_parse(origin, &r->url, err, sizeof(err)) < 0) {
			err_at(L, url_node, "%s: %s", method, err);
			return -1;
		}
	} else if (url[0] == '/' || url[0] == '?') {
		if (!L->have_target) {
			err_at(L, url_node, "%s: '%s' is a path, but the plan has no 'target'", method, url);
			return -1;
		}
		snprintf(origin, sizeof(origin), "%s://%s", L->target.scheme, L->target.authority);
		if (http_url_parse(origin, &r->url, err, sizeof(err)) < 0) {
			err_at(L, url_node, "%s", err);
			return -1;
		}
	} else {
		err_at(L, url_node, "%s: expected a path starting with / or a full http:// URL, found '%s'", method, url);
		return -1;
	}
	r->tls = strcmp(r->url.scheme, "https") == 0;
	if (compile_target(L, url_node, path, &r->target) < 0)
		*bad = 1;
	r->url_str = xmalloc(strlen(origin) + strlen(path) + 2);
	snprintf(r->url_str, strlen(origin) + strlen(path) + 2, "%s%s", origin, *path ? path : "/");
	if (request_query(L, r, step, path) < 0)
		*bad = 1;
	return 0;
}

/* form: field: value pairs, URL-encoded into the body. Returns 0 or -1. */
static int body_form(loader *L, run_request *r, const ynode *f)
{
	size_t i;
	int bad = 0;

	if (!ynode_is_map(f)) {
		err_at(L, f, "form: expected a mapping of field: value");
		bad = 1;
	}
	for (i = 0; i < ymap_len(f); i++) {
		const char *ks = ynode_str(ymap_key(&L->doc, f, i)), *vs = ynode_str(ymap_value(&L->doc, f, i));

		if (!ks || !vs) {
			err_at(L, ymap_value(&L->doc, f, i), "form: expected text values");
			bad = 1;
			continue;
		}
		if (i)
			tmpl_lit(&r->body, "&", 1);
		compile_tmpl(L, ymap_key(&L->doc, f, i), ks, &r->body, TESC_URL);
		tmpl_lit(&r->body, "=", 1);
		if (compile_tmpl(L, ymap_value(&L->doc, f, i), vs, &r->body, TESC_URL) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

/* file: a file beside the plan, read now and sent as it is. Returns 0 or
 * -1. */
static int body_file(loader *L, run_request *r, const ynode *n)
{
	const char *file = get_str(L, n, "file");
	char *path, chunk[65536];
	FILE *fp;
	size_t len, got;
	int rc = 0;

	if (!file)
		return -1;
	len = strlen(L->dir) + strlen(file) + 2;
	path = xmalloc(len);
	snprintf(path, len, "%s/%s", L->dir, file);
	fp = fopen(file[0] == '/' ? file : path, "rb");
	if (!fp) {
		err_at(L, n, "file '%s': %s", file, strerror(errno));
		rc = -1;
		goto out;
	}
	for (;;) {
		got = fread(chunk, 1, sizeof(chunk), fp);
		if (!got)
			break;
		tmpl_lit(&r->body, chunk, got);
	}
	fclose(fp);
out:
	free(path);
	return rc;
}

/* Body: one of json, body, form, file, with the Content-Type it implies
 * unless the request or the defaults give one. *has_body: whether the
 * request frames a body (POST, PUT and PATCH always do). Returns 0 or -1. */
static int request_body(loader *L, run_request *r, const ynode *step, const char *methodu, int *has_body)
{
	static const char *const kinds[] = {"json", "body", "form", "file"};
	const ynode *body_nodes[4];
	const char *ctype = NULL, *s;
	int which = -1, nb = 0, bad = 0;
	size_t i;

	for (i = 0; i < 4; i++) {
		body_nodes[i] = ymap_get(&L->doc, step, kinds[i]);
		if (body_nodes[i]) {
			nb++;
			which = (int)i;
		}
	}
	if (nb > 1) {
		err_at(L, step, "give one body: json, body, form or file");
		bad = 1;
	} else if (which == 0) {
		ctype = "application/json";
		if (json_from_yaml(L, body_nodes[0], &r->body, 0) < 0)
			bad = 1;
	} else if (which == 1) {
		s = get_str(L, body_nodes[1], "body");
		if (!s || compile_tmpl(L, body_nodes[1], s, &r->body, TESC_NONE) < 0)
			bad = 1;
	} else if (which == 2) {
		ctype = "application/x-www-form-urlencoded";
		if (body_form(L, r, body_nodes[2]) < 0)
			bad = 1;
	} else if (which == 3) {
		if (body_file(L, r, body_nodes[3]) < 0)
			bad = 1;
	}
	*has_body = which >= 0 || !strcmp(methodu, "POST") || !strcmp(methodu, "PUT") || !strcmp(methodu, "PATCH");
	if (ctype && !header_given(L, ymap_get(&L->doc, step, "headers"), "content-type") &&
	    !header_given(L, L->def_headers, "content-type")) {
		tmpl ct;

		tmpl_init(&ct);
		tmpl_lit(&ct, ctype, strlen(ctype));
		run_request_add_header(r, "Content-Type", 12, &ct);
	}
	return bad ? -1 : 0;
}

int get_connection_options(loader *L, const ynode *map, int *compression, uint64_t *max_reqs, uint64_t *max_age)
{
	const ynode *v = ymap_get(&L->doc, map, "compression");
	int bad = 0;

	if (v) {
		const char *s = get_str(L, v, "compression");
		int c = s ? http_coding_from_name(s) : -1;

		if (s && c < 0 && strcmp(s, "none") != 0) {
			err_at(L, v, "compression: '%s' is not one of gzip, deflate, br, zstd or none", s);
			bad = 1;
		} else if (s) {
			*compression = c < 0 ? 0 : c;
		} else {
			bad = 1;
		}
	}
	v = ymap_get(&L->doc, map, "max_requests_per_connection");
	if (v && get_u64(L, v, "max_requests_per_connection", 0, UINT32_MAX, max_reqs) < 0)
		bad = 1;
	v = ymap_get(&L->doc, map, "max_connection_age");
	if (v && get_duration(L, v, "max_connection_age", max_age) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

/* The request's connection options, or the defaults'; and the body
 * checks discard_response_bodies forbids. Returns 0 or -1. */
static int request_connection(loader *L, run_request *r, const ynode *step)
{
	uint64_t max_reqs = L->def_max_reqs, max_age = L->def_max_age;
	int compression = L->def_compression;
	const ynode *v;

	if (get_connection_options(L, step, &compression, &max_reqs, &max_age) < 0)
		return -1;
	r->compression = compression;
	if (compression) {
		tmpl ce;

		if (header_given(L, ymap_get(&L->doc, step, "headers"), "content-encoding") ||
		    header_given(L, L->def_headers, "content-encoding")) {
			err_at(L, ymap_get(&L->doc, step, "compression") ? ymap_get(&L->doc, step, "compression") : step,
			       "compression: strain sets Content-Encoding from it; remove the Content-Encoding header");
			return -1;
		}
		tmpl_init(&ce);
		tmpl_lit(&ce, http_coding_name(compression), strlen(http_coding_name(compression)));
		run_request_add_header(r, "Content-Encoding", 16, &ce);
	}
	r->max_reqs = (uint32_t)max_reqs;
	r->max_age_ns = max_age;
	if (L->cfg->discard_bodies && r->needs_body) {
		/* k6 would judge a null body; strain says so before the run. */
		v = ymap_get(&L->doc, step, "check");
		if (!v)
			v = ymap_get(&L->doc, step, "extract");
		err_at(L, v ? v : step, "this request reads the response body (a body check or extraction), but "
					"discard_response_bodies is on: remove one or the other");
		return -1;
	}
	return 0;
}

/* timeout, expect (or the defaults'), extract and check. Returns 0 or -1. */
static int request_options(loader *L, run_request *r, const ynode *step)
{
	const ynode *v;
	int bad = 0;

	v = ymap_get(&L->doc, step, "timeout");
	if (v && get_duration(L, v, "timeout", &r->timeout_ns) < 0)
		bad = 1;
	if (!r->timeout_ns)
		r->timeout_ns = L->def_timeout;
	v = ymap_get(&L->doc, step, "expect");
	if (v) {
		if (get_status_set(L, v, "expect", &r->expect) < 0)
			bad = 1;
	} else {
		r->expect = L->def_expect;
	}
	r->max_redirects = -1;
	v = ymap_get(&L->doc, step, "max_redirects");
	if (v) {
		uint64_t n;

		if (get_u64(L, v, "max_redirects", 0, 1000, &n) < 0)
			bad = 1;
		else
			r->max_redirects = (int)n;
	}
	v = ymap_get(&L->doc, step, "extract");
	if (v && compile_extracts(L, r, v) < 0)
		bad = 1;
	v = ymap_get(&L->doc, step, "check");
	if (v && compile_checks(L, r, v) < 0)
		bad = 1;
	return bad ? -1 : 0;
}

/* Compiles one request step into cfg->reqs; returns its index or -1. */
int compile_request(loader *L, const ynode *step)
{
	run_config *cfg = L->cfg;
	run_request *r;
	const char *method = NULL, *url, *s;
	const ynode *url_node = NULL, *v;
	char err[512], methodu[16];
	int bad = 0, has_body = 0;
	size_t i;
	uint32_t idx;

	if (request_method(L, step, &method, &url_node) < 0)
		return -1;
	url = get_str(L, url_node, method);
	if (!url)
		return -1;
	if (check_keys(L, step, request_keys, "a request step") < 0)
		bad = 1;
	cfg->reqs = grow(cfg->reqs, cfg->nreqs, &L->caps[CAP_REQS], sizeof(run_request));
	L->req_steps = grow(L->req_steps, cfg->nreqs, &L->caps[CAP_REQ_STEPS], sizeof(*L->req_steps));
	L->req_steps[cfg->nreqs] = step;
	idx = cfg->nreqs++;
	r = &cfg->reqs[idx];
	memset(r, 0, sizeof(*r));
	for (i = 0; method[i] && i < sizeof(methodu) - 1; i++)
		methodu[i] = (char)toupper((unsigned char)method[i]);
	methodu[i] = '\0';
	r->method = xstrdup(methodu);
	r->head_method = !strcmp(methodu, "HEAD");
	r->group = xstrdup(L->group_path ? L->group_path : "");
	tmpl_init(&r->target);
	tmpl_init(&r->body);
	buf_init(&r->wire, 0, 64 * 1024 * 1024);
	if (request_target(L, r, step, url, url_node, method, &bad) < 0)
		return -1;
	v = ymap_get(&L->doc, step, "name");
	s = v ? get_str(L, v, "name") : NULL;
	if (s)
		r->name = xstrdup(s), r->named = 1;
	else
		r->name = xstrdup(url);
	if (add_headers(L, r, L->def_headers, ymap_get(&L->doc, step, "headers")) < 0 ||
	    add_headers(L, r, ymap_get(&L->doc, step, "headers"), NULL) < 0 || add_cookies(L, r, step) < 0)
		bad = 1;
	if (request_body(L, r, step, methodu, &has_body) < 0)
		bad = 1;
	if (request_options(L, r, step) < 0)
		bad = 1;
	if (!bad && request_connection(L, r, step) < 0)
		bad = 1;
	if (bad)
		return -1;
	r->user_agent = L->cfg->user_agent;
	if (run_request_finish(r, has_body, L->cfg->no_reuse, err, sizeof(err)) < 0) {
		err_at(L, step, "%s", err);
		return -1;
	}
	return (int)idx;
}
