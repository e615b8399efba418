/*
 * scheme.h - what an authentication scheme implements (inside auth/ only).
 * auth.c keeps the configured schemes in order, routes a Proxy-Authorization
 * value to the scheme it names, and keeps each connection's sessions.
 */
#ifndef PINHOLE_AUTH_SCHEME_H
#define PINHOLE_AUTH_SCHEME_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "base64.h"

struct strbuf;

struct auth_scheme_ops {
	const char *name;    /* as in the header: "Basic", "Digest", "NTLM", "Negotiate" */
	const char *keyword; /* as in the directive: "basic", "digest", "ntlm", "negotiate" */
	/* true: success authenticates the connection (NTLM, Negotiate);
	 * false: every request carries its credentials (Basic, Digest). */
	bool connection_bound;

	/* Parses "auth KEYWORD argv...".  *state is NULL the first time this
	 * scheme appears; a scheme may take several directives (Digest's
	 * `file` and `nonce-secret`) into the same state.  0 or -1 with an
	 * error reported through cfg_error(errs, file, line, ...). */
	int (*configure)(void **state, char **argv, int argc, const char *file, int line, struct cfg_errors *errs);
	/* Called once the whole configuration is read. */
	int (*finish)(void *state, const char *file, struct cfg_errors *errs);
	void (*free)(void *state);
	/* Appends this scheme's directives (secrets redacted). */
	void (*dump)(const void *state, struct strbuf *out);

	/* Appends "Proxy-Authenticate: NAME ...\r\n" for a fresh challenge. */
	void (*challenge)(const void *state, const char *realm, struct buf *out);

	/* One step.  cred/len: the Proxy-Authorization value after "NAME "
	 * (leading spaces skipped).  *session: this connection's state for the
	 * scheme (NULL at first; the scheme allocates it, session_free frees
	 * it).  Fills res: AUTH_OK with res->user, AUTH_CHALLENGE with the next
	 * leg's Proxy-Authenticate line in res->headers, AUTH_DENIED with
	 * res->reason (auth.c adds the fresh challenges), AUTH_BROKEN. */
	enum auth_status (*step)(const void *state, void **session, const char *realm, const struct auth_request *req,
	                         const char *cred, size_t len, struct auth_result *res);
	void (*session_free)(void *session);
	/* The helper this scheme asks (`auth KEYWORD helper`), or NULL. */
	const struct helpmode_cfg *(*helper)(const void *state);
};

struct helpmode_cfg;
/* The helpers the schemes of ac ask (at most cap); how many. */
size_t auth_config_helpers(const struct auth_config *ac, const struct helpmode_cfg **out, size_t cap);

extern const struct auth_scheme_ops auth_basic_ops;
extern const struct auth_scheme_ops auth_digest_ops;
extern const struct auth_scheme_ops auth_ntlm_ops;
extern const struct auth_scheme_ops auth_negotiate_ops;

/* Shared helpers (auth/util.c). */
/* Constant-time comparison of equal-length buffers. */
bool auth_ct_equal(const void *a, const void *b, size_t len);
/* Appends a space and w as the config tokenizer reads it back (quoted
 * when needed). */
void auth_dump_arg(struct strbuf *out, const char *w);
/* Reads a whole small file (credential stores, secrets); NULL with errno. */
char *auth_read_file(const char *path, size_t max, size_t *len);

#endif
