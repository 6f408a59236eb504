/* --out csv=FILE: k6's CSV format, the same columns in the same order:
 *
 *   metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,
 *   method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata
 *
 * timestamp in Unix seconds (k6's default), metric_value with six decimals
 * (milliseconds for time metrics), tags without a column of their own in
 * extra_tags as key=value&key=value, vu and iter in metadata likewise.
 * gzip when FILE ends in .gz. */
#ifndef STRAIN_OUTPUT_CSV_H
#define STRAIN_OUTPUT_CSV_H

#include "output/output.h"

extern const output_ops csv_output_ops;

#endif
