/*
 * engine.c - process life: listening sockets (one SO_REUSEPORT socket per
 * worker and listen address, so the kernel spreads new connections without
 * an accept lock), worker threads, privilege drop, and the signal thread
 * that reloads (SIGHUP) and drains (SIGTERM/SIGINT).
 */
#include "engine.h"
#include "admin.h"
#include "auth.h"
#include "common.h"
#include "config.h"
#include "quirks.h"
#include "tls.h"
#include "admin_cfg.h"
#include "server.h"
#include "listen_tls.h"
#include "running.h"
#include "dns.h"
#include "log.h"
#include "pool.h"
#include "relay.h"
#include "stats.h"
#include "webrtc.h"
#include "webrtc_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ENGINE_MAX_WORKERS 64
#define ACCEPT_PAUSE_MS 100

/* Client connections open in the whole process (max-connections). */
static atomic_uint nconns;

static const struct engine_handlers *handlers;
static struct worker *workers;
static struct stats *worker_stats;
static int nworkers;
static struct config *started; /* the configuration the listeners were made from */
static atomic_bool draining;
static atomic_bool stopping;

/* Refusing connections */

/* Answers 503 on a socket pinhole will not serve, without keeping any
 * state: what the client already sent is read first, so that closing does
 * not reset the connection before the answer is read.  A client of an
 * HTTPS proxy listener cannot read an HTTP answer before its handshake:
 * it gets the TLS alert internal_error, the closest TLS has to "busy". */
static void refuse(int fd, const struct sockaddr_storage *client, bool tls, int status, const char *why)
{
	static const char alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 80 };
	char sink[4096], msg[512];
	ssize_t sent;
	int n;

	for (int i = 0; i < 4 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
	n = snprintf(msg, sizeof(msg),
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
	             "Connection: close\r\nRetry-After: 1\r\n\r\n%s\n",
	             status, status == 503 ? "Service Unavailable" : "Error", strlen(why) + 1, why);
	if (tls)
		sent = send(fd, alert, sizeof(alert), MSG_NOSIGNAL | MSG_DONTWAIT);
	else
		sent = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	close(fd);
	struct access_entry e = {
		.end_ms = ph_wall_ms(),
		.client = client,
		.result = "NONE_NONE",
		.status = status,
		.bytes_out = sent > 0 ? (uint64_t)sent : 0,
		.hierarchy = "HIER_NONE",
		.mime = "text/plain",
		.error = why,
	};

	log_access(&e);
}

static void resume_accept(struct loop *loop, struct loop_timer *t);

/* Whether a peer of this listener starts with a PROXY header: every peer
 * of a proxy-protocol listener, or only those in its `from` list (the
 * others are ordinary clients, and a header from them is refused). */
static enum listener_pp listener_wants_header(const struct listener *l, const struct sockaddr_storage *peer)
{
	if (!l->proxy_protocol)
		return LISTENER_PP_NONE;
	if (l->npp_from == 0)
		return LISTENER_PP_REQUIRED;
	for (size_t i = 0; i < l->npp_from; i++)
		if (acl_cidr_match(&l->pp_from[i], peer))
			return LISTENER_PP_REQUIRED;
	return LISTENER_PP_UNTRUSTED;
}

/* The listener's settings in the worker's configuration of the moment (a
 * reload re-reads a TLS listener's certificate), or as it was made when a
 * reload changed what it is: address, TLS or not change with a restart. */
static const struct listen_cfg *listener_settings(const struct worker *w, const struct listener *l)
{
	const struct server_settings *s = w->cfg->server;

	for (size_t i = 0; i < s->nlistens; i++)
		if (server_addr_equal(&s->listens[i].addr, &l->started->addr) && !s->listens[i].tls == !l->started->tls)
			return &s->listens[i];
	return l->started;
}

static void on_accept(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct listener *l = io->data;
	struct worker *w = l->w;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN)
				return;
			if ((errno == EMFILE || errno == ENFILE) && w->reserve_fd >= 0) {
				/* Out of descriptors: give up the spare one to
				 * take the client and tell it why. */
				close(w->reserve_fd);
				fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
				if (fd >= 0)
					refuse(fd, &ss, l->started->tls != NULL, 503,
					       "Too many connections: pinhole is out of file descriptors.");
				w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
				log_error("out of file descriptors (%s): refusing new clients", strerror(EMFILE));
				if (fd >= 0)
					continue;
			}
			/* Retry later rather than spinning on an error the
			 * listener will keep reporting. */
			loop_timer_start(loop, &w->accept_pause, ACCEPT_PAUSE_MS);
			return;
		}
		unsigned n = atomic_fetch_add(&nconns, 1) + 1;

		if (n > w->cfg->server->max_connections) {
			atomic_fetch_sub(&nconns, 1);
			stats_add(&w->stats->denials[STATS_DENY_LIMIT], 1);
			stats_status(w->stats, 503);
			refuse(fd, &ss, l->started->tls != NULL, 503,
			       "Too many connections: the proxy is at its max-connections limit.");
			continue;
		}
		handlers->accept(w, fd, &ss, listener_wants_header(l, &ss), listener_settings(w, l));
	}
}

static void resume_accept(struct loop *loop, struct loop_timer *t)
{
	struct worker *w = t->data;

	for (size_t i = 0; i < w->nlisteners; i++)
		if (w->listeners[i].io.fd >= 0)
			on_accept(loop, &w->listeners[i].io, EPOLLIN);
}

static int make_listener(const struct listen_cfg *lc)
{
	int one = 1;
	int fd = socket(lc->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/* Accepted sockets inherit TCP_NODELAY: one setsockopt per listener
	 * instead of one per client. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Clients speak first: the kernel hands a connection over once its
	 * first bytes are in, which saves a wake-up per connection and keeps
	 * silent connections away from the workers. */
	int defer_s = 10;

	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof(defer_s));
	if (lc->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&lc->addr, lc->addrlen) < 0 || listen(fd, 4096) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Workers */

static void listeners_free(struct worker *w)
{
	for (size_t i = 0; i < w->nlisteners; i++)
		free(w->listeners[i].pp_from);
	free(w->listeners);
	w->listeners = NULL;
}

static void close_listeners(struct worker *w)
{
	for (size_t i = 0; i < w->nlisteners; i++) {
		int fd = w->listeners[i].io.fd;

		loop_io_stop(w->loop, &w->listeners[i].io);
		if (fd >= 0)
			close(fd);
	}
	loop_timer_stop(w->loop, &w->accept_pause);
}

void engine_conn_add(struct worker *w, struct list *link)
{
	list_add_front(&w->conns, link);
	w->nconns++;
}

void engine_conn_remove(struct worker *w, struct list *link)
{
	list_del(link);
	w->nconns--;
	atomic_fetch_sub(&nconns, 1);
	if (w->draining && w->nconns == 0)
		loop_stop(w->loop);
}

static void abort_all(struct worker *w)
{
	while (!list_empty(&w->conns))
		handlers->abort(list_first(&w->conns));
}

/* After a reload, outside any I/O callback: helper pools own loop_ios. */
static void worker_auth_gc(struct loop *loop, struct loop_defer *d)
{
	struct worker *w = (struct worker *)((char *)d - offsetof(struct worker, auth_gc));

	PH_UNUSED(loop);
	auth_worker_retain(w->auth, w->cfg->auth);
}

/* Runs in the worker's thread when the signal thread wakes it. */
static void worker_wakeup(struct loop *loop, void *arg)
{
	struct worker *w = arg;
	struct config *old = NULL;

	struct config *now = running_get();

	auth_worker_run(w->auth);
	if (now && now != w->cfg) {
		old = w->cfg;
		w->cfg = now;
	} else if (now) {
		config_unref(now);
	}
	if (old) {
		dns_reconfigure(w->dns, w->cfg->dns);
		config_unref(old);
		loop_defer(loop, &w->auth_gc);
	}
	if (atomic_load(&stopping)) {
		abort_all(w);
		close_listeners(w);
		loop_stop(loop);
		return;
	}
	if (atomic_load(&draining) && !w->draining) {
		w->draining = true;
		close_listeners(w);
		struct list *pos, *tmp;

		list_for_each_safe(pos, tmp, &w->conns) handlers->close_if_idle(pos);
	}
	if (w->draining && w->nconns == 0)
		loop_stop(loop);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	loop_run(w->loop);
	abort_all(w);
	loop_run_pending(w->loop);
	close_listeners(w);
	auth_worker_free(w->auth);
	w->auth = NULL;
	pool_free(w->pool);
	dns_free(w->dns);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	config_unref(w->cfg);
	w->cfg = NULL;
	buf_pool_drain();
	relay_pool_drain();
	/* The loop itself is freed by the main thread after every worker
	 * has stopped: it may still wake this one while draining. */
	return NULL;
}

static void wake_all(void)
{
	for (int i = 0; i < nworkers; i++)
		loop_wakeup(workers[i].loop);
}

/* Reload */

static bool same_listeners(const struct config *a, const struct config *b)
{
	if (a->server->nlistens != b->server->nlistens)
		return false;
	for (size_t i = 0; i < a->server->nlistens; i++)
		if (a->server->listens[i].addrlen != b->server->listens[i].addrlen ||
		    memcmp(&a->server->listens[i].addr, &b->server->listens[i].addr, a->server->listens[i].addrlen) !=
		            0 ||
		    a->server->listens[i].proxy_protocol != b->server->listens[i].proxy_protocol ||
		    !a->server->listens[i].tls != !b->server->listens[i].tls)
			return false;
	return true;
}

static void reload(void)
{
	struct running_reload r;
	struct config *next = running_reload(&r);

	if (!next)
		return;
	if (!same_listeners(started, next))
		log_warn("reload: listen addresses changed in %s; they apply after a restart",
		         next->path ? next->path : "(embedded default)");
	webrtc_set_config(next);
	admin_reconfigure(next);
	config_unref(next);
	wake_all();
}

/* Start-up */

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_error("user %s does not exist", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
		log_error("cannot switch to user %s: %s", user, strerror(errno));
		return -1;
	}
	return 0;
}

static int start_workers(struct config *cfg)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	nworkers = cfg->server->workers ? cfg->server->workers : (int)(ncpu > 0 ? ncpu : 1);
	if (nworkers > ENGINE_MAX_WORKERS)
		nworkers = ENGINE_MAX_WORKERS;
	workers = ph_calloc((size_t)nworkers, sizeof(*workers));
	worker_stats = aligned_alloc(64, sizeof(*worker_stats) * (size_t)nworkers);
	memset(worker_stats, 0, sizeof(*worker_stats) * (size_t)nworkers);
	stats_register(worker_stats, nworkers);
	if (webrtc_start(nworkers, 0) < 0)
		log_error("the WebRTC report cannot start: /report stays empty");
	webrtc_set_config(cfg);
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		w->id = i;
		list_init(&w->conns);
		w->report = webrtc_ring(i);
		w->stats = &worker_stats[i];
		w->reserve_fd = -1;
		w->loop = loop_new();
		if (!w->loop) {
			log_error("cannot create an event loop: %s", strerror(errno));
			return -1;
		}
		w->nlisteners = cfg->server->nlistens;
		w->listeners = ph_calloc(cfg->server->nlistens ? cfg->server->nlistens : 1, sizeof(*w->listeners));
		for (size_t j = 0; j < cfg->server->nlistens; j++) {
			const struct listen_cfg *lc = &cfg->server->listens[j];
			struct listener *l = &w->listeners[j];
			int fd = make_listener(lc);

			l->io.fd = -1;
			if (fd < 0) {
				log_error("%s:%d: cannot listen on %s: %s", lc->file ? lc->file : "(default)", lc->line,
				          lc->text, strerror(errno));
				return -1;
			}
			l->w = w;
			l->started = lc;
			l->proxy_protocol = lc->proxy_protocol;
			if (lc->npp_from) {
				l->pp_from = ph_calloc(lc->npp_from, sizeof(*l->pp_from));
				memcpy(l->pp_from, lc->pp_from, lc->npp_from * sizeof(*l->pp_from));
				l->npp_from = lc->npp_from;
			}
			l->io.cb = on_accept;
			l->io.data = l;
			loop_io_start(w->loop, &l->io, fd, EPOLLIN);
		}
	}
	if (cfg->server->user && drop_privileges(cfg->server->user) < 0)
		return -1;
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		w->cfg = config_ref(cfg);
		w->dns = dns_new(w->loop, cfg->dns);
		w->pool = pool_new(w->loop);
		w->auth = auth_worker_new(w->loop);
		w->auth_gc.cb = worker_auth_gc;
		w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		w->accept_pause.cb = resume_accept;
		w->accept_pause.data = w;
		loop_set_wakeup(w->loop, worker_wakeup, w);
		if (!w->dns || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_error("cannot start worker %d", i);
			return -1;
		}
	}
	return 0;
}

/* Waits for the workers to drain, at most drain_ms, then stops them. */
static void drain(uint64_t drain_ms)
{
	struct timespec deadline;

	atomic_store(&draining, true);
	wake_all();
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)(drain_ms / 1000);
	deadline.tv_nsec += (long)(drain_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	bool forced = false;

	for (int i = 0; i < nworkers; i++) {
		if (!forced && pthread_timedjoin_np(workers[i].thread, NULL, &deadline) == 0)
			continue;
		if (!forced) {
			log_warn("drain: %u connections still open after %llu ms, closing them", atomic_load(&nconns),
			         (unsigned long long)drain_ms);
			atomic_store(&stopping, true);
			wake_all();
			forced = true;
		}
		pthread_join(workers[i].thread, NULL);
	}
}

int engine_run(struct config *cfg, const struct engine_handlers *h)
{
	char err[512];
	sigset_t set;
	int sig;

	if (log_configure(cfg->log, err, sizeof(err)) < 0) {
		fprintf(stderr, "pinhole: %s\n", err);
		config_unref(cfg);
		return 1;
	}
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	handlers = h;
	running_start(cfg);
	started = config_ref(cfg);
	if (start_workers(cfg) < 0) {
		atomic_store(&stopping, true);
		for (int i = 0; i < nworkers; i++)
			if (workers[i].thread) {
				loop_wakeup(workers[i].loop);
				pthread_join(workers[i].thread, NULL);
			}
		return 1;
	}
	if (admin_start(cfg, err, sizeof(err)) < 0) {
		log_error("%s", err);
		atomic_store(&stopping, true);
		wake_all();
		for (int i = 0; i < nworkers; i++) {
			pthread_join(workers[i].thread, NULL);
			loop_free(workers[i].loop);
			listeners_free(&workers[i]);
		}
		free(workers);
		config_unref(started);
		running_stop();
		return 1;
	}
	for (size_t i = 0; i < cfg->server->nlistens; i++) {
		const struct listen_cfg *lc = &cfg->server->listens[i];
		char tls[256] = "";

		if (lc->tls) {
			char what[224];

			snprintf(tls, sizeof(tls), " as an HTTPS proxy (%s)",
			         listen_tls_describe(lc->tls, what, sizeof(what)));
		}
		log_always("pinhole %s listening on %s%s%s (%d workers)", PACKAGE_VERSION, lc->text, tls,
		           lc->proxy_protocol ? " with PROXY protocol" : "", nworkers);
	}
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		break;
	}
	struct config *now = running_get();
	uint64_t drain_ms = now->server->timeout_drain_ms;

	config_unref(now);
	log_always("stopping: no new connections, draining the open ones (up to %llu ms)",
	           (unsigned long long)drain_ms);
	drain(drain_ms);
	admin_stop();
	webrtc_set_config(NULL);
	webrtc_stop();
	for (int i = 0; i < nworkers; i++) {
		loop_free(workers[i].loop);
		listeners_free(&workers[i]);
	}
	config_unref(started);
	running_stop();
	free(workers);
	stats_register(NULL, 0);
	free(worker_stats);
	log_always("stopped");
	return 0;
}
