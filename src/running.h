/*
 * running.h - the configuration in force: the one every new request takes a
 * reference to, replaced as a whole by a successful reload, and what the
 * last reload did (for /metrics, /healthz, the dashboard and `pinhole
 * reload`).  The engine (signals, control socket, workers) and the admin
 * interface (pages, POST /reload) both come here; this module knows
 * neither.
 */
#ifndef PINHOLE_RUNNING_H
#define PINHOLE_RUNNING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct cfg_errors;

/* Puts cfg in force (its reference is taken over), at start-up. */
void running_start(struct config *cfg);
/* The configuration in force, with a reference the caller drops with
 * config_unref; NULL before start and after running_stop. */
struct config *running_get(void);
/* Drops the configuration in force (at exit). */
void running_stop(void);

/* What one reload did. */
struct running_reload {
	bool ok;            /* the new configuration is in force */
	char message[8192]; /* errors when refused, warnings either way; one per line */
};

/* A reload in three steps, so that the caller can refuse a configuration
 * that parsed but cannot be applied (a port taken, an admin address in
 * use) before anything changes:
 * running_parse reads the file the running configuration came from and
 * returns the new one with a reference for the caller, or NULL when it is
 * refused (recorded, logged, with its errors in r);
 * running_refuse refuses it for another reason (recorded and logged);
 * running_commit opens its log files and puts it in force (0), or
 * refuses it when a log file cannot be opened (-1). */
struct config *running_parse(struct running_reload *r);
void running_refuse(struct running_reload *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int running_commit(struct config *next, struct running_reload *r);

/* Appends a line (an error or a warning) to r's message. */
void running_say(struct running_reload *r, const char *line);
/* Logs the warnings of a parse and adds them to r (r may be NULL). */
void running_warnings(const struct cfg_errors *errs, struct running_reload *r);

/* Asks the process to reload, as SIGHUP does (from any thread). */
void running_request_reload(void);

/* The process's life and its last reload, for monitoring. */
struct running_status {
	uint64_t started;      /* wall clock, seconds since 1970 */
	uint64_t last_reload;  /* when the last reload ended; 0: none yet */
	bool last_reload_ok;   /* true when there was none yet */
	uint64_t last_success; /* the last successful load (start-up counts) */
	uint64_t reloads_ok, reloads_refused;
	char last_error[512]; /* the first line of the last refusal's reasons */
	bool draining;        /* stopping: no new connections */
};
void running_status(struct running_status *st);
/* Says that pinhole drains (SIGTERM): /healthz answers 503 from then on. */
void running_set_draining(void);

#endif
