/*
 * test_wr_advice.c - SPEC.md's contract "applying a finding's advice line
 * to the configuration makes that finding go away", rule by rule.  Each
 * case is a configuration (text, parsed as pinhole.conf is) and what its
 * clients do; their requests are turned into the events the request path
 * publishes (wr_advice's model of it) and fed to the report.  The advice
 * of the finding is then applied to the configuration text: allow and
 * noauth lines before the first allow or deny rule, other lines at the
 * end, "remove LINE" takes LINE out, FILE becomes a file of the test's.
 * The text is parsed again, the same clients do the same things, and the
 * finding must be gone with no new finding that breaks.  An advice that is
 * not a configuration change (update the browser, open UDP in the
 * firewall) is applied to what the clients do instead.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "report_cli.h"
#include "strbuf.h"
#include "tlsca.h"
#include "webrtc.h"
#include "webrtc_rules.h"
#include "wr_advice.h"

#define UNIT_NAME "test_wr_advice.c"
#include "config_check.h"

/* config_check.h's parse helpers are not used here. */
static void unused_helpers(void) __attribute__((unused));
static void unused_helpers(void)
{
	(void)parse_ok;
	(void)expect_errors;
}

/* 2026-11-21T10:00:00Z */
#define T0 1795255200000ull

#define UA_CHROME                                                                                            \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define UA_CHROME_OLD                                                                                          \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.0 " \
	"Safari/537.36"
#define UA_FIREFOX "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
#define UA_WEBEX                                                                                                    \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) WebexTeams/43.2.0.25211 " \
	"Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36"
#define UA_WEBEX_IOS "Webex/44.10.0.30906 (iPhone; iOS 17.6.1; Scale/3.00)"
#define UA_IE11 "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko"

/* One thing a client does. */
struct act {
	const char *ip;
	const char *ua; /* "" = none (Chromium's TURN CONNECT) */
	const char *method, *host;
	uint16_t port;
	const char *first_bytes; /* CONNECT: "tls", "stun" */
	const char *sni;
	bool upgrade;
	const char *answers; /* the schemes it answers a 407 with ("" = it never does) */
	const char *user;    /* who it is when it answers */
	bool pins;           /* it aborts a handshake with pinhole's minted certificate */
	const char *bad_spn; /* Negotiate: the service its ticket names, which the keytab lacks */
};

#define MAX_ACTS 6

static void feed(const struct config *cfg, const struct wr_sim_request *rq, const struct wr_sim_outcome *out,
                 const struct act *a, uint64_t t)
{
	struct wr_event tmpl, evs[5];
	size_t n;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&tmpl.client;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.wall_ms = t;
	s4->sin_family = AF_INET;
	if (inet_pton(AF_INET, a->ip, &s4->sin_addr) != 1)
		abort();
	snprintf(tmpl.user_agent, sizeof(tmpl.user_agent), "%s", a->ua);
	n = wr_sim_events(cfg, rq, out, &tmpl, evs);
	for (size_t i = 0; i < n; i++) {
		webrtc_ingest(cfg, &evs[i], t);
		if (evs[i].kind == WR_INSPECTED && a->pins) {
			struct wr_event e = evs[i];

			e.kind = WR_PINNING_FAILURE;
			snprintf(e.detail, sizeof(e.detail), "alert bad_certificate");
			webrtc_ingest(cfg, &e, t);
		}
	}
}

static bool offered(const char *offered, const char *answers, char *scheme, size_t len)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", answers ? answers : "");
	for (char *save, *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (strstr(offered, w)) {
			snprintf(scheme, len, "%s", w);
			return true;
		}
	return false;
}

/* The clients' acts under cfg, then the report as it stands a minute later
 * (every 407 has had its retry window). */
static bool run(const char *text, const struct act *acts, size_t nacts, struct report *rep)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = config_parse_text("main.conf", text, strlen(text), &errs);
	size_t len;
	char *json, whybuf[200];
	uint64_t t = T0;

	memset(rep, 0, sizeof(*rep));
	if (!cfg) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "in:\n%s", text);
		cfg_errors_free(&errs);
		CHECK(cfg != NULL);
		return false;
	}
	if (webrtc_start_manual(1, 0) != 0)
		abort();
	for (size_t i = 0; i < nacts; i++, t += 1000) {
		const struct act *a = &acts[i];
		struct wr_sim_request rq;
		struct wr_sim_outcome out;
		char scheme[sizeof(rq.scheme)];

		memset(&rq, 0, sizeof(rq));
		snprintf(rq.method, sizeof(rq.method), "%s", a->method);
		snprintf(rq.host, sizeof(rq.host), "%s", a->host);
		rq.port = a->port;
		((struct sockaddr_in *)&rq.src)->sin_family = AF_INET;
		inet_pton(AF_INET, a->ip, &((struct sockaddr_in *)&rq.src)->sin_addr);
		snprintf(rq.first_bytes, sizeof(rq.first_bytes), "%s", a->first_bytes ? a->first_bytes : "");
		snprintf(rq.sni, sizeof(rq.sni), "%s", a->sni ? a->sni : "");
		rq.upgrade = a->upgrade;
		wr_simulate(cfg, NULL, &rq, &out);
		feed(cfg, &rq, &out, a, t);
		if (out.status != 407)
			continue;
		if (a->bad_spn && strstr(out.offered, "Negotiate")) {
			/* It answers with a ticket the keytab has no key for. */
			struct wr_event e;

			memset(&e, 0, sizeof(e));
			e.kind = WR_NEGOTIATE_WRONG_SPN;
			e.wall_ms = t + 50;
			e.client = rq.src;
			snprintf(e.user_agent, sizeof(e.user_agent), "%s", a->ua);
			snprintf(e.method, sizeof(e.method), "%s", a->method);
			snprintf(e.host, sizeof(e.host), "%s", a->host);
			e.port = a->port;
			snprintf(e.detail, sizeof(e.detail), "%s", a->bad_spn);
			webrtc_ingest(cfg, &e, t + 50);
			feed(cfg, &rq, &out, a, t + 60);
		} else if (offered(out.offered, a->answers, scheme, sizeof(scheme))) {
			snprintf(rq.user, sizeof(rq.user), "%s", a->user ? a->user : "alice");
			snprintf(rq.scheme, sizeof(rq.scheme), "%s", scheme);
			wr_simulate(cfg, NULL, &rq, &out);
			feed(cfg, &rq, &out, a, t + 50);
		}
	}
	json = webrtc_report_json_at(cfg, t + 60000, &len);
	webrtc_stop();
	config_unref(cfg);
	if (report_read(json, len, NULL, rep, whybuf, sizeof(whybuf)) != 0) {
		fprintf(stderr, "report.json: %s\n", whybuf);
		CHECK(0);
	}
	free(json);
	return true;
}

static const struct report_finding *finding(const struct report *rep, const char *rule)
{
	for (size_t i = 0; i < rep->nclients; i++)
		for (size_t j = 0; j < rep->clients[i].nfindings; j++)
			if (strcmp(rep->clients[i].findings[j].rule, rule) == 0)
				return &rep->clients[i].findings[j];
	return NULL;
}

static void dump(const char *title, const struct report *rep)
{
	fprintf(stderr, "  %s:\n", title);
	for (size_t i = 0; i < rep->nclients; i++)
		for (size_t j = 0; j < rep->clients[i].nfindings; j++)
			fprintf(stderr, "    %s %s %s: %s | %s\n", rep->clients[i].client,
			        rep->clients[i].findings[j].rule, rep->clients[i].findings[j].severity,
			        rep->clients[i].findings[j].evidence, rep->clients[i].findings[j].advice);
}

static bool starts(const char *s, const char *word)
{
	return strncmp(s, word, strlen(word)) == 0;
}

/* The configuration text with the advice applied (see the file's head). */
static char *apply(const char *text, const char *advice)
{
	struct strbuf out = { 0 };
	char *t = ph_strdup(text), *adv = ph_strdup(advice);
	char *lines[64], *add_first[8], *add_last[8], *remove[8];
	size_t nl = 0, nf = 0, nlast = 0, nr = 0;
	bool placed = false;

	for (char *save, *l = strtok_r(t, "\n", &save); l && nl < 64; l = strtok_r(NULL, "\n", &save))
		lines[nl++] = l;
	for (char *save, *l = strtok_r(adv, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (starts(l, "remove ") && nr < 8)
			remove[nr++] = l + 7;
		else if ((starts(l, "allow ") || starts(l, "noauth ")) && nf < 8)
			add_first[nf++] = l;
		else if (nlast < 8)
			add_last[nlast++] = l;
	}
	for (size_t i = 0; i < nl; i++) {
		bool drop = false;

		if (!placed &&
		    (starts(lines[i], "allow ") || starts(lines[i], "deny ") || starts(lines[i], "preset "))) {
			for (size_t j = 0; j < nf; j++)
				strbuf_printf(&out, "%s\n", add_first[j]);
			placed = true;
		}
		for (size_t j = 0; j < nr; j++)
			drop |= strcmp(lines[i], remove[j]) == 0;
		if (!drop)
			strbuf_printf(&out, "%s\n", lines[i]);
	}
	for (size_t j = 0; !placed && j < nf; j++)
		strbuf_printf(&out, "%s\n", add_first[j]);
	for (size_t j = 0; j < nlast; j++) {
		char *file = strstr(add_last[j], " FILE");

		/* The placeholder, as the admin would fill it in. */
		if (file && file[5] == '\0') {
			*file = '\0';
			strbuf_printf(&out, "%s users.ntlm\n", add_last[j]);
		} else {
			strbuf_printf(&out, "%s\n", add_last[j]);
		}
	}
	free(t);
	free(adv);
	return out.p ? out.p : ph_strdup("");
}

/* A change of the world outside the configuration, for an advice of that
 * kind: it edits what the clients do. */
typedef void (*world_fn)(struct act *acts, size_t *n);

/* One rule's contract.  want_advice: the advice expected, exactly (NULL:
 * any); want_severity likewise. */
static void contract(int line, const char *rule, const char *text, const struct act *acts, size_t nacts,
                     const char *want_severity, const char *want_advice, world_fn world)
{
	struct report before, after;
	const struct report_finding *f;
	struct act acts2[MAX_ACTS];
	size_t n2 = nacts;
	char *text2 = NULL;

	fprintf(stderr, "%s:%d: contract of %s\n", __FILE__, line, rule);
	if (!run(text, acts, nacts, &before))
		return;
	f = finding(&before, rule);
	CHECK(f != NULL);
	if (!f) {
		dump("before", &before);
		report_free(&before);
		return;
	}
	if (want_severity)
		CHECK_STR(f->severity, want_severity);
	if (want_advice)
		CHECK_STR(f->advice, want_advice);
	memcpy(acts2, acts, nacts * sizeof(*acts));
	if (world) {
		world(acts2, &n2);
		text2 = ph_strdup(text);
	} else {
		text2 = apply(text, f->advice);
	}
	if (run(text2, acts2, n2, &after)) {
		bool ok = finding(&after, rule) == NULL;

		CHECK(ok);
		/* Nothing breaks that did not break before. */
		for (size_t i = 0; i < after.nclients; i++)
			for (size_t j = 0; j < after.clients[i].nfindings; j++) {
				const struct report_finding *g = &after.clients[i].findings[j];
				const struct report_finding *was = finding(&before, g->rule);

				if (strcmp(g->severity, "breaks") == 0 && (!was || strcmp(g->rule, rule) == 0)) {
					fprintf(stderr, "  new breaks finding %s\n", g->rule);
					ok = false;
					CHECK(0);
				}
			}
		if (!ok) {
			fprintf(stderr, "  advice: %s\n  configuration after:\n%s", f->advice, text2);
			dump("before", &before);
			dump("after", &after);
		}
		report_free(&after);
	}
	free(text2);
	report_free(&before);
}

#define CONTRACT(rule, text, acts, sev, advice, world) \
	contract(__LINE__, rule, text, acts, PH_ARRAY_LEN(acts), sev, advice, world)

#define LISTEN "listen 127.0.0.1:3128\n"
#define BASIC "auth basic htpasswd users.htpasswd\n"

/* ---- the rules ---- */

static void test_auth_required(void)
{
	/* The report that went wrong: noauth alone turned the 407 into a 403
	 * because no allow rule covered the TURN server. */
	static const struct act firefox_turn[] = {
		{ "10.0.0.5", UA_FIREFOX, "CONNECT", "turn.example.org", 5349, "stun", NULL, false, "", NULL, false,
		  NULL },
	};
	static const struct act tokbox[] = {
		{ "10.0.0.6", UA_FIREFOX, "CONNECT", "api.opentok.com", 443, "tls", NULL, false, "", NULL, false,
		  NULL },
	};
	/* Firefox answers the 407 and the call connects: no finding. */
	static const struct act answered[] = {
		{ "10.0.0.7", UA_FIREFOX, "CONNECT", "turn.example.org", 5349, "stun", NULL, false, "Basic", "alice",
		  false, NULL },
	};
	struct report rep;

	CONTRACT("auth-required",
	         LISTEN BASIC "turn-server turn.example.org:5349\nallow domain www.example.com port 443\ndeny all\n",
	         firefox_turn, "breaks",
	         "allow domain turn.example.org port 5349\nnoauth domain turn.example.org port 5349", NULL);
	CONTRACT("auth-required", LISTEN BASIC "allow all\n", tokbox, "breaks",
	         "noauth domain .tokbox.com .opentok.com", NULL);
	/* quirk auth-everything overrides noauth: the advice takes it out. */
	CONTRACT("auth-required", LISTEN BASIC "quirk auth-everything\nallow all\n", tokbox, "breaks",
	         "noauth domain .tokbox.com .opentok.com\nremove quirk auth-everything", NULL);
	/* With allow rules that name users, the unauthenticated request needs
	 * an allow line of its own. */
	CONTRACT("auth-required", LISTEN BASIC "allow user alice\ndeny all\n", tokbox, "breaks",
	         "allow domain .tokbox.com .opentok.com port 443\nnoauth domain .tokbox.com .opentok.com", NULL);

	if (run(LISTEN BASIC "turn-server turn.example.org:5349\nallow all\n", answered, PH_ARRAY_LEN(answered),
	        &rep)) {
		CHECK(finding(&rep, "auth-required") == NULL);
		CHECK(finding(&rep, "turn-auth-not-retried") == NULL);
		report_free(&rep);
	}
}

static void test_turn_auth_not_retried(void)
{
	/* Chromium's TURN CONNECT carries no User-Agent; its page did. */
	static const struct act chromium[] = {
		{ "10.0.1.5", UA_CHROME, "GET", "www.example.com", 80, NULL, NULL, false, "", NULL, false, NULL },
		{ "10.0.1.5", "", "CONNECT", "turn.example.org", 443, "stun", NULL, false, "", NULL, false, NULL },
	};

	CONTRACT("turn-auth-not-retried",
	         LISTEN BASIC "turn-server turn.example.org:443\nallow domain turn.example.org port 443\n"
	                      "allow domain www.example.com port 80\ndeny all\n",
	         chromium, "breaks", "noauth domain turn.example.org port 443", NULL);
	/* Behind quirk strict-tls the tunnel would then be closed: the advice
	 * says so. */
	CONTRACT("turn-auth-not-retried",
	         LISTEN BASIC "quirk strict-tls\nturn-server turn.example.org:443\nallow all\n", chromium, "breaks",
	         "noauth domain turn.example.org port 443\nremove quirk strict-tls", NULL);
}

static void test_kerberos_chrome(void)
{
	static const struct act chromium[] = {
		{ "10.0.2.5", UA_CHROME, "CONNECT", "turn.example.org", 3478, "stun", NULL, false, "", NULL, false,
		  NULL },
	};
	/* With a ticket Chromium answers Negotiate and the call connects. */
	static const struct act ticket[] = {
		{ "10.0.2.6", UA_CHROME, "CONNECT", "turn.example.org", 3478, "stun", NULL, false, "Negotiate",
		  "alice@EXAMPLE.ORG", false, NULL },
	};
	struct report rep;

	CONTRACT("kerberos-chrome",
	         LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nallow domain www.example.org\ndeny all\n",
	         chromium, "breaks",
	         "allow domain turn.example.org port 3478\nnoauth domain turn.example.org port 3478", NULL);
	if (run(LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nallow all\n", ticket, PH_ARRAY_LEN(ticket),
	        &rep)) {
		CHECK(finding(&rep, "kerberos-chrome") == NULL);
		CHECK(finding(&rep, "auth-required") == NULL);
		report_free(&rep);
	}
}

/* The browsers are given the proxy by its host name: the ticket is right. */
static void world_proxy_by_name(struct act *acts, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		acts[i].bad_spn = NULL;
		acts[i].answers = "Negotiate";
	}
}

static void test_negotiate_wrong_spn(void)
{
	static const struct act by_address[] = {
		{ "10.0.3.5", UA_CHROME, "CONNECT", "www.example.com", 443, "tls", NULL, false, "", NULL, false,
		  "HTTP/192.0.2.1@EXAMPLE.ORG" },
	};

	CONTRACT("negotiate-wrong-spn", LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nallow all\n",
	         by_address, "breaks", NULL, world_proxy_by_name);
}

static void test_auth_scheme_unsupported(void)
{
	static const struct act app[] = {
		{ "10.0.4.5", UA_WEBEX, "CONNECT", "x.wbx2.com", 443, "tls", NULL, false, "NTLM Basic", "CORP\\alice",
		  false, NULL },
	};
	static const struct act ie[] = {
		{ "10.0.4.6", UA_IE11, "CONNECT", "api.opentok.com", 443, "tls", NULL, false, "NTLM Basic", "alice",
		  false, NULL },
	};

	CONTRACT("auth-scheme-unsupported", LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nallow all\n", app,
	         "breaks", "auth ntlm users FILE", NULL);
	CONTRACT("auth-scheme-unsupported", LISTEN "auth digest file users.htdigest\nallow all\n", ie, "breaks",
	         "auth ntlm users FILE", NULL);
}

#define INSPECT "tls-inspect ca ca/ca.crt ca/ca.key\n"

static void test_pinned_inspected(void)
{
	static const struct act app[] = {
		{ "10.0.5.5", UA_WEBEX, "CONNECT", "identity.webex.com", 443, "tls", "identity.webex.com", false, "",
		  NULL, false, NULL },
	};

	CONTRACT("pinned-inspected", LISTEN INSPECT "allow all\n", app, "breaks", "no-inspect identity.webex.com",
	         NULL);
	CONTRACT("pinned-inspected", LISTEN INSPECT "quirk inspect-all\nno-inspect identity.webex.com\nallow all\n",
	         app, "breaks", "no-inspect identity.webex.com\nremove quirk inspect-all", NULL);
}

static void test_pinning_failure_observed(void)
{
	static const struct act pins[] = {
		{ "10.0.6.5", UA_CHROME, "CONNECT", "app.example.com", 443, "tls", "app.example.com", false, "", NULL,
		  true, NULL },
	};

	CONTRACT("pinning-failure-observed", LISTEN INSPECT "allow all\n", pins, "breaks", "no-inspect app.example.com",
	         NULL);
}

static void test_domain_blocked(void)
{
	static const struct act chrome[] = {
		{ "10.0.7.5", UA_CHROME, "CONNECT", "api.opentok.com", 443, "tls", NULL, false, "", NULL, false, NULL },
	};
	static const struct act app[] = {
		{ "10.0.7.6", UA_WEBEX, "CONNECT", "idbroker.webex.com", 443, "tls", "idbroker.webex.com", false, "",
		  NULL, false, NULL },
	};

	CONTRACT("domain-blocked", LISTEN "allow domain www.example.com\ndeny all\n", chrome, "breaks",
	         "allow domain .tokbox.com .opentok.com port 443", NULL);
	/* Allowed but inspected, Webex's pinned domains would break: the
	 * advice splices them too. */
	CONTRACT("domain-blocked", LISTEN INSPECT "deny domain .webex.com\nallow all\n", app, "breaks",
	         "allow domain .webex.com .wbx2.com .ciscospark.com .localytics.com .rackcdn.com .clouddrive.com "
	         "port 443\nno-inspect idbroker.webex.com",
	         NULL);
}

static void test_port_blocked(void)
{
	static const struct act media[] = {
		{ "10.0.8.5", UA_WEBEX, "CONNECT", "203.0.113.5", 33434, "other", NULL, false, "", NULL, false, NULL },
	};
	static const struct act turn[] = {
		{ "10.0.8.6", UA_FIREFOX, "CONNECT", "turn.example.org", 5349, "stun", NULL, false, "", NULL, false,
		  NULL },
	};

	CONTRACT("port-blocked", LISTEN "allow port 443\ndeny all\n", media, "breaks", "allow port 33434-33598", NULL);
	CONTRACT("port-blocked", LISTEN "turn-server turn.example.org:5349\nallow port 443\n", turn, "breaks",
	         "allow domain turn.example.org port 5349", NULL);
}

/* UDP open in the firewall: media no longer goes through the proxy. */
static void world_udp_open(struct act *acts, size_t *n)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++)
		if (!acts[i].first_bytes || strcmp(acts[i].first_bytes, "stun") != 0)
			acts[k++] = acts[i];
	*n = k;
}

static void test_turn_over_tcp(void)
{
	static const struct act media[] = {
		{ "10.0.9.5", UA_FIREFOX, "GET", "www.example.com", 80, NULL, NULL, false, "", NULL, false, NULL },
		{ "10.0.9.5", UA_FIREFOX, "CONNECT", "turn.example.org", 3478, "stun", NULL, false, "", NULL, false,
		  NULL },
	};

	CONTRACT("turn-over-tcp", LISTEN "allow all\n", media, "degraded", NULL, world_udp_open);
}

static void test_strict_tls_breaks_turn(void)
{
	static const struct act media[] = {
		{ "10.0.10.5", UA_FIREFOX, "CONNECT", "turn.example.org", 3478, "stun", NULL, false, "", NULL, false,
		  NULL },
	};

	CONTRACT("strict-tls-breaks-turn", LISTEN "quirk strict-tls\nallow all\n", media, "breaks",
	         "remove quirk strict-tls", NULL);
}

static void test_websocket_blocked(void)
{
	static const struct act app[] = {
		{ "10.0.11.5", UA_WEBEX, "GET", "mercury.wbx2.com", 80, NULL, NULL, true, "", NULL, false, NULL },
	};

	CONTRACT("websocket-blocked", LISTEN "quirk no-websocket\nallow all\n", app, "breaks",
	         "remove quirk no-websocket", NULL);
}

static void world_browser_updated(struct act *acts, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(acts[i].ua, UA_CHROME_OLD) == 0)
			acts[i].ua = UA_CHROME;
}

static void test_unsupported_browser(void)
{
	static const struct act old[] = {
		{ "10.0.12.5", UA_CHROME_OLD, "GET", "www.example.com", 80, NULL, NULL, false, "", NULL, false, NULL },
	};

	CONTRACT("unsupported-browser", LISTEN "allow all\n", old, "degraded", NULL, world_browser_updated);
}

/* iPhones reach Webex on another network. */
static void world_not_behind_proxy(struct act *acts, size_t *n)
{
	size_t k = 0;

	for (size_t i = 0; i < *n; i++)
		if (strcmp(acts[i].ua, UA_WEBEX_IOS) != 0)
			acts[k++] = acts[i];
	*n = k;
}

static void test_ios_behind_proxy(void)
{
	static const struct act phone[] = {
		{ "10.0.13.5", UA_WEBEX_IOS, "CONNECT", "x.wbx2.com", 443, "tls", NULL, false, "", NULL, false, NULL },
		{ "10.0.13.6", UA_FIREFOX, "GET", "www.example.com", 80, NULL, NULL, false, "", NULL, false, NULL },
	};

	CONTRACT("ios-behind-proxy", LISTEN "allow all\n", phone, "breaks", NULL, world_not_behind_proxy);
}

static void test_ocsp_blocked(void)
{
	static const struct act fetch[] = {
		{ "10.0.14.5", UA_CHROME, "GET", "ocsp.godaddy.com", 80, NULL, NULL, false, "", NULL, false, NULL },
	};

	CONTRACT("ocsp-blocked", LISTEN "allow domain .tokbox.com .opentok.com\ndeny all\n", fetch, "degraded",
	         "allow domain ocsp.godaddy.com crl.godaddy.com port 80 443", NULL);
	CONTRACT("ocsp-blocked", LISTEN BASIC "allow domain .tokbox.com .opentok.com\ndeny all\n", fetch, "degraded",
	         "allow domain ocsp.godaddy.com crl.godaddy.com port 80 443\n"
	         "noauth domain ocsp.godaddy.com crl.godaddy.com",
	         NULL);
}

/* ---- the model's pieces ---- */

static void test_overlay(void)
{
	struct wr_overlay o;

	memset(&o, 0, sizeof(o));
	CHECK_INT(wr_overlay_add(&o, "allow domain .example.com port 443"), 0);
	CHECK_INT(wr_overlay_add(&o, "noauth domain turn.example.org port 3478"), 0);
	CHECK_INT(wr_overlay_add(&o, "no-inspect *.wbx2.com identity.webex.com"), 0);
	CHECK_INT(wr_overlay_add(&o, "remove quirk strict-tls"), 0);
	CHECK_INT(wr_overlay_add(&o, "auth ntlm users FILE"), 1);
	CHECK_INT(wr_overlay_add(&o, "allow domian .example.com"), -1);
	CHECK_INT(wr_overlay_add(&o, "no-inspect"), -1);
	CHECK_INT(o.nallow, 1);
	CHECK_INT(o.nnoauth, 1);
	CHECK_INT(o.nno_inspect, 2);
	CHECK(o.drop_strict_tls);
	CHECK(!o.drop_no_websocket);
	CHECK_INT(o.nlines, 5);
	wr_overlay_free(&o);
}

static void test_where(void)
{
	struct cfg_errors errs = { 0 };
	const char *text = LISTEN "turn-server t.example.org\n\nallow port 443\ndeny all\n";
	struct config *cfg = config_parse_text("main.conf", text, strlen(text), &errs);
	char where[80];

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	wr_advice_where(cfg, where, sizeof(where));
	CHECK_STR(where, "main.conf:4");
	config_unref(cfg);
	text = LISTEN "turn-server t.example.org\n";
	cfg = config_parse_text("main.conf", text, strlen(text), &errs);
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	wr_advice_where(cfg, where, sizeof(where));
	CHECK_STR(where, "");
	config_unref(cfg);
}

/* After a reload, the findings the new configuration fixed are gone; the
 * others stay. */
static void test_reload_drops_fixed(void)
{
	const char *t1 = LISTEN "allow domain www.example.com\ndeny all\n";
	const char *t2 =
	        LISTEN "allow domain .tokbox.com .opentok.com port 443\nallow domain www.example.com\ndeny all\n";
	struct cfg_errors errs = { 0 };
	struct config *c1 = config_parse_text("main.conf", t1, strlen(t1), &errs);
	struct config *c2 = config_parse_text("main.conf", t2, strlen(t2), &errs);
	struct wr_event e;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&e.client;
	char *s;
	size_t len;

	CHECK(c1 && c2);
	if (!c1 || !c2)
		return;
	CHECK_INT(webrtc_start_manual(1, 0), 0);
	memset(&e, 0, sizeof(e));
	e.kind = WR_REQUEST;
	e.wall_ms = T0;
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.20.5", &s4->sin_addr);
	snprintf(e.user_agent, sizeof(e.user_agent), UA_CHROME_OLD);
	snprintf(e.method, sizeof(e.method), "CONNECT");
	snprintf(e.host, sizeof(e.host), "api.opentok.com");
	e.port = 443;
	e.status = 403;
	webrtc_ingest(c1, &e, T0);
	s = webrtc_report_json_at(c1, T0 + 1000, &len);
	CHECK(strstr(s, "\"rule\":\"domain-blocked\"") != NULL);
	CHECK(strstr(s, "\"rule\":\"unsupported-browser\"") != NULL);
	free(s);
	s = webrtc_report_json_at(c2, T0 + 2000, &len);
	CHECK(strstr(s, "\"rule\":\"domain-blocked\"") == NULL);
	CHECK(strstr(s, "\"rule\":\"unsupported-browser\"") != NULL);
	free(s);
	webrtc_stop();
	config_unref(c1);
	config_unref(c2);

	/* The same 407, but offering a scheme the Webex app has: fixed; a
	 * reload that changes nothing for it keeps it. */
	t1 = LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nallow all\n";
	t2 = LISTEN "auth negotiate helper \"sh negotiate-helper.sh\"\nauth ntlm users users.ntlm\nallow all\n";
	/* In reload order: generations only grow. */
	c1 = config_parse_text("main.conf", t1, strlen(t1), &errs);
	struct config *c3 = config_parse_text("main.conf", t1, strlen(t1), &errs);

	c2 = config_parse_text("main.conf", t2, strlen(t2), &errs);

	CHECK(c1 && c2 && c3);
	if (!c1 || !c2 || !c3)
		return;
	CHECK_INT(webrtc_start_manual(1, 0), 0);
	snprintf(e.user_agent, sizeof(e.user_agent), UA_WEBEX);
	snprintf(e.host, sizeof(e.host), "x.wbx2.com");
	e.status = 407;
	snprintf(e.offered, sizeof(e.offered), "Negotiate");
	webrtc_ingest(c1, &e, T0);
	s = webrtc_report_json_at(c3, T0 + 1000, &len);
	CHECK(strstr(s, "\"rule\":\"auth-scheme-unsupported\"") != NULL);
	free(s);
	s = webrtc_report_json_at(c2, T0 + 2000, &len);
	CHECK(strstr(s, "\"rule\":\"auth-scheme-unsupported\"") == NULL);
	free(s);
	webrtc_stop();
	config_unref(c1);
	config_unref(c2);
	config_unref(c3);

	/* A 403 the model cannot explain (a name denied by the address it
	 * resolves to, say) is not dropped by a reload. */
	t1 = LISTEN "deny domain 203.0.113.0/24\nallow all\n";
	c1 = config_parse_text("main.conf", t1, strlen(t1), &errs);
	c2 = config_parse_text("main.conf", t1, strlen(t1), &errs);
	CHECK(c1 && c2);
	if (!c1 || !c2)
		return;
	CHECK_INT(webrtc_start_manual(1, 0), 0);
	memset(e.offered, 0, sizeof(e.offered));
	snprintf(e.host, sizeof(e.host), "api.opentok.com");
	snprintf(e.rule, sizeof(e.rule), "main.conf:2");
	e.status = 403;
	webrtc_ingest(c1, &e, T0);
	s = webrtc_report_json_at(c1, T0 + 1000, &len);
	CHECK(strstr(s, "\"rule\":\"domain-blocked\"") != NULL);
	free(s);
	s = webrtc_report_json_at(c2, T0 + 2000, &len);
	CHECK(strstr(s, "\"rule\":\"domain-blocked\"") != NULL);
	free(s);
	webrtc_stop();
	config_unref(c1);
	config_unref(c2);
}

int main(void)
{
	char oldcwd[PATH_MAX], err[200];

	if (!getcwd(oldcwd, sizeof(oldcwd)))
		return 2;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_wr_advice.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
		perror(tmpdir);
		return 2;
	}
	/* alice:password */
	write_file("users.htpasswd", "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n");
	write_file("users.htdigest", "alice:pinhole:3b3de9fb1cc4f9d5a5e5ef2b2a4a1bc4\n");
	write_file("users.ntlm", "CORP\\alice:8846f7eaee8fb117ad06bdd830b7586c\n");
	/* Never run: the model needs only the scheme. */
	write_file("negotiate-helper.sh", "exit 1\n");
	if (tlsca_create("ca", err, sizeof(err)) != 0) {
		fprintf(stderr, "tlsca_create: %s\n", err);
		return 2;
	}
	test_overlay();
	test_where();
	test_auth_required();
	test_turn_auth_not_retried();
	test_kerberos_chrome();
	test_negotiate_wrong_spn();
	test_auth_scheme_unsupported();
	test_pinned_inspected();
	test_pinning_failure_observed();
	test_domain_blocked();
	test_port_blocked();
	test_turn_over_tcp();
	test_strict_tls_breaks_turn();
	test_websocket_blocked();
	test_unsupported_browser();
	test_ios_behind_proxy();
	test_ocsp_blocked();
	test_reload_drops_fixed();
	unlink("ca/ca.crt");
	unlink("ca/ca.key");
	written_cleanup("ca", oldcwd);
	return unit_summary("test_wr_advice");
}
