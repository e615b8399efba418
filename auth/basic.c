/*
 * basic.c - the Basic scheme (RFC 7617) over an htpasswd file: the directive
 * `auth basic htpasswd FILE [cache DURATION]`, the challenge, the check of
 * "user:password", and a small cache of recent successes so that a bcrypt is
 * paid once per credential and TTL.  Reading and hashing are htpasswd.c's.
 * `auth basic helper "CMD"` asks a Squid basic helper instead, through the
 * same cache.
 */
#include "scheme.h"
#include "strbuf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "basic.h"
#include "common.h"
#include "cfgparse.h"
#include "helpmode.h"
#include "htpasswd.h"

#define BASIC_USAGE "write 'auth basic htpasswd FILE [cache DURATION]' or 'auth basic helper \"CMD\" [children N]'"
#define BASIC_DEFAULT_TTL_MS (5 * 60 * 1000)
/* 512 sets of 8: 4096 credentials, least recently used out first. */
#define BASIC_CACHE_SETS 512
#define BASIC_CACHE_WAYS 8

/* A credential that passed: only a salted SHA-256 of (user, password). */
struct basic_cache_entry {
	unsigned char digest[32];
	uint64_t expires_ms; /* 0: free */
	uint64_t used;       /* basic_cache.tick at the last hit */
};

struct basic_cache {
	pthread_mutex_t lock; /* never held during a hash */
	uint64_t tick;
	unsigned char salt[32]; /* random, per configuration */
	struct basic_cache_entry sets[BASIC_CACHE_SETS][BASIC_CACHE_WAYS];
};

struct basic {
	char *path; /* resolved against the directory of the config file */
	uint64_t ttl_ms;
	struct htpasswd *store;     /* NULL in helper mode */
	struct helpmode_cfg helper; /* helper.cmd NULL: htpasswd mode */
	struct basic_cache *cache;  /* NULL with `cache 0` */
	char *file;                 /* where the directive was, for "configured twice" */
	int line;
};

/* ---- configuration ---- */

static void basic_free(void *state)
{
	struct basic *b = state;

	if (!b)
		return;
	htpasswd_free(b->store);
	helpmode_cfg_free(&b->helper);
	if (b->cache) {
		pthread_mutex_destroy(&b->cache->lock);
		OPENSSL_cleanse(b->cache, sizeof(*b->cache));
		free(b->cache);
	}
	free(b->path);
	free(b->file);
	free(b);
}

static int basic_configure(void **state, char **argv, int argc, const char *file, int line, struct cfg_errors *errs)
{
	uint64_t ttl = BASIC_DEFAULT_TTL_MS;
	bool ttl_given = false;
	struct basic *b;

	if (*state) {
		const struct basic *prev = *state;

		cfg_error(errs, file, line,
		          "auth basic is already configured at %s:%d; pinhole reads one htpasswd file", prev->file,
		          prev->line);
		return PH_ERROR;
	}
	if (argc < 1) {
		cfg_error(errs, file, line, "auth basic needs a credential store: " BASIC_USAGE);
		return PH_ERROR;
	}
	if (strcmp(argv[0], "helper") == 0) {
		static const char *const extra[] = { "cache", NULL };
		struct helpmode_cfg hc;
		const char *v;

		if (helpmode_parse(&hc, "basic", argv, argc, false, extra, file, line, errs) != 0)
			return PH_ERROR;
		v = helpmode_option(argv, argc, "cache");
		if (v && cfg_parse_duration(v, &ttl) != PH_OK) {
			cfg_error(errs, file, line, "bad duration '%s' for auth basic cache: write e.g. 5m, or 0", v);
			helpmode_cfg_free(&hc);
			return PH_ERROR;
		}
		b = ph_calloc(1, sizeof(*b));
		b->helper = hc;
	} else {
		if (strcmp(argv[0], "htpasswd") != 0) {
			cfg_error(errs, file, line, "unknown auth basic store '%s': " BASIC_USAGE, argv[0]);
			return PH_ERROR;
		}
		if (argc < 2 || argv[1][0] == '\0') {
			cfg_error(errs, file, line, "auth basic htpasswd needs a FILE: " BASIC_USAGE);
			return PH_ERROR;
		}
		for (int i = 2; i < argc; i += 2) {
			if (strcmp(argv[i], "cache") != 0) {
				cfg_error(errs, file, line, "unknown option '%s' for auth basic htpasswd: " BASIC_USAGE,
				          argv[i]);
				return PH_ERROR;
			}
			if (ttl_given) {
				cfg_error(errs, file, line, "'cache' is given twice for auth basic htpasswd: keep one");
				return PH_ERROR;
			}
			if (i + 1 >= argc || cfg_parse_duration(argv[i + 1], &ttl) != PH_OK) {
				cfg_error(errs, file, line,
				          "bad duration '%s' for auth basic cache: write a number with s, m or h (e.g. "
				          "5m), or 0 to turn the cache off",
				          i + 1 < argc ? argv[i + 1] : "");
				return PH_ERROR;
			}
			ttl_given = true;
		}
		b = ph_calloc(1, sizeof(*b));
		b->path = cfg_path(file, argv[1]);
		b->store = htpasswd_load(b->path, file, line, errs);
	}
	b->ttl_ms = ttl;
	b->file = ph_strdup(file ? file : "-");
	b->line = line;
	if (!b->store && !b->helper.cmd) {
		basic_free(b);
		return PH_ERROR;
	}
	if (ttl > 0) {
		b->cache = ph_calloc(1, sizeof(*b->cache));
		pthread_mutex_init(&b->cache->lock, NULL);
		if (RAND_bytes(b->cache->salt, sizeof(b->cache->salt)) != 1) {
			cfg_error(errs, file, line,
			          "OpenSSL could not make random bytes for the Basic credential cache; "
			          "write 'cache 0' to do without it");
			basic_free(b);
			return PH_ERROR;
		}
	}
	*state = b;
	return PH_OK;
}

static int basic_finish(void *state, const char *file, struct cfg_errors *errs)
{
	return PH_OK;
}

static void basic_dump(const void *state, struct strbuf *out)
{
	const struct basic *b = state;
	uint64_t ms = b->ttl_ms;

	if (b->helper.cmd) {
		strbuf_printf(out, "auth basic");
		helpmode_dump(&b->helper, out);
	} else {
		strbuf_printf(out, "auth basic htpasswd ");
		cfg_dump_word(out, b->path);
	}
	if (ms == 0)
		strbuf_printf(out, " cache 0\n");
	else if (ms % 3600000 == 0)
		strbuf_printf(out, " cache %lluh\n", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		strbuf_printf(out, " cache %llum\n", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		strbuf_printf(out, " cache %llus\n", (unsigned long long)(ms / 1000));
	else
		strbuf_printf(out, " cache %llums\n", (unsigned long long)ms);
}

/* ---- challenge ---- */

/* RFC 7617 section 2.1: the realm is a quoted-string, and charset="UTF-8"
 * tells the client how to encode user name and password. */
static void basic_challenge(const void *state, const char *realm, struct buf *out)
{
	static const char head[] = "Proxy-Authenticate: Basic realm=\"";
	static const char tail[] = "\", charset=\"UTF-8\"\r\n";

	buf_append(out, head, sizeof(head) - 1);
	for (const char *p = realm ? realm : "pinhole"; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c == 0x7f)
			continue; /* never a line break inside a header */
		if (c == '"' || c == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, p, 1);
	}
	buf_append(out, tail, sizeof(tail) - 1);
}

/* ---- the cache ---- */

static bool basic_cache_key(const struct basic_cache *c, const char *user, size_t user_len, const char *pw,
                            size_t pw_len, unsigned char key[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char n[4] = { (unsigned char)(user_len >> 24), (unsigned char)(user_len >> 16),
		               (unsigned char)(user_len >> 8), (unsigned char)user_len };
	unsigned int key_len = 0;
	bool ok;

	/* The user's length first, so that ("ab", "c") and ("a", "bc") differ. */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, c->salt, sizeof(c->salt)) &&
	     EVP_DigestUpdate(ctx, n, sizeof(n)) && EVP_DigestUpdate(ctx, user, user_len) &&
	     EVP_DigestUpdate(ctx, pw, pw_len) && EVP_DigestFinal_ex(ctx, key, &key_len) && key_len == 32;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Fresh: not expired, and not from a wall clock that went backwards. */
static bool basic_fresh(const struct basic_cache_entry *e, uint64_t now, uint64_t ttl)
{
	return e->expires_ms != 0 && now < e->expires_ms && e->expires_ms - now <= ttl;
}

static struct basic_cache_entry *basic_cache_set(struct basic_cache *c, const unsigned char key[32])
{
	/* The key is a salted hash: its bytes are as good as any index. */
	return c->sets[((size_t)key[0] << 8 | key[1]) % BASIC_CACHE_SETS];
}

static bool basic_cache_hit(struct basic_cache *c, const unsigned char key[32], uint64_t now, uint64_t ttl)
{
	struct basic_cache_entry *set = basic_cache_set(c, key);
	bool hit = false;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < BASIC_CACHE_WAYS && !hit; i++) {
		if (basic_fresh(&set[i], now, ttl) && auth_ct_equal(set[i].digest, key, 32)) {
			set[i].used = ++c->tick;
			hit = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

static void basic_cache_put(struct basic_cache *c, const unsigned char key[32], uint64_t now, uint64_t ttl)
{
	struct basic_cache_entry *set = basic_cache_set(c, key);
	struct basic_cache_entry *victim = NULL;

	/* The same credential (another thread verified it meanwhile), else a
	 * free or stale slot, else the least recently used one. */
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < BASIC_CACHE_WAYS; i++) {
		if (memcmp(set[i].digest, key, 32) == 0) {
			victim = &set[i];
			break;
		}
		if (!basic_fresh(&set[i], now, ttl)) {
			if (!victim || basic_fresh(victim, now, ttl))
				victim = &set[i];
		} else if (!victim || (basic_fresh(victim, now, ttl) && set[i].used < victim->used)) {
			victim = &set[i];
		}
	}
	memcpy(victim->digest, key, 32);
	victim->expires_ms = now + ttl;
	victim->used = ++c->tick;
	pthread_mutex_unlock(&c->lock);
}

/* ---- one request ---- */

/* The user name as it may appear in a log line. */
static void basic_shown(char *out, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

/* One connection's Basic state: a helper's answer, or a slow check running
 * on the job threads, kept until the request that asked runs again. */
struct basic_job;
struct basic_session {
	struct helpmode_call call; /* helper mode */
	struct basic_job *job;     /* htpasswd mode: a check in flight */
	unsigned char key[32];     /* which credentials job (or result) is for */
	bool done;                 /* result is the answer for key */
	enum htpasswd_result result;
	char why[160];
};

struct basic_job {
	struct auth_job base;
	struct htpasswd *store; /* a reference: a reload may free the configuration meanwhile */
	char *user, *pw;
	size_t user_len, pw_len;
	enum htpasswd_result result;
	char why[160];
	struct basic_session *s;
	void (*wake)(void *arg);
	void *wake_arg;
};

static struct basic_session *session_of(void **session)
{
	if (!*session)
		*session = ph_calloc(1, sizeof(struct basic_session));
	return *session;
}

static void job_work(struct auth_job *j)
{
	struct basic_job *bj = (struct basic_job *)j;

	bj->result = htpasswd_verify(bj->store, bj->user, bj->user_len, bj->pw, bj->pw_len, bj->why, sizeof(bj->why));
}

static void job_done(struct auth_job *j)
{
	struct basic_job *bj = (struct basic_job *)j;
	struct basic_session *s = bj->s;

	s->job = NULL;
	s->done = true;
	s->result = bj->result;
	memcpy(s->why, bj->why, sizeof(s->why));
	bj->wake(bj->wake_arg);
}

static void job_release(struct auth_job *j)
{
	struct basic_job *bj = (struct basic_job *)j;

	htpasswd_free(bj->store);
	OPENSSL_cleanse(bj->pw, bj->pw_len);
	free(bj->pw);
	free(bj->user);
	free(bj);
}

/* A bcrypt (or SHA-crypt, yescrypt) check takes tens of milliseconds on
 * purpose: it runs on the job threads, and the worker goes on with its
 * other connections.  PENDING, or the result when it is in. */
static enum auth_status basic_offload(const struct basic *b, void **session, const struct auth_request *req,
                                      const unsigned char key[32], const char *user, size_t user_len, const char *pw,
                                      size_t pw_len, enum htpasswd_result *result, char *why, size_t why_len)
{
	struct basic_session *s = session_of(session);
	struct basic_job *bj;

	if (s->done && memcmp(s->key, key, 32) == 0) {
		s->done = false;
		*result = s->result;
		snprintf(why, why_len, "%s", s->why);
		return AUTH_OK;
	}
	if (s->job && memcmp(s->key, key, 32) == 0) {
		s->job->wake = req->wake;
		s->job->wake_arg = req->wake_arg;
		return AUTH_PENDING;
	}
	if (s->job)
		auth_job_cancel(&s->job->base);
	bj = ph_calloc(1, sizeof(*bj));
	bj->base.work = job_work;
	bj->base.done = job_done;
	bj->base.release = job_release;
	bj->store = htpasswd_ref(b->store);
	bj->user = ph_strndup(user, user_len);
	bj->user_len = user_len;
	bj->pw = ph_strndup(pw, pw_len);
	bj->pw_len = pw_len;
	bj->s = s;
	bj->wake = req->wake;
	bj->wake_arg = req->wake_arg;
	s->job = NULL;
	s->done = false;
	memcpy(s->key, key, 32);
	if (!auth_job_submit(req->worker, &bj->base)) {
		/* No thread: check here, as without a worker. */
		job_work(&bj->base);
		*result = bj->result;
		snprintf(why, why_len, "%s", bj->why);
		job_release(&bj->base);
		return AUTH_OK;
	}
	s->job = bj;
	return AUTH_PENDING;
}

/* The helper's verdict on user:pw, asked once per connection and
 * credential; the answer is kept in the session until the request that
 * asked runs again. */
static enum auth_status basic_ask(const struct basic *b, void **session, const struct auth_request *req,
                                  const char *user, size_t user_len, const char *pw, size_t pw_len, const char *name,
                                  struct auth_result *res)
{
	struct helpmode_call *call = &session_of(session)->call;
	size_t ulen = helper_url_encode(user, user_len, NULL, 0), plen = helper_url_encode(pw, pw_len, NULL, 0);
	char *line = ph_malloc(ulen + plen + 2);
	char why[200] = "";
	enum auth_status st;

	helper_url_encode(user, user_len, line, ulen + 1);
	line[ulen] = ' ';
	helper_url_encode(pw, pw_len, line + ulen + 1, plen + 1);
	enum helpmode_ask a = helpmode_ask(call, &b->helper, req, line, why, sizeof(why));

	OPENSSL_cleanse(line, ulen + plen + 2);
	free(line);
	if (a == HELPMODE_PENDING)
		return res->status = AUTH_PENDING;
	if (a == HELPMODE_BROKEN) {
		snprintf(res->reason, sizeof(res->reason), "Basic helper: %.180s", why);
		return res->status = AUTH_BROKEN;
	}
	if (call->failed || call->code == HELPER_BH) {
		snprintf(res->reason, sizeof(res->reason), "Basic helper: %.180s", call->why[0] ? call->why : "BH");
		st = AUTH_BROKEN;
	} else if (call->code == HELPER_OK) {
		st = AUTH_OK;
	} else {
		snprintf(res->reason, sizeof(res->reason), "wrong user name or password for %.80s%s%.60s%s", name,
		         call->why[0] ? " (helper: " : "", call->why, call->why[0] ? ")" : "");
		st = AUTH_DENIED;
	}
	helpmode_call_reset(call);
	return res->status = st;
}

static enum auth_status basic_check(const struct basic *b, void **session, const struct auth_request *req,
                                    const char *user, size_t user_len, const char *pw, size_t pw_len, uint64_t now,
                                    struct auth_result *res)
{
	unsigned char key[32];
	bool keyed =
	        b->cache && user_len <= HTPASSWD_MAX_USER && basic_cache_key(b->cache, user, user_len, pw, pw_len, key);
	char name[HTPASSWD_MAX_USER + 1];
	char why[160] = "";

	basic_shown(name, sizeof(name), user, PH_MIN(user_len, HTPASSWD_MAX_USER));
	if (keyed && basic_cache_hit(b->cache, key, now, b->ttl_ms))
		goto ok;
	if (b->helper.cmd) {
		if (user_len > HTPASSWD_MAX_USER) {
			snprintf(res->reason, sizeof(res->reason), "user name longer than %d bytes", HTPASSWD_MAX_USER);
			return res->status = AUTH_DENIED;
		}
		enum auth_status st = basic_ask(b, session, req, user, user_len, pw, pw_len, name, res);

		if (st != AUTH_OK)
			return st;
		if (keyed)
			basic_cache_put(b->cache, key, now, b->ttl_ms);
		goto ok;
	}
	enum htpasswd_result hr;

	if (req && req->worker && req->wake && htpasswd_is_slow(b->store, user, user_len)) {
		unsigned char jkey[32];

		/* Which credentials a pending check is for: the cache's salted
		 * digest, or a digest of its own without a cache. */
		if (keyed) {
			memcpy(jkey, key, sizeof(jkey));
		} else {
			unsigned char uk[32];

			SHA256((const unsigned char *)pw, pw_len, jkey);
			SHA256((const unsigned char *)user, user_len, uk);
			for (size_t i = 0; i < sizeof(jkey); i++)
				jkey[i] ^= uk[i];
		}
		if (basic_offload(b, session, req, jkey, user, user_len, pw, pw_len, &hr, why, sizeof(why)) ==
		    AUTH_PENDING)
			return res->status = AUTH_PENDING;
	} else {
		hr = htpasswd_verify(b->store, user, user_len, pw, pw_len, why, sizeof(why));
	}
	switch (hr) {
	case HTPASSWD_MATCH:
		if (keyed)
			basic_cache_put(b->cache, key, now, b->ttl_ms);
		goto ok;
	case HTPASSWD_MISMATCH:
		snprintf(res->reason, sizeof(res->reason), "wrong user name or password for %.160s", name);
		return res->status = AUTH_DENIED;
	case HTPASSWD_ERROR:
	default:
		snprintf(res->reason, sizeof(res->reason), "cannot check the password of %.64s: %.100s", name, why);
		return res->status = AUTH_BROKEN;
	}
ok:
	/* Only names of at most 255 bytes get here (the file's, or checked
	 * above); a NUL inside one is refused by the decoder's caller. */
	memcpy(res->user, user, user_len);
	res->user[user_len] = '\0';
	return res->status = AUTH_OK;
}

long basic_parse(const char *cred, size_t len, unsigned char *dec, size_t cap, size_t *user_len)
{
	long n = len <= BASIC_MAX_CRED ? base64_decode(cred, len, dec, cap) : -1;
	const unsigned char *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;

	/* RFC 7617: the user-id ends at the first colon; the password may
	 * hold more. */
	if (!colon || memchr(dec, '\0', (size_t)(colon - dec))) {
		if (n > 0)
			OPENSSL_cleanse(dec, (size_t)n);
		return -1;
	}
	*user_len = (size_t)(colon - dec);
	return n;
}

static enum auth_status basic_step(const void *state, void **session, const char *realm, const struct auth_request *req,
                                   const char *cred, size_t len, struct auth_result *res)
{
	const struct basic *b = state;
	unsigned char dec[BASIC_MAX_CRED / 4 * 3];
	size_t user_len = 0;
	long n = basic_parse(cred, len, dec, sizeof(dec), &user_len);
	uint64_t now = req && req->now_ms ? req->now_ms : ph_wall_ms();
	enum auth_status st;

	res->scheme = "Basic";
	if (n < 0) {
		snprintf(res->reason, sizeof(res->reason), "malformed Basic credentials");
		st = res->status = AUTH_DENIED;
	} else {
		st = basic_check(b, session, req, (const char *)dec, user_len, (const char *)dec + user_len + 1,
		                 (size_t)n - user_len - 1, now, res);
	}
	if (n > 0)
		OPENSSL_cleanse(dec, (size_t)n);
	return st;
}

static void basic_session_free(void *session)
{
	struct basic_session *s = session;

	if (!s)
		return;
	helpmode_call_reset(&s->call);
	if (s->job)
		auth_job_cancel(&s->job->base);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static const struct helpmode_cfg *basic_helper(const void *state)
{
	const struct basic *b = state;

	return b->helper.cmd ? &b->helper : NULL;
}

const struct auth_scheme_ops auth_basic_ops = {
	.name = "Basic",
	.keyword = "basic",
	.connection_bound = false,
	.configure = basic_configure,
	.finish = basic_finish,
	.free = basic_free,
	.dump = basic_dump,
	.challenge = basic_challenge,
	.step = basic_step,
	.session_free = basic_session_free,
	.helper = basic_helper,
};
