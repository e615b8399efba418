/*
 * test_surrogate.c - the auth-surrogate table: who authenticated where,
 * for how long, forgotten on refused credentials, bounded with the oldest
 * authentication evicted first; and the directive.
 */
#include "acl.h"
#include "common.h"
#include "config.h"
#include "surrogate.h"
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct sockaddr_storage v4(uint32_t a)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	s->sin_family = AF_INET;
	s->sin_addr.s_addr = htonl(a);
	return ss;
}

static struct sockaddr_storage v6(const char *text)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	s->sin6_family = AF_INET6;
	inet_pton(AF_INET6, text, &s->sin6_addr);
	return ss;
}

static void settings(struct surrogate_settings *s, uint64_t ms, const char *matchers)
{
	struct cfg_errors errs = { 0 };
	char *copy = ph_strdup(matchers), *argv[8], *save = NULL;
	int argc = 0;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 8; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	memset(s, 0, sizeof(*s));
	s->duration_ms = ms;
	CHECK_INT(acl_matchset_parse(&s->rule.set, argv, argc, "t.conf", 1, &errs), PH_OK);
	cfg_errors_free(&errs);
	free(copy);
}

/* A request from src, a WebRTC tunnel or not: who it passes as, or "". */
static const char *who(const struct surrogate_settings *s, const struct sockaddr_storage *src, bool webrtc,
                       uint64_t now)
{
	static char user[256];
	struct acl_subject subj = { .host = "turn.example.com", .port = 443, .method = "CONNECT", .src = src };

	subj.webrtc = webrtc;
	if (!surrogate_user(s, &subj, now, user, sizeof(user)))
		user[0] = '\0';
	return user;
}

static void test_table(void)
{
	struct surrogate_settings s;
	struct sockaddr_storage a = v4(0x0a000002), b = v4(0x0a000003);
	struct sockaddr_storage mapped = v6("::ffff:10.0.0.2"), a6 = v6("2001:db8::2");

	surrogate_clear();
	settings(&s, 1000, "webrtc");
	CHECK_STR(who(&s, &a, true, 0), "");
	surrogate_remember(&s, &a, "alice", 10000);
	CHECK_STR(who(&s, &a, true, 10500), "alice");
	CHECK_STR(who(&s, &mapped, true, 10500), "alice"); /* the same address over IPv6 */
	CHECK_STR(who(&s, &a, false, 10500), "");          /* not media: authenticate */
	CHECK_STR(who(&s, &b, true, 10500), "");           /* another address */
	CHECK_STR(who(&s, &a6, true, 10500), "");
	/* The duration counts from the last success. */
	surrogate_remember(&s, &a, "alice", 10800);
	CHECK_STR(who(&s, &a, true, 11700), "alice");
	CHECK_STR(who(&s, &a, true, 11800), "");
	CHECK_INT(surrogate_count(), 0); /* the expired one is gone */
	/* The last user to authenticate from an address is the one. */
	surrogate_remember(&s, &a, "alice", 20000);
	surrogate_remember(&s, &a, "bob", 20001);
	CHECK_STR(who(&s, &a, true, 20002), "bob");
	/* Refused credentials end it. */
	surrogate_forget(&s, &a);
	CHECK_STR(who(&s, &a, true, 20003), "");
	surrogate_remember(&s, &a6, "carol", 20000);
	CHECK_STR(who(&s, &a6, true, 20003), "carol");
	/* Off: nothing is remembered, nothing passes. */
	struct surrogate_settings off = { 0 };

	surrogate_remember(&off, &b, "dave", 20000);
	CHECK_STR(who(&off, &a6, true, 20003), "");
	CHECK_STR(who(&s, &b, true, 20003), "");
	acl_matchset_free(&s.rule.set);

	/* Matchers narrow it: only from 10.0.0.0/8. */
	settings(&s, 1000, "webrtc src 10.0.0.0/8");
	CHECK_STR(who(&s, &a6, true, 20003), "");
	acl_matchset_free(&s.rule.set);
	surrogate_clear();
	CHECK_INT(surrogate_count(), 0);
}

static void test_bounded(void)
{
	struct surrogate_settings s;
	struct sockaddr_storage first = v4(0x0a000000), second = v4(0x0a000001), last;

	surrogate_clear();
	settings(&s, 3600000, "webrtc");
	for (uint32_t i = 0; i < SURROGATE_MAX; i++) {
		struct sockaddr_storage a = v4(0x0a000000 + i);

		surrogate_remember(&s, &a, "u", 1000 + i);
	}
	CHECK_INT(surrogate_count(), SURROGATE_MAX);
	/* The first authenticates again: the second is now the oldest. */
	surrogate_remember(&s, &first, "u", 900000);
	last = v4(0x0b000000);
	surrogate_remember(&s, &last, "new", 900001);
	CHECK_INT(surrogate_count(), SURROGATE_MAX);
	CHECK_STR(who(&s, &first, true, 900002), "u");
	CHECK_STR(who(&s, &second, true, 900002), "");
	CHECK_STR(who(&s, &last, true, 900002), "new");
	acl_matchset_free(&s.rule.set);
	surrogate_clear();
}

/* config_parse_text of "auth basic htpasswd FILE\n" + rest, FILE a real
 * htpasswd file of one user. */
static char path[] = "/tmp/test_surrogate.XXXXXX";

static struct config *parse_with_auth(const char *rest, struct cfg_errors *errs)
{
	static int fd = -1;
	static const char user[] = "alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n";
	char text[512];

	if (fd < 0) {
		fd = mkstemp(path);
		CHECK(fd >= 0 && write(fd, user, sizeof(user) - 1) == (ssize_t)sizeof(user) - 1);
	}
	snprintf(text, sizeof(text), "auth basic htpasswd %s\n%s", path, rest);
	return config_parse_text("main.conf", text, strlen(text), errs);
}

static void test_directive(void)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = parse_with_auth("auth-surrogate 8h\n", &errs);

	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_INT(cfg->surrogate->duration_ms, 8 * 3600 * 1000);
		CHECK_INT(cfg->surrogate->rule.set.n, 1);
		CHECK_INT(cfg->surrogate->rule.set.m[0].kind, MATCH_WEBRTC);
		CHECK_STR(cfg->surrogate->rule.text, "auth-surrogate 8h webrtc");
		config_unref(cfg);
	}
	cfg = parse_with_auth("auth-surrogate 30m webrtc src 10.0.0.0/8\n", &errs);
	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_INT(cfg->surrogate->rule.set.n, 2);
		config_unref(cfg);
	}
	CHECK_INT(errs.n, 0);
	cfg_errors_free(&errs);

	static const char *const bad[][2] = {
		{ "auth-surrogate 0s\n", "main.conf:2: bad duration '0s' for auth-surrogate: write how long an address "
		                         "stays authenticated after its last login, e.g. 8h" },
		{ "auth-surrogate 8h webrct\n", "main.conf:2: unknown matcher 'webrct' (did you mean 'webrtc'?)" },
		{ "auth-surrogate\n",
		  "main.conf:2: auth-surrogate needs a value (usage: auth-surrogate DURATION [MATCHERS])" },
		{ "auth-surrogate 8h\nauth-surrogate 1h\n",
		  "main.conf:3: 'auth-surrogate' is already set at main.conf:2" },
	};
	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		struct cfg_errors e = { 0 };

		cfg = parse_with_auth(bad[i][0], &e);
		CHECK(cfg == NULL);
		CHECK_INT(e.n, 1);
		if (e.n)
			CHECK_STR(e.msgs[0], bad[i][1]);
		if (cfg)
			config_unref(cfg);
		cfg_errors_free(&e);
	}
	/* Without any scheme there is nothing to stand in for. */
	static const char alone[] = "auth-surrogate 8h\n";
	struct cfg_errors e = { 0 };

	cfg = config_parse_text("main.conf", alone, sizeof(alone) - 1, &e);
	CHECK(cfg == NULL);
	CHECK_INT(e.n, 1);
	if (e.n)
		CHECK_STR(e.msgs[0], "main.conf:1: auth-surrogate stands in for proxy authentication, but no auth "
		                     "scheme is configured");
	cfg_errors_free(&e);
}

int main(void)
{
	test_table();
	test_bounded();
	test_directive();
	unlink(path);
	return unit_summary("test_surrogate");
}
