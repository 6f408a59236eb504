/* The strict parsers users feed through flags and plans (core/parse):
 * durations in Go/k6 syntax, bounded unsigned integers, hex digits, and the
 * k6-style duration printer. Each accepts the whole string or nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/parse.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static void test_durations_accepted(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} cases[] = {
		{"1m30s", UINT64_C(90000000000)},
		{"250ms", UINT64_C(250000000)},
		{"1.5s", UINT64_C(1500000000)},
		{"0.25s", UINT64_C(250000000)},
		{".5s", UINT64_C(500000000)},       /* Go accepts a leading dot */
		{"5.s", UINT64_C(5000000000)},      /* ... and a trailing one */
		{"100us", UINT64_C(100000)},
		{"100\xc2\xb5s", UINT64_C(100000)}, /* "µs", as Go also spells it */
		{"20ns", UINT64_C(20)},
		{"1h", UINT64_C(3600000000000)},
		{"1h30m", UINT64_C(5400000000000)},
		{"2h45m10s500ms", UINT64_C(9910500000000)},
		{"1m1ms", UINT64_C(60001000000)},   /* "ms" is not "m" then "s" */
		{"1s1s", UINT64_C(2000000000)},     /* units may repeat, as in Go */
		{"0", 0},
		{"0s", 0},
		{"7", UINT64_C(7000000000)},        /* a bare number is seconds */
		{"1.5", UINT64_C(1500000000)},
		{"0.0000000015s", UINT64_C(2)},     /* rounds to the nearest ns */
		{"1000000000s", UINT64_C(1000000000000000000)},
		/* Past INT64_MAX ns (~292 years) but within the 1e19 ns limit: the
		 * exact value, not a wrapped one. */
		{"9300000000s", UINT64_C(9300000000000000000)},
		{"2600000h", UINT64_C(9360000000000000000)},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		uint64_t v = 12345;

		if (parse_duration_ns(cases[i].s, &v) != 0)
			fail_msg("rejected duration '%s'", cases[i].s);
		if (v != cases[i].ns)
			fail_msg("'%s': got %llu ns, want %llu", cases[i].s, (unsigned long long)v,
				 (unsigned long long)cases[i].ns);
	}
}

static void test_durations_rejected(void **state)
{
	static const char *const cases[] = {
		"",            /* empty */
		"s",           /* unit without a number */
		"ms",
		"-1s",         /* negative */
		"-5",
		"+5s",         /* no sign at all */
		"1m30",        /* a bare number only on its own */
		"30 s",        /* no spaces */
		" 30s",
		"30s ",
		"10x",         /* unknown unit */
		"10sec",
		"1d",          /* Go has no days either */
		"1.2.3s",      /* two dots */
		"1..5s",
		".s",
		"1e3s",        /* no exponents */
		"0x10s",
		"inf",
		"nan",
		"NaNs",
		"1S",          /* units are case-sensitive */
		"1M",
		"10000000001s",  /* just past the 1e19 ns limit */
		"5124096h",      /* about UINT64_MAX ns */
		"99999999999999999999999999h",
		"1s\xc2",        /* a truncated multi-byte unit */
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		uint64_t v = 777;

		if (parse_duration_ns(cases[i], &v) == 0)
			fail_msg("accepted duration '%s' as %llu ns", cases[i], (unsigned long long)v);
		/* A failed parse leaves the output alone. */
		assert_int_equal(v, 777);
	}
	assert_int_equal(parse_duration_ns(NULL, &(uint64_t){0}), -1);
}

static void test_u64(void **state)
{
	static const struct {
		const char *s;
		uint64_t min, max;
		int rc;
		uint64_t v;
	} cases[] = {
		{"0", 0, 10, 0, 0},
		{"10", 0, 10, 0, 10},
		{"11", 0, 10, -1, 0},     /* above max */
		{"0", 1, 10, -1, 0},      /* below min */
		{"007", 0, 10, 0, 7},     /* leading zeros are still decimal */
		{"18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX},
		{"18446744073709551616", 0, UINT64_MAX, -1, 0}, /* overflow by one */
		{"99999999999999999999", 0, UINT64_MAX, -1, 0},
		{"000000000000000000001", 0, UINT64_MAX, -1, 0}, /* more than 20 digits */
		{"", 0, 10, -1, 0},
		{"-1", 0, 10, -1, 0},
		{"+1", 0, 10, -1, 0},
		{" 1", 0, 10, -1, 0},
		{"1 ", 0, 10, -1, 0},
		{"1x", 0, 10, -1, 0},
		{"0x1", 0, 10, -1, 0},
		{"1.0", 0, 10, -1, 0},
		{"1e1", 0, 100, -1, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		uint64_t v = 4242;
		int rc = parse_u64(cases[i].s, cases[i].min, cases[i].max, &v);

		if (rc != cases[i].rc)
			fail_msg("parse_u64('%s', %llu, %llu) = %d, want %d", cases[i].s,
				 (unsigned long long)cases[i].min, (unsigned long long)cases[i].max, rc, cases[i].rc);
		assert_int_equal(v, rc == 0 ? cases[i].v : 4242);
	}
}

static void test_u64n_reads_only_n_bytes(void **state)
{
	uint64_t v = 0;

	(void)state;
	/* A length from a header or a URL: what follows is not looked at. */
	assert_int_equal(parse_u64n("8080/path", 4, 1, 65535, &v), 0);
	assert_int_equal(v, 8080);
	assert_int_equal(parse_u64n("12345", 2, 0, 100, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(parse_u64n("12345", 0, 0, 100, &v), -1);
	assert_int_equal(parse_u64n("1x", 2, 0, 100, &v), -1);
}

static void test_hex_digit(void **state)
{
	static const char digits[] = "0123456789abcdef";
	int c;

	(void)state;
	for (c = 0; c < 16; c++) {
		assert_int_equal(parse_hex_digit(digits[c]), c);
		assert_int_equal(parse_hex_digit(digits[c] >= 'a' ? digits[c] - 32 : digits[c]), c);
	}
	for (c = -1; c < 256; c++)
		if (!strchr("0123456789abcdefABCDEF", c) || c == 0)
			assert_int_equal(parse_hex_digit(c), -1);
}

static void test_fmt_duration(void **state)
{
	static const struct {
		uint64_t ns;
		const char *s;
	} cases[] = {
		{UINT64_C(250000000), "250ms"},
		{0, "0ms"},
		{UINT64_C(1500000), "1.5ms"},
		{UINT64_C(1500000000), "1.5s"},
		{UINT64_C(10000000000), "10s"},
		{UINT64_C(90000000000), "1m30s"},
		{UINT64_C(3661000000000), "1h1m1s"},
		{UINT64_C(7200000000000), "2h0m0s"},
	};
	char out[32];
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMS(cases); i++) {
		uint64_t back = 0;

		assert_string_equal(fmt_duration(cases[i].ns, out, sizeof(out)), cases[i].s);
		/* What we print, we read back. */
		assert_int_equal(parse_duration_ns(out, &back), 0);
		assert_int_equal(back, cases[i].ns);
	}
	/* A short buffer truncates rather than overflows. */
	assert_string_equal(fmt_duration(UINT64_C(3661000000000), out, 4), "1h1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations_accepted),
		cmocka_unit_test(test_durations_rejected),
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u64n_reads_only_n_bytes),
		cmocka_unit_test(test_hex_digit),
		cmocka_unit_test(test_fmt_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
