#include "plan/yaml.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/strmap.h"

/* An anchor as the composer knows it: the node it names and, once that node
 * is complete, how many nodes and scalar bytes it stands for with its own
 * aliases expanded (so an alias costs what it will cost whoever walks it). */
typedef struct anchor {
	char *name;
	int node;
	int done;
	uint64_t nodes, bytes;
} anchor;

/* An open collection. */
typedef struct frame {
	int node;
	int key;       /* mapping: the key waiting for its value, 0 if none */
	int anchor;    /* index into anchors, or -1 */
	uint64_t nodes, bytes; /* the running totals when it opened */
} frame;

typedef struct composer {
	ydoc *d;
	frame stack[YDOC_MAX_DEPTH];
	int depth;
	anchor *anchors;
	uint32_t nanchors, capanchors;
	strmap by_name;
	uint64_t nodes, bytes;  /* as a reader walking every alias sees them */
	char *err;
	size_t errsz;
	int line, col;
} composer;

static void fail_at(composer *c, yaml_mark_t m, const char *fmt, const char *arg)
{
	snprintf(c->err, c->errsz, fmt, arg);
	c->line = (int)m.line + 1;
	c->col = (int)m.column + 1;
}

/* Counts what a node adds for anyone walking the document; refuses past the
 * limits, so a few bytes of aliases cannot stand for gigabytes. */
static int charge(composer *c, uint64_t nodes, uint64_t bytes, yaml_mark_t m)
{
	c->nodes += nodes;
	c->bytes += bytes;
	if (c->nodes > YDOC_MAX_NODES) {
		fail_at(c, m, "the document has more than %s nodes (aliases counted as often as they are used)",
			"2,000,000");
		return -1;
	}
	if (c->bytes > YDOC_MAX_TEXT) {
		fail_at(c, m, "the document has more than %s of text (aliases counted as often as they are used)",
			"64 MiB");
		return -1;
	}
	return 0;
}

static int anchor_add(composer *c, const yaml_char_t *name, int node)
{
	uint32_t i;
	anchor *a;

	if (c->nanchors == c->capanchors) {
		c->capanchors = c->capanchors ? c->capanchors * 2 : 16;
		c->anchors = xrealloc(c->anchors, c->capanchors * sizeof(*c->anchors));
	}
	i = c->nanchors++;
	a = &c->anchors[i];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup((const char *)name);
	a->node = node;
	/* A later anchor of the same name wins, as YAML says. The map's key
	 * borrows the name; anchors are never freed before the map. */
	strmap_set(&c->by_name, a->name, i);
	return (int)i;
}

/* Attaches a complete node to the open collection, if any. */
static void attach(composer *c, int node)
{
	frame *f;
	yaml_node_t *parent;

	if (!c->depth)
		return;
	f = &c->stack[c->depth - 1];
	parent = yaml_document_get_node(&c->d->doc, f->node);
	if (parent->type == YAML_SEQUENCE_NODE) {
		yaml_document_append_sequence_item(&c->d->doc, f->node, node);
	} else if (!f->key) {
		f->key = node;
	} else {
		yaml_document_append_mapping_pair(&c->d->doc, f->node, f->key, node);
		f->key = 0;
	}
}

static void set_marks(composer *c, int node, const yaml_event_t *e)
{
	yaml_node_t *n = yaml_document_get_node(&c->d->doc, node);

	n->start_mark = e->start_mark;
	n->end_mark = e->end_mark;
}

/* One event of the document. Returns 0 to go on, 1 at the document's end,
 * -1 with c->err set. */
static int compose(composer *c, yaml_event_t *e)
{
	yaml_document_t *doc = &c->d->doc;
	int node;

	switch (e->type) {
	case YAML_SCALAR_EVENT:
		if (charge(c, 1, e->data.scalar.length, e->start_mark) < 0)
			return -1;
		/* Plan text is C strings from here on: a NUL would silently cut
		 * a value short (a body, a header, a path). */
		if (memchr(e->data.scalar.value, '\0', e->data.scalar.length)) {
			fail_at(c, e->start_mark, "%s", "text with a NUL character (\\0) is not supported");
			return -1;
		}
		node = yaml_document_add_scalar(doc, e->data.scalar.tag, e->data.scalar.value, (int)e->data.scalar.length,
						e->data.scalar.style);
		if (!node)
			goto oom;
		set_marks(c, node, e);
		if (e->data.scalar.anchor) {
			int ai = anchor_add(c, e->data.scalar.anchor, node); /* may move c->anchors */
			anchor *a = &c->anchors[ai];

			a->done = 1;
			a->nodes = 1;
			a->bytes = e->data.scalar.length;
		}
		attach(c, node);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int seq = e->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *anc = seq ? e->data.sequence_start.anchor : e->data.mapping_start.anchor;
		frame *f;

		if (c->depth == YDOC_MAX_DEPTH) {
			fail_at(c, e->start_mark, "nested deeper than %s levels of lists and mappings", "64");
			return -1;
		}
		if (charge(c, 1, 0, e->start_mark) < 0)
			return -1;
		node = seq ? yaml_document_add_sequence(doc, e->data.sequence_start.tag, e->data.sequence_start.style)
			   : yaml_document_add_mapping(doc, e->data.mapping_start.tag, e->data.mapping_start.style);
		if (!node)
			goto oom;
		set_marks(c, node, e);
		f = &c->stack[c->depth++];
		f->node = node;
		f->key = 0;
		f->anchor = anc ? anchor_add(c, anc, node) : -1;
		f->nodes = c->nodes - 1;
		f->bytes = c->bytes;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		frame *f = &c->stack[--c->depth];
		yaml_node_t *n = yaml_document_get_node(doc, f->node);

		n->end_mark = e->end_mark;
		if (f->anchor >= 0) {
			anchor *a = &c->anchors[f->anchor];

			a->done = 1;
			a->nodes = c->nodes - f->nodes;
			a->bytes = c->bytes - f->bytes;
		}
		attach(c, f->node);
		return 0;
	}
	case YAML_ALIAS_EVENT: {
		uint32_t i;
		anchor *a;

		if (!strmap_get(&c->by_name, (const char *)e->data.alias.anchor, &i)) {
			fail_at(c, e->start_mark, "alias *%s names no anchor before it", (const char *)e->data.alias.anchor);
			return -1;
		}
		a = &c->anchors[i];
		if (!a->done) {
			fail_at(c, e->start_mark, "alias *%s is inside the node it names (recursive data is not supported)",
				a->name);
			return -1;
		}
		if (charge(c, a->nodes, a->bytes, e->start_mark) < 0)
			return -1;
		attach(c, a->node);
		return 0;
	}
	case YAML_DOCUMENT_END_EVENT:
		return 1;
	default:
		return 0;
	}
oom:
	fail_at(c, e->start_mark, "%s", "out of memory");
	return -1;
}

/* What an unfinished construct is called in a message, from libyaml's
 * context ("while parsing a flow sequence"). */
static const char *const construct_names[][2] = {
	{"while parsing a flow sequence", "the flow sequence '[' opened at"},
	{"while parsing a flow mapping", "the flow mapping '{' opened at"},
	{"while scanning a quoted scalar", "the quoted string opened at"},
	{"while parsing a quoted scalar", "the quoted string opened at"},
	{"while parsing a block node", "the value at"},
	{"while parsing a flow node", "the value at"},
	{"while scanning for the next token", "the text at"},
	{"while parsing a tag directive", "the %TAG directive at"},
	{"while scanning a tag directive", "the %TAG directive at"},
	{"While parsing a %TAG directive", "the %TAG directive at"},
	{"while parsing a block mapping", "the mapping that starts at"},
	{"while parsing a block collection", "the list that starts at"},
	{"while scanning a simple key", "the key at"},
	{"while scanning a block scalar", "the block scalar that starts at"},
	{"while scanning a plain scalar", "the value that starts at"},
	{"while parsing a node", "the node at"},
	{"while scanning an anchor", "the anchor at"},
	{"while scanning an alias", "the alias at"},
	{"while scanning a tag", "the tag at"},
	{"while parsing a tag", "the tag at"},
	{"while scanning a directive", "the directive at"},
	{"while scanning a %YAML directive", "the %YAML directive at"},
	{"while scanning a %TAG directive", "the %TAG directive at"},
};

/* A syntax error says where the parser stopped and, when libyaml knows it,
 * where the construct it was reading began: an unclosed '[' is found only
 * at the end of the file, far from where it was opened. */
static void syntax_error(const yaml_parser_t *p, const composer *c, char *err, size_t errsz, int *line, int *col,
			 int at_end)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	const char *what = NULL;
	size_t i;
	int cl = (int)p->context_mark.line + 1, cc = (int)p->context_mark.column + 1;

	if (p->error == YAML_READER_ERROR) {
		/* The reader knows only a byte offset (bad UTF-8, NUL bytes). */
		snprintf(err, errsz, "invalid YAML: %s at byte %zu (plans are UTF-8 text)", problem, p->problem_offset);
		*line = *col = 0;
		return;
	}
	*line = (int)p->problem_mark.line + 1;
	*col = (int)p->problem_mark.column + 1;
	if (!p->context) {
		snprintf(err, errsz, "invalid YAML: %s", problem);
		return;
	}
	for (i = 0; i < sizeof(construct_names) / sizeof(construct_names[0]); i++)
		if (!strcmp(p->context, construct_names[i][0]))
			what = construct_names[i][1];
	/* "while parsing a flow node" points where the parser stopped; the
	 * innermost open collection says more. */
	if (c->depth && (!strcmp(p->context, "while parsing a flow node") || !strcmp(p->context, "while parsing a block node") ||
			 !strcmp(p->context, "while parsing a node"))) {
		const yaml_node_t *n = yaml_document_get_node((yaml_document_t *)&c->d->doc, c->stack[c->depth - 1].node);
		int seq = n->type == YAML_SEQUENCE_NODE;
		int flow = seq ? n->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE
			       : n->data.mapping.style == YAML_FLOW_MAPPING_STYLE;

		what = flow ? (seq ? "the flow sequence '[' opened at" : "the flow mapping '{' opened at")
			    : (seq ? "the list that starts at" : "the mapping that starts at");
		cl = (int)n->start_mark.line + 1;
		cc = (int)n->start_mark.column + 1;
		if (flow && at_end) {
			snprintf(err, errsz, "invalid YAML: %s; %s %d:%d is not closed", problem, what, cl, cc);
			return;
		}
	}
	if (!what) {
		snprintf(err, errsz, "invalid YAML: %s %s (which began at %d:%d)", problem, p->context, cl, cc);
	} else if (strstr(problem, "end of stream") || strstr(problem, "expected ',' or ']'") ||
		   strstr(problem, "expected ',' or '}'")) {
		snprintf(err, errsz, "invalid YAML: %s; %s %d:%d is not closed", problem, what, cl, cc);
	} else if (!strcmp(p->context, "while parsing a block mapping") ||
		   !strcmp(p->context, "while parsing a block collection")) {
		snprintf(err, errsz, "invalid YAML: %s; %s %d:%d has its items at column %d (check the indentation)", problem,
			 what, cl, cc, cc);
	} else if (!strcmp(p->context, "while scanning a simple key")) {
		snprintf(err, errsz, "invalid YAML: %s; %s %d:%d has no ':' on its line", problem, what, cl, cc);
	} else {
		snprintf(err, errsz, "invalid YAML: %s; in %s %d:%d", problem, what, cl, cc);
	}
}

/* The line and column of a byte offset, for the reader's errors, which
 * know only the offset. */
static void offset_position(FILE *f, size_t offset, int *line, int *col)
{
	size_t i;

	*line = *col = 1;
	rewind(f);
	for (i = 0; i < offset; i++) {
		int ch = getc(f);

		if (ch == EOF)
			break;
		if (ch == '\n') {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

int ydoc_load(ydoc *d, const char *path, char *err, size_t errsz, int *line, int *col)
{
	yaml_parser_t p;
	yaml_event_t e;
	composer c;
	struct stat st;
	FILE *f = fopen(path, "rb");
	int rc = -1, started = 0, r = 0;
	uint32_t i;

	memset(d, 0, sizeof(*d));
	memset(&c, 0, sizeof(c));
	*line = *col = 0;
	if (!f) {
		snprintf(err, errsz, "cannot open the plan: %s", strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
		snprintf(err, errsz, "%s", S_ISDIR(st.st_mode) ? "is a directory, not a plan file" : strerror(errno));
		fclose(f);
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size > YDOC_MAX_FILE) {
		snprintf(err, errsz, "the plan is %lld bytes; plans are limited to 64 MiB (put data in CSV files)",
			 (long long)st.st_size);
		fclose(f);
		return -1;
	}
	c.d = d;
	c.err = err;
	c.errsz = errsz;
	strmap_init(&c.by_name);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (r == 0) {
		if (!yaml_parser_parse(&p, &e)) {
			syntax_error(&p, &c, err, errsz, line, col,
				     S_ISREG(st.st_mode) && (off_t)p.problem_mark.index >= st.st_size);
			if (p.error == YAML_READER_ERROR)
				offset_position(f, p.problem_offset, line, col);
			goto out;
		}
		if (e.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (e.type == YAML_DOCUMENT_START_EVENT) {
			if (!yaml_document_initialize(&d->doc, NULL, NULL, NULL, 1, 1)) {
				yaml_event_delete(&e);
				snprintf(err, errsz, "out of memory");
				goto out;
			}
			d->loaded = started = 1;
		}
		r = compose(&c, &e);
		yaml_event_delete(&e);
		if (r < 0) {
			*line = c.line;
			*col = c.col;
			goto out;
		}
	}
	if (!started || !yaml_document_get_root_node(&d->doc)) {
		snprintf(err, errsz, "the file is empty");
		*line = *col = 1;
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < c.nanchors; i++)
		free(c.anchors[i].name);
	free(c.anchors);
	strmap_free(&c.by_name);
	yaml_parser_delete(&p);
	fclose(f);
	return rc;
}
void ydoc_free(ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = 0;
}

ynode *ydoc_root(ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

const char *ynode_str(const ynode *n)
{
	return ynode_is_scalar(n) ? (const char *)n->data.scalar.value : NULL;
}

int ynode_quoted(const ynode *n)
{
	return ynode_is_scalar(n) && (n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
				      n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE);
}

int ynode_is_null(const ynode *n)
{
	const char *s = ynode_str(n);

	return s && !ynode_quoted(n) &&
	       (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

const char *ynode_kind(const ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return ynode_is_null(n) ? "nothing (null)" : "a value";
	}
}

size_t ymap_len(const ynode *map)
{
	return ynode_is_map(map) ? (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start) : 0;
}

ynode *ymap_key(ydoc *d, const ynode *map, size_t i)
{
	return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].key);
}

ynode *ymap_value(ydoc *d, const ynode *map, size_t i)
{
	return yaml_document_get_node(&d->doc, map->data.mapping.pairs.start[i].value);
}

ynode *ymap_get(ydoc *d, const ynode *map, const char *key)
{
	size_t i, n = ymap_len(map);

	for (i = 0; i < n; i++) {
		const char *k = ynode_str(ymap_key(d, map, i));

		if (k && strcmp(k, key) == 0)
			return ymap_value(d, map, i);
	}
	return NULL;
}

size_t yseq_len(const ynode *seq)
{
	return ynode_is_seq(seq) ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) : 0;
}

ynode *yseq_item(ydoc *d, const ynode *seq, size_t i)
{
	return yaml_document_get_node(&d->doc, seq->data.sequence.items.start[i]);
}
