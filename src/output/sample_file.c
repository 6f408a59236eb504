#include "output/sample_file.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/clock.h"
#include "output/outq.h"

/* Encoded bytes handed to the file at a time. */
#define CHUNK (1024 * 1024)
/* A file output drains its queue at the end for up to OUTPUT_FLUSH_MAX
 * (output.h): the data is local, and a file missing its tail is worse than
 * a late summary, but a full queue (4,000,000 samples) takes a few seconds
 * to encode and write, not a minute; past it, what is left is dropped and
 * counted. */

typedef struct sample_file {
	sample_file_enc enc;
	char *path;
	FILE *f;       /* plain */
	gzFile gz;     /* path ends in .gz */
	outq *q;
	buf chunk;
	int failed;
	int reader_gone; /* a pipe whose reader closed it: not a failure of the run */
	pthread_mutex_t lock;
	output_stats st;
} sample_file;

static int write_out(sample_file *sf, const char *p, size_t n)
{
	if (!n || sf->failed)
		return sf->failed ? -1 : 0;
	if (sf->gz) {
		while (n) {
			unsigned part = n > (1u << 30) ? 1u << 30 : (unsigned)n;
			int w = gzwrite(sf->gz, p, part);

			if (w <= 0)
				goto fail;
			p += w;
			n -= (size_t)w;
		}
		return 0;
	}
	if (fwrite(p, 1, n, sf->f) == n)
		return 0;
fail:
	pthread_mutex_lock(&sf->lock);
	if (!sf->failed) {
		int zerr = 0, e = errno;
		const char *why = sf->gz ? gzerror(sf->gz, &zerr) : strerror(e);

		/* The reader of a pipe went away (json=/dev/stdout | head): what
		 * is left is dropped and counted, as a dead InfluxDB's points are,
		 * and the exit status stays the run's. */
		sf->reader_gone = e == EPIPE && (!sf->gz || zerr == Z_ERRNO);
		snprintf(sf->st.last_error, sizeof(sf->st.last_error), "write %s: %s", sf->path,
			 zerr == Z_ERRNO ? strerror(e) : why);
		fprintf(stderr, "\nstrain: output %s\n", sf->st.last_error);
	}
	sf->failed = 1;
	sf->st.write_errors++;
	pthread_mutex_unlock(&sf->lock);
	return -1;
}

static void count(sample_file *sf, uint64_t written, uint64_t dropped)
{
	pthread_mutex_lock(&sf->lock);
	sf->st.points_written += written;
	sf->st.points_dropped += dropped;
	pthread_mutex_unlock(&sf->lock);
}

static void consume(void *ctx, unsigned t, outq_job *j)
{
	sample_file *sf = ctx;
	size_t i = 0;

	while (i < j->nsamples) {
		size_t first = i, points;
		uint64_t d = outq_deadline(sf->q);

		/* Past the flush limit (or cut by a signal): the rest is dropped,
		 * a chunk at a time is all the limit waits for. */
		if (d && clock_mono_ns() >= d) {
			count(sf, 0, j->nsamples - i - met_samples_arrivals(j->samples + i, j->nsamples - i));
			return;
		}
		buf_reset(&sf->chunk);
		while (i < j->nsamples && sf->enc.sample(sf->enc.self, &sf->chunk, &j->samples[i]) == 0)
			i++;
		if (i == first) { /* a single sample larger than a chunk */
			count(sf, 0, 1);
			i++;
			continue;
		}
		/* Arrival records are part of the sample after them, not points. */
		points = i - first - met_samples_arrivals(j->samples + first, i - first);
		if (write_out(sf, sf->chunk.data, sf->chunk.len) == 0)
			count(sf, points, 0);
		else
			count(sf, 0, points);
	}
}

static void sample_file_free(sample_file *sf)
{
	if (sf->enc.destroy)
		sf->enc.destroy(sf->enc.self);
	buf_free(&sf->chunk);
	free(sf->path);
	pthread_mutex_destroy(&sf->lock);
	free(sf);
}

int sample_file_open(output *o, const char *path, const sample_file_enc *enc, char *err, size_t errsz)
{
	sample_file *sf = xcalloc(1, sizeof(*sf));
	size_t n = strlen(path);
	int fd, made = 0;
	struct stat st;

	sf->enc = *enc;
	pthread_mutex_init(&sf->lock, NULL);
	buf_init(&sf->chunk, CHUNK, CHUNK);
	if (!n) {
		snprintf(err, errsz, "expected a file name");
		goto fail;
	}
	sf->path = xstrdup(path);
	/* Opened without blocking: a FIFO nobody reads yet would otherwise
	 * hold the run before it starts, deaf to signals. Writes block again
	 * (a slow reader is the flush bound's to handle). */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0666);
	if (fd < 0) {
		if (errno == ENXIO)
			snprintf(err, errsz, "%s is a FIFO with no reader: start the reader first", path);
		else
			snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* What a failure below may remove: a regular file this call opened,
	 * never a FIFO, a device or anything that failed to open. */
	made = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
		/* Level 1: several times faster than the default for about the
		 * same ratio on repetitive JSON/CSV; the writer thread must keep
		 * up with the load. */
		sf->gz = gzdopen(fd, "wb1");
		if (sf->gz)
			gzbuffer(sf->gz, 256 * 1024);
	} else {
		sf->f = fdopen(fd, "w");
	}
	if (!sf->f && !sf->gz) {
		snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	if (sf->enc.begin) {
		sf->enc.begin(sf->enc.self, &sf->chunk);
		write_out(sf, sf->chunk.data, sf->chunk.len);
	}
	sf->q = outq_create(SAMPLE_FILE_BUFFER, 1, consume, sf);
	if (!sf->q) {
		snprintf(err, errsz, "cannot start the writer thread");
		goto fail;
	}
	outq_set_cutoff(sf->q, &o->cutoff);
	o->impl = sf;
	o->wants_samples = 1;
	return 0;
fail:
	if (sf->f)
		fclose(sf->f);
	if (sf->gz)
		gzclose(sf->gz);
	if (made)
		remove(sf->path);
	sample_file_free(sf);
	return -1;
}

void sample_file_snapshot(output *o, const met_snapshot *snap)
{
	sample_file *sf = o->impl;
	size_t n = snap->interval->nsamples;
	uint64_t room, lost = snap->interval->samples_lost; /* past the shard log's maximum */
	outq_job *j;

	if (!n) {
		if (lost)
			count(sf, 0, lost);
		return;
	}
	room = outq_room(sf->q);
	if (n > room) {
		n = (size_t)room;
		/* An arrival record goes with the sample after it, or not at all. */
		if (n && met_sample_is_arrival(&snap->interval->samples[n - 1]))
			n--;
		lost += snap->interval->nsamples - n -
		       met_samples_arrivals(snap->interval->samples + n, snap->interval->nsamples - n);
	}
	if (n) {
		j = outq_job_samples(sf->q, snap->interval->samples, n);
		if (outq_push(sf->q, j) < 0) {
			lost += n;
			outq_job_free(j);
		}
	}
	if (lost)
		count(sf, 0, lost);
}

void sample_file_stats(output *o, output_stats *stats)
{
	sample_file *sf = o->impl;

	pthread_mutex_lock(&sf->lock);
	*stats = sf->st;
	pthread_mutex_unlock(&sf->lock);
}

int sample_file_close(output *o, output_stats *stats)
{
	sample_file *sf = o->impl;
	uint64_t left;
	int rc;

	if (!sf)
		return 0;
	output_cutoff_at(o, clock_mono_ns() + OUTPUT_FLUSH_MAX);
	left = outq_close(sf->q, atomic_load(&o->cutoff));
	outq_destroy(sf->q);
	count(sf, 0, left);
	if (sf->gz) {
		if (gzclose(sf->gz) != Z_OK && !sf->failed) {
			sf->failed = 1;
			sf->reader_gone = errno == EPIPE;
			snprintf(sf->st.last_error, sizeof(sf->st.last_error), "close %s: %s", sf->path, strerror(errno));
		}
	} else if (fclose(sf->f) != 0 && !sf->failed) {
		sf->failed = 1;
		sf->reader_gone = errno == EPIPE;
		snprintf(sf->st.last_error, sizeof(sf->st.last_error), "close %s: %s", sf->path, strerror(errno));
	}
	rc = sf->failed && !sf->reader_gone ? -1 : 0;
	*stats = sf->st;
	sample_file_free(sf);
	o->impl = NULL;
	return rc;
}
