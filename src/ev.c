/*
 * ev.c - the per-worker event loop: edge-triggered epoll, a binary min-heap
 * of timers, deferred callbacks and a cross-thread wakeup (eventfd).
 * Objects that own an ev_io are freed from an ev_defer callback, never in
 * the middle of an epoll batch: a stopped ev_io has fd -1 and is skipped.
 */
#include "ev.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define EV_BATCH 256

struct ev_loop {
	int epfd;
	bool stop;
	uint64_t now;
	struct ev_timer **heap; /* 1-based: heap[1] is the earliest */
	uint32_t heap_len;
	uint32_t heap_cap;
	struct ev_defer *defer_head;
	struct ev_defer *defer_tail;
	struct ev_io wake_io;
	void (*wake_cb)(struct ev_loop *loop, void *arg);
	void *wake_arg;
};

uint64_t ev_now(const struct ev_loop *loop)
{
	return loop->now;
}

void ev_update_now(struct ev_loop *loop)
{
	loop->now = ph_mono_ms();
}

static void wake_read(struct ev_loop *loop, struct ev_io *io, uint32_t revents)
{
	uint64_t v;

	while (read(io->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	if (loop->wake_cb)
		loop->wake_cb(loop, loop->wake_arg);
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = ph_calloc(1, sizeof(*loop));
	int wfd;

	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->epfd < 0 || wfd < 0) {
		if (loop->epfd >= 0)
			close(loop->epfd);
		if (wfd >= 0)
			close(wfd);
		free(loop);
		return NULL;
	}
	loop->heap_cap = 64;
	loop->heap = ph_calloc(loop->heap_cap + 1, sizeof(*loop->heap));
	loop->wake_io.cb = wake_read;
	ev_io_start(loop, &loop->wake_io, wfd, EPOLLIN);
	ev_update_now(loop);
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	int wfd = loop->wake_io.fd;

	ev_io_stop(loop, &loop->wake_io);
	if (wfd >= 0)
		close(wfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

void ev_loop_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	if (io->fd < 0 || io->events == events)
		return 0;
	io->events = events;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
	io->events = 0;
}

/* Timer heap. */

static void heap_place(struct ev_loop *loop, uint32_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct ev_loop *loop, uint32_t i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->at > t->at) {
		heap_place(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_place(loop, i, t);
}

static void heap_down(struct ev_loop *loop, uint32_t i)
{
	struct ev_timer *t = loop->heap[i];

	for (;;) {
		uint32_t c = i * 2;

		if (c > loop->heap_len)
			break;
		if (c + 1 <= loop->heap_len && loop->heap[c + 1]->at < loop->heap[c]->at)
			c++;
		if (loop->heap[c]->at >= t->at)
			break;
		heap_place(loop, i, loop->heap[c]);
		i = c;
	}
	heap_place(loop, i, t);
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	uint32_t i = t->heap_idx;

	if (i == 0)
		return;
	t->heap_idx = 0;
	struct ev_timer *last = loop->heap[loop->heap_len--];

	if (last == t)
		return;
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms)
{
	uint64_t at = loop->now + delay_ms;

	if (t->heap_idx) {
		uint64_t old = t->at;

		t->at = at;
		if (at < old)
			heap_up(loop, t->heap_idx);
		else if (at > old)
			heap_down(loop, t->heap_idx);
		return;
	}
	if (loop->heap_len == loop->heap_cap) {
		loop->heap_cap *= 2;
		loop->heap = ph_realloc(loop->heap, (loop->heap_cap + 1) * sizeof(*loop->heap));
	}
	t->at = at;
	loop->heap[++loop->heap_len] = t;
	heap_up(loop, loop->heap_len);
}

static void run_timers(struct ev_loop *loop)
{
	while (loop->heap_len && loop->heap[1]->at <= loop->now) {
		struct ev_timer *t = loop->heap[1];

		ev_timer_stop(loop, t);
		t->cb(loop, t);
	}
}

void ev_defer(struct ev_loop *loop, struct ev_defer *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = NULL;
	if (loop->defer_tail)
		loop->defer_tail->next = d;
	else
		loop->defer_head = d;
	loop->defer_tail = d;
}

static void run_defers(struct ev_loop *loop)
{
	while (loop->defer_head) {
		struct ev_defer *d = loop->defer_head;

		loop->defer_head = d->next;
		if (!loop->defer_head)
			loop->defer_tail = NULL;
		d->queued = false;
		d->cb(loop, d);
	}
}

void ev_loop_run_pending(struct ev_loop *loop)
{
	run_defers(loop);
}

void ev_set_wakeup(struct ev_loop *loop, void (*cb)(struct ev_loop *loop, void *arg), void *arg)
{
	loop->wake_cb = cb;
	loop->wake_arg = arg;
}

void ev_wakeup(struct ev_loop *loop)
{
	uint64_t one = 1;
	ssize_t r = write(loop->wake_io.fd, &one, sizeof(one));

	PH_UNUSED(r);
}

void ev_loop_run(struct ev_loop *loop)
{
	struct epoll_event events[EV_BATCH];

	loop->stop = false;
	while (!loop->stop) {
		int timeout = -1;

		run_defers(loop);
		if (loop->stop)
			break;
		if (loop->heap_len) {
			uint64_t at = loop->heap[1]->at;

			timeout = at <= loop->now ? 0 : (int)PH_MIN(at - loop->now, 60000);
		}
		int n = epoll_wait(loop->epfd, events, EV_BATCH, timeout);

		ev_update_now(loop);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct ev_io *io = events[i].data.ptr;

			/* An earlier callback of this batch may have stopped it. */
			if (io->fd < 0)
				continue;
			io->cb(loop, io, events[i].events);
		}
		run_timers(loop);
	}
	run_defers(loop);
}
