/*
 * config.h - the parsed configuration.  A struct config is immutable once
 * loaded and reference-counted: workers take a reference per request, a
 * reload swaps the global pointer, and the old config is freed when its last
 * request ends.  Parsing is table-driven (config.c): one entry per directive.
 */
#ifndef PINHOLE_CONFIG_H
#define PINHOLE_CONFIG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "acl.h"

struct auth_config;
struct tls_config;

/* Errors collected while parsing: each one "FILE:LINE: message". */
struct cfg_errors {
	char **msgs;
	size_t n;
};
void cfg_error(struct cfg_errors *errs, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void cfg_errors_free(struct cfg_errors *errs);
/* Added for "did you mean": the edit distance of a and b (insertions,
 * deletions, substitutions and swaps of neighbours), and the name in
 * names[0..n-1] closest to word if it is within 2 edits, else NULL. */
int cfg_edit_distance(const char *a, const char *b);
const char *cfg_suggest(const char *word, const char *const *names, size_t n);

struct listen_cfg {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool proxy_protocol;
	struct cidr *pp_from; /* proxy-protocol from CIDR...: only these peers may send a header */
	size_t npp_from;
	char *pp_from_text; /* as written, for /config */
	char text[80];      /* as written, e.g. "[::1]:3128" */
	const char *file;
	int line;
};

enum access_log_format {
	ACCESS_LOG_SQUID,
	ACCESS_LOG_JSON,
};

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* hosts-file: static name -> addresses, consulted before DNS. */
#define HOSTS_MAX_ADDRS 8
struct hosts_entry {
	char *name; /* normalised (acl_host_normalise) */
	size_t naddrs;
	struct sockaddr_storage addrs[HOSTS_MAX_ADDRS]; /* port 0 */
};
struct hosts {
	struct hosts_entry *entries;
	size_t n;
};
/* The entry for a host name, or NULL (case and a trailing dot do not matter). */
const struct hosts_entry *hosts_lookup(const struct hosts *h, const char *name);

/* Quirks: reproduce known-broken proxy behaviour on purpose. */
struct quirks {
	bool http10_connect;   /* answer CONNECT with HTTP/1.0 */
	bool no_websocket;     /* refuse Upgrade */
	uint64_t idle_cut_ms;  /* cut tunnels idle this long (0 = off) */
	uint64_t throttle_bps; /* bytes per second per direction (0 = off) */
	uint64_t delay_ms;     /* delay every answer by this much (0 = off) */
	bool close_after_407;  /* close the connection after every 407 */
	bool strict_tls;       /* close tunnels whose first client bytes are not a TLS ClientHello */
	bool inspect_all;      /* ignore no-inspect and what was learned */
	bool auth_everything;  /* ignore noauth */
};

/* turn-server HOST[:PORT]: a TURN server of the admin's own (or a preset's),
 * so the report recognises WebRTC media tunnels to it. */
struct turn_server {
	char *host;    /* normalised (acl_host_normalise) */
	uint16_t port; /* 0 = any port */
	const char *file;
	int line;
};

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

	struct listen_cfg *listens;
	size_t nlistens;

	bool has_admin;
	struct listen_cfg admin;
	char *admin_htpasswd;
	char **admin_hosts; /* admin-host NAME...: further Host names the admin interface answers to */
	size_t nadmin_hosts;

	int workers; /* 0 = auto (one per CPU) */
	char *user;  /* drop privileges to this user; NULL = stay */

	char *access_log; /* "stdout", a path, or NULL for none */
	enum access_log_format access_log_format;
	char *error_log; /* "stderr", "syslog" or a path */
	enum log_level log_level;

	char *hosts_file;
	struct hosts hosts;
	char *dns_servers; /* c-ares CSV "1.2.3.4:53,[::1]:53"; NULL = resolv.conf */

	uint64_t timeout_connect_ms;
	uint64_t timeout_header_ms;
	uint64_t timeout_idle_ms;
	uint64_t timeout_tunnel_idle_ms;
	uint64_t timeout_drain_ms;
	unsigned max_connections;
	size_t max_header_size;

	struct rule *rules; /* allow/deny, in order */
	size_t nrules;

	struct auth_config *auth; /* auth and auth-realm (auth/auth.h); NULL = no authentication */
	struct rule *noauth;      /* requests matching one of these skip authentication */
	size_t nnoauth;

	struct quirks quirks;

	/* TLS inspection (tls.h); tls is NULL when tls-inspect is absent. */
	char *tls_ca_cert, *tls_ca_key; /* absolute */
	const char *tls_file;           /* where tls-inspect is */
	int tls_line;
	char *tls_trust;      /* CA bundle for origins; NULL = the system's */
	struct rule *inspect; /* inspect MATCHERS; none = everything not bypassed */
	size_t ninspect;
	struct domain_pattern *no_inspect;
	size_t nno_inspect;
	char **no_inspect_text; /* as written, for /config */
	bool pinning_learn;
	unsigned pinning_after;      /* certificate alerts before a domain is learned */
	unsigned pinning_clients;    /* from at least this many client addresses */
	uint64_t pinning_expire_ms;  /* a learned domain is forgotten this long after its last evidence */
	bool sni_mismatch_deny;      /* sni-mismatch deny: close tunnels whose SNI names another host */
	const char *pinning_file, *inspect_all_file; /* where pinning-learn on and quirk inspect-all are */
	int pinning_line, inspect_all_line;
	char *state_dir;
	struct tls_config *tls;

	struct turn_server *turn_servers;
	size_t nturn_servers;
	struct preset_use *presets;
	size_t npresets;

	/* Every file that was read (the main file and includes), interned:
	 * rule->file points into this list. */
	char **files;
	size_t nfiles;
};

/* Defaults applied before any directive (and by the embedded default). */
#define CONFIG_DEFAULT_TIMEOUT_CONNECT_MS 10000
#define CONFIG_DEFAULT_TIMEOUT_HEADER_MS 30000
#define CONFIG_DEFAULT_TIMEOUT_IDLE_MS 120000
#define CONFIG_DEFAULT_TIMEOUT_TUNNEL_IDLE_MS 3600000
#define CONFIG_DEFAULT_TIMEOUT_DRAIN_MS 30000
#define CONFIG_DEFAULT_MAX_CONNECTIONS 8192
#define CONFIG_DEFAULT_MAX_HEADER_SIZE (64 * 1024)

/* The embedded default configuration's text (SPEC.md: listen 127.0.0.1:3128,
 * admin 127.0.0.1:3129, no auth, allow everything, access log to stdout). */
extern const char config_default_text[];

/* Loads path (or, with path == NULL, the embedded default).  Returns the
 * config with one reference, or NULL with errs filled. */
struct config *config_load(const char *path, struct cfg_errors *errs);
/* Parses text as if it were the file named name (includes are resolved
 * relative to name's directory).  Used by config_load and the fuzzer. */
struct config *config_parse_text(const char *name, const char *text, size_t len, struct cfg_errors *errs);

struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/* The effective configuration as text, one directive per line, secrets
 * redacted (for /config and `pinhole validate -v`); the caller frees it. */
char *config_dump(const struct config *cfg);

/* Whether a (address and port) is one of the proxy's own listeners or its
 * admin interface (a wildcard listener: any of this machine's addresses). */
bool config_is_own_listener(const struct config *cfg, const struct sockaddr_storage *a);

/* Parses "30s", "5m", "1h", "7d", "250ms" or a bare number of seconds. */
int config_parse_duration(const char *s, uint64_t *ms);
/* Parses "64k", "1M", or bytes. */
int config_parse_size(const char *s, uint64_t *bytes);
/* Parses "127.0.0.1:3128", "[::1]:3128", "*:3128" or ":3128" (any address). */
int config_parse_listen_addr(const char *s, struct sockaddr_storage *addr, socklen_t *len);

#endif
