/*
 * conn.h - one client connection and everything it is doing: reading a
 * request, resolving and connecting, relaying a tunnel, forwarding HTTP
 * requests and responses, answering errors.  Owned by one worker thread.
 */
#ifndef PINHOLE_CONN_H
#define PINHOLE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns.h"
#include "engine.h"
#include "list.h"
#include "loop.h"
#include "http.h"
#include "relay.h"

struct auth_conn;

struct worker;
struct config;

enum conn_state {
	CS_PROXY_HEADER, /* waiting for the PROXY protocol header */
	CS_HEAD,         /* reading a request head */
	CS_RESOLVE,      /* origin name lookup */
	CS_CONNECT,      /* connecting to the origin, address by address */
	CS_TUNNEL,       /* relaying bytes both ways (CONNECT, WebSocket) */
	CS_FORWARD,      /* forwarding one HTTP request and its response */
	CS_RESPOND,      /* sending pinhole's own answer, then closing */
	CS_CHALLENGE,    /* sending a 407 and dropping the request body; the connection stays */
	CS_TLS_ORIGIN,   /* inspection: TLS handshake with the origin */
	CS_TLS_CLIENT,   /* inspection: TLS handshake with the client, minted certificate */
	CS_AUTH_WAIT,    /* an auth helper is thinking; the request head waits in c.in */
	CS_LINGER,       /* closed for writing, discarding what the client still sends */
	CS_CLOSED,
};

/* What an inspected tunnel keeps across its requests (only inspected
 * connections pay for it). */
struct conn_tls {
	char sni[256];
	char host[HTTP_HOST_MAX]; /* the CONNECT's host and port */
	uint16_t port;
	char user[256]; /* who authenticated the CONNECT */
};

/* What one transaction owns (a request and its answer, or a tunnel), for
 * policy, the access log and the report: txn_begin lets go of the last
 * one's and starts every field from zero. */
struct txn {
	uint64_t start_wall, start_mono;
	uint64_t c_rbytes0, c_wbytes0; /* the client side's byte counts when it began */
	char method[24];
	char *url;
	char host[HTTP_HOST_MAX];
	uint16_t port;
	char ua[192];   /* the request's User-Agent, for the WebRTC report */
	char user[256]; /* the authenticated user, "" = none */
	int status;
	char mime[64];      /* the answer's Content-Type or the tunnel's type, for the log */
	char deny_rule[80]; /* "FILE:LINE" of the deny rule that refused the request */
	bool is_connect;
	bool head_request;
	bool upgrade;
	bool direct;           /* reached an origin (log: HIER_DIRECT) */
	bool response_started; /* head sent to the client: no error page any more */
	bool head_timer;       /* timeout header armed for the current head */
	bool sniffed;          /* the tunnel's first client bytes were classified */
	uint8_t fwd_phase;
	struct buf auth_extra; /* headers for the success answer (Negotiate mutual auth) */
	/* pinhole's own answer, logged once it is sent */
	bool pending_log;
	char result[24];
	char *error;
};

struct conn {
	struct worker *w;
	struct list link;        /* on the worker's list (engine_conn_add) */
	struct side c;           /* client */
	struct side o;           /* origin */
	struct loop_timer timer; /* the one deadline of the current state */
	struct loop_timer pace;  /* quirks delay and throttle */
	bool delayed;
	struct loop_defer rerun; /* more work to do after this batch */
	struct loop_defer release;
	enum conn_state state;
	struct config *cfg; /* reference for the current request */
	struct txn txn;     /* the current transaction */
	bool proxy_protocol;
	bool pp_untrusted; /* a proxy-protocol listener, but this peer is not in its from list */
	bool keepalive;    /* the client connection survives this request */
	bool auth_woken;   /* CS_AUTH_WAIT: the helper answered */
	bool auth_resumed; /* the head being handled again is the one that waited */
	struct sockaddr_storage client_addr;
	struct auth_conn *auth; /* handshakes of this connection (NULL until needed) */

	/* The origin side. */
	bool connecting;
	bool origin_reusable;
	bool origin_pinned; /* the origin connection carried NTLM/Negotiate: never pooled */
	bool reused_origin;
	bool origin_idle;   /* kept open after a response, for the next request */
	bool counted_tunnel; /* in stats' tunnels_active */
	uint64_t connect_start; /* for the connect latency histogram */
	struct buf retry_head;  /* request head to resend if a reused origin was stale */
	struct sockaddr_storage peer;
	bool has_peer;
	char origin_key[HTTP_HOST_MAX + 8]; /* "host:port" of the origin connection */
	struct dns_query *dnsq;
	struct dns_result *addrs;
	int addr_next;
	int connect_errno; /* last connect failure, for the error page */
	struct relay_frame up, down;
	uint64_t last_activity; /* when bytes last moved (tunnels, forwarding) */
	uint64_t moved;         /* c.rbytes + o.rbytes then */

	/* TLS inspection of this tunnel (c.ssl and o.ssl carry the requests). */
	bool inspecting;
	bool tls_refusing;           /* the origin's certificate failed: the client gets an alert */
	unsigned inspected_requests; /* requests seen inside the inspected session */
	struct conn_tls *tls;        /* allocated when a tunnel is inspected */
};

/* What the engine calls: accept, abort, close if idle (engine.h). */
extern const struct engine_handlers conn_handlers;

#endif
