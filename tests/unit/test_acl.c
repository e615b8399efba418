/*
 * test_acl.c - the matchers as SPEC.md defines them: every domain pattern
 * kind, ports, CIDRs (IPv4, IPv6, IPv4-mapped clients), methods, users, the
 * AND/OR of a rule, first match wins, and every parse error's exact text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "common.h"
#include "config.h"
#include "unit.h"

#define FILE_NAME "t.conf"
#define LINE_NO 7

/* Splits a space-separated string into argv (at most 31 words); the words
 * point into buf. */
static int split(char *buf, char **argv)
{
	int argc = 0;

	for (char *t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	return argc;
}

static int parse_set(struct matchset *set, const char *text, struct cfg_errors *errs)
{
	char buf[512], *argv[32];

	snprintf(buf, sizeof(buf), "%s", text);
	return acl_matchset_parse(set, argv, split(buf, argv), FILE_NAME, LINE_NO, errs);
}

/* ---- domain patterns ---- */

struct domain_case {
	const char *pattern;
	const char *host;
	const char *dst; /* the destination IP when host is a literal */
	bool want;
};

static const struct domain_case domain_cases[] = {
	/* exact */
	{ "example.com", "example.com", NULL, true },
	{ "example.com", "EXAMPLE.Com", NULL, true },
	{ "example.com", "example.com.", NULL, true },
	{ "Example.COM.", "example.com", NULL, true },
	{ "example.com", "www.example.com", NULL, false },
	{ "example.com", "badexample.com", NULL, false },
	{ "example.com", "com", NULL, false },
	{ "example.com", "example.co", NULL, false },
	{ "example.com", "example.com.au", NULL, false },
	{ "example.com", "", NULL, false },
	{ "localhost", "localhost", NULL, true },
	/* *.example.com: any subdomain, not the apex */
	{ "*.example.com", "www.example.com", NULL, true },
	{ "*.example.com", "a.b.example.com", NULL, true },
	{ "*.example.com", "WWW.EXAMPLE.COM.", NULL, true },
	{ "*.example.com", "x.example.com.", NULL, true },
	{ "*.example.com", "example.com", NULL, false },
	{ "*.example.com", "example.com.", NULL, false },
	{ "*.example.com", "badexample.com", NULL, false },
	{ "*.example.com", "www.badexample.com", NULL, false },
	{ "*.example.com", ".example.com", NULL, false },
	{ "*.example.com", "example.com.evil.net", NULL, false },
	{ "*.example.com", "www.example.com.evil.net", NULL, false },
	{ "*.Example.Com", "api.example.com", NULL, true },
	/* .example.com: the apex and every subdomain */
	{ ".example.com", "example.com", NULL, true },
	{ ".example.com", "example.com.", NULL, true },
	{ ".example.com", "www.example.com", NULL, true },
	{ ".example.com", "a.b.c.example.com", NULL, true },
	{ ".example.com", "notexample.com", NULL, false },
	{ ".example.com", "www.notexample.com", NULL, false },
	{ ".example.com", "example.com.au", NULL, false },
	{ ".example.com", "com", NULL, false },
	{ ".tokbox.com", "API.TokBox.com", NULL, true },
	/* IP literals and CIDRs match IP destinations, never names */
	{ "192.0.2.7", "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.8", "192.0.2.8", false },
	{ "192.0.2.7", "192.0.2.7", NULL, false },
	{ "10.0.0.0/8", "10.1.2.3", "10.1.2.3", true },
	{ "10.0.0.0/8", "11.0.0.1", "11.0.0.1", false },
	{ "10.0.0.0/8", "10.example.com", NULL, false },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", "::ffff:10.1.2.3", true },
	{ "::1", "::1", "::1", true },
	{ "[::1]", "::1", "::1", true },
	{ "[::1]", "::2", "::2", false },
	{ "2001:db8::/32", "2001:db8:1::5", "2001:db8:1::5", true },
	{ "[2001:db8::]/32", "2001:db8:ffff::1", "2001:db8:ffff::1", true },
	{ "2001:db8::/32", "2001:db9::1", "2001:db9::1", false },
	{ "2001:db8::/32", "10.0.0.1", "10.0.0.1", false },
	{ "10.0.0.0/8", "2001:db8::1", "2001:db8::1", false },
	/* a name pattern never matches an IP destination */
	{ "*.2.3.4", "1.2.3.4", "1.2.3.4", false },
	{ "example.com", "example.com", "192.0.2.1", false },
};

static void test_domain_patterns(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(domain_cases); i++) {
		const struct domain_case *c = &domain_cases[i];
		struct domain_pattern p;
		struct sockaddr_storage dst;
		bool got;

		if (acl_domain_pattern_parse(&p, c->pattern) != PH_OK) {
			fprintf(stderr, "pattern '%s' did not parse\n", c->pattern);
			CHECK(false);
			continue;
		}
		if (c->dst)
			dst = unit_ip(c->dst);
		got = acl_domain_match(&p, c->host, c->dst ? &dst : NULL);
		if (got != c->want)
			fprintf(stderr, "domain case %zu: '%s' vs host '%s' dst %s: got %d\n", i, c->pattern, c->host,
			        c->dst ? c->dst : "-", got);
		CHECK(got == c->want);
		acl_domain_pattern_free(&p);
	}
}

static void test_domain_pattern_kinds(void)
{
	struct domain_pattern p;

	CHECK_INT(acl_domain_pattern_parse(&p, "Example.COM."), PH_OK);
	CHECK_INT(p.kind, DOMAIN_EXACT);
	CHECK_STR(p.name, "example.com");
	CHECK_INT(p.name_len, 11);
	acl_domain_pattern_free(&p);

	CHECK_INT(acl_domain_pattern_parse(&p, "*.Example.com"), PH_OK);
	CHECK_INT(p.kind, DOMAIN_SUBDOMAINS);
	CHECK_STR(p.name, "example.com");
	acl_domain_pattern_free(&p);

	CHECK_INT(acl_domain_pattern_parse(&p, ".example.com"), PH_OK);
	CHECK_INT(p.kind, DOMAIN_TREE);
	CHECK_STR(p.name, "example.com");
	acl_domain_pattern_free(&p);

	CHECK_INT(acl_domain_pattern_parse(&p, "10.0.0.0/8"), PH_OK);
	CHECK_INT(p.kind, DOMAIN_CIDR);
	CHECK_INT(p.cidr.family, AF_INET);
	CHECK_INT(p.cidr.bits, 8);
	acl_domain_pattern_free(&p);

	CHECK_INT(acl_domain_pattern_parse(&p, "[::1]"), PH_OK);
	CHECK_INT(p.kind, DOMAIN_CIDR);
	CHECK_INT(p.cidr.family, AF_INET6);
	CHECK_INT(p.cidr.bits, 128);
	acl_domain_pattern_free(&p);

	CHECK_INT(acl_domain_pattern_parse(&p, "in_ternal-host.corp"), PH_OK);
	acl_domain_pattern_free(&p);
}

static void test_domain_pattern_errors(void)
{
	static const char *const bad[] = {
		"",
		"*",
		".",
		"*.",
		"..example.com",
		"a..b",
		"foo*.com",
		"*foo.com",
		"www.*.com",
		"a b",
		"exa/mple.com",
		"10.0.0",
		"10.0.0.0/33",
		"::1/129",
		"[::1",
		"[1.2.3.4]",
		"[::1]x",
		"1.2.3.4/",
		"1.2.3.4/x",
		"caf\xc3\xa9.fr",
		"x:y",
		"example.com..",
	};
	char longname[300], longlabel[80];
	struct domain_pattern p;

	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		int rc = acl_domain_pattern_parse(&p, bad[i]);

		if (rc == PH_OK) {
			fprintf(stderr, "pattern '%s' should not parse\n", bad[i]);
			acl_domain_pattern_free(&p);
		}
		CHECK_INT(rc, PH_ERROR);
	}
	memset(longname, 'a', sizeof(longname));
	for (size_t i = 1; i < 254; i += 2)
		longname[i] = '.';
	longname[253] = '\0'; /* 253 bytes: the longest name */
	CHECK_INT(acl_domain_pattern_parse(&p, longname), PH_OK);
	acl_domain_pattern_free(&p);
	longname[253] = 'a';
	longname[254] = '\0';
	CHECK_INT(acl_domain_pattern_parse(&p, longname), PH_ERROR);
	memset(longlabel, 'b', 63);
	strcpy(longlabel + 63, ".com");
	CHECK_INT(acl_domain_pattern_parse(&p, longlabel), PH_OK);
	acl_domain_pattern_free(&p);
	memset(longlabel, 'b', 64);
	strcpy(longlabel + 64, ".com");
	CHECK_INT(acl_domain_pattern_parse(&p, longlabel), PH_ERROR);
}

/* ---- CIDRs ---- */

struct cidr_case {
	const char *cidr;
	const char *addr;
	bool want;
};

static const struct cidr_case cidr_cases[] = {
	{ "10.0.0.0/8", "10.255.255.255", true },
	{ "10.0.0.0/8", "9.255.255.255", false },
	{ "10.0.0.0/8", "11.0.0.0", false },
	{ "10.1.2.3/8", "10.9.9.9", true }, /* host bits are cleared */
	{ "192.168.2.0/23", "192.168.3.255", true },
	{ "192.168.2.0/23", "192.168.2.0", true },
	{ "192.168.2.0/23", "192.168.4.0", false },
	{ "192.168.2.0/23", "192.168.1.255", false },
	{ "192.0.2.7", "192.0.2.7", true },
	{ "192.0.2.7", "192.0.2.6", false },
	{ "192.0.2.7/32", "192.0.2.7", true },
	{ "0.0.0.0/0", "203.0.113.9", true },
	{ "0.0.0.0/0", "::1", false },
	{ "172.16.0.0/12", "172.31.255.1", true },
	{ "172.16.0.0/12", "172.32.0.1", false },
	/* IPv4-mapped IPv6 clients meet IPv4 CIDRs */
	{ "10.0.0.0/8", "::ffff:10.2.3.4", true },
	{ "10.0.0.0/8", "::ffff:11.2.3.4", false },
	{ "::ffff:10.0.0.0/104", "10.7.7.7", true },
	{ "::ffff:10.0.0.0/104", "::ffff:10.7.7.7", true },
	{ "::ffff:10.0.0.0/104", "11.7.7.7", false },
	{ "::ffff:192.0.2.1", "192.0.2.1", true },
	/* IPv6 */
	{ "::1", "::1", true },
	{ "::1/128", "::2", false },
	{ "[::1]", "::1", true },
	{ "[fe80::]/10", "fe80::1", true },
	{ "[fe80::]/10", "febf::1", true },
	{ "[fe80::]/10", "fec0::1", false },
	{ "2001:db8::/32", "2001:db8::", true },
	{ "2001:db8::/33", "2001:db8:8000::1", false },
	{ "2001:db8::/33", "2001:db8:7fff::1", true },
	{ "::/0", "2001:db8::1", true },
	{ "::/0", "10.0.0.1", false },
	{ "2001:db8::/32", "10.0.0.1", false },
};

static void test_cidrs(void)
{
	static const char *const bad[] = {
		"",
		"10.0.0.0/33",
		"::/129",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"10.0.0.0/8x",
		"10.0.0",
		"300.0.0.1",
		"[10.0.0.1]",
		"[::1",
		"[::1]/",
		"[::1]:80",
		"2001:db8::g",
		"example.com",
		"10.0.0.0/0008x",
		"/8",
	};
	struct cidr c;

	for (size_t i = 0; i < PH_ARRAY_LEN(cidr_cases); i++) {
		const struct cidr_case *t = &cidr_cases[i];
		struct sockaddr_storage a = unit_ip(t->addr);
		bool got;

		CHECK_INT(acl_cidr_parse(&c, t->cidr), PH_OK);
		got = acl_cidr_match(&c, &a);
		if (got != t->want)
			fprintf(stderr, "cidr case %zu: %s vs %s: got %d\n", i, t->cidr, t->addr, got);
		CHECK(got == t->want);
	}
	for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
		int rc = acl_cidr_parse(&c, bad[i]);

		if (rc == PH_OK)
			fprintf(stderr, "cidr '%s' should not parse\n", bad[i]);
		CHECK_INT(rc, PH_ERROR);
	}
	CHECK_INT(acl_cidr_parse(&c, "::ffff:10.0.0.0/104"), PH_OK);
	CHECK_INT(c.family, AF_INET);
	CHECK_INT(c.bits, 8);
	CHECK_INT(acl_cidr_parse(&c, "10.1.2.3/16"), PH_OK);
	CHECK_INT(c.addr[0], 10);
	CHECK_INT(c.addr[1], 1);
	CHECK_INT(c.addr[2], 0);
	CHECK_INT(c.addr[3], 0);
	CHECK(!acl_cidr_match(&c, NULL));
}

/* ---- matcher sets ---- */

struct set_case {
	const char *set;
	const char *host;
	const char *dst;
	int port;
	const char *src;
	const char *method;
	const char *user;
	bool want;
};

static const struct set_case set_cases[] = {
	{ "all", "x.org", NULL, 80, "10.0.0.1", "GET", NULL, true },
	{ "all", NULL, NULL, 0, NULL, NULL, NULL, true },
	/* ports */
	{ "port 443", "x.org", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "port 443", "x.org", NULL, 444, NULL, "CONNECT", NULL, false },
	{ "port 80 443", "x.org", NULL, 80, NULL, "GET", NULL, true },
	{ "port 8000-8080", "x.org", NULL, 8000, NULL, "GET", NULL, true },
	{ "port 8000-8080", "x.org", NULL, 8080, NULL, "GET", NULL, true },
	{ "port 8000-8080", "x.org", NULL, 7999, NULL, "GET", NULL, false },
	{ "port 8000-8080", "x.org", NULL, 8081, NULL, "GET", NULL, false },
	{ "port 1-65535", "x.org", NULL, 65535, NULL, "GET", NULL, true },
	{ "port 3478 5349 443", "turn.x.org", NULL, 5349, NULL, "CONNECT", NULL, true },
	/* src */
	{ "src 10.0.0.0/8", "x.org", NULL, 80, "10.9.8.7", "GET", NULL, true },
	{ "src 10.0.0.0/8", "x.org", NULL, 80, "::ffff:10.9.8.7", "GET", NULL, true },
	{ "src 10.0.0.0/8", "x.org", NULL, 80, "192.168.0.1", "GET", NULL, false },
	{ "src 10.0.0.0/8", "x.org", NULL, 80, NULL, "GET", NULL, false },
	{ "src 10.0.0.0/8 [::1]", "x.org", NULL, 80, "::1", "GET", NULL, true },
	{ "src 2001:db8::/32", "x.org", NULL, 80, "2001:db8::9", "GET", NULL, true },
	/* methods: stored upper-case, compared exactly */
	{ "method CONNECT", "x.org", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "method connect", "x.org", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "method CONNECT", "x.org", NULL, 443, NULL, "connect", NULL, false },
	{ "method GET HEAD", "x.org", NULL, 80, NULL, "HEAD", NULL, true },
	{ "method GET HEAD", "x.org", NULL, 80, NULL, "POST", NULL, false },
	{ "method GET", "x.org", NULL, 80, NULL, NULL, NULL, false },
	/* users: NULL never matches */
	{ "user alice bob", "x.org", NULL, 80, NULL, "GET", "bob", true },
	{ "user alice bob", "x.org", NULL, 80, NULL, "GET", "carol", false },
	{ "user alice", "x.org", NULL, 80, NULL, "GET", "Alice", false },
	{ "user alice", "x.org", NULL, 80, NULL, "GET", NULL, false },
	{ "user CORP\\alice", "x.org", NULL, 80, NULL, "GET", "CORP\\alice", true },
	/* domains, ORed within the matcher */
	{ "domain .a.com *.b.com c.com", "x.a.com", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "domain .a.com *.b.com c.com", "b.com", NULL, 443, NULL, "CONNECT", NULL, false },
	{ "domain .a.com *.b.com c.com", "C.COM.", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "domain .a.com 10.0.0.0/8", "10.1.1.1", "10.1.1.1", 443, NULL, "CONNECT", NULL, true },
	{ "domain .a.com 10.0.0.0/8", NULL, NULL, 443, NULL, "CONNECT", NULL, false },
	/* AND across matchers */
	{ "domain .a.com port 443", "www.a.com", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "domain .a.com port 443", "www.a.com", NULL, 80, NULL, "GET", NULL, false },
	{ "domain .a.com port 443", "www.b.com", NULL, 443, NULL, "CONNECT", NULL, false },
	{ "port 443 method CONNECT src 10.0.0.0/8 user alice", "x.org", NULL, 443, "10.0.0.2", "CONNECT", "alice",
	  true },
	{ "port 443 method CONNECT src 10.0.0.0/8 user alice", "x.org", NULL, 443, "10.0.0.2", "CONNECT", "bob",
	  false },
	{ "port 443 method CONNECT src 10.0.0.0/8 user alice", "x.org", NULL, 443, "11.0.0.2", "CONNECT", "alice",
	  false },
	{ "all port 443", "x.org", NULL, 443, NULL, "CONNECT", NULL, true },
	{ "all port 443", "x.org", NULL, 80, NULL, "GET", NULL, false },
	/* a repeated matcher is ANDed like any other */
	{ "domain .a.com domain *.a.com", "a.com", NULL, 443, NULL, "CONNECT", NULL, false },
	{ "domain .a.com domain *.a.com", "w.a.com", NULL, 443, NULL, "CONNECT", NULL, true },
};

static void test_matchsets(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(set_cases); i++) {
		const struct set_case *c = &set_cases[i];
		struct cfg_errors errs = { 0 };
		struct sockaddr_storage dst, src;
		struct acl_subject s = { 0 };
		struct matchset set;
		bool got;

		if (parse_set(&set, c->set, &errs) != PH_OK) {
			fprintf(stderr, "set '%s' did not parse: %s\n", c->set, errs.n ? errs.msgs[0] : "?");
			CHECK(false);
			cfg_errors_free(&errs);
			continue;
		}
		CHECK_INT(errs.n, 0);
		if (c->dst)
			dst = unit_ip(c->dst);
		if (c->src)
			src = unit_ip(c->src);
		s.host = c->host;
		s.port = (uint16_t)c->port;
		s.dst_ip = c->dst ? &dst : NULL;
		s.src = c->src ? &src : NULL;
		s.method = c->method;
		s.user = c->user;
		got = acl_matchset_match(&set, &s);
		if (got != c->want)
			fprintf(stderr, "set case %zu '%s': got %d\n", i, c->set, got);
		CHECK(got == c->want);
		acl_matchset_free(&set);
	}
}

/* webrtc is what the request path found (ALPN, a TURN server), ANDed with
 * the rest like any matcher. */
static void test_webrtc_matcher(void)
{
	struct cfg_errors errs = { 0 };
	struct matchset set;
	struct sockaddr_storage src = unit_ip("10.0.0.2");
	struct acl_subject s = { .host = "turn.example.com", .port = 443, .method = "CONNECT", .src = &src };

	CHECK_INT(parse_set(&set, "webrtc", &errs), PH_OK);
	CHECK_INT(set.m[0].kind, MATCH_WEBRTC);
	CHECK(!acl_matchset_match(&set, &s));
	s.webrtc = true;
	CHECK(acl_matchset_match(&set, &s));
	acl_matchset_free(&set);
	CHECK_INT(parse_set(&set, "webrtc src 10.0.0.0/8", &errs), PH_OK);
	CHECK(acl_matchset_match(&set, &s));
	src = unit_ip("192.0.2.1");
	CHECK(!acl_matchset_match(&set, &s));
	acl_matchset_free(&set);
	/* A host called webrtc is written with its trailing dot. */
	CHECK_INT(parse_set(&set, "domain webrtc.", &errs), PH_OK);
	CHECK_INT(set.m[0].kind, MATCH_DOMAIN);
	acl_matchset_free(&set);
	CHECK_INT(errs.n, 0);
	cfg_errors_free(&errs);
}

static void test_matchset_structure(void)
{
	struct cfg_errors errs = { 0 };
	struct matchset set;

	CHECK_INT(parse_set(&set, "domain .a.com b.com port 443 8000-8080 method get", &errs), PH_OK);
	CHECK_INT(set.n, 3);
	CHECK_INT(set.m[0].kind, MATCH_DOMAIN);
	CHECK_INT(set.m[0].n, 2);
	CHECK_INT(set.m[0].domains[0].kind, DOMAIN_TREE);
	CHECK_STR(set.m[0].domains[1].name, "b.com");
	CHECK_INT(set.m[1].kind, MATCH_PORT);
	CHECK_INT(set.m[1].n, 2);
	CHECK_INT(set.m[1].ports[1].lo, 8000);
	CHECK_INT(set.m[1].ports[1].hi, 8080);
	CHECK_INT(set.m[2].kind, MATCH_METHOD);
	CHECK_STR(set.m[2].names[0], "GET");
	acl_matchset_free(&set);
	acl_matchset_free(&set); /* freeing twice is harmless */

	/* A trailing dot lets a host be named like a matcher's typo. */
	CHECK_INT(parse_set(&set, "domain prot.", &errs), PH_OK);
	CHECK_STR(set.m[0].domains[0].name, "prot");
	acl_matchset_free(&set);
	/* Names two edits away from a matcher are taken as names. */
	CHECK_INT(parse_set(&set, "domain portal main host", &errs), PH_OK);
	CHECK_INT(set.m[0].n, 3);
	acl_matchset_free(&set);
	CHECK_INT(errs.n, 0);
	cfg_errors_free(&errs);

	/* An empty set matches nothing. */
	memset(&set, 0, sizeof(set));
	{
		struct acl_subject s = { .host = "x.org", .port = 80 };

		CHECK(!acl_matchset_match(&set, &s));
	}
}

/* Each bad matcher set and the exact error it must produce. */
struct error_case {
	const char *set;
	const char *msg;
};

static const struct error_case error_cases[] = {
	{ "", "t.conf:7: at least one matcher is needed, e.g. 'all'" },
	{ "domians .a.com", "t.conf:7: unknown matcher 'domians' (did you mean 'domain'?)" },
	{ "prot 443", "t.conf:7: unknown matcher 'prot' (did you mean 'port'?)" },
	{ "sr 10.0.0.0/8", "t.conf:7: unknown matcher 'sr' (did you mean 'src'?)" },
	{ "example.com", "t.conf:7: unknown matcher 'example.com'; to match a destination "
	                 "write 'domain example.com'" },
	{ "banana", "t.conf:7: unknown matcher 'banana' (the matchers are domain, port, src, "
	            "method, user, dst-local, webrtc and all)" },
	{ "webrtc yes", "t.conf:7: 'webrtc' takes no values, but 'yes' follows it" },
	{ "webrct", "t.conf:7: unknown matcher 'webrct' (did you mean 'webrtc'?)" },
	{ "domain", "t.conf:7: matcher 'domain' needs at least one value" },
	{ "port 443 domain", "t.conf:7: matcher 'domain' needs at least one value" },
	{ "all yes", "t.conf:7: 'all' takes no values, but 'yes' follows it" },
	{ "port 0", "t.conf:7: bad port '0': ports are 1 to 65535" },
	{ "port 65536", "t.conf:7: bad port '65536': ports are 1 to 65535" },
	{ "port 99999999999999999999", "t.conf:7: bad port '99999999999999999999': ports are "
	                               "1 to 65535" },
	{ "port 80-0", "t.conf:7: bad port '80-0': ports are 1 to 65535" },
	{ "port 443-80", "t.conf:7: bad port range '443-80': the first port is greater than "
	                 "the last" },
	{ "port https", "t.conf:7: bad port 'https': write a port number or a range such as "
	                "8000-8080" },
	{ "port 80-", "t.conf:7: bad port '80-': write a port number or a range such as "
	              "8000-8080" },
	{ "port -80", "t.conf:7: bad port '-80': write a port number or a range such as "
	              "8000-8080" },
	{ "port +80", "t.conf:7: bad port '+80': write a port number or a range such as "
	              "8000-8080" },
	{ "port 80 metod GET", "t.conf:7: unknown matcher 'metod' (did you mean 'method'?)" },
	{ "src 10.0.0.0/33", "t.conf:7: bad src address '10.0.0.0/33': the prefix is longer "
	                     "than the 32 bits of an IPv4 address" },
	{ "src ::/129", "t.conf:7: bad src address '::/129': the prefix is longer than the 128 "
	                "bits of an IPv6 address" },
	{ "src 10.0.0.256", "t.conf:7: bad src address '10.0.0.256': it is not an IPv4 "
	                    "address" },
	{ "src [10.0.0.1]", "t.conf:7: bad src address '[10.0.0.1]': brackets are for IPv6 "
	                    "addresses only" },
	{ "src office", "t.conf:7: bad src address 'office': it is not an IPv4 address" },
	{ "src 10.0.0.0/8 usr bob", "t.conf:7: unknown matcher 'usr' (did you mean 'user'?)" },
	{ "domain a.com prot 443", "t.conf:7: unknown matcher 'prot' (did you mean 'port'?); "
	                           "to match a host of that name write it with a trailing "
	                           "dot, 'prot.'" },
	{ "domain a..com", "t.conf:7: bad domain pattern 'a..com': it has an empty label "
	                   "('..')" },
	{ "domain foo*.com", "t.conf:7: bad domain pattern 'foo*.com': '*' is only allowed as "
	                     "the whole first label, as in '*.example.com'" },
	{ "domain *", "t.conf:7: bad domain pattern '*': '*' alone is not a pattern; to match "
	              "every destination leave out 'domain' or write 'all'" },
	{ "domain 10.0.0.0/40", "t.conf:7: bad domain pattern '10.0.0.0/40': the prefix is "
	                        "longer than the 32 bits of an IPv4 address" },
	{ "domain a/b.com", "t.conf:7: bad domain pattern 'a/b.com': a host name cannot "
	                    "contain '/'" },
	{ "method G@T", "t.conf:7: bad method 'G@T': a method is a word such as GET or "
	                "CONNECT" },
	{ "method GET pot 80", "t.conf:7: unknown matcher 'pot' (did you mean 'port'?)" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < PH_ARRAY_LEN(error_cases); i++) {
		struct cfg_errors errs = { 0 };
		struct matchset set;

		CHECK_INT(parse_set(&set, error_cases[i].set, &errs), PH_ERROR);
		CHECK_INT(errs.n, 1);
		if (errs.n >= 1)
			CHECK_STR(errs.msgs[0], error_cases[i].msg);
		for (size_t j = 1; j < errs.n; j++)
			fprintf(stderr, "  extra error: %s\n", errs.msgs[j]);
		CHECK(set.m == NULL && set.n == 0);
		cfg_errors_free(&errs);
	}
}

static void test_all_errors_collected(void)
{
	struct cfg_errors errs = { 0 };
	struct matchset set;

	CHECK_INT(parse_set(&set, "port 0 70000 443 src 1.2.3.4/99 domain a..b ok.com", &errs), PH_ERROR);
	CHECK_INT(errs.n, 4);
	if (errs.n == 4) {
		CHECK_STR(errs.msgs[0], "t.conf:7: bad port '0': ports are 1 to 65535");
		CHECK_STR(errs.msgs[1], "t.conf:7: bad port '70000': ports are 1 to 65535");
		CHECK_STR(errs.msgs[2], "t.conf:7: bad src address '1.2.3.4/99': the prefix is "
		                        "longer than the 32 bits of an IPv4 address");
		CHECK_STR(errs.msgs[3], "t.conf:7: bad domain pattern 'a..b': it has an empty label ('..')");
	}
	cfg_errors_free(&errs);
}

/* ---- rules: first match wins, no match is NULL ---- */

static void test_acl_check(void)
{
	static const struct {
		enum rule_action action;
		const char *set;
	} spec[] = {
		{ RULE_DENY, "domain .blocked.example" },
		{ RULE_ALLOW, "domain .example port 443" },
		{ RULE_DENY, "src 10.9.0.0/16" },
		{ RULE_ALLOW, "src 10.0.0.0/8 method CONNECT" },
		{ RULE_ALLOW, "user admin" },
	};
	struct rule rules[PH_ARRAY_LEN(spec)];
	struct cfg_errors errs = { 0 };
	struct sockaddr_storage a10 = unit_ip("10.1.1.1"), a109 = unit_ip("10.9.1.1"), other = unit_ip("192.0.2.1");
	struct acl_subject s;

	for (size_t i = 0; i < PH_ARRAY_LEN(spec); i++) {
		memset(&rules[i], 0, sizeof(rules[i]));
		rules[i].action = spec[i].action;
		rules[i].file = FILE_NAME;
		rules[i].line = (int)i + 1;
		CHECK_INT(parse_set(&rules[i].set, spec[i].set, &errs), PH_OK);
	}

	s = (struct acl_subject){ .host = "www.blocked.example", .port = 443, .src = &a10, .method = "CONNECT" };
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[0]);
	s.host = "www.example";
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[1]);
	s.src = &a109;
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[1]);
	s.port = 80;
	s.method = "GET";
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[2]);
	s.src = &a10;
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == NULL);
	s.method = "CONNECT";
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[3]);
	s.src = &other;
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == NULL);
	s.user = "admin";
	CHECK(acl_check(rules, PH_ARRAY_LEN(rules), &s) == &rules[4]);
	CHECK_INT(acl_check(rules, PH_ARRAY_LEN(rules), &s)->line, 5);
	CHECK(acl_check(rules, 0, &s) == NULL);

	for (size_t i = 0; i < PH_ARRAY_LEN(spec); i++)
		acl_matchset_free(&rules[i].set);
	CHECK_INT(errs.n, 0);
	cfg_errors_free(&errs);
}

static void test_host_normalise(void)
{
	char a[] = "WWW.Example.COM.", b[] = "x", c[] = "", d[] = ".";

	acl_host_normalise(a);
	CHECK_STR(a, "www.example.com");
	acl_host_normalise(b);
	CHECK_STR(b, "x");
	acl_host_normalise(c);
	CHECK_STR(c, "");
	acl_host_normalise(d);
	CHECK_STR(d, "");
}

int main(void)
{
	test_domain_patterns();
	test_domain_pattern_kinds();
	test_domain_pattern_errors();
	test_cidrs();
	test_matchsets();
	test_webrtc_matcher();
	test_matchset_structure();
	test_errors();
	test_all_errors_collected();
	test_acl_check();
	test_host_normalise();
	return unit_summary("test_acl");
}
