/*
 * client.h - pinhole as the client of a parent proxy's authentication:
 * the challenges of the parent's 407 (Proxy-Authenticate values, parsed
 * strictly: they are untrusted bytes), the strongest scheme pinhole can
 * answer (Negotiate, NTLM, Digest, Basic), the Proxy-Authorization of each
 * leg, and the memory of a success that lets Basic and Digest go
 * pre-emptively.  It knows no connection: the request path (parent.c)
 * sends what it returns on the connection it belongs to.
 */
#ifndef PINHOLE_AUTH_CLIENT_H
#define PINHOLE_AUTH_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htdigest.h"

struct strbuf;

/* In the order of strength: the strongest offered that pinhole can do is
 * the one answered. */
enum auth_client_scheme {
	AUTH_CLIENT_NONE,
	AUTH_CLIENT_BASIC,
	AUTH_CLIENT_DIGEST,
	AUTH_CLIENT_NTLM,
	AUTH_CLIENT_NEGOTIATE,
	AUTH_CLIENT_NSCHEMES,
};
/* "Basic", "Digest", "NTLM", "Negotiate" ("none" for NONE). */
const char *auth_client_scheme_name(enum auth_client_scheme s);
/* NTLM and Negotiate authenticate the connection, not the request. */
bool auth_client_connection_based(enum auth_client_scheme s);

/* Longest Digest parameter value kept (realm, nonce, opaque). */
#define AUTH_CLIENT_PARAM_MAX 256

/* A base64 token as the header carries it; points into the header. */
struct auth_client_token {
	const char *p;
	size_t len;
};

/* What a 407 offers. */
struct auth_client_challenges {
	unsigned offered; /* 1u << scheme for each scheme pinhole knows */
	char names[96];   /* every scheme offered, as named, in order: "Negotiate, Basic" */
	/* The best Digest challenge pinhole can answer (SHA-256 before MD5;
	 * digest false: none). */
	bool digest;
	enum htdigest_alg digest_alg;
	bool digest_sess;     /* MD5-sess, SHA-256-sess */
	bool digest_qop_auth; /* qop lists auth; else no qop (RFC 2069) */
	bool digest_stale;
	bool digest_userhash;
	char realm[AUTH_CLIENT_PARAM_MAX];
	char nonce[AUTH_CLIENT_PARAM_MAX];
	char opaque[AUTH_CLIENT_PARAM_MAX];
	bool has_opaque;
	struct auth_client_token ntlm;      /* after "NTLM ": a Type 2 (len 0: none) */
	struct auth_client_token negotiate; /* after "Negotiate ": the next leg's token */
};

/* Starts an empty set of challenges. */
void auth_client_challenges_init(struct auth_client_challenges *ch);
/* Adds the challenges of one Proxy-Authenticate value (RFC 9110 11.6.1:
 * a list of challenges, each a scheme and a token68 or auth-params).
 * Unknown schemes are named in ch->names but not offered.  0, or -1 with
 * *why when the value is malformed (what came before stays in ch). */
int auth_client_parse(struct auth_client_challenges *ch, const char *value, size_t len, const char **why);

struct auth_client_creds {
	const char *user; /* "alice" or "DOMAIN\alice"; NULL: no credentials */
	const char *password;
	uint64_t id; /* distinguishes identities (pre-emptive answers are per identity) */
};

/* The request being authenticated. */
struct auth_client_request {
	const char *method; /* "CONNECT", "GET" */
	const char *uri;    /* as in the request line: "host:port" or an absolute URI */
	const char *host;   /* the parent's host name: Negotiate asks for HTTP@host */
	const struct auth_client_creds *creds;
	uint64_t now_ms; /* wall clock (the NTLMv2 timestamp) */
};

/* One request's authentication to a parent: the scheme chosen and where
 * its handshake is. */
struct auth_client;
struct auth_client *auth_client_new(void);
void auth_client_free(struct auth_client *ac);
/* The scheme last answered (NONE before the first answer). */
enum auth_client_scheme auth_client_scheme(const struct auth_client *ac);

enum auth_client_status {
	AUTH_CLIENT_ANSWER,         /* send the request again with out as its Proxy-Authorization */
	AUTH_CLIENT_NO_CREDENTIALS, /* nothing offered is a scheme pinhole has credentials for */
	AUTH_CLIENT_REFUSED,        /* the parent refused what pinhole sent */
	AUTH_CLIENT_FAILED,         /* the handshake failed on pinhole's side, or went on too long */
};
/* The parent answered 407 with ch: the next leg.  out gets the
 * Proxy-Authorization value ("Basic ...", "NTLM ..."); why (never a
 * secret) says what is wrong otherwise.  Negotiate asks the Kerberos
 * library for a ticket (KRB5CCNAME, or a client keytab through
 * KRB5_CLIENT_KTNAME), which may ask the KDC. */
enum auth_client_status auth_client_answer(struct auth_client *ac, const struct auth_client_request *rq,
                                           const struct auth_client_challenges *ch, struct strbuf *out, char *why,
                                           size_t whylen);

/* What a parent accepted, so that the next requests to it carry Basic or
 * Digest from the start.  One per parent, shared by the workers. */
struct auth_client_cache {
	pthread_mutex_t lock;
	enum auth_client_scheme scheme; /* NONE: nothing to send */
	uint64_t creds_id;
	enum htdigest_alg alg;
	bool sess, qop_auth, userhash, has_opaque;
	char realm[AUTH_CLIENT_PARAM_MAX];
	char nonce[AUTH_CLIENT_PARAM_MAX];
	char opaque[AUTH_CLIENT_PARAM_MAX];
	uint32_t nc; /* the last nonce count used with nonce */
};
void auth_client_cache_init(struct auth_client_cache *cache);
void auth_client_cache_destroy(struct auth_client_cache *cache);
/* The parent's answer to what ac sent was not a 407: a Basic or Digest
 * answer is remembered for creds. */
void auth_client_remember(struct auth_client_cache *cache, const struct auth_client *ac,
                          const struct auth_client_creds *creds);
/* The parent refused what it once accepted: nothing goes pre-emptively
 * any more. */
void auth_client_forget(struct auth_client_cache *cache);
/* A new request: the pre-emptive answer for it, if a success was
 * remembered for rq->creds (true; ac notes it was sent). */
bool auth_client_preempt(struct auth_client_cache *cache, struct auth_client *ac, const struct auth_client_request *rq,
                         struct strbuf *out);

#endif
