/* Secrets kept out of everything strain writes: outputs, tags, the
 * summary, the report, --http-debug, error messages. A redact set holds
 * the secret values of a run (a plan's secrets:, --secret, environment
 * values used in credential headers and fields) and the names of the
 * headers, query parameters and body fields that carry secrets besides
 * the ones every run treats so (Authorization, Cookie, Set-Cookie,
 * Proxy-Authorization; token, key, password, secret, sig, api_key,
 * access_token and their kin: redact_name_secret). What is hidden becomes
 * REDACT_MARK, k6's marker.
 *
 * Redaction is never on the per-request path: tag values are redacted
 * once, when a tag set is interned (metrics/registry.h); the debug output
 * and error messages, which are slow paths anyway, redact as they print.
 * A set is built at load, then read by every thread without locks. Every
 * function accepts a NULL set: the name rules alone, no values. */
#ifndef STRAIN_CORE_REDACT_H
#define STRAIN_CORE_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define REDACT_MARK "***SECRET_REDACTED***"
/* Shorter values are not kept: hiding every "1" or "abc" in a report would
 * wreck it and protect nothing a guess would not find. */
#define REDACT_MIN_LEN 4
/* A run keeps at most this many values (each with its encoded forms). */
#define REDACT_MAX_VALUES 1024

typedef struct redact redact;

redact *redact_create(void);
/* Accepts NULL. */
void redact_destroy(redact *r);
/* Adds a secret value (copied), with the forms it takes on the wire:
 * percent-encoded (URLs, forms) and JSON-escaped. Returns 1 when added, 0
 * when too short, already known or past REDACT_MAX_VALUES. */
int redact_add_value(redact *r, const char *value);
/* Adds a header, query parameter or body field name whose values are
 * secret (case-insensitive). */
void redact_add_name(redact *r, const char *name);
/* Secret values held (encoded forms not counted). */
uint32_t redact_nvalues(const redact *r);

/* Is a query parameter or body field called name[0..n) a credential? The
 * built-in rule (case-insensitive, '-' and '_' ignored): token, key,
 * password, passwd, pwd, secret, sig, signature, auth, apikey, jwt,
 * sessionid, session, code... and any name ending in token, secret,
 * password, apikey, accesskey, secretkey, privatekey, signature,
 * credential(s); or a name added with redact_add_name. */
int redact_name_secret(const redact *r, const char *name, size_t n);
/* Is a header called name[0..n) secret: Authorization, Cookie,
 * Set-Cookie, Proxy-Authorization, or a credential name (X-Api-Key,
 * X-Auth-Token) by redact_name_secret. */
int redact_header_secret(const redact *r, const char *name, size_t n);

/* Each function appends s[0..n) to out with secrets replaced by
 * REDACT_MARK, and returns how many it replaced (0: out got s as it is).
 * If out's maximum is reached the text is cut there.
 *
 * redact_text: every secret value. */
size_t redact_text(const redact *r, const char *s, size_t n, buf *out);
/* redact_url: a URL or a request target, or text that starts with one (a
 * check's name): the password of user:password@, the values of
 * credential-named query parameters (a value ends at '&', '#', a space or
 * a ': ';
 * one that starts with a template, {{...}}, stays: it names where the
 * value comes from, not the value), then every secret value. */
size_t redact_url(const redact *r, const char *s, size_t n, buf *out);
/* redact_body: a request or response body: values of credential-named
 * fields in JSON ("password": "...") and in forms (password=...), then
 * every secret value. */
size_t redact_body(const redact *r, const char *s, size_t n, buf *out);

/* A NUL-terminated copy of s through redact_url (url) or redact_text;
 * caller frees. */
char *redact_strdup(const redact *r, const char *s, int url);

#endif
