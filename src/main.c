/*
 * main.c - the pinhole command: parses the command line and hands over to
 * the engine (run) or to the offline commands that reuse policy code
 * without starting it (validate, version).
 */
#include "common.h"
#include "config.h"
#include "engine.h"
#include "relay.h"

#include <ares.h>
#include <microhttpd.h>
#include <ntlm.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: pinhole [run] [-c FILE]      run the proxy (embedded default config without -c)\n"
	           "       pinhole validate -c FILE    check a configuration; errors as FILE:LINE: message\n"
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
	return engine_run(cfg);
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
	printf("%s: OK (%zu listen, %zu access rules)\n", path, cfg->nlistens, cfg->nrules);
	if (verbose) {
		char *text = config_dump(cfg);

		fputs(text, stdout);
		free(text);
	}
	config_unref(cfg);
	return 0;
}

static int cmd_version(void)
{
	printf("pinhole %s\n", PACKAGE_VERSION);
	printf("built with: %s, c-ares %s, libmicrohttpd %s, libntlm %s\n", OpenSSL_version(OPENSSL_VERSION),
	       ares_version(NULL), MHD_get_version(), ntlm_check_version(NULL));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "validate") == 0)
		return cmd_validate(argc - 2, argv + 2);
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
