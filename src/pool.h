/*
 * pool.h - idle keep-alive connections to origins, per worker, keyed by
 * "host:port".  An idle connection stays watched by the event loop: if the
 * origin closes it or sends anything, it is dropped at once.
 */
#ifndef PINHOLE_POOL_H
#define PINHOLE_POOL_H

#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct pool;

#define POOL_MAX_IDLE 512 /* per worker */
#define POOL_IDLE_MS 30000

struct pool *pool_new(struct loop *loop);
void pool_free(struct pool *p);
/* Hands fd over to the pool (which closes it when it cannot keep it). */
void pool_put(struct pool *p, const char *key, int fd, const struct sockaddr_storage *peer);
/* An idle, still-open connection for key, or -1. */
int pool_get(struct pool *p, const char *key, struct sockaddr_storage *peer);
/* Connection is usable: not closed by the peer, nothing unexpected to read. */
int pool_fd_alive(int fd);

#endif
