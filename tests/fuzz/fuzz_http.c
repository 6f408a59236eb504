/* libFuzzer driver for the HTTP/1.x parser (responses and requests): the
 * input is fed in pieces whose sizes come from its first bytes, the way
 * reads split a stream, through head detection, head parsing and the body
 * decoder. Any crash, hang or sanitizer report is a bug.
 * Build and run: make fuzz (FUZZ_SECONDS=60). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "http/http_parse.h"

static void parse_stream(const uint8_t *data, size_t size, int request)
{
	buf b;
	http_head h;
	http_body body;
	size_t scan = 0, pos = 0, step = size ? (size_t)(data[0] % 17) + 1 : 1;
	int in_body = 0;

	buf_init(&b, 64, 1 << 20);
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step, off = 0;

		if (buf_append(&b, data + pos, n) < 0)
			break;
		pos += n;
		while (!in_body) {
			size_t hl = http_head_end(b.data, b.len, &scan);
			int rc;

			if (!hl)
				break;
			rc = request ? http_head_parse_request(b.data, hl, &h) : http_head_parse_response(b.data, hl, &h);
			if (rc != HTTP_OK)
				goto out;
			if (request)
				http_body_init_request(&body, &h);
			else
				http_body_init_response(&body, &h, 0);
			in_body = 1;
			off = hl;
		}
		if (in_body) {
			ssize_t used = http_body_feed(&body, b.data + off, b.len - off, NULL, NULL);

			if (used < 0 || body.done)
				goto out;
			b.len = 0;
		}
	}
out:
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_stream(data, size, 0);
	parse_stream(data, size, 1);
	return 0;
}
