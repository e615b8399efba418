/*
 * vendors.h - what each WebRTC vendor needs of an office proxy, as data.
 * Every entry cites its fact in webrtc-requirements.md by source id
 * (TOKBOX, SPARK, CMS, CMS2, MEASURED for the section on today's browsers).
 * The report's rules recognise vendor traffic with it, `pinhole
 * check-webrtc` checks a configuration against it, and the presets in
 * conf/presets/ are written to satisfy it.
 */
#ifndef PINHOLE_VENDORS_H
#define PINHOLE_VENDORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* A CONNECT target the vendor's clients must reach. */
struct vendor_dest {
	const char *host; /* a domain pattern in SPEC syntax, "*" = any destination,
	                      * or "$HOST" = the host given to `preset cms HOST` */
	uint16_t port_lo, port_hi;
	const char *purpose; /* "signalling", "TURN media", "screen sharing", ... */
	const char *source;  /* fact id */
	bool required;       /* false: recommended (degraded without it) */
};

struct vendor {
	const char *name;  /* "webex", "tokbox", "cms" */
	const char *title; /* "Cisco Webex (Spark)", ... */
	const struct vendor_dest *dests;
	size_t ndests;
	const char *const *domains; /* patterns recognising its traffic (NULL-terminated);
	                             * cms: none, its host comes from the preset */
	const char *const *pinned;  /* never inspect these (NULL-terminated) */
	const char *pinned_source;
	bool auth_breaks; /* proxy authentication on its destinations breaks its WebRTC */
	const char *auth_source;
	bool kerberos_breaks; /* Negotiate/Kerberos breaks its clients */
	const char *kerberos_source;
};

extern const struct vendor vendor_table[];
extern const size_t vendor_count;

/* The vendor called name, or NULL. */
const struct vendor *vendor_find(const char *name);

/* Bit i set when host belongs to vendor_table[i]: by its domains, or for
 * cms by a `preset cms HOST` of cfg (cfg may be NULL). */
unsigned vendor_match(const struct config *cfg, const char *host);

/* Whether host:port is a TURN server: a `turn-server` of cfg (presets add
 * theirs), or the TURN ports 3478 and 5349. */
bool vendor_is_turn(const struct config *cfg, const char *host, uint16_t port);

/* ---- matching hosts against the facts ---- */

/* Whether host matches a domain pattern in SPEC syntax. */
bool vendor_pattern_match(const char *pattern, const char *host);
/* Whether host is what dest d names ("*" = any, "$HOST" = a `preset cms`). */
bool vendor_dest_host_match(const struct config *cfg, const struct vendor_dest *d, const char *host);
/* The host of the first `preset cms HOST`, or NULL. */
const char *vendor_cms_host(const struct config *cfg);

#endif
