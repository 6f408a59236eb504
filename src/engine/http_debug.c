#include "engine/http_debug.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int secret(const char *name, size_t n)
{
	static const char *const names[] = {"authorization", "proxy-authorization", "cookie", "set-cookie"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
			return 1;
	return 0;
}

/* One header line, its value redacted when it is a secret. */
static void header_line(const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (secret(name, nlen))
		fprintf(stderr, "%.*s: [redacted]\n", (int)nlen, name);
	else
		fprintf(stderr, "%.*s: %.*s\n", (int)nlen, name, (int)vlen, value);
}

/* Body bytes, as text: control bytes but tab and line breaks as '.'. */
static void body_text(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		fputc(c < 0x20 && c != '\n' && c != '\t' && c != '\r' ? '.' : c, stderr);
	}
	if (n && p[n - 1] != '\n')
		fputc('\n', stderr);
}

void http_debug_request(uint32_t vu, uint64_t iter, const char *wire, size_t len, int full)
{
	const char *p = wire, *end = wire + len, *eol;
	int first = 1;

	flockfile(stderr);
	fprintf(stderr, "--- http-debug: VU %u, iteration %llu: Request:\n", vu, (unsigned long long)iter);
	while (p < end) {
		const char *colon;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (eol - p <= 1 && (eol == p || *p == '\r')) { /* the blank line: the head is over */
			p = eol < end ? eol + 1 : end;
			break;
		}
		colon = first ? NULL : memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			const char *v = colon + 1, *ve = eol > p && eol[-1] == '\r' ? eol - 1 : eol;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			header_line(p, (size_t)(colon - p), v, (size_t)(ve - v));
		} else {
			fprintf(stderr, "%.*s\n", (int)((eol > p && eol[-1] == '\r' ? eol - 1 : eol) - p), p);
		}
		first = 0;
		p = eol < end ? eol + 1 : end;
	}
	fputc('\n', stderr);
	if (full && p < end)
		body_text(p, (size_t)(end - p));
	funlockfile(stderr);
}

void http_debug_response(uint32_t vu, uint64_t iter, const http_head *h)
{
	size_t i;

	flockfile(stderr);
	fprintf(stderr, "--- http-debug: VU %u, iteration %llu: Response:\nHTTP/1.%d %d\n", vu, (unsigned long long)iter,
		h->minor_version, h->status);
	for (i = 0; i < h->num_headers; i++)
		header_line(h->headers[i].name, h->headers[i].name_len, h->headers[i].value, h->headers[i].value_len);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void http_debug_body(uint32_t vu, uint64_t iter, const char *body, size_t len, int truncated)
{
	flockfile(stderr);
	fprintf(stderr, "--- http-debug: VU %u, iteration %llu: Response body (%zu bytes%s):\n", vu,
		(unsigned long long)iter, len, truncated ? ", cut at the 4 MiB kept" : "");
	body_text(body, len);
	funlockfile(stderr);
}
