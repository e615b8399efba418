/*
 * loop.c - the per-worker event loop: edge-triggered epoll, a binary min-heap
 * of timers, deferred callbacks and a cross-thread wakeup (eventfd).
 * Objects that own an loop_io are freed from a loop_defer callback, never in
 * the middle of an epoll batch: a stopped loop_io has fd -1 and is skipped.
 */
#include "loop.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LOOP_BATCH 256

struct loop {
	int epfd;
	bool stop;
	uint64_t now;
	struct loop_timer **heap; /* 1-based: heap[1] is the earliest */
	uint32_t heap_len;
	uint32_t heap_cap;
	struct loop_defer *defer_head;
	struct loop_defer *defer_tail;
	struct loop_io wake_io;
	void (*wake_cb)(struct loop *loop, void *arg);
	void *wake_arg;
};

uint64_t loop_now(const struct loop *loop)
{
	return loop->now;
}

void loop_update_now(struct loop *loop)
{
	loop->now = ph_mono_ms();
}

static void wake_read(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	uint64_t v;

	while (read(io->fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
	if (loop->wake_cb)
		loop->wake_cb(loop, loop->wake_arg);
}

struct loop *loop_new(void)
{
	struct loop *loop = ph_calloc(1, sizeof(*loop));
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
	loop_io_start(loop, &loop->wake_io, wfd, EPOLLIN);
	loop_update_now(loop);
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	int wfd = loop->wake_io.fd;

	loop_io_stop(loop, &loop->wake_io);
	if (wfd >= 0)
		close(wfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

int loop_io_start(struct loop *loop, struct loop_io *io, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int loop_io_set(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = io };

	if (io->fd < 0 || io->events == events)
		return 0;
	io->events = events;
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void loop_io_stop(struct loop *loop, struct loop_io *io)
{
	if (io->fd < 0)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
	io->events = 0;
}

/* Timer heap. */

static void heap_place(struct loop *loop, uint32_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct loop *loop, uint32_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 1 && loop->heap[i / 2]->at > t->at) {
		heap_place(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_place(loop, i, t);
}

static void heap_down(struct loop *loop, uint32_t i)
{
	struct loop_timer *t = loop->heap[i];

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

void loop_timer_stop(struct loop *loop, struct loop_timer *t)
{
	uint32_t i = t->heap_idx;

	if (i == 0)
		return;
	t->heap_idx = 0;
	struct loop_timer *last = loop->heap[loop->heap_len--];

	if (last == t)
		return;
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

void loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms)
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

static void run_timers(struct loop *loop)
{
	while (loop->heap_len && loop->heap[1]->at <= loop->now) {
		struct loop_timer *t = loop->heap[1];

		loop_timer_stop(loop, t);
		t->cb(loop, t);
	}
}

void loop_defer(struct loop *loop, struct loop_defer *d)
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

static void run_defers(struct loop *loop)
{
	while (loop->defer_head) {
		struct loop_defer *d = loop->defer_head;

		loop->defer_head = d->next;
		if (!loop->defer_head)
			loop->defer_tail = NULL;
		d->queued = false;
		d->cb(loop, d);
	}
}

void loop_run_pending(struct loop *loop)
{
	run_defers(loop);
}

void loop_set_wakeup(struct loop *loop, void (*cb)(struct loop *loop, void *arg), void *arg)
{
	loop->wake_cb = cb;
	loop->wake_arg = arg;
}

void loop_wakeup(struct loop *loop)
{
	uint64_t one = 1;
	ssize_t r = write(loop->wake_io.fd, &one, sizeof(one));

	PH_UNUSED(r);
}

void loop_run(struct loop *loop)
{
	struct epoll_event events[LOOP_BATCH];

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
		int n = epoll_wait(loop->epfd, events, LOOP_BATCH, timeout);

		loop_update_now(loop);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct loop_io *io = events[i].data.ptr;

			/* An earlier callback of this batch may have stopped it. */
			if (io->fd < 0)
				continue;
			io->cb(loop, io, events[i].events);
		}
		run_timers(loop);
	}
	run_defers(loop);
}
