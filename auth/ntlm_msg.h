/*
 * ntlm_msg.h - the NTLMSSP messages on the wire (MS-NLMP 2.2): strict
 * parsing of the client's NEGOTIATE (Type 1) and AUTHENTICATE (Type 3)
 * messages, building the CHALLENGE (Type 2), and the string encodings they
 * carry; for pinhole as a client of a parent proxy (auth/client.c), the
 * other way round: building Type 1 and Type 3, parsing the Type 2.  No
 * cryptography and no state: ntlm.c and client.c decide, ntlm_users.c
 * hashes.
 */
#ifndef PINHOLE_NTLM_MSG_H
#define PINHOLE_NTLM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Larger decoded messages are refused: a real Type 3 with a long target
 * info list stays well under 2 KiB. */
#define NTLM_MSG_MAX 4096

/* NegotiateFlags (MS-NLMP 2.2.2.5) that pinhole reads or answers. */
#define NTLM_NEGOTIATE_UNICODE 0x00000001u
#define NTLM_NEGOTIATE_OEM 0x00000002u
#define NTLM_REQUEST_TARGET 0x00000004u
#define NTLM_NEGOTIATE_NTLM 0x00000200u
#define NTLM_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLM_TARGET_TYPE_DOMAIN 0x00010000u
#define NTLM_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLM_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLM_NEGOTIATE_VERSION 0x02000000u
#define NTLM_NEGOTIATE_128 0x20000000u
#define NTLM_NEGOTIATE_56 0x80000000u

/* AvId values of the target info list (MS-NLMP 2.2.2.1). */
enum ntlm_av_id {
	NTLM_AV_EOL = 0,
	NTLM_AV_NB_COMPUTER = 1,
	NTLM_AV_NB_DOMAIN = 2,
	NTLM_AV_DNS_COMPUTER = 3,
	NTLM_AV_DNS_DOMAIN = 4,
	NTLM_AV_TIMESTAMP = 7,
};

/* One payload field of a message: points into the parsed bytes. */
struct ntlm_field {
	const uint8_t *p;
	size_t len;
};

struct ntlm_type1 {
	uint32_t flags;
};

/* A server's CHALLENGE as a client reads it. */
struct ntlm_type2 {
	uint32_t flags;
	uint8_t challenge[8];
	struct ntlm_field target_name;
	struct ntlm_field target_info; /* the AV pairs, MsvAvEOL included */
	bool has_timestamp;            /* target_info holds MsvAvTimestamp */
	uint64_t timestamp;            /* its FILETIME */
};

struct ntlm_type3 {
	uint32_t flags;
	bool unicode;         /* the strings are UTF-16LE, else OEM bytes */
	struct ntlm_field lm; /* LmChallengeResponse */
	struct ntlm_field nt; /* NtChallengeResponse */
	struct ntlm_field domain;
	struct ntlm_field user;
	struct ntlm_field workstation;
	struct ntlm_field session_key; /* EncryptedRandomSessionKey (unused) */
};

/* What the CHALLENGE announces about this server.  ASCII names; the
 * NetBIOS ones upper-case, the DNS ones lower-case. */
struct ntlm_names {
	const char *nb_domain;
	const char *nb_computer;
	const char *dns_domain;
	const char *dns_computer;
};

/* The message type (1, 2, 3) of a signed message, else 0. */
int ntlm_msg_type(const uint8_t *m, size_t len);

/* 0, or -1 with *why saying what is wrong (for "malformed NTLM message:
 * <why>").  The fields of a Type 3 point into m. */
int ntlm_msg_parse_type1(const uint8_t *m, size_t len, struct ntlm_type1 *t1, const char **why);
int ntlm_msg_parse_type3(const uint8_t *m, size_t len, struct ntlm_type3 *t3, const char **why);

/* Writes the CHALLENGE answering a client that sent client_flags; returns
 * its length (0 if cap is too small) and the flags it chose in *flags. */
size_t ntlm_msg_build_type2(uint32_t client_flags, const uint8_t challenge[8], uint64_t filetime,
                            const struct ntlm_names *names, uint8_t *out, size_t cap, uint32_t *flags);

/* The NEGOTIATE a client sends first (Unicode or OEM, NTLM, extended
 * session security, no domain or workstation): its length, 0 if cap is
 * too small. */
size_t ntlm_msg_build_type1(uint8_t *out, size_t cap);
/* A server's CHALLENGE: 0, or -1 with *why.  The fields point into m. */
int ntlm_msg_parse_type2(const uint8_t *m, size_t len, struct ntlm_type2 *t2, const char **why);
/* The AUTHENTICATE carrying t3's fields and flags (no version, no MIC):
 * its length, 0 if cap is too small. */
size_t ntlm_msg_build_type3(const struct ntlm_type3 *t3, uint8_t *out, size_t cap);

/* A Type 3 string as UTF-8 (OEM strings must be ASCII or UTF-8).  0, or -1
 * with *why when it is not text or does not fit in cap (NUL included). */
int ntlm_msg_string_utf8(const struct ntlm_field *f, bool unicode, char *out, size_t cap, const char **why);

/* UNICODE(Uppercase(user) || domain), the NTOWFv2 salt (MS-NLMP 3.3.2),
 * from the strings exactly as the client sent them.  The length, or 0 if
 * cap is too small. */
size_t ntlm_msg_v2_identity(const struct ntlm_type3 *t3, uint8_t *out, size_t cap);

/* Simple (one to one) upper-case mapping of the Unicode letters office user
 * names use: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. */
uint32_t ntlm_msg_upcase(uint32_t cp);
/* UTF-8 to UTF-16LE; the length in bytes, or -1 when in is not UTF-8 or
 * does not fit. */
long ntlm_msg_utf8_to_utf16(const char *in, size_t len, uint8_t *out, size_t cap);
/* The upper-cased copy of a UTF-8 string, for case-insensitive lookups; 0
 * or -1 (not UTF-8, or too long). */
int ntlm_msg_fold_utf8(const char *in, char *out, size_t cap);

#endif
