/*
 * inspect.c - TLS inspection of a CONNECT tunnel: the decision (from the
 * ClientHello and the CONNECT together), the handshake with the origin
 * (verified against tls-trust), the handshake with the client (a minted
 * certificate, or an alert when the origin failed verification), the
 * pinning failures clients show, and each request inside the session,
 * checked against the rules and relayed over the origin session.
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

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common.h"
#include "config.h"
#include "forward.h"
#include "log.h"
#include "quirks.h"
#include "server.h"
#include "sniff.h"
#include "stats.h"
#include "tls.h"
#include "wr_event.h"

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
	access_subject(c, a, s, dst);
}

bool inspect_sni_mismatch(struct conn *c, const char *sni)
{
	struct http_authority a;
	struct acl_subject s;
	struct sockaddr_storage dst;

	inspect_subject(c, &a, &s, &dst);
	return tls_sni_mismatch(&s, sni);
}

int inspect_decide(struct conn *c, int kind, const struct sniff_result *sr, bool pipelined, bool mismatch)
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
	SSL *ssl = tls_origin_new(c->cfg->tls, c->tls->sni, !sr->alpn[0] || strstr(sr->alpn, "http/1.1"));

	/* Over the socket, or through an https:// parent inside its session. */
	if (!ssl || side_tls_start(&c->o, ssl) != PH_OK) {
		SSL_free(ssl);
		conn_log(c, "TCP_TUNNEL", c->txn.status, "OpenSSL cannot start a TLS session with the origin");
		return PH_ERROR;
	}
	snprintf(c->txn.mime, sizeof(c->txn.mime), mismatch ? "tls-inspected-sni-mismatch" : "tls-inspected");
	c->state = CS_TLS_ORIGIN;
	conn_deadline(c, c->cfg->server->timeout_connect_ms);
	return PH_OK;
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

int inspect_origin_step(struct conn *c)
{
	char buf[256], err[256];
	SSL *ssl;
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
		ssl = tls_client_refuse(c->cfg->tls);
	} else {
		ssl = tls_client_new(c->cfg->tls, SSL_get0_peer_certificate(c->o.ssl), c->tls->sni, err, sizeof(err));
		if (!ssl)
			log_error("inspection of %s: %s", c->tls->sni, err);
	}
	/* Over the socket, or inside the client's TLS to an HTTPS proxy
	 * listener. */
	if (!ssl || side_tls_start(&c->c, ssl) != PH_OK) {
		SSL_free(ssl);
		conn_log(c, "TCP_TUNNEL", c->txn.status, "cannot start the TLS session with the client");
		return PH_ERROR;
	}
	c->c.readable = c->c.writable = true;
	c->state = CS_TLS_CLIENT;
	return PH_OK;
}

/* The client refused the minted certificate (or left before using it):
 * what clients that pin their servers' keys do. */
void inspect_pinning_failure(struct conn *c, const char *how, int alert)
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
		c->txn.via_parent = parent_tunnel(c);
		c->txn.direct = !c->txn.via_parent;
		snprintf(c->txn.mime, sizeof(c->txn.mime), "tls-inspected");
	}
	snprintf(err, sizeof(err), "pinning failure: the client %.100s with the minted certificate for %.80s", how,
	         c->tls->sni);
	conn_report(c, WR_PINNING_FAILURE, how, c->tls->sni);
	conn_log(c, "TCP_TUNNEL", c->txn.status, err);
}

int inspect_client_step(struct conn *c)
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
		inspect_pinning_failure(c, how, alert);
		return PH_ERROR;
	}
	/* The tunnel is logged once as inspected; each request inside it
	 * gets its own line with its https:// URL. */
	conn_log(c, "TCP_TUNNEL", c->txn.status, NULL);
	conn_report(c, WR_INSPECTED, NULL, c->tls->sni);
	snprintf(c->tls->user, sizeof(c->tls->user), "%s", c->txn.user);
	c->tls->auth = c->txn.auth;
	c->inspecting = true;
	c->inspected_requests = 0;
	c->keepalive = true;
	c->state = CS_HEAD;
	conn_txn_begin(c);
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}

/* A request inside an inspected session: origin-form, to the CONNECT's
 * origin, over the origin TLS session this connection holds. */
int inspect_request(struct conn *c, const struct http_request *req)
{
	struct http_framing fr;
	struct http_uri uri = { 0 };
	const char *why = NULL;
	size_t len;

	c->inspected_requests++;
	snprintf(c->txn.user, sizeof(c->txn.user), "%s", c->tls->user);
	c->txn.auth = c->tls->auth;
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
	if (http_request_framing(req, &fr, &why) != PH_OK)
		return conn_fail(c, 400, "NONE_NONE", "Refused: %s.", why);
	c->txn.head_request = strcmp(c->txn.method, "HEAD") == 0;
	c->txn.upgrade = forward_wants_upgrade(req) && !c->cfg->quirks->no_websocket;
	if (conn_client_wants_close(req))
		c->keepalive = false;
	snprintf(uri.authority.host, sizeof(uri.authority.host), "%s", c->tls->host);
	uri.authority.port = c->tls->port;
	uri.path = req->target;
	uri.path_len = req->target_len;
	/* URL-level rules: the same allow/deny, now per request, with the
	 * address the tunnel reached. */
	if (!access_allowed(c, &uri.authority))
		return PH_OK;
	if (parent_tunnel(c)) {
		/* c->peer is the parent: the destination is judged as the
		 * CONNECT's was, without a lookup. */
		struct in6_addr ip;

		uri.authority.is_ipv6 = inet_pton(AF_INET6, uri.authority.host, &ip) == 1;
		uri.authority.is_ip = uri.authority.is_ipv6 || inet_pton(AF_INET, uri.authority.host, &ip) == 1;
		if (!parent_destination_allowed(c, &uri.authority))
			return PH_OK;
	} else {
		const struct rule *rule;
		enum addr_verdict v = access_address(c, &c->peer, &rule);

		if (v != ADDR_ALLOWED)
			return access_refuse_address(c, &c->peer, v, rule);
	}
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
	conn_frame_start(c, &c->up, fr.kind == HTTP_BODY_CHUNKED ? RELAY_CHUNKED : RELAY_LENGTH,
	                 fr.kind == HTTP_BODY_LENGTH ? fr.length : 0);
	c->reused_origin = true;
	c->txn.via_parent = parent_tunnel(c);
	c->txn.direct = !c->txn.via_parent;
	c->state = CS_FORWARD;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}
