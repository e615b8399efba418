/*
 * cfglint.h - what a configuration that parses may still get wrong, found
 * before it runs: rules that can never match (a rule before them matches
 * every request they would), methods no client sends (a typo), user
 * matchers without an auth line (no request ever has a user).  The first
 * two are warnings, the last an error; config.c calls it once the
 * configuration is whole, with the parts it needs (this module sits below
 * config.h, beside the sections whose settings it reads).
 */
#ifndef PINHOLE_CFGLINT_H
#define PINHOLE_CFGLINT_H

#include <stdbool.h>

#include <stddef.h>

struct acl_settings;
struct cfg_errors;
struct rule;
struct tls_settings;

struct cfglint_input {
	const struct acl_settings *acl;
	const struct tls_settings *tls;
	bool auth; /* an auth scheme is configured */
	/* The presets' own files (interned): rules they spell out on
	 * purpose are not warned of. */
	const char *const *preset_files;
	size_t npreset_files;
};

void cfglint_check(const struct cfglint_input *in, struct cfg_errors *errs);

/* Whether every request rule b matches is matched by rule a too (so b,
 * after a, can never be the first match).  Conservative: false when it
 * cannot tell. */
bool cfglint_covers(const struct rule *a, const struct rule *b);

#endif
