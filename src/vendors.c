/*
 * vendors.c - the vendor facts of webrtc-requirements.md as a table.  It owns
 * only data and the lookups on it; what to conclude from a vendor's traffic
 * is the report's business (webrtc_rules.c).
 */
#include <string.h>

#include "acl.h"
#include "common.h"
#include "config.h"
#include "turn.h"
#include "vendors.h"
/* The helpers beyond vendors.h are declared with the rules that use them. */

/* Webex media servers sit in dynamic address ranges [SPARK], hence "*". */
static const struct vendor_dest webex_dests[] = {
	{ "*", 443, 443, "messaging, notifications (wss) and calling", "SPARK", true },
	{ "*", 33434, 33598, "media and screen sharing over TCP", "SPARK", true },
	{ "*", 8000, 8100, "legacy media range", "SPARK", false },
	{ ".webex.com", 443, 443, "allowlisted services", "SPARK", true },
	{ ".wbx2.com", 443, 443, "allowlisted services", "SPARK", true },
	{ ".ciscospark.com", 443, 443, "allowlisted services", "SPARK", true },
	{ ".localytics.com", 443, 443, "allowlisted services", "SPARK", true },
	{ ".rackcdn.com", 443, 443, "allowlisted services", "SPARK", true },
	{ ".clouddrive.com", 443, 443, "allowlisted services", "SPARK", true },
};

static const char *const webex_domains[] = {
	".webex.com", ".wbx2.com", ".ciscospark.com", ".localytics.com", ".rackcdn.com", ".clouddrive.com", NULL,
};

static const char *const webex_pinned[] = { "*.wbx2.com", "identity.webex.com", "idbroker.webex.com", NULL };

static const struct vendor_dest tokbox_dests[] = {
	{ ".tokbox.com", 443, 443, "WebRTC signalling and media", "TOKBOX", true },
	{ ".opentok.com", 443, 443, "WebRTC signalling and media", "TOKBOX", true },
	{ ".inevent.com", 80, 80, "InEvent pages", "TOKBOX", true },
	{ ".inevent.com", 443, 443, "InEvent pages", "TOKBOX", true },
	{ ".inevent.us", 80, 80, "InEvent pages", "TOKBOX", true },
	{ ".inevent.us", 443, 443, "InEvent pages", "TOKBOX", true },
	{ ".inevent.uk", 80, 80, "InEvent pages", "TOKBOX", true },
	{ ".inevent.uk", 443, 443, "InEvent pages", "TOKBOX", true },
	{ "inevent-virtual-lobby.firebaseapp.com", 443, 443, "virtual lobby", "TOKBOX", true },
	{ "ocsp.godaddy.com", 80, 80, "certificate status", "TOKBOX", false },
	{ "crl.godaddy.com", 80, 80, "certificate status", "TOKBOX", false },
};

/* The certificate status hosts serve every GoDaddy customer, so they are a
 * destination of TokBox but do not identify its traffic. */
static const char *const tokbox_domains[] = {
	".tokbox.com", ".opentok.com", ".inevent.com",
	".inevent.us", ".inevent.uk",  "inevent-virtual-lobby.firebaseapp.com",
	NULL,
};

static const char *const no_patterns[] = { NULL };

static const struct vendor_dest cms_dests[] = {
	{ "$HOST", 443, 443, "web bridge and wss", "CMS", true },
	{ "$HOST", 3478, 3478, "TURN over TCP", "CMS", true },
};

const struct vendor vendor_table[] = {
	{
	        .name = "webex",
	        .title = "Cisco Webex (Spark)",
	        .dests = webex_dests,
	        .ndests = PH_ARRAY_LEN(webex_dests),
	        .domains = webex_domains,
	        .pinned = webex_pinned,
	        .pinned_source = "SPARK",
	        .auth_breaks = false,
	        .auth_source = NULL,
	        .kerberos_breaks = true,
	        .kerberos_source = "SPARK",
	},
	{
	        .name = "tokbox",
	        .title = "TokBox / Vonage Video (OpenTok) via InEvent",
	        .dests = tokbox_dests,
	        .ndests = PH_ARRAY_LEN(tokbox_dests),
	        .domains = tokbox_domains,
	        .pinned = no_patterns,
	        .pinned_source = NULL,
	        .auth_breaks = true,
	        .auth_source = "TOKBOX",
	        .kerberos_breaks = true,
	        .kerberos_source = "TOKBOX",
	},
	{
	        .name = "cms",
	        .title = "Cisco Meeting Server web app (Expressway)",
	        .dests = cms_dests,
	        .ndests = PH_ARRAY_LEN(cms_dests),
	        .domains = no_patterns,
	        .pinned = no_patterns,
	        .pinned_source = NULL,
	        .auth_breaks = false,
	        .auth_source = NULL,
	        .kerberos_breaks = false,
	        .kerberos_source = NULL,
	},
};

const size_t vendor_count = PH_ARRAY_LEN(vendor_table);

const struct vendor *vendor_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < vendor_count; i++)
		if (ph_strcaseeq(vendor_table[i].name, name))
			return &vendor_table[i];
	return NULL;
}

bool vendor_pattern_match(const char *pattern, const char *host)
{
	struct domain_pattern p;
	bool hit;

	if (!pattern || !host || !*host)
		return false;
	if (acl_domain_pattern_parse(&p, pattern) != PH_OK)
		return false;
	hit = acl_domain_match(&p, host, NULL);
	acl_domain_pattern_free(&p);
	return hit;
}

/* Both sides may carry a trailing dot or capitals, as written by the admin
 * or as sent by the client. */
static bool host_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la && ph_memcaseeq(a, la, b, lb);
}

const char *vendor_cms_host(const struct config *cfg)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < cfg->npresets; i++)
		if (cfg->presets[i].name && ph_strcaseeq(cfg->presets[i].name, "cms") && cfg->presets[i].arg &&
		    cfg->presets[i].arg[0])
			return cfg->presets[i].arg;
	return NULL;
}

bool vendor_dest_host_match(const struct config *cfg, const struct vendor_dest *d, const char *host)
{
	if (!host || !*host)
		return false;
	if (strcmp(d->host, "*") == 0)
		return true;
	if (strcmp(d->host, "$HOST") == 0) {
		if (!cfg)
			return false;
		/* One `preset cms HOST` names the Expressway-E (a second one is
		 * refused at configuration time). */
		for (size_t i = 0; i < cfg->npresets; i++)
			if (cfg->presets[i].name && ph_strcaseeq(cfg->presets[i].name, "cms") && cfg->presets[i].arg &&
			    host_eq(cfg->presets[i].arg, host))
				return true;
		return false;
	}
	return vendor_pattern_match(d->host, host);
}

unsigned vendor_match(const struct config *cfg, const char *host)
{
	unsigned bits = 0;

	if (!host || !*host)
		return 0;
	for (size_t i = 0; i < vendor_count; i++) {
		const struct vendor *v = &vendor_table[i];

		for (const char *const *d = v->domains; *d; d++)
			if (vendor_pattern_match(*d, host)) {
				bits |= 1u << i;
				break;
			}
		if (strcmp(v->name, "cms") == 0) {
			for (size_t j = 0; j < v->ndests; j++)
				if (strcmp(v->dests[j].host, "$HOST") == 0 &&
				    vendor_dest_host_match(cfg, &v->dests[j], host)) {
					bits |= 1u << i;
					break;
				}
		}
	}
	return bits;
}

bool vendor_is_turn(const struct config *cfg, const char *host, uint16_t port)
{
	/* The IANA ports of STUN/TURN and STUN/TURN over TLS. */
	if (port == 3478 || port == 5349)
		return true;
	if (!cfg || !host)
		return false;
	for (size_t i = 0; i < cfg->turn->n; i++) {
		const struct turn_server *t = &cfg->turn->servers[i];

		if (t->host && host_eq(t->host, host) && (t->port == 0 || t->port == port))
			return true;
	}
	return false;
}
