/*
 * ntlm_users.h - the NTLM users file (`DOMAIN\user:NTHASH` or `user:NTHASH`)
 * and the one-way functions MS-NLMP 3.3 computes from an NT hash.  What a
 * message says and whether it passes is ntlm_msg.c's and ntlm.c's business.
 */
#ifndef PINHOLE_NTLM_USERS_H
#define PINHOLE_NTLM_USERS_H

#include <stddef.h>
#include <stdint.h>

struct cfg_errors;

struct ntlm_user {
	char *user;   /* upper-cased (ntlm_msg_fold_utf8) */
	char *domain; /* upper-cased; NULL: any domain */
	uint8_t nthash[16];
	int line;
};

struct ntlm_users {
	struct ntlm_user *v; /* sorted by user, then domain (NULL first) */
	size_t n;
};

/* Parses a users file's text; every bad line is reported as NAME:LINE.
 * 0 or -1 (u holds the good lines either way; free it). */
int ntlm_users_parse(struct ntlm_users *u, const char *name, const char *text, size_t len, struct cfg_errors *errs);
/* Reads and parses path; a file that cannot be read is reported at the
 * directive's file:line. */
int ntlm_users_load(struct ntlm_users *u, const char *path, const char *file, int line, struct cfg_errors *errs);
void ntlm_users_free(struct ntlm_users *u);

/* The entry for user in domain (UTF-8, "" for none), matched without
 * regard to case; an entry naming the domain wins over an any-domain one. */
const struct ntlm_user *ntlm_users_find(const struct ntlm_users *u, const char *user, const char *domain);

/* The one domain the file's DOMAIN\\user lines name (upper-cased), or NULL
 * when they name none or several: the domain an NTLM challenge announces
 * when the configuration names none. */
const char *ntlm_users_only_domain(const struct ntlm_users *u);

/* The users-file line (no newline) for `pinhole passwd --ntlm`, malloc'd;
 * NULL when a name cannot be written in the file (empty, or holding ':',
 * '\', a control character or invalid UTF-8) or MD4 is unavailable. */
char *ntlm_users_make_line(const char *domain, const char *user, const char *password);

/* NTOWFv1: MD4(UTF-16LE(password)).  0 or -1. */
int ntlm_users_nt_hash(const char *password, uint8_t out[16]);
/* NTOWFv2 = HMAC_MD5(NT hash, identity), identity from
 * ntlm_msg_v2_identity().  0 or -1. */
int ntlm_users_ntowfv2(const uint8_t nthash[16], const uint8_t *identity, size_t len, uint8_t out[16]);
/* HMAC_MD5(NTOWFv2, server challenge || data): the NTProofStr when data is
 * the NTLMv2 blob, the LMv2 response's first half when it is the client
 * challenge.  0 or -1. */
int ntlm_users_v2_proof(const uint8_t ntowfv2[16], const uint8_t challenge[8], const uint8_t *data, size_t len,
                        uint8_t out[16]);
/* DESL(NT hash, data): the NTLMv1 response to challenge data.  0 or -1. */
int ntlm_users_desl(const uint8_t nthash[16], const uint8_t data[8], uint8_t out[24]);
/* The NTLM2 session response: DESL(NT hash, MD5(server || client)[0..7]).
 * 0 or -1. */
int ntlm_users_ntlm2_session(const uint8_t nthash[16], const uint8_t server[8], const uint8_t client[8],
                             uint8_t out[24]);

#endif
