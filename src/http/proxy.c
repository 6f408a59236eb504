#include "http/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/alloc.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Userinfo percent-decoded into out (at most outsz - 1 bytes). */
static size_t unescape(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 1 < outsz; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			out[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	return k;
}

int http_proxy_parse(const char *s, http_proxy *p, char *err, size_t errsz)
{
	const char *rest = s, *at, *slash;
	char *url = NULL;
	size_t len;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (strstr(s, "://")) {
		if (strncasecmp(s, "http://", 7) != 0) {
			snprintf(err, errsz, "'%s': strain speaks to proxies over http:// only", s);
			return -1;
		}
		rest = s + 7;
	}
	slash = strchr(rest, '/');
	at = memchr(rest, '@', slash ? (size_t)(slash - rest) : strlen(rest));
	if (at) {
		char user[512], b64[700];
		int n;

		len = unescape(rest, (size_t)(at - rest), user, sizeof(user));
		if (!memchr(user, ':', len) && len + 1 < sizeof(user)) {
			user[len++] = ':';
			user[len] = '\0';
		}
		n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)user, (int)len);
		p->auth = xmalloc((size_t)n + 7);
		memcpy(p->auth, "Basic ", 6);
		memcpy(p->auth + 6, b64, (size_t)n + 1);
		rest = at + 1;
	}
	len = strlen(rest) + 8;
	url = xmalloc(len);
	snprintf(url, len, "http://%s", rest);
	if (http_url_parse(url, &p->url, err, errsz) < 0)
		goto out;
	if (strcmp(p->url.target, "/") != 0) {
		snprintf(err, errsz, "'%s': a proxy URL has no path", s);
		goto out;
	}
	rc = 0;
out:
	free(url);
	if (rc < 0)
		http_proxy_free(p);
	return rc;
}

void http_proxy_free(http_proxy *p)
{
	if (!p)
		return;
	http_url_free(&p->url);
	free(p->auth);
	p->auth = NULL;
}

static int ip_parse(const char *s, unsigned char b[16], int *fam)
{
	memset(b, 0, 16);
	if (inet_pton(AF_INET, s, b) == 1) {
		*fam = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		*fam = 6;
		return 0;
	}
	return -1;
}

static int cidr_match(const char *entry, const unsigned char ip[16], int fam)
{
	char net[64];
	const char *slash = strchr(entry, '/');
	unsigned char nb[16];
	size_t n = (size_t)(slash - entry);
	int nfam, i;
	long bits;
	char *e;

	if (n >= sizeof(net))
		return 0;
	memcpy(net, entry, n);
	net[n] = '\0';
	bits = strtol(slash + 1, &e, 10);
	if (*e || ip_parse(net, nb, &nfam) < 0 || nfam != fam || bits < 0 || bits > (fam == 4 ? 32 : 128))
		return 0;
	for (i = 0; i < bits; i++) {
		unsigned m = 0x80u >> (i % 8);

		if ((ip[i / 8] & m) != (nb[i / 8] & m))
			return 0;
	}
	return 1;
}

static int entry_match(const char *entry, const char *host, const char *port, int host_is_ip, const unsigned char ip[16],
		       int fam)
{
	char name[300];
	const char *e = entry, *colon;
	size_t n, hl;
	unsigned char eb[16];
	int efam;

	if (!strcmp(entry, "*"))
		return 1;
	if (strchr(entry, '/'))
		return host_is_ip && cidr_match(entry, ip, fam);
	if (ip_parse(entry, eb, &efam) == 0)
		return host_is_ip && efam == fam && !memcmp(eb, ip, 16);
	/* [v6]:port or name:port */
	if (entry[0] == '[') {
		const char *rb = strchr(entry, ']');

		if (!rb)
			return 0;
		n = (size_t)(rb - entry - 1);
		if (n >= sizeof(name))
			return 0;
		memcpy(name, entry + 1, n);
		name[n] = '\0';
		if (rb[1] == ':' && strcmp(rb + 2, port))
			return 0;
		return host_is_ip && ip_parse(name, eb, &efam) == 0 && efam == fam && !memcmp(eb, ip, 16);
	}
	colon = strrchr(entry, ':');
	n = colon ? (size_t)(colon - entry) : strlen(entry);
	if (colon && strcmp(colon + 1, port))
		return 0;
	if (n >= sizeof(name))
		return 0;
	memcpy(name, e, n);
	name[n] = '\0';
	if (ip_parse(name, eb, &efam) == 0)
		return host_is_ip && efam == fam && !memcmp(eb, ip, 16);
	e = name;
	if (e[0] == '*' && e[1] == '.')
		e++;
	hl = strlen(host);
	n = strlen(e);
	if (e[0] == '.')
		return hl > n && !strcasecmp(host + hl - n, e);
	if (hl == n)
		return !strcasecmp(host, e);
	return hl > n && host[hl - n - 1] == '.' && !strcasecmp(host + hl - n, e);
}

int http_no_proxy_match(const char *list, const char *host, const char *port)
{
	unsigned char ip[16];
	int fam = 0, is_ip;
	const char *p = list;

	if (!list)
		return 0;
	is_ip = ip_parse(host, ip, &fam) == 0;
	while (*p) {
		char entry[300];
		const char *end = strchr(p, ',');
		size_t n;

		if (!end)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		n = (size_t)(end - p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n && n < sizeof(entry)) {
			memcpy(entry, p, n);
			entry[n] = '\0';
			if (entry_match(entry, host, port, is_ip, ip, fam))
				return 1;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return 0;
}

int http_proxy_connect_write(const char *authority, const char *auth, buf *out)
{
	size_t al = strlen(authority);

	if (buf_append(out, "CONNECT ", 8) < 0 || buf_append(out, authority, al) < 0 ||
	    buf_append(out, " HTTP/1.1\r\nHost: ", 17) < 0 || buf_append(out, authority, al) < 0 ||
	    buf_append(out, "\r\n", 2) < 0)
		return -1;
	if (auth && (buf_append(out, "Proxy-Authorization: ", 21) < 0 || buf_append(out, auth, strlen(auth)) < 0 ||
		     buf_append(out, "\r\n", 2) < 0))
		return -1;
	return buf_append(out, "\r\n", 2);
}
