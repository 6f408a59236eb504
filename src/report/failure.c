#include "report/failure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int failure_code(const met_tagset *ts, int *code)
{
	const char *ec = met_tagset_value(ts, "error_code");
	const char *expected = met_tagset_value(ts, "expected_response");
	const char *st;

	if (expected && strcmp(expected, "true") == 0)
		return 0;
	if (ec) {
		*code = (int)strtol(ec, NULL, 10);
		return 1;
	}
	st = met_tagset_value(ts, "status");
	if (!expected || !st)
		return 0;
	*code = -(int)strtol(st, NULL, 10);
	return 1;
}

void failure_key(int code, char *out, size_t outsz)
{
	if (code < 0)
		snprintf(out, outsz, "status:%d", -code);
	else
		snprintf(out, outsz, "%d", code);
}
