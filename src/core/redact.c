#include "core/redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

struct redact {
	char **values; /* each secret and its encoded forms, longest first */
	size_t *lens;
	uint32_t nvalues, cap;
	uint32_t nsecrets; /* values added (without their forms) */
	char **names;      /* extra secret names, normalised */
	uint32_t nnames;
};

#define MARK_LEN (sizeof(REDACT_MARK) - 1)

redact *redact_create(void)
{
	return xcalloc(1, sizeof(redact));
}

void redact_destroy(redact *r)
{
	uint32_t i;

	if (!r)
		return;
	for (i = 0; i < r->nvalues; i++) {
		/* Secrets do not outlive the run in freed memory either. */
		memset(r->values[i], 0, r->lens[i]);
		free(r->values[i]);
	}
	for (i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->values);
	free(r->lens);
	free(r->names);
	free(r);
}

/* Lower case without '-' and '_', at most outsz - 1 bytes; 0 if longer. */
static size_t normalise(const char *s, size_t n, char *out, size_t outsz)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '-' || s[i] == '_')
			continue;
		if (k + 1 >= outsz)
			return 0;
		out[k++] = (char)tolower((unsigned char)s[i]);
	}
	out[k] = '\0';
	return k;
}

static void add_form(redact *r, char *v)
{
	size_t len = strlen(v), i;
	uint32_t j;

	for (j = 0; j < r->nvalues; j++)
		if (!strcmp(r->values[j], v)) {
			free(v);
			return;
		}
	if (r->nvalues == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->values = xrealloc(r->values, r->cap * sizeof(*r->values));
		r->lens = xrealloc(r->lens, r->cap * sizeof(*r->lens));
	}
	/* Longest first, so a secret that contains another is hidden whole. */
	for (i = r->nvalues; i > 0 && r->lens[i - 1] < len; i--) {
		r->values[i] = r->values[i - 1];
		r->lens[i] = r->lens[i - 1];
	}
	r->values[i] = v;
	r->lens[i] = len;
	r->nvalues++;
}

static char *pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, k = 0;
	char *out = xmalloc(n * 3 + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			out[k++] = (char)c;
		} else {
			out[k++] = '%';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		}
	}
	out[k] = '\0';
	return out;
}

static char *json_escape(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), i, k = 0;
	char *out = xmalloc(n * 6 + 1);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			memcpy(out + k, "\\u00", 4);
			out[k + 4] = hex[c >> 4];
			out[k + 5] = hex[c & 15];
			k += 6;
		} else {
			out[k++] = (char)c;
		}
	}
	out[k] = '\0';
	return out;
}

int redact_add_value(redact *r, const char *value)
{
	uint32_t j;

	if (!r || !value || strlen(value) < REDACT_MIN_LEN || r->nsecrets >= REDACT_MAX_VALUES)
		return 0;
	for (j = 0; j < r->nvalues; j++)
		if (!strcmp(r->values[j], value))
			return 0;
	add_form(r, xstrdup(value));
	add_form(r, pct_encode(value));
	add_form(r, json_escape(value));
	r->nsecrets++;
	return 1;
}

void redact_add_name(redact *r, const char *name)
{
	char norm[128];
	uint32_t i;

	if (!r || !normalise(name, strlen(name), norm, sizeof(norm)))
		return;
	for (i = 0; i < r->nnames; i++)
		if (!strcmp(r->names[i], norm))
			return;
	r->names = xrealloc(r->names, (r->nnames + 1) * sizeof(*r->names));
	r->names[r->nnames++] = xstrdup(norm);
}

uint32_t redact_nvalues(const redact *r)
{
	return r ? r->nsecrets : 0;
}

int redact_name_secret(const redact *r, const char *name, size_t n)
{
	static const char *const exact[] = {"token", "key",    "password", "passwd",    "pwd",        "pass",
					    "secret", "sig",   "signature", "auth",     "apikey",     "jwt",
					    "sessionid", "credential", "credentials", NULL};
	static const char *const suffix[] = {"token",     "secret",     "password",  "passwd",     "apikey",
					     "accesskey", "secretkey",  "privatekey", "signature", "credential",
					     "credentials", "sessionid", NULL};
	char norm[128];
	size_t k = normalise(name, n, norm, sizeof(norm)), i;

	if (!k)
		return 0;
	for (i = 0; exact[i]; i++)
		if (!strcmp(norm, exact[i]))
			return 1;
	for (i = 0; suffix[i]; i++) {
		size_t sl = strlen(suffix[i]);

		if (k > sl && !strcmp(norm + k - sl, suffix[i]))
			return 1;
	}
	for (i = 0; r && i < r->nnames; i++)
		if (!strcmp(norm, r->names[i]))
			return 1;
	return 0;
}

int redact_header_secret(const redact *r, const char *name, size_t n)
{
	static const char *const names[] = {"authorization", "proxy-authorization", "cookie", "set-cookie", NULL};
	size_t i;

	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == n && !strncasecmp(names[i], name, n))
			return 1;
	return redact_name_secret(r, name, n);
}

/* Appends, cutting silently at out's maximum (callers print what fits). */
static void put(buf *out, const char *s, size_t n)
{
	if (buf_append(out, s, n) < 0 && out->max > out->len)
		buf_append(out, s, out->max - out->len);
}

size_t redact_text(const redact *r, const char *s, size_t n, buf *out)
{
	size_t i = 0, start = 0, hits = 0;
	uint32_t j;

	if (!r || !r->nvalues) {
		put(out, s, n);
		return 0;
	}
	while (i < n) {
		for (j = 0; j < r->nvalues; j++)
			if (r->lens[j] <= n - i && !memcmp(s + i, r->values[j], r->lens[j]))
				break;
		if (j == r->nvalues) {
			i++;
			continue;
		}
		put(out, s + start, i - start);
		put(out, REDACT_MARK, MARK_LEN);
		hits++;
		i += r->lens[j];
		start = i;
	}
	put(out, s + start, n - start);
	return hits;
}

/* A value written as a template names where it comes from, not what it
 * is: {{env.TOKEN}} stays. */
static int is_template(const char *v, size_t n)
{
	return n >= 2 && !memcmp(v, "{{", 2);
}

/* s, a query or a form (name=value pairs joined by '&', up to a '#'), with
 * the values of credential names hidden, into out. */
static size_t redact_pairs(const redact *r, const char *s, size_t n, buf *out)
{
	size_t i = 0, hits = 0;

	while (i < n) {
		size_t k = i, eq, e;

		while (k < n && s[k] != '=' && s[k] != '&')
			k++;
		put(out, s + i, k - i);
		if (k == n)
			break;
		if (s[k] == '&') {
			put(out, "&", 1);
			i = k + 1;
			continue;
		}
		eq = k;
		/* A value ends where a URL cannot go on: a check's name follows
		 * its URL with ": status is 200". */
		for (e = eq + 1; e < n && s[e] != '&' && s[e] != '#' && !isspace((unsigned char)s[e]); e++)
			if (s[e] == ':' && (e + 1 == n || isspace((unsigned char)s[e + 1])))
				break;
		put(out, "=", 1);
		if (e > eq + 1 && redact_name_secret(r, s + i, eq - i) && !is_template(s + eq + 1, e - eq - 1)) {
			put(out, REDACT_MARK, MARK_LEN);
			hits++;
		} else {
			put(out, s + eq + 1, e - eq - 1);
		}
		if (e < n && s[e] != '&') {
			put(out, s + e, n - e);
			break;
		}
		i = e;
	}
	return hits;
}

/* Runs first(s) into a scratch buffer, then redact_text from it into out. */
static size_t two_passes(const redact *r, const char *s, size_t n, buf *out,
			 size_t (*first)(const redact *, const char *, size_t, buf *))
{
	buf tmp;
	size_t hits;

	buf_init(&tmp, n + 64, out->max ? out->max : (size_t)1 << 30);
	hits = first(r, s, n, &tmp);
	hits += redact_text(r, tmp.data ? tmp.data : "", tmp.len, out);
	buf_free(&tmp);
	return hits;
}

static size_t url_pass(const redact *r, const char *s, size_t n, buf *out)
{
	const char *q = memchr(s, '?', n), *scheme, *auth, *auth_end, *at, *colon;
	size_t hits = 0, head = q ? (size_t)(q - s) : n;

	scheme = memchr(s, ':', head);
	/* user:password@ in the authority */
	if (scheme && (size_t)(scheme - s) + 3 <= head && !memcmp(scheme, "://", 3)) {
		auth = scheme + 3;
		auth_end = auth;
		while (auth_end < s + head && *auth_end != '/' && *auth_end != '#')
			auth_end++;
		at = memchr(auth, '@', (size_t)(auth_end - auth));
		colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon && at > colon + 1) {
			put(out, s, (size_t)(colon + 1 - s));
			put(out, REDACT_MARK, MARK_LEN);
			put(out, at, (size_t)(s + head - at));
			hits++;
		} else {
			put(out, s, head);
		}
	} else {
		put(out, s, head);
	}
	if (q) {
		put(out, "?", 1);
		hits += redact_pairs(r, q + 1, n - head - 1, out);
	}
	return hits;
}

size_t redact_url(const redact *r, const char *s, size_t n, buf *out)
{
	return two_passes(r, s, n, out, url_pass);
}

/* JSON: "name" : "value" with a credential name gets its string value
 * hidden (numbers and other values are left: rarely secrets). A body that
 * starts with neither '{' nor '[' is read as a form. */
static size_t body_pass(const redact *r, const char *s, size_t n, buf *out)
{
	size_t i = 0, hits = 0, lead = 0;

	while (lead < n && isspace((unsigned char)s[lead]))
		lead++;
	if (lead == n || (s[lead] != '{' && s[lead] != '[')) {
		/* A form only if it looks like one: name=value pairs, no spaces. */
		if (memchr(s, '=', n) && !memchr(s, ' ', n) && !memchr(s, '\n', n))
			return redact_pairs(r, s, n, out);
		put(out, s, n);
		return 0;
	}
	while (i < n) {
		size_t ks, ke, k, vs, ve;

		if (s[i] != '"') {
			put(out, s + i, 1);
			i++;
			continue;
		}
		/* a string: find its end */
		ks = i + 1;
		for (ke = ks; ke < n && s[ke] != '"'; ke++)
			if (s[ke] == '\\')
				ke++;
		if (ke >= n) {
			put(out, s + i, n - i);
			break;
		}
		put(out, s + i, ke + 1 - i);
		i = ke + 1;
		for (k = i; k < n && isspace((unsigned char)s[k]); k++)
			;
		if (k >= n || s[k] != ':' || !redact_header_secret(r, s + ks, ke - ks))
			continue;
		for (vs = k + 1; vs < n && isspace((unsigned char)s[vs]); vs++)
			;
		if (vs >= n || s[vs] != '"')
			continue;
		for (ve = vs + 1; ve < n && s[ve] != '"'; ve++)
			if (s[ve] == '\\')
				ve++;
		if (ve >= n)
			continue;
		put(out, s + i, vs + 1 - i);
		put(out, REDACT_MARK, MARK_LEN);
		put(out, "\"", 1);
		hits++;
		i = ve + 1;
	}
	return hits;
}

size_t redact_body(const redact *r, const char *s, size_t n, buf *out)
{
	return two_passes(r, s, n, out, body_pass);
}

char *redact_strdup(const redact *r, const char *s, int url)
{
	buf b;
	size_t n = strlen(s);

	buf_init(&b, n + 1, (size_t)1 << 30);
	if (url)
		redact_url(r, s, n, &b);
	else
		redact_text(r, s, n, &b);
	buf_append(&b, "", 1);
	return b.data;
}
