/* A small command-line reader shared by the commands: long flags as
 * "--name value" or "--name=value", short aliases, repeatable flags. It
 * leaves the meaning of values to the command, but every error names the
 * flag it is about. */
#ifndef STRAIN_CLI_ARGS_H
#define STRAIN_CLI_ARGS_H

#include <stdint.h>

typedef struct args {
	int argc;
	char **argv;
	int i;              /* next argument */
	const char *flag;   /* flag being read, for messages */
	const char *value;  /* its value */
	const char *cmd;    /* command name, for messages */
	int missing;        /* a flag came without its value: a usage error */
} args;

void args_init(args *a, const char *cmd, int argc, char **argv);
/* Advances to the next argument. Returns 1 with a->flag set (a->value set
 * for --name=value), 2 for a positional argument (in a->value), 0 at the end. */
int args_next(args *a);
/* Is the current flag one of the given spellings (NULL-terminated list)? */
int args_is(const args *a, const char *name, const char *alias);
/* Takes the flag's value (from "=value" or the next argument). Returns it,
 * or NULL after printing "--flag needs a value". */
const char *args_value(args *a);
/* Value parsers that print "strain CMD: --flag: ..." on error and return -1. */
int args_u64(args *a, uint64_t min, uint64_t max, uint64_t *out);
int args_duration(args *a, uint64_t *out);
void args_error(const args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the flag's value as the name of a file to read and checks now that
 * it can be read (exists, is not a directory, is readable), so the message
 * names the flag: "strain CMD: --flag PATH: is a directory". Returns the
 * path, or NULL after printing why. */
const char *args_file(args *a);
/* The same check for a path taken earlier: 0, or -1 after printing
 * "strain CMD: FLAG PATH: why". */
int args_check_file(const char *cmd, const char *flag, const char *path);

#endif
