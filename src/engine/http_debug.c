#include "engine/http_debug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/redact.h"

/* Set before the workers start, read-only after. */
static const redact *secrets;

/* A block is built whole, then printed: at most this much of it. */
#define BLOCK_MAX ((size_t)16 << 20)

void http_debug_set_redact(const redact *r)
{
	secrets = r;
}

/* One header line, its value redacted when it is a secret. */
static void header_line(buf *o, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (redact_header_secret(secrets, name, nlen)) {
		buf_printf(o, "%.*s: " REDACT_MARK "\n", (int)nlen, name);
		return;
	}
	buf_append(o, name, nlen);
	buf_appends(o, ": ");
	/* A redirect's target carries its query: ?code=, ?token= */
	if ((nlen == 8 && !strncasecmp(name, "location", 8)) || (nlen == 7 && !strncasecmp(name, "referer", 7)))
		redact_url(secrets, value, vlen, o);
	else
		redact_text(secrets, value, vlen, o);
	buf_appends(o, "\n");
}

/* The request line, its target through redact_url. */
static void request_line(buf *o, const char *p, size_t n)
{
	const char *sp = memchr(p, ' ', n), *sp2 = sp ? memrchr(sp + 1, ' ', (size_t)(p + n - sp - 1)) : NULL;

	if (sp2) {
		buf_append(o, p, (size_t)(sp + 1 - p));
		redact_url(secrets, sp + 1, (size_t)(sp2 - sp - 1), o);
		buf_append(o, sp2, (size_t)(p + n - sp2));
	} else {
		redact_url(secrets, p, n, o);
	}
	buf_appends(o, "\n");
}

/* Body bytes, as text: control bytes but tab and line breaks as '.';
 * credential fields and secret values hidden. */
static void body_text(buf *o, const char *raw, size_t rawn)
{
	size_t i, from = o->len;

	redact_body(secrets, raw, rawn, o);
	for (i = from; i < o->len; i++) {
		unsigned char c = (unsigned char)o->data[i];

		if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
			o->data[i] = '.';
	}
	if (o->len > from && o->data[o->len - 1] != '\n')
		buf_appends(o, "\n");
}

/* Prints a block in one write under stderr's lock, with the values of the
 * VU's secret variables hidden too: known only at run time, they may
 * show anywhere a server echoes them. The set of them is made per block
 * (with their percent-encoded and JSON-escaped forms), which costs
 * nothing when the plan has no secret variable and is on this slow path
 * only. */
static void emit(const http_debug_vars *dv, buf *o)
{
	redact *extra = NULL;
	uint32_t i, pass;
	buf r;

	for (pass = 0; dv && pass < 2; pass++) {
		const buf *vars = pass ? dv->more : dv->vars;

		for (i = 0; vars && dv->secret && i < dv->n; i++) {
			char *v;

			if (!dv->secret[i] || vars[i].len < REDACT_MIN_LEN)
				continue;
			if (!extra)
				extra = redact_create();
			v = xstrndup(vars[i].data, vars[i].len);
			redact_add_value(extra, v);
			free(v);
		}
	}
	buf_init(&r, 0, BLOCK_MAX);
	if (extra && o->len)
		redact_text(extra, o->data, o->len, &r);
	flockfile(stderr);
	if (extra)
		fwrite(r.data ? r.data : "", 1, r.len, stderr);
	else
		fwrite(o->data ? o->data : "", 1, o->len, stderr);
	funlockfile(stderr);
	buf_free(&r);
	buf_free(o);
	redact_destroy(extra);
}

void http_debug_request(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const char *wire, size_t len,
			int full)
{
	const char *p = wire, *end = wire + len, *eol;
	int first = 1;
	buf o;

	buf_init(&o, 0, BLOCK_MAX);
	buf_printf(&o, "--- http-debug: VU %u, iteration %llu: Request:\n", vu, (unsigned long long)iter);
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
			header_line(&o, p, (size_t)(colon - p), v, (size_t)(ve - v));
		} else if (first) {
			request_line(&o, p, (size_t)((eol > p && eol[-1] == '\r' ? eol - 1 : eol) - p));
		} else {
			redact_text(secrets, p, (size_t)((eol > p && eol[-1] == '\r' ? eol - 1 : eol) - p), &o);
			buf_appends(&o, "\n");
		}
		first = 0;
		p = eol < end ? eol + 1 : end;
	}
	buf_appends(&o, "\n");
	if (full && p < end)
		body_text(&o, p, (size_t)(end - p));
	emit(dv, &o);
}

void http_debug_response(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const http_head *h)
{
	size_t i;
	buf o;

	buf_init(&o, 0, BLOCK_MAX);
	buf_printf(&o, "--- http-debug: VU %u, iteration %llu: Response:\nHTTP/1.%d %d\n", vu,
		   (unsigned long long)iter, h->minor_version, h->status);
	for (i = 0; i < h->num_headers; i++)
		header_line(&o, h->headers[i].name, h->headers[i].name_len, h->headers[i].value,
			    h->headers[i].value_len);
	buf_appends(&o, "\n");
	emit(dv, &o);
}

void http_debug_body(uint32_t vu, uint64_t iter, const http_debug_vars *dv, const char *body, size_t len,
		     int truncated)
{
	buf o;

	buf_init(&o, 0, BLOCK_MAX);
	buf_printf(&o, "--- http-debug: VU %u, iteration %llu: Response body (%zu bytes%s):\n", vu,
		   (unsigned long long)iter, len, truncated ? ", cut at the 4 MiB kept" : "");
	body_text(&o, body, len);
	emit(dv, &o);
}
