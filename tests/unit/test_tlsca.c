/*
 * test_tlsca.c - unit tests for tlsca.c: `pinhole ca create` files and
 * modes, what tlsca_load refuses, leaves minted for a fake origin verified
 * by OpenSSL (in-process and with the openssl tool), the LRU cache, and
 * the cost of a mint against a cache hit.
 */
#include "tlsca.h"
#include "unit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static char tmp[64];
static char errbuf[512];

/* The last refusal's text (a function, so CHECK_WHY's NULL test compiles). */
static const char *why(void)
{
	return errbuf;
}

static const char *path_in(const char *dir, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

/* CPU time of this thread: what a mint costs a worker, and steadier than
 * the wall clock on a shared machine. */
static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static EVP_PKEY *p256(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	CHECK(e != NULL);
	if (e) {
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
}

/* A certificate for the test's own origin PKI: self-signed when issuer is
 * NULL; a CA when ca is set; san like "DNS:a,IP:1.2.3.4" or NULL. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca, const char *san,
                       long from_s, long to_s)
{
	X509 *x = X509_new();
	time_t now = time(NULL);
	static long serial = 1000;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_time_adj_ex(X509_getm_notBefore(x), 0, from_s, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, to_s, &now);
	X509_set_pubkey(x, key);
	add_ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, issuer, NID_subject_alt_name, san);
	X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (!f)
		return;
	if (x)
		PEM_write_X509(f, x);
	if (k)
		PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* The leaf's SANs as "DNS:a,DNS:b,IP:1.2.3.4". */
static const char *san_text(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const unsigned char *d;
		int n;

		if (g->type == GEN_DNS) {
			n = ASN1_STRING_length(g->d.dNSName);
			used += snprintf(buf + used, len - used, "%sDNS:%.*s", i ? "," : "", n,
			                 (const char *)ASN1_STRING_get0_data(g->d.dNSName));
		} else if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			used += snprintf(buf + used, len - used, "%sIP:%u.%u.%u.%u", i ? "," : "", d[0], d[1], d[2],
			                 d[3]);
		}
	}
	GENERAL_NAMES_free(names);
	return buf;
}

static const char *subject_cn(X509 *x, char *buf, size_t len)
{
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len) < 0)
		buf[0] = '\0';
	return buf;
}

/* X509_verify_cert of leaf against the pinhole CA alone, as a TLS client
 * for host (a name, or an IP when ip is set) would run it. */
static int verify_leaf(X509 *ca_cert, X509 *leaf, const char *host, bool ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *param;
	int ok;

	X509_STORE_add_cert(store, ca_cert);
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	param = X509_STORE_CTX_get0_param(ctx);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(param, host);
	else
		X509_VERIFY_PARAM_set1_host(param, host, 0);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "  verify %s: %s\n", host,
		        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

/* A TLS 1.3 handshake in memory: a client trusting only the pinhole CA,
 * asking for host, against a server presenting the minted leaf. */
static bool handshake(X509 *ca_cert, X509 *leaf, EVP_PKEY *key, const char *host)
{
	SSL_CTX *sc = SSL_CTX_new(TLS_server_method()), *cc = SSL_CTX_new(TLS_client_method());
	SSL *s = NULL, *c = NULL;
	BIO *cb = NULL, *sb = NULL;
	int rc = 0, rs = 0;
	bool ok = false;

	if (!sc || !cc || SSL_CTX_use_certificate(sc, leaf) != 1 || SSL_CTX_use_PrivateKey(sc, key) != 1 ||
	    SSL_CTX_check_private_key(sc) != 1)
		goto out;
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cc), ca_cert);
	SSL_CTX_set_verify(cc, SSL_VERIFY_PEER, NULL);
	s = SSL_new(sc);
	c = SSL_new(cc);
	if (!s || !c || !BIO_new_bio_pair(&cb, 0, &sb, 0))
		goto out;
	SSL_set_bio(c, cb, cb);
	SSL_set_bio(s, sb, sb);
	SSL_set_tlsext_host_name(c, host);
	SSL_set1_host(c, host);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	ok = rc == 1 && rs == 1 && SSL_get_verify_result(c) == X509_V_OK;
out:
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cc);
	SSL_CTX_free(sc);
	ERR_clear_error();
	return ok;
}

static bool ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* Seconds from now to t (negative in the past). */
static long secs_from_now(const ASN1_TIME *t)
{
	int days = 0, secs = 0;

	ASN1_TIME_diff(&days, &secs, NULL, t);
	return days * 86400L + secs;
}

static char ca_dir[128], ca_crt[160], ca_key[160];

static void test_create(void)
{
	char p[160], dir3[128];
	mode_t old = umask(0); /* the modes must not depend on the umask */

	snprintf(ca_dir, sizeof(ca_dir), "%s/ca", tmp);
	path_in(ca_dir, "ca.crt", ca_crt, sizeof(ca_crt));
	path_in(ca_dir, "ca.key", ca_key, sizeof(ca_key));
	CHECK_INT(tlsca_create(ca_dir, errbuf, sizeof(errbuf)), 0);
	umask(old);
	CHECK_INT(file_mode(ca_dir), 0700);
	CHECK_INT(file_mode(ca_key), 0600);
	CHECK_INT(file_mode(ca_crt), 0644);

	/* never overwrite: both files present, then only ca.crt */
	CHECK_INT(tlsca_create(ca_dir, errbuf, sizeof(errbuf)), -1);
	CHECK_WHY(why(), "ca.key already exists");
	CHECK_WHY(why(), "refusing to overwrite");
	snprintf(dir3, sizeof(dir3), "%s/only-crt", tmp);
	mkdir(dir3, 0755);
	write_pem(path_in(dir3, "ca.crt", p, sizeof(p)), NULL, NULL);
	CHECK_INT(tlsca_create(dir3, errbuf, sizeof(errbuf)), -1);
	CHECK_WHY(why(), "only-crt/ca.crt already exists");
	CHECK_INT(file_mode(path_in(dir3, "ca.key", p, sizeof(p))), -1);
	CHECK_INT(file_mode(dir3), 0755); /* an existing directory is left alone */

	/* a file where the directory should be */
	CHECK_INT(tlsca_create(path_in(dir3, "ca.crt", p, sizeof(p)), errbuf, sizeof(errbuf)), -1);
	CHECK_WHY(why(), "is not a directory");
}

static void test_ca_cert(void)
{
	FILE *f = fopen(ca_crt, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	char cn[128], o[64];
	const ASN1_INTEGER *serial;
	BIGNUM *bn;
	EVP_PKEY *pub;
	char group[32] = "";

	if (f)
		fclose(f);
	CHECK(x != NULL);
	if (!x)
		return;
	CHECK_INT(X509_get_version(x), X509_VERSION_3);
	CHECK(X509_check_issued(x, x) == X509_V_OK);
	CHECK(X509_get_extension_flags(x) & EXFLAG_CA);
	CHECK_INT(X509_get_pathlen(x), 0);
	CHECK(ext_critical(x, NID_basic_constraints));
	CHECK(ext_critical(x, NID_key_usage));
	CHECK_INT(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	CHECK(X509_get0_subject_key_id(x) != NULL);
	subject_cn(x, cn, sizeof(cn));
	CHECK(strncmp(cn, "pinhole inspection CA ", 22) == 0);
	CHECK(strlen(cn) <= 64);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_organizationName, o, sizeof(o));
	CHECK_STR(o, "pinhole");
	printf("CA subject CN: %s\n", cn);
	serial = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	CHECK(!BN_is_negative(bn));
	CHECK_INT(BN_num_bytes(bn), 16);
	BN_free(bn);
	CHECK(secs_from_now(X509_get0_notAfter(x)) > 3649L * 86400);
	CHECK(secs_from_now(X509_get0_notAfter(x)) <= 3650L * 86400);
	pub = X509_get0_pubkey(x);
	CHECK(EVP_PKEY_is_a(pub, "EC"));
	EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof(group), NULL);
	CHECK_STR(group, "prime256v1");
	X509_free(x);
}

static void test_load_refusals(X509 *leaf_origin, EVP_PKEY *origin_key)
{
	char dir2[128], crt2[160], key2[160], p[160], k[160];
	struct tlsca *ca;
	EVP_PKEY *ek;
	X509 *expired;
	FILE *f;

	chmod(ca_key, 0644);
	CHECK(tlsca_load(ca_crt, ca_key, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), ca_key);
	CHECK_WHY(why(), "readable or writable by group or others");
	CHECK_WHY(why(), "chmod 600 ");
	chmod(ca_key, 0620);
	CHECK(tlsca_load(ca_crt, ca_key, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "mode 0620");
	chmod(ca_key, 0600);

	/* a key from another CA */
	snprintf(dir2, sizeof(dir2), "%s/ca2", tmp);
	CHECK_INT(tlsca_create(dir2, errbuf, sizeof(errbuf)), 0);
	path_in(dir2, "ca.crt", crt2, sizeof(crt2));
	path_in(dir2, "ca.key", key2, sizeof(key2));
	CHECK(tlsca_load(ca_crt, key2, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "does not match");
	CHECK_WHY(why(), key2);

	/* a server certificate offered as the CA */
	write_pem(path_in(tmp, "notca.crt", p, sizeof(p)), leaf_origin, NULL);
	write_pem(path_in(tmp, "notca.key", k, sizeof(k)), NULL, origin_key);
	chmod(k, 0600);
	CHECK(tlsca_load(p, k, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "is not a CA certificate");

	/* an expired CA */
	ek = p256();
	expired = make_cert("expired CA", ek, NULL, NULL, true, NULL, -400 * 86400L, -86400L);
	write_pem(path_in(tmp, "expired.crt", p, sizeof(p)), expired, NULL);
	write_pem(path_in(tmp, "expired.key", k, sizeof(k)), NULL, ek);
	chmod(k, 0600);
	CHECK(tlsca_load(p, k, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "expired on");
	X509_free(expired);

	/* an encrypted key is refused, never prompted for */
	path_in(tmp, "enc.key", k, sizeof(k));
	f = fopen(k, "w");
	PEM_write_PrivateKey(f, ek, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL);
	fclose(f);
	chmod(k, 0600);
	CHECK(tlsca_load(p, k, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "is encrypted");
	EVP_PKEY_free(ek);

	/* missing files are named */
	CHECK(tlsca_load(ca_crt, path_in(tmp, "nope.key", k, sizeof(k)), errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "nope.key");
	CHECK(tlsca_load(path_in(tmp, "nope.crt", p, sizeof(p)), ca_key, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "nope.crt");

	ca = tlsca_load(crt2, key2, errbuf, sizeof(errbuf));
	CHECK(ca != NULL);
	tlsca_free(ca);
}

/* The test's stand-in for the public PKI: an origin CA and its server. */
static EVP_PKEY *origin_ca_key, *origin_key;
static X509 *origin_ca, *origin;

static void make_origin(void)
{
	origin_ca_key = p256();
	origin_key = p256();
	origin_ca = make_cert("Test Origin Root", origin_ca_key, NULL, NULL, true, NULL, -86400, 3650 * 86400L);
	origin = make_cert("www.inspect.test", origin_key, origin_ca, origin_ca_key, false,
	                   "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1", -86400, 90 * 86400L);
}

static X509 *mint(struct tlsca *ca, X509 *from, const char *sni)
{
	EVP_PKEY *k = NULL;
	X509 *x = tlsca_mint(ca, from, sni, &k, errbuf, sizeof(errbuf));

	CHECK(x != NULL);
	if (!x) {
		fprintf(stderr, "  mint: %s\n", errbuf);
		return NULL;
	}
	CHECK(k != NULL);
	CHECK_INT(X509_check_private_key(x, k), 1);
	EVP_PKEY_free(k);
	return x;
}

static void test_mint(struct tlsca *ca)
{
	char buf[512], cn[128], p[160], cmd[1024];
	X509 *leaf, *leaf2, *o;
	EVP_PKEY *k;
	AUTHORITY_KEYID *akid;
	int rc;

	leaf = mint(ca, origin, "www.inspect.test");
	if (!leaf)
		return;
	CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1");
	CHECK_STR(subject_cn(leaf, cn, sizeof(cn)), "www.inspect.test");
	CHECK_INT(X509_get_version(leaf), X509_VERSION_3);
	CHECK(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(tlsca_cert(ca))) == 0);
	CHECK(!(X509_get_extension_flags(leaf) & EXFLAG_CA));
	CHECK(X509_get_extension_flags(leaf) & EXFLAG_BCONS);
	CHECK(ext_critical(leaf, NID_basic_constraints));
	CHECK(ext_critical(leaf, NID_key_usage));
	CHECK(!ext_critical(leaf, NID_subject_alt_name));
	CHECK_INT(X509_get_key_usage(leaf), KU_DIGITAL_SIGNATURE);
	CHECK_INT(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER);
	akid = X509_get_ext_d2i(leaf, NID_authority_key_identifier, NULL, NULL);
	CHECK(akid != NULL);
	CHECK_INT(X509_check_akid(tlsca_cert(ca), akid), X509_V_OK);
	AUTHORITY_KEYID_free(akid);
	CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(tlsca_cert(ca))) == 0);
	CHECK(X509_get0_subject_key_id(leaf) != NULL);
	CHECK(EVP_PKEY_is_a(X509_get0_pubkey(leaf), "EC"));
	/* notBefore an hour back, notAfter a week ahead (origin has 90 days) */
	CHECK(labs(secs_from_now(X509_get0_notBefore(leaf)) + 3600) <= 5);
	CHECK(labs(secs_from_now(X509_get0_notAfter(leaf)) - 7 * 86400L) <= 5);

	CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "www.inspect.test", false), 1);
	CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "inspect.test", false), 1);
	CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "127.0.0.1", true), 1);
	CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "other.test", false), 0);
	CHECK_INT(verify_leaf(origin_ca, leaf, "www.inspect.test", false), 0); /* not the origin PKI's */

	/* the real openssl tool agrees */
	write_pem(path_in(tmp, "leaf.pem", p, sizeof(p)), leaf, NULL);
	snprintf(
	        cmd, sizeof(cmd),
	        "openssl verify -CAfile %s -purpose sslserver -verify_hostname www.inspect.test %s >%s/verify.out 2>&1",
	        ca_crt, p, tmp);
	rc = system(cmd);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
	snprintf(cmd, sizeof(cmd), "cat %s/verify.out", tmp);
	if (system(cmd) != 0)
		CHECK(0);
	snprintf(buf, sizeof(buf), "%s/origin-ca.pem", tmp);
	write_pem(buf, origin_ca, NULL);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s -purpose sslserver %s >/dev/null 2>&1", buf, p);
	rc = system(cmd);
	CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) != 0);

	/* a real TLS client accepts it, for the names it carries only */
	k = NULL;
	if ((leaf2 = tlsca_mint(ca, origin, "www.inspect.test", &k, errbuf, sizeof(errbuf)))) {
		CHECK(handshake(tlsca_cert(ca), leaf2, k, "www.inspect.test"));
		CHECK(handshake(tlsca_cert(ca), leaf2, k, "inspect.test"));
		CHECK(!handshake(tlsca_cert(ca), leaf2, k, "other.test"));
		CHECK(!handshake(origin_ca, leaf2, k, "www.inspect.test"));
		X509_free(leaf2);
		EVP_PKEY_free(k);
	}

	/* every mint gets its own serial */
	leaf2 = mint(ca, origin, "www.inspect.test");
	if (leaf2) {
		CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(leaf), X509_get0_serialNumber(leaf2)) != 0);
		X509_free(leaf2);
	}
	X509_free(leaf);

	/* an SNI the origin does not cover is added; a covered one (any case,
	 * trailing dot) is not */
	if ((leaf = mint(ca, origin, "extra.example"))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)),
		          "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1,DNS:extra.example");
		CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "extra.example", false), 1);
		X509_free(leaf);
	}
	if ((leaf = mint(ca, origin, "WWW.Inspect.Test."))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1");
		X509_free(leaf);
	}
	if ((leaf = mint(ca, origin, NULL))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1");
		X509_free(leaf);
	}
	if ((leaf = mint(ca, origin, "bad name\n"))) { /* not written into a certificate */
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:www.inspect.test,DNS:inspect.test,IP:127.0.0.1");
		X509_free(leaf);
	}

	/* wildcards cover one label, no more */
	k = p256();
	o = make_cert("*.wild.test", k, origin_ca, origin_ca_key, false, "DNS:*.wild.test", -86400, 90 * 86400L);
	if ((leaf = mint(ca, o, "a.wild.test"))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:*.wild.test");
		CHECK_STR(subject_cn(leaf, cn, sizeof(cn)), "*.wild.test");
		CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "a.wild.test", false), 1);
		X509_free(leaf);
	}
	if ((leaf = mint(ca, o, "a.b.wild.test"))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:*.wild.test,DNS:a.b.wild.test");
		X509_free(leaf);
	}
	X509_free(o);

	/* an origin with a CN and no SAN: the CN becomes the SAN */
	o = make_cert("cnonly.test", k, origin_ca, origin_ca_key, false, NULL, -86400, 90 * 86400L);
	if ((leaf = mint(ca, o, "cnonly.test"))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:cnonly.test");
		CHECK_INT(verify_leaf(tlsca_cert(ca), leaf, "cnonly.test", false), 1);
		X509_free(leaf);
	}
	X509_free(o);

	/* an origin expiring in two days: the leaf does not outlive it */
	o = make_cert("soon.test", k, origin_ca, origin_ca_key, false, "DNS:soon.test", -86400, 2 * 86400L);
	if ((leaf = mint(ca, o, "soon.test"))) {
		CHECK_INT(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(o)), 0);
		X509_free(leaf);
	}
	X509_free(o);

	/* an expired origin: the leaf shows the same expiry, with a sane window */
	o = make_cert("old.test", k, origin_ca, origin_ca_key, false, "DNS:old.test", -90 * 86400L, -86400L);
	if ((leaf = mint(ca, o, "old.test"))) {
		CHECK_INT(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(o)), 0);
		CHECK(ASN1_TIME_compare(X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)) < 0);
		X509_free(leaf);
	}
	X509_free(o);

	/* nothing to name the leaf after */
	o = make_cert("not a host name", k, origin_ca, origin_ca_key, false, NULL, -86400, 90 * 86400L);
	CHECK(tlsca_mint(ca, o, NULL, NULL, errbuf, sizeof(errbuf)) == NULL);
	CHECK_WHY(why(), "names no host");
	if ((leaf = mint(ca, o, "named.by.sni"))) {
		CHECK_STR(san_text(leaf, buf, sizeof(buf)), "DNS:named.by.sni");
		X509_free(leaf);
	}
	X509_free(o);
	EVP_PKEY_free(k);
}

static void test_cache(struct tlsca *ca, struct tlsca *ca2)
{
	struct tlsca_cache *c = tlsca_cache_new(2);
	struct tlsca_cache_stats st;
	X509 *a, *a2, *b, *b2, *d, *e;
	EVP_PKEY *ka, *ka2, *kb, *kb2, *kd, *ke;
	unsigned long minted = tlsca_mint_count(ca);
	X509 *origin2;

	CHECK_INT(tlsca_cache_get(c, ca, origin, "www.inspect.test", &a, &ka, errbuf, sizeof(errbuf)), 0);
	CHECK_INT(tlsca_mint_count(ca), minted + 1);
	CHECK_INT(tlsca_cache_get(c, ca, origin, "WWW.inspect.test.", &a2, &ka2, errbuf, sizeof(errbuf)), 0);
	CHECK(a == a2); /* same object, no signature */
	CHECK(ka == ka2);
	CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a), X509_get0_serialNumber(a2)) == 0);
	CHECK_INT(tlsca_mint_count(ca), minted + 1);
	X509_free(a2);
	EVP_PKEY_free(ka2);
	tlsca_cache_stats(c, &st);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.misses, 1);

	/* another SNI on the same origin is another entry */
	CHECK_INT(tlsca_cache_get(c, ca, origin, "inspect.test", &b, &kb, errbuf, sizeof(errbuf)), 0);
	CHECK(b != a);
	CHECK_INT(tlsca_mint_count(ca), minted + 2);
	/* touch a, so that b is the least recently used */
	CHECK_INT(tlsca_cache_get(c, ca, origin, "www.inspect.test", &a2, &ka2, errbuf, sizeof(errbuf)), 0);
	CHECK(a == a2);
	X509_free(a2);
	EVP_PKEY_free(ka2);

	/* a third key evicts b */
	origin2 = make_cert("www.inspect.test", origin_key, origin_ca, origin_ca_key, false, "DNS:www.inspect.test",
	                    -86400, 30 * 86400L);
	CHECK_INT(tlsca_cache_get(c, ca, origin2, "www.inspect.test", &d, &kd, errbuf, sizeof(errbuf)), 0);
	tlsca_cache_stats(c, &st);
	CHECK_INT(st.evictions, 1);
	CHECK_INT(st.entries, 2);
	CHECK_INT(st.max, 2);
	CHECK_INT(tlsca_cache_get(c, ca, origin, "www.inspect.test", &a2, &ka2, errbuf, sizeof(errbuf)), 0);
	CHECK(a == a2);
	X509_free(a2);
	EVP_PKEY_free(ka2);
	CHECK_INT(tlsca_cache_get(c, ca, origin, "inspect.test", &b2, &kb2, errbuf, sizeof(errbuf)), 0);
	CHECK(b2 != b); /* re-minted; the evicted one lives on in its holder */
	CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(b), X509_get0_serialNumber(b2)) != 0);
	CHECK_INT(verify_leaf(tlsca_cert(ca), b, "inspect.test", false), 1);

	/* the same origin and SNI under another CA is another leaf */
	CHECK_INT(tlsca_cache_get(c, ca2, origin, "www.inspect.test", &e, &ke, errbuf, sizeof(errbuf)), 0);
	CHECK(e != a);
	CHECK_INT(verify_leaf(tlsca_cert(ca2), e, "www.inspect.test", false), 1);
	CHECK_INT(verify_leaf(tlsca_cert(ca), e, "www.inspect.test", false), 0);

	tlsca_cache_stats(c, &st);
	CHECK_INT(st.hits, 3);
	CHECK_INT(st.misses, 5);
	CHECK_INT(st.evictions, 3);
	CHECK_INT(st.entries, 2);

	X509_free(a);
	X509_free(b);
	X509_free(b2);
	X509_free(d);
	X509_free(e);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(kb2);
	EVP_PKEY_free(kd);
	EVP_PKEY_free(ke);
	X509_free(origin2);
	tlsca_cache_free(c);

	/* max 0: no caching, every call mints */
	c = tlsca_cache_new(0);
	minted = tlsca_mint_count(ca);
	CHECK_INT(tlsca_cache_get(c, ca, origin, "www.inspect.test", &a, NULL, errbuf, sizeof(errbuf)), 0);
	CHECK_INT(tlsca_cache_get(c, ca, origin, "www.inspect.test", &b, NULL, errbuf, sizeof(errbuf)), 0);
	CHECK(a != b);
	CHECK_INT(tlsca_mint_count(ca), minted + 2);
	X509_free(a);
	X509_free(b);
	tlsca_cache_free(c);
}

/* Workers share one cache: hammer it from several threads. */
struct hammer {
	struct tlsca_cache *c;
	struct tlsca *ca;
	int failures;
};

static void *hammer_main(void *arg)
{
	static const char *const snis[] = { "www.inspect.test", "inspect.test", "a.example", "b.example" };
	struct hammer *h = arg;
	char err[256];

	for (int i = 0; i < 500; i++) {
		X509 *x;
		EVP_PKEY *k;

		if (tlsca_cache_get(h->c, h->ca, origin, snis[i % 4], &x, &k, err, sizeof(err)) != 0) {
			h->failures++;
			continue;
		}
		X509_free(x);
		EVP_PKEY_free(k);
	}
	return NULL;
}

static void test_threads(struct tlsca *ca)
{
	struct tlsca_cache *c = tlsca_cache_new(3);
	struct tlsca_cache_stats st;
	struct hammer h[8];
	pthread_t t[8];
	int failures = 0;

	for (int i = 0; i < 8; i++) {
		h[i] = (struct hammer){ c, ca, 0 };
		pthread_create(&t[i], NULL, hammer_main, &h[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		failures += h[i].failures;
	}
	tlsca_cache_stats(c, &st);
	CHECK_INT(failures, 0);
	CHECK_INT(st.hits + st.misses, 8 * 500);
	CHECK(st.entries <= 3);
	printf("threads: 8x500 gets over 4 keys, cache max 3: %lu hits, %lu misses, %lu evictions\n", st.hits,
	       st.misses, st.evictions);
	tlsca_cache_free(c);
}

static void test_timing(struct tlsca *ca)
{
	enum { N_MINT = 300, N_HIT = 2000 };
	struct tlsca_cache *c = tlsca_cache_new(N_MINT * 2);
	char sni[64];
	double t0, mint_us, keygen_us, miss_us, hit_us;
	X509 *x;
	EVP_PKEY *k;

	t0 = now_us();
	for (int i = 0; i < N_MINT; i++) {
		x = tlsca_mint(ca, origin, "www.inspect.test", &k, errbuf, sizeof(errbuf));
		X509_free(x);
		EVP_PKEY_free(k);
	}
	mint_us = (now_us() - t0) / N_MINT;

	t0 = now_us();
	for (int i = 0; i < N_MINT; i++)
		EVP_PKEY_free(p256());
	keygen_us = (now_us() - t0) / N_MINT;

	t0 = now_us();
	for (int i = 0; i < N_MINT; i++) {
		snprintf(sni, sizeof(sni), "h%d.example", i);
		tlsca_cache_get(c, ca, origin, sni, &x, &k, errbuf, sizeof(errbuf));
		X509_free(x);
		EVP_PKEY_free(k);
	}
	miss_us = (now_us() - t0) / N_MINT;

	t0 = now_us();
	for (int i = 0; i < N_HIT; i++) {
		tlsca_cache_get(c, ca, origin, "h7.example", &x, &k, errbuf, sizeof(errbuf));
		X509_free(x);
		EVP_PKEY_free(k);
	}
	hit_us = (now_us() - t0) / N_HIT;

	printf("timing (CPU time per call): mint %.1f us, P-256 keygen %.1f us (a fresh leaf key would add this), "
	       "cache miss %.1f us, "
	       "cache hit %.2f us\n",
	       mint_us, keygen_us, miss_us, hit_us);
	tlsca_cache_free(c);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

int main(void)
{
	struct tlsca *ca, *ca2;
	char crt2[160], key2[160];

	snprintf(tmp, sizeof(tmp), "/tmp/test_tlsca.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	make_origin();
	test_create();
	test_ca_cert();
	test_load_refusals(origin, origin_key);

	ca = tlsca_load(ca_crt, ca_key, errbuf, sizeof(errbuf));
	CHECK(ca != NULL);
	ca2 = tlsca_load(path_in(tmp, "ca2/ca.crt", crt2, sizeof(crt2)), path_in(tmp, "ca2/ca.key", key2, sizeof(key2)),
	                 errbuf, sizeof(errbuf));
	CHECK(ca2 != NULL);
	if (ca && ca2) {
		test_mint(ca);
		test_cache(ca, ca2);
		test_threads(ca);
		test_timing(ca);
	} else {
		fprintf(stderr, "  load: %s\n", errbuf);
	}
	tlsca_free(ca);
	tlsca_free(ca2);
	X509_free(origin);
	X509_free(origin_ca);
	EVP_PKEY_free(origin_key);
	EVP_PKEY_free(origin_ca_key);
	cleanup();
	return unit_summary("test_tlsca");
}
