/* A YAML document as plans need it: libyaml's node graph with positions,
 * plus typed accessors. Every node knows its line and column, so every plan
 * error can name file:line:col. */
#ifndef STRAIN_PLAN_YAML_H
#define STRAIN_PLAN_YAML_H

#include <stddef.h>
#include <yaml.h>

typedef struct ydoc {
	yaml_document_t doc;
	int loaded;
} ydoc;

typedef yaml_node_t ynode;

/* Limits on what a plan file may hold, checked while it is parsed, so that
 * any file is accepted or refused quickly and in bounded memory: nesting
 * (libyaml's scanner slows down quadratically with depth), nodes and scalar
 * text counted with every alias expanded (a few lines of aliases can stand
 * for billions of nodes), and the file's size. */
#define YDOC_MAX_DEPTH 64
#define YDOC_MAX_NODES 2000000
#define YDOC_MAX_TEXT (64u << 20)
#define YDOC_MAX_FILE (64 << 20)

/* Loads the first document of a file. Returns 0, or -1 with a message in
 * err and its 1-based position in line and col (0 when the problem has no
 * position: a file that cannot be opened, a directory, bytes that are not
 * UTF-8). An alias inside the node it names is refused, so the node graph
 * has no cycles. */
int ydoc_load(ydoc *d, const char *path, char *err, size_t errsz, int *line, int *col);
void ydoc_free(ydoc *d);
ynode *ydoc_root(ydoc *d);

static inline int ynode_line(const ynode *n) { return (int)n->start_mark.line + 1; }
static inline int ynode_col(const ynode *n) { return (int)n->start_mark.column + 1; }
static inline int ynode_is_map(const ynode *n) { return n && n->type == YAML_MAPPING_NODE; }
static inline int ynode_is_seq(const ynode *n) { return n && n->type == YAML_SEQUENCE_NODE; }
static inline int ynode_is_scalar(const ynode *n) { return n && n->type == YAML_SCALAR_NODE; }
/* The scalar's text (NUL-terminated by libyaml), or NULL if not a scalar. */
const char *ynode_str(const ynode *n);
/* Was the scalar written in quotes (so "1" is text, not a number)? */
int ynode_quoted(const ynode *n);
/* A plain scalar that YAML 1.1 reads as null (~, null, empty). */
int ynode_is_null(const ynode *n);
const char *ynode_kind(const ynode *n); /* "a mapping", "a list", "a value" for messages */

/* Mapping and sequence access. */
size_t ymap_len(const ynode *map);
ynode *ymap_key(ydoc *d, const ynode *map, size_t i);
ynode *ymap_value(ydoc *d, const ynode *map, size_t i);
ynode *ymap_get(ydoc *d, const ynode *map, const char *key);
size_t yseq_len(const ynode *seq);
ynode *yseq_item(ydoc *d, const ynode *seq, size_t i);

#endif
