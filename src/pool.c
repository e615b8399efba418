/*
 * pool.c - the idle origin connection pool.  Small and bounded
 * (POOL_MAX_IDLE per worker), so a linear scan from the most recently
 * parked connection is cheaper than a hash table would be.
 */
#include "pool.h"
#include "common.h"
#include "list.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct idle {
	struct loop_io io;
	struct loop_timer timer;
	struct pool *pool;
	struct list link; /* on the pool, most recently parked first */
	struct sockaddr_storage peer;
	char key[264];
};

struct pool {
	struct loop *loop;
	struct list idle; /* most recently parked first */
	size_t n;
};

struct pool *pool_new(struct loop *loop)
{
	struct pool *p = ph_calloc(1, sizeof(*p));

	p->loop = loop;
	list_init(&p->idle);
	return p;
}

static void idle_drop(struct idle *e)
{
	struct pool *p = e->pool;
	int fd = e->io.fd;

	loop_io_stop(p->loop, &e->io);
	loop_timer_stop(p->loop, &e->timer);
	if (fd >= 0)
		close(fd);
	list_del(&e->link);
	p->n--;
	free(e);
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	while (!list_empty(&p->idle))
		idle_drop(list_entry(list_first(&p->idle), struct idle, link));
	free(p);
}

/* The origin closed or spoke out of turn: the connection is useless. */
static void idle_event(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	idle_drop(io->data);
}

static void idle_expired(struct loop *loop, struct loop_timer *t)
{
	idle_drop(t->data);
}

int pool_fd_alive(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void pool_put(struct pool *p, const char *key, int fd, const struct sockaddr_storage *peer)
{
	if (strlen(key) >= sizeof(((struct idle *)0)->key) || !pool_fd_alive(fd)) {
		close(fd);
		return;
	}
	if (p->n >= POOL_MAX_IDLE)
		idle_drop(list_entry(list_last(&p->idle), struct idle, link));
	struct idle *e = ph_calloc(1, sizeof(*e));

	e->pool = p;
	strcpy(e->key, key);
	e->peer = *peer;
	e->io.cb = idle_event;
	e->io.data = e;
	e->timer.cb = idle_expired;
	e->timer.data = e;
	if (loop_io_start(p->loop, &e->io, fd, EPOLLIN | EPOLLRDHUP) < 0) {
		close(fd);
		free(e);
		return;
	}
	loop_timer_start(p->loop, &e->timer, POOL_IDLE_MS);
	list_add_front(&p->idle, &e->link);
	p->n++;
}

int pool_get(struct pool *p, const char *key, struct sockaddr_storage *peer)
{
	for (struct list *l = p->idle.next; l != &p->idle; l = l->next) {
		struct idle *e = list_entry(l, struct idle, link);

		if (strcmp(e->key, key) != 0)
			continue;
		int fd = e->io.fd;

		loop_io_stop(p->loop, &e->io);
		e->io.fd = -1;
		*peer = e->peer;
		idle_drop(e);
		if (pool_fd_alive(fd))
			return fd;
		close(fd);
		return pool_get(p, key, peer);
	}
	return -1;
}
