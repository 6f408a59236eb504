/* What VUs execute, in compiled form: programs of steps (requests, think
 * times, groups, weighted choices), response extraction into VU variables,
 * checks, CSV data, and the scenarios (modules) and phases (strategies) a
 * run is made of. Plans compile to this once, at load time; quick mode
 * builds the smallest instance of it. */
#ifndef STRAIN_PROGRAM_FLOW_H
#define STRAIN_PROGRAM_FLOW_H

#include <stdatomic.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "metrics/registry.h"
#include "program/exec.h"
#include "program/jsonpath.h"
#include "program/tmpl.h"

typedef enum {
	OP_REQUEST,
	OP_THINK,
	OP_GROUP_BEGIN,
	OP_GROUP_END,
	OP_CHOOSE,
	OP_JUMP,
	OP_END,
	OP_PARALLEL /* a parallel block: arg indexes run_config.parallels */
} flow_op_kind;

typedef struct flow_op {
	flow_op_kind kind;
	uint32_t arg;    /* request / group / choice-table index, or jump target */
	uint64_t a, b;   /* think: uniform in [a, b] ns */
} flow_op;

typedef struct flow_choice {
	uint32_t n;
	uint32_t total;      /* sum of weights */
	uint32_t *cum;       /* cumulative weights */
	uint32_t *target;    /* program counter of each branch */
} flow_choice;

/* A parallel block (k6's http.batch): its requests go out together, at
 * most `batch` in flight at once and `per_host` per host (0: no per-host
 * limit), and the block ends when all have answered. Hosts are numbered
 * per block (scheme, host and port, as a connection serves one); nconns
 * is the most connections the block can have busy at once, so a VU sized
 * for its scenario's largest block never allocates while it runs. */
typedef struct flow_parallel {
	uint32_t n;          /* requests, in the block's order */
	uint32_t *reqs;      /* run_config.reqs index of each */
	uint32_t *host;      /* block-local host of each */
	uint32_t nhosts;
	uint32_t batch, per_host;
	uint32_t nconns;     /* min(batch, sum over hosts of min(its requests, per_host)) */
} flow_parallel;

typedef struct flow_program {
	flow_op *ops;
	uint32_t nops, cap;
} flow_program;

typedef enum { EXT_JSON, EXT_REGEX, EXT_HEADER, EXT_STATUS, EXT_COOKIE } flow_ext_kind;

typedef struct flow_extract {
	flow_ext_kind kind;
	uint32_t slot;       /* VU variable */
	jsonpath path;
	pcre2_code *re;
	uint32_t group;      /* regex capture group (default 1, or 0 without groups) */
	char *header;
} flow_extract;

typedef struct status_set {
	uint32_t n;
	struct {
		int lo, hi;
	} r[16];
} status_set;

typedef enum {
	CHK_STATUS,
	CHK_BODY_CONTAINS,
	CHK_BODY_MATCHES,
	CHK_JSON_EQUALS,
	CHK_JSON_EXISTS,
	CHK_HEADER_EQUALS,
	CHK_COOKIE_EQUALS,  /* header: the cookie's name; text: its expected value */
	CHK_MAX_DURATION
} flow_check_kind;

typedef struct flow_check {
	flow_check_kind kind;
	char *name;          /* the check tag */
	uint32_t id;         /* index in run_config.checks_by_id order */
	status_set status;
	char *text;          /* contains: needle; header: expected value; json: expected JSON text */
	char *header;
	pcre2_code *re;
	jsonpath path;
	uint64_t max_ns;
} flow_check;

typedef enum { DATA_PER_VU, DATA_SEQUENTIAL, DATA_RANDOM, DATA_UNIQUE } data_mode;

typedef struct run_data {
	char *alias;
	char *file;
	data_mode mode;
	char **names;        /* column names */
	uint32_t ncols;
	char **cells;        /* row-major, nrows * ncols */
	uint32_t nrows;
	_Atomic uint64_t next; /* sequential / unique cursor, shared by all workers */
} run_data;

typedef enum {
	EXEC_CONSTANT_VUS,
	EXEC_SHARED_ITERATIONS,
	EXEC_PER_VU_ITERATIONS,
	EXEC_RAMPING_VUS,
	EXEC_CONSTANT_ARRIVAL_RATE,
	EXEC_RAMPING_ARRIVAL_RATE
} exec_type;

/* Arrival-rate executors start iterations on a schedule (the open model);
 * the others loop their VUs (the closed model). */
static inline int exec_is_arrival(exec_type e)
{
	return e == EXEC_CONSTANT_ARRIVAL_RATE || e == EXEC_RAMPING_ARRIVAL_RATE;
}

typedef struct run_scenario {
	char *name;          /* module name: the module and scenario tags */
	met_tag *tags;       /* extra static tags (plan module tags) */
	uint32_t ntags;
	exec_type exec;
	uint32_t vus;          /* VUs to allocate: constant; ramping-vus: the most any stage
				* asks for; arrival-rate: maxVUs */
	uint64_t duration_ns;  /* from startTime to the end of iterations (ramping: the
				* stages' sum); iteration executors: maxDuration */
	uint64_t iterations;   /* shared: total; per-vu: each */
	uint64_t graceful_stop_ns;
	uint64_t start_time_ns;        /* startTime: offset from the phase's start */
	exec_stage *stages;            /* ramping-vus: VU targets; arrival-rate: rates (a
					* constant rate is one stage at that rate) */
	uint32_t nstages;
	uint32_t start_vus;            /* ramping-vus */
	uint64_t graceful_ramp_down_ns; /* ramping-vus */
	double start_rate;             /* arrival-rate: iterations per time unit at t = 0 */
	uint64_t time_unit_ns;         /* arrival-rate */
	uint32_t prealloc_vus;         /* arrival-rate: preAllocatedVUs */
	int queue;                     /* arrival-rate: queue late iterations instead of dropping */
	flow_program setup;    /* once per VU, before its first iteration */
	flow_program flow;     /* every iteration */
	uint32_t nvars;
	char **var_names;
	uint8_t *var_secret;   /* by slot: 1 when the variable holds a secret (plan/secrets.c), or NULL */
	uint32_t data_mask;    /* data aliases its templates read */
	uint64_t start_spread_ns; /* VUs start at random within this, not all at once */
	/* Its largest parallel blocks (0 without any): what a VU lends itself,
	 * once, at its first block (engine/batch.h). */
	uint32_t batch_reqs, batch_conns, batch_hosts;
} run_scenario;

/* How modules are run together: one at a time, in groups, all at once.
 * STRATEGY_NONE: quick mode, which has no strategy tag. */
typedef enum { STRATEGY_NONE, STRATEGY_SEQUENTIAL, STRATEGY_HYBRID, STRATEGY_PARALLEL } run_strategy;
#define STRATEGY_COUNT 4

/* The strategy tag's value ("sequential", "hybrid", "parallel"), or NULL. */
const char *run_strategy_name(run_strategy s);
/* The strategy a name spells, or STRATEGY_NONE. */
run_strategy run_strategy_parse(const char *name);

/* A phase runs some scenarios together; a strategy is a list of phases. */
typedef struct run_phase {
	run_strategy strategy;
	uint32_t *scenarios;
	uint32_t nscenarios;
	uint64_t pause_ns;     /* wait before this phase */
} run_phase;

void flow_program_add(flow_program *p, flow_op op);
void flow_program_free(flow_program *p);
void flow_extract_free(flow_extract *e);
void flow_check_free(flow_check *c);
int status_set_has(const status_set *s, int status);

#endif
