/*
 * webrtc_rules.h - the report's rules: one function per rule id, each
 * deciding from one event (and the client's User-Agent) whether it is
 * evidence of a broken or degraded WebRTC call, with the advice that fixes
 * it.  The engine (webrtc.c) owns the events and the client table; the
 * vendor facts come from vendors.h; wr_advice.c checks each advice against
 * the whole configuration and completes it.
 */
#ifndef PINHOLE_WEBRTC_RULES_H
#define PINHOLE_WEBRTC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "useragent.h"
#include "vendors.h"
#include "wr_event.h"

struct config;

enum wr_severity {
	WR_SEV_OK,
	WR_SEV_DEGRADED,
	WR_SEV_BREAKS,
};

/* Indices into wr_rules[], in the order of SPEC.md; new rules go last so
 * /metrics indices stay stable. */
enum wr_rule_index {
	WR_R_AUTH_REQUIRED,
	WR_R_TURN_AUTH_NOT_RETRIED,
	WR_R_KERBEROS_CHROME,
	WR_R_NEGOTIATE_WRONG_SPN,
	WR_R_AUTH_SCHEME_UNSUPPORTED,
	WR_R_PINNED_INSPECTED,
	WR_R_PINNING_FAILURE_OBSERVED,
	WR_R_DOMAIN_BLOCKED,
	WR_R_PORT_BLOCKED,
	WR_R_TURN_OVER_TCP,
	WR_R_STRICT_TLS_BREAKS_TURN,
	WR_R_WEBSOCKET_BLOCKED,
	WR_R_UNSUPPORTED_BROWSER,
	WR_R_IOS_BEHIND_PROXY,
	WR_R_OCSP_BLOCKED,
	WR_RULE_COUNT
};

/* How long a client has to repeat a request answered 407 (with
 * credentials) before the report concludes it never will: browsers that
 * can answer do so within milliseconds [MEASURED]. */
#define WR_TURN_RETRY_WINDOW_MS 5000

/* What an advice asks for. */
enum wr_advice_kind {
	/* Configuration changes, one per line ('\n' between lines): a
	 * directive to add (allow and noauth lines go before the first allow
	 * or deny rule), or "remove DIRECTIVE" for a line to take out. */
	WR_ADVICE_CONFIG,
	/* Something outside pinhole's configuration (the browser, the
	 * firewall, the keytab). */
	WR_ADVICE_OUTSIDE,
};

/* What a rule concludes from one event. */
struct wr_hit {
	enum wr_severity severity;
	unsigned vendors;   /* bit i = vendor_table[i] */
	const char *source; /* fact id(s) this hit rests on */
	char evidence[224];
	char advice[384];
	enum wr_advice_kind advice_kind;
	/* The destinations the advice's lines name, for the lines wr_advice
	 * adds: domain patterns ("" = any destination) and ports ("443",
	 * "80 443", "33434-33598"; "" = the event's port). */
	char patterns[160];
	char ports[40];
};

struct wr_ctx {
	const struct config *cfg; /* may be NULL */
	const struct ua_info *ua; /* the client's User-Agent (never NULL) */
	/* Whether some client sent STUN in a tunnel to host:port (NULL: never). */
	bool (*stun_seen)(void *arg, const char *host, uint16_t port);
	void *stun_arg;
};

typedef bool (*wr_rule_fn)(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);

struct wr_rule {
	const char *id;
	enum wr_severity severity; /* the worst it reports */
	const char *source;
	const char *description;
	wr_rule_fn fn;
	/* A hit on a 407 is only a candidate: the engine reports it when no
	 * retry with credentials follows within WR_TURN_RETRY_WINDOW_MS, and
	 * of the deferred rules that hit one 407 only the first in
	 * wr_deferred_order (the most specific explanation). */
	bool deferred;
};

extern const struct wr_rule wr_rules[WR_RULE_COUNT];
/* The deferred rules, most specific first. */
extern const enum wr_rule_index wr_deferred_order[3];

/* Whether host:port is where WebRTC happens: a vendor's destination (its
 * domains, a `preset cms` host, a vendor media port range on an address),
 * a TURN server (vendor_is_turn), or a target some client sent STUN to.
 * A 407 anywhere else (a browser's background traffic) is no finding. */
bool wr_dest_is_webrtc(const struct wr_ctx *ctx, const char *host, uint16_t port);

bool wr_rule_auth_required(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_turn_auth_not_retried(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_kerberos_chrome(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_negotiate_wrong_spn(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_auth_scheme_unsupported(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_pinned_inspected(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_pinning_failure_observed(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_domain_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_port_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_turn_over_tcp(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_strict_tls_breaks_turn(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_websocket_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_unsupported_browser(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_ios_behind_proxy(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);
bool wr_rule_ocsp_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit);

/* "breaks", "degraded", "ok". */
const char *wr_severity_name(enum wr_severity s);
/* "10:00:01" (UTC), as evidence strings say it. */
void wr_format_hms(uint64_t wall_ms, char *buf, size_t len);
/* "2026-11-21T10:00:01Z". */
void wr_format_iso(uint64_t wall_ms, char *buf, size_t len);

#endif
