/* libFuzzer driver for what a server's headers feed the client: Set-Cookie
 * values into one jar (with a Cookie header built and a lookup after each),
 * and Location values resolved against a base. The input is split at NUL
 * bytes; each piece is a Set-Cookie value, and also a Location. Any crash,
 * hang or sanitizer report is a bug. Build and run: make fuzz. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "http/cookie.h"
#include "http/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = {"example.com", "a.example.com", "127.0.0.1", "::1"};
	cookie_jar *j = cookie_jar_create();
	http_loc base = {0, "example.com", "80", "example.com"}, out;
	buf hdr, target;
	size_t pos = 0, k = 0;

	buf_init(&hdr, 0, 1 << 20);
	buf_init(&target, 0, 1 << 16);
	while (pos <= size) {
		const char *p = (const char *)data + pos;
		const uint8_t *nul = memchr(data + pos, 0, size - pos);
		size_t n = nul ? (size_t)(nul - (data + pos)) : size - pos;
		cookie_url u = {hosts[k % 4], "/a/b?c", 6, (int)(k & 1)};
		const char *v;
		size_t vl;

		cookie_jar_set(j, p, n, &u, (uint64_t)k * 1000000000u, 1700000000);
		buf_reset(&hdr);
		cookie_jar_header(j, &u, (uint64_t)k * 1000000000u, &hdr);
		cookie_jar_find(j, "a", &u, (uint64_t)k * 1000000000u, &v, &vl);
		http_url_resolve(&base, "/b/c/d;p?q", 10, p, n, &out, &target);
		pos += n + 1;
		k++;
	}
	buf_free(&hdr);
	buf_free(&target);
	cookie_jar_destroy(j);
	return 0;
}
