/*
 * helpmode.c - what the `helper "CMD"` form of a scheme shares: parsing its
 * options, one pool of children per command and worker, and the two ways a
 * connection waits for them (a stateless question for Basic and Digest, a
 * reserved child per handshake for NTLM and Negotiate).
 */
#include "helpmode.h"
#include "strbuf.h"
#include "scheme.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common.h"
#include "cfgparse.h"
#include "loop.h"

/* ---- configuration ---- */

/* Whether the first word of cmd names a program that can run: a path
 * must be executable; a bare name is left to the shell's PATH. */
static bool runnable(const char *cmd, char *prog, size_t cap)
{
	size_t n = strcspn(cmd, " \t");

	if (n == 0 || n >= cap)
		return true;
	memcpy(prog, cmd, n);
	prog[n] = '\0';
	return !strchr(prog, '/') || access(prog, X_OK) == 0;
}

static int parse_count(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

static bool is_extra(const char *name, const char *const *extra)
{
	for (; extra && *extra; extra++)
		if (strcmp(name, *extra) == 0)
			return true;
	return false;
}

int helpmode_parse(struct helpmode_cfg *hc, const char *scheme, char **argv, int argc, bool stateful,
                   const char *const *extra, const char *file, int line, struct cfg_errors *errs)
{
	char prog[256];

	memset(hc, 0, sizeof(*hc));
	hc->children = HELPMODE_CHILDREN_DEFAULT;
	hc->timeout_ms = HELPMODE_TIMEOUT_DEFAULT_MS;
	hc->reservation_ms = HELPMODE_RESERVATION_DEFAULT_MS;
	if (argc < 2 || !argv[1][0]) {
		cfg_error(errs, file, line,
		          "auth %s helper needs a command, e.g. auth %s helper \"/usr/lib/squid/...\"", scheme, scheme);
		return -1;
	}
	if (strpbrk(argv[1], "\r\n")) {
		cfg_error(errs, file, line, "auth %s helper: the command may not contain line breaks", scheme);
		return -1;
	}
	if (!runnable(argv[1], prog, sizeof(prog))) {
		cfg_error(errs, file, line, "auth %s helper: %s: %s", scheme, prog,
		          access(prog, F_OK) == 0 ? "not executable" : "no such file");
		return -1;
	}
	for (int i = 2; i < argc; i += 2) {
		const char *name = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (!v) {
			cfg_error(errs, file, line, "auth %s helper: option '%s' needs a value", scheme, name);
			return -1;
		}
		if (strcmp(name, "children") == 0)
			bad = parse_count(v, 1, 1000, &hc->children);
		else if (strcmp(name, "concurrency") == 0 && !stateful)
			bad = parse_count(v, 0, 1000, &hc->concurrency);
		else if (strcmp(name, "timeout") == 0)
			bad = cfg_parse_duration(v, &hc->timeout_ms) != PH_OK;
		else if (strcmp(name, "reservation-timeout") == 0 && stateful)
			bad = cfg_parse_duration(v, &hc->reservation_ms) != PH_OK;
		else if (!is_extra(name, extra)) {
			cfg_error(errs, file, line,
			          "unknown option '%s' for auth %s helper: use children N, %s timeout DURATION%s", name,
			          scheme, stateful ? "reservation-timeout DURATION," : "concurrency N,",
			          is_extra("cache", extra) ? ", cache DURATION" : "");
			return -1;
		}
		if (bad) {
			cfg_error(errs, file, line, "auth %s helper: bad value '%s' for %s", scheme, v, name);
			return -1;
		}
	}
	hc->cmd = ph_strdup(argv[1]);
	return 0;
}

const char *helpmode_option(char **argv, int argc, const char *name)
{
	for (int i = 2; i + 1 < argc; i += 2)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

void helpmode_cfg_free(struct helpmode_cfg *hc)
{
	free(hc->cmd);
	hc->cmd = NULL;
}

void helpmode_dump(const struct helpmode_cfg *hc, struct strbuf *out)
{
	strbuf_printf(out, " helper");
	auth_dump_arg(out, hc->cmd);
	strbuf_printf(out, " children %d", hc->children);
	if (hc->concurrency)
		strbuf_printf(out, " concurrency %d", hc->concurrency);
	strbuf_printf(out, " timeout %llums", (unsigned long long)hc->timeout_ms);
}

/* ---- one worker's pools ---- */

struct hm_pool {
	char *key; /* command and the options that shape the pool */
	struct helper_pool *pool;
};

struct auth_worker {
	struct loop *loop;
	struct hm_pool *pools;
	size_t n;
	/* Slow checks: finished by the pool, waiting for the loop. */
	pthread_mutex_t lock;
	pthread_cond_t finished_cond;
	struct auth_job *finished; /* under lock */
	unsigned inflight;         /* submitted, not yet released (loop thread only) */
};

struct auth_worker *auth_worker_new(struct loop *loop)
{
	struct auth_worker *aw = ph_calloc(1, sizeof(*aw));

	aw->loop = loop;
	pthread_mutex_init(&aw->lock, NULL);
	pthread_cond_init(&aw->finished_cond, NULL);
	return aw;
}

/* ---- slow checks: a small pool of threads for the whole process ---- */

/* bcrypt at cost 10 takes ~70 ms: two threads keep a burst of new
 * credentials from stalling anything else, and never take every CPU. */
#define JOB_THREADS 2

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cond = PTHREAD_COND_INITIALIZER;
static struct auth_job *jobs_head, *jobs_tail;
static int jobs_threads; /* started so far; -1 when starting failed */

static void *job_thread(void *arg)
{
	PH_UNUSED(arg);
	for (;;) {
		struct auth_job *j;
		struct auth_worker *aw;

		pthread_mutex_lock(&jobs_lock);
		while (!jobs_head)
			pthread_cond_wait(&jobs_cond, &jobs_lock);
		j = jobs_head;
		jobs_head = j->next;
		if (!jobs_head)
			jobs_tail = NULL;
		pthread_mutex_unlock(&jobs_lock);
		j->work(j);
		aw = j->aw;
		pthread_mutex_lock(&aw->lock);
		j->next = aw->finished;
		aw->finished = j;
		pthread_cond_signal(&aw->finished_cond);
		pthread_mutex_unlock(&aw->lock);
		loop_wakeup(aw->loop);
	}
	return NULL;
}

bool auth_job_submit(struct auth_worker *aw, struct auth_job *j)
{
	bool ok;

	pthread_mutex_lock(&jobs_lock);
	while (jobs_threads >= 0 && jobs_threads < JOB_THREADS) {
		pthread_t t;
		sigset_t all, old;

		/* Signals belong to the engine's signal thread. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&t, NULL, job_thread, NULL) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			if (jobs_threads == 0)
				jobs_threads = -1;
			break;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_detach(t);
		jobs_threads++;
	}
	ok = jobs_threads > 0;
	if (ok) {
		j->aw = aw;
		j->cancelled = false;
		j->next = NULL;
		if (jobs_tail)
			jobs_tail->next = j;
		else
			jobs_head = j;
		jobs_tail = j;
		aw->inflight++;
		pthread_cond_signal(&jobs_cond);
	}
	pthread_mutex_unlock(&jobs_lock);
	return ok;
}

void auth_job_cancel(struct auth_job *j)
{
	j->cancelled = true;
}

void auth_worker_run(struct auth_worker *aw)
{
	struct auth_job *list, *next;

	if (!aw)
		return;
	pthread_mutex_lock(&aw->lock);
	list = aw->finished;
	aw->finished = NULL;
	pthread_mutex_unlock(&aw->lock);
	for (; list; list = next) {
		next = list->next;
		if (!list->cancelled)
			list->done(list);
		aw->inflight--;
		list->release(list);
	}
}

void auth_worker_free(struct auth_worker *aw)
{
	if (!aw)
		return;
	/* Checks still running hold aw: wait for them (bounded by one hash). */
	while (aw->inflight) {
		pthread_mutex_lock(&aw->lock);
		while (!aw->finished)
			pthread_cond_wait(&aw->finished_cond, &aw->lock);
		pthread_mutex_unlock(&aw->lock);
		auth_worker_run(aw);
	}
	pthread_mutex_destroy(&aw->lock);
	pthread_cond_destroy(&aw->finished_cond);
	for (size_t i = 0; i < aw->n; i++) {
		helper_pool_free(aw->pools[i].pool);
		free(aw->pools[i].key);
	}
	free(aw->pools);
	free(aw);
}

static char *pool_key(const struct helpmode_cfg *hc)
{
	size_t cap = strlen(hc->cmd) + 64;
	char *k = ph_malloc(cap);

	snprintf(k, cap, "%d %d %llu %s", hc->children, hc->concurrency, (unsigned long long)hc->timeout_ms, hc->cmd);
	return k;
}

static struct helper_pool *pool_for(struct auth_worker *aw, const struct helpmode_cfg *hc, char *why, size_t whylen)
{
	char *key = pool_key(hc);
	char err[200] = "";

	for (size_t i = 0; i < aw->n; i++)
		if (strcmp(aw->pools[i].key, key) == 0) {
			free(key);
			return aw->pools[i].pool;
		}
	struct helper_pool *p =
	        helper_pool_new(aw->loop, hc->cmd, hc->children, hc->concurrency, hc->timeout_ms, err, sizeof(err));

	if (!p) {
		snprintf(why, whylen, "cannot start the helper: %s", err);
		free(key);
		return NULL;
	}
	aw->pools = ph_realloc(aw->pools, (aw->n + 1) * sizeof(*aw->pools));
	aw->pools[aw->n++] = (struct hm_pool){ key, p };
	return p;
}

static bool named_by(const struct auth_config *ac, const char *key);

void auth_worker_retain(struct auth_worker *aw, const struct auth_config *ac)
{
	size_t kept = 0;

	for (size_t i = 0; i < aw->n; i++) {
		struct helper_pool_stats st;

		helper_pool_stats(aw->pools[i].pool, &st);
		if (named_by(ac, aw->pools[i].key) || st.busy || st.reserved || st.queued) {
			aw->pools[kept++] = aw->pools[i];
			continue;
		}
		helper_pool_free(aw->pools[i].pool);
		free(aw->pools[i].key);
	}
	aw->n = kept;
}

/* Whether a scheme of ac asks the helper pool key names. */
static bool named_by(const struct auth_config *ac, const char *key)
{
	const struct helpmode_cfg *hcs[8];
	size_t n = auth_config_helpers(ac, hcs, PH_ARRAY_LEN(hcs));
	bool found = false;

	for (size_t i = 0; i < n && !found; i++) {
		char *k = pool_key(hcs[i]);

		found = strcmp(k, key) == 0;
		free(k);
	}
	return found;
}

/* ---- stateless questions (Basic, Digest) ---- */

static void copy_clean(char *out, size_t cap, const char *s)
{
	snprintf(out, cap, "%s", s ? s : "");
}

static void call_answered(void *arg, const struct helper_reply *reply, const char *why)
{
	struct helpmode_call *call = arg;

	call->req = NULL;
	call->done = true;
	call->failed = reply == NULL;
	free(call->token);
	call->token = NULL;
	if (reply) {
		call->code = reply->code;
		copy_clean(call->user, sizeof(call->user), reply->user);
		copy_clean(call->ha1, sizeof(call->ha1), reply->ha1);
		copy_clean(call->why, sizeof(call->why), reply->message);
		if (reply->token)
			call->token = ph_strdup(reply->token);
	} else {
		copy_clean(call->why, sizeof(call->why), why);
	}
	if (call->wake)
		call->wake(call->wake_arg);
}

void helpmode_call_reset(struct helpmode_call *call)
{
	if (call->req)
		helper_cancel(call->req);
	free(call->token);
	OPENSSL_cleanse(call, sizeof(*call));
}

/* Whether key was asked already: then *out says if its answer is in
 * (ANSWER) or still awaited (PENDING, and req's wake is the one called). */
static bool call_asked(struct helpmode_call *call, const unsigned char key[32], const struct auth_request *req,
                       enum helpmode_ask *out)
{
	if (!call->asked || CRYPTO_memcmp(key, call->key, 32) != 0)
		return false;
	if (call->done) {
		*out = HELPMODE_ANSWER;
		return true;
	}
	call->wake = req->wake;
	call->wake_arg = req->wake_arg;
	*out = HELPMODE_PENDING;
	return true;
}

/* key is being asked on req's behalf. */
static void call_arm(struct helpmode_call *call, const unsigned char key[32], const struct auth_request *req)
{
	memcpy(call->key, key, 32);
	call->asked = true;
	call->done = false;
	call->wake = req->wake;
	call->wake_arg = req->wake_arg;
}

enum helpmode_ask helpmode_ask(struct helpmode_call *call, const struct helpmode_cfg *hc,
                               const struct auth_request *req, const char *line, char *why, size_t whylen)
{
	unsigned char key[32];
	enum helpmode_ask known;

	SHA256((const unsigned char *)line, strlen(line), key);
	if (call_asked(call, key, req, &known))
		return known;
	helpmode_call_reset(call);
	if (!req->worker || !req->wake) {
		snprintf(why, whylen, "no helper can be asked here");
		return HELPMODE_BROKEN;
	}
	struct helper_pool *p = pool_for(req->worker, hc, why, whylen);

	if (!p)
		return HELPMODE_BROKEN;
	call_arm(call, key, req);
	call->req = helper_submit(p, line, call_answered, call);
	if (!call->req) {
		call->asked = false;
		snprintf(why, whylen, "the request cannot be sent to the helper (too long)");
		return HELPMODE_BROKEN;
	}
	return HELPMODE_PENDING;
}

/* ---- handshakes (NTLM, Negotiate) ---- */

struct helpmode_session {
	struct helper_lease *lease;
	bool continuing;          /* the helper answered TT: the next leg is KK */
	struct helpmode_call leg; /* the leg asked (its req is on the lease) */
};

static void session_end(struct helpmode_session *s)
{
	if (s->lease)
		helper_release(s->lease); /* cancels a leg in flight */
	s->lease = NULL;
	s->leg.req = NULL;
	s->continuing = false;
	helpmode_call_reset(&s->leg);
}

void helpmode_session_free(struct helpmode_session *s)
{
	if (!s)
		return;
	session_end(s);
	free(s);
}

static enum auth_status broken(struct auth_result *res, const char *scheme, const char *why)
{
	snprintf(res->reason, sizeof(res->reason), "%.10s helper: %.180s", scheme, why);
	return res->status = AUTH_BROKEN;
}

/* What the answer to this leg means for the client. */
static enum auth_status leg_result(struct helpmode_session *s, const char *scheme, struct auth_result *res)
{
	enum auth_status st;

	/* Taken: the next leg is a new question. */
	s->leg.asked = s->leg.done = false;
	if (s->leg.failed) {
		st = broken(res, scheme, s->leg.why[0] ? s->leg.why : "the helper failed");
		session_end(s);
		return st;
	}
	switch (s->leg.code) {
	case HELPER_TT:
		s->continuing = true;
		buf_printf(&res->headers, "Proxy-Authenticate: %s %s\r\n", scheme, s->leg.token ? s->leg.token : "");
		snprintf(res->reason, sizeof(res->reason), "%s handshake continues", scheme);
		return res->status = AUTH_CHALLENGE;
	case HELPER_AF:
	case HELPER_OK:
		if (!s->leg.user[0]) {
			st = broken(res, scheme, "the helper accepted without naming the user");
			break;
		}
		snprintf(res->user, sizeof(res->user), "%s", s->leg.user);
		/* Negotiate's mutual-authentication token rides on the answer. */
		if (s->leg.token && s->leg.token[0] && strcmp(scheme, "Negotiate") == 0)
			buf_printf(&res->headers, "Proxy-Authenticate: %s %s\r\n", scheme, s->leg.token);
		st = res->status = AUTH_OK;
		break;
	case HELPER_NA:
	case HELPER_ERR:
		snprintf(res->reason, sizeof(res->reason), "%.10s refused by the helper%s%.160s", scheme,
		         s->leg.why[0] ? ": " : "", s->leg.why);
		st = res->status = AUTH_DENIED;
		break;
	case HELPER_LD:
		/* Squid 2's fail-open answer: never let an unproven user in. */
		snprintf(res->reason, sizeof(res->reason), "%s helper answered LD (fail open): refused", scheme);
		st = res->status = AUTH_DENIED;
		break;
	case HELPER_BH:
	default:
		st = broken(res, scheme, s->leg.why[0] ? s->leg.why : "BH");
		break;
	}
	session_end(s);
	return st;
}

enum auth_status helpmode_stateful_step(const struct helpmode_cfg *hc, struct helpmode_session **sp, const char *scheme,
                                        int leg, const struct auth_request *req, const char *cred, size_t len,
                                        struct auth_result *res)
{
	struct helpmode_session *s = *sp;
	unsigned char key[32];
	char why[200] = "";
	char *line;
	enum helpmode_ask known;

	if (!s)
		s = *sp = ph_calloc(1, sizeof(*s));
	SHA256((const unsigned char *)cred, len, key);
	if (call_asked(&s->leg, key, req, &known))
		return known == HELPMODE_ANSWER ? leg_result(s, scheme, res) : (res->status = AUTH_PENDING);
	if (len == 0 || memchr(cred, ' ', len) || memchr(cred, '\r', len) || memchr(cred, '\n', len)) {
		session_end(s);
		snprintf(res->reason, sizeof(res->reason), "malformed %s credentials", scheme);
		return res->status = AUTH_DENIED;
	}
	bool next = leg == 0 || (leg < 0 && s->continuing);

	if (next && !(s->continuing && s->lease && helper_lease_alive(s->lease))) {
		bool timed_out = s->lease != NULL;

		session_end(s);
		snprintf(res->reason, sizeof(res->reason), "%s",
		         timed_out ? "the handshake timed out on the proxy's side"
		                   : "a handshake's next leg without its first");
		return res->status = AUTH_DENIED;
	}
	if (!req->worker || !req->wake) {
		session_end(s);
		return broken(res, scheme, "no helper can be asked here");
	}
	if (!next) {
		struct helper_pool *p = pool_for(req->worker, hc, why, sizeof(why));

		session_end(s);
		if (!p)
			return broken(res, scheme, why);
		s->lease = helper_reserve(p, hc->reservation_ms);
		if (!s->lease)
			return broken(res, scheme, "every helper child is busy (raise children)");
	}
	line = ph_malloc(len + 4);
	memcpy(line, next ? "KK " : "YR ", 3);
	memcpy(line + 3, cred, len);
	line[len + 3] = '\0';
	s->continuing = false;
	call_arm(&s->leg, key, req);
	s->leg.req = helper_lease_submit(s->lease, line, call_answered, &s->leg);
	free(line);
	if (!s->leg.req) {
		session_end(s);
		return broken(res, scheme, "the handshake's helper went away");
	}
	return res->status = AUTH_PENDING;
}
