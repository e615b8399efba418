/*
 * helpmode.h - the `auth SCHEME helper "CMD"` form of every scheme (inside
 * auth/ only): its options, the helper processes of each worker, and the
 * asynchronous questions a connection asks them.  helper.c speaks the
 * protocol; this file decides what a reply means for a request.
 *
 * A question makes the scheme answer AUTH_PENDING; when the reply comes the
 * request's wake() is called on the worker's loop, the request path runs the
 * same request again, and the scheme finds the answer waiting in the
 * connection's session.
 */
#ifndef PINHOLE_AUTH_HELPMODE_H
#define PINHOLE_AUTH_HELPMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "helper.h"

#define HELPMODE_CHILDREN_DEFAULT 5
#define HELPMODE_TIMEOUT_DEFAULT_MS 10000
#define HELPMODE_RESERVATION_DEFAULT_MS 30000

struct helpmode_cfg {
	char *cmd;
	int children;
	int concurrency;         /* 0: one request at a time per child, no channel-ID */
	uint64_t timeout_ms;     /* per answer */
	uint64_t reservation_ms; /* NTLM, Negotiate: idle time a handshake may hold its child */
};

/* Parses `helper "CMD" [children N] [concurrency N] [timeout DURATION]
 * [reservation-timeout DURATION]` (argv[0] is "helper"); extra names other
 * options the scheme itself takes (NULL-terminated, e.g. {"cache", NULL}):
 * their values are left for the scheme, which finds them with
 * helpmode_option().  stateful: the scheme reserves a child per handshake
 * (reservation-timeout allowed, concurrency not).  0 or -1 with errs. */
int helpmode_parse(struct helpmode_cfg *hc, const char *scheme, char **argv, int argc, bool stateful,
                   const char *const *extra, const char *file, int line, struct cfg_errors *errs);
/* The value of option name in argv (after the command), or NULL. */
const char *helpmode_option(char **argv, int argc, const char *name);
void helpmode_cfg_free(struct helpmode_cfg *hc);
/* Appends " helper \"CMD\" children N ..." (no newline). */
struct strbuf;
void helpmode_dump(const struct helpmode_cfg *hc, struct strbuf *out);

/* A question of one connection (Basic: "user password", Digest:
 * "\"user\":\"realm\"", a leg of an NTLM/Negotiate handshake), and its
 * answer once it came. */
struct helpmode_call {
	struct helper_req *req; /* in flight; NULL otherwise */
	unsigned char key[32];  /* SHA-256 of what was asked */
	bool asked, done;
	bool failed; /* the helper itself failed: reply NULL */
	enum helper_code code;
	char user[256];
	char ha1[72];
	char *token;   /* TT/AF token (handshakes), NULL if none */
	char why[200]; /* message or failure, for the error log */
	void (*wake)(void *arg);
	void *wake_arg;
};

enum helpmode_ask {
	HELPMODE_ANSWER,  /* call holds the answer to this very question */
	HELPMODE_PENDING, /* asked (now or before); wake() follows */
	HELPMODE_BROKEN,  /* could not ask: why is filled */
};
/* Asks line (unless the same line was asked already) with the pool of this
 * configuration on req's worker. */
enum helpmode_ask helpmode_ask(struct helpmode_call *call, const struct helpmode_cfg *hc,
                               const struct auth_request *req, const char *line, char *why, size_t whylen);
/* Forgets the answer (and cancels a question in flight). */
void helpmode_call_reset(struct helpmode_call *call);

/* Work too slow for a worker's loop (a bcrypt check): done on one of a few
 * threads shared by the process, then finished on the worker's loop. */
struct auth_job {
	void (*work)(struct auth_job *j);    /* on a pool thread */
	void (*done)(struct auth_job *j);    /* on the worker's loop thread, unless cancelled */
	void (*release)(struct auth_job *j); /* frees the job (on the worker's loop thread) */
	bool cancelled;                      /* set and read on the worker's loop thread only */
	struct auth_worker *aw;
	struct auth_job *next;
};
/* Hands j to the pool; false when no thread could be started (then do the
 * work inline). */
bool auth_job_submit(struct auth_worker *aw, struct auth_job *j);
/* The connection went away: done() will not be called, release() will. */
void auth_job_cancel(struct auth_job *j);

/* NTLM and Negotiate: one reserved child per handshake, YR for its first
 * leg and KK for the next ones.  leg: 1 = a new handshake (NTLM Type 1),
 * 0 = a continuation (NTLM Type 3: refused without a handshake in
 * progress), -1 = a continuation if a handshake is in progress, else a new
 * one (Negotiate).  Fills res as scheme.h's step does; AUTH_PENDING while
 * the helper thinks. */
struct helpmode_session;
enum auth_status helpmode_stateful_step(const struct helpmode_cfg *hc, struct helpmode_session **sp, const char *scheme,
                                        int leg, const struct auth_request *req, const char *cred, size_t len,
                                        struct auth_result *res);
void helpmode_session_free(struct helpmode_session *s);

#endif
