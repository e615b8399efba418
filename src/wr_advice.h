/*
 * wr_advice.h - the report's advice checked against the whole
 * configuration.  It models what pinhole answers a request, in the order
 * of the request path (a refused WebSocket Upgrade, then noauth and
 * authentication, then allow/deny, then splice or inspect, then quirk
 * strict-tls), for a configuration with a few advice lines applied, and
 * completes an advice with the lines it needs so that applying it makes
 * its finding go away without a new one (a noauth line whose request no
 * allow rule covers turns a 407 into a 403).  The engine also uses it to
 * drop, after a reload, the findings the new configuration fixed.
 */
#ifndef PINHOLE_WR_ADVICE_H
#define PINHOLE_WR_ADVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "webrtc_rules.h"
#include "wr_event.h"

struct config;

/* A request as a client makes it. */
struct wr_sim_request {
	char method[16];
	char host[128];
	uint16_t port;
	struct sockaddr_storage src;
	char user[64];       /* who it authenticates as; "" = it carries no credentials */
	char scheme[12];     /* with which scheme ("" = the first configured) */
	char first_bytes[8]; /* CONNECT: "tls", "stun", "http", "other" */
	char sni[128];
	bool upgrade; /* asks for a WebSocket */
};

/* The request an event is about: a 407 carried no credentials, every
 * other event those of its user; a tunnel's first bytes are the event's,
 * else STUN for a TURN server [MEASURED] and TLS elsewhere. */
void wr_sim_request_from_event(const struct config *cfg, const struct wr_event *ev, struct wr_sim_request *rq);

#define WR_OVERLAY_MAX 6

/* Advice lines applied to a configuration: allow lines before its first
 * rule, noauth and no-inspect lines, and removed quirks. */
struct wr_overlay {
	struct matchset allow[WR_OVERLAY_MAX];
	size_t nallow;
	struct matchset noauth[WR_OVERLAY_MAX];
	size_t nnoauth;
	char no_inspect[WR_OVERLAY_MAX][128];
	size_t nno_inspect;
	bool drop_strict_tls, drop_no_websocket, drop_auth_everything, drop_inspect_all;
	char lines[4 * WR_OVERLAY_MAX][256]; /* as given, in order */
	size_t nlines;
};

/* Applies one advice line ("allow MATCHERS", "noauth MATCHERS",
 * "no-inspect PATTERN...", "remove quirk NAME").  0; 1 for a line the
 * model does not cover (another directive, a placeholder FILE); -1 for a
 * line that does not parse or when the overlay is full. */
int wr_overlay_add(struct wr_overlay *o, const char *line);
void wr_overlay_free(struct wr_overlay *o);

/* What pinhole answers. */
struct wr_sim_outcome {
	bool upgrade_refused; /* quirk no-websocket refused the Upgrade (the request goes on) */
	uint16_t status;      /* 407, 403, or 200 when the request goes through */
	char offered[48];     /* 407: the schemes */
	char rule[80];        /* 403: the deny rule's FILE:LINE, "" = no rule allowed it */
	bool authenticated;   /* it went through with its credentials */
	bool strict_tls_closed;
	bool inspected;
};

/* o may be NULL. */
void wr_simulate(const struct config *cfg, const struct wr_overlay *o, const struct wr_sim_request *rq,
                 struct wr_sim_outcome *out);

/* The events the request path publishes for that outcome, as the client of
 * tmpl (its address, User-Agent and time).  Returns how many (at most 5). */
size_t wr_sim_events(const struct config *cfg, const struct wr_sim_request *rq, const struct wr_sim_outcome *out,
                     const struct wr_event *tmpl, struct wr_event evs[5]);

/* Completes hit's advice (WR_ADVICE_CONFIG) for ev's request: applied to
 * cfg, the lines must get the request through without a 407, a 403, a
 * closing quirk or the inspection of a pinned domain; the lines that do so
 * are added (allow, noauth, no-inspect, removed quirks) and the advice is
 * rewritten in that order, one line each.  Returns true when the advised
 * configuration serves the request (or the advice is not the model's to
 * check), false when no line the model knows does. */
bool wr_advice_complete(const struct config *cfg, const struct wr_event *ev, struct wr_hit *hit);

/* Where allow and noauth lines go: before the first allow or deny rule of
 * cfg, as "FILE:LINE" (the `preset` line for a preset's rule); "" when cfg
 * has no rule. */
void wr_advice_where(const struct config *cfg, char *out, size_t len);

#endif
