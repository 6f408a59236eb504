#include "program/request.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/version.h"

/* Request bodies and heads larger than this are refused. */
#define WIRE_MAX (64u * 1024 * 1024 + 65536)

static const char default_user_agent[] = "strain/" STRAIN_VERSION;

void run_request_add_header(run_request *r, const char *name, size_t name_len, tmpl *value)
{
	run_header *h;

	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
	h = &r->headers[r->nheaders++];
	h->name = xstrndup(name, name_len);
	h->value = *value;
	tmpl_init(value);
}

/* Does a Connection value list the "close" option? */
static int connection_close(const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t start, end;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == 5 && !strncasecmp(v + start, "close", 5))
			return 1;
	}
	return 0;
}

/* The text of a template that has no dynamic part. */
static void static_text(const tmpl *t, buf *out)
{
	tmpl_ctx c = {0};

	buf_reset(out);
	tmpl_expand(t, &c, out);
}

static void describe(const run_request *r, http_request *q, const http_field *fields, const char *target,
		     size_t target_len, const char *body, size_t body_len)
{
	q->method = r->method;
	q->target = target;
	q->target_len = target_len;
	/* Through an HTTP proxy, an http:// request names its origin in the
	 * request line and carries the proxy's credentials; an https:// one
	 * goes through a CONNECT tunnel and is written as to the origin. */
	q->origin = r->proxy && !r->tls ? r->origin : NULL;
	q->proxy_auth = r->proxy && !r->tls ? r->proxy->auth : NULL;
	q->authority = r->url.authority;
	/* --user-agent replaces strain's default; "" sends none (as k6). A
	 * User-Agent header of the request's own still wins over both. */
	q->user_agent = !r->user_agent ? default_user_agent : r->user_agent[0] ? r->user_agent : NULL;
	q->fields = fields;
	q->nfields = r->nheaders;
	q->user = r->user_fields;
	q->flags = r->req_flags;
	q->body = body;
	q->body_len = body_len;
	q->cookie = NULL;
	q->cookie_len = 0;
}

int run_request_finish(run_request *r, int has_body, int no_reuse, char *err, size_t errsz)
{
	http_field *fields = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(*fields));
	buf *vals = xcalloc(r->nheaders ? r->nheaders : 1, sizeof(*vals));
	buf target, body;
	http_request q;
	unsigned flags = (has_body ? HTTP_REQ_BODY : 0) | (no_reuse ? HTTP_REQ_CLOSE : 0);
	uint32_t i;
	int rc = -1, dyn_headers = 0;

	buf_init(&target, 256, WIRE_MAX);
	buf_init(&body, 0, WIRE_MAX);
	for (i = 0; i < r->nheaders; i++) {
		const run_header *h = &r->headers[i];

		fields[i].name = h->name;
		fields[i].name_len = (uint32_t)strlen(h->name);
		if (tmpl_static(&h->value)) {
			buf_init(&vals[i], 64, WIRE_MAX);
			static_text(&h->value, &vals[i]);
			fields[i].value = vals[i].data ? vals[i].data : "";
			fields[i].value_len = (uint32_t)vals[i].len;
		} else {
			dyn_headers = 1; /* its value is checked as it expands */
		}
	}
	/* What varies is checked as it expands; a placeholder stands for it. */
	if (tmpl_static(&r->target))
		static_text(&r->target, &target);
	else
		buf_append(&target, "/", 1);
	if (tmpl_static(&r->body))
		static_text(&r->body, &body);
	/* A static body is compressed once, here; a templated one per
	 * request into the worker's buffer (run_request_expand). */
	if (r->compression && tmpl_static(&r->body)) {
		http_encoder *enc = http_encoder_create();
		buf z;

		buf_init(&z, 0, WIRE_MAX);
		rc = http_encode(enc, r->compression, body.data ? body.data : "", body.len, &z);
		http_encoder_destroy(enc);
		buf_free(&body);
		body = z;
		if (rc < 0) {
			snprintf(err, errsz, "compression: the compressed body is over 64 MiB");
			goto out;
		}
		rc = -1;
	}
	r->user_fields = http_fields_scan(fields, r->nheaders);
	describe(r, &q, fields, target.data, target.len, body.data, body.len);
	if (http_request_check(&q, tmpl_static(&r->body), &flags, err, errsz) < 0)
		goto out;
	r->req_flags = flags;
	q.flags = flags;
	/* A client that sent Connection: close sends nothing more on that
	 * connection (RFC 9112 9.6), whatever the server does. */
	r->close_after = no_reuse;
	r->conn_varies = 0;
	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(fields[i].name, "connection") != 0)
			continue;
		if (!fields[i].value)
			r->conn_varies = 1; /* decided per request, as it expands */
		else if (connection_close(fields[i].value, fields[i].value_len))
			r->close_after = 1;
	}
	r->dynamic = !tmpl_static(&r->target) || !tmpl_static(&r->body) || dyn_headers;
	buf_free(&r->wire);
	buf_init(&r->wire, r->dynamic ? 0 : 256, WIRE_MAX);
	if (!r->dynamic) {
		int w = http_request_write(&q, &r->wire);

		if (w == HTTP_REQ_ETOOBIG) {
			snprintf(err, errsz, "request too large (limit 64 MiB)");
			goto out;
		}
		if (w == HTTP_REQ_EVALUE) {
			snprintf(err, errsz, "the URL's path holds a space or control character");
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < r->nheaders; i++)
		buf_free(&vals[i]);
	free(vals);
	free(fields);
	buf_free(&target);
	buf_free(&body);
	return rc;
}

uint32_t run_request_max_headers(const run_config *cfg)
{
	uint32_t i, n = 0;

	for (i = 0; i < cfg->nreqs; i++)
		if (cfg->reqs[i].nheaders > n)
			n = cfg->reqs[i].nheaders;
	return n;
}

/* Is header name one a hop leaves behind? */
static int dropped(const char *name, const run_request_over *over)
{
	if (over->drop_body && (!strcasecmp(name, "content-type") || !strcasecmp(name, "content-length") ||
				!strcasecmp(name, "transfer-encoding") || !strcasecmp(name, "content-encoding")))
		return 1;
	return over->other_host &&
	       (!strcasecmp(name, "host") || !strcasecmp(name, "authorization") || !strcasecmp(name, "cookie"));
}

int run_request_expand(const run_request *r, const tmpl_ctx *c, buf *scratch, http_field *fields, buf *body,
		       struct http_encoder *enc, buf *zbody, buf *out, int *close_after,
		       const run_request_over *over)
{
	http_request q;
	size_t target_len, off;
	uint32_t i, nf;
	int rc;

	buf_reset(scratch);
	buf_reset(body);
	buf_reset(out);
	if (!over || !over->target) {
		rc = tmpl_expand(&r->target, c, scratch);
		if (rc < 0)
			return rc;
	}
	target_len = scratch->len;
	for (i = 0; i < r->nheaders; i++) {
		size_t before = scratch->len;

		rc = tmpl_expand(&r->headers[i].value, c, scratch);
		if (rc < 0)
			return rc;
		fields[i].name = r->headers[i].name;
		fields[i].name_len = (uint32_t)strlen(r->headers[i].name);
		fields[i].value_len = (uint32_t)(scratch->len - before);
	}
	/* The scratch buffer may have moved while growing: point into it now. */
	for (i = 0, off = target_len; i < r->nheaders; i++) {
		fields[i].value = scratch->data + off;
		off += fields[i].value_len;
	}
	nf = r->nheaders;
	if (over) {
		for (i = 0, nf = 0; i < r->nheaders; i++)
			if (!dropped(fields[i].name, over))
				fields[nf++] = fields[i];
	}
	*close_after = r->close_after;
	for (i = 0; r->conn_varies && i < nf; i++)
		if (!strcasecmp(fields[i].name, "connection") && connection_close(fields[i].value, fields[i].value_len))
			*close_after = 1;
	if (!over || !over->drop_body) {
		rc = tmpl_expand(&r->body, c, body);
		if (rc < 0)
			return rc;
		if (r->compression) {
			if (http_encode(enc, r->compression, body->data ? body->data : "", body->len, zbody) < 0)
				return TMPL_ETOOBIG;
			body = zbody;
		}
	}
	describe(r, &q, fields, scratch->data ? scratch->data : "", target_len, body->data, body->len);
	if (over) {
		q.nfields = nf;
		q.user = http_fields_scan(fields, nf);
		if (over->method)
			q.method = over->method;
		if (over->target) {
			q.target = over->target;
			q.target_len = over->target_len;
		}
		if (over->authority)
			q.authority = over->authority;
		if (over->drop_body)
			q.flags &= ~(unsigned)(HTTP_REQ_BODY | HTTP_REQ_CHUNKED);
		q.cookie = over->cookie;
		q.cookie_len = over->cookie_len;
		if (over->route) {
			q.origin = over->origin;
			q.proxy_auth = over->proxy_auth;
		}
	}
	rc = http_request_write(&q, out);
	if (rc == HTTP_REQ_EVALUE)
		return TMPL_EVALUE;
	return rc < 0 ? TMPL_ETOOBIG : 0;
}

int run_request_quick(run_request *r, const char *method, const char *url, const char *const *headers,
		      uint32_t nheaders, const char *body, size_t body_len, int compression, int no_reuse,
		      const char *user_agent, const char **flag, char *err, size_t errsz)
{
	uint32_t i;
	char *p;
	int has_body;

	memset(r, 0, sizeof(*r));
	r->max_redirects = -1;
	r->user_agent = user_agent;
	tmpl_init(&r->target);
	tmpl_init(&r->body);
	r->method = xstrdup(method);
	for (p = r->method; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	*flag = "-X";
	if (!http_field_name_ok(r->method, strlen(r->method))) {
		snprintf(err, errsz, "'%s' is not an HTTP method", method);
		return -1;
	}
	*flag = "--url";
	if (http_url_parse(url, &r->url, err, errsz) < 0)
		return -1;
	r->tls = strcmp(r->url.scheme, "https") == 0;
	tmpl_lit(&r->target, r->url.target, strlen(r->url.target));
	*flag = "-H";
	for (i = 0; i < nheaders; i++) {
		const char *h = headers[i], *colon = strchr(h, ':'), *v;
		tmpl val;

		if (!colon || !http_field_name_ok(h, (size_t)(colon - h))) {
			snprintf(err, errsz, "header '%s': expected 'Name: value' with a token for a name", h);
			return -1;
		}
		v = colon + 1;
		if (!http_field_value_ok(v, strlen(v))) {
			snprintf(err, errsz, "header '%s': the value holds a line break or control character", h);
			return -1;
		}
		tmpl_init(&val);
		tmpl_lit(&val, v, strlen(v));
		run_request_add_header(r, h, (size_t)(colon - h), &val);
	}
	tmpl_lit(&r->body, body ? body : "", body_len);
	if (compression) {
		tmpl ce;

		*flag = "--compression";
		for (i = 0; i < r->nheaders; i++)
			if (!strcasecmp(r->headers[i].name, "content-encoding")) {
				snprintf(err, errsz, "strain sets Content-Encoding from it; remove -H 'Content-Encoding: ...'");
				return -1;
			}
		r->compression = compression;
		tmpl_init(&ce);
		tmpl_lit(&ce, http_coding_name(compression), strlen(http_coding_name(compression)));
		run_request_add_header(r, "Content-Encoding", 16, &ce);
		*flag = "-H";
	}
	r->url_str = xstrdup(url);
	r->name = xstrdup(url);
	r->group = xstrdup("");
	r->head_method = strcmp(r->method, "HEAD") == 0;
	has_body = body != NULL || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") ||
		   !strcmp(r->method, "PATCH");
	return run_request_finish(r, has_body, no_reuse, err, errsz);
}

void run_request_free(run_request *r)
{
	uint32_t i;

	free(r->method);
	free(r->url_str);
	free(r->name);
	free(r->group);
	http_url_free(&r->url);
	buf_free(&r->wire);
	free(r->origin);
	tmpl_free(&r->target);
	for (i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		tmpl_free(&r->headers[i].value);
	}
	free(r->headers);
	tmpl_free(&r->body);
	for (i = 0; i < r->nextracts; i++)
		flow_extract_free(&r->extracts[i]);
	for (i = 0; i < r->nchecks; i++)
		flow_check_free(&r->checks[i]);
	free(r->extracts);
	free(r->checks);
}

/* Go's httpproxy: requests to localhost and loopback addresses never go
 * through a proxy taken from the environment. */
static int loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

const http_proxy *run_proxy_for(const run_config *cfg, int tls, const char *host, const char *port)
{
	const http_proxy *p = tls ? cfg->proxy_https : cfg->proxy_http;

	if (p && cfg->proxy_from_env && loopback(host))
		p = NULL;
	if (p && http_no_proxy_match(cfg->no_proxy, host, port))
		p = NULL;
	return p;
}

int run_request_route(run_request *r, const run_config *cfg, char *err, size_t errsz)
{
	const http_proxy *p = run_proxy_for(cfg, r->tls, r->url.host, r->url.port);
	size_t n;

	if (p == r->proxy)
		return 0;
	r->proxy = p;
	free(r->origin);
	r->origin = NULL;
	if (!p || r->tls)
		return 0;
	n = strlen(r->url.authority) + 8;
	r->origin = xmalloc(n);
	snprintf(r->origin, n, "http://%s", r->url.authority);
	/* The static bytes change with the request line: built again, once. */
	return run_request_finish(r, (r->req_flags & HTTP_REQ_BODY) != 0, (r->req_flags & HTTP_REQ_CLOSE) != 0, err,
				  errsz);
}
