/*
 * tlsca.c - the inspection CA and the leaves it mints.  It makes and loads
 * the CA, signs leaf certificates carrying an origin's names, and keeps a
 * bounded LRU cache of them so a repeat visit costs no signature.  It does
 * not verify origins (the TLS path does, against tls-trust) nor touch SSL.
 */
#include "tlsca.h"
#include "lru.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CN_MAX 64 /* ub-common-name (RFC 5280); OpenSSL refuses longer CNs */
#define FP_LEN 32 /* SHA-256 */

struct tlsca {
	X509 *cert;
	EVP_PKEY *key;
	const EVP_MD *md; /* SHA-256, or NULL for keys that fix their own (Ed25519) */
	/* One leaf key per loaded CA, in memory only: see tlsca_load. */
	EVP_PKEY *leaf_key;
	EVP_PKEY *leaf_pub;       /* its public half, in the form certificates take fast */
	unsigned char fp[FP_LEN]; /* the CA's identity in cache keys */
	atomic_ulong minted;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The reason of the newest OpenSSL error, leaving the thread's queue empty
 * so that a later, unrelated failure is not blamed on this one. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "unknown OpenSSL error";
}

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool mem_caseeq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

/* A host name fit for a certificate: letters, digits, '-', '_' and dots,
 * with an optional leading "*." when wild is set (origin CNs use them). */
static bool is_dns_name(const char *s, size_t n, bool wild)
{
	if (n == 0 || n > 253)
		return false;
	if (wild && n > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			return false;
		if (c == '.' && (i == 0 || s[i - 1] == '.'))
			return false;
	}
	return true;
}

/* Binary form of an IPv4/IPv6 literal: 4, 16, or 0 when s is not one. */
static int parse_ip(const char *s, unsigned char out[16])
{
	if (inet_pton(AF_INET, s, out) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return 16;
	return 0;
}

/* SNI as the cache and the SAN list use it: lower case, no trailing dot.
 * Empty when there is none. */
static void normalise_sni(const char *sni, char out[256])
{
	size_t n = 0;

	if (sni)
		for (; sni[n] && n < 255; n++)
			out[n] = ascii_lower(sni[n]);
	if (n > 0 && out[n - 1] == '.')
		n--;
	out[n] = '\0';
}

/* A random positive 16-byte serial: unpredictable serials are what keeps a
 * chosen-prefix collision on the signed data out of reach. */
static int set_random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, and exactly 16 bytes */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (!bn)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (!e)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static EVP_PKEY *new_p256_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/*
 * OpenSSL 3.0 puts a provider key into a certificate by running it through
 * its encoder and back through its decoder chain: about 250 us a
 * certificate here, most of a mint.  A copy of the public half in the
 * built-in EC form is encoded directly (a few us).  Only the public half:
 * the private key TLS signs with stays the provider key.  NULL when the
 * copy cannot be made; mints then take the slow way.
 */
static EVP_PKEY *quick_public_copy(EVP_PKEY *key)
{
	unsigned char point[133]; /* an uncompressed point up to P-521 */
	size_t len = 0;
	const unsigned char *p = point;
	EVP_PKEY *pub = EVP_PKEY_new();

	if (!pub || !EVP_PKEY_set_type(pub, EVP_PKEY_EC) || !EVP_PKEY_copy_parameters(pub, key) ||
	    !EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof(point), &len) ||
	    !d2i_PublicKey(EVP_PKEY_EC, &pub, &p, (long)len) || EVP_PKEY_eq(pub, key) != 1) {
		EVP_PKEY_free(pub);
		ERR_clear_error();
		return NULL;
	}
	return pub;
}

/* "2031-05-04 10:00:00 UTC" for error messages about validity. */
static const char *time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1 || strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "(unreadable date)");
	return buf;
}

/* ---- making the CA ---- */

/* "pinhole inspection CA proxy1 2025-06-01": an admin looking at a client's
 * trust store can tell which proxy installed which CA, and when. */
static void ca_common_name(char *cn, size_t len)
{
	static const char prefix[] = "pinhole inspection CA ";
	char host[256] = "";
	char date[16];
	time_t now = time(NULL);
	struct tm tm;
	int room;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	for (char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.'))
			*p = '-';
	/* The CN must fit 64 characters: the host name gives way. */
	room = CN_MAX - (int)(sizeof(prefix) - 1) - 1 - (int)strlen(date);
	if (host[0])
		snprintf(cn, len, "%s%.*s %s", prefix, room, host, date);
	else
		snprintf(cn, len, "%s%s", prefix, date);
}

static X509 *make_ca_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	char cn[CN_MAX + 1];
	time_t now = time(NULL);

	if (!x)
		return NULL;
	ca_common_name(cn, sizeof(cn));
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) || set_random_serial(x) != 0 ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"pinhole", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), TLSCA_CA_DAYS, 0, &now) || !X509_set_pubkey(x, key))
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	/* pathlen:0 - the CA signs leaves only, never another CA. */
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* Writes one PEM file that must not exist yet.  The mode is given to
 * open() itself (and fixed with fchmod in case of an odd umask), so the key
 * is never readable by others, not even between create and chmod. */
static int write_new_file(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0) {
		if (errno == EEXIST)
			set_err(err, errlen,
			        "%s already exists; refusing to overwrite it (move it away or choose another "
			        "directory)",
			        path);
		else
			set_err(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w"))) {
		set_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	errno = 0;
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, cert);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		set_err(err, errlen, "cannot write %s: %s", path, errno ? strerror(errno) : ssl_reason());
		unlink(path);
		return -1;
	}
	return 0;
}

int tlsca_create(const char *dir, char *err, size_t errlen)
{
	char crt_path[PATH_MAX], key_path[PATH_MAX];
	struct stat st;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = -1;

	if (!dir || !*dir) {
		set_err(err, errlen, "no directory given for the CA");
		return -1;
	}
	if ((size_t)snprintf(crt_path, sizeof(crt_path), "%s/ca.crt", dir) >= sizeof(crt_path) ||
	    (size_t)snprintf(key_path, sizeof(key_path), "%s/ca.key", dir) >= sizeof(key_path)) {
		set_err(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (mkdir(dir, 0700) != 0) {
		if (errno != EEXIST) {
			set_err(err, errlen, "cannot create directory %s: %s", dir, strerror(errno));
			return -1;
		}
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			set_err(err, errlen, "%s exists and is not a directory", dir);
			return -1;
		}
	}
	/* Both checked before anything is written, so a refusal leaves no
	 * half-made CA behind; O_EXCL below still guards against a race. */
	if (lstat(key_path, &st) == 0 || lstat(crt_path, &st) == 0) {
		set_err(err, errlen,
		        "%s already exists; refusing to overwrite it (move it away or choose another directory)",
		        lstat(key_path, &st) == 0 ? key_path : crt_path);
		return -1;
	}
	key = new_p256_key();
	if (!key || !(cert = make_ca_cert(key))) {
		set_err(err, errlen, "cannot make the CA certificate: %s", ssl_reason());
		goto out;
	}
	if (write_new_file(key_path, 0600, NULL, key, err, errlen) != 0)
		goto out;
	if (write_new_file(crt_path, 0644, cert, NULL, err, errlen) != 0) {
		unlink(key_path);
		goto out;
	}
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- loading the CA ---- */

/* Never prompt on the terminal for a passphrase: pinhole runs as a daemon. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	if (u)
		*(int *)u = 1;
	return 0;
}

EVP_PKEY *tlsca_read_key(const char *path, const char *what, const char *risk, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	FILE *f;
	EVP_PKEY *key;
	int asked = 0;

	if (fd < 0) {
		set_err(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	/* fstat on the open file: the mode checked is that of what is read. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, "%s %s is not a regular file", what, path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		set_err(err, errlen,
		        "%s %s is readable or writable by group or others (mode %04o); whoever reads it %s: run "
		        "chmod 600 %s",
		        what, path, (unsigned)(st.st_mode & 07777), risk, path);
		close(fd);
		return NULL;
	}
	if (!(f = fdopen(fd, "r"))) {
		set_err(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
		close(fd);
		return NULL;
	}
	key = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
	fclose(f);
	if (!key) {
		if (asked)
			set_err(err, errlen,
			        "%s %s is encrypted; pinhole needs it unencrypted (umask 077; openssl pkey -in %s "
			        "-out NEWFILE)",
			        what, path, path);
		else
			set_err(err, errlen, "%s %s holds no PEM private key: %s", what, path, ssl_reason());
		ERR_clear_error();
	}
	return key;
}

static X509 *load_cert(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	X509 *x;

	if (!f) {
		set_err(err, errlen, "cannot open CA certificate %s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (!x)
		set_err(err, errlen, "CA certificate %s holds no PEM certificate: %s", path, ssl_reason());
	return x;
}

/* Refusals that would otherwise surface only as every inspected site
 * failing in every browser. */
static int check_ca_cert(X509 *cert, const char *path, char *err, size_t errlen)
{
	uint32_t flags = X509_get_extension_flags(cert);
	char when[48];

	if (flags & EXFLAG_INVALID) {
		set_err(err, errlen, "CA certificate %s has malformed extensions", path);
		return -1;
	}
	if (!(flags & EXFLAG_CA)) {
		set_err(err, errlen,
		        "%s is not a CA certificate (no basicConstraints CA:TRUE), so clients would reject what it "
		        "signs; make one with 'pinhole ca create DIR'",
		        path);
		return -1;
	}
	if (!(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)) {
		set_err(err, errlen, "CA certificate %s may not sign certificates (its keyUsage lacks keyCertSign)",
		        path);
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		set_err(err, errlen,
		        "CA certificate %s expired on %s; make a new one with 'pinhole ca create DIR' and install it "
		        "on the clients",
		        path, time_str(X509_get0_notAfter(cert), when, sizeof(when)));
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		set_err(err, errlen, "CA certificate %s is not valid before %s; check this machine's clock", path,
		        time_str(X509_get0_notBefore(cert), when, sizeof(when)));
		return -1;
	}
	return 0;
}

struct tlsca *tlsca_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct tlsca *ca = calloc(1, sizeof(*ca));
	unsigned int n = 0;
	int nid = NID_undef;

	if (!ca) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&ca->minted, 0);
	if (!(ca->key = tlsca_read_key(key_path, "CA key", "can impersonate any site to your users", err, errlen)) ||
	    !(ca->cert = load_cert(cert_path, err, errlen)))
		goto fail;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ERR_clear_error();
		set_err(err, errlen, "CA key %s does not match CA certificate %s (it is another certificate's key)",
		        key_path, cert_path);
		goto fail;
	}
	if (check_ca_cert(ca->cert, cert_path, err, errlen) != 0)
		goto fail;
	/* Ed25519/Ed448 sign the message itself and take no digest. */
	if (EVP_PKEY_get_default_digest_nid(ca->key, &nid) == 2 && nid == NID_undef)
		ca->md = NULL;
	else
		ca->md = EVP_sha256();
	/*
	 * Every leaf of this CA shares one P-256 key, made here and never
	 * written anywhere.  A fresh key per leaf would add a key generation
	 * (about half the cost of a mint) and the slow public-key path below
	 * to every mint, and buys nothing: the key only authenticates the
	 * proxy to its own clients (forward secrecy comes from ECDHE), whoever
	 * could steal it from this process could steal the CA key beside it,
	 * and it dies with the process or the next reload.
	 */
	if (!(ca->leaf_key = new_p256_key()) || !X509_digest(ca->cert, EVP_sha256(), ca->fp, &n) || n != FP_LEN) {
		set_err(err, errlen, "cannot prepare leaf key for %s: %s", cert_path, ssl_reason());
		goto fail;
	}
	ca->leaf_pub = quick_public_copy(ca->leaf_key);
	return ca;
fail:
	tlsca_free(ca);
	return NULL;
}

void tlsca_free(struct tlsca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->leaf_key);
	EVP_PKEY_free(ca->leaf_pub);
	free(ca);
}

X509 *tlsca_cert(const struct tlsca *ca)
{
	return ca->cert;
}

unsigned long tlsca_mint_count(const struct tlsca *ca)
{
	return atomic_load(&((struct tlsca *)ca)->minted);
}

/* ---- minting ---- */

/* Does a SAN dNSName cover host?  Exact, or a "*.rest" wildcard matching
 * one whole left-most label.  Strict on purpose: a name judged not covered
 * is simply added to the leaf, which costs nothing. */
static bool dns_covers(const char *pat, size_t plen, const char *host)
{
	size_t hlen = strlen(host);
	const char *dot;

	if (plen == hlen && mem_caseeq(pat, host, hlen))
		return true;
	if (plen < 4 || pat[0] != '*' || pat[1] != '.' || !memchr(pat + 2, '.', plen - 2))
		return false;
	dot = strchr(host, '.');
	return dot && dot != host && strlen(dot) == plen - 1 && mem_caseeq(dot, pat + 1, plen - 1);
}

static bool names_cover(const GENERAL_NAMES *names, const char *host, const unsigned char *ip, int iplen)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s;

		if (g->type == GEN_DNS && !iplen) {
			s = g->d.dNSName;
			if (dns_covers((const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), host))
				return true;
		} else if (g->type == GEN_IPADD && iplen) {
			s = g->d.iPAddress;
			if (ASN1_STRING_length(s) == iplen && memcmp(ASN1_STRING_get0_data(s), ip, (size_t)iplen) == 0)
				return true;
		}
	}
	return false;
}

/* Appends a name given as text: an IP literal becomes an iPAddress entry,
 * anything else a dNSName. */
static int push_name(GENERAL_NAMES *names, const char *s)
{
	unsigned char ip[16];
	int iplen = parse_ip(s, ip);
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *v = iplen ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();

	if (!g || !v || !ASN1_STRING_set(v, iplen ? (const void *)ip : (const void *)s, iplen ? iplen : (int)strlen(s)))
		goto fail;
	GENERAL_NAME_set0_value(g, iplen ? GEN_IPADD : GEN_DNS, v);
	if (!sk_GENERAL_NAME_push(names, g)) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
fail:
	ASN1_STRING_free(v);
	GENERAL_NAME_free(g);
	return -1;
}

/* The origin's last CN as text, when it looks like a host name or IP. */
static int origin_cn(X509 *origin, char *out, size_t len)
{
	X509_NAME *name = X509_get_subject_name(origin);
	int i = -1, last = -1;
	unsigned char *utf8 = NULL;
	unsigned char ip[16];
	int n;

	while ((i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0)
		return -1;
	n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
	if (n <= 0 || (size_t)n >= len || strlen((char *)utf8) != (size_t)n) {
		OPENSSL_free(utf8);
		return -1;
	}
	memcpy(out, utf8, (size_t)n + 1);
	OPENSSL_free(utf8);
	return (is_dns_name(out, (size_t)n, true) || parse_ip(out, ip)) ? 0 : -1;
}

/* The names the leaf will carry: the origin's DNS and IP SANs (other kinds
 * mean nothing to a TLS client), else its CN; then the SNI if the client
 * asked for a name those do not cover. */
static GENERAL_NAMES *leaf_names(X509 *origin, const char *sni)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAMES *from = X509_get_ext_d2i(origin, NID_subject_alt_name, NULL, NULL);
	unsigned char ip[16];
	char cn[256];
	int iplen;

	if (!names)
		goto fail;
	for (int i = 0; i < sk_GENERAL_NAME_num(from); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(from, i), *copy;

		if (g->type != GEN_DNS && g->type != GEN_IPADD)
			continue;
		if (!(copy = GENERAL_NAME_dup(g)) || !sk_GENERAL_NAME_push(names, copy)) {
			GENERAL_NAME_free(copy);
			goto fail;
		}
	}
	if (sk_GENERAL_NAME_num(names) == 0 && origin_cn(origin, cn, sizeof(cn)) == 0 && push_name(names, cn) != 0)
		goto fail;
	/* A client-supplied SNI that is not a plausible name is left out rather
	 * than written into a certificate; the client then fails as it would
	 * have against the origin. */
	if (sni[0] && ((iplen = parse_ip(sni, ip)) || is_dns_name(sni, strlen(sni), false)) &&
	    !names_cover(names, sni, ip, iplen) && push_name(names, sni) != 0)
		goto fail;
	GENERAL_NAMES_free(from);
	return names;
fail:
	GENERAL_NAMES_free(from);
	GENERAL_NAMES_free(names);
	return NULL;
}

/* The subject CN: the first name that fits in a CN.  Browsers ignore it,
 * but people reading the certificate and older tools look there. */
static int leaf_cn(const GENERAL_NAMES *names, char *out, size_t len)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const ASN1_STRING *s = g->type == GEN_DNS ? g->d.dNSName : g->d.iPAddress;
		int n = ASN1_STRING_length(s);

		if (g->type == GEN_DNS && n > 0 && n <= CN_MAX && (size_t)n < len &&
		    is_dns_name((const char *)ASN1_STRING_get0_data(s), (size_t)n, true)) {
			memcpy(out, ASN1_STRING_get0_data(s), (size_t)n);
			out[n] = '\0';
			return 0;
		}
		if (g->type == GEN_IPADD && (n == 4 || n == 16) &&
		    inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), out, (socklen_t)len))
			return 0;
	}
	return -1;
}

/*
 * Validity: from an hour ago (clients with slow clocks) to at most
 * TLSCA_LEAF_DAYS from now, and never past the origin's own notAfter so
 * the client sees no longer a life than the real certificate has.  Short
 * because a minted leaf cannot be revoked: if one leaks (or the shared leaf
 * key does), it is useless within a week; the cache re-mints before then.
 * An origin already expired keeps its own window, so the client sees the
 * expiry instead of a certificate that is valid nowhere in time.
 */
static int set_leaf_validity(X509 *leaf, X509 *origin)
{
	const ASN1_TIME *o_after = X509_get0_notAfter(origin);
	time_t now = time(NULL);
	time_t start = now - 3600, limit = now + (time_t)TLSCA_LEAF_DAYS * 86400;

	if (!X509_time_adj_ex(X509_getm_notBefore(leaf), 0, -3600, &now))
		return -1;
	if (X509_cmp_time(o_after, &limit) < 0) {
		if (!X509_set1_notAfter(leaf, o_after))
			return -1;
		if (X509_cmp_time(o_after, &start) < 0 && !X509_set1_notBefore(leaf, X509_get0_notBefore(origin)))
			return -1;
		return 0;
	}
	return X509_time_adj_ex(X509_getm_notAfter(leaf), TLSCA_LEAF_DAYS, 0, &now) ? 0 : -1;
}

X509 *tlsca_mint(struct tlsca *ca, X509 *origin, const char *sni, EVP_PKEY **key_out, char *err, size_t errlen)
{
	char host[256], cn[256];
	GENERAL_NAMES *names = NULL;
	X509 *x = NULL;
	X509_NAME *subj;
	X509V3_CTX ctx;
	bool has_cn;

	if (!ca || !origin) {
		set_err(err, errlen, "no CA or no origin certificate to mint from");
		return NULL;
	}
	normalise_sni(sni, host);
	if (!(names = leaf_names(origin, host))) {
		set_err(err, errlen, "cannot collect the origin certificate's names: %s", ssl_reason());
		return NULL;
	}
	if (sk_GENERAL_NAME_num(names) == 0) {
		set_err(err, errlen,
		        "the origin certificate names no host (no DNS/IP subjectAltName, no usable CN) "
		        "and the client sent no SNI");
		goto fail;
	}
	has_cn = leaf_cn(names, cn, sizeof(cn)) == 0;
	if (!(x = X509_new()))
		goto ssl_fail;
	subj = X509_get_subject_name(x);
	if (!X509_set_version(x, X509_VERSION_3) || set_random_serial(x) != 0 ||
	    (has_cn &&
	     !X509_NAME_add_entry_by_NID(subj, NID_commonName, MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) || set_leaf_validity(x, origin) != 0 ||
	    !X509_set_pubkey(x, ca->leaf_pub ? ca->leaf_pub : ca->leaf_key))
		goto ssl_fail;
	X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
	/* CA:FALSE and serverAuth are not optional: Apple's TLS stack (and
	 * Chrome on macOS/iOS) reject leaves without them.  digitalSignature
	 * alone suits an EC key, which signs the handshake and never
	 * encrypts. An empty subject makes the SAN critical (RFC 5280). */
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid,issuer") != 0 ||
	    !X509_add1_ext_i2d(x, NID_subject_alt_name, names, has_cn ? 0 : 1, X509V3_ADD_DEFAULT))
		goto ssl_fail;
	if (X509_sign(x, ca->key, ca->md) <= 0)
		goto ssl_fail;
	atomic_fetch_add(&ca->minted, 1);
	GENERAL_NAMES_free(names);
	if (key_out) {
		EVP_PKEY_up_ref(ca->leaf_key);
		*key_out = ca->leaf_key;
	}
	return x;
ssl_fail:
	set_err(err, errlen, "cannot sign a certificate for %s: %s", has_cn ? cn : host, ssl_reason());
fail:
	GENERAL_NAMES_free(names);
	X509_free(x);
	return NULL;
}

/* ---- the cache ---- */

/*
 * One cache for the whole process behind one mutex.  Per-worker caches
 * would mint the same site once per worker (the kernel spreads a client's
 * connections across workers) and hold as many copies; the lock is held
 * only for a hash lookup and a list splice, never while signing, so
 * workers wait on each other for well under a microsecond.  Two workers
 * missing on the same key at once both sign; the second result is dropped.
 */
struct entry {
	struct lru_node node;
	time_t refresh_at; /* re-mint from here on, before the leaf runs out */
	unsigned char ca_fp[FP_LEN];
	unsigned char fp[FP_LEN];
	X509 *cert;
	EVP_PKEY *key;
	char sni[]; /* normalised */
};

struct tlsca_cache {
	pthread_mutex_t lock;
	struct lru table;
	unsigned long hits, misses, evictions;
};

struct tlsca_cache *tlsca_cache_new(size_t max)
{
	struct tlsca_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (lru_init(&c->table, max) < 0) {
		free(c);
		return NULL;
	}
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		lru_free(&c->table, NULL);
		free(c);
		return NULL;
	}
	return c;
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	X509_free(e->cert);
	EVP_PKEY_free(e->key);
	free(e);
}

static void node_free(struct lru_node *n)
{
	entry_free((struct entry *)n);
}

void tlsca_cache_free(struct tlsca_cache *c)
{
	if (!c)
		return;
	lru_free(&c->table, node_free);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The key: the CA and the origin certificate (their SHA-256) and the SNI. */
struct key {
	const unsigned char *ca_fp, *fp;
	const char *sni;
};

static uint64_t key_hash(const struct key *k)
{
	/* A prefix of each digest is hash enough. */
	uint64_t h = lru_hash(LRU_HASH_INIT, k->ca_fp, 8);

	h = lru_hash(h, k->fp, 8);
	return lru_hash(h, k->sni, strlen(k->sni));
}

static bool key_eq(const struct lru_node *n, const void *key)
{
	const struct entry *e = (const struct entry *)n;
	const struct key *k = key;

	return memcmp(e->fp, k->fp, FP_LEN) == 0 && memcmp(e->ca_fp, k->ca_fp, FP_LEN) == 0 &&
	       strcmp(e->sni, k->sni) == 0;
}

static struct entry *find(struct tlsca_cache *c, uint64_t h, const struct key *k)
{
	return (struct entry *)lru_find(&c->table, h, key_eq, k);
}

static void hand_out(struct entry *e, X509 **cert, EVP_PKEY **key)
{
	X509_up_ref(e->cert);
	*cert = e->cert;
	if (key) {
		EVP_PKEY_up_ref(e->key);
		*key = e->key;
	}
}

int tlsca_cache_get(struct tlsca_cache *c, struct tlsca *ca, X509 *origin, const char *sni, X509 **cert, EVP_PKEY **key,
                    char *err, size_t errlen)
{
	unsigned char fp[FP_LEN];
	unsigned int n = 0;
	char host[256];
	struct entry *e, *stale = NULL, *evicted = NULL, *fresh;
	time_t now = time(NULL);
	uint64_t h;
	size_t sl;

	*cert = NULL;
	if (key)
		*key = NULL;
	if (!c || !ca || !origin) {
		set_err(err, errlen, "no cache, CA or origin certificate");
		return -1;
	}
	if (!X509_digest(origin, EVP_sha256(), fp, &n) || n != FP_LEN) {
		set_err(err, errlen, "cannot fingerprint the origin certificate: %s", ssl_reason());
		return -1;
	}
	normalise_sni(sni, host);
	struct key k = { ca->fp, fp, host };

	h = key_hash(&k);

	pthread_mutex_lock(&c->lock);
	if ((e = find(c, h, &k)) && now < e->refresh_at) {
		lru_touch(&c->table, &e->node);
		c->hits++;
		hand_out(e, cert, key);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	if (e) {
		lru_remove(&c->table, &e->node);
		stale = e;
	}
	c->misses++;
	pthread_mutex_unlock(&c->lock);
	entry_free(stale);

	sl = strlen(host);
	if (!(fresh = calloc(1, sizeof(*fresh) + sl + 1))) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	if (!(fresh->cert = tlsca_mint(ca, origin, host, &fresh->key, err, errlen))) {
		free(fresh);
		return -1;
	}
	fresh->refresh_at = now + (time_t)TLSCA_LEAF_DAYS * 86400 - 3600;
	memcpy(fresh->ca_fp, ca->fp, FP_LEN);
	memcpy(fresh->fp, fp, FP_LEN);
	memcpy(fresh->sni, host, sl + 1);
	if (c->table.max == 0) {
		*cert = fresh->cert;
		if (key)
			*key = fresh->key;
		else
			EVP_PKEY_free(fresh->key);
		free(fresh);
		return 0;
	}

	pthread_mutex_lock(&c->lock);
	if ((e = find(c, h, &k))) {
		/* Another worker minted it meanwhile: everyone uses theirs. */
		hand_out(e, cert, key);
		pthread_mutex_unlock(&c->lock);
		entry_free(fresh);
		return 0;
	}
	if (lru_full(&c->table)) {
		evicted = (struct entry *)lru_oldest(&c->table);
		lru_remove(&c->table, &evicted->node);
		c->evictions++;
	}
	lru_insert(&c->table, &fresh->node, h);
	hand_out(fresh, cert, key);
	pthread_mutex_unlock(&c->lock);
	entry_free(evicted);
	return 0;
}

void tlsca_cache_stats(struct tlsca_cache *c, struct tlsca_cache_stats *st)
{
	pthread_mutex_lock(&c->lock);
	st->hits = c->hits;
	st->misses = c->misses;
	st->evictions = c->evictions;
	st->entries = c->table.n;
	st->max = c->table.max;
	pthread_mutex_unlock(&c->lock);
}
