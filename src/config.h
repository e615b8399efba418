/*
 * config.h - the parsed configuration.  A struct config is immutable once
 * loaded and reference-counted: workers take a reference per request, a
 * reload swaps the running one, and the old config is freed when its last
 * request ends.  config.c reads the file (tokenizer, include, preset) and
 * hands each directive to the module that owns it: every module keeps its
 * settings in a struct of its own, parsed by its cfg_section (cfgparse.h).
 */
#ifndef PINHOLE_CONFIG_H
#define PINHOLE_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "cfgparse.h"

/* preset NAME [ARG]: which vendor presets the configuration uses. */
struct preset_use {
	char *name; /* "webex", "tokbox", "cms" */
	char *arg;  /* cms: the Expressway-E host name (normalised); else NULL */
	const char *file;
	int line;
	const char *preset_file; /* the preset's own file (interned): what it added names it */
};

struct config {
	atomic_int refs;
	uint64_t generation; /* increases with every successful load */
	char *path;          /* NULL for the embedded default */

	/* Each module's settings: the module's header defines the struct,
	 * its cfg_section parses, checks, dumps and frees it. */
	struct server_settings *server;       /* listen, workers, user, timeout, max-*: server.h */
	struct admin_settings *admin;         /* admin, admin-auth, admin-host: admin_cfg.h */
	struct log_settings *log;             /* access-log, error-log, log-level: log.h */
	struct dns_settings *dns;             /* hosts-file, dns-server: dns.h */
	struct quirks *quirks;                /* quirk: quirks.h */
	struct acl_settings *acl;             /* allow, deny, noauth: acl.h */
	struct auth_config *auth;             /* auth, auth-realm: auth.h */
	struct turn_settings *turn;           /* turn-server: turn.h */
	struct tls_settings *tls;             /* tls-inspect, inspect, no-inspect, pinning-learn, ...: tls.h */
	struct surrogate_settings *surrogate; /* auth-surrogate: surrogate.h */
	struct selfcheck_settings *selfcheck; /* self-check: selfcheck_cfg.h */
	struct upstream_settings *upstream;   /* upstream-proxy: upstream.h */

	struct preset_use *presets;
	size_t npresets;

	/* Every file that was read (the main file and includes), interned:
	 * rule->file points into this list. */
	char **files;
	size_t nfiles;
};

/* The embedded default configuration's text (SPEC.md: listen 127.0.0.1:3128,
 * admin 127.0.0.1:3129, no auth, allow everything, access log to stdout). */
extern const char config_default_text[];

/* Loads path (or, with path == NULL, the embedded default).  Returns the
 * config with one reference, or NULL with errs filled. */
struct config *config_load(const char *path, struct cfg_errors *errs);
/* The same, but a file with errors still gives what parsed (NULL only
 * when it cannot be read): for `pinhole reload`, which needs the pid-file
 * of a file the running instance may refuse.  Never to run with. */
struct config *config_load_partial(const char *path, struct cfg_errors *errs);
/* Parses text as if it were the file named name (includes are resolved
 * relative to name's directory).  Used by config_load and the fuzzer. */
struct config *config_parse_text(const char *name, const char *text, size_t len, struct cfg_errors *errs);

/* cfg becomes the running configuration: each section's commit. */
void config_commit(const struct config *cfg);
struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/* The effective configuration as text, one directive per line, secrets
 * redacted (for /config and `pinhole validate -v`); the caller frees it. */
char *config_dump(const struct config *cfg);

/* Whether a (address and port) is one of the proxy's own listeners or its
 * admin interface (a wildcard listener: any of this machine's addresses). */
bool config_is_own_listener(const struct config *cfg, const struct sockaddr_storage *a);

#endif
