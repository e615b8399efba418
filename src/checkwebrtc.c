/*
 * checkwebrtc.c - `pinhole check-webrtc`: evaluates the CONNECTs each vendor's
 * clients make (vendors.h) against a configuration's rules, noauth list,
 * authentication schemes and quirks, and prints one row per requirement with
 * the line that would fix it.  It owns no policy of its own: access is
 * acl_check on the parsed rules, exactly as the request path decides it.
 */
#include "checkwebrtc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "auth.h"
#include "common.h"
#include "config.h"
#include "escape.h"
#include "server.h"
#include "strbuf.h"
#include "turn.h"
#include "useragent.h"
#include "quirks.h"
#include "surrogate.h"
#include "tls.h"
#include "vendors.h"

/* Destinations that stand for "any host" (vendors.h "*"): an address from
 * the documentation range (RFC 5737), since media servers are often reached
 * by address, and a name. */
#define ANY_ADDR "192.0.2.10"
#define ANY_NAME "check.example.com"
#define DEFAULT_SRC "10.0.0.5"

enum result {
	RES_OK,
	RES_DEGRADED,
	RES_BREAKS,
};

static const char *const result_names[] = { "ok", "degraded", "breaks" };

enum fix_kind {
	FIX_NONE,
	FIX_ALLOW,  /* allow domain PATTERN port PORTS (no pattern: any destination) */
	FIX_NOAUTH, /* noauth domain PATTERN (no pattern: noauth port PORTS) */
	FIX_LINE,   /* a change in words: text */
};

struct fix {
	enum fix_kind kind;
	char pattern[256];
	char ports[16];
	const char *before_file; /* FIX_ALLOW: the deny rule it must come before */
	int before_line;
	char text[200];
};

struct finding {
	const struct vendor *vendor;
	char requirement[200];
	enum result result;
	const char *source;
	char detail[1024];
	struct fix fix;
};

struct check {
	const struct config *cfg;
	struct sockaddr_storage src;
	const char *user; /* the client's, when it authenticated (the self-check page); NULL */
	struct finding *f;
	size_t n, cap;
	bool auth_on;
	bool all_vendors; /* no vendor named, on the command line or by a preset */
	bool has_basic, has_digest, has_ntlm, has_negotiate;
	bool short_names; /* name files without their directories (the self-check page) */
	bool firefox;     /* the client is Firefox, which answers a 407 on its TURN CONNECT */
};

/* Where a line is, for a detail: the people behind the proxy (the
 * self-check page) see the file's name, not the admin's directories. */
static const char *where(const struct check *ck, const char *file)
{
	const char *slash;

	if (!file)
		return "?";
	slash = strrchr(file, '/');
	return ck->short_names && slash ? slash + 1 : file;
}

static struct finding *finding_add(struct check *ck, const struct vendor *v, enum result r, const char *source)
{
	struct finding *f;

	if (ck->n == ck->cap) {
		ck->cap = ck->cap ? ck->cap * 2 : 32;
		ck->f = ph_realloc(ck->f, ck->cap * sizeof(*ck->f));
	}
	f = &ck->f[ck->n++];
	memset(f, 0, sizeof(*f));
	f->vendor = v;
	f->result = r;
	f->source = source ? source : "";
	return f;
}

static void fix_render(const struct fix *fx, char *out, size_t outlen)
{
	switch (fx->kind) {
	case FIX_ALLOW:
		if (fx->pattern[0])
			snprintf(out, outlen, "allow domain %s port %s", fx->pattern, fx->ports);
		else
			snprintf(out, outlen, "allow port %s", fx->ports);
		break;
	case FIX_NOAUTH:
		if (fx->pattern[0])
			snprintf(out, outlen, "noauth domain %s", fx->pattern);
		else
			snprintf(out, outlen, "noauth port %s", fx->ports);
		break;
	case FIX_LINE:
		snprintf(out, outlen, "%s", fx->text);
		break;
	default:
		out[0] = '\0';
	}
}

/* ---- one requirement: representative CONNECTs ---- */

struct probe {
	char host[256];
	struct sockaddr_storage ip;
	bool is_ip;
	uint16_t port;
	const char *method;
};

static void probe_host(struct probe *p, const char *host)
{
	snprintf(p->host, sizeof(p->host), "%s", host);
	memset(&p->ip, 0, sizeof(p->ip));
	p->is_ip = false;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&p->ip)->sin_addr) == 1) {
		p->ip.ss_family = AF_INET;
		p->is_ip = true;
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&p->ip)->sin6_addr) == 1) {
		p->ip.ss_family = AF_INET6;
		p->is_ip = true;
	}
}

/* A host the pattern covers: ".x.com" -> x.com, "*.x.com" -> check.x.com,
 * a CIDR -> its first address.  0, or -1 for a pattern pinhole cannot read. */
static int pattern_host(const char *pattern, char *out, size_t outlen)
{
	struct domain_pattern dp;

	if (acl_domain_pattern_parse(&dp, pattern) != PH_OK)
		return -1;
	switch (dp.kind) {
	case DOMAIN_SUBDOMAINS:
		snprintf(out, outlen, "check.%s", dp.name);
		break;
	case DOMAIN_CIDR:
		snprintf(out, outlen, "%.*s", (int)strcspn(pattern, "/"), pattern[0] == '[' ? pattern + 1 : pattern);
		out[strcspn(out, "]")] = '\0';
		break;
	default:
		snprintf(out, outlen, "%s", dp.name);
	}
	acl_domain_pattern_free(&dp);
	return 0;
}

static const char *probe_method(uint16_t port)
{
	/* Browsers send plain http:// through a proxy as GET, not CONNECT. */
	return port == 80 ? "GET" : "CONNECT";
}

static void subject_of(const struct check *ck, const struct probe *p, struct acl_subject *s)
{
	*s = (struct acl_subject){
		.host = p->host,
		.port = p->port,
		.dst_ip = p->is_ip ? &p->ip : NULL,
		.src = &ck->src,
		.method = p->method,
		.user = ck->user,
		/* Chromium's TURN CONNECT: no ALPN header, a declared server. */
		.webrtc = turn_declared(ck->cfg->turn, p->host, p->port),
	};
}

static void probe_text(const struct probe *p, char *out, size_t outlen)
{
	bool v6 = strchr(p->host, ':') != NULL;

	if (strcmp(p->method, "GET") == 0)
		snprintf(out, outlen, "GET http://%s%s%s:%u/", v6 ? "[" : "", p->host, v6 ? "]" : "", p->port);
	else
		snprintf(out, outlen, "CONNECT %s%s%s:%u", v6 ? "[" : "", p->host, v6 ? "]" : "", p->port);
}

/* auth-surrogate, when it lets s pass as the user who last authenticated
 * from the client's address; NULL otherwise. */
static const struct rule *surrogate_for(const struct check *ck, const struct acl_subject *s)
{
	const struct surrogate_settings *sg = ck->cfg->surrogate;

	if (!ck->auth_on || !sg->duration_ms || !acl_matchset_match(&sg->rule.set, s))
		return NULL;
	return &sg->rule;
}

static bool needs_auth(const struct check *ck, const struct acl_subject *s)
{
	if (!ck->auth_on)
		return false;
	if (ck->cfg->quirks->auth_everything)
		return true;
	return acl_check(ck->cfg->acl->noauth.r, ck->cfg->acl->noauth.n, s) == NULL && !surrogate_for(ck, s);
}

/* What the detail of a finding about credentials on a TURN CONNECT adds:
 * auth-surrogate would keep authentication and still let Chromium through. */
static void suggest_surrogate(const struct check *ck, const struct acl_subject *s, char *detail, size_t cap)
{
	size_t len = strlen(detail);

	if (s->webrtc && !ck->cfg->surrogate->duration_ms && !ck->cfg->quirks->auth_everything)
		snprintf(detail + len, cap - len,
		         "; to keep authentication there, `auth-surrogate 8h` lets it pass as the user who last "
		         "authenticated from the same address");
}

static const char *cms_host(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		if (strcmp(cfg->presets[i].name, "cms") == 0 && cfg->presets[i].arg)
			return cfg->presets[i].arg;
	return NULL;
}

/* Whether the destination carries WebRTC media, where a 407 cannot be
 * answered; page loads and signalling elsewhere cope with authentication. */
static bool dest_is_media(const struct vendor_dest *d)
{
	return strcasestr(d->purpose, "media") || strcasestr(d->purpose, "webrtc") || strstr(d->purpose, "TURN");
}

struct dest_state {
	bool auth_needed;  /* some CONNECT of the vendor needs credentials */
	bool host_missing; /* "$HOST" already reported */
};

static void check_dest(struct check *ck, const struct vendor *v, const struct vendor_dest *d, struct dest_state *st)
{
	const char *hosts[2];
	char phost[256], req[200], ports[16];
	uint16_t portv[4];
	size_t nhosts = 0, nports = 0;
	const char *pattern = d->host; /* what a fix names */
	const struct rule *deny = NULL, *allowed_by[3] = { 0 };
	size_t nallowed = 0;
	const struct rule *exempt_by = NULL, *surrogate_by = NULL;
	struct acl_subject auth_subject = { 0 };
	bool asks = false;
	struct probe bad = { 0 }, authp = { 0 }, turnp = { 0 };
	bool denied = false, auth_breaks = false, turn_auth = false;

	if (d->port_lo == d->port_hi)
		snprintf(ports, sizeof(ports), "%u", d->port_lo);
	else
		snprintf(ports, sizeof(ports), "%u-%u", d->port_lo, d->port_hi);
	snprintf(req, sizeof(req), "%s, %s:%s", d->purpose, d->host, ports);

	if (strcmp(d->host, "*") == 0) {
		hosts[nhosts++] = ANY_ADDR;
		hosts[nhosts++] = ANY_NAME;
		pattern = "";
	} else if (strcmp(d->host, "$HOST") == 0) {
		pattern = cms_host(ck->cfg);
		if (!pattern) {
			struct finding *f;

			if (st->host_missing)
				return;
			st->host_missing = true;
			/* Asked for by name, the vendor cannot be served; checked
			 * only because the config names no vendor, it is a hint. */
			f = finding_add(ck, v, ck->all_vendors ? RES_DEGRADED : RES_BREAKS, d->source);
			snprintf(f->requirement, sizeof(f->requirement), "%s, $HOST:%s", d->purpose, ports);
			snprintf(f->detail, sizeof(f->detail),
			         "no Expressway-E host: add `preset cms HOST` with the name browsers join on%s",
			         ck->all_vendors ? " (not checked further: the configuration names no vendor)" : "");
			f->fix.kind = FIX_LINE;
			snprintf(f->fix.text, sizeof(f->fix.text), "preset cms HOST");
			return;
		}
		hosts[nhosts++] = pattern;
		snprintf(req, sizeof(req), "%s, %s:%s", d->purpose, pattern, ports);
	} else {
		if (pattern_host(d->host, phost, sizeof(phost)) != 0) {
			struct finding *f = finding_add(ck, v, RES_DEGRADED, d->source);

			snprintf(f->requirement, sizeof(f->requirement), "%s", req);
			snprintf(f->detail, sizeof(f->detail), "not checked: '%s' is not a pattern pinhole reads",
			         d->host);
			return;
		}
		hosts[nhosts++] = phost;
	}

	/* The ends of the range, and the TURN and HTTPS ports inside it. */
	portv[nports++] = d->port_lo;
	if (d->port_hi != d->port_lo)
		portv[nports++] = d->port_hi;
	if (d->port_lo < 443 && 443 < d->port_hi)
		portv[nports++] = 443;
	if (d->port_lo < 3478 && 3478 < d->port_hi)
		portv[nports++] = 3478;

	for (size_t h = 0; h < nhosts; h++) {
		for (size_t i = 0; i < nports; i++) {
			struct probe p;
			struct acl_subject s;
			const struct rule *r;

			probe_host(&p, hosts[h]);
			p.port = portv[i];
			p.method = probe_method(p.port);
			subject_of(ck, &p, &s);
			r = acl_check(ck->cfg->acl->rules.r, ck->cfg->acl->rules.n, &s);
			if (!r || r->action == RULE_DENY) {
				if (!denied) {
					bad = p;
					deny = r;
				}
				denied = true;
			} else {
				bool seen = false;

				for (size_t k = 0; k < nallowed; k++)
					seen |= allowed_by[k] == r;
				if (!seen && nallowed < PH_ARRAY_LEN(allowed_by))
					allowed_by[nallowed++] = r;
			}
			if (ck->auth_on && !needs_auth(ck, &s) && !exempt_by)
				exempt_by = acl_check(ck->cfg->acl->noauth.r, ck->cfg->acl->noauth.n, &s);
			if (ck->auth_on && !needs_auth(ck, &s) && !exempt_by && !surrogate_by)
				surrogate_by = surrogate_for(ck, &s);
			if (needs_auth(ck, &s)) {
				bool turn = vendor_is_turn(ck->cfg, p.host, p.port);

				st->auth_needed = true;
				asks = true;
				if (v->auth_breaks && !auth_breaks && (turn || dest_is_media(d))) {
					auth_breaks = true;
					authp = p;
					auth_subject = s;
				}
				if (!v->auth_breaks && !turn_auth && turn) {
					turn_auth = true;
					turnp = p;
					auth_subject = s;
				}
			}
		}
	}

	if (denied) {
		struct finding *f = finding_add(ck, v, d->required ? RES_BREAKS : RES_DEGRADED, d->source);
		char pt[300];

		probe_text(&bad, pt, sizeof(pt));
		snprintf(f->requirement, sizeof(f->requirement), "%s", req);
		if (deny)
			snprintf(f->detail, sizeof(f->detail), "%s is denied by %s:%d (%s)", pt, where(ck, deny->file),
			         deny->line, deny->text);
		else
			snprintf(f->detail, sizeof(f->detail), "%s matches no rule, so it is denied", pt);
		if (!d->required)
			snprintf(f->detail + strlen(f->detail), sizeof(f->detail) - strlen(f->detail),
			         "; recommended, not required");
		f->fix.kind = FIX_ALLOW;
		snprintf(f->fix.pattern, sizeof(f->fix.pattern), "%s", pattern);
		snprintf(f->fix.ports, sizeof(f->fix.ports), "%s", ports);
		if (deny) {
			f->fix.before_file = deny->file;
			f->fix.before_line = deny->line;
		}
	}
	if (auth_breaks || turn_auth) {
		const struct probe *p = auth_breaks ? &authp : &turnp;
		struct finding *f = finding_add(ck, v, auth_breaks ? RES_BREAKS : RES_DEGRADED,
		                                auth_breaks ? v->auth_source : "MEASURED");
		char pt[300];

		probe_text(p, pt, sizeof(pt));
		snprintf(f->requirement, sizeof(f->requirement), "%s", req);
		if (auth_breaks) {
			snprintf(f->detail, sizeof(f->detail),
			         "%s needs proxy authentication, and %s's WebRTC does not work with proxies that "
			         "require it",
			         pt, v->name);
		} else if (ck->firefox) {
			/* The self-check page of a Firefox: it answers the 407. */
			f->result = RES_OK;
			snprintf(f->detail, sizeof(f->detail),
			         "%s goes to a TURN server and needs proxy authentication: Firefox answers the 407 "
			         "there (Chromium would not)",
			         pt);
			return;
		} else
			snprintf(f->detail, sizeof(f->detail),
			         "%s goes to a TURN server and needs proxy authentication: Chromium never answers "
			         "a 407 there and sends credentials only when it already holds them",
			         pt);
		suggest_surrogate(ck, &auth_subject, f->detail, sizeof(f->detail));
		if (ck->cfg->quirks->auth_everything) {
			f->fix.kind = FIX_LINE;
			snprintf(f->fix.text, sizeof(f->fix.text),
			         "remove `quirk auth-everything` (it overrides noauth)");
		} else {
			f->fix.kind = FIX_NOAUTH;
			snprintf(f->fix.pattern, sizeof(f->fix.pattern), "%s", pattern);
			snprintf(f->fix.ports, sizeof(f->fix.ports), "%s", ports);
		}
	}
	if (!denied && !auth_breaks && !turn_auth) {
		struct finding *f = finding_add(ck, v, RES_OK, d->source);
		size_t len;

		snprintf(f->requirement, sizeof(f->requirement), "%s", req);
		snprintf(f->detail, sizeof(f->detail), "allowed by");
		for (size_t k = 0; k < nallowed; k++) {
			len = strlen(f->detail);
			snprintf(f->detail + len, sizeof(f->detail) - len, "%s %s:%d", k ? "," : "",
			         where(ck, allowed_by[k]->file), allowed_by[k]->line);
		}
		len = strlen(f->detail);
		if (asks)
			snprintf(f->detail + len, sizeof(f->detail) - len, "; asks for credentials");
		else if (exempt_by)
			snprintf(f->detail + len, sizeof(f->detail) - len, "; no credentials (noauth at %s:%d)",
			         where(ck, exempt_by->file), exempt_by->line);
		else if (surrogate_by)
			snprintf(f->detail + len, sizeof(f->detail) - len,
			         "; no credentials once the user has authenticated from the same address "
			         "(auth-surrogate at %s:%d)",
			         where(ck, surrogate_by->file), surrogate_by->line);
	}
}

/* ---- what does not depend on a destination: schemes and quirks ---- */

/* Quirks that break a vendor whatever the rules say, with the fact that
 * says so for that vendor. */
struct quirk_check {
	const char *quirk;
	const char *vendor; /* NULL: every vendor */
	const char *source;
	const char *requirement;
	const char *why;
};

static const struct quirk_check quirk_checks[] = {
	{ "strict-tls", "tokbox", "TOKBOX", "TURN over TCP through the proxy",
	  "quirk strict-tls closes tunnels that do not start with a TLS ClientHello; proxies that check for real "
	  "TLS break WebRTC (Firefox has no TURN over TLS)" },
	{ "strict-tls", NULL, "MEASURED", "TURN over TCP through the proxy",
	  "quirk strict-tls closes tunnels that do not start with a TLS ClientHello; WebRTC media through a proxy "
	  "is TURN over TCP, whose first bytes are STUN" },
	{ "no-websocket", "webex", "SPARK", "notifications (wss) on 443",
	  "quirk no-websocket refuses WebSocket upgrades, which carry the app's notifications" },
	{ "no-websocket", "cms", "CMS", "web bridge WebSocket (wss) on 443",
	  "quirk no-websocket refuses WebSocket upgrades, which the web app needs to join" },
};

static bool quirk_on(const struct config *cfg, const char *name)
{
	if (strcmp(name, "strict-tls") == 0)
		return cfg->quirks->strict_tls;
	if (strcmp(name, "no-websocket") == 0)
		return cfg->quirks->no_websocket;
	return false;
}

/* The fact that makes a connection-bound scheme matter to each vendor. */
static const char *ntlm_source(const struct vendor *v)
{
	if (strcmp(v->name, "webex") == 0)
		return "SPARK";
	if (strcmp(v->name, "tokbox") == 0)
		return "TOKBOX";
	return "MEASURED";
}

static void check_vendor_wide(struct check *ck, const struct vendor *v, const struct dest_state *st)
{
	const struct config *cfg = ck->cfg;
	struct finding *f;

	for (size_t i = 0; i < PH_ARRAY_LEN(quirk_checks); i++) {
		const struct quirk_check *q = &quirk_checks[i];
		bool specific = false;

		if (!quirk_on(cfg, q->quirk))
			continue;
		if (q->vendor && strcmp(q->vendor, v->name) != 0)
			continue;
		/* A vendor's own fact wins over the general one. */
		for (size_t j = 0; !q->vendor && j < PH_ARRAY_LEN(quirk_checks); j++)
			specific |= quirk_checks[j].vendor && strcmp(quirk_checks[j].quirk, q->quirk) == 0 &&
			            strcmp(quirk_checks[j].vendor, v->name) == 0;
		if (specific)
			continue;
		f = finding_add(ck, v, RES_BREAKS, q->source);
		snprintf(f->requirement, sizeof(f->requirement), "%s", q->requirement);
		snprintf(f->detail, sizeof(f->detail), "%s", q->why);
		f->fix.kind = FIX_LINE;
		snprintf(f->fix.text, sizeof(f->fix.text), "remove `quirk %s`", q->quirk);
	}
	if (!st->auth_needed)
		return;
	if (v->kerberos_breaks && ck->has_negotiate && !ck->has_basic && !ck->has_digest && !ck->has_ntlm) {
		f = finding_add(ck, v, RES_BREAKS, v->kerberos_source);
		snprintf(f->requirement, sizeof(f->requirement), "a proxy authentication scheme its clients support");
		snprintf(f->detail, sizeof(f->detail),
		         "Negotiate (Kerberos) is the only scheme offered, and %s's clients cannot use it", v->name);
		f->fix.kind = FIX_LINE;
		snprintf(f->fix.text, sizeof(f->fix.text),
		         "add a scheme beside negotiate, e.g. `auth ntlm users FILE` or `auth basic htpasswd FILE`");
	}
	if (cfg->quirks->close_after_407 && (ck->has_ntlm || ck->has_negotiate)) {
		f = finding_add(ck, v, RES_BREAKS, ntlm_source(v));
		snprintf(f->requirement, sizeof(f->requirement), "an NTLM/Negotiate handshake on one connection");
		snprintf(f->detail, sizeof(f->detail),
		         "quirk close-after-407 closes the connection after the challenge, so the %s handshake "
		         "never completes",
		         ck->has_ntlm ? "NTLM" : "Negotiate");
		f->fix.kind = FIX_LINE;
		snprintf(f->fix.text, sizeof(f->fix.text), "remove `quirk close-after-407`");
	}
}

/* Pinned domains: with inspection on, each must be spliced (a no-inspect
 * pattern, or no inspect rule matching it). */
static void check_pinned(struct check *ck, const struct vendor *v)
{
	const struct config *cfg = ck->cfg;

	for (const char *const *p = v->pinned; p && *p; p++) {
		struct probe pr = { .port = 443, .method = "CONNECT" };
		struct acl_subject s;
		struct finding *f;
		char host[256];
		enum tls_decision d;

		if (!cfg->tls->ctx || pattern_host(*p, host, sizeof(host)) != 0)
			continue;
		probe_host(&pr, host);
		subject_of(ck, &pr, &s);
		d = tls_decide(cfg->tls, cfg->quirks->inspect_all, &s, host, "http/1.1");
		f = finding_add(ck, v, d == TLS_INSPECT ? RES_BREAKS : RES_OK, v->pinned_source);
		snprintf(f->requirement, sizeof(f->requirement), "pinned %s never inspected", *p);
		if (d == TLS_INSPECT) {
			snprintf(f->detail, sizeof(f->detail),
			         "CONNECT %s:443 would be inspected%s: the client pins its certificate and rejects "
			         "pinhole's",
			         host, cfg->quirks->inspect_all ? " (quirk inspect-all)" : "");
			f->fix.kind = FIX_LINE;
			snprintf(f->fix.text, sizeof(f->fix.text), "%s",
			         cfg->quirks->inspect_all ? "remove `quirk inspect-all`" : "");
			if (!cfg->quirks->inspect_all)
				snprintf(f->fix.text, sizeof(f->fix.text), "no-inspect %s", *p);
		} else {
			snprintf(f->detail, sizeof(f->detail), "spliced (%s)", tls_decision_name(d));
		}
	}
}

/* ---- the admin's own TURN servers ---- */

/* turn-server lines of the configuration (not of a preset: those are the
 * vendor's, checked with it) stand for a vendor of their own. */
static const char *const no_patterns[] = { NULL };
static const struct vendor own_turn = {
	.name = "turn",
	.title = "your TURN servers (turn-server)",
	.domains = no_patterns,
	.pinned = no_patterns,
};

static bool from_preset(const struct config *cfg, const struct turn_server *t)
{
	for (size_t i = 0; i < cfg->npresets; i++)
		if (cfg->presets[i].preset_file && t->file && strcmp(cfg->presets[i].preset_file, t->file) == 0)
			return true;
	return false;
}

static size_t own_turn_count(const struct config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->turn->n; i++)
		n += !from_preset(cfg, &cfg->turn->servers[i]);
	return n;
}

/* A finding about one of the configuration's TURN servers, on one port. */
static struct finding *turn_finding(struct check *ck, enum result r, const struct turn_server *t, uint16_t port)
{
	struct finding *f = finding_add(ck, &own_turn, r, "MEASURED");

	snprintf(f->requirement, sizeof(f->requirement), "TURN server %s:%u (turn-server at %s:%d)", t->host, port,
	         where(ck, t->file), t->line);
	return f;
}

/* Each TURN server must take a CONNECT without credentials: Chromium never
 * answers a 407 on it and sends credentials only when it already holds
 * them [MEASURED]; and no rule may deny it.  A server without a port is
 * probed on 3478 and 443, where browsers reach TURN over TCP. */
static void check_turn_servers(struct check *ck)
{
	const struct config *cfg = ck->cfg;

	for (size_t i = 0; i < cfg->turn->n; i++) {
		const struct turn_server *t = &cfg->turn->servers[i];
		uint16_t ports[2] = { t->port, 0 };
		size_t nports = 1;

		if (from_preset(cfg, t))
			continue;
		if (!t->port) {
			ports[0] = 3478;
			ports[1] = 443;
			nports = 2;
		}
		for (size_t j = 0; j < nports; j++) {
			struct probe p = { .port = ports[j], .method = "CONNECT" };
			struct acl_subject s;
			const struct rule *r;
			struct finding *f;
			char pt[300];

			probe_host(&p, t->host);
			subject_of(ck, &p, &s);
			probe_text(&p, pt, sizeof(pt));
			r = acl_check(cfg->acl->rules.r, cfg->acl->rules.n, &s);
			if (!r || r->action == RULE_DENY) {
				f = turn_finding(ck, RES_BREAKS, t, ports[j]);
				if (r)
					snprintf(f->detail, sizeof(f->detail), "%s is denied by %s:%d (%s)", pt,
					         where(ck, r->file), r->line, r->text);
				else
					snprintf(f->detail, sizeof(f->detail), "%s matches no rule, so it is denied",
					         pt);
				f->fix.kind = FIX_ALLOW;
				snprintf(f->fix.pattern, sizeof(f->fix.pattern), "%s", t->host);
				snprintf(f->fix.ports, sizeof(f->fix.ports), "%u", ports[j]);
				if (r) {
					f->fix.before_file = r->file;
					f->fix.before_line = r->line;
				}
			}
			if (needs_auth(ck, &s) && ck->firefox) {
				f = turn_finding(ck, RES_OK, t, ports[j]);
				snprintf(f->detail, sizeof(f->detail),
				         "%s needs proxy authentication: Firefox answers the 407 there (Chromium would "
				         "not)",
				         pt);
			} else if (needs_auth(ck, &s)) {
				f = turn_finding(ck, RES_DEGRADED, t, ports[j]);
				snprintf(f->detail, sizeof(f->detail),
				         "%s needs proxy authentication: Chromium never answers a 407 there and sends "
				         "credentials only when it already holds them (no media, ICE error 701)",
				         pt);
				suggest_surrogate(ck, &s, f->detail, sizeof(f->detail));
				if (cfg->quirks->auth_everything) {
					f->fix.kind = FIX_LINE;
					snprintf(f->fix.text, sizeof(f->fix.text),
					         "remove `quirk auth-everything` (it overrides noauth)");
				} else {
					f->fix.kind = FIX_NOAUTH;
					snprintf(f->fix.pattern, sizeof(f->fix.pattern), "%s", t->host);
					snprintf(f->fix.ports, sizeof(f->fix.ports), "%u", ports[j]);
				}
			} else if (r && r->action == RULE_ALLOW) {
				const struct rule *ex =
				        ck->auth_on ? acl_check(cfg->acl->noauth.r, cfg->acl->noauth.n, &s) : NULL;
				const struct rule *sg = ex ? NULL : surrogate_for(ck, &s);

				f = turn_finding(ck, RES_OK, t, ports[j]);
				if (ex)
					snprintf(f->detail, sizeof(f->detail),
					         "allowed by %s:%d; no credentials (noauth at %s:%d)",
					         where(ck, r->file), r->line, where(ck, ex->file), ex->line);
				else if (sg)
					snprintf(
					        f->detail, sizeof(f->detail),
					        "allowed by %s:%d; no credentials once the user has authenticated from "
					        "the same address (auth-surrogate at %s:%d)",
					        where(ck, r->file), r->line, where(ck, sg->file), sg->line);
				else
					snprintf(f->detail, sizeof(f->detail), "allowed by %s:%d", where(ck, r->file),
					         r->line);
			}
		}
	}
	if (own_turn_count(cfg) && cfg->quirks->strict_tls) {
		struct finding *f = finding_add(ck, &own_turn, RES_BREAKS, "MEASURED");

		snprintf(f->requirement, sizeof(f->requirement), "TURN over TCP through the proxy");
		snprintf(f->detail, sizeof(f->detail),
		         "quirk strict-tls closes tunnels that do not start with a TLS ClientHello; WebRTC media "
		         "through a proxy is TURN over TCP, whose first bytes are STUN");
		f->fix.kind = FIX_LINE;
		snprintf(f->fix.text, sizeof(f->fix.text), "remove `quirk strict-tls`");
	}
}

/* ---- output ---- */

/* Valid JSON in valid UTF-8, whatever the configuration's bytes (escape.h). */
static void json_str(FILE *out, const char *s)
{
	struct strbuf b = { 0 };

	esc_json_str(&b, s ? s : "");
	fwrite(b.p, 1, b.len, out);
	free(b.p);
}

/* The fixes of all findings, one config line each: allow lines with the
 * same ports and place, and noauth domains, are merged. */
struct merged {
	struct fix fix;
	char line[600];
};

static size_t merge_fixes(const struct check *ck, struct merged **out)
{
	struct merged *m = NULL;
	size_t n = 0;

	for (size_t i = 0; i < ck->n; i++) {
		const struct fix *fx = &ck->f[i].fix;
		struct merged *hit = NULL;

		if (fx->kind == FIX_NONE)
			continue;
		for (size_t j = 0; j < n && !hit; j++) {
			const struct fix *g = &m[j].fix;

			if (g->kind != fx->kind)
				continue;
			if (fx->kind == FIX_LINE && strcmp(g->text, fx->text) == 0)
				hit = &m[j];
			else if (fx->kind == FIX_ALLOW && fx->pattern[0] && g->pattern[0] &&
			         strcmp(g->ports, fx->ports) == 0 && g->before_file == fx->before_file &&
			         g->before_line == fx->before_line)
				hit = &m[j];
			else if (fx->kind == FIX_ALLOW && !fx->pattern[0] && !g->pattern[0] &&
			         strcmp(g->ports, fx->ports) == 0)
				hit = &m[j];
			else if (fx->kind == FIX_NOAUTH && (fx->pattern[0] != 0) == (g->pattern[0] != 0) &&
			         (fx->pattern[0] || strcmp(g->ports, fx->ports) == 0))
				hit = &m[j];
		}
		if (hit && (fx->kind == FIX_ALLOW || fx->kind == FIX_NOAUTH) && fx->pattern[0]) {
			/* Add the pattern unless it is there already. */
			const char *p = hit->fix.pattern;
			size_t len = strlen(fx->pattern);
			bool dup = false;

			while (*p) {
				size_t w = strcspn(p, " ");

				dup |= w == len && strncmp(p, fx->pattern, len) == 0;
				p += w;
				p += strspn(p, " ");
			}
			if (!dup && strlen(hit->fix.pattern) + len + 2 < sizeof(hit->fix.pattern)) {
				strcat(hit->fix.pattern, " ");
				strcat(hit->fix.pattern, fx->pattern);
			}
			continue;
		}
		if (hit)
			continue;
		m = ph_realloc(m, (n + 1) * sizeof(*m));
		m[n].fix = *fx;
		n++;
	}
	for (size_t j = 0; j < n; j++) {
		char line[400];

		fix_render(&m[j].fix, line, sizeof(line));
		if (m[j].fix.kind == FIX_ALLOW && m[j].fix.before_file)
			snprintf(m[j].line, sizeof(m[j].line), "%s    # before %s:%d", line, m[j].fix.before_file,
			         m[j].fix.before_line);
		else
			snprintf(m[j].line, sizeof(m[j].line), "%s", line);
	}
	*out = m;
	return n;
}

static enum result vendor_result(const struct check *ck, const struct vendor *v)
{
	enum result r = RES_OK;

	for (size_t i = 0; i < ck->n; i++)
		if (ck->f[i].vendor == v && ck->f[i].result > r)
			r = ck->f[i].result;
	return r;
}

static void print_text(const struct check *ck, const char *path, const char *srctext, const struct vendor **vs,
                       size_t nv)
{
	size_t reqw = strlen("REQUIREMENT"), counts[3] = { 0 }, nfix;
	const int indent = 6 + 2 + 8 + 2 + 8 + 2;
	struct merged *fixes;

	printf("check-webrtc: %s, CONNECTs from %s, vendors:", path, srctext);
	for (size_t i = 0; i < nv; i++)
		printf(" %s", vs[i]->name);
	printf("\n\n");
	for (size_t i = 0; i < ck->n; i++)
		if (strlen(ck->f[i].requirement) > reqw && strlen(ck->f[i].requirement) <= 64)
			reqw = strlen(ck->f[i].requirement);
	printf("%-6s  %-8s  %-8s  %-*s  %s\n", "VENDOR", "RESULT", "SOURCE", (int)reqw, "REQUIREMENT", "WHY / FIX");
	for (size_t i = 0; i < ck->n; i++) {
		const struct finding *f = &ck->f[i];
		char fix[400];

		counts[f->result]++;
		if (f->result == RES_OK) {
			printf("%-6s  %-8s  %-8s  %-*s  %s\n", f->vendor->name, result_names[f->result], f->source,
			       (int)reqw, f->requirement, f->detail);
			continue;
		}
		printf("%-6s  %-8s  %-8s  %s\n", f->vendor->name, result_names[f->result], f->source, f->requirement);
		printf("%*s%s\n", indent, "", f->detail);
		fix_render(&f->fix, fix, sizeof(fix));
		if (fix[0]) {
			if (f->fix.kind == FIX_ALLOW && f->fix.before_file)
				printf("%*sfix: %s    (before %s:%d)\n", indent, "", fix, f->fix.before_file,
				       f->fix.before_line);
			else
				printf("%*sfix: %s\n", indent, "", fix);
		}
	}
	if (!ck->cfg->tls->ctx)
		printf("\npinned domains: TLS inspection is off, nothing is inspected\n");
	printf("\nsummary:");
	for (size_t i = 0; i < nv; i++)
		printf("%s %s %s", i ? "," : "", vs[i]->name, result_names[vendor_result(ck, vs[i])]);
	printf(" (%zu finding%s: %zu ok, %zu degraded, %zu break)\n", ck->n, ck->n == 1 ? "" : "s", counts[RES_OK],
	       counts[RES_DEGRADED], counts[RES_BREAKS]);
	nfix = merge_fixes(ck, &fixes);
	if (nfix) {
		printf("\nto fix, change the configuration (allow and noauth lines go before any broad deny rule):\n");
		for (size_t j = 0; j < nfix; j++)
			printf("    %s\n", fixes[j].line);
	}
	free(fixes);
}

static void print_json(const struct check *ck, const char *path, const char *srctext, const struct vendor **vs,
                       size_t nv)
{
	struct merged *fixes;
	size_t nfix = merge_fixes(ck, &fixes);

	printf("{\"config\":");
	json_str(stdout, path);
	printf(",\"src\":");
	json_str(stdout, srctext);
	printf(",\"vendors\":[");
	for (size_t i = 0; i < nv; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, vs[i]->name);
		printf(",\"result\":\"%s\"}", result_names[vendor_result(ck, vs[i])]);
	}
	printf("],\"findings\":[");
	for (size_t i = 0; i < ck->n; i++) {
		const struct finding *f = &ck->f[i];
		char fix[400];

		fix_render(&f->fix, fix, sizeof(fix));
		printf("%s{\"vendor\":", i ? "," : "");
		json_str(stdout, f->vendor->name);
		printf(",\"requirement\":");
		json_str(stdout, f->requirement);
		printf(",\"result\":\"%s\",\"source\":", result_names[f->result]);
		json_str(stdout, f->source);
		printf(",\"detail\":");
		json_str(stdout, f->detail);
		printf(",\"fix\":");
		json_str(stdout, fix);
		printf("}");
	}
	printf("],\"inspection\":%s", ck->cfg->tls->ctx ? "true" : "false");
	printf(",\"fixes\":[");
	for (size_t j = 0; j < nfix; j++) {
		printf("%s", j ? "," : "");
		json_str(stdout, fixes[j].line);
	}
	printf("]}\n");
	free(fixes);
}

/* ---- the command ---- */

/* The checks of vs[0..*nv) and of the configuration's own TURN servers
 * (added to vs when it has some). */
static void run_checks(struct check *ck, const struct vendor **vs, size_t *nv)
{
	const struct config *cfg = ck->cfg;

	ck->auth_on = auth_config_enabled(cfg->auth);
	if (ck->auth_on) {
		ck->has_basic = auth_config_has_scheme(cfg->auth, "basic");
		ck->has_digest = auth_config_has_scheme(cfg->auth, "digest");
		ck->has_ntlm = auth_config_has_scheme(cfg->auth, "ntlm");
		ck->has_negotiate = auth_config_has_scheme(cfg->auth, "negotiate");
	}
	for (size_t i = 0; i < *nv; i++) {
		struct dest_state st = { 0 };

		for (size_t j = 0; j < vs[i]->ndests; j++)
			check_dest(ck, vs[i], &vs[i]->dests[j], &st);
		check_vendor_wide(ck, vs[i], &st);
		check_pinned(ck, vs[i]);
	}
	if (own_turn_count(cfg)) {
		vs[(*nv)++] = &own_turn;
		check_turn_servers(ck);
	}
}

/* The vendors of the configuration's presets, each once, at most max. */
static size_t preset_vendors(const struct config *cfg, const struct vendor **vs, size_t max)
{
	size_t nv = 0;

	for (size_t i = 0; i < cfg->npresets && nv < max; i++) {
		const struct vendor *v = vendor_find(cfg->presets[i].name);
		bool dup = false;

		for (size_t j = 0; j < nv; j++)
			dup |= vs[j] == v;
		if (v && !dup)
			vs[nv++] = v;
	}
	return nv;
}

void check_webrtc_client(const struct config *cfg, const struct sockaddr_storage *src, const char *user,
                         const char *user_agent, void (*each)(const struct check_webrtc_row *row, void *arg), void *arg)
{
	const struct vendor *vs[8];
	size_t nv = 0;
	struct check ck;

	memset(&ck, 0, sizeof(ck));
	ck.cfg = cfg;
	ck.src = *src;
	ck.user = user && user[0] ? user : NULL;
	ck.short_names = true;
	if (user_agent) {
		struct ua_info ua;

		ua_parse(user_agent, &ua);
		ck.firefox = ua.firefox;
	}
	nv = preset_vendors(cfg, vs, PH_ARRAY_LEN(vs) - 1);
	run_checks(&ck, vs, &nv);
	for (size_t i = 0; i < ck.n; i++) {
		const struct finding *f = &ck.f[i];
		char fix[300];
		struct check_webrtc_row row = {
			.vendor = f->vendor->name,
			.title = f->vendor->title,
			.requirement = f->requirement,
			.result = result_names[f->result],
			.detail = f->detail,
			.fix = fix,
		};

		fix_render(&f->fix, fix, sizeof(fix));
		each(&row, arg);
	}
	free(ck.f);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pinhole check-webrtc -c FILE [--src ADDR] [--json] [VENDOR...]\n"
	           "  VENDOR: webex, tokbox or cms (default: the presets FILE uses, else all three);\n"
	           "    FILE's own turn-server lines are always checked (as vendor \"turn\")\n"
	           "  --src ADDR: the client address the rules see (default " DEFAULT_SRC ")\n");
}

static int src_parse(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return PH_OK;
	}
	if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return PH_OK;
	}
	return PH_ERROR;
}

int check_webrtc_main(int argc, char **argv)
{
	const char *path = NULL, *srctext = DEFAULT_SRC;
	const struct vendor **vs = ph_calloc(vendor_count + (size_t)argc + 1, sizeof(*vs));
	const char **names = ph_calloc(vendor_count + 1, sizeof(*names));
	struct cfg_errors errs = { 0 };
	struct check ck;
	struct config *cfg;
	bool json = false;
	size_t nv = 0;
	int rc = 2;

	memset(&ck, 0, sizeof(ck));
	for (size_t i = 0; i < vendor_count; i++)
		names[i] = vendor_table[i].name;
	for (int i = 0; i < argc; i++) {
		const struct vendor *v;
		bool dup = false;

		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--src") == 0 && i + 1 < argc) {
			srctext = argv[++i];
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "pinhole check-webrtc: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			goto out;
		} else if ((v = vendor_find(argv[i])) == NULL) {
			const char *sug = cfg_suggest(argv[i], names, vendor_count);

			if (sug)
				fprintf(stderr, "pinhole check-webrtc: unknown vendor '%s' (did you mean '%s'?)\n",
				        argv[i], sug);
			else
				fprintf(stderr,
				        "pinhole check-webrtc: unknown vendor '%s' (one of: webex, tokbox, cms)\n",
				        argv[i]);
			goto out;
		} else {
			for (size_t j = 0; j < nv; j++)
				dup |= vs[j] == v;
			if (!dup)
				vs[nv++] = v;
		}
	}
	if (!path) {
		fprintf(stderr, "pinhole check-webrtc: which file? use: pinhole check-webrtc -c FILE [VENDOR...]\n");
		goto out;
	}
	if (src_parse(srctext, &ck.src) != PH_OK) {
		fprintf(stderr, "pinhole check-webrtc: --src '%s' is not an IPv4 or IPv6 address\n", srctext);
		goto out;
	}
	cfg = config_load(path, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	cfg_errors_free(&errs);
	if (!cfg) {
		fprintf(stderr, "pinhole check-webrtc: not checked: fix the configuration errors above\n");
		goto out;
	}
	/* By default, what the configuration says it serves. */
	if (nv == 0)
		nv = preset_vendors(cfg, vs, vendor_count);
	if (nv == 0) {
		for (size_t i = 0; i < vendor_count; i++)
			vs[nv++] = &vendor_table[i];
		ck.all_vendors = true;
	}

	ck.cfg = cfg;
	run_checks(&ck, vs, &nv);
	if (json)
		print_json(&ck, path, srctext, vs, nv);
	else
		print_text(&ck, path, srctext, vs, nv);
	rc = 0;
	for (size_t i = 0; i < ck.n; i++)
		if (ck.f[i].result == RES_BREAKS)
			rc = 1;
	free(ck.f);
	config_unref(cfg);
out:
	free(vs);
	free(names);
	return rc;
}
