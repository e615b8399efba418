/*
 * digest.c - the Digest scheme (RFC 7616) for a proxy: stateless nonces
 * sealed with an HMAC, challenges per algorithm, strict parsing and checking
 * of Proxy-Authorization, and a bounded table against nonce-count replays.
 * Credentials come from htdigest.c; the dispatcher is auth.c.
 */
#include "digest.h"
#include "strbuf.h"
#include "scheme.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common.h"
#include "cfgparse.h"
#include "helpmode.h"

#define DIGEST_TTL_DEFAULT_MS (5 * 60 * 1000)
#define DIGEST_TTL_MAX_MS (24 * 3600 * 1000)
#define DIGEST_SECRET_MIN 32
#define DIGEST_SECRET_MAX 4096

/* A nonce is base64 of issue time (ms, 48 bits), 8 random bytes and the
 * first 16 bytes of HMAC-SHA256(secret, time || random || realm): any
 * instance holding the secret can check it without shared state. */
#define NONCE_TS 6
#define NONCE_RND 8
#define NONCE_MAC 16
#define NONCE_RAW (NONCE_TS + NONCE_RND + NONCE_MAC)
#define NONCE_B64 (NONCE_RAW / 3 * 4)

struct digest_state {
	struct htdigest *users;     /* NULL in helper mode */
	struct helpmode_cfg helper; /* helper.cmd set: HA1 from a Squid digest helper (MD5 only) */
	bool algs[HTDIGEST_ALGS];
	char *secret_path;
	unsigned char *secret;
	size_t secret_len;
	uint64_t ttl_ms;
	char opaque[24];
	/* where each directive was given, for "given twice" and finish() */
	char *file;
	int line;
	int file_line, secret_line, ttl_line;
	bool failed; /* a directive was refused: finish() adds nothing */
};

static const char *const alg_names[HTDIGEST_ALGS] = { "MD5", "SHA-256" };

/* ---- the parameter parser ---- */

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* qdtext and the character after a backslash (RFC 7230 section 3.2.6):
 * HTAB, SP, visible ASCII and obs-text; no other control characters. */
static bool is_qchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int parse_fail(struct digest_params *out, const char **why, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int parse_fail(struct digest_params *out, const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->why, sizeof(out->why), fmt, ap);
	va_end(ap);
	*why = out->why;
	return -1;
}

static struct digest_value *known_param(struct digest_params *p, const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
		{ "username", offsetof(struct digest_params, username) },
		{ "username*", offsetof(struct digest_params, username_star) },
		{ "realm", offsetof(struct digest_params, realm) },
		{ "nonce", offsetof(struct digest_params, nonce) },
		{ "uri", offsetof(struct digest_params, uri) },
		{ "response", offsetof(struct digest_params, response) },
		{ "algorithm", offsetof(struct digest_params, algorithm) },
		{ "cnonce", offsetof(struct digest_params, cnonce) },
		{ "opaque", offsetof(struct digest_params, opaque) },
		{ "qop", offsetof(struct digest_params, qop) },
		{ "nc", offsetof(struct digest_params, nc) },
		{ "userhash", offsetof(struct digest_params, userhash_text) },
	};

	for (size_t i = 0; i < PH_ARRAY_LEN(known); i++)
		if (ph_memcaseeq(name, len, known[i].name, strlen(known[i].name)))
			return (struct digest_value *)((char *)p + known[i].off);
	return NULL;
}

/* username* = charset "'" [ language ] "'" value-chars (RFC 8187), decoded
 * in place.  Only UTF-8, which RFC 7616 section 4 requires. */
static int decode_ext_value(struct digest_params *p, const char **why)
{
	struct digest_value *v = &p->username_star;
	char *s = (char *)v->s;
	const char *q1 = memchr(s, '\'', v->len), *q2;
	size_t o = 0;

	if (v->quoted)
		return parse_fail(p, why, "username* must be a token (charset'language'value), not a quoted string");
	if (!q1 || !(q2 = memchr(q1 + 1, '\'', v->len - (size_t)(q1 + 1 - s))))
		return parse_fail(p, why, "username* is not charset'language'value (RFC 8187)");
	if (!ph_memcaseeq(s, (size_t)(q1 - s), "UTF-8", 5))
		return parse_fail(p, why, "username* uses charset %.*s; pinhole accepts UTF-8 only",
		                  (int)PH_MIN((size_t)(q1 - s), 20), s);
	for (const char *c = q2 + 1; c < s + v->len; c++) {
		unsigned char b = (unsigned char)*c;

		if (b == '%') {
			if (c + 2 >= s + v->len || !is_hex((unsigned char)c[1]) || !is_hex((unsigned char)c[2]))
				return parse_fail(p, why, "username* has a %% not followed by two hex digits");
			b = (unsigned char)(ph_hexval((unsigned char)c[1]) << 4 | ph_hexval((unsigned char)c[2]));
			if (b == 0)
				return parse_fail(p, why, "username* encodes a NUL byte");
			c += 2;
		} else if (b == '\'') {
			return parse_fail(p, why, "username* has a quote in its value");
		}
		s[o++] = (char)b;
	}
	s[o] = '\0';
	v->len = o;
	if (o == 0)
		return parse_fail(p, why, "username* is empty");
	return 0;
}

/* The checks that make a parsed list usable Digest credentials. */
static int check_params(struct digest_params *p, const char **why)
{
	static const struct {
		const char *name;
		size_t off;
	} required[] = {
		{ "realm", offsetof(struct digest_params, realm) },
		{ "nonce", offsetof(struct digest_params, nonce) },
		{ "uri", offsetof(struct digest_params, uri) },
		{ "response", offsetof(struct digest_params, response) },
		{ "qop", offsetof(struct digest_params, qop) },
		{ "cnonce", offsetof(struct digest_params, cnonce) },
		{ "nc", offsetof(struct digest_params, nc) },
	};

	if (p->username.s && p->username_star.s)
		return parse_fail(p, why, "both username and username* are present");
	if (!p->username.s && !p->username_star.s)
		return parse_fail(p, why, "no username parameter");
	for (size_t i = 0; i < PH_ARRAY_LEN(required); i++) {
		const struct digest_value *v = (const struct digest_value *)((const char *)p + required[i].off);

		if (v->s)
			continue;
		if (strcmp(required[i].name, "qop") == 0)
			return parse_fail(p, why, "no qop parameter (RFC 2069 style credentials are not accepted)");
		return parse_fail(p, why, "no %s parameter", required[i].name);
	}
	if (p->nc.len != 8)
		return parse_fail(p, why, "nc is not 8 hex digits");
	p->nc_value = 0;
	for (size_t i = 0; i < 8; i++) {
		if (!is_hex((unsigned char)p->nc.s[i]))
			return parse_fail(p, why, "nc is not 8 hex digits");
		p->nc_value = p->nc_value << 4 | (uint32_t)ph_hexval((unsigned char)p->nc.s[i]);
	}
	if (p->response.len == 0)
		return parse_fail(p, why, "the response is empty");
	for (size_t i = 0; i < p->response.len; i++)
		if (!is_hex((unsigned char)p->response.s[i]))
			return parse_fail(p, why, "the response is not hex digits");
	if (p->cnonce.len == 0)
		return parse_fail(p, why, "the cnonce is empty");
	if (p->userhash_text.s) {
		if (ph_strcaseeq(p->userhash_text.s, "true"))
			p->userhash = true;
		else if (!ph_strcaseeq(p->userhash_text.s, "false"))
			return parse_fail(p, why, "userhash is neither true nor false");
	}
	if (p->userhash && p->username_star.s)
		return parse_fail(p, why, "userhash=true goes with username, not username*");
	if (p->username_star.s && decode_ext_value(p, why) != 0)
		return -1;
	if (p->username.s && p->username.len == 0)
		return parse_fail(p, why, "the username is empty");
	return 0;
}

int digest_parse(const char *s, size_t len, struct digest_params *out, const char **why)
{
	size_t i = 0, used = 0;

	memset(out, 0, offsetof(struct digest_params, store));
	if (len > DIGEST_CRED_MAX)
		return parse_fail(out, why, "the credentials are longer than %d bytes", DIGEST_CRED_MAX);
	for (;;) {
		const char *name;
		size_t nlen, olen = 0;
		struct digest_value *dst;
		char *o;
		bool quoted = false;

		/* Empty list elements and the spaces around commas. */
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		if (i == len)
			break;
		name = s + i;
		while (i < len && is_tchar((unsigned char)s[i]))
			i++;
		nlen = (size_t)(s + i - name);
		if (nlen == 0)
			return parse_fail(out, why, "a parameter name cannot start with character 0x%02x",
			                  (unsigned char)s[i]);
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == len || s[i] != '=')
			return parse_fail(out, why, "parameter %.*s has no =value", (int)PH_MIN(nlen, 32), name);
		i++;
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		dst = known_param(out, name, nlen);
		if (dst && dst->s)
			return parse_fail(out, why, "parameter %.*s appears twice", (int)nlen, name);
		o = out->store + used;
		if (i < len && s[i] == '"') {
			quoted = true;
			for (i++;; i++) {
				unsigned char c;

				if (i == len)
					return parse_fail(out, why, "the quoted value of %.*s has no closing quote",
					                  (int)PH_MIN(nlen, 32), name);
				c = (unsigned char)s[i];
				if (c == '"')
					break;
				if (c == '\\') {
					if (++i == len)
						return parse_fail(out, why,
						                  "the quoted value of %.*s has no closing quote",
						                  (int)PH_MIN(nlen, 32), name);
					c = (unsigned char)s[i];
				}
				if (!is_qchar(c))
					return parse_fail(out, why, "the value of %.*s holds control character 0x%02x",
					                  (int)PH_MIN(nlen, 32), name, c);
				if (dst)
					o[olen++] = (char)c;
			}
			i++;
		} else {
			const char *v = s + i;

			while (i < len && is_tchar((unsigned char)s[i]))
				i++;
			olen = (size_t)(s + i - v);
			if (olen == 0)
				return parse_fail(out, why, "parameter %.*s has an empty value", (int)PH_MIN(nlen, 32),
				                  name);
			if (dst)
				memcpy(o, v, olen);
		}
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < len && s[i] != ',')
			return parse_fail(out, why, "character 0x%02x follows the value of %.*s where a comma should",
			                  (unsigned char)s[i], (int)PH_MIN(nlen, 32), name);
		if (dst) {
			/* Each value is no longer than its text and the twelve known
			 * parameters appear once each: store cannot overflow. */
			o[olen] = '\0';
			dst->s = o;
			dst->len = olen;
			dst->quoted = quoted;
			used += olen + 1;
		}
	}
	return check_params(out, why);
}

/* ---- hashes, nonces ---- */

int digest_response(enum htdigest_alg alg, const char *ha1_hex, const char *nonce, const char *nc, const char *cnonce,
                    const char *qop, const char *method, const char *uri, char *out)
{
	unsigned char h[HTDIGEST_HASH_MAX];
	char ha2[HTDIGEST_HEX_MAX + 1];
	const char *a2[2] = { method, uri };
	const char *kd[6] = { ha1_hex, nonce, nc, cnonce, qop, ha2 };
	size_t n = htdigest_hash_len(alg);

	if (htdigest_hash(alg, a2, 2, h) != 0)
		return -1;
	htdigest_hex(h, n, ha2);
	if (htdigest_hash(alg, kd, 6, h) != 0)
		return -1;
	htdigest_hex(h, n, out);
	return 0;
}

static void random_bytes(unsigned char *p, size_t n)
{
	/* Without randomness pinhole could only hand out guessable nonces. */
	if (RAND_bytes(p, (int)n) != 1) {
		fprintf(stderr, "pinhole: the OpenSSL random generator failed\n");
		abort();
	}
}

/* Without `auth digest nonce-secret`, every process draws its own secret
 * once (kept across reloads, so that a reload does not invalidate the
 * nonces clients hold).  Then several pinhole instances behind one name do
 * not accept each other's nonces: clients get stale=true and retry. */
static unsigned char process_secret[32];
static pthread_once_t process_secret_once = PTHREAD_ONCE_INIT;

static void process_secret_init(void)
{
	random_bytes(process_secret, sizeof(process_secret));
}

static void nonce_mac(const struct digest_state *st, const char *realm, const unsigned char *head, unsigned char *mac)
{
	unsigned char local[NONCE_TS + NONCE_RND + 256];
	unsigned char full[EVP_MAX_MD_SIZE];
	unsigned int flen = 0;
	size_t rlen = strlen(realm), n = NONCE_TS + NONCE_RND + rlen;
	unsigned char *data = n <= sizeof(local) ? local : ph_malloc(n);

	memcpy(data, head, NONCE_TS + NONCE_RND);
	memcpy(data + NONCE_TS + NONCE_RND, realm, rlen);
	if (!HMAC(EVP_sha256(), st->secret, (int)st->secret_len, data, n, full, &flen))
		memset(full, 0, sizeof(full)); /* no valid nonce can be made or accepted then */
	memcpy(mac, full, NONCE_MAC);
	if (data != local)
		free(data);
}

static void make_nonce(const struct digest_state *st, const char *realm, uint64_t now_ms, char *out)
{
	unsigned char raw[NONCE_RAW];

	for (int i = 0; i < NONCE_TS; i++)
		raw[i] = (unsigned char)(now_ms >> (8 * (NONCE_TS - 1 - i)));
	random_bytes(raw + NONCE_TS, NONCE_RND);
	nonce_mac(st, realm, raw, raw + NONCE_TS + NONCE_RND);
	base64_encode(raw, sizeof(raw), out, NONCE_B64 + 1);
}

enum nonce_status {
	NONCE_GOOD,
	NONCE_FOREIGN,
	NONCE_STALE,
};

static enum nonce_status check_nonce(const struct digest_state *st, const char *realm, const struct digest_value *v,
                                     uint64_t now_ms, uint64_t *ts, uint64_t *rnd)
{
	unsigned char raw[NONCE_RAW], mac[NONCE_MAC];

	if (v->len != NONCE_B64 || base64_decode(v->s, v->len, raw, sizeof(raw)) != NONCE_RAW)
		return NONCE_FOREIGN;
	nonce_mac(st, realm, raw, mac);
	if (!auth_ct_equal(mac, raw + NONCE_TS + NONCE_RND, NONCE_MAC))
		return NONCE_FOREIGN;
	*ts = 0;
	for (int i = 0; i < NONCE_TS; i++)
		*ts = *ts << 8 | raw[i];
	*rnd = 0;
	for (int i = 0; i < NONCE_RND; i++)
		*rnd = *rnd << 8 | raw[NONCE_TS + i];
	/* A nonce from the future comes from an instance whose clock runs
	 * ahead: fine within the lifetime, stale beyond. */
	if (now_ms > *ts ? now_ms - *ts > st->ttl_ms : *ts - now_ms > st->ttl_ms)
		return NONCE_STALE;
	return NONCE_GOOD;
}

/* ---- the replay table ---- */

struct replay_slot {
	uint64_t ts; /* 0: free */
	uint64_t rnd;
	uint64_t seen; /* bit k: count high - k was used */
	uint32_t high; /* highest count used */
};

struct replay_set {
	struct replay_slot slot[DIGEST_REPLAY_WAYS];
	uint64_t evicted_ts; /* newest issue time evicted from this set */
};

static struct replay_set replay_sets[DIGEST_REPLAY_SETS];
static pthread_mutex_t replay_lock = PTHREAD_MUTEX_INITIALIZER;

/* Counts are checked against a 64-wide window below the highest rather
 * than "must grow": a browser spreads the requests of one nonce over
 * several connections, and they arrive out of order. */
static enum digest_replay window_use(struct replay_slot *s, uint32_t nc)
{
	if (nc > s->high) {
		uint32_t shift = nc - s->high;

		s->seen = shift >= 64 ? 0 : s->seen << shift;
		s->seen |= 1;
		s->high = nc;
		return DIGEST_REPLAY_FRESH;
	}
	uint32_t back = s->high - nc;

	if (back >= 64 || (s->seen >> back & 1))
		return DIGEST_REPLAY_REPLAYED;
	s->seen |= (uint64_t)1 << back;
	return DIGEST_REPLAY_FRESH;
}

enum digest_replay digest_replay_check(uint64_t ts, uint64_t rnd, uint32_t nc)
{
	struct replay_set *set = &replay_sets[rnd % DIGEST_REPLAY_SETS];
	struct replay_slot *victim = NULL;
	enum digest_replay r;

	if (ts == 0)
		ts = 1; /* 0 marks a free slot; a nonce of 1970 is long stale anyway */
	pthread_mutex_lock(&replay_lock);
	for (int i = 0; i < DIGEST_REPLAY_WAYS; i++) {
		struct replay_slot *s = &set->slot[i];

		if (s->ts == ts && s->rnd == rnd) {
			r = window_use(s, nc);
			pthread_mutex_unlock(&replay_lock);
			return r;
		}
		if (!victim || (victim->ts && (!s->ts || s->ts < victim->ts)))
			victim = s;
	}
	/* Not in the table: new, or evicted earlier.  Everything evicted was
	 * issued no later than evicted_ts, so only newer nonces are new. */
	if (ts <= set->evicted_ts) {
		pthread_mutex_unlock(&replay_lock);
		return DIGEST_REPLAY_FORGOTTEN;
	}
	if (victim->ts && victim->ts > set->evicted_ts)
		set->evicted_ts = victim->ts;
	*victim = (struct replay_slot){ .ts = ts, .rnd = rnd, .seen = 1, .high = nc };
	pthread_mutex_unlock(&replay_lock);
	return DIGEST_REPLAY_FRESH;
}

/* ---- configuration ---- */

static bool twice(int prev_line, const char *what, const struct digest_state *st, const char *file, int line,
                  struct cfg_errors *errs)
{
	if (!prev_line)
		return false;
	cfg_error(errs, file, line, "auth digest %s is already given on line %d of %s: give it once", what, prev_line,
	          st->file);
	return true;
}

static int conf_file(struct digest_state *st, char **argv, int argc, const char *file, int line,
                     struct cfg_errors *errs)
{
	bool algs[HTDIGEST_ALGS] = { false, false };
	bool given = false;
	char *path;

	if (argc < 2) {
		cfg_error(errs, file, line, "auth digest file needs a file name, e.g. auth digest file users.digest");
		return -1;
	}
	if (twice(st->file_line, "file or helper", st, file, line, errs))
		return -1;
	st->file_line = line;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "algorithm") != 0 || given) {
			cfg_error(errs, file, line,
			          "unexpected '%s' after auth digest file: only algorithm MD5|SHA-256 ... "
			          "may follow",
			          argv[i]);
			return -1;
		}
		given = true;
		if (i + 1 == argc) {
			cfg_error(errs, file, line, "algorithm needs MD5, SHA-256 or both");
			return -1;
		}
		for (i++; i < argc && strcmp(argv[i], "algorithm") != 0; i++) {
			if (ph_strcaseeq(argv[i], "MD5")) {
				algs[HTDIGEST_MD5] = true;
			} else if (ph_strcaseeq(argv[i], "SHA-256")) {
				algs[HTDIGEST_SHA256] = true;
			} else if (ph_strcaseeq(argv[i], "MD5-sess") || ph_strcaseeq(argv[i], "SHA-256-sess")) {
				cfg_error(errs, file, line,
				          "algorithm %s is not supported: pinhole checks every request, "
				          "so the -sess variants add nothing; use MD5 or SHA-256",
				          argv[i]);
				return -1;
			} else {
				cfg_error(errs, file, line, "unknown digest algorithm '%s': use MD5, SHA-256 or both",
				          argv[i]);
				return -1;
			}
		}
		i--;
	}
	path = cfg_path(file, argv[1]);
	st->users = htdigest_load(path, file, line, errs);
	free(path);
	if (!st->users)
		return -1;
	if (given) {
		memcpy(st->algs, algs, sizeof(algs));
	} else {
		/* SHA-256 when the file can answer it. */
		st->algs[HTDIGEST_MD5] = true;
		st->algs[HTDIGEST_SHA256] = st->users->n_sha256 > 0;
	}
	if (st->algs[HTDIGEST_SHA256] && st->users->n_sha256 == 0) {
		cfg_error(errs, file, line,
		          "algorithm SHA-256 needs the HA1-SHA-256 field (a fourth one), and no line of "
		          "%s has it: make the lines with `pinhole passwd --digest`, or use algorithm MD5",
		          st->users->path);
		return -1;
	}
	if (st->algs[HTDIGEST_SHA256] && st->users->first_without_sha256) {
		/* Clients answer the first challenge they support, SHA-256 for
		 * current browsers and curl: a user without it would be locked out. */
		const char *who = "?";

		for (size_t i = 0; i < st->users->n; i++)
			if (st->users->e[i].line == st->users->first_without_sha256)
				who = st->users->e[i].user;
		cfg_error(errs, st->users->path, st->users->first_without_sha256,
		          "user '%s' has no HA1-SHA-256 field while %zu other line%s one, and clients prefer "
		          "SHA-256: add the field (`pinhole passwd --digest`) or write algorithm MD5 at %s:%d",
		          who, st->users->n_sha256, st->users->n_sha256 == 1 ? " has" : "s have", file, line);
		return -1;
	}
	return 0;
}

/* A Squid digest helper answers "user":"realm" with the MD5 HA1 only (the
 * protocol has no algorithm field), so helper mode offers MD5. */
static int conf_helper(struct digest_state *st, char **argv, int argc, const char *file, int line,
                       struct cfg_errors *errs)
{
	if (twice(st->file_line, "file or helper", st, file, line, errs))
		return -1;
	st->file_line = line;
	if (helpmode_parse(&st->helper, "digest", argv, argc, false, NULL, file, line, errs) != 0)
		return -1;
	st->algs[HTDIGEST_MD5] = true;
	st->algs[HTDIGEST_SHA256] = false;
	return 0;
}

static int conf_secret(struct digest_state *st, char **argv, int argc, const char *file, int line,
                       struct cfg_errors *errs)
{
	size_t len;
	char *path, *text;

	if (argc != 2) {
		cfg_error(errs, file, line,
		          "auth digest nonce-secret needs one file name, e.g. auth digest nonce-secret "
		          "digest.secret");
		return -1;
	}
	if (twice(st->secret_line, "nonce-secret", st, file, line, errs))
		return -1;
	st->secret_line = line;
	path = cfg_path(file, argv[1]);
	text = auth_read_file(path, DIGEST_SECRET_MAX, &len);
	if (!text) {
		if (errno == EFBIG)
			cfg_error(errs, file, line, "nonce secret file %s is larger than %d bytes", path,
			          DIGEST_SECRET_MAX);
		else
			cfg_error(errs, file, line, "cannot read nonce secret file %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	/* `openssl rand -hex 32 > FILE` ends with a newline that another
	 * instance's copy may lack. */
	while (len > 0 &&
	       (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (len < DIGEST_SECRET_MIN) {
		cfg_error(errs, file, line,
		          "nonce secret file %s holds %zu bytes, fewer than %d: fill it with e.g. "
		          "`openssl rand -hex 32 > %s`",
		          path, len, DIGEST_SECRET_MIN, path);
		OPENSSL_cleanse(text, len);
		free(text);
		free(path);
		return -1;
	}
	st->secret = (unsigned char *)text;
	st->secret_len = len;
	st->secret_path = path;
	return 0;
}

static int conf_ttl(struct digest_state *st, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	uint64_t ms;

	if (argc != 2) {
		cfg_error(errs, file, line, "auth digest nonce-ttl needs one duration, e.g. auth digest nonce-ttl 5m");
		return -1;
	}
	if (twice(st->ttl_line, "nonce-ttl", st, file, line, errs))
		return -1;
	st->ttl_line = line;
	if (cfg_parse_duration(argv[1], &ms) != PH_OK || ms == 0 || ms > DIGEST_TTL_MAX_MS) {
		cfg_error(errs, file, line, "bad nonce-ttl '%s': write a duration from 1s to 24h, e.g. 5m", argv[1]);
		return -1;
	}
	st->ttl_ms = ms;
	return 0;
}

static int digest_configure(void **statep, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	struct digest_state *st = *statep;
	int rc = -1;

	if (!st) {
		st = ph_calloc(1, sizeof(*st));
		st->ttl_ms = DIGEST_TTL_DEFAULT_MS;
		st->file = ph_strdup(file ? file : "");
		st->line = line;
		*statep = st;
	}
	if (argc < 1)
		cfg_error(errs, file, line,
		          "auth digest needs file FILE [algorithm MD5|SHA-256 ...], nonce-secret FILE "
		          "or nonce-ttl DURATION");
	else if (strcmp(argv[0], "file") == 0)
		rc = conf_file(st, argv, argc, file, line, errs);
	else if (strcmp(argv[0], "nonce-secret") == 0)
		rc = conf_secret(st, argv, argc, file, line, errs);
	else if (strcmp(argv[0], "nonce-ttl") == 0)
		rc = conf_ttl(st, argv, argc, file, line, errs);
	else if (strcmp(argv[0], "helper") == 0)
		rc = conf_helper(st, argv, argc, file, line, errs);
	else
		cfg_error(errs, file, line, "unknown auth digest setting '%s': use file, nonce-secret or nonce-ttl",
		          argv[0]);
	if (rc != 0)
		st->failed = true;
	return rc;
}

static int digest_finish(void *state, const char *file, struct cfg_errors *errs)
{
	struct digest_state *st = state;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;
	static const char label[] = "pinhole digest opaque";

	if (!st->users && !st->helper.cmd) {
		/* A refused directive was reported already. */
		if (!st->failed)
			cfg_error(errs, st->file, st->line,
			          "auth digest needs its users: add auth digest file FILE "
			          "(htdigest format)");
		return -1;
	}
	if (!st->secret) {
		pthread_once(&process_secret_once, process_secret_init);
		st->secret = ph_malloc(sizeof(process_secret));
		memcpy(st->secret, process_secret, sizeof(process_secret));
		st->secret_len = sizeof(process_secret);
	}
	/* opaque carries nothing; it is derived from the secret so that
	 * instances sharing one send the same. */
	if (!HMAC(EVP_sha256(), st->secret, (int)st->secret_len, (const unsigned char *)label, sizeof(label) - 1, mac,
	          &mlen))
		memset(mac, 0, sizeof(mac));
	base64_encode(mac, 12, st->opaque, sizeof(st->opaque));
	return 0;
}

static void digest_free(void *state)
{
	struct digest_state *st = state;

	if (!st)
		return;
	htdigest_free(st->users);
	helpmode_cfg_free(&st->helper);
	if (st->secret) {
		OPENSSL_cleanse(st->secret, st->secret_len);
		free(st->secret);
	}
	free(st->secret_path);
	free(st->file);
	free(st);
}

static void digest_dump(const void *state, struct strbuf *out)
{
	const struct digest_state *st = state;
	uint64_t ms;

	if (!st)
		return;
	if (st->users) {
		strbuf_printf(out, "auth digest file ");
		cfg_dump_word(out, st->users->path);
		strbuf_printf(out, " algorithm");
		for (int a = HTDIGEST_ALGS - 1; a >= 0; a--)
			if (st->algs[a])
				strbuf_printf(out, " %s", alg_names[a]);
		strbuf_printf(out, "\n");
	}
	if (st->helper.cmd) {
		strbuf_printf(out, "auth digest");
		helpmode_dump(&st->helper, out);
		strbuf_printf(out, "\n");
	}
	if (st->secret_path) {
		strbuf_printf(out, "auth digest nonce-secret ");
		cfg_dump_word(out, st->secret_path);
		strbuf_printf(out, "\n");
	}
	ms = st->ttl_ms;
	if (ms % 3600000 == 0)
		strbuf_printf(out, "auth digest nonce-ttl %lluh\n", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		strbuf_printf(out, "auth digest nonce-ttl %llum\n", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		strbuf_printf(out, "auth digest nonce-ttl %llus\n", (unsigned long long)(ms / 1000));
	else
		strbuf_printf(out, "auth digest nonce-ttl %llums\n", (unsigned long long)ms);
}

/* ---- challenges and requests ---- */

/* One line per algorithm, SHA-256 first: RFC 7616 section 3.7 has the
 * server list them in its order of preference. */
static void put_challenges(const struct digest_state *st, const char *realm, uint64_t now_ms, bool stale,
                           struct buf *out)
{
	char nonce[NONCE_B64 + 1];

	if (!st || !st->secret)
		return;
	make_nonce(st, realm, now_ms, nonce);
	for (int a = HTDIGEST_ALGS - 1; a >= 0; a--) {
		if (!st->algs[a])
			continue;
		buf_printf(out, "Proxy-Authenticate: Digest realm=\"");
		for (const char *r = realm; *r; r++) {
			if (*r == '"' || *r == '\\')
				buf_append(out, "\\", 1);
			if ((unsigned char)*r >= 0x20 && *r != 0x7f)
				buf_append(out, r, 1);
		}
		buf_printf(out, "\", qop=\"auth\", algorithm=%s, nonce=\"%s\", opaque=\"%s\"%s, charset=UTF-8%s\r\n",
		           alg_names[a], nonce, st->opaque, stale ? ", stale=true" : "",
		           /* a helper is asked by name: it cannot resolve a hashed one */
		           st->users ? ", userhash=true" : "");
	}
}

static void digest_challenge(const void *state, const char *realm, struct buf *out)
{
	put_challenges(state, realm, ph_wall_ms(), false, out);
}

/* A client's text for the error log: control characters replaced, cut. */
static const char *loggable(const char *s, char *buf, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 4 < cap; s++)
		buf[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	if (*s)
		buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
	buf[o] = '\0';
	return buf;
}

static enum auth_status deny(struct auth_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static enum auth_status deny(struct auth_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return AUTH_DENIED;
}

/* Does the digest uri name what the request line asked for?  Clients sign
 * the target as sent (CONNECT's host:port); for an absolute-form target
 * Chromium, Firefox and curl (7.88, checked) sign only its path and query,
 * so both forms are accepted there. */
static bool uri_matches(const struct auth_request *req, const char *uri, size_t ulen)
{
	const char *t = req->uri, *end = req->uri + req->uri_len, *sep, *path;

	if (!t)
		return false;
	if (ulen == req->uri_len && memcmp(uri, t, ulen) == 0)
		return true;
	if (req->method && strcmp(req->method, "CONNECT") == 0)
		return false;
	sep = memmem(t, req->uri_len, "://", 3);
	if (!sep || sep == t)
		return false;
	for (const char *c = t; c < sep; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '+' ||
		      *c == '-' || *c == '.'))
			return false;
	for (path = sep + 3; path < end && *path != '/' && *path != '?'; path++)
		;
	if (path == end)
		return ulen == 1 && uri[0] == '/';
	if (*path == '?')
		return ulen == (size_t)(end - path) + 1 && uri[0] == '/' && memcmp(uri + 1, path, ulen - 1) == 0;
	return ulen == (size_t)(end - path) && memcmp(uri, path, ulen) == 0;
}

/* Helper mode: the HA1 of user in realm, asked once per connection and
 * user; "" in ha1 when the helper does not know the user. */
static enum auth_status digest_ask(const struct digest_state *st, void **session, const struct auth_request *req,
                                   const char *user, const char *realm, const char *who, char *ha1,
                                   struct auth_result *res)
{
	struct helpmode_call *call = *session;
	size_t ulen = strlen(user), rlen = strlen(realm);
	char *line;
	char why[200] = "";
	enum auth_status rc = AUTH_OK;

	/* Squid sends "user":"realm" as they are, quoted, so a name that
	 * would break the quoting cannot be asked. */
	for (const char *c = user; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '"' || *c == 0x7f)
			return deny(res, "user name %s cannot be passed to a digest helper", who);
	if (!call)
		call = *session = ph_calloc(1, sizeof(*call));
	line = ph_malloc(ulen + rlen + 6);
	snprintf(line, ulen + rlen + 6, "\"%s\":\"%s\"", user, realm);
	enum helpmode_ask a = helpmode_ask(call, &st->helper, req, line, why, sizeof(why));

	free(line);
	if (a == HELPMODE_PENDING)
		return res->status = AUTH_PENDING;
	if (a == HELPMODE_BROKEN) {
		snprintf(res->reason, sizeof(res->reason), "Digest helper: %.180s", why);
		return res->status = AUTH_BROKEN;
	}
	ha1[0] = '\0';
	if (call->failed || call->code == HELPER_BH) {
		snprintf(res->reason, sizeof(res->reason), "Digest helper: %.180s", call->why[0] ? call->why : "BH");
		rc = res->status = AUTH_BROKEN;
	} else if (call->code == HELPER_OK) {
		size_t n = strlen(call->ha1);

		if (n != 32 || strspn(call->ha1, "0123456789abcdefABCDEF") != n) {
			snprintf(res->reason, sizeof(res->reason),
			         "Digest helper answered OK for %s without an MD5 HA1", who);
			rc = res->status = AUTH_BROKEN;
		} else {
			for (size_t i = 0; i <= n; i++)
				ha1[i] = ph_tolower(call->ha1[i]);
		}
	}
	helpmode_call_reset(call);
	return rc;
}

static enum auth_status digest_step(const void *state, void **session, const char *realm,
                                    const struct auth_request *req, const char *cred, size_t len,
                                    struct auth_result *res)
{
	const struct digest_state *st = state;
	struct digest_params p;
	const char *why = NULL;
	enum htdigest_alg alg = HTDIGEST_MD5;
	const struct htdigest_entry *e = NULL;
	enum nonce_status ns;
	uint64_t ts = 0, rnd = 0, now_ms;
	char who[80], shown[80];
	char want[HTDIGEST_HEX_MAX + 1], got[HTDIGEST_HEX_MAX + 1];
	char dummy[HTDIGEST_HEX_MAX + 1];
	char ha1_helper[HTDIGEST_HEX_MAX + 1] = "", helper_user[256] = "";
	const char *ha1 = NULL;
	bool match;

	if (!st || (!st->users && !st->helper.cmd) || !st->secret) {
		snprintf(res->reason, sizeof(res->reason), "Digest is not configured");
		return AUTH_BROKEN;
	}
	now_ms = req->now_ms ? req->now_ms : ph_wall_ms();
	if (digest_parse(cred, len, &p, &why) != 0)
		return deny(res, "malformed Digest credentials: %s", why);
	if (p.algorithm.s) {
		if (ph_strcaseeq(p.algorithm.s, "SHA-256"))
			alg = HTDIGEST_SHA256;
		else if (!ph_strcaseeq(p.algorithm.s, "MD5"))
			return deny(res, "algorithm %s was not offered", loggable(p.algorithm.s, shown, 40));
	}
	if (!st->algs[alg])
		return deny(res, "algorithm %s was not offered", alg_names[alg]);
	if (!ph_strcaseeq(p.qop.s, "auth"))
		return deny(res, "qop %s was not offered (pinhole offers qop=auth)", loggable(p.qop.s, shown, 40));
	if (p.response.len != 2 * htdigest_hash_len(alg))
		return deny(res, "malformed Digest credentials: the %s response has %zu hex digits, not %zu",
		            alg_names[alg], p.response.len, 2 * htdigest_hash_len(alg));
	if (strcmp(p.realm.s, realm) != 0)
		return deny(res, "realm \"%s\" is not this proxy's realm", loggable(p.realm.s, shown, 60));
	if (!uri_matches(req, p.uri.s, p.uri.len))
		return deny(res, "digest uri \"%s\" is not the request target", loggable(p.uri.s, shown, 80));

	/* Who: a name, a decoded username*, or H(name:realm). */
	if (st->helper.cmd) {
		const struct digest_value *u = p.username_star.s ? &p.username_star : &p.username;
		enum auth_status hs;

		if (p.userhash)
			return deny(res, "userhash needs the users in a file (auth digest file), not a helper");
		loggable(u->s, who, sizeof(who));
		hs = digest_ask(st, session, req, u->s, realm, who, ha1_helper, res);
		if (hs != AUTH_OK)
			return hs;
		snprintf(helper_user, sizeof(helper_user), "%s", u->s);
		ha1 = ha1_helper[0] ? ha1_helper : NULL;
	} else if (p.userhash) {
		unsigned char h[HTDIGEST_HASH_MAX];

		if (htdigest_unhex(p.username.s, p.username.len, h, htdigest_hash_len(alg)) == 0)
			e = htdigest_find_userhash(st->users, alg, h, realm);
		snprintf(who, sizeof(who), "%s", e ? e->user : "a hashed user name");
	} else {
		const struct digest_value *u = p.username_star.s ? &p.username_star : &p.username;

		e = htdigest_find(st->users, u->s, realm);
		loggable(u->s, who, sizeof(who));
	}
	if (e && !e->ha1[alg])
		e = NULL; /* refused at configuration time; kept for safety */
	if (e)
		ha1 = e->ha1[alg];
	memset(dummy, '0', 2 * htdigest_hash_len(alg));
	dummy[2 * htdigest_hash_len(alg)] = '\0';
	/* The same work for unknown users, so timing does not tell names. */
	if (digest_response(alg, ha1 ? ha1 : dummy, p.nonce.s, p.nc.s, p.cnonce.s, p.qop.s, req->method, p.uri.s,
	                    want) != 0) {
		snprintf(res->reason, sizeof(res->reason), "OpenSSL refuses %s (is it in FIPS mode?)", alg_names[alg]);
		return AUTH_BROKEN;
	}
	for (size_t i = 0; i < p.response.len; i++)
		got[i] = ph_tolower(p.response.s[i]);
	match = auth_ct_equal(want, got, p.response.len) && ha1 != NULL;

	/* stale=true lets the client retry with a new nonce without asking
	 * its user, so it goes only with a response that proves the
	 * password (RFC 7616 section 3.3). */
	ns = check_nonce(st, realm, &p.nonce, now_ms, &ts, &rnd);
	if (ns == NONCE_FOREIGN) {
		if (match)
			put_challenges(st, realm, now_ms, true, &res->headers);
		return deny(res, "nonce not issued by this proxy");
	}
	if (!match)
		return deny(res, "wrong user name or password for %s", who);
	if (ns == NONCE_STALE) {
		put_challenges(st, realm, now_ms, true, &res->headers);
		return deny(res, "stale nonce");
	}
	if (p.opaque.s && strcmp(p.opaque.s, st->opaque) != 0)
		return deny(res, "opaque value not issued by this proxy");
	switch (digest_replay_check(ts, rnd, p.nc_value)) {
	case DIGEST_REPLAY_FRESH:
		break;
	case DIGEST_REPLAY_REPLAYED:
		put_challenges(st, realm, now_ms, true, &res->headers);
		return deny(res, "nonce count replayed");
	case DIGEST_REPLAY_FORGOTTEN:
		put_challenges(st, realm, now_ms, true, &res->headers);
		return deny(res, "stale nonce (no longer in the replay table)");
	}
	snprintf(res->user, sizeof(res->user), "%s", e ? e->user : helper_user);
	res->scheme = "Digest";
	return AUTH_OK;
}

static void digest_session_free(void *session)
{
	struct helpmode_call *call = session; /* helper mode only */

	if (call)
		helpmode_call_reset(call);
	free(call);
}

static const struct helpmode_cfg *digest_helper(const void *state)
{
	const struct digest_state *st = state;

	return st && st->helper.cmd ? &st->helper : NULL;
}

const struct auth_scheme_ops auth_digest_ops = {
	.name = "Digest",
	.keyword = "digest",
	.connection_bound = false,
	.configure = digest_configure,
	.finish = digest_finish,
	.free = digest_free,
	.dump = digest_dump,
	.challenge = digest_challenge,
	.step = digest_step,
	.session_free = digest_session_free,
	.helper = digest_helper,
};
