/*
 * webrtc.h - the WebRTC report: which clients' video calls would break
 * behind this proxy, and why.
 *
 * Workers publish one event per finished transaction and per notable thing
 * (an authentication, the first bytes of a tunnel, a refused Upgrade, ...)
 * into their own bounded single-producer ring: no lock, no allocation on the
 * data path; when a ring is full the event is dropped and counted.  A drain
 * thread moves events into a bounded table of clients (least recently seen
 * evicted) and runs the rules (webrtc_rules.c) on them; the admin interface
 * renders the table as JSON and HTML.
 */
#ifndef PINHOLE_WEBRTC_H
#define PINHOLE_WEBRTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct config;

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
};

struct wr_ring; /* one per worker */

/* Called once before the workers start: makes nworkers rings and starts the
 * drain thread.  max_clients bounds the table (0 = the default, 4096).
 * 0 or -1. */
int webrtc_start(int nworkers, size_t max_clients);
/* Stops the drain thread and frees everything. */
void webrtc_stop(void);
/* Worker i's ring (NULL before webrtc_start or when it failed). */
struct wr_ring *webrtc_ring(int worker);
/* Worker side: copies ev into the ring, or drops it when the ring is full. */
void webrtc_publish(struct wr_ring *r, const struct wr_event *ev);

/* Admin side (any thread but the workers'): each first drains the rings, so
 * what was published before the call is in the answer.  cfg gives the
 * turn servers, presets and rules the advice refers to.  The caller frees
 * the text. */
char *webrtc_report_json(const struct config *cfg, size_t *len);
/* The report as an HTML fragment (a <table> per client, no <html>), for
 * /report and the dashboard. */
char *webrtc_report_html(const struct config *cfg, size_t *len);

/* For /metrics. */
struct webrtc_counts {
	uint64_t clients; /* in the table now */
	uint64_t breaks, degraded, ok;
	uint64_t evicted;              /* clients evicted from the full table */
	uint64_t dropped;              /* events dropped by full rings */
	uint64_t findings_by_rule[32]; /* clients with a finding, per rule index */
};
void webrtc_counts(const struct config *cfg, struct webrtc_counts *out);
/* The id of rule index i ("auth-required", ...), or NULL past the last. */
const char *webrtc_rule_id(size_t i);

#endif
