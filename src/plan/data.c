/* Data files: CSV (RFC 4180) read at load into run_data, and the
 * {{ALIAS.column}} names templates look up. */
#include "plan/loader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int data_lookup(void *ctx, const char *alias, const char *column, uint32_t *ai, uint32_t *ci)
{
	loader *L = ctx;
	uint32_t a, c;

	for (a = 0; a < L->cfg->ndata; a++) {
		run_data *d = &L->cfg->data[a];

		if (strcmp(d->alias, alias) != 0)
			continue;
		for (c = 0; c < d->ncols; c++)
			if (strcmp(d->names[c], column) == 0) {
				*ai = a;
				*ci = c;
				L->data_mask |= 1u << a;
				return 0;
			}
	}
	return -1;
}

/* A CSV file (RFC 4180) read in place: fields are unquoted into the
 * buffer itself and NUL-terminated there. Records end at \n, \r\n or \r;
 * quoted fields may hold commas, doubled quotes and line breaks. */
typedef struct csv_reader {
	char *p, *end;  /* *end is a NUL the caller put there */
	uint32_t line;  /* the line p is on, from 1 */
	uint32_t err_line;
	char err[160];
} csv_reader;

#define CSV_MAX_COLS 256

/* Reads the next record into fields (at most max; *nf counts them all).
 * Lines with nothing on them are skipped. Returns 1 for a record, 0 at the
 * end, -1 with r->err set; *rec_line is the line the record starts on. */
static int csv_next(csv_reader *r, char **fields, uint32_t max, uint32_t *nf, uint32_t *rec_line)
{
	char *p = r->p;

	while (p < r->end && (*p == '\n' || *p == '\r')) {
		if (*p == '\n' || p + 1 == r->end || p[1] != '\n')
			r->line++;
		p++;
	}
	*nf = 0;
	*rec_line = r->line;
	if (p == r->end) {
		r->p = p;
		return 0;
	}
	for (;;) {
		char *start = p, *out;
		char d;

		if (*p == '"') {
			uint32_t opened = r->line;

			out = start;
			p++;
			for (;;) {
				if (p == r->end) {
					r->err_line = opened;
					snprintf(r->err, sizeof(r->err), "the quoted field opened on this line is not closed");
					return -1;
				}
				if (*p == '"' && p + 1 < r->end && p[1] == '"') {
					*out++ = '"';
					p += 2;
					continue;
				}
				if (*p == '"') {
					p++;
					break;
				}
				if (*p == '\n')
					r->line++;
				*out++ = *p++;
			}
			if (p < r->end && *p != ',' && *p != '\n' && *p != '\r') {
				r->err_line = r->line;
				snprintf(r->err, sizeof(r->err), "text after a closing quote (write \"\" for a quote inside a quoted field)");
				return -1;
			}
		} else {
			while (p < r->end && *p != ',' && *p != '\n' && *p != '\r')
				p++;
			out = p;
		}
		d = p < r->end ? *p : '\0';
		if (*nf < max)
			fields[*nf] = start;
		(*nf)++;
		*out = '\0'; /* out <= p: the delimiter is saved in d */
		if (d == ',') {
			p++;
			continue;
		}
		if (d == '\r' && p + 1 < r->end && p[1] == '\n')
			p++;
		if (d)
			p++, r->line++;
		r->p = p;
		return 1;
	}
}

/* Reads a whole data file into a NUL-terminated buffer. Returns it, or
 * NULL with a message in err. */
static char *read_data_file(const char *path, size_t *lenp, char *err, size_t errsz)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *text = NULL;
	size_t len = 0, cap = 0;

	if (!fp) {
		snprintf(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "is a directory, not a CSV file");
		fclose(fp);
		return NULL;
	}
	for (;;) {
		size_t got;

		if (len + 4096 + 1 > cap) {
			cap = (len + 4096 + 1) * 2;
			text = xrealloc(text, cap);
		}
		got = fread(text + len, 1, cap - len - 1, fp);
		if (!got)
			break;
		len += got;
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "%s", strerror(errno));
		free(text);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	text[len] = '\0';
	*lenp = len;
	return text;
}

void load_data(loader *L, ynode *data)
{
	size_t i, n = ymap_len(data);
	static const char *const keys[] = {"file", "mode", NULL};

	if (data && !ynode_is_map(data)) {
		err_at(L, data, "data: expected a mapping of ALIAS: {file: FILE.csv, mode: ...}");
		return;
	}
	check_dups(L, data, "data");
	L->cfg->data = xcalloc(n + 1, sizeof(run_data));
	if (n > 32)
		err_at(L, ymap_key(&L->doc, data, 32), "data: at most 32 files");
	for (i = 0; i < n && i < 32; i++) {
		ynode *k = ymap_key(&L->doc, data, i), *v = ymap_value(&L->doc, data, i), *f, *m;
		run_data *d = &L->cfg->data[L->cfg->ndata];
		const char *file, *mode = "per-vu";
		char *path, *text, *p, *nul, *fields[CSV_MAX_COLS], err[256];
		size_t len, skip;
		uint32_t nf, ccap = 0, line;
		csv_reader csv;
		strmap cols;
		int rc, bad = 0;

		if (!ynode_is_map(v)) {
			err_at(L, v, "data.%s: expected {file: FILE.csv, mode: per-vu|sequential|random|unique}",
			       ynode_str(k) ? ynode_str(k) : "?");
			continue;
		}
		if (check_keys(L, v, keys, "a data entry") < 0)
			continue;
		f = ymap_get(&L->doc, v, "file");
		m = ymap_get(&L->doc, v, "mode");
		if (!f) {
			err_at(L, v, "data.%s: 'file' is required", ynode_str(k));
			continue;
		}
		file = get_str(L, f, "file");
		if (!file)
			continue;
		if (m)
			mode = get_str(L, m, "mode");
		if (!mode)
			continue;
		if (strcmp(mode, "per-vu") && strcmp(mode, "sequential") && strcmp(mode, "random") && strcmp(mode, "unique")) {
			err_at(L, m, "mode: expected per-vu, sequential, random or unique, found '%s'", mode);
			continue;
		}
		len = strlen(L->dir) + strlen(file) + 2;
		path = xmalloc(len);
		snprintf(path, len, "%s/%s", file[0] == '/' ? "" : L->dir, file);
		text = read_data_file(file[0] == '/' ? file : path, &len, err, sizeof(err));
		if (!text) {
			err_at(L, f, "data file '%s': %s", file, err);
			free(path);
			continue;
		}
		nul = memchr(text, '\0', len);
		if (nul) {
			uint32_t at = 1;

			for (p = text; p < nul; p++)
				at += *p == '\n';
			err_at(L, f, "data file %s:%u: a NUL byte (is it a text file?)", file, at);
			free(text);
			free(path);
			continue;
		}
		/* Excel's "CSV UTF-8" starts with a byte-order mark; it is not part
		 * of the first column's name. */
		skip = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? 3 : 0;
		csv = (csv_reader){.p = text + skip, .end = text + len, .line = 1};
		rc = csv_next(&csv, fields, CSV_MAX_COLS, &nf, &line);
		if (rc <= 0 || nf > CSV_MAX_COLS) {
			if (rc < 0)
				err_at(L, f, "data file %s:%u: %s", file, csv.err_line, csv.err);
			else if (nf > CSV_MAX_COLS)
				err_at(L, f, "data file '%s': %u columns; at most %d", file, nf, CSV_MAX_COLS);
			else
				err_at(L, f, "data file '%s' has no header row (column names)", file);
			free(text);
			free(path);
			continue;
		}
		d->alias = xstrdup(ynode_str(k));
		d->file = path;
		d->mode = !strcmp(mode, "per-vu") ? DATA_PER_VU : !strcmp(mode, "sequential") ? DATA_SEQUENTIAL
				   : !strcmp(mode, "random")			       ? DATA_RANDOM
										       : DATA_UNIQUE;
		d->ncols = nf;
		d->names = xcalloc(nf, sizeof(char *));
		strmap_init(&cols);
		for (uint32_t c = 0; c < nf; c++) {
			d->names[c] = xstrdup(fields[c]);
			if (!fields[c][0]) {
				err_at(L, f, "data file %s:%u: column %u has no name", file, line, c + 1);
				bad = 1;
			} else if (strmap_put(&cols, d->names[c], c, NULL)) {
				err_at(L, f, "data file %s:%u: column '%s' appears twice", file, line, fields[c]);
				bad = 1;
			}
		}
		strmap_free(&cols);
		while (!bad) {
			uint32_t c, got;

			rc = csv_next(&csv, fields, CSV_MAX_COLS, &got, &line);
			if (rc < 0) {
				err_at(L, f, "data file %s:%u: %s", file, csv.err_line, csv.err);
				bad = 1;
				break;
			}
			if (!rc)
				break;
			if (got != d->ncols) {
				err_at(L, f, "data file %s:%u: %u field%s where the header has %u", file, line, got,
				       got == 1 ? "" : "s", d->ncols);
				bad = 1;
				break;
			}
			if ((d->nrows + 1) * d->ncols > ccap) {
				ccap = ccap ? ccap * 2 : d->ncols * 64;
				while (ccap < (d->nrows + 1) * d->ncols)
					ccap *= 2;
				d->cells = xrealloc(d->cells, ccap * sizeof(char *));
			}
			for (c = 0; c < d->ncols; c++)
				d->cells[d->nrows * d->ncols + c] = xstrdup(fields[c]);
			d->nrows++;
		}
		free(text);
		L->cfg->ndata++;
		if (!bad && !d->nrows)
			err_at(L, f, "data file '%s' has a header but no rows", file);
	}
}
