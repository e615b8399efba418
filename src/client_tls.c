/*
 * client_tls.c - a client of an HTTPS proxy listener (`listen ... tls CERT
 * KEY`): the TLS handshake before its first request (after the PROXY
 * protocol header when there is one), what a client that speaks plain HTTP
 * to such a listener is told, and what one that speaks TLS to a plain
 * listener gets.  Once the handshake is done every step reads and writes
 * through c->c.ssl (relay.c); an inspected session runs inside it.
 */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common.h"
#include "config.h"
#include "listen_tls.h"
#include "log.h"
#include "proxyproto.h"
#include "server.h"
#include "stats.h"

#define WRONG_PROTO_TLS 0   /* plain HTTP to a TLS listener */
#define WRONG_PROTO_PLAIN 1 /* TLS to a plain listener */

void client_tls_accept(struct conn *c, struct config *cfg, const struct listen_cfg *lc)
{
	c->listen_tls = lc ? lc->tls : NULL;
	c->client_tls = c->listen_tls != NULL;
	/* A reload may retire the listener before the handshake starts. */
	c->listen_cfg = c->listen_tls ? config_ref(cfg) : NULL;
}

/* The listener's address and port as the client reached it, for the log. */
static const char *local_str(const struct conn *c, char *buf, size_t len, unsigned *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[64];

	*port = 0;
	if (getsockname(c->c.io.fd, (struct sockaddr *)&ss, &sl) != 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                       : ((struct sockaddr_in *)&ss)->sin_port);
	ph_addr_str(&ss, a, sizeof(a));
	snprintf(buf, len, strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, *port);
	return buf;
}

static void handshake_failed(struct conn *c, const char *why)
{
	char a[64], l[64];
	unsigned port;

	stats_add(&c->w->stats->listener_tls_failures, 1);
	log_warn("%s: TLS handshake with the HTTPS proxy listener %s failed: %s",
	         ph_addr_str(&c->client_addr, a, sizeof(a)), local_str(c, l, sizeof(l), &port), why);
}

/* A TLS record of the handshake protocol (a ClientHello): content type 22,
 * then version 3.x.  No HTTP method starts with the byte 0x16. */
bool client_tls_is_hello(const char *p, size_t len)
{
	return len >= 1 && (unsigned char)p[0] == 0x16 && (len < 2 || p[1] == 3);
}

/* The first bytes on a TLS listener are not TLS: an HTTP client told this
 * proxy is http:// gets a plaintext 400 it can show; anything else is a
 * failed handshake. */
static int not_tls(struct conn *c)
{
	const char *p = buf_data(&c->c.in);
	size_t len = buf_len(&c->c.in);
	char a[64], l[64];
	unsigned port;

	if (c->pp_untrusted && proxyproto_looks_like(p, len))
		return conn_fail(c, 400, "NONE_NONE",
		                 "A PROXY protocol header from %s, which is not in the listener's proxy-protocol from "
		                 "list.",
		                 ph_addr_str(&c->client_addr, a, sizeof(a)));
	if (p[0] >= 'A' && p[0] <= 'Z') {
		c->client_tls = false; /* what the log says of this connection */
		stats_add(&c->w->stats->wrong_protocol[WRONG_PROTO_TLS], 1);
		local_str(c, l, sizeof(l), &port);
		log_warn("%s: plain HTTP to the HTTPS proxy listener %s: the client is configured with http:// "
		         "for this proxy; it must use https://",
		         ph_addr_str(&c->client_addr, a, sizeof(a)), l);
		return conn_fail(c, 400, "NONE_NONE",
		                 "This port speaks TLS (an HTTPS proxy): configure the proxy as https://HOST:%u, "
		                 "not http://.",
		                 port);
	}
	snprintf(a, sizeof(a), "the client's first byte is 0x%02x, not a TLS handshake record", (unsigned char)p[0]);
	handshake_failed(c, a);
	return PH_ERROR;
}

/* Before the handshake: the first byte says whether the client speaks
 * TLS at all (a TLS record starts with 0x16, no HTTP request can). */
static int begin(struct conn *c)
{
	SSL *ssl;

	if (buf_len(&c->c.in) == 0) {
		int r = side_read(&c->c, c->cfg->server->max_header_size);

		if (r == PH_ERROR)
			return PH_ERROR;
		if (r == PH_AGAIN)
			return PH_AGAIN;
		if (buf_len(&c->c.in) == 0)
			return PH_DONE; /* closed without a byte (a port check): nothing to say */
	}
	if (!client_tls_is_hello(buf_data(&c->c.in), buf_len(&c->c.in)))
		return not_tls(c);
	/* What was read goes to the session first (side_tls_start). */
	ssl = listen_tls_session(c->listen_tls);
	if (!ssl || side_tls_start(&c->c, ssl) != PH_OK) {
		SSL_free(ssl);
		log_error("OpenSSL cannot start a TLS session for a client of an HTTPS proxy listener");
		return PH_ERROR;
	}
	c->listen_tls = NULL;
	config_unref(c->listen_cfg);
	c->listen_cfg = NULL;
	return PH_OK;
}

int client_tls_step(struct conn *c)
{
	char buf[512];
	int r;

	if (!c->c.ssl)
		return begin(c);
	ERR_clear_error();
	r = SSL_do_handshake(c->c.ssl);
	if (r == 1) {
		if (log_enabled(LOG_LEVEL_DEBUG)) {
			char a[64];

			log_debug("%s: TLS handshake done (%s, %s)", ph_addr_str(&c->client_addr, a, sizeof(a)),
			          SSL_get_version(c->c.ssl), SSL_get_cipher_name(c->c.ssl));
		}
		/* The head's clock starts afresh, as on a new connection. */
		c->state = CS_HEAD;
		conn_txn_begin(c);
		conn_deadline(c, c->cfg->server->timeout_header_ms);
		return PH_OK;
	}
	switch (SSL_get_error(c->c.ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->c.readable = false;
		return PH_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->c.writable = false;
		return PH_AGAIN;
	default:
		handshake_failed(c, listen_tls_why(c->c.ssl, r, buf, sizeof(buf)));
		return PH_ERROR;
	}
}

void client_tls_timeout(struct conn *c)
{
	char why[128];

	/* A connection that never sent a byte is closed as on any listener. */
	if (c->c.ssl || buf_len(&c->c.in)) {
		snprintf(why, sizeof(why), "no complete handshake within timeout header (%llu ms)",
		         (unsigned long long)c->cfg->server->timeout_header_ms);
		handshake_failed(c, why);
	}
	conn_close(c);
}

/* A client configured with https:// for a plain listener sends a
 * ClientHello where a request should be.  It cannot read an HTTP answer:
 * it gets the fatal alert protocol_version, the closest TLS has to "no TLS
 * here" (curl prints "tlsv1 alert protocol version", Chromium shows
 * ERR_PROXY_CONNECTION_FAILED after ERR_SSL_VERSION_OR_CIPHER_MISMATCH),
 * and the error log says what to change. */
int client_tls_misdirected(struct conn *c)
{
	static const char alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 70 };
	char a[64], l[64];
	unsigned port;

	stats_add(&c->w->stats->wrong_protocol[WRONG_PROTO_PLAIN], 1);
	local_str(c, l, sizeof(l), &port);
	log_warn("%s: a TLS handshake to the plain HTTP proxy listener %s: the client is configured with https:// "
	         "for this proxy; configure it as http://HOST:%u, or give this listen line tls CERT KEY",
	         ph_addr_str(&c->client_addr, a, sizeof(a)), l, port);
	buf_release(&c->c.in);
	buf_release(&c->c.out);
	buf_append(&c->c.out, alert, sizeof(alert));
	c->keepalive = false;
	c->state = CS_RESPOND;
	conn_deadline(c, c->cfg->server->timeout_idle_ms);
	return PH_OK;
}
