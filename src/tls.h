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

#include "acl.h"
#include "cfgparse.h"

struct acl_subject;
struct strbuf;
struct sockaddr_storage;
struct tls_ctx; /* the OpenSSL contexts and the CA of one configuration */

/* pinning-learn's defaults: two certificate alerts from two client
 * addresses (a single machine can never teach it), forgotten after a week
 * without new evidence. */
#define TLS_PINNING_AFTER_DEFAULT 2
#define TLS_PINNING_CLIENTS_DEFAULT 2
#define TLS_PINNING_EXPIRE_DEFAULT_MS (7ULL * 24 * 3600 * 1000)

/* tls-inspect, tls-trust, inspect, no-inspect, pinning-learn, sni-mismatch
 * and state-dir (tls_section). */
struct tls_settings {
	char *ca_cert, *ca_key; /* absolute paths */
	const char *file;       /* where tls-inspect is */
	int line;
	char *trust;                    /* CA bundle for origins; NULL = the system's */
	struct rule_list inspect;       /* inspect MATCHERS; none = everything not bypassed */
	struct domain_index no_inspect; /* no-inspect PATTERN... */
	char **no_inspect_text;         /* as written, for /config */
	size_t nno_inspect;
	bool pinning_learn;
	unsigned pinning_after;     /* certificate alerts before a domain is learned */
	unsigned pinning_clients;   /* from at least this many client addresses */
	uint64_t pinning_expire_ms; /* forgotten this long after its last evidence (0 = never) */
	const char *trust_file;     /* where tls-trust is */
	int trust_line;
	const char *pinning_file; /* where pinning-learn on is */
	int pinning_line;
	bool sni_mismatch_deny; /* sni-mismatch deny: close tunnels whose SNI names another host */
	char *state_dir;
	struct tls_ctx *ctx; /* built once the configuration is whole; NULL: inspection is off */
};

extern const struct cfg_section tls_section;

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
 * ("" = none) and offered alpn ("h2,http/1.1"; "" = none).  When the
 * CONNECT names a host and the SNI another name (tls_sni_mismatch), both
 * are judged and the stricter decision wins: a no-inspect SNI does not
 * splice a tunnel to another host (domain fronting). */
enum tls_decision tls_decide(const struct tls_settings *t, bool inspect_all, const struct acl_subject *s,
                             const char *sni, const char *alpn);
/* Whether the SNI names another host than a CONNECT to a name. */
bool tls_sni_mismatch(const struct acl_subject *s, const char *sni);

/* A client-role SSL towards the origin, verifying its chain against
 * tls-trust and its name against name; offering "http/1.1" when alpn.  Not
 * yet on a transport: side_tls_start() puts it on the origin's side (its
 * socket, or inside the session with an https:// parent proxy). */
SSL *tls_origin_new(const struct tls_settings *t, const char *name, bool alpn);
/* The verification result of a finished origin handshake: NULL when the
 * chain and name are good, else why ("certificate has expired"). */
const char *tls_origin_verify_error(SSL *ssl);

/* A server-role SSL towards the client presenting a leaf minted for the
 * origin's certificate and sni (from a cache shared by the workers); the
 * caller gives it its transport (side_tls_start).  NULL with err when
 * minting fails. */
SSL *tls_client_new(const struct tls_settings *t, X509 *origin, const char *sni, char *err, size_t errlen);
/* A server-role SSL that refuses the ClientHello with a fatal alert: what
 * a client gets when the origin's certificate failed verification.  No
 * transport yet, as tls_client_new. */
SSL *tls_client_refuse(const struct tls_settings *t);
/* A context with pinhole's settings for every TLS it speaks: TLS 1.2 at
 * least, partial writes from a buffer that may move, buffers released
 * while idle, no renegotiation, a peer's EOF without close_notify an
 * ordinary end, and the peer's fatal alert kept for tls_client_alert. */
SSL_CTX *tls_ctx_new(const SSL_METHOD *m);
/* The fatal alert the client sent during the handshake (its code, e.g. 48
 * for unknown_ca), or -1. */
int tls_client_alert(SSL *ssl);
/* Whether an alert is a client's refusal of the server's certificate
 * (bad_certificate, unsupported_certificate, certificate_revoked,
 * certificate_expired, certificate_unknown, unknown_ca). */
bool tls_alert_is_certificate(int alert);

/* A client refused the minted certificate of domain with a certificate
 * alert: the one evidence of pinning a single client cannot fake alone
 * (resets, timeouts and plain closes are not counted).  With pinning-learn
 * on, the domain is learned once `after` alerts came from `clients`
 * distinct addresses (persisted under state-dir, logged); true when this
 * alert made it learned. */
bool tls_pinning_evidence(const struct tls_settings *t, const char *domain, const struct sockaddr_storage *client);
/* Whether domain is learned as pinned (and not expired). */
bool tls_learned(const char *domain);
/* Applies pinning-learn's expiry (at load and reload). */
void tls_learned_configure(const struct tls_settings *t);
/* Appends "# learned no-inspect DOMAIN (why)" lines (for /config). */
void tls_learned_dump(struct strbuf *out);
/* Reads the learned list again when its file changed since pinhole last
 * read or wrote it (another instance sharing the state-dir learned a
 * domain, or an admin removed one); the main thread calls it every few
 * seconds. */
void tls_learned_refresh(void);
/* How many domains are learned. */
size_t tls_learned_count(void);

/* Minted-certificate cache figures, for /metrics. */
void tls_cache_figures(unsigned long *hits, unsigned long *misses);

#endif
