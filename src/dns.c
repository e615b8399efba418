/*
 * dns.c - name resolution for one worker: IP literals and hosts-file entries
 * answer at once, the rest goes to a c-ares channel (which also reads the
 * system's /etc/hosts) watched by the worker's event loop.  No cache: c-ares
 * 1.18 has none.  No search domains are appended (see chan_new()).
 */
#include "dns.h"
#include "common.h"
#include "server.h"
#include "strbuf.h"
#include "loop.h"

#include <ares.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Per try; c-ares doubles it on each round over the servers, so a single
 * dead server costs 2 s + 4 s before "timed out"; with several, a dead one
 * only delays the answer by 2 s. */
#define DNS_TIMEOUT_MS 2000
#define DNS_TRIES 2

#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

/* One c-ares socket in the event loop.  Slots are reused but never freed
 * before their channel: an event for a slot may still sit in the current
 * epoll batch after c-ares closed the socket (loop.c skips it, fd is -1). */
struct dns_sock {
	struct loop_io io; /* io.fd == -1: free slot */
	struct dns_chan *chan;
};

/* One c-ares channel.  A reload makes a new one (c-ares 1.18 refuses to
 * change the servers of a channel with queries in flight); the old one is
 * retired and destroyed once its last query has been answered. */
struct dns_chan {
	struct dns *dns;
	ares_channel channel;
	struct loop_timer timer; /* next c-ares deadline (ares_timeout) */
	struct dns_sock **socks;
	size_t nsocks;
	unsigned pending;      /* queries c-ares still holds */
	struct dns_chan *next; /* on dns->retired */
};

struct dns_query {
	struct dns_chan *chan;
	dns_cb cb;
	void *arg;
	uint16_t port;
	bool cancelled; /* no callback; freed when c-ares lets go */
	uint64_t started;
	struct dns_result res;
	struct dns_query *next; /* on the done list */
};

struct dns {
	struct loop *loop;
	struct dns_chan *chan;    /* new queries go here */
	struct dns_chan *retired; /* replaced by a reload, draining */
	/* Answers are never handed to the caller from inside c-ares (nor from
	 * inside dns_resolve when c-ares answers at once, e.g. from
	 * /etc/hosts): they wait on the done list for a zero-delay timer, so a
	 * callback may resolve, cancel or even dns_free() safely. */
	struct loop_timer tick;
	struct dns_query *done_head;
	struct dns_query *done_tail;
	struct dns_query *batch; /* being delivered by dns_tick() */
	bool delivering;
	bool dying; /* dns_free() called from a callback */
};

static pthread_once_t dns_lib_once = PTHREAD_ONCE_INIT;
static int dns_lib_status = ARES_ENOTINITIALIZED;

static void dns_lib_init(void)
{
	dns_lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* The cause of a failed lookup, as a sentence for the admin
 * ("DNS lookup for example.com failed: <this>"). */
static const char *dns_strerror(int status)
{
	switch (status) {
	case ARES_ENOTFOUND:
	case ARES_ENODATA:
		return "no such domain";
	case ARES_ETIMEOUT:
		return "timed out";
	case ARES_ECONNREFUSED:
	case ARES_EREFUSED:
		return "the DNS server refused the query";
	case ARES_ESERVFAIL:
		return "the DNS server failed (SERVFAIL)";
	case ARES_EFORMERR:
		return "the DNS server could not parse the query (FORMERR)";
	case ARES_ENOTIMP:
		return "the DNS server does not implement the query (NOTIMP)";
	case ARES_EBADRESP:
		return "the DNS server sent a malformed answer";
	case ARES_EBADNAME:
		return "the host name is not a valid DNS name";
	default:
		return ares_strerror(status);
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool name_char_ok(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* NULL when name may be sent to DNS, else why not.  A last label that is a
 * number ("127.1", "2130706433", "0x7f.1") is refused: resolvers and
 * browsers read such names as IPv4 addresses, and accepting them here would
 * let a client reach an address that policy only sees as a "name". */
static const char *dns_name_error(const char *name, size_t len)
{
	size_t start = 0, last = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.') {
			if (!name_char_ok(name[i]))
				return "the host name contains a character that is not allowed in DNS names";
			continue;
		}
		if (i == start)
			return "the host name has an empty label (two dots in a row, or a leading dot)";
		if (i - start > DNS_LABEL_MAX)
			return "a label of the host name is longer than 63 characters";
		last = start;
		start = i + 1;
	}

	const char *l = name + last;
	size_t llen = len - last;
	bool numeric = true;

	if (llen > 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (size_t i = 2; i < llen; i++)
			numeric = numeric && is_hex(l[i]);
	} else {
		for (size_t i = 0; i < llen; i++)
			numeric = numeric && is_digit(l[i]);
	}
	if (numeric)
		return "the host name ends in a number but is not an IP address in the usual dotted form";
	return NULL;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

	return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0 && x->sin6_scope_id == y->sin6_scope_id;
}

/* Appends sa (of family, or skipped) with port, unless full or a repeat. */
static void result_add(struct dns_result *res, const struct sockaddr *sa, int family, uint16_t port)
{
	struct sockaddr_storage ss;

	if (!sa || sa->sa_family != family || res->n >= DNS_MAX_ADDRS)
		return;
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		memcpy(s4, sa, sizeof(*s4));
		s4->sin_port = htons(port);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		memcpy(s6, sa, sizeof(*s6));
		s6->sin6_port = htons(port);
	}
	for (int i = 0; i < res->n; i++)
		if (same_addr(&res->addrs[i], &ss))
			return;
	res->addrs[res->n++] = ss;
}

static void result_from_ares(struct dns_result *res, const struct ares_addrinfo *ai, uint16_t port)
{
	static const int order[] = { AF_INET6, AF_INET };

	for (size_t f = 0; f < PH_ARRAY_LEN(order); f++)
		for (const struct ares_addrinfo_node *n = ai ? ai->nodes : NULL; n; n = n->ai_next)
			result_add(res, n->ai_addr, order[f], port);
}

static void result_from_hosts(struct dns_result *res, const struct hosts_entry *e, uint16_t port)
{
	static const int order[] = { AF_INET6, AF_INET };

	for (size_t f = 0; f < PH_ARRAY_LEN(order); f++)
		for (size_t i = 0; i < e->naddrs && i < HOSTS_MAX_ADDRS; i++)
			result_add(res, (const struct sockaddr *)&e->addrs[i], order[f], port);
}

/* IP literal: true with res filled. */
static bool result_from_literal(struct dns_result *res, const char *host, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	} else {
		return false;
	}
	res->addrs[0] = ss;
	res->n = 1;
	return true;
}

/* The done list and its timer. */

static void dns_enqueue(struct dns *dns, struct dns_query *q)
{
	q->next = NULL;
	if (dns->done_tail)
		dns->done_tail->next = q;
	else
		dns->done_head = q;
	dns->done_tail = q;
	if (!loop_timer_active(&dns->tick))
		loop_timer_start(dns->loop, &dns->tick, 0);
}

/* Channels and their sockets. */

static void chan_arm(struct dns_chan *chan)
{
	struct timeval tv, *tvp = ares_timeout(chan->channel, NULL, &tv);
	struct loop *loop = chan->dns->loop;

	if (!tvp) {
		loop_timer_stop(loop, &chan->timer);
		return;
	}
	uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + ((uint64_t)tvp->tv_usec + 999) / 1000;

	/* Never 0: a deadline c-ares sees as not quite due must not spin. */
	loop_timer_start(loop, &chan->timer, ms ? ms : 1);
}

static void chan_timeout(struct loop *loop, struct loop_timer *t)
{
	struct dns_chan *chan = t->data;

	ares_process_fd(chan->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	chan_arm(chan);
}

static bool fd_readable_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void chan_sock_ready(struct loop *loop, struct loop_io *io, uint32_t revents)
{
	struct dns_sock *s = io->data;
	struct dns_chan *chan = s->chan;
	int fd = io->fd;
	bool err = revents & (EPOLLERR | EPOLLHUP);

	ares_process_fd(chan->channel, (revents & EPOLLIN) || err ? fd : ARES_SOCKET_BAD,
	                (revents & EPOLLOUT) || err ? fd : ARES_SOCKET_BAD);
	/* Edge-triggered: c-ares 1.18 reads a TCP answer one recv() per call,
	 * so keep going while data is waiting (UDP is drained in one call).
	 * The bound only guards against a socket c-ares leaves unread. */
	for (int i = 0; i < 1024 && s->io.fd == fd && fd_readable_now(fd); i++)
		ares_process_fd(chan->channel, fd, ARES_SOCKET_BAD);
	chan_arm(chan);
}

/* ARES_OPT_SOCK_STATE_CB: c-ares opened, changed or is about to close fd. */
static void chan_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan *chan = data;
	struct loop *loop = chan->dns->loop;
	struct dns_sock *s = NULL, *free_slot = NULL;
	uint32_t events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);

	for (size_t i = 0; i < chan->nsocks; i++) {
		if (chan->socks[i]->io.fd == fd)
			s = chan->socks[i];
		else if (!free_slot && chan->socks[i]->io.fd < 0)
			free_slot = chan->socks[i];
	}
	if (!events) {
		if (s)
			loop_io_stop(loop, &s->io);
		return;
	}
	if (s) {
		loop_io_set(loop, &s->io, events);
		return;
	}
	if (!free_slot) {
		free_slot = ph_calloc(1, sizeof(*free_slot));
		free_slot->chan = chan;
		free_slot->io.fd = -1;
		free_slot->io.cb = chan_sock_ready;
		free_slot->io.data = free_slot;
		chan->socks = ph_realloc(chan->socks, (chan->nsocks + 1) * sizeof(*chan->socks));
		chan->socks[chan->nsocks++] = free_slot;
	}
	/* On failure the socket is simply never ready: the query times out. */
	if (loop_io_start(loop, &free_slot->io, fd, events) < 0)
		free_slot->io.fd = -1;
}

static struct dns_chan *chan_new(struct dns *dns, const struct dns_settings *ds)
{
	struct dns_chan *chan = ph_calloc(1, sizeof(*chan));
	struct ares_options opts;
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_DOMAINS;

	chan->dns = dns;
	chan->timer.cb = chan_timeout;
	chan->timer.data = chan;
	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_STAYOPEN;
	opts.timeout = DNS_TIMEOUT_MS;
	opts.tries = DNS_TRIES;
	opts.sock_state_cb = chan_sock_state;
	opts.sock_state_cb_data = chan;
	/* An empty search list: like Squid (dns_defnames off), a proxy looks
	 * up the name the client asked for, never name.<our search domain>. */
	opts.domains = NULL;
	opts.ndomains = 0;
	if (ares_init_options(&chan->channel, &opts, mask) != ARES_SUCCESS) {
		free(chan);
		return NULL;
	}
	if (ds && ds->servers && ares_set_servers_ports_csv(chan->channel, ds->servers) != ARES_SUCCESS) {
		ares_destroy(chan->channel);
		free(chan);
		return NULL;
	}
	return chan;
}

/* Queries still in c-ares are answered with ARES_EDESTRUCTION and freed. */
static void chan_free(struct dns_chan *chan)
{
	struct loop *loop = chan->dns->loop;

	ares_destroy(chan->channel);
	loop_timer_stop(loop, &chan->timer);
	for (size_t i = 0; i < chan->nsocks; i++) {
		loop_io_stop(loop, &chan->socks[i]->io);
		free(chan->socks[i]);
	}
	free(chan->socks);
	free(chan);
}

static void dns_reap_retired(struct dns *dns)
{
	struct dns_chan **pp = &dns->retired;

	while (*pp) {
		struct dns_chan *chan = *pp;

		if (chan->pending == 0) {
			*pp = chan->next;
			chan_free(chan);
		} else {
			pp = &chan->next;
		}
	}
}

static void dns_free_list(struct dns_query *q)
{
	while (q) {
		struct dns_query *next = q->next;

		free(q);
		q = next;
	}
}

static void dns_destroy(struct dns *dns)
{
	loop_timer_stop(dns->loop, &dns->tick);
	chan_free(dns->chan);
	while (dns->retired) {
		struct dns_chan *chan = dns->retired;

		dns->retired = chan->next;
		chan_free(chan);
	}
	dns_free_list(dns->batch);
	dns_free_list(dns->done_head);
	free(dns);
}

/* Runs from the loop's timers, outside any epoll batch, so retired channels
 * (and their loop_io slots) can be freed here. */
static void dns_tick(struct loop *loop, struct loop_timer *t)
{
	struct dns *dns = t->data;

	dns_reap_retired(dns);
	dns->batch = dns->done_head;
	dns->done_head = dns->done_tail = NULL;
	dns->delivering = true;
	while (dns->batch && !dns->dying) {
		struct dns_query *q = dns->batch;

		dns->batch = q->next;
		if (!q->cancelled)
			q->cb(q->arg, &q->res);
		free(q);
	}
	dns->delivering = false;
	if (dns->dying)
		dns_destroy(dns);
}

/* The c-ares callback: runs inside ares_process_fd(), ares_getaddrinfo() or
 * ares_destroy(); it only records the answer. */
static void dns_ares_done(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct dns_query *q = arg;
	struct dns_chan *chan = q->chan;
	struct dns *dns = chan->dns;

	chan->pending--;
	if (status == ARES_EDESTRUCTION) {
		/* From ares_destroy() in chan_free(): dns is going away. */
		if (ai)
			ares_freeaddrinfo(ai);
		free(q);
		return;
	}
	if (chan != dns->chan && chan->pending == 0 && !loop_timer_active(&dns->tick))
		loop_timer_start(dns->loop, &dns->tick, 0); /* reap it */
	if (q->cancelled) {
		if (ai)
			ares_freeaddrinfo(ai);
		free(q);
		return;
	}
	if (status == ARES_SUCCESS)
		result_from_ares(&q->res, ai, q->port);
	if (ai)
		ares_freeaddrinfo(ai);
	if (q->res.n == 0)
		q->res.error = dns_strerror(status == ARES_SUCCESS ? ARES_ENODATA : status);
	q->res.elapsed_ms = ph_mono_ms() - q->started;
	dns_enqueue(dns, q);
}

/* The API. */

struct dns *dns_new(struct loop *loop, const struct dns_settings *ds)
{
	struct dns *dns;

	pthread_once(&dns_lib_once, dns_lib_init);
	if (dns_lib_status != ARES_SUCCESS)
		return NULL;
	dns = ph_calloc(1, sizeof(*dns));
	dns->loop = loop;
	dns->tick.cb = dns_tick;
	dns->tick.data = dns;
	dns->chan = chan_new(dns, ds);
	if (!dns->chan) {
		free(dns);
		return NULL;
	}
	return dns;
}

/* Not from inside an loop_io callback of this loop: like every owner of an
 * loop_io, call it from a timer, a deferred callback, a dns callback or after
 * loop_run() returned. */
void dns_free(struct dns *dns)
{
	if (!dns)
		return;
	if (dns->delivering) {
		/* Called from one of our callbacks: dns_tick() finishes it. */
		dns->dying = true;
		return;
	}
	dns_destroy(dns);
}

/* A fresh channel, so a reload also re-reads /etc/resolv.conf when no
 * dns-server is set.  If it cannot be made, the old servers stay. */
void dns_reconfigure(struct dns *dns, const struct dns_settings *ds)
{
	struct dns_chan *chan = chan_new(dns, ds);

	if (!chan)
		return;
	dns->chan->next = dns->retired;
	dns->retired = dns->chan;
	dns->chan = chan;
	if (!loop_timer_active(&dns->tick))
		loop_timer_start(dns->loop, &dns->tick, 0);
}

int dns_resolve(struct dns *dns, const struct dns_settings *ds, const char *host, uint16_t port, struct dns_result *res,
                dns_cb cb, void *arg, struct dns_query **qp)
{
	size_t len = host ? strlen(host) : 0;
	const struct hosts_entry *e;
	const char *err;

	if (qp)
		*qp = NULL;
	res->n = 0;
	res->error = NULL;
	res->elapsed_ms = 0;
	if (len == 0) {
		res->error = "the host name is empty";
		return PH_ERROR;
	}
	if (len > DNS_NAME_MAX + 1 || (len == DNS_NAME_MAX + 1 && host[len - 1] != '.')) {
		res->error = "the host name is longer than 253 characters";
		return PH_ERROR;
	}
	if (result_from_literal(res, host, port))
		return PH_OK;
	err = dns_name_error(host, len);
	if (err) {
		res->error = err;
		return PH_ERROR;
	}
	e = ds ? hosts_lookup(&ds->hosts, host) : NULL;
	if (e) {
		result_from_hosts(res, e, port);
		if (res->n == 0) {
			res->error = "the hosts-file entry has no address";
			return PH_ERROR;
		}
		return PH_OK;
	}

	struct dns_query *q = ph_calloc(1, sizeof(*q));
	struct dns_chan *chan = dns->chan;
	struct ares_addrinfo_hints hints;

	q->chan = chan;
	q->cb = cb;
	q->arg = arg;
	q->port = port;
	q->started = ph_mono_ms();
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	chan->pending++;
	/* May call dns_ares_done() before returning (answers from /etc/hosts,
	 * immediate failures); that only queues the answer. */
	ares_getaddrinfo(chan->channel, host, NULL, &hints, dns_ares_done, q);
	chan_arm(chan);
	if (qp)
		*qp = q;
	return PH_AGAIN;
}

/* The query's memory stays with c-ares (or the done list) until c-ares lets
 * go of it; only the link to the caller is cut here. */
void dns_cancel(struct dns *dns, struct dns_query *q)
{
	if (!q)
		return;
	q->cancelled = true;
	q->cb = NULL;
	q->arg = NULL;
}

/* ---- the dns section of the configuration ---- */

#define HOSTS_FILE_MAX_BYTES (16 * 1024 * 1024)

static void d_hosts_file(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct dns_settings *s = settings;
	char *path = cfg_path(ln->file, ln->argv[1]);
	const char *why, *fname;
	char *text;
	size_t len;

	if (cfg_read_file(path, HOSTS_FILE_MAX_BYTES, &text, &len, &why) != PH_OK) {
		cfg_err(ctx, ln, "cannot read the hosts-file '%s': %s", path, why);
		free(path);
		return;
	}
	fname = cfg_intern(ctx, path);
	hosts_free(&s->hosts);
	hosts_parse(&s->hosts, fname, text, len, ctx->errs);
	free(s->hosts_file);
	s->hosts_file = path;
	free(text);
}

/* "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]" or "[::1]:53", written into sb in
 * the form c-ares' ares_set_servers_ports_csv() takes, with the port. */
static int dns_server_parse(const char *s, struct strbuf *sb, const char **why)
{
	char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	char canon[INET6_ADDRSTRLEN];
	const char *portstr = NULL;
	uint16_t port = 53;
	size_t alen;
	bool v6;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] != '\0' && end[1] != ':')) {
			*why = "write an IPv6 server as [ADDRESS] or [ADDRESS]:PORT";
			return PH_ERROR;
		}
		alen = (size_t)(end - s - 1);
		s++;
		portstr = end[1] == ':' ? end + 2 : NULL;
		v6 = true;
	} else {
		const char *c = strchr(s, ':');

		v6 = c && strchr(c + 1, ':');
		alen = (!v6 && c) ? (size_t)(c - s) : strlen(s);
		portstr = (!v6 && c) ? c + 1 : NULL;
	}
	if (alen == 0 || alen >= sizeof(addr)) {
		*why = "it is not an IPv4 or IPv6 address";
		return PH_ERROR;
	}
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (portstr && cfg_parse_port(portstr, &port) != PH_OK) {
		*why = "the port must be a number from 1 to 65535";
		return PH_ERROR;
	}
	if (v6) {
		struct sockaddr_in6 sin6;

		memset(&sin6, 0, sizeof(sin6));
		if (strchr(addr, '%') || server_parse_v6(addr, &sin6) != PH_OK) {
			*why = "it is not an IPv6 address (names are not resolved)";
			return PH_ERROR;
		}
		inet_ntop(AF_INET6, &sin6.sin6_addr, canon, sizeof(canon));
		strbuf_printf(sb, "%s[%s]:%u", sb->len ? "," : "", canon, port);
	} else {
		struct in_addr in;

		if (inet_pton(AF_INET, addr, &in) != 1) {
			*why = "it is not an IPv4 address (names are not resolved)";
			return PH_ERROR;
		}
		inet_ntop(AF_INET, &in, canon, sizeof(canon));
		strbuf_printf(sb, "%s%s:%u", sb->len ? "," : "", canon, port);
	}
	return PH_OK;
}

static void d_dns_server(void *settings, const struct cfg_line *ln, struct cfg_ctx *ctx)
{
	struct dns_settings *s = settings;
	struct strbuf sb = { s->servers, s->servers_len, s->servers_len + 1 };
	const char *why;

	for (int i = 1; i < ln->argc; i++)
		if (dns_server_parse(ln->argv[i], &sb, &why) != PH_OK)
			cfg_err(ctx, ln, "bad dns-server '%s': %s", ln->argv[i], why);
	s->servers = sb.p;
	s->servers_len = sb.len;
}

static void *dns_settings_create(void)
{
	return ph_calloc(1, sizeof(struct dns_settings));
}

static void dns_dump(const void *settings, struct strbuf *sb)
{
	const struct dns_settings *ds = settings;

	if (ds->hosts_file) {
		strbuf_printf(sb, "hosts-file ");
		cfg_dump_word(sb, ds->hosts_file);
		strbuf_printf(sb, "\n");
	}
	if (ds->servers) {
		const char *s = ds->servers;

		strbuf_printf(sb, "dns-server");
		while (*s) {
			size_t n = strcspn(s, ",");

			strbuf_printf(sb, " %.*s", (int)n, s);
			s += n;
			if (*s == ',')
				s++;
		}
		strbuf_printf(sb, "\n");
	}
}

static void dns_settings_destroy(void *settings)
{
	struct dns_settings *ds = settings;

	free(ds->hosts_file);
	hosts_free(&ds->hosts);
	free(ds->servers);
	free(ds);
}

static const struct cfg_directive dns_directives[] = {
	{ "hosts-file", 1, 1, true, "hosts-file FILE", d_hosts_file },
	{ "dns-server", 1, -1, false, "dns-server ADDR[:PORT]...", d_dns_server },
};

const struct cfg_section dns_section = {
	.name = "dns",
	.directives = dns_directives,
	.ndirectives = PH_ARRAY_LEN(dns_directives),
	.create = dns_settings_create,
	.dump = dns_dump,
	.destroy = dns_settings_destroy,
};
