/*
 * admin_cfg.h - the admin interface's settings: where it listens, who may
 * use it and which Host names it answers to (admin, admin-auth,
 * admin-host; admin_section).  Apart from admin.c, which serves the pages
 * and reads the whole running configuration.
 */
#ifndef PINHOLE_ADMIN_CFG_H
#define PINHOLE_ADMIN_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "cfgparse.h"
#include "server.h"

struct admin_settings {
	bool enabled;
	struct listen_cfg listen;
	char *htpasswd; /* admin-auth htpasswd FILE (absolute) */
	char **hosts;   /* admin-host NAME...: further Host names it answers to */
	size_t nhosts;
};

extern const struct cfg_section admin_section;

#endif
