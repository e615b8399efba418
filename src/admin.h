/*
 * admin.h - the admin interface (libmicrohttpd, in a thread of its own):
 * /healthz, /metrics, /config, POST /reload and the dashboard.  It only
 * reads what the workers publish (stats.h) and never touches a connection.
 */
#ifndef PINHOLE_ADMIN_H
#define PINHOLE_ADMIN_H

#include <stddef.h>

struct config;

/* Starts serving cfg->admin when the configuration has one (else does
 * nothing).  0, or -1 with a sentence in err. */
int admin_start(const struct config *cfg, char *err, size_t errlen);
/* Applies a reloaded configuration's admin-auth users (the address stays). */
void admin_reconfigure(const struct config *cfg);
void admin_stop(void);

#endif
