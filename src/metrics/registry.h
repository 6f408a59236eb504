/* The metric registry: metric definitions, interned tag sets, and series
 * (metric + tag set). One registry per run, shared by all threads. Interning
 * takes a mutex, but only the first time a worker meets a tag combination;
 * workers cache the series ids they use, so the per-request path never
 * touches the registry. Ids are dense and never move, so shards can be
 * plain arrays indexed by series id. */
#ifndef STRAIN_METRICS_REGISTRY_H
#define STRAIN_METRICS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef enum { MET_COUNTER, MET_GAUGE, MET_RATE, MET_TREND } met_type;
typedef enum { MET_DEFAULT, MET_TIME, MET_DATA } met_contains;

/* Built-in metrics, with k6's names and meaning. */
enum {
	MET_HTTP_REQS,
	MET_HTTP_REQ_DURATION,
	MET_HTTP_REQ_BLOCKED,
	MET_HTTP_REQ_CONNECTING,
	MET_HTTP_REQ_TLS_HANDSHAKING,
	MET_HTTP_REQ_SENDING,
	MET_HTTP_REQ_WAITING,
	MET_HTTP_REQ_RECEIVING,
	MET_HTTP_REQ_FAILED,
	MET_ITERATIONS,
	MET_ITERATION_DURATION,
	MET_VUS,
	MET_VUS_MAX,
	MET_DATA_SENT,
	MET_DATA_RECEIVED,
	MET_CHECKS,
	MET_GROUP_DURATION,
	MET_DROPPED_ITERATIONS,    /* arrival rates: iterations due with no VU free (k6's name) */
	MET_ITERATION_START_DELAY, /* arrival rates: actual minus intended start of an iteration */
	MET_BUILTIN_COUNT
};

#define MET_MAX_METRICS 256
/* An HTTPS sample of a plan: scenario, module, strategy, 8 module tags,
 * 8 request tags (method ... error_code), tls_version, tls_cipher_suite. */
#define MET_MAX_TAGS 24
/* Tags of the run as a whole (its testid, --tag, a plan's tags:), which
 * every tag set carries besides its own. */
#define MET_MAX_RUN_TAGS 16
/* k6 warns past 100k time series; we cap a run at this many and send the
 * excess to one overflow series per metric, saying so. */
#define MET_MAX_SERIES 65536
#define MET_MAX_TAGSETS 65536

typedef struct met_def {
	const char *name;
	met_type type;
	met_contains contains;
} met_def;

typedef struct met_tag {
	const char *key;
	const char *value;
} met_tag;

/* An interned tag set: keys sorted, strings owned by the registry. */
typedef struct met_tagset {
	uint32_t id;
	uint32_t n;
	met_tag tags[];
} met_tagset;

typedef struct met_registry met_registry;
typedef struct redact redact;

/* Creates a registry holding the built-in metrics. Destroy with
 * met_registry_destroy (accepts NULL). */
met_registry *met_registry_create(void);
void met_registry_destroy(met_registry *r);

/* Adds a custom metric; returns its id, or the existing id when a metric
 * of that name and type exists, or -1 (name clash or too many). */
int met_metric_add(met_registry *r, const char *name, met_type type, met_contains contains);
const met_def *met_metric(const met_registry *r, uint32_t metric);
uint32_t met_metric_count(const met_registry *r);
int met_metric_find(const met_registry *r, const char *name);

/* Sets the run's tags: every tag set interned afterwards carries them too,
 * unless it has a tag of the same key (the sample's own wins, as in k6), and
 * tag set 0 becomes the run's tags alone. Call once, before anything is
 * interned; at most MET_MAX_RUN_TAGS, the strings are copied. Because the
 * tags are part of the interned sets, recording never handles them: every
 * output writes them with the sample's own tags. */
void met_registry_set_run_tags(met_registry *r, const met_tag *tags, size_t n);

/* Secrets no tag value may hold (core/redact.h; borrowed, alive as long as
 * the registry): every value interned afterwards has them replaced, and
 * values holding a URL (url, name, check) lose credentials in its query
 * and user info (which they do without a set too). Call before anything is interned,
 * and before met_registry_set_run_tags. */
void met_registry_set_redact(met_registry *r, const redact *secrets);

/* Interns a tag set (order-insensitive; empty values are dropped, as k6
 * does), with the run's tags added. Returns its id; 0 is the set of the
 * run's tags alone (empty when there are none). Thread-safe. */
uint32_t met_tagset_intern(met_registry *r, const met_tag *tags, size_t n);
const met_tagset *met_tagset_get(const met_registry *r, uint32_t id);
/* Value of key in a tag set, or NULL. */
const char *met_tagset_value(const met_tagset *ts, const char *key);

/* Interns (metric, tag set) and returns the series id. Thread-safe. */
uint32_t met_series_intern(met_registry *r, uint32_t metric, uint32_t tagset);
uint32_t met_series_count(const met_registry *r); /* acquire load */
uint32_t met_series_metric(const met_registry *r, uint32_t series);
uint32_t met_series_tagset(const met_registry *r, uint32_t series);
/* Series that could not be interned because the cap was reached. */
uint64_t met_series_overflowed(const met_registry *r);

#endif
