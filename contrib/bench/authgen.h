/*
 * authgen.h - the credentials loadgen sends in its auth modes: the
 * Proxy-Authorization values of a new connection and the answers to a 407.
 * authgen.c builds them (OpenSSL, MIT GSSAPI); loadgen.c owns the sockets.
 */
#ifndef BENCH_AUTHGEN_H
#define BENCH_AUTHGEN_H

#include <stddef.h>

/*
 * SPEC is one of
 *   basic:USER:PASSWORD            the same header on every CONNECT
 *   ntlm:DOMAIN\USER:PASSWORD      Type 1, then an NTLMv2 Type 3 per challenge
 *   negotiate:SERVICE@HOST         a fresh SPNEGO/Kerberos token per connection
 * 0, or -1 with a sentence in err.  Negotiate takes the client's ticket from
 * KRB5CCNAME and gets its service ticket here, before any measurement.
 */
int authgen_init(const char *spec, char *err, size_t cap);

/* 1 when every connection sends the same value (Basic): loadgen builds the
 * request once. */
int authgen_static(void);

/* The scheme's name as in the headers: "Basic", "NTLM", "Negotiate". */
const char *authgen_scheme(void);

/* The Proxy-Authorization value of a new connection's first request
 * ("NTLM <Type 1>", ...); its length, or -1 (see authgen_error). */
long authgen_first(char *out, size_t cap);

/* The value answering a 407 whose Proxy-Authenticate value for our scheme is
 * challenge ("NTLM <Type 2>"); its length, or -1 when the scheme has no
 * further leg or the challenge is unusable. */
long authgen_answer(const char *challenge, char *out, size_t cap);

/* Why the last call failed. */
const char *authgen_error(void);

#endif
