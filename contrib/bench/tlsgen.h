/*
 * tlsgen.h - the TLS client of loadgen's tls mode: one OpenSSL session per
 * connection, SNI set, the peer's chain verified against one CA file and
 * its name against the SNI.  tlsgen.c wraps OpenSSL; loadgen.c owns the
 * sockets and the HTTP inside.
 */
#ifndef BENCH_TLSGEN_H
#define BENCH_TLSGEN_H

#include <stddef.h>

/* What a call needs before it can go on, or how it ended. */
#define TG_WANT_READ (-1)
#define TG_WANT_WRITE (-2)
#define TG_EOF (-3)
#define TG_ERROR (-4)

/* Loads the CA file that every server certificate must chain to. 0, or -1
 * with a sentence in err. */
int tlsgen_init(const char *cafile, char *err, size_t cap);

/* A client session on the connected socket fd, for server name sni; NULL
 * when OpenSSL cannot make one (see tlsgen_error). */
void *tlsgen_new(int fd, const char *sni);

/* 1 when the handshake is done and the certificate verified, else one of
 * the TG_ values. */
int tlsgen_handshake(void *t);

/* Bytes written or read (> 0), else one of the TG_ values. */
long tlsgen_write(void *t, const void *p, size_t n);
long tlsgen_read(void *t, void *p, size_t n);

/* Ends the session; with clean, sends close_notify first (never waits). */
void tlsgen_free(void *t, int clean);

/* Why the last call of this thread failed. */
const char *tlsgen_error(void);

#endif
