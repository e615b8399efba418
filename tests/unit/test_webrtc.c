/*
 * test_webrtc.c - the WebRTC report: every rule on an event sequence that
 * must produce it and one that must not, the TURN retry window, the client
 * table's bounds (eviction, ring overflow), and the JSON and HTML output
 * (valid JSON and escaped HTML whatever the User-Agent holds).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "tls.h"
#include "turn.h"
#include "useragent.h"
#include "vendors.h"
#include "webrtc.h"
#include "webrtc_rules.h"
#include "unit.h"

/* 2026-11-21T10:00:00Z */
#define T0 1795255200000ull

#define UA_CHROME                                                                                            \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 " \
	"Safari/537.36"
#define UA_CHROME_OLD                                                                                          \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.0 " \
	"Safari/537.36"
#define UA_FIREFOX "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
#define UA_FIREFOX_OLD "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:78.0) Gecko/20100101 Firefox/78.0"
#define UA_SAFARI_OLD                                                                                              \
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 " \
	"Safari/605.1.15"
#define UA_EDGE18                                                                                                \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 " \
	"Safari/537.36 Edge/18.19041"
#define UA_IE11 "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko"
#define UA_WEBEX                                                                                                    \
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) WebexTeams/43.2.0.25211 " \
	"Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36"
#define UA_SPARK_IOS "Cisco Spark/2.0.3 (iPhone; iOS 10.2; Scale/2.00)"
#define UA_IPHONE_SAFARI                                                                                   \
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " \
	"Version/17.4 Mobile/15E148 Safari/604.1"

static struct config cfg;
static struct turn_server turns[1];
static struct turn_settings turn;
static struct tls_settings tls;
static struct preset_use presets[1];

static void setup_config(void)
{
	memset(&cfg, 0, sizeof(cfg));
	turns[0].host = (char *)"turn.example.net";
	turns[0].port = 0;
	presets[0].name = (char *)"cms";
	presets[0].arg = (char *)"join.example.org";
	turn.servers = turns;
	turn.n = 1;
	cfg.turn = &turn;
	memset(&tls, 0, sizeof(tls));
	cfg.tls = &tls;
	cfg.presets = presets;
	cfg.npresets = 1;
}

static struct wr_event ev(enum wr_kind kind, const char *ip, const char *ua, const char *method, const char *host,
                          uint16_t port, uint16_t status, uint64_t when)
{
	struct wr_event e;

	memset(&e, 0, sizeof(e));
	e.kind = (uint8_t)kind;
	e.wall_ms = when;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e.client;

		s6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e.client;

		s4->sin_family = AF_INET;
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			abort();
	}
	snprintf(e.user_agent, sizeof(e.user_agent), "%s", ua ? ua : "");
	snprintf(e.method, sizeof(e.method), "%s", method ? method : "");
	snprintf(e.host, sizeof(e.host), "%s", host ? host : "");
	e.port = port;
	e.status = status;
	return e;
}

static struct wr_event req(const char *ua, const char *method, const char *host, uint16_t port, uint16_t status,
                           uint64_t when)
{
	return ev(WR_REQUEST, "10.0.0.5", ua, method, host, port, status, when);
}

/* Runs one rule with the User-Agent ua. */
static bool run(wr_rule_fn fn, const char *ua, const struct wr_event *e, struct wr_hit *hit)
{
	struct ua_info u;
	struct wr_ctx ctx = { .cfg = &cfg, .ua = &u };

	ua_parse(ua, &u);
	memset(hit, 0, sizeof(*hit));
	return fn(&ctx, e, hit);
}

#define VBIT(name) (1u << (unsigned)(vendor_find(name) - vendor_table))

#define CHECK_HAS(hay, needle)                                                                                \
	do {                                                                                                  \
		unit_checks++;                                                                                \
		if (!unit_contains((hay), (needle))) {                                                        \
			unit_failures++;                                                                      \
			fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, (hay), (needle)); \
		}                                                                                             \
	} while (0)

#define CHECK_LACKS(hay, needle)                                                                            \
	do {                                                                                                \
		unit_checks++;                                                                              \
		if (unit_contains((hay), (needle))) {                                                       \
			unit_failures++;                                                                    \
			fprintf(stderr, "%s:%d: \"%s\" has \"%s\"\n", __FILE__, __LINE__, (hay), (needle)); \
		}                                                                                           \
	} while (0)

/* ---- vendors ---- */

static void test_vendors(void)
{
	CHECK(vendor_find("webex") != NULL);
	CHECK(vendor_find("TokBox") != NULL);
	CHECK(vendor_find("zoom") == NULL);
	CHECK_INT(vendor_match(NULL, "api.opentok.com"), VBIT("tokbox"));
	CHECK_INT(vendor_match(NULL, "idbroker.webex.com"), VBIT("webex"));
	CHECK_INT(vendor_match(NULL, "x.wbx2.com"), VBIT("webex"));
	CHECK_INT(vendor_match(NULL, "inevent-virtual-lobby.firebaseapp.com"), VBIT("tokbox"));
	CHECK_INT(vendor_match(NULL, "other.firebaseapp.com"), 0);
	CHECK_INT(vendor_match(NULL, "join.example.org"), 0);
	CHECK_INT(vendor_match(&cfg, "join.example.org"), VBIT("cms"));
	CHECK_INT(vendor_match(&cfg, "JOIN.example.org."), VBIT("cms"));
	CHECK_INT(vendor_match(&cfg, "example.com"), 0);
	CHECK_INT(vendor_match(&cfg, ""), 0);
	CHECK(vendor_is_turn(NULL, "anything.example", 3478));
	CHECK(vendor_is_turn(NULL, "anything.example", 5349));
	CHECK(!vendor_is_turn(NULL, "anything.example", 443));
	CHECK(vendor_is_turn(&cfg, "turn.example.net", 443));
	CHECK(vendor_is_turn(&cfg, "TURN.example.net.", 80));
	CHECK(!vendor_is_turn(&cfg, "turn2.example.net", 443));
	turns[0].port = 443;
	CHECK(vendor_is_turn(&cfg, "turn.example.net", 443));
	CHECK(!vendor_is_turn(&cfg, "turn.example.net", 444));
	turns[0].port = 0;
	CHECK_STR(vendor_cms_host(&cfg), "join.example.org");
	CHECK(vendor_cms_host(NULL) == NULL);

	/* Every dest and pattern cites a fact and parses. */
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];

		for (size_t j = 0; j < v->ndests; j++) {
			CHECK(v->dests[j].source != NULL);
			CHECK(v->dests[j].port_lo <= v->dests[j].port_hi);
		}
		for (const char *const *p = v->pinned; *p; p++)
			CHECK(v->pinned_source != NULL);
		CHECK(!v->auth_breaks || v->auth_source);
		CHECK(!v->kerberos_breaks || v->kerberos_source);
	}
}

/* ---- the rules, one by one ---- */

static void test_auth_required(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_FIREFOX, "CONNECT", "api.opentok.com", 443, 407, T0 + 1000);

	CHECK(wr_rules[WR_R_AUTH_REQUIRED].deferred);
	CHECK(run(wr_rule_auth_required, UA_FIREFOX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "TOKBOX");
	CHECK_STR(h.evidence, "407 on CONNECT api.opentok.com:443 at 10:00:01, not answered within 5 s");
	CHECK_STR(h.advice, "noauth domain .tokbox.com .opentok.com");
	CHECK_INT(h.advice_kind, WR_ADVICE_CONFIG);
	CHECK_STR(h.patterns, ".tokbox.com .opentok.com");
	CHECK_STR(h.ports, "");
	CHECK_INT(h.vendors, VBIT("tokbox"));

	e = req(UA_CHROME, "CONNECT", "www.inevent.com", 80, 407, T0);
	CHECK(run(wr_rule_auth_required, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "noauth domain .inevent.com .inevent.us .inevent.uk");

	/* A TURN server of no vendor rests on the measured fact, not on
	 * TokBox's. */
	e = req(UA_CHROME, "CONNECT", "turn.example.net", 443, 407, T0);
	CHECK(run(wr_rule_auth_required, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "noauth domain turn.example.net port 443");
	CHECK_STR(h.source, "MEASURED");
	CHECK_INT(h.vendors, 0);
	CHECK_HAS(h.evidence, "(a TURN server), not answered within 5 s");

	/* Not a vendor whose WebRTC breaks with auth, not a TURN server,
	 * not a 407, not a CONNECT. */
	e = req(UA_CHROME, "CONNECT", "www.example.com", 443, 407, T0);
	CHECK(!run(wr_rule_auth_required, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "x.webex.com", 443, 407, T0);
	CHECK(!run(wr_rule_auth_required, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "api.opentok.com", 443, 200, T0);
	CHECK(!run(wr_rule_auth_required, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "GET", "api.opentok.com", 80, 407, T0);
	CHECK(!run(wr_rule_auth_required, UA_CHROME, &e, &h));
}

static bool stun_yes(void *arg, const char *host, uint16_t port)
{
	(void)arg;
	return strcmp(host, "media.example.com") == 0 && port == 443;
}

static void test_turn_auth_not_retried_rule(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "CONNECT", "turn.example.net", 443, 407, T0 + 2000);
	struct ua_info u;
	struct wr_ctx ctx = { .cfg = &cfg, .ua = &u, .stun_seen = stun_yes };

	CHECK(wr_rules[WR_R_TURN_AUTH_NOT_RETRIED].deferred);
	CHECK(run(wr_rule_turn_auth_not_retried, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "MEASURED");
	CHECK_HAS(h.evidence, "407 on CONNECT turn.example.net:443 at 10:00:02");
	CHECK_HAS(h.evidence, "Chrome 131");
	CHECK_STR(h.advice, "noauth domain turn.example.net port 443");

	/* Firefox retries; a non-TURN host is not WebRTC media. */
	CHECK(!run(wr_rule_turn_auth_not_retried, UA_FIREFOX, &e, &h));
	e = req(UA_CHROME, "CONNECT", "media.example.com", 443, 407, T0);
	CHECK(!run(wr_rule_turn_auth_not_retried, UA_CHROME, &e, &h));
	/* ... unless some client sent STUN to it. */
	ua_parse(UA_CHROME, &u);
	CHECK(wr_rule_turn_auth_not_retried(&ctx, &e, &h));
}

static void test_kerberos_chrome(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "CONNECT", "turn.example.net", 3478, 407, T0);

	CHECK(wr_rules[WR_R_KERBEROS_CHROME].deferred);
	CHECK_STR(wr_rules[WR_R_KERBEROS_CHROME].source, "MEASURED");
	snprintf(e.offered, sizeof(e.offered), "Negotiate");
	CHECK(run(wr_rule_kerberos_chrome, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "MEASURED");
	CHECK_HAS(h.evidence, "407 on CONNECT turn.example.net:3478 at 10:00:00 offering Negotiate to Chrome 131, "
	                      "never answered within 5 s");
	CHECK_HAS(h.evidence, "host name");
	CHECK_STR(h.advice, "noauth domain turn.example.net port 3478");

	/* A vendor's destination: its domains. */
	e = req(UA_CHROME, "CONNECT", "api.opentok.com", 443, 407, T0);
	snprintf(e.offered, sizeof(e.offered), "Basic Negotiate");
	CHECK(run(wr_rule_kerberos_chrome, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "noauth domain .tokbox.com .opentok.com");
	CHECK_INT(h.vendors, VBIT("tokbox"));

	/* Authenticating with Negotiate is no failure (Chromium 156 with a
	 * ticket answers and the call connects). */
	e = req(UA_CHROME, "CONNECT", "turn.example.net", 3478, 0, T0);
	e.kind = WR_AUTH_OK;
	snprintf(e.scheme, sizeof(e.scheme), "Negotiate");
	CHECK(!run(wr_rule_kerberos_chrome, UA_CHROME, &e, &h));
	/* Not Negotiate, not Chromium, not a WebRTC destination. */
	e = req(UA_CHROME, "CONNECT", "turn.example.net", 3478, 407, T0);
	snprintf(e.offered, sizeof(e.offered), "Basic NTLM");
	CHECK(!run(wr_rule_kerberos_chrome, UA_CHROME, &e, &h));
	snprintf(e.offered, sizeof(e.offered), "Negotiate");
	CHECK(!run(wr_rule_kerberos_chrome, UA_FIREFOX, &e, &h));
	e = req(UA_CHROME, "CONNECT", "accounts.google.com", 443, 407, T0);
	snprintf(e.offered, sizeof(e.offered), "Negotiate");
	CHECK(!run(wr_rule_kerberos_chrome, UA_CHROME, &e, &h));
}

static void test_negotiate_wrong_spn(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "", "", 0, 0, T0);

	e.kind = WR_NEGOTIATE_WRONG_SPN;
	snprintf(e.detail, sizeof(e.detail), "HTTP/10.0.0.1@EXAMPLE.ORG");
	CHECK(run(wr_rule_negotiate_wrong_spn, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_HAS(h.evidence, "HTTP/10.0.0.1@EXAMPLE.ORG");
	CHECK_HAS(h.advice, "host name");
	CHECK_HAS(h.advice, "keytab");

	snprintf(e.detail, sizeof(e.detail), "HTTP/proxy.example.org@EXAMPLE.ORG");
	CHECK(run(wr_rule_negotiate_wrong_spn, UA_CHROME, &e, &h));
	CHECK_HAS(h.advice, "add HTTP/proxy.example.org@EXAMPLE.ORG to the keytab");

	e.kind = WR_AUTH_OK;
	CHECK(!run(wr_rule_negotiate_wrong_spn, UA_CHROME, &e, &h));
}

static void test_auth_scheme_unsupported(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_WEBEX, "CONNECT", "x.wbx2.com", 443, 407, T0);

	snprintf(e.offered, sizeof(e.offered), "Negotiate");
	CHECK(run(wr_rule_auth_scheme_unsupported, UA_WEBEX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "SPARK");
	CHECK_HAS(h.evidence, "407 on CONNECT x.wbx2.com:443");
	CHECK_HAS(h.evidence, "offered only Negotiate");
	CHECK_STR(h.advice, "auth ntlm users FILE");
	CHECK_INT(h.advice_kind, WR_ADVICE_CONFIG);
	/* Chrome copes with Negotiate; the app copes with NTLM. */
	CHECK(!run(wr_rule_auth_scheme_unsupported, UA_CHROME, &e, &h));
	snprintf(e.offered, sizeof(e.offered), "Negotiate NTLM");
	CHECK(!run(wr_rule_auth_scheme_unsupported, UA_WEBEX, &e, &h));

	snprintf(e.offered, sizeof(e.offered), "Digest Negotiate");
	CHECK(run(wr_rule_auth_scheme_unsupported, UA_IE11, &e, &h));
	CHECK_STR(h.source, "TOKBOX");
	snprintf(e.offered, sizeof(e.offered), "Digest Basic");
	CHECK(!run(wr_rule_auth_scheme_unsupported, UA_IE11, &e, &h));
	e.offered[0] = '\0';
	CHECK(!run(wr_rule_auth_scheme_unsupported, UA_IE11, &e, &h));
}

static void test_pinned_inspected(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_WEBEX, "CONNECT", "identity.webex.com", 443, 0, T0);

	e.kind = WR_INSPECTED;
	CHECK(run(wr_rule_pinned_inspected, UA_WEBEX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "SPARK");
	CHECK_STR(h.advice, "no-inspect identity.webex.com");
	CHECK_HAS(h.evidence, "identity.webex.com inspected at 10:00:00");

	snprintf(e.host, sizeof(e.host), "203.0.113.9");
	snprintf(e.sni, sizeof(e.sni), "avatar.wbx2.com");
	CHECK(run(wr_rule_pinned_inspected, UA_WEBEX, &e, &h));
	CHECK_STR(h.advice, "no-inspect *.wbx2.com");

	e.sni[0] = '\0';
	snprintf(e.host, sizeof(e.host), "www.webex.com");
	CHECK(!run(wr_rule_pinned_inspected, UA_WEBEX, &e, &h));
	snprintf(e.host, sizeof(e.host), "wbx2.com");
	CHECK(!run(wr_rule_pinned_inspected, UA_WEBEX, &e, &h));
	snprintf(e.host, sizeof(e.host), "identity.webex.com");
	e.kind = WR_TUNNEL_PROTO;
	CHECK(!run(wr_rule_pinned_inspected, UA_WEBEX, &e, &h));
}

static void test_pinning_failure(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "CONNECT", "203.0.113.9", 443, 0, T0);

	e.kind = WR_PINNING_FAILURE;
	snprintf(e.sni, sizeof(e.sni), "app.example.com");
	snprintf(e.detail, sizeof(e.detail), "alert bad_certificate");
	CHECK(run(wr_rule_pinning_failure_observed, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_HAS(h.evidence, "app.example.com (alert bad_certificate)");
	CHECK_STR(h.advice, "no-inspect app.example.com");
	e.kind = WR_INSPECTED;
	CHECK(!run(wr_rule_pinning_failure_observed, UA_CHROME, &e, &h));
}

static void test_domain_blocked(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "CONNECT", "api.opentok.com", 443, 403, T0 + 61000);

	snprintf(e.rule, sizeof(e.rule), "t.conf:12");
	CHECK(run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.evidence, "403 on CONNECT api.opentok.com:443 at 10:01:01 (denied by t.conf:12)");
	CHECK_STR(h.advice, "allow domain .tokbox.com .opentok.com port 443");

	e = req(UA_CHROME, "GET", "www.inevent.com", 80, 403, T0);
	CHECK(run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	CHECK_HAS(h.evidence, "(no rule allowed it)");
	CHECK_STR(h.advice, "allow domain .inevent.com .inevent.us .inevent.uk port 80 443");

	e = req(UA_WEBEX, "CONNECT", "idbroker.webex.com", 443, 403, T0);
	CHECK(run(wr_rule_domain_blocked, UA_WEBEX, &e, &h));
	CHECK_HAS(h.advice, "allow domain .webex.com .wbx2.com .ciscospark.com");
	CHECK_HAS(h.advice, "port 443");

	e = req(UA_CHROME, "CONNECT", "join.example.org", 443, 403, T0);
	CHECK(run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "allow domain join.example.org port 443");
	CHECK_INT(h.vendors, VBIT("cms"));

	/* Not a vendor, not denied, or a media port (port-blocked's). */
	e = req(UA_CHROME, "CONNECT", "www.example.com", 443, 403, T0);
	CHECK(!run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "api.opentok.com", 443, 200, T0);
	CHECK(!run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "media.webex.com", 33434, 403, T0);
	CHECK(!run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "api.opentok.com", 80, 403, T0);
	CHECK(!run(wr_rule_domain_blocked, UA_CHROME, &e, &h));
}

static void test_port_blocked(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_WEBEX, "CONNECT", "203.0.113.5", 33434, 403, T0);

	CHECK(run(wr_rule_port_blocked, UA_WEBEX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "SPARK");
	CHECK_HAS(h.evidence, "403 on CONNECT 203.0.113.5:33434 at 10:00:00");
	CHECK_HAS(h.evidence, "(no rule allowed it)");
	CHECK_STR(h.advice, "allow port 33434-33598");
	CHECK_INT(h.vendors, VBIT("webex"));

	e = req(UA_WEBEX, "CONNECT", "203.0.113.5", 8080, 403, T0);
	CHECK(run(wr_rule_port_blocked, UA_WEBEX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_DEGRADED);
	CHECK_STR(h.advice, "allow port 8000-8100");

	e = req(UA_CHROME, "CONNECT", "join.example.org", 3478, 403, T0);
	snprintf(e.rule, sizeof(e.rule), "t.conf:3");
	CHECK(run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "CMS");
	CHECK_HAS(h.evidence, "(denied by t.conf:3)");
	CHECK_STR(h.advice, "allow domain join.example.org port 3478");

	e = req(UA_WEBEX, "CONNECT", "[2001:db8::5]", 33500, 403, T0);
	snprintf(e.host, sizeof(e.host), "2001:db8::5");
	CHECK(run(wr_rule_port_blocked, UA_WEBEX, &e, &h));
	CHECK_HAS(h.evidence, "[2001:db8::5]:33500");

	/* A TURN server of no vendor, on any port. */
	e = req(UA_CHROME, "CONNECT", "turn.example.net", 5349, 403, T0);
	CHECK(run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	CHECK_STR(h.source, "MEASURED");
	CHECK_HAS(h.evidence, "403 on CONNECT turn.example.net:5349 at 10:00:00, a TURN server (no rule allowed it)");
	CHECK_STR(h.advice, "allow domain turn.example.net port 5349");
	e = req(UA_CHROME, "CONNECT", "turn.example.net", 443, 403, T0);
	CHECK(run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "allow domain turn.example.net port 443");

	/* A name of no vendor on 8080 is somebody else's business. */
	e = req(UA_CHROME, "CONNECT", "www.example.com", 8080, 403, T0);
	CHECK(!run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "203.0.113.5", 443, 403, T0);
	CHECK(!run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "203.0.113.5", 33434, 502, T0);
	CHECK(!run(wr_rule_port_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "CONNECT", "203.0.113.5", 22, 403, T0);
	CHECK(!run(wr_rule_port_blocked, UA_CHROME, &e, &h));
}

static void test_turn_over_tcp(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_FIREFOX, "CONNECT", "turn.example.net", 443, 0, T0);

	e.kind = WR_TUNNEL_PROTO;
	snprintf(e.detail, sizeof(e.detail), "stun");
	CHECK(run(wr_rule_turn_over_tcp, UA_FIREFOX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_DEGRADED);
	CHECK_STR(h.source, "MEASURED");
	CHECK_HAS(h.evidence, "STUN in the CONNECT tunnel to turn.example.net:443 at 10:00:00");
	CHECK_HAS(h.advice, "UDP 3478");
	CHECK_HAS(h.advice, "not a pinhole setting");
	CHECK_INT(h.advice_kind, WR_ADVICE_OUTSIDE);
	snprintf(e.detail, sizeof(e.detail), "tls");
	CHECK(!run(wr_rule_turn_over_tcp, UA_FIREFOX, &e, &h));
}

static void test_strict_tls(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_FIREFOX, "CONNECT", "turn.example.net", 443, 0, T0);

	e.kind = WR_STRICT_TLS_CLOSED;
	snprintf(e.detail, sizeof(e.detail), "stun");
	CHECK(run(wr_rule_strict_tls_breaks_turn, UA_FIREFOX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "TOKBOX");
	CHECK_HAS(h.evidence, "turn.example.net:443 (first bytes: stun)");
	CHECK_STR(h.advice, "remove quirk strict-tls");
	e.kind = WR_TUNNEL_PROTO;
	CHECK(!run(wr_rule_strict_tls_breaks_turn, UA_FIREFOX, &e, &h));
}

static void test_websocket_blocked(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_WEBEX, "GET", "mercury.wbx2.com", 443, 0, T0);

	e.kind = WR_UPGRADE_REFUSED;
	CHECK(run(wr_rule_websocket_blocked, UA_WEBEX, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "SPARK");
	CHECK_HAS(h.evidence, "WebSocket Upgrade to mercury.wbx2.com:443 refused");
	CHECK_STR(h.advice, "remove quirk no-websocket");
	snprintf(e.host, sizeof(e.host), "join.example.org");
	CHECK(run(wr_rule_websocket_blocked, UA_CHROME, &e, &h));
	CHECK_STR(h.source, "CMS");
	e.kind = WR_REQUEST;
	CHECK(!run(wr_rule_websocket_blocked, UA_WEBEX, &e, &h));
}

static void test_unsupported_browser(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME_OLD, "GET", "www.example.com", 80, 200, T0);

	CHECK(run(wr_rule_unsupported_browser, UA_CHROME_OLD, &e, &h));
	CHECK_INT(h.severity, WR_SEV_DEGRADED);
	CHECK_STR(h.source, "CMS");
	CHECK_HAS(h.evidence, "Chrome 80 on Windows");
	CHECK_HAS(h.evidence, "older than Chrome 88");
	CHECK_HAS(h.advice, "update the browser");
	CHECK(run(wr_rule_unsupported_browser, UA_EDGE18, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_HAS(h.evidence, "legacy Edge");
	CHECK(run(wr_rule_unsupported_browser, UA_FIREFOX_OLD, &e, &h));
	CHECK_HAS(h.evidence, "older than Firefox 82");
	CHECK(run(wr_rule_unsupported_browser, UA_SAFARI_OLD, &e, &h));
	CHECK_HAS(h.evidence, "older than Safari 13");
	CHECK(run(wr_rule_unsupported_browser, UA_IE11, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);

	CHECK(!run(wr_rule_unsupported_browser, UA_CHROME, &e, &h));
	CHECK(!run(wr_rule_unsupported_browser, UA_FIREFOX, &e, &h));
	CHECK(!run(wr_rule_unsupported_browser, "curl/7.1", &e, &h));
	CHECK(!run(wr_rule_unsupported_browser, "Java/1.8", &e, &h));
	CHECK(!run(wr_rule_unsupported_browser, UA_WEBEX, &e, &h));
	/* An event without a User-Agent says nothing of the browser. */
	e.user_agent[0] = '\0';
	CHECK(!run(wr_rule_unsupported_browser, UA_CHROME_OLD, &e, &h));
}

static void test_ios_behind_proxy(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_SPARK_IOS, "CONNECT", "x.wbx2.com", 443, 200, T0);

	CHECK(run(wr_rule_ios_behind_proxy, UA_SPARK_IOS, &e, &h));
	CHECK_INT(h.severity, WR_SEV_BREAKS);
	CHECK_STR(h.source, "SPARK");
	CHECK_HAS(h.evidence, "iPhone/iPad");
	CHECK(h.vendors & VBIT("webex"));
	CHECK(!run(wr_rule_ios_behind_proxy, UA_IPHONE_SAFARI, &e, &h));
	CHECK(!run(wr_rule_ios_behind_proxy, UA_WEBEX, &e, &h));
}

static void test_ocsp_blocked(void)
{
	struct wr_hit h;
	struct wr_event e = req(UA_CHROME, "GET", "ocsp.godaddy.com", 80, 403, T0);

	CHECK(run(wr_rule_ocsp_blocked, UA_CHROME, &e, &h));
	CHECK_INT(h.severity, WR_SEV_DEGRADED);
	CHECK_STR(h.source, "TOKBOX");
	CHECK_HAS(h.evidence, "403 on GET ocsp.godaddy.com:80 at 10:00:00 (no rule allowed it)");
	CHECK_STR(h.advice, "allow domain ocsp.godaddy.com crl.godaddy.com port 80 443");
	e = req(UA_CHROME, "GET", "crl.godaddy.com", 80, 407, T0);
	CHECK(run(wr_rule_ocsp_blocked, UA_CHROME, &e, &h));
	CHECK_STR(h.advice, "noauth domain ocsp.godaddy.com crl.godaddy.com");
	e = req(UA_CHROME, "GET", "crl.godaddy.com", 80, 502, T0);
	CHECK(run(wr_rule_ocsp_blocked, UA_CHROME, &e, &h));
	CHECK_INT(h.advice_kind, WR_ADVICE_OUTSIDE);
	e = req(UA_CHROME, "GET", "crl.godaddy.com", 80, 200, T0);
	CHECK(!run(wr_rule_ocsp_blocked, UA_CHROME, &e, &h));
	e = req(UA_CHROME, "GET", "www.godaddy.com", 80, 403, T0);
	CHECK(!run(wr_rule_ocsp_blocked, UA_CHROME, &e, &h));
}

static void test_rule_table(void)
{
	static const char *const ids[] = {
		"auth-required",
		"turn-auth-not-retried",
		"kerberos-chrome",
		"negotiate-wrong-spn",
		"auth-scheme-unsupported",
		"pinned-inspected",
		"pinning-failure-observed",
		"domain-blocked",
		"port-blocked",
		"turn-over-tcp",
		"strict-tls-breaks-turn",
		"websocket-blocked",
		"unsupported-browser",
		"ios-behind-proxy",
		"ocsp-blocked",
	};

	CHECK_INT(WR_RULE_COUNT, sizeof(ids) / sizeof(ids[0]));
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		CHECK_STR(webrtc_rule_id(i), ids[i]);
		CHECK(wr_rules[i].fn != NULL);
		CHECK(wr_rules[i].source && wr_rules[i].source[0]);
		CHECK(wr_rules[i].description && wr_rules[i].description[0]);
	}
	CHECK(webrtc_rule_id(WR_RULE_COUNT) == NULL);
	CHECK(WR_RULE_COUNT <= sizeof(((struct webrtc_counts *)0)->findings_by_rule) / sizeof(uint64_t));
}

/* ---- a small JSON checker, so the report is proven parseable ---- */

struct js {
	const char *p, *end;
};

static bool js_value(struct js *j, int depth);

static void js_ws(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool js_string(struct js *j)
{
	if (j->p >= j->end || *j->p != '"')
		return false;
	for (j->p++; j->p < j->end; j->p++) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			if (*j->p == 'u') {
				for (int i = 0; i < 4; i++)
					if (++j->p >= j->end || !strchr("0123456789abcdefABCDEF", *j->p))
						return false;
			} else if (!strchr("\"\\/bfnrt", *j->p)) {
				return false;
			}
		} else if (c >= 0x80) {
			/* Well-formed UTF-8 only. */
			int n = (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;

			if (n < 0 || c == 0xc0 || c == 0xc1)
				return false;
			for (int i = 0; i < n; i++)
				if (++j->p >= j->end || ((unsigned char)*j->p & 0xc0) != 0x80)
					return false;
		}
	}
	return false;
}

static bool js_value(struct js *j, int depth)
{
	if (depth > 32)
		return false;
	js_ws(j);
	if (j->p >= j->end)
		return false;
	if (*j->p == '"')
		return js_string(j);
	if (*j->p == '{' || *j->p == '[') {
		char close = *j->p == '{' ? '}' : ']';
		bool obj = close == '}';

		j->p++;
		js_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return true;
		}
		for (;;) {
			js_ws(j);
			if (obj) {
				if (!js_string(j))
					return false;
				js_ws(j);
				if (j->p >= j->end || *j->p++ != ':')
					return false;
			}
			if (!js_value(j, depth + 1))
				return false;
			js_ws(j);
			if (j->p >= j->end)
				return false;
			if (*j->p == close) {
				j->p++;
				return true;
			}
			if (*j->p++ != ',')
				return false;
		}
	}
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
		while (j->p < j->end && strchr("-+.eE0123456789", *j->p))
			j->p++;
		return true;
	}
	for (size_t i = 0; i < 3; i++) {
		static const char *const lit[] = { "true", "false", "null" };
		size_t n = strlen(lit[i]);

		if ((size_t)(j->end - j->p) >= n && memcmp(j->p, lit[i], n) == 0) {
			j->p += n;
			return true;
		}
	}
	return false;
}

static bool json_valid(const char *s, size_t len)
{
	struct js j = { s, s + len };

	if (!js_value(&j, 0))
		return false;
	js_ws(&j);
	return j.p == j.end;
}

static void test_json_checker(void)
{
	CHECK(json_valid(B("{\"a\":[1,\"x\\u00e9\",true,null,{}]}")));
	CHECK(!json_valid(B("{\"a\":\"\x01\"}")));
	CHECK(!json_valid(B("{\"a\":\"\xff\"}")));
	CHECK(!json_valid(B("{\"a\":1,}")));
	CHECK(!json_valid(B("{\"a\":\"\\q\"}")));
}

/* ---- the engine ---- */

static char *json_at(uint64_t now)
{
	size_t len = 0;
	char *s = webrtc_report_json_at(&cfg, now, &len);

	CHECK(s != NULL);
	CHECK_INT(strlen(s), len);
	CHECK(json_valid(s, len));
	return s;
}

static void feed(const struct wr_event *e, uint64_t now)
{
	webrtc_ingest(&cfg, e, now);
}

static void test_report_shape(void)
{
	struct wr_event e;
	char *s;
	char *h;
	size_t len;

	CHECK_INT(webrtc_start_manual(1, 0), 0);
	/* A second start is refused while the first runs. */
	CHECK_INT(webrtc_start_manual(1, 0), -1);

	s = json_at(T0);
	CHECK_HAS(s, "{\"generated\":\"2026-11-21T10:00:00Z\",\"summary\":{\"clients\":0,\"breaks\":0,\"degraded\":0,"
	             "\"ok\":0,\"top_findings\":[],\"advice_before\":\"\"},\"clients\":[],\"rules\":[");
	CHECK_HAS(s, "\"dropped_events\":0,\"evicted_clients\":0}");
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		char want[80];

		snprintf(want, sizeof(want), "{\"id\":\"%s\",\"severity\":", wr_rules[i].id);
		CHECK_HAS(s, want);
	}
	free(s);
	h = webrtc_report_html_at(&cfg, NULL, T0, &len);
	CHECK_HAS(h, "No client has been seen yet.");
	CHECK_LACKS(h, "<script");
	free(h);

	e = req(UA_CHROME, "CONNECT", "api.opentok.com", 443, 407, T0 + 1000);
	feed(&e, T0 + 1000);
	feed(&e, T0 + 2000);
	e = req(UA_CHROME, "GET", "www.example.com", 80, 200, T0 + 3000);
	feed(&e, T0 + 3000);
	/* The same client on another browser. */
	e = req(UA_FIREFOX, "GET", "www.example.com", 80, 200, T0 + 3500);
	feed(&e, T0 + 3500);

	/* Within the retry window the 407s are no finding yet. */
	s = json_at(T0 + 4000);
	CHECK_HAS(s, "\"verdict\":\"ok\"");
	CHECK_LACKS(s, "{\"rule\":\"auth-required\"");
	free(s);

	s = json_at(T0 + 7000);
	CHECK_HAS(s, "{\"generated\":\"2026-11-21T10:00:07Z\",\"summary\":{\"clients\":1,\"breaks\":1,"
	             "\"degraded\":0,\"ok\":0,\"top_findings\":[{\"rule\":\"auth-required\",\"severity\":\"breaks\","
	             "\"clients\":1,\"count\":2,\"advice\":\"noauth domain .tokbox.com .opentok.com\","
	             "\"advice_kind\":\"config\"}],\"advice_before\":\"\"},\"clients\":[");
	CHECK_HAS(s, "\"clients\":[{\"client\":\"10.0.0.5\",\"user\":\"\",\"user_agent\":\"Mozilla/5.0 (X11; Linux");
	CHECK_HAS(s, "\"browser\":\"Firefox 128\",\"os\":\"Linux\",\"user_agents\":[{\"user_agent\":\"" UA_FIREFOX
	             "\",\"browser\":\"Firefox 128\",\"os\":\"Linux\",\"last_seen\":\"2026-11-21T10:00:03Z\"},"
	             "{\"user_agent\":\"" UA_CHROME "\",\"browser\":\"Chrome 131\",\"os\":\"Windows\","
	             "\"last_seen\":\"2026-11-21T10:00:03Z\"}],\"first_seen\":\"2026-11-21T10:00:01Z\","
	             "\"last_seen\":\"2026-11-21T10:00:03Z\",\"requests\":4,\"verdict\":\"breaks\",\"findings\":[");
	CHECK_HAS(
	        s,
	        "{\"rule\":\"auth-required\",\"severity\":\"breaks\",\"vendors\":[\"tokbox\"],\"source\":\"TOKBOX\","
	        "\"count\":2,\"evidence\":\"407 on CONNECT api.opentok.com:443 at 10:00:01, not answered within 5 s\","
	        "\"advice\":\"noauth domain .tokbox.com .opentok.com\",\"advice_kind\":\"config\"");
	free(s);

	h = webrtc_report_html_at(&cfg, NULL, T0 + 7000, &len);
	CHECK_INT(strlen(h), len);
	CHECK_HAS(h, "<span class=\"verdict breaks\">breaks</span>");
	CHECK_HAS(h, "auth-required");
	CHECK_HAS(h, "<code class=\"wr-line\">noauth domain .tokbox.com .opentok.com</code>");
	CHECK_HAS(h, "<p class=\"wr-where\">Configuration fixes: add <code>allow</code> and <code>noauth</code> lines");
	CHECK_HAS(h, "Firefox 128 on Linux");
	CHECK_HAS(h, "Chrome 131 on Windows");
	CHECK_LACKS(h, "No client has been seen yet.");
	CHECK_LACKS(h, "<script");
	/* The summary comes before the clients. */
	CHECK(strstr(h, "wr-counts") && strstr(h, "wr-clients") && strstr(h, "wr-counts") < strstr(h, "wr-clients"));
	free(h);
	webrtc_stop();
}

/* The four latest User-Agents, the most recently seen first, whatever the
 * order the rings deliver them in. */
static void test_user_agents_kept(void)
{
	static const char *const uas[] = { UA_CHROME_OLD, UA_FIREFOX_OLD, UA_SAFARI_OLD, UA_EDGE18, UA_CHROME };
	static const uint64_t at[] = { 1000, 5000, 3000, 4000, 2000 };
	struct wr_event e;
	char *s;
	const char *p;

	CHECK_INT(webrtc_start_manual(1, 0), 0);
	for (size_t i = 0; i < PH_ARRAY_LEN(uas); i++) {
		e = req(uas[i], "GET", "www.example.com", 80, 200, T0 + at[i]);
		feed(&e, T0 + 6000);
	}
	s = json_at(T0 + 6000);
	/* Chrome 80 (1 s) was the oldest of five: gone. */
	p = strstr(s, "\"user_agents\":[");
	CHECK(p != NULL);
	if (p) {
		const char *a = strstr(p, "\"browser\":\"Firefox 78\"");
		const char *b = strstr(p, "\"browser\":\"Edge 18 (EdgeHTML)\"");
		const char *c = strstr(p, "\"browser\":\"Safari 12\"");
		const char *d = strstr(p, "\"browser\":\"Chrome 131\"");

		CHECK(a && b && c && d && a < b && b < c && c < d);
		CHECK(strstr(p, "Chrome 80") == NULL || strstr(p, "Chrome 80") > strstr(p, "\"first_seen\""));
	}
	CHECK_HAS(s, "\"user_agent\":\"" UA_FIREFOX_OLD "\",\"browser\":\"Firefox 78\"");
	/* Each browser was judged: the oldest's finding stays. */
	CHECK_HAS(s, "{\"rule\":\"unsupported-browser\"");
	free(s);
	/* No configuration fix to place: no word on where. */
	{
		size_t len;
		char *h = webrtc_report_html_at(&cfg, NULL, T0 + 6000, &len);

		CHECK_LACKS(h, "wr-where");
		CHECK_HAS(h, "<span class=\"wr-outside\">update the browser");
		free(h);
	}
	webrtc_stop();
}

static void test_hostile_strings(void)
{
	struct wr_event e;
	char *s, *h;
	size_t len;

	CHECK_INT(webrtc_start_manual(1, 0), 0);
	e = req("Mozilla \"quoted\" back\\slash \x01\x1f\x7f bad\xff\xc3( ok caf\xc3\xa9 <script>alert(1)</script> "
	        "&amp;",
	        "GET", "www.example.com", 80, 200, T0);
	snprintf(e.user, sizeof(e.user), "<b>bob\"</b>");
	feed(&e, T0);
	s = json_at(T0);
	CHECK_HAS(s, "Mozilla \\\"quoted\\\" back\\\\slash \\u0001\\u001f\\u007f bad\\ufffd\\ufffd( ok caf\xc3\xa9");
	CHECK_HAS(s, "\"user\":\"<b>bob\\\"</b>\"");
	free(s);

	h = webrtc_report_html_at(&cfg, NULL, T0, &len);
	CHECK_LACKS(h, "<script>");
	CHECK_LACKS(h, "<b>");
	CHECK_HAS(h, "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;");
	CHECK_HAS(h, "&lt;b&gt;bob&quot;&lt;/b&gt;");
	CHECK_HAS(h, "bad&#xfffd;&#xfffd;( ok caf\xc3\xa9");
	CHECK_HAS(h, "<span class=\"verdict ok\">ok</span>");
	free(h);

	/* The longest strings an event may carry, unterminated: still bounded. */
	memset(&e, 'A', sizeof(e));
	e.kind = WR_REQUEST;
	e.client.ss_family = AF_INET;
	e.wall_ms = T0;
	feed(&e, T0);
	s = json_at(T0);
	CHECK_HAS(s, "\"verdict\":");
	free(s);
	webrtc_stop();
}

static void test_turn_retry_window(void)
{
	struct wr_event e;
	char *s;

	CHECK_INT(webrtc_start_manual(1, 0), 0);

	/* Chromium: 407 on the TURN CONNECT, then nothing. */
	e = ev(WR_REQUEST, "10.0.0.1", UA_CHROME, "CONNECT", "turn.example.net", 443, 407, T0);
	feed(&e, T0);
	s = json_at(T0 + 1000);
	CHECK_LACKS(s, "{\"rule\":\"turn-auth-not-retried\"");
	free(s);
	s = json_at(T0 + WR_TURN_RETRY_WINDOW_MS + 1);
	CHECK_HAS(s, "{\"rule\":\"turn-auth-not-retried\",\"severity\":\"breaks\"");
	CHECK_HAS(s, "407 on CONNECT turn.example.net:443 at 10:00:00 from Chrome 131, not retried within 5 s");
	CHECK_HAS(s, "\"advice\":\"noauth domain turn.example.net port 443\"");
	free(s);

	/* Chromium that did retry (authenticated as alice: another user, the
	 * same address) within the window. */
	e = ev(WR_REQUEST, "10.0.0.2", UA_CHROME, "CONNECT", "turn.example.net", 3478, 407, T0 + 10000);
	feed(&e, T0 + 10000);
	e = ev(WR_AUTH_OK, "10.0.0.2", UA_CHROME, "CONNECT", "turn.example.net", 3478, 0, T0 + 10100);
	snprintf(e.user, sizeof(e.user), "alice");
	snprintf(e.scheme, sizeof(e.scheme), "Basic");
	feed(&e, T0 + 10100);

	/* The retry drained before the 407 it answers (another ring). */
	e = ev(WR_REQUEST, "10.0.0.3", UA_CHROME, "CONNECT", "turn.example.net", 3478, 200, T0 + 10200);
	feed(&e, T0 + 10200);
	e = ev(WR_REQUEST, "10.0.0.3", UA_CHROME, "CONNECT", "turn.example.net", 3478, 407, T0 + 10100);
	feed(&e, T0 + 10200);

	/* A retry after the window does not count. */
	e = ev(WR_REQUEST, "10.0.0.4", UA_CHROME, "CONNECT", "turn.example.net", 3478, 407, T0 + 10000);
	feed(&e, T0 + 10000);
	e = ev(WR_REQUEST, "10.0.0.4", UA_CHROME, "CONNECT", "turn.example.net", 3478, 200, T0 + 16000);
	feed(&e, T0 + 16000);

	/* Firefox never triggers it. */
	e = ev(WR_REQUEST, "10.0.0.6", UA_FIREFOX, "CONNECT", "turn.example.net", 3478, 407, T0 + 10000);
	feed(&e, T0 + 10000);

	/* STUN seen by one client makes a target a TURN server for all. */
	e = ev(WR_TUNNEL_PROTO, "10.0.0.7", UA_FIREFOX, "CONNECT", "media.example.com", 443, 0, T0 + 10000);
	snprintf(e.detail, sizeof(e.detail), "stun");
	feed(&e, T0 + 10000);
	e = ev(WR_REQUEST, "10.0.0.8", UA_CHROME, "CONNECT", "media.example.com", 443, 407, T0 + 11000);
	feed(&e, T0 + 11000);
	e = ev(WR_REQUEST, "10.0.0.9", UA_CHROME, "CONNECT", "other.example.com", 443, 407, T0 + 11000);
	feed(&e, T0 + 11000);

	s = json_at(T0 + 30000);
	{
		/* Each client's block runs from its address to the next. */
		static const struct {
			const char *ip;
			bool want;
		} w[] = { { "10.0.0.1", true },  { "10.0.0.2", false }, { "10.0.0.3", false }, { "10.0.0.4", true },
			  { "10.0.0.6", false }, { "10.0.0.7", false }, { "10.0.0.8", true },  { "10.0.0.9", false } };

		for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
			char key[64];
			const char *p, *next;
			bool has;

			snprintf(key, sizeof(key), "{\"client\":\"%s\",\"user\":\"\"", w[i].ip);
			p = strstr(s, key);
			CHECK(p != NULL);
			if (!p)
				continue;
			next = strstr(p + 1, "{\"client\":");
			if (!next)
				next = strstr(p, "\"rules\":");
			has = false;
			for (const char *q = strstr(p, "\"turn-auth-not-retried\""); q && q < next;
			     q = strstr(q + 1, "\"turn-auth-not-retried\""))
				has = true;
			if (has != w[i].want)
				fprintf(stderr, "client %s: turn-auth-not-retried %d, want %d\n", w[i].ip, has,
				        w[i].want);
			CHECK_INT(has, w[i].want);
		}
	}
	/* The STUN tunnel itself is turn-over-tcp for its client. */
	CHECK_HAS(s, "STUN in the CONNECT tunnel to media.example.com:443");
	free(s);
	webrtc_stop();
}

/* A browser's background traffic answered 407 (Chromium's update and
 * account checks, Firefox's settings) is no WebRTC finding, whatever the
 * browser; the same 407 on a TURN server is [MEASURED]. */
static void test_background_407(void)
{
	static const char *const hosts[] = { "update.googleapis.com", "accounts.google.com",
		                             "firefox.settings.services.mozilla.com" };
	struct wr_event e;
	char *s;

	CHECK_INT(webrtc_start_manual(1, 0), 0);
	for (size_t i = 0; i < PH_ARRAY_LEN(hosts); i++) {
		e = ev(WR_REQUEST, "10.0.5.1", i == 2 ? UA_FIREFOX_OLD : UA_CHROME_OLD, "CONNECT", hosts[i], 443, 407,
		       T0 + i * 100);
		snprintf(e.offered, sizeof(e.offered), "Negotiate");
		feed(&e, T0 + i * 100);
		e = ev(WR_REQUEST, "10.0.5.2", UA_IE11, "CONNECT", hosts[i], 443, 407, T0 + i * 100);
		snprintf(e.offered, sizeof(e.offered), "Negotiate");
		feed(&e, T0 + i * 100);
	}
	s = json_at(T0 + 60000);
	CHECK_HAS(s, "\"clients\":2,\"breaks\":0,\"degraded\":0,\"ok\":2,\"top_findings\":[]");
	CHECK_HAS(s, "\"requests\":3,\"verdict\":\"ok\",\"findings\":[]");
	free(s);
	e = ev(WR_REQUEST, "10.0.5.1", "", "CONNECT", "turn.example.net", 3478, 407, T0 + 61000);
	snprintf(e.offered, sizeof(e.offered), "Basic");
	feed(&e, T0 + 61000);
	s = json_at(T0 + 70000);
	/* The client's latest browser is Firefox 78: not Chromium's rule. */
	CHECK_HAS(s, "{\"rule\":\"auth-required\",\"severity\":\"breaks\",\"vendors\":[],\"source\":\"MEASURED\"");
	free(s);
	webrtc_stop();
}

static void test_sorting_and_counts(void)
{
	struct wr_event e;
	struct webrtc_counts c;
	char *s;
	const char *pb, *pd, *po;

	CHECK_INT(webrtc_start_manual(2, 0), 0);
	e = ev(WR_REQUEST, "10.0.1.1", UA_CHROME, "CONNECT", "api.opentok.com", 443, 403, T0);
	feed(&e, T0);
	e = ev(WR_REQUEST, "10.0.1.2", UA_CHROME_OLD, "GET", "www.example.com", 80, 200, T0 + 1000);
	feed(&e, T0 + 1000);
	e = ev(WR_REQUEST, "10.0.1.3", UA_CHROME, "GET", "www.example.com", 80, 200, T0 + 2000);
	feed(&e, T0 + 2000);
	/* The same address as IPv4-mapped IPv6 is the same client. */
	e = ev(WR_REQUEST, "::ffff:10.0.1.3", UA_CHROME, "GET", "www.example.com", 80, 200, T0 + 2500);
	feed(&e, T0 + 2500);
	/* Through a ring: a render drains it first. */
	e = ev(WR_REQUEST, "2001:db8::7", UA_CHROME, "GET", "www.example.com", 80, 200, T0 + 500);
	webrtc_publish(webrtc_ring(1), &e);
	CHECK(webrtc_ring(2) == NULL);
	CHECK(webrtc_ring(-1) == NULL);

	s = json_at(T0 + 3000);
	pb = strstr(s, "\"client\":\"10.0.1.1\"");
	pd = strstr(s, "\"client\":\"10.0.1.2\"");
	po = strstr(s, "\"client\":\"10.0.1.3\"");
	CHECK(pb && pd && po && pb < pd && pd < po);
	CHECK(po && strstr(po, "\"client\":\"2001:db8::7\""));
	CHECK_HAS(s, "\"requests\":2,\"verdict\":\"ok\"");
	free(s);

	webrtc_counts(&cfg, &c);
	CHECK_INT(c.clients, 4);
	CHECK_INT(c.breaks, 1);
	CHECK_INT(c.degraded, 1);
	CHECK_INT(c.ok, 2);
	CHECK_INT(c.findings_by_rule[WR_R_DOMAIN_BLOCKED], 1);
	CHECK_INT(c.findings_by_rule[WR_R_UNSUPPORTED_BROWSER], 1);
	CHECK_INT(c.findings_by_rule[WR_R_AUTH_REQUIRED], 0);
	CHECK_INT(c.evicted, 0);
	CHECK_INT(c.dropped, 0);

	/* Users split one address into clients. */
	e = ev(WR_REQUEST, "10.0.1.3", UA_CHROME, "GET", "www.example.com", 80, 200, T0 + 2600);
	snprintf(e.user, sizeof(e.user), "carol");
	feed(&e, T0 + 2600);
	webrtc_counts(&cfg, &c);
	CHECK_INT(c.clients, 5);
	webrtc_stop();
}

static void test_eviction(void)
{
	struct wr_event e;
	struct webrtc_counts c;
	char *s;

	CHECK_INT(webrtc_start_manual(1, 4), 0);
	for (int i = 1; i <= 10; i++) {
		char ip[32];

		snprintf(ip, sizeof(ip), "10.0.2.%d", i);
		e = ev(WR_REQUEST, ip, UA_CHROME, "CONNECT", "api.opentok.com", 443, 407, T0 + (uint64_t)i * 1000);
		webrtc_publish(webrtc_ring(0), &e);
		/* Client 1 keeps talking: the least recently seen go instead. */
		e = ev(WR_REQUEST, "10.0.2.1", UA_CHROME, "GET", "www.example.com", 80, 200, T0 + (uint64_t)i * 1000);
		webrtc_publish(webrtc_ring(0), &e);
	}
	/* Published through the ring, drained in order. */
	webrtc_drain(&cfg, T0 + 11000);
	webrtc_counts(&cfg, &c);
	CHECK_INT(c.clients, 4);
	CHECK_INT(c.evicted, 6);
	CHECK_INT(c.breaks, 4);
	s = json_at(T0 + 20000);
	CHECK_HAS(s, "\"evicted_clients\":6}");
	CHECK_HAS(s, "\"client\":\"10.0.2.1\"");
	CHECK_HAS(s, "\"client\":\"10.0.2.8\"");
	CHECK_HAS(s, "\"client\":\"10.0.2.9\"");
	CHECK_HAS(s, "\"client\":\"10.0.2.10\"");
	CHECK_LACKS(s, "\"client\":\"10.0.2.2\"");
	CHECK_LACKS(s, "\"client\":\"10.0.2.7\"");
	free(s);
	webrtc_stop();
}

static void test_ring_overflow(void)
{
	struct wr_event e = ev(WR_REQUEST, "10.0.3.1", UA_CHROME, "GET", "www.example.com", 80, 200, T0);
	struct webrtc_counts c;
	char *s;

	CHECK_INT(webrtc_start_manual(2, 0), 0);
	for (int i = 0; i < 5000; i++)
		webrtc_publish(webrtc_ring(0), &e);
	webrtc_publish(webrtc_ring(1), &e);
	webrtc_counts(&cfg, &c);
	CHECK_INT(c.dropped, 5000 - 4096);
	CHECK_INT(c.clients, 1);
	s = json_at(T0);
	CHECK_HAS(s, "\"requests\":4097,");
	CHECK_HAS(s, "\"dropped_events\":904,");
	free(s);
	/* Drained: room again. */
	webrtc_publish(webrtc_ring(0), &e);
	webrtc_counts(&cfg, &c);
	CHECK_INT(c.dropped, 904);
	webrtc_stop();

	/* Nothing published without a ring. */
	webrtc_publish(NULL, &e);
	CHECK(webrtc_ring(0) == NULL);
}

static void test_drain_thread(void)
{
	struct wr_event e = ev(WR_REQUEST, "10.0.4.1", UA_CHROME, "GET", "www.example.com", 80, 200, T0);
	struct webrtc_counts c;

	CHECK_INT(webrtc_start(1, 0), 0);
	/* Half a ring: a loaded machine may run the thread late, but not
	 * 2000 events late. */
	for (int i = 0; i < 2048; i++)
		webrtc_publish(webrtc_ring(0), &e);
	/* The thread empties the ring within its interval. */
	for (int i = 0; i < 50; i++) {
		usleep(20000);
		webrtc_publish(webrtc_ring(0), &e);
	}
	webrtc_counts(NULL, &c);
	CHECK_INT(c.dropped, 0);
	CHECK_INT(c.clients, 1);
	webrtc_stop();
	CHECK(webrtc_ring(0) == NULL);
}

int main(void)
{
	setup_config();
	test_vendors();
	test_auth_required();
	test_turn_auth_not_retried_rule();
	test_kerberos_chrome();
	test_negotiate_wrong_spn();
	test_auth_scheme_unsupported();
	test_pinned_inspected();
	test_pinning_failure();
	test_domain_blocked();
	test_port_blocked();
	test_turn_over_tcp();
	test_strict_tls();
	test_websocket_blocked();
	test_unsupported_browser();
	test_ios_behind_proxy();
	test_ocsp_blocked();
	test_rule_table();
	test_json_checker();
	test_report_shape();
	test_user_agents_kept();
	test_hostile_strings();
	test_turn_retry_window();
	test_background_407();
	test_sorting_and_counts();
	test_eviction();
	test_ring_overflow();
	test_drain_thread();
	return unit_summary("test_webrtc");
}
