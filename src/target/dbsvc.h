/* The database thread: owns the db model (pools, caches, processor-sharing
 * database) and runs it on its own loop with one timer for the next
 * completion. Workers hand it queries through one mutex-protected queue
 * plus an eventfd; finished queries go back to their owner worker through
 * a queue + eventfd per worker. A mutex is fine here: a handful of
 * operations per request, never per byte. */
#ifndef STRAIN_TARGET_DBSVC_H
#define STRAIN_TARGET_DBSVC_H

#include <stdint.h>

#include "io/ev.h"
#include "target/autoscale.h"
#include "target/db.h"

typedef struct dbsvc dbsvc;

/* Counters the database thread publishes (read with relaxed loads). */
typedef struct dbsvc_snapshot {
	uint32_t active;
	uint32_t pool[DB_MODULES]; /* current pool sizes */
	uint32_t busy[DB_MODULES];
	uint32_t waiting[DB_MODULES];
	uint64_t queries[DB_MODULES];
	uint64_t cache_hits[DB_MODULES];
} dbsvc_snapshot;

/* The last DBSVC_CHANGES pool changes of an autoscaled module. */
enum { DBSVC_CHANGES = 256 };
typedef struct dbsvc_scale_view {
	uint32_t min, max, size;
	uint64_t total;  /* changes since start; the last n of them below, oldest first */
	uint32_t n;
	as_change change[DBSVC_CHANGES]; /* times in ns since the service was created */
} dbsvc_scale_view;

/* Creates the service for `workers` workers; `hook` runs once per pass of
 * its loop (the stall fault). `scale` (DB_MODULES entries, or NULL): the
 * autoscaled modules (max > 0), whose pools start at min (cfg->pool is
 * ignored for them) and follow the rule of autoscale.h, sampled every
 * AS_PERIOD_NS. NULL with errno on failure. */
dbsvc *dbsvc_create(const db_config *cfg, const as_range *scale, int workers, ev_pass_hook hook);
/* Starts / stops (and joins) the thread. start returns 0 or -1. */
int dbsvc_start(dbsvc *s);
void dbsvc_stop(dbsvc *s);
/* Frees everything; accepts NULL. Call after dbsvc_stop. */
void dbsvc_destroy(dbsvc *s);

/* Submits q (q->owner = the worker to answer). From any worker thread. */
void dbsvc_submit(dbsvc *s, db_query *q);
/* The eventfd that becomes readable when worker i has completions. */
int dbsvc_done_fd(const dbsvc *s, int i);
/* Takes worker i's completed queries, a list linked by ->next (NULL if none). */
db_query *dbsvc_take(dbsvc *s, int i);
void dbsvc_snapshot_read(const dbsvc *s, dbsvc_snapshot *out);
/* Copies module m's autoscaling state; 0, or -1 if m is not autoscaled.
 * From any thread (takes the service's log mutex briefly). */
int dbsvc_scale_read(dbsvc *s, int m, dbsvc_scale_view *out);
/* Nanoseconds since the service was created: the clock of the changes. */
uint64_t dbsvc_uptime_ns(const dbsvc *s);

#endif
