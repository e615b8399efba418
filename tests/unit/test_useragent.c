/*
 * test_useragent.c - User-Agent parsing on strings real browsers send: the
 * family, major version and OS the report shows, and the traits the rules
 * hinge on (Chromium engine, Webex app, iOS device, legacy Edge).  Hostile
 * input (empty, garbage, oversized, absurd versions) must parse safely.
 */
#include <stdlib.h>
#include <string.h>

#include "useragent.h"
#include "unit.h"

struct ua_case {
	const char *ua;
	enum ua_browser browser;
	int major;
	enum ua_os os;
	bool chromium, firefox, webex_app, ios_device, legacy_edge;
	const char *display;
};

static const struct ua_case cases[] = {
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
	  "Safari/537.36",
	  UA_CHROME, 131, UA_OS_WINDOWS, true, false, false, false, false, "Chrome 131" },
	{ "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/156.0.7000.0 "
	  "Chrome/156.0.7000.0 Safari/537.36",
	  UA_CHROMIUM, 156, UA_OS_LINUX, true, false, false, false, false, "Chromium 156" },
	{ "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", UA_FIREFOX, 128, UA_OS_LINUX, false,
	  true, false, false, false, "Firefox 128" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0", UA_FIREFOX, 115,
	  UA_OS_WINDOWS, false, true, false, false, false, "Firefox 115" },
	{ "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 "
	  "Safari/605.1.15",
	  UA_SAFARI, 17, UA_OS_MACOS, false, false, false, false, false, "Safari 17" },
	{ "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
	  "Version/17.4 Mobile/15E148 Safari/604.1",
	  UA_SAFARI, 17, UA_OS_IOS, false, false, false, true, false, "Safari 17" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 "
	  "Safari/537.36 Edge/18.19041",
	  UA_EDGE_LEGACY, 18, UA_OS_WINDOWS, false, false, false, false, true, "Edge 18 (EdgeHTML)" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
	  "Safari/537.36 Edg/131.0.2903.86",
	  UA_EDGE, 131, UA_OS_WINDOWS, true, false, false, false, false, "Edge 131" },
	{ "Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko", UA_IE, 11, UA_OS_WINDOWS, false,
	  false, false, false, false, "Internet Explorer 11" },
	{ "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)", UA_IE, 8, UA_OS_WINDOWS, false, false,
	  false, false, false, "Internet Explorer 8" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 "
	  "YaBrowser/23.11.0.0 Safari/537.36",
	  UA_YANDEX, 23, UA_OS_WINDOWS, true, false, false, false, false, "Yandex 23" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
	  "Safari/537.36 OPR/106.0.0.0",
	  UA_OPERA, 106, UA_OS_WINDOWS, true, false, false, false, false, "Opera 106" },
	{ "curl/8.5.0", UA_CURL, 8, UA_OS_OTHER, false, false, false, false, false, "curl 8" },
	{ "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) WebexTeams/43.2.0.25211 "
	  "Chrome/118.0.5993.159 Electron/27.1.3 Safari/537.36",
	  UA_CHROME, 118, UA_OS_WINDOWS, true, false, true, false, false, "Webex app (Chrome)" },
	{ "Cisco Spark/2.0.3 (iPhone; iOS 10.2; Scale/2.00)", UA_OTHER, 0, UA_OS_IOS, false, false, true, true, false,
	  "Webex app" },
	{ "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 "
	  "Mobile/15E148 Safari/604.1",
	  UA_CHROME, 120, UA_OS_IOS, false, false, false, true, false, "Chrome 120" },
	{ "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 "
	  "Mobile Safari/537.36",
	  UA_CHROME, 131, UA_OS_ANDROID, true, false, false, false, false, "Chrome 131" },
	{ "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
	  "Safari/537.36",
	  UA_CHROME, 120, UA_OS_CHROMEOS, true, false, false, false, false, "Chrome 120" },
	{ "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 "
	  "Safari/537.36",
	  UA_CHROME, 156, UA_OS_LINUX, true, false, false, false, false, "Chrome 156" },
	{ "", UA_OTHER, 0, UA_OS_OTHER, false, false, false, false, false, "other" },
	{ "\x01\xff\xfe garbage \"<script>", UA_OTHER, 0, UA_OS_OTHER, false, false, false, false, false, "other" },
	{ "Chrome/", UA_CHROME, 0, UA_OS_OTHER, true, false, false, false, false, "Chrome" },
	{ "Chrome/99999999999999999999.1", UA_CHROME, 99999, UA_OS_OTHER, true, false, false, false, false,
	  "Chrome 99999" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ua_case *c = &cases[i];
		struct ua_info u;

		ua_parse(c->ua, &u);
		if (u.browser != c->browser || u.major != c->major || u.os != c->os)
			fprintf(stderr, "case %zu: %s\n", i, c->ua);
		CHECK_INT(u.browser, c->browser);
		CHECK_INT(u.major, c->major);
		CHECK_INT(u.os, c->os);
		CHECK_INT(u.chromium, c->chromium);
		CHECK_INT(u.firefox, c->firefox);
		CHECK_INT(u.webex_app, c->webex_app);
		CHECK_INT(u.ios_device, c->ios_device);
		CHECK_INT(u.legacy_edge, c->legacy_edge);
		CHECK_STR(u.display, c->display);
	}
}

static void test_null_and_oversized(void)
{
	struct ua_info u;
	size_t big = 1 << 20;
	char *s = malloc(big + 1);

	ua_parse(NULL, &u);
	CHECK_INT(u.browser, UA_OTHER);
	CHECK_STR(u.display, "other");
	CHECK(!ua_is_browser(&u));

	/* A token past UA_MAX_LEN is not read. */
	memset(s, 'A', big);
	memcpy(s + big - 20, "Firefox/120.0", 13);
	s[big] = '\0';
	ua_parse(s, &u);
	CHECK_INT(u.browser, UA_OTHER);

	/* A token cut by the limit is not half-read either. */
	memset(s, 'A', big);
	memcpy(s + UA_MAX_LEN - 6, "Firefox/120.0", 13);
	ua_parse(s, &u);
	CHECK_INT(u.browser, UA_OTHER);

	memcpy(s + UA_MAX_LEN - 13, "Firefox/120.0", 13);
	ua_parse(s, &u);
	CHECK_INT(u.browser, UA_FIREFOX);
	CHECK_INT(u.major, 120);
	free(s);
}

static void test_names(void)
{
	CHECK_STR(ua_browser_name(UA_EDGE_LEGACY), "Edge");
	CHECK_STR(ua_browser_name(UA_IE), "Internet Explorer");
	CHECK_STR(ua_os_name(UA_OS_MACOS), "macOS");
	CHECK_STR(ua_os_name(UA_OS_OTHER), "other");
	CHECK_STR(ua_os_name(UA_OS_CHROMEOS), "ChromeOS");
}

int main(void)
{
	test_cases();
	test_null_and_oversized();
	test_names();
	return unit_summary("test_useragent");
}
