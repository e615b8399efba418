/*
 * main.c - the pinhole command: parses the command line and hands over to
 * the engine (run), to the offline commands that reuse policy code without
 * starting it (validate, version), or to the control socket of a running
 * instance (reload).
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
#include "control.h"
#include "pidfile.h"
#include "strbuf.h"

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
	           "       pinhole reload [-c FILE]    have the running pinhole reload; exit 1 with the errors\n"
	           "                                   when it refuses the new configuration\n"
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

/* Loads path, its errors and warnings on stderr; *nwarns gets how many
 * warnings there were. */
static struct config *load(const char *path, size_t *nwarns)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = config_load(path, &errs);

	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	for (size_t i = 0; i < errs.nwarns; i++)
		fprintf(stderr, "%s\n", errs.warns[i]);
	if (nwarns)
		*nwarns = errs.nwarns;
	cfg_errors_free(&errs);
	return cfg;
}

static int cmd_run(int argc, char **argv)
{
	const char *path = NULL;

	if (parse_args(argc, argv, &path, NULL))
		return 2;
	struct config *cfg = load(path, NULL);

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
	size_t nwarns = 0;
	struct config *cfg = load(path, &nwarns);

	if (!cfg)
		return 1;
	printf("%s: OK (%zu listen, %zu access rules", path, cfg->server->nlistens, cfg->acl->rules.n);
	if (nwarns)
		printf(", %zu warning%s", nwarns, nwarns == 1 ? "" : "s");
	printf(")\n");
	if (verbose) {
		char *text = config_dump(cfg);

		fputs(text, stdout);
		free(text);
	}
	config_unref(cfg);
	return 0;
}

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

/* The path of the file a running instance loaded, as the control socket's
 * status says it ("config PATH"), or NULL. */
static char *status_config(const char *reply)
{
	const char *p = strstr(reply, "\nconfig ");

	if (!p)
		return NULL;
	p += 8;
	return ph_strndup(p, strcspn(p, "\n"));
}

static bool same_file(const char *a, const char *b)
{
	char *ra = realpath(a, NULL), *rb = realpath(b, NULL);
	bool same = ra && rb ? strcmp(ra, rb) == 0 : strcmp(a, b) == 0;

	free(ra);
	free(rb);
	return same;
}

/* pinhole reload [-c FILE]: finds the running instance through FILE's
 * pid-file, asks it over the control socket to reload, and reports what it
 * answered.  0: the new configuration is in force (its warnings on
 * stderr); 1: refused (the errors on stderr), or no instance to ask; 2:
 * usage. */
static int cmd_reload(int argc, char **argv)
{
	const char *path = NULL;
	struct cfg_errors errs = { 0 };
	struct strbuf reply = { 0 };
	char err[1024], ctl[128];
	struct config *cfg;
	char *running_path = NULL;
	pid_t pid;
	int rc = 1;

	if (parse_args(argc, argv, &path, NULL))
		return 2;
	if (!path)
		path = SYSCONFDIR "/pinhole/pinhole.conf";
	/* The file may be the broken one the instance will refuse: what
	 * parsed is enough to find the pid-file. */
	cfg = config_load_partial(path, &errs);
	cfg_errors_free(&errs);
	if (!cfg) {
		fprintf(stderr, "pinhole reload: cannot read %s\n", path);
		return 1;
	}
	if (!cfg->server->pid_file) {
		fprintf(stderr,
		        "pinhole reload: %s has no pid-file line, so the running pinhole cannot be found; add one "
		        "(e.g. pid-file /run/pinhole/pinhole.pid) and restart it, or send it SIGHUP\n",
		        path);
		config_unref(cfg);
		return 2;
	}
	pid = pidfile_holder(cfg->server->pid_file, err, sizeof(err));
	if (pid <= 0) {
		fprintf(stderr, "pinhole reload: %s\n", err);
		goto out;
	}
	pidfile_control_path(cfg->server->pid_file, ctl, sizeof(ctl));
	if (control_call(ctl, "status", 10, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "pinhole reload: pid %d: %s\n", (int)pid, err);
		goto out;
	}
	running_path = status_config(reply.p);
	if (running_path && !same_file(running_path, path)) {
		fprintf(stderr, "pinhole reload: the pinhole of %s (pid %d) runs %s, not %s\n", cfg->server->pid_file,
		        (int)pid, running_path, path);
		rc = 2;
		goto out;
	}
	reply.len = 0;
	if (reply.p)
		reply.p[0] = '\0';
	/* systemd gives ExecReload= 90 s by default. */
	if (control_call(ctl, "reload", 85, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "pinhole reload: pid %d: %s\n", (int)pid, err);
		goto out;
	}
	{
		size_t first = strcspn(reply.p, "\n");
		const char *rest = reply.p[first] ? reply.p + first + 1 : "";
		bool ok = strncmp(reply.p, "ok", first) == 0 && first == 2;

		fputs(rest, stderr);
		if (ok)
			printf("pinhole (pid %d) reloaded %s: the new configuration is in force\n", (int)pid, path);
		else
			fprintf(stderr,
			        "pinhole reload: pinhole (pid %d) refused the new configuration; the one it "
			        "had stays in force\n",
			        (int)pid);
		rc = ok ? 0 : 1;
	}
out:
	free(running_path);
	free(reply.p);
	config_unref(cfg);
	return rc;
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
	printf("built with: %s, c-ares %s, libmicrohttpd %s, libntlm %s, %s\n", OpenSSL_version(OPENSSL_VERSION),
	       ares_version(NULL), MHD_get_version(), ntlm_check_version(NULL), report_lib_versions());
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
	if (strcmp(argv[1], "reload") == 0)
		return cmd_reload(argc - 2, argv + 2);
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
