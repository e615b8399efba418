/*
 * auth.h - the one interface between the request path and proxy
 * authentication.  The request path hands over the Proxy-Authorization
 * value and gets back a user, a challenge to send with a 407, or a
 * refusal; it knows nothing of the schemes behind (auth/scheme.h).
 */
#ifndef PINHOLE_AUTH_H
#define PINHOLE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"

struct cfg_errors;
struct auth_config; /* the auth directives of one configuration */
struct auth_conn;   /* one client connection's handshakes and proven user */

enum auth_status {
	AUTH_OK,        /* res->user is authenticated */
	AUTH_CHALLENGE, /* answer 407 with res->headers; keep the connection */
	AUTH_DENIED,    /* wrong or malformed credentials: 407 with res->headers */
	AUTH_BROKEN,    /* the verifier itself failed (helper, keytab): 502 */
};

/* What the request path knows of the request. */
struct auth_request {
	const char *method;
	const char *uri; /* request target as sent (host:port for CONNECT) */
	size_t uri_len;
	const char *authorization; /* Proxy-Authorization value, NULL when absent */
	size_t authorization_len;
	uint64_t now_ms; /* wall clock */
};

struct auth_result {
	enum auth_status status;
	char user[256];     /* AUTH_OK: who */
	const char *scheme; /* the scheme that answered, for logs and metrics */
	struct buf headers; /* "Proxy-Authenticate: ...\r\n" lines for a 407 */
	char reason[200];   /* why it failed, for the error log: never a secret */
};

/* Configuration: config.c hands every `auth` and `auth-realm` directive
 * here (argv without the directive name).  0, or -1 with errs filled. */
int auth_config_directive(struct auth_config **ac, const char *directive, char **argv, int argc, const char *file,
                          int line, struct cfg_errors *errs);
/* Checks what only the whole configuration can tell (a realm set but no
 * scheme, ...).  0 or -1. */
int auth_config_finish(struct auth_config *ac, const char *file, struct cfg_errors *errs);
void auth_config_free(struct auth_config *ac);
/* Whether any scheme is configured (NULL: none). */
bool auth_config_enabled(const struct auth_config *ac);
/* Appends the auth directives, secrets redacted, for /config. */
void auth_config_dump(const struct auth_config *ac, struct buf *out);

/* Per connection. */
struct auth_conn *auth_conn_new(void);
void auth_conn_free(struct auth_conn *conn);
/* The user this connection proved with a connection-bound scheme (NTLM,
 * Negotiate), or NULL. */
const char *auth_conn_user(const struct auth_conn *conn);

/* Decides about one request (ac must be non-NULL).  res is initialised
 * here; the caller releases res->headers. */
enum auth_status auth_check(const struct auth_config *ac, struct auth_conn *conn, const struct auth_request *req,
                            struct auth_result *res);

/* The challenges of a fresh 407 (one Proxy-Authenticate per scheme, in
 * configuration order). */
void auth_challenges(const struct auth_config *ac, struct buf *out);

#endif
