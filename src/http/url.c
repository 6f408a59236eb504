#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"

int http_url_parse(const char *s, http_url *u, char *err, size_t errsz)
{
	const char *p, *auth, *auth_end, *host, *host_end, *port = NULL;
	size_t n;

	memset(u, 0, sizeof(*u));
	/* Schemes are case-insensitive (RFC 3986). */
	if (strncasecmp(s, "http://", 7) == 0) {
		snprintf(u->scheme, sizeof(u->scheme), "http");
		auth = s + 7;
	} else if (strncasecmp(s, "https://", 8) == 0) {
		snprintf(u->scheme, sizeof(u->scheme), "https");
		auth = s + 8;
	} else {
		snprintf(err, errsz, "'%s': only http:// and https:// URLs are supported", s);
		return -1;
	}
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth))) {
		snprintf(err, errsz, "'%s': user info in URLs is not supported; use -H 'Authorization: ...'", s);
		return -1;
	}
	if (*auth == '[') {
		host = auth + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end) {
			snprintf(err, errsz, "'%s': unterminated IPv6 address", s);
			return -1;
		}
		p = host_end + 1;
		if (p < auth_end && *p == ':')
			port = p + 1;
		else if (p != auth_end)
			goto bad_host;
	} else {
		host = auth;
		host_end = memchr(auth, ':', (size_t)(auth_end - auth));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof(u->host))
		goto bad_host;
	for (p = host; p < host_end; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			goto bad_host;
	memcpy(u->host, host, n);
	if (port) {
		size_t pl = (size_t)(auth_end - port);

		if (pl == 0 || pl > 5 || strspn(port, "0123456789") < pl || atoi(port) == 0 ||
		    atoi(port) > 65535) {
			snprintf(err, errsz, "'%s': invalid port", s);
			return -1;
		}
		memcpy(u->port, port, pl);
	} else {
		snprintf(u->port, sizeof(u->port), "%s", u->scheme[4] == 's' ? "443" : "80");
	}
	u->authority = xstrndup(auth, (size_t)(auth_end - auth));
	{
		buf t;

		buf_init(&t, 64, 1 << 20);
		p = auth_end;
		n = strcspn(p, "#"); /* a fragment is the browser's, never sent */
		if (n == 0 || *p == '?')
			buf_append(&t, "/", 1);
		if (http_url_escape(&t, p, n, URL_ESC_NORMALISE) < 0 || buf_append(&t, "", 1) < 0) {
			buf_free(&t);
			snprintf(err, errsz, "'%.64s...': URL too long", s);
			http_url_free(u);
			return -1;
		}
		u->target = t.data;
	}
	return 0;
bad_host:
	snprintf(err, errsz, "'%s': invalid host", s);
	return -1;
}

void http_url_free(http_url *u)
{
	free(u->authority);
	free(u->target);
	u->authority = u->target = NULL;
}

static int unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

static int hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Bytes a request target never carries raw: controls, space, non-ASCII,
 * and the characters RFC 3986 leaves out of URLs. */
static int unsafe(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c) != NULL;
}

static int keep(const char *s, size_t i, size_t n, int mode)
{
	unsigned char c = (unsigned char)s[i];

	switch (mode) {
	case URL_ESC_COMPONENT:
		return unreserved(c);
	case URL_ESC_PATH:
		return unreserved(c) || (c && strchr("!$&'()*+,;=:@/", c));
	default:
		if (c == '%')
			return i + 2 < n && hexdigit(s[i + 1]) && hexdigit(s[i + 2]);
		return !unsafe(c);
	}
}

int http_url_escape(buf *out, const char *s, size_t n, int mode)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[3];

		if (keep(s, i, n, mode))
			continue;
		if (buf_append(out, s + start, i - start) < 0)
			return -1;
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		if (buf_append(out, e, 3) < 0)
			return -1;
		start = i + 1;
	}
	return buf_append(out, s + start, n - start);
}

/* RFC 3986 5.2.4, in place: the output never runs ahead of the input.
 * Returns the new length. */
static size_t remove_dots(char *p, size_t n)
{
	size_t in = 0, out = 0;

	while (in < n) {
		size_t left = n - in;

		if (left >= 3 && !memcmp(p + in, "../", 3)) {
			in += 3;
		} else if (left >= 2 && !memcmp(p + in, "./", 2)) {
			in += 2;
		} else if (left >= 3 && !memcmp(p + in, "/./", 3)) {
			in += 2;
		} else if (left == 2 && !memcmp(p + in, "/.", 2)) {
			in += 2;
			p[out++] = '/';
		} else if (left >= 4 && !memcmp(p + in, "/../", 4)) {
			in += 3;
			while (out > 0 && p[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
		} else if (left == 3 && !memcmp(p + in, "/..", 3)) {
			in += 3;
			while (out > 0 && p[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
			p[out++] = '/';
		} else if ((left == 1 && p[in] == '.') || (left == 2 && !memcmp(p + in, "..", 2))) {
			in = n;
		} else {
			if (p[in] == '/')
				p[out++] = p[in++];
			while (in < n && p[in] != '/')
				p[out++] = p[in++];
		}
	}
	return out;
}

/* Splits an authority into out (host, port, Host value). Returns 0 or -1. */
static int loc_authority(const char *a, size_t n, int tls, http_loc *out)
{
	const char *at = memchr(a, '@', n), *host, *host_end, *port = NULL, *end = a + n;
	size_t hn, pl = 0, i;
	unsigned long pv = 0;

	/* User info is dropped: it is never sent as such. */
	if (at) {
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (n && *a == '[') {
		host = a + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return -1;
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return -1;
			port = host_end + 2;
		}
	} else {
		host = a;
		host_end = memchr(a, ':', n);
		if (host_end)
			port = host_end + 1;
		else
			host_end = end;
	}
	hn = (size_t)(host_end - host);
	if (!hn || hn >= sizeof(out->host) || n >= sizeof(out->authority))
		return -1;
	for (i = 0; i < hn; i++)
		if ((unsigned char)host[i] <= 0x20 || host[i] == 0x7f || host[i] == '/')
			return -1;
	if (port) {
		pl = (size_t)(end - port);
		for (i = 0; i < pl; i++) {
			if (port[i] < '0' || port[i] > '9' || i >= 5)
				return -1;
			pv = pv * 10 + (unsigned long)(port[i] - '0');
		}
	}
	if (port && pl && (pv == 0 || pv > 65535))
		return -1;
	out->tls = tls;
	memcpy(out->host, host, hn);
	out->host[hn] = '\0';
	if (port && pl)
		snprintf(out->port, sizeof(out->port), "%lu", pv);
	else
		snprintf(out->port, sizeof(out->port), "%s", tls ? "443" : "80");
	/* Host: as written, without an empty port or user info. */
	n = (size_t)((port && pl ? end : host_end + (*a == '[')) - a);
	memcpy(out->authority, a, n);
	out->authority[n] = '\0';
	return 0;
}

int http_url_resolve(const http_loc *base, const char *base_target, size_t base_len, const char *ref, size_t n,
		     http_loc *out, buf *target)
{
	const char *p = ref, *end, *path, *query = NULL, *bq, *start;
	size_t i, plen, qlen = 0, bpath;
	int has_query = 0;

	buf_reset(target);
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (!n)
		return -1;
	end = memchr(p, '#', n);
	if (end)
		n = (size_t)(end - p);
	end = p + n;
	start = p;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			return -1;
	/* A scheme: letters first, then letters, digits, + - . up to ':'. */
	for (i = 0; i < n && ((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z'); i++)
		;
	while (i && i < n && (((p[i] | 32) >= 'a' && (p[i] | 32) <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
			      p[i] == '+' || p[i] == '-' || p[i] == '.'))
		i++;
	*out = *base;
	if (i && i < n && p[i] == ':') {
		int tls;

		if (i == 4 && !strncasecmp(p, "http", 4))
			tls = 0;
		else if (i == 5 && !strncasecmp(p, "https", 5))
			tls = 1;
		else
			return -1;
		p += i + 1;
		if (end - p < 2 || p[0] != '/' || p[1] != '/')
			return -1;
		out->tls = tls;
		snprintf(out->port, sizeof(out->port), "%s", tls ? "443" : "80");
	}
	if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
		const char *a = p + 2, *ae = a;

		while (ae < end && *ae != '/' && *ae != '?')
			ae++;
		if (loc_authority(a, (size_t)(ae - a), out->tls, out) < 0)
			return -1;
		p = ae;
	}
	path = p;
	while (p < end && *p != '?')
		p++;
	plen = (size_t)(p - path);
	if (p < end) {
		has_query = 1;
		query = p;
		qlen = (size_t)(end - p);
	}
	bq = memchr(base_target, '?', base_len);
	bpath = bq ? (size_t)(bq - base_target) : base_len;
	if (!plen && path == start) {
		if (buf_append(target, base_target, bpath) < 0)
			return -1;
		if (!has_query && bq && buf_append(target, bq, base_len - bpath) < 0)
			return -1;
	} else if (!plen) {
		/* "http://h" or "//h": the root. */
		if (buf_append(target, "/", 1) < 0)
			return -1;
	} else if (path[0] == '/') {
		if (buf_append(target, path, plen) < 0)
			return -1;
	} else {
		size_t keep = bpath;

		/* Merge (5.2.3): the base path up to its last '/', then the reference. */
		while (keep && base_target[keep - 1] != '/')
			keep--;
		if (!keep && buf_append(target, "/", 1) < 0)
			return -1;
		if (buf_append(target, base_target, keep) < 0 || buf_append(target, path, plen) < 0)
			return -1;
	}
	if (target->len) {
		target->len = remove_dots(target->data, target->len);
		if (!target->len || target->data[0] != '/') {
			/* "http://h/../.." resolves to ""; the root stands for it. */
			if (buf_reserve(target, 1) < 0)
				return -1;
			memmove(target->data + 1, target->data, target->len);
			target->data[0] = '/';
			target->len++;
		}
	}
	if (has_query && buf_append(target, query, qlen) < 0)
		return -1;
	return 0;
}
