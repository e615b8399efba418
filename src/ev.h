/*
 * ev.h - one edge-triggered epoll loop per worker thread, with a binary heap
 * of timers.  The loop knows file descriptors and deadlines, nothing about
 * protocols; callers register an ev_io or ev_timer embedded in their own
 * structs and get called back from ev_loop_run().
 */
#ifndef PINHOLE_EV_H
#define PINHOLE_EV_H

#include <stdint.h>
#include <stdbool.h>
#include <sys/epoll.h>

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_loop *loop, struct ev_io *io, uint32_t revents);
typedef void (*ev_timer_cb)(struct ev_loop *loop, struct ev_timer *t);

struct ev_io {
	int fd;
	uint32_t events; /* EPOLLIN/EPOLLOUT/...; EPOLLET is always added */
	ev_io_cb cb;
	void *data;
};

struct ev_timer {
	uint64_t at;       /* absolute deadline, ev_now() milliseconds */
	uint32_t heap_idx; /* 0 = not armed */
	ev_timer_cb cb;
	void *data;
};

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *loop);

/* Runs until ev_loop_stop() is called (from a callback of this loop). */
void ev_loop_run(struct ev_loop *loop);
void ev_loop_stop(struct ev_loop *loop);

/* Cached monotonic time of the current iteration, in milliseconds. */
uint64_t ev_now(const struct ev_loop *loop);
void ev_update_now(struct ev_loop *loop);

/* Registers io->fd with io->events (edge-triggered). 0 or -1 with errno. */
int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events);
/* Changes the interest set; a no-op when it is unchanged. */
int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events);
/* Unregisters io (the caller closes the fd). Safe on a stopped io. */
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);
/* Forgets io whose fd the caller closes right away: close(2) removes it
 * from epoll, so this saves the epoll_ctl call.  Only for fds never dup'ed. */
static inline void ev_io_forget(struct ev_io *io)
{
	io->fd = -1;
	io->events = 0;
}

/* Arms (or re-arms) t to fire delay_ms from ev_now(). */
void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_active(const struct ev_timer *t)
{
	return t->heap_idx != 0;
}

/* A callback run once at the end of the current iteration (deferred work,
 * e.g. freeing a connection that is still on the call stack). */
struct ev_defer {
	struct ev_defer *next;
	void (*cb)(struct ev_loop *loop, struct ev_defer *d);
	bool queued;
};
void ev_defer(struct ev_loop *loop, struct ev_defer *d);
/* Runs the deferred callbacks now (after the loop stopped, at shutdown). */
void ev_loop_run_pending(struct ev_loop *loop);

/* Wakes the loop from another thread; cb runs in the loop's thread. */
void ev_set_wakeup(struct ev_loop *loop, void (*cb)(struct ev_loop *loop, void *arg), void *arg);
void ev_wakeup(struct ev_loop *loop);

#endif
