/*
 * config_check.h - what the configuration tests share: files written into
 * the test directory, and parsing text as main.conf expecting success or
 * exactly these FILE:LINE errors.  Included by one test program each;
 * UNIT_NAME names it in failure messages.
 */
#ifndef PINHOLE_TEST_CONFIG_CHECK_H
#define PINHOLE_TEST_CONFIG_CHECK_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "acl.h"
#include "admin_cfg.h"
#include "auth.h"
#include "config.h"
#include "dns.h"
#include "log.h"
#include "quirks.h"
#include "server.h"
#include "tls.h"
#include "turn.h"
#include "unit.h"

static char tmpdir[PATH_MAX];
static char *written[64];
static size_t nwritten;

/* Writes name (relative to the test directory, the current directory
 * while tests run) and remembers it for the clean-up. */
static void write_file(const char *name, const char *content)
{
	FILE *f = fopen(name, "w");

	if (!f) {
		perror(name);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
	for (size_t i = 0; i < nwritten; i++)
		if (strcmp(written[i], name) == 0)
			return;
	if (nwritten < PH_ARRAY_LEN(written))
		written[nwritten++] = ph_strdup(name);
}

/* Removes what write_file wrote, the subdirectory subdir, and the test
 * directory, after going back to oldcwd. */
static void written_cleanup(const char *subdir, const char *oldcwd)
{
	for (size_t i = nwritten; i-- > 0;) {
		unlink(written[i]);
		free(written[i]);
	}
	nwritten = 0;
	rmdir(subdir);
	if (chdir(oldcwd) != 0 || rmdir(tmpdir) != 0)
		fprintf(stderr, "%s: could not remove %s: %s\n", UNIT_NAME, tmpdir, strerror(errno));
}

static struct config *parse(const char *text, struct cfg_errors *errs)
{
	return config_parse_text("main.conf", text, strlen(text), errs);
}

/* Parses text as main.conf and checks it fails with exactly these errors. */
static void expect_errors(int line, const char *text, ...)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = parse(text, &errs);
	const char *want;
	size_t i = 0;
	va_list ap;

	if (cfg) {
		fprintf(stderr, "%s:%d: config unexpectedly valid\n", UNIT_NAME, line);
		CHECK(cfg == NULL);
		config_unref(cfg);
	}
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		unit_checks++;
		if (i >= errs.n || strcmp(errs.msgs[i], want) != 0) {
			unit_failures++;
			fprintf(stderr, "%s:%d: error %zu is \"%s\", want \"%s\"\n", UNIT_NAME, line, i,
			        i < errs.n ? errs.msgs[i] : "(none)", want);
		}
		i++;
	}
	va_end(ap);
	unit_checks++;
	if (errs.n != i) {
		unit_failures++;
		fprintf(stderr, "%s:%d: %zu errors, want %zu\n", UNIT_NAME, line, errs.n, i);
		for (size_t j = 0; j < errs.n; j++)
			fprintf(stderr, "    %s\n", errs.msgs[j]);
	}
	cfg_errors_free(&errs);
}

#define EXPECT_ERRORS(text, ...) expect_errors(__LINE__, text, __VA_ARGS__, (const char *)NULL)

static struct config *parse_ok(int line, const char *text)
{
	struct cfg_errors errs = { 0 };
	struct config *cfg = parse(text, &errs);

	unit_checks++;
	if (!cfg) {
		unit_failures++;
		fprintf(stderr, "%s:%d: config did not parse:\n", UNIT_NAME, line);
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "    %s\n", errs.msgs[i]);
	}
	cfg_errors_free(&errs);
	return cfg;
}

#define PARSE_OK(text) parse_ok(__LINE__, text)

#endif
