/*
 * tlsca.h - the certificate side of TLS inspection: making the inspection CA
 * (`pinhole ca create`), loading it (`tls-inspect ca CERT KEY`), minting
 * leaf certificates that mirror an origin's names, and a bounded cache of
 * minted leaves.  No sockets and no SSL_CTX here; the TLS path owns those.
 */
#ifndef PINHOLE_TLSCA_H
#define PINHOLE_TLSCA_H

#include <stddef.h>
#include <openssl/types.h>

struct tlsca;
struct tlsca_cache;

/* Minted leaves live at most this long (and never past the origin's). */
#define TLSCA_LEAF_DAYS 7
/* The CA made by tlsca_create is valid this long. */
#define TLSCA_CA_DAYS 3650

/* Makes dir (0700 when it does not exist) holding ca.crt and ca.key (0600,
 * never readable by others, not even for an instant).  Existing files are
 * never overwritten.  Returns 0, or -1 with a sentence in err. */
int tlsca_create(const char *dir, char *err, size_t errlen);

/* Loads a CA certificate and its key (PEM).  Refuses a key file that group
 * or others may read or write, a key that is not the certificate's, an
 * encrypted key, a certificate that is not a CA or is outside its validity.
 * Returns NULL with a sentence in err on refusal. */
struct tlsca *tlsca_load(const char *cert, const char *key, char *err, size_t errlen);
void tlsca_free(struct tlsca *ca);
/* Reads an unencrypted PEM private key that only its owner may read or
 * write (fstat of the file opened): a key of the inspection CA or of a TLS
 * listener.  what names it in errors ("CA key"), risk says what whoever
 * reads it can do.  NULL with a sentence in err. */
EVP_PKEY *tlsca_read_key(const char *path, const char *what, const char *risk, char *err, size_t errlen);
/* The CA certificate (borrowed; lives as long as ca). */
X509 *tlsca_cert(const struct tlsca *ca);
/* How many leaves this CA has signed: each is one ECDSA/RSA signature. */
unsigned long tlsca_mint_count(const struct tlsca *ca);

/* Signs a leaf for origin_cert as presented to a client that asked for sni
 * (may be NULL).  Names: the origin's DNS and IP subjectAltNames, else its
 * CN, plus sni when those do not cover it.  *key_out (when not NULL) gets a
 * reference to the leaf's private key.  The caller frees both.  Safe to
 * call from several threads on one ca. */
X509 *tlsca_mint(struct tlsca *ca, X509 *origin_cert, const char *sni, EVP_PKEY **key_out, char *err, size_t errlen);

/* A least-recently-used cache of minted leaves, keyed by the CA, the SHA-256
 * of the origin certificate's DER and the SNI.  One cache is shared by all
 * workers behind one mutex; signing happens outside it.  max 0 disables
 * caching (every call mints). */
struct tlsca_cache *tlsca_cache_new(size_t max);
void tlsca_cache_free(struct tlsca_cache *cache);

/* Hands out a leaf and its key for origin_cert + sni: cached when possible,
 * minted (and cached) otherwise.  *cert and *key are references the caller
 * frees (X509_free, EVP_PKEY_free).  Returns 0, or -1 with err set. */
int tlsca_cache_get(struct tlsca_cache *cache, struct tlsca *ca, X509 *origin_cert, const char *sni, X509 **cert,
                    EVP_PKEY **key, char *err, size_t errlen);

struct tlsca_cache_stats {
	unsigned long hits;      /* answered without signing */
	unsigned long misses;    /* minted: new key, or entry near its end */
	unsigned long evictions; /* dropped to stay within max */
	size_t entries;
	size_t max;
};
void tlsca_cache_stats(struct tlsca_cache *cache, struct tlsca_cache_stats *st);

#endif
