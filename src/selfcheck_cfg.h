/*
 * selfcheck_cfg.h - the self-check page's setting (self-check HOST|off;
 * selfcheck_section): the name pinhole answers itself.  Apart from
 * selfcheck.c, which builds the page from the whole configuration.
 */
#ifndef PINHOLE_SELFCHECK_CFG_H
#define PINHOLE_SELFCHECK_CFG_H

#include "cfgparse.h"

#define SELFCHECK_DEFAULT_HOST "pinhole.check"

struct selfcheck_settings {
	char *host; /* lower-case; NULL: self-check off */
};
extern const struct cfg_section selfcheck_section;

#endif
