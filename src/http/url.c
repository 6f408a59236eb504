#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

int http_url_parse(const char *s, http_url *u, char *err, size_t errsz)
{
	const char *p, *auth, *auth_end, *host, *host_end, *port = NULL;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "http://", 7) == 0) {
		snprintf(u->scheme, sizeof(u->scheme), "http");
		auth = s + 7;
	} else if (strncmp(s, "https://", 8) == 0) {
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
	p = auth_end;
	n = strcspn(p, "#");
	if (n == 0 || *p == '?') {
		u->target = xmalloc(n + 2);
		u->target[0] = '/';
		memcpy(u->target + 1, p, n);
		u->target[n + 1] = '\0';
	} else {
		u->target = xstrndup(p, n);
	}
	for (p = u->target; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(err, errsz, "'%s': URL contains a space or control character", s);
			http_url_free(u);
			return -1;
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
