/* The event loop: epoll for sockets, a binary min-heap for timers, one loop
 * per thread. Engine workers, the built-in target and the collector-facing
 * wake-ups all run on it. Nothing here allocates once the timer heap has
 * grown to the number of concurrently armed timers. */
#ifndef STRAIN_IO_EV_H
#define STRAIN_IO_EV_H

#include <stdint.h>

typedef struct ev_loop ev_loop;
typedef struct ev_io ev_io;
typedef struct ev_timer ev_timer;

#define EV_READ 0x1u
#define EV_WRITE 0x2u
#define EV_ERROR 0x4u /* reported only: EPOLLERR / EPOLLHUP */

typedef void (*ev_io_cb)(ev_loop *loop, ev_io *io, unsigned events);
typedef void (*ev_timer_cb)(ev_loop *loop, ev_timer *t);

/* Embed in the owner's struct; recover the owner with container_of. */
struct ev_io {
	int fd;
	unsigned events; /* currently registered EV_READ|EV_WRITE; 0 = not added */
	ev_io_cb cb;
};

struct ev_timer {
	uint64_t deadline;  /* monotonic ns */
	uint32_t heap_idx;  /* 0 = not armed; else 1-based heap position */
	ev_timer_cb cb;
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Creates a loop with room for `timer_hint` armed timers. NULL on failure
 * (errno set). Destroy with ev_loop_destroy (accepts NULL). */
ev_loop *ev_loop_create(uint32_t timer_hint);
void ev_loop_destroy(ev_loop *loop);

static inline void ev_io_init(ev_io *io, int fd, ev_io_cb cb)
{
	io->fd = fd;
	io->events = 0;
	io->cb = cb;
}

/* Registers, changes or removes interest; `events` of 0 removes. Level
 * triggered. Returns 0 or -1 (errno set). Skips the syscall when nothing
 * changes. */
int ev_io_set(ev_loop *loop, ev_io *io, unsigned events);

static inline void ev_timer_init(ev_timer *t, ev_timer_cb cb)
{
	t->deadline = 0;
	t->heap_idx = 0;
	t->cb = cb;
}

/* Arms (or re-arms) t to fire at the absolute monotonic time `deadline`. */
void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t deadline);
/* Disarms t; harmless if it is not armed. */
void ev_timer_stop(ev_loop *loop, ev_timer *t);
static inline int ev_timer_armed(const ev_timer *t) { return t->heap_idx != 0; }

/* Monotonic time read once at the top of each loop pass (for timers). */
uint64_t ev_now(const ev_loop *loop);
/* Refreshes the cached time. */
uint64_t ev_now_update(ev_loop *loop);

/* Runs until ev_loop_stop. Returns 0, or -1 if epoll_wait failed. */
int ev_loop_run(ev_loop *loop);
/* Makes ev_loop_run return after the current pass; callable from callbacks
 * of this loop only. */
void ev_loop_stop(ev_loop *loop);

/* Called once per loop pass, right after the wait returns and before any
 * callback runs (e.g. to honour a cross-thread pause or stop request). */
typedef void (*ev_pass_hook)(ev_loop *loop);
void ev_loop_set_pass_hook(ev_loop *loop, ev_pass_hook hook);

/* Opaque user pointer, e.g. the worker that owns the loop. */
void ev_loop_set_data(ev_loop *loop, void *data);
void *ev_loop_data(const ev_loop *loop);

#endif
