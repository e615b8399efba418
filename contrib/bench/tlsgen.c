/*
 * tlsgen.c - the TLS client sessions of loadgen's tls mode (OpenSSL): a
 * context verifying every server against one CA file, a session per
 * connection with SNI and host-name check, and non-blocking calls mapped to
 * what loadgen's event loop has to wait for.
 */
#include "tlsgen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static SSL_CTX *ctx;
static char errbuf[300];

const char *tlsgen_error(void)
{
	return errbuf;
}

static void ssl_reason(const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(errbuf, sizeof(errbuf), "%s: %s", what, buf);
	} else {
		snprintf(errbuf, sizeof(errbuf), "%s", what);
	}
	ERR_clear_error();
}

int tlsgen_init(const char *cafile, char *err, size_t cap)
{
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_reason("SSL_CTX_new");
		snprintf(err, cap, "%s", errbuf);
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
		ssl_reason(cafile);
		snprintf(err, cap, "cannot load the CA file: %s", errbuf);
		return -1;
	}
	/* no resumption: every connection is a full handshake, as a client
	 * visiting a site for the first time makes */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

void *tlsgen_new(int fd, const char *sni)
{
	SSL *s = SSL_new(ctx);

	if (!s) {
		ssl_reason("SSL_new");
		return NULL;
	}
	if (!SSL_set_fd(s, fd) || !SSL_set_tlsext_host_name(s, sni) || !SSL_set1_host(s, sni)) {
		ssl_reason("setting up the session");
		SSL_free(s);
		return NULL;
	}
	/* offered like a browser would, so a proxy that splices h2-only
	 * clients still inspects this one */
	SSL_set_alpn_protos(s, (const unsigned char *)"\x08http/1.1", 9);
	SSL_set_connect_state(s);
	return s;
}

/* What a failed call r of s needs, or why it failed. */
static int wait_or_fail(SSL *s, int r, const char *what)
{
	int e = SSL_get_error(s, r);
	long v;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		return TG_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TG_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return TG_EOF;
	case SSL_ERROR_SYSCALL:
		if (!ERR_peek_error()) {
			snprintf(errbuf, sizeof(errbuf), "%s: %s", what,
			         r == 0 ? "the peer closed the connection" : strerror(errno));
			return r == 0 ? TG_EOF : TG_ERROR;
		}
		break;
	default:
		break;
	}
	v = SSL_get_verify_result(s);
	if (v != X509_V_OK) {
		snprintf(errbuf, sizeof(errbuf), "%s: certificate verification: %s", what,
		         X509_verify_cert_error_string(v));
		ERR_clear_error();
		return TG_ERROR;
	}
	ssl_reason(what);
	return TG_ERROR;
}

int tlsgen_handshake(void *t)
{
	int r = SSL_do_handshake(t);

	return r == 1 ? 1 : wait_or_fail(t, r, "handshake");
}

long tlsgen_write(void *t, const void *p, size_t n)
{
	int r = SSL_write(t, p, (int)n);

	return r > 0 ? r : wait_or_fail(t, r, "write");
}

long tlsgen_read(void *t, void *p, size_t n)
{
	int r = SSL_read(t, p, (int)n);

	return r > 0 ? r : wait_or_fail(t, r, "read");
}

void tlsgen_free(void *t, int clean)
{
	if (!t)
		return;
	if (clean)
		SSL_shutdown(t);
	SSL_free(t);
	ERR_clear_error();
}
