#include "cli/args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/parse.h"

void args_init(args *a, const char *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
}

int args_next(args *a)
{
	static char name[64];
	const char *s, *eq;

	a->flag = a->value = NULL;
	if (a->i >= a->argc)
		return 0;
	s = a->argv[a->i++];
	if (s[0] != '-' || s[1] == '\0') {
		a->value = s;
		return 2;
	}
	eq = s[1] == '-' ? strchr(s, '=') : NULL;
	if (eq) {
		size_t n = (size_t)(eq - s) < sizeof(name) - 1 ? (size_t)(eq - s) : sizeof(name) - 1;

		memcpy(name, s, n);
		name[n] = '\0';
		a->flag = name;
		a->value = eq + 1;
	} else {
		a->flag = s;
	}
	return 1;
}

int args_is(const args *a, const char *name, const char *alias)
{
	return strcmp(a->flag, name) == 0 || (alias && strcmp(a->flag, alias) == 0);
}

void args_error(const args *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "strain %s: ", a->cmd);
	if (a->flag)
		fprintf(stderr, "%s: ", a->flag);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *args_value(args *a)
{
	if (a->value)
		return a->value;
	if (a->i >= a->argc) {
		args_error(a, "needs a value");
		a->missing = 1;
		return NULL;
	}
	a->value = a->argv[a->i++];
	return a->value;
}

int args_u64(args *a, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *v = args_value(a);

	if (!v)
		return -1;
	if (parse_u64(v, min, max, out) < 0) {
		args_error(a, "'%s' is not a whole number from %llu to %llu", v, (unsigned long long)min,
			   (unsigned long long)max);
		return -1;
	}
	return 0;
}

int args_duration(args *a, uint64_t *out)
{
	const char *v = args_value(a);

	if (!v)
		return -1;
	if (parse_duration_ns(v, out) < 0) {
		args_error(a, "'%s' is not a duration (examples: 30s, 1m30s, 250ms)", v);
		return -1;
	}
	return 0;
}

int args_check_file(const char *cmd, const char *flag, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "strain %s: %s %s: %s\n", cmd, flag, path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "strain %s: %s %s: is a directory, not a file\n", cmd, flag, path);
		return -1;
	}
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "strain %s: %s %s: %s\n", cmd, flag, path, strerror(errno));
		return -1;
	}
	return 0;
}

const char *args_file(args *a)
{
	const char *path = args_value(a);

	if (!path || args_check_file(a->cmd, a->flag, path) < 0)
		return NULL;
	return path;
}
