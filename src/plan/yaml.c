#include "plan/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ydoc_load(ydoc *d, const char *path, char *err, size_t errsz, int *line, int *col)
{
	yaml_parser_t p;
	FILE *f = fopen(path, "rb");
	int rc = 0;

	memset(d, 0, sizeof(*d));
	*line = *col = 0;
	if (!f) {
		snprintf(err, errsz, "cannot open: %s", strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d->doc)) {
		snprintf(err, errsz, "invalid YAML: %s%s%s", p.problem ? p.problem : "syntax error",
			 p.context ? " " : "", p.context ? p.context : "");
		*line = (int)p.problem_mark.line + 1;
		*col = (int)p.problem_mark.column + 1;
		rc = -1;
	} else {
		d->loaded = 1;
		if (!yaml_document_get_root_node(&d->doc)) {
			snprintf(err, errsz, "the file is empty");
			*line = *col = 1;
			rc = -1;
		}
	}
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
