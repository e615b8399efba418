/*
 * main.c - the pinhole command: parses the command line and hands over to
 * the engine (run) or to the offline commands that reuse policy code
 * without starting it (validate, version).
 */
#include "checkwebrtc.h"
#include "tlsca.h"
#include "common.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "tls.h"
#include "acl.h"
#include "server.h"
#include "engine.h"
#include "htdigest.h"
#include "htpasswd.h"
#include "ntlm_users.h"
#include "relay.h"
#include "report_cli.h"

#include <ares.h>
#include <microhttpd.h>
#include <ntlm.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: pinhole [run] [-c FILE]      run the proxy (embedded default config without -c)\n"
	           "       pinhole validate -c FILE    check a configuration; errors as FILE:LINE: message\n"
	           "       pinhole passwd --basic|--digest|--ntlm USER [--realm R] [--domain D]\n"
	           "                                   print a credential-file line (password from stdin/tty)\n"
	           "       pinhole check-webrtc -c FILE [--src ADDR] [--json] [VENDOR...]\n"
	           "                                   does FILE meet what WebRTC vendors need? (webex, tokbox, cms)\n"
	           "       pinhole report [--admin URL]... [--json]\n"
	           "                                   the WebRTC report of running instances (see --help)\n"
	           "       pinhole ca create DIR       make a CA (ca.crt, ca.key) for tls-inspect\n"
	           "       pinhole version             version and libraries\n"
	           "See pinhole.conf(5) for the configuration file.\n");
}

/* Finds "-c FILE" (or --config FILE) among the arguments; 1 when an
 * argument is not understood. */
static int parse_args(int argc, char **argv, const char **path, bool *verbose)
{
	for (int i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
			*path = argv[++i];
		} else if (verbose && (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)) {
			*verbose = true;
		} else {
			fprintf(stderr, "pinhole: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 1;
		}
	}
	return 0;
}

static struct config *load(const char *path)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = config_load(path, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	cfg_errors_free(&errs);
	return cfg;
}

static int cmd_run(int argc, char **argv)
{
	const char *path = NULL;

	if (parse_args(argc, argv, &path, NULL))
		return 2;
	struct config *cfg = load(path);

	if (!cfg) {
		fprintf(stderr, "pinhole: not started: fix the configuration errors above\n");
		return 1;
	}
	/* Measurement knob for contrib/bench: which relay moves tunnel bytes. */
	const char *relay = getenv("PINHOLE_RELAY");

	if (relay && strcmp(relay, "splice") == 0)
		relay_set_mode(RELAY_SPLICE);
	else if (relay && strcmp(relay, "copy") == 0)
		relay_set_mode(RELAY_COPY);
	return engine_run(cfg, &conn_handlers);
}

static int cmd_validate(int argc, char **argv)
{
	const char *path = NULL;
	bool verbose = false;

	if (parse_args(argc, argv, &path, &verbose))
		return 2;
	if (!path) {
		fprintf(stderr, "pinhole validate: which file? use: pinhole validate -c FILE\n");
		return 2;
	}
	struct config *cfg = load(path);

	if (!cfg)
		return 1;
	printf("%s: OK (%zu listen, %zu access rules)\n", path, cfg->server->nlistens, cfg->acl->rules.n);
	if (verbose) {
		char *text = config_dump(cfg);

		fputs(text, stdout);
		free(text);
	}
	config_unref(cfg);
	return 0;
}

/* Reads the password: asked twice with echo off on a terminal, else the
 * first line of standard input. */
static char *read_password(void)
{
	static char pw[1024], again[1024];
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fprintf(stderr, "Password: ");
	}
	bool ok = fgets(pw, sizeof(pw), stdin) != NULL;

	if (ok && tty) {
		fprintf(stderr, "\nAgain: ");
		ok = fgets(again, sizeof(again), stdin) != NULL;
	}
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok)
		return NULL;
	pw[strcspn(pw, "\r\n")] = '\0';
	if (tty) {
		again[strcspn(again, "\r\n")] = '\0';
		if (strcmp(pw, again) != 0) {
			fprintf(stderr, "pinhole passwd: the two passwords differ\n");
			return NULL;
		}
	}
	return pw;
}

static int cmd_passwd(int argc, char **argv)
{
	const char *kind = NULL, *user = NULL, *realm = "pinhole", *domain = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--basic") == 0 || strcmp(argv[i], "--digest") == 0 ||
		    strcmp(argv[i], "--ntlm") == 0)
			kind = argv[i] + 2;
		else if (strcmp(argv[i], "--realm") == 0 && i + 1 < argc)
			realm = argv[++i];
		else if (strcmp(argv[i], "--domain") == 0 && i + 1 < argc)
			domain = argv[++i];
		else if (argv[i][0] != '-' && !user)
			user = argv[i];
		else {
			fprintf(stderr, "pinhole passwd: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!kind || !user || !user[0] || strpbrk(user, ":\r\n")) {
		fprintf(stderr, "pinhole passwd: give --basic, --digest or --ntlm and a user name without ':'\n");
		return 2;
	}
	char *pw = read_password();

	if (!pw || !pw[0]) {
		fprintf(stderr, "pinhole passwd: no password given\n");
		return 1;
	}
	char err[256] = "the password could not be hashed";
	char *line = strcmp(kind, "basic") == 0    ? htpasswd_make_line(user, pw, err, sizeof(err))
	             : strcmp(kind, "digest") == 0 ? htdigest_make_line(user, realm, pw)
	                                           : ntlm_users_make_line(domain, user, pw);

	explicit_bzero(pw, strlen(pw));
	if (!line) {
		fprintf(stderr, "pinhole passwd: %s\n", err);
		return 1;
	}
	printf("%s\n", line);
	free(line);
	return 0;
}

static int cmd_version(void)
{
	printf("pinhole %s\n", PACKAGE_VERSION);
	printf("built with: %s, c-ares %s, libmicrohttpd %s, libntlm %s\n", OpenSSL_version(OPENSSL_VERSION),
	       ares_version(NULL), MHD_get_version(), ntlm_check_version(NULL));
	return 0;
}

/* pinhole ca create DIR */
static int cmd_ca(int argc, char **argv)
{
	char err[512];

	if (argc != 2 || strcmp(argv[0], "create") != 0) {
		fprintf(stderr, "usage: pinhole ca create DIR\n");
		return 2;
	}
	if (tlsca_create(argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "pinhole ca create: %s\n", err);
		return 1;
	}
	printf("wrote %s/ca.crt (give it to the clients to trust) and %s/ca.key (mode 0600)\n"
	       "use it with: tls-inspect ca %s/ca.crt %s/ca.key\n",
	       argv[1], argv[1], argv[1], argv[1]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0))
		return cmd_version();
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-')
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 2, argv + 2);
	if (strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc - 2, argv + 2);
	if (strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "check-webrtc") == 0)
		return check_webrtc_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "ca") == 0)
		return cmd_ca(argc - 2, argv + 2);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0)
		return cmd_version();
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "pinhole: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
