/*
 * test_presets.c - `turn-server` and `preset` as SPEC.md defines them: what
 * lands in struct config, every error with its FILE:LINE (a preset's own
 * lines name the preset file), $HOST in the cms preset, the dump round trip,
 * and the shipped presets in conf/presets: they parse and only ever add
 * allow, noauth and turn-server lines.  Files live in a mkdtemp directory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
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

#define UNIT_NAME "test_presets.c"
#include "config_check.h"

/* ---- turn-server ---- */

static void test_turn_server(void)
{
	struct config *cfg = PARSE_OK("turn-server TURN.Example.COM. coturn.lab:3478\n"
	                              "turn-server 192.0.2.7:443 [2001:DB8:0::1]:3478 [::1]\n"
	                              "turn-server coturn.lab:3478\n");

	if (!cfg)
		return;
	CHECK_INT(cfg->turn->n, 5);
	if (cfg->turn->n == 5) {
		CHECK_STR(cfg->turn->servers[0].host, "turn.example.com");
		CHECK_INT(cfg->turn->servers[0].port, 0);
		CHECK_INT(cfg->turn->servers[0].line, 1);
		CHECK_STR(cfg->turn->servers[0].file, "main.conf");
		CHECK_STR(cfg->turn->servers[1].host, "coturn.lab");
		CHECK_INT(cfg->turn->servers[1].port, 3478);
		CHECK_STR(cfg->turn->servers[2].host, "192.0.2.7");
		CHECK_INT(cfg->turn->servers[2].port, 443);
		/* Brackets off and the address in its canonical form, as a
		 * CONNECT to it is compared. */
		CHECK_STR(cfg->turn->servers[3].host, "2001:db8::1");
		CHECK_INT(cfg->turn->servers[3].port, 3478);
		CHECK_STR(cfg->turn->servers[4].host, "::1");
		CHECK_INT(cfg->turn->servers[4].port, 0);
		CHECK_INT(cfg->turn->servers[4].line, 2);
	}
	config_unref(cfg);

	EXPECT_ERRORS("turn-server\n", "main.conf:1: turn-server needs a value (usage: turn-server HOST[:PORT]... "
	                               "[credentials USER PASSWORD])");
	EXPECT_ERRORS("turn-server a.example:0 a.example:65536 a.example:\n",
	              "main.conf:1: bad turn-server 'a.example:0': the port must be a number from 1 to 65535",
	              "main.conf:1: bad turn-server 'a.example:65536': the port must be a number from 1 to 65535",
	              "main.conf:1: bad turn-server 'a.example:': the port must be a number from 1 to 65535");
	EXPECT_ERRORS("turn-server ::1:3478 [::1 [::1]3478 [nope]:3478\n",
	              "main.conf:1: bad turn-server '::1:3478': write an IPv6 address in brackets, e.g. "
	              "[2001:db8::7]:3478",
	              "main.conf:1: bad turn-server '[::1': write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT",
	              "main.conf:1: bad turn-server '[::1]3478': write an IPv6 address as [ADDRESS] or "
	              "[ADDRESS]:PORT",
	              "main.conf:1: bad turn-server '[nope]:3478': 'nope' is not an IPv6 address");
	EXPECT_ERRORS("turn-server *.example.com .example.com 10.0.0.0/8 bad_name!:3478\n",
	              "main.conf:1: bad turn-server '*.example.com': name one server, not a pattern",
	              "main.conf:1: bad turn-server '.example.com': name one server, not a pattern",
	              "main.conf:1: bad turn-server '10.0.0.0/8': '10.0.0.0/8' is not a host name or an IP address",
	              "main.conf:1: bad turn-server 'bad_name!:3478': 'bad_name!' is not a host name or an IP address");
}

/* ---- preset, with preset files of the test's own ---- */

static void test_preset_parsing(void)
{
	struct config *cfg;

	mkdir("presets", 0700);
	write_file("presets/webex.conf", "# the test's webex\nallow domain .webex.com port 443\n");
	write_file("presets/tokbox.conf", "noauth domain .tokbox.com\nallow domain .tokbox.com port 443\n");
	write_file("presets/cms.conf", "# $HOST is the Expressway-E\n"
	                               "allow domain $HOST port 443 3478\n"
	                               "turn-server $HOST:3478 $HOST:443\n");
	setenv("PINHOLE_PRESET_DIR", "presets", 1);

	cfg = PARSE_OK("deny port 25\npreset webex\npreset cms VC.Example.ORG.\npreset tokbox\ndeny all\n");
	if (cfg) {
		CHECK_INT(cfg->npresets, 3);
		if (cfg->npresets == 3) {
			CHECK_STR(cfg->presets[0].name, "webex");
			CHECK(cfg->presets[0].arg == NULL);
			CHECK_STR(cfg->presets[0].file, "main.conf");
			CHECK_INT(cfg->presets[0].line, 2);
			CHECK_STR(cfg->presets[0].preset_file, "presets/webex.conf");
			CHECK_STR(cfg->presets[1].name, "cms");
			CHECK_STR(cfg->presets[1].arg, "vc.example.org");
			CHECK_INT(cfg->presets[1].line, 3);
			CHECK_STR(cfg->presets[2].name, "tokbox");
		}
		/* The preset's rules stand where the preset line stands. */
		CHECK_INT(cfg->acl->rules.n, 5);
		if (cfg->acl->rules.n == 5) {
			CHECK_STR(cfg->acl->rules.r[0].text, "deny port 25");
			CHECK_STR(cfg->acl->rules.r[1].text, "allow domain .webex.com port 443");
			CHECK_STR(cfg->acl->rules.r[1].file, "presets/webex.conf");
			CHECK_INT(cfg->acl->rules.r[1].line, 2);
			CHECK_STR(cfg->acl->rules.r[2].text, "allow domain vc.example.org port 443 3478");
			CHECK_STR(cfg->acl->rules.r[2].file, "presets/cms.conf");
			CHECK_STR(cfg->acl->rules.r[3].text, "allow domain .tokbox.com port 443");
			CHECK_STR(cfg->acl->rules.r[4].text, "deny all");
			CHECK_STR(cfg->acl->rules.r[4].file, "main.conf");
			CHECK_INT(cfg->acl->rules.r[4].line, 5);
		}
		CHECK_INT(cfg->acl->noauth.n, 1);
		CHECK_INT(cfg->turn->n, 2);
		if (cfg->turn->n == 2) {
			CHECK_STR(cfg->turn->servers[0].host, "vc.example.org");
			CHECK_INT(cfg->turn->servers[0].port, 3478);
			CHECK_INT(cfg->turn->servers[1].port, 443);
			CHECK_STR(cfg->turn->servers[1].file, "presets/cms.conf");
			CHECK_INT(cfg->turn->servers[1].line, 3);
		}
		config_unref(cfg);
	}

	EXPECT_ERRORS("preset\n", "main.conf:1: preset needs a value (usage: preset webex|tokbox|cms HOST)");
	EXPECT_ERRORS("\npreset cms\n",
	              "main.conf:2: preset cms needs the Expressway-E host name that browsers join on "
	              "(usage: preset cms HOST, e.g. preset cms join.example.com)");
	EXPECT_ERRORS("preset webx\npreset zoom\n", "main.conf:1: unknown preset 'webx' (did you mean 'webex'?)",
	              "main.conf:2: unknown preset 'zoom' (one of: webex, tokbox, cms)");
	EXPECT_ERRORS("preset webex\n# again\npreset webex\n",
	              "main.conf:3: preset webex is already used at main.conf:1");
	EXPECT_ERRORS("preset cms a.example\npreset cms b.example\n",
	              "main.conf:2: preset cms is already used at main.conf:1");
	EXPECT_ERRORS("preset tokbox yes\n", "main.conf:1: preset tokbox takes no value: 'yes' is one too many");
	EXPECT_ERRORS("preset cms a b\n", "main.conf:1: too many values for preset: 'b' is one too many (usage: "
	                                  "preset webex|tokbox|cms HOST)");
	EXPECT_ERRORS("preset cms *.example.com\npreset cms 192.0.2.1\npreset cms \"a b\"\npreset cms x$HOST\n",
	              "main.conf:1: preset cms takes one host name, not the pattern '*.example.com'",
	              "main.conf:2: preset cms takes the Expressway-E host name that browsers connect to (the name "
	              "in its certificate), not the address '192.0.2.1'",
	              "main.conf:3: 'a b' is not a valid host name (letters, digits, '-' and '.')",
	              "main.conf:4: 'x$host' is not a valid host name (letters, digits, '-' and '.')");

	/* Mistakes inside a preset name the preset file and its line. */
	write_file("presets/webex.conf", "# the test's webex\n\nallow domian .webex.com\n");
	EXPECT_ERRORS("preset webex\n", "presets/webex.conf:3: unknown matcher 'domian' (did you mean 'domain'?)");
	/* A preset that names itself is a second use, not a loop. */
	write_file("presets/webex.conf", "preset webex\n");
	EXPECT_ERRORS("preset webex\n", "presets/webex.conf:1: preset webex is already used at main.conf:1");

	setenv("PINHOLE_PRESET_DIR", "nowhere", 1);
	EXPECT_ERRORS("preset tokbox\n", "main.conf:1: cannot read the tokbox preset 'nowhere/tokbox.conf': No such "
	                                 "file or directory (set PINHOLE_PRESET_DIR to the directory holding "
	                                 "webex.conf, tokbox.conf and cms.conf)");
	unsetenv("PINHOLE_PRESET_DIR");
}

/* ---- the dump: a preset comes back as its line, at its place ---- */

static void test_preset_dump(void)
{
	struct cfg_errors errs = { 0 };
	struct config *a, *b;
	char *da, *db;

	write_file("presets/webex.conf", "allow domain .webex.com port 443\n");
	setenv("PINHOLE_PRESET_DIR", "presets", 1);
	a = PARSE_OK("turn-server coturn.lab:3478 [::1]\ndeny port 25\npreset cms vc.example.org\n"
	             "preset webex\ndeny all\n");
	if (!a)
		goto out;
	da = config_dump(a);
	CHECK(strstr(da, "\nturn-server coturn.lab:3478  # main.conf:1\n") != NULL);
	CHECK(strstr(da, "\nturn-server [::1]  # main.conf:1\n") != NULL);
	CHECK(strstr(da, "\n# turn-server vc.example.org:443  # presets/cms.conf:3 (preset cms)\n") != NULL);
	CHECK(strstr(da, "\ndeny port 25  # main.conf:2\npreset cms vc.example.org  # main.conf:3\n# allow domain "
	                 "vc.example.org port 443 3478  # presets/cms.conf:2 (preset cms)\n") != NULL);
	write_file("dump.conf", da);
	b = config_load("dump.conf", &errs);
	CHECK(b != NULL);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "dump did not parse: %s\n", errs.msgs[i]);
	cfg_errors_free(&errs);
	if (b) {
		CHECK_INT(b->npresets, a->npresets);
		CHECK_INT(b->turn->n, a->turn->n);
		CHECK_INT(b->acl->rules.n, a->acl->rules.n);
		for (size_t i = 0; i < a->acl->rules.n && i < b->acl->rules.n; i++) {
			CHECK_STR(b->acl->rules.r[i].text, a->acl->rules.r[i].text);
			CHECK_STR(b->acl->rules.r[i].file, strcmp(a->acl->rules.r[i].file, "main.conf") == 0
			                                           ? "dump.conf"
			                                           : a->acl->rules.r[i].file);
		}
		db = config_dump(b);
		CHECK(strcmp(strchr(da, '\n'), strchr(db, '\n')) == 0 ||
		      strstr(db, "preset cms vc.example.org  # dump.conf:") != NULL);
		free(db);
		config_unref(b);
	}
	free(da);
	config_unref(a);
out:
	unsetenv("PINHOLE_PRESET_DIR");
}

/* ---- the presets pinhole ships ---- */

static void test_shipped_presets(void)
{
	const char *src = getenv("PH_SRCDIR");
	char dir[PATH_MAX];
	struct config *cfg;

	snprintf(dir, sizeof(dir), "%s/conf/presets", src && *src ? src : ".");
	setenv("PINHOLE_PRESET_DIR", dir, 1);
	cfg = PARSE_OK("preset webex\npreset tokbox\npreset cms join.example.com\n");
	if (cfg) {
		/* A preset adds to what the admin allows, never takes away. */
		for (size_t i = 0; i < cfg->acl->rules.n; i++) {
			unit_checks++;
			if (cfg->acl->rules.r[i].action != RULE_ALLOW) {
				unit_failures++;
				fprintf(stderr, "%s:%d: a preset may only allow: %s\n", cfg->acl->rules.r[i].file,
				        cfg->acl->rules.r[i].line, cfg->acl->rules.r[i].text);
			}
		}
		CHECK(cfg->acl->rules.n >= 6);
		/* TokBox's WebRTC does not work behind authentication [TOKBOX]. */
		CHECK_INT(cfg->acl->noauth.n, 1);
		if (cfg->acl->noauth.n == 1)
			CHECK_STR(cfg->acl->noauth.r[0].text, "noauth domain .tokbox.com .opentok.com");
		CHECK_INT(cfg->turn->n, 2);
		for (size_t i = 0; i < cfg->turn->n; i++)
			CHECK_STR(cfg->turn->servers[i].host, "join.example.com");
		for (size_t i = 0; i < cfg->acl->rules.n; i++)
			CHECK(strstr(cfg->acl->rules.r[i].text, "$HOST") == NULL);
		config_unref(cfg);
	} else {
		fprintf(stderr, "test_presets: (presets read from %s; set PH_SRCDIR)\n", dir);
	}
	unsetenv("PINHOLE_PRESET_DIR");
}

int main(void)
{
	char oldcwd[PATH_MAX];

	if (!getcwd(oldcwd, sizeof(oldcwd))) {
		perror("getcwd");
		return 2;
	}
	/* The source tree's path is read before leaving for the temp dir. */
	if (!getenv("PH_SRCDIR")) {
		char *real = realpath(".", NULL);

		if (real) {
			setenv("PH_SRCDIR", real, 1);
			free(real);
		}
	} else {
		char *real = realpath(getenv("PH_SRCDIR"), NULL);

		if (real) {
			setenv("PH_SRCDIR", real, 1);
			free(real);
		}
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_presets.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir) || chdir(tmpdir) != 0) {
		perror(tmpdir);
		return 2;
	}

	test_turn_server();
	test_preset_parsing();
	test_preset_dump();
	test_shipped_presets();

	written_cleanup("presets", oldcwd);
	return unit_summary("test_presets");
}
