/* Content codings (http/coding): each of gzip, deflate (zlib and raw),
 * br and zstd decodes to the original whatever the split of its input
 * (every byte boundary); a bomb stops at the cap with its code; corrupt
 * and cut-short streams are ERR_DECOMPRESS; Content-Encoding values parse
 * to one coding or are refused. Inputs are made with the encoder, and the
 * raw deflate one with zlib directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core/errcode.h"
#include "http/coding.h"

static const char text[] = "{\"items\":[{\"id\":1,\"name\":\"alpha\"},{\"id\":2,\"name\":\"beta\"}],"
			   "\"total\":2,\"pad\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";

static buf got;

static void sink(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	assert_int_equal(buf_append(&got, p, n), 0);
}

/* Feeds z in two parts split at cut (or in one when cut is 0). */
static int decode(http_decoder *d, int coding, const buf *z, size_t cut)
{
	int rc;

	buf_reset(&got);
	http_decoder_reset(d, coding);
	rc = http_decoder_feed(d, z->data, cut, sink, NULL);
	if (!rc)
		rc = http_decoder_feed(d, z->data + cut, z->len - cut, sink, NULL);
	if (!rc)
		rc = http_decoder_finish(d);
	return rc;
}

static void raw_deflate(const char *p, size_t n, buf *out)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	buf_reset(out);
	assert_int_equal(buf_reserve(out, deflateBound(&z, n) + 16), 0);
	z.next_in = (Bytef *)p;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out->data;
	z.avail_out = (uInt)out->cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	out->len = out->cap - z.avail_out;
	deflateEnd(&z);
}

static void test_every_split(void **state)
{
	http_encoder *e = http_encoder_create();
	http_decoder *d = http_decoder_create(1 << 20);
	buf z;
	int coding;
	size_t cut;

	(void)state;
	buf_init(&z, 0, 1 << 20);
	buf_init(&got, 0, 1 << 20);
	for (coding = HTTP_CODING_GZIP; coding <= HTTP_CODING_COUNT; coding++) {
		int c = coding == HTTP_CODING_COUNT ? HTTP_CODING_DEFLATE : coding;

		if (coding == HTTP_CODING_COUNT)
			raw_deflate(text, strlen(text), &z); /* deflate without the zlib wrapper */
		else
			assert_int_equal(http_encode(e, c, text, strlen(text), &z), 0);
		assert_true(z.len > 0);
		for (cut = 0; cut <= z.len; cut++) {
			assert_int_equal(decode(d, c, &z, cut), 0);
			assert_int_equal(got.len, strlen(text));
			assert_memory_equal(got.data, text, got.len);
			assert_int_equal(http_decoder_out(d), strlen(text));
		}
		/* Cut short at every point: never a success. */
		for (cut = 1; cut < z.len; cut++) {
			buf part = z;

			part.len = cut;
			assert_int_equal(decode(d, c, &part, 0), -ERR_DECOMPRESS);
		}
	}
	buf_free(&z);
	buf_free(&got);
	http_decoder_destroy(d);
	http_encoder_destroy(e);
}

static void test_bomb_stops_at_cap(void **state)
{
	size_t big = 8u << 20, cap = 1u << 20;
	char *zeros = calloc(1, big);
	http_encoder *e = http_encoder_create();
	http_decoder *d = http_decoder_create(cap);
	buf z;
	int coding;

	(void)state;
	buf_init(&z, 0, 2 * big);
	buf_init(&got, 0, big);
	for (coding = HTTP_CODING_GZIP; coding < HTTP_CODING_COUNT; coding++) {
		assert_int_equal(http_encode(e, coding, zeros, big, &z), 0);
		assert_true(z.len < cap / 8);
		assert_int_equal(decode(d, coding, &z, z.len / 2), -ERR_DECODED_TOO_LARGE);
		/* Exactly the cap was handed on, no more. */
		assert_int_equal(got.len, cap);
		assert_int_equal(http_decoder_out(d), cap);
		/* The error sticks. */
		assert_int_equal(http_decoder_feed(d, "x", 1, sink, NULL), -ERR_DECODED_TOO_LARGE);
		/* A body of exactly the cap is fine. */
		assert_int_equal(http_encode(e, coding, zeros, cap, &z), 0);
		assert_int_equal(decode(d, coding, &z, 1), 0);
		assert_int_equal(got.len, cap);
	}
	buf_free(&z);
	buf_free(&got);
	free(zeros);
	http_decoder_destroy(d);
	http_encoder_destroy(e);
}

static void test_corrupt(void **state)
{
	http_encoder *e = http_encoder_create();
	http_decoder *d = http_decoder_create(1 << 20);
	buf z;
	int coding;

	(void)state;
	buf_init(&z, 0, 1 << 20);
	buf_init(&got, 0, 1 << 20);
	for (coding = HTTP_CODING_GZIP; coding < HTTP_CODING_COUNT; coding++) {
		/* Not a stream of that coding at all. */
		z.len = 0;
		buf_appends(&z, "this is not compressed, not at all, honestly");
		assert_int_equal(decode(d, coding, &z, 3), -ERR_DECOMPRESS);
		/* A flipped byte in the middle: a checksum or the format says so. */
		assert_int_equal(http_encode(e, coding, text, strlen(text), &z), 0);
		z.data[z.len / 2] ^= 0x55;
		z.data[z.len / 2 + 1] ^= 0x55;
		assert_int_equal(decode(d, coding, &z, 0), -ERR_DECOMPRESS);
		/* Bytes after the end of a (non-gzip) stream are not the body. */
		assert_int_equal(http_encode(e, coding, text, strlen(text), &z), 0);
		if (coding != HTTP_CODING_GZIP) {
			buf_appends(&z, "JUNK");
			assert_int_equal(decode(d, coding, &z, 0), -ERR_DECOMPRESS);
		}
		/* And a good stream after a bad one decodes: the reset is whole. */
		assert_int_equal(http_encode(e, coding, text, strlen(text), &z), 0);
		assert_int_equal(decode(d, coding, &z, 5), 0);
		assert_int_equal(got.len, strlen(text));
	}
	/* An empty body with a coding is an empty body. */
	z.len = 0;
	assert_int_equal(decode(d, HTTP_CODING_GZIP, &z, 0), 0);
	buf_free(&z);
	buf_free(&got);
	http_decoder_destroy(d);
	http_encoder_destroy(e);
}

static void test_gzip_members(void **state)
{
	http_encoder *e = http_encoder_create();
	http_decoder *d = http_decoder_create(1 << 20);
	buf z, two;

	(void)state;
	buf_init(&z, 0, 1 << 20);
	buf_init(&two, 0, 1 << 20);
	buf_init(&got, 0, 1 << 20);
	assert_int_equal(http_encode(e, HTTP_CODING_GZIP, "abc", 3, &z), 0);
	buf_append(&two, z.data, z.len);
	buf_append(&two, z.data, z.len);
	assert_int_equal(decode(d, HTTP_CODING_GZIP, &two, z.len + 1), 0);
	assert_int_equal(got.len, 6);
	assert_memory_equal(got.data, "abcabc", 6);
	buf_free(&z);
	buf_free(&two);
	buf_free(&got);
	http_decoder_destroy(d);
	http_encoder_destroy(e);
}

static void test_parse(void **state)
{
	static const struct {
		const char *v;
		int want;
	} cases[] = {
		{"gzip", HTTP_CODING_GZIP},       {"GZip", HTTP_CODING_GZIP},
		{"x-gzip", HTTP_CODING_GZIP},     {" deflate ", HTTP_CODING_DEFLATE},
		{"br", HTTP_CODING_BR},           {"zstd", HTTP_CODING_ZSTD},
		{"identity", HTTP_CODING_IDENTITY}, {"", HTTP_CODING_IDENTITY},
		{"identity, gzip", HTTP_CODING_GZIP}, {"gzip,", HTTP_CODING_GZIP},
		{"gzip, br", -ERR_CODING_UNSUPPORTED}, {"compress", -ERR_CODING_UNSUPPORTED},
		{"gzipx", -ERR_CODING_UNSUPPORTED}, {"custom", -ERR_CODING_UNSUPPORTED},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(http_coding_parse(cases[i].v, strlen(cases[i].v)), cases[i].want);
	assert_int_equal(http_coding_from_name("zstd"), HTTP_CODING_ZSTD);
	assert_int_equal(http_coding_from_name("identity"), -1);
	assert_int_equal(http_coding_from_name("lzw"), -1);
}

/* Once warm, the pool hands the same decoder back: no new one per response. */
static void test_pool_reuses(void **state)
{
	http_decoder_pool p;
	http_decoder *a, *b;

	(void)state;
	http_decoder_pool_init(&p, 1 << 20);
	a = http_decoder_get(&p, HTTP_CODING_GZIP);
	http_decoder_put(&p, a);
	b = http_decoder_get(&p, HTTP_CODING_BR);
	assert_ptr_equal(a, b);
	assert_int_equal(p.made, 1);
	http_decoder_put(&p, b);
	http_decoder_pool_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split),   cmocka_unit_test(test_bomb_stops_at_cap),
		cmocka_unit_test(test_corrupt),       cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_parse),         cmocka_unit_test(test_pool_reuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
