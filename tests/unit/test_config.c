/*
 * test_config.c - pinhole.conf as SPEC.md defines it: every directive lands
 * in struct config, every error has its exact "FILE:LINE: message", includes
 * and the hosts-file report their own names, the embedded default, the dump
 * round trip and reference counting.  Files live in a mkdtemp directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "common.h"
#include "config.h"
#include "unit.h"

#define UNIT_NAME "test_config.c"
#include "config_check.h"

static int port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static const char *addr_of(const struct sockaddr_storage *ss)
{
	static char buf[64];

	return ph_addr_str(ss, buf, sizeof(buf));
}

static char *in_tmp(const char *name)
{
	static char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

/* ---- defaults and the embedded default ---- */

static void test_defaults(void)
{
	struct config *cfg = PARSE_OK("# nothing but a comment\n\n   \n");

	if (!cfg)
		return;
	CHECK_STR(cfg->path, "main.conf");
	CHECK_INT(cfg->server->nlistens, 1);
	CHECK_STR(cfg->server->listens[0].text, "127.0.0.1:3128");
	CHECK_STR(addr_of(&cfg->server->listens[0].addr), "127.0.0.1");
	CHECK_INT(port_of(&cfg->server->listens[0].addr), 3128);
	CHECK(!cfg->server->listens[0].proxy_protocol);
	CHECK(!cfg->admin->enabled);
	CHECK(cfg->admin->htpasswd == NULL);
	CHECK_INT(cfg->server->workers, 0);
	CHECK(cfg->server->user == NULL);
	CHECK_STR(cfg->log->access_log, "stdout");
	CHECK_INT(cfg->log->access_log_format, ACCESS_LOG_SQUID);
	CHECK_STR(cfg->log->error_log, "stderr");
	CHECK_INT(cfg->log->level, LOG_LEVEL_WARN);
	CHECK(cfg->dns->hosts_file == NULL);
	CHECK_INT(cfg->dns->hosts.n, 0);
	CHECK(hosts_lookup(&cfg->dns->hosts, "x") == NULL);
	CHECK(cfg->dns->servers == NULL);
	CHECK_INT(cfg->server->timeout_connect_ms, SERVER_DEFAULT_TIMEOUT_CONNECT_MS);
	CHECK_INT(cfg->server->timeout_header_ms, SERVER_DEFAULT_TIMEOUT_HEADER_MS);
	CHECK_INT(cfg->server->timeout_idle_ms, SERVER_DEFAULT_TIMEOUT_IDLE_MS);
	CHECK_INT(cfg->server->timeout_tunnel_idle_ms, SERVER_DEFAULT_TIMEOUT_TUNNEL_IDLE_MS);
	CHECK_INT(cfg->server->timeout_drain_ms, SERVER_DEFAULT_TIMEOUT_DRAIN_MS);
	CHECK_INT(cfg->server->max_connections, SERVER_DEFAULT_MAX_CONNECTIONS);
	CHECK_INT(cfg->server->max_header_size, SERVER_DEFAULT_MAX_HEADER_SIZE);
	/* No rule at all is valid: it denies everything. */
	CHECK_INT(cfg->acl->rules.n, 0);
	CHECK(!cfg->quirks->http10_connect && !cfg->quirks->no_websocket);
	CHECK_INT(cfg->quirks->idle_cut_ms, 0);
	CHECK_INT(cfg->quirks->throttle_bps, 0);
	CHECK_INT(cfg->quirks->delay_ms, 0);
	CHECK_INT(cfg->nfiles, 1);
	CHECK_STR(cfg->files[0], "main.conf");
	config_unref(cfg);

	/* An empty text is a config too. */
	cfg = config_parse_text("main.conf", "", 0, NULL);
	CHECK(cfg != NULL);
	config_unref(cfg);
}

static void test_embedded_default(void)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = config_load(NULL, &errs);
	struct acl_subject s = { .host = "example.org", .port = 443, .method = "CONNECT" };

	CHECK(cfg != NULL);
	CHECK_INT(errs.n, 0);
	if (!cfg)
		return;
	CHECK(cfg->path == NULL);
	CHECK_INT(cfg->server->nlistens, 1);
	CHECK_STR(addr_of(&cfg->server->listens[0].addr), "127.0.0.1");
	CHECK_INT(port_of(&cfg->server->listens[0].addr), 3128);
	CHECK(cfg->admin->enabled);
	CHECK_STR(addr_of(&cfg->admin->listen.addr), "127.0.0.1");
	CHECK_INT(port_of(&cfg->admin->listen.addr), 3129);
	CHECK(cfg->admin->htpasswd == NULL);
	CHECK_STR(cfg->log->access_log, "stdout");
	CHECK_INT(cfg->log->access_log_format, ACCESS_LOG_SQUID);
	CHECK_INT(cfg->acl->rules.n, 1);
	CHECK_INT(cfg->acl->rules.r[0].action, RULE_ALLOW);
	CHECK_INT(cfg->acl->rules.r[0].set.n, 1);
	CHECK_INT(cfg->acl->rules.r[0].set.m[0].kind, MATCH_ALL);
	CHECK_STR(cfg->acl->rules.r[0].file, "(embedded default)");
	CHECK_STR(cfg->acl->rules.r[0].text, "allow all");
	CHECK(acl_check(cfg->acl->rules.r, cfg->acl->rules.n, &s) == &cfg->acl->rules.r[0]);
	config_unref(cfg);
	cfg_errors_free(&errs);
}

/* ---- every directive ---- */

static void test_listen(void)
{
	struct config *cfg = PARSE_OK("listen 192.0.2.1:3128\n"
	                              "listen [::1]:8080 proxy-protocol\n"
	                              "listen *:3129\n"
	                              "listen :3130 # any address\n"
	                              "listen \"127.0.0.2:3128\"\n");

	if (!cfg)
		return;
	CHECK_INT(cfg->server->nlistens, 5);
	CHECK_STR(cfg->server->listens[0].text, "192.0.2.1:3128");
	CHECK_INT(cfg->server->listens[0].addr.ss_family, AF_INET);
	CHECK_INT(cfg->server->listens[0].addrlen, sizeof(struct sockaddr_in));
	CHECK_STR(addr_of(&cfg->server->listens[0].addr), "192.0.2.1");
	CHECK_INT(port_of(&cfg->server->listens[0].addr), 3128);
	CHECK(!cfg->server->listens[0].proxy_protocol);
	CHECK_STR(cfg->server->listens[0].file, "main.conf");
	CHECK_INT(cfg->server->listens[0].line, 1);
	CHECK_STR(cfg->server->listens[1].text, "[::1]:8080");
	CHECK_INT(cfg->server->listens[1].addr.ss_family, AF_INET6);
	CHECK_INT(cfg->server->listens[1].addrlen, sizeof(struct sockaddr_in6));
	CHECK_STR(addr_of(&cfg->server->listens[1].addr), "::1");
	CHECK_INT(port_of(&cfg->server->listens[1].addr), 8080);
	CHECK(cfg->server->listens[1].proxy_protocol);
	CHECK_INT(cfg->server->listens[1].line, 2);
	CHECK_STR(addr_of(&cfg->server->listens[2].addr), "0.0.0.0");
	CHECK_INT(port_of(&cfg->server->listens[2].addr), 3129);
	CHECK_STR(addr_of(&cfg->server->listens[3].addr), "0.0.0.0");
	CHECK_INT(port_of(&cfg->server->listens[3].addr), 3130);
	CHECK_STR(cfg->server->listens[3].text, ":3130");
	CHECK_STR(addr_of(&cfg->server->listens[4].addr), "127.0.0.2");
	config_unref(cfg);
}

/* server_parse_addr without its reason. */
static int server_parse_addr_quiet(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *why;

	return server_parse_addr(s, ss, len, &why);
}

static void test_parse_helpers(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	uint64_t v;

	CHECK_INT(server_parse_addr_quiet("127.0.0.1:3128", &ss, &len), PH_OK);
	CHECK_INT(port_of(&ss), 3128);
	CHECK_INT(server_parse_addr_quiet("[::]:1", &ss, &len), PH_OK);
	CHECK_INT(ss.ss_family, AF_INET6);
	CHECK_INT(server_parse_addr_quiet("[fe80::1%1]:3128", &ss, &len), PH_OK);
	CHECK_INT(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 1);
	CHECK_INT(server_parse_addr_quiet("*:65535", &ss, &len), PH_OK);
	CHECK_INT(server_parse_addr_quiet(":80", &ss, &len), PH_OK);
	{
		static const char *const bad[] = {
			"",
			"3128",
			"127.0.0.1",
			"127.0.0.1:",
			"127.0.0.1:0",
			"127.0.0.1:65536",
			"127.0.0.1:80x",
			"127.1:80",
			"localhost:80",
			"::1:3128",
			"[::1]",
			"[::1]3128",
			"[127.0.0.1]:80",
			"[::1:80",
			"**:80",
			"1.2.3.4:+80",
			"1.2.3.4:-80",
			"[fe80::1%no-such-if0]:80",
		};

		for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
			int rc = server_parse_addr_quiet(bad[i], &ss, &len);

			if (rc != PH_ERROR)
				fprintf(stderr, "listen address '%s' should not parse\n", bad[i]);
			CHECK_INT(rc, PH_ERROR);
		}
	}

	CHECK_INT(cfg_parse_duration("30s", &v), PH_OK);
	CHECK_INT(v, 30000);
	CHECK_INT(cfg_parse_duration("30", &v), PH_OK);
	CHECK_INT(v, 30000);
	CHECK_INT(cfg_parse_duration("250ms", &v), PH_OK);
	CHECK_INT(v, 250);
	CHECK_INT(cfg_parse_duration("5m", &v), PH_OK);
	CHECK_INT(v, 300000);
	CHECK_INT(cfg_parse_duration("2h", &v), PH_OK);
	CHECK_INT(v, 7200000);
	CHECK_INT(cfg_parse_duration("0", &v), PH_OK);
	CHECK_INT(v, 0);
	{
		static const char *const bad[] = {
			"",
			"s",
			"1.5s",
			"-1",
			"+1",
			"5 s",
			"5S",
			"5M",
			"5H",
			"5w",
			"5sec",
			"5mss",
			"99999999999999999999",
			"9999999999999999h",
			"1e3",
		};

		for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
			int rc = cfg_parse_duration(bad[i], &v);

			if (rc != PH_ERROR)
				fprintf(stderr, "duration '%s' should not parse\n", bad[i]);
			CHECK_INT(rc, PH_ERROR);
		}
	}

	CHECK_INT(cfg_parse_size("100", &v), PH_OK);
	CHECK_INT(v, 100);
	CHECK_INT(cfg_parse_size("64k", &v), PH_OK);
	CHECK_INT(v, 65536);
	CHECK_INT(cfg_parse_size("64K", &v), PH_OK);
	CHECK_INT(v, 65536);
	CHECK_INT(cfg_parse_size("1M", &v), PH_OK);
	CHECK_INT(v, 1048576);
	CHECK_INT(cfg_parse_size("2m", &v), PH_OK);
	CHECK_INT(v, 2097152);
	{
		static const char *const bad[] = {
			"", "k", "1.5k", "-1", "1G", "1kb", "1KB", "1 k", "99999999999999999999", "99999999999999999M",
		};

		for (size_t i = 0; i < PH_ARRAY_LEN(bad); i++) {
			int rc = cfg_parse_size(bad[i], &v);

			if (rc != PH_ERROR)
				fprintf(stderr, "size '%s' should not parse\n", bad[i]);
			CHECK_INT(rc, PH_ERROR);
		}
	}
}

static void test_admin(void)
{
	struct config *cfg;

	write_file("admin.htpasswd", "admin:$apr1$x$y\n");
	cfg = PARSE_OK("admin [::1]:3129\n");
	if (cfg) {
		CHECK(cfg->admin->enabled);
		CHECK_STR(cfg->admin->listen.text, "[::1]:3129");
		CHECK_STR(addr_of(&cfg->admin->listen.addr), "::1");
		CHECK_INT(port_of(&cfg->admin->listen.addr), 3129);
		CHECK_INT(cfg->admin->listen.line, 1);
		config_unref(cfg);
	}
	cfg = PARSE_OK("admin 0.0.0.0:3129\nadmin-auth htpasswd admin.htpasswd\n");
	if (cfg) {
		CHECK_STR(cfg->admin->htpasswd, in_tmp("admin.htpasswd"));
		config_unref(cfg);
	}
	/* Loopback in its three spellings needs no password. */
	cfg = PARSE_OK("admin 127.0.0.9:3129\n");
	config_unref(cfg);
}

static void test_simple_directives(void)
{
	struct config *cfg;

	mkdir("logs", 0700);
	cfg = PARSE_OK("workers 4\nuser root\naccess-log access.log json\n"
	               "error-log logs/error.log\nlog-level debug\nmax-connections 1000000\n"
	               "max-header-size 1M\n");
	if (cfg) {
		CHECK_INT(cfg->server->workers, 4);
		CHECK_STR(cfg->server->user, "root");
		CHECK_STR(cfg->log->access_log, in_tmp("access.log"));
		CHECK_INT(cfg->log->access_log_format, ACCESS_LOG_JSON);
		CHECK_STR(cfg->log->error_log, in_tmp("logs/error.log"));
		CHECK_INT(cfg->log->level, LOG_LEVEL_DEBUG);
		CHECK_INT(cfg->server->max_connections, 1000000);
		CHECK_INT(cfg->server->max_header_size, 1048576);
		config_unref(cfg);
	}
	cfg = PARSE_OK("workers auto\naccess-log off\nerror-log syslog\nlog-level error\n"
	               "max-connections 1\nmax-header-size 1k\n");
	if (cfg) {
		CHECK_INT(cfg->server->workers, 0);
		CHECK(cfg->log->access_log == NULL);
		CHECK_STR(cfg->log->error_log, "syslog");
		CHECK_INT(cfg->log->level, LOG_LEVEL_ERROR);
		CHECK_INT(cfg->server->max_connections, 1);
		CHECK_INT(cfg->server->max_header_size, 1024);
		config_unref(cfg);
	}
	cfg = PARSE_OK("workers 64\naccess-log stdout squid\nerror-log stderr\nlog-level info\n"
	               "max-header-size 16K\n");
	if (cfg) {
		CHECK_INT(cfg->server->workers, 64);
		CHECK_STR(cfg->log->access_log, "stdout");
		CHECK_INT(cfg->log->access_log_format, ACCESS_LOG_SQUID);
		CHECK_STR(cfg->log->error_log, "stderr");
		CHECK_INT(cfg->log->level, LOG_LEVEL_INFO);
		CHECK_INT(cfg->server->max_header_size, 16384);
		config_unref(cfg);
	}
	cfg = PARSE_OK("log-level warn\naccess-log /dev/null\n"
	               "max-header-size 1m\n");
	if (cfg) {
		CHECK_INT(cfg->log->level, LOG_LEVEL_WARN);
		CHECK_STR(cfg->log->access_log, "/dev/null");
		CHECK_INT(cfg->server->max_header_size, 1048576);
		config_unref(cfg);
	}
	/* What `run` would stop on is an error of the file, with its line. */
	char want[9000], path[4200], dir[4200];

	snprintf(path, sizeof(path), "%s", in_tmp("nowhere/access.log"));
	snprintf(dir, sizeof(dir), "%s", in_tmp("nowhere"));
	snprintf(want, sizeof(want),
	         "main.conf:1: cannot write the access log %s: the directory %s does not exist (create it, writable by "
	         "the user pinhole runs as)",
	         path, dir);
	EXPECT_ERRORS("access-log nowhere/access.log\n", want);
	rmdir("logs");
}

static void test_timeouts(void)
{
	struct config *cfg = PARSE_OK("timeout connect 5s\ntimeout header 1500ms\n"
	                              "timeout idle 2m\ntimeout tunnel-idle 8h\n"
	                              "timeout drain 0\n");

	if (!cfg)
		return;
	CHECK_INT(cfg->server->timeout_connect_ms, 5000);
	CHECK_INT(cfg->server->timeout_header_ms, 1500);
	CHECK_INT(cfg->server->timeout_idle_ms, 120000);
	CHECK_INT(cfg->server->timeout_tunnel_idle_ms, 8 * 3600000);
	CHECK_INT(cfg->server->timeout_drain_ms, 0);
	config_unref(cfg);
	cfg = PARSE_OK("timeout connect 7\n");
	if (cfg) {
		CHECK_INT(cfg->server->timeout_connect_ms, 7000);
		config_unref(cfg);
	}
}

static void test_dns_servers(void)
{
	struct config *cfg = PARSE_OK("dns-server 127.0.0.1:5353 [::1]\n"
	                              "dns-server 192.0.2.53 2001:db8::53 [2001:DB8::54]:5300\n");

	if (!cfg)
		return;
	CHECK_STR(cfg->dns->servers, "127.0.0.1:5353,[::1]:53,192.0.2.53:53,"
	                             "[2001:db8::53]:53,[2001:db8::54]:5300");
	config_unref(cfg);
}

/* The auth directives land in cfg->auth, noauth rules in cfg->acl->noauth.r, and
 * the two authentication quirks in cfg->quirks-> */
/* A user matcher needs an auth line: a users file for those that have one. */
static void write_users(void)
{
	write_file("users.htpasswd", "alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n");
}

static void test_auth_directives(void)
{
	write_users();
	struct config *cfg = PARSE_OK("auth-realm \"Example office\"\nnoauth domain .tokbox.com .opentok.com\n"
	                              "noauth src 10.1.0.0/16\nquirk close-after-407\nquirk auth-everything\n"
	                              "allow user alice\nauth basic htpasswd users.htpasswd\n");

	if (!cfg)
		return;
	CHECK(cfg->auth != NULL);
	CHECK_INT(cfg->acl->noauth.n, 2);
	CHECK_INT(cfg->acl->noauth.r[1].line, 3);
	CHECK(cfg->quirks->close_after_407);
	CHECK(cfg->quirks->auth_everything);
	char *dump = config_dump(cfg);

	CHECK(strstr(dump, "auth-realm \"Example office\"") != NULL);
	CHECK(strstr(dump, "noauth domain .tokbox.com .opentok.com") != NULL);
	CHECK(strstr(dump, "quirk close-after-407") != NULL);
	free(dump);
	config_unref(cfg);
}

static void test_quirks(void)
{
	struct config *cfg = PARSE_OK("quirk http10-connect\nquirk no-websocket\n"
	                              "quirk idle-cut 30s\nquirk throttle 64k\n"
	                              "quirk delay 250ms\n");

	if (!cfg)
		return;
	CHECK(cfg->quirks->http10_connect);
	CHECK(cfg->quirks->no_websocket);
	CHECK_INT(cfg->quirks->idle_cut_ms, 30000);
	CHECK_INT(cfg->quirks->throttle_bps, 65536);
	CHECK_INT(cfg->quirks->delay_ms, 250);
	config_unref(cfg);
	cfg = PARSE_OK("quirk throttle 1M/s\n");
	if (cfg) {
		CHECK_INT(cfg->quirks->throttle_bps, 1048576);
		config_unref(cfg);
	}
	cfg = PARSE_OK("quirk throttle 1000\n");
	if (cfg) {
		CHECK_INT(cfg->quirks->throttle_bps, 1000);
		config_unref(cfg);
	}
}

static void test_rules(void)
{
	struct config *cfg = PARSE_OK("deny domain .blocked.example   # not this one\n"
	                              "allow domain .example.com \"*.example.net\" port 443\n"
	                              "\n"
	                              "\tallow src 10.0.0.0/8 method CONNECT\r\n"
	                              "deny all\n");
	struct acl_subject s = { .host = "www.example.net", .port = 443, .method = "CONNECT" };

	if (!cfg)
		return;
	CHECK_INT(cfg->acl->rules.n, 4);
	CHECK_INT(cfg->acl->rules.r[0].action, RULE_DENY);
	CHECK_STR(cfg->acl->rules.r[0].text, "deny domain .blocked.example");
	CHECK_STR(cfg->acl->rules.r[0].file, "main.conf");
	CHECK(cfg->acl->rules.r[0].file == cfg->files[0]);
	CHECK_INT(cfg->acl->rules.r[0].line, 1);
	CHECK_INT(cfg->acl->rules.r[1].action, RULE_ALLOW);
	CHECK_STR(cfg->acl->rules.r[1].text, "allow domain .example.com \"*.example.net\" port 443");
	CHECK_INT(cfg->acl->rules.r[1].line, 2);
	CHECK_INT(cfg->acl->rules.r[1].set.n, 2);
	CHECK_INT(cfg->acl->rules.r[1].set.m[0].n, 2);
	CHECK_INT(cfg->acl->rules.r[1].set.m[0].domains[1].kind, DOMAIN_SUBDOMAINS);
	CHECK_STR(cfg->acl->rules.r[2].text, "allow src 10.0.0.0/8 method CONNECT");
	CHECK_INT(cfg->acl->rules.r[2].line, 4);
	CHECK_INT(cfg->acl->rules.r[3].line, 5);
	CHECK(acl_check(cfg->acl->rules.r, cfg->acl->rules.n, &s) == &cfg->acl->rules.r[1]);
	s.host = "www.blocked.example";
	CHECK(acl_check(cfg->acl->rules.r, cfg->acl->rules.n, &s) == &cfg->acl->rules.r[0]);
	s.host = "elsewhere.org";
	CHECK(acl_check(cfg->acl->rules.r, cfg->acl->rules.n, &s) == &cfg->acl->rules.r[3]);
	config_unref(cfg);
}

static void test_quoting(void)
{
	write_users();
	struct config *cfg = PARSE_OK("allow user \"CORP\\alice\" \"we\\\"ird\" \"back\\\\slash\" "
	                              "joi\"ned word\" \"#notacomment\" x#y # comment\n"
	                              "access-log \"with space.log\"  # c\nauth basic htpasswd users.htpasswd\n");

	if (!cfg)
		return;
	CHECK_INT(cfg->acl->rules.n, 1);
	if (cfg->acl->rules.n == 1 && cfg->acl->rules.r[0].set.m[0].n == 6) {
		char **n = cfg->acl->rules.r[0].set.m[0].names;

		CHECK_STR(n[0], "CORP\\alice");
		CHECK_STR(n[1], "we\"ird");
		CHECK_STR(n[2], "back\\slash");
		CHECK_STR(n[3], "joined word");
		CHECK_STR(n[4], "#notacomment");
		CHECK_STR(n[5], "x#y");
	} else {
		CHECK(false);
	}
	CHECK_STR(cfg->log->access_log, in_tmp("with space.log"));
	config_unref(cfg);

	/* A byte order mark and CRLF line ends are fine. */
	cfg = PARSE_OK("\xef\xbb\xbfworkers 3\r\nallow all\r\n");
	if (cfg) {
		CHECK_INT(cfg->server->workers, 3);
		CHECK_STR(cfg->acl->rules.r[0].text, "allow all");
		config_unref(cfg);
	}
}

static void test_hosts_file(void)
{
	const struct hosts_entry *e;
	struct config *cfg;
	char buf[64];

	write_file("lab.hosts", "# lab names\n"
	                        "192.0.2.10  origin.lab  www.origin.lab   # two names\n"
	                        "\n"
	                        "2001:db8::10 origin.lab\n"
	                        "192.0.2.11\tOrigin.LAB.\n"
	                        "192.0.2.10 origin.lab\n"
	                        "127.0.0.1 localhost\n");
	cfg = PARSE_OK("hosts-file lab.hosts\n");
	if (!cfg)
		return;
	CHECK_STR(cfg->dns->hosts_file, in_tmp("lab.hosts"));
	CHECK_INT(cfg->dns->hosts.n, 3);
	e = hosts_lookup(&cfg->dns->hosts, "origin.lab");
	CHECK(e != NULL);
	if (e) {
		CHECK_STR(e->name, "origin.lab");
		CHECK_INT(e->naddrs, 3); /* the repeated 192.0.2.10 counts once */
		CHECK_STR(ph_addr_str(&e->addrs[0], buf, sizeof(buf)), "192.0.2.10");
		CHECK_STR(ph_addr_str(&e->addrs[1], buf, sizeof(buf)), "2001:db8::10");
		CHECK_STR(ph_addr_str(&e->addrs[2], buf, sizeof(buf)), "192.0.2.11");
		CHECK_INT(port_of(&e->addrs[0]), 0);
	}
	e = hosts_lookup(&cfg->dns->hosts, "www.origin.lab");
	CHECK(e != NULL && e->naddrs == 1);
	CHECK(hosts_lookup(&cfg->dns->hosts, "localhost") != NULL);
	/* Lookups forgive case and a trailing dot, as DNS does. */
	CHECK(hosts_lookup(&cfg->dns->hosts, "Origin.Lab.") == hosts_lookup(&cfg->dns->hosts, "origin.lab"));
	CHECK(hosts_lookup(&cfg->dns->hosts, "WWW.ORIGIN.LAB") != NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, "origin.la") == NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, "origin.labs") == NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, ".") == NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, "lab") == NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, "zzz.lab") == NULL);
	CHECK(hosts_lookup(&cfg->dns->hosts, "") == NULL);
	config_unref(cfg);

	/* Many names: sorted lookup finds every one of them. */
	{
		char *text = ph_malloc(2000 * 40), *p = text;
		bool all = true;

		for (int i = 0; i < 2000; i++)
			p += sprintf(p, "10.0.%d.%d host%d.lab\n", i / 250, i % 250, i);
		write_file("big.hosts", text);
		free(text);
		cfg = PARSE_OK("hosts-file big.hosts\n");
		if (cfg) {
			CHECK_INT(cfg->dns->hosts.n, 2000);
			for (int i = 0; i < 2000; i++) {
				snprintf(buf, sizeof(buf), "host%d.lab", i);
				e = hosts_lookup(&cfg->dns->hosts, buf);
				if (!e || e->naddrs != 1 || strcmp(e->name, buf) != 0)
					all = false;
				snprintf(buf, sizeof(buf), "HOST%d.LAB.", i);
				if (hosts_lookup(&cfg->dns->hosts, buf) != e)
					all = false;
				snprintf(buf, sizeof(buf), "host%d.lab.x", i);
				if (hosts_lookup(&cfg->dns->hosts, buf) != NULL)
					all = false;
			}
			CHECK(all);
			config_unref(cfg);
		}
	}
}

static void test_include(void)
{
	struct config *cfg;

	write_file("rules.conf", "# shared rules\nallow domain .included.example\n");
	mkdir("sub", 0700);
	write_file("sub/more.conf", "include ../rules.conf\nworkers 2\n");
	cfg = PARSE_OK("include sub/more.conf\ndeny all\n");
	if (!cfg)
		return;
	CHECK_INT(cfg->server->workers, 2);
	CHECK_INT(cfg->acl->rules.n, 2);
	CHECK_STR(cfg->acl->rules.r[0].file, "sub/../rules.conf");
	CHECK_INT(cfg->acl->rules.r[0].line, 2);
	CHECK_STR(cfg->acl->rules.r[1].file, "main.conf");
	CHECK_INT(cfg->acl->rules.r[1].line, 2);
	CHECK_INT(cfg->nfiles, 3);
	config_unref(cfg);

	/* The same file included twice is no cycle. */
	write_file("w.conf", "workers 2\n");
	write_file("twice.conf", "include rules.conf\n");
	cfg = PARSE_OK("include twice.conf\ninclude rules.conf\n");
	if (cfg) {
		CHECK_INT(cfg->acl->rules.n, 2);
		CHECK(cfg->acl->rules.r[0].file == cfg->acl->rules.r[1].file);
		config_unref(cfg);
	}

	/* config_load reads the named file and includes relative to it. */
	{
		struct cfg_errors errs = { 0 };

		write_file("sub/top.conf", "include ../rules.conf\n");
		cfg = config_load(in_tmp("sub/top.conf"), &errs);
		CHECK(cfg != NULL);
		CHECK_INT(errs.n, 0);
		if (cfg) {
			CHECK_STR(cfg->path, in_tmp("sub/top.conf"));
			CHECK_INT(cfg->acl->rules.n, 1);
			config_unref(cfg);
		}
		cfg_errors_free(&errs);
	}
}

/* ---- errors ---- */

static void test_errors_directives(void)
{
	EXPECT_ERRORS("listne 127.0.0.1:3128\n", "main.conf:1: unknown directive 'listne' (did you mean 'listen'?)");
	EXPECT_ERRORS("\n\nfrobnicate yes\n", "main.conf:3: unknown directive 'frobnicate' (pinhole.conf(5) lists them "
	                                      "all)");
	EXPECT_ERRORS("workers\n", "main.conf:1: workers needs a value (usage: workers N|auto)");
	EXPECT_ERRORS("workers 2 3\n", "main.conf:1: too many values for workers: '3' is one "
	                               "too many (usage: workers N|auto)");
	EXPECT_ERRORS("admin-auth htpasswd\n", "main.conf:1: admin-auth needs more values "
	                                       "(usage: admin-auth htpasswd FILE)");
	EXPECT_ERRORS("auth basic htpasswd /nonexistent/users\n",
	              "main.conf:1: cannot read the htpasswd file '/nonexistent/users': No such file or directory");
	EXPECT_ERRORS("auth basci htpasswd users\n",
	              "main.conf:1: unknown auth scheme 'basci' (did you mean 'basic'?)");
	EXPECT_ERRORS("noauth\n", "main.conf:1: noauth needs at least one matcher, e.g. 'noauth all'");
	EXPECT_ERRORS("upstream-proxy\n", "main.conf:1: upstream-proxy needs a value (usage: upstream-proxy URL... "
	                                  "[credentials FILE] [retry-after DURATION] [MATCHERS] | upstream-proxy "
	                                  "direct MATCHERS)");
	EXPECT_ERRORS("tls-inspect cert a b\nno-inspect *.\npinning-learn maybe\n"
	              "state-dir /nonexistent/state\n",
	              "main.conf:1: tls-inspect takes 'ca CERT KEY' (make them with `pinhole ca create DIR`)",
	              "main.conf:2: bad no-inspect pattern '*.': write example.com, *.example.com or .example.com",
	              "main.conf:3: pinning-learn takes on or off (then optionally after N, clients M, expire "
	              "DURATION)",
	              "main.conf:4: state-dir /nonexistent/state is not a directory (create it, writable by pinhole)");
	EXPECT_ERRORS("pinning-learn on\nquirk inspect-all\n",
	              "main.conf:1: pinning-learn on needs TLS inspection (nothing is minted, nothing can fail): add "
	              "tls-inspect ca CERT KEY",
	              "main.conf:2: quirk inspect-all needs tls-inspect ca CERT KEY");
	write_file("trust.pem", "-----BEGIN CERTIFICATE-----\n");
	EXPECT_ERRORS("log-level info\ntls-trust trust.pem\n",
	              "main.conf:2: tls-trust is set but neither tls-inspect nor an https:// upstream-proxy uses it: "
	              "add tls-inspect ca CERT KEY");
	EXPECT_ERRORS("pinning-learn on after 0\n",
	              "main.conf:1: pinning-learn after N: N certificate alerts (1 to 100) before a domain is "
	              "learned");
	EXPECT_ERRORS("pinning-learn on clients 17\n",
	              "main.conf:1: pinning-learn clients M: from M distinct client addresses (1 to 16)");
	EXPECT_ERRORS("pinning-learn on expire soon\n",
	              "main.conf:1: pinning-learn expire: 'soon' is not a duration (e.g. 7d, 12h, or 0 for never)");
	EXPECT_ERRORS("pinning-learn on after\n", "main.conf:1: pinning-learn after needs a value");
	EXPECT_ERRORS("sni-mismatch allow\n",
	              "main.conf:1: unknown sni-mismatch action 'allow' (one of: inspect, deny)");
	EXPECT_ERRORS(
	        "tls-inspect ca /nonexistent/ca.crt /nonexistent/ca.key\n",
	        "main.conf:1: tls-inspect: cannot read the CA certificate /nonexistent/ca.crt: No such file or "
	        "directory",
	        "main.conf:1: tls-inspect: cannot read the CA key /nonexistent/ca.key: No such file or directory");
	EXPECT_ERRORS("listen 127.0.0.1:3128 proxy-protocl\n",
	              "main.conf:1: unknown listen option 'proxy-protocl' (did you mean "
	              "'proxy-protocol'?)");
	EXPECT_ERRORS("listen 127.0.0.1:3128 tsl a.pem a.key\n",
	              "main.conf:1: unknown listen option 'tsl' (did you mean 'tls'?)");
	EXPECT_ERRORS("listen 127.0.0.1:3128 tls a.pem\nlisten 127.0.0.1:3129 tls a.pem proxy-protocol\n",
	              "main.conf:1: listen ... tls needs the certificate and key files: tls CERT KEY (PEM; the "
	              "certificate file may hold the chain after the certificate)",
	              "main.conf:2: listen ... tls needs the certificate and key files: tls CERT KEY (PEM; the "
	              "certificate file may hold the chain after the certificate)");
	EXPECT_ERRORS("listen 127.0.0.1:3128 proxy-protocol proxy-protocol\n",
	              "main.conf:1: listen: proxy-protocol is given twice");
	EXPECT_ERRORS("listen 127.0.0.1:3128 proxy-protocol from\n",
	              "main.conf:1: proxy-protocol from needs at least one address or CIDR (e.g. 10.0.0.5/32)");
	EXPECT_ERRORS("listen 127.0.0.1:3128 tls /nonexistent/a.pem /nonexistent/a.key\n",
	              "main.conf:1: listen 127.0.0.1:3128 tls: cannot open certificate /nonexistent/a.pem: No such "
	              "file or directory");
	EXPECT_ERRORS("listen 127.0.0.1\n", "main.conf:1: bad listen address '127.0.0.1': it has no port: write "
	                                    "ADDRESS:PORT, e.g. 127.0.0.1:3128, or *:PORT for every address");
	EXPECT_ERRORS("listen localhost:3128\n",
	              "main.conf:1: bad listen address 'localhost:3128': the address must be an "
	              "IPv4 address, [IPv6] or * (names are not resolved)");
	EXPECT_ERRORS("listen ::1:3128\n", "main.conf:1: bad listen address '::1:3128': write an "
	                                   "IPv6 address in brackets, e.g. [::1]:3128");
	EXPECT_ERRORS("listen 127.0.0.1:0\n", "main.conf:1: bad listen address '127.0.0.1:0': "
	                                      "the port must be a number from 1 to 65535");
	EXPECT_ERRORS("listen [::1]:3128\nlisten 127.0.0.1:3128\nlisten [0::1]:3128\n",
	              "main.conf:3: duplicate listen address [0::1]:3128 (already at "
	              "main.conf:1)");
	EXPECT_ERRORS("listen *:3128\nlisten 0.0.0.0:3128\n",
	              "main.conf:2: duplicate listen address 0.0.0.0:3128 (already at "
	              "main.conf:1)");
	EXPECT_ERRORS("admin 127.0.0.1\n", "main.conf:1: bad admin address '127.0.0.1': it has no port: write "
	                                   "ADDRESS:PORT, e.g. 127.0.0.1:3128, or *:PORT for every address");
	EXPECT_ERRORS("listen *:3128\n# the admin page\nadmin *:3129\n",
	              "main.conf:3: the admin interface on *:3129 is reachable from other "
	              "machines and has no password; add 'admin-auth htpasswd FILE' or make it "
	              "listen on 127.0.0.1");
	EXPECT_ERRORS("admin 127.0.0.1:3128\n",
	              "main.conf:1: admin address 127.0.0.1:3128 is the proxy's default listen "
	              "address; give admin another port or add a 'listen' line");
	EXPECT_ERRORS("admin 127.0.0.1:3129\nadmin 127.0.0.1:3130\n",
	              "main.conf:2: 'admin' is already set at main.conf:1");
	EXPECT_ERRORS("admin-auth htpaswd admin.htpasswd\n",
	              "main.conf:1: unknown admin-auth kind 'htpaswd' (did you mean "
	              "'htpasswd'?)");
	EXPECT_ERRORS("workers 0\nworkers 65\n",
	              "main.conf:1: workers must be 'auto' or a number from 1 to 64, not '0'",
	              "main.conf:2: 'workers' is already set at main.conf:1",
	              "main.conf:2: workers must be 'auto' or a number from 1 to 64, not '65'");
	EXPECT_ERRORS("workers many\n", "main.conf:1: workers must be 'auto' or a number from 1 to 64, not 'many'");
	EXPECT_ERRORS("user pinhole-no-such-user\n",
	              "main.conf:1: user 'pinhole-no-such-user' does not exist on this system; "
	              "create it or name an existing one such as 'nobody'");
	EXPECT_ERRORS("access-log stdout jsno\n",
	              "main.conf:1: unknown access-log format 'jsno' (did you mean 'json'?)");
	EXPECT_ERRORS("access-log stdout common\n",
	              "main.conf:1: unknown access-log format 'common' (one of: squid, json)");
	EXPECT_ERRORS("access-log \"\"\n", "main.conf:1: access-log needs a file name, 'stdout' or 'off'");
	EXPECT_ERRORS("error-log \"\"\n", "main.conf:1: error-log needs a file name, 'stderr' or 'syslog'");
	EXPECT_ERRORS("log-level verbose\n", "main.conf:1: unknown log-level 'verbose' (one of: "
	                                     "error, warn, info, debug)");
	EXPECT_ERRORS("log-level debg\n", "main.conf:1: unknown log-level 'debg' (did you mean 'debug'?)");
	EXPECT_ERRORS("dns-server 192.0.2.1 resolver.lan [::1 10.0.0.1:0 ::1%eth0\n",
	              "main.conf:1: bad dns-server 'resolver.lan': it is not an IPv4 address "
	              "(names are not resolved)",
	              "main.conf:1: bad dns-server '[::1': write an IPv6 server as [ADDRESS] or "
	              "[ADDRESS]:PORT",
	              "main.conf:1: bad dns-server '10.0.0.1:0': the port must be a number from "
	              "1 to 65535",
	              "main.conf:1: bad dns-server '::1%eth0': it is not an IPv6 address (names "
	              "are not resolved)");
	EXPECT_ERRORS("timeout conect 5s\n", "main.conf:1: unknown timeout 'conect' (did you mean 'connect'?)");
	EXPECT_ERRORS("timeout idle 1.5m\n",
	              "main.conf:1: bad duration '1.5m' for timeout idle: write a number with s, "
	              "m, h or ms, e.g. 30s");
	EXPECT_ERRORS("timeout connect 0\n", "main.conf:1: timeout connect cannot be 0");
	EXPECT_ERRORS("timeout idle 5s\ntimeout idle 6s\n",
	              "main.conf:2: 'timeout idle' is already set at main.conf:1");
	EXPECT_ERRORS("max-connections 1000001\n", "main.conf:1: max-connections must be a "
	                                           "number from 1 to 1000000, not '1000001'");
	EXPECT_ERRORS("max-header-size 512\n", "main.conf:1: max-header-size must be from 1k to 1M, not '512'");
	EXPECT_ERRORS("max-header-size 64kb\n",
	              "main.conf:1: bad size '64kb' for max-header-size: write bytes or a number "
	              "with k or M, e.g. 64k");
	EXPECT_ERRORS("allow\n", "main.conf:1: allow needs at least one matcher, e.g. 'allow "
	                         "all'");
	EXPECT_ERRORS("deny # nothing\n", "main.conf:1: deny needs at least one matcher, e.g. 'deny all'");
	EXPECT_ERRORS("allow domians .example.com\n",
	              "main.conf:1: unknown matcher 'domians' (did you mean 'domain'?)");
	EXPECT_ERRORS("allow port 0\n", "main.conf:1: bad port '0': ports are 1 to 65535");
	EXPECT_ERRORS("allow all .example.com\n", "main.conf:1: 'all' takes no values, but '.example.com' follows it");
	EXPECT_ERRORS("allow src 10.0.0.0/8 method\n", "main.conf:1: matcher 'method' needs at least one value");

	EXPECT_ERRORS("quirk thrtle 64k\n", "main.conf:1: unknown quirk 'thrtle' (did you mean 'throttle'?)");
	EXPECT_ERRORS("quirk sloppy\n", "main.conf:1: unknown quirk 'sloppy' (one of: http10-connect, no-websocket, "
	                                "idle-cut, throttle, delay, strict-tls, close-after-407, inspect-all, "
	                                "auth-everything)");
	EXPECT_ERRORS("quirk throttle\nquirk http10-connect yes\n",
	              "main.conf:1: quirk throttle takes one value (usage: quirk throttle RATE)",
	              "main.conf:2: quirk http10-connect takes no value (usage: quirk "
	              "http10-connect)");
	EXPECT_ERRORS("quirk throttle 0\nquirk delay 0\nquirk idle-cut soon\n",
	              "main.conf:1: bad rate '0' for quirk throttle: write bytes per second "
	              "greater than 0, with k or M, e.g. 64k or 1M/s",
	              "main.conf:2: bad duration '0' for quirk delay: write a number greater than "
	              "0 with s, m, h or ms, e.g. 30s",
	              "main.conf:3: bad duration 'soon' for quirk idle-cut: write a number "
	              "greater than 0 with s, m, h or ms, e.g. 30s");
	EXPECT_ERRORS("quirk no-websocket\nquirk no-websocket\n",
	              "main.conf:2: 'quirk no-websocket' is already set at main.conf:1");
}

static void test_errors_syntax(void)
{
	char *longline;

	EXPECT_ERRORS("workers \"2\nallow all\n", "main.conf:1: unterminated quoted string: a '\"' is missing");
	{
		static const char text[] = "workers 2\nuser ro\0ot\nlog-level debug\n";
		struct cfg_errors errs = { 0 };
		struct config *cfg = config_parse_text("main.conf", text, sizeof(text) - 1, &errs);

		CHECK(cfg == NULL);
		CHECK_INT(errs.n, 1);
		if (errs.n)
			CHECK_STR(errs.msgs[0], "main.conf:2: the line contains a NUL byte; is this "
			                        "a text file?");
		cfg_errors_free(&errs);
	}
	longline = ph_malloc(70000 + 32);
	strcpy(longline, "workers 2\nallow domain ");
	memset(longline + strlen(longline), 'a', 70000);
	strcpy(longline + 70000, "\nworkers 3\n");
	EXPECT_ERRORS(longline, "main.conf:2: the line is longer than 65536 bytes",
	              "main.conf:3: 'workers' is already set at main.conf:1");
	free(longline);

	/* Every error of a file, not only the first. */
	EXPECT_ERRORS("workers 0\nlisten x\nlog-level loud\nallow port 99999\nallow\n",
	              "main.conf:1: workers must be 'auto' or a number from 1 to 64, not '0'",
	              "main.conf:2: bad listen address 'x': it has no port: write ADDRESS:PORT, "
	              "e.g. 127.0.0.1:3128, or *:PORT for every address",
	              "main.conf:3: unknown log-level 'loud' (one of: error, warn, info, debug)",
	              "main.conf:4: bad port '99999': ports are 1 to 65535",
	              "main.conf:5: allow needs at least one matcher, e.g. 'allow all'");
}

static void test_errors_files(void)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg;
	char want[PATH_MAX + 200];

	/* Errors in an included file carry its name and line. */
	write_file("bad-inc.conf", "# included\nworkers 99\nallow prot 443\n");
	EXPECT_ERRORS("allow all\ninclude bad-inc.conf\nlog-level loud\n",
	              "bad-inc.conf:2: workers must be 'auto' or a number from 1 to 64, not '99'",
	              "bad-inc.conf:3: unknown matcher 'prot' (did you mean 'port'?)",
	              "main.conf:3: unknown log-level 'loud' (one of: error, warn, info, debug)");
	EXPECT_ERRORS("include no-such.conf\n",
	              "main.conf:1: cannot include 'no-such.conf': No such file or directory");
	EXPECT_ERRORS("include sub\n", "main.conf:1: cannot include 'sub': it is a directory");
	EXPECT_ERRORS("include /dev/null\n", "main.conf:1: cannot include '/dev/null': it is not a regular file");

	/* Include cycles name the chain. */
	write_file("cycle-a.conf", "workers 2\ninclude cycle-b.conf\n");
	write_file("cycle-b.conf", "\ninclude cycle-a.conf\n");
	EXPECT_ERRORS("include cycle-a.conf\n", "cycle-b.conf:2: include cycle: cycle-a.conf -> cycle-b.conf -> "
	                                        "cycle-a.conf");
	write_file("main.conf", "include main.conf\n");
	EXPECT_ERRORS("include main.conf\n", "main.conf:1: include cycle: main.conf -> main.conf");
	cfg = config_load("main.conf", &errs);
	CHECK(cfg == NULL);
	CHECK_INT(errs.n, 1);
	if (errs.n)
		CHECK_STR(errs.msgs[0], "main.conf:1: include cycle: main.conf -> main.conf");
	cfg_errors_free(&errs);

	/* Sixteen files open at once, the main one included, is the limit. */
	for (int i = 1; i <= 16; i++) {
		char name[32], text[64];

		snprintf(name, sizeof(name), "deep%d.conf", i);
		snprintf(text, sizeof(text), "include deep%d.conf\n", i + 1);
		write_file(name, text);
	}
	write_file("deep17.conf", "workers 1\n");
	cfg = PARSE_OK("include deep3.conf\n");
	CHECK(cfg && cfg->server->workers == 1 && cfg->nfiles == 16);
	config_unref(cfg);
	EXPECT_ERRORS("include deep2.conf\n", "deep16.conf:1: cannot include 'deep17.conf': includes are nested more "
	                                      "than 16 deep");

	/* The hosts-file reports its own name and lines. */
	write_file("bad.hosts", "192.0.2.1 good.lab\n"
	                        "192.0.2.x broken.lab\n"
	                        "192.0.2.2\n"
	                        "192.0.2.3 bad/name.lab *.wild.lab\n"
	                        "192.0.2.4 10.0.0.1\n");
	snprintf(want, sizeof(want), "%s:2: '192.0.2.x' is not an IPv4 or IPv6 address", in_tmp("bad.hosts"));
	{
		char w3[PATH_MAX + 200], w4a[PATH_MAX + 200], w4b[PATH_MAX + 200], w5[PATH_MAX + 200];

		snprintf(w3, sizeof(w3), "%s:3: the address has no host name after it", in_tmp("bad.hosts"));
		snprintf(w4a, sizeof(w4a), "%s:4: 'bad/name.lab' is not a valid host name", in_tmp("bad.hosts"));
		snprintf(w4b, sizeof(w4b), "%s:4: '*.wild.lab' is not a valid host name", in_tmp("bad.hosts"));
		snprintf(w5, sizeof(w5), "%s:5: '10.0.0.1' is an address, not a host name", in_tmp("bad.hosts"));
		EXPECT_ERRORS("hosts-file bad.hosts\n", want, w3, w4a, w4b, w5);
	}
	{
		char text[1024] = "", *p = text;

		for (int i = 1; i <= HOSTS_MAX_ADDRS + 1; i++)
			p += sprintf(p, "192.0.2.%d many.lab\n", i);
		write_file("many.hosts", text);
		snprintf(want, sizeof(want),
		         "%s:9: 'many.lab' has more than 8 addresses; pinhole "
		         "keeps at most 8 per name",
		         in_tmp("many.hosts"));
		EXPECT_ERRORS("hosts-file many.hosts\n", want);
	}
	snprintf(want, sizeof(want),
	         "main.conf:1: cannot read the hosts-file '%s': No such "
	         "file or directory",
	         in_tmp("no.hosts"));
	EXPECT_ERRORS("hosts-file no.hosts\n", want);
	snprintf(want, sizeof(want),
	         "main.conf:2: cannot read the admin-auth file '%s': No "
	         "such file or directory",
	         in_tmp("no-such-file"));
	EXPECT_ERRORS("admin 127.0.0.1:3129\nadmin-auth htpasswd no-such-file\n", want);

	/* config_load on a file that is not there. */
	cfg = config_load("no-such-main.conf", &errs);
	CHECK(cfg == NULL);
	CHECK_INT(errs.n, 1);
	if (errs.n)
		CHECK_STR(errs.msgs[0], "no-such-main.conf: cannot read the configuration file: "
		                        "No such file or directory");
	cfg_errors_free(&errs);
	/* errs may be NULL when the caller only wants yes or no. */
	CHECK(config_load("no-such-main.conf", NULL) == NULL);
	CHECK(config_parse_text("main.conf", "workers 0\n", 10, NULL) == NULL);
}

static void test_suggest(void)
{
	static const char *const names[] = { "domain", "port", "src", "method", "user", "all" };

	CHECK_INT(cfg_edit_distance("domain", "domain"), 0);
	CHECK_INT(cfg_edit_distance("domian", "domain"), 1);
	CHECK_INT(cfg_edit_distance("domains", "domain"), 1);
	CHECK_INT(cfg_edit_distance("dmain", "domain"), 1);
	CHECK_INT(cfg_edit_distance("", "abc"), 3);
	CHECK_STR(cfg_suggest("domians", names, PH_ARRAY_LEN(names)), "domain");
	CHECK_STR(cfg_suggest("metod", names, PH_ARRAY_LEN(names)), "method");
	CHECK_STR(cfg_suggest("usr", names, PH_ARRAY_LEN(names)), "user");
	CHECK(cfg_suggest("banana", names, PH_ARRAY_LEN(names)) == NULL);
	CHECK(cfg_suggest("x", names, PH_ARRAY_LEN(names)) == NULL);
}

/* ---- dump, refcount, generation ---- */

static void test_dump_roundtrip(void)
{
	struct config *a, *b;
	char *da, *db;
	struct cfg_errors errs = { 0 };

	mkdir("dir with space", 0700);
	write_users();
	a = PARSE_OK("listen *:3128 proxy-protocol\nlisten [::1]:3128\n"
	             "admin 0.0.0.0:3129\nadmin-auth htpasswd admin.htpasswd\n"
	             "workers 4\nuser root\naccess-log \"dir with space/a.log\" json\n"
	             "error-log syslog\nlog-level info\nhosts-file lab.hosts\n"
	             "dns-server 127.0.0.1:5353 [::1]\ntimeout connect 90s\n"
	             "timeout header 1500ms\ntimeout drain 0\nmax-connections 500\n"
	             "max-header-size 32k\nquirk http10-connect\nquirk no-websocket\n"
	             "quirk idle-cut 2m\nquirk throttle 1000/s\nquirk delay 1h\n"
	             "include rules.conf\nauth basic htpasswd users.htpasswd\n"
	             "allow user \"CORP\\alice\" \"we\\\"ird\" # who\n"
	             "deny domain *.example.com port 1-1024  method CONNECT\n");
	if (!a)
		return;
	da = config_dump(a);
	write_file("dump.conf", da);
	b = config_load("dump.conf", &errs);
	CHECK(b != NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "dump did not parse: %s\n", errs.msgs[i]);
	cfg_errors_free(&errs);
	if (b) {
		CHECK_INT(b->server->nlistens, a->server->nlistens);
		for (size_t i = 0; i < a->server->nlistens && i < b->server->nlistens; i++) {
			CHECK_STR(b->server->listens[i].text, a->server->listens[i].text);
			CHECK(b->server->listens[i].proxy_protocol == a->server->listens[i].proxy_protocol);
		}
		CHECK(b->admin->enabled);
		CHECK_STR(b->admin->listen.text, a->admin->listen.text);
		CHECK_STR(b->admin->htpasswd, a->admin->htpasswd);
		CHECK_INT(b->server->workers, 4);
		CHECK_STR(b->server->user, "root");
		CHECK_STR(b->log->access_log, a->log->access_log);
		CHECK_INT(b->log->access_log_format, ACCESS_LOG_JSON);
		CHECK_STR(b->log->error_log, "syslog");
		CHECK_INT(b->log->level, LOG_LEVEL_INFO);
		CHECK_STR(b->dns->hosts_file, a->dns->hosts_file);
		CHECK_INT(b->dns->hosts.n, a->dns->hosts.n);
		CHECK_STR(b->dns->servers, a->dns->servers);
		CHECK_INT(b->server->timeout_connect_ms, 90000);
		CHECK_INT(b->server->timeout_header_ms, 1500);
		CHECK_INT(b->server->timeout_idle_ms, a->server->timeout_idle_ms);
		CHECK_INT(b->server->timeout_tunnel_idle_ms, a->server->timeout_tunnel_idle_ms);
		CHECK_INT(b->server->timeout_drain_ms, 0);
		CHECK_INT(b->server->max_connections, 500);
		CHECK_INT(b->server->max_header_size, 32768);
		CHECK(memcmp(b->quirks, a->quirks, offsetof(struct quirks, inspect_all_file)) == 0);
		CHECK_INT(b->acl->rules.n, a->acl->rules.n);
		for (size_t i = 0; i < a->acl->rules.n && i < b->acl->rules.n; i++) {
			CHECK_INT(b->acl->rules.r[i].action, a->acl->rules.r[i].action);
			CHECK_STR(b->acl->rules.r[i].text, a->acl->rules.r[i].text);
			CHECK_INT(b->acl->rules.r[i].set.n, a->acl->rules.r[i].set.n);
		}
		CHECK_INT(b->acl->rules.r[1].set.m[0].n, 2);
		if (b->acl->rules.r[1].set.m[0].n == 2)
			CHECK_STR(b->acl->rules.r[1].set.m[0].names[1], "we\"ird");
		/* The dump of the dump says the same, apart from where it came from. */
		db = config_dump(b);
		{
			const char *x = strchr(da, '\n'), *y = strchr(db, '\n');
			size_t nx, ny;

			/* Compare up to the rules, whose comments name their files. */
			nx = (size_t)(strstr(x, "\nallow") - x);
			ny = (size_t)(strstr(y, "\nallow") - y);
			CHECK(nx == ny && memcmp(x, y, nx) == 0);
		}
		free(db);
		config_unref(b);
	}
	free(da);
	config_unref(a);

	/* The embedded default's dump parses too. */
	a = config_load(NULL, NULL);
	da = config_dump(a);
	CHECK(strstr(da, "\nallow all") != NULL);
	b = PARSE_OK(da);
	CHECK(b && b->acl->rules.n == 1 && b->admin->enabled && b->server->nlistens == 1);
	config_unref(b);
	free(da);
	config_unref(a);
	unlink("dir with space/a.log");
	rmdir("dir with space");
}

static void test_refcount(void)
{
	struct config *a = PARSE_OK("allow all\n"), *b;
	uint64_t g1, g2;

	if (!a)
		return;
	CHECK_INT(atomic_load(&a->refs), 1);
	CHECK(config_ref(a) == a);
	config_ref(a);
	CHECK_INT(atomic_load(&a->refs), 3);
	config_unref(a);
	config_unref(a);
	CHECK_INT(atomic_load(&a->refs), 1);
	g1 = a->generation;
	config_unref(a); /* freed here: ASan reports any use after this */
	config_unref(NULL);

	b = PARSE_OK("allow all\n");
	CHECK(b != NULL);
	if (!b)
		return;
	g2 = b->generation;
	CHECK(g2 > g1);
	/* A failed load does not use up a generation. */
	CHECK(parse("workers 0\n", NULL) == NULL);
	a = PARSE_OK("");
	CHECK(a && a->generation == g2 + 1);
	config_unref(a);
	config_unref(b);
}

/* A small deterministic fuzz: random mutations of a valid config never
 * crash and never leak (ASan). */
static void test_garbage(void)
{
	static const char base[] = "listen 127.0.0.1:3128\nadmin [::1]:3129\n"
	                           "allow domain .a.com \"b c\" port 1-2 src ::1/128\n"
	                           "timeout idle 5m\nquirk throttle 1k/s\nworkers 2\n"
	                           "dns-server [::1]:53\n";
	char buf[sizeof(base)];
	uint32_t seed = 12345;

	for (int round = 0; round < 3000; round++) {
		struct cfg_errors errs = { 0 };
		struct config *cfg;

		memcpy(buf, base, sizeof(base));
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % (sizeof(base) - 1)] = (char)(seed >> 20);
		}
		cfg = config_parse_text("main.conf", buf, sizeof(base) - 1, &errs);
		if (cfg) {
			char *d = config_dump(cfg);

			free(d);
			config_unref(cfg);
		}
		cfg_errors_free(&errs);
	}
	CHECK(true);
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	char oldcwd[PATH_MAX];

	snprintf(tmpdir, sizeof(tmpdir), "%s/pinhole-test-config-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || !getcwd(oldcwd, sizeof(oldcwd)) || chdir(tmpdir) != 0) {
		perror("test_config: temporary directory");
		return 2;
	}
	/* Paths are compared as the parser makes them: absolute, through the
	 * real directory (TMPDIR may be a symlink). */
	{
		char *real = realpath(".", NULL);

		if (real) {
			snprintf(tmpdir, sizeof(tmpdir), "%s", real);
			free(real);
		}
	}

	test_defaults();
	test_embedded_default();
	test_listen();
	test_parse_helpers();
	test_admin();
	test_simple_directives();
	test_timeouts();
	test_dns_servers();
	test_quirks();
	test_auth_directives();
	test_rules();
	test_quoting();
	test_hosts_file();
	test_include();
	test_errors_directives();
	test_errors_syntax();
	test_errors_files();
	test_suggest();
	test_dump_roundtrip();
	test_refcount();
	test_garbage();

	written_cleanup("sub", oldcwd);
	return unit_summary("test_config");
}
