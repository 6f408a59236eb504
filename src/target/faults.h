/* Fault-injection endpoints, /fault/NAME?params: a server misbehaving on
 * demand (delays, statuses, resets, truncated or malformed answers, huge,
 * chunked or trickled bodies, hangs, many headers, whole-server stalls, and
 * a random mix). docs/target.md documents each one. */
#ifndef STRAIN_TARGET_FAULTS_H
#define STRAIN_TARGET_FAULTS_H

#include <stddef.h>

#include "io/ev.h"

typedef struct tgt_req tgt_req;
typedef struct tgt_conn tgt_conn;

/* Parses /fault/NAME's parameters into r (route, n[]), or sets
 * r->err_status / err_msg (404 unknown fault, 400 bad parameter). */
void fault_parse(tgt_req *r, const char *name, size_t nlen, const char *query, size_t qlen);
/* Carries the fault out for the current request of c. */
void fault_dispatch(tgt_conn *c);
/* c's timer fired (delays, stalls, slow-body ticks). */
void fault_timer(tgt_conn *c);
/* Loop pass hook: while a /fault/stall is in force, sleeps until it ends. */
void fault_stall_hook(ev_loop *loop);

#endif
