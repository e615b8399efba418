/*
 * wr_advice.c - the report's advice checked against the whole
 * configuration: a model of the request path's decisions (acl, auth, tls
 * and quirk settings, as conn.c takes them, with advice lines applied), and
 * the completion of an advice until the request it is about goes through.
 * It decides nothing for the request path and keeps no state.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "common.h"
#include "config.h"
#include "quirks.h"
#include "tls.h"
#include "vendors.h"
#include "wr_advice.h"

/* ---- the request ---- */

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%.*s", (int)len - 1, src ? src : "");
}

void wr_sim_request_from_event(const struct config *cfg, const struct wr_event *ev, struct wr_sim_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	copy(rq->method, sizeof(rq->method), ev->method);
	copy(rq->host, sizeof(rq->host), ev->host);
	rq->port = ev->port;
	rq->src = ev->client;
	if (!(ev->kind == WR_REQUEST && ev->status == 407))
		copy(rq->user, sizeof(rq->user), ev->user);
	if (ev->kind == WR_AUTH_OK)
		copy(rq->scheme, sizeof(rq->scheme), ev->scheme);
	copy(rq->sni, sizeof(rq->sni), ev->sni);
	rq->upgrade = ev->kind == WR_UPGRADE_REFUSED;
	if (!ph_strcaseeq(rq->method, "CONNECT"))
		return;
	if ((ev->kind == WR_TUNNEL_PROTO || ev->kind == WR_STRICT_TLS_CLOSED) && ev->detail[0])
		copy(rq->first_bytes, sizeof(rq->first_bytes), ev->detail);
	else if (ev->kind == WR_INSPECTED || ev->kind == WR_PINNING_FAILURE)
		copy(rq->first_bytes, sizeof(rq->first_bytes), "tls");
	else
		copy(rq->first_bytes, sizeof(rq->first_bytes),
		     vendor_is_turn(cfg, ev->host, ev->port) ? "stun" : "tls");
}

/* ---- the overlay ---- */

#define MAX_WORDS 40

static int split(char *buf, char **argv)
{
	int argc = 0;

	for (char *save, *w = strtok_r(buf, " \t", &save); w && argc < MAX_WORDS; w = strtok_r(NULL, " \t", &save))
		argv[argc++] = w;
	return argc;
}

int wr_overlay_add(struct wr_overlay *o, const char *line)
{
	char buf[sizeof(o->lines[0])], *argv[MAX_WORDS];
	struct cfg_errors errs = { 0 };
	int argc, rc = 0;

	if (strlen(line) >= sizeof(buf) || o->nlines >= PH_ARRAY_LEN(o->lines))
		return -1;
	snprintf(buf, sizeof(buf), "%s", line);
	argc = split(buf, argv);
	if (argc == 0)
		return -1;
	if (strcmp(argv[0], "allow") == 0 || strcmp(argv[0], "noauth") == 0) {
		bool allow = argv[0][0] == 'a';
		struct matchset *set = allow ? &o->allow[o->nallow] : &o->noauth[o->nnoauth];

		if ((allow ? o->nallow : o->nnoauth) >= WR_OVERLAY_MAX || argc < 2)
			return -1;
		if (acl_matchset_parse(set, argv + 1, argc - 1, "advice", 1, &errs) != 0) {
			cfg_errors_free(&errs);
			return -1;
		}
		if (allow)
			o->nallow++;
		else
			o->nnoauth++;
	} else if (strcmp(argv[0], "no-inspect") == 0) {
		for (int i = 1; i < argc; i++) {
			struct domain_pattern p;

			if (o->nno_inspect >= WR_OVERLAY_MAX || strlen(argv[i]) >= sizeof(o->no_inspect[0]) ||
			    acl_domain_pattern_parse(&p, argv[i]) != PH_OK)
				return -1;
			acl_domain_pattern_free(&p);
			snprintf(o->no_inspect[o->nno_inspect++], sizeof(o->no_inspect[0]), "%s", argv[i]);
		}
		if (argc < 2)
			return -1;
	} else if (argc == 3 && strcmp(argv[0], "remove") == 0 && strcmp(argv[1], "quirk") == 0) {
		if (strcmp(argv[2], "strict-tls") == 0)
			o->drop_strict_tls = true;
		else if (strcmp(argv[2], "no-websocket") == 0)
			o->drop_no_websocket = true;
		else if (strcmp(argv[2], "auth-everything") == 0)
			o->drop_auth_everything = true;
		else if (strcmp(argv[2], "inspect-all") == 0)
			o->drop_inspect_all = true;
		else
			rc = 1;
	} else {
		rc = 1;
	}
	snprintf(o->lines[o->nlines++], sizeof(o->lines[0]), "%s", line);
	return rc;
}

void wr_overlay_free(struct wr_overlay *o)
{
	for (size_t i = 0; i < o->nallow; i++)
		acl_matchset_free(&o->allow[i]);
	for (size_t i = 0; i < o->nnoauth; i++)
		acl_matchset_free(&o->noauth[i]);
	o->nallow = o->nnoauth = 0;
}

/* ---- the model ---- */

/* A configuration as config_load makes it has every section; one built by
 * hand (a test's) may not, and is then not the model's to judge. */
static bool whole(const struct config *cfg)
{
	return cfg && cfg->acl && cfg->quirks && cfg->tls && cfg->server;
}

static bool host_ip(const char *host, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		ss->ss_family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		ss->ss_family = AF_INET6;
		return true;
	}
	return false;
}

/* What the overlay's allow lines, then cfg's rules, decide: the rule that
 * matched (*ov: an overlay line, named by tmp), or NULL. */
static const struct rule *first_match(const struct config *cfg, const struct wr_overlay *o, const struct acl_subject *s,
                                      struct rule *tmp)
{
	for (size_t i = 0; o && i < o->nallow; i++)
		if (acl_matchset_match(&o->allow[i], s)) {
			*tmp = (struct rule){ .action = RULE_ALLOW, .set = o->allow[i], .file = "advice", .line = 1 };
			return tmp;
		}
	return acl_check(cfg->acl->rules.r, cfg->acl->rules.n, s);
}

/* conn.c's order: the Upgrade refused first (the request goes on without
 * it), then authenticate(), then allowed() and address_allowed() (names
 * are not resolved here: a rule that needs the address does not match),
 * then the tunnel's first bytes (strict-tls) and tls_decide(). */
void wr_simulate(const struct config *cfg, const struct wr_overlay *o, const struct wr_sim_request *rq,
                 struct wr_sim_outcome *out)
{
	const struct quirks *q = cfg->quirks;
	struct sockaddr_storage dst;
	bool is_ip = host_ip(rq->host, &dst);
	bool connect = ph_strcaseeq(rq->method, "CONNECT");
	struct acl_subject s = {
		.host = rq->host,
		.port = rq->port,
		.dst_ip = is_ip ? &dst : NULL,
		.dst_local = is_ip && acl_addr_is_local(&dst),
		.src = &rq->src,
		.method = rq->method,
		.user = NULL,
	};
	const struct rule *r;
	struct rule tmp;

	memset(out, 0, sizeof(*out));
	if (!whole(cfg)) {
		/* Nothing to judge by: as if it went through. */
		out->status = 200;
		return;
	}
	if (!connect && rq->upgrade && q->no_websocket && !(o && o->drop_no_websocket))
		out->upgrade_refused = true;
	if (auth_config_enabled(cfg->auth)) {
		bool everything = q->auth_everything && !(o && o->drop_auth_everything);
		bool exempt = false;

		if (!everything) {
			exempt = acl_check(cfg->acl->noauth.r, cfg->acl->noauth.n, &s) != NULL;
			for (size_t i = 0; o && !exempt && i < o->nnoauth; i++)
				exempt = acl_matchset_match(&o->noauth[i], &s);
		}
		if (!exempt) {
			if (!rq->user[0]) {
				out->status = 407;
				auth_config_schemes(cfg->auth, out->offered, sizeof(out->offered));
				return;
			}
			out->authenticated = true;
			s.user = rq->user;
		}
	}
	r = first_match(cfg, o, &s, &tmp);
	if (!r || r->action != RULE_ALLOW) {
		out->status = 403;
		if (r)
			snprintf(out->rule, sizeof(out->rule), "%s:%d", r->file ? r->file : "?", r->line);
		return;
	}
	if (s.dst_local && !acl_rule_names_address(r, &s)) {
		out->status = 403;
		return;
	}
	out->status = 200;
	if (!connect)
		return;
	if (rq->first_bytes[0] && strcmp(rq->first_bytes, "tls") != 0) {
		out->strict_tls_closed = q->strict_tls && !(o && o->drop_strict_tls);
		return;
	}
	bool inspect_all = q->inspect_all && !(o && o->drop_inspect_all);
	enum tls_decision d = tls_decide(cfg->tls, inspect_all, &s, rq->sni, "http/1.1");

	for (size_t i = 0; o && d == TLS_INSPECT && !inspect_all && i < o->nno_inspect; i++)
		if (vendor_pattern_match(o->no_inspect[i], rq->host) ||
		    (rq->sni[0] && vendor_pattern_match(o->no_inspect[i], rq->sni)))
			d = TLS_SPLICE_NO_INSPECT;
	out->inspected = d == TLS_INSPECT;
}

static struct wr_event *next_event(struct wr_event *evs, size_t *n, const struct wr_event *base, enum wr_kind kind)
{
	struct wr_event *e = &evs[(*n)++];

	*e = *base;
	e->kind = (uint8_t)kind;
	return e;
}

size_t wr_sim_events(const struct config *cfg, const struct wr_sim_request *rq, const struct wr_sim_outcome *out,
                     const struct wr_event *tmpl, struct wr_event evs[5])
{
	struct wr_event base = *tmpl;
	struct wr_event *e;
	size_t n = 0;
	bool connect = ph_strcaseeq(rq->method, "CONNECT");

	copy(base.method, sizeof(base.method), rq->method);
	copy(base.host, sizeof(base.host), rq->host);
	base.port = rq->port;
	base.client = rq->src;
	copy(base.user, sizeof(base.user), out->authenticated ? rq->user : "");
	base.status = 0;
	base.scheme[0] = base.offered[0] = base.rule[0] = base.detail[0] = base.sni[0] = '\0';

	if (out->upgrade_refused)
		next_event(evs, &n, &base, WR_UPGRADE_REFUSED);
	if (out->status != 200) {
		e = next_event(evs, &n, &base, WR_REQUEST);
		e->status = out->status;
		copy(e->offered, sizeof(e->offered), out->offered);
		copy(e->rule, sizeof(e->rule), out->rule);
		return n;
	}
	if (out->authenticated) {
		char schemes[48];

		e = next_event(evs, &n, &base, WR_AUTH_OK);
		auth_config_schemes(cfg->auth, schemes, sizeof(schemes));
		schemes[strcspn(schemes, " ")] = '\0';
		copy(e->scheme, sizeof(e->scheme), rq->scheme[0] ? rq->scheme : schemes);
	}
	if (connect && rq->first_bytes[0]) {
		e = next_event(evs, &n, &base, WR_TUNNEL_PROTO);
		copy(e->detail, sizeof(e->detail), rq->first_bytes);
		if (strcmp(rq->first_bytes, "tls") == 0)
			copy(e->sni, sizeof(e->sni), rq->sni);
		if (out->strict_tls_closed) {
			e = next_event(evs, &n, &base, WR_STRICT_TLS_CLOSED);
			copy(e->detail, sizeof(e->detail), rq->first_bytes);
		} else if (out->inspected) {
			e = next_event(evs, &n, &base, WR_INSPECTED);
			copy(e->sni, sizeof(e->sni), rq->sni);
		}
	}
	e = next_event(evs, &n, &base, WR_REQUEST);
	e->status = 200;
	return n;
}

/* ---- completing an advice ---- */

/* The vendor pattern that pins host or sni, or NULL. */
static const char *pinned_pattern(const char *host, const char *sni)
{
	for (size_t i = 0; i < vendor_count; i++)
		for (const char *const *p = vendor_table[i].pinned; *p; p++)
			if (vendor_pattern_match(*p, host) || (sni && sni[0] && vendor_pattern_match(*p, sni)))
				return *p;
	return NULL;
}

/* Line order in an advice: what opens the way first. */
static int line_rank(const char *line)
{
	static const char *const order[] = { "allow ", "noauth ", "no-inspect ", "remove " };

	for (size_t i = 0; i < PH_ARRAY_LEN(order); i++)
		if (strncmp(line, order[i], strlen(order[i])) == 0)
			return (int)i;
	return (int)PH_ARRAY_LEN(order);
}

bool wr_advice_complete(const struct config *cfg, const struct wr_event *ev, struct wr_hit *hit)
{
	struct wr_overlay o;
	struct wr_sim_request rq;
	struct wr_sim_outcome out;
	bool ok = false, modelled = true, tried_allow = false, tried_noauth = false, tried_noinspect = false;
	char buf[sizeof(hit->advice)];

	if (!whole(cfg) || hit->advice_kind != WR_ADVICE_CONFIG || !hit->advice[0])
		return true;
	memset(&o, 0, sizeof(o));
	snprintf(buf, sizeof(buf), "%s", hit->advice);
	for (char *save, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		int rc = wr_overlay_add(&o, l);

		if (rc < 0) {
			wr_overlay_free(&o);
			return false;
		}
		modelled &= rc == 0;
		tried_allow |= strncmp(l, "allow ", 6) == 0;
		tried_noauth |= strncmp(l, "noauth ", 7) == 0;
		tried_noinspect |= strncmp(l, "no-inspect ", 11) == 0;
	}
	if (!modelled) {
		/* An advice the model cannot apply (another directive). */
		wr_overlay_free(&o);
		return true;
	}
	wr_sim_request_from_event(cfg, ev, &rq);
	/* The destinations new lines name: the hit's, "" patterns with ports
	 * meaning any destination; none given, the request's host and port. */
	char pats[sizeof(hit->patterns)], ports[sizeof(hit->ports)];
	bool any_dest = !hit->patterns[0] && hit->ports[0];

	snprintf(pats, sizeof(pats), "%s", hit->patterns[0] ? hit->patterns : rq.host);
	if (hit->ports[0] || hit->patterns[0])
		snprintf(ports, sizeof(ports), "%s", hit->ports);
	else
		snprintf(ports, sizeof(ports), "%u", rq.port);
	for (int iter = 0; iter < 8; iter++) {
		char line[sizeof(o.lines[0])];
		const char *pin;

		line[0] = '\0';
		wr_simulate(cfg, &o, &rq, &out);
		if (out.upgrade_refused) {
			snprintf(line, sizeof(line), "remove quirk no-websocket");
		} else if (out.status == 407) {
			if (cfg->quirks->auth_everything && !o.drop_auth_everything)
				snprintf(line, sizeof(line), "remove quirk auth-everything");
			else if (!tried_noauth && any_dest)
				snprintf(line, sizeof(line), "noauth port %s", ports);
			else if (!tried_noauth && !ports[0])
				snprintf(line, sizeof(line), "noauth domain %s", pats);
			else if (!tried_noauth)
				snprintf(line, sizeof(line), "noauth domain %s port %s", pats, ports);
			tried_noauth = true;
		} else if (out.status == 403) {
			char p[sizeof(ports) + 8];

			/* An allow line names its ports: without them it would
			 * open every port of those domains. */
			if (ports[0])
				snprintf(p, sizeof(p), "%s", ports);
			else
				snprintf(p, sizeof(p), "%u", rq.port);
			if (!tried_allow && any_dest)
				snprintf(line, sizeof(line), "allow port %s", p);
			else if (!tried_allow)
				snprintf(line, sizeof(line), "allow domain %s port %s", pats, p);
			tried_allow = true;
		} else if (out.strict_tls_closed) {
			snprintf(line, sizeof(line), "remove quirk strict-tls");
		} else if (out.inspected && (pin = pinned_pattern(rq.host, rq.sni)) != NULL) {
			if (cfg->quirks->inspect_all && !o.drop_inspect_all)
				snprintf(line, sizeof(line), "remove quirk inspect-all");
			else if (!tried_noinspect)
				snprintf(line, sizeof(line), "no-inspect %s", pin);
			tried_noinspect = true;
		} else {
			ok = true;
			break;
		}
		if (!line[0] || wr_overlay_add(&o, line) != 0)
			break;
	}
	/* The lines, in the order that opens the way. */
	hit->advice[0] = '\0';
	for (int rank = 0; rank <= 4; rank++)
		for (size_t i = 0; i < o.nlines; i++) {
			size_t used = strlen(hit->advice);

			if (line_rank(o.lines[i]) != rank)
				continue;
			snprintf(hit->advice + used, sizeof(hit->advice) - used, "%s%s", used ? "\n" : "", o.lines[i]);
		}
	wr_overlay_free(&o);
	return ok;
}

void wr_advice_where(const struct config *cfg, char *out, size_t len)
{
	const struct rule *r;

	out[0] = '\0';
	if (!cfg || !cfg->acl || cfg->acl->rules.n == 0)
		return;
	r = &cfg->acl->rules.r[0];
	for (size_t i = 0; i < cfg->npresets; i++)
		if (cfg->presets[i].preset_file && r->file && strcmp(cfg->presets[i].preset_file, r->file) == 0) {
			snprintf(out, len, "%s:%d", cfg->presets[i].file ? cfg->presets[i].file : "?",
			         cfg->presets[i].line);
			return;
		}
	snprintf(out, len, "%s:%d", r->file ? r->file : "?", r->line);
}
