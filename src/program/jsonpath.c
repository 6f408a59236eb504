/* JSON path evaluation: walks a response's text in place to the value a
 * compiled path names (compilation is jsonpath_compile.c's, value text and
 * comparison jsonpath_value.c's). */
#include "program/jsonpath.h"

#include "program/json_scan.h"

/* Elements from the end that find_index remembers while counting an array,
 * so [-1] .. [-8] cost one pass; farther ones walk the array a second time. */
#define TAIL_RING 8

/* At a key's opening quote: scans it and compares its unescaped bytes with
 * key. Returns 1 equal, 0 different, -1 malformed. */
static int key_match(const char *s, size_t len, size_t *pos, const char *key, size_t key_len)
{
	json_cursor c;
	size_t n = 0;
	int b, same = 1;

	json_cursor_init(&c, s, len, *pos + 1);
	for (;;) {
		b = json_cursor_byte(&c);
		if (b == -2)
			return -1;
		if (b == -1)
			break;
		if (n >= key_len || (unsigned char)key[n] != b)
			same = 0;
		n++;
	}
	*pos = c.i;
	return same && n == key_len;
}

/* At '{' of an object inside `depth` containers: finds the first member
 * named by st. Returns 1 with *pos at its value, 0 absent, -1 invalid. */
static int find_key(const char *s, size_t len, size_t *pos, int depth, const jsonpath_step *st)
{
	size_t i = json_skip_ws(s, len, *pos + 1);
	int m;

	if (i < len && s[i] == '}')
		return 0;
	for (;;) {
		if (i >= len || s[i] != '"')
			return -1;
		m = key_match(s, len, &i, st->key, st->key_len);
		if (m < 0)
			return -1;
		i = json_skip_ws(s, len, i);
		if (i >= len || s[i] != ':')
			return -1;
		i = json_skip_ws(s, len, i + 1);
		if (m) {
			*pos = i;
			return 1;
		}
		m = json_skip_value(s, len, &i, depth + 1, NULL);
		if (m < 0)
			return m;
		i = json_skip_ws(s, len, i);
		if (i >= len)
			return -1;
		if (s[i] == '}')
			return 0;
		if (s[i] != ',')
			return -1;
		i = json_skip_ws(s, len, i + 1);
	}
}

/* At '[' of an array inside `depth` containers: finds element index (< 0:
 * from the end). Returns 1 with *pos at the element, 0 absent, -1 invalid. */
static int find_index(const char *s, size_t len, size_t *pos, int depth, int64_t index)
{
	size_t tail[TAIL_RING];
	size_t i = json_skip_ws(s, len, *pos + 1);
	uint64_t n, want = index >= 0 ? (uint64_t)index : UINT64_MAX, count, back;

	if (i < len && s[i] == ']')
		return 0;
	for (n = 0;; n++) {
		if (n == want) {
			*pos = i;
			return 1;
		}
		int rc;

		tail[n % TAIL_RING] = i;
		rc = json_skip_value(s, len, &i, depth + 1, NULL);
		if (rc < 0)
			return rc;
		i = json_skip_ws(s, len, i);
		if (i >= len)
			return -1;
		if (s[i] == ']')
			break;
		if (s[i] != ',')
			return -1;
		i = json_skip_ws(s, len, i + 1);
	}
	if (index >= 0)
		return 0;
	count = n + 1;
	back = (uint64_t)-index;
	if (back > count)
		return 0;
	if (back <= TAIL_RING) {
		*pos = tail[(count - back) % TAIL_RING];
		return 1;
	}
	/* One more walk from the start, by a now non-negative index: the
	 * recursion is one level deep at most. */
	return find_index(s, len, pos, depth, (int64_t)(count - back));
}

/* A value that ended at s[i] inside a container must be followed by a
 * delimiter; otherwise the document was cut off or is garbled there. */
static int delimited(const char *s, size_t len, size_t i, int in_array)
{
	i = json_skip_ws(s, len, i);
	return i < len && (s[i] == ',' || s[i] == (in_array ? ']' : '}'));
}

int jsonpath_eval(const jsonpath *p, const char *json, size_t len, json_kind *kind, const char **raw, size_t *raw_len)
{
	const jsonpath_step *st;
	json_kind vk;
	size_t i = 0, start;
	int k, rc, in_array = 0;

	if (!p || !json)
		return -1;
	/* Before step k the value at i sits inside k containers. */
	for (k = 0; k < p->nsteps; k++) {
		st = &p->steps[k];
		i = json_skip_ws(json, len, i);
		if (i >= len)
			return -1;
		if (json[i] != (st->is_index ? '[' : '{')) {
			/* The path leads into a scalar or a container of the other
			 * kind: it does not exist, provided that value is sound. */
			rc = json_skip_value(json, len, &i, k, NULL);
			if (rc < 0)
				return rc;
			return k > 0 && !delimited(json, len, i, in_array) ? -1 : 0;
		}
		rc = st->is_index ? find_index(json, len, &i, k, st->index) : find_key(json, len, &i, k, st);
		if (rc <= 0)
			return rc;
		in_array = st->is_index;
	}
	start = json_skip_ws(json, len, i);
	i = start;
	rc = json_skip_value(json, len, &i, p->nsteps, &vk);
	if (rc < 0)
		return rc;
	if (p->nsteps > 0 && !delimited(json, len, i, in_array))
		return -1;
	if (kind)
		*kind = vk;
	if (raw)
		*raw = json + start;
	if (raw_len)
		*raw_len = i - start;
	return 1;
}
