/*
 * listen_tls.c - an HTTPS proxy listener's certificate and context
 * (listen_tls.h): loading and checking the files, ALPN, and the reasons a
 * client's handshake failed.  No sockets here.
 */
#include "listen_tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common.h"
#include "tls.h"
#include "tlsca.h"

struct listen_tls {
	SSL_CTX *ctx;
	char subject[160];
	char not_after[32];
};

/* The ALPN list a client offered when none of it was http/1.1, kept on
 * its session for the error log. */
static int alpn_idx = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void free_ex(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	PH_UNUSED(parent);
	PH_UNUSED(ad);
	PH_UNUSED(idx);
	PH_UNUSED(argl);
	PH_UNUSED(argp);
	free(ptr);
}

static void init_once(void)
{
	alpn_idx = SSL_get_ex_new_index(0, "pinhole listener alpn", NULL, NULL, free_ex);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "no reason given";
}

/* An ASN1 time as 2027-01-31 12:00 UTC. */
static void time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1 || strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, len, "(unreadable date)");
}

/* HTTP/1.1 or nothing: pinhole speaks no HTTP/2 on its listeners.  A
 * client that offers ALPN without http/1.1 (h2 only) gets the fatal alert
 * no_application_protocol rather than a session it would speak h2 on. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
	static const unsigned char want[] = "\x08http/1.1";
	char *list;
	size_t n = 0;

	PH_UNUSED(arg);
	if (SSL_select_next_proto((unsigned char **)out, outlen, want, sizeof(want) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	/* "h2,foo": the names, printable characters only, for the log. */
	list = malloc((size_t)inlen + 1);
	if (list) {
		for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
			if (n)
				list[n++] = ',';
			for (unsigned j = i + 1; j <= i + in[i] && j < inlen; j++)
				list[n++] = in[j] > 0x20 && in[j] < 0x7f ? (char)in[j] : '?';
		}
		list[n] = '\0';
		if (!SSL_set_ex_data(ssl, alpn_idx, list))
			free(list);
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The certificate and what follows it in the file (the chain). */
static int read_chain(const char *path, X509 **leaf, STACK_OF(X509) * *chain, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f) {
		set_err(err, errlen, "cannot open certificate %s: %s", path, strerror(errno));
		return -1;
	}
	ERR_clear_error();
	*leaf = PEM_read_X509(f, NULL, NULL, NULL);
	if (!*leaf) {
		set_err(err, errlen, "certificate %s holds no PEM certificate: %s", path, ssl_reason());
		fclose(f);
		return -1;
	}
	*chain = sk_X509_new_null();
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (!*chain || !sk_X509_push(*chain, x)) {
			X509_free(x);
			set_err(err, errlen, "out of memory reading %s", path);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	/* The end of the file is "no start line"; anything else is a broken
	 * block after the certificates read so far. */
	unsigned long e = ERR_peek_last_error();

	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		set_err(err, errlen, "certificate %s: the PEM block after certificate %d is broken: %s", path,
		        1 + sk_X509_num(*chain), ssl_reason());
		return -1;
	}
	ERR_clear_error();
	return 0;
}

struct listen_tls *listen_tls_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct listen_tls *t = NULL;
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	char when[48];

	pthread_once(&once, init_once);
	if (read_chain(cert_path, &leaf, &chain, err, errlen) != 0)
		goto out;
	key = tlsca_read_key(key_path, "key", "can pose as this proxy to its clients", err, errlen);
	if (!key)
		goto out;
	if (X509_check_private_key(leaf, key) != 1) {
		set_err(err, errlen, "key %s does not match certificate %s (it is another certificate's key)", key_path,
		        cert_path);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
		time_str(X509_get0_notAfter(leaf), when, sizeof(when));
		set_err(err, errlen, "certificate %s expired on %s: clients would refuse it; renew it", cert_path,
		        when);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0) {
		time_str(X509_get0_notBefore(leaf), when, sizeof(when));
		set_err(err, errlen, "certificate %s is not valid before %s; check this machine's clock", cert_path,
		        when);
		goto out;
	}
	t = ph_calloc(1, sizeof(*t));
	t->ctx = tls_ctx_new(TLS_server_method());
	if (!t->ctx || SSL_CTX_use_certificate(t->ctx, leaf) != 1 || SSL_CTX_use_PrivateKey(t->ctx, key) != 1) {
		set_err(err, errlen, "OpenSSL refuses certificate %s with key %s: %s", cert_path, key_path,
		        ssl_reason());
		goto fail;
	}
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (SSL_CTX_add1_chain_cert(t->ctx, sk_X509_value(chain, i)) != 1) {
			set_err(err, errlen, "OpenSSL refuses certificate %d of the chain in %s: %s", i + 2, cert_path,
			        ssl_reason());
			goto fail;
		}
	SSL_CTX_set_alpn_select_cb(t->ctx, select_alpn, NULL);
	X509_NAME_oneline(X509_get_subject_name(leaf), t->subject, sizeof(t->subject));
	time_str(X509_get0_notAfter(leaf), t->not_after, sizeof(t->not_after));
	goto out;
fail:
	listen_tls_free(t);
	t = NULL;
out:
	ERR_clear_error();
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return t;
}

void listen_tls_free(struct listen_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

SSL *listen_tls_session(const struct listen_tls *t)
{
	SSL *ssl = SSL_new(t->ctx);

	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

const char *listen_tls_describe(const struct listen_tls *t, char *buf, size_t len)
{
	snprintf(buf, len, "%s, valid until %s", t->subject, t->not_after);
	return buf;
}

const char *listen_tls_why(SSL *ssl, int r, char *buf, size_t len)
{
	const char *alpn = alpn_idx >= 0 ? SSL_get_ex_data(ssl, alpn_idx) : NULL;
	int alert = tls_client_alert(ssl);
	int e = SSL_get_error(ssl, r);
	unsigned long err = ERR_peek_last_error();

	if (alpn)
		snprintf(buf, len,
		         "the client offers only %.100s in ALPN and this listener speaks HTTP/1.1 (http/1.1); "
		         "it was sent the alert no_application_protocol",
		         alpn[0] ? alpn : "an empty list");
	else if (alert >= 0 && tls_alert_is_certificate(alert))
		snprintf(buf, len,
		         "the client refused the listener's certificate (alert \"%s\"): does it trust its issuer, "
		         "and does the certificate name the host the client was given?",
		         SSL_alert_desc_string_long(alert));
	else if (alert >= 0)
		snprintf(buf, len, "the client sent the alert \"%s\"", SSL_alert_desc_string_long(alert));
	else if (err && ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNSUPPORTED_PROTOCOL)
		snprintf(buf, len, "the client offers only TLS versions older than 1.2");
	else if (err && ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_NO_SHARED_CIPHER)
		snprintf(buf, len, "the client offers no cipher suite this listener accepts");
	else if (err)
		snprintf(buf, len, "TLS error: %s", ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "?");
	else if (e == SSL_ERROR_SYSCALL && errno && r < 0)
		snprintf(buf, len, "%s", strerror(errno));
	else
		snprintf(buf, len, "the client closed the connection during the handshake");
	ERR_clear_error();
	return buf;
}
