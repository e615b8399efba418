/*
 * running.h - the configuration in force: the one every new request takes a
 * reference to, replaced as a whole by a successful reload.  The engine
 * (signals, workers) and the admin interface (pages, POST /reload) both
 * come here; this module knows neither.
 */
#ifndef PINHOLE_RUNNING_H
#define PINHOLE_RUNNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/* Puts cfg in force (its reference is taken over), at start-up. */
void running_start(struct config *cfg);
/* The configuration in force, with a reference the caller drops with
 * config_unref; NULL before start and after running_stop. */
struct config *running_get(void);
/* Drops the configuration in force (at exit). */
void running_stop(void);

/* What the last reload did. */
struct running_reload {
	bool ok;            /* the new configuration is in force */
	char message[4096]; /* the errors when refused, one per line */
};

/* Reloads the file the running configuration came from: parses it, opens
 * its log files, and puts it in force.  A refused file leaves the running
 * configuration as it is.  The caller applies the new configuration to
 * what holds a copy of it (workers, the report, the admin interface).
 * Returns the new configuration with a reference for the caller, or NULL
 * when refused; *r says what happened. */
struct config *running_reload(struct running_reload *r);
/* Asks the process to reload, as SIGHUP does (from any thread). */
void running_request_reload(void);

#endif
