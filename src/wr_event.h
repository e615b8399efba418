/*
 * wr_event.h - what the request path tells the WebRTC report: one event
 * per finished transaction and per notable thing.  Types only, shared by
 * the publisher (conn.c), the report's engine (webrtc.c) and its rules
 * (webrtc_rules.c).
 */
#ifndef PINHOLE_WR_EVENT_H
#define PINHOLE_WR_EVENT_H

#include <stdint.h>
#include <sys/socket.h>

enum wr_kind {
	/* A transaction ended (tunnel closed, response relayed, or pinhole's
	 * own answer sent): method, host, port, status; offered = the schemes
	 * of a 407 ("Basic NTLM"); rule = "FILE:LINE" of a deny rule for a
	 * 403 by rule, "" for 403 by no rule. */
	WR_REQUEST,
	/* The client authenticated: scheme = "Basic", "Digest", "NTLM" or
	 * "Negotiate"; host/port of the request that carried it. */
	WR_AUTH_OK,
	/* A Negotiate token named a service the keytab lacks: detail = the
	 * ticket's service principal (e.g. "HTTP/10.0.0.1@REALM"). */
	WR_NEGOTIATE_WRONG_SPN,
	/* The client's first bytes in a tunnel: detail = "tls", "stun",
	 * "http" or "other"; sni = the ClientHello's server name if any. */
	WR_TUNNEL_PROTO,
	/* quirk strict-tls closed a tunnel whose first bytes were not TLS
	 * (detail = what they were). */
	WR_STRICT_TLS_CLOSED,
	/* An Upgrade (WebSocket) was refused (quirk no-websocket). */
	WR_UPGRADE_REFUSED,
	/* A tunnel was inspected (TLS interception); sni = the name. */
	WR_INSPECTED,
	/* The client aborted the handshake after a minted certificate:
	 * detail = how ("alert bad_certificate", "reset", "closed after
	 * handshake"); sni = the name. */
	WR_PINNING_FAILURE,
};

struct wr_event {
	uint8_t kind;                   /* enum wr_kind */
	uint64_t wall_ms;               /* when (ms since the epoch) */
	struct sockaddr_storage client; /* after PROXY protocol */
	char user[64];                  /* authenticated user, "" = none */
	char user_agent[192];           /* as sent, truncated; "" = none */
	char method[16];
	char host[128]; /* CONNECT host or request host, lower-case */
	uint16_t port;
	uint16_t status;  /* WR_REQUEST: the HTTP status answered */
	char scheme[12];  /* WR_AUTH_OK */
	char offered[48]; /* WR_REQUEST with 407: the schemes offered */
	char rule[80];    /* WR_REQUEST with 403: the deny rule's FILE:LINE */
	char detail[96];
	char sni[128];
	char parent[64]; /* "host:port" of the parent proxy it went through, "" = direct */
	uint8_t flags;   /* WR_FLAG_* */
};

/* What pinhole knew of the request when it published the event. */
#define WR_FLAG_WEBRTC 1u    /* a WebRTC media tunnel (the webrtc matcher) */
#define WR_FLAG_SURROGATE 2u /* accepted by auth-surrogate, without credentials */

#endif
