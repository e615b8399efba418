/*
 * webrtc_rules.c - one function per report rule.  A rule looks at a single
 * event and the client's User-Agent and either stays silent or says what
 * broke, the evidence and the configuration line that fixes it.  Rules keep
 * no state: the pending 407s and the STUN targets live in webrtc.c, and
 * wr_advice.c completes an advice against the whole configuration.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "config.h"
#include "tls.h"
#include "webrtc_rules.h"

const struct wr_rule wr_rules[WR_RULE_COUNT] = {
	[WR_R_AUTH_REQUIRED] = { "auth-required", WR_SEV_BREAKS, "TOKBOX, MEASURED",
	                         "Proxy authentication was demanded on a TokBox destination or a TURN server "
	                         "and the client did not answer it within 5 s: WebRTC does not work with "
	                         "proxies that require authentication of clients that cannot answer.",
	                         wr_rule_auth_required, true },
	[WR_R_TURN_AUTH_NOT_RETRIED] = { "turn-auth-not-retried", WR_SEV_BREAKS, "MEASURED",
	                                 "A Chromium browser got 407 on a TURN CONNECT and never retried it: "
	                                 "the call has no media (ICE error 701).",
	                                 wr_rule_turn_auth_not_retried, true },
	[WR_R_KERBEROS_CHROME] = { "kerberos-chrome", WR_SEV_BREAKS, "MEASURED",
	                           "A Chromium browser was offered Negotiate (Kerberos) on a WebRTC destination and "
	                           "never answered it: Chromium answers Negotiate only when it was given the proxy "
	                           "by a host name that resolves and the keytab has HTTP/<that name> "
	                           "(by address it fails with ERR_PROXY_AUTH_UNSUPPORTED).",
	                           wr_rule_kerberos_chrome, true },
	[WR_R_NEGOTIATE_WRONG_SPN] = { "negotiate-wrong-spn", WR_SEV_BREAKS, "MEASURED",
	                               "A Negotiate ticket named a service principal the keytab lacks "
	                               "(the browser was given the proxy by IP address).",
	                               wr_rule_negotiate_wrong_spn, false },
	[WR_R_AUTH_SCHEME_UNSUPPORTED] = { "auth-scheme-unsupported", WR_SEV_BREAKS, "SPARK, TOKBOX",
	                                   "A 407 offered no scheme this client can use (the Webex app has no "
	                                   "Kerberos; Internet Explorer only Basic and NTLM): offer NTLM too, "
	                                   "from a users file or a Windows domain (auth ntlm helper).",
	                                   wr_rule_auth_scheme_unsupported, false },
	[WR_R_PINNED_INSPECTED] = { "pinned-inspected", WR_SEV_BREAKS, "SPARK",
	                            "A certificate-pinned vendor domain was TLS-inspected; the client treats "
	                            "that as an attack.",
	                            wr_rule_pinned_inspected, false },
	[WR_R_PINNING_FAILURE_OBSERVED] = { "pinning-failure-observed", WR_SEV_BREAKS, "SPARK",
	                                    "A client aborted the TLS handshake after pinhole's minted "
	                                    "certificate: the domain is pinned (pinning-learn on splices such "
	                                    "domains once several clients fail).",
	                                    wr_rule_pinning_failure_observed, false },
	[WR_R_DOMAIN_BLOCKED] = { "domain-blocked", WR_SEV_BREAKS, "SPARK, TOKBOX, CMS",
	                          "A request to a vendor domain on a port the vendor needs was denied.",
	                          wr_rule_domain_blocked, false },
	[WR_R_PORT_BLOCKED] = { "port-blocked", WR_SEV_BREAKS, "SPARK, CMS, MEASURED",
	                        "A CONNECT to a vendor media port or to a TURN server was denied.",
	                        wr_rule_port_blocked, false },
	[WR_R_TURN_OVER_TCP] = { "turn-over-tcp", WR_SEV_DEGRADED, "MEASURED",
	                         "Media runs as TURN over TCP through the proxy because UDP is blocked: "
	                         "latency and worse audio/video.",
	                         wr_rule_turn_over_tcp, false },
	[WR_R_STRICT_TLS_BREAKS_TURN] = { "strict-tls-breaks-turn", WR_SEV_BREAKS, "TOKBOX",
	                                  "quirk strict-tls closed a tunnel that carried no TLS (TURN over "
	                                  "TCP; Firefox has no TURN over TLS).",
	                                  wr_rule_strict_tls_breaks_turn, false },
	[WR_R_WEBSOCKET_BLOCKED] = { "websocket-blocked", WR_SEV_BREAKS, "SPARK, CMS",
	                             "A WebSocket Upgrade was refused; notifications and the web bridge "
	                             "need wss.",
	                             wr_rule_websocket_blocked, false },
	[WR_R_UNSUPPORTED_BROWSER] = { "unsupported-browser", WR_SEV_BREAKS, "CMS",
	                               "The browser is older than the supported versions (Chrome/Edge 88, "
	                               "Firefox 82, Safari 13) or is legacy Edge.",
	                               wr_rule_unsupported_browser, false },
	[WR_R_IOS_BEHIND_PROXY] = { "ios-behind-proxy", WR_SEV_BREAKS, "SPARK",
	                            "The Webex app on iPhone/iPad cannot be used behind a proxy.",
	                            wr_rule_ios_behind_proxy, false },
	[WR_R_OCSP_BLOCKED] = { "ocsp-blocked", WR_SEV_DEGRADED, "TOKBOX",
	                        "The certificate status hosts ocsp/crl.godaddy.com were not reachable "
	                        "(console warnings; the session still works).",
	                        wr_rule_ocsp_blocked, true },
};

const enum wr_rule_index wr_deferred_order[3] = {
	WR_R_KERBEROS_CHROME,
	WR_R_TURN_AUTH_NOT_RETRIED,
	WR_R_AUTH_REQUIRED,
};

const char *wr_severity_name(enum wr_severity s)
{
	switch (s) {
	case WR_SEV_BREAKS:
		return "breaks";
	case WR_SEV_DEGRADED:
		return "degraded";
	case WR_SEV_OK:
		break;
	}
	return "ok";
}

void wr_format_hms(uint64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "?");
}

void wr_format_iso(uint64_t wall_ms, char *buf, size_t len)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

/* ---- helpers ---- */

static void say(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* Appends to a NUL-terminated buffer, truncating. */
static void add(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void hit_init(struct wr_hit *hit, enum wr_severity sev, const char *source, unsigned vendors)
{
	hit->severity = sev;
	hit->source = source;
	hit->vendors = vendors;
	hit->evidence[0] = '\0';
	hit->advice[0] = '\0';
	hit->advice_kind = WR_ADVICE_CONFIG;
	hit->patterns[0] = '\0';
	hit->ports[0] = '\0';
}

/* The destinations the advice names (see struct wr_hit). */
static void hit_dest(struct wr_hit *hit, const char *patterns, const char *ports)
{
	snprintf(hit->patterns, sizeof(hit->patterns), "%s", patterns);
	snprintf(hit->ports, sizeof(hit->ports), "%s", ports);
}

static unsigned vendor_bit(const char *name)
{
	const struct vendor *v = vendor_find(name);

	return v ? 1u << (unsigned)(v - vendor_table) : 0;
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* "host:port", with IPv6 literals in brackets as in a CONNECT line. */
static const char *target(const struct wr_event *ev, char *buf, size_t len)
{
	if (strchr(ev->host, ':'))
		snprintf(buf, len, "[%.*s]:%u", 100, ev->host, ev->port);
	else
		snprintf(buf, len, "%.*s:%u", 120, ev->host, ev->port);
	return buf;
}

/* "407 on CONNECT api.opentok.com:443 at 10:00:01" */
static void status_evidence(const struct wr_event *ev, struct wr_hit *hit)
{
	char t[140], hms[16];

	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence), "%u on %.*s %s at %s", ev->status, 15,
	    ev->method[0] ? ev->method : "request", target(ev, t, sizeof(t)), hms);
}

static bool is_connect(const struct wr_event *ev)
{
	return ph_strcaseeq(ev->method, "CONNECT");
}

/* The dest of v that host:port belongs to: a named host first, "*" only
 * when star_ok.  port 0 = any port.  -1 when none. */
static int dest_for(const struct config *cfg, const struct vendor *v, const char *host, uint16_t port, bool star_ok)
{
	int star = -1;

	for (size_t i = 0; i < v->ndests; i++) {
		const struct vendor_dest *d = &v->dests[i];

		if (port && (port < d->port_lo || port > d->port_hi))
			continue;
		if (strcmp(d->host, "*") == 0) {
			if (star_ok && star < 0)
				star = (int)i;
			continue;
		}
		if (vendor_dest_host_match(cfg, d, host))
			return (int)i;
	}
	return star;
}

static bool word_listed(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* The patterns serving the same purpose as dest di, space-separated ("$HOST"
 * becomes host): an admin allowing api.opentok.com wants .tokbox.com too. */
static void group_patterns(const struct vendor *v, int di, const char *host, char *out, size_t len)
{
	const char *purpose = v->dests[di].purpose;

	out[0] = '\0';
	for (size_t i = 0; i < v->ndests; i++) {
		const char *h = v->dests[i].host;

		if (strcmp(v->dests[i].purpose, purpose) != 0 || strcmp(h, "*") == 0)
			continue;
		if (strcmp(h, "$HOST") == 0)
			h = host;
		if (!word_listed(out, h))
			add(out, len, "%s%s", out[0] ? " " : "", h);
	}
	if (!out[0])
		for (const char *const *d = v->domains; *d; d++)
			add(out, len, "%s%s", out[0] ? " " : "", *d);
}

/* The ports of the same group, "80 443" or "33434-33598". */
static void group_ports(const struct vendor *v, int di, char *out, size_t len)
{
	const struct vendor_dest *m = &v->dests[di];
	char one[16];

	out[0] = '\0';
	for (size_t i = 0; i < v->ndests; i++) {
		const struct vendor_dest *d = &v->dests[i];

		if (strcmp(d->purpose, m->purpose) != 0 || (strcmp(m->host, "*") == 0) != (strcmp(d->host, "*") == 0))
			continue;
		if (strcmp(m->host, "*") == 0 && d != m)
			continue;
		if (d->port_lo == d->port_hi)
			snprintf(one, sizeof(one), "%u", d->port_lo);
		else
			snprintf(one, sizeof(one), "%u-%u", d->port_lo, d->port_hi);
		if (!word_listed(out, one))
			add(out, len, "%s%s", out[0] ? " " : "", one);
	}
}

static const char *ua_name(const struct wr_ctx *ctx)
{
	return ctx->ua && ctx->ua->display[0] ? ctx->ua->display : "an unknown client";
}

static bool is_407(const struct wr_event *ev)
{
	return ev->kind == WR_REQUEST && ev->status == 407;
}

/* offered is the list of a 407's schemes, "Basic NTLM Negotiate". */
static bool offers(const char *offered, const char *scheme)
{
	char buf[sizeof(((struct wr_event *)0)->offered)];

	snprintf(buf, sizeof(buf), "%s", offered);
	for (char *save, *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		if (ph_strcaseeq(w, scheme))
			return true;
	return false;
}

static bool offers_only_kerberos(const char *offered)
{
	char buf[sizeof(((struct wr_event *)0)->offered)];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", offered);
	for (char *save, *w = strtok_r(buf, " ,", &save); w; w = strtok_r(NULL, " ,", &save), n++)
		if (!ph_strcaseeq(w, "Negotiate") && !ph_strcaseeq(w, "Kerberos"))
			return false;
	return n > 0;
}

/* Media ports are port-blocked's; domain-blocked takes 80 and 443. */
static bool media_port(uint16_t port)
{
	return port != 80 && port != 443;
}

static bool is_turn(const struct wr_ctx *ctx, const char *host, uint16_t port)
{
	return vendor_is_turn(ctx->cfg, host, port) || (ctx->stun_seen && ctx->stun_seen(ctx->stun_arg, host, port));
}

/* A media tunnel: one the request path recognised (an ALPN header naming
 * webrtc, a declared TURN server: WR_FLAG_WEBRTC), or a TURN destination. */
static bool ev_is_turn(const struct wr_ctx *ctx, const struct wr_event *ev)
{
	return (ev->flags & WR_FLAG_WEBRTC) || is_turn(ctx, ev->host, ev->port);
}

bool wr_dest_is_webrtc(const struct wr_ctx *ctx, const char *host, uint16_t port)
{
	if (!host || !host[0])
		return false;
	if (vendor_match(ctx->cfg, host) || is_turn(ctx, host, port))
		return true;
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];

		for (size_t j = 0; j < v->ndests; j++) {
			const struct vendor_dest *d = &v->dests[j];

			if (strcmp(d->host, "*") == 0) {
				/* Media servers reached by address. */
				if (media_port(port) && port >= d->port_lo && port <= d->port_hi && is_ip_literal(host))
					return true;
			} else if (vendor_dest_host_match(ctx->cfg, d, host)) {
				return true;
			}
		}
	}
	return false;
}

/* The noauth advice for a 407 on host:port: the vendor's group of domains
 * when host is a destination of a vendor whose WebRTC breaks behind
 * authentication (any_vendor: of any vendor), else the host and port. */
static void noauth_advice(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit, bool any_vendor)
{
	unsigned bits = vendor_match(ctx->cfg, ev->host);
	char pats[160], port[8];

	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];
		int di;

		if (!(bits & (1u << i)) || (!any_vendor && !v->auth_breaks))
			continue;
		di = dest_for(ctx->cfg, v, ev->host, ev->port, false);
		if (di < 0)
			di = dest_for(ctx->cfg, v, ev->host, 0, false);
		if (di < 0)
			continue;
		group_patterns(v, di, ev->host, pats, sizeof(pats));
		say(hit->advice, sizeof(hit->advice), "noauth domain %s", pats);
		hit_dest(hit, pats, "");
		return;
	}
	snprintf(port, sizeof(port), "%u", ev->port);
	say(hit->advice, sizeof(hit->advice), "noauth domain %.*s port %u", 120, ev->host, ev->port);
	snprintf(pats, sizeof(pats), "%.*s", 120, ev->host);
	hit_dest(hit, pats, port);
}

/* ---- the rules ---- */

/* Deferred: a 407 the client answers (Firefox does, on TURN CONNECTs too)
 * is no finding [MEASURED]. */
bool wr_rule_auth_required(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	unsigned bits;

	if (!is_407(ev) || !is_connect(ev))
		return false;
	bits = vendor_match(ctx->cfg, ev->host);
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];

		if (!(bits & (1u << i)) || !v->auth_breaks)
			continue;
		hit_init(hit, WR_SEV_BREAKS, v->auth_source, bits);
		status_evidence(ev, hit);
		add(hit->evidence, sizeof(hit->evidence), ", not answered within %d s", WR_TURN_RETRY_WINDOW_MS / 1000);
		noauth_advice(ctx, ev, hit, false);
		return true;
	}
	if (!ev_is_turn(ctx, ev))
		return false;
	/* A TURN server of no vendor: the fact is the measured one. */
	hit_init(hit, WR_SEV_BREAKS, "MEASURED", bits);
	status_evidence(ev, hit);
	add(hit->evidence, sizeof(hit->evidence), " (a TURN server), not answered within %d s",
	    WR_TURN_RETRY_WINDOW_MS / 1000);
	noauth_advice(ctx, ev, hit, false);
	return true;
}

/* Firefox answers the 407 and retries; Chromium never does [MEASURED]. */
bool wr_rule_turn_auth_not_retried(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	if (!is_407(ev) || !is_connect(ev) || !ctx->ua || !ctx->ua->chromium)
		return false;
	if (!ev_is_turn(ctx, ev))
		return false;
	hit_init(hit, WR_SEV_BREAKS, "MEASURED", vendor_match(ctx->cfg, ev->host));
	status_evidence(ev, hit);
	add(hit->evidence, sizeof(hit->evidence), " from %s, not retried within %d s", ua_name(ctx),
	    WR_TURN_RETRY_WINDOW_MS / 1000);
	say(hit->advice, sizeof(hit->advice), "noauth domain %.*s port %u", 120, ev->host, ev->port);
	snprintf(hit->patterns, sizeof(hit->patterns), "%.*s", 120, ev->host);
	snprintf(hit->ports, sizeof(hit->ports), "%u", ev->port);
	return true;
}

/* Only on evidence that Negotiate failed: Chromium 156 with a ticket
 * answers Negotiate on its TURN CONNECT and the call connects; it fails
 * when it was given the proxy by address (it asks for HTTP/<address>) or
 * holds no ticket, and then never answers [MEASURED].  Deferred, so an
 * answered 407 is no finding. */
bool wr_rule_kerberos_chrome(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	/* The Webex app has no Kerberos at all: auth-scheme-unsupported. */
	if (!is_407(ev) || !offers(ev->offered, "Negotiate") || !ctx->ua || !ctx->ua->chromium || ctx->ua->webex_app)
		return false;
	if (!(ev->flags & WR_FLAG_WEBRTC) && !wr_dest_is_webrtc(ctx, ev->host, ev->port))
		return false;
	hit_init(hit, WR_SEV_BREAKS, "MEASURED", vendor_match(ctx->cfg, ev->host));
	status_evidence(ev, hit);
	add(hit->evidence, sizeof(hit->evidence),
	    " offering %s to %s, never answered within %d s (Chromium answers Negotiate only when given the "
	    "proxy by a host name that resolves)",
	    ev->offered, ua_name(ctx), WR_TURN_RETRY_WINDOW_MS / 1000);
	noauth_advice(ctx, ev, hit, true);
	return true;
}

bool wr_rule_negotiate_wrong_spn(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	char hms[16], svc[100];
	const char *slash, *at;
	size_t n;

	if (ev->kind != WR_NEGOTIATE_WRONG_SPN)
		return false;
	hit_init(hit, WR_SEV_BREAKS, "MEASURED", 0);
	hit->advice_kind = WR_ADVICE_OUTSIDE;
	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence), "Negotiate ticket for %.*s, which the keytab lacks, at %s", 95,
	    ev->detail[0] ? ev->detail : "an unknown service", hms);
	/* The host part shows how the browser was given the proxy. */
	snprintf(svc, sizeof(svc), "%s", ev->detail);
	slash = strchr(svc, '/');
	at = slash ? strchr(slash, '@') : NULL;
	n = slash ? (size_t)((at ? at : svc + strlen(svc)) - slash - 1) : 0;
	if (slash && n > 0) {
		char host[100];

		snprintf(host, sizeof(host), "%.*s", (int)n, slash + 1);
		if (is_ip_literal(host))
			say(hit->advice, sizeof(hit->advice),
			    "configure browsers with the proxy's host name, not %s, so they ask for HTTP/<name>; "
			    "or add %.*s to the keytab",
			    host, 95, ev->detail);
		else
			say(hit->advice, sizeof(hit->advice),
			    "add %.*s to the keytab (auth negotiate keytab FILE), or configure browsers with the "
			    "name the keytab has",
			    95, ev->detail);
	} else {
		say(hit->advice, sizeof(hit->advice),
		    "configure browsers with the proxy's host name (so they ask for HTTP/<name>) or add that "
		    "principal to the keytab");
	}
	PH_UNUSED(ctx);
	return true;
}

/* The Webex app has no Kerberos [SPARK]; Internet Explorer speaks Basic and
 * NTLM only [TOKBOX].  NTLM is what both speak and what a Windows domain
 * serves (auth ntlm helper with Samba's ntlm_auth). */
bool wr_rule_auth_scheme_unsupported(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	const char *source;

	if (!is_407(ev) || !ev->offered[0] || !ctx->ua)
		return false;
	if (ctx->ua->webex_app && offers_only_kerberos(ev->offered))
		source = "SPARK";
	else if (ctx->ua->browser == UA_IE && !offers(ev->offered, "Basic") && !offers(ev->offered, "NTLM"))
		source = "TOKBOX";
	else
		return false;
	if (!(ev->flags & WR_FLAG_WEBRTC) && !wr_dest_is_webrtc(ctx, ev->host, ev->port) && !ctx->ua->webex_app)
		return false;
	hit_init(hit, WR_SEV_BREAKS, source, vendor_match(ctx->cfg, ev->host));
	status_evidence(ev, hit);
	add(hit->evidence, sizeof(hit->evidence), " offered only %s to %s", ev->offered, ua_name(ctx));
	say(hit->advice, sizeof(hit->advice), "auth ntlm users FILE");
	return true;
}

static const char *inspected_name(const struct wr_event *ev)
{
	return ev->sni[0] ? ev->sni : ev->host;
}

bool wr_rule_pinned_inspected(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	const char *name = inspected_name(ev);
	char hms[16];

	if (ev->kind != WR_INSPECTED)
		return false;
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];

		for (const char *const *p = v->pinned; *p; p++) {
			if (!vendor_pattern_match(*p, name))
				continue;
			hit_init(hit, WR_SEV_BREAKS, v->pinned_source, vendor_match(ctx->cfg, name) | (1u << i));
			wr_format_hms(ev->wall_ms, hms, sizeof(hms));
			say(hit->evidence, sizeof(hit->evidence), "TLS of %.*s inspected at %s (pinned by %s)", 120,
			    name, hms, v->name);
			say(hit->advice, sizeof(hit->advice), "no-inspect %s", *p);
			hit_dest(hit, *p, "443");
			return true;
		}
	}
	return false;
}

bool wr_rule_pinning_failure_observed(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	const char *name = inspected_name(ev);
	char hms[16], n[130];

	if (ev->kind != WR_PINNING_FAILURE)
		return false;
	hit_init(hit, WR_SEV_BREAKS, "SPARK", vendor_match(ctx->cfg, name));
	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence), "%.*s refused the minted certificate for %.*s (%.*s) at %s", 40,
	    ua_name(ctx), 100, name, 60, ev->detail[0] ? ev->detail : "aborted", hms);
	snprintf(n, sizeof(n), "%.*s", 120, name);
	say(hit->advice, sizeof(hit->advice), "no-inspect %s", n);
	hit_dest(hit, n, "443");
	return true;
}

static void denied_by(const struct wr_event *ev, struct wr_hit *hit)
{
	if (ev->rule[0])
		add(hit->evidence, sizeof(hit->evidence), " (denied by %s)", ev->rule);
	else
		add(hit->evidence, sizeof(hit->evidence), " (no rule allowed it)");
}

bool wr_rule_domain_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	unsigned bits;
	char pats[160], ports[40];

	if (ev->kind != WR_REQUEST || ev->status != 403 || media_port(ev->port))
		return false;
	bits = vendor_match(ctx->cfg, ev->host);
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];
		int di;

		if (!(bits & (1u << i)))
			continue;
		di = dest_for(ctx->cfg, v, ev->host, ev->port, true);
		if (di < 0)
			continue;
		hit_init(hit, v->dests[di].required ? WR_SEV_BREAKS : WR_SEV_DEGRADED, v->dests[di].source, bits);
		status_evidence(ev, hit);
		denied_by(ev, hit);
		group_patterns(v, di, ev->host, pats, sizeof(pats));
		group_ports(v, di, ports, sizeof(ports));
		say(hit->advice, sizeof(hit->advice), "allow domain %s port %s", pats, ports);
		hit_dest(hit, pats, ports);
		return true;
	}
	return false;
}

/* A "*" dest (Webex media to dynamic address ranges) counts for IP
 * literals and the vendor's own names only: 8000-8100 would otherwise claim
 * every denied CONNECT to port 8080.  A TURN server of no vendor is media
 * too [MEASURED]. */
bool wr_rule_port_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	unsigned bits;
	bool ip;
	char pats[160], ports[40];

	if (ev->kind != WR_REQUEST || ev->status != 403 || !is_connect(ev))
		return false;
	bits = vendor_match(ctx->cfg, ev->host);
	ip = is_ip_literal(ev->host);
	for (size_t i = 0; i < vendor_count && media_port(ev->port); i++) {
		const struct vendor *v = &vendor_table[i];
		const struct vendor_dest *d;
		int di = dest_for(ctx->cfg, v, ev->host, ev->port, ip || (bits & (1u << i)));

		if (di < 0)
			continue;
		d = &v->dests[di];
		hit_init(hit, d->required ? WR_SEV_BREAKS : WR_SEV_DEGRADED, d->source, bits | (1u << i));
		status_evidence(ev, hit);
		add(hit->evidence, sizeof(hit->evidence), ", %s %s", v->name, d->purpose);
		denied_by(ev, hit);
		group_ports(v, di, ports, sizeof(ports));
		if (strcmp(d->host, "*") == 0) {
			say(hit->advice, sizeof(hit->advice), "allow port %s", ports);
			hit_dest(hit, "", ports);
		} else {
			group_patterns(v, di, ev->host, pats, sizeof(pats));
			say(hit->advice, sizeof(hit->advice), "allow domain %s port %s", pats, ports);
			hit_dest(hit, pats, ports);
		}
		return true;
	}
	if (!ev_is_turn(ctx, ev))
		return false;
	/* On 80 and 443 a vendor's TURN host is domain-blocked's. */
	if (!media_port(ev->port)) {
		struct wr_hit other;

		if (wr_rule_domain_blocked(ctx, ev, &other))
			return false;
	}
	hit_init(hit, WR_SEV_BREAKS, "MEASURED", bits);
	status_evidence(ev, hit);
	add(hit->evidence, sizeof(hit->evidence), ", a TURN server");
	denied_by(ev, hit);
	snprintf(pats, sizeof(pats), "%.*s", 120, ev->host);
	snprintf(ports, sizeof(ports), "%u", ev->port);
	say(hit->advice, sizeof(hit->advice), "allow domain %s port %s", pats, ports);
	hit_dest(hit, pats, ports);
	return true;
}

bool wr_rule_turn_over_tcp(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	char t[140], hms[16];

	if (ev->kind != WR_TUNNEL_PROTO || !ph_strcaseeq(ev->detail, "stun"))
		return false;
	hit_init(hit, WR_SEV_DEGRADED, "MEASURED", vendor_match(ctx->cfg, ev->host));
	hit->advice_kind = WR_ADVICE_OUTSIDE;
	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence),
	    "STUN in the CONNECT tunnel to %s%s%.63s at %s: media runs TURN over TCP", target(ev, t, sizeof(t)),
	    ev->parent[0] ? " through parent " : "", ev->parent, hms);
	say(hit->advice, sizeof(hit->advice),
	    "open UDP 3478 (and the vendor's UDP media ports, e.g. 33434 for Webex) in the firewall; "
	    "this is not a pinhole setting");
	return true;
}

bool wr_rule_strict_tls_breaks_turn(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	char t[140], hms[16];

	if (ev->kind != WR_STRICT_TLS_CLOSED)
		return false;
	hit_init(hit, WR_SEV_BREAKS, "TOKBOX", vendor_match(ctx->cfg, ev->host));
	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence), "quirk strict-tls closed the tunnel to %s (first bytes: %.*s) at %s",
	    target(ev, t, sizeof(t)), 40, ev->detail[0] ? ev->detail : "not TLS", hms);
	say(hit->advice, sizeof(hit->advice), "remove quirk strict-tls");
	return true;
}

bool wr_rule_websocket_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	char t[140], hms[16];
	unsigned bits;

	if (ev->kind != WR_UPGRADE_REFUSED)
		return false;
	bits = vendor_match(ctx->cfg, ev->host);
	hit_init(hit, WR_SEV_BREAKS, (bits & vendor_bit("cms")) ? "CMS" : "SPARK", bits);
	wr_format_hms(ev->wall_ms, hms, sizeof(hms));
	say(hit->evidence, sizeof(hit->evidence), "WebSocket Upgrade to %s refused at %s", target(ev, t, sizeof(t)),
	    hms);
	say(hit->advice, sizeof(hit->advice), "remove quirk no-websocket");
	return true;
}

/* CMS 3.1.1's minimum versions; Yandex 20.8 is the oldest it lists. */
bool wr_rule_unsupported_browser(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	const struct ua_info *ua = ctx->ua;
	int min = 0;
	enum wr_severity sev = WR_SEV_DEGRADED;
	const char *source = "CMS";
	char why[80];

	if (ev->kind != WR_REQUEST || !ev->user_agent[0] || !ua || !ua_is_browser(ua) || ua->webex_app)
		return false;
	switch (ua->browser) {
	case UA_CHROME:
	case UA_CHROMIUM:
	case UA_EDGE:
		min = 88;
		break;
	case UA_FIREFOX:
		min = 82;
		break;
	case UA_SAFARI:
		min = 13;
		break;
	case UA_YANDEX:
		min = 20;
		break;
	default:
		break;
	}
	if (ua->legacy_edge) {
		sev = WR_SEV_BREAKS;
		snprintf(why, sizeof(why), "legacy Edge is not supported");
	} else if (ua->browser == UA_IE) {
		/* No WebRTC at all without a plug-in. */
		sev = WR_SEV_BREAKS;
		source = "TOKBOX, CMS";
		snprintf(why, sizeof(why), "Internet Explorer needs a plug-in and is not supported by CMS");
	} else if (min && ua->major > 0 && ua->major < min) {
		snprintf(why, sizeof(why), "older than %s %d", ua_browser_name(ua->browser), min);
	} else {
		return false;
	}
	hit_init(hit, sev, source, 0);
	hit->advice_kind = WR_ADVICE_OUTSIDE;
	say(hit->evidence, sizeof(hit->evidence), "User-Agent %s on %s: %s", ua->display, ua_os_name(ua->os), why);
	say(hit->advice, sizeof(hit->advice), "update the browser (Chrome or Edge 88, Firefox 82, Safari 13 or later)");
	return true;
}

bool wr_rule_ios_behind_proxy(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	if (ev->kind != WR_REQUEST || !ev->user_agent[0] || !ctx->ua || !ctx->ua->webex_app || !ctx->ua->ios_device)
		return false;
	hit_init(hit, WR_SEV_BREAKS, "SPARK", vendor_match(ctx->cfg, ev->host) | vendor_bit("webex"));
	hit->advice_kind = WR_ADVICE_OUTSIDE;
	say(hit->evidence, sizeof(hit->evidence), "Webex app on an iPhone/iPad (User-Agent %.*s)", 150, ev->user_agent);
	say(hit->advice, sizeof(hit->advice),
	    "let iPhones and iPads reach Webex without the proxy (e.g. a guest Wi-Fi); this is not a pinhole setting");
	return true;
}

/* Deferred on a 407: browsers answer it for these fetches too. */
bool wr_rule_ocsp_blocked(const struct wr_ctx *ctx, const struct wr_event *ev, struct wr_hit *hit)
{
	unsigned bit = vendor_bit("tokbox");

	if (ev->kind != WR_REQUEST ||
	    (strcmp(ev->host, "ocsp.godaddy.com") != 0 && strcmp(ev->host, "crl.godaddy.com")))
		return false;
	if (ev->status != 403 && ev->status != 407 && ev->status < 500)
		return false;
	hit_init(hit, WR_SEV_DEGRADED, "TOKBOX", bit);
	status_evidence(ev, hit);
	hit_dest(hit, "ocsp.godaddy.com crl.godaddy.com", "80 443");
	if (ev->status == 403) {
		denied_by(ev, hit);
		say(hit->advice, sizeof(hit->advice), "allow domain ocsp.godaddy.com crl.godaddy.com port 80 443");
	} else if (ev->status == 407) {
		add(hit->evidence, sizeof(hit->evidence), ", not answered within %d s", WR_TURN_RETRY_WINDOW_MS / 1000);
		say(hit->advice, sizeof(hit->advice), "noauth domain ocsp.godaddy.com crl.godaddy.com");
	} else {
		hit->advice_kind = WR_ADVICE_OUTSIDE;
		say(hit->advice, sizeof(hit->advice),
		    "let the proxy reach ocsp.godaddy.com and crl.godaddy.com (its DNS and outbound firewall); "
		    "this is not a pinhole setting");
	}
	PH_UNUSED(ctx);
	return true;
}
