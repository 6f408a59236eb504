/* The plan loader's insides, shared by the files of src/plan/ and by
 * nothing else: the loader state one plan_load carries through every
 * section, and the helpers the sections share. Outside plan/, use
 * plan/plan.h.
 *
 * Conventions of every function here: errors are added to L->errs with
 * file:line:col (err_at) as they are found, so that one load reports
 * every problem; an int result is 0 or -1 (-1: something was reported);
 * a pointer result is NULL after an error. Strings returned from nodes
 * point into the YAML document (or L->scratch) and live as long as the
 * loader. */
#ifndef STRAIN_PLAN_LOADER_H
#define STRAIN_PLAN_LOADER_H

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/strmap.h"
#include "plan/plan.h"
#include "plan/yaml.h"
#include "program/program.h"

/* Variables a module may extract: every VU holds a buffer per variable. */
#define MAX_VARS 64

typedef struct loader {
	const char *path;
	char *dir;
	ydoc doc;
	plan_errors *errs;
	run_config *cfg;
	const plan_opts *opts;
	ynode *env_defaults;
	/* the module being compiled */
	run_scenario *sc;
	uint32_t data_mask;
	char *group_path;
	/* target and defaults */
	http_url target;
	int have_target;
	ynode *def_headers;
	uint64_t def_timeout;
	status_set def_expect;
	uint64_t def_think_lo, def_think_hi;
	int def_compression;       /* http_coding, 0 none */
	uint64_t def_max_reqs, def_max_age;
	uint64_t def_batch, def_batch_per_host; /* parallel blocks: k6's batch, batchPerHost */
	int in_parallel;           /* compiling a parallel block's requests */
	uint32_t caps[8]; /* array capacities */
	const ynode **req_steps; /* the step each of cfg->reqs came from, for errors found after */
	char **scratch;   /* expanded scalars, freed with the loader */
	uint32_t nscratch;
	/* Name indexes, so lookups stay linear however many names a plan has. */
	strmap modules;   /* module name -> scenario index (names owned by cfg) */
	strmap groups;    /* group path -> cfg->groups index (owned by cfg) */
	strmap env_index; /* env default name -> pair index in env_defaults */
	uint64_t suggest_budget; /* edit-distance cells left for "did you mean" */
} loader;

enum { CAP_REQS, CAP_GROUPS, CAP_CHOICES, CAP_CHECKS, CAP_PARALLELS, CAP_REQ_STEPS, CAP_SCRATCH };

/* Makes room for element n of an array of cap elements of size bytes,
 * doubling it (from 16) and zeroing what it adds. Returns the array. */
static inline void *grow(void *p, uint32_t n, uint32_t *cap, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	p = xrealloc(p, *cap * size);
	memset((char *)p + (size_t)n * size, 0, (*cap - n) * size);
	return p;
}

/* ---- diag.c: errors and "did you mean" ---- */

/* Adds msg (malloc'd; the list owns it, or frees it past PLAN_MAX_ERRORS). */
void add_error(plan_errors *e, char *msg);
/* Whether the list is full: callers skip composing messages that would
 * only be counted. */
int errors_full(const loader *L);
/* The length of msg's "PATH:LINE:COL: " prefix when it names the plan's
 * file (L->path), else 0: what hiding secrets in a message leaves as is. */
size_t error_position_len(const loader *L, const char *msg);
/* Adds "FILE:LINE:COL: message" at n (1:1 when n is NULL). */
void err_at(loader *L, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The allowed word nearest to key (NULL-terminated list), or NULL when
 * none is close enough to suggest. */
const char *nearest(const char *key, const char *const *allowed);
/* allowed, comma-separated, into out. */
void list_allowed(const char *const *allowed, char *out, size_t outsz);
/* Reports keys of map that are not in allowed (with a suggestion) and
 * repeated keys. Returns 0 if all are known. */
int check_keys(loader *L, const ynode *map, const char *const *allowed, const char *where);
/* Reports repeated keys of map. Returns 0 or -1. */
int check_dups(loader *L, const ynode *map, const char *where);
/* The module name nearest to s, within a budget of work, or NULL. */
const char *nearest_module(loader *L, const char *s);

/* ---- values.c: typed values and templates ---- */

/* scalar_text failed on a template and has said why: report nothing more. */
int template_failed(const ynode *n, const char *expanded);
/* n's text, or NULL with an error ("what: expected text"). */
const char *get_str(loader *L, const ynode *n, const char *what);
/* n's text with {{env.NAME}} expanded (other templates are an error), or
 * NULL with an error: for values taken literally but for the environment
 * (module tags, check values, thresholds). */
const char *get_text(loader *L, const ynode *n, const char *what);
int get_duration(loader *L, const ynode *n, const char *what, uint64_t *out);
int get_u64(loader *L, const ynode *n, const char *what, uint64_t min, uint64_t max, uint64_t *out);
int get_bool(loader *L, const ynode *n, const char *what, int *out);
/* compression, max_requests_per_connection and max_connection_age of a
 * request step or of defaults, each set only when given. Returns 0 or -1. */
int get_connection_options(loader *L, const ynode *map, int *compression, uint64_t *max_reqs, uint64_t *max_age);
/* "1s", or a uniform range "1s..3s". */
int get_think(loader *L, const ynode *n, uint64_t *lo, uint64_t *hi);
/* 200, "200-299", or a list of those. */
int get_status_set(loader *L, const ynode *n, const char *what, status_set *out);
/* A scalar with {{env.NAME}} expanded (NULL after an error, or for a
 * node that is not a scalar). The text lives as long as the loader. */
const char *scalar_text(loader *L, const ynode *n);
/* Compiles src (the text of n) onto t, with every template name the
 * module knows; an error points at the expression. */
int compile_tmpl(loader *L, const ynode *n, const char *src, tmpl *t, tmpl_esc esc);

/* {{env.NAME}}'s value: the last -e NAME=, else the environment, else the
 * plan's env: default. Returns 0 and *value, or -1. (ctx: the loader.) */
int env_lookup(void *ctx, const char *name, const char **value);

/* ---- secrets.c: what outputs must never show ---- */

/* Fills L->cfg->secrets (core/redact.h) from the plan as written and
 * --secret, then hides them in what the load produced: its error
 * messages, the target, threshold filters. Runs after everything else,
 * whether the load failed or not. */
void plan_secrets(loader *L, const ynode *root);

/* ---- data.c: CSV data files ---- */

/* tmpl_names' data lookup: alias.column, marking the alias as read by the
 * module being compiled. */
int data_lookup(void *ctx, const char *alias, const char *column, uint32_t *ai, uint32_t *ci);
/* data: every file, read and checked into L->cfg->data. */
void load_data(loader *L, ynode *data);

/* ---- requests.c: request steps ---- */

/* The step keys that make a request ("get", ..., "options"), NULL-terminated. */
extern const char *const request_methods[];
/* YAML value -> JSON text template (strings JSON-escaped). */
int json_from_yaml(loader *L, const ynode *n, tmpl *t, int depth);
/* Compiles one request step into cfg->reqs; returns its index or -1. */
int compile_request(loader *L, const ynode *step);

/* ---- checks.c: checks and extraction ---- */

int compile_extracts(loader *L, run_request *r, const ynode *ex);
int compile_checks(loader *L, run_request *r, const ynode *ch);

/* ---- steps.c: steps, programs and variables ---- */

/* tmpl_names' variable lookup in the module being compiled. */
int var_lookup(void *ctx, const char *name, uint32_t *slot);
/* The slot of variable name in the module, added if new. */
uint32_t var_slot(loader *L, const char *name);
/* Compiles a list of steps onto p; where names it in errors. */
int compile_steps(loader *L, const ynode *steps, flow_program *p, const char *where, int depth);
/* Declares the variables steps extract before any template is compiled. */
void collect_vars(loader *L, const ynode *steps);
int program_has_request(const flow_program *p);

/* ---- executors.c ---- */

int compile_executor(loader *L, run_scenario *sc, const ynode *ex, const char *module);
/* scale: every module's load times the plan's factor. */
void plan_scale(loader *L, const ynode *v);

/* ---- thresholds.c, strategies.c, tls.c ---- */

void compile_thresholds(loader *L, ynode *th);
/* strategies: the phases of the strategy asked for (each section checked). */
void plan_strategies(loader *L, ynode *strat);
/* defaults.tls into L->cfg (the command line's files win). */
void load_tls(loader *L, const ynode *t);

/* ---- net.c ---- */

/* The top-level dns, hosts, local_ips and proxy into L->cfg. */
void plan_net(loader *L, const ynode *root);

#endif
