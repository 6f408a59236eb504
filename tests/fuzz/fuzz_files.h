/* What the drivers that feed the loader files share (fuzz_plan, fuzz_csv):
 * CHECK, a private directory made once per process and removed at exit
 * with the files the driver names, and writing one of them. The directory
 * is on tmpfs (/dev/shm) when there is one: rewriting a file per input on
 * a disk file system costs more than the load (ext4 flushes a file
 * truncated and rewritten when it is closed). A header of static
 * functions: each driver is its own program. */
#ifndef STRAIN_FUZZ_FILES_H
#define STRAIN_FUZZ_FILES_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void remove_dir(void);

/* abort() skips atexit: the directory goes first. */
#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			remove_dir();                                                                                  \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

static char dir[256];
/* The name the loader is given for dir: the same in every process
 * (/proc/self/fd/DIR_FD, a descriptor of dir), so messages quoting the
 * plan's path do not change with mkdtemp's random name and a crash input
 * does the same when run again alone. dir itself when /proc is missing. */
static char load_dir[256];
#define DIR_FD 900
static const char *const *dir_files; /* the names fuzz_make_dir was given, NULL-terminated */

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *fp = fopen(path, "wb");

	CHECK(fp != NULL);
	CHECK(fwrite(data, 1, size, fp) == size);
	CHECK(fclose(fp) == 0);
}

/* atexit: the directory and what the driver wrote in it, so no run leaves
 * a directory behind. */
static void remove_dir(void)
{
	char path[300];
	size_t i;

	for (i = 0; dir_files && dir_files[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, dir_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* files: every name the driver writes in it, NULL-terminated (static). */
static void make_dir(const char *name, const char *const *files)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	dir_files = files;
	snprintf(dir, sizeof(dir), "%s/strain-fuzz-%s-XXXXXX", base, name);
	CHECK(mkdtemp(dir) != NULL);
	CHECK(atexit(remove_dir) == 0);
	snprintf(load_dir, sizeof(load_dir), "%s", dir);
	{
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char probe[64];

		if (fd >= 0 && dup2(fd, DIR_FD) == DIR_FD) {
			snprintf(probe, sizeof(probe), "/proc/self/fd/%d/.", DIR_FD);
			if (access(probe, F_OK) == 0)
				snprintf(load_dir, sizeof(load_dir), "/proc/self/fd/%d", DIR_FD);
		}
		if (fd >= 0 && fd != DIR_FD)
			close(fd);
	}
}

#endif
