/*
 * tls.h - TLS inspection: the per-configuration OpenSSL contexts (origin
 * side verifying against tls-trust, client side presenting leaves minted by
 * the configured CA), the decision splice-or-inspect for one tunnel, and the
 * pinned domains pinhole learns from failed handshakes (process-wide,
 * persisted under state-dir).
 */
#ifndef PINHOLE_TLS_H
#define PINHOLE_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct config;
struct cfg_errors;
struct acl_subject;
struct buf;
struct tls_config;

/* Failures before a domain is learned as pinned, unless configured. */
#define TLS_PINNING_AFTER_DEFAULT 2

/* Builds cfg->tls from the tls-inspect, tls-trust and state-dir
 * directives (called once the whole file is read), and loads what was
 * learned before from state-dir.  0, or -1 with errs filled at line. */
int tls_config_build(struct config *cfg, const char *file, int line, struct cfg_errors *errs);
void tls_config_free(struct tls_config *t);

enum tls_decision {
	TLS_INSPECT,
	TLS_SPLICE_OFF,         /* inspection is not configured */
	TLS_SPLICE_NOT_TLS,     /* the first bytes are not a ClientHello */
	TLS_SPLICE_NO_INSPECT,  /* a no-inspect pattern names the host or SNI */
	TLS_SPLICE_LEARNED,     /* learned as pinned */
	TLS_SPLICE_NOT_MATCHED, /* no inspect rule matches */
	TLS_SPLICE_ALPN,        /* the client offers no HTTP/1.1 (h2 only) */
	TLS_SPLICE_PIPELINED,   /* bytes arrived with the CONNECT head */
	TLS_NDECISIONS,
};
/* "inspect", "off", "not-tls", "no-inspect", "learned", "not-matched",
 * "alpn", "pipelined": for logs and metrics labels. */
const char *tls_decision_name(enum tls_decision d);

/* Whether to inspect a TLS tunnel to s->host whose ClientHello named sni
 * ("" = none) and offered alpn ("h2,http/1.1"; "" = none). */
enum tls_decision tls_decide(const struct config *cfg, const struct acl_subject *s, const char *sni, const char *alpn);

/* A client-role SSL on fd towards the origin, verifying its chain against
 * tls-trust and its name against name; offering "http/1.1" when alpn. */
SSL *tls_origin_new(const struct config *cfg, int fd, const char *name, bool alpn);
/* The verification result of a finished origin handshake: NULL when the
 * chain and name are good, else why ("certificate has expired"). */
const char *tls_origin_verify_error(SSL *ssl);

/* A server-role SSL on fd towards the client presenting a leaf minted for
 * the origin's certificate and sni (from a cache shared by the workers).
 * NULL with err when minting fails. */
SSL *tls_client_new(const struct config *cfg, int fd, X509 *origin, const char *sni, char *err, size_t errlen);
/* A server-role SSL that refuses the ClientHello with a fatal alert: what
 * a client gets when the origin's certificate failed verification. */
SSL *tls_client_refuse(const struct config *cfg, int fd);
/* The alert the client sent during the handshake ("bad certificate",
 * "unknown CA", ...), or NULL. */
const char *tls_client_alert(SSL *ssl);

/* A client aborted the handshake with a minted certificate of domain:
 * counts it, and with pinning-learn on learns the domain after the
 * configured number of failures (persisted under state-dir, logged).
 * true when the domain was learned by this failure. */
bool tls_pinning_failure(const struct config *cfg, const char *domain);
/* Whether domain was learned as pinned. */
bool tls_learned(const char *domain);
/* Appends "# learned no-inspect ..." lines (for /config). */
void tls_learned_dump(struct buf *out);
/* How many domains are learned, and how many pinning failures were seen. */
size_t tls_learned_count(void);

/* Minted-certificate cache figures, for /metrics. */
void tls_cache_figures(unsigned long *hits, unsigned long *misses);

#endif
