/* Routing of the target's requests: the route table, matching a head to a
 * route and its parameters, Bearer tokens, and dispatch to the health and
 * stats answers, the faults (faults.c) or the four demo API modules
 * (modules.c), whose requests are answered when their simulated database
 * query completes. */
#ifndef STRAIN_TARGET_ROUTES_H
#define STRAIN_TARGET_ROUTES_H

#include "http/http_parse.h"

typedef struct tgt_conn tgt_conn;

/* Every route, as counted by /__stats. */
enum {
	R_HEALTH,
	R_JOBS_LIST,
	R_JOBS_GET,
	R_JOBS_APPLY,
	R_PRODUCTS_LIST,
	R_PRODUCTS_GET,
	R_CART,
	R_ORDERS,
	R_NOTIF_LIST,
	R_NOTIF_READ,
	R_LOGIN,
	R_PROFILE_ME,
	R_PROFILE_GET,
	R_PROFILE_PUT,
	R_F_DELAY,
	R_F_STATUS,
	R_F_RESET,
	R_F_CLOSE,
	R_F_MALFORMED,
	R_F_CHUNKED,
	R_F_BYTES,
	R_F_SLOW_BODY,
	R_F_HANG,
	R_F_HEADERS,
	R_F_STALL,
	R_F_RANDOM,
	R_STATS,       /* not counted */
	R_STATS_RESET, /* not counted */
	R_UNMATCHED,   /* 404 / 405 */
	R_INVALID,     /* rejected by the parser or the limits */
	R_COUNT
};

/* "GET /jobs/{id}", "fault/reset", ... */
extern const char *const route_names[R_COUNT];

/* Matches a parsed head: fills c->req (route, parameters, or an error to
 * answer once the body is read) and c->want_body. */
void route_head(tgt_conn *c, const http_head *h);
/* The body is complete: answer, or start the timer / query that will. */
void route_dispatch(tgt_conn *c);
/* Writes user's Bearer token (hex(user) "." mac) into out (outsz bytes,
 * NUL-terminated; truncated to fit). The token route_head accepts. */
void route_token_make(const char *u, size_t n, char *out, size_t outsz);

/* Query-string helpers shared with faults.c. route_query_get finds key's raw
 * value; route_query_u64 parses it within [min, max] (def when absent).
 * route_query_u64 returns 0, or -1 if present but not a number in range. */
int route_query_get(const char *q, size_t qlen, const char *key, const char **val, size_t *vlen);
int route_query_u64(const char *q, size_t qlen, const char *key, uint64_t min, uint64_t max, uint64_t def,
	      uint64_t *out);

#endif
