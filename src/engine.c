/*
 * engine.c - process life: listening sockets (one SO_REUSEPORT socket per
 * worker and listen address, so the kernel spreads new connections without
 * an accept lock; no other process may bind them), worker threads,
 * privilege drop, the pid file, and the main thread that reloads (SIGHUP,
 * the control socket), reopens the logs (SIGUSR1) and drains
 * (SIGTERM/SIGINT).
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
#include "control.h"
#include "pidfile.h"
#include "portcheck.h"
#include "sdnotify.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
					refuse(fd, &ss, l->lc->tls != NULL, 503,
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
			refuse(fd, &ss, l->lc->tls != NULL, 503,
			       "Too many connections: the proxy is at its max-connections limit.");
			continue;
		}
		handlers->accept(w, fd, &ss, listener_wants_header(l, &ss), l->cfg, l->lc);
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
	/* Each worker binds its own socket and the kernel spreads the
	 * connections; portcheck_probe made sure no one else is there. */
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

/* Listeners */

static void listener_array_free(struct listener *a, size_t n, bool close_fds)
{
	for (size_t i = 0; a && i < n; i++) {
		if (close_fds && a[i].io.fd >= 0)
			close(a[i].io.fd);
		free(a[i].pp_from);
		config_unref(a[i].cfg);
	}
	free(a);
}

static void listeners_free(struct worker *w)
{
	listener_array_free(w->listeners, w->nlisteners, false);
	w->listeners = NULL;
	w->nlisteners = 0;
	listener_array_free(w->retired, w->nretired, false);
	w->retired = NULL;
	w->nretired = 0;
	pthread_mutex_lock(&w->pending_lock);
	listener_array_free(w->pending, w->npending, true);
	w->pending = NULL;
	pthread_mutex_unlock(&w->pending_lock);
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

/* The listening sockets of a configuration, one array per worker: new
 * sockets for addresses not listened on yet (each probed first, so that
 * an address another process holds is refused), "reuse" entries for
 * addresses the workers keep (their sockets stay, so no connection
 * waiting in a backlog is lost).  NULL with why (FILE:LINE: ...) when an
 * address cannot be listened on; nothing is left open then. */
struct listen_plan {
	struct listener **per_worker;
	size_t n;
};

static bool listening_on(const struct config *cur, const struct listen_cfg *lc)
{
	for (size_t i = 0; cur && i < cur->server->nlistens; i++)
		if (cur->server->listens[i].addrlen == lc->addrlen &&
		    server_addr_equal(&cur->server->listens[i].addr, &lc->addr))
			return true;
	return false;
}

static void plan_free(struct listen_plan *p)
{
	if (!p)
		return;
	for (int w = 0; w < nworkers; w++)
		listener_array_free(p->per_worker[w], p->n, true);
	free(p->per_worker);
	free(p);
}

static struct listen_plan *plan_listeners(struct config *next, const struct config *cur, char *why, size_t whylen)
{
	struct listen_plan *p = ph_calloc(1, sizeof(*p));
	const struct server_settings *s = next->server;

	p->n = s->nlistens;
	p->per_worker = ph_calloc((size_t)nworkers, sizeof(*p->per_worker));
	for (int w = 0; w < nworkers; w++) {
		p->per_worker[w] = ph_calloc(p->n ? p->n : 1, sizeof(struct listener));
		for (size_t j = 0; j < p->n; j++)
			p->per_worker[w][j].io.fd = -1;
	}
	/* Every new address is probed before any socket is bound, so that
	 * two addresses of this configuration never trip over each other. */
	for (size_t j = 0; j < p->n; j++) {
		const struct listen_cfg *lc = &s->listens[j];
		char reason[400];

		if (listening_on(cur, lc))
			continue;
		if (portcheck_probe(&lc->addr, lc->addrlen, reason, sizeof(reason)) < 0) {
			snprintf(why, whylen, "%s:%d: cannot listen on %s: %s", lc->file ? lc->file : "(default)",
			         lc->line, lc->text, reason);
			plan_free(p);
			return NULL;
		}
	}
	for (size_t j = 0; j < p->n; j++) {
		const struct listen_cfg *lc = &s->listens[j];
		bool reuse = listening_on(cur, lc);

		for (int w = 0; w < nworkers; w++) {
			struct listener *l = &p->per_worker[w][j];

			l->addr = lc->addr;
			l->addrlen = lc->addrlen;
			l->reuse = reuse;
			l->cfg = config_ref(next);
			l->lc = lc;
			l->proxy_protocol = lc->proxy_protocol;
			if (lc->npp_from) {
				l->pp_from = ph_calloc(lc->npp_from, sizeof(*l->pp_from));
				memcpy(l->pp_from, lc->pp_from, lc->npp_from * sizeof(*l->pp_from));
				l->npp_from = lc->npp_from;
			}
			if (reuse)
				continue;
			l->io.fd = make_listener(lc);
			if (l->io.fd < 0) {
				snprintf(why, whylen, "%s:%d: cannot listen on %s: %s",
				         lc->file ? lc->file : "(default)", lc->line, lc->text, strerror(errno));
				plan_free(p);
				return NULL;
			}
		}
	}
	return p;
}

/* Starts watching a worker's listeners (l[i].io.fd holds the socket). */
static void listeners_start(struct worker *w, struct listener *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int fd = l[i].io.fd;

		l[i].w = w;
		l[i].io.fd = -1;
		l[i].io.cb = on_accept;
		l[i].io.data = &l[i];
		if (fd >= 0)
			loop_io_start(w->loop, &l[i].io, fd, EPOLLIN);
	}
}

static void retire_listeners(struct loop *loop, struct loop_defer *d)
{
	struct worker *w = (struct worker *)((char *)d - offsetof(struct worker, retire));

	PH_UNUSED(loop);
	listener_array_free(w->retired, w->nretired, false);
	w->retired = NULL;
	w->nretired = 0;
}

/* In the worker's thread: takes the listeners a reload handed over.  A
 * socket on an address it keeps moves to the new array; the sockets of
 * addresses no longer listed are closed.  The old array is freed after
 * this loop iteration (its events may still be in the batch). */
static void take_listeners(struct worker *w)
{
	struct listener *nl, *old = w->listeners;
	size_t nn, nold = w->nlisteners;
	uint64_t gen;

	pthread_mutex_lock(&w->pending_lock);
	nl = w->pending;
	nn = w->npending;
	gen = w->pending_gen;
	w->pending = NULL;
	pthread_mutex_unlock(&w->pending_lock);
	if (!nl)
		return;
	for (size_t j = 0; j < nn; j++) {
		if (!nl[j].reuse)
			continue;
		for (size_t k = 0; k < nold; k++) {
			if (old[k].io.fd >= 0 && old[k].addrlen == nl[j].addrlen &&
			    server_addr_equal(&old[k].addr, &nl[j].addr)) {
				nl[j].io.fd = old[k].io.fd;
				loop_io_stop(w->loop, &old[k].io);
				break;
			}
		}
	}
	for (size_t k = 0; k < nold; k++) {
		int fd = old[k].io.fd;

		loop_io_stop(w->loop, &old[k].io);
		if (fd >= 0)
			close(fd);
	}
	if (w->draining) {
		for (size_t j = 0; j < nn; j++)
			if (nl[j].io.fd >= 0)
				close(nl[j].io.fd), nl[j].io.fd = -1;
	}
	listeners_start(w, nl, nn);
	listener_array_free(w->retired, w->nretired, false);
	w->retired = old;
	w->nretired = nold;
	w->listeners = nl;
	w->nlisteners = nn;
	loop_defer(w->loop, &w->retire);
	atomic_store(&w->listen_gen, gen);
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
	take_listeners(w);
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
		if (workers[i].loop)
			loop_wakeup(workers[i].loop);
}

/* Hands each worker its new listeners and waits (a few seconds at most)
 * until every one has taken them, so that `pinhole reload` answers once
 * the new ports accept. */
static void apply_listeners(struct listen_plan *p)
{
	static uint64_t gen;

	gen++;
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];

		pthread_mutex_lock(&w->pending_lock);
		/* One not taken yet (a worker stuck for seconds) is replaced. */
		listener_array_free(w->pending, w->npending, true);
		w->pending = p->per_worker[i];
		w->npending = p->n;
		w->pending_gen = gen;
		p->per_worker[i] = NULL;
		pthread_mutex_unlock(&w->pending_lock);
	}
	free(p->per_worker);
	free(p);
	wake_all();
	for (int tries = 0; tries < 500; tries++) {
		int done = 0;

		for (int i = 0; i < nworkers; i++)
			done += atomic_load(&workers[i].listen_gen) == gen;
		if (done == nworkers)
			return;
		usleep(10000);
	}
	log_warn("reload: not every worker took its new listeners within 5 s");
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
	char why[1024];

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
		pthread_mutex_init(&w->pending_lock, NULL);
		w->report = webrtc_ring(i);
		w->stats = &worker_stats[i];
		w->reserve_fd = -1;
		w->retire.cb = retire_listeners;
		w->loop = loop_new();
		if (!w->loop) {
			log_error("cannot create an event loop: %s", strerror(errno));
			return -1;
		}
	}
	struct listen_plan *plan = plan_listeners(cfg, NULL, why, sizeof(why));

	if (!plan) {
		log_fatal("%s", why);
		return -1;
	}
	for (int i = 0; i < nworkers; i++) {
		workers[i].listeners = plan->per_worker[i];
		workers[i].nlisteners = plan->n;
		plan->per_worker[i] = NULL;
		listeners_start(&workers[i], workers[i].listeners, workers[i].nlisteners);
	}
	plan_free(plan);
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
		w->started = true;
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
		if (!forced && pthread_timedjoin_np(workers[i].thread, NULL, &deadline) == 0) {
			workers[i].started = false;
			continue;
		}
		if (!forced) {
			log_warn("drain: %u connections still open after %llu ms, closing them", atomic_load(&nconns),
			         (unsigned long long)drain_ms);
			atomic_store(&stopping, true);
			wake_all();
			forced = true;
		}
		pthread_join(workers[i].thread, NULL);
		workers[i].started = false;
	}
}

/* The main thread */

#define TICK_MS 1000
#define LEARNED_REFRESH_S 2

static int sigfd = -1;
static int ctlfd = -1;
static char ctl_path[128];
static struct config *listening; /* the configuration the workers' listeners are made from */

/* One line for systemctl status. */
static void notify_status(const char *state)
{
	struct running_status st;
	struct config *cfg = running_get();
	char when[32] = "";

	running_status(&st);
	if (!st.last_reload_ok) {
		time_t t = (time_t)st.last_reload;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	sdnotify("%sSTATUS=%s: %zu listener%s, %d workers, configuration generation %llu%s%s%s", state,
	         atomic_load(&draining) ? "draining" : "serving", cfg ? cfg->server->nlistens : 0,
	         cfg && cfg->server->nlistens == 1 ? "" : "s", nworkers,
	         cfg ? (unsigned long long)cfg->generation : 0ULL, st.last_reload_ok ? "" : "; the reload at ", when,
	         st.last_reload_ok ? "" : " was refused");
	config_unref(cfg);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What a reload cannot change in a running process: refused (pid-file:
 * `pinhole reload` would look for the process elsewhere) or said (workers,
 * user: they apply at the next start). */
static int check_fixed(const struct config *next, struct running_reload *r)
{
	const struct server_settings *a = listening->server, *b = next->server;
	char line[512];

	if (!same_text(a->pid_file, b->pid_file)) {
		running_refuse(r,
		               "%s:%d: pid-file changed from %s to %s: a running pinhole keeps its pid file; restart "
		               "it to move it",
		               b->pid_file_file ? b->pid_file_file : (next->path ? next->path : "(default)"),
		               b->pid_file_line, a->pid_file ? a->pid_file : "none",
		               b->pid_file ? b->pid_file : "none");
		return -1;
	}
	if (a->workers != b->workers) {
		snprintf(line, sizeof(line), "warning: workers changed: %d workers keep running until a restart",
		         nworkers);
		log_warn("reload: %s", line);
		running_say(r, line);
	}
	if (!same_text(a->user, b->user)) {
		snprintf(line, sizeof(line), "warning: user changed: the running pinhole stays as %s until a restart",
		         a->user ? a->user : "the user that started it");
		log_warn("reload: %s", line);
		running_say(r, line);
	}
	return 0;
}

static void log_listener_changes(const struct config *old, const struct config *next)
{
	for (size_t i = 0; i < next->server->nlistens; i++)
		if (!listening_on(old, &next->server->listens[i]))
			log_always("reload: now listening on %s%s", next->server->listens[i].text,
			           next->server->listens[i].proxy_protocol ? " with PROXY protocol" : "");
	for (size_t i = 0; i < old->server->nlistens; i++)
		if (!listening_on(next, &old->server->listens[i]))
			log_always("reload: no longer listening on %s", old->server->listens[i].text);
}

/* SIGHUP, `pinhole reload`, POST /reload: the new configuration is put in
 * force whole (rules, logs, listeners, the admin interface) or refused
 * whole, with its reasons in r. */
static void reload(struct running_reload *r)
{
	char why[1024];
	struct config *next;
	struct listen_plan *plan = NULL;

	sdnotify_reloading();
	next = running_parse(r);
	if (!next)
		goto out;
	if (check_fixed(next, r) < 0)
		goto refused;
	plan = plan_listeners(next, listening, why, sizeof(why));
	if (!plan) {
		running_refuse(r, "%s", why);
		goto refused;
	}
	if (admin_prepare(next, why, sizeof(why)) < 0) {
		running_refuse(r, "%s", why);
		goto refused;
	}
	if (running_commit(next, r) < 0) {
		admin_prepare_cancel();
		goto refused;
	}
	log_listener_changes(listening, next);
	apply_listeners(plan);
	config_unref(listening);
	listening = config_ref(next);
	webrtc_set_config(next);
	admin_reconfigure(next);
	tls_learned_refresh();
	config_unref(next);
	wake_all();
	goto out;
refused:
	plan_free(plan);
	config_unref(next);
out:
	notify_status("READY=1\n");
}

static void reopen_logs(void)
{
	struct config *cfg = running_get();
	char err[1024];

	if (!cfg)
		return;
	if (log_reopen(cfg->log, err, sizeof(err)) < 0)
		log_error("SIGUSR1: %s; writing to the old file", err);
	else
		log_always("log files reopened");
	config_unref(cfg);
}

static void on_command(const char *cmd, struct strbuf *reply)
{
	if (strcmp(cmd, "reload") == 0) {
		static struct running_reload r;

		reload(&r);
		strbuf_printf(reply, "%s\n%s", r.ok ? "ok" : "refused", r.message);
	} else if (strcmp(cmd, "reopen") == 0) {
		reopen_logs();
		strbuf_puts(reply, "ok\n");
	} else if (strcmp(cmd, "status") == 0) {
		struct config *cfg = running_get();
		struct running_status st;

		running_status(&st);
		strbuf_printf(reply, "ok\npid %d\nconfig %s\ngeneration %llu\nstarted %llu\nlast-reload %llu %s\n",
		              (int)getpid(), cfg && cfg->path ? cfg->path : "-",
		              cfg ? (unsigned long long)cfg->generation : 0ULL, (unsigned long long)st.started,
		              (unsigned long long)st.last_reload, st.last_reload_ok ? "ok" : "refused");
		config_unref(cfg);
	} else {
		strbuf_puts(reply, "refused\nunknown command (reload, reopen, status)\n");
	}
}

/* Periodic work of the main thread: other instances' learned pinned
 * domains (a shared state-dir), the admin interface's rates. */
static void tick(void)
{
	static uint64_t last_refresh;
	uint64_t now = ph_mono_ms();

	if (now - last_refresh >= LEARNED_REFRESH_S * 1000) {
		last_refresh = now;
		tls_learned_refresh();
	}
	admin_sample();
}

/* Waits for signals and control commands until SIGTERM or SIGINT. */
static void main_loop(void)
{
	uint64_t next_tick = ph_mono_ms() + TICK_MS;

	for (;;) {
		struct pollfd p[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = ctlfd, .events = POLLIN } };
		uint64_t now = ph_mono_ms();
		int n = poll(p, ctlfd >= 0 ? 2 : 1, now >= next_tick ? 0 : (int)(next_tick - now));

		if (ph_mono_ms() >= next_tick) {
			tick();
			next_tick = ph_mono_ms() + TICK_MS;
		}
		if (n <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					static struct running_reload r;

					reload(&r);
				} else if (si.ssi_signo == SIGUSR1) {
					reopen_logs();
				} else {
					log_always("%s received", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
					return;
				}
			}
		}
		if (ctlfd >= 0 && (p[1].revents & POLLIN))
			control_serve(ctlfd, on_command);
	}
}

/* The pid file (its directory made when missing, as /run's are emptied at
 * boot) and the control socket beside it, owned by the user pinhole will
 * run as. */
static int claim_pid_file(const struct server_settings *s)
{
	char err[1024], dir[4096];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char *slash;

	if (!s->pid_file)
		return 0;
	snprintf(dir, sizeof(dir), "%s", s->pid_file);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == 0)
			log_info("made the pid-file's directory %s", dir);
	}
	if (pidfile_claim(s->pid_file, err, sizeof(err)) < 0) {
		log_fatal("%s:%d: %s", s->pid_file_file, s->pid_file_line, err);
		return -1;
	}
	if (s->user) {
		struct passwd *pw = getpwnam(s->user);

		if (pw) {
			uid = pw->pw_uid;
			gid = pw->pw_gid;
			if (chown(s->pid_file, uid, gid) != 0)
				log_debug("cannot give %s to %s: %s", s->pid_file, s->user, strerror(errno));
		}
	}
	pidfile_control_path(s->pid_file, ctl_path, sizeof(ctl_path));
	ctlfd = control_open(ctl_path, uid, gid, err, sizeof(err));
	if (ctlfd < 0) {
		log_fatal("%s:%d: %s", s->pid_file_file, s->pid_file_line, err);
		pidfile_release();
		return -1;
	}
	return 0;
}

static void release_pid_file(void)
{
	control_close(ctlfd, ctl_path);
	ctlfd = -1;
	pidfile_release();
}

/* Stops and frees the workers (all of them stopped or never started). */
static void free_workers(void)
{
	for (int i = 0; i < nworkers; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		else if (workers[i].loop)
			close_listeners(&workers[i]);
		loop_free(workers[i].loop);
		listeners_free(&workers[i]);
		pthread_mutex_destroy(&workers[i].pending_lock);
	}
	free(workers);
	workers = NULL;
	nworkers = 0;
}

static int fail_start(void)
{
	atomic_store(&stopping, true);
	wake_all();
	free_workers();
	webrtc_set_config(NULL);
	webrtc_stop();
	stats_register(NULL, 0);
	free(worker_stats);
	worker_stats = NULL;
	config_unref(listening);
	listening = NULL;
	release_pid_file();
	running_stop();
	return 1;
}

int engine_run(struct config *cfg, const struct engine_handlers *h)
{
	char err[1024];
	sigset_t set;

	if (log_configure(cfg->log, err, sizeof(err)) < 0) {
		fprintf(stderr, "pinhole: %s\n", err);
		config_unref(cfg);
		return 1;
	}
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	/* Blocked in every thread (they inherit the mask), read by the main
	 * thread alone through sigfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		log_error("cannot read signals: %s", strerror(errno));
		config_unref(cfg);
		return 1;
	}
	handlers = h;
	running_start(cfg);
	listening = config_ref(cfg);
	if (claim_pid_file(cfg->server) < 0) {
		config_unref(listening);
		listening = NULL;
		running_stop();
		return 1;
	}
	if (start_workers(cfg) < 0)
		return fail_start();
	if (admin_start(cfg, err, sizeof(err)) < 0) {
		log_fatal("%s", err);
		return fail_start();
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
	notify_status("READY=1\n");

	main_loop();

	struct config *now = running_get();
	uint64_t drain_ms = now->server->timeout_drain_ms;

	config_unref(now);
	log_always("stopping: no new connections, draining the open ones (up to %llu ms)",
	           (unsigned long long)drain_ms);
	atomic_store(&draining, true);
	running_set_draining();
	notify_status("STOPPING=1\n");
	drain(drain_ms);
	admin_stop();
	webrtc_set_config(NULL);
	webrtc_stop();
	free_workers();
	config_unref(listening);
	listening = NULL;
	running_stop();
	stats_register(NULL, 0);
	free(worker_stats);
	worker_stats = NULL;
	release_pid_file();
	close(sigfd);
	sigfd = -1;
	log_always("stopped");
	return 0;
}
