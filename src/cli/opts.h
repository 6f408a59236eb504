/* One option table per command. Each entry says how a flag is spelled, what
 * value it takes, where the value goes, which usage section it belongs to and
 * its one line of help; the usage text, the parsing loop and the messages for
 * unknown, repeated, valueless or malformed flags all come from that table,
 * so a flag cannot be parsed but undocumented, or documented but unknown.
 *
 * Constraints between flags (--max-vus needs --rate, ...) stay explicit
 * checks in the command after parsing; opts_typed gives them each flag as
 * the user spelled it, for the message. */
#ifndef STRAIN_CLI_OPTS_H
#define STRAIN_CLI_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

typedef enum opt_kind {
	OPT_SWITCH,   /* no value: stores int 1 */
	OPT_STRING,   /* const char * */
	OPT_FILE,     /* const char *, a file that must be readable now */
	OPT_KEYVAL,   /* const char *, "KEY=VALUE" with a non-empty KEY */
	OPT_U64,      /* uint64_t within [min, max] */
	OPT_DURATION, /* uint64_t nanoseconds ("30s", "1m30s") */
	OPT_NUMBER,   /* double, 0 <= d <= max (a decimal number, no sign) */
	OPT_CUSTOM,   /* parse() decides */
	OPT_HELP,     /* prints the usage to stdout; the command stops with exit 0 */
	OPT_OPTVAL,   /* const char *: the value after '=' ("--http-debug=full"), or "" when
		       * the flag comes alone; never takes the next argument */
} opt_kind;

/* Flag bits of an entry. */
enum {
	OPT_REPEAT = 1 << 0,   /* may be given more than once (strings: an array, see count_off) */
	OPT_POSITIVE = 1 << 1, /* durations and numbers: must be above 0 */
	OPT_QUICK = 1 << 2,    /* strain run: quick mode only (not with a plan) */
	OPT_PLAN = 1 << 3,     /* strain run: with a plan only */
	/* OPT_CUSTOM: the value may be left out (parse() then gets NULL). It is
	 * "--name=VALUE", or "--name VALUE" when the next argument looks like
	 * an address (no leading '-', a ':' in it), so that a plan file after
	 * the flag stays the plan. */
	OPT_OPTIONAL_ADDR = 1 << 4,
};

/* A custom value parser: stores what VALUE means into the command's struct
 * BASE (VALUE is NULL for an OPT_OPTIONAL_ADDR flag given without one).
 * Returns 0, or -1 with a message in err (empty: the message is
 * "'VALUE': expected EXPECT" from the entry). */
typedef int (*opt_parse_fn)(void *base, const char *value, char *err, size_t errsz);

typedef struct opt {
	const char *name;    /* "--vus" */
	const char *alias;   /* "-u", or NULL */
	const char *arg;     /* value placeholder for the usage ("N", "D", "FILE"); NULL for a switch */
	opt_kind kind;
	unsigned flags;      /* OPT_* bits */
	uint64_t min, max;   /* OPT_U64 bounds; OPT_NUMBER max; repeatable strings: most values kept */
	size_t off;          /* offsetof the value in the command's struct (unused by OPT_CUSTOM/HELP) */
	size_t count_off;    /* repeatable strings: offsetof a uint32_t count; off is then a const char *[max] */
	opt_parse_fn parse;  /* OPT_CUSTOM */
	const char *expect;  /* OPT_CUSTOM, OPT_NUMBER: the expected form, for "'v': expected ..." */
	int group;           /* index into the command's groups */
	const char *help;    /* one line; wrapped to the usage width; "\n" starts a new line */
} opt;

typedef struct opts_group {
	const char *title;   /* "Quick mode" */
	const char *intro;   /* printed after "Title: ", or NULL */
} opts_group;

/* A k6 flag strain does not have, and what to use instead. */
typedef struct opts_k6 {
	const char *name;    /* "--rps" */
	const char *alias;   /* k6's short form, or NULL */
	const char *what;    /* what it does in k6: "k6's cap on requests per second" */
	const char *instead; /* "use --rate R, ..."; NULL: strain has nothing like it */
} opts_k6;

#define OPTS_MAX 64
#define OPTS_TYPED 40

/* What the parse saw: per entry, how many times and the first spelling. */
typedef struct opts_seen {
	uint32_t n[OPTS_MAX];
	uint32_t order[OPTS_MAX]; /* position of its first use among the flags given */
	char typed[OPTS_MAX][OPTS_TYPED];
} opts_seen;

typedef struct opts_cmd {
	const char *cmd;              /* "run", for "strain run: ..." */
	const opt *opts;
	uint32_t nopts;               /* at most OPTS_MAX */
	const opts_group *groups;
	uint32_t ngroups;
	const char *synopsis;         /* the "Usage:" lines and any text before the groups */
	const char *epilogue;         /* text after the groups, or NULL */
	const opts_k6 *k6;            /* k6 flags to explain when typed; NULL-name terminated, or NULL */
	/* A positional argument: 0, or an outcome after printing why. NULL:
	 * positional arguments are a usage error. */
	cli_outcome (*positional)(void *base, const char *arg);
} opts_cmd;

/* Parses argv[1..argc-1] into BASE by C's table. Returns CLI_DONE, CLI_HELP
 * (the usage went to stdout), CLI_USAGE (unknown flag, missing value,
 * repeated flag, a value given to a switch: printed) or CLI_BAD_VALUE (a
 * value of the wrong form, a file that cannot be read: printed, naming the
 * flag as typed). SEEN is filled either way. */
cli_outcome opts_parse(const opts_cmd *c, int argc, char **argv, void *base, opts_seen *seen);

/* A non-negative decimal number, the whole string, at most MAX: 0 or -1. */
int opts_number(const char *s, double max, double *out);

/* The usage text of C: synopsis, groups with their flags, epilogue. */
void opts_usage(const opts_cmd *c, FILE *f);

/* How many times entry ID was given. */
static inline uint32_t opts_given(const opts_seen *s, int id)
{
	return s->n[id];
}

/* Entry ID as the user first typed it ("-u"), or its long name if not given. */
const char *opts_typed(const opts_cmd *c, const opts_seen *s, int id);

/* Writes into out the long names of the entries with all of FLAGS set,
 * joined by ", " (with "and" before the last), e.g. for messages that list
 * every quick-mode flag. */
void opts_list(const opts_cmd *c, unsigned flags, char *out, size_t outsz);

/* Of the entries with one of FLAGS set, the one given first on the command
 * line, or -1 if none was. */
int opts_first_given(const opts_cmd *c, const opts_seen *s, unsigned flags);

#endif
