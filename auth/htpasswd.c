/*
 * htpasswd.c - the htpasswd credential store: parses Apache's "user:hash"
 * files, checks every line, and verifies passwords in constant time (bcrypt,
 * SHA-crypt, yescrypt, MD5-crypt and DES through libxcrypt; Apache's apr1 and
 * {SHA} computed here with OpenSSL).  Caching and HTTP belong to basic.c.
 */
#include "htpasswd.h"

#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common.h"
#include "cfgparse.h"
#include "scheme.h"

enum kind {
	KIND_BCRYPT,
	KIND_SHA256_CRYPT,
	KIND_SHA512_CRYPT,
	KIND_YESCRYPT,
	KIND_MD5_CRYPT,
	KIND_DES_CRYPT,
	KIND_APR1,
	KIND_SHA1,
	KIND_COUNT,
};

static const char *const kind_names[KIND_COUNT] = {
	[KIND_BCRYPT] = "bcrypt",
	[KIND_SHA256_CRYPT] = "SHA-256-crypt",
	[KIND_SHA512_CRYPT] = "SHA-512-crypt",
	[KIND_YESCRYPT] = "yescrypt",
	[KIND_MD5_CRYPT] = "MD5-crypt",
	[KIND_DES_CRYPT] = "DES crypt",
	[KIND_APR1] = "apr1",
	[KIND_SHA1] = "{SHA}",
};

struct htpasswd_entry {
	const char *user; /* NUL-terminated, inside htpasswd.text */
	size_t user_len;
	const char *hash; /* NUL-terminated, inside htpasswd.text */
	size_t hash_len;
	enum kind kind;
	int line;
};

struct htpasswd {
	atomic_int refs; /* the configuration's, and slow checks' in flight */
	char *text;      /* the file, split in place */
	size_t text_len;
	struct htpasswd_entry *entries; /* sorted by user name */
	size_t n;
	const struct htpasswd_entry *dummy; /* what an unknown user is checked against */
};

/* ---- small helpers ---- */

static void say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!out || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

/* A user name fit for an error message: control bytes become '?', long
 * names are cut. */
static const char *shown(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (o + 4 >= cap && len > o) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* The alphabet of crypt(3) hashes. */
static bool crypt64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool all_crypt64(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!crypt64(s[i]))
			return false;
	return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* ---- recognising a hash ---- */

/* "$5$[rounds=N$]SALT$HASH" with a 43 (SHA-256) or 86 (SHA-512) character hash. */
static bool sha_crypt_ok(const char *h, size_t len, size_t hash_chars)
{
	const char *p = h + 3, *end = h + len, *dollar;

	if (has_prefix(p, (size_t)(end - p), "rounds=")) {
		p += 7;
		if (p == end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == end || *p++ != '$')
			return false;
	}
	dollar = memchr(p, '$', (size_t)(end - p));
	if (!dollar || dollar - p > 16)
		return false;
	for (const char *s = p; s < dollar; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return (size_t)(end - dollar - 1) == hash_chars && all_crypt64(dollar + 1, hash_chars);
}

/* "$1$SALT$HASH" and "$apr1$SALT$HASH": a salt of up to 8 characters and a
 * 22 character hash. */
static bool md5_crypt_ok(const char *h, size_t len, size_t magic_len)
{
	const char *p = h + magic_len, *end = h + len;
	const char *dollar = memchr(p, '$', (size_t)(end - p));

	if (!dollar || dollar - p > 8)
		return false;
	for (const char *s = p; s < dollar; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return end - dollar - 1 == 22 && all_crypt64(dollar + 1, 22);
}

/* "$2b$NN$" and 53 characters of salt and hash. */
static bool bcrypt_ok(const char *h, size_t len)
{
	int cost;

	if (len != 60 || h[3] != '$' || h[6] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return false;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	return cost >= 4 && cost <= 31 && all_crypt64(h + 7, 53);
}

/* "$y$PARAMS$SALT$HASH" with a 43 character hash. */
static bool yescrypt_ok(const char *h, size_t len)
{
	const char *p = h + 3, *end = h + len;
	const char *d1 = memchr(p, '$', (size_t)(end - p));
	const char *d2 = d1 ? memchr(d1 + 1, '$', (size_t)(end - d1 - 1)) : NULL;

	if (!d1 || !d2 || d1 == p || d2 == d1 + 1)
		return false;
	return all_crypt64(p, (size_t)(d1 - p)) && all_crypt64(d1 + 1, (size_t)(d2 - d1 - 1)) && end - d2 - 1 == 43 &&
	       all_crypt64(d2 + 1, 43);
}

static bool sha1_ok(const char *h, size_t len)
{
	unsigned char md[32];

	return len == 5 + 28 && base64_decode(h + 5, 28, md, sizeof(md)) == 20;
}

/* Hash families pinhole knows by name but does not verify, so that the error
 * can name them.  Only these names are ever echoed: an unknown "$...$" may be
 * a plaintext password. */
static const char *const unsupported_dollar[] = {
	"2x",
	"3",
	"7",
	"gy",
	"sha1",
	"md5",
	"argon2i",
	"argon2d",
	"argon2id",
	"pbkdf2",
	"pbkdf2-sha256",
	"pbkdf2-sha512",
	"scrypt",
	"sm3",
	"sm3-yescrypt",
};
static const char *const unsupported_brace[] = {
	"SSHA",   "SMD5",   "MD5",    "CRYPT",  "SSHA256", "SSHA512",
	"SHA256", "SHA512", "PBKDF2", "ARGON2", "PLAIN",   "CLEARTEXT",
};

/* Errors are collected and reported in line order (duplicates are only
 * found once the whole file is read). */
struct load_error {
	int line;
	size_t seq;
	char *msg;
};

struct loader {
	struct load_error *errors;
	size_t nerrors;
};

static void lerr(struct loader *ld, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void lerr(struct loader *ld, int line, const char *fmt, ...)
{
	char msg[1024]; /* user names in messages are cut to 80 bytes */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->errors = ph_realloc(ld->errors, (ld->nerrors + 1) * sizeof(*ld->errors));
	ld->errors[ld->nerrors].line = line;
	ld->errors[ld->nerrors].seq = ld->nerrors;
	ld->errors[ld->nerrors].msg = ph_strdup(msg);
	ld->nerrors++;
}

static int load_error_cmp(const void *a, const void *b)
{
	const struct load_error *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

#define FIX_HINT "make a hash with 'pinhole passwd --basic %s' or 'htpasswd -B FILE %s'"

/* Names the kind of hash h is (syntax checked), or reports why it is none and
 * returns -1.  The hash text itself never goes into a message. */
static int classify(struct loader *ld, int line, const char *user, const char *h, size_t len)
{
	static const struct {
		const char *prefix;
		enum kind kind;
	} dollar_kinds[] = {
		{ "$2a$", KIND_BCRYPT },      { "$2b$", KIND_BCRYPT },      { "$2y$", KIND_BCRYPT },
		{ "$5$", KIND_SHA256_CRYPT }, { "$6$", KIND_SHA512_CRYPT }, { "$y$", KIND_YESCRYPT },
		{ "$1$", KIND_MD5_CRYPT },    { "$apr1$", KIND_APR1 },
	};
	int kind = -1;
	bool ok = false;

	for (size_t i = 0; i < PH_ARRAY_LEN(dollar_kinds) && kind < 0; i++) {
		if (!has_prefix(h, len, dollar_kinds[i].prefix))
			continue;
		kind = (int)dollar_kinds[i].kind;
		switch (dollar_kinds[i].kind) {
		case KIND_BCRYPT:
			ok = bcrypt_ok(h, len);
			break;
		case KIND_SHA256_CRYPT:
			ok = sha_crypt_ok(h, len, 43);
			break;
		case KIND_SHA512_CRYPT:
			ok = sha_crypt_ok(h, len, 86);
			break;
		case KIND_YESCRYPT:
			ok = yescrypt_ok(h, len);
			break;
		case KIND_MD5_CRYPT:
			ok = md5_crypt_ok(h, len, 3);
			break;
		case KIND_APR1:
			ok = md5_crypt_ok(h, len, 6);
			break;
		default:
			break;
		}
	}
	if (kind < 0 && has_prefix(h, len, "{SHA}")) {
		kind = KIND_SHA1;
		ok = sha1_ok(h, len);
	}
	if (kind < 0 && len == 13 && all_crypt64(h, len)) {
		kind = KIND_DES_CRYPT;
		ok = true;
	}
	if (kind >= 0 && !ok) {
		lerr(ld, line, "malformed %s hash for user '%s'; " FIX_HINT, kind_names[kind], user, user, user);
		return -1;
	}
	if (kind >= 0 && kind != KIND_APR1 && kind != KIND_SHA1) {
		int c = crypt_checksalt(h);

		if (c == CRYPT_SALT_INVALID || c == CRYPT_SALT_METHOD_DISABLED) {
			lerr(ld, line,
			     "user '%s' has a %s hash, which this system's libxcrypt does not support; " FIX_HINT, user,
			     kind_names[kind], user, user);
			return -1;
		}
	}
	if (kind >= 0)
		return kind;

	/* Not a format pinhole verifies: name it if it is a known one. */
	if (len > 1 && (h[0] == '$' || h[0] == '{')) {
		const char *close = memchr(h + 1, h[0] == '$' ? '$' : '}', len - 1);
		size_t idlen = close ? (size_t)(close - h - 1) : 0;
		const char *const *names = h[0] == '$' ? unsupported_dollar : unsupported_brace;
		size_t count = h[0] == '$' ? PH_ARRAY_LEN(unsupported_dollar) : PH_ARRAY_LEN(unsupported_brace);

		for (size_t i = 0; close && i < count; i++) {
			if (strlen(names[i]) != idlen || !ph_memcaseeq(names[i], idlen, h + 1, idlen))
				continue;
			lerr(ld, line,
			     "user '%s' has a %s%s%s hash, a format pinhole does not support (it reads bcrypt, "
			     "SHA-256/512-crypt, yescrypt, apr1, MD5-crypt, {SHA} and DES crypt); " FIX_HINT,
			     user, h[0] == '$' ? "$" : "{", names[i], h[0] == '$' ? "$" : "}", user, user);
			return -1;
		}
	}
	if (len == 20 && h[0] == '_' && all_crypt64(h + 1, 19)) {
		lerr(ld, line, "user '%s' has a BSDI extended DES hash, a format pinhole does not support; " FIX_HINT,
		     user, user, user);
		return -1;
	}
	lerr(ld, line,
	     "user '%s' has a plaintext password or a hash in an unknown format; pinhole refuses plaintext "
	     "passwords: " FIX_HINT,
	     user, user, user);
	return -1;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct htpasswd_entry *x = a, *y = b;
	int c = memcmp(x->user, y->user, PH_MIN(x->user_len, y->user_len));

	if (c)
		return c;
	if (x->user_len != y->user_len)
		return x->user_len < y->user_len ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* One line, already stripped of surrounding white space and known not to be
 * blank or a comment.  Adds an entry or reports why not. */
static void parse_line(struct loader *ld, struct htpasswd *h, char *s, size_t len, int line)
{
	char name[80];
	char *colon = memchr(s, ':', len);
	char *hash, *hash_end;
	size_t user_len;
	int kind;

	if (!colon) {
		lerr(ld, line, "malformed line: expected USER:HASH (a user name, a colon, a password hash)");
		return;
	}
	user_len = (size_t)(colon - s);
	if (user_len == 0) {
		lerr(ld, line, "malformed line: the user name before the colon is empty");
		return;
	}
	shown(name, sizeof(name), s, user_len);
	if (user_len > HTPASSWD_MAX_USER) {
		lerr(ld, line, "the user name '%s' is longer than %d bytes", name, HTPASSWD_MAX_USER);
		return;
	}
	for (size_t i = 0; i < user_len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			lerr(ld, line, "the user name '%s' contains a control character", name);
			return;
		}
	}
	/* Apache ignores anything after a second colon (some tools keep
	 * comments or groups there); so does pinhole. */
	hash = colon + 1;
	hash_end = memchr(hash, ':', len - user_len - 1);
	if (!hash_end)
		hash_end = s + len;
	if (hash_end == hash) {
		lerr(ld, line, "user '%s' has an empty password hash; " FIX_HINT, name, name, name);
		return;
	}
	*hash_end = '\0'; /* crypt_checksalt() reads a C string */
	kind = classify(ld, line, name, hash, (size_t)(hash_end - hash));
	if (kind < 0)
		return;
	*colon = '\0';
	h->entries = ph_realloc(h->entries, (h->n + 1) * sizeof(*h->entries));
	h->entries[h->n++] = (struct htpasswd_entry){
		.user = s,
		.user_len = user_len,
		.hash = hash,
		.hash_len = (size_t)(hash_end - hash),
		.kind = (enum kind)kind,
		.line = line,
	};
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

struct htpasswd *htpasswd_load(const char *path, const char *conf_file, int conf_line, struct cfg_errors *errs)
{
	struct loader ld = { 0 };
	struct htpasswd *h = ph_calloc(1, sizeof(*h));
	size_t counts[KIND_COUNT] = { 0 };
	char *p, *end;
	int line = 0;

	atomic_init(&h->refs, 1);

	h->text = auth_read_file(path, HTPASSWD_MAX_FILE, &h->text_len);
	if (!h->text) {
		int e = errno;

		cfg_error(errs, conf_file, conf_line, "cannot read the htpasswd file '%s': %s", path,
		          e == EFBIG    ? "it is larger than 64 MB"
		          : e == EINVAL ? "it is not a regular file"
		                        : strerror(e));
		free(h);
		return NULL;
	}
	p = h->text;
	end = h->text + h->text_len;
	if (h->text_len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* a UTF-8 byte order mark from a Windows editor */
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *next = nl ? nl + 1 : end;
		char *e = nl ? nl : end;

		line++;
		while (p < e && space(*p))
			p++;
		while (e > p && space(e[-1]))
			e--;
		if (p < e && *p != '#')
			parse_line(&ld, h, p, (size_t)(e - p), line);
		p = next;
	}

	if (h->n > 1)
		qsort(h->entries, h->n, sizeof(*h->entries), entry_cmp);
	for (size_t i = 1; i < h->n; i++) {
		const struct htpasswd_entry *a = &h->entries[i - 1], *b = &h->entries[i];
		char name[80];

		if (a->user_len == b->user_len && memcmp(a->user, b->user, a->user_len) == 0) {
			/* Entries with one name are sorted by line: the
			 * first of the run is the original. */
			size_t first = i - 1;

			while (first > 0 && h->entries[first - 1].user_len == a->user_len &&
			       memcmp(h->entries[first - 1].user, a->user, a->user_len) == 0)
				first--;
			lerr(&ld, b->line, "duplicate user '%s' (first at line %d); remove one of the lines",
			     shown(name, sizeof(name), b->user, b->user_len), h->entries[first].line);
		}
	}

	if (ld.nerrors) {
		qsort(ld.errors, ld.nerrors, sizeof(*ld.errors), load_error_cmp);
		for (size_t i = 0; i < ld.nerrors; i++) {
			cfg_error(errs, path, ld.errors[i].line, "%s", ld.errors[i].msg);
			free(ld.errors[i].msg);
		}
		free(ld.errors);
		htpasswd_free(h);
		return NULL;
	}
	if (h->n == 0) {
		cfg_error(errs, conf_file, conf_line,
		          "the htpasswd file '%s' has no users; add one with 'pinhole passwd --basic USER >> %s'", path,
		          path);
		htpasswd_free(h);
		return NULL;
	}

	/* An unknown user is checked against the first user whose hash is of
	 * the file's most common kind: same algorithm, same cost. */
	enum kind common = KIND_BCRYPT;

	for (size_t i = 0; i < h->n; i++)
		counts[h->entries[i].kind]++;
	for (int k = 0; k < KIND_COUNT; k++)
		if (counts[k] > counts[common])
			common = (enum kind)k;
	for (size_t i = 0; i < h->n && !h->dummy; i++)
		if (h->entries[i].kind == common)
			h->dummy = &h->entries[i];
	return h;
}

struct htpasswd *htpasswd_ref(struct htpasswd *h)
{
	atomic_fetch_add(&h->refs, 1);
	return h;
}

void htpasswd_free(struct htpasswd *h)
{
	if (!h || atomic_fetch_sub(&h->refs, 1) > 1)
		return;
	if (h->text) {
		OPENSSL_cleanse(h->text, h->text_len);
		free(h->text);
	}
	free(h->entries);
	free(h);
}

size_t htpasswd_count(const struct htpasswd *h)
{
	return h ? h->n : 0;
}

/* ---- verifying ---- */

static const struct htpasswd_entry *find(const struct htpasswd *h, const char *user, size_t len)
{
	size_t lo = 0, hi = h->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct htpasswd_entry *e = &h->entries[mid];
		int c = memcmp(user, e->user, PH_MIN(len, e->user_len));

		if (c == 0 && len != e->user_len)
			c = len < e->user_len ? -1 : 1;
		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static enum htpasswd_result check_crypt(const struct htpasswd_entry *e, const char *password, char *why, size_t why_len)
{
	/* struct crypt_data is 32 kB: on the heap, one per call, so that
	 * threads never share it. */
	struct crypt_data *cd = ph_calloc(1, sizeof(*cd));
	enum htpasswd_result r = HTPASSWD_MISMATCH;
	const char *out;

	errno = 0;
	out = crypt_rn(password, e->hash, cd, (int)sizeof(*cd));
	if (!out) {
		say(why, why_len, "libxcrypt could not compute a %s hash: %s", kind_names[e->kind],
		    errno ? strerror(errno) : "unknown error");
		r = HTPASSWD_ERROR;
	} else if (strlen(out) == e->hash_len && auth_ct_equal(out, e->hash, e->hash_len)) {
		r = HTPASSWD_MATCH;
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return r;
}

static void to64(char **out, unsigned long v, int n)
{
	static const char itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	while (n-- > 0) {
		*(*out)++ = itoa64[v & 0x3f];
		v >>= 6;
	}
}

#define APR1_MAGIC "$apr1$"
#define APR1_MAX (6 + 8 + 1 + 22 + 1)

/* Apache's "$apr1$" hash: Poul-Henning Kamp's MD5-based crypt with another
 * magic string.  1000 rounds of MD5 over password, salt and the previous
 * digest in a fixed pattern, then the digest in crypt's base64 with its
 * bytes in a fixed order.  Written from the algorithm's description. */
static bool apr1_hash(const char *pw, size_t pw_len, const char *salt, size_t salt_len, char out[APR1_MAX])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const EVP_MD *md5 = EVP_md5();
	unsigned char fin[16];
	unsigned int fl;
	bool ok = ctx && md5;
	char *o = out;

	if (salt_len > 8)
		salt_len = 8;
	/* The alternate digest: password, salt, password. */
	ok = ok && EVP_DigestInit_ex(ctx, md5, NULL) && EVP_DigestUpdate(ctx, pw, pw_len) &&
	     EVP_DigestUpdate(ctx, salt, salt_len) && EVP_DigestUpdate(ctx, pw, pw_len) &&
	     EVP_DigestFinal_ex(ctx, fin, &fl);
	/* The main digest: password, magic, salt, the alternate digest
	 * repeated over the password's length, then one byte per bit of the
	 * length (a NUL for a 1 bit, the password's first byte for a 0). */
	ok = ok && EVP_DigestInit_ex(ctx, md5, NULL) && EVP_DigestUpdate(ctx, pw, pw_len) &&
	     EVP_DigestUpdate(ctx, APR1_MAGIC, strlen(APR1_MAGIC)) && EVP_DigestUpdate(ctx, salt, salt_len);
	for (size_t left = pw_len; ok && left > 0; left -= PH_MIN(left, 16))
		ok = EVP_DigestUpdate(ctx, fin, PH_MIN(left, 16));
	for (size_t bits = pw_len; ok && bits; bits >>= 1)
		ok = (bits & 1) ? EVP_DigestUpdate(ctx, "", 1) : EVP_DigestUpdate(ctx, pw, 1);
	ok = ok && EVP_DigestFinal_ex(ctx, fin, &fl);
	/* 1000 rounds to slow down guessing. */
	for (int i = 0; ok && i < 1000; i++) {
		ok = EVP_DigestInit_ex(ctx, md5, NULL);
		if (i & 1)
			ok = ok && EVP_DigestUpdate(ctx, pw, pw_len);
		else
			ok = ok && EVP_DigestUpdate(ctx, fin, 16);
		if (i % 3)
			ok = ok && EVP_DigestUpdate(ctx, salt, salt_len);
		if (i % 7)
			ok = ok && EVP_DigestUpdate(ctx, pw, pw_len);
		if (i & 1)
			ok = ok && EVP_DigestUpdate(ctx, fin, 16);
		else
			ok = ok && EVP_DigestUpdate(ctx, pw, pw_len);
		ok = ok && EVP_DigestFinal_ex(ctx, fin, &fl);
	}
	EVP_MD_CTX_free(ctx);
	if (ok) {
		memcpy(o, APR1_MAGIC, strlen(APR1_MAGIC));
		o += strlen(APR1_MAGIC);
		memcpy(o, salt, salt_len);
		o += salt_len;
		*o++ = '$';
		to64(&o, (unsigned long)fin[0] << 16 | (unsigned long)fin[6] << 8 | fin[12], 4);
		to64(&o, (unsigned long)fin[1] << 16 | (unsigned long)fin[7] << 8 | fin[13], 4);
		to64(&o, (unsigned long)fin[2] << 16 | (unsigned long)fin[8] << 8 | fin[14], 4);
		to64(&o, (unsigned long)fin[3] << 16 | (unsigned long)fin[9] << 8 | fin[15], 4);
		to64(&o, (unsigned long)fin[4] << 16 | (unsigned long)fin[10] << 8 | fin[5], 4);
		to64(&o, fin[11], 2);
		*o = '\0';
	}
	OPENSSL_cleanse(fin, sizeof(fin));
	return ok;
}

static enum htpasswd_result check_apr1(const struct htpasswd_entry *e, const char *pw, size_t pw_len, char *why,
                                       size_t why_len)
{
	const char *salt = e->hash + strlen(APR1_MAGIC);
	const char *dollar = strchr(salt, '$');
	char out[APR1_MAX];
	enum htpasswd_result r = HTPASSWD_MISMATCH;

	if (!apr1_hash(pw, pw_len, salt, (size_t)(dollar - salt), out)) {
		say(why, why_len, "OpenSSL could not compute MD5 for an apr1 hash (is MD5 disabled, as in FIPS mode?)");
		return HTPASSWD_ERROR;
	}
	if (strlen(out) == e->hash_len && auth_ct_equal(out, e->hash, e->hash_len))
		r = HTPASSWD_MATCH;
	OPENSSL_cleanse(out, sizeof(out));
	return r;
}

static enum htpasswd_result check_sha1(const struct htpasswd_entry *e, const char *pw, size_t pw_len, char *why,
                                       size_t why_len)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	enum htpasswd_result r = HTPASSWD_MISMATCH;

	if (base64_decode(e->hash + 5, e->hash_len - 5, want, sizeof(want)) != 20)
		return HTPASSWD_MISMATCH; /* cannot happen: checked at load */
	if (!EVP_Digest(pw, pw_len, got, &got_len, EVP_sha1(), NULL) || got_len != 20) {
		say(why, why_len, "OpenSSL could not compute SHA-1 for a {SHA} hash");
		return HTPASSWD_ERROR;
	}
	if (auth_ct_equal(got, want, 20))
		r = HTPASSWD_MATCH;
	OPENSSL_cleanse(got, sizeof(got));
	return r;
}

static enum htpasswd_result check_entry(const struct htpasswd_entry *e, const char *pw, size_t pw_len, char *why,
                                        size_t why_len)
{
	enum htpasswd_result r;
	char *pwz;

	switch (e->kind) {
	case KIND_APR1:
		return check_apr1(e, pw, pw_len, why, why_len);
	case KIND_SHA1:
		return check_sha1(e, pw, pw_len, why, why_len);
	default:
		pwz = ph_strndup(pw, pw_len);
		r = check_crypt(e, pwz, why, why_len);
		OPENSSL_cleanse(pwz, pw_len);
		free(pwz);
		return r;
	}
}

bool htpasswd_is_slow(const struct htpasswd *h, const char *user, size_t user_len)
{
	const struct htpasswd_entry *e = find(h, user, user_len);

	if (!e)
		e = h->dummy;
	if (!e)
		return false;
	switch (e->kind) {
	case KIND_BCRYPT:
	case KIND_SHA256_CRYPT:
	case KIND_SHA512_CRYPT:
	case KIND_YESCRYPT:
		return true;
	default:
		return false;
	}
}

enum htpasswd_result htpasswd_verify(const struct htpasswd *h, const char *user, size_t user_len, const char *password,
                                     size_t password_len, char *why, size_t why_len)
{
	const struct htpasswd_entry *e = find(h, user, user_len);
	enum htpasswd_result r;

	/* crypt(3) takes C strings and no htpasswd tool writes a NUL into a
	 * password: such a password is simply wrong, for any user. */
	if (memchr(password, '\0', password_len))
		return HTPASSWD_MISMATCH;
	r = check_entry(e ? e : h->dummy, password, password_len, why, why_len);
	if (!e)
		return HTPASSWD_MISMATCH;
	return r;
}

/* ---- making a line ---- */

char *htpasswd_make_line(const char *user, const char *password, char *err, size_t err_len)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	size_t ulen = strlen(user), plen = strlen(password);
	struct crypt_data *cd;
	const char *out;
	char *line = NULL;

	if (ulen == 0) {
		say(err, err_len, "the user name is empty");
		return NULL;
	}
	if (ulen > HTPASSWD_MAX_USER) {
		say(err, err_len, "the user name is longer than %d bytes", HTPASSWD_MAX_USER);
		return NULL;
	}
	if (strchr(user, ':')) {
		say(err, err_len,
		    "a user name cannot contain ':' (Basic authentication puts one between the user name "
		    "and the password)");
		return NULL;
	}
	for (const char *s = user; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			say(err, err_len, "the user name contains a control character");
			return NULL;
		}
	}
	if (user[0] == '#' || user[0] == ' ' || user[ulen - 1] == ' ') {
		say(err, err_len,
		    "a user name cannot start with '#' or begin or end with a space (the line would be "
		    "read as a comment or the name changed)");
		return NULL;
	}
	if (plen == 0) {
		say(err, err_len, "the password is empty");
		return NULL;
	}
	if (plen > 72) {
		say(err, err_len,
		    "the password is longer than 72 bytes, and bcrypt ignores everything after the "
		    "72nd; choose a shorter one");
		return NULL;
	}
	/* bcrypt rather than yescrypt: Apache's own htpasswd and mod_authn_file
	 * read it too, so one file can serve both. */
	errno = 0;
	if (!crypt_gensalt_rn("$2b$", 10, NULL, 0, setting, (int)sizeof(setting))) {
		say(err, err_len, "libxcrypt could not make a bcrypt salt: %s",
		    errno ? strerror(errno) : "unknown error");
		return NULL;
	}
	cd = ph_calloc(1, sizeof(*cd));
	errno = 0;
	out = crypt_rn(password, setting, cd, (int)sizeof(*cd));
	if (!out || out[0] != '$') {
		say(err, err_len, "libxcrypt could not compute a bcrypt hash: %s",
		    errno ? strerror(errno) : "unknown error");
	} else {
		line = ph_malloc(ulen + 1 + strlen(out) + 1);
		sprintf(line, "%s:%s", user, out);
	}
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return line;
}
