/*
 * htdigest.h - the Digest credential store: files as Apache's htdigest
 * writes them (user:realm:HA1-MD5), optionally with a fourth HA1-SHA-256
 * field, and the hashes Digest needs (H, hex).  No protocol here: digest.c
 * owns challenges and verification.
 */
#ifndef PINHOLE_HTDIGEST_H
#define PINHOLE_HTDIGEST_H

#include <stdbool.h>
#include <stddef.h>

struct cfg_errors;

enum htdigest_alg {
	HTDIGEST_MD5,
	HTDIGEST_SHA256,
};
#define HTDIGEST_ALGS 2
#define HTDIGEST_HASH_MAX 32                     /* bytes of the longest hash (SHA-256) */
#define HTDIGEST_HEX_MAX (2 * HTDIGEST_HASH_MAX) /* its hex form, without the NUL */
#define HTDIGEST_USER_MAX 255                    /* bytes; what struct auth_result can carry */

/* One line of the file.  The strings point into the file's text. */
struct htdigest_entry {
	const char *user;
	const char *realm;
	const char *ha1[HTDIGEST_ALGS]; /* lowercase hex; NULL when absent */
	int line;
};

/* H(user ":" realm) of one entry, for clients that hash the user name. */
struct htdigest_userhash {
	unsigned char hash[HTDIGEST_HASH_MAX];
	size_t entry;
};

struct htdigest {
	char *path; /* as resolved from the configuration, for messages */
	char *text; /* the file, split in place */
	size_t text_len;
	struct htdigest_entry *e; /* sorted by user, then realm */
	size_t n;
	struct htdigest_userhash *by_userhash[HTDIGEST_ALGS]; /* n each, sorted by hash */
	size_t n_sha256;                                      /* lines with an HA1-SHA-256 field */
	int first_without_sha256;                             /* line of the first line without it, 0 if none */
};

/* Reads and checks the whole file; every bad line is reported as
 * PATH:LINE: message.  NULL when the file cannot be read or has errors. */
struct htdigest *htdigest_load(const char *path, const char *cfg_file, int cfg_line, struct cfg_errors *errs);
void htdigest_free(struct htdigest *h);

/* The entry for user in realm, or NULL. */
const struct htdigest_entry *htdigest_find(const struct htdigest *h, const char *user, const char *realm);
/* The entry whose H(user ":" realm) under alg is hash and whose realm is
 * realm (RFC 7616 section 3.4.4, userhash=true), or NULL. */
const struct htdigest_entry *htdigest_find_userhash(const struct htdigest *h, enum htdigest_alg alg,
                                                    const unsigned char *hash, const char *realm);

/* Hash length in bytes: 16 for MD5, 32 for SHA-256. */
size_t htdigest_hash_len(enum htdigest_alg alg);
/* H(parts[0] ":" parts[1] ":" ... parts[n-1]) into out (htdigest_hash_len
 * bytes).  -1 when OpenSSL refuses the algorithm (MD5 in FIPS mode). */
int htdigest_hash(enum htdigest_alg alg, const char *const *parts, size_t n, unsigned char *out);
/* Lowercase hex of len bytes, NUL-terminated (out holds 2 * len + 1). */
void htdigest_hex(const unsigned char *in, size_t len, char *out);
/* Parses exactly 2 * len hex digits of either case; -1 otherwise. */
int htdigest_unhex(const char *hex, size_t hexlen, unsigned char *out, size_t len);

/* "user:realm:HA1-MD5:HA1-SHA-256" (no newline) for `pinhole passwd
 * --digest`; the caller frees it.  NULL when user or realm cannot be
 * written in the file (empty or too long a user, ':' or a line break). */
char *htdigest_make_line(const char *user, const char *realm, const char *password);

#endif
