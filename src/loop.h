/*
 * loop.h - one edge-triggered epoll loop per worker thread, with a binary heap
 * of timers.  The loop knows file descriptors and deadlines, nothing about
 * protocols; callers register an loop_io or loop_timer embedded in their own
 * structs and get called back from loop_run().
 */
#ifndef PINHOLE_LOOP_H
#define PINHOLE_LOOP_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/epoll.h>

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_cb)(struct loop *loop, struct loop_io *io, uint32_t revents);
typedef void (*loop_timer_cb)(struct loop *loop, struct loop_timer *t);

struct loop_io {
	int fd;
	uint32_t events; /* EPOLLIN/EPOLLOUT/...; EPOLLET is always added */
	loop_io_cb cb;
	void *data;
};

struct loop_timer {
	uint64_t at;       /* absolute deadline, loop_now() milliseconds */
	uint32_t heap_idx; /* 0 = not armed */
	loop_timer_cb cb;
	void *data;
};

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/* Runs until loop_stop() is called (from a callback of this loop). */
void loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

/* Cached monotonic time of the current iteration, in milliseconds. */
uint64_t loop_now(const struct loop *loop);
void loop_update_now(struct loop *loop);

/* Registers io->fd with io->events (edge-triggered). 0 or -1 with errno. */
int loop_io_start(struct loop *loop, struct loop_io *io, int fd, uint32_t events);
/* Changes the interest set; a no-op when it is unchanged. */
int loop_io_set(struct loop *loop, struct loop_io *io, uint32_t events);
/* Unregisters io (the caller closes the fd). Safe on a stopped io. */
void loop_io_stop(struct loop *loop, struct loop_io *io);
/* Forgets io whose fd the caller closes right away: close(2) removes it
 * from epoll, so this saves the epoll_ctl call.  Only for fds never dup'ed. */
static inline void loop_io_forget(struct loop_io *io)
{
	io->fd = -1;
	io->events = 0;
}

/* Arms (or re-arms) t to fire delay_ms from loop_now(). */
void loop_timer_start(struct loop *loop, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_stop(struct loop *loop, struct loop_timer *t);
static inline bool loop_timer_active(const struct loop_timer *t)
{
	return t->heap_idx != 0;
}

/* A callback run once at the end of the current iteration (deferred work,
 * e.g. freeing a connection that is still on the call stack). */
struct loop_defer {
	struct loop_defer *next;
	void (*cb)(struct loop *loop, struct loop_defer *d);
	bool queued;
};
void loop_defer(struct loop *loop, struct loop_defer *d);
/* Runs the deferred callbacks now (after the loop stopped, at shutdown). */
void loop_run_pending(struct loop *loop);

/* Wakes the loop from another thread; cb runs in the loop's thread. */
void loop_set_wakeup(struct loop *loop, void (*cb)(struct loop *loop, void *arg), void *arg);
void loop_wakeup(struct loop *loop);

#endif
