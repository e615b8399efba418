/*
 * engine.h - worker threads (one epoll loop each, with its own SO_REUSEPORT
 * listening sockets, which no other process may share), each worker's list
 * of connections and the count behind max-connections, the main thread's
 * signals (SIGHUP reload, SIGUSR1 log reopening, SIGTERM/SIGINT drain),
 * pid file and control socket, configuration hand-over on reload
 * (listeners opened and closed included), and drain on shutdown.  It knows
 * no protocol: a listener hands accepted sockets to the handlers
 * engine_run was given.
 */
#ifndef PINHOLE_ENGINE_H
#define PINHOLE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acl.h"
#include "loop.h"
#include "list.h"

struct config;
struct listen_cfg;
struct stats;

/* What a new connection's first bytes may be. */
enum listener_pp {
	LISTENER_PP_NONE,      /* an ordinary listener: a request */
	LISTENER_PP_REQUIRED,  /* a PROXY protocol header, then a request */
	LISTENER_PP_UNTRUSTED, /* a request; a PROXY header from this peer is refused */
};

struct worker;

/* What the engine calls for the connections it holds; the caller of
 * engine_run wires them (main.c: conn.c's conn_handlers), so the engine
 * knows no protocol. */
struct engine_handlers {
	/* Takes over an accepted socket, from the listener lc, which points
	 * into cfg: a connection that keeps lc takes a reference on cfg. */
	void (*accept)(struct worker *w, int fd, const struct sockaddr_storage *peer, enum listener_pp pp,
	               struct config *cfg, const struct listen_cfg *lc);
	/* Closes a connection now (drain deadline, stop). */
	void (*abort)(struct list *link);
	/* Closes it if it is idle between requests (drain start). */
	void (*close_if_idle)(struct list *link);
};

struct listener {
	struct loop_io io;
	struct worker *w;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool reuse;                  /* a reload's: take the socket of the listener on the same address */
	struct config *cfg;          /* the configuration it was made from (a reference) */
	const struct listen_cfg *lc; /* its settings there */
	bool proxy_protocol;
	struct cidr *pp_from; /* peers allowed to send a PROXY header (none: every peer must) */
	size_t npp_from;
};

struct worker {
	int id;
	pthread_t thread;
	bool started; /* thread runs */
	struct loop *loop;
	struct dns *dns;
	struct pool *pool;
	struct config *cfg; /* this worker's reference to the current config */
	struct listener *listeners;
	size_t nlisteners;
	struct list conns; /* every open client connection (engine_conn_add) */
	size_t nconns;
	bool draining;
	struct stats *stats;       /* this worker's counters (stats.h) */
	struct auth_worker *auth;  /* this worker's auth helper processes */
	struct wr_ring *report;    /* this worker's events for the WebRTC report */
	struct loop_defer auth_gc; /* stops helpers a new configuration dropped */
	int reserve_fd;            /* spare descriptor, given up to refuse a client on EMFILE */
	struct loop_timer accept_pause;
	/* A reload's new listeners, handed over by the main thread and
	 * taken by the worker (pending_lock); the old ones are freed after
	 * the loop iteration that replaced them (retire). */
	pthread_mutex_t pending_lock;
	struct listener *pending;
	size_t npending;
	uint64_t pending_gen;
	atomic_uint_fast64_t listen_gen; /* the last listener set taken */
	struct listener *retired;
	size_t nretired;
	struct loop_defer retire;
};

/* Runs the proxy until SIGTERM/SIGINT; cfg's reference is taken over.
 * Returns the process exit status. */
int engine_run(struct config *cfg, const struct engine_handlers *h);

/* A connection's life on its worker: it is listed (and counted against
 * max-connections, which the engine counted from accept on) from
 * engine_conn_add until engine_conn_remove; link is embedded in it. */
void engine_conn_add(struct worker *w, struct list *link);
void engine_conn_remove(struct worker *w, struct list *link);

#endif
