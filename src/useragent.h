/*
 * useragent.h - what the report needs to know of a User-Agent: the browser
 * family and major version, the OS, and the few traits vendor facts hinge on
 * (Chromium engine, Webex app, iOS device, EdgeHTML).  The text is attacker
 * controlled: parsing reads at most UA_MAX_LEN bytes and never allocates.
 */
#ifndef PINHOLE_USERAGENT_H
#define PINHOLE_USERAGENT_H

#include <stdbool.h>

/* Longer User-Agents are parsed on their first UA_MAX_LEN bytes. */
#define UA_MAX_LEN 512

enum ua_browser {
	UA_OTHER,
	UA_CHROME,
	UA_CHROMIUM,
	UA_EDGE,        /* Chromium-based, "Edg/" */
	UA_EDGE_LEGACY, /* EdgeHTML, "Edge/" */
	UA_FIREFOX,
	UA_SAFARI,
	UA_YANDEX,
	UA_OPERA,
	UA_IE,
	UA_CURL,
};

enum ua_os {
	UA_OS_OTHER,
	UA_OS_WINDOWS,
	UA_OS_MACOS,
	UA_OS_LINUX,
	UA_OS_ANDROID,
	UA_OS_IOS,
	UA_OS_CHROMEOS,
};

struct ua_info {
	enum ua_browser browser;
	int major; /* 0 = unknown */
	int minor; /* 0 = unknown */
	enum ua_os os;
	bool chromium;    /* Blink engine: Chrome, Chromium, Edge, Opera, Yandex, Electron apps */
	bool firefox;     /* Gecko */
	bool webex_app;   /* the Webex (Spark) app rather than a browser */
	bool ios_device;  /* iPhone, iPad or iPod */
	bool legacy_edge; /* EdgeHTML */
	char display[40]; /* "Chrome 131", "Edge 18 (EdgeHTML)", "Webex app" */
};

/* Fills out from ua (NULL or "" gives UA_OTHER). */
void ua_parse(const char *ua, struct ua_info *out);
/* "Chrome", "Edge", "Safari", ... */
const char *ua_browser_name(enum ua_browser b);
/* "Windows", "macOS", "iOS", ... ("other" for UA_OS_OTHER) */
const char *ua_os_name(enum ua_os os);
/* Whether the User-Agent is a web browser or an app built on one (curl and
 * unknown agents are not). */
bool ua_is_browser(const struct ua_info *ua);

#endif
