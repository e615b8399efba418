/*
 * conn.h - one client connection and everything it is doing: reading a
 * request, resolving and connecting, relaying a tunnel, forwarding HTTP
 * requests and responses, answering errors.  Owned by one worker thread.
 * The types and the request path's internal interface; main.c needs only
 * conn_handlers.
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
#include "wr_event.h"

struct auth_conn;
struct rule;

struct worker;
struct config;

enum conn_state {
	CS_PROXY_HEADER, /* waiting for the PROXY protocol header */
	CS_TLS_ACCEPT,   /* an HTTPS proxy listener: the TLS handshake with the client */
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
	CS_PARENT,       /* a parent proxy: TLS with it, a CONNECT, an authentication leg */
	CS_LINGER,       /* closed for writing, discarding what the client still sends */
	CS_LOCAL,        /* a request pinhole answers itself (the self-check page): its body, its answer */
	CS_LOCAL_WS,     /* the self-check page's WebSocket echo */
	CS_CLOSED,
};

/* What an inspected tunnel keeps across its requests (only inspected
 * connections pay for it). */
struct conn_tls {
	char sni[256];
	char host[HTTP_HOST_MAX]; /* the CONNECT's host and port */
	uint16_t port;
	char user[256];   /* who authenticated the CONNECT */
	const char *auth; /* and how (struct txn's auth) */
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
	char ua[192];     /* the request's User-Agent, for the WebRTC report */
	char user[256];   /* the authenticated user, "" = none */
	const char *auth; /* how: "basic", ..., "surrogate"; NULL = not authenticated here */
	int status;
	char mime[64];      /* the answer's Content-Type or the tunnel's type, for the log */
	char deny_rule[80]; /* "FILE:LINE" of the deny rule that refused the request */
	bool is_connect;
	bool webrtc; /* a WebRTC media tunnel: ALPN webrtc/c-webrtc, or to a declared TURN server */
	bool head_request;
	bool upgrade;
	bool direct;           /* reached an origin (log: HIER_DIRECT) */
	bool via_parent;       /* went through a parent proxy (log: FIRSTUP_PARENT) */
	bool response_started; /* head sent to the client: no error page any more */
	bool head_timer;       /* timeout header armed for the current head */
	bool sniffed;          /* the tunnel's first client bytes were classified */
	uint8_t fwd_phase;
	uint8_t local_phase;   /* CS_LOCAL (local.c) */
	uint32_t local_body;   /* CS_LOCAL: the posted body's length */
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
	/* A CONNECT to the self-check host: its requests are pinhole's to
	 * answer, as the user who authenticated the CONNECT. */
	bool local;
	const char *local_auth;
	char local_user[256];

	/* The origin side. */
	bool connecting;
	bool origin_reusable;
	bool origin_pinned; /* the origin connection carried NTLM/Negotiate: never pooled */
	bool reused_origin;
	bool origin_idle;       /* kept open after a response, for the next request */
	bool counted_tunnel;    /* in stats' tunnels_active */
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

	/* A client of an HTTPS proxy listener (client_tls.c): c.ssl is its
	 * session, c.lower when an inspected one runs inside it. */
	bool client_tls;
	const struct listen_tls *listen_tls; /* its certificate, until the handshake starts */
	struct config *listen_cfg;           /* the configuration listen_tls belongs to (a reference) */

	/* Parent proxies: the line and parent of the request, and what the
	 * origin side is to it (parent.c; allocated when first needed). */
	struct conn_parent *parent;
};

/* What the engine calls: accept, abort, close if idle (engine.h). */
extern const struct engine_handlers conn_handlers;

/*
 * The request path's own interface, for its files: conn.c runs the state
 * machine and owns what every job shares (below); tunnel.c, forward.c,
 * inspect.c and access.c are the jobs, each with its steps.  Every step
 * returns a step result (common.h): PH_OK the state may have changed, run
 * again; PH_AGAIN wait for the loop; PH_DONE the connection's work is over
 * (a normal close); PH_ERROR close, the cause was logged.
 */

/* conn.c */
void conn_run(struct conn *c);
void conn_close(struct conn *c);
/* Starts a new transaction (struct txn) on the connection. */
void conn_txn_begin(struct conn *c);
/* Sets the single deadline of the connection (0: none). */
void conn_deadline(struct conn *c, uint64_t ms);
/* Answers with status and a one-line text/plain body naming the cause,
 * logs it, and closes the connection once the answer is sent; when the
 * answer's head already went out, logs and ends the connection instead.
 * Returns the step result to return. */
int conn_fail(struct conn *c, int status, const char *result, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* One access-log line for the transaction, and its report event. */
void conn_log(struct conn *c, const char *result, int status, const char *error);
/* Every event for the WebRTC report goes out here: what every kind
 * carries comes from the connection and its transaction; detail is the
 * kind's own text (the scheme of WR_AUTH_OK, what a tunnel's first bytes
 * were, how a handshake failed, a wrong SPN) and sni a TLS name. */
void conn_report(struct conn *c, enum wr_kind kind, const char *detail, const char *sni);
/* Starts a direction's framing, throttled when the quirk says so. */
void conn_frame_start(struct conn *c, struct relay_frame *f, enum relay_kind kind, uint64_t length);
/* Bytes moved since the last look restart the idle clock. */
void conn_note_activity(struct conn *c);
/* Comes back after this batch when a relay yielded with work left, or
 * when throttled. */
void conn_yield(struct conn *c, int r_up, int r_down);
/* HTTP/1.0, or Connection: close (Proxy-Connection: close from old
 * clients): the connection ends with this answer. */
bool conn_client_wants_close(const struct http_request *req);
/* The origin socket goes back to the worker's pool (reusable and not
 * pinned by NTLM/Negotiate), or is closed. */
void conn_origin_release(struct conn *c, bool reusable);
/* Makes fd (connected to the origin) the connection's origin side. */
void conn_attach_origin(struct conn *c, int fd);

/* access.c: proxy authentication and the access rules. */
struct acl_subject;
struct http_authority;
/* What policy sees of this request (dst is storage for an IP literal). */
void access_subject(struct conn *c, const struct http_authority *a, struct acl_subject *s,
                    struct sockaddr_storage *dst);
/* PH_OK the request goes on (authenticated, or exempt by noauth);
 * PH_AGAIN a helper is asked and the head waits in c.in; PH_DONE a 407 or
 * 502 is queued.  body is the request body's framing, dropped after a 407. */
int access_authenticate(struct conn *c, const struct http_request *req, const struct http_authority *a,
                        const struct relay_frame *body);
int access_challenge_step(struct conn *c); /* CS_CHALLENGE */
int access_wait_step(struct conn *c);      /* CS_AUTH_WAIT */
/* The rules before the destination's address is known: true when the
 * request may go on (allowed, or the rules need the address); otherwise
 * the 403 answer is queued. */
bool access_allowed(struct conn *c, const struct http_authority *a);
/* The same for a request a parent proxy resolves: what the name says
 * alone decides (IP patterns match no name). */
bool access_allowed_unresolved(struct conn *c, const struct http_authority *a);
/* What the rules say of the address the request is about to reach. */
enum addr_verdict {
	ADDR_ALLOWED,
	ADDR_DENIED, /* by a deny rule */
	ADDR_NO_RULE,
	ADDR_LOCAL, /* the proxy host itself, and no rule names it */
};
enum addr_verdict access_address(struct conn *c, const struct sockaddr_storage *addr, const struct rule **rule);
/* Queues the 403 for an address access_address refused. */
int access_refuse_address(struct conn *c, const struct sockaddr_storage *addr, enum addr_verdict v,
                          const struct rule *rule);

/* tunnel.c: CONNECT. */
int tunnel_request(struct conn *c, const struct http_request *req);
/* The origin is connected: the 200, and the tunnel. */
int tunnel_start(struct conn *c);
int tunnel_step(struct conn *c); /* CS_TUNNEL */
void tunnel_timeout(struct conn *c, uint64_t now);
uint64_t tunnel_idle_ms(const struct conn *c);

/* forward.c: plain HTTP. */
int forward_request(struct conn *c, const struct http_request *req);
int forward_step(struct conn *c); /* CS_FORWARD */
void forward_timeout(struct conn *c, uint64_t now);

/* local.c: requests to the self-check host, answered by pinhole. */
struct http_uri;
/* A request to it (uri: its absolute URI; NULL inside a CONNECT to it). */
int local_request(struct conn *c, const struct http_request *req, const struct http_uri *uri);
/* A CONNECT to it (browsers open ws:// so). */
int local_connect(struct conn *c, const struct http_authority *a);
int local_step(struct conn *c);    /* CS_LOCAL */
int local_ws_step(struct conn *c); /* CS_LOCAL_WS */

/* client_tls.c: the client's TLS on an HTTPS proxy listener. */
struct listen_cfg;
/* A connection accepted by lc: a TLS listener's starts with the handshake
 * (after a PROXY protocol header when there is one). */
void client_tls_accept(struct conn *c, struct config *cfg, const struct listen_cfg *lc);
int client_tls_step(struct conn *c); /* CS_TLS_ACCEPT */
/* timeout header ran out during the handshake. */
void client_tls_timeout(struct conn *c);
/* Whether a plain listener's first bytes are a TLS handshake record. */
bool client_tls_is_hello(const char *p, size_t len);
/* Answers them: a TLS alert, and an error-log line saying why. */
int client_tls_misdirected(struct conn *c);

/* parent.c: requests and tunnels through a parent proxy (upstream-proxy). */
struct upstream_parent;
/* The parent this request goes through (its line's first parent that is
 * up), after the destination checks that need no name resolution; NULL
 * when it goes direct.  *answered: pinhole's own answer is queued instead
 * (a 403, or a 502 when every parent of the line is down). */
const struct upstream_parent *parent_choose(struct conn *c, const struct http_authority *a, bool *answered);
/* Whether the origin side is being connected to a parent, and which
 * (host and port to resolve and connect). */
bool parent_target(const struct conn *c, const char **host, uint16_t *port);
/* The parent's name did not resolve, or no address of it connected
 * (c->connect_errno): the next parent of the line, or 502/504. */
int parent_resolve_failed(struct conn *c, const char *why);
int parent_connect_failed(struct conn *c);
/* A new connection to the parent ended before any answer (closed,
 * reset): the parent is marked down and the next one takes the request
 * when it can be sent again, else 502. */
int parent_lost(struct conn *c, const char *why);
/* The parent is connected: TLS with it, the CONNECT, or the request. */
int parent_connected(struct conn *c);
int parent_step(struct conn *c); /* CS_PARENT */
void parent_timeout(struct conn *c, uint64_t now);
/* The destination checks of a request a parent resolves: IP literals
 * and hosts-file names meet the address rules, other names the rules by
 * name.  False with the 403 queued. */
bool parent_destination_allowed(struct conn *c, const struct http_authority *a);
/* Whether this connection's tunnel goes through a parent (inspected
 * requests inside it do too). */
bool parent_tunnel(const struct conn *c);
/* A new socket is the origin side: it carries no authentication yet. */
void parent_attached(struct conn *c);
/* The parent ("host:port") the transaction went through, and its host;
 * NULL when none. */
const char *parent_via(const struct conn *c, const char **host);
void parent_free(struct conn *c);
/* forward.c: the request head for parent p (absolute form, pinhole's
 * Proxy-Authorization) into c->o.out; p is connected or kept. */
void parent_request(struct conn *c, const struct upstream_parent *p, const struct http_request *req,
                    const struct http_uri *uri, const struct http_framing *fr);
/* A kept connection to the parent carries the request. */
void parent_reused(struct conn *c);
/* Before the body goes out: a small body is read whole first, so that it
 * can be sent again after a 407. */
int parent_hold_step(struct conn *c);
/* The parent's final answer to a request: true when pinhole took it (a
 * 407 it answers, or a 502 naming why it cannot); false: relay it. */
bool parent_response(struct conn *c, const struct http_response *resp);

/* inspect.c: TLS inspection of a tunnel. */
struct sniff_result;
/* Splices or inspects the tunnel whose first bytes are of kind; starts the
 * origin handshake (state CS_TLS_ORIGIN) when it inspects. */
int inspect_decide(struct conn *c, int kind, const struct sniff_result *sr, bool pipelined, bool mismatch);
int inspect_origin_step(struct conn *c); /* CS_TLS_ORIGIN */
int inspect_client_step(struct conn *c); /* CS_TLS_CLIENT */
/* Whether the ClientHello's SNI names another host than the CONNECT. */
bool inspect_sni_mismatch(struct conn *c, const char *sni);
/* A request inside the inspected session. */
int inspect_request(struct conn *c, const struct http_request *req);
/* The client refused the minted certificate (alert, or -1 for none). */
void inspect_pinning_failure(struct conn *c, const char *how, int alert);

#endif
