/*
 * tls.c - what TLS inspection needs besides moving bytes: OpenSSL contexts
 * per configuration, the splice-or-inspect decision, minted leaves from one
 * cache shared by every worker, and the domains learned as pinned.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "acl.h"
#include "strbuf.h"
#include "cfgparse.h"
#include "common.h"
#include "log.h"
#include "tlsca.h"

/* Minted leaves kept: a busy office visits a few thousand sites a day. */
#define MINT_CACHE_MAX 4096
/* Domains whose pinning evidence is counted before one is learned. */
#define FAIL_SLOTS 512
#define LEARNED_MAX 4096
#define LEARNED_FILE "learned-no-inspect"
/* Distinct client addresses remembered per domain: enough for any
 * `clients M` the configuration accepts. */
#define EVIDENCE_CLIENTS 16

struct tls_ctx {
	struct tlsca *ca;
	SSL_CTX *origin_ctx;
	SSL_CTX *client_ctx;
	SSL_CTX *refuse_ctx;
};

/* A domain learned as pinned, and why. */
struct learned {
	char *name;
	uint64_t first, last; /* wall-clock seconds of the first and last evidence */
	unsigned alerts;      /* certificate alerts counted */
	unsigned clients;     /* from this many client addresses */
};

/* ---- process-wide state ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int alert_idx = -1;
static struct tlsca_cache *mint_cache;

static pthread_mutex_t learned_lock = PTHREAD_MUTEX_INITIALIZER;
static struct learned learned[LEARNED_MAX];
static size_t nlearned;
/* learned[] by name: every TLS tunnel's host and SNI are looked up, so a
 * full table must cost no more than an empty one.  Open addressing, at
 * most half full; a slot holds an index into learned[] plus one (0: empty).
 * Rebuilt whenever entries are removed (removal moves the last one). */
#define LEARNED_SLOTS (2 * LEARNED_MAX)
static uint16_t learned_slot[LEARNED_SLOTS];
static char *learned_path;        /* where they are kept; NULL without state-dir */
static uint64_t learned_expire_s; /* 0 = never */
/* Evidence so far for domains not (yet) learned: certificate alerts and
 * the distinct clients that sent them. */
static struct {
	char name[256];
	unsigned alerts;
	uint64_t first, last;
	uint64_t tick;
	unsigned nclients;
	struct sockaddr_storage clients[EVIDENCE_CLIENTS];
} fails[FAIL_SLOTS];
static uint64_t fail_tick;

static void init_once(void)
{
	alert_idx = SSL_get_ex_new_index(0, "pinhole alert", NULL, NULL, NULL);
	mint_cache = tlsca_cache_new(MINT_CACHE_MAX);
}

const char *tls_decision_name(enum tls_decision d)
{
	static const char *const names[TLS_NDECISIONS] = { "inspect", "off",         "not-tls", "no-inspect",
		                                           "learned", "not-matched", "alpn",    "pipelined" };

	return d < TLS_NDECISIONS ? names[d] : "?";
}

/* ---- learned pinned domains ---- */

static uint64_t now_s(void)
{
	return ph_wall_ms() / 1000;
}

static size_t learned_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (size_t)(h ^ (h >> 32)) & (LEARNED_SLOTS - 1);
}

static void learned_index_add_locked(size_t i)
{
	size_t k = learned_hash(learned[i].name);

	while (learned_slot[k])
		k = (k + 1) & (LEARNED_SLOTS - 1);
	learned_slot[k] = (uint16_t)(i + 1);
}

static void learned_index_rebuild_locked(void)
{
	memset(learned_slot, 0, sizeof(learned_slot));
	for (size_t i = 0; i < nlearned; i++)
		learned_index_add_locked(i);
}

static void learned_add_locked(struct learned l)
{
	learned[nlearned] = l;
	learned_index_add_locked(nlearned++);
}

/* The index is stale until learned_index_rebuild_locked(). */
static void learned_remove_locked(size_t i)
{
	free(learned[i].name);
	learned[i] = learned[--nlearned];
}

/* Drops what expired; true when something did. */
static bool learned_expire_locked(uint64_t now)
{
	bool changed = false;

	if (!learned_expire_s)
		return false;
	for (size_t i = 0; i < nlearned;) {
		if (learned[i].last + learned_expire_s <= now) {
			log_always("pinning: %s is inspected again: no new evidence that it is pinned for %llu s",
			           learned[i].name, (unsigned long long)learned_expire_s);
			learned_remove_locked(i);
			changed = true;
		} else {
			i++;
		}
	}
	if (changed)
		learned_index_rebuild_locked();
	return changed;
}

static struct learned *learned_find_locked(const char *domain)
{
	for (size_t k = learned_hash(domain); learned_slot[k]; k = (k + 1) & (LEARNED_SLOTS - 1))
		if (strcmp(learned[learned_slot[k] - 1].name, domain) == 0)
			return &learned[learned_slot[k] - 1];
	return NULL;
}

static void learned_save_locked(const struct learned *added);

bool tls_learned(const char *domain)
{
	struct learned *l;
	bool has;

	if (!domain || !*domain)
		return false;
	pthread_mutex_lock(&learned_lock);
	l = learned_find_locked(domain);
	if (l && learned_expire_s && l->last + learned_expire_s <= now_s()) {
		learned_expire_locked(now_s());
		learned_save_locked(NULL);
		l = NULL;
	}
	has = l != NULL;
	pthread_mutex_unlock(&learned_lock);
	return has;
}

size_t tls_learned_count(void)
{
	size_t n;

	pthread_mutex_lock(&learned_lock);
	n = nlearned;
	pthread_mutex_unlock(&learned_lock);
	return n;
}

static void iso_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tls_learned_dump(struct strbuf *out)
{
	pthread_mutex_lock(&learned_lock);
	if (nlearned)
		strbuf_printf(out, "# learned as pinned (spliced; remove from %s and reload to inspect again):\n",
		              learned_path ? learned_path : "memory: no state-dir");
	for (size_t i = 0; i < nlearned; i++) {
		char first[32], last[32], until[32];

		iso_time(learned[i].first, first, sizeof(first));
		iso_time(learned[i].last, last, sizeof(last));
		strbuf_printf(out,
		              "# learned no-inspect %s (%u certificate alert%s from %u client%s, first %s, last %s",
		              learned[i].name, learned[i].alerts, learned[i].alerts == 1 ? "" : "s", learned[i].clients,
		              learned[i].clients == 1 ? "" : "s", first, last);
		if (learned_expire_s) {
			iso_time(learned[i].last + learned_expire_s, until, sizeof(until));
			strbuf_printf(out, ", expires %s", until);
		}
		strbuf_puts(out, ")\n");
	}
	pthread_mutex_unlock(&learned_lock);
}

/* The file as pinhole last read or wrote it: every write is a rename, so
 * another instance's write (a state-dir shared by several pinholes) shows
 * as another inode. */
static struct {
	bool known;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} learned_seen;

static void learned_note_file(const struct stat *st)
{
	learned_seen.known = st != NULL;
	if (st) {
		learned_seen.dev = st->st_dev;
		learned_seen.ino = st->st_ino;
		learned_seen.size = st->st_size;
		learned_seen.mtime = st->st_mtim;
	}
}

/* Whether the file is not the one last read or written (made, changed or
 * removed since). */
static bool learned_file_changed(void)
{
	struct stat st;

	if (!learned_path)
		return false;
	if (stat(learned_path, &st) != 0)
		return learned_seen.known;
	return !learned_seen.known || st.st_dev != learned_seen.dev || st.st_ino != learned_seen.ino ||
	       st.st_size != learned_seen.size || st.st_mtim.tv_sec != learned_seen.mtime.tv_sec ||
	       st.st_mtim.tv_nsec != learned_seen.mtime.tv_nsec;
}

/* Replaces the list with the file's (the file is the truth: an admin may
 * have removed lines, another instance may have added some).  A line with
 * a name alone (written by hand) counts as learned now.  0, or -1 with
 * errno when the file exists but cannot be read. */
static int learned_read_locked(void)
{
	char line[512];
	struct stat st;
	uint64_t now = now_s();
	FILE *f = fopen(learned_path, "re");

	while (nlearned)
		learned_remove_locked(nlearned - 1);
	learned_index_rebuild_locked();
	if (!f) {
		learned_note_file(NULL);
		return errno == ENOENT ? 0 : -1;
	}
	learned_note_file(fstat(fileno(f), &st) == 0 ? &st : NULL);
	while (fgets(line, sizeof(line), f) && nlearned < LEARNED_MAX) {
		char name[256];
		unsigned long long first = now, last = now;
		unsigned alerts = 0, clients = 0;
		int k;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		k = sscanf(line, "%255s %llu %llu %u %u", name, &first, &last, &alerts, &clients);
		if (k < 1)
			continue;
		acl_host_normalise(name);
		if (learned_find_locked(name))
			continue;
		learned_add_locked((struct learned){ ph_strdup(name), first, last, alerts, clients });
	}
	fclose(f);
	return 0;
}

/* Rewrites the file whole: a new file with a name nobody can have
 * prepared (mkostemp: O_EXCL, never through a link), renamed over the old,
 * so a crash leaves either list, never half of one.  Instances sharing the
 * state-dir take turns through a lock file; one that finds the file
 * changed by another reads it first, keeping only what it learned itself
 * (added, or NULL) on top, so no instance's domains are lost. */
static void learned_save_locked(const struct learned *added)
{
	char tmp[4200], lockpath[4200];
	struct learned mine = { 0 };
	struct stat st;
	FILE *f;
	int fd, lockfd;

	if (!learned_path)
		return;
	snprintf(lockpath, sizeof(lockpath), "%s.lock", learned_path);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lockfd >= 0)
		flock(lockfd, LOCK_EX);
	if (learned_file_changed()) {
		if (added) {
			mine = *added;
			mine.name = ph_strdup(added->name);
		}
		if (learned_read_locked() < 0)
			log_error("pinning: cannot read %s: %s", learned_path, strerror(errno));
		learned_expire_locked(now_s());
		if (mine.name && !learned_find_locked(mine.name) && nlearned < LEARNED_MAX)
			learned_add_locked(mine);
		else
			free(mine.name);
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", learned_path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) != 0 || !(f = fdopen(fd, "w"))) {
		log_error("pinning: cannot write %s: %s", learned_path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto out;
	}
	fprintf(f, "# Domains pinhole learned as certificate-pinned: they are never inspected.\n"
	           "# Delete a line to inspect that domain again (pinhole notices within seconds).\n"
	           "# domain, first and last evidence (seconds since 1970), certificate alerts, clients\n");
	for (size_t i = 0; i < nlearned; i++)
		fprintf(f, "%s %llu %llu %u %u\n", learned[i].name, (unsigned long long)learned[i].first,
		        (unsigned long long)learned[i].last, learned[i].alerts, learned[i].clients);
	if (fflush(f) != 0 || fstat(fileno(f), &st) != 0 || fclose(f) != 0 || rename(tmp, learned_path) != 0) {
		log_error("pinning: cannot write %s: %s", learned_path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	learned_note_file(&st);
out:
	if (lockfd >= 0)
		close(lockfd);
}

/* Whether state-dir's list can be read (parsing touches nothing else). */
static int learned_check(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, LEARNED_FILE);
	f = fopen(path, "re");
	if (!f && errno != ENOENT) {
		snprintf(err, errlen, "cannot read %.400s: %s", path, strerror(errno));
		return -1;
	}
	if (f)
		fclose(f);
	return 0;
}

/* Reads state-dir's list (every reload: the admin may have removed lines). */
static int learned_load(const char *dir, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, LEARNED_FILE);
	pthread_mutex_lock(&learned_lock);
	/* A reload starts the counts over: a domain the admin removed from
	 * the list needs its full evidence again. */
	memset(fails, 0, sizeof(fails));
	free(learned_path);
	learned_path = ph_strdup(path);
	if (learned_read_locked() < 0) {
		int e = errno;

		pthread_mutex_unlock(&learned_lock);
		snprintf(err, errlen, "cannot read %.400s: %s", path, strerror(e));
		return -1;
	}
	pthread_mutex_unlock(&learned_lock);
	return 0;
}

void tls_learned_refresh(void)
{
	size_t before, after;
	bool changed;

	pthread_mutex_lock(&learned_lock);
	changed = learned_file_changed();
	before = nlearned;
	if (changed && learned_read_locked() < 0)
		log_error("pinning: cannot read %s: %s", learned_path, strerror(errno));
	after = nlearned;
	pthread_mutex_unlock(&learned_lock);
	if (changed)
		log_info("pinning: %s changed (another instance, or an edit): %zu learned domains, %zu before",
		         learned_path, after, before);
}

bool tls_alert_is_certificate(int alert)
{
	/* RFC 8446 6.2 / RFC 5246 7.2.2: what a client says when it refuses
	 * the server's certificate. */
	switch (alert) {
	case 42: /* bad_certificate */
	case 43: /* unsupported_certificate */
	case 44: /* certificate_revoked */
	case 45: /* certificate_expired */
	case 46: /* certificate_unknown */
	case 48: /* unknown_ca */
		return true;
	default:
		return false;
	}
}

static bool addr_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
		              4) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16) ==
	       0;
}

bool tls_pinning_evidence(const struct tls_settings *cfg, const char *domain, const struct sockaddr_storage *client)
{
	size_t slot = 0;
	bool learn = false;
	unsigned alerts, clients;
	uint64_t now = now_s();

	if (!domain || !*domain)
		return false;
	pthread_mutex_lock(&learned_lock);
	fail_tick++;
	for (size_t i = 0; i < FAIL_SLOTS; i++) {
		if (strcmp(fails[i].name, domain) == 0) {
			slot = i;
			goto found;
		}
		if (fails[i].tick < fails[slot].tick)
			slot = i; /* least recently failed: replaced */
	}
	memset(&fails[slot], 0, sizeof(fails[slot]));
	snprintf(fails[slot].name, sizeof(fails[slot].name), "%s", domain);
	fails[slot].first = now;
found:
	fails[slot].tick = fail_tick;
	fails[slot].last = now;
	alerts = ++fails[slot].alerts;
	bool seen = false;

	for (unsigned i = 0; i < fails[slot].nclients; i++)
		seen = seen || addr_same(&fails[slot].clients[i], client);
	if (!seen && fails[slot].nclients < EVIDENCE_CLIENTS)
		fails[slot].clients[fails[slot].nclients++] = *client;
	clients = fails[slot].nclients;
	if (cfg->pinning_learn && alerts >= cfg->pinning_after && clients >= cfg->pinning_clients &&
	    !learned_find_locked(domain) && nlearned < LEARNED_MAX) {
		learned_add_locked((struct learned){ ph_strdup(domain), fails[slot].first, now, alerts, clients });
		memset(&fails[slot], 0, sizeof(fails[slot]));
		learned_save_locked(&learned[nlearned - 1]);
		learn = true;
	}
	pthread_mutex_unlock(&learned_lock);
	if (learn)
		log_always("pinning: %s learned as certificate-pinned after %u certificate alerts from %u clients; "
		           "its tunnels are spliced from now on (%s%s)",
		           domain, alerts, clients, cfg->state_dir ? "kept in " : "not kept: no state-dir",
		           cfg->state_dir ? cfg->state_dir : "");
	else
		log_warn("pinning: a client refused the minted certificate for %s with a certificate alert (%u time%s, "
		         "%u client%s)%s",
		         domain, alerts, alerts == 1 ? "" : "s", clients, clients == 1 ? "" : "s",
		         cfg->pinning_learn ? "" : "; `pinning-learn on` would splice it after a few failures");
	return learn;
}

void tls_learned_configure(const struct tls_settings *cfg)
{
	pthread_mutex_lock(&learned_lock);
	learned_expire_s = cfg->pinning_expire_ms / 1000;
	if (learned_expire_locked(now_s()))
		learned_save_locked(NULL);
	pthread_mutex_unlock(&learned_lock);
}

/* ---- contexts ---- */

/* The alert a peer sent, kept as its code plus one (0: none). */
static void info_cb(const SSL *ssl, int where, int ret)
{
	/* SSL_CB_READ_ALERT is two bits, one of them shared with
	 * SSL_CB_WRITE_ALERT: both must be set, or pinhole's own alerts would
	 * pass for the peer's. */
	if ((where & SSL_CB_READ_ALERT) == SSL_CB_READ_ALERT && (ret >> 8) == SSL3_AL_FATAL)
		SSL_set_ex_data((SSL *)ssl, alert_idx, (void *)(intptr_t)((ret & 0xff) + 1));
}

static int select_http11(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                         unsigned int inlen, void *arg)
{
	static const unsigned char want[] = "\x08http/1.1";

	PH_UNUSED(ssl);
	PH_UNUSED(arg);
	if (SSL_select_next_proto((unsigned char **)out, outlen, want, sizeof(want) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_NOACK;
}

/* The origin's certificate failed: the client must not get one pinhole
 * vouches for.  access_denied is the closest alert to "the proxy refuses". */
static int refuse_hello(SSL *ssl, int *al, void *arg)
{
	PH_UNUSED(ssl);
	PH_UNUSED(arg);
	*al = SSL_AD_ACCESS_DENIED;
	return SSL_CLIENT_HELLO_ERROR;
}

SSL_CTX *tls_ctx_new(const SSL_METHOD *m)
{
	SSL_CTX *ctx;

	pthread_once(&once, init_once);
	ctx = SSL_CTX_new(m);

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Buffers only while bytes are in them, writes that may be partial
	 * and retried from a buffer that moved: the relay's way. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                              SSL_MODE_RELEASE_BUFFERS);
	/* A peer closing without close_notify is an ordinary end here. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_info_callback(ctx, info_cb);
	return ctx;
}

static void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	tlsca_free(t->ca);
	SSL_CTX_free(t->origin_ctx);
	SSL_CTX_free(t->client_ctx);
	SSL_CTX_free(t->refuse_ctx);
	free(t);
}

/* Loads what state-dir keeps and, with tls-inspect, the CA and the
 * OpenSSL contexts into s->ctx.  0, or -1 with errs filled at file:line. */
static int tls_build(struct tls_settings *s, const char *file, int line, struct cfg_errors *errs)
{
	struct tls_ctx *t;
	char err[512];

	pthread_once(&once, init_once);
	if (s->state_dir && learned_check(s->state_dir, err, sizeof(err)) < 0) {
		cfg_error(errs, file, line, "state-dir: %s", err);
		return -1;
	}
	if (!s->ca_cert)
		return 0;
	t = ph_calloc(1, sizeof(*t));
	t->ca = tlsca_load(s->ca_cert, s->ca_key, err, sizeof(err));
	if (!t->ca) {
		cfg_error(errs, file, line, "tls-inspect: %s", err);
		tls_ctx_free(t);
		return -1;
	}
	t->origin_ctx = tls_ctx_new(TLS_client_method());
	t->client_ctx = tls_ctx_new(TLS_server_method());
	t->refuse_ctx = tls_ctx_new(TLS_server_method());
	if (!t->origin_ctx || !t->client_ctx || !t->refuse_ctx) {
		cfg_error(errs, file, line, "tls-inspect: OpenSSL cannot make a TLS context");
		tls_ctx_free(t);
		return -1;
	}
	/* Verified after the handshake (SSL_get_verify_result), so that the
	 * failure can be named in the log and shown to the client. */
	SSL_CTX_set_verify(t->origin_ctx, SSL_VERIFY_NONE, NULL);
	if (s->trust ? SSL_CTX_load_verify_locations(t->origin_ctx, s->trust, NULL) != 1
	             : SSL_CTX_set_default_verify_paths(t->origin_ctx) != 1) {
		cfg_error(errs, file, line, "tls-trust: cannot load %s: %s",
		          s->trust ? s->trust : "the system's CA bundle", ERR_reason_error_string(ERR_get_error()));
		tls_ctx_free(t);
		return -1;
	}
	SSL_CTX_set_alpn_select_cb(t->client_ctx, select_http11, NULL);
	SSL_CTX_set_client_hello_cb(t->refuse_ctx, refuse_hello, NULL);
	ERR_clear_error();
	s->ctx = t;
	return 0;
}

/* ---- the decision ---- */

/* ip: the address when name is an IP literal (CIDR patterns match it). */
static bool no_inspect_match(const struct tls_settings *s, const char *name, const struct sockaddr_storage *ip)
{
	if (!name || !*name)
		return false;
	return acl_domain_index_match(&s->no_inspect, name, ip);
}

/* The decision for one name alone: no-inspect and learned splice it. */
static enum tls_decision decide_name(const struct tls_settings *t, bool inspect_all, const char *name,
                                     const struct sockaddr_storage *ip)
{
	if (inspect_all)
		return TLS_INSPECT;
	if (no_inspect_match(t, name, ip))
		return TLS_SPLICE_NO_INSPECT;
	if (tls_learned(name))
		return TLS_SPLICE_LEARNED;
	return TLS_INSPECT;
}

bool tls_sni_mismatch(const struct acl_subject *s, const char *sni)
{
	return sni && *sni && !s->dst_ip && strcmp(sni, s->host) != 0;
}

enum tls_decision tls_decide(const struct tls_settings *t, bool inspect_all, const struct acl_subject *s,
                             const char *sni, const char *alpn)
{
	enum tls_decision by_host, by_sni;
	bool has_sni = sni && *sni;
	bool mismatch = tls_sni_mismatch(s, sni);

	if (!t->ctx)
		return TLS_SPLICE_OFF;
	by_host = decide_name(t, inspect_all, s->host, s->dst_ip);
	by_sni = has_sni ? decide_name(t, inspect_all, sni, NULL) : TLS_INSPECT;
	if (mismatch) {
		/* Both names must agree to splice. */
		if (by_host == TLS_INSPECT || by_sni == TLS_INSPECT)
			by_host = by_sni = TLS_INSPECT;
	} else if (by_host == TLS_INSPECT) {
		/* An address, or the same name: what the SNI says. */
		by_host = by_sni;
	}
	if (by_host != TLS_INSPECT)
		return by_host;
	if (t->inspect.n) {
		struct acl_subject by_name = *s;
		bool matched = acl_check(t->inspect.r, t->inspect.n, s) != NULL;

		if (!matched && mismatch) {
			by_name.host = sni;
			by_name.dst_ip = NULL;
			matched = acl_check(t->inspect.r, t->inspect.n, &by_name) != NULL;
		}
		if (!matched)
			return TLS_SPLICE_NOT_MATCHED;
	}
	if (alpn && *alpn && !strstr(alpn, "http/1.1"))
		return TLS_SPLICE_ALPN;
	return TLS_INSPECT;
}

/* ---- connections ---- */

SSL *tls_origin_new(const struct tls_settings *t, const char *name, bool alpn)
{
	SSL *ssl = SSL_new(t->ctx->origin_ctx);
	struct in6_addr a6;
	bool is_ip;

	if (!ssl)
		return NULL;
	is_ip = inet_pton(AF_INET, name, &a6) == 1 || inet_pton(AF_INET6, name, &a6) == 1;
	if (is_ip) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	} else {
		SSL_set_tlsext_host_name(ssl, name);
		SSL_set1_host(ssl, name);
	}
	if (alpn)
		SSL_set_alpn_protos(ssl, (const unsigned char *)"\x08http/1.1", 9);
	SSL_set_connect_state(ssl);
	return ssl;
}

const char *tls_origin_verify_error(SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);
	X509 *peer = SSL_get0_peer_certificate(ssl);

	if (!peer)
		return "the origin sent no certificate";
	return v == X509_V_OK ? NULL : X509_verify_cert_error_string(v);
}

SSL *tls_client_new(const struct tls_settings *t, X509 *origin, const char *sni, char *err, size_t errlen)
{
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	SSL *ssl;

	pthread_once(&once, init_once);
	if (tlsca_cache_get(mint_cache, t->ctx->ca, origin, sni, &leaf, &key, err, errlen) < 0)
		return NULL;
	ssl = SSL_new(t->ctx->client_ctx);
	if (!ssl || SSL_use_certificate(ssl, leaf) != 1 || SSL_use_PrivateKey(ssl, key) != 1) {
		snprintf(err, errlen, "OpenSSL refuses the minted certificate: %s",
		         ERR_reason_error_string(ERR_get_error()));
		SSL_free(ssl);
		ssl = NULL;
	}
	X509_free(leaf);
	EVP_PKEY_free(key);
	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

SSL *tls_client_refuse(const struct tls_settings *t)
{
	SSL *ssl = SSL_new(t->ctx->refuse_ctx);

	if (ssl)
		SSL_set_accept_state(ssl);
	return ssl;
}

int tls_client_alert(SSL *ssl)
{
	return alert_idx >= 0 ? (int)(intptr_t)SSL_get_ex_data(ssl, alert_idx) - 1 : -1;
}

void tls_cache_figures(unsigned long *hits, unsigned long *misses)
{
	struct tlsca_cache_stats st = { 0 };

	if (mint_cache)
		tlsca_cache_stats(mint_cache, &st);
	*hits = st.hits;
	*misses = st.misses;
}

/* ---- the tls section of the configuration ---- */

/* ---- TLS inspection ---- */

static void check_readable(struct cfg_ctx *ctx, const struct cfg_line *ln, const char *what, const char *path)
{
	const char *why;

	if (!cfg_file_readable(path, &why))
		cfg_err(ctx, ln, "%s %s: %s", what, path, why);
}

static void d_tls_inspect(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct tls_settings *s = settings;

	if (strcmp(ln->argv[1], "ca") != 0) {
		cfg_err(ctx, ln, "tls-inspect takes 'ca CERT KEY' (make them with `pinhole ca create DIR`)");
		return;
	}
	free(s->ca_cert);
	free(s->ca_key);
	s->ca_cert = cfg_path(ln->file, ln->argv[2]);
	s->ca_key = cfg_path(ln->file, ln->argv[3]);
	s->file = cfg_intern(ctx, ln->file);
	s->line = ln->line;
	/* Said now, with the other errors: the CA itself is loaded only
	 * once everything parsed. */
	check_readable(ctx, ln, "tls-inspect: cannot read the CA certificate", s->ca_cert);
	check_readable(ctx, ln, "tls-inspect: cannot read the CA key", s->ca_key);
}

static void d_tls_trust(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct tls_settings *s = settings;
	free(s->trust);
	s->trust = cfg_path(ln->file, ln->argv[1]);
	s->trust_file = ln->file;
	s->trust_line = ln->line;
	check_readable(ctx, ln, "tls-trust: cannot read", s->trust);
}

static void d_inspect(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	acl_rules_add(&((struct tls_settings *)settings)->inspect, RULE_ALLOW, ln, ctx);
}

static void d_no_inspect(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct tls_settings *s = settings;

	for (int i = 1; i < ln->argc; i++) {
		struct domain_pattern p;

		if (acl_domain_pattern_parse(&p, ln->argv[i]) != PH_OK) {
			cfg_err(ctx, ln,
			        "bad no-inspect pattern '%s': write example.com, *.example.com or .example.com",
			        ln->argv[i]);
			continue;
		}
		acl_domain_index_add(&s->no_inspect, &p);
		acl_domain_pattern_free(&p);
		s->no_inspect_text = ph_realloc(s->no_inspect_text, (s->nno_inspect + 1) * sizeof(*s->no_inspect_text));
		s->no_inspect_text[s->nno_inspect++] = ph_strdup(ln->argv[i]);
	}
}

/* pinning-learn on|off [after N] [clients M] [expire DURATION] */
static void d_pinning_learn(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	static const char *const opts[] = { "after", "clients", "expire" };
	struct tls_settings *s = settings;

	if (strcmp(ln->argv[1], "on") != 0 && strcmp(ln->argv[1], "off") != 0) {
		cfg_err(ctx, ln, "pinning-learn takes on or off (then optionally after N, clients M, expire DURATION)");
		return;
	}
	for (int i = 2; i < ln->argc; i += 2) {
		int k = cfg_keyword(ln->argv[i], opts, PH_ARRAY_LEN(opts));
		char *end = NULL;
		long n = 0;

		if (k < 0) {
			cfg_unknown(ctx, ln, "pinning-learn option", ln->argv[i], opts, PH_ARRAY_LEN(opts));
			return;
		}
		if (i + 1 == ln->argc) {
			cfg_err(ctx, ln, "pinning-learn %s needs a value", opts[k]);
			return;
		}
		if (k == 2) {
			if (cfg_parse_duration(ln->argv[i + 1], &s->pinning_expire_ms) != PH_OK) {
				cfg_err(ctx, ln,
				        "pinning-learn expire: '%s' is not a duration (e.g. 7d, 12h, or 0 for never)",
				        ln->argv[i + 1]);
				return;
			}
			continue;
		}
		n = strtol(ln->argv[i + 1], &end, 10);
		if (*end || n < 1 || n > 16 || (k == 0 && n > 100)) {
			cfg_err(ctx, ln,
			        k == 0 ? "pinning-learn after N: N certificate alerts (1 to 100) before a domain is "
			                 "learned"
			               : "pinning-learn clients M: from M distinct client addresses (1 to 16)");
			return;
		}
		if (k == 0)
			s->pinning_after = (unsigned)n;
		else
			s->pinning_clients = (unsigned)n;
	}
	s->pinning_learn = strcmp(ln->argv[1], "on") == 0;
	s->pinning_file = cfg_intern(ctx, ln->file);
	s->pinning_line = ln->line;
}

/* sni-mismatch inspect|deny: what to do with a tunnel whose ClientHello
 * names another host than its CONNECT (inspect is the default). */
static void d_sni_mismatch(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	static const char *const kinds[] = { "inspect", "deny" };
	int k = cfg_keyword(ln->argv[1], kinds, PH_ARRAY_LEN(kinds));

	if (k < 0) {
		cfg_unknown(ctx, ln, "sni-mismatch action", ln->argv[1], kinds, PH_ARRAY_LEN(kinds));
		return;
	}
	((struct tls_settings *)settings)->sni_mismatch_deny = k == 1;
}

static void d_state_dir(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct tls_settings *s = settings;
	struct stat st;
	char *path = cfg_path(ln->file, ln->argv[1]);

	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		cfg_err(ctx, ln, "state-dir %s is not a directory (create it, writable by pinhole)", path);
		free(path);
		return;
	}
	if (access(path, W_OK) != 0) {
		cfg_err(ctx, ln, "state-dir %s is not writable by pinhole", path);
		free(path);
		return;
	}
	free(s->state_dir);
	s->state_dir = path;
}

static void *tls_create(void)
{
	struct tls_settings *s = ph_calloc(1, sizeof(*s));

	s->pinning_after = TLS_PINNING_AFTER_DEFAULT;
	s->pinning_clients = TLS_PINNING_CLIENTS_DEFAULT;
	s->pinning_expire_ms = TLS_PINNING_EXPIRE_DEFAULT_MS;
	return s;
}

/* A configuration that took effect: its state-dir's list is read (the
 * pinning evidence starts over) and expired entries leave it. */
static void tls_commit(const void *settings)
{
	const struct tls_settings *s = settings;
	char err[512];

	if (s->state_dir && learned_load(s->state_dir, err, sizeof(err)) < 0)
		log_error("pinning: state-dir: %s", err);
	tls_learned_configure(s);
}

/* The CA and the contexts are built only when every line parsed: a CA key
 * is not read for a configuration that is refused anyway. */
static void tls_finish(void *settings, const char *mainfile, struct cfg_ctx *ctx)
{
	struct tls_settings *s = settings;

	if (ctx->errs->n == 0 && (s->ca_cert || s->state_dir))
		tls_build(s, s->file ? s->file : mainfile, s->file ? s->line : 0, ctx->errs);
	if (s->pinning_learn && !s->ca_cert)
		cfg_error(
		        ctx->errs, s->pinning_file, s->pinning_line,
		        "pinning-learn on needs TLS inspection (nothing is minted, nothing can fail): add tls-inspect "
		        "ca CERT KEY");
}

static void tls_dump(const void *settings, struct strbuf *sb)
{
	const struct tls_settings *s = settings;

	if (s->ca_cert)
		strbuf_printf(sb, "tls-inspect ca %s %s\n", s->ca_cert, s->ca_key);
	if (s->trust)
		strbuf_printf(sb, "tls-trust %s\n", s->trust);
	for (size_t i = 0; i < s->inspect.n; i++)
		strbuf_printf(sb, "%s\n", s->inspect.r[i].text);
	if (s->nno_inspect) {
		strbuf_printf(sb, "no-inspect");
		for (size_t i = 0; i < s->nno_inspect; i++)
			strbuf_printf(sb, " %s", s->no_inspect_text[i]);
		strbuf_printf(sb, "\n");
	}
	if (s->ca_cert)
		strbuf_printf(sb, "pinning-learn %s after %u clients %u expire %llus\n",
		              s->pinning_learn ? "on" : "off", s->pinning_after, s->pinning_clients,
		              (unsigned long long)(s->pinning_expire_ms / 1000));
	if (s->sni_mismatch_deny)
		strbuf_puts(sb, "sni-mismatch deny\n");
	if (s->state_dir)
		strbuf_printf(sb, "state-dir %s\n", s->state_dir);
	if (s->ca_cert || s->state_dir)
		tls_learned_dump(sb);
}

static void tls_destroy(void *settings)
{
	struct tls_settings *s = settings;

	tls_ctx_free(s->ctx);
	free(s->ca_cert);
	free(s->ca_key);
	free(s->trust);
	free(s->state_dir);
	acl_rules_free(&s->inspect);
	acl_domain_index_free(&s->no_inspect);
	for (size_t i = 0; i < s->nno_inspect; i++)
		free(s->no_inspect_text[i]);
	free(s->no_inspect_text);
	free(s);
}

static const struct cfg_directive tls_directives[] = {
	{ "tls-inspect", 3, 3, true, "tls-inspect ca CERT KEY", d_tls_inspect },
	{ "tls-trust", 1, 1, true, "tls-trust FILE", d_tls_trust },
	{ "inspect", 0, -1, false, "inspect MATCHERS", d_inspect },
	{ "no-inspect", 1, -1, false, "no-inspect PATTERN...", d_no_inspect },
	{ "pinning-learn", 1, 7, true, "pinning-learn on|off [after N] [clients M] [expire DURATION]",
	  d_pinning_learn },
	{ "sni-mismatch", 1, 1, true, "sni-mismatch inspect|deny", d_sni_mismatch },
	{ "state-dir", 1, 1, true, "state-dir DIR", d_state_dir },
};

const struct cfg_section tls_section = {
	.name = "tls",
	.directives = tls_directives,
	.ndirectives = PH_ARRAY_LEN(tls_directives),
	.create = tls_create,
	.finish = tls_finish,
	.dump = tls_dump,
	.destroy = tls_destroy,
	.commit = tls_commit,
};
