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

#include "cfgparse.h"

struct auth_config; /* the auth directives of one configuration */
struct auth_conn;   /* one client connection's handshakes and proven user */

enum auth_status {
	AUTH_OK,        /* res->user is authenticated */
	AUTH_CHALLENGE, /* answer 407 with res->headers; keep the connection */
	AUTH_DENIED,    /* wrong or malformed credentials: 407 with res->headers */
	AUTH_BROKEN,    /* the verifier itself failed (helper, keytab): 502 */
	AUTH_PENDING,   /* a helper is asked: req->wake() is called when it answers,
	                 * then the same request is checked again */
};

struct loop;
/* One worker's helper processes (`auth SCHEME helper "CMD"`), shared by
 * every configuration the worker runs, so a reload does not restart them. */
struct auth_worker;
struct auth_worker *auth_worker_new(struct loop *loop);
/* Stops the helpers (outside the loop's callbacks), after waiting for the
 * slow checks still running. */
void auth_worker_free(struct auth_worker *aw);
/* Finishes the slow checks (bcrypt, ...) done on other threads: called on
 * the worker's loop thread whenever the loop is woken. */
void auth_worker_run(struct auth_worker *aw);
/* Stops the helpers that ac (the new configuration) no longer names and
 * that have nothing in flight; the others are looked at again next time. */
void auth_worker_retain(struct auth_worker *aw, const struct auth_config *ac);

/* What the request path knows of the request. */
struct auth_request {
	const char *method;
	const char *uri; /* request target as sent (host:port for CONNECT) */
	size_t uri_len;
	const char *authorization; /* Proxy-Authorization value, NULL when absent */
	size_t authorization_len;
	uint64_t now_ms; /* wall clock */
	/* Helper modes: the worker whose helpers answer, and how to tell the
	 * request path that an answer came (AUTH_PENDING).  NULL worker: helper
	 * modes answer AUTH_BROKEN. */
	struct auth_worker *worker;
	void (*wake)(void *arg);
	void *wake_arg;
};

struct auth_result {
	enum auth_status status;
	char user[256];      /* AUTH_OK: who */
	const char *scheme;  /* the scheme that answered, for logs and metrics */
	struct buf headers;  /* "Proxy-Authenticate: ...\r\n" lines for a 407 */
	char reason[200];    /* why it failed, for the error log: never a secret */
	char wrong_spn[128]; /* Negotiate: the service a ticket named that the keytab lacks ("" = none) */
};

/* The auth and auth-realm directives (settings: struct auth_config). */
extern const struct cfg_section auth_section;

/* Configuration: one `auth` or `auth-realm` directive (argv without the
 * directive name); *ac is made when NULL.  0, or -1 with errs filled. */
int auth_config_directive(struct auth_config **ac, const char *directive, char **argv, int argc, const char *file,
                          int line, struct cfg_errors *errs);
/* Checks what only the whole configuration can tell (a realm set but no
 * scheme, ...).  0 or -1. */
int auth_config_finish(struct auth_config *ac, const char *file, struct cfg_errors *errs);
void auth_config_free(struct auth_config *ac);
/* Whether any scheme is configured (NULL: none). */
bool auth_config_enabled(const struct auth_config *ac);
/* Whether the scheme of this directive keyword ("basic", "negotiate", ...)
 * is configured. */
bool auth_config_has_scheme(const struct auth_config *ac, const char *keyword);
/* The configured schemes' names, in order, separated by spaces ("Basic NTLM"). */
void auth_config_schemes(const struct auth_config *ac, char *out, size_t cap);
/* Appends the auth directives, secrets redacted, for /config. */
struct strbuf;
void auth_config_dump(const struct auth_config *ac, struct strbuf *out);

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
