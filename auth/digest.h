/*
 * digest.h - what digest.c exposes beyond auth_digest_ops: the strict
 * parser of a Digest Proxy-Authorization (for the fuzzer and the tests),
 * the response computation, and the nonce-count replay table.
 */
#ifndef PINHOLE_DIGEST_H
#define PINHOLE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "htdigest.h"

/* Longer credentials are refused before parsing. */
#define DIGEST_CRED_MAX 4096

/* One parameter: its value unescaped and NUL-terminated (s), or s NULL
 * when the parameter is absent. */
struct digest_value {
	const char *s;
	size_t len;
	bool quoted;
};

struct digest_params {
	struct digest_value username;      /* as sent; H(user:realm) in hex when userhash */
	struct digest_value username_star; /* RFC 8187 ext-value, decoded to bytes */
	struct digest_value realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc, userhash_text;
	uint32_t nc_value;
	bool userhash;
	char why[112];                    /* explanations that quote the input */
	char store[DIGEST_CRED_MAX + 16]; /* where the values live */
};

/* Parses the auth-params after "Digest " strictly (RFC 7616 section 3.4,
 * RFC 7235 auth-param lists): each known parameter at most once; unknown
 * ones ignored; username (or username*), realm, nonce, uri, response, qop,
 * cnonce and nc present; nc 8 hex digits; response hex.  0, or -1 with
 * *why saying what is wrong (it may point into out). */
int digest_parse(const char *s, size_t len, struct digest_params *out, const char **why);

/* The request-digest (RFC 7616 section 3.4.1) for qop=auth from the hex
 * HA1, into hex (2 * htdigest_hash_len(alg) + 1 bytes).  -1 when OpenSSL
 * refuses the algorithm. */
int digest_response(enum htdigest_alg alg, const char *ha1_hex, const char *nonce, const char *nc, const char *cnonce,
                    const char *qop, const char *method, const char *uri, char *out);

/* Nonce counts seen, per nonce (its issue time ts and random part rnd):
 * a set-associative table of DIGEST_REPLAY_SETS sets of DIGEST_REPLAY_WAYS
 * nonces, the set chosen by rnd, shared by every configuration of the
 * process (a reload keeps it) and guarded by a mutex.  Each process has its
 * own: a request replayed to another instance sharing the nonce secret is
 * not caught. */
#define DIGEST_REPLAY_SETS 2048
#define DIGEST_REPLAY_WAYS 8
enum digest_replay {
	DIGEST_REPLAY_FRESH,     /* first use of this count: accepted */
	DIGEST_REPLAY_REPLAYED,  /* this count was used already, or is too far behind */
	DIGEST_REPLAY_FORGOTTEN, /* the nonce may have been evicted: ask for a new one */
};
/* Records that nc was used with this nonce (call only after the response
 * verified, so that forged requests cannot spend a client's counts). */
enum digest_replay digest_replay_check(uint64_t ts, uint64_t rnd, uint32_t nc);

#endif
