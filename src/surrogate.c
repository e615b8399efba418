/*
 * surrogate.c - the auth-surrogate directive and the table of addresses
 * that authenticated (surrogate.h).
 */
#include "surrogate.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lru.h"
#include "strbuf.h"

struct entry {
	struct lru_node node; /* recency = the order of successful authentications */
	int family;
	uint8_t addr[16];
	uint64_t ok_ms; /* the last successful authentication */
	char user[256];
};

struct key {
	int family; /* AF_INET or AF_INET6; an IPv4-mapped address counts as IPv4 */
	uint8_t addr[16];
};

static struct {
	pthread_mutex_t lock;
	struct lru table;
	bool ready;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool key_of(const struct sockaddr_storage *ss, struct key *k)
{
	memset(k, 0, sizeof(*k));
	if (ss->ss_family == AF_INET) {
		k->family = AF_INET;
		memcpy(k->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			k->family = AF_INET;
			memcpy(k->addr, a->s6_addr + 12, 4);
		} else {
			k->family = AF_INET6;
			memcpy(k->addr, a->s6_addr, 16);
		}
		return true;
	}
	return false;
}

static uint64_t key_hash(const struct key *k)
{
	return lru_hash(lru_hash(LRU_HASH_INIT, &k->family, sizeof(k->family)), k->addr, sizeof(k->addr));
}

static bool key_eq(const struct lru_node *n, const void *key)
{
	const struct entry *e = (const struct entry *)n;
	const struct key *k = key;

	return e->family == k->family && memcmp(e->addr, k->addr, sizeof(k->addr)) == 0;
}

static void entry_free(struct lru_node *n)
{
	free(n);
}

/* With the lock held: the table, made on first use. */
static bool table(void)
{
	if (!S.ready && lru_init(&S.table, SURROGATE_MAX) == 0)
		S.ready = true;
	return S.ready;
}

void surrogate_remember(const struct surrogate_settings *s, const struct sockaddr_storage *client, const char *user,
                        uint64_t now_ms)
{
	struct key k;
	struct entry *e, *old = NULL;

	if (!s->duration_ms || !user || !user[0] || !key_of(client, &k))
		return;
	uint64_t h = key_hash(&k);

	pthread_mutex_lock(&S.lock);
	if (!table()) {
		pthread_mutex_unlock(&S.lock);
		return;
	}
	e = (struct entry *)lru_find(&S.table, h, key_eq, &k);
	if (e) {
		lru_touch(&S.table, &e->node);
	} else {
		if (lru_full(&S.table)) {
			old = (struct entry *)lru_oldest(&S.table);
			lru_remove(&S.table, &old->node);
		}
		e = old ? old : ph_malloc(sizeof(*e));
		memset(e, 0, sizeof(*e));
		e->family = k.family;
		memcpy(e->addr, k.addr, sizeof(k.addr));
		lru_insert(&S.table, &e->node, h);
	}
	e->ok_ms = now_ms;
	snprintf(e->user, sizeof(e->user), "%s", user);
	pthread_mutex_unlock(&S.lock);
}

void surrogate_forget(const struct surrogate_settings *s, const struct sockaddr_storage *client)
{
	struct key k;
	struct entry *e = NULL;

	if (!s->duration_ms || !key_of(client, &k))
		return;
	pthread_mutex_lock(&S.lock);
	if (S.ready && (e = (struct entry *)lru_find(&S.table, key_hash(&k), key_eq, &k)))
		lru_remove(&S.table, &e->node);
	pthread_mutex_unlock(&S.lock);
	free(e);
}

bool surrogate_user(const struct surrogate_settings *s, const struct acl_subject *subj, uint64_t now_ms, char *user,
                    size_t cap)
{
	struct key k;
	struct entry *e, *expired = NULL;
	bool ok = false;

	if (!s->duration_ms || !subj->src || !key_of(subj->src, &k) || !acl_matchset_match(&s->rule.set, subj))
		return false;
	pthread_mutex_lock(&S.lock);
	if (S.ready && (e = (struct entry *)lru_find(&S.table, key_hash(&k), key_eq, &k))) {
		if (now_ms - e->ok_ms < s->duration_ms) {
			snprintf(user, cap, "%s", e->user);
			ok = true;
		} else if (now_ms >= e->ok_ms) {
			lru_remove(&S.table, &e->node);
			expired = e;
		}
	}
	pthread_mutex_unlock(&S.lock);
	free(expired);
	return ok;
}

size_t surrogate_count(void)
{
	size_t n;

	pthread_mutex_lock(&S.lock);
	n = S.ready ? S.table.n : 0;
	pthread_mutex_unlock(&S.lock);
	return n;
}

void surrogate_clear(void)
{
	pthread_mutex_lock(&S.lock);
	if (S.ready)
		lru_free(&S.table, entry_free);
	S.ready = false;
	pthread_mutex_unlock(&S.lock);
}

/* ---- the directive ---- */

static void d_auth_surrogate(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct surrogate_settings *s = settings;
	char *dflt[] = { "webrtc" };
	char **argv = ln->argc > 2 ? ln->argv + 2 : dflt;
	int argc = ln->argc > 2 ? ln->argc - 2 : 1;
	uint64_t ms;

	if (cfg_parse_duration(ln->argv[1], &ms) != PH_OK || ms == 0) {
		cfg_err(ctx, ln,
		        "bad duration '%s' for auth-surrogate: write how long an address stays authenticated "
		        "after its last login, e.g. 8h",
		        ln->argv[1]);
		return;
	}
	/* A duplicate line (reported by the parser) replaces the first. */
	acl_matchset_free(&s->rule.set);
	free(s->rule.text);
	s->rule.text = NULL;
	if (acl_matchset_parse(&s->rule.set, argv, argc, ln->file, ln->line, ctx->errs) != PH_OK)
		return;
	s->duration_ms = ms;
	s->rule.action = RULE_ALLOW;
	s->rule.file = ln->file;
	s->rule.line = ln->line;
	if (ln->argc > 2) {
		s->rule.text = ph_strdup(ln->text);
	} else {
		/* /config shows the matchers in force. */
		size_t n = strlen(ln->text) + sizeof(" webrtc");

		s->rule.text = ph_malloc(n);
		snprintf(s->rule.text, n, "%s webrtc", ln->text);
	}
}

static void *surrogate_create(void)
{
	return ph_calloc(1, sizeof(struct surrogate_settings));
}

static void surrogate_dump(const void *settings, struct strbuf *out)
{
	const struct surrogate_settings *s = settings;

	if (s->duration_ms)
		strbuf_printf(out, "%s  # %s:%d\n", s->rule.text, s->rule.file, s->rule.line);
}

static void surrogate_destroy(void *settings)
{
	struct surrogate_settings *s = settings;

	acl_matchset_free(&s->rule.set);
	free(s->rule.text);
	free(s);
}

static const struct cfg_directive surrogate_directives[] = {
	{ "auth-surrogate", 1, -1, true, "auth-surrogate DURATION [MATCHERS]", d_auth_surrogate },
};

const struct cfg_section surrogate_section = {
	.name = "surrogate",
	.directives = surrogate_directives,
	.ndirectives = PH_ARRAY_LEN(surrogate_directives),
	.create = surrogate_create,
	.dump = surrogate_dump,
	.destroy = surrogate_destroy,
};
