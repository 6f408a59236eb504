#include "io/ev.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/clock.h"

#define MAX_EVENTS 512

struct ev_loop {
	int epfd;
	int stop;
	uint64_t now;
	ev_timer **heap; /* 1-based: heap[1] is the earliest */
	uint32_t heap_len;
	uint32_t heap_cap;
	void *data;
	ev_pass_hook hook;
	struct epoll_event events[MAX_EVENTS];
};

ev_loop *ev_loop_create(uint32_t timer_hint)
{
	ev_loop *loop;
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd < 0)
		return NULL;
	loop = xcalloc(1, sizeof(*loop));
	loop->epfd = fd;
	loop->heap_cap = timer_hint < 16 ? 16 : timer_hint;
	loop->heap = xmalloc(sizeof(*loop->heap) * (loop->heap_cap + 1));
	loop->now = clock_mono_ns();
	return loop;
}

void ev_loop_destroy(ev_loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

int ev_io_set(ev_loop *loop, ev_io *io, unsigned events)
{
	struct epoll_event ev = {0};
	int op;

	events &= EV_READ | EV_WRITE;
	if (events == io->events)
		return 0;
	if (!events)
		op = EPOLL_CTL_DEL;
	else if (!io->events)
		op = EPOLL_CTL_ADD;
	else
		op = EPOLL_CTL_MOD;
	ev.events = (events & EV_READ ? EPOLLIN | EPOLLRDHUP : 0) | (events & EV_WRITE ? EPOLLOUT : 0);
	ev.data.ptr = io;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) < 0) {
		/* The fd may already be gone from the set (closed); treat removal as done. */
		if (op == EPOLL_CTL_DEL) {
			io->events = 0;
			return 0;
		}
		return -1;
	}
	io->events = events;
	return 0;
}

/* Timer heap. Each timer remembers its position so stop and re-arm are
 * O(log n) without searching. */
static void heap_place(ev_loop *loop, uint32_t i, ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(ev_loop *loop, uint32_t i)
{
	ev_timer *t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->deadline > t->deadline) {
		heap_place(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_place(loop, i, t);
}

static void heap_down(ev_loop *loop, uint32_t i)
{
	ev_timer *t = loop->heap[i];

	for (;;) {
		uint32_t c = i * 2;

		if (c > loop->heap_len)
			break;
		if (c + 1 <= loop->heap_len && loop->heap[c + 1]->deadline < loop->heap[c]->deadline)
			c++;
		if (loop->heap[c]->deadline >= t->deadline)
			break;
		heap_place(loop, i, loop->heap[c]);
		i = c;
	}
	heap_place(loop, i, t);
}

void ev_timer_stop(ev_loop *loop, ev_timer *t)
{
	uint32_t i = t->heap_idx;
	ev_timer *last;

	if (!i)
		return;
	t->heap_idx = 0;
	last = loop->heap[loop->heap_len--];
	if (i > loop->heap_len)
		return;
	heap_place(loop, i, last);
	if (i > 1 && loop->heap[i / 2]->deadline > last->deadline)
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t deadline)
{
	if (t->heap_idx) {
		uint64_t old = t->deadline;

		t->deadline = deadline;
		if (deadline < old)
			heap_up(loop, t->heap_idx);
		else
			heap_down(loop, t->heap_idx);
		return;
	}
	if (loop->heap_len == loop->heap_cap) {
		loop->heap_cap *= 2;
		loop->heap = xrealloc(loop->heap, sizeof(*loop->heap) * (loop->heap_cap + 1));
	}
	t->deadline = deadline;
	loop->heap_len++;
	heap_place(loop, loop->heap_len, t);
	heap_up(loop, loop->heap_len);
}

uint64_t ev_now(const ev_loop *loop)
{
	return loop->now;
}

uint64_t ev_now_update(ev_loop *loop)
{
	loop->now = clock_mono_ns();
	return loop->now;
}

void ev_loop_stop(ev_loop *loop)
{
	loop->stop = 1;
}

void ev_loop_set_pass_hook(ev_loop *loop, ev_pass_hook hook)
{
	loop->hook = hook;
}

void ev_loop_set_data(ev_loop *loop, void *data)
{
	loop->data = data;
}

void *ev_loop_data(const ev_loop *loop)
{
	return loop->data;
}

static void run_timers(ev_loop *loop)
{
	while (loop->heap_len && loop->heap[1]->deadline <= loop->now) {
		ev_timer *t = loop->heap[1];

		ev_timer_stop(loop, t);
		t->cb(loop, t);
		if (loop->stop)
			return;
	}
}

/* epoll_pwait2 takes a nanosecond timeout, so timers (and arrival-rate
 * schedules built on them) are not rounded to whole milliseconds. Kernels
 * before 5.11 lack it; then round up so a timer never fires early and spins. */
static int loop_wait(ev_loop *loop, const struct timespec *ts)
{
	static _Atomic int no_pwait2; /* the kernel answer is the same for every loop */

	if (!no_pwait2) {
		int n = epoll_pwait2(loop->epfd, loop->events, MAX_EVENTS, ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = 1;
	}
	if (!ts)
		return epoll_wait(loop->epfd, loop->events, MAX_EVENTS, -1);
	return epoll_wait(loop->epfd, loop->events, MAX_EVENTS,
			  (int)(((uint64_t)ts->tv_sec * NS_PER_SEC + (uint64_t)ts->tv_nsec + NS_PER_MS - 1) /
				NS_PER_MS));
}

int ev_loop_run(ev_loop *loop)
{
	loop->stop = 0;
	while (!loop->stop) {
		struct timespec ts, *tsp = NULL;
		int n, i;

		if (loop->heap_len) {
			/* A fresh clock: the callbacks of this pass took time, and
			 * waiting from the pass's cached `now` would overshoot. */
			uint64_t d = loop->heap[1]->deadline, now = clock_mono_ns();
			uint64_t wait = d > now ? d - now : 0;

			if (wait > 60 * NS_PER_SEC)
				wait = 60 * NS_PER_SEC;
			ts.tv_sec = (time_t)(wait / NS_PER_SEC);
			ts.tv_nsec = (long)(wait % NS_PER_SEC);
			tsp = &ts;
		}
		n = loop_wait(loop, tsp);
		if (n < 0 && errno != EINTR)
			return -1;
		ev_now_update(loop);
		if (loop->hook)
			loop->hook(loop);
		for (i = 0; i < n; i++) {
			ev_io *io = loop->events[i].data.ptr;
			uint32_t e = loop->events[i].events;
			unsigned got = 0;

			if (e & (EPOLLIN | EPOLLRDHUP))
				got |= EV_READ;
			if (e & EPOLLOUT)
				got |= EV_WRITE;
			if (e & (EPOLLERR | EPOLLHUP))
				got |= EV_ERROR | EV_READ;
			io->cb(loop, io, got);
		}
		run_timers(loop);
	}
	return 0;
}
