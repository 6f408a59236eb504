/* InfluxDB line protocol, and the number formats every per-sample output
 * shares (InfluxDB, JSON, CSV).
 *
 *     measurement,tag=value,tag=value field=1.5,field2=3i,s="text" 1700000000000000000
 *
 * Escaping follows InfluxDB 1.x and 2.x: in measurements a comma or space
 * gets a backslash; in tag keys, tag values and field keys also '='; in
 * string field values '"' and '\'. Line protocol has no escape for a line
 * break, so CR, LF and TAB become an escaped space. A backslash that would
 * otherwise escape the next byte (a special byte, another backslash, or the
 * end of the text) is doubled, so no input can break the line's structure.
 *
 * Every append function returns 0, or -1 when the buffer's hard maximum is
 * reached (nothing is then guaranteed about the partial line: the caller
 * truncates back to the last complete line). */
#ifndef STRAIN_OUTPUT_LINEPROTO_H
#define STRAIN_OUTPUT_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Large enough for any number these functions format. */
#define LP_NUM_MAX 32

int lp_measurement_append(buf *b, const char *name);
/* Appends ",key=value"; nothing when value is empty (k6 leaves empty tags
 * out, and InfluxDB rejects them). */
int lp_tag_append(buf *b, const char *key, const char *value);
/* Field appenders write "key=..." preceded by ' ' when first, else ','. */
int lp_field_float_append(buf *b, const char *key, double v, int first);
int lp_field_int_append(buf *b, const char *key, int64_t v, int first);
int lp_field_string_append(buf *b, const char *key, const char *value, int first);
/* Appends " <ns>\n", ending the line. */
int lp_time_append(buf *b, uint64_t ns);

/* Formats v as the shortest text that reads back as the same double:
 * integers without a decimal point (a float in line protocol and JSON),
 * others with up to 17 significant digits. NaN and infinities, which
 * neither format has, become 0. Returns the length; out holds LP_NUM_MAX. */
size_t lp_num_format(char *out, double v);
/* Formats a nanosecond count as milliseconds, exactly: "12.345678" (up to
 * six decimals, trailing zeros trimmed; all six kept when fixed6). */
size_t lp_ms_format(char *out, uint64_t ns, int fixed6);
/* Formats an unsigned integer. */
size_t lp_u64_format(char *out, uint64_t v);

#endif
