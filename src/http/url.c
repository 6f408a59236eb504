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
