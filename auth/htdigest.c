/*
 * htdigest.c - Digest credential files (user:realm:HA1-MD5[:HA1-SHA-256]),
 * read whole at configuration time, sorted for lookups by name and by
 * hashed name, and the H()/hex helpers Digest is built on.  The file never
 * holds a password, but its HA1 values are as good as one: they never leave.
 */
#include "htdigest.h"
#include "scheme.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common.h"
#include "cfgparse.h"

#define HTDIGEST_FILE_MAX (16 * 1024 * 1024)
/* A wrong file (a binary, an htpasswd) would otherwise flood the log. */
#define HTDIGEST_MAX_ERRORS 10

size_t htdigest_hash_len(enum htdigest_alg alg)
{
	return alg == HTDIGEST_SHA256 ? 32 : 16;
}

int htdigest_hash(enum htdigest_alg alg, const char *const *parts, size_t n, unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -1;
	ok = EVP_DigestInit_ex(ctx, alg == HTDIGEST_SHA256 ? EVP_sha256() : EVP_md5(), NULL);
	for (size_t i = 0; ok && i < n; i++) {
		if (i > 0)
			ok = EVP_DigestUpdate(ctx, ":", 1);
		if (ok)
			ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void htdigest_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int htdigest_unhex(const char *hex, size_t hexlen, unsigned char *out, size_t len)
{
	if (hexlen != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = ph_hexval(hex[2 * i]), lo = ph_hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* Checks an HA1 field of the file and lowercases it in place: Digest
 * hashes the hex text, and RFC 7616 writes it in lowercase. */
static bool ha1_field(char *s, size_t len, size_t want)
{
	if (len != want)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (ph_hexval(s[i]) < 0)
			return false;
		s[i] = ph_tolower(s[i]);
	}
	return true;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct htdigest_entry *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	return c ? c : strcmp(x->realm, y->realm);
}

static int userhash_cmp(const void *a, const void *b)
{
	const struct htdigest_userhash *x = a, *y = b;

	return memcmp(x->hash, y->hash, HTDIGEST_HASH_MAX);
}

/* Parses one line (NUL-terminated, in place); 0, or -1 with *why. */
static int parse_line(char *s, size_t len, struct htdigest_entry *e, const char **why)
{
	char *field[5] = { NULL };
	size_t flen[5] = { 0 };
	size_t nf = 0;
	char *p = s;

	for (;;) {
		char *colon = memchr(p, ':', len - (size_t)(p - s));

		if (nf == PH_ARRAY_LEN(field))
			break;
		field[nf] = p;
		flen[nf] = colon ? (size_t)(colon - p) : len - (size_t)(p - s);
		nf++;
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	if (nf < 3 || nf > 4) {
		*why = "expected user:realm:HA1 as htdigest writes it, optionally followed by :HA1-SHA-256";
		return -1;
	}
	if (flen[0] == 0) {
		*why = "the user name is empty";
		return -1;
	}
	if (flen[0] > HTDIGEST_USER_MAX) {
		*why = "the user name is longer than 255 bytes";
		return -1;
	}
	if (!ha1_field(field[2], flen[2], 32)) {
		*why = "the third field must be 32 hex digits, the MD5 of user:realm:password (as htdigest writes it)";
		return -1;
	}
	if (nf == 4 && !ha1_field(field[3], flen[3], 64)) {
		*why = "the fourth field must be 64 hex digits, the SHA-256 of user:realm:password";
		return -1;
	}
	e->user = field[0];
	e->realm = field[1];
	e->ha1[HTDIGEST_MD5] = field[2];
	e->ha1[HTDIGEST_SHA256] = nf == 4 ? field[3] : NULL;
	return 0;
}

static int index_userhashes(struct htdigest *h)
{
	for (int a = 0; a < HTDIGEST_ALGS; a++) {
		h->by_userhash[a] = ph_calloc(h->n ? h->n : 1, sizeof(struct htdigest_userhash));
		for (size_t i = 0; i < h->n; i++) {
			const char *parts[2] = { h->e[i].user, h->e[i].realm };

			if (htdigest_hash((enum htdigest_alg)a, parts, 2, h->by_userhash[a][i].hash) != 0)
				return -1;
			h->by_userhash[a][i].entry = i;
		}
		qsort(h->by_userhash[a], h->n, sizeof(struct htdigest_userhash), userhash_cmp);
	}
	return 0;
}

struct htdigest *htdigest_load(const char *path, const char *cfg_file, int cfg_line, struct cfg_errors *errs)
{
	struct htdigest *h;
	size_t len, cap = 0;
	int nerr = 0, lineno = 0;
	char *text = auth_read_file(path, HTDIGEST_FILE_MAX, &len);

	if (!text) {
		if (errno == EFBIG)
			cfg_error(errs, cfg_file, cfg_line, "digest file %s is larger than 16 MB", path);
		else
			cfg_error(errs, cfg_file, cfg_line, "cannot read digest file %s: %s", path, strerror(errno));
		return NULL;
	}
	h = ph_calloc(1, sizeof(*h));
	h->path = ph_strdup(path);
	h->text = text;
	h->text_len = len;
	for (char *s = text; s < text + len && nerr < HTDIGEST_MAX_ERRORS;) {
		char *nl = memchr(s, '\n', (size_t)(text + len - s));
		char *end = nl ? nl : text + len;
		size_t llen;
		const char *why = NULL;
		struct htdigest_entry e = { 0 };

		lineno++;
		*end = '\0';
		if (end > s && end[-1] == '\r')
			*--end = '\0';
		llen = (size_t)(end - s);
		if (memchr(s, '\0', llen)) {
			cfg_error(errs, path, lineno, "the line holds a NUL byte: is this a digest file?");
			nerr++;
		} else if (llen > 0 && s[0] != '#') {
			if (parse_line(s, llen, &e, &why) != 0) {
				cfg_error(errs, path, lineno, "%s", why);
				nerr++;
			} else {
				if (h->n == cap) {
					cap = cap ? 2 * cap : 64;
					h->e = ph_realloc(h->e, cap * sizeof(*h->e));
				}
				e.line = lineno;
				if (e.ha1[HTDIGEST_SHA256])
					h->n_sha256++;
				else if (!h->first_without_sha256)
					h->first_without_sha256 = lineno;
				h->e[h->n++] = e;
			}
		}
		s = nl ? nl + 1 : text + len;
	}
	if (nerr >= HTDIGEST_MAX_ERRORS)
		cfg_error(errs, path, 0, "stopped reading after %d errors", nerr);
	if (nerr == 0 && h->n == 0) {
		cfg_error(errs, cfg_file, cfg_line,
		          "digest file %s holds no user: add lines with `pinhole passwd --digest USER --realm REALM` "
		          "or htdigest",
		          path);
		nerr++;
	}
	if (nerr == 0) {
		qsort(h->e, h->n, sizeof(*h->e), entry_cmp);
		for (size_t i = 1; i < h->n; i++)
			if (entry_cmp(&h->e[i - 1], &h->e[i]) == 0) {
				const struct htdigest_entry *a = &h->e[i - 1], *b = &h->e[i];

				cfg_error(errs, path, PH_MAX(a->line, b->line),
				          "user '%s' of realm '%s' is already on line %d: keep one line per user and "
				          "realm",
				          b->user, b->realm, PH_MIN(a->line, b->line));
				nerr++;
			}
	}
	if (nerr == 0 && index_userhashes(h) != 0) {
		cfg_error(errs, cfg_file, cfg_line,
		          "cannot compute MD5 or SHA-256 hashes: OpenSSL refuses them "
		          "(is it in FIPS mode?)");
		nerr++;
	}
	if (nerr) {
		htdigest_free(h);
		return NULL;
	}
	return h;
}

void htdigest_free(struct htdigest *h)
{
	if (!h)
		return;
	if (h->text) {
		OPENSSL_cleanse(h->text, h->text_len);
		free(h->text);
	}
	for (int a = 0; a < HTDIGEST_ALGS; a++)
		free(h->by_userhash[a]);
	free(h->e);
	free(h->path);
	free(h);
}

const struct htdigest_entry *htdigest_find(const struct htdigest *h, const char *user, const char *realm)
{
	struct htdigest_entry key = { .user = user, .realm = realm };

	if (!h || h->n == 0)
		return NULL;
	return bsearch(&key, h->e, h->n, sizeof(*h->e), entry_cmp);
}

const struct htdigest_entry *htdigest_find_userhash(const struct htdigest *h, enum htdigest_alg alg,
                                                    const unsigned char *hash, const char *realm)
{
	struct htdigest_userhash key = { 0 };
	const struct htdigest_userhash *u;

	if (!h || h->n == 0)
		return NULL;
	memcpy(key.hash, hash, htdigest_hash_len(alg));
	u = bsearch(&key, h->by_userhash[alg], h->n, sizeof(key), userhash_cmp);
	/* The hash covers the realm, but an entry of another realm must not
	 * count even then. */
	if (!u || strcmp(h->e[u->entry].realm, realm) != 0)
		return NULL;
	return &h->e[u->entry];
}

char *htdigest_make_line(const char *user, const char *realm, const char *password)
{
	const char *parts[3] = { user, realm, password };
	unsigned char md5[16], sha[32];
	char md5hex[33], shahex[65];
	size_t n;
	char *line;

	if (!user[0] || strlen(user) > HTDIGEST_USER_MAX || strpbrk(user, ":\r\n") || strpbrk(realm, ":\r\n"))
		return NULL;
	if (htdigest_hash(HTDIGEST_MD5, parts, 3, md5) != 0 || htdigest_hash(HTDIGEST_SHA256, parts, 3, sha) != 0)
		return NULL;
	htdigest_hex(md5, sizeof(md5), md5hex);
	htdigest_hex(sha, sizeof(sha), shahex);
	n = strlen(user) + strlen(realm) + sizeof(md5hex) + sizeof(shahex) + 4;
	line = ph_malloc(n);
	snprintf(line, n, "%s:%s:%s:%s", user, realm, md5hex, shahex);
	OPENSSL_cleanse(md5, sizeof(md5));
	OPENSSL_cleanse(sha, sizeof(sha));
	return line;
}
