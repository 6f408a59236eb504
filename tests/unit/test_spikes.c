/* Spikes found in a time series: consecutive hot slots make one window, a
 * gap in the slots or a calm slot ends it, a series too short to have a
 * typical level has none, and the floor keeps fast modules' jitter out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "report/spikes.h"

static json_t *find(const char *ts_text)
{
	json_error_t e;
	json_t *ts = json_loads(ts_text, 0, &e), *sp;

	assert_non_null(ts);
	sp = spikes_find(ts);
	json_decref(ts);
	return sp;
}

static double field(json_t *sp, size_t i, const char *k)
{
	return json_number_value(json_object_get(json_array_get(sp, i), k));
}

static void test_windows(void **state)
{
	json_t *sp;

	(void)state;
	/* slots 5-6 hot (one window), slot 9 hot after a gap in t_ms (another);
	 * jobs runs at the same time as the first window. */
	sp = find("{\"interval_ms\": 1000, \"series\": ["
		  "{\"module\": \"profile\", \"strategy\": \"parallel\","
		  " \"t_ms\": [0,1000,2000,3000,4000,5000,6000,7000,8000,12000],"
		  " \"requests\": [5,5,5,5,5,5,5,5,5,5], \"max\": [12,12,12,12,12,900,950,12,12,400],"
		  " \"p95\": [10,11,10,12,10,800,900,10,11,300], \"start_delay_max\": [0,0,0,0,0,0,0,0,0,0],"
		  " \"errors\": {\"1050\": [0,0,0,0,0,2,1,0,0,0]}},"
		  "{\"module\": \"jobs\", \"strategy\": \"parallel\", \"t_ms\": [6000], \"requests\": [3],"
		  " \"p95\": [1], \"max\": [1], \"errors\": {}}]}");
	assert_int_equal(json_array_size(sp), 2);
	assert_true(field(sp, 0, "start_ms") == 5000 && field(sp, 0, "length_ms") == 2000);
	assert_true(field(sp, 0, "peak_p95_ms") == 900 && field(sp, 0, "baseline_p95_ms") == 11);
	assert_true(field(sp, 0, "began_ms") == 5100); /* the first slot ends at 6000; its slowest took 900 */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(sp, 0), "errors"), "1050")),
			 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(sp, 0), "concurrent"), 0)),
			    "jobs");
	assert_true(field(sp, 1, "start_ms") == 12000 && field(sp, 1, "length_ms") == 1000);
	assert_true(field(sp, 1, "began_ms") == 12600);
	assert_false(json_is_true(json_object_get(json_array_get(sp, 0), "generator_late")));
	json_decref(sp);
}

static void test_none(void **state)
{
	json_t *sp;

	(void)state;
	/* 10x, but under the 50 ms floor */
	sp = find("{\"interval_ms\": 1000, \"series\": [{\"module\": \"\", \"strategy\": \"\","
		  " \"t_ms\": [0,1000,2000,3000,4000,5000], \"p95\": [1,1,1,1,1,10], \"max\": [1,1,1,1,1,10],"
		  " \"requests\": [1,1,1,1,1,1], \"errors\": {}}]}");
	assert_int_equal(json_array_size(sp), 0);
	json_decref(sp);
	/* too few slots with requests (nulls do not count) */
	sp = find("{\"interval_ms\": 1000, \"series\": [{\"module\": \"\", \"strategy\": \"\","
		  " \"t_ms\": [0,1000,2000,3000,4000], \"p95\": [1,null,1,1,900], \"max\": [1,null,1,1,900],"
		  " \"requests\": [1,0,1,1,1], \"errors\": {}}]}");
	assert_int_equal(json_array_size(sp), 0);
	json_decref(sp);
	/* strain late by more than half the peak: the generator's */
	sp = find("{\"interval_ms\": 1000, \"series\": [{\"module\": \"\", \"strategy\": \"\","
		  " \"t_ms\": [0,1000,2000,3000,4000,5000], \"p95\": [1,1,1,1,1,200], \"max\": [1,1,1,1,1,200],"
		  " \"start_delay_max\": [0,0,0,0,0,150], \"requests\": [1,1,1,1,1,1], \"errors\": {}}]}");
	assert_int_equal(json_array_size(sp), 1);
	assert_true(json_is_true(json_object_get(json_array_get(sp, 0), "generator_late")));
	json_decref(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
