/*
 * test_upstream.c - parent proxies (upstream.c): parent URLs (good, bad,
 * and the password never in a message), the upstream-proxy directive and
 * its errors, credentials files and their mode, which line a request
 * takes, which parent of a line is up, the down period, and the /config
 * and /metrics text.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "strbuf.h"
#include "unit.h"
#include "upstream.h"

#define UNIT_NAME "test_upstream.c"
#include "config_check.h"

/* ---- URLs ---- */

static void url_ok(int line, const char *text, bool tls, const char *host, unsigned port, const char *label,
                   const char *shown, const char *user, const char *password)
{
	struct upstream_parent p;
	char why[300] = "";

	unit_checks++;
	if (upstream_parse_url(text, &p, why, sizeof(why)) != 0) {
		unit_failures++;
		fprintf(stderr, "%s:%d: '%s' refused: %s\n", UNIT_NAME, line, text, why);
		return;
	}
	CHECK_INT(p.tls, tls);
	CHECK_STR(p.host, host);
	CHECK_INT(p.port, port);
	CHECK_STR(p.label, label);
	CHECK_STR(p.shown, shown);
	if (user) {
		CHECK_STR(p.own.user, user);
		CHECK_STR(p.own.password, password);
		CHECK(p.own.id != 0);
	} else {
		CHECK(p.own.user == NULL);
	}
	upstream_parent_free(&p);
}

static void url_bad(int line, const char *text, const char *phrase)
{
	struct upstream_parent p;
	char why[300] = "";

	unit_checks++;
	if (upstream_parse_url(text, &p, why, sizeof(why)) == 0) {
		unit_failures++;
		fprintf(stderr, "%s:%d: '%s' accepted\n", UNIT_NAME, line, text);
		upstream_parent_free(&p);
		return;
	}
	const char *w = why;

	CHECK_WHY(w, phrase);
	/* Whatever is wrong, the message never quotes a password. */
	unit_checks++;
	if (strstr(why, "topsecret")) {
		unit_failures++;
		fprintf(stderr, "%s:%d: the message quotes the password: %s\n", UNIT_NAME, line, why);
	}
}

static void test_urls(void)
{
	url_ok(__LINE__, "http://proxy.example.com:3128", false, "proxy.example.com", 3128, "proxy.example.com:3128",
	       "http://proxy.example.com:3128", NULL, NULL);
	url_ok(__LINE__, "HTTPS://Proxy.Example.COM.:443/", true, "proxy.example.com", 443, "proxy.example.com:443",
	       "https://proxy.example.com:443", NULL, NULL);
	url_ok(__LINE__, "http://192.0.2.7:8080", false, "192.0.2.7", 8080, "192.0.2.7:8080", "http://192.0.2.7:8080",
	       NULL, NULL);
	url_ok(__LINE__, "http://[2001:DB8::0:1]:3128", false, "2001:db8::1", 3128, "[2001:db8::1]:3128",
	       "http://[2001:db8::1]:3128", NULL, NULL);
	url_ok(__LINE__, "http://alice:p%40ss:word@proxy:3128", false, "proxy", 3128, "proxy:3128",
	       "http://alice@proxy:3128", "alice", "p@ss:word");
	url_ok(__LINE__, "http://CORP%5Calice:x@proxy:3128", false, "proxy", 3128, "proxy:3128",
	       "http://CORP%5Calice@proxy:3128", "CORP\\alice", "x");
	/* An '@' in a password written raw: the last one ends the userinfo. */
	url_ok(__LINE__, "http://bob:a@b@proxy:3128", false, "proxy", 3128, "proxy:3128", "http://bob@proxy:3128",
	       "bob", "a@b");
	url_ok(__LINE__, "http://bob@proxy:3128", false, "proxy", 3128, "proxy:3128", "http://bob@proxy:3128", "bob",
	       "");

	url_bad(__LINE__, "socks5://proxy:1080", "in http:// or https:// (not socks5)");
	url_bad(__LINE__, "proxy:3128", "write http://HOST:PORT");
	url_bad(__LINE__, "http://proxy", "the parent's port is missing (e.g. http://proxy:3128)");
	url_bad(__LINE__, "https://u:topsecret@proxy", "the parent's port is missing (e.g. https://proxy:443)");
	url_bad(__LINE__, "http://u:topsecret@proxy:0", "'http://u:***@proxy:0': the port must be a number");
	url_bad(__LINE__, "http://proxy:65536", "the port must be a number from 1 to 65535");
	url_bad(__LINE__, "http://proxy:31x", "the port must be a number");
	url_bad(__LINE__, "http://proxy:3128/path", "without a path");
	url_bad(__LINE__, "http://u:topsecret@proxy:3128/?x", "without a path");
	url_bad(__LINE__, "http://*.example.com:3128", "is not a host name or an IP address");
	url_bad(__LINE__, "http://.example.com:3128", "is not a host name or an IP address");
	url_bad(__LINE__, "http://ex ample:3128", "is not a host name or an IP address");
	url_bad(__LINE__, "http://10.0.0.0/8:3128", "without a path");
	url_bad(__LINE__, "http://::1:3128", "write an IPv6 address in brackets");
	url_bad(__LINE__, "http://[::1:3128", "an IPv6 address is written [ADDRESS]:PORT");
	url_bad(__LINE__, "http://[zz::1]:3128", "is not an IPv6 address");
	url_bad(__LINE__, "http://:topsecret@proxy:3128", "the user name (and password) before '@' must be non-empty");
	url_bad(__LINE__, "http://u:%zztopsecret@proxy:3128", "'%' escapes of two hex digits");
	url_bad(__LINE__, "http://u%0a:topsecret@proxy:3128", "'%' escapes of two hex digits");
}

/* ---- the directive ---- */

static void test_directive(void)
{
	struct config *cfg;
	char text[1024];
	struct strbuf sb = { 0 };
	char *dump;

	write_file("parent.cred", "CORP\\bob:s3cret:with:colons\n");
	chmod("parent.cred", 0600);
	write_file("open.cred", "bob:topsecret\n");
	chmod("open.cred", 0644);
	write_file("bad.cred", "no colon here\n");
	chmod("bad.cred", 0600);

	cfg = PARSE_OK("upstream-proxy direct domain .intranet.example\n"
	               "upstream-proxy http://a:3128 https://b:8443 credentials parent.cred retry-after 5s domain "
	               ".example.com port 443\n"
	               "upstream-proxy http://u:topsecret@c:3128\n"
	               "allow all\n");
	if (cfg) {
		const struct upstream_settings *u = cfg->upstream;

		CHECK_INT(u->n, 3);
		CHECK(u->routes[0].direct);
		CHECK_INT(u->routes[0].nparents, 0);
		CHECK_INT(u->routes[1].nparents, 2);
		CHECK_INT(u->routes[1].retry_ms, 5000);
		CHECK_INT(u->routes[2].retry_ms, UPSTREAM_RETRY_DEFAULT_MS);
		CHECK(u->any_tls);
		CHECK(u->tls_ctx != NULL);
		CHECK_STR(u->routes[1].parents[0].creds->user, "CORP\\bob");
		CHECK_STR(u->routes[1].parents[1].creds->password, "s3cret:with:colons");
		CHECK(u->routes[1].parents[0].creds == u->routes[1].parents[1].creds);
		CHECK_STR(u->routes[2].parents[0].creds->password, "topsecret");
		/* Pool keys: never an origin's "host:port", one per parent and
		 * identity. */
		CHECK(u->routes[1].parents[0].key[0] == '^');
		CHECK(strcmp(u->routes[1].parents[0].key, u->routes[1].parents[1].key) != 0);
		dump = config_dump(cfg);
		CHECK(unit_contains(dump, "upstream-proxy direct domain .intranet.example  # main.conf:1\n"));
		CHECK(unit_contains(dump, "upstream-proxy http://a:3128 https://b:8443 credentials parent.cred "
		                          "retry-after 5s domain .example.com port 443  # main.conf:2\n"));
		CHECK(unit_contains(dump, "upstream-proxy http://u@c:3128  # main.conf:3\n"));
		CHECK(!unit_contains(dump, "topsecret"));
		CHECK(!unit_contains(dump, "s3cret"));
		free(dump);
		/* The dump reads back (secrets redacted, but a valid line). */
		config_unref(cfg);
	}

	EXPECT_ERRORS("upstream-proxy direct\n",
	              "main.conf:1: upstream-proxy direct needs matchers: the requests that go direct (e.g. "
	              "upstream-proxy direct domain .intranet.example)");
	EXPECT_ERRORS("upstream-proxy proxy:3128\n",
	              "main.conf:1: upstream-proxy needs a parent URL (http://HOST:PORT or https://HOST:PORT) or "
	              "'direct', not 'proxy:3128'");
	EXPECT_ERRORS("upstream-proxy http://p\n",
	              "main.conf:1: bad parent URL 'http://p': the parent's port is missing (e.g. http://p:3128)");
	EXPECT_ERRORS("upstream-proxy http://a:1 domain x.test http://b:2\n",
	              "main.conf:1: 'http://b:2' comes after the options or matchers: write every parent URL first, "
	              "then credentials and retry-after, then the matchers");
	EXPECT_ERRORS("upstream-proxy http://a:1 domian x.test\n",
	              "main.conf:1: unknown matcher 'domian' (did you mean 'domain'?)");
	EXPECT_ERRORS("upstream-proxy http://a:1 retry-after 0\n",
	              "main.conf:1: retry-after needs a duration greater than 0 (how long a parent that failed is left "
	              "alone, e.g. 30s)");
	EXPECT_ERRORS("upstream-proxy http://a:1 credentials\n",
	              "main.conf:1: credentials needs a file (one line USER:PASSWORD)");
	snprintf(text, sizeof(text), "upstream-proxy http://a:1 credentials open.cred\n");
	strbuf_printf(&sb,
	              "main.conf:1: the credentials file %s/open.cred is readable or writable by group or others (mode "
	              "0644); whoever reads it can use the parent proxy as pinhole: run chmod 600 %s/open.cred",
	              tmpdir, tmpdir);
	EXPECT_ERRORS(text, sb.p);
	free(sb.p);
	sb = (struct strbuf){ 0 };
	strbuf_printf(&sb,
	              "main.conf:1: the credentials file %s/bad.cred must hold one line USER:PASSWORD (USER may be "
	              "DOMAIN\\user)",
	              tmpdir);
	EXPECT_ERRORS("upstream-proxy http://a:1 credentials bad.cred\n", sb.p);
	free(sb.p);
	sb = (struct strbuf){ 0 };
	strbuf_printf(&sb, "main.conf:1: cannot read the credentials file %s/none.cred: No such file or directory",
	              tmpdir);
	EXPECT_ERRORS("upstream-proxy http://a:1 credentials none.cred\n", sb.p);
	free(sb.p);
	EXPECT_ERRORS("upstream-proxy http://u:p@a:1 credentials parent.cred\n",
	              "main.conf:1: the parent URL http://u@a:1 carries a user and a password and the line a "
	              "credentials file: give them once");
	EXPECT_ERRORS("upstream-proxy https://a:1\ntls-trust /nonexistent/bundle.pem\n",
	              "main.conf:2: tls-trust: cannot read /nonexistent/bundle.pem: No such file or directory");
	write_file("not-a-bundle.pem", "hello\n");
	sb = (struct strbuf){ 0 };
	strbuf_printf(&sb,
	              "main.conf:1: cannot load the CA bundle %s/not-a-bundle.pem for https:// parents: no certificate "
	              "or crl found",
	              tmpdir);
	EXPECT_ERRORS("upstream-proxy https://a:1\ntls-trust not-a-bundle.pem\n", sb.p);
	free(sb.p);
	EXPECT_ERRORS("upstream-proxy http://a:1\ntls-trust not-a-bundle.pem\n",
	              "main.conf:2: tls-trust is set but neither tls-inspect nor an https:// upstream-proxy uses it: "
	              "add tls-inspect ca CERT KEY");
}

/* ---- which line, which parent ---- */

static const struct upstream_route *route_for(const struct config *cfg, const char *host, uint16_t port,
                                              const char *method)
{
	struct acl_subject s = { .host = host, .port = port, .method = method };

	return upstream_select(cfg->upstream, &s);
}

static void test_select(void)
{
	struct config *cfg = PARSE_OK("upstream-proxy direct domain .intranet.example\n"
	                              "upstream-proxy http://a:1 http://b:2 http://c:3 domain .example.com\n"
	                              "upstream-proxy http://d:4 method CONNECT\n"
	                              "allow all\n");
	const struct upstream_route *r;
	const struct upstream_parent *p;
	size_t idx = 99;

	if (!cfg)
		return;
	r = route_for(cfg, "wiki.intranet.example", 80, "GET");
	CHECK(r && r->direct);
	/* The direct line comes first: it wins over the others. */
	r = route_for(cfg, "intranet.example", 443, "CONNECT");
	CHECK(r && r->direct);
	r = route_for(cfg, "www.example.com", 443, "CONNECT");
	CHECK(r && !r->direct && r->nparents == 3);
	r = route_for(cfg, "www.other.test", 443, "CONNECT");
	CHECK(r && r->nparents == 1 && strcmp(r->parents[0].host, "d") == 0);
	CHECK(route_for(cfg, "www.other.test", 80, "GET") == NULL);

	/* Down parents are skipped until their retry time. */
	r = route_for(cfg, "www.example.com", 80, "GET");
	if (!r) {
		config_unref(cfg);
		return;
	}
	struct upstream_state *a = r->parents[0].state, *b = r->parents[1].state, *c = r->parents[2].state;

	p = upstream_next(r, 0, 1000, &idx);
	CHECK(p == &r->parents[0] && idx == 0);
	CHECK(upstream_failed(a, UPSTREAM_FAIL_REFUSED, 1000, 500, "connection refused"));
	CHECK(!upstream_usable(a, 1499));
	CHECK(upstream_usable(a, 1500));
	p = upstream_next(r, 0, 1200, &idx);
	CHECK(p == &r->parents[1] && idx == 1);
	CHECK(upstream_failed(b, UPSTREAM_FAIL_TIMEOUT, 1200, 500, "no connection within 1000 ms"));
	p = upstream_next(r, 0, 1300, &idx);
	CHECK(p == &r->parents[2] && idx == 2);
	/* A parent that answered is not down, whatever it answered. */
	CHECK(!upstream_failed(c, UPSTREAM_FAIL_AUTH, 1300, 500, "refused pinhole's credentials"));
	CHECK(!upstream_failed(c, UPSTREAM_FAIL_TLS, 1300, 500, "certificate verify failed"));
	CHECK(!upstream_failed(c, UPSTREAM_FAIL_STATUS, 1300, 500, "403"));
	CHECK(upstream_next(r, 0, 1300, &idx) == &r->parents[2]);
	CHECK(upstream_next(r, 3, 1300, &idx) == NULL);
	CHECK(upstream_failed(c, UPSTREAM_FAIL_RESET, 1300, 500, "reset"));
	CHECK(upstream_next(r, 0, 1400, &idx) == NULL);
	/* The first one's down period is over: tried again. */
	CHECK(upstream_next(r, 0, 1500, &idx) == &r->parents[0]);
	upstream_reached(a);
	CHECK(upstream_usable(a, 0));

	struct strbuf m = { 0 };

	upstream_metrics(cfg->upstream, &m);
	CHECK(unit_contains(m.p, "pinhole_parent_up{parent=\"a:1\"} 1\n"));
	CHECK(unit_contains(m.p, "pinhole_parent_up{parent=\"b:2\"} 0\n"));
	CHECK(unit_contains(m.p, "pinhole_parent_requests_total{parent=\"a:1\"} 1\n"));
	CHECK(unit_contains(m.p, "pinhole_parent_failures_total{parent=\"a:1\",reason=\"refused\"} 1\n"));
	CHECK(unit_contains(m.p, "pinhole_parent_failures_total{parent=\"b:2\",reason=\"timeout\"} 1\n"));
	CHECK(unit_contains(m.p, "pinhole_parent_failures_total{parent=\"c:3\",reason=\"auth\"} 1\n"));
	CHECK(unit_contains(m.p, "# TYPE pinhole_parent_failures_total counter\n"));
	free(m.p);

	/* A reload naming the same parent keeps its state and counters. */
	struct config *again = PARSE_OK("upstream-proxy http://b:2 http://e:5\nallow all\n");

	if (again) {
		CHECK(again->upstream->routes[0].parents[0].state == b);
		CHECK(!upstream_usable(b, 1400));
		CHECK_INT(atomic_load(&b->failures[UPSTREAM_FAIL_TIMEOUT]), 1);
		/* The same parent, the same identity: the same pool key. */
		CHECK_STR(again->upstream->routes[0].parents[0].key, r->parents[1].key);
	}
	config_unref(cfg);
	config_unref(again);
}

int main(void)
{
	char oldcwd[PATH_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_upstream.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir) || !getcwd(oldcwd, sizeof(oldcwd)) || chdir(tmpdir) != 0) {
		perror("test directory");
		return 2;
	}
	test_urls();
	test_directive();
	test_select();
	written_cleanup("sub", oldcwd);
	return unit_summary(UNIT_NAME);
}
