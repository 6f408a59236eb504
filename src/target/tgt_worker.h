/* A target worker (one thread, one loop, one listening socket): its life
 * cycle, called by target.c, and its random numbers. The worker's fields
 * are in server.h. */
#ifndef STRAIN_TARGET_TGT_WORKER_H
#define STRAIN_TARGET_TGT_WORKER_H

#include "target/server.h"

/* Sets up worker idx of srv on listen_fd (owned from now on) with ctl_fd
 * (an eventfd: readable = stop; borrowed). Returns 0 or -1 (errno). */
int tgt_worker_init(tgt_worker *w, tgt_server *srv, int idx, int listen_fd, int ctl_fd);
/* Runs the loop until the ctl eventfd fires. Returns ev_loop_run's status. */
int tgt_worker_run(tgt_worker *w);
/* Closes every connection and frees everything; after tgt_worker_run returned
 * (or if tgt_worker_init failed). */
void tgt_worker_fini(tgt_worker *w);
/* Per-worker random numbers (xorshift); w's thread only. */
uint64_t tgt_rand(tgt_worker *w);

#endif
