/*
 * fuzz_useragent.c - libFuzzer target for ua_parse() (useragent.c) on any
 * bytes: the input, cut at its first NUL, is a User-Agent header value.
 * Beyond the sanitizers: every field within its range, the display name
 * NUL-terminated and built from the known names, the traits consistent with
 * the browser and OS, and nothing read past UA_MAX_LEN bytes (a longer
 * User-Agent parses as its first UA_MAX_LEN bytes).
 */
#include "useragent.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)        \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const browser_names[] = { "other",  "Chrome", "Chromium",          "Edge", "Firefox", "Safari",
	                                     "Yandex", "Opera",  "Internet Explorer", "curl" };
static const char *const os_names[] = { "other", "Windows", "macOS", "Linux", "Android", "iOS", "ChromeOS" };

static bool known(const char *s, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static void check(const struct ua_info *u, const char *ua)
{
	const char *name = ua_browser_name(u->browser);
	char want[sizeof(u->display)];

	FUZZ_ASSERT(u->browser >= UA_OTHER && u->browser <= UA_CURL);
	FUZZ_ASSERT(u->os >= UA_OS_OTHER && u->os <= UA_OS_CHROMEOS);
	FUZZ_ASSERT(known(name, browser_names, sizeof(browser_names) / sizeof(browser_names[0])));
	FUZZ_ASSERT(known(ua_os_name(u->os), os_names, sizeof(os_names) / sizeof(os_names[0])));
	/* Versions are cut at five digits, never overflowed. */
	FUZZ_ASSERT(u->major >= 0 && u->major <= 99999);
	FUZZ_ASSERT(u->minor >= 0 && u->minor <= 99999);
	if (u->browser == UA_OTHER)
		FUZZ_ASSERT(u->major == 0 && u->minor == 0);

	/* Traits follow from the browser and OS. */
	FUZZ_ASSERT(u->legacy_edge == (u->browser == UA_EDGE_LEGACY));
	FUZZ_ASSERT(u->ios_device == (u->os == UA_OS_IOS));
	FUZZ_ASSERT(u->firefox == (u->browser == UA_FIREFOX && !u->ios_device));
	if (u->chromium)
		FUZZ_ASSERT(!u->legacy_edge && !u->ios_device && u->browser != UA_IE);
	FUZZ_ASSERT(ua_is_browser(u) == (u->browser != UA_OTHER && u->browser != UA_CURL));

	/* The display name: terminated, and one of the documented forms. */
	FUZZ_ASSERT(memchr(u->display, '\0', sizeof(u->display)) != NULL);
	if (u->webex_app && u->browser == UA_OTHER)
		snprintf(want, sizeof(want), "Webex app");
	else if (u->webex_app)
		snprintf(want, sizeof(want), "Webex app (%s)", name);
	else if (u->major > 0)
		snprintf(want, sizeof(want), "%s %d%s", name, u->major, u->legacy_edge ? " (EdgeHTML)" : "");
	else
		snprintf(want, sizeof(want), "%s", name);
	FUZZ_ASSERT(strlen(want) < sizeof(want) - 1);
	FUZZ_ASSERT(strcmp(u->display, want) == 0);

	/* A recognised browser's token is in the text. */
	switch (u->browser) {
	case UA_CURL:
		FUZZ_ASSERT(strncmp(ua, "curl/", 5) == 0);
		break;
	case UA_FIREFOX:
		FUZZ_ASSERT(strstr(ua, "Firefox/") || strstr(ua, "FxiOS/"));
		break;
	case UA_EDGE_LEGACY:
		FUZZ_ASSERT(strstr(ua, "Edge/"));
		break;
	case UA_SAFARI:
		FUZZ_ASSERT(strstr(ua, "Safari/") && strstr(ua, "Version/"));
		break;
	default:
		break;
	}
	if (u->webex_app)
		FUZZ_ASSERT(strstr(ua, "Webex") || strstr(ua, "Spark"));
}

static bool same(const struct ua_info *a, const struct ua_info *b)
{
	return a->browser == b->browser && a->major == b->major && a->minor == b->minor && a->os == b->os &&
	       a->chromium == b->chromium && a->firefox == b->firefox && a->webex_app == b->webex_app &&
	       a->ios_device == b->ios_device && a->legacy_edge == b->legacy_edge &&
	       strcmp(a->display, b->display) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_info u, v;
	char *ua = malloc(size + 1), *cut;
	size_t len;

	memcpy(ua, data, size);
	ua[size] = '\0';
	len = strlen(ua);

	/* Garbage in the struct: ua_parse() must set every field. */
	memset(&u, 0xa5, sizeof(u));
	ua_parse(ua, &u);
	/* The checks below read ua whole; the parser reads UA_MAX_LEN. */
	cut = malloc(len < UA_MAX_LEN ? len + 1 : UA_MAX_LEN + 1);
	memcpy(cut, ua, len < UA_MAX_LEN ? len : UA_MAX_LEN);
	cut[len < UA_MAX_LEN ? len : UA_MAX_LEN] = '\0';
	check(&u, cut);

	/* A longer User-Agent is its first UA_MAX_LEN bytes... */
	if (len > UA_MAX_LEN) {
		memset(&v, 0x5a, sizeof(v));
		ua_parse(cut, &v);
		FUZZ_ASSERT(same(&u, &v));
	}
	/* ...even when those bytes are not followed by a NUL at all: the
	 * parser reads at most UA_MAX_LEN bytes, ASan sees one more. */
	if (len >= UA_MAX_LEN) {
		char *raw = malloc(UA_MAX_LEN);

		memcpy(raw, ua, UA_MAX_LEN);
		memset(&v, 0x5a, sizeof(v));
		ua_parse(raw, &v);
		FUZZ_ASSERT(same(&u, &v));
		free(raw);
	}
	free(cut);
	free(ua);

	ua_parse(NULL, &v);
	FUZZ_ASSERT(v.browser == UA_OTHER && v.os == UA_OS_OTHER && strcmp(v.display, "other") == 0);
	return 0;
}
