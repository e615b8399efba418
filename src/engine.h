/*
 * engine.h - worker threads (one epoll loop each, with its own SO_REUSEPORT
 * listening sockets), the global connection count behind max-connections,
 * configuration hand-over on reload, and drain on shutdown.
 */
#ifndef PINHOLE_ENGINE_H
#define PINHOLE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acl.h"
#include "ev.h"

struct config;
struct conn;
struct stats;

struct listener {
	struct ev_io io;
	struct worker *w;
	bool proxy_protocol;
	struct cidr *pp_from; /* peers allowed to send a PROXY header (none: every peer must) */
	size_t npp_from;
};

struct worker {
	int id;
	pthread_t thread;
	struct ev_loop *loop;
	struct dns *dns;
	struct pool *pool;
	struct config *cfg; /* this worker's reference to the current config */
	struct listener *listeners;
	size_t nlisteners;
	struct conn *conns; /* every open client connection */
	size_t nconns;
	bool draining;
	struct stats *stats;      /* this worker's counters (stats.h) */
	struct auth_worker *auth; /* this worker's auth helper processes */
	struct wr_ring *report;   /* this worker's events for the WebRTC report */
	struct ev_defer auth_gc;  /* stops helpers a new configuration dropped */
	int reserve_fd;           /* spare descriptor, given up to refuse a client on EMFILE */
	struct ev_timer accept_pause;
};

/* Client connections open in the whole process (max-connections). */
extern atomic_uint engine_nconns;

/* Runs the proxy until SIGTERM/SIGINT; cfg's reference is taken over.
 * Returns the process exit status. */
int engine_run(struct config *cfg);

/* Called by conn.c when a connection is gone. */
void engine_conn_closed(struct worker *w);

/* For the admin interface (any thread): the running configuration, with a
 * reference the caller drops with config_unref. */
struct config *engine_config(void);
/* Asks for a reload, as SIGHUP does. */
void engine_request_reload(void);

#endif
