/*
 * cfglint.h - what a configuration that parses may still get wrong, found
 * before it runs: rules that can never match (a rule before them matches
 * every request they would), methods no client sends (a typo), user
 * matchers without an auth line (no request ever has a user).  The first
 * two are warnings, the last an error; config.c calls it once the
 * configuration is whole.
 */
#ifndef PINHOLE_CFGLINT_H
#define PINHOLE_CFGLINT_H

#include <stdbool.h>

struct config;
struct cfg_errors;
struct rule;

void cfglint_check(const struct config *cfg, struct cfg_errors *errs);

/* Whether every request rule b matches is matched by rule a too (so b,
 * after a, can never be the first match).  Conservative: false when it
 * cannot tell. */
bool cfglint_covers(const struct rule *a, const struct rule *b);

#endif
