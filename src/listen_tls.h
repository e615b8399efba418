/*
 * listen_tls.h - the certificate of an HTTPS proxy listener (`listen
 * ADDR:PORT tls CERT KEY`): the chain and the key, read and checked at
 * every load and reload, the OpenSSL context each client's session comes
 * from (TLS 1.2 and up, ALPN http/1.1 or none), and why a client's
 * handshake failed, in words for the error log.  The handshake itself is
 * the request path's (client_tls.c).
 */
#ifndef PINHOLE_LISTEN_TLS_H
#define PINHOLE_LISTEN_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct listen_tls;

/* Reads cert (PEM: the listener's certificate, then any intermediate
 * certificates) and key (PEM, unencrypted, readable by its owner only),
 * checks that they belong together and that the certificate is valid
 * today, and makes the context.  NULL with a sentence in err. */
struct listen_tls *listen_tls_load(const char *cert, const char *key, char *err, size_t errlen);
void listen_tls_free(struct listen_tls *t);

/* A server-role session for one client, without a transport yet
 * (side_tls_start gives it one).  NULL when OpenSSL cannot. */
SSL *listen_tls_session(const struct listen_tls *t);

/* Why a handshake failed, a sentence for the error log (r: what
 * SSL_do_handshake returned).  Clears OpenSSL's error queue. */
const char *listen_tls_why(SSL *ssl, int r, char *buf, size_t len);

/* "CN=proxy.example, valid until 2027-01-31" for the start-up log. */
const char *listen_tls_describe(const struct listen_tls *t, char *buf, size_t len);

#endif
