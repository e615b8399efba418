/*
 * tunnel.c - CONNECT: the request (its target, authentication and rules),
 * the 200 once the origin is connected, the classification of the client's
 * first bytes (what the log and the report say the tunnel carries, whether
 * TLS inspection takes it, whether quirk strict-tls closes it), and the
 * relay in both directions until both sides closed.
 */
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
#include "quirks.h"
#include "selfcheck.h"
#include "server.h"
#include "sniff.h"
#include "stats.h"
#include "tls.h"
#include "turn.h"
#include "wr_event.h"

/* How many first bytes of a tunnel are looked at without being consumed:
 * a whole ClientHello of today's browsers (post-quantum key shares make it
 * about 1.8 KB), a STUN header, a request line. */
#define SNIFF_PEEK 4096

uint64_t tunnel_idle_ms(const struct conn *c)
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

static void url_set_authority(struct conn *c, const struct http_authority *a)
{
	size_t len = strlen(a->host) + 16;

	free(c->txn.url);
	c->txn.url = ph_malloc(len);
	snprintf(c->txn.url, len, a->is_ipv6 ? "[%s]:%u" : "%s:%u", a->host, a->port);
	ph_strlcpy(c->txn.host, a->host, sizeof(c->txn.host));
	c->txn.port = a->port;
	snprintf(c->origin_key, sizeof(c->origin_key), "%s", c->txn.url);
}

int tunnel_request(struct conn *c, const struct http_request *req)
{
	struct http_authority a;
	const char *why = NULL;

	c->txn.is_connect = true;
	/* An origin connection kept from an earlier request of this client
	 * goes back to the pool, under its own key (before the CONNECT's
	 * target takes origin_key): the tunnel's connection takes its place. */
	if (c->o.io.fd >= 0) {
		conn_origin_release(c, c->origin_idle && c->origin_reusable);
		c->origin_idle = false;
	}
	if (conn_client_wants_close(req))
		c->keepalive = false;
	if (http_parse_authority(req->target, req->target_len, true, &a, &why) < 0) {
		c->txn.url = ph_strndup(req->target, req->target_len);
		return conn_fail(c, 400, "NONE_NONE", "Bad CONNECT target: %s (expected host:port).", why);
	}
	url_set_authority(c, &a);
	/* RFC 7639: Firefox names its media tunnels; Chromium's carry no such
	 * header, so a declared TURN server counts too. */
	c->txn.webrtc = http_alpn_names(req->headers, req->nheaders, "webrtc") ||
	                http_alpn_names(req->headers, req->nheaders, "c-webrtc") ||
	                turn_declared(c->cfg->turn, a.host, a.port);
	struct relay_frame none;

	relay_frame_init(&none, RELAY_LENGTH, 0);
	int ao = access_authenticate(c, req, &a, &none);

	if (ao == PH_AGAIN)
		return PH_AGAIN;
	buf_consume(&c->c.in, req->head_len);
	if (ao == PH_DONE)
		return PH_OK;
	if (selfcheck_is_host(c->cfg, a.host))
		return local_connect(c, &a);
	if (!access_allowed(c, &a))
		return PH_OK;
	bool answered = false;

	/* Through a parent, CS_RESOLVE looks up the parent's name. */
	parent_choose(c, &a, &answered);
	if (!answered)
		c->state = CS_RESOLVE;
	return PH_OK;
}

int tunnel_start(struct conn *c)
{
	buf_printf(&c->c.out, "HTTP/1.%d 200 Connection established\r\n", c->cfg->quirks->http10_connect ? 0 : 1);
	if (buf_len(&c->txn.auth_extra))
		buf_append(&c->c.out, buf_data(&c->txn.auth_extra), buf_len(&c->txn.auth_extra));
	buf_append(&c->c.out, "\r\n", 2);
	c->txn.status = 200;
	c->txn.response_started = true;
	c->counted_tunnel = true;
	stats_add(&c->w->stats->tunnels_total, 1);
	stats_add(&c->w->stats->tunnels_active, 1);
	conn_frame_start(c, &c->up, RELAY_STREAM, 0);
	conn_frame_start(c, &c->down, RELAY_STREAM, 0);
	c->state = CS_TUNNEL;
	c->last_activity = loop_now(c->w->loop);
	/* A ClientHello pinhole waits for must come within the time any
	 * request head gets. */
	conn_deadline(c, sniff_holds(c) ? c->cfg->server->timeout_header_ms : tunnel_idle_ms(c));
	return PH_OK;
}

void tunnel_timeout(struct conn *c, uint64_t now)
{
	uint64_t limit = tunnel_idle_ms(c);

	if (!c->txn.sniffed && !c->inspecting && sniff_holds(c)) {
		conn_log(c, "TCP_TUNNEL", c->txn.status,
		         "the client sent no complete TLS ClientHello within timeout header");
		conn_close(c);
		return;
	}
	if (now < c->last_activity + limit) {
		loop_timer_start(c->w->loop, &c->timer, c->last_activity + limit - now);
		return;
	}
	conn_log(c, "TCP_TUNNEL", c->txn.status, "tunnel idle timeout");
	conn_close(c);
}

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

	if (len == 0 && !c->c.readable)
		return hold ? PH_AGAIN : PH_OK;
	if (len == 0 && !hold) {
		/* Nothing needs the bytes left in the kernel: read them into the
		 * buffer the relay sends from, one system call instead of a peek
		 * and a read. */
		if (side_read(&c->c, BUF_SIZE) == PH_ERROR) {
			conn_log(c, "TCP_TUNNEL", c->txn.status, "read failed");
			return PH_ERROR;
		}
		if (buf_len(&c->c.in) == 0)
			return PH_OK; /* nothing yet, or EOF: the relay sees it */
		data = buf_data(&c->c.in);
		len = buf_len(&c->c.in);
	} else if (len == 0) {
		/* MSG_PEEK: inspection's TLS session reads the ClientHello from
		 * the socket, and the relay still reads (or splices) every
		 * byte. */
		ssize_t n = side_peek(&c->c, peek, sizeof(peek));

		if (n <= 0) {
			/* Nothing yet, or EOF or an error the relay will see. */
			if (n < 0 && errno == EAGAIN)
				c->c.readable = false;
			return n < 0 && errno == EAGAIN ? PH_AGAIN : PH_OK;
		}
		data = peek;
		len = (size_t)n;
	}
	kind = sniff((const unsigned char *)data, len, &sr);
	if (kind == SNIFF_NEED_MORE && hold && c->c.rdhup) {
		/* The client closed with part of a ClientHello sent: waiting
		 * for the rest would hold the connection until the idle
		 * timeout (the unread bytes keep the peek from seeing EOF). */
		conn_log(c, "TCP_TUNNEL", c->txn.status,
		         "the client closed before its first bytes could be classified");
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
	/* Only STUN matters to the report (TURN over TCP); a tunnel strict-tls
	 * closes carried nothing: its own event says what its first bytes
	 * were. */
	if (kind == SNIFF_STUN && !strict)
		conn_report(c, WR_TUNNEL_PROTO, sniff_kind_name(kind), NULL);
	bool mismatch = kind == SNIFF_TLS && inspect_sni_mismatch(c, sr.sni);

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
			conn_log(c, "TCP_TUNNEL", c->txn.status,
			         "closed by sni-mismatch deny: the SNI names another host");
			return PH_ERROR;
		}
	}
	if (c->cfg->tls->ctx && !(strict && kind != SNIFF_TLS))
		return inspect_decide(c, kind, &sr, data != peek, mismatch);
	if (strict && kind != SNIFF_TLS) {
		conn_report(c, WR_STRICT_TLS_CLOSED, sniff_kind_name(kind), NULL);
		conn_log(c, "TCP_TUNNEL", c->txn.status, "closed by quirk strict-tls: the first bytes were not TLS");
		return PH_ERROR;
	}
	return PH_OK;
}

int tunnel_step(struct conn *c)
{
	const char *why = NULL;

	if (!c->txn.sniffed && !c->inspecting) {
		int s = sniff_tunnel(c);

		if (s == PH_ERROR)
			return PH_ERROR;
		if (c->txn.sniffed && sniff_holds(c))
			conn_deadline(c, tunnel_idle_ms(c));
		if (c->state != CS_TUNNEL)
			return PH_OK; /* inspection took the tunnel */
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

	conn_note_activity(c);
	if (up == PH_ERROR || down == PH_ERROR) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, why);
		return PH_ERROR;
	}
	if (up == PH_OK && down == PH_OK) {
		conn_log(c, "TCP_TUNNEL", c->txn.status, NULL);
		return PH_DONE; /* both directions ended */
	}
	conn_yield(c, up, down);
	return PH_AGAIN;
}
