/* JSON path: compile errors and their positions, lookups that find, miss or
 * meet invalid JSON, every prefix of truncated documents, the nesting limit,
 * string unescaping and value comparison. Documents are copied into buffers
 * of their exact length, so a sanitizer build catches any read past len. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "program/jsonpath.h"

#define CHECK(cond, ...)                                                                                               \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			print_error(__VA_ARGS__);                                                                      \
			fail();                                                                                        \
		}                                                                                                      \
	} while (0)

#define NROWS(t) (sizeof(t) / sizeof((t)[0]))

/* Describes compiled steps as "<key>" and "[N]" for table comparisons. */
static void describe(const jsonpath *p, char *out, size_t outsz)
{
	size_t n = 0;
	int k;

	out[0] = '\0';
	for (k = 0; k < p->nsteps; k++) {
		const jsonpath_step *st = &p->steps[k];

		if (st->is_index)
			n += (size_t)snprintf(out + n, outsz - n, "[%lld]", (long long)st->index);
		else
			n += (size_t)snprintf(out + n, outsz - n, "<%.*s>", (int)st->key_len, st->key);
		assert_true(n < outsz);
	}
}

/* Where the last value found by eval_exact ended in its document. */
static size_t last_end;

/* Evaluates path on doc[0..len) held in a buffer of exactly len bytes. */
static int eval_exact(const char *path, const char *doc, size_t len, json_kind *kind, char *raw, size_t rawsz)
{
	jsonpath p;
	char err[128];
	size_t pos, rl = 0;
	const char *r = NULL;
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, doc, len);
	CHECK(jsonpath_compile(path, &p, err, sizeof(err), &pos) == 0, "compile %s: %s at %zu\n", path, err, pos);
	rc = jsonpath_eval(&p, copy, len, kind, &r, &rl);
	if (rc == 1)
		last_end = (size_t)(r - copy) + rl;
	if (rc == 1 && raw) {
		assert_true(r >= copy && r + rl <= copy + len);
		assert_true(rl < rawsz);
		memcpy(raw, r, rl);
		raw[rl] = '\0';
	}
	jsonpath_free(&p);
	free(copy);
	return rc;
}

static void test_compile_ok(void **state)
{
	static const struct {
		const char *src;
		const char *steps;
	} rows[] = {
		{"$", ""},
		{"$.data.items[0].id", "<data><items>[0]<id>"},
		{"$['a b'][2]", "<a b>[2]"},
		{"$.list[-1]", "<list>[-1]"},
		{"$[\"x\\\"y\"]", "<x\"y>"},
		{"$['it\\'s']", "<it's>"},
		{"$['a\\\\b']", "<a\\b>"},
		{"$['a\\/b']", "<a/b>"},
		{"$[\"it's\"]", "<it's>"},
		{"$['say \"hi\"']", "<say \"hi\">"},
		{"$[ 'a' ][\t3 ]", "<a>[3]"},
		{"$['']", "<>"},
		{"$['.[]$']", "<.[]$>"},
		{"$.h\xc3\xa9llo", "<h\xc3\xa9llo>"},
		{"$.a-b_c$1", "<a-b_c$1>"},
		{"$.0", "<0>"},
		{"$[007]", "[7]"},
		{"$[9223372036854775807]", "[9223372036854775807]"},
		{"$[-9223372036854775807]", "[-9223372036854775807]"},
		{"$[0][1][-2]", "[0][1][-2]"},
		{"$.a['b'].c[\"d\"]", "<a><b><c><d>"},
	};
	char got[512], err[128];
	jsonpath p;
	size_t i, pos;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		CHECK(jsonpath_compile(rows[i].src, &p, err, sizeof(err), &pos) == 0, "row %zu %s: %s at %zu\n", i,
		      rows[i].src, err, pos);
		describe(&p, got, sizeof(got));
		CHECK(strcmp(got, rows[i].steps) == 0, "row %zu %s: got %s\n", i, rows[i].src, got);
		jsonpath_free(&p);
		jsonpath_free(&p); /* freeing twice is harmless */
	}
}

static void test_compile_errors(void **state)
{
	static const struct {
		const char *src;
		size_t pos;
		const char *msg; /* a fragment of the message */
	} rows[] = {
		{"", 0, "starts with '$'"},
		{"a.b", 0, "starts with '$'"},
		{".a", 0, "starts with '$'"},
		{"$.", 2, "must follow"},
		{"$.a.", 4, "must follow"},
		{"$..a", 1, "recursive descent"},
		{"$.*", 2, "wildcards"},
		{"$[*]", 2, "wildcards"},
		{"$[?(@.a)]", 2, "filters"},
		{"$[1:2]", 3, "slices"},
		{"$[:2]", 2, "slices"},
		{"$[0,1]", 3, "unions"},
		{"$[]", 2, "empty"},
		{"$[", 1, "unterminated '['"},
		{"$.a[0", 3, "unterminated '['"},
		{"$['a", 2, "unterminated quoted key"},
		{"$['a'", 1, "unterminated '['"},
		{"$['a\\n']", 4, "unsupported escape"},
		{"$['a']x", 6, "'.' or '['"},
		{"$['a'b]", 5, "']' expected"},
		{"$[0]]", 4, "'.' or '['"},
		{"$[-0]", 2, "[-0]"},
		{"$[-]", 3, "digits"},
		{"$[--1]", 3, "digits"},
		{"$[1x]", 3, "']' expected"},
		{"$[x]", 2, "quoted key or an index"},
		{"$[9223372036854775808]", 2, "out of range"},
		{"$[-99999999999999999999]", 2, "out of range"},
		{"$.a b", 3, "'.' or '['"},
		{"$a", 1, "'.' or '['"},
		{"$.a!", 3, "'.' or '['"},
		{"$.!a", 2, "quote others"},
		{"$ .a", 1, "'.' or '['"},
		{"$$", 1, "'.' or '['"},
		{"$.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.A.B.C.D.E.F.G", 65, "too many steps"},
	};
	char err[128];
	jsonpath p;
	size_t i, pos;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		memset(err, 0, sizeof(err));
		pos = 12345;
		CHECK(jsonpath_compile(rows[i].src, &p, err, sizeof(err), &pos) == -1, "row %zu %s: compiled\n", i,
		      rows[i].src);
		CHECK(pos == rows[i].pos, "row %zu %s: pos %zu, want %zu (%s)\n", i, rows[i].src, pos, rows[i].pos, err);
		CHECK(strstr(err, rows[i].msg) != NULL, "row %zu %s: message \"%s\"\n", i, rows[i].src, err);
		assert_int_equal(p.nsteps, 0);
		assert_null(p.keys);
		jsonpath_free(&p);
	}
	/* Optional outputs may be left out; a tiny err buffer is truncated. */
	assert_int_equal(jsonpath_compile("x", &p, NULL, 0, NULL), -1);
	assert_int_equal(jsonpath_compile(NULL, &p, err, 4, &pos), -1);
	assert_int_equal(strlen(err), 3);
}

static void test_max_steps(void **state)
{
	char src[2 + 3 * JSONPATH_MAX_STEPS + 8], err[128];
	jsonpath p;
	size_t n = 1, pos;
	int k;

	(void)state;
	src[0] = '$';
	for (k = 0; k < JSONPATH_MAX_STEPS; k++) {
		memcpy(src + n, "[0]", 3);
		n += 3;
	}
	src[n] = '\0';
	assert_int_equal(jsonpath_compile(src, &p, err, sizeof(err), &pos), 0);
	assert_int_equal(p.nsteps, JSONPATH_MAX_STEPS);
	jsonpath_free(&p);
	memcpy(src + n, "[0]", 4);
	assert_int_equal(jsonpath_compile(src, &p, err, sizeof(err), &pos), -1);
	assert_int_equal(pos, n);
}

#define D1                                                                                                             \
	"{\"data\":{\"items\":[{\"id\":7,\"name\":\"a\"},{\"id\":8}],\"count\":2},\"ok\":true,\"no\":false,"           \
	"\"nil\":null,\"s\":\"a\\nb\"}"
#define DKEYS "{\"a\\\"b\":1,\"c\\\\d\":2,\"e\\u0041\":3,\"\\u00e9\":4,\"\\ud83d\\ude00\":5,\"a\\/b\":6,\"\xc3\xa8\":7}"
#define DNUM "[1e5,-0.5E-3,0,-0,12.5e+2,1E-0]"
#define D20 "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]"

static const struct eval_row {
	const char *path;
	const char *doc;
	int rc;
	json_kind kind;
	const char *raw;
} eval_rows[] = {
	/* the whole document */
	{"$", "  {\"a\":1}  ", 1, JK_OBJECT, "{\"a\":1}"},
	{"$", "\"str\"", 1, JK_STRING, "\"str\""},
	{"$", "-12.5e3", 1, JK_NUMBER, "-12.5e3"},
	{"$", "[]", 1, JK_ARRAY, "[]"},
	{"$", "null", 1, JK_NULL, "null"},
	{"$", "false", 1, JK_BOOL, "false"},
	{"$", "", -1, 0, NULL},
	{"$", " \n ", -1, 0, NULL},
	{"$", "{\"a\":1", -1, 0, NULL},
	{"$", "{\"a\":[1,2}", -1, 0, NULL},
	/* nested objects and arrays */
	{"$.data.items[0].id", D1, 1, JK_NUMBER, "7"},
	{"$.data.items[1].id", D1, 1, JK_NUMBER, "8"},
	{"$.data.items[-1].id", D1, 1, JK_NUMBER, "8"},
	{"$.data.items[-2].name", D1, 1, JK_STRING, "\"a\""},
	{"$['data']['items'][0]['name']", D1, 1, JK_STRING, "\"a\""},
	{"$.data.items[-3]", D1, 0, 0, NULL},
	{"$.data.items[2]", D1, 0, 0, NULL},
	{"$.data.items[1].name", D1, 0, 0, NULL},
	{"$.data.count", D1, 1, JK_NUMBER, "2"},
	{"$.data.items", D1, 1, JK_ARRAY, "[{\"id\":7,\"name\":\"a\"},{\"id\":8}]"},
	{"$.data", D1, 1, JK_OBJECT, "{\"items\":[{\"id\":7,\"name\":\"a\"},{\"id\":8}],\"count\":2}"},
	{"$.ok", D1, 1, JK_BOOL, "true"},
	{"$.no", D1, 1, JK_BOOL, "false"},
	{"$.nil", D1, 1, JK_NULL, "null"},
	{"$.s", D1, 1, JK_STRING, "\"a\\nb\""},
	{"$.missing", D1, 0, 0, NULL},
	{"$.data.items.id", D1, 0, 0, NULL},
	{"$.ok.x", D1, 0, 0, NULL},
	{"$.nil[0]", D1, 0, 0, NULL},
	{"$.s.x", D1, 0, 0, NULL},
	{"$[0]", D1, 0, 0, NULL},
	{"$.a", "[1]", 0, 0, NULL},
	{"$.a", "5", 0, 0, NULL},
	{"$[0][1]", "[[1,2],3]", 1, JK_NUMBER, "2"},
	{"$[1]", "[[1,2],3]", 1, JK_NUMBER, "3"},
	{"$[0]", "[]", 0, 0, NULL},
	{"$[-1]", "[]", 0, 0, NULL},
	{"$[-1]", "[ ]", 0, 0, NULL},
	{"$.a", "{}", 0, 0, NULL},
	{"$.a", "{ }", 0, 0, NULL},
	{"$['']", "{\"\":1}", 1, JK_NUMBER, "1"},
	/* whitespace everywhere */
	{"$.a[1].b", " \n\t{ \"a\" \r\n : [ 1 , { \"b\" : \"c\" } ] } ", 1, JK_STRING, "\"c\""},
	{"$.a[-1].b", " \n\t{ \"a\" \r\n : [ 1 , { \"b\" : \"c\" } ] } ", 1, JK_STRING, "\"c\""},
	{"$.b", "{ \"a\" : [ 1 , { } , [ ] ] , \"b\" : 2 }", 1, JK_NUMBER, "2"},
	/* escaped and unicode keys */
	{"$['a\"b']", DKEYS, 1, JK_NUMBER, "1"},
	{"$['c\\\\d']", DKEYS, 1, JK_NUMBER, "2"},
	{"$.eA", DKEYS, 1, JK_NUMBER, "3"},
	{"$.\xc3\xa9", DKEYS, 1, JK_NUMBER, "4"},
	{"$['\xf0\x9f\x98\x80']", DKEYS, 1, JK_NUMBER, "5"},
	{"$['a/b']", DKEYS, 1, JK_NUMBER, "6"},
	{"$.\xc3\xa8", DKEYS, 1, JK_NUMBER, "7"},
	{"$.e", DKEYS, 0, 0, NULL},
	{"$.eAx", DKEYS, 0, 0, NULL},
	{"$.a", "{\"ab\":1,\"a\":2}", 1, JK_NUMBER, "2"},
	{"$.ab", "{\"a\":1}", 0, 0, NULL},
	{"$['\xef\xbf\xbd']", "{\"\\ud800\":1}", 1, JK_NUMBER, "1"},
	/* duplicate keys: the first wins */
	{"$.a", "{\"a\":1,\"a\":2}", 1, JK_NUMBER, "1"},
	{"$.a", "{\"b\":0,\"a\":{\"x\":1},\"a\":2}", 1, JK_OBJECT, "{\"x\":1}"},
	/* numbers */
	{"$[0]", DNUM, 1, JK_NUMBER, "1e5"},
	{"$[1]", DNUM, 1, JK_NUMBER, "-0.5E-3"},
	{"$[2]", DNUM, 1, JK_NUMBER, "0"},
	{"$[3]", DNUM, 1, JK_NUMBER, "-0"},
	{"$[4]", DNUM, 1, JK_NUMBER, "12.5e+2"},
	{"$[-1]", DNUM, 1, JK_NUMBER, "1E-0"},
	{"$[6]", DNUM, 0, 0, NULL},
	{"$[1]", "[01,2]", -1, 0, NULL},
	{"$[0]", "[01]", -1, 0, NULL},
	{"$[1]", "[1.,2]", -1, 0, NULL},
	{"$[1]", "[.5,2]", -1, 0, NULL},
	{"$[1]", "[-,2]", -1, 0, NULL},
	{"$[1]", "[1e,2]", -1, 0, NULL},
	{"$[1]", "[1e+,2]", -1, 0, NULL},
	{"$[1]", "[+1,2]", -1, 0, NULL},
	{"$[1]", "[0x1,2]", -1, 0, NULL},
	{"$[0]", "[-]", -1, 0, NULL},
	/* negative indices, near and far from the end */
	{"$[-1]", D20, 1, JK_NUMBER, "19"},
	{"$[-8]", D20, 1, JK_NUMBER, "12"},
	{"$[-9]", D20, 1, JK_NUMBER, "11"},
	{"$[-15]", D20, 1, JK_NUMBER, "5"},
	{"$[-20]", D20, 1, JK_NUMBER, "0"},
	{"$[-21]", D20, 0, 0, NULL},
	{"$[-9223372036854775807]", D20, 0, 0, NULL},
	{"$[19]", D20, 1, JK_NUMBER, "19"},
	{"$[20]", D20, 0, 0, NULL},
	{"$[9223372036854775807]", D20, 0, 0, NULL},
	{"$[-1][-1]", "[[1,[2]],[3,[4,5]]]", 1, JK_ARRAY, "[4,5]"},
	/* invalid literals, strings and structure on the way */
	{"$[1]", "[tru,1]", -1, 0, NULL},
	{"$[1]", "[nul,1]", -1, 0, NULL},
	{"$.b", "{\"a\":True,\"b\":1}", -1, 0, NULL},
	{"$[1]", "[\"a\\x\",1]", -1, 0, NULL},
	{"$[1]", "[\"\\u12G4\",1]", -1, 0, NULL},
	{"$[1]", "[\"\\u12\",1]", -1, 0, NULL},
	{"$[1]", "[\"tab\there\",1]", -1, 0, NULL},
	{"$[1]", "[\"a", -1, 0, NULL},
	{"$.b", "{\"a\\q\":1,\"b\":2}", -1, 0, NULL},
	{"$.b", "{\"a\":1,}", -1, 0, NULL},
	{"$.b", "{\"a\" 1}", -1, 0, NULL},
	{"$.b", "{a:1}", -1, 0, NULL},
	{"$.b", "{'a':1}", -1, 0, NULL},
	{"$.b", "{\"a\":1 \"b\":2}", -1, 0, NULL},
	{"$.b", "{\"a\":}", -1, 0, NULL},
	{"$.b", "{,}", -1, 0, NULL},
	{"$[1]", "[1,]", -1, 0, NULL},
	{"$[2]", "[1,,2]", -1, 0, NULL},
	{"$[1]", "[1 2]", -1, 0, NULL},
	{"$.b", "{\"a\":[1}", -1, 0, NULL},
	{"$.b", "{\"a\":1]", -1, 0, NULL},
	{"$.b", "{\"a\":{\"x\":[}]}}", -1, 0, NULL},
	{"$.c", "{\"a\":{\"b\":1}", -1, 0, NULL},
	{"$.a", "{\"a\":[1,2}", -1, 0, NULL},
	{"$.a", "{\"a\":{\"b\"}}", -1, 0, NULL},
	{"$.a", "", -1, 0, NULL},
	{"$.a", "x", -1, 0, NULL},
	{"$[0]", "[", -1, 0, NULL},
	/* a scalar cut off where the path wanted to go on */
	{"$.a.b", "{\"a\":1", -1, 0, NULL},
	{"$.a.b", "{\"a\":1}", 0, 0, NULL},
	/* brackets inside strings do not count */
	{"$.b", "{\"a\":\"}]\",\"b\":\"[{\"}", 1, JK_STRING, "\"[{\""},
	{"$.t", "{\"x\":{\"y\":[{\"z\":\"}\\\"\"}]},\"t\":5}", 1, JK_NUMBER, "5"},
	/* trailing garbage after the found value is not examined */
	{"$.a", "{\"a\":1}garbage", 1, JK_NUMBER, "1"},
	{"$.a", "{\"a\":1, xyz", 1, JK_NUMBER, "1"},
	{"$.a", "{\"a\":\"x\"}}}", 1, JK_STRING, "\"x\""},
	{"$[0]", "[1,2] junk", 1, JK_NUMBER, "1"},
	{"$", "{\"a\":1}xyz", 1, JK_OBJECT, "{\"a\":1}"},
	{"$", "42 rest", 1, JK_NUMBER, "42"},
	/* but the value must end at a delimiter, or it may have been cut */
	{"$.a", "{\"a\":12x}", -1, 0, NULL},
	{"$.a", "{\"a\":12", -1, 0, NULL},
	{"$.a", "{\"a\":true ", -1, 0, NULL},
	{"$[0]", "[1", -1, 0, NULL},
	{"$[0]", "[1}", -1, 0, NULL},
	{"$.a", "{\"a\":1]", -1, 0, NULL},
};

static void test_eval_table(void **state)
{
	char raw[512];
	json_kind kind;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NROWS(eval_rows); i++) {
		const struct eval_row *r = &eval_rows[i];

		kind = JK_NONE;
		raw[0] = '\0';
		rc = eval_exact(r->path, r->doc, strlen(r->doc), &kind, raw, sizeof(raw));
		CHECK(rc == r->rc, "row %zu %s on %s: rc %d, want %d\n", i, r->path, r->doc, rc, r->rc);
		if (rc != 1)
			continue;
		CHECK(kind == r->kind, "row %zu %s: kind %d, want %d\n", i, r->path, kind, r->kind);
		CHECK(strcmp(raw, r->raw) == 0, "row %zu %s: raw %s, want %s\n", i, r->path, raw, r->raw);
	}
}

/* Every prefix of a document: a found value is returned only once the text
 * holds it and the delimiter after it (for [-N], the whole array), identical
 * to the full document's, and from then on for every longer prefix; before
 * that the answer is -1. A path that is absent never appears found. */
static void test_eval_truncated(void **state)
{
	static const struct {
		const char *path;
		const char *doc;
	} rows[] = {
		{"$.data.items[0].id", D1},
		{"$.data.items[-1].id", D1},
		{"$.data.items[-2].name", D1},
		{"$.s", D1},
		{"$.nil", D1},
		{"$.data", D1},
		{"$.missing", D1},
		{"$.data.items[5]", D1},
		{"$.data.items[-5]", D1},
		{"$['\xf0\x9f\x98\x80']", DKEYS},
		{"$[-1]", DNUM},
		{"$[4]", DNUM},
		{"$[-15]", D20},
		{"$.a[1].b", " { \"a\" : [ 1 , { \"b\" : \"c\" } ] } "},
	};
	char full[512], part[512];
	json_kind kind, pkind;
	size_t i, len, cut, end;
	int rc, prc, seen;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		seen = 0;
		len = strlen(rows[i].doc);
		rc = eval_exact(rows[i].path, rows[i].doc, len, &kind, full, sizeof(full));
		end = len;
		if (rc == 1) {
			/* Where the value ends and the next delimiter is. */
			end = last_end;
			while (rows[i].doc[end] && strchr(" \t\r\n", rows[i].doc[end]))
				end++;
		}
		for (cut = 0; cut < len; cut++) {
			prc = eval_exact(rows[i].path, rows[i].doc, cut, &pkind, part, sizeof(part));
			if (rc == 1) {
				CHECK(prc == -1 || (prc == 1 && cut > end && pkind == kind && strcmp(part, full) == 0),
				      "row %zu %s cut %zu: rc %d\n", i, rows[i].path, cut, prc);
				CHECK(!seen || prc == 1, "row %zu %s cut %zu: lost\n", i, rows[i].path, cut);
				seen = prc == 1;
				/* Without [-N], as soon as the delimiter is there. */
				if (cut == end + 1 && !strstr(rows[i].path, "[-"))
					CHECK(prc == 1, "row %zu %s cut %zu: rc %d, want 1\n", i, rows[i].path, cut, prc);
			} else {
				CHECK(prc != 1, "row %zu %s cut %zu: found\n", i, rows[i].path, cut);
			}
		}
	}
	/* A member missing from the top-level object needs all of it. */
	len = strlen(D1);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(eval_exact("$.missing", D1, cut, NULL, NULL, 0), -1);
	assert_int_equal(eval_exact("$.missing", D1, len, NULL, NULL, 0), 0);
}

/* n arrays nested around 1, or n objects {"a": ...} */
static char *nest(size_t n, int objects, size_t *len)
{
	buf b;
	size_t i;

	buf_init(&b, 0, 1 << 24);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_appends(&b, objects ? "{\"a\":" : "["), 0);
	assert_int_equal(buf_appends(&b, "1"), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(buf_appends(&b, objects ? "}" : "]"), 0);
	*len = b.len;
	return b.data;
}

static void test_nesting_limit(void **state)
{
	char path[256];
	json_kind kind;
	size_t len, n = 1;
	char *doc;
	int k;

	(void)state;
	doc = nest(JSONPATH_MAX_DEPTH, 0, &len);
	assert_int_equal(eval_exact("$", doc, len, &kind, NULL, 0), 1);
	assert_int_equal(kind, JK_ARRAY);
	path[0] = '$';
	for (k = 0; k < JSONPATH_MAX_STEPS; k++) {
		memcpy(path + n, "[0]", 3);
		n += 3;
	}
	path[n] = '\0';
	assert_int_equal(eval_exact(path, doc, len, &kind, NULL, 0), 1);
	assert_int_equal(eval_exact("$[1]", doc, len, NULL, NULL, 0), 0);
	free(doc);

	/* Past the depth the walker can hold: an engine limit, not invalid. */
	doc = nest(JSONPATH_MAX_DEPTH + 1, 0, &len);
	assert_int_equal(eval_exact("$", doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	assert_int_equal(eval_exact(path, doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	assert_int_equal(eval_exact("$[1]", doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	free(doc);

	doc = nest(JSONPATH_MAX_DEPTH, 1, &len);
	assert_int_equal(eval_exact("$.a.a.a", doc, len, &kind, NULL, 0), 1);
	assert_int_equal(eval_exact("$.b", doc, len, NULL, NULL, 0), 0);
	free(doc);
	doc = nest(JSONPATH_MAX_DEPTH + 1, 1, &len);
	assert_int_equal(eval_exact("$.a.a.a", doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	assert_int_equal(eval_exact("$.b", doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	free(doc);

	/* Very deep input fails fast, without using the stack. */
	doc = nest(1000000, 0, &len);
	assert_int_equal(eval_exact("$", doc, len, NULL, NULL, 0), JSONPATH_ELIMIT);
	free(doc);

	/* The 256 levels can hide inside one value on the way. */
	doc = nest(JSONPATH_MAX_DEPTH - 1, 0, &len);
	{
		char *wrapped = malloc(len + 7);

		assert_non_null(wrapped);
		memcpy(wrapped, "{\"a\":", 5);
		memcpy(wrapped + 5, doc, len);
		memcpy(wrapped + 5 + len, "}", 1);
		assert_int_equal(eval_exact("$.a", wrapped, len + 6, NULL, NULL, 0), 1);
		assert_int_equal(eval_exact("$.b", wrapped, len + 6, NULL, NULL, 0), 0);
		free(wrapped);
	}
	free(doc);
	doc = nest(JSONPATH_MAX_DEPTH, 0, &len);
	{
		char *wrapped = malloc(len + 7);

		assert_non_null(wrapped);
		memcpy(wrapped, "{\"a\":", 5);
		memcpy(wrapped + 5, doc, len);
		memcpy(wrapped + 5 + len, "}", 1);
		assert_int_equal(eval_exact("$.a", wrapped, len + 6, NULL, NULL, 0), JSONPATH_ELIMIT);
		assert_int_equal(eval_exact("$.b", wrapped, len + 6, NULL, NULL, 0), JSONPATH_ELIMIT);
		free(wrapped);
	}
	free(doc);
}

static void test_eval_args(void **state)
{
	jsonpath zero = {0}, p;
	const char *raw = (const char *)1;
	size_t rl = 99;
	json_kind kind = JK_NONE;

	(void)state;
	/* A zeroed path is "$". */
	assert_int_equal(jsonpath_eval(&zero, "7", 1, &kind, &raw, &rl), 1);
	assert_int_equal(kind, JK_NUMBER);
	assert_int_equal(rl, 1);
	assert_int_equal(jsonpath_eval(&zero, NULL, 0, &kind, &raw, &rl), -1);
	/* Outputs are optional, and untouched when nothing is found. */
	assert_int_equal(jsonpath_compile("$.a", &p, NULL, 0, NULL), 0);
	assert_int_equal(jsonpath_eval(&p, "{\"a\":1}", 7, NULL, NULL, NULL), 1);
	raw = NULL;
	rl = 99;
	kind = JK_STRING;
	assert_int_equal(jsonpath_eval(&p, "{\"b\":1}", 7, &kind, &raw, &rl), 0);
	assert_null(raw);
	assert_int_equal(rl, 99);
	assert_int_equal(kind, JK_STRING);
	jsonpath_free(&p);
	jsonpath_free(NULL);
}

static void test_text(void **state)
{
	static const struct {
		json_kind kind;
		const char *raw;
		ssize_t rc;
		const char *out; /* rc bytes */
	} rows[] = {
		{JK_STRING, "\"a\\nb\"", 3, "a\nb"},
		{JK_STRING, "\"\"", 0, ""},
		{JK_STRING, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", 8, "\"\\/\b\f\n\r\t"},
		{JK_STRING, "\"\\u0041\\u00e9\\u20ac\"", 6, "A\xc3\xa9\xe2\x82\xac"},
		{JK_STRING, "\"\\u0000x\"", 2, "\0x"},
		{JK_STRING, "\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"", 1 + 2 + 2 + 3 + 3,
		 "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf"},
		{JK_STRING, "\"\\ud83d\\ude00\"", 4, "\xf0\x9f\x98\x80"},
		{JK_STRING, "\"\\uD83D\\uDE00!\"", 5, "\xf0\x9f\x98\x80!"},
		{JK_STRING, "\"\\ud800\\udc00\"", 4, "\xf0\x90\x80\x80"},
		{JK_STRING, "\"\\udbff\\udfff\"", 4, "\xf4\x8f\xbf\xbf"},
		{JK_STRING, "\"h\xc3\xa9llo\"", 6, "h\xc3\xa9llo"},
		/* lone surrogates become U+FFFD */
		{JK_STRING, "\"\\ud83dx\"", 4, "\xef\xbf\xbdx"},
		{JK_STRING, "\"\\ud83d\"", 3, "\xef\xbf\xbd"},
		{JK_STRING, "\"\\ude00\"", 3, "\xef\xbf\xbd"},
		{JK_STRING, "\"\\ud83d\\u0041\"", 4, "\xef\xbf\xbd" "A"},
		{JK_STRING, "\"\\ud83d\\ud83d\\ude00\"", 7, "\xef\xbf\xbd\xf0\x9f\x98\x80"},
		{JK_STRING, "\"\\ud83d\\n\"", 4, "\xef\xbf\xbd\n"},
		/* malformed strings */
		{JK_STRING, "\"\\x\"", -1, NULL},
		{JK_STRING, "\"\\u12\"", -1, NULL},
		{JK_STRING, "\"\\u12G4\"", -1, NULL},
		{JK_STRING, "\"\\ud83d\\u12\"", -1, NULL},
		{JK_STRING, "\"\\ud83d\\uZZZZ\"", -1, NULL},
		{JK_STRING, "\"\\U0041\"", -1, NULL},
		{JK_STRING, "\"\\'\"", -1, NULL},
		{JK_STRING, "\"abc", -1, NULL},
		{JK_STRING, "abc", -1, NULL},
		{JK_STRING, "\"a\"b", -1, NULL},
		{JK_STRING, "\"a\"\"", -1, NULL},
		{JK_STRING, "\"", -1, NULL},
		{JK_STRING, "", -1, NULL},
		{JK_STRING, "\"\\\"", -1, NULL},
		{JK_STRING, "\"\\", -1, NULL},
		{JK_STRING, "\"a\tb\"", -1, NULL},
		{JK_STRING, "\"a\nb\"", -1, NULL},
		/* other kinds as written */
		{JK_NUMBER, "12.5e1", 6, "12.5e1"},
		{JK_BOOL, "true", 4, "true"},
		{JK_NULL, "null", 4, "null"},
		{JK_OBJECT, "{\"a\": \"\\n\"}", 11, "{\"a\": \"\\n\"}"},
		{JK_ARRAY, "[1, 2]", 6, "[1, 2]"},
	};
	char out[64];
	size_t i;
	ssize_t rc;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		size_t len = strlen(rows[i].raw);
		char *copy = malloc(len + 1);

		assert_non_null(copy);
		memcpy(copy, rows[i].raw, len);
		memset(out, 'Z', sizeof(out));
		rc = jsonpath_text(rows[i].kind, copy, len, out, sizeof(out));
		CHECK(rc == rows[i].rc, "row %zu %s: rc %zd, want %zd\n", i, rows[i].raw, rc, rows[i].rc);
		if (rc >= 0) {
			CHECK(memcmp(out, rows[i].out, (size_t)rc) == 0 && out[rc] == '\0', "row %zu %s: %.*s\n", i,
			      rows[i].raw, (int)rc, out);
			/* Sizing call, then every smaller buffer: truncated, terminated, same return. */
			assert_int_equal(jsonpath_text(rows[i].kind, copy, len, NULL, 0), rc);
			for (size_t sz = 1; sz <= (size_t)rc; sz++) {
				memset(out, 'Z', sizeof(out));
				assert_int_equal(jsonpath_text(rows[i].kind, copy, len, out, sz), rc);
				assert_memory_equal(out, rows[i].out, sz - 1);
				assert_int_equal(out[sz - 1], '\0');
				assert_int_equal(out[sz], 'Z');
			}
		}
		free(copy);
	}
}

static void test_text_of_found_values(void **state)
{
	char raw[128], out[128];
	json_kind kind;

	(void)state;
	assert_int_equal(eval_exact("$.s", D1, strlen(D1), &kind, raw, sizeof(raw)), 1);
	assert_int_equal(jsonpath_text(kind, raw, strlen(raw), out, sizeof(out)), 3);
	assert_string_equal(out, "a\nb");
	assert_int_equal(eval_exact("$.data.count", D1, strlen(D1), &kind, raw, sizeof(raw)), 1);
	assert_int_equal(jsonpath_text(kind, raw, strlen(raw), out, sizeof(out)), 1);
	assert_string_equal(out, "2");
}

static void test_equals(void **state)
{
	static const struct {
		json_kind kind;
		const char *raw;
		const char *expected;
		int eq;
	} rows[] = {
		/* numbers: exact decimal value */
		{JK_NUMBER, "1", "1", 1},
		{JK_NUMBER, "1", "1.0", 1},
		{JK_NUMBER, "1.0", "1", 1},
		{JK_NUMBER, "1", "\"1\"", 0},
		{JK_NUMBER, "1", "true", 0},
		{JK_NUMBER, "1", " 1\n", 1},
		{JK_NUMBER, "100", "1e2", 1},
		{JK_NUMBER, "100", "10e1", 1},
		{JK_NUMBER, "1e2", "100.00", 1},
		{JK_NUMBER, "1.5e3", "1500", 1},
		{JK_NUMBER, "15e2", "1.5E+3", 1},
		{JK_NUMBER, "0.001", "1e-3", 1},
		{JK_NUMBER, "0.1", "1E-1", 1},
		{JK_NUMBER, "2.50", "2.5", 1},
		{JK_NUMBER, "2.5", "2.05", 0},
		{JK_NUMBER, "10", "1", 0},
		{JK_NUMBER, "1", "10", 0},
		{JK_NUMBER, "-1", "1", 0},
		{JK_NUMBER, "-1.5", "-15e-1", 1},
		{JK_NUMBER, "0", "-0", 1},
		{JK_NUMBER, "0.0", "0e10", 1},
		{JK_NUMBER, "-0.000", "0", 1},
		{JK_NUMBER, "0", "1e-400", 0},
		{JK_NUMBER, "12345678901234567891", "12345678901234567890", 0},
		{JK_NUMBER, "12345678901234567891", "1.2345678901234567891e19", 1},
		{JK_NUMBER, "1", "1x", 0},
		{JK_NUMBER, "1", "01", 0},
		{JK_NUMBER, "1", "", 0},
		{JK_NUMBER, "1", "1 2", 0},
		{JK_NUMBER, "1x", "1", 0},
		/* strings, after unescaping */
		{JK_STRING, "\"x\"", "\"x\"", 1},
		{JK_STRING, "\"x\"", "x", 0},
		{JK_STRING, "\"x\"", "\"X\"", 0},
		{JK_STRING, "\"a\\nb\"", "\"a\\u000ab\"", 1},
		{JK_STRING, "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", 1},
		{JK_STRING, "\"\\/\"", "\"/\"", 1},
		{JK_STRING, "\"ab\"", "\"a\"", 0},
		{JK_STRING, "\"a\"", "\"ab\"", 0},
		{JK_STRING, "\"\"", "\"\"", 1},
		{JK_STRING, "\"1\"", "1", 0},
		{JK_STRING, "\"a\\x\"", "\"a\\x\"", 0},
		{JK_STRING, "\"a\"", " \"a\" ", 1},
		/* literals */
		{JK_BOOL, "true", "true", 1},
		{JK_BOOL, "true", " true\n", 1},
		{JK_BOOL, "true", "false", 0},
		{JK_BOOL, "true", "1", 0},
		{JK_BOOL, "false", "false", 1},
		{JK_BOOL, "true", "True", 0},
		{JK_NULL, "null", "null", 1},
		{JK_NULL, "null", "\"null\"", 0},
		{JK_NULL, "null", "0", 0},
		/* containers by text without insignificant blanks */
		{JK_OBJECT, "{ \"a\" : [1, 2] }", "{\"a\":[1,2]}", 1},
		{JK_OBJECT, "{\"a\":[1,2]}", "{\"a\":[2,1]}", 0},
		{JK_OBJECT, "{\"a\":\"x y\"}", "{\"a\":\"xy\"}", 0},
		{JK_OBJECT, "{\"a\":\"x\\\" y\"}", "{ \"a\" : \"x\\\" y\" }", 1},
		{JK_OBJECT, "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", 0},
		{JK_OBJECT, "{}", "[]", 0},
		{JK_ARRAY, "[]", "[ ]", 1},
		{JK_ARRAY, "[1]", "[1.0]", 0},
		{JK_ARRAY, "[1]", "[1", 0},
		/* the kind must match the raw text */
		{JK_STRING, "1", "1", 0},
		{JK_NONE, "1", "1", 0},
	};
	size_t i;
	int eq;

	(void)state;
	for (i = 0; i < NROWS(rows); i++) {
		eq = jsonpath_equals(rows[i].kind, rows[i].raw, strlen(rows[i].raw), rows[i].expected,
				     strlen(rows[i].expected));
		CHECK(eq == rows[i].eq, "row %zu %s vs %s: %d\n", i, rows[i].raw, rows[i].expected, eq);
		/* Equality is symmetric. */
		eq = jsonpath_equals(rows[i].kind, rows[i].expected, strlen(rows[i].expected), rows[i].raw,
				     strlen(rows[i].raw));
		CHECK(eq == rows[i].eq, "row %zu %s vs %s (swapped): %d\n", i, rows[i].raw, rows[i].expected, eq);
	}
	assert_int_equal(jsonpath_equals(JK_NUMBER, NULL, 0, "1", 1), 0);
	assert_int_equal(jsonpath_equals(JK_NUMBER, "1", 1, NULL, 0), 0);
}

/* Every found value in the table equals itself, as raw text and as an
 * expected literal. */
static void test_equals_found_values(void **state)
{
	char raw[512];
	json_kind kind;
	size_t i;

	(void)state;
	for (i = 0; i < NROWS(eval_rows); i++) {
		if (eval_rows[i].rc != 1)
			continue;
		assert_int_equal(eval_exact(eval_rows[i].path, eval_rows[i].doc, strlen(eval_rows[i].doc), &kind, raw,
					    sizeof(raw)),
				 1);
		CHECK(jsonpath_equals(kind, raw, strlen(raw), eval_rows[i].raw, strlen(eval_rows[i].raw)) == 1,
		      "row %zu %s\n", i, raw);
		if (kind == JK_STRING)
			CHECK(jsonpath_text(kind, raw, strlen(raw), NULL, 0) >= 0, "row %zu %s\n", i, raw);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_ok),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_max_steps),
		cmocka_unit_test(test_eval_table),
		cmocka_unit_test(test_eval_truncated),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_eval_args),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_of_found_values),
		cmocka_unit_test(test_equals),
		cmocka_unit_test(test_equals_found_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
