#include "engine/http_debug.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/redact.h"

/* Set before the workers start, read-only after. */
static const redact *secrets;

void http_debug_set_redact(const redact *r)
{
	secrets = r;
}

/* One header line, its value redacted when it is a secret. */
static void header_line(const char *name, size_t nlen, const char *value, size_t vlen)
{
	buf b;

	if (redact_header_secret(secrets, name, nlen)) {
		fprintf(stderr, "%.*s: " REDACT_MARK "\n", (int)nlen, name);
		return;
	}
	buf_init(&b, vlen + 1, (size_t)1 << 20);
	/* A redirect's target carries its query: ?code=, ?token= */
	if ((nlen == 8 && !strncasecmp(name, "location", 8)) || (nlen == 7 && !strncasecmp(name, "referer", 7)))
		redact_url(secrets, value, vlen, &b);
	else
		redact_text(secrets, value, vlen, &b);
	fprintf(stderr, "%.*s: %.*s\n", (int)nlen, name, (int)b.len, b.data ? b.data : "");
	buf_free(&b);
}

/* The request line, its target through redact_url. */
static void request_line(const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n), *sp2 = sp ? memrchr(sp + 1, ' ', (size_t)(p + n - sp - 1)) : NULL;
	buf b;

	buf_init(&b, n + 1, (size_t)1 << 20);
	if (sp2) {
		buf_append(&b, p, (size_t)(sp + 1 - p));
		redact_url(secrets, sp + 1, (size_t)(sp2 - sp - 1), &b);
		buf_append(&b, sp2, (size_t)(p + n - sp2));
	} else {
		redact_url(secrets, p, n, &b);
	}
	fprintf(stderr, "%.*s\n", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
}

/* Body bytes, as text: control bytes but tab and line breaks as '.';
 * credential fields and secret values hidden. */
static void body_text(const char *raw, size_t rawn)
{
	size_t i, n;
	const char *p;
	buf b;

	buf_init(&b, rawn + 1, (size_t)8 << 20);
	redact_body(secrets, raw, rawn, &b);
	p = b.data ? b.data : "";
	n = b.len;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		fputc(c < 0x20 && c != '\n' && c != '\t' && c != '\r' ? '.' : c, stderr);
	}
	if (n && p[n - 1] != '\n')
		fputc('\n', stderr);
	buf_free(&b);
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
		} else if (first) {
			request_line(p, (size_t)((eol > p && eol[-1] == '\r' ? eol - 1 : eol) - p));
		} else {
			buf b;

			buf_init(&b, 0, (size_t)1 << 20);
			redact_text(secrets, p, (size_t)((eol > p && eol[-1] == '\r' ? eol - 1 : eol) - p), &b);
			fprintf(stderr, "%.*s\n", (int)b.len, b.data ? b.data : "");
			buf_free(&b);
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
