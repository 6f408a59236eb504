/* Absolute http:// URLs as a load target needs them: where to connect and
 * what to put in the request line and Host header. */
#ifndef STRAIN_HTTP_URL_H
#define STRAIN_HTTP_URL_H

#include <stddef.h>

typedef struct http_url {
	char scheme[8];   /* "http" or "https" */
	char host[256];   /* without brackets for IPv6 */
	char port[8];     /* always set; default from the scheme */
	char *authority;  /* Host header value: host[:port] as written, brackets kept */
	char *target;     /* path + query, at least "/" */
} http_url;

/* Parses an absolute URL. Returns 0, or -1 with a reason in err.
 * Free with http_url_free. */
int http_url_parse(const char *s, http_url *u, char *err, size_t errsz);
void http_url_free(http_url *u);

#endif
