/*
 * ntlm_users.c - the NTLM users file and the one-way functions over its NT
 * hashes (MS-NLMP 3.3.1 and 3.3.2).  Hashes never leave this file except as
 * the results of those functions; error texts name users, never hashes.
 */
#include "ntlm_users.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#include "common.h"
#include "cfgparse.h"
#include "ntlm_msg.h"
#include "scheme.h"

#define USERS_FILE_MAX (16 * 1024 * 1024)
#define NAME_MAX_BYTES 256

/* ---- the file ---- */

static int parse_hash(const char *s, size_t len, uint8_t out[16])
{
	if (len != 32)
		return -1;
	for (size_t i = 0; i < 16; i++) {
		int hi = ph_hexval(s[2 * i]), lo = ph_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* A name as the file may hold it: printable UTF-8 without ':' or '\'. */
static bool name_ok(const char *s)
{
	char folded[NAME_MAX_BYTES];

	if (!*s || ntlm_msg_fold_utf8(s, folded, sizeof(folded)) < 0)
		return false;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ':' || *s == '\\')
			return false;
	}
	return true;
}

static char *folded_copy(const char *s)
{
	char folded[NAME_MAX_BYTES];

	if (ntlm_msg_fold_utf8(s, folded, sizeof(folded)) < 0)
		return NULL;
	return ph_strdup(folded);
}

static int user_cmp(const void *a, const void *b)
{
	const struct ntlm_user *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c)
		return c;
	if (!x->domain || !y->domain)
		return !!x->domain - !!y->domain;
	return strcmp(x->domain, y->domain);
}

/* One non-comment line, already trimmed: [DOMAIN\]user:NTHASH. */
static int parse_line(struct ntlm_users *u, char *s, const char *name, int line, struct cfg_errors *errs)
{
	char *colon = strrchr(s, ':'), *bs, *user, *domain = NULL, *end;
	struct ntlm_user e;

	if (!colon) {
		cfg_error(errs, name, line, "expected DOMAIN\\user:NTHASH or user:NTHASH (no ':' on this line)");
		return -1;
	}
	*colon = '\0';
	for (end = colon; end > s && is_space(end[-1]); end--)
		end[-1] = '\0';
	bs = strchr(s, '\\');
	user = s;
	if (bs) {
		*bs = '\0';
		domain = s;
		user = bs + 1;
		if (!*domain) {
			cfg_error(errs, name, line,
			          "the domain before '\\' is empty (write user:NTHASH for any domain)");
			return -1;
		}
		if (!name_ok(domain)) {
			cfg_error(errs, name, line,
			          "the domain '%s' is not a name (printable UTF-8 of at most %d bytes, no ':')", domain,
			          NAME_MAX_BYTES - 1);
			return -1;
		}
	}
	if (!*user) {
		cfg_error(errs, name, line, "the user name is empty");
		return -1;
	}
	if (!name_ok(user)) {
		cfg_error(
		        errs, name, line,
		        "the user name '%s' is not a name (printable UTF-8 of at most %d bytes, no ':' or second '\\')",
		        user, NAME_MAX_BYTES - 1);
		return -1;
	}
	colon++;
	while (is_space(*colon))
		colon++;
	if (parse_hash(colon, strlen(colon), e.nthash) < 0) {
		cfg_error(
		        errs, name, line,
		        "the NT hash of '%s' is not 32 hexadecimal digits (make the line with 'pinhole passwd --ntlm')",
		        user);
		return -1;
	}
	e.user = folded_copy(user);
	e.domain = domain ? folded_copy(domain) : NULL;
	e.line = line;
	u->v = ph_realloc(u->v, (u->n + 1) * sizeof(*u->v));
	u->v[u->n++] = e;
	OPENSSL_cleanse(e.nthash, sizeof(e.nthash));
	return 0;
}

int ntlm_users_parse(struct ntlm_users *u, const char *name, const char *text, size_t len, struct cfg_errors *errs)
{
	int line = 0, rc = 0;
	size_t i = 0;

	u->v = NULL;
	u->n = 0;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
		char *s = ph_strndup(text + i, n), *e;

		line++;
		i += n + 1;
		if (strlen(s) != n) {
			cfg_error(errs, name, line, "the line contains a NUL byte");
			rc = -1;
			free(s);
			continue;
		}
		for (e = s + n; e > s && (is_space(e[-1]) || e[-1] == '\r'); e--)
			;
		*e = '\0';
		char *b = s;

		while (is_space(*b))
			b++;
		if (*b && *b != '#' && parse_line(u, b, name, line, errs) < 0)
			rc = -1;
		OPENSSL_cleanse(s, n);
		free(s);
	}
	if (u->n > 1)
		qsort(u->v, u->n, sizeof(*u->v), user_cmp);
	for (size_t k = 1; k < u->n; k++) {
		const struct ntlm_user *a = &u->v[k - 1], *b = &u->v[k];

		if (user_cmp(a, b) == 0) {
			const struct ntlm_user *later = a->line > b->line ? a : b, *first = a->line > b->line ? b : a;

			cfg_error(errs, name, later->line, "%s%s%s is listed twice (first on line %d)",
			          later->domain ? later->domain : "", later->domain ? "\\" : "", later->user,
			          first->line);
			rc = -1;
		}
	}
	return rc;
}

int ntlm_users_load(struct ntlm_users *u, const char *path, const char *file, int line, struct cfg_errors *errs)
{
	size_t len;
	char *text = auth_read_file(path, USERS_FILE_MAX, &len);
	int rc;

	u->v = NULL;
	u->n = 0;
	if (!text) {
		cfg_error(errs, file, line, "cannot read the NTLM users file '%s': %s", path,
		          errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
		return -1;
	}
	rc = ntlm_users_parse(u, path, text, len, errs);
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc == 0 && u->n == 0) {
		cfg_error(errs, file, line, "the NTLM users file '%s' lists no user", path);
		rc = -1;
	}
	return rc;
}

void ntlm_users_free(struct ntlm_users *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].user);
		free(u->v[i].domain);
	}
	if (u->v)
		OPENSSL_cleanse(u->v, u->n * sizeof(*u->v));
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

const struct ntlm_user *ntlm_users_find(const struct ntlm_users *u, const char *user, const char *domain)
{
	char fu[NAME_MAX_BYTES], fd[NAME_MAX_BYTES];
	const struct ntlm_user *any = NULL;
	size_t lo = 0, hi = u->n;

	if (ntlm_msg_fold_utf8(user, fu, sizeof(fu)) < 0 || ntlm_msg_fold_utf8(domain, fd, sizeof(fd)) < 0)
		return NULL;
	/* The first entry of this user; its domains follow in order. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(u->v[mid].user, fu) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < u->n && strcmp(u->v[i].user, fu) == 0; i++) {
		if (!u->v[i].domain)
			any = &u->v[i];
		else if (strcmp(u->v[i].domain, fd) == 0)
			return &u->v[i];
	}
	return any;
}

const char *ntlm_users_only_domain(const struct ntlm_users *u)
{
	const char *only = NULL;

	for (size_t i = 0; i < u->n; i++) {
		if (!u->v[i].domain)
			continue;
		if (only && strcmp(only, u->v[i].domain) != 0)
			return NULL;
		only = u->v[i].domain;
	}
	return only;
}

/* ---- one-way functions ---- */

/* MD4 only makes NT hashes for `pinhole passwd --ntlm` (the proxy itself
 * reads hashes).  OpenSSL 3 keeps MD4 in its legacy provider, which is
 * loaded into a private library context so that the process-wide default
 * (used for TLS) is left as it was. */
int ntlm_users_nt_hash(const char *password, uint8_t out[16])
{
	size_t len = strlen(password);
	uint8_t *u16 = ph_malloc(2 * len + 4);
	long n = ntlm_msg_utf8_to_utf16(password, len, u16, 2 * len + 4);
	OSSL_LIB_CTX *lib = NULL;
	OSSL_PROVIDER *legacy = NULL;
	EVP_MD *md = NULL;
	unsigned int outlen = 0;
	int rc = -1;

	if (n < 0)
		goto out;
	/* A failed fetch queues an error; keep the queue as it was. */
	ERR_set_mark();
	md = EVP_MD_fetch(NULL, "MD4", NULL);
	if (!md) {
		lib = OSSL_LIB_CTX_new();
		legacy = lib ? OSSL_PROVIDER_load(lib, "legacy") : NULL;
		md = legacy ? EVP_MD_fetch(lib, "MD4", NULL) : NULL;
	}
	ERR_pop_to_mark();
	if (md && EVP_Digest(u16, (size_t)n, out, &outlen, md, NULL) == 1 && outlen == 16)
		rc = 0;
out:
	OPENSSL_cleanse(u16, 2 * len + 4);
	free(u16);
	EVP_MD_free(md);
	if (legacy)
		OSSL_PROVIDER_unload(legacy);
	OSSL_LIB_CTX_free(lib);
	return rc;
}

static int hmac_md5(const uint8_t key[16], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                    uint8_t out[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"MD5", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t outlen = 0;
	int ok = ctx && EVP_MAC_init(ctx, key, 16, params) == 1 && EVP_MAC_update(ctx, a, alen) == 1 &&
	         EVP_MAC_update(ctx, b, blen) == 1 && EVP_MAC_final(ctx, out, &outlen, 16) == 1 && outlen == 16;

	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? 0 : -1;
}

int ntlm_users_ntowfv2(const uint8_t nthash[16], const uint8_t *identity, size_t len, uint8_t out[16])
{
	return hmac_md5(nthash, identity, len, NULL, 0, out);
}

int ntlm_users_v2_proof(const uint8_t ntowfv2[16], const uint8_t challenge[8], const uint8_t *data, size_t len,
                        uint8_t out[16])
{
	return hmac_md5(ntowfv2, challenge, 8, data, len, out);
}

/* Spreads 56 key bits over 8 bytes, 7 to a byte (the low bit is DES's
 * parity bit, which the cipher ignores). */
static void des_key(const uint8_t k7[7], uint8_t k8[8])
{
	k8[0] = k7[0];
	for (int i = 1; i < 7; i++)
		k8[i] = (uint8_t)(k7[i - 1] << (8 - i) | k7[i] >> i);
	k8[7] = (uint8_t)(k7[6] << 1);
}

/* Single DES lives in OpenSSL 3's legacy provider, triple DES does not:
 * EDE3 with three equal keys is E(K, D(K, E(K, x))) = E(K, x). */
static int des_ecb(const uint8_t k7[7], const uint8_t in[8], uint8_t out[8])
{
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "DES-EDE3-ECB", NULL);
	EVP_CIPHER_CTX *ctx = cipher ? EVP_CIPHER_CTX_new() : NULL;
	uint8_t key[24];
	int n = 0, ok;

	des_key(k7, key);
	memcpy(key + 8, key, 8);
	memcpy(key + 16, key, 8);
	ok = ctx && EVP_EncryptInit_ex2(ctx, cipher, key, NULL, NULL) == 1 && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &n, in, 8) == 1 && n == 8;
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	return ok ? 0 : -1;
}

int ntlm_users_desl(const uint8_t nthash[16], const uint8_t data[8], uint8_t out[24])
{
	uint8_t third[7] = { nthash[14], nthash[15], 0, 0, 0, 0, 0 };

	if (des_ecb(nthash, data, out) < 0 || des_ecb(nthash + 7, data, out + 8) < 0 ||
	    des_ecb(third, data, out + 16) < 0)
		return -1;
	return 0;
}

int ntlm_users_ntlm2_session(const uint8_t nthash[16], const uint8_t server[8], const uint8_t client[8],
                             uint8_t out[24])
{
	uint8_t both[16], md5[16];
	unsigned int n = 0;

	memcpy(both, server, 8);
	memcpy(both + 8, client, 8);
	if (EVP_Digest(both, sizeof(both), md5, &n, EVP_md5(), NULL) != 1 || n != 16)
		return -1;
	return ntlm_users_desl(nthash, md5, out);
}

char *ntlm_users_make_line(const char *domain, const char *user, const char *password)
{
	uint8_t h[16];
	char hex[33], *line;
	size_t n;

	if (domain && !*domain)
		domain = NULL;
	if (!name_ok(user) || (domain && !name_ok(domain)) || (!domain && user[0] == '#'))
		return NULL;
	if (ntlm_users_nt_hash(password, h) < 0)
		return NULL;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	OPENSSL_cleanse(h, sizeof(h));
	n = (domain ? strlen(domain) + 1 : 0) + strlen(user) + 1 + 32 + 1;
	line = ph_malloc(n);
	snprintf(line, n, "%s%s%s:%s", domain ? domain : "", domain ? "\\" : "", user, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return line;
}
