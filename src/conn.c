/*
 * conn.c - one client connection's life: accept, the state machine
 * (enum conn_state) that conn_run() drives in the order a request lives,
 * reading request heads and sending each to its job (tunnel.c for CONNECT,
 * inspect.c inside an inspected tunnel, forward.c for plain HTTP; access.c
 * decides who may), resolving and connecting to the origin, pinhole's own
 * answers, the access log and the report's events, timers, and close.
 * Every step returns a step result (common.h); nothing here waits.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "common.h"
#include "config.h"
#include "dns.h"
#include "log.h"
#include "pool.h"
#include "proxyproto.h"
#include "quirks.h"
#include "server.h"
#include "stats.h"
#include "webrtc.h"

#define LINGER_MS 2000

static void on_client(struct loop *loop, struct loop_io *io, uint32_t revents);
static void on_origin(struct loop *loop, struct loop_io *io, uint32_t revents);

static struct conn *conn_of_defer_rerun(struct loop_defer *d)
{
	return (struct conn *)((char *)d - offsetof(struct conn, rerun));
}

static struct conn *conn_of_defer_release(struct loop_defer *d)
{
	return (struct conn *)((char *)d - offsetof(struct conn, release));
}

/* ---- the access log and the report ---- */

/* Copies a string into a report field, cut to fit. */
static void report_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src ? src : "", cap - 1);

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

void conn_report(struct conn *c, enum wr_kind kind, const char *detail, const char *sni)
{
	const char *bound = auth_conn_user(c->auth);
	struct wr_event ev;

	if (!c->w->report || (kind == WR_REQUEST && !c->txn.method[0]))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.kind = (uint8_t)kind;
	ev.wall_ms = kind == WR_REQUEST ? c->txn.start_wall : ph_wall_ms();
	ev.client = c->client_addr;
	report_copy(ev.user, sizeof(ev.user), c->txn.user[0] ? c->txn.user : bound);
	report_copy(ev.user_agent, sizeof(ev.user_agent), c->txn.ua);
	report_copy(ev.method, sizeof(ev.method), c->txn.method);
	report_copy(ev.host, sizeof(ev.host), c->txn.host);
	ev.port = c->txn.port;
	if (kind == WR_REQUEST) {
		ev.status = (uint16_t)(c->txn.status > 0 ? c->txn.status : 0);
		if (c->txn.status == 407)
			auth_config_schemes(c->cfg->auth, ev.offered, sizeof(ev.offered));
		if (c->txn.status == 403)
			report_copy(ev.rule, sizeof(ev.rule), c->txn.deny_rule);
	} else if (kind == WR_AUTH_OK) {
		report_copy(ev.scheme, sizeof(ev.scheme), detail);
	} else {
		report_copy(ev.detail, sizeof(ev.detail), detail);
	}
	report_copy(ev.sni, sizeof(ev.sni), sni);
	report_copy(ev.parent, sizeof(ev.parent), parent_via(c, NULL));
	if (c->txn.webrtc)
		ev.flags |= WR_FLAG_WEBRTC;
	if (c->txn.auth && strcmp(c->txn.auth, "surrogate") == 0)
		ev.flags |= WR_FLAG_SURROGATE;
	webrtc_publish(c->w->report, &ev);
}

void conn_log(struct conn *c, const char *result, int status, const char *error)
{
	const char *parent_host = NULL, *parent = parent_via(c, &parent_host);
	char webrtc_mime[sizeof(c->txn.mime) + 8];
	const char *mime = c->txn.mime;

	/* A media tunnel says so in the type column: webrtc-stun, webrtc-tls. */
	if (c->txn.webrtc && c->txn.sniffed) {
		snprintf(webrtc_mime, sizeof(webrtc_mime), "webrtc-%s", c->txn.mime);
		mime = webrtc_mime;
	}

	struct access_entry e = {
		.end_ms = ph_wall_ms(),
		.elapsed_ms = loop_now(c->w->loop) - c->txn.start_mono,
		.client = &c->client_addr,
		.result = result,
		.status = status,
		.bytes_out = c->c.wbytes - c->txn.c_wbytes0,
		.bytes_in = c->c.rbytes - c->txn.c_rbytes0,
		.method = c->txn.method[0] ? c->txn.method : NULL,
		.url = c->txn.url,
		.user = c->txn.user[0] ? c->txn.user : NULL,
		.hierarchy = parent          ? "FIRSTUP_PARENT"
		             : c->txn.direct ? "HIER_DIRECT"
		                             : "HIER_NONE",
		.peer = !parent && c->txn.direct ? &c->peer : NULL,
		.parent = parent,
		.parent_host = parent_host,
		.mime = mime[0] ? mime : NULL,
		.error = error,
		.auth = c->txn.user[0] ? c->txn.auth : NULL,
		.webrtc = c->txn.webrtc,
		.client_tls = c->client_tls,
	};

	log_access(&e);
	c->txn.status = status;
	conn_report(c, WR_REQUEST, NULL, NULL);
	stats_status(c->w->stats, status);
	if (!c->txn.is_connect && (c->txn.direct || parent))
		stats_add(&c->w->stats->requests_total, 1);
}

/* Starts a new transaction on this connection: what the last one owned
 * is let go of, and everything else starts from zero. */
void conn_txn_begin(struct conn *c)
{
	free(c->txn.url);
	free(c->txn.error);
	buf_release(&c->txn.auth_extra);
	memset(&c->txn, 0, sizeof(c->txn));
	c->txn.start_wall = ph_wall_ms();
	c->txn.start_mono = loop_now(c->w->loop);
	c->txn.c_rbytes0 = c->c.rbytes - buf_len(&c->c.in);
	c->txn.c_wbytes0 = c->c.wbytes;
}

/* Starts a direction's framing, throttled when the quirk says so. */
void conn_frame_start(struct conn *c, struct relay_frame *f, enum relay_kind kind, uint64_t length)
{
	relay_frame_init(f, kind, length);
	if (c->cfg->quirks->throttle_bps)
		relay_frame_throttle(f, c->cfg->quirks->throttle_bps);
}

/* Lifecycle */

static void conn_free(struct loop *loop, struct loop_defer *d)
{
	struct conn *c = conn_of_defer_release(d);

	free(c->txn.url);
	free(c->txn.error);
	free(c->addrs);
	free(c->tls);
	config_unref(c->listen_cfg);
	parent_free(c);
	free(c);
}

void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->state == CS_CLOSED)
		return;
	c->state = CS_CLOSED;
	stats_sub(&w->stats->connections_active, 1);
	if (c->counted_tunnel)
		stats_sub(&w->stats->tunnels_active, 1);
	stats_add(&w->stats->bytes_from_clients, c->c.rbytes);
	stats_add(&w->stats->bytes_to_clients, c->c.wbytes);
	if (c->dnsq)
		dns_cancel(w->dns, c->dnsq);
	c->dnsq = NULL;
	loop_timer_stop(w->loop, &c->timer);
	loop_timer_stop(w->loop, &c->pace);
	side_close(w->loop, &c->c);
	if (c->origin_idle)
		conn_origin_release(c, true);
	side_close(w->loop, &c->o);
	buf_release(&c->retry_head);
	buf_release(&c->txn.auth_extra);
	auth_conn_free(c->auth);
	c->auth = NULL;
	if (c->cfg)
		config_unref(c->cfg);
	c->cfg = NULL;
	c->release.cb = conn_free;
	loop_defer(w->loop, &c->release);
	engine_conn_remove(w, &c->link);
}

static void conn_abort(struct list *link)
{
	conn_close(list_entry(link, struct conn, link));
}

static void conn_close_if_idle(struct list *link)
{
	struct conn *c = list_entry(link, struct conn, link);

	if (c->state == CS_HEAD && buf_len(&c->c.in) == 0)
		conn_close(c);
}

/* Sets the single deadline of the connection. */
void conn_deadline(struct conn *c, uint64_t ms)
{
	if (ms)
		loop_timer_start(c->w->loop, &c->timer, ms);
	else
		loop_timer_stop(c->w->loop, &c->timer);
}

/* pinhole's own answers */

/* Answers with status and a one-line text/plain body naming the cause,
 * logs it, and closes the connection once the answer is sent. */
int conn_fail(struct conn *c, int status, const char *result, const char *fmt, ...)
{
	char body[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(body, sizeof(body) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(body) - 2)
		n = (int)sizeof(body) - 2;
	body[n] = '\0';
	if (c->dnsq)
		dns_cancel(c->w->dns, c->dnsq);
	c->dnsq = NULL;
	conn_origin_release(c, false);
	c->has_peer = c->has_peer && c->state != CS_CONNECT;
	c->keepalive = false;
	c->txn.status = status;
	if (c->txn.response_started) {
		/* Too late for an answer: the client sees the connection end. */
		conn_log(c, result, status, body);
		return PH_ERROR;
	}
	buf_release(&c->c.out);
	snprintf(c->txn.mime, sizeof(c->txn.mime), "text/plain");
	buf_printf(&c->c.out,
	           "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	           "Content-Length: %d\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n%s\n",
	           status, http_reason(status), n + 1, body);
	c->state = CS_RESPOND;
	c->txn.pending_log = true;
	snprintf(c->txn.result, sizeof(c->txn.result), "%s", result);
	free(c->txn.error);
	c->txn.error = ph_strdup(body);
	conn_deadline(c, c->cfg ? c->cfg->server->timeout_idle_ms : SERVER_DEFAULT_TIMEOUT_IDLE_MS);
	if (log_enabled(LOG_LEVEL_INFO)) {
		char a[64];

		log_info("%s: %d %s", ph_addr_str(&c->client_addr, a, sizeof(a)), status, body);
	}
	return PH_OK;
}

static int st_respond(struct conn *c)
{
	int r = side_flush(&c->c);

	if (r == PH_AGAIN)
		return PH_AGAIN;
	if (c->txn.pending_log) {
		c->txn.pending_log = false;
		conn_log(c, c->txn.result, c->txn.status, c->txn.error);
	}
	if (r == PH_ERROR)
		return PH_ERROR;
	/* Close for writing, and read what the client still sends, so that
	 * its unread request bytes do not turn the close into a reset that
	 * would destroy the answer before it is read. */
	side_shut_write(&c->c);
	c->state = CS_LINGER;
	conn_deadline(c, LINGER_MS);
	return PH_OK;
}

static int st_linger(struct conn *c)
{
	for (;;) {
		int r = side_read(&c->c, BUF_SIZE);

		buf_release(&c->c.in);
		if (r == PH_AGAIN)
			return PH_AGAIN;
		if (r == PH_ERROR)
			return PH_ERROR;
		if (c->c.eof)
			return PH_DONE;
	}
}

/* PROXY protocol */

static int st_proxy_header(struct conn *c)
{
	for (;;) {
		struct proxyproto_result pp;
		const char *why = NULL;
		int n = buf_len(&c->c.in) ? proxyproto_parse(buf_data(&c->c.in), buf_len(&c->c.in), &pp, &why) : 0;

		if (n > 0) {
			buf_consume(&c->c.in, (size_t)n);
			if (pp.has_addr)
				c->client_addr = pp.src;
			c->state = c->client_tls ? CS_TLS_ACCEPT : CS_HEAD;
			conn_txn_begin(c);
			return PH_OK;
		}
		if (n < 0)
			return conn_fail(c, 400, "NONE_NONE", "Bad PROXY protocol header: %s.", why);
		if (c->c.eof)
			return buf_len(&c->c.in) ? conn_fail(c, 400, "NONE_NONE", "Incomplete PROXY protocol header.")
			                         : PH_ERROR;
		int r = side_read(&c->c, PROXYPROTO_MAX_LEN);

		if (r != PH_OK)
			return r;
	}
}

static void copy_method(struct conn *c, const struct http_request *req)
{
	size_t n = PH_MIN(req->method_len, sizeof(c->txn.method) - 1);

	memcpy(c->txn.method, req->method, n);
	c->txn.method[n] = '\0';
}

static void copy_user_agent(struct conn *c, const struct http_request *req)
{
	const struct http_header *h = http_find_header(req->headers, req->nheaders, "User-Agent");
	size_t n = h ? PH_MIN(h->value_len, sizeof(c->txn.ua) - 1) : 0;

	if (n)
		memcpy(c->txn.ua, h->value, n);
	c->txn.ua[n] = '\0';
}

static int st_head(struct conn *c)
{
	for (;;) {
		size_t len = buf_len(&c->c.in);

		if (len && !c->c.ssl && client_tls_is_hello(buf_data(&c->c.in), len))
			return client_tls_misdirected(c);
		if (len) {
			struct http_request req;
			const char *why = NULL;
			int status = 0;
			int n = http_parse_request(buf_data(&c->c.in), len, c->cfg->server->max_header_size, &req,
			                           &status, &why);

			if (n == PH_OK && c->w->cfg->quirks->delay_ms && !c->delayed && !c->auth_resumed) {
				/* quirk delay: answer every request late. */
				c->delayed = true;
				loop_timer_start(c->w->loop, &c->pace, c->w->cfg->quirks->delay_ms);
				return PH_AGAIN;
			}
			if (n == PH_OK && c->delayed && loop_timer_active(&c->pace))
				return PH_AGAIN;
			if (n == PH_OK) {
				bool resumed = c->auth_resumed;
				uint64_t wall = c->txn.start_wall, mono = c->txn.start_mono;

				c->delayed = false;
				c->auth_resumed = false;
				/* A new request: it sees the newest configuration.
				 * One that waited for an auth helper keeps its own. */
				struct config *now = c->w->cfg;

				if (now != c->cfg && !resumed) {
					config_unref(c->cfg);
					c->cfg = config_ref(now);
				}
				conn_txn_begin(c);
				if (req.method_len >= sizeof(c->txn.method)) {
					/* Rules and logs keep this much of a method:
					 * a longer one would be forwarded in full
					 * while the rules matched a truncation. */
					c->txn.url = ph_strndup(req.target, req.target_len);
					return conn_fail(c, 501, "NONE_NONE",
					                 "The request method is longer than %zu characters.",
					                 sizeof(c->txn.method) - 1);
				}
				if (http_request_check_host(&req, &why) != PH_OK)
					return conn_fail(c, 400, "NONE_NONE", "Refused: %s.", why);
				copy_user_agent(c, &req);
				if (resumed) {
					/* The log's elapsed time includes the wait. */
					c->txn.start_wall = wall;
					c->txn.start_mono = mono;
				}
				copy_method(c, &req);
				c->keepalive = true;
				conn_deadline(c, c->cfg->server->timeout_connect_ms + c->cfg->server->timeout_idle_ms);
				if (c->w->draining)
					c->keepalive = false;
				if (req.method_len == 7 && memcmp(req.method, "CONNECT", 7) == 0 && !c->inspecting &&
				    !c->local)
					return tunnel_request(c, &req);
				return forward_request(c, &req);
			}
			if (n == PH_ERROR && c->pp_untrusted && proxyproto_looks_like(buf_data(&c->c.in), len)) {
				char a[64];

				conn_txn_begin(c);
				return conn_fail(c, 400, "NONE_NONE",
				                 "A PROXY protocol header from %s, which is not in the listener's "
				                 "proxy-protocol from list.",
				                 ph_addr_str(&c->client_addr, a, sizeof(a)));
			}
			if (n == PH_ERROR) {
				conn_txn_begin(c);
				return conn_fail(
				        c, status, "NONE_NONE", "%s%s", why,
				        status == 431 ? " (raise max-header-size if this request is legitimate)" : "");
			}
		}
		if (c->c.eof) {
			if (c->inspecting && c->inspected_requests == 0 && len == 0)
				inspect_pinning_failure(
				        c, "closed the connection right after the handshake, without a request", -1);
			if (len)
				return conn_fail(c, 400, "NONE_NONE",
				                 "The client closed in the middle of a request head.");
			return PH_ERROR;
		}
		int r = side_read(&c->c, c->cfg->server->max_header_size + 1);

		if (r != PH_OK)
			return r;
		if (!c->txn.head_timer && buf_len(&c->c.in)) {
			/* The first byte of a head starts the header clock. */
			c->txn.head_timer = true;
			conn_deadline(c, c->cfg->server->timeout_header_ms);
		}
	}
}

/* Resolving and connecting */

/* The addresses a name resolved to, kept in try order if the rules allow
 * them; none allowed answers 403 for the first.  A parent proxy's are all
 * kept: the rules are about origins. */
static int addresses_resolved(struct conn *c, const struct dns_result *res)
{
	const struct rule *first_rule = NULL;
	enum addr_verdict first = ADDR_ALLOWED;
	int refused_at = -1;
	bool to_parent = parent_target(c, NULL, NULL);

	free(c->addrs);
	c->addrs = ph_calloc(1, sizeof(*c->addrs));
	for (int i = 0; i < res->n; i++) {
		if (to_parent) {
			c->addrs->addrs[c->addrs->n++] = res->addrs[i];
			continue;
		}
		const struct rule *r;
		enum addr_verdict v = access_address(c, &res->addrs[i], &r);

		if (v == ADDR_ALLOWED) {
			c->addrs->addrs[c->addrs->n++] = res->addrs[i];
		} else if (refused_at < 0) {
			refused_at = i;
			first = v;
			first_rule = r;
		}
	}
	if (c->addrs->n == 0) {
		free(c->addrs);
		c->addrs = NULL;
		return access_refuse_address(c, &res->addrs[refused_at], first, first_rule);
	}
	c->addr_next = 0;
	c->connect_errno = 0;
	c->state = CS_CONNECT;
	return PH_OK;
}

static void dns_done(void *arg, const struct dns_result *res)
{
	struct conn *c = arg;

	c->dnsq = NULL;
	stats_latency(c->w->stats->dns_ms, &c->w->stats->dns_ms_sum, res->elapsed_ms);
	if (res->n == 0 && parent_target(c, NULL, NULL))
		parent_resolve_failed(c, res->error ? res->error : "no address");
	else if (res->n == 0)
		conn_fail(c, 502, "TCP_MISS", "DNS lookup for %s failed: %s.", c->txn.host,
		          res->error ? res->error : "no address");
	else
		addresses_resolved(c, res);
	conn_run(c);
}

static int st_resolve(struct conn *c)
{
	struct dns_result res;
	struct dns_query *q = NULL;
	const char *host = c->txn.host;
	uint16_t port = c->txn.port;
	bool to_parent = parent_target(c, &host, &port);

	if (c->dnsq)
		return PH_AGAIN;
	int r = dns_resolve(c->w->dns, c->cfg->dns, host, port, &res, dns_done, c, &q);

	if (r == PH_AGAIN) {
		c->dnsq = q;
		return PH_AGAIN;
	}
	if ((r == PH_ERROR || res.n == 0) && to_parent)
		return parent_resolve_failed(c, res.error ? res.error : "no address");
	if (r == PH_ERROR || res.n == 0)
		return conn_fail(c, 502, "TCP_MISS", "DNS lookup for %s failed: %s.", c->txn.host,
		                 res.error ? res.error : "no address");
	return addresses_resolved(c, &res);
}

/* Every address failed: 504 if the last one timed out, else 502. */
static int connect_failed(struct conn *c)
{
	free(c->addrs);
	c->addrs = NULL;
	if (parent_target(c, NULL, NULL))
		return parent_connect_failed(c);
	if (c->connect_errno == ETIMEDOUT)
		return conn_fail(c, 504, "TCP_MISS", "Connection to %s port %u timed out after %llu ms.", c->txn.host,
		                 c->txn.port, (unsigned long long)c->cfg->server->timeout_connect_ms);
	return conn_fail(c, 502, "TCP_MISS", "Connection to %s port %u failed: %s.", c->txn.host, c->txn.port,
	                 c->connect_errno == ECONNREFUSED
	                         ? "connection refused"
	                         : strerror(c->connect_errno ? c->connect_errno : EHOSTUNREACH));
}

static int connect_next(struct conn *c)
{
	while (c->addr_next < c->addrs->n) {
		const struct sockaddr_storage *a = &c->addrs->addrs[c->addr_next++];
		socklen_t alen = a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			c->connect_errno = errno;
			continue;
		}
		/* Accepted sockets inherit TCP_NODELAY from their listener;
		 * outgoing ones are told. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (connect(fd, (const struct sockaddr *)a, alen) < 0 && errno != EINPROGRESS) {
			c->connect_errno = errno;
			close(fd);
			continue;
		}
		c->peer = *a;
		c->connecting = true;
		c->connect_start = loop_now(c->w->loop);
		conn_attach_origin(c, fd);
		conn_deadline(c, c->cfg->server->timeout_connect_ms);
		return PH_AGAIN;
	}
	return connect_failed(c);
}

/* The origin is connected: a CONNECT's tunnel opens, a request goes out. */
static int connected(struct conn *c)
{
	c->connecting = false;
	c->has_peer = true;
	c->txn.direct = true;
	stats_latency(c->w->stats->connect_ms, &c->w->stats->connect_ms_sum, loop_now(c->w->loop) - c->connect_start);
	free(c->addrs);
	c->addrs = NULL;
	if (parent_target(c, NULL, NULL)) {
		c->txn.direct = false;
		return parent_connected(c);
	}
	if (c->txn.is_connect)
		return tunnel_start(c);
	c->state = CS_FORWARD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* The connect attempt's outcome, when the origin socket reports. */
static int st_connect(struct conn *c)
{
	if (!c->connecting)
		return connect_next(c);
	if (!c->o.writable && !c->o.readable)
		return PH_AGAIN;
	if (c->o.writable && !c->o.failed)
		return connected(c);
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(c->o.io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err == 0 && c->o.writable)
		return connected(c);
	if (err == 0)
		return PH_AGAIN;
	c->connect_errno = err;
	c->connecting = false;
	side_close(c->w->loop, &c->o);
	/* The next attempt starts after this batch of events, so that no
	 * stale event of the closed socket reaches the new one. */
	loop_defer(c->w->loop, &c->rerun);
	return PH_AGAIN;
}

/* ---- shared by the jobs ---- */

/* Bytes moved in either direction since the last look restart the idle
 * clock: a slow upload or download is activity, a wake-up without bytes is
 * not. */
void conn_note_activity(struct conn *c)
{
	uint64_t moved = c->c.rbytes + c->o.rbytes;

	if (moved != c->moved) {
		c->moved = moved;
		c->last_activity = loop_now(c->w->loop);
	}
}

/* Work is left when a side is still readable and its peer writable:
 * relay_pump yielded to be fair to the other connections. */
void conn_yield(struct conn *c, int r_up, int r_down)
{
	uint64_t wait = PH_MAX(c->up.wait_ms, c->down.wait_ms);

	if (wait && !loop_timer_active(&c->pace))
		loop_timer_start(c->w->loop, &c->pace, wait);
	if ((r_up == PH_AGAIN && c->c.readable && c->o.writable && !c->up.done) ||
	    (r_down == PH_AGAIN && c->o.readable && c->c.writable && !c->down.done))
		loop_defer(c->w->loop, &c->rerun);
}

/* HTTP/1.0, or Connection: close (Proxy-Connection: close from old
 * clients): the connection ends with this answer. */
bool conn_client_wants_close(const struct http_request *req)
{
	return req->version_minor == 0 || http_headers_have_token(req->headers, req->nheaders, "Connection", "close") ||
	       http_headers_have_token(req->headers, req->nheaders, "Proxy-Connection", "close");
}

/* The origin socket goes back to the worker's pool, or is closed.  One
 * that carried connection-based authentication (NTLM, Negotiate) belongs to
 * this client connection for its whole life and is never pooled: another
 * client would be served as the user who authenticated it. */
void conn_origin_release(struct conn *c, bool reusable)
{
	bool pinned = c->origin_pinned;

	c->origin_pinned = false;
	if (c->o.io.fd < 0)
		return;
	if (reusable && !pinned && buf_len(&c->o.in) == 0 && !c->o.eof && c->has_peer && !c->o.ssl) {
		int fd = c->o.io.fd;

		loop_io_stop(c->w->loop, &c->o.io);
		side_release(&c->o);
		pool_put(c->w->pool, c->origin_key, fd, &c->peer);
		c->o.readable = c->o.writable = false;
		return;
	}
	side_close(c->w->loop, &c->o);
}

void conn_attach_origin(struct conn *c, int fd)
{
	side_open(c->w->loop, &c->o, fd, on_origin, c);
	parent_attached(c);
}

/* The state machine */

void conn_run(struct conn *c)
{
	for (int steps = 0; steps < 64; steps++) {
		int r;

		switch (c->state) {
		case CS_PROXY_HEADER:
			r = st_proxy_header(c);
			break;
		case CS_TLS_ACCEPT:
			r = client_tls_step(c);
			break;
		case CS_HEAD:
			r = st_head(c);
			break;
		case CS_AUTH_WAIT:
			r = access_wait_step(c);
			break;
		case CS_CHALLENGE:
			r = access_challenge_step(c);
			break;
		case CS_RESOLVE:
			r = st_resolve(c);
			break;
		case CS_CONNECT:
			r = st_connect(c);
			break;
		case CS_PARENT:
			r = parent_step(c);
			break;
		case CS_TUNNEL:
			r = tunnel_step(c);
			break;
		case CS_TLS_ORIGIN:
			r = inspect_origin_step(c);
			break;
		case CS_TLS_CLIENT:
			r = inspect_client_step(c);
			break;
		case CS_FORWARD:
			r = forward_step(c);
			break;
		case CS_RESPOND:
			r = st_respond(c);
			break;
		case CS_LINGER:
			r = st_linger(c);
			break;
		case CS_LOCAL:
			r = local_step(c);
			break;
		case CS_LOCAL_WS:
			r = local_ws_step(c);
			break;
		case CS_CLOSED:
		default:
			return;
		}
		if (r == PH_AGAIN)
			return;
		if (r == PH_DONE || r == PH_ERROR) {
			conn_close(c);
			return;
		}
	}
	loop_defer(c->w->loop, &c->rerun);
}

static void rerun(struct loop *loop, struct loop_defer *d)
{
	struct conn *c = conn_of_defer_rerun(d);

	if (c->state != CS_CLOSED)
		conn_run(c);
}

static void mark(struct side *s, uint32_t revents)
{
	if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->readable = true;
	if (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		s->writable = true;
	if (revents & (EPOLLERR | EPOLLHUP))
		s->failed = true;
	if (revents & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->rdhup = true; /* read only while connecting: SO_ERROR says why */
}

static void on_client(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct conn *c = io->data;

	mark(&c->c, revents);
	conn_run(c);
}

static void on_origin(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct conn *c = io->data;

	mark(&c->o, revents);
	conn_run(c);
}

static void on_pace(struct loop *loop, struct loop_timer *t)
{
	conn_run(t->data);
}

static void on_timer(struct loop *loop, struct loop_timer *t)
{
	struct conn *c = t->data;
	uint64_t now = loop_now(loop);

	switch (c->state) {
	case CS_HEAD:
	case CS_PROXY_HEADER:
		/* Slow or idle client: no answer is owed. */
		conn_close(c);
		return;
	case CS_TLS_ACCEPT:
		client_tls_timeout(c);
		return;
	case CS_CONNECT:
		if (c->connecting) {
			c->connect_errno = ETIMEDOUT;
			c->connecting = false;
			side_close(loop, &c->o);
			loop_defer(loop, &c->rerun);
			return;
		}
		break;
	case CS_TUNNEL:
		tunnel_timeout(c, now);
		return;
	case CS_FORWARD:
		forward_timeout(c, now);
		return;
	case CS_PARENT:
		parent_timeout(c, now);
		return;
	case CS_RESOLVE:
		if (parent_target(c, NULL, NULL)) {
			if (c->dnsq)
				dns_cancel(c->w->dns, c->dnsq);
			c->dnsq = NULL;
			parent_resolve_failed(c, "timed out");
		} else {
			conn_fail(c, 504, "TCP_MISS", "DNS lookup for %s timed out.", c->txn.host);
		}
		conn_run(c);
		return;
	default:
		break;
	}
	conn_close(c);
}

static void conn_accept(struct worker *w, int fd, const struct sockaddr_storage *addr, enum listener_pp pp,
                        struct config *lcfg, const struct listen_cfg *lc)
{
	struct conn *c = ph_calloc(1, sizeof(*c));

	c->w = w;
	c->client_addr = *addr;
	side_init(&c->c);
	side_init(&c->o);
	c->o.io.cb = on_origin;
	c->o.io.data = c;
	c->timer.cb = on_timer;
	c->timer.data = c;
	c->pace.cb = on_pace;
	c->pace.data = c;
	c->rerun.cb = rerun;
	c->cfg = config_ref(w->cfg);
	c->proxy_protocol = pp == LISTENER_PP_REQUIRED;
	c->pp_untrusted = pp == LISTENER_PP_UNTRUSTED;
	client_tls_accept(c, lcfg, lc);
	c->state = c->proxy_protocol ? CS_PROXY_HEADER : c->client_tls ? CS_TLS_ACCEPT : CS_HEAD;
	engine_conn_add(w, &c->link);
	stats_add(&w->stats->connections_total, 1);
	stats_add(&w->stats->connections_active, 1);
	side_open(c->w->loop, &c->c, fd, on_client, c);
	conn_txn_begin(c);
	conn_deadline(c, c->cfg->server->timeout_header_ms);
	/* With deferred accept the request is usually there already: read it
	 * now rather than after another trip through epoll_wait. */
	c->c.readable = c->c.writable = true;
	conn_run(c);
}

const struct engine_handlers conn_handlers = {
	.accept = conn_accept,
	.abort = conn_abort,
	.close_if_idle = conn_close_if_idle,
};
