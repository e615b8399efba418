/*
 * useragent.c - recognises the browsers the vendor facts name, from the
 * tokens browsers really send.  Tokens are tested most specific first,
 * because every Chromium derivative also says "Chrome/" and "Safari/", and
 * legacy Edge says both "Chrome/" and "Edge/".
 */
#include <stdio.h>
#include <string.h>

#include "useragent.h"

struct ua_text {
	const char *s;
	size_t len;
};

/* Bounded search: the User-Agent need not be shorter than UA_MAX_LEN. */
static const char *find(const struct ua_text *t, const char *tok)
{
	size_t n = strlen(tok);

	if (n == 0 || n > t->len)
		return NULL;
	for (size_t i = 0; i + n <= t->len; i++)
		if (t->s[i] == tok[0] && memcmp(t->s + i, tok, n) == 0)
			return t->s + i;
	return NULL;
}

static bool has(const struct ua_text *t, const char *tok)
{
	return find(t, tok) != NULL;
}

/* Reads "131.0.6778.85" after tok into major and minor; a version absurdly
 * long is cut, never overflowed. */
static bool version_after(const struct ua_text *t, const char *tok, int *major, int *minor)
{
	const char *p = find(t, tok);
	const char *end = t->s + t->len;
	int v = 0, digits = 0;

	if (!p)
		return false;
	p += strlen(tok);
	while (p < end && *p >= '0' && *p <= '9') {
		if (digits < 5)
			v = v * 10 + (*p - '0');
		digits++;
		p++;
	}
	if (digits == 0)
		return false;
	*major = v;
	*minor = 0;
	if (p < end && *p == '.') {
		v = 0;
		digits = 0;
		for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
			if (digits < 5)
				v = v * 10 + (*p - '0');
			digits++;
		}
		*minor = v;
	}
	return true;
}

static void parse_os(const struct ua_text *t, struct ua_info *out)
{
	/* iOS says "like Mac OS X", Android and ChromeOS say "Linux" and
	 * "X11": the narrower token goes first. */
	if (has(t, "iPhone") || has(t, "iPad") || has(t, "iPod")) {
		out->os = UA_OS_IOS;
		out->ios_device = true;
	} else if (has(t, "Android")) {
		out->os = UA_OS_ANDROID;
	} else if (has(t, "CrOS")) {
		out->os = UA_OS_CHROMEOS;
	} else if (has(t, "Windows") || has(t, "Win64") || has(t, "Win32")) {
		out->os = UA_OS_WINDOWS;
	} else if (has(t, "Macintosh") || has(t, "Mac OS X")) {
		out->os = UA_OS_MACOS;
	} else if (has(t, "Linux") || has(t, "X11")) {
		out->os = UA_OS_LINUX;
	}
}

static void parse_browser(const struct ua_text *t, struct ua_info *out)
{
	int *ma = &out->major, *mi = &out->minor;

	if (t->len >= 5 && memcmp(t->s, "curl/", 5) == 0) {
		out->browser = UA_CURL;
		version_after(t, "curl/", ma, mi);
	} else if (has(t, "Trident/") || has(t, "MSIE ")) {
		out->browser = UA_IE;
		if (!version_after(t, "MSIE ", ma, mi))
			version_after(t, "rv:", ma, mi);
	} else if (has(t, "Edge/")) {
		out->browser = UA_EDGE_LEGACY;
		out->legacy_edge = true;
		version_after(t, "Edge/", ma, mi);
	} else if (has(t, "Edg/") || has(t, "EdgA/") || has(t, "EdgiOS/")) {
		out->browser = UA_EDGE;
		if (!version_after(t, "Edg/", ma, mi) && !version_after(t, "EdgA/", ma, mi))
			version_after(t, "EdgiOS/", ma, mi);
	} else if (has(t, "YaBrowser/")) {
		out->browser = UA_YANDEX;
		version_after(t, "YaBrowser/", ma, mi);
	} else if (has(t, "OPR/") || has(t, "Opera/") || has(t, "OPiOS/")) {
		out->browser = UA_OPERA;
		if (!version_after(t, "OPR/", ma, mi) && !version_after(t, "OPiOS/", ma, mi) &&
		    !version_after(t, "Version/", ma, mi))
			version_after(t, "Opera/", ma, mi);
	} else if (has(t, "Firefox/") || has(t, "FxiOS/")) {
		out->browser = UA_FIREFOX;
		if (!version_after(t, "Firefox/", ma, mi))
			version_after(t, "FxiOS/", ma, mi);
	} else if (has(t, "Chromium/")) {
		out->browser = UA_CHROMIUM;
		version_after(t, "Chromium/", ma, mi);
	} else if (has(t, "CriOS/")) {
		out->browser = UA_CHROME;
		version_after(t, "CriOS/", ma, mi);
	} else if (has(t, "Chrome/")) {
		/* Also "HeadlessChrome/", which ends in the same token. */
		out->browser = UA_CHROME;
		version_after(t, "Chrome/", ma, mi);
	} else if (has(t, "Safari/") && has(t, "Version/")) {
		out->browser = UA_SAFARI;
		version_after(t, "Version/", ma, mi);
	}
}

void ua_parse(const char *ua, struct ua_info *out)
{
	struct ua_text t;
	const char *name;
	int n;

	memset(out, 0, sizeof(*out));
	t.s = ua ? ua : "";
	t.len = strnlen(t.s, UA_MAX_LEN);

	parse_os(&t, out);
	parse_browser(&t, out);
	out->webex_app = has(&t, "Webex") || has(&t, "Spark") || has(&t, "Cisco Spark");
	/* On iOS every browser is WebKit underneath, whatever it calls itself;
	 * legacy Edge only pretends to be Chrome. */
	out->chromium = (has(&t, "Chrome/") || has(&t, "Chromium/")) && !out->legacy_edge && !out->ios_device &&
	                out->browser != UA_IE;
	out->firefox = out->browser == UA_FIREFOX && !out->ios_device;

	name = ua_browser_name(out->browser);
	if (out->webex_app)
		n = out->browser == UA_OTHER ? snprintf(out->display, sizeof(out->display), "Webex app")
		                             : snprintf(out->display, sizeof(out->display), "Webex app (%s)", name);
	else if (out->major > 0)
		n = snprintf(out->display, sizeof(out->display), "%s %d%s", name, out->major,
		             out->legacy_edge ? " (EdgeHTML)" : "");
	else
		n = snprintf(out->display, sizeof(out->display), "%s", name);
	(void)n;
}

const char *ua_browser_name(enum ua_browser b)
{
	switch (b) {
	case UA_CHROME:
		return "Chrome";
	case UA_CHROMIUM:
		return "Chromium";
	case UA_EDGE:
	case UA_EDGE_LEGACY:
		return "Edge";
	case UA_FIREFOX:
		return "Firefox";
	case UA_SAFARI:
		return "Safari";
	case UA_YANDEX:
		return "Yandex";
	case UA_OPERA:
		return "Opera";
	case UA_IE:
		return "Internet Explorer";
	case UA_CURL:
		return "curl";
	case UA_OTHER:
		break;
	}
	return "other";
}

const char *ua_os_name(enum ua_os os)
{
	switch (os) {
	case UA_OS_WINDOWS:
		return "Windows";
	case UA_OS_MACOS:
		return "macOS";
	case UA_OS_LINUX:
		return "Linux";
	case UA_OS_ANDROID:
		return "Android";
	case UA_OS_IOS:
		return "iOS";
	case UA_OS_CHROMEOS:
		return "ChromeOS";
	case UA_OS_OTHER:
		break;
	}
	return "other";
}

bool ua_is_browser(const struct ua_info *ua)
{
	return ua->browser != UA_OTHER && ua->browser != UA_CURL;
}
