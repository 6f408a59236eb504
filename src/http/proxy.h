/* HTTP proxies as Go's net/http uses them (k6 takes its proxy from the
 * environment through it): a proxy URL with optional basic credentials,
 * NO_PROXY's matching rules, and the CONNECT request that opens a tunnel
 * for an https:// origin. */
#ifndef STRAIN_HTTP_PROXY_H
#define STRAIN_HTTP_PROXY_H

#include <stddef.h>

#include "core/buf.h"
#include "http/url.h"

typedef struct http_proxy {
	http_url url;       /* http://host:port of the proxy */
	char *auth;         /* "Basic base64(user:pass)" from the URL's userinfo, or NULL */
} http_proxy;

/* Parses a proxy URL: http://[user[:pass]@]host[:port][/] (no scheme means
 * http://, as Go's httpproxy; port defaults to 80). Userinfo may be
 * percent-encoded. Returns 0, or -1 with a message in err. Free with
 * http_proxy_free. */
int http_proxy_parse(const char *s, http_proxy *p, char *err, size_t errsz);
void http_proxy_free(http_proxy *p);

/* Does NO_PROXY-style list (comma-separated) exempt host:port? Go's rules:
 * "*" matches everything; an IP matches that IP, IP/BITS the addresses in
 * the block; a name matches itself and its subdomains ("example.com"
 * matches "api.example.com"), a name with a leading "." (or "*.") only the
 * subdomains; an entry with ":PORT" only that port. Case-insensitive. */
int http_no_proxy_match(const char *list, const char *host, const char *port);

/* Appends "CONNECT host:port HTTP/1.1" with Host and, when auth is not
 * NULL, Proxy-Authorization. authority is host:port, brackets kept for
 * IPv6. Returns 0, or -1 past out's maximum. */
int http_proxy_connect_write(const char *authority, const char *auth, buf *out);

#endif
