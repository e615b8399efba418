/*
 * upstream.c - parent proxies (upstream.h): the upstream-proxy directive,
 * parent URLs and credentials files, the choice of a line and of a parent
 * that is up, each parent's shared up/down state, the TLS context for
 * https:// parents, and their metrics.
 */
#include "upstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "strbuf.h"

#define CREDENTIALS_MAX 4096

static const char *const failure_names[UPSTREAM_NFAILURES] = {
	[UPSTREAM_FAIL_REFUSED] = "refused", [UPSTREAM_FAIL_TIMEOUT] = "timeout", [UPSTREAM_FAIL_RESET] = "reset",
	[UPSTREAM_FAIL_DNS] = "dns",         [UPSTREAM_FAIL_TLS] = "tls",         [UPSTREAM_FAIL_AUTH] = "auth",
	[UPSTREAM_FAIL_STATUS] = "status",   [UPSTREAM_FAIL_ERROR] = "error",
};

const char *upstream_failure_name(enum upstream_failure f)
{
	return f < UPSTREAM_NFAILURES ? failure_names[f] : "error";
}

/* ---- the process's parents ---- */

static pthread_mutex_t states_lock = PTHREAD_MUTEX_INITIALIZER;
static struct upstream_state *states;
static unsigned states_next_id;

/* The record for key, made when no configuration has it yet. */
static struct upstream_state *state_get(const char *key, const char *label)
{
	struct upstream_state *st;

	pthread_mutex_lock(&states_lock);
	for (st = states; st; st = st->next)
		if (strcmp(st->key, key) == 0)
			break;
	if (!st) {
		st = ph_calloc(1, sizeof(*st));
		st->key = ph_strdup(key);
		snprintf(st->label, sizeof(st->label), "%s", label);
		st->id = ++states_next_id;
		atomic_init(&st->down, false);
		atomic_init(&st->retry_at, 0);
		atomic_init(&st->requests, 0);
		for (int i = 0; i < UPSTREAM_NFAILURES; i++)
			atomic_init(&st->failures[i], 0);
		auth_client_cache_init(&st->auth);
		st->next = states;
		states = st;
	}
	st->refs++;
	pthread_mutex_unlock(&states_lock);
	return st;
}

static void state_put(struct upstream_state *st)
{
	struct upstream_state **pp;

	if (!st)
		return;
	pthread_mutex_lock(&states_lock);
	if (--st->refs > 0) {
		pthread_mutex_unlock(&states_lock);
		return;
	}
	for (pp = &states; *pp; pp = &(*pp)->next) {
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	}
	pthread_mutex_unlock(&states_lock);
	auth_client_cache_destroy(&st->auth);
	free(st->key);
	free(st);
}

bool upstream_usable(const struct upstream_state *st, uint64_t now)
{
	return !atomic_load_explicit(&st->down, memory_order_relaxed) ||
	       now >= atomic_load_explicit(&st->retry_at, memory_order_relaxed);
}

void upstream_reached(struct upstream_state *st)
{
	bool was = true;

	atomic_fetch_add_explicit(&st->requests, 1, memory_order_relaxed);
	/* One worker wins the exchange: the transition is logged once. */
	if (atomic_load_explicit(&st->down, memory_order_relaxed) &&
	    atomic_compare_exchange_strong(&st->down, &was, false))
		log_warn("parent proxy %s is up again", st->label);
}

bool upstream_failed(struct upstream_state *st, enum upstream_failure f, uint64_t now, uint64_t retry_ms,
                     const char *why)
{
	bool was = false;

	atomic_fetch_add_explicit(&st->failures[f], 1, memory_order_relaxed);
	if (f == UPSTREAM_FAIL_TLS || f == UPSTREAM_FAIL_AUTH || f == UPSTREAM_FAIL_STATUS)
		return false; /* it answered: it is up, it said no */
	atomic_store_explicit(&st->retry_at, now + retry_ms, memory_order_relaxed);
	if (atomic_compare_exchange_strong(&st->down, &was, true)) {
		char d[32];

		if (retry_ms % 1000 == 0)
			snprintf(d, sizeof(d), "%llu s", (unsigned long long)(retry_ms / 1000));
		else
			snprintf(d, sizeof(d), "%llu ms", (unsigned long long)retry_ms);
		log_warn("parent proxy %s is down (%s): requests go to the next parent of its line; it is tried again "
		         "in %s",
		         st->label, why, d);
	}
	return true;
}

const struct upstream_route *upstream_select(const struct upstream_settings *u, const struct acl_subject *s)
{
	for (size_t i = 0; u && i < u->n; i++)
		if (u->routes[i].match.n == 0 || acl_matchset_match(&u->routes[i].match, s))
			return &u->routes[i];
	return NULL;
}

const struct upstream_parent *upstream_next(const struct upstream_route *r, size_t from, uint64_t now, size_t *index)
{
	for (size_t i = from; i < r->nparents; i++) {
		if (upstream_usable(r->parents[i].state, now)) {
			*index = i;
			return &r->parents[i];
		}
	}
	return NULL;
}

/* ---- parent URLs ---- */

/* The text of a URL with its password hidden, for messages. */
static void redacted(const char *text, char *out, size_t cap)
{
	const char *rest = strstr(text, "://");
	const char *at = rest ? strrchr(rest, '@') : NULL;
	const char *colon = at ? memchr(rest + 3, ':', (size_t)(at - rest - 3)) : NULL;

	if (colon)
		snprintf(out, cap, "%.*s:***%s", (int)(colon - text), text, at);
	else
		snprintf(out, cap, "%s", text);
}

/* Percent-decodes src[0..len) into a new string; NULL when an escape is
 * bad or decodes to a control character. */
static char *pct_decode(const char *src, size_t len)
{
	char *out = ph_malloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '%') {
			int hi = i + 2 < len ? ph_hexval(src[i + 1]) : -1, lo = hi >= 0 ? ph_hexval(src[i + 2]) : -1;

			if (lo < 0) {
				free(out);
				return NULL;
			}
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f) {
			free(out);
			return NULL;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* A user name as a URL writes it (RFC 3986 userinfo). */
static void pct_encode(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~!$&'()*+,;=", c))
			strbuf_add(sb, s, 1);
		else
			strbuf_printf(sb, "%%%02X", c);
	}
}

/* FNV-1a over the user, a NUL and the password: which identity a kept
 * connection to a parent carries. */
static uint64_t creds_hash(const char *user, const char *password)
{
	uint64_t h = 14695981039346656037ULL;
	const char *parts[2] = { user, password ? password : "" };

	for (int k = 0; k < 2; k++) {
		for (const char *p = parts[k]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0) * 1099511628211ULL;
	}
	return h ? h : 1;
}

static void creds_free(struct upstream_creds *c)
{
	if (c->password)
		OPENSSL_cleanse(c->password, strlen(c->password));
	free(c->user);
	free(c->password);
	memset(c, 0, sizeof(*c));
}

void upstream_parent_free(struct upstream_parent *p)
{
	free(p->host);
	free(p->shown);
	creds_free(&p->own);
	state_put(p->state);
	memset(p, 0, sizeof(*p));
}

int upstream_parse_url(const char *text, struct upstream_parent *p, char *why, size_t whylen)
{
	char shown[512];
	const char *auth, *end, *at, *hostp, *portp = NULL;
	size_t hlen;
	struct strbuf sb = { 0 };

	memset(p, 0, sizeof(*p));
	redacted(text, shown, sizeof(shown));
	if (strncasecmp(text, "http://", 7) == 0) {
		auth = text + 7;
	} else if (strncasecmp(text, "https://", 8) == 0) {
		auth = text + 8;
		p->tls = true;
	} else {
		const char *sep = strstr(text, "://");

		if (sep)
			snprintf(why, whylen,
			         "bad parent URL '%s': pinhole speaks to parents in http:// or https:// (not %.*s)",
			         shown, (int)(sep - text), text);
		else
			snprintf(why, whylen, "bad parent URL '%s': write http://HOST:PORT or https://HOST:PORT",
			         shown);
		return -1;
	}
	end = auth + strlen(auth);
	if (end > auth && end[-1] == '/')
		end--;
	at = NULL;
	for (const char *q = auth; q < end; q++)
		if (*q == '@')
			at = q;
	hostp = at ? at + 1 : auth;
	if (memchr(hostp, '/', (size_t)(end - hostp)) || memchr(hostp, '?', (size_t)(end - hostp)) ||
	    memchr(hostp, '#', (size_t)(end - hostp))) {
		snprintf(why, whylen,
		         "bad parent URL '%s': a parent proxy is named by its host and port, without a path", shown);
		return -1;
	}
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		const char *uend = colon ? colon : at;

		p->own.user = pct_decode(auth, (size_t)(uend - auth));
		p->own.password = colon ? pct_decode(colon + 1, (size_t)(at - colon - 1)) : ph_strdup("");
		if (!p->own.user || !p->own.password || !p->own.user[0]) {
			snprintf(why, whylen,
			         "bad parent URL '%s': the user name (and password) before '@' must be non-empty, with "
			         "'%%' escapes of two hex digits",
			         shown);
			goto fail;
		}
		p->own.id = creds_hash(p->own.user, p->own.password);
	}
	if (hostp < end && *hostp == '[') {
		const char *rb = memchr(hostp, ']', (size_t)(end - hostp));
		struct in6_addr a6;
		char v6[INET6_ADDRSTRLEN + 1];

		if (!rb || (size_t)(rb - hostp - 1) >= sizeof(v6)) {
			snprintf(why, whylen, "bad parent URL '%s': an IPv6 address is written [ADDRESS]:PORT", shown);
			goto fail;
		}
		memcpy(v6, hostp + 1, (size_t)(rb - hostp - 1));
		v6[rb - hostp - 1] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1) {
			snprintf(why, whylen, "bad parent URL '%s': '%s' is not an IPv6 address", shown, v6);
			goto fail;
		}
		inet_ntop(AF_INET6, &a6, v6, sizeof(v6));
		p->host = ph_strdup(v6);
		p->host_is_ip = true;
		if (rb + 1 < end && rb[1] == ':')
			portp = rb + 2;
		else if (rb + 1 != end) {
			snprintf(why, whylen, "bad parent URL '%s': an IPv6 address is written [ADDRESS]:PORT", shown);
			goto fail;
		}
	} else {
		const char *colon = memchr(hostp, ':', (size_t)(end - hostp));
		struct domain_pattern dp;
		struct in_addr a4;

		hlen = (size_t)((colon ? colon : end) - hostp);
		if (colon && memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			snprintf(why, whylen,
			         "bad parent URL '%s': write an IPv6 address in brackets, e.g. http://[::1]:3128",
			         shown);
			goto fail;
		}
		p->host = ph_strndup(hostp, hlen);
		acl_host_normalise(p->host);
		portp = colon ? colon + 1 : NULL;
		if (!p->host[0] || p->host[0] == '*' || p->host[0] == '.' ||
		    acl_domain_pattern_parse(&dp, p->host) != 0 ||
		    (dp.kind != DOMAIN_EXACT && dp.kind != DOMAIN_CIDR) ||
		    (dp.kind == DOMAIN_CIDR && (strchr(p->host, '/') || dp.cidr.family != AF_INET))) {
			if (p->host[0] && p->host[0] != '*' && p->host[0] != '.')
				acl_domain_pattern_free(&dp);
			snprintf(why, whylen, "bad parent URL '%s': '%.*s' is not a host name or an IP address", shown,
			         (int)hlen, hostp);
			goto fail;
		}
		acl_domain_pattern_free(&dp);
		p->host_is_ip = inet_pton(AF_INET, p->host, &a4) == 1;
	}
	if (!portp || portp == end) {
		snprintf(why, whylen, "bad parent URL '%s': the parent's port is missing (e.g. %s://%s:%s)", shown,
		         p->tls ? "https" : "http", p->host, p->tls ? "443" : "3128");
		goto fail;
	}
	{
		char port[8];
		size_t plen = (size_t)(end - portp);

		if (plen >= sizeof(port)) {
			snprintf(why, whylen, "bad parent URL '%s': the port must be a number from 1 to 65535", shown);
			goto fail;
		}
		memcpy(port, portp, plen);
		port[plen] = '\0';
		if (cfg_parse_port(port, &p->port) != PH_OK) {
			snprintf(why, whylen, "bad parent URL '%s': the port must be a number from 1 to 65535", shown);
			goto fail;
		}
	}
	snprintf(p->label, sizeof(p->label), strchr(p->host, ':') ? "[%s]:%u" : "%s:%u", p->host, p->port);
	strbuf_printf(&sb, "%s://", p->tls ? "https" : "http");
	if (p->own.user) {
		pct_encode(&sb, p->own.user);
		strbuf_add(&sb, "@", 1);
	}
	strbuf_printf(&sb, "%s", p->label);
	p->shown = sb.p;
	return 0;
fail:
	upstream_parent_free(p);
	return -1;
}

/* ---- the directive ---- */

/* Reads `credentials FILE`: one line USER:PASSWORD, in a file only its
 * owner may read (the check the inspection CA key gets). */
static int read_credentials(const char *path, struct upstream_creds *c, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char buf[CREDENTIALS_MAX + 1];
	ssize_t n;
	size_t len;
	char *colon;

	if (fd < 0) {
		snprintf(why, whylen, "cannot read the credentials file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "the credentials file %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(
		        why, whylen,
		        "the credentials file %s is readable or writable by group or others (mode %04o); whoever reads "
		        "it can use the parent proxy as pinhole: run chmod 600 %s",
		        path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n > CREDENTIALS_MAX) {
		snprintf(why, whylen, "cannot read the credentials file %s: %s", path,
		         n < 0 ? strerror(errno) : "it is longer than 4 KiB");
		return -1;
	}
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	colon = strchr(buf, ':');
	if (!colon || colon == buf || memchr(buf, '\0', len) != NULL) {
		OPENSSL_cleanse(buf, sizeof(buf));
		snprintf(why, whylen,
		         "the credentials file %s must hold one line USER:PASSWORD (USER may be DOMAIN\\user)", path);
		return -1;
	}
	*colon = '\0';
	for (const char *q = buf; *q; q++) {
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			OPENSSL_cleanse(buf, sizeof(buf));
			snprintf(why, whylen, "the user name in the credentials file %s holds a control character",
			         path);
			return -1;
		}
	}
	c->user = ph_strdup(buf);
	c->password = ph_strdup(colon + 1);
	c->id = creds_hash(c->user, c->password);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static bool is_url(const char *w)
{
	return strstr(w, "://") != NULL;
}

static void route_free(struct upstream_route *r)
{
	for (size_t i = 0; i < r->nparents; i++)
		upstream_parent_free(&r->parents[i]);
	free(r->parents);
	if (r->file_creds) {
		creds_free(r->file_creds);
		free(r->file_creds);
	}
	free(r->cred_file);
	acl_matchset_free(&r->match);
	free(r->match_text);
}

static void d_upstream(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct upstream_settings *u = settings;
	struct upstream_route r;
	char why[600];
	int i = 1;
	bool bad = false;

	memset(&r, 0, sizeof(r));
	r.file = ln->file;
	r.line = ln->line;
	r.retry_ms = UPSTREAM_RETRY_DEFAULT_MS;
	if (strcmp(ln->argv[1], "direct") == 0) {
		r.direct = true;
		i = 2;
		if (ln->argc == 2) {
			cfg_err(ctx, ln,
			        "upstream-proxy direct needs matchers: the requests that go direct (e.g. "
			        "upstream-proxy "
			        "direct domain .intranet.example)");
			return;
		}
	} else {
		for (; i < ln->argc && is_url(ln->argv[i]); i++) {
			struct upstream_parent p;

			if (upstream_parse_url(ln->argv[i], &p, why, sizeof(why)) != 0) {
				cfg_err(ctx, ln, "%s", why);
				bad = true;
				continue;
			}
			r.parents = ph_realloc(r.parents, (r.nparents + 1) * sizeof(*r.parents));
			r.parents[r.nparents++] = p;
		}
		if (i == 1) {
			cfg_err(ctx, ln,
			        "upstream-proxy needs a parent URL (http://HOST:PORT or https://HOST:PORT) or "
			        "'direct', "
			        "not '%s'",
			        ln->argv[1]);
			route_free(&r);
			return;
		}
		/* Options, then the matchers. */
		while (i < ln->argc) {
			if (strcmp(ln->argv[i], "credentials") == 0) {
				char *path;

				if (i + 1 >= ln->argc) {
					cfg_err(ctx, ln, "credentials needs a file (one line USER:PASSWORD)");
					bad = true;
					i++;
					continue;
				}
				if (r.cred_file) {
					cfg_err(ctx, ln, "credentials is given twice on one line");
					bad = true;
					i += 2;
					continue;
				}
				path = cfg_path(ln->file, ln->argv[i + 1]);
				r.cred_file = ph_strdup(ln->argv[i + 1]);
				r.file_creds = ph_calloc(1, sizeof(*r.file_creds));
				if (read_credentials(path, r.file_creds, why, sizeof(why)) != 0) {
					cfg_err(ctx, ln, "%s", why);
					bad = true;
				}
				free(path);
				i += 2;
			} else if (strcmp(ln->argv[i], "retry-after") == 0) {
				if (i + 1 >= ln->argc || cfg_parse_duration(ln->argv[i + 1], &r.retry_ms) != PH_OK ||
				    r.retry_ms == 0) {
					cfg_err(ctx, ln,
					        "retry-after needs a duration greater than 0 (how long a parent that "
					        "failed is left alone, e.g. 30s)");
					bad = true;
				}
				r.retry_set = true;
				i += 2;
			} else {
				break;
			}
		}
		if (r.cred_file) {
			for (size_t k = 0; k < r.nparents; k++) {
				if (r.parents[k].own.user) {
					cfg_err(ctx, ln,
					        "the parent URL %s carries a user and a password and the line a "
					        "credentials file: give them once",
					        r.parents[k].shown);
					bad = true;
				}
			}
		}
		for (int k = i; k < ln->argc; k++) {
			if (is_url(ln->argv[k])) {
				cfg_err(ctx, ln,
				        "'%s' comes after the options or matchers: write every parent URL first, then "
				        "credentials and retry-after, then the matchers",
				        ln->argv[k]);
				bad = true;
				i = ln->argc;
			}
		}
	}
	if (i < ln->argc) {
		struct strbuf sb = { 0 };

		if (acl_matchset_parse(&r.match, ln->argv + i, ln->argc - i, ln->file, ln->line, ctx->errs) != PH_OK)
			bad = true;
		for (int k = i; k < ln->argc; k++) {
			if (k > i)
				strbuf_add(&sb, " ", 1);
			cfg_dump_word(&sb, ln->argv[k]);
		}
		r.match_text = sb.p;
	}
	if (bad) {
		route_free(&r);
		return;
	}
	for (size_t k = 0; k < r.nparents; k++) {
		struct upstream_parent *p = &r.parents[k];
		char key[UPSTREAM_LABEL_MAX + 16];

		/* The array is where it stays: the pointers hold. */
		p->creds = p->own.user ? &p->own : r.file_creds && r.file_creds->user ? r.file_creds : NULL;
		snprintf(key, sizeof(key), "%s://%s", p->tls ? "https" : "http", p->label);
		p->state = state_get(key, p->label);
		/* Never "host:port": an origin's key cannot take it. */
		snprintf(p->key, sizeof(p->key), "^parent %u %016llx", p->state->id,
		         (unsigned long long)(p->creds ? p->creds->id : 0));
		u->any_tls |= p->tls;
	}
	u->routes = ph_realloc(u->routes, (u->n + 1) * sizeof(*u->routes));
	u->routes[u->n++] = r;
}

static void *upstream_create(void)
{
	return ph_calloc(1, sizeof(struct upstream_settings));
}

static void upstream_destroy(void *settings)
{
	struct upstream_settings *u = settings;

	for (size_t i = 0; i < u->n; i++)
		route_free(&u->routes[i]);
	free(u->routes);
	if (u->tls_ctx)
		SSL_CTX_free(u->tls_ctx);
	free(u);
}

/* Lines as written, with the parents' passwords left out. */
static void upstream_dump(const void *settings, struct strbuf *sb)
{
	const struct upstream_settings *u = settings;

	for (size_t i = 0; i < u->n; i++) {
		const struct upstream_route *r = &u->routes[i];

		strbuf_printf(sb, "upstream-proxy");
		if (r->direct)
			strbuf_printf(sb, " direct");
		for (size_t k = 0; k < r->nparents; k++)
			strbuf_printf(sb, " %s", r->parents[k].shown);
		if (r->cred_file) {
			strbuf_printf(sb, " credentials ");
			cfg_dump_word(sb, r->cred_file);
		}
		if (r->retry_set) {
			strbuf_printf(sb, " retry-after ");
			cfg_dump_duration(sb, r->retry_ms);
		}
		if (r->match_text)
			strbuf_printf(sb, " %s", r->match_text);
		strbuf_printf(sb, "  # %s:%d\n", r->file, r->line);
	}
}

static const struct cfg_directive upstream_directives[] = {
	{ "upstream-proxy", 1, -1, false,
	  "upstream-proxy URL... [credentials FILE] [retry-after DURATION] [MATCHERS] | upstream-proxy direct MATCHERS",
	  d_upstream },
};

const struct cfg_section upstream_section = {
	.name = "upstream",
	.directives = upstream_directives,
	.ndirectives = PH_ARRAY_LEN(upstream_directives),
	.create = upstream_create,
	.dump = upstream_dump,
	.destroy = upstream_destroy,
};

/* ---- TLS to parents ---- */

int upstream_tls_setup(struct upstream_settings *u, const char *trust, char *why, size_t whylen)
{
	SSL_CTX *ctx;
	static const unsigned char alpn[] = "\x08http/1.1";

	if (!u->any_tls || u->tls_ctx)
		return 0;
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(why, whylen, "OpenSSL cannot make a TLS context for https:// parents");
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	const char *bad = NULL;

	if (trust && !cfg_file_readable(trust, &bad)) {
		snprintf(why, whylen, "cannot load the CA bundle %s for https:// parents: %s", trust, bad);
		SSL_CTX_free(ctx);
		return -1;
	}
	if (trust ? SSL_CTX_load_verify_locations(ctx, trust, NULL) != 1 : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		unsigned long e = ERR_peek_last_error();

		bad = e ? ERR_reason_error_string(e) : NULL;
		snprintf(why, whylen, "cannot load the CA bundle %s for https:// parents: %s",
		         trust ? trust : "(the system's)", bad ? bad : "OpenSSL cannot read it");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return -1;
	}
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	u->tls_ctx = ctx;
	return 0;
}

struct ssl_st *upstream_tls_new(const struct upstream_settings *u, const struct upstream_parent *p, int fd)
{
	SSL *ssl;

	if (!u->tls_ctx || !(ssl = SSL_new(u->tls_ctx)))
		return NULL;
	if (SSL_set_fd(ssl, fd) != 1)
		goto fail;
	if (p->host_is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), p->host) != 1)
			goto fail;
	} else {
		if (SSL_set_tlsext_host_name(ssl, p->host) != 1 || SSL_set1_host(ssl, p->host) != 1)
			goto fail;
	}
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}

/* ---- metrics ---- */

void upstream_metrics(const struct upstream_settings *u, struct strbuf *out)
{
	const struct upstream_state *seen[256];
	size_t nseen = 0;
	for (size_t i = 0; u && i < u->n; i++) {
		for (size_t k = 0; k < u->routes[i].nparents && nseen < PH_ARRAY_LEN(seen); k++) {
			const struct upstream_state *st = u->routes[i].parents[k].state;
			bool dup = false;

			for (size_t j = 0; j < nseen; j++)
				dup |= seen[j] == st || strcmp(seen[j]->label, st->label) == 0;
			if (!dup)
				seen[nseen++] = st;
		}
	}
	if (nseen == 0)
		return;
	strbuf_printf(out, "# HELP pinhole_parent_up Whether the parent proxy is up (1) or marked down after a "
	                   "failure (0).\n# TYPE pinhole_parent_up gauge\n");
	for (size_t j = 0; j < nseen; j++)
		strbuf_printf(out, "pinhole_parent_up{parent=\"%s\"} %d\n", seen[j]->label,
		              atomic_load_explicit(&seen[j]->down, memory_order_relaxed) ? 0 : 1);
	strbuf_printf(out, "# HELP pinhole_parent_requests_total Requests and tunnels pinhole sent to the parent "
	                   "proxy.\n# TYPE pinhole_parent_requests_total counter\n");
	for (size_t j = 0; j < nseen; j++)
		strbuf_printf(out, "pinhole_parent_requests_total{parent=\"%s\"} %llu\n", seen[j]->label,
		              (unsigned long long)atomic_load_explicit(&seen[j]->requests, memory_order_relaxed));
	strbuf_printf(out, "# HELP pinhole_parent_failures_total Requests the parent proxy failed, by reason.\n"
	                   "# TYPE pinhole_parent_failures_total counter\n");
	for (size_t j = 0; j < nseen; j++)
		for (int f = 0; f < UPSTREAM_NFAILURES; f++)
			strbuf_printf(
			        out, "pinhole_parent_failures_total{parent=\"%s\",reason=\"%s\"} %llu\n",
			        seen[j]->label, failure_names[f],
			        (unsigned long long)atomic_load_explicit(&seen[j]->failures[f], memory_order_relaxed));
}
