/*
 * forward.c - plain-HTTP forwarding: an absolute-form request (its
 * target, framing, authentication and rules), the origin connection it
 * goes over (kept, pooled or new; retried once when a kept one was stale),
 * the response head (interim answers, upgrades, framing) and both bodies,
 * and the head rewriting of RFC 9110 7.6 both ways.  Transfer-Encoding
 * stays: pinhole relays chunked bodies as they are, so the framing the
 * origin or client chose is the framing the peer receives.
 */
#include "forward.h"
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "log.h"
#include "pool.h"
#include "quirks.h"
#include "selfcheck.h"
#include "server.h"
#include "stats.h"
#include "upstream.h"
#include "wr_event.h"

/* Whether name is one of the tokens of the message's Connection headers. */
static bool connection_lists(const struct http_header *h, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (!ph_memcaseeq(h[i].name, h[i].name_len, "Connection", 10))
			continue;
		const char *p = h[i].value, *end = p + h[i].value_len;

		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
				p++;
			const char *t = p;

			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if (p > t && ph_memcaseeq(t, (size_t)(p - t), name, len))
				return true;
		}
	}
	return false;
}

/* Copies the end-to-end headers of a message. */
static void copy_headers(struct buf *out, const struct http_header *h, size_t n, bool skip_host)
{
	for (size_t i = 0; i < n; i++) {
		const struct http_header *f = &h[i];
		bool te = ph_memcaseeq(f->name, f->name_len, "Transfer-Encoding", 17);

		if (!te && http_is_hop_by_hop(f->name, f->name_len))
			continue;
		if (skip_host && ph_memcaseeq(f->name, f->name_len, "Host", 4))
			continue;
		if (!te && connection_lists(h, n, f->name, f->name_len))
			continue;
		buf_append(out, f->name, f->name_len);
		buf_append(out, ": ", 2);
		buf_append(out, f->value, f->value_len);
		buf_append(out, "\r\n", 2);
	}
}

static void copy_upgrade(struct buf *out, const struct http_header *h, size_t n)
{
	const struct http_header *up = http_find_header(h, n, "Upgrade");

	if (!up)
		return;
	buf_append(out, "Connection: Upgrade\r\nUpgrade: ", 30);
	buf_append(out, up->value, up->value_len);
	buf_append(out, "\r\n", 2);
}

bool forward_wants_upgrade(const struct http_request *req)
{
	return http_find_header(req->headers, req->nheaders, "Upgrade") &&
	       http_headers_have_token(req->headers, req->nheaders, "Connection", "upgrade");
}

/* The request line (origin form, or the absolute form as the client sent
 * it, which a parent proxy takes), Host, the end-to-end headers and Via;
 * the blank line after them is the caller's. */
static void request_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade,
                         bool absolute)
{
	const struct http_authority *a = &uri->authority;

	buf_append(out, req->method, req->method_len);
	buf_append(out, " ", 1);
	if (absolute) {
		buf_append(out, req->target, req->target_len);
	} else {
		if (uri->path_len == 0 || uri->path[0] != '/')
			buf_append(out, "/", 1);
		buf_append(out, uri->path, uri->path_len);
	}
	buf_append(out, " HTTP/1.1\r\nHost: ", 17);
	if (a->is_ipv6)
		buf_printf(out, "[%s]", a->host);
	else
		buf_append(out, a->host, strlen(a->host));
	if (a->port != 80)
		buf_printf(out, ":%u", a->port);
	buf_append(out, "\r\n", 2);
	copy_headers(out, req->headers, req->nheaders, true);
	if (upgrade)
		copy_upgrade(out, req->headers, req->nheaders);
	buf_printf(out, "Via: 1.%d pinhole\r\n", req->version_minor);
}

void forward_request_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade)
{
	request_head(out, req, uri, upgrade, false);
	buf_append(out, "\r\n", 2);
}

void forward_parent_head(struct buf *out, const struct http_request *req, const struct http_uri *uri, bool upgrade)
{
	request_head(out, req, uri, upgrade, true);
}

void forward_response_head(struct buf *out, const struct http_response *resp, bool close, bool upgrade)
{
	buf_printf(out, "HTTP/1.1 %d ", resp->status);
	buf_append(out, resp->reason, resp->reason_len);
	buf_append(out, "\r\n", 2);
	copy_headers(out, resp->headers, resp->nheaders, false);
	if (upgrade)
		copy_upgrade(out, resp->headers, resp->nheaders);
	buf_printf(out, "Via: 1.%d pinhole\r\n", resp->version_minor);
	if (close)
		buf_append(out, "Connection: close\r\n", 19);
	buf_append(out, "\r\n", 2);
}

/* ---- the request path ---- */

/* Whom the request went to, for pinhole's answers: the origin (with its
 * host:port when key), or the parent proxy that carried it. */
static const char *peer_name(const struct conn *c, bool key, bool capital, char *buf, size_t len)
{
	const char *via = parent_via(c, NULL);

	if (via)
		snprintf(buf, len, "the parent proxy %s", via);
	else if (key)
		snprintf(buf, len, "the origin %s", c->origin_key);
	else
		snprintf(buf, len, "the origin");
	if (capital)
		buf[0] = 'T';
	return buf;
}

enum {
	FWD_WAIT_HEAD, /* request going out, waiting for the response head */
	FWD_BODY,      /* relaying the response body */
};

/* A kept origin connection can carry the next request: nothing arrived on
 * it since its last answer was read to the end (a close or stray bytes
 * would have been signalled), or a peek says so. */
static bool origin_usable(const struct side *o)
{
	if (!o->readable && !o->rdhup)
		return true;
	return !o->rdhup && pool_fd_alive(o->io.fd);
}

int forward_request(struct conn *c, const struct http_request *req)
{
	struct http_uri uri;
	struct http_framing fr;
	const char *why = NULL;

	if (c->inspecting)
		return inspect_request(c, req);
	if (c->local)
		return local_request(c, req, NULL);

	c->txn.url = ph_strndup(req->target, req->target_len);
	if (req->target_len == 0 || req->target[0] == '/' || req->target[0] == '*')
		return conn_fail(c, 400, "NONE_NONE",
		                 "This is a proxy: send absolute-form requests (GET http://host/path), "
		                 "or configure pinhole as your HTTP proxy.");
	if (http_parse_absolute_uri(req->target, req->target_len, &uri, &why) < 0)
		return conn_fail(c, 400, "NONE_NONE", "Bad request target: %s.", why);
	if (uri.authority.port == 0)
		uri.authority.port = 80;
	if (http_request_framing(req, &fr, &why) != PH_OK)
		return conn_fail(c, 400, "NONE_NONE", "Refused: %s.", why);
	c->txn.head_request = strcmp(c->txn.method, "HEAD") == 0;
	c->txn.upgrade = forward_wants_upgrade(req) && !c->cfg->quirks->no_websocket;
	ph_strlcpy(c->txn.host, uri.authority.host, sizeof(c->txn.host));
	c->txn.port = uri.authority.port;
	if (forward_wants_upgrade(req) && c->cfg->quirks->no_websocket)
		conn_report(c, WR_UPGRADE_REFUSED, NULL, NULL);
	if (conn_client_wants_close(req))
		c->keepalive = false;

	char key[sizeof(c->origin_key)];
	bool same_origin, answered;
	const struct upstream_parent *parent;
	struct relay_frame body;

	relay_frame_init(&body, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	                 fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	switch (access_authenticate(c, req, &uri.authority, &body)) {
	case PH_AGAIN:
		return PH_AGAIN;
	case PH_DONE:
		buf_consume(&c->c.in, req->head_len);
		return PH_OK;
	}
	if (selfcheck_is_host(c->cfg, uri.authority.host))
		return local_request(c, req, &uri);
	if (!access_allowed(c, &uri.authority))
		return PH_OK;
	/* Through a parent proxy, its connections are the ones kept. */
	parent = parent_choose(c, &uri.authority, &answered);
	if (answered)
		return PH_OK;
	if (parent)
		snprintf(key, sizeof(key), "%s", parent->key);
	else
		snprintf(key, sizeof(key), uri.authority.is_ipv6 ? "[%s]:%u" : "%s:%u", uri.authority.host,
		         uri.authority.port);
	same_origin = c->o.io.fd >= 0 && strcmp(key, c->origin_key) == 0;

	/* An origin connection kept from the previous request, or one from
	 * the pool, saves a lookup and a handshake. */
	if (c->o.io.fd >= 0 && !(same_origin && origin_usable(&c->o)))
		conn_origin_release(c, !same_origin && c->origin_reusable);
	c->origin_idle = false;
	buf_release(&c->o.out);
	buf_release(&c->o.in);
	buf_release(&c->retry_head);
	if (c->o.io.fd < 0) {
		int fd = pool_get(c->w->pool, key, &c->peer);

		if (fd >= 0) {
			conn_attach_origin(c, fd);
			c->o.readable = c->o.writable = true;
			c->has_peer = true;
		}
	}
	ph_strlcpy(c->origin_key, key, sizeof(c->origin_key));
	if (parent)
		parent_request(c, parent, req, &uri, &fr);
	else
		forward_request_head(&c->o.out, req, &uri, c->txn.upgrade);
	buf_consume(&c->c.in, req->head_len);
	conn_frame_start(c, &c->up, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	                 fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	if (c->o.io.fd >= 0 && !parent) {
		/* A kept or pooled connection: its address meets the rules
		 * as a new one's would. */
		const struct rule *rule;
		enum addr_verdict v = access_address(c, &c->peer, &rule);

		if (v != ADDR_ALLOWED) {
			struct sockaddr_storage peer = c->peer;

			conn_origin_release(c, c->origin_reusable);
			buf_release(&c->o.out);
			return access_refuse_address(c, &peer, v, rule);
		}
	}
	if (http_auth_connection_based(req->headers, req->nheaders, "Authorization"))
		c->origin_pinned = true;
	c->reused_origin = c->o.io.fd >= 0;
	c->txn.direct = c->reused_origin && !parent;
	if (c->reused_origin) {
		if (parent)
			parent_reused(c);
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

/* The response is complete: decide what survives. */
static int forward_done(struct conn *c)
{
	conn_log(c, "TCP_MISS", c->txn.status, NULL);
	bool request_sent = c->up.done;

	buf_release(&c->retry_head);
	if (!c->keepalive || !request_sent) {
		conn_origin_release(c, c->origin_reusable && request_sent);
		return PH_DONE;
	}
	/* The origin connection stays with this client for its next request
	 * (most go to the same origin); conn_close parks it in the pool. */
	if (c->origin_reusable && buf_len(&c->o.in) == 0)
		c->origin_idle = true;
	else if (c->inspecting)
		return PH_DONE; /* the origin's TLS session is over: so is the client's */
	else
		conn_origin_release(c, false);
	c->state = CS_HEAD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	conn_txn_begin(c);
	return PH_OK;
}

static int read_response_head(struct conn *c)
{
	char who[UPSTREAM_LABEL_MAX + 32];

	for (;;) {
		size_t len = buf_len(&c->o.in);

		if (len) {
			struct http_response resp;
			struct http_framing fr;
			const char *why = NULL;
			int status;
			int n = http_parse_response(buf_data(&c->o.in), len, c->cfg->server->max_header_size, &resp,
			                            &status, &why);

			if (n == PH_ERROR)
				return conn_fail(c, 502, "TCP_MISS", "Bad response from %s: %s.",
				                 peer_name(c, false, false, who, sizeof(who)), why);
			if (n == PH_OK) {
				bool interim = resp.status >= 100 && resp.status < 200 && resp.status != 101;

				if (interim) {
					/* 100 Continue and friends go to the client now:
					 * it may be waiting for them to send its body. */
					forward_response_head(&c->c.out, &resp, false, false);
					buf_consume(&c->o.in, resp.head_len);
					if (side_flush(&c->c) == PH_ERROR)
						return PH_ERROR;
					continue;
				}
				/* A parent's 407 is pinhole's to answer. */
				if (c->txn.via_parent && parent_response(c, &resp))
					return PH_OK;
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
					buf_consume(&c->o.in, resp.head_len);
					c->txn.response_started = true;
					c->txn.sniffed = true; /* an upgraded HTTP connection is no CONNECT tunnel */
					conn_frame_start(c, &c->up, RELAY_STREAM, 0);
					conn_frame_start(c, &c->down, RELAY_STREAM, 0);
					c->state = CS_TUNNEL;
					conn_deadline(c, c->cfg->server->timeout_tunnel_idle_ms);
					return PH_OK;
				}
				if (http_response_framing(&resp, c->txn.head_request, &fr, &why) != PH_OK)
					return conn_fail(c, 502, "TCP_MISS", "Bad response from %s: %s.",
					                 peer_name(c, false, false, who, sizeof(who)), why);
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
					buf_append(&c->c.out, buf_data(&c->txn.auth_extra),
					           buf_len(&c->txn.auth_extra));
					buf_append(&c->c.out, "\r\n", 2);
				}
				buf_consume(&c->o.in, resp.head_len);
				c->txn.response_started = true;
				conn_frame_start(c, &c->down,
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
		/* A new connection to a parent that ends before a byte of
		 * its answer: the parent is down, the next one may have it. */
		bool lost = c->txn.via_parent && !c->reused_origin && buf_len(&c->o.in) == 0 &&
		            c->txn.fwd_phase == FWD_WAIT_HEAD;

		if (c->o.eof && lost)
			return parent_lost(c, "closed the connection without answering");
		if (c->o.eof)
			return conn_fail(c, 502, "TCP_MISS", "%s closed the connection without answering.",
			                 peer_name(c, false, true, who, sizeof(who)));
		int r = side_read(&c->o, c->cfg->server->max_header_size + 1);

		if (r == PH_ERROR && lost) {
			char w[160];

			snprintf(w, sizeof(w), "%s before it answered", strerror(errno));
			return parent_lost(c, w);
		}
		if (r == PH_ERROR)
			return conn_fail(c, 502, "TCP_MISS", "Reading the answer of %s failed: %s.",
			                 peer_name(c, false, false, who, sizeof(who)), strerror(errno));
		if (r != PH_OK)
			return r;
	}
}

int forward_step(struct conn *c)
{
	char who[UPSTREAM_LABEL_MAX + 32];
	const char *why = NULL;
	int up = PH_OK, down;

	conn_note_activity(c);
	if (buf_len(&c->c.out) && side_flush(&c->c) == PH_ERROR)
		return PH_ERROR;
	int held = parent_hold_step(c);

	if (held != PH_OK)
		return held;
	if (!c->up.done || buf_len(&c->o.out)) {
		up = relay_pump(&c->c, &c->o, &c->up, &why);
		if (up == PH_ERROR) {
			if (c->up.bad)
				return conn_fail(c, 400, "NONE_NONE", "Refused: %s in the request body.", why);
			if (c->c.eof)
				return conn_fail(c, 400, "TCP_MISS_ABORTED",
				                 "The client closed before sending the whole body.");
			return conn_fail(c, 502, "TCP_MISS", "Sending the request to %s failed: %s.",
			                 peer_name(c, false, false, who, sizeof(who)), why ? why : "error");
		}
	}
	if (c->txn.fwd_phase == FWD_WAIT_HEAD) {
		int r = read_response_head(c);

		if (r == PH_AGAIN)
			conn_yield(c, up, PH_OK);
		if (r != PH_OK || c->state != CS_FORWARD)
			return r;
	}
	down = relay_pump(&c->o, &c->c, &c->down, &why);
	if (down == PH_ERROR && c->down.bad && c->c.wbytes == c->txn.c_wbytes0) {
		/* The body broke its framing before a byte of the answer
		 * reached the client: it still gets an answer, a 502. */
		buf_release(&c->c.out);
		c->txn.response_started = false;
		return conn_fail(c, 502, "TCP_MISS", "Bad response from %s: %s.",
		                 peer_name(c, false, false, who, sizeof(who)), why);
	}
	if (down == PH_ERROR) {
		conn_log(c, "TCP_MISS_ABORTED", c->txn.status, why);
		return PH_ERROR;
	}
	if (down == PH_OK)
		return forward_done(c);
	conn_yield(c, up, down);
	return PH_AGAIN;
}

void forward_timeout(struct conn *c, uint64_t now)
{
	char who[sizeof(c->origin_key) + 32];
	uint64_t idle = c->cfg->server->timeout_idle_ms;

	conn_note_activity(c);
	if (now < c->last_activity + idle) {
		loop_timer_start(c->w->loop, &c->timer, c->last_activity + idle - now);
		return;
	}
	if (!c->txn.response_started) {
		/* Nothing moved for timeout idle: name the side that stopped.
		 * Bytes of the body waiting for the origin mean the origin
		 * stopped reading. */
		if (!c->up.done && buf_len(&c->c.in) == 0 && c->c.piped == 0)
			conn_fail(c, 408, "TCP_MISS_ABORTED",
			          "The client sent no more of its request body for %llu ms.", (unsigned long long)idle);
		else if (!c->up.done)
			conn_fail(c, 504, "TCP_MISS", "%s stopped reading the request body for %llu ms.",
			          peer_name(c, true, true, who, sizeof(who)), (unsigned long long)idle);
		else
			conn_fail(c, 504, "TCP_MISS", "%s did not answer within %llu ms.",
			          peer_name(c, true, true, who, sizeof(who)), (unsigned long long)idle);
		conn_run(c);
		return;
	}
	conn_log(c, "TCP_MISS_ABORTED", c->txn.status, "no bytes moved for timeout idle");
	conn_close(c);
}
