#include "http/request.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int name_is(const http_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && strncasecmp(f->name, name, n) == 0;
}

unsigned http_fields_scan(const http_field *f, uint32_t n)
{
	unsigned user = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (name_is(&f[i], "host"))
			user |= HTTP_USER_HOST;
		else if (name_is(&f[i], "user-agent"))
			user |= HTTP_USER_AGENT;
		else if (name_is(&f[i], "content-length"))
			user |= HTTP_USER_LENGTH;
		else if (name_is(&f[i], "transfer-encoding"))
			user |= HTTP_USER_TE;
		else if (name_is(&f[i], "connection"))
			user |= HTTP_USER_CONNECTION;
		else if (name_is(&f[i], "cookie"))
			user |= HTTP_USER_COOKIE;
	}
	return user;
}

/* RFC 9110 tchar. */
static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

int http_field_name_ok(const char *name, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!tchar((unsigned char)name[i]))
			return 0;
	return 1;
}

int http_field_value_ok(const char *value, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int target_ok(const char *t, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || t[i] == 0x7f)
			return 0;
	return 1;
}

/* Optional whitespace around a field value is not part of it. */
static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

static int check_length(const http_field *f, int body_static, size_t body_len, char *err, size_t errsz)
{
	const char *v = f->value;
	size_t n = f->value_len, i;
	unsigned long long len = 0;

	if (!body_static) {
		snprintf(err, errsz, "Content-Length: the body varies per request, so strain sets the length; "
				     "remove the header");
		return -1;
	}
	trim(&v, &n);
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || len > (1ull << 40)) {
			snprintf(err, errsz, "Content-Length: '%.*s' is not a length", (int)n, v);
			return -1;
		}
		len = len * 10 + (unsigned)(v[i] - '0');
	}
	if (!n || len != body_len) {
		snprintf(err, errsz,
			 "Content-Length: '%.*s' contradicts the body (%zu bytes); strain sets it from the body, "
			 "remove the header",
			 (int)n, v, body_len);
		return -1;
	}
	return 0;
}

/* Headers a request carries once: the framing ones, and those whose
 * repetition a server may not merge. */
static const char *const singletons[] = {"host", "user-agent", "content-type", "content-length", "transfer-encoding",
					 "connection"};
#define NSINGLETONS (sizeof(singletons) / sizeof(singletons[0]))

static int host_ok(const char *v, size_t n)
{
	trim(&v, &n);
	return n && !memchr(v, ' ', n) && !memchr(v, '\t', n);
}

int http_request_check(const http_request *r, int body_static, unsigned *flags, char *err, size_t errsz)
{
	uint32_t i, j, seen[NSINGLETONS] = {0};
	const char *m;

	if (!*r->method) {
		snprintf(err, errsz, "empty HTTP method");
		return -1;
	}
	for (m = r->method; *m; m++)
		if (!tchar((unsigned char)*m)) {
			snprintf(err, errsz, "'%s' is not an HTTP method", r->method);
			return -1;
		}
	for (i = 0; i < r->nfields; i++) {
		const http_field *f = &r->fields[i];

		if (!http_field_name_ok(f->name, f->name_len)) {
			snprintf(err, errsz, "header name '%.*s' is not a token (letters, digits, !#$%%&'*+-.^_`|~)",
				 (int)f->name_len, f->name);
			return -1;
		}
		if (f->value && !http_field_value_ok(f->value, f->value_len)) {
			snprintf(err, errsz, "header %.*s: the value holds a line break or control character",
				 (int)f->name_len, f->name);
			return -1;
		}
		for (j = 0; j < NSINGLETONS; j++)
			if (name_is(f, singletons[j]) && ++seen[j] > 1) {
				snprintf(err, errsz, "%.*s is given more than once; a request has one", (int)f->name_len,
					 f->name);
				return -1;
			}
		if (name_is(f, "host") && f->value && !host_ok(f->value, f->value_len)) {
			snprintf(err, errsz, "Host: '%.*s' is not a host[:port]", (int)f->value_len, f->value);
			return -1;
		}
		if (!f->value && (name_is(f, "content-length") || name_is(f, "transfer-encoding"))) {
			snprintf(err, errsz, "%.*s cannot be a template: strain frames the body itself (a literal "
					     "'Transfer-Encoding: chunked' is the one thing that can be asked for)",
				 (int)f->name_len, f->name);
			return -1;
		}
		if (name_is(f, "content-length") && check_length(f, body_static, r->body_len, err, errsz) < 0)
			return -1;
		if (name_is(f, "transfer-encoding")) {
			const char *v = f->value;
			size_t n = f->value_len;

			trim(&v, &n);
			if (n != 7 || strncasecmp(v, "chunked", 7) != 0) {
				snprintf(err, errsz, "Transfer-Encoding: only 'chunked' can be asked for (strain "
						     "sends the body as it is)");
				return -1;
			}
			*flags |= HTTP_REQ_CHUNKED;
		}
	}
	if (seen[3] && (*flags & HTTP_REQ_CHUNKED)) {
		snprintf(err, errsz, "Content-Length and Transfer-Encoding: chunked contradict each other; give one");
		return -1;
	}
	return 0;
}

/* "name: pre; value\r\n", or without "pre; " when pn is 0. */
static int line2(buf *out, const char *name, size_t nn, const char *pre, size_t pn, const char *value, size_t vn)
{
	size_t sep = pn && vn ? 2 : 0;

	if (buf_reserve(out, nn + pn + sep + vn + 4) < 0)
		return HTTP_REQ_ETOOBIG;
	memcpy(out->data + out->len, name, nn);
	out->len += nn;
	out->data[out->len++] = ':';
	out->data[out->len++] = ' ';
	if (pn)
		memcpy(out->data + out->len, pre, pn);
	out->len += pn;
	if (sep) {
		out->data[out->len++] = ';';
		out->data[out->len++] = ' ';
	}
	if (vn)
		memcpy(out->data + out->len, value, vn);
	out->len += vn;
	out->data[out->len++] = '\r';
	out->data[out->len++] = '\n';
	return 0;
}

static int line(buf *out, const char *name, size_t nn, const char *value, size_t vn)
{
	return line2(out, name, nn, NULL, 0, value, vn);
}

int http_request_write(const http_request *r, buf *out)
{
	uint32_t i;
	int rc = 0;
	unsigned user = r->user;
	int chunked = (r->flags & HTTP_REQ_CHUNKED) != 0;
	size_t jar = r->cookie ? r->cookie_len : 0;

	if (!target_ok(r->target, r->target_len))
		return HTTP_REQ_EVALUE;
	if (buf_appends(out, r->method) < 0 || buf_append(out, " ", 1) < 0 ||
	    (r->origin && buf_appends(out, r->origin) < 0) || buf_append(out, r->target, r->target_len) < 0 || buf_append(out, " HTTP/1.1\r\n", 11) < 0)
		return HTTP_REQ_ETOOBIG;
	if (!(user & HTTP_USER_HOST))
		rc = line(out, "Host", 4, r->authority, strlen(r->authority));
	if (!rc && r->proxy_auth)
		rc = line(out, "Proxy-Authorization", 19, r->proxy_auth, strlen(r->proxy_auth));
	if (!rc && !(user & HTTP_USER_AGENT) && r->user_agent)
		rc = line(out, "User-Agent", 10, r->user_agent, strlen(r->user_agent));
	for (i = 0; !rc && i < r->nfields; i++) {
		const http_field *f = &r->fields[i];
		const char *v = f->value;
		size_t n = f->value_len;

		/* Framing is the body's: the user's copy was checked against it at
		 * load and is written below, once. */
		if ((user & (HTTP_USER_LENGTH | HTTP_USER_TE)) &&
		    (name_is(f, "content-length") || name_is(f, "transfer-encoding")))
			continue;
		if (!http_field_value_ok(v, n))
			return HTTP_REQ_EVALUE;
		/* A Host from a template (an extracted value) must still be one. */
		if ((user & HTTP_USER_HOST) && name_is(f, "host") && !host_ok(v, n))
			return HTTP_REQ_EVALUE;
		trim(&v, &n);
		if (jar && name_is(f, "cookie")) {
			/* The jar's cookies and the user's share the one header. */
			rc = line2(out, f->name, f->name_len, r->cookie, jar, v, n);
			jar = 0;
			continue;
		}
		rc = line(out, f->name, f->name_len, v, n);
	}
	if (!rc && jar)
		rc = line(out, "Cookie", 6, r->cookie, jar);
	if (!rc && (r->flags & HTTP_REQ_CLOSE) && !(user & HTTP_USER_CONNECTION))
		rc = line(out, "Connection", 10, "close", 5);
	if (rc)
		return rc;
	if (chunked) {
		if (buf_appends(out, "Transfer-Encoding: chunked\r\n\r\n") < 0)
			return HTTP_REQ_ETOOBIG;
		if (r->body_len && buf_printf(out, "%zx\r\n", r->body_len) < 0)
			return HTTP_REQ_ETOOBIG;
		if (r->body_len && (buf_append(out, r->body, r->body_len) < 0 || buf_append(out, "\r\n", 2) < 0))
			return HTTP_REQ_ETOOBIG;
		return buf_append(out, "0\r\n\r\n", 5) < 0 ? HTTP_REQ_ETOOBIG : 0;
	}
	if (r->body_len || (r->flags & HTTP_REQ_BODY) || (user & HTTP_USER_LENGTH)) {
		if (buf_printf(out, "Content-Length: %zu\r\n", r->body_len) < 0)
			return HTTP_REQ_ETOOBIG;
	}
	if (buf_append(out, "\r\n", 2) < 0 || (r->body_len && buf_append(out, r->body, r->body_len) < 0))
		return HTTP_REQ_ETOOBIG;
	return 0;
}
