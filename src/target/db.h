/* The simulated database behind the demo API, as a pure model driven by
 * explicit times (so it can be unit tested without a clock):
 *   - one database with `slots` query slots under processor sharing: while
 *     n queries are active, each progresses at rate min(1, slots/n);
 *   - per module a connection pool; a query holds one connection from
 *     start to finish; queries finding the pool busy wait in FIFO order.
 *     The pool can be resized (the autoscaler): growing starts waiters at
 *     once, shrinking takes effect as connections free;
 *   - per module an optional LRU cache of keys: a hit completes at once and
 *     never touches the pool or the database.
 * Processor sharing runs on a virtual clock V that advances at the common
 * rate; a query started at V0 with service s finishes when V reaches V0 + s,
 * so active queries sit in a min-heap of finish virtual times and every
 * event is O(log n). Queries are intrusive (db_query embedded in the
 * caller's request), so nothing here allocates after creation. */
#ifndef STRAIN_TARGET_DB_H
#define STRAIN_TARGET_DB_H

#include <stdint.h>

enum { DB_JOBS, DB_ECOMMERCE, DB_NOTIFICATIONS, DB_PROFILE, DB_MODULES };

/* Module names as used on the command line ("jobs", "ecommerce",
 * "notifications", "profile"). */
extern const char *const db_module_names[DB_MODULES];
/* Index of a module name (n bytes), or -1. */
int db_module_find(const char *name, unsigned long n);

typedef struct db_query db_query;
struct db_query {
	db_query *next;          /* intrusive link: submit queue, pool FIFO, completions */
	uint64_t cache_key;      /* 0: not cacheable */
	uint64_t invalidate_key; /* 0: none; a write drops this key from the cache */
	uint64_t submit_ns;      /* set by the model: when it entered */
	uint64_t start_ns;       /* when it got a pool connection */
	uint64_t done_ns;        /* when it finished */
	uint64_t service_ns;     /* its service time after jitter, at full speed */
	uint64_t vfinish;        /* model-internal: finish time on the virtual clock */
	uint16_t module;         /* DB_* */
	uint16_t cost;           /* service-time multiplier (0 counts as 1) */
	uint16_t owner;          /* caller's use: the worker to hand it back to */
	uint8_t cache_hit;       /* set by the model */
};

typedef struct db_config {
	uint32_t slots;                   /* >= 1 */
	uint32_t pool[DB_MODULES];        /* connections per module, >= 1 */
	uint32_t pool_max[DB_MODULES];    /* largest size db_model_resize may set; 0 = pool[] */
	uint64_t service_ns[DB_MODULES];  /* base service time per module */
	uint32_t cache[DB_MODULES];       /* LRU size per module; 0 = no cache */
	uint32_t jitter_pct;              /* service time varies uniformly by +-this % */
	uint64_t seed;                    /* for the jitter */
} db_config;

typedef struct db_model db_model;

/* Called for each finished query (cache hits included), in completion order. */
typedef void (*db_done_fn)(void *ctx, db_query *q);

/* Creates the model at time `now`. Destroy with db_model_destroy (accepts
 * NULL); queries still inside are simply forgotten. */
db_model *db_model_create(const db_config *cfg, uint64_t now);
void db_model_destroy(db_model *m);

/* Brings the model to `now` (delivering completions due by then) and
 * submits q. A cache hit is delivered before this returns. */
void db_model_submit(db_model *m, db_query *q, uint64_t now, db_done_fn done, void *ctx);
/* Brings the model to `now`, delivering every completion due by then. */
void db_model_advance(db_model *m, uint64_t now, db_done_fn done, void *ctx);
/* Absolute time of the next completion if nothing else arrives, or
 * UINT64_MAX when the database is idle. */
uint64_t db_model_next(const db_model *m);

/* Brings the model to `now`, then sets the module's pool size. Growing
 * starts waiting queries at once, oldest first; shrinking never cancels a
 * running query: busy connections above the new size are retired as they
 * free (the freed connection goes to no waiter until busy < size). Returns
 * 0, or -1 when size is 0 or above the module's pool_max (nothing changes).
 * Never allocates: the heap was sized for every pool's maximum. */
int db_model_resize(db_model *m, int module, uint32_t size, uint64_t now, db_done_fn done, void *ctx);

/* Observers, for stats and tests. */
uint32_t db_model_active(const db_model *m);
uint32_t db_model_size(const db_model *m, int module);
uint32_t db_model_busy(const db_model *m, int module);
uint32_t db_model_waiting(const db_model *m, int module);

#endif
