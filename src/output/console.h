/* The live status line: updated once a second on stderr when it is a
 * terminal, a plain line every 10 s otherwise (CI, pipes), nothing when
 * quiet. It reads collector snapshots, never the hot path. */
#ifndef STRAIN_OUTPUT_CONSOLE_H
#define STRAIN_OUTPUT_CONSOLE_H

#include <stdint.h>
#include <stdio.h>

#include "metrics/collector.h"

typedef struct console_live console_live;

/* total_ns: planned length of the run (0 if bound by iterations only).
 * Returns NULL when quiet. Destroy with console_live_destroy (NULL ok). */
console_live *console_live_create(FILE *f, int quiet, uint64_t total_ns);
void console_live_destroy(console_live *c);
/* Extra text appended to the line, e.g. "stopping (Ctrl-C again to abort)". */
void console_live_set_note(console_live *c, const char *note);
/* Where the line reads how many output points were dropped so far. */
void console_live_set_drops(console_live *c, uint64_t (*dropped)(void *ctx), void *ctx);
/* The collector output that prints the line. */
void console_live_snapshot(void *self, const met_snapshot *snap);

#endif
