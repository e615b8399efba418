/*
 * conn.c - the request path of one client connection, as a state machine
 * (enum conn_state) driven by conn_run(): every step returns PH_OK (state
 * changed, go on), PH_AGAIN (wait for the loop) or PH_ERROR (close).
 * Policy comes from acl.c, names from dns.c, byte moving from relay.c and
 * head rewriting from forward.c; nothing here waits or blocks.
 */
#include "conn.h"
#include "acl.h"
#include "auth.h"
#include "sniff.h"
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include "webrtc.h"
#include "common.h"
#include "config.h"
#include "server.h"
#include "quirks.h"
#include "dns.h"
#include "engine.h"
#include "forward.h"
#include "log.h"
#include "pool.h"
#include "proxyproto.h"
#include "stats.h"

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

#define LINGER_MS 2000

static void conn_run(struct conn *c);
static int handle_inspected(struct conn *c, const struct http_request *req);
static void pinning_failure(struct conn *c, const char *how, int alert);

static struct conn *conn_of_defer_rerun(struct loop_defer *d)
{
	return (struct conn *)((char *)d - offsetof(struct conn, rerun));
}

static struct conn *conn_of_defer_release(struct loop_defer *d)
{
	return (struct conn *)((char *)d - offsetof(struct conn, release));
}

/* Sockets */

static void set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void side_close(struct loop *loop, struct side *s)
{
	int fd = s->io.fd;

	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	loop_io_forget(&s->io);
	if (fd >= 0)
		close(fd);
	side_release(s);
	s->readable = s->writable = s->eof = s->shut_wr = s->failed = s->rdhup = false;
}

static void side_attach(struct conn *c, struct side *s, int fd, loop_io_cb cb)
{
	s->io.cb = cb;
	s->io.data = c;
	s->readable = s->writable = s->eof = s->shut_wr = s->failed = s->rdhup = false;
	loop_io_start(c->w->loop, &s->io, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

/* The origin socket goes back to the worker's pool, or is closed.  One
 * that carried connection-based authentication (NTLM, Negotiate) belongs to
 * this client connection for its whole life and is never pooled: another
 * client would be served as the user who authenticated it. */
static void origin_release(struct conn *c, bool reusable)
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

/* Access log */

/* Copies a string into a report field, cut to fit. */
static void report_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* An event for the WebRTC report, filled with what every kind carries. */
static void report_init(struct conn *c, struct wr_event *ev, enum wr_kind kind)
{
	memset(ev, 0, offsetof(struct wr_event, user));
	ev->kind = (uint8_t)kind;
	ev->wall_ms = ph_wall_ms();
	ev->client = c->client_addr;
	const char *bound = auth_conn_user(c->auth);

	report_copy(ev->user, sizeof(ev->user), c->txn.user[0] ? c->txn.user : bound ? bound : "");
	report_copy(ev->user_agent, sizeof(ev->user_agent), c->txn.ua);
	report_copy(ev->method, sizeof(ev->method), c->txn.method);
	report_copy(ev->host, sizeof(ev->host), c->txn.host);
	ev->port = c->txn.port;
	ev->status = 0;
	ev->scheme[0] = ev->offered[0] = ev->rule[0] = ev->detail[0] = ev->sni[0] = '\0';
}

static void report_publish(struct conn *c, const struct wr_event *ev)
{
	if (c->w->report)
		webrtc_publish(c->w->report, ev);
}

static void report_request(struct conn *c, int status)
{
	struct wr_event ev;

	if (!c->w->report || !c->txn.method[0])
		return;
	report_init(c, &ev, WR_REQUEST);
	ev.wall_ms = c->txn.start_wall;
	ev.status = (uint16_t)(status > 0 ? status : 0);
	if (status == 407)
		auth_config_schemes(c->cfg->auth, ev.offered, sizeof(ev.offered));
	if (status == 403)
		report_copy(ev.rule, sizeof(ev.rule), c->txn.deny_rule);
	report_publish(c, &ev);
}

static void conn_log(struct conn *c, const char *result, int status, const char *error)
{
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
		.hierarchy = c->txn.direct ? "HIER_DIRECT" : "HIER_NONE",
		.peer = c->txn.direct ? &c->peer : NULL,
		.mime = c->txn.mime[0] ? c->txn.mime : NULL,
		.error = error,
	};

	log_access(&e);
	report_request(c, status);
	stats_status(c->w->stats, status);
	if (!c->txn.is_connect && c->txn.direct)
		stats_add(&c->w->stats->requests_total, 1);
}

/* Starts a new transaction on this connection: what the last one owned
 * is let go of, and everything else starts from zero. */
static void txn_begin(struct conn *c)
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
static void frame_start(struct conn *c, struct relay_frame *f, enum relay_kind kind, uint64_t length)
{
	relay_frame_init(f, kind, length);
	if (c->cfg->quirks->throttle_bps)
		relay_frame_throttle(f, c->cfg->quirks->throttle_bps);
}

static uint64_t tunnel_idle_ms(const struct conn *c)
{
	return c->cfg->quirks->idle_cut_ms ? c->cfg->quirks->idle_cut_ms : c->cfg->server->timeout_tunnel_idle_ms;
}

/* Whether a tunnel's client bytes wait until they are classified: the
 * decision to inspect needs the whole ClientHello (its SNI and ALPN), which
 * a large one may bring in a second segment, and strict-tls must see them
 * before any reaches the origin. */
static bool sniff_holds(const struct conn *c)
{
	return c->cfg->quirks->strict_tls || c->cfg->tls->ctx || c->cfg->tls->sni_mismatch_deny;
}

/* Lifecycle */

static void conn_free(struct loop *loop, struct loop_defer *d)
{
	struct conn *c = conn_of_defer_release(d);

	free(c->txn.url);
	free(c->txn.error);
	free(c->addrs);
	free(c->tls);
	free(c);
}

static void conn_close(struct conn *c)
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
		origin_release(c, true);
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
static void conn_deadline(struct conn *c, uint64_t ms)
{
	if (ms)
		loop_timer_start(c->w->loop, &c->timer, ms);
	else
		loop_timer_stop(c->w->loop, &c->timer);
}

/* pinhole's own answers */

/* Answers with status and a one-line text/plain body naming the cause,
 * logs it, and closes the connection once the answer is sent. */
static int conn_fail(struct conn *c, int status, const char *result, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int conn_fail(struct conn *c, int status, const char *result, const char *fmt, ...)
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
	origin_release(c, false);
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
	shutdown(c->c.io.fd, SHUT_WR);
	c->c.shut_wr = true;
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
		if (r == PH_ERROR || c->c.eof)
			return PH_ERROR;
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
			c->state = CS_HEAD;
			txn_begin(c);
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

/* Request heads and policy */

static void subject_ip(struct sockaddr_storage *ss, const struct http_authority *a)
{
	memset(ss, 0, sizeof(*ss));
	if (a->is_ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		inet_pton(AF_INET6, a->host, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		inet_pton(AF_INET, a->host, &s4->sin_addr);
	}
}

/* The proxy host itself: loopback, link-local, unspecified, or one of its
 * own listeners (Squid's to_localhost, Smokescreen's private ranges). */
static bool dest_is_local(const struct conn *c, const struct sockaddr_storage *addr)
{
	return acl_addr_is_local(addr) || config_is_own_listener(c->cfg, addr);
}

/* What policy sees of this request. */
static void subject_init(struct conn *c, const struct http_authority *a, struct acl_subject *s,
                         struct sockaddr_storage *dst)
{
	*s = (struct acl_subject){
		.host = a->host,
		.port = a->port,
		.dst_ip = NULL,
		.src = &c->client_addr,
		.method = c->txn.method,
		.user = c->txn.user[0] ? c->txn.user : NULL,
	};
	if (a->is_ip) {
		subject_ip(dst, a);
		s->dst_ip = dst;
		s->dst_local = dest_is_local(c, dst);
	}
}

/* Answers 407 with the challenges.  The connection stays open for the next
 * leg of a handshake (NTLM and Negotiate need the same connection) unless
 * the client asked to close or quirk close-after-407 reproduces the proxies
 * that break them; the request body is read and dropped first. */
static void challenge(struct conn *c, struct auth_result *res, const struct relay_frame *body)
{
	bool close = !c->keepalive || c->cfg->quirks->close_after_407;
	const char *text = res->status == AUTH_DENIED ? "Proxy authentication required: the credentials were refused.\n"
	                                              : "Proxy authentication required.\n";

	buf_release(&c->c.out);
	buf_printf(&c->c.out, "HTTP/1.1 407 Proxy Authentication Required\r\n");
	if (buf_len(&res->headers))
		buf_append(&c->c.out, buf_data(&res->headers), buf_len(&res->headers));
	buf_printf(&c->c.out, "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n%s",
	           strlen(text), close ? "Connection: close\r\n" : "", text);
	c->txn.status = 407;
	c->keepalive = !close;
	stats_add(&c->w->stats->denials[STATS_DENY_AUTH], 1);
	snprintf(c->txn.mime, sizeof(c->txn.mime), "text/plain");
	snprintf(c->txn.result, sizeof(c->txn.result), "TCP_DENIED");
	free(c->txn.error);
	c->txn.error = res->reason[0] ? ph_strdup(res->reason) : NULL;
	c->txn.pending_log = true;
	c->up = *body;
	c->state = close ? CS_RESPOND : CS_CHALLENGE;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
}

static int st_challenge(struct conn *c)
{
	const char *why = NULL;
	int r = side_flush(&c->c);

	if (r != PH_OK)
		return r;
	r = relay_discard(&c->c, &c->up, &why);
	if (r == PH_AGAIN)
		return PH_AGAIN;
	if (c->txn.pending_log) {
		c->txn.pending_log = false;
		conn_log(c, c->txn.result, c->txn.status, r == PH_OK ? c->txn.error : why);
	}
	if (r != PH_OK)
		return PH_ERROR;
	c->state = CS_HEAD;
	txn_begin(c);
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* An auth helper answered: the request that waited runs again. */
static void auth_wake(void *arg)
{
	struct conn *c = arg;

	c->auth_woken = true;
	loop_defer(c->w->loop, &c->rerun);
}

static int st_auth_wait(struct conn *c)
{
	if (!c->auth_woken)
		return PH_AGAIN;
	c->auth_woken = false;
	c->auth_resumed = true;
	c->state = CS_HEAD;
	return PH_OK;
}

enum auth_outcome {
	AUTH_GO,   /* the request goes on (authenticated, or exempt by noauth) */
	AUTH_STOP, /* a 407 or 502 is queued */
	AUTH_WAIT, /* a helper is asked; the head stays unread until it answers */
};

/* Proxy authentication.  body is the request body's framing, dropped after
 * a 407. */
static enum auth_outcome authenticate(struct conn *c, const struct http_request *req, const struct http_authority *a,
                                      const struct relay_frame *body)
{
	const struct config *cfg = c->cfg;

	if (!auth_config_enabled(cfg->auth))
		return AUTH_GO;
	if (!cfg->quirks->auth_everything && cfg->acl->noauth.n) {
		struct acl_subject s;
		struct sockaddr_storage dst;

		subject_init(c, a, &s, &dst);
		if (acl_check(cfg->acl->noauth.r, cfg->acl->noauth.n, &s))
			return AUTH_GO;
	}
	const struct http_header *h = http_find_header(req->headers, req->nheaders, "Proxy-Authorization");
	struct auth_request ar = {
		.method = c->txn.method,
		.uri = req->target,
		.uri_len = req->target_len,
		.authorization = h ? h->value : NULL,
		.authorization_len = h ? h->value_len : 0,
		.now_ms = ph_wall_ms(),
		.worker = c->w->auth,
		.wake = auth_wake,
		.wake_arg = c,
	};
	struct auth_result res;

	if (!c->auth)
		c->auth = auth_conn_new();
	enum auth_status st = auth_check(cfg->auth, c->auth, &ar, &res);
	int scheme = stats_scheme_index(res.scheme);

	if (scheme >= 0 && st != AUTH_PENDING)
		stats_add(&c->w->stats->auth[scheme][st], 1);
	switch (st) {
	case AUTH_PENDING:
		buf_release(&res.headers);
		c->auth_woken = false;
		c->state = CS_AUTH_WAIT;
		return AUTH_WAIT;
	case AUTH_OK:
		snprintf(c->txn.user, sizeof(c->txn.user), "%s", res.user);
		if (c->w->report && res.scheme) {
			struct wr_event ev;

			report_init(c, &ev, WR_AUTH_OK);
			report_copy(ev.scheme, sizeof(ev.scheme), res.scheme);
			report_publish(c, &ev);
		}
		/* Negotiate's mutual-authentication token rides on the answer. */
		buf_release(&c->txn.auth_extra);
		c->txn.auth_extra = res.headers;
		return AUTH_GO;
	case AUTH_CHALLENGE:
	case AUTH_DENIED:
		if (res.wrong_spn[0] && c->w->report) {
			struct wr_event ev;

			report_init(c, &ev, WR_NEGOTIATE_WRONG_SPN);
			report_copy(ev.detail, sizeof(ev.detail), res.wrong_spn);
			report_publish(c, &ev);
		}
		if (res.status == AUTH_DENIED && log_enabled(LOG_LEVEL_INFO)) {
			char addr[64];

			log_info("%s: %s authentication refused: %s", ph_addr_str(&c->client_addr, addr, sizeof(addr)),
			         res.scheme ? res.scheme : "proxy", res.reason);
		}
		challenge(c, &res, body);
		buf_release(&res.headers);
		return AUTH_STOP;
	case AUTH_BROKEN:
		/* The cause (a keytab's path, a helper's words) is for the
		 * admin, not for every client: it goes to the error log. */
		buf_release(&res.headers);
		log_error("%s authentication is broken: %s", res.scheme ? res.scheme : "proxy", res.reason);
		conn_fail(c, 502, "TCP_DENIED",
		          "Proxy authentication (%s) is broken on the proxy's side; its error log says why.",
		          res.scheme ? res.scheme : "proxy");
		return AUTH_STOP;
	}
	return AUTH_STOP;
}

/* Queues the 403 of a refused request: the deny rule r (its file:line and
 * text), or no rule at all; where is the destination as the client named
 * it, with the address it resolved to when that decided. */
static void refuse(struct conn *c, const struct rule *r, const char *where)
{
	stats_add(&c->w->stats->denials[r ? STATS_DENY_RULE : STATS_DENY_NO_RULE], 1);
	if (r) {
		snprintf(c->txn.deny_rule, sizeof(c->txn.deny_rule), "%s:%d", r->file, r->line);
		conn_fail(c, 403, "TCP_DENIED", "Access denied by rule %s:%d (%s)%s%s.", r->file, r->line,
		          r->text ? r->text : "deny", where[0] ? ": " : "", where);
	} else {
		conn_fail(c, 403, "TCP_DENIED",
		          "Access denied: no rule allows %s to %s port %u (add an allow rule to the configuration).",
		          c->txn.method, where, c->txn.port);
	}
}

/* Access rules before the destination's address is known: true when the
 * request may go on (allowed, or the rules need the address: checked again
 * by address_allowed); otherwise the 403 answer is queued. */
static bool allowed(struct conn *c, const struct http_authority *a)
{
	struct sockaddr_storage dst;
	struct acl_subject s;
	const struct rule *r;

	subject_init(c, a, &s, &dst);
	switch (acl_decide(c->cfg->acl->rules.r, c->cfg->acl->rules.n, &s, &r)) {
	case ACL_NEEDS_ADDRESS:
		return true;
	case ACL_MATCH:
		if (r->action == RULE_ALLOW)
			return true;
		refuse(c, r, "");
		return false;
	case ACL_NO_MATCH:
		break;
	}
	refuse(c, NULL, a->host);
	return false;
}

/* What address_allowed found. */
enum addr_verdict {
	ADDR_ALLOWED,
	ADDR_DENIED, /* by a deny rule */
	ADDR_NO_RULE,
	ADDR_LOCAL, /* the proxy host itself, and no rule names it */
};

/* The rules again with the address the request is about to reach, so that
 * IP patterns match names by what they resolve to; and the proxy host's
 * own addresses only when the allowing rule names them (dst-local, an
 * address pattern) or the name is mapped by the admin's hosts-file.  *rule
 * is the rule that denied. */
static enum addr_verdict address_allowed(struct conn *c, const struct sockaddr_storage *addr, const struct rule **rule)
{
	struct http_authority a = { .port = c->txn.port };
	struct in6_addr ip;
	struct acl_subject s;
	struct sockaddr_storage dst;
	const struct rule *r;

	snprintf(a.host, sizeof(a.host), "%s", c->txn.host);
	a.is_ipv6 = inet_pton(AF_INET6, a.host, &ip) == 1;
	a.is_ip = a.is_ipv6 || inet_pton(AF_INET, a.host, &ip) == 1;
	subject_init(c, &a, &s, &dst);
	s.dst_ip = addr;
	s.resolved = !a.is_ip;
	s.dst_local = dest_is_local(c, addr);
	*rule = NULL;
	if (acl_decide(c->cfg->acl->rules.r, c->cfg->acl->rules.n, &s, &r) != ACL_MATCH)
		return ADDR_NO_RULE;
	if (r->action != RULE_ALLOW) {
		*rule = r;
		return ADDR_DENIED;
	}
	if (s.dst_local && !acl_rule_names_address(r, &s) && !hosts_lookup(&c->cfg->dns->hosts, c->txn.host))
		return ADDR_LOCAL;
	return ADDR_ALLOWED;
}

/* Queues the 403 for a destination address_allowed refused. */
static int refuse_address(struct conn *c, const struct sockaddr_storage *addr, enum addr_verdict v,
                          const struct rule *rule)
{
	char ip[64], where[HTTP_HOST_MAX + 96];
	bool named_by_ip = strcmp(ph_addr_str(addr, ip, sizeof(ip)), c->txn.host) == 0;

	if (named_by_ip)
		snprintf(where, sizeof(where), "%s", c->txn.host);
	else if (v == ADDR_NO_RULE)
		snprintf(where, sizeof(where), "%s (%s)", c->txn.host, ip);
	else
		snprintf(where, sizeof(where), "%s resolves to %s", c->txn.host, ip);
	if (v == ADDR_LOCAL) {
		stats_add(&c->w->stats->denials[STATS_DENY_RULE], 1);
		return conn_fail(c, 403, "TCP_DENIED",
		                 "Access denied: %s, an address of the proxy host itself; a rule must name it to allow "
		                 "it (allow dst-local ..., or allow domain %s).",
		                 where, ip);
	}
	refuse(c, rule, where);
	return PH_OK;
}

static void url_set_authority(struct conn *c, const struct http_authority *a)
{
	size_t len = strlen(a->host) + 16;

	free(c->txn.url);
	c->txn.url = ph_malloc(len);
	snprintf(c->txn.url, len, a->is_ipv6 ? "[%s]:%u" : "%s:%u", a->host, a->port);
	snprintf(c->txn.host, sizeof(c->txn.host), "%s", a->host);
	c->txn.port = a->port;
	snprintf(c->origin_key, sizeof(c->origin_key), "%s", c->txn.url);
}

/* HTTP/1.0, or Connection: close (Proxy-Connection: close from old
 * clients): the connection ends with this answer. */
static bool client_wants_close(const struct http_request *req)
{
	return req->version_minor == 0 || http_headers_have_token(req->headers, req->nheaders, "Connection", "close") ||
	       http_headers_have_token(req->headers, req->nheaders, "Proxy-Connection", "close");
}

static int handle_connect(struct conn *c, const struct http_request *req)
{
	struct http_authority a;
	const char *why = NULL;

	c->txn.is_connect = true;
	if (client_wants_close(req))
		c->keepalive = false;
	if (http_parse_authority(req->target, req->target_len, true, &a, &why) < 0) {
		c->txn.url = ph_strndup(req->target, req->target_len);
		return conn_fail(c, 400, "NONE_NONE", "Bad CONNECT target: %s (expected host:port).", why);
	}
	url_set_authority(c, &a);
	struct relay_frame none;

	relay_frame_init(&none, RELAY_LENGTH, 0);
	enum auth_outcome ao = authenticate(c, req, &a, &none);

	if (ao == AUTH_WAIT)
		return PH_AGAIN;
	buf_consume(&c->c.in, req->head_len);
	if (ao != AUTH_GO || !allowed(c, &a))
		return PH_OK;
	c->state = CS_RESOLVE;
	return PH_OK;
}

static void on_origin(struct loop *loop, struct loop_io *io, uint32_t revents);

/* A kept origin connection can carry the next request: nothing arrived on
 * it since its last answer was read to the end (a close or stray bytes
 * would have been signalled), or a peek says so. */
static bool origin_usable(const struct side *o)
{
	if (!o->readable && !o->rdhup)
		return true;
	return !o->rdhup && pool_fd_alive(o->io.fd);
}

static int handle_forward(struct conn *c, const struct http_request *req)
{
	struct http_uri uri;
	struct http_framing fr;
	const char *why = NULL;

	if (c->inspecting)
		return handle_inspected(c, req);

	c->txn.url = ph_strndup(req->target, req->target_len);
	if (req->target_len == 0 || req->target[0] == '/' || req->target[0] == '*')
		return conn_fail(c, 400, "NONE_NONE",
		                 "This is a proxy: send absolute-form requests (GET http://host/path), "
		                 "or configure pinhole as your HTTP proxy.");
	if (http_parse_absolute_uri(req->target, req->target_len, &uri, &why) < 0)
		return conn_fail(c, 400, "NONE_NONE", "Bad request target: %s.", why);
	if (uri.authority.port == 0)
		uri.authority.port = 80;
	int r = http_request_framing(req, &fr, &why);

	if (r < 0)
		return conn_fail(c, -r, "NONE_NONE", "Refused: %s.", why);
	c->txn.head_request = strcmp(c->txn.method, "HEAD") == 0;
	c->txn.upgrade = forward_wants_upgrade(req) && !c->cfg->quirks->no_websocket;
	if (forward_wants_upgrade(req) && c->cfg->quirks->no_websocket && c->w->report) {
		struct wr_event ev;

		snprintf(c->txn.host, sizeof(c->txn.host), "%s", uri.authority.host);
		report_init(c, &ev, WR_UPGRADE_REFUSED);
		ev.port = uri.authority.port;
		report_publish(c, &ev);
	}
	if (client_wants_close(req))
		c->keepalive = false;

	char key[sizeof(c->origin_key)];
	bool same_origin;

	snprintf(key, sizeof(key), uri.authority.is_ipv6 ? "[%s]:%u" : "%s:%u", uri.authority.host, uri.authority.port);
	same_origin = c->o.io.fd >= 0 && strcmp(key, c->origin_key) == 0;
	snprintf(c->txn.host, sizeof(c->txn.host), "%s", uri.authority.host);
	c->txn.port = uri.authority.port;
	struct relay_frame body;

	relay_frame_init(&body, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	                 fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	switch (authenticate(c, req, &uri.authority, &body)) {
	case AUTH_WAIT:
		return PH_AGAIN;
	case AUTH_STOP:
		buf_consume(&c->c.in, req->head_len);
		return PH_OK;
	case AUTH_GO:
		break;
	}
	if (!allowed(c, &uri.authority))
		return PH_OK;

	/* An origin connection kept from the previous request, or one from
	 * the pool, saves a lookup and a handshake. */
	if (c->o.io.fd >= 0 && !(same_origin && origin_usable(&c->o)))
		origin_release(c, !same_origin && c->origin_reusable);
	c->origin_idle = false;
	buf_release(&c->o.out);
	buf_release(&c->o.in);
	buf_release(&c->retry_head);
	forward_request_head(&c->o.out, req, &uri, c->txn.upgrade);
	buf_consume(&c->c.in, req->head_len);
	frame_start(c, &c->up, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	            fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	if (c->o.io.fd < 0) {
		int fd = pool_get(c->w->pool, key, &c->peer);

		if (fd >= 0) {
			side_attach(c, &c->o, fd, on_origin);
			c->o.readable = c->o.writable = true;
			c->has_peer = true;
		}
	}
	snprintf(c->origin_key, sizeof(c->origin_key), "%s", key);
	if (c->o.io.fd >= 0) {
		/* A kept or pooled connection: its address meets the rules
		 * as a new one's would. */
		const struct rule *rule;
		enum addr_verdict v = address_allowed(c, &c->peer, &rule);

		if (v != ADDR_ALLOWED) {
			struct sockaddr_storage peer = c->peer;

			origin_release(c, c->origin_reusable);
			buf_release(&c->o.out);
			return refuse_address(c, &peer, v, rule);
		}
	}
	if (http_auth_connection_based(req->headers, req->nheaders, "Authorization"))
		c->origin_pinned = true;
	c->reused_origin = c->o.io.fd >= 0;
	c->txn.direct = c->reused_origin;
	if (c->reused_origin) {
		/* A kept connection may have been closed by the origin a moment
		 * ago: keep the head to retry once on a new connection. */
		if (c->up.done)
			buf_append(&c->retry_head, buf_data(&c->o.out), buf_len(&c->o.out));
		c->state = CS_FORWARD;
		conn_deadline(c, c->cfg->server->timeout_idle_ms);
		return PH_OK;
	}
	c->has_peer = false;
	c->state = CS_RESOLVE;
	return PH_OK;
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

		if (len) {
			struct http_request req;
			const char *why = NULL;
			int n = http_parse_request(buf_data(&c->c.in), len, c->cfg->server->max_header_size, &req,
			                           &why);

			if (n > 0 && c->w->cfg->quirks->delay_ms && !c->delayed && !c->auth_resumed) {
				/* quirk delay: answer every request late. */
				c->delayed = true;
				loop_timer_start(c->w->loop, &c->pace, c->w->cfg->quirks->delay_ms);
				return PH_AGAIN;
			}
			if (n > 0 && c->delayed && loop_timer_active(&c->pace))
				return PH_AGAIN;
			if (n > 0) {
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
				txn_begin(c);
				if (req.method_len >= sizeof(c->txn.method)) {
					/* Rules and logs keep this much of a method:
					 * a longer one would be forwarded in full
					 * while the rules matched a truncation. */
					c->txn.url = ph_strndup(req.target, req.target_len);
					return conn_fail(c, 501, "NONE_NONE",
					                 "The request method is longer than %zu characters.",
					                 sizeof(c->txn.method) - 1);
				}
				if (http_request_check_host(&req, &why) < 0)
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
				if (req.method_len == 7 && memcmp(req.method, "CONNECT", 7) == 0 && !c->inspecting)
					return handle_connect(c, &req);
				return handle_forward(c, &req);
			}
			if (n < 0 && c->pp_untrusted && proxyproto_looks_like(buf_data(&c->c.in), len)) {
				char a[64];

				txn_begin(c);
				return conn_fail(c, 400, "NONE_NONE",
				                 "A PROXY protocol header from %s, which is not in the listener's "
				                 "proxy-protocol from list.",
				                 ph_addr_str(&c->client_addr, a, sizeof(a)));
			}
			if (n < 0) {
				txn_begin(c);
				return conn_fail(c, -n, "NONE_NONE", "%s%s", why,
				                 -n == 431 ? " (raise max-header-size if this request is legitimate)"
				                           : "");
			}
		}
		if (c->c.eof) {
			if (c->inspecting && c->inspected_requests == 0 && len == 0)
				pinning_failure(c, "closed the connection right after the handshake, without a request",
				                -1);
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
 * them; none allowed answers 403 for the first. */
static int addresses_resolved(struct conn *c, const struct dns_result *res)
{
	const struct rule *first_rule = NULL;
	enum addr_verdict first = ADDR_ALLOWED;
	int refused_at = -1;

	free(c->addrs);
	c->addrs = ph_calloc(1, sizeof(*c->addrs));
	for (int i = 0; i < res->n; i++) {
		const struct rule *r;
		enum addr_verdict v = address_allowed(c, &res->addrs[i], &r);

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
		return refuse_address(c, &res->addrs[refused_at], first, first_rule);
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
	if (res->n == 0)
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

	if (c->dnsq)
		return PH_AGAIN;
	int r = dns_resolve(c->w->dns, c->cfg->dns, c->txn.host, c->txn.port, &res, dns_done, c, &q);

	if (r == PH_AGAIN) {
		c->dnsq = q;
		return PH_AGAIN;
	}
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
		set_nodelay(fd);
		if (connect(fd, (const struct sockaddr *)a, alen) < 0 && errno != EINPROGRESS) {
			c->connect_errno = errno;
			close(fd);
			continue;
		}
		c->peer = *a;
		c->connecting = true;
		c->connect_start = loop_now(c->w->loop);
		side_attach(c, &c->o, fd, on_origin);
		conn_deadline(c, c->cfg->server->timeout_connect_ms);
		return PH_AGAIN;
	}
	return connect_failed(c);
}

static int connected(struct conn *c)
{
	c->connecting = false;
	c->has_peer = true;
	c->txn.direct = true;
	stats_latency(c->w->stats->connect_ms, &c->w->stats->connect_ms_sum, loop_now(c->w->loop) - c->connect_start);
	free(c->addrs);
	c->addrs = NULL;
	if (c->txn.is_connect) {
		buf_printf(&c->c.out, "HTTP/1.%d 200 Connection established\r\n",
		           c->cfg->quirks->http10_connect ? 0 : 1);
		if (buf_len(&c->txn.auth_extra))
			buf_append(&c->c.out, buf_data(&c->txn.auth_extra), buf_len(&c->txn.auth_extra));
		buf_append(&c->c.out, "\r\n", 2);
		c->txn.status = 200;
		c->txn.response_started = true;
		c->counted_tunnel = true;
		stats_add(&c->w->stats->tunnels_total, 1);
		stats_add(&c->w->stats->tunnels_active, 1);
		frame_start(c, &c->up, RELAY_STREAM, 0);
		frame_start(c, &c->down, RELAY_STREAM, 0);
		c->state = CS_TUNNEL;
		c->last_activity = loop_now(c->w->loop);
		/* A ClientHello pinhole waits for must come within the time
		 * any request head gets. */
		conn_deadline(c, sniff_holds(c) ? c->cfg->server->timeout_header_ms : tunnel_idle_ms(c));
		return PH_OK;
	}
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

/* Tunnels */
/* Bytes moved in either direction since the last look restart the idle
 * clock: a slow upload or download is activity, a wake-up without bytes is
 * not. */
static void note_activity(struct conn *c)
{
	uint64_t moved = c->c.rbytes + c->o.rbytes;

	if (moved != c->moved) {
		c->moved = moved;
		c->last_activity = loop_now(c->w->loop);
	}
}

/* Work is left when a side is still readable and its peer writable:
 * relay_pump yielded to be fair to the other connections. */
static void maybe_yield(struct conn *c, int r_up, int r_down)
{
	uint64_t wait = PH_MAX(c->up.wait_ms, c->down.wait_ms);

	if (wait && !loop_timer_active(&c->pace))
		loop_timer_start(c->w->loop, &c->pace, wait);
	if ((r_up == PH_AGAIN && c->c.readable && c->o.writable && !c->up.done) ||
	    (r_down == PH_AGAIN && c->o.readable && c->c.writable && !c->down.done))
		loop_defer(c->w->loop, &c->rerun);
}

/* ---- TLS inspection ---- */

#define PH_STATE 2 /* a step changed the connection's state: run the new one */
_Static_assert(TLS_NDECISIONS <= sizeof(((struct stats *)0)->inspect) / sizeof(((struct stats *)0)->inspect[0]),
               "one counter per TLS decision");

/* The CONNECT's target as policy sees it; s points into a, which must
 * outlive s. */
static void inspect_subject(struct conn *c, struct http_authority *a, struct acl_subject *s,
                            struct sockaddr_storage *dst)
{
	struct in6_addr ip;

	memset(a, 0, sizeof(*a));
	a->port = c->txn.port;
	snprintf(a->host, sizeof(a->host), "%s", c->txn.host);
	a->is_ipv6 = inet_pton(AF_INET6, a->host, &ip) == 1;
	a->is_ip = a->is_ipv6 || inet_pton(AF_INET, a->host, &ip) == 1;
	subject_init(c, a, s, dst);
}

/* Splice or inspect this TLS tunnel; PH_STATE when the origin handshake
 * starts. */
static int inspect_decide(struct conn *c, enum sniff_kind kind, const struct sniff_result *sr, bool pipelined,
                          bool mismatch)
{
	struct http_authority a;
	struct acl_subject s;
	struct sockaddr_storage dst;
	enum tls_decision d;

	inspect_subject(c, &a, &s, &dst);
	if (kind != SNIFF_TLS)
		d = TLS_SPLICE_NOT_TLS;
	else if (pipelined)
		d = TLS_SPLICE_PIPELINED;
	else
		d = tls_decide(c->cfg->tls, c->cfg->quirks->inspect_all, &s, sr->sni, sr->alpn);
	stats_add(&c->w->stats->inspect[d], 1);
	if (d != TLS_INSPECT) {
		if (d != TLS_SPLICE_NOT_TLS)
			snprintf(c->txn.mime, sizeof(c->txn.mime), "tls-spliced-%s", tls_decision_name(d));
		return PH_OK;
	}
	if (!c->tls)
		c->tls = ph_calloc(1, sizeof(*c->tls));
	snprintf(c->tls->sni, sizeof(c->tls->sni), "%s", sr->sni[0] ? sr->sni : c->txn.host);
	snprintf(c->tls->host, sizeof(c->tls->host), "%s", c->txn.host);
	c->tls->port = c->txn.port;
	c->o.ssl = tls_origin_new(c->cfg->tls, c->o.io.fd, c->tls->sni, !sr->alpn[0] || strstr(sr->alpn, "http/1.1"));
	if (!c->o.ssl) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, "OpenSSL cannot start a TLS session with the origin");
		return PH_ERROR;
	}
	snprintf(c->txn.mime, sizeof(c->txn.mime), mismatch ? "tls-inspected-sni-mismatch" : "tls-inspected");
	c->state = CS_TLS_ORIGIN;
	conn_deadline(c, c->cfg->server->timeout_connect_ms);
	return PH_STATE;
}

/* Why a TLS call failed, for the log. */
static const char *ssl_why(SSL *ssl, int r, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e) {
		ERR_error_string_n(e, buf, len);
		ERR_clear_error();
		return buf;
	}
	if (SSL_get_error(ssl, r) == SSL_ERROR_SYSCALL)
		return r == 0 ? "the peer closed the connection" : strerror(errno);
	return "TLS error";
}

static int st_tls_origin(struct conn *c)
{
	char buf[256], err[256];
	int r = SSL_do_handshake(c->o.ssl);

	if (r != 1) {
		int e = SSL_get_error(c->o.ssl, r);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return PH_AGAIN;
		snprintf(err, sizeof(err), "TLS handshake with the origin failed: %s",
		         ssl_why(c->o.ssl, r, buf, sizeof(buf)));
		log_warn("inspection of %s: %s", c->tls->sni, err);
		conn_log(c, "TCP_TUNNEL", c->txn.status, err);
		return PH_ERROR;
	}
	const char *bad = tls_origin_verify_error(c->o.ssl);

	if (bad) {
		/* Not hidden behind a certificate pinhole vouches for: the
		 * client gets a fatal alert, the log says why. */
		snprintf(err, sizeof(err), "the origin's certificate failed verification: %s", bad);
		log_warn("inspection of %s:%u: %s", c->tls->sni, c->tls->port, err);
		free(c->txn.error);
		c->txn.error = ph_strdup(err);
		c->tls_refusing = true;
		snprintf(c->txn.mime, sizeof(c->txn.mime), "tls-refused");
		c->c.ssl = tls_client_refuse(c->cfg->tls, c->c.io.fd);
	} else {
		c->c.ssl = tls_client_new(c->cfg->tls, c->c.io.fd, SSL_get0_peer_certificate(c->o.ssl), c->tls->sni,
		                          err, sizeof(err));
		if (!c->c.ssl)
			log_error("inspection of %s: %s", c->tls->sni, err);
	}
	if (!c->c.ssl) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, "cannot start the TLS session with the client");
		return PH_ERROR;
	}
	c->c.readable = c->c.writable = true;
	c->state = CS_TLS_CLIENT;
	return PH_OK;
}

/* The client refused the minted certificate (or left before using it):
 * what clients that pin their servers' keys do. */
static void pinning_failure(struct conn *c, const char *how, int alert)
{
	char err[256];

	stats_add(&c->w->stats->pinning_failures, 1);
	/* Only a certificate alert is evidence of pinning: a reset, a
	 * timeout or a plain close can be anything, or anyone's doing. */
	if (tls_alert_is_certificate(alert))
		tls_pinning_evidence(c->cfg->tls, c->tls->sni, &c->client_addr);
	else
		log_info("pinning: a client left the minted certificate for %s (%s): not counted as evidence",
		         c->tls->sni, how);
	if (!c->txn.method[0]) {
		/* After the handshake the tunnel's own line was written: this
		 * one names the tunnel again, with the failure. */
		size_t len = strlen(c->tls->host) + 16;

		snprintf(c->txn.method, sizeof(c->txn.method), "CONNECT");
		free(c->txn.url);
		c->txn.url = ph_malloc(len);
		snprintf(c->txn.url, len, "%s:%u", c->tls->host, c->tls->port);
		c->txn.status = 200;
		c->txn.direct = true;
		snprintf(c->txn.mime, sizeof(c->txn.mime), "tls-inspected");
	}
	snprintf(err, sizeof(err), "pinning failure: the client %.100s with the minted certificate for %.80s", how,
	         c->tls->sni);
	if (c->w->report) {
		struct wr_event ev;

		report_init(c, &ev, WR_PINNING_FAILURE);
		report_copy(ev.detail, sizeof(ev.detail), how);
		report_copy(ev.sni, sizeof(ev.sni), c->tls->sni);
		report_publish(c, &ev);
	}
	conn_log(c, "TCP_TUNNEL", c->txn.status, err);
}

static int st_tls_client(struct conn *c)
{
	char buf[256], how[160];
	int r = SSL_do_handshake(c->c.ssl);

	if (r != 1) {
		int e = SSL_get_error(c->c.ssl, r);
		int alert = tls_client_alert(c->c.ssl);

		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return PH_AGAIN;
		if (c->tls_refusing) {
			conn_log(c, "TCP_TUNNEL", c->txn.status, c->txn.error);
			return PH_ERROR;
		}
		if (alert >= 0)
			snprintf(how, sizeof(how), "sent the alert \"%s\"", SSL_alert_desc_string_long(alert));
		else
			snprintf(how, sizeof(how), "closed the handshake (%s)", ssl_why(c->c.ssl, r, buf, sizeof(buf)));
		pinning_failure(c, how, alert);
		return PH_ERROR;
	}
	/* The tunnel is logged once as inspected; each request inside it
	 * gets its own line with its https:// URL. */
	conn_log(c, "TCP_TUNNEL", c->txn.status, NULL);
	if (c->w->report) {
		struct wr_event ev;

		report_init(c, &ev, WR_INSPECTED);
		report_copy(ev.sni, sizeof(ev.sni), c->tls->sni);
		report_publish(c, &ev);
	}
	snprintf(c->tls->user, sizeof(c->tls->user), "%s", c->txn.user);
	c->inspecting = true;
	c->inspected_requests = 0;
	c->keepalive = true;
	c->state = CS_HEAD;
	txn_begin(c);
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* A request inside an inspected session: origin-form, to the CONNECT's
 * origin, over the origin TLS session this connection holds. */
static int handle_inspected(struct conn *c, const struct http_request *req)
{
	struct http_framing fr;
	struct http_uri uri = { 0 };
	const char *why = NULL;
	size_t len;

	c->inspected_requests++;
	snprintf(c->txn.user, sizeof(c->txn.user), "%s", c->tls->user);
	snprintf(c->txn.host, sizeof(c->txn.host), "%s", c->tls->host);
	c->txn.port = c->tls->port;
	len = strlen(c->tls->host) + req->target_len + 24;
	c->txn.url = ph_malloc(len);
	if (c->tls->port == 443)
		snprintf(c->txn.url, len, "https://%s%.*s", c->tls->host, (int)req->target_len, req->target);
	else
		snprintf(c->txn.url, len, "https://%s:%u%.*s", c->tls->host, c->tls->port, (int)req->target_len,
		         req->target);
	if (req->target_len == 0 || req->target[0] != '/')
		return conn_fail(c, 400, "NONE_NONE",
		                 "Inside an inspected TLS session requests name a path (GET /path), not a URL.");
	int r = http_request_framing(req, &fr, &why);

	if (r < 0)
		return conn_fail(c, -r, "NONE_NONE", "Refused: %s.", why);
	c->txn.head_request = strcmp(c->txn.method, "HEAD") == 0;
	c->txn.upgrade = forward_wants_upgrade(req) && !c->cfg->quirks->no_websocket;
	if (client_wants_close(req))
		c->keepalive = false;
	snprintf(uri.authority.host, sizeof(uri.authority.host), "%s", c->tls->host);
	uri.authority.port = c->tls->port;
	uri.path = req->target;
	uri.path_len = req->target_len;
	/* URL-level rules: the same allow/deny, now per request, with the
	 * address the tunnel reached. */
	if (!allowed(c, &uri.authority))
		return PH_OK;
	const struct rule *rule;
	enum addr_verdict v = address_allowed(c, &c->peer, &rule);

	if (v != ADDR_ALLOWED)
		return refuse_address(c, &c->peer, v, rule);
	/* What the origin sent since its last answer: TLS 1.3 session
	 * tickets are taken in by OpenSSL; anything else is out of step. */
	if (c->o.io.fd >= 0 && c->o.readable && side_read(&c->o, BUF_SIZE) == PH_ERROR)
		c->o.eof = true;
	if (c->o.io.fd < 0 || c->o.eof)
		return conn_fail(c, 502, "TCP_MISS", "The origin %s closed the inspected TLS session.", c->tls->host);
	if (buf_len(&c->o.in) || SSL_pending(c->o.ssl) > 0)
		/* Bytes nobody asked for would be read as the answer to
		 * this request: the session is out of step. */
		return conn_fail(c, 502, "TCP_MISS",
		                 "The origin %s sent bytes between requests in the inspected TLS session.",
		                 c->tls->host);
	c->origin_idle = false;
	buf_release(&c->o.out);
	forward_request_head(&c->o.out, req, &uri, c->txn.upgrade);
	buf_consume(&c->c.in, req->head_len);
	frame_start(c, &c->up, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	            fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	c->reused_origin = true;
	c->txn.direct = true;
	c->state = CS_FORWARD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* How many first bytes of a tunnel are looked at without being consumed:
 * a whole ClientHello of today's browsers (post-quantum key shares make it
 * about 1.8 KB), a STUN header, a request line. */
#define SNIFF_PEEK 4096

/* Classifies the client's first bytes in a tunnel, once: what the access
 * log and the WebRTC report say the tunnel carries.  With quirk strict-tls,
 * a tunnel whose first bytes are not a TLS ClientHello is closed (what
 * proxies that check for "real TLS" do, which breaks TURN over TCP).
 * PH_OK: relay on; PH_AGAIN: strict-tls waits for more bytes; PH_ERROR:
 * closed by the quirk. */
static int sniff_tunnel(struct conn *c)
{
	char peek[SNIFF_PEEK];
	const char *data = buf_data(&c->c.in);
	size_t len = buf_len(&c->c.in);
	struct sniff_result sr;
	enum sniff_kind kind;
	bool strict = c->cfg->quirks->strict_tls;
	bool hold = sniff_holds(c);

	if (len == 0) {
		ssize_t n;

		if (!c->c.readable)
			return hold ? PH_AGAIN : PH_OK;
		/* MSG_PEEK: the relay still reads (or splices) every byte. */
		n = recv(c->c.io.fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
		if (n <= 0) {
			/* Nothing yet, or EOF or an error the relay will see. */
			if (n < 0 && errno == EAGAIN)
				c->c.readable = false;
			return n < 0 && errno == EAGAIN && hold ? PH_AGAIN : PH_OK;
		}
		data = peek;
		len = (size_t)n;
	}
	kind = sniff((const unsigned char *)data, len, &sr);
	if (kind == SNIFF_NEED_MORE && hold && c->c.rdhup) {
		/* The client closed with part of a ClientHello sent: waiting
		 * for the rest would hold the connection until the idle
		 * timeout (the unread bytes keep the peek from seeing EOF). */
		conn_log(c, "TCP_TUNNEL", c->txn.status, "the client closed before its first bytes could be classified");
		return PH_ERROR;
	}
	if (kind == SNIFF_NEED_MORE) {
		if (hold && len < sizeof(peek) && !c->c.eof && data == peek) {
			/* Wait for the rest (edge-triggered: the next bytes wake us). */
			c->c.readable = false;
			return PH_AGAIN;
		}
		kind = (unsigned char)data[0] == 0x16 ? SNIFF_TLS : SNIFF_OTHER;
	}
	c->txn.sniffed = true;
	snprintf(c->txn.mime, sizeof(c->txn.mime), "%s", sniff_kind_name(kind));
	if (c->w->report && kind == SNIFF_STUN && !strict) {
		/* Only STUN matters to the report (TURN over TCP); a tunnel
		 * strict-tls closes carried nothing: its own event says what
		 * its first bytes were. */
		struct wr_event ev;

		report_init(c, &ev, WR_TUNNEL_PROTO);
		report_copy(ev.detail, sizeof(ev.detail), sniff_kind_name(kind));
		report_copy(ev.sni, sizeof(ev.sni), kind == SNIFF_TLS ? sr.sni : "");
		report_publish(c, &ev);
	}
	bool mismatch = false;

	if (kind == SNIFF_TLS) {
		struct http_authority a;
		struct acl_subject s;
		struct sockaddr_storage dst;

		inspect_subject(c, &a, &s, &dst);
		mismatch = tls_sni_mismatch(&s, sr.sni);
	}
	if (mismatch) {
		char addr[64];

		/* Domain fronting: an allowed CONNECT name carrying another
		 * name in its ClientHello. */
		stats_add(&c->w->stats->sni_mismatches, 1);
		log_warn("sni-mismatch: %s sent CONNECT %s:%u with the SNI %s%s",
		         ph_addr_str(&c->client_addr, addr, sizeof(addr)), c->txn.host, c->txn.port, sr.sni,
		         c->cfg->tls->sni_mismatch_deny ? ": closed (sni-mismatch deny)" : "");
		if (c->cfg->tls->sni_mismatch_deny) {
			snprintf(c->txn.mime, sizeof(c->txn.mime), "tls-sni-mismatch-denied");
			conn_log(c, "TCP_TUNNEL", c->txn.status, "closed by sni-mismatch deny: the SNI names another host");
			return PH_ERROR;
		}
	}
	if (c->cfg->tls->ctx && !(strict && kind != SNIFF_TLS)) {
		int r = inspect_decide(c, kind, &sr, data != peek, mismatch);

		if (r != PH_OK)
			return r;
	}
	if (strict && kind != SNIFF_TLS) {
		if (c->w->report) {
			struct wr_event ev;

			report_init(c, &ev, WR_STRICT_TLS_CLOSED);
			report_copy(ev.detail, sizeof(ev.detail), sniff_kind_name(kind));
			report_publish(c, &ev);
		}
		conn_log(c, "TCP_TUNNEL", c->txn.status, "closed by quirk strict-tls: the first bytes were not TLS");
		return PH_ERROR;
	}
	return PH_OK;
}

static int st_tunnel(struct conn *c)
{
	const char *why = NULL;

	if (!c->txn.sniffed && !c->inspecting) {
		int s = sniff_tunnel(c);

		if (s == PH_ERROR)
			return PH_ERROR;
		if (c->txn.sniffed && sniff_holds(c))
			conn_deadline(c, tunnel_idle_ms(c));
		if (s == PH_STATE)
			return PH_OK;
		if (s == PH_AGAIN) {
			/* strict-tls holds the client's bytes; the origin's
			 * (and the 200) still go out. */
			int down = relay_pump(&c->o, &c->c, &c->down, &why);

			if (down == PH_ERROR) {
				conn_log(c, "TCP_TUNNEL", c->txn.status, why);
				return PH_ERROR;
			}
			return PH_AGAIN;
		}
	}
	int up = relay_pump(&c->c, &c->o, &c->up, &why);
	int down = up == PH_ERROR ? PH_ERROR : relay_pump(&c->o, &c->c, &c->down, &why);

	note_activity(c);
	if (up == PH_ERROR || down == PH_ERROR) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, why);
		return PH_ERROR;
	}
	if (up == PH_OK && down == PH_OK) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, NULL);
		return PH_ERROR; /* both directions ended: close */
	}
	maybe_yield(c, up, down);
	return PH_AGAIN;
}

/* HTTP forwarding */

enum {
	FWD_WAIT_HEAD, /* request going out, waiting for the response head */
	FWD_BODY,      /* relaying the response body */
};

/* The response is complete: decide what survives. */
static int forward_done(struct conn *c)
{
	conn_log(c, "TCP_MISS", c->txn.status, NULL);
	bool request_sent = c->up.done;

	buf_release(&c->retry_head);
	if (!c->keepalive || !request_sent) {
		origin_release(c, c->origin_reusable && request_sent);
		return PH_ERROR;
	}
	/* The origin connection stays with this client for its next request
	 * (most go to the same origin); conn_close parks it in the pool. */
	if (c->origin_reusable && buf_len(&c->o.in) == 0)
		c->origin_idle = true;
	else if (c->inspecting)
		return PH_ERROR; /* the origin's TLS session is over: so is the client's */
	else
		origin_release(c, false);
	c->state = CS_HEAD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	txn_begin(c);
	return PH_OK;
}

static int read_response_head(struct conn *c)
{
	for (;;) {
		size_t len = buf_len(&c->o.in);

		if (len) {
			struct http_response resp;
			struct http_framing fr;
			const char *why = NULL;
			int n = http_parse_response(buf_data(&c->o.in), len, c->cfg->server->max_header_size, &resp,
			                            &why);

			if (n < 0)
				return conn_fail(c, 502, "TCP_MISS", "Bad response from the origin: %s.", why);
			if (n > 0) {
				bool interim = resp.status >= 100 && resp.status < 200 && resp.status != 101;

				if (interim) {
					/* 100 Continue and friends go to the client now:
					 * it may be waiting for them to send its body. */
					forward_response_head(&c->c.out, &resp, false, false);
					buf_consume(&c->o.in, (size_t)n);
					if (side_flush(&c->c) == PH_ERROR)
						return PH_ERROR;
					continue;
				}
				c->txn.status = resp.status;
				if (http_auth_connection_based(resp.headers, resp.nheaders, "WWW-Authenticate"))
					c->origin_pinned = true;
				const struct http_header *ct =
				        http_find_header(resp.headers, resp.nheaders, "Content-Type");

				if (ct) {
					size_t k = PH_MIN(ct->value_len, sizeof(c->txn.mime) - 1);

					memcpy(c->txn.mime, ct->value, k);
					c->txn.mime[k] = '\0';
				}
				if (resp.status == 101 && !c->txn.upgrade)
					return conn_fail(
					        c, 502, "TCP_MISS",
					        "Bad response from the origin: it switched protocols (101) though "
					        "the request asked for no upgrade.");
				if (resp.status == 101 && c->txn.upgrade) {
					forward_response_head(&c->c.out, &resp, false, true);
					buf_consume(&c->o.in, (size_t)n);
					c->txn.response_started = true;
					c->txn.sniffed = true; /* an upgraded HTTP connection is no CONNECT tunnel */
					frame_start(c, &c->up, RELAY_STREAM, 0);
					frame_start(c, &c->down, RELAY_STREAM, 0);
					c->state = CS_TUNNEL;
					conn_deadline(c, c->cfg->server->timeout_tunnel_idle_ms);
					return PH_OK;
				}
				if (http_response_framing(&resp, c->txn.head_request, &fr, &why) < 0)
					return conn_fail(c, 502, "TCP_MISS", "Bad response from the origin: %s.", why);
				bool origin_close =
				        resp.version_minor == 0 ||
				        http_headers_have_token(resp.headers, resp.nheaders, "Connection", "close") ||
				        fr.kind == HTTP_BODY_CLOSE;

				c->origin_reusable = !origin_close;
				if (fr.kind == HTTP_BODY_CLOSE || resp.status == 101)
					c->keepalive = false;
				forward_response_head(&c->c.out, &resp, !c->keepalive, false);
				if (buf_len(&c->txn.auth_extra)) {
					/* Before the head's final empty line. */
					c->c.out.end -= 2;
					buf_append(&c->c.out, buf_data(&c->txn.auth_extra), buf_len(&c->txn.auth_extra));
					buf_append(&c->c.out, "\r\n", 2);
				}
				buf_consume(&c->o.in, (size_t)n);
				c->txn.response_started = true;
				frame_start(c, &c->down,
				            fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED
				            : fr.kind == HTTP_BODY_CLOSE ? RELAY_STREAM
				                                         : RELAY_LENGTH,
				            fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
				c->txn.fwd_phase = FWD_BODY;
				return PH_OK;
			}
		}
		if (c->o.eof && c->reused_origin && buf_len(&c->retry_head) && buf_len(&c->o.in) == 0) {
			/* The kept connection had been closed by the origin:
			 * resend the head on a fresh connection. */
			side_close(c->w->loop, &c->o);
			c->o.out = c->retry_head;
			c->retry_head = (struct buf){ 0 };
			c->reused_origin = false;
			c->has_peer = false;
			c->state = CS_RESOLVE;
			return PH_OK;
		}
		if (c->o.eof)
			return conn_fail(c, 502, "TCP_MISS", "The origin closed the connection without answering.");
		int r = side_read(&c->o, c->cfg->server->max_header_size + 1);

		if (r == PH_ERROR)
			return conn_fail(c, 502, "TCP_MISS", "Reading the origin's answer failed: %s.",
			                 strerror(errno));
		if (r != PH_OK)
			return r;
	}
}

static int st_forward(struct conn *c)
{
	const char *why = NULL;
	int up = PH_OK, down;

	note_activity(c);
	if (buf_len(&c->c.out) && side_flush(&c->c) == PH_ERROR)
		return PH_ERROR;
	if (!c->up.done || buf_len(&c->o.out)) {
		up = relay_pump(&c->c, &c->o, &c->up, &why);
		if (up == PH_ERROR) {
			if (c->up.bad)
				return conn_fail(c, 400, "NONE_NONE", "Refused: %s in the request body.", why);
			if (c->c.eof)
				return conn_fail(c, 400, "TCP_MISS_ABORTED",
				                 "The client closed before sending the whole body.");
			return conn_fail(c, 502, "TCP_MISS", "Sending the request to the origin failed: %s.",
			                 why ? why : "error");
		}
	}
	if (c->txn.fwd_phase == FWD_WAIT_HEAD) {
		int r = read_response_head(c);

		if (r == PH_AGAIN)
			maybe_yield(c, up, PH_OK);
		if (r != PH_OK || c->state != CS_FORWARD)
			return r;
	}
	down = relay_pump(&c->o, &c->c, &c->down, &why);
	if (down == PH_ERROR && c->down.bad && c->c.wbytes == c->txn.c_wbytes0) {
		/* The body broke its framing before a byte of the answer
		 * reached the client: it still gets an answer, a 502. */
		buf_release(&c->c.out);
		c->txn.response_started = false;
		return conn_fail(c, 502, "TCP_MISS", "Bad response from the origin: %s.", why);
	}
	if (down == PH_ERROR) {
		conn_log(c, "TCP_MISS_ABORTED", c->txn.status, why);
		return PH_ERROR;
	}
	if (down == PH_OK)
		return forward_done(c);
	maybe_yield(c, up, down);
	return PH_AGAIN;
}

/* The state machine */

static void conn_run(struct conn *c)
{
	for (int steps = 0; steps < 64; steps++) {
		int r;

		switch (c->state) {
		case CS_PROXY_HEADER:
			r = st_proxy_header(c);
			break;
		case CS_HEAD:
			r = st_head(c);
			break;
		case CS_RESOLVE:
			r = st_resolve(c);
			break;
		case CS_CONNECT:
			r = st_connect(c);
			break;
		case CS_TUNNEL:
			r = st_tunnel(c);
			break;
		case CS_FORWARD:
			r = st_forward(c);
			break;
		case CS_RESPOND:
			r = st_respond(c);
			break;
		case CS_CHALLENGE:
			r = st_challenge(c);
			break;
		case CS_AUTH_WAIT:
			r = st_auth_wait(c);
			break;
		case CS_TLS_ORIGIN:
			r = st_tls_origin(c);
			break;
		case CS_TLS_CLIENT:
			r = st_tls_client(c);
			break;
		case CS_LINGER:
			r = st_linger(c);
			break;
		case CS_CLOSED:
		default:
			return;
		}
		if (r == PH_AGAIN)
			return;
		if (r == PH_ERROR) {
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
	case CS_CONNECT:
		if (c->connecting) {
			c->connect_errno = ETIMEDOUT;
			c->connecting = false;
			side_close(loop, &c->o);
			loop_defer(loop, &c->rerun);
			return;
		}
		break;
	case CS_TUNNEL: {
		uint64_t limit = tunnel_idle_ms(c);

		if (!c->txn.sniffed && !c->inspecting && sniff_holds(c)) {
			conn_log(c, "TCP_TUNNEL", c->txn.status,
			         "the client sent no complete TLS ClientHello within timeout header");
			conn_close(c);
			return;
		}
		if (now < c->last_activity + limit) {
			loop_timer_start(loop, &c->timer, c->last_activity + limit - now);
			return;
		}
		conn_log(c, "TCP_TUNNEL", c->txn.status, "tunnel idle timeout");
		conn_close(c);
		return;
	}
	case CS_FORWARD:
		note_activity(c);
		if (now < c->last_activity + c->cfg->server->timeout_idle_ms) {
			loop_timer_start(loop, &c->timer, c->last_activity + c->cfg->server->timeout_idle_ms - now);
			return;
		}
		if (!c->txn.response_started) {
			/* Nothing moved for timeout idle: name the side that
			 * stopped.  Bytes of the body waiting for the origin
			 * mean the origin stopped reading. */
			if (!c->up.done && buf_len(&c->c.in) == 0 && c->c.piped == 0)
				conn_fail(c, 408, "TCP_MISS_ABORTED",
				          "The client sent no more of its request body for %llu ms.",
				          (unsigned long long)c->cfg->server->timeout_idle_ms);
			else if (!c->up.done)
				conn_fail(c, 504, "TCP_MISS",
				          "The origin %s stopped reading the request body for %llu ms.", c->origin_key,
				          (unsigned long long)c->cfg->server->timeout_idle_ms);
			else
				conn_fail(c, 504, "TCP_MISS", "The origin %s did not answer within %llu ms.",
				          c->origin_key, (unsigned long long)c->cfg->server->timeout_idle_ms);
			conn_run(c);
			return;
		}
		conn_log(c, "TCP_MISS_ABORTED", c->txn.status, "no bytes moved for timeout idle");
		break;
	case CS_RESOLVE:
		conn_fail(c, 504, "TCP_MISS", "DNS lookup for %s timed out.", c->txn.host);
		conn_run(c);
		return;
	default:
		break;
	}
	conn_close(c);
}

static void conn_accept(struct worker *w, int fd, const struct sockaddr_storage *addr, enum listener_pp pp)
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
	c->state = c->proxy_protocol ? CS_PROXY_HEADER : CS_HEAD;
	engine_conn_add(w, &c->link);
	stats_add(&w->stats->connections_total, 1);
	stats_add(&w->stats->connections_active, 1);
	side_attach(c, &c->c, fd, on_client);
	txn_begin(c);
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
