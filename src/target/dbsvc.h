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
#include "target/db.h"

typedef struct dbsvc dbsvc;

/* Counters the database thread publishes (read with relaxed loads). */
typedef struct dbsvc_snapshot {
	uint32_t active;
	uint32_t busy[DB_MODULES];
	uint32_t waiting[DB_MODULES];
	uint64_t queries[DB_MODULES];
	uint64_t cache_hits[DB_MODULES];
} dbsvc_snapshot;

/* Creates the service for `workers` workers; `hook` runs once per pass of
 * its loop (the stall fault). NULL with errno on failure. */
dbsvc *dbsvc_create(const db_config *cfg, int workers, ev_pass_hook hook);
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

#endif
