/*
 * fuzz_config.c - libFuzzer target for the configuration parser: arbitrary
 * bytes as the text of a file in an empty temporary directory, so relative
 * includes and hosts-files fail to open.  Whatever parses is dumped and freed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[PATH_MAX];
static char fuzz_name[PATH_MAX + 32];

static void fuzz_cleanup(void)
{
	if (fuzz_dir[0])
		rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("TMPDIR");

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/pinhole-fuzz-config-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("fuzz_config: mkdtemp");
		abort();
	}
	snprintf(fuzz_name, sizeof(fuzz_name), "%s/fuzz.conf", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg, *again;
	char *dump;

	cfg = config_parse_text(fuzz_name, (const char *)data, size, &errs);
	if (cfg) {
		/* What the dump says must parse again. */
		dump = config_dump(cfg);
		again = config_parse_text(fuzz_name, dump, strlen(dump), &errs);
		if (!again) {
			fprintf(stderr, "fuzz_config: the dump does not parse:\n%s\n", dump);
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			abort();
		}
		config_unref(again);
		free(dump);
		config_ref(cfg);
		config_unref(cfg);
		config_unref(cfg);
	}
	cfg_errors_free(&errs);
	return 0;
}
