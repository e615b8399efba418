/*
 * server.h - the proxy server's own settings: its listeners (plain HTTP,
 * or TLS with a certificate: listen_tls.h), worker threads, the user it
 * runs as, its pid file, its timeouts and limits.  The directives listen,
 * workers, user, pid-file, timeout, max-connections and max-header-size
 * are parsed here (server_section); the engine and the request path read
 * them.
 */
#ifndef PINHOLE_SERVER_H
#define PINHOLE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "cfgparse.h"

/* A listening address: a proxy listener, or the admin interface. */
struct listen_tls;

struct listen_cfg {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool proxy_protocol;
	struct cidr *pp_from; /* proxy-protocol from CIDR...: only these peers may send a header */
	size_t npp_from;
	char *pp_from_text;       /* as written, for /config */
	char *tls_cert, *tls_key; /* tls CERT KEY: absolute paths; NULL = plain HTTP */
	struct listen_tls *tls;   /* loaded from them once the configuration is whole */
	char text[80];            /* as written, e.g. "[::1]:3128" */
	const char *file;
	int line;
};

struct server_settings {
	struct listen_cfg *listens;
	size_t nlistens;
	int workers;    /* 0 = auto (one per CPU) */
	char *user;     /* drop privileges to this user; NULL = stay */
	char *pid_file; /* pid-file FILE (absolute); NULL = none */
	const char *pid_file_file;
	int pid_file_line;
	uint64_t timeout_connect_ms;
	uint64_t timeout_header_ms;
	uint64_t timeout_idle_ms;
	uint64_t timeout_tunnel_idle_ms;
	uint64_t timeout_drain_ms;
	unsigned max_connections;
	size_t max_header_size;
};

/* Defaults applied before any directive (and by the embedded default). */
#define SERVER_DEFAULT_LISTEN "127.0.0.1:3128"
#define SERVER_DEFAULT_TIMEOUT_CONNECT_MS 10000
#define SERVER_DEFAULT_TIMEOUT_HEADER_MS 30000
#define SERVER_DEFAULT_TIMEOUT_IDLE_MS 120000
#define SERVER_DEFAULT_TIMEOUT_TUNNEL_IDLE_MS 3600000
#define SERVER_DEFAULT_TIMEOUT_DRAIN_MS 30000
#define SERVER_DEFAULT_MAX_CONNECTIONS 8192
#define SERVER_DEFAULT_MAX_HEADER_SIZE (64 * 1024)

extern const struct cfg_section server_section;

/* Parses "127.0.0.1:3128", "[::1]:3128", "*:3128" or ":3128" (any
 * address).  PH_OK, or PH_ERROR with *why. */
int server_parse_addr(const char *s, struct sockaddr_storage *addr, socklen_t *len, const char **why);
/* "fe80::1", "fe80::1%eth0" or "fe80::1%2" (a link-local scope) into
 * sin6's address and scope.  PH_OK or PH_ERROR. */
struct sockaddr_in6;
int server_parse_v6(const char *s, struct sockaddr_in6 *sin6);
/* Whether two socket addresses are the same address and port. */
bool server_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
bool server_addr_is_loopback(const struct sockaddr_storage *a);
/* Whether a (address and port) is where l listens (for a wildcard
 * listener: any of this machine's addresses). */
bool server_listens_on(const struct listen_cfg *l, const struct sockaddr_storage *a);
void server_listen_free(struct listen_cfg *l);

#endif
