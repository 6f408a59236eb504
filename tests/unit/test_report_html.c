/* The report page's assembly (report/html): the embedded assets are all
 * there, the documents are held in their script elements with every '<'
 * escaped, live mode marks the body, and a page is written to a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/html.h"

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (s = strstr(s, what); s; s = strstr(s + 1, what))
		n++;
	return n;
}

static void test_page_holds_everything(void **state)
{
	char *p = report_html_page("{\"version\":\"strain-summary/2\"}", NULL, 0);

	assert_non_null(p);
	assert_non_null(strstr(p, "<!doctype html>"));
	assert_non_null(strstr(p, "Chart.js v"));          /* Chart.js */
	assert_non_null(strstr(p, "window.strainRender")); /* report.js */
	assert_non_null(strstr(p, "--muted"));             /* report.css */
	assert_non_null(strstr(p, "<body>"));
	assert_null(strstr(p, "<!--strain:"));             /* every marker replaced */
	assert_non_null(strstr(p, "<script type=\"application/json\" id=\"strain-summary\">{\"version\""));
	assert_null(strstr(p, "id=\"strain-baseline\""));
	/* The assets hold no text that ends their element early. */
	assert_int_equal(count(p, "</script>"), 3);
	assert_int_equal(count(p, "</style>"), 1);
	free(p);
}

static void test_documents_cannot_close_their_element(void **state)
{
	const char *doc = "{\"n\":\"</script><script>alert(1)</script><!--\"}";
	char *p = report_html_page(doc, "{\"b\":\"<\"}", 0), *d;

	assert_non_null(p);
	d = strstr(p, "id=\"strain-summary\">");
	assert_non_null(d);
	assert_non_null(strstr(d, "{\"n\":\"\\u003c/script>\\u003cscript>alert(1)\\u003c/script>\\u003c!--\"}</script>"));
	assert_non_null(strstr(p, "id=\"strain-baseline\">{\"b\":\"\\u003c\"}</script>"));
	assert_null(strstr(p, "alert(1)</script>"));
	free(p);
}

static void test_live_page(void **state)
{
	char *p = report_html_page(NULL, NULL, 1);

	assert_non_null(p);
	assert_non_null(strstr(p, "<body data-live=\"1\">"));
	assert_null(strstr(p, "id=\"strain-summary\""));
	free(p);
}

static void test_write(void **state)
{
	char path[] = "/tmp/strain-report-XXXXXX", err[256] = "", bad[] = "/nonexistent-dir/r.html";
	int fd = mkstemp(path);
	FILE *f;
	char head[32] = "";

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(report_html_write(path, "{}", NULL, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_string_equal(head, "<!doctype html>\n");
	unlink(path);
	assert_int_equal(report_html_write(bad, "{}", NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_holds_everything),
		cmocka_unit_test(test_documents_cannot_close_their_element),
		cmocka_unit_test(test_live_page),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
