/*
 * webrtc.c - the report engine: per-worker event rings, the drain thread,
 * the bounded client table with its findings, and the JSON and HTML views.
 * What an event means is decided by the rules (webrtc_rules.c); this file
 * only keeps what they conclude, per client, within fixed bounds.
 */
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "config.h"
#include "escape.h"
#include "lru.h"
#include "selfcheck.h"
#include "webrtc.h"
#include "strbuf.h"
#include "webrtc_rules.h"
#include "wr_advice.h"

#define RING_SLOTS 4096 /* a power of two: indices wrap by masking */
#define DEFAULT_MAX_CLIENTS 4096
#define DRAIN_INTERVAL_MS 100
/* Bounds of the state behind turn-auth-not-retried. */
#define PENDING_MAX 256
#define RECENT_MAX 1024
#define STUN_TARGETS_MAX 256
/* User-Agents kept per client: a user on two browsers is judged on each. */
#define CLIENT_UAS 4
/* Findings the summary names. */
#define SUMMARY_TOP 5

/* Single producer (the worker), single consumer (whoever holds the table
 * lock).  head and tail sit on their own cache lines so the two sides do
 * not fight over one. */
struct wr_ring {
	_Alignas(64) _Atomic uint32_t head;
	_Alignas(64) _Atomic uint32_t tail;
	_Alignas(64) _Atomic uint64_t dropped;
	struct wr_event slots[RING_SLOTS];
};

/* The per-rule aggregate of one client. */
struct finding {
	uint64_t count;
	uint64_t first_ms, last_ms;
	enum wr_severity severity; /* the worst seen */
	unsigned vendors;
	const char *source;
	char evidence[sizeof(((struct wr_hit *)0)->evidence)];
	char advice[sizeof(((struct wr_hit *)0)->advice)];
	enum wr_advice_kind advice_kind;
	struct wr_event ev; /* the event of the newest evidence, judged again after a reload */
};

struct client_ua {
	char ua[sizeof(((struct wr_event *)0)->user_agent)];
	struct ua_info info;
	uint64_t last_ms;
};

struct client_key {
	int family; /* AF_INET or AF_INET6 (IPv4-mapped addresses count as IPv4) */
	uint8_t addr[16];
	char user[sizeof(((struct wr_event *)0)->user)];
};

struct client {
	struct lru_node node; /* in W.clients: hashed by key, most recently seen first */
	struct client_key key;
	struct client_ua uas[CLIENT_UAS]; /* the most recent first */
	size_t nuas;
	uint64_t first_ms, last_ms;
	uint64_t requests;
	struct finding *f[WR_RULE_COUNT]; /* NULL until the rule fires */
};

/* A 407 a deferred rule hit, waiting to see a retry. */
struct pending {
	bool used;
	bool retried;
	size_t rule;
	struct client_key key;
	char host[sizeof(((struct wr_event *)0)->host)];
	uint16_t port;
	uint64_t t407;
	struct wr_hit hit;
	struct wr_event ev;
};

/* A request that got through authentication, for retries drained before
 * the 407 they answer (events of one client may sit in different rings). */
struct recent {
	int family;
	uint8_t addr[16];
	uint64_t host_hash;
	uint16_t port;
	uint64_t ms;
};

struct stun_target {
	char host[sizeof(((struct wr_event *)0)->host)];
	uint16_t port;
	uint64_t seen_ms;
};

static struct {
	pthread_mutex_t lock; /* the table and everything below it; never taken by workers */
	pthread_cond_t wake;
	bool started, thread_running, stopping;
	pthread_t thread;
	struct wr_ring **rings;
	int nrings;
	struct config *cfg; /* what the drain thread judges by */

	struct lru clients; /* buckets == NULL: not started */
	uint64_t evicted;

	struct pending pending[PENDING_MAX];
	struct recent recent[RECENT_MAX];
	size_t recent_next;
	struct stun_target stun[STUN_TARGETS_MAX];
	/* The configuration the findings were last judged by, and its
	 * generation. */
	struct config *judged_cfg;
	uint64_t judged_generation;
} W = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

/* ---- rings ---- */

static struct wr_ring *ring_new(void)
{
	struct wr_ring *r = aligned_alloc(64, sizeof(struct wr_ring));

	if (!r)
		return NULL;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	atomic_init(&r->dropped, 0);
	return r;
}

struct wr_ring *webrtc_ring(int worker)
{
	if (!W.started || worker < 0 || worker >= W.nrings)
		return NULL;
	return W.rings[worker];
}

void webrtc_publish(struct wr_ring *r, const struct wr_event *ev)
{
	uint32_t head, tail;

	if (!r || !ev)
		return;
	head = atomic_load_explicit(&r->head, memory_order_relaxed);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	if (head - tail >= RING_SLOTS) {
		atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
		return;
	}
	r->slots[head & (RING_SLOTS - 1)] = *ev;
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

static uint64_t dropped_total(void)
{
	uint64_t n = 0;

	for (int i = 0; i < W.nrings; i++)
		n += atomic_load_explicit(&W.rings[i]->dropped, memory_order_relaxed);
	return n;
}

/* ---- the client table ---- */

static void key_from_addr(const struct sockaddr_storage *ss, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	*family = 0;
	if (ss->ss_family == AF_INET) {
		*family = AF_INET;
		memcpy(addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			*family = AF_INET;
			memcpy(addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			*family = AF_INET6;
			memcpy(addr, &s6->sin6_addr, 16);
		}
	}
}

static void key_from_event(const struct wr_event *ev, struct client_key *k)
{
	memset(k, 0, sizeof(*k));
	key_from_addr(&ev->client, &k->family, k->addr);
	snprintf(k->user, sizeof(k->user), "%.*s", (int)sizeof(k->user) - 1, ev->user);
}

static uint64_t key_hash(const struct client_key *k)
{
	uint64_t h = lru_hash(LRU_HASH_INIT, &k->family, sizeof(k->family));

	h = lru_hash(h, k->addr, sizeof(k->addr));
	return lru_hash(h, k->user, strlen(k->user));
}

static struct client *client_of(const struct lru_node *n)
{
	return n ? (struct client *)((char *)n - offsetof(struct client, node)) : NULL;
}

/* The clients, most recently seen first: for (c = first_client(); c; c = next_client(c)). */
static struct client *first_client(void)
{
	struct list *l = list_first(&W.clients.recency);

	return l ? client_of((struct lru_node *)((char *)l - offsetof(struct lru_node, recency))) : NULL;
}

static struct client *next_client(const struct client *c)
{
	struct list *l = c->node.recency.next;

	return l == &W.clients.recency ? NULL
	                               : client_of((struct lru_node *)((char *)l - offsetof(struct lru_node, recency)));
}

static bool key_eq(const struct client_key *a, const struct client_key *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0 && strcmp(a->user, b->user) == 0;
}

static bool node_key_eq(const struct lru_node *n, const void *key)
{
	return key_eq(&client_of(n)->key, key);
}

static void client_clear_findings(struct client *c)
{
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		free(c->f[i]);
		c->f[i] = NULL;
	}
}

static struct client *client_find(const struct client_key *k, uint64_t h)
{
	if (!W.clients.buckets)
		return NULL;
	return client_of(lru_find(&W.clients, h, node_key_eq, k));
}

/* The client for k, made (evicting the least recently seen one when the
 * table is full) if new. */
static struct client *client_get(const struct client_key *k, uint64_t when)
{
	uint64_t h = key_hash(k);
	struct client *c = client_find(k, h);

	if (c) {
		lru_touch(&W.clients, &c->node);
		return c;
	}
	if (lru_full(&W.clients)) {
		c = client_of(lru_oldest(&W.clients));
		lru_remove(&W.clients, &c->node);
		client_clear_findings(c);
		memset(c, 0, sizeof(*c));
		W.evicted++;
	} else {
		c = ph_calloc(1, sizeof(*c));
	}
	c->key = *k;
	c->first_ms = c->last_ms = when;
	lru_insert(&W.clients, &c->node, h);
	return c;
}

static void record(struct client *c, size_t rule, const struct wr_hit *hit, const struct wr_event *ev)
{
	uint64_t when = ev->wall_ms;
	struct finding *f = c->f[rule];

	if (!f) {
		f = c->f[rule] = ph_calloc(1, sizeof(*f));
		f->first_ms = when;
		f->last_ms = when;
	}
	f->count++;
	if (when < f->first_ms)
		f->first_ms = when;
	if (hit->severity > f->severity)
		f->severity = hit->severity;
	f->vendors |= hit->vendors;
	/* Events from several rings arrive out of order: keep the newest
	 * evidence, not the last drained. */
	if (when >= f->last_ms || f->count == 1) {
		f->last_ms = when;
		f->source = hit->source ? hit->source : wr_rules[rule].source;
		snprintf(f->evidence, sizeof(f->evidence), "%s", hit->evidence);
		snprintf(f->advice, sizeof(f->advice), "%s", hit->advice);
		f->advice_kind = hit->advice_kind;
		f->ev = *ev;
	}
}

static enum wr_severity client_verdict(const struct client *c)
{
	enum wr_severity v = WR_SEV_OK;

	for (size_t i = 0; i < WR_RULE_COUNT; i++)
		if (c->f[i] && c->f[i]->severity > v)
			v = c->f[i]->severity;
	return v;
}

/* ---- deferred rules: STUN targets, recent requests, pending 407s ---- */

static bool stun_seen(void *arg, const char *host, uint16_t port)
{
	PH_UNUSED(arg);
	for (size_t i = 0; i < STUN_TARGETS_MAX; i++)
		if (W.stun[i].seen_ms && W.stun[i].port == port && strcmp(W.stun[i].host, host) == 0)
			return true;
	return false;
}

static void stun_add(const char *host, uint16_t port, uint64_t when)
{
	size_t oldest = 0;

	if (!host[0])
		return;
	for (size_t i = 0; i < STUN_TARGETS_MAX; i++) {
		if (W.stun[i].seen_ms && W.stun[i].port == port && strcmp(W.stun[i].host, host) == 0) {
			W.stun[i].seen_ms = when ? when : 1;
			return;
		}
		if (W.stun[i].seen_ms < W.stun[oldest].seen_ms)
			oldest = i;
	}
	snprintf(W.stun[oldest].host, sizeof(W.stun[oldest].host), "%s", host);
	W.stun[oldest].port = port;
	W.stun[oldest].seen_ms = when ? when : 1;
}

/* Evidence that the client repeated a request to host:port after the
 * proxy challenged it: it authenticated, its tunnel opened, or the request
 * got another answer than 407. */
static bool is_retry(const struct wr_event *ev)
{
	if (!ev->host[0])
		return false;
	switch (ev->kind) {
	case WR_AUTH_OK:
	case WR_TUNNEL_PROTO:
	case WR_INSPECTED:
	case WR_STRICT_TLS_CLOSED:
		return true;
	case WR_REQUEST:
		return ev->status != 407;
	default:
		return false;
	}
}

static bool in_window(uint64_t t407, uint64_t ms)
{
	return ms >= t407 && ms <= t407 + WR_TURN_RETRY_WINDOW_MS;
}

static void note_retry(const struct wr_event *ev, const struct client_key *k)
{
	uint64_t hh = lru_hash(LRU_HASH_INIT, ev->host, strlen(ev->host));
	struct recent *r = &W.recent[W.recent_next++ % RECENT_MAX];

	/* Matched by address, not user: the 407 came before the client
	 * authenticated, the retry after. */
	for (size_t i = 0; i < PENDING_MAX; i++) {
		struct pending *p = &W.pending[i];

		if (p->used && p->key.family == k->family && memcmp(p->key.addr, k->addr, 16) == 0 &&
		    p->port == ev->port && strcmp(p->host, ev->host) == 0 && in_window(p->t407, ev->wall_ms))
			p->retried = true;
	}
	r->family = k->family;
	memcpy(r->addr, k->addr, 16);
	r->host_hash = hh;
	r->port = ev->port;
	r->ms = ev->wall_ms;
}

static bool retried_already(const struct wr_event *ev, const struct client_key *k)
{
	uint64_t hh = lru_hash(LRU_HASH_INIT, ev->host, strlen(ev->host));

	for (size_t i = 0; i < RECENT_MAX; i++) {
		const struct recent *r = &W.recent[i];

		if (r->ms && r->family == k->family && memcmp(r->addr, k->addr, 16) == 0 && r->host_hash == hh &&
		    r->port == ev->port && in_window(ev->wall_ms, r->ms))
			return true;
	}
	return false;
}

static void pending_conclude(struct pending *p)
{
	if (!p->retried) {
		struct client *c = client_find(&p->key, key_hash(&p->key));

		/* An evicted client has no row left to report on. */
		if (c)
			record(c, p->rule, &p->hit, &p->ev);
	}
	p->used = false;
}

static void pending_add(const struct wr_event *ev, const struct client_key *k, size_t rule, const struct wr_hit *hit)
{
	struct pending *slot = NULL;

	for (size_t i = 0; i < PENDING_MAX && !slot; i++)
		if (!W.pending[i].used)
			slot = &W.pending[i];
	if (!slot) {
		/* Full: the oldest decides now rather than never. */
		slot = &W.pending[0];
		for (size_t i = 1; i < PENDING_MAX; i++)
			if (W.pending[i].t407 < slot->t407)
				slot = &W.pending[i];
		pending_conclude(slot);
	}
	memset(slot, 0, sizeof(*slot));
	slot->used = true;
	slot->key = *k;
	snprintf(slot->host, sizeof(slot->host), "%s", ev->host);
	slot->port = ev->port;
	slot->t407 = ev->wall_ms;
	slot->rule = rule;
	slot->hit = *hit;
	slot->ev = *ev;
}

static void pending_expire(uint64_t now_ms)
{
	for (size_t i = 0; i < PENDING_MAX; i++)
		if (W.pending[i].used && now_ms >= W.pending[i].t407 + WR_TURN_RETRY_WINDOW_MS)
			pending_conclude(&W.pending[i]);
}

/* ---- ingestion ---- */

/* Keeps ua among the client's User-Agents, the most recently seen first
 * (events from several rings arrive out of order); the oldest goes when
 * they are CLIENT_UAS.  Returns its parse. */
static const struct ua_info *note_ua(struct client *c, const char *ua, uint64_t when)
{
	struct client_ua keep;
	size_t i, j, n;

	for (i = 0; i < c->nuas && strcmp(c->uas[i].ua, ua) != 0; i++)
		;
	if (i < c->nuas) {
		keep = c->uas[i];
	} else {
		snprintf(keep.ua, sizeof(keep.ua), "%s", ua);
		ua_parse(keep.ua, &keep.info);
		keep.last_ms = 0;
		if (c->nuas < CLIENT_UAS)
			c->nuas++;
		i = c->nuas - 1;
	}
	if (when > keep.last_ms)
		keep.last_ms = when;
	n = c->nuas - 1;
	memmove(&c->uas[i], &c->uas[i + 1], (n - i) * sizeof(c->uas[0]));
	for (j = 0; j < n && c->uas[j].last_ms > keep.last_ms; j++)
		;
	memmove(&c->uas[j + 1], &c->uas[j], (n - j) * sizeof(c->uas[0]));
	c->uas[j] = keep;
	return &c->uas[j].info;
}

static void judge(const struct config *cfg, struct client *c, const struct client_key *k, const struct wr_event *ev,
                  const struct ua_info *ua)
{
	struct wr_ctx ctx = { .cfg = cfg, .ua = ua, .stun_seen = stun_seen, .stun_arg = NULL };
	bool deferred_taken = false;
	bool on_407 = ev->kind == WR_REQUEST && ev->status == 407;

	/* A 407 away from WebRTC destinations (a browser's background
	 * traffic: update and account checks) says nothing of calls. */
	if (on_407 && !(ev->flags & WR_FLAG_WEBRTC) && !wr_dest_is_webrtc(&ctx, ev->host, ev->port))
		return;
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		struct wr_hit hit;
		bool exclusive = false;

		for (size_t j = 0; j < PH_ARRAY_LEN(wr_deferred_order); j++)
			exclusive |= wr_deferred_order[j] == i;
		if (exclusive)
			continue;
		if (!wr_rules[i].fn(&ctx, ev, &hit))
			continue;
		wr_advice_complete(cfg, ev, &hit);
		if (wr_rules[i].deferred && on_407) {
			if (!retried_already(ev, k))
				pending_add(ev, k, i, &hit);
		} else {
			record(c, i, &hit, ev);
		}
	}
	/* Of the rules that explain an unanswered 407, the most specific. */
	for (size_t j = 0; j < PH_ARRAY_LEN(wr_deferred_order) && !deferred_taken; j++) {
		size_t i = wr_deferred_order[j];
		struct wr_hit hit;

		if (!wr_rules[i].fn(&ctx, ev, &hit))
			continue;
		deferred_taken = true;
		wr_advice_complete(cfg, ev, &hit);
		if (!on_407)
			record(c, i, &hit, ev);
		else if (!retried_already(ev, k))
			pending_add(ev, k, i, &hit);
	}
}

static void ingest_locked(const struct config *cfg, const struct wr_event *in, uint64_t now_ms)
{
	struct wr_event ev = *in;
	struct client_key k;
	struct client *c;
	const struct ua_info *ua;
	static const struct ua_info none = { .display = "" };

	if (!W.clients.buckets)
		return;
	/* The ring copied whatever the worker wrote: make every string end. */
	ev.user[sizeof(ev.user) - 1] = '\0';
	ev.user_agent[sizeof(ev.user_agent) - 1] = '\0';
	ev.method[sizeof(ev.method) - 1] = '\0';
	ev.host[sizeof(ev.host) - 1] = '\0';
	ev.scheme[sizeof(ev.scheme) - 1] = '\0';
	ev.offered[sizeof(ev.offered) - 1] = '\0';
	ev.rule[sizeof(ev.rule) - 1] = '\0';
	ev.detail[sizeof(ev.detail) - 1] = '\0';
	ev.sni[sizeof(ev.sni) - 1] = '\0';
	if (!ev.wall_ms)
		ev.wall_ms = now_ms;

	key_from_event(&ev, &k);
	c = client_get(&k, ev.wall_ms);
	if (ev.wall_ms < c->first_ms)
		c->first_ms = ev.wall_ms;
	if (ev.wall_ms > c->last_ms)
		c->last_ms = ev.wall_ms;
	/* Rules judge the browser that sent the event; an event without a
	 * User-Agent (Chromium's TURN CONNECT has none [MEASURED]) the
	 * client's latest. */
	if (ev.user_agent[0])
		ua = note_ua(c, ev.user_agent, ev.wall_ms);
	else
		ua = c->nuas ? &c->uas[0].info : &none;
	if (ev.kind == WR_REQUEST)
		c->requests++;
	if (ev.kind == WR_TUNNEL_PROTO && ph_strcaseeq(ev.detail, "stun"))
		stun_add(ev.host, ev.port, ev.wall_ms);
	if (is_retry(&ev))
		note_retry(&ev, &k);
	judge(cfg, c, &k, &ev, ua);
	pending_expire(now_ms);
}

/* Whether the request of f's event ends under cfg as it did, and rule
 * says so of client c (NULL: gone). */
static bool reproduces(const struct config *cfg, const struct client *c, size_t rule, const struct finding *f)
{
	const struct wr_event *ev = &f->ev;
	struct wr_sim_request rq;
	struct wr_sim_outcome out;
	struct wr_event evs[5];
	size_t n;

	if (f->advice_kind != WR_ADVICE_CONFIG || !ev->host[0] || !cfg->acl || !cfg->quirks || !cfg->tls)
		return true;
	wr_sim_request_from_event(cfg, ev, &rq);
	wr_simulate(cfg, NULL, &rq, &out);
	switch (ev->kind) {
	case WR_REQUEST:
		if (ev->status != 407 && ev->status != 403)
			return true;
		if (out.status != ev->status)
			return false;
		/* The same answer may no longer be the rule's evidence (a
		 * 407 offering another scheme). */
		n = wr_sim_events(cfg, &rq, &out, ev, evs);
		for (size_t i = 0; i < n; i++) {
			struct ua_info ua;
			struct wr_ctx ctx = { .cfg = cfg, .ua = &ua, .stun_seen = stun_seen };
			struct wr_hit hit;

			if (evs[i].kind != WR_REQUEST)
				continue;
			if (ev->user_agent[0] || !c || !c->nuas)
				ua_parse(ev->user_agent, &ua);
			else
				ua = c->uas[0].info;
			return wr_rules[rule].fn(&ctx, &evs[i], &hit);
		}
		return true;
	case WR_INSPECTED:
	case WR_PINNING_FAILURE:
		return out.status == 200 && out.inspected;
	case WR_STRICT_TLS_CLOSED:
		return out.status == 200 && out.strict_tls_closed;
	case WR_UPGRADE_REFUSED:
		return out.upgrade_refused;
	default:
		return true;
	}
}

/* A finding goes when the model reproduces its event under the
 * configuration it was judged by (old; NULL before the first reload: then
 * nothing goes) but not under the new one.  What the model cannot
 * reproduce (a name denied by the address it resolves to, which it does
 * not resolve) stays. */
static bool still_happens(const struct config *cfg, const struct config *old, const struct client *c, size_t rule,
                          const struct finding *f)
{
	if (!old || !reproduces(old, c, rule, f))
		return true;
	return reproduces(cfg, c, rule, f);
}

/* After a reload: the findings the new configuration fixed go, and so do
 * the pending 407s it would not answer any more. */
static void rejudge_locked(const struct config *cfg)
{
	struct config *old = W.judged_cfg;

	if (!cfg || !cfg->generation || cfg->generation <= W.judged_generation)
		return;
	W.judged_generation = cfg->generation;
	/* A reference changes only the count, which is atomic. */
	W.judged_cfg = config_ref((struct config *)cfg);
	for (struct client *c = first_client(); c; c = next_client(c))
		for (size_t i = 0; i < WR_RULE_COUNT; i++)
			if (c->f[i] && !still_happens(cfg, old, c, i, c->f[i])) {
				free(c->f[i]);
				c->f[i] = NULL;
			}
	for (size_t i = 0; i < PENDING_MAX; i++) {
		struct finding f = { .advice_kind = W.pending[i].hit.advice_kind, .ev = W.pending[i].ev };

		if (W.pending[i].used &&
		    !still_happens(cfg, old, client_find(&W.pending[i].key, key_hash(&W.pending[i].key)),
		                   W.pending[i].rule, &f))
			W.pending[i].used = false;
	}
	if (old)
		config_unref(old);
}

static void drain_locked(const struct config *cfg, uint64_t now_ms)
{
	rejudge_locked(cfg);
	for (int i = 0; i < W.nrings; i++) {
		struct wr_ring *r = W.rings[i];
		uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
		uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);

		/* Up to the head seen now: a busy worker cannot keep the
		 * consumer here forever. */
		for (; tail != head; tail++) {
			ingest_locked(cfg, &r->slots[tail & (RING_SLOTS - 1)], now_ms);
			atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
		}
	}
	pending_expire(now_ms);
}

void webrtc_drain(const struct config *cfg, uint64_t now_ms)
{
	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, now_ms);
	pthread_mutex_unlock(&W.lock);
}

void webrtc_ingest(const struct config *cfg, const struct wr_event *ev, uint64_t now_ms)
{
	pthread_mutex_lock(&W.lock);
	ingest_locked(cfg, ev, now_ms);
	pthread_mutex_unlock(&W.lock);
}

static void *drain_main(void *arg)
{
	PH_UNUSED(arg);
	pthread_mutex_lock(&W.lock);
	while (!W.stopping) {
		struct timespec ts;

		drain_locked(W.cfg, ph_wall_ms());
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += DRAIN_INTERVAL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&W.wake, &W.lock, &ts);
	}
	pthread_mutex_unlock(&W.lock);
	return NULL;
}

void webrtc_set_config(struct config *cfg)
{
	struct config *old;

	if (cfg)
		config_ref(cfg);
	pthread_mutex_lock(&W.lock);
	old = W.cfg;
	W.cfg = cfg;
	pthread_mutex_unlock(&W.lock);
	if (old)
		config_unref(old);
}

/* ---- start and stop ---- */

static void client_free(struct lru_node *n)
{
	struct client *c = client_of(n);

	client_clear_findings(c);
	free(c);
}

static void free_all(void)
{
	if (W.clients.buckets)
		lru_free(&W.clients, client_free);
	memset(&W.clients, 0, sizeof(W.clients));
	for (int i = 0; i < W.nrings; i++)
		free(W.rings[i]);
	free(W.rings);
	W.rings = NULL;
	W.nrings = 0;
	W.evicted = 0;
	memset(W.pending, 0, sizeof(W.pending));
	memset(W.recent, 0, sizeof(W.recent));
	W.recent_next = 0;
	memset(W.stun, 0, sizeof(W.stun));
	W.judged_generation = 0;
	if (W.judged_cfg)
		config_unref(W.judged_cfg);
	W.judged_cfg = NULL;
}

static int start(int nworkers, size_t max_clients, bool thread)
{
	int rc = 0;

	if (nworkers < 1)
		return -1;
	pthread_mutex_lock(&W.lock);
	if (W.started) {
		pthread_mutex_unlock(&W.lock);
		return -1;
	}
	if (lru_init(&W.clients, max_clients ? max_clients : DEFAULT_MAX_CLIENTS) < 0) {
		pthread_mutex_unlock(&W.lock);
		return -1;
	}
	W.rings = ph_calloc((size_t)nworkers, sizeof(*W.rings));
	for (W.nrings = 0; W.nrings < nworkers; W.nrings++) {
		W.rings[W.nrings] = ring_new();
		if (!W.rings[W.nrings]) {
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		W.started = true;
		W.stopping = false;
	}
	if (rc == 0 && thread) {
		if (pthread_create(&W.thread, NULL, drain_main, NULL) != 0)
			rc = -1;
		else
			W.thread_running = true;
	}
	if (rc != 0) {
		W.started = false;
		free_all();
	}
	pthread_mutex_unlock(&W.lock);
	return rc;
}

int webrtc_start(int nworkers, size_t max_clients)
{
	return start(nworkers, max_clients, true);
}

int webrtc_start_manual(int nworkers, size_t max_clients)
{
	return start(nworkers, max_clients, false);
}

void webrtc_stop(void)
{
	struct config *old;

	pthread_mutex_lock(&W.lock);
	W.stopping = true;
	pthread_cond_broadcast(&W.wake);
	pthread_mutex_unlock(&W.lock);
	if (W.thread_running) {
		pthread_join(W.thread, NULL);
		W.thread_running = false;
	}
	pthread_mutex_lock(&W.lock);
	W.started = false;
	free_all();
	old = W.cfg;
	W.cfg = NULL;
	pthread_mutex_unlock(&W.lock);
	if (old)
		config_unref(old);
}

/* ---- output ---- */

/* User-Agents and user names come from clients: whatever their bytes, the
 * answer is valid JSON in valid UTF-8 (escape.h).  A missing text is "". */
static void json_str(struct strbuf *b, const char *s)
{
	esc_json_str(b, s ? s : "");
}

/* How /report orders its clients (?sort=). */
enum sort_key {
	SORT_VERDICT, /* worst first, then the most recently seen */
	SORT_CLIENT,  /* by address */
	SORT_USER,
	SORT_BROWSER,
	SORT_REQUESTS,  /* most first */
	SORT_LAST_SEEN, /* most recent first */
	SORT_NKEYS
};

static const char *const sort_names[SORT_NKEYS] = { "verdict", "client", "user", "browser", "requests", "last-seen" };

static enum sort_key sort_parse(const char *name)
{
	for (int i = 0; name && i < SORT_NKEYS; i++)
		if (strcmp(name, sort_names[i]) == 0)
			return (enum sort_key)i;
	return SORT_VERDICT;
}

struct row {
	struct client *c;
	enum wr_severity verdict;
	enum sort_key key;
	char addr[64];
};

static const char *client_browser(const struct client *c)
{
	return c->nuas ? c->uas[0].info.display : "";
}

static int by_verdict(const struct row *x, const struct row *y)
{
	if (x->verdict != y->verdict)
		return x->verdict > y->verdict ? -1 : 1;
	if (x->c->last_ms != y->c->last_ms)
		return x->c->last_ms > y->c->last_ms ? -1 : 1;
	return 0;
}

static int by_address(const struct row *x, const struct row *y)
{
	int d;

	if (x->c->key.family != y->c->key.family)
		return x->c->key.family == AF_INET ? -1 : 1;
	d = memcmp(x->c->key.addr, y->c->key.addr, 16);
	return d ? d : strcmp(x->c->key.user, y->c->key.user);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int d = 0;

	switch (x->key) {
	case SORT_CLIENT:
		d = by_address(x, y);
		break;
	case SORT_USER:
		/* Clients with a user first. */
		if (!x->c->key.user[0] != !y->c->key.user[0])
			d = x->c->key.user[0] ? -1 : 1;
		else
			d = strcmp(x->c->key.user, y->c->key.user);
		break;
	case SORT_BROWSER:
		if (!x->c->nuas != !y->c->nuas)
			d = x->c->nuas ? -1 : 1;
		else
			d = strcmp(client_browser(x->c), client_browser(y->c));
		break;
	case SORT_REQUESTS:
		if (x->c->requests != y->c->requests)
			d = x->c->requests > y->c->requests ? -1 : 1;
		break;
	case SORT_LAST_SEEN:
		if (x->c->last_ms != y->c->last_ms)
			d = x->c->last_ms > y->c->last_ms ? -1 : 1;
		break;
	case SORT_VERDICT:
	case SORT_NKEYS:
		break;
	}
	if (!d)
		d = by_verdict(x, y);
	return d ? d : by_address(x, y);
}

/* The clients in the order asked for. */
static struct row *sorted_rows(enum sort_key key, size_t *n)
{
	struct row *rows = ph_calloc(W.clients.n ? W.clients.n : 1, sizeof(*rows));
	size_t i = 0;

	for (struct client *c = first_client(); c && i < W.clients.n; c = next_client(c), i++) {
		struct sockaddr_storage ss;

		memset(&ss, 0, sizeof(ss));
		ss.ss_family = (sa_family_t)c->key.family;
		if (c->key.family == AF_INET)
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, c->key.addr, 4);
		else if (c->key.family == AF_INET6)
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, c->key.addr, 16);
		ph_addr_str(&ss, rows[i].addr, sizeof(rows[i].addr));
		rows[i].c = c;
		rows[i].verdict = client_verdict(c);
		rows[i].key = key;
	}
	qsort(rows, i, sizeof(*rows), row_cmp);
	*n = i;
	return rows;
}

/* Findings in report order: worst first, then by rule. */
static size_t sorted_findings(const struct client *c, size_t order[WR_RULE_COUNT])
{
	size_t n = 0;

	for (int sev = WR_SEV_BREAKS; sev > WR_SEV_OK; sev--)
		for (size_t i = 0; i < WR_RULE_COUNT; i++)
			if (c->f[i] && (int)c->f[i]->severity == sev)
				order[n++] = i;
	return n;
}

/* ---- the summary: counts by verdict, the most frequent findings ---- */

#define SUMMARY_KINDS 64

struct top {
	size_t rule;
	const char *advice; /* a finding's, valid while the table lock is held */
	enum wr_advice_kind advice_kind;
	enum wr_severity severity;
	uint64_t clients, count;
};

struct summary {
	uint64_t verdicts[3]; /* by enum wr_severity */
	struct top top[SUMMARY_KINDS];
	size_t ntop;
	char where[200]; /* where allow and noauth lines go, "" = anywhere */
};

static int top_cmp(const void *a, const void *b)
{
	const struct top *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if (x->clients != y->clients)
		return x->clients > y->clients ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Findings are the same when their rule and advice are: one fix for all
 * the clients it names. */
static void summarise(const struct config *cfg, const struct row *rows, size_t nrows, struct summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t r = 0; r < nrows; r++) {
		const struct client *c = rows[r].c;

		sum->verdicts[rows[r].verdict]++;
		for (size_t i = 0; i < WR_RULE_COUNT; i++) {
			const struct finding *f = c->f[i];
			struct top *t = NULL;

			if (!f)
				continue;
			for (size_t j = 0; j < sum->ntop && !t; j++)
				if (sum->top[j].rule == i && strcmp(sum->top[j].advice, f->advice) == 0)
					t = &sum->top[j];
			if (!t && sum->ntop < SUMMARY_KINDS) {
				t = &sum->top[sum->ntop++];
				*t = (struct top){ .rule = i, .advice = f->advice, .advice_kind = f->advice_kind };
			}
			if (!t)
				continue;
			t->clients++;
			t->count += f->count;
			if (f->severity > t->severity)
				t->severity = f->severity;
		}
	}
	qsort(sum->top, sum->ntop, sizeof(sum->top[0]), top_cmp);
	if (sum->ntop > SUMMARY_TOP)
		sum->ntop = SUMMARY_TOP;
	wr_advice_where(cfg, sum->where, sizeof(sum->where));
}

static const char *advice_kind_name(enum wr_advice_kind k)
{
	return k == WR_ADVICE_CONFIG ? "config" : "outside";
}

/* ---- JSON ---- */

static void json_vendors(struct strbuf *b, unsigned bits)
{
	bool first = true;

	strbuf_puts(b, "[");
	for (size_t i = 0; i < vendor_count; i++)
		if (bits & (1u << i)) {
			if (!first)
				strbuf_puts(b, ",");
			json_str(b, vendor_table[i].name);
			first = false;
		}
	strbuf_puts(b, "]");
}

static void json_summary(struct strbuf *b, const struct summary *sum, size_t nrows)
{
	strbuf_printf(b,
	              "\"summary\":{\"clients\":%zu,\"breaks\":%llu,\"degraded\":%llu,\"ok\":%llu,\"top_findings\":[",
	              nrows, (unsigned long long)sum->verdicts[WR_SEV_BREAKS],
	              (unsigned long long)sum->verdicts[WR_SEV_DEGRADED], (unsigned long long)sum->verdicts[WR_SEV_OK]);
	for (size_t i = 0; i < sum->ntop; i++) {
		const struct top *t = &sum->top[i];

		strbuf_puts(b, i ? ",{\"rule\":" : "{\"rule\":");
		json_str(b, wr_rules[t->rule].id);
		strbuf_puts(b, ",\"severity\":");
		json_str(b, wr_severity_name(t->severity));
		strbuf_printf(b, ",\"clients\":%llu,\"count\":%llu,\"advice\":", (unsigned long long)t->clients,
		              (unsigned long long)t->count);
		json_str(b, t->advice);
		strbuf_puts(b, ",\"advice_kind\":");
		json_str(b, advice_kind_name(t->advice_kind));
		strbuf_puts(b, "}");
	}
	strbuf_puts(b, "],\"advice_before\":");
	json_str(b, sum->where);
	strbuf_puts(b, "}");
}

static char *render_json(const struct config *cfg, uint64_t now_ms, size_t *len)
{
	struct strbuf b = { 0 };
	size_t nrows, order[WR_RULE_COUNT];
	struct row *rows = sorted_rows(SORT_VERDICT, &nrows);
	struct summary *sum = ph_calloc(1, sizeof(*sum));
	char t[40];

	summarise(cfg, rows, nrows, sum);
	wr_format_iso(now_ms, t, sizeof(t));
	strbuf_puts(&b, "{\"generated\":");
	json_str(&b, t);
	strbuf_puts(&b, ",");
	json_summary(&b, sum, nrows);
	strbuf_puts(&b, ",\"clients\":[");
	for (size_t r = 0; r < nrows; r++) {
		const struct client *c = rows[r].c;
		size_t nf = sorted_findings(c, order);
		struct selfcheck_result sc;

		strbuf_puts(&b, r ? ",{\"client\":" : "{\"client\":");
		json_str(&b, rows[r].addr);
		strbuf_puts(&b, ",\"user\":");
		json_str(&b, c->key.user);
		strbuf_puts(&b, ",\"user_agent\":");
		json_str(&b, c->nuas ? c->uas[0].ua : "");
		strbuf_puts(&b, ",\"browser\":");
		json_str(&b, c->nuas ? c->uas[0].info.display : "unknown");
		strbuf_puts(&b, ",\"os\":");
		json_str(&b, c->nuas ? ua_os_name(c->uas[0].info.os) : "unknown");
		strbuf_puts(&b, ",\"user_agents\":[");
		for (size_t u = 0; u < c->nuas; u++) {
			strbuf_puts(&b, u ? ",{\"user_agent\":" : "{\"user_agent\":");
			json_str(&b, c->uas[u].ua);
			strbuf_puts(&b, ",\"browser\":");
			json_str(&b, c->uas[u].info.display);
			strbuf_puts(&b, ",\"os\":");
			json_str(&b, ua_os_name(c->uas[u].info.os));
			wr_format_iso(c->uas[u].last_ms, t, sizeof(t));
			strbuf_puts(&b, ",\"last_seen\":");
			json_str(&b, t);
			strbuf_puts(&b, "}");
		}
		wr_format_iso(c->first_ms, t, sizeof(t));
		strbuf_puts(&b, "],\"first_seen\":");
		json_str(&b, t);
		wr_format_iso(c->last_ms, t, sizeof(t));
		strbuf_puts(&b, ",\"last_seen\":");
		json_str(&b, t);
		strbuf_printf(&b, ",\"requests\":%llu,\"verdict\":", (unsigned long long)c->requests);
		json_str(&b, wr_severity_name(rows[r].verdict));
		strbuf_puts(&b, ",\"findings\":[");
		for (size_t k = 0; k < nf; k++) {
			const struct finding *f = c->f[order[k]];

			strbuf_puts(&b, k ? ",{\"rule\":" : "{\"rule\":");
			json_str(&b, wr_rules[order[k]].id);
			strbuf_puts(&b, ",\"severity\":");
			json_str(&b, wr_severity_name(f->severity));
			strbuf_puts(&b, ",\"vendors\":");
			json_vendors(&b, f->vendors);
			strbuf_puts(&b, ",\"source\":");
			json_str(&b, f->source);
			strbuf_printf(&b, ",\"count\":%llu,\"evidence\":", (unsigned long long)f->count);
			json_str(&b, f->evidence);
			strbuf_puts(&b, ",\"advice\":");
			json_str(&b, f->advice);
			strbuf_puts(&b, ",\"advice_kind\":");
			json_str(&b, advice_kind_name(f->advice_kind));
			wr_format_iso(f->first_ms, t, sizeof(t));
			strbuf_puts(&b, ",\"first_seen\":");
			json_str(&b, t);
			wr_format_iso(f->last_ms, t, sizeof(t));
			strbuf_puts(&b, ",\"last_seen\":");
			json_str(&b, t);
			strbuf_puts(&b, "}");
		}
		strbuf_puts(&b, "],\"self_check\":");
		if (selfcheck_lookup(c->key.family, c->key.addr, c->key.user, &sc))
			selfcheck_json(&sc, &b);
		else
			strbuf_puts(&b, "null");
		strbuf_puts(&b, "}");
	}
	strbuf_puts(&b, "],\"rules\":[");
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		strbuf_puts(&b, i ? ",{\"id\":" : "{\"id\":");
		json_str(&b, wr_rules[i].id);
		strbuf_puts(&b, ",\"severity\":");
		json_str(&b, wr_severity_name(wr_rules[i].severity));
		strbuf_puts(&b, ",\"source\":");
		json_str(&b, wr_rules[i].source);
		strbuf_puts(&b, ",\"description\":");
		json_str(&b, wr_rules[i].description);
		strbuf_puts(&b, "}");
	}
	strbuf_printf(&b, "],\"dropped_events\":%llu,\"evicted_clients\":%llu}\n", (unsigned long long)dropped_total(),
	              (unsigned long long)W.evicted);
	free(sum);
	free(rows);
	if (len)
		*len = b.len;
	return b.p;
}

/* ---- HTML: the summary first, then one table of clients ---- */

static void html_badge(struct strbuf *b, const char *cls, enum wr_severity s)
{
	strbuf_printf(b, "<span class=\"%s %s\">%s</span>", cls, wr_severity_name(s), wr_severity_name(s));
}

/* An advice: configuration lines as code, one per line; anything else as
 * a sentence. */
static void html_advice(struct strbuf *b, const char *advice, enum wr_advice_kind kind)
{
	char line[sizeof(((struct wr_hit *)0)->advice)];
	const char *p = advice;

	if (kind != WR_ADVICE_CONFIG) {
		strbuf_puts(b, "<span class=\"wr-outside\">");
		esc_html(b, advice);
		strbuf_puts(b, "</span>");
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		strbuf_puts(b, "<code class=\"wr-line\">");
		esc_html(b, line);
		strbuf_puts(b, "</code>");
		p += n;
		if (*p)
			p++;
	}
}

static void html_sort_link(struct strbuf *b, enum sort_key key, enum sort_key current, const char *label, bool num)
{
	strbuf_printf(b, "<th scope=\"col\"%s%s><a href=\"report?sort=%s\">%s</a></th>", num ? " class=\"num\"" : "",
	              key == current ? " aria-sort=\"descending\"" : "", sort_names[key], label);
}

static void html_summary(struct strbuf *b, const struct summary *sum, size_t nrows, uint64_t now_ms)
{
	static const enum wr_severity order[] = { WR_SEV_BREAKS, WR_SEV_DEGRADED, WR_SEV_OK };
	char t[40];
	uint64_t dropped = dropped_total();
	bool config_fix = false;

	wr_format_iso(now_ms, t, sizeof(t));
	strbuf_puts(b, "<div class=\"wr-summary\">\n<ul class=\"wr-counts\">\n");
	for (size_t i = 0; i < PH_ARRAY_LEN(order); i++)
		strbuf_printf(b,
		              "<li class=\"wr-count %s\"><a href=\"report?sort=verdict\"><span class=\"n\">%llu"
		              "</span> %s</a></li>\n",
		              wr_severity_name(order[i]), (unsigned long long)sum->verdicts[order[i]],
		              wr_severity_name(order[i]));
	strbuf_puts(b, "</ul>\n");
	strbuf_printf(b, "<p class=\"wr-generated\">%zu client%s, generated %s", nrows, nrows == 1 ? "" : "s", t);
	if (dropped || W.evicted)
		strbuf_printf(b, "; %llu dropped event%s, %llu evicted client%s", (unsigned long long)dropped,
		              dropped == 1 ? "" : "s", (unsigned long long)W.evicted, W.evicted == 1 ? "" : "s");
	strbuf_puts(b, ".</p>\n");
	if (sum->ntop == 0) {
		strbuf_puts(b, "<p class=\"wr-none\">No finding: nothing seen would break or degrade a call.</p>\n");
	} else {
		strbuf_puts(b, "<table class=\"wr-top\">\n<caption>Most frequent findings, and their fix</caption>\n"
		               "<thead><tr><th scope=\"col\">Finding</th><th scope=\"col\">Severity</th>"
		               "<th scope=\"col\" class=\"num\">Clients</th><th scope=\"col\" class=\"num\">Seen</th>"
		               "<th scope=\"col\">Fix</th></tr></thead>\n<tbody>\n");
		for (size_t i = 0; i < sum->ntop; i++) {
			const struct top *tp = &sum->top[i];

			strbuf_puts(b, "<tr><td class=\"wr-rule\">");
			esc_html(b, wr_rules[tp->rule].id);
			strbuf_puts(b, "</td><td>");
			html_badge(b, "severity", tp->severity);
			strbuf_printf(
			        b, "</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td><td class=\"wr-fix\">",
			        (unsigned long long)tp->clients, (unsigned long long)tp->count);
			html_advice(b, tp->advice, tp->advice_kind);
			strbuf_puts(b, "</td></tr>\n");
		}
		strbuf_puts(b, "</tbody>\n</table>\n");
	}
	for (size_t i = 0; i < sum->ntop; i++)
		config_fix |= sum->top[i].advice_kind == WR_ADVICE_CONFIG;
	if (config_fix) {
		strbuf_puts(b,
		            "<p class=\"wr-where\">Configuration fixes: add <code>allow</code> and <code>noauth</code> "
		            "lines before the first allow or deny rule");
		if (sum->where[0]) {
			strbuf_puts(b, " (");
			esc_html(b, sum->where);
			strbuf_puts(b, ")");
		}
		strbuf_puts(b, ", take out the lines after <code>remove</code>, then reload.</p>\n");
	}
	strbuf_puts(b, "</div>\n");
}

static void html_client_row(struct strbuf *b, const struct row *row)
{
	const struct client *c = row->c;
	size_t order[WR_RULE_COUNT], nf = sorted_findings(c, order);
	char t[40];

	strbuf_printf(b, "<tr class=\"%s\"><td>", wr_severity_name(row->verdict));
	html_badge(b, "verdict", row->verdict);
	strbuf_puts(b, "</td><td class=\"wr-client\">");
	esc_html(b, row->addr);
	strbuf_puts(b, "</td><td>");
	esc_html(b, c->key.user[0] ? c->key.user : "-");
	strbuf_puts(b, "</td><td>");
	if (!c->nuas)
		strbuf_puts(b, "unknown");
	for (size_t u = 0; u < c->nuas; u++) {
		strbuf_puts(b, u ? "<br><span class=\"wr-agent\" title=\"" : "<span class=\"wr-agent\" title=\"");
		esc_html(b, c->uas[u].ua);
		strbuf_puts(b, "\">");
		esc_html(b, c->uas[u].info.display[0] ? c->uas[u].info.display : "unknown");
		strbuf_puts(b, " on ");
		esc_html(b, ua_os_name(c->uas[u].info.os));
		strbuf_puts(b, "</span>");
	}
	wr_format_iso(c->last_ms, t, sizeof(t));
	/* "2026-11-21 10:00:01Z": the date and the time read apart. */
	if (strlen(t) > 10 && t[10] == 'T')
		t[10] = ' ';
	strbuf_printf(b, "</td><td class=\"num\">%llu</td><td class=\"wr-time\">%s</td><td>",
	              (unsigned long long)c->requests, t);
	if (nf == 0)
		strbuf_puts(b, "No finding.");
	else
		strbuf_puts(b, "<ul class=\"wr-findings\">");
	for (size_t k = 0; k < nf; k++) {
		const struct finding *f = c->f[order[k]];
		bool first = true;

		strbuf_puts(b, "<li><span class=\"wr-rule\">");
		esc_html(b, wr_rules[order[k]].id);
		strbuf_puts(b, "</span> ");
		html_badge(b, "severity", f->severity);
		strbuf_printf(b, " <span class=\"wr-meta\">&times;%llu", (unsigned long long)f->count);
		for (size_t i = 0; i < vendor_count; i++)
			if (f->vendors & (1u << i)) {
				strbuf_puts(b, first ? " &middot; " : ", ");
				esc_html(b, vendor_table[i].name);
				first = false;
			}
		strbuf_puts(b, " &middot; ");
		esc_html(b, f->source);
		strbuf_puts(b, "</span><br><span class=\"wr-evidence\">");
		esc_html(b, f->evidence);
		strbuf_puts(b, "</span><br><span class=\"wr-fix\">Fix: ");
		html_advice(b, f->advice, f->advice_kind);
		strbuf_puts(b, "</span></li>");
	}
	if (nf)
		strbuf_puts(b, "</ul>");
	struct selfcheck_result sc;

	if (selfcheck_lookup(c->key.family, c->key.addr, c->key.user, &sc)) {
		strbuf_puts(b, "<p class=\"wr-selfcheck\">");
		selfcheck_html(&sc, b);
		strbuf_puts(b, "</p>");
	}
	strbuf_puts(b, "</td></tr>\n");
}

static char *render_html(const struct config *cfg, enum sort_key key, uint64_t now_ms, size_t *len)
{
	struct strbuf b = { 0 };
	size_t nrows;
	struct row *rows = sorted_rows(key, &nrows);
	struct summary *sum = ph_calloc(1, sizeof(*sum));

	summarise(cfg, rows, nrows, sum);
	strbuf_puts(&b, "<section class=\"webrtc-report\">\n");
	html_summary(&b, sum, nrows, now_ms);
	if (nrows == 0) {
		strbuf_puts(&b, "<p class=\"empty\">No client has been seen yet.</p>\n");
	} else {
		strbuf_puts(&b, "<table class=\"wr-clients\">\n<caption>Clients, by ");
		strbuf_puts(&b, sort_names[key]);
		strbuf_puts(&b, "</caption>\n<thead><tr>");
		html_sort_link(&b, SORT_VERDICT, key, "Verdict", false);
		html_sort_link(&b, SORT_CLIENT, key, "Client", false);
		html_sort_link(&b, SORT_USER, key, "User", false);
		html_sort_link(&b, SORT_BROWSER, key, "Browser", false);
		html_sort_link(&b, SORT_REQUESTS, key, "Requests", true);
		html_sort_link(&b, SORT_LAST_SEEN, key, "Last seen", false);
		strbuf_puts(&b, "<th scope=\"col\">Findings and fixes</th></tr></thead>\n<tbody>\n");
		for (size_t r = 0; r < nrows; r++)
			html_client_row(&b, &rows[r]);
		strbuf_puts(&b, "</tbody>\n</table>\n");
	}
	strbuf_puts(&b, "</section>\n");
	free(sum);
	free(rows);
	if (len)
		*len = b.len;
	return b.p;
}

char *webrtc_report_json_at(const struct config *cfg, uint64_t now_ms, size_t *len)
{
	char *s;

	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, now_ms);
	s = render_json(cfg, now_ms, len);
	pthread_mutex_unlock(&W.lock);
	return s;
}

char *webrtc_report_html_at(const struct config *cfg, const char *sort, uint64_t now_ms, size_t *len)
{
	char *s;

	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, now_ms);
	s = render_html(cfg, sort_parse(sort), now_ms, len);
	pthread_mutex_unlock(&W.lock);
	return s;
}

char *webrtc_report_json(const struct config *cfg, size_t *len)
{
	return webrtc_report_json_at(cfg, ph_wall_ms(), len);
}

char *webrtc_report_html(const struct config *cfg, const char *sort, size_t *len)
{
	return webrtc_report_html_at(cfg, sort, ph_wall_ms(), len);
}

void webrtc_counts(const struct config *cfg, struct webrtc_counts *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, ph_wall_ms());
	for (struct client *c = first_client(); c; c = next_client(c)) {
		switch (client_verdict(c)) {
		case WR_SEV_BREAKS:
			out->breaks++;
			break;
		case WR_SEV_DEGRADED:
			out->degraded++;
			break;
		case WR_SEV_OK:
			out->ok++;
			break;
		}
		for (size_t i = 0; i < WR_RULE_COUNT && i < PH_ARRAY_LEN(out->findings_by_rule); i++)
			if (c->f[i])
				out->findings_by_rule[i]++;
	}
	out->clients = W.clients.n;
	out->evicted = W.evicted;
	out->dropped = dropped_total();
	pthread_mutex_unlock(&W.lock);
}

const char *webrtc_rule_id(size_t i)
{
	return i < WR_RULE_COUNT ? wr_rules[i].id : NULL;
}
