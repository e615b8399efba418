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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "config.h"
#include "webrtc.h"
#include "strbuf.h"
#include "webrtc_rules.h"

#define RING_SLOTS 4096 /* a power of two: indices wrap by masking */
#define DEFAULT_MAX_CLIENTS 4096
#define DRAIN_INTERVAL_MS 100
/* Bounds of the state behind turn-auth-not-retried. */
#define PENDING_MAX 256
#define RECENT_MAX 1024
#define STUN_TARGETS_MAX 256

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
};

struct client_key {
	int family; /* AF_INET or AF_INET6 (IPv4-mapped addresses count as IPv4) */
	uint8_t addr[16];
	char user[sizeof(((struct wr_event *)0)->user)];
};

struct client {
	struct client *hnext;
	struct client *prev, *next; /* recency: W.lru_head is the most recent */
	uint64_t hash;
	struct client_key key;
	char ua[sizeof(((struct wr_event *)0)->user_agent)];
	struct ua_info uai;
	uint64_t first_ms, last_ms;
	uint64_t requests;
	struct finding *f[WR_RULE_COUNT]; /* NULL until the rule fires */
};

/* A 407 on a TURN CONNECT from Chromium, waiting to see a retry. */
struct pending {
	bool used;
	bool retried;
	struct client_key key;
	char host[sizeof(((struct wr_event *)0)->host)];
	uint16_t port;
	uint64_t t407;
	struct wr_hit hit;
};

/* A CONNECT that got through authentication, for retries drained before
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

	struct client **buckets;
	size_t nbuckets, nclients, max_clients;
	struct client *lru_head, *lru_tail;
	uint64_t evicted;

	struct pending pending[PENDING_MAX];
	struct recent recent[RECENT_MAX];
	size_t recent_next;
	struct stun_target stun[STUN_TARGETS_MAX];
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

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

#define FNV_INIT 14695981039346656037ull

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
	uint64_t h = fnv(FNV_INIT, &k->family, sizeof(k->family));

	h = fnv(h, k->addr, sizeof(k->addr));
	return fnv(h, k->user, strlen(k->user));
}

static bool key_eq(const struct client_key *a, const struct client_key *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0 && strcmp(a->user, b->user) == 0;
}

static void lru_unlink(struct client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		W.lru_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		W.lru_tail = c->prev;
	c->prev = c->next = NULL;
}

static void lru_push_front(struct client *c)
{
	c->prev = NULL;
	c->next = W.lru_head;
	if (W.lru_head)
		W.lru_head->prev = c;
	W.lru_head = c;
	if (!W.lru_tail)
		W.lru_tail = c;
}

static void hash_unlink(struct client *c)
{
	struct client **pp = &W.buckets[c->hash & (W.nbuckets - 1)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	c->hnext = NULL;
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
	if (!W.buckets)
		return NULL;
	for (struct client *c = W.buckets[h & (W.nbuckets - 1)]; c; c = c->hnext)
		if (c->hash == h && key_eq(&c->key, k))
			return c;
	return NULL;
}

/* The client for k, made (evicting the least recently seen one when the
 * table is full) if new. */
static struct client *client_get(const struct client_key *k, uint64_t when)
{
	uint64_t h = key_hash(k);
	struct client *c = client_find(k, h);

	if (c) {
		lru_unlink(c);
		lru_push_front(c);
		return c;
	}
	if (W.nclients >= W.max_clients && W.lru_tail) {
		c = W.lru_tail;
		lru_unlink(c);
		hash_unlink(c);
		client_clear_findings(c);
		memset(c, 0, sizeof(*c));
		W.nclients--;
		W.evicted++;
	} else {
		c = ph_calloc(1, sizeof(*c));
	}
	c->key = *k;
	c->hash = h;
	c->first_ms = c->last_ms = when;
	ua_parse("", &c->uai);
	c->hnext = W.buckets[h & (W.nbuckets - 1)];
	W.buckets[h & (W.nbuckets - 1)] = c;
	lru_push_front(c);
	W.nclients++;
	return c;
}

static void record(struct client *c, size_t rule, const struct wr_hit *hit, uint64_t when)
{
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

/* ---- turn-auth-not-retried: STUN targets, recent CONNECTs, pending 407s ---- */

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

/* Evidence that the client repeated a CONNECT to host:port after the
 * proxy challenged it: it authenticated, or the tunnel opened. */
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
		return ph_strcaseeq(ev->method, "CONNECT") && ev->status != 407;
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
	uint64_t hh = fnv(FNV_INIT, ev->host, strlen(ev->host));
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
	uint64_t hh = fnv(FNV_INIT, ev->host, strlen(ev->host));

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
			record(c, WR_R_TURN_AUTH_NOT_RETRIED, &p->hit, p->t407);
	}
	p->used = false;
}

static void pending_add(const struct wr_event *ev, const struct client_key *k, const struct wr_hit *hit)
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
	slot->hit = *hit;
}

static void pending_expire(uint64_t now_ms)
{
	for (size_t i = 0; i < PENDING_MAX; i++)
		if (W.pending[i].used && now_ms >= W.pending[i].t407 + WR_TURN_RETRY_WINDOW_MS)
			pending_conclude(&W.pending[i]);
}

/* ---- ingestion ---- */

static void ingest_locked(const struct config *cfg, const struct wr_event *in, uint64_t now_ms)
{
	struct wr_event ev = *in;
	struct client_key k;
	struct client *c;
	struct wr_ctx ctx;

	if (!W.buckets)
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
	if (ev.user_agent[0] && strcmp(ev.user_agent, c->ua) != 0) {
		snprintf(c->ua, sizeof(c->ua), "%s", ev.user_agent);
		ua_parse(c->ua, &c->uai);
	}
	if (ev.kind == WR_REQUEST)
		c->requests++;
	if (ev.kind == WR_TUNNEL_PROTO && ph_strcaseeq(ev.detail, "stun"))
		stun_add(ev.host, ev.port, ev.wall_ms);
	if (is_retry(&ev))
		note_retry(&ev, &k);

	ctx.cfg = cfg;
	ctx.ua = &c->uai;
	ctx.stun_seen = stun_seen;
	ctx.stun_arg = NULL;
	for (size_t i = 0; i < WR_RULE_COUNT; i++) {
		struct wr_hit hit;

		if (!wr_rules[i].fn(&ctx, &ev, &hit))
			continue;
		if (!wr_rules[i].deferred)
			record(c, i, &hit, ev.wall_ms);
		else if (!retried_already(&ev, &k))
			pending_add(&ev, &k, &hit);
	}
	pending_expire(now_ms);
}

static void drain_locked(const struct config *cfg, uint64_t now_ms)
{
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

static void free_all(void)
{
	for (struct client *c = W.lru_head, *next; c; c = next) {
		next = c->next;
		client_clear_findings(c);
		free(c);
	}
	W.lru_head = W.lru_tail = NULL;
	free(W.buckets);
	W.buckets = NULL;
	W.nbuckets = W.nclients = 0;
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
	W.max_clients = max_clients ? max_clients : DEFAULT_MAX_CLIENTS;
	for (W.nbuckets = 64; W.nbuckets < W.max_clients * 2 && W.nbuckets < (1u << 20);)
		W.nbuckets *= 2;
	W.buckets = ph_calloc(W.nbuckets, sizeof(*W.buckets));
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

/* One code point from s (at most n bytes): its length, or 0 when the bytes
 * are not well-formed UTF-8 (overlong forms, surrogates and values past
 * U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* User-Agents and user names come from clients: whatever their bytes, the
 * answer is valid JSON in valid UTF-8. */
static void json_str(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	strbuf_add(b, "\"", 1);
	while (n > 0) {
		uint32_t cp;
		size_t l = utf8_len(p, n, &cp);
		char esc[8];

		if (l == 0) {
			strbuf_puts(b, "\\ufffd");
			l = 1;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			strbuf_add(b, esc, 2);
		} else if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			strbuf_puts(b, esc);
		} else {
			strbuf_add(b, (const char *)p, l);
		}
		p += l;
		n -= l;
	}
	strbuf_add(b, "\"", 1);
}

static void html_str(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	while (n > 0) {
		uint32_t cp;
		size_t l = utf8_len(p, n, &cp);

		if (l == 0) {
			strbuf_puts(b, "&#xfffd;");
			l = 1;
		} else if (cp == '&') {
			strbuf_puts(b, "&amp;");
		} else if (cp == '<') {
			strbuf_puts(b, "&lt;");
		} else if (cp == '>') {
			strbuf_puts(b, "&gt;");
		} else if (cp == '"') {
			strbuf_puts(b, "&quot;");
		} else if (cp == '\'') {
			strbuf_puts(b, "&#39;");
		} else if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f) {
			strbuf_puts(b, "&#xfffd;");
		} else {
			strbuf_add(b, (const char *)p, l);
		}
		p += l;
		n -= l;
	}
}

struct row {
	struct client *c;
	enum wr_severity verdict;
	char addr[64];
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->verdict != y->verdict)
		return x->verdict > y->verdict ? -1 : 1;
	if (x->c->last_ms != y->c->last_ms)
		return x->c->last_ms > y->c->last_ms ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

/* The clients, worst verdict first, then the most recently seen. */
static struct row *sorted_rows(size_t *n)
{
	struct row *rows = ph_calloc(W.nclients ? W.nclients : 1, sizeof(*rows));
	size_t i = 0;

	for (struct client *c = W.lru_head; c && i < W.nclients; c = c->next, i++) {
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

static char *render_json(uint64_t now_ms, size_t *len)
{
	struct strbuf b = { 0 };
	size_t nrows, order[WR_RULE_COUNT];
	struct row *rows = sorted_rows(&nrows);
	char t[40];

	wr_format_iso(now_ms, t, sizeof(t));
	strbuf_puts(&b, "{\"generated\":");
	json_str(&b, t);
	strbuf_puts(&b, ",\"clients\":[");
	for (size_t r = 0; r < nrows; r++) {
		const struct client *c = rows[r].c;
		size_t nf = sorted_findings(c, order);

		strbuf_puts(&b, r ? ",{\"client\":" : "{\"client\":");
		json_str(&b, rows[r].addr);
		strbuf_puts(&b, ",\"user\":");
		json_str(&b, c->key.user);
		strbuf_puts(&b, ",\"user_agent\":");
		json_str(&b, c->ua);
		strbuf_puts(&b, ",\"browser\":");
		json_str(&b, c->ua[0] ? c->uai.display : "unknown");
		strbuf_puts(&b, ",\"os\":");
		json_str(&b, c->ua[0] ? ua_os_name(c->uai.os) : "unknown");
		wr_format_iso(c->first_ms, t, sizeof(t));
		strbuf_puts(&b, ",\"first_seen\":");
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
			wr_format_iso(f->first_ms, t, sizeof(t));
			strbuf_puts(&b, ",\"first_seen\":");
			json_str(&b, t);
			wr_format_iso(f->last_ms, t, sizeof(t));
			strbuf_puts(&b, ",\"last_seen\":");
			json_str(&b, t);
			strbuf_puts(&b, "}");
		}
		strbuf_puts(&b, "]}");
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
	free(rows);
	if (len)
		*len = b.len;
	return b.p;
}

static void html_badge(struct strbuf *b, const char *cls, enum wr_severity s)
{
	strbuf_printf(b, "<span class=\"%s %s\">%s</span>", cls, wr_severity_name(s), wr_severity_name(s));
}

static void html_field(struct strbuf *b, const char *name, const char *value)
{
	strbuf_printf(b, "<tr><th scope=\"row\">%s</th><td colspan=\"6\">", name);
	html_str(b, value);
	strbuf_puts(b, "</td></tr>\n");
}

static char *render_html(uint64_t now_ms, size_t *len)
{
	struct strbuf b = { 0 };
	size_t nrows, order[WR_RULE_COUNT];
	struct row *rows = sorted_rows(&nrows);
	char t[40], t2[40];

	wr_format_iso(now_ms, t, sizeof(t));
	strbuf_puts(&b, "<section class=\"webrtc-report\">\n");
	strbuf_printf(&b, "<p class=\"summary\">WebRTC report generated %s: %zu client%s", t, nrows,
	              nrows == 1 ? "" : "s");
	strbuf_printf(&b, ", %llu dropped event%s, %llu evicted client%s.</p>\n", (unsigned long long)dropped_total(),
	              dropped_total() == 1 ? "" : "s", (unsigned long long)W.evicted, W.evicted == 1 ? "" : "s");
	if (nrows == 0)
		strbuf_puts(&b, "<p class=\"empty\">No client has been seen yet.</p>\n");
	for (size_t r = 0; r < nrows; r++) {
		const struct client *c = rows[r].c;
		size_t nf = sorted_findings(c, order);

		strbuf_puts(&b, "<table class=\"client\">\n<caption>");
		html_str(&b, rows[r].addr);
		if (c->key.user[0]) {
			strbuf_puts(&b, " (");
			html_str(&b, c->key.user);
			strbuf_puts(&b, ")");
		}
		strbuf_puts(&b, " ");
		html_badge(&b, "verdict", rows[r].verdict);
		strbuf_puts(&b, "</caption>\n");
		html_field(&b, "User-Agent", c->ua[0] ? c->ua : "unknown");
		html_field(&b, "Browser", c->ua[0] ? c->uai.display : "unknown");
		html_field(&b, "OS", c->ua[0] ? ua_os_name(c->uai.os) : "unknown");
		wr_format_iso(c->first_ms, t, sizeof(t));
		wr_format_iso(c->last_ms, t2, sizeof(t2));
		strbuf_printf(&b,
		              "<tr><th scope=\"row\">Seen</th><td colspan=\"6\">%s to %s, %llu request%s</td></tr>\n",
		              t, t2, (unsigned long long)c->requests, c->requests == 1 ? "" : "s");
		if (nf == 0) {
			strbuf_puts(&b,
			            "<tr><td colspan=\"7\">No finding: nothing seen would break a call.</td></tr>\n");
		} else {
			strbuf_puts(&b, "<tr><th scope=\"col\">Rule</th><th scope=\"col\">Severity</th>"
			                "<th scope=\"col\">Vendors</th><th scope=\"col\">Source</th>"
			                "<th scope=\"col\">Count</th><th scope=\"col\">Evidence</th>"
			                "<th scope=\"col\">Advice</th></tr>\n");
		}
		for (size_t k = 0; k < nf; k++) {
			const struct finding *f = c->f[order[k]];
			bool first = true;

			strbuf_puts(&b, "<tr class=\"finding\"><td>");
			html_str(&b, wr_rules[order[k]].id);
			strbuf_puts(&b, "</td><td>");
			html_badge(&b, "severity", f->severity);
			strbuf_puts(&b, "</td><td>");
			for (size_t i = 0; i < vendor_count; i++)
				if (f->vendors & (1u << i)) {
					if (!first)
						strbuf_puts(&b, ", ");
					html_str(&b, vendor_table[i].name);
					first = false;
				}
			strbuf_puts(&b, "</td><td>");
			html_str(&b, f->source);
			strbuf_printf(&b, "</td><td>%llu</td><td>", (unsigned long long)f->count);
			html_str(&b, f->evidence);
			strbuf_puts(&b, "</td><td><code>");
			html_str(&b, f->advice);
			strbuf_puts(&b, "</code></td></tr>\n");
		}
		strbuf_puts(&b, "</table>\n");
	}
	strbuf_puts(&b, "</section>\n");
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
	s = render_json(now_ms, len);
	pthread_mutex_unlock(&W.lock);
	return s;
}

char *webrtc_report_html_at(const struct config *cfg, uint64_t now_ms, size_t *len)
{
	char *s;

	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, now_ms);
	s = render_html(now_ms, len);
	pthread_mutex_unlock(&W.lock);
	return s;
}

char *webrtc_report_json(const struct config *cfg, size_t *len)
{
	return webrtc_report_json_at(cfg, ph_wall_ms(), len);
}

char *webrtc_report_html(const struct config *cfg, size_t *len)
{
	return webrtc_report_html_at(cfg, ph_wall_ms(), len);
}

void webrtc_counts(const struct config *cfg, struct webrtc_counts *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&W.lock);
	drain_locked(cfg, ph_wall_ms());
	for (struct client *c = W.lru_head; c; c = c->next) {
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
	out->clients = W.nclients;
	out->evicted = W.evicted;
	out->dropped = dropped_total();
	pthread_mutex_unlock(&W.lock);
}

const char *webrtc_rule_id(size_t i)
{
	return i < WR_RULE_COUNT ? wr_rules[i].id : NULL;
}
